/* Fuzz target for values as `kedge render` gathers them: the input is cut
 * at NUL bytes into a values file (YAML, read as Helm reads values.yaml)
 * and up to seven --set expressions, each led by a byte that picks its
 * flag modulo 4 ("0" --set, "1" --set-string, "2" --set-json, "3"
 * --set-literal; --set-file reads a file and is left out). The
 * expressions apply in order to one map; then the file's values and that
 * map merge as two layers, and the result encodes as YAML and JSON.
 * Errors carry a code and a message. */
#include "fuzz.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/limits.h"
#include "chart/chart.h"
#include "json/json.h"
#include "yaml/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const kd_chart_set_kind kinds[] = {
		KD_CHART_SET, KD_CHART_SET_STRING, KD_CHART_SET_JSON,
		KD_CHART_SET_LITERAL,
	};
	fz_part parts[8];
	size_t np = fz_split(data, size, parts, 8), i;
	kd_arena a = KD_ARENA_INIT(64u << 20);
	kd_buf out = KD_BUF_INIT(16u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *file = NULL, *set = kd_value_map(&a, 0), *layers[2], *all;
	int rc;

	if (!set)
		abort();
	rc = kd_chart_values_parse(&file, &a, parts[0].p, parts[0].n, "values.yaml", &err);
	if (rc) {
		fz_check_err(rc, &err);
		file = kd_value_map(&a, 0);
	}
	for (i = 1; i < np; i++) {
		char *expr;

		if (!parts[i].n)
			continue;
		expr = fz_strdup(&(fz_part){parts[i].p + 1, parts[i].n - 1});
		memset(&err, 0, sizeof err);
		rc = kd_chart_values_set(&a, set, expr, kinds[(uint8_t)parts[i].p[0] % 4], &err);
		if (rc)
			fz_check_err(rc, &err);
		free(expr);
	}
	layers[0] = file;
	layers[1] = set;
	rc = kd_chart_values_layers(&all, &a, layers, 2, &err);
	if (rc) {
		fz_check_err(rc, &err);
		goto cleanup;
	}
	if (kd_yaml_encode(&out, all, NULL, &err) && !out.failed && !a.failed)
		abort();
	kd_buf_reset(&out);
	/* JSON has no infinities or NaN (.inf in YAML): a refusal with a
	 * message, as Go's encoder gives */
	memset(&err, 0, sizeof err);
	rc = kd_json_encode(&out, all, NULL, &err);
	if (rc)
		fz_check_err(rc, &err);
cleanup:
	kd_buf_free(&out);
	kd_arena_free(&a);
	return 0;
}
