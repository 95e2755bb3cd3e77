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
#include <fnmatch.h>
#include <sodium/utils.h>
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

/* Whether principal matches one of the comma-separated patterns (* and ?
 * wildcards, as ssh-keygen's allowed-signers principals). */
static int principal_matches(const char *patterns, const char *principal)
{
	char one[256];

	for (const char *p = patterns; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n < sizeof one) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (!fnmatch(one, principal, 0))
				return 1;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Finds key (an SSH public key blob) in the allowed-signers text. 0 and
 * the principals when found; KD_GIT_EREFUSED when not; KD_EPARSE for a
 * malformed line (naming file and line). */
static int find_signer(const char *text, size_t len, const char *name,
		       const unsigned char *key, size_t keylen, int64_t when,
		       const char *ns, const char *want, char *principal,
		       size_t psize, kd_err *err)
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
		if (want && !principal_matches(tok[0], want)) {
			snprintf(why, sizeof why, "%s:%d: the key is trusted for \"%s\", not for \"%s\"",
				 name, lineno, tok[0], want);
			continue;
		}
		if (option_value(opts, "namespaces", opt, sizeof opt) &&
		    !list_has(opt, ns)) {
			snprintf(why, sizeof why, "%s:%d: the key is trusted for namespaces \"%s\", not \"%s\"",
				 name, lineno, opt, ns);
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

/* An armored signature, decoded: the blob (heap, the caller frees it) and
 * its fields, pointing into it. */
typedef struct parsed {
	unsigned char *blob;
	span pubkey, ns, reserved, halg, sigblob, ktype;
} parsed;

static int parse_sig(const char *armored, size_t armored_len, parsed *ps,
		     kd_git_sig_result *out, kd_err *err)
{
	const char *b, *e;
	size_t bloblen = 0;
	uint32_t version = 0;
	rd r;

	memset(ps, 0, sizeof *ps);
	memset(out, 0, sizeof *out);
	b = memmem(armored, armored_len, ARMOR_BEGIN, strlen(ARMOR_BEGIN));
	/* the end line is looked for after the whole begin line: their
	 * "-----" could serve both, and a negative length follow */
	e = b ? memmem(b + strlen(ARMOR_BEGIN),
		       armored_len - (size_t)(b - armored) - strlen(ARMOR_BEGIN),
		       ARMOR_END, strlen(ARMOR_END)) : NULL;
	if (!b || !e)
		return kd_err_set(err, KD_GIT_EREFUSED, "the signature is not an SSH signature "
				  "(kedge verifies gpg.format=ssh signatures only)");
	b += strlen(ARMOR_BEGIN);
	if (unbase64(b, (size_t)(e - b), &ps->blob, &bloblen) || bloblen < 10 ||
	    memcmp(ps->blob, "SSHSIG", 6))
		return kd_err_set(err, KD_GIT_EREFUSED, "malformed SSH signature (bad base64 or magic)");
	r.p = ps->blob + 6;
	r.end = ps->blob + bloblen;
	if (get_u32(&r, &version) || version != 1 || get_str(&r, &ps->pubkey) ||
	    get_str(&r, &ps->ns) || get_str(&r, &ps->reserved) || get_str(&r, &ps->halg) ||
	    get_str(&r, &ps->sigblob) || r.p != r.end)
		return kd_err_set(err, KD_GIT_EREFUSED, "malformed SSH signature (version %u)",
				  (unsigned)version);
	kd_git_ssh_fingerprint(ps->pubkey.p, ps->pubkey.n, out->fingerprint);
	{
		rd k = {ps->pubkey.p, ps->pubkey.p + ps->pubkey.n};

		if (get_str(&k, &ps->ktype) || ps->ktype.n >= sizeof out->key_type)
			return kd_err_set(err, KD_GIT_EREFUSED, "malformed public key in the SSH signature");
		memcpy(out->key_type, ps->ktype.p, ps->ktype.n);
	}
	if (ps->ns.n >= sizeof out->ns)
		return kd_err_set(err, KD_GIT_EREFUSED, "the SSH signature's namespace is too long");
	memcpy(out->ns, ps->ns.p, ps->ns.n);
	return 0;
}

/* The signed message of PROTOCOL.sshsig over data's hash (sha256 or
 * sha512, as halg names). */
static int signed_message(kd_buf *msg, const span *ns, const span *reserved,
			  const span *halg, const void *data, size_t len, kd_err *err)
{
	unsigned char h[64];
	size_t hlen;

	if (span_is(halg, "sha512")) {
		mbedtls_sha512_ret(data, len, h, 0);
		hlen = 64;
	} else if (span_is(halg, "sha256")) {
		mbedtls_sha256_ret(data, len, h, 0);
		hlen = 32;
	} else {
		return kd_err_set(err, KD_GIT_EREFUSED, "unsupported SSH signature hash \"%.*s\"",
				  (int)(halg->n > 32 ? 32 : halg->n), (const char *)halg->p);
	}
	kd_buf_put(msg, "SSHSIG", 6);
	put_str(msg, ns->p, ns->n);
	put_str(msg, reserved->p, reserved->n);
	put_str(msg, halg->p, halg->n);
	put_str(msg, h, hlen);
	return msg->failed ? kd_err_set(err, KD_ENOMEM, "out of memory") : 0;
}

/* Checks the signature itself with the key in the signature. */
static int check_signature(const parsed *ps, const kd_buf *msg,
			   kd_git_sig_result *out, kd_err *err)
{
	rd sr = {ps->sigblob.p, ps->sigblob.p + ps->sigblob.n};
	rd k = {ps->pubkey.p, ps->pubkey.p + ps->pubkey.n};
	const unsigned char *m = (const unsigned char *)msg->ptr;
	span sigalg, sigval, skip;
	int ok;

	if (get_str(&sr, &sigalg) || get_str(&sr, &sigval) || get_str(&k, &skip))
		return kd_err_set(err, KD_GIT_EREFUSED, "malformed signature blob");
	if (span_is(&ps->ktype, "ssh-ed25519") && span_is(&sigalg, "ssh-ed25519")) {
		ok = verify_ed25519(&k, &sigval, m, msg->len);
	} else if (span_is(&ps->ktype, "ecdsa-sha2-nistp256") &&
		   span_is(&sigalg, "ecdsa-sha2-nistp256")) {
		ok = verify_ecdsa_p256(&k, &sigval, m, msg->len);
	} else if (span_is(&ps->ktype, "ssh-rsa")) {
		ok = verify_rsa(&k, &sigalg, &sigval, m, msg->len);
		if (ok && span_is(&sigalg, "ssh-rsa"))
			return kd_err_set(err, KD_GIT_EREFUSED, "RSA signature made with SHA-1 "
					  "(ssh-rsa); kedge accepts rsa-sha2-256 and rsa-sha2-512");
	} else {
		return kd_err_set(err, KD_GIT_EREFUSED, "unsupported signature key type %s "
				  "(kedge verifies ssh-ed25519, ecdsa-sha2-nistp256 and ssh-rsa)",
				  out->key_type);
	}
	if (ok)
		return kd_err_set(err, KD_GIT_EREFUSED, "bad %s signature by trusted key %s (%s): "
				  "the signed content was changed or the signature is corrupt",
				  out->key_type, out->fingerprint, out->principal);
	return 0;
}

int kd_git_sshsig_verify_ns(const char *armored, size_t armored_len,
			    const void *data, size_t len, const char *ns,
			    const char *signers, size_t signers_len,
			    const char *signers_name, const char *principal,
			    int64_t when, kd_git_sig_result *out, kd_err *err)
{
	kd_buf msg = KD_BUF_INIT(4096);
	parsed ps;
	int rc;

	rc = parse_sig(armored, armored_len, &ps, out, err);
	if (rc)
		goto cleanup;
	if (!span_is(&ps.ns, ns)) {
		rc = kd_err_set(err, KD_GIT_EREFUSED, "the SSH signature is for namespace \"%.*s\", not \"%s\"",
				(int)(ps.ns.n > 64 ? 64 : ps.ns.n), (const char *)ps.ns.p, ns);
		goto cleanup;
	}
	rc = find_signer(signers, signers_len, signers_name, ps.pubkey.p, ps.pubkey.n,
			 when, ns, principal, out->principal, sizeof out->principal, err);
	if (!rc)
		rc = signed_message(&msg, &ps.ns, &ps.reserved, &ps.halg, data, len, err);
	if (!rc)
		rc = check_signature(&ps, &msg, out, err);
cleanup:
	free(ps.blob);
	kd_buf_free(&msg);
	return rc;
}

int kd_git_sshsig_verify(const char *armored, size_t armored_len,
			 const void *data, size_t len,
			 const char *signers, size_t signers_len,
			 const char *signers_name, int64_t when,
			 kd_git_sig_result *out, kd_err *err)
{
	return kd_git_sshsig_verify_ns(armored, armored_len, data, len, "git", signers,
				       signers_len, signers_name, NULL, when, out, err);
}

int kd_git_sshsig_inspect(const char *armored, size_t armored_len,
			  kd_git_sig_result *out, kd_buf *pubkey, kd_err *err)
{
	parsed ps;
	int rc = parse_sig(armored, armored_len, &ps, out, err);

	if (!rc) {
		size_t need = 4 * ((ps.pubkey.n + 2) / 3) + 1, olen = 0;
		unsigned char *text = malloc(need);

		if (!text || mbedtls_base64_encode(text, need, &olen, ps.pubkey.p, ps.pubkey.n))
			rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		else
			kd_buf_printf(pubkey, "%s %.*s", out->key_type, (int)olen, (const char *)text);
		free(text);
		if (!rc && pubkey->failed)
			rc = kd_err_set(err, KD_ENOMEM, "out of memory");
	}
	free(ps.blob);
	return rc;
}

/* --- signing (ssh-keygen -Y sign), Ed25519 keys only ------------------- */

#define KEY_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define KEY_END "-----END OPENSSH PRIVATE KEY-----"

/* The public key blob and the 64-byte secret key of an unencrypted
 * OpenSSH ed25519 private key file (PROTOCOL.key). */
static int read_private_key(const char *text, size_t n, const char *name,
			    unsigned char pk[32], unsigned char sk[64], kd_err *err)
{
	const char *b = memmem(text, n, KEY_BEGIN, strlen(KEY_BEGIN));
	const char *e = b ? memmem(b, n - (size_t)(b - text), KEY_END, strlen(KEY_END)) : NULL;
	unsigned char *bin = NULL;
	size_t binlen = 0;
	span cipher, kdf, kdfopts, pub, priv, ktype, kpub, kpriv;
	uint32_t nkeys, c1, c2;
	rd r;
	int rc = kd_err_set(err, KD_EPARSE, "%s: not an OpenSSH private key (make one with "
			    "ssh-keygen -t ed25519 -N '' -f %s)", name, name);

	if (!b || !e)
		return rc;
	b += strlen(KEY_BEGIN);
	if (unbase64(b, (size_t)(e - b), &bin, &binlen) || binlen < 15 ||
	    memcmp(bin, "openssh-key-v1", 15))
		goto cleanup;
	r.p = bin + 15;
	r.end = bin + binlen;
	if (get_str(&r, &cipher) || get_str(&r, &kdf) || get_str(&r, &kdfopts))
		goto cleanup;
	if (!span_is(&cipher, "none")) {
		rc = kd_err_set(err, KD_EINVAL, "%s is protected by a passphrase: kedge signs with an "
				"unencrypted key (keep a copy without one on the signing machine: "
				"cp %s pack.key && ssh-keygen -p -N '' -f pack.key)", name, name);
		goto cleanup;
	}
	if (get_u32(&r, &nkeys) || nkeys != 1 || get_str(&r, &pub) || get_str(&r, &priv))
		goto cleanup;
	r.p = priv.p;
	r.end = priv.p + priv.n;
	if (get_u32(&r, &c1) || get_u32(&r, &c2) || c1 != c2 || get_str(&r, &ktype))
		goto cleanup;
	if (!span_is(&ktype, "ssh-ed25519")) {
		rc = kd_err_set(err, KD_EINVAL, "%s: the key type is %.*s; kedge signs packs with ssh-ed25519 "
				"keys only (ssh-keygen -t ed25519 -N '' -f pack.key)", name,
				(int)(ktype.n > 40 ? 40 : ktype.n), (const char *)ktype.p);
		goto cleanup;
	}
	if (get_str(&r, &kpub) || kpub.n != 32 || get_str(&r, &kpriv) || kpriv.n != 64 ||
	    memcmp(kpriv.p + 32, kpub.p, 32))
		goto cleanup;
	memcpy(pk, kpub.p, 32);
	memcpy(sk, kpriv.p, 64);
	rc = 0;
cleanup:
	if (bin)
		sodium_memzero(bin, binlen);
	free(bin);
	return rc;
}

/* Base64 of b, wrapped at 70 columns as ssh-keygen writes it. */
static int armor(kd_buf *out, const kd_buf *b)
{
	size_t need = 4 * ((b->len + 2) / 3) + 1, olen = 0;
	char *text = malloc(need);

	if (!text || mbedtls_base64_encode((unsigned char *)text, need, &olen,
					   (const unsigned char *)b->ptr, b->len)) {
		free(text);
		return -1;
	}
	kd_buf_puts(out, ARMOR_BEGIN "\n");
	for (size_t i = 0; i < olen; i += 70) {
		kd_buf_put(out, text + i, olen - i < 70 ? olen - i : 70);
		kd_buf_putc(out, '\n');
	}
	kd_buf_puts(out, ARMOR_END "\n");
	free(text);
	return out->failed ? -1 : 0;
}

int kd_git_sshsig_sign(const char *key_text, size_t key_len, const char *key_name,
		       const char *ns, const void *data, size_t len, kd_buf *out,
		       kd_err *err)
{
	unsigned char pk[32], sk[64], sig[64];
	kd_buf msg = KD_BUF_INIT(4096), keyblob = KD_BUF_INIT(256), sigblob = KD_BUF_INIT(256);
	kd_buf blob = KD_BUF_INIT(4096);
	span nsp = {(const unsigned char *)ns, strlen(ns)}, none = {NULL, 0};
	span halg = {(const unsigned char *)"sha512", 6};
	int rc;

	if (!ns[0])
		return kd_err_set(err, KD_EINVAL, "an SSH signature needs a namespace");
	rc = read_private_key(key_text, key_len, key_name, pk, sk, err);
	if (rc)
		goto cleanup;
	rc = signed_message(&msg, &nsp, &none, &halg, data, len, err);
	if (rc)
		goto cleanup;
	crypto_sign_ed25519_detached(sig, NULL, (const unsigned char *)msg.ptr, msg.len, sk);
	put_str(&keyblob, "ssh-ed25519", 11);
	put_str(&keyblob, pk, 32);
	put_str(&sigblob, "ssh-ed25519", 11);
	put_str(&sigblob, sig, 64);
	kd_buf_put(&blob, "SSHSIG\0\0\0\1", 10);
	put_str(&blob, keyblob.ptr, keyblob.len);
	put_str(&blob, ns, nsp.n);
	put_str(&blob, "", 0);
	put_str(&blob, "sha512", 6);
	put_str(&blob, sigblob.ptr, sigblob.len);
	if (keyblob.failed || sigblob.failed || blob.failed || armor(out, &blob))
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
cleanup:
	sodium_memzero(sk, sizeof sk);
	kd_buf_free(&msg);
	kd_buf_free(&keyblob);
	kd_buf_free(&sigblob);
	kd_buf_free(&blob);
	return rc;
}
