/* Loading charts: directories (with .helmignore) and .tgz archives, into
 * the parts Helm's loader makes of them. */
#include "chart/internal.h"

#include "base/limits.h"
#include "base/num.h"
#include "semver/semver.h"
#include "yaml/yaml.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Go's filepath.Match ---- */

static bool class_match(const char **pp, unsigned char c, bool *ok)
{
	const char *p = *pp;
	bool neg = false, hit = false;
	int first = 1;

	if (*p == '^') {
		neg = true;
		p++;
	}
	while (*p && (*p != ']' || first)) {
		unsigned char lo, hi;

		first = 0;
		if (*p == '\\' && p[1])
			p++;
		lo = (unsigned char)*p++;
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		if (lo <= c && c <= hi)
			hit = true;
	}
	if (*p != ']') {
		*ok = false;
		return false;
	}
	*pp = p + 1;
	return hit != neg;
}

bool kd_chart_path_match(const char *p, const char *s)
{
	for (; *p; ) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			for (;; s++) {
				if (kd_chart_path_match(p, s))
					return true;
				if (!*s || *s == '/')
					return false;
			}
		}
		if (!*s || *s == '/') {
			if (*s == '/' && *p == '/') {
				p++;
				s++;
				continue;
			}
			return false;
		}
		if (*p == '?') {
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			bool ok = true;

			p++;
			if (!class_match(&p, (unsigned char)*s, &ok) || !ok)
				return false;
			s++;
			continue;
		}
		if (*p == '\\' && p[1])
			p++;
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return !*s;
}

/* ---- .helmignore ---- */

typedef struct rule {
	const char *pat;
	bool negate, must_dir, rooted, structural;
} rule;

typedef struct rules {
	rule *r;
	size_t n, cap;
} rules;

static int rule_add(kd_arena *a, rules *rs, const char *line, size_t n,
		    const char *where, int lineno, kd_err *err)
{
	rule ru;
	char *p;

	while (n && (line[0] == ' ' || line[0] == '\t' || line[0] == '\r')) {
		line++;
		n--;
	}
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	if (!n || line[0] == '#')
		return 0;
	p = kd_arena_strndup(a, line, n);
	if (!p)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	if (strstr(p, "**"))
		return kd_err_set(err, KD_EPARSE,
				  "%s:%d: double-star (**) syntax is not supported", where, lineno);
	memset(&ru, 0, sizeof ru);
	if (*p == '!') {
		ru.negate = true;
		p++;
	}
	n = strlen(p);
	if (n && p[n - 1] == '/') {
		ru.must_dir = true;
		p[--n] = 0;
	}
	if (*p == '/') {
		ru.rooted = true;
		p++;
	} else if (strchr(p, '/')) {
		ru.structural = true;
	}
	ru.pat = p;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		rule *nr = kd_arena_grow(a, rs->r, rs->cap * sizeof *nr, cap * sizeof *nr);

		if (!nr)
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		rs->r = nr;
		rs->cap = cap;
	}
	rs->r[rs->n++] = ru;
	return 0;
}

/* Helm's Rules.Ignore, including its reading of negated rules: a negated
 * rule that does not match ignores the path. */
static bool ignored(const rules *rs, const char *path, bool dir)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const rule *r = &rs->r[i];
		const char *subject = path;
		bool m;

		if (!r->rooted && !r->structural) {
			const char *sl = strrchr(path, '/');

			subject = sl ? sl + 1 : path;
		}
		m = kd_chart_path_match(r->pat, subject);
		if (r->negate) {
			if (r->must_dir && !dir)
				return true;
			if (!m)
				return true;
			continue;
		}
		if (r->must_dir && !dir)
			continue;
		if (m)
			return true;
	}
	return false;
}

/* ---- directories ---- */

typedef struct walker {
	kd_arena *a;
	kd_chart_map *maps;
	kd_chart_raw *raw;
	const rules *rs;
	const char *top;  /* real path of the chart directory */
	size_t toplen;
	const char *shown; /* the path as the caller gave it */
	kd_err *err;
	int depth;
} walker;

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Large files are mapped rather than read, so the pages of files no
 * template looks at (CRDs, dashboards of disabled subcharts) never become
 * resident. A mapping whose size is not a multiple of the page size ends
 * in zeros, which gives the NUL the value type wants after the text; the
 * rest, and small files (where a mapping costs more than it saves), are
 * read into the arena. */
static int read_file(walker *w, const char *fs, const char *rel, off_t size)
{
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = 0;
	const char *d;
	long page = sysconf(_SC_PAGESIZE);

	if (size > (off_t)KD_LIMIT_CHART_FILE_BYTES)
		return kd_err_set(w->err, KD_ELIMIT,
				  "chart %s: file %s is larger than %u MiB (KD_LIMIT_CHART_FILE_BYTES)",
				  w->shown, rel, KD_LIMIT_CHART_FILE_BYTES >> 20);
	rc = kd_chart_budget_file(w->raw->b, (uint64_t)size, w->shown, w->err);
	if (rc)
		return rc;
	fd = open(fs, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kd_err_set(w->err, KD_EIO, "chart %s: cannot read %s: %s",
				  w->shown, rel, strerror(errno));
	if (size >= 65536 && page > 0 && size % page) {
		kd_chart_map *m = kd_arena_alloc(w->a, sizeof *m);
		void *p = m ? mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;

		if (p != MAP_FAILED) {
			m->p = p;
			m->n = (size_t)size;
			m->next = w->maps;
			w->maps = m;
			buf = p;
			got = (size_t)size;
		}
	}
	if (!buf) {
		buf = kd_arena_alloc(w->a, (size_t)size + 1);
		if (!buf) {
			close(fd);
			return kd_err_set(w->err, KD_ENOMEM, "out of memory");
		}
		while (got < (size_t)size) {
			ssize_t n = read(fd, buf + got, (size_t)size - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = kd_err_set(w->err, KD_EIO, "chart %s: cannot read %s: %s",
						w->shown, rel, n ? strerror(errno) : "file shrank while reading");
				break;
			}
			got += (size_t)n;
		}
		buf[got] = 0;
	}
	close(fd);
	if (rc)
		return rc;
	d = buf;
	if (got >= 3 && !memcmp(d, "\xef\xbb\xbf", 3)) {
		d += 3;
		got -= 3;
	}
	return kd_chart_raw_add(w->a, w->raw, rel, strlen(rel), d, got, w->err);
}

static int walk(walker *w, const char *fs, const char *rel)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (++w->depth > 64)
		return kd_err_set(w->err, KD_ELIMIT, "chart %s: directories nested too deeply at %s",
				  w->shown, rel);
	d = opendir(fs);
	if (!d)
		return kd_err_set(w->err, KD_EIO, "chart %s: cannot read directory %s: %s",
				  w->shown, *rel ? rel : ".", strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 32;
			nn = realloc(names, cap * sizeof *nn);
			if (!nn) {
				rc = kd_err_set(w->err, KD_ENOMEM, "out of memory");
				goto cleanup;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = kd_err_set(w->err, KD_ENOMEM, "out of memory");
			goto cleanup;
		}
		n++;
		if (n > KD_LIMIT_CHART_FILES) {
			rc = kd_err_set(w->err, KD_ELIMIT, "chart %s: too many files in %s",
					w->shown, *rel ? rel : ".");
			goto cleanup;
		}
	}
	qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n && !rc; i++) {
		char cfs[PATH_MAX], crel[PATH_MAX];
		struct stat st;

		if (snprintf(cfs, sizeof cfs, "%s/%s", fs, names[i]) >= (int)sizeof cfs ||
		    snprintf(crel, sizeof crel, "%s%s%s", rel, *rel ? "/" : "", names[i]) >= (int)sizeof crel) {
			rc = kd_err_set(w->err, KD_ELIMIT, "chart %s: path too long at %s",
					w->shown, rel);
			break;
		}
		if (lstat(cfs, &st)) {
			rc = kd_err_set(w->err, KD_EIO, "chart %s: cannot stat %s: %s",
					w->shown, crel, strerror(errno));
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			char real[PATH_MAX];

			if (!realpath(cfs, real)) {
				rc = kd_err_set(w->err, KD_EIO, "chart %s: symbolic link %s cannot be resolved: %s",
						w->shown, crel, strerror(errno));
				break;
			}
			if (strncmp(real, w->top, w->toplen) ||
			    (real[w->toplen] != '/' && real[w->toplen])) {
				rc = kd_err_set(w->err, KD_EINVAL,
						"chart %s: symbolic link %s points outside the chart (to %s); refusing it",
						w->shown, crel, real);
				break;
			}
			if (stat(cfs, &st)) {
				rc = kd_err_set(w->err, KD_EIO, "chart %s: cannot stat %s: %s",
						w->shown, crel, strerror(errno));
				break;
			}
		}
		if (S_ISDIR(st.st_mode)) {
			if (!ignored(w->rs, crel, true))
				rc = walk(w, cfs, crel);
			continue;
		}
		if (ignored(w->rs, crel, false))
			continue;
		if (!S_ISREG(st.st_mode)) {
			rc = kd_err_set(w->err, KD_EINVAL,
					"chart %s: cannot load irregular file %s as it has file mode type bits set",
					w->shown, crel);
			break;
		}
		rc = read_file(w, cfs, crel, st.st_size);
	}
cleanup:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	w->depth--;
	return rc;
}

static void unmap(kd_chart_map *m)
{
	for (; m; m = m->next)
		munmap(m->p, m->n);
}

static int load_dir(kd_chart **out, kd_arena *a, const char *path, kd_err *err)
{
	char top[PATH_MAX], ign[PATH_MAX + 16];
	kd_chart_raw raw = {0};
	rules rs = {0};
	walker w;
	FILE *f;
	int rc = 0;

	if (!realpath(path, top))
		return kd_err_set(err, KD_EIO, "chart %s: %s", path, strerror(errno));
	if (!(raw.b = kd_arena_zalloc(a, sizeof *raw.b)))
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	snprintf(ign, sizeof ign, "%s/.helmignore", top);
	f = fopen(ign, "r");
	if (f) {
		char line[4096];
		int ln = 0;

		while (!rc && fgets(line, sizeof line, f)) {
			ln++;
			rc = rule_add(a, &rs, line, strcspn(line, "\n"), ign, ln, err);
		}
		fclose(f);
		if (rc)
			return rc;
	}
	rc = rule_add(a, &rs, "templates/.?*", 13, "defaults", 0, err);
	if (rc)
		return rc;
	memset(&w, 0, sizeof w);
	w.a = a;
	w.raw = &raw;
	w.rs = &rs;
	w.top = top;
	w.toplen = strlen(top);
	w.shown = path;
	w.err = err;
	rc = walk(&w, top, "");
	if (!rc)
		rc = kd_chart_from_files(out, a, &raw, path, err);
	if (rc) {
		unmap(w.maps);
		return rc;
	}
	(*out)->maps = w.maps;
	return 0;
}

static int load_tgz(kd_chart **out, kd_arena *a, const char *path, kd_err *err)
{
	kd_chart_raw raw = {0};
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc;

	if (!(raw.b = kd_arena_zalloc(a, sizeof *raw.b)))
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kd_err_set(err, KD_EIO, "chart %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || st.st_size > (off_t)KD_LIMIT_CHART_BYTES) {
		close(fd);
		return kd_err_set(err, KD_ELIMIT, "chart %s: the archive is larger than %u MiB (KD_LIMIT_CHART_BYTES)",
				  path, KD_LIMIT_CHART_BYTES >> 20);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = kd_chart_untar(a, &raw, buf, got, path, err);
	free(buf);
	if (rc)
		return rc;
	return kd_chart_from_files(out, a, &raw, path, err);
}

/* ---- the loader proper ---- */

static const char *meta_str(kd_arena *a, const kd_value *m, const char *key)
{
	const kd_value *v = m ? kd_map_getz(m, key) : NULL;

	if (!v || v->type == KD_NULL)
		return "";
	if (v->type == KD_STR)
		return v->u.str.ptr;
	if (v->type == KD_INT) {
		char b[32];

		snprintf(b, sizeof b, "%lld", (long long)v->u.i);
		return kd_arena_strdup(a, b);
	}
	if (v->type == KD_FLOAT) {
		kd_buf b = KD_BUF_INIT(64);
		char *s;

		kd_num_format_float(&b, v->u.f, 'g', -1);
		s = kd_arena_strdup(a, b.ptr);
		kd_buf_free(&b);
		return s ? s : "";
	}
	if (v->type == KD_BOOL)
		return v->u.b ? "true" : "false";
	return "";
}

static int validate_meta(kd_chart *c, kd_err *err)
{
	const kd_value *deps = kd_map_getz(c->meta, "dependencies");
	kd_semver sv;
	kd_err e2 = KD_ERR_INIT;
	size_t i, j;

	if (!*c->name)
		return kd_err_set(err, KD_EPARSE, "validation: chart.metadata.name is required");
	if (strchr(c->name, '/'))
		return kd_err_set(err, KD_EPARSE, "validation: chart.metadata.name \"%s\" is invalid", c->name);
	if (!*c->version)
		return kd_err_set(err, KD_EPARSE, "validation: chart.metadata.version is required");
	if (kd_semver_parse(&sv, c->version, strlen(c->version), 1, &e2))
		return kd_err_set(err, KD_EPARSE, "validation: chart.metadata.version \"%s\" is invalid", c->version);
	if (*c->type && strcmp(c->type, "application") && strcmp(c->type, "library"))
		return kd_err_set(err, KD_EPARSE, "validation: chart.metadata.type must be application or library");
	if (deps && deps->type != KD_LIST && deps->type != KD_NULL)
		return kd_err_set(err, KD_EPARSE, "Chart.yaml: dependencies must be a list");
	for (i = 0; deps && deps->type == KD_LIST && i < deps->u.list.len; i++) {
		const kd_value *d = deps->u.list.items[i];
		const char *ki, *ai;

		if (d->type != KD_MAP)
			return kd_err_set(err, KD_EPARSE, "Chart.yaml: dependency %zu is not a map", i + 1);
		ai = meta_str(c->a, d, "alias");
		ki = *ai ? ai : meta_str(c->a, d, "name");
		for (j = 0; j < i; j++) {
			const kd_value *o = deps->u.list.items[j];
			const char *aj = meta_str(c->a, o, "alias");
			const char *kj = *aj ? aj : meta_str(c->a, o, "name");

			if (!strcmp(ki, kj))
				return kd_err_set(err, KD_EPARSE,
						  "validation: more than one dependency with name or alias \"%s\"", ki);
		}
	}
	return 0;
}

static int push_file(kd_arena *a, kd_chart_file **arr, size_t *n, size_t *cap,
		     const kd_chart_file *f)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		kd_chart_file *x = kd_arena_grow(a, *arr, *cap * sizeof *x, nc * sizeof *x);

		if (!x)
			return KD_ENOMEM;
		*arr = x;
		*cap = nc;
	}
	(*arr)[(*n)++] = *f;
	return 0;
}

static int yaml_err(kd_err *err, const char *path, const char *what)
{
	kd_err_prefix(err, "chart %s: cannot load %s", path, what);
	return err->code ? err->code : KD_EPARSE;
}

/* The files under charts/, grouped by the subchart (directory or .tgz) they
 * belong to, and the capacities of the chart's growing arrays. */
typedef struct sub {
	const char *name;
	kd_chart_raw raw;
} sub;

typedef struct sorter {
	kd_chart *c;
	kd_arena *a;
	const char *path;
	kd_err *err;
	size_t fcap, tcap;
	sub *subs;
	size_t nsub, subcap;
} sorter;

static int load_chart_yaml(kd_chart *c, kd_arena *a, kd_chart_raw *r,
			   const char *path, kd_err *err)
{
	const kd_chart_file *chart_yaml = NULL;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].name, "Chart.yaml"))
			chart_yaml = &r->f[i];
	if (!chart_yaml)
		return kd_err_set(err, KD_EPARSE, "chart %s: Chart.yaml file is missing", path);
	if (kd_yaml_decode(&c->meta, a, chart_yaml->data, chart_yaml->len,
			   "Chart.yaml", NULL, err))
		return yaml_err(err, path, "Chart.yaml");
	if (c->meta->type == KD_NULL)
		c->meta = kd_value_map(a, 0);
	if (!c->meta || c->meta->type != KD_MAP)
		return kd_err_set(err, KD_EPARSE, "chart %s: Chart.yaml is not a mapping", path);
	c->api_version = meta_str(a, c->meta, "apiVersion");
	if (!*c->api_version)
		c->api_version = "v1";
	return 0;
}

/* requirements.yaml's dependencies count as Chart.yaml's; in a v1 chart
 * both requirements files are also .Files, as Helm keeps them. */
static int add_requirements(sorter *s, const kd_chart_file *f)
{
	kd_chart *c = s->c;

	if (f->name[13] == 'y') {
		kd_value *req;
		const kd_value *d;

		if (kd_yaml_decode(&req, s->a, f->data, f->len, f->name, NULL, s->err))
			return yaml_err(s->err, s->path, f->name);
		d = req->type == KD_MAP ? kd_map_getz(req, "dependencies") : NULL;
		if (d && kd_map_setz(s->a, c->meta, "dependencies", (kd_value *)d))
			return kd_err_set(s->err, KD_ENOMEM, "out of memory");
	}
	if (!strcmp(c->api_version, "v1") &&
	    push_file(s->a, &c->files, &c->nfiles, &s->fcap, f))
		return kd_err_set(s->err, KD_ENOMEM, "out of memory");
	return 0;
}

/* Chart.lock (requirements.lock in a v1 chart): kept for a dependency
 * build, which pins the versions it names. */
static int read_lock(sorter *s, const kd_chart_file *f)
{
	if (kd_yaml_decode(&s->c->lock, s->a, f->data, f->len, f->name, NULL, s->err))
		return yaml_err(s->err, s->path, f->name);
	if (s->c->lock->type != KD_MAP)
		s->c->lock = NULL;
	return 0;
}

/* A file under charts/: a provenance file stays the parent's; the rest
 * goes to its subchart's list, named by the first path component. */
static int add_to_sub(sorter *s, const kd_chart_file *f)
{
	const char *rest = f->name + 7, *sl = strchr(rest, '/');
	size_t cl = sl ? (size_t)(sl - rest) : strlen(rest), k;
	size_t nl = strlen(f->name);

	if (nl > 5 && !strcmp(f->name + nl - 5, ".prov"))
		return push_file(s->a, &s->c->files, &s->c->nfiles, &s->fcap, f)
			       ? kd_err_set(s->err, KD_ENOMEM, "out of memory") : 0;
	for (k = 0; k < s->nsub; k++)
		if (strlen(s->subs[k].name) == cl && !strncmp(s->subs[k].name, rest, cl))
			break;
	if (k == s->nsub) {
		if (s->nsub == s->subcap) {
			size_t nc = s->subcap ? s->subcap * 2 : 8;
			sub *ns = kd_arena_grow(s->a, s->subs, s->subcap * sizeof *ns, nc * sizeof *ns);

			if (!ns)
				return kd_err_set(s->err, KD_ENOMEM, "out of memory");
			s->subs = ns;
			s->subcap = nc;
		}
		memset(&s->subs[k], 0, sizeof s->subs[k]);
		s->subs[k].name = kd_arena_strndup(s->a, rest, cl);
		if (!s->subs[k].name)
			return kd_err_set(s->err, KD_ENOMEM, "out of memory");
		s->nsub++;
	}
	return kd_chart_raw_add(s->a, &s->subs[k].raw, rest, strlen(rest), f->data, f->len, s->err);
}

/* Puts one file where Helm's loader does: values, schema, requirements,
 * templates, subcharts, or .Files. */
static int sort_file(sorter *s, const kd_chart_file *f)
{
	kd_chart *c = s->c;
	const char *nm = f->name;

	if (!strcmp(nm, "Chart.yaml"))
		return 0;
	if (!strcmp(nm, "Chart.lock"))
		return read_lock(s, f);
	if (!strcmp(nm, "values.yaml")) {
		if (kd_chart_values_parse(&c->values, s->a, f->data, f->len,
					  "values.yaml", s->err))
			return yaml_err(s->err, s->path, "values.yaml");
		return 0;
	}
	if (!strcmp(nm, "values.schema.json")) {
		c->schema = f->data;
		c->schema_len = f->len;
		return 0;
	}
	if (!strcmp(nm, "requirements.lock") && read_lock(s, f))
		return s->err->code;
	if (!strcmp(nm, "requirements.yaml") || !strcmp(nm, "requirements.lock"))
		return add_requirements(s, f);
	if (!strncmp(nm, "charts/", 7))
		return add_to_sub(s, f);
	if (!strncmp(nm, "templates/", 10)
		    ? push_file(s->a, &c->templates, &c->ntemplates, &s->tcap, f)
		    : push_file(s->a, &c->files, &c->nfiles, &s->fcap, f))
		return kd_err_set(s->err, KD_ENOMEM, "out of memory");
	return 0;
}

/* Loads one subchart of charts/: an archive, or a directory whose files
 * lose their "<name>/" (files directly in charts/ are not charts). */
static int load_sub(kd_chart **sc, sorter *s, const sub *b)
{
	size_t nl = strlen(b->name), k;
	char *sp = kd_arena_alloc(s->a, strlen(s->path) + nl + 16);
	kd_chart_raw sr = {0};
	int rc;

	if (!sp)
		return kd_err_set(s->err, KD_ENOMEM, "out of memory");
	sprintf(sp, "%s/charts/%s", s->path, b->name);
	sr.b = s->c->budget;
	if (nl > 4 && !strcmp(b->name + nl - 4, ".tgz")) {
		if (b->raw.n != 1 || strcmp(b->raw.f[0].name, b->name))
			return kd_err_set(s->err, KD_EPARSE,
					  "error unpacking subchart tar in %s: expected %s",
					  s->c->name, b->name);
		rc = kd_chart_untar(s->a, &sr, b->raw.f[0].data, b->raw.f[0].len, sp, s->err);
		return rc ? rc : kd_chart_from_files(sc, s->a, &sr, sp, s->err);
	}
	for (k = 0; k < b->raw.n; k++) {
		const char *fn = b->raw.f[k].name;

		if (strncmp(fn, b->name, nl) || fn[nl] != '/')
			continue;
		rc = kd_chart_raw_add(s->a, &sr, fn + nl + 1, strlen(fn + nl + 1),
				      b->raw.f[k].data, b->raw.f[k].len, s->err);
		if (rc)
			return rc;
	}
	return kd_chart_from_files(sc, s->a, &sr, sp, s->err);
}

static int load_subs(sorter *s)
{
	kd_chart *c = s->c;
	size_t i;
	int rc;

	for (i = 0; i < s->nsub; i++) {
		kd_chart *sc = NULL, **ns;

		if (s->subs[i].name[0] == '_' || s->subs[i].name[0] == '.')
			continue;
		if (c->budget->depth >= KD_LIMIT_CHART_DEPTH)
			return kd_err_set(s->err, KD_ELIMIT,
					  "chart %s: subcharts nested more than %d deep at charts/%s (KD_LIMIT_CHART_DEPTH)",
					  s->path, KD_LIMIT_CHART_DEPTH, s->subs[i].name);
		c->budget->depth++;
		rc = load_sub(&sc, s, &s->subs[i]);
		c->budget->depth--;
		if (rc)
			return rc;
		ns = kd_arena_grow(s->a, c->subs, c->nsubs * sizeof *ns,
				   (c->nsubs + 1) * sizeof *ns);
		if (!ns)
			return kd_err_set(s->err, KD_ENOMEM, "out of memory");
		c->subs = ns;
		c->subs[c->nsubs++] = sc;
	}
	return 0;
}

int kd_chart_from_files(kd_chart **out, kd_arena *a, kd_chart_raw *r,
			const char *path, kd_err *err)
{
	sorter s = {.a = a, .path = path, .err = err};
	kd_chart *c;
	size_t i;
	int rc;

	c = s.c = kd_arena_zalloc(a, sizeof *c);
	if (!c)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	c->a = a;
	c->path = kd_arena_strdup(a, path);
	c->budget = r->b;
	if (r->b->charts++ > KD_LIMIT_CHART_SUBCHARTS) /* the root is not one */
		return kd_err_set(err, KD_ELIMIT,
				  "chart %s: more than %u subcharts in the whole chart (KD_LIMIT_CHART_SUBCHARTS)",
				  path, KD_LIMIT_CHART_SUBCHARTS);
	rc = load_chart_yaml(c, a, r, path, err);
	for (i = 0; i < r->n && !rc; i++)
		rc = sort_file(&s, &r->f[i]);
	if (rc)
		return rc;
	if (!c->values || c->values->type != KD_MAP)
		c->values = kd_value_map(a, 0);
	c->name = meta_str(a, c->meta, "name");
	c->version = meta_str(a, c->meta, "version");
	c->type = meta_str(a, c->meta, "type");
	if (!c->values || !c->name || !c->version || !c->type)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	rc = validate_meta(c, err);
	if (rc) {
		kd_err_prefix(err, "chart %s", path);
		return rc;
	}
	rc = load_subs(&s);
	if (rc)
		return rc;
	*out = c;
	return 0;
}

/* The end of a load: the chart as the root owning arena a, or (rc != 0)
 * the arena freed and rc returned. */
static int root_chart(kd_chart **out, kd_chart *c, kd_arena *a, int rc)
{
	if (rc) {
		kd_arena_free(a);
		free(a);
		return rc;
	}
	c->root = true;
	*out = c;
	return 0;
}

int kd_chart_load(kd_chart **out, const char *path, kd_err *err)
{
	kd_arena *a = malloc(sizeof *a);
	kd_chart *c = NULL;
	struct stat st;
	int rc;

	if (!a)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	kd_arena_init(a, KD_LIMIT_ARENA_BYTES);
	if (stat(path, &st)) {
		rc = kd_err_set(err, errno == ENOENT ? KD_ENOTFOUND : KD_EIO,
				"chart %s: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		rc = load_dir(&c, a, path, err);
	} else {
		rc = load_tgz(&c, a, path, err);
	}
	return root_chart(out, c, a, rc);
}

int kd_chart_load_tgz(kd_chart **out, const char *data, size_t len,
		      const char *name, kd_err *err)
{
	kd_arena *a = malloc(sizeof *a);
	kd_chart_raw raw = {0};
	kd_chart *c = NULL;
	int rc;

	if (!a)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	kd_arena_init(a, KD_LIMIT_ARENA_BYTES);
	raw.b = kd_arena_zalloc(a, sizeof *raw.b);
	rc = !raw.b ? kd_err_set(err, KD_ENOMEM, "out of memory")
	     : len > KD_LIMIT_CHART_BYTES
		     ? kd_err_set(err, KD_ELIMIT, "chart %s: the archive is larger than %u MiB (KD_LIMIT_CHART_BYTES)",
				  name, KD_LIMIT_CHART_BYTES >> 20)
		     : kd_chart_untar(a, &raw, data, len, name, err);
	if (!rc)
		rc = kd_chart_from_files(&c, a, &raw, name, err);
	return root_chart(out, c, a, rc);
}

int kd_chart_add_sub(kd_chart *c, const char *data, size_t len,
		     const char *name, kd_err *err)
{
	kd_chart_raw raw = {0};
	kd_chart *sc = NULL, **ns;
	char *sp = kd_arena_alloc(c->a, strlen(c->path) + strlen(name) + 16);
	int rc;

	if (!sp)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	sprintf(sp, "%s/charts/%s", c->path, name);
	raw.b = c->budget;
	raw.b->depth++;
	rc = kd_chart_untar(c->a, &raw, data, len, sp, err);
	if (!rc)
		rc = kd_chart_from_files(&sc, c->a, &raw, sp, err);
	raw.b->depth--;
	if (rc)
		return rc;
	ns = kd_arena_grow(c->a, c->subs, c->nsubs * sizeof *ns, (c->nsubs + 1) * sizeof *ns);
	if (!ns)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	c->subs = ns;
	c->subs[c->nsubs++] = sc;
	return 0;
}

const kd_value *kd_chart_meta(const kd_chart *c)
{
	return c->meta;
}

const kd_value *kd_chart_lock(const kd_chart *c)
{
	return c->lock;
}

size_t kd_chart_nsubs(const kd_chart *c)
{
	return c->nsubs;
}

const char *kd_chart_sub_name(const kd_chart *c, size_t i)
{
	return i < c->nsubs ? c->subs[i]->name : NULL;
}

void kd_chart_free(kd_chart *c)
{
	kd_arena *a;

	if (!c || !c->root)
		return;
	unmap(c->maps);
	a = c->a;
	kd_arena_free(a);
	free(a);
}

const char *kd_chart_name(const kd_chart *c)
{
	return c->name;
}

const char *kd_chart_version(const kd_chart *c)
{
	return c->version;
}
