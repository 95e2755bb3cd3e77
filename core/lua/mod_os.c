/* kedge.os: core/base/fs for Lua, the file system and clock pieces kedge's
 * library needs beyond Lua's io and os. Expected failures return nil, err;
 * wrong arguments raise.
 *
 *   write_atomic(path, data[, mode]) → true or nil, err: temp file, fsync,
 *     rename, fsync of the folder; mode defaults to 0600; the file's folder
 *     is made when missing (its parent must exist)
 *   read_file(path[, limit]) → the bytes or nil, err (limit in bytes,
 *     default KD_LIMIT_FS_READ_BYTES)
 *   read_dir(path) → sorted list of the names in a folder (no dot files),
 *     or nil, err, why: "notdir" (not a folder), "missing" (absent), "error"
 *   mkdir(path[, mode]) → true or nil, err: with its missing parents (mode
 *     defaults to 0700); an existing folder is fine
 *   stat(path) → {type = "file"|"dir"|"other", size = bytes, mode = permission
 *     bits} or nil, err
 *   walk(path[, max]) → every entry under a folder, dot files included,
 *     sorted by path: {{path = "a/b" (relative), type = "file"|"dir"|
 *     "link"|"other", size = bytes}, ...} (lstat: links are not followed),
 *     or nil, err; more than max entries (default KD_LIMIT_PACK_FILES) is
 *     an error
 *   sync_dir(path) → true or nil, err (fsync of a folder, so a rename or a
 *     removal in it is on disk before kedge says so)
 *   fsync(path) → true or nil, err (fsync of a file kedge wrote itself in
 *     pieces, before it renames it into place)
 *   lock(path, timeout) → a held lock or nil, err: flock() on path (made
 *     when missing), waiting up to timeout seconds (at most
 *     KD_LIMIT_FS_LOCK_WAIT_S); released by lock:unlock(), <close> or the
 *     garbage collector, and by the kernel when the process ends
 *   now() → wall clock seconds since the epoch (a float)
 *   monotonic() → seconds of a clock that never goes back (a float)
 *   sleep(seconds) (at most KD_LIMIT_FS_SLEEP_S)
 *
 * Signals, children, poll, a listener and sd_notify for the resident
 * agent are in the same table, from mod_osev.c. */
#include "lua/klua.h"

#include "base/fs.h"
#include "base/limits.h"

#include <lauxlib.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#define LOCK_MT "kedge.Lock"
#define STR_(x) #x
#define STR(x) STR_(x)

static unsigned opt_mode(lua_State *L, int arg, unsigned def)
{
	lua_Integer m = luaL_optinteger(L, arg, def);

	luaL_argcheck(L, m >= 0 && m <= 07777, arg, "a file mode (0 to 0o7777)");
	return (unsigned)m;
}

static int os_write_atomic(lua_State *L)
{
	size_t len;
	const char *path = luaL_checkstring(L, 1);
	const char *data = luaL_checklstring(L, 2, &len);
	unsigned mode = opt_mode(L, 3, 0600);
	kd_err err = KD_ERR_INIT;

	if (kd_fs_write_atomic(path, data, len, mode, &err))
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int os_read_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer limit = luaL_optinteger(L, 2, KD_LIMIT_FS_READ_BYTES);
	kd_buf b;
	kd_err err = KD_ERR_INIT;
	int rc;

	luaL_argcheck(L, limit >= 0, 2, "a size in bytes");
	kd_buf_init(&b, (size_t)limit);
	rc = kd_fs_read_file(path, (size_t)limit, &b, &err);
	if (rc) {
		kd_buf_free(&b);
		return kd_lua_fail(L, &err);
	}
	lua_pushlstring(L, b.ptr, b.len);
	kd_buf_free(&b);
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries are collected in a Lua table first (so an error cannot leak
 * them), then sorted through a C array of pointers into that table. */
static int os_read_dir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char **names;
	struct dirent *e;
	DIR *d = opendir(path);
	lua_Integer n = 0, i;

	if (!d) {
		int eno = errno;

		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(eno));
		lua_pushstring(L, eno == ENOTDIR ? "notdir" :
				  eno == ENOENT ? "missing" : "error");
		return 3;
	}
	lua_newtable(L);
	while ((e = readdir(d)) && n < KD_LIMIT_FS_DIR_ENTRIES) {
		if (e->d_name[0] == '.')
			continue;
		lua_pushstring(L, e->d_name);
		lua_rawseti(L, -2, ++n);
	}
	closedir(d);
	names = lua_newuserdatauv(L, sizeof *names * (size_t)(n ? n : 1), 0);
	for (i = 0; i < n; i++) {
		lua_rawgeti(L, -2, i + 1);
		names[i] = lua_tostring(L, -1);
		lua_pop(L, 1); /* still referenced by the table */
	}
	qsort(names, (size_t)n, sizeof *names, cmp_names);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushstring(L, names[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int os_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	unsigned mode = opt_mode(L, 2, 0700);
	kd_err err = KD_ERR_INIT;

	if (kd_fs_mkdirs(path, mode, &err))
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int os_stat(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;

	if (stat(path, &st)) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot stat %s: %s", path, strerror(errno));
		return 2;
	}
	lua_createtable(L, 0, 3);
	lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : "other");
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_setfield(L, -2, "size");
	lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
	lua_setfield(L, -2, "mode");
	return 1;
}

static int walk_cmp(lua_State *L)
{
	const char *a, *b;

	lua_getfield(L, 1, "path");
	lua_getfield(L, 2, "path");
	a = lua_tostring(L, -2);
	b = lua_tostring(L, -1);
	lua_pushboolean(L, strcmp(a, b) < 0);
	return 1;
}

typedef struct walker {
	lua_State *L;
	size_t root, n, max;
} walker;

/* nftw gives no payload: one walk at a time per thread */
static _Thread_local walker *walking;

static int walk_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	walker *w = walking;
	lua_State *L = w->L;

	(void)flag;
	if (ftw->level == 0)
		return 0;
	if (++w->n > w->max)
		return 1;
	lua_createtable(L, 0, 3);
	lua_pushstring(L, path + w->root + 1);
	lua_setfield(L, -2, "path");
	lua_pushstring(L, S_ISREG(st->st_mode) ? "file" : S_ISDIR(st->st_mode) ? "dir" :
			  S_ISLNK(st->st_mode) ? "link" : "other");
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, (lua_Integer)st->st_size);
	lua_setfield(L, -2, "size");
	lua_rawseti(L, -2, (lua_Integer)w->n);
	return 0;
}

static int os_walk(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer max = luaL_optinteger(L, 2, KD_LIMIT_PACK_FILES);
	walker w = {L, strlen(path), 0, 0};
	int rc;

	luaL_argcheck(L, max > 0, 2, "a number of entries");
	w.max = (size_t)max;
	while (w.root > 1 && path[w.root - 1] == '/')
		w.root--;
	lua_newtable(L);
	walking = &w;
	rc = nftw(path, walk_entry, 32, FTW_PHYS);
	walking = NULL;
	if (rc == 1) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s holds more than %d entries", path, (int)max);
		return 2;
	}
	if (rc) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot read %s: %s", path, strerror(errno));
		return 2;
	}
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_pushvalue(L, -3);
	lua_pushcfunction(L, walk_cmp);
	lua_call(L, 2, 0);
	lua_pop(L, 1);
	return 1;
}

static int os_sync_dir(lua_State *L)
{
	kd_err err = KD_ERR_INIT;

	if (kd_fs_sync_dir(luaL_checkstring(L, 1), &err))
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int os_fsync(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0 || fsync(fd)) {
		e = errno;
		if (fd >= 0)
			close(fd);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: fsync: %s", path, strerror(e));
		return 2;
	}
	close(fd);
	lua_pushboolean(L, 1);
	return 1;
}

static int lock_release(lua_State *L)
{
	int *fd = luaL_checkudata(L, 1, LOCK_MT);

	kd_fs_unlock(*fd);
	*fd = -1;
	return 0;
}

static int os_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Number timeout = luaL_optnumber(L, 2, 0);
	kd_err err = KD_ERR_INIT;
	int *fd;

	luaL_argcheck(L, timeout >= 0 && timeout <= KD_LIMIT_FS_LOCK_WAIT_S, 2,
		      "0 to " STR(KD_LIMIT_FS_LOCK_WAIT_S) " seconds");
	/* made released first, so an error below leaves nothing open */
	fd = lua_newuserdatauv(L, sizeof *fd, 0);
	*fd = -1;
	luaL_setmetatable(L, LOCK_MT);
	if (kd_fs_lock(fd, path, (double)timeout, NULL, &err))
		return kd_lua_fail(L, &err);
	return 1;
}

static int os_now(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)kd_fs_wall_ns() / 1e9);
	return 1;
}

static int os_monotonic(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)kd_fs_monotonic_ns() / 1e9);
	return 1;
}

static int os_sleep(lua_State *L)
{
	lua_Number s = luaL_checknumber(L, 1);

	luaL_argcheck(L, s >= 0 && s <= KD_LIMIT_FS_SLEEP_S, 1,
		      "seconds must be within 0.." STR(KD_LIMIT_FS_SLEEP_S));
	kd_fs_sleep_ms((int64_t)(s * 1000 + 0.5));
	return 0;
}

int kd_lua_open_os(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"write_atomic", os_write_atomic},
		{"read_file", os_read_file},
		{"read_dir", os_read_dir},
		{"mkdir", os_mkdir},
		{"stat", os_stat},
		{"sync_dir", os_sync_dir},
		{"walk", os_walk},
		{"lock", os_lock},
		{"now", os_now},
		{"monotonic", os_monotonic},
		{"sleep", os_sleep},
		{"fsync", os_fsync},
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
	kd_lua_os_events(L);
	return 1;
}
