/* SPDX-License-Identifier: MIT */
/*
 * The record's life cycle: allocation, growth of its arrays, release, and
 * the stable names of its enums (the values JSON consumers see).  It knows
 * nothing of how stages fill it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/record.h"
#include "mxtrace/xalloc.h"

/* tab[i], or dflt when i is out of range. */
#define NAME_OF(tab, i, dflt) ((size_t)(i) < sizeof(tab) / sizeof(tab[0]) ? tab[i] : (dflt))

static const char *const dns_status_names[] = {
#define X(id, name, text) [MXT_DNS_##id] = name,
    MXT_DNS_STATUS_LIST(X)
#undef X
};

static const char *const dns_status_texts[] = {
#define X(id, name, text) [MXT_DNS_##id] = text,
    MXT_DNS_STATUS_LIST(X)
#undef X
};

static const char *const mx_source_names[] = {
#define X(id, name) [MXT_MX_SOURCE_##id] = name,
    MXT_MX_SOURCE_LIST(X)
#undef X
};

static const char *const conn_status_names[] = {
#define X(id, name) [MXT_CONN_##id] = name,
    MXT_CONN_STATUS_LIST(X)
#undef X
};

static const char *const stage_names[] = {
#define X(id, name, label) [MXT_STAGE_##id] = name,
    MXT_STAGE_LIST(X)
#undef X
};

static const char *const stage_labels[] = {
#define X(id, name, label) [MXT_STAGE_##id] = label,
    MXT_STAGE_LIST(X)
#undef X
};

static const char *const step_status_names[] = {
#define X(id, name) [MXT_STEP_##id] = name,
    MXT_STEP_STATUS_LIST(X)
#undef X
};

static const char *const end_names[] = {
#define X(id, name) [MXT_END_##id] = name,
    MXT_END_LIST(X)
#undef X
};

static const char *const mode_names[] = {
#define X(id, name) [MXT_MODE_##id] = name,
    MXT_MODE_LIST(X)
#undef X
};

static const char *const status_names[] = {
#define X(id, name, exit) [MXT_STATUS_##id] = name,
    MXT_STATUS_LIST(X)
#undef X
};

static const char *const dane_lookup_names[] = {
#define X(id, name) name,
    MXT_DANE_LOOKUP_LIST(X)
#undef X
};

static const char *const sts_fetch_names[] = {
#define X(id, name) name,
    MXT_STS_FETCH_LIST(X)
#undef X
};

static const char *const sts_mode_names[] = {
#define X(id, name) name,
    MXT_STS_MODE_LIST(X)
#undef X
};

static const char *const severity_names[] = {
#define X(id, name) [MXT_SEV_##id] = name,
    MXT_SEVERITY_LIST(X)
#undef X
};

const char *
mxt_dns_status_name(enum mxt_dns_status s)
{
	return NAME_OF(dns_status_names, s, "unknown");
}

const char *
mxt_dns_status_text(enum mxt_dns_status s)
{
	return NAME_OF(dns_status_texts, s, "?");
}

const char *
mxt_mx_source_name(enum mxt_mx_source s)
{
	return NAME_OF(mx_source_names, s, "unknown");
}

const char *
mxt_conn_status_name(enum mxt_conn_status s)
{
	return NAME_OF(conn_status_names, s, "unknown");
}

const char *
mxt_stage_name(enum mxt_stage s)
{
	return NAME_OF(stage_names, s, "unknown");
}

const char *
mxt_stage_label(enum mxt_stage s)
{
	return NAME_OF(stage_labels, s, "a command");
}

const char *
mxt_step_status_name(enum mxt_step_status s)
{
	return NAME_OF(step_status_names, s, "unknown");
}

const char *
mxt_end_name(enum mxt_end e)
{
	return NAME_OF(end_names, e, "unknown");
}

const char *
mxt_mode_name(enum mxt_mode m)
{
	return NAME_OF(mode_names, m, "unknown");
}

const char *
mxt_status_name(enum mxt_status s)
{
	return NAME_OF(status_names, s, "unknown");
}

const char *
mxt_severity_name(enum mxt_severity s)
{
	return NAME_OF(severity_names, s, "unknown");
}

enum mxt_severity
mxt_status_admits(enum mxt_status s)
{
	switch (s) {
	case MXT_STATUS_OK:
		return MXT_SEV_INFO;
	case MXT_STATUS_CRITICAL:
		return MXT_SEV_CRITICAL;
	case MXT_STATUS_WARNING:
	case MXT_STATUS_UNKNOWN:
	default:
		return MXT_SEV_WARNING;
	}
}

const char *
mxt_dane_lookup_name(enum mxt_dane_lookup s)
{
	return NAME_OF(dane_lookup_names, s, "unknown");
}

const char *
mxt_sts_fetch_name(enum mxt_sts_fetch s)
{
	return NAME_OF(sts_fetch_names, s, "unknown");
}

const char *
mxt_sts_mode_name(enum mxt_sts_mode s)
{
	return NAME_OF(sts_mode_names, s, "unknown");
}

const char *
mxt_xf_name(unsigned bit)
{
	switch (bit) {
#define X(id, b, name)                                                                             \
	case MXT_XF_##id:                                                                          \
		return name;
		MXT_XF_LIST(X)
#undef X
	default:
		return NULL;
	}
}

int
mxt_exchanger_usable(const struct mxt_exchanger *x)
{
	return !(x->flags & (MXT_XF_NULL | MXT_XF_INVALID_NAME | MXT_XF_OVER_LIMIT));
}

int
mxt_stage_winds_down(enum mxt_stage s)
{
	return s == MXT_STAGE_RSET || s == MXT_STAGE_QUIT;
}

const struct mxt_step *
mxt_attempt_last_step(const struct mxt_attempt *a)
{
	size_t i;

	for (i = a->nsteps; i > 0; i--)
		if (!mxt_stage_winds_down(a->steps[i - 1].stage))
			return &a->steps[i - 1];
	return NULL;
}

static const char *const dnsbl_status_names[] = {
#define X(id, name) [MXT_DNSBL_##id] = name,
    MXT_DNSBL_STATUS_LIST(X)
#undef X
};

static const char *const spf_result_names[] = {
#define X(id, name) [MXT_SPF_##id] = name,
    MXT_SPF_RESULT_LIST(X)
#undef X
};

static const char *const dmarc_status_names[] = {
#define X(id, name) [MXT_DMARC_##id] = name,
    MXT_DMARC_STATUS_LIST(X)
#undef X
};

const char *
mxt_dnsbl_status_name(enum mxt_dnsbl_status s)
{
	return NAME_OF(dnsbl_status_names, s, "unknown");
}

const char *
mxt_spf_result_name(enum mxt_spf_result r)
{
	return NAME_OF(spf_result_names, r, "unknown");
}

const char *
mxt_dmarc_status_name(enum mxt_dmarc_status s)
{
	return NAME_OF(dmarc_status_names, s, "unknown");
}

/* Grow *arr (of elements of size sz) by one zeroed element; returns it.
 * Capacity is implied by the count (4, then the next power of two), so an
 * array of n elements costs O(n) copying, not O(n^2) (2000 MX records). */
static void *
grow(void **arr, size_t *n, size_t sz)
{
	char *p = *arr;

	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		size_t cap = *n == 0 ? 4 : *n * 2;

		p = mxt_xreallocarray(*arr, cap, sz);
		*arr = p;
	}
	memset(p + *n * sz, 0, sz);
	return p + (*n)++ * sz;
}

struct mxt_target *
mxt_target_new(void)
{
	struct mxt_target *t = mxt_xcalloc(1, sizeof(struct mxt_target));
	size_t i;

	for (i = 0; i < MXT_VERDICT_NAMES_MAX; i++)
		t->verdict.names[i] = -1;
	return t;
}

struct mxt_attempt *
mxt_target_add_attempt(struct mxt_target *t)
{
	return grow((void **)&t->attempts, &t->nattempts, sizeof(struct mxt_attempt));
}

struct mxt_step *
mxt_attempt_add_step(struct mxt_attempt *a, enum mxt_stage stage)
{
	struct mxt_step *s = grow((void **)&a->steps, &a->nsteps, sizeof(struct mxt_step));

	if (s != NULL)
		s->stage = stage;
	return s;
}

struct mxt_exchanger *
mxt_dns_add_exchanger(struct mxt_dns *d)
{
	return grow((void **)&d->mx, &d->nmx, sizeof(struct mxt_exchanger));
}

struct mxt_dnsbl *
mxt_client_add_dnsbl(struct mxt_client *c)
{
	return grow((void **)&c->dnsbl, &c->ndnsbl, sizeof(struct mxt_dnsbl));
}

const struct mxt_step *
mxt_attempt_step(const struct mxt_attempt *a, enum mxt_stage stage)
{
	size_t i;

	for (i = a->nsteps; i > 0; i--)
		if (a->steps[i - 1].stage == stage)
			return &a->steps[i - 1];
	return NULL;
}

static void
query_free(struct mxt_dns_query *q)
{
	free(q->error);
	q->error = NULL;
}

void
mxt_tls_free(struct mxt_tls *tls)
{
	size_t i;

	free(tls->error);
	free(tls->version);
	free(tls->cipher);
	free(tls->verify_error);
	free(tls->peer_name);
	free(tls->subject);
	free(tls->issuer);
	for (i = 0; i < tls->nsan; i++)
		free(tls->san[i]);
	free(tls->san);
	free(tls->not_before);
	free(tls->not_after);
	free(tls->dane_match);
	free(tls->dane_verify_error);
	memset(tls, 0, sizeof(*tls));
}

void
mxt_attempt_free(struct mxt_attempt *a)
{
	size_t i;

	for (i = 0; i < a->nsteps; i++) {
		free(a->steps[i].command);
		mxt_reply_free(&a->steps[i].reply);
	}
	free(a->steps);
	if (a->have_caps)
		mxt_caps_free(&a->caps);
	if (a->have_caps_plain)
		mxt_caps_free(&a->caps_plain);
	mxt_tls_free(&a->tls);
	free(a->end_detail);
	for (i = 0; i < a->ntranscript; i++)
		free(a->transcript[i].text);
	free(a->transcript);
	memset(a, 0, sizeof(*a));
}

static void
free_tlsa(struct mxt_tlsa *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

static void
free_sts(struct mxt_sts *s)
{
	size_t i;

	query_free(&s->q_txt);
	query_free(&s->q_host_a);
	query_free(&s->q_host_aaaa);
	free(s->txt);
	free(s->txt_error);
	free(s->id);
	free(s->host_addrs);
	free(s->content_type);
	free(s->fetch_error);
	free(s->body);
	free(s->policy_error);
	for (i = 0; i < s->nmx; i++)
		free(s->mx[i]);
	free(s->mx);
}

static void
free_tlsrpt(struct mxt_tlsrpt *r)
{
	size_t i;

	query_free(&r->q_txt);
	free(r->txt);
	free(r->error);
	for (i = 0; i < r->nrua; i++)
		free(r->rua[i]);
	free(r->rua);
}

void
mxt_sender_free(struct mxt_sender *s)
{
	free(s->spf.domain);
	free(s->spf.domain_from);
	free(s->spf.address);
	free(s->spf.record);
	free(s->spf.mechanism);
	free(s->spf.error);
	free(s->spf.explanation);
	free(s->dmarc.domain);
	free(s->dmarc.found_at);
	free(s->dmarc.record);
	free(s->dmarc.policy);
	free(s->dmarc.subdomain_policy);
	free(s->dmarc.rua);
	free(s->dmarc.error);
	query_free(&s->dmarc.q);
	free(s->skipped);
	memset(s, 0, sizeof(*s));
}

static void
dnsbl_free(struct mxt_dnsbl *b)
{
	size_t i;

	free(b->zone);
	free(b->list);
	free(b->address);
	for (i = 0; i < b->nanswers; i++)
		free(b->answers[i]);
	free(b->answers);
	free(b->meaning);
	free(b->txt);
	free(b->lookup_url);
	query_free(&b->q_a);
	query_free(&b->q_txt);
}

void
mxt_target_free(struct mxt_target *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->input);
	free(t->domain);
	free(t->domain_unicode);
	free(t->sender);
	for (i = 0; i < t->nrcpts; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	mxt_request_free(&t->request);
	free(t->input_error);
	for (i = 0; i < t->negress_refs; i++) {
		free(t->egress_refs[i].host);
		free(t->egress_refs[i].error);
	}
	free(t->egress_refs);
	free(t->dns.resolver);
	query_free(&t->dns.q_mx);
	for (i = 0; i < t->dns.nmx; i++) {
		struct mxt_exchanger *x = &t->dns.mx[i];

		free(x->name);
		free(x->cname);
		query_free(&x->q_a);
		query_free(&x->q_aaaa);
		free(x->addrs);
		query_free(&x->q_tlsa);
		free_tlsa(x->tlsa, x->ntlsa);
	}
	free(t->dns.mx);
	free(t->client.local_v4);
	free(t->client.local_v6);
	free(t->client.egress);
	free(t->client.egress_from);
	free(t->client.ptr);
	query_free(&t->client.q_ptr);
	free(t->client.ehlo_name);
	free(t->client.ehlo_from);
	for (i = 0; i < t->client.ndnsbl; i++)
		dnsbl_free(&t->client.dnsbl[i]);
	free(t->client.dnsbl);
	free(t->client.dnsbl_skipped);
	mxt_sender_free(&t->sender_auth);
	for (i = 0; i < t->nattempts; i++)
		mxt_attempt_free(&t->attempts[i]);
	free(t->attempts);
	for (i = 0; i < t->nfindings; i++) {
		free(t->findings[i].host);
		free(t->findings[i].address);
		free(t->findings[i].evidence);
		free(t->findings[i].list);
		free(t->findings[i].list_url);
	}
	free(t->findings);
	free(t->verdict.summary);
	free(t->verdict.via);
	free(t->verdict.dane_summary);
	free(t->verdict.mta_sts_summary);
	free_sts(&t->sts);
	free_tlsrpt(&t->tlsrpt);
	free(t);
}
