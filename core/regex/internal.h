/* What the files of core/regex share, and nobody else: the syntax tree
 * parse.c builds, the rune classes class.c keeps, the program compile.c
 * makes of the tree and exec.c runs (a Pike VM: every thread advances one
 * rune at a time, so matching is linear in the input), and the Unicode
 * tables tools/gen_unicode.pl writes into the build folder. */
#ifndef KD_REGEX_INTERNAL_H
#define KD_REGEX_INTERNAL_H

#include "base/arena.h"
#include "regex/regex.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RX_MAXRUNE 0x10FFFFu
#define RX_BADRUNE 0xFFFDu

/* Unicode tables (generated): a name (a Go category or script), its
 * ranges as n lo/hi pairs; the simple case-folding orbits as cp/next
 * pairs sorted by cp (next: the next larger member, the last wraps). */
typedef struct kd_rx_utable {
	const char *name;
	const uint32_t *r;
	size_t n;
} kd_rx_utable;
extern const kd_rx_utable kd_rx_utables[];
extern const size_t kd_rx_nutables;
extern const uint32_t kd_rx_fold[];
extern const size_t kd_rx_nfold;

/* A set of runes: n lo/hi pairs in r, sorted and merged once cleaned. */
typedef struct kd_rx_class {
	uint32_t *r;
	size_t n, cap;
} kd_rx_class;

int kd_rx_class_add(kd_arena *a, kd_rx_class *c, uint32_t lo, uint32_t hi);
/* lo..hi and every rune that folds to one of them (Go's (?i)) */
int kd_rx_class_add_folded(kd_arena *a, kd_rx_class *c, uint32_t lo, uint32_t hi);
int kd_rx_class_add_table(kd_arena *a, kd_rx_class *c, const uint32_t *r, size_t n,
			  bool fold);
void kd_rx_class_clean(kd_rx_class *c);
int kd_rx_class_negate(kd_arena *a, kd_rx_class *c);
/* Go's unicodeTable: a category, a script or "Any"; NULL when unknown */
const kd_rx_utable *kd_rx_utable_find(const char *name, size_t n);
bool kd_rx_in(const uint32_t *r, size_t n, uint32_t c);
/* the next rune of c's folding orbit, c itself when it has none */
uint32_t kd_rx_simple_fold(uint32_t c);

/* Parse flags, Go's names. */
enum {
	RX_FOLD = 1,      /* (?i) */
	RX_DOTNL = 2,     /* (?s) */
	RX_ONELINE = 4,   /* not (?m): ^ $ are \A \z */
	RX_NONGREEDY = 8, /* (?U) */
};

enum {
	RX_EMPTY, RX_RUNE, RX_CLASS, RX_ANY, RX_ANYNL, RX_BOL, RX_EOL, RX_BOT,
	RX_EOT, RX_WORDB, RX_NWORDB, RX_CAP, RX_CAT, RX_ALT, RX_STAR, RX_PLUS,
	RX_QUEST, RX_REPEAT,
};

typedef struct kd_rx_node kd_rx_node;
struct kd_rx_node {
	int op;
	bool lazy;
	int min, max;      /* RX_REPEAT; max -1: no upper bound */
	int cap;           /* RX_CAP: the group's number */
	uint32_t rune;     /* RX_RUNE */
	kd_rx_class cls;   /* RX_CLASS, cleaned */
	kd_rx_node **sub;
	int nsub;
	int height;
};

typedef struct kd_rx_tree {
	kd_rx_node *root;
	int ngroups;
	const char **names; /* names[g] for g in 1..ngroups, NULL unnamed */
	size_t *namelens;
} kd_rx_tree;

/* Parses p[0..n) (Go's syntax.Perl flags) into *out. On a bad pattern -1
 * with Go's message in err[errlen]. */
int kd_rx_parse(kd_rx_tree *out, kd_arena *a, const char *p, size_t n,
		char *err, size_t errlen);

/* Program instructions. */
enum {
	RI_MATCH, RI_RUNE1, RI_CLASS, RI_ANY, RI_ANYNL, RI_CAP, RI_EMPTY,
	RI_SPLIT, RI_NOP, RI_FAIL,
};
/* RI_EMPTY conditions */
enum {
	RE_BOL = 1, RE_EOL = 2, RE_BOT = 4, RE_EOT = 8, RE_WORDB = 16, RE_NWORDB = 32,
};

typedef struct kd_rx_inst {
	uint8_t op;
	uint32_t out, out1; /* RI_SPLIT: out first (the preferred branch) */
	uint32_t arg;       /* rune, capture slot, condition, class index */
} kd_rx_inst;

typedef struct kd_rx_cls {
	const uint32_t *r;
	size_t n;
	uint32_t ascii[4]; /* the class below 128, a bit per rune */
} kd_rx_cls;

typedef struct kd_rx_prog {
	kd_rx_inst *inst;
	uint32_t ninst, start, nleaf;
	kd_rx_cls *cls;
	uint32_t ncls;
	bool anchored; /* begins with \A: only a match at 0 can start */
} kd_rx_prog;

/* Compiles the tree (simplifying repeats as Go does) into *out; -1 with
 * "expression too large" past KD_LIMIT_REGEX_INSTS or out of memory. */
int kd_rx_compile(kd_rx_prog *out, kd_arena *a, const kd_rx_node *root,
		  const char **why);

/* The Pike VM's queues, made once per pattern and reused by each search. */
typedef struct kd_rx_vm kd_rx_vm;

kd_rx_vm *kd_rx_vm_new(kd_arena *a, const kd_rx_prog *prog, int ncap);
/* Leftmost-first search from byte from: 1 with cap[0..ncap) set, 0 none. */
int kd_rx_vm_run(kd_rx_vm *vm, const char *s, size_t n, size_t from, size_t *cap);

/* Go's UTF-8 decoding: an invalid or truncated sequence is U+FFFD of one
 * byte; *w gets the width (0 at the end). */
static inline uint32_t kd_rx_decode(const char *s, size_t n, size_t *w)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t k, i;

	if (!n) {
		*w = 0;
		return RX_BADRUNE;
	}
	c = u[0];
	*w = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xC2 && c <= 0xDF)
		k = 1, c &= 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 2, c &= 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 3, c &= 0x07, min = 0x10000;
	else
		return RX_BADRUNE;
	if (n <= k)
		return RX_BADRUNE;
	for (i = 1; i <= k; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return RX_BADRUNE;
		c = c << 6 | (u[i] & 0x3F);
	}
	if (c < min || c > RX_MAXRUNE || (c >= 0xD800 && c <= 0xDFFF))
		return RX_BADRUNE;
	*w = k + 1;
	return c;
}

#endif
