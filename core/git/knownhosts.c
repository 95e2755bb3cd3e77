/* OpenSSH known_hosts text, parsed without touching a file or a network,
 * so that the SSH host key check and its fuzz target share one parser.
 * Supported: comma-separated host lists compared without case ("host" or
 * "[host]:port"), hashed |1|salt|hash entries, comments, and the @revoked
 * marker; @cert-authority lines (kedge checks no host certificates) and
 * anything malformed are skipped, as OpenSSH skips lines it cannot read. */
#include "git/internal.h"
#include "base/limits.h"
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The next field of [*p, end): blanks skipped, the field's length in *n;
 * NULL at the end of the line. */
static const char *next_field(const char **p, const char *end, size_t *n)
{
	const char *s = *p, *e;

	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	for (e = s; e < end && *e != ' ' && *e != '\t' && *e != '\r'; e++)
		;
	*p = e;
	*n = (size_t)(e - s);
	return s < end ? s : NULL;
}

/* Does one host field (comma separated, or a hashed |1|salt|hash entry)
 * name want? */
static int host_matches(const char *field, size_t n, const char *want)
{
	size_t wl = strlen(want);

	if (n > 3 && !memcmp(field, "|1|", 3)) {
		const char *salt = field + 3, *bar = memchr(salt, '|', n - 3);
		unsigned char s[64], h[64], mac[20];
		size_t sl = 0, hl = 0;

		if (!bar ||
		    mbedtls_base64_decode(s, sizeof s, &sl, (const unsigned char *)salt,
					  (size_t)(bar - salt)) ||
		    mbedtls_base64_decode(h, sizeof h, &hl, (const unsigned char *)bar + 1,
					  (size_t)(field + n - bar - 1)) || hl != 20 ||
		    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), s, sl,
				    (const unsigned char *)want, wl, mac))
			return 0;
		return !memcmp(mac, h, 20);
	}
	for (const char *p = field, *end = field + n; p < end;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t k = (size_t)((c ? c : end) - p);

		if (k == wl && !strncasecmp(p, want, k))
			return 1;
		p = c ? c + 1 : end;
	}
	return 0;
}

static void copy_field(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int kd_git_known_hosts_find(const char *text, size_t len, const char *want,
			    const void *key, size_t keylen, kd_git_known_host *out,
			    kd_err *err)
{
	const char *p = text, *end = text + len;
	kd_git_known_host pin = {KD_GIT_HOST_UNKNOWN, 0, "", ""};
	int lineno = 0, matched = 0;

	memset(out, 0, sizeof *out);
	out->state = KD_GIT_HOST_UNKNOWN;
	if (len > KD_LIMIT_KNOWN_HOSTS_BYTES)
		return kd_err_set(err, KD_EINVAL, "known_hosts is larger than %u bytes",
				  KD_LIMIT_KNOWN_HOSTS_BYTES);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *f, *hosts, *type, *b64;
		size_t n, hn, tn, bn, bl = 0;
		unsigned char blob[KD_LIMIT_KNOWN_HOSTS_KEY_BYTES];
		int revoked = 0;

		lineno++;
		f = next_field(&p, le, &n);
		if (f && *f == '@') {
			/* only @revoked changes the answer; @cert-authority and
			 * unknown markers name no key of this host */
			if (n != 8 || memcmp(f, "@revoked", 8))
				goto next;
			revoked = 1;
			f = next_field(&p, le, &n);
		}
		hosts = f, hn = n;
		type = next_field(&p, le, &tn);
		b64 = next_field(&p, le, &bn);
		if (!hosts || *hosts == '#' || !type || !b64 || !host_matches(hosts, hn, want) ||
		    mbedtls_base64_decode(blob, sizeof blob, &bl, (const unsigned char *)b64, bn))
			goto next;
		if (bl == keylen && !memcmp(blob, key, bl)) {
			if (revoked) {
				/* a revoked key is refused whatever else pins it */
				out->state = KD_GIT_HOST_REVOKED;
				out->line = lineno;
				copy_field(out->key_type, sizeof out->key_type, type, tn);
				return 0;
			}
			if (!matched) {
				matched = lineno;
				copy_field(out->key_type, sizeof out->key_type, type, tn);
			}
		} else if (!revoked && !pin.line) {
			pin.line = lineno;
			copy_field(pin.key_type, sizeof pin.key_type, type, tn);
			kd_git_ssh_fingerprint(blob, bl, pin.fingerprint);
		}
next:
		p = nl ? nl + 1 : end;
	}
	if (matched) {
		out->state = KD_GIT_HOST_MATCH;
		out->line = matched;
	} else if (pin.line) {
		*out = pin;
		out->state = KD_GIT_HOST_MISMATCH;
	}
	return 0;
}
