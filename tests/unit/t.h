/* SPDX-License-Identifier: MIT */
/*
 * A tiny TAP producer for unit tests: each T_CHECK is one TAP test point, so
 * meson counts every assertion.  Usage: T_CHECK(cond, "name %d", i); end
 * main() with return t_done();
 */
#ifndef MXT_T_H
#define MXT_T_H

#include <stdarg.h>
#include <stdio.h>

static int t_count, t_failed;

static void __attribute__((format(printf, 4, 5)))
t_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_count++;
	if (!ok)
		t_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", t_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		printf("# failed at %s:%d\n", file, line);
	fflush(stdout);
}

#define T_CHECK(cond, ...) t_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static int
t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failed ? 1 : 0;
}

#endif
