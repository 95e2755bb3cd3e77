/* kd_git: the config repo, step 1 of the pass. libgit2 fetches it into a
 * state directory, kedge resolves the ref, verifies the commit's or tag's
 * SSH signature, and checks the commit's tree out where the rest of kedge
 * reads it.
 *
 * The state directory (one per config repo):
 *
 *   lock              flock()ed by every sync: one at a time
 *   mirror.git/       bare mirror of the remote's branches and tags
 *   rev/<commit>/     checked-out trees, each made whole in rev/.tmp-*,
 *                     synced to disk (syncfs), then renamed into place;
 *                     files unchanged since the served tree are hard
 *                     links to it (trees are read-only)
 *   rev/<commit>.json the commit's id, time, author, committer, message and
 *                     signature state (written before the tree is renamed)
 *   current           symlink to rev/<commit>: the revision being served,
 *                     replaced by rename
 *   status.json       the last sync: what the ref resolved to, what is
 *                     served, and a refusal when verification failed
 *
 * The last KD_GIT_KEEP_REVS trees are kept; older ones are removed after a
 * successful switch.
 *
 * Transports (libgit2): https:// (mbedTLS; the system CA bundle or a CA
 * file; IP-address URLs are checked against the certificate's IP SANs,
 * which mbedTLS 2.28 cannot do), ssh:// and user@host:path (libssh2; a
 * private key file and a known_hosts file that must pin the host key),
 * local paths and file:// URLs.
 *
 * Refs: a branch, a tag, a full 40-hex commit id, or "semver:<range>" (the
 * highest tag that is a version in the range, see core/semver).
 *
 * Verification (--verify): "off"; "head", the resolved commit must carry a
 * trusted SSH signature (gpg.format=ssh); "tag", the resolved annotated tag
 * must. Trusted keys come from an OpenSSH allowed-signers file. When the
 * new commit fails, the previous verified revision stays current, the
 * refusal goes to status.json and kd_git_sync returns KD_GIT_EREFUSED. */
#ifndef KD_GIT_GIT_H
#define KD_GIT_GIT_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define KD_GIT_DEFAULT_STATE "/var/lib/kedge"
#define KD_GIT_KEEP_REVS 3

/* Errors beyond core/base/err.h's. */
enum {
	KD_GIT_EREFUSED = -40, /* the commit failed verification */
	KD_GIT_EBUSY = -41,    /* another sync holds the state lock */
	KD_GIT_EAUTH = -42,    /* authentication or a certificate refused */
	KD_GIT_ENOSPC = -43,   /* disk full */
};

typedef enum kd_git_verify {
	KD_GIT_VERIFY_OFF,
	KD_GIT_VERIFY_HEAD,
	KD_GIT_VERIFY_TAG,
} kd_git_verify;

/* "off", "head", "tag"; -1 when unknown. */
int kd_git_parse_verify(const char *s, kd_git_verify *out);

typedef struct kd_git_sync_opts {
	const char *url;
	const char *ref;
	const char *state_dir;      /* NULL: KD_GIT_DEFAULT_STATE */
	/* HTTPS */
	const char *ca_file;        /* NULL: the system bundle */
	const char *token;          /* sent as "Authorization: Bearer" */
	const char *username;       /* basic auth with password */
	const char *password;
	/* SSH */
	const char *ssh_key;        /* private key file */
	const char *ssh_key_pass;   /* its passphrase, or NULL */
	const char *known_hosts;    /* required for SSH */
	int trust_new_host;         /* pin an unknown host's key (TOFU) */
	/* Verification */
	kd_git_verify verify;
	const char *trusted_keys;   /* allowed-signers file */
	int lock_timeout_s;         /* wait this long for the lock; 0: fail at once */
	int progress;               /* transfer progress on stderr */
} kd_git_sync_opts;

typedef struct kd_git_sync_result {
	char wanted[41];    /* what the ref resolved to */
	char current[41];   /* what is served now ("" when nothing is) */
	char ref[256];      /* the full ref name it resolved through */
	int changed;        /* current moved */
	int current_verified; /* current carries a trusted signature */
	unsigned long objects, bytes; /* transfer statistics */
	char refusal[KD_ERR_MSG_MAX]; /* set with KD_GIT_EREFUSED */
	char tree[4096];    /* state/rev/<current> */
} kd_git_sync_result;

/* A secret for the options above: the first line of file, or when file
 * is NULL the environment variable env (none when env is NULL or unset).
 * An empty or unreadable file is KD_EINVAL. Callers wipe out->ptr
 * (memset) before kd_buf_free. */
int kd_git_read_secret(const char *file, const char *env, kd_buf *out,
		       kd_err *err);

/* Fetch, resolve, verify and check out. Returns 0 (current is the resolved
 * commit), KD_GIT_EREFUSED (verification failed; current is still the last
 * verified commit, if any) or another error (nothing changed). */
int kd_git_sync(const kd_git_sync_opts *o, kd_git_sync_result *out,
		kd_err *err);

/* What the ref names on the remote now, from one ref advertisement (no
 * fetch, no lock, nothing written): the agent's cheap check before a pass.
 * Resolved as kd_git_sync resolves it (a branch, then a tag, peeled to its
 * commit; semver:RANGE; a commit id is itself and needs no network). Uses
 * o's URL, ref, state_dir (for current) and transport options. */
typedef struct kd_git_head_result {
	char commit[41];    /* the commit the ref names */
	char ref[256];      /* the full ref name it resolved through */
	char current[41];   /* what the state directory serves ("" when nothing) */
	int changed;        /* commit differs from current */
} kd_git_head_result;

int kd_git_remote_head(const kd_git_sync_opts *o, kd_git_head_result *out,
		       kd_err *err);

/* --- reading a checked-out revision -------------------------------- */

typedef struct kd_git_rev kd_git_rev;

/* Opens state/current (commit NULL) or state/rev/<commit>. */
int kd_git_rev_open(kd_git_rev **out, const char *state_dir,
		    const char *commit, kd_err *err);
/* Serves a plain folder (a checkout, a USB stick) the same way, for commands
 * that run without a state directory: its id is "" and it has no metadata. */
int kd_git_rev_open_dir(kd_git_rev **out, const char *dir, kd_err *err);
void kd_git_rev_free(kd_git_rev *r);
const char *kd_git_rev_id(const kd_git_rev *r);
const char *kd_git_rev_dir(const kd_git_rev *r);
/* The commit's metadata (rev/<commit>.json) as JSON text. */
int kd_git_rev_meta(const kd_git_rev *r, kd_buf *out, kd_err *err);
/* A file of the tree, by a relative path without ".." (symlinks must
 * stay inside the tree). KD_ENOTFOUND when absent. */
int kd_git_rev_read(const kd_git_rev *r, const char *path, kd_buf *out,
		    kd_err *err);

typedef struct kd_git_entry {
	char name[256];
	char type; /* 'f' file, 'd' directory, 'l' symlink */
} kd_git_entry;

/* The entries of a directory of the tree ("" or "." is the root), sorted
 * by name, into a heap array the caller frees. */
int kd_git_rev_list(const kd_git_rev *r, const char *dir,
		    kd_git_entry **out, size_t *n, kd_err *err);

/* --- reading branches without a checkout (the fleet view) ---------- */

typedef struct kd_git_store kd_git_store;

/* Opens the repository at path (a bare one such as state/mirror.git, or a
 * working copy's) for reading; nothing is written. */
int kd_git_store_open(kd_git_store **out, const char *path, kd_err *err);
void kd_git_store_free(kd_git_store *s);

typedef struct kd_git_branch {
	char name[256];     /* without refs/heads/ */
	char commit[41];
	int64_t time;       /* the commit's time, Unix seconds */
} kd_git_branch;

/* The branches whose names start with prefix, sorted by name, into a heap
 * array the caller frees; broken (when not NULL) counts the branches
 * skipped because they name no commit. */
int kd_git_store_branches(kd_git_store *s, const char *prefix, kd_git_branch **out,
			  size_t *n, size_t *broken, kd_err *err);
/* The entries of dir ("" the root) in the tree of rev (a commit id or a
 * ref), sorted by name, into a heap array the caller frees. */
int kd_git_store_list(kd_git_store *s, const char *rev, const char *dir,
		      kd_git_entry **out, size_t *n, kd_err *err);
/* A file of rev's tree, appended to out; KD_ELIMIT past max bytes. */
int kd_git_store_read(kd_git_store *s, const char *rev, const char *path, size_t max,
		      kd_buf *out, kd_err *err);
/* The commit rev (a branch, a tag, a commit id) names, and its time. */
int kd_git_store_resolve(kd_git_store *s, const char *rev, kd_git_branch *out, kd_err *err);
/* How many commits a has that b lacks (ahead) and b has that a lacks. */
int kd_git_store_ahead_behind(kd_git_store *s, const char *a, const char *b, size_t *ahead,
			      size_t *behind, kd_err *err);

/* --- pushing files to a branch (status reports) ------------------------ */

typedef struct kd_git_push_file {
	const char *path;   /* in the tree: relative, no "..", no leading "/" */
	const void *data;
	size_t len;
} kd_git_push_file;

typedef struct kd_git_push_opts {
	/* url and the transport, credential and TLS options, as for sync;
	 * ref, verify, trusted_keys and state_dir are not used */
	kd_git_sync_opts conn;
	const char *work_dir;    /* a bare repo kedge keeps for pushing (made
				    when missing), locked while in use */
	const char *branch;      /* e.g. "kedge/status/berlin-01" */
	const kd_git_push_file *files;
	size_t nfiles;
	const char *message;
	const char *author_name; /* NULL: "kedge" */
	const char *author_email;/* NULL: "kedge@localhost" */
	int attempts;            /* fetch+commit+push rounds when the branch
				    moved meanwhile; 0: 5 */
} kd_git_push_opts;

typedef struct kd_git_push_result {
	char commit[41];  /* the branch's tip holding the files */
	int attempts;     /* rounds it took */
	int unchanged;    /* the tip held these exact files already: nothing
			     was pushed (a retry after a lost answer) */
} kd_git_push_result;

/* Adds the files to the tip of branch on the remote (or starts the branch
 * with them) in one commit and pushes it without force. When someone else
 * moved the branch meanwhile (non-fast-forward), fetches the new tip and
 * commits on top of it again, at most `attempts` times. */
int kd_git_push(const kd_git_push_opts *o, kd_git_push_result *out,
		kd_err *err);

/* --- SSH signatures (SSHSIG), pure, for tests ------------------------ */

typedef struct kd_git_sig_result {
	char principal[256];   /* the allowed-signers principal(s) */
	char fingerprint[64];  /* SHA256:<base64> of the signing key */
	char key_type[32];
	char ns[64];           /* the namespace the signature is for */
} kd_git_sig_result;

/* Verifies an armored SSH signature ("-----BEGIN SSH SIGNATURE-----")
 * over data in namespace "git" against an allowed-signers file's text.
 * `when` (Unix time, 0 for none) is checked against valid-after and
 * valid-before. 0 trusted; KD_GIT_EREFUSED with the reason otherwise
 * (malformed, unknown key, bad signature, unsupported algorithm). */
int kd_git_sshsig_verify(const char *armored, size_t armored_len,
			 const void *data, size_t len,
			 const char *signers, size_t signers_len,
			 const char *signers_name, int64_t when,
			 kd_git_sig_result *out, kd_err *err);

/* The same in namespace ns (kedge's packs: "kedge-pack"). principal, when
 * not NULL, must match one of the key's allowed-signers principals (their
 * * and ? patterns), as ssh-keygen -Y verify -I does; a namespaces= option
 * on the key's line must list ns. */
int kd_git_sshsig_verify_ns(const char *armored, size_t armored_len,
			    const void *data, size_t len, const char *ns,
			    const char *signers, size_t signers_len,
			    const char *signers_name, const char *principal,
			    int64_t when, kd_git_sig_result *out, kd_err *err);

/* What an armored signature says of itself, trusting nothing: the key's
 * fingerprint, type and namespace into out (principal stays empty) and the
 * public key as "TYPE BASE64" appended to pubkey. */
int kd_git_sshsig_inspect(const char *armored, size_t armored_len,
			  kd_git_sig_result *out, kd_buf *pubkey, kd_err *err);

/* Signs data in namespace ns as `ssh-keygen -Y sign -n NS` does (sha512,
 * armored, wrapped at 70 columns) with an unencrypted OpenSSH ed25519
 * private key (key_text, read from the file key_name). An encrypted key or
 * another type is KD_EINVAL saying how to make a usable one. The secret
 * key is wiped from memory before returning. */
int kd_git_sshsig_sign(const char *key_text, size_t key_len, const char *key_name,
		       const char *ns, const void *data, size_t len, kd_buf *out,
		       kd_err *err);

/* --- SSH known_hosts, pure, for tests --------------------------------- */

enum {
	KD_GIT_HOST_UNKNOWN,  /* no line names the host */
	KD_GIT_HOST_MATCH,    /* a line pins the offered key */
	KD_GIT_HOST_MISMATCH, /* the host is pinned, to other keys only */
	KD_GIT_HOST_REVOKED   /* an @revoked line names the offered key */
};

typedef struct kd_git_known_host {
	int state;            /* KD_GIT_HOST_* */
	int line;             /* the matching, first pinning or @revoked line */
	char key_type[64];    /* that line's key type */
	char fingerprint[64]; /* MISMATCH: SHA256:<base64> of the pinned key */
} kd_git_known_host;

/* Looks host ("host", or "[host]:port" off port 22) and its offered key
 * (the SSH wire blob) up in known_hosts text (at most
 * KD_LIMIT_KNOWN_HOSTS_BYTES, else KD_EINVAL). 0 with the answer in out;
 * lines that cannot be read are skipped, never an error. */
int kd_git_known_hosts_find(const char *text, size_t len, const char *host,
			    const void *key, size_t keylen, kd_git_known_host *out,
			    kd_err *err);

/* --- export: a bare repo holding one ref -------------------------------- */

typedef struct kd_git_export_opts {
	const char *src;      /* a local repository (bare or not) */
	const char *rev;      /* what to take: a full refname or a 40-hex commit */
	const char *dest_ref; /* the ref to make in out_dir (refs/heads/... or refs/tags/...) */
	const char *out_dir;  /* made here; must not exist */
} kd_git_export_opts;

/* Writes a new bare repository at out_dir holding the commit rev names, its
 * whole history and, when rev is an annotated tag, the tag object (so
 * commit and tag signatures are intact), as one pack; dest_ref names it
 * and HEAD points at it (a branch) or at the commit (detached). commit_out
 * gets the commit's id. On failure out_dir is removed. */
int kd_git_export(const kd_git_export_opts *o, char commit_out[41], kd_err *err);

#endif
