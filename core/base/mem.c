#include "base/mem.h"

/* Signed: a block allocated on one thread and freed on another leaves
 * one count high and the other low, never wrapped. */
static _Thread_local long long held;
static _Thread_local kd_mem_bound *bounds;

void kd_mem_bound_begin(kd_mem_bound *b, size_t limit)
{
	b->base = held;
	b->limit = limit;
	b->peak = 0;
	b->hit = 0;
	b->prev = bounds;
	bounds = b;
}

void kd_mem_bound_end(kd_mem_bound *b)
{
	bounds = b->prev;
}

kd_mem_bound *kd_mem_bound_current(void)
{
	return bounds;
}

static kd_mem_bound *passed(size_t n)
{
	kd_mem_bound *b;

	for (b = bounds; b; b = b->prev) {
		long long room = (long long)b->limit - (held - b->base);

		if (room < 0 || (unsigned long long)room < n)
			return b;
	}
	return NULL;
}

int kd_mem_fits(size_t n)
{
	return !passed(n);
}

int kd_mem_charge(size_t n)
{
	kd_mem_bound *b = passed(n);

	if (b) {
		b->hit = 1;
		return -1;
	}
	held += (long long)n;
	for (b = bounds; b; b = b->prev)
		if (held - b->base > (long long)b->peak)
			b->peak = (size_t)(held - b->base);
	return 0;
}

void kd_mem_release(size_t n)
{
	held -= (long long)n;
}
