/* Sprig's path functions, Go's package path: base, dir, ext, clean and
 * isAbs, and their os* forms, which on Linux are the same. */
#include "sprig/internal.h"

#include "base/limits.h"

/* path.Clean */
static void path_clean(kd_buf *b, const char *p, size_t n)
{
	bool rooted = n && p[0] == '/';
	size_t i = 0, start = 0;
	size_t base;

	if (n == 0) {
		kd_buf_putc(b, '.');
		return;
	}
	base = b->len;
	if (rooted) {
		kd_buf_putc(b, '/');
		i = 1;
	}
	start = b->len;
	while (i < n) {
		size_t s0 = i;

		while (i < n && p[i] != '/')
			i++;
		if (i == s0 || (i - s0 == 1 && p[s0] == '.')) {
		} else if (i - s0 == 2 && p[s0] == '.' && p[s0 + 1] == '.') {
			if (b->len > start) {
				while (b->len > start && b->ptr[b->len - 1] != '/')
					b->len--;
				if (b->len > start)
					b->len--;
			} else if (!rooted) {
				if (b->len > base)
					kd_buf_putc(b, '/');
				kd_buf_puts(b, "..");
				start = b->len;
			}
		} else {
			if (b->len > (rooted ? base + 1 : base))
				kd_buf_putc(b, '/');
			kd_buf_put(b, p + s0, i - s0);
		}
		i++;
	}
	if (b->len == base)
		kd_buf_putc(b, '.');
	b->ptr[b->len] = 0;
}

FN(f_clean)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	(void)argc;
	path_clean(&b, argv[0]->u.str.ptr, argv[0]->u.str.len);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_base)
{
	const char *p = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, s;

	(void)argc;
	if (!n)
		return kd_tmpl_str(x, ".", 1);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (!n)
		return kd_tmpl_str(x, "/", 1);
	s = n;
	while (s > 0 && p[s - 1] != '/')
		s--;
	return kd_tmpl_str(x, p + s, n - s);
}

FN(f_dir)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *p = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, s = n;

	(void)argc;
	while (s > 0 && p[s - 1] != '/')
		s--;
	path_clean(&b, p, s);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_ext)
{
	const char *p = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;

	(void)argc;
	for (i = n; i > 0 && p[i - 1] != '/'; i--)
		if (p[i - 1] == '.')
			return kd_tmpl_str(x, p + i - 1, n - i + 1);
	return kd_tmpl_str(x, "", 0);
}

FN(f_isAbs)
{
	(void)argc;
	return kd_tmpl_mk_bool(x, argv[0]->u.str.len && argv[0]->u.str.ptr[0] == '/');
}

static const kd_tmpl_func paths_funcs[] = {
	{"base", f_base, "s", false, false},
	{"dir", f_dir, "s", false, false},
	{"ext", f_ext, "s", false, false},
	{"clean", f_clean, "s", false, false},
	{"isAbs", f_isAbs, "s", false, false},
	{"osBase", f_base, "s", false, false},
	{"osDir", f_dir, "s", false, false},
	{"osExt", f_ext, "s", false, false},
	{"osClean", f_clean, "s", false, false},
	{"osIsAbs", f_isAbs, "s", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_paths(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, paths_funcs);
}
