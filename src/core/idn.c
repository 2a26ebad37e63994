/* SPDX-License-Identifier: MIT */
/*
 * Internationalised domain names (RFC 6531 §3.7, RFC 5890): the one
 * place that turns what the user typed into the A-label form that DNS
 * queries, EHLO (RFC 6531 §3.7.1) and certificate checks
 * (X509_check_host) need, and back into U-labels for the report.  The
 * conversion itself is libidn2's (IDNA2008 with UTS #46 non-transitional
 * mapping and NFC); nothing here encodes Punycode by hand.  The result is
 * then held to mxt_valid_hostname(), because libidn2 lets through ASCII that
 * is no host name ("a..b", "ex\.ample.com", "a_b", spaces).
 *
 * Input that is already plain LDH with no "xn--" label does not go through
 * libidn2 at all: there is nothing to convert, and libidn2 would refuse
 * labels with "--" in the third and fourth places (RFC 5891 §4.2.3.1), which
 * exist in DNS (e.g. "r4---sn-abc.googlevideo.com").  Names with an A-label
 * do go through it, so bad Punycode ("xn--zz") is caught.  No fallback to
 * transitional processing: a name libidn2 refuses is reported as refused.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "mxtrace/idn.h"
#include "mxtrace/validate.h"
#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"

/* Longest input handed to libidn2: a U-label may take four octets per
 * character where its A-label takes one, plus a margin for dots. */
#define IDN_INPUT_MAX (4 * MXT_DOMAIN_MAX + 8)

static int
fail(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return -1;
}

/* 1 if some label of s starts with "xn--" in any case. */
static int
has_a_label(const char *s)
{
	const char *p = s;

	for (;;) {
		if ((p[0] == 'x' || p[0] == 'X') && (p[1] == 'n' || p[1] == 'N') && p[2] == '-' &&
		    p[3] == '-')
			return 1;
		p = strchr(p, '.');
		if (p == NULL)
			return 0;
		p++;
	}
}

/* Check, convert (libidn2 when there is something to convert), lower-case,
 * validate and strip one trailing dot; see escape.h. */
int
mxt_idn_to_ascii(const char *in, char **ascii, char **unicode, char *err, size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;
	char *a = NULL, *u = NULL, *tmp = NULL;
	size_t len, i;
	int non_ascii = 0, rc;

	if (ascii != NULL)
		*ascii = NULL;
	if (unicode != NULL)
		*unicode = NULL;
	if (in == NULL || ascii == NULL)
		return fail(err, errlen, "no domain");
	len = strlen(in);
	if (len == 0)
		return fail(err, errlen, "empty domain");
	if (len > IDN_INPUT_MAX)
		return fail(err, errlen, "domain too long");
	/* Control bytes never reach libidn2 (no CRLF injection, RFC 5321
	 * §4.1.2 allows none). */
	for (i = 0; i < len; i++) {
		if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
			return fail(err, errlen, "control character in domain");
		if ((unsigned char)in[i] >= 0x80)
			non_ascii = 1;
	}
	if (inet_pton(AF_INET, in, &a4) == 1 || inet_pton(AF_INET6, in, &a6) == 1)
		return fail(err, errlen, "an IP address, not a domain name");

	if (non_ascii || has_a_label(in)) {
		rc = idn2_to_ascii_8z(in, &tmp, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK)
			return fail(err, errlen, idn2_strerror(rc));
		a = mxt_xstrdup(tmp);
		idn2_free(tmp);
	} else {
		a = mxt_xstrdup(in);
	}
	for (i = 0; a[i] != '\0'; i++)
		if (a[i] >= 'A' && a[i] <= 'Z')
			a[i] = (char)(a[i] - 'A' + 'a');
	if (!mxt_valid_hostname(a)) {
		free(a);
		return fail(err, errlen,
		    "not a valid host name (letters, digits and hyphens; labels of 1-63 octets, "
		    "253 in total)");
	}
	len = strlen(a);
	if (a[len - 1] == '.')
		a[len - 1] = '\0';

	if (unicode != NULL) {
		tmp = NULL;
		rc = idn2_to_unicode_8z8z(a, &tmp, 0);
		if (rc != IDN2_OK) {
			free(a);
			return fail(err, errlen, idn2_strerror(rc));
		}
		u = mxt_xstrdup(tmp);
		idn2_free(tmp);
		*unicode = u;
	}
	*ascii = a;
	return 0;
}
