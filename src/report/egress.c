/* SPDX-License-Identifier: MIT */
/*
 * Egress blocking: whether the client's own network blocks outbound port
 * 25.  The one place that judges it; attempt.c and verdict.c ask
 * mxt_egress_explains() instead of looking at ports themselves.
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

/*
 * Every port-25 attempt timed out (or a local rule denied it) while a
 * canary to port 587/465 of the same exchangers connected: the client's own
 * network blocks outbound SMTP.  Without a canary, only EPERM/EACCES on
 * every attempt proves it.
 */
void
mxt_egress_detect(struct ctx *c)
{
	const struct mxt_target *t = c->t;
	struct egress *eg = &c->eg;
	size_t i, j, nfail = 0, nlocal = 0;
	int canary_host = 0, seen_before;

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
	for (i = 0; i < t->nattempts && eg->canary == NULL; i++) {
		const struct mxt_attempt *a = &t->attempts[i];

		if (!a->canary || a->connect != MXT_CONN_OK)
			continue;
		canary_host = 0;
		for (j = 0; j < t->nattempts; j++)
			if (!t->attempts[j].canary && t->attempts[j].mx_index == a->mx_index)
				canary_host = 1;
		if (canary_host)
			eg->canary = a;
	}
	eg->nlocal = nlocal;
	eg->blocked = eg->n25 > 0 && nfail == eg->n25 && (eg->canary != NULL || nlocal == eg->n25);
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
		mxt_sb_printf(&ev, "; port %d of %s (%s) connected in %lld ms", eg->canary->port,
		    mxt_attempt_host(c->t, eg->canary), eg->canary->addr.text,
		    (long long)eg->canary->connect_ms);
		c->eg.finding = mxt_emit(c, DIAG_CONNECT_EGRESS_BLOCKED,
		    mxt_mx_name(c->t, eg->canary), eg->canary->addr.text, &ev);
	} else {
		c->eg.finding = mxt_emit(c, DIAG_CONNECT_EGRESS_BLOCKED, NULL, NULL, &ev);
	}
}

/* The egress finding explains this attempt's failed connect: counted once
 * for all of them, not per attempt. */
int
mxt_egress_explains(const struct ctx *c, const struct mxt_attempt *a)
{
	return c->eg.blocked && is_port25(a);
}
