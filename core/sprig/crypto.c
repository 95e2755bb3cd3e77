/* Sprig v3.2.3's crypto functions on mbedTLS and libsodium: private keys,
 * certificates (genCA, genSelfSignedCert, genSignedCert and their WithKey
 * forms, buildCustomCert), derivePassword (Master Password: scrypt and
 * HMAC-SHA256), bcrypt and htpasswd, encryptAES/decryptAES, sha512sum,
 * randInt and randBytes. Every random byte comes from the kernel's CSPRNG.
 *
 * Where Sprig returns a message instead of an error (bcrypt, htpasswd,
 * derivePassword, genPrivateKey), so does kedge. mbedTLS contexts are freed
 * before an error unwinds with longjmp. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, in the fuzz and host test builds too */
#endif
#include "sprig/internal.h"

#include "base/limits.h"

#include <mbedtls/aes.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>
#include <sodium.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEM_MAX 16384

static int rng(void *ctx, unsigned char *out, size_t n)
{
	(void)ctx;
	return kd_sprig_fill_random(out, n) ? MBEDTLS_ERR_MPI_FILE_IO_ERROR : 0;
}

/* Key generation, bcrypt and scrypt take from milliseconds to seconds each;
 * a render gets a bounded number of them, so a template cannot spin. */
static void spend(kd_tmpl_ex *x)
{
	if (++x->crypto_ops > KD_LIMIT_TMPL_CRYPTO_OPS)
		kd_tmpl_fail(x, KD_ELIMIT,
			     "more than %d key generations or password hashes "
			     "in one render (KD_LIMIT_TMPL_CRYPTO_OPS)",
			     KD_LIMIT_TMPL_CRYPTO_OPS);
}

static void mbed_msg(char *m, size_t n, const char *what, int rc)
{
	char e[128];

	mbedtls_strerror(rc, e, sizeof e);
	snprintf(m, n, "%s: %s", what, e);
}

/* ---- base64 (Go's StdEncoding, which skips CR and LF) ---- */

static const char b64std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes into a malloc'd buffer; on bad input returns -1 and the byte
 * offset Go reports. */
static int b64_decode(const char *s, size_t n, unsigned char **out,
		      size_t *olen, size_t *bad)
{
	unsigned char *o = malloc(n / 4 * 3 + 3);
	unsigned acc = 0;
	size_t i, k = 0, q = 0, pad = 0;

	if (!o)
		return -2;
	for (i = 0; i < n; i++) {
		const char *p;

		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			if (q < 2)
				goto bad;
			pad++;
			continue;
		}
		p = s[i] ? strchr(b64std, s[i]) : NULL;
		if (!p || pad)
			goto bad;
		acc = acc << 6 | (unsigned)(p - b64std);
		if (++q == 4) {
			o[k++] = (unsigned char)(acc >> 16);
			o[k++] = (unsigned char)(acc >> 8);
			o[k++] = (unsigned char)acc;
			q = 0;
			acc = 0;
		}
	}
	if (q == 1 || (q && q + pad != 4) || (!q && pad))
		goto bad;
	if (q == 2) {
		o[k++] = (unsigned char)(acc >> 4);
	} else if (q == 3) {
		o[k++] = (unsigned char)(acc >> 10);
		o[k++] = (unsigned char)(acc >> 2);
	}
	*out = o;
	*olen = k;
	return 0;
bad:
	free(o);
	*bad = i < n ? i : n;
	return -1;
}

static void b64_encode(kd_buf *b, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		kd_buf_putc(b, b64std[v >> 18]);
		kd_buf_putc(b, b64std[(v >> 12) & 63]);
		kd_buf_putc(b, b64std[(v >> 6) & 63]);
		kd_buf_putc(b, b64std[v & 63]);
	}
	if (n - i == 1) {
		kd_buf_putc(b, b64std[p[i] >> 2]);
		kd_buf_putc(b, b64std[(p[i] & 3) << 4]);
		kd_buf_puts(b, "==");
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 8 | p[i + 1];

		kd_buf_putc(b, b64std[v >> 10]);
		kd_buf_putc(b, b64std[(v >> 4) & 63]);
		kd_buf_putc(b, b64std[(v << 2) & 63]);
		kd_buf_putc(b, '=');
	}
}

/* ---- private keys ---- */

/* PKCS#8 for an Ed25519 seed (RFC 8410): the fixed prefix, then 32 bytes */
static const unsigned char ed25519_pkcs8[16] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
	0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
};

static int gen_key(mbedtls_pk_context *pk, const char *typ, int rsa_bits,
		   char *msg, size_t mn)
{
	int rc;

	if (!strcmp(typ, "") || !strcmp(typ, "rsa")) {
		rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
		if (!rc)
			rc = kd_sprig_rsa_gen(mbedtls_pk_rsa(*pk), (unsigned)rsa_bits,
					      rng, NULL);
	} else {
		rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
		if (!rc)
			rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
						 mbedtls_pk_ec(*pk), rng, NULL);
	}
	if (rc)
		mbed_msg(msg, mn, "failed to generate private key", rc);
	return rc;
}

FN(f_genPrivateKey)
{
	const char *typ = argv[0]->u.str.ptr;
	char msg[256], *pem;
	mbedtls_pk_context pk;
	kd_value *r;
	int rc;

	(void)argc;
	if (!strcmp(typ, "ed25519")) {
		unsigned char der[48];
		size_t olen;

		memcpy(der, ed25519_pkcs8, sizeof ed25519_pkcs8);
		if (kd_sprig_fill_random(der + 16, 32))
			kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
		pem = malloc(PEM_MAX);
		if (!pem)
			kd_tmpl_errorf(x, "out of memory");
		rc = mbedtls_pem_write_buffer("-----BEGIN PRIVATE KEY-----\n",
					      "-----END PRIVATE KEY-----\n", der,
					      sizeof der, (unsigned char *)pem,
					      PEM_MAX, &olen);
		sodium_memzero(der, sizeof der);
		r = rc ? NULL : kd_tmpl_str(x, pem, strlen(pem));
		sodium_memzero(pem, PEM_MAX);
		free(pem);
		if (!r)
			kd_tmpl_errorf(x, "failed to encode private key");
		return r;
	}
	if (strcmp(typ, "") && strcmp(typ, "rsa") && strcmp(typ, "ecdsa")) {
		if (!strcmp(typ, "dsa"))
			kd_tmpl_fail(x, KD_EINVAL,
				     "dsa keys are not supported by kedge "
				     "(mbedTLS has no DSA); use rsa, ecdsa or ed25519");
		snprintf(msg, sizeof msg, "Unknown type %s", typ);
		return kd_tmpl_str(x, msg, strlen(msg));
	}
	spend(x);
	pem = malloc(PEM_MAX);
	if (!pem)
		kd_tmpl_errorf(x, "out of memory");
	mbedtls_pk_init(&pk);
	rc = gen_key(&pk, typ, 4096, msg, sizeof msg);
	if (!rc && (rc = mbedtls_pk_write_key_pem(&pk, (unsigned char *)pem,
						  PEM_MAX)))
		mbed_msg(msg, sizeof msg, "failed to encode private key", rc);
	mbedtls_pk_free(&pk);
	r = rc ? kd_tmpl_str(x, msg, strlen(msg)) : kd_tmpl_str(x, pem, strlen(pem));
	sodium_memzero(pem, PEM_MAX);
	free(pem);
	return r;
}

/* ---- certificates ---- */

/* Go's PrintableString alphabet (encoding/asn1): a name made of these is
 * encoded as PrintableString, anything else as UTF8String. */
static int printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(" '()+,-./:=?", c)) || !c)
			return 0;
	}
	return 1;
}

static int set_cn(mbedtls_asn1_named_data **names, const char *cn, size_t n)
{
	mbedtls_asn1_named_data *d;

	if (n == 0)
		return 0; /* Go writes an empty name, not an empty CN */
	d = mbedtls_asn1_store_named_data(names, MBEDTLS_OID_AT_CN,
					  MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
					  (const unsigned char *)cn, n);
	if (!d)
		return MBEDTLS_ERR_X509_ALLOC_FAILED;
	d->val.tag = printable(cn, n) ? MBEDTLS_ASN1_PRINTABLE_STRING
				      : MBEDTLS_ASN1_UTF8_STRING;
	return 0;
}

/* The issuer is the CA's subject byte for byte (string types included),
 * since verifiers match issuer and subject as raw DER. */
static int copy_name(mbedtls_asn1_named_data **names, const mbedtls_x509_name *n)
{
	for (; n; n = n->next) {
		mbedtls_asn1_named_data *d;

		if (!n->oid.p)
			continue;
		d = mbedtls_asn1_store_named_data(names, (const char *)n->oid.p,
						  n->oid.len, n->val.p,
						  n->val.len);
		if (!d)
			return MBEDTLS_ERR_X509_ALLOC_FAILED;
		d->val.tag = n->val.tag;
	}
	return 0;
}

/* net.ParseIP, then To4 as Go's certificates store IPv4 (mapped ones too)
 * in 4 bytes; 0 when s is no address. */
static int parse_ip(const char *s, unsigned char *out)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						 0xff, 0xff};

	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) != 1)
		return 0;
	if (!memcmp(out, mapped, sizeof mapped)) {
		memmove(out, out + 12, 4);
		return 4;
	}
	return 16;
}

typedef struct certreq {
	const char *cn;
	size_t cnlen;
	const kd_value *ips, *dns;
	int64_t days;
	bool ca;
} certreq;

/* SubjectAltName: DNS names first, then IP addresses, as Go writes them. */
static int san_der(const certreq *q, unsigned char *buf,
		   size_t size, unsigned char **start, char *msg, size_t mn)
{
	unsigned char *p = buf + size;
	size_t len = 0, i;
	int rc;

	if (q->ips && q->ips->type == KD_LIST)
		for (i = q->ips->u.list.len; i-- > 0;) {
			const kd_value *v = q->ips->u.list.items[i];
			unsigned char ip[16];
			int n = v->type == KD_STR ? parse_ip(v->u.str.ptr, ip) : 0;

			if (v->type != KD_STR) {
				kd_buf b = KD_BUF_INIT(256);

				kd_tmpl_fmt_v(NULL, &b, v);
				snprintf(msg, mn, "error parsing ip: %s is not a string",
					 b.ptr);
				kd_buf_free(&b);
				return -1;
			}
			if (!n) {
				snprintf(msg, mn, "error parsing ip: %s", v->u.str.ptr);
				return -1;
			}
			rc = mbedtls_asn1_write_raw_buffer(&p, buf, ip, (size_t)n);
			if (rc < 0)
				goto toolong;
			len += (size_t)rc;
			rc = mbedtls_asn1_write_len(&p, buf, (size_t)n);
			if (rc < 0)
				goto toolong;
			len += (size_t)rc;
			rc = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7);
			if (rc < 0)
				goto toolong;
			len += (size_t)rc;
		}
	if (q->dns && q->dns->type == KD_LIST)
		for (i = q->dns->u.list.len; i-- > 0;) {
			const kd_value *v = q->dns->u.list.items[i];

			if (v->type != KD_STR) {
				kd_buf b = KD_BUF_INIT(256);

				kd_tmpl_fmt_v(NULL, &b, v);
				snprintf(msg, mn, "error processing alternate dns name: "
					 "%s is not a string", b.ptr);
				kd_buf_free(&b);
				return -1;
			}
			rc = mbedtls_asn1_write_raw_buffer(&p, buf,
				(const unsigned char *)v->u.str.ptr, v->u.str.len);
			if (rc < 0)
				goto toolong;
			len += (size_t)rc;
			rc = mbedtls_asn1_write_len(&p, buf, v->u.str.len);
			if (rc < 0)
				goto toolong;
			len += (size_t)rc;
			rc = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2);
			if (rc < 0)
				goto toolong;
			len += (size_t)rc;
		}
	if (len == 0) {
		*start = NULL;
		return 0;
	}
	rc = mbedtls_asn1_write_len(&p, buf, len);
	if (rc < 0)
		goto toolong;
	len += (size_t)rc;
	rc = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
	if (rc < 0)
		goto toolong;
	len += (size_t)rc;
	*start = p;
	return (int)len;
toolong:
	snprintf(msg, mn, "error creating certificate: too many alternative names");
	return -1;
}

/* ExtKeyUsage serverAuth, clientAuth: Sprig's base template sets both */
static const unsigned char eku_server_client[] = {
	0x30, 0x14, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
	0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02,
};

/* BasicConstraints: cA TRUE without a path length, or the empty SEQUENCE */
static const unsigned char bc_ca[] = {0x30, 0x03, 0x01, 0x01, 0xff};
static const unsigned char bc_leaf[] = {0x30, 0x00};

/* "YYYYMMDDhhmmss" in UTC, as mbedTLS takes validity times */
static int fmt_time(char out[64], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1 ||
	    tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(out, 64, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

/* Go's x509.CreateCertificate with Sprig's template: v3, a random 128-bit
 * serial, the CN alone as subject, valid from now for q->days days, key
 * usage (critical), server and client auth, basic constraints (critical),
 * a subject key id on CAs, the issuer's key id, alternative names. Writes
 * the PEMs of the certificate and of the subject key into cert and key. */
static int make_cert(const certreq *q, mbedtls_pk_context *sk,
		     mbedtls_pk_context *ik, const mbedtls_x509_crt *issuer,
		     char *cert, char *key, char *msg, size_t mn)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	unsigned char sn[16], *san = NULL, *sanp = NULL;
	char nb[64], na[64];
	int64_t now = (int64_t)time(NULL);
	unsigned ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
		      MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
	int rc = -1, sanlen;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	san = malloc(65536);
	if (!san) {
		snprintf(msg, mn, "out of memory");
		goto cleanup;
	}
	sanlen = san_der(q, san, 65536, &sanp, msg, mn);
	if (sanlen < 0)
		goto cleanup;
	if (q->days > 3650000 || q->days < -3650000 ||
	    fmt_time(nb, now) || fmt_time(na, now + q->days * 86400)) {
		snprintf(msg, mn, "error creating certificate: validity of %lld "
			 "days is out of range", (long long)q->days);
		goto cleanup;
	}
	if (kd_sprig_fill_random(sn, sizeof sn)) {
		snprintf(msg, mn, "no random numbers from the kernel");
		goto cleanup;
	}
	mbedtls_x509write_crt_set_subject_key(&w, sk);
	mbedtls_x509write_crt_set_issuer_key(&w, ik);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	ku |= q->ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN : 0;
	if ((rc = set_cn(&w.subject, q->cn, q->cnlen)) ||
	    (rc = issuer ? copy_name(&w.issuer, &issuer->subject)
			 : set_cn(&w.issuer, q->cn, q->cnlen)) ||
	    (rc = mbedtls_mpi_read_binary(&serial, sn, sizeof sn)) ||
	    (rc = mbedtls_x509write_crt_set_serial(&w, &serial)) ||
	    (rc = mbedtls_x509write_crt_set_validity(&w, nb, na)) ||
	    /* critical on every certificate, as Go writes it */
	    (rc = mbedtls_x509write_crt_set_extension(&w,
			MBEDTLS_OID_BASIC_CONSTRAINTS,
			MBEDTLS_OID_SIZE(MBEDTLS_OID_BASIC_CONSTRAINTS), 1,
			q->ca ? bc_ca : bc_leaf, q->ca ? sizeof bc_ca : sizeof bc_leaf)) ||
	    (rc = mbedtls_x509write_crt_set_key_usage(&w, ku)) ||
	    (rc = mbedtls_x509write_crt_set_extension(&w,
			MBEDTLS_OID_EXTENDED_KEY_USAGE,
			MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
			eku_server_client, sizeof eku_server_client)) ||
	    (q->ca && (rc = mbedtls_x509write_crt_set_subject_key_identifier(&w))) ||
	    (issuer && (rc = mbedtls_x509write_crt_set_authority_key_identifier(&w))) ||
	    /* critical when the subject is empty (RFC 5280, as Go does) */
	    (sanlen > 0 && (rc = mbedtls_x509write_crt_set_extension(&w,
			MBEDTLS_OID_SUBJECT_ALT_NAME,
			MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
			q->cnlen == 0, sanp, (size_t)sanlen))) ||
	    (rc = mbedtls_x509write_crt_pem(&w, (unsigned char *)cert, PEM_MAX,
					    rng, NULL))) {
		mbed_msg(msg, mn, "error creating certificate", rc);
		goto cleanup;
	}
	if ((rc = mbedtls_pk_write_key_pem(sk, (unsigned char *)key, PEM_MAX)))
		mbed_msg(msg, mn, "error pem-encoding key", rc);
cleanup:
	free(san);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return rc ? rc : 0;
}

/* Sprig's parsePrivateKeyPEM: PKCS#1, SEC 1 or PKCS#8 (RSA and ECDSA keys;
 * mbedTLS 2.28 reads no Ed25519 or DSA keys). */
static int parse_key(mbedtls_pk_context *pk, const kd_value *v, char *msg,
		     size_t mn)
{
	char *s;
	int rc;

	if (!v || v->type != KD_STR || !memmem(v->u.str.ptr, v->u.str.len,
						 "-----BEGIN ", 11)) {
		snprintf(msg, mn, "no PEM data in input");
		return -1;
	}
	s = malloc(v->u.str.len + 1);
	if (!s) {
		snprintf(msg, mn, "out of memory");
		return -1;
	}
	memcpy(s, v->u.str.ptr, v->u.str.len);
	s[v->u.str.len] = 0;
	rc = mbedtls_pk_parse_key(pk, (unsigned char *)s, v->u.str.len + 1,
				  NULL, 0);
	sodium_memzero(s, v->u.str.len);
	free(s);
	if (rc)
		mbed_msg(msg, mn, "invalid private key", rc);
	return rc;
}

/* the first PEM certificate in s */
static int parse_cert(mbedtls_x509_crt *crt, const char *p, size_t n,
		      char *msg, size_t mn, const char *what)
{
	char *s;
	int rc;

	if (!memmem(p, n, "-----BEGIN ", 11)) {
		snprintf(msg, mn, "unable to decode certificate");
		return -1;
	}
	s = malloc(n + 1);
	if (!s) {
		snprintf(msg, mn, "out of memory");
		return -1;
	}
	memcpy(s, p, n);
	s[n] = 0;
	rc = mbedtls_x509_crt_parse(crt, (unsigned char *)s, n + 1);
	free(s);
	if (rc) {
		char e[128];

		mbedtls_strerror(rc, e, sizeof e);
		snprintf(msg, mn, "error parsing certificate: %s: %s", what, e);
	}
	return rc;
}

static kd_value *cert_value(kd_tmpl_ex *x, const char *cert, size_t cn,
			    const char *key, size_t kn)
{
	kd_value *m = kd_value_map(x->a, 2);

	if (!m || kd_map_setz(x->a, m, "Cert", kd_tmpl_str(x, cert, cn)) ||
	    kd_map_setz(x->a, m, "Key", kd_tmpl_str(x, key, kn)))
		kd_tmpl_errorf(x, "out of memory");
	m->u.map.ents[0].key = kd_tmpl_cert_key;
	return m;
}

/* One certificate: key given as PEM or a new RSA-2048 key; ca a
 * certificate value or NULL for a self-signed one. */
static kd_value *gen_cert(kd_tmpl_ex *x, const certreq *q,
			  const kd_value *keypem, const kd_value *ca)
{
	mbedtls_pk_context sk, ik;
	mbedtls_x509_crt issuer;
	char msg[512] = "", *cert = malloc(PEM_MAX), *key = malloc(PEM_MAX);
	kd_value *r = NULL;
	int rc = -1;

	mbedtls_pk_init(&sk);
	mbedtls_pk_init(&ik);
	mbedtls_x509_crt_init(&issuer);
	if (!cert || !key) {
		snprintf(msg, sizeof msg, "out of memory");
		goto cleanup;
	}
	if (keypem) {
		char m[400];

		if (parse_key(&sk, keypem, m, sizeof m)) {
			snprintf(msg, sizeof msg, "parsing private key: %s", m);
			goto cleanup;
		}
	} else if (gen_key(&sk, "rsa", 2048, msg, sizeof msg)) {
		snprintf(msg, sizeof msg, "error generating rsa key");
		goto cleanup;
	}
	if (ca) {
		const kd_value *c = kd_map_getz(ca, "Cert");
		const kd_value *k = kd_map_getz(ca, "Key");
		char m[400];

		if (parse_cert(&issuer, c->u.str.ptr, c->u.str.len, msg,
			       sizeof msg, "decodedSignerCert.Bytes"))
			goto cleanup;
		if (parse_key(&ik, k, m, sizeof m)) {
			snprintf(msg, sizeof msg, "error parsing private key: %s", m);
			goto cleanup;
		}
	}
	rc = make_cert(q, &sk, ca ? &ik : &sk, ca ? &issuer : NULL, cert, key,
		       msg, sizeof msg);
cleanup:
	mbedtls_pk_free(&sk);
	mbedtls_pk_free(&ik);
	mbedtls_x509_crt_free(&issuer);
	if (!rc)
		r = cert_value(x, cert, strlen(cert), key, strlen(key));
	if (key)
		sodium_memzero(key, PEM_MAX);
	free(cert);
	free(key);
	if (rc)
		kd_tmpl_fail(x, KD_EINVAL, "%s", msg);
	return r;
}

static const kd_value *ca_arg(kd_tmpl_ex *x, const kd_value *v)
{
	if (!kd_tmpl_is_cert(v))
		kd_tmpl_errorf(x, "wrong type for value; expected sprig.certificate; "
			       "got %s", v && v->type != KD_NULL
					 ? kd_tmpl_type_name(v) : "interface {}");
	return v;
}

static void req(certreq *q, const kd_value *cn, const kd_value *ips,
		const kd_value *dns, const kd_value *days, bool ca)
{
	q->cn = cn->u.str.ptr;
	q->cnlen = cn->u.str.len;
	q->ips = ips;
	q->dns = dns;
	q->days = days->u.i;
	q->ca = ca;
}

FN(f_genCA)
{
	certreq q;

	(void)argc;
	spend(x);
	req(&q, argv[0], NULL, NULL, argv[1], true);
	return gen_cert(x, &q, NULL, NULL);
}

FN(f_genCAWithKey)
{
	certreq q;

	(void)argc;
	req(&q, argv[0], NULL, NULL, argv[1], true);
	return gen_cert(x, &q, argv[2], NULL);
}

FN(f_genSelfSignedCert)
{
	certreq q;

	(void)argc;
	spend(x);
	req(&q, argv[0], argv[1], argv[2], argv[3], false);
	return gen_cert(x, &q, NULL, NULL);
}

FN(f_genSelfSignedCertWithKey)
{
	certreq q;

	(void)argc;
	req(&q, argv[0], argv[1], argv[2], argv[3], false);
	return gen_cert(x, &q, argv[4], NULL);
}

FN(f_genSignedCert)
{
	certreq q;

	(void)argc;
	ca_arg(x, argv[4]);
	spend(x);
	req(&q, argv[0], argv[1], argv[2], argv[3], false);
	return gen_cert(x, &q, NULL, argv[4]);
}

FN(f_genSignedCertWithKey)
{
	certreq q;

	(void)argc;
	ca_arg(x, argv[4]);
	req(&q, argv[0], argv[1], argv[2], argv[3], false);
	return gen_cert(x, &q, argv[5], argv[4]);
}

FN(f_buildCustomCert)
{
	unsigned char *cert = NULL, *key = NULL;
	size_t cn, kn, bad;
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	char msg[512] = "", m[400];
	kd_value *r = NULL;
	int rc = -1;

	(void)argc;
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	if (b64_decode(argv[0]->u.str.ptr, argv[0]->u.str.len, &cert, &cn, &bad)) {
		snprintf(msg, sizeof msg, "unable to decode base64 certificate");
		goto cleanup;
	}
	if (b64_decode(argv[1]->u.str.ptr, argv[1]->u.str.len, &key, &kn, &bad)) {
		snprintf(msg, sizeof msg, "unable to decode base64 private key");
		goto cleanup;
	}
	if (parse_cert(&crt, (const char *)cert, cn, msg, sizeof msg,
		       "decodedCert.Bytes"))
		goto cleanup;
	{
		kd_value kv = {KD_STR, {0}};

		kv.u.str.ptr = (const char *)key;
		kv.u.str.len = kn;
		if (parse_key(&pk, &kv, m, sizeof m)) {
			snprintf(msg, sizeof msg, "error parsing private key: %s", m);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&pk);
	if (!rc)
		r = cert_value(x, (const char *)cert, cn, (const char *)key, kn);
	if (key)
		sodium_memzero(key, kn);
	free(cert);
	free(key);
	if (rc)
		kd_tmpl_fail(x, KD_EINVAL, "%s", msg);
	return r;
}

/* ---- bcrypt (golang.org/x/crypto/bcrypt: version 2a, cost 10) ---- */

/* Blowfish's initial P-array and S-boxes are the hexadecimal digits of
 * pi's fraction. kedge computes them once with Machin's formula,
 * pi = 16 atan(1/5) - 4 atan(1/239), in fixed point: word 0 holds the
 * integer part, two more words guard the last digits against rounding. */
#define BF_WORDS (18 + 4 * 256)
#define FIX_WORDS (1 + BF_WORDS + 2)

typedef struct bf_state {
	uint32_t P[18];
	uint32_t S[4][256];
} bf_state;

static void fix_div(uint32_t *a, uint32_t d)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < FIX_WORDS; i++) {
		uint64_t cur = r << 32 | a[i];

		a[i] = (uint32_t)(cur / d);
		r = cur % d;
	}
}

static void fix_add(uint32_t *acc, const uint32_t *t, int sign)
{
	int64_t carry = 0;
	size_t i;

	for (i = FIX_WORDS; i-- > 0;) {
		int64_t v = (int64_t)acc[i] + sign * (int64_t)t[i] + carry;

		carry = v < 0 ? -1 : v >> 32;
		acc[i] = (uint32_t)v;
	}
}

static bool fix_zero(const uint32_t *a)
{
	size_t i;

	for (i = 0; i < FIX_WORDS; i++)
		if (a[i])
			return false;
	return true;
}

/* acc += sign * mult * atan(1/inv) */
static void fix_atan(uint32_t *acc, uint32_t *term, uint32_t *t2,
		     uint32_t mult, uint32_t inv, int sign)
{
	uint32_t k;

	memset(term, 0, FIX_WORDS * sizeof *term);
	term[0] = mult;
	fix_div(term, inv);
	fix_add(acc, term, sign);
	for (k = 1; !fix_zero(term); k++) {
		fix_div(term, inv * inv);
		memcpy(t2, term, FIX_WORDS * sizeof *term);
		fix_div(t2, 2 * k + 1);
		fix_add(acc, t2, k % 2 ? -sign : sign);
	}
}

static const bf_state *bf_init_state(void)
{
	static bf_state init;
	static bool done;
	uint32_t *pi, *term, *t2;
	size_t i;

	if (done)
		return &init;
	pi = calloc(3 * FIX_WORDS, sizeof *pi);
	if (!pi)
		return NULL;
	term = pi + FIX_WORDS;
	t2 = term + FIX_WORDS;
	fix_atan(pi, term, t2, 16, 5, 1);
	fix_atan(pi, term, t2, 4, 239, -1);
	for (i = 0; i < 18; i++)
		init.P[i] = pi[1 + i];
	for (i = 0; i < 4 * 256; i++)
		init.S[i / 256][i % 256] = pi[1 + 18 + i];
	free(pi);
	done = true;
	return &init;
}

static uint32_t bf_f(const bf_state *s, uint32_t v)
{
	return ((s->S[0][v >> 24] + s->S[1][(v >> 16) & 0xff]) ^
		s->S[2][(v >> 8) & 0xff]) + s->S[3][v & 0xff];
}

static void bf_encrypt(const bf_state *s, uint32_t *l, uint32_t *r)
{
	uint32_t a = *l, b = *r;
	int i;

	for (i = 0; i < 16; i += 2) {
		a ^= s->P[i];
		b ^= bf_f(s, a);
		b ^= s->P[i + 1];
		a ^= bf_f(s, b);
	}
	a ^= s->P[16];
	b ^= s->P[17];
	*l = b;
	*r = a;
}

/* the next 4 bytes of a key used as a cyclic stream, big-endian */
static uint32_t stream_word(const unsigned char *k, size_t n, size_t *j)
{
	uint32_t w = 0;
	int i;

	for (i = 0; i < 4; i++) {
		w = w << 8 | k[*j];
		*j = (*j + 1) % n;
	}
	return w;
}

/* Blowfish's key schedule, salted as bcrypt's EksBlowfish does (salt NULL:
 * the plain schedule) */
static void bf_expand(bf_state *s, const unsigned char *key, size_t kn,
		      const unsigned char *salt, size_t sn)
{
	uint32_t l = 0, r = 0;
	size_t i, j = 0, k = 0;

	for (i = 0; i < 18; i++)
		s->P[i] ^= stream_word(key, kn, &j);
	for (i = 0; i < 18; i += 2) {
		if (salt) {
			l ^= stream_word(salt, sn, &k);
			r ^= stream_word(salt, sn, &k);
		}
		bf_encrypt(s, &l, &r);
		s->P[i] = l;
		s->P[i + 1] = r;
	}
	for (i = 0; i < 4 * 256; i += 2) {
		if (salt) {
			l ^= stream_word(salt, sn, &k);
			r ^= stream_word(salt, sn, &k);
		}
		bf_encrypt(s, &l, &r);
		s->S[i / 256][i % 256] = l;
		s->S[i / 256][i % 256 + 1] = r;
	}
}

static const char bcrypt64[] =
	"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static void bcrypt_b64(kd_buf *b, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		kd_buf_putc(b, bcrypt64[v >> 18]);
		kd_buf_putc(b, bcrypt64[(v >> 12) & 63]);
		if (left > 1)
			kd_buf_putc(b, bcrypt64[(v >> 6) & 63]);
		if (left > 2)
			kd_buf_putc(b, bcrypt64[v & 63]);
	}
}

/* Appends "$2a$CC$" + salt + hash to b, or an error message as Sprig's
 * bcrypt returns it. */
static void bcrypt_hash(kd_tmpl_ex *x, kd_buf *b, const char *pw, size_t pn,
			const unsigned char salt[16], int cost)
{
	static const char magic[] = "OrpheanBeholderScryDoubt";
	const bf_state *init = bf_init_state();
	bf_state *s;
	unsigned char *key, ct[24];
	uint32_t w[6];
	size_t kn = pn + 1, i;
	int j;

	if (pn > 72) {
		kd_buf_puts(b, "failed to encrypt string with bcrypt: bcrypt: "
			    "password length exceeds 72 bytes");
		return;
	}
	s = malloc(sizeof *s);
	key = malloc(kn);
	if (!init || !s || !key) {
		free(s);
		free(key);
		kd_tmpl_errorf(x, "out of memory");
	}
	/* the C implementations' trailing NUL is part of the key */
	memcpy(key, pw, pn);
	key[pn] = 0;
	*s = *init;
	bf_expand(s, key, kn, salt, 16);
	for (i = 0; i < (size_t)1 << cost; i++) {
		bf_expand(s, key, kn, NULL, 0);
		bf_expand(s, salt, 16, NULL, 0);
	}
	for (i = 0; i < 6; i++)
		w[i] = (uint32_t)(unsigned char)magic[4 * i] << 24 |
		       (uint32_t)(unsigned char)magic[4 * i + 1] << 16 |
		       (uint32_t)(unsigned char)magic[4 * i + 2] << 8 |
		       (unsigned char)magic[4 * i + 3];
	for (i = 0; i < 6; i += 2)
		for (j = 0; j < 64; j++)
			bf_encrypt(s, &w[i], &w[i + 1]);
	for (i = 0; i < 6; i++) {
		ct[4 * i] = (unsigned char)(w[i] >> 24);
		ct[4 * i + 1] = (unsigned char)(w[i] >> 16);
		ct[4 * i + 2] = (unsigned char)(w[i] >> 8);
		ct[4 * i + 3] = (unsigned char)w[i];
	}
	sodium_memzero(key, kn);
	sodium_memzero(s, sizeof *s);
	free(key);
	free(s);
	kd_buf_printf(b, "$2a$%02d$", cost);
	bcrypt_b64(b, salt, 16);
	/* only 23 of the 24 bytes, like every bcrypt since the first */
	bcrypt_b64(b, ct, 23);
	sodium_memzero(ct, sizeof ct);
}

static void bcrypt_new(kd_tmpl_ex *x, kd_buf *b, const char *pw, size_t pn)
{
	unsigned char salt[16];

	spend(x);
	if (kd_sprig_fill_random(salt, sizeof salt))
		kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
	bcrypt_hash(x, b, pw, pn, salt, 10);
}

FN(f_bcrypt)
{
	kd_buf *b = kd_tmpl_tmpbuf(x);

	(void)argc;
	bcrypt_new(x, b, argv[0]->u.str.ptr, argv[0]->u.str.len);
	return kd_tmpl_tmpbuf_value(x, b);
}

FN(f_htpasswd)
{
	const kd_value *u = argv[0];
	kd_buf *b = kd_tmpl_tmpbuf(x);

	(void)argc;
	if (memchr(u->u.str.ptr, ':', u->u.str.len)) {
		kd_buf_puts(b, "invalid username: ");
		kd_buf_put(b, u->u.str.ptr, u->u.str.len);
		return kd_tmpl_tmpbuf_value(x, b);
	}
	kd_buf_put(b, u->u.str.ptr, u->u.str.len);
	kd_buf_putc(b, ':');
	bcrypt_new(x, b, argv[1]->u.str.ptr, argv[1]->u.str.len);
	return kd_tmpl_tmpbuf_value(x, b);
}

/* ---- derivePassword: the Master Password algorithm (v3) ---- */

static const struct {
	const char *type;
	const char *tpl[21];
} mp_templates[] = {
	{"maximum", {"anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"}},
	{"long", {"CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno",
		  "CvccnoCvcvCvcv", "CvccCvcvnoCvcv", "CvccCvcvCvcvno",
		  "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno",
		  "CvcvnoCvcvCvcc", "CvcvCvcvnoCvcc", "CvcvCvcvCvccno",
		  "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno",
		  "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno",
		  "CvccnoCvcvCvcc", "CvccCvcvnoCvcc", "CvccCvcvCvccno"}},
	{"medium", {"CvcnoCvc", "CvcCvcno"}},
	{"short", {"Cvcn"}},
	{"basic", {"aaanaaan", "aannaaan", "aaannaaa"}},
	{"pin", {"nnnn"}},
};

static const char *mp_chars(char c)
{
	switch (c) {
	case 'V': return "AEIOU";
	case 'C': return "BCDFGHJKLMNPQRSTVWXYZ";
	case 'v': return "aeiou";
	case 'c': return "bcdfghjklmnpqrstvwxyz";
	case 'A': return "AEIOUBCDFGHJKLMNPQRSTVWXYZ";
	case 'a': return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
	case 'n': return "0123456789";
	case 'o': return "@&%?,=[]_:-+*$#!'^~;()/.";
	}
	return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()";
}

/* scrypt (RFC 7914) over mbedTLS's PBKDF2-HMAC-SHA256; kedge's libsodium
 * is the minimal build, which leaves scrypt out. */
static void salsa8(uint32_t b[16])
{
	uint32_t w[16];
	int i;

	memcpy(w, b, sizeof w);
#define R(a, n) (((a) << (n)) | ((a) >> (32 - (n))))
	for (i = 0; i < 8; i += 2) {
		w[4] ^= R(w[0] + w[12], 7);   w[8] ^= R(w[4] + w[0], 9);
		w[12] ^= R(w[8] + w[4], 13);  w[0] ^= R(w[12] + w[8], 18);
		w[9] ^= R(w[5] + w[1], 7);    w[13] ^= R(w[9] + w[5], 9);
		w[1] ^= R(w[13] + w[9], 13);  w[5] ^= R(w[1] + w[13], 18);
		w[14] ^= R(w[10] + w[6], 7);  w[2] ^= R(w[14] + w[10], 9);
		w[6] ^= R(w[2] + w[14], 13);  w[10] ^= R(w[6] + w[2], 18);
		w[3] ^= R(w[15] + w[11], 7);  w[7] ^= R(w[3] + w[15], 9);
		w[11] ^= R(w[7] + w[3], 13);  w[15] ^= R(w[11] + w[7], 18);
		w[1] ^= R(w[0] + w[3], 7);    w[2] ^= R(w[1] + w[0], 9);
		w[3] ^= R(w[2] + w[1], 13);   w[0] ^= R(w[3] + w[2], 18);
		w[6] ^= R(w[5] + w[4], 7);    w[7] ^= R(w[6] + w[5], 9);
		w[4] ^= R(w[7] + w[6], 13);   w[5] ^= R(w[4] + w[7], 18);
		w[11] ^= R(w[10] + w[9], 7);  w[8] ^= R(w[11] + w[10], 9);
		w[9] ^= R(w[8] + w[11], 13);  w[10] ^= R(w[9] + w[8], 18);
		w[12] ^= R(w[15] + w[14], 7); w[13] ^= R(w[12] + w[15], 9);
		w[14] ^= R(w[13] + w[12], 13); w[15] ^= R(w[14] + w[13], 18);
	}
#undef R
	for (i = 0; i < 16; i++)
		b[i] += w[i];
}

/* BlockMix: b holds 2r blocks of 16 words; y is scratch of the same size */
static void blockmix(uint32_t *b, uint32_t *y, size_t r)
{
	uint32_t xb[16];
	size_t i, k;

	memcpy(xb, b + (2 * r - 1) * 16, sizeof xb);
	for (i = 0; i < 2 * r; i++) {
		for (k = 0; k < 16; k++)
			xb[k] ^= b[i * 16 + k];
		salsa8(xb);
		/* even blocks to the first half, odd ones to the second */
		memcpy(y + ((i % 2) * r + i / 2) * 16, xb, sizeof xb);
	}
	memcpy(b, y, 2 * r * 16 * sizeof *b);
}

static int scrypt(const unsigned char *pw, size_t pn, const unsigned char *salt,
		  size_t sn, uint32_t N, size_t r, size_t p, unsigned char *out,
		  size_t on)
{
	const mbedtls_md_info_t *sha = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	size_t words = 32 * r, i, j, k;
	unsigned char *bb = malloc(p * 128 * r);
	uint32_t *xw = malloc(words * 4), *y = malloc(words * 4);
	uint32_t *v = malloc((size_t)N * words * 4);
	mbedtls_md_context_t md;
	int rc = -1;

	mbedtls_md_init(&md);
	if (!bb || !xw || !y || !v || mbedtls_md_setup(&md, sha, 1) ||
	    mbedtls_pkcs5_pbkdf2_hmac(&md, pw, pn, salt, sn, 1,
				      (uint32_t)(p * 128 * r), bb))
		goto cleanup;
	for (i = 0; i < p; i++) {
		unsigned char *blk = bb + i * 128 * r;

		for (k = 0; k < words; k++)
			xw[k] = (uint32_t)blk[4 * k] | (uint32_t)blk[4 * k + 1] << 8 |
				(uint32_t)blk[4 * k + 2] << 16 |
				(uint32_t)blk[4 * k + 3] << 24;
		for (j = 0; j < N; j++) {
			memcpy(v + j * words, xw, words * 4);
			blockmix(xw, y, r);
		}
		for (j = 0; j < N; j++) {
			uint32_t *vj = v + (xw[(2 * r - 1) * 16] % N) * words;

			for (k = 0; k < words; k++)
				xw[k] ^= vj[k];
			blockmix(xw, y, r);
		}
		for (k = 0; k < words; k++) {
			blk[4 * k] = (unsigned char)xw[k];
			blk[4 * k + 1] = (unsigned char)(xw[k] >> 8);
			blk[4 * k + 2] = (unsigned char)(xw[k] >> 16);
			blk[4 * k + 3] = (unsigned char)(xw[k] >> 24);
		}
	}
	rc = mbedtls_pkcs5_pbkdf2_hmac(&md, pw, pn, bb, p * 128 * r, 1,
				       (uint32_t)on, out);
cleanup:
	mbedtls_md_free(&md);
	if (v)
		sodium_memzero(v, (size_t)N * words * 4);
	if (bb)
		sodium_memzero(bb, p * 128 * r);
	if (xw)
		sodium_memzero(xw, words * 4);
	free(bb);
	free(xw);
	free(y);
	free(v);
	return rc;
}

static void be32(kd_buf *b, uint32_t v)
{
	char c[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

	kd_buf_put(b, c, 4);
}

FN(f_derivePassword)
{
	static const char seed[] = "com.lyndir.masterpassword";
	uint32_t counter = (uint32_t)argv[0]->u.i;
	const kd_value *type = argv[1], *pw = argv[2], *user = argv[3],
		       *site = argv[4];
	const char *const *tpls = NULL;
	unsigned char key[64], mac[32];
	kd_buf salt = KD_BUF_INIT(1u << 20);
	char out[64], msg[128];
	size_t i, ntpl = 0, n;
	const char *t;
	int rc;

	(void)argc;
	for (i = 0; i < sizeof mp_templates / sizeof mp_templates[0]; i++)
		if (strlen(mp_templates[i].type) == type->u.str.len &&
		    !memcmp(mp_templates[i].type, type->u.str.ptr, type->u.str.len))
			tpls = mp_templates[i].tpl;
	if (!tpls) {
		snprintf(msg, sizeof msg, "cannot find password template %.*s",
			 (int)(type->u.str.len > 64 ? 64 : type->u.str.len),
			 type->u.str.ptr);
		return kd_tmpl_str(x, msg, strlen(msg));
	}
	while (ntpl < 21 && tpls[ntpl])
		ntpl++;
	spend(x);
	kd_buf_puts(&salt, seed);
	be32(&salt, (uint32_t)user->u.str.len);
	kd_buf_put(&salt, user->u.str.ptr, user->u.str.len);
	if (salt.failed) {
		kd_buf_free(&salt);
		kd_tmpl_errorf(x, "out of memory");
	}
	rc = scrypt((const unsigned char *)pw->u.str.ptr, pw->u.str.len,
		    (const unsigned char *)salt.ptr, salt.len, 32768, 8, 2, key,
		    sizeof key);
	kd_buf_reset(&salt);
	kd_buf_puts(&salt, seed);
	be32(&salt, (uint32_t)site->u.str.len);
	kd_buf_put(&salt, site->u.str.ptr, site->u.str.len);
	be32(&salt, counter);
	if (!rc && !salt.failed)
		rc = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
				     key, sizeof key, (const unsigned char *)salt.ptr,
				     salt.len, mac);
	else if (!rc)
		rc = -1;
	kd_buf_free(&salt);
	sodium_memzero(key, sizeof key);
	if (rc)
		kd_tmpl_fail(x, KD_EINTERNAL, "failed to derive password");
	t = tpls[mac[0] % ntpl];
	n = strlen(t);
	for (i = 0; i < n && i + 1 < sizeof mac; i++) {
		const char *cs = mp_chars(t[i]);

		out[i] = cs[mac[i + 1] % strlen(cs)];
	}
	sodium_memzero(mac, sizeof mac);
	return kd_tmpl_str(x, out, i);
}

/* ---- encryptAES / decryptAES: AES-256-CBC, the password zero-padded or
 * cut to 32 bytes as the key, PKCS#7 padding, a random IV in front, all
 * base64 ---- */

static void aes_key(unsigned char key[32], const kd_value *pw)
{
	memset(key, 0, 32);
	memcpy(key, pw->u.str.ptr, pw->u.str.len < 32 ? pw->u.str.len : 32);
}

FN(f_encryptAES)
{
	const kd_value *pt = argv[1];
	unsigned char key[32], iv[16], *buf;
	size_t pad = 16 - pt->u.str.len % 16, n = pt->u.str.len + pad;
	mbedtls_aes_context aes;
	kd_buf *b;
	int rc;

	(void)argc;
	if (pt->u.str.len == 0)
		return kd_tmpl_str(x, "", 0);
	if (pt->u.str.len > KD_LIMIT_OUTPUT_BYTES)
		kd_tmpl_fail(x, KD_ELIMIT, "plaintext too long");
	buf = malloc(16 + n);
	if (!buf)
		kd_tmpl_errorf(x, "out of memory");
	if (kd_sprig_fill_random(buf, 16)) {
		free(buf);
		kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
	}
	memcpy(iv, buf, 16);
	memcpy(buf + 16, pt->u.str.ptr, pt->u.str.len);
	memset(buf + 16 + pt->u.str.len, (int)pad, pad);
	aes_key(key, argv[0]);
	mbedtls_aes_init(&aes);
	rc = mbedtls_aes_setkey_enc(&aes, key, 256);
	if (!rc)
		rc = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, n, iv,
					   buf + 16, buf + 16);
	mbedtls_aes_free(&aes);
	sodium_memzero(key, sizeof key);
	if (rc) {
		free(buf);
		kd_tmpl_fail(x, KD_EINTERNAL, "AES encryption failed");
	}
	b = kd_tmpl_tmpbuf(x);
	b64_encode(b, buf, 16 + n);
	free(buf);
	return kd_tmpl_tmpbuf_value(x, b);
}

FN(f_decryptAES)
{
	const kd_value *c64 = argv[1];
	unsigned char key[32], iv[16], *buf, *pt;
	size_t n, bad, pad;
	mbedtls_aes_context aes;
	kd_value *r;
	int rc;

	(void)argc;
	if (c64->u.str.len == 0)
		return kd_tmpl_str(x, "", 0);
	rc = b64_decode(c64->u.str.ptr, c64->u.str.len, &buf, &n, &bad);
	if (rc == -2)
		kd_tmpl_errorf(x, "out of memory");
	if (rc)
		kd_tmpl_fail(x, KD_EINVAL, "illegal base64 data at input byte %zu",
			     bad);
	/* Go panics on these; text/template reports the panic as the error */
	if (n < 16 || n % 16) {
		free(buf);
		kd_tmpl_fail(x, KD_EINVAL, n < 16 ? "runtime error: slice bounds "
			     "out of range [:16] with capacity %zu"
			     : "crypto/cipher: input not full blocks", n);
	}
	if (n == 16) {
		free(buf);
		kd_tmpl_fail(x, KD_EINVAL, "runtime error: index out of range [-1]");
	}
	memcpy(iv, buf, 16);
	pt = buf + 16;
	n -= 16;
	aes_key(key, argv[0]);
	mbedtls_aes_init(&aes);
	rc = mbedtls_aes_setkey_dec(&aes, key, 256);
	if (!rc)
		rc = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, n, iv, pt, pt);
	mbedtls_aes_free(&aes);
	sodium_memzero(key, sizeof key);
	pad = pt[n - 1];
	if (rc || pad > n) {
		free(buf);
		if (rc)
			kd_tmpl_fail(x, KD_EINTERNAL, "AES decryption failed");
		kd_tmpl_fail(x, KD_EINVAL, "runtime error: slice bounds out of "
			     "range [:%lld]", (long long)n - (long long)pad);
	}
	r = kd_tmpl_str(x, (const char *)pt, n - pad);
	sodium_memzero(buf, n + 16);
	free(buf);
	return r;
}

/* ---- digests and random values ---- */

FN(f_sha512sum)
{
	unsigned char d[64];
	char hex[129];
	int i;

	(void)argc;
	if (mbedtls_sha512_ret((const unsigned char *)argv[0]->u.str.ptr,
			       argv[0]->u.str.len, d, 0))
		kd_tmpl_fail(x, KD_EINTERNAL, "sha512 failed");
	for (i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return kd_tmpl_str(x, hex, 128);
}

/* randInt min max: uniform in [min, max); Go's rand.Intn panics unless
 * max > min */
FN(f_randInt)
{
	int64_t lo = argv[0]->u.i, hi = argv[1]->u.i;
	uint64_t span, v, limit;
	kd_value *r;

	(void)argc;
	if (hi <= lo)
		kd_tmpl_fail(x, KD_EINVAL, "invalid argument to Intn");
	span = (uint64_t)hi - (uint64_t)lo;
	limit = UINT64_MAX - UINT64_MAX % span;
	do {
		if (kd_sprig_fill_random((unsigned char *)&v, sizeof v))
			kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
	} while (v >= limit);
	r = kd_value_int(x->a, (int64_t)((uint64_t)lo + v % span));
	if (!r)
		kd_tmpl_errorf(x, "out of memory");
	return r;
}

FN(f_randBytes)
{
	int64_t n = argv[0]->u.i;
	unsigned char *p;
	kd_buf *b;

	(void)argc;
	if (n < 0)
		kd_tmpl_fail(x, KD_EINVAL, "runtime error: makeslice: len out of range");
	if (n > KD_LIMIT_OUTPUT_BYTES / 2)
		kd_tmpl_fail(x, KD_ELIMIT, "randBytes: count too large");
	p = malloc((size_t)n + 1);
	if (!p)
		kd_tmpl_errorf(x, "out of memory");
	if (kd_sprig_fill_random(p, (size_t)n)) {
		free(p);
		kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
	}
	b = kd_tmpl_tmpbuf(x);
	b64_encode(b, p, (size_t)n);
	free(p);
	return kd_tmpl_tmpbuf_value(x, b);
}

static const kd_tmpl_func crypto_funcs[] = {
	{"genPrivateKey", f_genPrivateKey, "s", false, false},
	{"genCA", f_genCA, "si", false, false},
	{"genCAWithKey", f_genCAWithKey, "sis", false, false},
	{"genSelfSignedCert", f_genSelfSignedCert, "slli", false, false},
	{"genSelfSignedCertWithKey", f_genSelfSignedCertWithKey, "sllis", false, false},
	{"genSignedCert", f_genSignedCert, "sllia", false, false},
	{"genSignedCertWithKey", f_genSignedCertWithKey, "sllias", false, false},
	{"buildCustomCert", f_buildCustomCert, "ss", false, false},
	{"bcrypt", f_bcrypt, "s", false, false},
	{"htpasswd", f_htpasswd, "ss", false, false},
	{"derivePassword", f_derivePassword, "issss", false, false},
	{"encryptAES", f_encryptAES, "ss", false, false},
	{"decryptAES", f_decryptAES, "ss", false, false},
	{"sha512sum", f_sha512sum, "s", false, false},
	{"randInt", f_randInt, "ii", false, false},
	{"randBytes", f_randBytes, "i", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_crypto(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, crypto_funcs);
}
