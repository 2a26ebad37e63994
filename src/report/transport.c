/* SPDX-License-Identifier: MIT */
/*
 * Transport security policies judged the way enforcing senders judge them:
 *   - DANE (RFC 7672): per exchanger, from the AD bits of its answers, its
 *     TLSA records and the DANE verdict of each handshake (OpenSSL's DANE
 *     verification, src/net/tls.c);
 *   - MTA-STS (RFC 8461): the TXT record, the policy fetch and parse, each
 *     MX against the patterns and its certificate's PKIX verdict;
 *   - TLS-RPT (RFC 8460): whether failures would be reported.
 * It writes findings, then verdict.dane and verdict.mta_sts ("deliver",
 * "defer", "not_applicable" with a sentence), and raises the status to
 * critical when an enforcing sender would defer.  Ordinary certificate
 * checks stay observe-only for the delivery verdict (attempt.c, verdict.c).
 * Reads the record only; never touches the network.
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/tlspolicy.h"
#include "mxtrace/xalloc.h"

#include "classify.h"

/* The attempts a sender's own connection would be: not canaries, not the
 * plaintext retries after a failed STARTTLS. */
static int
primary(const struct mxt_attempt *a)
{
	return !a->canary && !a->plaintext_retry;
}

/* An exchanger's TLSA answer as DANE sees it. */
enum tlsa_state {
	TS_NONE,     /* no DANE for this exchanger (insecure, no records) */
	TS_INSECURE, /* records exist, but the answers are not authentic */
	TS_FAILED,   /* lookup failed on a secure exchanger: senders defer */
	TS_UNUSABLE, /* records, none usable: TLS required, unauthenticated */
	TS_USABLE    /* at least one usable record: TLS and a match required */
};

static enum tlsa_state
tlsa_state(const struct mxt_exchanger *x)
{
	size_t i;

	if (x->dane != MXT_DANE_LOOKUP_DONE && x->dane != MXT_DANE_LOOKUP_INSECURE)
		return TS_NONE;
	switch (x->q_tlsa.status) {
	case MXT_DNS_OK:
		break;
	case MXT_DNS_NODATA:
	case MXT_DNS_NXDOMAIN:
	case MXT_DNS_NOT_RUN:
		return TS_NONE;
	case MXT_DNS_SERVFAIL:
	case MXT_DNS_REFUSED:
	case MXT_DNS_TIMEOUT:
	case MXT_DNS_UNREACHABLE:
	case MXT_DNS_BADRESP:
	case MXT_DNS_ERROR:
	default:
		/* RFC 7672 §2.2: a failed TLSA lookup of a secure host makes the
		 * host unusable; of an insecure one, it does not matter. */
		return x->dane == MXT_DANE_LOOKUP_DONE ? TS_FAILED : TS_NONE;
	}
	if (x->ntlsa == 0)
		return TS_NONE;
	if (x->dane != MXT_DANE_LOOKUP_DONE || !x->q_tlsa.authentic)
		return TS_INSECURE;
	for (i = 0; i < x->ntlsa; i++)
		if (mxt_tlsa_usable(&x->tlsa[i]))
			return TS_USABLE;
	return TS_UNUSABLE;
}

static void
sb_tlsa_list(struct sb *b, const struct mxt_exchanger *x)
{
	size_t i;

	for (i = 0; i < x->ntlsa && i < 4; i++) {
		char *s = mxt_tlsa_text(&x->tlsa[i]);

		mxt_sb_printf(b, "%s%s", i ? ", " : "", s);
		free(s);
	}
	if (x->ntlsa > 4)
		mxt_sb_printf(b, " and %zu more", x->ntlsa - 4);
}

/* Did this attempt complete TLS (STARTTLS or implicit)? Why not? */
static const char *
tls_missing(const struct mxt_attempt *a)
{
	if (a->tls.attempted && a->tls.ok)
		return NULL;
	if (a->connect != MXT_CONN_OK)
		return "cannot be reached";
	if (a->tls.attempted)
		return "fails the TLS handshake";
	if (a->have_caps && !(a->caps.flags & MXT_CAP_STARTTLS))
		return "does not offer STARTTLS";
	return "ended the session before TLS";
}

/* ---- DANE ---- */

struct dane_walk {
	int applies;	   /* some exchanger has DANE (usable, unusable, failed) */
	int pass;	   /* some exchanger a DANE sender would deliver to */
	struct sb why_ok;  /* the first exchanger that passes */
	struct sb why_bad; /* the first reason to defer */
};

/* One exchanger: its findings, and whether a DANE sender may use it. */
static void
dane_exchanger(struct ctx *c, size_t xi, struct dane_walk *w)
{
	struct mxt_target *t = c->t;
	const struct mxt_exchanger *x = &t->dns.mx[xi];
	enum tlsa_state st = tlsa_state(x);
	struct sb ev = {0};
	size_t i;
	int ok = 0, seen = 0;

	mxt_scope_reset(c);
	if (st == TS_INSECURE) {
		mxt_sb_printf(&ev, "_25._tcp.%s: ", x->name);
		sb_tlsa_list(&ev, x);
		mxt_sb_puts(&ev,
		    x->dane == MXT_DANE_LOOKUP_INSECURE
			? " (the MX host's address answers are not DNSSEC-validated)"
			: " (the TLSA answer is not DNSSEC-validated)");
		mxt_emit(c, DIAG_DANE_TLSA_INSECURE, x->name, NULL, &ev);
	}
	if (st == TS_NONE || st == TS_INSECURE) {
		/* Not DANE-protected: the sender uses it as any sender would. */
		for (i = 0; i < t->nattempts; i++)
			if (t->attempts[i].mx_index == xi && primary(&t->attempts[i]) &&
			    t->attempts[i].connect == MXT_CONN_OK)
				ok = 1;
		if (ok && !w->pass) {
			w->pass = 1;
			mxt_sb_printf(&w->why_ok, "%s has no DANE TLSA records %s", x->name,
			    st == TS_INSECURE ? "a sender may trust" : "");
		}
		return;
	}
	w->applies = 1;
	if (st == TS_FAILED) {
		mxt_sb_printf(
		    &ev, "TLSA _25._tcp.%s: %s", x->name, mxt_dns_status_text(x->q_tlsa.status));
		mxt_emit(c, DIAG_DANE_TLSA_LOOKUP_FAILED, x->name, NULL, &ev);
		if (w->why_bad.len == 0)
			mxt_sb_printf(&w->why_bad, "the TLSA lookup for %s failed (%s)", x->name,
			    mxt_dns_status_text(x->q_tlsa.status));
		return;
	}
	if (st == TS_UNUSABLE) {
		mxt_sb_printf(&ev, "_25._tcp.%s: ", x->name);
		sb_tlsa_list(&ev, x);
		mxt_emit(c, DIAG_DANE_NO_USABLE_TLSA, x->name, NULL, &ev);
	}
	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];
		const char *miss;

		if (a->mx_index != xi || !primary(a))
			continue;
		seen = 1;
		miss = tls_missing(a);
		if (miss != NULL) {
			if (a->connect == MXT_CONN_OK) {
				mxt_sb_where(&ev, t, a);
				mxt_sb_printf(&ev, " %s; TLSA: ", miss);
				sb_tlsa_list(&ev, x);
				mxt_emit_a(c, a, DIAG_DANE_NO_STARTTLS, &ev);
			}
			if (w->why_bad.len == 0) {
				mxt_sb_where(&w->why_bad, t, a);
				mxt_sb_printf(&w->why_bad, " %s while TLSA records exist", miss);
			}
			continue;
		}
		if (st == TS_UNUSABLE) {
			ok = 1; /* RFC 7672 §2.2: encrypted, not authenticated */
			continue;
		}
		if (a->tls.dane_ok) {
			mxt_sb_where(&ev, t, a);
			mxt_sb_printf(&ev, ": TLSA %s matched at depth %d",
			    a->tls.dane_match != NULL ? a->tls.dane_match : "?", a->tls.dane_depth);
			mxt_emit_a(c, a, DIAG_DANE_MATCH, &ev);
			if (!ok && !w->pass) {
				mxt_sb_where(&w->why_ok, t, a);
				mxt_sb_printf(&w->why_ok, " matched TLSA %s",
				    a->tls.dane_match != NULL ? a->tls.dane_match : "?");
			}
			ok = 1;
		} else {
			mxt_sb_where(&ev, t, a);
			mxt_sb_printf(&ev, ": %s; TLSA: ",
			    a->tls.dane_verify_error != NULL ? a->tls.dane_verify_error
							     : "no TLSA record matches");
			sb_tlsa_list(&ev, x);
			mxt_emit_a(c, a, DIAG_DANE_MISMATCH, &ev);
			if (w->why_bad.len == 0) {
				mxt_sb_puts(
				    &w->why_bad, "no TLSA record matches the certificate of ");
				mxt_sb_where(&w->why_bad, t, a);
			}
		}
	}
	if (!seen && w->why_bad.len == 0)
		mxt_sb_printf(&w->why_bad, "%s was not probed", x->name);
	if (ok && !w->pass) {
		w->pass = 1;
		if (w->why_ok.len == 0)
			mxt_sb_printf(
			    &w->why_ok, "%s completes TLS as its TLSA records require", x->name);
	}
}

static void
classify_dane(struct ctx *c)
{
	struct mxt_target *t = c->t;
	struct dane_walk w;
	struct sb sum = {0};
	size_t i;
	int eligible = 0, looked = 0;

	memset(&w, 0, sizeof(w));
	if (t->request.no_dane)
		return;
	if (t->dns.source == MXT_MX_SOURCE_NULL || t->dns.source == MXT_MX_SOURCE_NONE)
		return;
	for (i = 0; i < t->dns.nmx; i++) {
		if (t->dns.mx[i].dane == MXT_DANE_LOOKUP_DONE)
			eligible = 1;
		if (t->dns.mx[i].dane != MXT_DANE_LOOKUP_NOT_RUN)
			looked = 1;
	}
	if (!looked) /* no exchanger was looked at (no address, --server): no verdict */
		return;
	for (i = 0; i < t->dns.nmx; i++)
		if (mxt_exchanger_usable(&t->dns.mx[i]))
			dane_exchanger(c, i, &w);
	mxt_scope_reset(c);
	/* RFC 7672 §2.1: the AD bit is only as good as the path to the
	 * resolver; say so when DANE depends on it. */
	if (eligible && !t->dns.resolver_loopback) {
		struct sb ev = {0};

		mxt_sb_printf(&ev, "resolver %s", t->dns.resolver != NULL ? t->dns.resolver : "?");
		mxt_emit(c, DIAG_DNS_RESOLVER_NOT_LOCAL, NULL, NULL, &ev);
	}
	if (!w.applies) {
		t->verdict.dane = "not_applicable";
		mxt_sb_puts(&sum,
		    eligible ? "no MX host publishes TLSA records: DANE does not apply"
			     : "the MX hosts' DNS answers are not DNSSEC-validated: DANE does not "
			       "apply");
	} else if (w.pass) {
		t->verdict.dane = "deliver";
		mxt_sb_puts(&sum, "a DANE-enforcing sender would deliver: ");
		mxt_sb_putn(&sum, w.why_ok.p != NULL ? w.why_ok.p : "", w.why_ok.len);
	} else {
		t->verdict.dane = "defer";
		mxt_sb_puts(&sum, "a DANE-enforcing sender would defer, because ");
		mxt_sb_putn(&sum, w.why_bad.p != NULL ? w.why_bad.p : "", w.why_bad.len);
	}
	t->verdict.dane_summary = mxt_sb_take(&sum);
	mxt_sb_free(&w.why_ok);
	mxt_sb_free(&w.why_bad);
}

/* ---- MTA-STS and TLS-RPT ---- */

/* Why an exchanger fails the enforced policy (RFC 8461 §4), NULL if it
 * passes; the finding code in *id. */
static const char *
sts_fails(const struct mxt_sts *s, const char *name, const struct mxt_attempt *a, enum diag *id)
{
	size_t i;
	int listed = 0;

	for (i = 0; i < s->nmx && !listed; i++)
		listed = mxt_sts_mx_match(s->mx[i], name);
	if (!listed) {
		*id = DIAG_MTA_STS_MX_NOT_LISTED;
		return "is not listed in the policy";
	}
	if (a == NULL)
		return NULL;
	if (tls_missing(a) != NULL) {
		*id = DIAG_MTA_STS_NO_TLS;
		return tls_missing(a);
	}
	if (!a->tls.have_cert || !a->tls.chain_ok || !a->tls.name_ok) {
		*id = DIAG_MTA_STS_CERT_INVALID;
		return "presents a certificate MTA-STS does not accept";
	}
	return NULL;
}

static void
classify_sts(struct ctx *c)
{
	struct mxt_target *t = c->t;
	struct mxt_sts *s = &t->sts;
	struct mxt_tlsrpt *r = &t->tlsrpt;
	struct sb sum = {0}, ev = {0}, bad = {0}, good = {0};
	size_t i, j;
	int pass = 0, fails = 0;

	if (!s->enabled)
		return;
	mxt_scope_reset(c);
	/* TLS-RPT (RFC 8460 §3). */
	if (r->nrecords > 0 && !r->valid) {
		mxt_sb_printf(&ev, "_smtp._tls.%s: ", t->domain);
		mxt_sb_puts(&ev, r->txt != NULL ? r->txt : "");
		mxt_sb_printf(&ev, " (%s)", r->error != NULL ? r->error : "invalid");
		mxt_emit(c, DIAG_TLSRPT_INVALID, NULL, NULL, &ev);
	} else if (r->valid) {
		mxt_sb_puts(&ev, "rua=");
		for (i = 0; i < r->nrua; i++)
			mxt_sb_printf(&ev, "%s%s", i ? "," : "", r->rua[i]);
		mxt_emit(c, DIAG_TLSRPT_PRESENT, NULL, NULL, &ev);
	}
	if (s->q_txt.status != MXT_DNS_OK || s->ntxt == 0) {
		t->verdict.mta_sts = "not_applicable";
		mxt_sb_printf(&sum, "no _mta-sts TXT record (%s): MTA-STS does not apply",
		    mxt_dns_status_text(
			s->q_txt.status == MXT_DNS_OK ? MXT_DNS_NODATA : s->q_txt.status));
		goto done;
	}
	if (!s->txt_valid) {
		mxt_sb_printf(&ev, "_mta-sts.%s: ", t->domain);
		mxt_sb_puts(&ev, s->txt != NULL ? s->txt : "");
		mxt_sb_printf(&ev, " (%s)", s->txt_error != NULL ? s->txt_error : "invalid");
		mxt_emit(c, DIAG_MTA_STS_TXT_INVALID, NULL, NULL, &ev);
		t->verdict.mta_sts = "not_applicable";
		mxt_sb_puts(&sum, "the _mta-sts TXT record is invalid, so senders see no policy");
		goto done;
	}
	if (s->fetch != MXT_STS_FETCH_OK) {
		if (s->fetch == MXT_STS_FETCH_NO_HOST) {
			mxt_sb_printf(&ev, "mta-sts.%s: A %s, AAAA %s", t->domain,
			    mxt_dns_status_text(s->q_host_a.status),
			    mxt_dns_status_text(s->q_host_aaaa.status));
			mxt_emit(c, DIAG_MTA_STS_POLICY_HOST_MISSING, NULL, NULL, &ev);
		} else {
			mxt_sb_printf(&ev, "https://mta-sts.%s/.well-known/mta-sts.txt: %s (%s)",
			    t->domain, mxt_sts_fetch_name(s->fetch),
			    s->fetch_error != NULL ? s->fetch_error : "?");
			mxt_emit(c, DIAG_MTA_STS_POLICY_FETCH_FAILED, NULL, NULL, &ev);
		}
		t->verdict.mta_sts = "not_applicable";
		mxt_sb_printf(&sum,
		    "the policy cannot be fetched (%s): a sender without a cached policy "
		    "delivers without MTA-STS, one holding an earlier policy keeps enforcing it",
		    s->fetch == MXT_STS_FETCH_NO_HOST ? "mta-sts host has no address"
						      : mxt_sts_fetch_name(s->fetch));
		goto done;
	}
	if (!s->policy_valid) {
		mxt_sb_puts(&ev, s->policy_error != NULL ? s->policy_error : "invalid");
		mxt_emit(c, DIAG_MTA_STS_POLICY_INVALID, NULL, NULL, &ev);
		t->verdict.mta_sts = "not_applicable";
		mxt_sb_puts(
		    &sum, "the policy does not parse, so senders treat the domain as having none");
		goto done;
	}
	if (s->mode == MXT_STS_MODE_NONE) {
		mxt_sb_printf(&ev, "policy id %s, mode none", s->id);
		mxt_emit(c, DIAG_MTA_STS_MODE_NONE, NULL, NULL, &ev);
		t->verdict.mta_sts = "not_applicable";
		mxt_sb_puts(&sum, "the policy is in mode none: MTA-STS does not apply");
		goto done;
	}
	/* RFC 8461 §4, §5: every MX in preference order, against the policy. */
	for (i = 0; i < t->dns.nmx; i++) {
		const struct mxt_exchanger *x = &t->dns.mx[i];
		const struct mxt_attempt *a = NULL;
		const char *why;
		enum diag id = DIAG_NONE;

		if (!mxt_exchanger_usable(x))
			continue;
		mxt_scope_reset(c);
		for (j = 0; j < t->nattempts; j++)
			if (t->attempts[j].mx_index == i && primary(&t->attempts[j])) {
				a = &t->attempts[j];
				break;
			}
		why = sts_fails(s, x->name, a, &id);
		if (why == NULL) {
			if (a != NULL && !pass) {
				pass = 1;
				mxt_sb_printf(&good,
				    "%s matches the policy and presents a valid "
				    "certificate",
				    x->name);
			}
			continue;
		}
		fails++;
		if (a != NULL)
			mxt_sb_where(&ev, t, a);
		else
			mxt_sb_puts(&ev, x->name);
		mxt_sb_printf(&ev, " %s", why);
		if (id == DIAG_MTA_STS_MX_NOT_LISTED) {
			mxt_sb_puts(&ev, " (mx:");
			for (j = 0; j < s->nmx; j++)
				mxt_sb_printf(&ev, " %s", s->mx[j]);
			mxt_sb_puts(&ev, ")");
		} else if (id == DIAG_MTA_STS_CERT_INVALID && a != NULL) {
			mxt_sb_printf(&ev, ": %s",
			    !a->tls.chain_ok && a->tls.verify_error != NULL ? a->tls.verify_error
				: !a->tls.name_ok			    ? "name mismatch"
									    : "no certificate");
		}
		if (bad.len == 0 && ev.p != NULL)
			mxt_sb_putn(&bad, ev.p, ev.len);
		mxt_emit(c, s->mode == MXT_STS_MODE_ENFORCE ? id : DIAG_MTA_STS_TESTING_FAILURE,
		    x->name, a != NULL ? a->addr.text : NULL, &ev);
	}
	mxt_scope_reset(c);
	if (s->mode == MXT_STS_MODE_TESTING) {
		mxt_sb_printf(
		    &ev, "policy id %s, mode testing, max_age %lld", s->id, (long long)s->max_age);
		mxt_emit(c, DIAG_MTA_STS_TESTING, NULL, NULL, &ev);
		t->verdict.mta_sts = "deliver";
		mxt_sb_printf(&sum,
		    "an MTA-STS-enforcing sender would deliver: the policy is in testing mode%s",
		    fails ? " (the failures found would only be reported)" : "");
		goto done;
	}
	if (!r->valid) {
		mxt_sb_printf(&ev, "_smtp._tls.%s: %s", t->domain,
		    r->nrecords == 0 ? mxt_dns_status_text(r->q_txt.status) : "invalid");
		mxt_emit(c, DIAG_TLSRPT_MISSING, NULL, NULL, &ev);
	}
	if (pass) {
		if (fails == 0) {
			mxt_sb_printf(&ev, "policy id %s, mode enforce, max_age %lld", s->id,
			    (long long)s->max_age);
			mxt_emit(c, DIAG_MTA_STS_OK, NULL, NULL, &ev);
		}
		t->verdict.mta_sts = "deliver";
		mxt_sb_puts(&sum, "an MTA-STS-enforcing sender would deliver: ");
		mxt_sb_putn(&sum, good.p != NULL ? good.p : "", good.len);
	} else {
		t->verdict.mta_sts = "defer";
		mxt_sb_puts(&sum, "an MTA-STS-enforcing sender would defer, because ");
		mxt_sb_putn(&sum, bad.p != NULL ? bad.p : "no MX was probed",
		    bad.p != NULL ? bad.len : strlen("no MX was probed"));
	}
done:
	mxt_sb_free(&ev);
	mxt_sb_free(&bad);
	mxt_sb_free(&good);
	t->verdict.mta_sts_summary = mxt_sb_take(&sum);
}

void
mxt_classify_transport(struct ctx *c)
{
	classify_dane(c);
	classify_sts(c);
	mxt_scope_reset(c);
}

void
mxt_transport_verdict(struct ctx *c)
{
	struct mxt_target *t = c->t;
	int defer = (t->verdict.dane != NULL && strcmp(t->verdict.dane, "defer") == 0) ||
	    (t->verdict.mta_sts != NULL && strcmp(t->verdict.mta_sts, "defer") == 0);

	/* A sender enforcing the domain's own policy would not deliver: that
	 * is as broken as a refusal for the share of senders that enforce. */
	if (defer && t->verdict.status != MXT_STATUS_CRITICAL)
		t->verdict.status = MXT_STATUS_CRITICAL;
}
