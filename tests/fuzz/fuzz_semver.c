/* Fuzz target for core/semver: the input is a version and a range
 * separated by a NUL byte. Each version that parses (strict or lenient)
 * formats to canonical text that parses strictly to an equal version;
 * precedence is antisymmetric; a range that parses can be matched against
 * both versions. Errors carry a code and a message. */
#include "fuzz.h"

#include "base/arena.h"
#include "semver/semver.h"

#include <stdio.h>

static int version(kd_semver *v, const fz_part *p, int lenient)
{
	char buf[2 * 1024 + 64];
	kd_err err = KD_ERR_INIT;
	kd_semver again;
	size_t n;
	int rc;

	rc = kd_semver_parse(v, p->p, p->n, lenient, &err);
	if (rc) {
		fz_check_err(rc, &err);
		if (v->major || v->minor || v->patch || v->pre || v->build)
			abort(); /* documented: *out zeroed on failure */
		return 0;
	}
	n = kd_semver_format(v, buf, sizeof buf);
	if (n >= sizeof buf)
		abort();
	rc = kd_semver_parse(&again, buf, n, 0, &err);
	if (rc || kd_semver_cmp(v, &again) != 0)
		abort();
	if (kd_semver_cmp(v, v) != 0)
		abort();
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_part parts[2];
	size_t np = fz_split(data, size, parts, 2);
	kd_semver v[2][2];
	int ok[2][2] = {{0}};
	kd_arena a = KD_ARENA_INIT(1u << 20);
	kd_err err = KD_ERR_INIT;
	kd_semver_range *r = NULL;
	size_t i;
	int l, rc;

	for (i = 0; i < np; i++)
		for (l = 0; l < 2; l++)
			ok[i][l] = version(&v[i][l], &parts[i], l);
	if (ok[0][1] && ok[1 % np][1] &&
	    kd_semver_cmp(&v[0][1], &v[1 % np][1]) != -kd_semver_cmp(&v[1 % np][1], &v[0][1]))
		abort();
	rc = kd_semver_range_parse(&r, &a, parts[np - 1].p, parts[np - 1].n, &err);
	if (rc) {
		fz_check_err(rc, &err);
	} else {
		for (i = 0; i < np; i++)
			for (l = 0; l < 2; l++)
				if (ok[i][l])
					(void)kd_semver_range_match(r, &v[i][l]);
	}
	kd_arena_free(&a);
	return 0;
}
