/* SPDX-License-Identifier: MIT */
/*
 * Validation of user input that ends up on an SMTP command line or in a DNS
 * query (RFC 5321 §4.1.2, §4.1.3, §4.1.4): host names, address literals
 * and mailboxes.  This is the single place that keeps CR, LF, NUL and the
 * other control bytes off the wire, so a crafted --from cannot smuggle a
 * second SMTP command (curl PR 22119, Python bpo-43124, nodemailer
 * GHSA-vvjj-xcjg-gr5g), and the place that keeps backslashes and other
 * non-LDH bytes away from c-ares, which reads '\' as an escape.
 *
 * Rules chosen here, beyond the ABNF:
 * - A host name is ASCII only: U-labels go through mxt_idn_to_ascii() first.
 *   Single-label names ("localhost") are accepted.  Underscores are not (they
 *   belong to service labels such as _25._tcp, never to host names).  A name
 *   whose last label is all digits is rejected (RFC 3696 §2, RFC 1123 §2.1),
 *   so "192.0.2.1" is never taken for a host name: write "[192.0.2.1]".
 * - In a mailbox the domain may not end with a dot (RFC 5321 Domain has no
 *   root label) and may hold U-labels only if mxt_idn_to_ascii() accepts it.
 * - UTF-8 in the local part (dot-string or quoted string) must be valid and
 *   may not encode a C1 control; whether the server allows it (SMTPUTF8,
 *   RFC 6531 §3.2) is for the session to decide, not for this module.
 *
 * Character tests are ASCII-only and ignore the locale.
 *
 * It also holds the address classes every stage shares (unusable,
 * loopback, global), so that each rule has one home.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "mxtrace/idn.h"
#include "mxtrace/validate.h"
#include "mxtrace/limits.h"

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 5322 §3.2.3 atext, ASCII part. */
static int
is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Length of the valid UTF-8 character at p (n bytes available), 0 if it is
 * not one; C1 controls U+0080-U+009F count as invalid here. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len = mxt_utf8_decode(p, n, &cp);

	return len > 0 && cp >= 0x80 && cp <= 0x9f ? 0 : len;
}

/* Why byte c cannot appear in a host name. */
static const char *
domain_char_problem(unsigned char c)
{
	if (is_ctl(c))
		return "control character in domain";
	if (c == ' ')
		return "space in domain";
	if (c == '_')
		return "underscore in domain (not allowed in host names)";
	if (c == '\\')
		return "backslash in domain";
	if (c >= 0x80)
		return "non-ASCII character in domain (convert it to A-labels)";
	return "invalid character in domain (letters, digits, hyphens and dots only)";
}

/* Why s is not an RFC 1123 / RFC 5321 §2.3.5 host name, or NULL if it is.
 * One trailing dot is allowed when dot_ok. */
static const char *
hostname_problem(const char *s, int dot_ok)
{
	size_t len = strlen(s), i, label = 0;
	int numeric = 1;
	unsigned char c;

	if (len == 0)
		return "empty domain";
	if (s[len - 1] == '.') {
		if (!dot_ok)
			return "domain ends with a dot";
		if (--len == 0)
			return "empty domain";
	}
	for (i = 0; i <= len; i++) {
		c = i < len ? (unsigned char)s[i] : '.';
		if (c == '.') {
			if (label == 0)
				return "empty label in domain";
			if (s[i - 1] == '-')
				return "domain label ends with a hyphen";
			label = 0;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return domain_char_problem(c);
		if (label == 0) {
			if (c == '-')
				return "domain label starts with a hyphen";
			numeric = 1;
		}
		if (!is_digit(c))
			numeric = 0;
		if (++label > 63)
			return "domain label longer than 63 octets";
	}
	if (len > MXT_DOMAIN_MAX)
		return "domain longer than 253 octets";
	if (numeric)
		return "all-numeric top-level label (for an IP address write [192.0.2.1])";
	return NULL;
}

/* RFC 1123 host name in ASCII (see escape.h and the rules above). */
int
mxt_valid_hostname(const char *s)
{
	return s != NULL && hostname_problem(s, 1) == NULL;
}

/* A strict dotted quad: four decimal numbers 0-255 without leading zeros. */
static int
dotted_quad(const char *s, size_t len)
{
	size_t i = 0, d;
	unsigned v;
	int part;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
		for (v = 0, d = 0; i < len && is_digit((unsigned char)s[i]) && d < 4; i++, d++)
			v = v * 10 + (unsigned)(s[i] - '0');
		if (d == 0 || d > 3 || v > 255 || (d > 1 && s[i - d] == '0'))
			return 0;
	}
	return i == len;
}

/* RFC 5321 §4.1.3 address literal: strict dotted quad or "IPv6:" and
 * whatever inet_pton(AF_INET6) accepts (no zone index). */
int
mxt_valid_address_literal(const char *s)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	const char *in;
	size_t len, n;

	if (s == NULL || s[0] != '[')
		return 0;
	len = strlen(s);
	if (len < 3 || s[len - 1] != ']')
		return 0;
	in = s + 1;
	n = len - 2;
	/* RFC 5321 §4.1.3: "IPv6:" is an ABNF string, so case-insensitive. */
	if (n > 5 && (in[0] == 'I' || in[0] == 'i') && (in[1] == 'P' || in[1] == 'p') &&
	    (in[2] == 'V' || in[2] == 'v') && in[3] == '6' && in[4] == ':') {
		in += 5;
		n -= 5;
		if (n >= sizeof(buf))
			return 0;
		memcpy(buf, in, n);
		buf[n] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1;
	}
	return dotted_quad(in, n);
}

/* Scan an RFC 5321 Dot-string local part (RFC 6531 §3.3 adds UTF-8 to
 * atext) at s; sets *end to the byte after it.  Returns why it is bad, or
 * NULL. */
static const char *
dot_string(const char *s, size_t len, size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	int after_dot = 0;

	while (i < len && u[i] != '@') {
		if (u[i] == '.') {
			if (i == 0)
				return "local part starts with a dot";
			if (after_dot)
				return "two dots in a row in local part";
			after_dot = 1;
			i++;
			continue;
		}
		after_dot = 0;
		if (u[i] >= 0x80) {
			n = utf8_len(u + i, len - i);
			if (n == 0)
				return "invalid UTF-8 in local part";
			i += n;
			continue;
		}
		if (!is_atext(u[i])) {
			if (u[i] == ' ')
				return "space in local part (quote the local part)";
			if (u[i] == '<' || u[i] == '>')
				return "angle bracket in address (give it without <>)";
			if (u[i] == '"')
				return "quote in the middle of the local part";
			if (u[i] == '\\')
				return "backslash outside a quoted local part";
			return "invalid character in local part";
		}
		i++;
	}
	if (i == len)
		return "no @ in address";
	if (i == 0)
		return "empty local part";
	if (after_dot)
		return "local part ends with a dot";
	*end = i;
	return NULL;
}

/* Scan an RFC 5321 Quoted-string local part at s (s[0] is '"'): qtextSMTP
 * and quoted-pairSMTP (%d92 %d32-126), plus UTF-8 (RFC 6531 §3.3).  Sets
 * *end to the byte after the closing quote. */
static const char *
quoted_string(const char *s, size_t len, size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 1, n;

	for (;;) {
		if (i >= len)
			return "unterminated quoted local part";
		if (u[i] == '"')
			break;
		if (u[i] == '\\') {
			if (i + 1 >= len)
				return "unterminated quoted local part";
			if (u[i + 1] < 32 || u[i + 1] > 126)
				return "invalid quoted pair in local part";
			i += 2;
		} else if (u[i] >= 0x80) {
			n = utf8_len(u + i, len - i);
			if (n == 0)
				return "invalid UTF-8 in local part";
			i += n;
		} else {
			i++;
		}
	}
	i++;
	if (i == len)
		return "no @ in address";
	if (u[i] != '@')
		return "characters between the quoted local part and @";
	*end = i;
	return NULL;
}

/* Why s is not a valid mailbox, or NULL.  idnbuf receives the message of a
 * failed IDN conversion. */
static const char *
mailbox_problem(const char *s, int allow_empty, char *idnbuf, size_t idnlen)
{
	const char *why, *dom;
	char *ascii = NULL;
	size_t len, i, at = 0;
	int ascii_only = 1;

	if (s == NULL)
		return "no address";
	len = strlen(s);
	if (len == 0)
		return allow_empty ? NULL : "empty address";
	/* First, so that CRLF injection always gets this reason. */
	for (i = 0; i < len; i++) {
		if (is_ctl((unsigned char)s[i]))
			return "control character in address";
		/* A C1 control (U+0080-U+009F) in UTF-8. */
		if ((unsigned char)s[i] == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return "control character in address";
	}
	if (s[0] == '<' || s[len - 1] == '>')
		return "angle bracket in address (give it without <>)";
	/* RFC 5321 §4.5.3.1.3: the path, with its brackets, is at most 256. */
	if (len > MXT_PATH_MAX - 2)
		return "address longer than 254 octets";

	why = s[0] == '"' ? quoted_string(s, len, &at) : dot_string(s, len, &at);
	if (why != NULL)
		return why;
	/* RFC 5321 §4.5.3.1.1 */
	if (at > MXT_LOCAL_PART_MAX)
		return "local part longer than 64 octets";

	dom = s + at + 1;
	if (*dom == '\0')
		return "empty domain";
	if (strchr(dom, '@') != NULL)
		return "more than one @ in address";
	if (dom[0] == '[')
		return mxt_valid_address_literal(dom) ? NULL : "invalid address literal";
	for (i = 0; dom[i] != '\0'; i++)
		if ((unsigned char)dom[i] >= 0x80)
			ascii_only = 0;
	if (ascii_only) {
		why = hostname_problem(dom, 0);
		if (why != NULL)
			return why;
	} else if (dom[strlen(dom) - 1] == '.') {
		return "domain ends with a dot";
	}
	/* U-labels are acceptable if libidn2 converts them (the caller sends
	 * the A-label form unless the server offers SMTPUTF8); A-labels must
	 * be valid Punycode. */
	if (mxt_idn_to_ascii(dom, &ascii, NULL, idnbuf, idnlen) != 0)
		return idnbuf;
	free(ascii);
	return NULL;
}

/* RFC 5321 §4.1.2 mailbox; the reason for a rejection goes to err. */
int
mxt_valid_mailbox(const char *s, int allow_empty, char *err, size_t errlen)
{
	char idnbuf[256], reason[160];
	const char *why;

	why = mailbox_problem(s, allow_empty, reason, sizeof(reason));
	if (why == reason) {
		snprintf(idnbuf, sizeof(idnbuf), "invalid internationalized domain: %s", reason);
		why = idnbuf;
	}
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why != NULL ? why : "");
	return why == NULL;
}

/* ---- address classes (mxtrace/validate.h) ---- */

int
mxt_ip_unusable(int family, const unsigned char *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char zero[16];

	if (family == AF_INET)
		return a[0] == 0 || a[0] >= 224;
	return memcmp(a, zero, 16) == 0 || a[0] == 0xff || memcmp(a, mapped, 12) == 0;
}

int
mxt_ip_loopback(int family, const unsigned char *a)
{
	static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	return family == AF_INET ? a[0] == 127 : memcmp(a, one, 16) == 0;
}

int
mxt_ip_global(int family, const unsigned char *b)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (family == AF_INET)
		return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224 ||
		    (b[0] == 100 && (b[1] & 0xc0) == 64) || (b[0] == 169 && b[1] == 254) ||
		    (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
		    (b[0] == 192 && b[1] == 0 && b[2] == 2) ||
		    (b[0] == 198 && (b[1] & 0xfe) == 18) ||
		    (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
		    (b[0] == 203 && b[1] == 0 && b[2] == 113));
	if (family != AF_INET6)
		return 0;
	if (memcmp(b, mapped, 12) == 0)
		return mxt_ip_global(AF_INET, b + 12);
	return (b[0] & 0xe0) == 0x20 &&
	    !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);
}
