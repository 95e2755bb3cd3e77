/* kd_regex: regular expressions in Go's RE2 syntax and semantics (Go's
 * regexp package as Helm v3.17 builds it, Go 1.23): leftmost-first
 * submatches, flags (?i) (?m) (?s) (?U), named groups, Perl, POSIX and
 * Unicode classes, \Q...\E, Go's limits and Go's error messages. Used by
 * Sprig's regex* template functions and by kedge.regex, so smoke tests and
 * charts read patterns the same way.
 *
 * Matching runs in time linear in the input (a Pike VM), so no pattern
 * can make a search hang or fail for being too complex. */
#ifndef KD_REGEX_REGEX_H
#define KD_REGEX_REGEX_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

#include <stddef.h>

/* Capture groups a pattern may have, group 0 (the whole match) included;
 * a capture array for all of them holds 2 * KD_REGEX_MAXGROUPS offsets. */
#define KD_REGEX_MAXGROUPS KD_LIMIT_REGEX_GROUPS

typedef struct kd_regex kd_regex;

/* Compiles pattern p into *out, everything allocated in a (freed with
 * it). On a bad pattern -1 with Go's message ("error parsing regexp: ...")
 * in err[errlen]. */
int kd_regex_compile(kd_regex **out, kd_arena *a, const char *p, size_t n,
		     char *err, size_t errlen);

/* Finds the leftmost match in s[0..n) starting at or after byte from (the
 * text before from still counts for ^ \b \A): 1 found, with cap[0..ncap)
 * set (cap[2g], cap[2g+1] the bounds of group g, (size_t)-1 when it did
 * not take part; ncap even, at most 2 * (groups + 1); 0 asks only whether
 * there is a match), 0 none, -1 out of memory. */
int kd_regex_find(kd_regex *rx, const char *s, size_t n, size_t from,
		  size_t *cap, int ncap);

/* The number of capture groups of the pattern, without group 0. */
int kd_regex_ngroups(const kd_regex *rx);

/* Go's Regexp.Expand: appends tmpl with $1 ${1} $name ${name} $$
 * replaced from the match cap (all groups) in s. 0, or -1 when b fails. */
int kd_regex_expand(const kd_regex *rx, kd_buf *b, const char *tmpl, size_t tn,
		    const char *s, const size_t *cap);

/* Does re match anywhere in s? 1 yes, 0 no; KD_EPARSE for a bad pattern
 * (with Go's message) and KD_ENOMEM. */
int kd_regex_match(const char *re, size_t re_len, const char *s, size_t len,
		   kd_err *err);

#endif
