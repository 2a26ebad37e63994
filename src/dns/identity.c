/* SPDX-License-Identifier: MIT */
/*
 * Who the client is, as receivers see it (RFC 5321 §4.1.4; receivers check
 * the EHLO name and the reverse DNS of the connecting address): the local
 * source address towards the exchangers, the public egress address when
 * known (--egress-ip, or the address a server echoed back: the engine reads
 * that from the replies), its PTR and whether that name resolves back to it
 * (forward-confirmed reverse DNS), and the EHLO name to send.  Queries run
 * concurrently through the resolver.  It does not judge what it finds and
 * reads no SMTP text.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxtrace/dns.h"
#include "mxtrace/validate.h"
#include "mxtrace/xalloc.h"

struct idrun {
	struct mxt_resolver *r;
	struct mxt_target *t;
	int family;
	unsigned char addr[16];
	char *ehlo_lookup; /* name whose resolution we check, or NULL */
	int pending;
	mxt_dns_done_cb *done;
	void *arg;
	struct mxt_timer later, deadline;
	struct mxt_dns_query q_fwd, q_ehlo;
};

static void
id_finish(struct idrun *run)
{
	if (--run->pending > 0)
		return;
	mxt_timer_cancel(mxt_resolver_loop(run->r), &run->deadline);
	free(run->q_fwd.error);
	free(run->q_ehlo.error);
	free(run->ehlo_lookup);
	run->done(run->t, run->arg);
	free(run);
}

/* Does an A/AAAA answer contain addr? */
static int
answer_has(const unsigned char *abuf, int alen, int family, const unsigned char *addr)
{
	int i, n = 16, rc;
	struct hostent *he = NULL;

	if (abuf == NULL)
		return 0;
	if (family == AF_INET) {
		struct ares_addrttl at[16];

		rc = ares_parse_a_reply(abuf, alen, &he, at, &n);
		for (i = 0; rc == ARES_SUCCESS && i < n; i++)
			if (memcmp(&at[i].ipaddr, addr, 4) == 0)
				break;
	} else {
		struct ares_addr6ttl at[16];

		rc = ares_parse_aaaa_reply(abuf, alen, &he, at, &n);
		for (i = 0; rc == ARES_SUCCESS && i < n; i++)
			if (memcmp(&at[i].ip6addr, addr, 16) == 0)
				break;
	}
	if (he != NULL)
		ares_free_hostent(he);
	return rc == ARES_SUCCESS && i < n;
}

static void
on_forward(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct idrun *run = arg;

	run->t->client.fcrdns = st == MXT_DNS_OK && answer_has(abuf, alen, run->family, run->addr);
	id_finish(run);
}

static void
on_ptr(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct idrun *run = arg;
	struct mxt_client *c = &run->t->client;
	struct hostent *he = NULL;

	if (st == MXT_DNS_OK &&
	    ares_parse_ptr_reply(abuf, alen, run->addr, run->family == AF_INET ? 4 : 16,
		run->family, &he) == ARES_SUCCESS &&
	    he != NULL && he->h_name != NULL) {
		free(c->ptr);
		c->ptr = mxt_xstrdup(he->h_name);
	} else if (st == MXT_DNS_OK) {
		c->q_ptr.status = MXT_DNS_BADRESP; /* e.g. a name c-ares refuses */
	}
	if (he != NULL)
		ares_free_hostent(he);
	if (c->ptr != NULL && mxt_valid_hostname(c->ptr)) {
		run->pending++;
		mxt_resolver_query_for(run->r, run, run->arg, c->ptr,
		    run->family == AF_INET ? T_A : T_AAAA, &run->q_fwd, on_forward, run);
	}
	id_finish(run);
}

static void
on_ehlo(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct idrun *run = arg;

	run->t->client.ehlo_resolves = st == MXT_DNS_OK;
	id_finish(run);
}

/* "d.c.b.a.in-addr.arpa" or the ip6.arpa nibble form. */
static void
reverse_name(int family, const unsigned char *a, char *out, size_t n)
{
	if (family == AF_INET) {
		snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	} else {
		static const char hex[] = "0123456789abcdef";
		size_t o = 0;
		int i;

		for (i = 15; i >= 0 && o + 4 < n; i--) {
			out[o++] = hex[a[i] & 15];
			out[o++] = '.';
			out[o++] = hex[a[i] >> 4];
			out[o++] = '.';
		}
		snprintf(out + o, n - o, "ip6.arpa");
	}
}

/* Local address the kernel would use towards an exchanger address (a UDP
 * connect sends no packet). */
static char *
local_towards(const struct mxt_address *to)
{
	struct sockaddr_storage ss = to->sa, me;
	socklen_t sl = sizeof(me);
	char host[INET6_ADDRSTRLEN];
	int fd;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(25);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(25);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&ss, to->salen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &sl) < 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	if (me.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&me)->sin_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&me)->sin6_addr, host, sizeof(host));
	return mxt_xstrdup(host);
}

void
mxt_identity_local(struct mxt_target *t, const struct mxt_config *cfg)
{
	struct mxt_client *c = &t->client;
	size_t i, j;
	unsigned char b[16];

	if (cfg->source != NULL) {
		if (inet_pton(AF_INET, cfg->source, b) == 1)
			c->local_v4 = mxt_xstrdup(cfg->source);
		else
			c->local_v6 = mxt_xstrdup(cfg->source);
	}
	for (i = 0; i < t->dns.nmx; i++)
		for (j = 0; j < t->dns.mx[i].naddrs; j++) {
			const struct mxt_address *a = &t->dns.mx[i].addrs[j];

			if (a->family == AF_INET && c->local_v4 == NULL && cfg->source == NULL)
				c->local_v4 = local_towards(a);
			if (a->family == AF_INET6 && c->local_v6 == NULL && cfg->source == NULL)
				c->local_v6 = local_towards(a);
		}
	if (cfg->egress_ip != NULL && c->egress == NULL) {
		c->egress = mxt_xstrdup(cfg->egress_ip);
		c->egress_from = mxt_xstrdup("option");
	}
}

const char *
mxt_identity_address(const struct mxt_client *c)
{
	if (c->egress != NULL)
		return c->egress;
	return c->local_v4 != NULL ? c->local_v4 : c->local_v6;
}

static void
choose_ehlo(struct mxt_target *t, const struct mxt_config *cfg)
{
	struct mxt_client *c = &t->client;
	char host[256], lit[80];
	const char *addr = mxt_identity_address(c);

	if (c->ehlo_name != NULL)
		return;
	if (cfg->ehlo != NULL) {
		c->ehlo_name = mxt_xstrdup(cfg->ehlo);
		c->ehlo_from = mxt_xstrdup("option");
		return;
	}
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (strchr(host, '.') != NULL && mxt_valid_hostname(host)) {
			c->ehlo_name = mxt_xstrdup(host);
			c->ehlo_from = mxt_xstrdup("hostname");
			return;
		}
	}
	/* RFC 5321 §4.1.4: no usable name: an address literal. */
	c->ehlo_resolves = 0;
	if (addr != NULL && strchr(addr, ':') != NULL)
		snprintf(lit, sizeof(lit), "[IPv6:%s]", addr);
	else
		snprintf(lit, sizeof(lit), "[%s]", addr != NULL ? addr : "127.0.0.1");
	c->ehlo_name = mxt_xstrdup(lit);
	c->ehlo_from = mxt_xstrdup("literal");
}

static void
on_later(struct mxt_loop *loop, void *arg)
{
	id_finish(arg);
}

/* The identity lookups' deadline: cancel what is still in flight (their
 * callbacks then run with MXT_DNS_TIMEOUT and release the run). */
static void
on_id_deadline(struct mxt_loop *loop, void *arg)
{
	struct idrun *run = arg;

	mxt_resolver_cancel_tag(run->r, run);
}

int
mxt_identity_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    int64_t hard, mxt_dns_done_cb *done, void *arg)
{
	struct mxt_client *c = &t->client;
	struct idrun *run = mxt_xcalloc(1, sizeof(*run));
	const char *addr = mxt_identity_address(c);
	char rev[128];

	run->r = r;
	run->t = t;
	run->done = done;
	run->arg = arg;
	run->pending = 1; /* released from the loop below */
	if (addr != NULL && inet_pton(AF_INET, addr, run->addr) == 1)
		run->family = AF_INET;
	else if (addr != NULL && inet_pton(AF_INET6, addr, run->addr) == 1)
		run->family = AF_INET6;
	if (run->family != 0) {
		free(c->ptr);
		c->ptr = NULL;
		c->fcrdns = 0;
		reverse_name(run->family, run->addr, rev, sizeof(rev));
		run->pending++;
		mxt_resolver_query_for(r, run, arg, rev, T_PTR, &c->q_ptr, on_ptr, run);
	}
	/* Does the name we may send in EHLO resolve (--ehlo, else the host
	 * name when it is an FQDN)?  The PTR name is judged by on_forward. */
	{
		const char *cand = cfg->ehlo;
		char host[256];

		if (cand == NULL && gethostname(host, sizeof(host)) == 0) {
			host[sizeof(host) - 1] = '\0';
			if (strchr(host, '.') != NULL && mxt_valid_hostname(host))
				cand = host;
		}
		if (cand != NULL && cand[0] != '[') {
			run->pending++;
			mxt_resolver_query_for(r, run, arg, cand, T_A, &run->q_ehlo, on_ehlo, run);
		}
	}
	mxt_timer_arm(mxt_resolver_loop(r), &run->deadline,
	    mxt_dns_deadline(cfg, mxt_now_ms(), hard), on_id_deadline, run);
	mxt_timer_arm(mxt_resolver_loop(r), &run->later, mxt_now_ms(), on_later, run);
	return 0;
}

void
mxt_identity_choose_ehlo(struct mxt_target *t, const struct mxt_config *cfg)
{
	struct mxt_client *c = &t->client;

	if (c->ehlo_name != NULL)
		return;
	if (cfg->ehlo == NULL && c->fcrdns && c->ptr != NULL && mxt_valid_hostname(c->ptr) &&
	    strchr(c->ptr, '.') != NULL) {
		c->ehlo_name = mxt_xstrdup(c->ptr);
		c->ehlo_from = mxt_xstrdup("ptr");
		c->ehlo_resolves = 1;
		return;
	}
	choose_ehlo(t, cfg);
}
