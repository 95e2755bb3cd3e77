/* The one list of Sprig's families: each file registers its own functions
 * into the engine's table, which is a hash built once per render set, so
 * how the functions are spread over files costs nothing at lookup. The
 * families call nothing here, as Lua's libraries know nothing of linit.c. */
#include "sprig/internal.h"

static void (*const families[])(kd_tmpl_funcs *fs) = {
	kd_sprig_register_defaults, kd_sprig_register_encoding,
	kd_sprig_register_strings,  kd_sprig_register_lists,
	kd_sprig_register_dicts,    kd_sprig_register_conv,
	kd_sprig_register_math,     kd_sprig_register_types,
	kd_sprig_register_paths,    kd_sprig_register_digest,
	kd_sprig_register_rand,     kd_sprig_register_url,
	kd_sprig_register_misc,     kd_sprig_register_regex,
	kd_sprig_register_crypto,   kd_sprig_register_semver,
	kd_sprig_register_time,
};

void kd_sprig_register_all(kd_tmpl_funcs *fs)
{
	size_t i;

	for (i = 0; i < sizeof families / sizeof *families; i++)
		families[i](fs);
}
