/* Helm's template functions about charts (.Files, include, tpl, required,
 * lookup) and the function table a chart render uses: core/tmpl's
 * builtins, core/sprig's functions and these. */
#ifndef KD_CHART_FUNCS_H
#define KD_CHART_FUNCS_H

#include "tmpl/tmpl.h"

/* Helm's function table, built on the first call, kept for the process. */
const kd_tmpl_funcs *kd_chart_funcs(void);

/* The chart's non-template files for .Files (a KD_MAP of path -> string);
 * the set keeps the pointer, which must outlive it. NULL for none. */
void kd_chart_set_files(kd_tmpl *t, const kd_value *files);

/* Helm's lookup(apiVersion, kind, namespace, name). Without a function
 * (helm template) it returns an empty map; with one, what the function
 * puts in *out, allocated in a: the object, a list object when name is
 * empty, or an empty map when there is none. A non-zero return fails the
 * render with err's message ("error calling lookup: ..."). */
typedef int (*kd_chart_lookup_fn)(void *ud, const char *api_version,
				  const char *kind, const char *namespace_,
				  const char *name, kd_arena *a, kd_value **out,
				  kd_err *err);
typedef struct kd_chart_lookup {
	kd_chart_lookup_fn fn;
	void *ud;
} kd_chart_lookup;
/* The set keeps the pointer, which must outlive it. */
void kd_chart_set_lookup(kd_tmpl *t, const kd_chart_lookup *lk);

#endif
