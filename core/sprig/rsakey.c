/* RSA key generation for genPrivateKey and the certificate functions,
 * with a cheaper prime search than mbedtls_rsa_gen_key's. mbedTLS draws a
 * fresh random number for every candidate and tests each with trial
 * division by the primes below 1000 and then Miller-Rabin; about 60
 * modular exponentiations and 350 random draws per 1024-bit prime. Here,
 * as Go's crypto/rand.Prime and OpenSSL do, one random start is sieved
 * with every odd prime below 2^16 over a window of candidates after it,
 * so only about 36 candidates reach Miller-Rabin (mbedTLS's own test, with
 * its rounds for a 2^-80 error: fewer than Go's 20 plus Baillie-PSW). The
 * key is assembled as mbedtls_rsa_gen_key does it: e = 65537, P > Q,
 * |P - Q| and D of the sizes FIPS 186-4 asks, D = e^-1 mod lcm(P-1, Q-1). */
#include "sprig/internal.h"

#include <mbedtls/bignum.h>
#include <mbedtls/rsa.h>

#include <string.h>

#define SIEVE_LIMIT 65536u
#define NPRIMES 6541    /* odd primes below 2^16 */
#define WINDOW 4096     /* candidates start + 2k for k < WINDOW */

static uint16_t primes[NPRIMES];

/* The odd primes below SIEVE_LIMIT, by Eratosthenes, once. */
static void init_primes(void)
{
	static unsigned char comp[SIEVE_LIMIT / 2]; /* comp[i]: 2i+1 */
	size_t i, j, n = 0;

	if (primes[0])
		return;
	for (i = 1; i < SIEVE_LIMIT / 2; i++) {
		size_t p = 2 * i + 1;

		if (comp[i])
			continue;
		if (n < NPRIMES)
			primes[n++] = (uint16_t)p;
		for (j = p * p / 2; j < SIEVE_LIMIT / 2; j += p)
			comp[j] = 1;
	}
}

/* mbedTLS's rounds for a 2^-80 error (HAC table 4.4). */
static int mr_rounds(size_t nbits)
{
	return nbits >= 1300 ? 2 : nbits >= 850 ? 3 : nbits >= 650 ? 4 :
	       nbits >= 350 ? 8 : nbits >= 250 ? 12 : nbits >= 150 ? 18 : 27;
}

/* b (big-endian, n bytes) modulo m < 2^32. */
static uint32_t mod_small(const unsigned char *b, size_t n, uint32_t m)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4)
		r = ((r << 32) | ((uint32_t)b[i] << 24 | (uint32_t)b[i + 1] << 16 |
				  (uint32_t)b[i + 2] << 8 | b[i + 3])) % m;
	for (; i < n; i++)
		r = ((r << 8) | b[i]) % m;
	return (uint32_t)r;
}

/* Marks in comp the k < WINDOW where start + 2k has a factor below
 * SIEVE_LIMIT (start is odd, nbytes big-endian bytes). */
static void sieve(const unsigned char *start, size_t nbytes, unsigned char *comp)
{
	size_t i;

	memset(comp, 0, WINDOW);
	for (i = 0; i < NPRIMES; i += 2) {
		/* two primes at a time: their product is below 2^32 */
		uint32_t p = primes[i], q = i + 1 < NPRIMES ? primes[i + 1] : 1;
		uint32_t r = mod_small(start, nbytes, p * q);
		uint32_t ps[2] = {p, q};
		int j;

		for (j = 0; j < 2 && ps[j] > 1; j++) {
			uint32_t m = ps[j], rm = r % m;
			/* start + 2k = 0 (mod m)  <=>  k = (m - rm) / 2 (mod m) */
			uint64_t k = (uint64_t)((m - rm) % m) * ((m + 1) / 2) % m;

			for (; k < WINDOW; k += m)
				comp[k] = 1;
		}
	}
}

/* A random prime of exactly nbits bits (nbits a multiple of 8, at least
 * 128) whose top two bits are set, so a product of two has 2*nbits. */
static int gen_prime(mbedtls_mpi *x, size_t nbits,
		     int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	unsigned char start[512], comp[WINDOW];
	size_t nbytes = nbits / 8, k;
	int rc;

	if (nbits % 8 || nbytes > sizeof start || nbits < 128)
		return MBEDTLS_ERR_MPI_BAD_INPUT_DATA;
	init_primes();
	for (;;) {
		if ((rc = f_rng(p_rng, start, nbytes)))
			return rc;
		start[0] |= 0xc0;
		start[nbytes - 1] |= 1;
		sieve(start, nbytes, comp);
		if ((rc = mbedtls_mpi_read_binary(x, start, nbytes)))
			return rc;
		for (k = 0; k < WINDOW; k++) {
			if (comp[k])
				continue;
			if ((rc = mbedtls_mpi_add_int(x, x, (mbedtls_mpi_sint)(2 * k))))
				return rc;
			if (mbedtls_mpi_bitlen(x) != nbits)
				break; /* ran past the top: start again */
			rc = mbedtls_mpi_is_prime_ext(x, mr_rounds(nbits), f_rng, p_rng);
			if (rc != MBEDTLS_ERR_MPI_NOT_ACCEPTABLE)
				return rc;
			if ((rc = mbedtls_mpi_sub_int(x, x, (mbedtls_mpi_sint)(2 * k))))
				return rc;
		}
	}
}

int kd_sprig_rsa_gen(mbedtls_rsa_context *rsa, unsigned nbits,
		     int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
	mbedtls_mpi p, q, n, d, e, h, g, l;
	int rc;

	if (nbits < 256 || nbits % 16 || nbits > 8192)
		return MBEDTLS_ERR_RSA_BAD_INPUT_DATA;
	mbedtls_mpi_init(&p);
	mbedtls_mpi_init(&q);
	mbedtls_mpi_init(&n);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&e);
	mbedtls_mpi_init(&h);
	mbedtls_mpi_init(&g);
	mbedtls_mpi_init(&l);
	if ((rc = mbedtls_mpi_lset(&e, 65537)))
		goto cleanup;
	for (;;) {
		if ((rc = gen_prime(&p, nbits / 2, f_rng, p_rng)) ||
		    (rc = gen_prime(&q, nbits / 2, f_rng, p_rng)))
			goto cleanup;
		if (mbedtls_mpi_cmp_mpi(&p, &q) < 0)
			mbedtls_mpi_swap(&p, &q);
		/* P - Q > 2^(nbits/2 - 100) (FIPS 186-4 B.3.3 5.4) */
		if ((rc = mbedtls_mpi_sub_abs(&h, &p, &q)))
			goto cleanup;
		if (mbedtls_mpi_bitlen(&h) <= nbits / 2 - 99)
			continue;
		/* L = lcm(P-1, Q-1); e must be a unit mod L */
		if ((rc = mbedtls_mpi_sub_int(&h, &p, 1)) ||
		    (rc = mbedtls_mpi_sub_int(&g, &q, 1)) ||
		    (rc = mbedtls_mpi_mul_mpi(&l, &h, &g)) ||
		    (rc = mbedtls_mpi_gcd(&n, &h, &g)) ||
		    (rc = mbedtls_mpi_div_mpi(&l, NULL, &l, &n)) ||
		    (rc = mbedtls_mpi_gcd(&g, &e, &l)))
			goto cleanup;
		if (mbedtls_mpi_cmp_int(&g, 1) != 0)
			continue;
		if ((rc = mbedtls_mpi_inv_mod(&d, &e, &l)))
			goto cleanup;
		/* D > 2^(nbits/2) (FIPS 186-4 B.3.1 3.b) */
		if (mbedtls_mpi_bitlen(&d) <= (nbits + 1) / 2)
			continue;
		break;
	}
	if ((rc = mbedtls_mpi_mul_mpi(&n, &p, &q)) ||
	    (rc = mbedtls_rsa_import(rsa, &n, &p, &q, &d, &e)) ||
	    (rc = mbedtls_rsa_complete(rsa)))
		goto cleanup;
	rc = mbedtls_rsa_check_privkey(rsa);
cleanup:
	mbedtls_mpi_free(&p);
	mbedtls_mpi_free(&q);
	mbedtls_mpi_free(&n);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&e);
	mbedtls_mpi_free(&h);
	mbedtls_mpi_free(&g);
	mbedtls_mpi_free(&l);
	return rc;
}
