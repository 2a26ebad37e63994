/* SPDX-License-Identifier: MIT */
/*
 * One SMTP connection (src/net/conn.c): a non-blocking socket (and OpenSSL
 * on it) on the event loop, carrying a session's commands and feeding its
 * replies through the reply parser, under absolute per-stage deadlines (per
 * reply, never per read; RFC 5321 §4.5.3.2 gives the stages).  With tls.c, the only module
 * that touches sockets and TLS.
 */
#ifndef MXTRACE_CONN_H
#define MXTRACE_CONN_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "mxtrace/loop.h"
#include "mxtrace/record.h"
#include "mxtrace/session.h"

struct mxt_conn_params {
	struct mxt_loop *loop;
	SSL_CTX *ssl_ctx;
	const struct mxt_session_params *sp;
	const char *source; /* local address to bind, or NULL */
	int64_t t_connect, t_banner, t_command, t_tls, t_quit, t_data_end; /* ms */
	int64_t hard_deadline; /* absolute monotonic ms: the run's total deadline */
	const char *label;     /* -v: names the target in event lines (may be NULL) */
};

struct mxt_conn;
typedef void mxt_conn_done_cb(void *arg, struct mxt_conn *c);

/* Start probing attempt a (addr, port, mode set) for exchanger name tls_name
 * (SNI and certificate host check; NULL or "" for none).  done runs once,
 * from the loop, when the attempt is over; the attempt holds the results.
 * After QUIT is written the attempt is over (done runs) while the socket
 * lingers to record the reply to QUIT if it comes (RFC 5321 §4.1.1.10):
 * it closes by itself within the QUIT deadline, or when freed.  Until
 * mxt_conn_free() the attempt may still gain that reply and transcript
 * lines, never a different result.  Returns NULL on ENOMEM. */
struct mxt_conn *mxt_conn_start(const struct mxt_conn_params *p, struct mxt_attempt *a,
    const char *tls_name, mxt_conn_done_cb *done, void *arg);
/* Verify the TLS handshake with DANE (RFC 7672 §3) against these TLSA
 * records (borrowed: they must outlive the connection); call right after
 * mxt_conn_start().  Unusable records (mxt_tlsa_usable()) are left out.
 * cname (copied; NULL: none): the exchanger's canonical name when its name
 * is an alias, a second reference identifier for DANE-TA (RFC 7672 §3.2.3). */
void mxt_conn_set_dane(
    struct mxt_conn *c, const struct mxt_tlsa *tlsa, size_t n, const char *cname);
/* The EHLO name in the session parameters is now set: a session parked
 * after its banner (MXT_SESS_PARK) sends EHLO now; harmless for any other
 * connection.  done may run inside this call. */
void mxt_conn_resume(struct mxt_conn *c);
/* closed runs when the socket is closed: with done for an attempt that ends
 * before QUIT, later for a lingering one (or inside mxt_conn_free or
 * mxt_conn_abort, which close it).  Call right after mxt_conn_start(). */
void mxt_conn_set_closed(struct mxt_conn *c, mxt_conn_done_cb *closed, void *arg);
/* Free a connection after its done ran (never inside done): a lingering
 * socket is closed first, what already arrived recorded, and a QUIT still
 * unanswered recorded as MXT_STEP_SENT. */
void mxt_conn_free(struct mxt_conn *c);
/* Abort now (overall deadline): records MXT_END_DEADLINE, closes, runs done.
 * A lingering connection keeps its result and is only closed. */
void mxt_conn_abort(struct mxt_conn *c);

#endif
