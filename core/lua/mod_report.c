/* kedge.reportcore: the file system pieces kedge.report (lua/kedge/report.lua)
 * needs beyond Lua's io and os.
 *
 *   mkdir(path) → true or nil, err (one level; an existing folder is fine)
 *   stat(path) → {type = "file"|"dir"|"other", size = bytes} or nil, err
 *   sync_dir(path) → true or nil, err (fsync of a folder, so a rename or a
 *     removal in it is on disk before kedge says so) */
#include "lua/klua.h"

#include <lauxlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(lua_State *L, const char *what, const char *path)
{
	lua_pushnil(L);
	lua_pushfstring(L, "cannot %s %s: %s", what, path, strerror(errno));
	return 2;
}

static int rc_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;

	if (mkdir(path, 0700) && !(errno == EEXIST && stat(path, &st) == 0 &&
				   S_ISDIR(st.st_mode)))
		return fail(L, "create the folder", path);
	lua_pushboolean(L, 1);
	return 1;
}

static int rc_stat(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;

	if (stat(path, &st))
		return fail(L, "stat", path);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : "other");
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_setfield(L, -2, "size");
	return 1;
}

static int rc_sync_dir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return fail(L, "open the folder", path);
	rc = fsync(fd);
	close(fd);
	if (rc)
		return fail(L, "sync the folder", path);
	lua_pushboolean(L, 1);
	return 1;
}

int kd_lua_open_report(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"mkdir", rc_mkdir},
		{"stat", rc_stat},
		{"sync_dir", rc_sync_dir},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
