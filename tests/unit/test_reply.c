/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SMTP reply parser (src/smtp/reply.c).  Table-driven:
 * every case is parsed in one chunk, split in two at every byte boundary,
 * byte by byte and in small fixed-size chunks, and every way must give the
 * same replies, flags and consumed-byte counts (RFC 5321 §4.2; short lines
 * as in CVE-2020-8794).  Large generated cases (the reply line, line-count
 * and byte caps of mxtrace/limits.h) are split at a sample of boundaries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/reply.h"
#include "t.h"

#define F_OVER MXT_REPLY_F_LINE_OVER_RFC
#define F_TRUNC MXT_REPLY_F_LINE_TRUNCATED
#define F_MISMATCH MXT_REPLY_F_CODE_MISMATCH
#define F_LF MXT_REPLY_F_BARE_LF
#define F_CTRL MXT_REPLY_F_CTRL_BYTES
#define F_ENH MXT_REPLY_F_ENH_MISMATCH
#define F_LINES MXT_REPLY_F_TOO_MANY_LINES
#define F_LARGE MXT_REPLY_F_TOO_LARGE
#define F_BAD MXT_REPLY_F_MALFORMED
#define F_UNTERM MXT_REPLY_F_UNTERMINATED

#define DONE MXT_REPLY_DONE
#define ERR MXT_REPLY_ERROR
#define MORE MXT_REPLY_MORE

/* A byte string with its length (may hold NUL). */
#define B(s) (s), (sizeof(s) - 1)
/* clang-format off */
#define L(s) {(s), (sizeof(s) - 1)}
/* clang-format on */
/* end offset meaning "the whole input" */
#define ALL ((size_t)-1)

/* ---- driving the parser ---- */

#define MAXOUT 8

/* One thing the parser reported: a reply (DONE/ERROR), or a trailing MORE
 * with bytes of an unfinished reply pending. */
struct outcome {
	enum mxt_reply_status status;
	size_t end; /* input offset just after the bytes this outcome consumed */
	int pending;
	struct mxt_reply r;
};

struct run {
	struct outcome o[MAXOUT];
	size_t n;
	int bad; /* the parser broke a feed() contract */
};

static void
run_free(struct run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		mxt_reply_free(&run->o[i].r);
	memset(run, 0, sizeof(*run));
}

/*
 * Feed in[0..len): first chunk ends at split (0 = no split), then chunks of
 * step bytes (0 = the rest at once).  After DONE the rest of the chunk is fed
 * again; after ERROR parsing stops.  Checks the feed() contract on the way.
 */
static void
drive(const char *in, size_t len, int want_enh, size_t split, size_t step, struct run *run)
{
	struct mxt_reply_parser p;
	size_t off = 0, ce;
	enum mxt_reply_status st = MORE;

	memset(run, 0, sizeof(*run));
	if (mxt_reply_parser_init(&p) != 0) {
		run->bad = 1;
		return;
	}
	mxt_reply_parser_want_enh(&p, want_enh);
	while (off < len) {
		if (split > 0 && off < split)
			ce = split;
		else if (step > 0)
			ce = off + step < len ? off + step : len;
		else
			ce = len;
		while (off < ce) {
			size_t used = (size_t)-1;

			st = mxt_reply_parser_feed(&p, in + off, ce - off, &used);
			if (used > ce - off || (st == MORE && used != ce - off) ||
			    (st != MORE && used == 0)) {
				run->bad = 1;
				goto out;
			}
			off += used;
			if (st == MORE)
				break;
			if (run->n == MAXOUT) {
				run->bad = 1;
				goto out;
			}
			if (mxt_reply_parser_pending(&p))
				run->bad = 1; /* a finished reply is not "pending" */
			run->o[run->n].status = st;
			run->o[run->n].end = off;
			mxt_reply_take(&p, &run->o[run->n].r);
			run->n++;
			if (st == ERR)
				goto out;
		}
	}
	if (mxt_reply_parser_pending(&p) && run->n < MAXOUT) {
		run->o[run->n].status = MORE;
		run->o[run->n].end = len;
		run->o[run->n].pending = 1;
		run->n++;
	}
out:
	mxt_reply_parser_free(&p);
}

static int
reply_eq(const struct mxt_reply *a, const struct mxt_reply *b)
{
	size_t i;

	if (a->code != b->code || strcmp(a->enh, b->enh) != 0 || a->nlines != b->nlines ||
	    a->nbytes != b->nbytes || a->flags != b->flags)
		return 0;
	for (i = 0; i < a->nlines; i++) {
		if (a->lines[i].len != b->lines[i].len ||
		    memcmp(a->lines[i].p, b->lines[i].p, a->lines[i].len) != 0 ||
		    a->lines[i].p[a->lines[i].len] != '\0')
			return 0;
	}
	return 1;
}

static int
run_eq(const struct run *a, const struct run *b)
{
	size_t i;

	if (a->bad || b->bad || a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->o[i].status != b->o[i].status || a->o[i].end != b->o[i].end ||
		    a->o[i].pending != b->o[i].pending || !reply_eq(&a->o[i].r, &b->o[i].r))
			return 0;
	}
	return 1;
}

/* Split points to try: all of them for small inputs; for large ones both
 * ends, a stride through the middle, and around the 64 KiB limit. */
static int
want_split(size_t s, size_t len)
{
	size_t cap = MXT_REPLY_BYTES_MAX;

	if (len <= 4096 || s <= 600 || s + 600 >= len)
		return 1;
	if (s + 8 >= cap && s <= cap + 8)
		return 1;
	return s % 4099 == 0 || (s > 2030 && s < 2060);
}

/* Drive every way and compare with the one-chunk run.  Emits 4 points. */
static void
check_splits(const char *name, const char *in, size_t len, int want_enh, const struct run *ref)
{
	static const size_t steps[] = {2, 3, 7, 64, 509};
	struct run r;
	size_t s, i, bad_at = 0, nsplit = 0, ntrickle = 0;
	int ok = 1;

	for (s = 1; s < len && ok; s++) {
		if (!want_split(s, len))
			continue;
		nsplit++;
		drive(in, len, want_enh, s, 0, &r);
		if (!run_eq(ref, &r)) {
			ok = 0;
			bad_at = s;
		}
		run_free(&r);
	}
	/* Input of two bytes or more has split points: the loop must run. */
	T_CHECK(ok && (nsplit > 0 || len < 2),
	    "%s: identical when split at every boundary (%zu splits, first bad: %zu)", name, nsplit,
	    bad_at);

	drive(in, len, want_enh, 0, 1, &r);
	T_CHECK(run_eq(ref, &r), "%s: identical byte by byte", name);
	run_free(&r);

	ok = 1;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && ok; i++) {
		drive(in, len, want_enh, 0, steps[i], &r);
		ok = run_eq(ref, &r);
		run_free(&r);
	}
	T_CHECK(ok, "%s: identical in chunks of 2, 3, 7, 64, 509", name);

	/* Split in two plus bytewise after the split (a mixed trickle). */
	ok = 1;
	for (s = 1; s < len && s < 64 && ok; s++) {
		ntrickle++;
		drive(in, len, want_enh, s, 1, &r);
		ok = run_eq(ref, &r);
		run_free(&r);
	}
	T_CHECK(ok && (ntrickle > 0 || len < 2),
	    "%s: identical with a first chunk then bytes (%zu runs)", name, ntrickle);
}

/* ---- expected results ---- */

struct exp_line {
	/* NULL: check the length and the 'x' filler only; NULL with length 0
	 * or ALL: only that it is NUL-terminated */
	const char *p;
	size_t len;
};

struct exp_out {
	enum mxt_reply_status status;
	size_t end;
	int code;
	unsigned flags;
	const char *enh;
	size_t nlines;
	struct exp_line lines[3]; /* the first min(nlines, 3) are checked */
};

/* A trailing MORE: the input ended inside a reply. */
/* clang-format off */
#define PENDING {MORE, ALL, 0, 0, "", 0, {{NULL, 0}}}
/* clang-format on */

struct rcase {
	const char *name;
	const char *in;
	size_t len;
	int want_enh;
	size_t nout;
	struct exp_out out[3];
};

static void
flags_str(unsigned f, char *buf, size_t n)
{
	unsigned i;
	size_t off = 0;
	const char *nm;

	buf[0] = '\0';
	for (i = 0; (nm = mxt_reply_flag_name(i)) != NULL; i++) {
		if ((f & (1u << i)) && off < n) {
			int w = snprintf(buf + off, n - off, "%s%s", off ? "," : "", nm);

			if (w > 0)
				off += (size_t)w;
		}
	}
}

static int
line_ok(const struct mxt_line *l, const struct exp_line *e)
{
	size_t i;

	if (l->p[l->len] != '\0')
		return 0;
	if (e->p == NULL && (e->len == ALL || e->len == 0))
		return 1; /* not specified, or checked elsewhere */
	if (l->len != e->len)
		return 0;
	if (e->p != NULL)
		return memcmp(l->p, e->p, e->len) == 0;
	for (i = 0; i < l->len; i++) {
		if (l->p[i] != 'x')
			return 0;
	}
	return 1;
}

/* Compare a run with what a case expects: several points per outcome. */
static void
check_expected(
    const char *name, const struct run *run, const struct exp_out *exp, size_t nexp, size_t len)
{
	size_t i, j, prev = 0;
	char got[256], want[256];

	T_CHECK(!run->bad, "%s: feed() contract kept", name);
	T_CHECK(run->n == nexp, "%s: %zu outcomes (got %zu)", name, nexp, run->n);
	for (i = 0; i < nexp && i < run->n; i++) {
		const struct outcome *o = &run->o[i];
		const struct exp_out *e = &exp[i];
		size_t end = e->end == ALL ? len : e->end;

		T_CHECK(o->status == e->status, "%s[%zu]: status %d (got %d)", name, i, e->status,
		    o->status);
		T_CHECK(
		    o->end == end, "%s[%zu]: consumed up to %zu (got %zu)", name, i, end, o->end);
		if (e->status == MORE) {
			T_CHECK(o->pending, "%s[%zu]: bytes of a reply pending", name, i);
			prev = o->end;
			continue;
		}
		T_CHECK(
		    o->r.code == e->code, "%s[%zu]: code %d (got %d)", name, i, e->code, o->r.code);
		flags_str(e->flags, want, sizeof(want));
		flags_str(o->r.flags, got, sizeof(got));
		T_CHECK(
		    o->r.flags == e->flags, "%s[%zu]: flags {%s} (got {%s})", name, i, want, got);
		T_CHECK(strcmp(o->r.enh, e->enh ? e->enh : "") == 0,
		    "%s[%zu]: enh \"%s\" (got \"%s\")", name, i, e->enh ? e->enh : "", o->r.enh);
		T_CHECK(o->r.nbytes == o->end - prev, "%s[%zu]: nbytes %zu (got %zu)", name, i,
		    o->end - prev, o->r.nbytes);
		T_CHECK(o->r.nlines == e->nlines, "%s[%zu]: %zu lines (got %zu)", name, i,
		    e->nlines, o->r.nlines);
		for (j = 0; j < e->nlines && j < 3 && j < o->r.nlines; j++)
			T_CHECK(line_ok(&o->r.lines[j], &e->lines[j]), "%s[%zu]: line %zu text",
			    name, i, j);
		prev = o->end;
	}
}

/* Run a case one-chunk against its expectations, then every other way. */
static void
run_case(const char *name, const char *in, size_t len, int want_enh, const struct exp_out *exp,
    size_t nexp)
{
	struct run ref;

	drive(in, len, want_enh, 0, 0, &ref);
	check_expected(name, &ref, exp, nexp, len);
	check_splits(name, in, len, want_enh, &ref);
	run_free(&ref);
}

/* clang-format off */
static const struct rcase cases[] = {
	/* Plain replies. */
	{"single line", B("250 ok\r\n"), 0, 1, {{DONE, ALL, 250, 0, "", 1, {L("ok")}}}},
	{"multiline", B("250-mx.example.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"), 0, 1,
	    {{DONE, ALL, 250, 0, "", 3, {L("mx.example.test"), L("PIPELINING"), L("SIZE 1000")}}}},
	{"bare code", B("250\r\n"), 0, 1, {{DONE, ALL, 250, 0, "", 1, {L("")}}}},
	{"code and space", B("250 \r\n"), 0, 1, {{DONE, ALL, 250, 0, "", 1, {L("")}}}},
	{"empty continuation", B("250-\r\n250 ok\r\n"), 0, 1,
	    {{DONE, ALL, 250, 0, "", 2, {L(""), L("ok")}}}},
	{"continuation alone", B("250-\r\n"), 0, 1, {PENDING}},
	{"no LF yet", B("250 ok"), 0, 1, {PENDING}},
	{"text with tab and UTF-8", B("250 a\tb \xc3\xa9\r\n"), 0, 1,
	    {{DONE, ALL, 250, 0, "", 1, {L("a\tb \xc3\xa9")}}}},
	{"421 multiline", B("421-closing\r\n421 bye\r\n"), 0, 1,
	    {{DONE, ALL, 421, 0, "", 2, {L("closing"), L("bye")}}}},
	{"highest code", B("559 x\r\n"), 0, 1, {{DONE, ALL, 559, 0, "", 1, {L("x")}}}},

	/* Short and out-of-range lines (RFC 5321 §4.2: code 2yz-5yz). */
	{"short 25", B("25\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("25")}}}},
	{"empty line", B("\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("")}}}},
	{"four digits", B("2500 x\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("2500 x")}}}},
	{"199", B("199 x\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("199 x")}}}},
	{"600", B("600 x\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("600 x")}}}},
	{"2x0", B("2x0 x\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("2x0 x")}}}},
	{"250x", B("250x\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("250x")}}}},
	{"250 tab", B("250\t\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("250\t")}}}},
	{"second digit 6", B("260 x\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("260 x")}}}},
	{"bare 199", B("199\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("199")}}}},
	{"bare 600", B("600\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("600")}}}},
	{"one digit", B("2\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L("2")}}}},
	{"leading space", B(" 250 x\r\n"), 0, 1, {{ERR, ALL, 0, F_BAD, "", 1, {L(" 250 x")}}}},
	{"short after continuation", B("250-a\r\n25\r\n250 b\r\n"), 0, 1,
	    {{ERR, 11, 0, F_BAD, "", 2, {L("a"), L("25")}}}},
	{"empty line after continuation", B("250-a\r\n\r\n"), 0, 1,
	    {{ERR, ALL, 0, F_BAD, "", 2, {L("a"), L("")}}}},
	{"NUL in code", B("2\0000 x\r\n"), 0, 1,
	    {{ERR, ALL, 0, F_BAD | F_CTRL, "", 1, {L("2\0000 x")}}}},

	/* RFC 5321 §4.2.1: mixed codes are a protocol error once the reply is
	 * complete; every line is kept. */
	{"mismatched codes", B("250-a\r\n550 b\r\n"), 0, 1,
	    {{ERR, ALL, 0, F_MISMATCH, "", 2, {L("a"), L("b")}}}},
	{"mismatch in the middle", B("220-a\r\n250-b\r\n220 c\r\n"), 0, 1,
	    {{ERR, ALL, 0, F_MISMATCH, "", 3, {L("a"), L("b"), L("c")}}}},

	/* Bare LF ends a line; RFC 5321 §2.3.8: a lone CR ends nothing. */
	{"bare LF", B("250 ok\n"), 0, 1, {{DONE, ALL, 250, F_LF, "", 1, {L("ok")}}}},
	{"bare LF on one line", B("250-a\n250 b\r\n"), 0, 1,
	    {{DONE, ALL, 250, F_LF, "", 2, {L("a"), L("b")}}}},
	{"bare LF empty line", B("\n"), 0, 1, {{ERR, ALL, 0, F_BAD | F_LF, "", 1, {L("")}}}},
	{"lone CR in text", B("250 a\rb\r\n"), 0, 1,
	    {{DONE, ALL, 250, F_CTRL, "", 1, {L("a\rb")}}}},
	{"CR CR LF", B("250 a\r\r\n"), 0, 1, {{DONE, ALL, 250, F_CTRL, "", 1, {L("a\r")}}}},
	{"CR does not end a line", B("250-a\r250 b\r\n"), 0, 1, {PENDING}},
	{"CR then bare LF line", B("250-a\r250 b\r\n250 c\n"), 0, 1,
	    {{DONE, ALL, 250, F_CTRL | F_LF, "", 2, {L("a\r250 b"), L("c")}}}},
	{"trailing CR pending", B("250 ok\r"), 0, 1, {PENDING}},

	/* NUL and control bytes are kept, len is authoritative. */
	{"NUL and ESC", B("250 a\0b\x1b[2Jc\rd\r\n"), 0, 1,
	    {{DONE, ALL, 250, F_CTRL, "", 1, {L("a\0b\x1b[2Jc\rd")}}}},
	{"DEL", B("250 a\x7f\r\n"), 0, 1, {{DONE, ALL, 250, F_CTRL, "", 1, {L("a\x7f")}}}},
	{"BEL in continuation", B("220-\a\r\n220 ok\r\n"), 0, 1,
	    {{DONE, ALL, 220, F_CTRL, "", 2, {L("\a"), L("ok")}}}},

	/* Several replies in one buffer: parsing stops after each. */
	{"two replies", B("220 hi\r\n250 ok\r\n"), 0, 2,
	    {{DONE, 8, 220, 0, "", 1, {L("hi")}}, {DONE, 16, 250, 0, "", 1, {L("ok")}}}},
	{"STARTTLS injection", B("220 go\r\n250-evil\r\n250 AUTH PLAIN\r\n"), 0, 2,
	    {{DONE, 8, 220, 0, "", 1, {L("go")}},
		{DONE, ALL, 250, 0, "", 2, {L("evil"), L("AUTH PLAIN")}}}},
	{"reply then partial", B("250 ok\r\n25"), 0, 2,
	    {{DONE, 8, 250, 0, "", 1, {L("ok")}}, PENDING}},
	{"flags do not leak", B("250 a\rb\n250 ok\r\n"), 0, 2,
	    {{DONE, 8, 250, F_CTRL | F_LF, "", 1, {L("a\rb")}},
		{DONE, ALL, 250, 0, "", 1, {L("ok")}}}},
	{"reply then error", B("250 ok\r\n600 x\r\n250 no\r\n"), 0, 2,
	    {{DONE, 8, 250, 0, "", 1, {L("ok")}}, {ERR, 15, 0, F_BAD, "", 1, {L("600 x")}}}},

	/* Enhanced status codes (RFC 3463 §2, RFC 2034 §4). */
	{"enh valid", B("250 2.1.5 ok\r\n"), 1, 1, {{DONE, ALL, 250, 0, "2.1.5", 1, {L("2.1.5 ok")}}}},
	{"enh 5xx", B("550 5.7.1 denied\r\n"), 1, 1,
	    {{DONE, ALL, 550, 0, "5.7.1", 1, {L("5.7.1 denied")}}}},
	{"enh 4xx", B("450 4.7.1 greylisted\r\n"), 1, 1,
	    {{DONE, ALL, 450, 0, "4.7.1", 1, {L("4.7.1 greylisted")}}}},
	{"enh mismatch 550 2.1.0", B("550 2.1.0 ok\r\n"), 1, 1,
	    {{DONE, ALL, 550, F_ENH, "2.1.0", 1, {L("2.1.0 ok")}}}},
	{"enh mismatch 250 5.0.0", B("250 5.0.0 x\r\n"), 1, 1,
	    {{DONE, ALL, 250, F_ENH, "5.0.0", 1, {L("5.0.0 x")}}}},
	{"enh 4-digit detail", B("250 2.1.5000 x\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "", 1, {L("2.1.5000 x")}}}},
	{"enh 4-digit subject", B("250 2.1234.5 x\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "", 1, {L("2.1234.5 x")}}}},
	{"enh 3-digit parts", B("250 2.123.456 x\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "2.123.456", 1, {L("2.123.456 x")}}}},
	{"enh at end of text", B("250 2.1.5\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "2.1.5", 1, {L("2.1.5")}}}},
	{"enh followed by letter", B("250 2.1.5x\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "", 1, {L("2.1.5x")}}}},
	{"enh followed by tab", B("250 2.1.5\tx\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "", 1, {L("2.1.5\tx")}}}},
	{"enh empty subject", B("250 2..5 x\r\n"), 1, 1, {{DONE, ALL, 250, 0, "", 1, {L("2..5 x")}}}},
	{"enh class 3", B("250 3.1.5 x\r\n"), 1, 1, {{DONE, ALL, 250, 0, "", 1, {L("3.1.5 x")}}}},
	{"enh two parts", B("250 2.1\r\n"), 1, 1, {{DONE, ALL, 250, 0, "", 1, {L("2.1")}}}},
	{"enh no detail", B("250 2.1. x\r\n"), 1, 1, {{DONE, ALL, 250, 0, "", 1, {L("2.1. x")}}}},
	{"enh leading space", B("250  2.1.5 x\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "", 1, {L(" 2.1.5 x")}}}},
	{"enh bare code", B("250\r\n"), 1, 1, {{DONE, ALL, 250, 0, "", 1, {L("")}}}},
	{"enh multiline", B("250-2.1.5 a\r\n250 2.1.5 b\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "2.1.5", 2, {L("2.1.5 a"), L("2.1.5 b")}}}},
	{"enh only on first line", B("250-a\r\n250 2.1.5 b\r\n"), 1, 1,
	    {{DONE, ALL, 250, 0, "", 2, {L("a"), L("2.1.5 b")}}}},
	{"enh class vs final code", B("250-2.0.0 a\r\n550 5.0.0 b\r\n"), 1, 1,
	    {{ERR, ALL, 0, F_MISMATCH, "", 2, {L("2.0.0 a"), L("5.0.0 b")}}}},
	{"enh off", B("250 2.1.5 ok\r\n"), 0, 1, {{DONE, ALL, 250, 0, "", 1, {L("2.1.5 ok")}}}},
	{"enh off no mismatch", B("550 2.1.0 ok\r\n"), 0, 1,
	    {{DONE, ALL, 550, 0, "", 1, {L("2.1.0 ok")}}}},
};
/* clang-format on */

static void
test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];

		run_case(c->name, c->in, c->len, c->want_enh, c->out, c->nout);
	}
}

/* ---- generated cases: line, line-count and byte caps ---- */

/* A buffer under construction. */
struct gbuf {
	char *p;
	size_t len;
};

static void
gb_add(struct gbuf *g, const char *s, size_t n)
{
	char *np = realloc(g->p, g->len + n + 1);

	if (np == NULL) {
		perror("realloc");
		exit(99);
	}
	g->p = np;
	memcpy(g->p + g->len, s, n);
	g->len += n;
	g->p[g->len] = '\0';
}

static void
gb_str(struct gbuf *g, const char *s)
{
	gb_add(g, s, strlen(s));
}

static void
gb_x(struct gbuf *g, size_t n)
{
	char chunk[1024];

	memset(chunk, 'x', sizeof(chunk));
	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		gb_add(g, chunk, k);
		n -= k;
	}
}

/* "CODE<sep>" + n x's + terminator. */
static void
gb_line(struct gbuf *g, const char *head, size_t n, const char *term)
{
	gb_str(g, head);
	gb_x(g, n);
	gb_str(g, term);
}

static void
gen_case(const char *name, struct gbuf *g, const struct exp_out *exp, size_t nexp)
{
	run_case(name, g->p, g->len, 0, exp, nexp);
	free(g->p);
	g->p = NULL;
	g->len = 0;
}

static void
test_generated(void)
{
	struct gbuf g = {NULL, 0};
	size_t i;

	/* MXT_REPLY_LINE_MAX: 2049 octets with CRLF: cut to 2046 stored (2042 of text), the
	 * rest skipped to LF; the next reply is not disturbed. */
	gb_line(&g, "250 ", 2043, "\r\n");
	gb_str(&g, "250 ok\r\n");
	{
		struct exp_out e[] = {
		    {DONE, 2049, 250, F_OVER | F_TRUNC, "", 1, {{NULL, 2042}}},
		    {DONE, ALL, 250, 0, "", 1, {L("ok")}},
		};
		gen_case("2049-octet line", &g, e, 2);
	}
	/* 2048 octets with CRLF: over RFC, not cut. */
	gb_line(&g, "250 ", 2042, "\r\n");
	{
		struct exp_out e[] = {{DONE, ALL, 250, F_OVER, "", 1, {{NULL, 2042}}}};
		gen_case("2048-octet line", &g, e, 1);
	}
	/* Lengths are measured as with CRLF whatever the terminator. */
	gb_line(&g, "250 ", 2042, "\n");
	{
		struct exp_out e[] = {{DONE, ALL, 250, F_OVER | F_LF, "", 1, {{NULL, 2042}}}};
		gen_case("2047-octet bare-LF line", &g, e, 1);
	}
	gb_line(&g, "250 ", 2043, "\n");
	{
		struct exp_out e[] = {
		    {DONE, ALL, 250, F_OVER | F_TRUNC | F_LF, "", 1, {{NULL, 2042}}}};
		gen_case("2048-octet bare-LF line", &g, e, 1);
	}
	/* A long continuation line, then a final line. */
	gb_line(&g, "250-", 5000, "\r\n");
	gb_str(&g, "250 end\r\n");
	{
		struct exp_out e[] = {
		    {DONE, ALL, 250, F_OVER | F_TRUNC, "", 2, {{NULL, 2042}, L("end")}}};
		gen_case("long continuation", &g, e, 1);
	}
	/* RFC 5321 §4.5.3.1.5: 512 octets incl. CRLF is fine, 513 is not. */
	gb_line(&g, "250 ", 507, "\r\n");
	{
		struct exp_out e[] = {{DONE, ALL, 250, F_OVER, "", 1, {{NULL, 507}}}};
		gen_case("513-octet line", &g, e, 1);
	}
	gb_line(&g, "250 ", 506, "\r\n");
	{
		struct exp_out e[] = {{DONE, ALL, 250, 0, "", 1, {{NULL, 506}}}};
		gen_case("512-octet line", &g, e, 1);
	}

	/* MXT_REPLY_LINES_MAX: 100 lines are fine, a 101st is fatal (and not stored). */
	for (i = 0; i < 99; i++)
		gb_str(&g, "250-x\r\n");
	gb_str(&g, "250 x\r\n");
	{
		struct exp_out e[] = {{DONE, ALL, 250, 0, "", 100, {L("x"), L("x"), L("x")}}};
		gen_case("100 lines", &g, e, 1);
	}
	for (i = 0; i < 101; i++)
		gb_str(&g, "250-x\r\n");
	gb_str(&g, "250 x\r\n");
	{
		struct exp_out e[] = {
		    {ERR, 101 * 7, 0, F_LINES, "", 100, {L("x"), L("x"), L("x")}}};
		gen_case("101 continuation lines", &g, e, 1);
	}
	for (i = 0; i < 100; i++)
		gb_str(&g, "250-x\r\n");
	gb_str(&g, "250 x\r\n");
	{
		struct exp_out e[] = {{ERR, ALL, 0, F_LINES, "", 100, {L("x"), L("x"), L("x")}}};
		gen_case("101 lines, last one final", &g, e, 1);
	}

	/* MXT_REPLY_BYTES_MAX: 1002-octet lines (fewer than 100) past 64 KiB. */
	for (i = 0; i < 70; i++)
		gb_line(&g, "250-", 996, "\r\n");
	gb_str(&g, "250 end\r\n");
	{
		struct exp_out e[] = {
		    {ERR, MXT_REPLY_BYTES_MAX + 1, 0, F_OVER | F_LARGE, "", 65, {{NULL, 996}}}};
		gen_case("reply over 64 KiB", &g, e, 1);
	}
	/* Exactly 64 KiB is fine: 65 * 1002 + 406. */
	for (i = 0; i < 65; i++)
		gb_line(&g, "250-", 996, "\r\n");
	gb_line(&g, "250 ", 400, "\r\n");
	{
		struct exp_out e[] = {{DONE, ALL, 250, F_OVER, "", 66, {{NULL, 996}}}};
		gen_case("reply of exactly 64 KiB", &g, e, 1);
	}
	/* One more octet: the final LF is the 65537th. */
	for (i = 0; i < 65; i++)
		gb_line(&g, "250-", 996, "\r\n");
	gb_line(&g, "250 ", 401, "\r\n");
	{
		struct exp_out e[] = {{ERR, ALL, 0, F_OVER | F_LARGE, "", 65, {{NULL, 996}}}};
		gen_case("reply of 64 KiB + 1", &g, e, 1);
	}

	/* 70 KiB with no LF: fatal at 64 KiB; the stored head (2046
	 * octets, code included) is kept as the last line. */
	gb_line(&g, "250 ", 70 * 1024 - 4, "");
	{
		struct exp_out e[] = {{ERR, MXT_REPLY_BYTES_MAX, 0, F_OVER | F_TRUNC | F_UNTERM, "",
		    1, {{NULL, ALL}}}};
		gen_case("70 KiB line without LF", &g, e, 1);
	}
	/* A single line of exactly 64 KiB with its CRLF is accepted. */
	gb_line(&g, "250 ", MXT_REPLY_BYTES_MAX - 6, "\r\n");
	{
		struct exp_out e[] = {{DONE, ALL, 250, F_OVER | F_TRUNC, "", 1, {{NULL, 2042}}}};
		gen_case("64 KiB line", &g, e, 1);
	}
	gb_line(&g, "250 ", MXT_REPLY_BYTES_MAX - 5, "\r\n");
	{
		struct exp_out e[] = {{ERR, MXT_REPLY_BYTES_MAX, 0, F_OVER | F_TRUNC | F_UNTERM, "",
		    1, {{NULL, ALL}}}};
		gen_case("64 KiB + 1 line", &g, e, 1);
	}
	/* A 220- greeting followed by endless 250- lines. */
	gb_str(&g, "220-wait\r\n");
	for (i = 0; i < 200; i++)
		gb_line(&g, "250-", 400, "\r\n");
	{
		struct exp_out e[] = {
		    {ERR, 10 + 100 * 406, 0, F_MISMATCH | F_LINES, "", 100, {L("wait")}}};
		gen_case("220- then 250- flood", &g, e, 1);
	}
}

/* The raw head kept for UNTERMINATED: "250 " then x's. */
static void
test_unterminated_head(void)
{
	struct gbuf g = {NULL, 0};
	struct run r;

	gb_line(&g, "250 ", 70 * 1024, "");
	drive(g.p, g.len, 0, 0, 0, &r);
	T_CHECK(r.n == 1 && r.o[0].r.nlines == 1 &&
		r.o[0].r.lines[0].len == MXT_REPLY_LINE_MAX - 2 &&
		memcmp(r.o[0].r.lines[0].p, "250 xxx", 7) == 0,
	    "unterminated: the head of the line is kept raw");
	T_CHECK(r.n == 1 && r.o[0].r.nbytes == MXT_REPLY_BYTES_MAX,
	    "unterminated: nbytes stops at 64 KiB");
	run_free(&r);
	free(g.p);
}

/* ---- API behaviour around feed/take ---- */

static void
test_api(void)
{
	struct mxt_reply_parser p;
	struct mxt_reply r, c;
	enum mxt_reply_status st;
	size_t used;
	const char two[] = "250 a\r\n250 b\r\n";

	T_CHECK(mxt_reply_parser_init(&p) == 0, "init");
	T_CHECK(!mxt_reply_parser_pending(&p), "fresh parser: nothing pending");
	st = mxt_reply_parser_feed(&p, "", 0, &used);
	T_CHECK(st == MORE && used == 0, "empty feed: MORE, nothing used");

	st = mxt_reply_parser_feed(&p, two, sizeof(two) - 1, &used);
	T_CHECK(st == DONE && used == 7, "first of two replies: DONE after 7 bytes");
	T_CHECK(!mxt_reply_parser_pending(&p), "complete reply: nothing pending");
	st = mxt_reply_parser_feed(&p, two + used, sizeof(two) - 1 - used, &used);
	T_CHECK(st == DONE && used == 0, "feed before take: DONE again, nothing used");
	mxt_reply_take(&p, &r);
	T_CHECK(r.code == 250 && r.nlines == 1 && strcmp(r.lines[0].p, "a") == 0, "take first");
	mxt_reply_free(&r);
	T_CHECK(r.lines == NULL && r.nlines == 0 && r.code == 0, "free zeroes the reply");

	st = mxt_reply_parser_feed(&p, "250-x\r\n25", 9, &used);
	T_CHECK(st == MORE && used == 9, "partial: MORE, all used");
	T_CHECK(mxt_reply_parser_pending(&p), "partial: pending");
	st = mxt_reply_parser_feed(&p, "\r\n250 y\r\n", 9, &used);
	T_CHECK(st == ERR && used == 2, "malformed line: ERROR right after its LF");
	T_CHECK(!mxt_reply_parser_pending(&p), "after ERROR: not pending");
	st = mxt_reply_parser_feed(&p, "250 y\r\n", 7, &used);
	T_CHECK(st == ERR && used == 0, "ERROR is sticky until take");
	mxt_reply_take(&p, &r);
	T_CHECK(r.code == 0 && (r.flags & MXT_REPLY_F_FATAL) && r.nlines == 2 && r.nbytes == 11,
	    "partial reply taken after ERROR");
	mxt_reply_free(&r);
	st = mxt_reply_parser_feed(&p, "250 y\r\n", 7, &used);
	T_CHECK(st == DONE && used == 7, "parser usable after taking an error");
	mxt_reply_take(&p, &r);
	T_CHECK(r.code == 250 && r.flags == 0 && r.nlines == 1, "clean reply after the error");

	/* Deep copy, NUL bytes included. */
	mxt_reply_free(&r);
	mxt_reply_parser_want_enh(&p, 1);
	st = mxt_reply_parser_feed(&p, "550-5.1.1 a\0b\r\n550 c\r\n", 22, &used);
	T_CHECK(st == DONE && used == 22, "reply for copy");
	mxt_reply_take(&p, &r);
	T_CHECK(mxt_reply_copy(&c, &r) == 0, "copy");
	T_CHECK(c.code == 550 && strcmp(c.enh, "5.1.1") == 0 && c.nlines == 2 &&
		c.lines[0].len == 9 && memcmp(c.lines[0].p, "5.1.1 a\0b", 9) == 0 &&
		c.lines[0].p != r.lines[0].p && c.flags == r.flags && c.nbytes == r.nbytes,
	    "copy is deep and equal");
	mxt_reply_free(&r);
	T_CHECK(strcmp(c.lines[1].p, "c") == 0, "copy survives freeing the original");
	mxt_reply_free(&c);
	memset(&r, 0, sizeof(r));
	T_CHECK(mxt_reply_copy(&c, &r) == 0 && c.nlines == 0 && c.lines == NULL, "copy empty");
	mxt_reply_free(&c);

	/* want_enh can change between replies. */
	mxt_reply_parser_want_enh(&p, 0);
	st = mxt_reply_parser_feed(&p, "250 2.0.0 ok\r\n", 14, &used);
	mxt_reply_take(&p, &r);
	T_CHECK(st == DONE && r.enh[0] == '\0', "want_enh off again");
	mxt_reply_free(&r);

	/* take in the middle of a reply hands out the partial one. */
	st = mxt_reply_parser_feed(&p, "250-a\r\n250 b", 12, &used);
	mxt_reply_take(&p, &r);
	T_CHECK(st == MORE && r.nlines == 1 && r.code == 0 && r.nbytes == 12,
	    "take mid-reply: partial reply");
	mxt_reply_free(&r);
	T_CHECK(!mxt_reply_parser_pending(&p), "take mid-reply: parser reset");
	st = mxt_reply_parser_feed(&p, "354 go\r\n", 8, &used);
	mxt_reply_take(&p, &r);
	T_CHECK(st == DONE && r.code == 354 && r.nlines == 1 && r.nbytes == 8, "next reply clean");
	mxt_reply_free(&r);

	mxt_reply_parser_free(&p);
	mxt_reply_parser_free(&p); /* zeroed: harmless */
	T_CHECK(p.line == NULL, "parser freed");
	mxt_reply_free(NULL);
}

static void
test_flag_names(void)
{
	static const char *const want[] = {"line_over_rfc", "line_truncated", "code_mismatch",
	    "bare_lf", "ctrl_bytes", "enh_mismatch", "too_many_lines", "too_large", "malformed",
	    "unterminated"};
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *n = mxt_reply_flag_name((unsigned)i);

		if (n == NULL || strcmp(n, want[i]) != 0)
			ok = 0;
	}
	T_CHECK(ok, "flag names in bit order");
	T_CHECK(mxt_reply_flag_name(10) == NULL && mxt_reply_flag_name(31) == NULL &&
		mxt_reply_flag_name(1000) == NULL,
	    "flag name past the last bit is NULL");
	T_CHECK(MXT_REPLY_F_UNTERMINATED == 1u << 9, "last flag is bit 9");
}

/* mxt_reply_echoed_address(): the address a server echoed in brackets. */
static void
test_echoed_address(void)
{
	static const struct {
		const char *line;
		const char *want; /* NULL: none */
	} echo_cases[] = {
	    {"mx.example.test Hello client.example [192.0.2.1]", "192.0.2.1"},
	    {"mx.example.test ESMTP at your service, [198.51.100.7]", "198.51.100.7"},
	    {"mx Hello [IPv6:2001:db8::1]", "2001:db8::1"},
	    {"mx Hello [ipv6:2001:DB8::1]", "2001:DB8::1"},
	    {"mx Hello [2001:db8::2]", "2001:db8::2"},
	    {"mx [not an address] then [203.0.113.9]", "203.0.113.9"},
	    {"mx Hello [192.0.2.1", NULL},
	    {"mx Hello 192.0.2.1", NULL},
	    {"mx Hello []", NULL},
	    {"mx Hello [999.0.2.1]", NULL},
	    {"mx Hello [IPv6:]", NULL},
	    {"mx Hello [1.2.3.4 ]", NULL},
	    {"mx [0000000000000000000000000000000000000000000000000000000000001.2.3.4]", NULL},
	    {"", NULL},
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(echo_cases) / sizeof(echo_cases[0]); i++) {
		int got = mxt_reply_echoed_address(
		    echo_cases[i].line, strlen(echo_cases[i].line), out, sizeof(out));

		if (echo_cases[i].want == NULL)
			T_CHECK(!got && out[0] == '\0', "no address in '%s' (got '%s')",
			    echo_cases[i].line, got ? out : "");
		else
			T_CHECK(got && strcmp(out, echo_cases[i].want) == 0,
			    "'%s' -> %s (got '%s')", echo_cases[i].line, echo_cases[i].want,
			    got ? out : "");
	}
	/* Bytes, not a C string: a NUL inside the brackets is not an address,
	 * nor is a literal cut by the given length. */
	T_CHECK(!mxt_reply_echoed_address("[192.0.2.1\0x]", 13, out, sizeof(out)),
	    "NUL inside the brackets");
	T_CHECK(!mxt_reply_echoed_address("[192.0.2.1]", 10, out, sizeof(out)),
	    "the closing bracket past len");
	T_CHECK(mxt_reply_echoed_address("x [192.0.2.1] y", 13, out, sizeof(out)) &&
		strcmp(out, "192.0.2.1") == 0,
	    "length stops after the bracket");
	/* An output buffer too small for the address: none, no overflow. */
	T_CHECK(!mxt_reply_echoed_address("[192.0.2.1]", 11, out, 9), "out too small");
	T_CHECK(
	    mxt_reply_echoed_address("[192.0.2.1]", 11, out, 10) && strcmp(out, "192.0.2.1") == 0,
	    "out exactly large enough");
	T_CHECK(!mxt_reply_echoed_address("[192.0.2.1]", 11, out, 0), "no output buffer");
}

int
main(void)
{
	test_table();
	test_generated();
	test_unterminated_head();
	test_api();
	test_flag_names();
	test_echoed_address();
	return t_done();
}
