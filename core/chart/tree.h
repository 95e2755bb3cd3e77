/* The render's chart tree and context, shared by the files that render a
 * chart (render.c: the pass over the templates; deps.c: dependencies and
 * value coalescing; manifest.c: sorting and output). Private to core/chart. */
#ifndef KD_CHART_TREE_H
#define KD_CHART_TREE_H

#include "chart/internal.h"

#include <string.h>

typedef struct node node;
struct node {
	const kd_chart *c;
	const char *name;  /* Chart.yaml's name, or the dependency's alias */
	kd_value *values;  /* the chart's values (import-values may extend) */
	kd_value *deps;    /* Chart.yaml dependencies (copies), NULL if none */
	node **subs;
	size_t nsubs;
	node *parent;
	const char *full;  /* ChartFullPath */
	kd_value *ctx;     /* the template data of this chart */
	kd_value *files;   /* .Files */
};

typedef struct rctx {
	kd_arena *a;
	kd_arena *scratch; /* values only needed while dependencies are processed */
	kd_err *err;
	const kd_chart_opts *o;
	int oom;
} rctx;

static inline int oom(rctx *r)
{
	return kd_err_set(r->err, KD_ENOMEM, "out of memory while rendering");
}

static inline kd_value *S(rctx *r, const char *s)
{
	kd_value *v = kd_value_strz(r->a, s);

	if (!v)
		r->oom = 1;
	return v;
}

static inline void set(rctx *r, kd_value *m, const char *k, kd_value *v)
{
	if (!v || kd_map_setz(r->a, m, k, v))
		r->oom = 1;
}

static inline const char *dstr(const kd_value *m, const char *k)
{
	const kd_value *v = m && m->type == KD_MAP ? kd_map_getz(m, k) : NULL;

	return v && v->type == KD_STR ? v->u.str.ptr : "";
}

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

typedef struct piece {
	const char *s;
	size_t n;
} piece;

typedef struct mf {
	kd_chart_manifest m;
	int rank;
	size_t seq;
} mf;

typedef struct mlist {
	mf *v;
	size_t n, cap;
} mlist;

/* ---- deps.c ---- */

/* The tree of c and its subcharts (NULL with r->oom set on failure). */
node *kd_chart_node_new(rctx *r, const kd_chart *c, node *parent, int depth);

/* action.CheckDependencies: every Chart.yaml dependency is in charts/. */
int kd_chart_check_deps(const kd_chart *c, kd_err *err);

/* chartutil.ProcessDependenciesWithMerge's two halves: conditions, tags
 * and aliases (dropping disabled subcharts), then import-values. */
int kd_chart_dep_enabled(rctx *r, node *n, kd_value *v, const char *path,
			 int depth);
int kd_chart_import_values(rctx *r, node *n);

/* chartutil.CoalesceValues / MergeValues over the tree. */
int kd_chart_coalesce_top(rctx *r, node *n, const kd_value *v, bool merge,
			  kd_value **out);

/* Whether version satisfies the semver range (false when either fails to
 * parse). */
bool kd_chart_compatible(rctx *r, const char *range, const char *version);

/* ---- head.c ---- */

/* A rendered document's kind and helm.sh/hook annotation (NULL when
 * absent; n bytes each, not NUL-terminated). */
typedef struct kd_chart_qhead {
	const char *kind, *hook;
	size_t kind_n, hook_n;
} kd_chart_qhead;

/* True when s is plain block YAML that libyaml surely parses and whose
 * head is in *h; false when only libyaml can tell. */
bool kd_chart_quick_head(const char *s, size_t n, kd_chart_qhead *h);

/* ---- manifest.c ---- */

/* releaseutil.SplitManifests (out NULL: only counts). */
size_t kd_chart_split_docs(const char *s, size_t n, piece *out, size_t max);

/* Files one rendered document as a manifest or a hook (by its
 * helm.sh/hook annotation; unknown hooks are dropped, as in Helm). */
int kd_chart_classify(rctx *r, const char *path, const piece *p,
		      const char *kind, const char *hook, mlist *gen,
		      mlist *hooks);

/* Helm's install order, stable (tmp holds n entries). */
void kd_chart_sort_kinds(mf *v, size_t n, mf *tmp);

/* The crds/ files of n and its subcharts (r->oom on failure). */
void kd_chart_add_crds(rctx *r, node *n, mlist *crds);

#endif
