/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the test-message builder (src/smtp/message.c): header
 * syntax, Date for fixed clocks (checked against gmtime_r/strftime in the C
 * locale), Message-ID and From choices, To folding, body normalisation
 * (LF/CR/CRLF, dot-stuffing, the SMTP smuggling sequences of
 * CVE-2023-51764/51765/51766, 998-octet lines), 8-bit and NUL refusal, the
 * default body and exact padding (RFC 5321 §4.5.2, §2.3.8, §4.5.3.1.6).  Every
 * output is scanned byte by byte for bare CR/LF and "\r\n.\r\n".
 */
#include <inttypes.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxt_config.h"
#include "mxtrace/message.h"
#include "t.h"

#define B(s) (s), (sizeof(s) - 1)

static char *const one_rcpt[] = {"bob@example.net"};

/* A result of mxt_message_build. */
struct res {
	int rc;
	char *out;
	size_t len;
	char err[256];
};

/* Parameters every test starts from. */
static struct mxt_message_params
base(void)
{
	struct mxt_message_params p;

	memset(&p, 0, sizeof(p));
	p.from = "alice@example.org";
	p.to = one_rcpt;
	p.nto = 1;
	p.ehlo = "client.example.org";
	p.now = 1795542956;
	p.rand = UINT64_C(0x0123456789abcdef);
	return p;
}

static void
build(const struct mxt_message_params *p, struct res *r)
{
	memset(r, 0, sizeof(*r));
	r->rc = mxt_message_build(p, &r->out, &r->len, r->err, sizeof(r->err));
}

static void
res_free(struct res *r)
{
	free(r->out);
	r->out = NULL;
}

/* Build with body file bytes. */
static void
build_file(const char *s, size_t n, int eightbit_ok, struct res *r)
{
	struct mxt_message_params p = base();

	p.body_file_data = s;
	p.body_file_len = n;
	p.eightbit_ok = eightbit_ok;
	build(&p, r);
}

static const char *
find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i;

	if (nlen > hlen)
		return NULL;
	for (i = 0; i + nlen <= hlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

/* RFC 5321 §2.3.8: every CR is followed by LF and every LF follows a CR;
 * no NUL; the output ends in CRLF. */
static int
crlf_clean(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			return 0;
		if (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'))
			return 0;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 0;
	}
	return 1;
}

/* The longest line, CRLF not counted. */
static size_t
longest_line(const char *s, size_t n)
{
	size_t i, start = 0, max = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n') {
			size_t l = i - start - (i > start && s[i - 1] == '\r');

			if (l > max)
				max = l;
			start = i + 1;
		}
	}
	if (n - start > max)
		max = n - start;
	return max;
}

/* No end-of-data sequence anywhere (the caller sends the only one). */
static int
no_eod(const char *s, size_t n)
{
	return find(s, n, B("\r\n.\r\n")) == NULL && !(n >= 3 && memcmp(s, ".\r\n", 3) == 0);
}

/* All three wire properties at once (for loops). */
static int
wire_ok(const char *s, size_t n)
{
	return crlf_clean(s, n) && longest_line(s, n) <= 998 && no_eod(s, n);
}

/* The body: what follows the first empty line. */
static const char *
body_of(const struct res *r, size_t *blen)
{
	const char *e = find(r->out, r->len, B("\r\n\r\n"));

	if (e == NULL) {
		*blen = 0;
		return "";
	}
	e += 4;
	*blen = r->len - (size_t)(e - r->out);
	return e;
}

static int
body_is(const struct res *r, const char *want, size_t wlen)
{
	size_t blen;
	const char *b = body_of(r, &blen);

	return r->rc == 0 && blen == wlen && memcmp(b, want, wlen) == 0;
}

/* The header section is well-formed: each line is "Name: value" (name of
 * printable ASCII without ':', RFC 5322 §2.2) or a folded continuation
 * starting with a space or tab, at most 78 columns here, all ending CRLF,
 * then exactly one empty line. */
static int
header_ok(const struct res *r)
{
	const char *s = r->out, *e = find(r->out, r->len, B("\r\n\r\n"));
	const char *eol;
	size_t i, n;

	if (e == NULL || r->len < 2)
		return 0;
	n = (size_t)(e - s) + 2;
	while (n > 0) {
		eol = find(s, n, B("\r\n"));
		if (eol == NULL || eol == s || (size_t)(eol - s) > 78)
			return 0;
		if (s[0] == ' ' || s[0] == '\t') {
			if (s == r->out)
				return 0;
		} else {
			for (i = 0; s + i < eol && s[i] != ':'; i++)
				if (s[i] < 33 || s[i] > 126)
					return 0;
			if (s + i >= eol || i == 0 || s[i + 1] != ' ')
				return 0;
		}
		for (i = 0; s + i < eol; i++)
			if (s[i] == '\r' || s[i] == '\n' || (unsigned char)s[i] >= 0x80)
				return 0;
		n -= (size_t)(eol - s) + 2;
		s = eol + 2;
	}
	return 1;
}

/* The unfolded value of header name (RFC 5322 §2.2.3), or "" when absent;
 * the result is static. */
static const char *
header(const struct res *r, const char *name)
{
	static char v[4096];
	const char *e = find(r->out, r->len, B("\r\n\r\n"));
	const char *s = r->out, *end;
	size_t nl = strlen(name), k = 0;

	v[0] = '\0';
	if (e == NULL)
		return v;
	end = e + 2;
	while (s < end) {
		if ((s == r->out || s[-1] == '\n') && (size_t)(end - s) > nl + 1 &&
		    memcmp(s, name, nl) == 0 && s[nl] == ':') {
			s += nl + 1;
			if (*s == ' ')
				s++;
			while (s < end && k + 1 < sizeof(v)) {
				if (s[0] == '\r' && s[1] == '\n') {
					if (s[2] != ' ' && s[2] != '\t')
						break;
					s += 2;
					continue;
				}
				v[k++] = *s++;
			}
			v[k] = '\0';
			return v;
		}
		s++;
	}
	return v;
}

/* Header lines of "To:" (the first and its continuations). */
static size_t
to_lines(const struct res *r, size_t *longest)
{
	const char *s = find(r->out, r->len, B("\r\nTo: ")), *eol;
	size_t n = 0;

	*longest = 0;
	if (s == NULL)
		return 0;
	s += 2;
	do {
		eol = find(s, r->len - (size_t)(s - r->out), B("\r\n"));
		if (eol == NULL)
			return 0;
		if ((size_t)(eol - s) > *longest)
			*longest = (size_t)(eol - s);
		n++;
		s = eol + 2;
	} while (*s == ' ');
	return n;
}

/* Decode the body as a receiver does: CRLF lines, one leading dot removed,
 * joined with LF.  Returns a new string (length in *dlen). */
static char *
decode_body(const struct res *r, size_t *dlen)
{
	size_t blen, i, k = 0;
	const char *b = body_of(r, &blen);
	char *d = malloc(blen + 1);
	int bol = 1;

	if (d == NULL)
		exit(99);
	for (i = 0; i < blen; i++) {
		if (bol && b[i] == '.') {
			bol = 0;
			continue;
		}
		bol = 0;
		if (b[i] == '\r' && i + 1 < blen && b[i + 1] == '\n') {
			d[k++] = '\n';
			i++;
			bol = 1;
			continue;
		}
		d[k++] = b[i];
	}
	d[k] = '\0';
	*dlen = k;
	return d;
}

/* The body text with line endings normalised the slow way: CRLF to LF,
 * then CR to LF, and a final LF when missing. */
static char *
normalise(const char *s, size_t n, size_t *olen)
{
	char *o = malloc(n + 2);
	size_t i, k = 0;

	if (o == NULL)
		exit(99);
	for (i = 0; i < n; i++) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		o[k++] = s[i] == '\r' ? '\n' : s[i];
	}
	if (k > 0 && o[k - 1] != '\n')
		o[k++] = '\n';
	*olen = k;
	return o;
}

static void
test_headers(void)
{
	struct mxt_message_params p = base();
	struct res r;
	size_t blen;
	const char *b;

	build(&p, &r);
	T_CHECK(r.rc == 0, "default message builds (%s)", r.err);
	T_CHECK(header_ok(&r), "header lines well-formed, CRLF, one empty line after");
	T_CHECK(crlf_clean(r.out, r.len), "no bare CR or LF, ends in CRLF");
	T_CHECK(no_eod(r.out, r.len), "no end-of-data sequence");
	T_CHECK(r.out[r.len] == '\0', "output NUL-terminated past len");
	T_CHECK(strcmp(header(&r, "From"), "alice@example.org") == 0, "From is the sender");
	T_CHECK(strcmp(header(&r, "To"), "bob@example.net") == 0, "To is the recipient");
	T_CHECK(strcmp(header(&r, "Subject"), "mxtrace test message 01234567") == 0,
	    "Subject with tag: %s", header(&r, "Subject"));
	T_CHECK(strcmp(header(&r, "Date"), "Tue, 24 Nov 2026 17:55:56 +0000") == 0,
	    "Date for 1795542956: %s", header(&r, "Date"));
	T_CHECK(strcmp(header(&r, "Message-ID"),
		    "<mxtrace.1795542956.0123456789abcdef@client.example.org>") == 0,
	    "Message-ID: %s", header(&r, "Message-ID"));
	T_CHECK(strcmp(header(&r, "MIME-Version"), "1.0") == 0, "MIME-Version 1.0");
	T_CHECK(strcmp(header(&r, "Content-Type"), "text/plain; charset=us-ascii") == 0,
	    "ASCII body: charset us-ascii");
	T_CHECK(strcmp(header(&r, "Content-Transfer-Encoding"), "7bit") == 0, "ASCII body: 7bit");
	T_CHECK(strcmp(header(&r, "X-Mailer"), "mxtrace/" MXT_VERSION) == 0, "X-Mailer");
	b = body_of(&r, &blen);
	T_CHECK(blen > 0 && b[0] != '\r', "exactly one empty line between header and body");
	res_free(&r);

	/* Null sender: From falls back to postmaster at the EHLO name. */
	p.from = "";
	build(&p, &r);
	T_CHECK(
	    r.rc == 0 && strcmp(header(&r, "From"), "mxtrace <postmaster@client.example.org>") == 0,
	    "null sender: From %s", header(&r, "From"));
	res_free(&r);

	/* EHLO name with a trailing dot: dropped. */
	p.ehlo = "client.example.org.";
	build(&p, &r);
	T_CHECK(r.rc == 0 &&
		strcmp(header(&r, "Message-ID"),
		    "<mxtrace.1795542956.0123456789abcdef@client.example.org>") == 0,
	    "EHLO trailing dot dropped: %s", header(&r, "Message-ID"));
	res_free(&r);

	/* EHLO as an address literal, missing, or with CR/LF: mxtrace.invalid. */
	p.ehlo = "[192.0.2.1]";
	build(&p, &r);
	T_CHECK(r.rc == 0 &&
		strcmp(header(&r, "Message-ID"),
		    "<mxtrace.1795542956.0123456789abcdef@mxtrace.invalid>") == 0,
	    "EHLO address literal: %s", header(&r, "Message-ID"));
	T_CHECK(strcmp(header(&r, "From"), "mxtrace <postmaster@mxtrace.invalid>") == 0,
	    "null sender, EHLO literal: From %s", header(&r, "From"));
	res_free(&r);
	p.ehlo = NULL;
	build(&p, &r);
	T_CHECK(r.rc == 0 && find(r.out, r.len, B("@mxtrace.invalid>\r\n")) != NULL,
	    "no EHLO name: mxtrace.invalid");
	res_free(&r);
	p.ehlo = "evil.example\r\nBcc: x@example.com";
	build(&p, &r);
	T_CHECK(r.rc == 0 && find(r.out, r.len, B("Bcc")) == NULL &&
		find(r.out, r.len, B("@mxtrace.invalid>\r\n")) != NULL,
	    "EHLO with CRLF is not used");
	res_free(&r);
	p.ehlo = "10.0.0.1";
	build(&p, &r);
	T_CHECK(r.rc == 0 && find(r.out, r.len, B("@mxtrace.invalid>\r\n")) != NULL,
	    "EHLO as a bare IP is not a name");
	res_free(&r);

	/* Header injection through the addresses is refused. */
	p = base();
	p.from = "alice@example.org\r\nBcc: x@example.com";
	build(&p, &r);
	T_CHECK(r.rc == -1 && r.out == NULL && r.len == 0 && strstr(r.err, "sender") != NULL,
	    "sender with CRLF refused: %s", r.err);
	p = base();
	{
		char *const bad[] = {"bob@example.net", "carol@example.net\nX-Evil: 1"};

		p.to = bad;
		p.nto = 2;
		build(&p, &r);
		T_CHECK(r.rc == -1 && strstr(r.err, "recipient 2") != NULL,
		    "recipient with LF refused: %s", r.err);
	}

	/* No recipients: an empty group. */
	p = base();
	p.nto = 0;
	p.to = NULL;
	build(&p, &r);
	T_CHECK(r.rc == 0 && strcmp(header(&r, "To"), "undisclosed-recipients:;") == 0,
	    "no recipients: %s", header(&r, "To"));
	res_free(&r);

	/* A tiny err buffer is not overrun; a NULL one is allowed. */
	{
		char small[8];

		p = base();
		p.body_file_data = "a\0b";
		p.body_file_len = 3;
		memset(small, 'Z', sizeof(small));
		r.rc = mxt_message_build(&p, &r.out, &r.len, small, sizeof(small));
		T_CHECK(r.rc == -1 && small[7] == '\0' && strlen(small) == 7,
		    "err truncated to its buffer: %s", small);
		r.rc = mxt_message_build(&p, &r.out, &r.len, NULL, 0);
		T_CHECK(r.rc == -1, "NULL err buffer");
		T_CHECK(mxt_message_build(NULL, &r.out, &r.len, r.err, sizeof(r.err)) == -1,
		    "NULL params refused");
	}
}

/* Date for one clock value. */
static const char *
date_for(int64_t now, int *rc)
{
	static char d[256];
	struct mxt_message_params p = base();
	struct res r;

	p.now = now;
	build(&p, &r);
	*rc = r.rc;
	snprintf(d, sizeof(d), "%s", r.rc == 0 ? header(&r, "Date") : r.err);
	res_free(&r);
	return d;
}

static void
test_date(void)
{
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
	    {1795542956, "Tue, 24 Nov 2026 17:55:56 +0000"},
	    {68169600, "Tue, 29 Feb 1972 00:00:00 +0000"},
	    {951782400, "Tue, 29 Feb 2000 00:00:00 +0000"},
	    {1709251199, "Thu, 29 Feb 2024 23:59:59 +0000"},
	    {4107542400, "Mon, 01 Mar 2100 00:00:00 +0000"},
	    {INT64_C(253402300799), "Fri, 31 Dec 9999 23:59:59 +0000"},
	};
	const char *loc = NULL, *d;
	char want[64];
	struct tm tm;
	time_t tt;
	size_t i, bad = 0;
	uint64_t x = 88172645463325252u;
	int64_t t;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = date_for(cases[i].t, &rc);
		T_CHECK(rc == 0 && strcmp(d, cases[i].want) == 0, "Date %" PRId64 ": %s",
		    cases[i].t, d);
	}
	d = date_for(-1, &rc);
	T_CHECK(rc == -1 && strstr(d, "Date") != NULL, "clock before 1970 refused: %s", d);
	d = date_for(INT64_C(253402300800), &rc);
	T_CHECK(rc == -1, "clock past 9999 refused");
	d = date_for(INT64_MAX, &rc);
	T_CHECK(rc == -1, "INT64_MAX clock refused");

	/* Against gmtime_r + strftime in the C locale, at day edges and at
	 * random points up to 2200. */
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = i < 10000 ? (int64_t)i * 86400 * 7 + (int64_t)(i % 2) * 86399
			      : (int64_t)(x % UINT64_C(7258118400));
		tt = (time_t)t;
		if (gmtime_r(&tt, &tm) == NULL ||
		    strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0) {
			bad++;
			continue;
		}
		d = date_for(t, &rc);
		if (rc != 0 || strcmp(d, want) != 0) {
			if (bad++ == 0)
				printf("# %" PRId64 ": got %s, want %s\n", t, d, want);
		}
	}
	T_CHECK(bad == 0, "20000 dates match gmtime_r (%zu differ)", bad);

	/* The names stay English whatever the locale (none may be installed). */
	if ((loc = setlocale(LC_ALL, "tr_TR.UTF-8")) == NULL)
		loc = setlocale(LC_ALL, "de_DE.UTF-8");
	printf("# locale for the next check: %s\n", loc != NULL ? loc : "C (no other installed)");
	d = date_for(1795542956, &rc);
	T_CHECK(rc == 0 && strcmp(d, "Tue, 24 Nov 2026 17:55:56 +0000") == 0,
	    "Date independent of the locale: %s", d);
	setlocale(LC_ALL, "C");
}

static void
test_dots(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
		size_t wn;
		const char *name;
	} cases[] = {
	    {B(".hidden\n"), B("..hidden\r\n"), "leading dot doubled"},
	    {B("."), B("..\r\n"), "lone dot, no newline"},
	    {B(".\n"), B("..\r\n"), "lone dot line"},
	    {B("a\n.\nb\n"), B("a\r\n..\r\nb\r\n"), "smuggling \\n.\\n"},
	    {B("a\n.\r\nb\r\n"), B("a\r\n..\r\nb\r\n"), "smuggling \\n.\\r\\n"},
	    {B("a\r.\rb"), B("a\r\n..\r\nb\r\n"), "smuggling \\r.\\r"},
	    {B("a\r\n.\r\nMAIL FROM:<x@y>\r\n"), B("a\r\n..\r\nMAIL FROM:<x@y>\r\n"),
		"end-of-data in the body"},
	    {B("a\r\n.\nb"), B("a\r\n..\r\nb\r\n"), "smuggling \\r\\n.\\n"},
	    {B("a\n..\n"), B("a\r\n...\r\n"), "two dots become three"},
	    {B("a.b\n .c\n"), B("a.b\r\n .c\r\n"), "dots not at line start kept"},
	};
	struct res r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_file(cases[i].in, cases[i].n, 0, &r);
		T_CHECK(body_is(&r, cases[i].want, cases[i].wn), "%s: body", cases[i].name);
		T_CHECK(r.rc == 0 && crlf_clean(r.out, r.len) && no_eod(r.out, r.len),
		    "%s: no bare CR/LF, no \\r\\n.\\r\\n", cases[i].name);
		res_free(&r);
	}
}

static void
test_line_endings(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
		size_t wn;
		const char *name;
	} cases[] = {
	    {B("line1\r\nline2\r\n"), B("line1\r\nline2\r\n"), "CRLF kept, not doubled"},
	    {B("line1\nline2\n"), B("line1\r\nline2\r\n"), "LF becomes CRLF"},
	    {B("line1\rline2\r"), B("line1\r\nline2\r\n"), "lone CR becomes CRLF"},
	    {B("a\rb\nc\r\nd"), B("a\r\nb\r\nc\r\nd\r\n"), "mixed endings"},
	    {B("a\r\r\nb"), B("a\r\n\r\nb\r\n"), "CR then CRLF: two line ends"},
	    {B("a\n\r"), B("a\r\n\r\n"), "LF then CR: two line ends"},
	    {B("x"), B("x\r\n"), "final newline added"},
	    {B("\n"), B("\r\n"), "one empty line"},
	    {B("tab\there \x1b[0m\n"), B("tab\there \x1b[0m\r\n"), "other controls kept"},
	};
	struct mxt_message_params p;
	struct res r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_file(cases[i].in, cases[i].n, 0, &r);
		T_CHECK(body_is(&r, cases[i].want, cases[i].wn) && crlf_clean(r.out, r.len), "%s",
		    cases[i].name);
		res_free(&r);
	}

	/* --body text goes through the same path. */
	p = base();
	p.body = "hello\n.\nworld";
	build(&p, &r);
	T_CHECK(body_is(&r, B("hello\r\n..\r\nworld\r\n")), "--body text normalised");
	res_free(&r);
	p.body_file_data = "x";
	p.body_file_len = 1;
	build(&p, &r);
	T_CHECK(r.rc == -1 && strstr(r.err, "not both") != NULL, "body and body file: %s", r.err);
}

static void
test_default_body(void)
{
	struct mxt_message_params p = base();
	struct res r;
	size_t blen;
	const char *b;

	build(&p, &r);
	b = body_of(&r, &blen);
	T_CHECK(r.rc == 0 && find(b, blen, B("test message sent by mxtrace")) != NULL,
	    "no body: default text");
	T_CHECK(find(b, blen, B("Tue, 24 Nov 2026 17:55:56 +0000")) != NULL,
	    "default text has the date");
	res_free(&r);
	p.body = "";
	build(&p, &r);
	b = body_of(&r, &blen);
	T_CHECK(r.rc == 0 && find(b, blen, B("test message sent by mxtrace")) != NULL,
	    "empty --body: default text");
	res_free(&r);
	p.body = NULL;
	p.body_file_data = "";
	p.body_file_len = 0;
	build(&p, &r);
	b = body_of(&r, &blen);
	T_CHECK(r.rc == 0 && find(b, blen, B("test message sent by mxtrace")) != NULL,
	    "empty body file: default text");
	res_free(&r);
}

/* Is every body line, CRLF not counted, at most hi octets long? */
static int
body_lines_within(const struct res *r, size_t hi)
{
	size_t blen;
	const char *b = body_of(r, &blen);

	return longest_line(b, blen) <= hi;
}

static void
test_long_lines(void)
{
	char *in, *d;
	struct res r;
	size_t i, k, dlen, blen;
	const char *b;
	int ok;

	if ((in = malloc(4001)) == NULL)
		exit(99);

	/* 2000 "A": 998 + 998 + 4. */
	memset(in, 'A', 2000);
	build_file(in, 2000, 0, &r);
	T_CHECK(r.rc == 0 && longest_line(r.out, r.len) <= 998, "2000-octet line folded to <= 998");
	b = body_of(&r, &blen);
	T_CHECK(blen == 2006 && b[998] == '\r' && b[1998] == '\r' && b[2004] == '\r',
	    "hard-wrapped at 998, 998, 4");
	T_CHECK(crlf_clean(r.out, r.len), "folded: no bare CR/LF");
	res_free(&r);

	/* Exactly 998 stays one line; 999 wraps. */
	build_file(in, 998, 0, &r);
	b = body_of(&r, &blen);
	T_CHECK(r.rc == 0 && blen == 1000, "998-octet line kept whole");
	res_free(&r);
	build_file(in, 999, 0, &r);
	b = body_of(&r, &blen);
	T_CHECK(r.rc == 0 && blen == 1003 && b[998] == '\r', "999-octet line wraps after 998");
	res_free(&r);

	/* 2000 dots: every piece starts with ".", is stuffed, and still fits. */
	memset(in, '.', 2000);
	build_file(in, 2000, 0, &r);
	d = decode_body(&r, &dlen);
	T_CHECK(r.rc == 0 && body_lines_within(&r, 998) && no_eod(r.out, r.len),
	    "2000 dots: lines <= 998 with the stuffed dot");
	for (i = 0, ok = 1; i < dlen; i++)
		ok &= d[i] == '.' || d[i] == '\n';
	T_CHECK(ok && dlen == 2000 + 3, "2000 dots: all come back after unstuffing");
	free(d);
	res_free(&r);

	/* "a" and 1000 "é" with 8BITMIME: a cut after 998 octets would split
	 * a character, so the first line ends after 997. */
	in[0] = 'a';
	for (i = 1; i < 2001; i += 2) {
		in[i] = (char)0xc3;
		in[i + 1] = (char)0xa9;
	}
	build_file(in, 2001, 1, &r);
	b = body_of(&r, &blen);
	T_CHECK(r.rc == 0 && body_lines_within(&r, 998), "UTF-8 line folded to <= 998");
	T_CHECK(blen > 998 && b[997] == '\r' && (unsigned char)b[996] == 0xa9,
	    "UTF-8 fold backs up to a character boundary");
	d = decode_body(&r, &dlen);
	for (i = 1, ok = dlen > 0 && d[0] == 'a', k = 0; i < dlen; i++)
		if (d[i] != '\n')
			ok &= (unsigned char)d[i] == ((k++ % 2) ? 0xa9 : 0xc3);
	T_CHECK(ok && k == 2000, "UTF-8 folded text intact");
	free(d);
	res_free(&r);
	free(in);
}

static void
test_eightbit(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *name;
	} invalid[] = {
	    {B("\xff\n"), "byte ff"},
	    {B("caf\xc3"), "truncated sequence"},
	    {B("\xc0\xaf\n"), "overlong slash"},
	    {B("\xed\xa0\x80\n"), "surrogate"},
	    {B("\xf4\x90\x80\x80\n"), "above U+10FFFF"},
	    {B("\x80\n"), "stray continuation"},
	    {B("\xe2\x82\n\xac"), "sequence split by a line break"},
	};
	struct res r;
	size_t i;

	build_file(B("caf\xc3\xa9\n"), 0, &r);
	T_CHECK(r.rc == -1 && strstr(r.err, "8BITMIME") != NULL,
	    "8-bit refused without 8BITMIME: %s", r.err);
	T_CHECK(r.out == NULL && r.len == 0, "refusal leaves no output");
	build_file(B("caf\xc3\xa9\n"), 1, &r);
	T_CHECK(r.rc == 0, "8-bit accepted with 8BITMIME (%s)", r.err);
	T_CHECK(strcmp(header(&r, "Content-Type"), "text/plain; charset=utf-8") == 0,
	    "8-bit: charset utf-8");
	T_CHECK(strcmp(header(&r, "Content-Transfer-Encoding"), "8bit") == 0, "8-bit: 8bit");
	T_CHECK(body_is(&r, B("caf\xc3\xa9\r\n")), "8-bit body kept as is");
	T_CHECK(header_ok(&r), "8-bit: header still ASCII and well-formed");
	res_free(&r);
	build_file(B("plain\n"), 1, &r);
	T_CHECK(r.rc == 0 && strcmp(header(&r, "Content-Transfer-Encoding"), "7bit") == 0 &&
		strstr(header(&r, "Content-Type"), "us-ascii") != NULL,
	    "ASCII body with 8BITMIME offered: still us-ascii/7bit");
	res_free(&r);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		build_file(invalid[i].in, invalid[i].n, 1, &r);
		T_CHECK(r.rc == -1 && strstr(r.err, "UTF-8") != NULL, "invalid UTF-8 refused: %s",
		    invalid[i].name);
	}

	/* NUL anywhere, with or without 8BITMIME. */
	build_file(B("a\0b\n"), 0, &r);
	T_CHECK(r.rc == -1 && strstr(r.err, "NUL") != NULL, "NUL refused: %s", r.err);
	build_file(B("\0"), 1, &r);
	T_CHECK(r.rc == -1 && strstr(r.err, "NUL") != NULL, "lone NUL refused with 8BITMIME");
}

static void
test_to_folding(void)
{
	char addrs[20][32], *to[20], joined[1024];
	struct mxt_message_params p = base();
	struct res r;
	size_t i, n = 0, longest, lines;

	for (i = 0; i < 20; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "user%02zu@example.org", i);
		to[i] = addrs[i];
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%s%s", i ? ", " : "", to[i]);
	}
	p.to = to;
	p.nto = 20;
	build(&p, &r);
	lines = to_lines(&r, &longest);
	T_CHECK(r.rc == 0 && header_ok(&r), "20 recipients: header well-formed");
	T_CHECK(lines > 1 && longest <= 78, "To folded: %zu lines, longest %zu", lines, longest);
	T_CHECK(strcmp(header(&r, "To"), joined) == 0, "To unfolds to all 20 recipients");
	T_CHECK(crlf_clean(r.out, r.len), "folded To: no bare CR/LF");
	res_free(&r);

	/* An address longer than a header line stays whole on its own line. */
	{
		char lp[65], big[128], *two[3];

		memset(lp, 'l', 64);
		lp[64] = '\0';
		snprintf(big, sizeof(big), "%s@example.org", lp);
		two[0] = "a@example.org";
		two[1] = big;
		two[2] = "b@example.org";
		p.to = two;
		p.nto = 3;
		build(&p, &r);
		n = 0;
		snprintf(joined, sizeof(joined), "a@example.org, %s, b@example.org", big);
		T_CHECK(r.rc == 0 && strcmp(header(&r, "To"), joined) == 0 &&
			find(r.out, r.len, B(",\r\n lllll")) != NULL,
		    "long address on a line of its own");
		res_free(&r);
	}
}

/* Padding: lines of "X" only (the last may be empty), each ending CRLF. */
static int
only_padding(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != 'X' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return crlf_clean(s, n);
}

static void
test_padding(void)
{
	static const uint64_t gaps[] = {1, 2, 3, 4, 76, 77, 78, 79, 80, 155, 156, 157, 158, 999,
	    1000, 65536, 10 * 1000 * 1000 + 7};
	struct mxt_message_params p = base();
	struct res nat, r;
	size_t i, blen, nblen;
	const char *b, *nb;

	build(&p, &nat);
	T_CHECK(nat.rc == 0, "natural message");
	for (i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		p.pad_to = nat.len + gaps[i];
		build(&p, &r);
		T_CHECK(r.rc == 0 && r.len == p.pad_to, "pad +%" PRIu64 ": length %zu exact",
		    gaps[i], r.len);
		T_CHECK(wire_ok(r.out, r.len) && header_ok(&r),
		    "pad +%" PRIu64 ": CRLF clean, lines <= 998, header ok", gaps[i]);
		b = body_of(&r, &blen);
		nb = body_of(&nat, &nblen);
		if (gaps[i] == 1)
			T_CHECK(find(r.out, r.len, B("X-Mailer: mxtrace/" MXT_VERSION " \r\n")) &&
				blen == nblen && memcmp(b, nb, nblen) == 0,
			    "pad +1: trailing space on X-Mailer, body unchanged");
		else
			T_CHECK(memcmp(r.out, nat.out, nat.len) == 0 &&
				only_padding(r.out + nat.len, r.len - nat.len),
			    "pad +%" PRIu64 ": message unchanged, X lines appended", gaps[i]);
		res_free(&r);
	}

	/* Smaller than or equal to the natural size: left as is. */
	p.pad_to = nat.len - 1;
	build(&p, &r);
	T_CHECK(r.rc == 0 && r.len == nat.len && memcmp(r.out, nat.out, nat.len) == 0,
	    "pad_to below natural length: unchanged");
	res_free(&r);
	p.pad_to = nat.len;
	build(&p, &r);
	T_CHECK(r.rc == 0 && r.len == nat.len, "pad_to equal to natural length: unchanged");
	res_free(&r);

	/* Too large to allocate: a clear error, no crash. */
	p.pad_to = UINT64_MAX;
	build(&p, &r);
	T_CHECK(r.rc == -1 && r.out == NULL && strstr(r.err, "octets") != NULL,
	    "absurd pad_to refused: %s", r.err);
	res_free(&nat);
}

/* Random bodies of CR, LF, dots, spaces, letters and UTF-8: the output is
 * always clean, and unstuffing gives back the text with normalised line
 * endings (lines stay short, so no hard-wrap). */
static void
test_random_bodies(void)
{
	static const char alphabet[] = "\r\n\r\n..a .b";
	uint64_t x = 0x9e3779b97f4a7c15u;
	char in[400], *d, *norm;
	struct res r;
	size_t i, k, n, dlen, nlen, dirty = 0, differ = 0;

	for (i = 0; i < 5000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 1 + (size_t)(x % 300);
		for (k = 0; k < n; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (x % 17 == 0 && k + 2 <= n) {
				in[k++] = (char)0xc3;
				in[k] = (char)0xa9;
			} else {
				in[k] = alphabet[x % (sizeof(alphabet) - 1)];
			}
		}
		build_file(in, n, 1, &r);
		if (r.rc != 0 || !wire_ok(r.out, r.len) || !header_ok(&r)) {
			dirty++;
			res_free(&r);
			continue;
		}
		d = decode_body(&r, &dlen);
		norm = normalise(in, n, &nlen);
		if (dlen != nlen || memcmp(d, norm, nlen) != 0)
			differ++;
		free(d);
		free(norm);
		res_free(&r);
	}
	T_CHECK(dirty == 0, "5000 random bodies: CRLF clean, no end-of-data (%zu bad)", dirty);
	T_CHECK(
	    differ == 0, "5000 random bodies: round trip after unstuffing (%zu differ)", differ);
}

int
main(void)
{
	test_headers();
	test_date();
	test_dots();
	test_line_endings();
	test_default_body();
	test_long_lines();
	test_eightbit();
	test_to_folding();
	test_padding();
	test_random_bodies();
	return t_done();
}
