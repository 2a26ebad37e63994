/* SPDX-License-Identifier: MIT */
/*
 * Input hygiene, in one place.  Escaping: every byte a server or DNS answer
 * sends passes through mxt_escape() before it reaches a terminal or JSON.
 * Validation: every string the user gives that ends up on an SMTP command
 * line or in a DNS query is checked here first (CRLF injection, RFC 5321
 * syntax).  IDN conversion goes through libidn2, never by hand.
 */
#ifndef MXTRACE_ESCAPE_H
#define MXTRACE_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* Make len bytes of untrusted text safe to print and to put in JSON:
 * printable ASCII and valid UTF-8 (U+00A0 and up) are kept; backslash becomes
 * "\\"; C0 controls, DEL, C1 controls (bytes or code points U+0080-U+009F) and
 * bytes of invalid UTF-8 become "\xNN"; bidi and invisible format characters
 * (U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, U+FEFF) become "\u{XXXX}".
 * The result holds at most max bytes (not counting NUL; max 0 = no cap), cut
 * at a character boundary and ended with "..." when cut.
 * Returns a new string the caller frees; NULL on ENOMEM. */
char *mxt_escape(const char *p, size_t len, size_t max);
/* Same for a NUL-terminated string; NULL in gives NULL out. */
char *mxt_escape_str(const char *s, size_t max);

/* Decode one UTF-8 character at p (n bytes available) into *cp.  Returns
 * its length, or 0 when the bytes are not a shortest-form encoding of a
 * Unicode scalar value (overlong, surrogate, above U+10FFFF, stray or
 * truncated; Unicode 15 table 3-7).  The one UTF-8 decoder of the tree. */
size_t mxt_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* RFC 1123 / RFC 5321 §2.3.5 host name: LDH labels of 1-63 octets, total
 * at most 253, no leading/trailing hyphen, A-labels allowed, one optional
 * trailing dot.  Returns 1 if valid. */
int mxt_valid_hostname(const char *s);

/* An address literal "[1.2.3.4]" or "[IPv6:...]" (RFC 5321 §4.1.3). */
int mxt_valid_address_literal(const char *s);

/* A mailbox for MAIL FROM / RCPT TO (RFC 5321 §4.1.2): local@domain, local
 * part dot-atom or quoted string of printable ASCII (UTF-8 allowed in the local
 * part, RFC 6531), at most 64 octets; domain a host name or address literal;
 * path at most 256.  allow_empty accepts "" (the null sender).  On failure
 * returns 0 and writes a reason to err. */
int mxt_valid_mailbox(const char *s, int allow_empty, char *err, size_t errlen);

/* Convert a domain (UTF-8, may contain U-labels) to its A-label form with
 * libidn2 (IDNA2008 + UTS #46 non-transitional).  On success returns 0 and
 * sets *ascii (lower-case, no trailing dot) and, if unicode is not NULL,
 * *unicode (U-label form); the caller frees both.  On failure returns -1 and
 * writes libidn2's reason to err. */
int mxt_idn_to_ascii(const char *in, char **ascii, char **unicode, char *err, size_t errlen);

#endif
