/* The libgit2 callbacks that decide trust on the wire: the server's
 * certificate (HTTPS) or host key (SSH), the client's credentials, and
 * transfer progress. */
#include "git/internal.h"

#include "base/fs.h"
#include "base/limits.h"
#include "log/log.h"
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void kd_git_ctx_fail(kd_git_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->failed_code)
		return;
	c->failed_code = code;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
}

void kd_git_ctx_url(kd_git_ctx *c, const char *url)
{
	const char *h = NULL, *e;
	size_t n;

	c->host[0] = '\0';
	c->port = 0;
	c->is_ssh = 0;
	if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7) ||
	    !strncmp(url, "ssh://", 6) || !strncmp(url, "ssh+git://", 10) ||
	    !strncmp(url, "git+ssh://", 10)) {
		c->is_ssh = url[0] != 'h';
		h = strstr(url, "://") + 3;
		e = h + strcspn(h, "/");
		for (const char *at = h; at < e; at++)
			if (*at == '@')
				h = at + 1;
	} else if (url[0] != '/' && strncmp(url, "file://", 7) &&
		   (e = strchr(url, ':')) && !memchr(url, '/', (size_t)(e - url))) {
		/* scp-like user@host:path */
		c->is_ssh = 1;
		h = strchr(url, '@');
		h = h && h < e ? h + 1 : url;
		n = (size_t)(e - h);
		if (n < sizeof c->host) {
			memcpy(c->host, h, n);
			c->host[n] = '\0';
		}
		return;
	} else {
		return;
	}
	if (*h == '[') {
		const char *rb = strchr(h, ']');

		if (!rb || rb > e)
			return;
		n = (size_t)(rb - h - 1);
		if (n < sizeof c->host) {
			memcpy(c->host, h + 1, n);
			c->host[n] = '\0';
		}
		if (rb[1] == ':')
			c->port = (unsigned)strtoul(rb + 2, NULL, 10);
		return;
	}
	{
		const char *colon = memchr(h, ':', (size_t)(e - h));

		n = (size_t)((colon ? colon : e) - h);
		if (n < sizeof c->host) {
			memcpy(c->host, h, n);
			c->host[n] = '\0';
		}
		if (colon)
			c->port = (unsigned)strtoul(colon + 1, NULL, 10);
	}
}

/* --- HTTPS ----------------------------------------------------------- */

static void dn_string(const mbedtls_x509_name *dn, char *out, size_t size)
{
	if (mbedtls_x509_dn_gets(out, size, dn) < 0)
		snprintf(out, size, "(unreadable)");
}

/* libgit2's mbedTLS stream calls this after its own check. A valid
 * certificate passes. An invalid one is checked again here, because
 * mbedTLS cannot match an IP address URL against IP SANs, and because its
 * reason deserves a better message than libgit2 gives. */
static int check_x509(kd_git_ctx *c, const git_cert_x509 *cert, int valid,
		      const char *host)
{
	mbedtls_x509_crt crt, ca;
	unsigned char ip[16];
	int family = kd_net_ip_parse(host, ip), rc = -1, r;
	uint32_t flags = 0;
	const char *cafile = c->o->ca_file ? c->o->ca_file : KD_NET_SYSTEM_CA;
	char subject[256], issuer[256];
	kd_buf names = KD_BUF_INIT(4096);

	if (valid)
		return 0;
	mbedtls_x509_crt_init(&crt);
	mbedtls_x509_crt_init(&ca);
	if (mbedtls_x509_crt_parse_der(&crt, cert->data, cert->len)) {
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "the TLS certificate of %s cannot be parsed", host);
		goto cleanup;
	}
	dn_string(&crt.subject, subject, sizeof subject);
	dn_string(&crt.issuer, issuer, sizeof issuer);
	if (mbedtls_x509_crt_parse_file(&ca, cafile) < 0) {
		kd_git_ctx_fail(c, KD_EINVAL, "cannot read CA certificates from %s (--ca-file)", cafile);
		goto cleanup;
	}
	mbedtls_x509_crt_verify(&crt, &ca, NULL, family ? NULL : host, &flags,
				NULL, NULL);
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
		kd_git_ctx_fail(c, KD_GIT_EAUTH,
				"the TLS certificate of %s (subject \"%s\", issuer \"%s\") is not "
				"signed by a CA in %s: unknown CA; give --ca-file with the CA that issued it",
				host, subject, issuer, cafile);
		goto cleanup;
	}
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
		const mbedtls_x509_time *t = &crt.valid_to;

		kd_git_ctx_fail(c, KD_GIT_EAUTH,
				"the TLS certificate of %s (subject \"%s\") expired on "
				"%04d-%02d-%02dT%02d:%02d:%02dZ; the server needs a new certificate",
				host, subject, t->year, t->mon, t->day, t->hour, t->min, t->sec);
		goto cleanup;
	}
	if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
		kd_git_ctx_fail(c, KD_GIT_EAUTH,
				"the TLS certificate of %s (subject \"%s\") is not valid yet; "
				"check this machine's clock", host, subject);
		goto cleanup;
	}
	if (family) {
		r = kd_net_crt_match_ip(&crt, ip, family == 4 ? 4 : 16, &names);
		if (r == 1 && !(flags & ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH)) {
			rc = 0;
			goto cleanup;
		}
		if (r != 1) {
			kd_git_ctx_fail(c, KD_GIT_EAUTH,
					"the TLS certificate of %s (subject \"%s\") does not name "
					"that address; it names: %s", host, subject,
					names.len ? names.ptr : "(no subjectAltName)");
			goto cleanup;
		}
	}
	if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
		kd_git_ctx_fail(c, KD_GIT_EAUTH,
				"the TLS certificate of %s (subject \"%s\") is for another name",
				host, subject);
		goto cleanup;
	}
	if (flags == 0) {
		rc = 0;
		goto cleanup;
	}
	{
		char info[512];

		mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
		info[strcspn(info, "\n")] = '\0';
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "the TLS certificate of %s (subject \"%s\") "
				"is refused: %s", host, subject, info);
	}
cleanup:
	mbedtls_x509_crt_free(&crt);
	mbedtls_x509_crt_free(&ca);
	kd_buf_free(&names);
	return rc;
}

/* --- SSH host keys ---------------------------------------------------- */

/* Trust on first use, only when asked for: adds the offered key to the
 * known_hosts file (replaced atomically), so that every later sync checks
 * it. */
static int pin_new_host(kd_git_ctx *c, const git_cert_hostkey *cert,
			const char *want, const char *offered)
{
	const unsigned char *k = (const unsigned char *)cert->hostkey;
	kd_buf line = KD_BUF_INIT(65536), text = KD_BUF_INIT(2u << 20);
	kd_err err = KD_ERR_INIT;
	size_t olen = 0;
	uint32_t tl;
	int rc = -1;

	if (cert->hostkey_len < 4 ||
	    (tl = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3]) >
		    cert->hostkey_len - 4 ||
	    kd_buf_printf(&line, "%s %.*s ", want, (int)tl, (const char *)k + 4) ||
	    kd_buf_grow(&line, cert->hostkey_len * 2 + 8)) {
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "the SSH host key of %s is malformed", want);
		goto cleanup;
	}
	mbedtls_base64_encode((unsigned char *)line.ptr + line.len, line.cap - line.len, &olen,
			      k, cert->hostkey_len);
	line.len += olen;
	kd_buf_putc(&line, '\n');
	rc = kd_fs_read_file(c->o->known_hosts, KD_LIMIT_KNOWN_HOSTS_BYTES, &text, &err);
	if (rc == KD_ENOTFOUND)
		rc = 0;
	if (!rc && text.len && text.ptr[text.len - 1] != '\n')
		kd_buf_putc(&text, '\n');
	if (!rc && kd_buf_put(&text, line.ptr, line.len))
		rc = kd_err_set(&err, text.failed, "%s: too large", c->o->known_hosts);
	if (!rc)
		rc = kd_fs_write_atomic(c->o->known_hosts, text.ptr, text.len, 0644, &err);
	if (rc) {
		kd_git_ctx_fail(c, KD_EIO, "cannot add %s's host key: %s", want, err.msg);
		rc = -1;
		goto cleanup;
	}
	kd_log(KD_LOG_WARN, "trusting SSH host %s on first use (--trust-new-host): pinned %s "
	       "in %s", want, offered, c->o->known_hosts);
	rc = 0;
cleanup:
	kd_buf_free(&text);
	kd_buf_free(&line);
	return rc;
}

static int check_hostkey(kd_git_ctx *c, const git_cert_hostkey *cert,
			 const char *host)
{
	kd_buf text = KD_BUF_INIT(KD_LIMIT_KNOWN_HOSTS_BYTES);
	kd_err err = KD_ERR_INIT;
	kd_git_known_host kh;
	char want[300], offered[64];
	int rc = -1;

	if (!(cert->type & GIT_CERT_SSH_RAW) || !cert->hostkey) {
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "the SSH host key of %s is not available", host);
		return -1;
	}
	kd_git_ssh_fingerprint(cert->hostkey, cert->hostkey_len, offered);
	if (!c->o->known_hosts) {
		kd_git_ctx_fail(c, KD_EINVAL, "SSH needs --known-hosts FILE pinning the host key "
				"of %s (it offers %s)", host, offered);
		return -1;
	}
	if (kd_fs_read_file(c->o->known_hosts, KD_LIMIT_KNOWN_HOSTS_BYTES, &text, &err) &&
	    !(err.code == KD_ENOTFOUND && c->o->trust_new_host)) {
		kd_git_ctx_fail(c, KD_EINVAL, "%s", err.msg);
		goto cleanup;
	}
	if (c->port && c->port != 22)
		snprintf(want, sizeof want, "[%s]:%u", host, c->port);
	else
		snprintf(want, sizeof want, "%s", host);
	if (kd_git_known_hosts_find(text.ptr, text.len, want, cert->hostkey,
				    cert->hostkey_len, &kh, &err)) {
		kd_git_ctx_fail(c, KD_EINVAL, "%s: %s", c->o->known_hosts, err.msg);
		goto cleanup;
	}
	if (kh.state == KD_GIT_HOST_MATCH)
		rc = 0;
	else if (kh.state == KD_GIT_HOST_REVOKED)
		kd_git_ctx_fail(c, KD_GIT_EAUTH,
				"SSH host key of %s is revoked: the server offers %s, which "
				"%s:%d (@revoked %s) refuses", want, offered,
				c->o->known_hosts, kh.line, kh.key_type);
	else if (kh.state == KD_GIT_HOST_MISMATCH)
		kd_git_ctx_fail(c, KD_GIT_EAUTH,
				"SSH host key mismatch for %s: the server offers %s, %s:%d (%s) "
				"pins %s; if the server's key really changed, update the pin",
				want, offered, c->o->known_hosts, kh.line, kh.key_type,
				kh.fingerprint);
	else if (c->o->trust_new_host)
		rc = pin_new_host(c, cert, want, offered);
	else
		kd_git_ctx_fail(c, KD_GIT_EAUTH,
				"SSH host %s is not in %s (it offers %s); check that fingerprint "
				"out of band and add the host's key with ssh-keyscan (or, once, "
				"--trust-new-host)", want, c->o->known_hosts, offered);
cleanup:
	kd_buf_free(&text);
	return rc;
}

int kd_git_cert_check(git_cert *cert, int valid, const char *host,
		      void *payload)
{
	kd_git_ctx *c = payload;
	int rc;

	if (cert->cert_type == GIT_CERT_X509)
		rc = check_x509(c, (const git_cert_x509 *)cert, valid, host);
	else if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		rc = check_hostkey(c, (const git_cert_hostkey *)cert, host);
	else
		rc = -1;
	if (rc)
		git_error_set_str(GIT_ERROR_NET, c->msg);
	return rc ? GIT_ECERTIFICATE : 0;
}

/* --- credentials ------------------------------------------------------- */

int kd_git_read_secret(const char *file, const char *env, kd_buf *out,
		       kd_err *err)
{
	kd_buf text = KD_BUF_INIT(65536);
	int rc = 0;

	if (!file) {
		const char *v = env ? getenv(env) : NULL;

		if (v && *v && kd_buf_puts(out, v))
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		return 0;
	}
	if (kd_fs_read_file(file, 65536, &text, err)) {
		/* a missing secret is the caller's configuration to fix */
		rc = err->code = KD_EINVAL;
		goto cleanup;
	}
	text.len = strcspn(text.ptr, "\r\n");
	if (!text.len) {
		rc = kd_err_set(err, KD_EINVAL, "%s is empty", file);
		goto cleanup;
	}
	if (kd_buf_put(out, text.ptr, text.len))
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
cleanup:
	memset(text.ptr, 0, text.cap ? text.cap : 0);
	kd_buf_free(&text);
	return rc;
}

/* The private key's type, so that kedge can say which types work before
 * libssh2 1.10 with mbedTLS (ECDSA only) fails with a misleading message;
 * for the OpenSSH format also its public key line ("type base64") into
 * pub, which libssh2's mbedTLS backend cannot derive from such a file. */
static int ssh_key_type(const char *path, char *type, size_t size, kd_buf *pub,
			kd_err *err)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	kd_buf text = KD_BUF_INIT(1u << 20);
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	const char *b, *e;
	int rc;

	type[0] = '\0';
	rc = kd_fs_read_file(path, 1u << 20, &text, err);
	if (rc)
		goto cleanup;
	if (strstr(text.ptr, "BEGIN EC PRIVATE KEY")) {
		snprintf(type, size, "ecdsa");
		goto cleanup;
	}
	if (strstr(text.ptr, "BEGIN RSA PRIVATE KEY")) {
		snprintf(type, size, "ssh-rsa");
		goto cleanup;
	}
	b = strstr(text.ptr, begin);
	e = b ? strstr(b, "-----END") : NULL;
	if (!b || !e) {
		snprintf(type, size, "unknown");
		goto cleanup;
	}
	b += sizeof begin - 1;
	{
		char *clean = malloc((size_t)(e - b) + 1);
		size_t n = 0;

		if (!clean) {
			rc = kd_err_set(err, KD_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (const char *q = b; q < e; q++)
			if (*q != '\n' && *q != '\r')
				clean[n++] = *q;
		raw = malloc(n);
		if (!raw || mbedtls_base64_decode(raw, n, &rawlen, (unsigned char *)clean, n)) {
			free(clean);
			snprintf(type, size, "unknown");
			goto cleanup;
		}
		free(clean);
	}
	/* "openssh-key-v1\0", cipher, kdf, kdf options, key count, then the
	 * first public key, whose first string is its type */
	{
		const unsigned char *q, *end = raw + rawlen;
		uint32_t len;

		if (rawlen < 15 || memcmp(raw, "openssh-key-v1", 15)) {
			snprintf(type, size, "unknown");
			goto cleanup;
		}
		q = raw + 15;
		for (int i = 0; i < 3; i++) {
			if (end - q < 4)
				goto cleanup;
			len = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
			q += 4;
			if ((size_t)(end - q) < len)
				goto cleanup;
			q += len;
		}
		if (end - q < 12)
			goto cleanup;
		q += 8; /* key count and the public key's length */
		len = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
		q += 4;
		if ((size_t)(end - q) < len || len >= size)
			goto cleanup;
		memcpy(type, q, len);
		type[len] = '\0';
		{
			const unsigned char *blob = q - 4;
			uint32_t bl = (uint32_t)blob[-4] << 24 | (uint32_t)blob[-3] << 16 |
				      (uint32_t)blob[-2] << 8 | blob[-1];
			size_t olen = 0;

			/* blob: the public key (its length is before it); the
			 * type string came first inside it */
			if ((size_t)(end - blob) < bl || kd_buf_grow(pub, bl * 2 + size + 8))
				goto cleanup;
			kd_buf_printf(pub, "%s ", type);
			mbedtls_base64_encode((unsigned char *)pub->ptr + pub->len,
					      pub->cap - pub->len, &olen, blob, bl);
			pub->len += olen;
			pub->ptr[pub->len] = '\0';
		}
	}
cleanup:
	free(raw);
	kd_buf_free(&text);
	return rc;
}

int kd_git_credentials(git_credential **out, const char *url,
		       const char *user_from_url, unsigned int allowed,
		       void *payload)
{
	kd_git_ctx *c = payload;
	const kd_git_sync_opts *o = c->o;
	kd_err err = KD_ERR_INIT;

	if (c->cred_tries++ > 0) {
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "%s refused the credentials (%s); check %s",
				c->host[0] ? c->host : url,
				c->is_ssh ? "SSH key" : "user name and password",
				c->is_ssh ? "--ssh-key and the server's authorized keys"
					  : "--username and --password-file");
		return GIT_EUSER;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && o->ssh_key) {
		kd_buf pub = KD_BUF_INIT(65536), priv = KD_BUF_INIT(1u << 20);
		char type[64];
		int rc;

		if (ssh_key_type(o->ssh_key, type, sizeof type, &pub, &err)) {
			kd_git_ctx_fail(c, KD_EINVAL, "--ssh-key: %s", err.msg);
			kd_buf_free(&pub);
			return GIT_EUSER;
		}
		if (strncmp(type, "ecdsa", 5)) {
			kd_git_ctx_fail(c, KD_EINVAL,
					"--ssh-key %s is a %s key; kedge's SSH (libssh2 1.10 with "
					"mbedTLS) signs with ECDSA keys only (ecdsa-sha2-nistp256/384/521): "
					"make one with 'ssh-keygen -t ecdsa -b 256' (or use HTTPS)",
					o->ssh_key, type);
			kd_buf_free(&pub);
			return GIT_EUSER;
		}
		if (!pub.len) {
			kd_buf_free(&pub);
			return git_credential_ssh_key_new(out, user_from_url ? user_from_url : "git",
							  NULL, o->ssh_key, o->ssh_key_pass);
		}
		rc = kd_fs_read_file(o->ssh_key, 1u << 20, &priv, &err);
		if (rc)
			kd_git_ctx_fail(c, KD_EINVAL, "--ssh-key: %s", err.msg);
		else
			rc = git_credential_ssh_key_memory_new(out, user_from_url ? user_from_url : "git",
							       pub.ptr, priv.ptr, o->ssh_key_pass);
		kd_buf_free(&pub);
		memset(priv.ptr, 0, priv.len);
		kd_buf_free(&priv);
		return rc ? GIT_EUSER : 0;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && o->password)
		return git_credential_userpass_plaintext_new(
			out, o->username ? o->username : user_from_url ? user_from_url : "git",
			o->password);
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "%s asks for an SSH key: give --ssh-key FILE",
				c->host);
	else if (o->token)
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "%s refused the token (HTTP 401); check "
				"--token-file or KEDGE_GIT_TOKEN", c->host[0] ? c->host : url);
	else
		kd_git_ctx_fail(c, KD_GIT_EAUTH, "%s asks for authentication (HTTP 401): give "
				"--token-file, or --username with --password-file", c->host[0] ? c->host : url);
	return GIT_EUSER;
}

/* --- progress ---------------------------------------------------------- */

int kd_git_progress(const git_indexer_progress *s, void *payload)
{
	kd_git_ctx *c = payload;
	int64_t t;
	int done;

	if (!c->o->progress)
		return 0;
	t = kd_fs_monotonic_ms();
	done = s->total_objects && s->indexed_objects == s->total_objects &&
	       s->received_objects == s->total_objects;
	if (!done && t - c->last_progress_ms < 200)
		return 0;
	c->last_progress_ms = t;
	c->progress_shown = 1;
	fprintf(stderr, "\rkedge sync: objects %u/%u, %.1f MiB%s", s->received_objects,
		s->total_objects, (double)s->received_bytes / 1048576.0,
		done ? "\n" : "");
	return 0;
}
