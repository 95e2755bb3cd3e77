#include "base/arena.h"

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (32u << 10)
#define ALIGN alignof(max_align_t)

struct kd_arena_chunk {
	kd_arena_chunk *next;
	size_t size;
	size_t off;
	alignas(max_align_t) unsigned char data[];
};

void kd_arena_init(kd_arena *a, size_t limit)
{
	a->head = NULL;
	a->used = 0;
	a->limit = limit;
	a->failed = 0;
	a->spare = NULL;
}

/* Freed standard chunks kept for the next arena. musl's allocator unmaps
 * a 32 KiB block as soon as it is freed, and every decode, render and
 * report makes a short-lived arena: kedge fleet status over 5,000 sites
 * made 51,000 mmap/munmap pairs. Per thread, as arenas are never shared
 * between threads; at most KD_LIMIT_ARENA_CACHE_CHUNKS chunks. */
static _Thread_local kd_arena_chunk *cache;
static _Thread_local int cached;

/* Every chunk's malloc and free is counted (base/mem.h); a chunk kept in
 * the cache stays counted, as it stays on the heap. */
static void drop_chunk(kd_arena_chunk *c)
{
	kd_mem_release(sizeof(*c) + c->size);
	free(c);
}

static void free_chunks(kd_arena_chunk *c)
{
	kd_arena_chunk *next;

	for (; c; c = next) {
		next = c->next;
		if (c->size == CHUNK_SIZE && cached < KD_LIMIT_ARENA_CACHE_CHUNKS) {
			c->next = cache;
			cache = c;
			cached++;
		} else {
			drop_chunk(c);
		}
	}
}

void kd_arena_trim(void)
{
	kd_arena_chunk *c = cache, *next;

	for (; c; c = next) {
		next = c->next;
		drop_chunk(c);
	}
	cache = NULL;
	cached = 0;
}

void kd_arena_free(kd_arena *a)
{
	if (!a)
		return;
	free_chunks(a->head);
	free_chunks(a->spare);
	kd_arena_init(a, a->limit);
}

void kd_arena_reset(kd_arena *a)
{
	kd_arena_chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		if (c->size == CHUNK_SIZE) {
			c->off = 0;
			c->next = a->spare;
			a->spare = c;
		} else {
			drop_chunk(c);
		}
	}
	a->head = NULL;
	a->used = 0;
	a->failed = 0;
}

int kd_arena_owns(const kd_arena *a, const void *p)
{
	const unsigned char *u = p;
	const kd_arena_chunk *c;

	for (c = a->head; c; c = c->next)
		if (u >= c->data && u < c->data + c->off)
			return 1;
	return 0;
}

int kd_arena_adopt(kd_arena *dst, kd_arena *src)
{
	kd_arena_chunk *c;

	if (src->used > dst->limit - dst->used)
		return KD_ELIMIT;
	if (src->head) {
		/* src's chunks go behind dst's current one, whose free space
		 * stays in use */
		for (c = src->head; c->next; c = c->next)
			;
		if (dst->head) {
			c->next = dst->head->next;
			dst->head->next = src->head;
		} else {
			dst->head = src->head;
		}
	}
	dst->used += src->used;
	free_chunks(src->spare);
	kd_arena_init(src, src->limit);
	return 0;
}

void kd_arena_wipe_free(kd_arena *a)
{
	kd_arena_chunk *c;

	if (!a)
		return;
	for (c = a->head; c; c = c->next)
		explicit_bzero(c->data, c->size);
	for (c = a->spare; c; c = c->next)
		explicit_bzero(c->data, c->size);
	kd_arena_free(a);
}

static kd_arena_chunk *new_chunk(size_t size)
{
	kd_arena_chunk *c;

	if (kd_mem_charge(sizeof(*c) + size))
		return NULL;
	c = malloc(sizeof(*c) + size);
	if (!c) {
		kd_mem_release(sizeof(*c) + size);
		return NULL;
	}
	c->next = NULL;
	c->size = size;
	c->off = 0;
	return c;
}

void *kd_arena_alloc(kd_arena *a, size_t size)
{
	kd_arena_chunk *c = a->head;
	size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (size > SIZE_MAX / 2 || need > a->limit - a->used) {
		a->failed = KD_ELIMIT;
		return NULL;
	}
	if (!c || c->size - c->off < need) {
		if (need > CHUNK_SIZE / 4) {
			/* A big block gets its own chunk behind the current one so
			 * the current chunk's free space is not wasted. */
			kd_arena_chunk *big = new_chunk(need);

			if (!big) {
				a->failed = KD_ENOMEM;
				return NULL;
			}
			big->off = need;
			if (c) {
				big->next = c->next;
				c->next = big;
			} else {
				a->head = big;
			}
			a->used += need;
			return big->data;
		}
		if (a->spare) {
			c = a->spare;
			a->spare = c->next;
		} else if (cache) {
			c = cache;
			cache = c->next;
			cached--;
			c->off = 0;
		} else {
			c = new_chunk(CHUNK_SIZE);
		}
		if (!c) {
			a->failed = KD_ENOMEM;
			return NULL;
		}
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

void *kd_arena_zalloc(kd_arena *a, size_t size)
{
	void *p = kd_arena_alloc(a, size);

	if (p)
		memset(p, 0, size);
	return p;
}

char *kd_arena_strndup(kd_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX) {
		a->failed = KD_ELIMIT;
		return NULL;
	}
	p = kd_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *kd_arena_strdup(kd_arena *a, const char *s)
{
	return kd_arena_strndup(a, s, strlen(s));
}

void *kd_arena_grow(kd_arena *a, void *old, size_t old_size, size_t new_size)
{
	void *p;

	if (new_size <= old_size)
		return old;
	p = kd_arena_alloc(a, new_size);
	if (p && old_size)
		memcpy(p, old, old_size);
	return p;
}
