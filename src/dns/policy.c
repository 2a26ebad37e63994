/* SPDX-License-Identifier: MIT */
/*
 * The policy half of the DNS stage, run as soon as the exchangers' names
 * are known, alongside their address lookups (mx.c): what a sender
 * enforcing a transport security policy looks up before it connects.
 *   - DANE (RFC 7672 §2.2): for each exchanger whose MX answer and address
 *     answers the resolver marked authentic (AD), the TLSA records at
 *     _25._tcp.<exchanger>.  Insecure exchangers are asked too, marked
 *     insecure: their records are reported, never used.
 *   - MTA-STS (RFC 8461 §3): the _mta-sts TXT record, the address of
 *     mta-sts.<domain> (c-ares), then the policy over HTTPS (src/net/https.c,
 *     addresses handed to libcurl) when the TXT record is valid.
 *   - TLS-RPT (RFC 8460 §3): the _smtp._tls TXT record.
 * Everything runs at once on the loop, within the DNS stage's deadline
 * (queries still out then end as timeouts, the policy fetch is given only
 * the time left), and every query is asked on behalf of the run, so that
 * cancelling the run ends them too.  It records answers and parses them
 * (mxtrace/tlspolicy.h); the report stage judges them.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/dns.h"
#include "mxtrace/https.h"
#include "mxtrace/tlspolicy.h"
#include "mxtrace/xalloc.h"
#include "mxtrace/validate.h"

#ifndef T_TLSA
#define T_TLSA 52
#endif

struct pol {
	struct mxt_resolver *r;
	struct mxt_target *t;
	const struct mxt_config *cfg;
	mxt_dns_done_cb *done;
	void *arg;
	void *owner;	 /* whose queries these are (mxt_resolver_cancel_owner) */
	int pending;	 /* queries and the fetch in flight */
	int sts_waiting; /* _mta-sts TXT, A, AAAA of the policy host */
	char *addrs;	 /* the policy host's addresses, for curl */
	struct mxt_timer later, deadline;
	int64_t start, end; /* end: the DNS stage's deadline */
};

struct tlsaq {
	struct pol *p;
	size_t idx;
};

static void
release(struct pol *p)
{
	if (--p->pending > 0)
		return;
	mxt_timer_cancel(mxt_resolver_loop(p->r), &p->deadline);
	free(p->addrs);
	p->done(p->t, p->arg);
	free(p);
}

static void
on_nothing(struct mxt_loop *loop, void *arg)
{
	release(arg);
}

/* ---- DANE ---- */

/* RFC 7672 §2.2.1, §2.2.2: DANE applies only when the MX RRset and the
 * exchanger's address records are all secure.  A NODATA answer with AD is
 * a proven absence and counts as secure. */
static int
dane_eligible(const struct mxt_target *t, const struct mxt_exchanger *x)
{
	const struct mxt_dns_query *q[2] = {&x->q_a, &x->q_aaaa};
	int i, asked = 0;

	if (t->dns.source == MXT_MX_SOURCE_MX && !t->dns.q_mx.authentic)
		return 0;
	for (i = 0; i < 2; i++) {
		if (q[i]->status == MXT_DNS_NOT_RUN)
			continue;
		if (q[i]->status != MXT_DNS_OK && q[i]->status != MXT_DNS_NODATA)
			return 0;
		if (!q[i]->authentic)
			return 0;
		asked++;
	}
	return asked > 0 && x->naddrs > 0;
}

static void
on_tlsa(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct tlsaq *q = arg;
	struct mxt_exchanger *x = &q->p->t->dns.mx[q->idx];

	if (st == MXT_DNS_OK && mxt_tlsa_parse(abuf, (size_t)alen, &x->tlsa, &x->ntlsa) < 0)
		x->q_tlsa.status = MXT_DNS_BADRESP;
	else if (st == MXT_DNS_OK && x->ntlsa == 0)
		x->q_tlsa.status = MXT_DNS_NODATA; /* e.g. only a CNAME */
	release(q->p);
	free(q);
}

static void
start_dane(struct pol *p)
{
	struct mxt_target *t = p->t;
	size_t i;

	if (t->dns.source == MXT_MX_SOURCE_NULL || t->dns.source == MXT_MX_SOURCE_NONE)
		return;
	for (i = 0; i < t->dns.nmx; i++) {
		struct mxt_exchanger *x = &t->dns.mx[i];
		struct tlsaq *q;
		char name[300];

		if (!mxt_exchanger_usable(x) || (x->flags & MXT_XF_IP_LITERAL))
			continue;
		/* RFC 7672 §2.2.3: the TLSA base domain is the MX host name.  An
		 * insecure exchanger is asked too, only to report TLSA records
		 * that no sender can use; they never reach the handshake.  Asked
		 * alongside the address lookups, judged once they are in
		 * (mxt_policy_settle_dane()). */
		snprintf(name, sizeof(name), "_25._tcp.%s", x->name);
		q = mxt_xcalloc(1, sizeof(*q));
		q->p = p;
		q->idx = i;
		p->pending++;
		mxt_resolver_query_for(p->r, p, p->owner, name, T_TLSA, &x->q_tlsa, on_tlsa, q);
	}
}

/* ---- TXT records ---- */

/* The TXT records of an answer (RFC 1035 §3.3.14: a record is one or more
 * character-strings, joined here) that start with prefix: the first in
 * *first (heap, NUL-terminated, may hold NULs: *flen), their count
 * returned. */
static size_t
txt_records(const unsigned char *abuf, int alen, const char *prefix, char **first, size_t *flen)
{
	struct ares_txt_ext *txt = NULL, *c;
	size_t n = 0, plen = strlen(prefix);

	*first = NULL;
	*flen = 0;
	if (ares_parse_txt_reply_ext(abuf, alen, &txt) != ARES_SUCCESS)
		return 0;
	for (c = txt; c != NULL;) {
		struct ares_txt_ext *r = c;
		size_t len = 0;
		char *buf;

		/* A record: this chunk and the following ones without record_start. */
		do {
			len += c->length;
			c = c->next;
		} while (c != NULL && !c->record_start);
		buf = mxt_xmalloc(len + 1);
		len = 0;
		do {
			memcpy(buf + len, r->txt, r->length);
			len += r->length;
			r = r->next;
		} while (r != c);
		buf[len] = '\0';
		if (len >= plen && memcmp(buf, prefix, plen) == 0 &&
		    (len == plen || buf[plen] == ';' || buf[plen] == ' ' || buf[plen] == '\t')) {
			if (n++ == 0) {
				*first = buf;
				*flen = len;
				continue;
			}
		}
		free(buf);
	}
	ares_free_data(txt);
	return n;
}

static void
on_tlsrpt(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct pol *p = arg;
	struct mxt_tlsrpt *r = &p->t->tlsrpt;

	if (st == MXT_DNS_OK) {
		size_t len;

		r->nrecords = txt_records(abuf, alen, "v=TLSRPTv1", &r->txt, &len);
		/* RFC 8460 §3: more than one record means none. */
		if (r->nrecords == 1)
			mxt_tlsrpt_parse(r->txt, len, r);
		else if (r->nrecords > 1)
			r->error = mxt_xstrdup("more than one v=TLSRPTv1 record");
	}
	release(p);
}

/* ---- MTA-STS ---- */

static void
on_policy(void *arg, struct mxt_https_res *res)
{
	struct pol *p = arg;
	struct mxt_sts *s = &p->t->sts;

	s->fetch = res->status;
	s->http_status = res->http_status;
	s->content_type = res->content_type;
	s->fetch_error = res->error;
	s->body = res->body;
	s->body_len = res->body_len;
	s->fetch_ms = res->duration_ms;
	if (s->fetch == MXT_STS_FETCH_OK)
		mxt_sts_policy_parse(s->body != NULL ? s->body : "", s->body_len, s);
	release(p);
}

/* When the TXT record and the host's addresses are in: fetch the policy if
 * the record is valid (RFC 8461 §3.3). */
static void
sts_maybe_fetch(struct pol *p)
{
	struct mxt_sts *s = &p->t->sts;
	struct mxt_https_req req;
	char host[300];
	int64_t left = p->end - mxt_now_ms();

	if (--p->sts_waiting > 0 || !s->txt_valid)
		return;
	if (p->addrs == NULL) {
		s->fetch = MXT_STS_FETCH_NO_HOST;
		return;
	}
	if (left <= 0) { /* the stage's time is up: no fetch can finish */
		s->fetch = MXT_STS_FETCH_TIMEOUT;
		return;
	}
	snprintf(host, sizeof(host), "mta-sts.%s", p->t->domain);
	s->host_addrs = mxt_xstrdup(p->addrs);
	memset(&req, 0, sizeof(req));
	req.host = host;
	req.path = "/.well-known/mta-sts.txt";
	req.addrs = p->addrs;
	req.ca_file = p->cfg->ca_file;
	req.source = p->cfg->source;
	req.timeout_ms = left < MXT_STS_FETCH_MS ? left : MXT_STS_FETCH_MS;
	req.body_max = MXT_STS_BODY_MAX;
	p->pending++;
	mxt_https_get(mxt_resolver_loop(p->r), &req, on_policy, p);
}

static void
on_sts_txt(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct pol *p = arg;
	struct mxt_sts *s = &p->t->sts;

	if (st == MXT_DNS_OK) {
		size_t len;

		s->ntxt = txt_records(abuf, alen, "v=STSv1", &s->txt, &len);
		/* RFC 8461 §3.1: not exactly one v=STSv1 record means no policy. */
		if (s->ntxt == 1)
			s->txt_valid = mxt_sts_txt_parse(s->txt, len, &s->id, &s->txt_error);
		else if (s->ntxt > 1)
			s->txt_error = mxt_xstrdup("more than one v=STSv1 record");
	}
	sts_maybe_fetch(p);
	release(p);
}

static void
add_addr(struct pol *p, int family, const void *a)
{
	char ip[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 2], *n;
	size_t len;

	/* Like the exchangers (mx.c): loopback only with --allow-loopback. */
	if (!p->cfg->allow_loopback && mxt_ip_loopback(family, a))
		return;
	inet_ntop(family, a, ip, sizeof(ip));
	/* CURLOPT_RESOLVE takes IPv6 addresses in brackets. */
	snprintf(text, sizeof(text), family == AF_INET6 ? "[%s]" : "%s", ip);
	len = (p->addrs ? strlen(p->addrs) + 1 : 0) + strlen(text) + 1;
	if (len > 600)
		return;
	n = mxt_xmalloc(len);
	snprintf(n, len, "%s%s%s", p->addrs ? p->addrs : "", p->addrs ? "," : "", text);
	free(p->addrs);
	p->addrs = n;
}

static void
on_sts_host(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen, int family)
{
	struct pol *p = arg;

	if (st == MXT_DNS_OK) {
		struct hostent *he = NULL;
		int rc, i;

		if (family == AF_INET)
			rc = ares_parse_a_reply(abuf, alen, &he, NULL, NULL);
		else
			rc = ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
		for (i = 0; rc == ARES_SUCCESS && he != NULL && he->h_addr_list[i] != NULL && i < 8;
		     i++)
			add_addr(p, family, he->h_addr_list[i]);
		if (he != NULL)
			ares_free_hostent(he);
	}
	sts_maybe_fetch(p);
	release(p);
}

static void
on_sts_a(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	on_sts_host(arg, st, abuf, alen, AF_INET);
}

static void
on_sts_aaaa(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	on_sts_host(arg, st, abuf, alen, AF_INET6);
}

static void
start_sts(struct pol *p)
{
	struct mxt_target *t = p->t;
	char name[300];

	/* --server probes one host, not the domain's exchangers: no policy.
	 * A domain whose MX lookup failed or that takes no mail (RFC 7505) is
	 * not asked either: its policies could not change the verdict, and a
	 * dead resolver must not cost the stage's time twice. */
	if (t->domain == NULL || t->dns.source == MXT_MX_SOURCE_SERVER ||
	    t->dns.source == MXT_MX_SOURCE_NONE || t->dns.source == MXT_MX_SOURCE_NULL)
		return;
	if (!p->cfg->no_mta_sts) {
		t->sts.enabled = 1;
		p->sts_waiting = 1;
		p->pending++;
		snprintf(name, sizeof(name), "_mta-sts.%s", t->domain);
		mxt_resolver_query_for(
		    p->r, p, p->owner, name, T_TXT, &t->sts.q_txt, on_sts_txt, p);
		snprintf(name, sizeof(name), "mta-sts.%s", t->domain);
		if (p->cfg->family != MXT_FAMILY_V6) {
			p->sts_waiting++;
			p->pending++;
			mxt_resolver_query_for(
			    p->r, p, p->owner, name, T_A, &t->sts.q_host_a, on_sts_a, p);
		}
		if (p->cfg->family != MXT_FAMILY_V4) {
			p->sts_waiting++;
			p->pending++;
			mxt_resolver_query_for(
			    p->r, p, p->owner, name, T_AAAA, &t->sts.q_host_aaaa, on_sts_aaaa, p);
		}
		/* RFC 8460 §3: the report address, looked at with MTA-STS. */
		snprintf(name, sizeof(name), "_smtp._tls.%s", t->domain);
		p->pending++;
		mxt_resolver_query_for(
		    p->r, p, p->owner, name, T_TXT, &t->tlsrpt.q_txt, on_tlsrpt, p);
	}
}

/* The DNS stage's deadline: what is still out ends now as a timeout (the
 * callbacks release p); a fetch in flight ends by its own, shorter,
 * timeout. */
static void
on_deadline(struct mxt_loop *loop, void *arg)
{
	struct pol *p = arg;

	mxt_resolver_cancel_tag(p->r, p);
}

void
mxt_policy_settle_dane(struct mxt_target *t)
{
	size_t i, k;

	for (i = 0; i < t->dns.nmx; i++) {
		struct mxt_exchanger *x = &t->dns.mx[i];

		if (x->q_tlsa.status == MXT_DNS_NOT_RUN)
			continue;
		if (x->naddrs == 0) { /* nothing to connect to: no TLSA to report */
			free(x->q_tlsa.error);
			memset(&x->q_tlsa, 0, sizeof(x->q_tlsa));
			for (k = 0; k < x->ntlsa; k++)
				free(x->tlsa[k].data);
			free(x->tlsa);
			x->tlsa = NULL;
			x->ntlsa = 0;
			x->dane = MXT_DANE_LOOKUP_NOT_RUN;
			continue;
		}
		x->dane = dane_eligible(t, x) ? MXT_DANE_LOOKUP_DONE : MXT_DANE_LOOKUP_INSECURE;
	}
}

int
mxt_policy_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    int64_t deadline, void *owner, mxt_dns_done_cb *done, void *arg)
{
	struct pol *p = mxt_xcalloc(1, sizeof(*p));

	p->r = r;
	p->t = t;
	p->cfg = cfg;
	p->done = done;
	p->arg = arg;
	p->owner = owner;
	p->start = mxt_now_ms();
	p->end = deadline;
	p->pending = 1; /* held until every query is out */
	mxt_timer_arm(mxt_resolver_loop(r), &p->deadline, deadline, on_deadline, p);
	t->dns.resolver_loopback = mxt_resolver_loopback(r);
	if (!cfg->no_dane)
		start_dane(p);
	start_sts(p);
	/* Finish from the loop even when nothing was asked. */
	mxt_timer_arm(mxt_resolver_loop(r), &p->later, mxt_now_ms(), on_nothing, p);
	return 0;
}
