/* SPDX-License-Identifier: MIT */
/*
 * Incremental SMTP reply parser (RFC 5321 §4.2).  Bytes arrive in chunks split
 * anywhere; the parser assembles lines, checks each line's code, collects the
 * text of a multi-line reply and stops right after the LF that completes a
 * reply, so the caller sees what followed it (RFC 3207 STARTTLS injection).
 * Every odd thing a server does is recorded as a flag on the reply; only the
 * fatal ones (MXT_REPLY_F_FATAL) end parsing with MXT_REPLY_ERROR.  Memory is
 * bounded by limits.h: one line buffer, at most MXT_REPLY_LINES_MAX lines of
 * at most MXT_REPLY_LINE_MAX octets each, never more than MXT_REPLY_BYTES_MAX
 * octets read into one reply.  This module does not escape text (that is done
 * at render time), does not read sockets and does not interpret codes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "mxtrace/reply.h"

/*
 * Line lengths are measured as the line would be with its CRLF, whatever
 * terminator it really had, so a line's flags do not depend on how it ended:
 * RFC 5321 §4.5.3.1.5 allows 512 octets including CRLF, so up to 510 octets
 * of content; MXT_REPLY_LINE_MAX accepts 2048 including CRLF, so 2046 octets are stored and
 * the rest of the line is skipped up to its LF.
 */
#define RP_RFC_CONTENT (MXT_REPLY_LINE_RFC - 2)
#define RP_MAX_CONTENT (MXT_REPLY_LINE_MAX - 2)

/*
 * Parser states, beyond the fields documented in reply.h:
 *   assembling      cur.code == 0 and first_code >= 0
 *   reply complete  cur.code != 0 (only ever set on a complete final line)
 *   failed          first_code < 0 (sticky until mxt_reply_take)
 * first_code is otherwise the code of the reply's first line, 0 before it.
 */

static const char *const reply_flag_names[] = {
    "line_over_rfc",
    "line_truncated",
    "code_mismatch",
    "bare_lf",
    "ctrl_bytes",
    "enh_mismatch",
    "too_many_lines",
    "too_large",
    "malformed",
    "unterminated",
};

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A byte RFC 5321 textstring (%d09 / %d32-126) does not allow and that is
 * not 8-bit text either: C0 controls except HTAB, and DEL. */
static int
is_ctrl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

int
mxt_reply_parser_init(struct mxt_reply_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->line = mxt_xmalloc(MXT_REPLY_LINE_MAX + 1);
	return 0;
}

void
mxt_reply_parser_free(struct mxt_reply_parser *p)
{
	if (p == NULL)
		return;
	free(p->line);
	mxt_reply_free(&p->cur);
	memset(p, 0, sizeof(*p));
}

void
mxt_reply_parser_want_enh(struct mxt_reply_parser *p, int want_enh)
{
	p->want_enh = want_enh != 0;
}

/* Forget the line being assembled. */
static void
line_reset(struct mxt_reply_parser *p)
{
	p->line_len = 0;
	p->line_raw = 0;
	p->skipping = 0;
	p->prev_cr = 0;
}

/* Enter the failed state; the partial reply waits for mxt_reply_take. */
static enum mxt_reply_status
fail(struct mxt_reply_parser *p)
{
	p->first_code = -1;
	p->cur.code = 0;
	return MXT_REPLY_ERROR;
}

/* Append a copy of len bytes to cur.lines.  Returns 0, or -1 on ENOMEM. */
static int
add_line(struct mxt_reply_parser *p, const char *s, size_t len, int code)
{
	struct mxt_reply *r = &p->cur;
	char *copy;

	if (r->nlines == p->lines_cap) {
		size_t ncap = p->lines_cap ? p->lines_cap * 2 : 4;
		struct mxt_line *nl;

		if (ncap > MXT_REPLY_LINES_MAX)
			ncap = MXT_REPLY_LINES_MAX;
		if (ncap <= r->nlines)
			return -1; /* callers check the cap first; never reached */
		nl = mxt_xreallocarray(r->lines, ncap, sizeof(*nl));
		r->lines = nl;
		p->lines_cap = ncap;
	}
	copy = mxt_xmalloc(len + 1);
	if (len > 0)
		memcpy(copy, s, len);
	copy[len] = '\0';
	r->lines[r->nlines].p = copy;
	r->lines[r->nlines].len = len;
	r->lines[r->nlines].code = code;
	r->nlines++;
	return 0;
}

/* Keep the line being assembled, code and all, as the reply's last line so a
 * report can show what the server sent (used for MALFORMED, UNTERMINATED). */
static void
keep_raw_line(struct mxt_reply_parser *p)
{
	if (p->cur.nlines < MXT_REPLY_LINES_MAX)
		(void)add_line(p, p->line, p->line_len, 0);
}

/* One byte of line content (anything but the terminator). */
static void
content_byte(struct mxt_reply_parser *p, unsigned char c)
{
	if (is_ctrl(c))
		p->cur.flags |= MXT_REPLY_F_CTRL_BYTES;
	if (p->line_len < RP_MAX_CONTENT) {
		p->line[p->line_len++] = (char)c;
		if (p->line_len > RP_RFC_CONTENT)
			p->cur.flags |= MXT_REPLY_F_LINE_OVER_RFC;
	} else if (!p->skipping) {
		/* MXT_REPLY_LINE_MAX: keep the head of the line, skip the rest up to LF
		 * (Postfix smtp_get with SMTP_GET_FLAG_SKIP). */
		p->skipping = 1;
		p->cur.flags |= MXT_REPLY_F_LINE_TRUNCATED;
	}
}

/*
 * Parse "NNN", "NNN text" or "NNN-text" (RFC 5321 §4.2: Reply-code is
 * %x32-35 %x30-35 %x30-39).  Returns the code and sets *final, or returns 0
 * for anything else: a short line, a fourth digit, a bad separator.
 */
static int
parse_code(const char *s, size_t len, int *final)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len < 3)
		return 0;
	if (u[0] < '2' || u[0] > '5' || u[1] < '0' || u[1] > '5' || !is_digit(u[2]))
		return 0;
	if (len == 3)
		*final = 1; /* RFC 5321 §4.2: the code alone ends a reply */
	else if (u[3] == ' ')
		*final = 1;
	else if (u[3] == '-')
		*final = 0;
	else
		return 0;
	return (u[0] - '0') * 100 + (u[1] - '0') * 10 + (u[2] - '0');
}

/*
 * RFC 3463 §2 status-code at the start of text: class "." subject "."
 * detail, class 2/4/5, subject and detail 1-3 digits, followed by SP or the
 * end of the text.  Copies it into out and returns 1, or returns 0.
 */
static int
parse_enh(const char *s, size_t len, char out[16])
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n, part;

	if (len < 5 || (u[0] != '2' && u[0] != '4' && u[0] != '5') || u[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; i < len && is_digit(u[i]) && n < 3; n++)
			i++;
		if (n == 0 || (i < len && is_digit(u[i])))
			return 0;
		if (part == 0) {
			if (i >= len || u[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && u[i] != ' ')
		return 0;
	/* At most "5.123.123": 9 octets. */
	memcpy(out, s, i);
	out[i] = '\0';
	return 1;
}

/* The final line arrived: settle the reply's code and enhanced code. */
static void
finish_reply(struct mxt_reply_parser *p, int code)
{
	struct mxt_reply *r = &p->cur;

	r->code = code;
	r->enh[0] = '\0';
	/* RFC 2034 §4: look for the enhanced code on the first line, and
	 * never in a greeting or EHLO reply (the caller turns it off). */
	if (p->want_enh && r->nlines > 0 && parse_enh(r->lines[0].p, r->lines[0].len, r->enh)) {
		if (r->enh[0] - '0' != code / 100)
			r->flags |= MXT_REPLY_F_ENH_MISMATCH;
	}
}

/* An LF ended the line in p->line.  Returns the status to report. */
static enum mxt_reply_status
end_line(struct mxt_reply_parser *p)
{
	struct mxt_reply *r = &p->cur;
	int code, final = 0;

	/* RFC 5321 §2.3.8: CRLF is the only terminator; tolerate LF, flag it.
	 * A CR before the LF belongs to the terminator, not the text. */
	if (!p->prev_cr)
		r->flags |= MXT_REPLY_F_BARE_LF;
	p->prev_cr = 0;
	p->line[p->line_len] = '\0';

	code = parse_code(p->line, p->line_len, &final);
	if (code == 0)
		r->flags |= MXT_REPLY_F_MALFORMED;
	if (r->nlines >= MXT_REPLY_LINES_MAX)
		r->flags |= MXT_REPLY_F_TOO_MANY_LINES;
	if (code == 0 || r->nlines >= MXT_REPLY_LINES_MAX) {
		if (code == 0)
			keep_raw_line(p);
		line_reset(p);
		return fail(p);
	}

	/* RFC 5321 §4.2.1: every line of a reply carries the same code.  When
	 * they differ, every line keeps its own code and the reply, once
	 * complete, is a protocol error: no line's code decides it. */
	if (p->first_code == 0)
		p->first_code = code;
	else if (code != p->first_code)
		r->flags |= MXT_REPLY_F_CODE_MISMATCH;

	if (add_line(p, p->line + (p->line_len > 3 ? 4 : 3), p->line_len > 3 ? p->line_len - 4 : 0,
		code) == -1) {
		/* ENOMEM: ERROR with no fatal flag set. */
		line_reset(p);
		return fail(p);
	}
	line_reset(p);
	if (final && (r->flags & MXT_REPLY_F_CODE_MISMATCH))
		return fail(p);
	if (final) {
		finish_reply(p, code);
		return MXT_REPLY_DONE;
	}
	return MXT_REPLY_MORE;
}

/* Consume bytes up to the end of a reply or of buf, whichever comes first. */
enum mxt_reply_status
mxt_reply_parser_feed(struct mxt_reply_parser *p, const char *buf, size_t len, size_t *used)
{
	const unsigned char *u = (const unsigned char *)buf;
	enum mxt_reply_status st;
	size_t i;

	*used = 0;
	if (p->first_code < 0 || p->line == NULL)
		return MXT_REPLY_ERROR;
	if (p->cur.code != 0)
		return MXT_REPLY_DONE; /* not taken yet: consume nothing */

	for (i = 0; i < len; i++) {
		unsigned char c = u[i];

		p->cur.nbytes++;
		p->line_raw++;
		if (c == '\n') {
			/* MXT_REPLY_BYTES_MAX: the reply, CRLFs included, fits in 64 KiB. */
			if (p->cur.nbytes > MXT_REPLY_BYTES_MAX) {
				p->cur.flags |= MXT_REPLY_F_TOO_LARGE;
				line_reset(p);
				*used = i + 1;
				return fail(p);
			}
			st = end_line(p);
			if (st != MXT_REPLY_MORE) {
				*used = i + 1;
				return st;
			}
			continue;
		}
		/* RFC 5321 §2.3.8: a CR not followed by LF ends nothing; it
		 * is text (and a control byte). */
		if (p->prev_cr) {
			p->prev_cr = 0;
			content_byte(p, '\r');
		}
		if (c == '\r')
			p->prev_cr = 1;
		else
			content_byte(p, c);
		/* MXT_REPLY_LINE_MAX: no LF within 64 KiB of a line's start (its LF would
		 * make the line longer than that). */
		if (p->line_raw >= MXT_REPLY_BYTES_MAX) {
			p->cur.flags |= MXT_REPLY_F_UNTERMINATED;
			keep_raw_line(p);
			line_reset(p);
			*used = i + 1;
			return fail(p);
		}
		if (p->cur.nbytes > MXT_REPLY_BYTES_MAX) {
			p->cur.flags |= MXT_REPLY_F_TOO_LARGE;
			line_reset(p);
			*used = i + 1;
			return fail(p);
		}
	}
	*used = len;
	return MXT_REPLY_MORE;
}

void
mxt_reply_take(struct mxt_reply_parser *p, struct mxt_reply *out)
{
	*out = p->cur;
	memset(&p->cur, 0, sizeof(p->cur));
	p->lines_cap = 0;
	p->first_code = 0;
	line_reset(p);
}

int
mxt_reply_parser_eof(struct mxt_reply_parser *p, struct mxt_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (!mxt_reply_parser_pending(p))
		return 0;
	if (p->line_len > 0 || p->prev_cr)
		keep_raw_line(p);
	mxt_reply_take(p, out);
	out->code = 0;
	return 1;
}

int
mxt_reply_parser_pending(const struct mxt_reply_parser *p)
{
	return p->first_code >= 0 && p->cur.code == 0 && p->cur.nbytes > 0;
}

void
mxt_reply_free(struct mxt_reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nlines; i++)
		free(r->lines[i].p);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

int
mxt_reply_copy(struct mxt_reply *dst, const struct mxt_reply *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->code = src->code;
	memcpy(dst->enh, src->enh, sizeof(dst->enh));
	dst->enh[sizeof(dst->enh) - 1] = '\0';
	dst->nbytes = src->nbytes;
	dst->flags = src->flags;
	if (src->nlines == 0)
		return 0;
	dst->lines = mxt_xcalloc(src->nlines, sizeof(*dst->lines));
	for (i = 0; i < src->nlines; i++) {
		size_t len = src->lines[i].len;

		dst->lines[i].p = mxt_xmalloc(len + 1);
		if (len > 0)
			memcpy(dst->lines[i].p, src->lines[i].p, len);
		dst->lines[i].p[len] = '\0';
		dst->lines[i].len = len;
		dst->lines[i].code = src->lines[i].code;
		dst->nlines = i + 1;
	}
	return 0;
}

const char *
mxt_reply_flag_name(unsigned bit)
{
	if (bit >= sizeof(reply_flag_names) / sizeof(reply_flag_names[0]))
		return NULL;
	return reply_flag_names[bit];
}
