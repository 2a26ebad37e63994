/* SPDX-License-Identifier: MIT */
/*
 * The delivery verdict: walks the exchangers in preference order as an
 * RFC 5321 §5.1 MTA would, using each attempt's outcome (attempt.c), and
 * adds one delivery.* finding with a one-line summary.  Also the exit
 * status ranking over verdicts (Nagios conventions).
 */
#include <stdlib.h>
#include <string.h>

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

/* What a sender does after a 4xx or a failed connection, and after a 5xx
 * (RFC 5321 §4.2.1, §4.5.4.1; "commonly 5 days" is Postfix's
 * maximal_queue_lifetime and Exim's default retry rule). */
#define WORDS_QUEUE                                                                                \
	"the sending server queues the message and retries; it bounces after its queue "           \
	"lifetime (commonly 5 days)"
#define WORDS_BOUNCE "it bounces now"

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

/* delivery.* findings belong to the verdict itself. */
static int
is_verdict_finding(const struct mxt_finding *f)
{
	return f->stage != NULL && strcmp(f->stage, "verdict") == 0;
}

/* The first finding of the highest severity, warning or worse, that is
 * not the verdict's own; -1 if none. */
static int
worst_finding(const struct mxt_target *t)
{
	size_t i;
	int w = -1;

	for (i = 0; i < t->nfindings; i++) {
		const struct mxt_finding *f = &t->findings[i];

		if (is_verdict_finding(f) || f->severity < MXT_SEV_WARNING)
			continue;
		if (w < 0 || f->severity > t->findings[w].severity)
			w = (int)i;
	}
	return w;
}

/* The title of a code as the tail of a sentence: first letter lower-cased
 * unless the first word is an acronym ("TLS 1.0 ..."). */
static void
sb_title_tail(struct sb *b, const char *title)
{
	if (title[0] >= 'A' && title[0] <= 'Z' && title[1] >= 'a' && title[1] <= 'z') {
		mxt_sb_printf(b, "%c", title[0] - 'A' + 'a');
		title++;
	}
	mxt_sb_puts(b, title);
}

/* The attempt a finding was made on: same exchanger name and address. */
static const struct mxt_attempt *
finding_attempt(const struct mxt_target *t, const struct mxt_finding *f)
{
	size_t i;

	for (i = 0; f->address != NULL && i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];
		const char *n = mxt_mx_name(t, a);

		if (strcmp(a->addr.text, f->address) == 0 &&
		    (f->host == NULL || (n != NULL && strcmp(n, f->host) == 0)) && a->tls.have_cert)
			return a;
	}
	return NULL;
}

/* A certificate finding in words ("its certificate expired 30 days
 * ago"); 0 if f is not one or its attempt is not found. */
static int
sb_cert_phrase(
    struct sb *b, const struct mxt_target *t, const struct mxt_finding *f, const char *via)
{
	const struct mxt_attempt *a;
	const struct mxt_tls *tls;

	if (strncmp(f->code, "tls.cert_", 9) != 0 || (a = finding_attempt(t, f)) == NULL)
		return 0;
	tls = &a->tls;
	if (via != NULL && f->host != NULL && strcmp(via, f->host) == 0)
		mxt_sb_puts(b, "its certificate");
	else {
		mxt_sb_puts(b, "the certificate of ");
		mxt_sb_where(b, t, a);
	}
	if (strcmp(f->code, "tls.cert_expired") == 0) {
		mxt_sb_puts(b, " expired ");
		if (tls->not_after != NULL && tls->days_left < 0) {
			mxt_sb_days(b, -tls->days_left);
			mxt_sb_puts(b, " ago");
		} else
			mxt_sb_puts(b, "(verify error: certificate has expired)");
	} else if (strcmp(f->code, "tls.cert_expiring") == 0) {
		mxt_sb_puts(b, " expires in ");
		mxt_sb_days(b, tls->days_left);
	} else if (strcmp(f->code, "tls.cert_name_mismatch") == 0) {
		mxt_sb_printf(b, " does not name %s",
		    tls->peer_name != NULL ? tls->peer_name : mxt_attempt_host(t, a));
	} else if (strcmp(f->code, "tls.cert_not_yet_valid") == 0) {
		mxt_sb_puts(b, " is not valid yet");
	} else {
		mxt_sb_printf(b, " is not trusted (%s)",
		    tls->verify_error != NULL ? tls->verify_error : "no trusted chain");
	}
	return 1;
}

/* One finding as the tail of the summary: where, then what. */
static void
sb_finding(struct sb *b, struct ctx *c, int fi, const char *via)
{
	const struct mxt_target *t = c->t;
	const struct mxt_finding *f = &t->findings[fi];
	const struct mxt_diagnosis *d = mxt_diagnosis_find(f->code);

	if (sb_cert_phrase(b, t, f, via))
		return;
	if (f->stage != NULL && strcmp(f->stage, "client") == 0) {
		/* "your sending IP address ... (192.0.2.7)" */
		sb_title_tail(b, d != NULL ? d->title : f->code);
		if (f->address != NULL)
			mxt_sb_printf(b, " (%s)", f->address);
		return;
	}
	if (f->host != NULL && f->address != NULL)
		mxt_sb_printf(b, "%s (%s): ", f->host, f->address);
	else if (f->address != NULL)
		mxt_sb_printf(b, "%s: ", f->address);
	else if (f->host != NULL && strcmp(f->host, mxt_target_domain(t)) != 0)
		mxt_sb_printf(b, "%s: ", f->host);
	sb_title_tail(b, d != NULL ? d->title : f->code);
}

/* Is finding index i one the summary names? */
static int
named(const struct mxt_verdict *v, size_t i)
{
	size_t k;

	for (k = 0; k < MXT_VERDICT_NAMES_MAX; k++)
		if (v->names[k] >= 0 && (size_t)v->names[k] == i)
			return 1;
	return 0;
}

/*
 * The severity model meets the delivery walk here (docs/diagnoses.md,
 * "Severity model"): the summary names the finding that decided (cause)
 * and, when the worst finding is more severe than both that cause and
 * the delivery outcome (base), the worst one too; findings the final
 * status does not admit and that stay unnamed are counted.
 */
static void
name_findings(struct ctx *c, struct sb *sum, int cause, enum mxt_severity base, int have_but,
    enum mxt_status status, const char *via)
{
	struct mxt_target *t = c->t;
	struct mxt_verdict *v = &t->verdict;
	enum mxt_severity csev = base;
	size_t i, ncrit = 0, nwarn = 0, over = 0;
	int w = worst_finding(t);

	for (i = 0; i < MXT_VERDICT_NAMES_MAX; i++)
		v->names[i] = -1;
	v->more = 0;
	if (cause >= 0 && (size_t)cause < t->nfindings) {
		v->names[0] = cause;
		if (t->findings[cause].severity > csev)
			csev = t->findings[cause].severity;
	}
	if (w >= 0 && w != cause && t->findings[w].severity > csev) {
		mxt_sb_puts(sum, have_but ? ", and " : ", but ");
		sb_finding(sum, c, w, via);
		v->names[1] = w;
		have_but = 1;
	}
	for (i = 0; i < t->nfindings; i++) {
		const struct mxt_finding *f = &t->findings[i];

		if (is_verdict_finding(f) || f->severity < MXT_SEV_WARNING || named(v, i))
			continue;
		ncrit += f->severity == MXT_SEV_CRITICAL;
		nwarn += f->severity == MXT_SEV_WARNING;
		over += f->severity > mxt_status_admits(status);
	}
	if ((have_but || over > 0) && ncrit + nwarn > 0) {
		v->more = ncrit + nwarn;
		mxt_sb_printf(sum, " (and %zu more:", v->more);
		if (ncrit > 0)
			mxt_sb_printf(sum, " %zu critical%s", ncrit, nwarn > 0 ? "," : "");
		if (nwarn > 0)
			mxt_sb_printf(sum, " %zu warning%s", nwarn, nwarn == 1 ? "" : "s");
		mxt_sb_puts(sum, ")");
	}
}

/* The first finding of a code, -1 if none.  (The verdict's scope starts
 * empty, so c->seen does not know the DNS findings.) */
static int
find_code(const struct mxt_target *t, enum diag id, const struct ctx *c)
{
	size_t i;

	for (i = 0; i < t->nfindings; i++)
		if (strcmp(t->findings[i].code, c->cat[id].code) == 0)
			return (int)i;
	return -1;
}

/* The finding that decided the first failed attempt on an exchanger more
 * preferred than mx (the reason for a fallback); -1 if none. */
static int
better_failure(const struct ctx *c, const struct outcome *out, size_t mx)
{
	const struct mxt_target *t = c->t;
	size_t j;

	for (j = 0; j < t->nattempts; j++)
		if (out[j].kind == OUT_NEXT && t->attempts[j].mx_index < mx && out[j].finding >= 0)
			return out[j].finding;
	return -1;
}

/* After a 4xx that a retry does not cure, the reason in words, unless the
 * code is only the stage's generic one. */
static void
sb_reason(struct sb *b, const struct ctx *c, const struct outcome *o)
{
	if (o == NULL || o->diag < 0 || o->step == NULL || o->step->status != MXT_STEP_REPLIED ||
	    o->step->reply.code / 100 != 4)
		return;
	if (o->diag == DIAG_RCPT_DEFERRED || o->diag == DIAG_MAIL_DEFERRED ||
	    o->diag == DIAG_DATA_REJECTED)
		return;
	mxt_sb_puts(b, " (");
	sb_title_tail(b, c->cat[o->diag].title);
	mxt_sb_puts(b, ")");
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
	enum mxt_severity base = MXT_SEV_WARNING; /* what the outcome admits */
	size_t i, k, nusable = 0;
	int any_addr = 0, dns_inconclusive = 0, nwarn, src = -1, have_but = 0;

	mxt_scope_reset(c);
	if (d->q_mx.status == MXT_DNS_NXDOMAIN) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		mxt_sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain does not exist (NXDOMAIN); "
		    "%s",
		    dom, WORDS_BOUNCE);
		src = find_code(t, DIAG_DNS_DOMAIN_NXDOMAIN, c);
		base = MXT_SEV_CRITICAL;
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NULL) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		mxt_sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain publishes a null MX (RFC 7505) and "
		    "accepts no mail; %s",
		    dom, WORDS_BOUNCE);
		src = find_code(t, DIAG_DNS_NULL_MX, c);
		base = MXT_SEV_CRITICAL;
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NONE && mxt_dns_failure_diag(d->q_mx.status) >= 0) {
		mxt_sb_printf(&sum,
		    "cannot tell whether mail to %s can be delivered: the MX lookup failed (%s)",
		    dom, mxt_dns_status_text(d->q_mx.status));
		src = mxt_dns_failure_diag(d->q_mx.status) >= 0
		    ? find_code(t, (enum diag)mxt_dns_failure_diag(d->q_mx.status), c)
		    : -1;
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NONE && d->q_mx.status == MXT_DNS_NODATA && d->nmx == 0) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		mxt_sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain has neither MX nor A/AAAA records",
		    dom);
		src = find_code(t, DIAG_DNS_NO_ADDRESS, c);
		base = MXT_SEV_CRITICAL;
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
			/* Mail arrives: findings raise ok to warning, never
			 * higher; the summary names the worst of them. */
			status = nwarn > 0 ? MXT_STATUS_WARNING : MXT_STATUS_OK;
			code = DIAG_DELIVERY_OK;
			base = MXT_SEV_INFO;
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
		if (better != NULL) {
			mxt_sb_printf(&sum, ", but only after %s failed", better);
			have_but = 1;
			src = better_failure(c, out, va->mx_index);
			if (src >= 0) {
				mxt_sb_puts(&sum, " (");
				sb_title_tail(
				    &sum, mxt_diagnosis_find(t->findings[src].code)->title);
				mxt_sb_puts(&sum, ")");
			}
		}
		if (out[w.ok].accept != NULL)
			mxt_sb_reply(&ev, &out[w.ok].accept->reply);
		goto out;
	}
	if (w.stop >= 0) {
		fa = &t->attempts[w.stop];
		fo = &out[w.stop];
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		base = MXT_SEV_CRITICAL;
		mxt_sb_printf(&sum, "mail to %s cannot be delivered: ", dom);
		sb_failure(&sum, c, fa, fo);
		mxt_sb_printf(&sum, "; %s", WORDS_BOUNCE);
		goto out;
	}
	if (c->eg.blocked) {
		mxt_sb_printf(&sum,
		    "cannot tell whether %s accepts mail: this network blocks outbound port 25",
		    dom);
		if (c->eg.canary != NULL) {
			mxt_sb_printf(&sum, " (port %d of ", c->eg.canary->port);
			mxt_sb_where(&sum, t, c->eg.canary);
			mxt_sb_puts(&sum,
			    c->eg.canary->connect == MXT_CONN_OK ? " connected)"
								 : " refused (RST))");
		} else if (c->eg.nref > 0) {
			mxt_sb_puts(&sum, " (port 25 of the reference exchangers timed out too)");
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
		mxt_sb_puts(&sum, "; the sending server queues the message and retries");
		goto out;
	}
	/* No 5xx, but every failure is one a retry does not cure: the mail
	 * waits in the sender's queue until it bounces. */
	status = MXT_STATUS_CRITICAL;
	code = DIAG_DELIVERY_STALLED;
	base = MXT_SEV_CRITICAL;
	fa = w.first_blocking >= 0 ? &t->attempts[w.first_blocking] : NULL;
	fo = w.first_blocking >= 0 ? &out[w.first_blocking] : NULL;
	mxt_sb_printf(&sum, "mail to %s cannot be delivered: ", dom);
	if (w.connect_fail == w.attempted && w.refused == w.attempted)
		mxt_sb_puts(&sum, "every MX refuses connections");
	else if (w.connect_fail == w.attempted && w.timedout == w.attempted &&
	    c->eg.ref_open != NULL)
		mxt_sb_printf(&sum,
		    "every MX times out while port %d of reference %s connected: a firewall at "
		    "the destination drops the packets",
		    c->eg.ref_open->port, c->eg.ref_open->host);
	else if (w.connect_fail == w.attempted && w.timedout == w.attempted)
		mxt_sb_puts(&sum, "every MX times out (a firewall drops the packets)");
	else if (w.connect_fail == w.attempted)
		mxt_sb_puts(&sum, "no MX accepts connections");
	else if (fa != NULL) {
		sb_failure(&sum, c, fa, fo);
		sb_reason(&sum, c, fo);
	} else
		mxt_sb_puts(&sum, "no MX host completes a session");
	mxt_sb_printf(&sum, "; %s", WORDS_QUEUE);

out:
	if (fa != NULL) {
		host = mxt_attempt_host(t, fa);
		if (fo->finding >= 0)
			src = fo->finding;
	}
	if (ev.len == 0 && src >= 0 && (size_t)src < t->nfindings &&
	    t->findings[src].evidence != NULL)
		mxt_sb_puts(&ev, t->findings[src].evidence);
	name_findings(c, &sum, src, base, have_but, status, va != NULL ? mxt_mx_name(t, va) : NULL);
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
