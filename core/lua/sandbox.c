/* kedge.sandbox: runs untrusted Lua (site recipes from a config repo).
 *
 * sandbox.load(code, chunkname [, extra_globals]) compiles text only (no
 * bytecode) into a fresh environment holding an allow-list of globals:
 * basic functions without load/dofile/require/collectgarbage, copies of
 * string (without dump), table, math and utf8, and os.time/clock/date/
 * difftime; print goes to the log (and (""):dump is gone from the
 * string methods too). extra_globals (the kedge API a recipe
 * may use) is added on top. The copies keep a recipe from changing the
 * host's libraries.
 *
 * sandbox.call(fn, limits, ...) runs fn like pcall, under an instruction
 * count, a memory cap and a wall-clock deadline. Once a limit is hit the
 * run is dead: the sandbox's pcall/xpcall rethrow instead of catching, and
 * the hook keeps raising, so a recipe cannot swallow its own stop.
 *
 * sandbox.host(fn [, texts]) wraps a host function a sandboxed recipe may
 * call (the steps of the site pass): while it runs, the run's limits are
 * suspended (no instruction count, the host's heap limit, the deadline
 * moved on by the time it took), since kedge's own code has its own bounds
 * and the caps are about what the recipe itself computes. Callbacks the
 * host then makes into recipe code go through sandbox.call again.
 *
 * No recipe code runs outside the caps by the back door: what a run hands
 * the host (a host function's arguments, sandbox.call's results) crosses
 * as plain data, tables copied raw (next, rawset: no __pairs, __index,
 * __len) without the metatables the run set, and the first `texts`
 * arguments turned into strings by tostring while the caps still hold (a
 * __tostring that loops or allocates is stopped as recipe code). A run's
 * setmetatable refuses __gc (the collector runs finalizers with hooks off,
 * whenever and wherever it collects) and any change to a metatable kedge
 * made; its getmetatable shows only the metatables runs made, so a recipe
 * cannot rewire a host table's behaviour for the host. And a watchdog
 * thread holds the deadline where the instruction hook cannot (a pattern
 * match that backtracks for hours is one C call): a run still inside its
 * own code KD_LIMIT_SANDBOX_GRACE_SECONDS past its deadline ends the
 * process, with a message on stderr and exit status 1.
 *
 * sandbox.absent is the __index of the environment and its library
 * copies (give it to other tables a recipe gets, such as the pass's view):
 * it notes the names a run looks up and lacks, so sandbox.call can say
 * which one a failed run was missing. sandbox.now() is the clock of the
 * deadlines. */
#include "lua/klua.h"

#include "base/fs.h"
#include "base/limits.h"
#include "log/log.h"

#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOOK_STEP 1000

typedef struct sb_run {
	lua_Integer budget;   /* instructions left */
	lua_Integer instructions;
	double deadline;      /* monotonic seconds; 0 = none */
	size_t memory;
	size_t outer_limit;   /* the host's heap limit outside the run */
	const char *killed;   /* why the run was stopped, or NULL */
	/* The last name the recipe looked up and the sandbox leaves out, and
	 * where; a runtime error on that line is about it. */
	char absent[64];
	const void *absent_src;
	int absent_line;
	int absent_hit;       /* the error arose where absent was looked up */
	char stop_msg[320];   /* what the watchdog says when it ends the run */
} sb_run;

/* The registry key of the set (weak keys) of metatables runs made. */
static const char made_key;

static sb_run **active_slot(lua_State *L)
{
	return (sb_run **)lua_getextraspace(L);
}

static double now_mono(void)
{
	return (double)kd_fs_monotonic_ns() / 1e9;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	sb_run *r = *active_slot(L);

	(void)ar;
	if (!r)
		return;
	r->budget -= HOOK_STEP;
	if (!r->killed && r->budget < 0)
		r->killed = "instruction limit";
	else if (!r->killed && r->deadline > 0 && now_mono() > r->deadline)
		r->killed = "deadline";
	if (r->killed)
		luaL_error(L, "recipe stopped: %s exceeded", r->killed);
}

/* The watchdog: one thread per process, started by the first run with a
 * deadline. It is armed (at = a run's deadline plus the grace) while the
 * run's own code runs and disarmed while the host's does (host_call), so
 * it never ends the process in a host step, the only code that writes
 * state; what it interrupts is recipe code, which has nothing to leave
 * half-done, and pass.lock goes with the process. */
static struct {
	pthread_once_t once;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started;
	double at;       /* monotonic seconds; 0 = disarmed */
	const char *msg; /* the armed run's stop_msg */
} dog = {.once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER};

static void *dog_watch(void *arg)
{
	struct timespec ts;
	double at;

	(void)arg;
	pthread_mutex_lock(&dog.mu);
	for (;;) {
		at = dog.at;
		if (at <= 0) {
			pthread_cond_wait(&dog.cv, &dog.mu);
			continue;
		}
		if (now_mono() >= at) {
			(void)!write(2, dog.msg, strlen(dog.msg));
			_exit(1);
		}
		ts.tv_sec = (time_t)at;
		ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&dog.cv, &dog.mu, &ts);
	}
	return NULL;
}

static void dog_start(void)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t th;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dog.cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	dog.started = pthread_create(&th, &ta, dog_watch, NULL) == 0;
	pthread_attr_destroy(&ta);
}

/* Arms the watchdog for run r (when it has a deadline), or disarms it (r
 * NULL). Fails only when the thread cannot be started. */
static int dog_arm(const sb_run *r)
{
	double at = r && r->deadline > 0 ?
			    r->deadline + KD_LIMIT_SANDBOX_GRACE_SECONDS : 0;

	if (at > 0)
		pthread_once(&dog.once, dog_start);
	if (!dog.started)
		return at > 0 ? -1 : 0;
	pthread_mutex_lock(&dog.mu);
	dog.at = at;
	dog.msg = at > 0 ? r->stop_msg : NULL;
	pthread_cond_signal(&dog.cv);
	pthread_mutex_unlock(&dog.mu);
	return 0;
}

/* Pushes the set of the metatables runs made (weak keys: it keeps none
 * alive), made on first use. */
static void push_made(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &made_key) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &made_key);
}

/* Whether the metatable at idx was made by a run (set by its setmetatable). */
static int made_by_run(lua_State *L, int idx)
{
	int made;

	idx = lua_absindex(L, idx);
	push_made(L);
	lua_pushvalue(L, idx);
	made = lua_rawget(L, -2) != LUA_TNIL;
	lua_pop(L, 2);
	return made;
}

/* Pushes the value at idx as plain data: a table is copied raw (lua_next,
 * rawset: none of its metamethods run), keys and values alike, keeping a
 * metatable kedge made (the list marker) and dropping those a run made;
 * seen (a stack index) maps tables copied to their copies, so shared and
 * cyclic tables cost one copy each. Other values are themselves. */
static void push_plain(lua_State *L, int idx, int seen, int depth)
{
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE) {
		lua_pushvalue(L, idx);
		return;
	}
	lua_pushvalue(L, idx);
	if (lua_rawget(L, seen) != LUA_TNIL)
		return;
	lua_pop(L, 1);
	if (depth >= KD_LIMIT_DEPTH)
		luaL_error(L, "a value handed to kedge nests deeper than %d levels",
			   KD_LIMIT_DEPTH);
	luaL_checkstack(L, 8, "a value handed to kedge");
	lua_createtable(L, (int)lua_rawlen(L, idx), 0);
	lua_pushvalue(L, idx);
	lua_pushvalue(L, -2);
	lua_rawset(L, seen);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		push_plain(L, -2, seen, depth + 1);
		push_plain(L, -2, seen, depth + 1);
		lua_rawset(L, -5);
		lua_pop(L, 1);
	}
	if (lua_getmetatable(L, idx)) {
		if (made_by_run(L, -1))
			lua_pop(L, 1);
		else
			lua_setmetatable(L, -2);
	}
}

/* Replaces the values at first..last with what the host may use: the
 * first `texts` of them by tostring (here, under the run's caps, so their
 * __tostring is recipe code like any other), the rest by push_plain. */
static void make_plain(lua_State *L, int first, int last, int texts)
{
	int i, seen = 0;

	for (i = first; i <= last; i++) {
		if (i - first < texts) {
			luaL_tolstring(L, i, NULL);
			lua_replace(L, i);
		} else if (lua_type(L, i) == LUA_TTABLE) {
			if (!seen) {
				lua_newtable(L);
				seen = lua_gettop(L);
			}
			push_plain(L, i, seen, 0);
			lua_replace(L, i);
		}
	}
	if (seen)
		lua_remove(L, seen);
}

/* sandbox.call's results, made plain while the run's caps hold. */
static int plain_results(lua_State *L)
{
	int n = lua_gettop(L);

	make_plain(L, 1, n, 0);
	return n;
}

/* After a protected call inside the sandbox: a dead run propagates. */
static void rethrow_if_killed(lua_State *L, int status)
{
	sb_run *r = *active_slot(L);

	if (r && status == LUA_ERRMEM && !r->killed)
		r->killed = "memory limit";
	if (r && r->killed && status != LUA_OK)
		lua_error(L);
}

static int sb_pcall(lua_State *L)
{
	int status;

	luaL_checkany(L, 1);
	status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	rethrow_if_killed(L, status);
	lua_pushboolean(L, status == LUA_OK);
	lua_insert(L, 1);
	return lua_gettop(L);
}

static int sb_xpcall(lua_State *L)
{
	int n = lua_gettop(L), status;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	/* f, msgh, args... -> msgh, f, args... */
	lua_pushvalue(L, 1);
	lua_copy(L, 2, 1);
	lua_replace(L, 2);
	status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
	rethrow_if_killed(L, status);
	lua_pushboolean(L, status == LUA_OK);
	lua_replace(L, 1);
	return lua_gettop(L);
}

/* __index of the environment, its library copies and the pass's view:
 * notes a name the sandbox leaves out (the value stays nil), so a failed
 * run can say which name it lacked without reading the error text. */
static int sb_absent(lua_State *L)
{
	sb_run *r = *active_slot(L);
	lua_Debug ar;
	size_t len;
	const char *k;

	if (r && lua_type(L, 2) == LUA_TSTRING && lua_getstack(L, 1, &ar) &&
	    lua_getinfo(L, "Sl", &ar)) {
		k = lua_tolstring(L, 2, &len);
		if (len >= sizeof(r->absent))
			len = sizeof(r->absent) - 1;
		memcpy(r->absent, k, len);
		r->absent[len] = '\0';
		r->absent_src = ar.source;
		r->absent_line = ar.currentline;
	}
	lua_pushnil(L);
	return 1;
}

/* Gives the table on top of the stack __index = sb_absent. */
static void mark_absent(lua_State *L)
{
	lua_newtable(L);
	lua_pushcfunction(L, sb_absent);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
}

/* getmetatable for the metatables runs made only: the string metatable
 * and those of kedge's tables (the environment, the pass's view, lists)
 * are the host's, and a run that could change them would change what the
 * host's own code does with them. */
static int sb_getmetatable(lua_State *L)
{
	luaL_checkany(L, 1);
	if (lua_type(L, 1) != LUA_TTABLE || !lua_getmetatable(L, 1) ||
	    !made_by_run(L, -1)) {
		lua_pushnil(L);
		return 1;
	}
	/* A __metatable field stands in for the metatable, as in Lua. */
	luaL_getmetafield(L, 1, "__metatable");
	return 1;
}

/* setmetatable without __gc (the collector calls finalizers with hooks
 * off, at any allocation, the host's included, so one would run outside
 * every cap) and only over a metatable a run made; the metatables it sets
 * are noted as made by a run. A __gc added to the metatable later does not
 * count: Lua marks an object for finalization only here. */
static int sb_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (lua_getmetatable(L, 1)) {
		if (!made_by_run(L, -1))
			return luaL_error(L, "cannot change the metatable of a table kedge made");
		if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
			return luaL_error(L, "cannot change a protected metatable");
		lua_pop(L, 1);
	}
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "setmetatable: __gc is not available in the sandbox "
					  "(a finalizer would run outside the recipe's limits)");
		lua_pop(L, 1);
		push_made(L);
		lua_pushvalue(L, 2);
		lua_pushboolean(L, 1);
		lua_rawset(L, -3);
		lua_pop(L, 1);
	}
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

static int sb_print(lua_State *L)
{
	luaL_Buffer b;
	int i, n = lua_gettop(L);

	luaL_buffinit(L, &b);
	for (i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	kd_log(KD_LOG_INFO, "%s", lua_tostring(L, -1));
	return 0;
}

/* Copies the named fields of library `lib` (from the host's globals) into
 * a new table set as env[lib]. */
static void copy_lib(lua_State *L, int env, const char *lib,
		     const char *const *fields)
{
	lua_getglobal(L, lib);
	lua_newtable(L);
	for (; *fields; fields++) {
		lua_getfield(L, -2, *fields);
		lua_setfield(L, -2, *fields);
	}
	mark_absent(L);
	lua_setfield(L, env, lib);
	lua_pop(L, 1);
}

/* Copies every field of library `lib` except the ones in `skip`. */
static void copy_lib_except(lua_State *L, int env, const char *lib,
			    const char *skip)
{
	lua_getglobal(L, lib);
	lua_newtable(L);
	lua_pushnil(L);
	while (lua_next(L, -3)) {
		if (skip && lua_type(L, -2) == LUA_TSTRING &&
		    !strcmp(lua_tostring(L, -2), skip)) {
			lua_pop(L, 1);
			continue;
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
	mark_absent(L);
	lua_setfield(L, env, lib);
	lua_pop(L, 1);
}

static void build_env(lua_State *L)
{
	static const char *const basics[] = {
		"assert", "error", "ipairs", "next", "pairs", "rawequal",
		"rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type", "_VERSION", NULL,
	};
	static const char *const os_fields[] = {"time", "clock", "date",
						"difftime", NULL};
	static const luaL_Reg wrapped[] = {
		{"pcall", sb_pcall},
		{"xpcall", sb_xpcall},
		{"getmetatable", sb_getmetatable},
		{"setmetatable", sb_setmetatable},
		{"print", sb_print},
		{NULL, NULL},
	};
	const char *const *g;
	int env;

	lua_newtable(L);
	env = lua_gettop(L);
	for (g = basics; *g; g++) {
		lua_getglobal(L, *g);
		lua_setfield(L, env, *g);
	}
	luaL_setfuncs(L, wrapped, 0);
	copy_lib_except(L, env, "string", "dump");
	copy_lib_except(L, env, "table", NULL);
	copy_lib_except(L, env, "math", NULL);
	copy_lib_except(L, env, "utf8", NULL);
	copy_lib(L, env, "os", os_fields);
	lua_pushvalue(L, env);
	lua_setfield(L, env, "_G");
	mark_absent(L);
}

/* sandbox.load(code, chunkname [, extra_globals]) -> fn, env | nil, err */
static int sandbox_load(lua_State *L)
{
	size_t len;
	const char *code = luaL_checklstring(L, 1, &len);
	const char *chunkname = luaL_optstring(L, 2, "=recipe");

	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	build_env(L);
	if (!lua_isnil(L, 3)) {
		lua_pushnil(L);
		while (lua_next(L, 3)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, 4);
		}
	}
	if (luaL_loadbufferx(L, code, len, chunkname, "t") != LUA_OK) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushvalue(L, 4);
	if (!lua_setupvalue(L, -2, 1))
		lua_pop(L, 1);
	lua_pushvalue(L, 4);
	return 2;
}

static int traceback(lua_State *L)
{
	sb_run *r = *active_slot(L);
	const char *msg = lua_tostring(L, 1);
	lua_Debug ar;

	/* level 1 is a Lua function only for errors the VM raised in it */
	if (r && r->absent_src && lua_getstack(L, 1, &ar) &&
	    lua_getinfo(L, "Sl", &ar) && ar.source == r->absent_src &&
	    ar.currentline == r->absent_line)
		r->absent_hit = 1;

	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)",
				      luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* sandbox.call(fn, {instructions=, memory=, timeout=}, ...) ->
 * true, results... | false, message-with-traceback, kind [, absent]; a
 * limit left out is a recipe's (KD_LIMIT_RECIPE_*), timeout = 0 means no
 * deadline. kind is "limit" when a limit stopped the run, else "runtime";
 * absent names what the run looked up and lacked where it failed. */
static int sandbox_call(lua_State *L)
{
	sb_run run = {0};
	size_t old_limit, used;
	double timeout;
	int nargs, status, base;
	lua_Debug ar;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	if (lua_gettop(L) < 2)
		lua_settop(L, 2);
	if (*active_slot(L))
		return luaL_error(L, "sandbox.call cannot be nested");
	run.instructions = kd_lua_opt_integer(L, 2, "instructions",
					      KD_LIMIT_RECIPE_INSTRUCTIONS);
	run.memory = (size_t)kd_lua_opt_integer(L, 2, "memory",
						KD_LIMIT_RECIPE_HEAP);
	timeout = KD_LIMIT_RECIPE_SECONDS;
	if (!lua_isnoneornil(L, 2) &&
	    lua_getfield(L, 2, "timeout") != LUA_TNIL) {
		timeout = luaL_checknumber(L, -1);
		lua_pop(L, 1);
	}
	if (run.instructions <= 0 || run.memory == 0 || timeout < 0)
		return luaL_error(L, "sandbox limits must be positive");
	run.budget = run.instructions;
	run.outer_limit = 0;
	run.deadline = timeout > 0 ? now_mono() + timeout : 0;
	lua_pushvalue(L, 1);
	lua_getinfo(L, ">S", &ar);
	snprintf(run.stop_msg, sizeof(run.stop_msg),
		 "kedge: recipe stopped: deadline exceeded: %s ran %d s past its "
		 "%g s in code the instruction limit cannot interrupt (a pattern "
		 "match that backtracks, a long library call); the process ends here\n",
		 ar.short_src, KD_LIMIT_SANDBOX_GRACE_SECONDS, timeout);

	nargs = lua_gettop(L) - 2;
	lua_pushcfunction(L, traceback);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 2); /* fn, limits, traceback, fn, args... */
	base = 3;

	used = kd_lua_heap_used(L);
	old_limit = kd_lua_swap_heap_limit(L, used + run.memory);
	if (run.memory >= old_limit - used)
		kd_lua_swap_heap_limit(L, old_limit);
	run.outer_limit = old_limit;
	if (dog_arm(&run)) {
		kd_lua_swap_heap_limit(L, old_limit);
		return luaL_error(L, "sandbox: cannot start the deadline's watchdog thread");
	}
	*active_slot(L) = &run;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
	status = lua_pcall(L, nargs, LUA_MULTRET, base);
	if (status == LUA_OK) {
		/* the results as plain data, still under the run's caps */
		lua_pushcfunction(L, plain_results);
		lua_insert(L, base + 1);
		status = lua_pcall(L, lua_gettop(L) - base - 1, LUA_MULTRET, base);
	}
	lua_sethook(L, NULL, 0, 0);
	*active_slot(L) = NULL;
	dog_arm(NULL);
	kd_lua_swap_heap_limit(L, old_limit);

	if (status == LUA_ERRMEM && !run.killed)
		run.killed = "memory limit";
	if (status != LUA_OK) {
		lua_pushboolean(L, 0);
		if (run.killed && !strcmp(run.killed, "memory limit"))
			lua_pushfstring(L, "recipe stopped: memory limit of %I bytes exceeded",
					(lua_Integer)run.memory);
		else if (run.killed && !strcmp(run.killed, "instruction limit"))
			lua_pushfstring(L, "recipe stopped: instruction limit of %I exceeded\n%s",
					run.instructions, lua_tostring(L, -2));
		else
			lua_pushvalue(L, -2);
		lua_pushstring(L, run.killed ? "limit" : "runtime");
		if (run.killed || !run.absent_hit)
			return 3;
		lua_pushstring(L, run.absent);
		return 4;
	}
	lua_pushboolean(L, 1);
	lua_replace(L, base);
	return lua_gettop(L) - base + 1;
}

static int host_call(lua_State *L)
{
	sb_run *r = *active_slot(L);
	size_t used, inner_limit = 0;
	double started = 0;
	int status, n = lua_gettop(L);

	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	if (!r) {
		lua_call(L, n, LUA_MULTRET);
		return lua_gettop(L);
	}
	if (r->killed)
		return luaL_error(L, "recipe stopped: %s exceeded", r->killed);
	make_plain(L, 2, n + 1, (int)lua_tointeger(L, lua_upvalueindex(2)));
	used = kd_lua_heap_used(L);
	inner_limit = kd_lua_swap_heap_limit(L, r->outer_limit);
	started = now_mono();
	*active_slot(L) = NULL;
	lua_sethook(L, NULL, 0, 0);
	dog_arm(NULL);
	status = lua_pcall(L, n, LUA_MULTRET, 0);
	if (r->deadline > 0)
		r->deadline += now_mono() - started;
	dog_arm(r);
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
	*active_slot(L) = r;
	/* what the host kept allocated is not the recipe's */
	if (kd_lua_heap_used(L) > used)
		inner_limit += kd_lua_heap_used(L) - used;
	if (inner_limit > r->outer_limit)
		inner_limit = r->outer_limit;
	kd_lua_swap_heap_limit(L, inner_limit);
	if (status != LUA_OK)
		return lua_error(L);
	return lua_gettop(L);
}

/* sandbox.now() -> the monotonic seconds deadlines are kept in, so a
 * caller sharing one deadline among calls measures on the same clock */
static int sandbox_now(lua_State *L)
{
	lua_pushnumber(L, now_mono());
	return 1;
}

/* sandbox.host(fn [, texts]) -> a function running fn outside the run's
 * limits, on plain copies of its arguments (the first `texts` of them
 * made strings by tostring under the caps) */
static int sandbox_host(lua_State *L)
{
	lua_Integer texts = luaL_optinteger(L, 2, 0);

	luaL_checktype(L, 1, LUA_TFUNCTION);
	luaL_argcheck(L, texts >= 0 && texts <= 16, 2, "texts must be 0 to 16");
	lua_settop(L, 1);
	lua_pushinteger(L, texts);
	lua_pushcclosure(L, host_call, 2);
	return 1;
}

/* ("").dump reaches string.dump through the string metatable, whose
 * __index is the host's string table: point it at a copy without dump,
 * so a sandboxed run cannot reach dump that way (the host still calls
 * string.dump through the global; nothing calls it as a string method). */
static void hide_string_dump(lua_State *L)
{
	lua_pushliteral(L, "");
	if (!lua_getmetatable(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (lua_getfield(L, -1, "__index") == LUA_TTABLE) {
		lua_newtable(L);
		lua_pushnil(L);
		while (lua_next(L, -3)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -4);
		}
		lua_pushnil(L);
		lua_setfield(L, -2, "dump");
		lua_setfield(L, -3, "__index");
	}
	lua_pop(L, 3);
}

int kd_lua_open_sandbox(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"load", sandbox_load},
		{"call", sandbox_call},
		{"host", sandbox_host},
		{"absent", sb_absent},
		{"now", sandbox_now},
		{NULL, NULL},
	};

	hide_string_dump(L);
	luaL_newlib(L, funcs);
	return 1;
}
