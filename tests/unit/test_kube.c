/* Kubeconfig resolution (core/kube): the search order, kubectl's merge of
 * a KUBECONFIG list, relative paths, inline data, tokens, in-cluster, and
 * the errors for what kedge does not support. Files are written to a
 * temporary folder; nothing outside it is read (k3s_config and sa_dir point
 * into it too). */
#include "base/err.h"
#include "base/fs.h"
#include "kube/kube.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static const char *path_of(const char *name)
{
	static char bufs[8][512];
	static int n;
	char *p = bufs[n++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	if (!f) {
		perror(name);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

/* "-----BEGIN X-----\n" base64 of "CERT" / "KEY" / "CA" */
#define B64_CERT "Q0VSVA=="
#define B64_KEY "S0VZ"
#define B64_CA "Q0E="

static const char *const first =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: one\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster: {server: 'https://127.0.0.1:6443', certificate-authority: certs/ca.crt}\n"
	"users:\n"
	"- name: u1\n"
	"  user: {client-certificate-data: " B64_CERT ", client-key-data: " B64_KEY "}\n"
	"contexts:\n"
	"- name: one\n"
	"  context: {cluster: c1, user: u1, namespace: apps}\n";

static const char *const second =
	"current-context: two\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster: {server: 'https://shadowed.example:1'}\n"
	"- name: c2\n"
	"  cluster: {server: 'https://k.example:443', certificate-authority-data: " B64_CA "}\n"
	"users:\n"
	"- name: u2\n"
	"  user: {tokenFile: tok}\n"
	"contexts:\n"
	"- name: two\n"
	"  context: {cluster: c2, user: u2}\n"
	"- name: mixed\n"
	"  context: {cluster: c1, user: u2}\n";

int main(void)
{
	kd_kube_config c;
	kd_kube_config_opts o;
	kd_err err = KD_ERR_INIT;
	char env[1024];
	int rc;

	snprintf(dir, sizeof dir, "%s/kedge-kube-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 2;
	mkdir(path_of("sa"), 0700);
	write_file("first.yaml", first);
	write_file("second.yaml", second);
	write_file("tok", "secret-token\n");

	/* --kubeconfig: one file, relative CA path resolved next to it */
	memset(&o, 0, sizeof o);
	o.kubeconfig = path_of("first.yaml");
	o.k3s_config = path_of("absent-k3s.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	is_int(rc, 0, "explicit kubeconfig loads (%s)", err.msg);
	is_strz(c.server, "https://127.0.0.1:6443", "server");
	is_strz(c.ca_file, path_of("certs/ca.crt"), "a relative CA file is relative to the kubeconfig");
	is_strz(c.cert_pem, "CERT", "client-certificate-data decoded");
	is_strz(kd_kube_secret_data(c.key_pem), "KEY", "client-key-data decoded");
	is_strz(c.namespace, "apps", "namespace from the context");
	is_strz(c.context, "one", "current-context");
	kd_kube_config_free(&c);

	/* KUBECONFIG list: missing files skipped, first definition wins */
	snprintf(env, sizeof env, "%s:%s:%s", path_of("missing.yaml"),
		 path_of("first.yaml"), path_of("second.yaml"));
	memset(&o, 0, sizeof o);
	o.env = env;
	o.context = "mixed";
	rc = kd_kube_config_load(&c, &o, &err);
	is_int(rc, 0, "KUBECONFIG list loads (%s)", err.msg);
	is_strz(c.server, "https://127.0.0.1:6443", "cluster c1 from the first file that defines it");
	is_strz(kd_kube_secret_data(c.token), "secret-token", "tokenFile read (trailing newline dropped), relative to its file");
	is_strz(c.namespace, "default", "no namespace in the context: default");
	kd_kube_config_free(&c);

	o.context = NULL;
	rc = kd_kube_config_load(&c, &o, &err);
	is_strz(c.context, "one", "the first current-context wins");
	kd_kube_config_free(&c);

	snprintf(env, sizeof env, "%s:%s", path_of("second.yaml"), path_of("first.yaml"));
	o.env = env;
	rc = kd_kube_config_load(&c, &o, &err);
	is_strz(c.ca_pem, "CA", "certificate-authority-data decoded");
	is_strz(c.server, "https://k.example:443", "the other order picks the other context");
	kd_kube_config_free(&c);

	o.context = "nope";
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_ENOTFOUND && strstr(err.msg, "no context named 'nope'"),
	   "an unknown context is named: %s", err.msg);
	kd_kube_config_free(&c);

	snprintf(env, sizeof env, "%s", path_of("missing.yaml"));
	o.env = env;
	o.context = NULL;
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_ENOTFOUND && strstr(err.msg, "none of the files in KUBECONFIG"),
	   "KUBECONFIG without any existing file: %s", err.msg);
	kd_kube_config_free(&c);

	/* k3s.yaml before ~/.kube/config; in-cluster last */
	memset(&o, 0, sizeof o);
	o.k3s_config = path_of("first.yaml");
	o.home = dir;
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == 0 && !strcmp(c.source, path_of("first.yaml")), "k3s.yaml is used when present");
	kd_kube_config_free(&c);

	mkdir(path_of(".kube"), 0700);
	write_file(".kube/config", second);
	write_file(".kube/tok", "home-token\n");
	o.k3s_config = path_of("absent-k3s.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == 0 && !strcmp(c.context, "two"), "then ~/.kube/config (%s)", err.msg);
	kd_kube_config_free(&c);

	write_file("sa/token", "sa-token\n");
	write_file("sa/namespace", "kedge-system\n");
	o.home = path_of("nohome");
	o.service_host = "10.43.0.1";
	o.service_port = "443";
	o.sa_dir = path_of("sa");
	rc = kd_kube_config_load(&c, &o, &err);
	is_int(rc, 0, "in-cluster (%s)", err.msg);
	is_strz(c.server, "https://10.43.0.1:443", "in-cluster server");
	is_strz(kd_kube_secret_data(c.token), "sa-token", "service account token");
	is_strz(c.ca_file, path_of("sa/ca.crt"), "service account CA");
	is_strz(c.namespace, "kedge-system", "service account namespace");
	kd_kube_config_free(&c);

	o.service_host = NULL;
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_ENOTFOUND && strstr(err.msg, "--kubeconfig"),
	   "nothing found: the error says what to do: %s", err.msg);
	kd_kube_config_free(&c);

	/* what kedge refuses */
	write_file("exec.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1'}}]\n"
		   "users: [{name: u, user: {exec: {command: aws}}}]\n"
		   "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	memset(&o, 0, sizeof o);
	o.kubeconfig = path_of("exec.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_EINVAL && strstr(err.msg, "exec plugin") && strstr(err.msg, "user 'u'"),
	   "exec plugins are refused, naming the user: %s", err.msg);
	kd_kube_config_free(&c);

	write_file("both.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1', insecure-skip-tls-verify: true, certificate-authority-data: " B64_CA "}}]\n"
		   "contexts: [{name: x, context: {cluster: c}}]\n");
	o.kubeconfig = path_of("both.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_EINVAL && strstr(err.msg, "insecure-skip-tls-verify"),
	   "insecure plus a CA is refused: %s", err.msg);
	kd_kube_config_free(&c);

	write_file("insecure.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1', insecure-skip-tls-verify: true}}]\n"
		   "contexts: [{name: x, context: {cluster: c}}]\n");
	o.kubeconfig = path_of("insecure.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == 0 && c.insecure && !c.token && !c.cert_pem, "insecure-skip-tls-verify alone is honoured");
	kd_kube_config_free(&c);

	write_file("badb64.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1', certificate-authority-data: '@@@'}}]\n"
		   "contexts: [{name: x, context: {cluster: c}}]\n");
	o.kubeconfig = path_of("badb64.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_EPARSE && strstr(err.msg, "badb64.yaml: cluster 'c'") &&
		   strstr(err.msg, "not valid base64"),
	   "bad base64 names file and cluster: %s", err.msg);
	kd_kube_config_free(&c);

	write_file("notyaml.yaml", "clusters: [\n");
	o.kubeconfig = path_of("notyaml.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_EPARSE && strstr(err.msg, "notyaml.yaml:"), "broken YAML names the file: %s", err.msg);
	kd_kube_config_free(&c);

	o.kubeconfig = path_of("missing.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_ENOTFOUND && strstr(err.msg, "missing.yaml"), "a missing --kubeconfig is an error: %s", err.msg);
	kd_kube_config_free(&c);

	/* credentials: memory of their own, wiped; never in a message */
	write_file("creds.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1'}}]\n"
		   "users: [{name: u, user: {token: tok-s3cr3t-42, client-certificate-data: " B64_CERT ", client-key-data: " B64_KEY "}}]\n"
		   "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	memset(&o, 0, sizeof o);
	o.kubeconfig = path_of("creds.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	is_int(rc, 0, "a token and a client key (%s)", err.msg);
	{
		kd_kube_secret *tok = c.token;
		const char *bytes = kd_kube_secret_data(tok);
		size_t i, n = kd_kube_secret_len(tok), zero = 0;

		is_strz(bytes, "tok-s3cr3t-42", "an inline token is a secret");
		ok(n == 13 && kd_kube_secret_len(c.key_pem) == 3, "with its length");
		c.token = NULL; /* taken: the config no longer frees it */
		kd_kube_config_free(&c);
		kd_kube_secret_wipe(tok);
		for (i = 0; i <= n; i++)
			zero += bytes[i] == '\0';
		ok(zero == n + 1 && kd_kube_secret_len(tok) == 0,
		   "wiping zeroes every byte and the NUL (%zu of %zu)", zero, n + 1);
		kd_kube_secret_free(tok);
		kd_kube_secret_free(NULL);
	}
	write_file("basic.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1'}}]\n"
		   "users: [{name: u, user: {username: admin, password: pa55-s3cr3t}}]\n"
		   "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	o.kubeconfig = path_of("basic.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_EINVAL && strstr(err.msg, "basic authentication") &&
		   !strstr(err.msg, "pa55-s3cr3t"),
	   "basic auth is refused without the password: %s", err.msg);
	kd_kube_config_free(&c);
	write_file("badkey.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1'}}]\n"
		   "users: [{name: u, user: {client-certificate-data: " B64_CERT ", client-key-data: 'S0VZ!s3cr3t'}}]\n"
		   "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	o.kubeconfig = path_of("badkey.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_EPARSE && strstr(err.msg, "client-key-data") &&
		   !strstr(err.msg, "s3cr3t"),
	   "a bad client-key-data is named, not quoted: %s", err.msg);
	kd_kube_config_free(&c);
	write_file("empty.token", "\n");
	write_file("emptytok.yaml",
		   "current-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://a:1'}}]\n"
		   "users: [{name: u, user: {tokenFile: empty.token}}]\n"
		   "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	o.kubeconfig = path_of("emptytok.yaml");
	rc = kd_kube_config_load(&c, &o, &err);
	ok(rc == KD_EINVAL && strstr(err.msg, "the token file is empty") && !c.token,
	   "an empty tokenFile: %s", err.msg);
	kd_kube_config_free(&c);

	{
		FILE *f = fopen(path_of("big.yaml"), "w");

		if (f) {
			fprintf(f, "# %*s\n", (int)(4u << 20), "");
			fclose(f);
		}
		o.kubeconfig = path_of("big.yaml");
		rc = kd_kube_config_load(&c, &o, &err);
		ok(rc == KD_ELIMIT && strstr(err.msg, "larger than"),
		   "a kubeconfig past 4 MiB is refused: %s", err.msg);
		kd_kube_config_free(&c);
	}

	/* atomic writes create the folder */
	rc = kd_fs_write_atomic(path_of("state/inv.json"), "[]\n", 3, 0600, &err);
	ok(rc == 0 && access(path_of("state/inv.json"), R_OK) == 0, "write_atomic (%s)", err.msg);

	if (!getenv("KEDGE_KEEP_TMP")) {
		char cmd[600];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd))
			diag("could not remove %s", dir);
	}
	return tap_done();
}
