/* SPDX-License-Identifier: MIT */
/*
 * One SMTP connection on the event loop.  Connect (outcomes kept apart:
 * refused, timed out, unreachable), optional implicit TLS, then a loop of:
 * read -> reply parser -> session -> write.  STARTTLS (RFC 3207): bytes that
 * followed the 220 are never used (injection defence, CVE-2011-0411); they
 * abort the TLS attempt.  Every wait has an absolute deadline per reply;
 * every read is bounded (MXT_SESSION_READ_MAX).  Sockets use MSG_NOSIGNAL / a
 * non-signalling BIO so a reset peer cannot kill the process.
 *
 * The end of a session (RFC 5321 §4.1.1.10): once QUIT is written the
 * attempt is settled (done runs, its result and duration are final) and the
 * connection lingers: it keeps reading, so a 221 that comes in time is
 * recorded, and closes on that reply, on the server's close, at the QUIT
 * deadline, or when its owner frees it (the probe's end), whichever is
 * first.  Nothing read while lingering changes the result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxtrace/conn.h"
#include "mxtrace/tls.h"
#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/xalloc.h"

enum cstate { C_CONNECTING, C_TLS_HANDSHAKE, C_SMTP, C_DONE };

struct mxt_conn {
	struct mxt_conn_params p;
	struct mxt_attempt *a;
	char *tls_name;
	const struct mxt_tlsa *tlsa; /* DANE: borrowed from the exchanger */
	size_t ntlsa;
	char *dane_cname; /* DANE: the MX host's canonical name when an alias */
	int fd;
	SSL *ssl;
	enum cstate state;
	int handshake_for_starttls; /* else implicit TLS before the banner */
	struct mxt_session sess;
	int have_sess;
	struct mxt_reply_parser rp;
	struct mxt_timer timer;
	const char *wbuf; /* session output being written */
	size_t wlen, woff;
	size_t nread;
	int64_t tls_start;
	mxt_conn_done_cb *done;
	void *arg;
	mxt_conn_done_cb *closed; /* the socket is closed (may follow done) */
	void *closed_arg;
	int settled; /* done ran: QUIT written, the connection lingers */
};

static void on_io(struct mxt_loop *loop, int fd, unsigned ev, void *arg);
static void on_timeout(struct mxt_loop *loop, void *arg);
static void drive(struct mxt_conn *c, enum mxt_session_action act);
static void quickack(struct mxt_conn *c);

static int64_t
since(const struct mxt_conn *c)
{
	return mxt_now_ms() - c->a->started_ms;
}

/* Arm the deadline for what we wait for now, never past the hard deadline. */
static void
arm(struct mxt_conn *c, int64_t ms)
{
	int64_t d = mxt_now_ms() + ms;

	if (c->p.hard_deadline > 0 && d > c->p.hard_deadline)
		d = c->p.hard_deadline;
	mxt_timer_arm(c->p.loop, &c->timer, d, on_timeout, c);
}

/* Decide the attempt's result and tell the owner: once per connection. */
static void
settle(struct mxt_conn *c)
{
	if (c->settled)
		return;
	c->settled = 1;
	if (c->a->end == MXT_END_NONE)
		c->a->end = MXT_END_OK;
	c->a->duration_ms = since(c);
	c->done(c->arg, c);
}

static void
finish(struct mxt_conn *c)
{
	if (c->state == C_DONE)
		return;
	c->state = C_DONE;
	mxt_timer_cancel(c->p.loop, &c->timer);
	if (c->fd >= 0) {
		mxt_loop_unwatch(c->p.loop, c->fd);
		if (c->ssl != NULL && SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		close(c->fd);
		c->fd = -1;
	}
	if (c->closed != NULL)
		c->closed(c->closed_arg, c);
	settle(c);
}

static void
watch(struct mxt_conn *c, unsigned ev)
{
	if (mxt_loop_watch(c->p.loop, c->fd, ev, on_io, c) < 0) {
		c->a->end = MXT_END_LOCAL;
		finish(c);
	}
}

static enum mxt_conn_status
connect_status(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return MXT_CONN_REFUSED;
	case ETIMEDOUT:
		return MXT_CONN_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
	case EADDRNOTAVAIL:
		return MXT_CONN_UNREACHABLE;
	default:
		return MXT_CONN_ERROR;
	}
}

static void
connect_failed(struct mxt_conn *c, enum mxt_conn_status st, int err)
{
	c->a->connect = st;
	c->a->connect_errno = err;
	c->a->connect_ms = since(c);
	if (c->a->end == MXT_END_NONE) {
		c->a->end = MXT_END_CONNECT;
		c->a->end_stage = MXT_STAGE_CONNECT;
	}
	if (err != 0)
		c->a->end_detail = mxt_xstrdup(strerror(err));
	finish(c);
}

/* The deadline for the reply to a command of stage st: the greeting, QUIT
 * and the end of data have their own (RFC 5321 §4.5.3.2), every other
 * command the command timeout. */
static int64_t
stage_deadline(const struct mxt_conn *c, enum mxt_stage st)
{
	if (st == MXT_STAGE_BANNER)
		return c->p.t_banner;
	if (st == MXT_STAGE_QUIT)
		return c->p.t_quit;
	if (st == MXT_STAGE_DATA_END)
		return c->p.t_data_end;
	return c->p.t_command;
}

static void
start_session(struct mxt_conn *c)
{
	if (mxt_session_init(&c->sess, c->p.sp, c->a, c->ssl != NULL) < 0) {
		c->a->end = MXT_END_LOCAL;
		finish(c);
		return;
	}
	c->have_sess = 1;
	c->state = C_SMTP;
	arm(c, c->p.t_banner);
	watch(c, MXT_EV_READ);
}

static void
start_tls(struct mxt_conn *c, int for_starttls)
{
	c->ssl = SSL_new(c->p.ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		c->a->tls.error = mxt_tls_error_string();
		c->a->end = MXT_END_TLS;
		c->a->end_stage = MXT_STAGE_TLS;
		finish(c);
		return;
	}
	/* RFC 6066 §3: SNI carries a host name, never an address literal. */
	if (c->tls_name != NULL && c->tls_name[0] != '\0')
		SSL_set_tlsext_host_name(c->ssl, c->tls_name);
	if (c->ntlsa > 0 && c->tls_name != NULL && c->tls_name[0] != '\0')
		c->a->tls.dane =
		    mxt_tls_dane_setup(c->ssl, c->tls_name, c->dane_cname, c->tlsa, c->ntlsa) > 0;
	c->a->tls.attempted = 1;
	c->handshake_for_starttls = for_starttls;
	c->state = C_TLS_HANDSHAKE;
	c->tls_start = mxt_now_ms();
	arm(c, c->p.t_tls);
	drive(c, MXT_SESS_WAIT);
}

/* Record the handshake's outcome and hand it to the session. */
static void
tls_finished(struct mxt_conn *c, int ok)
{
	struct mxt_attempt *a = c->a;

	a->tls.ok = ok;
	a->tls.duration_ms = mxt_now_ms() - c->tls_start;
	if (ok)
		mxt_tls_collect(c->ssl, c->tls_name, a->addr.text, &a->tls);
	else if (a->tls.error == NULL)
		a->tls.error = mxt_tls_error_string();
	c->state = C_SMTP;
	if (!c->handshake_for_starttls) {
		if (!ok) {
			a->end = MXT_END_TLS;
			a->end_stage = MXT_STAGE_TLS;
			finish(c);
			return;
		}
		start_session(c);
		return;
	}
	drive(c, mxt_session_tls_done(&c->sess, ok));
}

static void
handshake(struct mxt_conn *c)
{
	int rc, e;

	ERR_clear_error(); /* one thread, many connections: no stale errors */
	rc = SSL_connect(c->ssl);

	quickack(c);
	if (rc == 1) {
		tls_finished(c, 1);
		return;
	}
	e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_WANT_READ)
		watch(c, MXT_EV_READ);
	else if (e == SSL_ERROR_WANT_WRITE)
		watch(c, MXT_EV_WRITE);
	else {
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			c->a->tls.error = mxt_xstrdup(
			    errno ? strerror(errno) : "connection closed during the handshake");
		tls_finished(c, 0);
	}
}

/* Acknowledge at once: a server with Nagle on (Postfix after its TLS 1.3
 * session tickets) otherwise holds its next reply until our delayed ACK,
 * about 40 ms per exchange.  The kernel resets the flag, so it is re-set
 * after every read. */
static void
quickack(struct mxt_conn *c)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* Write pending session output; returns 1 when all is written. */
static int
flush(struct mxt_conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n;

		if (c->ssl != NULL) {
			int rc;

			ERR_clear_error();
			rc = SSL_write(c->ssl, c->wbuf + c->woff, (int)(c->wlen - c->woff));

			if (rc <= 0) {
				int e = SSL_get_error(c->ssl, rc);

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					return 0;
				mxt_session_abort(&c->sess, MXT_STEP_CLOSED, MXT_END_CLOSED,
				    "connection lost while sending");
				finish(c);
				return -1;
			}
			n = rc;
		} else {
			n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					return 0;
				mxt_session_abort(
				    &c->sess, MXT_STEP_CLOSED, MXT_END_CLOSED, strerror(errno));
				finish(c);
				return -1;
			}
		}
		c->woff += (size_t)n;
	}
	mxt_session_output_done(&c->sess);
	c->wbuf = NULL;
	c->wlen = c->woff = 0;
	/* QUIT is out: the result is decided, its reply is not awaited. */
	if (mxt_session_quitting(&c->sess))
		settle(c);
	return 1;
}

/* RFC 3207 §4.2 / CVE-2011-0411: plaintext after the STARTTLS 220 is an
 * injection attempt: record it, never feed it to TLS or the session, and
 * end the attempt. */
static void
starttls_injected(struct mxt_conn *c)
{
	c->a->tls.injection = 1;
	c->a->tls.error = mxt_xstrdup("plaintext injected after the STARTTLS 220 reply");
	mxt_session_tls_done(&c->sess, 0);
	finish(c);
}

/* Carry out what the session asked for. */
static void
drive(struct mxt_conn *c, enum mxt_session_action act)
{
	if (c->state == C_DONE)
		return;
	if (c->state == C_TLS_HANDSHAKE) {
		handshake(c);
		return;
	}
	switch (act) {
	case MXT_SESS_WAIT:
		watch(c, MXT_EV_READ);
		return;
	case MXT_SESS_SEND:
		/* New output is appended behind what may still be unsent: keep
		 * the write offset (and OpenSSL's retry contract, with
		 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). */
		if (c->wbuf == NULL)
			c->woff = 0;
		c->wbuf = mxt_session_output(&c->sess, &c->wlen);
		arm(c, stage_deadline(c, mxt_session_stage(&c->sess)));
		if (flush(c) == 0)
			watch(c, MXT_EV_READ | MXT_EV_WRITE);
		else if (c->state != C_DONE)
			watch(c, MXT_EV_READ);
		return;
	case MXT_SESS_STARTTLS:
		/* Bytes after the 220 that the parser holds. */
		if (mxt_reply_parser_pending(&c->rp)) {
			starttls_injected(c);
			return;
		}
		start_tls(c, 1);
		return;
	case MXT_SESS_CLOSE:
		finish(c);
		return;
	case MXT_SESS_PARK:
		/* The banner is in, the EHLO name is not: no command deadline
		 * runs until mxt_conn_resume(), only the run's (the owner's
		 * identity lookups end before it).  Keep reading: a close or
		 * unsolicited bytes still end the session. */
		mxt_log(1, "%s: %s port %d: EHLO waits for the client identity lookups",
		    c->p.label ? c->p.label : "", c->a->addr.text, c->a->port);
		arm(c, c->p.hard_deadline > 0 ? c->p.hard_deadline - mxt_now_ms() : c->p.t_command);
		watch(c, MXT_EV_READ);
		return;
	}
}

/* The peer closed mid-reply: the lines that arrived stay as evidence. */
static void
keep_partial(struct mxt_conn *c)
{
	struct mxt_reply r;

	if (mxt_reply_parser_eof(&c->rp, &r))
		mxt_session_partial_reply(&c->sess, &r);
}

/* Feed n bytes to the parser, one reply at a time. */
static void
consume(struct mxt_conn *c, const char *buf, size_t n)
{
	while (n > 0 && c->state == C_SMTP) {
		size_t used = 0;
		enum mxt_reply_status st;
		struct mxt_reply r;
		enum mxt_session_action act;
		enum mxt_stage stage = mxt_session_stage(&c->sess);

		mxt_reply_parser_want_enh(&c->rp, mxt_session_want_enh(&c->sess));
		st = mxt_reply_parser_feed(&c->rp, buf, n, &used);

		buf += used;
		n -= used;
		if (st == MXT_REPLY_MORE)
			return;
		mxt_reply_take(&c->rp, &r);
		if (st == MXT_REPLY_ERROR) {
			mxt_session_broken_reply(&c->sess, &r, "reply breaks the SMTP protocol");
			finish(c);
			return;
		}
		/* Bytes after the reply to our last outstanding command arrived
		 * before we sent anything else: nobody asked for them.  After the
		 * STARTTLS 220 that is an injection attempt (handled below). */
		if (n > 0 && mxt_session_outstanding(&c->sess) == 1 &&
		    stage != MXT_STAGE_STARTTLS && stage != MXT_STAGE_QUIT) {
			drive(c, mxt_session_reply_then_extra(&c->sess, &r));
			return;
		}
		if (stage == MXT_STAGE_BANNER)
			mxt_log(1, "%s: %s port %d: banner %d after %lld ms",
			    c->p.label ? c->p.label : "", c->a->addr.text, c->a->port, r.code,
			    (long long)since(c));
		act = mxt_session_reply(&c->sess, &r);
		mxt_reply_free(&r);
		if (stage == MXT_STAGE_DATA_END && c->wbuf != NULL) {
			/* The verdict on the message came before all of it was
			 * sent: the stream is no longer SMTP, close it. */
			finish(c);
			return;
		}
		if (act == MXT_SESS_STARTTLS && n > 0) {
			/* Bytes followed the 220 in the same read: injection. */
			starttls_injected(c);
			return;
		}
		if (act != MXT_SESS_WAIT) {
			drive(c, act);
			if (act == MXT_SESS_STARTTLS || act == MXT_SESS_CLOSE)
				return;
		}
	}
}

static void
do_read(struct mxt_conn *c)
{
	char buf[16384];

	quickack(c);
	/* Read until EAGAIN (or OpenSSL's WANT_READ): OpenSSL may hold
	 * decrypted bytes the socket no longer signals as readable, and for a
	 * plain socket it saves a trip through the loop. */
	while (c->state == C_SMTP) {
		ssize_t n;

		if (c->ssl != NULL) {
			int rc;

			ERR_clear_error();
			rc = SSL_read(c->ssl, buf, sizeof(buf));

			if (rc <= 0) {
				int e = SSL_get_error(c->ssl, rc);

				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return;
				ERR_clear_error();
				keep_partial(c);
				mxt_session_abort(&c->sess, MXT_STEP_CLOSED, MXT_END_CLOSED,
				    "connection closed by the server");
				finish(c);
				return;
			}
			n = rc;
		} else {
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return;
			if (n <= 0) {
				keep_partial(c);
				mxt_session_abort(&c->sess, MXT_STEP_CLOSED, MXT_END_CLOSED,
				    n == 0 ? "connection closed by the server" : strerror(errno));
				finish(c);
				return;
			}
		}
		c->nread += (size_t)n;
		if (c->nread > MXT_SESSION_READ_MAX) {
			mxt_session_abort(&c->sess, MXT_STEP_PROTOCOL, MXT_END_PROTOCOL,
			    "server sent more than 1 MiB");
			finish(c);
			return;
		}
		consume(c, buf, (size_t)n);
	}
}

static void
connected(struct mxt_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "";
	int one = 1;

	c->a->connect = MXT_CONN_OK;
	c->a->connect_ms = since(c);
	mxt_log(1, "%s: %s port %d: connected in %lld ms", c->p.label ? c->p.label : "",
	    c->a->addr.text, c->a->port, (long long)c->a->connect_ms);
	if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0) {
		int port;

		if (ss.ss_family == AF_INET) {
			inet_ntop(
			    AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			snprintf(c->a->local, sizeof(c->a->local), "%s:%d", host, port);
		} else {
			inet_ntop(
			    AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			snprintf(c->a->local, sizeof(c->a->local), "[%s]:%d", host, port);
		}
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->p.sp->quit_after == MXT_QUIT_AFTER_CONNECT) {
		c->a->end = MXT_END_OK;
		c->a->end_stage = MXT_STAGE_CONNECT;
		finish(c);
		return;
	}
	if (c->p.sp->tls_on_connect)
		start_tls(c, 0);
	else
		start_session(c);
}

static void
on_io(struct mxt_loop *loop, int fd, unsigned ev, void *arg)
{
	struct mxt_conn *c = arg;

	switch (c->state) {
	case C_CONNECTING: {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			connect_failed(c, connect_status(err), err);
			return;
		}
		if (!(ev & MXT_EV_WRITE))
			return;
		connected(c);
		return;
	}
	case C_TLS_HANDSHAKE:
		handshake(c);
		return;
	case C_SMTP:
		if ((ev & MXT_EV_WRITE) && c->wbuf != NULL) {
			if (flush(c) < 0)
				return;
			if (c->wbuf == NULL)
				watch(c, MXT_EV_READ);
		}
		if (ev & (MXT_EV_READ | MXT_EV_ERROR))
			do_read(c);
		return;
	case C_DONE:
		return;
	}
}

static void
on_timeout(struct mxt_loop *loop, void *arg)
{
	struct mxt_conn *c = arg;
	int hard = c->p.hard_deadline > 0 && mxt_now_ms() >= c->p.hard_deadline;

	switch (c->state) {
	case C_CONNECTING:
		if (hard) {
			c->a->end = MXT_END_DEADLINE;
			c->a->end_stage = MXT_STAGE_CONNECT;
		}
		connect_failed(c, MXT_CONN_TIMEOUT, ETIMEDOUT);
		return;
	case C_TLS_HANDSHAKE:
		c->a->tls.error = mxt_xstrdup("TLS handshake timed out");
		c->a->tls.duration_ms = mxt_now_ms() - c->tls_start;
		/* A deadline, not a TLS fault: the report says which one. */
		c->a->end = hard ? MXT_END_DEADLINE : MXT_END_TIMEOUT;
		c->a->end_stage = MXT_STAGE_TLS;
		finish(c);
		return;
	case C_SMTP:
		keep_partial(c);
		mxt_session_abort(&c->sess, MXT_STEP_TIMEOUT,
		    hard ? MXT_END_DEADLINE : MXT_END_TIMEOUT,
		    "no complete reply before the deadline");
		finish(c);
		return;
	case C_DONE:
		return;
	}
}

static int
bind_source(int fd, const char *source, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		if (inet_pton(AF_INET, source, &s->sin_addr) != 1)
			return 0; /* other family: not for this socket */
		sl = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, source, &s->sin6_addr) != 1)
			return 0;
		sl = sizeof(*s);
	}
	return bind(fd, (struct sockaddr *)&ss, sl);
}

static void
on_start(struct mxt_loop *loop, void *arg)
{
	struct mxt_conn *c = arg;
	struct mxt_attempt *a = c->a;
	struct sockaddr_storage ss = a->addr.sa;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)a->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)a->port);
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		connect_failed(c, MXT_CONN_ERROR, errno);
		return;
	}
	if (c->p.source != NULL && bind_source(c->fd, c->p.source, ss.ss_family) < 0) {
		connect_failed(c, MXT_CONN_ERROR, errno);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, a->addr.salen) < 0 && errno != EINPROGRESS) {
		connect_failed(c, connect_status(errno), errno);
		return;
	}
	mxt_log(1, "%s: %s port %d: connecting...", c->p.label ? c->p.label : "", a->addr.text,
	    a->port);
	arm(c, c->p.t_connect);
	watch(c, MXT_EV_WRITE);
}

struct mxt_conn *
mxt_conn_start(const struct mxt_conn_params *p, struct mxt_attempt *a, const char *tls_name,
    mxt_conn_done_cb *done, void *arg)
{
	struct mxt_conn *c = mxt_xcalloc(1, sizeof(*c));

	if (mxt_reply_parser_init(&c->rp) < 0) {
		free(c);
		return NULL;
	}
	c->p = *p;
	c->a = a;
	c->fd = -1;
	c->tls_name = mxt_xstrdup_or_null(tls_name);
	c->done = done;
	c->arg = arg;
	c->state = C_CONNECTING;
	a->started_ms = mxt_now_ms();
	/* Start from the loop so done never runs inside this call. */
	mxt_timer_arm(p->loop, &c->timer, a->started_ms, on_start, c);
	return c;
}

void
mxt_conn_set_dane(struct mxt_conn *c, const struct mxt_tlsa *tlsa, size_t n, const char *cname)
{
	c->tlsa = tlsa;
	c->ntlsa = n;
	free(c->dane_cname);
	c->dane_cname = mxt_xstrdup_or_null(cname);
}

/* Stop lingering: take what already arrived (a 221 in the socket buffer
 * is recorded, and reading it first makes close() send a FIN, not a
 * RST), then record QUIT as sent without a reply and close. */
static void
linger_end(struct mxt_conn *c)
{
	if (c->state != C_SMTP || !c->settled)
		return;
	do_read(c);
	if (c->state != C_SMTP)
		return;
	keep_partial(c);
	mxt_session_abort(&c->sess, MXT_STEP_SENT, MXT_END_OK,
	    "the probe is over: the reply to QUIT was not awaited");
	finish(c);
}

void
mxt_conn_set_closed(struct mxt_conn *c, mxt_conn_done_cb *closed, void *arg)
{
	c->closed = closed;
	c->closed_arg = arg;
}

void
mxt_conn_resume(struct mxt_conn *c)
{
	if (c->state == C_SMTP && c->have_sess && mxt_session_parked(&c->sess))
		drive(c, mxt_session_resume(&c->sess));
}

void
mxt_conn_abort(struct mxt_conn *c)
{
	if (c->state == C_DONE)
		return;
	if (c->settled) {
		linger_end(c); /* the result stands: the deadline cut no step */
		return;
	}
	if (c->state == C_SMTP)
		mxt_session_abort(
		    &c->sess, MXT_STEP_TIMEOUT, MXT_END_DEADLINE, "overall deadline reached");
	else {
		c->a->end = MXT_END_DEADLINE;
		if (c->state == C_TLS_HANDSHAKE) {
			/* The deadline cut the handshake: a deadline, not a TLS
			 * fault (the report names the stage). */
			c->a->end_stage = MXT_STAGE_TLS;
			if (c->a->tls.error == NULL)
				c->a->tls.error = mxt_xstrdup("TLS handshake cut by the deadline");
			c->a->tls.duration_ms = mxt_now_ms() - c->tls_start;
		}
		/* A SYN that was never sent did not time out. */
		if (c->state == C_CONNECTING && c->fd >= 0)
			c->a->connect = MXT_CONN_TIMEOUT;
	}
	finish(c);
}

void
mxt_conn_free(struct mxt_conn *c)
{
	if (c == NULL)
		return;
	linger_end(c);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->have_sess)
		mxt_session_free(&c->sess);
	mxt_reply_parser_free(&c->rp);
	free(c->tls_name);
	free(c->dane_cname);
	free(c);
}
