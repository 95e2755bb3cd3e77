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
	uint64_t total; /* bytes inflated so far */
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
		g->total += want;
		if (g->total > (uint64_t)KD_LIMIT_CHART_BYTES + 1024)
			return kd_err_set(g->err, KD_ELIMIT,
					  "%s: the archive decompresses to more than %u MiB (KD_LIMIT_CHART_BYTES); refusing it",
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

int kd_chart_untar(kd_arena *a, kd_chart_raw *r, const char *data,
		   size_t len, const char *what, kd_err *err)
{
	gz g;
	unsigned char hdr[512];
	char *longname = NULL, *paxpath = NULL, *clean = NULL;
	size_t longlen = 0, paxlen = 0;
	uint64_t paxsize = 0;
	int has_paxsize = 0, rc = 0, zeros = 0;

	memset(&g, 0, sizeof g);
	g.what = what;
	g.err = err;
	if (len < 2 || (unsigned char)data[0] != 0x1f || (unsigned char)data[1] != 0x8b)
		return kd_err_set(err, KD_EPARSE, "%s: not a gzip-compressed chart archive", what);
	g.zs.next_in = (Bytef *)data;
	g.zs.avail_in = (uInt)len;
	if (inflateInit2(&g.zs, 16 + MAX_WBITS) != Z_OK)
		return kd_err_set(err, KD_ENOMEM, "%s: zlib could not start", what);
	clean = malloc(8192);
	if (!clean) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (;;) {
		uint64_t size, padded;
		int bad = 0, type;
		const char *name;
		size_t nlen;
		char *body = NULL;
		unsigned sum = 0, want;
		int i;

		/* a stream that simply ends after whole entries is
		 * accepted, as Go's tar reader does */
		if (g.eof)
			break;
		rc = gz_read(&g, (char *)hdr, 512);
		if (rc)
			break;
		if (zero_block(hdr)) {
			if (++zeros == 2)
				break;
			continue;
		}
		zeros = 0;
		for (i = 0; i < 512; i++)
			sum += (i >= 148 && i < 156) ? ' ' : hdr[i];
		want = (unsigned)octal(hdr + 148, 8, &bad);
		if (bad || want != sum) {
			rc = kd_err_set(err, KD_EPARSE, "%s: not a valid tar archive (bad header checksum)", what);
			break;
		}
		size = octal(hdr + 124, 12, &bad);
		type = hdr[156];
		if (has_paxsize)
			size = paxsize;
		if (bad || size > KD_LIMIT_CHART_FILE_BYTES * 2ull ||
		    (size > KD_LIMIT_CHART_FILE_BYTES && type != '5')) {
			rc = kd_err_set(err, KD_ELIMIT,
					"%s: member \"%.100s\" is larger than %u MiB (KD_LIMIT_CHART_FILE_BYTES)",
					what, (const char *)hdr, KD_LIMIT_CHART_FILE_BYTES >> 20);
			break;
		}
		padded = (size + 511) & ~(uint64_t)511;
		if (type == 'L' || type == 'x' || type == 'g') {
			body = malloc((size_t)padded + 1);
			if (!body) {
				rc = kd_err_set(err, KD_ENOMEM, "out of memory");
				break;
			}
			rc = gz_read(&g, body, (size_t)padded);
			if (rc) {
				free(body);
				break;
			}
			body[size] = 0;
			if (type == 'L') {
				free(longname);
				longname = body;
				longlen = strnlen(body, (size_t)size);
			} else if (type == 'x') {
				char *pp = NULL;
				size_t pl = 0;

				has_paxsize = 0;
				if (pax_parse(body, (size_t)size, &pp, &pl, &paxsize,
					      &has_paxsize)) {
					free(body);
					rc = kd_err_set(err, KD_EPARSE, "%s: malformed PAX header", what);
					break;
				}
				free(paxpath);
				paxpath = NULL;
				if (pp) {
					paxpath = malloc(pl + 1);
					if (!paxpath) {
						free(body);
						rc = kd_err_set(err, KD_ENOMEM, "out of memory");
						break;
					}
					memcpy(paxpath, pp, pl);
					paxpath[pl] = 0;
					paxlen = pl;
				}
				free(body);
			} else {
				free(body);
			}
			continue;
		}
		if (paxpath) {
			name = paxpath;
			nlen = paxlen;
		} else if (longname) {
			name = longname;
			nlen = longlen;
		} else if (!memcmp(hdr + 257, "ustar", 5) && hdr[345]) {
			size_t pl = strnlen((char *)hdr + 345, 155);
			size_t bl = strnlen((char *)hdr, 100);

			memcpy(clean, hdr + 345, pl);
			clean[pl] = '/';
			memcpy(clean + pl + 1, hdr, bl);
			nlen = pl + 1 + bl;
			clean[nlen] = 0;
			name = clean + 4096; /* keep clean's first half for output */
			memmove((char *)name, clean, nlen + 1);
		} else {
			name = (const char *)hdr;
			nlen = strnlen((const char *)hdr, 100);
		}
		if (type == '5' || (nlen && name[nlen - 1] == '/' && type != '1' && type != '2')) {
			rc = gz_read(&g, NULL, (size_t)padded);
		} else if (type == '1' || type == '2') {
			rc = kd_err_set(err, KD_EPARSE,
					"%s: member \"%.*s\" is a link; links are not allowed in chart archives",
					what, (int)(nlen > 200 ? 200 : nlen), name);
		} else if (type != '0' && type != 0 && type != '7') {
			rc = kd_err_set(err, KD_EPARSE,
					"%s: member \"%.*s\" is not a regular file (tar type '%c')",
					what, (int)(nlen > 200 ? 200 : nlen), name, type);
		} else {
			int cl = clean_name(clean, 4096, name, nlen, what, err);
			char *buf;

			if (cl < 0) {
				rc = cl;
			} else if (r->total + size > KD_LIMIT_CHART_BYTES) {
				rc = kd_err_set(err, KD_ELIMIT,
						"%s: the chart is larger than %u MiB once unpacked (KD_LIMIT_CHART_BYTES)",
						what, KD_LIMIT_CHART_BYTES >> 20);
			} else if (!(buf = kd_arena_alloc(a, (size_t)padded + 1))) {
				rc = kd_err_set(err, KD_ENOMEM, "out of memory");
			} else if (!(rc = gz_read(&g, buf, (size_t)padded))) {
				const char *d = buf;
				size_t dl = (size_t)size;

				buf[size] = 0;
				if (dl >= 3 && !memcmp(d, "\xef\xbb\xbf", 3)) {
					d += 3;
					dl -= 3;
				}
				if (cl > 0)
					rc = kd_chart_raw_add(a, r, clean, (size_t)cl, d, dl, err);
			}
		}
		free(longname);
		free(paxpath);
		longname = paxpath = NULL;
		has_paxsize = 0;
		if (rc)
			break;
	}
	if (!rc && r->n == 0)
		rc = kd_err_set(err, KD_EPARSE, "%s: no files in chart archive", what);
cleanup:
	free(longname);
	free(paxpath);
	free(clean);
	inflateEnd(&g.zs);
	return rc;
}
