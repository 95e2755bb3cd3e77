/* Fuzz target for values.schema.json validation (core/chart/schema.c):
 * the input is a schema (JSON) and values (YAML, as a values file reads)
 * separated by a NUL byte. Validation either fails with a code and a
 * message, or counts its violations, each reported as one "- " line. */
#include "fuzz.h"

#include "base/arena.h"
#include "base/buf.h"
#include "chart/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_part parts[2];
	size_t np = fz_split(data, size, parts, 2), lines = 0, i;
	kd_arena a = KD_ARENA_INIT(64u << 20);
	kd_buf out = KD_BUF_INIT(16u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *values = NULL;
	int rc;

	if (np < 2 || kd_chart_values_parse(&values, &a, parts[1].p, parts[1].n,
					    "values.yaml", &err))
		values = kd_value_map(&a, 0);
	if (!values)
		abort();
	memset(&err, 0, sizeof err);
	rc = kd_chart_schema_validate(&out, &a, parts[0].p, parts[0].n, values, &err);
	if (rc < 0) {
		fz_check_err(rc, &err);
	} else if (!out.failed) {
		for (i = 0; i + 1 < out.len; i++)
			if ((i == 0 || out.ptr[i - 1] == '\n') && out.ptr[i] == '-' &&
			    out.ptr[i + 1] == ' ')
				lines++;
		if ((rc == 0) != (out.len == 0) || lines < (size_t)(rc > 0))
			abort();
	}
	kd_buf_free(&out);
	kd_arena_free(&a);
	return 0;
}
