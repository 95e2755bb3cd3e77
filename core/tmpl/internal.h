/* Shared between the files of core/tmpl only: the AST, the template set
 * and the execution entry points. Not part of the contract. */
#ifndef KD_TMPL_INTERNAL_H
#define KD_TMPL_INTERNAL_H

#include "tmpl/tmpl.h"
#include "base/arena.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
	N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_TEMPLATE, N_BREAK,
	N_CONTINUE, N_LIST, N_PIPE, N_CMD,
	/* operands */
	N_FIELD, N_VAR, N_DOT, N_NIL, N_BOOL, N_NUM, N_STR, N_IDENT, N_CHAIN,
	/* markers used only while parsing */
	N_END, N_ELSE,
} kd_tmpl_ntype;

typedef struct kd_tmpl_node kd_tmpl_node;

/* Fields are ordered so a node packs into 64 bytes: a chart such as
 * kube-prometheus-stack parses into over 100,000 of them. */
struct kd_tmpl_node {
	kd_tmpl_ntype type;
	int pos;  /* byte offset in the file text */
	int line;
	int slen; /* length of the node's source text (operands, actions) */
	const char *src; /* file text, for columns and node strings */
	union {
		struct { const char *s; size_t n; } text;     /* TEXT, STR */
		struct { kd_tmpl_node **v; int n; } list;      /* LIST */
		struct {                                        /* PIPE */
			kd_tmpl_node **decl; int ndecl; bool assign;
			kd_tmpl_node **cmds; int ncmds;
		} pipe;
		struct { kd_tmpl_node **args; int n; } cmd;   /* CMD */
		/* FIELD: idents of .a.b; VAR: $x.a.b; CHAIN: node + fields */
		struct { const char **id; int n; kd_tmpl_node *node; } fld;
		const char *ident;                              /* IDENT */
		bool b;                                         /* BOOL */
		struct {
			int64_t i; double f;
			const char *text;
			bool is_int, is_float, is_uint, ideal_float;
			bool is_complex; /* parts read again from text */
		} num;
		struct {                                       /* IF RANGE WITH */
			kd_tmpl_node *pipe, *list, *elist;
		} br;
		struct { const char *name; kd_tmpl_node *pipe; } tpl;
		/* ACTION: br.pipe */
	} u;
	const struct kd_tmpl_func *fn; /* IDENT: the function, found at parse */
};

typedef struct kd_tmpl_def {
	const char *name;
	kd_tmpl_node *root; /* N_LIST; NULL while lazy */
	const char *file;   /* file whose parse defined it */
	/* A lazy set's file body, parsed from text when it runs. */
	const char *text;
	size_t len;
	bool lazy;
	struct kd_tmpl_def *next;
	struct kd_tmpl_def *hnext; /* chain in the set's hash index */
} kd_tmpl_def;

/* A definition a tpl text replaced, and what it was (restored when the
 * tpl's definitions are dropped). */
typedef struct kd_tmpl_undo {
	kd_tmpl_def *d;
	kd_tmpl_def was;
	struct kd_tmpl_undo *next;
} kd_tmpl_undo;

struct kd_tmpl {
	kd_arena arena;
	kd_tmpl_def *defs;
	/* defs by name: a chart's set holds a thousand templates and every
	 * include looks one up */
	kd_tmpl_def **hash;
	size_t hcap, ndefs;
	/* field and variable names, stored once (".Values" is everywhere) */
	const char **names;
	size_t ncap, nnames;
	const kd_tmpl_funcs *funcs;
	const kd_value *obj; /* kd_tmpl_set_object's */
	int obj_kind;
	void *host;
	int seq; /* counter for the host's temporary template names */
	bool lazy; /* kd_tmpl_set_lazy's */
	kd_tmpl_undo *undo; /* replacements by kd_tmpl_parse_in, newest first */
};

/* Where the definitions stand, to drop what a tpl adds after it. */
typedef struct kd_tmpl_mark {
	kd_tmpl_def *defs;
	kd_tmpl_undo *undo;
} kd_tmpl_mark;

/* Looks up a template by name. */
kd_tmpl_def *kd_tmpl_lookup(kd_tmpl *t, const char *name);
/* Adds d to the set's list and index: 0 or KD_ENOMEM. */
int kd_tmpl_insert_def(kd_tmpl *t, kd_tmpl_def *d);
/* The tree of a lazy file body, parsed into a. */
int kd_tmpl_parse_body(kd_tmpl *t, const kd_tmpl_def *d, kd_arena *a,
		       kd_tmpl_node **out, kd_err *err);
/* kd_tmpl_parse with the text, its tree and its definitions in arena a
 * (which must outlive their use: tpl drops them again). */
int kd_tmpl_parse_in(kd_tmpl *t, const char *name, const char *text,
		     size_t len, kd_arena *a, kd_err *err);
kd_tmpl_mark kd_tmpl_mark_defs(const kd_tmpl *t);
/* Forgets the definitions added since the mark, and undoes the
 * replacements (tpl's: Helm runs it on a clone of the set). */
void kd_tmpl_drop_defs(kd_tmpl *t, kd_tmpl_mark m);
/* The node's text as Go prints it in error messages. */
void kd_tmpl_node_string(kd_buf *b, const kd_tmpl_node *n);

#endif

/* ---- execution ---- */
#include <setjmp.h>

typedef struct kd_tmpl_var {
	const char *name;
	kd_value *v;
} kd_tmpl_var;

typedef struct kd_tmpl_ex {
	kd_tmpl *t;
	kd_arena *a;
	kd_buf *out;
	kd_err *err;
	const char *tname;         /* template being executed */
	const char *fname;         /* file it was parsed from */
	const kd_tmpl_node *at;    /* node for error context */
	kd_tmpl_var *vars;
	int nvars, capvars;
	int depth;
	int nest;                  /* walk_list recursion */
	jmp_buf *jb;
	const kd_value *root;      /* the data given to kd_tmpl_exec */
	const kd_value *top;       /* helm's top-level object, for tpl */
	const kd_value *values;    /* the top's .Values as given (a chartutil.Values
				    * until a template replaces it with set) */
	size_t iters;
	bool dot_iface;            /* dot is statically interface{} */
	const char *fn;            /* function being called */
	/* values that stand for Go objects with methods (the host's kinds) */
	struct kd_tmpl_obj { const kd_value *v; int kind; } *objs;
	int nobjs, capobjs;
	/* include/tpl buffers: the first ntmp are in use (a stack), the
	 * rest up to nalloc wait to be reused; all are freed at the end */
	kd_buf **tmpbufs;
	int ntmp, captmp, nalloc;
	int crypto_ops;            /* key generations and password hashes */
	bool track_writes;         /* kd_tmpl_exec_local's: watch for ... */
	bool wrote_shared;         /* ... a store into data not in x->a */
} kd_tmpl_ex;

/* Called by every function that stores into an existing list or map c:
 * when c is not the execution's own, the caller of kd_tmpl_exec_local
 * must keep the execution's arena as long as c's data. */
void kd_tmpl_note_write(kd_tmpl_ex *x, const kd_value *c);

/* Raises an execution error "template: NAME:LINE:COL: executing ..." */
void kd_tmpl_errorf(kd_tmpl_ex *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Results for template functions, in the execution's arena: NULL, with
 * the execution stopped on "out of memory", when the arena is spent. */
kd_value *kd_tmpl_mk_bool(kd_tmpl_ex *x, bool b);
kd_value *kd_tmpl_mk_int(kd_tmpl_ex *x, int64_t i);
kd_value *kd_tmpl_mk_float(kd_tmpl_ex *x, double f);
kd_value *kd_tmpl_mk_list(kd_tmpl_ex *x, size_t n);
kd_value *kd_tmpl_mk_map(kd_tmpl_ex *x, size_t n);

/* Raises "template: ...: error calling NAME: " + inner, for a function
 * whose own execution of a template failed (include), as Go chains the
 * two errors; a chain too long for one message loses its middle. */
void kd_tmpl_fail_chain(kd_tmpl_ex *x, int code, const char *inner)
	__attribute__((noreturn));
/* Raises "error calling NAME: msg" the way Go wraps a function's error. */
void kd_tmpl_fail(kd_tmpl_ex *x, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* Param types: 'a' interface{}, 'v' reflect.Value, 's' string, 'i' int,
 * 'f' float64, 'b' bool, 'l' []interface{}, 'm' map[string]interface{}. */
typedef kd_value *(*kd_tmpl_fn)(kd_tmpl_ex *x, kd_value **argv, int argc);
typedef struct kd_tmpl_func {
	const char *name;
	kd_tmpl_fn fn;
	const char *params; /* one char per parameter; the last repeats when
			     * variadic */
	bool variadic;
	bool builtin;       /* Go's builtin (and/or short-circuit) */
} kd_tmpl_func;

/* The arguments of a method call on an object, not yet evaluated. */
typedef struct kd_tmpl_margs {
	kd_value *dot;
	const kd_tmpl_node *node;
	kd_tmpl_node *const *args; /* args[1..nargs) */
	int nargs;
	kd_value *final; /* the piped value, or the engine's "none" */
} kd_tmpl_margs;
/* How many arguments the call has. */
int kd_tmpl_margs_count(const kd_tmpl_margs *m);
/* Argument i evaluated as param type typ ('a', 's', ...); NULL when the
 * call has fewer. */
kd_value *kd_tmpl_margs_get(kd_tmpl_ex *x, const kd_tmpl_margs *m, int i,
			    char typ);

/* A host's methods: name called on recv (kind its kd_tmpl_obj_kind, 0 for
 * none). Sets *handled when the method is the host's. */
typedef kd_value *(*kd_tmpl_method_fn)(kd_tmpl_ex *x, kd_value *recv,
				       int kind, const char *name,
				       const kd_tmpl_margs *m, bool *handled);
/* Prints an object of the host's kind as Go would; false: not the host's. */
typedef bool (*kd_tmpl_print_fn)(kd_tmpl_ex *x, kd_buf *b, const kd_value *v,
				 int kind);
/* Called before each execution with its data: marks the host's objects. */
typedef void (*kd_tmpl_prepare_fn)(kd_tmpl_ex *x, const kd_value *root);

#define KD_TMPL_FUNCS_SLOTS 1024 /* a power of two, over twice the functions */
#define KD_TMPL_HOOKS 4

struct kd_tmpl_funcs {
	const kd_tmpl_func *slot[KD_TMPL_FUNCS_SLOTS]; /* open addressing */
	size_t n;
	kd_tmpl_method_fn methods[KD_TMPL_HOOKS];
	kd_tmpl_print_fn printers[KD_TMPL_HOOKS];
	kd_tmpl_prepare_fn prepares[KD_TMPL_HOOKS];
	int nmethods, nprinters, nprepares;
	bool full; /* an add did not fit: kd_tmpl_funcs_check fails */
};

/* An empty table with Go's builtins. */
void kd_tmpl_funcs_init(kd_tmpl_funcs *fs);
/* Adds the functions of list (ended by a NULL name; static, the table
 * keeps pointers); a name already there is replaced, as Go's Funcs does. */
void kd_tmpl_funcs_add(kd_tmpl_funcs *fs, const kd_tmpl_func *list);
void kd_tmpl_funcs_add_methods(kd_tmpl_funcs *fs, kd_tmpl_method_fn fn);
void kd_tmpl_funcs_add_printer(kd_tmpl_funcs *fs, kd_tmpl_print_fn fn);
void kd_tmpl_funcs_add_prepare(kd_tmpl_funcs *fs, kd_tmpl_prepare_fn fn);
/* 0, or KD_ELIMIT when something did not fit. */
int kd_tmpl_funcs_check(const kd_tmpl_funcs *fs, kd_err *err);
const kd_tmpl_func *kd_tmpl_funcs_find(const kd_tmpl_funcs *fs,
				       const char *name);
/* The host pointer of the executing set (kd_tmpl_set_host). */
void *kd_tmpl_host(kd_tmpl_ex *x);

/* Renders template name with dot into x->out (include, template). */
void kd_tmpl_exec_named(kd_tmpl_ex *x, const char *name, kd_value *dot);
bool kd_tmpl_truth(const kd_value *v);
const char *kd_tmpl_type_name(const kd_value *v);

/* fmt: x, when not NULL, is the execution whose host objects print with
 * their host's printer (Go's Stringer), at any depth */
void kd_tmpl_fmt_v(kd_tmpl_ex *x, kd_buf *b, const kd_value *v);
void kd_tmpl_sprint(kd_tmpl_ex *x, kd_buf *b, kd_value **argv, int argc);
void kd_tmpl_sprintln(kd_tmpl_ex *x, kd_buf *b, kd_value **argv, int argc);
void kd_tmpl_sprintf(kd_tmpl_ex *x, kd_buf *b, const char *f, size_t n,
		     kd_value **argv, int argc);
void kd_tmpl_quote(kd_buf *b, const char *s, size_t n);

/* helpers */
kd_value *kd_tmpl_str(kd_tmpl_ex *x, const char *s, size_t n);
kd_value *kd_tmpl_buf_value(kd_tmpl_ex *x, kd_buf *b); /* frees b */
/* A buffer that is freed even when an error unwinds (LIFO with
 * kd_tmpl_tmpbuf_value, which turns it into a value and keeps the
 * buffer for the next call: includes come by the thousand). */
kd_buf *kd_tmpl_tmpbuf(kd_tmpl_ex *x);
kd_value *kd_tmpl_tmpbuf_value(kd_tmpl_ex *x, kd_buf *b);
extern kd_value kd_tmpl_nil;
/* Object kinds: KD_TMPL_OBJ_STRUCT is a Go struct (an unknown field is an
 * error); hosts number theirs from KD_TMPL_OBJ_HOST. */
enum { KD_TMPL_OBJ_STRUCT = 1, KD_TMPL_OBJ_HOST = 16 };
/* Marks v as an object of kind for the rest of the execution. */
void kd_tmpl_add_obj(kd_tmpl_ex *x, const kd_value *v, int kind);
/* v's kind, 0 for a plain value. */
int kd_tmpl_obj_kind(kd_tmpl_ex *x, const kd_value *v);
/* complex128, from Go's imaginary literals: a map {re, im} whose first
 * key is the string kd_tmpl_complex_key itself, a pointer no data can
 * make, so printing, truth and type names know it without the execution's
 * object list. */
extern const char kd_tmpl_complex_key[];
kd_value *kd_tmpl_complex(kd_tmpl_ex *x, double re, double im);
bool kd_tmpl_is_complex(const kd_value *v);
/* Sprig's certificate struct {Cert, Key}, marked the same way by the
 * pointer of its first key; it prints as {cert key}. */
extern const char kd_tmpl_cert_key[];
bool kd_tmpl_is_cert(const kd_value *v);
/* Go's complex literal text ("1+2i", "1.5i") into its parts: 0 or -1 */
int kd_tmpl_complex_parse(const char *s, double *re, double *im);
