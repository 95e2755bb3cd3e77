/* kd_err: the one error type. Functions return 0 or a negative KD_E* code
 * and fill a kd_err with a message that says what failed, where (file:line
 * for user input) and, when it helps, what to do. A message set deeper in
 * the call chain is never overwritten by a vaguer one: wrap with
 * kd_err_prefix() instead. */
#ifndef KD_BASE_ERR_H
#define KD_BASE_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum {
	KD_OK = 0,
	KD_ENOMEM = -1,    /* allocation failed */
	KD_EINVAL = -2,    /* invalid argument or option (a caller's mistake) */
	KD_EPARSE = -3,    /* malformed input: YAML, JSON, template, ... */
	KD_ELIMIT = -4,    /* a limit from limits.h was exceeded */
	KD_EIO = -5,       /* the operating system refused a read or write */
	KD_ENOTFOUND = -6, /* a file, key or object does not exist */
	KD_ETYPE = -7,     /* a value has the wrong type */
	KD_EINTERNAL = -8, /* a third-party library failed unexpectedly */
};

#define KD_ERR_MSG_MAX 1024

typedef struct kd_err {
	int code;
	char msg[KD_ERR_MSG_MAX];
} kd_err;

#define KD_ERR_INIT {0, {0}}

/* Sets the message (printf-style) and returns code, so callers can write
 * `return kd_err_set(err, KD_EPARSE, "...")`. err may be NULL. */
int kd_err_set(kd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int kd_err_setv(kd_err *err, int code, const char *fmt, va_list ap);

/* Puts "<prefix>: " in front of the current message, keeping the code. */
void kd_err_prefix(kd_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void kd_err_clear(kd_err *err);

#endif
