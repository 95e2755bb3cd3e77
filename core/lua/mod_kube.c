/* kedge.kubecore: the C half of kedge.kube (lua/kedge/kube.lua).
 *
 * load_config{kubeconfig=, context=} → {server=, ca_file=, ca_pem=,
 *   cert_file=, key_file=, cert_pem=, key_pem=, token=, insecure=,
 *   namespace=, context=, source=} or nil, err. The environment (KUBECONFIG,
 *   HOME, KUBERNETES_SERVICE_HOST/PORT) is read here; the rules are in
 *   core/kube/kube.h. (Files and clocks are kedge.os, core/lua/mod_os.c.) */
#include "lua/klua.h"

#include "kube/kube.h"

#include <lauxlib.h>
#include <stdlib.h>

static void set_str(lua_State *L, const char *field, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, field);
}

static int load_config(lua_State *L)
{
	kd_kube_config_opts o = {0};
	kd_kube_config c;
	kd_err err = KD_ERR_INIT;
	int rc;

	o.kubeconfig = kd_lua_opt_string(L, 1, "kubeconfig", NULL);
	o.context = kd_lua_opt_string(L, 1, "context", NULL);
	o.env = getenv("KUBECONFIG");
	o.home = getenv("HOME");
	o.service_host = getenv("KUBERNETES_SERVICE_HOST");
	o.service_port = getenv("KUBERNETES_SERVICE_PORT");
	rc = kd_kube_config_load(&c, &o, &err);
	if (rc) {
		kd_kube_config_free(&c);
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_createtable(L, 0, 12);
	set_str(L, "server", c.server);
	set_str(L, "ca_file", c.ca_file);
	set_str(L, "ca_pem", c.ca_pem);
	set_str(L, "cert_file", c.cert_file);
	set_str(L, "key_file", c.key_file);
	set_str(L, "cert_pem", c.cert_pem);
	set_str(L, "key_pem", c.key_pem);
	set_str(L, "token", c.token);
	set_str(L, "namespace", c.namespace);
	set_str(L, "context", c.context);
	set_str(L, "source", c.source);
	lua_pushboolean(L, c.insecure);
	lua_setfield(L, -2, "insecure");
	kd_kube_config_free(&c);
	return 1;
}

int kd_lua_open_kube(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"load_config", load_config},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
