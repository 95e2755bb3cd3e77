/* kedge's command line: global options, then one command. Exit codes: 0
 * success, 1 the command failed, 2 the command line was wrong; commands
 * may add their own (kedge sync: 3 refused, 4 busy). */
#include "base/err.h"
#include "base/limits.h"
#include "chart/chart.h"
#include "git/git.h"
#include "log/log.h"
#include "lua/klua.h"
#include "chart/funcs.h"
#include "tmpl/tmpl.h"
#include "version/version.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_REFUSED = 3, EXIT_BUSY = 4 };

typedef struct command {
	const char *name;
	const char *summary;
	const char *help;
	int (*run)(int argc, char **argv);
} command;

static const command commands[];

static const char main_help[] =
	"usage: kedge [global options] <command> [options]\n"
	"\n"
	"kedge keeps an edge Kubernetes site in the state its Git config repo\n"
	"describes: it pulls the repo, renders Helm charts, checks resource\n"
	"budgets, applies, runs smoke tests and reports upstream.\n"
	"\n"
	"Commands:\n"
	"%s"
	"\n"
	"Global options:\n"
	"  --log-level LEVEL    debug, info (default), warn, error or off\n"
	"  --log-format FORMAT  text (default) or json: one JSON object per line\n"
	"  -h, --help           show this help; 'kedge help COMMAND' for a command\n"
	"\n"
	"Exit codes: 0 success, 1 the command failed, 2 bad command line.\n";

static void usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "kedge: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'kedge help%s%s')\n", cmd ? " " : "",
		cmd ? cmd : "");
}

static const command *find_command(const char *name)
{
	const command *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void print_main_help(FILE *out)
{
	char list[2048];
	size_t off = 0;
	const command *c;

	list[0] = '\0';
	for (c = commands; c->name && off < sizeof(list); c++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
					"  %-16s %s\n", c->name, c->summary);
	fprintf(out, main_help, list);
}

static int is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

/* ---- kedge help ---- */

static int cmd_help(int argc, char **argv)
{
	const command *c;

	if (argc < 2) {
		print_main_help(stdout);
		return EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c) {
		usage_error(NULL, "unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	fputs(c->help, stdout);
	return EXIT_OK;
}

/* ---- kedge version ---- */

static int cmd_version(int argc, char **argv)
{
	kd_version_lib libs[KD_VERSION_LIBS];
	int json = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else {
			usage_error("version", "unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	kd_version_libs(libs);
	if (json) {
		printf("{\"kedge\":\"%s\",\"commit\":\"%s\"", kd_version(),
		       kd_version_commit());
		for (i = 0; i < KD_VERSION_LIBS; i++)
			printf(",\"%s\":\"%s\"", libs[i].name, libs[i].version);
		printf("}\n");
	} else {
		printf("kedge %s (commit %s)\n", kd_version(), kd_version_commit());
		for (i = 0; i < KD_VERSION_LIBS; i++)
			printf("%-12s %s\n", libs[i].name, libs[i].version);
	}
	return EXIT_OK;
}

/* ---- kedge lua ---- */

static int cmd_lua(int argc, char **argv)
{
	const char *code = NULL;
	kd_err err = KD_ERR_INIT;
	kd_lua *kl = NULL;
	int i, rc, status = EXIT_OK;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-e")) {
			if (code) {
				usage_error("lua", "%s", "-e given twice");
				return EXIT_USAGE;
			}
			if (++i == argc) {
				usage_error("lua", "%s", "-e needs a chunk of code");
				return EXIT_USAGE;
			}
			code = argv[i];
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			usage_error("lua", "unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else {
			break;
		}
	}
	if (!code && i == argc) {
		usage_error("lua", "%s", "give a script FILE, '-' for stdin, or -e CODE");
		return EXIT_USAGE;
	}
	rc = kd_lua_new(&kl, KD_LIMIT_LUA_HEAP, &err);
	if (rc)
		goto cleanup;
	if (code)
		rc = kd_lua_run_string(kl, code, argc - i, argv + i, &err);
	else
		rc = kd_lua_run_file(kl, argv[i], argc - i - 1, argv + i + 1, &err);
cleanup:
	if (rc) {
		fprintf(stderr, "kedge lua: %s\n", err.msg);
		status = EXIT_FAIL;
	}
	kd_lua_free(kl);
	return status;
}


/* ---- kedge sync ---- */

/* libgit2 1.5 has no network timeouts, so a server that stops answering
 * would hold kedge sync forever. The whole run gets a deadline instead;
 * past it the process ends at once, which is safe because nothing is
 * served until it is complete (the next sync removes the leftovers) and
 * the lock goes with the process. */
static void sync_timed_out(int sig)
{
	static const char msg[] = "kedge sync: timed out (--timeout); the state "
				  "stays as it was\n";

	(void)sig;
	(void)!write(2, msg, sizeof msg - 1);
	_exit(EXIT_FAIL);
}

static int cmd_sync(int argc, char **argv)
{
	static const char *const valued[] = {
		"--repo", "--ref", "--state", "--ca-file", "--token-file", "--username",
		"--password-file", "--ssh-key", "--ssh-key-passphrase-file",
		"--known-hosts", "--verify", "--trusted-keys", "--lock-timeout",
		"--timeout", NULL};
	kd_git_sync_opts o = {0};
	kd_git_sync_result r;
	kd_err err = KD_ERR_INIT;
	const char *token_file = NULL, *password_file = NULL, *pass_file = NULL;
	kd_buf token = KD_BUF_INIT(65536), password = KD_BUF_INIT(65536),
	       key_pass = KD_BUF_INIT(65536);
	int i, rc, status = EXIT_OK, progress = isatty(2);
	long timeout = 900;

	o.lock_timeout_s = 60;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int j;

		if (!strcmp(a, "--progress")) {
			progress = 1;
			continue;
		}
		if (!strcmp(a, "--no-progress")) {
			progress = 0;
			continue;
		}
		if (!strcmp(a, "--trust-new-host")) {
			o.trust_new_host = 1;
			continue;
		}
		if (!strcmp(a, "--token") || !strcmp(a, "--password")) {
			usage_error("sync", "%s: secrets are never taken from the command line "
				    "(ps shows it); use a file (--token-file, --password-file) or "
				    "KEDGE_GIT_TOKEN / KEDGE_GIT_PASSWORD", a);
			return EXIT_USAGE;
		}
		for (j = 0; valued[j] && strcmp(valued[j], a); j++)
			;
		if (!valued[j]) {
			usage_error("sync", "unknown option '%s'", a);
			return EXIT_USAGE;
		}
		if (++i == argc) {
			usage_error("sync", "%s needs a value", a);
			return EXIT_USAGE;
		}
		v = argv[i];
		if (!strcmp(a, "--repo"))
			o.url = v;
		else if (!strcmp(a, "--ref"))
			o.ref = v;
		else if (!strcmp(a, "--state"))
			o.state_dir = v;
		else if (!strcmp(a, "--ca-file"))
			o.ca_file = v;
		else if (!strcmp(a, "--token-file"))
			token_file = v;
		else if (!strcmp(a, "--username"))
			o.username = v;
		else if (!strcmp(a, "--password-file"))
			password_file = v;
		else if (!strcmp(a, "--ssh-key"))
			o.ssh_key = v;
		else if (!strcmp(a, "--ssh-key-passphrase-file"))
			pass_file = v;
		else if (!strcmp(a, "--known-hosts"))
			o.known_hosts = v;
		else if (!strcmp(a, "--trusted-keys"))
			o.trusted_keys = v;
		else if (!strcmp(a, "--verify") && kd_git_parse_verify(v, &o.verify)) {
			usage_error("sync", "--verify is off, head or tag, not '%s'", v);
			return EXIT_USAGE;
		} else if (!strcmp(a, "--lock-timeout")) {
			char *end;
			long t = strtol(v, &end, 10);

			if (*end || end == v || t < 0 || t > 86400) {
				usage_error("sync", "--lock-timeout takes seconds (0 to 86400), not '%s'", v);
				return EXIT_USAGE;
			}
			o.lock_timeout_s = (int)t;
		} else if (!strcmp(a, "--timeout")) {
			char *end;

			timeout = strtol(v, &end, 10);
			if (*end || end == v || timeout < 0 || timeout > 86400) {
				usage_error("sync", "--timeout takes seconds (0 to 86400), not '%s'", v);
				return EXIT_USAGE;
			}
		}
	}
	if (!o.url || !o.ref) {
		usage_error("sync", "%s", "--repo URL and --ref REF are required");
		return EXIT_USAGE;
	}
	if (o.verify != KD_GIT_VERIFY_OFF && !o.trusted_keys) {
		usage_error("sync", "%s", "--verify head|tag needs --trusted-keys FILE");
		return EXIT_USAGE;
	}
	o.progress = progress;
	if ((rc = kd_git_read_secret(token_file, "KEDGE_GIT_TOKEN", &token, &err)) ||
	    (rc = kd_git_read_secret(password_file, "KEDGE_GIT_PASSWORD", &password, &err)) ||
	    (rc = kd_git_read_secret(pass_file, NULL, &key_pass, &err)))
		goto cleanup;
	o.token = token.len ? token.ptr : NULL;
	o.password = password.len ? password.ptr : NULL;
	o.ssh_key_pass = key_pass.len ? key_pass.ptr : NULL;
	if (timeout > 0) {
		signal(SIGALRM, sync_timed_out);
		alarm((unsigned)timeout);
	}
	rc = kd_git_sync(&o, &r, &err);
	alarm(0);
	if (rc == 0 || (rc == KD_GIT_EREFUSED && r.current[0]))
		printf("%s %s\n", r.current, r.tree);
	if (rc == 0)
		kd_log(KD_LOG_INFO, "synced %s (%s)%s, %lu objects fetched", r.current, r.ref,
		       r.changed ? ", now current" : ", unchanged", r.objects);
cleanup:
	if (rc) {
		fprintf(stderr, "kedge sync: %s\n", err.msg);
		status = rc == KD_GIT_EREFUSED ? EXIT_REFUSED : rc == KD_GIT_EBUSY ? EXIT_BUSY
										: EXIT_FAIL;
	}
	memset(token.ptr, 0, token.len);
	memset(password.ptr, 0, password.len);
	memset(key_pass.ptr, 0, key_pass.len);
	kd_buf_free(&token);
	kd_buf_free(&password);
	kd_buf_free(&key_pass);
	return status;
}

/* ---- commands written in Lua: require(module)[func](args...) ---- */

static int run_lua_cli(const char *module, const char *func, int argc, char **argv)
{
	kd_err err = KD_ERR_INIT;
	kd_lua *kl = NULL;
	int rc, status = EXIT_FAIL;

	rc = kd_lua_new(&kl, KD_LIMIT_LUA_HEAP, &err);
	if (!rc)
		rc = kd_lua_run_main(kl, module, func, argc - 1, argv + 1, &status, &err);
	if (rc) {
		fprintf(stderr, "kedge %s: %s\n", argv[0], err.msg);
		status = EXIT_FAIL;
	}
	kd_lua_free(kl);
	return status;
}

/* ---- kedge apply-manifests / plan-manifests (lua/kedge/kubecli.lua) ---- */

static int run_kubecli(const char *func, int argc, char **argv)
{
	return run_lua_cli("kedge.kubecli", func, argc, argv);
}

/* ---- kedge check (lua/kedge/checkcli.lua) ---- */

static int cmd_check(int argc, char **argv)
{
	return run_lua_cli("kedge.checkcli", "main", argc, argv);
}

static int cmd_apply_manifests(int argc, char **argv)
{
	return run_kubecli("apply", argc, argv);
}

static int cmd_plan_manifests(int argc, char **argv)
{
	return run_kubecli("plan", argc, argv);
}

/* ---- commands written in Lua: plan, apply, budget, report ---- */

static int cmd_plan(int argc, char **argv)
{
	return run_lua_cli("kedge.passcli", "plan", argc, argv);
}

static int cmd_apply(int argc, char **argv)
{
	return run_lua_cli("kedge.passcli", "apply", argc, argv);
}

static int cmd_budget(int argc, char **argv)
{
	return run_lua_cli("kedge.passcli", "budget", argc, argv);
}

static int cmd_report(int argc, char **argv)
{
	return run_lua_cli("kedge.passcli", "report", argc, argv);
}

#define PASS_REPO_HELP \
	"  --site NAME         the site (sites/NAME.yaml; default $KEDGE_SITE, else\n" \
	"                      the host name up to its first dot)\n" \
	"  --repo URL|PATH     fetch the config repo first (as kedge sync); without\n" \
	"                      it, the revision the state directory serves\n" \
	"  --ref REF           branch, tag, commit or semver:RANGE (default main)\n" \
	"  --state-dir DIR     the state directory (default $KEDGE_STATE_DIR, else\n" \
	"                      /var/lib/kedge)\n" \
	"  --ca-file, --token-file, --username, --password-file, --ssh-key,\n" \
	"  --known-hosts, --verify, --trusted-keys   as for kedge sync\n"

#define PASS_KUBE_HELP \
	"  --kubeconfig FILE   the kubeconfig (default: KUBECONFIG, then\n" \
	"                      /etc/rancher/k3s/k3s.yaml, ~/.kube/config, in-cluster)\n" \
	"  --context NAME      a context other than current-context\n" \
	"  --timeout DURATION  a deadline for every API request (300, 90s, 5m)\n" \
	"  --progress, --no-progress  a line per step on stderr (default: when\n" \
	"                      stderr is a terminal)\n"

#define PASS_EXIT_HELP \
	"Exit codes: 0 ok, 1 failed, 2 bad command line, 10 (plan) changes\n" \
	"pending, 20 budget refused (nothing applied), 21 apply failed, 22 smoke\n" \
	"test failed, 23 report not delivered (kept in the outbox).\n"

#define KUBE_CONN_HELP \
	"  --kubeconfig FILE   the kubeconfig (default: KUBECONFIG, then\n" \
	"                      /etc/rancher/k3s/k3s.yaml, ~/.kube/config, in-cluster)\n" \
	"  --context NAME      a context other than current-context\n" \
	"  -n, --namespace NS  for namespaced objects without one (default: the\n" \
	"                      context's namespace, else default)\n" \
	"  --bundle NAME       label the objects kedge.io/bundle=NAME and record them\n" \
	"                      in the inventory ConfigMap kedge-system/kedge-inventory-NAME\n" \
	"                      (and STATE_DIR/inventory/NAME.json)\n" \
	"  --prune             (needs --bundle) delete what NAME's last apply had and\n" \
	"                      this one lacks, only after this one applied\n" \
	"  --force             take over fields another field manager owns\n" \
	"  --field-manager M   the server-side apply field manager (default kedge)\n" \
	"  --state-dir DIR     where the inventory copy goes (default $KEDGE_STATE_DIR)\n" \
	"  --timeout DURATION  a deadline for every API request of the command\n"

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

static const command commands[] = {
	{"version", "print kedge's version and the linked libraries' versions",
	 "usage: kedge version [--json]\n"
	 "\n"
	 "Prints kedge's version and commit, then the version of every library\n"
	 "linked into the binary (Lua, libgit2, mbedTLS, libyaml, zlib, libssh2,\n"
	 "http-parser).\n"
	 "\n"
	 "  --json   one JSON object instead of lines\n",
	 cmd_version},
	{"lua", "run Lua with kedge's Lua library",
	 "usage: kedge lua [-e CODE] [FILE | -] [ARGS...]\n"
	 "\n"
	 "Runs a Lua 5.4 script (or CODE given with -e) with kedge's library\n"
	 "available through require: kedge, kedge.yaml, kedge.json, kedge.log,\n"
	 "kedge.sandbox. The script sees its arguments in `arg` and as `...`.\n"
	 "Errors print a traceback and exit with status 1.\n"
	 "\n"
	 "  -e CODE  run CODE instead of a file (remaining ARGS go to `arg`)\n"
	 "  -        read the script from standard input\n"
	 "\n"
	 "Example:\n"
	 "  kedge lua -e 'local y = require \"kedge.yaml\"; print(y.encode(y.decode(\"a: 1\")))'\n",
	 cmd_lua},
	{"sync", "fetch, verify and check out the config repo",
	 "usage: kedge sync --repo URL --ref REF [--state DIR] [options]\n"
	 "\n"
	 "Fetches the config repo into DIR's bare mirror (only new objects; an\n"
	 "unchanged repo costs one ref advertisement), resolves REF, verifies its\n"
	 "signature, checks its tree out into DIR/rev/<commit>/ (atomically) and\n"
	 "points DIR/current at it. Prints '<commit> <tree folder>'.\n"
	 "\n"
	 "  --repo URL          https://host/path, ssh://user@host[:port]/path,\n"
	 "                      user@host:path, file:///path or a local path\n"
	 "  --ref REF           a branch, a tag, a 40-hex commit id, or semver:RANGE\n"
	 "                      (the highest tag in the range, e.g. 'semver:^1.2')\n"
	 "  --state DIR         state directory (default /var/lib/kedge)\n"
	 "  --ca-file FILE      trusted CAs for HTTPS (default: the system bundle)\n"
	 "  --token-file FILE   bearer token for HTTPS (or $KEDGE_GIT_TOKEN)\n"
	 "  --username NAME     with --password-file: HTTP basic auth\n"
	 "  --password-file FILE  (or $KEDGE_GIT_PASSWORD)\n"
	 "  --ssh-key FILE      SSH private key (ECDSA: libssh2 with mbedTLS signs\n"
	 "                      with nothing else)\n"
	 "  --ssh-key-passphrase-file FILE\n"
	 "  --known-hosts FILE  OpenSSH known_hosts pinning the server's host key\n"
	 "                      (required for SSH; no trust on first use)\n"
	 "  --trust-new-host    ...unless asked for: a host missing from the file is\n"
	 "                      added to it (with a warning); a mismatch still fails\n"
	 "  --verify MODE       off (default), head (the commit must carry a trusted\n"
	 "                      SSH signature) or tag (the annotated tag must)\n"
	 "  --trusted-keys FILE OpenSSH allowed-signers file (ssh-keygen -Y verify's)\n"
	 "  --lock-timeout SEC  wait this long for another sync on DIR (default 60)\n"
	 "  --timeout SEC       give up on the whole sync, lock wait included,\n"
	 "                      after SEC seconds (default 900; 0: never)\n"
	 "  --progress, --no-progress  transfer progress on stderr (default: when\n"
	 "                      stderr is a terminal)\n"
	 "\n"
	 "Secrets are read from files or the environment, never from the command line.\n"
	 "\n"
	 "Exit codes: 0 synced; 1 failed (nothing changed); 2 bad command line;\n"
	 "3 the new commit failed verification (the last verified one is still\n"
	 "served, the refusal is in DIR/status.json); 4 another sync holds DIR.\n",
	 cmd_sync},
	{"apply-manifests", "server-side apply Kubernetes manifests, prune, wait",
	 "usage: kedge apply-manifests -f FILE|DIR [-f ...] [--bundle NAME] [--prune]\n"
	 "                             [--wait TIMEOUT] [options]\n"
	 "\n"
	 "Applies the objects in FILE (YAML, many documents; '-' is stdin) or in\n"
	 "DIR's *.yaml, *.yml and *.json files with server-side apply (field\n"
	 "manager kedge): Namespaces and CRDs first (waiting until Established),\n"
	 "then Helm's install order. Nothing is applied when a manifest is invalid\n"
	 "or names a kind the server does not serve.\n"
	 "\n"
	 "  -f, --filename PATH a file, a folder or '-' (repeatable)\n"
	 "  --wait TIMEOUT      then wait until every object is ready (120, 90s,\n"
	 "                      5m); a timeout names each object and why\n"
	 KUBE_CONN_HELP
	 "\n"
	 "Exit codes: 0 applied (and ready), 1 failed (connection, API error,\n"
	 "conflict, prune error), 2 bad command line, 3 invalid manifests (nothing\n"
	 "applied), 4 applied but not ready within TIMEOUT.\n",
	 cmd_apply_manifests},
	{"plan-manifests", "show what apply-manifests would change (server dry run)",
	 "usage: kedge plan-manifests -f FILE|DIR [-f ...] [--bundle NAME] [--prune]\n"
	 "                            [options]\n"
	 "\n"
	 "Server-side applies the objects with dryRun=All and prints, per object,\n"
	 "what would be created or changed, field by field (managedFields, status\n"
	 "and server-set metadata left out; server defaults appear on both sides).\n"
	 "With --bundle and --prune, also what would be pruned. Changes nothing.\n"
	 "\n"
	 "  -f, --filename PATH a file, a folder or '-' (repeatable)\n"
	 KUBE_CONN_HELP
	 "\n"
	 "Exit codes: 0 nothing would change, 1 failed, 2 bad command line,\n"
	 "3 invalid manifests, 5 changes would be made.\n",
	 cmd_plan_manifests},
	{"render", "render a Helm chart as `helm template` does",
	 "usage: kedge render [NAME] CHART [flags]\n"
	 "\n"
	 "Renders the chart (a directory or a .tgz) with its subcharts and prints\n"
	 "the manifests exactly as `helm template` (Helm v3.15) prints them. NAME\n"
	 "is the release name (default \"release-name\").\n"
	 "\n"
	 "  -f, --values FILE         values file (repeatable; later files win)\n"
	 "      --set K=V             set values (a.b=1,c[0]=x; repeatable)\n"
	 "      --set-string K=V      the same, every value a string\n"
	 "      --set-json K=JSON     the same, values in JSON\n"
	 "      --set-file K=PATH     the value is the content of PATH\n"
	 "      --set-literal K=V     the value taken literally (no splitting)\n"
	 "  -n, --namespace NS        .Release.Namespace (default \"default\")\n"
	 "      --name-template TPL   the release name from a template\n"
	 "      --kube-version V      .Capabilities.KubeVersion (default v1.30.0)\n"
	 "  -a, --api-versions LIST   extra .Capabilities.APIVersions (repeatable)\n"
	 "      --is-upgrade          .Release.IsUpgrade true, IsInstall false\n"
	 "      --include-crds        print the charts' crds/ files first\n"
	 "      --skip-crds           do not print them (the default)\n"
	 "      --skip-tests          leave out test hooks\n"
	 "      --no-hooks            leave out every hook\n"
	 "  -s, --show-only PATH      only templates matching PATH (repeatable)\n"
	 "  -g, --generate-name       accepted for helm compatibility\n"
	 "\n"
	 "Values combine as in Helm: the charts' values.yaml, then -f files in\n"
	 "order, then --set-json, --set, --set-string, --set-file and\n"
	 "--set-literal. helm template flags that need a cluster or a chart\n"
	 "repository (--validate, --repo, --version, --dependency-update,\n"
	 "--output-dir, --post-renderer) are not supported.\n"
	 "\n"
	 "Exit codes: 0 rendered, 1 the chart, its values or a template failed\n"
	 "(the message names chart, file and line), 2 bad command line.\n",
	 cmd_render},
	{"plan", "show what a pass would change on the site (changes nothing)",
	 "usage: kedge plan [--site NAME] [--repo URL|PATH --ref REF] [options]\n"
	 "\n"
	 "Syncs the config repo, loads it, selects the site's bundles, renders\n"
	 "them, checks the resource budget and server-side dry-runs every object,\n"
	 "printing what would be created, changed (field by field) and pruned.\n"
	 "Changes nothing on the cluster.\n"
	 "\n"
	 PASS_REPO_HELP
	 PASS_KUBE_HELP
	 "\n"
	 PASS_EXIT_HELP,
	 cmd_plan},
	{"apply", "run the whole pass: sync, render, budget, apply, smoke, report",
	 "usage: kedge apply [--site NAME] [--repo URL|PATH --ref REF] [options]\n"
	 "\n"
	 "One reconcile pass: sync, load, select, render, budget (refuses the\n"
	 "whole pass before anything is touched), apply each bundle in dependsOn\n"
	 "order (server-side apply, prune, wait until ready), its smoke tests,\n"
	 "record the last good commit per bundle (a failed bundle is rolled back\n"
	 "to its last good revision), and the report: written to the outbox,\n"
	 "then delivered to the site's destinations. The site's `recipe:` runs\n"
	 "instead of the built-in one, in the sandbox.\n"
	 "\n"
	 PASS_REPO_HELP
	 PASS_KUBE_HELP
	 "  --wait DURATION     readiness timeout per bundle (default 300s; 0: do\n"
	 "                      not wait)\n"
	 "  --no-deliver        leave the report in the outbox\n"
	 "  --lock-timeout SEC  wait this long for another apply on the state\n"
	 "                      directory (default 60; 0 to 600)\n"
	 "\n"
	 PASS_EXIT_HELP,
	 cmd_apply},
	{"budget", "print the site's resource budget table",
	 "usage: kedge budget [--site NAME] [--repo PATH | --repo URL --ref REF]\n"
	 "                    [--state-dir DIR]\n"
	 "\n"
	 "Renders the bundles selected for the site and prints, per bundle and\n"
	 "dimension, what they request and are limited to against the site's\n"
	 "capacity minus its reserve, with the shortfall. Needs no cluster.\n"
	 "--repo PATH without --ref reads a plain checkout (uncommitted changes\n"
	 "included); without --repo, the revision the state directory serves.\n"
	 "\n"
	 PASS_REPO_HELP
	 "\n"
	 "Exit codes: 0 fits, 1 failed, 2 bad command line, 20 does not fit.\n",
	 cmd_budget},
	{"report", "show the pass reports or send the outbox",
	 "usage: kedge report list|show [ID]|send [--site NAME] [--state-dir DIR]\n"
	 "\n"
	 "  list, show   the reports in STATE_DIR's outbox (show ID: one report's JSON)\n"
	 "  send         deliver what the outbox holds to the site's destinations\n"
	 "               (from the served revision's sites/NAME.yaml)\n"
	 "\n"
	 PASS_REPO_HELP
	 "\n"
	 "Exit codes: 0 ok, 1 failed, 2 bad command line, 23 not delivered.\n",
	 cmd_report},
	{"check", "check a config repo without a cluster (for its CI)",
	 "usage: kedge check [--site NAME | --all-sites] [--repo PATH] [--json]\n"
	 "\n"
	 "Checks a config repo the way a pass would, without a cluster or a state\n"
	 "directory, so the repo's CI can refuse a change before it merges: loads\n"
	 "kedge.yaml, sites/*.yaml and bundles/*/bundle.yaml with their values\n"
	 "files and validates them (unknown keys, wrong types, a site file named\n"
	 "differently from its site, bad label selectors, dependsOn naming a\n"
	 "missing bundle or making a cycle, missing charts and recipes); then, for\n"
	 "each site, selects its bundles in dependsOn order and renders each\n"
	 "chart with the site's values and Kubernetes version (kubeVersion of the\n"
	 "site, else of kedge.yaml, else 1.30.0), values.schema.json included,\n"
	 "and holds what they request against the site's capacity minus its\n"
	 "reserve (kedge budget's table; a site that does not fit is a problem).\n"
	 "Every problem is printed on stderr as FILE:LINE:COL: what is wrong and\n"
	 "how to fix it; one line per site on stdout. Writes nothing.\n"
	 "\n"
	 "  --repo PATH    the config repo: a plain checkout (default: .)\n"
	 "  --site NAME    check this site only\n"
	 "  --all-sites    check every site (the default)\n"
	 "  --json         print one JSON object: {ok, repo, sites: [{name, ok,\n"
	 "                 kube_version, bundles: [{name, chart, version, objects}],\n"
	 "                 problems}], problems: [{file, line, col, message, site}],\n"
	 "                 warnings}\n"
	 "\n"
	 "Exit codes: 0 no problems, 1 problems found (each named by file and\n"
	 "line), 2 bad command line or no such --repo folder.\n",
	 cmd_check},
	{"help", "show help for kedge or one command",
	 "usage: kedge help [COMMAND]\n", cmd_help},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	kd_log_level level = KD_LOG_INFO;
	kd_log_format format = KD_LOG_TEXT;
	const command *c;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];

		if (is_help(opt)) {
			print_main_help(stdout);
			return EXIT_OK;
		}
		if (!strcmp(opt, "--version"))
			return cmd_version(1, argv);
		if (strcmp(opt, "--log-level") && strcmp(opt, "--log-format")) {
			usage_error(NULL, "unknown option '%s'", opt);
			return EXIT_USAGE;
		}
		if (i + 1 == argc) {
			usage_error(NULL, "%s needs a value", opt);
			return EXIT_USAGE;
		}
		if (!strcmp(opt, "--log-level") &&
		    kd_log_parse_level(argv[i + 1], &level)) {
			usage_error(NULL, "unknown log level '%s'", argv[i + 1]);
			return EXIT_USAGE;
		}
		if (!strcmp(opt, "--log-format") &&
		    kd_log_parse_format(argv[i + 1], &format)) {
			usage_error(NULL, "unknown log format '%s'", argv[i + 1]);
			return EXIT_USAGE;
		}
		i++;
	}
	kd_log_setup(level, format);
	if (i == argc) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	c = find_command(argv[i]);
	if (!c) {
		usage_error(NULL, "unknown command '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (argc - i > 1 && is_help(argv[i + 1])) {
		fputs(c->help, stdout);
		return EXIT_OK;
	}
	return c->run(argc - i, argv + i);
}
