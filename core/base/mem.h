/* kd_mem: what the arenas and buffers of a thread hold on the heap, and
 * bounds over it. Every arena chunk and every kd_buf allocation is counted
 * where it is made and freed, so one job (a chart render) can be bounded
 * over all the arenas and buffers it makes, however many and wherever
 * they are, without passing a budget through every call.
 *
 * A bound counts from where it begins: memory held before it is not
 * charged to it, memory freed during it makes room. Bounds nest; a charge
 * must fit every active one. The count is per thread (arenas are never
 * shared between threads). A refused charge is an allocation failure
 * (arenas and buffers report KD_ENOMEM) and marks the bound hit, so the
 * job's top can name the bound instead of "out of memory". Memory handed
 * out by kd_buf_detach leaves the count: whoever frees it is not seen. */
#ifndef KD_BASE_MEM_H
#define KD_BASE_MEM_H

#include <stddef.h>

typedef struct kd_mem_bound {
	long long base; /* the thread's count when the bound began */
	size_t limit;   /* bytes it may grow by */
	size_t peak;    /* most bytes it held at once */
	int hit;        /* a charge was refused */
	struct kd_mem_bound *prev;
} kd_mem_bound;

void kd_mem_bound_begin(kd_mem_bound *b, size_t limit);
/* Ends b, the innermost bound (bounds end in the reverse order). */
void kd_mem_bound_end(kd_mem_bound *b);
/* The innermost active bound, NULL when none. */
kd_mem_bound *kd_mem_bound_current(void);

/* Counts n more bytes: 0, or -1 (nothing counted) when an active bound
 * would be passed. */
int kd_mem_charge(size_t n);
void kd_mem_release(size_t n);
/* Whether n more bytes would fit every active bound (nothing counted,
 * no bound marked). */
int kd_mem_fits(size_t n);

#endif
