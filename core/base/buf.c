#include "base/buf.h"

#include "base/err.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char kd_buf_empty[1];

void kd_buf_init(kd_buf *b, size_t limit)
{
	b->ptr = kd_buf_empty;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
	b->failed = 0;
}

void kd_buf_free(kd_buf *b)
{
	if (!b)
		return;
	if (b->cap) {
		kd_mem_release(b->cap);
		free(b->ptr);
	}
	kd_buf_init(b, b->limit);
}

void kd_buf_reset(kd_buf *b)
{
	b->len = 0;
	b->ptr[0] = '\0';
	b->failed = 0;
}

int kd_buf_grow(kd_buf *b, size_t extra)
{
	size_t want, ncap;
	char *p;

	if (b->failed)
		return b->failed;
	if (extra > b->limit - b->len) {
		b->failed = KD_ELIMIT;
		return KD_ELIMIT;
	}
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap > ((size_t)-1) / 2 ? want : ncap * 2;
	/* under a memory bound (base/mem.h) a doubling that does not fit
	 * falls back to what is needed */
	if (!kd_mem_fits(ncap - b->cap))
		ncap = want;
	if (kd_mem_charge(ncap - b->cap)) {
		b->failed = KD_ENOMEM;
		return KD_ENOMEM;
	}
	p = realloc(b->cap ? b->ptr : NULL, ncap);
	if (!p) {
		kd_mem_release(ncap - b->cap);
		b->failed = KD_ENOMEM;
		return KD_ENOMEM;
	}
	if (!b->cap)
		p[0] = '\0';
	b->ptr = p;
	b->cap = ncap;
	return 0;
}

int kd_buf_put(kd_buf *b, const void *data, size_t n)
{
	int rc = kd_buf_grow(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int kd_buf_puts(kd_buf *b, const char *s)
{
	return kd_buf_put(b, s, strlen(s));
}

int kd_buf_putc(kd_buf *b, char c)
{
	/* the common case inline: the template engine writes much of its
	 * output a byte at a time */
	if (!b->failed && b->len + 1 < b->cap && b->len < b->limit) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
		return 0;
	}
	return kd_buf_put(b, &c, 1);
}

int kd_buf_vprintf(kd_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	int rc;

	if (b->failed)
		return b->failed;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return KD_EINVAL;
	rc = kd_buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int kd_buf_printf(kd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = kd_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *kd_buf_detach(kd_buf *b, size_t *len_out)
{
	char *p;

	if (len_out)
		*len_out = b->len;
	if (!b->cap) {
		p = malloc(1);
		if (p)
			p[0] = '\0';
	} else {
		p = b->ptr;
		kd_mem_release(b->cap);
	}
	kd_buf_init(b, b->limit);
	return p;
}
