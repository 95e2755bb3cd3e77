/* kd_age: the age file format (age-encryption.org/v1), natively: X25519
 * and ssh-ed25519 recipients and identities, the header with its MAC, the
 * ChaCha20-Poly1305 STREAM payload in 64 KiB chunks, and the ASCII armor.
 * Decryption is in memory: no plaintext is returned before every chunk
 * has been authenticated. Keys and plaintext scratch are wiped after use.
 * Passphrase (scrypt) files are refused. */
#ifndef KD_AGE_AGE_H
#define KD_AGE_AGE_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

enum { KD_AGE_X25519 = 1, KD_AGE_SSH_ED25519 = 2 };

/* The largest ssh-ed25519 public key blob (string "ssh-ed25519" + key). */
#define KD_AGE_SSH_BLOB_MAX 64

typedef struct kd_age_key {
	int type;                      /* KD_AGE_X25519, KD_AGE_SSH_ED25519 */
	uint8_t pk[32];                /* the X25519 public key (converted for SSH) */
	uint8_t sk[32];                /* identities only: the X25519 secret */
	uint8_t ssh[KD_AGE_SSH_BLOB_MAX]; /* SSH: the public key's wire form */
	size_t ssh_len;
	uint8_t tag[4];                /* SSH: SHA-256(wire form)[:4] */
} kd_age_key;

/* The identities of an identity file's text: AGE-SECRET-KEY-1 lines (with
 * # comments and blank lines) or an unencrypted OpenSSH ed25519 private
 * key. *out is a heap array; free it with kd_age_keys_free. */
int kd_age_parse_identities(const char *text, size_t n, kd_age_key **out, size_t *count,
			    kd_err *err);
/* One recipient: age1... or an "ssh-ed25519 AAAA... [comment]" line. */
int kd_age_parse_recipient(const char *s, kd_age_key *out, kd_err *err);
/* Wipes and frees what kd_age_parse_identities made. */
void kd_age_keys_free(kd_age_key *keys, size_t n);

/* The recipient string (age1... or "ssh-ed25519 AAAA...") of a key. */
int kd_age_recipient_string(const kd_age_key *k, kd_buf *out, kd_err *err);

/* A new X25519 identity: its AGE-SECRET-KEY-1 line and age1 recipient. */
int kd_age_keygen(kd_buf *identity, kd_buf *recipient, kd_err *err);

/* plaintext -> an age file to the recipients (armored when armor), with a
 * kedge-hint stanza per X25519 recipient (see kd_age_has_recipient). */
int kd_age_encrypt(const kd_age_key *rcpts, size_t n, const void *plain, size_t len,
		   int armor, kd_buf *out, kd_err *err);
/* An age file (binary or armored) -> its plaintext, appended to out only
 * when the whole file authenticated. */
int kd_age_decrypt(const kd_age_key *ids, size_t n, const void *in, size_t len, kd_buf *out,
		   kd_err *err);

typedef struct kd_age_stanza_info {
	char type[64];
	char args[3][96];              /* the first arguments after the type */
	int nargs;                     /* all arguments after the type */
} kd_age_stanza_info;

/* The header's stanzas without any key; *armored says whether the file
 * is armored. At most max are filled; *n is how many there are. */
int kd_age_inspect(const void *in, size_t len, int *armored, kd_age_stanza_info *out,
		   size_t max, size_t *n, kd_err *err);
/* Whether the file is encrypted to r, without its secret key: 1 yes, 0 no,
 * 2 cannot tell (an X25519 file without kedge-hint stanzas: made by
 * another tool), or an error. */
int kd_age_has_recipient(const void *in, size_t len, const kd_age_key *r, kd_err *err);

#endif
