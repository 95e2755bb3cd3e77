/* kd_arena: bump allocation for everything that lives as long as one
 * decode, one render or one pass, released in one step by kd_arena_free().
 * Large requests get a chunk of their own. The arena has a byte limit;
 * past it (or when malloc fails) allocations return NULL and `failed` is
 * set, so deep callers can report KD_ENOMEM / KD_ELIMIT precisely. */
#ifndef KD_BASE_ARENA_H
#define KD_BASE_ARENA_H

#include <stddef.h>

typedef struct kd_arena_chunk kd_arena_chunk;

typedef struct kd_arena {
	kd_arena_chunk *head;
	size_t used;   /* bytes handed out, the figure the limit applies to */
	size_t limit;
	int failed;    /* 0, KD_ENOMEM or KD_ELIMIT: why the last NULL came */
	kd_arena_chunk *spare; /* emptied chunks kd_arena_reset kept */
} kd_arena;

#define KD_ARENA_INIT(lim) {NULL, 0, (lim), 0, NULL}

void kd_arena_init(kd_arena *a, size_t limit);
void kd_arena_free(kd_arena *a);
/* kd_arena_free for an arena that held secrets (a kubeconfig's keys and
 * tokens): every chunk is zeroed first, in a way the compiler keeps. */
void kd_arena_wipe_free(kd_arena *a);
/* Releases everything handed out, but keeps the ordinary chunks for the
 * next allocations: a loop that fills and empties an arena (one template
 * after another) touches the same pages again instead of new ones. */
void kd_arena_reset(kd_arena *a);
/* Whether p points into memory a handed out. Linear in a's chunks. */
int kd_arena_owns(const kd_arena *a, const void *p);
/* Moves everything src handed out into dst, which then frees it; src is
 * left empty (its spare chunks too). KD_ELIMIT when dst's limit would be
 * passed (then nothing moves). */
int kd_arena_adopt(kd_arena *dst, kd_arena *src);

/* Memory aligned for any type; NULL on failure. size 0 gives a valid
 * pointer. */
void *kd_arena_alloc(kd_arena *a, size_t size);
void *kd_arena_zalloc(kd_arena *a, size_t size);
/* Copies n bytes and adds a NUL. */
char *kd_arena_strndup(kd_arena *a, const char *s, size_t n);
char *kd_arena_strdup(kd_arena *a, const char *s);
/* Grows an array that was allocated from this arena (the old block is
 * abandoned, not freed). */
void *kd_arena_grow(kd_arena *a, void *old, size_t old_size, size_t new_size);

#endif
