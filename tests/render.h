/* For the template tests (test_tmpl.c: the engine alone; test_sprig.c:
 * with Sprig's and Helm's functions): render a text over JSON data and
 * check its output or its error. Data numbers are float64, as Helm's
 * values are. Each test program sets render_funcs before rendering. */
#ifndef KD_TESTS_RENDER_H
#define KD_TESTS_RENDER_H

#include "tap.h"

#include "base/arena.h"
#include "base/limits.h"
#include "json/json.h"
#include "tmpl/tmpl.h"

#include <stdlib.h>

#define T(s) s, strlen(s)

static const kd_tmpl_funcs *render_funcs;

/* Renders text with data (JSON) through render_funcs and returns a heap
 * string, or NULL with the error message copied into errmsg. */
static char *render(const char *text, const char *data, char *errmsg,
		    size_t errlen, int *code)
{
	kd_arena a = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_json_decode_opts jo = {1};
	kd_buf out = KD_BUF_INIT(1u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *dot = NULL;
	kd_tmpl *t = NULL;
	char *res = NULL;
	int rc;

	*code = 0;
	errmsg[0] = 0;
	rc = kd_json_decode(&dot, &a, data, strlen(data), "data", &jo, &err);
	if (!rc)
		rc = kd_tmpl_new(&t, render_funcs, &err);
	if (!rc)
		rc = kd_tmpl_parse(t, "t", text, strlen(text), &err);
	if (!rc)
		rc = kd_tmpl_exec(t, "t", dot, &out, &err);
	if (rc) {
		snprintf(errmsg, errlen, "%s", err.msg);
		*code = rc;
		kd_buf_free(&out);
	} else {
		res = kd_buf_detach(&out, NULL);
	}
	kd_tmpl_free(t);
	kd_arena_free(&a);
	return res;
}

#define DATA "{\"s\":\"web\",\"n\":8080,\"f\":0.5,\"big\":1000000," \
	"\"t\":true,\"z\":0,\"e\":\"\",\"nil\":null,\"l\":[\"a\",\"b\",\"c\"]," \
	"\"m\":{\"b\":2,\"a\":1},\"em\":{},\"el\":[]," \
	"\"d\":{\"x\":{\"v\":\"deep\"}}}"

static void out_is(const char *text, const char *want, const char *name)
{
	char em[KD_ERR_MSG_MAX];
	int code;
	char *got = render(text, DATA, em, sizeof em, &code);

	if (!got) {
		ok(0, "%s", name);
		diag("error: %s", em);
		return;
	}
	is_strz(got, want, "%s", name);
	free(got);
}

static void err_has(const char *text, const char *sub, int want_code,
		    const char *name)
{
	char em[KD_ERR_MSG_MAX];
	int code;
	char *got = render(text, DATA, em, sizeof em, &code);

	if (got) {
		ok(0, "%s (rendered '%s')", name, got);
		free(got);
		return;
	}
	ok(strstr(em, sub) != NULL && code == want_code, "%s", name);
	if (!strstr(em, sub) || code != want_code)
		diag("error: %s (code %d), wanted '%s'", em, code, sub);
}

#endif
