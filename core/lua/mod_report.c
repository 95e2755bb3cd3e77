/* kedge.reportcore: the file system pieces kedge.report (lua/kedge/report.lua)
 * needs beyond Lua's io and os.
 *
 *   mkdir(path) → true or nil, err (one level; an existing folder is fine)
 *   stat(path) → {type = "file"|"dir"|"other", size = bytes} or nil, err
 *   sync_dir(path) → true or nil, err (fsync of a folder, so a rename or a
 *     removal in it is on disk before kedge says so)
 *   lock(path, timeout) → a held lock or nil, err: flock() on path (made
 *     when missing), waiting up to timeout seconds (at most 600); released
 *     by lock:unlock(), <close> or the garbage collector, and by the
 *     kernel when the process ends */
#include "lua/klua.h"

#include "net/net.h"

#include <lauxlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_MT "kedge.ReportLock"

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

static int lock_release(lua_State *L)
{
	int *fd = luaL_checkudata(L, 1, LOCK_MT);

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
}

static int rc_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Number timeout = luaL_optnumber(L, 2, 0);
	int64_t start = kd_net_now_ms();
	int *fd;

	luaL_argcheck(L, timeout >= 0 && timeout <= 600, 2, "0 to 600 seconds");
	/* made released first, so an error below leaves nothing open */
	fd = lua_newuserdatauv(L, sizeof *fd, 0);
	*fd = -1;
	luaL_setmetatable(L, LOCK_MT);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return fail(L, "open the lock", path);
	while (flock(*fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return fail(L, "lock", path);
		/* the clock, not a count of sleeps: a sleep a signal cuts short
		 * must not shorten the wait */
		if (kd_net_now_ms() - start >= (int64_t)(timeout * 1000)) {
			char secs[32];

			snprintf(secs, sizeof secs, "%g", (double)timeout);
			lua_pushnil(L);
			lua_pushfstring(L, "another kedge holds %s; waited %s s", path, secs);
			return 2;
		}
		usleep(100000);
	}
	return 1;
}

int kd_lua_open_report(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"mkdir", rc_mkdir},
		{"stat", rc_stat},
		{"sync_dir", rc_sync_dir},
		{"lock", rc_lock},
		{NULL, NULL},
	};

	if (luaL_newmetatable(L, LOCK_MT)) {
		lua_createtable(L, 0, 1);
		lua_pushcfunction(L, lock_release);
		lua_setfield(L, -2, "unlock");
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, lock_release);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, lock_release);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
