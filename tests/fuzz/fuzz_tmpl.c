/* Fuzz target: the input is a template, parsed and executed against fixed
 * data in Helm's shape. Any crash, sanitizer report, leak or hang is a bug;
 * template errors are expected. */
#include "base/arena.h"
#include "base/buf.h"
#include "json/json.h"
#include "tmpl/tmpl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char data[] =
	"{\"Values\":{\"a\":1,\"s\":\"x\",\"l\":[1,2,{\"k\":\"v\"}],"
	"\"m\":{\"b\":true,\"n\":null}},\"s\":\"str\",\"l\":[\"a\",\"b\"],"
	"\"Files\":{\"a/b.txt\":\"x\\ny\\n\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	kd_arena a = KD_ARENA_INIT(64u << 20);
	kd_json_decode_opts jo = {1};
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(1 << 20);
	kd_value *dot;
	kd_tmpl *t = NULL;

	if (kd_json_decode(&dot, &a, data, strlen(data), "data", &jo, &err) ||
	    kd_tmpl_new(&t, &err))
		abort();
	kd_tmpl_set_files(t, kd_map_getz(dot, "Files"));
	if (!kd_tmpl_parse(t, "t", (const char *)buf, n, &err))
		kd_tmpl_exec(t, "t", dot, &out, &err);
	kd_buf_free(&out);
	kd_tmpl_free(t);
	kd_arena_free(&a);
	return 0;
}
