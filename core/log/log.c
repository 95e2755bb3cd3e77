#include "log/log.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "json/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static kd_log_level min_level = KD_LOG_INFO;
static kd_log_format log_format = KD_LOG_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error",
					  "off"};

/* Strings no line may show (decrypted secrets), heap copies held for the
 * process; at most KD_LIMIT_LOG_SECRETS, the first ones kept. */
static struct {
	char *ptr;
	size_t len;
} secrets[KD_LIMIT_LOG_SECRETS];
static size_t nsecrets;

int kd_log_add_secret(const char *s, size_t n)
{
	size_t i;

	if (n < KD_LOG_SECRET_MIN)
		return 0;
	for (i = 0; i < nsecrets; i++)
		if (secrets[i].len == n && !memcmp(secrets[i].ptr, s, n))
			return 0;
	if (nsecrets == KD_LIMIT_LOG_SECRETS)
		return KD_ELIMIT;
	secrets[nsecrets].ptr = malloc(n);
	if (!secrets[nsecrets].ptr)
		return KD_ENOMEM;
	memcpy(secrets[nsecrets].ptr, s, n);
	secrets[nsecrets].len = n;
	nsecrets++;
	return 0;
}

/* The line with every registered secret replaced by "(secret)". */
static void mask_secrets(kd_buf *line)
{
	kd_buf out = KD_BUF_INIT(1 << 20);
	size_t at = 0, i;

	if (!nsecrets || line->failed)
		return;
	while (at < line->len) {
		size_t hit = 0;

		for (i = 0; i < nsecrets && !hit; i++)
			if (secrets[i].len <= line->len - at &&
			    !memcmp(line->ptr + at, secrets[i].ptr, secrets[i].len))
				hit = secrets[i].len;
		if (hit) {
			kd_buf_puts(&out, "(secret)");
			at += hit;
		} else {
			kd_buf_putc(&out, line->ptr[at++]);
		}
	}
	memset(line->ptr, 0, line->len);
	kd_buf_free(line);
	*line = out;
}

void kd_log_setup(kd_log_level min, kd_log_format format)
{
	min_level = min;
	log_format = format;
}

kd_log_level kd_log_min_level(void)
{
	return min_level;
}

int kd_log_parse_level(const char *s, kd_log_level *out)
{
	int i;

	for (i = 0; i <= KD_LOG_OFF; i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (kd_log_level)i;
			return 0;
		}
	}
	if (!strcmp(s, "warning")) {
		*out = KD_LOG_WARN;
		return 0;
	}
	return -1;
}

int kd_log_parse_format(const char *s, kd_log_format *out)
{
	if (!strcmp(s, "text"))
		*out = KD_LOG_TEXT;
	else if (!strcmp(s, "json"))
		*out = KD_LOG_JSON;
	else
		return -1;
	return 0;
}

static void put_time(kd_buf *b)
{
	struct timeval tv;
	struct tm tm;
	char s[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	kd_buf_printf(b, "%s.%03dZ", s, (int)(tv.tv_usec / 1000));
}

/* Under systemd, stderr is the journal when $JOURNAL_STREAM names it
 * ("dev:inode" of the stream): then text lines carry a syslog priority
 * prefix instead of a time, which the journal records itself. */
static int journal_stream(void)
{
	static int known = -1;
	const char *v;
	unsigned long long dev, ino;
	struct stat st;

	if (known >= 0)
		return known;
	known = 0;
	v = getenv("JOURNAL_STREAM");
	if (v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		known = 1;
	return known;
}

static void put_json_string(kd_buf *b, const char *s, size_t n)
{
	kd_value v = {.type = KD_STR, .u.str = {s, n}};

	kd_json_encode(b, &v, NULL, NULL);
}

/* A text-format value: plain when it is a simple token, JSON otherwise, so
 * the line stays readable and still unambiguous. */
static void put_text_value(kd_buf *b, const kd_value *v)
{
	size_t i;

	if (v->type == KD_STR) {
		int plain = v->u.str.len > 0;

		for (i = 0; i < v->u.str.len && plain; i++) {
			unsigned char c = (unsigned char)v->u.str.ptr[i];

			if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f)
				plain = 0;
		}
		if (plain) {
			kd_buf_put(b, v->u.str.ptr, v->u.str.len);
			return;
		}
	}
	kd_json_encode(b, v, NULL, NULL);
}

void kd_log_fields(kd_log_level l, const char *msg, const kd_value *fields)
{
	kd_buf b = KD_BUF_INIT(1 << 20);
	size_t i, n = fields && fields->type == KD_MAP ? fields->u.map.len : 0;
	static const char *const upper[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

	if (l < min_level || l >= KD_LOG_OFF)
		return;
	if (log_format == KD_LOG_JSON) {
		kd_buf_puts(&b, "{\"time\":\"");
		put_time(&b);
		kd_buf_printf(&b, "\",\"level\":\"%s\",\"msg\":", level_names[l]);
		put_json_string(&b, msg, strlen(msg));
		for (i = 0; i < n; i++) {
			const kd_map_ent *e = &fields->u.map.ents[i];

			kd_buf_putc(&b, ',');
			put_json_string(&b, e->key, e->klen);
			kd_buf_putc(&b, ':');
			if (kd_json_encode(&b, e->val, NULL, NULL))
				kd_buf_puts(&b, "null");
		}
		kd_buf_puts(&b, "}\n");
	} else {
		static const char prio[] = {'7', '6', '4', '3'};

		if (journal_stream()) {
			kd_buf_printf(&b, "<%c>%s", prio[l], msg);
		} else {
			put_time(&b);
			kd_buf_printf(&b, " %s %s", upper[l], msg);
		}
		for (i = 0; i < n; i++) {
			const kd_map_ent *e = &fields->u.map.ents[i];

			kd_buf_puts(&b, i ? " " : "  ");
			kd_buf_put(&b, e->key, e->klen);
			kd_buf_putc(&b, '=');
			put_text_value(&b, e->val);
		}
		kd_buf_putc(&b, '\n');
	}
	mask_secrets(&b);
	/* One write per line keeps lines whole when several processes (an
	 * agent and its children) share stderr. */
	if (!b.failed) {
		ssize_t w = write(STDERR_FILENO, b.ptr, b.len);

		(void)w; /* nowhere left to report a failing stderr */
	}
	kd_buf_free(&b);
}

void kd_log(kd_log_level l, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (l < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kd_log_fields(l, msg, NULL);
}
