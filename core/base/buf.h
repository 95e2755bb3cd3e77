/* kd_buf: a growable byte buffer with a hard size limit chosen at init.
 *
 * Invariants: `ptr` is never NULL and always NUL-terminated at ptr[len]
 * (an empty buffer points at a shared static ""), so it can be passed to
 * C string functions when it holds no NUL of its own. `len <= limit`.
 * Appending past the limit or failing to allocate leaves the contents as
 * they were, marks the buffer failed and returns KD_ELIMIT / KD_ENOMEM;
 * later appends are ignored until kd_buf_reset(), so a writer can append
 * many pieces and check once. Memory comes from the heap; kd_buf_free()
 * releases it and accepts a buffer that never allocated. */
#ifndef KD_BASE_BUF_H
#define KD_BASE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct kd_buf {
	char *ptr;
	size_t len;
	size_t cap;   /* 0 while ptr is the shared "" */
	size_t limit;
	int failed;   /* 0, KD_ELIMIT or KD_ENOMEM */
} kd_buf;

extern char kd_buf_empty[1];

#define KD_BUF_INIT(lim) {kd_buf_empty, 0, 0, (lim), 0}

void kd_buf_init(kd_buf *b, size_t limit);
void kd_buf_free(kd_buf *b);
/* Empties the buffer and clears a failure, keeping the allocation. */
void kd_buf_reset(kd_buf *b);

int kd_buf_grow(kd_buf *b, size_t extra);
int kd_buf_put(kd_buf *b, const void *data, size_t n);
int kd_buf_puts(kd_buf *b, const char *s);
int kd_buf_putc(kd_buf *b, char c);
int kd_buf_printf(kd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kd_buf_vprintf(kd_buf *b, const char *fmt, va_list ap);

/* Hands the heap string to the caller (who frees it) and empties b. On a
 * buffer that never allocated it returns a fresh heap "" (NULL on ENOMEM). */
char *kd_buf_detach(kd_buf *b, size_t *len_out);

#endif
