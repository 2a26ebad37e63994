/* SPDX-License-Identifier: MIT */
/*
 * Egress blocking: whether the client's own network blocks outbound port
 * 25.  The one place that judges it; attempt.c and verdict.c ask
 * mxt_egress_explains() instead of looking at ports themselves.  The
 * evidence: the target's own 587/465 (canaries) and, when the reference
 * check ran (--egress-check), port 25 of independent exchangers.
 */
#include <errno.h>
#include <string.h>

#include "classify.h"

static int
is_port25(const struct mxt_attempt *a)
{
	return a->port == 25 || (a->port == 0 && a->mode == MXT_MODE_SMTP);
}

/* A local firewall rule answers connect() with EPERM/EACCES. */
static int
locally_denied(const struct mxt_attempt *a)
{
	return a->connect != MXT_CONN_OK &&
	    (a->connect_errno == EPERM || a->connect_errno == EACCES);
}

/* A canary answered: it connected, or was refused (a RST proves the path
 * to the host is open; only port 25 is filtered). */
static int
answered(const struct mxt_attempt *a)
{
	return a->connect == MXT_CONN_OK || a->connect == MXT_CONN_REFUSED;
}

/* Does exchanger mx show the evidence: a canary on 587/465 of it answered? */
static int
host_answered(const struct mxt_target *t, size_t mx, const struct mxt_attempt **which)
{
	size_t i;

	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];

		if (a->canary && a->mx_index == mx && answered(a)) {
			if (which != NULL && *which == NULL)
				*which = a;
			return 1;
		}
	}
	return 0;
}

/*
 * Every port-25 attempt timed out (or a local rule denied it) while, on
 * every one of those exchangers, a canary to port 587/465 answered
 * (connected or refused): port 25 alone is filtered, everywhere, so the
 * client's own network blocks outbound SMTP.  An exchanger whose other
 * ports time out too is a firewall at the destination: then it is not
 * said.  Without canaries, only EPERM/EACCES on every attempt proves it.
 */
void
mxt_egress_detect(struct ctx *c)
{
	const struct mxt_target *t = c->t;
	struct egress *eg = &c->eg;
	size_t i, j, nfail = 0, nlocal = 0;
	int every_host, seen_before;

	memset(eg, 0, sizeof(*eg));
	eg->finding = -1;
	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];

		if (a->canary || !is_port25(a) || a->connect == MXT_CONN_NOT_TRIED)
			continue;
		eg->n25++;
		seen_before = 0;
		for (j = 0; j < i; j++)
			if (!t->attempts[j].canary && is_port25(&t->attempts[j]) &&
			    t->attempts[j].mx_index == a->mx_index)
				seen_before = 1;
		if (!seen_before)
			eg->nhosts++;
		if (locally_denied(a))
			nlocal++;
		if (a->connect == MXT_CONN_TIMEOUT || locally_denied(a))
			nfail++;
	}
	/* Every exchanger tried on port 25 must show it. */
	every_host = eg->n25 > 0;
	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];

		if (a->canary || !is_port25(a) || a->connect == MXT_CONN_NOT_TRIED)
			continue;
		if (!host_answered(t, a->mx_index, &eg->canary))
			every_host = 0;
	}
	if (!every_host)
		eg->canary = NULL;
	eg->nlocal = nlocal;
	eg->blocked = eg->n25 > 0 && nfail == eg->n25 && (every_host || nlocal == eg->n25);
	/* The references: one that connected proves port 25 gets out (the
	 * destination drops the packets); all of them timing out (or denied
	 * locally) proves it does not, whatever the target's other ports did.
	 * A refused reference proves neither: a firewall on the way may send
	 * the reset. */
	eg->nref = t->negress_refs;
	for (i = 0; i < t->negress_refs; i++) {
		const struct mxt_egress_ref *r = &t->egress_refs[i];

		if (r->connect == MXT_CONN_OK && eg->ref_open == NULL)
			eg->ref_open = r;
		if (r->connect == MXT_CONN_TIMEOUT ||
		    (r->connect != MXT_CONN_OK &&
			(r->connect_errno == EPERM || r->connect_errno == EACCES)))
			eg->nref_timeout++;
	}
	if (eg->n25 == 0 || nfail != eg->n25 || eg->nref == 0)
		return;
	if (eg->ref_open != NULL) {
		eg->blocked = 0;
		eg->canary = NULL;
	} else if (eg->nref_timeout == eg->nref) {
		eg->blocked = 1;
	}
}

/* "; port 25 of reference a (addr), b (addr) also timed out" */
static void
refs_timed_out(struct sb *ev, const struct mxt_target *t)
{
	size_t i;

	mxt_sb_puts(
	    ev, t->negress_refs > 1 ? "; port 25 of every reference" : "; port 25 of reference");
	for (i = 0; i < t->negress_refs; i++) {
		const struct mxt_egress_ref *r = &t->egress_refs[i];

		mxt_sb_printf(ev, "%s %s", i > 0 ? "," : "", r->host);
		if (r->address[0] != '\0' && strcmp(r->address, r->host) != 0)
			mxt_sb_printf(ev, " (%s)", r->address);
		if (r->port != 25)
			mxt_sb_printf(ev, " port %d", r->port);
	}
	mxt_sb_printf(ev, "%s also timed out%s", t->egress_refs_builtin ? " (built-in list)" : "",
	    t->negress_refs > 1 ? ", so the way out is blocked" : "");
}

void
mxt_egress_emit(struct ctx *c)
{
	const struct egress *eg = &c->eg;
	struct sb ev = {0};

	mxt_scope_reset(c);
	mxt_sb_printf(&ev, "port 25 %s on all %zu address(es) of %zu MX host(s)",
	    eg->nlocal == 0		? "timed out"
		: eg->nlocal == eg->n25 ? "was denied by a local firewall rule (EPERM/EACCES)"
					: "timed out or was denied locally",
	    eg->n25, eg->nhosts);
	if (eg->canary != NULL) {
		mxt_sb_printf(&ev, "; port %d of %s (%s) %s in %lld ms, so the path is open",
		    eg->canary->port, mxt_attempt_host(c->t, eg->canary), eg->canary->addr.text,
		    eg->canary->connect == MXT_CONN_OK ? "connected" : "refused (RST)",
		    (long long)eg->canary->connect_ms);
		if (eg->nref > 0)
			refs_timed_out(&ev, c->t);
		c->eg.finding = mxt_emit(c, DIAG_CONNECT_EGRESS_BLOCKED,
		    mxt_mx_name(c->t, eg->canary), eg->canary->addr.text, &ev);
	} else {
		if (eg->nref > 0)
			refs_timed_out(&ev, c->t);
		c->eg.finding = mxt_emit(c, DIAG_CONNECT_EGRESS_BLOCKED, NULL, NULL, &ev);
	}
}

/* A reference connected while every port-25 connect to the target timed
 * out: the way out is open, the destination drops the packets. */
void
mxt_egress_emit_open(struct ctx *c)
{
	const struct egress *eg = &c->eg;
	const struct mxt_egress_ref *r = eg->ref_open;
	struct sb ev = {0};

	mxt_scope_reset(c);
	mxt_sb_printf(
	    &ev, "port 25 timed out on all %zu address(es) of %zu MX host(s)", eg->n25, eg->nhosts);
	mxt_sb_printf(&ev, "; port %d of reference %s", r->port, r->host);
	if (strcmp(r->address, r->host) != 0)
		mxt_sb_printf(&ev, " (%s)", r->address);
	mxt_sb_printf(&ev, "%s connected in %lld ms, so the path out is open",
	    c->t->egress_refs_builtin ? " (built-in list)" : "", (long long)r->connect_ms);
	(void)mxt_emit(c, DIAG_CONNECT_EGRESS_OPEN,
	    strcmp(r->host, r->address) != 0 ? r->host : NULL, r->address, &ev);
}

/* The egress finding explains this attempt's failed connect: counted once
 * for all of them, not per attempt. */
int
mxt_egress_explains(const struct ctx *c, const struct mxt_attempt *a)
{
	return c->eg.blocked && is_port25(a);
}
