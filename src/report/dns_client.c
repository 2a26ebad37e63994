/* SPDX-License-Identifier: MIT */
/*
 * DNS and client findings: the MX lookup (RFC 5321 §5.1, RFC 7505 null
 * MX), each exchanger's name and addresses, and the client's identity as
 * receivers judge it (PTR, forward-confirmed reverse DNS, the EHLO name,
 * RFC 5321 §4.1.4).  Findings only: the verdict walk is in verdict.c.
 */
#include <string.h>

#include "classify.h"

/* The code for a lookup that gave no verdict on the name, or -1. */
int
mxt_dns_failure_diag(enum mxt_dns_status s)
{
	switch (s) {
	case MXT_DNS_SERVFAIL:
		return DIAG_DNS_SERVFAIL;
	case MXT_DNS_TIMEOUT:
		return DIAG_DNS_TIMEOUT;
	case MXT_DNS_UNREACHABLE:
		return DIAG_DNS_UNREACHABLE;
	case MXT_DNS_REFUSED:
		return DIAG_DNS_REFUSED;
	case MXT_DNS_BADRESP:
	case MXT_DNS_ERROR:
		return DIAG_DNS_ERROR;
	case MXT_DNS_NOT_RUN:
	case MXT_DNS_OK:
	case MXT_DNS_NODATA:
	case MXT_DNS_NXDOMAIN:
	default:
		return -1;
	}
}

/* "TYPE name: STATUS (error) from resolver" */
static void
sb_query(struct sb *b, const struct mxt_target *t, const char *type, const char *name,
    const struct mxt_dns_query *q)
{
	mxt_sb_printf(
	    b, "%s %s: %s", type, name != NULL ? name : "?", mxt_dns_status_text(q->status));
	if (q->error != NULL)
		mxt_sb_printf(b, " (%s)", q->error);
	if (t->dns.resolver != NULL && q->status != MXT_DNS_OK)
		mxt_sb_printf(b, " from %s", t->dns.resolver);
}

int
mxt_exchanger_inconclusive(const struct mxt_exchanger *x)
{
	return mxt_dns_failure_diag(x->q_a.status) >= 0 ||
	    mxt_dns_failure_diag(x->q_aaaa.status) >= 0;
}

/* Neither A nor AAAA gave an address, and at least one said so for sure. */
static int
exchanger_negative(const struct mxt_exchanger *x)
{
	enum mxt_dns_status a = x->q_a.status, aaaa = x->q_aaaa.status;

	if (x->naddrs > 0 || mxt_exchanger_inconclusive(x))
		return 0;
	return a == MXT_DNS_NODATA || a == MXT_DNS_NXDOMAIN || aaaa == MXT_DNS_NODATA ||
	    aaaa == MXT_DNS_NXDOMAIN;
}

static void
classify_exchanger(struct ctx *c, const struct mxt_exchanger *x)
{
	const struct mxt_target *t = c->t;
	int implicit = t->dns.source == MXT_MX_SOURCE_IMPLICIT;
	int nx, id_a, id_aaaa;
	struct sb ev = {0};

	mxt_scope_reset(c);
	if (x->flags & MXT_XF_INVALID_NAME) {
		mxt_sb_printf(&ev, "MX %s: %d %s", mxt_target_domain(t), x->preference,
		    x->name != NULL ? x->name : "");
		mxt_emit(c, DIAG_DNS_MX_INVALID_NAME, x->name, NULL, &ev);
		return;
	}
	if (x->flags & MXT_XF_IP_LITERAL) {
		mxt_sb_printf(&ev, "MX %s: %d %s (an address, not a host name)",
		    mxt_target_domain(t), x->preference, x->name != NULL ? x->name : "");
		mxt_emit(c, DIAG_DNS_MX_IP_LITERAL, x->name, NULL, &ev);
	}
	if (x->flags & MXT_XF_LOOPBACK_ADDRESS) {
		mxt_sb_printf(&ev,
		    "A/AAAA of %s: a loopback address (127.0.0.0/8 or ::1) was left out",
		    x->name != NULL ? x->name : "");
		mxt_emit(c, DIAG_DNS_MX_LOOPBACK, x->name, NULL, &ev);
	}
	if (x->flags & MXT_XF_UNUSABLE_ADDRESS) {
		mxt_sb_printf(&ev,
		    "A/AAAA of %s: an unusable address (unspecified, broadcast, multicast or "
		    "reserved) was left out",
		    x->name != NULL ? x->name : "");
		mxt_emit(c, DIAG_DNS_MX_UNUSABLE_ADDRESS, x->name, NULL, &ev);
	}
	if (x->flags & MXT_XF_CNAME) {
		mxt_sb_printf(&ev, "MX %s: %d %s, which is an alias (CNAME) for %s",
		    mxt_target_domain(t), x->preference, x->name != NULL ? x->name : "",
		    x->cname != NULL ? x->cname : "another name");
		mxt_emit(c, DIAG_DNS_MX_CNAME, x->name, NULL, &ev);
	}
	nx = (x->flags & MXT_XF_NXDOMAIN) ||
	    (x->q_a.status == MXT_DNS_NXDOMAIN && x->q_aaaa.status == MXT_DNS_NXDOMAIN);
	if (!implicit && nx) {
		sb_query(&ev, t, "A/AAAA", x->name,
		    x->q_a.status == MXT_DNS_NXDOMAIN ? &x->q_a : &x->q_aaaa);
		mxt_emit(c, DIAG_DNS_MX_NXDOMAIN, x->name, NULL, &ev);
	} else if (!implicit && !(x->flags & (MXT_XF_UNUSABLE_ADDRESS | MXT_XF_LOOPBACK_ADDRESS)) &&
	    ((x->flags & MXT_XF_NO_ADDRESS) || exchanger_negative(x))) {
		sb_query(&ev, t, "A", x->name, &x->q_a);
		mxt_sb_puts(&ev, " / ");
		sb_query(&ev, t, "AAAA", x->name, &x->q_aaaa);
		mxt_emit(c, DIAG_DNS_MX_NO_ADDRESS, x->name, NULL, &ev);
	}
	/* Lookups of the exchanger's addresses that failed for now. */
	id_a = mxt_dns_failure_diag(x->q_a.status);
	id_aaaa = mxt_dns_failure_diag(x->q_aaaa.status);
	if (id_a >= 0) {
		sb_query(&ev, t, "A", x->name, &x->q_a);
		if (id_aaaa == id_a) {
			mxt_sb_puts(&ev, " / ");
			sb_query(&ev, t, "AAAA", x->name, &x->q_aaaa);
		}
		mxt_emit(c, (enum diag)id_a, x->name, NULL, &ev);
	}
	if (id_aaaa >= 0 && id_aaaa != id_a) {
		sb_query(&ev, t, "AAAA", x->name, &x->q_aaaa);
		mxt_emit(c, (enum diag)id_aaaa, x->name, NULL, &ev);
	}
}

void
mxt_classify_dns(struct ctx *c)
{
	const struct mxt_target *t = c->t;
	const struct mxt_dns *d = &t->dns;
	const char *dom = mxt_target_domain(t);
	struct sb ev = {0};
	size_t i, nover = 0;
	int id, any_addr = 0, inconclusive = 0;

	mxt_scope_reset(c);
	/* RFC 5321 §5.1: NXDOMAIN is an error; a temporary failure is not. */
	if (d->q_mx.status == MXT_DNS_NXDOMAIN) {
		sb_query(&ev, t, "MX", dom, &d->q_mx);
		mxt_emit(c, DIAG_DNS_DOMAIN_NXDOMAIN, dom, NULL, &ev);
	} else if ((id = mxt_dns_failure_diag(d->q_mx.status)) >= 0) {
		sb_query(&ev, t, "MX", dom, &d->q_mx);
		mxt_emit(c, (enum diag)id, dom, NULL, &ev);
	}
	/* RFC 7505 §3: a null MX must stand alone. */
	if (d->source == MXT_MX_SOURCE_NULL || d->null_mx_mixed) {
		mxt_sb_printf(&ev, "MX %s: 0 .", dom);
		if (d->null_mx_mixed) {
			for (i = 0; i < d->nmx; i++) {
				if (d->mx[i].flags & MXT_XF_NULL)
					continue;
				mxt_sb_printf(&ev, " / %d %s", d->mx[i].preference,
				    d->mx[i].name != NULL ? d->mx[i].name : "?");
			}
		}
		mxt_emit(c, d->null_mx_mixed ? DIAG_DNS_NULL_MX_WITH_MX : DIAG_DNS_NULL_MX, dom,
		    NULL, &ev);
	}
	for (i = 0; i < d->nmx; i++) {
		if (d->mx[i].naddrs > 0)
			any_addr = 1;
		if (mxt_exchanger_inconclusive(&d->mx[i]))
			inconclusive = 1;
	}
	mxt_scope_reset(c);
	if (d->source == MXT_MX_SOURCE_IMPLICIT) {
		/* RFC 5321 §5.1: no MX, so the domain itself is the exchanger. */
		mxt_sb_printf(&ev, "MX %s: NODATA; using the A/AAAA records of %s", dom, dom);
		mxt_emit(c, DIAG_DNS_NO_MX_IMPLICIT, dom, NULL, &ev);
		if (!any_addr && !inconclusive) {
			mxt_sb_printf(&ev, "MX %s: NODATA / A and AAAA %s: no records", dom, dom);
			mxt_emit(c, DIAG_DNS_NO_ADDRESS, dom, NULL, &ev);
		}
	} else if (d->source == MXT_MX_SOURCE_NONE && d->q_mx.status == MXT_DNS_NODATA) {
		mxt_sb_printf(&ev, "MX %s: NODATA / A and AAAA %s: no records", dom, dom);
		mxt_emit(c, DIAG_DNS_NO_ADDRESS, dom, NULL, &ev);
	}
	/* Beside a null MX the other records are never used: not judged. */
	for (i = 0; i < d->nmx && d->source != MXT_MX_SOURCE_NULL; i++) {
		if (d->mx[i].flags & MXT_XF_NULL)
			continue;
		if (d->mx[i].flags & MXT_XF_OVER_LIMIT) {
			nover++;
			continue;
		}
		classify_exchanger(c, &d->mx[i]);
	}
	if (nover > 0) {
		mxt_scope_reset(c);
		mxt_sb_printf(&ev, "%zu MX host(s) not probed:", nover);
		for (i = 0; i < d->nmx; i++)
			if (d->mx[i].flags & MXT_XF_OVER_LIMIT)
				mxt_sb_printf(
				    &ev, " %s", d->mx[i].name != NULL ? d->mx[i].name : "?");
		mxt_emit(c, DIAG_DNS_MX_OVER_LIMIT, dom, NULL, &ev);
	}
}

/* ---- the client's identity ---- */

void
mxt_classify_client(struct ctx *c)
{
	const struct mxt_client *cl = &c->t->client;
	const char *ip = cl->egress != NULL ? cl->egress
	    : cl->local_v4 != NULL	    ? cl->local_v4
					    : cl->local_v6;
	struct sb ev = {0};
	enum mxt_dns_status ps = cl->q_ptr.status;

	mxt_scope_reset(c);
	if (ps == MXT_DNS_NXDOMAIN || ps == MXT_DNS_NODATA ||
	    (ps == MXT_DNS_OK && (cl->ptr == NULL || *cl->ptr == '\0'))) {
		mxt_sb_printf(&ev, "PTR of %s: %s", ip != NULL ? ip : "the sending address",
		    ps == MXT_DNS_OK ? "NODATA" : mxt_dns_status_text(ps));
		mxt_emit(c, DIAG_CLIENT_PTR_MISSING, NULL, ip, &ev);
	} else if (ps == MXT_DNS_BADRESP) {
		/* c-ares refuses PTR names with control bytes (RFC 1035 §2.3.1 host
		 * names); docs/diagnoses.md, client.ptr_invalid. */
		mxt_sb_printf(&ev,
		    "PTR of %s: a malformed answer or a name that is not a host name",
		    ip != NULL ? ip : "the sending address");
		mxt_emit(c, DIAG_CLIENT_PTR_INVALID, NULL, ip, &ev);
	} else if (ps == MXT_DNS_OK && !cl->fcrdns) {
		mxt_sb_printf(&ev, "PTR of %s: %s, but %s does not resolve back to %s",
		    ip != NULL ? ip : "the sending address", cl->ptr, cl->ptr,
		    ip != NULL ? ip : "it");
		mxt_emit(c, DIAG_CLIENT_PTR_MISMATCH, NULL, ip, &ev);
	}
	/* An address literal ("[192.0.2.1]", RFC 5321 §4.1.3) needs no DNS. */
	if (cl->ehlo_name != NULL && *cl->ehlo_name != '\0' && cl->ehlo_name[0] != '[' &&
	    !cl->ehlo_resolves &&
	    !(cl->ehlo_from != NULL && strcmp(cl->ehlo_from, "literal") == 0)) {
		mxt_sb_printf(&ev, "EHLO %s: the name has no A/AAAA record", cl->ehlo_name);
		if (cl->ehlo_from != NULL)
			mxt_sb_printf(&ev, " (name taken from %s)", cl->ehlo_from);
		mxt_emit(c, DIAG_CLIENT_EHLO_NAME_UNRESOLVABLE, NULL, ip, &ev);
	}
}
