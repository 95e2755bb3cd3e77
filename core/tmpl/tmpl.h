/* kd_tmpl: Go's text/template (the Go 1.19 language) with Helm's settings
 * and functions, over kd_value.
 *
 * A kd_tmpl is a set of named templates, like a Go *template.Template and
 * its associated templates: each kd_tmpl_parse() adds one file (its body is
 * the template named after the file) and the {{define}}s it holds. All of it
 * lives in the set's arena, parsed once. kd_tmpl_exec() renders one named
 * template with a fresh arena for the values it creates.
 *
 * Helm's settings are fixed: missing map keys give the zero value, and
 * every "<no value>" is removed from the output. Numbers: KD_INT is Go's
 * int, KD_FLOAT float64 (Helm's values are all float64).
 *
 * Errors read like Go's: parse errors "template: NAME:LINE: message"
 * (KD_EPARSE), execution errors "template: NAME:LINE:COL: executing \"NAME\"
 * at <NODE>: message" (KD_EINVAL), limits (KD_ELIMIT) name the template and
 * line. */
#ifndef KD_TMPL_TMPL_H
#define KD_TMPL_TMPL_H

#include "base/buf.h"
#include "base/err.h"
#include "base/value.h"

#include <stddef.h>

typedef struct kd_tmpl kd_tmpl;

int kd_tmpl_new(kd_tmpl **out, kd_err *err);
void kd_tmpl_free(kd_tmpl *t);

/* Parses text as the file `name` into the set. A {{define}} of a name
 * already defined by an earlier file replaces it (as Helm's chart files
 * do); twice in one file is an error. On error the set is unchanged. */
int kd_tmpl_parse(kd_tmpl *t, const char *name, const char *text, size_t len,
		  kd_err *err);

/* The same without copying the text: text[len] must be NUL and the text
 * must outlive the set (a loaded chart's files do). */
int kd_tmpl_parse_ref(kd_tmpl *t, const char *name, const char *text,
		      size_t len, kd_err *err);

/* Non-template files of the chart for .Files (a KD_MAP of path -> string);
 * the set keeps the pointer, which must outlive it. NULL for none. */
void kd_tmpl_set_files(kd_tmpl *t, const kd_value *files);

/* Helm's lookup(apiVersion, kind, namespace, name). Without a function
 * (helm template) it returns an empty map; with one, what the function
 * puts in *out, allocated in a: the object, a list object when name is
 * empty, or an empty map when there is none. A non-zero return fails the
 * render with err's message ("error calling lookup: ..."). */
typedef int (*kd_tmpl_lookup_fn)(void *ud, const char *api_version,
				 const char *kind, const char *namespace_,
				 const char *name, kd_arena *a, kd_value **out,
				 kd_err *err);
void kd_tmpl_set_lookup(kd_tmpl *t, kd_tmpl_lookup_fn fn, void *ud);

/* Executes the template `name` with dot as data, appending to out (whose
 * limit bounds the output). On error out holds what was written before. */
int kd_tmpl_exec(kd_tmpl *t, const char *name, const kd_value *dot,
		 kd_buf *out, kd_err *err);

/* The same with the values the execution creates allocated in arena, which
 * the caller frees. A chart render needs this: Helm's templates may store
 * what they compute into .Values (set, merge), and the next template of
 * the render sees it. */
int kd_tmpl_exec_in(kd_tmpl *t, const char *name, const kd_value *dot,
		    kd_arena *arena, kd_buf *out, kd_err *err);

#endif
