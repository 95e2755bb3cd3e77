/* Sprig's date functions over a time value: now, date, dateInZone,
 * htmlDate, htmlDateInZone, unixEpoch, with Go's reference-time layouts.
 * A time is a map {unix, nsec, utc} that the execution registers as a
 * time object. Zones: the local zone (TZ) and UTC. */
#include "tmpl/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"};
static const char *const days[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"};

static bool has(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Go's time.Format for one broken-down time. */
static void go_format(kd_buf *b, const char *l, const struct tm *tm,
		      long nsec, long off, const char *zone)
{
	while (*l) {
		int h12 = tm->tm_hour % 12 ? tm->tm_hour % 12 : 12;

		if (has(l, "January")) {
			kd_buf_puts(b, months[tm->tm_mon]);
			l += 7;
		} else if (has(l, "Jan")) {
			kd_buf_printf(b, "%.3s", months[tm->tm_mon]);
			l += 3;
		} else if (has(l, "Monday")) {
			kd_buf_puts(b, days[tm->tm_wday]);
			l += 6;
		} else if (has(l, "Mon")) {
			kd_buf_printf(b, "%.3s", days[tm->tm_wday]);
			l += 3;
		} else if (has(l, "MST")) {
			kd_buf_puts(b, zone);
			l += 3;
		} else if (has(l, "2006")) {
			kd_buf_printf(b, "%04d", tm->tm_year + 1900);
			l += 4;
		} else if (has(l, "002")) {
			kd_buf_printf(b, "%03d", tm->tm_yday + 1);
			l += 3;
		} else if (has(l, "01")) {
			kd_buf_printf(b, "%02d", tm->tm_mon + 1);
			l += 2;
		} else if (has(l, "02")) {
			kd_buf_printf(b, "%02d", tm->tm_mday);
			l += 2;
		} else if (has(l, "03")) {
			kd_buf_printf(b, "%02d", h12);
			l += 2;
		} else if (has(l, "04")) {
			kd_buf_printf(b, "%02d", tm->tm_min);
			l += 2;
		} else if (has(l, "05")) {
			kd_buf_printf(b, "%02d", tm->tm_sec);
			l += 2;
		} else if (has(l, "06")) {
			kd_buf_printf(b, "%02d", (tm->tm_year + 1900) % 100);
			l += 2;
		} else if (has(l, "15")) {
			kd_buf_printf(b, "%02d", tm->tm_hour);
			l += 2;
		} else if (has(l, "_2")) {
			kd_buf_printf(b, "%2d", tm->tm_mday);
			l += 2;
		} else if (*l == '1') {
			kd_buf_printf(b, "%d", tm->tm_mon + 1);
			l++;
		} else if (*l == '2') {
			kd_buf_printf(b, "%d", tm->tm_mday);
			l++;
		} else if (*l == '3') {
			kd_buf_printf(b, "%d", h12);
			l++;
		} else if (*l == '4') {
			kd_buf_printf(b, "%d", tm->tm_min);
			l++;
		} else if (*l == '5') {
			kd_buf_printf(b, "%d", tm->tm_sec);
			l++;
		} else if (has(l, "PM") || has(l, "pm")) {
			bool pm = tm->tm_hour >= 12;

			kd_buf_puts(b, l[0] == 'P' ? (pm ? "PM" : "AM") : (pm ? "pm" : "am"));
			l += 2;
		} else if ((*l == '-' || *l == 'Z') &&
			   (has(l + 1, "07:00") || has(l + 1, "0700") || has(l + 1, "07"))) {
			bool z = *l == 'Z', colon = has(l + 1, "07:00");
			int len = colon ? 6 : has(l + 1, "0700") ? 5 : 3;
			long a = off < 0 ? -off : off;

			if (z && off == 0) {
				kd_buf_putc(b, 'Z');
			} else {
				kd_buf_printf(b, "%c%02ld", off < 0 ? '-' : '+', a / 3600);
				if (len > 3)
					kd_buf_printf(b, "%s%02ld", colon ? ":" : "",
						      a / 60 % 60);
			}
			l += len;
		} else if ((*l == '.' || *l == ',') && (l[1] == '0' || l[1] == '9')) {
			int n = 1, k;
			char d = l[1], digits[10];

			while (l[n] == d)
				n++;
			if (l[n] >= '0' && l[n] <= '9') {
				kd_buf_putc(b, *l++);
				continue;
			}
			snprintf(digits, sizeof digits, "%09ld", nsec);
			n--;
			if (n > 9)
				n = 9;
			if (d == '9') {
				k = n;
				while (k > 0 && digits[k - 1] == '0')
					k--;
				if (k > 0) {
					kd_buf_putc(b, *l);
					kd_buf_put(b, digits, (size_t)k);
				}
			} else {
				kd_buf_putc(b, *l);
				kd_buf_put(b, digits, (size_t)n);
			}
			l += n + 1;
		} else {
			kd_buf_putc(b, *l++);
		}
	}
}

static kd_value *time_value(kd_tmpl_ex *x, int64_t unix, long nsec, bool utc)
{
	kd_value *m = kd_value_map(x->a, 3);

	if (!m || kd_map_setz(x->a, m, "unix", kd_value_int(x->a, unix)) ||
	    kd_map_setz(x->a, m, "nsec", kd_value_int(x->a, nsec)) ||
	    kd_map_setz(x->a, m, "utc", kd_value_bool(x->a, utc)))
		kd_tmpl_errorf(x, "out of memory");
	kd_tmpl_add_obj(x, m, KD_TMPL_OBJ_TIME);
	return m;
}

/* Sprig's date accepts a time, or a number of seconds since the epoch. */
static bool get_time(kd_tmpl_ex *x, const kd_value *v, int64_t *unix,
		     long *nsec)
{
	if (v && v->type == KD_MAP && kd_tmpl_obj_kind(x, v) == KD_TMPL_OBJ_TIME) {
		*unix = kd_map_getz(v, "unix")->u.i;
		*nsec = (long)kd_map_getz(v, "nsec")->u.i;
		return true;
	}
	*nsec = 0;
	if (v && v->type == KD_INT) {
		*unix = v->u.i;
		return true;
	}
	*unix = (int64_t)time(NULL);
	return false;
}

static kd_value *format(kd_tmpl_ex *x, const kd_value *layout,
			const kd_value *d, const char *zone)
{
	kd_buf b = KD_BUF_INIT(1 << 20);
	int64_t unix;
	long nsec, off = 0;
	struct tm tm;
	time_t t;
	char zn[16] = "UTC";

	get_time(x, d, &unix, &nsec);
	t = (time_t)unix;
	if (zone && strcmp(zone, "UTC") && strcmp(zone, "Local") && *zone)
		kd_tmpl_fail(x, 0, "unknown time zone %s", zone);
	if (!zone || !strcmp(zone, "Local")) {
		localtime_r(&t, &tm);
		off = tm.tm_gmtoff;
		snprintf(zn, sizeof zn, "%s", tm.tm_zone ? tm.tm_zone : "UTC");
	} else {
		gmtime_r(&t, &tm);
	}
	go_format(&b, layout->u.str.ptr, &tm, nsec, off, zn);
	return kd_tmpl_buf_value(x, &b);
}

#define TFN(name) kd_value *name(kd_tmpl_ex *x, kd_value **argv, int argc); \
	kd_value *name(kd_tmpl_ex *x, kd_value **argv, int argc)

TFN(kd_tmpl_fn_now)
{
	struct timespec ts;

	(void)argv;
	(void)argc;
	clock_gettime(CLOCK_REALTIME, &ts);
	return time_value(x, (int64_t)ts.tv_sec, ts.tv_nsec, false);
}

TFN(kd_tmpl_fn_date) { (void)argc; return format(x, argv[0], argv[1], NULL); }

TFN(kd_tmpl_fn_dateInZone)
{
	(void)argc;
	return format(x, argv[0], argv[1], argv[2]->u.str.ptr);
}

TFN(kd_tmpl_fn_htmlDate)
{
	kd_value l = {KD_STR, {0}};

	(void)argc;
	l.u.str.ptr = "2006-01-02";
	l.u.str.len = 10;
	return format(x, &l, argv[0], NULL);
}

TFN(kd_tmpl_fn_htmlDateInZone)
{
	kd_value l = {KD_STR, {0}};

	(void)argc;
	l.u.str.ptr = "2006-01-02";
	l.u.str.len = 10;
	return format(x, &l, argv[0], argv[1]->u.str.ptr);
}

TFN(kd_tmpl_fn_unixEpoch)
{
	int64_t unix;
	long nsec;
	char t[32];

	(void)argc;
	get_time(x, argv[0], &unix, &nsec);
	snprintf(t, sizeof t, "%lld", (long long)unix);
	return kd_tmpl_str(x, t, strlen(t));
}

/* Functions charts name that kedge cannot run yet: defined, so the chart
 * parses, and an error when a template actually calls one. */
TFN(kd_tmpl_fn_unsupported)
{
	(void)argv;
	(void)argc;
	kd_tmpl_fail(x, KD_EINVAL, "not supported by kedge yet");
}
