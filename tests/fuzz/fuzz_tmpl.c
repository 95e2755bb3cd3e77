/* Fuzz target: the input is a template, parsed and executed against fixed
 * data in Helm's shape. Any crash, sanitizer report, leak or hang is a bug;
 * template errors are expected. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "base/arena.h"
#include "base/buf.h"
#include "json/json.h"
#include "chart/funcs.h"
#include "tmpl/tmpl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char data[] =
	"{\"Values\":{\"a\":1,\"s\":\"x\",\"l\":[1,2,{\"k\":\"v\"}],"
	"\"m\":{\"b\":true,\"n\":null}},\"s\":\"str\",\"l\":[\"a\",\"b\"],"
	"\"Files\":{\"a/b.txt\":\"x\\ny\\n\"}}";

/* Key generation and password hashing take up to seconds by design
 * (RSA-4096, bcrypt cost 10, scrypt over 32 MiB) and would only slow the
 * fuzzer down: inputs naming them are skipped, tests/e2e/t0042 covers
 * them. Their parsing siblings (buildCustomCert, decryptAES, the WithKey
 * forms' key parsing) stay in. */
static const char *const slow[] = {
	"genCA", "genSelfSignedCert", "genSignedCert", "genPrivateKey",
	"bcrypt", "htpasswd", "derivePassword",
};

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	kd_arena a = KD_ARENA_INIT(64u << 20);
	kd_json_decode_opts jo = {1};
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(1 << 20);
	kd_value *dot;
	kd_tmpl *t = NULL;
	size_t i;

	for (i = 0; i < sizeof slow / sizeof slow[0]; i++)
		if (memmem(buf, n, slow[i], strlen(slow[i])))
			return 0;
	if (kd_json_decode(&dot, &a, data, strlen(data), "data", &jo, &err) ||
	    kd_tmpl_new(&t, kd_chart_funcs(), &err))
		abort();
	kd_chart_set_files(t, kd_map_getz(dot, "Files"));
	if (!kd_tmpl_parse(t, "t", (const char *)buf, n, &err))
		kd_tmpl_exec(t, "t", dot, &out, &err);
	kd_buf_free(&out);
	kd_tmpl_free(t);
	kd_arena_free(&a);
	return 0;
}
