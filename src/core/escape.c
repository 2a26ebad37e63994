/* SPDX-License-Identifier: MIT */
/*
 * Escaping of untrusted text (terminal escape injection, CWE-150).  Every
 * byte an SMTP server, a certificate or a DNS answer sends goes through
 * mxt_escape() before it reaches a terminal, a log line or JSON.  The output is valid
 * UTF-8 with no C0 control, no DEL, no C1 control (neither as raw bytes nor
 * as the code points U+0080-U+009F) and no invisible or bidi format
 * character, so a banner cannot clear the screen, set the title, write the
 * clipboard (OSC 52), forge a hyperlink (OSC 8), reorder text (U+202E) or
 * break a JSON encoder such as cJSON 1.7.15 that passes DEL, C1 and invalid
 * UTF-8 through raw.  The escaping is reversible by eye: a backslash is
 * doubled, so "\x1b" in the output always means the byte 0x1b came in.
 *
 * What it does not do: JSON quoting (the JSON writer still escapes '"' and
 * '\'), or any check that the text makes sense.  Valid UTF-8 that is neither
 * a control nor in the hidden list below is kept verbatim, whatever script
 * it is in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "mxtrace/xalloc.h"

/* Decode one UTF-8 character at p (n bytes available) into *cp.  Returns its
 * length, or 0 when the bytes are not a shortest-form encoding of a Unicode
 * scalar value: overlong forms (C0, C1, E0 80-9F, F0 80-8F), surrogates
 * (ED A0-BF), code points above U+10FFFF (F4 90-BF, F5-FF), stray
 * continuation bytes and truncated sequences (Unicode 15, table 3-7). */
size_t
mxt_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < 2 || p[1] < lo || p[1] > hi)
		return 0;
	v = (v << 6) | (p[1] & 0x3f);
	for (i = 2; i < len; i++) {
		if (i >= n || (p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	*cp = v;
	return len;
}

/* Invisible and bidi format characters, shown as "\u{XXXX}".  Beyond the
 * list in escape.h: U+00AD soft hyphen (invisible in most terminals, so it
 * can hide inside a host name), U+061C Arabic letter mark, U+180E Mongolian
 * vowel separator, U+2028/U+2029 line and paragraph separators (line breaks
 * to some viewers and JavaScript), U+206A-U+206F deprecated format
 * characters, U+FFF9-U+FFFB interlinear annotation and the tag characters
 * U+E0000-U+E007F ("ASCII smuggling"). */
static int
is_hidden(uint32_t cp)
{
	return cp == 0x00ad || cp == 0x061c || cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	    (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Write "\xNN" for byte c to out; returns 4. */
static size_t
hex_byte(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0x0f];
	return 4;
}

/* Write "\u{XXXX}" (at least four upper-case hex digits) to out; returns
 * its length, at most 10. */
static size_t
hex_code_point(char *out, uint32_t cp)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	int shift;

	out[n++] = '\\';
	out[n++] = 'u';
	out[n++] = '{';
	for (shift = 20; shift >= 0; shift -= 4) {
		if (shift >= 16 && (cp >> shift) == 0)
			continue;
		out[n++] = hex[(cp >> shift) & 0x0f];
	}
	out[n++] = '}';
	return n;
}

/* Escape the character starting at s (n > 0 bytes left) into out (room for
 * 16 bytes).  Sets *used to the input bytes consumed; returns the output
 * length. */
static size_t
escape_one(const unsigned char *s, size_t n, char *out, size_t *used)
{
	uint32_t cp;
	size_t k, i, o;

	if (s[0] < 0x80) {
		*used = 1;
		if (s[0] < 0x20 || s[0] == 0x7f)
			return hex_byte(out, s[0]);
		if (s[0] == '\\') {
			out[0] = '\\';
			out[1] = '\\';
			return 2;
		}
		out[0] = (char)s[0];
		return 1;
	}
	k = mxt_utf8_decode(s, n, &cp);
	if (k == 0) {
		/* Invalid UTF-8: escape this byte alone and resynchronise on
		 * the next one, so every byte of a bad sequence shows. */
		*used = 1;
		return hex_byte(out, s[0]);
	}
	*used = k;
	if (cp < 0xa0) {
		/* C1 control as a code point (C2 80-C2 9F): show its bytes. */
		for (i = 0, o = 0; i < k; i++)
			o += hex_byte(out + o, s[i]);
		return o;
	}
	if (is_hidden(cp))
		return hex_code_point(out, cp);
	memcpy(out, s, k);
	return k;
}

/* Escape one character at a time into a buffer of the final size (see
 * escape.h).  A NULL p is taken as empty text. */
char *
mxt_escape(const char *p, size_t len, size_t max)
{
	static const char dots[] = "...";
	const unsigned char *s = (const unsigned char *)p;
	size_t worst, cap, out = 0, safe = 0, i = 0, n, used;
	char unit[16], *buf;

	if (s == NULL)
		len = 0;
	/* One input byte gives at most 4 output bytes ("\xNN"). */
	if (len > (SIZE_MAX - 1) / 4) {
		if (max == 0)
			mxt_oom(SIZE_MAX); /* no allocation could hold it */
		worst = SIZE_MAX - 1;
	} else {
		worst = len * 4;
	}
	cap = (max != 0 && max < worst) ? max : worst;
	buf = mxt_xmalloc(cap + 1);

	while (i < len) {
		n = escape_one(s + i, len - i, unit, &used);
		if (max != 0 && out + n > max) {
			/* Cut at the last character boundary that leaves room
			 * for "..."; with max < 3 only part of "..." fits. */
			if (max < 3) {
				memcpy(buf, dots, max);
				out = max;
			} else {
				memcpy(buf + safe, dots, 3);
				out = safe + 3;
			}
			break;
		}
		memcpy(buf + out, unit, n);
		out += n;
		i += used;
		if (max != 0 && out + 3 <= max)
			safe = out;
	}
	buf[out] = '\0';
	if (out + 1 < cap + 1)
		buf = mxt_xrealloc(buf, out + 1);
	return buf;
}

char *
mxt_escape_str(const char *s, size_t max)
{
	if (s == NULL)
		return NULL;
	return mxt_escape(s, strlen(s), max);
}
