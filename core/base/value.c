#include "base/value.h"

#include "base/err.h"
#include "base/limits.h"

#include <stdlib.h>
#include <string.h>

/* Maps up to this many entries are searched linearly; bigger ones get an
 * open-addressing index. */
#define MAP_INDEX_MIN 12

static kd_value *new_value(kd_arena *a, kd_vtype t)
{
	kd_value *v = kd_arena_alloc(a, sizeof(*v));

	if (v) {
		memset(v, 0, sizeof(*v));
		v->type = t;
	}
	return v;
}

kd_value *kd_value_null(kd_arena *a)
{
	return new_value(a, KD_NULL);
}

kd_value *kd_value_bool(kd_arena *a, bool b)
{
	kd_value *v = new_value(a, KD_BOOL);

	if (v)
		v->u.b = b;
	return v;
}

kd_value *kd_value_int(kd_arena *a, int64_t i)
{
	kd_value *v = new_value(a, KD_INT);

	if (v)
		v->u.i = i;
	return v;
}

kd_value *kd_value_float(kd_arena *a, double f)
{
	kd_value *v = new_value(a, KD_FLOAT);

	if (v)
		v->u.f = f;
	return v;
}

kd_value *kd_value_str_ref(kd_arena *a, const char *s, size_t n)
{
	kd_value *v = new_value(a, KD_STR);

	if (v) {
		v->u.str.ptr = s;
		v->u.str.len = n;
	}
	return v;
}

kd_value *kd_value_str(kd_arena *a, const char *s, size_t n)
{
	char *p = kd_arena_strndup(a, s, n);

	return p ? kd_value_str_ref(a, p, n) : NULL;
}

kd_value *kd_value_strz(kd_arena *a, const char *s)
{
	return kd_value_str(a, s, strlen(s));
}

kd_value *kd_value_list(kd_arena *a, size_t cap_hint)
{
	kd_value *v = new_value(a, KD_LIST);

	if (v && cap_hint) {
		v->u.list.items = kd_arena_alloc(a, cap_hint * sizeof(kd_value *));
		if (!v->u.list.items)
			return NULL;
		v->u.list.cap = cap_hint;
	}
	return v;
}

kd_value *kd_value_map(kd_arena *a, size_t cap_hint)
{
	kd_value *v = new_value(a, KD_MAP);

	if (v && cap_hint) {
		v->u.map.ents = kd_arena_alloc(a, cap_hint * sizeof(kd_map_ent));
		if (!v->u.map.ents)
			return NULL;
		v->u.map.cap = cap_hint;
	}
	return v;
}

static int arena_code(kd_arena *a)
{
	return a->failed ? a->failed : KD_ENOMEM;
}

int kd_list_push(kd_arena *a, kd_value *list, kd_value *item)
{
	if (list->u.list.len == list->u.list.cap) {
		size_t ncap = list->u.list.cap ? list->u.list.cap * 2 : 4;
		kd_value **p = kd_arena_grow(a, list->u.list.items,
					     list->u.list.len * sizeof(*p),
					     ncap * sizeof(*p));

		if (!p)
			return arena_code(a);
		list->u.list.items = p;
		list->u.list.cap = ncap;
	}
	list->u.list.items[list->u.list.len++] = item;
	return 0;
}

int kd_bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static uint64_t hash_key(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--) {
		h ^= (unsigned char)*k++;
		h *= 1099511628211ull;
	}
	return h;
}

static void index_insert(kd_value *m, size_t ent)
{
	size_t mask = m->u.map.index_cap - 1;
	const kd_map_ent *e = &m->u.map.ents[ent];
	size_t slot = hash_key(e->key, e->klen) & mask;

	while (m->u.map.index[slot])
		slot = (slot + 1) & mask;
	m->u.map.index[slot] = (uint32_t)(ent + 1);
}

/* (Re)builds the index for at least `want` entries. */
static int index_build(kd_arena *a, kd_value *m, size_t want)
{
	size_t cap = 32;
	size_t i;

	while (cap < want * 2)
		cap *= 2;
	if (cap > UINT32_MAX)
		return KD_ELIMIT;
	m->u.map.index = kd_arena_zalloc(a, cap * sizeof(uint32_t));
	if (!m->u.map.index) {
		m->u.map.index_cap = 0;
		return arena_code(a);
	}
	m->u.map.index_cap = cap;
	for (i = 0; i < m->u.map.len; i++)
		index_insert(m, i);
	return 0;
}

static long find_ent(const kd_value *m, const char *key, size_t klen)
{
	size_t i;

	if (m->u.map.index) {
		size_t mask = m->u.map.index_cap - 1;
		size_t slot = hash_key(key, klen) & mask;
		uint32_t e;

		while ((e = m->u.map.index[slot]) != 0) {
			const kd_map_ent *ent = &m->u.map.ents[e - 1];

			if (ent->klen == klen && !memcmp(ent->key, key, klen))
				return (long)(e - 1);
			slot = (slot + 1) & mask;
		}
		return -1;
	}
	for (i = 0; i < m->u.map.len; i++) {
		const kd_map_ent *ent = &m->u.map.ents[i];

		if (ent->klen == klen && !memcmp(ent->key, key, klen))
			return (long)i;
	}
	return -1;
}

kd_value *kd_map_get(const kd_value *map, const char *key, size_t klen)
{
	long i;

	if (!map || map->type != KD_MAP)
		return NULL;
	i = find_ent(map, key, klen);
	return i < 0 ? NULL : map->u.map.ents[i].val;
}

kd_value *kd_map_getz(const kd_value *map, const char *key)
{
	return kd_map_get(map, key, strlen(key));
}

int kd_map_set(kd_arena *a, kd_value *map, const char *key, size_t klen,
	       kd_value *val)
{
	long i = find_ent(map, key, klen);
	kd_map_ent *e;
	char *k;
	int rc;

	if (i >= 0) {
		map->u.map.ents[i].val = val;
		return 0;
	}
	if (map->u.map.len >= UINT32_MAX - 1)
		return KD_ELIMIT;
	if (map->u.map.len == map->u.map.cap) {
		size_t ncap = map->u.map.cap ? map->u.map.cap * 2 : 4;
		kd_map_ent *p = kd_arena_grow(a, map->u.map.ents,
					      map->u.map.len * sizeof(*p),
					      ncap * sizeof(*p));

		if (!p)
			return arena_code(a);
		map->u.map.ents = p;
		map->u.map.cap = ncap;
	}
	k = kd_arena_strndup(a, key, klen);
	if (!k)
		return arena_code(a);
	e = &map->u.map.ents[map->u.map.len++];
	e->key = k;
	e->klen = klen;
	e->val = val;
	if (map->u.map.index && map->u.map.len * 2 <= map->u.map.index_cap) {
		index_insert(map, map->u.map.len - 1);
	} else if (map->u.map.len > MAP_INDEX_MIN) {
		rc = index_build(a, map, map->u.map.len * 2);
		if (rc)
			return rc;
	}
	return 0;
}

int kd_map_setz(kd_arena *a, kd_value *map, const char *key, kd_value *val)
{
	return kd_map_set(a, map, key, strlen(key), val);
}

int kd_map_del(kd_arena *a, kd_value *map, const char *key, size_t klen)
{
	long i = find_ent(map, key, klen);
	kd_map_ent *ents = map->u.map.ents;

	if (i < 0)
		return 0;
	memmove(&ents[i], &ents[i + 1],
		(map->u.map.len - (size_t)i - 1) * sizeof(*ents));
	map->u.map.len--;
	if (map->u.map.index) {
		/* Positions shifted: rebuild in place (same capacity). */
		size_t j;

		memset(map->u.map.index, 0,
		       map->u.map.index_cap * sizeof(uint32_t));
		for (j = 0; j < map->u.map.len; j++)
			index_insert(map, j);
	}
	(void)a;
	return 1;
}

static kd_value *copy_depth(kd_arena *a, const kd_value *v, int depth)
{
	kd_value *c;
	size_t i;

	if (depth > KD_LIMIT_DEPTH) {
		a->failed = KD_ELIMIT;
		return NULL;
	}
	switch (v->type) {
	case KD_NULL: return kd_value_null(a);
	case KD_BOOL: return kd_value_bool(a, v->u.b);
	case KD_INT: return kd_value_int(a, v->u.i);
	case KD_FLOAT: return kd_value_float(a, v->u.f);
	case KD_STR: return kd_value_str(a, v->u.str.ptr, v->u.str.len);
	case KD_LIST:
		c = kd_value_list(a, v->u.list.len);
		if (!c)
			return NULL;
		for (i = 0; i < v->u.list.len; i++) {
			kd_value *item = copy_depth(a, v->u.list.items[i], depth + 1);

			if (!item || kd_list_push(a, c, item))
				return NULL;
		}
		return c;
	case KD_MAP:
		c = kd_value_map(a, v->u.map.len);
		if (!c)
			return NULL;
		for (i = 0; i < v->u.map.len; i++) {
			const kd_map_ent *e = &v->u.map.ents[i];
			kd_value *item = copy_depth(a, e->val, depth + 1);

			if (!item || kd_map_set(a, c, e->key, e->klen, item))
				return NULL;
		}
		return c;
	}
	return NULL;
}

kd_value *kd_value_copy(kd_arena *a, const kd_value *v)
{
	return copy_depth(a, v, 0);
}

static bool equal_depth(const kd_value *x, const kd_value *y, int depth)
{
	size_t i;

	if (x == y)
		return true;
	if (x->type != y->type || depth > KD_LIMIT_DEPTH)
		return false;
	switch (x->type) {
	case KD_NULL: return true;
	case KD_BOOL: return x->u.b == y->u.b;
	case KD_INT: return x->u.i == y->u.i;
	case KD_FLOAT: return x->u.f == y->u.f;
	case KD_STR:
		return x->u.str.len == y->u.str.len &&
		       !memcmp(x->u.str.ptr, y->u.str.ptr, x->u.str.len);
	case KD_LIST:
		if (x->u.list.len != y->u.list.len)
			return false;
		for (i = 0; i < x->u.list.len; i++)
			if (!equal_depth(x->u.list.items[i], y->u.list.items[i],
					 depth + 1))
				return false;
		return true;
	case KD_MAP:
		if (x->u.map.len != y->u.map.len)
			return false;
		for (i = 0; i < x->u.map.len; i++) {
			const kd_map_ent *e = &x->u.map.ents[i];
			const kd_value *o = kd_map_get(y, e->key, e->klen);

			if (!o || !equal_depth(e->val, o, depth + 1))
				return false;
		}
		return true;
	}
	return false;
}

bool kd_value_equal(const kd_value *x, const kd_value *y)
{
	return equal_depth(x, y, 0);
}

const char *kd_vtype_name(kd_vtype t)
{
	switch (t) {
	case KD_NULL: return "null";
	case KD_BOOL: return "bool";
	case KD_INT: return "int";
	case KD_FLOAT: return "float";
	case KD_STR: return "string";
	case KD_LIST: return "list";
	case KD_MAP: return "map";
	}
	return "unknown";
}
