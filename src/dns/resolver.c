/* SPDX-License-Identifier: MIT */
/*
 * The c-ares channel on the event loop: sockets are registered through the
 * socket-state callback (no fd_set, so fds above FD_SETSIZE work: c-ares'
 * ares_fds() would not), c-ares' own timeouts run on one loop timer.  It maps c-ares status
 * codes onto the record's DNS outcomes and times every query.  Every query
 * carries the AD bit (RFC 6840 §5.7) so a validating resolver says whether
 * it authenticated the answer; the bit of the answer is recorded, not
 * checked (mxtrace trusts the resolver, as Postfix does).  It paces the
 * queries: at most MXT_DNS_OUTSTANDING_MAX (mxtrace/limits.h) are at the
 * resolver at once, over every target; the others wait in order and start
 * as answers come, so a batch of thousands of targets neither floods a
 * shared resolver nor loses answers to a full socket buffer.  A waiting
 * query is cancelled like a sent one (by its stage's deadline, by its
 * owner's cancellation).  It does not interpret answers.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <ares_dns.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/dns.h"
#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/xalloc.h"
#include "mxtrace/validate.h"

/* RFC 4035 §3.2.3 / RFC 6840 §5.7: the AD flag, bit 0x20 of the fourth
 * header octet (c-ares 1.18 counts it in its three-bit "Z" field). */
#define HEADER_AD(h) (((h)[3] >> 5) & 0x1)
#define HEADER_SET_AD(h) ((h)[3] |= 0x20)

/* Pacing counters, for the -v summary. */
struct pace_stats {
	size_t asked;  /* queries asked */
	size_t queued; /* had to wait for a slot */
	size_t peak;   /* most at the resolver at once */
};

struct mxt_resolver {
	struct mxt_loop *loop;
	ares_channel ch;
	struct mxt_timer timer;
	int inited;
	int in_query;		   /* inside ares_send(): callbacks must wait for the loop */
	int closing;		   /* mxt_resolver_free(): nothing more is sent */
	struct qctx *live;	   /* queries whose callback has not run yet */
	struct qctx *wait, *wlast; /* not sent yet, oldest first */
	const void *cancelling;	   /* mxt_resolver_cancel_owner() is ending this owner */
	size_t max_out;		   /* queries at the resolver at once */
	size_t out;		   /* handed to c-ares, its callback not run (orphans too) */
	size_t orphans;		   /* cancelled queries c-ares still retries */
	struct pace_stats st;
	struct mxt_timer reap;
};

struct qctx {
	struct mxt_resolver *r;
	struct qctx *prev, *next;   /* in r->live while the callback is owed */
	struct qctx *wprev, *wnext; /* in r->wait until sent */
	const void *tag;	    /* the stage that asked (mxt_resolver_cancel_tag) */
	const void *owner;	    /* the run it serves (mxt_resolver_cancel_owner) */
	int waiting;		    /* in r->wait, qbuf not handed to c-ares yet */
	int cancelled;		    /* callback already run: c-ares' answer is dropped */
	unsigned char *qbuf;	    /* the query, built at once, sent when a slot frees */
	int qlen;
	struct mxt_timer later; /* delivers an answer c-ares gave inside ares_query() */
	enum mxt_dns_status deferred;
	struct mxt_dns_query *q;
	int64_t start;
	int type;
	mxt_query_cb *cb;
	void *arg;
};

static void arm_timer(struct mxt_resolver *r);
static void deliver(
    struct qctx *c, enum mxt_dns_status s, const unsigned char *abuf, int alen, int free_it);

static void
on_io(struct mxt_loop *loop, int fd, unsigned ev, void *arg)
{
	struct mxt_resolver *r = arg;

	ares_process_fd(r->ch, (ev & (MXT_EV_READ | MXT_EV_ERROR)) ? fd : ARES_SOCKET_BAD,
	    (ev & MXT_EV_WRITE) ? fd : ARES_SOCKET_BAD);
	arm_timer(r);
}

static void
on_timer(struct mxt_loop *loop, void *arg)
{
	struct mxt_resolver *r = arg;

	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(r);
}

/* Keep one loop timer at c-ares' next timeout, or none when idle. */
static void
arm_timer(struct mxt_resolver *r)
{
	struct timeval tv, *tp;

	tp = ares_timeout(r->ch, NULL, &tv);
	if (tp == NULL) {
		mxt_timer_cancel(r->loop, &r->timer);
		return;
	}
	mxt_timer_arm(r->loop, &r->timer,
	    mxt_now_ms() + (int64_t)tp->tv_sec * 1000 + tp->tv_usec / 1000 + 1, on_timer, r);
}

static void
sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct mxt_resolver *r = data;
	unsigned ev = (readable ? MXT_EV_READ : 0) | (writable ? MXT_EV_WRITE : 0);

	if (ev == 0)
		mxt_loop_unwatch(r->loop, fd);
	else
		mxt_loop_watch(r->loop, fd, ev, on_io, r);
}

struct mxt_resolver *
mxt_resolver_new(struct mxt_loop *loop, const struct mxt_config *cfg, char *err, size_t errlen)
{
	struct mxt_resolver *r;
	struct ares_options o;
	int st,
	    mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
	    ARES_OPT_SOCK_RCVBUF;

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares initialisation failed");
		return NULL;
	}
	r = mxt_xcalloc(1, sizeof(*r));
	r->loop = loop;
	r->max_out = MXT_DNS_OUTSTANDING_MAX;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = r;
	o.timeout = cfg->dns_timeout_ms > 0 ? cfg->dns_timeout_ms : 2000;
	o.tries = cfg->dns_tries > 0 ? cfg->dns_tries : 2;
	/* c-ares 1.18.1 turns a SERVFAIL/REFUSED answer into ECONNREFUSED
	 * after skipping the server (its initial error_status): take the
	 * answer as it is so those outcomes stay apart. */
	o.flags = ARES_FLAG_NOCHECKRESP;
	/* A burst of answers must not overflow the socket: c-ares 1.18 sets
	 * SO_RCVBUF on every socket it opens (the kernel caps the size at
	 * net.core.rmem_max). */
	o.socket_receive_buffer_size = MXT_DNS_RCVBUF;
	st = ares_init_options(&r->ch, &o, mask);
	if (st != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot set up the resolver: %s", ares_strerror(st));
		free(r);
		return NULL;
	}
	r->inited = 1;
	if (cfg->resolver != NULL) {
		st = ares_set_servers_ports_csv(r->ch, cfg->resolver);
		if (st != ARES_SUCCESS) {
			snprintf(err, errlen, "bad --resolver '%s': %s", cfg->resolver,
			    ares_strerror(st));
			mxt_resolver_free(r);
			return NULL;
		}
	}
	return r;
}

void
mxt_resolver_free(struct mxt_resolver *r)
{
	if (r == NULL)
		return;
	if (r->st.queued > 0)
		mxt_log(1,
		    "resolver: %zu queries, %zu waited for a slot (at most %zu at once, limit %zu)",
		    r->st.asked, r->st.queued, r->st.peak, r->max_out);
	r->closing = 1;
	/* Queries still waiting never go out: their callbacks run now (and
	 * what those ask waits too, to be answered the same way). */
	while (r->wait != NULL)
		deliver(r->wait, MXT_DNS_TIMEOUT, NULL, 0, 1);
	if (r->inited) {
		ares_destroy(r->ch);
		ares_library_cleanup();
	}
	while (r->wait != NULL)
		deliver(r->wait, MXT_DNS_TIMEOUT, NULL, 0, 1);
	mxt_timer_cancel(r->loop, &r->timer);
	mxt_timer_cancel(r->loop, &r->reap);
	free(r);
}

struct mxt_loop *
mxt_resolver_loop(struct mxt_resolver *r)
{
	return r->loop;
}

char *
mxt_resolver_servers(struct mxt_resolver *r)
{
	struct ares_addr_port_node *servers = NULL, *s;
	char buf[512];
	size_t off = 0;

	if (ares_get_servers_ports(r->ch, &servers) != ARES_SUCCESS)
		return mxt_xstrdup("");
	buf[0] = '\0';
	for (s = servers; s != NULL && off < sizeof(buf) - 64; s = s->next) {
		char a[INET6_ADDRSTRLEN];
		int port = s->udp_port ? s->udp_port : 53;

		inet_ntop(s->family, &s->addr, a, sizeof(a));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    s->family == AF_INET6 ? "%s[%s]:%d" : "%s%s:%d", off ? "," : "", a, port);
	}
	ares_free_data(servers);
	return mxt_xstrdup(buf);
}

/* Smallest TTL of the answer RRs of type `type`; 0 if none.  A bounded walk
 * of the message (c-ares 1.18 parsers do not report MX TTLs). */
static uint32_t
answer_ttl(const unsigned char *abuf, int alen, int type)
{
	const unsigned char *p;
	int qd, an, i;
	uint32_t best = 0;

	if (abuf == NULL || alen < HFIXEDSZ)
		return 0;
	qd = DNS_HEADER_QDCOUNT(abuf);
	an = DNS_HEADER_ANCOUNT(abuf);
	p = abuf + HFIXEDSZ;
	for (i = 0; i < qd; i++) {
		char *name;
		long len;

		if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS)
			return 0;
		ares_free_string(name);
		p += len + QFIXEDSZ;
		if (p > abuf + alen)
			return 0;
	}
	for (i = 0; i < an; i++) {
		char *name;
		long len;
		int rtype, rdlen;
		uint32_t ttl;

		if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS)
			return best;
		ares_free_string(name);
		p += len;
		if (p + RRFIXEDSZ > abuf + alen)
			return best;
		rtype = DNS_RR_TYPE(p);
		ttl = (uint32_t)DNS_RR_TTL(p);
		if (ttl & 0x80000000u) /* RFC 2181 §8: the top bit set means 0 */
			ttl = 0;
		rdlen = DNS_RR_LEN(p);
		p += RRFIXEDSZ + rdlen;
		if (p > abuf + alen)
			return best;
		if (rtype == type && (best == 0 || ttl < best))
			best = ttl;
	}
	return best;
}

/* Map a c-ares status onto the record's outcomes. */
static enum mxt_dns_status
map_status(int st)
{
	switch (st) {
	case ARES_SUCCESS:
		return MXT_DNS_OK;
	case ARES_ENODATA:
		return MXT_DNS_NODATA;
	case ARES_ENOTFOUND:
		return MXT_DNS_NXDOMAIN;
	case ARES_ESERVFAIL:
		return MXT_DNS_SERVFAIL;
	case ARES_EREFUSED:
		return MXT_DNS_REFUSED;
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return MXT_DNS_TIMEOUT;
	case ARES_ECONNREFUSED:
		return MXT_DNS_UNREACHABLE;
	case ARES_EBADRESP:
	case ARES_EFORMERR:
	case ARES_EBADNAME:
		return MXT_DNS_BADRESP;
	default:
		return MXT_DNS_ERROR;
	}
}

static void
unlink_live(struct qctx *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (c->r->live == c)
		c->r->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void
unlink_wait(struct qctx *c)
{
	struct mxt_resolver *r = c->r;

	if (c->wprev != NULL)
		c->wprev->wnext = c->wnext;
	else
		r->wait = c->wnext;
	if (c->wnext != NULL)
		c->wnext->wprev = c->wprev;
	else
		r->wlast = c->wprev;
	c->wprev = c->wnext = NULL;
	c->waiting = 0;
}

/* Run the caller's callback once.  free_it: c-ares is done with c too. */
static void
deliver(struct qctx *c, enum mxt_dns_status s, const unsigned char *abuf, int alen, int free_it)
{
	unlink_live(c);
	if (c->waiting) { /* never sent: nobody else holds c */
		unlink_wait(c);
		free_it = 1;
	}
	if (c->qbuf != NULL) {
		ares_free_string(c->qbuf);
		c->qbuf = NULL;
	}
	if (c->q != NULL) {
		c->q->status = s;
		c->q->duration_ms = mxt_now_ms() - c->start;
		if (s == MXT_DNS_OK)
			c->q->ttl = answer_ttl(abuf, alen, c->type);
	}
	c->cb(c->arg, s, s == MXT_DNS_OK ? abuf : NULL, s == MXT_DNS_OK ? alen : 0);
	if (free_it) {
		free(c);
	} else {
		c->cancelled = 1; /* c-ares still holds c: freed in on_answer */
		c->r->orphans++;
	}
}

static void on_answer(void *arg, int st, int timeouts, unsigned char *abuf, int alen);

/* Hand c's query to c-ares (a slot is free). */
static void
send_now(struct qctx *c)
{
	struct mxt_resolver *r = c->r;
	unsigned char *qbuf = c->qbuf;
	int saved = r->in_query;

	c->qbuf = NULL;
	c->start = mxt_now_ms(); /* the query's own time, not its wait */
	r->out++;
	if (r->out > r->st.peak)
		r->st.peak = r->out;
	r->in_query = 1;
	ares_send(r->ch, qbuf, c->qlen, on_answer, c);
	r->in_query = saved;
	ares_free_string(qbuf);
}

/* Start waiting queries, oldest first, while slots are free. */
static void
pump(struct mxt_resolver *r)
{
	int sent = 0;

	while (!r->closing && r->wait != NULL && r->out < r->max_out &&
	    (r->cancelling == NULL || r->wait->owner != r->cancelling)) {
		struct qctx *c = r->wait;

		unlink_wait(c);
		send_now(c);
		sent = 1;
	}
	if (sent)
		arm_timer(r);
}

/* Nobody waits for the answers c-ares still retries: stop it (from the
 * loop: not inside a c-ares callback), which frees their slots too. */
static void
on_reap(struct mxt_loop *loop, void *arg)
{
	struct mxt_resolver *r = arg;

	if (r->orphans > 0 && r->out == r->orphans)
		ares_cancel(r->ch);
	pump(r);
	arm_timer(r);
}

static void
maybe_reap(struct mxt_resolver *r)
{
	if (r->orphans > 0 && r->out == r->orphans)
		mxt_timer_arm(r->loop, &r->reap, mxt_now_ms(), on_reap, r);
}

static void
on_later(struct mxt_loop *loop, void *arg)
{
	struct qctx *c = arg;
	struct mxt_resolver *r = c->r;

	deliver(c, c->deferred, NULL, 0, 1);
	maybe_reap(r);
}

/* What ares_query() would say about an answer ares_send() hands over as
 * is (ARES_FLAG_NOCHECKRESP): the RCODE, or no answer records. */
static int
rcode_status(const unsigned char *abuf, int alen)
{
	if (abuf == NULL || alen < HFIXEDSZ)
		return ARES_EBADRESP;
	switch (DNS_HEADER_RCODE(abuf)) {
	case NOERROR:
		return DNS_HEADER_ANCOUNT(abuf) == 0 ? ARES_ENODATA : ARES_SUCCESS;
	case FORMERR:
		return ARES_EFORMERR;
	case SERVFAIL:
		return ARES_ESERVFAIL;
	case NXDOMAIN:
		return ARES_ENOTFOUND;
	case NOTIMP:
		return ARES_ENOTIMP;
	case REFUSED:
		return ARES_EREFUSED;
	default:
		return ARES_EBADRESP;
	}
}

/* c-ares is done with a query (one call per ares_send()): its slot frees. */
static void
on_answer(void *arg, int st, int timeouts, unsigned char *abuf, int alen)
{
	struct qctx *c = arg;
	struct mxt_resolver *r = c->r;
	enum mxt_dns_status s;

	r->out--;
	if (c->cancelled) { /* cancelled: its callback ran already */
		r->orphans--;
		free(c);
		pump(r);
		return;
	}
	if (st == ARES_SUCCESS) {
		/* RFC 4035 §3.2.3: AD in the header of the answer. */
		if (c->q != NULL && abuf != NULL && alen >= HFIXEDSZ)
			c->q->authentic = HEADER_AD(abuf) != 0;
		st = rcode_status(abuf, alen);
	}
	s = map_status(st);
	if (c->q != NULL && s == MXT_DNS_ERROR && c->q->error == NULL)
		c->q->error = mxt_xstrdup(ares_strerror(st));
	if (r->in_query) {
		/* c-ares failed at once (no socket, no memory): the promise is
		 * that callbacks run from the loop, never inside the caller. */
		c->deferred = s == MXT_DNS_OK ? MXT_DNS_ERROR : s;
		mxt_timer_arm(r->loop, &c->later, mxt_now_ms(), on_later, c);
		return;
	}
	deliver(c, s, abuf, alen, 1);
	pump(r);
	maybe_reap(r);
}

void
mxt_resolver_query(struct mxt_resolver *r, const char *name, int type, struct mxt_dns_query *q,
    mxt_query_cb *cb, void *arg)
{
	mxt_resolver_query_for(r, NULL, NULL, name, type, q, cb, arg);
}

void
mxt_resolver_query_tag(struct mxt_resolver *r, const void *tag, const char *name, int type,
    struct mxt_dns_query *q, mxt_query_cb *cb, void *arg)
{
	mxt_resolver_query_for(r, tag, NULL, name, type, q, cb, arg);
}

void
mxt_resolver_query_for(struct mxt_resolver *r, const void *tag, const void *owner, const char *name,
    int type, struct mxt_dns_query *q, mxt_query_cb *cb, void *arg)
{
	/* Never NULL (out of memory aborts), so cb is never called from
	 * here: every answer, even an immediate failure, comes from the loop. */
	struct qctx *c = mxt_xcalloc(1, sizeof(*c));
	int st;

	c->r = r;
	c->q = q;
	c->start = mxt_now_ms();
	c->type = type;
	c->cb = cb;
	c->arg = arg;
	c->tag = tag;
	c->owner = owner;
	c->next = r->live;
	if (r->live != NULL)
		r->live->prev = c;
	r->live = c;
	r->st.asked++;
	/* ares_query() cannot set AD (c-ares 1.18): build the query, set the
	 * bit (RFC 6840 §5.7), send it as is.  ares_send() picks its own id. */
	st = ares_create_query(name, 1 /* C_IN */, type, 0, 1, &c->qbuf, &c->qlen, 0);
	if (st != ARES_SUCCESS) {
		c->qbuf = NULL;
		c->deferred = map_status(st);
		if (c->q != NULL && c->deferred == MXT_DNS_ERROR && c->q->error == NULL)
			c->q->error = mxt_xstrdup(ares_strerror(st));
		mxt_timer_arm(r->loop, &c->later, mxt_now_ms(), on_later, c);
		return;
	}
	HEADER_SET_AD(c->qbuf);
	if (r->wait == NULL && r->out < r->max_out && !r->closing &&
	    (owner == NULL || owner != r->cancelling)) {
		send_now(c);
		arm_timer(r);
		return;
	}
	/* Wait for a slot, in order; the stage's deadline and the owner's
	 * cancellation reach it there too. */
	c->waiting = 1;
	c->wprev = r->wlast;
	if (r->wlast != NULL)
		r->wlast->wnext = c;
	else
		r->wait = c;
	r->wlast = c;
	r->st.queued++;
}

int
mxt_resolver_loopback(struct mxt_resolver *r)
{
	struct ares_addr_port_node *servers = NULL, *s;
	int n = 0, lo = 0;

	if (ares_get_servers_ports(r->ch, &servers) != ARES_SUCCESS)
		return 0;
	for (s = servers; s != NULL; s = s->next) {
		n++;
		if (mxt_ip_loopback(s->family, (const unsigned char *)&s->addr))
			lo++;
	}
	ares_free_data(servers);
	return n > 0 && lo == n;
}

void
mxt_resolver_cancel(struct mxt_resolver *r)
{
	ares_cancel(r->ch);
	arm_timer(r);
}

/* Answer the queries of list (linked by next, already out of r->live) now,
 * with MXT_DNS_TIMEOUT. */
static void
answer_now(struct mxt_resolver *r, struct qctx *list)
{
	struct qctx *c, *next;

	for (c = list; c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		if (mxt_timer_armed(&c->later)) {
			/* Failed at once: c-ares is done with it. */
			mxt_timer_cancel(r->loop, &c->later);
			deliver(c, MXT_DNS_TIMEOUT, NULL, 0, 1);
		} else {
			/* Sent: c-ares still holds it.  Waiting: freed. */
			deliver(c, MXT_DNS_TIMEOUT, NULL, 0, 0);
		}
	}
}

/* Take the live queries matching tag or owner (whichever is non-NULL) out
 * of r->live into a private list: callbacks may add queries meanwhile. */
static struct qctx *
take(struct mxt_resolver *r, const void *tag, const void *owner)
{
	struct qctx *c, *next, *mine = NULL;

	for (c = r->live; c != NULL; c = next) {
		next = c->next;
		if (tag != NULL ? c->tag != tag : c->owner != owner)
			continue;
		unlink_live(c);
		c->next = mine;
		mine = c;
	}
	return mine;
}

/* One stage's deadline must not cut the queries of other targets sharing
 * the channel: answer only the queries tagged tag, with MXT_DNS_TIMEOUT,
 * and drop c-ares' answer when it comes.  Queries the callbacks start are
 * not cancelled (they carry their own c-ares timeout and stage deadline). */
void
mxt_resolver_cancel_tag(struct mxt_resolver *r, const void *tag)
{
	if (tag == NULL)
		return;
	answer_now(r, take(r, tag, NULL));
	pump(r);
	maybe_reap(r);
}

/* A run is cancelled: answer its queries now, sent or waiting, and the
 * ones their callbacks start while it ends (those are never sent). */
void
mxt_resolver_cancel_owner(struct mxt_resolver *r, const void *owner)
{
	const void *saved = r->cancelling;
	struct qctx *mine;
	int rounds = 0;

	if (owner == NULL)
		return;
	r->cancelling = owner;
	/* Each round answers what the previous one's callbacks asked; a stage
	 * asks a bounded number of follow-up queries, the cap is a backstop. */
	while ((mine = take(r, NULL, owner)) != NULL && rounds++ < 64)
		answer_now(r, mine);
	if (mine != NULL)
		answer_now(r, mine);
	r->cancelling = saved;
	pump(r);
	maybe_reap(r);
}

/* splitmix64: small, seedable, good enough for shuffling. */
uint64_t
mxt_rand_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
