/* Values as `helm template` gathers them: values files (YAML, numbers as
 * float64), merged file after file, and the --set family in the syntax of
 * Helm's strvals package. */
#include "chart/internal.h"

#include "base/fs.h"
#include "base/limits.h"
#include "json/json.h"
#include "yaml/yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INDEX 65536
#define MAX_NESTED_NAME_LEVEL 30

int kd_chart_values_parse(kd_value **out, kd_arena *a, const char *text,
			  size_t len, const char *name, kd_err *err)
{
	kd_yaml_decode_opts o = {0};
	kd_value *v;
	int rc;

	o.numbers_as_float = 1;
	/* go-yaml reads the first document and ignores the others */
	rc = kd_yaml_decode_all(&v, a, text, len, name, &o, err);
	if (rc)
		return rc;
	v = v->u.list.len ? v->u.list.items[0] : kd_value_null(a);
	if (!v)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	if (v->type == KD_NULL)
		v = kd_value_map(a, 0);
	if (!v)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	if (v->type != KD_MAP)
		return kd_err_set(err, KD_EPARSE,
				  "%s: error unmarshaling JSON: json: cannot unmarshal %s into Go value of type map[string]interface {}",
				  name, v->type == KD_LIST ? "array" : v->type == KD_STR ? "string" :
				  v->type == KD_BOOL ? "bool" : "number");
	*out = v;
	return 0;
}

/* src into dst: maps merge recursively, anything else replaces. */
static int merge_into(kd_arena *a, kd_value *dst, const kd_value *src)
{
	size_t i;

	for (i = 0; i < src->u.map.len; i++) {
		const kd_map_ent *e = &src->u.map.ents[i];
		kd_value *cur = kd_map_get(dst, e->key, e->klen);

		if (e->val->type == KD_MAP && cur && cur->type == KD_MAP) {
			int rc = merge_into(a, cur, e->val);

			if (rc)
				return rc;
			continue;
		}
		if (kd_map_set(a, dst, e->key, e->klen, e->val))
			return KD_ENOMEM;
	}
	return 0;
}

int kd_chart_values_layers(kd_value **out, kd_arena *a, kd_value *const *layers,
			   size_t n, kd_err *err)
{
	kd_value *cur = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (layers[i]->type != KD_MAP) {
			cur = layers[i];
			continue;
		}
		if (!cur || cur->type != KD_MAP) {
			cur = kd_value_map(a, layers[i]->u.map.len);
			if (!cur)
				return kd_err_set(err, KD_ENOMEM, "out of memory");
		}
		if (merge_into(a, cur, layers[i]))
			return kd_err_set(err, KD_ENOMEM, "out of memory");
	}
	if (!cur)
		cur = kd_value_map(a, 0);
	if (!cur)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	*out = cur;
	return 0;
}

/* chartutil's coalesceTablesFullKey: dst has precedence; src fills in.
 * Without merge a null in dst deletes the key. */
void kd_chart_coalesce_tables(kd_arena *a, kd_value *dst, const kd_value *src,
			      bool merge)
{
	size_t i;

	if (!src || !dst)
		return;
	for (i = 0; i < src->u.map.len; i++) {
		const kd_map_ent *e = &src->u.map.ents[i];
		kd_value *dv = kd_map_get(dst, e->key, e->klen);

		if (dv && !merge && dv->type == KD_NULL)
			kd_map_del(a, dst, e->key, e->klen);
		else if (!dv)
			kd_map_set(a, dst, e->key, e->klen, e->val);
		else if (e->val->type == KD_MAP && dv->type == KD_MAP)
			kd_chart_coalesce_tables(a, dv, e->val, merge);
	}
}

/* ---- strvals ---- */

typedef struct sv {
	kd_arena *a;
	const char *s;
	size_t pos, len;
	kd_chart_set_kind kind;
	kd_err *err;
	int lists; /* [i] nesting of the key being read */
} sv;

enum { SV_EOF = 1 };

/* Reads up to one of the stop characters, unescaping '\'. Returns the
 * stop character, or -1 at the end of input. */
static int until(sv *p, const char *stop, kd_buf *b)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos++];

		if (strchr(stop, c) && c)
			return (unsigned char)c;
		if (c == '\\') {
			if (p->pos >= p->len)
				return -1;
			c = p->s[p->pos++];
		}
		kd_buf_putc(b, c);
	}
	return -1;
}

static bool eqfold(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static kd_value *typed(sv *p, const char *v, size_t n)
{
	kd_arena *a = p->a;

	if (p->kind == KD_CHART_SET_STRING)
		return kd_value_str(a, v, n);
	if (p->kind == KD_CHART_SET_FILE) {
		kd_buf b = KD_BUF_INIT(KD_LIMIT_DOC_BYTES);
		kd_value *r;

		if (kd_fs_read_file(v, KD_LIMIT_DOC_BYTES, &b, p->err)) {
			kd_buf_free(&b);
			return NULL;
		}
		r = kd_value_str(a, b.ptr, b.len);
		kd_buf_free(&b);
		return r;
	}
	if (eqfold(v, "true"))
		return kd_value_bool(a, true);
	if (eqfold(v, "false"))
		return kd_value_bool(a, false);
	if (eqfold(v, "null"))
		return kd_value_null(a);
	if (!strcmp(v, "0"))
		return kd_value_int(a, 0);
	if (n && v[0] != '0') {
		char *end;
		long long iv;

		errno = 0;
		iv = strtoll(v, &end, 10);
		if (!errno && *end == 0 && end != v &&
		    (v[0] == '-' || v[0] == '+' || (v[0] >= '0' && v[0] <= '9')))
			return kd_value_int(a, iv);
	}
	return kd_value_str(a, v, n);
}

static void put(sv *p, kd_value *m, const char *k, size_t kl, kd_value *v)
{
	if (kl == 0)
		return;
	kd_map_set(p->a, m, k, kl, v);
}

static bool empty_val(sv *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c == ',') {
			p->pos++;
			return true;
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f')
			return false;
		p->pos++;
	}
	return true;
}

/* The extent of one JSON value at p->pos (what json.Decoder consumes). */
static int json_value(sv *p, kd_value **out)
{
	size_t i = p->pos, depth = 0;
	bool str = false;
	kd_json_decode_opts o = {0};

	while (i < p->len && strchr(" \t\r\n", p->s[i]))
		i++;
	for (; i < p->len; i++) {
		char c = p->s[i];

		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"') {
				str = false;
				if (!depth) {
					i++;
					break;
				}
			}
			continue;
		}
		if (c == '"') {
			str = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (!depth)
				break;
			if (--depth == 0) {
				i++;
				break;
			}
		} else if (!depth && (c == ',' || c == ' ' || c == '\t' || c == '\n')) {
			break;
		}
	}
	o.numbers_as_float = 1;
	if (kd_json_decode(out, p->a, p->s + p->pos, i - p->pos, "--set-json", &o, p->err))
		return p->err->code;
	p->pos = i;
	return 0;
}

static int val_list(sv *p, kd_value **out)
{
	kd_value *l;
	kd_buf b = KD_BUF_INIT(KD_LIMIT_DOC_BYTES);

	if (p->pos >= p->len)
		return SV_EOF;
	if (p->s[p->pos] != '{')
		return 2;
	p->pos++;
	l = kd_value_list(p->a, 4);
	for (;;) {
		int last;

		kd_buf_reset(&b);
		last = until(p, ",}", &b);
		if (last < 0) {
			kd_buf_free(&b);
			return kd_err_set(p->err, KD_EPARSE, "list must terminate with '}'");
		}
		{
			kd_value *v = typed(p, b.ptr, b.len);

			if (!v) {
				kd_buf_free(&b);
				return p->err->code ? p->err->code : KD_ENOMEM;
			}
			kd_list_push(p->a, l, v);
		}
		if (last == '}') {
			if (p->pos < p->len && p->s[p->pos] == ',')
				p->pos++;
			break;
		}
	}
	kd_buf_free(&b);
	*out = l;
	return 0;
}

/* The value after '=': returns 0 with *out set, SV_EOF at the end. */
static int value(sv *p, kd_value **out)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_DOC_BYTES);
	int rc, last;

	if (p->kind == KD_CHART_SET_JSON) {
		if (empty_val(p)) {
			*out = kd_value_null(p->a);
			return 0;
		}
		rc = json_value(p, out);
		if (!rc)
			empty_val(p);
		return rc;
	}
	if (p->kind == KD_CHART_SET_LITERAL) {
		*out = kd_value_str(p->a, p->s + p->pos, p->len - p->pos);
		p->pos = p->len;
		return 0;
	}
	rc = val_list(p, out);
	if (rc == 0)
		return 0;
	if (rc == SV_EOF) {
		*out = kd_value_str(p->a, "", 0);
		return 0;
	}
	if (rc != 2)
		return rc;
	last = until(p, ",", &b);
	(void)last;
	*out = typed(p, b.ptr, b.len);
	kd_buf_free(&b);
	if (!*out)
		return p->err->code ? p->err->code : KD_ENOMEM;
	return 0;
}

static int key(sv *p, kd_value *data, int level);

static int key_index(sv *p, long *out)
{
	kd_buf b = KD_BUF_INIT(64);
	char *end;
	int last = until(p, "]", &b);

	if (last < 0) {
		kd_buf_free(&b);
		return kd_err_set(p->err, KD_EPARSE, "error parsing index: unexpected end");
	}
	errno = 0;
	*out = strtol(b.ptr, &end, 10);
	if (errno || *end || end == b.ptr) {
		kd_err_set(p->err, KD_EPARSE, "error parsing index: strconv.Atoi: parsing \"%.64s\"%s: invalid syntax",
			   b.ptr, b.len > 64 ? " (cut)" : "");
		kd_buf_free(&b);
		return KD_EPARSE;
	}
	kd_buf_free(&b);
	return 0;
}

static int set_index(sv *p, kd_value *list, long i, kd_value *v)
{
	if (i < 0)
		return kd_err_set(p->err, KD_EINVAL, "negative %ld index not allowed", i);
	if (i > MAX_INDEX)
		return kd_err_set(p->err, KD_ELIMIT,
				  "index of %ld is greater than maximum supported index of %d", i, MAX_INDEX);
	while (list->u.list.len <= (size_t)i)
		if (kd_list_push(p->a, list, kd_value_null(p->a)))
			return kd_err_set(p->err, KD_ENOMEM, "out of memory");
	list->u.list.items[i] = v;
	return 0;
}

static int list_item(sv *p, kd_value *list, long i, int level)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_DOC_BYTES);
	int last, rc;

	if (i < 0)
		return kd_err_set(p->err, KD_EINVAL, "negative %ld index not allowed", i);
	last = p->kind == KD_CHART_SET_LITERAL ? until(p, "[.=", &b) : until(p, "[.=", &b);
	if (b.len) {
		kd_err_set(p->err, KD_EPARSE, "unexpected data at end of array index: \"%.64s\"%s", b.ptr,
			   b.len > 64 ? " (cut)" : "");
		kd_buf_free(&b);
		return KD_EPARSE;
	}
	kd_buf_free(&b);
	if (last < 0)
		return SV_EOF;
	if (last == '=') {
		kd_value *v;

		rc = value(p, &v);
		if (rc)
			return rc;
		return set_index(p, list, i, v);
	}
	if (last == '[') {
		long ni;
		kd_value *cur = NULL;

		rc = key_index(p, &ni);
		if (rc)
			return rc;
		/* the value must stay within what YAML, JSON and the renderer
		 * take (the root map and the named levels count too) */
		if (p->lists + level + 2 >= KD_LIMIT_DEPTH)
			return kd_err_set(p->err, KD_ELIMIT,
					  "lists nested more than %d deep (KD_LIMIT_DEPTH)",
					  KD_LIMIT_DEPTH);
		if (list->u.list.len > (size_t)i && list->u.list.items[i]->type == KD_LIST)
			cur = list->u.list.items[i];
		else if (list->u.list.len > (size_t)i && list->u.list.items[i]->type != KD_NULL)
			return kd_err_set(p->err, KD_ETYPE, "index %ld is not a list", i);
		if (!cur)
			cur = kd_value_list(p->a, 4);
		p->lists++;
		rc = list_item(p, cur, ni, level);
		p->lists--;
		if (rc)
			return rc;
		return set_index(p, list, i, cur);
	}
	{
		kd_value *inner = NULL;

		if (list->u.list.len > (size_t)i && list->u.list.items[i]->type == KD_MAP)
			inner = list->u.list.items[i];
		if (!inner)
			inner = kd_value_map(p->a, 4);
		rc = key(p, inner, level);
		if (rc)
			return rc;
		return set_index(p, list, i, inner);
	}
}

static int key(sv *p, kd_value *data, int level)
{
	kd_buf k = KD_BUF_INIT(KD_LIMIT_DOC_BYTES);
	int last, rc = 0;

	last = until(p, p->kind == KD_CHART_SET_LITERAL ? "=[." : "=[,.", &k);
	if (last < 0) {
		if (k.len)
			rc = kd_err_set(p->err, KD_EPARSE, "key \"%.64s\" has no value", k.ptr);
		else
			rc = SV_EOF;
	} else if (last == '=') {
		kd_value *v;

		rc = value(p, &v);
		if (!rc)
			put(p, data, k.ptr, k.len, v);
	} else if (last == ',') {
		put(p, data, k.ptr, k.len, kd_value_str(p->a, "", 0));
		rc = kd_err_set(p->err, KD_EPARSE, "key \"%.64s\" has no value (cannot end with ,)", k.ptr);
	} else if (last == '[') {
		long i;
		kd_value *list = kd_map_get(data, k.ptr, k.len);

		rc = key_index(p, &i);
		if (!rc) {
			if (list && list->type != KD_LIST && list->type != KD_NULL)
				rc = kd_err_set(p->err, KD_ETYPE, "key \"%s\" is not a list", k.ptr);
			else {
				if (!list || list->type != KD_LIST)
					list = kd_value_list(p->a, 4);
				rc = list_item(p, list, i, level);
				put(p, data, k.ptr, k.len, list);
			}
		}
	} else {
		kd_value *inner = kd_map_get(data, k.ptr, k.len);

		if (++level > MAX_NESTED_NAME_LEVEL) {
			rc = kd_err_set(p->err, KD_ELIMIT,
					"value name nested level is greater than maximum supported nested level of %d",
					MAX_NESTED_NAME_LEVEL);
		} else if (inner && inner->type != KD_MAP) {
			rc = kd_err_set(p->err, KD_ETYPE,
					"key \"%.64s\" is not a map and cannot hold \"%.64s\"", k.ptr,
					p->s + p->pos);
		} else {
			if (!inner)
				inner = kd_value_map(p->a, 4);
			rc = key(p, inner, level);
			if (rc == 0 && inner->u.map.len == 0)
				rc = kd_err_set(p->err, KD_EPARSE, "key map \"%.64s\" has no value", k.ptr);
			if (inner->u.map.len)
				put(p, data, k.ptr, k.len, inner);
		}
	}
	kd_buf_free(&k);
	return rc;
}

int kd_chart_values_set(kd_arena *a, kd_value *base, const char *expr,
			kd_chart_set_kind kind, kd_err *err)
{
	sv p;
	static const char *const flag[] = {"--set", "--set-string", "--set-json",
					   "--set-file", "--set-literal"};
	int rc;

	memset(&p, 0, sizeof p);
	p.a = a;
	p.s = expr;
	p.len = strlen(expr);
	p.kind = kind;
	p.err = err;
	if (kind == KD_CHART_SET_JSON) {
		const char *t = expr;

		while (*t == ' ' || *t == '\t' || *t == '\n')
			t++;
		if (*t == '{') {
			kd_value *m;
			kd_json_decode_opts o = {0};

			o.numbers_as_float = 1;
			/* the reason, not the input, which may be megabytes */
			if (kd_json_decode(&m, a, t, strlen(t), "--set-json", &o, err)) {
				kd_err_prefix(err, "failed parsing --set-json data JSON");
				return err->code;
			}
			if (m->type != KD_MAP)
				return kd_err_set(err, KD_EPARSE,
						  "failed parsing --set-json data JSON: not an object");
			return merge_into(a, base, m);
		}
	}
	for (;;) {
		rc = key(&p, base, 0);
		if (rc == SV_EOF)
			return 0;
		if (rc) {
			/* Helm's words; the expression itself is left out, as
			 * it can be larger than the message and push the
			 * reason out */
			kd_err_prefix(err, "failed parsing %s data", flag[kind]);
			return rc;
		}
		if (kind == KD_CHART_SET_LITERAL)
			return 0;
	}
}
