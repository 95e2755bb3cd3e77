/* Shared between the files of core/yaml only: go-yaml v2's scalar
 * resolution (scalar.c), used by both the decoder (parse.c) and the
 * encoder (emit.c), which asks how a string would read back. */
#ifndef KD_YAML_INTERNAL_H
#define KD_YAML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAG_PREFIX "tag:yaml.org,2002:"
#define TAG_BINARY TAG_PREFIX "binary"

enum rtype {
	R_NULL,
	R_BOOL,
	R_INT,
	R_UINT, /* above INT64_MAX: v2 gives a uint64 */
	R_FLOAT,
	R_TIMESTAMP,
	R_STR,
};

typedef struct scalar_res {
	enum rtype t;
	bool b;
	int64_t i;
	uint64_t u;
	double f;
} scalar_res;

/* The tag name of each type ("int" for R_UINT too), for messages. */
extern const char *const kd_yaml_rtype_tag[];

/* go-yaml v2's resolve() for an untagged plain scalar (want_ts) or one
 * tagged with a resolvable tag other than !!str (want_ts only for
 * !!timestamp, as in v2). False only when out of memory. */
bool kd_yaml_resolve(const char *s, size_t n, bool want_ts, scalar_res *r);

/* go-yaml v2's isBase60Float: such strings are quoted on output. */
bool kd_yaml_base60_float(const char *s, size_t n);

/* Go's utf8.ValidString: other strings are written as !!binary. */
bool kd_yaml_utf8_valid(const char *str, size_t n);

/* base64.StdEncoding.DecodeString for !!binary: padding required, "\r"
 * and "\n" skipped. Decodes into out (which may be s); the length or -1. */
long kd_yaml_b64_decode(const char *s, size_t n, char *out);

#endif
