/* Shared between the files of core/git; not part of the contract. */
#ifndef KD_GIT_INTERNAL_H
#define KD_GIT_INTERNAL_H

#include "git/git.h"

#include <git2.h>

/* What the libgit2 callbacks need, and the first error they saw (libgit2
 * reports a callback's failure vaguely; this message is the real one). */
typedef struct kd_git_ctx {
	const kd_git_sync_opts *o;
	char host[256];
	unsigned port;       /* 0: the scheme's default */
	int is_ssh;
	int cred_tries;
	int failed_code;     /* set with msg */
	char msg[KD_ERR_MSG_MAX];
	int64_t last_progress_ms;
	int progress_shown;
} kd_git_ctx;

/* Fills host and port from the URL (https://, ssh://, user@host:path). */
void kd_git_ctx_url(kd_git_ctx *c, const char *url);
void kd_git_ctx_fail(kd_git_ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The libgit2 callbacks (payload: kd_git_ctx). */
int kd_git_cert_check(git_cert *cert, int valid, const char *host,
		      void *payload);
int kd_git_credentials(git_credential **out, const char *url,
		       const char *user_from_url, unsigned int allowed,
		       void *payload);
int kd_git_progress(const git_indexer_progress *stats, void *payload);

/* Starts libgit2 once, and makes ca_file (NULL: the system bundle) the
 * one HTTPS to url is checked against. */
int kd_git_setup(const char *url, const char *ca_file, kd_err *err);
/* Fills err from a failed libgit2 call (gitrc) while doing `what` with
 * c->o->url; `where` is the local folder named when the disk is full. */
int kd_git_fail(const kd_git_ctx *c, const char *where, kd_err *err,
		int gitrc, const char *what);

/* The "Authorization: Bearer" header for o->token into buf: 1 when set,
 * 0 without a token, KD_EINVAL when it does not fit or has a line break. */
int kd_git_token_header(const kd_git_sync_opts *o, char *buf, size_t size, kd_err *err);
/* A 40-hex commit id? */
int kd_git_is_hex40(const char *s);
/* The commit state/current serves ("" when none). */
void kd_git_read_current(const char *state, char out[41]);
/* The highest of tags (names without refs/tags/) that is a version in the
 * semver range, into best_name; KD_ENOTFOUND naming url when none is. */
int kd_git_best_tag(const char *url, const char *range, const char *const *tags, size_t n,
		    char best_name[256], kd_err *err);

/* "SHA256:<base64>" of an SSH public key blob, as ssh-keygen -l prints. */
void kd_git_ssh_fingerprint(const void *key, size_t n, char out[64]);

#endif
