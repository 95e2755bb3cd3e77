/* SSH signatures (OpenSSH's PROTOCOL.sshsig) as git writes them with
 * gpg.format=ssh, checked against an allowed-signers file (the format of
 * ssh-keygen(1) ALLOWED SIGNERS). ECDSA P-256 and RSA (rsa-sha2-256/512)
 * go through mbedTLS; Ed25519, which mbedTLS 2.28 lacks, through
 * libsodium. The signed message is "SSHSIG", the namespace, a reserved
 * string, the hash algorithm and the hash of the data, each an SSH string
 * except the magic. */
#include "git/internal.h"

#include "base/buf.h"

#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <sodium/crypto_sign_ed25519.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define ARMOR_END "-----END SSH SIGNATURE-----"
#define MAX_BLOB 16384
#define MAX_SIGNERS_LINE 16384

typedef struct rd {
	const unsigned char *p, *end;
} rd;

typedef struct span {
	const unsigned char *p;
	size_t n;
} span;

static int get_u32(rd *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return 0;
}

static int get_str(rd *r, span *s)
{
	uint32_t n;

	if (get_u32(r, &n) || (size_t)(r->end - r->p) < n)
		return -1;
	s->p = r->p;
	s->n = n;
	r->p += n;
	return 0;
}

static int span_is(const span *s, const char *z)
{
	return s->n == strlen(z) && !memcmp(s->p, z, s->n);
}

static void put_str(kd_buf *b, const void *p, size_t n)
{
	unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
				(unsigned char)(n >> 8), (unsigned char)n};

	kd_buf_put(b, len, 4);
	kd_buf_put(b, p, n);
}

/* Base64 without whitespace into a heap buffer. */
static int unbase64(const char *text, size_t len, unsigned char **out,
		    size_t *outlen)
{
	char *clean = malloc(len + 1);
	size_t n = 0, need = 0;
	int rc = -1;

	*out = NULL;
	if (!clean)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ' &&
		    text[i] != '\t')
			clean[n++] = text[i];
	mbedtls_base64_decode(NULL, 0, &need, (unsigned char *)clean, n);
	if (need == 0 || need > MAX_BLOB)
		goto cleanup;
	*out = malloc(need);
	if (!*out)
		goto cleanup;
	if (mbedtls_base64_decode(*out, need, outlen, (unsigned char *)clean, n)) {
		free(*out);
		*out = NULL;
		goto cleanup;
	}
	rc = 0;
cleanup:
	free(clean);
	return rc;
}

void kd_git_ssh_fingerprint(const void *key, size_t n, char out[64])
{
	unsigned char h[32];
	size_t olen = 0;

	mbedtls_sha256_ret(key, n, h, 0);
	memcpy(out, "SHA256:", 7);
	mbedtls_base64_encode((unsigned char *)out + 7, 64 - 7, &olen, h, 32);
	while (olen && out[7 + olen - 1] == '=')
		olen--;
	out[7 + olen] = '\0';
}

/* --- allowed signers ------------------------------------------------ */

/* Splits one line into whitespace-separated tokens; double quotes keep
 * spaces inside a token. Returns the count (at most max). */
static int tokenize(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max) {
		int quoted = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			break;
		tok[n++] = p;
		while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int is_key_type(const char *s)
{
	return !strcmp(s, "ssh-ed25519") || !strncmp(s, "ecdsa-sha2-", 11) ||
	       !strcmp(s, "ssh-rsa") || !strncmp(s, "sk-", 3) ||
	       !strcmp(s, "ssh-dss");
}

/* The value of option name="..." within a comma-separated option list,
 * copied without quotes; 1 found, 0 absent. */
static int option_value(const char *opts, const char *name, char *out,
			size_t size)
{
	size_t nl = strlen(name);
	const char *p = opts;

	while (p && *p) {
		if (!strncasecmp(p, name, nl) && p[nl] == '=') {
			size_t n = 0;

			p += nl + 1;
			if (*p == '"') {
				p++;
				while (*p && *p != '"' && n + 1 < size)
					out[n++] = *p++;
			} else {
				while (*p && *p != ',' && n + 1 < size)
					out[n++] = *p++;
			}
			out[n] = '\0';
			return 1;
		}
		if (!strncasecmp(p, name, nl) && (p[nl] == ',' || !p[nl])) {
			out[0] = '\0';
			return 1;
		}
		/* skip to the next comma outside quotes */
		for (int q = 0; *p && (q || *p != ','); p++)
			if (*p == '"')
				q = !q;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int list_has(const char *list, const char *item)
{
	size_t il = strlen(item);

	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == il && !strncmp(p, item, n))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* YYYYMMDD[HHMM[SS]][Z] into Unix time (UTC; ssh-keygen reads it as local
 * time unless Z is given, kedge always reads UTC and says so). */
static int parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	size_t n = strlen(s);
	int v[6] = {0};

	if (n && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		n--;
	if (n != 8 && n != 12 && n != 14)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	sscanf(s, "%4d%2d%2d%2d%2d%2d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* Finds key (an SSH public key blob) in the allowed-signers text. 0 and
 * the principals when found; KD_GIT_EREFUSED when not; KD_EPARSE for a
 * malformed line (naming file and line). */
static int find_signer(const char *text, size_t len, const char *name,
		       const unsigned char *key, size_t keylen, int64_t when,
		       char *principal, size_t psize, kd_err *err)
{
	const char *p = text, *end = text + len;
	char *line = NULL;
	int lineno = 0, rc = KD_GIT_EREFUSED;
	char why[256] = "";

	line = malloc(MAX_SIGNERS_LINE + 1);
	if (!line)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *tok[8], opt[160];
		const char *opts = "", *ktype, *kb64;
		unsigned char *blob = NULL;
		size_t bloblen = 0;
		int nt, match;

		lineno++;
		p = nl ? nl + 1 : end;
		if (n > MAX_SIGNERS_LINE) {
			rc = kd_err_set(err, KD_EPARSE, "%s:%d: line longer than %d bytes",
					name, lineno, MAX_SIGNERS_LINE);
			goto cleanup;
		}
		memcpy(line, nl ? nl - n : end - n, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		nt = tokenize(line, tok, 8);
		if (nt == 0)
			continue;
		if (nt >= 3 && is_key_type(tok[1])) {
			ktype = tok[1];
			kb64 = tok[2];
		} else if (nt >= 4 && is_key_type(tok[2])) {
			opts = tok[1];
			ktype = tok[2];
			kb64 = tok[3];
		} else {
			rc = kd_err_set(err, KD_EPARSE,
					"%s:%d: expected 'principals [options] key-type base64-key' "
					"(OpenSSH allowed-signers format)", name, lineno);
			goto cleanup;
		}
		if (unbase64(kb64, strlen(kb64), &blob, &bloblen)) {
			rc = kd_err_set(err, KD_EPARSE, "%s:%d: the %s key is not valid base64",
					name, lineno, ktype);
			goto cleanup;
		}
		match = bloblen == keylen && !memcmp(blob, key, keylen);
		free(blob);
		if (!match)
			continue;
		if (option_value(opts, "cert-authority", opt, sizeof opt)) {
			snprintf(why, sizeof why, "%s:%d: cert-authority keys are not supported by kedge",
				 name, lineno);
			continue;
		}
		if (option_value(opts, "namespaces", opt, sizeof opt) &&
		    !list_has(opt, "git")) {
			snprintf(why, sizeof why, "%s:%d: the key is trusted for namespaces \"%s\", not \"git\"",
				 name, lineno, opt);
			continue;
		}
		if (when && option_value(opts, "valid-after", opt, sizeof opt)) {
			int64_t t;

			if (parse_time(opt, &t)) {
				rc = kd_err_set(err, KD_EPARSE, "%s:%d: valid-after=\"%s\" is not YYYYMMDD[HHMM[SS]][Z]",
						name, lineno, opt);
				goto cleanup;
			}
			if (when < t) {
				snprintf(why, sizeof why, "%s:%d: the key is valid only after %s (UTC)",
					 name, lineno, opt);
				continue;
			}
		}
		if (when && option_value(opts, "valid-before", opt, sizeof opt)) {
			int64_t t;

			if (parse_time(opt, &t)) {
				rc = kd_err_set(err, KD_EPARSE, "%s:%d: valid-before=\"%s\" is not YYYYMMDD[HHMM[SS]][Z]",
						name, lineno, opt);
				goto cleanup;
			}
			if (when >= t) {
				snprintf(why, sizeof why, "%s:%d: the key was valid only before %s (UTC)",
					 name, lineno, opt);
				continue;
			}
		}
		snprintf(principal, psize, "%s", tok[0]);
		rc = 0;
		goto cleanup;
	}
	if (why[0])
		rc = kd_err_set(err, KD_GIT_EREFUSED, "%s", why);
	else
		rc = kd_err_set(err, KD_GIT_EREFUSED, "the signing key is not in %s", name);
cleanup:
	free(line);
	return rc;
}

/* --- signature algorithms -------------------------------------------- */

static int verify_ed25519(rd *key, const span *sig, const unsigned char *msg,
			  size_t mlen)
{
	span pk;

	if (get_str(key, &pk) || pk.n != crypto_sign_ed25519_PUBLICKEYBYTES ||
	    sig->n != crypto_sign_ed25519_BYTES)
		return -1;
	return crypto_sign_ed25519_verify_detached(sig->p, msg, mlen, pk.p) ? -1 : 0;
}

static int verify_ecdsa_p256(rd *key, const span *sig, const unsigned char *msg,
			     size_t mlen)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi r, s;
	unsigned char h[32];
	span curve, point, sr, ss;
	rd sigr = {sig->p, sig->p + sig->n};
	int rc = -1;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	if (get_str(key, &curve) || !span_is(&curve, "nistp256") ||
	    get_str(key, &point) || get_str(&sigr, &sr) || get_str(&sigr, &ss))
		goto cleanup;
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) ||
	    mbedtls_ecp_point_read_binary(&grp, &q, point.p, point.n) ||
	    mbedtls_ecp_check_pubkey(&grp, &q) ||
	    mbedtls_mpi_read_binary(&r, sr.p, sr.n) ||
	    mbedtls_mpi_read_binary(&s, ss.p, ss.n))
		goto cleanup;
	mbedtls_sha256_ret(msg, mlen, h, 0);
	rc = mbedtls_ecdsa_verify(&grp, h, sizeof h, &q, &r, &s) ? -1 : 0;
cleanup:
	mbedtls_ecp_group_free(&grp);
	mbedtls_ecp_point_free(&q);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return rc;
}

static int verify_rsa(rd *key, const span *algo, const span *sig,
		      const unsigned char *msg, size_t mlen)
{
	mbedtls_rsa_context rsa;
	span e, n;
	unsigned char h[64];
	mbedtls_md_type_t md;
	int rc = -1, is512;

	if (span_is(algo, "rsa-sha2-512"))
		is512 = 1;
	else if (span_is(algo, "rsa-sha2-256"))
		is512 = 0;
	else
		return -1;
	mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V15, 0);
	if (get_str(key, &e) || get_str(key, &n))
		goto cleanup;
	/* SSH mpints may carry a leading zero byte */
	while (n.n && n.p[0] == 0) {
		n.p++;
		n.n--;
	}
	if (n.n < 256 || n.n > 2048 || sig->n != n.n)
		goto cleanup;
	if (mbedtls_rsa_import_raw(&rsa, n.p, n.n, NULL, 0, NULL, 0, NULL, 0,
				   e.p, e.n) ||
	    mbedtls_rsa_complete(&rsa) || mbedtls_rsa_check_pubkey(&rsa))
		goto cleanup;
	if (is512) {
		mbedtls_sha512_ret(msg, mlen, h, 0);
		md = MBEDTLS_MD_SHA512;
	} else {
		mbedtls_sha256_ret(msg, mlen, h, 0);
		md = MBEDTLS_MD_SHA256;
	}
	rc = mbedtls_rsa_pkcs1_verify(&rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md,
				      is512 ? 64 : 32, h, sig->p) ? -1 : 0;
cleanup:
	mbedtls_rsa_free(&rsa);
	return rc;
}

int kd_git_sshsig_verify(const char *armored, size_t armored_len,
			 const void *data, size_t len,
			 const char *signers, size_t signers_len,
			 const char *signers_name, int64_t when,
			 kd_git_sig_result *out, kd_err *err)
{
	const char *b, *e;
	unsigned char *blob = NULL, h[64];
	size_t bloblen = 0, hlen;
	rd r;
	uint32_t version = 0;
	span pubkey, ns, reserved, halg, sigblob, sigalg, sigval, ktype;
	kd_buf msg = KD_BUF_INIT(4096);
	int rc, ok = -1;

	memset(out, 0, sizeof *out);
	b = memmem(armored, armored_len, ARMOR_BEGIN, strlen(ARMOR_BEGIN));
	/* the end line is looked for after the whole begin line: their
	 * "-----" could serve both, and a negative length follow */
	e = b ? memmem(b + strlen(ARMOR_BEGIN),
		       armored_len - (size_t)(b - armored) - strlen(ARMOR_BEGIN),
		       ARMOR_END, strlen(ARMOR_END)) : NULL;
	if (!b || !e) {
		rc = kd_err_set(err, KD_GIT_EREFUSED, "the signature is not an SSH signature "
				"(kedge verifies gpg.format=ssh signatures only)");
		goto cleanup;
	}
	b += strlen(ARMOR_BEGIN);
	if (unbase64(b, (size_t)(e - b), &blob, &bloblen) || bloblen < 10 ||
	    memcmp(blob, "SSHSIG", 6)) {
		rc = kd_err_set(err, KD_GIT_EREFUSED, "malformed SSH signature (bad base64 or magic)");
		goto cleanup;
	}
	r.p = blob + 6;
	r.end = blob + bloblen;
	if (get_u32(&r, &version) || version != 1 || get_str(&r, &pubkey) ||
	    get_str(&r, &ns) || get_str(&r, &reserved) || get_str(&r, &halg) ||
	    get_str(&r, &sigblob) || r.p != r.end) {
		rc = kd_err_set(err, KD_GIT_EREFUSED, "malformed SSH signature (version %u)",
				(unsigned)version);
		goto cleanup;
	}
	kd_git_ssh_fingerprint(pubkey.p, pubkey.n, out->fingerprint);
	{
		rd k = {pubkey.p, pubkey.p + pubkey.n};

		if (get_str(&k, &ktype) || ktype.n >= sizeof out->key_type) {
			rc = kd_err_set(err, KD_GIT_EREFUSED, "malformed public key in the SSH signature");
			goto cleanup;
		}
		memcpy(out->key_type, ktype.p, ktype.n);
	}
	if (!span_is(&ns, "git")) {
		rc = kd_err_set(err, KD_GIT_EREFUSED, "the SSH signature is for namespace \"%.*s\", not \"git\"",
				(int)(ns.n > 64 ? 64 : ns.n), (const char *)ns.p);
		goto cleanup;
	}
	rc = find_signer(signers, signers_len, signers_name, pubkey.p, pubkey.n,
			 when, out->principal, sizeof out->principal, err);
	if (rc)
		goto cleanup;
	if (span_is(&halg, "sha512")) {
		mbedtls_sha512_ret(data, len, h, 0);
		hlen = 64;
	} else if (span_is(&halg, "sha256")) {
		mbedtls_sha256_ret(data, len, h, 0);
		hlen = 32;
	} else {
		rc = kd_err_set(err, KD_GIT_EREFUSED, "unsupported SSH signature hash \"%.*s\"",
				(int)(halg.n > 32 ? 32 : halg.n), (const char *)halg.p);
		goto cleanup;
	}
	kd_buf_put(&msg, "SSHSIG", 6);
	put_str(&msg, ns.p, ns.n);
	put_str(&msg, reserved.p, reserved.n);
	put_str(&msg, halg.p, halg.n);
	put_str(&msg, h, hlen);
	if (msg.failed) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		goto cleanup;
	}
	{
		rd sr = {sigblob.p, sigblob.p + sigblob.n};
		rd k = {pubkey.p, pubkey.p + pubkey.n};
		span skip;

		if (get_str(&sr, &sigalg) || get_str(&sr, &sigval) ||
		    get_str(&k, &skip)) {
			rc = kd_err_set(err, KD_GIT_EREFUSED, "malformed signature blob");
			goto cleanup;
		}
		if (span_is(&ktype, "ssh-ed25519") && span_is(&sigalg, "ssh-ed25519")) {
			ok = verify_ed25519(&k, &sigval, (unsigned char *)msg.ptr, msg.len);
		} else if (span_is(&ktype, "ecdsa-sha2-nistp256") &&
			   span_is(&sigalg, "ecdsa-sha2-nistp256")) {
			ok = verify_ecdsa_p256(&k, &sigval, (unsigned char *)msg.ptr, msg.len);
		} else if (span_is(&ktype, "ssh-rsa")) {
			ok = verify_rsa(&k, &sigalg, &sigval, (unsigned char *)msg.ptr, msg.len);
			if (ok && span_is(&sigalg, "ssh-rsa")) {
				rc = kd_err_set(err, KD_GIT_EREFUSED, "RSA signature made with SHA-1 "
						"(ssh-rsa); kedge accepts rsa-sha2-256 and rsa-sha2-512");
				goto cleanup;
			}
		} else {
			rc = kd_err_set(err, KD_GIT_EREFUSED, "unsupported signature key type %s "
					"(kedge verifies ssh-ed25519, ecdsa-sha2-nistp256 and ssh-rsa)",
					out->key_type);
			goto cleanup;
		}
	}
	if (ok) {
		rc = kd_err_set(err, KD_GIT_EREFUSED, "bad %s signature by trusted key %s (%s): "
				"the signed content was changed or the signature is corrupt",
				out->key_type, out->fingerprint, out->principal);
		goto cleanup;
	}
	rc = 0;
cleanup:
	free(blob);
	kd_buf_free(&msg);
	return rc;
}
