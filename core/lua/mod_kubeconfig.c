/* kedge.kubeconfig: where the API server is and the credentials to reach
 * it (core/kube/kube.h has the search order and the rules).
 *
 * kubeconfig.load{kubeconfig=, context=} → {server=, ca_file=, ca_pem=,
 *   cert_file=, key_file=, cert_pem=, key_pem=, token=, insecure=,
 *   namespace=, context=, source=} or nil, err. The environment
 *   (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT) is read here.
 *
 * key_pem and token are kedge.Secret userdata, not strings: the bytes stay
 * in C memory that is wiped on s:close() (also __close / __gc), and only C
 * reads them (kedge.http's client options key_pem= and token=, through
 * kd_lua_opt_secret). tostring(s) and string.format("%s", s) give
 * "<secret>"; concatenation raises an error that does not hold the value;
 * kedge.log and kedge.json refuse a userdata. */
#include "lua/klua.h"

#include "kube/kube.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MT "kedge.Secret"
#define CONFIG_MT "kedge.KubeConfig"

typedef struct lsecret {
	kd_kube_secret *s;
} lsecret;

static int secret_gc(lua_State *L)
{
	lsecret *ls = luaL_checkudata(L, 1, SECRET_MT);

	kd_kube_secret_free(ls->s);
	ls->s = NULL;
	return 0;
}

static int secret_tostring(lua_State *L)
{
	luaL_checkudata(L, 1, SECRET_MT);
	lua_pushliteral(L, "<secret>");
	return 1;
}

static int secret_concat(lua_State *L)
{
	return luaL_error(L, "a secret cannot be concatenated or turned into text "
			  "(hand it to kedge.http as it is)");
}

/* Moves *s into a new userdata (also on a Lua error: the userdata owns it
 * from the start). */
static void push_secret(lua_State *L, kd_kube_secret **s)
{
	lsecret *ls = lua_newuserdatauv(L, sizeof *ls, 0);

	ls->s = *s;
	*s = NULL;
	luaL_setmetatable(L, SECRET_MT);
}

const char *kd_lua_opt_secret(lua_State *L, int idx, const char *field)
{
	const char *bytes = NULL;
	lsecret *ls;
	int t;

	if (lua_isnoneornil(L, idx))
		return NULL;
	t = lua_getfield(L, idx, field);
	if (t == LUA_TSTRING) {
		bytes = lua_tostring(L, -1);
	} else if (t != LUA_TNIL) {
		ls = luaL_testudata(L, -1, SECRET_MT);
		if (!ls)
			luaL_error(L, "option '%s' must be a secret or a string, not a %s",
				   field, luaL_typename(L, -1));
		if (!ls->s)
			luaL_error(L, "option '%s': the secret is closed", field);
		bytes = kd_kube_secret_data(ls->s);
	}
	/* The options table keeps the value alive. */
	lua_pop(L, 1);
	return bytes;
}

static void set_str(lua_State *L, const char *field, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, field);
}

static void set_secret(lua_State *L, const char *field, kd_kube_secret **s)
{
	if (!*s)
		return;
	push_secret(L, s);
	lua_setfield(L, -2, field);
}

static int load(lua_State *L)
{
	kd_kube_config_opts o = {0};
	kd_kube_config *c;
	kd_err err = KD_ERR_INIT;
	int rc;

	o.kubeconfig = kd_lua_opt_string(L, 1, "kubeconfig", NULL);
	o.context = kd_lua_opt_string(L, 1, "context", NULL);
	o.env = getenv("KUBECONFIG");
	o.home = getenv("HOME");
	o.service_host = getenv("KUBERNETES_SERVICE_HOST");
	o.service_port = getenv("KUBERNETES_SERVICE_PORT");
	/* A userdata, so that a Lua error below cannot leak the config. */
	c = lua_newuserdatauv(L, sizeof *c, 0);
	memset(c, 0, sizeof *c);
	luaL_setmetatable(L, CONFIG_MT);
	rc = kd_kube_config_load(c, &o, &err);
	if (rc) {
		kd_kube_config_free(c);
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_createtable(L, 0, 12);
	set_str(L, "server", c->server);
	set_str(L, "ca_file", c->ca_file);
	set_str(L, "ca_pem", c->ca_pem);
	set_str(L, "cert_file", c->cert_file);
	set_str(L, "key_file", c->key_file);
	set_str(L, "cert_pem", c->cert_pem);
	set_secret(L, "key_pem", &c->key_pem);
	set_secret(L, "token", &c->token);
	set_str(L, "namespace", c->namespace);
	set_str(L, "context", c->context);
	set_str(L, "source", c->source);
	lua_pushboolean(L, c->insecure);
	lua_setfield(L, -2, "insecure");
	kd_kube_config_free(c);
	return 1;
}

static int config_gc(lua_State *L)
{
	kd_kube_config_free(luaL_checkudata(L, 1, CONFIG_MT));
	return 0;
}

int kd_lua_open_kubeconfig(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"load", load},
		{NULL, NULL},
	};
	static const luaL_Reg methods[] = {
		{"close", secret_gc},
		{NULL, NULL},
	};

	if (luaL_newmetatable(L, SECRET_MT)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, secret_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, secret_gc);
		lua_setfield(L, -2, "__close");
		lua_pushcfunction(L, secret_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushcfunction(L, secret_concat);
		lua_setfield(L, -2, "__concat");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, CONFIG_MT)) {
		lua_pushcfunction(L, config_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
