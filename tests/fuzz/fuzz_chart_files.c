/* Fuzz target for a chart's own files as the directory loader reads them:
 * the input is cut at NUL bytes into Chart.yaml, values.yaml, Chart.lock,
 * .helmignore, requirements.yaml, a subchart's Chart.yaml (charts/sub/),
 * a subchart's values.yaml and a template, written into a scratch folder
 * (an empty part leaves its file out) next to a few fixed files the
 * .helmignore rules can match. A chart that loads is rendered, which
 * reads what Chart.yaml says: dependencies, conditions, tags, aliases,
 * import-values, kubeVersion. Errors carry a code and a message. */
#include "fuzz.h"

#include "chart/chart.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[] = {
	"Chart.yaml", "values.yaml", "Chart.lock", ".helmignore",
	"requirements.yaml", "charts/sub/Chart.yaml", "charts/sub/values.yaml",
	"templates/fuzz.yaml",
};
#define NPARTS (sizeof names / sizeof names[0])

static const char *const fixed[][2] = {
	{"templates/cm.yaml",
	 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
	 "data:\n  v: {{ toJson .Values | quote }}\n"},
	{"templates/_helpers.tpl", "{{ define \"x\" }}{{ .Chart.Name }}{{ end }}"},
	{"templates/NOTES.txt", "{{ include \"x\" . }}"},
	{"files/a.txt", "a\n"},
	{"files/b/c.conf", "c\n"},
	{"charts/sub/templates/s.yaml",
	 "kind: Secret\nmetadata:\n  name: {{ .Values.name | default \"s\" }}\n"},
	{"crds/crd.yaml", "kind: CustomResourceDefinition\n"},
};

static char dir[64];

static void put(const char *name, const char *p, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	if (!p)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n || close(fd))
		abort();
}

static void setup(void)
{
	static const char *const dirs[] = {
		"templates", "files", "files/b", "charts", "charts/sub",
		"charts/sub/templates", "crds",
	};
	char path[256];
	size_t i;

	snprintf(dir, sizeof dir, "/tmp/kedge-fuzz-chart-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, dirs[i]);
		if (mkdir(path, 0755))
			abort();
	}
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		put(fixed[i][0], fixed[i][1], strlen(fixed[i][1]));
}

static void cleanup_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const kd_chart_opts opts = {.include_crds = true};
	fz_part parts[NPARTS];
	size_t np = fz_split(data, size, parts, NPARTS), i;
	kd_err err = KD_ERR_INIT;
	kd_chart_result res;
	kd_buf out = KD_BUF_INIT(1u << 20);
	kd_chart *c = NULL;
	int rc;

	if (!dir[0]) {
		setup();
		atexit(cleanup_dir);
	}
	for (i = 0; i < NPARTS; i++)
		put(names[i], i < np && parts[i].n ? parts[i].p : NULL,
		    i < np ? parts[i].n : 0);
	rc = kd_chart_load(&c, dir, &err);
	if (rc) {
		fz_check_err(rc, &err);
		return 0;
	}
	memset(&res, 0, sizeof res);
	rc = kd_chart_render(&res, c, NULL, &opts, &err);
	if (rc) {
		fz_check_err(rc, &err);
		if (res.ndocs)
			abort();
	} else {
		rc = kd_chart_output(&out, &res, &opts, &err);
		if (rc)
			fz_check_err(rc, &err);
	}
	kd_chart_result_free(&res);
	kd_buf_free(&out);
	kd_chart_free(c);
	return 0;
}
