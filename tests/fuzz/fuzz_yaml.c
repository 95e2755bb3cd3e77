/* Fuzz target for core/yaml: whatever decodes must encode, and the encoded
 * text must decode to an equal value.
 *
 * The round trip runs in numbers_as_float mode: go-yaml v2 (and so kedge)
 * prints the float 1.0 as "1", which reads back as an int, so in int mode
 * the types legitimately differ. The check is skipped for the other lossy
 * cases: NaN (never equal to itself) and a map key "<<", which go-yaml v2
 * writes unquoted and so reads back as a merge; the byte comparison also
 * for -0.0, printed "-0", which reads back as 0. Running out of arena or
 * output space is a limit doing its job, not a failure. */
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/value.h"
#include "yaml/yaml.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lossy(const kd_value *v, int bytes)
{
	size_t i;

	switch (v->type) {
	case KD_FLOAT:
		return isnan(v->u.f) || (bytes && v->u.f == 0 && signbit(v->u.f));
	case KD_LIST:
		for (i = 0; i < v->u.list.len; i++)
			if (lossy(v->u.list.items[i], bytes))
				return 1;
		return 0;
	case KD_MAP:
		for (i = 0; i < v->u.map.len; i++) {
			const kd_map_ent *e = &v->u.map.ents[i];

			if ((e->klen == 2 && !memcmp(e->key, "<<", 2)) ||
			    lossy(e->val, bytes))
				return 1;
		}
		return 0;
	default: return 0;
	}
}

/* A failure that is a resource limit being reached, not a bug. */
static int resource_limit(const kd_arena *a, const kd_buf *b)
{
	return a->failed || b->failed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A smaller alias budget than the default keeps each run fast; the
	 * limit itself is what is being exercised. */
	kd_yaml_decode_opts ints = {.max_alias_nodes = 100000};
	kd_yaml_decode_opts floats = {.numbers_as_float = 1,
				      .max_alias_nodes = 100000};
	kd_yaml_encode_opts sorted = {.sort_keys = 1};
	kd_arena a = KD_ARENA_INIT(256u << 20);
	kd_buf out = KD_BUF_INIT(64u << 20);
	kd_buf out2 = KD_BUF_INIT(64u << 20);
	kd_err err = KD_ERR_INIT;
	const char *text = (const char *)data;
	kd_value *v = NULL, *again = NULL;

	if (kd_yaml_decode(&v, &a, text, size, "fuzz", &ints, &err) == 0 &&
	    kd_yaml_encode(&out, v, &sorted, &err) != 0 &&
	    !resource_limit(&a, &out))
		abort();
	kd_buf_reset(&out);
	if (kd_yaml_decode_all(&v, &a, text, size, "fuzz", &floats, &err))
		goto cleanup;
	if (kd_yaml_encode_all(&out, v, NULL, &err)) {
		if (!resource_limit(&a, &out))
			abort();
		goto cleanup;
	}
	if (kd_yaml_decode_all(&again, &a, out.ptr, out.len, "fuzz-again",
			       &floats, &err)) {
		if (!a.failed && !lossy(v, 0))
			abort();
		goto cleanup;
	}
	if (!lossy(v, 0) && !kd_value_equal(v, again))
		abort();
	/* Encoding what was decoded from the encoder's own output gives the
	 * same bytes again. */
	if (kd_yaml_encode_all(&out2, again, NULL, &err)) {
		if (!resource_limit(&a, &out2))
			abort();
		goto cleanup;
	}
	if (!lossy(v, 1) &&
	    (out.len != out2.len || memcmp(out.ptr, out2.ptr, out.len)))
		abort();
cleanup:
	kd_buf_free(&out);
	kd_buf_free(&out2);
	kd_arena_free(&a);
	return 0;
}
