/* Rune classes: ranges added, folded as Go's (?i) folds them (the simple
 * case-folding orbits), cleaned (sorted and merged), negated; and the
 * lookups of the generated Unicode tables. */
#include "regex/internal.h"

#include <stdlib.h>
#include <string.h>

int kd_rx_class_add(kd_arena *a, kd_rx_class *c, uint32_t lo, uint32_t hi)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 4;
		uint32_t *r = kd_arena_grow(a, c->r, c->cap * 2 * sizeof *r,
					    nc * 2 * sizeof *r);

		if (!r)
			return -1;
		c->r = r;
		c->cap = nc;
	}
	c->r[2 * c->n] = lo;
	c->r[2 * c->n + 1] = hi;
	c->n++;
	return 0;
}

uint32_t kd_rx_simple_fold(uint32_t c)
{
	size_t lo = 0, hi = kd_rx_nfold;

	while (lo < hi) {
		size_t m = (lo + hi) / 2;

		if (kd_rx_fold[2 * m] == c)
			return kd_rx_fold[2 * m + 1];
		if (kd_rx_fold[2 * m] < c)
			lo = m + 1;
		else
			hi = m;
	}
	return c;
}

int kd_rx_class_add_folded(kd_arena *a, kd_rx_class *c, uint32_t lo, uint32_t hi)
{
	size_t i = 0, j = kd_rx_nfold;

	if (kd_rx_class_add(a, c, lo, hi))
		return -1;
	while (i < j) { /* the first orbit member at or above lo */
		size_t m = (i + j) / 2;

		if (kd_rx_fold[2 * m] < lo)
			i = m + 1;
		else
			j = m;
	}
	/* every member of an orbit that meets lo..hi; the table lists each
	 * member with its successor, so adding the successors of the members
	 * inside the range closes the orbit */
	for (; i < kd_rx_nfold; i++) {
		uint32_t f = kd_rx_fold[2 * i];

		if (f > hi)
			break;
		for (uint32_t g = kd_rx_fold[2 * i + 1]; g != f; g = kd_rx_simple_fold(g))
			if ((g < lo || g > hi) && kd_rx_class_add(a, c, g, g))
				return -1;
	}
	return 0;
}

int kd_rx_class_add_table(kd_arena *a, kd_rx_class *c, const uint32_t *r, size_t n,
			  bool fold)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((fold ? kd_rx_class_add_folded : kd_rx_class_add)(a, c, r[2 * i], r[2 * i + 1]))
			return -1;
	return 0;
}

static int cmp_range(const void *x, const void *y)
{
	const uint32_t *p = x, *q = y;

	if (p[0] != q[0])
		return p[0] < q[0] ? -1 : 1;
	return p[1] < q[1] ? -1 : p[1] > q[1];
}

void kd_rx_class_clean(kd_rx_class *c)
{
	size_t i, w = 0;

	if (c->n < 2)
		return;
	qsort(c->r, c->n, 2 * sizeof *c->r, cmp_range);
	for (i = 1; i < c->n; i++) {
		uint32_t lo = c->r[2 * i], hi = c->r[2 * i + 1];

		if (lo <= c->r[2 * w + 1] + 1) {
			if (hi > c->r[2 * w + 1])
				c->r[2 * w + 1] = hi;
			continue;
		}
		w++;
		c->r[2 * w] = lo;
		c->r[2 * w + 1] = hi;
	}
	c->n = w + 1;
}

int kd_rx_class_negate(kd_arena *a, kd_rx_class *c)
{
	kd_rx_class out = {0};
	uint32_t next = 0;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->r[2 * i] > next && kd_rx_class_add(a, &out, next, c->r[2 * i] - 1))
			return -1;
		next = c->r[2 * i + 1] + 1;
	}
	if (next <= RX_MAXRUNE && kd_rx_class_add(a, &out, next, RX_MAXRUNE))
		return -1;
	*c = out;
	return 0;
}

static const uint32_t any_table[] = {0, RX_MAXRUNE};
static const kd_rx_utable any = {"Any", any_table, 1};

const kd_rx_utable *kd_rx_utable_find(const char *name, size_t n)
{
	size_t lo = 0, hi = kd_rx_nutables;

	if (n == 3 && !memcmp(name, "Any", 3))
		return &any;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		const char *t = kd_rx_utables[m].name;
		size_t tn = strlen(t);
		int d = memcmp(t, name, tn < n ? tn : n);

		if (!d)
			d = tn < n ? -1 : tn > n;
		if (!d)
			return &kd_rx_utables[m];
		if (d < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return NULL;
}

bool kd_rx_in(const uint32_t *r, size_t n, uint32_t c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = (lo + hi) / 2;

		if (c < r[2 * m])
			hi = m;
		else if (c > r[2 * m + 1])
			lo = m + 1;
		else
			return true;
	}
	return false;
}
