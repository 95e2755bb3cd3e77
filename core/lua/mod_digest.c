/* kedge.digest: the checksums and encodings that fetching charts and
 * images needs: content digests (sha256) and registry credentials
 * (base64, as auth.json stores "user:password").
 *
 *   digest.sha256(bytes) -> 64 lowercase hex digits
 *   digest.sha256_file(path) -> hex, size or nil, err: a file read in
 *     pieces (kedge's packs), never whole into memory
 *   digest.base64_encode(bytes) -> text (standard alphabet, padded)
 *   digest.base64_decode(text) -> bytes | nil, err
 *   digest.sha256_new() -> h: h:update(bytes) -> h, h:hex() -> the 64
 *     hex digits of all bytes given (the hash ends there: update after hex
 *     raises). For blobs too large to hold, hashed as they stream by. */
#include "lua/klua.h"

#include <lauxlib.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int digest_sha256(lua_State *L)
{
	static const char hex[] = "0123456789abcdef";
	size_t len, i;
	const char *data = luaL_checklstring(L, 1, &len);
	unsigned char sum[32];
	char out[64];

	mbedtls_sha256_ret((const unsigned char *)data, len, sum, 0);
	for (i = 0; i < sizeof sum; i++) {
		out[2 * i] = hex[sum[i] >> 4];
		out[2 * i + 1] = hex[sum[i] & 15];
	}
	lua_pushlstring(L, out, sizeof out);
	return 1;
}

#define HASHER_MT "kedge.Sha256"

typedef struct hasher {
	mbedtls_sha256_context ctx;
	int done;
} hasher;

static int digest_sha256_new(lua_State *L)
{
	hasher *h = lua_newuserdatauv(L, sizeof *h, 0);

	mbedtls_sha256_init(&h->ctx);
	h->done = 1;
	luaL_setmetatable(L, HASHER_MT);
	mbedtls_sha256_starts_ret(&h->ctx, 0);
	h->done = 0;
	return 1;
}

static hasher *check_open_hasher(lua_State *L)
{
	hasher *h = luaL_checkudata(L, 1, HASHER_MT);

	if (h->done)
		luaL_error(L, "this sha256 is finished (hex was called)");
	return h;
}

static int hasher_update(lua_State *L)
{
	hasher *h = check_open_hasher(L);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);

	mbedtls_sha256_update_ret(&h->ctx, (const unsigned char *)data, len);
	lua_settop(L, 1);
	return 1;
}

static int hasher_hex(lua_State *L)
{
	static const char hex[] = "0123456789abcdef";
	hasher *h = check_open_hasher(L);
	unsigned char sum[32];
	char out[64];

	mbedtls_sha256_finish_ret(&h->ctx, sum);
	h->done = 1;
	for (size_t i = 0; i < sizeof sum; i++) {
		out[2 * i] = hex[sum[i] >> 4];
		out[2 * i + 1] = hex[sum[i] & 15];
	}
	lua_pushlstring(L, out, sizeof out);
	return 1;
}

static int hasher_gc(lua_State *L)
{
	hasher *h = luaL_checkudata(L, 1, HASHER_MT);

	mbedtls_sha256_free(&h->ctx);
	h->done = 1;
	return 0;
}

/* One of mbedTLS's base64 directions over the string at index 1. */
static int base64(lua_State *L, int decode)
{
	size_t len, need = 0;
	const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 1, &len);
	unsigned char *out;
	int rc;

	rc = decode ? mbedtls_base64_decode(NULL, 0, &need, in, len)
		    : mbedtls_base64_encode(NULL, 0, &need, in, len);
	if (rc == MBEDTLS_ERR_BASE64_INVALID_CHARACTER) {
		lua_pushnil(L);
		lua_pushliteral(L, "not valid base64");
		return 2;
	}
	out = malloc(need + 1);
	if (!out)
		return luaL_error(L, "out of memory");
	rc = decode ? mbedtls_base64_decode(out, need + 1, &need, in, len)
		    : mbedtls_base64_encode(out, need + 1, &need, in, len);
	if (rc) {
		free(out);
		lua_pushnil(L);
		lua_pushliteral(L, "not valid base64");
		return 2;
	}
	lua_pushlstring(L, (const char *)out, need);
	free(out);
	return 1;
}

static int digest_b64enc(lua_State *L)
{
	return base64(L, 0);
}

static int digest_b64dec(lua_State *L)
{
	return base64(L, 1);
}

static int digest_sha256_file(lua_State *L)
{
	static const char hex[] = "0123456789abcdef";
	const char *path = luaL_checkstring(L, 1);
	mbedtls_sha256_context c;
	unsigned char buf[65536], sum[32];
	char out[64];
	lua_Integer total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), eno = 0;

	if (fd < 0) {
		eno = errno;
		lua_pushnil(L);
		lua_pushfstring(L, "cannot read %s: %s", path, strerror(eno));
		return 2;
	}
	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts_ret(&c, 0);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			eno = errno;
			break;
		}
		mbedtls_sha256_update_ret(&c, buf, (size_t)n);
		total += n;
	}
	close(fd);
	mbedtls_sha256_finish_ret(&c, sum);
	mbedtls_sha256_free(&c);
	if (eno) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot read %s: %s", path, strerror(eno));
		return 2;
	}
	for (size_t i = 0; i < sizeof sum; i++) {
		out[2 * i] = hex[sum[i] >> 4];
		out[2 * i + 1] = hex[sum[i] & 15];
	}
	lua_pushlstring(L, out, sizeof out);
	lua_pushinteger(L, total);
	return 2;
}

int kd_lua_open_digest(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"sha256", digest_sha256},
		{"sha256_new", digest_sha256_new},
		{"base64_encode", digest_b64enc},
		{"base64_decode", digest_b64dec},
		{"sha256_file", digest_sha256_file},
		{NULL, NULL},
	};

	static const luaL_Reg hasher_methods[] = {
		{"update", hasher_update},
		{"hex", hasher_hex},
		{NULL, NULL},
	};

	if (luaL_newmetatable(L, HASHER_MT)) {
		luaL_newlib(L, hasher_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, hasher_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
