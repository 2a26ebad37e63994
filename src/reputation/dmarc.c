/* SPDX-License-Identifier: MIT */
/*
 * DMARC (RFC 7489) of the sender's domain (--from): the _dmarc TXT record of
 * the domain, else of its organizational domain (RFC 7489 §3.2, §6.6.3,
 * with the Public Suffix List through libpsl), parsed into policy,
 * alignment and report addresses, or the reason it is invalid.  It does not
 * evaluate DMARC (that needs the message's DKIM signatures and From header);
 * the report stage combines the policy with the SPF result.
 */
#include <arpa/nameser.h>
#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "rep.h"

struct dmq {
	struct rep *rp;
	int org; /* this is the organizational domain's lookup */
};

/* Trim spaces and tabs (RFC 7489 §6.4 WSP) at both ends, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int __attribute__((format(printf, 2, 3))) invalid(struct mxt_dmarc *d, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(d->error);
	d->error = mxt_xstrdup(buf);
	d->status = MXT_DMARC_INVALID;
	return -1;
}

static int
is_policy(const char *v)
{
	return strcmp(v, "none") == 0 || strcmp(v, "quarantine") == 0 || strcmp(v, "reject") == 0;
}

int
mxt_dmarc_parse(const char *record, struct mxt_dmarc *d)
{
	char *copy = mxt_xstrdup(record), *p = copy, *tag;
	int first = 1, rc = 0;

	d->pct = 100;
	d->adkim = d->aspf = 'r';
	/* RFC 7489 §6.4: tag=value pairs separated by ";"; v=DMARC1 first. */
	while (rc == 0 && p != NULL) {
		char *semi = strchr(p, ';'), *eq, *name, *val;

		if (semi != NULL)
			*semi++ = '\0';
		tag = trim(p);
		p = semi;
		if (*tag == '\0') {
			if (first) {
				rc = invalid(d, "the record is empty");
				break;
			}
			continue;
		}
		eq = strchr(tag, '=');
		if (eq == NULL) {
			rc = invalid(d, "\"%s\" is not a tag=value pair (a missing \";\"?)", tag);
			break;
		}
		*eq = '\0';
		name = trim(tag);
		val = trim(eq + 1);
		if (first) {
			if (strcmp(name, "v") == 0 && strncmp(val, "DMARC1", 6) == 0 &&
			    (val[6] == ' ' || val[6] == '\t'))
				rc = invalid(d, "tags must be separated by \";\" (\"v=%s\")", val);
			else if (strcmp(name, "v") != 0 || strcmp(val, "DMARC1") != 0)
				rc = invalid(d, "the record must start with v=DMARC1");
			first = 0;
			continue;
		}
		if (strcasecmp(name, "p") == 0) {
			if (!is_policy(val))
				rc = invalid(
				    d, "p=%s is not a policy (none, quarantine, reject)", val);
			else if (d->policy == NULL)
				d->policy = mxt_xstrdup(val);
		} else if (strcasecmp(name, "sp") == 0) {
			if (!is_policy(val))
				rc = invalid(
				    d, "sp=%s is not a policy (none, quarantine, reject)", val);
			else if (d->subdomain_policy == NULL)
				d->subdomain_policy = mxt_xstrdup(val);
		} else if (strcasecmp(name, "pct") == 0) {
			char *end;
			long n = strtol(val, &end, 10);

			if (*val == '\0' || *end != '\0' || n < 0 || n > 100)
				rc = invalid(d, "pct=%s is not a number from 0 to 100", val);
			else
				d->pct = (int)n;
		} else if (strcasecmp(name, "adkim") == 0 || strcasecmp(name, "aspf") == 0) {
			if (strcmp(val, "r") != 0 && strcmp(val, "s") != 0)
				rc = invalid(d, "alignment mode %s is neither r nor s", val);
			else if (strcasecmp(name, "adkim") == 0)
				d->adkim = val[0];
			else
				d->aspf = val[0];
		} else if (strcasecmp(name, "rua") == 0) {
			if (strncasecmp(val, "mailto:", 7) != 0)
				rc = invalid(
				    d, "rua=%s is not a mailto: URI (RFC 7489 section 6.2)", val);
			else if (d->rua == NULL)
				d->rua = mxt_xstrdup(val);
		}
		/* RFC 7489 §6.3: unknown tags (and ruf, fo, rf, ri) are ignored. */
	}
	if (rc == 0 && first)
		rc = invalid(d, "the record must start with v=DMARC1");
	/* RFC 7489 §6.6.3 step 6: no valid p= and no rua: no DMARC at all. */
	if (rc == 0 && d->policy == NULL)
		rc = invalid(d, "the p= tag (the policy) is missing");
	if (rc == 0)
		d->status = MXT_DMARC_OK;
	free(copy);
	return rc;
}

static void on_txt(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen);

static void
lookup(struct rep *rp, const char *domain, int org)
{
	struct dmq *q = mxt_xcalloc(1, sizeof(*q));
	char name[MXT_DOMAIN_MAX + 16];

	q->rp = rp;
	q->org = org;
	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	free(rp->t->sender_auth.dmarc.found_at);
	rp->t->sender_auth.dmarc.found_at = mxt_xstrdup(domain);
	mxt_rep_hold(rp);
	mxt_resolver_query_for(
	    rp->r, rp, rp->arg, name, T_TXT, &rp->t->sender_auth.dmarc.q, on_txt, q);
}

/* The organizational domain (RFC 7489 §3.2), when it differs.  Caller
 * frees; NULL when the domain is its own or the PSL is unavailable. */
static char *
org_domain(const char *domain)
{
	psl_ctx_t *psl = psl_latest(NULL);
	const char *reg;
	char *out = NULL;

	if (psl == NULL)
		return NULL;
	reg = psl_registrable_domain(psl, domain);
	if (reg != NULL && strcasecmp(reg, domain) != 0)
		out = mxt_xstrdup(reg);
	psl_free(psl);
	return out;
}

static void
on_txt(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct dmq *q = arg;
	struct rep *rp = q->rp;
	struct mxt_dmarc *d = &rp->t->sender_auth.dmarc;
	size_t n = 0;
	char *rec = NULL, *org;

	if (st == MXT_DNS_OK)
		rec = mxt_rep_txt(abuf, alen, "v=DMARC1", &n);
	if (st != MXT_DNS_OK && st != MXT_DNS_NODATA && st != MXT_DNS_NXDOMAIN) {
		d->status = MXT_DMARC_ERROR;
	} else if (n > 1) {
		/* RFC 7489 §6.6.3 step 5: several records: no DMARC. */
		d->record = rec;
		rec = NULL;
		d->status = MXT_DMARC_INVALID;
		d->error = mxt_xstrdup("more than one DMARC record (RFC 7489 section 6.6.3)");
	} else if (n == 1) {
		d->record = rec;
		rec = NULL;
		mxt_dmarc_parse(d->record, d);
	} else if (!q->org && !rp->expired && (org = org_domain(d->domain)) != NULL) {
		lookup(rp, org, 1);
		free(org);
	} else {
		d->status = MXT_DMARC_MISSING;
		free(d->found_at);
		d->found_at = NULL;
	}
	free(rec);
	free(q);
	mxt_rep_release(rp);
}

void
mxt_rep_dmarc_start(struct rep *rp)
{
	const struct mxt_config *cfg = rp->cfg;
	const char *at = cfg->from != NULL ? strrchr(cfg->from, '@') : NULL;

	/* DMARC is about the author's domain; without --from there is none. */
	if (cfg->no_spf || cfg->submission || at == NULL || at[1] == '\0')
		return;
	rp->t->sender_auth.dmarc.domain = mxt_xstrdup(at + 1);
	lookup(rp, at + 1, 0);
}
