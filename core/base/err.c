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
