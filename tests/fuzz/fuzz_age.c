/* Fuzz target for core/age's parsers: the armor, the header with its
 * stanzas, and decryption with a fixed identity (an X25519 key and, for
 * ssh-ed25519 stanzas, an OpenSSH key made here from a fixed seed). For
 * any input: each call either fails with a documented code and a message,
 * or succeeds with results that stay inside their bounds; a failed
 * decryption leaves nothing in its output buffer (no plaintext before the
 * whole file authenticated). */
#include "age/age.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An identity kedge keygen made for this target alone (recipient
 * age1c4nvp5vn6fuvce69cu2xeas5mn9kx707ufnjgkxzny0ly69v09gqyaqhtd), so the
 * corpus can hold files encrypted to it: tests/fuzz/corpus/age/ was made
 * with kedge encrypt and edited by hand. */
static const char IDENTITY[] =
	"AGE-SECRET-KEY-1W2KTZDQ53S59DNE3KXG888GDJA70TE6YRF2UMKZD5F9SHH4T0AESDQJ42W\n";

static void check_code(int rc, const kd_err *err)
{
	if (!err->msg[0])
		abort();
	if (rc != KD_EPARSE && rc != KD_ELIMIT && rc != KD_ENOMEM && rc != KD_EINVAL &&
	    rc != KD_ENOTFOUND)
		abort();
}

static void inspect(const uint8_t *data, size_t size)
{
	kd_age_stanza_info info[4];
	kd_err err = KD_ERR_INIT;
	size_t n = 0, i;
	int armored = -1, rc;

	rc = kd_age_inspect(data, size, &armored, info, 4, &n, &err);
	if (rc) {
		check_code(rc, &err);
		return;
	}
	if (n == 0 || (armored != 0 && armored != 1))
		abort();
	for (i = 0; i < n && i < 4; i++) {
		if (!memchr(info[i].type, 0, sizeof info[i].type) || info[i].nargs < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static kd_age_key *ids;
	static size_t nids;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(KD_LIMIT_AGE_FILE_BYTES);
	int rc;

	if (!ids && kd_age_parse_identities(IDENTITY, sizeof IDENTITY - 1, &ids, &nids, &err))
		abort();
	inspect(data, size);
	rc = kd_age_has_recipient(data, size, &ids[0], &err);
	if (rc < 0)
		check_code(rc, &err);
	else if (rc > 2)
		abort();
	memset(&err, 0, sizeof err);
	rc = kd_age_decrypt(ids, nids, data, size, &out, &err);
	if (rc) {
		check_code(rc, &err);
		if (out.len)
			abort();
	}
	kd_buf_free(&out);
	return 0;
}
