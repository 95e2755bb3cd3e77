/* The lexer of Go's text/template, shared by core/tmpl/lex.c and parse.c
 * only: the items it emits and the state it keeps between them. */
#ifndef KD_TMPL_LEX_H
#define KD_TMPL_LEX_H

#include "base/arena.h"

#include <stddef.h>

enum {
	I_ERROR, I_EOF, I_TEXT, I_LDELIM, I_RDELIM, I_SPACE, I_IDENT, I_FIELD,
	I_VAR, I_DOT, I_NUMBER, I_STRING, I_RAW, I_CHARCONST, I_BOOL, I_PIPE,
	I_LPAREN, I_RPAREN, I_DECLARE, I_ASSIGN, I_CHAR,
	I_KEYWORD, /* keywords after this */
	I_BLOCK, I_BREAK, I_CONTINUE, I_DEFINE, I_ELSE, I_END, I_IF, I_NIL,
	I_RANGE, I_TEMPLATE, I_WITH,
};

typedef struct item {
	int typ;
	int pos, line;
	const char *val;
	size_t len;
} item;

typedef struct lexer {
	const char *in;
	size_t len, pos;
	int line;
	int in_action;
	int paren;
	int done;
	int trim_next; /* skip leading space of the next text */
	item q[4];
	int qn, qh;
	kd_arena *a;
} lexer;

/* The next item of l; after an I_ERROR or I_EOF item, I_EOF for ever. */
item kd_tmpl_lex_next(lexer *l);
/* The first "ab" in s[0..n), or NULL. */
const char *kd_tmpl_find2(const char *s, size_t n, char a, char b);

#endif
