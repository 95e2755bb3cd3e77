/* The raw file list a chart is built from, as the directory walker and the
 * archive reader collect it: every file counted against KD_LIMIT_CHART_FILES,
 * in its list and in the whole load. */
#include "chart/internal.h"

#include "base/limits.h"

#include <string.h>

int kd_chart_raw_add(kd_arena *a, kd_chart_raw *r, const char *name,
		     size_t nlen, const char *data, size_t len, kd_err *err)
{
	if (r->n >= KD_LIMIT_CHART_FILES)
		return kd_err_set(err, KD_ELIMIT,
				  "the chart has more than %u files (KD_LIMIT_CHART_FILES)",
				  KD_LIMIT_CHART_FILES);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		kd_chart_file *n;

		n = kd_arena_grow(a, r->f, r->cap * sizeof *n, cap * sizeof *n);
		if (!n)
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		r->f = n;
		r->cap = cap;
	}
	r->f[r->n].name = kd_arena_strndup(a, name, nlen);
	r->f[r->n].data = data;
	r->f[r->n].len = len;
	if (!r->f[r->n].name)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	r->n++;
	return 0;
}

int kd_chart_budget_file(kd_chart_budget *b, uint64_t size, const char *what,
			 kd_err *err)
{
	if (b->files >= KD_LIMIT_CHART_FILES)
		return kd_err_set(err, KD_ELIMIT,
				  "%s: the chart has more than %u files, subcharts included (KD_LIMIT_CHART_FILES)",
				  what, KD_LIMIT_CHART_FILES);
	if (size > KD_LIMIT_CHART_BYTES - b->bytes)
		return kd_err_set(err, KD_ELIMIT,
				  "%s: the chart is larger than %u MiB once unpacked, subcharts included (KD_LIMIT_CHART_BYTES)",
				  what, KD_LIMIT_CHART_BYTES >> 20);
	b->files++;
	b->bytes += size;
	return 0;
}
