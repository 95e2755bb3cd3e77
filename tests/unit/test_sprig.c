/* Unit tests of Sprig's and Helm's template functions (core/sprig,
 * core/chart/funcs.c) through the engine: strings, lists, dicts, math,
 * encodings, regex, semver, dates, crypto, .Files, include and tpl. The
 * engine alone: test_tmpl.c. */
#include "render.h"

#include "chart/funcs.h"

#define DATA "{\"s\":\"web\",\"n\":8080,\"f\":0.5,\"big\":1000000," \
	"\"t\":true,\"z\":0,\"e\":\"\",\"nil\":null,\"l\":[\"a\",\"b\",\"c\"]," \
	"\"m\":{\"b\":2,\"a\":1},\"em\":{},\"el\":[]," \
	"\"d\":{\"x\":{\"v\":\"deep\"}}}"

static void test_chart_funcs(void)
{
	out_is("{{ define \"T\" }}{{ .s }}{{ end }}{{ include \"T\" . | upper }}",
	       "WEB", "include pipes");
	out_is("{{ tpl \"{{ .s }}!\" . }}", "web!", "tpl");
	err_has("{{ required \"need it\" .missing }}",
		"error calling required: need it", KD_EINVAL, "required");
	err_has("{{ fail \"boom\" }}", "boom", KD_EINVAL, "fail");
	err_has("{{ upper 1 2 }}", "wrong number of args for upper: want 1 got 2",
		KD_EINVAL, "wrong arg count");
	err_has("{{ nindent .n \"x\" }}",
		"wrong type for value; expected int; got float64", KD_EINVAL,
		"typed parameter");
}

static void test_funcs(void)
{
	out_is("{{ index .l 1 }}{{ index .m \"b\" }}{{ len .l }}{{ slice .l 1 2 }}",
	       "b23[b]", "index len slice");
	out_is("{{ .missing | default \"d\" }} {{ quote .s }} {{ squote 1 }}",
	       "d \"web\" '1'", "default quote squote");
	out_is("{{ \"a\\nb\" | indent 2 }}|{{ \"x\" | nindent 1 }}",
	       "  a\n  b|\n x", "indent nindent");
	out_is("{{ list 1 \"a\" | toJson }} {{ dict \"k\" .f | toYaml }}",
	       "[1,\"a\"] k: 0.5", "toJson toYaml");
	out_is("{{ toYaml .d }}", "x:\n  v: deep", "toYaml nested");
	out_is("{{ (fromYaml \"a: 1\").a }} {{ (fromJson \"{\\\"b\\\":[2]}\").b }}",
	       "1 [2]", "fromYaml fromJson");
	out_is("{{ add 1 2.5 }} {{ sub 5 .n | int }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }}",
	       "3 -8075 6 3 1", "arithmetic truncates");
	out_is("{{ add 9223372036854775807 1 }} {{ sub -9223372036854775808 1 }} "
	       "{{ mul 2 9223372036854775807 }} {{ add1 9223372036854775807 }} "
	       "{{ div -9223372036854775808 -1 }} {{ mod -9223372036854775808 -1 }}",
	       "-9223372036854775808 9223372036854775807 -2 -9223372036854775808 "
	       "-9223372036854775808 0", "int64 arithmetic wraps as Go's does");
	out_is("[{{ seq 9223372036854775807 }}] [{{ seq -9223372036854775807 -9223372036854775808 }}]",
	       "[] []", "seq's end past int64 wraps as in Sprig (an empty sequence)");
	out_is("{{ $d := dict \"a\" 1 }}{{ $_ := set $d \"b\" 2 }}{{ keys $d | sortAlpha | join \",\" }} {{ hasKey $d \"b\" }}",
	       "a,b true", "dict set keys hasKey");
	out_is("{{ merge (dict \"a\" 1) (dict \"a\" 2 \"b\" 3) | toJson }}",
	       "{\"a\":1,\"b\":3}", "merge keeps the destination");
	out_is("{{ trunc 2 \"abc\" }} {{ trimSuffix \"-\" \"a-\" }} {{ replace \"a\" \"b\" \"aa\" }} {{ contains \"e\" .s }}",
	       "ab a bb true", "strings");
	out_is("{{ b64enc \"hi\" }} {{ b64dec \"aGk=\" }}", "aGk= hi", "base64");
	out_is("{{ ternary 1 2 false }} {{ coalesce .e .z .s }} {{ empty .em }}",
	       "2 web true", "ternary coalesce empty");
}

static void test_more_funcs(void)
{
	out_is("{{ regexMatch \"^w.b$\" .s }} {{ regexFind \"[0-9]+\" \"ab123c\" }} {{ regexReplaceAll \"(a+)(b)\" \"xaabyab\" \"<$2$1>\" }}",
	       "true 123 x<baa>y<ba>", "regex match find replace");
	out_is("{{ regexSplit \"/+\" \"a//b/c\" -1 | join \",\" }} {{ regexFindAll \"a.\" \"abacad\" 2 }}",
	       "a,b,c [ab ac]", "regex split and find all");
	err_has("{{ mustRegexMatch \"(\" \"x\" }}", "error parsing regexp: missing closing )",
		KD_EINVAL, "bad regex");
	/* the engine is linear in the input: patterns that make a backtracker
	 * blow up answer as Go does */
	out_is("{{ regexMatch \"(a*)*b\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac\" }}", "false",
	       "nested quantifiers answer");
	out_is("{{ regexMatch \"^(a|aa)*c$\" (repeat 40 \"a\") }}", "false",
	       "alternation under a star answers (issue 18)");
	out_is("{{ semverCompare \">=1.19-0\" \"v1.30.0\" }} {{ semverCompare \"^1.2.0\" \"2.0.0\" }} {{ semverCompare \"~1.2.0\" \"1.2.9\" }} {{ (semver \"1.2.3-rc.1\").Prerelease }}",
	       "true false true rc.1", "semver");
	err_has("{{ semverCompare \">1\" \"x\" }}", "Invalid Semantic Version", KD_EINVAL,
		"bad version");
	out_is("{{ seq 3 }}|{{ until 3 }}|{{ untilStep 0 10 4 }}", "1 2 3|[0 1 2]|[0 4 8]",
	       "sequences");
	out_is("{{ dig \"a\" \"b\" \"def\" (dict \"a\" (dict \"b\" 1)) }} {{ dig \"x\" \"def\" (dict) }}",
	       "1 def", "dig");
	out_is("{{ printf \"%#v\" .l }}", "[]interface {}{\"a\", \"b\", \"c\"}", "%#v");
	out_is("{{ snakecase \"HTTPServer\" }} {{ camelcase \"a_b\" }} {{ kebabcase \"NoHTTPS\" }}",
	       "http_server AB no-https", "case conversions");
	out_is("{{ sha256sum \"abc\" | trunc 16 }} {{ sha1sum \"abc\" | trunc 8 }} {{ adler32sum \"abc\" }}",
	       "ba7816bf8f01cfea a9993e36 38600999", "hashes");
	err_has("{{ first .s }}", "Cannot find first on type string", KD_EINVAL,
		"list function on a string");
	out_is("{{ dateInZone \"2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3PM\" 1500000000 \"UTC\" }} {{ now | date \"2006\" | len }}",
	       "2017-07-14T02:40:00.000Z Fri Jul 14 2AM 4", "dates");
	out_is("{{ $c := genCA \"x\" 1 }}{{ hasPrefix \"-----BEGIN CERTIFICATE-----\" $c.Cert }} "
	       "{{ hasPrefix \"-----BEGIN RSA PRIVATE KEY-----\" $c.Key }} {{ typeOf $c }} "
	       "{{ $p := printf \"%v\" $c }}{{ hasPrefix \"{-----BEGIN\" $p }} {{ hasSuffix \"-----\\n}\" $p }}",
	       "true true sprig.certificate true true", "genCA: a certificate printed as Go's struct");
	out_is("{{ toDate \"2006-01-02 15:04\" \"2020-06-15 13:14\" | date \"Jan 2 3:04PM\" }} "
	       "{{ (toDate \"2006-01-02\" \"2020-06-15\").YearDay }} {{ durationRound \"26h\" }} "
	       "{{ toDate \"2006-01-02\" \"2020-06-15\" | dateModify \"1h30m\" | date \"15:04\" }}",
	       "Jun 15 1:14PM 167 1d 01:30", "toDate, time methods, durationRound, dateModify");
	out_is("{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2021-03-04T05:06:07-05:30\" }} "
	       "{{ toDate \"2006-01-02 15:04 MST\" \"2021-07-04 05:06 GMT+3\" | dateModify \"1h\" }} "
	       "{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2021-03-04T05:06:07Z\" }}",
	       "2021-03-04 05:06:07 -0530 -0530 2021-07-04 06:06:00 +0300 GMT+3 "
	       "2021-03-04 05:06:07 +0000 UTC", "toDate keeps an offset the local zone lacks as a fixed zone");
	err_has("{{ mustToDate \"2006-01-02\" \"2020-13-01\" }}",
		"error calling mustToDate: parsing time \"2020-13-01\": month out of range",
		KD_EINVAL, "mustToDate: Go's range error");
	/* a version and a time are Go values with methods: Stringer for
	 * fmt, MarshalJSON for the encoders, their own type names (each
	 * expected output is helm v3.17.1's) */
	out_is("{{ semver \"v1.2\" | toString }} {{ printf \"%s|%q|%v|%10s|%x\" (semver \"1.2.3-rc.1+b\") "
	       "(semver \"1.2.3\") (semver \"1.2.3\") (semver \"1.2.3\") (semver \"1.2\") }}",
	       "1.2.0 1.2.3-rc.1+b|\"1.2.3\"|1.2.3|     1.2.3|312e322e30", "a version prints its String");
	out_is("{{ list (semver \"1.2.3\") (toDate \"2006-01-02\" \"2021-03-04\") | toJson }} "
	       "{{ dict \"v\" (semver \"1.2.3\") \"t\" (toDate \"2006-01-02\" \"2021-03-04\") | toYaml }} "
	       "{{ toDate \"2006-01-02T15:04:05.000Z07:00\" \"2021-03-04T05:06:07.120-05:30\" | toJson }}",
	       "[\"1.2.3\",\"2021-03-04T00:00:00Z\"] t: \"2021-03-04T00:00:00Z\"\nv: 1.2.3 "
	       "\"2021-03-04T05:06:07.12-05:30\"", "versions and times encode as Go's MarshalJSON");
	out_is("{{ typeOf (semver \"1.2.3\") }} {{ kindOf (semver \"1.2.3\") }} "
	       "{{ typeOf (toDate \"2006-01-02\" \"2021-03-04\") }} {{ kindOf (toDate \"2006-01-02\" \"2021-03-04\") }} "
	       "{{ typeIsLike \"semver.Version\" (semver \"1.2.3\") }} {{ kindIs \"ptr\" (semver \"1.0.0\") }}",
	       "*semver.Version ptr time.Time struct true true", "their Go types and kinds");
	out_is("{{ semver \"1.2.3\" | quote }} {{ toDate \"2006-01-02\" \"2021-03-04\" | squote }} "
	       "{{ cat (semver \"1.2.3\") \"x\" }} {{ print (semver \"1.2.3\") (semver \"2.0.0\") }}",
	       "\"1.2.3\" '2021-03-04 00:00:00 +0000 UTC' 1.2.3 x 1.2.3 2.0.0", "quote, cat and print use String");
	out_is("{{ 1+2i }} {{ printf \"%.1f\" -1.5i }} {{ if 0i }}t{{ else }}f{{ end }} {{ eq 1+2i 1+2i }} {{ typeOf 2i }}",
	       "(1+2i) (0.0-1.5i) f true complex128", "complex constants");
	err_has("{{ lt 1i 2i }}", "error calling lt: invalid type for comparison", KD_EINVAL,
		"complex numbers are not ordered");
	out_is("{{ base \"a/b.txt\" }} {{ dir \"a/b/c\" }} {{ ext \"x.tar.gz\" }} {{ clean \"a/../b/./c/\" }}",
	       "b.txt a/b .gz b/c", "paths");
}

static void test_files(void)
{
	kd_arena a = KD_ARENA_INIT(1 << 20);
	kd_tmpl *t = NULL;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(1 << 20);
	kd_value *files = kd_value_map(&a, 2), *dot = kd_value_map(&a, 2);
	int rc;
	const char *tx = "{{ .Files.Get \"c/a.txt\" }}|{{ range .Files.Lines \"c/a.txt\" }}[{{ . }}]{{ end }}|{{ (.Files.Glob \"c/*\").AsConfig }}";

	kd_map_setz(&a, files, "c/a.txt", kd_value_strz(&a, "x\ny\n"));
	kd_map_setz(&a, files, "d/b.txt", kd_value_strz(&a, "z"));
	kd_map_setz(&a, dot, "Values", kd_value_map(&a, 0));
	kd_map_setz(&a, dot, "Files", files);
	kd_tmpl_new(&t, kd_chart_funcs(), &err);
	kd_chart_set_files(t, files);
	rc = kd_tmpl_parse(t, "f", tx, strlen(tx), &err);
	rc = rc ? rc : kd_tmpl_exec(t, "f", dot, &out, &err);
	ok(rc == 0, "files template renders");
	is_str(out.ptr, out.len, "x\ny\n|[x][y]|a.txt: |\n  x\n  y", ".Files methods");
	kd_buf_free(&out);
	kd_tmpl_free(t);
	kd_arena_free(&a);
}

static void test_limits(void)
{
	err_has("{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" . }}",
		"nested reference", KD_ELIMIT, "include recursion is bounded");
	{
		kd_tmpl *t = NULL;
		kd_err err = KD_ERR_INIT;
		kd_buf out = KD_BUF_INIT(100);
		kd_value dot = {KD_NULL, {0}};
		int rc;

		kd_tmpl_new(&t, render_funcs, &err);
		kd_tmpl_parse(t, "big", T("{{ range $i, $x := until 1000 }}xxxxxxxx{{ end }}"), &err);
		rc = kd_tmpl_exec(t, "big", &dot, &out, &err);
		ok(rc == KD_EINVAL && strstr(err.msg, "output exceeds"),
		   "output is bounded by the buffer's limit");
		kd_buf_free(&out);
		kd_tmpl_free(t);
	}
}

static void test_set(void)
{
	kd_tmpl *t = NULL;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(1 << 20);
	kd_value dot = {KD_NULL, {0}};
	int rc;

	kd_tmpl_new(&t, kd_chart_funcs(), &err);
	rc = kd_tmpl_parse(t, "_helpers.tpl",
			   T("{{ define \"name\" }}first{{ end }}"), &err);
	ok(rc == 0, "helpers parse");
	rc = kd_tmpl_parse(t, "b.tpl", T("{{ define \"name\" }}second{{ end }}"), &err);
	ok(rc == 0, "a later file may redefine a template");
	rc = kd_tmpl_parse(t, "main", T("{{ include \"name\" . }}"), &err);
	rc = rc ? rc : kd_tmpl_exec(t, "main", &dot, &out, &err);
	is_str(out.ptr, out.len, "second", "the later definition wins");
	rc = kd_tmpl_parse(t, "dup",
			   T("{{ define \"a\" }}1{{ end }}{{ define \"a\" }}2{{ end }}"), &err);
	ok(rc == KD_EPARSE && strstr(err.msg, "multiple definition"),
	   "twice in one file is an error");
	rc = kd_tmpl_exec(t, "nope", &dot, &out, &err);
	ok(rc == KD_ENOTFOUND, "executing an unknown template");
	kd_buf_free(&out);
	kd_tmpl_free(t);
	kd_tmpl_free(NULL);
}

/* A lazy set (a chart render's): bodies parsed again when executed, and
 * executions in arenas of their own that say when they stored into the
 * data from outside. */
static void test_lazy_local(void)
{
	kd_tmpl *t = NULL;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(1 << 20);
	kd_arena data = KD_ARENA_INIT(1 << 20), loc = KD_ARENA_INIT(1 << 20);
	kd_value *dot = kd_value_map(&data, 2);
	bool shared = true;
	int rc;

	kd_map_setz(&data, dot, "Values", kd_value_map(&data, 2));
	kd_tmpl_new(&t, kd_chart_funcs(), &err);
	kd_tmpl_set_lazy(t);
	rc = kd_tmpl_parse(t, "a.yaml",
			   T("a={{ template \"d\" }}{{ block \"blk\" . }}B{{ end }}{{ define \"d\" }}D{{ end }}"),
			   &err);
	rc = rc ? rc : kd_tmpl_parse(t, "b.yaml", T("[{{ include \"a.yaml\" . }}]"), &err);
	rc = rc ? rc : kd_tmpl_parse(t, "c.yaml",
				     T("{{ $d := dict \"k\" 1 }}{{ $_ := set $d \"j\" 2 }}{{ $d.j }}"),
				     &err);
	rc = rc ? rc : kd_tmpl_parse(t, "w.yaml",
				     T("{{ $_ := set .Values \"w\" (dict \"x\" \"y\") }}"),
				     &err);
	rc = rc ? rc : kd_tmpl_parse(t, "r.yaml", T("{{ .Values.w.x }}"), &err);
	ok(rc == 0, "lazy set: files parse (%s)", err.msg);
	rc = kd_tmpl_parse(t, "bad.yaml", T("{{ define \"e\" }}x{{ end }}{{ if }}"), &err);
	ok(rc == KD_EPARSE && !kd_tmpl_exec(t, "d", dot, &out, &err),
	   "lazy set: a body's error is found at parse time, the set unchanged");
	kd_buf_reset(&out);
	rc = kd_tmpl_exec_local(t, "a.yaml", dot, &loc, &out, &shared, &err);
	is_str(out.ptr, out.len, "a=DB", "lazy set: a body is parsed again and runs");
	ok(rc == 0 && !shared, "lazy set: a body that stores nothing outside");
	kd_arena_reset(&loc);
	kd_buf_reset(&out);
	rc = kd_tmpl_exec_local(t, "b.yaml", dot, &loc, &out, &shared, &err);
	is_str(out.ptr, out.len, "[a=DB]", "lazy set: a body included by its file name");
	kd_arena_reset(&loc);
	kd_buf_reset(&out);
	rc = kd_tmpl_exec_local(t, "c.yaml", dot, &loc, &out, &shared, &err);
	is_str(out.ptr, out.len, "2", "lazy set: set on a dict of the execution's own");
	ok(rc == 0 && !shared, "lazy set: ... is not a store outside");
	kd_arena_reset(&loc);
	kd_buf_reset(&out);
	rc = kd_tmpl_exec_local(t, "w.yaml", dot, &loc, &out, &shared, &err);
	ok(rc == 0 && shared, "lazy set: set on .Values is a store outside");
	kd_arena_adopt(&data, &loc);
	kd_buf_reset(&out);
	rc = kd_tmpl_exec_local(t, "r.yaml", dot, &loc, &out, &shared, &err);
	is_str(out.ptr, out.len, "y", "lazy set: the next execution sees the stored dict");
	kd_buf_free(&out);
	kd_tmpl_free(t);
	kd_arena_free(&loc);
	kd_arena_free(&data);
}

/* tpl's definitions go away after it, replacements of earlier ones too
 * (Helm runs tpl on a clone of the set). */
static void test_tpl_scope(void)
{
	out_is("{{ define \"n\" }}old{{ end }}"
	       "{{ tpl \"{{ define \\\"n\\\" }}new{{ end }}{{ include \\\"n\\\" . }}\" . }}"
	       "-{{ include \"n\" . }}",
	       "new-old", "tpl: a define replacing an earlier one lasts for the tpl only");
}

int main(void)
{
	render_funcs = kd_chart_funcs();
	test_lazy_local();
	test_tpl_scope();
	test_chart_funcs();
	test_funcs();
	test_more_funcs();
	test_files();
	test_limits();
	test_set();
	return tap_done();
}
