/* The public face of core/regex (regex.h): a pattern parsed, compiled and
 * kept with the Pike VM queues of each capture width asked for, so a
 * FindAll over a long text allocates once; and Go's Expand. */
#include "regex/regex.h"
#include "regex/internal.h"

#include <stdio.h>
#include <string.h>

#define VMS 4 /* the capture widths callers use: none, bounds, all */

struct kd_regex {
	kd_arena *a;
	kd_rx_tree tree;
	kd_rx_prog prog;
	struct {
		int ncap;
		kd_rx_vm *vm;
	} vm[VMS];
	int nvm;
};

int kd_regex_compile(kd_regex **res, kd_arena *a, const char *p, size_t n,
		     char *err, size_t errlen)
{
	kd_regex *rx = kd_arena_zalloc(a, sizeof *rx);
	const char *why;

	*res = rx;
	if (!rx) {
		snprintf(err, errlen, "error parsing regexp: out of memory");
		return -1;
	}
	rx->a = a;
	if (kd_rx_parse(&rx->tree, a, p, n, err, errlen))
		return -1;
	if (kd_rx_compile(&rx->prog, a, rx->tree.root, &why)) {
		snprintf(err, errlen, "error parsing regexp: %s: `%.*s`", why, (int)n, p);
		return -1;
	}
	return 0;
}

int kd_regex_find(kd_regex *rx, const char *s, size_t n, size_t from,
		  size_t *cap, int ncap)
{
	kd_rx_vm *vm = NULL;
	int k;

	if (ncap > 2 * (rx->tree.ngroups + 1))
		ncap = 2 * (rx->tree.ngroups + 1);
	if (from > n)
		return 0;
	for (k = 0; k < rx->nvm; k++)
		if (rx->vm[k].ncap == ncap)
			vm = rx->vm[k].vm;
	if (!vm) {
		vm = kd_rx_vm_new(rx->a, &rx->prog, ncap);
		if (!vm)
			return -1;
		if (rx->nvm < VMS) {
			rx->vm[rx->nvm].ncap = ncap;
			rx->vm[rx->nvm++].vm = vm;
		}
	}
	return kd_rx_vm_run(vm, s, n, from, cap);
}

int kd_regex_ngroups(const kd_regex *rx)
{
	return rx->tree.ngroups;
}

/* Go's extract: a group name or number after $, braced or not; the name
 * is letters, digits and _ (Unicode's, as Go's IsLetter and IsDigit) */
static bool extract(const char *t, size_t n, size_t *name, size_t *namelen,
		    size_t *rest)
{
	static const kd_rx_utable *letter, *digit;
	size_t i = 0, w;
	bool brace = n && t[0] == '{';

	if (!letter) {
		letter = kd_rx_utable_find("L", 1);
		digit = kd_rx_utable_find("Nd", 2);
	}
	if (brace)
		i++;
	*name = i;
	while (i < n) {
		uint32_t c = kd_rx_decode(t + i, n - i, &w);

		if (c != '_' && !kd_rx_in(letter->r, letter->n, c) &&
		    !kd_rx_in(digit->r, digit->n, c))
			break;
		i += w;
	}
	if (i == *name)
		return false;
	*namelen = i - *name;
	if (brace) {
		if (i >= n || t[i] != '}')
			return false;
		i++;
	}
	*rest = i;
	return true;
}

static int group_of(const kd_regex *rx, const char *nm, size_t len, const size_t *cap)
{
	int num = 0;

	for (size_t k = 0; k < len; k++) {
		if (nm[k] < '0' || nm[k] > '9' || num >= 100000000) {
			num = -1;
			break;
		}
		num = num * 10 + (nm[k] - '0');
	}
	if (nm[0] == '0' && len > 1)
		num = -1;
	if (num >= 0)
		return num <= rx->tree.ngroups ? num : -1;
	/* the leftmost group of that name that took part */
	for (int g = 1; g <= rx->tree.ngroups; g++)
		if (rx->tree.names[g] && rx->tree.namelens[g] == len &&
		    !memcmp(rx->tree.names[g], nm, len) && cap[2 * g] != (size_t)-1)
			return g;
	return -1;
}

int kd_regex_expand(const kd_regex *rx, kd_buf *b, const char *t, size_t n,
		    const char *s, const size_t *cap)
{
	size_t i = 0;
	int rc = 0;

	while (i < n) {
		const char *d = memchr(t + i, '$', n - i);
		size_t at = d ? (size_t)(d - t) : n, name, len, rest;
		int g;

		rc |= kd_buf_put(b, t + i, at - i);
		if (!d)
			return rc ? -1 : 0;
		i = at + 1;
		if (i < n && t[i] == '$') {
			rc |= kd_buf_putc(b, '$');
			i++;
			continue;
		}
		if (!extract(t + i, n - i, &name, &len, &rest)) {
			rc |= kd_buf_putc(b, '$'); /* malformed: the $ is text */
			continue;
		}
		g = group_of(rx, t + i + name, len, cap);
		if (g >= 0 && cap[2 * g] != (size_t)-1)
			rc |= kd_buf_put(b, s + cap[2 * g], cap[2 * g + 1] - cap[2 * g]);
		i += rest;
	}
	return rc ? -1 : 0;
}

int kd_regex_match(const char *re, size_t re_len, const char *s, size_t len,
		   kd_err *err)
{
	kd_arena a;
	kd_regex *rx;
	char msg[512];
	int rc;

	kd_arena_init(&a, KD_LIMIT_ARENA_BYTES);
	if (kd_regex_compile(&rx, &a, re, re_len, msg, sizeof msg)) {
		rc = kd_err_set(err, KD_EPARSE, "%s", msg);
		goto cleanup;
	}
	rc = kd_regex_find(rx, s, len, 0, NULL, 0);
	if (rc < 0)
		rc = kd_err_set(err, KD_ENOMEM, "out of memory matching a regular expression");

cleanup:
	kd_arena_free(&a);
	return rc;
}
