/* The compiler: a syntax tree into a Pike VM program, fragment by
 * fragment with lists of exits to patch, as Thompson built them. Counted
 * repeats are spelled out the way Go simplifies them (x{2,4} is
 * xx(x(x)?)?), and a star over something that can match empty is (x+)?,
 * Go's fix for the priority of empty iterations. */
#include "regex/internal.h"

#include "base/limits.h"

#include <string.h>

/* A fragment: its entry and the list of exits still to patch, each exit
 * an (instruction << 1 | branch) chained through the fields it names;
 * 0 ends the list (instruction 0 is the program's FAIL). */
typedef struct frag {
	uint32_t i, head, tail;
	bool nullable;
} frag;

typedef struct C {
	kd_arena *a;
	kd_rx_prog *p;
	uint32_t cinst, ccls;
	const char *why;
} C;

static uint32_t emit(C *c, int op)
{
	kd_rx_prog *p = c->p;

	if (c->why)
		return 0;
	if (p->ninst >= KD_LIMIT_REGEX_INSTS) {
		c->why = "expression too large";
		return 0;
	}
	if (p->ninst == c->cinst) {
		uint32_t nc = c->cinst ? c->cinst * 2 : 16;
		kd_rx_inst *v = kd_arena_grow(c->a, p->inst, c->cinst * sizeof *v, nc * sizeof *v);

		if (!v) {
			c->why = "out of memory";
			return 0;
		}
		p->inst = v;
		c->cinst = nc;
	}
	memset(&p->inst[p->ninst], 0, sizeof *p->inst);
	p->inst[p->ninst].op = (uint8_t)op;
	if (op == RI_MATCH || op == RI_RUNE1 || op == RI_CLASS || op == RI_ANY || op == RI_ANYNL)
		p->nleaf++;
	return p->ninst++;
}

static uint32_t *exit_field(C *c, uint32_t l)
{
	kd_rx_inst *in = &c->p->inst[l >> 1];

	return (l & 1) ? &in->out1 : &in->out;
}

static void patch(C *c, uint32_t l, uint32_t to)
{
	while (l) {
		uint32_t *f = exit_field(c, l);

		l = *f;
		*f = to;
	}
}

static void append(C *c, frag *f, uint32_t head, uint32_t tail)
{
	if (!head)
		return;
	if (!f->head)
		f->head = head;
	else
		*exit_field(c, f->tail) = head;
	f->tail = tail;
}

/* an instruction whose one exit is its out */
static frag one(C *c, int op, uint32_t arg, bool nullable)
{
	uint32_t i = emit(c, op);
	frag f = {i, i << 1, i << 1, nullable};

	if (i)
		c->p->inst[i].arg = arg;
	return f;
}

static frag cat(C *c, frag a, frag b)
{
	frag f = {a.i, b.head, b.tail, a.nullable && b.nullable};

	if (c->why)
		return f;
	patch(c, a.head, b.i);
	return f;
}

static frag alt(C *c, frag a, frag b)
{
	uint32_t i = emit(c, RI_SPLIT);
	frag f = {i, 0, 0, a.nullable || b.nullable};

	if (!i)
		return f;
	c->p->inst[i].out = a.i;
	c->p->inst[i].out1 = b.i;
	append(c, &f, a.head, a.tail);
	append(c, &f, b.head, b.tail);
	return f;
}

static frag quest(C *c, frag a, bool lazy)
{
	uint32_t i = emit(c, RI_SPLIT);
	frag f = {i, 0, 0, true};

	if (!i)
		return f;
	if (lazy) {
		c->p->inst[i].out1 = a.i;
		f.head = f.tail = i << 1;
	} else {
		c->p->inst[i].out = a.i;
		f.head = f.tail = i << 1 | 1;
	}
	append(c, &f, a.head, a.tail);
	return f;
}

/* a split that loops back into a: the exit is the split's other branch */
static frag loop(C *c, frag a, bool lazy)
{
	frag f = quest(c, (frag){a.i, 0, 0, a.nullable}, lazy);

	if (c->why)
		return f;
	patch(c, a.head, f.i);
	return f;
}

static frag plus(C *c, frag a, bool lazy)
{
	frag l = loop(c, a, lazy);

	return (frag){a.i, l.head, l.tail, a.nullable};
}

static frag star(C *c, frag a, bool lazy)
{
	if (a.nullable)
		return quest(c, plus(c, a, lazy), lazy);
	return loop(c, a, lazy);
}

static frag class(C *c, const kd_rx_class *k)
{
	kd_rx_prog *p = c->p;
	kd_rx_cls *cl;

	if (k->n == 1 && k->r[0] == k->r[1])
		return one(c, RI_RUNE1, k->r[0], false);
	if (p->ncls == c->ccls) {
		uint32_t nc = c->ccls ? c->ccls * 2 : 8;
		kd_rx_cls *v = kd_arena_grow(c->a, p->cls, c->ccls * sizeof *v, nc * sizeof *v);

		if (!v) {
			c->why = "out of memory";
			return (frag){0, 0, 0, false};
		}
		p->cls = v;
		c->ccls = nc;
	}
	cl = &p->cls[p->ncls];
	memset(cl, 0, sizeof *cl);
	cl->r = k->r;
	cl->n = k->n;
	for (size_t j = 0; j < k->n && k->r[2 * j] < 128; j++)
		for (uint32_t ch = k->r[2 * j]; ch <= k->r[2 * j + 1] && ch < 128; ch++)
			cl->ascii[ch >> 5] |= 1u << (ch & 31);
	return one(c, RI_CLASS, p->ncls++, false);
}

static frag compile(C *c, const kd_rx_node *x);

/* x{min,max} as Go's Simplify spells it out */
static frag repeat(C *c, const kd_rx_node *x)
{
	const kd_rx_node *s = x->sub[0];
	frag f = {0, 0, 0, true}, suf;
	bool have = false;
	int k;

	if (x->max == 0)
		return one(c, RI_NOP, 0, true);
	if (x->max == -1) {
		if (x->min == 0)
			return star(c, compile(c, s), x->lazy);
		for (k = 0; k < x->min - 1; k++) {
			frag g = compile(c, s);

			f = have ? cat(c, f, g) : g;
			have = true;
		}
		suf = plus(c, compile(c, s), x->lazy);
		return have ? cat(c, f, suf) : suf;
	}
	if (x->min == 1 && x->max == 1)
		return compile(c, s);
	for (k = 0; k < x->min; k++) {
		frag g = compile(c, s);

		f = have ? cat(c, f, g) : g;
		have = true;
	}
	if (x->max > x->min) {
		suf = quest(c, compile(c, s), x->lazy);
		for (k = x->min + 1; k < x->max; k++)
			suf = quest(c, cat(c, compile(c, s), suf), x->lazy);
		f = have ? cat(c, f, suf) : suf;
	}
	return f;
}

static frag compile(C *c, const kd_rx_node *x)
{
	static const uint8_t cond[] = {
		[RX_BOL] = RE_BOL, [RX_EOL] = RE_EOL, [RX_BOT] = RE_BOT,
		[RX_EOT] = RE_EOT, [RX_WORDB] = RE_WORDB, [RX_NWORDB] = RE_NWORDB,
	};
	frag f, g;

	if (c->why)
		return (frag){0, 0, 0, false};
	switch (x->op) {
	case RX_EMPTY: return one(c, RI_NOP, 0, true);
	case RX_RUNE: return one(c, RI_RUNE1, x->rune, false);
	case RX_CLASS: return class(c, &x->cls);
	case RX_ANY: return one(c, RI_ANY, 0, false);
	case RX_ANYNL: return one(c, RI_ANYNL, 0, false);
	case RX_BOL: case RX_EOL: case RX_BOT: case RX_EOT: case RX_WORDB: case RX_NWORDB:
		return one(c, RI_EMPTY, cond[x->op], true);
	case RX_CAP:
		f = one(c, RI_CAP, 2 * (uint32_t)x->cap, false);
		g = compile(c, x->sub[0]);
		f = cat(c, f, g);
		f = cat(c, f, one(c, RI_CAP, 2 * (uint32_t)x->cap + 1, false));
		f.nullable = g.nullable;
		return f;
	case RX_CAT:
	case RX_ALT:
		f = compile(c, x->sub[0]);
		for (int k = 1; k < x->nsub; k++) {
			g = compile(c, x->sub[k]);
			f = x->op == RX_CAT ? cat(c, f, g) : alt(c, f, g);
		}
		return f;
	case RX_STAR: return star(c, compile(c, x->sub[0]), x->lazy);
	case RX_PLUS: return plus(c, compile(c, x->sub[0]), x->lazy);
	case RX_QUEST: return quest(c, compile(c, x->sub[0]), x->lazy);
	case RX_REPEAT: return repeat(c, x);
	}
	return one(c, RI_FAIL, 0, false);
}

static bool begins_at_text_start(const kd_rx_node *x)
{
	while (x->op == RX_CAT || x->op == RX_CAP)
		x = x->sub[0];
	return x->op == RX_BOT;
}

int kd_rx_compile(kd_rx_prog *out, kd_arena *a, const kd_rx_node *root,
		  const char **why)
{
	C c = {.a = a, .p = out};
	frag f;
	uint32_t m;

	memset(out, 0, sizeof *out);
	emit(&c, RI_FAIL);
	f = compile(&c, root);
	m = emit(&c, RI_MATCH);
	if (c.why) {
		*why = c.why;
		return -1;
	}
	patch(&c, f.head, m);
	out->start = f.i;
	out->anchored = begins_at_text_start(root);
	return 0;
}
