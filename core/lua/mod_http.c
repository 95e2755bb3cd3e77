/* kedge.http: the HTTP/1.1 client (core/net) for Lua.
 *
 * http.request{method=, url=, headers=, body=, timeout=, deadline=,
 *              max_body=, attempts=, idempotent=, and the client's
 *              options: ca_file=, ca_pem=, cert_file=, key_file=,
 *              cert_pem=, key_pem=, token=, insecure=}
 * http.get(url [, opts])
 *   → {status=, headers={lowercased name → value}, body=}
 *   or nil, message on network, TLS and HTTP failures. Wrong argument
 *   types raise. Each call uses a fresh client (no reuse).
 * http.client{TLS options, deadline=} → a client that keeps one
 *   connection alive between requests: c:request(opts), c:get(url [,
 *   opts]), c:stats(), c:close() (also __close / __gc).
 *
 * key_pem (a client key) and token (sent as "Authorization: Bearer" unless
 * a request sets that header) are strings or kedge.Secret values from
 * kedge.kubeconfig, read in C and never turned into Lua strings.
 *
 * Times are seconds (fractions allowed): timeout per attempt, deadline for
 * all attempts from now. Repeated response headers are joined with ", ". */
#include "lua/klua.h"

#include "base/limits.h"
#include "net/net.h"

#include <lauxlib.h>
#include <string.h>

#define CLIENT_MT "kedge.HttpClient"
#define RESPONSE_MT "kedge.HttpResponse"

typedef struct lclient {
	kd_net_client *c;
} lclient;

static int client_gc(lua_State *L)
{
	lclient *lc = luaL_checkudata(L, 1, CLIENT_MT);

	kd_net_client_free(lc->c);
	lc->c = NULL;
	return 0;
}

static int response_gc(lua_State *L)
{
	kd_net_response *r = luaL_checkudata(L, 1, RESPONSE_MT);

	kd_net_response_free(r);
	return 0;
}

static double opt_seconds(lua_State *L, int idx, const char *field)
{
	double d;

	if (!kd_lua_opt_number(L, idx, field, &d))
		return 0;
	if (!(d > 0 && d <= 86400))
		luaL_error(L, "option '%s' must be more than 0 and at most 86400 seconds",
			   field);
	return d;
}

/* The TLS options of a client (or a one-shot request) at idx. */
static void read_client_opts(lua_State *L, int idx, kd_net_client_opts *o)
{
	memset(o, 0, sizeof *o);
	o->ca_file = kd_lua_opt_string(L, idx, "ca_file", NULL);
	o->ca_pem = kd_lua_opt_string(L, idx, "ca_pem", NULL);
	o->cert_file = kd_lua_opt_string(L, idx, "cert_file", NULL);
	o->key_file = kd_lua_opt_string(L, idx, "key_file", NULL);
	o->cert_pem = kd_lua_opt_string(L, idx, "cert_pem", NULL);
	o->key_pem = kd_lua_opt_secret(L, idx, "key_pem");
	o->token = kd_lua_opt_secret(L, idx, "token");
	o->insecure = kd_lua_opt_bool(L, idx, "insecure", 0);
}

/* Pushes a closed client userdata, then opens it; nil, err on failure
 * (the userdata stays on the stack either way). */
static lclient *push_client(lua_State *L, const kd_net_client_opts *o,
			    kd_err *err)
{
	lclient *lc = lua_newuserdatauv(L, sizeof *lc, 0);

	lc->c = NULL;
	luaL_setmetatable(L, CLIENT_MT);
	if (kd_net_client_new(&lc->c, o, err))
		return NULL;
	return lc;
}

typedef struct req_args {
	kd_net_request req;
	char method[32];
} req_args;

/* Reads the request options at idx (a table); url may come from
 * url_idx instead (for get). Raises on wrong types. */
static void read_request(lua_State *L, int idx, int url_idx, req_args *a)
{
	lua_Integer n;
	const char *s;
	double d;
	size_t len, i;

	memset(a, 0, sizeof *a);
	if (url_idx) {
		a->req.url = luaL_checkstring(L, url_idx);
	} else {
		luaL_checktype(L, idx, LUA_TTABLE);
		a->req.url = kd_lua_opt_string(L, idx, "url", NULL);
		if (!a->req.url)
			luaL_error(L, "option 'url' is required");
	}
	s = kd_lua_opt_string(L, idx, "method", url_idx ? "GET" : "GET");
	if (strlen(s) >= sizeof a->method)
		luaL_error(L, "option 'method' is too long");
	for (i = 0; s[i]; i++)
		a->method[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	a->req.method = a->method;
	d = opt_seconds(L, idx, "timeout");
	a->req.timeout_ms = d > 0 ? (int)(d * 1000 + 0.5) : 0;
	if (d > 0 && a->req.timeout_ms == 0)
		a->req.timeout_ms = 1;
	d = opt_seconds(L, idx, "deadline");
	if (d > 0)
		a->req.deadline_ms = kd_net_now_ms() + (int64_t)(d * 1000 + 0.5);
	n = kd_lua_opt_integer(L, idx, "max_body", 0);
	if (n < 0 || (lua_Unsigned)n > KD_LIMIT_HTTP_BODY_MAX)
		luaL_error(L, "option 'max_body' must be between 0 and %d bytes",
			   (int)KD_LIMIT_HTTP_BODY_MAX);
	a->req.max_body = (size_t)n;
	n = kd_lua_opt_integer(L, idx, "attempts", 0);
	if (n < 0 || n > KD_LIMIT_HTTP_ATTEMPTS)
		luaL_error(L, "option 'attempts' must be between 1 and %d",
			   KD_LIMIT_HTTP_ATTEMPTS);
	a->req.max_attempts = (int)n;
	a->req.idempotent = kd_lua_opt_bool(L, idx, "idempotent", 0);

	if (!lua_isnoneornil(L, idx)) {
		if (lua_getfield(L, idx, "body") != LUA_TNIL) {
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "option 'body' must be a string, not a %s",
					   luaL_typename(L, -1));
			/* The options table keeps the string alive. */
			a->req.body = lua_tolstring(L, -1, &len);
			a->req.body_len = len;
		}
		lua_pop(L, 1);
		if (lua_getfield(L, idx, "headers") != LUA_TNIL) {
			kd_net_field *f;
			int t = lua_gettop(L);

			if (lua_type(L, t) != LUA_TTABLE)
				luaL_error(L, "option 'headers' must be a table, not a %s",
					   luaL_typename(L, t));
			n = 0;
			lua_pushnil(L);
			while (lua_next(L, t)) {
				n++;
				lua_pop(L, 1);
			}
			if (n > KD_LIMIT_HTTP_HEADERS)
				luaL_error(L, "more than %d request headers",
					   KD_LIMIT_HTTP_HEADERS);
			/* Left on the stack: the GC owns the array. */
			f = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *f, 0);
			i = 0;
			lua_pushnil(L);
			while (lua_next(L, t)) {
				size_t nl, vl;
				const char *hn, *hv;

				if (lua_type(L, -2) != LUA_TSTRING ||
				    lua_type(L, -1) != LUA_TSTRING)
					luaL_error(L, "option 'headers' must map strings to strings");
				hn = lua_tolstring(L, -2, &nl);
				hv = lua_tolstring(L, -1, &vl);
				if (strlen(hn) != nl || strlen(hv) != vl)
					luaL_error(L, "header '%s' holds a NUL byte", hn);
				f[i].name = hn;
				f[i].value = hv;
				i++;
				lua_pop(L, 1);
			}
			a->req.headers = f;
			a->req.nheaders = i;
			/* Keep the array referenced below the table. */
			lua_insert(L, t);
		} else {
			lua_pop(L, 1);
		}
	}
}

static void push_response(lua_State *L, const kd_net_response *r)
{
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, r->status);
	lua_setfield(L, -2, "status");
	lua_createtable(L, 0, (int)r->nheaders);
	for (size_t i = 0; i < r->nheaders; i++) {
		if (lua_getfield(L, -1, r->headers[i].name) == LUA_TSTRING) {
			lua_pushliteral(L, ", ");
			lua_pushstring(L, r->headers[i].value);
			lua_concat(L, 3);
		} else {
			lua_pop(L, 1);
			lua_pushstring(L, r->headers[i].value);
		}
		lua_setfield(L, -2, r->headers[i].name);
	}
	lua_setfield(L, -2, "headers");
	lua_pushlstring(L, r->body.ptr, r->body.len);
	lua_setfield(L, -2, "body");
}

/* Runs the request on lc and pushes the result (1 or 2 values). */
static int run(lua_State *L, lclient *lc, const req_args *a)
{
	kd_net_response *r = lua_newuserdatauv(L, sizeof *r, 0);
	kd_err err = KD_ERR_INIT;
	int rc;

	kd_net_response_init(r);
	luaL_setmetatable(L, RESPONSE_MT);
	rc = kd_net_request_run(lc->c, &a->req, r, &err);
	if (rc) {
		kd_net_response_free(r);
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	push_response(L, r);
	kd_net_response_free(r);
	return 1;
}

/* The module-level calls: a client of their own, closed after. */
static int oneshot(lua_State *L, int opts_idx, int url_idx)
{
	kd_net_client_opts o;
	kd_err err = KD_ERR_INIT;
	req_args a;
	lclient *lc;
	int nres;

	read_client_opts(L, opts_idx, &o);
	read_request(L, opts_idx, url_idx, &a);
	lc = push_client(L, &o, &err);
	if (!lc) {
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	nres = run(L, lc, &a);
	kd_net_client_free(lc->c);
	lc->c = NULL;
	return nres;
}

static int http_request(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	return oneshot(L, 1, 0);
}

static int http_get(lua_State *L)
{
	luaL_checkstring(L, 1);
	lua_settop(L, 2);
	return oneshot(L, 2, 1);
}

static lclient *check_open(lua_State *L)
{
	lclient *lc = luaL_checkudata(L, 1, CLIENT_MT);

	if (!lc->c)
		luaL_error(L, "the HTTP client is closed");
	return lc;
}

static void refuse_client_opts(lua_State *L, int idx)
{
	static const char *const tls[] = {"ca_file", "ca_pem", "cert_file",
		"key_file", "cert_pem", "key_pem", "token", "insecure", NULL};

	if (lua_type(L, idx) != LUA_TTABLE)
		return;
	for (int i = 0; tls[i]; i++) {
		if (lua_getfield(L, idx, tls[i]) != LUA_TNIL)
			luaL_error(L, "'%s' is an option of http.client, not of its requests",
				   tls[i]);
		lua_pop(L, 1);
	}
}

static int client_request(lua_State *L)
{
	lclient *lc = check_open(L);
	req_args a;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	refuse_client_opts(L, 2);
	read_request(L, 2, 0, &a);
	return run(L, lc, &a);
}

static int client_get(lua_State *L)
{
	lclient *lc = check_open(L);
	req_args a;

	luaL_checkstring(L, 2);
	lua_settop(L, 3);
	refuse_client_opts(L, 3);
	read_request(L, 3, 2, &a);
	return run(L, lc, &a);
}

static int client_stats(lua_State *L)
{
	lclient *lc = check_open(L);
	kd_net_stats s;

	kd_net_client_stats(lc->c, &s);
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, (lua_Integer)s.connections);
	lua_setfield(L, -2, "connections");
	lua_pushinteger(L, (lua_Integer)s.requests);
	lua_setfield(L, -2, "requests");
	lua_pushinteger(L, (lua_Integer)s.reused);
	lua_setfield(L, -2, "reused");
	lua_pushinteger(L, (lua_Integer)s.retries);
	lua_setfield(L, -2, "retries");
	return 1;
}

static int http_client(lua_State *L)
{
	double deadline = opt_seconds(L, 1, "deadline");
	kd_err err = KD_ERR_INIT;
	kd_net_client_opts o;
	lclient *lc;

	read_client_opts(L, 1, &o);
	lc = push_client(L, &o, &err);

	if (!lc) {
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	if (deadline > 0)
		kd_net_client_set_deadline(lc->c, kd_net_now_ms() +
					   (int64_t)(deadline * 1000 + 0.5));
	return 1;
}

int kd_lua_open_http(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"request", http_request},
		{"get", http_get},
		{"client", http_client},
		{NULL, NULL},
	};
	static const luaL_Reg methods[] = {
		{"request", client_request},
		{"get", client_get},
		{"stats", client_stats},
		{"close", client_gc},
		{NULL, NULL},
	};

	if (luaL_newmetatable(L, CLIENT_MT)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, client_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, client_gc);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, RESPONSE_MT)) {
		lua_pushcfunction(L, response_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
