/* SPDX-License-Identifier: MIT */
/*
 * Escaping (src/core/escape.c): every byte a server or DNS answer sends
 * passes through mxt_escape() before it reaches a terminal or JSON.  Also
 * the tree's one UTF-8 decoder.  Checking what the user gives is
 * mxtrace/validate.h; IDN conversion is mxtrace/idn.h.
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
 * Returns a new string the caller frees (never NULL: out of memory aborts,
 * see mxtrace/xalloc.h). */
char *mxt_escape(const char *p, size_t len, size_t max);
/* Same for a NUL-terminated string; NULL in gives NULL out. */
char *mxt_escape_str(const char *s, size_t max);

/* Decode one UTF-8 character at p (n bytes available) into *cp.  Returns
 * its length, or 0 when the bytes are not a shortest-form encoding of a
 * Unicode scalar value (overlong, surrogate, above U+10FFFF, stray or
 * truncated; Unicode 15 table 3-7).  The one UTF-8 decoder of the tree. */
size_t mxt_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

#endif
