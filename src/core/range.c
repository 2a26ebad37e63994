/* SPDX-License-Identifier: MIT */
/*
 * Threshold ranges as Nagios and Icinga plugins take them (see
 * mxtrace/range.h for the syntax).  Numbers are plain decimals (an optional
 * sign, digits, one optional point): no exponent, hex, "inf" or "nan",
 * which strtod() alone would accept.  An empty start (":10") is 0, as in
 * the Monitoring Plugins' own parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/range.h"

/* Parse the decimal number in [p, p+n) into *v; 0 or -1. */
static int
number(const char *p, size_t n, double *v)
{
	char buf[MXT_RANGE_TEXT_MAX + 1], *end;
	size_t i = 0, digits = 0, points = 0;

	if (n == 0 || n > MXT_RANGE_TEXT_MAX)
		return -1;
	if (p[0] == '-' || p[0] == '+')
		i++;
	for (; i < n; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			digits++;
		else if (p[i] == '.' && points++ == 0)
			continue;
		else
			return -1;
	}
	if (digits == 0)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*v = strtod(buf, &end);
	return *end == '\0' ? 0 : -1;
}

int
mxt_range_parse(const char *s, struct mxt_range *r, char *err, size_t errlen)
{
	const char *p = s, *colon;
	size_t len = s != NULL ? strlen(s) : 0;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > MXT_RANGE_TEXT_MAX) {
		snprintf(err, errlen, "range '%.40s': %s", s != NULL ? s : "",
		    len == 0 ? "empty" : "too long");
		return -1;
	}
	if (*p == '@') {
		r->inside = 1;
		p++;
	}
	colon = strchr(p, ':');
	if (colon == NULL) {
		/* "N" is 0:N. */
		if (number(p, strlen(p), &r->end) < 0)
			goto bad;
	} else {
		if (colon == p + 1 && *p == '~')
			r->start_inf = 1;
		else if (colon > p && number(p, (size_t)(colon - p), &r->start) < 0)
			goto bad;
		if (colon[1] == '\0')
			r->end_inf = 1;
		else if (number(colon + 1, strlen(colon + 1), &r->end) < 0)
			goto bad;
	}
	if (!r->start_inf && !r->end_inf && r->start > r->end) {
		snprintf(err, errlen, "range '%s': start is greater than end", s);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	memcpy(r->text, s, len + 1);
	r->set = 1;
	return 0;
bad:
	snprintf(err, errlen,
	    "range '%s': not N, N:, ~:N, N:M or @N:M with decimal numbers (e.g. 10, 10:20, @0:5)",
	    s);
	memset(r, 0, sizeof(*r));
	return -1;
}

int
mxt_range_alert(const struct mxt_range *r, double v)
{
	int in;

	if (r == NULL || !r->set)
		return 0;
	in = (r->start_inf || v >= r->start) && (r->end_inf || v <= r->end);
	return r->inside ? in : !in;
}
