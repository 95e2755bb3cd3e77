/* Unit tests of the template engine alone (core/tmpl, Go's text/template
 * with its builtins and no function table): parsing, execution, fmt verbs,
 * errors and limits. Sprig's and Helm's functions: test_sprig.c. */
#include "render.h"

#define DATA "{\"s\":\"web\",\"n\":8080,\"f\":0.5,\"big\":1000000," \
	"\"t\":true,\"z\":0,\"e\":\"\",\"nil\":null,\"l\":[\"a\",\"b\",\"c\"]," \
	"\"m\":{\"b\":2,\"a\":1},\"em\":{},\"el\":[]," \
	"\"d\":{\"x\":{\"v\":\"deep\"}}}"

static void test_text_and_trim(void)
{
	out_is("plain text", "plain text", "text only");
	out_is("", "", "empty template");
	out_is("a  \n  {{- .s }}", "aweb", "left trim");
	out_is("{{ .s -}}  \n  b", "webb", "right trim");
	out_is("a {{- /* c */ -}} b", "ab", "trimmed comment");
	out_is("{{/* comment */}}x", "x", "comment");
	out_is("{{-3}}", "-3", "negative number is not a trim marker");
}

static void test_values(void)
{
	out_is("{{ .s }} {{ .n }} {{ .f }} {{ .big }} {{ .t }}",
	       "web 8080 0.5 1e+06 true", "scalars print like Go");
	out_is("{{ .m }} {{ .l }} {{ .em }} {{ .el }}",
	       "map[a:1 b:2] [a b c] map[] []", "containers print like fmt");
	out_is("[{{ .missing }}][{{ .nil }}]", "[][]", "<no value> removed");
	out_is("{{ .d.x.v }}", "deep", "field chain");
	out_is("{{ (.d).x.v }}", "deep", "chain on a parenthesized pipeline");
	out_is("{{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 'a' }} {{ 1.5e3 }}",
	       "31 15 5 1000 97 1500", "number literals");
	out_is("{{ \"a\\tb\" }}{{ `raw\\n` }}", "a\tbraw\\n", "string literals");
	out_is("{{ print nil }}", "<nil>", "nil as an argument");
	err_has("{{ nil }}", "nil is not a command", KD_EINVAL, "nil as a command");
}

static void test_control(void)
{
	out_is("{{ if .t }}y{{ else }}n{{ end }}", "y", "if");
	out_is("{{ if .z }}a{{ else if .e }}b{{ else }}c{{ end }}", "c",
	       "else if chain");
	out_is("{{ with .d.x }}{{ .v }}{{ else }}none{{ end }}", "deep", "with");
	out_is("{{ with .missing }}x{{ else }}none{{ end }}", "none",
	       "with else");
	out_is("{{ range .l }}{{ . }}{{ end }}", "abc", "range list");
	out_is("{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}",
	       "a=1;b=2;", "range map sorted");
	out_is("{{ range .el }}x{{ else }}empty{{ end }}", "empty",
	       "range else");
	out_is("{{ range .l }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
	       "a", "break");
	out_is("{{ range .l }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
	       "ac", "continue");
	out_is("{{ $x := 1 }}{{ if .t }}{{ $x = 2 }}{{ end }}{{ $x }}", "2",
	       "assignment reaches the outer variable");
	out_is("{{ range .l }}{{ $.s }}{{ end }}", "webwebweb", "$ is the data");
	out_is("{{ define \"T\" }}<{{ . }}>{{ end }}{{ template \"T\" .s }}",
	       "<web>", "define and template");
	out_is("{{ block \"B\" .n }}[{{ . }}]{{ end }}", "[8080]", "block");
}

static void test_compare(void)
{
	out_is("{{ and 1 0 }} {{ or 0 \"\" }} {{ or 0 2 }} {{ not .e }}",
	       "0  2 true", "and/or return an operand");
	out_is("{{ and false (index .nil 1) }}", "false", "and short-circuits");
	out_is("{{ eq .s \"x\" \"web\" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ ge .f 0.5 }}",
	       "true true true true", "comparisons");
	err_has("{{ eq .n 8080 }}", "incompatible types for comparison",
		KD_EINVAL, "float64 value against an int literal");
	err_has("{{ lt .l 1 }}", "invalid type for comparison", KD_EINVAL,
		"lt on a list");
}

static void test_fmt(void)
{
	out_is("{{ printf \"%d|%5s|%-4s|%05.2f|%x|%q|%v\" 42 \"ab\" \"c\" 3.14159 255 \"q\" .m }}",
	       "42|   ab|c   |03.14|ff|\"q\"|map[a:1 b:2]", "printf verbs");
	out_is("{{ printf \"%d %s\" .n .nil }}", "%!d(float64=8080) %!s(<nil>)",
	       "printf wrong verbs");
	out_is("{{ printf \"%d\" }}|{{ printf \"x\" 1 }}",
	       "%!d(MISSING)|x%!(EXTRA int=1)", "printf missing and extra");
	out_is("{{ print 1 2 \"a\" 3 }}|{{ println 1 \"a\" }}", "1 2a3|1 a\n",
	       "print and println spacing");
	out_is("{{ html \"<a&'\" }} {{ js \"a'<\" }} {{ urlquery \"a b&c\" }}",
	       "&lt;a&amp;&#39; a\\'\\u003C a+b%26c", "escapers");
}

static void test_errors(void)
{
	err_has("{{ if .t }}", "template: t:1: unexpected EOF", KD_EPARSE,
		"missing end");
	err_has("{{ .s ", "unclosed action", KD_EPARSE, "unclosed action");
	err_has("{{ nope 1 }}", "function \"nope\" not defined", KD_EPARSE,
		"undefined function");
	err_has("{{ $x }}", "undefined variable \"$x\"", KD_EPARSE,
		"undefined variable");
	err_has("{{ end }}", "unexpected {{end}}", KD_EPARSE, "stray end");
	err_has("{{ break }}", "{{break}} outside {{range}}", KD_EPARSE,
		"break outside range");
	err_has("{{ 1.E }}", "\"1.E\"", KD_EPARSE, "bad number");
	err_has("{{ .s | 3 }}", "non executable command in pipeline stage 2",
		KD_EPARSE, "literal in pipeline");
	err_has("{{ .missing.x }}",
		"executing \"t\" at <.missing.x>: nil pointer evaluating interface {}.x",
		KD_EINVAL, "field of a missing key");
	err_has("{{ .s.x }}", "can't evaluate field x in type interface {}",
		KD_EINVAL, "field of a string");
	err_has("{{ index .l 5 }}", "index out of range: 5", KD_EINVAL,
		"index out of range");
	err_has("{{ template \"none\" }}",
		"at <{{template \"none\"}}>: template \"none\" not defined", KD_EINVAL,
		"missing template");
}

static void test_limits(void)
{
	err_has("{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}",
		"exceeded maximum template depth", KD_ELIMIT,
		"template recursion is bounded");
	{
		/* deep nesting of parentheses must not exhaust the stack */
		size_t n = 100000, i;
		char *s = malloc(n * 2 + 16), em[KD_ERR_MSG_MAX], *got;
		int code;

		strcpy(s, "{{ ");
		for (i = 0; i < n; i++)
			s[3 + i] = '(';
		s[3 + n] = 0;
		got = render(s, "{}", em, sizeof em, &code);
		ok(!got && code == KD_EPARSE, "deep parentheses are an error");
		free(got);
		free(s);
	}
}

/* A later file's definition replaces an earlier one; twice in one file
 * is an error. */
static void test_redefine(void)
{
	kd_tmpl *t = NULL;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(1 << 20);
	kd_value dot = {KD_NULL, {0}};
	int rc;

	kd_tmpl_new(&t, render_funcs, &err);
	rc = kd_tmpl_parse(t, "a.tpl", T("{{ define \"n\" }}first{{ end }}"), &err);
	rc = rc ? rc : kd_tmpl_parse(t, "b.tpl", T("{{ define \"n\" }}second{{ end }}"), &err);
	rc = rc ? rc : kd_tmpl_parse(t, "main", T("{{ template \"n\" . }}"), &err);
	rc = rc ? rc : kd_tmpl_exec(t, "main", &dot, &out, &err);
	is_str(out.ptr, out.len, "second", "the engine alone: the later definition wins");
	rc = kd_tmpl_parse(t, "dup", T("{{ define \"a\" }}1{{ end }}{{ define \"a\" }}2{{ end }}"), &err);
	ok(rc == KD_EPARSE, "the engine alone: twice in one file is an error");
	kd_buf_free(&out);
	kd_tmpl_free(t);
}

int main(void)
{
	render_funcs = NULL;
	test_text_and_trim();
	test_values();
	test_control();
	test_compare();
	test_fmt();
	test_errors();
	test_limits();
	test_redefine();
	return tap_done();
}
