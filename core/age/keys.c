/* age keys: X25519 identities (AGE-SECRET-KEY-1...) and recipients
 * (age1...), ssh-ed25519 public key lines and unencrypted OpenSSH private
 * keys, the latter converted to X25519 as age does. */
#include "age/internal.h"

#include "base/limits.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sodium.h>

static int from_ssh_public(kd_age_key *k, const uint8_t *blob, size_t n)
{
	static const char type[] = "\0\0\0\x0bssh-ed25519\0\0\0\x20";
	uint8_t h[32];

	if (n != 19 + 32 || memcmp(blob, type, 19))
		return -1;
	if (kd_age_ed25519_pk_to_x25519(k->pk, blob + 19))
		return -1;
	k->type = KD_AGE_SSH_ED25519;
	memcpy(k->ssh, blob, n);
	k->ssh_len = n;
	kd_age_sha256(blob, n, h);
	memcpy(k->tag, h, 4);
	return 0;
}

int kd_age_parse_recipient(const char *s, kd_age_key *out, kd_err *err)
{
	size_t n = strlen(s);

	memset(out, 0, sizeof *out);
	if (n > 4 && !strncmp(s, "age1", 4)) {
		if (kd_age_bech32_decode(s, n, "age", out->pk))
			return kd_err_set(err, KD_EPARSE, "recipient %.20s...: not a valid age1 key", s);
		out->type = KD_AGE_X25519;
		return 0;
	}
	if (!strncmp(s, "ssh-ed25519 ", 12)) {
		uint8_t blob[128];
		size_t e = 12;
		long got;

		while (s[e] && s[e] != ' ')
			e++;
		got = kd_age_b64_decode(s + 12, e - 12, 0, blob, sizeof blob);
		if (got < 0 || from_ssh_public(out, blob, (size_t)got))
			return kd_err_set(err, KD_EPARSE, "recipient: not a valid ssh-ed25519 public key");
		return 0;
	}
	if (!strncmp(s, "ssh-", 4) || !strncmp(s, "ecdsa-", 6))
		return kd_err_set(err, KD_EINVAL, "recipient %.24s...: only ssh-ed25519 SSH keys are supported", s);
	return kd_err_set(err, KD_EPARSE, "recipient %.16s...: not an age1 or ssh-ed25519 public key", s);
}

/* --- OpenSSH private keys (PROTOCOL.key) ----------------------------------- */

typedef struct rd {
	const uint8_t *p;
	size_t n;
} rd;

static int get_u32(rd *r, uint32_t *v)
{
	if (r->n < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return 0;
}

static int get_str(rd *r, const uint8_t **s, size_t *len)
{
	uint32_t l;

	if (get_u32(r, &l) || l > r->n)
		return -1;
	*s = r->p;
	*len = l;
	r->p += l;
	r->n -= l;
	return 0;
}

static int is(const uint8_t *s, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(s, want, n);
}

static int ssh_private(const char *text, size_t n, kd_age_key *k, kd_err *err)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----";
	kd_buf b64 = KD_BUF_INIT(64 * 1024);
	uint8_t *bin = NULL, sk[64];
	const uint8_t *s, *pub, *priv;
	size_t i, len, publen, privlen;
	uint32_t nkeys, c1, c2;
	long got;
	rd r;
	int rc = kd_err_set(err, KD_EPARSE, "not an OpenSSH ed25519 private key");

	const char *a = strstr(text, begin), *z = a ? strstr(a, end) : NULL;

	if (!a || !z)
		goto cleanup;
	for (i = (size_t)(a - text) + sizeof begin - 1; text + i < z; i++)
		if (!strchr(" \t\r\n", text[i]))
			kd_buf_putc(&b64, text[i]);
	bin = malloc(b64.len ? b64.len : 1);
	got = b64.failed || !bin ? -1 : kd_age_b64_decode(b64.ptr, b64.len, 0, bin, b64.len);
	if (got < 15 || memcmp(bin, "openssh-key-v1", 15))
		goto cleanup;
	r.p = bin + 15;
	r.n = (size_t)got - 15;
	if (get_str(&r, &s, &len))
		goto cleanup;
	if (!is(s, len, "none")) {
		rc = kd_err_set(err, KD_EINVAL, "the SSH key is protected by a passphrase: kedge reads "
				"only unencrypted keys (ssh-keygen -p -N '' on a copy)");
		goto cleanup;
	}
	if (get_str(&r, &s, &len) || get_str(&r, &s, &len) || get_u32(&r, &nkeys) || nkeys != 1 ||
	    get_str(&r, &pub, &publen) || get_str(&r, &priv, &privlen))
		goto cleanup;
	r.p = priv;
	r.n = privlen;
	if (get_u32(&r, &c1) || get_u32(&r, &c2) || c1 != c2 || get_str(&r, &s, &len))
		goto cleanup;
	if (!is(s, len, "ssh-ed25519")) {
		rc = kd_err_set(err, KD_EINVAL, "only ssh-ed25519 SSH keys are supported as identities");
		goto cleanup;
	}
	if (get_str(&r, &s, &len) || len != 32 || get_str(&r, &s, &len) || len != 64 ||
	    from_ssh_public(k, pub, publen))
		goto cleanup;
	memcpy(sk, s, 64);
	kd_age_ed25519_sk_to_x25519(k->sk, sk);
	rc = 0;
cleanup:
	sodium_memzero(sk, sizeof sk);
	if (bin)
		sodium_memzero(bin, b64.len);
	sodium_memzero(b64.ptr, b64.len);
	free(bin);
	kd_buf_free(&b64);
	return rc;
}

/* --- identity files ---------------------------------------------------------- */

static int x25519_identity(const char *line, size_t n, kd_age_key *k)
{
	uint8_t sk[32];

	if (kd_age_bech32_decode(line, n, "age-secret-key-", sk))
		return -1;
	memcpy(k->sk, sk, 32);
	sodium_memzero(sk, sizeof sk);
	k->type = KD_AGE_X25519;
	return kd_age_x25519_base(k->pk, k->sk);
}

int kd_age_parse_identities(const char *text, size_t n, kd_age_key **out, size_t *count,
			    kd_err *err)
{
	kd_age_key *keys;
	size_t at = 0, got = 0, lineno = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	/* holding secret keys: no core dump may carry them */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	keys = calloc(KD_LIMIT_AGE_IDENTITIES, sizeof *keys);
	if (!keys)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	if (memmem(text, n, "-----BEGIN OPENSSH PRIVATE KEY-----", 35)) {
		rc = ssh_private(text, n, &keys[0], err);
		got = rc ? 0 : 1;
		goto cleanup;
	}
	while (at < n && !rc) {
		size_t s = at, e;

		while (at < n && text[at] != '\n')
			at++;
		e = at++;
		lineno++;
		if (e > s && text[e - 1] == '\r')
			e--;
		while (s < e && (text[s] == ' ' || text[s] == '\t'))
			s++;
		if (s == e || text[s] == '#')
			continue;
		if (got == KD_LIMIT_AGE_IDENTITIES)
			rc = kd_err_set(err, KD_ELIMIT, "more than %d identities", KD_LIMIT_AGE_IDENTITIES);
		else if (x25519_identity(text + s, e - s, &keys[got]))
			rc = kd_err_set(err, KD_EPARSE, "identity line %zu is not an AGE-SECRET-KEY-1 key "
					"(nor is the file an OpenSSH ed25519 private key)", lineno);
		else
			got++;
	}
	if (!rc && !got)
		rc = kd_err_set(err, KD_EPARSE, "no identity in the file");
cleanup:
	if (rc) {
		kd_age_keys_free(keys, KD_LIMIT_AGE_IDENTITIES);
		return rc;
	}
	*out = keys;
	*count = got;
	return 0;
}

void kd_age_keys_free(kd_age_key *keys, size_t n)
{
	if (!keys)
		return;
	sodium_memzero(keys, n * sizeof *keys);
	free(keys);
}

int kd_age_recipient_string(const kd_age_key *k, kd_buf *out, kd_err *err)
{
	int rc;

	if (k->type == KD_AGE_SSH_ED25519) {
		kd_buf_puts(out, "ssh-ed25519 ");
		rc = kd_age_b64_encode(out, k->ssh, k->ssh_len, 0);
	} else {
		rc = kd_age_bech32_encode(out, "age", k->pk, 0);
	}
	return rc ? kd_err_set(err, rc, "out of memory") : 0;
}

int kd_age_keygen(kd_buf *identity, kd_buf *recipient, kd_err *err)
{
	kd_age_key k;
	int rc;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	memset(&k, 0, sizeof k);
	k.type = KD_AGE_X25519;
	if (kd_age_random(k.sk, sizeof k.sk) || kd_age_x25519_base(k.pk, k.sk))
		return kd_err_set(err, KD_EIO, "no randomness from the kernel");
	rc = kd_age_bech32_encode(identity, "age-secret-key-", k.sk, 1);
	if (!rc)
		rc = kd_age_bech32_encode(recipient, "age", k.pk, 0);
	sodium_memzero(&k, sizeof k);
	return rc ? kd_err_set(err, rc, "out of memory") : 0;
}
