/* Shared between the files of core/sprig only. */
#ifndef KD_SPRIG_INTERNAL_H
#define KD_SPRIG_INTERNAL_H

#include "sprig/sprig.h"
#include "tmpl/internal.h"

/* Sprig's objects with methods: semver versions, times. */
enum { KD_SPRIG_OBJ_SEMVER = KD_TMPL_OBJ_HOST, KD_SPRIG_OBJ_TIME };

/* Fills p with n bytes from the kernel's CSPRNG: 0, or -1 if it failed. */
int kd_sprig_fill_random(unsigned char *p, size_t n);

void kd_sprig_register_semver(kd_tmpl_funcs *fs);
void kd_sprig_register_time(kd_tmpl_funcs *fs);

#endif
