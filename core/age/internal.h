/* Shared between the files of core/age; not part of the contract. */
#ifndef KD_AGE_INTERNAL_H
#define KD_AGE_INTERNAL_H

#include "age/age.h"

/* Standard base64. raw: no padding (the header's); else padded (the
 * armor's). Decoding is strict: only canonical encodings are accepted.
 * Returns the decoded length, or -1. */
long kd_age_b64_decode(const char *s, size_t n, int raw, uint8_t *out, size_t cap);
int kd_age_b64_encode(kd_buf *b, const uint8_t *p, size_t n, int raw);

/* Bech32 (BIP 173) with kedge's one use: 32-byte keys. hrp is lower-case;
 * the string may be all upper or all lower case. */
int kd_age_bech32_decode(const char *s, size_t n, const char *hrp, uint8_t out[32]);
int kd_age_bech32_encode(kd_buf *b, const char *hrp, const uint8_t key[32], int upper);

/* The armor: the binary age file inside, or -1 (*why says what is wrong). */
int kd_age_unarmor(const char *in, size_t n, kd_buf *out, const char **why);
int kd_age_armor(kd_buf *out, const uint8_t *p, size_t n);

/* The primitives (prim.c). x25519: -1 when the shared secret is all
 * zero (a low-order point); open: -1 when the tag (the last 16 bytes of
 * in) does not authenticate; seal appends the tag to out. */
int kd_age_random(void *buf, size_t n);
int kd_age_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
int kd_age_x25519_base(uint8_t out[32], const uint8_t scalar[32]);
int kd_age_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		uint8_t *out);
int kd_age_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		uint8_t *out);
void kd_age_hmac(const uint8_t *key, size_t klen, const uint8_t *p, size_t n, uint8_t out[32]);
void kd_age_sha256(const uint8_t *p, size_t n, uint8_t out[32]);
void kd_age_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		 const char *info, uint8_t *out, size_t out_len);
int kd_age_ed25519_pk_to_x25519(uint8_t out[32], const uint8_t ed[32]);
void kd_age_ed25519_sk_to_x25519(uint8_t out[32], const uint8_t seed[32]);

#endif
