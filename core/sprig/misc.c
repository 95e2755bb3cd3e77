/* Sprig's functions of no family: fail, hello, and getHostByName, which
 * gives "" (rendering looks nothing up on the network). */
#include "sprig/internal.h"

FN(f_fail)
{
	(void)argc;
	kd_tmpl_fail(x, 0, "%s", argv[0]->u.str.ptr);
}

FN(f_getHostByName) { (void)argc; (void)argv; return kd_tmpl_str(x, "", 0); }

FN(f_hello) { (void)argc; (void)argv; return kd_tmpl_str(x, "Hello!", 6); }

static const kd_tmpl_func misc_funcs[] = {
	{"fail", f_fail, "s", false, false},
	{"hello", f_hello, "", false, false},
	{"getHostByName", f_getHostByName, "s", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_misc(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, misc_funcs);
}
