/* SPDX-License-Identifier: MIT */
/*
 * SPF (RFC 7208) for the client's address: check_host() of the MAIL FROM
 * domain (--from), or of the EHLO name when there is no sender domain
 * (RFC 7208 §2.3), evaluated by libspf2.
 *
 * DNS design.  libspf2 resolves through a stack of "DNS layers"
 * (SPF_dns_server_t) and its default layer does blocking res_query() calls
 * against the system's resolv.conf.  That would stall mxtrace's event loop
 * and ignore --resolver, so it is never used.  Instead libspf2 gets one layer
 * of ours (struct spfrun's "layer") that answers only from a cache of
 * answers fetched by c-ares through mxtrace's resolver.  A question that is
 * not in the cache yet is noted and answered "try again" (TRY_AGAIN, which
 * ends the evaluation at once as a temperror); after the evaluation, every
 * noted question is sent at once, and when the last answer is in, the
 * evaluation runs again from the start.  Each pass gets at least one answer
 * further, evaluation is a CPU-only walk over the cache, and RFC 7208 §4.6.4
 * bounds the DNS work to 10 querying terms (each MX/PTR to 10 names), so a
 * few passes suffice; MXT_SPF_NAMES_MAX and MXT_SPF_PASSES_MAX cap a hostile
 * record regardless.  A worker thread running libspf2's own resolver was the
 * alternative; it would need a second resolver configuration kept equal to
 * c-ares' (and thread-safety from libspf2's global log hooks), while the
 * cache keeps every query on the one resolver, deadline and timing path.
 * The deprecated SPF RR type (99, RFC 7208 §14.1) is answered "no data"
 * without a query.
 *
 * libspf2 gives loopback clients a free pass (SPF_request_query_mailfrom);
 * RFC 7208 knows no such rule, so the evaluation is started with the
 * library's lower-level calls instead and a loopback address (the lab) is
 * judged like any other.  The term that decided is found by replaying the
 * record's prefixes against the same cache (no new queries): the first
 * prefix that matches ends with it.  Nothing here is judged; the record's
 * sender_auth.spf holds the outcome.
 */
#include <ares.h>
#include <ares_dns.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/xalloc.h"
#include "rep.h"

/* Answers kept per question: more than RFC 7208 lets matter (10 MX). */
#define ANSWERS_MAX 64

enum ent_state { ENT_WANTED = 0, ENT_ASKED, ENT_ANSWERED };

/* One DNS question and its answer (herrno as libspf2 expects it). */
struct ent {
	char *name; /* lower case, no trailing dot */
	int type;
	enum ent_state state;
	int herrno;
	char **data; /* text: dotted address, host name or TXT record */
	size_t ndata;
};

struct spfrun {
	struct rep *rp;
	SPF_dns_server_t layer;
	struct ent *ents;
	size_t nents;
	size_t asked; /* in flight */
	int missed;   /* the last pass lacked an answer */
	int overflow; /* more questions than MXT_SPF_NAMES_MAX */
	int replay;   /* finding the deciding term: answer from the cache only */
	int passes;
	int family;
	char *from; /* envelope sender for libspf2 ("" = use the HELO name) */
	char *helo;
	int64_t started;
};

struct entq {
	struct spfrun *s;
	size_t i;
};

static void evaluate(struct spfrun *s);

/* ---- libspf2's log hooks: never stdout (only renderers write there) ---- */

static void __attribute__((noreturn)) log_error(const char *file, int line, const char *msg)
{
	fprintf(stderr, "mxtrace: libspf2 internal error: %s\n", msg);
	abort();
}

static void
log_quiet(const char *file, int line, const char *msg)
{
	mxt_log(3, "libspf2: %s", msg);
}

/* ---- the cache layer ---- */

static struct ent *
ent_find(struct spfrun *s, const char *name, int type)
{
	size_t i;

	for (i = 0; i < s->nents; i++)
		if (s->ents[i].type == type && strcmp(s->ents[i].name, name) == 0)
			return &s->ents[i];
	return NULL;
}

static SPF_dns_rr_t *
rr_new(SPF_dns_server_t *srv, const char *domain, ns_type type, int herrno)
{
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(srv, domain, type, 300, herrno);

	if (rr == NULL)
		mxt_oom(sizeof(*rr));
	return rr;
}

/* The lookup hook libspf2 calls: answer from the cache, or note the
 * question and say "try again". */
static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type, int should_cache)
{
	struct spfrun *s = srv->hook;
	char name[MXT_DOMAIN_MAX + 2];
	size_t n = strlen(domain), i;
	struct ent *e;
	SPF_dns_rr_t *rr;

	while (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > MXT_DOMAIN_MAX)
		return rr_new(srv, domain, type, HOST_NOT_FOUND);
	for (i = 0; i < n; i++)
		name[i] = domain[i] >= 'A' && domain[i] <= 'Z' ? (char)(domain[i] + 32) : domain[i];
	name[n] = '\0';
	if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx && type != ns_t_txt &&
	    type != ns_t_ptr)
		return rr_new(srv, domain, type, NO_DATA); /* ns_t_spf (99): RFC 7208 §14.1 */
	e = ent_find(s, name, (int)type);
	if (e == NULL) {
		if (s->replay)
			return rr_new(srv, domain, type, TRY_AGAIN);
		if (s->nents >= MXT_SPF_NAMES_MAX) {
			s->overflow = 1;
			return rr_new(srv, domain, type, TRY_AGAIN);
		}
		s->ents = mxt_xreallocarray(s->ents, s->nents + 1, sizeof(*s->ents));
		e = &s->ents[s->nents++];
		memset(e, 0, sizeof(*e));
		e->name = mxt_xstrdup(name);
		e->type = (int)type;
	}
	if (e->state != ENT_ANSWERED) {
		s->missed = 1;
		return rr_new(srv, domain, type, TRY_AGAIN);
	}
	rr = rr_new(srv, domain, type, e->herrno);
	for (i = 0; e->herrno == NETDB_SUCCESS && i < e->ndata; i++) {
		const char *d = e->data[i];
		size_t len = type == ns_t_a ? sizeof(struct in_addr)
		    : type == ns_t_aaaa	    ? sizeof(struct in6_addr)
					    : strlen(d) + 1;

		if (SPF_dns_rr_buf_realloc(rr, (int)i, len) != SPF_E_SUCCESS)
			mxt_oom(len);
		if (type == ns_t_a)
			inet_pton(AF_INET, d, &rr->rr[i]->a);
		else if (type == ns_t_aaaa)
			inet_pton(AF_INET6, d, &rr->rr[i]->aaaa);
		else
			memcpy(rr->rr[i]->txt, d, len);
	}
	rr->num_rr = e->herrno == NETDB_SUCCESS ? (int)e->ndata : 0;
	return rr;
}

/* ---- answers into the cache ---- */

static void
ent_add(struct ent *e, const char *text)
{
	if (e->ndata >= ANSWERS_MAX)
		return;
	e->data = mxt_xreallocarray(e->data, e->ndata + 1, sizeof(*e->data));
	e->data[e->ndata++] = mxt_xstrdup(text);
}

/* The answer RRs of type e->type, as text.  A bounded walk of the message
 * for the name-valued types (MX, PTR), c-ares' parsers for the rest. */
static void
parse_answer(struct ent *e, const unsigned char *abuf, int alen)
{
	if (e->type == ns_t_a || e->type == ns_t_aaaa) {
		struct ares_addrttl a4[ANSWERS_MAX];
		struct ares_addr6ttl a6[ANSWERS_MAX];
		int n = ANSWERS_MAX, i;
		char text[INET6_ADDRSTRLEN];

		if (e->type == ns_t_a &&
		    ares_parse_a_reply(abuf, alen, NULL, a4, &n) == ARES_SUCCESS)
			for (i = 0; i < n; i++)
				ent_add(e, inet_ntop(AF_INET, &a4[i].ipaddr, text, sizeof(text)));
		if (e->type == ns_t_aaaa &&
		    ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n) == ARES_SUCCESS)
			for (i = 0; i < n; i++)
				ent_add(e, inet_ntop(AF_INET6, &a6[i].ip6addr, text, sizeof(text)));
	} else if (e->type == ns_t_txt) {
		struct ares_txt_ext *txt = NULL, *t;
		char *rec = NULL;
		size_t len = 0;

		if (ares_parse_txt_reply_ext(abuf, alen, &txt) != ARES_SUCCESS)
			return;
		/* RFC 7208 §3.3: a record's strings are joined without spaces. */
		for (t = txt; t != NULL; t = t->next) {
			if (t->record_start && rec != NULL) {
				ent_add(e, rec);
				free(rec);
				rec = NULL;
			}
			if (len + t->length > 4 * MXT_FIELD_TEXT_MAX && rec != NULL)
				continue;
			if (rec == NULL)
				len = 0;
			rec = mxt_xrealloc(rec, len + t->length + 1);
			memcpy(rec + len, t->txt, t->length);
			len += t->length;
			rec[len] = '\0';
		}
		if (rec != NULL)
			ent_add(e, rec);
		free(rec);
		ares_free_data(txt);
	} else {
		const unsigned char *p = abuf + HFIXEDSZ;
		int qd, an, i;

		if (alen < HFIXEDSZ)
			return;
		qd = DNS_HEADER_QDCOUNT(abuf);
		an = DNS_HEADER_ANCOUNT(abuf);
		for (i = 0; i < qd; i++) {
			char *nm;
			long l;

			if (ares_expand_name(p, abuf, alen, &nm, &l) != ARES_SUCCESS)
				return;
			ares_free_string(nm);
			p += l + QFIXEDSZ;
			if (p > abuf + alen)
				return;
		}
		for (i = 0; i < an; i++) {
			char *nm;
			long l;
			int rtype, rdlen;
			const unsigned char *rd;

			if (ares_expand_name(p, abuf, alen, &nm, &l) != ARES_SUCCESS)
				return;
			ares_free_string(nm);
			p += l;
			if (p + RRFIXEDSZ > abuf + alen)
				return;
			rtype = DNS_RR_TYPE(p);
			rdlen = DNS_RR_LEN(p);
			rd = p + RRFIXEDSZ;
			p = rd + rdlen;
			if (p > abuf + alen)
				return;
			if (rtype != e->type)
				continue;
			if (rtype == ns_t_mx) {
				if (rdlen < 3)
					continue;
				rd += 2; /* preference */
			}
			if (ares_expand_name(rd, abuf, alen, &nm, &l) == ARES_SUCCESS) {
				ent_add(e, nm);
				ares_free_string(nm);
			}
		}
	}
}

static void
on_answer(void *arg, enum mxt_dns_status st, const unsigned char *abuf, int alen)
{
	struct entq *q = arg;
	struct spfrun *s = q->s;
	struct ent *e = &s->ents[q->i];

	free(q);
	e->state = ENT_ANSWERED;
	/* RFC 7208 §5: anything but an answer or NXDOMAIN is a temperror. */
	switch (st) {
	case MXT_DNS_OK:
		parse_answer(e, abuf, alen);
		e->herrno = e->ndata > 0 ? NETDB_SUCCESS : NO_DATA;
		break;
	case MXT_DNS_NODATA:
		e->herrno = NO_DATA;
		break;
	case MXT_DNS_NXDOMAIN:
		e->herrno = HOST_NOT_FOUND;
		break;
	case MXT_DNS_NOT_RUN:
	case MXT_DNS_SERVFAIL:
	case MXT_DNS_REFUSED:
	case MXT_DNS_TIMEOUT:
	case MXT_DNS_UNREACHABLE:
	case MXT_DNS_BADRESP:
	case MXT_DNS_ERROR:
	default:
		e->herrno = TRY_AGAIN;
		break;
	}
	if (--s->asked == 0)
		evaluate(s);
}

/* Send every question the last pass noted. */
static void
ask(struct spfrun *s)
{
	size_t i;

	for (i = 0; i < s->nents; i++) {
		struct entq *q;

		if (s->ents[i].state != ENT_WANTED)
			continue;
		s->ents[i].state = ENT_ASKED;
		q = mxt_xcalloc(1, sizeof(*q));
		q->s = s;
		q->i = i;
		s->asked++;
		mxt_resolver_query_for(s->rp->r, s->rp, s->rp->arg, s->ents[i].name,
		    s->ents[i].type, NULL, on_answer, q);
	}
}

/* ---- evaluation ---- */

/* check_host() without libspf2's loopback free pass: the record of the
 * current domain, then its evaluation (RFC 7208 §4). */
static SPF_response_t *
check_host(SPF_server_t *srv, SPF_request_t *req, const char *record)
{
	SPF_response_t *resp = SPF_response_new(req);
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	if (resp == NULL)
		mxt_oom(64);
	req->cur_dom = req->env_from_dp;
	if (record != NULL)
		err = SPF_record_compile(srv, resp, &rec, record);
	else
		err = SPF_server_get_record(srv, req, resp, &rec);
	if (err != SPF_E_SUCCESS) {
		if (rec != NULL)
			SPF_record_free(rec);
		SPF_i_done(resp, resp->result, resp->reason, resp->err);
		return resp;
	}
	resp->spf_record_exp = rec;
	SPF_record_interpret(rec, req, resp, 0);
	SPF_record_free(rec);
	return resp;
}

/* RFC 7208 §4.6.1: a modifier is name "=" ...; a mechanism is not. */
static int
is_modifier(const char *term)
{
	size_t i = 0;

	if (!((term[0] >= 'a' && term[0] <= 'z') || (term[0] >= 'A' && term[0] <= 'Z')))
		return 0;
	while (term[i] != '\0' && term[i] != '=' && term[i] != ':' && term[i] != '/')
		i++;
	return term[i] == '=';
}

/* The term of record that decided: the last term of the shortest prefix
 * that matches (answers come from the cache only), else its redirect=. */
static char *
deciding_term(struct spfrun *s, SPF_server_t *srv, SPF_request_t *req, const char *record)
{
	char *copy = mxt_xstrdup(record), *terms[64], *p, *found = NULL, *redirect = NULL;
	size_t nterms = 0, k, i, len;

	for (p = copy; *p != '\0' && nterms < 64;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		terms[nterms++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	s->replay = 1;
	for (k = 1; k < nterms && found == NULL; k++) {
		char *prefix;
		SPF_response_t *resp;

		if (is_modifier(terms[k])) {
			if (strncasecmp(terms[k], "redirect=", 9) == 0)
				redirect = terms[k];
			continue;
		}
		for (len = sizeof("v=spf1"), i = 1; i <= k; i++)
			len += strlen(terms[i]) + 1;
		prefix = mxt_xmalloc(len);
		snprintf(prefix, len, "v=spf1");
		for (i = 1; i <= k; i++)
			if (!is_modifier(terms[i])) {
				size_t o = strlen(prefix);

				snprintf(prefix + o, len - o, " %s", terms[i]);
			}
		resp = check_host(srv, req, prefix);
		if (SPF_response_reason(resp) == SPF_REASON_MECH)
			found = terms[k];
		SPF_response_free(resp);
		free(prefix);
	}
	s->replay = 0;
	p = found != NULL ? mxt_xstrdup(found) : mxt_xstrdup_or_null(redirect);
	free(copy);
	return p;
}

static enum mxt_spf_result
map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return MXT_SPF_PASS;
	case SPF_RESULT_FAIL:
		return MXT_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return MXT_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return MXT_SPF_NEUTRAL;
	case SPF_RESULT_NONE:
		return MXT_SPF_NONE;
	case SPF_RESULT_TEMPERROR:
		return MXT_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID: /* libspf2: a record it could not compile */
	default:
		return MXT_SPF_PERMERROR;
	}
}

/* libspf2's messages about the evaluation, "; "-joined.  Caller frees. */
static char *
messages(SPF_response_t *resp)
{
	char buf[1024];
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < SPF_response_messages(resp) && off < sizeof(buf) - 1; i++) {
		SPF_error_t *m = SPF_response_message(resp, i);
		const char *text = m != NULL ? SPF_error_message(m) : NULL;

		if (text == NULL || strstr(buf, text) != NULL)
			continue;
		off +=
		    (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", off ? "; " : "", text);
	}
	if (buf[0] == '\0' && SPF_response_errcode(resp) != SPF_E_SUCCESS)
		snprintf(buf, sizeof(buf), "%s", SPF_strerror(SPF_response_errcode(resp)));
	return buf[0] != '\0' ? mxt_xstrdup(buf) : NULL;
}

/* The domain's SPF record(s) from the cache (RFC 7208 §4.5); *n gets the
 * count.  NULL when none. */
static const char *
cached_record(struct spfrun *s, const char *domain, size_t *n)
{
	char name[MXT_DOMAIN_MAX + 2];
	const struct ent *e;
	const char *rec = NULL;
	size_t i, len;

	*n = 0;
	snprintf(name, sizeof(name), "%s", domain);
	len = strlen(name);
	while (len > 0 && name[len - 1] == '.')
		name[--len] = '\0';
	for (i = 0; i < len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] + 32);
	e = ent_find(s, name, ns_t_txt);
	for (i = 0; e != NULL && i < e->ndata; i++)
		if (strncasecmp(e->data[i], "v=spf1", 6) == 0 &&
		    (e->data[i][6] == ' ' || e->data[i][6] == '\0')) {
			if (rec == NULL)
				rec = e->data[i];
			(*n)++;
		}
	return rec;
}

static void
spf_free(struct spfrun *s)
{
	size_t i, j;

	for (i = 0; i < s->nents; i++) {
		free(s->ents[i].name);
		for (j = 0; j < s->ents[i].ndata; j++)
			free(s->ents[i].data[j]);
		free(s->ents[i].data);
	}
	free(s->ents);
	free(s->from);
	free(s->helo);
	free(s);
}

/* Fill sender_auth.spf from the final pass. */
static void
finish(struct spfrun *s, SPF_server_t *srv, SPF_request_t *req, SPF_response_t *resp)
{
	struct mxt_spf *o = &s->rp->t->sender_auth.spf;
	struct rep *rp = s->rp;
	size_t nrec;
	const char *rec = cached_record(s, o->domain, &nrec);

	o->result = map_result(SPF_response_result(resp));
	o->record = mxt_xstrdup_or_null(rec);
	o->lookups = resp->num_dns_mech;
	if (s->missed) {
		/* The deadline or a cap stopped the passes. */
		o->result = MXT_SPF_TEMPERROR;
		o->error =
		    mxt_xstrdup(s->overflow ? "the record needs more DNS lookups than mxtrace "
					      "allows (a loop through include or redirect?)"
			    : rp->expired   ? "the DNS deadline passed before the evaluation "
					      "finished"
					  : "the evaluation needed too many rounds of DNS lookups");
	} else if (o->result == MXT_SPF_NONE && rec != NULL) {
		/* A record exists but libspf2 could not compile it: a syntax
		 * error is a permerror (RFC 7208 §4.6). */
		o->result = MXT_SPF_PERMERROR;
	}
	if (o->error == NULL &&
	    (o->result == MXT_SPF_PERMERROR || o->result == MXT_SPF_TEMPERROR)) {
		o->error = messages(resp);
		if (nrec > 1) {
			free(o->error);
			o->error = mxt_xstrdup("the domain publishes more than one SPF record "
					       "(RFC 7208 section 4.5)");
		}
	}
	if (!s->missed && SPF_response_reason(resp) == SPF_REASON_MECH && rec != NULL)
		o->mechanism = deciding_term(s, srv, req, rec);
	if (o->result == MXT_SPF_FAIL && rec != NULL && strstr(rec, " exp=") != NULL &&
	    SPF_response_get_explanation(resp) != NULL)
		o->explanation = mxt_xstrdup(SPF_response_get_explanation(resp));
	o->duration_ms = mxt_now_ms() - s->started;
}

/* One pass: evaluate against the cache; ask for what it lacked, or finish. */
static void
evaluate(struct spfrun *s)
{
	SPF_server_t *srv = SPF_server_new_dns(&s->layer, 0);
	SPF_request_t *req;
	SPF_response_t *resp;
	struct rep *rp = s->rp;

	if (srv == NULL || (req = SPF_request_new(srv)) == NULL)
		mxt_oom(256);
	s->missed = 0;
	s->passes++;
	if (s->family == AF_INET)
		SPF_request_set_ipv4_str(req, s->rp->t->sender_auth.spf.address);
	else
		SPF_request_set_ipv6_str(req, s->rp->t->sender_auth.spf.address);
	if (s->helo != NULL)
		SPF_request_set_helo_dom(req, s->helo);
	SPF_request_set_env_from(req, s->from);
	resp = check_host(srv, req, NULL);
	if (s->missed && !s->overflow && !rp->expired && s->passes < MXT_SPF_PASSES_MAX) {
		SPF_response_free(resp);
		SPF_request_free(req);
		SPF_server_free(srv);
		ask(s);
		return;
	}
	finish(s, srv, req, resp);
	mxt_log(1, "SPF: %s for %s at %s after %d pass(es)",
	    mxt_spf_result_name(rp->t->sender_auth.spf.result), rp->t->sender_auth.spf.address,
	    rp->t->sender_auth.spf.domain, s->passes);
	SPF_response_free(resp);
	SPF_request_free(req);
	SPF_server_free(srv);
	spf_free(s);
	mxt_rep_release(rp);
}

void
mxt_rep_spf_start(struct rep *rp)
{
	struct mxt_target *t = rp->t;
	struct mxt_sender *snd = &t->sender_auth;
	const struct mxt_config *cfg = rp->cfg;
	const char *addr, *at, *helo = t->client.ehlo_name;
	struct spfrun *s;
	unsigned char b[16];
	int trusted, family;
	char why[300];

	if (cfg->no_spf) {
		snd->skipped = mxt_xstrdup("--no-spf");
		return;
	}
	if (cfg->submission) {
		/* RFC 6409: the submission server relays; receivers judge its
		 * address and its domain's records, not this client's. */
		snd->skipped = mxt_xstrdup("--submission: receivers judge the submission server, "
					   "not this client");
		return;
	}
	addr = mxt_rep_address(rp, &trusted);
	if (addr == NULL || !trusted) {
		snprintf(why, sizeof(why),
		    addr == NULL ? "the client address is not known"
				 : "the client address %s is not public (behind NAT?): give the "
				   "public one with --egress-ip",
		    addr);
		snd->skipped = mxt_xstrdup(why);
		return;
	}
	family = inet_pton(AF_INET, addr, b) == 1 ? AF_INET : AF_INET6;
	if (helo != NULL && (helo[0] == '[' || strchr(helo, '.') == NULL))
		helo = NULL; /* an address literal is no domain (RFC 7208 §2.3) */
	at = cfg->from != NULL ? strrchr(cfg->from, '@') : NULL;
	if ((at == NULL || at[1] == '\0') && helo == NULL) {
		snd->skipped = mxt_xstrdup("no sender domain: give --from user@domain");
		return;
	}
	SPF_error_handler = log_error;
	SPF_warning_handler = log_quiet;
	SPF_info_handler = log_quiet;
	SPF_debug_handler = log_quiet;

	s = mxt_xcalloc(1, sizeof(*s));
	s->rp = rp;
	s->family = family;
	s->started = mxt_now_ms();
	s->helo = mxt_xstrdup_or_null(helo);
	s->from = mxt_xstrdup(at != NULL && at[1] != '\0' ? cfg->from : "");
	snd->spf.address = mxt_xstrdup(addr);
	snd->spf.domain = mxt_xstrdup(at != NULL && at[1] != '\0' ? at + 1 : helo);
	snd->spf.domain_from = mxt_xstrdup(at != NULL && at[1] != '\0' ? "mail_from" : "helo");
	s->layer.destroy = NULL; /* ours: libspf2 must not free it */
	s->layer.lookup = layer_lookup;
	s->layer.name = "mxtrace";
	s->layer.hook = s;
	mxt_rep_hold(rp);
	evaluate(s);
}
