/* Fuzz target for the known_hosts lookup (core/git/knownhosts.c): the
 * input is the host looked up up to a NUL, a 2-byte big-endian length and
 * that many bytes of offered key blob (which holds NULs, as SSH blobs do),
 * then the known_hosts text (NULs allowed too). The lookup answers one of
 * the four states, with a line number inside the text and NUL-terminated
 * strings, or refuses text over the limit. */
#include "fuzz.h"

#include "base/limits.h"
#include "git/git.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_part parts[2] = {{"", 0}, {"", 0}};
	kd_git_known_host kh;
	kd_err err = KD_ERR_INIT;
	const char *key = "", *text = "";
	size_t keylen = 0, len = 0, lines = 1;
	char *host;
	int rc;

	fz_split(data, size, parts, 2);
	if (parts[1].n >= 2) {
		const unsigned char *u = (const unsigned char *)parts[1].p;

		keylen = (size_t)u[0] << 8 | u[1];
		if (keylen > parts[1].n - 2)
			keylen = parts[1].n - 2;
		key = parts[1].p + 2;
		text = key + keylen;
		len = parts[1].n - 2 - keylen;
	}
	host = fz_strdup(&parts[0]);
	rc = kd_git_known_hosts_find(text, len, host, key, keylen, &kh, &err);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (rc) {
		fz_check_err(rc, &err);
		if (rc != KD_EINVAL || len <= KD_LIMIT_KNOWN_HOSTS_BYTES)
			abort();
	} else if (kh.state < KD_GIT_HOST_UNKNOWN || kh.state > KD_GIT_HOST_REVOKED ||
		   (kh.state == KD_GIT_HOST_UNKNOWN) != (kh.line == 0) ||
		   (size_t)kh.line > lines ||
		   !memchr(kh.key_type, 0, sizeof kh.key_type) ||
		   !memchr(kh.fingerprint, 0, sizeof kh.fingerprint) ||
		   (kh.state == KD_GIT_HOST_MISMATCH) != (kh.fingerprint[0] != 0)) {
		abort();
	}
	free(host);
	return 0;
}
