/* The function table: names to functions in an open-addressing hash,
 * filled once by the host, read at parse time; and the host's hooks. */
#include "tmpl/internal.h"

#include <string.h>

extern const kd_tmpl_func kd_tmpl_builtins[];

static size_t fn_hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

void kd_tmpl_funcs_init(kd_tmpl_funcs *fs)
{
	memset(fs, 0, sizeof *fs);
	kd_tmpl_funcs_add(fs, kd_tmpl_builtins);
}

void kd_tmpl_funcs_add(kd_tmpl_funcs *fs, const kd_tmpl_func *list)
{
	const size_t mask = KD_TMPL_FUNCS_SLOTS - 1;

	for (; list->name; list++) {
		size_t i = fn_hash(list->name) & mask, k;

		for (k = 0; k < KD_TMPL_FUNCS_SLOTS; k++, i = (i + 1) & mask)
			if (!fs->slot[i] || !strcmp(fs->slot[i]->name, list->name))
				break;
		if (k == KD_TMPL_FUNCS_SLOTS || (!fs->slot[i] &&
		    fs->n + 1 > KD_TMPL_FUNCS_SLOTS / 2)) {
			fs->full = true;
			continue;
		}
		if (!fs->slot[i])
			fs->n++;
		fs->slot[i] = list;
	}
}

#define ADD_HOOK(arr, n, fn) do { \
	if ((n) < KD_TMPL_HOOKS) \
		(arr)[(n)++] = (fn); \
	else \
		fs->full = true; \
} while (0)

void kd_tmpl_funcs_add_methods(kd_tmpl_funcs *fs, kd_tmpl_method_fn fn)
{
	ADD_HOOK(fs->methods, fs->nmethods, fn);
}

void kd_tmpl_funcs_add_printer(kd_tmpl_funcs *fs, kd_tmpl_print_fn fn)
{
	ADD_HOOK(fs->printers, fs->nprinters, fn);
}

void kd_tmpl_funcs_add_prepare(kd_tmpl_funcs *fs, kd_tmpl_prepare_fn fn)
{
	ADD_HOOK(fs->prepares, fs->nprepares, fn);
}

int kd_tmpl_funcs_check(const kd_tmpl_funcs *fs, kd_err *err)
{
	if (fs->full)
		return kd_err_set(err, KD_ELIMIT,
				  "template: function table full (%d slots, %d hooks)",
				  KD_TMPL_FUNCS_SLOTS, KD_TMPL_HOOKS);
	return 0;
}

const kd_tmpl_func *kd_tmpl_funcs_find(const kd_tmpl_funcs *fs,
				       const char *name)
{
	const size_t mask = KD_TMPL_FUNCS_SLOTS - 1;
	size_t i = fn_hash(name) & mask, k;

	for (k = 0; k < KD_TMPL_FUNCS_SLOTS && fs->slot[i]; k++, i = (i + 1) & mask)
		if (!strcmp(fs->slot[i]->name, name))
			return fs->slot[i];
	return NULL;
}
