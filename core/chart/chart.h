/* kd_chart: Helm charts, loaded and rendered the way Helm v3.15 does it, so
 * that kd_chart_render() followed by kd_chart_output() prints what
 * `helm template` prints.
 *
 * LOADING. kd_chart_load() takes a chart directory or a packaged .tgz. A
 * directory is walked in lexical order, filtered by its .helmignore (Helm's
 * rules, quirks included, plus the default `templates/.?*`); symbolic links
 * are followed only while they stay inside the chart. An archive is read by
 * kedge's own tar reader over zlib: its first path component is dropped,
 * absolute paths, `..` components, links and device entries are refused,
 * and every member and the whole chart are bounded
 * (KD_LIMIT_CHART_FILE_BYTES, KD_LIMIT_CHART_BYTES), which stops
 * decompression bombs early. Chart.yaml (apiVersion v1 or v2; v1 may carry
 * requirements.yaml), values.yaml, values.schema.json, templates/, crds/ and
 * charts/ (subchart directories and .tgz files, recursively) are read as
 * Helm's loader reads them; everything else is the chart's .Files.
 *
 * RENDERING. kd_chart_render() runs Helm's install path without a cluster:
 * dependency conditions, tags and aliases, import-values, value coalescing
 * (chart defaults under the caller's values), values.schema.json
 * validation, kubeVersion, the template engine over every chart's templates
 * in one set (so `define`s are shared and later ones win as in Helm), then
 * the manifests split, sorted by kind in Helm's install order and hooks
 * separated. Nothing is returned on error: the caller gets a complete
 * result or a message naming the chart, the file and the line.
 *
 * A loaded chart is read-only; it may be rendered many times. */
#ifndef KD_CHART_CHART_H
#define KD_CHART_CHART_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/value.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct kd_chart kd_chart;

/* .Capabilities.KubeVersion when the caller names none (Helm's default
 * for `helm template` is its client-go's; kedge pins one). */
#define KD_CHART_DEFAULT_KUBE_VERSION "v1.30.0"

/* Loads a chart directory or .tgz file. */
int kd_chart_load(kd_chart **out, const char *path, kd_err *err);
/* Loads a packaged chart held in memory (fetched from a chart repository
 * or a registry); name stands for its path in messages. */
int kd_chart_load_tgz(kd_chart **out, const char *data, size_t len,
		      const char *name, kd_err *err);
/* Adds a packaged chart as a subchart, as if it lay in charts/ (where
 * `helm dependency build` puts what it fetches). */
int kd_chart_add_sub(kd_chart *c, const char *data, size_t len,
		     const char *name, kd_err *err);
void kd_chart_free(kd_chart *c);

/* Chart.yaml's name and version. */
const char *kd_chart_name(const kd_chart *c);
const char *kd_chart_version(const kd_chart *c);
/* Chart.yaml as read (a v1 chart's requirements.yaml dependencies under
 * "dependencies"), Chart.lock (or requirements.lock) or NULL, and the
 * names of the subcharts charts/ holds: what a dependency build needs. */
const kd_value *kd_chart_meta(const kd_chart *c);
const kd_value *kd_chart_lock(const kd_chart *c);
size_t kd_chart_nsubs(const kd_chart *c);
const char *kd_chart_sub_name(const kd_chart *c, size_t i);

typedef struct kd_chart_opts {
	const char *release;       /* NULL: "release-name" */
	const char *ns;            /* NULL: "default" */
	const char *kube_version;  /* NULL: KD_CHART_DEFAULT_KUBE_VERSION */
	const char *const *api_versions; /* added to the default set */
	size_t n_api_versions;
	/* api_versions replace the default set: Helm install's view, where
	 * they come from the cluster's discovery */
	bool api_versions_only;
	bool is_upgrade;
	bool include_crds;
	bool skip_tests;
	bool no_hooks;
	const char *const *show_only; /* template paths or globs */
	size_t n_show_only;
	/* Helm's lookup against a live cluster (chart/funcs.h; Helm install's
	 * view); NULL: an empty map, as helm template gives */
	const struct kd_chart_lookup *lookup;
} kd_chart_opts;

/* Helm's install order (releaseutil.InstallOrder), kinds first to last,
 * NULL-terminated; unknown kinds go after, by name. The pass applies in
 * the same order (kedge.chart.INSTALL_ORDER). */
extern const char *const kd_chart_install_order[];

/* One rendered document. */
typedef struct kd_chart_manifest {
	const char *source; /* "<chart>/templates/<file>" (or the CRD file) */
	const char *text;   /* the document, without its "---" line */
	size_t len;
	const char *kind;   /* "" when the document has none */
	bool hook;          /* a helm.sh/hook resource */
	bool test;          /* a test hook */
	bool crd;           /* from crds/ (with include_crds) */
} kd_chart_manifest;

typedef struct kd_chart_result {
	kd_arena arena;
	kd_chart_manifest *docs; /* CRDs, manifests by kind, then hooks */
	size_t ndocs;
	const char *notes;       /* the top chart's NOTES.txt output, or NULL */
	/* Set on error when the failure came from rendering the templates
	 * or sorting their output (Helm then suggests --debug). */
	bool render_failed;
} kd_chart_result;

/* Renders c with the caller's values (a KD_MAP, or NULL: the chart's
 * defaults only), which are not changed. On error *out is left empty. */
int kd_chart_render(kd_chart_result *out, const kd_chart *c,
		    const kd_value *values, const kd_chart_opts *opts,
		    kd_err *err);
void kd_chart_result_free(kd_chart_result *r);

/* Appends what `helm template` prints for the result (honouring
 * skip_tests, no_hooks and show_only from opts). KD_ENOTFOUND when a
 * show_only entry matches nothing. */
int kd_chart_output(kd_buf *out, const kd_chart_result *r,
		    const kd_chart_opts *opts, kd_err *err);

/* ---- values, as `helm template` gathers them ---- */

/* Reads a values file's text as Helm does (YAML, every number a float; an
 * empty file is an empty map). */
int kd_chart_values_parse(kd_value **out, kd_arena *a, const char *text,
			  size_t len, const char *name, kd_err *err);

/* The one values-layer merge, used by kedge render (-f files) and by the
 * pass (bundle values, targetValues, the site's values): layers[0..n) in
 * order, later ones winning; maps merge recursively, anything else
 * replaces, null included: a null stays in the result, so that rendering,
 * which coalesces the chart's defaults under it, deletes the default
 * there as Helm does. A layer that is not a map replaces everything before
 * it. The layers are consumed: the result shares and may change them.
 * n == 0 gives an empty map. */
int kd_chart_values_layers(kd_value **out, kd_arena *a, kd_value *const *layers,
			   size_t n, kd_err *err);

typedef enum kd_chart_set_kind {
	KD_CHART_SET,         /* --set a.b=1,c[0]=x */
	KD_CHART_SET_STRING,  /* --set-string: every value a string */
	KD_CHART_SET_JSON,    /* --set-json a.b={"x":1} */
	KD_CHART_SET_FILE,    /* --set-file a=path: the file's content */
	KD_CHART_SET_LITERAL, /* --set-literal a.b=text taken as is */
} kd_chart_set_kind;

/* Applies one --set-style expression to base (a KD_MAP) with Helm's
 * strvals syntax: dotted keys, list indexes a[0], escapes with '\', and
 * `null` deleting. */
int kd_chart_values_set(kd_arena *a, kd_value *base, const char *expr,
			kd_chart_set_kind kind, kd_err *err);

/* ---- `helm template` as one call (kedge render) ---- */

/* The --set family in the order Helm applies them. */
enum {
	KD_CHART_LAYER_JSON,    /* --set-json */
	KD_CHART_LAYER_SET,     /* --set */
	KD_CHART_LAYER_STRING,  /* --set-string */
	KD_CHART_LAYER_FILE,    /* --set-file */
	KD_CHART_LAYER_LITERAL, /* --set-literal */
	KD_CHART_LAYER_N,
};

typedef struct kd_chart_strs {
	const char *const *v;
	size_t n;
} kd_chart_strs;

typedef struct kd_chart_template_opts {
	const char *chart;          /* a directory or .tgz; NULL: usage error */
	const char *release;        /* NULL: name_template's output, else
				     * "release-name" */
	const char *name_template;  /* a template for the release name */
	bool generate_name;         /* accepted; helm template ignores it */
	const char *ns;             /* NULL: "default" */
	const char *kube_version;   /* NULL: KD_CHART_DEFAULT_KUBE_VERSION */
	kd_chart_strs api_versions;
	kd_chart_strs show_only;
	kd_chart_strs values_files; /* "-" is standard input */
	kd_chart_strs set[KD_CHART_LAYER_N];
	bool is_upgrade;
	bool include_crds;
	bool skip_crds;             /* wins over include_crds */
	bool skip_tests;
	bool no_hooks;
} kd_chart_template_opts;

/* KD_EINVAL when the options contradict each other (a command-line
 * mistake: no chart, or both a release and a name template); err says
 * which, without "Error: " in front. */
int kd_chart_template_check(const kd_chart_template_opts *o, kd_err *err);

/* Appends what `helm template` prints for o: checks o, validates the
 * release name, layers values files then the --set family (Helm's order),
 * loads, renders and filters. err's message is what helm prints after
 * "Error: " (with Helm's --debug hint when rendering failed). */
int kd_chart_template(const kd_chart_template_opts *o, kd_buf *out,
		      kd_err *err);

#endif
