/* A template set: its life, its objects and its definitions by name
 * (the index every include looks names up in, and the marks tpl drops
 * its definitions to). Parsing is parse.c's. */
#include "tmpl/internal.h"

#include "base/limits.h"

#include <stdlib.h>
#include <string.h>

int kd_tmpl_new(kd_tmpl **out, const kd_tmpl_funcs *fs, kd_err *err)
{
	static kd_tmpl_funcs builtins;
	kd_tmpl *t;

	if (!fs) {
		if (!builtins.n)
			kd_tmpl_funcs_init(&builtins);
		fs = &builtins;
	}
	t = calloc(1, sizeof *t);
	if (!t)
		return kd_err_set(err, KD_ENOMEM, "template: out of memory");
	kd_arena_init(&t->arena, KD_LIMIT_ARENA_BYTES);
	t->funcs = fs;
	*out = t;
	return 0;
}

void kd_tmpl_free(kd_tmpl *t)
{
	if (!t)
		return;
	kd_arena_free(&t->arena);
	free(t);
}

void kd_tmpl_set_object(kd_tmpl *t, const kd_value *v, int kind)
{
	t->obj = v;
	t->obj_kind = kind;
}

void kd_tmpl_set_host(kd_tmpl *t, void *host)
{
	t->host = host;
}

static size_t name_hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

kd_tmpl_def *kd_tmpl_lookup(kd_tmpl *t, const char *name)
{
	kd_tmpl_def *d;

	if (!t->hcap)
		return NULL;
	for (d = t->hash[name_hash(name) & (t->hcap - 1)]; d; d = d->hnext)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

int kd_tmpl_insert_def(kd_tmpl *t, kd_tmpl_def *d)
{
	kd_tmpl_def **slot;

	if (t->ndefs + 1 > t->hcap / 2) {
		size_t cap = t->hcap ? t->hcap * 2 : 64, i;
		kd_tmpl_def **h = kd_arena_zalloc(&t->arena, cap * sizeof *h);

		if (!h)
			return KD_ENOMEM;
		for (i = 0; i < t->hcap; i++) {
			kd_tmpl_def *x = t->hash[i], *nx;

			for (; x; x = nx) {
				nx = x->hnext;
				slot = &h[name_hash(x->name) & (cap - 1)];
				x->hnext = *slot;
				*slot = x;
			}
		}
		t->hash = h;
		t->hcap = cap;
	}
	slot = &t->hash[name_hash(d->name) & (t->hcap - 1)];
	d->hnext = *slot;
	*slot = d;
	d->next = t->defs;
	t->defs = d;
	t->ndefs++;
	return 0;
}

kd_tmpl_mark kd_tmpl_mark_defs(const kd_tmpl *t)
{
	kd_tmpl_mark m = {t->defs, t->undo};

	return m;
}

void kd_tmpl_drop_defs(kd_tmpl *t, kd_tmpl_mark m)
{
	kd_tmpl_def *head = m.defs;

	while (t->undo && t->undo != m.undo) {
		kd_tmpl_undo *u = t->undo;

		u->d->root = u->was.root;
		u->d->file = u->was.file;
		u->d->text = u->was.text;
		u->d->len = u->was.len;
		u->d->lazy = u->was.lazy;
		t->undo = u->next;
	}
	while (t->defs && t->defs != head) {
		kd_tmpl_def *d = t->defs, **slot;

		for (slot = &t->hash[name_hash(d->name) & (t->hcap - 1)]; *slot;
		     slot = &(*slot)->hnext)
			if (*slot == d) {
				*slot = d->hnext;
				break;
			}
		t->defs = d->next;
		t->ndefs--;
	}
}
