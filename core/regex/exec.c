/* The Pike VM: all threads of the program advance together one rune at a
 * time, at most one thread per instruction, kept in priority order, so a
 * search costs O(input × program) whatever the pattern, and the first
 * thread to match wins as in Go (leftmost-first). Epsilon moves follow an
 * explicit stack, not the C stack: a program may be millions of
 * instructions long. */
#include "regex/internal.h"

#include <string.h>

#define NOPOS ((size_t)-1)
#define END_OF_TEXT 0xFFFFFFFFu

typedef struct queue {
	uint32_t *sparse, *dense, n; /* the instructions visited */
	uint32_t *tpc, nt;           /* the threads, highest priority first */
	size_t *tcap;                /* ncap slots per thread */
} queue;

typedef struct job {
	uint32_t pc;
	int32_t slot; /* >= 0: restore work[slot] to val */
	size_t val;
} job;

struct kd_rx_vm {
	const kd_rx_prog *p;
	int ncap;
	queue q[2];
	job *stack;
	size_t *work, *matchcap;
	bool matched;
};

static int queue_init(kd_arena *a, queue *q, const kd_rx_prog *p, int ncap)
{
	q->sparse = kd_arena_zalloc(a, p->ninst * sizeof *q->sparse);
	q->dense = kd_arena_alloc(a, p->ninst * sizeof *q->dense);
	q->tpc = kd_arena_alloc(a, (p->nleaf + 1) * sizeof *q->tpc);
	q->tcap = kd_arena_alloc(a, ((size_t)p->nleaf + 1) * (size_t)(ncap + 1) * sizeof *q->tcap);
	return q->sparse && q->dense && q->tpc && q->tcap ? 0 : -1;
}

kd_rx_vm *kd_rx_vm_new(kd_arena *a, const kd_rx_prog *prog, int ncap)
{
	kd_rx_vm *vm = kd_arena_zalloc(a, sizeof *vm);

	if (!vm)
		return NULL;
	vm->p = prog;
	vm->ncap = ncap;
	vm->stack = kd_arena_alloc(a, (2 * (size_t)prog->ninst + 2) * sizeof *vm->stack);
	vm->work = kd_arena_alloc(a, (size_t)(ncap + 1) * sizeof *vm->work);
	vm->matchcap = kd_arena_alloc(a, (size_t)(ncap + 1) * sizeof *vm->matchcap);
	if (!vm->stack || !vm->work || !vm->matchcap || queue_init(a, &vm->q[0], prog, ncap) ||
	    queue_init(a, &vm->q[1], prog, ncap))
		return NULL;
	return vm;
}

static bool is_word(const char *s, size_t n, size_t i)
{
	unsigned char c;

	if (i >= n)
		return false;
	c = (unsigned char)s[i];
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_';
}

/* the empty-width conditions that hold at byte pos; \b looks at ASCII
 * only, as Go's, so the bytes either side suffice */
static uint32_t context(const char *s, size_t n, size_t pos)
{
	uint32_t f = 0;

	if (pos == 0)
		f |= RE_BOT | RE_BOL;
	else if (s[pos - 1] == '\n')
		f |= RE_BOL;
	if (pos == n)
		f |= RE_EOT | RE_EOL;
	else if (s[pos] == '\n')
		f |= RE_EOL;
	if ((pos > 0 && is_word(s, n, pos - 1)) != is_word(s, n, pos))
		f |= RE_WORDB;
	else
		f |= RE_NWORDB;
	return f;
}

/* adds pc and what it reaches without a rune to q, with the captures in
 * vm->work (restored on return) */
static void add(kd_rx_vm *vm, queue *q, uint32_t pc, size_t pos, uint32_t cond)
{
	const kd_rx_prog *p = vm->p;
	job *st = vm->stack;
	size_t sp = 0;

	st[sp++] = (job){pc, -1, 0};
	while (sp) {
		job j = st[--sp];
		const kd_rx_inst *in;
		uint32_t t;

		if (j.slot >= 0) {
			vm->work[j.slot] = j.val;
			continue;
		}
		if (q->sparse[j.pc] < q->n && q->dense[q->sparse[j.pc]] == j.pc)
			continue;
		q->sparse[j.pc] = q->n;
		q->dense[q->n++] = j.pc;
		in = &p->inst[j.pc];
		switch (in->op) {
		case RI_FAIL:
			break;
		case RI_NOP:
			st[sp++] = (job){in->out, -1, 0};
			break;
		case RI_SPLIT:
			st[sp++] = (job){in->out1, -1, 0};
			st[sp++] = (job){in->out, -1, 0};
			break;
		case RI_EMPTY:
			if ((in->arg & cond) == in->arg)
				st[sp++] = (job){in->out, -1, 0};
			break;
		case RI_CAP:
			if ((int)in->arg < vm->ncap) {
				st[sp++] = (job){0, (int32_t)in->arg, vm->work[in->arg]};
				vm->work[in->arg] = pos;
			}
			st[sp++] = (job){in->out, -1, 0};
			break;
		default:
			t = q->nt++;
			q->tpc[t] = j.pc;
			if (vm->ncap)
				memcpy(q->tcap + (size_t)t * vm->ncap, vm->work,
				       (size_t)vm->ncap * sizeof *vm->work);
		}
	}
}

static bool rune_ok(const kd_rx_prog *p, const kd_rx_inst *in, uint32_t c)
{
	const kd_rx_cls *k;

	switch (in->op) {
	case RI_RUNE1: return c == in->arg;
	case RI_ANY: return c != END_OF_TEXT;
	case RI_ANYNL: return c != END_OF_TEXT && c != '\n';
	case RI_CLASS:
		k = &p->cls[in->arg];
		if (c < 128)
			return k->ascii[c >> 5] & (1u << (c & 31));
		return c != END_OF_TEXT && kd_rx_in(k->r, k->n, c);
	}
	return false;
}

/* moves each thread of run over rune c (at pos, the next one at npos)
 * into next; a match ends the threads of lower priority */
static void step(kd_rx_vm *vm, queue *run, queue *next, size_t pos, size_t npos,
		 uint32_t c, uint32_t ncond)
{
	const kd_rx_prog *p = vm->p;

	for (uint32_t t = 0; t < run->nt; t++) {
		const kd_rx_inst *in = &p->inst[run->tpc[t]];
		size_t *cap = run->tcap + (size_t)t * vm->ncap;

		if (in->op == RI_MATCH) {
			if (vm->ncap) {
				memcpy(vm->matchcap, cap, (size_t)vm->ncap * sizeof *cap);
				vm->matchcap[1] = pos;
			}
			vm->matched = true;
			break;
		}
		if (!rune_ok(p, in, c))
			continue;
		if (vm->ncap)
			memcpy(vm->work, cap, (size_t)vm->ncap * sizeof *cap);
		add(vm, next, in->out, npos, ncond);
	}
	run->n = run->nt = 0;
}

int kd_rx_vm_run(kd_rx_vm *vm, const char *s, size_t n, size_t from, size_t *cap)
{
	queue *run = &vm->q[0], *next = &vm->q[1], *tq;
	size_t pos = from, w;
	uint32_t c = pos < n ? kd_rx_decode(s + pos, n - pos, &w) : (w = 0, END_OF_TEXT);
	uint32_t cond = context(s, n, pos);

	vm->matched = false;
	run->n = run->nt = next->n = next->nt = 0;
	for (;;) {
		uint32_t ncond;

		if (run->nt == 0 && (vm->matched || (vm->p->anchored && pos != 0)))
			break;
		if (!vm->matched && (pos == 0 || !vm->p->anchored)) {
			for (int k = 0; k < vm->ncap; k++)
				vm->work[k] = NOPOS;
			if (vm->ncap)
				vm->work[0] = pos;
			add(vm, run, vm->p->start, pos, cond);
		}
		ncond = context(s, n, pos + w);
		step(vm, run, next, pos, pos + w, c, ncond);
		if (w == 0 || (vm->ncap == 0 && vm->matched))
			break;
		pos += w;
		c = pos < n ? kd_rx_decode(s + pos, n - pos, &w) : (w = 0, END_OF_TEXT);
		cond = ncond;
		tq = run;
		run = next;
		next = tq;
	}
	if (vm->matched && vm->ncap)
		memcpy(cap, vm->matchcap, (size_t)vm->ncap * sizeof *cap);
	return vm->matched;
}
