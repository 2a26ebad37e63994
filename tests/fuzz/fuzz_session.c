/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the SMTP session state machine (src/smtp/session.c) fed
 * with reply sequences, the way the connection module drives it: the first
 * byte picks the parameters (STARTTLS mode, implicit TLS, when to quit,
 * --send, AUTH and whether it may go in plaintext, whether a handshake
 * succeeds); the rest is the server's bytes, cut into reads by the second
 * byte.  Invariants (docs/security.md): a probe never sends DATA or BDAT
 * without --send; credentials never leave in plaintext unless allowed and
 * the raw password never leaves at all; no recorded string (transcript,
 * reply lines, end detail) holds the password or its base64; at most
 * MXT_AUTH_STEPS_MAX AUTH round trips.  A broken invariant calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/record.h"
#include "mxtrace/redact.h"
#include "mxtrace/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PASSWORD "Fuzz-s3cret!pw"
#define PASSWORD_B64 "RnV6ei1zM2NyZXQhcHc"

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
has(const char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(p + i, needle, n) == 0)
			return 1;
	return 0;
}

static void
check_record(const struct mxt_attempt *a)
{
	size_t i, k;

	for (i = 0; i < a->ntranscript; i++) {
		check(!has(a->transcript[i].text, a->transcript[i].len, PASSWORD));
		check(!has(a->transcript[i].text, a->transcript[i].len, PASSWORD_B64));
	}
	for (i = 0; i < a->nsteps; i++) {
		const struct mxt_reply *r = &a->steps[i].reply;

		if (a->steps[i].command != NULL)
			check(!has(a->steps[i].command, strlen(a->steps[i].command), PASSWORD));
		for (k = 0; k < r->nlines; k++) {
			check(!has(r->lines[k].p, r->lines[k].len, PASSWORD));
			check(!has(r->lines[k].p, r->lines[k].len, PASSWORD_B64));
		}
	}
	if (a->end_detail != NULL)
		check(!has(a->end_detail, strlen(a->end_detail), PASSWORD));
}

/* Take what the session wants sent and check it. */
static void
sent(struct mxt_session *s, const struct mxt_session_params *p)
{
	size_t len;
	const char *out = mxt_session_output(s, &len);

	if (len > 0) {
		check(out != NULL);
		if (!p->send) {
			check(!has(out, len, "DATA\r\n") && !has(out, len, "BDAT"));
		}
		check(!has(out, len, PASSWORD));
		if (has(out, len, "AUTH ") && !p->allow_plaintext_auth)
			check(s->tls_active);
	}
	mxt_session_output_done(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *rcpts[] = {"postmaster@example.test", "b@example.test"};
	static const char msg[] = "Subject: fuzz\r\n\r\nhello\r\n";
	static int registered;
	struct mxt_session_params p;
	struct mxt_attempt a;
	struct mxt_session s;
	struct mxt_reply_parser rp;
	unsigned f;
	size_t step, off = 2;
	int closed = 0, tls_ok;
	char err[256];

	if (size < 2)
		return 0;
	if (!registered) {
		check(mxt_secret_password("fuzzuser", PASSWORD, err, sizeof(err)) == 0);
		registered = 1;
	}
	f = data[0];
	step = (size_t)data[1] + 1;
	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	p.ehlo = "client.example.test";
	p.from = (f & 0x80) ? "" : "probe@example.test";
	p.rcpts = rcpts;
	p.nrcpts = (f & 0x40) ? 2 : 1;
	p.starttls = (enum mxt_starttls_mode)(f & 3) % 3;
	p.tls_on_connect = (f & 4) != 0;
	p.quit_after = (f & 8) ? MXT_QUIT_AFTER_EHLO : MXT_QUIT_AFTER_RCPT;
	p.send = (f & 0x10) != 0;
	if (p.send) {
		p.quit_after = MXT_QUIT_AFTER_NONE;
		p.message = msg;
		p.message_len = sizeof(msg) - 1;
	}
	if (f & 0x20) {
		p.user = "fuzzuser";
		p.password = PASSWORD;
		p.allow_plaintext_auth = (f & 0x41) == 0x41;
	}
	tls_ok = (data[1] & 0x80) == 0;
	if (mxt_session_init(&s, &p, &a, p.tls_on_connect) != 0) {
		mxt_attempt_free(&a);
		return 0;
	}
	if (p.tls_on_connect)
		a.tls.chain_ok = a.tls.name_ok = 1;
	check(mxt_reply_parser_init(&rp) == 0);
	while (off < size && !closed) {
		size_t n = size - off < step ? size - off : step;

		while (n > 0 && !closed) {
			size_t used = 0;
			struct mxt_reply r;
			enum mxt_reply_status st;
			enum mxt_session_action act;
			enum mxt_stage stage = mxt_session_stage(&s);

			mxt_reply_parser_want_enh(&rp, mxt_session_want_enh(&s));
			st = mxt_reply_parser_feed(&rp, (const char *)data + off, n, &used);
			off += used;
			n -= used;
			if (st == MXT_REPLY_MORE)
				break;
			mxt_reply_take(&rp, &r);
			if (st == MXT_REPLY_ERROR) {
				mxt_session_broken_reply(&s, &r, "reply breaks the SMTP protocol");
				closed = 1;
				break;
			}
			if (n > 0 && mxt_session_outstanding(&s) == 1 &&
			    stage != MXT_STAGE_STARTTLS && stage != MXT_STAGE_QUIT) {
				act = mxt_session_reply_then_extra(&s, &r);
				check(act == MXT_SESS_CLOSE);
				closed = 1;
				break;
			}
			act = mxt_session_reply(&s, &r);
			mxt_reply_free(&r);
			sent(&s, &p);
			if (act == MXT_SESS_STARTTLS) {
				if (tls_ok) {
					a.tls.chain_ok = a.tls.name_ok = 1;
					a.tls.ok = 1;
				}
				act = mxt_session_tls_done(&s, tls_ok);
				sent(&s, &p);
			}
			if (act == MXT_SESS_CLOSE)
				closed = 1;
			check(s.auth_steps <= MXT_AUTH_STEPS_MAX + 1);
		}
	}
	if (!closed)
		mxt_session_abort(&s, MXT_STEP_TIMEOUT, MXT_END_TIMEOUT, "deadline");
	check_record(&a);
	mxt_reply_parser_free(&rp);
	mxt_session_free(&s);
	mxt_attempt_free(&a);
	return 0;
}

#define FUZZ_NAME "fuzz_session"
#include "replay.h"
