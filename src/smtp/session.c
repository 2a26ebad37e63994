/* SPDX-License-Identifier: MIT */
/*
 * SMTP client session state machine (RFC 5321 §3, §4.1; RFC 3207 STARTTLS;
 * RFC 2920 PIPELINING).  One function enters a state by queueing its
 * command(s); mxt_session_reply() handles the replies.  Every command and
 * reply is recorded as a step of the attempt, and in its transcript.  By
 * default the session ends with QUIT right after RCPT: a probe never sends
 * DATA unless the user asked for it (--send), and never RSET (RFC 5321
 * §4.1.1.10: QUIT aborts an unfinished transaction).  Once QUIT is queued
 * the attempt's result is decided (mxt_session_quitting()): the reply to
 * QUIT is recorded when it comes in time, and nothing it says changes the
 * result.
 *
 * The states are one list (MXT_SESSION_STATES in mxtrace/session.h) and
 * set_state() is the only way to change them; with -vv every transition is
 * traced.
 *
 * Not here: SASL mechanisms and base64 (sasl.c), the transcript, redaction
 * and output buffer (transcript.c), sockets, TLS and deadlines (src/net),
 * and judgement (the report stage).
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/loop.h"
#include "mxtrace/session.h"
#include "mxtrace/xalloc.h"
#include "sasl.h"
#include "transcript.h"

static const char *const state_names[] = {
#define MXT_SS_NAME(name) #name,
    MXT_SESSION_STATES(MXT_SS_NAME)
#undef MXT_SS_NAME
};

const char *
mxt_session_state_name(enum mxt_session_state st)
{
	return (size_t)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st] : "?";
}

/* The only way the state changes: with -vv, every transition is traced. */
static void
set_state(struct mxt_session *s, enum mxt_session_state next)
{
	if (next != s->state && mxt_log_level() >= 2) {
		const struct mxt_attempt *a = s->a;

		mxt_log(2,
		    a->addr.family == AF_INET6 ? "session [%s]:%d: %s -> %s"
					       : "session %s:%d: %s -> %s",
		    a->addr.text, a->port, mxt_session_state_name(s->state),
		    mxt_session_state_name(next));
	}
	s->state = next;
}

/* Queue one command line (without CRLF) as a new step of stage st; shown
 * is what the record keeps (secrets redacted), NULL for the line itself.
 * This is the single point where commands enter the record. */
static int
command_shown(struct mxt_session *s, enum mxt_stage st, const char *line, const char *shown)
{
	struct mxt_step *step;
	size_t len = strlen(line);

	if (shown == NULL)
		shown = line;
	step = mxt_attempt_add_step(s->a, st);
	if (step == NULL)
		return -1;
	step->command = mxt_xstrdup(shown);
	step->started_ms = mxt_now_ms() - s->t0;
	mxt_outbuf_append(s, line, len);
	mxt_outbuf_append(s, "\r\n", 2);
	mxt_transcript_add(s, MXT_DIR_CLIENT, shown, strlen(shown));
	return 0;
}

static int
command(struct mxt_session *s, enum mxt_stage st, const char *line)
{
	return command_shown(s, st, line, NULL);
}

static enum mxt_session_action
enter_quit(struct mxt_session *s)
{
	set_state(s, MXT_SS_QUIT);
	if (command(s, MXT_STAGE_QUIT, "QUIT") < 0)
		return MXT_SESS_CLOSE;
	return MXT_SESS_SEND;
}

/* Record how the session ends (the first end wins). */
static void
set_end(struct mxt_session *s, enum mxt_end end, enum mxt_stage st)
{
	if (s->a->end == MXT_END_NONE) {
		s->a->end = end;
		s->a->end_stage = st;
	}
}

static enum mxt_session_action
enter_ehlo(struct mxt_session *s, int after_tls)
{
	char line[300];

	/* The EHLO name is needed only now: until the owner knows it, wait
	 * without a command outstanding. */
	if (s->p->ehlo == NULL) {
		s->parked = 1;
		return MXT_SESS_PARK;
	}
	s->parked = 0;
	set_state(s, after_tls ? MXT_SS_EHLO_TLS : MXT_SS_EHLO);
	snprintf(line, sizeof(line), "EHLO %s", s->p->ehlo);
	if (command(s, after_tls ? MXT_STAGE_EHLO_TLS : MXT_STAGE_EHLO, line) < 0)
		return MXT_SESS_CLOSE;
	return MXT_SESS_SEND;
}

static enum mxt_session_action local_stop(
    struct mxt_session *s, enum mxt_stage st, const char *why);

/* With --send: the message for this server (8BITMIME decides whether an
 * 8-bit body may go, RFC 6152).  Returns 0, or -1 with a reason in err. */
static int
build_message(struct mxt_session *s, char *err, size_t errlen)
{
	struct mxt_message_params mp;

	if (s->p->message != NULL || s->msgbuf != NULL)
		return 0;
	if (s->p->msg == NULL) {
		snprintf(err, errlen, "no message to send");
		return -1;
	}
	mp = *s->p->msg;
	mp.ehlo = s->p->ehlo;
	mp.eightbit_ok = s->a->have_caps && (s->a->caps.flags & MXT_CAP_8BITMIME);
	if (mxt_message_build(&mp, &s->msgbuf, &s->msglen, err, errlen) < 0)
		return -1;
	s->msg8bit = strstr(s->msgbuf, "Content-Transfer-Encoding: 8bit\r\n") != NULL;
	return 0;
}

static const char *
message(const struct mxt_session *s, size_t *len)
{
	if (s->p->message != NULL) {
		*len = s->p->message_len;
		return s->p->message;
	}
	*len = s->msglen;
	return s->msgbuf;
}

/* MAIL FROM and RCPT TO; one pipelined group when the server offers
 * PIPELINING (RFC 2920 §3.1: MAIL and RCPT may appear anywhere in a group). */
static enum mxt_session_action
enter_envelope(struct mxt_session *s)
{
	char line[600], params[64] = "";
	size_t i, off = 0;
	int pipelining = s->a->have_caps && (s->a->caps.flags & MXT_CAP_PIPELINING);

	set_state(s, MXT_SS_ENVELOPE);
	if (s->p->send) {
		char err[256];
		size_t mlen;

		if (build_message(s, err, sizeof(err)) < 0)
			return local_stop(s, MXT_STAGE_MAIL, err);
		message(s, &mlen);
		/* RFC 1870: declare the size, so an oversized message is refused
		 * up front; RFC 6152 §3: declare an 8-bit body. */
		if (s->a->have_caps && (s->a->caps.flags & MXT_CAP_SIZE))
			off +=
			    (size_t)snprintf(params + off, sizeof(params) - off, " SIZE=%zu", mlen);
		if (s->msg8bit)
			snprintf(params + off, sizeof(params) - off, " BODY=8BITMIME");
	}
	snprintf(line, sizeof(line), "MAIL FROM:<%s>%s", s->p->from, params);
	if (command(s, MXT_STAGE_MAIL, line) < 0)
		return MXT_SESS_CLOSE;
	if (s->p->quit_after == MXT_QUIT_AFTER_MAIL || !pipelining)
		return MXT_SESS_SEND;
	for (i = 0; i < s->p->nrcpts; i++) {
		snprintf(line, sizeof(line), "RCPT TO:<%s>", s->p->rcpts[i]);
		if (command(s, MXT_STAGE_RCPT, line) < 0)
			return MXT_SESS_CLOSE;
	}
	return MXT_SESS_SEND;
}

/* A local decision stops the session before stage st: record why, QUIT. */
static enum mxt_session_action
local_stop(struct mxt_session *s, enum mxt_stage st, const char *why)
{
	set_end(s, MXT_END_LOCAL, st);
	if (s->a->end_detail == NULL)
		s->a->end_detail = mxt_xstrdup(why);
	return enter_quit(s);
}

/* After AUTH (or when none was asked for): the envelope, or stop. */
static enum mxt_session_action
after_auth(struct mxt_session *s)
{
	if (s->p->quit_after == MXT_QUIT_AFTER_AUTH) {
		set_end(s, MXT_END_OK,
		    s->p->user != NULL	? MXT_STAGE_AUTH
			: s->tls_active ? MXT_STAGE_EHLO_TLS
					: MXT_STAGE_EHLO);
		return enter_quit(s);
	}
	return enter_envelope(s);
}

/* RFC 4954: AUTH, only inside TLS unless the user allowed otherwise. */
static enum mxt_session_action
enter_auth(struct mxt_session *s)
{
	const struct mxt_caps *c = &s->a->caps;
	const char *want = s->p->auth_mech;
	char *line, *initial;
	int rc;

	/* Credentials go only to a server that proved who it is: TLS with a
	 * certificate that verified, chain and name (RFC 4954 §4, §14). */
	if (!s->p->allow_plaintext_auth) {
		if (!s->tls_active)
			return local_stop(s, MXT_STAGE_AUTH,
			    "credentials are only sent inside TLS (see --allow-plaintext-auth)");
		if (!s->a->tls.chain_ok || !s->a->tls.name_ok)
			return local_stop(s, MXT_STAGE_AUTH,
			    "credentials are not sent to a server whose certificate did not verify "
			    "(see --allow-plaintext-auth)");
	}
	if (!s->a->have_caps || !(c->flags & MXT_CAP_AUTH))
		return local_stop(s, MXT_STAGE_AUTH, "the server offers no AUTH");
	s->mech = mxt_sasl_choose(c, want);
	if (s->mech == NULL)
		return local_stop(s, MXT_STAGE_AUTH,
		    want != NULL ? "the requested AUTH mechanism is not offered"
				 : "no supported AUTH mechanism offered (PLAIN, LOGIN, CRAM-MD5)");
	set_state(s, MXT_SS_AUTH);
	s->auth_steps = 0;
	mxt_redact_add(s, mxt_xstrdup(s->p->password));
	mxt_redact_add(s, mxt_b64(s->p->password, strlen(s->p->password)));
	line = mxt_sasl_start(s->mech, s->p->user, s->p->password, &initial);
	rc = command_shown(
	    s, MXT_STAGE_AUTH, line, initial != NULL ? "AUTH PLAIN <redacted>" : NULL);
	OPENSSL_cleanse(line, strlen(line));
	free(line);
	mxt_redact_add(s, initial);
	return rc < 0 ? MXT_SESS_CLOSE : MXT_SESS_SEND;
}

/* Answer a 334 challenge (RFC 4954 §4); cancel with "*" what cannot be
 * answered. */
static enum mxt_session_action
auth_continue(struct mxt_session *s, const struct mxt_reply *r)
{
	const char *text = r->nlines > 0 ? r->lines[0].p : "";
	size_t tlen = r->nlines > 0 ? r->lines[0].len : 0;
	char *resp;
	int rc;

	if (++s->auth_steps > MXT_AUTH_STEPS_MAX) {
		set_end(s, MXT_END_PROTOCOL, MXT_STAGE_AUTH);
		if (s->a->end_detail == NULL)
			s->a->end_detail =
			    mxt_xstrdup("AUTH protocol loop: too many 334 challenges");
		return enter_quit(s);
	}
	resp = mxt_sasl_respond(
	    s->mech, s->auth_steps, text, tlen, s->p->user, s->p->password, s->secrets[2]);
	if (resp == NULL)
		return command(s, MXT_STAGE_AUTH, "*") < 0 ? MXT_SESS_CLOSE : MXT_SESS_SEND;
	rc = command_shown(s, MXT_STAGE_AUTH, resp, "<redacted>");
	mxt_redact_add(s, resp);
	return rc < 0 ? MXT_SESS_CLOSE : MXT_SESS_SEND;
}

/* After EHLO (and TLS): AUTH when asked, then the envelope, or stop. */
static enum mxt_session_action
after_greeting(struct mxt_session *s)
{
	enum mxt_quit_after q = s->p->quit_after;

	if (q == MXT_QUIT_AFTER_EHLO || (q == MXT_QUIT_AFTER_TLS && s->tls_active)) {
		set_end(s, MXT_END_OK, s->tls_active ? MXT_STAGE_EHLO_TLS : MXT_STAGE_EHLO);
		return enter_quit(s);
	}
	if (q == MXT_QUIT_AFTER_TLS) {
		set_end(s, MXT_END_OK, MXT_STAGE_EHLO);
		return enter_quit(s);
	}
	if (s->p->user != NULL && s->p->password != NULL)
		return enter_auth(s);
	return after_auth(s);
}

/* Decide after EHLO succeeded: STARTTLS when offered (or required). */
static enum mxt_session_action
after_ehlo(struct mxt_session *s)
{
	int offered = s->a->have_caps && (s->a->caps.flags & MXT_CAP_STARTTLS);

	if (s->p->quit_after == MXT_QUIT_AFTER_EHLO)
		return after_greeting(s);
	if (!s->tls_active && s->p->starttls != MXT_STARTTLS_NEVER) {
		if (offered) {
			set_state(s, MXT_SS_STARTTLS);
			if (command(s, MXT_STAGE_STARTTLS, "STARTTLS") < 0)
				return MXT_SESS_CLOSE;
			return MXT_SESS_SEND;
		}
		if (s->p->starttls == MXT_STARTTLS_REQUIRE) {
			/* RFC 3207 §4: TLS required but not offered: no envelope. */
			set_end(s, MXT_END_LOCAL, MXT_STAGE_STARTTLS);
			free(s->a->end_detail);
			s->a->end_detail = mxt_xstrdup("STARTTLS required but not offered");
			return enter_quit(s);
		}
	}
	return after_greeting(s);
}

static int
is2(const struct mxt_reply *r)
{
	return r->code >= 200 && r->code < 300;
}

static enum mxt_session_action
envelope_done(struct mxt_session *s)
{
	struct mxt_attempt *a = s->a;
	size_t i, ok_rcpt = 0, nrcpt = 0;
	const struct mxt_step *mail = NULL;

	for (i = 0; i < a->nsteps; i++) {
		if (a->steps[i].stage == MXT_STAGE_MAIL)
			mail = &a->steps[i];
		else if (a->steps[i].stage == MXT_STAGE_RCPT) {
			nrcpt++;
			if (a->steps[i].status == MXT_STEP_REPLIED && is2(&a->steps[i].reply))
				ok_rcpt++;
		}
	}
	if (mail == NULL || !is2(&mail->reply)) {
		set_end(s, MXT_END_REJECTED, MXT_STAGE_MAIL);
	} else if (s->p->quit_after == MXT_QUIT_AFTER_MAIL) {
		set_end(s, MXT_END_OK, MXT_STAGE_MAIL);
	} else if (ok_rcpt == 0) {
		set_end(s, MXT_END_REJECTED, MXT_STAGE_RCPT);
	} else if (s->p->send) {
		set_state(s, MXT_SS_DATA);
		if (command(s, MXT_STAGE_DATA, "DATA") < 0)
			return MXT_SESS_CLOSE;
		return MXT_SESS_SEND;
	} else {
		set_end(s, ok_rcpt == nrcpt ? MXT_END_OK : MXT_END_REJECTED, MXT_STAGE_RCPT);
	}
	/* RFC 5321 §4.1.1.10: QUIT aborts the unfinished transaction, so no
	 * RSET first: nothing is sent, one round trip saved. */
	return enter_quit(s);
}

/* Queue the RCPTs that were not pipelined, one at a time; none after a
 * refused MAIL or with --quit-after mail. */
static enum mxt_session_action
next_rcpt(struct mxt_session *s)
{
	size_t i, sent = 0;
	char line[600];
	const struct mxt_step *mail = mxt_attempt_step(s->a, MXT_STAGE_MAIL);

	if (s->p->quit_after == MXT_QUIT_AFTER_MAIL || mail == NULL ||
	    mail->status != MXT_STEP_REPLIED || !is2(&mail->reply))
		return envelope_done(s);

	for (i = 0; i < s->a->nsteps; i++)
		if (s->a->steps[i].stage == MXT_STAGE_RCPT)
			sent++;
	if (sent < s->p->nrcpts) {
		snprintf(line, sizeof(line), "RCPT TO:<%s>", s->p->rcpts[sent]);
		if (command(s, MXT_STAGE_RCPT, line) < 0)
			return MXT_SESS_CLOSE;
		return MXT_SESS_SEND;
	}
	return envelope_done(s);
}

int
mxt_session_init(struct mxt_session *s, const struct mxt_session_params *p, struct mxt_attempt *a,
    int tls_active)
{
	struct mxt_step *b;

	memset(s, 0, sizeof(*s));
	s->p = p;
	s->a = a;
	s->tls_active = tls_active;
	s->t0 = a->started_ms;
	s->state = MXT_SS_BANNER; /* the first state: no transition */
	b = mxt_attempt_add_step(a, MXT_STAGE_BANNER);
	if (b == NULL)
		return -1;
	b->started_ms = mxt_now_ms() - s->t0;
	return 0;
}

void
mxt_session_free(struct mxt_session *s)
{
	mxt_redact_free(s);
	mxt_outbuf_free(s);
	free(s->msgbuf);
	s->msgbuf = NULL;
}

struct mxt_step *
mxt_session_waiting(struct mxt_session *s)
{
	return s->awaiting < s->a->nsteps ? &s->a->steps[s->awaiting] : NULL;
}

enum mxt_stage
mxt_session_stage(const struct mxt_session *s)
{
	if (s->parked)
		return MXT_STAGE_EHLO; /* what it waits to send */
	return s->awaiting < s->a->nsteps ? s->a->steps[s->awaiting].stage : MXT_STAGE_QUIT;
}

int
mxt_session_want_enh(const struct mxt_session *s)
{
	enum mxt_stage stage = mxt_session_stage(s);

	/* RFC 2034 §3: no enhanced codes in the greeting or EHLO reply. */
	return stage != MXT_STAGE_BANNER && stage != MXT_STAGE_EHLO && stage != MXT_STAGE_HELO &&
	    stage != MXT_STAGE_EHLO_TLS;
}

const char *
mxt_session_output(struct mxt_session *s, size_t *len)
{
	*len = s->outlen;
	return s->out;
}

void
mxt_session_output_done(struct mxt_session *s)
{
	mxt_outbuf_wipe(s);
}

void
mxt_session_abort(
    struct mxt_session *s, enum mxt_step_status why, enum mxt_end end, const char *detail)
{
	struct mxt_step *st = mxt_session_waiting(s);
	enum mxt_stage stage = st != NULL ? st->stage : mxt_session_stage(s);

	if (st != NULL) {
		st->status = why;
		st->duration_ms = mxt_now_ms() - s->t0 - st->started_ms;
		s->awaiting = s->a->nsteps;
	}
	/* A close or timeout after QUIT was sent is the normal end. */
	if (s->state != MXT_SS_QUIT && s->state != MXT_SS_DONE) {
		set_end(s, end, stage);
		if (detail != NULL && s->a->end_detail == NULL)
			s->a->end_detail = mxt_xstrdup(detail);
	}
	set_state(s, MXT_SS_DONE);
	if (detail != NULL)
		mxt_transcript_add(s, MXT_DIR_INFO, detail, strlen(detail));
}

enum mxt_session_action
mxt_session_resume(struct mxt_session *s)
{
	if (!s->parked || s->state == MXT_SS_DONE)
		return MXT_SESS_WAIT;
	return enter_ehlo(s, s->tls_active && s->state != MXT_SS_BANNER);
}

int
mxt_session_parked(const struct mxt_session *s)
{
	return s->parked && s->state != MXT_SS_DONE;
}

enum mxt_session_action
mxt_session_tls_done(struct mxt_session *s, int ok)
{
	struct mxt_attempt *a = s->a;

	if (!ok) {
		set_end(s, MXT_END_TLS, MXT_STAGE_TLS);
		set_state(s, MXT_SS_DONE);
		return MXT_SESS_CLOSE;
	}
	s->tls_active = 1;
	/* RFC 3207 §4.2: forget everything learnt before TLS; keep it apart
	 * as unauthenticated evidence only. */
	if (a->have_caps) {
		if (a->have_caps_plain)
			mxt_caps_free(&a->caps_plain);
		a->caps_plain = a->caps;
		a->have_caps_plain = 1;
		memset(&a->caps, 0, sizeof(a->caps));
		a->have_caps = 0;
	}
	return enter_ehlo(s, 1);
}

/* Record a complete reply: transcript (secrets scrubbed), then into the
 * step waiting for it.  Returns that step, or NULL when no step waited. */
static struct mxt_step *
take_reply(struct mxt_session *s, struct mxt_reply *r)
{
	struct mxt_step *st = mxt_session_waiting(s);

	mxt_transcript_reply(s, r);
	if (st == NULL)
		return NULL;
	st->reply = *r;
	memset(r, 0, sizeof(*r));
	st->status = MXT_STEP_REPLIED;
	st->duration_ms = mxt_now_ms() - s->t0 - st->started_ms;
	s->awaiting++;
	return st;
}

/* RFC 2920 §3.1, RFC 5321 §4.2: the server is out of step with us. */
static enum mxt_session_action
desync(struct mxt_session *s, enum mxt_stage stage, const char *why)
{
	/* Once QUIT is sent the result is decided: what the server says to
	 * QUIT is recorded (the step, the transcript), never judged. */
	if (s->state == MXT_SS_QUIT) {
		set_state(s, MXT_SS_DONE);
		return MXT_SESS_CLOSE;
	}
	s->a->end = MXT_END_PROTOCOL; /* overrides: nothing after this is trustworthy */
	s->a->end_stage = stage;
	free(s->a->end_detail);
	s->a->end_detail = mxt_xstrdup(why);
	set_state(s, MXT_SS_DONE);
	return MXT_SESS_CLOSE;
}

int
mxt_session_quitting(const struct mxt_session *s)
{
	return s->state == MXT_SS_QUIT;
}

size_t
mxt_session_outstanding(const struct mxt_session *s)
{
	return s->a->nsteps - s->awaiting;
}

void
mxt_session_partial_reply(struct mxt_session *s, struct mxt_reply *r)
{
	struct mxt_step *st = mxt_session_waiting(s);

	/* What arrived before the stream ended is evidence: into the
	 * transcript (scrubbed) and the waiting step, which stays waiting
	 * until the caller ends the session. */
	mxt_transcript_reply(s, r);
	if (st != NULL && st->reply.nlines == 0) {
		mxt_reply_free(&st->reply);
		st->reply = *r;
		memset(r, 0, sizeof(*r));
	}
	mxt_reply_free(r);
}

void
mxt_session_broken_reply(struct mxt_session *s, struct mxt_reply *r, const char *why)
{
	struct mxt_step *st = take_reply(s, r);

	mxt_reply_free(r);
	if (st != NULL)
		st->status = MXT_STEP_PROTOCOL;
	desync(s, st != NULL ? st->stage : mxt_session_stage(s), why);
}

enum mxt_session_action
mxt_session_reply_then_extra(struct mxt_session *s, struct mxt_reply *r)
{
	struct mxt_step *st = take_reply(s, r);

	mxt_reply_free(r);
	return desync(s, st != NULL ? st->stage : mxt_session_stage(s),
	    "unsolicited data after the last expected reply: the server is out of step");
}

enum mxt_session_action
mxt_session_reply(struct mxt_session *s, struct mxt_reply *r)
{
	struct mxt_attempt *a = s->a;
	int code = r->code;
	struct mxt_step *st = take_reply(s, r);

	if (st == NULL) {
		mxt_reply_free(r);
		return desync(s, mxt_session_stage(s), "unsolicited reply");
	}
	if (s->awaiting < a->nsteps)
		return MXT_SESS_WAIT; /* more replies of a pipelined group to come */

	/* RFC 5321 §3.8: 421 means the server is closing: no more commands. */
	if (code == 421 && s->state != MXT_SS_QUIT) {
		set_end(s, MXT_END_REJECTED, st->stage);
		set_state(s, MXT_SS_DONE);
		return MXT_SESS_CLOSE;
	}
	switch (s->state) {
	case MXT_SS_BANNER:
		if (code != 220) {
			/* RFC 5321 §3.1: after a 554 greeting, only QUIT. */
			set_end(s, MXT_END_REJECTED, MXT_STAGE_BANNER);
			return enter_quit(s);
		}
		if (s->p->quit_after == MXT_QUIT_AFTER_BANNER ||
		    s->p->quit_after == MXT_QUIT_AFTER_CONNECT) {
			set_end(s, MXT_END_OK, MXT_STAGE_BANNER);
			return enter_quit(s);
		}
		return enter_ehlo(s, 0);
	case MXT_SS_EHLO:
	case MXT_SS_EHLO_TLS:
		if (code == 250) {
			if (a->have_caps)
				mxt_caps_free(&a->caps);
			a->have_caps = mxt_caps_parse(&st->reply, &a->caps) == 0;
			if (s->state == MXT_SS_EHLO_TLS)
				return after_greeting(s);
			return after_ehlo(s);
		}
		if (code >= 500 && s->state == MXT_SS_EHLO) {
			/* RFC 5321 §3.2 / §4.1.4: fall back to HELO. */
			char line[300];

			set_state(s, MXT_SS_HELO);
			a->helo_fallback = 1;
			snprintf(line, sizeof(line), "HELO %s", s->p->ehlo);
			if (command(s, MXT_STAGE_HELO, line) < 0)
				return MXT_SESS_CLOSE;
			return MXT_SESS_SEND;
		}
		set_end(s, MXT_END_REJECTED, st->stage);
		return enter_quit(s);
	case MXT_SS_HELO:
		if (code != 250) {
			set_end(s, MXT_END_REJECTED, MXT_STAGE_HELO);
			return enter_quit(s);
		}
		if (s->p->starttls == MXT_STARTTLS_REQUIRE && !s->tls_active) {
			set_end(s, MXT_END_LOCAL, MXT_STAGE_STARTTLS);
			free(a->end_detail);
			a->end_detail =
			    mxt_xstrdup("STARTTLS required but the server speaks only HELO");
			return enter_quit(s);
		}
		return after_greeting(s);
	case MXT_SS_STARTTLS:
		if (code == 220) {
			set_state(s, MXT_SS_TLS);
			a->tls.attempted = 1;
			return MXT_SESS_STARTTLS;
		}
		if (s->p->starttls == MXT_STARTTLS_REQUIRE) {
			set_end(s, MXT_END_LOCAL, MXT_STAGE_STARTTLS);
			free(a->end_detail);
			a->end_detail = mxt_xstrdup("STARTTLS required but refused");
			return enter_quit(s);
		}
		return after_greeting(s); /* opportunistic: go on in plaintext */
	case MXT_SS_AUTH:
		if (code == 334)
			return auth_continue(s, &st->reply);
		if (code == 235)
			return after_auth(s);
		set_end(s, MXT_END_REJECTED, MXT_STAGE_AUTH);
		return enter_quit(s);
	case MXT_SS_ENVELOPE:
		return next_rcpt(s);
	case MXT_SS_DATA:
		if (code != 354) {
			set_end(s, MXT_END_REJECTED, MXT_STAGE_DATA);
			return enter_quit(s);
		} else {
			struct mxt_step *d = mxt_attempt_add_step(a, MXT_STAGE_DATA_END);
			char info[64];
			size_t mlen;
			const char *m = message(s, &mlen);

			if (d == NULL)
				return MXT_SESS_CLOSE;
			d->command = mxt_xstrdup(".");
			d->started_ms = mxt_now_ms() - s->t0;
			set_state(s, MXT_SS_DATA_END);

			mxt_outbuf_append(s, m, mlen);
			mxt_outbuf_append(s, ".\r\n", 3);
			snprintf(info, sizeof(info), "<message: %zu bytes>", mlen);
			mxt_transcript_add(s, MXT_DIR_INFO, info, strlen(info));
			mxt_transcript_add(s, MXT_DIR_CLIENT, ".", 1);
			return MXT_SESS_SEND;
		}
	case MXT_SS_DATA_END:
		set_end(s, is2(&st->reply) ? MXT_END_OK : MXT_END_REJECTED, MXT_STAGE_DATA_END);
		return enter_quit(s);
	case MXT_SS_QUIT:
		set_end(s, MXT_END_OK, MXT_STAGE_QUIT);
		set_state(s, MXT_SS_DONE);
		return MXT_SESS_CLOSE;
	case MXT_SS_TLS:
	case MXT_SS_DONE:
		break;
	}
	set_state(s, MXT_SS_DONE);
	return MXT_SESS_CLOSE;
}
