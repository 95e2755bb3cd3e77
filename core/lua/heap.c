/* The Lua heap's accounting: a counting allocator with a cap, below both
 * the host (which creates the state with it) and the sandbox (which
 * narrows the cap per call), so neither calls the other for it. */
#include "lua/klua.h"

#include <stdlib.h>

void *kd_lua_heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	kd_lua_heap *h = ud;
	void *p;

	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		h->used -= osize;
		return NULL;
	}
	if (nsize > osize && nsize - osize > h->limit - h->used)
		return NULL;
	p = realloc(ptr, nsize);
	if (p)
		h->used = h->used - osize + nsize;
	return p;
}

static kd_lua_heap *heap_of(lua_State *L)
{
	void *ud;

	lua_getallocf(L, &ud);
	return ud;
}

size_t kd_lua_heap_used(lua_State *L)
{
	return heap_of(L)->used;
}

size_t kd_lua_swap_heap_limit(lua_State *L, size_t limit)
{
	kd_lua_heap *h = heap_of(L);
	size_t old = h->limit;

	h->limit = limit;
	return old;
}
