/* SPDX-License-Identifier: MIT */
/*
 * The test message for --send: header and body, built as the bytes that go
 * between the 354 reply and the final ".\r\n" of DATA (RFC 5321 §4.1.1.4).
 * The builder is pure: it takes the envelope, the body and the clock as
 * parameters and returns bytes; it never touches a socket, a file or the
 * system clock.  It does not send BODY=8BITMIME (RFC 6152 §3) or SIZE
 * (RFC 1870): the session decides that from the capabilities.
 */
#ifndef MXTRACE_MESSAGE_H
#define MXTRACE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

struct mxt_message_params {
	const char *from; /* envelope sender without <>, "" = null sender */
	char *const *to;  /* recipients without <> */
	size_t nto;
	const char *ehlo;	    /* client's EHLO name: Message-ID's right side if a name */
	const char *body;	    /* --body text, or NULL */
	const char *body_file_data; /* --body-file contents (bytes), or NULL */
	size_t body_file_len;
	uint64_t pad_to; /* --size N: pad to N octets in all, 0 = no padding */
	int eightbit_ok; /* the server offered 8BITMIME */
	int64_t now;	 /* unix seconds for Date: (tests pass a fixed value) */
	uint64_t rand;	 /* random bits for Message-ID (tests pass a fixed value) */
};

/*
 * Build the message ready for DATA.  The output:
 * - every line ends in CRLF and no CR or LF appears elsewhere (RFC 5321
 *   §2.3.8); LF, CRLF and a lone CR in the body each end one line;
 * - no line is longer than 998 octets (RFC 5322 §2.1.1), counting the dot
 *   added by stuffing: a longer body line is hard-wrapped (a line break is
 *   inserted, never inside a UTF-8 character), so the text changes but
 *   stays readable and 7bit/8bit;
 * - every line that starts with "." gets one more "." (RFC 5321 §4.5.2), so
 *   smuggling sequences such as "\n.\n", "\n.\r\n" and "\r.\r" (CVE-2023-
 *   51764/51765/51766) come out as ordinary lines and the output never
 *   contains "\r\n.\r\n";
 * - the body ends with a line break (one is added when missing) and the
 *   output does not include the final ".\r\n".
 *
 * Header: From (the sender; for the null sender "mxtrace <postmaster@NAME>"
 * with NAME the EHLO name if it is a host name, else "mxtrace.invalid"), To
 * (all recipients folded at 78 columns, or "undisclosed-recipients:;" when
 * there are none), Subject ("mxtrace test message" and a tag of 8 hex
 * digits that also starts the Message-ID's left side), Date (RFC 5322 §3.3,
 * UTC, English names whatever the locale), Message-ID
 * "<mxtrace.TIME.HEX16@NAME>", MIME-Version, Content-Type text/plain with
 * charset us-ascii or utf-8, Content-Transfer-Encoding 7bit or 8bit, and
 * X-Mailer.  Addresses are checked with mxt_valid_mailbox() first, so no
 * header can be injected through them.  A UTF-8 local part goes into
 * From/To as is (RFC 6532 §3.2), which is valid only with SMTPUTF8, as the
 * envelope needs anyway.
 *
 * Body: body or body_file_data (not both); when neither is given or it is
 * empty, a short default text saying this is a test sent on request, with
 * the date.  Refused: a NUL byte; 8-bit bytes when eightbit_ok is 0; bytes
 * that are not valid UTF-8 when it is 1.
 *
 * Padding: when pad_to is larger than the natural length, lines of "X" are
 * appended to the body so the output is exactly pad_to octets.  When the
 * gap is a single octet, which no line can fill, one space is added at the
 * end of the X-Mailer line instead (allowed trailing whitespace of an
 * unstructured field, RFC 5322 §3.2.5).  When pad_to is not larger than the
 * natural length nothing is added; the caller compares *len with pad_to and
 * reports it.  The length counts the dots added by stuffing, which RFC 1870
 * §3 leaves out of a message's SIZE; padding lines never start with a dot.
 *
 * On success returns 0 and sets *out and *len; *out is also NUL-terminated
 * (not counted in *len) and the caller frees it.  On failure returns -1,
 * sets *out to NULL and *len to 0 and writes one line saying why to err
 * (err may be NULL).
 */
int mxt_message_build(
    const struct mxt_message_params *p, char **out, size_t *len, char *err, size_t errlen);

#endif
