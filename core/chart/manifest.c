/* The manifests of a render (releaseutil): splitting the rendered text
 * into documents, hooks apart from manifests, Helm's install order, and
 * the output of `helm template` (--show-only included). */
#include "chart/tree.h"

#include "base/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kd_chart_install_order[] = {
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota",
	"LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
	"ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
	"ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
	"RoleBindingList", "Service", "DaemonSet", "Pod",
	"ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "APIService", NULL,
};

static int kind_rank(const char *k)
{
	size_t i;

	for (i = 0; kd_chart_install_order[i]; i++)
		if (!strcmp(k, kd_chart_install_order[i]))
			return (int)i;
	return -1;
}

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
void kd_chart_sort_kinds(mf *v, size_t n, mf *tmp)
{
	size_t h, i, j, k;

	if (n < 2)
		return;
	h = n / 2;
	kd_chart_sort_kinds(v, h, tmp);
	kd_chart_sort_kinds(v + h, n - h, tmp);
	for (i = 0, j = h, k = 0; i < h || j < n; )
		if (j == n || (i < h && !less_kind(&v[j], &v[i])))
			tmp[k++] = v[i++];
		else
			tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

/* releaseutil.SplitManifests: the regexp (?:^|\s*\n)---\s* over the
 * trimmed text, every piece trimmed. Fills out with up to max pieces (the
 * ones not empty before trimming) and returns how many there are. */
size_t kd_chart_split_docs(const char *s, size_t n, piece *out, size_t max)
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

int kd_chart_classify(rctx *r, const char *path, const piece *p,
		      const char *kind, const char *hook, mlist *gen,
		      mlist *hooks)
{
	mf m;

	memset(&m, 0, sizeof m);
	m.m.source = path;
	m.m.text = p->s;
	m.m.len = p->n;
	m.m.kind = kind;
	m.rank = kind_rank(m.m.kind);
	if (!hook)
		return mpush(r, gen, &m);
	{
		const char *s = hook;

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

void kd_chart_add_crds(rctx *r, node *n, mlist *crds)
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
		kd_chart_add_crds(r, n->subs[i], crds);
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

		np = kd_chart_split_docs(all.ptr, all.len, NULL, 0);
		ps = calloc(np + 1, sizeof *ps);
		if (!ps) {
			kd_buf_free(&all);
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		}
		kd_chart_split_docs(all.ptr, all.len, ps, np);
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

