/* A tiny TAP producer for kedge's C unit tests (run by prove).
 * Each check prints "ok N - name" or "not ok N - name" plus a diagnostic;
 * tap_done() prints the plan and returns the exit status for main(). */
#ifndef KD_TESTS_TAP_H
#define KD_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static void tap_vreport(int pass, const char *file, int line, const char *fmt,
			va_list ap)
{
	tap_count++;
	if (!pass)
		tap_failed++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
}

static int tap_check(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), unused));
static int tap_check(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

static int tap_str(const char *got, size_t glen, const char *want,
		   const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7), unused));
static int tap_str(const char *got, size_t glen, const char *want,
		   const char *file, int line, const char *fmt, ...)
{
	int pass = got && glen == strlen(want) && !memcmp(got, want, glen);
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		printf("#        got: '%.*s'\n", got ? (int)glen : 6,
		       got ? got : "(null)");
		printf("#   expected: '%s'\n", want);
	}
	return pass;
}

static int tap_int(long long got, long long want, const char *file, int line,
		   const char *fmt, ...)
	__attribute__((format(printf, 5, 6), unused));
static int tap_int(long long got, long long want, const char *file, int line,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(got == want, file, line, fmt, ap);
	va_end(ap);
	if (got != want)
		printf("#        got: %lld\n#   expected: %lld\n", got, want);
	return got == want;
}

/* ok(cond, "name %d", ...) */
#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* is_str(ptr, len, "expected", "name") : compares len bytes exactly */
#define is_str(got, glen, want, ...) \
	tap_str((got), (glen), (want), __FILE__, __LINE__, __VA_ARGS__)
/* is_strz(nul_terminated, "expected", "name") */
#define is_strz(got, want, ...) \
	tap_str((got), (got) ? strlen(got) : 0, (want), __FILE__, __LINE__, \
		__VA_ARGS__)
#define is_int(got, want, ...) \
	tap_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
		__VA_ARGS__)
#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

static int tap_done(void) __attribute__((unused));
static int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
