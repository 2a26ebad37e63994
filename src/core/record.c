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

#define NAME_OF(tab, i) ((size_t)(i) < sizeof(tab) / sizeof(tab[0]) && tab[i] ? tab[i] : "unknown")

const char *
mxt_dns_status_name(enum mxt_dns_status s)
{
	static const char *const n[] = {"not_run", "ok", "nodata", "nxdomain", "servfail",
	    "refused", "timeout", "unreachable", "badresp", "error"};
	return NAME_OF(n, s);
}

const char *
mxt_mx_source_name(enum mxt_mx_source s)
{
	static const char *const n[] = {"none", "mx", "implicit", "null", "server"};
	return NAME_OF(n, s);
}

const char *
mxt_conn_status_name(enum mxt_conn_status s)
{
	static const char *const n[] = {
	    "not_tried", "connected", "refused", "timeout", "unreachable", "error"};
	return NAME_OF(n, s);
}

const char *
mxt_stage_name(enum mxt_stage s)
{
	static const char *const n[] = {"connect", "banner", "ehlo", "helo", "starttls", "tls",
	    "ehlo_tls", "auth", "mail", "rcpt", "data", "data_end", "rset", "quit"};
	return NAME_OF(n, s);
}

const char *
mxt_step_status_name(enum mxt_step_status s)
{
	static const char *const n[] = {"replied", "timeout", "closed", "protocol_error", "error"};
	return NAME_OF(n, s);
}

const char *
mxt_end_name(enum mxt_end e)
{
	static const char *const n[] = {"none", "ok", "connect_failed", "rejected", "timeout",
	    "closed", "protocol_error", "tls_failed", "local_policy", "deadline"};
	return NAME_OF(n, e);
}

const char *
mxt_mode_name(enum mxt_mode m)
{
	static const char *const n[] = {"smtp", "submission", "smtps"};
	return NAME_OF(n, m);
}

const char *
mxt_status_name(enum mxt_status s)
{
	static const char *const n[] = {"ok", "warning", "critical", "unknown"};
	return NAME_OF(n, s);
}

const char *
mxt_severity_name(enum mxt_severity s)
{
	static const char *const n[] = {"info", "warning", "critical"};
	return NAME_OF(n, s);
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

		if (cap > SIZE_MAX / sz)
			return NULL;
		p = realloc(*arr, cap * sz);
		if (p == NULL)
			return NULL;
		*arr = p;
	}
	memset(p + *n * sz, 0, sz);
	return p + (*n)++ * sz;
}

struct mxt_target *
mxt_target_new(void)
{
	return calloc(1, sizeof(struct mxt_target));
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
	free(t->dns.resolver);
	query_free(&t->dns.q_mx);
	for (i = 0; i < t->dns.nmx; i++) {
		struct mxt_exchanger *x = &t->dns.mx[i];

		free(x->name);
		free(x->cname);
		query_free(&x->q_a);
		query_free(&x->q_aaaa);
		free(x->addrs);
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
	for (i = 0; i < t->nattempts; i++)
		mxt_attempt_free(&t->attempts[i]);
	free(t->attempts);
	for (i = 0; i < t->nfindings; i++) {
		free(t->findings[i].host);
		free(t->findings[i].address);
		free(t->findings[i].evidence);
	}
	free(t->findings);
	free(t->verdict.summary);
	free(t->verdict.via);
	free(t);
}
