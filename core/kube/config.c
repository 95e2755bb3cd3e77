/* Kubeconfig discovery and resolution (see kube.h for the rules). */
#include "kube/kube.h"

#include "base/limits.h"
#include "base/value.h"
#include "yaml/yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A kubeconfig, a token or a certificate is small; this bounds what a
 * wrong path (a device, a huge log) can make kedge read. */
#define CONFIG_FILE_MAX (4u << 20)
/* Files in one KUBECONFIG list. */
#define CONFIG_FILES_MAX 64

typedef struct loaded {
	const char *path; /* as found */
	const char *dir;  /* its folder, for relative names inside */
	kd_value *doc;
} loaded;

static int exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

/* Reads straight into the arena (wiped when the config is freed), so no
 * copy of a key or token is left in freed heap or on the stack. */
static int read_file(kd_arena *a, const char *path, char **out, size_t *len,
		     kd_err *err)
{
	struct stat st;
	size_t cap = 4096, n = 0;
	char *buf;
	ssize_t got;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kd_err_set(err, errno == ENOENT ? KD_ENOTFOUND : KD_EIO,
				  "%s: %s", path, strerror(errno));
	/* Room for the file, one byte to see it grew, and the NUL. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		cap = st.st_size < CONFIG_FILE_MAX ? (size_t)st.st_size + 2
						   : CONFIG_FILE_MAX + 2;
	buf = kd_arena_alloc(a, cap);
	for (;;) {
		if (!buf) {
			rc = kd_err_set(err, KD_ENOMEM, "%s: out of memory", path);
			goto cleanup;
		}
		if (n > CONFIG_FILE_MAX) {
			rc = kd_err_set(err, KD_ELIMIT, "%s: larger than %u bytes",
					path, CONFIG_FILE_MAX);
			goto cleanup;
		}
		if (n + 1 == cap) {
			size_t grown = cap > CONFIG_FILE_MAX / 2 ? CONFIG_FILE_MAX + 2
								 : cap * 2;

			buf = kd_arena_grow(a, buf, cap, grown);
			cap = grown;
			continue;
		}
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = kd_err_set(err, KD_EIO, "%s: %s", path, strerror(errno));
			goto cleanup;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
cleanup:
	close(fd);
	return rc;
}

static const char *str_at(const kd_value *map, const char *key)
{
	const kd_value *v = map && map->type == KD_MAP ? kd_map_getz(map, key) : NULL;

	return v && v->type == KD_STR ? v->u.str.ptr : NULL;
}

static int bool_at(const kd_value *map, const char *key)
{
	const kd_value *v = map && map->type == KD_MAP ? kd_map_getz(map, key) : NULL;

	return v && v->type == KD_BOOL && v->u.b;
}

static int load_one(kd_arena *a, const char *path, loaded *out, kd_err *err)
{
	char *text, *slash;
	size_t len;
	int rc;

	rc = read_file(a, path, &text, &len, err);
	if (rc)
		return rc;
	rc = kd_yaml_decode(&out->doc, a, text, len, path, NULL, err);
	if (rc)
		return rc;
	if (out->doc->type == KD_NULL)
		out->doc = kd_value_map(a, 0);
	if (!out->doc || out->doc->type != KD_MAP)
		return kd_err_set(err, KD_EPARSE, "%s: a kubeconfig must be a mapping",
				  path);
	out->path = path;
	out->dir = kd_arena_strdup(a, path);
	if (!out->dir)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	slash = strrchr((char *)out->dir, '/');
	if (slash)
		*slash = '\0';
	else
		out->dir = ".";
	return 0;
}

/* The entry named name in the list at key of the first file that has one
 * (kubectl's merge: first definition wins); *from tells which file. */
static const kd_value *find_named(const loaded *files, size_t n,
				  const char *key, const char *inner,
				  const char *name, const loaded **from)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const kd_value *list = kd_map_getz(files[i].doc, key);

		if (!list || list->type != KD_LIST)
			continue;
		for (j = 0; j < list->u.list.len; j++) {
			const kd_value *e = list->u.list.items[j];
			const char *nm = str_at(e, "name");

			if (nm && !strcmp(nm, name)) {
				*from = &files[i];
				return kd_map_getz(e, inner);
			}
		}
	}
	return NULL;
}

static const char *resolve_path(kd_arena *a, const loaded *from,
				const char *p)
{
	size_t n;
	char *s;

	if (!p || !*p || p[0] == '/')
		return p;
	n = strlen(from->dir) + strlen(p) + 2;
	s = kd_arena_alloc(a, n);
	if (s)
		snprintf(s, n, "%s/%s", from->dir, p);
	return s;
}

static int b64(kd_arena *a, const char *text, const char *what,
	       const char *where, const char **out, kd_err *err)
{
	size_t n = 0, len = strlen(text);
	unsigned char *buf;

	mbedtls_base64_decode(NULL, 0, &n, (const unsigned char *)text, len);
	buf = kd_arena_alloc(a, n + 1);
	if (!buf)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	if (mbedtls_base64_decode(buf, n + 1, &n, (const unsigned char *)text,
				  len))
		return kd_err_set(err, KD_EPARSE, "%s: %s is not valid base64",
				  where, what);
	buf[n] = '\0';
	*out = (const char *)buf;
	return 0;
}

/* A credential from the config's text into a secret of its own. */
static int take_secret(const char *text, size_t len, kd_kube_secret **out,
		       kd_err *err)
{
	kd_kube_secret_free(*out);
	*out = NULL;
	return kd_kube_secret_new(out, text, len, err);
}

/* token files end with a newline more often than not */
static int read_token(kd_arena *a, const char *path, kd_kube_secret **out,
		      kd_err *err)
{
	char *t;
	size_t len;
	int rc = read_file(a, path, &t, &len, err);

	if (rc)
		return rc;
	while (len && (t[len - 1] == '\n' || t[len - 1] == '\r' ||
		       t[len - 1] == ' '))
		t[--len] = '\0';
	if (!len)
		return kd_err_set(err, KD_EINVAL, "%s: the token file is empty", path);
	return take_secret(t, len, out, err);
}

static int from_files(kd_kube_config *c, const loaded *files, size_t n,
		      const char *source, const char *ctx_override,
		      kd_err *err)
{
	kd_arena *a = &c->arena;
	const kd_value *ctx, *cl, *user;
	const loaded *cf = NULL, *clf = NULL, *uf = NULL;
	const char *name = ctx_override, *cluster, *uname, *s;
	char where[512];
	size_t i;
	int rc;

	c->source = source;
	for (i = 0; !name && i < n; i++) {
		s = str_at(files[i].doc, "current-context");
		if (s && *s)
			name = s;
	}
	if (!name)
		return kd_err_set(err, KD_ENOTFOUND,
				  "%s: no current-context set (pass --context NAME)",
				  source);
	ctx = find_named(files, n, "contexts", "context", name, &cf);
	if (!ctx || ctx->type != KD_MAP)
		return kd_err_set(err, KD_ENOTFOUND, "%s: no context named '%s'",
				  source, name);
	c->context = name;
	cluster = str_at(ctx, "cluster");
	uname = str_at(ctx, "user");
	s = str_at(ctx, "namespace");
	c->namespace = s && *s ? s : "default";
	if (!cluster)
		return kd_err_set(err, KD_EINVAL, "%s: context '%s' names no cluster",
				  cf->path, name);
	cl = find_named(files, n, "clusters", "cluster", cluster, &clf);
	if (!cl || cl->type != KD_MAP)
		return kd_err_set(err, KD_ENOTFOUND,
				  "%s: context '%s' names cluster '%s', which is not defined",
				  cf->path, name, cluster);
	snprintf(where, sizeof where, "%s: cluster '%s'", clf->path, cluster);
	c->server = str_at(cl, "server");
	if (!c->server || !*c->server)
		return kd_err_set(err, KD_EINVAL, "%s has no server", where);
	c->insecure = bool_at(cl, "insecure-skip-tls-verify");
	c->ca_file = resolve_path(a, clf, str_at(cl, "certificate-authority"));
	if ((s = str_at(cl, "certificate-authority-data")) &&
	    (rc = b64(a, s, "certificate-authority-data", where, &c->ca_pem, err)))
		return rc;
	if (c->insecure && (c->ca_file || c->ca_pem))
		return kd_err_set(err, KD_EINVAL,
				  "%s sets both insecure-skip-tls-verify and a certificate authority; keep one",
				  where);
	if (!uname)
		return 0;
	user = find_named(files, n, "users", "user", uname, &uf);
	if (!user)
		return kd_err_set(err, KD_ENOTFOUND,
				  "%s: context '%s' names user '%s', which is not defined",
				  cf->path, name, uname);
	if (user->type != KD_MAP)
		return 0;
	snprintf(where, sizeof where, "%s: user '%s'", uf->path, uname);
	if (kd_map_getz(user, "exec") || kd_map_getz(user, "auth-provider"))
		return kd_err_set(err, KD_EINVAL,
				  "%s uses an exec plugin or auth provider, which kedge does not run; use a client certificate or a token",
				  where);
	if (str_at(user, "username") || str_at(user, "password"))
		return kd_err_set(err, KD_EINVAL,
				  "%s uses basic authentication, which kedge does not support; use a client certificate or a token",
				  where);
	c->cert_file = resolve_path(a, uf, str_at(user, "client-certificate"));
	c->key_file = resolve_path(a, uf, str_at(user, "client-key"));
	if ((s = str_at(user, "client-certificate-data")) &&
	    (rc = b64(a, s, "client-certificate-data", where, &c->cert_pem, err)))
		return rc;
	if ((s = str_at(user, "client-key-data"))) {
		const char *pem;

		if ((rc = b64(a, s, "client-key-data", where, &pem, err)) ||
		    (rc = take_secret(pem, strlen(pem), &c->key_pem, err)))
			return rc;
	}
	if (!(c->cert_file || c->cert_pem) != !(c->key_file || c->key_pem))
		return kd_err_set(err, KD_EINVAL,
				  "%s has a client certificate without its key or a key without its certificate",
				  where);
	if ((s = str_at(user, "token")))
		return take_secret(s, strlen(s), &c->token, err);
	if ((s = str_at(user, "tokenFile"))) {
		rc = read_token(a, resolve_path(a, uf, s), &c->token, err);
		if (rc)
			kd_err_prefix(err, "%s: tokenFile", where);
		return rc;
	}
	return 0;
}

static int in_cluster(kd_kube_config *c, const kd_kube_config_opts *o,
		      kd_err *err)
{
	kd_arena *a = &c->arena;
	const char *dir = o->sa_dir ? o->sa_dir : KD_KUBE_SA_DIR;
	char path[4096], *ns;
	size_t n, len;
	int rc, v6 = strchr(o->service_host, ':') != NULL;

	n = strlen(o->service_host) + strlen(o->service_port) + 16;
	c->server = kd_arena_alloc(a, n);
	if (!c->server)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	snprintf((char *)c->server, n, v6 ? "https://[%s]:%s" : "https://%s:%s",
		 o->service_host, o->service_port);
	snprintf(path, sizeof path, "%s/token", dir);
	rc = read_token(a, path, &c->token, err);
	if (rc) {
		kd_err_prefix(err, "in-cluster service account");
		return rc;
	}
	snprintf(path, sizeof path, "%s/ca.crt", dir);
	c->ca_file = kd_arena_strdup(a, path);
	snprintf(path, sizeof path, "%s/namespace", dir);
	c->namespace = "default";
	if (exists(path) && read_file(a, path, &ns, &len, NULL) == 0) {
		while (len && (ns[len - 1] == '\n' || ns[len - 1] == ' '))
			ns[--len] = '\0';
		if (len)
			c->namespace = ns;
	}
	c->context = "";
	c->source = "in-cluster";
	return 0;
}

int kd_kube_config_load(kd_kube_config *out, const kd_kube_config_opts *opts,
			kd_err *err)
{
	kd_kube_config_opts none = {0};
	const kd_kube_config_opts *o = opts ? opts : &none;
	loaded files[CONFIG_FILES_MAX];
	kd_arena *a = &out->arena;
	const char *single = NULL, *k3s;
	char *list, *p, *save = NULL, *home_cfg = NULL;
	size_t n = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	kd_arena_init(a, 16u << 20);
	k3s = o->k3s_config ? o->k3s_config : KD_KUBE_K3S_CONFIG;
	if (o->home && *o->home) {
		size_t len = strlen(o->home) + 16;

		home_cfg = kd_arena_alloc(a, len);
		if (!home_cfg)
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		snprintf(home_cfg, len, "%s/.kube/config", o->home);
	}
	if (o->kubeconfig && *o->kubeconfig) {
		single = o->kubeconfig;
	} else if (o->env && *o->env) {
		list = kd_arena_strdup(a, o->env);
		if (!list)
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		for (p = strtok_r(list, ":", &save); p;
		     p = strtok_r(NULL, ":", &save)) {
			if (!exists(p))
				continue;
			if (n == CONFIG_FILES_MAX)
				return kd_err_set(err, KD_ELIMIT,
						  "KUBECONFIG lists more than %d files",
						  CONFIG_FILES_MAX);
			rc = load_one(a, p, &files[n], err);
			if (rc)
				return rc;
			n++;
		}
		if (!n)
			return kd_err_set(err, KD_ENOTFOUND,
					  "none of the files in KUBECONFIG (%s) exists",
					  o->env);
		return from_files(out, files, n, o->env, o->context, err);
	} else if (exists(k3s)) {
		single = k3s;
	} else if (home_cfg && exists(home_cfg)) {
		single = home_cfg;
	} else if (o->service_host && *o->service_host && o->service_port &&
		   *o->service_port) {
		return in_cluster(out, o, err);
	} else {
		return kd_err_set(err, KD_ENOTFOUND,
				  "no kubeconfig found: pass --kubeconfig FILE or set KUBECONFIG "
				  "(looked for %s, %s and an in-cluster service account)",
				  k3s, home_cfg ? home_cfg : "~/.kube/config");
	}
	rc = load_one(a, single, &files[0], err);
	if (rc)
		return rc;
	return from_files(out, files, 1, single, o->context, err);
}

void kd_kube_config_free(kd_kube_config *c)
{
	if (!c)
		return;
	kd_kube_secret_free(c->key_pem);
	kd_kube_secret_free(c->token);
	kd_arena_wipe_free(&c->arena);
	memset(c, 0, sizeof *c);
}
