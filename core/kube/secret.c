/* Credentials in memory of their own (see kube.h). */
#include "kube/kube.h"

#include <stdlib.h>
#include <string.h>

struct kd_kube_secret {
	size_t len;
	char data[]; /* len bytes and a NUL */
};

int kd_kube_secret_new(kd_kube_secret **out, const void *data, size_t len,
		       kd_err *err)
{
	kd_kube_secret *s;

	*out = NULL;
	s = malloc(sizeof *s + len + 1);
	if (!s)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	s->len = len;
	if (len)
		memcpy(s->data, data, len);
	s->data[len] = '\0';
	*out = s;
	return 0;
}

const char *kd_kube_secret_data(const kd_kube_secret *s)
{
	return s ? s->data : NULL;
}

size_t kd_kube_secret_len(const kd_kube_secret *s)
{
	return s ? s->len : 0;
}

void kd_kube_secret_wipe(kd_kube_secret *s)
{
	if (!s)
		return;
	explicit_bzero(s->data, s->len + 1);
	s->len = 0;
}

void kd_kube_secret_free(kd_kube_secret *s)
{
	kd_kube_secret_wipe(s);
	free(s);
}
