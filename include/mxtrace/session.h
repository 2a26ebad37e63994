/* SPDX-License-Identifier: MIT */
/*
 * The SMTP client session as a pure state machine: it consumes complete
 * replies and decides the next command(s), recording every step into the
 * attempt.  It never touches a socket or TLS I/O: the connection module
 * carries its output and performs TLS when asked (RFC 3207).  That is what
 * makes it testable with canned replies.
 */
#ifndef MXTRACE_SESSION_H
#define MXTRACE_SESSION_H

#include <stddef.h>

#include "mxtrace/config.h"
#include "mxtrace/message.h"
#include "mxtrace/record.h"

struct mxt_session_params {
	/* Name (or address literal) for EHLO/HELO; validated.  NULL: not
	 * chosen yet (the client identity lookups still run): after the
	 * banner the session parks (MXT_SESS_PARK) until the owner sets it and
	 * calls mxt_session_resume(). */
	const char *ehlo;
	const char *from;   /* reverse-path without <>, "" = null sender */
	char *const *rcpts; /* forward-paths without <> */
	size_t nrcpts;
	enum mxt_starttls_mode starttls;
	int tls_on_connect; /* TLS runs before the banner (port 465) */
	enum mxt_quit_after quit_after;
	int send;	     /* DATA with message, else QUIT after RCPT */
	const char *message; /* with send: a ready message (tests), else built from msg */
	size_t message_len;
	const struct mxt_message_params *msg; /* with send: built once EHLO told us 8BITMIME */
	/* RFC 4954 AUTH, when user is set. */
	const char *user;
	const char *password;
	const char *auth_mech;	  /* PLAIN, LOGIN, CRAM-MD5, or NULL to choose */
	int allow_plaintext_auth; /* else credentials are only sent inside TLS */
};

enum mxt_session_action {
	MXT_SESS_WAIT = 0, /* wait for more replies (pipelined group) */
	MXT_SESS_SEND,	   /* write the pending output, then wait for replies */
	MXT_SESS_STARTTLS, /* run the TLS handshake, then call mxt_session_tls_done */
	MXT_SESS_CLOSE,	   /* close the connection: the session is over */
	MXT_SESS_PARK	   /* nothing to send or wait for until the EHLO name is
			      known: call mxt_session_resume() then */
};

/* The session's states, in the order a full session visits them: one list
 * makes both the enum (MXT_SS_BANNER...) and the names the -vv trace shows. */
#define MXT_SESSION_STATES(X)                                                                      \
	X(BANNER)   /* waiting for the greeting (RFC 5321 §4.3.1) */                              \
	X(EHLO)	    /* EHLO sent */                                                                \
	X(HELO)	    /* HELO sent after EHLO was refused (RFC 5321 §4.1.4) */                      \
	X(STARTTLS) /* STARTTLS sent (RFC 3207 §4) */                                             \
	X(TLS)	    /* the connection runs the TLS handshake */                                    \
	X(EHLO_TLS) /* EHLO sent again inside TLS (RFC 3207 §4.2) */                              \
	X(AUTH)	    /* AUTH exchange (RFC 4954) */                                                 \
	X(ENVELOPE) /* MAIL and RCPT (a pipelined group when offered) */                           \
	X(DATA)	    /* DATA sent, waiting for 354 */                                               \
	X(DATA_END) /* the message and its final dot sent */                                       \
	X(QUIT)	    /* QUIT sent */                                                                \
	X(DONE)	    /* over */

enum mxt_session_state {
#define MXT_SS_ENUM(name) MXT_SS_##name,
	MXT_SESSION_STATES(MXT_SS_ENUM)
#undef MXT_SS_ENUM
};

struct mxt_session {
	const struct mxt_session_params *p;
	struct mxt_attempt *a;
	enum mxt_session_state state;
	size_t awaiting; /* index of the oldest step still waiting for a reply */
	int tls_active;
	char *out; /* bytes to send (owned; transcript.c) */
	size_t outlen, outcap;
	int64_t t0;	  /* monotonic start of the attempt */
	const char *mech; /* AUTH mechanism in use */
	int auth_steps;	  /* 334 round trips so far (MXT_AUTH_STEPS_MAX) */
	char *secrets[4]; /* encodings of the credentials, scrubbed from every record */
	char *msgbuf;	  /* the message built for this server (owned) */
	size_t msglen;
	int msg8bit;
	int parked; /* after the banner, waiting for p->ehlo (MXT_SESS_PARK) */
};

/* Begin a session on attempt a (a->started_ms set).  The first action is
 * to wait for the banner.  Returns 0, or -1 on ENOMEM. */
int mxt_session_init(struct mxt_session *s, const struct mxt_session_params *p,
    struct mxt_attempt *a, int tls_active);
void mxt_session_free(struct mxt_session *s);

/* A complete reply arrived: the session takes ownership of *r (moved into
 * the step it answers) and returns what to do next. */
enum mxt_session_action mxt_session_reply(struct mxt_session *s, struct mxt_reply *r);
/* The reply answers the last command we are waiting for, yet more bytes
 * followed it: record the reply, then end the session as desynchronised
 * (RFC 2920 §3.1) without acting on it.  Takes ownership of *r. */
enum mxt_session_action mxt_session_reply_then_extra(struct mxt_session *s, struct mxt_reply *r);
/* The stream ended in the middle of a reply: keep what arrived (from
 * mxt_reply_parser_eof) as the waiting step's evidence, scrubbed, without
 * ending the session (mxt_session_abort does).  Takes *r. */
void mxt_session_partial_reply(struct mxt_session *s, struct mxt_reply *r);
/* A reply broke the protocol (MXT_REPLY_ERROR): record what there is of it
 * (secrets scrubbed, transcript kept) and end the session.  Takes *r. */
void mxt_session_broken_reply(struct mxt_session *s, struct mxt_reply *r, const char *why);
/* QUIT is queued (RFC 5321 §4.1.1.10): the attempt's result is decided.
 * The connection ends the attempt once QUIT is written, without waiting
 * for the 221; a reply that still comes is recorded, never judged. */
int mxt_session_quitting(const struct mxt_session *s);
/* Commands sent and still waiting for their reply. */
size_t mxt_session_outstanding(const struct mxt_session *s);
/* The EHLO name (p->ehlo) is now set: a parked session sends EHLO
 * (MXT_SESS_SEND); any other gets MXT_SESS_WAIT and nothing changes. */
enum mxt_session_action mxt_session_resume(struct mxt_session *s);
/* Whether the session is parked waiting for the EHLO name. */
int mxt_session_parked(const struct mxt_session *s);
/* The TLS handshake the session asked for ended (ok != 0 on success). */
enum mxt_session_action mxt_session_tls_done(struct mxt_session *s, int ok);
/* The step waiting for a reply ended without one (timeout, close, broken
 * protocol).  Records it; the session is over. */
void mxt_session_abort(
    struct mxt_session *s, enum mxt_step_status why, enum mxt_end end, const char *detail);
/* Take the pending output (the session keeps the buffer). */
const char *mxt_session_output(struct mxt_session *s, size_t *len);
void mxt_session_output_done(struct mxt_session *s);
/* The step waiting for a reply, or NULL. */
struct mxt_step *mxt_session_waiting(struct mxt_session *s);
/* Stage the session is in (for deadlines). */
enum mxt_stage mxt_session_stage(const struct mxt_session *s);
/* Whether the next reply may carry RFC 3463 enhanced status codes: the
 * connection tells the reply parser before each reply. */
int mxt_session_want_enh(const struct mxt_session *s);
/* The name of a state ("EHLO", "STARTTLS", ...), as the trace shows it. */
const char *mxt_session_state_name(enum mxt_session_state st);

#endif
