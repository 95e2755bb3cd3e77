/* Which values of an execution are objects, and of which kind: a lookup
 * of its own, because both the executor (methods, fields) and fmt (a
 * host object prints with its String method) ask it. */
#include "tmpl/internal.h"

int kd_tmpl_obj_kind(kd_tmpl_ex *x, const kd_value *v)
{
	int i;

	if (v && v == x->t->obj)
		return x->t->obj_kind;
	for (i = x->nobjs - 1; i >= 0; i--)
		if (x->objs[i].v == v)
			return x->objs[i].kind;
	return 0;
}
