/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the EHLO capability parser (src/smtp/caps.c) on its own:
 * the input, split at LF, is the text of a 250 reply's lines (without the
 * code), as the reply parser hands them over, so every keyword shape is
 * reached without first passing the reply grammar.  Invariants: the caps
 * stay within MXT_EHLO_KEYWORDS_MAX, MXT_AUTH_MECHS_MAX and
 * MXT_KEYWORD_LEN_MAX; AUTH mechanisms are upper-case and unique; SIZE is
 * only set when advertised.  A broken invariant calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/limits.h"
#include "mxtrace/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxt_reply r;
	struct mxt_caps caps;
	struct mxt_line lines[MXT_REPLY_LINES_MAX];
	size_t i, start = 0;

	memset(&r, 0, sizeof(r));
	r.code = 250;
	r.lines = lines;
	for (i = 0; i <= size && r.nlines < MXT_REPLY_LINES_MAX; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i - start > MXT_REPLY_LINE_MAX - 2)
			break;
		lines[r.nlines].len = i - start;
		lines[r.nlines].p = malloc(i - start + 1);
		check(lines[r.nlines].p != NULL);
		memcpy(lines[r.nlines].p, data + start, i - start);
		lines[r.nlines].p[i - start] = '\0';
		r.nlines++;
		start = i + 1;
	}
	r.nbytes = size;
	if (r.nlines > 0 && mxt_caps_parse(&r, &caps) == 0) {
		size_t a, b;

		check(caps.greeting.p != NULL);
		check(caps.nkeywords <= MXT_EHLO_KEYWORDS_MAX);
		check(caps.nauth <= MXT_AUTH_MECHS_MAX);
		check(caps.size == 0 || (caps.flags & MXT_CAP_SIZE));
		for (a = 0; a < caps.nauth; a++) {
			const char *m = caps.auth[a];

			check(m != NULL && strlen(m) <= MXT_KEYWORD_LEN_MAX);
			for (; *m; m++)
				check(!(*m >= 'a' && *m <= 'z'));
			for (b = a + 1; b < caps.nauth; b++)
				check(strcasecmp(caps.auth[a], caps.auth[b]) != 0);
			check(mxt_caps_has_auth(&caps, caps.auth[a]));
		}
		mxt_caps_free(&caps);
	}
	for (i = 0; i < r.nlines; i++)
		free(lines[i].p);
	return 0;
}

#define FUZZ_NAME "fuzz_caps"
#include "replay.h"
