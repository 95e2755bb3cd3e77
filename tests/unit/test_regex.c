/* core/regex against Go's documented regexp behaviour: each case is a
 * pattern, a subject and the submatch offsets Go's FindStringSubmatchIndex
 * gives (leftmost-first), or the error text Go's regexp.Compile gives. */
#include "base/arena.h"
#include "base/limits.h"
#include "regex/regex.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mcase {
	const char *re, *s;
	const char *want; /* "a-b c-d ..." per group, "-" unset; NULL: no match */
} mcase;

static const mcase matches[] = {
	{"a+", "baaab", "1-4"},
	{"(a|ab)(c|bcd)(d*)", "abcd", "0-4 0-1 1-4 4-4"}, /* leftmost-first, not POSIX */
	{"(a*)*", "b", "0-0 0-0"},
	{"(a*)+", "b", "0-0 0-0"},
	{"(a|b)*?c", "abc", "0-3 1-2"},
	{"a*?", "aaa", "0-0"},
	{"(?U)a*", "aaa", "0-0"},
	{"(?U)a*?", "aaa", "0-3"},
	{"x*", "\xe2\x98\xba", "0-0"},
	{"^$", "", "0-0"},
	{"^abc$", "abc\n", NULL}, /* $ is \z without (?m) */
	{"(?m)^b$", "a\nb\nc", "2-3"},
	{"(?s)a.b", "a\nb", "0-3"},
	{"a.b", "a\nb", NULL},
	{"[^a]", "\n", "0-1"}, /* negated classes take \n */
	{"(?i)straße", "STRASSE", NULL},
	{"(?i)k", "\xe2\x84\xaa", "0-3"}, /* Kelvin sign folds to k */
	{"(?i)[a-c]+", "xAbC", "1-4"},
	{"(?i:A)b", "ab", "0-2"},
	{"(?i:A)b", "aB", NULL},
	{"\\d+\\s\\w+", "x 12 ab_9", "2-9"},
	{"\\D", "12x", "2-3"},
	{"[[:alpha:]]+", "12abC3", "2-5"},
	{"[[:^digit:]]+", "12ab3", "2-4"},
	{"\\pL+", "1\xce\xb1\xce\xb2x2", "1-6"},
	{"\\p{Greek}+", "a\xce\xb1\xce\xb2", "1-5"},
	{"\\PL+", "ab12c", "2-4"},
	{"\\p{^L}", "a1", "1-2"},
	{"\\p{Lu}", "abC", "2-3"},
	{"\\p{Han}", "x\xe4\xb8\xad", "1-4"},
	{"\\Qa.b\\E+", "a.bbb", "0-5"},
	{"\\Aab", "ab", "0-2"},
	{"ab\\z", "abab", "2-4"},
	{"\\bfoo\\b", "a foo b", "2-5"},
	{"\\Boo", "foo", "1-3"},
	{"(?P<first>\\w+) (?<last>\\w+)", "Ada Lovelace", "0-12 0-3 4-12"},
	{"a{2,3}", "aaaa", "0-3"},
	{"a{2,}", "aaaaa", "0-5"},
	{"a{,2}", "a{,2}", "0-5"}, /* not a repeat: literal braces */
	{"(a){0}b", "ab", "1-2 -"},
	{"\\x41\\x{263a}\\101", "A\xe2\x98\xba" "A", "0-5"},
	{"[\\d-z]+", "1-z", "0-3"},
	{"\xff", "\xff", NULL}, /* never reached: an invalid pattern */
	{".", "\xff", "0-1"},   /* invalid bytes are U+FFFD */
	{"\\x{fffd}", "\xff", "0-1"},
	{"^(a|aa)*c$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL},
	{"(a+)(b+)?", "aa", "0-2 0-2 -"},
	{"[]a]+", "]a]", "0-3"},
	{"x|", "y", "0-0"},
};

static const struct {
	const char *re, *err;
} errors[] = {
	{"(abc", "error parsing regexp: missing closing ): `(abc`"},
	{"abc)", "error parsing regexp: unexpected ): `abc)`"},
	{"[a", "error parsing regexp: missing closing ]: `[a`"},
	{"[z-a]", "error parsing regexp: invalid character class range: `z-a`"},
	{"a**", "error parsing regexp: invalid nested repetition operator: `**`"},
	{"*", "error parsing regexp: missing argument to repetition operator: `*`"},
	{"a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"},
	{"a{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"},
	{"((a{1000}){1000}){1000}", "error parsing regexp: invalid repeat count: `{1000}`"},
	{"(a{100}){100}", "error parsing regexp: invalid repeat count: `{100}`"},
	{"\\1", "error parsing regexp: invalid escape sequence: `\\1`"},
	{"\\8", "error parsing regexp: invalid escape sequence: `\\8`"},
	{"\\C", "error parsing regexp: invalid escape sequence: `\\C`"},
	{"a\\", "error parsing regexp: trailing backslash at end of expression: ``"},
	{"(?x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?x`"},
	{"(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"},
	{"(?P<>a)", "error parsing regexp: invalid named capture: `(?P<>`"},
	{"(?P<a-b>x)", "error parsing regexp: invalid named capture: `(?P<a-b>`"},
	{"\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"},
	{"[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"},
	{"\xff", "error parsing regexp: invalid UTF-8: `\xff`"},
	{"x{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"},
};

static void want_offsets(const mcase *c)
{
	kd_arena a;
	kd_regex *rx;
	char err[512], got[512] = "";
	size_t cap[2 * KD_REGEX_MAXGROUPS];
	int rc, g;

	kd_arena_init(&a, KD_LIMIT_ARENA_BYTES);
	if (kd_regex_compile(&rx, &a, c->re, strlen(c->re), err, sizeof err)) {
		ok(c->want == NULL, "/%s/ compiles: %s", c->re, err);
		goto cleanup;
	}
	rc = kd_regex_find(rx, c->s, strlen(c->s), 0, cap, 2 * (kd_regex_ngroups(rx) + 1));
	if (rc != 1) {
		ok(c->want == NULL, "/%s/ on \"%s\": no match", c->re, c->s);
		goto cleanup;
	}
	for (g = 0; g <= kd_regex_ngroups(rx); g++) {
		size_t l = strlen(got);

		if (cap[2 * g] == (size_t)-1)
			snprintf(got + l, sizeof got - l, "%s-", g ? " " : "");
		else
			snprintf(got + l, sizeof got - l, "%s%zu-%zu", g ? " " : "", cap[2 * g],
				 cap[2 * g + 1]);
	}
	is_str(got, strlen(got), c->want ? c->want : "(no match)", "/%s/ on \"%s\"", c->re, c->s);
cleanup:
	kd_arena_free(&a);
}

static void want_error(const char *re, const char *want)
{
	kd_arena a;
	kd_regex *rx;
	char err[512] = "";

	kd_arena_init(&a, KD_LIMIT_ARENA_BYTES);
	ok(kd_regex_compile(&rx, &a, re, strlen(re), err, sizeof err) == -1, "/%s/ is refused", re);
	is_str(err, strlen(err), want, "/%s/: Go's message", re);
	kd_arena_free(&a);
}

static void test_limits(void)
{
	char *deep = malloc(140001);
	kd_err e = KD_ERR_INIT;

	/* 70,000 nested groups: refused at Go's height of 1000, no crash */
	memset(deep, '(', 70000);
	memset(deep + 70000, ')', 70000);
	deep[140000] = 0;
	is_int(kd_regex_match(deep, 140000, "", 0, &e), KD_EPARSE, "70,000 nested groups refused");
	ok(strstr(e.msg, "expression nests too deeply") != NULL, "%s", e.msg);
	/* 990 nested concatenations are a tree 991 high: within the bound */
	for (int k = 0; k < 990; k++)
		memcpy(deep + 4 * k, "(?:x", 4);
	memset(deep + 3960, ')', 990);
	memset(deep + 3960 + 990, 'x', 990);
	is_int(kd_regex_match(deep, 4950, deep + 4950, 990, &e), 1,
	       "990 nested levels compile and match");
	free(deep);
}

int main(void)
{
	for (size_t k = 0; k < sizeof matches / sizeof *matches; k++)
		want_offsets(&matches[k]);
	for (size_t k = 0; k < sizeof errors / sizeof *errors; k++)
		want_error(errors[k].re, errors[k].err);
	test_limits();
	return tap_done();
}
