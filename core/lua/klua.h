/* The Lua host: one lua_State with kedge's Lua library.
 *
 * The library is Lua source embedded in the binary (every .lua file under lua/ and
 * recipes/, turned into arrays by tools/embed.c) plus C modules; all
 * of it is reached through package.preload with chunk names that are the
 * real file paths ("@lua/kedge/log.lua"), so tracebacks point at real
 * lines. package.path and package.cpath are empty and only the preload
 * searcher is left: `require` never reads the disk.
 *
 * Values cross between C and Lua as plain tables (see kd_lua_push_value):
 * lists carry the "kedge.list" metatable, null is the kedge.null sentinel,
 * ints stay Lua integers and floats Lua floats. */
#ifndef KD_LUA_KLUA_H
#define KD_LUA_KLUA_H

#include "base/buf.h"
#include "base/err.h"
#include "base/value.h"

#include <lua.h>
#include <stddef.h>

typedef struct kd_lua_embedded {
	const char *path;   /* "lua/kedge/log.lua" */
	const char *module; /* "kedge.log" */
	const char *data;   /* source, or bytecode when binary */
	size_t len;
	int binary;         /* the library under lua/, precompiled (tools/embed.c) */
} kd_lua_embedded;

/* Generated at build time; ends with an all-NULL entry. */
extern const kd_lua_embedded kd_lua_embedded_files[];

typedef struct kd_lua kd_lua;

/* A new state with the standard libraries and kedge's modules in
 * package.preload. heap_limit caps the state's memory (bytes). */
int kd_lua_new(kd_lua **out, size_t heap_limit, kd_err *err);
void kd_lua_free(kd_lua *kl);
/* The Lua state of kl, for callers that drive it themselves (the fuzz
 * target of the Lua parsers). */
lua_State *kd_lua_state(kd_lua *kl);
/* The heap of a state (heap.c): bytes the allocator handed out and not yet
 * freed, and the cap allocations that would pass it fail against. */
typedef struct kd_lua_heap {
	size_t used;
	size_t limit;
} kd_lua_heap;

/* The lua_Alloc that counts into the kd_lua_heap given as its ud. */
void *kd_lua_heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Bytes held by the state that L belongs to, and its heap limit: set a new
 * limit and get the previous one back (the sandbox narrows it per call). */
size_t kd_lua_heap_used(lua_State *L);
size_t kd_lua_swap_heap_limit(lua_State *L, size_t limit);

/* Runs require(module)[func]({argv...}): the command line, handed to Lua
 * whole; its integer result is the exit status put in *status. A Lua error
 * fills err (with a traceback) and returns non-zero. */
int kd_lua_run_main(kd_lua *kl, const char *module, const char *func,
		    int argc, char **argv, int *status, kd_err *err);

/* Pushes v as a Lua value. Raises a Lua error past KD_LIMIT_DEPTH. */
void kd_lua_push_value(lua_State *L, const kd_value *v);
/* Converts the Lua value at idx (nil becomes null). Tables that carry the
 * list metatable, or whose keys are exactly 1..n, become lists; other
 * tables become maps with keys sorted bytewise (Lua has no order to keep);
 * number keys are written in decimal. Functions, threads and foreign
 * userdata are refused with KD_ETYPE. */
int kd_lua_to_value(lua_State *L, int idx, kd_arena *a, kd_value **out,
		    kd_err *err);

/* Helm's lookup for a render binding whose options table is at stack
 * index 3 (kedge.tmpl.render, chart:render): calls its lookup function
 * (apiVersion, kind, namespace, name) -> object or nil, err, with ud the
 * lua_State; a kd_chart_lookup_fn. */
int kd_lua_opts_lookup(void *ud, const char *api_version, const char *kind,
		       const char *ns, const char *name, kd_arena *a,
		       kd_value **out, kd_err *err);

/* Pushes a userdata holding a fresh arena and returns the arena. A Lua
 * error (out of memory while pushing a result) cannot leak it: the
 * userdata's __gc frees it. Callers free it themselves when done;
 * kd_arena_free is idempotent. */
kd_arena *kd_lua_push_arena(lua_State *L, size_t limit);

/* The endings every decode/encode binding shares: on rc != 0 push nil and
 * err's message (2 results); otherwise push the value or the buffer's bytes
 * (1 result). Both release what they were given (arena, buffer). */
int kd_lua_return_value(lua_State *L, int rc, const kd_value *v, kd_arena *a,
			const kd_err *err);
int kd_lua_return_buf(lua_State *L, int rc, kd_buf *out, const kd_err *err);

/* Fields of an options table at idx (which may be none or nil): the
 * value, or def when absent; a field of the wrong type raises. */
const char *kd_lua_opt_string(lua_State *L, int idx, const char *field,
			      const char *def);
int kd_lua_opt_bool(lua_State *L, int idx, const char *field, int def);
lua_Integer kd_lua_opt_integer(lua_State *L, int idx, const char *field,
			       lua_Integer def);
/* The bytes of a credential option: a kedge.Secret (kedge.kubeconfig) or
 * a string; NULL when absent. Valid while the options table holds it;
 * raises on another type or a closed secret. */
const char *kd_lua_opt_secret(lua_State *L, int idx, const char *field);
/* A number of seconds at options[field]: 1 with *out set, 0 when absent;
 * anything but a number raises. */
int kd_lua_opt_number(lua_State *L, int idx, const char *field, double *out);
/* An expected failure, as Lua functions return it: pushes nil and err's
 * message; returns 2 (the results). */
int kd_lua_fail(lua_State *L, const kd_err *err);
/* opts.numbers: "native" (0, the default) or "float" (1). */
int kd_lua_opt_numbers_as_float(lua_State *L, int idx);
/* Turns every integer in v into a float, as Helm's values files read
 * (for opts.numbers "float"); stops below KD_LIMIT_DEPTH. */
void kd_lua_values_to_float(kd_value *v);

/* The sentinel that stands for null, and the list marker metatable. */
void kd_lua_push_null(lua_State *L);
int kd_lua_is_null(lua_State *L, int idx);
void kd_lua_set_list(lua_State *L, int idx);

/* Opening functions of the C modules (registered in package.preload). */
int kd_lua_open_core(lua_State *L);
int kd_lua_open_yaml(lua_State *L);
int kd_lua_open_json(lua_State *L);
int kd_lua_open_limits(lua_State *L);
int kd_lua_open_sandbox(lua_State *L);
int kd_lua_open_tmpl(lua_State *L);
int kd_lua_open_http(lua_State *L);
int kd_lua_open_semver(lua_State *L);
int kd_lua_open_age(lua_State *L);
int kd_lua_open_git(lua_State *L);
int kd_lua_open_kubeconfig(lua_State *L);
int kd_lua_open_chart(lua_State *L);
int kd_lua_open_os(lua_State *L);
/* Adds the resident agent's functions (mod_osev.c) to the kedge.os table
 * on top of the stack. */
void kd_lua_os_events(lua_State *L);
int kd_lua_open_proc(lua_State *L);
int kd_lua_open_regex(lua_State *L);
int kd_lua_open_digest(lua_State *L);

#endif
