/* kd_regex: regular expressions in Go's RE2 syntax (the common subset:
 * classes, groups, alternation, greedy and lazy quantifiers, anchors, \b,
 * Perl classes, (?i)) with Go's leftmost-first semantics. Used by Sprig's
 * regex* template functions and by kedge.regex, so smoke tests and charts
 * read patterns the same way.
 *
 * The matcher backtracks with a step budget: a pathological pattern fails
 * with an error (KD_ELIMIT) instead of hanging. */
#ifndef KD_REGEX_REGEX_H
#define KD_REGEX_REGEX_H

#include "base/arena.h"
#include "base/err.h"

#include <stddef.h>

/* Capture groups a pattern may have (group 0 is the whole match); a
 * capture array holds 2 * KD_REGEX_MAXGROUPS offsets. */
#define KD_REGEX_MAXGROUPS 32

typedef struct kd_regex kd_regex;

/* Compiles pattern p into *out, everything allocated in a (freed with
 * it). On a bad pattern -1 with Go's message ("error parsing regexp: ...")
 * in err[errlen]. */
int kd_regex_compile(kd_regex **out, kd_arena *a, const char *p, size_t n,
		     char *err, size_t errlen);

/* Finds the leftmost match in s[0..n) starting at or after from: 1 found
 * (cap[2g], cap[2g+1] the bounds of group g, (size_t)-1 when it did not
 * take part), 0 none, -1 the step budget ran out. */
int kd_regex_find(kd_regex *rx, const char *s, size_t n, size_t from,
		  size_t cap[2 * KD_REGEX_MAXGROUPS]);

/* The number of capture groups of the pattern, without group 0. */
int kd_regex_ngroups(const kd_regex *rx);

/* Does re match anywhere in s? 1 yes, 0 no; KD_EPARSE for a bad pattern
 * and KD_ELIMIT when matching needs more steps than the budget (both with
 * a message). */
int kd_regex_match(const char *re, size_t re_len, const char *s, size_t len,
		   kd_err *err);

#endif
