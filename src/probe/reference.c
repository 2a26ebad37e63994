/* SPDX-License-Identifier: MIT */
/*
 * The egress reference check (--egress-check): when every port-25 connect
 * of a target timed out, connect to port 25 of independent exchangers to
 * tell "the way out is blocked" from "the destination drops the packets".
 * One check is shared by every target of a run that needs it (the engine
 * keeps it): the references are connected to once, concurrently, each
 * through the run's connection gate and within one connect deadline, and
 * a finished check is reused for a while (MXT_REFCHECK_REUSE_MS) instead
 * of knocking on the same hosts for every target of a batch.  A name is
 * looked up (A, through the run's resolver) before its connect.  It
 * records what happened per reference; the report stage judges.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <ares.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mxtrace/conn.h"
#include "mxtrace/dns.h"
#include "mxtrace/limits.h"
#include "mxtrace/probe.h"
#include "mxtrace/xalloc.h"
#include "mxtrace/validate.h"

struct ref {
	struct mxt_refcheck *rc;
	char *host;
	int port;
	struct mxt_attempt a; /* addr, port; connect result (connect only) */
	struct mxt_conn *conn;
	int resolving, ready, started, finished, took_slot;
	char *error; /* why no connect was tried */
};

struct mxt_refcheck {
	struct mxt_loop *loop;
	struct mxt_resolver *res;
	struct mxt_gate *gate;
	SSL_CTX *ctx;
	struct mxt_gate_waiter gw;
	struct mxt_session_params sp;
	char *source;
	int64_t t_connect;
	int builtin;
	struct ref *refs;
	size_t nrefs;
	int running;
	int measuring;	 /* running, and connecting (not handing out a recent result) */
	int64_t done_at; /* monotonic ms; 0 = never finished */
	size_t pending;	 /* references not finished */
	struct mxt_timer later;
	struct mxt_refcheck_waiter *waiters;
};

static void start_connects(struct mxt_refcheck *rc);

/* Large providers' inbound exchangers, long stable and answering on port 25
 * around the clock (docs/mxtrace.1, --egress-check). */
static const struct mxt_hostport builtin_list[] = {
    {"gmail-smtp-in.l.google.com", 25},		    /* Gmail */
    {"outlook-com.olc.protection.outlook.com", 25}, /* Outlook.com */
    {"mta5.am0.yahoodns.net", 25},		    /* Yahoo Mail */
};

const struct mxt_hostport *
mxt_refcheck_builtin(size_t *n)
{
	*n = sizeof(builtin_list) / sizeof(builtin_list[0]);
	return builtin_list;
}

int
mxt_address_public(const struct mxt_address *a)
{
	if (a->family == AF_INET)
		return mxt_ip_global(AF_INET,
		    (const unsigned char *)&((const struct sockaddr_in *)&a->sa)->sin_addr);
	if (a->family == AF_INET6)
		return mxt_ip_global(
		    AF_INET6, ((const struct sockaddr_in6 *)&a->sa)->sin6_addr.s6_addr);
	return 0;
}

struct mxt_refcheck *
mxt_refcheck_new(struct mxt_loop *loop, struct mxt_resolver *res, struct mxt_gate *gate,
    SSL_CTX *ctx, const struct mxt_hostport *hosts, size_t n, int builtin, const char *source,
    int64_t t_connect)
{
	struct mxt_refcheck *rc = mxt_xcalloc(1, sizeof(*rc));
	size_t i;

	rc->loop = loop;
	rc->res = res;
	rc->gate = gate;
	rc->ctx = ctx;
	rc->source = mxt_xstrdup_or_null(source);
	rc->t_connect = t_connect;
	rc->builtin = builtin;
	rc->refs = mxt_xcalloc(n > 0 ? n : 1, sizeof(*rc->refs));
	rc->nrefs = n;
	for (i = 0; i < n; i++) {
		rc->refs[i].rc = rc;
		rc->refs[i].host = mxt_xstrdup(hosts[i].host);
		rc->refs[i].port = hosts[i].port > 0 ? hosts[i].port : 25;
	}
	/* Connect only: the TCP handshake is the evidence. */
	rc->sp.ehlo = "localhost";
	rc->sp.from = "";
	rc->sp.quit_after = MXT_QUIT_AFTER_CONNECT;
	return rc;
}

int
mxt_refcheck_matches(const struct mxt_refcheck *rc, const struct mxt_hostport *hosts, size_t n,
    int builtin, const char *source, int64_t t_connect)
{
	size_t i;

	if (rc->nrefs != n || rc->builtin != builtin || rc->t_connect != t_connect)
		return 0;
	if ((rc->source == NULL) != (source == NULL) ||
	    (source != NULL && strcmp(rc->source, source) != 0))
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(rc->refs[i].host, hosts[i].host) != 0 ||
		    rc->refs[i].port != (hosts[i].port > 0 ? hosts[i].port : 25))
			return 0;
	return 1;
}

static void
reset(struct mxt_refcheck *rc)
{
	size_t i;

	for (i = 0; i < rc->nrefs; i++) {
		struct ref *r = &rc->refs[i];

		mxt_conn_free(r->conn);
		r->conn = NULL;
		mxt_attempt_free(&r->a);
		memset(&r->a, 0, sizeof(r->a));
		free(r->error);
		r->error = NULL;
		r->resolving = r->ready = r->started = r->finished = r->took_slot = 0;
	}
	rc->done_at = 0;
}

void
mxt_refcheck_free(struct mxt_refcheck *rc)
{
	size_t i;

	if (rc == NULL)
		return;
	mxt_timer_cancel(rc->loop, &rc->later);
	mxt_gate_unwait(rc->gate, &rc->gw);
	reset(rc);
	for (i = 0; i < rc->nrefs; i++)
		free(rc->refs[i].host);
	free(rc->refs);
	free(rc->source);
	free(rc);
}

/* Wake every waiter, from a fresh loop turn. */
static void
on_finish(struct mxt_loop *loop, void *arg)
{
	struct mxt_refcheck *rc = arg;
	struct mxt_refcheck_waiter *w;
	size_t i;

	for (i = 0; i < rc->nrefs; i++) {
		mxt_conn_free(rc->refs[i].conn);
		rc->refs[i].conn = NULL;
	}
	rc->running = 0;
	if (rc->measuring)
		rc->done_at = mxt_now_ms();
	rc->measuring = 0;
	while ((w = rc->waiters) != NULL) {
		rc->waiters = w->next;
		w->queued = 0;
		w->cb(w->arg);
	}
}

static void
ref_finished(struct ref *r)
{
	struct mxt_refcheck *rc = r->rc;

	r->finished = 1;
	if (--rc->pending == 0)
		mxt_timer_arm(rc->loop, &rc->later, mxt_now_ms(), on_finish, rc);
}

static void
on_conn_done(void *arg, struct mxt_conn *c)
{
	struct ref *r = arg;

	if (r->took_slot) {
		mxt_gate_give(r->rc->gate, &r->a.addr);
		r->took_slot = 0;
	}
	ref_finished(r);
	start_connects(r->rc);
}

/* Fill r->a.addr from the address text; 0, or -1 when it is not one. */
static int
set_addr(struct ref *r, const char *text)
{
	struct mxt_address *ad = &r->a.addr;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ad->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ad->sa;

	memset(ad, 0, sizeof(*ad));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)r->port);
		ad->family = AF_INET;
		ad->salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)r->port);
		ad->family = AF_INET6;
		ad->salen = sizeof(*s6);
	} else {
		return -1;
	}
	snprintf(ad->text, sizeof(ad->text), "%s", text);
	r->a.port = r->port;
	r->a.mode = MXT_MODE_SMTP;
	return 0;
}

/* The A answer for a reference name: its first address, or why none. */
static void
on_answer(void *arg, enum mxt_dns_status status, const unsigned char *abuf, int alen)
{
	struct ref *r = arg;
	struct hostent *he = NULL;
	char text[INET_ADDRSTRLEN];

	r->resolving = 0;
	if (status == MXT_DNS_OK &&
	    ares_parse_a_reply(abuf, alen, &he, NULL, NULL) == ARES_SUCCESS && he != NULL &&
	    he->h_addr_list[0] != NULL &&
	    inet_ntop(AF_INET, he->h_addr_list[0], text, sizeof(text)) != NULL &&
	    set_addr(r, text) == 0) {
		r->ready = 1;
	} else {
		size_t len = 64;

		r->error = mxt_xmalloc(len);
		snprintf(r->error, len, "no address (A: %s)",
		    status == MXT_DNS_OK ? "no usable answer" : mxt_dns_status_text(status));
	}
	if (he != NULL)
		ares_free_hostent(he);
	if (r->error != NULL)
		ref_finished(r);
	else
		start_connects(r->rc);
}

static void
on_gate(void *arg)
{
	start_connects(arg);
}

/* Connect every reference whose address is known, as the gate allows. */
static void
start_connects(struct mxt_refcheck *rc)
{
	size_t i;

	for (i = 0; i < rc->nrefs; i++) {
		struct ref *r = &rc->refs[i];
		struct mxt_conn_params cp;

		if (!r->ready || r->started || r->finished)
			continue;
		if (!mxt_gate_take(rc->gate, &r->a.addr)) {
			if (!rc->gw.queued)
				mxt_gate_wait(rc->gate, &rc->gw, on_gate, rc);
			return;
		}
		r->took_slot = 1;
		r->started = 1;
		memset(&cp, 0, sizeof(cp));
		cp.loop = rc->loop;
		cp.ssl_ctx = rc->ctx;
		cp.sp = &rc->sp;
		cp.source = rc->source;
		cp.t_connect = rc->t_connect;
		cp.t_banner = cp.t_command = cp.t_tls = cp.t_quit = cp.t_data_end = rc->t_connect;
		/* One connect deadline from now, whatever the gate made us wait. */
		cp.hard_deadline = mxt_now_ms() + rc->t_connect;
		cp.label = "egress check";
		r->conn = mxt_conn_start(&cp, &r->a, NULL, on_conn_done, r);
		if (r->conn == NULL) {
			mxt_gate_give(rc->gate, &r->a.addr);
			r->took_slot = 0;
			r->error = mxt_xstrdup("out of memory");
			ref_finished(r);
		}
	}
}

void
mxt_refcheck_wait(
    struct mxt_refcheck *rc, struct mxt_refcheck_waiter *w, void (*cb)(void *arg), void *arg)
{
	size_t i;

	w->cb = cb;
	w->arg = arg;
	w->queued = 1;
	w->next = rc->waiters;
	rc->waiters = w;
	if (rc->running)
		return;
	/* A recent result is reused; an old one is measured again. */
	if (rc->done_at != 0 && mxt_now_ms() - rc->done_at < MXT_REFCHECK_REUSE_MS) {
		if (!mxt_timer_armed(&rc->later))
			mxt_timer_arm(rc->loop, &rc->later, mxt_now_ms(), on_finish, rc);
		rc->running = 1;
		return;
	}
	reset(rc);
	rc->running = 1;
	rc->measuring = 1;
	rc->pending = rc->nrefs;
	if (rc->nrefs == 0) {
		mxt_timer_arm(rc->loop, &rc->later, mxt_now_ms(), on_finish, rc);
		return;
	}
	for (i = 0; i < rc->nrefs; i++) {
		struct ref *r = &rc->refs[i];

		r->a.port = r->port;
		if (set_addr(r, r->host) == 0) {
			r->ready = 1;
		} else {
			r->resolving = 1;
			mxt_resolver_query(rc->res, r->host, T_A, NULL, on_answer, r);
		}
	}
	start_connects(rc);
}

void
mxt_refcheck_unwait(struct mxt_refcheck *rc, struct mxt_refcheck_waiter *w)
{
	struct mxt_refcheck_waiter **p;

	if (!w->queued)
		return;
	for (p = &rc->waiters; *p != NULL; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->queued = 0;
}

void
mxt_refcheck_copy(const struct mxt_refcheck *rc, struct mxt_target *t)
{
	size_t i;

	if (rc->nrefs == 0)
		return;
	t->egress_refs = mxt_xcalloc(rc->nrefs, sizeof(*t->egress_refs));
	t->negress_refs = rc->nrefs;
	t->egress_refs_builtin = rc->builtin;
	for (i = 0; i < rc->nrefs; i++) {
		const struct ref *r = &rc->refs[i];
		struct mxt_egress_ref *e = &t->egress_refs[i];

		e->host = mxt_xstrdup(r->host);
		e->port = r->port;
		if (r->started)
			snprintf(e->address, sizeof(e->address), "%s", r->a.addr.text);
		e->connect = r->started ? r->a.connect : MXT_CONN_NOT_TRIED;
		e->connect_errno = r->a.connect_errno;
		e->connect_ms = r->a.connect_ms;
		e->error = mxt_xstrdup_or_null(r->error);
	}
}
