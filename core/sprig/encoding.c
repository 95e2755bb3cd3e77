/* Sprig's and Helm's encodings: base64 and base32, toJson and its raw,
 * pretty and must forms, toYaml, fromYaml, fromJson and their Array forms,
 * and toToml. */
#include "sprig/internal.h"

#include "base/limits.h"
#include "base/num.h"
#include "json/json.h"
#include "yaml/yaml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64c[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

FN(f_b64enc)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const unsigned char *s = (const unsigned char *)argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;

	(void)argc;
	for (i = 0; i + 2 < n; i += 3) {
		kd_buf_putc(&b, b64c[s[i] >> 2]);
		kd_buf_putc(&b, b64c[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kd_buf_putc(&b, b64c[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)]);
		kd_buf_putc(&b, b64c[s[i + 2] & 63]);
	}
	if (n - i == 1) {
		kd_buf_putc(&b, b64c[s[i] >> 2]);
		kd_buf_putc(&b, b64c[(s[i] & 3) << 4]);
		kd_buf_puts(&b, "==");
	} else if (n - i == 2) {
		kd_buf_putc(&b, b64c[s[i] >> 2]);
		kd_buf_putc(&b, b64c[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kd_buf_putc(&b, b64c[(s[i + 1] & 15) << 2]);
		kd_buf_putc(&b, '=');
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_b64dec)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;
	unsigned acc = 0;
	int bits = 0, pad = 0;

	(void)argc;
	for (i = 0; i < n; i++) {
		const char *p;

		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		p = s[i] ? strchr(b64c, s[i]) : NULL;
		if (!p || pad) {
			char m[80];

			kd_buf_free(&b);
			snprintf(m, sizeof m, "illegal base64 data at input byte %zu", i);
			return kd_tmpl_str(x, m, strlen(m));
		}
		acc = (acc << 6) | (unsigned)(p - b64c);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			kd_buf_putc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	return kd_tmpl_buf_value(x, &b);
}

static bool is_chart(kd_tmpl_ex *x, const kd_value *v)
{
	return v && v->type == KD_MAP && kd_map_getz(v, "APIVersion") &&
	       kd_tmpl_obj_kind(x, v) == KD_TMPL_OBJ_STRUCT;
}

/* Values Go encodes by their own rules: a chart's metadata (a struct
 * with JSON field names), Sprig's versions and times (MarshalJSON) */
static bool has_chart(kd_tmpl_ex *x, const kd_value *v, int depth)
{
	size_t i;

	if (!v || depth > 100)
		return false;
	if (is_chart(x, v) || kd_sprig_obj_kind(x, v))
		return true;
	if (v->type == KD_LIST)
		for (i = 0; i < v->u.list.len; i++)
			if (has_chart(x, v->u.list.items[i], depth + 1))
				return true;
	if (v->type == KD_MAP)
		for (i = 0; i < v->u.map.len; i++)
			if (has_chart(x, v->u.map.ents[i].val, depth + 1))
				return true;
	return false;
}

static bool json_empty(const kd_value *v)
{
	if (kd_sprig_isnil(v))
		return true;
	switch (v->type) {
	case KD_BOOL: return !v->u.b;
	case KD_STR: return v->u.str.len == 0;
	case KD_LIST: return v->u.list.len == 0;
	case KD_MAP: return v->u.map.len == 0;
	default: return false;
	}
}

typedef struct json_field {
	const char *go, *json;
	bool omitempty;
	const struct json_field *elem; /* a list of these structs */
} json_field;

#define F(go, json, omit) {go, json, omit, NULL}
static const json_field maintainer_fields[] = {
	F("Name", "name", true), F("Email", "email", true), F("URL", "url", true),
	F(NULL, NULL, false),
};
static const json_field dependency_fields[] = {
	F("Name", "name", false), F("Version", "version", true),
	F("Repository", "repository", false), F("Condition", "condition", true),
	F("Tags", "tags", true), F("Enabled", "enabled", true),
	F("ImportValues", "import-values", true), F("Alias", "alias", true),
	F(NULL, NULL, false),
};
static const json_field metadata_fields[] = {
	F("Name", "name", true), F("Home", "home", true),
	F("Sources", "sources", true), F("Version", "version", true),
	F("Description", "description", true), F("Keywords", "keywords", true),
	{"Maintainers", "maintainers", true, maintainer_fields},
	F("Icon", "icon", true), F("APIVersion", "apiVersion", true),
	F("Condition", "condition", true), F("Tags", "tags", true),
	F("AppVersion", "appVersion", true), F("Deprecated", "deprecated", true),
	F("Annotations", "annotations", true),
	F("KubeVersion", "kubeVersion", true),
	{"Dependencies", "dependencies", true, dependency_fields},
	F("Type", "type", true), F("IsRoot", "IsRoot", false),
	F(NULL, NULL, false),
};
#undef F

static kd_value *json_view(kd_tmpl_ex *x, const kd_value *v, int depth);

static kd_value *struct_view(kd_tmpl_ex *x, const kd_value *v,
			     const json_field *f, int depth)
{
	kd_value *m = kd_tmpl_mk_map(x, 8);

	for (; f->go; f++) {
		const kd_value *e = kd_map_getz(v, f->go);
		kd_value *ev;
		size_t i;

		if (!e || (f->omitempty && json_empty(e)))
			continue;
		if (e->type == KD_LIST && f->elem) {
			ev = kd_value_list(x->a, e->u.list.len);
			if (!ev)
				kd_tmpl_errorf(x, "out of memory");
			for (i = 0; i < e->u.list.len; i++)
				kd_sprig_push(x, ev, e->u.list.items[i]->type != KD_MAP
					     ? e->u.list.items[i]
					     : struct_view(x, e->u.list.items[i],
							   f->elem, depth + 1));
		} else {
			ev = json_view(x, e, depth + 1);
		}
		kd_sprig_set(x, m, f->json, strlen(f->json), ev);
	}
	return m;
}

/* qsort's order for map entry pointers: their keys bytewise, as Go's
 * encoders sort map keys (JSON here, TOML below) */
static int cmp_ent_key(const void *a, const void *b)
{
	const kd_map_ent *p = *(const kd_map_ent *const *)a;
	const kd_map_ent *q = *(const kd_map_ent *const *)b;

	return kd_bytes_cmp(p->key, p->klen, q->key, q->klen);
}

static kd_value *json_view(kd_tmpl_ex *x, const kd_value *v, int depth)
{
	kd_value *r;
	size_t i;
	int kind;

	if (!v || depth > 100)
		return (kd_value *)v;
	if (is_chart(x, v))
		return struct_view(x, v, metadata_fields, depth);
	if ((kind = kd_sprig_obj_kind(x, v))) {
		kd_buf *b = kd_tmpl_tmpbuf(x);

		if (kind == KD_SPRIG_OBJ_SEMVER)
			kd_sprig_semver_string(b, v);
		else
			kd_sprig_time_json(b, v);
		return kd_tmpl_tmpbuf_value(x, b);
	}
	if (v->type == KD_LIST) {
		r = kd_value_list(x->a, v->u.list.len);
		if (!r)
			kd_tmpl_errorf(x, "out of memory");
		for (i = 0; i < v->u.list.len; i++)
			kd_sprig_push(x, r, json_view(x, v->u.list.items[i], depth + 1));
		return r;
	}
	if (v->type == KD_MAP) {
		const kd_map_ent **e = kd_arena_alloc(x->a, (v->u.map.len + 1) * sizeof *e);

		if (!e)
			kd_tmpl_errorf(x, "out of memory");
		for (i = 0; i < v->u.map.len; i++)
			e[i] = &v->u.map.ents[i];
		qsort(e, v->u.map.len, sizeof *e, cmp_ent_key);
		r = kd_tmpl_mk_map(x, v->u.map.len);
		for (i = 0; i < v->u.map.len; i++)
			kd_sprig_set(x, r, e[i]->key, e[i]->klen, json_view(x, e[i]->val, depth + 1));
		return r;
	}
	return (kd_value *)v;
}

/* the value to encode, and whether the encoder must sort map keys */
static const kd_value *json_input(kd_tmpl_ex *x, const kd_value *v, bool *sort)
{
	*sort = true;
	if (kd_sprig_isnil(v))
		return &kd_tmpl_nil;
	if (!has_chart(x, v, 0))
		return v;
	*sort = false;
	return json_view(x, v, 0);
}

static kd_value *to_json_value(kd_tmpl_ex *x, const kd_value *v, kd_buf *b,
			       bool html)
{
	kd_json_encode_opts o = {0};
	kd_err err = KD_ERR_INIT;
	bool sort;

	v = json_input(x, v, &sort);
	o.sort_keys = sort;
	o.escape_html = html;
	if (kd_json_encode(b, v, &o, &err)) {
		/* Helm gives "" for what cannot be encoded; memory running
		 * out is not that */
		if (err.code == KD_ENOMEM || b->failed == KD_ENOMEM) {
			kd_buf_free(b);
			kd_tmpl_fail(x, KD_ENOMEM, "out of memory");
		}
		return NULL;
	}
	return (kd_value *)v;
}

FN(f_toJson)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	(void)argc;
	if (!to_json_value(x, argv[0], &b, true)) {
		kd_buf_free(&b);
		return kd_tmpl_str(x, "", 0);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_toYaml)
{
	(void)argc;
	return kd_sprig_to_yaml(x, argv[0]);
}

kd_value *kd_sprig_to_yaml(kd_tmpl_ex *x, const kd_value *arg)
{
	kd_buf j = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_buf y = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_arena scratch = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_err err = KD_ERR_INIT;
	kd_value *v;
	kd_yaml_encode_opts yo = {0};
	int rc;

	/* value -> JSON -> value -> YAML, as sigs.k8s.io/yaml does; the
	 * intermediate value lives in a scratch arena freed right away */
	if (!to_json_value(x, arg, &j, false)) {
		kd_buf_free(&j);
		return kd_tmpl_str(x, "", 0);
	}
	rc = kd_json_decode(&v, &scratch, j.ptr, j.len, "toYaml", NULL, &err);
	kd_buf_free(&j);
	if (!rc) {
		yo.sort_keys = 1;
		rc = kd_yaml_encode(&y, v, &yo, &err);
	}
	kd_arena_free(&scratch);
	if (rc) {
		kd_buf_free(&y);
		if (rc == KD_ENOMEM)
			kd_tmpl_fail(x, KD_ENOMEM, "out of memory");
		return kd_tmpl_str(x, "", 0);
	}
	if (y.len && y.ptr[y.len - 1] == '\n')
		y.len--;
	return kd_tmpl_buf_value(x, &y);
}

static kd_value *err_map(kd_tmpl_ex *x, const char *msg)
{
	kd_value *m = kd_tmpl_mk_map(x, 1);

	kd_sprig_set(x, m, "Error", 5, kd_tmpl_str(x, msg, strlen(msg)));
	return m;
}

/* fromYaml/fromJson and their Array forms give a map (or list) holding
 * the error; mustFromJson (must) fails the template with it and, as Go's
 * json.Unmarshal into interface{}, returns whatever the text holds. */
static kd_value *from_text(kd_tmpl_ex *x, const kd_value *s, bool yaml,
			   bool array, bool must)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL;
	int rc;

	if (yaml) {
		kd_yaml_decode_opts o = {0};

		o.numbers_as_float = 1;
		kd_value *all = NULL;

		rc = kd_yaml_decode_all(&all, x->a, s->u.str.ptr, s->u.str.len,
					"<input>", &o, &err);
		if (!rc)
			v = all->u.list.len ? all->u.list.items[0] : &kd_tmpl_nil;
	} else {
		kd_json_decode_opts o = {0};

		o.numbers_as_float = 1;
		rc = kd_json_decode(&v, x->a, s->u.str.ptr, s->u.str.len,
				    "<input>", &o, &err);
	}
	/* fromYaml answers a bad text with an Error key, as Helm does; memory
	 * running out is no such answer */
	if (rc == KD_ENOMEM)
		kd_tmpl_fail(x, KD_ENOMEM, "out of memory");
	if (rc) {
		char m[KD_ERR_MSG_MAX + 64];

		if (yaml) {
			/* "<input>:L:C: problem (while ...)" -> go-yaml's form */
			int line = 0, col = 0, off = 0;
			const char *pr = err.msg;

			if (sscanf(err.msg, "<input>:%d:%d: %n", &line, &col, &off) >= 2 && off) {
				char prob[KD_ERR_MSG_MAX];
				char *w;

				snprintf(prob, sizeof prob, "%s", err.msg + off);
				w = strstr(prob, " (while");
				if (w) {
					*w = 0;
					line--;
				}
				snprintf(m, sizeof m, "error converting YAML to JSON: yaml: line %d: %s",
					 line, prob);
			} else {
				snprintf(m, sizeof m, "error converting YAML to JSON: %s", pr);
			}
		} else if (strstr(err.msg, "unexpected end of input")) {
			snprintf(m, sizeof m, "unexpected end of JSON input");
		} else {
			snprintf(m, sizeof m, "%s", err.msg);
		}
		if (must) {
			kd_tmpl_fail(x, 0, "%s", m);
			return NULL;
		}
		if (array) {
			kd_value *l = kd_tmpl_mk_list(x, 1);

			kd_sprig_push(x, l, kd_tmpl_str(x, m, strlen(m)));
			return l;
		}
		return err_map(x, m);
	}
	if (must)
		return v;
	if (array) {
		if (v->type == KD_NULL)
			return kd_tmpl_mk_list(x, 0);
		if (v->type != KD_LIST) {
			kd_value *l = kd_tmpl_mk_list(x, 1);
			const char *m = yaml ? "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}"
					     : "json: cannot unmarshal object into Go value of type []interface {}";

			kd_sprig_push(x, l, kd_tmpl_str(x, m, strlen(m)));
			return l;
		}
		return v;
	}
	if (v->type == KD_NULL)
		return kd_tmpl_mk_map(x, 0);
	if (v->type != KD_MAP) {
		char m[200];

		snprintf(m, sizeof m, "%sjson: cannot unmarshal %s into Go value of type map[string]interface {}",
			 yaml ? "error unmarshaling JSON: while decoding JSON: " : "",
			 v->type == KD_LIST ? "array" : v->type == KD_STR ? "string" :
			 v->type == KD_BOOL ? "bool" : "number");
		return err_map(x, m);
	}
	return v;
}

FN(f_fromYaml) { (void)argc; return from_text(x, argv[0], true, false, false); }
FN(f_fromYamlArray) { (void)argc; return from_text(x, argv[0], true, true, false); }
FN(f_fromJson) { (void)argc; return from_text(x, argv[0], false, false, false); }
FN(f_fromJsonArray) { (void)argc; return from_text(x, argv[0], false, true, false); }
FN(f_mustFromJson) { (void)argc; return from_text(x, argv[0], false, false, true); }

static kd_value *json_with(kd_tmpl_ex *x, kd_value *v, int indent, bool html,
			   bool must)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_json_encode_opts o = {0};
	kd_err err = KD_ERR_INIT;
	const kd_value *in;
	bool sort;

	in = json_input(x, v, &sort);
	o.indent = indent;
	o.sort_keys = sort;
	o.escape_html = html;
	if (kd_json_encode(&b, in, &o, &err)) {
		int oom = err.code == KD_ENOMEM || b.failed == KD_ENOMEM;

		kd_buf_free(&b);
		if (must || oom)
			kd_tmpl_fail(x, 0, "%s", err.msg);
		return kd_tmpl_str(x, "", 0);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_toRawJson) { (void)argc; return json_with(x, argv[0], 0, false, false); }
FN(f_toPrettyJson) { (void)argc; return json_with(x, argv[0], 2, true, false); }
FN(f_mustToJson) { (void)argc; return json_with(x, argv[0], 0, true, true); }
FN(f_mustToRawJson) { (void)argc; return json_with(x, argv[0], 0, false, true); }
FN(f_mustToPrettyJson) { (void)argc; return json_with(x, argv[0], 2, true, true); }

FN(f_b32enc)
{
	static const char a32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const unsigned char *s = (const unsigned char *)argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i, outn;
	uint64_t acc = 0;
	int bits = 0;

	(void)argc;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | s[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			kd_buf_putc(&b, a32[(acc >> bits) & 31]);
		}
	}
	if (bits)
		kd_buf_putc(&b, a32[(acc << (5 - bits)) & 31]);
	outn = b.len;
	while (outn % 8) {
		kd_buf_putc(&b, '=');
		outn++;
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_b32dec)
{
	static const char a32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;
	uint64_t acc = 0;
	int bits = 0;

	(void)argc;
	for (i = 0; i < n; i++) {
		const char *p;

		if (s[i] == '=')
			break;
		p = s[i] ? strchr(a32, s[i]) : NULL;
		if (!p) {
			char m[80];

			kd_buf_free(&b);
			snprintf(m, sizeof m, "illegal base32 data at input byte %zu", i);
			return kd_tmpl_str(x, m, strlen(m));
		}
		acc = (acc << 5) | (uint64_t)(p - a32);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			kd_buf_putc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	return kd_tmpl_buf_value(x, &b);
}

/* toToml: BurntSushi/toml's encoder for the shapes values take */
static bool toml_is_table(const kd_value *v)
{
	return v && v->type == KD_MAP;
}

static void toml_key(kd_buf *b, const char *k, size_t n)
{
	size_t i;
	bool bare = n > 0;

	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-'))
			bare = false;
	if (bare)
		kd_buf_put(b, k, n);
	else
		kd_tmpl_quote(b, k, n);
}

static int toml_value(kd_buf *b, const kd_value *v, const char **err)
{
	size_t i;

	switch (v->type) {
	case KD_BOOL:
		kd_buf_puts(b, v->u.b ? "true" : "false");
		return 0;
	case KD_INT:
		kd_buf_printf(b, "%lld", (long long)v->u.i);
		return 0;
	case KD_FLOAT: {
		size_t st = b->len;

		if (isnan(v->u.f)) {
			kd_buf_puts(b, "nan");
			return 0;
		}
		if (isinf(v->u.f)) {
			kd_buf_puts(b, v->u.f > 0 ? "inf" : "-inf");
			return 0;
		}
		kd_num_format_float(b, v->u.f, 'f', -1);
		if (!memchr(b->ptr + st, '.', b->len - st))
			kd_buf_puts(b, ".0");
		return 0;
	}
	case KD_STR:
		for (i = 0; i < v->u.str.len; i++)
			if ((unsigned char)v->u.str.ptr[i] < 0x20 &&
			    !strchr("\n\t\r\b\f", v->u.str.ptr[i]))
				break;
		{
			kd_buf q = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

			kd_tmpl_quote(&q, v->u.str.ptr, v->u.str.len);
			kd_buf_put(b, q.ptr, q.len);
			if (q.failed && !b->failed)
				b->failed = q.failed;
			kd_buf_free(&q);
		}
		return 0;
	case KD_LIST:
		kd_buf_putc(b, '[');
		for (i = 0; i < v->u.list.len; i++) {
			if (kd_sprig_isnil(v->u.list.items[i])) {
				*err = "toml: cannot encode array with nil element";
				return -1;
			}
			if (i)
				kd_buf_puts(b, ", ");
			if (toml_value(b, v->u.list.items[i], err))
				return -1;
		}
		kd_buf_putc(b, ']');
		return 0;
	default:
		*err = "toml: unsupported type";
		return -1;
	}
}

static int toml_table(kd_buf *b, const kd_value *m, kd_buf *path, int depth,
		      const char **err)
{
	size_t n = m->u.map.len, i;
	const kd_map_ent **e;
	int pass, rc = 0;

	if (depth > KD_LIMIT_DEPTH) {
		*err = "toml: nesting too deep";
		return -1;
	}
	e = n ? malloc(n * sizeof *e) : NULL;
	if (n && !e) {
		*err = "out of memory";
		return -1;
	}
	for (i = 0; i < n; i++)
		e[i] = &m->u.map.ents[i];
	if (n)
		qsort(e, n, sizeof *e, cmp_ent_key);
	for (pass = 0; pass < 2 && !rc; pass++)
		for (i = 0; i < n && !rc; i++) {
			const kd_value *v = e[i]->val;
			int k;

			if (kd_sprig_isnil(v) || toml_is_table(v) != (pass == 1))
				continue;
			if (pass == 0) {
				for (k = 0; k < depth; k++)
					kd_buf_puts(b, "  ");
				toml_key(b, e[i]->key, e[i]->klen);
				kd_buf_puts(b, " = ");
				rc = toml_value(b, v, err);
				kd_buf_putc(b, '\n');
			} else {
				size_t plen = path->len;

				if (plen)
					kd_buf_putc(path, '.');
				toml_key(path, e[i]->key, e[i]->klen);
				if (depth == 0)
					kd_buf_putc(b, '\n');
				for (k = 0; k < depth; k++)
					kd_buf_puts(b, "  ");
				kd_buf_printf(b, "[%s]\n", path->ptr);
				rc = toml_table(b, v, path, depth + 1, err);
				path->len = plen;
				path->ptr[plen] = 0;
			}
		}
	free(e);
	return rc;
}

FN(f_toToml)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES), path = KD_BUF_INIT(1 << 20);
	const char *err = NULL;
	int rc;

	(void)argc;
	if (kd_sprig_isnil(argv[0]) || argv[0]->type != KD_MAP) {
		const char *m = argv[0] && argv[0]->type == KD_LIST
					? "toml: top-level values must be Go maps or structs"
					: "toml: top-level values must be Go maps or structs";

		if (argv[0] && argv[0]->type == KD_LIST) {
			size_t i;

			for (i = 0; i < argv[0]->u.list.len; i++)
				if (kd_sprig_isnil(argv[0]->u.list.items[i]))
					m = "toml: cannot encode array with nil element";
		}
		return kd_tmpl_str(x, m, strlen(m));
	}
	kd_buf_putc(&path, 0);
	path.len = 0;
	rc = toml_table(&b, argv[0], &path, 0, &err);
	/* a table name built in a failed path buffer, or a failed sort
	 * array, is memory running out, not an answer */
	if ((path.failed || (rc && !strcmp(err, "out of memory"))) && !b.failed)
		b.failed = KD_ENOMEM;
	kd_buf_free(&path);
	if (rc && !b.failed) {
		kd_buf_free(&b);
		return kd_tmpl_str(x, err, strlen(err));
	}
	return kd_tmpl_buf_value(x, &b);
}

kd_value *kd_sprig_b64enc(kd_tmpl_ex *x, kd_value *s)
{
	return f_b64enc(x, &s, 1);
}

static const kd_tmpl_func encoding_funcs[] = {
	{"b64enc", f_b64enc, "s", false, false},
	{"b64dec", f_b64dec, "s", false, false},
	{"b32enc", f_b32enc, "s", false, false},
	{"b32dec", f_b32dec, "s", false, false},
	{"toJson", f_toJson, "a", false, false},
	{"toRawJson", f_toRawJson, "a", false, false},
	{"toPrettyJson", f_toPrettyJson, "a", false, false},
	{"mustToJson", f_mustToJson, "a", false, false},
	{"mustToRawJson", f_mustToRawJson, "a", false, false},
	{"mustToPrettyJson", f_mustToPrettyJson, "a", false, false},
	{"fromJson", f_fromJson, "s", false, false},
	{"fromJsonArray", f_fromJsonArray, "s", false, false},
	{"mustFromJson", f_mustFromJson, "s", false, false},
	{"toYaml", f_toYaml, "a", false, false},
	{"fromYaml", f_fromYaml, "s", false, false},
	{"fromYamlArray", f_fromYamlArray, "s", false, false},
	{"toToml", f_toToml, "a", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_encoding(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, encoding_funcs);
}
