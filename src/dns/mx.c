/* SPDX-License-Identifier: MIT */
/*
 * The MX half of the DNS stage: what a compliant MTA does with a domain
 * (RFC 5321 §5.1): MX sorted by preference with equal preferences shuffled,
 * implicit MX when NOERROR/NODATA, null MX (RFC 7505), then A and AAAA of
 * every exchanger, all in flight at once.  Names that are not valid host
 * names, IP literals and aliases are flagged; invalid names are never
 * queried further.  It does not probe and does not judge: flags only.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <ares_dns.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/dns.h"
#include "mxtrace/validate.h"
#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"

struct run {
	struct mxt_resolver *r;
	struct mxt_target *t;
	const struct mxt_config *cfg;
	uint64_t *rng;
	mxt_dns_done_cb *done;
	void *arg;
	int pending;
	int64_t start, end; /* end: the stage's deadline, policies included */
	struct mxt_timer deadline;
	struct mxt_timer later;
	int finished;
	int policy_started; /* mxt_policy_run() holds one reference on pending */
};

struct addrq {
	struct run *run;
	size_t idx;
	int family;
};

static void on_policy(struct mxt_target *t, void *arg);

/* The policies start as soon as the exchangers are known (or at the end
 * when no MX answer named them), so their lookups overlap the address
 * lookups: a TLSA query needs only the MX name. */
static void
start_policy(struct run *run)
{
	if (run->policy_started)
		return;
	run->policy_started = 1;
	run->pending++;
	mxt_policy_run(run->r, run->t, run->cfg, run->end, run->arg, on_policy, run);
}

static void
finish(struct run *run)
{
	struct mxt_target *t = run->t;
	size_t i;

	if (run->finished || run->pending > 0)
		return;
	if (!run->policy_started) {
		start_policy(run);
		return;
	}
	run->finished = 1;
	mxt_timer_cancel(mxt_resolver_loop(run->r), &run->deadline);
	mxt_timer_cancel(mxt_resolver_loop(run->r), &run->later);
	for (i = 0; i < t->dns.nmx; i++) {
		struct mxt_exchanger *x = &t->dns.mx[i];

		if (!mxt_exchanger_usable(x) || (x->flags & MXT_XF_IP_LITERAL))
			continue;
		if (x->q_a.status == MXT_DNS_NXDOMAIN || x->q_aaaa.status == MXT_DNS_NXDOMAIN)
			x->flags |= MXT_XF_NXDOMAIN;
		else if (x->naddrs == 0 &&
		    (x->q_a.status == MXT_DNS_NODATA || x->q_a.status == MXT_DNS_NOT_RUN) &&
		    (x->q_aaaa.status == MXT_DNS_NODATA || x->q_aaaa.status == MXT_DNS_NOT_RUN))
			x->flags |= MXT_XF_NO_ADDRESS;
	}
	mxt_policy_settle_dane(t);
	t->dns.duration_ms = mxt_now_ms() - run->start;
	run->done(t, run->arg);
	free(run);
}

static void
on_policy(struct mxt_target *t, void *arg)
{
	struct run *run = arg;

	run->pending--;
	finish(run);
}

static void
add_address(struct mxt_exchanger *x, int family, const void *addr, uint32_t ttl, int port,
    int allow_loopback)
{
	struct mxt_address *a;

	if (mxt_ip_unusable(family, addr)) { /* mxtrace/validate.h */
		x->flags |= MXT_XF_UNUSABLE_ADDRESS;
		return;
	}
	/* An MX that resolves to loopback makes every sender deliver to
	 * itself; probing it would only test this machine. */
	if (!allow_loopback && mxt_ip_loopback(family, addr)) {
		x->flags |= MXT_XF_LOOPBACK_ADDRESS;
		return;
	}
	/* The cap counts A and AAAA together; the rest is not used, and that
	 * is recorded. */
	if (x->naddrs >= MXT_ADDRS_PER_MX_MAX) {
		x->flags |= MXT_XF_ADDRESS_OVER_LIMIT;
		return;
	}
	x->addrs = mxt_xreallocarray(x->addrs, x->naddrs + 1, sizeof(*x->addrs));
	a = &x->addrs[x->naddrs++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->ttl = ttl;
	inet_ntop(family, addr, a->text, sizeof(a->text));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a->sa;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, addr, 4);
		s->sin_port = htons((uint16_t)port);
		a->salen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->sa;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, addr, 16);
		s->sin6_port = htons((uint16_t)port);
		a->salen = sizeof(*s);
	}
}

/* Number of addresses in a hostent c-ares built from an answer. */
static size_t
hostent_count(const struct hostent *he)
{
	size_t k = 0;

	while (he->h_addr_list != NULL && he->h_addr_list[k] != NULL)
		k++;
	return k;
}

static void
on_addr(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct addrq *aq = arg;
	struct run *run = aq->run;
	struct mxt_exchanger *x = &run->t->dns.mx[aq->idx];
	struct hostent *he = NULL;
	int i, n = MXT_ADDRS_PER_MX_MAX;
	/* --server names the host to probe: the user's choice, loopback or not. */
	int loop_ok = run->cfg->allow_loopback || run->cfg->server != NULL;

	if (st == MXT_DNS_OK) {
		int rc;

		if (aq->family == AF_INET) {
			struct ares_addrttl at[MXT_ADDRS_PER_MX_MAX];

			rc = ares_parse_a_reply(abuf, alen, &he, at, &n);
			for (i = 0; rc == ARES_SUCCESS && i < n; i++)
				add_address(x, AF_INET, &at[i].ipaddr,
				    at[i].ttl < 0 ? 0 : (uint32_t)at[i].ttl, 25, loop_ok);
			if (rc != ARES_SUCCESS)
				x->q_a.status =
				    rc == ARES_ENODATA ? MXT_DNS_NODATA : MXT_DNS_BADRESP;
		} else {
			struct ares_addr6ttl at[MXT_ADDRS_PER_MX_MAX];

			rc = ares_parse_aaaa_reply(abuf, alen, &he, at, &n);
			for (i = 0; rc == ARES_SUCCESS && i < n; i++)
				add_address(x, AF_INET6, &at[i].ip6addr,
				    at[i].ttl < 0 ? 0 : (uint32_t)at[i].ttl, 25, loop_ok);
			if (rc != ARES_SUCCESS)
				x->q_aaaa.status =
				    rc == ARES_ENODATA ? MXT_DNS_NODATA : MXT_DNS_BADRESP;
		}
		/* RFC 5321 §5.1: an MX target must not be an alias. */
		if (he != NULL && he->h_name != NULL && strcasecmp(he->h_name, x->name) != 0 &&
		    x->cname == NULL) {
			x->flags |= MXT_XF_CNAME;
			x->cname = mxt_xstrdup(he->h_name);
		}
		/* c-ares returns at most n address/TTL pairs; the hostent holds
		 * every address of the answer. */
		if (he != NULL && rc == ARES_SUCCESS && hostent_count(he) > (size_t)n)
			x->flags |= MXT_XF_ADDRESS_OVER_LIMIT;
		if (he != NULL)
			ares_free_hostent(he);
	}
	free(aq);
	run->pending--;
	finish(run);
}

/* Ask A and AAAA of every usable exchanger at once.  The caller holds a
 * reference on run->pending across the call, so no answer can finish the
 * run while queries are still being sent. */
static void
query_addresses(struct run *run)
{
	const struct mxt_config *cfg = run->cfg;
	size_t i;

	for (i = 0; i < run->t->dns.nmx; i++) {
		struct mxt_exchanger *x = &run->t->dns.mx[i];
		int fam;

		if (!mxt_exchanger_usable(x) || (x->flags & MXT_XF_IP_LITERAL))
			continue;
		for (fam = 0; fam < 2; fam++) {
			struct addrq *aq;
			int af = fam == 0 ? AF_INET : AF_INET6;

			if ((af == AF_INET && cfg->family == MXT_FAMILY_V6) ||
			    (af == AF_INET6 && cfg->family == MXT_FAMILY_V4))
				continue;
			aq = mxt_xcalloc(1, sizeof(*aq));
			aq->run = run;
			aq->idx = i;
			aq->family = af;
			run->pending++;
			mxt_resolver_query_for(run->r, run, run->arg, x->name,
			    af == AF_INET ? T_A : T_AAAA, af == AF_INET ? &x->q_a : &x->q_aaaa,
			    on_addr, aq);
		}
	}
}

/* Is s an IPv4 or IPv6 address written as a name? */
static int
is_ip_literal(const char *s)
{
	unsigned char b[16];
	char tmp[64];
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n + 1);
	if (tmp[n - 1] == '.')
		tmp[n - 1] = '\0';
	return inet_pton(AF_INET, tmp, b) == 1 || inet_pton(AF_INET6, tmp, b) == 1;
}

struct mxsort {
	int pref;
	uint64_t key;
	char *host;
};

/* Canonical order first (preference, then name), so the shuffle depends
 * only on the seed, not on the order the resolver returned. */
static int
mxsort_name_cmp(const void *a, const void *b)
{
	const struct mxsort *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcasecmp(x->host ? x->host : "", y->host ? y->host : "");
}

static int
mxsort_cmp(const void *a, const void *b)
{
	const struct mxsort *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static struct mxt_exchanger *
add_exchanger(struct mxt_target *t, const char *name, int pref)
{
	struct mxt_exchanger *x = mxt_dns_add_exchanger(&t->dns);
	size_t n;

	if (x == NULL)
		return NULL;
	x->name = mxt_xstrdup(name);
	n = strlen(x->name);
	if (n > 1 && x->name[n - 1] == '.')
		x->name[n - 1] = '\0';
	x->preference = pref;
	return x;
}

static void
on_mx(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct run *run = arg;
	struct mxt_target *t = run->t;
	struct mxt_mx_answer ans;
	struct mxsort *v = NULL;
	size_t n = 0, i, nnull = 0;

	memset(&ans, 0, sizeof(ans));
	/* This query's reference on run->pending is released at the end, after
	 * the address queries are out. */
	if (st == MXT_DNS_OK) {
		/* RFC 5321 §5.1: follow the CNAME chain; only MX records of its
		 * end count, and none of them is NODATA (implicit MX). */
		int rc = mxt_mx_answer_parse(abuf, alen, t->domain, &ans);

		if (rc == ARES_ENODATA) {
			st = MXT_DNS_NODATA;
			t->dns.q_mx.status = st;
		} else if (rc != ARES_SUCCESS) {
			t->dns.q_mx.status = MXT_DNS_BADRESP;
			st = MXT_DNS_BADRESP;
		}
	}
	if (st == MXT_DNS_OK) {
		n = ans.nmx;
		v = mxt_xcalloc(n ? n : 1, sizeof(*v));
		for (i = 0; i < n; i++) {
			v[i].pref = ans.mx[i].pref;
			v[i].host = ans.mx[i].host;
		}
		qsort(v, n, sizeof(*v), mxsort_name_cmp);
		for (i = 0; i < n; i++)
			v[i].key = mxt_rand_next(run->rng);
		/* RFC 5321 §5.1: by preference, equal ones in random order. */
		qsort(v, n, sizeof(*v), mxsort_cmp);
		for (i = 0; i < n; i++) {
			struct mxt_exchanger *x;
			int null = v[i].host == NULL || v[i].host[0] == '\0' ||
			    strcmp(v[i].host, ".") == 0;

			/* The same host twice (at the same or a worse preference)
			 * is one exchanger, as in Postfix. */
			if (!null && i > 0) {
				size_t k;
				int dup = 0;

				for (k = 0; k < t->dns.nmx && !dup; k++)
					dup = t->dns.mx[k].name != NULL &&
					    strcasecmp(t->dns.mx[k].name, v[i].host) == 0;
				if (dup)
					continue;
			}
			x = add_exchanger(t, null ? "." : v[i].host, v[i].pref);
			if (x == NULL)
				continue;
			if (null) {
				x->flags |= MXT_XF_NULL;
				nnull++;
			} else if (is_ip_literal(x->name)) {
				x->flags |= MXT_XF_IP_LITERAL;
			} else if (!mxt_valid_hostname(x->name)) {
				x->flags |= MXT_XF_INVALID_NAME;
			}
			if (t->dns.nmx > MXT_MX_MAX)
				x->flags |= MXT_XF_OVER_LIMIT;
		}
		free(v);
		if (nnull > 0) {
			/* RFC 7505 §3: a null MX means no mail, whatever else is
			 * there (Postfix treats a mixed set as null MX too). */
			t->dns.source = MXT_MX_SOURCE_NULL;
			t->dns.null_mx_mixed = nnull < n;
		} else {
			t->dns.source = MXT_MX_SOURCE_MX;
			query_addresses(run);
		}
	} else if (st == MXT_DNS_NODATA) {
		/* RFC 5321 §5.1: no MX, the domain itself is the implicit MX. */
		t->dns.source = MXT_MX_SOURCE_IMPLICIT;
		if (add_exchanger(t, t->domain, 0) != NULL)
			query_addresses(run);
	} else {
		t->dns.source = MXT_MX_SOURCE_NONE;
	}
	mxt_mx_answer_free(&ans);
	start_policy(run);
	run->pending--;
	finish(run);
}

static void
on_deadline(struct mxt_loop *loop, void *arg)
{
	struct run *run = arg;

	/* Every callback of this run runs now with MXT_DNS_TIMEOUT; finish()
	 * follows.  Other targets' queries on the shared channel go on. */
	mxt_resolver_cancel_tag(run->r, run);
}

static void
on_immediate(struct mxt_loop *loop, void *arg)
{
	struct run *run = arg;

	run->pending--;
	finish(run);
}

int64_t
mxt_dns_deadline(const struct mxt_config *cfg, int64_t start, int64_t hard)
{
	/* MXT_DNS_DEADLINE_MS, or longer when the user asked for long DNS
	 * timeouts; never past the run's overall deadline. */
	int64_t d = (int64_t)cfg->dns_timeout_ms * (cfg->dns_tries > 0 ? cfg->dns_tries : 1) + 1000;

	if (d < MXT_DNS_DEADLINE_MS)
		d = MXT_DNS_DEADLINE_MS;
	return hard > 0 && start + d > hard ? hard : start + d;
}

int
mxt_dns_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    uint64_t *rng, int64_t hard, mxt_dns_done_cb *done, void *arg)
{
	struct run *run = mxt_xcalloc(1, sizeof(*run));

	run->r = r;
	run->t = t;
	run->cfg = cfg;
	run->rng = rng;
	run->done = done;
	run->arg = arg;
	run->start = mxt_now_ms();
	free(t->dns.resolver);
	t->dns.resolver = mxt_resolver_servers(r);
	run->end = mxt_dns_deadline(cfg, run->start, hard);
	mxt_timer_arm(mxt_resolver_loop(r), &run->deadline, run->end, on_deadline, run);
	if (cfg->server != NULL) {
		struct mxt_exchanger *x;
		unsigned char b[16];

		t->dns.source = MXT_MX_SOURCE_SERVER;
		x = add_exchanger(t, cfg->server, 0);
		if (x == NULL) {
			mxt_timer_cancel(mxt_resolver_loop(r), &run->deadline);
			free(run);
			return -1;
		}
		if (inet_pton(AF_INET, x->name, b) == 1)
			add_address(x, AF_INET, b, 0, 25, 1);
		else if (inet_pton(AF_INET6, x->name, b) == 1)
			add_address(x, AF_INET6, b, 0, 25, 1);
		else
			query_addresses(run);
		if (run->pending == 0) /* an address: nothing to ask, finish from the loop */
			mxt_timer_arm(
			    mxt_resolver_loop(r), &run->deadline, run->start, on_immediate, run);
		return 0;
	}
	run->pending++;
	mxt_resolver_query_for(r, run, arg, t->domain, T_MX, &t->dns.q_mx, on_mx, run);
	return 0;
}
