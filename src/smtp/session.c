/* SPDX-License-Identifier: MIT */
/*
 * SMTP client session state machine (RFC 5321 §3, §4.1; RFC 3207 STARTTLS;
 * RFC 2920 PIPELINING).  One function enters a state by queueing its
 * command(s); mxt_session_reply() handles the replies.  Every command and
 * reply is recorded as a step of the attempt, and in its transcript.  By
 * default the session ends with RSET and QUIT after RCPT: a probe never
 * sends DATA unless the user asked for it (--send).
 *
 * Not here: sockets, TLS, deadlines (the connection module) and judgement
 * (the report stage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/loop.h"
#include "mxtrace/session.h"

/* Append a transcript line (raw bytes; escaped at render time), within the
 * L4 transcript cap. */
static void
transcript(struct mxt_session *s, enum mxt_dir dir, const char *p, size_t len)
{
	struct mxt_attempt *a = s->a;
	struct mxt_tline *n;

	if (a->transcript_truncated)
		return;
	if (a->transcript_bytes + len > MXT_TRANSCRIPT_MAX) {
		a->transcript_truncated = 1;
		return;
	}
	n = realloc(a->transcript, (a->ntranscript + 1) * sizeof(*n));
	if (n == NULL)
		return;
	a->transcript = n;
	n = &a->transcript[a->ntranscript];
	n->text = malloc(len + 1);
	if (n->text == NULL)
		return;
	memcpy(n->text, p, len);
	n->text[len] = '\0';
	n->len = len;
	n->dir = dir;
	n->tls = s->tls_active;
	n->t_ms = mxt_now_ms() - s->t0;
	a->ntranscript++;
	a->transcript_bytes += len;
}

/* A reply line as it was on the wire: code, separator, text. */
static void
transcript_reply_line(struct mxt_session *s, const struct mxt_reply *r, size_t i)
{
	const struct mxt_line *l = &r->lines[i];
	char *buf;

	if (r->code == 0) { /* broken reply: the raw line is kept as text */
		transcript(s, MXT_DIR_SERVER, l->p, l->len);
		return;
	}
	buf = malloc(l->len + 5);
	if (buf == NULL)
		return;
	snprintf(buf, 5, "%03d%c", r->code, i + 1 < r->nlines ? '-' : ' ');
	memcpy(buf + 4, l->p, l->len);
	transcript(s, MXT_DIR_SERVER, buf, l->len + 4);
	free(buf);
}

static int
out_append(struct mxt_session *s, const char *p, size_t len)
{
	if (s->outlen + len > s->outcap) {
		size_t cap = s->outcap ? s->outcap : 512;
		char *n;

		while (cap < s->outlen + len)
			cap *= 2;
		n = realloc(s->out, cap);
		if (n == NULL)
			return -1;
		s->out = n;
		s->outcap = cap;
	}
	memcpy(s->out + s->outlen, p, len);
	s->outlen += len;
	return 0;
}

/* Queue one command line (without CRLF) as a new step of stage st. */
static int
command(struct mxt_session *s, enum mxt_stage st, const char *line)
{
	struct mxt_step *step;
	size_t len = strlen(line);

	step = mxt_attempt_add_step(s->a, st);
	if (step == NULL)
		return -1;
	step->command = strdup(line);
	step->started_ms = mxt_now_ms() - s->t0;
	if (out_append(s, line, len) < 0 || out_append(s, "\r\n", 2) < 0)
		return -1;
	transcript(s, MXT_DIR_CLIENT, line, len);
	return 0;
}

static enum mxt_session_action
enter_quit(struct mxt_session *s)
{
	s->state = MXT_SS_QUIT;
	if (command(s, MXT_STAGE_QUIT, "QUIT") < 0)
		return MXT_SESS_CLOSE;
	return MXT_SESS_SEND;
}

/* End the session's judgement (first end wins) and say goodbye. */
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

	s->state = after_tls ? MXT_SS_EHLO_TLS : MXT_SS_EHLO;
	snprintf(line, sizeof(line), "EHLO %s", s->p->ehlo);
	if (command(s, after_tls ? MXT_STAGE_EHLO_TLS : MXT_STAGE_EHLO, line) < 0)
		return MXT_SESS_CLOSE;
	return MXT_SESS_SEND;
}

/* MAIL FROM and RCPT TO; one pipelined group when the server offers
 * PIPELINING (RFC 2920 §3.1: MAIL and RCPT may appear anywhere in a group). */
static enum mxt_session_action
enter_envelope(struct mxt_session *s)
{
	char line[600];
	size_t i;
	int pipelining = s->a->have_caps && (s->a->caps.flags & MXT_CAP_PIPELINING);

	s->state = MXT_SS_ENVELOPE;
	if (s->p->send && s->a->have_caps && (s->a->caps.flags & MXT_CAP_SIZE))
		snprintf(line, sizeof(line), "MAIL FROM:<%s> SIZE=%zu", s->p->from,
		    s->p->message_len);
	else
		snprintf(line, sizeof(line), "MAIL FROM:<%s>", s->p->from);
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

/* After EHLO (and TLS): go on to the envelope or stop, as configured. */
static enum mxt_session_action
after_greeting(struct mxt_session *s)
{
	enum mxt_quit_after q = s->p->quit_after;

	if (q == MXT_QUIT_AFTER_EHLO || (q == MXT_QUIT_AFTER_TLS && s->tls_active) ||
	    q == MXT_QUIT_AFTER_AUTH) {
		set_end(s, MXT_END_OK, s->tls_active ? MXT_STAGE_EHLO_TLS : MXT_STAGE_EHLO);
		return enter_quit(s);
	}
	if (q == MXT_QUIT_AFTER_TLS) {
		set_end(s, MXT_END_OK, MXT_STAGE_EHLO);
		return enter_quit(s);
	}
	return enter_envelope(s);
}

/* Decide after EHLO succeeded: STARTTLS when offered (or required). */
static enum mxt_session_action
after_ehlo(struct mxt_session *s)
{
	int offered = s->a->have_caps && (s->a->caps.flags & MXT_CAP_STARTTLS);

	if (!s->tls_active && s->p->starttls != MXT_STARTTLS_NEVER) {
		if (offered) {
			s->state = MXT_SS_STARTTLS;
			if (command(s, MXT_STAGE_STARTTLS, "STARTTLS") < 0)
				return MXT_SESS_CLOSE;
			return MXT_SESS_SEND;
		}
		if (s->p->starttls == MXT_STARTTLS_REQUIRE) {
			/* RFC 3207 §4: TLS required but not offered: no envelope. */
			set_end(s, MXT_END_LOCAL, MXT_STAGE_STARTTLS);
			free(s->a->end_detail);
			s->a->end_detail = strdup("STARTTLS required but not offered");
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
		s->state = MXT_SS_DATA;
		if (command(s, MXT_STAGE_DATA, "DATA") < 0)
			return MXT_SESS_CLOSE;
		return MXT_SESS_SEND;
	} else {
		set_end(s, ok_rcpt == nrcpt ? MXT_END_OK : MXT_END_REJECTED, MXT_STAGE_RCPT);
	}
	/* RFC 5321 §4.1.1.5: RSET discards the transaction: nothing is sent. */
	s->state = MXT_SS_RSET;
	if (command(s, MXT_STAGE_RSET, "RSET") < 0)
		return MXT_SESS_CLOSE;
	return MXT_SESS_SEND;
}

/* Queue the RCPTs that were not pipelined, one at a time. */
static enum mxt_session_action
next_rcpt(struct mxt_session *s)
{
	size_t i, sent = 0;
	char line[600];

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
mxt_session_init(struct mxt_session *s, const struct mxt_session_params *p,
    struct mxt_attempt *a, int tls_active)
{
	struct mxt_step *b;

	memset(s, 0, sizeof(*s));
	s->p = p;
	s->a = a;
	s->tls_active = tls_active;
	s->t0 = a->started_ms;
	s->state = MXT_SS_BANNER;
	b = mxt_attempt_add_step(a, MXT_STAGE_BANNER);
	if (b == NULL)
		return -1;
	b->started_ms = mxt_now_ms() - s->t0;
	return 0;
}

void
mxt_session_free(struct mxt_session *s)
{
	free(s->out);
	s->out = NULL;
	s->outlen = s->outcap = 0;
}

struct mxt_step *
mxt_session_waiting(struct mxt_session *s)
{
	return s->awaiting < s->a->nsteps ? &s->a->steps[s->awaiting] : NULL;
}

enum mxt_stage
mxt_session_stage(const struct mxt_session *s)
{
	return s->awaiting < s->a->nsteps ? s->a->steps[s->awaiting].stage : MXT_STAGE_QUIT;
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
	s->outlen = 0;
}

void
mxt_session_abort(struct mxt_session *s, enum mxt_step_status why, enum mxt_end end,
    const char *detail)
{
	struct mxt_step *st = mxt_session_waiting(s);
	enum mxt_stage stage = st != NULL ? st->stage : MXT_STAGE_QUIT;

	if (st != NULL) {
		st->status = why;
		st->duration_ms = mxt_now_ms() - s->t0 - st->started_ms;
		s->awaiting = s->a->nsteps;
	}
	/* A close or timeout after QUIT was sent is the normal end. */
	if (s->state != MXT_SS_QUIT && s->state != MXT_SS_DONE) {
		set_end(s, end, stage);
		if (detail != NULL && s->a->end_detail == NULL)
			s->a->end_detail = strdup(detail);
	}
	s->state = MXT_SS_DONE;
	if (detail != NULL)
		transcript(s, MXT_DIR_INFO, detail, strlen(detail));
}

enum mxt_session_action
mxt_session_tls_done(struct mxt_session *s, int ok)
{
	struct mxt_attempt *a = s->a;

	if (!ok) {
		set_end(s, MXT_END_TLS, MXT_STAGE_TLS);
		s->state = MXT_SS_DONE;
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

enum mxt_session_action
mxt_session_reply(struct mxt_session *s, struct mxt_reply *r)
{
	struct mxt_attempt *a = s->a;
	struct mxt_step *st = mxt_session_waiting(s);
	size_t i;
	int code = r->code;

	for (i = 0; i < r->nlines; i++)
		transcript_reply_line(s, r, i);
	if (st == NULL) {
		/* RFC 2920 §3.1: a reply nobody asked for: desynchronised. */
		mxt_reply_free(r);
		set_end(s, MXT_END_PROTOCOL, mxt_session_stage(s));
		free(a->end_detail);
		a->end_detail = strdup("unsolicited reply");
		s->state = MXT_SS_DONE;
		return MXT_SESS_CLOSE;
	}
	st->reply = *r;
	memset(r, 0, sizeof(*r));
	st->status = MXT_STEP_REPLIED;
	st->duration_ms = mxt_now_ms() - s->t0 - st->started_ms;
	s->awaiting++;
	if (s->awaiting < a->nsteps)
		return MXT_SESS_WAIT; /* more replies of a pipelined group to come */

	/* RFC 5321 §3.8: 421 means the server is closing: no more commands. */
	if (code == 421 && s->state != MXT_SS_QUIT) {
		set_end(s, MXT_END_REJECTED, st->stage);
		s->state = MXT_SS_DONE;
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

			s->state = MXT_SS_HELO;
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
			a->end_detail = strdup("STARTTLS required but the server speaks only HELO");
			return enter_quit(s);
		}
		return after_greeting(s);
	case MXT_SS_STARTTLS:
		if (code == 220) {
			s->state = MXT_SS_TLS;
			a->tls.attempted = 1;
			return MXT_SESS_STARTTLS;
		}
		if (s->p->starttls == MXT_STARTTLS_REQUIRE) {
			set_end(s, MXT_END_LOCAL, MXT_STAGE_STARTTLS);
			free(a->end_detail);
			a->end_detail = strdup("STARTTLS required but refused");
			return enter_quit(s);
		}
		return after_greeting(s); /* opportunistic: go on in plaintext */
	case MXT_SS_ENVELOPE:
		return next_rcpt(s);
	case MXT_SS_DATA:
		if (code != 354) {
			set_end(s, MXT_END_REJECTED, MXT_STAGE_DATA);
			return enter_quit(s);
		} else {
			struct mxt_step *d = mxt_attempt_add_step(a, MXT_STAGE_DATA_END);
			char info[64];

			if (d == NULL)
				return MXT_SESS_CLOSE;
			d->command = strdup(".");
			d->started_ms = mxt_now_ms() - s->t0;
			s->state = MXT_SS_DATA_END;
			if (out_append(s, s->p->message, s->p->message_len) < 0 ||
			    out_append(s, ".\r\n", 3) < 0)
				return MXT_SESS_CLOSE;
			snprintf(info, sizeof(info), "<message: %zu bytes>", s->p->message_len);
			transcript(s, MXT_DIR_INFO, info, strlen(info));
			transcript(s, MXT_DIR_CLIENT, ".", 1);
			return MXT_SESS_SEND;
		}
	case MXT_SS_DATA_END:
		set_end(s, is2(&st->reply) ? MXT_END_OK : MXT_END_REJECTED, MXT_STAGE_DATA_END);
		return enter_quit(s);
	case MXT_SS_RSET:
		return enter_quit(s);
	case MXT_SS_QUIT:
		set_end(s, MXT_END_OK, MXT_STAGE_QUIT);
		s->state = MXT_SS_DONE;
		return MXT_SESS_CLOSE;
	case MXT_SS_TLS:
	case MXT_SS_DONE:
		break;
	}
	s->state = MXT_SS_DONE;
	return MXT_SESS_CLOSE;
}
