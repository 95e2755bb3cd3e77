/* YAML in and out of kd_value, with the semantics Helm gets from go-yaml v2.
 *
 * Helm reads values files with sigs.k8s.io/yaml: go-yaml v2 (v2.4.0, YAML
 * 1.1) decodes into interface{}, non-string map keys are turned into
 * strings, the result is marshalled to JSON and unmarshalled again, so every
 * number ends up a float64. Its toYaml goes the other way (JSON, go-yaml v2
 * decode, go-yaml v2 Marshal). Charts depend on the details -- `on`, `y` and
 * `NO` are booleans, `010` is 8, `1:20` must be quoted on output -- so this
 * module reproduces them instead of following YAML 1.2. libyaml 0.2.5 does
 * the scanning and the emitting; go-yaml v2's parser and emitter are ports
 * of it, so the syntax accepted and the bytes written match.
 *
 * DECODING
 *
 * Plain (unquoted, untagged) scalars resolve as go-yaml v2's resolve():
 *
 *   text                                  kd_value
 *   ------------------------------------  ---------------------------------
 *   (empty)  ~  null  Null  NULL          KD_NULL
 *   y Y yes Yes YES true True TRUE        KD_BOOL true
 *     on On ON
 *   n N no No NO false False FALSE        KD_BOOL false
 *     off Off OFF
 *   .inf .Inf .INF  +.inf +.Inf +.INF     KD_FLOAT +Inf
 *   -.inf -.Inf -.INF                     KD_FLOAT -Inf
 *   .nan .NaN .NAN                        KD_FLOAT NaN
 *   starts with a digit or a sign, and    (in this order)
 *   is not one of the above:
 *     a timestamp go-yaml v2 accepts      KD_STR (v2 keeps those strings
 *       (2001-12-14, 2001-12-14t21:59:43Z,   when decoding into interface{})
 *       2001-12-14 21:59:43.10, ...)
 *     with every "_" removed, Go's        KD_INT
 *       strconv.ParseInt(s, 0, 64):
 *       12 -7 +3 0x1F 0o17 0b101 010(=8)
 *       1_000 (=1000) 0_7 (=7)
 *     the same through ParseUint: above   KD_FLOAT (no KD_UINT; v2 keeps a
 *       INT64_MAX, up to 2^64-1              uint64, JSON then makes it a
 *                                            float64 anyway)
 *     ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)  KD_FLOAT, unless it overflows:
 *       ([eE][-+]?[0-9]+)?$ after "_"        1e400 stays a string; so does
 *       removal: 1.5 -2. 1e3 08 1e-3         0x1p3 (no hex floats)
 *       99999999999999999999
 *     0b<x> / -0b<x> where x, read as     KD_INT (v2 quirk: 0b-101 is -5)
 *       a signed base-2 number, fits
 *   starts with "." and Go's ParseFloat   KD_FLOAT (.5, .5e3, .5_5)
 *     accepts it
 *   anything else                         KD_STR (yes, "1:20", "0x", "inf",
 *                                            "+inf", "nan", "tRUE", "<<")
 *
 * Quoted and block (| >) scalars are always strings. numbers_as_float (Helm
 * values mode) then turns every KD_INT into a KD_FLOAT, as the JSON step
 * does; it does not reproduce the JSON step's other effects (Helm fails on
 * .inf/.nan values and turns invalid UTF-8 from !!binary into U+FFFD).
 *
 * Explicit tags (as go-yaml v2 decoding into interface{}):
 *   !!str                   the text as a string, never resolved
 *   !!bool !!int !!float    the text resolved as above (quoted text too:
 *   !!null !!timestamp        !!int "0x10" is 16); KD_EPARSE when it does
 *                             not resolve to that type ("cannot decode !!str
 *                             `abc` as a !!int"), except that an integer
 *                             tagged !!float becomes a float
 *   !!binary                base64 (RFC 4648 with padding, line breaks
 *                             ignored) decoded to the string's bytes;
 *                             KD_EPARSE on bad base64
 *   any other tag on a      the text as a string (v2 does not resolve
 *     scalar (!foo, !, !!map)   scalars under tags it does not know)
 *   any tag on a mapping    ignored: a mapping is a map and a sequence a
 *     or sequence             list whatever the tag says (v2 does the same)
 *
 * Mapping keys become strings the way sigs.k8s.io/yaml (v1.4, what Helm 3
 * uses) converts go-yaml v2's keys: a string as is, an int in decimal (0x10
 * gives "16"), a bool as "true"/"false" (so `y: 1` has the key "true"), a
 * float as Go's FormatFloat(f, 'g', -1, 32) -- 32-bit, so 0.1 gives "0.1"
 * and 3.14159265358979 gives "3.1415927" -- with .inf/-.inf/.nan for the
 * specials, a timestamp as its text, !!binary as its bytes. A null key
 * (`~: x`, `? : x`), an integer above INT64_MAX and a mapping or sequence
 * used as a key are KD_EPARSE, as they are errors for Helm. A duplicate key
 * keeps its first position and takes the last value.
 *
 * Merge keys (`<<: *a`, `<<: {...}`, `<<: [*a, *b]`; a plain `<<`, or one
 * tagged !!merge) are applied where they stand, in document order, as v2
 * does: a key set later in the mapping, explicit or merged, replaces one set
 * earlier (so explicit keys written after the `<<` win, and a merge written
 * after an explicit key replaces it); in a list of maps the earlier maps win
 * over later ones. Anything but a map or a list of maps is KD_EPARSE.
 *
 * Anchors are per document and may be redefined (an alias refers to the
 * latest definition before it). An alias decodes to a deep copy of the
 * anchored value (new lists, maps and scalars; the immutable string bytes
 * are shared), so the two can be changed independently. Every alias use
 * adds the node count of what it copies to a per-stream total; past
 * max_alias_nodes the decode fails with KD_ELIMIT ("billion laughs"). An
 * alias to an unknown anchor, or to an anchor whose node is still open (a
 * value containing itself), is KD_EPARSE.
 *
 * Errors: KD_EPARSE "<name>:<line>:<col>: <problem>" with libyaml's problem
 * and 1-based mark, followed by " (<libyaml context> that started at line L,
 * column C)" when libyaml gives a context. KD_ELIMIT, naming the limit, for
 * input over KD_LIMIT_DOC_BYTES, nesting deeper than KD_LIMIT_DEPTH mappings
 * and sequences, more than KD_LIMIT_YAML_DOCS documents, too many alias
 * nodes. KD_ENOMEM / KD_ELIMIT when the arena fails. On error *out is not
 * set; what was allocated so far stays in the arena until it is freed.
 *
 * ENCODING
 *
 * The bytes go-yaml v2.4.0's Marshal writes for the same data: libyaml's
 * emitter, UTF-8, unicode on, indent 2, width 80, block style, "{}" and "[]"
 * for empty collections, sequences under a key not indented, no "---" and no
 * "..." for one document. Scalars:
 *   null "null"; bools "true"/"false"; ints in decimal; floats as Go's
 *   FormatFloat(f, 'g', -1, 64) with .inf, -.inf, .nan.
 *   strings: not valid UTF-8 -> tagged !!binary, base64 in lines of 70;
 *     containing "\n" -> literal block (|, |-, |+);
 *     reading back as anything but a string under the table above, or
 *       looking like a YAML 1.1 base-60 number (1:20, -3:25:45.5) ->
 *       double-quoted ("true", "1", "1.5", "", "null", "~", "2001-12-14");
 *     otherwise plain. libyaml falls back to single quotes (': x', '- x',
 *     '#c', ' lead') or double quotes (tabs, control characters, characters
 *     outside the BMP) when plain cannot hold the text, and to double quotes
 *     when a block scalar cannot (trailing spaces on a line, keys).
 *   Long plain and quoted strings are folded at spaces after column 80.
 *
 * Helm's toYaml is sigs.k8s.io/yaml.Marshal: JSON first, then go-yaml v2.
 * The JSON step changes the data before this encoder would see it: a float
 * with an integral value prints as an integer (1e6 -> 1000000, not
 * "1e+06"), NaN and Inf make toYaml fail (empty output), invalid UTF-8
 * becomes U+FFFD. A caller emulating toYaml does that conversion first.
 */
#ifndef KD_YAML_YAML_H
#define KD_YAML_YAML_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/value.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct kd_yaml_decode_opts {
	/* Helm values mode: every int and float becomes KD_FLOAT. */
	unsigned numbers_as_float : 1;
	/* Nodes all aliases of the stream may copy in total; 0 means
	 * KD_LIMIT_YAML_ALIAS_NODES. */
	size_t max_alias_nodes;
	/* When not NULL, a successful decode sets *positions to a KD_MAP (in
	 * the result arena) from the path of each node to a KD_LIST
	 * [line, column] (1-based) where it starts, so callers can name the
	 * line of a bad setting. A path joins keys and 0-based list indexes
	 * with "."  ("spec.ports.0.name"); the root is "" (for decode_all,
	 * the document's index "0", "1", ..., which prefixes its paths). A
	 * map entry is found at its key, a list item at its first token.
	 * Entries copied by an alias or a merge key have no path of their
	 * own (the value of a "<<" key is under "<<"); a key that itself
	 * holds a dot makes paths ambiguous, and the last one recorded wins. */
	kd_value **positions;
} kd_yaml_decode_opts;

/* Decodes a stream that holds at most one document into *out (values in a).
 * An empty stream or an empty document gives KD_NULL; a second document is
 * KD_EPARSE naming its line (unlike go-yaml v2's Unmarshal, which ignores
 * everything after the first document). name goes into error messages
 * ("<input>" if NULL). opts may be NULL. */
int kd_yaml_decode(kd_value **out, kd_arena *a, const char *text, size_t len,
		   const char *name, const kd_yaml_decode_opts *opts,
		   kd_err *err);

/* Decodes every document of a stream into a KD_LIST, one item per document
 * (an empty document is KD_NULL; a stream without documents gives an empty
 * list). Anchors do not carry from one document to the next. */
int kd_yaml_decode_all(kd_value **out, kd_arena *a, const char *text,
		       size_t len, const char *name,
		       const kd_yaml_decode_opts *opts, kd_err *err);

typedef struct kd_yaml_encode_opts {
	/* Orders map keys as go-yaml v2's Marshal does (it sorts the keys of
	 * the Go map that toYaml hands it): rune by rune, two letters by code
	 * point, a non-letter before a letter, runs of digits by numeric value
	 * ("a2" before "a10", "a_b" before "aB"), a prefix first. Letters are
	 * exact for ASCII and Latin-1; beyond that every code point is taken
	 * as a letter except punctuation and symbol blocks, and only 0-9 count
	 * as digits. The caller's map is not reordered. */
	unsigned sort_keys : 1;
} kd_yaml_encode_opts;

/* Appends one document (no leading "---"), ending in "\n". opts may be NULL.
 * KD_ELIMIT past KD_LIMIT_DEPTH nesting, or when out reaches its limit (its
 * failure code is returned). On an error other than out's own, out is cut
 * back to where it was. */
int kd_yaml_encode(kd_buf *out, const kd_value *v,
		   const kd_yaml_encode_opts *opts, kd_err *err);

/* Appends each item of a KD_LIST (KD_EINVAL otherwise) as its own document,
 * separated by "---\n"; an empty list appends nothing. */
int kd_yaml_encode_all(kd_buf *out, const kd_value *docs,
		       const kd_yaml_encode_opts *opts, kd_err *err);

/* Parse events one at a time, for callers that need a few fields of many
 * documents without building them (Helm's SimpleHead of every manifest on
 * the render path, core/chart/render.c): no kd_value, no copies, and
 * libyaml stays inside core/yaml. */
typedef enum kd_yaml_ev_type {
	KD_YEV_STREAM_START,
	KD_YEV_STREAM_END,
	KD_YEV_DOC_START,
	KD_YEV_DOC_END,
	KD_YEV_ALIAS,
	KD_YEV_SCALAR,
	KD_YEV_SEQ_START,
	KD_YEV_SEQ_END,
	KD_YEV_MAP_START,
	KD_YEV_MAP_END,
} kd_yaml_ev_type;

typedef struct kd_yaml_ev {
	kd_yaml_ev_type type;
	/* KD_YEV_SCALAR: its text, valid until the next call. */
	const char *s;
	size_t n;
	bool plain;    /* KD_YEV_SCALAR: plain (unquoted, not a block) */
	bool implicit; /* KD_YEV_DOC_START: no "---" */
} kd_yaml_ev;

typedef struct kd_yaml_reader kd_yaml_reader;

/* Starts reading text (not copied: it must outlive the reader). */
int kd_yaml_reader_open(kd_yaml_reader **out, const char *text, size_t len,
			kd_err *err);

/* The next event into *ev. Invalid YAML is KD_EPARSE in go-yaml v2's
 * words, "yaml: line N: <problem>", with its line numbers (the problem's
 * 0-based line for parser errors, 1-based for scanner errors, else the
 * context's; no "line" when both are 0). After KD_YEV_STREAM_END or an
 * error only close is allowed. */
int kd_yaml_reader_next(kd_yaml_reader *r, kd_yaml_ev *ev, kd_err *err);

/* Frees the reader; r may be NULL. */
void kd_yaml_reader_close(kd_yaml_reader *r);

#endif
