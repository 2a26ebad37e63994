/* SPDX-License-Identifier: MIT */
/*
 * EHLO capability parser (RFC 5321 §4.1.1.1, RFC 1869 §4.3).  It turns the
 * lines of a parsed EHLO reply into capability bits, the SIZE limit
 * (RFC 1870) and the AUTH mechanisms (RFC 4954), and keeps every capability
 * line as sent so a report can show it.  Peer-controlled sizes are capped
 * (MXT_EHLO_KEYWORDS_MAX, MXT_AUTH_MECHS_MAX, MXT_KEYWORD_LEN_MAX).  It is locale-independent
 * (ASCII helpers, no <ctype.h>), takes no decisions about what to do with a
 * capability, does not look at the reply code (the caller passes the 250
 * reply to EHLO) and does not escape text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "mxtrace/reply.h"

/* Known keywords, in MXT_CAP_* bit order (mxt_cap_name relies on it). */
static const char *const cap_names[] = {
    "SIZE",
    "PIPELINING",
    "STARTTLS",
    "AUTH",
    "8BITMIME",
    "SMTPUTF8",
    "CHUNKING",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "BINARYMIME",
    "REQUIRETLS",
    "VRFY",
    "ETRN",
    "DELIVERBY",
    "MTRK",
    "PRDR",
    "XCLIENT",
};

#define NCAPS (sizeof(cap_names) / sizeof(cap_names[0]))

static int
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
to_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Case-insensitive (ASCII) comparison of s[0..len) with NUL-terminated t. */
static int
eq_nocase(const char *s, size_t len, const char *t)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (t[i] == '\0' || to_upper((unsigned char)s[i]) != to_upper((unsigned char)t[i]))
			return 0;
	}
	return t[len] == '\0';
}

/* A copy of len bytes, NUL-terminated; NULL on ENOMEM. */
static char *
dup_bytes(const char *s, size_t len)
{
	char *p = mxt_xmalloc(len + 1);

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Next SP-separated token of s[*pos..len); returns its length (0 at end).
 * Runs of spaces are tolerated as one separator. */
static size_t
next_token(const char *s, size_t len, size_t *pos, const char **tok)
{
	size_t i = *pos, start;

	while (i < len && s[i] == ' ')
		i++;
	start = i;
	while (i < len && s[i] != ' ')
		i++;
	*tok = s + start;
	*pos = i;
	return i - start;
}

/*
 * RFC 1870 §3: "SIZE" [SP number], 0 or absent meaning no fixed limit.
 * Digits only, no sign, no base prefix, no exponent, and it must fit in
 * 64 bits (checked before each multiplication, so no overflow).  The first
 * SIZE line sets caps->size (left 0 when its argument is bad); a bad argument
 * on any SIZE line sets size_malformed.
 */
static void
parse_size(struct mxt_caps *caps, const char *s, size_t len)
{
	const char *tok, *extra;
	size_t pos = 0, n, i;
	uint64_t v = 0;

	n = next_token(s, len, &pos, &tok);
	if (next_token(s, len, &pos, &extra) != 0) {
		caps->size_malformed = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit((unsigned char)tok[i])) {
			caps->size_malformed = 1;
			return;
		}
		d = (unsigned)(tok[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			caps->size_malformed = 1;
			return;
		}
		v = v * 10 + d;
	}
	if (!(caps->flags & MXT_CAP_SIZE))
		caps->size = v;
}

/* RFC 4954 §3 / RFC 4422 §3.1 sasl-mech characters (any case accepted). */
static int
valid_mech(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MXT_KEYWORD_LEN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
			return 0;
	}
	return 1;
}

/* Add the mechanisms listed in s[0..len) to caps->auth: upper-cased,
 * deduplicated, at most MXT_AUTH_MECHS_MAX.  Returns 0 or -1 on ENOMEM. */
static int
parse_auth(struct mxt_caps *caps, const char *s, size_t len)
{
	const char *tok;
	size_t pos = 0, n, i;

	while ((n = next_token(s, len, &pos, &tok)) != 0) {
		int dup = 0;
		char *m;

		if (!valid_mech(tok, n)) {
			caps->malformed = 1;
			continue;
		}
		for (i = 0; i < caps->nauth && !dup; i++)
			dup = eq_nocase(tok, n, caps->auth[i]);
		if (dup)
			continue;
		if (caps->nauth >= MXT_AUTH_MECHS_MAX) {
			caps->truncated = 1;
			continue;
		}
		if (caps->auth == NULL) {
			caps->auth = mxt_xcalloc(MXT_AUTH_MECHS_MAX, sizeof(*caps->auth));
		}
		m = dup_bytes(tok, n);
		if (m == NULL)
			return -1;
		for (i = 0; i < n; i++)
			m[i] = (char)to_upper((unsigned char)m[i]);
		caps->auth[caps->nauth++] = m;
	}
	return 0;
}

/*
 * One capability line: ehlo-line = ehlo-keyword *( SP ehlo-param ), with
 * ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") and ehlo-param
 * = 1*(%d33-126) (RFC 5321 §4.1.1.1).  "AUTH=mech ..." is the pre-RFC 2554
 * form some servers still send next to "AUTH mech ...".  A line that breaks
 * the syntax sets caps->malformed and sets no capability.  Returns 0 or -1
 * on ENOMEM.
 */
static int
parse_line(struct mxt_caps *caps, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *params;
	size_t k, i, plen;

	for (i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] > 0x7e) {
			caps->malformed = 1; /* control or 8-bit bytes */
			return 0;
		}
	}
	/* Tolerated beyond the grammar: "_" (Exim's X_PIPE_CONNECT) and "="
	 * as the separator (Courier's XVERP=Courier, old AUTH=). */
	for (k = 0; k < len &&
	     (is_alpha(u[k]) || is_digit(u[k]) || (k > 0 && (u[k] == '-' || u[k] == '_')));
	     k++)
		;
	if (k == 0 || k > MXT_KEYWORD_LEN_MAX) {
		caps->malformed = 1;
		return 0;
	}
	if (k < len && u[k] != ' ' && u[k] != '=') {
		caps->malformed = 1;
		return 0;
	}
	params = k < len ? s + k + 1 : s + k;
	plen = k < len ? len - k - 1 : 0;

	for (i = 0; i < NCAPS; i++) {
		if (eq_nocase(s, k, cap_names[i]))
			break;
	}
	if (i == NCAPS)
		return 0; /* unknown: kept in keywords only */
	if ((1u << i) == MXT_CAP_SIZE)
		parse_size(caps, params, plen);
	else if ((1u << i) == MXT_CAP_AUTH && parse_auth(caps, params, plen) == -1)
		return -1;
	caps->flags |= 1u << i;
	return 0;
}

/* Line 1 is the greeting; every later line is one capability.  On ENOMEM
 * caps is freed (zeroed) and -1 returned. */
int
mxt_caps_parse(const struct mxt_reply *r, struct mxt_caps *caps)
{
	size_t i, nkw;

	memset(caps, 0, sizeof(*caps));
	caps->greeting.p =
	    r->nlines > 0 ? dup_bytes(r->lines[0].p, r->lines[0].len) : dup_bytes("", 0);
	if (caps->greeting.p == NULL)
		goto fail;
	caps->greeting.len = r->nlines > 0 ? r->lines[0].len : 0;
	if (r->nlines < 2)
		return 0;

	nkw = r->nlines - 1;
	if (nkw > MXT_EHLO_KEYWORDS_MAX)
		nkw = MXT_EHLO_KEYWORDS_MAX;
	caps->keywords = mxt_xcalloc(nkw, sizeof(*caps->keywords));
	for (i = 1; i < r->nlines; i++) {
		const struct mxt_line *l = &r->lines[i];

		/* Keep at most MXT_EHLO_KEYWORDS_MAX lines as sent; the
		 * rest are still parsed (their number is bounded by
		 * MXT_REPLY_LINES_MAX). */
		if (caps->nkeywords < nkw) {
			struct mxt_line *kw = &caps->keywords[caps->nkeywords];

			kw->p = dup_bytes(l->p, l->len);
			if (kw->p == NULL)
				goto fail;
			kw->len = l->len;
			caps->nkeywords++;
		} else {
			caps->truncated = 1;
		}
		if (parse_line(caps, l->p, l->len) == -1)
			goto fail;
	}
	return 0;
fail:
	mxt_caps_free(caps);
	return -1;
}

void
mxt_caps_free(struct mxt_caps *caps)
{
	size_t i;

	if (caps == NULL)
		return;
	free(caps->greeting.p);
	for (i = 0; i < caps->nauth; i++)
		free(caps->auth[i]);
	free(caps->auth);
	for (i = 0; i < caps->nkeywords; i++)
		free(caps->keywords[i].p);
	free(caps->keywords);
	memset(caps, 0, sizeof(*caps));
}

const char *
mxt_cap_name(unsigned bit)
{
	if (bit >= NCAPS)
		return NULL;
	return cap_names[bit];
}

int
mxt_caps_has_auth(const struct mxt_caps *caps, const char *mech)
{
	size_t i, len;

	if (caps == NULL || mech == NULL)
		return 0;
	len = strlen(mech);
	for (i = 0; i < caps->nauth; i++) {
		if (eq_nocase(mech, len, caps->auth[i]))
			return 1;
	}
	return 0;
}
