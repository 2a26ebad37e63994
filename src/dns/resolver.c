/* SPDX-License-Identifier: MIT */
/*
 * The c-ares channel on the event loop: sockets are registered through the
 * socket-state callback (no fd_set, so fds above FD_SETSIZE work: c-ares'
 * ares_fds() would not), c-ares' own timeouts run on one loop timer.  It maps c-ares status
 * codes onto the record's DNS outcomes and times every query.  It does not
 * interpret answers.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <ares_dns.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/dns.h"
#include "mxtrace/xalloc.h"

struct mxt_resolver {
	struct mxt_loop *loop;
	ares_channel ch;
	struct mxt_timer timer;
	int inited;
	int in_query; /* inside ares_query(): callbacks must wait for the loop */
};

struct qctx {
	struct mxt_resolver *r;
	struct mxt_timer later; /* delivers an answer c-ares gave inside ares_query() */
	enum mxt_dns_status deferred;
	struct mxt_dns_query *q;
	int64_t start;
	int type;
	mxt_query_cb *cb;
	void *arg;
};

static void arm_timer(struct mxt_resolver *r);

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
	    mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares initialisation failed");
		return NULL;
	}
	r = mxt_xcalloc(1, sizeof(*r));
	r->loop = loop;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = r;
	o.timeout = cfg->dns_timeout_ms > 0 ? cfg->dns_timeout_ms : 2000;
	o.tries = cfg->dns_tries > 0 ? cfg->dns_tries : 2;
	/* c-ares 1.18.1 turns a SERVFAIL/REFUSED answer into ECONNREFUSED
	 * after skipping the server (its initial error_status): take the
	 * answer as it is so those outcomes stay apart. */
	o.flags = ARES_FLAG_NOCHECKRESP;
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
	if (r->inited) {
		ares_destroy(r->ch);
		ares_library_cleanup();
	}
	mxt_timer_cancel(r->loop, &r->timer);
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
deliver(struct qctx *c, enum mxt_dns_status s, const unsigned char *abuf, int alen)
{
	if (c->q != NULL) {
		c->q->status = s;
		c->q->duration_ms = mxt_now_ms() - c->start;
		if (s == MXT_DNS_OK)
			c->q->ttl = answer_ttl(abuf, alen, c->type);
	}
	c->cb(c->arg, s, s == MXT_DNS_OK ? abuf : NULL, s == MXT_DNS_OK ? alen : 0);
	free(c);
}

static void
on_later(struct mxt_loop *loop, void *arg)
{
	struct qctx *c = arg;

	deliver(c, c->deferred, NULL, 0);
}

static void
on_answer(void *arg, int st, int timeouts, unsigned char *abuf, int alen)
{
	struct qctx *c = arg;
	enum mxt_dns_status s = map_status(st);

	if (c->q != NULL && s == MXT_DNS_ERROR && c->q->error == NULL)
		c->q->error = mxt_xstrdup(ares_strerror(st));
	if (c->r->in_query) {
		/* c-ares failed at once (no socket, no memory): the promise is
		 * that callbacks run from the loop, never inside the caller. */
		c->deferred = s == MXT_DNS_OK ? MXT_DNS_ERROR : s;
		mxt_timer_arm(c->r->loop, &c->later, mxt_now_ms(), on_later, c);
		return;
	}
	deliver(c, s, abuf, alen);
}

void
mxt_resolver_query(struct mxt_resolver *r, const char *name, int type, struct mxt_dns_query *q,
    mxt_query_cb *cb, void *arg)
{
	/* Never NULL (out of memory aborts), so cb is never called from
	 * here: every answer, even an immediate failure, comes from the loop. */
	struct qctx *c = mxt_xcalloc(1, sizeof(*c));

	c->r = r;
	c->q = q;
	c->start = mxt_now_ms();
	c->type = type;
	c->cb = cb;
	c->arg = arg;
	r->in_query = 1;
	ares_query(r->ch, name, 1 /* C_IN */, type, on_answer, c);
	r->in_query = 0;
	arm_timer(r);
}

void
mxt_resolver_cancel(struct mxt_resolver *r)
{
	ares_cancel(r->ch);
	arm_timer(r);
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
