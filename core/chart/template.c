/* `helm template` as one call: the options of `kedge render` (already
 * parsed by the CLI) turned into a release name, layered values, a render
 * and its output. */
#include "chart/internal.h"

#include "base/fs.h"
#include "base/limits.h"
#include "chart/funcs.h"
#include "tmpl/tmpl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A values file (-f), "-" for standard input; a stream or a folder ends
 * with an error naming it (kd_fs_read_fd). */
static int read_all(const char *path, kd_buf *b, kd_err *err)
{
	if (!strcmp(path, "-"))
		return kd_fs_read_fd(0, "standard input", b->limit, b, err);
	return kd_fs_read_file(path, b->limit, b, err);
}

/* chartutil.ValidateReleaseName */
static bool valid_release_name(const char *s)
{
	size_t n = strlen(s), i;
	int seg = 0;
	char prev = '.';

	if (n == 0 || n > 53)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (!seg || prev == '-')
				return false;
			seg = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			seg++;
		} else if (c == '-') {
			if (!seg)
				return false;
			seg++;
		} else {
			return false;
		}
		prev = c;
	}
	return seg && prev != '-';
}

static int name_template(const char *text, char **out, kd_err *err)
{
	kd_tmpl *t = NULL;
	kd_buf b = KD_BUF_INIT(4096);
	int rc = kd_tmpl_new(&t, kd_chart_funcs(), err);

	if (!rc)
		rc = kd_tmpl_parse(t, "name-template", text, strlen(text), err);
	if (!rc)
		rc = kd_tmpl_exec(t, "name-template", NULL, &b, err);
	kd_tmpl_free(t);
	if (rc) {
		kd_buf_free(&b);
		return rc;
	}
	*out = kd_buf_detach(&b, NULL);
	return *out ? 0 : kd_err_set(err, KD_ENOMEM, "out of memory");
}

/* -f files in order, then the --set family in Helm's order. */
static int user_values(kd_value **out, kd_arena *a,
		       const kd_chart_template_opts *o, kd_err *err)
{
	static const kd_chart_set_kind kinds[KD_CHART_LAYER_N] = {
		KD_CHART_SET_JSON, KD_CHART_SET, KD_CHART_SET_STRING,
		KD_CHART_SET_FILE, KD_CHART_SET_LITERAL,
	};
	size_t nf = o->values_files.n, i, k;
	kd_value **files = kd_arena_alloc(a, (nf + 1) * sizeof *files);
	kd_value *vals;
	int rc;

	if (!files)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	for (i = 0; i < nf; i++) {
		const char *path = o->values_files.v[i];
		kd_buf b = KD_BUF_INIT(KD_LIMIT_DOC_BYTES);

		rc = read_all(path, &b, err);
		if (rc) {
			kd_buf_free(&b);
			return rc;
		}
		rc = kd_chart_values_parse(&files[i], a, b.ptr, b.len, path, err);
		kd_buf_free(&b);
		if (rc) {
			kd_err_prefix(err, "failed to parse %s", path);
			return rc;
		}
	}
	rc = kd_chart_values_layers(&vals, a, files, nf, err);
	if (rc)
		return rc;
	for (k = 0; k < KD_CHART_LAYER_N; k++)
		for (i = 0; i < o->set[k].n; i++) {
			rc = kd_chart_values_set(a, vals, o->set[k].v[i], kinds[k], err);
			if (rc)
				return rc;
		}
	*out = vals;
	return 0;
}

int kd_chart_template_check(const kd_chart_template_opts *o, kd_err *err)
{
	if (!o->chart)
		return kd_err_set(err, KD_EINVAL, "give the CHART to render");
	if (o->release && o->name_template)
		return kd_err_set(err, KD_EINVAL,
				  "cannot set --name-template and also specify a name");
	return 0;
}

int kd_chart_template(const kd_chart_template_opts *o, kd_buf *out,
		      kd_err *err)
{
	kd_arena a = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_chart *c = NULL;
	kd_chart_result res;
	kd_chart_opts ro;
	kd_value *vals = NULL;
	char *gen_name = NULL;
	int rc;

	memset(&res, 0, sizeof res);
	memset(&ro, 0, sizeof ro);
	rc = kd_chart_template_check(o, err);
	if (rc)
		goto cleanup;
	ro.release = o->release;
	if (!ro.release && o->name_template) {
		rc = name_template(o->name_template, &gen_name, err);
		if (rc)
			goto cleanup;
		ro.release = gen_name;
	}
	if (ro.release && !valid_release_name(ro.release)) {
		rc = kd_err_set(err, KD_EINVAL,
				"release name \"%s\": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53",
				ro.release);
		goto cleanup;
	}
	ro.ns = o->ns;
	ro.kube_version = o->kube_version;
	ro.api_versions = o->api_versions.v;
	ro.n_api_versions = o->api_versions.n;
	ro.show_only = o->show_only.v;
	ro.n_show_only = o->show_only.n;
	ro.is_upgrade = o->is_upgrade;
	ro.include_crds = o->include_crds && !o->skip_crds;
	ro.skip_tests = o->skip_tests;
	ro.no_hooks = o->no_hooks;
	rc = user_values(&vals, &a, o, err);
	if (!rc)
		rc = kd_chart_load(&c, o->chart, err);
	if (!rc)
		rc = kd_chart_render(&res, c, vals, &ro, err);
	if (!rc)
		rc = kd_chart_output(out, &res, &ro, err);
	if (rc && res.render_failed) {
		kd_err e = *err;

		kd_err_set(err, rc, "%s\n\nUse --debug flag to render out invalid YAML",
			   e.msg);
	}
cleanup:
	kd_chart_result_free(&res);
	kd_chart_free(c);
	kd_arena_free(&a);
	free(gen_name);
	return rc;
}
