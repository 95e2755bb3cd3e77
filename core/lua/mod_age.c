/* kedge.age: age encryption for Lua (core/age).
 *
 *   age.encrypt(plaintext, {recipient, ...} [, {armor = bool}]) -> bytes or nil, err
 *   age.decrypt(bytes, identities_text) -> plaintext or nil, err
 *   age.keygen() -> identity_line, recipient
 *   age.recipient_of(identities_text) -> {recipient, ...} or nil, err
 *   age.inspect(bytes) -> {armored=, stanzas={{type=, args={...}}, ...}} or nil, err
 *   age.has_recipient(bytes, recipient) -> true | false | nil ("cannot tell": an
 *     X25519 file made by another tool, without kedge-hint stanzas), or raises
 *     nothing: a bad file or recipient is nil, err as well
 *
 * Identity texts are parsed for each call and wiped afterwards; the Lua
 * strings holding them are the caller's. */
#include "lua/klua.h"

#include "age/age.h"
#include "base/limits.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

static int age_encrypt(lua_State *L)
{
	size_t len, n, i;
	const char *plain = luaL_checklstring(L, 1, &len);
	kd_buf out = KD_BUF_INIT(2 * (size_t)KD_LIMIT_AGE_FILE_BYTES);
	kd_err err = KD_ERR_INIT;
	kd_age_key *rs;
	int armor = 0, rc = 0;

	luaL_checktype(L, 2, LUA_TTABLE);
	if (lua_istable(L, 3)) {
		lua_getfield(L, 3, "armor");
		armor = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	n = lua_rawlen(L, 2);
	if (n == 0 || n > KD_LIMIT_AGE_STANZAS / 2)
		return luaL_argerror(L, 2, "one to 128 recipients");
	rs = lua_newuserdatauv(L, n * sizeof *rs, 0);
	for (i = 0; i < n && !rc; i++) {
		lua_rawgeti(L, 2, (lua_Integer)i + 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_argerror(L, 2, "recipients are strings");
		rc = kd_age_parse_recipient(lua_tostring(L, -1), &rs[i], &err);
		lua_pop(L, 1);
	}
	if (!rc)
		rc = kd_age_encrypt(rs, n, plain, len, armor, &out, &err);
	return kd_lua_return_buf(L, rc, &out, &err);
}

static int age_decrypt(lua_State *L)
{
	size_t len, idlen, n = 0;
	const char *in = luaL_checklstring(L, 1, &len);
	const char *ids = luaL_checklstring(L, 2, &idlen);
	kd_buf out = KD_BUF_INIT(KD_LIMIT_AGE_FILE_BYTES);
	kd_err err = KD_ERR_INIT;
	kd_age_key *keys = NULL;
	int rc = kd_age_parse_identities(ids, idlen, &keys, &n, &err);

	if (!rc)
		rc = kd_age_decrypt(keys, n, in, len, &out, &err);
	kd_age_keys_free(keys, KD_LIMIT_AGE_IDENTITIES);
	if (rc)
		return kd_lua_fail(L, &err);
	lua_pushlstring(L, out.ptr, out.len);
	memset(out.ptr, 0, out.len);
	kd_buf_free(&out);
	return 1;
}

static int age_keygen(lua_State *L)
{
	kd_buf id = KD_BUF_INIT(256), r = KD_BUF_INIT(256);
	kd_err err = KD_ERR_INIT;
	int rc = kd_age_keygen(&id, &r, &err);

	if (!rc) {
		lua_pushlstring(L, id.ptr, id.len);
		lua_pushlstring(L, r.ptr, r.len);
	}
	memset(id.ptr, 0, id.len);
	kd_buf_free(&id);
	kd_buf_free(&r);
	return rc ? kd_lua_fail(L, &err) : 2;
}

static int age_recipient_of(lua_State *L)
{
	size_t idlen, n = 0, i;
	const char *ids = luaL_checklstring(L, 1, &idlen);
	kd_err err = KD_ERR_INIT;
	kd_age_key *keys = NULL;
	int rc = kd_age_parse_identities(ids, idlen, &keys, &n, &err);

	if (rc)
		return kd_lua_fail(L, &err);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n && !rc; i++) {
		kd_buf s = KD_BUF_INIT(512);

		rc = kd_age_recipient_string(&keys[i], &s, &err);
		lua_pushlstring(L, s.ptr, s.len);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
		kd_buf_free(&s);
	}
	kd_age_keys_free(keys, KD_LIMIT_AGE_IDENTITIES);
	return rc ? kd_lua_fail(L, &err) : 1;
}

static int age_inspect(lua_State *L)
{
	size_t len, n = 0, i;
	const char *in = luaL_checklstring(L, 1, &len);
	kd_age_stanza_info *st = lua_newuserdatauv(L, KD_LIMIT_AGE_STANZAS * sizeof *st, 0);
	kd_err err = KD_ERR_INIT;
	int armored = 0, a;

	if (kd_age_inspect(in, len, &armored, st, KD_LIMIT_AGE_STANZAS, &n, &err))
		return kd_lua_fail(L, &err);
	lua_createtable(L, 0, 2);
	lua_pushboolean(L, armored);
	lua_setfield(L, -2, "armored");
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, st[i].type);
		lua_setfield(L, -2, "type");
		lua_createtable(L, st[i].nargs, 0);
		for (a = 0; a < st[i].nargs && a < 3; a++) {
			lua_pushstring(L, st[i].args[a]);
			lua_rawseti(L, -2, a + 1);
		}
		lua_setfield(L, -2, "args");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	kd_lua_set_list(L, -1);
	lua_setfield(L, -2, "stanzas");
	return 1;
}

static int age_has_recipient(lua_State *L)
{
	size_t len;
	const char *in = luaL_checklstring(L, 1, &len);
	kd_age_key r;
	kd_err err = KD_ERR_INIT;
	int rc = kd_age_parse_recipient(luaL_checkstring(L, 2), &r, &err);

	if (!rc)
		rc = kd_age_has_recipient(in, len, &r, &err);
	if (rc < 0)
		return kd_lua_fail(L, &err);
	if (rc == 2) {
		lua_pushnil(L);
		lua_pushliteral(L, "cannot tell: the file has no kedge-hint stanzas");
		return 2;
	}
	lua_pushboolean(L, rc == 1);
	return 1;
}

int kd_lua_open_age(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"encrypt", age_encrypt},
		{"decrypt", age_decrypt},
		{"keygen", age_keygen},
		{"recipient_of", age_recipient_of},
		{"inspect", age_inspect},
		{"has_recipient", age_has_recipient},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
