/* SPDX-License-Identifier: MIT */
/*
 * JSON renderer (schema in docs/mxtrace.schema.json, version
 * MXT_SCHEMA_VERSION).  Field names are stable: later versions add fields,
 * never rename them.  Every string that came from a server or a DNS answer
 * goes through mxt_escape(), so the output is valid UTF-8 with no control
 * characters, whatever the peer sent.  Writes only to its FILE.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "mxt_config.h"
#include "mxtrace/escape.h"
#include "mxtrace/limits.h"
#include "mxtrace/report.h"
#include "mxtrace/tlspolicy.h"
#include "mxtrace/xalloc.h"

/* An escaped string, or JSON null for NULL. */
static cJSON *
jstr_n(const char *p, size_t len)
{
	char *e;
	cJSON *j;

	if (p == NULL)
		return cJSON_CreateNull();
	e = mxt_escape(p, len, MXT_FIELD_TEXT_MAX);
	if (e == NULL)
		return cJSON_CreateNull();
	j = cJSON_CreateString(e);
	free(e);
	return j;
}

static cJSON *
jstr(const char *s)
{
	return jstr_n(s, s != NULL ? strlen(s) : 0);
}

static void
add_str(cJSON *o, const char *k, const char *v)
{
	cJSON_AddItemToObject(o, k, jstr(v));
}

static cJSON *
query_json(const struct mxt_dns_query *q)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", mxt_dns_status_name(q->status));
	if (q->status == MXT_DNS_OK)
		cJSON_AddNumberToObject(o, "ttl", q->ttl);
	cJSON_AddNumberToObject(o, "duration_ms", (double)q->duration_ms);
	if (q->error != NULL)
		add_str(o, "error", q->error);
	/* RFC 6840 §5.7: the resolver's AD bit, trusted as is (mxtrace(1)). */
	cJSON_AddBoolToObject(o, "authentic", q->authentic);
	return o;
}

/* Lower-case hex of a TLSA record's data. */
static cJSON *
hex_json(const unsigned char *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char *s = mxt_xmalloc(2 * n + 1);
	cJSON *o;
	size_t i;

	for (i = 0; i < n; i++) {
		s[2 * i] = hx[p[i] >> 4];
		s[2 * i + 1] = hx[p[i] & 15];
	}
	s[2 * n] = '\0';
	o = cJSON_CreateString(s);
	free(s);
	return o;
}

static cJSON *
dane_json(const struct mxt_exchanger *x)
{
	cJSON *o = cJSON_CreateObject(), *recs = cJSON_CreateArray();
	size_t i;

	cJSON_AddStringToObject(o, "lookup", mxt_dane_lookup_name(x->dane));
	if (x->dane != MXT_DANE_LOOKUP_NOT_RUN)
		cJSON_AddItemToObject(o, "tlsa_query", query_json(&x->q_tlsa));
	for (i = 0; i < x->ntlsa; i++) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddNumberToObject(r, "usage", x->tlsa[i].usage);
		cJSON_AddNumberToObject(r, "selector", x->tlsa[i].selector);
		cJSON_AddNumberToObject(r, "matching_type", x->tlsa[i].mtype);
		cJSON_AddItemToObject(r, "data", hex_json(x->tlsa[i].data, x->tlsa[i].len));
		cJSON_AddBoolToObject(r, "usable", mxt_tlsa_usable(&x->tlsa[i]));
		cJSON_AddItemToArray(recs, r);
	}
	cJSON_AddItemToObject(o, "tlsa", recs);
	return o;
}

static cJSON *
strv_json(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, jstr(v[i]));
	return a;
}

/* MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) as looked up; null when off. */
static cJSON *
policies_json(const struct mxt_target *t)
{
	const struct mxt_sts *s = &t->sts;
	const struct mxt_tlsrpt *r = &t->tlsrpt;
	cJSON *o = cJSON_CreateObject(), *m, *p, *rp;

	if (!s->enabled) {
		cJSON_AddNullToObject(o, "mta_sts");
		cJSON_AddNullToObject(o, "tlsrpt");
		return o;
	}
	m = cJSON_CreateObject();
	cJSON_AddItemToObject(m, "txt_query", query_json(&s->q_txt));
	cJSON_AddNumberToObject(m, "txt_records", (double)s->ntxt);
	add_str(m, "txt", s->txt);
	cJSON_AddBoolToObject(m, "txt_valid", s->txt_valid);
	add_str(m, "txt_error", s->txt_error);
	add_str(m, "id", s->id);
	cJSON_AddStringToObject(m, "fetch", mxt_sts_fetch_name(s->fetch));
	add_str(m, "policy_addresses", s->host_addrs);
	if (s->fetch != MXT_STS_FETCH_NOT_RUN && s->fetch != MXT_STS_FETCH_NO_HOST) {
		cJSON_AddNumberToObject(m, "http_status", (double)s->http_status);
		add_str(m, "content_type", s->content_type);
		cJSON_AddNumberToObject(m, "fetch_ms", (double)s->fetch_ms);
	}
	add_str(m, "fetch_error", s->fetch_error);
	if (s->fetch == MXT_STS_FETCH_OK) {
		p = cJSON_CreateObject();
		cJSON_AddBoolToObject(p, "valid", s->policy_valid);
		add_str(p, "error", s->policy_error);
		cJSON_AddStringToObject(p, "mode", mxt_sts_mode_name(s->mode));
		cJSON_AddItemToObject(p, "mx", strv_json(s->mx, s->nmx));
		if (s->max_age >= 0)
			cJSON_AddNumberToObject(p, "max_age", (double)s->max_age);
		else
			cJSON_AddNullToObject(p, "max_age");
		cJSON_AddItemToObject(p, "text", jstr_n(s->body, s->body_len));
		cJSON_AddItemToObject(m, "policy", p);
	} else {
		cJSON_AddNullToObject(m, "policy");
	}
	cJSON_AddItemToObject(o, "mta_sts", m);
	rp = cJSON_CreateObject();
	cJSON_AddItemToObject(rp, "txt_query", query_json(&r->q_txt));
	cJSON_AddNumberToObject(rp, "records", (double)r->nrecords);
	add_str(rp, "txt", r->txt);
	cJSON_AddBoolToObject(rp, "valid", r->valid);
	add_str(rp, "error", r->error);
	cJSON_AddItemToObject(rp, "rua", strv_json(r->rua, r->nrua));
	cJSON_AddItemToObject(o, "tlsrpt", rp);
	return o;
}

/* verdict.dane / verdict.mta_sts: null when not judged. */
static void
add_policy_verdict(cJSON *v, const char *k, const char *outcome, const char *summary)
{
	cJSON *o;

	if (outcome == NULL) {
		cJSON_AddNullToObject(v, k);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "outcome", outcome);
	add_str(o, "summary", summary);
	cJSON_AddItemToObject(v, k, o);
}

static cJSON *
reply_json(const struct mxt_reply *r)
{
	cJSON *o = cJSON_CreateObject(), *lines = cJSON_CreateArray(), *flags = cJSON_CreateArray();
	size_t i;
	unsigned bit;

	cJSON_AddNumberToObject(o, "code", r->code);
	if (r->enh[0] != '\0')
		add_str(o, "enhanced", r->enh);
	else
		cJSON_AddNullToObject(o, "enhanced");
	for (i = 0; i < r->nlines; i++)
		cJSON_AddItemToArray(lines, jstr_n(r->lines[i].p, r->lines[i].len));
	cJSON_AddItemToObject(o, "lines", lines);
	/* Each line's own code as received (RFC 5321 §4.2.1 mixed codes). */
	if (r->nlines > 0) {
		cJSON *codes = cJSON_CreateArray();

		for (i = 0; i < r->nlines; i++)
			cJSON_AddItemToArray(codes, cJSON_CreateNumber(r->lines[i].code));
		cJSON_AddItemToObject(o, "line_codes", codes);
	}
	for (bit = 0; bit < 32; bit++) {
		const char *n;

		if (!(r->flags & (1u << bit)))
			continue;
		n = mxt_reply_flag_name(bit);
		if (n != NULL)
			cJSON_AddItemToArray(flags, cJSON_CreateString(n));
	}
	cJSON_AddItemToObject(o, "flags", flags);
	return o;
}

static cJSON *
caps_json(const struct mxt_caps *c)
{
	cJSON *o = cJSON_CreateObject(), *ext = cJSON_CreateArray(), *auth = cJSON_CreateArray();
	cJSON *kw = cJSON_CreateArray();
	unsigned bit;
	size_t i;

	cJSON_AddItemToObject(o, "greeting", jstr_n(c->greeting.p, c->greeting.len));
	for (bit = 0; bit < 32; bit++) {
		const char *n;

		if (!(c->flags & (1u << bit)))
			continue;
		n = mxt_cap_name(bit);
		if (n != NULL)
			cJSON_AddItemToArray(ext, cJSON_CreateString(n));
	}
	cJSON_AddItemToObject(o, "extensions", ext);
	if (c->flags & MXT_CAP_SIZE)
		cJSON_AddNumberToObject(o, "size", (double)c->size);
	else
		cJSON_AddNullToObject(o, "size");
	for (i = 0; i < c->nauth; i++)
		cJSON_AddItemToArray(auth, jstr(c->auth[i]));
	cJSON_AddItemToObject(o, "auth", auth);
	for (i = 0; i < c->nkeywords; i++)
		cJSON_AddItemToArray(kw, jstr_n(c->keywords[i].p, c->keywords[i].len));
	cJSON_AddItemToObject(o, "keywords", kw);
	cJSON_AddBoolToObject(o, "size_malformed", c->size_malformed);
	cJSON_AddBoolToObject(o, "malformed", c->malformed);
	cJSON_AddBoolToObject(o, "truncated", c->truncated);
	return o;
}

/* attempt.server_software: the fingerprint and its evidence, all from
 * the table (docs/diagnoses.md, "Server software"). */
static cJSON *
software_json(const struct mxt_attempt *a)
{
	cJSON *o = cJSON_CreateObject();
	struct mxt_software sw;

	mxt_server_software(a, &sw);
	cJSON_AddStringToObject(o, "name", sw.name);
	add_str(o, "product", sw.product);
	add_str(o, "source", sw.source);
	add_str(o, "match", sw.match);
	return o;
}

static cJSON *
tls_json(const struct mxt_tls *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "attempted", t->attempted);
	cJSON_AddBoolToObject(o, "ok", t->ok);
	add_str(o, "error", t->error);
	cJSON_AddBoolToObject(o, "injection", t->injection);
	add_str(o, "version", t->version);
	add_str(o, "cipher", t->cipher);
	cJSON_AddNumberToObject(o, "duration_ms", (double)t->duration_ms);
	if (t->have_cert) {
		cJSON *c = cJSON_CreateObject(), *san = cJSON_CreateArray();
		size_t i;

		add_str(c, "subject", t->subject);
		add_str(c, "issuer", t->issuer);
		for (i = 0; i < t->nsan; i++)
			cJSON_AddItemToArray(san, jstr(t->san[i]));
		cJSON_AddItemToObject(c, "san", san);
		add_str(c, "not_before", t->not_before);
		add_str(c, "not_after", t->not_after);
		cJSON_AddNumberToObject(c, "days_left", t->days_left);
		cJSON_AddBoolToObject(c, "chain_ok", t->chain_ok);
		cJSON_AddNumberToObject(c, "verify_code", (double)t->verify_code);
		add_str(c, "verify_error", t->verify_error);
		add_str(c, "name_checked", t->peer_name);
		cJSON_AddBoolToObject(c, "name_ok", t->name_ok);
		cJSON_AddItemToObject(o, "certificate", c);
	} else {
		cJSON_AddNullToObject(o, "certificate");
	}
	if (t->dane) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddBoolToObject(d, "ok", t->dane_ok);
		add_str(d, "matched", t->dane_match);
		if (t->dane_ok)
			cJSON_AddNumberToObject(d, "depth", t->dane_depth);
		cJSON_AddNumberToObject(d, "verify_code", (double)t->dane_verify_code);
		add_str(d, "verify_error", t->dane_verify_error);
		cJSON_AddItemToObject(o, "dane", d);
	} else {
		cJSON_AddNullToObject(o, "dane");
	}
	return o;
}

static const char *
dir_name(enum mxt_dir d)
{
	return d == MXT_DIR_CLIENT ? "C" : d == MXT_DIR_SERVER ? "S" : "I";
}

static cJSON *
attempt_json(const struct mxt_target *t, const struct mxt_attempt *a)
{
	cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject(), *steps = cJSON_CreateArray();
	cJSON *res = cJSON_CreateObject(), *tr = cJSON_CreateArray();
	const struct mxt_exchanger *x = &t->dns.mx[a->mx_index];
	size_t i;

	add_str(o, "exchanger", x->name);
	cJSON_AddNumberToObject(o, "preference", x->preference);
	add_str(o, "address", a->addr.text);
	cJSON_AddStringToObject(o, "family", a->addr.family == AF_INET6 ? "ipv6" : "ipv4");
	cJSON_AddNumberToObject(o, "port", a->port);
	cJSON_AddStringToObject(o, "mode", mxt_mode_name(a->mode));
	cJSON_AddBoolToObject(o, "canary", a->canary);
	cJSON_AddBoolToObject(o, "plaintext_retry", a->plaintext_retry);
	if (a->local[0] != '\0')
		add_str(o, "local", a->local);
	else
		cJSON_AddNullToObject(o, "local");
	cJSON_AddStringToObject(c, "status", mxt_conn_status_name(a->connect));
	cJSON_AddNumberToObject(c, "duration_ms", (double)a->connect_ms);
	if (a->connect != MXT_CONN_OK && a->connect != MXT_CONN_NOT_TRIED && a->connect_errno)
		add_str(c, "error", strerror(a->connect_errno));
	else
		cJSON_AddNullToObject(c, "error");
	cJSON_AddItemToObject(o, "connect", c);
	for (i = 0; i < a->nsteps; i++) {
		const struct mxt_step *s = &a->steps[i];
		cJSON *so = cJSON_CreateObject();

		cJSON_AddStringToObject(so, "stage", mxt_stage_name(s->stage));
		add_str(so, "command", s->command);
		cJSON_AddStringToObject(so, "status", mxt_step_status_name(s->status));
		cJSON_AddNumberToObject(so, "started_ms", (double)s->started_ms);
		cJSON_AddNumberToObject(so, "duration_ms", (double)s->duration_ms);
		if (s->reply.nlines > 0 || s->reply.code != 0)
			cJSON_AddItemToObject(so, "reply", reply_json(&s->reply));
		else
			cJSON_AddNullToObject(so, "reply");
		cJSON_AddItemToArray(steps, so);
	}
	cJSON_AddItemToObject(o, "steps", steps);
	cJSON_AddBoolToObject(o, "helo_fallback", a->helo_fallback);
	if (a->have_caps)
		cJSON_AddItemToObject(o, "capabilities", caps_json(&a->caps));
	else
		cJSON_AddNullToObject(o, "capabilities");
	if (a->have_caps_plain)
		cJSON_AddItemToObject(o, "capabilities_plaintext", caps_json(&a->caps_plain));
	else
		cJSON_AddNullToObject(o, "capabilities_plaintext");
	cJSON_AddItemToObject(o, "tls", tls_json(&a->tls));
	cJSON_AddItemToObject(o, "server_software", software_json(a));
	cJSON_AddStringToObject(res, "end", mxt_end_name(a->end));
	cJSON_AddStringToObject(res, "stage", mxt_stage_name(a->end_stage));
	add_str(res, "detail", a->end_detail);
	cJSON_AddItemToObject(o, "result", res);
	cJSON_AddNumberToObject(o, "duration_ms", (double)a->duration_ms);
	for (i = 0; i < a->ntranscript; i++) {
		const struct mxt_tline *l = &a->transcript[i];
		cJSON *lo = cJSON_CreateObject();

		cJSON_AddNumberToObject(lo, "t_ms", (double)l->t_ms);
		cJSON_AddStringToObject(lo, "dir", dir_name(l->dir));
		cJSON_AddBoolToObject(lo, "tls", l->tls);
		cJSON_AddItemToObject(lo, "text", jstr_n(l->text, l->len));
		cJSON_AddItemToArray(tr, lo);
	}
	cJSON_AddItemToObject(o, "transcript", tr);
	cJSON_AddBoolToObject(o, "transcript_truncated", a->transcript_truncated);
	return o;
}

static cJSON *
dns_json(const struct mxt_dns *d)
{
	cJSON *o = cJSON_CreateObject(), *mx = cJSON_CreateArray();
	size_t i, j;

	add_str(o, "resolver", d->resolver);
	cJSON_AddItemToObject(o, "mx_query", query_json(&d->q_mx));
	cJSON_AddStringToObject(o, "source", mxt_mx_source_name(d->source));
	cJSON_AddBoolToObject(o, "null_mx_mixed", d->null_mx_mixed);
	cJSON_AddNumberToObject(o, "duration_ms", (double)d->duration_ms);
	cJSON_AddBoolToObject(o, "resolver_loopback", d->resolver_loopback);
	for (i = 0; i < d->nmx; i++) {
		const struct mxt_exchanger *x = &d->mx[i];
		cJSON *xo = cJSON_CreateObject(), *fl = cJSON_CreateArray(),
		      *ad = cJSON_CreateArray();

		add_str(xo, "name", x->name);
		cJSON_AddNumberToObject(xo, "preference", x->preference);
		/* Every MXT_XF_* bit, in the order of MXT_XF_LIST. */
		for (j = 0; j < sizeof(x->flags) * 8; j++)
			if ((x->flags & (1u << j)) && mxt_xf_name(1u << j) != NULL)
				cJSON_AddItemToArray(fl, cJSON_CreateString(mxt_xf_name(1u << j)));
		cJSON_AddItemToObject(xo, "flags", fl);
		add_str(xo, "cname", x->cname);
		cJSON_AddItemToObject(xo, "a_query", query_json(&x->q_a));
		cJSON_AddItemToObject(xo, "aaaa_query", query_json(&x->q_aaaa));
		for (j = 0; j < x->naddrs; j++) {
			cJSON *ao = cJSON_CreateObject();

			add_str(ao, "address", x->addrs[j].text);
			cJSON_AddStringToObject(
			    ao, "family", x->addrs[j].family == AF_INET6 ? "ipv6" : "ipv4");
			cJSON_AddNumberToObject(ao, "ttl", x->addrs[j].ttl);
			cJSON_AddItemToArray(ad, ao);
		}
		cJSON_AddItemToObject(xo, "addresses", ad);
		cJSON_AddItemToObject(xo, "dane", dane_json(x));
		cJSON_AddItemToArray(mx, xo);
	}
	cJSON_AddItemToObject(o, "exchangers", mx);
	return o;
}

/* client.dnsbl: one entry per list and address (RFC 5782). */
static cJSON *
dnsbl_json(const struct mxt_client *c)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i, j;

	for (i = 0; i < c->ndnsbl; i++) {
		const struct mxt_dnsbl *b = &c->dnsbl[i];
		cJSON *o = cJSON_CreateObject(), *ans = cJSON_CreateArray();

		add_str(o, "zone", b->zone);
		add_str(o, "list", b->list);
		add_str(o, "address", b->address);
		cJSON_AddStringToObject(o, "status", mxt_dnsbl_status_name(b->status));
		for (j = 0; j < b->nanswers; j++)
			cJSON_AddItemToArray(ans, jstr(b->answers[j]));
		cJSON_AddItemToObject(o, "answers", ans);
		add_str(o, "meaning", b->meaning);
		add_str(o, "txt", b->txt);
		add_str(o, "lookup_url", b->lookup_url);
		cJSON_AddItemToObject(o, "query", query_json(&b->q_a));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *
client_json(const struct mxt_client *c)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "local_ipv4", c->local_v4);
	add_str(o, "local_ipv6", c->local_v6);
	add_str(o, "egress", c->egress);
	add_str(o, "egress_source", c->egress_from);
	add_str(o, "ptr", c->ptr);
	cJSON_AddItemToObject(o, "ptr_query", query_json(&c->q_ptr));
	cJSON_AddBoolToObject(o, "fcrdns", c->fcrdns);
	add_str(o, "ehlo_name", c->ehlo_name);
	add_str(o, "ehlo_source", c->ehlo_from);
	cJSON_AddBoolToObject(o, "ehlo_resolves", c->ehlo_resolves);
	cJSON_AddItemToObject(o, "dnsbl", dnsbl_json(c));
	add_str(o, "dnsbl_skipped", c->dnsbl_skipped);
	return o;
}

/* sender_auth: SPF and DMARC of the sender for the client address. */
static cJSON *
sender_auth_json(const struct mxt_sender *s)
{
	cJSON *o = cJSON_CreateObject(), *spf, *dm;
	char al[2] = {0, 0};

	add_str(o, "skipped", s->skipped);
	if (s->spf.result == MXT_SPF_NOT_RUN) {
		cJSON_AddNullToObject(o, "spf");
	} else {
		spf = cJSON_CreateObject();
		cJSON_AddStringToObject(spf, "result", mxt_spf_result_name(s->spf.result));
		add_str(spf, "domain", s->spf.domain);
		add_str(spf, "identity", s->spf.domain_from);
		add_str(spf, "address", s->spf.address);
		add_str(spf, "record", s->spf.record);
		add_str(spf, "mechanism", s->spf.mechanism);
		add_str(spf, "error", s->spf.error);
		add_str(spf, "explanation", s->spf.explanation);
		cJSON_AddNumberToObject(spf, "lookups", s->spf.lookups);
		cJSON_AddNumberToObject(spf, "duration_ms", (double)s->spf.duration_ms);
		cJSON_AddItemToObject(o, "spf", spf);
	}
	if (s->dmarc.status == MXT_DMARC_NOT_RUN) {
		cJSON_AddNullToObject(o, "dmarc");
	} else {
		dm = cJSON_CreateObject();
		cJSON_AddStringToObject(dm, "status", mxt_dmarc_status_name(s->dmarc.status));
		add_str(dm, "domain", s->dmarc.domain);
		add_str(dm, "record_domain", s->dmarc.found_at);
		add_str(dm, "record", s->dmarc.record);
		add_str(dm, "error", s->dmarc.error);
		if (s->dmarc.status == MXT_DMARC_OK) {
			add_str(dm, "policy", s->dmarc.policy);
			add_str(dm, "subdomain_policy", s->dmarc.subdomain_policy);
			cJSON_AddNumberToObject(dm, "pct", s->dmarc.pct);
			al[0] = s->dmarc.adkim;
			add_str(dm, "adkim", al);
			al[0] = s->dmarc.aspf;
			add_str(dm, "aspf", al);
			add_str(dm, "rua", s->dmarc.rua);
		}
		cJSON_AddItemToObject(dm, "query", query_json(&s->dmarc.q));
		cJSON_AddItemToObject(o, "dmarc", dm);
	}
	return o;
}

/* The severity model's numbers (docs/diagnoses.md, "Severity model"):
 * findings per severity, the findings the summary names, and how many
 * more it counts without naming them. */
static void
verdict_counts(cJSON *v, const struct mxt_target *t)
{
	static const enum mxt_severity sevs[] = {MXT_SEV_CRITICAL, MXT_SEV_WARNING, MXT_SEV_INFO};
	cJSON *counts = cJSON_CreateObject(), *names = cJSON_CreateArray();
	size_t i, k, n;

	for (k = 0; k < sizeof(sevs) / sizeof(sevs[0]); k++) {
		for (i = 0, n = 0; i < t->nfindings; i++)
			n += t->findings[i].severity == sevs[k];
		cJSON_AddNumberToObject(counts, mxt_severity_name(sevs[k]), (double)n);
	}
	cJSON_AddItemToObject(v, "finding_counts", counts);
	for (k = 0; k < MXT_VERDICT_NAMES_MAX; k++)
		if (t->verdict.names[k] >= 0 && (size_t)t->verdict.names[k] < t->nfindings)
			cJSON_AddItemToArray(names, cJSON_CreateNumber(t->verdict.names[k]));
	cJSON_AddItemToObject(v, "names", names);
	cJSON_AddNumberToObject(v, "more", (double)t->verdict.more);
}

/* What was asked (the record's request section; never the password). */
static cJSON *
request_json(const struct mxt_target *t)
{
	const struct mxt_request *r = &t->request;
	cJSON *o = cJSON_CreateObject(), *rc = cJSON_CreateArray(), *au, *to, *eg, *hosts;
	size_t i;

	add_str(o, "sender", t->sender);
	for (i = 0; i < t->nrcpts; i++)
		cJSON_AddItemToArray(rc, jstr(t->rcpts[i]));
	cJSON_AddItemToObject(o, "recipients", rc);
	add_str(o, "server", r->server);
	if (r->port > 0)
		cJSON_AddNumberToObject(o, "port", r->port);
	else
		cJSON_AddNullToObject(o, "port");
	cJSON_AddBoolToObject(o, "submission", r->submission);
	cJSON_AddBoolToObject(o, "tls_on_connect", r->tls_on_connect);
	cJSON_AddStringToObject(o, "starttls", mxt_starttls_mode_name(r->starttls));
	if (r->auth_user != NULL) {
		au = cJSON_CreateObject();
		add_str(au, "user", r->auth_user);
		add_str(au, "mechanism", r->auth_mech);
		cJSON_AddItemToObject(o, "auth", au);
	} else {
		cJSON_AddNullToObject(o, "auth");
	}
	cJSON_AddNumberToObject(o, "size", (double)r->size);
	cJSON_AddStringToObject(o, "quit_after", mxt_quit_after_name(r->quit_after));
	cJSON_AddBoolToObject(o, "send", r->send);
	cJSON_AddNumberToObject(o, "cert_warn_days", r->cert_warn_days);
	cJSON_AddStringToObject(o, "family", mxt_family_name(r->family));
	add_str(o, "source", r->source);
	add_str(o, "ehlo", r->ehlo);
	cJSON_AddBoolToObject(o, "dane", !r->no_dane);
	cJSON_AddBoolToObject(o, "mta_sts", !r->no_mta_sts);
	to = cJSON_CreateObject();
	cJSON_AddNumberToObject(to, "connect", (double)r->timeout_connect_ms);
	cJSON_AddNumberToObject(to, "banner", (double)r->timeout_banner_ms);
	cJSON_AddNumberToObject(to, "command", (double)r->timeout_command_ms);
	cJSON_AddNumberToObject(to, "total", (double)r->timeout_total_ms);
	cJSON_AddNumberToObject(to, "dns", r->dns_timeout_ms);
	cJSON_AddNumberToObject(to, "dns_tries", r->dns_tries);
	cJSON_AddItemToObject(o, "timeouts_ms", to);
	eg = cJSON_CreateObject();
	cJSON_AddStringToObject(eg, "mode",
	    r->egress_check_none       ? "none"
		: r->negress_check > 0 ? "list"
				       : "builtin");
	hosts = cJSON_CreateArray();
	for (i = 0; i < r->negress_check; i++) {
		cJSON *h = cJSON_CreateObject();

		add_str(h, "host", r->egress_check[i].host);
		cJSON_AddNumberToObject(
		    h, "port", r->egress_check[i].port > 0 ? r->egress_check[i].port : 25);
		cJSON_AddItemToArray(hosts, h);
	}
	cJSON_AddItemToObject(eg, "hosts", hosts);
	cJSON_AddItemToObject(o, "egress_check", eg);
	return o;
}

/* What each reference exchanger's port did (--egress-check). */
static cJSON *
egress_refs_json(const struct mxt_target *t)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < t->negress_refs; i++) {
		const struct mxt_egress_ref *r = &t->egress_refs[i];
		cJSON *o = cJSON_CreateObject();

		add_str(o, "host", r->host);
		cJSON_AddNumberToObject(o, "port", r->port);
		add_str(o, "address", r->address[0] != '\0' ? r->address : NULL);
		cJSON_AddStringToObject(o, "connect", mxt_conn_status_name(r->connect));
		cJSON_AddNumberToObject(o, "connect_ms", (double)r->connect_ms);
		if (r->connect != MXT_CONN_OK && r->connect_errno != 0)
			cJSON_AddStringToObject(o, "errno", strerror(r->connect_errno));
		else
			cJSON_AddNullToObject(o, "errno");
		add_str(o, "error", r->error);
		cJSON_AddBoolToObject(o, "builtin", t->egress_refs_builtin);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *
target_json(const struct mxt_target *t)
{
	cJSON *o = cJSON_CreateObject(), *tg = cJSON_CreateObject(), *rc = cJSON_CreateArray();
	cJSON *at = cJSON_CreateArray(), *fi = cJSON_CreateArray(), *v = cJSON_CreateObject();
	char when[32];
	time_t sec = (time_t)(t->started_unix_ms / 1000);
	struct tm tm;
	size_t i;

	cJSON_AddStringToObject(o, "schema_version", MXT_SCHEMA_VERSION);
	cJSON_AddStringToObject(o, "mxtrace_version", MXT_VERSION);
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, "started_at", when);
	cJSON_AddNumberToObject(o, "duration_ms", (double)t->duration_ms);
	add_str(tg, "input", t->input);
	if (t->input_line > 0)
		cJSON_AddNumberToObject(tg, "line", (double)t->input_line);
	else
		cJSON_AddNullToObject(tg, "line");
	add_str(tg, "error", t->input_error);
	add_str(tg, "domain", t->domain);
	add_str(tg, "domain_unicode", t->domain_unicode);
	add_str(tg, "sender", t->sender);
	for (i = 0; i < t->nrcpts; i++)
		cJSON_AddItemToArray(rc, jstr(t->rcpts[i]));
	cJSON_AddItemToObject(tg, "recipients", rc);
	cJSON_AddItemToObject(o, "target", tg);
	cJSON_AddItemToObject(o, "request", request_json(t));
	cJSON_AddItemToObject(o, "dns", dns_json(&t->dns));
	cJSON_AddItemToObject(o, "client", client_json(&t->client));
	cJSON_AddItemToObject(o, "sender_auth", sender_auth_json(&t->sender_auth));
	cJSON_AddItemToObject(o, "policies", policies_json(t));
	for (i = 0; i < t->nattempts; i++)
		cJSON_AddItemToArray(at, attempt_json(t, &t->attempts[i]));
	cJSON_AddItemToObject(o, "attempts", at);
	cJSON_AddItemToObject(o, "egress_references", egress_refs_json(t));
	for (i = 0; i < t->nfindings; i++) {
		const struct mxt_finding *f = &t->findings[i];
		cJSON *fo = cJSON_CreateObject();

		cJSON_AddStringToObject(fo, "code", f->code);
		cJSON_AddStringToObject(fo, "severity", mxt_severity_name(f->severity));
		cJSON_AddStringToObject(fo, "stage", f->stage != NULL ? f->stage : "");
		add_str(fo, "host", f->host);
		add_str(fo, "address", f->address);
		add_str(fo, "evidence", f->evidence);
		add_str(fo, "hint", f->hint);
		if (f->list != NULL)
			add_str(fo, "list", f->list);
		if (f->list_url != NULL)
			add_str(fo, "list_url", f->list_url);
		cJSON_AddItemToArray(fi, fo);
	}
	cJSON_AddItemToObject(o, "findings", fi);
	cJSON_AddStringToObject(v, "status", mxt_status_name(t->verdict.status));
	add_str(v, "summary", t->verdict.summary);
	add_str(v, "via", t->verdict.via);
	verdict_counts(v, t);
	add_policy_verdict(v, "dane", t->verdict.dane, t->verdict.dane_summary);
	add_policy_verdict(v, "mta_sts", t->verdict.mta_sts, t->verdict.mta_sts_summary);
	cJSON_AddItemToObject(o, "verdict", v);
	return o;
}

int
mxt_render_json(
    FILE *out, struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *ro)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		cJSON *o = target_json(targets[i]);
		/* One pretty document for one target; JSON Lines for a batch. */
		char *s = n == 1 && !ro->compact ? cJSON_Print(o) : cJSON_PrintUnformatted(o);

		cJSON_Delete(o);
		if (s == NULL)
			return -1;
		if (fputs(s, out) == EOF || fputc('\n', out) == EOF)
			rc = -1;
		cJSON_free(s);
	}
	if (fflush(out) == EOF || ferror(out))
		rc = -1;
	return rc;
}
