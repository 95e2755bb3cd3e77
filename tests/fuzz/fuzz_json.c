/* Fuzz target for core/json. Whatever decodes must encode, and the encoding
 * must decode to the same value: exactly with numbers_as_float; otherwise an
 * int and a float count as the same number when the int converts to that
 * float (the float 2.0 prints as "2", and 925678901234567936.0 as
 * "925678901234568000", both of which read back as ints). Errors must be
 * the documented codes with a message. */
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/value.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool same_number(const kd_value *x, const kd_value *y)
{
	if (x->type == KD_FLOAT)
		return same_number(y, x);
	return (double)x->u.i == y->u.f;
}

static bool same(const kd_value *x, const kd_value *y, int depth)
{
	size_t i;

	if (depth > KD_LIMIT_DEPTH)
		return false;
	if ((x->type == KD_INT && y->type == KD_FLOAT) ||
	    (x->type == KD_FLOAT && y->type == KD_INT))
		return same_number(x, y);
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case KD_LIST:
		if (x->u.list.len != y->u.list.len)
			return false;
		for (i = 0; i < x->u.list.len; i++)
			if (!same(x->u.list.items[i], y->u.list.items[i], depth + 1))
				return false;
		return true;
	case KD_MAP:
		if (x->u.map.len != y->u.map.len)
			return false;
		for (i = 0; i < x->u.map.len; i++) {
			const kd_map_ent *e = &x->u.map.ents[i];
			const kd_value *o = kd_map_get(y, e->key, e->klen);

			if (!o || !same(e->val, o, depth + 1))
				return false;
		}
		return true;
	default:
		return kd_value_equal(x, y);
	}
}

static void roundtrip(kd_arena *a, const kd_value *v,
		      const kd_json_decode_opts *dopts,
		      const kd_json_encode_opts *eopts)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_err err = KD_ERR_INIT;
	kd_value *w;

	if (kd_json_encode(&b, v, eopts, &err))
		abort();
	if (kd_json_decode(&w, a, b.ptr, b.len, "re", dopts, &err))
		abort();
	if (dopts->numbers_as_float ? !kd_value_equal(v, w) : !same(v, w, 0))
		abort();
	kd_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const kd_json_decode_opts modes[] = {
		{.numbers_as_float = 0},
		{.numbers_as_float = 1},
	};
	static const kd_json_encode_opts pretty = {
		.indent = 2, .sort_keys = 1, .escape_html = 1,
	};
	kd_arena a = KD_ARENA_INIT(256u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *v;
	size_t m;
	int rc;

	for (m = 0; m < 2; m++) {
		rc = kd_json_decode(&v, &a, (const char *)data, size, "fuzz",
				    &modes[m], &err);
		if (rc) {
			if (v || err.code != rc || strncmp(err.msg, "fuzz:", 5) ||
			    (rc != KD_EPARSE && rc != KD_ELIMIT))
				abort();
			continue;
		}
		roundtrip(&a, v, &modes[m], NULL);
		roundtrip(&a, v, &modes[m], &pretty);
	}
	kd_arena_free(&a);
	return 0;
}
