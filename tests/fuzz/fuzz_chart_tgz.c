/* Fuzz target for chart archives (core/chart/tar.c and the loader behind
 * it): the first byte picks the form of the rest. Even: the rest is the
 * archive as fetched (gzip, then tar). Odd: the rest is a tar stream,
 * gzip-compressed here first, so that mutations reach the tar reader
 * rather than dying in the gzip checksum. A chart that loads answers its
 * accessors and takes itself once more as a subchart (the load's budget
 * counts both). Errors carry a code and a message; nothing leaks. */
#include "fuzz.h"

#include "chart/chart.h"

#include <zlib.h>

static unsigned char *gzip(const uint8_t *data, size_t size, size_t *outlen)
{
	z_stream zs;
	size_t cap = size + size / 8 + 128;
	unsigned char *out = malloc(cap);

	memset(&zs, 0, sizeof zs);
	if (!out || deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)size;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		abort();
	*outlen = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kd_err err = KD_ERR_INIT;
	kd_chart *c = NULL;
	unsigned char *z = NULL;
	const char *p;
	size_t n, i;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		z = gzip(data + 1, size - 1, &n);
		p = (const char *)z;
	} else {
		p = (const char *)data + 1;
		n = size - 1;
	}
	rc = kd_chart_load_tgz(&c, p, n, "fuzz.tgz", &err);
	if (rc) {
		fz_check_err(rc, &err);
		if (c)
			abort();
		goto cleanup;
	}
	if (!kd_chart_name(c) || !kd_chart_version(c) || !kd_chart_meta(c))
		abort();
	(void)kd_chart_lock(c);
	for (i = 0; i < kd_chart_nsubs(c); i++)
		if (!kd_chart_sub_name(c, i))
			abort();
	memset(&err, 0, sizeof err);
	rc = kd_chart_add_sub(c, p, n, "again.tgz", &err);
	if (rc)
		fz_check_err(rc, &err);
	kd_chart_free(c);
cleanup:
	free(z);
	return 0;
}
