/* kd_kube: where kedge finds its Kubernetes API server and the
 * credentials to reach it. The client itself (discovery, server-side apply,
 * inventory, prune, readiness) is Lua (lua/kedge/kube.lua) on top of the
 * HTTP client in core/net; this part reads the secrets.
 *
 * Search order (the first that exists wins; later ones are not read):
 *   1. opts->kubeconfig (--kubeconfig): that one file, which must exist;
 *   2. opts->env (the KUBECONFIG variable): a colon-separated list of
 *      files merged as kubectl merges them: missing files are skipped, for
 *      each cluster, user and context name the first file that defines it
 *      wins, and so does the first current-context;
 *   3. KD_KUBE_K3S_CONFIG (/etc/rancher/k3s/k3s.yaml) when present;
 *   4. $HOME/.kube/config when present;
 *   5. in-cluster: KUBERNETES_SERVICE_HOST and _PORT with the service
 *      account's token, ca.crt and namespace under KD_KUBE_SA_DIR.
 * Relative file names inside a kubeconfig are relative to that file's
 * folder. opts->context overrides current-context; the namespace is the
 * context's, else "default".
 *
 * Credentials: client certificates (client-certificate[-data],
 * client-key[-data]), bearer tokens (token, tokenFile), the server's CA
 * (certificate-authority[-data]) and insecure-skip-tls-verify. Basic auth,
 * exec plugins and auth providers are refused with a message saying so
 * (never with the password or token).
 *
 * Secrets: the private key and the token are kd_kube_secret, memory of
 * their own that is wiped when freed; everything else read on the way
 * (file text, the parsed YAML) lives in the config's arena, which is wiped
 * too. No message (kd_err) ever quotes a credential.
 *
 * Errors (kd_err): KD_ENOTFOUND nothing found, or a named file, context,
 * cluster or user missing; KD_EPARSE a kubeconfig that is not YAML or has
 * bad base64; KD_EINVAL an unsupported or contradictory setting; KD_EIO a
 * file that cannot be read. Messages name the file and the entry. */
#ifndef KD_KUBE_KUBE_H
#define KD_KUBE_KUBE_H

#include "base/arena.h"
#include "base/err.h"

#include <stddef.h>

/* kd_kube_secret: one credential (a private key's PEM, a bearer token),
 * malloc'd apart from everything else. Readers take the bytes for the
 * moment they need them and copy them nowhere they do not wipe;
 * kd_kube_secret_free zeroes them (explicit_bzero: the compiler keeps it)
 * before freeing. */
typedef struct kd_kube_secret kd_kube_secret;

int kd_kube_secret_new(kd_kube_secret **out, const void *data, size_t len,
		       kd_err *err);
/* The bytes, NUL-terminated (mbedTLS wants PEM text with its NUL); NULL
 * for NULL. */
const char *kd_kube_secret_data(const kd_kube_secret *s);
size_t kd_kube_secret_len(const kd_kube_secret *s);
/* Zeroes the bytes and leaves an empty secret (still allocated). */
void kd_kube_secret_wipe(kd_kube_secret *s);
/* Wipes, then frees; accepts NULL. */
void kd_kube_secret_free(kd_kube_secret *s);

#define KD_KUBE_K3S_CONFIG "/etc/rancher/k3s/k3s.yaml"
#define KD_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct kd_kube_config_opts {
	const char *kubeconfig; /* explicit file, or NULL */
	const char *env;        /* KUBECONFIG's value, or NULL */
	const char *home;       /* $HOME, or NULL */
	const char *context;    /* overrides current-context, or NULL */
	/* In-cluster: KUBERNETES_SERVICE_HOST and _PORT (NULL: not in a
	 * Pod) and the service account folder (NULL: KD_KUBE_SA_DIR). */
	const char *service_host, *service_port, *sa_dir;
	const char *k3s_config; /* NULL: KD_KUBE_K3S_CONFIG */
} kd_kube_config_opts;

/* Strings point into the config's arena; absent ones are NULL. PEM texts
 * are what the -data fields held, decoded; file names are absolute or
 * relative to the working directory. The secrets belong to the config
 * until a caller takes one (and sets the field to NULL). */
typedef struct kd_kube_config {
	kd_arena arena;
	const char *server; /* https://host:port[/path], no trailing '/' */
	const char *ca_file, *ca_pem;
	const char *cert_file, *key_file, *cert_pem;
	kd_kube_secret *key_pem; /* client-key-data, decoded */
	kd_kube_secret *token;   /* read from tokenFile when given that way */
	int insecure;
	const char *namespace;
	const char *context; /* the context used ("" in-cluster) */
	const char *source;  /* the file(s) read, or "in-cluster" */
} kd_kube_config;

/* Fills out (which needs kd_kube_config_free afterwards, also on error:
 * that wipes and frees the arena and the secrets still held). */
int kd_kube_config_load(kd_kube_config *out, const kd_kube_config_opts *opts,
			kd_err *err);
void kd_kube_config_free(kd_kube_config *c);

#endif
