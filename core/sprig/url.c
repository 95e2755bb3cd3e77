/* Sprig's urlParse and urlJoin. */
#include "sprig/internal.h"

#include "base/limits.h"

#include <string.h>

/* net/url, as Sprig's urlParse and urlJoin use it (the common forms) */
FN(f_urlParse)
{
	const char *s = argv[0]->u.str.ptr, *e = s + argv[0]->u.str.len;
	const char *p = s, *q;
	kd_value *m = kd_tmpl_mk_map(x, 8);
	const char *scheme = "", *user = "", *host = "", *path = "", *query = "",
		   *frag = "", *opaque = "";
	size_t ns = 0, nu = 0, nh = 0, np = 0, nq = 0, nf = 0, no = 0;

	(void)argc;
	q = memchr(p, '#', (size_t)(e - p));
	if (q) {
		frag = q + 1;
		nf = (size_t)(e - q - 1);
		e = q;
	}
	for (q = p; q < e && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (q > p && ((*q >= '0' && *q <= '9') || *q == '+' || *q == '-' || *q == '.')));
	     q++)
		;
	if (q < e && *q == ':' && q > p) {
		scheme = p;
		ns = (size_t)(q - p);
		p = q + 1;
	}
	q = memchr(p, '?', (size_t)(e - p));
	if (q) {
		query = q + 1;
		nq = (size_t)(e - q - 1);
		e = q;
	}
	if (e - p >= 2 && p[0] == '/' && p[1] == '/') {
		const char *a = p + 2, *slash = memchr(a, '/', (size_t)(e - a)), *at;
		const char *he = slash ? slash : e;

		at = NULL;
		for (q = a; q < he; q++)
			if (*q == '@')
				at = q;
		if (at) {
			user = a;
			nu = (size_t)(at - a);
			a = at + 1;
		}
		host = a;
		nh = (size_t)(he - a);
		p = he;
	} else if (ns && p < e && *p != '/') {
		opaque = p;
		no = (size_t)(e - p);
		p = e;
	}
	path = p;
	np = (size_t)(e - p);
	kd_sprig_set(x, m, "scheme", 6, kd_tmpl_str(x, scheme, ns));
	kd_sprig_set(x, m, "host", 4, kd_tmpl_str(x, host, nh));
	{
		size_t k = nh;
		const char *c = memchr(host, ':', nh);

		if (c)
			k = (size_t)(c - host);
		kd_sprig_set(x, m, "hostname", 8, kd_tmpl_str(x, host, k));
	}
	kd_sprig_set(x, m, "path", 4, kd_tmpl_str(x, path, np));
	kd_sprig_set(x, m, "query", 5, kd_tmpl_str(x, query, nq));
	kd_sprig_set(x, m, "opaque", 6, kd_tmpl_str(x, opaque, no));
	kd_sprig_set(x, m, "fragment", 8, kd_tmpl_str(x, frag, nf));
	kd_sprig_set(x, m, "userinfo", 8, kd_tmpl_str(x, user, nu));
	return m;
}

static const kd_value *url_part(const kd_value *d, const char *k)
{
	const kd_value *v = kd_map_getz(d, k);

	return v && v->type == KD_STR && v->u.str.len ? v : NULL;
}

FN(f_urlJoin)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const kd_value *d = argv[0], *v;

	(void)argc;
	if (kd_sprig_isnil(d))
		return kd_tmpl_str(x, "", 0);
	if ((v = url_part(d, "scheme"))) {
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
		kd_buf_putc(&b, ':');
	}
	if ((v = url_part(d, "opaque"))) {
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
	} else {
		if (url_part(d, "scheme") || url_part(d, "host") || url_part(d, "userinfo")) {
			kd_buf_puts(&b, "//");
			if ((v = url_part(d, "userinfo"))) {
				kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
				kd_buf_putc(&b, '@');
			}
			if ((v = url_part(d, "host")))
				kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
		}
		if ((v = url_part(d, "path"))) {
			if (v->u.str.ptr[0] != '/' && url_part(d, "host"))
				kd_buf_putc(&b, '/');
			kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
		}
	}
	if ((v = url_part(d, "query"))) {
		kd_buf_putc(&b, '?');
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
	}
	if ((v = url_part(d, "fragment"))) {
		kd_buf_putc(&b, '#');
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
	}
	return kd_tmpl_buf_value(x, &b);
}

static const kd_tmpl_func url_funcs[] = {
	{"urlParse", f_urlParse, "s", false, false},
	{"urlJoin", f_urlJoin, "m", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_url(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, url_funcs);
}
