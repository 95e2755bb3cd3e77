/* The value type, arena, buffer and Go-style number formatting. */
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/num.h"
#include "base/value.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>

static void check_float(double f, char fmt, int prec, const char *want)
{
	kd_buf b = KD_BUF_INIT(1024);

	kd_num_format_float(&b, f, fmt, prec);
	is_str(b.ptr, b.len, want, "FormatFloat(%.17g, '%c', %d)", f, fmt, prec);
	kd_buf_free(&b);
}

static void test_numbers(void)
{
	/* Expectations are what Go's strconv.FormatFloat prints. */
	check_float(1, 'g', -1, "1");
	check_float(1.5, 'g', -1, "1.5");
	check_float(1e6, 'g', -1, "1e+06");
	check_float(123456, 'g', -1, "123456");
	check_float(1234567, 'g', -1, "1.234567e+06");
	check_float(0.0001, 'g', -1, "0.0001");
	check_float(0.00001, 'g', -1, "1e-05");
	check_float(0, 'g', -1, "0");
	check_float(-0.0, 'g', -1, "-0");
	check_float(0.1 + 0.2, 'g', -1, "0.30000000000000004");
	check_float(1e21, 'g', -1, "1e+21");
	check_float(1e100, 'g', -1, "1e+100");
	check_float(5e-324, 'g', -1, "5e-324");
	check_float(1.7976931348623157e308, 'g', -1, "1.7976931348623157e+308");
	check_float(NAN, 'g', -1, "NaN");
	check_float(INFINITY, 'g', -1, "+Inf");
	check_float(-INFINITY, 'g', -1, "-Inf");
	check_float(3.14159, 'f', 2, "3.14");
	check_float(2.5, 'f', 0, "2");
	check_float(1e6, 'f', -1, "1000000");
	check_float(0.000123, 'f', -1, "0.000123");
	check_float(1234.5678, 'e', 3, "1.235e+03");
	check_float(1234.5678, 'e', -1, "1.2345678e+03");
	check_float(1.0, 'g', 3, "1");
	check_float(123456789, 'g', 3, "1.23e+08");
	check_float(0.000012345, 'g', 2, "1.2e-05");
	check_float(100, 'g', 2, "1e+02");
	check_float(0, 'e', -1, "0e+00");
	check_float(1e-7, 'E', -1, "1E-07");
}

static void test_buf(void)
{
	kd_buf b = KD_BUF_INIT(8);

	ok(b.ptr[0] == '\0' && b.len == 0, "empty buffer is a valid string");
	is_int(kd_buf_puts(&b, "abcd"), 0, "append within limit");
	is_int(kd_buf_printf(&b, "%d", 1234), 0, "printf within limit");
	is_str(b.ptr, b.len, "abcd1234", "contents");
	is_int(kd_buf_putc(&b, 'x'), KD_ELIMIT, "append past limit fails");
	is_str(b.ptr, b.len, "abcd1234", "contents kept after a failed append");
	is_int(kd_buf_puts(&b, ""), KD_ELIMIT, "failure is sticky");
	kd_buf_reset(&b);
	is_int(kd_buf_puts(&b, "ok"), 0, "reset clears the failure");
	kd_buf_free(&b);
	kd_buf_free(&b);
	ok(b.len == 0, "free twice is harmless");
}

static void test_arena(void)
{
	kd_arena a = KD_ARENA_INIT(1 << 20);
	char *big, *s;
	int i, aligned = 1;

	for (i = 0; i < 1000; i++) {
		void *p = kd_arena_alloc(&a, (size_t)(i % 13) + 1);

		if (!p || ((uintptr_t)p % sizeof(void *)))
			aligned = 0;
	}
	ok(aligned, "small allocations succeed and are aligned");
	big = kd_arena_alloc(&a, 100000);
	ok(big != NULL, "a large block gets its own chunk");
	s = kd_arena_strndup(&a, "hello world", 5);
	is_strz(s, "hello", "strndup");
	ok(kd_arena_alloc(&a, 2 << 20) == NULL && a.failed == KD_ELIMIT,
	   "allocation past the arena limit fails with KD_ELIMIT");
	ok(kd_arena_owns(&a, s) && kd_arena_owns(&a, big) && !kd_arena_owns(&a, &a),
	   "owns: the arena's blocks, not others");
	kd_arena_reset(&a);
	ok(a.used == 0 && a.failed == 0 && !kd_arena_owns(&a, s),
	   "reset empties the arena");
	s = kd_arena_strdup(&a, "again");
	ok(s && !strcmp(s, "again") && a.spare == NULL,
	   "after a reset the kept chunk is used again");
	{
		kd_arena b = KD_ARENA_INIT(1 << 20), small = KD_ARENA_INIT(8);
		char *t = kd_arena_strdup(&b, "moved");

		kd_arena_alloc(&b, 100000);
		ok(kd_arena_adopt(&a, &b) == 0 && kd_arena_owns(&a, t) &&
		   b.used == 0 && !b.head && !strcmp(t, "moved"),
		   "adopt moves the blocks and leaves the source empty");
		ok(kd_arena_adopt(&small, &a) == KD_ELIMIT && kd_arena_owns(&a, t),
		   "adopt past the limit moves nothing");
		kd_arena_free(&b);
	}
	kd_arena_free(&a);
	ok(a.head == NULL && a.used == 0, "free releases everything");
}

static void test_values(void)
{
	kd_arena a = KD_ARENA_INIT(64 << 20);
	kd_value *m = kd_value_map(&a, 0), *l = kd_value_list(&a, 0), *c;
	char key[32];
	int i, found = 1, ordered = 1;

	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		kd_map_setz(&a, m, key, kd_value_int(&a, i));
	}
	for (i = 0; i < 1000; i++) {
		kd_value *v;

		snprintf(key, sizeof(key), "k%d", i);
		v = kd_map_getz(m, key);
		if (!v || v->type != KD_INT || v->u.i != i)
			found = 0;
		if (strcmp(m->u.map.ents[i].key, key))
			ordered = 0;
	}
	ok(found, "1000 keys are found through the index");
	ok(ordered, "insertion order is kept");
	kd_map_setz(&a, m, "k5", kd_value_strz(&a, "five"));
	ok(m->u.map.len == 1000 && !strcmp(m->u.map.ents[5].key, "k5") &&
		   m->u.map.ents[5].val->type == KD_STR,
	   "setting an existing key replaces in place");
	is_int(kd_map_del(&a, m, "k0", 2), 1, "delete an existing key");
	is_int(kd_map_del(&a, m, "k0", 2), 0, "delete a missing key");
	ok(kd_map_getz(m, "k999") && kd_map_getz(m, "k999")->u.i == 999,
	   "lookups still work after a delete");
	is_strz(m->u.map.ents[0].key, "k1", "order shifts after a delete");

	kd_map_set(&a, m, "a\0b", 3, kd_value_null(&a));
	ok(kd_map_get(m, "a\0b", 3) && !kd_map_getz(m, "a"),
	   "keys may contain NUL bytes");

	c = kd_value_map(&a, 0);
	kd_map_setz(&a, c, "b", kd_value_int(&a, 1));
	kd_map_setz(&a, c, "a", kd_value_int(&a, 2));

	kd_list_push(&a, l, kd_value_bool(&a, true));
	kd_list_push(&a, l, kd_value_float(&a, 1.5));
	kd_list_push(&a, l, c);
	kd_map_setz(&a, m, "list", l);
	ok(kd_value_equal(m, kd_value_copy(&a, m)), "a deep copy is equal");
	ok(!kd_value_equal(kd_value_int(&a, 1), kd_value_float(&a, 1)),
	   "int 1 and float 1 differ");
	is_strz(kd_vtype_name(KD_MAP), "map", "type names");

	for (i = 0, c = l; i < 300; i++) {
		kd_value *n = kd_value_list(&a, 1);

		kd_list_push(&a, n, c);
		c = n;
	}
	ok(kd_value_copy(&a, c) == NULL && a.failed == KD_ELIMIT,
	   "copy stops at the depth limit");
	kd_arena_free(&a);
}

int main(void)
{
	test_numbers();
	test_buf();
	test_arena();
	test_values();
	return tap_done();
}
