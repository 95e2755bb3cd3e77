/* YAML decoding and encoding with go-yaml v2's semantics (core/yaml). */
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/num.h"
#include "base/value.h"
#include "tap.h"
#include "yaml/yaml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kd_arena arena = KD_ARENA_INIT(1u << 30);

/* A compact, unambiguous rendering: null true 12 f1.5 'str' [..] {k: v}. */
static void repr(kd_buf *b, const kd_value *v)
{
	size_t i;

	switch (v->type) {
	case KD_NULL: kd_buf_puts(b, "null"); break;
	case KD_BOOL: kd_buf_puts(b, v->u.b ? "true" : "false"); break;
	case KD_INT: kd_num_format_int(b, v->u.i); break;
	case KD_FLOAT:
		kd_buf_putc(b, 'f');
		kd_num_format_float(b, v->u.f, 'g', -1);
		break;
	case KD_STR:
		kd_buf_putc(b, '\'');
		kd_buf_put(b, v->u.str.ptr, v->u.str.len);
		kd_buf_putc(b, '\'');
		break;
	case KD_LIST:
		kd_buf_putc(b, '[');
		for (i = 0; i < v->u.list.len; i++) {
			if (i)
				kd_buf_puts(b, ", ");
			repr(b, v->u.list.items[i]);
		}
		kd_buf_putc(b, ']');
		break;
	case KD_MAP:
		kd_buf_putc(b, '{');
		for (i = 0; i < v->u.map.len; i++) {
			if (i)
				kd_buf_puts(b, ", ");
			kd_buf_put(b, v->u.map.ents[i].key, v->u.map.ents[i].klen);
			kd_buf_puts(b, ": ");
			repr(b, v->u.map.ents[i].val);
		}
		kd_buf_putc(b, '}');
		break;
	}
}

/* A one-line, printable excerpt of s for a test name (TAP names must not
 * hold line breaks). Rotates over a few buffers so one printf can use two. */
static const char *ex(const char *s)
{
	static char bufs[4][48];
	static int next;
	char *b = bufs[next++ % 4];
	size_t o = 0;

	for (; *s && o < sizeof(bufs[0]) - 3; s++) {
		if (*s == '\n') {
			b[o++] = '\\';
			b[o++] = 'n';
		} else {
			b[o++] = (unsigned char)*s < 0x20 ? '?' : *s;
		}
	}
	b[o] = '\0';
	return b;
}

static int decode(kd_value **v, const char *text, int as_float, kd_err *err)
{
	kd_yaml_decode_opts o = {.numbers_as_float = as_float};

	return kd_yaml_decode(v, &arena, text, strlen(text), "in.yaml", &o,
			      err);
}

/* Decodes text and compares its rendering with want. */
static void check_decode(const char *text, int as_float, const char *want)
{
	kd_err err = KD_ERR_INIT;
	kd_buf b = KD_BUF_INIT(1 << 20);
	kd_value *v = NULL;
	int rc = decode(&v, text, as_float, &err);

	if (rc)
		kd_buf_printf(&b, "error %d: %s", rc, err.msg);
	else
		repr(&b, v);
	is_str(b.ptr, b.len, want, "decode%s %s", as_float ? "(float)" : "",
	       ex(text));
	kd_buf_free(&b);
}

static void check_error(const char *text, int code, const char *want)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL;
	int rc = decode(&v, text, 0, &err);

	is_int(rc, code, "error code for %s", ex(text));
	is_strz(err.msg, want, "error message for %s", ex(text));
}

static void check_encode_opts(const kd_value *v, int sort, const char *want,
			      const char *name)
{
	kd_yaml_encode_opts o = {.sort_keys = sort};
	kd_err err = KD_ERR_INIT;
	kd_buf b = KD_BUF_INIT(1 << 20);
	int rc = kd_yaml_encode(&b, v, &o, &err);

	if (rc)
		diag("encode failed: %s", err.msg);
	is_str(b.ptr, b.len, want, "encode %s", name);
	kd_buf_free(&b);
}

static void check_encode(const kd_value *v, const char *want, const char *name)
{
	check_encode_opts(v, 0, want, name);
}

/* Encodes the value text decodes to. */
static void check_reencode(const char *text, const char *want)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL;

	if (decode(&v, text, 0, &err)) {
		ok(0, "decode for re-encoding %s: %s", ex(text), err.msg);
		return;
	}
	check_encode(v, want, ex(text));
}

static kd_value *str_value(const char *s, size_t n)
{
	return kd_value_str(&arena, s, n);
}

/* One row of go-yaml v2's resolve() table, decoded as a whole document in
 * both modes: Helm's values mode only turns ints into floats. */
static void check_scalar(const char *text, const char *want)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL, *fv = NULL;
	int rc;

	check_decode(text, 0, want);
	rc = decode(&v, text, 0, &err);
	rc |= decode(&fv, text, 1, &err);
	if (rc) {
		ok(0, "float mode of %s", text);
		return;
	}
	if (v->type == KD_INT)
		ok(fv->type == KD_FLOAT && fv->u.f == (double)v->u.i,
		   "float mode of %s", text);
	else if (v->type == KD_FLOAT && isnan(v->u.f))
		ok(fv->type == KD_FLOAT && isnan(fv->u.f), "float mode of %s",
		   text);
	else
		ok(kd_value_equal(v, fv), "float mode of %s", text);
}

static void test_resolve_table(void)
{
	static const char *const rows[][2] = {
		/* null */
		{"", "null"}, {"~", "null"}, {"null", "null"},
		{"Null", "null"}, {"NULL", "null"}, {"nULL", "'nULL'"},
		/* bool, YAML 1.1 style */
		{"y", "true"}, {"Y", "true"}, {"yes", "true"},
		{"Yes", "true"}, {"YES", "true"}, {"true", "true"},
		{"True", "true"}, {"TRUE", "true"}, {"on", "true"},
		{"On", "true"}, {"ON", "true"}, {"n", "false"},
		{"N", "false"}, {"no", "false"}, {"No", "false"},
		{"NO", "false"}, {"false", "false"}, {"False", "false"},
		{"FALSE", "false"}, {"off", "false"}, {"Off", "false"},
		{"OFF", "false"}, {"yES", "'yES'"}, {"tRUE", "'tRUE'"},
		{"oN", "'oN'"},
		/* special floats */
		{".inf", "f+Inf"}, {".Inf", "f+Inf"}, {".INF", "f+Inf"},
		{"+.inf", "f+Inf"}, {"+.Inf", "f+Inf"}, {"+.INF", "f+Inf"},
		{"-.inf", "f-Inf"}, {"-.Inf", "f-Inf"}, {"-.INF", "f-Inf"},
		{".nan", "fNaN"}, {".NaN", "fNaN"}, {".NAN", "fNaN"},
		{".iNF", "'.iNF'"}, {"inf", "'inf'"}, {"+inf", "'+inf'"},
		{"-Infinity", "'-Infinity'"}, {"nan", "'nan'"},
		{"NaN", "'NaN'"},
		/* ints: strconv.ParseInt(s without "_", 0, 64) */
		{"0", "0"}, {"12", "12"}, {"-7", "-7"}, {"+3", "3"},
		{"-0", "0"}, {"0x1F", "31"}, {"0X1f", "31"}, {"-0x10", "-16"},
		{"0o17", "15"}, {"0O17", "15"}, {"-0o17", "-15"},
		{"0b101", "5"}, {"0B11", "3"}, {"+0b11", "3"},
		{"-0b101", "-5"}, {"010", "8"}, {"00", "0"}, {"1_000", "1000"},
		{"0_7", "7"}, {"1__", "1"}, {"0b1_0", "2"}, {"0x_1F", "31"},
		{"9223372036854775807", "9223372036854775807"},
		{"-9223372036854775808", "-9223372036854775808"},
		/* v2's own binary fallback reads a sign after the prefix */
		{"0b-101", "-5"}, {"0b+101", "5"},
		/* uint64 range: v2 keeps a uint64, kedge a float */
		{"9223372036854775808", "f9.223372036854776e+18"},
		{"18446744073709551615", "f1.8446744073709552e+19"},
		{"0xFFFFFFFFFFFFFFFF", "f1.8446744073709552e+19"},
		/* floats through yamlStyleFloat */
		{"1.5", "f1.5"}, {"-2.", "f-2"}, {"1e3", "f1000"},
		{"1E+3", "f1000"}, {"1e-3", "f0.001"}, {"+1.5e-3", "f0.0015"},
		{"08", "f8"}, {"09.5", "f9.5"}, {"1_0.5", "f10.5"},
		{"1.e5", "f100000"}, {"-.5", "f-0.5"}, {"+.5", "f0.5"},
		{"-0.0", "f-0"}, {"1e-400", "f0"},
		{"99999999999999999999", "f1e+20"},
		{"-9223372036854775809", "f-9.223372036854776e+18"},
		/* floats through ParseFloat after a leading dot */
		{".5", "f0.5"}, {".5e3", "f500"}, {".5_5", "f0.55"},
		/* strings */
		{"1e400", "'1e400'"}, {"-1e400", "'-1e400'"},
		{"0x1p3", "'0x1p3'"}, {"0x", "'0x'"}, {"0b", "'0b'"},
		{"0o", "'0o'"}, {"0b102", "'0b102'"}, {"1.2.3", "'1.2.3'"},
		{"+", "'+'"}, {"[-]", "['-']"}, {".", "'.'"}, {"._5", "'._5'"},
		{".5.", "'.5.'"}, {"12abc", "'12abc'"}, {"_1", "'_1'"},
		{"0x10000000000000000", "'0x10000000000000000'"},
		{"1:20", "'1:20'"}, {"<<", "'<<'"}, {"hello", "'hello'"},
		/* timestamps stay strings */
		{"2001-12-14", "'2001-12-14'"},
		{"2001-12-14T21:59:43.10-05:00", "'2001-12-14T21:59:43.10-05:00'"},
		{"2001-12-14t21:59:43Z", "'2001-12-14t21:59:43Z'"},
		{"2001-12-14 21:59:43.10", "'2001-12-14 21:59:43.10'"},
		{"2001-12-14 21:59:43.10 -5", "'2001-12-14 21:59:43.10 -5'"},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_scalar(rows[i][0], rows[i][1]);
	/* Quoted and block scalars never resolve. */
	check_decode("\"true\"", 0, "'true'");
	check_decode("'123'", 1, "'123'");
	check_decode("\"\"", 0, "''");
	check_decode("|\n  123\n", 0, "'123\n'");
	check_decode(">-\n  null\n", 0, "'null'");
	check_decode("a: 1\nb: [2, 3.5]\n", 1, "{a: f1, b: [f2, f3.5]}");
}

static void test_tags(void)
{
	check_decode("!!str 123", 0, "'123'");
	check_decode("!!str yes", 0, "'yes'");
	check_decode("!!int \"0x10\"", 0, "16");
	check_decode("!!int 1_000", 1, "f1000");
	check_decode("!!float 1", 0, "f1");
	check_decode("!!float \"1e3\"", 0, "f1000");
	check_decode("!!bool \"yes\"", 0, "true");
	check_decode("!!null \"\"", 0, "null");
	check_decode("!!null ~", 0, "null");
	check_decode("!!timestamp 2001-12-14", 0, "'2001-12-14'");
	check_decode("!!binary aGVsbG8=", 0, "'hello'");
	check_decode("!!binary |\n  aGVs\n  bG8=\n", 0, "'hello'");
	check_decode("!!binary \"\"", 0, "''");
	check_decode("!<tag:yaml.org,2002:int> 7", 0, "7");
	/* Tags v2 cannot resolve leave the text a string. */
	check_decode("!foo 123", 0, "'123'");
	check_decode("! 12", 0, "'12'");
	check_decode("!!map x", 0, "'x'");
	check_decode("!!merge 1", 0, "'1'");
	/* Tags on collections are ignored. */
	check_decode("!!seq {a: 1}", 0, "{a: 1}");
	check_decode("!!map [1]", 0, "[1]");
	check_decode("!thing {a: !!str 1}", 0, "{a: '1'}");
	check_error("!!int foo", KD_EPARSE,
		    "in.yaml:1:1: cannot decode !!str `foo` as a !!int");
	check_error("a: !!int 1.5", KD_EPARSE,
		    "in.yaml:1:4: cannot decode !!float `1.5` as a !!int");
	check_error("a: !!bool 1", KD_EPARSE,
		    "in.yaml:1:4: cannot decode !!int `1` as a !!bool");
	check_error("a: !!null x", KD_EPARSE,
		    "in.yaml:1:4: cannot decode !!str `x` as a !!null");
	check_error("a: !!float 18446744073709551615", KD_EPARSE,
		    "in.yaml:1:4: cannot decode !!int `18446744073709551615` "
		    "as a !!float");
	check_error("a: !!timestamp 2001-02-30", KD_EPARSE,
		    "in.yaml:1:4: cannot decode !!str `2001-02-30` as a "
		    "!!timestamp");
	check_error("a: !!binary \"@@@@\"", KD_EPARSE,
		    "in.yaml:1:4: !!binary value contains invalid base64 data");
	check_error("a: !!binary aGk", KD_EPARSE,
		    "in.yaml:1:4: !!binary value contains invalid base64 data");
	check_error("a: !!int 0123456789012345678901234567890123456789012345",
		    KD_EPARSE,
		    "in.yaml:1:4: cannot decode !!float "
		    "`0123456789012345678901234567890123456...` as a !!int");
}

static void test_scalars_and_collections(void)
{
	check_decode("a: |\n  x\n  y\n", 0, "{a: 'x\ny\n'}");
	check_decode("a: |-\n  x\n  y\n", 0, "{a: 'x\ny'}");
	check_decode("a: |+\n  x\n\n\nb: 1", 0, "{a: 'x\n\n\n', b: 1}");
	check_decode("a: >\n  folded\n  text\n\n  para\n", 0,
		     "{a: 'folded text\npara\n'}");
	check_decode("a: |2\n   lead\n", 0, "{a: ' lead\n'}");
	check_decode("\"tab\\there \\u00e9 \\x41 \\\"q\\\"\"", 0,
		     "'tab\there \xc3\xa9 A \"q\"'");
	check_decode("'it''s'", 0, "'it's'");
	check_decode("plain\n  continued\n", 0, "'plain continued'");
	check_decode("[a, {b: c}, [d], 'e', \"f\"]", 0,
		     "['a', {b: 'c'}, ['d'], 'e', 'f']");
	check_decode("{a: 1, b: , c}", 0, "{a: 1, b: null, c: null}");
	check_decode("- a\n- - b\n  - c\n- k: v\n  l: w\n", 0,
		     "['a', ['b', 'c'], {k: 'v', l: 'w'}]");
	check_decode("a:\n- 1\n- 2\nb:\n  c: d\n", 0,
		     "{a: [1, 2], b: {c: 'd'}}");
	check_decode("? complex key\n: value\n", 0, "{complex key: 'value'}");
	check_decode("a: b # comment\n# full line\n", 0, "{a: 'b'}");
	check_decode("# only a comment\n", 0, "null");
	check_decode("\xef\xbb\xbf" "a: 1\n", 0, "{a: 1}");
	check_decode("a: 1\r\nb: 2\r\n", 0, "{a: 1, b: 2}");
	check_decode("url: http://x.io/a?b=c#d\n", 0,
		     "{url: 'http://x.io/a?b=c#d'}");
}

static void test_nul(void)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL;
	int rc = decode(&v, "\"nul\\0byte\"", 0, &err);

	ok(!rc && v->type == KD_STR && v->u.str.len == 8 &&
		   !memcmp(v->u.str.ptr, "nul\0byte", 8),
	   "a \\0 escape keeps its NUL byte");
}

static void test_documents(void)
{
	kd_err err = KD_ERR_INIT;
	kd_buf b = KD_BUF_INIT(1 << 20);
	kd_value *v = NULL;
	const char *text = "a: 1\n---\n- b\n--- text\n...\n---\n";
	int rc = kd_yaml_decode_all(&v, &arena, text, strlen(text), NULL, NULL,
				    &err);

	is_int(rc, 0, "decode_all multi-document stream");
	if (!rc)
		repr(&b, v);
	is_str(b.ptr, b.len, "[{a: 1}, ['b'], 'text', null]",
	       "one item per document, an empty one is null");
	kd_buf_reset(&b);
	rc = kd_yaml_decode_all(&v, &arena, "", 0, NULL, NULL, &err);
	is_int(rc == 0 && v->type == KD_LIST ? (long long)v->u.list.len : -1,
	       0, "an empty stream has no documents");
	rc = kd_yaml_decode_all(&v, &arena, "# c\n", 4, NULL, NULL, &err);
	is_int(rc == 0 && v->type == KD_LIST ? (long long)v->u.list.len : -1,
	       0, "a comment-only stream has no documents");
	rc = kd_yaml_decode_all(&v, &arena, "a: &x 1\n---\nb: *x\n", 18, NULL,
				NULL, &err);
	is_int(rc, KD_EPARSE, "anchors do not cross documents");
	is_strz(err.msg, "<input>:3:4: unknown anchor 'x' referenced",
		"... and the message names the input as <input>");
	check_decode("---\na: 1\n...\n", 0, "{a: 1}");
	check_decode("", 0, "null");
	check_decode("---\n", 0, "null");
	check_error("a: 1\n---\nb: 2\n", KD_EPARSE,
		    "in.yaml:2:1: a second document, where only one is "
		    "allowed");
	check_error("a: 1\n...\nb\n", KD_EPARSE,
		    "in.yaml:3:1: did not find expected <document start>");
	kd_buf_free(&b);
}

static void test_anchors_and_merges(void)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL, *base, *copy;
	int rc;

	check_decode("a: &x [1, {b: 2}]\nc: *x\n", 0,
		     "{a: [1, {b: 2}], c: [1, {b: 2}]}");
	check_decode("a: &s hello\nb: *s\n*s : key\n", 0,
		     "{a: 'hello', b: 'hello', hello: 'key'}");
	check_decode("a: &x 1\nb: *x\nc: &x 2\nd: *x\n", 0,
		     "{a: 1, b: 1, c: 2, d: 2}");
	check_decode("&k 5: *k\n", 0, "{5: 5}");
	rc = decode(&v, "base: &b {x: [1, 2]}\ncopy: *b\n", 0, &err);
	is_int(rc, 0, "decode an alias");
	if (!rc) {
		base = kd_map_getz(v, "base");
		copy = kd_map_getz(v, "copy");
		ok(base != copy && kd_value_equal(base, copy),
		   "an alias is an equal, distinct value");
		kd_list_push(&arena, kd_map_getz(copy, "x"),
			     kd_value_int(&arena, 3));
		is_int(kd_map_getz(base, "x")->u.list.len, 2,
		       "changing the copy leaves the anchored value alone");
	}
	/* v2 applies merges where they stand, later keys winning. */
	check_decode("b: &b {a: 1, b: 2}\nm:\n  <<: *b\n  a: 9\n", 0,
		     "{b: {a: 1, b: 2}, m: {a: 9, b: 2}}");
	check_decode("b: &b {a: 1, b: 2}\nm:\n  a: 9\n  <<: *b\n", 0,
		     "{b: {a: 1, b: 2}, m: {a: 1, b: 2}}");
	check_decode("b: &b {a: 1, b: 2}\no: &o {b: 3, c: 4}\n"
		     "m: {<<: [*b, *o], d: 5}\n",
		     0,
		     "{b: {a: 1, b: 2}, o: {b: 3, c: 4}, "
		     "m: {b: 2, c: 4, a: 1, d: 5}}");
	check_decode("m: {<<: {x: 1}, y: 2}\n", 0, "{m: {x: 1, true: 2}}");
	check_decode("m: {!!merge <<: {x: 1}}\n", 0, "{m: {x: 1}}");
	check_decode("m: {\"<<\": {x: 1}}\n", 0, "{m: {<<: {x: 1}}}");
	check_decode("a: &a {x: 1}\nb: &b {<<: *a, w: 2}\nc: {<<: *b}\n", 0,
		     "{a: {x: 1}, b: {x: 1, w: 2}, c: {x: 1, w: 2}}");
	check_error("a: {<<: 1}", KD_EPARSE,
		    "in.yaml:1:5: map merge requires map or sequence of maps "
		    "as the value");
	check_error("a: &s x\nb: {<<: [*s]}", KD_EPARSE,
		    "in.yaml:2:5: map merge requires map or sequence of maps "
		    "as the value");
	check_error("a: *nope", KD_EPARSE,
		    "in.yaml:1:4: unknown anchor 'nope' referenced");
	check_error("a: *x\nb: &x 1\n", KD_EPARSE,
		    "in.yaml:1:4: unknown anchor 'x' referenced");
	check_error("a: &x [1, *x]", KD_EPARSE,
		    "in.yaml:1:11: anchor 'x' value contains itself");
	check_error("a: &x {b: *x}", KD_EPARSE,
		    "in.yaml:1:11: anchor 'x' value contains itself");
	check_error("a: &m [1]\n*m : 2\n", KD_EPARSE,
		    "in.yaml:2:1: invalid map key: a list cannot be a key");
}

static void test_billion_laughs(void)
{
	kd_buf b = KD_BUF_INIT(1 << 20);
	kd_err err = KD_ERR_INIT;
	kd_arena a = KD_ARENA_INIT(1u << 30);
	kd_yaml_decode_opts o = {.max_alias_nodes = 1000};
	kd_value *v = NULL;
	char c;
	int i, rc;

	kd_buf_puts(&b, "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (c = 'b'; c <= 'i'; c++) {
		kd_buf_printf(&b, "%c: &%c [", c, c);
		for (i = 0; i < 9; i++)
			kd_buf_printf(&b, "%s*%c", i ? ", " : "", c - 1);
		kd_buf_puts(&b, "]\n");
	}
	rc = kd_yaml_decode(&v, &a, b.ptr, b.len, "lol.yaml", NULL, &err);
	is_int(rc, KD_ELIMIT, "a 9-level billion laughs fails");
	ok(strstr(err.msg, "alias expansion exceeds 1000000 nodes (possible "
			   "\"billion laughs\")") != NULL,
	   "... naming the limit: %s", err.msg);
	ok(a.used < (128u << 20), "... within the budget (%zu bytes used)",
	   a.used);
	kd_arena_free(&a);
	rc = kd_yaml_decode(&v, &a, b.ptr, b.len, "lol.yaml", &o, &err);
	is_int(rc, KD_ELIMIT, "a lower max_alias_nodes fails sooner");
	is_strz(err.msg,
		"lol.yaml:4:8: alias expansion exceeds 1000 nodes (possible "
		"\"billion laughs\")",
		"... at the alias that crosses it");
	ok(a.used < (1u << 20), "... having copied little (%zu bytes)",
	   a.used);
	kd_arena_free(&a);
	kd_buf_reset(&b);
	/* Merges count too. */
	kd_buf_puts(&b, "a: &a {a0: x, a1: x, a2: x, a3: x}\n");
	for (c = 'b'; c <= 'z'; c++)
		kd_buf_printf(&b, "%c: &%c {<<: [*%c, *%c, *%c]}\n", c, c,
			      c - 1, c - 1, c - 1);
	rc = kd_yaml_decode(&v, &a, b.ptr, b.len, "merge.yaml", &o, &err);
	is_int(rc, KD_ELIMIT, "merging aliases counts against the limit");
	kd_arena_free(&a);
	kd_buf_free(&b);
}

static void test_keys(void)
{
	check_decode("1: a\n0x10: b\n-0: c\ntrue: d\nyes: e\nOff: f\n", 0,
		     "{1: 'a', 16: 'b', 0: 'c', true: 'e', false: 'f'}");
	/* Float keys print as Go's FormatFloat(f, 'g', -1, 32). */
	check_decode("1.5: a\n0.1: b\n3.14159265358979: c\n1e3: d\n"
		     "123456789.0: e\n1e20: f\n",
		     0,
		     "{1.5: 'a', 0.1: 'b', 3.1415927: 'c', 1000: 'd', "
		     "1.2345679e+08: 'e', 1e+20: 'f'}");
	check_decode(".inf: a\n-.inf: b\n.nan: c\n1e39: d\n", 0,
		     "{.inf: 'd', -.inf: 'b', .nan: 'c'}");
	check_decode("2001-12-14: a\n!!str 7: b\n!!binary aGk=: c\n"
		     "!!float 2: d\n",
		     0, "{2001-12-14: 'a', 7: 'b', hi: 'c', 2: 'd'}");
	check_decode("a: 1\nb: 2\na: 3\n", 0, "{a: 3, b: 2}");
	check_decode("1: int\n\"1\": str\n", 0, "{1: 'str'}");
	check_decode("1: a\n1.0: b\n", 0, "{1: 'b'}");
	check_decode("'': empty\n", 0, "{: 'empty'}");
	check_error("~: x", KD_EPARSE,
		    "in.yaml:1:1: unsupported map key: null (a key must be a "
		    "string, number or boolean)");
	check_error("a: 1\n? \n: x\n", KD_EPARSE,
		    "in.yaml:2:2: unsupported map key: null (a key must be a "
		    "string, number or boolean)");
	check_error("18446744073709551615: x", KD_EPARSE,
		    "in.yaml:1:1: unsupported map key: 18446744073709551615 "
		    "(an integer key must fit in 64 signed bits)");
	check_error("? [a]\n: 1\n", KD_EPARSE,
		    "in.yaml:1:3: invalid map key: a sequence cannot be a key");
	check_error("{a: 1}: x\n", KD_EPARSE,
		    "in.yaml:1:1: invalid map key: a mapping cannot be a key");
}

static void test_malformed(void)
{
	static const char *const cases[][2] = {
		{"a: 1\n b: 2",
		 "in.yaml:2:3: mapping values are not allowed in this context"},
		{"a: \"unclosed\nb: 2",
		 "in.yaml:2:5: found unexpected end of stream (while scanning "
		 "a quoted scalar that started at line 1, column 4)"},
		{"key: 'unclosed",
		 "in.yaml:1:15: found unexpected end of stream (while scanning "
		 "a quoted scalar that started at line 1, column 6)"},
		{"a:\n\t- b",
		 "in.yaml:2:1: found character that cannot start any token "
		 "(while scanning for the next token that started at line 2, "
		 "column 1)"},
		{"a: [1, 2",
		 "in.yaml:2:1: did not find expected ',' or ']' (while parsing "
		 "a flow sequence that started at line 1, column 4)"},
		{"a: {x: 1",
		 "in.yaml:2:1: did not find expected ',' or '}' (while parsing "
		 "a flow mapping that started at line 1, column 4)"},
		{"- [a\n- b",
		 "in.yaml:3:1: did not find expected ',' or ']' (while parsing "
		 "a flow sequence that started at line 1, column 3)"},
		{"a: b: c",
		 "in.yaml:1:5: mapping values are not allowed in this context"},
		{"a: b\n  c: d",
		 "in.yaml:2:4: mapping values are not allowed in this context"},
		{"- a\nb: 1",
		 "in.yaml:2:1: did not find expected '-' indicator (while "
		 "parsing a block collection that started at line 1, column 1)"},
		{"a: 1\n- b",
		 "in.yaml:2:1: did not find expected key (while parsing a block "
		 "mapping that started at line 1, column 1)"},
		{"a:\n  b: 1\n c: 2",
		 "in.yaml:3:2: did not find expected key (while parsing a block "
		 "mapping that started at line 1, column 1)"},
		{"a:\n  - 1\n  b: 2",
		 "in.yaml:3:3: did not find expected '-' indicator (while "
		 "parsing a block collection that started at line 2, column 3)"},
		{"a: |\n  x\n y",
		 "in.yaml:3:2: did not find expected key (while parsing a block "
		 "mapping that started at line 1, column 1)"},
		{"a: @x",
		 "in.yaml:1:4: found character that cannot start any token "
		 "(while scanning for the next token that started at line 1, "
		 "column 4)"},
		{"a: `x",
		 "in.yaml:1:4: found character that cannot start any token "
		 "(while scanning for the next token that started at line 1, "
		 "column 4)"},
		{"!<tag:x",
		 "in.yaml:1:8: did not find the expected '>' (while scanning a "
		 "tag that started at line 1, column 1)"},
		{"a: !x!y z",
		 "in.yaml:1:4: found undefined tag handle (while parsing a node "
		 "that started at line 1, column 4)"},
		{"%YAML 1.1\n%YAML 1.1\n---\na",
		 "in.yaml:2:1: found duplicate %YAML directive"},
		{"%FOO\na",
		 "in.yaml:1:5: found unknown directive name (while scanning a "
		 "directive that started at line 1, column 1)"},
		{"[a, b]]", "in.yaml:1:7: did not find expected <document start>"},
		{"{a: 1}}", "in.yaml:1:7: did not find expected <document start>"},
		{"&a &b x", "in.yaml:1:4: did not find expected <document start>"},
		{"\"\\q\"",
		 "in.yaml:1:2: found unknown escape character (while parsing a "
		 "quoted scalar that started at line 1, column 1)"},
		{"x: \"a\\xZZ\"",
		 "in.yaml:1:8: did not find expected hexdecimal number (while "
		 "parsing a quoted scalar that started at line 1, column 4)"},
		{"a: *x\n", "in.yaml:1:4: unknown anchor 'x' referenced"},
		{"a: 1\n\nb: &x [*x]",
		 "in.yaml:3:8: anchor 'x' value contains itself"},
		{"\x01", "in.yaml:1:1: control characters are not allowed (#1 at "
			 "byte 0)"},
		{"a: ok\nb: \xff",
		 "in.yaml:2:4: invalid leading UTF-8 octet (#FF at byte 9)"},
		{"a: &", "in.yaml:1:5: did not find expected alphabetic or "
			 "numeric character (while scanning an anchor that "
			 "started at line 1, column 4)"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_error(cases[i][0], KD_EPARSE, cases[i][1]);
}

static void test_limits(void)
{
	kd_buf b = KD_BUF_INIT(8u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL, *root, *cur;
	kd_arena small = KD_ARENA_INIT(4096);
	int i, rc;

	for (i = 0; i < KD_LIMIT_DEPTH; i++)
		kd_buf_putc(&b, '[');
	for (i = 0; i < KD_LIMIT_DEPTH; i++)
		kd_buf_putc(&b, ']');
	rc = kd_yaml_decode(&v, &arena, b.ptr, b.len, "d.yaml", NULL, &err);
	is_int(rc, 0, "%d nested sequences decode", KD_LIMIT_DEPTH);
	kd_buf_reset(&b);
	for (i = 0; i <= KD_LIMIT_DEPTH; i++)
		kd_buf_puts(&b, "- ");
	kd_buf_puts(&b, "x\n");
	rc = kd_yaml_decode(&v, &arena, b.ptr, b.len, "d.yaml", NULL, &err);
	is_int(rc, KD_ELIMIT, "%d nested sequences do not",
	       KD_LIMIT_DEPTH + 1);
	is_strz(err.msg,
		"d.yaml:1:513: mappings and sequences nest deeper than 256 "
		"levels",
		"... and the message names the limit");
	kd_buf_reset(&b);
	kd_buf_puts(&b, "a: &x ");
	for (i = 0; i < KD_LIMIT_DEPTH - 2; i++)
		kd_buf_putc(&b, '[');
	for (i = 0; i < KD_LIMIT_DEPTH - 2; i++)
		kd_buf_putc(&b, ']');
	kd_buf_puts(&b, "\nb: [[*x]]\n");
	rc = kd_yaml_decode(&v, &arena, b.ptr, b.len, "d.yaml", NULL, &err);
	is_int(rc, KD_ELIMIT, "an alias may not nest past the limit either");
	kd_buf_reset(&b);
	for (i = 0; i <= (int)KD_LIMIT_YAML_DOCS; i++)
		kd_buf_puts(&b, "---\n");
	rc = kd_yaml_decode_all(&v, &arena, b.ptr, b.len, "docs.yaml", NULL,
				&err);
	is_int(rc, KD_ELIMIT, "more than %u documents fail",
	       (unsigned)KD_LIMIT_YAML_DOCS);
	ok(strstr(err.msg, "more than 100000 documents") != NULL,
	   "... naming the limit: %s", err.msg);
	/* The size is checked before a byte is read. */
	rc = kd_yaml_decode(&v, &arena, "a", (size_t)KD_LIMIT_DOC_BYTES + 1,
			    "big.yaml", NULL, &err);
	is_int(rc, KD_ELIMIT, "input over KD_LIMIT_DOC_BYTES fails");
	is_strz(err.msg,
		"big.yaml: YAML input of 67108865 bytes exceeds the limit of "
		"67108864 bytes",
		"... naming the limit");
	kd_buf_reset(&b);
	for (i = 0; i < 500; i++)
		kd_buf_printf(&b, "key%d: value %d\n", i, i);
	rc = kd_yaml_decode(&v, &small, b.ptr, b.len, "s.yaml", NULL, &err);
	is_int(rc, KD_ELIMIT, "a full arena fails the decode");
	is_strz(err.msg,
		"s.yaml: decoded YAML exceeds the memory limit of its arena "
		"(4096 bytes)",
		"... with the arena's limit in the message");
	kd_arena_free(&small);
	/* Encoding nests as deep as decoding, no deeper. */
	root = cur = kd_value_list(&arena, 1);
	for (i = 1; i < KD_LIMIT_DEPTH; i++) {
		kd_value *n = kd_value_list(&arena, 1);

		kd_list_push(&arena, cur, n);
		cur = n;
	}
	kd_buf_reset(&b);
	rc = kd_yaml_encode(&b, root, NULL, &err);
	is_int(rc, 0, "encode %d nested lists", KD_LIMIT_DEPTH);
	kd_list_push(&arena, cur, kd_value_list(&arena, 0));
	kd_buf_reset(&b);
	kd_buf_puts(&b, "keep");
	rc = kd_yaml_encode(&b, root, NULL, &err);
	is_int(rc, KD_ELIMIT, "encode %d nested lists fails",
	       KD_LIMIT_DEPTH + 1);
	is_str(b.ptr, b.len, "keep", "... leaving the buffer as it was");
	kd_buf_free(&b);
	{
		kd_buf tiny = KD_BUF_INIT(8);

		rc = decode(&v, "a: 123456789\n", 0, &err);
		rc = rc ? rc : kd_yaml_encode(&tiny, v, NULL, &err);
		is_int(rc, KD_ELIMIT, "encoding past the buffer limit fails");
		kd_buf_free(&tiny);
	}
}

static void test_encode(void)
{
	kd_value *m = kd_value_map(&arena, 0), *l = kd_value_list(&arena, 0);
	static const char bad[] = "\x80\x81\x82";
	char nine0[55];
	kd_buf want = KD_BUF_INIT(4096);
	kd_err err = KD_ERR_INIT;
	kd_value *v;
	int i;

	/* A document like those charts render, written out as go-yaml v2
	 * prints it (same emitter, same style choices). */
	check_reencode(
		"name: demo\nreplicas: 3\nratio: 0.5\nhuge: 1e21\ntiny: 1e-7\n"
		"on: yes\nnothing: ~\nstrs: ['true', '123', '', 'a: b', '- x',"
		" '#c', ' lead', \"multi\\nline\", '1:20', 'null', '1.5',"
		" '2001-12-14', '2002-02-30', '-', 'trailing ', \"tab\\there\","
		" 'caf\xc3\xa9', 'x #y', '<<', 'y', '0o17', '.5', '~']\n"
		"nested: {empty_map: {}, empty_list: [],"
		" list: [{a: 1, b: [x]}, [nested]]}\n"
		"long: this is a long string with spaces that goes past the"
		" eighty column limit of the emitter\n"
		"text: \"line one\\nline two\\n\"\n",
		"name: demo\nreplicas: 3\nratio: 0.5\nhuge: 1e+21\ntiny: 1e-07\n"
		"\"true\": true\nnothing: null\nstrs:\n- \"true\"\n- \"123\"\n"
		"- \"\"\n- 'a: b'\n- '- x'\n- '#c'\n- ' lead'\n- |-\n  multi\n"
		"  line\n- \"1:20\"\n- \"null\"\n- \"1.5\"\n- \"2001-12-14\"\n"
		"- 2002-02-30\n- '-'\n- 'trailing '\n- \"tab\\there\"\n"
		"- caf\xc3\xa9\n- 'x #y'\n- <<\n- \"y\"\n- \"0o17\"\n- \".5\"\n"
		"- \"~\"\nnested:\n  empty_map: {}\n  empty_list: []\n  list:\n"
		"  - a: 1\n    b:\n    - x\n  - - nested\n"
		"long: this is a long string with spaces that goes past the"
		" eighty column limit of\n  the emitter\n"
		"text: |\n  line one\n  line two\n");
	/* Straight from go-yaml v2's own encode tests. */
	check_reencode("a: \"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       " 1234567890 abcdefghijklmnopqrstuvwxyz"
		       " ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 \"",
		       "a: 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       " 1234567890 abcdefghijklmnopqrstuvwxyz\n"
		       "  ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 '\n");
	check_reencode("v: [A, \"B\\nC\"]", "v:\n- A\n- |-\n  B\n  C\n");
	check_reencode("a: <foo>", "a: <foo>\n");
	check_reencode("a: \"1:1\"", "a: \"1:1\"\n");
	check_reencode("a: \"\\0\"", "a: \"\\0\"\n");
	check_reencode("a: \"2015-02-24T18:19:39Z\"",
		       "a: \"2015-02-24T18:19:39Z\"\n");
	check_reencode("a: \"Hello #comment\"", "a: 'Hello #comment'\n");
	check_reencode("a: \xe4\xbd\xa0\xe5\xa5\xbd",
		       "a: \xe4\xbd\xa0\xe5\xa5\xbd\n");
	check_reencode("a: \"\\U0001F600\"", "a: \"\\U0001F600\"\n");
	check_reencode("a: 0.1\nb: -0.1\nc: .inf\nd: -.inf\ne: .nan\n",
		       "a: 0.1\nb: -0.1\nc: .inf\nd: -.inf\ne: .nan\n");
	check_reencode("{}", "{}\n");
	check_reencode("[]", "[]\n");
	check_reencode("~", "null\n");
	check_reencode("hello", "hello\n");
	check_reencode("\"a\\n\\n\"", "|+\n  a\n\n");
	check_reencode("- \"x \\ny\"", "- \"x \\ny\"\n");
	check_reencode("\"k\\nk\": v", "? |-\n  k\n  k\n: v\n");
	kd_map_setz(&arena, m, "a", str_value(bad, 3));
	check_encode(m, "a: !!binary gIGC\n", "invalid UTF-8 as !!binary");
	memset(nine0, 0x90, 54);
	kd_map_setz(&arena, m, "a", str_value(nine0, 54));
	kd_buf_puts(&want, "a: !!binary |\n  ");
	for (i = 0; i < 17; i++)
		kd_buf_puts(&want, "kJCQ");
	kd_buf_puts(&want, "kJ\n  CQ\n");
	check_encode(m, want.ptr, "long invalid UTF-8 in lines of 70");
	kd_list_push(&arena, l, kd_value_float(&arena, 1e6));
	kd_list_push(&arena, l, kd_value_float(&arena, 100));
	kd_list_push(&arena, l, kd_value_float(&arena, -0.0));
	kd_list_push(&arena, l, kd_value_int(&arena, INT64_MIN));
	kd_list_push(&arena, l, kd_value_bool(&arena, false));
	kd_list_push(&arena, l, kd_value_null(&arena));
	check_encode(l, "- 1e+06\n- 100\n- -0\n- -9223372036854775808\n- false\n"
			"- null\n",
		     "numbers as go-yaml v2 formats them");
	v = kd_value_list(&arena, 0);
	is_int(kd_yaml_encode_all(&want, v, NULL, &err), 0,
	       "encode_all of no documents");
	kd_buf_reset(&want);
	kd_list_push(&arena, v, kd_value_strz(&arena, "a"));
	kd_list_push(&arena, v, l);
	kd_list_push(&arena, v, kd_value_map(&arena, 0));
	is_int(kd_yaml_encode_all(&want, v, NULL, &err), 0, "encode_all");
	is_strz(want.ptr,
		"a\n---\n- 1e+06\n- 100\n- -0\n- -9223372036854775808\n"
		"- false\n- null\n---\n{}\n",
		"documents separated by ---");
	is_int(kd_yaml_encode_all(&want, m, NULL, &err), KD_EINVAL,
	       "encode_all wants a list");
	kd_buf_free(&want);
}

static void test_sort_keys(void)
{
	/* go-yaml v2's own TestSortedOutput order (its string keys). */
	static const char *const order[] = {
		"",	  ".1",	    ".2",     ".a",    "1",	 "2",
		"a!10",	  "a/0001", "a/002",  "a/3",   "a/10",	 "a/11",
		"a/0012", "a/100",  "a~10",   "ab/1",  "b/1",	 "b/01",
		"b/2",	  "b/02",   "b/3",    "b/03",  "b1",	 "b01",
		"b3",	  "c2.10",  "c10.2",  "d1",    "d7",	 "d7abc",
		"d12",	  "d12a",
	};
	size_t n = sizeof(order) / sizeof(order[0]), i;
	kd_value *m = kd_value_map(&arena, 0), *one = kd_value_int(&arena, 1);
	kd_buf want = KD_BUF_INIT(4096), got = KD_BUF_INIT(4096);
	kd_yaml_encode_opts o = {.sort_keys = 1};
	kd_err err = KD_ERR_INIT;

	for (i = n; i-- > 0;)
		kd_map_setz(&arena, m, order[i], one);
	for (i = 0; i < n; i++) {
		kd_value *k = kd_value_strz(&arena, order[i]);

		kd_buf_reset(&got);
		kd_yaml_encode(&got, k, NULL, &err);
		kd_buf_put(&want, got.ptr, got.len - 1);
		kd_buf_puts(&want, ": 1\n");
	}
	kd_buf_reset(&got);
	kd_yaml_encode(&got, m, &o, &err);
	is_str(got.ptr, got.len, want.ptr, "sort_keys follows go-yaml v2");
	is_strz(m->u.map.ents[0].key, "d12a", "the caller's map keeps its order");
	kd_buf_free(&want);
	kd_buf_free(&got);
	{
		kd_value *v = NULL;

		if (!decode(&v, "b: 1\na_b: 2\naB: 3\nZ: 4\n_: 5\nA10: 6\n"
				"A9: 7\nnested: {z: 1, w: [{d: 1, c: 2}]}\n",
			    0, &err))
			check_encode_opts(v, 1,
					  "_: 5\nA9: 7\nA10: 6\nZ: 4\na_b: 2\n"
					  "aB: 3\nb: 1\nnested:\n  w:\n"
					  "  - c: 2\n    d: 1\n  z: 1\n",
					  "non-letters first, digit runs by value");
	}
}

/* decode -> encode -> decode gives equal values, and a second encode the
 * same bytes. In Helm's numbers_as_float mode, as go-yaml v2 prints the
 * float 1.0 as "1", which reads back as an int. */
static void check_round_trip(const char *text)
{
	kd_yaml_decode_opts o = {.numbers_as_float = 1};
	kd_err err = KD_ERR_INIT;
	kd_buf b1 = KD_BUF_INIT(1 << 20), b2 = KD_BUF_INIT(1 << 20);
	kd_value *v1 = NULL, *v2 = NULL;
	int rc;

	rc = kd_yaml_decode_all(&v1, &arena, text, strlen(text), "rt", &o,
				&err);
	rc = rc ? rc : kd_yaml_encode_all(&b1, v1, NULL, &err);
	rc = rc ? rc : kd_yaml_decode_all(&v2, &arena, b1.ptr, b1.len, "rt2",
					  &o, &err);
	rc = rc ? rc : kd_yaml_encode_all(&b2, v2, NULL, &err);
	if (rc)
		diag("%s", err.msg);
	ok(!rc && kd_value_equal(v1, v2), "round trip keeps the value: %s",
	   ex(text));
	ok(!rc && b1.len == b2.len && !memcmp(b1.ptr, b2.ptr, b1.len),
	   "round trip keeps the bytes: %s", ex(text));
	kd_buf_free(&b1);
	kd_buf_free(&b2);
}

static void test_round_trips(void)
{
	check_round_trip("a: 1\nb: [x, 'true', \"1.5\", '', ~, yes, 0x1F, 1:20]\n"
			 "c: {d: {e: [[], {}]}}\n");
	check_round_trip("s: \"tab\\t nul\\0 bell\\a \\u00e9 \\U0001F600 "
			 "\\x85 \\u2028\"\n");
	check_round_trip("l: \"  lead and trail  \"\nm: |+\n  keep\n\n"
			 "n: \"x \\ny\"\no: \"\\n\\nstart\"\n");
	check_round_trip("k: !!binary gIGC\n!!binary /w==: bin key\n");
	check_round_trip("- 2001-12-14\n- 2001-12-14 21:59:43.10\n- 1e400\n"
			 "- .5\n- 1_000\n- 0b101\n- 'y'\n- '<<'\n");
	check_round_trip("a: &a {x: 1}\nb: {<<: *a, y: [*a]}\n---\n- 1\n---\n"
			 "text\n");
	check_round_trip("? \"a very long key that is longer than one hundred "
			 "and twenty-eight characters, which makes libyaml "
			 "write it as a complex key with a question mark\"\n"
			 ": v\n");
	check_round_trip("w: \"a long string, long enough to fold, with "
			 "\\\"quotes\\\" and a \\t tab, and spaces   in  runs,"
			 " going on and on past the eighty column mark\"\n");
}

/* Every prefix of a valid stream decodes or fails cleanly. */
static void test_truncation(void)
{
	static const char doc[] =
		"%YAML 1.1\n---\nbase: &b {a: 1, 'q': \"x\\ty\"}\n"
		"list:\n- *b\n- <<: *b\n  c: !!int \"3\"\n- |\n  lit\n  eral\n"
		"- >-\n  fold\n  ed\n- [1, {2: 3}, !!binary aGk=]\n"
		"? complex\n: value # comment\n...\n--- second\n";
	size_t n = sizeof(doc) - 1, i, okc = 0, errc = 0, bad = 0;

	for (i = 0; i <= n; i++) {
		kd_arena a = KD_ARENA_INIT(1 << 24);
		kd_err err = KD_ERR_INIT;
		kd_value *v = NULL;
		int rc = kd_yaml_decode_all(&v, &a, doc, i, "t", NULL, &err);

		if (rc == 0 && v && v->type == KD_LIST)
			okc++;
		else if (rc == KD_EPARSE && !strncmp(err.msg, "t:", 2))
			errc++;
		else
			bad++;
		kd_arena_free(&a);
	}
	is_int(bad, 0, "each of %zu prefixes decodes or fails with KD_EPARSE "
		       "(%zu ok, %zu errors)",
	       n + 1, okc, errc);
	ok(okc > 0 && errc > 0, "both outcomes occur");
}

/* Positions: every key and list item's path to its line and column, so
 * config errors can name a line; "" (or the document index) is the root. */
static void check_positions(const char *text, int all, const char *want)
{
	kd_yaml_decode_opts o = {0};
	kd_err err = KD_ERR_INIT;
	kd_buf b = KD_BUF_INIT(1 << 16);
	kd_value *v = NULL, *pos = NULL;
	size_t i;
	int rc;

	o.positions = &pos;
	rc = all ? kd_yaml_decode_all(&v, &arena, text, strlen(text), "in.yaml", &o, &err)
		 : kd_yaml_decode(&v, &arena, text, strlen(text), "in.yaml", &o, &err);
	if (rc)
		kd_buf_printf(&b, "error %d: %s", rc, err.msg);
	for (i = 0; !rc && i < pos->u.map.len; i++) {
		const kd_map_ent *e = &pos->u.map.ents[i];

		kd_buf_printf(&b, "%s%s=%d:%d", i ? " " : "", e->key,
			      (int)e->val->u.list.items[0]->u.i,
			      (int)e->val->u.list.items[1]->u.i);
	}
	is_str(b.ptr, b.len, want, "positions%s of %s", all ? " (all)" : "", ex(text));
	kd_buf_free(&b);
}

static void test_positions(void)
{
	kd_yaml_decode_opts o = {0};
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL, *pos = NULL;
	int rc;

	check_positions("a: 1\nb:\n  c: [x, {d: 2}]\n", 0,
			"=1:1 a=1:1 b=2:1 b.c=3:3 b.c.0=3:7 b.c.1=3:10 b.c.1.d=3:11");
	check_positions("list:\n  - name: web\n    port: 80\n  - plain\n", 0,
			"=1:1 list=1:1 list.0=2:5 list.0.name=2:5 list.0.port=3:5 list.1=4:5");
	check_positions("a: &x {k: 1}\nb: *x\nc:\n  - *x\n", 0,
			"=1:1 a=1:1 a.k=1:8 b=2:1 c=3:1 c.0=4:5");
	check_positions("m:\n  <<: {z: 1}\n  w: 2\n", 0,
			"=1:1 m=1:1 m.<<.z=2:8 m.w=3:3");
	check_positions("a: 1\n---\n- b\n", 1, "0=1:1 0.a=1:1 1=3:1 1.0=3:3");
	check_positions("", 0, "");
	check_positions("7\n", 0, "=1:1");
	check_positions("a: [1\n", 0,
			"error -3: in.yaml:2:1: did not find expected ',' or ']' "
			"(while parsing a flow sequence that started at line 1, column 4)");
	o.positions = &pos;
	rc = kd_yaml_decode(&v, &arena, "k: v\n", 5, NULL, NULL, &err);
	ok(!rc && pos == NULL, "positions are only made when asked for");
	rc = kd_yaml_decode(&v, &arena, "k: v\n", 5, NULL, &o, &err);
	ok(!rc && pos && pos->type == KD_MAP && kd_map_getz(pos, "k"),
	   "and set on success");
}

int main(void)
{
	test_resolve_table();
	test_tags();
	test_scalars_and_collections();
	test_nul();
	test_documents();
	test_anchors_and_merges();
	test_billion_laughs();
	test_keys();
	test_malformed();
	test_limits();
	test_encode();
	test_sort_keys();
	test_round_trips();
	test_truncation();
	test_positions();
	kd_arena_free(&arena);
	return tap_done();
}
