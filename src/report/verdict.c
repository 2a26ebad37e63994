/* SPDX-License-Identifier: MIT */
/*
 * The delivery verdict: walks the exchangers in preference order as an
 * RFC 5321 §5.1 MTA would, using each attempt's outcome (attempt.c), and
 * adds one delivery.* finding with a one-line summary.  Also the exit
 * status ranking over verdicts (Nagios conventions).
 */
#include <stdlib.h>

#include "classify.h"

/* "mx1.example.test (192.0.2.1) rejects RCPT TO: 550 5.1.1 ..." or the
 * title of the deciding code. */
static void
sb_failure(struct sb *b, struct ctx *c, const struct mxt_attempt *a, const struct outcome *o)
{
	const struct mxt_step *s = o->step;

	mxt_sb_where(b, c->t, a);
	if (s != NULL && s->status == MXT_STEP_REPLIED && s->reply.code >= 400) {
		if (s->stage == MXT_STAGE_BANNER)
			mxt_sb_printf(b, " %s the connection: ",
			    s->reply.code >= 500 ? "refuses" : "turns away");
		else
			mxt_sb_printf(b, " %s %s: ", s->reply.code >= 500 ? "rejects" : "defers",
			    mxt_stage_label(s->stage));
		mxt_sb_reply_first(b, &s->reply);
	} else if (o->diag >= 0) {
		mxt_sb_printf(b, ": %s", c->cat[o->diag].title);
	}
}

/* The last stage the session reached, RSET and QUIT aside. */
static enum mxt_stage
last_stage(const struct mxt_attempt *a)
{
	const struct mxt_step *s = mxt_attempt_last_step(a);

	return s != NULL ? s->stage : MXT_STAGE_CONNECT;
}

static int
count_warnings(const struct mxt_target *t)
{
	size_t i;
	int n = 0;

	for (i = 0; i < t->nfindings; i++)
		if (t->findings[i].severity >= MXT_SEV_WARNING)
			n++;
	return n;
}

/* Per-walk tallies. */
struct walk {
	long ok, stop, first_inconclusive, first_blocking;
	size_t attempted, connect_fail, refused, timedout;
};

static void
walk_attempts(struct ctx *c, const struct outcome *out, size_t mx, int orphans, struct walk *w)
{
	const struct mxt_target *t = c->t;
	size_t j;

	for (j = 0; j < t->nattempts && w->ok < 0 && w->stop < 0; j++) {
		const struct mxt_attempt *a = &t->attempts[j];

		if (orphans ? a->mx_index < t->dns.nmx : a->mx_index != mx)
			continue;
		if (out[j].kind == OUT_SKIP)
			continue;
		w->attempted++;
		if (out[j].kind == OUT_OK) {
			w->ok = (long)j;
		} else if (out[j].kind == OUT_STOP) {
			w->stop = (long)j;
		} else {
			if (out[j].blocking && w->first_blocking < 0)
				w->first_blocking = (long)j;
			if (!out[j].blocking && w->first_inconclusive < 0)
				w->first_inconclusive = (long)j;
			if (a->connect != MXT_CONN_OK && !mxt_egress_explains(c, a)) {
				w->connect_fail++;
				if (a->connect == MXT_CONN_REFUSED)
					w->refused++;
				if (a->connect == MXT_CONN_TIMEOUT)
					w->timedout++;
			}
		}
	}
}

/*
 * Walk the exchangers as an RFC 5321 §5.1 MTA would: in preference order
 * (equal preferences already shuffled by the DNS stage), every address of
 * one before the next.  Connection failures, 4xx and a 5xx greeting move
 * on; any other 5xx ends delivery; the first session that gets its
 * recipients accepted (or reaches its planned end) is the way mail goes.
 */
void
mxt_classify_verdict(struct ctx *c, const struct outcome *out)
{
	struct mxt_target *t = c->t;
	const struct mxt_dns *d = &t->dns;
	const char *dom = mxt_target_domain(t);
	struct walk w = {-1, -1, -1, -1, 0, 0, 0, 0};
	struct sb sum = {0}, ev = {0};
	enum mxt_status status = MXT_STATUS_UNKNOWN;
	enum diag code = DIAG_DELIVERY_INCONCLUSIVE;
	const struct mxt_attempt *va = NULL, *fa = NULL;
	const struct outcome *fo = NULL;
	const char *host = NULL, *better = NULL;
	size_t i, k, nusable = 0;
	int any_addr = 0, dns_inconclusive = 0, nwarn, src = -1;

	mxt_scope_reset(c);
	if (d->q_mx.status == MXT_DNS_NXDOMAIN) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		mxt_sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain does not exist (NXDOMAIN)", dom);
		src = c->seen[DIAG_DNS_DOMAIN_NXDOMAIN] - 1;
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NULL) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		mxt_sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain publishes a null MX (RFC 7505) and "
		    "accepts no mail",
		    dom);
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NONE && mxt_dns_failure_diag(d->q_mx.status) >= 0) {
		mxt_sb_printf(&sum,
		    "cannot tell whether mail to %s can be delivered: the MX lookup failed (%s)",
		    dom, mxt_dns_status_text(d->q_mx.status));
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NONE && d->q_mx.status == MXT_DNS_NODATA && d->nmx == 0) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		mxt_sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain has neither MX nor A/AAAA records",
		    dom);
		goto out;
	}

	for (i = 0; i < d->nmx && w.ok < 0 && w.stop < 0; i++) {
		if (!mxt_exchanger_usable(&d->mx[i]))
			continue;
		nusable++;
		if (d->mx[i].naddrs > 0)
			any_addr = 1;
		if (mxt_exchanger_inconclusive(&d->mx[i]))
			dns_inconclusive = 1;
		walk_attempts(c, out, i, 0, &w);
	}
	if (w.ok < 0 && w.stop < 0)
		walk_attempts(c, out, 0, 1, &w); /* attempts with no exchanger */

	if (w.ok >= 0) {
		va = &t->attempts[w.ok];
		host = mxt_attempt_host(t, va);
		/* RFC 5321 §5.1: a more preferred exchanger failed first. */
		if (va->mx_index < d->nmx) {
			for (k = 0; k < va->mx_index && better == NULL; k++)
				if (!(d->mx[k].flags & MXT_XF_NULL) &&
				    d->mx[k].preference < d->mx[va->mx_index].preference)
					better = d->mx[k].name != NULL ? d->mx[k].name : "?";
		}
		nwarn = count_warnings(t);
		if (better != NULL) {
			status = MXT_STATUS_WARNING;
			code = DIAG_DELIVERY_FALLBACK;
		} else {
			status = nwarn > 0 ? MXT_STATUS_WARNING : MXT_STATUS_OK;
			code = DIAG_DELIVERY_OK;
		}
		if (out[w.ok].accept != NULL) {
			mxt_sb_printf(&sum, "mail to %s is accepted by ", dom);
			mxt_sb_where(&sum, t, va);
		} else {
			mxt_sb_printf(&sum, "mail to %s: ", dom);
			mxt_sb_where(&sum, t, va);
			mxt_sb_printf(&sum, " works as far as tested (up to %s)",
			    mxt_stage_label(
				va->end == MXT_END_OK ? va->end_stage : last_stage(va)));
		}
		if (better != NULL)
			mxt_sb_printf(&sum, ", but only after %s failed", better);
		else if (nwarn > 0)
			mxt_sb_printf(&sum, " (with %d warning%s)", nwarn, nwarn == 1 ? "" : "s");
		if (out[w.ok].accept != NULL)
			mxt_sb_reply(&ev, &out[w.ok].accept->reply);
		goto out;
	}
	if (w.stop >= 0) {
		fa = &t->attempts[w.stop];
		fo = &out[w.stop];
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		mxt_sb_printf(&sum, "mail to %s cannot be delivered: ", dom);
		sb_failure(&sum, c, fa, fo);
		goto out;
	}
	if (c->eg.blocked) {
		mxt_sb_printf(&sum,
		    "cannot tell whether %s accepts mail: this network blocks outbound port 25",
		    dom);
		if (c->eg.canary != NULL) {
			mxt_sb_printf(&sum, " (port %d of ", c->eg.canary->port);
			mxt_sb_where(&sum, t, c->eg.canary);
			mxt_sb_puts(&sum, " connected)");
		}
		host = c->eg.canary != NULL ? mxt_mx_name(t, c->eg.canary) : NULL;
		src = c->eg.finding;
		goto out;
	}
	if (w.attempted == 0) {
		if (nusable == 0) {
			status = MXT_STATUS_CRITICAL;
			code = DIAG_DELIVERY_IMPOSSIBLE;
			mxt_sb_printf(
			    &sum, "mail to %s cannot be delivered: no usable MX host", dom);
		} else if (!any_addr && dns_inconclusive) {
			mxt_sb_printf(&sum,
			    "cannot tell whether mail to %s can be delivered: the MX hosts' "
			    "addresses "
			    "could not be looked up",
			    dom);
		} else if (!any_addr) {
			status = MXT_STATUS_CRITICAL;
			code = DIAG_DELIVERY_IMPOSSIBLE;
			mxt_sb_printf(
			    &sum, "mail to %s cannot be delivered: no MX host has an address", dom);
		} else {
			mxt_sb_printf(&sum,
			    "cannot tell whether mail to %s can be delivered: no MX host was "
			    "probed",
			    dom);
		}
		goto out;
	}
	if (w.first_inconclusive >= 0) {
		/* Greylisting, rate limits, tarpits: never reported as broken. */
		fa = &t->attempts[w.first_inconclusive];
		fo = &out[w.first_inconclusive];
		mxt_sb_printf(&sum, "cannot tell yet whether mail to %s will be delivered: ", dom);
		sb_failure(&sum, c, fa, fo);
		goto out;
	}
	status = MXT_STATUS_CRITICAL;
	code = DIAG_DELIVERY_IMPOSSIBLE;
	fa = w.first_blocking >= 0 ? &t->attempts[w.first_blocking] : NULL;
	fo = w.first_blocking >= 0 ? &out[w.first_blocking] : NULL;
	mxt_sb_printf(&sum, "mail to %s cannot be delivered: ", dom);
	if (w.connect_fail == w.attempted && w.refused == w.attempted)
		mxt_sb_puts(&sum, "every MX refuses connections");
	else if (w.connect_fail == w.attempted && w.timedout == w.attempted)
		mxt_sb_puts(&sum, "every MX times out (a firewall drops the packets)");
	else if (w.connect_fail == w.attempted)
		mxt_sb_puts(&sum, "no MX accepts connections");
	else if (fa != NULL)
		sb_failure(&sum, c, fa, fo);
	else
		mxt_sb_puts(&sum, "no MX host completes a session");

out:
	if (fa != NULL) {
		host = mxt_attempt_host(t, fa);
		if (fo->finding >= 0)
			src = fo->finding;
	}
	if (ev.len == 0 && src >= 0 && (size_t)src < t->nfindings &&
	    t->findings[src].evidence != NULL)
		mxt_sb_puts(&ev, t->findings[src].evidence);
	if (ev.len == 0 && sum.p != NULL)
		mxt_sb_puts(&ev, sum.p);
	mxt_emit(c, code, host != NULL ? host : dom,
	    va != NULL	     ? va->addr.text
		: fa != NULL ? fa->addr.text
			     : NULL,
	    &ev);

	free(t->verdict.summary);
	free(t->verdict.via);
	t->verdict.status = status;
	t->verdict.summary = mxt_sb_take(&sum);
	if (t->verdict.summary == NULL)
		c->oom = 1;
	t->verdict.via = NULL;
	if (va != NULL)
		t->verdict.via = mxt_dup_or_null(mxt_attempt_host(t, va));
}

/* Exit status by the worst verdict (Nagios conventions, in the order of
 * monitoring-plugins' max_state_alt(): critical > warning > unknown > ok). */
int
mxt_exit_code(struct mxt_target *const *targets, size_t n)
{
	int worst = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (targets[i] != NULL)
			worst =
			    mxt_exit_worse(worst, mxt_exit_of_status(targets[i]->verdict.status));
	if (worst < 0)
		return mxt_exit_of_status(MXT_STATUS_UNKNOWN); /* nothing was judged */
	return worst;
}

int
mxt_exit_of_status(enum mxt_status s)
{
	switch (s) {
#define X(id, name, exit)                                                                          \
	case MXT_STATUS_##id:                                                                      \
		return exit;
		MXT_STATUS_LIST(X)
#undef X
	}
	return mxt_exit_of_status(MXT_STATUS_UNKNOWN);
}

/* Worse of two exit statuses, in the order of monitoring-plugins'
 * max_state_alt(): critical > warning > unknown > ok.  An a outside 0..3
 * (none yet) yields b. */
int
mxt_exit_worse(int a, int b)
{
	static const int rank[] = {0, 2, 3, 1}; /* by exit status 0..3 */

	if (a < 0 || a > 3)
		return b;
	if (b < 0 || b > 3)
		return a;
	return rank[b] > rank[a] ? b : a;
}
