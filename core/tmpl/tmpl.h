/* kd_tmpl: Go's text/template (the Go 1.19 language) with Helm's settings,
 * over kd_value. The functions beyond Go's builtins come from the function
 * table a set is made with (core/sprig, core/chart build Helm's).
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

/* A function table (tmpl/internal.h has its parts): the functions a
 * template may call and the host's objects with methods. Built once by
 * the host; templates resolve names against it at parse time. */
typedef struct kd_tmpl_funcs kd_tmpl_funcs;

/* A new set whose templates call the functions of fs (which must outlive
 * the set); NULL: Go's builtins only. */
int kd_tmpl_new(kd_tmpl **out, const kd_tmpl_funcs *fs, kd_err *err);
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

/* Makes the set defer the files parsed from now on that define nothing
 * (no {{define}}, no {{block}}): such a body is parsed when it is
 * executed, into the execution's arena, and its parse errors show then
 * (kd_tmpl_check finds them sooner). A chart's set holds ten times its
 * text in trees, most of it in bodies each executed once. */
void kd_tmpl_set_lazy(kd_tmpl *t);
/* 0, or the parse error of the deferred template `name`. */
int kd_tmpl_check(kd_tmpl *t, const char *name, kd_err *err);

/* Marks v, a value of the data, as an object of the host's kind (see
 * kd_tmpl_obj_kind) for every execution of the set, until changed; NULL
 * for none. The set keeps the pointer, which must outlive it. */
void kd_tmpl_set_object(kd_tmpl *t, const kd_value *v, int kind);

/* A pointer for the host's functions (kd_tmpl_host), kept by the set. */
void kd_tmpl_set_host(kd_tmpl *t, void *host);

/* Removes every "<no value>" from b past from, as Helm does to a
 * template's output and to what tpl returns. */
void kd_tmpl_strip_no_value(kd_buf *b, size_t from);

/* The error of a render past KD_LIMIT_RENDER_BYTES: an execution that
 * is not inside a render's bound (base/mem.h) has one of its own. */
const char *kd_tmpl_mem_msg(void);

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

/* kd_tmpl_exec_in for an arena of the execution's own: *shared tells
 * whether it stored values into data from outside (set on .Values), so
 * that the caller must keep the arena as long as that data; when false,
 * only out holds anything of the execution and the arena may be emptied
 * (a chart's templates are executed one after another this way). */
int kd_tmpl_exec_local(kd_tmpl *t, const char *name, const kd_value *dot,
		       kd_arena *arena, kd_buf *out, bool *shared,
		       kd_err *err);

#endif
