#include "base/num.h"

#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits of "%.*e" output: d.ddddde±XX -> digits, decimal point position. */
static int split_e(const char *s, char digits[32], int *dp)
{
	int nd = 0;
	const char *p = s;

	if (*p == '-')
		p++;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && nd < 31)
			digits[nd++] = *p;
	digits[nd] = '\0';
	*dp = (*p == 'e' ? atoi(p + 1) : 0) + 1;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	return nd;
}

int kd_num_shortest(double f, char digits[32], int *dp)
{
	char s[48];
	int lo = 1, hi = 17, mid;

	/* Correct rounding makes "p digits read back exactly" monotonic in p,
	 * so a binary search finds the shortest in about four conversions. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		snprintf(s, sizeof(s), "%.*e", mid - 1, f);
		if (strtod(s, NULL) == f)
			hi = mid;
		else
			lo = mid + 1;
	}
	snprintf(s, sizeof(s), "%.*e", lo - 1, f);
	return split_e(s, digits, dp);
}

/* Digits rounded to n significant digits (n >= 1), correctly rounded by
 * printf, which works on the exact binary value as Go does. */
static int rounded_sig(double f, int n, char digits[32], int *dp)
{
	char s[400];
	int nd;

	if (n > 30)
		n = 30;
	snprintf(s, sizeof(s), "%.*e", n - 1, f);
	nd = split_e(s, digits, dp);
	return nd;
}

/* Digits rounded to n places after the decimal point; may be 0 digits. */
static int rounded_fixed(double f, int n, char digits[400], int *dp)
{
	char s[800];
	const char *p;
	int nd = 0, intlen = 0, seen_dot = 0, lead = 1;

	snprintf(s, sizeof(s), "%.*f", n, fabs(f));
	for (p = s; *p; p++) {
		if (*p == '.') {
			seen_dot = 1;
			continue;
		}
		if (lead && *p == '0') {
			if (!seen_dot)
				continue;
			intlen--;
			continue;
		}
		lead = 0;
		if (!seen_dot)
			intlen++;
		if (nd < 399)
			digits[nd++] = *p;
	}
	while (nd > 0 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	*dp = nd ? intlen : 0;
	return nd;
}

static void put_exp(kd_buf *out, char e, int exp)
{
	kd_buf_putc(out, e);
	kd_buf_putc(out, exp < 0 ? '-' : '+');
	if (exp < 0)
		exp = -exp;
	if (exp < 10)
		kd_buf_putc(out, '0');
	kd_buf_printf(out, "%d", exp);
}

/* %e: d.ddd e±dd with prec digits after the point. */
static void fmt_e(kd_buf *out, int neg, const char *d, int nd, int dp,
		  int prec, char e)
{
	int i;

	if (neg)
		kd_buf_putc(out, '-');
	kd_buf_putc(out, nd ? d[0] : '0');
	if (prec > 0) {
		kd_buf_putc(out, '.');
		for (i = 1; i <= prec; i++)
			kd_buf_putc(out, i < nd ? d[i] : '0');
	}
	put_exp(out, e, nd ? dp - 1 : 0);
}

/* %f: integer part, then prec digits after the point. */
static void fmt_f(kd_buf *out, int neg, const char *d, int nd, int dp,
		  int prec)
{
	int i;

	if (neg)
		kd_buf_putc(out, '-');
	if (dp > 0) {
		for (i = 0; i < dp; i++)
			kd_buf_putc(out, i < nd ? d[i] : '0');
	} else {
		kd_buf_putc(out, '0');
	}
	if (prec > 0) {
		kd_buf_putc(out, '.');
		for (i = 0; i < prec; i++) {
			int j = dp + i;

			kd_buf_putc(out, (j >= 0 && j < nd) ? d[j] : '0');
		}
	}
}

int kd_num_format_float(kd_buf *out, double f, char fmt, int prec)
{
	char d[400];
	int nd, dp, neg = signbit(f) != 0, shortest = prec < 0;
	int eprec, exp;

	if (isnan(f))
		return kd_buf_puts(out, "NaN");
	if (isinf(f))
		return kd_buf_puts(out, neg ? "-Inf" : "+Inf");
	if (f == 0) {
		nd = 0;
		dp = 0;
		d[0] = '\0';
	} else if (shortest) {
		nd = kd_num_shortest(f, d, &dp);
	} else if (fmt == 'f') {
		nd = rounded_fixed(f, prec, d, &dp);
	} else {
		int sig = fmt == 'e' || fmt == 'E' ? prec + 1 : (prec ? prec : 1);

		nd = rounded_sig(f, sig, d, &dp);
	}
	switch (fmt) {
	case 'e':
	case 'E':
		fmt_e(out, neg, d, nd, dp, shortest ? (nd ? nd - 1 : 0) : prec,
		      fmt);
		break;
	case 'f':
		fmt_f(out, neg, d, nd, dp,
		      shortest ? (nd - dp > 0 ? nd - dp : 0) : prec);
		break;
	case 'g':
	case 'G':
		/* Mirrors strconv's %g: the exponent decides between %e and %f,
		 * against precision 6 when the digits are the shortest. */
		if (shortest)
			prec = nd;
		else if (prec == 0)
			prec = 1;
		eprec = prec;
		if (eprec > nd && nd >= dp)
			eprec = nd;
		if (shortest)
			eprec = 6;
		exp = dp - 1;
		if (exp < -4 || exp >= eprec) {
			if (prec > nd)
				prec = nd;
			fmt_e(out, neg, d, nd, dp, prec - 1 > 0 ? prec - 1 : 0,
			      fmt == 'g' ? 'e' : 'E');
		} else {
			if (prec > dp)
				prec = nd;
			fmt_f(out, neg, d, nd, dp, prec - dp > 0 ? prec - dp : 0);
		}
		break;
	default:
		return KD_EINVAL;
	}
	return out->failed;
}

int kd_num_format_int(kd_buf *out, int64_t i)
{
	return kd_buf_printf(out, "%lld", (long long)i);
}
