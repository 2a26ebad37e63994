/* SPDX-License-Identifier: MIT */
/*
 * Reputation findings: what the record's client.dnsbl and sender_auth parts
 * mean (src/reputation filled them).  One finding per blocklist that lists,
 * refused or failed for an address, carrying the list's name and lookup
 * page; one for the SPF result, with the change that would make it pass;
 * one for the DMARC record, and one when SPF does not pass under a
 * quarantining or rejecting DMARC policy.  Findings only: reputation never
 * changes the delivery walk (verdict.c); replies that cite it do.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/xalloc.h"

#include "classify.h"

/* Attach the list's name and page to finding idx. */
static void
set_list(struct ctx *c, int idx, const char *list, const char *url)
{
	struct mxt_finding *f;

	if (idx < 0)
		return;
	f = &c->t->findings[idx];
	if (f->list == NULL && list != NULL)
		f->list = mxt_xstrdup(list);
	if (f->list_url == NULL && url != NULL)
		f->list_url = mxt_xstrdup(url);
}

static void
dnsbl_findings(struct ctx *c)
{
	const struct mxt_client *cl = &c->t->client;
	size_t i, j;

	for (i = 0; i < cl->ndnsbl; i++) {
		const struct mxt_dnsbl *b = &cl->dnsbl[i];
		struct sb ev = {0};
		enum diag id;

		switch (b->status) {
		case MXT_DNSBL_LISTED:
			id = DIAG_CLIENT_DNSBL_LISTED;
			mxt_sb_printf(&ev, "%s lists %s:", b->zone, b->address);
			break;
		case MXT_DNSBL_REFUSED:
			id = DIAG_CLIENT_DNSBL_REFUSED;
			mxt_sb_printf(&ev, "%s refused the query for %s:", b->zone, b->address);
			break;
		case MXT_DNSBL_SKIPPED:
			id = DIAG_CLIENT_DNSBL_REFUSED;
			mxt_sb_printf(&ev, "%s for %s:", b->zone, b->address);
			break;
		case MXT_DNSBL_ERROR:
			id = DIAG_CLIENT_DNSBL_ERROR;
			mxt_sb_printf(&ev, "%s for %s: %s", b->zone, b->address,
			    mxt_dns_status_text(b->q_a.status));
			break;
		case MXT_DNSBL_NOT_RUN:
		case MXT_DNSBL_NOT_LISTED:
		default:
			continue; /* not listed: recorded, nothing to say */
		}
		for (j = 0; j < b->nanswers; j++)
			mxt_sb_printf(&ev, "%s%s", j == 0 ? " " : ", ", b->answers[j]);
		if (b->meaning != NULL)
			mxt_sb_printf(&ev, b->nanswers > 0 ? " (%s)" : " %s", b->meaning);
		if (b->txt != NULL) {
			mxt_sb_puts(&ev, "; TXT \"");
			mxt_sb_puts(&ev, b->txt);
			mxt_sb_puts(&ev, "\"");
		}
		/* One finding per list and address: each is its own fact. */
		mxt_scope_reset(c);
		set_list(c, mxt_emit(c, id, NULL, b->address, &ev), b->list, b->lookup_url);
	}
}

static enum diag
spf_diag(enum mxt_spf_result r)
{
	switch (r) {
	case MXT_SPF_PASS:
		return DIAG_SENDER_SPF_PASS;
	case MXT_SPF_FAIL:
		return DIAG_SENDER_SPF_FAIL;
	case MXT_SPF_SOFTFAIL:
		return DIAG_SENDER_SPF_SOFTFAIL;
	case MXT_SPF_NEUTRAL:
		return DIAG_SENDER_SPF_NEUTRAL;
	case MXT_SPF_NONE:
		return DIAG_SENDER_SPF_NONE;
	case MXT_SPF_TEMPERROR:
		return DIAG_SENDER_SPF_TEMPERROR;
	case MXT_SPF_PERMERROR:
		return DIAG_SENDER_SPF_PERMERROR;
	case MXT_SPF_NOT_RUN:
	default:
		return DIAG_NONE;
	}
}

static void
spf_findings(struct ctx *c)
{
	const struct mxt_spf *s = &c->t->sender_auth.spf;
	struct sb ev = {0};
	enum diag id = spf_diag(s->result);
	unsigned char b[16];

	if (id == DIAG_NONE)
		return;
	/* The HELO identity (no sender domain) is checked by few receivers:
	 * only a record that speaks against the address is worth a finding. */
	if (s->domain_from != NULL && strcmp(s->domain_from, "helo") == 0 &&
	    (s->result == MXT_SPF_NONE || s->result == MXT_SPF_NEUTRAL))
		return;
	mxt_sb_printf(&ev, "%s for %s", mxt_spf_result_name(s->result), s->address);
	if (s->mechanism != NULL)
		mxt_sb_printf(&ev, ": matched %s", s->mechanism);
	else if (s->error != NULL)
		mxt_sb_printf(&ev, ": %s", s->error);
	if (s->record != NULL)
		mxt_sb_printf(&ev, " in \"%s\" (%s)", s->record, s->domain);
	else
		mxt_sb_printf(&ev, ": %s has no SPF record", s->domain);
	if (s->result == MXT_SPF_FAIL || s->result == MXT_SPF_SOFTFAIL ||
	    s->result == MXT_SPF_NEUTRAL || s->result == MXT_SPF_NONE)
		/* The change that makes it pass (RFC 7208 §5.6). */
		mxt_sb_printf(&ev, "; add %s:%s to the SPF record of %s",
		    inet_pton(AF_INET, s->address, b) == 1 ? "ip4" : "ip6", s->address, s->domain);
	if (s->explanation != NULL)
		mxt_sb_printf(&ev, "; the domain explains: %s", s->explanation);
	mxt_scope_reset(c);
	mxt_emit(c, id, NULL, s->address, &ev);
}

static void
dmarc_findings(struct ctx *c)
{
	const struct mxt_sender *sa = &c->t->sender_auth;
	const struct mxt_dmarc *d = &sa->dmarc;
	struct sb ev = {0};
	const char *policy;

	mxt_scope_reset(c);
	switch (d->status) {
	case MXT_DMARC_MISSING:
		mxt_sb_printf(&ev, "no DMARC record at _dmarc.%s nor at its organizational domain",
		    d->domain);
		mxt_emit(c, DIAG_SENDER_DMARC_MISSING, NULL, NULL, &ev);
		return;
	case MXT_DMARC_INVALID:
		mxt_sb_printf(&ev, "%s in \"%s\" (_dmarc.%s)",
		    d->error != NULL ? d->error : "invalid", d->record != NULL ? d->record : "",
		    d->found_at != NULL ? d->found_at : d->domain);
		mxt_emit(c, DIAG_SENDER_DMARC_INVALID, NULL, NULL, &ev);
		return;
	case MXT_DMARC_ERROR:
		mxt_sb_printf(&ev, "_dmarc.%s: %s", d->found_at != NULL ? d->found_at : d->domain,
		    mxt_dns_status_text(d->q.status));
		mxt_emit(c, DIAG_SENDER_DMARC_ERROR, NULL, NULL, &ev);
		return;
	case MXT_DMARC_OK:
		break;
	case MXT_DMARC_NOT_RUN:
	default:
		return;
	}
	/* RFC 7489 §6.3: sp= governs subdomains of the organizational domain. */
	policy = d->policy;
	if (d->subdomain_policy != NULL && d->found_at != NULL &&
	    strcasecmp(d->found_at, d->domain) != 0)
		policy = d->subdomain_policy;
	if (policy == NULL || strcmp(policy, "none") == 0 || d->pct == 0 ||
	    sa->spf.result == MXT_SPF_NOT_RUN || sa->spf.result == MXT_SPF_PASS)
		return;
	mxt_sb_printf(&ev, "DMARC p=%s (pct=%d) at %s, and SPF is %s for %s", policy, d->pct,
	    d->found_at, mxt_spf_result_name(sa->spf.result), sa->spf.address);
	mxt_emit(c, DIAG_SENDER_DMARC_AT_RISK, NULL, sa->spf.address, &ev);
}

void
mxt_blocklist_mark(struct ctx *c, int idx, const struct rtext *x, const struct mxt_attempt *a)
{
	const struct mxt_client *cl = &c->t->client;
	struct mxt_blocklist_hit bl;
	const char *addr = cl->egress;
	char local[64], *url;
	size_t n;

	if (idx < 0 || !mxt_blocklist_find(x->raw, x->len, &bl))
		return;
	/* The address the list judged: the public one when known, else the
	 * local address this attempt came from ("ADDR:PORT", "[ADDR6]:PORT"). */
	if (addr == NULL && a->local[0] != '\0') {
		const char *p = a->local[0] == '[' ? a->local + 1 : a->local;
		const char *end = a->local[0] == '[' ? strchr(p, ']') : strrchr(p, ':');

		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n < sizeof(local)) {
			memcpy(local, p, n);
			local[n] = '\0';
			addr = local;
		}
	}
	url = mxt_blocklist_url(bl.list, addr);
	set_list(c, idx, bl.name, url);
	free(url);
}

void
mxt_classify_reputation(struct ctx *c)
{
	dnsbl_findings(c);
	spf_findings(c);
	dmarc_findings(c);
}
