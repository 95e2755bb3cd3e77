/* kd_value: the one data type that carries data through kedge. YAML and
 * JSON decode into it, the template engine reads it, Lua sees it and the
 * Kubernetes client sends it.
 *
 * - Types: null, bool, int (int64), float (double), string, list, map.
 * - Strings are byte strings (ptr, len), may hold NULs, and are always
 *   NUL-terminated at ptr[len] so they can go to C string functions.
 * - Maps keep insertion order; writers whose output must sort (Go sorts
 *   map keys bytewise) sort a copy. Keys are byte strings too. A map of more than a few entries gets a hash index, so lookups stay
 *   O(1) on large maps.
 * - Every value, string and array lives in a kd_arena passed to the
 *   constructor; there is no per-value free. Lists and maps hold pointers,
 *   so one value may be shared by several containers (Sprig's dict and list
 *   functions rely on that aliasing).
 * - Functions that take untrusted depth (copy, equal) stop at
 *   KD_LIMIT_DEPTH. */
#ifndef KD_BASE_VALUE_H
#define KD_BASE_VALUE_H

#include "base/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum kd_vtype {
	KD_NULL,
	KD_BOOL,
	KD_INT,
	KD_FLOAT,
	KD_STR,
	KD_LIST,
	KD_MAP,
} kd_vtype;

typedef struct kd_value kd_value;

typedef struct kd_map_ent {
	const char *key; /* NUL-terminated at key[klen] */
	size_t klen;
	kd_value *val;
} kd_map_ent;

struct kd_value {
	kd_vtype type;
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			const char *ptr;
			size_t len;
		} str;
		struct {
			kd_value **items;
			size_t len, cap;
		} list;
		struct {
			kd_map_ent *ents;
			size_t len, cap;
			uint32_t *index; /* slot -> entry + 1; NULL while small */
			size_t index_cap;
		} map;
	} u;
};

/* Constructors: NULL when the arena fails (see a->failed). */
kd_value *kd_value_null(kd_arena *a);
kd_value *kd_value_bool(kd_arena *a, bool b);
kd_value *kd_value_int(kd_arena *a, int64_t i);
kd_value *kd_value_float(kd_arena *a, double f);
/* Copies n bytes into the arena. */
kd_value *kd_value_str(kd_arena *a, const char *s, size_t n);
kd_value *kd_value_strz(kd_arena *a, const char *s);
/* Points at s without copying: s[n] must be NUL and s must outlive a. */
kd_value *kd_value_str_ref(kd_arena *a, const char *s, size_t n);
kd_value *kd_value_list(kd_arena *a, size_t cap_hint);
kd_value *kd_value_map(kd_arena *a, size_t cap_hint);

/* Appends item to list. KD_ENOMEM / KD_ELIMIT from the arena. */
int kd_list_push(kd_arena *a, kd_value *list, kd_value *item);

/* The value under key, or NULL when absent. */
kd_value *kd_map_get(const kd_value *map, const char *key, size_t klen);
kd_value *kd_map_getz(const kd_value *map, const char *key);
/* Sets key (copied into a) to val. An existing key keeps its position and
 * gets the new value; a new key goes last. */
int kd_map_set(kd_arena *a, kd_value *map, const char *key, size_t klen,
	       kd_value *val);
int kd_map_setz(kd_arena *a, kd_value *map, const char *key, kd_value *val);
/* Removes key keeping the order of the rest; returns 1 if it was there. */
int kd_map_del(kd_arena *a, kd_value *map, const char *key, size_t klen);

/* A deep copy into a. NULL on arena failure or past KD_LIMIT_DEPTH (then
 * a->failed is KD_ELIMIT). */
kd_value *kd_value_copy(kd_arena *a, const kd_value *v);
/* Deep equality: same types and contents; map order does not matter. */
bool kd_value_equal(const kd_value *x, const kd_value *y);

/* "null", "bool", "int", "float", "string", "list", "map". */
const char *kd_vtype_name(kd_vtype t);

/* Bytewise comparison of two byte strings, as Go compares strings. */
int kd_bytes_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
