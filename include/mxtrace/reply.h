/* SPDX-License-Identifier: MIT */
/*
 * SMTP reply parser (RFC 5321 §4.2) and EHLO capability parser (RFC 5321
 * §4.1.1.1, RFC 1869).  Both are pure: they take bytes or parsed replies and
 * never touch a socket.  The reply parser is incremental: bytes may arrive
 * split anywhere, and it stops after each complete reply so the caller can
 * see what followed it (RFC 3207 STARTTLS injection defence).
 */
#ifndef MXTRACE_REPLY_H
#define MXTRACE_REPLY_H

#include <stddef.h>
#include <stdint.h>

/* Observations about one reply; several may be set. */
enum {
	MXT_REPLY_F_LINE_OVER_RFC = 1u
	    << 0, /* a line longer than 512 octets (RFC 5321 §4.5.3.1.5) */
	MXT_REPLY_F_LINE_TRUNCATED = 1u << 1, /* a line longer than MXT_REPLY_LINE_MAX was cut */
	MXT_REPLY_F_CODE_MISMATCH = 1u << 2,  /* lines of one reply carry different codes */
	MXT_REPLY_F_BARE_LF = 1u << 3,	      /* a line ended in LF without CR */
	MXT_REPLY_F_CTRL_BYTES = 1u << 4,     /* NUL, bare CR or other C0/DEL in the text */
	MXT_REPLY_F_ENH_MISMATCH = 1u << 5,   /* enhanced status class != reply class */
	MXT_REPLY_F_TOO_MANY_LINES = 1u << 6, /* over MXT_REPLY_LINES_MAX: protocol violation */
	MXT_REPLY_F_TOO_LARGE = 1u << 7,      /* over MXT_REPLY_BYTES_MAX: protocol violation */
	MXT_REPLY_F_MALFORMED = 1u << 8,      /* a short or out-of-range line: violation */
	MXT_REPLY_F_UNTERMINATED = 1u << 9,   /* no LF within 64 KiB: violation */
};

/* Flags that make a reply unusable: the connection must be dropped.  RFC
 * 5321 §4.2.1: "the reply code on each of the lines MUST be the same", so a
 * reply whose lines disagree is a protocol error too. */
#define MXT_REPLY_F_FATAL                                                                          \
	(MXT_REPLY_F_TOO_MANY_LINES | MXT_REPLY_F_TOO_LARGE | MXT_REPLY_F_MALFORMED |              \
	    MXT_REPLY_F_UNTERMINATED | MXT_REPLY_F_CODE_MISMATCH)

/* One line of reply text: the bytes after "NNN-" / "NNN ", without CRLF,
 * kept raw (escaping happens at render time).  p is NUL-terminated for
 * convenience but may contain NUL bytes; len is authoritative.  code is the
 * code this line carried as received (a line of a mixed-code reply keeps
 * its own), 0 for a line kept whole because it had no code. */
struct mxt_line {
	char *p;
	size_t len;
	int code;
};

/* A complete reply.  code is the final line's code (RFC 5321 §4.2.1 when the
 * lines disagree: decided by the final line, flagged).  code is 0 when the
 * reply is a protocol violation with no usable code. */
struct mxt_reply {
	int code;
	/* RFC 3463 enhanced status code from the first line, "" when absent
	 * (never looked for in a greeting or EHLO reply: the caller says). */
	char enh[16];
	struct mxt_line *lines; /* owned */
	size_t nlines;
	size_t nbytes;	/* octets on the wire, CRLFs included */
	unsigned flags; /* MXT_REPLY_F_* */
};

/* Parser state.  Fields are private to reply.c; the struct is public so it
 * can be embedded without allocation. */
struct mxt_reply_parser {
	char *line;	      /* current line being assembled, capacity MXT_REPLY_LINE_MAX + 1 */
	size_t line_len;      /* bytes stored in line */
	size_t line_raw;      /* bytes seen for this line (may exceed what is stored) */
	int skipping;	      /* discarding the excess of an over-long line */
	int prev_cr;	      /* last byte seen was CR */
	struct mxt_reply cur; /* reply being assembled */
	size_t lines_cap;
	int first_code;
	int want_enh;
};

enum mxt_reply_status {
	MXT_REPLY_MORE = 0, /* all input consumed, reply not complete yet */
	MXT_REPLY_DONE = 1, /* a reply is complete: take it with mxt_reply_take() */
	MXT_REPLY_ERROR = 2 /* a fatal violation: take the partial reply, drop the connection */
};

/* Initialise a parser.  want_enh: look for RFC 3463 codes (not in the
 * greeting and EHLO replies, RFC 2034 §3).  Returns 0, or -1 on ENOMEM. */
int mxt_reply_parser_init(struct mxt_reply_parser *p);
void mxt_reply_parser_free(struct mxt_reply_parser *p);
void mxt_reply_parser_want_enh(struct mxt_reply_parser *p, int want_enh);

/* Feed len bytes.  Stores the number of bytes consumed in *used; parsing stops
 * right after the LF that completes a reply, so *used < len means more bytes
 * followed that reply.  Returns an mxt_reply_status. */
enum mxt_reply_status mxt_reply_parser_feed(
    struct mxt_reply_parser *p, const char *buf, size_t len, size_t *used);

/* The peer closed the stream: move what arrived of an unfinished reply into
 * *out (complete lines with their codes, then the unfinished line as raw
 * text with code 0) and return 1, or return 0 when nothing was pending.
 * The reply is evidence only: code stays 0.  The caller frees *out. */
int mxt_reply_parser_eof(struct mxt_reply_parser *p, struct mxt_reply *out);

/* Move the completed (or partial, after ERROR) reply into *out; the parser is
 * ready for the next reply.  The caller owns *out and frees it with
 * mxt_reply_free(). */
void mxt_reply_take(struct mxt_reply_parser *p, struct mxt_reply *out);
/* True if some bytes of a next reply are buffered. */
int mxt_reply_parser_pending(const struct mxt_reply_parser *p);

void mxt_reply_free(struct mxt_reply *r);
/* Deep copy; returns 0 or -1 on ENOMEM. */
int mxt_reply_copy(struct mxt_reply *dst, const struct mxt_reply *src);

/* Reply flags as stable names, for the JSON "flags" array. Returns NULL past
 * the last bit. */
const char *mxt_reply_flag_name(unsigned bit);

/* ---- EHLO capabilities ---- */

enum {
	MXT_CAP_SIZE = 1u << 0,
	MXT_CAP_PIPELINING = 1u << 1,
	MXT_CAP_STARTTLS = 1u << 2,
	MXT_CAP_AUTH = 1u << 3,
	MXT_CAP_8BITMIME = 1u << 4,
	MXT_CAP_SMTPUTF8 = 1u << 5,
	MXT_CAP_CHUNKING = 1u << 6,
	MXT_CAP_DSN = 1u << 7,
	MXT_CAP_ENHANCEDSTATUSCODES = 1u << 8,
	MXT_CAP_BINARYMIME = 1u << 9,
	MXT_CAP_REQUIRETLS = 1u << 10,
	MXT_CAP_VRFY = 1u << 11,
	MXT_CAP_ETRN = 1u << 12,
	MXT_CAP_DELIVERBY = 1u << 13,
	MXT_CAP_MTRK = 1u << 14,
	MXT_CAP_PRDR = 1u << 15,
	MXT_CAP_XCLIENT = 1u << 16,
};

/* Capabilities parsed from a 250 EHLO reply. */
struct mxt_caps {
	struct mxt_line greeting; /* text of the first line (server's name and more) */
	unsigned flags;		  /* MXT_CAP_* */
	uint64_t size;		  /* SIZE value; 0 = advertised without a limit */
	int size_malformed;	  /* SIZE had a non-numeric / overflowing argument */
	char **auth;		  /* mechanisms, upper-cased, deduplicated */
	size_t nauth;
	struct mxt_line
	    *keywords; /* every capability line as sent (raw), capped (MXT_EHLO_KEYWORDS_MAX) */
	size_t nkeywords;
	int malformed; /* a keyword was not RFC 5321 ehlo-keyword syntax */
	int truncated; /* more keywords or mechanisms than the caps allow */
};

/* Parse an EHLO reply into caps.  Returns 0, or -1 on ENOMEM. */
int mxt_caps_parse(const struct mxt_reply *r, struct mxt_caps *caps);
void mxt_caps_free(struct mxt_caps *caps);
/* Capability bits as stable names ("PIPELINING", ...); NULL past the last. */
const char *mxt_cap_name(unsigned bit);
/* True if mech (case-insensitive) is among caps->auth. */
int mxt_caps_has_auth(const struct mxt_caps *caps, const char *mech);

/* ---- what a reply says about the client (greeting.c) ---- */

/* The first address in brackets in one reply line of len bytes ("Hello x
 * [192.0.2.1]", "[IPv6:2001:db8::1]": RFC 5321 §4.1.3 address literals),
 * the address the server saw the client connect from.  Writes it, without
 * brackets or "IPv6:" tag, NUL-terminated into out (n bytes) and returns
 * 1; else 0 with out empty. */
int mxt_reply_echoed_address(const char *p, size_t len, char *out, size_t n);

#endif
