/* Shared between the files of core/sprig only: the helpers of util.c,
 * which every family file may call and which call no family, and the
 * registration function of each family, which only sprig.c calls. */
#ifndef KD_SPRIG_INTERNAL_H
#define KD_SPRIG_INTERNAL_H

#include "sprig/sprig.h"
#include "tmpl/internal.h"

/* A template function: static, reached through its family's table. */
#define FN(name) static kd_value *name(kd_tmpl_ex *x, kd_value **argv, int argc)

/* Sprig's objects with methods: semver versions, times. */
enum { KD_SPRIG_OBJ_SEMVER = KD_TMPL_OBJ_HOST, KD_SPRIG_OBJ_TIME };
/* v's Sprig object kind, 0 for none: the execution's record, asked only
 * of maps with the object's own key */
int kd_sprig_obj_kind(kd_tmpl_ex *x, const kd_value *v);
/* What Go's encoding/json writes for them (their MarshalJSON): a
 * version's String, a time in RFC 3339 with nanoseconds. */
void kd_sprig_semver_string(kd_buf *b, const kd_value *v);
void kd_sprig_time_json(kd_buf *b, const kd_value *t);

/* ---- util.c ---- */

/* Appends v to list l, or sets key k (n bytes) of map m to v; a NULL v
 * is stored as nil. Out of memory fails the execution. */
void kd_sprig_push(kd_tmpl_ex *x, kd_value *l, kd_value *v);
void kd_sprig_set(kd_tmpl_ex *x, kd_value *m, const char *k, size_t n,
		  kd_value *v);
/* Go's nil: no value, or a null one. */
bool kd_sprig_isnil(const kd_value *v);
/* Go's empty value (false, 0, "", an empty list or map, nil), as
 * Sprig's default and empty test it. */
bool kd_sprig_empty(const kd_value *v);
/* cast.ToString: appends v's text to b, or returns it as a value (a
 * string is returned as it is). */
void kd_sprig_strval(kd_tmpl_ex *x, kd_buf *b, const kd_value *v);
kd_value *kd_sprig_str(kd_tmpl_ex *x, const kd_value *v);
/* strtoll base 0 over all of s; *ok false (and 0) when s is not one. */
int64_t kd_sprig_parse_int(const char *s, bool *ok);
/* cast.ToInt64 and cast.ToFloat64: 0 for what does not convert. */
int64_t kd_sprig_int64(const kd_value *v);
double kd_sprig_float64(const kd_value *v);
/* A list as a list of strings, nils dropped (Sprig's strslice); a value
 * that is not a list becomes a list of its one string. */
kd_value *kd_sprig_strslice(kd_tmpl_ex *x, kd_value *v);
/* Fills p with n bytes from the kernel's CSPRNG: 0, or -1 if it failed. */
int kd_sprig_fill_random(unsigned char *p, size_t n);

/* ---- rsakey.c ---- */

struct mbedtls_rsa_context;
/* mbedtls_rsa_gen_key(rsa, f_rng, p_rng, nbits, 65537) with a sieved
 * prime search (nbits a multiple of 16, 256 to 8192): an mbedTLS code. */
int kd_sprig_rsa_gen(struct mbedtls_rsa_context *rsa, unsigned nbits,
		     int (*f_rng)(void *, unsigned char *, size_t), void *p_rng);

/* ---- one registration function a family, called by sprig.c ---- */

void kd_sprig_register_conv(kd_tmpl_funcs *fs);
void kd_sprig_register_crypto(kd_tmpl_funcs *fs);
void kd_sprig_register_defaults(kd_tmpl_funcs *fs);
void kd_sprig_register_dicts(kd_tmpl_funcs *fs);
void kd_sprig_register_digest(kd_tmpl_funcs *fs);
void kd_sprig_register_encoding(kd_tmpl_funcs *fs);
void kd_sprig_register_lists(kd_tmpl_funcs *fs);
void kd_sprig_register_math(kd_tmpl_funcs *fs);
void kd_sprig_register_misc(kd_tmpl_funcs *fs);
void kd_sprig_register_paths(kd_tmpl_funcs *fs);
void kd_sprig_register_rand(kd_tmpl_funcs *fs);
void kd_sprig_register_regex(kd_tmpl_funcs *fs);
void kd_sprig_register_semver(kd_tmpl_funcs *fs);
void kd_sprig_register_strings(kd_tmpl_funcs *fs);
void kd_sprig_register_time(kd_tmpl_funcs *fs);
void kd_sprig_register_types(kd_tmpl_funcs *fs);
void kd_sprig_register_url(kd_tmpl_funcs *fs);

#endif
