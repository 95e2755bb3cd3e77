/* URL parsing for the HTTP client: scheme, host (name, IPv4, [IPv6]),
 * port and request target, every part bounded (see net.h). */
#include "net/net.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

int kd_net_ip_parse(const char *s, unsigned char out[16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 6;
	return 0;
}

static int host_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_';
}

static int all_digits_dots(const char *s)
{
	for (; *s; s++)
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

int kd_net_url_parse(kd_net_url *out, const char *url, kd_err *err)
{
	const char *p, *host, *hend, *auth_end, *port_s = NULL;
	size_t n, tlen;

	memset(out, 0, sizeof *out);
	if (strlen(url) > KD_LIMIT_HTTP_URL_BYTES)
		return kd_err_set(err, KD_EINVAL,
				  "URL longer than KD_LIMIT_HTTP_URL_BYTES (%u bytes)",
				  KD_LIMIT_HTTP_URL_BYTES);
	if (!strncasecmp(url, "https://", 8)) {
		out->https = 1;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		return kd_err_set(err, KD_EINVAL,
				  "URL '%s': only http:// and https:// are supported",
				  url);
	}
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)))
		return kd_err_set(err, KD_EINVAL,
				  "URL '%s': credentials in URLs are not supported (send an Authorization header)",
				  url);
	if (*p == '[') {
		host = p + 1;
		hend = memchr(host, ']', (size_t)(auth_end - host));
		if (!hend)
			return kd_err_set(err, KD_EINVAL,
					  "URL '%s': '[' without ']'", url);
		p = hend + 1;
		if (p < auth_end && *p != ':')
			return kd_err_set(err, KD_EINVAL,
					  "URL '%s': junk after ']'", url);
	} else {
		host = p;
		hend = memchr(host, ':', (size_t)(auth_end - host));
		if (!hend)
			hend = auth_end;
		p = hend;
	}
	n = (size_t)(hend - host);
	if (n == 0)
		return kd_err_set(err, KD_EINVAL, "URL '%s' has no host", url);
	if (n > KD_LIMIT_HTTP_HOST_BYTES)
		return kd_err_set(err, KD_EINVAL,
				  "URL '%s': host longer than KD_LIMIT_HTTP_HOST_BYTES (%u)",
				  url, KD_LIMIT_HTTP_HOST_BYTES);
	memcpy(out->host, host, n);
	out->host[n] = 0;

	if (host[-1] == '[') {
		if (inet_pton(AF_INET6, out->host, out->ip) != 1)
			return kd_err_set(err, KD_EINVAL,
					  "URL '%s': '%s' is not an IPv6 address",
					  url, out->host);
		out->ip_family = 6;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (!host_char((unsigned char)out->host[i]))
				return kd_err_set(err, KD_EINVAL,
						  "URL '%s': invalid character in host '%s'",
						  url, out->host);
			if (out->host[i] >= 'A' && out->host[i] <= 'Z')
				out->host[i] = (char)(out->host[i] - 'A' + 'a');
		}
		if (inet_pton(AF_INET, out->host, out->ip) == 1)
			out->ip_family = 4;
		else if (all_digits_dots(out->host))
			return kd_err_set(err, KD_EINVAL,
					  "URL '%s': '%s' is not an IPv4 address (use dotted quad)",
					  url, out->host);
	}

	if (p < auth_end && *p == ':') {
		unsigned long port = 0;

		port_s = p + 1;
		if (port_s == auth_end)
			return kd_err_set(err, KD_EINVAL,
					  "URL '%s': empty port", url);
		for (p = port_s; p < auth_end; p++) {
			if (*p < '0' || *p > '9' || p - port_s >= 5)
				return kd_err_set(err, KD_EINVAL,
						  "URL '%s': port must be a number from 1 to 65535",
						  url);
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port < 1 || port > 65535)
			return kd_err_set(err, KD_EINVAL,
					  "URL '%s': port must be a number from 1 to 65535",
					  url);
		out->port = (unsigned)port;
	} else if (p != auth_end) {
		return kd_err_set(err, KD_EINVAL, "URL '%s': junk after host", url);
	} else {
		out->port = out->https ? 443 : 80;
		out->default_port = 1;
	}

	/* Target: path and query, up to the fragment. */
	p = auth_end;
	tlen = strcspn(p, "#");
	if (tlen == 0 || *p != '/') {
		out->target[0] = '/';
		memcpy(out->target + 1, p, tlen);
		out->target[tlen + 1] = 0;
	} else {
		memcpy(out->target, p, tlen);
		out->target[tlen] = 0;
	}
	for (p = out->target; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return kd_err_set(err, KD_EINVAL,
					  "URL '%s': the path may hold only printable ASCII without spaces (percent-encode the rest)",
					  url);
	return 0;
}
