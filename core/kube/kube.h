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
 * exec plugins and auth providers are refused with a message saying so.
 *
 * Errors (kd_err): KD_ENOTFOUND nothing found, or a named file, context,
 * cluster or user missing; KD_EPARSE a kubeconfig that is not YAML or has
 * bad base64; KD_EINVAL an unsupported or contradictory setting; KD_EIO a
 * file that cannot be read. Messages name the file and the entry. */
#ifndef KD_KUBE_KUBE_H
#define KD_KUBE_KUBE_H

#include "base/arena.h"
#include "base/err.h"

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

/* Everything points into the config's arena; absent strings are NULL.
 * PEM texts are what the -data fields held, decoded; file names are
 * absolute or relative to the working directory. */
typedef struct kd_kube_config {
	kd_arena arena;
	const char *server; /* https://host:port[/path], no trailing '/' */
	const char *ca_file, *ca_pem;
	const char *cert_file, *key_file, *cert_pem, *key_pem;
	const char *token;  /* read from tokenFile when given that way */
	int insecure;
	const char *namespace;
	const char *context; /* the context used ("" in-cluster) */
	const char *source;  /* the file(s) read, or "in-cluster" */
} kd_kube_config;

/* Fills out (which needs kd_kube_config_free afterwards, also on error). */
int kd_kube_config_load(kd_kube_config *out, const kd_kube_config_opts *opts,
			kd_err *err);
void kd_kube_config_free(kd_kube_config *c);

#endif
