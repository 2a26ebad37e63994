/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics on standard error: "mxtrace: " prefix, one line per call,
 * gated by -v/-q.  Never writes to stdout.
 */
#include <stdarg.h>
#include <stdio.h>

#include "mxtrace/log.h"
#include "mxtrace/redact.h"

static int level, silent;

void
mxt_log_init(int verbose, int quiet)
{
	level = verbose;
	silent = quiet;
}

int
mxt_log_level(void)
{
	return silent ? 0 : level;
}

static void vline(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void
vline(const char *fmt, va_list ap)
{
	char buf[4096];

	/* -v and -vv lines may quote a peer: secrets are scrubbed here too. */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	mxt_secret_scrub_str(buf);
	fprintf(stderr, "mxtrace: %s\n", buf);
}

void
mxt_log(int lvl, const char *fmt, ...)
{
	va_list ap;

	if (silent || lvl > level)
		return;
	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

void
mxt_note(const char *fmt, ...)
{
	va_list ap;

	if (silent)
		return;
	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}
