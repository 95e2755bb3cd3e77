/* Fuzz target for core/regex: the input is a pattern, a subject and an
 * expansion template separated by NUL bytes. A pattern either compiles or
 * is refused with a message; a compiled one finds every match in the
 * subject (at most 64, advancing as Go's FindAll does) with capture bounds
 * inside the subject and in order, and expands the template; running out
 * of its arena (64 MiB, a program near KD_LIMIT_REGEX_INSTS) ends the
 * search, as documented. */
#include "fuzz.h"

#include "base/arena.h"
#include "base/buf.h"
#include "regex/regex.h"

static void check_caps(const size_t *cap, int ncap, size_t n, size_t from)
{
	int g;

	if (cap[0] < from || cap[0] > cap[1] || cap[1] > n)
		abort();
	for (g = 2; g < ncap; g += 2) {
		if (cap[g] == (size_t)-1 && cap[g + 1] == (size_t)-1)
			continue;
		if (cap[g] > cap[g + 1] || cap[g + 1] > n)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_part parts[3];
	size_t np = fz_split(data, size, parts, 3);
	kd_arena a = KD_ARENA_INIT(64u << 20);
	kd_buf out = KD_BUF_INIT(1u << 20);
	size_t cap[2 * KD_REGEX_MAXGROUPS], from = 0;
	const char *s = np > 1 ? parts[1].p : "";
	size_t n = np > 1 ? parts[1].n : 0;
	char msg[256] = "";
	kd_regex *rx = NULL;
	int ncap, found = 0, rc, k;

	rc = kd_regex_compile(&rx, &a, parts[0].p, parts[0].n, msg, sizeof msg);
	if (rc) {
		if (!msg[0])
			abort();
		goto cleanup;
	}
	ncap = 2 * (kd_regex_ngroups(rx) + 1);
	if (ncap > 2 * KD_REGEX_MAXGROUPS)
		abort();
	for (k = 0; k < 64 && from <= n; k++) {
		found = kd_regex_find(rx, s, n, from, cap, ncap);
		if (found > 1)
			abort();
		if (found <= 0)
			break; /* none, or the arena ran out (a large program) */
		check_caps(cap, ncap, n, from);
		if (np > 2 && kd_regex_expand(rx, &out, parts[2].p, parts[2].n, s, cap) &&
		    !out.failed)
			abort();
		from = cap[1] > cap[0] ? cap[1] : cap[1] + 1;
	}
	/* The one-call form agrees with the compiled one on the first match. */
	{
		kd_err err = KD_ERR_INIT;
		int m = kd_regex_match(parts[0].p, parts[0].n, s, n, &err);

		if (m != KD_ENOMEM && found >= 0 &&
		    m != (kd_regex_find(rx, s, n, 0, NULL, 0) == 1))
			abort();
	}
cleanup:
	kd_buf_free(&out);
	kd_arena_free(&a);
	return 0;
}
