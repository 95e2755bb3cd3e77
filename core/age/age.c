/* The age file: header (stanzas and MAC), file key wrapping for X25519
 * and ssh-ed25519, and the STREAM payload. */
#include "age/internal.h"

#include "base/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define INTRO "age-encryption.org/v1"
#define X25519_LABEL "age-encryption.org/v1/X25519"
#define SSH_LABEL "age-encryption.org/v1/ssh-ed25519"
#define CHUNK 65536
#define TAG 16

typedef struct stanza {
	const char *args[8];      /* args[0] is the type; NUL-terminated copies */
	size_t lens[8];
	int nargs;
	uint8_t body[KD_LIMIT_AGE_STANZA_BODY];
	size_t body_len;
} stanza;

typedef struct header {
	char *text;               /* a NUL-separated copy of the header's lines */
	stanza *st;
	size_t nst;
	size_t mac_at;            /* the MAC covers in[0, mac_at) */
	uint8_t mac[32];
	size_t payload_at;
} header;

static void header_free(header *h)
{
	free(h->text);
	free(h->st);
}

static int vchar_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return n > 0;
}

/* The stanza line "-> a b c" (without "-> ") into st. */
static int stanza_args(char *line, stanza *st)
{
	char *p = line;

	st->nargs = 0;
	for (;;) {
		char *sp = strchr(p, ' ');
		size_t n = sp ? (size_t)(sp - p) : strlen(p);

		if (st->nargs == 8 || !vchar_ok(p, n))
			return -1;
		st->args[st->nargs] = p;
		st->lens[st->nargs++] = n;
		if (!sp)
			return 0;
		*sp = '\0';
		p = sp + 1;
	}
}

/* The next LF-terminated line of the header, NUL-terminated in place. */
static char *line_at(char *text, size_t n, size_t *at)
{
	char *s = text + *at, *e = memchr(s, '\n', n - *at);

	if (!e)
		return NULL;
	*e = '\0';
	*at = (size_t)(e - text) + 1;
	return s;
}

/* The body's lines: 64 columns each, ended by a shorter one (maybe
 * empty). Bodies longer than kedge keeps (other stanza types' bodies)
 * are checked and counted, not kept. */
static int parse_body(char *text, size_t n, size_t *at, stanza *st)
{
	uint8_t line[48];

	st->body_len = 0;
	for (;;) {
		char *l = line_at(text, n, at);
		size_t len;
		long got;

		if (!l || (len = strlen(l)) > 64)
			return -1;
		got = kd_age_b64_decode(l, len, 1, line, sizeof line);
		if (got < 0)
			return -1;
		if (st->body_len + (size_t)got <= sizeof st->body)
			memcpy(st->body + st->body_len, line, (size_t)got);
		st->body_len += (size_t)got;
		if (len < 64)
			return 0;
	}
}

/* Parses the binary header of in[0, n). */
static int parse_header(const uint8_t *in, size_t n, header *h, kd_err *err)
{
	size_t at = 0, cap = n < KD_LIMIT_AGE_HEADER_BYTES ? n : KD_LIMIT_AGE_HEADER_BYTES;
	char *l;

	memset(h, 0, sizeof *h);
	h->text = malloc(cap + 1);
	h->st = calloc(KD_LIMIT_AGE_STANZAS, sizeof *h->st);
	if (!h->text || !h->st)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	memcpy(h->text, in, cap);
	h->text[cap] = '\0';
	l = line_at(h->text, cap, &at);
	if (!l || strcmp(l, INTRO))
		return kd_err_set(err, KD_EPARSE, "not an age file (no %s line)", INTRO);
	for (;;) {
		size_t start = at;

		l = line_at(h->text, cap, &at);
		if (!l)
			return kd_err_set(err, KD_EPARSE, "the header has no MAC line (truncated, or larger "
					  "than %u bytes)", KD_LIMIT_AGE_HEADER_BYTES);
		if (!strncmp(l, "--- ", 4)) {
			if (strlen(l) != 47 || kd_age_b64_decode(l + 4, 43, 1, h->mac, 32) != 32)
				return kd_err_set(err, KD_EPARSE, "the header's MAC line is malformed");
			h->mac_at = start + 3;
			h->payload_at = at;
			break;
		}
		if (strncmp(l, "-> ", 3))
			return kd_err_set(err, KD_EPARSE, "header line %zu is neither a stanza nor the MAC",
					  h->nst + 2);
		if (h->nst == KD_LIMIT_AGE_STANZAS)
			return kd_err_set(err, KD_ELIMIT, "more than %d stanzas", KD_LIMIT_AGE_STANZAS);
		if (stanza_args(l + 3, &h->st[h->nst]) || parse_body(h->text, cap, &at, &h->st[h->nst]))
			return kd_err_set(err, KD_EPARSE, "stanza %zu of the header is malformed", h->nst + 1);
		h->nst++;
	}
	if (!h->nst)
		return kd_err_set(err, KD_EPARSE, "the header has no stanza");
	return 0;
}

/* --- wrapping the file key ------------------------------------------------- */

static int is_type(const stanza *st, const char *t)
{
	return st->lens[0] == strlen(t) && !memcmp(st->args[0], t, st->lens[0]);
}

/* The wrapping key from the X25519 shared secret (SSH: tweaked first). */
static int wrap_key(const kd_age_key *k, const uint8_t share[32], const uint8_t shared_in[32],
		    uint8_t key[32])
{
	uint8_t shared[32], salt[64], tweak[32];
	int rc = 0;

	memcpy(shared, shared_in, 32);
	if (k->type == KD_AGE_SSH_ED25519) {
		kd_age_hkdf(k->ssh, k->ssh_len, NULL, 0, SSH_LABEL, tweak, 32);
		rc = kd_age_x25519(shared, tweak, shared_in);
	}
	memcpy(salt, share, 32);
	memcpy(salt + 32, k->pk, 32);
	kd_age_hkdf(salt, 64, shared, 32, k->type == KD_AGE_SSH_ED25519 ? SSH_LABEL : X25519_LABEL,
		    key, 32);
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(tweak, sizeof tweak);
	return rc;
}

/* 1 unwrapped into file_key, 0 not this identity's, <0 malformed. */
static int unwrap(const stanza *st, const kd_age_key *id, uint8_t file_key[16])
{
	uint8_t share[32], shared[32], key[32];
	static const uint8_t nonce[12];
	int ssh = is_type(st, "ssh-ed25519"), rc = 0;
	const char *share_arg;
	size_t share_len;

	if (!ssh && !is_type(st, "X25519"))
		return 0;
	if (ssh) {
		uint8_t tag[4];

		if (st->nargs != 3 || kd_age_b64_decode(st->args[1], st->lens[1], 1, tag, 4) != 4)
			return -1;
		if (id->type != KD_AGE_SSH_ED25519 || memcmp(tag, id->tag, 4))
			return 0;
		share_arg = st->args[2];
		share_len = st->lens[2];
	} else {
		if (st->nargs != 2)
			return -1;
		if (id->type != KD_AGE_X25519)
			return 0;
		share_arg = st->args[1];
		share_len = st->lens[1];
	}
	if (kd_age_b64_decode(share_arg, share_len, 1, share, 32) != 32 || st->body_len != 32)
		return -1;
	/* an all-zero shared secret (a low-order share) is refused */
	if (kd_age_x25519(shared, id->sk, share) || wrap_key(id, share, shared, key))
		rc = -1;
	else if (!kd_age_open(key, nonce, st->body, 32, file_key))
		rc = 1;
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	return rc;
}

static void header_mac(const uint8_t file_key[16], const uint8_t *hdr, size_t n, uint8_t mac[32])
{
	uint8_t k[32];

	kd_age_hkdf(NULL, 0, file_key, 16, "header", k, 32);
	kd_age_hmac(k, 32, hdr, n, mac);
	sodium_memzero(k, sizeof k);
}

/* --- the STREAM payload ------------------------------------------------------ */

static void chunk_nonce(uint8_t nonce[12], uint64_t i, int last)
{
	int k;

	memset(nonce, 0, 12);
	for (k = 0; k < 8; k++)
		nonce[10 - k] = (uint8_t)(i >> (8 * k));
	nonce[11] = (uint8_t)last;
}

static int open_payload(const uint8_t key[32], const uint8_t *p, size_t n, kd_buf *out, kd_err *err)
{
	uint8_t nonce[12];
	uint64_t i = 0;
	size_t at = 0, start = out->len;

	for (;; i++) {
		size_t left = n - at, len = left < CHUNK + TAG ? left : CHUNK + TAG;
		int last = left <= CHUNK + TAG;

		if (len < TAG || (last && len == TAG && i > 0))
			goto bad;
		if (kd_buf_grow(out, len - TAG))
			return kd_err_set(err, KD_ENOMEM, "out of memory decrypting");
		chunk_nonce(nonce, i, last);
		if (kd_age_open(key, nonce, p + at, len, (uint8_t *)out->ptr + out->len))
			goto bad;
		out->len += len - TAG;
		at += len;
		if (last)
			return 0;
	}
bad:
	sodium_memzero(out->ptr + start, out->len - start);
	out->len = start;
	return kd_err_set(err, KD_EPARSE, "the payload failed authentication at chunk %llu "
			  "(truncated or altered)", (unsigned long long)i + 1);
}

/* --- decrypting --------------------------------------------------------------- */

/* The binary file: in as is, or un-armored into bin. */
static int binary_of(const void *in, size_t len, kd_buf *bin, const uint8_t **p, size_t *n,
		     int *armored, kd_err *err)
{
	const char *s = in, *why = NULL;
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", s[i]) && s[i])
		i++;
	*armored = len - i >= 10 && !memcmp(s + i, "-----BEGIN", 10);
	if (!*armored) {
		*p = in;
		*n = len;
		return 0;
	}
	if (kd_age_unarmor(s, len, bin, &why))
		return kd_err_set(err, KD_EPARSE, "bad armor: %s", why);
	*p = (const uint8_t *)bin->ptr;
	*n = bin->len;
	return 0;
}

static int find_file_key(const header *h, const kd_age_key *ids, size_t nids, uint8_t fk[16],
			 kd_err *err)
{
	size_t s, k;

	for (s = 0; s < h->nst; s++)
		if (is_type(&h->st[s], "scrypt"))
			return kd_err_set(err, KD_EINVAL, h->nst > 1 ? "a passphrase (scrypt) stanza must be "
					  "the only one" : "passphrase (scrypt) files are not supported");
	for (s = 0; s < h->nst; s++)
		for (k = 0; k < nids; k++) {
			int r = unwrap(&h->st[s], &ids[k], fk);

			if (r < 0)
				return kd_err_set(err, KD_EPARSE, "stanza %zu (%s) is malformed", s + 1,
						  h->st[s].args[0]);
			if (r > 0)
				return 0;
		}
	return kd_err_set(err, KD_ENOTFOUND, "no identity matched any of the file's recipients");
}

int kd_age_decrypt(const kd_age_key *ids, size_t nids, const void *in, size_t len, kd_buf *out,
		   kd_err *err)
{
	kd_buf bin = KD_BUF_INIT(KD_LIMIT_AGE_FILE_BYTES);
	header h = {0};
	uint8_t fk[16], mac[32], pk[32];
	const uint8_t *p;
	size_t n;
	int armored, rc;

	if (len > KD_LIMIT_AGE_FILE_BYTES)
		return kd_err_set(err, KD_ELIMIT, "the file is over %u bytes", KD_LIMIT_AGE_FILE_BYTES);
	if ((rc = binary_of(in, len, &bin, &p, &n, &armored, err)) ||
	    (rc = parse_header(p, n, &h, err)) || (rc = find_file_key(&h, ids, nids, fk, err)))
		goto cleanup;
	header_mac(fk, p, h.mac_at, mac);
	if (sodium_memcmp(mac, h.mac, 32)) {
		rc = kd_err_set(err, KD_EPARSE, "header MAC mismatch: the header was altered");
		goto cleanup;
	}
	if (n - h.payload_at < 16) {
		rc = kd_err_set(err, KD_EPARSE, "truncated file: no payload nonce");
		goto cleanup;
	}
	kd_age_hkdf(p + h.payload_at, 16, fk, 16, "payload", pk, 32);
	rc = open_payload(pk, p + h.payload_at + 16, n - h.payload_at - 16, out, err);
cleanup:
	sodium_memzero(fk, sizeof fk);
	sodium_memzero(pk, sizeof pk);
	header_free(&h);
	kd_buf_free(&bin);
	return rc;
}

/* --- encrypting ---------------------------------------------------------------- */

static int put_stanza(kd_buf *b, const kd_age_key *r, const uint8_t fk[16])
{
	uint8_t e[32], share[32], shared[32], key[32], body[32];
	static const uint8_t nonce[12];
	int rc = 0;

	if (kd_age_random(e, sizeof e) || kd_age_x25519_base(share, e) ||
	    kd_age_x25519(shared, e, r->pk) || wrap_key(r, share, shared, key)) {
		rc = KD_EINVAL;
		goto cleanup;
	}
	kd_age_seal(key, nonce, fk, 16, body);
	if (r->type == KD_AGE_SSH_ED25519) {
		kd_buf_puts(b, "-> ssh-ed25519 ");
		kd_age_b64_encode(b, r->tag, 4, 1);
		kd_buf_putc(b, ' ');
	} else {
		kd_buf_puts(b, "-> X25519 ");
	}
	kd_age_b64_encode(b, share, 32, 1);
	kd_buf_putc(b, '\n');
	kd_age_b64_encode(b, body, 32, 1);
	kd_buf_putc(b, '\n');
cleanup:
	sodium_memzero(e, sizeof e);
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	return rc;
}

/* The hint that lets kedge check without a key whether an X25519
 * recipient is among a file's: SHA-256 of its age1 string, 4 bytes. */
static void hint_of(const kd_age_key *r, uint8_t tag[4])
{
	kd_buf s = KD_BUF_INIT(256);
	uint8_t h[32];
	kd_err e = KD_ERR_INIT;

	kd_age_recipient_string(r, &s, &e);
	kd_age_sha256((const uint8_t *)s.ptr, s.len, h);
	memcpy(tag, h, 4);
	kd_buf_free(&s);
}

static void seal_payload(kd_buf *b, const uint8_t fk[16], const uint8_t *plain, size_t len)
{
	uint8_t nonce[16], key[32], cn[12];
	uint64_t i = 0;
	size_t at = 0;

	if (kd_age_random(nonce, sizeof nonce)) {
		b->failed = 1;
		return;
	}
	kd_buf_put(b, nonce, sizeof nonce);
	kd_age_hkdf(nonce, 16, fk, 16, "payload", key, 32);
	do {
		size_t n = len - at < CHUNK ? len - at : CHUNK;
		int last = at + n == len;

		if (kd_buf_grow(b, n + TAG))
			break;
		chunk_nonce(cn, i++, last);
		kd_age_seal(key, cn, plain + at, n, (uint8_t *)b->ptr + b->len);
		b->len += n + TAG;
		at += n;
	} while (at < len);
	sodium_memzero(key, sizeof key);
}

int kd_age_encrypt(const kd_age_key *rcpts, size_t n, const void *plain, size_t len, int armor,
		   kd_buf *out, kd_err *err)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_AGE_FILE_BYTES + KD_LIMIT_AGE_HEADER_BYTES);
	uint8_t fk[16], mac[32], tag[4];
	size_t i;
	int rc = 0;

	if (!n)
		return kd_err_set(err, KD_EINVAL, "no recipients");
	if (len > KD_LIMIT_AGE_FILE_BYTES)
		return kd_err_set(err, KD_ELIMIT, "the plaintext is over %u bytes", KD_LIMIT_AGE_FILE_BYTES);
	if (kd_age_random(fk, sizeof fk))
		return kd_err_set(err, KD_EIO, "no randomness from the kernel");
	kd_buf_puts(&b, INTRO "\n");
	for (i = 0; i < n && !rc; i++) {
		rc = put_stanza(&b, &rcpts[i], fk);
		if (!rc && rcpts[i].type == KD_AGE_X25519) {
			hint_of(&rcpts[i], tag);
			kd_buf_puts(&b, "-> kedge-hint ");
			kd_age_b64_encode(&b, tag, 4, 1);
			kd_buf_puts(&b, "\n\n");
		}
	}
	if (rc) {
		rc = kd_err_set(err, KD_EINVAL, "recipient %zu is not a usable X25519 key", i);
		goto cleanup;
	}
	kd_buf_puts(&b, "---");
	header_mac(fk, (const uint8_t *)b.ptr, b.len, mac);
	kd_buf_putc(&b, ' ');
	kd_age_b64_encode(&b, mac, 32, 1);
	kd_buf_putc(&b, '\n');
	seal_payload(&b, fk, plain, len);
	if (b.failed) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory encrypting");
		goto cleanup;
	}
	rc = armor ? kd_age_armor(out, (const uint8_t *)b.ptr, b.len) : kd_buf_put(out, b.ptr, b.len);
	if (rc)
		kd_err_set(err, rc, "out of memory encrypting");
cleanup:
	sodium_memzero(fk, sizeof fk);
	kd_buf_free(&b);
	return rc;
}

/* --- without a key ------------------------------------------------------------- */

int kd_age_inspect(const void *in, size_t len, int *armored, kd_age_stanza_info *out, size_t max,
		   size_t *n, kd_err *err)
{
	kd_buf bin = KD_BUF_INIT(KD_LIMIT_AGE_FILE_BYTES);
	header h = {0};
	const uint8_t *p;
	size_t plen, i;
	int rc, a;

	*n = 0;
	if ((rc = binary_of(in, len, &bin, &p, &plen, armored, err)) ||
	    (rc = parse_header(p, plen, &h, err)))
		goto cleanup;
	for (i = 0; i < h.nst && i < max; i++) {
		memset(&out[i], 0, sizeof out[i]);
		snprintf(out[i].type, sizeof out[i].type, "%.*s", (int)h.st[i].lens[0], h.st[i].args[0]);
		out[i].nargs = h.st[i].nargs - 1;
		for (a = 1; a < h.st[i].nargs && a <= 3; a++)
			snprintf(out[i].args[a - 1], sizeof out[i].args[0], "%.*s", (int)h.st[i].lens[a],
				 h.st[i].args[a]);
	}
	*n = h.nst;
cleanup:
	header_free(&h);
	kd_buf_free(&bin);
	return rc;
}

int kd_age_has_recipient(const void *in, size_t len, const kd_age_key *r, kd_err *err)
{
	kd_age_stanza_info *st = calloc(KD_LIMIT_AGE_STANZAS, sizeof *st);
	kd_buf want = KD_BUF_INIT(64);
	uint8_t tag[4];
	size_t n, i;
	int armored, rc, hints = 0, found = 0;

	if (!st)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	rc = kd_age_inspect(in, len, &armored, st, KD_LIMIT_AGE_STANZAS, &n, err);
	if (rc)
		goto cleanup;
	if (r->type == KD_AGE_SSH_ED25519)
		kd_age_b64_encode(&want, r->tag, 4, 1);
	else {
		hint_of(r, tag);
		kd_age_b64_encode(&want, tag, 4, 1);
	}
	kd_buf_putc(&want, '\0');
	for (i = 0; i < n && i < KD_LIMIT_AGE_STANZAS; i++) {
		int ssh = !strcmp(st[i].type, "ssh-ed25519"), hint = !strcmp(st[i].type, "kedge-hint");

		hints += hint;
		if ((r->type == KD_AGE_SSH_ED25519 && ssh) || (r->type == KD_AGE_X25519 && hint))
			found |= !strcmp(st[i].args[0], want.ptr);
	}
	rc = found ? 1 : (r->type == KD_AGE_X25519 && !hints) ? 2 : 0;
cleanup:
	kd_buf_free(&want);
	free(st);
	return rc;
}
