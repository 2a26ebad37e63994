/* SPDX-License-Identifier: MIT */
/*
 * The test message for --send (RFC 5322, RFC 5321 §4.5.2).  It builds
 * the header and normalises the body into the exact bytes DATA carries:
 * CRLF everywhere, lines of at most 998 octets, leading dots doubled, so
 * that nothing a user puts in a body file can end the data early or smuggle
 * a second message past a server that accepts bare LF (CVE-2023-51764).
 * It also pads the message to an exact size for SIZE tests.
 *
 * What it does not do: it does not read files or the clock (the caller
 * passes bytes and a time), does not encode (a body that cannot go as 7bit
 * or 8bit is refused, not turned into quoted-printable or base64), and does
 * not decide which ESMTP parameters go on MAIL FROM.  It is locale-
 * independent: no <ctype.h>, strftime only for digits, its own day and month
 * names.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxt_config.h"
#include "mxtrace/escape.h"
#include "mxtrace/validate.h"
#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "mxtrace/message.h"

/* RFC 5322 §2.1.1: header lines SHOULD be at most 78 characters. */
#define HEADER_WIDTH 78
/* Padding lines: 76 "X" and CRLF, like a base64 body. */
#define PAD_LINE 76
/* Right side of Message-ID and From when the EHLO name is not a host name
 * (RFC 2606 §2 reserves .invalid). */
#define FALLBACK_DOMAIN "mxtrace.invalid"
/* The last second a four-digit year can show: 9999-12-31T23:59:59Z. */
#define DATE_MAX INT64_C(253402300799)

/* One growing output buffer.  The first failure (overflow or ENOMEM) sticks
 * and makes every later append a no-op, so callers check once at the end. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	int failed;
};

/* Write a reason to err, if there is room for one. */
static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Make room for n more bytes and a NUL; the size is checked for overflow. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *np;

	if (b->failed)
		return -1;
	if (n > SIZE_MAX - 1 - b->len) {
		b->failed = 1;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	/* Double, but never less than needed: padding asks for its whole
	 * size at once and must not get twice that. */
	cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	if (cap < need)
		cap = need;
	if (cap < 1024)
		cap = 1024;
	np = mxt_xrealloc(b->p, cap);
	b->p = np;
	b->cap = cap;
	return 0;
}

static void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_fill(struct buf *b, char c, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return;
	memset(b->p + b->len, c, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append printf-style text (short header values only). */
static void __attribute__((format(printf, 2, 3))) buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return;
	}
	buf_add(b, tmp, (size_t)n);
}

/* Check the body before anything is written: no NUL (RFC 5321 §4.5.2 data
 * is text; RFC 2045 §2.7-2.8 forbid NUL in 7bit and 8bit), 8-bit bytes only
 * with 8BITMIME (RFC 6152 §3), and then only as valid UTF-8 since the
 * message says charset=utf-8.  Sets *eightbit when a byte >= 0x80 occurs. */
static int
check_body(
    const unsigned char *s, size_t n, int eightbit_ok, int *eightbit, char *err, size_t errlen)
{
	size_t i = 0, k;
	uint32_t cp;

	*eightbit = 0;
	while (i < n) {
		if (s[i] == '\0') {
			set_err(err, errlen, "body contains a NUL byte (at offset %zu)", i);
			return -1;
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (!eightbit_ok) {
			set_err(err, errlen,
			    "body has 8-bit bytes (first at offset %zu) but the server does not "
			    "offer 8BITMIME",
			    i);
			return -1;
		}
		if ((k = mxt_utf8_decode(s + i, n - i, &cp)) == 0) {
			set_err(err, errlen, "body is not valid UTF-8 (at offset %zu)", i);
			return -1;
		}
		*eightbit = 1;
		i += k;
	}
	return 0;
}

/* Emit one body line (without its line break).  RFC 5322 §2.1.1: at most
 * 998 octets before CRLF, so a longer line is hard-wrapped, at a UTF-8
 * character boundary.  RFC 5321 §4.5.2: each output line that starts with
 * "." gets another "." in front; the stuffed dot counts towards the 998. */
static void
emit_line(struct buf *b, const unsigned char *s, size_t n)
{
	size_t max, k;

	do {
		max = MXT_DATA_LINE_MAX;
		if (n > 0 && s[0] == '.') {
			buf_add(b, ".", 1);
			max--;
		}
		k = n < max ? n : max;
		/* Do not cut a UTF-8 character: back up to its first byte. */
		while (k < n && k > 0 && (s[k] & 0xc0) == 0x80)
			k--;
		if (k == 0 && n > 0)
			k = n < max ? n : max; /* not UTF-8 (never after check_body) */
		buf_add(b, s, k);
		buf_add(b, "\r\n", 2);
		s += k;
		n -= k;
	} while (n > 0);
}

/* Emit the body with every line ending normalised to CRLF.  CRLF, LF and a
 * lone CR each end one line (RFC 5321 §2.3.8: never send a bare CR or LF);
 * a last line without a line break gets one. */
static void
emit_body(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i = 0, start = 0;

	while (i < n) {
		if (s[i] != '\r' && s[i] != '\n') {
			i++;
			continue;
		}
		emit_line(b, s + start, i - start);
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		start = ++i;
	}
	if (start < n)
		emit_line(b, s + start, n - start);
}

/* RFC 5322 §3.3 date-time in UTC, e.g. "Thu, 01 Jan 1970 00:00:00 +0000".
 * gmtime_r() gives the civil date; strftime() writes only the digits (%d,
 * %Y, %T do not depend on the locale), and the day and month names come
 * from fixed English tables (RFC 5322 §3.3 day-name, month-name), never
 * from the locale's %a and %b.  Refuses times before 1970 or past year
 * 9999. */
static int
format_date(int64_t t, char *out, size_t outlen)
{
	static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[12] = {
	    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt;
	struct tm tm;
	char day[4], rest[32];
	int n;

	if (t < 0 || t > DATE_MAX)
		return -1;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11)
		return -1;
	if (strftime(day, sizeof(day), "%d", &tm) == 0 ||
	    strftime(rest, sizeof(rest), "%Y %H:%M:%S +0000", &tm) == 0)
		return -1;
	n = snprintf(out, outlen, "%s, %s %s %s", wdays[tm.tm_wday], day, months[tm.tm_mon], rest);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* The domain for Message-ID and the null sender's From: the EHLO name when
 * it is a host name (RFC 5322 §3.6.4 suggests a domain identifying the
 * host), without a trailing dot; otherwise (address literal, missing,
 * invalid) "mxtrace.invalid". */
static void
id_domain(const char *ehlo, char *out, size_t outlen)
{
	size_t n;

	if (ehlo == NULL || !mxt_valid_hostname(ehlo) || (n = strlen(ehlo)) >= outlen) {
		snprintf(out, outlen, "%s", FALLBACK_DOMAIN);
		return;
	}
	if (ehlo[n - 1] == '.')
		n--;
	snprintf(out, outlen, "%.*s", (int)n, ehlo);
}

/* "To:" with every recipient as an addr-spec, folded before an address
 * whenever the line (with its trailing comma) would pass 78 columns
 * (RFC 5322 §2.2.3 folding, §3.6.3 address-list).  No recipients gives the
 * empty group "undisclosed-recipients:;" (RFC 5322 §3.4). */
static void
emit_to(struct buf *b, char *const *to, size_t nto)
{
	size_t i, col, alen, comma;

	if (nto == 0) {
		buf_str(b, "To: undisclosed-recipients:;\r\n");
		return;
	}
	buf_str(b, "To: ");
	col = 4;
	for (i = 0; i < nto; i++) {
		alen = strlen(to[i]);
		comma = i + 1 < nto;
		if (i > 0) {
			if (col + 1 + alen + comma > HEADER_WIDTH) {
				buf_str(b, ",\r\n ");
				col = 1;
			} else {
				buf_str(b, ", ");
				col += 2;
			}
		}
		buf_add(b, to[i], alen);
		col += alen;
	}
	buf_str(b, "\r\n");
}

/* Append padding lines of "X" so that exactly gap octets are added
 * (gap >= 2): lines of 76 "X" and CRLF, the remainder as a shorter line; a
 * remainder of one octet makes one line 77 "X" long instead. */
static void
emit_padding(struct buf *b, uint64_t gap)
{
	uint64_t full = gap / (PAD_LINE + 2), rest = gap % (PAD_LINE + 2);

	if (buf_reserve(b, (size_t)gap) != 0)
		return;
	if (rest == 1) {
		full--; /* gap >= 2, so full >= 1 here */
		buf_fill(b, 'X', PAD_LINE + 1);
		buf_add(b, "\r\n", 2);
		rest = 0;
	}
	for (; full > 0; full--) {
		buf_fill(b, 'X', PAD_LINE);
		buf_add(b, "\r\n", 2);
	}
	if (rest >= 2) {
		buf_fill(b, 'X', (size_t)(rest - 2));
		buf_add(b, "\r\n", 2);
	}
}

/* The default body: who sent this and why, with the date. */
static void
emit_default_body(struct buf *b, const char *date, const char *msgid)
{
	buf_str(b,
	    "This is a test message sent by mxtrace " MXT_VERSION ", an SMTP\r\n"
	    "diagnostic tool, on request of the person who ran it.\r\n"
	    "\r\n");
	buf_fmt(b, "Sent: %s\r\n", date);
	buf_fmt(b, "Message-ID: %s\r\n", msgid);
	buf_str(b,
	    "\r\n"
	    "No action is needed; you can delete this message.\r\n");
}

/* Check every address that goes into the header; the CLI has validated
 * them, but this is what keeps CR/LF out of the header whoever the caller
 * is (header injection). */
static int
check_addresses(const struct mxt_message_params *p, char *err, size_t errlen)
{
	char why[160];
	size_t i;

	if (p->from == NULL || !mxt_valid_mailbox(p->from, 1, why, sizeof(why))) {
		set_err(err, errlen, "sender address: %s", p->from == NULL ? "missing" : why);
		return -1;
	}
	if (p->nto > 0 && p->to == NULL) {
		set_err(err, errlen, "recipient list missing");
		return -1;
	}
	for (i = 0; i < p->nto; i++) {
		if (p->to[i] == NULL || !mxt_valid_mailbox(p->to[i], 0, why, sizeof(why))) {
			set_err(err, errlen, "recipient %zu: %s", i + 1,
			    p->to[i] == NULL ? "missing" : why);
			return -1;
		}
	}
	return 0;
}

/* Build the message (see message.h). */
int
mxt_message_build(
    const struct mxt_message_params *p, char **out, size_t *len, char *err, size_t errlen)
{
	char date[64], domain[MXT_DOMAIN_MAX + 2], msgid[128 + MXT_DOMAIN_MAX];
	const unsigned char *body;
	struct buf b = {NULL, 0, 0, 0};
	size_t body_len, xmailer_end;
	int eightbit = 0;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (p == NULL || out == NULL || len == NULL) {
		set_err(err, errlen, "internal error: missing argument");
		return -1;
	}
	if (check_addresses(p, err, errlen) != 0)
		return -1;
	if (p->body != NULL && p->body_file_data != NULL) {
		set_err(err, errlen, "give a body text or a body file, not both");
		return -1;
	}
	if (p->body_file_data != NULL) {
		body = (const unsigned char *)p->body_file_data;
		body_len = p->body_file_len;
	} else {
		body = (const unsigned char *)p->body;
		body_len = p->body != NULL ? strlen(p->body) : 0;
	}
	if (body_len > 0 && check_body(body, body_len, p->eightbit_ok, &eightbit, err, errlen) != 0)
		return -1;
	if (format_date(p->now, date, sizeof(date)) != 0) {
		set_err(err, errlen,
		    "clock value %" PRId64 " cannot be written as a Date: header (years "
		    "1970-9999 only)",
		    p->now);
		return -1;
	}
	id_domain(p->ehlo, domain, sizeof(domain));
	/* RFC 5322 §3.6.4: a unique left side; time and 64 random bits. */
	snprintf(msgid, sizeof(msgid), "<mxtrace.%" PRId64 ".%016" PRIx64 "@%s>", p->now, p->rand,
	    domain);

	if (p->from[0] != '\0')
		buf_fmt(&b, "From: %s\r\n", p->from);
	else
		buf_fmt(&b, "From: mxtrace <postmaster@%s>\r\n", domain);
	emit_to(&b, p->to, p->nto);
	buf_fmt(&b, "Subject: mxtrace test message %08" PRIx32 "\r\n", (uint32_t)(p->rand >> 32));
	buf_fmt(&b, "Date: %s\r\n", date);
	buf_fmt(&b, "Message-ID: %s\r\n", msgid);
	/* RFC 2045 §4, §5.1, §6.1; RFC 6152 §3 for 8bit. */
	buf_str(&b, "MIME-Version: 1.0\r\n");
	buf_fmt(&b, "Content-Type: text/plain; charset=%s\r\n", eightbit ? "utf-8" : "us-ascii");
	buf_fmt(&b, "Content-Transfer-Encoding: %s\r\n", eightbit ? "8bit" : "7bit");
	buf_str(&b, "X-Mailer: mxtrace/" MXT_VERSION "\r\n");
	xmailer_end = b.len;
	buf_str(&b, "\r\n");

	if (body_len > 0)
		emit_body(&b, body, body_len);
	else
		emit_default_body(&b, date, msgid);

	if (!b.failed && p->pad_to > b.len) {
		if (p->pad_to >= SIZE_MAX) {
			b.failed = 1;
		} else if (p->pad_to - b.len == 1) {
			/* No line fits in one octet: a trailing space on
			 * X-Mailer (RFC 5322 §3.2.5 unstructured *WSP). */
			if (buf_reserve(&b, 1) == 0) {
				memmove(b.p + xmailer_end - 1, b.p + xmailer_end - 2,
				    b.len - (xmailer_end - 2) + 1);
				b.p[xmailer_end - 2] = ' ';
				b.len++;
			}
		} else {
			emit_padding(&b, p->pad_to - b.len);
		}
	}
	if (b.failed) {
		free(b.p);
		if (p->pad_to > 0)
			set_err(err, errlen,
			    "cannot build a message of %" PRIu64 " octets: out of memory",
			    p->pad_to);
		else
			set_err(err, errlen, "cannot build the message: out of memory");
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
