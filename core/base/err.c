#include "base/err.h"

#include <stdio.h>
#include <string.h>

int kd_err_setv(kd_err *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

int kd_err_set(kd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kd_err_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

void kd_err_prefix(kd_err *err, const char *fmt, ...)
{
	char joined[2 * KD_ERR_MSG_MAX + 2];
	size_t n;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(joined, KD_ERR_MSG_MAX, fmt, ap);
	va_end(ap);
	n = strlen(joined);
	memcpy(joined + n, ": ", 2);
	memcpy(joined + n + 2, err->msg, sizeof(err->msg));
	memcpy(err->msg, joined, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
}

void kd_err_clear(kd_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *kd_err_name(int code)
{
	switch (code) {
	case KD_OK: return "ok";
	case KD_ENOMEM: return "out of memory";
	case KD_EINVAL: return "invalid argument";
	case KD_EPARSE: return "parse error";
	case KD_ELIMIT: return "limit exceeded";
	case KD_EIO: return "I/O error";
	case KD_ENOTFOUND: return "not found";
	case KD_ETYPE: return "type error";
	case KD_EINTERNAL: return "internal error";
	}
	return "unknown error";
}
