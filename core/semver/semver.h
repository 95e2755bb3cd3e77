/* Semantic versions (SemVer 2.0.0) and version ranges with the semantics of
 * Masterminds/semver v3.2 (the library behind Sprig's semver/semverCompare
 * and Helm's kubeVersion and dependency constraints).
 *
 * Versions
 *   Strict parsing is SemVer 2.0.0 exactly: MAJOR.MINOR.PATCH, optional
 *   "-" pre-release and "+" build, identifiers [0-9A-Za-z-] and non-empty,
 *   no leading zeros in MAJOR/MINOR/PATCH nor in numeric pre-release
 *   identifiers. Lenient parsing is Masterminds' NewVersion: an optional
 *   leading "v", MINOR and PATCH may be left out ("1.2" is 1.2.0, "1-rc" is
 *   1.0.0-rc) and MAJOR/MINOR/PATCH may have leading zeros; pre-release and
 *   build are checked as strictly as above. Numbers are uint64 (overflow is
 *   an error); text longer than KD_LIMIT_SEMVER_BYTES is refused.
 *
 *   Precedence is SemVer 2.0.0 section 11: MAJOR, MINOR, PATCH numerically;
 *   a version with a pre-release is lower than the same one without;
 *   pre-release identifiers compare left to right, numeric ones numerically
 *   and lower than alphanumeric ones (compared in ASCII order), and a
 *   shorter list is lower when it is a prefix of the longer. Build metadata
 *   is ignored, so 1.0.0+a and 1.0.0+b compare equal.
 *
 * Ranges (Masterminds v3.2 syntax and meaning)
 *   A range is one or more OR groups separated by "||"; a group is one or
 *   more terms separated by whitespace or a comma, all of which must hold.
 *   A term is an operator followed (optionally after spaces) by a partial
 *   version: "v" prefix allowed, MINOR/PATCH may be missing or a wildcard
 *   "x", "X" or "*", leading zeros allowed.
 *     =V, V      equal; when V is partial (1.2, 1.x) the same as ~V
 *     !=V        not equal (a wildcard excludes the whole 1.2.x / 1.x)
 *     >V  <V  >=V (or =>)  <=V (or =<)
 *                partial V: >1.2 means 1.3.0 and up, <=1.2 means up to
 *                1.2.x, while <1.2 and >=1.2 read V as 1.2.0
 *     ~V (~>V)   1.2.3 -> >=1.2.3 <1.3.0; 1.2 -> >=1.2.0 <1.3.0;
 *                1 -> >=1.0.0 <2.0.0; ~0.0.0 and ~* match everything
 *     ^V         1.2.3 -> >=1.2.3 <2.0.0; 0.2.3 -> >=0.2.3 <0.3.0;
 *                0.0.3 -> =0.0.3; 0.0 -> <0.1.0; 0 -> <1.0.0; ^* matches
 *                everything (Masterminds' documented meaning; its code
 *                only matches 0.0.0 there)
 *     1.2.x, 1.*, *    x-ranges (wildcards after the first are ignored)
 *     A - B      hyphen range: >=A <=B (spaces around "-" required, and
 *                A must not carry an operator); a partial B is inclusive
 *                (1.2 - 1.4 accepts 1.4.9)
 *   An empty range, an empty OR group or a trailing comma is an error.
 *
 *   Pre-releases (Masterminds' rule, not npm's): a term whose version has
 *   no pre-release never matches a pre-release version (except "!=V" with
 *   no wildcard, which matches anything not equal to V). A term that names
 *   a pre-release matches pre-release versions anywhere in its own range,
 *   not only on the same MAJOR.MINOR.PATCH: ^1.2.0-0 accepts 1.5.0-rc.1.
 *   Each term decides alone, so ">=1.2.0-0 <2.0.0" rejects 1.5.0-rc.1 (the
 *   second term names no pre-release); write "<2.0.0-0" to allow it.
 *   Build metadata in a range is ignored.
 *
 * Memory: a kd_semver points into the text it was parsed from (pre and
 * build are not NUL-terminated) and allocates nothing. A range copies its
 * text into the arena and lives until the arena is freed. */
#ifndef KD_SEMVER_SEMVER_H
#define KD_SEMVER_SEMVER_H

#include "base/arena.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kd_semver {
	uint64_t major, minor, patch;
	const char *pre;   /* pre-release without the "-"; NULL when none */
	size_t pre_len;
	const char *build; /* build metadata without the "+"; NULL when none */
	size_t build_len;
} kd_semver;

typedef struct kd_semver_range kd_semver_range;

/* Parses n bytes of s (strict SemVer 2.0.0, or Masterminds' lenient form
 * when lenient is set). On failure returns KD_EPARSE (KD_ELIMIT when too
 * long), leaves *out zeroed and says which input and what is wrong. */
int kd_semver_parse(kd_semver *out, const char *s, size_t n, int lenient,
		    kd_err *err);

/* -1, 0 or 1 by SemVer precedence (build metadata ignored). */
int kd_semver_cmp(const kd_semver *a, const kd_semver *b);

/* Writes the canonical form (no "v", all three numbers, pre-release and
 * build) NUL-terminated into buf; returns the length it needs, like
 * snprintf. */
size_t kd_semver_format(const kd_semver *v, char *buf, size_t size);

/* Parses a range (see above) into the arena. KD_EPARSE on bad syntax,
 * KD_ELIMIT past KD_LIMIT_SEMVER_BYTES or KD_LIMIT_SEMVER_TERMS,
 * KD_ENOMEM when the arena is full. */
int kd_semver_range_parse(kd_semver_range **out, kd_arena *a, const char *s,
			  size_t n, kd_err *err);

/* Whether v satisfies the range. */
bool kd_semver_range_match(const kd_semver_range *r, const kd_semver *v);

#endif
