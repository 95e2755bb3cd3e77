/* Writing kd_value as YAML with libyaml's emitter, the bytes go-yaml
 * v2.4.0's Marshal writes (yaml.h, ENCODING): styles chosen from how a
 * string would read back (scalar.c), keys sorted as Go's map keys. */
#include "yaml/yaml.h"

#include "base/limits.h"
#include "base/num.h"
#include "yaml/internal.h"

#include <yaml.h>

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct enc {
	yaml_emitter_t em;
	kd_buf *out;
	const kd_yaml_encode_opts *opts;
	kd_err *err;
} enc;

static int write_out(void *data, unsigned char *buffer, size_t size)
{
	return kd_buf_put(data, buffer, size) == 0;
}

static int emit(enc *e, yaml_event_t *ev)
{
	if (yaml_emitter_emit(&e->em, ev))
		return 0;
	if (e->out->failed == KD_ELIMIT)
		return kd_err_set(e->err, KD_ELIMIT,
				  "YAML output exceeds its limit of %zu bytes",
				  e->out->limit);
	if (e->out->failed || e->em.error == YAML_MEMORY_ERROR)
		return kd_err_set(e->err, KD_ENOMEM,
				  "out of memory encoding YAML");
	return kd_err_set(e->err, KD_EINTERNAL, "libyaml emitter: %s",
			  e->em.problem ? e->em.problem : "unknown error");
}

static int emit_scalar(enc *e, const char *tag, const char *s, size_t n,
		       yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (n > INT_MAX)
		return kd_err_set(e->err, KD_ELIMIT,
				  "a string of %zu bytes is too long for YAML",
				  n);
	if (!yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)tag,
					  (yaml_char_t *)s, (int)n, !tag, !tag,
					  style))
		return kd_err_set(e->err, KD_ENOMEM,
				  "out of memory encoding YAML");
	return emit(e, &ev);
}

/* go-yaml v2's encodeBase64: lines of 70, each ending in "\n" once there is
 * more than one. */
static char *b64_encode(const char *s, size_t n, size_t *outlen)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t enc_len = (n + 2) / 3 * 4, lines = enc_len / 70 + 1;
	char *tmp = malloc(enc_len * 2 + lines + 1), *out;
	size_t i, o = 0, k = 0;

	if (!tmp)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 |
			     (unsigned char)s[i + 1] << 8 |
			     (unsigned char)s[i + 2];

		tmp[o++] = abc[v >> 18];
		tmp[o++] = abc[(v >> 12) & 63];
		tmp[o++] = abc[(v >> 6) & 63];
		tmp[o++] = abc[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		tmp[o++] = abc[v >> 18];
		tmp[o++] = abc[(v >> 12) & 63];
		tmp[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		tmp[o++] = '=';
	}
	out = tmp + enc_len;
	for (i = 0; i < enc_len; i += 70) {
		size_t j = i + 70 < enc_len ? i + 70 : enc_len;

		memcpy(out + k, tmp + i, j - i);
		k += j - i;
		if (lines > 1)
			out[k++] = '\n';
	}
	memmove(tmp, out, k);
	tmp[k] = '\0';
	*outlen = k;
	return tmp;
}

/* go-yaml v2's stringv. */
static int emit_string(enc *e, const char *s, size_t n)
{
	yaml_scalar_style_t style;
	scalar_res r;
	char *b64;
	size_t bn;
	int rc;

	if (!kd_yaml_utf8_valid(s, n)) {
		b64 = b64_encode(s, n, &bn);
		if (!b64)
			return kd_err_set(e->err, KD_ENOMEM,
					  "out of memory encoding YAML");
		rc = emit_scalar(e, TAG_BINARY, b64, bn,
				 memchr(b64, '\n', bn)
					 ? YAML_LITERAL_SCALAR_STYLE
					 : YAML_PLAIN_SCALAR_STYLE);
		free(b64);
		return rc;
	}
	if (memchr(s, '\n', n)) {
		style = YAML_LITERAL_SCALAR_STYLE;
	} else {
		if (!kd_yaml_resolve(s, n, true, &r))
			return kd_err_set(e->err, KD_ENOMEM,
					  "out of memory encoding YAML");
		style = r.t == R_STR && !kd_yaml_base60_float(s, n)
			? YAML_PLAIN_SCALAR_STYLE
			: YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	}
	return emit_scalar(e, NULL, s, n, style);
}

/* A key decoded to code points, as Go's []rune(string) does (an invalid
 * byte is U+FFFD). */
typedef struct sort_key {
	const kd_map_ent *e;
	uint32_t *r;
	size_t n;
} sort_key;

static size_t to_runes(const char *str, size_t n, uint32_t *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k = 0;

	while (i < n) {
		size_t w = 1;

		if (s[i] < 0x80) {
			out[k++] = s[i];
		} else if (kd_yaml_utf8_valid(str + i, n - i >= 2 ? 2 : 1)) {
			out[k++] = (uint32_t)(s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F);
			w = 2;
		} else if (n - i >= 3 && kd_yaml_utf8_valid(str + i, 3)) {
			out[k++] = (uint32_t)(s[i] & 0x0F) << 12 |
				   (uint32_t)(s[i + 1] & 0x3F) << 6 |
				   (s[i + 2] & 0x3F);
			w = 3;
		} else if (n - i >= 4 && kd_yaml_utf8_valid(str + i, 4)) {
			out[k++] = (uint32_t)(s[i] & 0x07) << 18 |
				   (uint32_t)(s[i + 1] & 0x3F) << 12 |
				   (uint32_t)(s[i + 2] & 0x3F) << 6 |
				   (s[i + 3] & 0x3F);
			w = 4;
		} else {
			out[k++] = 0xFFFD;
		}
		i += w;
	}
	return k;
}

/* unicode.IsLetter: exact for ASCII and Latin-1; above that, everything
 * but the punctuation, symbol, mark and private-use blocks. */
static bool rune_letter(uint32_t r)
{
	if (r < 0x80)
		return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
	if (r < 0xC0)
		return r == 0xAA || r == 0xB5 || r == 0xBA;
	if (r < 0x100)
		return r != 0xD7 && r != 0xF7;
	return !((r >= 0x300 && r <= 0x36F) || (r >= 0x2000 && r <= 0x2BFF) ||
		 (r >= 0x3000 && r <= 0x303F) || (r >= 0xD800 && r <= 0xF8FF) ||
		 (r >= 0xFE00 && r <= 0xFE6F) || (r >= 0xFF00 && r <= 0xFF20) ||
		 (r >= 0xFFF0 && r <= 0xFFFF) ||
		 (r >= 0x1F000 && r <= 0x1FAFF) || r >= 0xE0000);
}

static bool rune_digit(uint32_t r)
{
	return r >= '0' && r <= '9';
}

/* go-yaml v2's keyList.Less for two strings. */
static bool key_less(const sort_key *a, const sort_key *b)
{
	const uint32_t *ar = a->r, *br = b->r;
	size_t i, j, ai, bi;

	for (i = 0; i < a->n && i < b->n; i++) {
		bool al, bl;
		uint64_t an = 0, bn = 0;

		if (ar[i] == br[i])
			continue;
		al = rune_letter(ar[i]);
		bl = rune_letter(br[i]);
		if (al && bl)
			return ar[i] < br[i];
		if (al || bl)
			return bl;
		if (ar[i] == '0' || br[i] == '0') {
			for (j = i; j-- > 0 && rune_digit(ar[j]);) {
				if (ar[j] != '0') {
					an = bn = 1;
					break;
				}
			}
		}
		/* Go's int64 arithmetic wraps; so does this. */
		for (ai = i; ai < a->n && rune_digit(ar[ai]); ai++)
			an = an * 10 + (ar[ai] - '0');
		for (bi = i; bi < b->n && rune_digit(br[bi]); bi++)
			bn = bn * 10 + (br[bi] - '0');
		if (an != bn)
			return (int64_t)an < (int64_t)bn;
		if (ai != bi)
			return ai < bi;
		return ar[i] < br[i];
	}
	return a->n < b->n;
}

static int key_cmp(const void *x, const void *y)
{
	const sort_key *a = x, *b = y;

	if (key_less(a, b))
		return -1;
	if (key_less(b, a))
		return 1;
	/* Only keys whose invalid bytes differ get here. */
	return kd_bytes_cmp(a->e->key, a->e->klen, b->e->key, b->e->klen);
}

static int emit_node(enc *e, const kd_value *v, int depth);

static int emit_entry(enc *e, const kd_map_ent *ent, int depth)
{
	int rc = emit_string(e, ent->key, ent->klen);

	return rc ? rc : emit_node(e, ent->val, depth + 1);
}

static int emit_map(enc *e, const kd_value *v, int depth)
{
	sort_key *keys = NULL;
	uint32_t *runes = NULL;
	yaml_event_t ev;
	size_t i, total = 0, used = 0;
	int rc;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
					    YAML_BLOCK_MAPPING_STYLE);
	rc = emit(e, &ev);
	if (rc)
		goto cleanup;
	if (e->opts && e->opts->sort_keys && v->u.map.len > 1) {
		for (i = 0; i < v->u.map.len; i++)
			total += v->u.map.ents[i].klen;
		keys = malloc(v->u.map.len * sizeof(*keys));
		runes = malloc((total ? total : 1) * sizeof(*runes));
		if (!keys || !runes) {
			rc = kd_err_set(e->err, KD_ENOMEM,
					"out of memory encoding YAML");
			goto cleanup;
		}
		for (i = 0; i < v->u.map.len; i++) {
			const kd_map_ent *ent = &v->u.map.ents[i];

			keys[i].e = ent;
			keys[i].r = runes + used;
			keys[i].n = to_runes(ent->key, ent->klen, runes + used);
			used += keys[i].n;
		}
		qsort(keys, v->u.map.len, sizeof(*keys), key_cmp);
	}
	for (i = 0; i < v->u.map.len; i++) {
		rc = emit_entry(e, keys ? keys[i].e : &v->u.map.ents[i], depth);
		if (rc)
			goto cleanup;
	}
	yaml_mapping_end_event_initialize(&ev);
	rc = emit(e, &ev);
cleanup:
	free(keys);
	free(runes);
	return rc;
}

static int emit_node(enc *e, const kd_value *v, int depth)
{
	char num[32];
	kd_buf fb = KD_BUF_INIT(64);
	yaml_event_t ev;
	size_t i, n;
	int rc;

	switch (v->type) {
	case KD_NULL:
		return emit_scalar(e, NULL, "null", 4, YAML_PLAIN_SCALAR_STYLE);
	case KD_BOOL:
		return v->u.b ? emit_scalar(e, NULL, "true", 4,
					    YAML_PLAIN_SCALAR_STYLE)
			      : emit_scalar(e, NULL, "false", 5,
					    YAML_PLAIN_SCALAR_STYLE);
	case KD_INT:
		n = (size_t)snprintf(num, sizeof(num), "%" PRId64, v->u.i);
		return emit_scalar(e, NULL, num, n, YAML_PLAIN_SCALAR_STYLE);
	case KD_FLOAT:
		if (isnan(v->u.f))
			return emit_scalar(e, NULL, ".nan", 4,
					   YAML_PLAIN_SCALAR_STYLE);
		if (isinf(v->u.f))
			return emit_scalar(e, NULL, v->u.f > 0 ? ".inf" : "-.inf",
					   v->u.f > 0 ? 4 : 5,
					   YAML_PLAIN_SCALAR_STYLE);
		rc = kd_num_format_float(&fb, v->u.f, 'g', -1);
		if (!rc)
			rc = emit_scalar(e, NULL, fb.ptr, fb.len,
					 YAML_PLAIN_SCALAR_STYLE);
		else
			rc = kd_err_set(e->err, KD_ENOMEM,
					"out of memory encoding YAML");
		kd_buf_free(&fb);
		return rc;
	case KD_STR: return emit_string(e, v->u.str.ptr, v->u.str.len);
	case KD_LIST:
	case KD_MAP: break;
	}
	if (depth >= KD_LIMIT_DEPTH)
		return kd_err_set(e->err, KD_ELIMIT,
				  "value to encode as YAML nests deeper than %d "
				  "levels",
				  KD_LIMIT_DEPTH);
	if (v->type == KD_MAP)
		return emit_map(e, v, depth);
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
					     YAML_BLOCK_SEQUENCE_STYLE);
	rc = emit(e, &ev);
	for (i = 0; !rc && i < v->u.list.len; i++)
		rc = emit_node(e, v->u.list.items[i], depth + 1);
	if (rc)
		return rc;
	yaml_sequence_end_event_initialize(&ev);
	return emit(e, &ev);
}

int kd_yaml_encode(kd_buf *out, const kd_value *v,
		   const kd_yaml_encode_opts *opts, kd_err *err)
{
	enc e;
	yaml_event_t ev;
	size_t start = out->len;
	bool have_emitter = false;
	int rc;

	e.out = out;
	e.opts = opts;
	e.err = err;
	if (out->failed) {
		rc = kd_err_set(err, out->failed,
				"YAML output buffer already failed");
		goto cleanup;
	}
	if (!yaml_emitter_initialize(&e.em)) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory encoding YAML");
		goto cleanup;
	}
	have_emitter = true;
	yaml_emitter_set_output(&e.em, write_out, out);
	yaml_emitter_set_unicode(&e.em, 1);
	yaml_emitter_set_indent(&e.em, 2);
	yaml_emitter_set_width(&e.em, 80);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	rc = emit(&e, &ev);
	if (rc)
		goto cleanup;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	rc = emit(&e, &ev);
	if (rc)
		goto cleanup;
	rc = emit_node(&e, v, 0);
	if (rc)
		goto cleanup;
	yaml_document_end_event_initialize(&ev, 1);
	rc = emit(&e, &ev);
	if (rc)
		goto cleanup;
	/* go-yaml v2 clears this too, so no "..." follows a document that
	 * ends in an open-ended scalar. */
	e.em.open_ended = 0;
	yaml_stream_end_event_initialize(&ev);
	rc = emit(&e, &ev);
cleanup:
	if (have_emitter)
		yaml_emitter_delete(&e.em);
	if (rc && !out->failed && out->len > start) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return rc;
}

int kd_yaml_encode_all(kd_buf *out, const kd_value *docs,
		       const kd_yaml_encode_opts *opts, kd_err *err)
{
	size_t i;
	int rc;

	if (!docs || docs->type != KD_LIST)
		return kd_err_set(err, KD_EINVAL,
				  "kd_yaml_encode_all needs a list of documents, "
				  "not a %s",
				  docs ? kd_vtype_name(docs->type) : "NULL");
	for (i = 0; i < docs->u.list.len; i++) {
		if (i && kd_buf_puts(out, "---\n"))
			return kd_err_set(err, out->failed,
					  "YAML output exceeds its limit of %zu "
					  "bytes",
					  out->limit);
		rc = kd_yaml_encode(out, docs->u.list.items[i], opts, err);
		if (rc)
			return rc;
	}
	return 0;
}
