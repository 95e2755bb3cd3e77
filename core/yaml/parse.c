/* Decoding YAML into kd_value with libyaml's parser: events build the
 * value, scalars resolve through scalar.c, anchors, aliases and merge keys
 * as go-yaml v2 applies them (yaml.h, DECODING). */
#include "yaml/yaml.h"

#include "base/limits.h"
#include "base/num.h"
#include "yaml/internal.h"

#include <yaml.h>

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct anchor {
	kd_value *v; /* NULL while the anchored node is still open */
	size_t nodes;
	int height;
} anchor;

typedef struct frame {
	kd_value *v;	/* KD_LIST or KD_MAP */
	long anchor;	/* index into dec.anchors, or -1 */
	size_t nodes;	/* nodes so far, v included */
	int height;	/* levels of collections, v included */
	bool want_value; /* maps: a key has been read */
	bool merge;	/* ... and it is "<<" */
	const char *key;
	size_t klen;
	yaml_mark_t key_mark;
	const char *path; /* positions only: this node's path */
	size_t plen;
} frame;

typedef struct dec {
	kd_arena *a;	  /* results */
	kd_arena scratch; /* stack, pending keys, anchors */
	const char *name;
	const char *text;
	size_t len;
	kd_err *err;
	bool as_float;
	bool single;
	size_t alias_max, alias_used;
	frame *stack;
	size_t depth;
	anchor *anchors;
	size_t nanchors, anchors_cap;
	kd_value *anchor_names; /* this document's: name -> KD_INT index */
	kd_value *root;
	kd_value *docs;
	size_t ndocs;
	kd_value *pos; /* path -> [line, column], when asked for */
} dec;

static int arena_fail(dec *d, kd_arena *a)
{
	int code = a->failed ? a->failed : KD_ENOMEM;

	if (code == KD_ELIMIT)
		return kd_err_set(d->err, code,
				  "%s: decoded YAML exceeds the memory limit "
				  "of its arena (%zu bytes)",
				  d->name, a->limit);
	return kd_err_set(d->err, code, "%s: out of memory decoding YAML",
			  d->name);
}

static int fail_at(dec *d, int code, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(dec *d, int code, yaml_mark_t m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kd_err_set(d->err, code, "%s:%zu:%zu: %s", d->name, m.line + 1,
			  m.column + 1, msg);
}

/* A reader error has a byte offset, not a mark. */
static int reader_error(dec *d, const yaml_parser_t *p)
{
	size_t off = p->problem_offset, i, line = 1, col = 1;

	if (off > d->len)
		off = d->len;
	for (i = 0; i < off; i++) {
		if (d->text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)d->text[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	if (p->problem_value >= 0)
		return kd_err_set(d->err, KD_EPARSE,
				  "%s:%zu:%zu: %s (#%X at byte %zu)", d->name,
				  line, col, p->problem, p->problem_value,
				  p->problem_offset);
	return kd_err_set(d->err, KD_EPARSE, "%s:%zu:%zu: %s (at byte %zu)",
			  d->name, line, col, p->problem, p->problem_offset);
}

static int parser_error(dec *d, const yaml_parser_t *p)
{
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return kd_err_set(d->err, KD_ENOMEM,
				  "%s: out of memory parsing YAML", d->name);
	case YAML_READER_ERROR:
		return reader_error(d, p);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context)
			return kd_err_set(
				d->err, KD_EPARSE,
				"%s:%zu:%zu: %s (%s that started at line %zu, "
				"column %zu)",
				d->name, p->problem_mark.line + 1,
				p->problem_mark.column + 1, p->problem,
				p->context, p->context_mark.line + 1,
				p->context_mark.column + 1);
		return kd_err_set(d->err, KD_EPARSE, "%s:%zu:%zu: %s", d->name,
				  p->problem_mark.line + 1,
				  p->problem_mark.column + 1,
				  p->problem ? p->problem : "invalid YAML");
	default:
		return kd_err_set(d->err, KD_EINTERNAL,
				  "%s: libyaml failed without a reason (error %d)",
				  d->name, (int)p->error);
	}
}

static frame *top(dec *d)
{
	return d->depth ? &d->stack[d->depth - 1] : NULL;
}

static bool want_key(const frame *f)
{
	return f && f->v->type == KD_MAP && !f->want_value;
}

/* The path of a child of f (the document root when f is NULL): the
 * parent's path, a dot unless the parent is the root of a single-document
 * decode, and the key, the list index, or "<<" for a merge's value. The
 * result lives in scratch memory. */
static int child_path(dec *d, const frame *f, const char **out, size_t *n)
{
	char idx[32];
	const char *comp;
	size_t clen, len;
	char *p;

	if (!f) {
		if (d->single) {
			*out = "";
			*n = 0;
			return 0;
		}
		clen = (size_t)snprintf(idx, sizeof idx, "%zu", d->ndocs);
		comp = idx;
	} else if (f->v->type == KD_LIST) {
		clen = (size_t)snprintf(idx, sizeof idx, "%zu", f->v->u.list.len);
		comp = idx;
	} else if (f->merge) {
		comp = "<<";
		clen = 2;
	} else {
		comp = f->key;
		clen = f->klen;
	}
	len = f && f->plen ? f->plen + 1 + clen : clen;
	p = kd_arena_alloc(&d->scratch, len + 1);
	if (!p)
		return arena_fail(d, &d->scratch);
	if (f && f->plen) {
		memcpy(p, f->path, f->plen);
		p[f->plen] = '.';
		memcpy(p + f->plen + 1, comp, clen);
	} else {
		memcpy(p, comp, clen);
	}
	p[len] = '\0';
	*out = p;
	*n = len;
	return 0;
}

static int record_pos(dec *d, const char *path, size_t plen, yaml_mark_t m)
{
	kd_value *at = kd_value_list(d->a, 2);
	kd_value *line = kd_value_int(d->a, (int64_t)m.line + 1);
	kd_value *col = kd_value_int(d->a, (int64_t)m.column + 1);

	if (!at || !line || !col || kd_list_push(d->a, at, line) ||
	    kd_list_push(d->a, at, col) ||
	    kd_map_set(d->a, d->pos, path, plen, at))
		return arena_fail(d, d->a);
	return 0;
}

/* Records where a node that is not a map key starts: list items and the
 * root (map values are found by their key's position). */
static int node_pos(dec *d, yaml_mark_t m)
{
	frame *f = top(d);
	const char *path;
	size_t plen;
	int rc;

	if (!d->pos || (f && f->v->type == KD_MAP))
		return 0;
	rc = child_path(d, f, &path, &plen);
	return rc ? rc : record_pos(d, path, plen, m);
}

static int anchor_define(dec *d, const yaml_char_t *name, kd_value *v,
			 size_t nodes, int height, long *idx_out)
{
	kd_value *idx;
	anchor *an;

	if (d->nanchors == d->anchors_cap) {
		size_t ncap = d->anchors_cap ? d->anchors_cap * 2 : 16;
		anchor *p = kd_arena_grow(&d->scratch, d->anchors,
					  d->anchors_cap * sizeof(*p),
					  ncap * sizeof(*p));

		if (!p)
			return arena_fail(d, &d->scratch);
		d->anchors = p;
		d->anchors_cap = ncap;
	}
	if (!d->anchor_names) {
		d->anchor_names = kd_value_map(&d->scratch, 0);
		if (!d->anchor_names)
			return arena_fail(d, &d->scratch);
	}
	idx = kd_value_int(&d->scratch, (int64_t)d->nanchors);
	if (!idx || kd_map_setz(&d->scratch, d->anchor_names,
				(const char *)name, idx))
		return arena_fail(d, &d->scratch);
	an = &d->anchors[d->nanchors];
	an->v = v;
	an->nodes = nodes;
	an->height = height;
	if (idx_out)
		*idx_out = (long)d->nanchors;
	d->nanchors++;
	return 0;
}

static int merge_map(dec *d, kd_value *dst, const kd_value *src)
{
	size_t i;

	for (i = 0; i < src->u.map.len; i++) {
		const kd_map_ent *e = &src->u.map.ents[i];

		if (kd_map_set(d->a, dst, e->key, e->klen, e->val))
			return arena_fail(d, d->a);
	}
	return 0;
}

static bool all_maps(const kd_value *list)
{
	size_t i;

	for (i = 0; i < list->u.list.len; i++)
		if (list->u.list.items[i]->type != KD_MAP)
			return false;
	return true;
}

/* v2's merge(): a map, or a list of maps of which earlier ones win (so they
 * are merged last). */
static int apply_merge(dec *d, frame *f, const kd_value *v)
{
	size_t i;
	int rc;

	if (v->type == KD_MAP)
		return merge_map(d, f->v, v);
	if (v->type != KD_LIST || !all_maps(v))
		return fail_at(d, KD_EPARSE, f->key_mark,
			       "map merge requires map or sequence of maps as "
			       "the value");
	for (i = v->u.list.len; i-- > 0;) {
		rc = merge_map(d, f->v, v->u.list.items[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Hands a finished node to its parent, or makes it the document. */
static int add_value(dec *d, kd_value *v, size_t nodes, int height)
{
	frame *f = top(d);
	int rc = 0;

	if (!f) {
		d->root = v;
		return 0;
	}
	f->nodes += nodes;
	if (height + 1 > f->height)
		f->height = height + 1;
	if (f->v->type == KD_LIST) {
		if (kd_list_push(d->a, f->v, v))
			return arena_fail(d, d->a);
		return 0;
	}
	if (f->merge)
		rc = apply_merge(d, f, v);
	else if (kd_map_set(d->a, f->v, f->key, f->klen, v))
		rc = arena_fail(d, d->a);
	f->want_value = false;
	f->merge = false;
	return rc;
}

static kd_value *make_value(dec *d, const scalar_res *r, const char *s,
			    size_t n)
{
	switch (r->t) {
	case R_NULL: return kd_value_null(d->a);
	case R_BOOL: return kd_value_bool(d->a, r->b);
	case R_INT: return kd_value_int(d->a, r->i);
	case R_UINT: return kd_value_float(d->a, (double)r->u);
	case R_FLOAT: return kd_value_float(d->a, r->f);
	case R_TIMESTAMP:
	case R_STR: break;
	}
	return kd_value_str(d->a, s, n);
}

/* Resolves a scalar event as v2's decoder does. A !!binary value is decoded
 * into *s / *n, in scratch memory. */
static int resolve_event(dec *d, const yaml_event_t *ev, scalar_res *r,
			 const char **s, size_t *n)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *name;
	long bl;
	char *buf;

	*s = (const char *)ev->data.scalar.value;
	*n = ev->data.scalar.length;
	r->t = R_STR;
	if (!tag) {
		if (ev->data.scalar.plain_implicit && !kd_yaml_resolve(*s, *n, true, r))
			return kd_err_set(d->err, KD_ENOMEM,
					  "%s: out of memory decoding YAML",
					  d->name);
		return 0;
	}
	if (strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1))
		return 0;
	name = tag + sizeof(TAG_PREFIX) - 1;
	if (!strcmp(name, "binary")) {
		buf = kd_arena_alloc(&d->scratch, *n + 1);
		if (!buf)
			return arena_fail(d, &d->scratch);
		bl = kd_yaml_b64_decode(*s, *n, buf);
		if (bl < 0)
			return fail_at(d, KD_EPARSE, ev->start_mark,
				       "!!binary value contains invalid base64 "
				       "data");
		*s = buf;
		*n = (size_t)bl;
		return 0;
	}
	if (strcmp(name, "bool") && strcmp(name, "int") &&
	    strcmp(name, "float") && strcmp(name, "null") &&
	    strcmp(name, "timestamp"))
		return 0;
	if (!kd_yaml_resolve(*s, *n, !strcmp(name, "timestamp"), r))
		return kd_err_set(d->err, KD_ENOMEM,
				  "%s: out of memory decoding YAML", d->name);
	if (!strcmp(kd_yaml_rtype_tag[r->t], name))
		return 0;
	if (!strcmp(name, "float") && r->t == R_INT) {
		r->t = R_FLOAT;
		r->f = (double)r->i;
		return 0;
	}
	return fail_at(d, KD_EPARSE, ev->start_mark,
		       "cannot decode !!%s `%.*s%s` as a !!%s", kd_yaml_rtype_tag[r->t],
		       *n > 40 ? 37 : (int)*n, *s, *n > 40 ? "..." : "", name);
}

/* sigs.k8s.io/yaml's conversion of go-yaml v2's float keys: Go's
 * FormatFloat(f, 'g', -1, 32). */
static int float32_key(kd_buf *b, double f)
{
	char s[32];
	float x;
	int p;

	if (isnan(f))
		return kd_buf_puts(b, ".nan");
	/* Go rounds to float32 and overflows to infinity from the midpoint
	 * between FLT_MAX and 2^128 on; C leaves that conversion undefined. */
	if (fabs(f) >= 0x1.ffffffp127)
		return kd_buf_puts(b, f > 0 ? ".inf" : "-.inf");
	x = (float)f;
	if (x == 0)
		return kd_num_format_float(b, (double)x, 'g', -1);
	for (p = 1; p <= 9; p++) {
		snprintf(s, sizeof(s), "%.*e", p - 1, (double)x);
		if (strtof(s, NULL) == x)
			break;
	}
	/* The shortest float32 digits are also the shortest for the double
	 * nearest to them, so the 64-bit formatter prints them Go's way. */
	return kd_num_format_float(b, strtod(s, NULL), 'g', -1);
}

/* Stores the pending key of f, converted to a string as sigs.k8s.io/yaml
 * does with go-yaml v2's keys. */
static int set_key(dec *d, frame *f, enum rtype t, const scalar_res *r,
		   const char *s, size_t n, yaml_mark_t m)
{
	char num[32];
	kd_buf fb = KD_BUF_INIT(64);
	char *k;

	switch (t) {
	case R_NULL:
		return fail_at(d, KD_EPARSE, m,
			       "unsupported map key: null (a key must be a "
			       "string, number or boolean)");
	case R_UINT:
		return fail_at(d, KD_EPARSE, m,
			       "unsupported map key: %" PRIu64
			       " (an integer key must fit in 64 signed bits)",
			       r->u);
	case R_BOOL:
		s = r->b ? "true" : "false";
		n = strlen(s);
		break;
	case R_INT:
		n = (size_t)snprintf(num, sizeof(num), "%" PRId64, r->i);
		s = num;
		break;
	case R_FLOAT:
		if (float32_key(&fb, r->f)) {
			kd_buf_free(&fb);
			return kd_err_set(d->err, KD_ENOMEM,
					  "%s: out of memory decoding YAML",
					  d->name);
		}
		n = fb.len < sizeof(num) ? fb.len : sizeof(num) - 1;
		memcpy(num, fb.ptr, n);
		kd_buf_free(&fb);
		s = num;
		break;
	case R_TIMESTAMP:
	case R_STR: break;
	}
	k = kd_arena_strndup(&d->scratch, s, n);
	if (!k)
		return arena_fail(d, &d->scratch);
	f->key = k;
	f->klen = n;
	f->key_mark = m;
	f->want_value = true;
	if (d->pos) {
		const char *path;
		size_t plen;
		int rc = child_path(d, f, &path, &plen);

		return rc ? rc : record_pos(d, path, plen, m);
	}
	return 0;
}

static int on_scalar(dec *d, const yaml_event_t *ev)
{
	const yaml_char_t *anchor_name = ev->data.scalar.anchor;
	frame *f = top(d);
	scalar_res r;
	kd_value *v = NULL;
	const char *s;
	size_t n;
	int rc;

	if (want_key(f) && ev->data.scalar.length == 2 &&
	    !memcmp(ev->data.scalar.value, "<<", 2) &&
	    (ev->data.scalar.plain_implicit ||
	     (ev->data.scalar.tag &&
	      !strcmp((const char *)ev->data.scalar.tag, TAG_PREFIX "merge")))) {
		f->merge = true;
		f->want_value = true;
		f->key_mark = ev->start_mark;
		if (!anchor_name)
			return 0;
		v = kd_value_str(d->a, "<<", 2);
		if (!v)
			return arena_fail(d, d->a);
		return anchor_define(d, anchor_name, v, 1, 0, NULL);
	}
	rc = resolve_event(d, ev, &r, &s, &n);
	if (rc)
		return rc;
	if (!want_key(f) || anchor_name) {
		v = make_value(d, &r, s, n);
		if (!v)
			return arena_fail(d, d->a);
		if (anchor_name) {
			rc = anchor_define(d, anchor_name, v, 1, 0, NULL);
			if (rc)
				return rc;
		}
	}
	if (want_key(f))
		return set_key(d, f, r.t, &r, s, n, ev->start_mark);
	rc = node_pos(d, ev->start_mark);
	return rc ? rc : add_value(d, v, 1, 0);
}

/* A deep copy for an alias: new lists, maps and scalars, so either side can
 * be changed alone, but string bytes (immutable) are shared, which keeps an
 * aliased long string cheap. The depth was checked against the anchor's
 * height. */
static kd_value *copy_value(kd_arena *a, const kd_value *v)
{
	kd_value *c;
	size_t i;

	switch (v->type) {
	case KD_STR: return kd_value_str_ref(a, v->u.str.ptr, v->u.str.len);
	case KD_LIST:
		c = kd_value_list(a, v->u.list.len);
		for (i = 0; c && i < v->u.list.len; i++) {
			kd_value *item = copy_value(a, v->u.list.items[i]);

			if (!item || kd_list_push(a, c, item))
				return NULL;
		}
		return c;
	case KD_MAP:
		c = kd_value_map(a, v->u.map.len);
		for (i = 0; c && i < v->u.map.len; i++) {
			const kd_map_ent *e = &v->u.map.ents[i];
			kd_value *item = copy_value(a, e->val);

			if (!item || kd_map_set(a, c, e->key, e->klen, item))
				return NULL;
		}
		return c;
	default:
		c = kd_arena_alloc(a, sizeof(*c));
		if (c)
			*c = *v;
		return c;
	}
}

static int on_alias(dec *d, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	frame *f = top(d);
	const kd_value *idx = kd_map_getz(d->anchor_names, name);
	const anchor *an;
	kd_value *c;
	scalar_res r = {0};
	int rc;

	if (!idx)
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "unknown anchor '%s' referenced", name);
	an = &d->anchors[idx->u.i];
	if (!an->v)
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "anchor '%s' value contains itself", name);
	if (an->nodes > d->alias_max - d->alias_used)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "alias expansion exceeds %zu nodes (possible "
			       "\"billion laughs\")",
			       d->alias_max);
	d->alias_used += an->nodes;
	if (want_key(f)) {
		switch (an->v->type) {
		case KD_NULL: r.t = R_NULL; break;
		case KD_BOOL:
			r.t = R_BOOL;
			r.b = an->v->u.b;
			break;
		case KD_INT:
			r.t = R_INT;
			r.i = an->v->u.i;
			break;
		case KD_FLOAT:
			r.t = R_FLOAT;
			r.f = an->v->u.f;
			break;
		case KD_STR:
			return set_key(d, f, R_STR, NULL, an->v->u.str.ptr,
				       an->v->u.str.len, ev->start_mark);
		case KD_LIST:
		case KD_MAP:
			return fail_at(d, KD_EPARSE, ev->start_mark,
				       "invalid map key: a %s cannot be a key",
				       kd_vtype_name(an->v->type));
		}
		return set_key(d, f, r.t, &r, NULL, 0, ev->start_mark);
	}
	if (d->depth + (size_t)an->height > KD_LIMIT_DEPTH)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "alias '%s' nests deeper than %d levels", name,
			       KD_LIMIT_DEPTH);
	c = copy_value(d->a, an->v);
	if (!c)
		return arena_fail(d, d->a);
	rc = node_pos(d, ev->start_mark);
	return rc ? rc : add_value(d, c, an->nodes, an->height);
}

static int on_start(dec *d, const yaml_event_t *ev)
{
	bool is_map = ev->type == YAML_MAPPING_START_EVENT;
	const yaml_char_t *anchor_name = is_map
		? ev->data.mapping_start.anchor
		: ev->data.sequence_start.anchor;
	frame *f;

	if (want_key(top(d)))
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "invalid map key: a %s cannot be a key",
			       is_map ? "mapping" : "sequence");
	if (d->depth >= KD_LIMIT_DEPTH)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "mappings and sequences nest deeper than %d "
			       "levels",
			       KD_LIMIT_DEPTH);
	if (d->pos) {
		const char *path;
		size_t plen;
		int rc = node_pos(d, ev->start_mark);

		if (!rc)
			rc = child_path(d, top(d), &path, &plen);
		if (rc)
			return rc;
		f = &d->stack[d->depth];
		memset(f, 0, sizeof(*f));
		f->path = path;
		f->plen = plen;
	} else {
		f = &d->stack[d->depth];
		memset(f, 0, sizeof(*f));
	}
	f->v = is_map ? kd_value_map(d->a, 0) : kd_value_list(d->a, 0);
	if (!f->v)
		return arena_fail(d, d->a);
	f->anchor = -1;
	f->nodes = 1;
	f->height = 1;
	d->depth++;
	if (anchor_name)
		return anchor_define(d, anchor_name, NULL, 0, 0, &f->anchor);
	return 0;
}

static int on_end(dec *d)
{
	frame f = d->stack[--d->depth];

	if (f.anchor >= 0) {
		anchor *an = &d->anchors[f.anchor];

		an->v = f.v;
		an->nodes = f.nodes;
		an->height = f.height;
	}
	return add_value(d, f.v, f.nodes, f.height);
}

/* Helm's JSON step: every number is a float64. */
static void ints_to_floats(kd_value *v)
{
	size_t i;

	switch (v->type) {
	case KD_INT: {
		int64_t x = v->u.i;

		v->type = KD_FLOAT;
		v->u.f = (double)x;
		break;
	}
	case KD_LIST:
		for (i = 0; i < v->u.list.len; i++)
			ints_to_floats(v->u.list.items[i]);
		break;
	case KD_MAP:
		for (i = 0; i < v->u.map.len; i++)
			ints_to_floats(v->u.map.ents[i].val);
		break;
	default: break;
	}
}

static int on_document_start(dec *d, const yaml_event_t *ev)
{
	if (d->single && d->ndocs)
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "a second document, where only one is allowed");
	if (d->ndocs >= KD_LIMIT_YAML_DOCS)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "more than %u documents in one stream",
			       (unsigned)KD_LIMIT_YAML_DOCS);
	d->anchor_names = NULL;
	d->nanchors = 0;
	d->root = NULL;
	return 0;
}

static int on_document_end(dec *d)
{
	if (!d->root) {
		d->root = kd_value_null(d->a);
		if (!d->root)
			return arena_fail(d, d->a);
	}
	if (d->as_float)
		ints_to_floats(d->root);
	d->ndocs++;
	if (d->docs && kd_list_push(d->a, d->docs, d->root))
		return arena_fail(d, d->a);
	return 0;
}

static int on_event(dec *d, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT: return on_document_start(d, ev);
	case YAML_DOCUMENT_END_EVENT: return on_document_end(d);
	case YAML_SCALAR_EVENT: return on_scalar(d, ev);
	case YAML_ALIAS_EVENT: return on_alias(d, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: return on_start(d, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: return on_end(d);
	default: return 0;
	}
}

static int decode(dec *d, const kd_yaml_decode_opts *opts)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_parser = false, have_event = false, done = false;
	int rc = 0;

	kd_arena_init(&d->scratch, KD_LIMIT_ARENA_BYTES);
	d->as_float = opts && opts->numbers_as_float;
	d->alias_max = opts && opts->max_alias_nodes
		? opts->max_alias_nodes
		: KD_LIMIT_YAML_ALIAS_NODES;
	if (d->len > KD_LIMIT_DOC_BYTES) {
		rc = kd_err_set(d->err, KD_ELIMIT,
				"%s: YAML input of %zu bytes exceeds the limit "
				"of %u bytes",
				d->name, d->len, (unsigned)KD_LIMIT_DOC_BYTES);
		goto cleanup;
	}
	d->stack = kd_arena_alloc(&d->scratch,
				  KD_LIMIT_DEPTH * sizeof(*d->stack));
	if (!d->stack) {
		rc = arena_fail(d, &d->scratch);
		goto cleanup;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = kd_err_set(d->err, KD_ENOMEM,
				"%s: out of memory parsing YAML", d->name);
		goto cleanup;
	}
	have_parser = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)d->text,
				     d->len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parser_error(d, &parser);
			goto cleanup;
		}
		have_event = true;
		rc = on_event(d, &ev);
		if (rc)
			goto cleanup;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		have_event = false;
	}
cleanup:
	if (have_event)
		yaml_event_delete(&ev);
	if (have_parser)
		yaml_parser_delete(&parser);
	kd_arena_free(&d->scratch);
	return rc;
}

/* Both entry points: one pass over text, the positions map when asked.
 * single: at most one document, d->root (KD_NULL for none); else every
 * document into d->docs. */
static int decode_text(dec *d, kd_arena *a, const char *text, size_t len,
		       const char *name, bool single,
		       const kd_yaml_decode_opts *opts, kd_err *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->a = a;
	d->name = name ? name : "<input>";
	d->text = text;
	d->len = len;
	d->err = err;
	d->single = single;
	if (!single && !(d->docs = kd_value_list(a, 0)))
		return arena_fail(d, a);
	if (opts && opts->positions) {
		d->pos = kd_value_map(a, 0);
		if (!d->pos)
			return arena_fail(d, a);
	}
	rc = decode(d, opts);
	if (rc)
		return rc;
	if (single && !d->ndocs) {
		d->root = kd_value_null(a);
		if (!d->root)
			return arena_fail(d, a);
	}
	if (d->pos)
		*opts->positions = d->pos;
	return 0;
}

int kd_yaml_decode(kd_value **out, kd_arena *a, const char *text, size_t len,
		   const char *name, const kd_yaml_decode_opts *opts,
		   kd_err *err)
{
	dec d;
	int rc = decode_text(&d, a, text, len, name, true, opts, err);

	if (!rc)
		*out = d.root;
	return rc;
}

int kd_yaml_decode_all(kd_value **out, kd_arena *a, const char *text,
		       size_t len, const char *name,
		       const kd_yaml_decode_opts *opts, kd_err *err)
{
	dec d;
	int rc = decode_text(&d, a, text, len, name, false, opts, err);

	if (!rc)
		*out = d.docs;
	return rc;
}

