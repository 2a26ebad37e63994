/* SPDX-License-Identifier: MIT */
/*
 * Threshold ranges in the Monitoring Plugins syntax (Monitoring Plugins
 * Development Guidelines, "Threshold and ranges"), as -w and -c take them:
 *
 *   10      alert when v < 0 or v > 10
 *   10:     alert when v < 10
 *   ~:10    alert when v > 10
 *   10:20   alert when v < 10 or v > 20
 *   @10:20  alert when 10 <= v <= 20
 *
 * Pure: parsing and testing a value; no I/O.
 */
#ifndef MXTRACE_RANGE_H
#define MXTRACE_RANGE_H

#include <stddef.h>

/* Longest range text kept (as given, for the perfdata warn/crit fields). */
#define MXT_RANGE_TEXT_MAX 32

struct mxt_range {
	int set;       /* a range was given */
	int inside;    /* "@": alert inside start..end, not outside */
	int start_inf; /* "~": no lower end */
	int end_inf;   /* "N:": no upper end */
	double start, end;
	char text[MXT_RANGE_TEXT_MAX + 1]; /* as given */
};

/* Parse s into *r.  Returns 0, or -1 with a one-line reason in err (empty
 * text, a number that is not decimal, start above end, too long). */
int mxt_range_parse(const char *s, struct mxt_range *r, char *err, size_t errlen);
/* 1 when v trips the range (outside it, or inside with "@"); 0 when it
 * does not or no range is set. */
int mxt_range_alert(const struct mxt_range *r, double v);

#endif
