/* kedge's command line: global options, then one command. Exit codes: 0
 * success, 1 the command failed, 2 the command line was wrong. */
#include "base/err.h"
#include "base/limits.h"
#include "log/log.h"
#include "lua/klua.h"
#include "version/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

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

/* ---- kedge apply-manifests / plan-manifests (lua/kedge/kubecli.lua) ---- */

static int run_kubecli(const char *func, int argc, char **argv)
{
	kd_err err = KD_ERR_INIT;
	kd_lua *kl = NULL;
	int rc, status = EXIT_FAIL;

	rc = kd_lua_new(&kl, KD_LIMIT_LUA_HEAP, &err);
	if (!rc)
		rc = kd_lua_run_main(kl, "kedge.kubecli", func, argc - 1, argv + 1,
				     &status, &err);
	if (rc) {
		fprintf(stderr, "kedge %s: %s\n", argv[0], err.msg);
		status = EXIT_FAIL;
	}
	kd_lua_free(kl);
	return status;
}

static int cmd_apply_manifests(int argc, char **argv)
{
	return run_kubecli("apply", argc, argv);
}

static int cmd_plan_manifests(int argc, char **argv)
{
	return run_kubecli("plan", argc, argv);
}

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
