/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for mxt_escape(): a hostile banner (terminal escapes OSC 8,
 * OSC 52, CSI, C1 CSI, bidi override, invalid UTF-8, NUL, format strings),
 * every class of invalid UTF-8, the hidden-character list, the length cap,
 * and a property test over random byte strings checked by a UTF-8 validator
 * and an unescaper written here, independently of escape.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "t.h"

/* Compare mxt_escape(in, len, max) with want; print what came out if not. */
static void
check(const char *name, const char *in, size_t len, size_t max, const char *want)
{
	char *got = mxt_escape(in, len, max);

	T_CHECK(got != NULL && strcmp(got, want) == 0, "%s", name);
	if (got == NULL || strcmp(got, want) != 0)
		printf("# got: %s\n# want: %s\n", got ? got : "(null)", want);
	free(got);
}

/* Literals use octal escapes ("b\303\274cher") where a hex escape would
 * swallow the letter after it. */
#define CHECK(name, lit, max, want) check(name, lit, sizeof(lit) - 1, max, want)

/* ---- Independent oracle ---- */

/* Length of a valid UTF-8 sequence at p (n bytes left) and its code point,
 * written from RFC 3629 §4 (UTF8-2, UTF8-3, UTF8-4); 0 if invalid. */
static size_t
oracle_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		v = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		v = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		v = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Code points that must never appear raw in the output. */
static int
oracle_forbidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad || cp == 0x61c ||
	    cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* 1 if s is valid UTF-8 holding no forbidden code point. */
static int
oracle_clean(const char *s, int *why)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = oracle_utf8(u + i, n - i, &cp);
		if (k == 0) {
			*why = 1;
			return 0;
		}
		if (oracle_forbidden(cp)) {
			*why = 2;
			return 0;
		}
		i += k;
	}
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo the escaping of s[0..n) into out (room for n bytes: no escape is
 * shorter than what it stands for).  Returns the length, or -1 if s holds a
 * backslash that starts no known escape. */
static long
unescape(const char *s, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0;
	uint32_t cp;
	int h1, h2;

	while (i < n) {
		if (s[i] != '\\') {
			out[o++] = (unsigned char)s[i++];
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
		} else if (i + 3 < n && s[i + 1] == 'x' && (h1 = hexval(s[i + 2])) >= 0 &&
		    (h2 = hexval(s[i + 3])) >= 0) {
			out[o++] = (unsigned char)(h1 << 4 | h2);
			i += 4;
		} else if (i + 2 < n && s[i + 1] == 'u' && s[i + 2] == '{') {
			i += 3;
			for (cp = 0; i < n && s[i] != '}'; i++) {
				if (hexval(s[i]) < 0)
					return -1;
				cp = cp << 4 | (uint32_t)hexval(s[i]);
			}
			if (i == n)
				return -1;
			i++;
			if (cp < 0x800) {
				out[o++] = (unsigned char)(0xc0 | cp >> 6);
				out[o++] = (unsigned char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				out[o++] = (unsigned char)(0xe0 | cp >> 12);
				out[o++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				out[o++] = (unsigned char)(0x80 | (cp & 0x3f));
			} else {
				out[o++] = (unsigned char)(0xf0 | cp >> 18);
				out[o++] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
				out[o++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				out[o++] = (unsigned char)(0x80 | (cp & 0x3f));
			}
		} else {
			return -1;
		}
	}
	return (long)o;
}

/* xorshift64*: a fixed, portable sequence. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Fragments that make random input hit the interesting cases often. */
static const char *const frags[] = {"\xc2\x9b", "\xc2\xa0", "\xe2\x80\xae", "\xe2\x81\xa6",
    "\xef\xbb\xbf", "\xe2\x80\xa8", "\xc2\xad", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
    "\xf4\x90\x80\x80", "\xed\xa0\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xe6\x97\xa5", "\xe6\x97",
    "\x1b]8;;", "\\", "\\x41", "\\u{202E}", "...", "\xf3\xa0\x81\x81", "\xd8\x9c"};

/* Random bytes, mixing uniform bytes, ASCII and the fragments above. */
static size_t
random_input(unsigned char *buf, size_t cap)
{
	size_t n = rng() % (cap - 4), i = 0;
	const char *f;
	size_t fl;

	while (i < n) {
		switch (rng() % 4) {
		case 0:
			buf[i++] = (unsigned char)rng();
			break;
		case 1:
			buf[i++] = (unsigned char)(0x20 + rng() % 95);
			break;
		default:
			f = frags[rng() % (sizeof(frags) / sizeof(frags[0]))];
			fl = strlen(f);
			if (i + fl > cap)
				return i;
			memcpy(buf + i, f, fl);
			i += fl;
			break;
		}
	}
	return i;
}

static void
property_test(void)
{
	enum { ROUNDS = 100000, IN_MAX = 80 };
	unsigned char in[IN_MAX], back[4 * IN_MAX + 1];
	size_t n, max, olen, full_len;
	long bl;
	int bad_null = 0, bad_utf8 = 0, bad_forbidden = 0, bad_cap = 0, bad_round = 0;
	int bad_cut = 0, bad_uncut = 0, why, r;
	char *full, *out;

	for (r = 0; r < ROUNDS; r++) {
		n = random_input(in, sizeof(in));
		max = rng() % 3 == 0 ? 0 : rng() % 100;
		full = mxt_escape((const char *)in, n, 0);
		out = mxt_escape((const char *)in, n, max);
		if (full == NULL || out == NULL) {
			bad_null++;
			free(full);
			free(out);
			continue;
		}
		why = 0;
		if (!oracle_clean(out, &why) || !oracle_clean(full, &why)) {
			if (why == 1)
				bad_utf8++;
			else
				bad_forbidden++;
		}
		olen = strlen(out);
		full_len = strlen(full);
		if (max != 0 && olen > max)
			bad_cap++;
		/* Uncapped output decodes back to exactly the input. */
		bl = unescape(full, full_len, back);
		if (bl != (long)n || memcmp(back, in, n) != 0)
			bad_round++;
		if (max == 0 || full_len <= max) {
			if (strcmp(out, full) != 0)
				bad_uncut++;
		} else if (max < 3) {
			if (olen != max || strncmp(out, "...", max) != 0)
				bad_cut++;
		} else {
			/* Cut: a prefix of the full output ending on an
			 * escape boundary, then "...". */
			if (olen < 3 || strcmp(out + olen - 3, "...") != 0 ||
			    strncmp(out, full, olen - 3) != 0 ||
			    (bl = unescape(out, olen - 3, back)) < 0 || (size_t)bl > n ||
			    memcmp(back, in, (size_t)bl) != 0)
				bad_cut++;
		}
		free(full);
		free(out);
	}
	T_CHECK(bad_null == 0, "random: never NULL (%d)", bad_null);
	T_CHECK(bad_utf8 == 0, "random: output is valid UTF-8 (%d bad)", bad_utf8);
	T_CHECK(bad_forbidden == 0, "random: no control, C1 or hidden character (%d bad)",
	    bad_forbidden);
	T_CHECK(bad_cap == 0, "random: length cap holds (%d bad)", bad_cap);
	T_CHECK(
	    bad_round == 0, "random: uncapped output unescapes to the input (%d bad)", bad_round);
	T_CHECK(bad_uncut == 0, "random: output that fits is not cut (%d bad)", bad_uncut);
	T_CHECK(
	    bad_cut == 0, "random: cut output is a boundary prefix plus \"...\" (%d bad)", bad_cut);
}

/* Every single byte and every two-byte string, uncapped. */
static void
exhaustive_short(void)
{
	unsigned char in[2], back[8];
	int bad = 0, why, a, b;
	long bl;
	char *out;

	for (a = 0; a < 256; a++) {
		for (b = -1; b < 256; b++) {
			in[0] = (unsigned char)a;
			in[1] = (unsigned char)b;
			out = mxt_escape((const char *)in, b < 0 ? 1 : 2, 0);
			why = 0;
			if (out == NULL || !oracle_clean(out, &why)) {
				bad++;
			} else {
				bl = unescape(out, strlen(out), back);
				if (bl != (b < 0 ? 1 : 2) || memcmp(back, in, (size_t)bl) != 0)
					bad++;
			}
			free(out);
		}
	}
	T_CHECK(bad == 0, "all 1- and 2-byte inputs: clean and reversible (%d bad)", bad);
}

static void
large_inputs(void)
{
	size_t n = 1 << 20, i, nesc = 0;
	char *in = malloc(n), *out;
	int ok;

	if (in == NULL) {
		T_CHECK(0, "malloc");
		return;
	}
	memset(in, 0x1b, n);
	out = mxt_escape(in, n, 0);
	T_CHECK(out != NULL && strlen(out) == 4 * n, "1 MiB of ESC, no cap: 4 MiB out");
	free(out);
	out = mxt_escape(in, n, 1024);
	ok = out != NULL && strlen(out) <= 1024 && strcmp(out + strlen(out) - 3, "...") == 0;
	for (i = 0; ok && i + 3 < strlen(out); i += 4, nesc++)
		ok = memcmp(out + i, "\\x1b", 4) == 0;
	/* The cap is filled to within one escape: (1024 - 3) / 4 of them. */
	T_CHECK(ok && nesc == (1024 - 3) / 4 && strlen(out) == 4 * nesc + 3,
	    "1 MiB of ESC, cap 1024: %zu whole escapes then \"...\"", nesc);
	free(out);
	free(in);
}

int
main(void)
{
	char *s;

	/* The pieces of a hostile banner (terminal escape injection, CWE-150). */
	CHECK("OSC 8 hyperlink", "\x1b]8;;http://evil\x07", 0, "\\x1b]8;;http://evil\\x07");
	CHECK("CSI clear screen", "\x1b[2J", 0, "\\x1b[2J");
	CHECK("OSC 52 clipboard", "\x1b]52;c;aGVsbG8=\x07", 0, "\\x1b]52;c;aGVsbG8=\\x07");
	CHECK("C1 CSI as UTF-8 (U+009B)", "\xc2\x9b", 0, "\\xc2\\x9b");
	CHECK("U+202E bidi override", "abc\342\200\256def", 0, "abc\\u{202E}def");
	CHECK("invalid byte 0xff", "\xff", 0, "\\xff");
	CHECK("NUL inside", "a\0b", 0, "a\\x00b");
	CHECK("format string kept", "%n%s%x", 0, "%n%s%x");
	CHECK("valid UTF-8 kept", "b\303\274cher \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac", 0,
	    "b\303\274cher \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac");
	CHECK("whole banner", "220 \x1b]8;;http://x\x07hi\x7f \xc2\x9b[2J \xff\xfe end\r\n", 0,
	    "220 \\x1b]8;;http://x\\x07hi\\x7f \\xc2\\x9b[2J \\xff\\xfe end\\x0d\\x0a");

	/* ASCII. */
	CHECK("plain", "220 mx.example.com ESMTP", 0, "220 mx.example.com ESMTP");
	CHECK("empty", "", 0, "");
	CHECK("backslash doubles", "a\\b\\\\", 0, "a\\\\b\\\\\\\\");
	CHECK("literal \\x1b text stays distinguishable", "\\x1b", 0, "\\\\x1b");
	CHECK("DEL", "\x7f", 0, "\\x7f");
	CHECK("CR LF TAB", "\r\n\t", 0, "\\x0d\\x0a\\x09");
	CHECK("BEL BS VT FF", "\x07\x08\x0b\x0c", 0, "\\x07\\x08\\x0b\\x0c");
	CHECK("US (0x1f) escaped, space kept", "\x1f ", 0, "\\x1f ");
	CHECK("tilde kept", "~", 0, "~");

	/* C1 and invalid UTF-8. */
	CHECK("raw C1 byte 0x9b", "\x9b", 0, "\\x9b");
	CHECK("raw 0x80", "\x80", 0, "\\x80");
	CHECK("U+0080 as UTF-8", "\xc2\x80", 0, "\\xc2\\x80");
	CHECK("U+009F as UTF-8", "\xc2\x9f", 0, "\\xc2\\x9f");
	CHECK("U+00A0 kept", "\xc2\xa0", 0, "\xc2\xa0");
	CHECK("overlong C0 AF", "\xc0\xaf", 0, "\\xc0\\xaf");
	CHECK("overlong C1 BF", "\xc1\xbf", 0, "\\xc1\\xbf");
	CHECK("overlong E0 80 AF", "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf");
	CHECK("overlong F0 80 80 AF", "\xf0\x80\x80\xaf", 0, "\\xf0\\x80\\x80\\xaf");
	CHECK("overlong NUL C0 80", "\xc0\x80", 0, "\\xc0\\x80");
	CHECK("surrogate ED A0 80", "\xed\xa0\x80", 0, "\\xed\\xa0\\x80");
	CHECK("surrogate ED BF BF", "\xed\xbf\xbf", 0, "\\xed\\xbf\\xbf");
	CHECK("U+D7FF kept", "\xed\x9f\xbf", 0, "\xed\x9f\xbf");
	CHECK("above U+10FFFF (F4 90)", "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80");
	CHECK("F5 lead", "\xf5\x80\x80\x80", 0, "\\xf5\\x80\\x80\\x80");
	CHECK("U+10FFFF kept", "\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf");
	CHECK("emoji kept", "\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80");
	CHECK("truncated then ASCII", "\342\202A", 0, "\\xe2\\x82A");
	CHECK("truncated at end", "x\xe6\x97", 0, "x\\xe6\\x97");
	CHECK("truncated 4-byte at end", "\xf0\x9f\x98", 0, "\\xf0\\x9f\\x98");
	CHECK("lead byte followed by lead byte", "\xc3\xc3\xbc", 0, "\\xc3\xc3\xbc");
	CHECK("stray continuation", "\277a", 0, "\\xbfa");
	CHECK("0xfe 0xff", "\xfe\xff", 0, "\\xfe\\xff");

	/* Hidden and bidi characters. */
	CHECK("U+200B zero width space", "\xe2\x80\x8b", 0, "\\u{200B}");
	CHECK("U+200F RLM", "\xe2\x80\x8f", 0, "\\u{200F}");
	CHECK("U+202A LRE", "\xe2\x80\xaa", 0, "\\u{202A}");
	CHECK("U+2028 line separator", "\xe2\x80\xa8", 0, "\\u{2028}");
	CHECK("U+2029 paragraph separator", "\xe2\x80\xa9", 0, "\\u{2029}");
	CHECK("U+2060 word joiner", "\xe2\x81\xa0", 0, "\\u{2060}");
	CHECK("U+2066 LRI", "\xe2\x81\xa6", 0, "\\u{2066}");
	CHECK("U+2069 PDI", "\xe2\x81\xa9", 0, "\\u{2069}");
	CHECK("U+206F", "\xe2\x81\xaf", 0, "\\u{206F}");
	CHECK("U+FEFF BOM", "\xef\xbb\xbf", 0, "\\u{FEFF}");
	CHECK("U+061C ALM", "\xd8\x9c", 0, "\\u{061C}");
	CHECK("U+180E MVS", "\xe1\xa0\x8e", 0, "\\u{180E}");
	CHECK("U+00AD soft hyphen", "\xc2\xad", 0, "\\u{00AD}");
	CHECK("U+FFF9 annotation", "\xef\xbf\xb9", 0, "\\u{FFF9}");
	CHECK("U+E0041 tag", "\xf3\xa0\x81\x81", 0, "\\u{E0041}");
	CHECK("U+200A hair space kept", "\xe2\x80\x8a", 0, "\xe2\x80\x8a");
	CHECK("U+2010 hyphen kept", "\xe2\x80\x90", 0, "\xe2\x80\x90");
	CHECK("U+2030 per mille kept", "\xe2\x80\xb0", 0, "\xe2\x80\xb0");
	CHECK("U+2070 kept", "\xe2\x81\xb0", 0, "\xe2\x81\xb0");

	/* The cap. */
	CHECK("fits exactly", "abcdefghij", 10, "abcdefghij");
	CHECK("cut", "abcdefghij", 9, "abcdef...");
	CHECK("cap 3", "abcdefghij", 3, "...");
	CHECK("cap 2", "abcdefghij", 2, "..");
	CHECK("cap 1", "abcdefghij", 1, ".");
	CHECK("cap 0 means none", "abcdefghij", 0, "abcdefghij");
	CHECK("large cap", "abc", 1000, "abc");
	CHECK("escape not split", "\033abcdef", 8, "\\x1ba...");
	CHECK("escape dropped whole", "\033abc", 6, "...");
	CHECK("escape fits exactly", "\033abc", 7, "\\x1babc");
	CHECK("UTF-8 not split", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 7, "\xe6\x97\xa5...");
	CHECK("UTF-8 fits", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9,
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	CHECK("\\u{} not split", "ab\342\200\256cd", 10, "ab...");
	CHECK("doubled backslash not split", "a\\\\\\", 6, "a\\\\...");

	/* NULL and the _str form. */
	s = mxt_escape(NULL, 0, 0);
	T_CHECK(s != NULL && s[0] == '\0', "NULL pointer, length 0: empty string");
	free(s);
	T_CHECK(mxt_escape_str(NULL, 0) == NULL, "mxt_escape_str(NULL) is NULL");
	s = mxt_escape_str("a\x1b[1mb", 0);
	T_CHECK(s != NULL && strcmp(s, "a\\x1b[1mb") == 0, "mxt_escape_str");
	free(s);
	s = mxt_escape_str("a\x1b[1mb", 6);
	T_CHECK(s != NULL && strcmp(s, "a...") == 0, "mxt_escape_str with cap");
	free(s);

	exhaustive_short();
	large_inputs();
	property_test();
	return t_done();
}
