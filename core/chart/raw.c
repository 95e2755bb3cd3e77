/* The raw file list a chart is built from, as the directory walker and the
 * archive reader collect it: every file counted against KD_LIMIT_CHART_FILES. */
#include "chart/internal.h"

#include "base/limits.h"

#include <string.h>

int kd_chart_raw_add(kd_arena *a, kd_chart_raw *r, const char *name,
		     size_t nlen, const char *data, size_t len, kd_err *err)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		kd_chart_file *n;

		if (r->n >= KD_LIMIT_CHART_FILES)
			return kd_err_set(err, KD_ELIMIT,
					  "the chart has more than %u files (KD_LIMIT_CHART_FILES)",
					  KD_LIMIT_CHART_FILES);
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
	r->total += len;
	return 0;
}
