/* Helpers shared by the fuzz targets (header only, so each target stays
 * one file): splitting an input into parts, and the check every error
 * must pass. */
#ifndef KD_FUZZ_H
#define KD_FUZZ_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input cut at NUL bytes into at most max parts; returns how many.
 * The parts point into data (not NUL-terminated). */
typedef struct fz_part {
	const char *p;
	size_t n;
} fz_part;

static inline size_t fz_split(const uint8_t *data, size_t size, fz_part *parts,
			      size_t max)
{
	const char *s = (const char *)data, *end = s + size;
	size_t k = 0;

	while (k < max) {
		const char *z = k + 1 < max ? memchr(s, 0, (size_t)(end - s)) : NULL;

		parts[k].p = s;
		parts[k].n = (size_t)((z ? z : end) - s);
		k++;
		if (!z)
			break;
		s = z + 1;
	}
	return k;
}

/* A NUL-terminated copy (malloc) of a part. */
static inline char *fz_strdup(const fz_part *p)
{
	char *s = malloc(p->n + 1);

	if (!s)
		abort();
	memcpy(s, p->p, p->n);
	s[p->n] = 0;
	return s;
}

/* A failure must carry one of kedge's codes and a message. */
static inline void fz_check_err(int rc, const kd_err *err)
{
	if (rc >= 0 || !err->msg[0])
		abort();
}

#endif
