/* kd_log: kedge's log lines on stderr. Text by default for people
 * ("2026-11-22T05:10:00.123Z INFO  synced repo  commit=abc123"), or one
 * JSON object per line for log shippers ({"time":…,"level":…,"msg":…,
 * plus the fields}). Lines below the configured level are dropped. Under
 * systemd, when $JOURNAL_STREAM names stderr, text lines have no time and
 * begin with a syslog priority ("<6>synced repo  commit=abc123"; <3>
 * error, <4> warn, <6> info, <7> debug), which the journal reads. */
#ifndef KD_LOG_LOG_H
#define KD_LOG_LOG_H

#include "base/value.h"

typedef enum kd_log_level {
	KD_LOG_DEBUG,
	KD_LOG_INFO,
	KD_LOG_WARN,
	KD_LOG_ERROR,
	KD_LOG_OFF,
} kd_log_level;

typedef enum kd_log_format {
	KD_LOG_TEXT,
	KD_LOG_JSON,
} kd_log_format;

void kd_log_setup(kd_log_level min, kd_log_format format);
kd_log_level kd_log_min_level(void);

/* "debug", "info", "warn", "error", "off" -> level; -1 if unknown. */
int kd_log_parse_level(const char *s, kd_log_level *out);
/* "text" or "json"; -1 if unknown. */
int kd_log_parse_format(const char *s, kd_log_format *out);

/* One line. fields is NULL or a KD_MAP whose entries are appended (in
 * text as key=value, scalars bare and the rest as JSON). */
void kd_log_fields(kd_log_level l, const char *msg, const kd_value *fields);
void kd_log(kd_log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* From now on, every line shows "(secret)" where these bytes would be
 * (strings shorter than KD_LOG_SECRET_MIN are ignored: they would mask
 * ordinary words). KD_ELIMIT past KD_LIMIT_LOG_SECRETS, KD_ENOMEM. */
#define KD_LOG_SECRET_MIN 4
int kd_log_add_secret(const char *s, size_t n);

#endif
