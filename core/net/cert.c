/* subjectAltName checks that mbedTLS 2.28 does not do: it matches only
 * dNSName entries (and keeps only those and otherName in
 * crt->subject_alt_names), so a server reached by IP address (k3s serves
 * https://127.0.0.1:6443) is checked here, by walking the certificate's
 * extensions with mbedTLS's ASN.1 reader. */
#include "net/net.h"

#include <arpa/inet.h>
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <string.h>

#define SAN_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)
#define SAN_IP (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)

static void put_name(kd_buf *names, const char *kind, const char *s, size_t n)
{
	if (!names)
		return;
	if (names->len)
		kd_buf_puts(names, ", ");
	kd_buf_puts(names, kind);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		kd_buf_putc(names, ch > 0x20 && ch < 0x7f ? (char)ch : '?');
	}
}

int kd_net_san_match_ip(const unsigned char *der, size_t len,
			const unsigned char *ip, size_t iplen, kd_buf *names)
{
	unsigned char *p = (unsigned char *)der;
	const unsigned char *end = der + len;
	size_t seqlen, n;
	int match = 0;

	if (mbedtls_asn1_get_tag(&p, end, &seqlen,
				 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
	    p + seqlen != end)
		return KD_EPARSE;
	while (p < end) {
		unsigned char tag = *p++;

		if (mbedtls_asn1_get_len(&p, end, &n))
			return KD_EPARSE;
		if (tag == SAN_IP) {
			char text[INET6_ADDRSTRLEN];

			if (n == iplen && iplen && !memcmp(p, ip, n))
				match = 1;
			if (n == 4 || n == 16) {
				inet_ntop(n == 4 ? AF_INET : AF_INET6, p, text,
					  sizeof text);
				put_name(names, "IP:", text, strlen(text));
			} else {
				put_name(names, "IP:", "(malformed)", 11);
			}
		} else if (tag == SAN_DNS) {
			put_name(names, "DNS:", (const char *)p, n);
		}
		p += n;
	}
	return match;
}

/* Finds the subjectAltName extension's value (a GeneralNames sequence) in
 * the certificate's raw extensions; 0 with *len 0 when there is none. */
static int find_san(const mbedtls_x509_crt *crt, unsigned char **out,
		    size_t *len)
{
	unsigned char *p = crt->v3_ext.p;
	const unsigned char *end = p + crt->v3_ext.len;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!p || crt->v3_ext.len == 0)
		return 0;
	if (mbedtls_asn1_get_tag(&p, end, &n,
				 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return KD_EPARSE;
	end = p + n;
	while (p < end) {
		const unsigned char *ext_end;
		mbedtls_x509_buf oid;
		int critical;

		if (mbedtls_asn1_get_tag(&p, end, &n,
					 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return KD_EPARSE;
		ext_end = p + n;
		if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID))
			return KD_EPARSE;
		oid.p = p;
		p += oid.len;
		if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN &&
		    mbedtls_asn1_get_bool(&p, ext_end, &critical))
			return KD_EPARSE;
		if (mbedtls_asn1_get_tag(&p, ext_end, &n, MBEDTLS_ASN1_OCTET_STRING) ||
		    p + n != ext_end)
			return KD_EPARSE;
		if (oid.len == MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME) &&
		    !memcmp(oid.p, MBEDTLS_OID_SUBJECT_ALT_NAME, oid.len)) {
			*out = p;
			*len = n;
			return 0;
		}
		p = (unsigned char *)ext_end;
	}
	return 0;
}

int kd_net_crt_match_ip(const struct mbedtls_x509_crt *crt,
			const unsigned char *ip, size_t iplen, kd_buf *names)
{
	unsigned char *san;
	size_t len;

	if (find_san(crt, &san, &len))
		return KD_EPARSE;
	if (!san)
		return 0;
	return kd_net_san_match_ip(san, len, ip, iplen, names);
}

int kd_net_cert_match_ip(const unsigned char *der, size_t len,
			 const unsigned char *ip, size_t iplen, kd_buf *names,
			 kd_err *err)
{
	mbedtls_x509_crt crt;
	int rc;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_der(&crt, der, len)) {
		mbedtls_x509_crt_free(&crt);
		return kd_err_set(err, KD_EPARSE, "not a DER X.509 certificate");
	}
	rc = kd_net_crt_match_ip(&crt, ip, iplen, names);
	mbedtls_x509_crt_free(&crt);
	if (rc < 0)
		return kd_err_set(err, KD_EPARSE,
				  "malformed subjectAltName extension");
	return rc;
}
