/* Semantic versions and ranges (core/semver). Expected results follow the
 * SemVer 2.0.0 spec and the documented behaviour of Masterminds/semver
 * v3.2 (what Sprig and Helm use). */
#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "semver/semver.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kd_arena arena = KD_ARENA_INIT(64u << 20);

static const struct {
	const char *in;
	unsigned long long major, minor, patch;
	const char *pre, *build;
} strict_ok[] = {
	{"0.0.0", 0, 0, 0, NULL, NULL},
	{"1.2.3", 1, 2, 3, NULL, NULL},
	{"10.20.30", 10, 20, 30, NULL, NULL},
	{"1.2.3-rc.1+build.5", 1, 2, 3, "rc.1", "build.5"},
	{"1.0.0-alpha", 1, 0, 0, "alpha", NULL},
	{"1.0.0-0.3.7", 1, 0, 0, "0.3.7", NULL},
	{"1.0.0-x.7.z.92", 1, 0, 0, "x.7.z.92", NULL},
	{"1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", NULL},
	{"1.0.0+20130313144700", 1, 0, 0, NULL, "20130313144700"},
	{"1.0.0-beta+exp.sha.5114f85", 1, 0, 0, "beta", "exp.sha.5114f85"},
	{"1.0.0+21AF26D3----117B344092BD", 1, 0, 0, NULL, "21AF26D3----117B344092BD"},
	{"1.0.0+001", 1, 0, 0, NULL, "001"},
	{"1.0.0-0A.is.legal", 1, 0, 0, "0A.is.legal", NULL},
	{"18446744073709551615.0.0", 18446744073709551615ull, 0, 0, NULL, NULL},
	{"1.1.2-prerelease+meta", 1, 1, 2, "prerelease", "meta"},
	{"2.0.0-rc.1+build.123", 2, 0, 0, "rc.1", "build.123"},
};

/* Rejected by strict parsing; the message must contain `why`. */
static const struct {
	const char *in, *why;
	int lenient_ok;
} strict_bad[] = {
	{"", "empty version", 0},
	{"1", "minor version is missing", 1},
	{"1.2", "patch version is missing", 1},
	{"v1.2.3", "leading 'v'", 1},
	{"01.2.3", "major version has a leading zero", 1},
	{"1.02.3", "minor version has a leading zero", 1},
	{"1.2.03", "patch version has a leading zero", 1},
	{"1.2.3-01", "leading zero", 0},
	{"1.2.3-rc.01", "leading zero", 0},
	{"1.2.3-", "empty pre-release identifier", 0},
	{"1.2.3-a..b", "empty pre-release identifier", 0},
	{"1.2.3-a.", "empty pre-release identifier", 0},
	{"1.2.3+", "empty build metadata identifier", 0},
	{"1.2.3+a..b", "empty build metadata identifier", 0},
	{"1.2.3.4", "more than three", 0},
	{"1.2.3-beta!", "unexpected '!'", 0},
	{"1.2.3 ", "unexpected ' '", 0},
	{" 1.2.3", "found ' '", 0},
	{"1..3", "found '.'", 0},
	{"a.b.c", "found 'a'", 0},
	{"V1.2.3", "found 'V'", 0},
	{"-1.2.3", "found '-'", 0},
	{"1.2.3-α", "byte 0xce is not allowed in pre-release", 0},
	{"1.2.3+_b", "'_' is not allowed in build metadata", 0},
	{"1.2.3+b_1", "unexpected '_' at offset 7", 0},
	{"18446744073709551616.0.0", "larger than 18446744073709551615", 0},
	{"1.99999999999999999999.0", "minor version is larger", 0},
	{"1.2.3+build+more", "unexpected '+'", 0},
};

static const struct {
	const char *in, *canon;
} lenient_ok[] = {
	{"v1.2.3", "1.2.3"},
	{"1.2", "1.2.0"},
	{"1", "1.0.0"},
	{"v2", "2.0.0"},
	{"1.2-rc.1", "1.2.0-rc.1"},
	{"1-beta+b.1", "1.0.0-beta+b.1"},
	{"01.02.03", "1.2.3"},
	{"v1.2.3-rc.1+build.5", "1.2.3-rc.1+build.5"},
	{"1.2+meta", "1.2.0+meta"},
};

/* SemVer 2.0.0 section 11, lowest first. */
static const char *const order[] = {
	"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
	"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1-0",
	"1.0.1-2", "1.0.1-10", "1.0.1-a", "1.0.1", "1.9.0", "1.10.0",
	"1.11.0", "2.0.0", "2.1.0", "2.1.1", "10.0.0",
	"18446744073709551615.0.0",
};

/* range, version (lenient), satisfied */
static const struct {
	const char *range, *ver;
	int want;
} checks[] = {
	/* = and bare versions */
	{"=2.0.0", "1.2.3", 0}, {"=2.0.0", "2.0.0", 1},
	{"2.0.0", "2.0.0+build", 1}, {"=2.0", "2.0.1", 1},
	{"=2.0", "1.2.3", 0}, {"4.1", "4.1.0", 1}, {"=0", "1", 0},
	{"1.2.3-beta", "1.2.3-beta", 1}, {"1.2.3-beta", "1.2.3", 0},
	{"v1.2.3", "1.2.3", 1}, {"= 2.0", "2.0.0", 1},
	/* != */
	{"!=4.1.0", "4.1.0", 0}, {"!=4.1.0", "4.1.1", 1},
	{"!=4.1", "4.1.0", 0}, {"!=4.1", "4.1.1", 0}, {"!=4.1", "5.1.0", 1},
	{"!=4.1", "5.1.0-alpha.1", 0}, {"!=4.1-alpha", "4.1.0", 1},
	{"!=4.1-alpha", "4.1.0-alpha", 0}, {"!=4.1-alpha", "4.1.1-alpha", 0},
	{"!=4.x", "5.1.0", 1}, {"!=4.x", "4.1.0", 0},
	{"!=4.1.x", "4.2.0", 1}, {"!=4.2.x", "4.2.3", 0},
	{"!=1.2.3", "1.2.4-beta", 1},
	/* > */
	{">1.1", "4.1.0", 1}, {">1.1", "1.1.0", 0}, {">11", "11.1.0", 0},
	{">11.1", "11.1.0", 0}, {">11.1", "11.1.1", 0}, {">11.1", "11.2.1", 1},
	{">0", "0", 0}, {">0", "1", 1}, {">0", "0.0.1-alpha", 0},
	{">0-0", "0.0.1-alpha", 0}, {">0.0.0-0", "0.0.0-alpha", 1},
	{">1.2.3-alpha.1", "1.2.3-alpha.2", 1},
	{">1.2.3-alpha.1", "1.3.3-alpha.2", 1},
	{">1.2.3", "1.2.3-beta.1", 0}, {">1.2.3", "1.2.4", 1},
	/* < */
	{"<11", "0.1.0", 1}, {"<11", "11.1.0", 0}, {"<1.1", "1.1.0", 0},
	{"<1.1", "1.1.1", 0}, {"<1.x", "1.1.1", 0}, {"<1.x", "0.1.1", 1},
	{"<1.1.x", "1.1.500", 0}, {"<1.1.x", "1.0.500", 1},
	{"<0", "0.0.0-alpha", 0}, {"<0-z", "0.0.0-alpha", 1},
	{"<2.0.0", "2.0.0-rc.1", 0},
	/* >= and => */
	{">=11", "11.1.2", 1}, {">=11.1", "11.0.2", 0}, {">=1.1", "4.1.0-beta", 0},
	{">=0", "0.0.1-alpha", 0}, {">=0-0", "0.0.1-alpha", 1},
	{">=0.0.0-0", "3.4.5-beta.1", 1}, {">=0", "0", 1},
	{"=>1.2", "1.2.0", 1}, {"=> 1.2", "1.1.9", 0},
	/* <= and =< */
	{"<=11", "11.2.3", 1}, {"<=11", "12.2.3", 0}, {"<=1.1", "1.2.3", 0},
	{"<=1.1", "1.1.1", 1}, {"<=1.1", "0.1.0-alpha", 0},
	{"<=1.1-a", "0.1.0-alpha", 1}, {"<=1.x", "1.1.0", 1},
	{"<=2.x", "3.0.0", 0}, {"<=1.1.x", "1.2.500", 0}, {"<=4.5", "4.6.3", 0},
	{"=<1.2.3", "1.2.3", 1}, {"=<1.2.3", "1.2.4", 0},
	/* ~ and ~> */
	{"~1.2.3", "1.2.4", 1}, {"~1.2.3", "1.3.4", 0}, {"~1.2.3", "1.2.2", 0},
	{"~1.2", "1.2.4", 1}, {"~1.2", "1.3.4", 0}, {"~1", "1.2.4", 1},
	{"~1", "2.3.4", 0}, {"~1.x", "1.3.5", 1}, {"~1.x", "1.3.5-beta", 0},
	{"~0.2.3", "0.2.5", 1}, {"~0.2.3", "0.3.5", 0},
	{"~0.0.3", "0.0.9", 1}, {"~0.0.3", "0.1.0", 0},
	{"~0.0.0", "1.2.3", 1}, {"~*", "2.1.1", 1},
	{"~1.2.3-beta.2", "1.2.3-beta.4", 1}, {"~1.2.3-beta.2", "1.2.4-beta.2", 1},
	{"~1.2.3-beta.2", "1.3.4-beta.2", 0}, {"~1.1.1-beta", "1.1.1-alpha", 0},
	{"~1.1.1-beta", "1.1.1", 1}, {"~>1.2", "1.2.9", 1}, {"~>1.2", "1.3.0", 0},
	{"~ 1.2.3", "1.2.5", 1},
	/* ^, including 0.x and 0.0.x */
	{"^1.2.3", "1.8.9", 1}, {"^1.2.3", "2.8.9", 0}, {"^1.2.3", "1.2.1", 0},
	{"^1.2", "1.8.9", 1}, {"^1", "2.8.9", 0}, {"^1.x", "1.1.1", 1},
	{"^2.x", "1.1.1", 0}, {"^1.x", "1.1.1-beta1", 0},
	{"^1.2.0", "1.2.1-alpha.1", 0}, {"^1.2.0-alpha.0", "1.2.1-alpha.1", 1},
	{"^1.2.0-alpha.2", "1.2.0-alpha.1", 0}, {"^1.1.2-alpha", "1.2.1-beta1", 1},
	{"^1.2.x-alpha", "1.1.1-beta1", 0},
	{"^0.2.3", "0.2.5", 1}, {"^0.2.3", "0.5.6", 0}, {"^0.2.3", "0.2.2", 0},
	{"^0.2", "0.2.5", 1}, {"^0.2", "0.3.0", 0},
	{"^0.0.3", "0.0.3", 1}, {"^0.0.3", "0.0.4", 0}, {"^0.0.3", "0.1.3", 0},
	{"^0.0.1", "0.3.1", 0}, {"^0.0", "0.0.3", 1}, {"^0.0", "0.1.4", 0},
	{"^0.0", "1.0.4", 0}, {"^0", "0.2.3", 1}, {"^0", "1.1.4", 0},
	{"^0.0.0", "1.2.3", 0}, {"^0.0.0", "0.0.0", 1},
	{"^0.2.3-beta.2", "0.2.4-beta.2", 1}, {"^0.2.3-beta.2", "0.3.4-beta.2", 0},
	{"^*", "1.2.3", 1}, {"^*", "0.0.0", 1}, {"^*", "1.2.3-rc.1", 0},
	/* x-ranges */
	{"*", "1", 1}, {"*", "4.5.6", 1}, {"*", "1.2.3-alpha.1", 0},
	{"*-0", "1.2.3-alpha.1", 1}, {"x", "0.0.0", 1}, {"X", "9.9.9", 1},
	{"2.*", "1", 0}, {"2.*", "3.4.5", 0}, {"2.*", "2.1.1", 1},
	{"2.1.*", "2.1.1", 1}, {"2.1.*", "2.2.1", 0}, {"2", "2.1.1", 1},
	{"2.1", "2.2.1", 0}, {"1.2.x", "1.2.99", 1}, {"1.2.X", "1.3.0", 0},
	{"1.x.3", "1.7.0", 1}, {"0.x.x", "1.2.3", 0}, {"0.0.x", "1.2.3", 0},
	{"0.0.x", "0.0.7", 1}, {"0.0.0", "1.2.3", 0},
	/* hyphen ranges */
	{"1.1 - 2", "1.1.1", 1}, {"1.5.0 - 4.5", "3.7.0", 1},
	{"1.2 - 1.4.5", "1.4.5", 1}, {"1.2 - 1.4.5", "1.4.6", 0},
	{"1.2 - 1.4.5", "1.1.9", 0}, {"1.2 - 1.4", "1.4.9", 1},
	{"1.2 - 1.4", "1.5.0", 0}, {"1.1 - 3", "4.3.2", 0},
	{"1.1-3", "4.3.2", 0}, {"1.1-3", "1.1.0-3", 1},
	{"1.0.0 - 2.0.0", "1.5.0-rc.1", 0},
	{"1.0.0-0 - 2.0.0", "1.5.0-rc.1", 0},
	{"2 - 3, 4 - 5", "3.5.0", 0}, {"2 - 3 || 4 - 5", "4.5.0", 1},
	/* AND, comma or space */
	{">1.1, <2", "1.1.1", 0}, {">1.1, <2", "1.2.1", 1},
	{">1.1 <2", "1.2.1", 1}, {">1.1    <3", "4.3.2", 0},
	{">= 1.1, <     2, !=1.2.3", "1.2.3", 0},
	{">= 1.1, <     2, !=1.2.3", "1.2.4", 1},
	{">=1.0 <2.0", "1.9.9", 1}, {">=1.0 <2.0", "2.0.0", 0},
	{">=1.0 ,<2.0", "1.0.0", 1}, {">=1.0\t<2.0", "1.5.0", 1},
	{">= 1.2.3 < 2.0", "1.9.0", 1},
	/* OR */
	{">=1.1, <2, !=1.2.3 || > 3", "4.1.2", 1},
	{">=1.1, <2, !=1.2.3 || > 3", "3.1.2", 0},
	{">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", 1},
	{">=1.1 <2 !=1.2.3 || > 3", "1.2.3", 0},
	{"1.2.3||2.0.0", "2.0.0", 1}, {"^1 || ^3", "3.1.0", 1},
	{"^1 || ^3", "2.1.0", 0}, {"3 - 4 || => 3.0, < 4", "4.2.0", 1},
	/* pre-releases: per term, anywhere in the term's range */
	{">=1.2.0-0 <2.0.0", "1.5.0-rc.1", 0},
	{">=1.2.0-0 <2.0.0-0", "1.5.0-rc.1", 1},
	{">=1.2.0-0 <2.0.0-0", "2.0.0-rc.1", 0},
	{"^1.2.0-0", "1.5.0-rc.1", 1}, {"~1.2.3-0", "1.2.9-beta", 1},
	{"1.2.3-rc.1 || >=2.0.0", "1.2.3-rc.1", 1},
	{">=1.2.3-rc.1", "1.2.3-rc.0", 0}, {">=1.2.3-rc.1", "1.2.3-rc.10", 1},
	/* build metadata is ignored on both sides */
	{"=1.2.3+a", "1.2.3+b", 1}, {">1.2.3+z", "1.2.3+a", 0},
};

/* Ranges that must not parse, and a word the message must contain. */
static const struct {
	const char *range, *why;
} bad_ranges[] = {
	{"", "empty range"},
	{"   ", "empty range"},
	{"foo", "bad version"},
	{">= bar", "bad version"},
	{"BAR >= 1.2.3", "bad version"},
	{"12.3.4.1234", "more than three"},
	{"12.3.34~ 1.2.3", "bad version"},
	{"1.2 ||", "empty alternative"},
	{"|| 1.2", "empty alternative"},
	{"1.2 |||| 2", "empty alternative"},
	{"1.2 | 2", "bad version"},
	{">1.0,", "comma without a term"},
	{">1.0, , <2", "expected a version"},
	{",>1.0", "expected a version"},
	{">=", "operator without a version"},
	{">= ,1.2", "operator without a version"},
	{"> = 1.2", "bad version"},
	{">= 1.2 - 2", "take no operator"},
	{"1.2 -", "bad version"},
	{"1.2 - ", "without an upper bound"},
	{"1.2 -1.4", "bad version"},
	{"1.2.3-01", "leading zero"},
	{"1.2.y", "bad version"},
	{"1.2.3-", "empty pre-release"},
	{"99999999999999999999", "larger than"},
	{">1<2", "bad version"},
	{"1.2.3 !! 1.2", "bad version"},
};

static int parse_s(kd_semver *v, const char *s, int lenient, kd_err *err)
{
	return kd_semver_parse(v, s, strlen(s), lenient, err);
}

static int opt_eq(const char *p, size_t n, const char *want)
{
	if (!want)
		return p == NULL && n == 0;
	return p && n == strlen(want) && !memcmp(p, want, n);
}

static void test_parse(void)
{
	kd_err err = KD_ERR_INIT;
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(strict_ok) / sizeof(strict_ok[0]); i++) {
		kd_semver v;
		int rc = parse_s(&v, strict_ok[i].in, 0, &err);

		ok(rc == 0 && v.major == strict_ok[i].major &&
			   v.minor == strict_ok[i].minor &&
			   v.patch == strict_ok[i].patch &&
			   opt_eq(v.pre, v.pre_len, strict_ok[i].pre) &&
			   opt_eq(v.build, v.build_len, strict_ok[i].build),
		   "strict parse %s", strict_ok[i].in);
		if (rc)
			diag("%s", err.msg);
		kd_semver_format(&v, buf, sizeof(buf));
		is_str(buf, strlen(buf), strict_ok[i].in, "format round-trips %s",
			strict_ok[i].in);
	}
	for (i = 0; i < sizeof(strict_bad) / sizeof(strict_bad[0]); i++) {
		kd_semver v;
		int rc = parse_s(&v, strict_bad[i].in, 0, &err);

		ok(rc == KD_EPARSE && strstr(err.msg, strict_bad[i].why) &&
			   strstr(err.msg, "invalid version \""),
		   "strict rejects '%s' (%s)", strict_bad[i].in,
		   strict_bad[i].why);
		if (rc != KD_EPARSE || !strstr(err.msg, strict_bad[i].why))
			diag("rc %d: %s", rc, err.msg);
		rc = parse_s(&v, strict_bad[i].in, 1, &err);
		ok((rc == 0) == strict_bad[i].lenient_ok, "lenient %s '%s'",
		   strict_bad[i].lenient_ok ? "accepts" : "rejects",
		   strict_bad[i].in);
	}
	for (i = 0; i < sizeof(lenient_ok) / sizeof(lenient_ok[0]); i++) {
		kd_semver v;
		int rc = parse_s(&v, lenient_ok[i].in, 1, &err);

		buf[0] = '\0';
		if (!rc)
			kd_semver_format(&v, buf, sizeof(buf));
		is_str(buf, strlen(buf), lenient_ok[i].canon, "lenient parse %s",
			lenient_ok[i].in);
	}

	/* Messages name the input, escaped and cut. */
	{
		kd_semver v;
		char big[KD_LIMIT_SEMVER_BYTES + 2];

		parse_s(&v, "1.2.3-\x01", 0, &err);
		ok(strstr(err.msg, "\"1.2.3-\\x01\"") != NULL,
		   "control bytes are escaped in messages: %s", err.msg);
		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		is_int(parse_s(&v, big, 1, &err), KD_ELIMIT,
		       "a version past KD_LIMIT_SEMVER_BYTES is refused");
		ok(strstr(err.msg, "KD_LIMIT_SEMVER_BYTES") && strstr(err.msg, "...\""),
		   "and the message names the limit and cuts the input");
		is_int(kd_semver_parse(&v, "1.2.3", 3, 0, &err), KD_EPARSE,
		       "the length argument is honoured (\"1.2\" strictly)");
		is_int(kd_semver_parse(&v, "1.2.3\0", 6, 0, &err), KD_EPARSE,
		       "an embedded NUL is an error");
		ok(parse_s(&v, "1.2.3", 0, NULL) == 0,
		   "err may be NULL");
	}
}

static void test_precedence(void)
{
	size_t n = sizeof(order) / sizeof(order[0]), i, j;
	int bad = 0;
	kd_semver a, b;
	kd_err err = KD_ERR_INIT;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int want = i < j ? -1 : i > j, got;

			parse_s(&a, order[i], 0, &err);
			parse_s(&b, order[j], 0, &err);
			got = kd_semver_cmp(&a, &b);
			if (got != want) {
				diag("cmp(%s, %s) = %d, want %d", order[i],
				     order[j], got, want);
				bad++;
			}
		}
	ok(!bad, "precedence of the %zu-version list holds for all pairs", n);

	parse_s(&a, "1.0.0+build.1", 0, &err);
	parse_s(&b, "1.0.0+build.2", 0, &err);
	is_int(kd_semver_cmp(&a, &b), 0, "build metadata is ignored");
	parse_s(&a, "1.0.0-rc.1+x", 0, &err);
	parse_s(&b, "1.0.0-rc.1", 0, &err);
	is_int(kd_semver_cmp(&a, &b), 0, "build metadata is ignored after a pre-release");
	parse_s(&a, "1.0.0-99999999999999999999999", 0, &err);
	parse_s(&b, "1.0.0-100000000000000000000000", 0, &err);
	is_int(kd_semver_cmp(&a, &b), -1,
	       "numeric identifiers past 64 bits still compare numerically");
	parse_s(&a, "1.0.0-a-b", 0, &err);
	parse_s(&b, "1.0.0-a", 0, &err);
	is_int(kd_semver_cmp(&a, &b), 1, "alphanumeric identifiers compare in ASCII order");
	parse_s(&a, "1.0.0-B", 0, &err);
	parse_s(&b, "1.0.0-a", 0, &err);
	is_int(kd_semver_cmp(&a, &b), -1, "upper case sorts before lower case (ASCII)");
	parse_s(&a, "v1.2", 1, &err);
	parse_s(&b, "1.2.0", 0, &err);
	is_int(kd_semver_cmp(&a, &b), 0, "lenient v1.2 equals 1.2.0");
}

static void test_ranges(void)
{
	kd_err err = KD_ERR_INIT;
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		kd_semver_range *r = NULL;
		kd_semver v;
		int rc = kd_semver_range_parse(&r, &arena, checks[i].range,
					       strlen(checks[i].range), &err);

		if (rc) {
			ok(0, "'%s' parses: %s", checks[i].range, err.msg);
			continue;
		}
		if (parse_s(&v, checks[i].ver, 1, &err)) {
			ok(0, "'%s' parses: %s", checks[i].ver, err.msg);
			continue;
		}
		ok(kd_semver_range_match(r, &v) == (checks[i].want != 0),
		   "'%s' %s %s", checks[i].range,
		   checks[i].want ? "matches" : "does not match",
		   checks[i].ver);
	}
	for (i = 0; i < sizeof(bad_ranges) / sizeof(bad_ranges[0]); i++) {
		kd_semver_range *r = (kd_semver_range *)&err;
		int rc = kd_semver_range_parse(&r, &arena, bad_ranges[i].range,
					       strlen(bad_ranges[i].range),
					       &err);

		ok(rc == KD_EPARSE && r == NULL &&
			   strstr(err.msg, bad_ranges[i].why) &&
			   strstr(err.msg, "invalid version range \""),
		   "range '%s' is refused (%s)", bad_ranges[i].range,
		   bad_ranges[i].why);
		if (rc != KD_EPARSE || !strstr(err.msg, bad_ranges[i].why))
			diag("rc %d: %s", rc, err.msg);
	}

	/* Limits: terms and length. */
	{
		char text[KD_LIMIT_SEMVER_BYTES + 16];
		kd_semver_range *r;
		size_t n = 0, t;
		kd_semver v;

		for (t = 0; t < KD_LIMIT_SEMVER_TERMS; t++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "%s>=%zu", t ? " " : "", t);
		is_int(kd_semver_range_parse(&r, &arena, text, n, &err), 0,
		       "KD_LIMIT_SEMVER_TERMS terms parse");
		parse_s(&v, "99.0.0", 0, &err);
		ok(kd_semver_range_match(r, &v), "and all of them hold for 99.0.0");
		n += (size_t)snprintf(text + n, sizeof(text) - n, " <100");
		is_int(kd_semver_range_parse(&r, &arena, text, n, &err),
		       KD_ELIMIT, "one more term is refused");
		ok(strstr(err.msg, "KD_LIMIT_SEMVER_TERMS") != NULL,
		   "the message names the limit: %s", err.msg);
		memset(text, ' ', sizeof(text));
		text[0] = '1';
		is_int(kd_semver_range_parse(&r, &arena, text,
					     KD_LIMIT_SEMVER_BYTES + 1, &err),
		       KD_ELIMIT, "a range past KD_LIMIT_SEMVER_BYTES is refused");
		is_int(kd_semver_range_parse(&r, &arena, text,
					     KD_LIMIT_SEMVER_BYTES, &err),
		       0, "a range of exactly KD_LIMIT_SEMVER_BYTES parses");
	}

	/* The range keeps its own copy of the text. */
	{
		char text[] = ">=1.2.3-rc.1";
		kd_semver_range *r;
		kd_semver v;

		kd_semver_range_parse(&r, &arena, text, strlen(text), &err);
		memset(text, 'z', sizeof(text) - 1);
		parse_s(&v, "1.2.3-rc.2", 0, &err);
		ok(kd_semver_range_match(r, &v),
		   "a range does not depend on the caller's buffer");
	}

	/* A full arena is reported, not crashed on. */
	{
		kd_arena tiny = KD_ARENA_INIT(8);
		kd_semver_range *r;
		int rc = kd_semver_range_parse(&r, &tiny, "^1.2.3 || ~2.0",
					       14, &err);

		ok(rc == KD_ELIMIT || rc == KD_ENOMEM,
		   "a full arena gives KD_ELIMIT/KD_ENOMEM (%d): %s", rc,
		   err.msg);
		kd_arena_free(&tiny);
	}
}

int main(void)
{
	test_parse();
	test_precedence();
	test_ranges();
	kd_arena_free(&arena);
	return tap_done();
}
