/* Sprig's date functions over a time value: now, date, dateInZone,
 * htmlDate, htmlDateInZone, unixEpoch, toDate, mustToDate, dateModify,
 * mustDateModify, ago, durationRound and duration, with Go's
 * reference-time layouts, and the methods of a time (.Year, .Format, ...).
 * A time is a map {unix, nsec, utc} that the execution registers as a
 * time object. Zones: the local zone (TZ) and UTC. */
#include "sprig/internal.h"

#include <stdio.h>
#include <stdlib.h>
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
	kd_tmpl_add_obj(x, m, KD_SPRIG_OBJ_TIME);
	return m;
}

/* a time in a fixed zone: "off" seconds east of UTC, named "zone" (Go
 * prints an unnamed one as its offset, +0200) */
static kd_value *fixed_time_value(kd_tmpl_ex *x, int64_t unix, long nsec,
				  long off, const char *name)
{
	kd_value *m = time_value(x, unix, nsec, false);

	if (kd_map_setz(x->a, m, "off", kd_value_int(x->a, off)) ||
	    kd_map_setz(x->a, m, "zone", kd_value_strz(x->a, name)))
		kd_tmpl_errorf(x, "out of memory");
	return m;
}

/* Sprig's date accepts a time, or a number of seconds since the epoch. */
static bool get_time(kd_tmpl_ex *x, const kd_value *v, int64_t *unix,
		     long *nsec)
{
	if (v && v->type == KD_MAP && kd_tmpl_obj_kind(x, v) == KD_SPRIG_OBJ_TIME) {
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

FN(f_now)
{
	struct timespec ts;

	(void)argv;
	(void)argc;
	clock_gettime(CLOCK_REALTIME, &ts);
	return time_value(x, (int64_t)ts.tv_sec, ts.tv_nsec, false);
}

FN(f_date) { (void)argc; return format(x, argv[0], argv[1], NULL); }

FN(f_dateInZone)
{
	(void)argc;
	return format(x, argv[0], argv[1], argv[2]->u.str.ptr);
}

FN(f_htmlDate)
{
	kd_value l = {KD_STR, {0}};

	(void)argc;
	l.u.str.ptr = "2006-01-02";
	l.u.str.len = 10;
	return format(x, &l, argv[0], NULL);
}

FN(f_htmlDateInZone)
{
	kd_value l = {KD_STR, {0}};

	(void)argc;
	l.u.str.ptr = "2006-01-02";
	l.u.str.len = 10;
	return format(x, &l, argv[0], argv[1]->u.str.ptr);
}

FN(f_unixEpoch)
{
	int64_t unix;
	long nsec;
	char t[32];

	(void)argc;
	get_time(x, argv[0], &unix, &nsec);
	snprintf(t, sizeof t, "%lld", (long long)unix);
	return kd_tmpl_str(x, t, strlen(t));
}


/* ---- parsing: Go's time.ParseInLocation(layout, value, time.Local) ---- */

enum {
	T_NONE, T_LONGMONTH, T_MONTH, T_NUMMONTH, T_ZEROMONTH, T_LONGWEEKDAY,
	T_WEEKDAY, T_DAY, T_UNDERDAY, T_ZERODAY, T_UNDERYEARDAY, T_ZEROYEARDAY,
	T_HOUR, T_HOUR12, T_ZEROHOUR12, T_MINUTE, T_ZEROMINUTE, T_SECOND,
	T_ZEROSECOND, T_LONGYEAR, T_YEAR, T_PM, T_pm, T_TZ, T_ISO8601TZ,
	T_ISO8601SECONDSTZ, T_ISO8601SHORTTZ, T_ISO8601COLONTZ,
	T_ISO8601COLONSECONDSTZ, T_NUMTZ, T_NUMSECONDSTZ, T_NUMSHORTTZ,
	T_NUMCOLONTZ, T_NUMCOLONSECONDSTZ, T_FRAC0, T_FRAC9,
};

typedef struct chunk {
	size_t pre;   /* literal bytes before the element */
	int std;
	size_t len;   /* the element's length in the layout */
	int digits;   /* fractional seconds */
} chunk;

/* The next element of a layout, as Go's nextStdChunk finds it. */
static chunk next_chunk(const char *l)
{
	static const struct { const char *s; int std; } tz[] = {
		{"Z070000", T_ISO8601SECONDSTZ}, {"Z07:00:00", T_ISO8601COLONSECONDSTZ},
		{"Z0700", T_ISO8601TZ}, {"Z07:00", T_ISO8601COLONTZ},
		{"Z07", T_ISO8601SHORTTZ}, {"-070000", T_NUMSECONDSTZ},
		{"-07:00:00", T_NUMCOLONSECONDSTZ}, {"-0700", T_NUMTZ},
		{"-07:00", T_NUMCOLONTZ}, {"-07", T_NUMSHORTTZ},
	};
	chunk c = {0, T_NONE, 0, 0};
	size_t i, k;

	for (i = 0; l[i]; i++) {
		const char *p = l + i;

		c.pre = i;
		switch (*p) {
		case 'J':
			if (has(p, "January")) { c.std = T_LONGMONTH; c.len = 7; return c; }
			if (has(p, "Jan")) { c.std = T_MONTH; c.len = 3; return c; }
			break;
		case 'M':
			if (has(p, "Monday")) { c.std = T_LONGWEEKDAY; c.len = 6; return c; }
			if (has(p, "Mon")) { c.std = T_WEEKDAY; c.len = 3; return c; }
			if (has(p, "MST")) { c.std = T_TZ; c.len = 3; return c; }
			break;
		case '0':
			if (p[1] >= '1' && p[1] <= '6') {
				static const int z[] = {T_ZEROMONTH, T_ZERODAY,
					T_ZEROHOUR12, T_ZEROMINUTE, T_ZEROSECOND, T_YEAR};
				c.std = z[p[1] - '1'];
				c.len = 2;
				return c;
			}
			if (p[1] == '0' && p[2] == '2') { c.std = T_ZEROYEARDAY; c.len = 3; return c; }
			break;
		case '1':
			if (p[1] == '5') { c.std = T_HOUR; c.len = 2; return c; }
			c.std = T_NUMMONTH; c.len = 1;
			return c;
		case '2':
			if (has(p, "2006")) { c.std = T_LONGYEAR; c.len = 4; return c; }
			c.std = T_DAY; c.len = 1;
			return c;
		case '_':
			if (p[1] == '2') {
				if (has(p + 1, "2006")) {
					c.pre = i + 1;
					c.std = T_LONGYEAR;
					c.len = 4;
					return c;
				}
				c.std = T_UNDERDAY; c.len = 2;
				return c;
			}
			if (p[1] == '_' && p[2] == '2') { c.std = T_UNDERYEARDAY; c.len = 3; return c; }
			break;
		case '3': c.std = T_HOUR12; c.len = 1; return c;
		case '4': c.std = T_MINUTE; c.len = 1; return c;
		case '5': c.std = T_SECOND; c.len = 1; return c;
		case 'P':
			if (p[1] == 'M') { c.std = T_PM; c.len = 2; return c; }
			break;
		case 'p':
			if (p[1] == 'm') { c.std = T_pm; c.len = 2; return c; }
			break;
		case '-':
		case 'Z':
			for (k = 0; k < sizeof tz / sizeof tz[0]; k++)
				if (tz[k].s[0] == *p && has(p + 1, tz[k].s + 1)) {
					c.std = tz[k].std;
					c.len = strlen(tz[k].s);
					return c;
				}
			break;
		case '.':
		case ',':
			if (p[1] == '0' || p[1] == '9') {
				char ch = p[1];
				size_t j = 1;

				while (p[j] == ch)
					j++;
				if (!(p[j] >= '0' && p[j] <= '9')) {
					c.std = ch == '0' ? T_FRAC0 : T_FRAC9;
					c.len = j;
					c.digits = (int)j - 1;
					return c;
				}
			}
			break;
		}
	}
	c.pre = i;
	c.std = T_NONE;
	return c;
}

static bool isdig(const char *v, size_t n, size_t i)
{
	return i < n && v[i] >= '0' && v[i] <= '9';
}

/* Go's getnum: one or two digits (two when fixed) */
static int getnum(const char *v, size_t n, size_t *used, bool fixed)
{
	if (!isdig(v, n, 0))
		return -1;
	if (!isdig(v, n, 1)) {
		if (fixed)
			return -1;
		*used = 1;
		return v[0] - '0';
	}
	*used = 2;
	return (v[0] - '0') * 10 + v[1] - '0';
}

static int lookup_name(const char *const *tab, int ntab, size_t cut,
		       const char *v, size_t n, size_t *used)
{
	int i;

	for (i = 0; i < ntab; i++) {
		size_t k = cut ? cut : strlen(tab[i]);

		if (n >= k && !strncasecmp(v, tab[i], k)) {
			*used = k;
			return i;
		}
	}
	return -1;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in(int m, int64_t y)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* the local zone's offset at unix time t */
static long local_off(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	return localtime_r(&tt, &tm) ? tm.tm_gmtoff : 0;
}

static void quote_into(char *out, size_t n, const char *s, size_t len)
{
	kd_buf b = KD_BUF_INIT(4096);

	kd_tmpl_quote(&b, s, len);
	snprintf(out, n, "%s", b.failed ? "\"\"" : b.ptr);
	kd_buf_free(&b);
}

/* Where a parsed time lives: UTC, the local zone, or a fixed zone Go
 * makes up for an offset or a zone name the local zone does not have. */
typedef struct tzone {
	bool utc, fixed;
	long off;
	char name[16];
} tzone;

/* What go_parse has read of the value so far, as Go's parse keeps it:
 * month, day and yday are -1 until given. */
typedef struct parsed {
	int64_t year;
	int month, day, yday, hour, min, sec;
	long ns, zoff;
	bool pmset, amset, zset, zutc;
	const char *range; /* the field read out of its range */
	char zname[16];
} parsed;

/* The date elements: years, months, weekdays, days and days of the year.
 * Reads at *vp, past a padding space it skips there (_2); -1: the value
 * does not match. */
static int parse_date_elem(parsed *p, const chunk *c, const char **vp,
			   size_t *np, size_t *used)
{
	const char *v = *vp;
	size_t n = *np;
	int hold = 0;

	switch (c->std) {
	case T_LONGYEAR:
		if (n < 4 || !isdig(v, n, 0) || !isdig(v, n, 1) ||
		    !isdig(v, n, 2) || !isdig(v, n, 3))
			return -1;
		p->year = (v[0] - '0') * 1000 + (v[1] - '0') * 100 +
			  (v[2] - '0') * 10 + v[3] - '0';
		*used = 4;
		break;
	case T_YEAR:
		if (n < 2 || !isdig(v, n, 0) || !isdig(v, n, 1))
			return -1;
		p->year = (v[0] - '0') * 10 + v[1] - '0';
		p->year += p->year >= 69 ? 1900 : 2000;
		*used = 2;
		break;
	case T_LONGMONTH:
	case T_MONTH:
		hold = lookup_name(months, 12, c->std == T_MONTH ? 3 : 0, v, n, used);
		if (hold < 0)
			return -1;
		p->month = hold + 1;
		break;
	case T_NUMMONTH:
	case T_ZEROMONTH:
		p->month = getnum(v, n, used, c->std == T_ZEROMONTH);
		if (p->month < 0)
			return -1;
		if (p->month < 1 || p->month > 12)
			p->range = "month";
		break;
	case T_LONGWEEKDAY:
	case T_WEEKDAY:
		if (lookup_name(days, 7, c->std == T_WEEKDAY ? 3 : 0, v, n, used) < 0)
			return -1;
		break;
	case T_DAY:
	case T_UNDERDAY:
	case T_ZERODAY:
		if (c->std == T_UNDERDAY && n > 0 && v[0] == ' ') {
			*vp = ++v;
			*np = --n;
		}
		p->day = getnum(v, n, used, c->std == T_ZERODAY);
		if (p->day < 0)
			return -1;
		break;
	case T_UNDERYEARDAY:
	case T_ZEROYEARDAY: {
		size_t k = 0;

		for (hold = 0; k < 3 && c->std == T_UNDERYEARDAY && k < n && v[k] == ' '; k++)
			;
		if (n < 3)
			return -1;
		for (; k < 3; k++) {
			if (!isdig(v, n, k))
				return -1;
			hold = hold * 10 + v[k] - '0';
		}
		p->yday = hold;
		*used = 3;
		if (p->yday < 1 || p->yday > 366)
			p->range = "day-of-year";
		break;
	}
	default:
		break;
	}
	return 0;
}

/* The clock elements: hours, minutes, seconds, AM/PM and fractions of a
 * second. rest is the layout after this element: seconds take the
 * fraction the value has unless rest spells it out next. */
static int parse_clock_elem(parsed *p, const chunk *c, const char *rest,
			    const char *v, size_t n, size_t *used)
{
	switch (c->std) {
	case T_HOUR:
		p->hour = getnum(v, n, used, false);
		if (p->hour < 0)
			return -1;
		if (p->hour > 23)
			p->range = "hour";
		break;
	case T_HOUR12:
	case T_ZEROHOUR12:
		p->hour = getnum(v, n, used, c->std == T_ZEROHOUR12);
		if (p->hour < 0)
			return -1;
		if (p->hour > 12)
			p->range = "hour";
		break;
	case T_MINUTE:
	case T_ZEROMINUTE:
		p->min = getnum(v, n, used, c->std == T_ZEROMINUTE);
		if (p->min < 0)
			return -1;
		if (p->min > 59)
			p->range = "minute";
		break;
	case T_SECOND:
	case T_ZEROSECOND: {
		chunk nx;

		p->sec = getnum(v, n, used, c->std == T_ZEROSECOND);
		if (p->sec < 0)
			return -1;
		if (p->sec > 59) {
			p->range = "second";
			break;
		}
		/* fractional seconds the layout does not spell out */
		nx = next_chunk(rest);
		if (n >= *used + 2 && (v[*used] == '.' || v[*used] == ',') &&
		    isdig(v, n, *used + 1) && nx.std != T_FRAC0 && nx.std != T_FRAC9) {
			size_t k = *used + 1, d = 0;

			for (p->ns = 0; isdig(v, n, k); k++, d++)
				if (d < 9)
					p->ns = p->ns * 10 + v[k] - '0';
			for (; d < 9; d++)
				p->ns *= 10;
			*used = k;
		}
		break;
	}
	case T_PM:
	case T_pm:
		if (n < 2)
			return -1;
		if (!strncmp(v, c->std == T_PM ? "PM" : "pm", 2))
			p->pmset = true;
		else if (!strncmp(v, c->std == T_PM ? "AM" : "am", 2))
			p->amset = true;
		else
			return -1;
		*used = 2;
		break;
	case T_FRAC0:
	case T_FRAC9: {
		size_t k = 1, d = 0;

		if (c->std == T_FRAC9 && (n < 1 || (v[0] != '.' && v[0] != ',')))
			break;
		if (n < 1 || (v[0] != '.' && v[0] != ','))
			return -1;
		for (p->ns = 0; isdig(v, n, k); k++, d++)
			if (d < 9)
				p->ns = p->ns * 10 + v[k] - '0';
		if (c->std == T_FRAC0 && d != (size_t)c->digits)
			return -1;
		for (; d < 9; d++)
			p->ns *= 10;
		*used = k;
		break;
	}
	default:
		break;
	}
	return 0;
}

/* A numeric zone offset: -0700, -07:00, Z07:00 and their kin, where a
 * lone Z is UTC. */
static int parse_offset_elem(parsed *p, const chunk *c, const char *v,
			     size_t n, size_t *used)
{
	bool iso = c->std <= T_ISO8601COLONSECONDSTZ;
	bool colon = c->std == T_ISO8601COLONTZ ||
		     c->std == T_ISO8601COLONSECONDSTZ ||
		     c->std == T_NUMCOLONTZ || c->std == T_NUMCOLONSECONDSTZ;
	bool secs = c->std == T_ISO8601SECONDSTZ ||
		    c->std == T_ISO8601COLONSECONDSTZ ||
		    c->std == T_NUMSECONDSTZ || c->std == T_NUMCOLONSECONDSTZ;
	bool shrt = c->std == T_ISO8601SHORTTZ || c->std == T_NUMSHORTTZ;
	size_t want = 3 + (shrt ? 0 : 2 + colon) + (secs ? 2 + colon : 0);
	int hh, mm = 0, ss = 0;

	if (iso && n >= 1 && v[0] == 'Z') {
		*used = 1;
		p->zset = p->zutc = true;
		p->zoff = 0;
		return 0;
	}
	if (n < want || (v[0] != '+' && v[0] != '-') ||
	    !isdig(v, n, 1) || !isdig(v, n, 2))
		return -1;
	hh = (v[1] - '0') * 10 + v[2] - '0';
	if (!shrt) {
		size_t o = 3 + colon;

		if ((colon && v[3] != ':') || !isdig(v, n, o) || !isdig(v, n, o + 1))
			return -1;
		mm = (v[o] - '0') * 10 + v[o + 1] - '0';
		if (secs) {
			o += 2 + colon;
			if ((colon && v[o - 1] != ':') || !isdig(v, n, o) ||
			    !isdig(v, n, o + 1))
				return -1;
			ss = (v[o] - '0') * 10 + v[o + 1] - '0';
		}
	}
	p->zoff = (hh * 3600L + mm * 60L + ss) * (v[0] == '-' ? -1 : 1);
	p->zset = true;
	*used = want;
	return 0;
}

/* A zone name (MST): UTC, or what Go's parseTimeZone takes for one. */
static int parse_zone_elem(parsed *p, const char *v, size_t n, size_t *out)
{
	size_t used = 0;

	if (n >= 3 && !strncmp(v, "UTC", 3)) {
		*out = 3;
		p->zset = p->zutc = true;
		p->zoff = 0;
		return 0;
	}
	/* Go's parseTimeZone: GMT with an hour offset, ChST and MeST, or
	 * three to five capitals (four or five ending in T, or WITA) */
	if (n >= 3 && !strncmp(v, "GMT", 3)) {
		used = 3;
		if (n > 4 && (v[3] == '+' || v[3] == '-') && isdig(v, n, 4)) {
			size_t k = 4;
			long h = 0;

			while (isdig(v, n, k) && h < 100)
				h = h * 10 + v[k++] - '0';
			if (h <= 23)
				used = k;
		}
	} else if (n >= 4 && (!strncmp(v, "ChST", 4) || !strncmp(v, "MeST", 4))) {
		used = 4;
	} else {
		while (used < 6 && used < n && v[used] >= 'A' && v[used] <= 'Z')
			used++;
		if (used < 3 || used == 6 || (used == 5 && v[4] != 'T') ||
		    (used == 4 && v[3] != 'T' && strncmp(v, "WITA", 4)))
			return -1;
	}
	snprintf(p->zname, sizeof p->zname, "%.*s", (int)used, v);
	*out = used;
	return 0;
}

/* One element of the layout, read at *vp: 0 with the bytes it took in
 * *used, or -1 when the value does not match it. */
static int parse_elem(parsed *p, const chunk *c, const char *rest,
		      const char **vp, size_t *np, size_t *used)
{
	switch (c->std) {
	case T_LONGYEAR: case T_YEAR: case T_LONGMONTH: case T_MONTH:
	case T_NUMMONTH: case T_ZEROMONTH: case T_LONGWEEKDAY: case T_WEEKDAY:
	case T_DAY: case T_UNDERDAY: case T_ZERODAY: case T_UNDERYEARDAY:
	case T_ZEROYEARDAY:
		return parse_date_elem(p, c, vp, np, used);
	case T_ISO8601TZ: case T_ISO8601SECONDSTZ: case T_ISO8601SHORTTZ:
	case T_ISO8601COLONTZ: case T_ISO8601COLONSECONDSTZ:
	case T_NUMTZ: case T_NUMSECONDSTZ: case T_NUMSHORTTZ:
	case T_NUMCOLONTZ: case T_NUMCOLONSECONDSTZ:
		return parse_offset_elem(p, c, *vp, *np, used);
	case T_TZ:
		return parse_zone_elem(p, *vp, *np, used);
	default:
		return parse_clock_elem(p, c, rest, *vp, *np, used);
	}
}

/* Go's checks once the value is read: AM/PM, the day of the year against
 * month and day, the day within its month. 0, or -1 with the error in
 * msg. */
static int resolve_date(parsed *p, const char *value, size_t vn, char *msg,
			size_t mn)
{
	char qv[300];

	if (p->pmset && p->hour < 12)
		p->hour += 12;
	else if (p->amset && p->hour == 12)
		p->hour = 0;
	if (p->yday >= 0) {
		int m = 1, d = p->yday;

		if (p->yday > 365 + (days_in(2, p->year) == 29)) {
			quote_into(qv, sizeof qv, value, vn);
			snprintf(msg, mn, "parsing time %s: day-of-year out of range", qv);
			return -1;
		}
		while (d > days_in(m, p->year))
			d -= days_in(m++, p->year);
		if ((p->month >= 0 && p->month != m) || (p->day >= 0 && p->day != d)) {
			quote_into(qv, sizeof qv, value, vn);
			snprintf(msg, mn, "parsing time %s: day-of-year does not match %s",
				 qv, p->month >= 0 && p->month != m ? "month" : "day");
			return -1;
		}
		p->month = m;
		p->day = d;
	}
	if (p->month < 0)
		p->month = 1;
	if (p->day < 0)
		p->day = 1;
	if (p->day < 1 || p->day > days_in(p->month, p->year)) {
		quote_into(qv, sizeof qv, value, vn);
		snprintf(msg, mn, "parsing time %s: day out of range", qv);
		return -1;
	}
	return 0;
}

/* *unix, read as a wall clock, placed in the zone the value named: UTC,
 * the local zone, or a fixed zone that *z describes. */
static void place_zone(const parsed *p, int64_t *unix, tzone *z)
{
	long zoff = p->zoff;

	memset(z, 0, sizeof *z);
	if (p->zset && p->zutc) {
		*unix -= zoff;
		z->utc = true;
	} else if (p->zset || p->zname[0]) {
		/* an offset or a zone name: the local zone when it has them at
		 * that instant, else a fixed zone (a name alone: offset 0, or
		 * GMT+h) */
		int64_t civil = *unix;
		time_t tt;
		struct tm tm;

		if (!p->zset && !strncmp(p->zname, "GMT", 3))
			zoff = atol(p->zname + 3) * 3600L;
		if (!p->zset) {
			long off = local_off(civil);

			off = local_off(civil - off);
			tt = (time_t)(civil - off);
			if (localtime_r(&tt, &tm) && tm.tm_zone &&
			    !strcmp(tm.tm_zone, p->zname)) {
				*unix = civil - off;
				return;
			}
		}
		*unix = civil - zoff;
		tt = (time_t)*unix;
		if (p->zset && localtime_r(&tt, &tm) && tm.tm_gmtoff == zoff &&
		    (!p->zname[0] || (tm.tm_zone && !strcmp(tm.tm_zone, p->zname))))
			return;
		z->fixed = true;
		z->off = zoff;
		snprintf(z->name, sizeof z->name, "%s", p->zname);
	} else {
		/* wall clock in the local zone: the offset at that instant */
		long off = local_off(*unix);

		off = local_off(*unix - off);
		*unix -= off;
	}
}

/* Go's time.Parse: the layout's elements in turn, then the checks, then
 * the zone. 0, or -1 with Go's ParseError text in msg. */
static int go_parse(const char *layout, const char *value, size_t vn,
		    int64_t *unix, long *nsec, tzone *z, char *msg, size_t mn)
{
	const char *l = layout, *v = value;
	size_t n = vn;
	parsed p = {.month = -1, .day = -1, .yday = -1};
	char ql[300], qv[300], qe[300], qs[300];

	for (;;) {
		chunk c = next_chunk(l);
		const char *elem = l + c.pre;
		size_t used = 0;

		if (n < c.pre || memcmp(v, l, c.pre)) {
			quote_into(qe, sizeof qe, v, n);
			quote_into(qs, sizeof qs, l, c.pre);
			goto bad;
		}
		v += c.pre;
		n -= c.pre;
		if (c.std == T_NONE) {
			if (n) {
				quote_into(qv, sizeof qv, value, vn);
				quote_into(qe, sizeof qe, v, n);
				snprintf(msg, mn, "parsing time %s: extra text: %s", qv, qe);
				return -1;
			}
			break;
		}
		l = elem + c.len;
		if (parse_elem(&p, &c, l, &v, &n, &used)) {
			quote_into(qe, sizeof qe, v, n);
			quote_into(qs, sizeof qs, elem, c.len);
			goto bad;
		}
		if (p.range) {
			quote_into(qv, sizeof qv, value, vn);
			snprintf(msg, mn, "parsing time %s: %s out of range", qv, p.range);
			return -1;
		}
		v += used;
		n -= used;
	}
	if (resolve_date(&p, value, vn, msg, mn))
		return -1;
	*unix = days_from_civil(p.year, p.month, p.day) * 86400 + p.hour * 3600L +
		p.min * 60L + p.sec;
	*nsec = p.ns;
	place_zone(&p, unix, z);
	return 0;
bad:
	quote_into(qv, sizeof qv, value, vn);
	quote_into(ql, sizeof ql, layout, strlen(layout));
	snprintf(msg, mn, "parsing time %s as %s: cannot parse %s as %s", qv, ql,
		 qe, qs);
	return -1;
}

/* Go's zero time.Time: January 1, year 1, 00:00:00 UTC */
#define ZERO_UNIX (-62135596800LL)

static kd_value *to_date(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	int64_t unix;
	long nsec;
	tzone z;
	char msg[1400];

	if (go_parse(argv[0]->u.str.ptr, argv[1]->u.str.ptr, argv[1]->u.str.len,
		     &unix, &nsec, &z, msg, sizeof msg)) {
		if (must)
			kd_tmpl_fail(x, KD_EINVAL, "%s", msg);
		return time_value(x, ZERO_UNIX, 0, true);
	}
	if (z.fixed)
		return fixed_time_value(x, unix, nsec, z.off, z.name);
	return time_value(x, unix, nsec, z.utc);
}

FN(f_toDate) { (void)argc; return to_date(x, argv, false); }
FN(f_mustToDate) { (void)argc; return to_date(x, argv, true); }

/* ---- durations ---- */

/* time.Duration(seconds).String() */
FN(f_duration)
{
	int64_t s = kd_sprig_int64(argv[0]);
	char t[64];
	int n = 0;
	uint64_t u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;

	(void)argc;
	if (u > 9223372036ull) /* beyond time.Duration's range in seconds */
		u %= 9223372036ull;
	if (s < 0)
		t[n++] = '-';
	if (u == 0)
		return kd_tmpl_str(x, "0s", 2);
	if (u >= 3600)
		n += snprintf(t + n, sizeof t - (size_t)n, "%lluh", (unsigned long long)(u / 3600));
	if (u >= 60)
		n += snprintf(t + n, sizeof t - (size_t)n, "%llum", (unsigned long long)(u / 60 % 60));
	n += snprintf(t + n, sizeof t - (size_t)n, "%llus", (unsigned long long)(u % 60));
	return kd_tmpl_str(x, t, (size_t)n);
}

/* Go's time.ParseDuration: 0 or -1 with the error text in msg */
static int parse_duration(const char *s, size_t n, int64_t *out, char *msg,
			  size_t mn)
{
	static const struct { const char *u; uint64_t ns; } units[] = {
		{"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
		{"ms", 1000000}, {"s", 1000000000ULL}, {"m", 60000000000ULL},
		{"h", 3600000000000ULL},
	};
	size_t i = 0;
	uint64_t total = 0;
	bool neg = false;
	char q[300];

	quote_into(q, sizeof q, s, n);
	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i++;
	}
	if (n - i == 1 && s[i] == '0') {
		*out = 0;
		return 0;
	}
	if (i == n)
		goto invalid;
	while (i < n) {
		uint64_t v = 0, f = 0, scale = 1, unit = 0;
		size_t st = i, us, k;
		bool pre, post = false;

		if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
			goto invalid;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (v > (UINT64_MAX - 9) / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		pre = i != st;
		if (i < n && s[i] == '.') {
			size_t fs = ++i;

			for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				if (scale < 1000000000000000000ULL) {
					f = f * 10 + (uint64_t)(s[i] - '0');
					scale *= 10;
				}
			post = i != fs;
		}
		if (!pre && !post)
			goto invalid;
		us = i;
		while (i < n && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9'))
			i++;
		if (us == i) {
			snprintf(msg, mn, "time: missing unit in duration %s", q);
			return -1;
		}
		for (k = 0; k < sizeof units / sizeof units[0]; k++)
			if (strlen(units[k].u) == i - us &&
			    !memcmp(units[k].u, s + us, i - us))
				unit = units[k].ns;
		if (!unit) {
			char qu[300];

			quote_into(qu, sizeof qu, s + us, i - us);
			snprintf(msg, mn, "time: unknown unit %s in duration %s", qu, q);
			return -1;
		}
		if (v > (uint64_t)INT64_MAX / unit)
			goto invalid;
		v *= unit;
		if (f)
			v += (uint64_t)((long double)f * unit / scale);
		total += v;
		if (total > (uint64_t)INT64_MAX + neg)
			goto invalid;
	}
	*out = neg ? (int64_t)(0 - total) : (int64_t)total;
	return 0;
invalid:
	snprintf(msg, mn, "time: invalid duration %s", q);
	return -1;
}

/* Go's Duration.String for whole seconds and more (ago rounds first) */
static void duration_string(kd_buf *b, int64_t d)
{
	uint64_t u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
	uint64_t s = u / 1000000000ULL, frac = u % 1000000000ULL;

	if (u == 0) {
		kd_buf_puts(b, "0s");
		return;
	}
	if (d < 0)
		kd_buf_putc(b, '-');
	if (u < 1000000000ULL) {
		/* below a second: ns, µs or ms with a fraction */
		const char *unit = u < 1000 ? "ns" : u < 1000000 ? "\xc2\xb5s" : "ms";
		uint64_t div = u < 1000 ? 1 : u < 1000000 ? 1000 : 1000000;
		char f[32];
		int k;

		snprintf(f, sizeof f, "%llu", (unsigned long long)(u % div));
		kd_buf_printf(b, "%llu", (unsigned long long)(u / div));
		if (u % div) {
			int w = div == 1000 ? 3 : 6;

			snprintf(f, sizeof f, "%0*llu", w, (unsigned long long)(u % div));
			for (k = w; k > 0 && f[k - 1] == '0'; k--)
				f[k - 1] = 0;
			kd_buf_printf(b, ".%s", f);
		}
		kd_buf_puts(b, unit);
		return;
	}
	if (s >= 3600)
		kd_buf_printf(b, "%lluh", (unsigned long long)(s / 3600));
	if (s >= 60)
		kd_buf_printf(b, "%llum", (unsigned long long)(s / 60 % 60));
	kd_buf_printf(b, "%llu", (unsigned long long)(s % 60));
	if (frac) {
		char f[16];
		int k;

		snprintf(f, sizeof f, "%09llu", (unsigned long long)frac);
		for (k = 9; k > 0 && f[k - 1] == '0'; k--)
			f[k - 1] = 0;
		kd_buf_printf(b, ".%s", f);
	}
	kd_buf_putc(b, 's');
}

static int64_t since_ns(int64_t unix, long nsec)
{
	struct timespec ts;
	int64_t d, r;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* Go's Time.Sub saturates at the Duration's bounds rather than
	 * wrapping, so a year far from now gives the largest duration */
	if (__builtin_sub_overflow((int64_t)ts.tv_sec, unix, &d) ||
	    __builtin_mul_overflow(d, 1000000000LL, &r) ||
	    __builtin_add_overflow(r, (int64_t)(ts.tv_nsec - nsec), &r))
		return unix > (int64_t)ts.tv_sec ? INT64_MIN : INT64_MAX;
	return r;
}

static kd_value *date_modify(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	int64_t d, unix, ns;
	long nsec;
	char msg[700];

	if (!argv[1] || argv[1]->type != KD_MAP ||
	    kd_tmpl_obj_kind(x, argv[1]) != KD_SPRIG_OBJ_TIME)
		kd_tmpl_errorf(x, "wrong type for value; expected time.Time; got %s",
			       argv[1] && argv[1]->type != KD_NULL
				       ? kd_tmpl_type_name(argv[1]) : "interface {}");
	get_time(x, argv[1], &unix, &nsec);
	if (parse_duration(argv[0]->u.str.ptr, argv[0]->u.str.len, &d, msg,
			   sizeof msg)) {
		if (must)
			kd_tmpl_fail(x, KD_EINVAL, "%s", msg);
		return argv[1];
	}
	ns = nsec + d % 1000000000LL;
	unix += d / 1000000000LL + (ns < 0 ? -1 : ns >= 1000000000LL);
	ns = (ns % 1000000000LL + 1000000000LL) % 1000000000LL;
	if (kd_map_getz(argv[1], "off"))
		return fixed_time_value(x, unix, (long)ns,
					(long)kd_map_getz(argv[1], "off")->u.i,
					kd_map_getz(argv[1], "zone")->u.str.ptr);
	return time_value(x, unix, (long)ns,
			  kd_map_getz(argv[1], "utc")->u.b);
}

FN(f_dateModify) { (void)argc; return date_modify(x, argv, false); }
FN(f_mustDateModify) { (void)argc; return date_modify(x, argv, true); }

FN(f_ago)
{
	kd_buf b = KD_BUF_INIT(64);
	int64_t unix, d, r;
	long nsec;

	(void)argc;
	if (!get_time(x, argv[0], &unix, &nsec)) {
		unix = (int64_t)time(NULL);
		nsec = 0;
	}
	d = since_ns(unix, nsec);
	/* Round(time.Second): halves away from zero */
	r = d % 1000000000LL;
	d -= r;
	/* and saturates, as Go's Round does, at the Duration's bounds */
	if (r >= 500000000LL && __builtin_add_overflow(d, 1000000000LL, &d))
		d = INT64_MAX;
	else if (r <= -500000000LL && __builtin_sub_overflow(d, 1000000000LL, &d))
		d = INT64_MIN;
	duration_string(&b, d);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_durationRound)
{
	static const struct { uint64_t n; const char *s; } steps[] = {
		{3600ULL * 24 * 365 * 1000000000ULL, "y"},
		{3600ULL * 24 * 30 * 1000000000ULL, "mo"},
		{3600ULL * 24 * 1000000000ULL, "d"},
		{3600ULL * 1000000000ULL, "h"},
		{60ULL * 1000000000ULL, "m"},
		{1000000000ULL, "s"},
	};
	const kd_value *v = argv[0];
	int64_t d = 0, unix;
	uint64_t u;
	long nsec;
	char msg[700], t[40];
	size_t i;

	(void)argc;
	if (v && v->type == KD_STR) {
		if (parse_duration(v->u.str.ptr, v->u.str.len, &d, msg, sizeof msg))
			d = 0;
	} else if (v && v->type == KD_INT) {
		d = v->u.i;
	} else if (get_time(x, v, &unix, &nsec)) {
		d = since_ns(unix, nsec);
	}
	u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (u > steps[i].n) {
			snprintf(t, sizeof t, "%llu%s",
				 (unsigned long long)(u / steps[i].n), steps[i].s);
			return kd_tmpl_str(x, t, strlen(t));
		}
	return kd_tmpl_str(x, "0s", 2);
}

/* ---- a time as Go prints it, and its methods ---- */

static void broken_down(const kd_value *t, struct tm *tm, long *off,
			char *zn, size_t zl)
{
	time_t tt = (time_t)kd_map_getz(t, "unix")->u.i;
	const kd_value *fo = kd_map_getz(t, "off");

	if (fo) {
		const char *name = kd_map_getz(t, "zone")->u.str.ptr;
		long a = fo->u.i < 0 ? (long)-fo->u.i : (long)fo->u.i;

		tt += (time_t)fo->u.i;
		gmtime_r(&tt, tm);
		*off = (long)fo->u.i;
		if (*name)
			snprintf(zn, zl, "%s", name);
		else if (a % 60)
			snprintf(zn, zl, "%c%02d%02d%02d", fo->u.i < 0 ? '-' : '+',
				 (int)(a / 3600 % 100), (int)(a / 60 % 60), (int)(a % 60));
		else
			snprintf(zn, zl, "%c%02d%02d", fo->u.i < 0 ? '-' : '+',
				 (int)(a / 3600 % 100), (int)(a / 60 % 60));
	} else if (kd_map_getz(t, "utc")->u.b) {
		gmtime_r(&tt, tm);
		*off = 0;
		snprintf(zn, zl, "UTC");
	} else {
		localtime_r(&tt, tm);
		*off = tm->tm_gmtoff;
		snprintf(zn, zl, "%s", tm->tm_zone ? tm->tm_zone : "UTC");
	}
}

static void time_format(kd_buf *b, const kd_value *t, const char *layout)
{
	struct tm tm;
	long off;
	char zn[16];

	broken_down(t, &tm, &off, zn, sizeof zn);
	go_format(b, layout, &tm, (long)kd_map_getz(t, "nsec")->u.i, off, zn);
}

void kd_sprig_time_json(kd_buf *b, const kd_value *t)
{
	time_format(b, t, "2006-01-02T15:04:05.999999999Z07:00");
}

static void time_string(kd_buf *b, const kd_value *t)
{
	time_format(b, t, "2006-01-02 15:04:05.999999999 -0700 MST");
}

static kd_value *time_method(kd_tmpl_ex *x, const kd_value *t,
			     const char *name, kd_value *arg, bool *handled)
{
	struct tm tm;
	long off;
	char zn[16];
	int64_t unix = kd_map_getz(t, "unix")->u.i, v;
	long nsec = (long)kd_map_getz(t, "nsec")->u.i;
	kd_value *r;

	*handled = true;
	broken_down(t, &tm, &off, zn, sizeof zn);
	if (!strcmp(name, "Format") || !strcmp(name, "String")) {
		kd_buf b = KD_BUF_INIT(1 << 20);

		if (name[0] == 'F' && (!arg || arg->type != KD_STR))
			kd_tmpl_errorf(x, "wrong number of args for Format: want 1 got 0");
		if (name[0] == 'F')
			time_format(&b, t, arg->u.str.ptr);
		else
			time_string(&b, t);
		return kd_tmpl_buf_value(x, &b);
	}
	if (!strcmp(name, "UTC") || !strcmp(name, "Local"))
		return time_value(x, unix, nsec, name[0] == 'U');
	if (!strcmp(name, "Month"))
		return kd_tmpl_str(x, months[tm.tm_mon], strlen(months[tm.tm_mon]));
	if (!strcmp(name, "Weekday"))
		return kd_tmpl_str(x, days[tm.tm_wday], strlen(days[tm.tm_wday]));
	if (!strcmp(name, "IsZero"))
		return kd_value_bool(x->a, unix == ZERO_UNIX && nsec == 0);
	if (!strcmp(name, "Year"))
		v = tm.tm_year + 1900LL;
	else if (!strcmp(name, "Day"))
		v = tm.tm_mday;
	else if (!strcmp(name, "Hour"))
		v = tm.tm_hour;
	else if (!strcmp(name, "Minute"))
		v = tm.tm_min;
	else if (!strcmp(name, "Second"))
		v = tm.tm_sec;
	else if (!strcmp(name, "Nanosecond"))
		v = nsec;
	else if (!strcmp(name, "YearDay"))
		v = tm.tm_yday + 1;
	else if (!strcmp(name, "Unix"))
		v = unix;
	else if (!strcmp(name, "UnixMilli"))
		v = (int64_t)((uint64_t)unix * 1000 + (uint64_t)(nsec / 1000000));
	else if (!strcmp(name, "UnixNano"))
		/* wraps where Go's int64 arithmetic wraps, without C's undefined
		 * signed overflow */
		v = (int64_t)((uint64_t)unix * 1000000000ULL + (uint64_t)nsec);
	else {
		*handled = false;
		return NULL;
	}
	r = kd_value_int(x->a, v);
	if (!r)
		kd_tmpl_errorf(x, "out of memory");
	return r;
}

/* A time's methods (Go's time.Time) and how it prints. */
static kd_value *time_methods(kd_tmpl_ex *x, kd_value *recv, int kind,
			      const char *name, const kd_tmpl_margs *m,
			      bool *handled)
{
	kd_value *a;

	if (kind != KD_SPRIG_OBJ_TIME)
		return NULL;
	a = kd_tmpl_margs_get(x, m, 0, 'a');
	x->at = m->node;
	return time_method(x, recv, name, a, handled);
}

static bool time_print(kd_tmpl_ex *x, kd_buf *b, const kd_value *v, int kind)
{
	if (kind != KD_SPRIG_OBJ_TIME)
		return false;
	time_string(b, v);
	return true;
}

static const kd_tmpl_func time_funcs[] = {
	{"now", f_now, "", false, false},
	{"date", f_date, "sa", false, false},
	{"dateInZone", f_dateInZone, "sas", false, false},
	{"date_in_zone", f_dateInZone, "sas", false, false},
	{"htmlDate", f_htmlDate, "a", false, false},
	{"htmlDateInZone", f_htmlDateInZone, "as", false, false},
	{"unixEpoch", f_unixEpoch, "a", false, false},
	{"toDate", f_toDate, "ss", false, false},
	{"mustToDate", f_mustToDate, "ss", false, false},
	{"dateModify", f_dateModify, "sa", false, false},
	{"mustDateModify", f_mustDateModify, "sa", false, false},
	{"date_modify", f_dateModify, "sa", false, false},
	{"must_date_modify", f_mustDateModify, "sa", false, false},
	{"ago", f_ago, "a", false, false},
	{"durationRound", f_durationRound, "a", false, false},
	{"duration", f_duration, "a", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_time(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, time_funcs);
	kd_tmpl_funcs_add_methods(fs, time_methods);
	kd_tmpl_funcs_add_printer(fs, time_print);
}
