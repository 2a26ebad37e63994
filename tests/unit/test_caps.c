/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the EHLO capability parser (src/smtp/caps.c): real EHLO
 * replies from Postfix, Exim and OpenSMTPD, both AUTH forms, SIZE garbage
 * (RFC 1870 §4: digits only), the keyword and mechanism caps of
 * mxtrace/limits.h, lower-case keywords and control bytes.  Replies go through the reply parser, as
 * in a session.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/reply.h"
#include "t.h"

#define B(s) (s), (sizeof(s) - 1)

/* Parse one complete reply from bytes; exits on a test-setup failure. */
static void
reply_from(const char *s, size_t len, struct mxt_reply *r)
{
	struct mxt_reply_parser p;
	size_t used;

	if (mxt_reply_parser_init(&p) != 0 ||
	    mxt_reply_parser_feed(&p, s, len, &used) != MXT_REPLY_DONE || used != len) {
		fprintf(stderr, "bad test reply: %.*s\n", (int)len, s);
		exit(99);
	}
	mxt_reply_take(&p, r);
	mxt_reply_parser_free(&p);
}

/* Parse an EHLO reply given as bytes into caps. */
static int
caps_from(const char *s, size_t len, struct mxt_caps *caps)
{
	struct mxt_reply r;
	int rc;

	reply_from(s, len, &r);
	rc = mxt_caps_parse(&r, caps);
	mxt_reply_free(&r);
	return rc;
}

static int
line_is(const struct mxt_line *l, const char *s, size_t len)
{
	return l->len == len && memcmp(l->p, s, len) == 0 && l->p[len] == '\0';
}

static int
auth_is(const struct mxt_caps *c, const char *const *want, size_t n)
{
	size_t i;

	if (c->nauth != n)
		return 0;
	for (i = 0; i < n; i++) {
		if (strcmp(c->auth[i], want[i]) != 0)
			return 0;
	}
	return 1;
}

static void
test_postfix(void)
{
	struct mxt_caps c;

	T_CHECK(caps_from(B("250-mx1.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
			    "250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n"
			    "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"),
		    &c) == 0,
	    "postfix: parsed");
	T_CHECK(line_is(&c.greeting, B("mx1.example.test")), "postfix: greeting");
	T_CHECK(c.flags ==
		(MXT_CAP_PIPELINING | MXT_CAP_SIZE | MXT_CAP_VRFY | MXT_CAP_ETRN |
		    MXT_CAP_STARTTLS | MXT_CAP_ENHANCEDSTATUSCODES | MXT_CAP_8BITMIME |
		    MXT_CAP_DSN | MXT_CAP_SMTPUTF8 | MXT_CAP_CHUNKING),
	    "postfix: flags (0x%x)", c.flags);
	T_CHECK(c.size == 10240000 && !c.size_malformed, "postfix: SIZE 10240000");
	T_CHECK(
	    c.nauth == 0 && c.auth == NULL && !mxt_caps_has_auth(&c, "PLAIN"), "postfix: no AUTH");
	T_CHECK(c.nkeywords == 10, "postfix: 10 keyword lines");
	T_CHECK(c.nkeywords == 10 && line_is(&c.keywords[0], B("PIPELINING")) &&
		line_is(&c.keywords[1], B("SIZE 10240000")) &&
		line_is(&c.keywords[9], B("CHUNKING")),
	    "postfix: keyword lines kept as sent");
	T_CHECK(!c.malformed && !c.truncated, "postfix: clean");
	mxt_caps_free(&c);
	T_CHECK(c.keywords == NULL && c.greeting.p == NULL && c.nkeywords == 0, "free zeroes caps");
	mxt_caps_free(&c);
}

static void
test_exim(void)
{
	static const char *const mechs[] = {"PLAIN", "LOGIN"};
	struct mxt_caps c;

	T_CHECK(caps_from(B("250-mail.example.test Hello client.example.test [192.0.2.10]\r\n"
			    "250-SIZE 52428800\r\n250-LIMITS MAILMAX=1000 RCPTMAX=50000\r\n"
			    "250-8BITMIME\r\n250-PIPELINING\r\n250-PIPECONNECT\r\n"
			    "250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-STARTTLS\r\n"
			    "250-PRDR\r\n250 HELP\r\n"),
		    &c) == 0,
	    "exim: parsed");
	T_CHECK(line_is(&c.greeting, B("mail.example.test Hello client.example.test [192.0.2.10]")),
	    "exim: greeting");
	T_CHECK(c.flags ==
		(MXT_CAP_SIZE | MXT_CAP_8BITMIME | MXT_CAP_PIPELINING | MXT_CAP_AUTH |
		    MXT_CAP_CHUNKING | MXT_CAP_STARTTLS | MXT_CAP_PRDR),
	    "exim: flags (0x%x)", c.flags);
	T_CHECK(c.size == 52428800 && !c.size_malformed, "exim: SIZE");
	T_CHECK(auth_is(&c, mechs, 2), "exim: AUTH PLAIN LOGIN");
	T_CHECK(mxt_caps_has_auth(&c, "login") && mxt_caps_has_auth(&c, "PLAIN") &&
		!mxt_caps_has_auth(&c, "CRAM-MD5") && !mxt_caps_has_auth(&c, "PLAI") &&
		!mxt_caps_has_auth(&c, "PLAINX"),
	    "exim: has_auth is case-insensitive and exact");
	T_CHECK(
	    c.nkeywords == 10 && line_is(&c.keywords[1], B("LIMITS MAILMAX=1000 RCPTMAX=50000")),
	    "exim: unknown keywords kept");
	T_CHECK(!c.malformed && !c.truncated, "exim: clean");
	mxt_caps_free(&c);
}

static void
test_opensmtpd(void)
{
	static const char *const mechs[] = {"PLAIN", "LOGIN"};
	struct mxt_caps c;

	T_CHECK(
	    caps_from(B("250-mx.example.test Hello client.example.test [192.0.2.10], pleased to "
			"meet you\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
			"250-SIZE 36700160\r\n250-DSN\r\n250-AUTH PLAIN LOGIN\r\n250 HELP\r\n"),
		&c) == 0,
	    "opensmtpd: parsed");
	T_CHECK(c.flags ==
		(MXT_CAP_8BITMIME | MXT_CAP_ENHANCEDSTATUSCODES | MXT_CAP_SIZE | MXT_CAP_DSN |
		    MXT_CAP_AUTH),
	    "opensmtpd: flags (0x%x)", c.flags);
	T_CHECK(c.size == 36700160, "opensmtpd: SIZE");
	T_CHECK(auth_is(&c, mechs, 2), "opensmtpd: AUTH");
	T_CHECK(c.nkeywords == 6 && !c.malformed && !c.truncated, "opensmtpd: 6 lines, clean");
	mxt_caps_free(&c);
}

static void
test_auth(void)
{
	static const char *const all[] = {
	    "LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2", "SCRAM-SHA-256", "GS2-KRB5_X"};
	static const char *const login[] = {"LOGIN"};
	struct mxt_caps c;
	struct mxt_reply r;
	char buf[4096];
	size_t off, i;

	/* Both forms, lower case, duplicates across lines, extra spaces. */
	T_CHECK(caps_from(B("250-x\r\n250-AUTH LOGIN PLAIN CRAM-MD5\r\n"
			    "250-AUTH=LOGIN PLAIN XOAUTH2\r\n"
			    "250-auth  scram-sha-256 plain  \r\n250 Auth gs2-krb5_x\r\n"),
		    &c) == 0,
	    "auth: parsed");
	T_CHECK(auth_is(&c, all, 6), "auth: upper-cased, deduplicated, in order");
	T_CHECK(c.flags == MXT_CAP_AUTH && !c.malformed && !c.truncated, "auth: only AUTH, clean");
	T_CHECK(mxt_caps_has_auth(&c, "Scram-Sha-256") && !mxt_caps_has_auth(&c, "") &&
		!mxt_caps_has_auth(&c, NULL) && !mxt_caps_has_auth(NULL, "PLAIN"),
	    "auth: has_auth");
	mxt_caps_free(&c);

	T_CHECK(caps_from(B("250-x\r\n250 AUTH\r\n"), &c) == 0 && c.flags == MXT_CAP_AUTH &&
		c.nauth == 0 && !c.malformed,
	    "auth: AUTH without mechanisms");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250-x\r\n250 AUTH=\r\n"), &c) == 0 && c.flags == MXT_CAP_AUTH &&
		c.nauth == 0 && !c.malformed,
	    "auth: AUTH= without mechanisms");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250-x\r\n250 AUTH PL@IN LOGIN\r\n"), &c) == 0 && c.malformed &&
		auth_is(&c, login, 1) && (c.flags & MXT_CAP_AUTH),
	    "auth: a bad mechanism is skipped and flagged");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250-x\r\n250 SIZE=100\r\n"), &c) == 0 && !c.malformed &&
		c.flags == MXT_CAP_SIZE && c.size == 100,
	    "'=' tolerated as the separator (Courier XVERP=Courier style)");
	mxt_caps_free(&c);
	T_CHECK(
	    caps_from(B("250-x\r\n250 AUTHX PLAIN\r\n"), &c) == 0 && c.flags == 0 && c.nauth == 0,
	    "auth: AUTHX is not AUTH");
	mxt_caps_free(&c);

	/* MXT_AUTH_MECHS_MAX: at most 32 mechanisms; 5000 would not fit a reply line, so
	 * spread 40 over one line and repeat it. */
	off = 0;
	memcpy(buf, "250-x\r\n250-AUTH", 15);
	off = 15;
	for (i = 0; i < 40; i++) {
		int w = snprintf(buf + off, sizeof(buf) - off, " M%zu", i);

		off += (size_t)w;
	}
	memcpy(buf + off, "\r\n250 AUTH M39 M0 NEW\r\n", 23);
	off += 23;
	reply_from(buf, off, &r);
	T_CHECK(mxt_caps_parse(&r, &c) == 0, "auth: 40 mechanisms parsed");
	T_CHECK(c.nauth == MXT_AUTH_MECHS_MAX && c.truncated, "auth: capped at 32, truncated");
	T_CHECK(strcmp(c.auth[0], "M0") == 0 && strcmp(c.auth[31], "M31") == 0 &&
		!mxt_caps_has_auth(&c, "M32") && !mxt_caps_has_auth(&c, "NEW"),
	    "auth: the first 32 are kept");
	mxt_caps_free(&c);
	mxt_reply_free(&r);
}

/* One SIZE line; returns through *c. */
static void
size_case(const char *name, const char *line, int want_malformed, uint64_t want_size)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "250-x\r\n250 %s\r\n", line);
	struct mxt_caps c;

	T_CHECK(caps_from(buf, (size_t)n, &c) == 0 && c.size_malformed == want_malformed &&
		c.size == want_size && (c.flags & MXT_CAP_SIZE) && !c.malformed,
	    "size %s: malformed=%d size=%llu (got %d, %llu)", name, want_malformed,
	    (unsigned long long)want_size, c.size_malformed, (unsigned long long)c.size);
	mxt_caps_free(&c);
}

static void
test_size(void)
{
	struct mxt_caps c;

	size_case("absent", "SIZE", 0, 0);
	size_case("zero", "SIZE 0", 0, 0);
	size_case("plain", "SIZE 35882577", 0, 35882577);
	size_case("lower-case", "size 1000", 0, 1000);
	size_case("leading zeros", "SIZE 0010", 0, 10);
	size_case("trailing space", "SIZE 1000 ", 0, 1000);
	size_case("uint64 max", "SIZE 18446744073709551615", 0, UINT64_MAX);
	size_case("uint64 max + 1", "SIZE 18446744073709551616", 1, 0);
	size_case("huge", "SIZE 99999999999999999999999", 1, 0);
	size_case("negative", "SIZE -1", 1, 0);
	size_case("hex", "SIZE 0x10", 1, 0);
	size_case("exponent", "SIZE 1e9", 1, 0);
	size_case("plus sign", "SIZE +5", 1, 0);
	size_case("decimal point", "SIZE 10.5", 1, 0);
	size_case("two numbers", "SIZE 10 20", 1, 0);
	size_case("letters", "SIZE unlimited", 1, 0);

	T_CHECK(caps_from(B("250-x\r\n250-SIZE 1000\r\n250 SIZE 2000\r\n"), &c) == 0 &&
		c.size == 1000 && !c.size_malformed,
	    "size: the first SIZE line decides");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250-x\r\n250-SIZE -1\r\n250 SIZE 2000\r\n"), &c) == 0 && c.size == 0 &&
		c.size_malformed,
	    "size: garbage first, then a number: stays 0, flagged");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250-x\r\n250-SIZE 2000\r\n250 SIZE 1e9\r\n"), &c) == 0 &&
		c.size == 2000 && c.size_malformed,
	    "size: a later garbage SIZE is flagged");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250-x\r\n250 SIZE\t100\r\n"), &c) == 0 && c.malformed &&
		!(c.flags & MXT_CAP_SIZE) && c.size == 0,
	    "size: tab separator is malformed, no flag");
	mxt_caps_free(&c);
}

/* A reply built by hand (the reply parser stops at 100 lines): a greeting
 * and n capability lines "K<i>", line 80 being "STARTTLS" when n >= 80. */
static void
many_reply(struct mxt_reply *r, size_t n)
{
	char tmp[32];
	size_t i;

	memset(r, 0, sizeof(*r));
	r->code = 250;
	r->lines = calloc(n + 1, sizeof(*r->lines));
	if (r->lines == NULL)
		exit(99);
	for (i = 0; i <= n; i++) {
		int w;

		if (i == 0)
			w = snprintf(tmp, sizeof(tmp), "mx.example.test");
		else if (i == 80)
			w = snprintf(tmp, sizeof(tmp), "STARTTLS");
		else
			w = snprintf(tmp, sizeof(tmp), "K%zu", i);
		r->lines[i].p = malloc((size_t)w + 1);
		if (r->lines[i].p == NULL)
			exit(99);
		memcpy(r->lines[i].p, tmp, (size_t)w + 1);
		r->lines[i].len = (size_t)w;
		r->nlines++;
	}
}

static void
test_many_keywords(void)
{
	struct mxt_reply r;
	struct mxt_caps c;
	char tmp[32];
	size_t i;
	int ok = 1;

	many_reply(&r, 100);
	T_CHECK(mxt_caps_parse(&r, &c) == 0, "100 keywords: parsed");
	T_CHECK(c.nkeywords == MXT_EHLO_KEYWORDS_MAX && c.truncated,
	    "100 keywords: 64 kept, truncated");
	for (i = 0; i < c.nkeywords; i++) {
		int w = snprintf(tmp, sizeof(tmp), "K%zu", i + 1);

		if (!line_is(&c.keywords[i], tmp, (size_t)w))
			ok = 0;
	}
	T_CHECK(ok && i == MXT_EHLO_KEYWORDS_MAX, "100 keywords: the first 64 kept in order");
	T_CHECK(c.flags == MXT_CAP_STARTTLS && !c.malformed,
	    "100 keywords: a keyword past the cap is still recognised");
	mxt_caps_free(&c);
	mxt_reply_free(&r);

	many_reply(&r, MXT_EHLO_KEYWORDS_MAX);
	T_CHECK(mxt_caps_parse(&r, &c) == 0 && c.nkeywords == MXT_EHLO_KEYWORDS_MAX && !c.truncated,
	    "64 keywords: all kept, not truncated");
	mxt_caps_free(&c);
	mxt_reply_free(&r);
	many_reply(&r, MXT_EHLO_KEYWORDS_MAX + 1);
	T_CHECK(mxt_caps_parse(&r, &c) == 0 && c.nkeywords == MXT_EHLO_KEYWORDS_MAX && c.truncated,
	    "65 keywords: truncated");
	mxt_caps_free(&c);
	mxt_reply_free(&r);
}

static void
test_case_and_syntax(void)
{
	struct mxt_caps c;
	char line[128];
	int n;

	T_CHECK(caps_from(B("250-x\r\n250-pipelining\r\n250-StartTLS\r\n250-8bitmime\r\n"
			    "250-smtputf8\r\n250 deliverby 300\r\n"),
		    &c) == 0 &&
		c.flags ==
		    (MXT_CAP_PIPELINING | MXT_CAP_STARTTLS | MXT_CAP_8BITMIME | MXT_CAP_SMTPUTF8 |
			MXT_CAP_DELIVERBY) &&
		!c.malformed,
	    "lower-case keywords recognised");
	T_CHECK(c.nkeywords == 5 && line_is(&c.keywords[1], B("StartTLS")),
	    "lower-case keywords kept as sent");
	mxt_caps_free(&c);

	T_CHECK(caps_from(B("250-x\r\n250-PIPELINING\r\n250 PIPELINING\r\n"), &c) == 0 &&
		c.flags == MXT_CAP_PIPELINING && c.nkeywords == 2 && !c.malformed,
	    "duplicate keywords: both lines kept, one flag");
	mxt_caps_free(&c);

	/* Control bytes: the line is kept raw, sets no flag. */
	T_CHECK(caps_from(B("250-x\r\n250-STARTTLS\x1b[2J\r\n250-PIPELINING\0\r\n"
			    "250-AUTH PLAIN\x7f\r\n250 8BITMIME\r\n"),
		    &c) == 0,
	    "control bytes: parsed");
	T_CHECK(c.malformed && c.flags == MXT_CAP_8BITMIME && c.nauth == 0,
	    "control bytes: malformed, no flags from those lines");
	T_CHECK(c.nkeywords == 4 && line_is(&c.keywords[0], B("STARTTLS\x1b[2J")) &&
		line_is(&c.keywords[1], B("PIPELINING\0")),
	    "control bytes: kept raw with their length");
	mxt_caps_free(&c);

	/* Real servers step outside the grammar with "_": tolerated. */
	T_CHECK(caps_from(B("250-x\r\n250 X_PIPE_CONNECT\r\n"), &c) == 0 && !c.malformed &&
		c.nkeywords == 1,
	    "Exim X_PIPE_CONNECT tolerated");
	mxt_caps_free(&c);

	/* Syntax errors, one per reply. */
	{
		static const char *const bad[] = {"-FOO", "_FOO", "", " STARTTLS", "STARTTLS\t",
		    "SMTPUTF8 \xc3\xa9", "CHUNKING:", "DSN\r", "(DSN)"};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			n = snprintf(line, sizeof(line), "250-x\r\n250 %s\r\n", bad[i]);
			T_CHECK(caps_from(line, (size_t)n, &c) == 0 && c.malformed &&
				c.flags == 0 && c.nkeywords == 1,
			    "bad keyword syntax %zu: malformed, no flag, kept", i);
			mxt_caps_free(&c);
		}
	}
	/* Keyword length: 64 is fine, 65 is not (MXT_KEYWORD_LEN_MAX). */
	memset(line, 'A', sizeof(line));
	memcpy(line, "250-x\r\n250 ", 11);
	memcpy(line + 11 + 64, "\r\n", 2);
	T_CHECK(caps_from(line, 11 + 64 + 2, &c) == 0 && !c.malformed, "64-octet keyword accepted");
	mxt_caps_free(&c);
	line[11 + 64] = 'A';
	memcpy(line + 11 + 65, "\r\n", 2);
	T_CHECK(caps_from(line, 11 + 65 + 2, &c) == 0 && c.malformed, "65-octet keyword malformed");
	mxt_caps_free(&c);

	/* Unknown keywords: kept, no flag, not malformed. */
	T_CHECK(caps_from(B("250-x\r\n250-X-EXPS GSSAPI NTLM\r\n250-XEXCH50\r\n250-X-LINK2STATE\r\n"
			    "250 HELP\r\n"),
		    &c) == 0 &&
		c.flags == 0 && c.nkeywords == 4 && !c.malformed &&
		line_is(&c.keywords[0], B("X-EXPS GSSAPI NTLM")),
	    "unknown keywords kept only in keywords");
	mxt_caps_free(&c);
}

static void
test_greeting(void)
{
	struct mxt_caps c;
	struct mxt_reply r;

	T_CHECK(caps_from(B("250 mx.example.test\r\n"), &c) == 0 &&
		line_is(&c.greeting, B("mx.example.test")) && c.flags == 0 && c.nkeywords == 0 &&
		c.keywords == NULL,
	    "single-line reply: greeting only");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250-mx\0evil\r\n250 DSN\r\n"), &c) == 0 &&
		line_is(&c.greeting, B("mx\0evil")) && c.flags == MXT_CAP_DSN,
	    "greeting with NUL kept with its length");
	mxt_caps_free(&c);
	T_CHECK(caps_from(B("250\r\n"), &c) == 0 && line_is(&c.greeting, B("")), "bare 250");
	mxt_caps_free(&c);
	memset(&r, 0, sizeof(r));
	T_CHECK(mxt_caps_parse(&r, &c) == 0 && c.greeting.p != NULL && c.greeting.len == 0 &&
		c.nkeywords == 0,
	    "empty reply: empty greeting");
	mxt_caps_free(&c);
}

static void
test_names(void)
{
	char buf[2048];
	size_t off = 0;
	unsigned i;
	int ok = 1;
	struct mxt_caps c;

	memcpy(buf, "250-x\r\n", 7);
	off = 7;
	for (i = 0; mxt_cap_name(i) != NULL; i++) {
		struct mxt_caps one;
		char line[64];
		int n = snprintf(line, sizeof(line), "250-x\r\n250 %s\r\n", mxt_cap_name(i));

		if (caps_from(line, (size_t)n, &one) != 0 || one.flags != 1u << i)
			ok = 0;
		mxt_caps_free(&one);
		off +=
		    (size_t)snprintf(buf + off, sizeof(buf) - off, "250-%s\r\n", mxt_cap_name(i));
	}
	T_CHECK(ok, "each name sets exactly its own bit");
	T_CHECK(i == 17 && mxt_cap_name(17) == NULL && mxt_cap_name(1000) == NULL,
	    "17 capability names, NULL past the last");
	T_CHECK(strcmp(mxt_cap_name(0), "SIZE") == 0 && strcmp(mxt_cap_name(4), "8BITMIME") == 0 &&
		strcmp(mxt_cap_name(16), "XCLIENT") == 0,
	    "names are the upper-case keywords");
	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "250 HELP\r\n");
	T_CHECK(caps_from(buf, off, &c) == 0 && c.flags == (1u << 17) - 1 && c.nkeywords == 18,
	    "all known keywords at once");
	mxt_caps_free(&c);
}

int
main(void)
{
	test_postfix();
	test_exim();
	test_opensmtpd();
	test_auth();
	test_size();
	test_many_keywords();
	test_case_and_syntax();
	test_greeting();
	test_names();
	return t_done();
}
