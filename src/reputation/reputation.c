/* SPDX-License-Identifier: MIT */
/*
 * The reputation stage's driver: starts the blocklist, SPF and DMARC parts
 * concurrently on the shared resolver, bounds them with the DNS stage
 * deadline, and calls back once every part has released the run.  It also
 * decides which client address the checks are about.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "rep.h"

void
mxt_rep_hold(struct rep *rp)
{
	rp->pending++;
}

void
mxt_rep_release(struct rep *rp)
{
	if (--rp->pending > 0)
		return;
	mxt_timer_cancel(mxt_resolver_loop(rp->r), &rp->deadline);
	rp->done(rp->t, rp->arg);
	free(rp);
}

const char *
mxt_rep_address(const struct rep *rp, int *trusted)
{
	const struct mxt_client *c = &rp->t->client;
	const char *a;

	/* The address a server echoed, or --egress-ip: what receivers see. */
	if (c->egress != NULL) {
		*trusted = 1;
		return c->egress;
	}
	a = c->local_v4 != NULL ? c->local_v4 : c->local_v6;
	/* --source is the user's word; otherwise a private local address
	 * (behind NAT) says nothing about the public one. */
	*trusted = a != NULL && (rp->cfg->source != NULL || mxt_address_is_global(a));
	return a;
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void
sbuf_add(struct sbuf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = mxt_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append the record in cur to out when it starts with prefix. */
static void
txt_flush(struct sbuf *out, struct sbuf *cur, const char *prefix, size_t *n)
{
	size_t pl = prefix != NULL ? strlen(prefix) : 0;

	if (cur->p != NULL &&
	    (pl == 0 || (cur->len >= pl && strncasecmp(cur->p, prefix, pl) == 0))) {
		if (*n > 0)
			sbuf_add(out, "\n", 1);
		sbuf_add(out, cur->p, cur->len);
		(*n)++;
	}
	cur->len = 0;
	if (cur->p != NULL)
		cur->p[0] = '\0';
}

char *
mxt_rep_txt(const unsigned char *abuf, int alen, const char *prefix, size_t *n)
{
	struct ares_txt_ext *txt = NULL, *e;
	struct sbuf out = {0}, cur = {0};
	int have = 0;

	*n = 0;
	if (abuf == NULL || ares_parse_txt_reply_ext(abuf, alen, &txt) != ARES_SUCCESS)
		return NULL;
	for (e = txt; e != NULL; e = e->next) {
		if (e->record_start && have)
			txt_flush(&out, &cur, prefix, n);
		have = 1;
		/* A record longer than any sane one is cut (hardening: every
		 * size a peer controls has a cap). */
		if (cur.len + e->length <= MXT_FIELD_TEXT_MAX * 4)
			sbuf_add(&cur, e->txt, e->length);
		else if (cur.p == NULL)
			sbuf_add(&cur, "", 0);
	}
	if (have)
		txt_flush(&out, &cur, prefix, n);
	ares_free_data(txt);
	free(cur.p);
	return out.p;
}

static void
on_later(struct mxt_loop *loop, void *arg)
{
	mxt_rep_release(arg);
}

/* The stage deadline: stop starting queries, cancel those in flight (their
 * callbacks then run with MXT_DNS_TIMEOUT and release the run). */
static void
on_deadline(struct mxt_loop *loop, void *arg)
{
	struct rep *rp = arg;

	rp->expired = 1;
	mxt_resolver_cancel_tag(rp->r, rp);
}

int
mxt_reputation_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    int64_t hard, mxt_dns_done_cb *done, void *arg)
{
	struct rep *rp = mxt_xcalloc(1, sizeof(*rp));

	rp->r = r;
	rp->t = t;
	rp->cfg = cfg;
	rp->done = done;
	rp->arg = arg;
	rp->pending = 1; /* released from the loop below */
	mxt_timer_arm(mxt_resolver_loop(r), &rp->deadline,
	    mxt_dns_deadline(cfg, mxt_now_ms(), hard), on_deadline, rp);
	mxt_rep_dnsbl_start(rp);
	mxt_rep_spf_start(rp);
	mxt_rep_dmarc_start(rp);
	mxt_timer_arm(mxt_resolver_loop(r), &rp->later, mxt_now_ms(), on_later, rp);
	return 0;
}
