/* Chart archives: gzip through zlib, tar by hand (ustar, GNU long names,
 * PAX path/size records). Every byte that comes out of the decompressor is
 * counted against the chart's limits before it is stored, so a small file
 * that inflates to gigabytes is refused after at most one limit's worth of
 * work. */
#include "chart/internal.h"

#include "base/limits.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct gz {
	z_stream zs;
	const char *what;
	kd_err *err;
	int eof;
	kd_chart_budget *b; /* counts what every archive of the load inflates */
} gz;

/* Reads exactly n bytes into dst (NULL: discard). 0, or an error code. */
static int gz_read(gz *g, char *dst, size_t n)
{
	char skip[4096];

	while (n) {
		size_t want = n;
		int zr;

		if (!dst && want > sizeof skip)
			want = sizeof skip;
		if (g->eof)
			return kd_err_set(g->err, KD_EPARSE,
					  "%s: truncated archive (the tar stream ends inside an entry)",
					  g->what);
		g->zs.next_out = (Bytef *)(dst ? dst : skip);
		g->zs.avail_out = (uInt)want;
		zr = inflate(&g->zs, Z_NO_FLUSH);
		want -= g->zs.avail_out;
		g->b->inflated += want;
		if (g->b->inflated > (uint64_t)KD_LIMIT_CHART_BYTES + 1024)
			return kd_err_set(g->err, KD_ELIMIT,
					  "%s: the archive decompresses to more than %u MiB (KD_LIMIT_CHART_BYTES), counted with the chart's other archives; refusing it",
					  g->what, KD_LIMIT_CHART_BYTES >> 20);
		if (dst)
			dst += want;
		n -= want;
		if (zr == Z_STREAM_END) {
			/* another gzip member may follow, as Go's reader allows */
			if (g->zs.avail_in && inflateReset(&g->zs) == Z_OK)
				continue;
			g->eof = 1;
		} else if (zr == Z_BUF_ERROR && !g->zs.avail_in) {
			g->eof = 1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return kd_err_set(g->err, KD_EPARSE, "%s: not a valid gzip stream (%s)",
					  g->what, g->zs.msg ? g->zs.msg : "inflate failed");
		}
	}
	return 0;
}

static uint64_t octal(const unsigned char *p, size_t n, int *bad)
{
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] & 0x80) { /* base-256 */
		for (i = 1; i < n; i++) {
			if (v >> 55)
				*bad = 1;
			v = (v << 8) | p[i];
		}
		return v;
	}
	while (i < n && (p[i] == ' ' || p[i] == 0))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			*bad = 1;
		v = v * 8 + (uint64_t)(p[i] - '0');
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != 0)
			*bad = 1;
	return v;
}

static int zero_block(const unsigned char *b)
{
	int i;

	for (i = 0; i < 512; i++)
		if (b[i])
			return 0;
	return 1;
}

/* PAX records "LEN key=value\n": picks out path and size. */
static int pax_parse(const char *d, size_t n, char **path, size_t *plen,
		     uint64_t *size, int *has_size)
{
	size_t off = 0;

	while (off < n) {
		size_t len = 0, i = off;
		const char *kv, *eq;

		while (i < n && d[i] >= '0' && d[i] <= '9' && len < n)
			len = len * 10 + (size_t)(d[i++] - '0');
		if (i >= n || d[i] != ' ' || len == 0 || off + len > n ||
		    d[off + len - 1] != '\n')
			return -1;
		kv = d + i + 1;
		eq = memchr(kv, '=', (size_t)(d + off + len - 1 - kv));
		if (!eq)
			return -1;
		if (eq - kv == 4 && !memcmp(kv, "path", 4)) {
			*path = (char *)(eq + 1);
			*plen = (size_t)(d + off + len - 1 - (eq + 1));
		} else if (eq - kv == 4 && !memcmp(kv, "size", 4)) {
			const char *s = eq + 1, *e = d + off + len - 1;
			uint64_t v = 0;

			for (; s < e; s++) {
				if (*s < '0' || *s > '9' || v > (UINT64_MAX / 10))
					return -1;
				v = v * 10 + (uint64_t)(*s - '0');
			}
			*size = v;
			*has_size = 1;
		}
		off += len;
	}
	return 0;
}

/* Helm's name handling: drop the first component, normalise, refuse
 * anything that leaves the chart. Returns the cleaned name in buf. */
static int clean_name(char *buf, size_t cap, const char *name, size_t n,
		      const char *what, kd_err *err)
{
	char sep = memchr(name, '\\', n) ? '\\' : '/';
	const char *p = memchr(name, sep, n), *s, *e;
	size_t w = 0;

	if (!p)
		return kd_err_set(err, KD_EPARSE,
				  "%s: member \"%.*s\" is not inside the chart's directory (chart illegally contains content outside the base directory)",
				  what, (int)(n > 200 ? 200 : n), name);
	if ((size_t)(p - name) == 10 && !memcmp(name, "Chart.yaml", 10))
		return kd_err_set(err, KD_EPARSE, "%s: chart yaml not in base directory", what);
	s = p + 1;
	e = name + n;
	if (s < e && (*s == '/' || *s == '\\'))
		return kd_err_set(err, KD_EPARSE, "%s: chart illegally contains absolute paths (\"%.*s\")",
				  what, (int)(n > 200 ? 200 : n), name);
	while (s < e) {
		const char *c = s;
		size_t cl;

		while (c < e && *c != sep)
			c++;
		cl = (size_t)(c - s);
		if (cl == 0 || (cl == 1 && s[0] == '.')) {
			/* empty or "." components vanish */
		} else if (cl == 2 && s[0] == '.' && s[1] == '.') {
			return kd_err_set(err, KD_EPARSE,
					  "%s: member \"%.*s\" illegally references a parent directory",
					  what, (int)(n > 200 ? 200 : n), name);
		} else {
			if (w + cl + 2 > cap)
				return kd_err_set(err, KD_ELIMIT, "%s: member name too long", what);
			if (w)
				buf[w++] = '/';
			memcpy(buf + w, s, cl);
			w += cl;
		}
		s = c + 1;
	}
	buf[w] = 0;
	if (w == 0)
		return 0;
	if (w >= 2 && buf[1] == ':' &&
	    ((buf[0] >= 'a' && buf[0] <= 'z') || (buf[0] >= 'A' && buf[0] <= 'Z')))
		return kd_err_set(err, KD_EPARSE, "%s: chart contains illegally named files (\"%s\")",
				  what, buf);
	return (int)w;
}

/* One pass over an archive: the reader, where entries go, and the GNU long
 * name or PAX records that apply to the next header only. */
typedef struct untar {
	gz g;
	kd_arena *a;
	kd_chart_raw *r;
	const char *what;
	kd_err *err;
	char *longname, *paxpath, *clean;
	size_t longlen, paxlen;
	uint64_t paxsize;
	int has_paxsize;
} untar;

static void forget_records(untar *u)
{
	free(u->longname);
	free(u->paxpath);
	u->longname = u->paxpath = NULL;
	u->has_paxsize = 0;
}

/* Checks a header's checksum and size; *size is the member's size. */
static int check_header(untar *u, const unsigned char *hdr, uint64_t *size,
			int *type)
{
	unsigned sum = 0, want;
	int bad = 0, i;

	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : hdr[i];
	want = (unsigned)octal(hdr + 148, 8, &bad);
	if (bad || want != sum)
		return kd_err_set(u->err, KD_EPARSE,
				  "%s: not a valid tar archive (bad header checksum)", u->what);
	*size = octal(hdr + 124, 12, &bad);
	*type = hdr[156];
	if (u->has_paxsize)
		*size = u->paxsize;
	if (bad || *size > KD_LIMIT_CHART_FILE_BYTES * 2ull ||
	    (*size > KD_LIMIT_CHART_FILE_BYTES && *type != '5'))
		return kd_err_set(u->err, KD_ELIMIT,
				  "%s: member \"%.100s\" is larger than %u MiB (KD_LIMIT_CHART_FILE_BYTES)",
				  u->what, (const char *)hdr, KD_LIMIT_CHART_FILE_BYTES >> 20);
	return 0;
}

/* A PAX extended header: its path and size apply to the next member. */
static int read_pax(untar *u, const char *body, size_t size)
{
	char *pp = NULL;
	size_t pl = 0;

	u->has_paxsize = 0;
	if (pax_parse(body, size, &pp, &pl, &u->paxsize, &u->has_paxsize))
		return kd_err_set(u->err, KD_EPARSE, "%s: malformed PAX header", u->what);
	free(u->paxpath);
	u->paxpath = NULL;
	if (!pp)
		return 0;
	u->paxpath = malloc(pl + 1);
	if (!u->paxpath)
		return kd_err_set(u->err, KD_ENOMEM, "out of memory");
	memcpy(u->paxpath, pp, pl);
	u->paxpath[pl] = 0;
	u->paxlen = pl;
	return 0;
}

/* A GNU long name ('L'), a PAX record ('x') or a global one ('g', ignored). */
static int read_record(untar *u, int type, uint64_t size, uint64_t padded)
{
	char *body = malloc((size_t)padded + 1);
	int rc;

	if (!body)
		return kd_err_set(u->err, KD_ENOMEM, "out of memory");
	rc = gz_read(&u->g, body, (size_t)padded);
	if (rc) {
		free(body);
		return rc;
	}
	body[size] = 0;
	if (type == 'L') {
		free(u->longname);
		u->longname = body;
		u->longlen = strnlen(body, (size_t)size);
		return 0;
	}
	if (type == 'x')
		rc = read_pax(u, body, (size_t)size);
	free(body);
	return rc;
}

/* The member's name: PAX path, GNU long name, ustar prefix + name, or the
 * plain name field. */
static const char *member_name(untar *u, const unsigned char *hdr, size_t *nlen)
{
	if (u->paxpath) {
		*nlen = u->paxlen;
		return u->paxpath;
	}
	if (u->longname) {
		*nlen = u->longlen;
		return u->longname;
	}
	if (!memcmp(hdr + 257, "ustar", 5) && hdr[345]) {
		size_t pl = strnlen((const char *)hdr + 345, 155);
		size_t bl = strnlen((const char *)hdr, 100);
		char *name = u->clean + 4096; /* clean's first half is the output */

		memcpy(name, hdr + 345, pl);
		name[pl] = '/';
		memcpy(name + pl + 1, hdr, bl);
		*nlen = pl + 1 + bl;
		name[*nlen] = 0;
		return name;
	}
	*nlen = strnlen((const char *)hdr, 100);
	return (const char *)hdr;
}

/* A regular file: counted against the chart's size, stored without a BOM. */
static int read_file(untar *u, const char *name, size_t nlen, uint64_t size,
		     uint64_t padded)
{
	int cl = clean_name(u->clean, 4096, name, nlen, u->what, u->err);
	const char *d;
	size_t dl = (size_t)size;
	char *buf;
	int rc;

	if (cl < 0)
		return cl;
	if (cl > 0 && (rc = kd_chart_budget_file(u->r->b, size, u->what, u->err)))
		return rc;
	buf = kd_arena_alloc(u->a, (size_t)padded + 1);
	if (!buf)
		return kd_err_set(u->err, KD_ENOMEM, "out of memory");
	rc = gz_read(&u->g, buf, (size_t)padded);
	if (rc)
		return rc;
	buf[size] = 0;
	d = buf;
	if (dl >= 3 && !memcmp(d, "\xef\xbb\xbf", 3)) {
		d += 3;
		dl -= 3;
	}
	return cl > 0 ? kd_chart_raw_add(u->a, u->r, u->clean, (size_t)cl, d, dl, u->err) : 0;
}

static int read_member(untar *u, const unsigned char *hdr, int type,
		       uint64_t size, uint64_t padded)
{
	size_t nlen;
	const char *name = member_name(u, hdr, &nlen);
	int shown = (int)(nlen > 200 ? 200 : nlen);

	if (type == '5' || (nlen && name[nlen - 1] == '/' && type != '1' && type != '2'))
		return gz_read(&u->g, NULL, (size_t)padded);
	if (type == '1' || type == '2')
		return kd_err_set(u->err, KD_EPARSE,
				  "%s: member \"%.*s\" is a link; links are not allowed in chart archives",
				  u->what, shown, name);
	if (type != '0' && type != 0 && type != '7')
		return kd_err_set(u->err, KD_EPARSE,
				  "%s: member \"%.*s\" is not a regular file (tar type '%c')",
				  u->what, shown, name, type);
	return read_file(u, name, nlen, size, padded);
}

/* Headers until two zero blocks or the stream's end after a whole entry
 * (which Go's tar reader accepts too). */
static int read_members(untar *u)
{
	unsigned char hdr[512];
	int rc, zeros = 0;

	while (!u->g.eof) {
		uint64_t size = 0, padded;
		int type = 0;

		rc = gz_read(&u->g, (char *)hdr, 512);
		if (rc)
			return rc;
		if (zero_block(hdr)) {
			if (++zeros == 2)
				break;
			continue;
		}
		zeros = 0;
		rc = check_header(u, hdr, &size, &type);
		if (rc)
			return rc;
		padded = (size + 511) & ~(uint64_t)511;
		if (type == 'L' || type == 'x' || type == 'g') {
			rc = read_record(u, type, size, padded);
		} else {
			rc = read_member(u, hdr, type, size, padded);
			forget_records(u);
		}
		if (rc)
			return rc;
	}
	if (u->r->n == 0)
		return kd_err_set(u->err, KD_EPARSE, "%s: no files in chart archive", u->what);
	return 0;
}

int kd_chart_untar(kd_arena *a, kd_chart_raw *r, const char *data,
		   size_t len, const char *what, kd_err *err)
{
	untar u;
	int rc;

	memset(&u, 0, sizeof u);
	u.a = a;
	u.r = r;
	u.what = u.g.what = what;
	u.err = u.g.err = err;
	u.g.b = r->b;
	if (len < 2 || (unsigned char)data[0] != 0x1f || (unsigned char)data[1] != 0x8b)
		return kd_err_set(err, KD_EPARSE, "%s: not a gzip-compressed chart archive", what);
	u.g.zs.next_in = (Bytef *)data;
	u.g.zs.avail_in = (uInt)len;
	if (inflateInit2(&u.g.zs, 16 + MAX_WBITS) != Z_OK)
		return kd_err_set(err, KD_ENOMEM, "%s: zlib could not start", what);
	u.clean = malloc(8192);
	if (!u.clean) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = read_members(&u);
cleanup:
	forget_records(&u);
	free(u.clean);
	inflateEnd(&u.g.zs);
	return rc;
}
