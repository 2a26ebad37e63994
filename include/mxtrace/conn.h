/* SPDX-License-Identifier: MIT */
/*
 * One SMTP connection: a non-blocking socket (and OpenSSL on it) on the
 * event loop, carrying a session's commands and feeding its replies through
 * the reply parser, under absolute per-stage deadlines (hardening L7: per
 * reply, never per read).  The only module that touches sockets and TLS.
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
};

struct mxt_conn;
typedef void mxt_conn_done_cb(void *arg, struct mxt_conn *c);

/* Start probing attempt a (addr, port, mode set) for exchanger name tls_name
 * (SNI and certificate host check; NULL or "" for none).  done runs once,
 * from the loop, when the attempt is over; the attempt holds the results.
 * Returns NULL on ENOMEM. */
struct mxt_conn *mxt_conn_start(const struct mxt_conn_params *p, struct mxt_attempt *a,
    const char *tls_name, mxt_conn_done_cb *done, void *arg);
/* Free a finished connection (call after done, outside its callback chain
 * is fine: done is the last thing the connection does). */
void mxt_conn_free(struct mxt_conn *c);
/* Abort now (overall deadline): records MXT_END_DEADLINE, closes, runs done. */
void mxt_conn_abort(struct mxt_conn *c);

/* TLS helpers (tls.c). */
SSL_CTX *mxt_tls_ctx_new(const char *ca_file, char *err, size_t errlen);
/* Record protocol, cipher and certificate facts of an established session;
 * name is checked with OpenSSL's X509_check_host, or when there is no name
 * the address ip with X509_check_ip_asc. */
void mxt_tls_collect(SSL *ssl, const char *name, const char *ip, struct mxt_tls *out);
/* OpenSSL's error queue as one line (drains it); caller frees. */
char *mxt_tls_error_string(void);

#endif
