/* The encodings age uses: strict base64, Bech32 keys and the ASCII armor. */
#include "age/internal.h"

#include "base/limits.h"

#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;

	return p ? (int)(p - B64) : -1;
}

long kd_age_b64_decode(const char *s, size_t n, int raw, uint8_t *out, size_t cap)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (!raw) {
		if (n % 4)
			return -1;
		while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
			pad++;
		n -= pad;
	} else if (n % 4 == 1) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		int v = b64_val(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* canonical: the bits left over are zero, and padding is exactly what
	 * the length needs */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	if (!raw && pad != (4 - (n % 4)) % 4)
		return -1;
	return (long)o;
}

int kd_age_b64_encode(kd_buf *b, const uint8_t *p, size_t n, int raw)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], B64[(v >> 6) & 63], B64[v & 63]};

		kd_buf_put(b, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		kd_buf_putc(b, B64[v >> 18]);
		kd_buf_putc(b, B64[(v >> 12) & 63]);
		if (!raw)
			kd_buf_puts(b, "==");
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		kd_buf_putc(b, B64[v >> 18]);
		kd_buf_putc(b, B64[(v >> 12) & 63]);
		kd_buf_putc(b, B64[(v >> 6) & 63]);
		if (!raw)
			kd_buf_putc(b, '=');
	}
	return b->failed ? KD_ENOMEM : 0;
}

/* --- Bech32 -------------------------------------------------------------- */

static const char B32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod(const uint8_t *v, size_t n)
{
	static const uint32_t g[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
	uint32_t c = 1;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		uint32_t top = c >> 25;

		c = ((c & 0x1ffffff) << 5) ^ v[i];
		for (k = 0; k < 5; k++)
			if ((top >> k) & 1)
				c ^= g[k];
	}
	return c;
}

/* hrp expanded, then the data: what the checksum covers (into v). */
static size_t expand(uint8_t *v, const char *hrp, const uint8_t *data, size_t n)
{
	size_t h = strlen(hrp), i, o = 0;

	for (i = 0; i < h; i++)
		v[o++] = (uint8_t)((unsigned char)hrp[i] >> 5);
	v[o++] = 0;
	for (i = 0; i < h; i++)
		v[o++] = (uint8_t)(hrp[i] & 31);
	memcpy(v + o, data, n);
	return o + n;
}

int kd_age_bech32_decode(const char *s, size_t n, const char *hrp, uint8_t out[32])
{
	uint8_t data[128] = {0}, v[256];
	size_t h = strlen(hrp), i, nd, o = 0;
	int upper = 0, lower = 0, bits = 0;
	uint32_t acc = 0;

	if (n < h + 7 || n > 100 || s[h] != '1')
		return -1;
	for (i = 0; i < n; i++) {
		upper |= s[i] >= 'A' && s[i] <= 'Z';
		lower |= s[i] >= 'a' && s[i] <= 'z';
	}
	if (upper && lower)
		return -1;
	for (i = 0; i < h; i++)
		if ((s[i] | 0x20) != hrp[i])
			return -1;
	nd = n - h - 1;
	for (i = 0; i < nd; i++) {
		const char *p = strchr(B32, s[h + 1 + i] | 0x20);

		if (!p || !s[h + 1 + i])
			return -1;
		data[i] = (uint8_t)(p - B32);
	}
	if (polymod(v, expand(v, hrp, data, nd)) != 1)
		return -1;
	/* 5-bit groups to bytes, without the 6 checksum groups */
	for (i = 0; i < nd - 6; i++) {
		acc = (acc << 5) | data[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == 32)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (o != 32 || bits >= 5 || (acc & ((1u << bits) - 1)))
		return -1;
	return 0;
}

int kd_age_bech32_encode(kd_buf *b, const char *hrp, const uint8_t key[32], int upper)
{
	uint8_t data[64], v[256];
	size_t i, nd = 0, n;
	uint32_t acc = 0, mod;
	int bits = 0;

	for (i = 0; i < 32; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			data[nd++] = (acc >> bits) & 31;
		}
	}
	if (bits)
		data[nd++] = (acc << (5 - bits)) & 31;
	memset(data + nd, 0, 6);
	n = expand(v, hrp, data, nd + 6);
	mod = polymod(v, n) ^ 1;
	for (i = 0; i < 6; i++)
		data[nd + i] = (mod >> (5 * (5 - i))) & 31;
	for (i = 0; hrp[i]; i++)
		kd_buf_putc(b, upper && hrp[i] >= 'a' && hrp[i] <= 'z' ? (char)(hrp[i] & ~0x20) : hrp[i]);
	kd_buf_putc(b, '1');
	for (i = 0; i < nd + 6; i++) {
		char c = B32[data[i]];

		kd_buf_putc(b, upper && c >= 'a' ? (char)(c & ~0x20) : c);
	}
	return b->failed ? KD_ENOMEM : 0;
}

/* --- the armor ------------------------------------------------------------ */

#define BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define END "-----END AGE ENCRYPTED FILE-----"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next line of [*at, n) without its LF or CRLF; -1 at the end. */
static long next_line(const char *in, size_t n, size_t *at, const char **line)
{
	size_t s = *at, e;

	if (s >= n)
		return -1;
	for (e = s; e < n && in[e] != '\n'; e++)
		;
	*at = e < n ? e + 1 : n;
	*line = in + s;
	if (e > s && in[e - 1] == '\r')
		e--;
	return (long)(e - s);
}

int kd_age_unarmor(const char *in, size_t n, kd_buf *out, const char **why)
{
	kd_buf text = KD_BUF_INIT(KD_LIMIT_AGE_FILE_BYTES);
	size_t at = 0, lines = 0;
	const char *line;
	long len, got;
	int rc = -1, last = 0;

	/* whitespace around the armor is allowed, nothing else */
	while (n && is_space(in[n - 1]))
		n--;
	while (at < n && is_space(in[at]))
		at++;
	len = next_line(in, n, &at, &line);
	*why = "the armor does not begin with " BEGIN;
	if (len != (long)strlen(BEGIN) || memcmp(line, BEGIN, (size_t)len))
		goto cleanup;
	for (;;) {
		len = next_line(in, n, &at, &line);
		*why = "the armor has no end line";
		if (len < 0)
			goto cleanup;
		if (len == (long)strlen(END) && !memcmp(line, END, (size_t)len))
			break;
		*why = "an armor line is not 64 columns (only the last may be shorter, and not empty)";
		if (last || len == 0 || len > 64)
			goto cleanup;
		last = len < 64;
		if (++lines > KD_LIMIT_AGE_FILE_BYTES / 48)
			goto cleanup;
		kd_buf_put(&text, line, (size_t)len);
	}
	*why = "there is more after the armor's end line";
	if (at < n || !lines)
		goto cleanup;
	*why = "out of memory";
	if (text.failed || kd_buf_grow(out, text.len))
		goto cleanup;
	got = kd_age_b64_decode(text.ptr, text.len, 0, (uint8_t *)out->ptr + out->len,
				out->cap - out->len);
	*why = "the armor is not canonical base64";
	if (got < 0)
		goto cleanup;
	out->len += (size_t)got;
	rc = 0;
cleanup:
	kd_buf_free(&text);
	return rc;
}

int kd_age_armor(kd_buf *out, const uint8_t *p, size_t n)
{
	kd_buf b64 = KD_BUF_INIT(2 * KD_LIMIT_AGE_FILE_BYTES);
	size_t i;
	int rc;

	rc = kd_age_b64_encode(&b64, p, n, 0);
	kd_buf_puts(out, BEGIN "\n");
	for (i = 0; !rc && i < b64.len; i += 64) {
		kd_buf_put(out, b64.ptr + i, b64.len - i < 64 ? b64.len - i : 64);
		kd_buf_putc(out, '\n');
	}
	kd_buf_puts(out, END "\n");
	kd_buf_free(&b64);
	return rc ? rc : out->failed ? KD_ENOMEM : 0;
}
