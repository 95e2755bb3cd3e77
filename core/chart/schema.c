/* values.schema.json: JSON Schema (draft 7, the part Helm's gojsonschema
 * checks) over the final values. Every violation is reported, one line
 * each, as Helm words them: "- <path>: <message>" with "(root)" for the top
 * and dotted paths below it ("image.tag", "ports.0"). */
#include "chart/internal.h"

#include "base/limits.h"
#include "base/num.h"
#include "json/json.h"
#include "regex/regex.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vs {
	kd_arena *a;
	const kd_value *root; /* the schema document, for $ref */
	kd_buf *out;          /* NULL: count only */
	int count;
	int depth;
	int fatal;            /* an error that is not a violation */
	kd_err *err;
} vs;

static void report(vs *v, const kd_buf *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(vs *v, const kd_buf *path, const char *fmt, ...)
{
	va_list ap;

	v->count++;
	if (!v->out)
		return;
	kd_buf_printf(v->out, "- %s: ", path->len ? path->ptr : "(root)");
	va_start(ap, fmt);
	kd_buf_vprintf(v->out, fmt, ap);
	va_end(ap);
	kd_buf_putc(v->out, '\n');
}

static bool is_int(const kd_value *x)
{
	return x->type == KD_INT ||
	       (x->type == KD_FLOAT && isfinite(x->u.f) && x->u.f == floor(x->u.f));
}

static double num(const kd_value *x)
{
	return x->type == KD_INT ? (double)x->u.i : x->u.f;
}

static const char *json_type(const kd_value *x)
{
	switch (x->type) {
	case KD_NULL: return "null";
	case KD_BOOL: return "boolean";
	case KD_INT: return "integer";
	case KD_FLOAT: return is_int(x) ? "integer" : "number";
	case KD_STR: return "string";
	case KD_LIST: return "array";
	default: return "object";
	}
}

static bool type_ok(const char *t, const kd_value *x)
{
	const char *g = json_type(x);

	if (!strcmp(t, g))
		return true;
	return !strcmp(t, "number") && !strcmp(g, "integer");
}

static void fmt_num(char *b, size_t n, double d)
{
	kd_buf t = KD_BUF_INIT(64);

	kd_num_format_float(&t, d, 'g', -1);
	snprintf(b, n, "%s", t.ptr);
	kd_buf_free(&t);
}

static void json_text(kd_buf *b, const kd_value *x)
{
	kd_err e = KD_ERR_INIT;

	kd_json_encode(b, x, NULL, &e);
}

static const kd_value *resolve(vs *v, const char *ref)
{
	const kd_value *cur = v->root;
	const char *p;

	if (ref[0] != '#')
		return NULL;
	p = ref + 1;
	if (*p == '/')
		p++;
	else if (*p)
		return NULL;
	while (*p && cur) {
		char seg[256];
		size_t n = 0;

		while (*p && *p != '/' && n + 1 < sizeof seg) {
			if (p[0] == '~' && p[1] == '1') {
				seg[n++] = '/';
				p += 2;
			} else if (p[0] == '~' && p[1] == '0') {
				seg[n++] = '~';
				p += 2;
			} else {
				seg[n++] = *p++;
			}
		}
		seg[n] = 0;
		if (*p == '/')
			p++;
		if (cur->type == KD_MAP) {
			cur = kd_map_getz(cur, seg);
		} else if (cur->type == KD_LIST) {
			char *end;
			long i = strtol(seg, &end, 10);

			cur = (*end || i < 0 || (size_t)i >= cur->u.list.len) ? NULL
				: cur->u.list.items[i];
		} else {
			cur = NULL;
		}
	}
	return cur;
}

/* Go's regexp, which Helm's validator compiles patterns with, so a
 * pattern means the same here and is matched in linear time whatever the
 * chart's author wrote. A pattern Go refuses is skipped, as before. */
static int pattern_match(const char *pat, const char *s, bool *ok)
{
	kd_err err = KD_ERR_INIT;
	int rc = kd_regex_match(pat, strlen(pat), s, strlen(s), &err);

	if (rc < 0)
		return -1;
	*ok = rc == 1;
	return 0;
}

static size_t utf8_len(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static void validate(vs *v, const kd_value *s, const kd_value *x, kd_buf *path);

static int quiet(vs *v, const kd_value *s, const kd_value *x, kd_buf *path)
{
	vs q = *v;

	q.out = NULL;
	q.count = 0;
	validate(&q, s, x, path);
	if (q.fatal)
		v->fatal = q.fatal;
	return q.count;
}

static void push_path(kd_buf *path, const char *seg, size_t n)
{
	if (path->len)
		kd_buf_putc(path, '.');
	kd_buf_put(path, seg, n);
}

static void cut(kd_buf *path, size_t len)
{
	path->len = len;
	if (path->cap)
		path->ptr[len] = 0;
}

static void validate_object(vs *v, const kd_value *s, const kd_value *x, kd_buf *path)
{
	const kd_value *props = kd_map_getz(s, "properties");
	const kd_value *pprops = kd_map_getz(s, "patternProperties");
	const kd_value *addl = kd_map_getz(s, "additionalProperties");
	const kd_value *req = kd_map_getz(s, "required");
	const kd_value *k;
	size_t i, j, base = path->len;

	if (req && req->type == KD_LIST)
		for (i = 0; i < req->u.list.len; i++) {
			const kd_value *r = req->u.list.items[i];

			if (r->type == KD_STR && !kd_map_get(x, r->u.str.ptr, r->u.str.len))
				report(v, path, "%s is required", r->u.str.ptr);
		}
	if ((k = kd_map_getz(s, "minProperties")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    (double)x->u.map.len < num(k)) {
		char b[64];

		fmt_num(b, sizeof b, num(k));
		report(v, path, "Must have at least %s properties", b);
	}
	if ((k = kd_map_getz(s, "maxProperties")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    (double)x->u.map.len > num(k)) {
		char b[64];

		fmt_num(b, sizeof b, num(k));
		report(v, path, "Must have at most %s properties", b);
	}
	for (i = 0; i < x->u.map.len; i++) {
		const kd_map_ent *e = &x->u.map.ents[i];
		const kd_value *ps = props && props->type == KD_MAP
			? kd_map_get(props, e->key, e->klen) : NULL;
		bool matched = ps != NULL;

		push_path(path, e->key, e->klen);
		if (ps)
			validate(v, ps, e->val, path);
		for (j = 0; pprops && pprops->type == KD_MAP && j < pprops->u.map.len; j++) {
			bool ok = false;

			if (pattern_match(pprops->u.map.ents[j].key, e->key, &ok) == 0 && ok) {
				matched = true;
				validate(v, pprops->u.map.ents[j].val, e->val, path);
			}
		}
		cut(path, base);
		if (!matched && addl) {
			if (addl->type == KD_BOOL && !addl->u.b) {
				report(v, path, "Additional property %s is not allowed", e->key);
			} else if (addl->type == KD_MAP) {
				push_path(path, e->key, e->klen);
				validate(v, addl, e->val, path);
				cut(path, base);
			}
		}
	}
	if ((k = kd_map_getz(s, "propertyNames")) && k->type == KD_MAP)
		for (i = 0; i < x->u.map.len; i++) {
			kd_value name = {0};

			name.type = KD_STR;
			name.u.str.ptr = x->u.map.ents[i].key;
			name.u.str.len = x->u.map.ents[i].klen;
			if (quiet(v, k, &name, path))
				report(v, path, "Property name of \"%s\" does not match", x->u.map.ents[i].key);
		}
	if ((k = kd_map_getz(s, "dependencies")) && k->type == KD_MAP)
		for (i = 0; i < k->u.map.len; i++) {
			const kd_value *d = k->u.map.ents[i].val;

			if (!kd_map_get(x, k->u.map.ents[i].key, k->u.map.ents[i].klen))
				continue;
			if (d->type == KD_LIST) {
				for (j = 0; j < d->u.list.len; j++)
					if (d->u.list.items[j]->type == KD_STR &&
					    !kd_map_get(x, d->u.list.items[j]->u.str.ptr,
							d->u.list.items[j]->u.str.len))
						report(v, path, "Has a dependency on %s",
						       d->u.list.items[j]->u.str.ptr);
			} else {
				validate(v, d, x, path);
			}
		}
}

/* A hash of x's canonical form, the same for any two items
 * kd_value_equal finds equal (map order does not count, -0 is 0). */
static uint64_t value_hash(const kd_value *x, int depth)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)x->type, m;
	const unsigned char *p = NULL;
	size_t n = 0, i;
	double f;

	switch (x->type) {
	case KD_NULL: break;
	case KD_BOOL: h = h * 1099511628211ull + x->u.b; break;
	case KD_INT: h = h * 1099511628211ull + (uint64_t)x->u.i; break;
	case KD_FLOAT:
		f = x->u.f == 0 ? 0 : x->u.f;
		memcpy(&m, &f, sizeof m);
		h = h * 1099511628211ull + m;
		break;
	case KD_STR:
		p = (const unsigned char *)x->u.str.ptr;
		n = x->u.str.len;
		break;
	case KD_LIST:
		for (i = 0; i < x->u.list.len && depth < KD_LIMIT_DEPTH; i++)
			h = (h ^ value_hash(x->u.list.items[i], depth + 1)) * 1099511628211ull;
		break;
	case KD_MAP:
		/* a sum, so the order of the keys does not change it */
		for (m = 0, i = 0; i < x->u.map.len && depth < KD_LIMIT_DEPTH; i++) {
			const kd_map_ent *e = &x->u.map.ents[i];
			uint64_t eh = 1469598103934665603ull;

			for (size_t c = 0; c < e->klen; c++)
				eh = (eh ^ (unsigned char)e->key[c]) * 1099511628211ull;
			m += (eh ^ value_hash(e->val, depth + 1)) * 0x9e3779b97f4a7c15ull;
		}
		h ^= m;
		break;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

/* uniqueItems in expected linear time: the smallest i with a later equal
 * item and the first such j (what the pairwise scan finds), through a
 * hash table of first occurrences. */
static bool first_duplicate(vs *v, const kd_value *x, size_t *oi, size_t *oj)
{
	size_t n = x->u.list.len, cap = 16, i, j, bi = SIZE_MAX, bj = 0;
	uint64_t *hs;
	size_t *slot;

	while (cap < n * 2)
		cap *= 2;
	hs = malloc(n * sizeof *hs + 1);
	slot = malloc(cap * sizeof *slot);
	if (!hs || !slot) {
		free(hs);
		free(slot);
		v->fatal = kd_err_set(v->err, KD_ENOMEM, "out of memory");
		return false;
	}
	for (i = 0; i < cap; i++)
		slot[i] = SIZE_MAX;
	for (j = 0; j < n; j++) {
		size_t at;

		hs[j] = value_hash(x->u.list.items[j], 0);
		for (at = hs[j] & (cap - 1); slot[at] != SIZE_MAX; at = (at + 1) & (cap - 1))
			if (hs[slot[at]] == hs[j] &&
			    kd_value_equal(x->u.list.items[slot[at]], x->u.list.items[j]))
				break;
		if (slot[at] == SIZE_MAX)
			slot[at] = j;
		else if (slot[at] < bi) {
			bi = slot[at];
			bj = j;
		}
	}
	free(hs);
	free(slot);
	*oi = bi;
	*oj = bj;
	return bi != SIZE_MAX;
}

static void validate_array(vs *v, const kd_value *s, const kd_value *x, kd_buf *path)
{
	const kd_value *items = kd_map_getz(s, "items"), *k;
	size_t i, j, base = path->len;
	char b[64];

	for (i = 0; items && i < x->u.list.len; i++) {
		const kd_value *is = items;

		if (items->type == KD_LIST) {
			if (i >= items->u.list.len) {
				const kd_value *ai = kd_map_getz(s, "additionalItems");

				if (ai && ai->type == KD_BOOL && !ai->u.b) {
					report(v, path, "No additional items allowed on array");
					break;
				}
				if (!ai || ai->type != KD_MAP)
					break;
				is = ai;
			} else {
				is = items->u.list.items[i];
			}
		}
		snprintf(b, sizeof b, "%zu", i);
		push_path(path, b, strlen(b));
		validate(v, is, x->u.list.items[i], path);
		cut(path, base);
	}
	if ((k = kd_map_getz(s, "minItems")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    (double)x->u.list.len < num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "Array must have at least %s items", b);
	}
	if ((k = kd_map_getz(s, "maxItems")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    (double)x->u.list.len > num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "Array must have at most %s items", b);
	}
	if ((k = kd_map_getz(s, "uniqueItems")) && k->type == KD_BOOL && k->u.b &&
	    first_duplicate(v, x, &i, &j))
		report(v, path, "array items[%zu,%zu] must be unique", i, j);
	if ((k = kd_map_getz(s, "contains"))) {
		bool any = false;

		for (i = 0; i < x->u.list.len && !any; i++)
			any = quiet(v, k, x->u.list.items[i], path) == 0;
		if (!any)
			report(v, path, "At least one of the items must match");
	}
}

static void validate_string(vs *v, const kd_value *s, const kd_value *x, kd_buf *path)
{
	const kd_value *k;
	size_t n = utf8_len(x->u.str.ptr, x->u.str.len);
	char b[64];

	if ((k = kd_map_getz(s, "minLength")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    (double)n < num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "String length must be greater than or equal to %s", b);
	}
	if ((k = kd_map_getz(s, "maxLength")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    (double)n > num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "String length must be less than or equal to %s", b);
	}
	if ((k = kd_map_getz(s, "pattern")) && k->type == KD_STR) {
		bool ok = true;

		if (pattern_match(k->u.str.ptr, x->u.str.ptr, &ok) == 0 && !ok)
			report(v, path, "Does not match pattern '%s'", k->u.str.ptr);
	}
}

static void validate_number(vs *v, const kd_value *s, const kd_value *x, kd_buf *path)
{
	const kd_value *k;
	double d = num(x);
	char b[64];

	if ((k = kd_map_getz(s, "multipleOf")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    num(k) > 0) {
		double q = d / num(k);

		if (fabs(q - nearbyint(q)) > 1e-9) {
			fmt_num(b, sizeof b, num(k));
			report(v, path, "Must be a multiple of %s", b);
		}
	}
	if ((k = kd_map_getz(s, "minimum")) && (k->type == KD_INT || k->type == KD_FLOAT) && d < num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "Must be greater than or equal to %s", b);
	}
	if ((k = kd_map_getz(s, "maximum")) && (k->type == KD_INT || k->type == KD_FLOAT) && d > num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "Must be less than or equal to %s", b);
	}
	if ((k = kd_map_getz(s, "exclusiveMinimum")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    d <= num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "Must be greater than %s", b);
	}
	if ((k = kd_map_getz(s, "exclusiveMaximum")) && (k->type == KD_INT || k->type == KD_FLOAT) &&
	    d >= num(k)) {
		fmt_num(b, sizeof b, num(k));
		report(v, path, "Must be less than %s", b);
	}
}

static bool json_equal(const kd_value *a, const kd_value *b)
{
	if ((a->type == KD_INT || a->type == KD_FLOAT) && (b->type == KD_INT || b->type == KD_FLOAT))
		return num(a) == num(b);
	return kd_value_equal(a, b);
}

static void validate(vs *v, const kd_value *s, const kd_value *x, kd_buf *path)
{
	const kd_value *k, *t;
	size_t i;

	if (v->fatal)
		return;
	if (s->type == KD_BOOL) {
		if (!s->u.b)
			report(v, path, "False always fails validation");
		return;
	}
	if (s->type != KD_MAP)
		return;
	if (++v->depth > KD_LIMIT_DEPTH) {
		v->fatal = kd_err_set(v->err, KD_ELIMIT, "schema nested or recursive too deeply at %s",
				      path->len ? path->ptr : "(root)");
		v->depth--;
		return;
	}
	if ((k = kd_map_getz(s, "$ref")) && k->type == KD_STR) {
		const kd_value *rs = resolve(v, k->u.str.ptr);

		if (!rs)
			v->fatal = kd_err_set(v->err, KD_EINVAL, "cannot resolve $ref \"%s\"",
					      k->u.str.ptr);
		else
			validate(v, rs, x, path);
		v->depth--;
		return;
	}
	if ((t = kd_map_getz(s, "type"))) {
		bool ok = false;
		kd_buf want = KD_BUF_INIT(256);

		if (t->type == KD_STR) {
			ok = type_ok(t->u.str.ptr, x);
			kd_buf_puts(&want, t->u.str.ptr);
		} else if (t->type == KD_LIST) {
			for (i = 0; i < t->u.list.len; i++) {
				const kd_value *ti = t->u.list.items[i];

				if (ti->type != KD_STR)
					continue;
				ok = ok || type_ok(ti->u.str.ptr, x);
				kd_buf_printf(&want, "%s%s", want.len ? "," : "", ti->u.str.ptr);
			}
		} else {
			ok = true;
		}
		if (!ok) {
			report(v, path, "Invalid type. Expected: %s, given: %s", want.ptr, json_type(x));
			kd_buf_free(&want);
			v->depth--;
			return;
		}
		kd_buf_free(&want);
	}
	if ((k = kd_map_getz(s, "anyOf")) && k->type == KD_LIST) {
		bool any = false;

		for (i = 0; i < k->u.list.len && !any; i++)
			any = quiet(v, k->u.list.items[i], x, path) == 0;
		if (!any)
			report(v, path, "Must validate at least one schema (anyOf)");
	}
	if ((k = kd_map_getz(s, "oneOf")) && k->type == KD_LIST) {
		size_t good = 0;

		for (i = 0; i < k->u.list.len; i++)
			good += quiet(v, k->u.list.items[i], x, path) == 0;
		if (good != 1)
			report(v, path, "Must validate one and only one schema (oneOf)");
	}
	if ((k = kd_map_getz(s, "allOf")) && k->type == KD_LIST) {
		int before = v->count;

		for (i = 0; i < k->u.list.len; i++)
			validate(v, k->u.list.items[i], x, path);
		if (v->count != before)
			report(v, path, "Must validate all the schemas (allOf)");
	}
	if ((k = kd_map_getz(s, "not")) && quiet(v, k, x, path) == 0)
		report(v, path, "Must not validate the schema (not)");
	if ((k = kd_map_getz(s, "if"))) {
		const kd_value *th = kd_map_getz(s, "then"), *el = kd_map_getz(s, "else");

		if (quiet(v, k, x, path) == 0) {
			if (th && quiet(v, th, x, path)) {
				validate(v, th, x, path);
				report(v, path, "Must validate \"then\" as \"if\" was valid");
			}
		} else if (el && quiet(v, el, x, path)) {
			validate(v, el, x, path);
			report(v, path, "Must validate \"else\" as \"if\" was not valid");
		}
	}
	if ((k = kd_map_getz(s, "const")) && !json_equal(k, x)) {
		kd_buf b = KD_BUF_INIT(4096);

		json_text(&b, k);
		report(v, path, "%s does not match: %s", path->len ? path->ptr : "(root)", b.ptr);
		kd_buf_free(&b);
	}
	if ((k = kd_map_getz(s, "enum")) && k->type == KD_LIST) {
		bool hit = false;

		for (i = 0; i < k->u.list.len && !hit; i++)
			hit = json_equal(k->u.list.items[i], x);
		if (!hit) {
			kd_buf b = KD_BUF_INIT(8192);

			for (i = 0; i < k->u.list.len; i++) {
				if (i)
					kd_buf_puts(&b, ", ");
				json_text(&b, k->u.list.items[i]);
			}
			report(v, path, "%s must be one of the following: %s",
			       path->len ? path->ptr : "(root)", b.ptr);
			kd_buf_free(&b);
		}
	}
	switch (x->type) {
	case KD_MAP: validate_object(v, s, x, path); break;
	case KD_LIST: validate_array(v, s, x, path); break;
	case KD_STR: validate_string(v, s, x, path); break;
	case KD_INT: case KD_FLOAT: validate_number(v, s, x, path); break;
	default: break;
	}
	v->depth--;
}

int kd_chart_schema_validate(kd_buf *out, kd_arena *a, const char *schema,
			     size_t len, const kd_value *values, kd_err *err)
{
	kd_json_decode_opts o = {0};
	kd_value *s;
	kd_buf path = KD_BUF_INIT(4096);
	vs v;
	int rc;

	o.numbers_as_float = 1;
	rc = kd_json_decode(&s, a, schema, len, "values.schema.json", &o, err);
	if (rc)
		return rc;
	memset(&v, 0, sizeof v);
	v.a = a;
	v.root = s;
	v.out = out;
	v.err = err;
	validate(&v, s, values, &path);
	kd_buf_free(&path);
	if (v.fatal)
		return v.fatal;
	return v.count;
}
