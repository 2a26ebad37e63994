/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the SMTP reply parser and the EHLO capability parser.
 * The first input byte picks the chunk size and want_enh; the rest is
 * server bytes.  Each input is parsed twice, in one chunk and in small
 * chunks, and the two runs must agree; every reply must respect the reply
 * caps of mxtrace/limits.h (line length, lines per reply, bytes per reply)
 * and every complete reply goes through mxt_caps_parse.  A broken
 * invariant calls abort().
 *
 * Built with -fsanitize=fuzzer and -DMXT_LIBFUZZER (meson -Dfuzzing=true) it
 * is a libFuzzer target; without MXT_LIBFUZZER it has a plain main() that
 * replays the files (or the files in the directories) named on the command
 * line, so a corpus runs as a normal test.  A replay that finds no input
 * fails: an empty or missing corpus must not pass as a clean run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXREPLIES 64

struct result {
	enum mxt_reply_status status[MAXREPLIES];
	size_t end[MAXREPLIES];
	struct mxt_reply r[MAXREPLIES];
	size_t n;
};

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* Invariants every reply handed out must satisfy. */
static void
check_reply(const struct mxt_reply *r, enum mxt_reply_status status)
{
	size_t i, stored = 0;

	check(r->nlines <= MXT_REPLY_LINES_MAX);
	/* nbytes counts what was consumed: the octet that trips the cap is
	 * one past it. */
	check(r->nbytes <= MXT_REPLY_BYTES_MAX ||
	    (status == MXT_REPLY_ERROR && r->nbytes == MXT_REPLY_BYTES_MAX + 1 &&
		(r->flags & MXT_REPLY_F_TOO_LARGE)));
	for (i = 0; i < r->nlines; i++) {
		check(r->lines[i].p != NULL && r->lines[i].len <= MXT_REPLY_LINE_MAX - 2);
		check(r->lines[i].p[r->lines[i].len] == '\0');
		stored += r->lines[i].len;
	}
	check(stored <= r->nbytes);
	check(strlen(r->enh) < sizeof(r->enh));
	if (status == MXT_REPLY_DONE) {
		/* RFC 5321 §4.2: %x32-35 %x30-35 %x30-39. */
		check(r->code >= 200 && r->code <= 559 && (r->code / 10) % 10 <= 5);
		check(r->nlines >= 1 && !(r->flags & MXT_REPLY_F_FATAL));
		if (r->enh[0] != '\0')
			check((r->enh[0] - '0' == r->code / 100) ==
			    !(r->flags & MXT_REPLY_F_ENH_MISMATCH));
	} else {
		check(r->code == 0);
	}
}

/* Parse buf in chunks of step bytes (0: all at once). */
static void
parse(const char *buf, size_t len, size_t step, int want_enh, struct result *res)
{
	struct mxt_reply_parser p;
	size_t off = 0;

	memset(res, 0, sizeof(*res));
	if (mxt_reply_parser_init(&p) != 0)
		abort();
	mxt_reply_parser_want_enh(&p, want_enh);
	while (off < len && res->n < MAXREPLIES) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		size_t used;
		enum mxt_reply_status st = mxt_reply_parser_feed(&p, buf + off, n, &used);

		check(used <= n);
		off += used;
		if (st == MXT_REPLY_MORE) {
			check(used == n);
			continue;
		}
		check(used > 0);
		res->status[res->n] = st;
		res->end[res->n] = off;
		mxt_reply_take(&p, &res->r[res->n]);
		check_reply(&res->r[res->n], st);
		res->n++;
		if (st == MXT_REPLY_ERROR)
			break;
	}
	mxt_reply_parser_free(&p);
}

static int
same_reply(const struct mxt_reply *a, const struct mxt_reply *b)
{
	size_t i;

	if (a->code != b->code || a->flags != b->flags || a->nbytes != b->nbytes ||
	    a->nlines != b->nlines || strcmp(a->enh, b->enh) != 0)
		return 0;
	for (i = 0; i < a->nlines; i++) {
		if (a->lines[i].len != b->lines[i].len ||
		    memcmp(a->lines[i].p, b->lines[i].p, a->lines[i].len) != 0)
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result a, b;
	size_t i, step;
	int want_enh;

	if (size < 1)
		return 0;
	step = (size_t)(data[0] & 0x3f) + 1;
	want_enh = (data[0] & 0x40) != 0;
	parse((const char *)data + 1, size - 1, 0, want_enh, &a);
	parse((const char *)data + 1, size - 1, step, want_enh, &b);
	check(a.n == b.n);
	for (i = 0; i < a.n; i++) {
		struct mxt_caps caps;

		check(a.status[i] == b.status[i] && a.end[i] == b.end[i]);
		check(same_reply(&a.r[i], &b.r[i]));
		if (a.status[i] == MXT_REPLY_DONE && mxt_caps_parse(&a.r[i], &caps) == 0) {
			check(caps.nkeywords <= MXT_EHLO_KEYWORDS_MAX);
			check(caps.nauth <= MXT_AUTH_MECHS_MAX);
			check(caps.greeting.p != NULL);
			check(caps.size == 0 || (caps.flags & MXT_CAP_SIZE));
			mxt_caps_free(&caps);
		}
		mxt_reply_free(&a.r[i]);
		mxt_reply_free(&b.r[i]);
	}
	return 0;
}

#define FUZZ_NAME "fuzz_reply"
#include "replay.h"
