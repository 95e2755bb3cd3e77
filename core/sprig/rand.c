/* Sprig's random strings (randAlphaNum, randAlpha, randNumeric,
 * randAscii), uuidv4 and shuffle, from the kernel's CSPRNG; randInt and
 * randBytes are crypto.c's. */
#include "sprig/internal.h"

#include "base/limits.h"

#include <stdio.h>
#include <string.h>

static kd_value *rand_from(kd_tmpl_ex *x, int64_t count, const char *set)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t n = strlen(set), i;
	unsigned limit = 256 - 256 % (unsigned)n;

	if (count < 0)
		count = 0;
	if (count > 1000000)
		kd_tmpl_fail(x, KD_ELIMIT, "random string too long");
	for (i = 0; i < (size_t)count;) {
		unsigned char r[64];
		size_t k;

		if (kd_sprig_fill_random(r, sizeof r)) {
			kd_buf_free(&b);
			kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
		}
		for (k = 0; k < sizeof r && i < (size_t)count; k++)
			if (r[k] < limit) {
				kd_buf_putc(&b, set[r[k] % n]);
				i++;
			}
	}
	return kd_tmpl_buf_value(x, &b);
}

#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FN(f_randAlphaNum) { (void)argc; return rand_from(x, argv[0]->u.i, ALPHA "0123456789"); }
FN(f_randAlpha) { (void)argc; return rand_from(x, argv[0]->u.i, ALPHA); }
FN(f_randNumeric) { (void)argc; return rand_from(x, argv[0]->u.i, "0123456789"); }
FN(f_randAscii)
{
	static char set[95];
	int i;

	(void)argc;
	for (i = 0; i < 94; i++)
		set[i] = (char)(33 + i);
	set[94] = 0;
	return rand_from(x, argv[0]->u.i, set);
}

FN(f_uuidv4)
{
	unsigned char u[16];
	char t[40];

	(void)argc;
	(void)argv;
	if (kd_sprig_fill_random(u, sizeof u))
		kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(t, sizeof t,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
		 u[11], u[12], u[13], u[14], u[15]);
	return kd_tmpl_str(x, t, 36);
}

FN(f_shuffle)
{
	kd_value *r = kd_tmpl_str(x, argv[0]->u.str.ptr, argv[0]->u.str.len);
	char *p = (char *)r->u.str.ptr;
	size_t i;

	(void)argc;
	for (i = r->u.str.len; i > 1; i--) {
		uint32_t k;

		if (kd_sprig_fill_random((unsigned char *)&k, sizeof k))
			kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
		k %= (uint32_t)i;
		char c = p[i - 1];
		p[i - 1] = p[k];
		p[k] = c;
	}
	return r;
}

static const kd_tmpl_func rand_funcs[] = {
	{"randAlphaNum", f_randAlphaNum, "i", false, false},
	{"randAlpha", f_randAlpha, "i", false, false},
	{"randNumeric", f_randNumeric, "i", false, false},
	{"randAscii", f_randAscii, "i", false, false},
	{"uuidv4", f_uuidv4, "", false, false},
	{"shuffle", f_shuffle, "s", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_rand(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, rand_funcs);
}
