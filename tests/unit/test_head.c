/* core/chart/head.c's quick head reader against libyaml's events: every
 * document it accepts must parse in libyaml with the same kind and
 * helm.sh/hook annotation, and no error render.c's event scan would
 * raise. Seeds below, each mutated many times (deterministically); files
 * given as arguments (rendered output, "---"-separated) are checked and
 * mutated too, and the share the quick reader accepts is printed. */
#include "base/err.h"
#include "chart/tree.h"
#include "tap.h"
#include "yaml/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref {
	bool ok;
	char kind[256], hook[256];
	bool has_hook;
} ref;

static bool ynull(const kd_yaml_ev *e)
{
	return e->plain && (e->n == 0 || (e->n == 1 && e->s[0] == '~') ||
			    (e->n == 4 && (!memcmp(e->s, "null", 4) || !memcmp(e->s, "Null", 4) ||
					   !memcmp(e->s, "NULL", 4))));
}

static void put(char *dst, const kd_yaml_ev *e)
{
	size_t n = ynull(e) ? 0 : e->n < 255 ? e->n : 255;

	memcpy(dst, e->s, n);
	dst[n] = 0;
}

/* The first document of s as render.c's event scan reads it: a map (or
 * nothing) at the top, kind and the annotations strings. */
static void reference(const char *s, size_t n, ref *out)
{
	kd_yaml_reader *r;
	kd_yaml_ev e;
	kd_err err = KD_ERR_INIT;
	/* path[d]: the key that holds the collection at depth d+1 when it is
	 * on the path top > metadata > annotations, else "" */
	int depth = 0, role[300] = {0}, isval[300] = {0};
	char key[300][64];

	memset(out, 0, sizeof *out);
	if (kd_yaml_reader_open(&r, s, n, &err))
		return;
	for (;;) {
		bool coll;

		if (kd_yaml_reader_next(r, &e, &err)) {
			kd_err_clear(&err);
			goto done;
		}
		if (e.type == KD_YEV_DOC_END || e.type == KD_YEV_STREAM_END)
			break;
		if (e.type == KD_YEV_STREAM_START || e.type == KD_YEV_DOC_START)
			continue;
		if (e.type == KD_YEV_MAP_END || e.type == KD_YEV_SEQ_END) {
			depth--;
			continue;
		}
		coll = e.type == KD_YEV_MAP_START || e.type == KD_YEV_SEQ_START;
		if (depth == 0) {
			if (e.type != KD_YEV_MAP_START && !(e.type == KD_YEV_SCALAR && ynull(&e)))
				goto done;
			if (coll) {
				role[++depth] = 1;
				isval[depth] = 0;
			}
			continue;
		}
		if (role[depth] && !isval[depth]) { /* a key */
			isval[depth] = 1;
			if (e.type == KD_YEV_SCALAR && e.n < 64) {
				memcpy(key[depth], e.s, e.n);
				key[depth][e.n] = 0;
			} else {
				key[depth][0] = 0;
			}
			if (coll)
				role[++depth] = 0;
			continue;
		}
		if (role[depth]) { /* a value in a tracked map */
			int rl = role[depth];
			const char *k = key[depth];

			isval[depth] = 0;
			if (coll && ((rl == 1 && !strcmp(k, "kind")) || rl == 3))
				goto done;
			if (e.type == KD_YEV_SCALAR && rl == 1 && !strcmp(k, "kind"))
				put(out->kind, &e);
			if (e.type == KD_YEV_SCALAR && rl == 3 && !strcmp(k, "helm.sh/hook")) {
				put(out->hook, &e);
				out->has_hook = true;
			}
			if (coll) {
				int nr = e.type == KD_YEV_MAP_START &&
					 ((rl == 1 && !strcmp(k, "metadata")) ||
					  (rl == 2 && !strcmp(k, "annotations"))) ? rl + 1 : 0;

				if (++depth >= 290)
					goto done;
				role[depth] = nr;
				isval[depth] = 0;
			}
			continue;
		}
		if (coll && ++depth < 290) {
			role[depth] = 0;
			isval[depth] = 0;
		} else if (coll) {
			goto done;
		}
	}
	out->ok = true;
done:
	kd_yaml_reader_close(r);
}

static unsigned long long rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static size_t accepted, checked, failed;

static void check(const char *s, size_t n, bool report)
{
	kd_chart_qhead q;
	ref r;

	checked++;
	if (!kd_chart_quick_head(s, n, &q))
		return;
	accepted++;
	reference(s, n, &r);
	if (r.ok && strlen(r.kind) == q.kind_n && !memcmp(r.kind, q.kind ? q.kind : "", q.kind_n) &&
	    r.has_hook == (q.hook != NULL) &&
	    (!q.hook || (strlen(r.hook) == q.hook_n && !memcmp(r.hook, q.hook, q.hook_n))))
		return;
	if (failed++ < 5 || report)
		printf("# quick head differs from libyaml (ok %d kind '%s' hook %d '%s') on:\n%.*s\n# --\n",
		       r.ok, r.kind, r.has_hook, r.hook, (int)n, s);
}

static const char *const pieces[] = {
	" ", "  ", "\n", ":", ": ", "-", "- ", "#", " #", "'", "\"", "|", ">-",
	"[", "]", "{", "}", ",", "&a ", "*a", "!t ", "\t", "...", "---", "?", "\\",
	"\n  ", "\n- ", "''", "kind: X\n", "a:\n", "\\x",
};

static void mutate(const char *s, size_t n, int times)
{
	char *m = malloc(n + 64);
	int i;

	for (i = 0; i < times; i++) {
		size_t at = n ? rnd((unsigned)n + 1) : 0, len = n, del = 0;
		const char *p = pieces[rnd(sizeof pieces / sizeof *pieces)];
		size_t pl = strlen(p);

		if (rnd(3) == 0) {
			del = at < n ? 1 + rnd(3) : 0;
			if (at + del > n)
				del = n - at;
			pl = rnd(2) ? 0 : pl;
		}
		memcpy(m, s, at);
		memcpy(m + at, p, pl);
		memcpy(m + at + pl, s + at + del, n - at - del);
		len = n - del + pl;
		check(m, len, false);
	}
	free(m);
}

static const char *const seeds[] = {
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    \"helm.sh/hook\": pre-install\n    x: 'y'\ndata:\n  a: |\n    line: 1\n\n    # two\n  b: >-\n    x\n",
	"kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        args: [\"--x\", '-y', z]\n        env:\n          - name: A\n            value: \"1\"\n        resources: {}\n      volumes:\n        -\n          name: x\n",
	"# only a comment\n",
	"kind: ~\nmetadata:\n  annotations:\n    helm.sh/hook:\n    b: multi\n      line plain\n  labels:\n    a: b # c\n",
	"  kind: Indented\n  metadata:\n    name: x\n",
	"kind: Secret\nstringData:\n  k: \"a\\nb \\\"q\\\"\"\n  l: 'it''s'\n  list:\n  - a\n  -   b: c\n      d: e\n  - - nested\n",
	"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:\n    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-weight: \"5\"\nspec:\n  ports:\n  - port: 80\n    targetPort: http\n",
};

int main(int argc, char **argv)
{
	size_t i;
	int a;

	for (i = 0; i < sizeof seeds / sizeof *seeds; i++) {
		check(seeds[i], strlen(seeds[i]), true);
		mutate(seeds[i], strlen(seeds[i]), 20000);
	}
	for (a = 1; a < argc; a++) {
		FILE *f = fopen(argv[a], "rb");
		static char buf[1 << 24];
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0, np;
		piece *ps;

		if (f)
			fclose(f);
		np = kd_chart_split_docs(buf, n, NULL, 0);
		ps = calloc(np + 1, sizeof *ps);
		kd_chart_split_docs(buf, n, ps, np);
		for (i = 0; i < np; i++) {
			size_t before = accepted;

			check(ps[i].s, ps[i].n, true);
			if (accepted == before && getenv("HEAD_SHOW_SLOW"))
				printf("# slow:\n%.*s\n", (int)(ps[i].n < 2000 ? ps[i].n : 2000), ps[i].s);
			mutate(ps[i].s, ps[i].n, 200);
		}
		free(ps);
	}
	printf("# %zu of %zu documents read quickly\n", accepted, checked);
	tap_check(failed == 0, __FILE__, __LINE__, "quick head agrees with libyaml (%zu differ)", failed);
	tap_check(accepted > 0, __FILE__, __LINE__, "quick head accepts plain documents");
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}
