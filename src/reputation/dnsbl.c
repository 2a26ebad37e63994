/* SPDX-License-Identifier: MIT */
/*
 * DNS blocklist lookups of the client's address (RFC 5782): one A query per
 * list and address, and one TXT query for the reason when the address is
 * listed.  The lists are --dnsbl ZONE, or else the table's default set,
 * which is asked only through the system resolver (never with --resolver,
 * which is how the lab and private test setups are reached) and only about
 * globally routable addresses.  A list that refuses public resolvers
 * (Spamhaus) is not asked through one; its "query refused" answers are
 * recorded as such, never as a listing.  Outcomes are stored in
 * client.dnsbl; nothing is judged here.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "rep.h"

struct blq {
	struct rep *rp;
	size_t i; /* index into client.dnsbl (the array no longer grows) */
};

static void on_txt(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen);

/* Add "; meaning" to b->meaning unless it says so already. */
static void
append_meaning(struct mxt_dnsbl *b, const char *meaning)
{
	size_t n;
	char *m;

	if (b->meaning == NULL) {
		b->meaning = mxt_xstrdup(meaning);
		return;
	}
	if (strstr(b->meaning, meaning) != NULL)
		return;
	n = strlen(b->meaning) + strlen(meaning) + 3;
	m = mxt_xmalloc(n);
	snprintf(m, n, "%s; %s", b->meaning, meaning);
	free(b->meaning);
	b->meaning = m;
}

static void
on_a(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct blq *q = arg;
	struct mxt_dnsbl *b = &q->rp->t->client.dnsbl[q->i];
	struct ares_addrttl at[16];
	int i, n = 16;
	char name[300];

	switch (st) {
	case MXT_DNS_NXDOMAIN:
	case MXT_DNS_NODATA:
		b->status = MXT_DNSBL_NOT_LISTED; /* RFC 5782 §2.1 */
		break;
	case MXT_DNS_OK:
		if (ares_parse_a_reply(abuf, alen, NULL, at, &n) != ARES_SUCCESS || n <= 0) {
			b->status = MXT_DNSBL_NOT_LISTED;
			break;
		}
		b->status = MXT_DNSBL_LISTED;
		b->answers = mxt_xcalloc((size_t)n, sizeof(*b->answers));
		for (i = 0; i < n; i++) {
			char text[INET_ADDRSTRLEN];
			const char *meaning;
			enum mxt_dnsbl_status s;

			inet_ntop(AF_INET, &at[i].ipaddr, text, sizeof(text));
			b->answers[b->nanswers++] = mxt_xstrdup(text);
			s = mxt_dnsbl_answer(b->zone, text, &meaning);
			/* A bogus answer outweighs a refusal, which outweighs a
			 * listing; the meanings of several listings add up. */
			if (s == MXT_DNSBL_ERROR ||
			    (s == MXT_DNSBL_REFUSED && b->status == MXT_DNSBL_LISTED)) {
				b->status = s;
				free(b->meaning);
				b->meaning = mxt_xstrdup_or_null(meaning);
			} else if (s == MXT_DNSBL_LISTED && b->status == MXT_DNSBL_LISTED &&
			    meaning != NULL) {
				append_meaning(b, meaning);
			}
		}
		break;
	case MXT_DNS_NOT_RUN:
	case MXT_DNS_SERVFAIL:
	case MXT_DNS_REFUSED:
	case MXT_DNS_TIMEOUT:
	case MXT_DNS_UNREACHABLE:
	case MXT_DNS_BADRESP:
	case MXT_DNS_ERROR:
	default:
		b->status = MXT_DNSBL_ERROR;
		break;
	}
	/* RFC 5782 §2.1: the TXT record at the same name gives the reason. */
	if (b->status == MXT_DNSBL_LISTED && !q->rp->expired &&
	    mxt_dnsbl_query_name(b->address, b->zone, name, sizeof(name)) == 0) {
		mxt_resolver_query_for(
		    q->rp->r, q->rp, q->rp->arg, name, T_TXT, &b->q_txt, on_txt, q);
		return;
	}
	mxt_rep_release(q->rp);
	free(q);
}

static void
on_txt(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct blq *q = arg;
	struct mxt_dnsbl *b = &q->rp->t->client.dnsbl[q->i];
	size_t n;

	if (st == MXT_DNS_OK)
		b->txt = mxt_rep_txt(abuf, alen, NULL, &n);
	mxt_rep_release(q->rp);
	free(q);
}

/* Add one list for one address; returns it. */
static struct mxt_dnsbl *
add(struct mxt_client *c, const char *zone, const char *addr)
{
	struct mxt_dnsbl *b = mxt_client_add_dnsbl(c);
	const struct mxt_blocklist *l = mxt_blocklist_by_zone(zone);

	size_t n = strlen(zone), k;

	if (b == NULL)
		mxt_oom(sizeof(*b));
	while (n > 0 && zone[n - 1] == '.')
		n--;
	b->zone = mxt_xstrndup(zone, n);
	for (k = 0; k < n; k++)
		if (b->zone[k] >= 'A' && b->zone[k] <= 'Z')
			b->zone[k] = (char)(b->zone[k] - 'A' + 'a');
	b->list = mxt_xstrdup(l != NULL ? l->name : zone);
	b->address = mxt_xstrdup(addr);
	b->lookup_url = mxt_blocklist_url(l, addr);
	return b;
}

/* Equal zones, ignoring case and a trailing dot. */
static int
same_zone(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 0 && a[la - 1] == '.')
		la--;
	while (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* The first public resolver among the ones in use, or NULL.  Caller frees. */
static char *
public_resolver(struct mxt_resolver *r)
{
	char *servers = mxt_resolver_servers(r), *p, *found = NULL;

	for (p = servers; p != NULL && *p != '\0' && found == NULL;) {
		size_t len = strcspn(p, ",");
		char one[64];
		char *colon;

		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		/* "ADDR:PORT" or "[ADDR6]:PORT" */
		if (one[0] == '[') {
			memmove(one, one + 1, strlen(one));
			if ((colon = strchr(one, ']')) != NULL)
				*colon = '\0';
		} else if ((colon = strrchr(one, ':')) != NULL) {
			*colon = '\0';
		}
		if (mxt_resolver_is_public(one))
			found = mxt_xstrdup(one);
		p += len;
		if (*p == ',')
			p++;
	}
	free(servers);
	return found;
}

void
mxt_rep_dnsbl_start(struct rep *rp)
{
	struct mxt_client *c = &rp->t->client;
	const struct mxt_config *cfg = rp->cfg;
	const char *addrs[2];
	const char *zones[MXT_DNSBL_ZONES_MAX];
	size_t naddr = 0, nzone = 0, i, j;
	char *pub, why[300];
	int dflt = cfg->ndnsbl == 0;

	if (cfg->no_dnsbl) {
		c->dnsbl_skipped = mxt_xstrdup("--no-dnsbl");
		return;
	}
	if (dflt && cfg->submission) {
		c->dnsbl_skipped = mxt_xstrdup("--submission: receivers judge the submission "
					       "server, not this client");
		return;
	}
	if (dflt && cfg->resolver != NULL) {
		c->dnsbl_skipped =
		    mxt_xstrdup("the default lists are asked only through the system "
				"resolver; with --resolver, name lists with --dnsbl");
		return;
	}
	if (c->egress != NULL) {
		addrs[naddr++] = c->egress;
	} else {
		if (c->local_v4 != NULL)
			addrs[naddr++] = c->local_v4;
		if (c->local_v6 != NULL)
			addrs[naddr++] = c->local_v6;
	}
	if (dflt) {
		/* The default lists only hear about public addresses. */
		for (i = j = 0; i < naddr; i++)
			if (mxt_address_is_global(addrs[i]))
				addrs[j++] = addrs[i];
		if (j == 0 && naddr > 0) {
			snprintf(why, sizeof(why),
			    "the client address %s is not public (behind NAT?): give the public "
			    "one with --egress-ip",
			    addrs[0]);
			c->dnsbl_skipped = mxt_xstrdup(why);
			return;
		}
		naddr = j;
		for (i = 0; mxt_blocklist_at(i) != NULL && nzone < MXT_DNSBL_ZONES_MAX; i++)
			if (mxt_blocklist_at(i)->dflt)
				zones[nzone++] = mxt_blocklist_at(i)->zone;
	} else {
		/* One query per list and address: a zone given twice is one. */
		for (i = 0; i < cfg->ndnsbl && nzone < MXT_DNSBL_ZONES_MAX; i++) {
			for (j = 0; j < nzone && !same_zone(zones[j], cfg->dnsbl[i]); j++)
				;
			if (j == nzone)
				zones[nzone++] = cfg->dnsbl[i];
		}
	}
	if (naddr == 0) {
		c->dnsbl_skipped = mxt_xstrdup("the client address is not known");
		return;
	}
	pub = public_resolver(rp->r);
	/* Every entry first: queries point into the array, which must not
	 * move once they are in flight. */
	for (i = 0; i < naddr; i++)
		for (j = 0; j < nzone; j++) {
			struct mxt_dnsbl *b = add(c, zones[j], addrs[i]);
			const struct mxt_blocklist *l = mxt_blocklist_by_zone(zones[j]);

			if (pub != NULL && l != NULL && l->no_public) {
				b->status = MXT_DNSBL_SKIPPED;
				snprintf(why, sizeof(why),
				    "not asked: the resolver %s is a public resolver, and %s "
				    "refuses "
				    "queries that come through one",
				    pub, l->name);
				b->meaning = mxt_xstrdup(why);
			}
		}
	free(pub);
	for (i = 0; i < c->ndnsbl; i++) {
		struct mxt_dnsbl *b = &c->dnsbl[i];
		struct blq *q;
		char name[300];

		if (b->status == MXT_DNSBL_SKIPPED)
			continue;
		if (mxt_dnsbl_query_name(b->address, b->zone, name, sizeof(name)) < 0) {
			b->status = MXT_DNSBL_ERROR;
			b->meaning = mxt_xstrdup("the query name is too long");
			continue;
		}
		q = mxt_xcalloc(1, sizeof(*q));
		q->rp = rp;
		q->i = i;
		mxt_rep_hold(rp);
		mxt_resolver_query_for(rp->r, rp, rp->arg, name, T_A, &b->q_a, on_a, q);
	}
}
