/* Allocation-failure mode of the unit tests (tests/unit/t0120-oom.sh): the
 * program is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * --wrap=free,--wrap=strdup under AddressSanitizer (make oom), so every
 * allocation of the code under test passes through the wrappers below.
 * For a scenario (a YAML decode and encode, a template render, a chart
 * load and render from a folder and from a .tgz) it counts the
 * allocations of one run, then runs it again once for every allocation
 * K (or a sample of them, see --max), with the K-th one failing. Every
 * run must then either give the same output as the first, or fail with
 * an error that says memory ran out; and it must free everything it
 * allocated (the wrappers count live blocks; LeakSanitizer checks again
 * at exit). A crash is a failure by itself (ASan reports it).
 *
 * usage: oom yaml|tmpl|sprig|chart PATH|tgz PATH [--max N] [--only K]
 * (--max: a sample of N allocations; --only: allocation K alone, and with
 * OOM_DUMP=DIR a differing output and the expected one are written there) */
#include "tap.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/value.h"
#include "chart/chart.h"
#include "chart/funcs.h"
#include "json/json.h"
#include "tmpl/tmpl.h"
#include "yaml/yaml.h"

#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the wrappers ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static unsigned long calls;   /* allocations seen since the counter reset */
static unsigned long fail_at; /* the allocation that fails; 0: none */
static long live;             /* blocks allocated and not freed */
static int failed;            /* fail_at was reached */

static int should_fail(void)
{
	if (++calls == fail_at) {
		failed = 1;
		if (getenv("OOM_TRACE")) /* where the failing allocation is */
			__sanitizer_print_stack_trace();
		return 1;
	}
	return 0;
}

void *__wrap_malloc(size_t n)
{
	void *p;

	if (should_fail())
		return NULL;
	p = __real_malloc(n);
	if (p)
		live++;
	return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
	void *p;

	if (should_fail())
		return NULL;
	p = __real_calloc(n, m);
	if (p)
		live++;
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (!p)
		return __wrap_malloc(n);
	if (should_fail())
		return NULL;
	q = __real_realloc(p, n);
	if (!q && n == 0)
		live--;
	return q;
}

void __wrap_free(void *p)
{
	if (p)
		live--;
	__real_free(p);
}

char *__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = __wrap_malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* ---- the scenarios: each appends its output to out, or fails ---- */

static const char yaml_text[] =
	"# a values file in Helm's shape\n"
	"global: &g {region: eu-west, tier: edge, labels: {a: \"1\", b: two}}\n"
	"image:\n  repository: registry.example/web\n  tag: \"1.25.3\"\n  pullPolicy: IfNotPresent\n"
	"replicas: 3\nratio: 0.75\nenabled: true\nnothing: null\nwhen: 2026-01-01T00:00:00Z\n"
	"ports: [80, 443, {name: metrics, port: 9090}]\n"
	"env:\n  - {name: A, value: x}\n  - name: B\n    valueFrom: {secretKeyRef: {name: s, key: k}}\n"
	"merged:\n  <<: *g\n  tier: core\n"
	"script: |\n  #!/bin/sh\n  echo hello\n  exit 0\n"
	"folded: >\n  one\n  two\n"
	"quoted: 'it''s'\nescaped: \"tab\\there \\u00e9\"\nbinary: !!binary aGVsbG8=\n"
	"---\nsecond: [&h {x: 1}, *h]\n";

static int run_yaml(kd_buf *out, kd_err *err, const char *arg)
{
	kd_arena a = KD_ARENA_INIT(16u << 20);
	kd_value *docs;
	int rc;

	(void)arg;
	rc = kd_yaml_decode_all(&docs, &a, yaml_text, sizeof yaml_text - 1, "values.yaml",
				NULL, err);
	if (!rc)
		rc = kd_yaml_encode_all(out, docs, NULL, err);
	kd_arena_free(&a);
	return rc;
}

static const char tmpl_data[] =
	"{\"Values\":{\"name\":\"web\",\"replicas\":3,\"ports\":[80,443],"
	"\"labels\":{\"app\":\"web\",\"tier\":\"edge\"},\"image\":{\"tag\":\"1.2.3\"}},"
	"\"Release\":{\"Name\":\"rel\",\"Namespace\":\"ns\"},\"Chart\":{\"Name\":\"web\",\"Version\":\"1.0.0\"}}";

static const char tmpl_text[] =
	"{{- define \"labels\" }}app: {{ .Values.name }}\nchart: {{ .Chart.Name }}-{{ .Chart.Version | replace \".\" \"_\" }}{{ end -}}\n"
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ printf \"%s-%s\" .Release.Name .Values.name | trunc 63 | trimSuffix \"-\" }}\n"
	"  labels:\n{{ include \"labels\" . | indent 4 }}\n"
	"spec:\n  replicas: {{ .Values.replicas | default 1 }}\n"
	"  template:\n    metadata:\n      annotations:\n        checksum: {{ toJson .Values | sha256sum | quote }}\n"
	"    spec:\n      containers:\n{{- range $i, $p := .Values.ports }}\n        - name: c{{ $i }}\n          port: {{ $p }}\n{{- end }}\n"
	"{{- with .Values.labels }}\n      nodeSelector:\n{{ toYaml . | nindent 8 }}\n{{- end }}\n"
	"      image: {{ regexReplaceAll \"([0-9]+)\\\\.([0-9]+)\" .Values.image.tag \"v${1}-${2}\" }}\n"
	"      list: {{ list 1 2 3 | join \",\" }} {{ dict \"k\" \"v\" | toYaml | trim }}"
	" {{ semverCompare \">=1.0\" .Values.image.tag }} {{ upper .Release.Namespace }}\n";

/* More of Sprig, each function with a scratch buffer of its own: one
 * that drops its buffer's failure prints short with success */
static const char sprig_text[] =
	"a: {{ \"hello world\" | b64enc }} {{ \"aGVsbG8=\" | b64dec }} {{ \"x\" | b32enc }}\n"
	"b: {{ title \"hello world\" }} {{ camelcase \"a_b_c\" }} {{ snakecase \"AbCd\" }} {{ kebabcase \"AbCd\" }}\n"
	"c: {{ wrap 5 \"aaa bbb ccc\" }} {{ abbrev 5 \"hello world\" }} {{ repeat 3 \"ab\" }} {{ nospace \"a b c\" }}\n"
	"d: {{ squote \"a\" }} {{ cat \"a\" 1 2.5 }} {{ splitList \",\" \"a,b,c\" | join \"-\" }} {{ list \"b\" \"a\" | sortAlpha | uniq }}\n"
	"e: {{ dict \"k\" (list 1 2) \"t\" (dict \"x\" \"y\") | toToml }}\n"
	"f: {{ \"a: [1, 2]\" | fromYaml | toPrettyJson }} {{ \"{\\\"a\\\":1}\" | fromJson | toRawJson }}\n"
	"g: {{ regexFindAll \"[0-9]+\" \"a1b22c333\" -1 }} {{ regexSplit \"-\" \"a-b-c\" -1 }} {{ regexQuoteMeta \"a.b\" }}\n"
	"h: {{ (urlParse \"https://u@h:1/p?q=1#f\").host }} {{ urlJoin (dict \"scheme\" \"http\" \"host\" \"h\" \"path\" \"/p\") }}\n"
	"i: {{ base \"/a/b.c\" }} {{ dir \"/a/b.c\" }} {{ ext \"b.c\" }} {{ clean \"/a/../b\" }} {{ sha1sum \"a\" }} {{ adler32sum \"a\" }}\n"
	"j: {{ printf \"%08.3f|%-6s|%x|%q|%v\" 3.14159 \"ab\" \"hi\" \"q\" (list 1 (dict \"a\" 2)) }} {{ toString 1.5 }}\n"
	"k: {{ trimAll \"-\" \"--a--\" }} {{ \"a\" | indent 2 }} {{ swapcase \"aB\" }} {{ initials \"ab cd\" }} {{ plural \"one\" \"many\" 2 }}\n"
	"l: {{ seq 1 5 }} {{ until 3 }} {{ (semver \"1.2.3-rc.1\").Prerelease }}\n"
	"m: {{ tpl \"{{ .x }}-{{ upper .y }}\" (dict \"x\" 1 \"y\" \"b\") }} {{ toYaml (list (dict \"a\" \"b\")) }}\n";

static int exec_text(kd_buf *out, kd_err *err, const char *text, size_t len);

static int run_tmpl(kd_buf *out, kd_err *err, const char *arg)
{
	(void)arg;
	return exec_text(out, err, tmpl_text, sizeof tmpl_text - 1);
}

static int run_sprig(kd_buf *out, kd_err *err, const char *arg)
{
	(void)arg;
	return exec_text(out, err, sprig_text, sizeof sprig_text - 1);
}

static int exec_text(kd_buf *out, kd_err *err, const char *text, size_t len)
{
	kd_arena a = KD_ARENA_INIT(16u << 20);
	kd_json_decode_opts jo = {1};
	kd_value *dot;
	kd_tmpl *t = NULL;
	int rc;

	rc = kd_json_decode(&dot, &a, tmpl_data, sizeof tmpl_data - 1, "data", &jo, err);
	if (!rc)
		rc = kd_tmpl_new(&t, kd_chart_funcs(), err);
	if (!rc)
		rc = kd_tmpl_parse(t, "deploy.yaml", text, len, err);
	if (!rc)
		rc = kd_tmpl_exec(t, "deploy.yaml", dot, out, err);
	kd_tmpl_free(t);
	kd_arena_free(&a);
	return rc;
}

static int render_chart(kd_chart *c, kd_buf *out, kd_err *err)
{
	static const kd_chart_opts opts = {.include_crds = true};
	kd_chart_result res;
	int rc;

	memset(&res, 0, sizeof res);
	rc = kd_chart_render(&res, c, NULL, &opts, err);
	if (!rc)
		rc = kd_chart_output(out, &res, &opts, err);
	kd_chart_result_free(&res);
	kd_chart_free(c);
	return rc;
}

static int run_chart(kd_buf *out, kd_err *err, const char *path)
{
	kd_chart *c = NULL;
	int rc = kd_chart_load(&c, path, err);

	return rc ? rc : render_chart(c, out, err);
}

static char *tgz;
static size_t tgz_len;

static int run_tgz(kd_buf *out, kd_err *err, const char *path)
{
	kd_chart *c = NULL;
	int rc = kd_chart_load_tgz(&c, tgz, tgz_len, path, err);

	return rc ? rc : render_chart(c, out, err);
}

/* ---- the sweep ---- */

typedef int scenario_fn(kd_buf *out, kd_err *err, const char *arg);

/* One run with allocation k failing (0: none): its rc, output in out. */
static int run_once(scenario_fn *fn, const char *arg, unsigned long k, kd_buf *out,
		    kd_err *err, long *leaked)
{
	long before;
	int rc;

	memset(err, 0, sizeof *err);
	kd_buf_free(out);
	kd_buf_init(out, 64u << 20);
	/* every run starts and ends with arenas' chunk cache empty */
	kd_arena_trim();
	before = live;
	calls = 0;
	failed = 0;
	fail_at = k;
	rc = fn(out, err, arg);
	fail_at = 0;
	kd_arena_trim();
	/* the output buffer is the caller's; what it holds is not a leak */
	*leaked = live - before - (out->cap > 0);
	return rc;
}

/* Where an output that should not differ does: the lines around. */
static void show_diff(const kd_buf *want, const kd_buf *got)
{
	const char *dump = getenv("OOM_DUMP"); /* a folder: both outputs there */
	size_t i = 0, from;

	if (dump) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof path, "%s/want", dump);
		if ((f = fopen(path, "wb"))) {
			fwrite(want->ptr, 1, want->len, f);
			fclose(f);
		}
		snprintf(path, sizeof path, "%s/got", dump);
		if ((f = fopen(path, "wb"))) {
			fwrite(got->ptr, 1, got->len, f);
			fclose(f);
		}
	}

	while (i < want->len && i < got->len && want->ptr[i] == got->ptr[i])
		i++;
	from = i > 60 ? i - 60 : 0;
	printf("# %zu bytes, want %zu; from byte %zu got \"%.*s\", want \"%.*s\"\n",
	       got->len, want->len, from, (int)((got->len - from) > 120 ? 120 : got->len - from),
	       got->ptr + from, (int)((want->len - from) > 120 ? 120 : want->len - from),
	       want->ptr + from);
}

static int says_memory(const kd_err *err)
{
	return err->code == KD_ENOMEM || strstr(err->msg, "out of memory") ||
	       strstr(err->msg, "not enough memory");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "", *arg = NULL;
	unsigned long n, k, step = 1, max = 0, only = 0, runs = 0, bad = 0, absorbed = 0;
	scenario_fn *fn = NULL;
	kd_buf ref = KD_BUF_INIT(64u << 20), out = KD_BUF_INIT(64u << 20);
	kd_err err;
	long leaked;
	int i, rc;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--max") && i + 1 < argc)
			max = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = strtoul(argv[++i], NULL, 10);
		else
			arg = argv[i];
	}
	if (!strcmp(name, "yaml"))
		fn = run_yaml;
	else if (!strcmp(name, "tmpl"))
		fn = run_tmpl;
	else if (!strcmp(name, "sprig"))
		fn = run_sprig;
	else if (!strcmp(name, "chart") && arg)
		fn = run_chart;
	else if (!strcmp(name, "tgz") && arg) {
		FILE *f = fopen(arg, "rb");
		static char buf[1 << 20];

		if (!f) {
			printf("Bail out! cannot open %s\n", arg);
			return 1;
		}
		tgz_len = fread(buf, 1, sizeof buf, f);
		tgz = buf;
		fclose(f);
		fn = run_tgz;
	}
	if (!fn) {
		fprintf(stderr, "usage: oom yaml|tmpl|sprig|chart PATH|tgz PATH [--max N]\n");
		return 2;
	}
	/* a first run warms what is made once (function tables), a second
	 * counts and gives the reference output */
	rc = run_once(fn, arg, 0, &ref, &err, &leaked);
	rc = run_once(fn, arg, 0, &ref, &err, &leaked);
	n = calls;
	if (!ok(rc == 0 && leaked == 0 && n > 0, "%s: a run without failures succeeds and frees "
		"everything (%lu allocations)", name, n)) {
		printf("# rc %d leaked %ld: %s\n", rc, leaked, err.msg);
		return tap_done();
	}
	if (max && n > max)
		step = (n + max - 1) / max;
	for (k = only ? only : 1; k <= n; k += step) {
		char *copy;

		runs++;
		rc = run_once(fn, arg, k, &out, &err, &leaked);
		if (!failed)
			continue; /* fewer allocations this time: nothing failed */
		if (rc == 0 && out.len == ref.len && !memcmp(out.ptr, ref.ptr, ref.len) && !leaked) {
			absorbed++;
			if (getenv("OOM_TRACE"))
				printf("# allocation %lu failed and was absorbed\n", k);
			continue;
		}
		if (rc != 0 && says_memory(&err) && !leaked)
			continue;
		if (++bad <= 10) {
			copy = strndup(err.msg, 200);
			ok(0, "%s: allocation %lu of %lu failing: rc %d, %ld blocks leaked, "
			   "output %s: %s", name, k, n, rc, leaked,
			   rc ? "none" : "differs", copy ? copy : "");
			free(copy);
			if (rc == 0)
				show_diff(&ref, &out);
		}
		if (only)
			break;
	}
	ok(bad == 0, "%s: each of %lu allocations failing in turn (%lu runs%s) gives a clear "
	   "out-of-memory error or the same output (%lu absorbed), and frees everything",
	   name, n, runs, step > 1 ? ", sampled" : "", absorbed);
	kd_buf_free(&ref);
	kd_buf_free(&out);
	return tap_done();
}
