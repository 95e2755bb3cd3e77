/* Sprig's sha256sum, sha1sum and adler32sum (sha512sum is crypto.c's, on
 * mbedTLS). */
#include "sprig/internal.h"

#include <stdio.h>
#include <string.h>

/* SHA-256 and SHA-1, small and self-contained */
static uint32_t ror(uint32_t v, int n) { return (v >> n) | (v << (32 - n)); }
static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

/* Block off of message m (n bytes) as 16 big-endian words, the message
 * padded the way SHA-1 and SHA-256 pad it to total bytes: 0x80, zeros,
 * its length in bits big-endian. */
static void load_block(const unsigned char *m, size_t n, size_t off,
		       size_t total, uint32_t w[16])
{
	unsigned char blk[64];
	size_t i;

	for (i = 0; i < 64; i++) {
		size_t p = off + i;

		if (p < n)
			blk[i] = m[p];
		else if (p == n)
			blk[i] = 0x80;
		else if (p >= total - 8)
			blk[i] = (unsigned char)(((uint64_t)n * 8) >> (8 * (total - 1 - p)));
		else
			blk[i] = 0;
	}
	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
		       (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
}

/* The digest: the nw state words big-endian. */
static void store_words(const uint32_t *h, size_t nw, unsigned char *out)
{
	size_t i;

	for (i = 0; i < nw; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

static void sha256(const unsigned char *m, size_t n, unsigned char out[32])
{
	static const uint32_t k[64] = {
		0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
		0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
		0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
		0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
		0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
		0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
		0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
		0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
		0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
		0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
		0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	size_t total = ((n + 9 + 63) / 64) * 64, off, i;

	for (off = 0; off < total; off += 64) {
		uint32_t w[64], a, b, c, d, e, f, g, hh;

		load_block(m, n, off, total, w);
		for (i = 16; i < 64; i++)
			w[i] = (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10)) +
			       w[i - 7] +
			       (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
			       w[i - 16];
		a = h[0], b = h[1], c = h[2], d = h[3];
		e = h[4], f = h[5], g = h[6], hh = h[7];
		for (i = 0; i < 64; i++) {
			uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
				      ((e & f) ^ (~e & g)) + k[i] + w[i];
			uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
				      ((a & b) ^ (a & c) ^ (b & c));

			hh = g, g = f, f = e, e = d + t1;
			d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
		h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
	}
	store_words(h, 8, out);
}

static void sha1(const unsigned char *m, size_t n, unsigned char out[20])
{
	uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
			 0xC3D2E1F0};
	size_t total = ((n + 9 + 63) / 64) * 64, off, i;

	for (off = 0; off < total; off += 64) {
		uint32_t w[80], a, b, c, d, e;

		load_block(m, n, off, total, w);
		for (i = 16; i < 80; i++)
			w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
		a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
		for (i = 0; i < 80; i++) {
			uint32_t f, k, t;

			if (i < 20)
				f = (b & c) | (~b & d), k = 0x5A827999;
			else if (i < 40)
				f = b ^ c ^ d, k = 0x6ED9EBA1;
			else if (i < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
			else
				f = b ^ c ^ d, k = 0xCA62C1D6;
			t = rol(a, 5) + f + e + k + w[i];
			e = d, d = c, c = rol(b, 30), b = a, a = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
	}
	store_words(h, 5, out);
}

static kd_value *hexstr(kd_tmpl_ex *x, const unsigned char *d, size_t n)
{
	char t[130];
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(t + 2 * i, 3, "%02x", d[i]);
	return kd_tmpl_str(x, t, 2 * n);
}

FN(f_sha256sum)
{
	unsigned char d[32];

	(void)argc;
	sha256((const unsigned char *)argv[0]->u.str.ptr, argv[0]->u.str.len, d);
	return hexstr(x, d, 32);
}

FN(f_sha1sum)
{
	unsigned char d[20];

	(void)argc;
	sha1((const unsigned char *)argv[0]->u.str.ptr, argv[0]->u.str.len, d);
	return hexstr(x, d, 20);
}

FN(f_adler32sum)
{
	uint32_t a = 1, b = 0;
	size_t i;
	char t[16];

	(void)argc;
	for (i = 0; i < argv[0]->u.str.len; i++) {
		a = (a + (unsigned char)argv[0]->u.str.ptr[i]) % 65521;
		b = (b + a) % 65521;
	}
	snprintf(t, sizeof t, "%u", (b << 16) | a);
	return kd_tmpl_str(x, t, strlen(t));
}

static const kd_tmpl_func digest_funcs[] = {
	{"sha256sum", f_sha256sum, "s", false, false},
	{"sha1sum", f_sha1sum, "s", false, false},
	{"adler32sum", f_adler32sum, "s", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_digest(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, digest_funcs);
}
