/* kd_sprig: Sprig v3.2.3's template functions (the ones Helm charts use)
 * and Helm's own that are not about charts (toYaml, fromJson, fail ...),
 * for core/tmpl's function table. One file per family, each registering
 * itself; core/chart adds .Files, include, tpl, required and lookup. */
#ifndef KD_SPRIG_SPRIG_H
#define KD_SPRIG_SPRIG_H

#include "tmpl/tmpl.h"

/* Adds every family's functions and object methods to fs. */
void kd_sprig_register_all(kd_tmpl_funcs *fs);

/* toYaml's text for v (no trailing newline); "" on failure. */
struct kd_tmpl_ex;
kd_value *kd_sprig_to_yaml(struct kd_tmpl_ex *x, const kd_value *v);
/* b64enc of a string value. */
kd_value *kd_sprig_b64enc(struct kd_tmpl_ex *x, kd_value *s);

#endif
