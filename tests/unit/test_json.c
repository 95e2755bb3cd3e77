/* JSON decoding and encoding (core/json). Expected encodings are what Go's
 * encoding/json prints for the same values. */
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/value.h"
#include "json/json.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kd_arena arena = KD_ARENA_INIT(256u << 20);

static const kd_json_decode_opts as_float = {.numbers_as_float = 1};

/* Decodes text (NUL-terminated) or fails the test run loudly. */
static kd_value *dec(const char *text, const kd_json_decode_opts *opts)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v;
	int rc = kd_json_decode(&v, &arena, text, strlen(text), "t.json", opts,
				&err);

	if (rc)
		diag("decode '%s': %s", text, err.msg);
	return v;
}

/* Encodes v with opts and compares the text with want. */
static void check_enc(const kd_value *v, const kd_json_encode_opts *opts,
		      const char *want, const char *name)
{
	kd_buf b = KD_BUF_INIT(1 << 20);
	kd_err err = KD_ERR_INIT;
	int rc = kd_json_encode(&b, v, opts, &err);

	if (rc)
		diag("encode: %s", err.msg);
	is_str(b.ptr, b.len, want, "encode %s", name);
	kd_buf_free(&b);
}

/* Decode then encode compactly: the text should come back as want. */
static void check_both(const char *text, const char *want)
{
	kd_value *v = dec(text, NULL);

	if (!v) {
		ok(0, "decode %s", text);
		return;
	}
	check_enc(v, NULL, want, text);
}

static void check_float(double f, const char *want)
{
	check_enc(kd_value_float(&arena, f), NULL, want, want);
}

static void check_bad(const char *text, size_t len, int code,
		      const char *want)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = (kd_value *)1;
	int rc = kd_json_decode(&v, &arena, text, len, "t.json", NULL, &err);

	ok(rc == code && v == NULL &&
		   !strncmp(err.msg, want, strlen(want)),
	   "reject %s", want);
	if (rc != code || strncmp(err.msg, want, strlen(want)))
		diag("rc %d, message: %s", rc, err.msg);
}

#define BAD(text, want) check_bad((text), sizeof(text) - 1, KD_EPARSE, (want))

static void test_types(void)
{
	kd_value *v;

	v = dec(" null ", NULL);
	ok(v && v->type == KD_NULL, "null");
	v = dec("true", NULL);
	ok(v && v->type == KD_BOOL && v->u.b, "true");
	v = dec("\tfalse\r\n", NULL);
	ok(v && v->type == KD_BOOL && !v->u.b, "false");
	v = dec("-42", NULL);
	ok(v && v->type == KD_INT && v->u.i == -42, "int");
	v = dec("9223372036854775807", NULL);
	ok(v && v->type == KD_INT && v->u.i == INT64_MAX, "int64 max is an int");
	v = dec("-9223372036854775808", NULL);
	ok(v && v->type == KD_INT && v->u.i == INT64_MIN, "int64 min is an int");
	v = dec("9223372036854775808", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 9223372036854775808.0,
	   "past int64 max is a float");
	v = dec("-9223372036854775809", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == -9223372036854775808.0,
	   "past int64 min is a float");
	v = dec("-0", NULL);
	ok(v && v->type == KD_INT && v->u.i == 0, "-0 is the integer 0");
	v = dec("-0.0", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 0 && signbit(v->u.f),
	   "-0.0 is a negative zero float");
	v = dec("1.5e3", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 1500, "float with exponent");
	v = dec("1E+2", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 100, "capital E and plus sign");
	v = dec("0.1", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 0.1, "0.1 is correctly rounded");
	v = dec("2.2250738585072011e-308", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 2.2250738585072011e-308,
	   "hard rounding case near the smallest normal");
	v = dec("5e-324", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 5e-324, "smallest subnormal");
	v = dec("1e-400", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 0 && !signbit(v->u.f),
	   "underflow is 0 as in Go");
	v = dec("0.000000000000000000000000000001234567890123456789012", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 1.234567890123456789012e-30,
	   "many fraction digits");
	v = dec("123456789012345678901234567890", NULL);
	ok(v && v->type == KD_FLOAT && v->u.f == 1.2345678901234568e29,
	   "long integer literal is a float");
	v = dec("\"h\\u00e9llo\"", NULL);
	ok(v && v->type == KD_STR && v->u.str.len == 6 &&
		   !memcmp(v->u.str.ptr, "h\xc3\xa9llo", 7),
	   "string (NUL-terminated)");
	v = dec("[1, \"a\", [], {}, [null]]", NULL);
	ok(v && v->type == KD_LIST && v->u.list.len == 5 &&
		   v->u.list.items[2]->type == KD_LIST &&
		   v->u.list.items[2]->u.list.len == 0 &&
		   v->u.list.items[3]->type == KD_MAP &&
		   v->u.list.items[4]->u.list.items[0]->type == KD_NULL,
	   "list");
	v = dec("{\"z\": 1, \"a\": {\"b\": [true]}, \"m\": \"x\"}", NULL);
	ok(v && v->type == KD_MAP && v->u.map.len == 3 &&
		   !strcmp(v->u.map.ents[0].key, "z") &&
		   !strcmp(v->u.map.ents[1].key, "a") &&
		   !strcmp(v->u.map.ents[2].key, "m") &&
		   kd_map_getz(kd_map_getz(v, "a"), "b")->type == KD_LIST,
	   "map keeps document order");

	check_both("null", "null");
	check_both("[true,false]", "[true,false]");
	check_both(" -9223372036854775808 ", "-9223372036854775808");
	check_both("{ \"a\" : [ 1 , 2.5 , \"x\" ] , \"b\" : { } , \"c\" : [ ] }",
		   "{\"a\":[1,2.5,\"x\"],\"b\":{},\"c\":[]}");
	check_both("1.0", "1");
	check_both("-0.0", "-0");
	check_both("1e2", "100");
	check_both("\"\"", "\"\"");
	check_both("{\"\":\"\"}", "{\"\":\"\"}");
}

static void test_float_format(void)
{
	check_float(1e21, "1e+21");
	check_float(1e20, "100000000000000000000");
	check_float(9.999999999999999e20, "999999999999999900000");
	check_float(0.000001, "0.000001");
	check_float(0.0000001, "1e-7");
	check_float(1.23e-7, "1.23e-7");
	check_float(-1.5e-9, "-1.5e-9");
	check_float(1e-10, "1e-10");
	check_float(1e-100, "1e-100");
	check_float(1e100, "1e+100");
	check_float(123.456, "123.456");
	check_float(-0.0, "-0");
	check_float(0.0, "0");
	check_float(1.0, "1");
	check_float(-3.0, "-3");
	check_float(0.1, "0.1");
	check_float(0.1 + 0.2, "0.30000000000000004");
	check_float(5e-324, "5e-324");
	check_float(1.7976931348623157e308, "1.7976931348623157e+308");
	check_float(9007199254740992.0, "9007199254740992");
	check_float(1152921504606846976.0, "1152921504606847000");
	check_float(12345678.9, "12345678.9");
	check_float(2.5e-6, "0.0000025");
	check_float(-1e21, "-1e+21");
	check_float(3.0e15, "3000000000000000");
}

static void test_float_errors(void)
{
	kd_buf b = KD_BUF_INIT(1024);
	kd_err err = KD_ERR_INIT;
	kd_value *l = kd_value_list(&arena, 2);

	kd_buf_puts(&b, "keep");
	kd_list_push(&arena, l, kd_value_int(&arena, 1));
	kd_list_push(&arena, l, kd_value_float(&arena, NAN));
	is_int(kd_json_encode(&b, l, NULL, &err), KD_EINVAL, "NaN is refused");
	is_strz(err.msg, "json: unsupported value: NaN", "NaN message as Go's");
	is_str(b.ptr, b.len, "keep", "output cut back after an error");
	is_int(kd_json_encode(&b, kd_value_float(&arena, INFINITY), NULL, &err),
	       KD_EINVAL, "+Inf is refused");
	is_strz(err.msg, "json: unsupported value: +Inf", "+Inf message");
	is_int(kd_json_encode(&b, kd_value_float(&arena, -INFINITY), NULL, &err),
	       KD_EINVAL, "-Inf is refused");
	is_strz(err.msg, "json: unsupported value: -Inf", "-Inf message");
	kd_buf_free(&b);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_float_roundtrip(void)
{
	kd_buf b = KD_BUF_INIT(64);
	kd_err err = KD_ERR_INIT;
	kd_arena a = KD_ARENA_INIT(1 << 20);
	kd_value fv = {.type = KD_FLOAT}, *v;
	int i, bad = 0, tested = 0;

	for (i = 0; i < 200000; i++) {
		uint64_t bits = rng(), back;
		double f;

		memcpy(&f, &bits, 8);
		if (isnan(f) || isinf(f))
			continue;
		tested++;
		fv.u.f = f;
		kd_buf_reset(&b);
		if (kd_json_encode(&b, &fv, NULL, &err) ||
		    kd_json_decode(&v, &a, b.ptr, b.len, NULL, &as_float, &err) ||
		    v->type != KD_FLOAT) {
			bad++;
		} else {
			memcpy(&back, &v->u.f, 8);
			if (back != bits && bad++ < 5)
				diag("%016llx -> %s -> %016llx",
				     (unsigned long long)bits, b.ptr,
				     (unsigned long long)back);
		}
		if (i % 4096 == 0)
			kd_arena_free(&a);
	}
	ok(!bad && tested > 199000,
	   "%d random float bit patterns survive encode+decode exactly", tested);
	kd_arena_free(&a);
	kd_buf_free(&b);
}

static void test_numbers_as_float(void)
{
	kd_value *v;

	v = dec("1", &as_float);
	ok(v && v->type == KD_FLOAT && v->u.f == 1, "1 is a float");
	v = dec("-0", &as_float);
	ok(v && v->type == KD_FLOAT && v->u.f == 0 && signbit(v->u.f),
	   "-0 is negative zero");
	v = dec("9007199254740993", &as_float);
	ok(v && v->type == KD_FLOAT && v->u.f == 9007199254740992.0,
	   "2^53+1 rounds to even like ParseFloat");
	v = dec("12345678901234567890", &as_float);
	ok(v && v->type == KD_FLOAT && v->u.f == 12345678901234567890.0,
	   "beyond int64");
	v = dec("[1, {\"a\": -7}]", &as_float);
	ok(v && v->u.list.items[0]->type == KD_FLOAT &&
		   kd_map_getz(v->u.list.items[1], "a")->type == KD_FLOAT &&
		   kd_map_getz(v->u.list.items[1], "a")->u.f == -7,
	   "nested numbers too");
	{
		kd_err err = KD_ERR_INIT;

		is_int(kd_json_decode(&v, &arena, "[1e400]", 7, "t.json",
				      &as_float, &err), KD_EPARSE,
		       "out-of-range floats still fail");
	}
}

static void test_strings(void)
{
	kd_value *v;

	v = dec("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0,
	       "\" \\ / \b \f \n \r \t", "simple escapes");
	v = dec("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0,
	       "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\\u escapes and a pair");
	v = dec("\"a\\u0000b\"", NULL);
	ok(v && v->u.str.len == 3 && !memcmp(v->u.str.ptr, "a\0b", 4),
	   "\\u0000 gives an embedded NUL");
	v = dec("\"\\ud800\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0, "\xef\xbf\xbd",
	       "lone high surrogate is U+FFFD");
	v = dec("\"\\udc00\\ud800\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0,
	       "\xef\xbf\xbd\xef\xbf\xbd", "reversed pair is two U+FFFD");
	v = dec("\"\\ud800\\u0041\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0, "\xef\xbf\xbd" "A",
	       "high surrogate before a non-surrogate");
	v = dec("\"\\ud800\\ud800\\udc00x\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0,
	       "\xef\xbf\xbd\xf0\x90\x80\x80x", "a pair after a lone surrogate");
	v = dec("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0,
	       "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd",
	       "valid UTF-8 is kept");
	v = dec("\"a\xff" "b\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0,
	       "a\xef\xbf\xbd" "b", "a bad byte becomes U+FFFD");
	v = dec("\"\xe2\x82" "a\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0,
	       "\xef\xbf\xbd\xef\xbf\xbd" "a", "each byte of a cut sequence");
	v = dec("\"\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80\"", NULL);
	ok(v && v->u.str.len == 27, "encoded surrogate, overlong and > U+10FFFF "
	   "give one U+FFFD per byte");
	v = dec("\"\\n\xff\"", NULL);
	is_str(v ? v->u.str.ptr : NULL, v ? v->u.str.len : 0, "\n\xef\xbf\xbd",
	       "escape then bad byte");
	v = dec("{\"k\\u00e9y\\n\": 1}", NULL);
	ok(v && v->u.map.len == 1 && v->u.map.ents[0].klen == 5 &&
		   !memcmp(v->u.map.ents[0].key, "k\xc3\xa9y\n", 5),
	   "escaped key");

	check_enc(kd_value_str(&arena, "a\"b\\c\n\r\t\b\f\x01\x1f\x7f", 13),
		  NULL, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"",
		  "control characters");
	check_enc(kd_value_str(&arena, "\0", 1), NULL, "\"\\u0000\"", "NUL");
	check_enc(kd_value_strz(&arena, "<a href=\"x\">&amp;</a>"), NULL,
		  "\"<a href=\\\"x\\\">&amp;</a>\"", "HTML kept by default");
	check_enc(kd_value_strz(&arena, "<a>&amp;</a>"),
		  &(kd_json_encode_opts){.escape_html = 1},
		  "\"\\u003ca\\u003e\\u0026amp;\\u003c/a\\u003e\"",
		  "HTML escaped like json.Marshal");
	check_enc(kd_value_strz(&arena, "x\xe2\x80\xa8y\xe2\x80\xa9z"), NULL,
		  "\"x\\u2028y\\u2029z\"", "U+2028 and U+2029");
	check_enc(kd_value_strz(&arena, "\xc3\xa9\xf0\x9f\x98\x80/"), NULL,
		  "\"\xc3\xa9\xf0\x9f\x98\x80/\"", "UTF-8 and '/' as they are");
	check_enc(kd_value_strz(&arena, "a\xff\xe2\x82" "b\xed\xa0\x80"), NULL,
		  "\"a\\ufffd\\ufffd\\ufffdb\\ufffd\\ufffd\\ufffd\"",
		  "bad bytes as \\ufffd, one each");
	check_enc(kd_value_strz(&arena, "\xe2\x80"), NULL, "\"\\ufffd\\ufffd\"",
		  "cut sequence at the end");
}

static void test_dup_keys(void)
{
	kd_value *v = dec("{\"a\": 1, \"b\": 2, \"a\": 3}", NULL);

	ok(v && v->u.map.len == 2 && !strcmp(v->u.map.ents[0].key, "a") &&
		   v->u.map.ents[0].val->u.i == 3 &&
		   !strcmp(v->u.map.ents[1].key, "b"),
	   "duplicate key: last value, first position");
	check_enc(v, NULL, "{\"a\":3,\"b\":2}", "after duplicates");
}

static void test_sort_indent(void)
{
	kd_json_encode_opts sorted = {.sort_keys = 1};
	kd_json_encode_opts ind = {.indent = 2};
	kd_json_encode_opts ind4s = {.indent = 4, .sort_keys = 1};
	kd_value *v = dec("{\"b\": 1, \"a\": {\"z\": [], \"y\": {}}, \"B\": 2, "
			  "\"aa\": [1, [2, {}]], \"\": null}", NULL);
	kd_value *big = kd_value_map(&arena, 0);
	char key[16], want[4096];
	size_t n = 0;
	int i;

	check_enc(v, &sorted,
		  "{\"\":null,\"B\":2,\"a\":{\"y\":{},\"z\":[]},\"aa\":[1,[2,{}]],\"b\":1}",
		  "sort_keys");
	ok(!strcmp(v->u.map.ents[0].key, "b") && !strcmp(v->u.map.ents[4].key, ""),
	   "the caller's map keeps its order");
	check_enc(v, &ind,
		  "{\n  \"b\": 1,\n  \"a\": {\n    \"z\": [],\n    \"y\": {}\n  },\n"
		  "  \"B\": 2,\n  \"aa\": [\n    1,\n    [\n      2,\n      {}\n"
		  "    ]\n  ],\n  \"\": null\n}",
		  "indent 2 as MarshalIndent");
	check_enc(v, &ind4s,
		  "{\n    \"\": null,\n    \"B\": 2,\n    \"a\": {\n        \"y\": {},\n"
		  "        \"z\": []\n    },\n    \"aa\": [\n        1,\n        [\n"
		  "            2,\n            {}\n        ]\n    ],\n    \"b\": 1\n}",
		  "indent 4 with sorted keys");
	check_enc(kd_value_list(&arena, 0), &ind, "[]", "empty list indented");
	check_enc(kd_value_map(&arena, 0), &ind, "{}", "empty map indented");
	check_enc(kd_value_int(&arena, 7), &ind, "7", "scalar indented");
	check_enc(dec("{\"a\\u0000\\u00ff\\\"<\": 1}", NULL),
		  &(kd_json_encode_opts){.escape_html = 1},
		  "{\"a\\u0000\xc3\xbf\\\"\\u003c\":1}", "keys are escaped");

	/* Keys sharing prefixes, in reverse order and enough of them for the
	 * map's hash index. */
	for (i = 99; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%d", i);
		kd_map_setz(&arena, big, key, kd_value_int(&arena, i));
	}
	n += (size_t)snprintf(want + n, sizeof(want) - n, "{");
	{
		static const char *order[] = {"0", "1", "10", "11", "12"};

		for (i = 0; i < 5; i++)
			n += (size_t)snprintf(want + n, sizeof(want) - n,
					      "%s\"k%s\":%s", i ? "," : "",
					      order[i], order[i]);
	}
	{
		kd_buf b = KD_BUF_INIT(1 << 20);
		kd_err err = KD_ERR_INIT;

		kd_json_encode(&b, big, &sorted, &err);
		is_str(b.ptr, n, want, "100 keys sort bytewise (k0 k1 k10 ...)");
		ok(b.len > 3 && !memcmp(b.ptr + b.len - 9, "\"k99\":99}", 9),
		   "largest key last");
		kd_buf_free(&b);
	}
}

static void test_malformed(void)
{
	BAD("", "t.json:1:1: unexpected end of input");
	BAD("  \n ", "t.json:2:2: unexpected end of input");
	BAD("{", "t.json:1:2: unexpected end of input: the object opened at 1:1 is not closed");
	BAD("[1,2", "t.json:1:5: unexpected end of input: the array opened at 1:1");
	BAD("[[1],\n [2", "t.json:2:4: unexpected end of input: the array opened at 2:2");
	BAD("{\"a\":1,}", "t.json:1:8: trailing comma before '}' is not allowed");
	BAD("[1,]", "t.json:1:4: trailing comma before ']' is not allowed");
	BAD("{\"a\" 1}", "t.json:1:6: expected ':' after object key, found '1'");
	BAD("{a:1}", "t.json:1:2: expected a string key or '}' after '{', found 'a' (object keys must be double-quoted strings)");
	BAD("['a']", "t.json:1:2: expected a value or ']' after '[', found '\\'' (JSON strings use double quotes)");
	BAD("// c\n1", "t.json:1:1: expected a value, found '/' (comments are not allowed in JSON)");
	BAD("[1 2]", "t.json:1:4: expected ',' or ']' after array element, found '2' (missing ',')");
	BAD("{\"a\":1 \"b\":2}", "t.json:1:8: expected ',' or '}' after object member, found '\"' (missing ',')");
	BAD("01", "t.json:1:1: leading zeros are not allowed in numbers");
	BAD("[-01]", "t.json:1:2: leading zeros are not allowed in numbers");
	BAD("1.", "t.json:1:3: unexpected end of input in number");
	BAD("1.e5", "t.json:1:3: expected a digit after '.', found 'e'");
	BAD("1e", "t.json:1:3: unexpected end of input in number");
	BAD("[1e+]", "t.json:1:5: expected a digit in the exponent, found ']'");
	BAD("-", "t.json:1:2: unexpected end of input in number");
	BAD("+1", "t.json:1:1: a number cannot start with '+'");
	BAD(".5", "t.json:1:1: a number needs a digit before '.'");
	BAD("NaN", "t.json:1:1: 'NaN' is not a JSON number");
	BAD("-Infinity", "t.json:1:2: expected a digit after '-', found 'I' (NaN and Infinity are not allowed)");
	BAD("[Infinity]", "t.json:1:2: 'Infinity' is not a JSON number");
	BAD("True", "t.json:1:1: invalid literal 'True' (JSON literals are lowercase");
	BAD("[tru", "t.json:1:5: unexpected end of input in 'true'");
	BAD("nul x", "t.json:1:1: invalid value 'nul'");
	BAD("{\"a\": yes}", "t.json:1:7: invalid value 'yes' (strings must be in double quotes)");
	BAD("\"abc", "t.json:1:5: unexpected end of input in the string opened at 1:1");
	BAD("\"a\\qb\"", "t.json:1:3: invalid escape '\\q' in string");
	BAD("\"\\u12G4\"", "t.json:1:2: invalid escape '\\u12G4' in string (\\u needs 4 hex digits)");
	BAD("\"\\u12\"", "t.json:1:2: invalid escape '\\u12' in string");
	BAD("\"a\nb\"", "t.json:1:3: control character U+000A in string (escape it as \\n)");
	BAD("[\"\t\"]", "t.json:1:3: control character U+0009 in string (escape it as \\t)");
	BAD("\"a\x00" "b\"", "t.json:1:3: control character U+0000 in string (escape it as \\u0000)");
	BAD("1 2", "t.json:1:3: trailing data after the JSON value, found '2'");
	BAD("{}}", "t.json:1:3: trailing data after the JSON value, found '}'");
	BAD("123abc", "t.json:1:4: trailing data after the JSON value, found 'a'");
	BAD("[1}", "t.json:1:3: expected ',' or ']' after array element, found '}' (the array opened at 1:1 must be closed with ']')");
	BAD("{\n  \"x\": 1,\n  \"name\": 123]\n}",
	    "t.json:3:14: expected ',' or '}' after object member, found ']'");
	BAD("{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}",
	    "t.json:3:14: trailing comma before ']' is not allowed");
	BAD("[1,\r\n2,\r\n]", "t.json:3:1: trailing comma before ']'");
	BAD("\xef\xbb\xbf{}", "t.json:1:1: expected a value, found byte 0xEF (a UTF-8 byte order mark is not allowed; remove it)");
	BAD("\"\\ud800", "t.json:1:8: unexpected end of input in the string");
	BAD("{\"a\":}", "t.json:1:6: expected a value after ':', found '}'");
	BAD("[,1]", "t.json:1:2: expected a value or ']' after '[', found ','");
	BAD("[1,,2]", "t.json:1:4: expected a value after ',', found ','");
	BAD("\x01", "t.json:1:1: expected a value, found control character U+0001");
	BAD("[1,\n\xff]", "t.json:2:1: expected a value after ',', found byte 0xFF");
	BAD("\f1", "t.json:1:1: expected a value, found control character U+000C");
	BAD("1e400", "t.json:1:1: number 1e400 is out of range for a 64-bit float");
	BAD("[0, -1.5e999]", "t.json:1:5: number -1.5e999 is out of range");
	BAD("\"\\", "t.json:1:3: unexpected end of input");
	BAD("{\"a\"", "t.json:1:5: unexpected end of input: the object opened at 1:1");
	BAD("{\"a\":1,", "t.json:1:8: unexpected end of input: the object opened at 1:1");
	BAD("{\"a\":1,1}", "t.json:1:8: expected a string key after ',', found '1'");
	BAD("{\"a\":1,}", "t.json:1:8: trailing comma before '}'");
	BAD("\"a\\\x01\"", "t.json:1:3: invalid escape in string: '\\' followed by control character U+0001");
}

static void test_limits(void)
{
	static char tiny[1];
	kd_err err = KD_ERR_INIT;
	kd_value *v, *c;
	char text[2 * (KD_LIMIT_DEPTH + 1) + 1], want[128];
	kd_arena small = KD_ARENA_INIT(4096);
	kd_buf b = KD_BUF_INIT(16), wide = KD_BUF_INIT(1 << 20);
	int i;

	for (i = 0; i < KD_LIMIT_DEPTH; i++) {
		text[i] = '[';
		text[KD_LIMIT_DEPTH + i] = ']';
	}
	is_int(kd_json_decode(&v, &arena, text, 2 * KD_LIMIT_DEPTH, "d.json",
			      NULL, &err), 0, "nesting of KD_LIMIT_DEPTH decodes");
	text[2 * KD_LIMIT_DEPTH] = '\0';
	check_enc(v, NULL, text, "KD_LIMIT_DEPTH nested lists");
	memmove(text + 1, text, 2 * KD_LIMIT_DEPTH);
	text[0] = '[';
	text[2 * KD_LIMIT_DEPTH + 1] = ']';
	text[2 * KD_LIMIT_DEPTH + 2] = '\0';
	snprintf(want, sizeof(want),
		 "d.json:1:%d: nesting deeper than KD_LIMIT_DEPTH (%d levels)",
		 KD_LIMIT_DEPTH + 1, KD_LIMIT_DEPTH);
	is_int(kd_json_decode(&v, &arena, text, 2 * KD_LIMIT_DEPTH + 2, "d.json",
			      NULL, &err), KD_ELIMIT, "one level more is KD_ELIMIT");
	is_strz(err.msg, want, "depth message names the limit");

	for (i = 0, c = kd_value_int(&arena, 1); i <= KD_LIMIT_DEPTH; i++) {
		kd_value *m = kd_value_map(&arena, 1);

		kd_map_setz(&arena, m, "k", c);
		c = m;
	}
	is_int(kd_json_encode(&wide, c, NULL, &err), KD_ELIMIT,
	       "encoding too deep a value is KD_ELIMIT");
	ok(wide.len == 0 && !wide.failed && strstr(err.msg, "KD_LIMIT_DEPTH"),
	   "and says so: %s", err.msg);
	kd_buf_free(&wide);
	is_int(kd_json_encode(&b, c->u.map.ents[0].val, NULL, &err), KD_ELIMIT,
	       "within depth it hits the buffer limit instead");
	is_strz(err.msg, "json: output exceeds the buffer limit of 16 bytes",
		"buffer limit message");
	ok(b.len == 0 && b.failed == KD_ELIMIT, "buffer cut back, still failed");
	kd_buf_free(&b);

	is_int(kd_json_decode(&v, &arena, tiny, (size_t)KD_LIMIT_DOC_BYTES + 1,
			      "big.json", NULL, &err), KD_ELIMIT,
	       "input past KD_LIMIT_DOC_BYTES");
	ok(!strncmp(err.msg, "big.json: ", 10) &&
		   strstr(err.msg, "KD_LIMIT_DOC_BYTES"),
	   "size message names the limit");

	{
		char doc[20000];
		size_t n = 0;

		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "[");
		for (i = 0; i < 1000; i++)
			n += (size_t)snprintf(doc + n, sizeof(doc) - n,
					      "%s\"str%d\"", i ? "," : "", i);
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]");
		is_int(kd_json_decode(&v, &small, doc, n, "a.json", NULL, &err),
		       KD_ELIMIT, "arena limit is KD_ELIMIT");
		ok(strstr(err.msg, "arena limit of 4096 bytes") != NULL,
		   "arena message: %s", err.msg);
		kd_arena_free(&small);
	}
	is_int(kd_json_decode(&v, &arena, NULL, 0, NULL, NULL, &err), KD_EPARSE,
	       "NULL empty text");
	is_strz(err.msg, "<input>:1:1: unexpected end of input",
		"default name");
	is_int(kd_json_encode(&b, kd_value_null(&arena),
			      &(kd_json_encode_opts){.indent = -1}, &err),
	       KD_EINVAL, "negative indent");
}

static const char sample[] =
	"{\n"
	"  \"apiVersion\": \"v1\",\n"
	"  \"kind\": \"ConfigMap\",\n"
	"  \"metadata\": {\"name\": \"x\\u00e9\", \"labels\": {\"a\": \"b\"}},\n"
	"  \"data\": [1, -2.5e-3, 1e21, true, false, null, \"\\ud83d\\ude00\",\n"
	"           {\"k\": [[], {}, \"\\\"q\\\"\"]}, 12345678901234567890],\n"
	"  \"\xc3\xa9\": \"\xe2\x82\xac\", \"z\": -0\n"
	"}\n";

static void test_truncations(void)
{
	kd_err err = KD_ERR_INIT;
	size_t n = sizeof(sample) - 1, i, failed = 0, wrong = 0;
	kd_value *v, *full;
	char *copy;

	is_int(kd_json_decode(&full, &arena, sample, n, "s.json", NULL, &err), 0,
	       "sample document decodes");
	check_enc(full, &(kd_json_encode_opts){.sort_keys = 1, .escape_html = 1},
		  "{\"apiVersion\":\"v1\",\"data\":[1,-0.0025,1e+21,true,false,null,"
		  "\"\xf0\x9f\x98\x80\",{\"k\":[[],{},\"\\\"q\\\"\"]},"
		  "12345678901234567000],\"kind\":\"ConfigMap\","
		  "\"metadata\":{\"labels\":{\"a\":\"b\"},\"name\":\"x\xc3\xa9\"},"
		  "\"z\":0,\"\xc3\xa9\":\"\xe2\x82\xac\"}",
		  "sample as Go prints it");
	/* Each cut goes into a heap block of its own size, so valgrind and
	 * ASan would see any read past the end. */
	for (i = 0; i < n - 1; i++) {
		int rc;

		copy = malloc(i ? i : 1);
		memcpy(copy, sample, i);
		rc = kd_json_decode(&v, &arena, copy, i, "s.json", NULL, &err);
		if (rc != KD_EPARSE || v || strncmp(err.msg, "s.json:", 7))
			failed++;
		else if (!strstr(err.msg, "end of input"))
			wrong++;
		free(copy);
	}
	ok(!failed, "every cut of the sample fails with KD_EPARSE");
	ok(!wrong, "and each one reports the end of input");
}

int main(void)
{
	test_types();
	test_float_format();
	test_float_errors();
	test_float_roundtrip();
	test_numbers_as_float();
	test_strings();
	test_dup_keys();
	test_sort_indent();
	test_malformed();
	test_limits();
	test_truncations();
	kd_arena_free(&arena);
	return tap_done();
}
