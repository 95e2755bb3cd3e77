/* kedge's entry point: it makes the Lua state and hands the command line
 * to require("kedge.cli").main(argv), where the command table lives
 * (lua/kedge/cli.lua); its result is the exit status. Only a state that
 * cannot be made, or a Lua error escaping the CLI, is handled here
 * (exit 1). kedge render's C implementation stays here for now, reached
 * from Lua as kedge.cli.render_c. */
#include "base/err.h"
#include "base/limits.h"
#include "chart/chart.h"
#include "lua/klua.h"
#include "chart/funcs.h"
#include "tmpl/tmpl.h"

#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The flags were checked by the command table already; these messages
 * stay for what only the C code sees. */
static void usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "kedge: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'kedge help %s')\n", cmd);
}

/* ---- kedge render ---- */

static int read_all(const char *path, kd_buf *b, kd_err *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char tmp[65536];
	size_t n;

	if (!f)
		return kd_err_set(err, KD_EIO, "open %s: %s", path, strerror(errno));
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		kd_buf_put(b, tmp, n);
	if (f != stdin)
		fclose(f);
	if (b->failed)
		return kd_err_set(err, b->failed, "%s: too large", path);
	return 0;
}

/* chartutil.ValidateReleaseName */
static int valid_release_name(const char *s)
{
	size_t n = strlen(s), i;
	int seg = 0;
	char prev = '.';

	if (n == 0 || n > 53)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (!seg || prev == '-')
				return 0;
			seg = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			seg++;
		} else if (c == '-') {
			if (!seg)
				return 0;
			seg++;
		} else {
			return 0;
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

static int add_list(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof *nv);

	if (!nv)
		return -1;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

static int cmd_render(int argc, char **argv)
{
	static const struct { const char *flag; kd_chart_set_kind kind; } sets[] = {
		{"--set", KD_CHART_SET}, {"--set-string", KD_CHART_SET_STRING},
		{"--set-json", KD_CHART_SET_JSON}, {"--set-file", KD_CHART_SET_FILE},
		{"--set-literal", KD_CHART_SET_LITERAL},
	};
	kd_chart_opts o;
	kd_err err = KD_ERR_INIT;
	kd_arena a = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_chart *c = NULL;
	kd_chart_result res;
	kd_buf out = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *pos[3] = {0}, *name_tpl = NULL;
	const char **files = NULL, **apis = NULL, **show = NULL;
	const char **setv[5] = {0};
	size_t nsetv[5] = {0}, nfiles = 0, napis = 0, nshow = 0, i, k;
	char *gen_name = NULL;
	int npos = 0, rc = 0, status = EXIT_OK, j;
	kd_value *vals;

	memset(&o, 0, sizeof o);
	memset(&res, 0, sizeof res);
	for (j = 1; j < argc; j++) {
		const char *f = argv[j], *val = NULL, *eq;
		char flag[64];
		int takes;

		if (f[0] != '-' || !f[1]) {
			if (npos == 2) {
				usage_error("render", "unexpected argument '%s'", f);
				status = EXIT_USAGE;
				goto cleanup;
			}
			pos[npos++] = f;
			continue;
		}
		eq = f[1] == '-' ? strchr(f, '=') : NULL;
		snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - f) : (int)strlen(f), f);
		takes = !strcmp(flag, "-f") || !strcmp(flag, "--values") ||
			!strcmp(flag, "-n") || !strcmp(flag, "--namespace") ||
			!strcmp(flag, "--kube-version") || !strcmp(flag, "-a") ||
			!strcmp(flag, "--api-versions") || !strcmp(flag, "-s") ||
			!strcmp(flag, "--show-only") || !strcmp(flag, "--name-template") ||
			!strncmp(flag, "--set", 5);
		if (takes) {
			if (eq) {
				val = eq + 1;
			} else if (j + 1 < argc) {
				val = argv[++j];
			} else {
				usage_error("render", "%s needs a value", flag);
				status = EXIT_USAGE;
				goto cleanup;
			}
		} else if (eq) {
			usage_error("render", "%s takes no value", flag);
			status = EXIT_USAGE;
			goto cleanup;
		}
		if (!strcmp(flag, "-f") || !strcmp(flag, "--values")) {
			/* Helm accepts a comma-separated list here too */
			char *dup = strdup(val), *save = NULL, *p;

			if (!dup)
				goto oom;
			for (p = strtok_r(dup, ",", &save); p; p = strtok_r(NULL, ",", &save))
				if (add_list(&files, &nfiles, p))
					goto oom;
		} else if (!strcmp(flag, "-n") || !strcmp(flag, "--namespace")) {
			o.ns = val;
		} else if (!strcmp(flag, "--kube-version")) {
			o.kube_version = val;
		} else if (!strcmp(flag, "-a") || !strcmp(flag, "--api-versions")) {
			char *dup = strdup(val), *save = NULL, *p;

			if (!dup)
				goto oom;
			for (p = strtok_r(dup, ",", &save); p; p = strtok_r(NULL, ",", &save))
				if (add_list(&apis, &napis, p))
					goto oom;
		} else if (!strcmp(flag, "-s") || !strcmp(flag, "--show-only")) {
			if (add_list(&show, &nshow, val))
				goto oom;
		} else if (!strcmp(flag, "--name-template")) {
			name_tpl = val;
		} else if (!strcmp(flag, "--include-crds")) {
			o.include_crds = true;
		} else if (!strcmp(flag, "--skip-crds")) {
			o.include_crds = false;
		} else if (!strcmp(flag, "--skip-tests")) {
			o.skip_tests = true;
		} else if (!strcmp(flag, "--no-hooks")) {
			o.no_hooks = true;
		} else if (!strcmp(flag, "--is-upgrade")) {
			o.is_upgrade = true;
		} else if (!strcmp(flag, "-g") || !strcmp(flag, "--generate-name")) {
			/* helm template names the release "release-name" anyway */
		} else {
			for (k = 0; k < 5; k++)
				if (!strcmp(flag, sets[k].flag))
					break;
			if (k == 5) {
				usage_error("render", "unknown option '%s'", flag);
				status = EXIT_USAGE;
				goto cleanup;
			}
			if (add_list(&setv[k], &nsetv[k], val))
				goto oom;
		}
	}
	if (npos == 0) {
		usage_error("render", "%s", "give the CHART to render");
		status = EXIT_USAGE;
		goto cleanup;
	}
	if (npos == 2 && name_tpl) {
		usage_error("render", "%s", "cannot set --name-template and also specify a name");
		status = EXIT_USAGE;
		goto cleanup;
	}
	if (npos == 2) {
		o.release = pos[0];
		pos[0] = pos[1];
	} else if (name_tpl) {
		rc = name_template(name_tpl, &gen_name, &err);
		if (rc)
			goto fail;
		o.release = gen_name;
	}
	if (o.release && !valid_release_name(o.release)) {
		rc = kd_err_set(&err, KD_EINVAL,
				"release name \"%s\": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53",
				o.release);
		goto fail;
	}
	o.api_versions = apis;
	o.n_api_versions = napis;
	o.show_only = show;
	o.n_show_only = nshow;
	/* values: -f files in order, then --set-json, --set, --set-string,
	 * --set-file, --set-literal (Helm's order) */
	vals = kd_value_map(&a, 8);
	if (!vals)
		goto oom;
	for (i = 0; i < nfiles; i++) {
		kd_buf b = KD_BUF_INIT(KD_LIMIT_DOC_BYTES);
		kd_value *fv;

		rc = read_all(files[i], &b, &err);
		if (!rc)
			rc = kd_chart_values_parse(&fv, &a, b.ptr, b.len, files[i], &err);
		kd_buf_free(&b);
		if (!rc)
			rc = kd_chart_values_merge(&a, vals, fv);
		if (rc) {
			kd_err_prefix(&err, "failed to parse %s", files[i]);
			goto fail;
		}
	}
	{
		static const int order[] = {2, 0, 1, 3, 4};

		for (k = 0; k < 5; k++)
			for (i = 0; i < nsetv[order[k]]; i++) {
				rc = kd_chart_values_set(&a, vals, setv[order[k]][i],
							 sets[order[k]].kind, &err);
				if (rc)
					goto fail;
			}
	}
	rc = kd_chart_load(&c, pos[0], &err);
	if (rc)
		goto fail;
	rc = kd_chart_render(&res, c, vals, &o, &err);
	if (!rc)
		rc = kd_chart_output(&out, &res, &o, &err);
	if (rc)
		goto fail;
	if (fwrite(out.ptr, 1, out.len, stdout) != out.len || fflush(stdout)) {
		fprintf(stderr, "Error: writing the output: %s\n", strerror(errno));
		status = EXIT_FAIL;
	}
	goto cleanup;
oom:
	rc = kd_err_set(&err, KD_ENOMEM, "out of memory");
fail:
	if (res.render_failed)
		fprintf(stderr, "Error: %s\n\nUse --debug flag to render out invalid YAML\n", err.msg);
	else
		fprintf(stderr, "Error: %s\n", err.msg);
	status = EXIT_FAIL;
cleanup:
	kd_chart_result_free(&res);
	kd_chart_free(c);
	kd_buf_free(&out);
	kd_arena_free(&a);
	free(files);
	free(apis);
	free(show);
	for (k = 0; k < 5; k++)
		free(setv[k]);
	free(gen_name);
	return status;
}

/* render_c.render({args...}) -> exit status: cmd_render on the command's
 * arguments (the command name first, as argv). */
static int l_render(lua_State *L)
{
	lua_Integer n, i;
	char **argv;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = luaL_len(L, 1);
	if (n < 0 || n > INT_MAX - 2)
		return luaL_argerror(L, 1, "too many arguments");
	argv = lua_newuserdatauv(L, sizeof *argv * (size_t)(n + 2), 0);
	argv[0] = "render";
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, i);
		argv[i] = (char *)luaL_checkstring(L, -1);
		lua_pop(L, 1); /* the string stays alive in the table */
	}
	argv[n + 1] = NULL;
	fflush(stdout);
	lua_pushinteger(L, cmd_render((int)n + 1, argv));
	return 1;
}

static int open_render_c(lua_State *L)
{
	static const luaL_Reg funcs[] = {{"render", l_render}, {NULL, NULL}};

	luaL_newlib(L, funcs);
	return 1;
}

int main(int argc, char **argv)
{
	kd_err err = KD_ERR_INIT;
	kd_lua *kl = NULL;
	int rc, status = EXIT_FAIL;

	rc = kd_lua_new(&kl, KD_LIMIT_LUA_HEAP, &err);
	if (!rc && kd_lua_preload(kl, "kedge.cli.render_c", open_render_c))
		rc = kd_err_set(&err, KD_ENOMEM, "lua: out of memory");
	if (!rc)
		rc = kd_lua_run_main(kl, "kedge.cli", "main", argc - 1, argv + 1, &status, &err);
	if (rc) {
		fprintf(stderr, "kedge: %s\n", err.msg);
		status = EXIT_FAIL;
	}
	kd_lua_free(kl);
	return status;
}
