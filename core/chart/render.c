/* Rendering a chart the way `helm template` does (Helm v3.15): dependency
 * processing (chartutil.ProcessDependenciesWithMerge), value coalescing
 * (chartutil.CoalesceValues), the engine over every chart's templates, and
 * the manifest sorting of releaseutil. */
#include "chart/internal.h"

#include "base/limits.h"
#include "semver/semver.h"
#include "chart/funcs.h"
#include "tmpl/tmpl.h"
#include "yaml/yaml.h"

#include <yaml.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELM_VERSION "v3.15.4"
#define HELM_COMMIT "fa9efb07d9d8debbb4306d72af76a383895aa8c4"
#define HELM_GO "go1.22.5"

typedef struct node node;
struct node {
	const kd_chart *c;
	const char *name;  /* Chart.yaml's name, or the dependency's alias */
	kd_value *values;  /* the chart's values (import-values may extend) */
	kd_value *deps;    /* Chart.yaml dependencies (copies), NULL if none */
	node **subs;
	size_t nsubs;
	node *parent;
	const char *full;  /* ChartFullPath */
	kd_value *ctx;     /* the template data of this chart */
	kd_value *files;   /* .Files */
};

typedef struct rctx {
	kd_arena *a;
	kd_arena *scratch; /* values only needed while dependencies are processed */
	kd_err *err;
	const kd_chart_opts *o;
	int oom;
} rctx;

static int oom(rctx *r)
{
	return kd_err_set(r->err, KD_ENOMEM, "out of memory while rendering");
}

static kd_value *S(rctx *r, const char *s)
{
	kd_value *v = kd_value_strz(r->a, s);

	if (!v)
		r->oom = 1;
	return v;
}

static void set(rctx *r, kd_value *m, const char *k, kd_value *v)
{
	if (!v || kd_map_setz(r->a, m, k, v))
		r->oom = 1;
}

static const char *dstr(const kd_value *m, const char *k)
{
	const kd_value *v = m && m->type == KD_MAP ? kd_map_getz(m, k) : NULL;

	return v && v->type == KD_STR ? v->u.str.ptr : "";
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

static bool compatible(rctx *r, const char *range, const char *version)
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
static int coalesce_top(rctx *r, node *n, const kd_value *v, bool merge,
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
		    !compatible(r, dstr(req, "version"), c->c->version))
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

static int dep_enabled(rctx *r, node *n, kd_value *v, const char *path,
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
			    compatible(r, dstr(req, "version"), ex->c->version)) {
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
		rc = coalesce_top(&tr, n, v, false, &cvals);
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
		rc = dep_enabled(r, keep[i], cvals, sp, depth + 1);
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

static int import_values(rctx *r, node *n)
{
	kd_value *cvals, *b;
	size_t i, k;
	int rc;

	for (i = 0; i < n->nsubs; i++) {
		rc = import_values(r, n->subs[i]);
		if (rc)
			return rc;
	}
	if (!n->deps)
		return 0;
	{
		rctx tr = *r;

		tr.a = r->scratch;
		rc = coalesce_top(&tr, n, NULL, true, &cvals);
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

/* ---- the tree and the template data ---- */

static node *mk_node(rctx *r, const kd_chart *c, node *parent, int depth)
{
	node *n = kd_arena_zalloc(r->a, sizeof *n);
	const kd_value *deps = kd_map_getz(c->meta, "dependencies");
	size_t i;

	if (!n || depth > KD_LIMIT_CHART_DEPTH) {
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
		push_node(r, &n->subs, &n->nsubs, mk_node(r, c->subs[i], n, depth + 1));
	return n;
}

static kd_value *str_list(rctx *r, const kd_value *v)
{
	kd_value *l = kd_value_list(r->a, 4);
	size_t i;

	if (!l) {
		r->oom = 1;
		return NULL;
	}
	for (i = 0; v && v->type == KD_LIST && i < v->u.list.len; i++) {
		kd_value *it = v->u.list.items[i];

		if (it->type == KD_STR)
			kd_list_push(r->a, l, it);
	}
	return l;
}

/* chart.Metadata as the struct templates see (every field present). */
static kd_value *chart_meta(rctx *r, node *n, bool root)
{
	static const char *const strs[][2] = {
		{"Home", "home"}, {"Version", "version"},
		{"Description", "description"}, {"Icon", "icon"},
		{"APIVersion", "apiVersion"}, {"Condition", "condition"},
		{"Tags", "tags"}, {"AppVersion", "appVersion"},
		{"KubeVersion", "kubeVersion"}, {"Type", "type"},
	};
	const kd_value *m = n->c->meta, *v;
	kd_value *o = kd_value_map(r->a, 20), *l;
	size_t i;

	if (!o) {
		r->oom = 1;
		return NULL;
	}
	set(r, o, "Name", S(r, n->name));
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		const char *s = dstr(m, strs[i][1]);

		if (!strcmp(strs[i][1], "apiVersion"))
			s = n->c->api_version;
		else if (!strcmp(strs[i][1], "version"))
			s = n->c->version;
		set(r, o, strs[i][0], S(r, s));
	}
	set(r, o, "Sources", str_list(r, kd_map_getz(m, "sources")));
	set(r, o, "Keywords", str_list(r, kd_map_getz(m, "keywords")));
	l = kd_value_list(r->a, 2);
	v = kd_map_getz(m, "maintainers");
	for (i = 0; l && v && v->type == KD_LIST && i < v->u.list.len; i++) {
		kd_value *mt = kd_value_map(r->a, 3);
		const kd_value *src = v->u.list.items[i];

		set(r, mt, "Name", S(r, dstr(src, "name")));
		set(r, mt, "Email", S(r, dstr(src, "email")));
		set(r, mt, "URL", S(r, dstr(src, "url")));
		kd_list_push(r->a, l, mt);
	}
	set(r, o, "Maintainers", l);
	v = kd_map_getz(m, "deprecated");
	set(r, o, "Deprecated", kd_value_bool(r->a, v && v->type == KD_BOOL && v->u.b));
	l = kd_value_map(r->a, 4);
	v = kd_map_getz(m, "annotations");
	for (i = 0; l && v && v->type == KD_MAP && i < v->u.map.len; i++)
		if (v->u.map.ents[i].val->type == KD_STR)
			kd_map_set(r->a, l, v->u.map.ents[i].key, v->u.map.ents[i].klen,
				   v->u.map.ents[i].val);
	set(r, o, "Annotations", l);
	l = kd_value_list(r->a, 4);
	for (i = 0; l && n->deps && i < n->deps->u.list.len; i++) {
		kd_value *d = n->deps->u.list.items[i], *e, *dv;

		e = kd_value_map(r->a, 8);
		set(r, e, "Name", S(r, dstr(d, "name")));
		set(r, e, "Version", S(r, dstr(d, "version")));
		set(r, e, "Repository", S(r, dstr(d, "repository")));
		set(r, e, "Condition", S(r, dstr(d, "condition")));
		set(r, e, "Tags", str_list(r, kd_map_getz(d, "tags")));
		dv = kd_map_getz(d, "enabled");
		set(r, e, "Enabled", kd_value_bool(r->a, dv && dv->type == KD_BOOL && dv->u.b));
		dv = kd_map_getz(d, "import-values");
		set(r, e, "ImportValues", dv ? dv : kd_value_list(r->a, 0));
		set(r, e, "Alias", S(r, dstr(d, "alias")));
		kd_list_push(r->a, l, e);
	}
	set(r, o, "Dependencies", l);
	set(r, o, "IsRoot", kd_value_bool(r->a, root));
	return o;
}

static const char *const default_apis[] = {
	"v1",
	"admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1",
	"admissionregistration.k8s.io/v1beta1",
	"internal.apiserver.k8s.io/v1alpha1",
	"apps/v1", "apps/v1beta1", "apps/v1beta2",
	"authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1",
	"authentication.k8s.io/v1beta1",
	"authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
	"autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1",
	"autoscaling/v2beta2",
	"batch/v1", "batch/v1beta1",
	"certificates.k8s.io/v1", "certificates.k8s.io/v1alpha1",
	"certificates.k8s.io/v1beta1",
	"coordination.k8s.io/v1", "coordination.k8s.io/v1beta1",
	"discovery.k8s.io/v1", "discovery.k8s.io/v1beta1",
	"events.k8s.io/v1", "events.k8s.io/v1beta1",
	"extensions/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1beta2",
	"flowcontrol.apiserver.k8s.io/v1beta3",
	"networking.k8s.io/v1", "networking.k8s.io/v1alpha1",
	"networking.k8s.io/v1beta1",
	"node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1",
	"policy/v1", "policy/v1beta1",
	"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1alpha1",
	"rbac.authorization.k8s.io/v1beta1",
	"resource.k8s.io/v1alpha2",
	"scheduling.k8s.io/v1", "scheduling.k8s.io/v1alpha1",
	"scheduling.k8s.io/v1beta1",
	"storage.k8s.io/v1", "storage.k8s.io/v1alpha1", "storage.k8s.io/v1beta1",
	"storagemigration.k8s.io/v1alpha1",
	"apiextensions.k8s.io/v1beta1", "apiextensions.k8s.io/v1",
};

static int capabilities(rctx *r, kd_value **out, const char **kv_out)
{
	const char *kv = r->o && r->o->kube_version ? r->o->kube_version : KD_CHART_DEFAULT_KUBE_VERSION;
	kd_semver sv;
	char canon[256], buf[300], num[32];
	kd_value *caps = kd_value_map(r->a, 3), *k, *h, *apis;
	size_t i;

	if (kd_semver_parse(&sv, kv, strlen(kv), 1, r->err)) {
		kd_err_prefix(r->err, "invalid kube version \"%s\"", kv);
		return KD_EINVAL;
	}
	kd_semver_format(&sv, canon, sizeof canon);
	snprintf(buf, sizeof buf, "v%s", canon);
	*kv_out = kd_arena_strdup(r->a, buf);
	k = kd_value_map(r->a, 4);
	set(r, k, "Version", S(r, buf));
	snprintf(num, sizeof num, "%llu", (unsigned long long)sv.major);
	set(r, k, "Major", S(r, num));
	snprintf(num, sizeof num, "%llu", (unsigned long long)sv.minor);
	set(r, k, "Minor", S(r, num));
	set(r, k, "GitVersion", S(r, buf));
	h = kd_value_map(r->a, 4);
	set(r, h, "Version", S(r, HELM_VERSION));
	set(r, h, "GitCommit", S(r, HELM_COMMIT));
	set(r, h, "GitTreeState", S(r, "clean"));
	set(r, h, "GoVersion", S(r, HELM_GO));
	apis = kd_value_list(r->a, 64);
	for (i = 0; apis && !(r->o && r->o->api_versions_only) &&
		    i < sizeof default_apis / sizeof default_apis[0]; i++)
		kd_list_push(r->a, apis, S(r, default_apis[i]));
	for (i = 0; apis && r->o && i < r->o->n_api_versions; i++)
		kd_list_push(r->a, apis, S(r, r->o->api_versions[i]));
	set(r, caps, "APIVersions", apis);
	set(r, caps, "KubeVersion", k);
	set(r, caps, "HelmVersion", h);
	if (r->oom || !*kv_out)
		return oom(r);
	*out = caps;
	return 0;
}

typedef struct tpl {
	const char *name;
	int depth; /* '/'s in the name */
	const kd_chart_file *f;
	node *n;
	const char *base;
} tpl;

typedef struct tpls {
	tpl *t;
	size_t n;
} tpls;

static int slashes(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

static bool is_library(const node *n)
{
	return !strcmp(n->c->type, "library");
}

static void all_tpls(rctx *r, node *n, node *parent, tpls *ts,
		     kd_value *parent_ctx, kd_value *rel, kd_value *caps,
		     kd_value *root_vals)
{
	kd_value *ctx = kd_value_map(r->a, 8), *subs = kd_value_map(r->a, 4);
	kd_value *files = kd_value_map(r->a, n->c->nfiles);
	size_t i;
	char *base;

	if (!ctx || !subs || !files) {
		r->oom = 1;
		return;
	}
	/* processing may have copied nodes: the parent is the one walked */
	n->parent = parent;
	if (n->parent) {
		size_t l = strlen(n->parent->full) + strlen(n->name) + 9;
		char *f = kd_arena_alloc(r->a, l);

		if (!f) {
			r->oom = 1;
			return;
		}
		snprintf(f, l, "%s/charts/%s", n->parent->full, n->name);
		n->full = f;
	} else {
		n->full = n->name;
	}
	for (i = 0; i < n->c->nfiles; i++) {
		const kd_chart_file *f = &n->c->files[i];

		if (kd_map_setz(r->a, files, f->name, kd_value_str_ref(r->a, f->data, f->len)))
			r->oom = 1;
	}
	n->files = files;
	set(r, ctx, "Chart", chart_meta(r, n, !n->parent));
	set(r, ctx, "Files", files);
	set(r, ctx, "Release", rel);
	set(r, ctx, "Capabilities", caps);
	if (!n->parent) {
		set(r, ctx, "Values", root_vals);
	} else {
		kd_value *pv = kd_map_getz(parent_ctx, "Values");
		kd_value *v = pv && pv->type == KD_MAP ? kd_map_getz(pv, n->name) : NULL;

		set(r, ctx, "Values", v && v->type == KD_MAP ? v : kd_value_map(r->a, 0));
	}
	set(r, ctx, "Subcharts", subs);
	n->ctx = ctx;
	for (i = 0; i < n->nsubs && !r->oom; i++) {
		all_tpls(r, n->subs[i], n, ts, ctx, rel, caps, root_vals);
		set(r, subs, n->subs[i]->name, n->subs[i]->ctx);
	}
	base = kd_arena_alloc(r->a, strlen(n->full) + 11);
	if (!base) {
		r->oom = 1;
		return;
	}
	sprintf(base, "%s/templates", n->full);
	for (i = 0; i < n->c->ntemplates; i++) {
		const kd_chart_file *f = &n->c->templates[i];
		const char *bn = strrchr(f->name, '/');
		char *nm;
		tpl *g;

		bn = bn ? bn + 1 : f->name;
		if (is_library(n) && bn[0] != '_')
			continue;
		nm = kd_arena_alloc(r->a, strlen(n->full) + strlen(f->name) + 2);
		g = kd_arena_grow(r->a, ts->t, ts->n * sizeof *g, (ts->n + 1) * sizeof *g);
		if (!nm || !g) {
			r->oom = 1;
			return;
		}
		sprintf(nm, "%s/%s", n->full, f->name);
		ts->t = g;
		g[ts->n].name = nm;
		g[ts->n].depth = slashes(nm);
		g[ts->n].f = f;
		g[ts->n].n = n;
		g[ts->n].base = base;
		ts->n++;
	}
}

/* Helm's sortTemplates: deepest paths first, then reverse name order. */
static int cmp_tpl(const void *pa, const void *pb)
{
	const tpl *a = pa, *b = pb;

	if (a->depth != b->depth)
		return b->depth - a->depth;
	return -strcmp(a->name, b->name);
}

static int cmp_name(const void *pa, const void *pb)
{
	const tpl *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

/* ---- errors as Helm words them ---- */

static void helm_error(kd_err *err, const char *fallback_file)
{
	char msg[KD_ERR_MSG_MAX];
	const char *m = err->msg, *loc, *locend, *rest;

	if (strncmp(m, "template: ", 10)) {
		snprintf(msg, sizeof msg, "%s: %.900s", fallback_file, m);
		snprintf(err->msg, sizeof err->msg, "%s", msg);
		return;
	}
	loc = m + 10;
	locend = strstr(loc, ": ");
	if (!locend)
		return;
	rest = locend + 2;
	if (err->code == KD_EPARSE) {
		const char *last = rest, *p;

		for (p = rest; (p = strstr(p, ": ")); p += 2)
			last = p + 2;
		snprintf(msg, sizeof msg, "parse error at (%.*s): %s",
			 (int)(locend - loc), loc, last);
		snprintf(err->msg, sizeof err->msg, "%s", msg);
		return;
	}
	{
		static const char *const marks[] = {"error calling required: ",
						    "error calling fail: "};
		const char *best = NULL, *p;
		size_t i;

		for (i = 0; i < 2; i++)
			for (p = m; (p = strstr(p, marks[i])); p += strlen(marks[i]))
				if (!best || p + strlen(marks[i]) > best)
					best = p + strlen(marks[i]);
		if (best && !strchr(best, '\n')) {
			snprintf(msg, sizeof msg, "execution error at (%.*s): %s",
				 (int)(locend - loc), loc, best);
			snprintf(err->msg, sizeof err->msg, "%s", msg);
		} else if (best) {
			/* Helm's pattern does not cross lines: it prints Go's
			 * error chain, markers around the message included */
			snprintf(msg, sizeof msg, "%.*sHELM[%s]HELM", (int)(best - m), m, best);
			snprintf(err->msg, sizeof err->msg, "%s", msg);
		}
	}
}

/* ---- manifests (releaseutil) ---- */

static const char *const install_order[] = {
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota",
	"LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
	"ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
	"ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
	"RoleBindingList", "Service", "DaemonSet", "Pod",
	"ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "APIService",
};

static int kind_rank(const char *k)
{
	size_t i;

	for (i = 0; i < sizeof install_order / sizeof install_order[0]; i++)
		if (!strcmp(k, install_order[i]))
			return (int)i;
	return -1;
}

typedef struct mf {
	kd_chart_manifest m;
	int rank;
	size_t seq;
} mf;

static bool less_kind(const mf *a, const mf *b)
{
	if (a->rank < 0 && b->rank < 0)
		return strcmp(a->m.kind, b->m.kind) < 0;
	if (a->rank < 0)
		return false;
	if (b->rank < 0)
		return true;
	return a->rank < b->rank;
}

/* A stable sort: merge sort on the kind order. */
static void sort_kinds(mf *v, size_t n, mf *tmp)
{
	size_t h, i, j, k;

	if (n < 2)
		return;
	h = n / 2;
	sort_kinds(v, h, tmp);
	sort_kinds(v + h, n - h, tmp);
	for (i = 0, j = h, k = 0; i < h || j < n; )
		if (j == n || (i < h && !less_kind(&v[j], &v[i])))
			tmp[k++] = v[i++];
		else
			tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

typedef struct piece {
	const char *s;
	size_t n;
} piece;

/* releaseutil.SplitManifests: the regexp (?:^|\s*\n)---\s* over the
 * trimmed text, every piece trimmed. Fills out with up to max pieces (the
 * ones not empty before trimming) and returns how many there are. */
static size_t split_docs(const char *s, size_t n, piece *out, size_t max)
{
	size_t pos = 0, start = 0, cnt = 0, j;

	trim(&s, &n);
	if (n >= 3 && !memcmp(s, "---", 3)) {
		pos = 3;
		while (pos < n && is_space(s[pos]))
			pos++;
		start = pos;
	}
	for (;;) {
		const char *d;
		size_t dn;

		for (j = pos; j + 3 < n; j++) {
			const char *nl = memchr(s + j, '\n', n - 3 - j);

			if (!nl) {
				j = n;
				break;
			}
			j = (size_t)(nl - s);
			if (s[j + 1] == '-' && s[j + 2] == '-' && s[j + 3] == '-')
				break;
		}
		if (j + 3 >= n)
			j = n;
		d = s + start;
		dn = j - start;
		if (dn && cnt < max) {
			trim(&d, &dn);
			out[cnt].s = d;
			out[cnt].n = dn;
			cnt++;
		} else if (dn) {
			cnt++;
		}
		if (j >= n)
			break;
		pos = j + 4;
		while (pos < n && is_space(s[pos]))
			pos++;
		start = pos;
	}
	return cnt;
}

static const char *const hook_events[] = {
	"pre-install", "post-install", "pre-delete", "post-delete",
	"pre-upgrade", "post-upgrade", "pre-rollback", "post-rollback",
	"test", "test-success",
};

typedef struct mlist {
	mf *v;
	size_t n, cap;
} mlist;

static int mpush(rctx *r, mlist *l, const mf *m)
{
	if (l->n >= KD_LIMIT_CHART_MANIFESTS)
		return kd_err_set(r->err, KD_ELIMIT, "more than %u manifests (KD_LIMIT_CHART_MANIFESTS)",
				  KD_LIMIT_CHART_MANIFESTS);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		mf *v = kd_arena_grow(r->a, l->v, l->cap * sizeof *v, cap * sizeof *v);

		if (!v)
			return oom(r);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *m;
	return 0;
}

/* releaseutil's SimpleHead, read from libyaml's events without building
 * the document: the whole document is parsed (invalid YAML fails the
 * render, naming file and line), and only kind and
 * metadata.annotations["helm.sh/hook"] are kept. As in sigs.k8s.io/yaml,
 * scalars become strings where the head wants strings, and a mapping or a
 * sequence there is an error. */
typedef struct head {
	char *kind;
	char *hook;   /* NULL when there is no hook annotation */
} head;

static bool yaml_null(const yaml_event_t *e)
{
	const char *v = (const char *)e->data.scalar.value;
	size_t n = e->data.scalar.length;

	if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
			   !memcmp(v, "NULL", 4)));
}

/* The head of one document, fed libyaml's events one by one. */
typedef struct hscan {
	int depth;
	int where;      /* 0, or the tracked map we are directly in: */
	int state[4];   /* 1 top, 2 metadata, 3 annotations; next is a value */
	char key[4][64]; /* the last key at each tracked level ("" if long) */
	head *h;
} hscan;

enum { IN_TOP = 1, IN_META = 2, IN_ANN = 3 };

static void hscan_start(hscan *hs, head *h)
{
	memset(hs, 0, sizeof *hs);
	memset(h, 0, sizeof *h);
	hs->h = h;
}

/* 0, or an error for a head field of the wrong shape. */
static int hscan_event(rctx *r, hscan *hs, const yaml_event_t *e,
		       const char *path)
{
	int type = e->type, w = hs->where;
	bool is_key = false;

	if (w && hs->depth == w &&
	    (type == YAML_SCALAR_EVENT || type == YAML_MAPPING_START_EVENT ||
	     type == YAML_SEQUENCE_START_EVENT || type == YAML_ALIAS_EVENT)) {
		is_key = hs->state[w] == 0;
		hs->state[w] ^= 1;
	}
	switch (type) {
	case YAML_SCALAR_EVENT: {
		const char *v = (const char *)e->data.scalar.value;
		size_t n = e->data.scalar.length;

		if (is_key && w) {
			if (n < sizeof hs->key[w]) {
				memcpy(hs->key[w], v, n);
				hs->key[w][n] = 0;
			} else {
				hs->key[w][0] = 0;
			}
		} else if (w && hs->depth == w) {
			char **dst = NULL;

			if (w == IN_TOP && !strcmp(hs->key[w], "kind"))
				dst = &hs->h->kind;
			else if (w == IN_ANN && !strcmp(hs->key[w], "helm.sh/hook"))
				dst = &hs->h->hook;
			if (dst) {
				*dst = yaml_null(e) ? kd_arena_strdup(r->a, "")
					: kd_arena_strndup(r->a, v, n);
				if (!*dst)
					return oom(r);
			}
		}
		return 0;
	}
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT: {
		bool map = type == YAML_MAPPING_START_EVENT;
		const char *k = w && hs->depth == w && !is_key ? hs->key[w] : NULL;

		if (k && ((w == IN_TOP && !strcmp(k, "kind")) || w == IN_ANN))
			return kd_err_set(r->err, KD_EPARSE,
					  "YAML parse error on %s: error unmarshaling JSON: json: cannot unmarshal %s into Go struct field %s of type string",
					  path, map ? "object" : "array",
					  w == IN_TOP ? "SimpleHead.kind" : ".metadata.annotations");
		if (++hs->depth > KD_LIMIT_DEPTH)
			return kd_err_set(r->err, KD_ELIMIT, "YAML parse error on %s: nested too deeply",
					  path);
		if (map && hs->depth == 1 && !w)
			hs->where = IN_TOP;
		else if (map && k && w == IN_TOP && hs->depth == 2 && !strcmp(k, "metadata"))
			hs->where = IN_META;
		else if (map && k && w == IN_META && hs->depth == 3 && !strcmp(k, "annotations"))
			hs->where = IN_ANN;
		else
			return 0;
		hs->state[hs->where] = 0;
		hs->key[hs->where][0] = 0;
		return 0;
	}
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (w && hs->depth == w)
			hs->where--;
		hs->depth--;
		return 0;
	default:
		return 0;
	}
}

static int hscan_end(rctx *r, hscan *hs)
{
	if (!hs->h->kind && !(hs->h->kind = kd_arena_strdup(r->a, "")))
		return oom(r);
	return 0;
}

/* go-yaml v2's wording, line numbers included: the problem's 0-based
 * line for parser errors, 1-based for scanner errors, else the
 * context's. */
static int yaml_error(rctx *r, const yaml_parser_t *p, const char *path)
{
	const char *what = p->problem ? p->problem : "unknown problem parsing YAML content";
	size_t line = 0;

	if (p->problem_mark.line)
		line = p->problem_mark.line + (p->error == YAML_SCANNER_ERROR);
	else if (p->context_mark.line)
		line = p->context_mark.line;
	if (line)
		return kd_err_set(r->err, KD_EPARSE,
				  "YAML parse error on %s: error converting YAML to JSON: yaml: line %zu: %s",
				  path, line, what);
	return kd_err_set(r->err, KD_EPARSE,
			  "YAML parse error on %s: error converting YAML to JSON: yaml: %s",
			  path, what);
}

/* One document on its own, as releaseutil reads it (go-yaml reads the
 * first document only). */
static int scan_head(rctx *r, const char *path, const char *text, size_t len,
		     head *h)
{
	yaml_parser_t p;
	yaml_event_t e;
	hscan hs;
	int rc = 0, done = 0;

	hscan_start(&hs, h);
	if (!yaml_parser_initialize(&p))
		return oom(r);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&p, &e)) {
			rc = yaml_error(r, &p, path);
			break;
		}
		if (e.type == YAML_DOCUMENT_END_EVENT || e.type == YAML_STREAM_END_EVENT)
			done = 1;
		else
			rc = hscan_event(r, &hs, &e, path);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return rc ? rc : hscan_end(r, &hs);
}

typedef struct doc {
	const char *path;
	piece p;
	head h;
} doc;

/* Every document of the render in one libyaml stream ("---" before each):
 * one parser instead of one per document. When the stream does not come
 * apart into exactly those documents (an error, a "..." inside one), the
 * documents are read one by one, which gives Helm's exact answer and
 * message. */
static int scan_heads(rctx *r, doc *d, size_t n)
{
	kd_buf all = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES * 2u);
	yaml_parser_t p;
	yaml_event_t e;
	hscan hs;
	size_t i, cur = 0;
	int rc = 0, ok = 1, in_doc = 0;

	for (i = 0; i < n; i++) {
		kd_buf_puts(&all, "---\n");
		kd_buf_put(&all, d[i].p.s, d[i].p.n);
		kd_buf_putc(&all, '\n');
	}
	if (all.failed || !yaml_parser_initialize(&p)) {
		kd_buf_free(&all);
		return oom(r);
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)all.ptr, all.len);
	for (;;) {
		if (!yaml_parser_parse(&p, &e)) {
			ok = 0;
			break;
		}
		if (e.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		if (e.type == YAML_DOCUMENT_START_EVENT) {
			if (e.data.document_start.implicit || cur >= n || in_doc) {
				ok = 0;
			} else {
				hscan_start(&hs, &d[cur].h);
				in_doc = 1;
			}
		} else if (e.type == YAML_DOCUMENT_END_EVENT) {
			if (in_doc && hscan_end(r, &hs))
				ok = 0;
			in_doc = 0;
			cur++;
		} else if (in_doc && hscan_event(r, &hs, &e, d[cur].path)) {
			ok = 0;
		}
		yaml_event_delete(&e);
		if (!ok)
			break;
	}
	yaml_parser_delete(&p);
	kd_buf_free(&all);
	if (ok && cur == n)
		return 0;
	kd_err_clear(r->err);
	for (i = 0; i < n && !rc; i++)
		rc = scan_head(r, d[i].path, d[i].p.s, d[i].p.n, &d[i].h);
	return rc;
}

static int classify(rctx *r, const doc *d, mlist *gen, mlist *hooks)
{
	const head h = d->h;
	const char *path = d->path;
	const piece *p = &d->p;
	mf m;

	memset(&m, 0, sizeof m);
	m.m.source = path;
	m.m.text = p->s;
	m.m.len = p->n;
	m.m.kind = h.kind;
	m.rank = kind_rank(m.m.kind);
	if (!h.hook)
		return mpush(r, gen, &m);
	{
		const char *s = h.hook;

		for (;;) {
			const char *c = strchr(s, ',');
			size_t n = c ? (size_t)(c - s) : strlen(s), i;
			char ev[64];
			bool known = false;

			trim(&s, &n);
			if (n < sizeof ev) {
				for (i = 0; i < n; i++)
					ev[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
				ev[n] = 0;
				for (i = 0; i < sizeof hook_events / sizeof hook_events[0]; i++)
					if (!strcmp(ev, hook_events[i])) {
						known = true;
						if (i >= 8)
							m.m.test = true;
					}
			}
			if (!known)
				return 0; /* Helm skips an unknown hook */
			if (!c)
				break;
			s = c + 1;
		}
	}
	m.m.hook = true;
	return mpush(r, hooks, &m);
}

static void put_doc(kd_buf *b, const char *src, const char *t, size_t n)
{
	kd_buf_puts(b, "---\n# Source: ");
	kd_buf_puts(b, src);
	kd_buf_putc(b, '\n');
	kd_buf_put(b, t, n);
	kd_buf_putc(b, '\n');
}

static void add_crds(rctx *r, node *n, mlist *crds)
{
	size_t i;

	for (i = 0; i < n->c->nfiles; i++) {
		const kd_chart_file *f = &n->c->files[i];
		size_t l = strlen(f->name);
		mf m;
		char *src;

		if (strncmp(f->name, "crds/", 5))
			continue;
		if (!((l > 5 && !strcmp(f->name + l - 5, ".yaml")) ||
		      (l > 4 && !strcmp(f->name + l - 4, ".yml")) ||
		      (l > 5 && !strcmp(f->name + l - 5, ".json"))))
			continue;
		src = kd_arena_alloc(r->a, strlen(n->full) + l + 2);
		if (!src) {
			r->oom = 1;
			return;
		}
		sprintf(src, "%s/%s", n->full, f->name);
		memset(&m, 0, sizeof m);
		m.m.source = src;
		m.m.text = f->data;
		m.m.len = f->len;
		m.m.kind = "CustomResourceDefinition";
		m.m.crd = true;
		if (mpush(r, crds, &m))
			r->oom = 1;
	}
	for (i = 0; i < n->nsubs; i++)
		add_crds(r, n->subs[i], crds);
}

static int validate_schemas(rctx *r, node *n, const kd_value *vals, kd_buf *msg)
{
	size_t i;
	int rc;

	if (n->c->schema) {
		kd_buf one = KD_BUF_INIT(1 << 20);

		rc = kd_chart_schema_validate(&one, r->a, n->c->schema, n->c->schema_len,
					      vals, r->err);
		if (rc < 0) {
			kd_buf_free(&one);
			kd_err_prefix(r->err, "chart %s: values.schema.json", n->name);
			return rc;
		}
		if (rc > 0)
			kd_buf_printf(msg, "%s:\n%s", n->name, one.ptr);
		kd_buf_free(&one);
	}
	for (i = 0; i < n->nsubs; i++) {
		const kd_value *sv = kd_map_getz(vals, n->subs[i]->name);

		if (!sv || sv->type != KD_MAP)
			continue;
		rc = validate_schemas(r, n->subs[i], sv, msg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int kd_chart_render(kd_chart_result *out, const kd_chart *c,
		    const kd_value *values, const kd_chart_opts *opts,
		    kd_err *err)
{
	kd_chart_result res;
	rctx r;
	node *root;
	kd_value *vals, *rel, *caps = NULL;
	const char *kv = NULL;
	tpls ts = {0};
	kd_tmpl *t = NULL;
	kd_buf buf = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	mlist gen = {0}, hooks = {0}, crds = {0};
	size_t i, k;
	const char **outs = NULL;
	size_t *outlen = NULL;
	int rc = 0;
	bool rendering = false;
	doc *docs = NULL;
	size_t ndocs = 0, capdocs = 0;
	kd_arena scratch = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);

	memset(&res, 0, sizeof res);
	memset(out, 0, sizeof *out);
	kd_arena_init(&res.arena, KD_LIMIT_ARENA_BYTES);
	memset(&r, 0, sizeof r);
	r.a = &res.arena;
	r.scratch = &scratch;
	r.err = err;
	r.o = opts;
	if (values && values->type != KD_MAP) {
		rc = kd_err_set(err, KD_EINVAL, "values must be a map");
		goto cleanup;
	}
	if (*c->type && strcmp(c->type, "application")) {
		rc = kd_err_set(err, KD_EINVAL, "%s charts are not installable", c->type);
		goto cleanup;
	}
	{
		/* action.CheckDependencies */
		const kd_value *deps = kd_map_getz(c->meta, "dependencies");
		kd_buf miss = KD_BUF_INIT(4096);

		for (i = 0; deps && deps->type == KD_LIST && i < deps->u.list.len; i++) {
			const char *dn = dstr(deps->u.list.items[i], "name");

			for (k = 0; k < c->nsubs; k++)
				if (!strcmp(c->subs[k]->name, dn))
					break;
			if (k == c->nsubs)
				kd_buf_printf(&miss, "%s%s", miss.len ? ", " : "", dn);
		}
		if (miss.len) {
			rc = kd_err_set(err, KD_ENOTFOUND,
					"found in Chart.yaml, but missing in charts/ directory: %s",
					miss.ptr);
			kd_buf_free(&miss);
			goto cleanup;
		}
		kd_buf_free(&miss);
	}
	root = mk_node(&r, c, NULL, 0);
	if (r.oom) {
		rc = oom(&r);
		goto cleanup;
	}
	if (!values) {
		values = kd_value_map(r.a, 0);
		if (!values) {
			rc = oom(&r);
			goto cleanup;
		}
	}
	rc = dep_enabled(&r, root, (kd_value *)values, "", 0);
	if (!rc)
		rc = import_values(&r, root);
	kd_arena_free(&scratch);
	if (!rc)
		rc = coalesce_top(&r, root, values, false, &vals);
	if (rc) {
		kd_err_prefix(err, "chart %s", c->name);
		goto cleanup;
	}
	{
		kd_buf sm = KD_BUF_INIT(1 << 20);

		rc = validate_schemas(&r, root, vals, &sm);
		if (!rc && sm.len)
			rc = kd_err_set(err, KD_EINVAL,
					"values don't meet the specifications of the schema(s) in the following chart(s):\n%s",
					sm.ptr);
		kd_buf_free(&sm);
		if (rc)
			goto cleanup;
	}
	rc = capabilities(&r, &caps, &kv);
	if (rc)
		goto cleanup;
	rendering = true;
	{
		const char *kr = dstr(c->meta, "kubeVersion");

		if (*kr && !compatible(&r, kr, kv)) {
			rc = kd_err_set(err, KD_EINVAL,
					"chart requires kubeVersion: %s which is incompatible with Kubernetes %s",
					kr, kv);
			goto cleanup;
		}
	}
	rel = kd_value_map(r.a, 6);
	if (!rel) {
		rc = oom(&r);
		goto cleanup;
	}
	set(&r, rel, "Name", S(&r, opts && opts->release ? opts->release : "release-name"));
	set(&r, rel, "Namespace", S(&r, opts && opts->ns ? opts->ns : "default"));
	set(&r, rel, "IsUpgrade", kd_value_bool(r.a, opts && opts->is_upgrade));
	set(&r, rel, "IsInstall", kd_value_bool(r.a, !(opts && opts->is_upgrade)));
	set(&r, rel, "Revision", kd_value_int(r.a, 1));
	set(&r, rel, "Service", S(&r, "Helm"));
	all_tpls(&r, root, NULL, &ts, NULL, rel, caps, vals);
	if (r.oom) {
		rc = oom(&r);
		goto cleanup;
	}
	qsort(ts.t, ts.n, sizeof *ts.t, cmp_tpl);
	rc = kd_tmpl_new(&t, kd_chart_funcs(), err);
	if (rc)
		goto cleanup;
	for (i = 0; i < ts.n; i++) {
		rc = kd_tmpl_parse_ref(t, ts.t[i].name, ts.t[i].f->data, ts.t[i].f->len, err);
		if (rc) {
			helm_error(err, ts.t[i].name);
			goto cleanup;
		}
	}
	outs = kd_arena_zalloc(r.a, (ts.n + 1) * sizeof *outs);
	outlen = kd_arena_zalloc(r.a, (ts.n + 1) * sizeof *outlen);
	if (!outs || !outlen) {
		rc = oom(&r);
		goto cleanup;
	}
	for (i = 0; i < ts.n; i++) {
		const char *bn = strrchr(ts.t[i].name, '/') + 1;
		kd_value *tv;

		if (bn[0] == '_')
			continue;
		tv = kd_value_map(r.a, 2);
		set(&r, tv, "Name", S(&r, ts.t[i].name));
		set(&r, tv, "BasePath", S(&r, ts.t[i].base));
		set(&r, ts.t[i].n->ctx, "Template", tv);
		if (r.oom) {
			rc = oom(&r);
			goto cleanup;
		}
		kd_chart_set_files(t, ts.t[i].n->files);
		kd_buf_reset(&buf);
		rc = kd_tmpl_exec_in(t, ts.t[i].name, ts.t[i].n->ctx, r.a, &buf, err);
		if (rc) {
			helm_error(err, ts.t[i].name);
			goto cleanup;
		}
		outs[i] = kd_arena_strndup(r.a, buf.ptr, buf.len);
		outlen[i] = buf.len;
		if (!outs[i]) {
			rc = oom(&r);
			goto cleanup;
		}
	}
	/* the template set is done with: release it before the output */
	kd_tmpl_free(t);
	t = NULL;
	/* SortManifests walks the files in name order */
	for (i = 0; i < ts.n; i++)
		ts.t[i].f = (const kd_chart_file *)(uintptr_t)i;
	qsort(ts.t, ts.n, sizeof *ts.t, cmp_name);
	for (i = 0; i < ts.n; i++) {
		size_t idx = (size_t)(uintptr_t)ts.t[i].f, nl = strlen(ts.t[i].name);
		const char *txt = outs[idx];
		size_t tl = outlen[idx], np, j;
		piece *ps;
		const char *tt;
		size_t ttl;

		if (!txt)
			continue;
		if (nl >= 9 && !strcmp(ts.t[i].name + nl - 9, "NOTES.txt")) {
			if (!ts.t[i].n->parent &&
			    !strcmp(ts.t[i].name + strlen(root->full), "/templates/NOTES.txt"))
				res.notes = txt;
			continue;
		}
		tt = txt;
		ttl = tl;
		trim(&tt, &ttl);
		if (!ttl)
			continue;
		np = split_docs(txt, tl, NULL, 0);
		ps = kd_arena_alloc(r.a, (np + 1) * sizeof *ps);
		if (!ps) {
			rc = oom(&r);
			goto cleanup;
		}
		split_docs(txt, tl, ps, np);
		for (j = 0; j < np; j++) {
			if (ndocs == capdocs) {
				size_t nc = capdocs ? capdocs * 2 : 64;
				doc *nd = kd_arena_grow(r.a, docs, capdocs * sizeof *nd, nc * sizeof *nd);

				if (!nd || nc > KD_LIMIT_CHART_MANIFESTS) {
					rc = nd ? kd_err_set(err, KD_ELIMIT, "more than %u manifests (KD_LIMIT_CHART_MANIFESTS)",
							     KD_LIMIT_CHART_MANIFESTS) : oom(&r);
					goto cleanup;
				}
				docs = nd;
				capdocs = nc;
			}
			docs[ndocs].path = ts.t[i].name;
			docs[ndocs].p = ps[j];
			ndocs++;
		}
	}
	rc = scan_heads(&r, docs, ndocs);
	for (i = 0; i < ndocs && !rc; i++)
		rc = classify(&r, &docs[i], &gen, &hooks);
	if (rc)
		goto cleanup;
	{
		mf *tmp = kd_arena_alloc(r.a, (gen.n + hooks.n + 1) * sizeof *tmp);

		if (!tmp) {
			rc = oom(&r);
			goto cleanup;
		}
		sort_kinds(gen.v, gen.n, tmp);
		sort_kinds(hooks.v, hooks.n, tmp);
	}
	if (opts && opts->include_crds)
		add_crds(&r, root, &crds);
	if (r.oom) {
		rc = oom(&r);
		goto cleanup;
	}
	res.ndocs = crds.n + gen.n + hooks.n;
	res.docs = kd_arena_alloc(r.a, (res.ndocs + 1) * sizeof *res.docs);
	if (!res.docs) {
		rc = oom(&r);
		goto cleanup;
	}
	k = 0;
	for (i = 0; i < crds.n; i++)
		res.docs[k++] = crds.v[i].m;
	for (i = 0; i < gen.n; i++)
		res.docs[k++] = gen.v[i].m;
	for (i = 0; i < hooks.n; i++)
		res.docs[k++] = hooks.v[i].m;
	*out = res;
	memset(&res, 0, sizeof res);
cleanup:
	kd_arena_free(&scratch);
	kd_tmpl_free(t);
	kd_buf_free(&buf);
	kd_arena_free(&res.arena);
	if (rc)
		out->render_failed = rendering;
	return rc;
}

void kd_chart_result_free(kd_chart_result *r)
{
	if (!r)
		return;
	kd_arena_free(&r->arena);
	memset(r, 0, sizeof *r);
}

/* "# Source: [^/]+/(.+)": the path after the chart name. */
static bool source_path(const char *s, size_t n, const char **p, size_t *pl)
{
	const char *m = s, *e = s + n;

	while ((m = memmem(m, (size_t)(e - m), "# Source: ", 10))) {
		const char *a = m + 10, *b = a;

		while (b < e && *b != '/' && *b != '\n')
			b++;
		if (b > a && b < e && *b == '/') {
			const char *c = b + 1, *d = c;

			while (d < e && *d != '\n')
				d++;
			if (d > c) {
				*p = c;
				*pl = (size_t)(d - c);
				return true;
			}
		}
		m += 10;
	}
	return false;
}

int kd_chart_output(kd_buf *out, const kd_chart_result *r,
		    const kd_chart_opts *opts, kd_err *err)
{
	kd_buf all = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_buf *dst = opts && opts->n_show_only ? &all : out;
	size_t start = dst->len, i;
	int rc = 0;

	/* helm template: the release manifest with its surrounding space
	 * trimmed and a newline, then the hooks */
	for (i = 0; i < r->ndocs; i++)
		if (!r->docs[i].hook)
			put_doc(dst, r->docs[i].source, r->docs[i].text, r->docs[i].len);
	while (dst->len > start && is_space(dst->ptr[dst->len - 1]))
		dst->len--;
	if (dst->cap)
		dst->ptr[dst->len] = 0;
	kd_buf_putc(dst, '\n');
	for (i = 0; i < r->ndocs && !(opts && opts->no_hooks); i++)
		if (r->docs[i].hook && !(opts && opts->skip_tests && r->docs[i].test))
			put_doc(dst, r->docs[i].source, r->docs[i].text, r->docs[i].len);
	if (dst == &all) {
		piece *ps;
		size_t np, j;

		np = split_docs(all.ptr, all.len, NULL, 0);
		ps = calloc(np + 1, sizeof *ps);
		if (!ps) {
			kd_buf_free(&all);
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		}
		split_docs(all.ptr, all.len, ps, np);
		for (i = 0; i < opts->n_show_only && !rc; i++) {
			bool found = false;

			for (j = 0; j < np; j++) {
				const char *p;
				size_t pl;
				char path[4096];

				if (!source_path(ps[j].s, ps[j].n, &p, &pl) || pl >= sizeof path)
					continue;
				memcpy(path, p, pl);
				path[pl] = 0;
				if (!kd_chart_path_match(opts->show_only[i], path))
					continue;
				kd_buf_puts(out, "---\n");
				kd_buf_put(out, ps[j].s, ps[j].n);
				kd_buf_putc(out, '\n');
				found = true;
			}
			if (!found)
				rc = kd_err_set(err, KD_ENOTFOUND, "could not find template %s in chart",
						opts->show_only[i]);
		}
		free(ps);
		if (!rc && all.failed)
			rc = kd_err_set(err, all.failed, "output too large");
		kd_buf_free(&all);
	}
	if (!rc && out->failed)
		rc = kd_err_set(err, out->failed, "output too large");
	return rc;
}
