/* A chart's dependencies and values before rendering: the tree of charts
 * (chartutil.ProcessDependenciesWithMerge: conditions, tags, aliases,
 * import-values) and value coalescing (chartutil/coalesce.go). */
#include "chart/tree.h"

#include "base/limits.h"
#include "semver/semver.h"

#include <stdio.h>
#include <string.h>

int kd_chart_check_deps(const kd_chart *c, kd_err *err)
{
	const kd_value *deps = kd_map_getz(c->meta, "dependencies");
	kd_buf miss = KD_BUF_INIT(4096);
	size_t i, k;
	int rc = 0;

	for (i = 0; deps && deps->type == KD_LIST && i < deps->u.list.len; i++) {
		const char *dn = dstr(deps->u.list.items[i], "name");

		for (k = 0; k < c->nsubs; k++)
			if (!strcmp(c->subs[k]->name, dn))
				break;
		if (k == c->nsubs)
			kd_buf_printf(&miss, "%s%s", miss.len ? ", " : "", dn);
	}
	if (miss.len)
		rc = kd_err_set(err, KD_ENOTFOUND,
				"found in Chart.yaml, but missing in charts/ directory: %s",
				miss.ptr);
	kd_buf_free(&miss);
	return rc;
}

/* ---- values lookups (chartutil.Values) ---- */

/* Values.Table: the map at a dotted path. */
static kd_value *table(kd_value *v, const char *path)
{
	const char *p = path;

	while (v && v->type == KD_MAP) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		v = kd_map_get(v, p, n);
		if (!dot)
			return v && v->type == KD_MAP ? v : NULL;
		p = dot + 1;
	}
	return NULL;
}

/* Values.PathValue: a non-map value at a dotted path. */
static kd_value *path_value(rctx *r, kd_value *v, const char *path)
{
	const char *last = strrchr(path, '.');
	kd_value *t, *k;

	if (!*path)
		return NULL;
	if (!last) {
		k = kd_map_getz(v, path);
		return k && k->type != KD_MAP ? k : NULL;
	}
	{
		char *pre = kd_arena_strndup(r->a, path, (size_t)(last - path));

		if (!pre)
			return NULL;
		t = table(v, pre);
	}
	if (!t)
		return NULL;
	k = kd_map_getz(t, last + 1);
	return k && k->type != KD_MAP ? k : NULL;
}

bool kd_chart_compatible(rctx *r, const char *range, const char *version)
{
	kd_semver_range *rg;
	kd_semver sv;
	kd_err e = KD_ERR_INIT;

	if (kd_semver_parse(&sv, version, strlen(version), 1, &e))
		return false;
	if (kd_semver_range_parse(&rg, r->a, range, strlen(range), &e))
		return false;
	return kd_semver_range_match(rg, &sv);
}

/* ---- coalescing (chartutil/coalesce.go) ---- */

static int coalesce(rctx *r, node *n, kd_value *dest, bool merge);

static bool is_sub(node *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->nsubs; i++)
		if (!strcmp(n->subs[i]->name, key))
			return true;
	return false;
}

static void coalesce_values(rctx *r, node *n, kd_value *v, bool merge)
{
	kd_value *vc = kd_value_copy(r->a, n->values);
	size_t i;

	if (!vc) {
		r->oom = 1;
		return;
	}
	for (i = 0; i < vc->u.map.len; i++) {
		kd_map_ent *e = &vc->u.map.ents[i];
		kd_value *val = kd_map_get(v, e->key, e->klen);

		if (!val) {
			if (kd_map_set(r->a, v, e->key, e->klen, e->val))
				r->oom = 1;
		} else if (val->type == KD_NULL && !merge) {
			kd_map_del(r->a, v, e->key, e->klen);
		} else if (val->type == KD_MAP && e->val->type == KD_MAP) {
			kd_chart_coalesce_tables(r->a, val, e->val,
						 merge || is_sub(n, e->key));
		}
	}
}

static kd_value *shallow(rctx *r, const kd_value *m)
{
	kd_value *c = kd_value_map(r->a, m->u.map.len);
	size_t i;

	if (!c) {
		r->oom = 1;
		return kd_value_map(r->a, 0);
	}
	for (i = 0; i < m->u.map.len; i++)
		kd_map_set(r->a, c, m->u.map.ents[i].key, m->u.map.ents[i].klen,
			   m->u.map.ents[i].val);
	return c;
}

static void coalesce_globals(rctx *r, kd_value *dest, kd_value *src)
{
	kd_value *dg = kd_map_getz(dest, "global"), *sg = kd_map_getz(src, "global");
	size_t i;

	if (!dg)
		dg = kd_value_map(r->a, 4);
	else if (dg->type != KD_MAP)
		return;
	if (!sg)
		return (void)set(r, dest, "global", dg);
	if (sg->type != KD_MAP)
		return;
	for (i = 0; i < sg->u.map.len; i++) {
		kd_map_ent *e = &sg->u.map.ents[i];
		kd_value *dv = kd_map_get(dg, e->key, e->klen);

		if (e->val->type == KD_MAP) {
			kd_value *vv = shallow(r, e->val);

			if (!dv) {
				kd_map_set(r->a, dg, e->key, e->klen, vv);
			} else if (dv->type == KD_MAP) {
				kd_chart_coalesce_tables(r->a, vv, dv, true);
				kd_map_set(r->a, dg, e->key, e->klen, vv);
			}
		} else if (!(dv && dv->type == KD_MAP)) {
			kd_map_set(r->a, dg, e->key, e->klen, e->val);
		}
	}
	set(r, dest, "global", dg);
}

static int coalesce_deps(rctx *r, node *n, kd_value *dest, bool merge)
{
	size_t i;

	for (i = 0; i < n->nsubs; i++) {
		node *s = n->subs[i];
		kd_value *dv = kd_map_getz(dest, s->name);
		int rc;

		if (!dv) {
			dv = kd_value_map(r->a, 4);
			set(r, dest, s->name, dv);
		} else if (dv->type != KD_MAP) {
			return kd_err_set(r->err, KD_ETYPE,
					  "type mismatch on %s: %%!t(%s=%s): values for a subchart must be a map",
					  s->name, kd_vtype_name(dv->type), s->name);
		}
		coalesce_globals(r, dv, dest);
		rc = coalesce(r, s, dv, merge);
		if (rc)
			return rc;
	}
	return 0;
}

static int coalesce(rctx *r, node *n, kd_value *dest, bool merge)
{
	coalesce_values(r, n, dest, merge);
	if (r->oom)
		return oom(r);
	return coalesce_deps(r, n, dest, merge);
}

/* CoalesceValues (merge false) and MergeValues (merge true). */
int kd_chart_coalesce_top(rctx *r, node *n, const kd_value *v, bool merge,
			kd_value **out)
{
	kd_value *c = v ? kd_value_copy(r->a, v) : kd_value_map(r->a, 8);
	int rc;

	if (!c)
		return oom(r);
	rc = coalesce(r, n, c, merge);
	if (rc)
		return rc;
	*out = c;
	return 0;
}

/* ---- dependencies (chartutil/dependencies.go) ---- */

static node *copy_node(rctx *r, node *o)
{
	node *n = kd_arena_alloc(r->a, sizeof *n);

	if (!n) {
		r->oom = 1;
		return NULL;
	}
	*n = *o;
	if (o->deps && !(n->deps = kd_value_copy(r->a, o->deps)))
		r->oom = 1;
	return n;
}

static node *alias_dep(rctx *r, node *n, kd_value *req)
{
	size_t i;

	for (i = 0; i < n->nsubs; i++) {
		node *c = n->subs[i], *out;
		const char *alias = dstr(req, "alias");

		if (strcmp(c->name, dstr(req, "name")) ||
		    !kd_chart_compatible(r, dstr(req, "version"), c->c->version))
			continue;
		out = copy_node(r, c);
		if (out && *alias)
			out->name = alias;
		return out;
	}
	return NULL;
}

static void push_node(rctx *r, node ***arr, size_t *n, node *x)
{
	node **g = kd_arena_grow(r->a, *arr, *n * sizeof *g, (*n + 1) * sizeof *g);

	if (!g) {
		r->oom = 1;
		return;
	}
	g[(*n)++] = x;
	*arr = g;
}

static void dep_tags(kd_value *deps, kd_value *cvals)
{
	kd_value *vt = table(cvals, "tags");
	size_t i, k;

	if (!vt)
		return;
	for (i = 0; i < deps->u.list.len; i++) {
		kd_value *d = deps->u.list.items[i];
		kd_value *tags = kd_map_getz(d, "tags");
		bool t = false, f = false;

		for (k = 0; tags && tags->type == KD_LIST && k < tags->u.list.len; k++) {
			kd_value *tg = tags->u.list.items[k], *b;

			if (tg->type != KD_STR)
				continue;
			b = kd_map_get(vt, tg->u.str.ptr, tg->u.str.len);
			if (b && b->type == KD_BOOL) {
				if (b->u.b)
					t = true;
				else
					f = true;
			}
		}
		if (!t && f)
			kd_map_getz(d, "enabled")->u.b = false;
		else
			kd_map_getz(d, "enabled")->u.b = true;
	}
}

static void dep_conditions(rctx *r, kd_value *deps, kd_value *cvals,
			   const char *path)
{
	size_t i;

	for (i = 0; i < deps->u.list.len; i++) {
		kd_value *d = deps->u.list.items[i];
		const char *cond = dstr(d, "condition"), *s, *e;
		char *buf;
		size_t pl = strlen(path);

		while (*cond == ' ' || *cond == '\t' || *cond == '\n' || *cond == '\r')
			cond++;
		e = cond + strlen(cond);
		while (e > cond && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
			e--;
		buf = kd_arena_alloc(r->a, pl + (size_t)(e - cond) + 1);
		if (!buf) {
			r->oom = 1;
			return;
		}
		for (s = cond; s < e; ) {
			const char *c = memchr(s, ',', (size_t)(e - s));
			size_t n;
			kd_value *vv;

			if (!c)
				c = e;
			n = (size_t)(c - s);
			if (n) {
				memcpy(buf, path, pl);
				memcpy(buf + pl, s, n);
				buf[pl + n] = 0;
				vv = path_value(r, cvals, buf);
				if (vv && vv->type == KD_BOOL) {
					kd_map_getz(d, "enabled")->u.b = vv->u.b;
					break;
				}
			}
			s = c + 1;
		}
	}
}

int kd_chart_dep_enabled(rctx *r, node *n, kd_value *v, const char *path,
		       int depth)
{
	node **subs = NULL, **keep = NULL;
	size_t nsubs = 0, nkeep = 0, i, k;
	kd_value *cvals, *kdeps;
	int rc;

	if (!n->deps)
		return 0;
	if (depth > KD_LIMIT_CHART_DEPTH)
		return kd_err_set(r->err, KD_ELIMIT, "chart %s: subcharts nested too deeply", n->name);
	for (i = 0; i < n->nsubs; i++) {
		node *ex = n->subs[i];
		bool listed = false;

		for (k = 0; k < n->deps->u.list.len; k++) {
			kd_value *req = n->deps->u.list.items[k];

			if (!strcmp(ex->name, dstr(req, "name")) &&
			    kd_chart_compatible(r, dstr(req, "version"), ex->c->version)) {
				listed = true;
				break;
			}
		}
		if (!listed)
			push_node(r, &subs, &nsubs, ex);
	}
	for (k = 0; k < n->deps->u.list.len; k++) {
		kd_value *req = n->deps->u.list.items[k];
		node *d = alias_dep(r, n, req);
		const char *alias = dstr(req, "alias");

		if (d)
			push_node(r, &subs, &nsubs, d);
		if (*alias)
			set(r, req, "name", S(r, alias));
	}
	n->subs = subs;
	n->nsubs = nsubs;
	for (k = 0; k < n->deps->u.list.len; k++)
		set(r, n->deps->u.list.items[k], "enabled", kd_value_bool(r->a, true));
	if (r->oom)
		return oom(r);
	{
		rctx tr = *r;

		tr.a = r->scratch;
		rc = kd_chart_coalesce_top(&tr, n, v, false, &cvals);
		if (rc)
			return rc;
	}
	dep_tags(n->deps, cvals);
	dep_conditions(r, n->deps, cvals, path);
	kdeps = kd_value_list(r->a, n->deps->u.list.len);
	if (!kdeps)
		return oom(r);
	for (i = 0; i < n->nsubs; i++) {
		bool off = false;

		for (k = 0; k < n->deps->u.list.len; k++) {
			kd_value *req = n->deps->u.list.items[k];

			if (!kd_map_getz(req, "enabled")->u.b &&
			    !strcmp(dstr(req, "name"), n->subs[i]->name))
				off = true;
		}
		if (!off)
			push_node(r, &keep, &nkeep, n->subs[i]);
	}
	for (k = 0; k < n->deps->u.list.len; k++) {
		kd_value *req = n->deps->u.list.items[k];
		bool off = false;
		size_t j;

		for (j = 0; j < n->deps->u.list.len; j++) {
			kd_value *o = n->deps->u.list.items[j];

			if (!kd_map_getz(o, "enabled")->u.b &&
			    !strcmp(dstr(o, "name"), dstr(req, "name")))
				off = true;
		}
		if (!off && kd_list_push(r->a, kdeps, req))
			return oom(r);
	}
	if (r->oom)
		return oom(r);
	for (i = 0; i < nkeep; i++) {
		size_t pl = strlen(path) + strlen(keep[i]->name) + 2;
		char *sp = kd_arena_alloc(r->a, pl);

		if (!sp)
			return oom(r);
		snprintf(sp, pl, "%s%s.", path, keep[i]->name);
		rc = kd_chart_dep_enabled(r, keep[i], cvals, sp, depth + 1);
		if (rc)
			return rc;
	}
	n->deps = kdeps->u.list.len ? kdeps : NULL;
	n->subs = keep;
	n->nsubs = nkeep;
	return 0;
}

/* pathToMap: {"a": {"b": data}} for "a.b"; "." is data itself. */
static kd_value *path_to_map(rctx *r, const char *path, kd_value *data)
{
	kd_value *top, *cur;
	const char *p = path;

	if (!strcmp(path, "."))
		return data;
	top = cur = kd_value_map(r->a, 1);
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!dot) {
			kd_map_set(r->a, cur, p, n, data);
			return top;
		}
		{
			kd_value *nx = kd_value_map(r->a, 1);

			kd_map_set(r->a, cur, p, n, nx);
			cur = nx;
		}
		p = dot + 1;
	}
}

int kd_chart_import_values(rctx *r, node *n)
{
	kd_value *cvals, *b;
	size_t i, k;
	int rc;

	for (i = 0; i < n->nsubs; i++) {
		rc = kd_chart_import_values(r, n->subs[i]);
		if (rc)
			return rc;
	}
	if (!n->deps)
		return 0;
	{
		rctx tr = *r;

		tr.a = r->scratch;
		rc = kd_chart_coalesce_top(&tr, n, NULL, true, &cvals);
		if (rc)
			return rc;
	}
	b = kd_value_map(r->a, 4);
	for (i = 0; i < n->deps->u.list.len; i++) {
		kd_value *req = n->deps->u.list.items[i];
		kd_value *iv = kd_map_getz(req, "import-values"), *out;
		const char *dn = dstr(req, "name");

		if (!iv || iv->type != KD_LIST)
			continue;
		out = kd_value_list(r->a, iv->u.list.len);
		for (k = 0; k < iv->u.list.len; k++) {
			kd_value *it = iv->u.list.items[k], *m, *src;
			const char *child, *parent;
			char *tp;

			if (it->type == KD_MAP) {
				child = dstr(it, "child");
				parent = dstr(it, "parent");
			} else if (it->type == KD_STR) {
				char *cc = kd_arena_alloc(r->a, it->u.str.len + 9);

				if (!cc)
					return oom(r);
				sprintf(cc, "exports.%s", it->u.str.ptr);
				child = cc;
				parent = ".";
			} else {
				continue;
			}
			m = kd_value_map(r->a, 2);
			set(r, m, "child", S(r, child));
			set(r, m, "parent", S(r, parent));
			kd_list_push(r->a, out, m);
			tp = kd_arena_alloc(r->a, strlen(dn) + strlen(child) + 2);
			if (!tp)
				return oom(r);
			sprintf(tp, "%s.%s", dn, child);
			src = table(cvals, tp);
			if (!src)
				continue;
			kd_chart_coalesce_tables(r->a, b,
						 path_to_map(r, parent, kd_value_copy(r->a, src)),
						 true);
		}
		set(r, req, "import-values", out);
	}
	cvals = kd_value_copy(r->a, cvals);
	if (!cvals || r->oom)
		return oom(r);
	kd_chart_coalesce_tables(r->a, cvals, b, true);
	n->values = cvals;
	return 0;
}


node *kd_chart_node_new(rctx *r, const kd_chart *c, node *parent, int depth)
{
	node *n = kd_arena_zalloc(r->a, sizeof *n);
	const kd_value *deps = kd_map_getz(c->meta, "dependencies");
	size_t i;

	if (depth > KD_LIMIT_CHART_DEPTH) {
		kd_err_set(r->err, KD_ELIMIT, "chart %s: subcharts nested more than %d deep (KD_LIMIT_CHART_DEPTH)",
			   c->name, KD_LIMIT_CHART_DEPTH);
		r->oom = 1;
		return NULL;
	}
	if (!n) {
		r->oom = 1;
		return NULL;
	}
	n->c = c;
	n->name = c->name;
	n->values = c->values;
	n->parent = parent;
	if (deps && deps->type == KD_LIST) {
		n->deps = kd_value_copy(r->a, deps);
		if (!n->deps)
			r->oom = 1;
	}
	for (i = 0; i < c->nsubs && !r->oom; i++)
		push_node(r, &n->subs, &n->nsubs, kd_chart_node_new(r, c->subs[i], n, depth + 1));
	return n;
}
