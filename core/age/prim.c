/* The primitives age is made of, on mbedTLS (kedge's TLS library):
 * X25519, ChaCha20-Poly1305, HMAC/HKDF-SHA-256, SHA-2, and the Ed25519 to
 * X25519 conversion ssh-ed25519 recipients need. Randomness from the
 * kernel (getrandom). */
#include "age/internal.h"

#include <mbedtls/bignum.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/ecp.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <sodium.h>
#include <string.h>
#include <sys/random.h>

int kd_age_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t got = getrandom(p, n, 0);

		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static void clamp(uint8_t k[32])
{
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

int kd_age_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
	mbedtls_ecp_group g;
	mbedtls_ecp_point P, R;
	mbedtls_mpi d;
	uint8_t k[32], u[32];
	static const uint8_t zero[32];
	int rc = -1;

	memcpy(k, scalar, 32);
	clamp(k);
	memcpy(u, point, 32);
	u[31] &= 127; /* RFC 7748: the top bit of u is ignored */
	mbedtls_ecp_group_init(&g);
	mbedtls_ecp_point_init(&P);
	mbedtls_ecp_point_init(&R);
	mbedtls_mpi_init(&d);
	if (mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_CURVE25519) ||
	    mbedtls_mpi_read_binary_le(&d, k, 32) || mbedtls_mpi_read_binary_le(&P.X, u, 32) ||
	    mbedtls_mpi_mod_mpi(&P.X, &P.X, &g.P) || mbedtls_mpi_lset(&P.Z, 1) ||
	    mbedtls_ecp_mul(&g, &R, &d, &P, NULL, NULL) || mbedtls_mpi_write_binary_le(&R.X, out, 32))
		goto cleanup;
	/* a low-order point gives the all-zero secret, which age refuses */
	rc = sodium_memcmp(out, zero, 32) ? 0 : -1;
cleanup:
	sodium_memzero(k, sizeof k);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&P);
	mbedtls_ecp_point_free(&R);
	mbedtls_ecp_group_free(&g);
	return rc;
}

int kd_age_x25519_base(uint8_t out[32], const uint8_t scalar[32])
{
	static const uint8_t nine[32] = {9};

	return kd_age_x25519(out, scalar, nine);
}

int kd_age_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		uint8_t *out)
{
	mbedtls_chachapoly_context c;
	int rc;

	mbedtls_chachapoly_init(&c);
	rc = mbedtls_chachapoly_setkey(&c, key) ||
	     mbedtls_chachapoly_encrypt_and_tag(&c, n, nonce, NULL, 0, in, out, out + n);
	mbedtls_chachapoly_free(&c);
	return rc ? -1 : 0;
}

int kd_age_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		uint8_t *out)
{
	mbedtls_chachapoly_context c;
	int rc;

	if (n < 16)
		return -1;
	mbedtls_chachapoly_init(&c);
	rc = mbedtls_chachapoly_setkey(&c, key) ||
	     mbedtls_chachapoly_auth_decrypt(&c, n - 16, nonce, NULL, 0, in + n - 16, in, out);
	mbedtls_chachapoly_free(&c);
	return rc ? -1 : 0;
}

void kd_age_hmac(const uint8_t *key, size_t klen, const uint8_t *p, size_t n, uint8_t out[32])
{
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, klen, p, n, out);
}

void kd_age_sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	mbedtls_sha256_ret(p, n, out, 0);
}

void kd_age_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		 const char *info, uint8_t *out, size_t out_len)
{
	mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt, salt_len, ikm, ikm_len,
		     (const uint8_t *)info, strlen(info), out, out_len);
}

/* The Montgomery u of an Edwards point: u = (1 + y) / (1 - y) mod p. */
int kd_age_ed25519_pk_to_x25519(uint8_t out[32], const uint8_t ed[32])
{
	mbedtls_mpi p, y, a, b;
	uint8_t yb[32];
	int rc;

	memcpy(yb, ed, 32);
	yb[31] &= 127;
	mbedtls_mpi_init(&p);
	mbedtls_mpi_init(&y);
	mbedtls_mpi_init(&a);
	mbedtls_mpi_init(&b);
	/* p = 2^255 - 19 */
	rc = mbedtls_mpi_lset(&p, 1) || mbedtls_mpi_shift_l(&p, 255) || mbedtls_mpi_sub_int(&p, &p, 19) ||
	     mbedtls_mpi_read_binary_le(&y, yb, 32) || mbedtls_mpi_cmp_mpi(&y, &p) >= 0 ||
	     mbedtls_mpi_add_int(&a, &y, 1) || mbedtls_mpi_lset(&b, 1) ||
	     mbedtls_mpi_sub_mpi(&b, &b, &y) || mbedtls_mpi_mod_mpi(&b, &b, &p) ||
	     mbedtls_mpi_inv_mod(&b, &b, &p) || mbedtls_mpi_mul_mpi(&a, &a, &b) ||
	     mbedtls_mpi_mod_mpi(&a, &a, &p) || mbedtls_mpi_write_binary_le(&a, out, 32);
	mbedtls_mpi_free(&p);
	mbedtls_mpi_free(&y);
	mbedtls_mpi_free(&a);
	mbedtls_mpi_free(&b);
	return rc ? -1 : 0;
}

/* The X25519 scalar of an Ed25519 seed: SHA-512's first half, clamped. */
void kd_age_ed25519_sk_to_x25519(uint8_t out[32], const uint8_t seed[32])
{
	uint8_t h[64];

	mbedtls_sha512_ret(seed, 32, h, 0);
	memcpy(out, h, 32);
	clamp(out);
	sodium_memzero(h, sizeof h);
}
