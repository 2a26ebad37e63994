/* SPDX-License-Identifier: MIT */
/*
 * Session state machine driven by canned replies: what it sends, when it
 * stops, and that a probe never sends DATA unless asked.
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/session.h"
#include "t.h"

/* Parse one canned reply text into r. */
static void
mkreply(const char *text, struct mxt_reply *r)
{
	struct mxt_reply_parser p;
	size_t used;

	mxt_reply_parser_init(&p);
	mxt_reply_parser_want_enh(&p, 1);
	mxt_reply_parser_feed(&p, text, strlen(text), &used);
	mxt_reply_take(&p, r);
	mxt_reply_parser_free(&p);
}

struct fixture {
	struct mxt_attempt a;
	struct mxt_session s;
	struct mxt_session_params p;
	char sent[4096];
};

static char *rcpts1[] = {"postmaster@example.test"};
static char *rcpts2[] = {"a@example.test", "b@example.test"};

static void
setup_tls(struct fixture *f, int tls)
{
	memset(f, 0, sizeof(*f));
	f->p.ehlo = "client.example.test";
	f->p.from = "";
	f->p.rcpts = rcpts1;
	f->p.nrcpts = 1;
	f->p.starttls = MXT_STARTTLS_AUTO;
	f->p.quit_after = MXT_QUIT_AFTER_RCPT;
	mxt_session_init(&f->s, &f->p, &f->a, tls);
}

static void
setup(struct fixture *f)
{
	setup_tls(f, 0);
}

static void
teardown(struct fixture *f)
{
	mxt_session_free(&f->s);
	mxt_attempt_free(&f->a);
}

/* Feed a reply; return the action and append what would be sent. */
static enum mxt_session_action
feed(struct fixture *f, const char *text)
{
	struct mxt_reply r;
	enum mxt_session_action act;
	size_t len;
	const char *out;

	mkreply(text, &r);
	act = mxt_session_reply(&f->s, &r);
	mxt_reply_free(&r);
	out = mxt_session_output(&f->s, &len);
	if (len > 0 && strlen(f->sent) + len < sizeof(f->sent))
		strncat(f->sent, out, len);
	mxt_session_output_done(&f->s);
	return act;
}

static const char *EHLO_PLAIN = "250-mx.example.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";
static const char *EHLO_PIPE =
    "250-mx.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n";

/* The EHLO name is not known yet (the client identity lookups still run):
 * the session parks after the banner, sends nothing, and sends EHLO with
 * the name once resumed. */
static void
parked_until_ehlo_name(void)
{
	struct fixture f;
	enum mxt_session_action a;
	size_t len;
	const char *out;

	setup(&f);
	f.p.ehlo = NULL;
	T_CHECK(!mxt_session_parked(&f.s), "not parked before the banner");
	T_CHECK(mxt_session_resume(&f.s) == MXT_SESS_WAIT, "resume before the banner: no-op");
	a = feed(&f, "220 mx.example.test ESMTP\r\n");
	T_CHECK(a == MXT_SESS_PARK, "banner without an EHLO name -> park (%d)", (int)a);
	T_CHECK(mxt_session_parked(&f.s), "parked");
	T_CHECK(f.sent[0] == '\0', "nothing sent while parked: %s", f.sent);
	T_CHECK(mxt_session_outstanding(&f.s) == 0, "no command outstanding while parked");
	T_CHECK(mxt_session_stage(&f.s) == MXT_STAGE_EHLO, "parked in the EHLO stage");
	T_CHECK(mxt_session_resume(&f.s) == MXT_SESS_PARK, "resumed without a name: parked");
	f.p.ehlo = "late.example.test";
	a = mxt_session_resume(&f.s);
	out = mxt_session_output(&f.s, &len);
	T_CHECK(a == MXT_SESS_SEND, "resume with the name -> send");
	T_CHECK(len < sizeof(f.sent), "EHLO queued (%zu bytes)", len);
	memcpy(f.sent, out, len < sizeof(f.sent) ? len : 0);
	mxt_session_output_done(&f.s);
	T_CHECK(strcmp(f.sent, "EHLO late.example.test\r\n") == 0, "EHLO with the late name: %s",
	    f.sent);
	T_CHECK(!mxt_session_parked(&f.s), "no longer parked");
	T_CHECK(mxt_session_resume(&f.s) == MXT_SESS_WAIT, "a second resume is a no-op");
	feed(&f, EHLO_PLAIN);
	T_CHECK(strstr(f.sent, "MAIL FROM:<>\r\n") != NULL, "the session goes on after EHLO");
	teardown(&f);

	/* The run's deadline while parked: recorded at EHLO, nothing sent. */
	setup(&f);
	f.p.ehlo = NULL;
	T_CHECK(feed(&f, "220 mx.example.test ESMTP\r\n") == MXT_SESS_PARK, "park again");
	mxt_session_abort(&f.s, MXT_STEP_TIMEOUT, MXT_END_DEADLINE, "overall deadline reached");
	T_CHECK(f.a.end == MXT_END_DEADLINE && f.a.end_stage == MXT_STAGE_EHLO,
	    "deadline while parked ends at EHLO (%d, %d)", (int)f.a.end, (int)f.a.end_stage);
	T_CHECK(!mxt_session_parked(&f.s), "an ended session is not parked");
	T_CHECK(mxt_session_resume(&f.s) == MXT_SESS_WAIT, "resume after the end: no-op");
	T_CHECK(f.sent[0] == '\0', "no EHLO after the end: %s", f.sent);
	teardown(&f);
}

int
main(void)
{
	struct fixture f;
	enum mxt_session_action a;

	/* Plain probe: banner, EHLO, MAIL, RCPT, QUIT; never DATA, never RSET
	 * (RFC 5321 §4.1.1.10: QUIT aborts the transaction). */
	setup(&f);
	T_CHECK(feed(&f, "220 mx.example.test ESMTP\r\n") == MXT_SESS_SEND, "banner -> send");
	T_CHECK(strcmp(f.sent, "EHLO client.example.test\r\n") == 0, "EHLO sent: %s", f.sent);
	feed(&f, EHLO_PLAIN);
	T_CHECK(strstr(f.sent, "MAIL FROM:<>\r\n") != NULL, "null sender MAIL FROM");
	feed(&f, "250 2.1.0 Ok\r\n");
	T_CHECK(strstr(f.sent, "RCPT TO:<postmaster@example.test>\r\n") != NULL, "RCPT after MAIL");
	T_CHECK(!mxt_session_quitting(&f.s), "not quitting before the RCPT reply");
	a = feed(&f, "250 2.1.5 Ok\r\n");
	T_CHECK(a == MXT_SESS_SEND &&
		strstr(f.sent, "RCPT TO:<postmaster@example.test>\r\nQUIT\r\n") != NULL,
	    "QUIT right after RCPT");
	T_CHECK(strstr(f.sent, "RSET") == NULL, "no RSET before QUIT");
	T_CHECK(mxt_session_quitting(&f.s), "quitting: the result is decided");
	T_CHECK(f.a.end == MXT_END_OK && f.a.end_stage == MXT_STAGE_RCPT,
	    "end ok at rcpt when QUIT is sent");
	a = feed(&f, "221 2.0.0 Bye\r\n");
	T_CHECK(a == MXT_SESS_CLOSE, "close after 221");
	T_CHECK(strstr(f.sent, "DATA") == NULL, "no DATA without --send");
	T_CHECK(f.a.end == MXT_END_OK && f.a.end_stage == MXT_STAGE_RCPT, "end ok at rcpt");
	T_CHECK(f.a.have_caps && (f.a.caps.flags & MXT_CAP_SIZE) && f.a.caps.size == 1000,
	    "caps parsed");
	T_CHECK(f.a.nsteps == 5, "five steps recorded (%zu)", f.a.nsteps);
	T_CHECK(f.a.ntranscript >= 10, "transcript recorded");
	teardown(&f);

	/* STARTTLS offered: asks for TLS, then EHLO again, caps forgotten. */
	setup(&f);
	feed(&f, "220 hi\r\n");
	feed(&f, EHLO_PIPE);
	T_CHECK(strstr(f.sent, "STARTTLS\r\n") != NULL, "STARTTLS sent when offered");
	a = feed(&f, "220 2.0.0 Ready to start TLS\r\n");
	T_CHECK(a == MXT_SESS_STARTTLS, "220 -> handshake");
	f.sent[0] = '\0';
	a = mxt_session_tls_done(&f.s, 1);
	{
		size_t len;
		const char *out = mxt_session_output(&f.s, &len);

		T_CHECK(a == MXT_SESS_SEND && len > 0 && strncmp(out, "EHLO ", 5) == 0,
		    "EHLO again after TLS (RFC 3207 4.2)");
		mxt_session_output_done(&f.s);
	}
	T_CHECK(!f.a.have_caps && f.a.have_caps_plain, "pre-TLS caps kept apart");
	/* Post-TLS EHLO with PIPELINING: MAIL and RCPT go as one group. */
	f.p.rcpts = rcpts2;
	f.p.nrcpts = 2;
	feed(&f, "250-mx.example.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n");
	T_CHECK(
	    strstr(f.sent,
		"MAIL FROM:<>\r\nRCPT TO:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n") != NULL,
	    "pipelined MAIL+RCPT group");
	T_CHECK(feed(&f, "250 ok\r\n") == MXT_SESS_WAIT, "wait for the whole group (1)");
	T_CHECK(feed(&f, "250 ok\r\n") == MXT_SESS_WAIT, "wait for the whole group (2)");
	T_CHECK(
	    feed(&f, "550 5.1.1 no such user\r\n") == MXT_SESS_SEND && mxt_session_quitting(&f.s),
	    "group done -> QUIT");
	T_CHECK(f.a.end == MXT_END_REJECTED && f.a.end_stage == MXT_STAGE_RCPT,
	    "one RCPT refused: rejected at rcpt");
	T_CHECK(f.a.caps.nauth == 2, "post-TLS AUTH mechanisms");
	teardown(&f);

	/* 554 greeting: only QUIT (RFC 5321 §3.1). */
	setup(&f);
	feed(&f, "554 5.7.1 go away\r\n");
	T_CHECK(strcmp(f.sent, "QUIT\r\n") == 0, "554 banner -> QUIT only");
	T_CHECK(
	    f.a.end == MXT_END_REJECTED && f.a.end_stage == MXT_STAGE_BANNER, "rejected at banner");
	teardown(&f);

	/* 421 at any time: close without more commands. */
	setup(&f);
	feed(&f, "220 hi\r\n");
	f.sent[0] = '\0';
	T_CHECK(feed(&f, "421 4.3.2 shutting down\r\n") == MXT_SESS_CLOSE, "421 -> close");
	T_CHECK(f.sent[0] == '\0', "nothing sent after 421");
	teardown(&f);

	/* EHLO refused: HELO fallback. */
	setup(&f);
	feed(&f, "220 hi\r\n");
	feed(&f, "502 5.5.2 command not recognized\r\n");
	T_CHECK(strstr(f.sent, "HELO client.example.test\r\n") != NULL, "HELO fallback");
	feed(&f, "250 hello\r\n");
	T_CHECK(f.a.helo_fallback && strstr(f.sent, "MAIL FROM:<>") != NULL, "HELO then MAIL");
	teardown(&f);

	/* STARTTLS required but not offered: no envelope at all. */
	setup(&f);
	f.p.starttls = MXT_STARTTLS_REQUIRE;
	feed(&f, "220 hi\r\n");
	feed(&f, EHLO_PLAIN);
	T_CHECK(strstr(f.sent, "MAIL") == NULL && strstr(f.sent, "QUIT") != NULL,
	    "require TLS, not offered: QUIT, no MAIL");
	T_CHECK(f.a.end == MXT_END_LOCAL, "ended by local policy");
	teardown(&f);

	/* --quit-after ehlo. */
	setup(&f);
	f.p.quit_after = MXT_QUIT_AFTER_EHLO;
	feed(&f, "220 hi\r\n");
	feed(&f, EHLO_PLAIN);
	T_CHECK(
	    strstr(f.sent, "MAIL") == NULL && strstr(f.sent, "QUIT") != NULL, "quit after ehlo");
	teardown(&f);

	/* --send: DATA, message, final dot. */
	setup(&f);
	f.p.send = 1;
	f.p.quit_after = MXT_QUIT_AFTER_NONE;
	f.p.message = "Subject: t\r\n\r\n..hidden\r\n";
	f.p.message_len = strlen(f.p.message);
	feed(&f, "220 hi\r\n");
	feed(&f, EHLO_PLAIN);
	{
		char want[64];

		snprintf(want, sizeof(want), "MAIL FROM:<> SIZE=%zu\r\n", f.p.message_len);
		T_CHECK(strstr(f.sent, want) != NULL, "SIZE= on MAIL with --send");
	}
	feed(&f, "250 ok\r\n");
	feed(&f, "250 ok\r\n");
	T_CHECK(strstr(f.sent, "DATA\r\n") != NULL, "DATA with --send");
	feed(&f, "354 go ahead\r\n");
	T_CHECK(strstr(f.sent, "..hidden\r\n.\r\n") != NULL, "message and final dot");
	feed(&f, "250 2.0.0 Ok: queued as ABC123\r\n");
	T_CHECK(f.a.end == MXT_END_OK && f.a.end_stage == MXT_STAGE_DATA_END, "accepted");
	teardown(&f);

	/* An unsolicited reply: desynchronised, protocol error. */
	setup(&f);
	feed(&f, "220 hi\r\n");
	feed(&f, "250 ok\r\n"); /* answers EHLO */
	feed(&f, "250 ok\r\n"); /* answers MAIL */
	feed(&f, "250 ok\r\n"); /* answers RCPT */
	feed(&f, "221 bye\r\n");
	T_CHECK(f.a.end == MXT_END_OK && f.s.state == MXT_SS_DONE, "normal end before the extra");
	f.sent[0] = '\0';
	T_CHECK(feed(&f, "250 extra\r\n") == MXT_SESS_CLOSE, "reply after the end: close");
	/* RFC 2920 §3.1: the desync overrides the normal end. */
	T_CHECK(f.s.state == MXT_SS_DONE, "desync: session over");
	T_CHECK(f.a.end == MXT_END_PROTOCOL && f.a.end_stage == MXT_STAGE_QUIT,
	    "desync: protocol error at the last stage");
	T_CHECK(f.a.end_detail != NULL && strcmp(f.a.end_detail, "unsolicited reply") == 0,
	    "desync: reason recorded");
	T_CHECK(f.sent[0] == '\0', "desync: nothing sent");
	teardown(&f);

	/* The session tells the reply parser when RFC 3463 codes may come
	 * (RFC 2034 §3: not in the greeting or the EHLO reply). */
	setup(&f);
	T_CHECK(!mxt_session_want_enh(&f.s), "no enhanced codes in the greeting");
	feed(&f, "220 hi\r\n");
	T_CHECK(!mxt_session_want_enh(&f.s), "no enhanced codes in the EHLO reply");
	feed(&f, EHLO_PLAIN);
	T_CHECK(mxt_session_want_enh(&f.s), "enhanced codes for MAIL");
	T_CHECK(strcmp(mxt_session_state_name(f.s.state), "ENVELOPE") == 0, "state name");
	teardown(&f);

	/* AUTH PLAIN inside TLS: initial response, redacted in the record. */
	{
		size_t i, len;
		const char *out;
		struct mxt_reply r;

		memset(&f, 0, sizeof(f));
		f.p.ehlo = "client.example.test";
		f.p.from = "u@example.test";
		f.p.rcpts = rcpts1;
		f.p.nrcpts = 1;
		f.p.quit_after = MXT_QUIT_AFTER_RCPT;
		f.p.user = "u";
		f.p.password = "S3cr3t-Pa55";
		mxt_session_init(&f.s, &f.p, &f.a, 1);
		f.a.tls.chain_ok = f.a.tls.name_ok = 1; /* a verified certificate */
		feed(&f, "220 hi\r\n");
		mkreply("250-mx\r\n250 AUTH PLAIN LOGIN\r\n", &r);
		mxt_session_reply(&f.s, &r);
		mxt_reply_free(&r);
		out = mxt_session_output(&f.s, &len);
		T_CHECK(len > 11 && strncmp(out, "AUTH PLAIN AHUAUzNjcjN0LVBhNTU=\r\n", len) == 0,
		    "AUTH PLAIN with initial response on the wire");
		mxt_session_output_done(&f.s);
		T_CHECK(strcmp(f.a.steps[f.a.nsteps - 1].command, "AUTH PLAIN <redacted>") == 0,
		    "AUTH PLAIN redacted in the record");
		/* The server echoes the blob and the password: scrubbed. */
		feed(&f, "535 5.7.8 bad AUTH AHUAUzNjcjN0LVBhNTU= S3cr3t-Pa55\r\n");
		T_CHECK(f.a.end == MXT_END_REJECTED && f.a.end_stage == MXT_STAGE_AUTH,
		    "535 ends at AUTH");
		for (i = 0; i < f.a.ntranscript; i++)
			if (strstr(f.a.transcript[i].text, "S3cr3t") != NULL ||
			    strstr(f.a.transcript[i].text, "AHUAUzNjcjN0LVBhNTU=") != NULL ||
			    strstr(f.a.transcript[i].text, "UzNjcjN0LVBhNTU=") != NULL)
				break;
		T_CHECK(i == f.a.ntranscript, "no secret in the transcript");
		T_CHECK(strstr(mxt_attempt_step(&f.a, MXT_STAGE_AUTH)->reply.lines[0].p,
			    "S3cr3t") == NULL,
		    "no secret in the stored reply");
		teardown(&f);
	}

	/* No AUTH inside TLS whose certificate did not verify. */
	setup_tls(&f, 1);
	f.a.tls.chain_ok = 0;
	f.a.tls.name_ok = 1;
	f.p.user = "u";
	f.p.password = "pw-secret";
	feed(&f, "220 hi\r\n");
	feed(&f, "250-mx\r\n250 AUTH PLAIN\r\n");
	T_CHECK(strstr(f.sent, "AUTH") == NULL && f.a.end == MXT_END_LOCAL,
	    "no credentials to an unverified certificate");
	teardown(&f);

	/* --quit-after mail, and a refused MAIL: no RCPT is sent. */
	setup(&f);
	f.p.quit_after = MXT_QUIT_AFTER_MAIL;
	feed(&f, "220 hi\r\n");
	feed(&f, EHLO_PLAIN);
	feed(&f, "250 ok\r\n");
	T_CHECK(strstr(f.sent, "RCPT") == NULL && strstr(f.sent, "RSET") == NULL &&
		mxt_session_quitting(&f.s),
	    "quit after mail: QUIT, no RCPT, no RSET");
	T_CHECK(f.a.end == MXT_END_OK && f.a.end_stage == MXT_STAGE_MAIL, "quit after mail: ok");
	teardown(&f);

	/* Garbage in reply to QUIT is recorded, never judged: the result was
	 * decided when QUIT went out. */
	setup(&f);
	feed(&f, "220 hi\r\n");
	feed(&f, EHLO_PLAIN);
	feed(&f, "250 ok\r\n");
	feed(&f, "250 ok\r\n");
	{
		struct mxt_reply r;

		mkreply("bye bye\r\n", &r);
		mxt_session_broken_reply(&f.s, &r, "reply breaks the SMTP protocol");
	}
	T_CHECK(f.a.end == MXT_END_OK && f.a.end_stage == MXT_STAGE_RCPT && f.a.end_detail == NULL,
	    "broken reply to QUIT: the result stands");
	T_CHECK(f.a.nsteps == 5 && f.a.steps[4].stage == MXT_STAGE_QUIT &&
		f.a.steps[4].status == MXT_STEP_PROTOCOL,
	    "broken reply to QUIT: recorded on the QUIT step");
	T_CHECK(f.s.state == MXT_SS_DONE, "broken reply to QUIT: session over");
	teardown(&f);
	setup(&f);
	feed(&f, "220 hi\r\n");
	feed(&f, EHLO_PLAIN);
	feed(&f, "550 5.7.1 sender refused\r\n");
	T_CHECK(strstr(f.sent, "RCPT") == NULL && f.a.end == MXT_END_REJECTED &&
		f.a.end_stage == MXT_STAGE_MAIL,
	    "MAIL refused: no RCPT, rejected at mail");
	teardown(&f);

	/* No AUTH over plaintext unless allowed. */
	setup(&f);
	f.p.user = "u";
	f.p.password = "pw-secret";
	feed(&f, "220 hi\r\n");
	feed(&f, "250-mx\r\n250 AUTH PLAIN\r\n");
	T_CHECK(strstr(f.sent, "AUTH") == NULL && strstr(f.sent, "QUIT") != NULL,
	    "no credentials over plaintext");
	T_CHECK(
	    f.a.end == MXT_END_LOCAL && f.a.end_stage == MXT_STAGE_AUTH, "local policy at auth");
	teardown(&f);

	/* AUTH LOGIN: username, password, each redacted. */
	setup(&f);
	f.p.user = "u";
	f.p.password = "pw-secret";
	f.p.allow_plaintext_auth = 1;
	f.p.auth_mech = "LOGIN";
	feed(&f, "220 hi\r\n");
	feed(&f, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
	T_CHECK(strstr(f.sent, "AUTH LOGIN\r\n") != NULL, "AUTH LOGIN sent");
	feed(&f, "334 VXNlcm5hbWU6\r\n");
	T_CHECK(strstr(f.sent, "dQ==\r\n") != NULL, "username in base64");
	feed(&f, "334 UGFzc3dvcmQ6\r\n");
	T_CHECK(strstr(f.sent, "cHctc2VjcmV0\r\n") != NULL, "password in base64");
	feed(&f, "235 2.7.0 ok\r\n");
	T_CHECK(strstr(f.sent, "MAIL FROM:<>") != NULL, "MAIL after 235");
	T_CHECK(strcmp(f.a.steps[4].command, "<redacted>") == 0, "LOGIN password redacted");
	teardown(&f);

	/* CRAM-MD5, the RFC 2195 example. */
	setup(&f);
	f.p.user = "tim";
	f.p.password = "tanstaaftanstaaf";
	f.p.allow_plaintext_auth = 1;
	f.p.auth_mech = "CRAM-MD5";
	feed(&f, "220 hi\r\n");
	feed(&f, "250-mx\r\n250 AUTH CRAM-MD5\r\n");
	feed(&f, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n");
	T_CHECK(strstr(f.sent, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n") != NULL,
	    "CRAM-MD5 response (RFC 2195 example)");
	teardown(&f);

	/* A challenge that is not base64 is cancelled with "*" (RFC 4954 §4);
	 * an endless 334 loop is cut (MXT_AUTH_STEPS_MAX). */
	setup(&f);
	f.p.user = "u";
	f.p.password = "pw-secret";
	f.p.allow_plaintext_auth = 1;
	f.p.auth_mech = "LOGIN";
	feed(&f, "220 hi\r\n");
	feed(&f, "250-mx\r\n250 AUTH LOGIN\r\n");
	feed(&f, "334 !!notbase64\r\n");
	T_CHECK(strstr(f.sent, "*\r\n") != NULL, "bad challenge cancelled");
	{
		int k;

		for (k = 0; k < 12; k++)
			feed(&f, "334 \r\n");
	}
	T_CHECK(f.a.end == MXT_END_PROTOCOL, "AUTH loop ends as a protocol error");
	teardown(&f);

	parked_until_ehlo_name();
	return t_done();
}
