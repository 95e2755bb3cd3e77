/* JSON to and from kd_value, with Go's encoding/json as the reference:
 * what kedge prints must be byte-for-byte what Helm's toJson (json.Marshal)
 * prints, and what it accepts is strict RFC 8259.
 *
 * Decoding
 * - One JSON text, any value at top level, surrounded by optional
 *   whitespace (space, tab, CR, LF only). No comments, trailing commas,
 *   single quotes, NaN/Infinity, byte order mark or other extensions.
 * - Errors are KD_EPARSE with the message "<name>:<line>:<col>: <what>",
 *   line and column 1-based, the column counted in bytes, lines ended by
 *   LF. The position is that of the offending byte: the unexpected
 *   character, the backslash of a bad escape, the first byte of a number
 *   (for leading zeros and out-of-range values) or of a bad literal, and
 *   the end of the input when the text stops early.
 * - Objects become KD_MAP in document order. A duplicate key keeps its
 *   first position and takes the last value (Go keeps the last value).
 * - Numbers: an integer literal (no fraction, no exponent) that fits int64
 *   becomes KD_INT (so "-0" is the integer 0); any other number becomes
 *   KD_FLOAT, correctly rounded. A number beyond the float64 range (1e400)
 *   is an error, as in Go; one that underflows becomes 0 or a subnormal.
 *   With numbers_as_float every number is a KD_FLOAT, like Go's Unmarshal
 *   into interface{} ("-0" is then -0.0, 2^53+1 rounds to even).
 * - Strings: every escape is decoded to UTF-8; \uXXXX pairs give one
 *   character; a surrogate that is not part of a valid pair becomes U+FFFD;
 *   each byte of the input that is not part of valid UTF-8 (overlong forms,
 *   encoded surrogates and values past U+10FFFF included) becomes one
 *   U+FFFD, as Go does. Strings may hold NUL; kd_value carries a length.
 * - Limits: input longer than KD_LIMIT_DOC_BYTES ("<name>: ...") and
 *   nesting deeper than KD_LIMIT_DEPTH ("<name>:<line>:<col>: ...", the
 *   top-level container is depth 1) are KD_ELIMIT naming the limit. An
 *   arena failure is KD_ENOMEM or KD_ELIMIT, per a->failed. Parsing is
 *   iterative: no input can exhaust the C stack.
 * - Numbers are read with strtod: the process must run in the "C" numeric
 *   locale (kedge never calls setlocale).
 *
 * Encoding
 * - null, true, false; ints in decimal.
 * - Floats as Go's float encoder: the shortest digits that read back
 *   exactly, in %f form unless abs != 0 and (abs < 1e-6 or abs >= 1e21),
 *   then in %e form with a one-digit negative exponent unpadded ("1e-7",
 *   "1e+21"). Integral floats print without a point ("1", "-0"). NaN and
 *   infinities are KD_EINVAL ("json: unsupported value: NaN").
 * - Strings: \" \\ \n \r \t \b \f, every other byte below 0x20 as \u00xx
 *   (lowercase hex), U+2028 and U+2029 as \u2028 and \u2029, each byte
 *   that is not part of valid UTF-8 as \ufffd, and with escape_html
 *   < > & as \u003c \u003e \u0026. Everything else is copied. The \b and
 *   \f forms are what Go prints since 1.22 (older Go printed \u0008 and
 *   \u000c).
 * - Maps in insertion order, or with sort_keys bytewise by key as Go sorts
 *   map keys; the caller's map is never reordered. Keys are escaped like
 *   strings.
 * - indent 0 is json.Marshal's compact form (no spaces at all); indent n
 *   is json.MarshalIndent(v, "", n spaces): one member per line, ": "
 *   after keys, "{}" and "[]" for empty containers.
 * - Containers nested deeper than KD_LIMIT_DEPTH (which also stops a
 *   cyclic value) are KD_ELIMIT. The output is bounded by the kd_buf's own
 *   limit: its KD_ELIMIT / KD_ENOMEM is returned with a message.
 * - On any error, out is cut back to the length it had on entry (a failed
 *   kd_buf stays failed until the caller resets it).
 */
#ifndef KD_JSON_JSON_H
#define KD_JSON_JSON_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/value.h"

#include <stddef.h>

typedef struct kd_json_decode_opts {
	/* every number becomes KD_FLOAT, as Go's json.Unmarshal into
	 * interface{} gives float64 */
	unsigned numbers_as_float : 1;
} kd_json_decode_opts;

/* Decodes one JSON text of len bytes (text need not be NUL-terminated)
 * into a value allocated in a. name is used in error messages (a file
 * name; "<input>" if NULL). opts may be NULL for the defaults. On error
 * *out is NULL and err holds the message; the arena may hold partial
 * results, released with it. */
int kd_json_decode(kd_value **out, kd_arena *a, const char *text, size_t len,
		   const char *name, const kd_json_decode_opts *opts,
		   kd_err *err);

typedef struct kd_json_encode_opts {
	/* 0: compact like json.Marshal; n > 0: like
	 * json.MarshalIndent(v, "", n spaces) */
	int indent;
	/* Go's encoding/json sorts map keys bytewise; otherwise insertion
	 * order */
	unsigned sort_keys : 1;
	/* Go's json.Marshal escapes < > & as \u003c \u003e \u0026 */
	unsigned escape_html : 1;
} kd_json_encode_opts;

/* Appends the encoding of v to out. opts may be NULL (compact, insertion
 * order, no HTML escaping). A negative indent is KD_EINVAL. */
int kd_json_encode(kd_buf *out, const kd_value *v,
		   const kd_json_encode_opts *opts, kd_err *err);

#endif
