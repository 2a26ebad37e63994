/* SPDX-License-Identifier: MIT */
/*
 * Classifier and verdict tests: fixture records built by hand (no DNS, no
 * sockets, no other module's code) for each scenario, one real-world reply
 * per phrase-table entry, a check that every entry has such a reply, and
 * checks of the catalogue and the exit code.  The fixtures own every string
 * they allocate and fx_free() releases them, findings included, exactly as
 * mxt_target_free() does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <openssl/x509_vfy.h>

#include "mxtrace/report.h"
#include "t.h"

#define FX_CAP 16

static const struct {
	const char *kind, *needle, *label;
} ptab[] = {
#define MXT_PHRASE(kind, needle, label) {#kind, needle, label},
#include "../../src/report/phrases.def"
#undef MXT_PHRASE
};
#define NPHRASES (sizeof(ptab) / sizeof(ptab[0]))

static const struct {
	const char *code;
	enum mxt_severity sev;
	const char *stage;
} dtab[] = {
#define MXT_DIAG(id, code, sev, stage, title, hint) {code, MXT_SEV_##sev, stage},
#include "../../src/report/diagnoses.def"
#undef MXT_DIAG
};
#define NDIAGS (sizeof(dtab) / sizeof(dtab[0]))

/* ---- fixtures ---- */

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (p == NULL)
		abort();
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static struct mxt_target *
fx_target(const char *domain)
{
	struct mxt_target *t = xcalloc(1, sizeof(*t));

	t->input = xstrdup(domain);
	t->domain = xstrdup(domain);
	t->dns.q_mx.status = MXT_DNS_OK;
	t->dns.source = MXT_MX_SOURCE_MX;
	t->dns.mx = xcalloc(FX_CAP, sizeof(*t->dns.mx));
	t->attempts = xcalloc(FX_CAP, sizeof(*t->attempts));
	return t;
}

/* An exchanger with one IPv4 address, or none when addr is NULL. */
static struct mxt_exchanger *
fx_mx(struct mxt_target *t, const char *name, int pref, const char *addr)
{
	struct mxt_exchanger *x = &t->dns.mx[t->dns.nmx++];

	x->name = xstrdup(name);
	x->preference = pref;
	x->q_a.status = addr != NULL ? MXT_DNS_OK : MXT_DNS_NODATA;
	x->q_aaaa.status = MXT_DNS_NODATA;
	if (addr != NULL) {
		x->addrs = xcalloc(1, sizeof(*x->addrs));
		x->naddrs = 1;
		x->addrs[0].family = AF_INET;
		snprintf(x->addrs[0].text, sizeof(x->addrs[0].text), "%s", addr);
	}
	return x;
}

/* Parse "NNN-text\nNNN text" into a reply (a line without a code is kept
 * whole, code 0).  RFC 3463 codes are looked for when want_enh is set. */
static void
fx_reply(struct mxt_reply *r, const char *text, int want_enh)
{
	const char *p = text, *nl;
	size_t n = 1, i, len, k;

	memset(r, 0, sizeof(*r));
	for (nl = text; *nl != '\0'; nl++)
		if (*nl == '\n')
			n++;
	r->lines = xcalloc(n, sizeof(*r->lines));
	for (i = 0; i < n; i++) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len >= 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
		    p[2] >= '0' && p[2] <= '9') {
			r->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
			k = len > 3 ? 4 : 3;
		} else {
			r->code = 0;
			k = 0;
		}
		r->lines[i].len = len - k;
		r->lines[i].p = xcalloc(len - k + 1, 1);
		memcpy(r->lines[i].p, p + k, len - k);
		r->nbytes += len + 2;
		p = nl != NULL ? nl + 1 : p + len;
	}
	r->nlines = n;
	if (want_enh && r->lines[0].len >= 5) {
		const char *s = r->lines[0].p;

		for (k = 0; k < sizeof(r->enh) - 1 && s[k] != '\0' && s[k] != ' '; k++)
			r->enh[k] = s[k];
		r->enh[k] = '\0';
		/* Keep it only if it looks like d.d.d. */
		if (!(r->enh[0] >= '2' && r->enh[0] <= '5' && r->enh[1] == '.' &&
			strchr(r->enh + 2, '.') != NULL))
			r->enh[0] = '\0';
	}
}

static struct mxt_step *
fx_step(struct mxt_attempt *a, enum mxt_stage stage, const char *cmd, enum mxt_step_status st,
    const char *reply)
{
	struct mxt_step *s = &a->steps[a->nsteps++];

	s->stage = stage;
	s->command = cmd != NULL ? xstrdup(cmd) : NULL;
	s->status = st;
	s->duration_ms = st == MXT_STEP_TIMEOUT ? 30000 : 3;
	if (reply != NULL)
		fx_reply(&s->reply, reply,
		    stage != MXT_STAGE_BANNER && stage != MXT_STAGE_EHLO &&
			stage != MXT_STAGE_HELO && stage != MXT_STAGE_EHLO_TLS);
	return s;
}

static struct mxt_attempt *
fx_attempt(struct mxt_target *t, size_t mx, const char *addr, int port, enum mxt_conn_status cs)
{
	struct mxt_attempt *a = &t->attempts[t->nattempts++];

	a->mx_index = mx;
	a->addr.family = AF_INET;
	snprintf(a->addr.text, sizeof(a->addr.text), "%s", addr);
	a->port = port;
	a->mode = port == 25 ? MXT_MODE_SMTP : port == 465 ? MXT_MODE_SMTPS : MXT_MODE_SUBMISSION;
	a->connect = cs;
	a->connect_ms = cs == MXT_CONN_TIMEOUT ? 10000 : 4;
	a->steps = xcalloc(FX_CAP, sizeof(*a->steps));
	if (cs != MXT_CONN_OK) {
		a->end = MXT_END_CONNECT;
		a->end_stage = MXT_STAGE_CONNECT;
	}
	return a;
}

/* Capabilities from keyword lines; AUTH mechanisms from an "AUTH ..." line. */
static void
fx_caps(struct mxt_caps *k, const char *const *kw)
{
	size_t n = 0, i;

	memset(k, 0, sizeof(*k));
	while (kw[n] != NULL)
		n++;
	k->keywords = xcalloc(n + 1, sizeof(*k->keywords));
	k->auth = xcalloc(8, sizeof(*k->auth));
	for (i = 0; i < n; i++) {
		k->keywords[i].p = xstrdup(kw[i]);
		k->keywords[i].len = strlen(kw[i]);
		if (strcmp(kw[i], "STARTTLS") == 0)
			k->flags |= MXT_CAP_STARTTLS;
		if (strncmp(kw[i], "SIZE", 4) == 0) {
			k->flags |= MXT_CAP_SIZE;
			k->size = strtoull(kw[i] + 4, NULL, 10);
		}
		if (strncmp(kw[i], "AUTH ", 5) == 0) {
			char *copy = xstrdup(kw[i] + 5), *save = NULL, *m;

			k->flags |= MXT_CAP_AUTH;
			for (m = strtok_r(copy, " ", &save); m != NULL && k->nauth < 8;
			     m = strtok_r(NULL, " ", &save))
				k->auth[k->nauth++] = xstrdup(m);
			free(copy);
		}
	}
	k->nkeywords = n;
}

enum {
	FX_NOTLS = 1 << 0, /* no STARTTLS offered */
	FX_DATA = 1 << 1,  /* --send: DATA and the end of data */
	FX_AUTH = 1 << 2,  /* AUTH after TLS */
	FX_MASKED = 1 << 3 /* Cisco-masked EHLO keywords */
};

static const char *const caps_tls[] = {
    "mx.test", "PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", NULL};
static const char *const caps_notls[] = {
    "mx.test", "PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES", "8BITMIME", NULL};
static const char *const caps_masked[] = {
    "mx.test", "PIPELINING", "SIZE 10240000", "XXXXXXXA", "8BITMIME", NULL};
static const char *const caps_after[] = {"mx.test", "PIPELINING", "SIZE 10240000",
    "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES", "8BITMIME", NULL};

static void
fx_tls_ok(struct mxt_attempt *a, const char *name)
{
	struct mxt_tls *tls = &a->tls;

	tls->attempted = 1;
	tls->ok = 1;
	tls->version = xstrdup("TLSv1.3");
	tls->cipher = xstrdup("TLS_AES_256_GCM_SHA384");
	tls->have_cert = 1;
	tls->chain_ok = 1;
	tls->verify_code = X509_V_OK;
	tls->name_ok = 1;
	tls->peer_name = xstrdup(name);
	tls->subject = xstrdup("CN=mx.test");
	tls->issuer = xstrdup("C=US, O=Let's Encrypt, CN=R11");
	tls->san = xcalloc(1, sizeof(*tls->san));
	tls->san[0] = xstrdup(name);
	tls->nsan = 1;
	tls->not_before = xstrdup("2025-01-01T00:00:00Z");
	tls->not_after = xstrdup("2026-04-01T00:00:00Z");
	tls->days_left = 60;
}

/*
 * A session as mxtrace runs it (banner, EHLO, STARTTLS, TLS, EHLO, [AUTH],
 * MAIL, RCPT, [DATA, end of data], RSET, QUIT).  At stage `at` the server
 * answers `reply` instead (status st); a 4xx/5xx or a failed step ends the
 * session there, like session.c does.
 */
static struct mxt_attempt *
fx_session(struct mxt_target *t, size_t mx, const char *addr, unsigned flags, enum mxt_stage at,
    enum mxt_step_status st, const char *reply)
{
	static const enum mxt_stage order[] = {MXT_STAGE_BANNER, MXT_STAGE_EHLO, MXT_STAGE_STARTTLS,
	    MXT_STAGE_TLS, MXT_STAGE_EHLO_TLS, MXT_STAGE_AUTH, MXT_STAGE_MAIL, MXT_STAGE_RCPT,
	    MXT_STAGE_DATA, MXT_STAGE_DATA_END};
	struct mxt_attempt *a = fx_attempt(t, mx, addr, 25, MXT_CONN_OK);
	const char *name = t->dns.mx[mx].name;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum mxt_stage s = order[i];
		const char *def = NULL, *cmd = NULL;
		struct mxt_step *step;

		if ((flags & FX_NOTLS) &&
		    (s == MXT_STAGE_STARTTLS || s == MXT_STAGE_TLS || s == MXT_STAGE_EHLO_TLS))
			continue;
		if (s == MXT_STAGE_AUTH && !(flags & FX_AUTH) && at != MXT_STAGE_AUTH)
			continue;
		if ((s == MXT_STAGE_DATA || s == MXT_STAGE_DATA_END) && !(flags & FX_DATA) &&
		    at != s)
			continue;
		switch (s) {
		case MXT_STAGE_BANNER:
			def = "220 mx.test ESMTP Postfix";
			break;
		case MXT_STAGE_EHLO:
			cmd = "EHLO client.test";
			def = "250-mx.test\n250-PIPELINING\n250-SIZE 10240000\n250-STARTTLS\n250 "
			      "8BITMIME";
			break;
		case MXT_STAGE_STARTTLS:
			cmd = "STARTTLS";
			def = "220 2.0.0 Ready to start TLS";
			break;
		case MXT_STAGE_EHLO_TLS:
			cmd = "EHLO client.test";
			def = "250-mx.test\n250-PIPELINING\n250 SIZE 10240000";
			break;
		case MXT_STAGE_AUTH:
			cmd = "AUTH PLAIN <redacted>";
			def = "235 2.7.0 Authentication successful";
			break;
		case MXT_STAGE_MAIL:
			cmd = "MAIL FROM:<probe@client.test>";
			def = "250 2.1.0 Ok";
			break;
		case MXT_STAGE_RCPT:
			cmd = "RCPT TO:<bob@example.test>";
			def = "250 2.1.5 Ok";
			break;
		case MXT_STAGE_DATA:
			cmd = "DATA";
			def = "354 End data with <CR><LF>.<CR><LF>";
			break;
		case MXT_STAGE_DATA_END:
			cmd = ".";
			def = "250 2.0.0 Ok: queued as 4XyzAB12cd";
			break;
		case MXT_STAGE_CONNECT: /* not in order[]; TLS is handled below */
		case MXT_STAGE_HELO:
		case MXT_STAGE_TLS:
		case MXT_STAGE_RSET:
		case MXT_STAGE_QUIT:
		case MXT_STAGE_COUNT:
			break;
		}
		if (s == MXT_STAGE_TLS) {
			if (at == MXT_STAGE_TLS)
				break;
			fx_tls_ok(a, name != NULL ? name : "mx.test");
			continue;
		}
		if (s == at) {
			step = fx_step(a, s, cmd, st, reply);
			if (st != MXT_STEP_REPLIED || step->reply.code >= 400 ||
			    step->reply.code < 200)
				break;
		} else {
			fx_step(a, s, cmd, MXT_STEP_REPLIED, def);
		}
		if (s == MXT_STAGE_EHLO) {
			a->have_caps = 1;
			fx_caps(&a->caps,
			    (flags & FX_MASKED)	     ? caps_masked
				: (flags & FX_NOTLS) ? caps_notls
						     : caps_tls);
		}
		if (s == MXT_STAGE_EHLO_TLS) {
			a->caps_plain = a->caps;
			a->have_caps_plain = 1;
			fx_caps(&a->caps, caps_after);
		}
	}
	if (i < sizeof(order) / sizeof(order[0])) {
		a->end = st == MXT_STEP_TIMEOUT ? MXT_END_TIMEOUT
		    : st == MXT_STEP_CLOSED	? MXT_END_CLOSED
		    : st == MXT_STEP_PROTOCOL	? MXT_END_PROTOCOL
		    : order[i] == MXT_STAGE_TLS ? MXT_END_TLS
						: MXT_END_REJECTED;
		a->end_stage = order[i];
	} else {
		a->end = MXT_END_OK;
		a->end_stage = (flags & FX_DATA) ? MXT_STAGE_DATA_END : MXT_STAGE_RCPT;
		fx_step(a, MXT_STAGE_RSET, "RSET", MXT_STEP_REPLIED, "250 2.0.0 Ok");
	}
	if (!(a->end == MXT_END_CLOSED || a->end == MXT_END_TIMEOUT))
		fx_step(a, MXT_STAGE_QUIT, "QUIT", MXT_STEP_REPLIED, "221 2.0.0 Bye");
	return a;
}

static struct mxt_attempt *
fx_ok(struct mxt_target *t, size_t mx, const char *addr)
{
	return fx_session(t, mx, addr, 0, MXT_STAGE_COUNT, MXT_STEP_REPLIED, NULL);
}

static void
fx_reply_free(struct mxt_reply *r)
{
	size_t i;

	for (i = 0; i < r->nlines; i++)
		free(r->lines[i].p);
	free(r->lines);
}

static void
fx_caps_free(struct mxt_caps *k)
{
	size_t i;

	for (i = 0; i < k->nkeywords; i++)
		free(k->keywords[i].p);
	free(k->keywords);
	for (i = 0; i < k->nauth; i++)
		free(k->auth[i]);
	free(k->auth);
}

static void
fx_free(struct mxt_target *t)
{
	size_t i, j;

	/* The DANE facts (transport.c tests). */
	for (i = 0; i < t->dns.nmx; i++) {
		for (j = 0; j < t->dns.mx[i].ntlsa; j++)
			free(t->dns.mx[i].tlsa[j].data);
		free(t->dns.mx[i].tlsa);
	}
	for (i = 0; i < t->nattempts; i++) {
		free(t->attempts[i].tls.dane_match);
		free(t->attempts[i].tls.dane_verify_error);
	}
	for (i = 0; i < t->dns.nmx; i++) {
		free(t->dns.mx[i].name);
		free(t->dns.mx[i].cname);
		free(t->dns.mx[i].addrs);
	}
	free(t->dns.mx);
	for (i = 0; i < t->nattempts; i++) {
		struct mxt_attempt *a = &t->attempts[i];
		struct mxt_tls *tls = &a->tls;

		for (j = 0; j < a->nsteps; j++) {
			free(a->steps[j].command);
			fx_reply_free(&a->steps[j].reply);
		}
		free(a->steps);
		if (a->have_caps)
			fx_caps_free(&a->caps);
		if (a->have_caps_plain)
			fx_caps_free(&a->caps_plain);
		free(tls->error);
		free(tls->version);
		free(tls->cipher);
		free(tls->verify_error);
		free(tls->peer_name);
		free(tls->subject);
		free(tls->issuer);
		for (j = 0; j < tls->nsan; j++)
			free(tls->san[j]);
		free(tls->san);
		free(tls->not_before);
		free(tls->not_after);
		free(a->end_detail);
	}
	free(t->attempts);
	free(t->client.local_v4);
	free(t->client.ptr);
	free(t->client.ehlo_name);
	free(t->client.ehlo_from);
	for (i = 0; i < t->client.ndnsbl; i++) {
		struct mxt_dnsbl *b = &t->client.dnsbl[i];

		free(b->zone);
		free(b->list);
		free(b->address);
		for (j = 0; j < b->nanswers; j++)
			free(b->answers[j]);
		free(b->answers);
		free(b->meaning);
		free(b->txt);
		free(b->lookup_url);
	}
	free(t->client.dnsbl);
	free(t->sender_auth.spf.domain);
	free(t->sender_auth.spf.domain_from);
	free(t->sender_auth.spf.address);
	free(t->sender_auth.spf.record);
	free(t->sender_auth.spf.mechanism);
	free(t->sender_auth.dmarc.domain);
	free(t->sender_auth.dmarc.found_at);
	free(t->sender_auth.dmarc.policy);
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
	for (i = 0; i < t->sts.nmx; i++)
		free(t->sts.mx[i]);
	free(t->sts.mx);
	free(t->sts.id);
	free(t->input);
	free(t->domain);
	mxt_request_free(&t->request);
	free(t);
}

/* ---- looking at the result ---- */

static struct mxt_config cfg0;

static const struct mxt_finding *
find(const struct mxt_target *t, const char *code)
{
	size_t i;

	for (i = 0; i < t->nfindings; i++)
		if (strcmp(t->findings[i].code, code) == 0)
			return &t->findings[i];
	return NULL;
}

static size_t
count(const struct mxt_target *t, const char *code)
{
	size_t i, n = 0;

	for (i = 0; i < t->nfindings; i++)
		if (strcmp(t->findings[i].code, code) == 0)
			n++;
	return n;
}

static int
ev_has(const struct mxt_target *t, const char *code, const char *needle)
{
	const struct mxt_finding *f = find(t, code);

	return f != NULL && f->evidence != NULL && strstr(f->evidence, needle) != NULL;
}

static int
summary_has(const struct mxt_target *t, const char *needle)
{
	return t->verdict.summary != NULL && strstr(t->verdict.summary, needle) != NULL;
}

static int
via_is(const struct mxt_target *t, const char *name)
{
	return t->verdict.via != NULL && strcmp(t->verdict.via, name) == 0;
}

static int
exit_of(struct mxt_target *t)
{
	return mxt_exit_code(&t, 1);
}

/* Every finding is a catalogue code with its own severity, stage and hint,
 * owns its evidence, and exactly one delivery.* finding exists. */
/* The catalogue's hint, or the software table's hint for that code
 * (software.def: the fix in the receiving software's terms). */
static int
hint_from_tables(const struct mxt_diagnosis *d, const struct mxt_finding *f)
{
	const char *name;
	size_t i;

	if (d->hint == f->hint)
		return 1;
	for (i = 0; (name = mxt_software_name(i, NULL)) != NULL; i++)
		if (f->hint != NULL && mxt_software_hint(f->code, name) == f->hint)
			return 1;
	return 0;
}

static int
well_formed(const struct mxt_target *t)
{
	size_t i, ndelivery = 0;

	for (i = 0; i < t->nfindings; i++) {
		const struct mxt_finding *f = &t->findings[i];
		const struct mxt_diagnosis *d = mxt_diagnosis_find(f->code);

		if (d == NULL || d->code != f->code || d->severity != f->severity ||
		    d->stage != f->stage || !hint_from_tables(d, f) || f->evidence == NULL ||
		    f->evidence[0] == '\0')
			return 0;
		if (strncmp(f->code, "delivery.", 9) == 0)
			ndelivery++;
	}
	return ndelivery == 1 && t->verdict.summary != NULL && t->verdict.summary[0] != '\0';
}

static const char *
status_label(enum mxt_status s)
{
	static const char *const n[] = {"ok", "warning", "critical", "unknown"};

	return (size_t)s < 4 ? n[s] : "?";
}

static int
classify(struct mxt_target *t, const struct mxt_config *cfg)
{
	int rc;

	/* What was asked travels in the record (its request section). */
	mxt_request_free(&t->request);
	mxt_request_from_config(&t->request, cfg != NULL ? cfg : &cfg0);
	rc = mxt_classify(t);
	size_t i;

	/* MXT_TEST_DUMP=1: show what was found, as TAP comments. */
	if (getenv("MXT_TEST_DUMP") != NULL) {
		printf("# %s: [%s] %s\n", t->domain, status_label(t->verdict.status),
		    t->verdict.summary != NULL ? t->verdict.summary : "(null)");
		for (i = 0; i < t->nfindings; i++)
			printf("#   %-30s %s %s | %s\n", t->findings[i].code,
			    t->findings[i].host != NULL ? t->findings[i].host : "-",
			    t->findings[i].address != NULL ? t->findings[i].address : "-",
			    t->findings[i].evidence != NULL ? t->findings[i].evidence : "(null)");
	}

	T_CHECK(rc == 0, "%s: mxt_classify returns 0", t->domain);
	T_CHECK(well_formed(t), "%s: findings come from the catalogue, one delivery.* finding",
	    t->domain);
	return rc;
}

/* ---- scenarios ---- */

static void
test_healthy(void)
{
	struct mxt_target *t = fx_target("healthy.test");

	fx_mx(t, "mx1.healthy.test", 10, "127.0.1.1");
	fx_mx(t, "mx2.healthy.test", 20, "127.0.1.2");
	fx_ok(t, 0, "127.0.1.1");
	fx_ok(t, 1, "127.0.1.2");
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_OK, "healthy: status ok");
	T_CHECK(t->nfindings == 1 && find(t, "delivery.ok") != NULL, "healthy: only delivery.ok");
	T_CHECK(via_is(t, "mx1.healthy.test"), "healthy: via mx1");
	T_CHECK(t->verdict.summary != NULL &&
		strcmp(t->verdict.summary,
		    "mail to healthy.test is accepted by mx1.healthy.test (127.0.1.1)") == 0,
	    "healthy: summary '%s'", t->verdict.summary ? t->verdict.summary : "");
	T_CHECK(ev_has(t, "delivery.ok", "250 2.1.5 Ok"), "healthy: evidence is the RCPT reply");
	T_CHECK(exit_of(t) == 0, "healthy: exit 0");
	fx_free(t);
}

static void
test_fallback(void)
{
	struct mxt_target *t = fx_target("fallback.test");
	const struct mxt_finding *f;

	fx_mx(t, "mx1.fallback.test", 10, "127.0.2.1");
	fx_mx(t, "mx2.fallback.test", 20, "127.0.2.2");
	fx_attempt(t, 0, "127.0.2.1", 25, MXT_CONN_REFUSED);
	fx_ok(t, 1, "127.0.2.2");
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING, "fallback: status warning");
	T_CHECK(find(t, "delivery.fallback") != NULL, "fallback: delivery.fallback");
	f = find(t, "connect.refused");
	T_CHECK(f != NULL && f->severity == MXT_SEV_CRITICAL && f->host != NULL &&
		strcmp(f->host, "mx1.fallback.test") == 0 && f->address != NULL &&
		strcmp(f->address, "127.0.2.1") == 0,
	    "fallback: connect.refused on mx1 (127.0.2.1), critical");
	T_CHECK(via_is(t, "mx2.fallback.test"), "fallback: via mx2");
	T_CHECK(summary_has(t, "accepted by mx2.fallback.test (127.0.2.2)") &&
		summary_has(t, "after mx1.fallback.test failed"),
	    "fallback: summary names both");
	T_CHECK(exit_of(t) == 1, "fallback: exit 1");
	fx_free(t);
}

static void
test_equal_preference(void)
{
	struct mxt_target *t = fx_target("equal.test");

	/* Same preference: not a fallback, but the refusal still warns. */
	fx_mx(t, "mxa.equal.test", 10, "127.0.3.1");
	fx_mx(t, "mxb.equal.test", 10, "127.0.3.2");
	fx_attempt(t, 0, "127.0.3.1", 25, MXT_CONN_REFUSED);
	fx_ok(t, 1, "127.0.3.2");
	classify(t, NULL);
	T_CHECK(find(t, "delivery.ok") != NULL && find(t, "delivery.fallback") == NULL,
	    "equal preference: delivery.ok, not fallback");
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING, "equal preference: warning");
	T_CHECK(summary_has(t, ", but mxa.equal.test (127.0.3.1): the connection was refused"),
	    "equal preference: summary names the critical refusal");
	T_CHECK(t->verdict.names[1] >= 0 &&
		strcmp(t->findings[t->verdict.names[1]].code, "connect.refused") == 0,
	    "equal preference: names[] holds the refusal");
	fx_free(t);
}

static void
test_egress_blocked(void)
{
	struct mxt_target *t = fx_target("egress.test");
	struct mxt_attempt *c;

	fx_mx(t, "mx1.egress.test", 10, "127.0.4.1");
	fx_mx(t, "mx2.egress.test", 20, "127.0.4.2");
	fx_attempt(t, 0, "127.0.4.1", 25, MXT_CONN_TIMEOUT);
	fx_attempt(t, 1, "127.0.4.2", 25, MXT_CONN_TIMEOUT);
	c = fx_attempt(t, 0, "127.0.4.1", 587, MXT_CONN_OK);
	c->canary = 1;
	fx_step(c, MXT_STAGE_BANNER, NULL, MXT_STEP_REPLIED, "220 mx1.egress.test ESMTP");
	c->end = MXT_END_OK;
	/* mx2 has no submission service: refused, which proves the path. */
	c = fx_attempt(t, 1, "127.0.4.2", 587, MXT_CONN_REFUSED);
	c->canary = 1;
	classify(t, NULL);
	T_CHECK(count(t, "connect.egress_blocked") == 1, "egress: one connect.egress_blocked");
	T_CHECK(count(t, "connect.timeout") == 0, "egress: no per-attempt connect.timeout flood");
	T_CHECK(ev_has(t, "connect.egress_blocked", "port 587 of mx1.egress.test (127.0.4.1)"),
	    "egress: evidence names the canary");
	T_CHECK(ev_has(t, "connect.egress_blocked", "2 address(es) of 2 MX host(s)"),
	    "egress: evidence counts the port-25 attempts");
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN, "egress: status unknown");
	T_CHECK(find(t, "delivery.inconclusive") != NULL, "egress: delivery.inconclusive");
	T_CHECK(summary_has(t, "blocks outbound port 25"), "egress: summary says so");
	T_CHECK(exit_of(t) == 3, "egress: exit 3");
	fx_free(t);
}

/* Port 25 times out on both MX; 587/465 answer on one only, the other
 * times out everywhere: a firewall at that destination, not the client's
 * network (issue 9: every MX must show the evidence). */
static void
test_egress_not_every_host(void)
{
	struct mxt_target *t = fx_target("halfwall.test");
	struct mxt_attempt *c;

	fx_mx(t, "mx1.halfwall.test", 10, "127.0.4.3");
	fx_mx(t, "mx2.halfwall.test", 20, "127.0.4.4");
	fx_attempt(t, 0, "127.0.4.3", 25, MXT_CONN_TIMEOUT);
	fx_attempt(t, 1, "127.0.4.4", 25, MXT_CONN_TIMEOUT);
	c = fx_attempt(t, 0, "127.0.4.3", 587, MXT_CONN_REFUSED);
	c->canary = 1;
	c = fx_attempt(t, 0, "127.0.4.3", 465, MXT_CONN_REFUSED);
	c->canary = 1;
	c = fx_attempt(t, 1, "127.0.4.4", 587, MXT_CONN_TIMEOUT);
	c->canary = 1;
	c = fx_attempt(t, 1, "127.0.4.4", 465, MXT_CONN_TIMEOUT);
	c->canary = 1;
	classify(t, NULL);
	T_CHECK(find(t, "connect.egress_blocked") == NULL,
	    "one MX answers on 587/465, the other is silent: no connect.egress_blocked");
	T_CHECK(count(t, "connect.timeout") == 2, "halfwall: connect.timeout per port-25 attempt");
	fx_free(t);
	/* Both answer, by refusing: the path is open, only port 25 is filtered. */
	t = fx_target("refused-canaries.test");
	fx_mx(t, "mx1.refused-canaries.test", 10, "127.0.4.5");
	fx_attempt(t, 0, "127.0.4.5", 25, MXT_CONN_TIMEOUT);
	c = fx_attempt(t, 0, "127.0.4.5", 587, MXT_CONN_REFUSED);
	c->canary = 1;
	classify(t, NULL);
	T_CHECK(ev_has(t, "connect.egress_blocked",
		    "port 587 of mx1.refused-canaries.test (127.0.4.5) refused"),
	    "a refused canary is evidence: connect.egress_blocked");
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN, "refused canaries: status unknown");
	fx_free(t);
}

static void
test_egress_local_rule(void)
{
	struct mxt_target *t = fx_target("eperm.test");
	struct mxt_attempt *a;

	fx_mx(t, "mx1.eperm.test", 10, "127.0.4.9");
	a = fx_attempt(t, 0, "127.0.4.9", 25, MXT_CONN_ERROR);
	a->connect_errno = EPERM;
	classify(t, NULL);
	T_CHECK(find(t, "connect.egress_blocked") != NULL && find(t, "connect.error") == NULL,
	    "EPERM on every port-25 attempt: connect.egress_blocked");
	fx_free(t);
}

static void
test_firewalled(void)
{
	struct mxt_target *t = fx_target("firewall.test");

	fx_mx(t, "mx1.firewall.test", 10, "127.0.5.1");
	fx_mx(t, "mx2.firewall.test", 20, "127.0.5.2");
	fx_attempt(t, 0, "127.0.5.1", 25, MXT_CONN_TIMEOUT);
	fx_attempt(t, 1, "127.0.5.2", 25, MXT_CONN_TIMEOUT);
	classify(t, NULL);
	T_CHECK(count(t, "connect.timeout") == 2, "firewalled: connect.timeout per attempt");
	T_CHECK(
	    find(t, "connect.egress_blocked") == NULL, "firewalled: no canary, no egress claim");
	T_CHECK(find(t, "connect.timeout")->severity == MXT_SEV_CRITICAL,
	    "firewalled: connect.timeout is critical");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "firewalled: status critical");
	T_CHECK(find(t, "delivery.stalled") != NULL && find(t, "delivery.impossible") == NULL,
	    "firewalled: delivery.stalled (senders queue and retry), not impossible");
	T_CHECK(summary_has(t,
		    "queues the message and retries; it bounces after its queue "
		    "lifetime (commonly 5 days)"),
	    "firewalled: summary says what senders do");
	T_CHECK(summary_has(t, "every MX times out"), "firewalled: summary");
	T_CHECK(exit_of(t) == 2, "firewalled: exit 2");
	fx_free(t);
}

static void
test_all_refused(void)
{
	struct mxt_target *t = fx_target("refused.test");

	fx_mx(t, "mx1.refused.test", 10, "127.0.5.5");
	fx_attempt(t, 0, "127.0.5.5", 25, MXT_CONN_REFUSED);
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL &&
		summary_has(
		    t, "mail to refused.test cannot be delivered: every MX refuses connections"),
	    "all refused: critical, 'every MX refuses connections'");
	fx_free(t);
}

static void
test_connect_kinds(void)
{
	struct mxt_target *t = fx_target("conn.test");
	struct mxt_attempt *a;

	fx_mx(t, "mx1.conn.test", 10, "127.0.5.9");
	a = fx_attempt(t, 0, "127.0.5.9", 25, MXT_CONN_UNREACHABLE);
	a->connect_errno = EHOSTUNREACH;
	a = fx_attempt(t, 0, "127.0.5.10", 25, MXT_CONN_OK);
	fx_step(a, MXT_STAGE_BANNER, NULL, MXT_STEP_CLOSED, NULL);
	a->end = MXT_END_CLOSED;
	classify(t, NULL);
	T_CHECK(ev_has(t, "connect.unreachable", "127.0.5.9 port 25"), "connect.unreachable");
	T_CHECK(ev_has(t, "connect.reset", "closed before any greeting"),
	    "closed before the greeting: connect.reset");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "unreachable + reset: critical");
	fx_free(t);
}

static void
test_nxdomain(void)
{
	struct mxt_target *t = fx_target("nxdomain.test");

	t->dns.q_mx.status = MXT_DNS_NXDOMAIN;
	t->dns.source = MXT_MX_SOURCE_NONE;
	t->dns.resolver = NULL;
	classify(t, NULL);
	T_CHECK(ev_has(t, "dns.domain_nxdomain", "MX nxdomain.test: NXDOMAIN"),
	    "nxdomain: dns.domain_nxdomain with the query");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL && find(t, "delivery.impossible"),
	    "nxdomain: critical, delivery.impossible");
	T_CHECK(summary_has(t, "does not exist"), "nxdomain: summary");
	T_CHECK(exit_of(t) == 2, "nxdomain: exit 2");
	fx_free(t);
}

static void
test_null_mx(void)
{
	struct mxt_target *t = fx_target("null.test");
	struct mxt_exchanger *x;

	t->dns.source = MXT_MX_SOURCE_NULL;
	x = fx_mx(t, ".", 0, NULL);
	x->flags = MXT_XF_NULL;
	classify(t, NULL);
	T_CHECK(find(t, "dns.null_mx") != NULL && find(t, "dns.null_mx_with_mx") == NULL,
	    "null MX: dns.null_mx");
	T_CHECK(find(t, "dns.mx_no_address") == NULL, "null MX: the '.' target is not judged");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL && summary_has(t, "null MX"),
	    "null MX: critical");
	fx_free(t);
}

static void
test_null_mx_mixed(void)
{
	struct mxt_target *t = fx_target("mixed.test");
	struct mxt_exchanger *x;

	/* Like Postfix, the DNS stage treats a mixed set as null MX. */
	t->dns.source = MXT_MX_SOURCE_NULL;
	t->dns.null_mx_mixed = 1;
	x = fx_mx(t, ".", 0, NULL);
	x->flags = MXT_XF_NULL;
	fx_mx(t, "mx.mixed.test", 10, NULL);
	classify(t, NULL);
	T_CHECK(find(t, "dns.null_mx_with_mx") != NULL && find(t, "dns.null_mx") == NULL,
	    "null MX mixed: dns.null_mx_with_mx only");
	T_CHECK(ev_has(t, "dns.null_mx_with_mx", "10 mx.mixed.test"),
	    "null MX mixed: evidence lists the other MX");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "null MX mixed: critical");
	fx_free(t);
}

static void
test_implicit(void)
{
	struct mxt_target *t = fx_target("implicit.test");
	struct mxt_exchanger *x;

	t->dns.q_mx.status = MXT_DNS_NODATA;
	t->dns.source = MXT_MX_SOURCE_IMPLICIT;
	fx_mx(t, "implicit.test", 0, "127.0.6.1");
	fx_ok(t, 0, "127.0.6.1");
	classify(t, NULL);
	T_CHECK(find(t, "dns.no_mx_implicit") != NULL &&
		find(t, "dns.no_mx_implicit")->severity == MXT_SEV_INFO,
	    "implicit: dns.no_mx_implicit (info)");
	T_CHECK(t->verdict.status == MXT_STATUS_OK && via_is(t, "implicit.test"),
	    "implicit: ok via the domain itself");
	fx_free(t);

	t = fx_target("noaddr.test");
	t->dns.q_mx.status = MXT_DNS_NODATA;
	t->dns.source = MXT_MX_SOURCE_IMPLICIT;
	x = fx_mx(t, "noaddr.test", 0, NULL);
	x->flags = MXT_XF_NO_ADDRESS;
	classify(t, NULL);
	T_CHECK(find(t, "dns.no_address") != NULL && find(t, "dns.mx_no_address") == NULL,
	    "implicit without A/AAAA: dns.no_address");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "implicit without A/AAAA: critical");
	fx_free(t);

	t = fx_target("nothing.test");
	t->dns.q_mx.status = MXT_DNS_NODATA;
	t->dns.source = MXT_MX_SOURCE_NONE;
	classify(t, NULL);
	T_CHECK(find(t, "dns.no_address") != NULL && t->verdict.status == MXT_STATUS_CRITICAL,
	    "no MX, no exchanger: dns.no_address, critical");
	fx_free(t);
}

static void
test_mx_cname(void)
{
	struct mxt_target *t = fx_target("cname.test");
	struct mxt_exchanger *x;

	x = fx_mx(t, "mx.cname.test", 10, "127.0.7.1");
	x->flags = MXT_XF_CNAME;
	x->cname = xstrdup("real.cname.test");
	fx_ok(t, 0, "127.0.7.1");
	classify(t, NULL);
	T_CHECK(
	    find(t, "dns.mx_cname") != NULL && find(t, "dns.mx_cname")->severity == MXT_SEV_WARNING,
	    "cname: dns.mx_cname warning");
	T_CHECK(ev_has(t, "dns.mx_cname", "real.cname.test"), "cname: evidence names the target");
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING && find(t, "delivery.ok"),
	    "cname: delivered, status warning");
	fx_free(t);
}

static void
test_mx_nxdomain(void)
{
	struct mxt_target *t = fx_target("badmx.test");
	struct mxt_exchanger *x;

	x = fx_mx(t, "mx1.typo.test", 10, NULL);
	x->flags = MXT_XF_NXDOMAIN;
	x->q_a.status = MXT_DNS_NXDOMAIN;
	x->q_aaaa.status = MXT_DNS_NXDOMAIN;
	fx_mx(t, "mx2.badmx.test", 20, "127.0.8.2");
	fx_ok(t, 1, "127.0.8.2");
	classify(t, NULL);
	T_CHECK(find(t, "dns.mx_nxdomain") != NULL &&
		strcmp(find(t, "dns.mx_nxdomain")->host, "mx1.typo.test") == 0,
	    "mx nxdomain: dns.mx_nxdomain on mx1");
	T_CHECK(find(t, "delivery.fallback") != NULL, "mx nxdomain: delivered by mx2 (fallback)");
	fx_free(t);

	t = fx_target("onlybad.test");
	x = fx_mx(t, "mx.typo.test", 10, NULL);
	x->flags = MXT_XF_NXDOMAIN;
	x->q_a.status = MXT_DNS_NXDOMAIN;
	x->q_aaaa.status = MXT_DNS_NXDOMAIN;
	classify(t, NULL);
	T_CHECK(
	    t->verdict.status == MXT_STATUS_CRITICAL && summary_has(t, "no MX host has an address"),
	    "only MX nxdomain: critical, no MX host has an address");
	fx_free(t);
}

static void
test_mx_flags(void)
{
	struct mxt_target *t = fx_target("flags.test");
	struct mxt_exchanger *x;

	x = fx_mx(t, "192.0.2.7", 5, NULL);
	x->flags = MXT_XF_IP_LITERAL;
	x->q_a.status = MXT_DNS_NOT_RUN;
	x->q_aaaa.status = MXT_DNS_NOT_RUN;
	x = fx_mx(t, "bad_name!.flags.test", 6, NULL);
	x->flags = MXT_XF_INVALID_NAME;
	x = fx_mx(t, "noaddr.flags.test", 7, NULL);
	x->flags = MXT_XF_NO_ADDRESS;
	x = fx_mx(t, "slow.flags.test", 8, NULL);
	x->q_a.status = MXT_DNS_TIMEOUT;
	x->q_aaaa.status = MXT_DNS_TIMEOUT;
	fx_mx(t, "mx.flags.test", 10, "127.0.9.1");
	x = fx_mx(t, "mx17.flags.test", 99, NULL);
	x->flags = MXT_XF_OVER_LIMIT;
	fx_ok(t, 4, "127.0.9.1");
	classify(t, NULL);
	T_CHECK(find(t, "dns.mx_ip_literal") != NULL, "dns.mx_ip_literal");
	T_CHECK(find(t, "dns.mx_invalid_name") != NULL, "dns.mx_invalid_name");
	T_CHECK(find(t, "dns.mx_no_address") != NULL &&
		strcmp(find(t, "dns.mx_no_address")->host, "noaddr.flags.test") == 0,
	    "dns.mx_no_address on its host");
	T_CHECK(count(t, "dns.timeout") == 1 && ev_has(t, "dns.timeout", "AAAA slow.flags.test"),
	    "A and AAAA timeouts of one host: one dns.timeout");
	T_CHECK(ev_has(t, "dns.mx_over_limit", "mx17.flags.test"), "dns.mx_over_limit lists it");
	T_CHECK(find(t, "delivery.fallback") != NULL, "flags: delivered by a less preferred MX");
	fx_free(t);
}

static void
test_dns_failures(void)
{
	static const struct {
		enum mxt_dns_status st;
		const char *code;
	} cases[] = {{MXT_DNS_SERVFAIL, "dns.servfail"}, {MXT_DNS_TIMEOUT, "dns.timeout"},
	    {MXT_DNS_UNREACHABLE, "dns.unreachable"}, {MXT_DNS_REFUSED, "dns.refused"},
	    {MXT_DNS_BADRESP, "dns.error"}};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mxt_target *t = fx_target("dnsfail.test");

		t->dns.q_mx.status = cases[i].st;
		t->dns.source = MXT_MX_SOURCE_NONE;
		t->dns.resolver = xstrdup("127.0.0.53:53");
		classify(t, NULL);
		T_CHECK(ev_has(t, cases[i].code, "from 127.0.0.53:53"), "%s names the resolver",
		    cases[i].code);
		T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN && exit_of(t) == 3,
		    "%s: unknown (never reported as broken)", cases[i].code);
		free(t->dns.resolver);
		fx_free(t);
	}
}

/* A target with one MX whose session gets `reply` at `stage`. */
static struct mxt_target *
fx_one(const char *domain, unsigned flags, enum mxt_stage stage, const char *reply)
{
	struct mxt_target *t = fx_target(domain);
	char name[128];

	snprintf(name, sizeof(name), "mx1.%s", domain);
	fx_mx(t, name, 10, "127.0.10.1");
	fx_session(t, 0, "127.0.10.1", flags, stage, MXT_STEP_REPLIED, reply);
	return t;
}

static void
test_envelope(void)
{
	struct mxt_target *t;

	t = fx_one(
	    "relay.test", 0, MXT_STAGE_RCPT, "554 5.7.1 <bob@relay.test>: Relay access denied");
	classify(t, NULL);
	T_CHECK(find(t, "rcpt.relay_denied") != NULL, "relay: rcpt.relay_denied");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL && find(t, "delivery.impossible"),
	    "relay: critical");
	T_CHECK(summary_has(t, "mx1.relay.test (127.0.10.1) rejects RCPT TO: 554 5.7.1"),
	    "relay: summary quotes the reply");
	fx_free(t);

	/* RFC 5321: a 5xx ends delivery; the next MX is not tried. */
	t = fx_one("user.test", 0, MXT_STAGE_RCPT,
	    "550 5.1.1 <nobody@user.test>: Recipient address rejected: User unknown in virtual "
	    "mailbox table");
	fx_mx(t, "mx2.user.test", 20, "127.0.10.2");
	fx_ok(t, 1, "127.0.10.2");
	classify(t, NULL);
	T_CHECK(find(t, "rcpt.unknown_user") != NULL, "unknown user: rcpt.unknown_user");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL && t->verdict.via == NULL,
	    "unknown user: critical even though mx2 would accept (5xx stops)");
	fx_free(t);

	t = fx_one("grey.test", 0, MXT_STAGE_RCPT,
	    "450 4.2.0 <bob@grey.test>: Recipient address rejected: Greylisted, see "
	    "http://postgrey.schweikert.ch/help/grey.test.html");
	classify(t, NULL);
	T_CHECK(find(t, "rcpt.greylisted") != NULL, "greylisted: rcpt.greylisted");
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN && find(t, "delivery.inconclusive"),
	    "greylisted: unknown");
	T_CHECK(exit_of(t) == 3, "greylisted: exit 3");
	T_CHECK(summary_has(t, "cannot tell yet"), "greylisted: summary is not 'broken'");
	fx_free(t);

	/* Greylisted on mx1, refused on mx2: still inconclusive. */
	t = fx_one("grey2.test", 0, MXT_STAGE_RCPT, "451 4.7.1 Please try again later");
	fx_mx(t, "mx2.grey2.test", 20, "127.0.10.2");
	fx_attempt(t, 1, "127.0.10.2", 25, MXT_CONN_REFUSED);
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN, "greylisted + refused: unknown");
	fx_free(t);

	/* Two recipients refused: one finding per code and attempt. */
	t = fx_one("two.test", 0, MXT_STAGE_RCPT, "550 5.1.1 <a@two.test>: User unknown");
	fx_step(&t->attempts[0], MXT_STAGE_RCPT, "RCPT TO:<b@two.test>", MXT_STEP_REPLIED,
	    "550 5.1.1 <b@two.test>: User unknown");
	classify(t, NULL);
	T_CHECK(count(t, "rcpt.unknown_user") == 1, "two refused recipients: one finding");
	fx_free(t);

	t = fx_one(
	    "sender.test", 0, MXT_STAGE_MAIL, "553 5.7.1 <probe@client.test>: Sender rejected");
	classify(t, NULL);
	T_CHECK(find(t, "mail.sender_rejected") != NULL && t->verdict.status == MXT_STATUS_CRITICAL,
	    "5xx to MAIL: mail.sender_rejected, critical");
	fx_free(t);

	t = fx_one("maildefer.test", 0, MXT_STAGE_MAIL, "451 4.3.0 Error: queue file write error");
	classify(t, NULL);
	T_CHECK(find(t, "mail.deferred") != NULL && t->verdict.status == MXT_STATUS_UNKNOWN,
	    "4xx to MAIL: mail.deferred, unknown");
	fx_free(t);

	t = fx_one("rej.test", 0, MXT_STAGE_RCPT, "554 5.7.1 <bob@rej.test>: Access denied");
	classify(t, NULL);
	T_CHECK(find(t, "rcpt.rejected") != NULL, "generic 5xx to RCPT: rcpt.rejected");
	fx_free(t);

	/* Issue 11: a 4xx that names a configuration fault is not cured by a
	 * retry: the mail waits in the queue until it bounces. */
	t = fx_one("defer.test", 0, MXT_STAGE_RCPT, "451 4.3.5 Server configuration problem");
	classify(t, NULL);
	T_CHECK(find(t, "rcpt.deferred") != NULL && t->verdict.status == MXT_STATUS_CRITICAL &&
		find(t, "delivery.stalled") != NULL,
	    "4xx naming a configuration problem: rcpt.deferred, critical, delivery.stalled");
	fx_free(t);

	t = fx_one("defer.test", 0, MXT_STAGE_RCPT, "451 4.3.0 Temporary lookup failure");
	classify(t, NULL);
	T_CHECK(find(t, "rcpt.deferred") != NULL && t->verdict.status == MXT_STATUS_UNKNOWN,
	    "generic 4xx to RCPT: rcpt.deferred, unknown");
	fx_free(t);

	/* A blocking cause behind a 4xx code is critical when nothing works. */
	t = fx_one("ptr4xx.test", 0, MXT_STAGE_RCPT,
	    "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]");
	classify(t, NULL);
	T_CHECK(find(t, "rcpt.ptr_required") != NULL && t->verdict.status == MXT_STATUS_CRITICAL,
	    "450 PTR required: critical");
	fx_free(t);
}

static void
test_banner(void)
{
	struct mxt_target *t;
	struct mxt_attempt *a;

	t = fx_one("spamhaus.test", 0, MXT_STAGE_BANNER,
	    "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	    "zen.spamhaus.org; "
	    "https://www.spamhaus.org/query/ip/192.0.2.1");
	classify(t, NULL);
	T_CHECK(ev_has(t, "banner.blocklisted",
		    "listed by Spamhaus ZEN: 554 5.7.1 Service unavailable"),
	    "554 banner: banner.blocklisted naming Spamhaus ZEN");
	T_CHECK(find(t, "banner.blocklisted") != NULL &&
		find(t, "banner.blocklisted")->list != NULL &&
		strcmp(find(t, "banner.blocklisted")->list, "Spamhaus ZEN") == 0,
	    "554 banner: the list is a field of the finding");
	T_CHECK(find(t, "rcpt.blocklisted") == NULL && find(t, "ehlo.rejected") == NULL &&
		find(t, "banner.rejected") == NULL,
	    "554 banner: nothing else claimed");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "554 banner: critical");
	fx_free(t);

	/* Postfix skips a 5xx greeting and tries the next MX. */
	t = fx_one("skip5xx.test", 0, MXT_STAGE_BANNER, "554 mx1.skip5xx.test go away");
	fx_mx(t, "mx2.skip5xx.test", 20, "127.0.10.2");
	fx_ok(t, 1, "127.0.10.2");
	classify(t, NULL);
	T_CHECK(find(t, "delivery.fallback") != NULL && via_is(t, "mx2.skip5xx.test"),
	    "554 banner on mx1, mx2 fine: fallback");
	fx_free(t);

	t = fx_one("busy.test", 0, MXT_STAGE_BANNER,
	    "421 4.7.0 mx1.busy.test Error: too many connections from 192.0.2.1");
	classify(t, NULL);
	T_CHECK(find(t, "banner.busy") != NULL, "421 banner: banner.busy");
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN, "421 banner: unknown");
	fx_free(t);

	t = fx_target("tarpit.test");
	fx_mx(t, "mx1.tarpit.test", 10, "127.0.11.1");
	fx_session(t, 0, "127.0.11.1", 0, MXT_STAGE_BANNER, MXT_STEP_TIMEOUT, NULL);
	classify(t, NULL);
	T_CHECK(ev_has(t, "banner.timeout", "no greeting within 30000 ms"),
	    "banner timeout: banner.timeout");
	T_CHECK(
	    t->verdict.status == MXT_STATUS_UNKNOWN && exit_of(t) == 3, "banner timeout: unknown");
	fx_free(t);

	t = fx_target("http.test");
	fx_mx(t, "mx1.http.test", 10, "127.0.11.2");
	a = fx_session(
	    t, 0, "127.0.11.2", 0, MXT_STAGE_BANNER, MXT_STEP_PROTOCOL, "HTTP/1.1 400 Bad Request");
	a->steps[0].reply.flags = MXT_REPLY_F_MALFORMED;
	classify(t, NULL);
	T_CHECK(ev_has(t, "banner.not_smtp", "HTTP/1.1 400 Bad Request"),
	    "HTTP answer: banner.not_smtp");
	T_CHECK(find(t, "smtp.protocol_violation") == NULL, "HTTP answer: not a protocol finding");
	fx_free(t);
}

static void
test_ehlo(void)
{
	struct mxt_target *t;
	struct mxt_attempt *a;

	t = fx_one("ehlo.test", 0, MXT_STAGE_EHLO, "501 5.5.2 Syntax: EHLO hostname");
	a = &t->attempts[0];
	/* session.c falls back to HELO after a 5xx; here HELO fails too. */
	a->nsteps--; /* drop QUIT, re-add after HELO */
	fx_reply_free(&a->steps[a->nsteps].reply);
	free(a->steps[a->nsteps].command);
	memset(&a->steps[a->nsteps], 0, sizeof(a->steps[0]));
	fx_step(a, MXT_STAGE_HELO, "HELO localhost", MXT_STEP_REPLIED,
	    "501 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname");
	fx_step(a, MXT_STAGE_QUIT, "QUIT", MXT_STEP_REPLIED, "221 2.0.0 Bye");
	a->helo_fallback = 1;
	a->end_stage = MXT_STAGE_HELO;
	classify(t, NULL);
	T_CHECK(
	    ev_has(t, "ehlo.rejected", "Helo command rejected"), "EHLO+HELO 501: ehlo.rejected");
	T_CHECK(find(t, "ehlo.helo_only") == NULL, "EHLO+HELO 501: not helo_only");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "EHLO+HELO 501: critical");
	fx_free(t);

	t = fx_one(
	    "ehlo450.test", 0, MXT_STAGE_EHLO, "450 4.7.1 Helo command rejected: Host not found");
	classify(t, NULL);
	T_CHECK(find(t, "ehlo.rejected") != NULL && t->verdict.status == MXT_STATUS_CRITICAL,
	    "EHLO 450 Helo rejected: ehlo.rejected, critical");
	fx_free(t);

	/* HELO only: EHLO 502, HELO 250, no capabilities, mail accepted. */
	t = fx_target("old.test");
	fx_mx(t, "mx1.old.test", 10, "127.0.12.1");
	a = fx_attempt(t, 0, "127.0.12.1", 25, MXT_CONN_OK);
	fx_step(a, MXT_STAGE_BANNER, NULL, MXT_STEP_REPLIED, "220 mx1.old.test SMTP");
	fx_step(a, MXT_STAGE_EHLO, "EHLO client.test", MXT_STEP_REPLIED,
	    "502 5.5.2 Error: command not recognized");
	fx_step(a, MXT_STAGE_HELO, "HELO client.test", MXT_STEP_REPLIED, "250 mx1.old.test");
	fx_step(a, MXT_STAGE_MAIL, "MAIL FROM:<>", MXT_STEP_REPLIED, "250 Ok");
	fx_step(a, MXT_STAGE_RCPT, "RCPT TO:<bob@old.test>", MXT_STEP_REPLIED, "250 Ok");
	fx_step(a, MXT_STAGE_QUIT, "QUIT", MXT_STEP_REPLIED, "221 Bye");
	a->helo_fallback = 1;
	a->end = MXT_END_OK;
	classify(t, NULL);
	T_CHECK(ev_has(t, "ehlo.helo_only", "HELO: 250 mx1.old.test"), "HELO only: ehlo.helo_only");
	T_CHECK(find(t, "ehlo.rejected") == NULL && find(t, "tls.not_offered") == NULL,
	    "HELO only: no ehlo.rejected, no capability claims");
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING && find(t, "delivery.ok"),
	    "HELO only: delivered, warning");
	fx_free(t);
}

/* Issue 11, the severity model: the summary names the worst finding when
 * it is worse than the delivery outcome, names[] and more say which, and
 * 4xx replies are judged by what a retry would meet. */
static void
test_severity_model(void)
{
	struct mxt_target *t;
	struct mxt_attempt *a;
	struct mxt_config cfg = cfg0;
	const struct mxt_finding *f;

	/* Accepted, certificate expired: warning, and the first line says so. */
	t = fx_one("sev1.test", 0, MXT_STAGE_COUNT, NULL);
	a = &t->attempts[0];
	a->tls.days_left = -30;
	free(a->tls.not_after);
	a->tls.not_after = xstrdup("2026-11-05T19:00:00Z");
	a->tls.verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
	a->tls.chain_ok = 0;
	a->tls.verify_error = xstrdup("certificate has expired");
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING, "expired cert, accepted: warning");
	T_CHECK(summary_has(t,
		    "is accepted by mx1.sev1.test (127.0.10.1), but its certificate "
		    "expired 30 days ago"),
	    "expired cert: the summary names the certificate: %s", t->verdict.summary);
	T_CHECK(!summary_has(t, "warning"), "expired cert: no '(with 1 warning)' count");
	f = t->verdict.names[1] >= 0 ? &t->findings[t->verdict.names[1]] : NULL;
	T_CHECK(f != NULL && strcmp(f->code, "tls.cert_expired") == 0 &&
		f->severity == MXT_SEV_CRITICAL,
	    "expired cert: names[1] is the critical tls.cert_expired");
	T_CHECK(t->verdict.more == 0, "expired cert: nothing more to count");
	fx_free(t);

	/* Two certificate faults and an old protocol: the worst is named, the
	 * rest counted. */
	t = fx_one("sev2.test", 0, MXT_STAGE_COUNT, NULL);
	a = &t->attempts[0];
	a->tls.days_left = -2;
	free(a->tls.not_after);
	a->tls.not_after = xstrdup("2026-12-03T19:00:00Z");
	a->tls.verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
	a->tls.chain_ok = 0;
	a->tls.name_ok = 0;
	free(a->tls.version);
	a->tls.version = xstrdup("TLSv1");
	classify(t, NULL);
	T_CHECK(summary_has(t, "but its certificate expired 2 days ago (and 2 more: 2 warnings)"),
	    "two more: counted by severity: %s", t->verdict.summary);
	T_CHECK(t->verdict.more == 2, "two more: verdict.more");
	fx_free(t);

	/* A warning only: ok is raised to warning and the warning is named. */
	t = fx_one("sev3.test", FX_NOTLS, MXT_STAGE_COUNT, NULL);
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING &&
		summary_has(t,
		    ", but mx1.sev3.test (127.0.10.1): the server does not offer "
		    "STARTTLS"),
	    "no STARTTLS: warning, named: %s", t->verdict.summary);
	fx_free(t);

	/* Nothing wrong: ok, nothing named. */
	t = fx_one("sev4.test", 0, MXT_STAGE_COUNT, NULL);
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_OK && !summary_has(t, ", but") &&
		t->verdict.names[0] < 0 && t->verdict.names[1] < 0,
	    "healthy: ok, nothing named: %s", t->verdict.summary);
	fx_free(t);

	/* A 5xx: bounces now. */
	t = fx_one("sev5.test", 0, MXT_STAGE_RCPT, "550 5.1.1 <bob@sev5.test>: User unknown");
	classify(t, NULL);
	T_CHECK(summary_has(t, "; it bounces now") && find(t, "delivery.impossible") != NULL,
	    "5xx: bounces now: %s", t->verdict.summary);
	T_CHECK(t->verdict.names[0] >= 0 &&
		strcmp(t->findings[t->verdict.names[0]].code, "rcpt.unknown_user") == 0,
	    "5xx: names[0] is the deciding finding");
	fx_free(t);

	/* 450 PTR required: persistent, critical, queued words, the reason. */
	t = fx_one("sev6.test", 0, MXT_STAGE_RCPT,
	    "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.7]");
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL && find(t, "delivery.stalled") != NULL &&
		find(t, "rcpt.ptr_required") != NULL,
	    "450 PTR: critical, delivery.stalled");
	T_CHECK(summary_has(t, "defers RCPT TO: 450 4.7.25") &&
		summary_has(t,
		    "(the server refuses you because your IP has no valid reverse "
		    "DNS)") &&
		summary_has(t,
		    "the sending server queues the message and retries; it bounces "
		    "after its queue lifetime (commonly 5 days)"),
	    "450 PTR: reply, reason and what senders do: %s", t->verdict.summary);
	fx_free(t);

	/* 454 under --starttls require: persistent; with auto the session
	 * goes on in plaintext and the refusal is named. */
	cfg.starttls = MXT_STARTTLS_REQUIRE;
	t = fx_one(
	    "sev7.test", 0, MXT_STAGE_STARTTLS, "454 4.7.0 TLS not available due to local problem");
	t->attempts[0].end = MXT_END_LOCAL;
	t->attempts[0].end_stage = MXT_STAGE_STARTTLS;
	classify(t, &cfg);
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL && find(t, "delivery.stalled") != NULL,
	    "454 local problem under require: critical, stalled: %s", t->verdict.summary);
	T_CHECK(summary_has(t, "defers STARTTLS: 454 4.7.0 TLS not available due to local problem"),
	    "454: the summary quotes the reply");
	f = find(t, "tls.starttls_refused");
	T_CHECK(f != NULL && strstr(f->hint, "smtpd_tls_cert_file") != NULL,
	    "454 from Postfix: the hint speaks Postfix");
	fx_free(t);

	/* 454 "try again later": transient, unknown. */
	t = fx_one("sev8.test", 0, MXT_STAGE_STARTTLS, "454 4.3.0 Try again later");
	t->attempts[0].end = MXT_END_LOCAL;
	t->attempts[0].end_stage = MXT_STAGE_STARTTLS;
	classify(t, &cfg);
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN && find(t, "delivery.inconclusive"),
	    "454 try again later: unknown: %s", t->verdict.summary);
	fx_free(t);

	/* Greylisting stays unknown even with an X.7 code. */
	t = fx_one("sev9.test", 0, MXT_STAGE_RCPT,
	    "450 4.7.1 <bob@sev9.test>: Recipient address rejected: greylisted, try again later");
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN &&
		summary_has(t, "the sending server queues the message and retries"),
	    "greylisting 4.7.1: unknown: %s", t->verdict.summary);
	fx_free(t);

	/* Unknown verdict with a critical refusal elsewhere: named. */
	t = fx_one("sev10.test", 0, MXT_STAGE_RCPT, "451 4.7.1 Please try again later");
	fx_mx(t, "mx2.sev10.test", 20, "127.0.10.2");
	fx_attempt(t, 1, "127.0.10.2", 25, MXT_CONN_REFUSED);
	classify(t, NULL);
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN &&
		summary_has(t, ", but mx2.sev10.test (127.0.10.2): the connection was refused"),
	    "unknown + critical refusal: named: %s", t->verdict.summary);
	fx_free(t);
}

/* Which software a banner or EHLO reply names, and the hints in its terms. */
static void
test_software(void)
{
	const struct {
		const char *banner;
		const char *const *ehlo; /* NULL: default keywords */
		const char *greeting;	 /* first EHLO line, NULL: none */
		const char *name, *source;
	} cases[] = {
	    {"220 mx1.example.test ESMTP Postfix (Debian/GNU)", NULL, NULL, "postfix", "banner"},
	    {"220 mx.example.test ESMTP Exim 4.96 Sat, 05 Dec 2026 19:57:14 +0000", NULL, NULL,
		"exim", "banner"},
	    {"220 mx.example.test ESMTP OpenSMTPD", NULL, NULL, "opensmtpd", "banner"},
	    {"220 mx.example.test ESMTP Sendmail 8.17.1/8.17.1; Sat, 5 Dec 2026 19:00:00 GMT", NULL,
		NULL, "sendmail", "banner"},
	    {"220 AM0PR01MB1234.eurprd01.prod.outlook.com Microsoft ESMTP MAIL Service ready at "
	     "Sat, 5 Dec 2026 19:00:00 +0000",
		NULL, NULL, "exchange_online", "banner"},
	    {"220 EX01.corp.example.test Microsoft ESMTP MAIL Service ready at Sat, 5 Dec 2026",
		NULL, NULL, "exchange", "banner"},
	    {"220 mx.example.test ESMTP qmail", NULL, NULL, "qmail", "banner"},
	    {"220 mx.example.test ESMTP Haraka/3.0.2 ready", NULL, NULL, "haraka", "banner"},
	    {"220 mx.example.test ESMTP MDaemon 23.0.1; Sat, 05 Dec 2026", NULL, NULL, "mdaemon",
		"banner"},
	    {"220 mx.example.test ESMTP hMailServer", NULL, NULL, "hmailserver", "banner"},
	    {"220 mx.example.test Kerio Connect 10.0.2 ESMTP ready", NULL, NULL, "kerio", "banner"},
	    {"220 mx.example.test ESMTP CommuniGate Pro 6.3", NULL, NULL, "communigate", "banner"},
	    {"220 mx.example.test ESMTP Courier mail server ready", NULL, NULL, "courier",
		"banner"},
	    {"220 mx.example.test ESMTP Zimbra MTA", NULL, NULL, "zimbra", "banner"},
	    {"220 esa1.example.iphmx.com ESMTP IronPort", NULL, NULL, "ironport", "banner"},
	    {"220 mx0a.example.test ESMTP Proofpoint", NULL, NULL, "proofpoint", "banner"},
	    {"220 eu-smtp-inbound-1.mimecast.com ESMTP Mimecast ready", NULL, NULL, "mimecast",
		"banner"},
	    {"220 mx.example.test ESMTP Barracuda", NULL, NULL, "barracuda", "banner"},
	    {"220 mx.example.test ESMTP Sophos Email Appliance", NULL, NULL, "sophos", "banner"},
	    /* A hidden banner: only an EHLO keyword tells. */
	    {"220 mx.example.test ESMTP",
		(const char *const[]){
		    "mx.example.test", "PIPELINING", "PIPECONNECT", "STARTTLS", NULL},
		NULL, "exim", "ehlo"},
	    {"220 mx.example.test ESMTP",
		(const char *const[]){"mx.example.test", "XEXCH50", "STARTTLS", NULL}, NULL,
		"exchange", "ehlo"},
	    {"220 mx.example.test ESMTP",
		(const char *const[]){"mx.example.test", "X-EXPS GSSAPI NTLM", NULL}, NULL,
		"exchange", "ehlo"},
	    {"220 mx.example.test ESMTP",
		(const char *const[]){"mx.example.test", "X-ANONYMOUSTLS", NULL}, NULL, "exchange",
		"ehlo"},
	    {"220 mx.example.test ESMTP", (const char *const[]){"mx.example.test", "XRDST", NULL},
		NULL, "exchange", "ehlo"},
	    {"220 mx.google.com ESMTP a1-2.3 - gsmtp", NULL,
		"mx.google.com at your service, [192.0.2.1]", "gmail", "ehlo"},
	    /* Evidence, not guesses. */
	    {"220 mx.example.test ESMTP", NULL, NULL, "unknown", NULL},
	    {"220 postfixed.example.test ESMTP Eximious", NULL, NULL, "unknown", NULL},
	    {"554 5.7.1 Postfix says no", NULL, NULL, "unknown", NULL},
	};
	static const char *const plain[] = {"mx.example.test", "PIPELINING", "STARTTLS", NULL};
	size_t i, n, ran = 0;
	const char *name;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mxt_target *t = fx_target("sw.test");
		struct mxt_attempt *a;
		struct mxt_software sw;

		fx_mx(t, "mx1.sw.test", 10, "127.0.13.1");
		a = fx_attempt(t, 0, "127.0.13.1", 25, MXT_CONN_OK);
		fx_step(a, MXT_STAGE_BANNER, NULL, MXT_STEP_REPLIED, cases[i].banner);
		a->have_caps_plain = 1;
		fx_caps(&a->caps_plain, cases[i].ehlo != NULL ? cases[i].ehlo : plain);
		if (cases[i].greeting != NULL) {
			a->caps_plain.greeting.p = xstrdup(cases[i].greeting);
			a->caps_plain.greeting.len = strlen(cases[i].greeting);
		}
		mxt_server_software(a, &sw);
		T_CHECK(strcmp(sw.name, cases[i].name) == 0 &&
			(cases[i].source == NULL ? sw.source == NULL && sw.product == NULL
						 : sw.source != NULL &&
				    strcmp(sw.source, cases[i].source) == 0 && sw.match != NULL),
		    "software of \"%.40s\": %s (%s)", cases[i].banner, sw.name,
		    sw.source != NULL ? sw.source : "-");
		if (cases[i].greeting != NULL) {
			free((char *)a->caps_plain.greeting.p);
			a->caps_plain.greeting.p = NULL;
		}
		fx_free(t);
		ran++;
	}
	T_CHECK(ran == sizeof(cases) / sizeof(cases[0]), "software: every case ran");
	/* Every software in the table has a case. */
	for (n = 0; (name = mxt_software_name(n, NULL)) != NULL; n++) {
		int seen = 0;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			seen |= strcmp(cases[i].name, name) == 0;
		T_CHECK(seen, "software %s has a fingerprint case", name);
	}
	T_CHECK(n >= 20, "software table: %zu entries", n);
	/* Hints differ where the fix is spelled differently. */
	T_CHECK(mxt_software_hint("tls.cert_expired", "postfix") != NULL &&
		strstr(mxt_software_hint("tls.cert_expired", "postfix"), "smtpd_tls_cert_file"),
	    "Postfix hint names smtpd_tls_cert_file");
	T_CHECK(mxt_software_hint("tls.cert_expired", "exim") != NULL &&
		strstr(mxt_software_hint("tls.cert_expired", "exim"), "tls_certificate"),
	    "Exim hint names tls_certificate");
	T_CHECK(mxt_software_hint("tls.cert_expired", "opensmtpd") != NULL &&
		strstr(mxt_software_hint("tls.cert_expired", "opensmtpd"), "pki"),
	    "OpenSMTPD hint names pki");
	T_CHECK(mxt_software_hint("tls.cert_expired", "unknown") == NULL &&
		mxt_software_hint("rcpt.unknown_user", "postfix") == NULL,
	    "no hint for unknown software or codes without one");
}

static void
test_tls(void)
{
	struct mxt_target *t;
	struct mxt_attempt *a;
	struct mxt_config cfg = cfg0;

	t = fx_one("expired.test", 0, MXT_STAGE_COUNT, NULL);
	a = &t->attempts[0];
	a->tls.days_left = -3;
	a->tls.verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
	a->tls.chain_ok = 0;
	a->tls.verify_error = xstrdup("certificate has expired");
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.cert_expired", "(3 days ago)"), "cert expired: tls.cert_expired");
	T_CHECK(find(t, "tls.cert_untrusted") == NULL && find(t, "tls.cert_expiring") == NULL,
	    "cert expired: not also untrusted/expiring");
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING && find(t, "delivery.ok"),
	    "cert expired: delivered (opportunistic TLS), warning");
	fx_free(t);

	t = fx_one("expiring.test", 0, MXT_STAGE_COUNT, NULL);
	t->attempts[0].tls.days_left = 5;
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.cert_expiring", "in 5 days"), "cert expiring in 5 days");
	fx_free(t);

	cfg.cert_warn_days = 3;
	t = fx_one("expiring3.test", 0, MXT_STAGE_COUNT, NULL);
	t->attempts[0].tls.days_left = 5;
	classify(t, &cfg);
	T_CHECK(find(t, "tls.cert_expiring") == NULL, "--cert-warn-days 3: 5 days left is fine");
	fx_free(t);

	cfg.cert_warn_days = 30;
	t = fx_one("expiring30.test", 0, MXT_STAGE_COUNT, NULL);
	t->attempts[0].tls.days_left = 20;
	classify(t, &cfg);
	T_CHECK(find(t, "tls.cert_expiring") != NULL, "--cert-warn-days 30: 20 days left warns");
	fx_free(t);
	cfg = cfg0;

	t = fx_one("mismatch.test", 0, MXT_STAGE_COUNT, NULL);
	a = &t->attempts[0];
	a->tls.name_ok = 0;
	free(a->tls.san[0]);
	a->tls.san[0] = xstrdup("mail.other.test");
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.cert_name_mismatch", "checked against mx1.mismatch.test") &&
		ev_has(t, "tls.cert_name_mismatch", "mail.other.test"),
	    "cert mismatch: tls.cert_name_mismatch with both names");
	fx_free(t);

	t = fx_one("selfsigned.test", 0, MXT_STAGE_COUNT, NULL);
	a = &t->attempts[0];
	a->tls.chain_ok = 0;
	a->tls.verify_code = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
	a->tls.verify_error = xstrdup("self-signed certificate");
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.cert_untrusted", "self-signed certificate"),
	    "self-signed: tls.cert_untrusted");
	fx_free(t);

	t = fx_one("oldtls.test", 0, MXT_STAGE_COUNT, NULL);
	free(t->attempts[0].tls.version);
	t->attempts[0].tls.version = xstrdup("TLSv1");
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.old_protocol", "negotiated TLSv1 "), "TLSv1: tls.old_protocol");
	fx_free(t);

	t = fx_one("notls.test", FX_NOTLS, MXT_STAGE_COUNT, NULL);
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.not_offered", "(no STARTTLS)"), "no STARTTLS: tls.not_offered");
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING, "no STARTTLS: delivered, warning");
	fx_free(t);

	t = fx_one("masked.test", FX_NOTLS | FX_MASKED, MXT_STAGE_COUNT, NULL);
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.not_offered", "XXXX"), "masked keywords: named in the evidence");
	fx_free(t);

	cfg.starttls = MXT_STARTTLS_NEVER;
	t = fx_one("never.test", FX_NOTLS, MXT_STAGE_COUNT, NULL);
	classify(t, &cfg);
	T_CHECK(find(t, "tls.not_offered") == NULL, "--starttls never: no tls.not_offered");
	fx_free(t);

	/* --starttls require and none offered: mxtrace stops (END_LOCAL). */
	cfg.starttls = MXT_STARTTLS_REQUIRE;
	t = fx_one("require.test", FX_NOTLS, MXT_STAGE_MAIL, NULL);
	a = &t->attempts[0];
	/* Cut the session after EHLO, as session.c does. */
	while (a->nsteps > 2) {
		a->nsteps--;
		free(a->steps[a->nsteps].command);
		fx_reply_free(&a->steps[a->nsteps].reply);
	}
	a->end = MXT_END_LOCAL;
	a->end_stage = MXT_STAGE_STARTTLS;
	a->end_detail = xstrdup("STARTTLS required but not offered");
	classify(t, &cfg);
	T_CHECK(find(t, "tls.not_offered") != NULL && t->verdict.status == MXT_STATUS_CRITICAL,
	    "--starttls require, not offered: critical");
	fx_free(t);

	t = fx_one("refusetls.test", 0, MXT_STAGE_STARTTLS,
	    "454 4.7.0 TLS not available due to local problem");
	classify(t, NULL);
	T_CHECK(find(t, "tls.starttls_refused") != NULL, "454 to STARTTLS: tls.starttls_refused");
	fx_free(t);

	t = fx_one("handshake.test", 0, MXT_STAGE_TLS, NULL);
	a = &t->attempts[0];
	a->tls.attempted = 1;
	a->tls.error = xstrdup("error:0A00010B:SSL routines::wrong version number");
	classify(t, NULL);
	T_CHECK(ev_has(t, "tls.handshake_failed", "wrong version number"),
	    "handshake failure: tls.handshake_failed with the OpenSSL reason");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "handshake failure everywhere: critical");
	fx_free(t);

	t = fx_one("inject.test", 0, MXT_STAGE_TLS, NULL);
	a = &t->attempts[0];
	a->tls.injection = 1;
	a->end = MXT_END_PROTOCOL;
	classify(t, NULL);
	T_CHECK(find(t, "tls.starttls_injection") != NULL &&
		find(t, "tls.starttls_injection")->severity == MXT_SEV_CRITICAL,
	    "plaintext after STARTTLS 220: tls.starttls_injection");
	fx_free(t);
}

static void
test_auth(void)
{
	struct mxt_target *t;
	struct mxt_attempt *a;
	struct mxt_config cfg = cfg0;

	t = fx_one(
	    "sub.test", FX_NOTLS, MXT_STAGE_MAIL, "530 5.7.0 Must issue a STARTTLS command first");
	classify(t, NULL);
	T_CHECK(find(t, "auth.tls_required") != NULL, "530 STARTTLS first: auth.tls_required");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "530 STARTTLS first: critical");
	fx_free(t);

	t = fx_one("authreq.test", 0, MXT_STAGE_MAIL, "530 5.7.0 Authentication required");
	classify(t, NULL);
	T_CHECK(find(t, "auth.required") != NULL, "530 authentication required: auth.required");
	fx_free(t);

	t = fx_one("authfail.test", 0, MXT_STAGE_AUTH,
	    "535 5.7.8 Error: authentication failed: authentication failure");
	classify(t, NULL);
	T_CHECK(ev_has(t, "auth.failed", "535 5.7.8"), "535: auth.failed");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "535: critical");
	fx_free(t);

	t = fx_one("mech.test", 0, MXT_STAGE_AUTH, "504 5.5.4 Unrecognized authentication type");
	classify(t, NULL);
	T_CHECK(
	    find(t, "auth.mechanism_unsupported") != NULL, "504 to AUTH: mechanism unsupported");
	fx_free(t);

	cfg.user = "user";
	t = fx_one("noauth.test", FX_NOTLS, MXT_STAGE_MAIL, NULL);
	a = &t->attempts[0];
	while (a->nsteps > 2) {
		a->nsteps--;
		free(a->steps[a->nsteps].command);
		fx_reply_free(&a->steps[a->nsteps].reply);
	}
	a->end = MXT_END_LOCAL;
	a->end_stage = MXT_STAGE_AUTH;
	classify(t, &cfg);
	T_CHECK(ev_has(t, "auth.not_offered", "(no AUTH)"), "--user, no AUTH: auth.not_offered");
	T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "--user, no AUTH: critical");
	T_CHECK(summary_has(t, "offers no AUTH"), "stopped at AUTH: the summary names AUTH first");
	fx_free(t);

	cfg.auth_mech = "CRAM-MD5";
	t = fx_one("nomech.test", FX_AUTH, MXT_STAGE_COUNT, NULL);
	/* Drop the AUTH step so the capability check applies. */
	a = &t->attempts[0];
	a->steps[4].stage = MXT_STAGE_RSET;
	classify(t, &cfg);
	T_CHECK(ev_has(t, "auth.mechanism_unsupported", "asked for CRAM-MD5"),
	    "--auth-mech not offered: auth.mechanism_unsupported");
	fx_free(t);

	cfg = cfg0;
	cfg.size = 20000000;
	t = fx_one("size.test", 0, MXT_STAGE_COUNT, NULL);
	classify(t, &cfg);
	T_CHECK(ev_has(t, "size.exceeded", "SIZE limit is 10240000"),
	    "declared size over SIZE: size.exceeded");
	fx_free(t);
}

static void
test_data(void)
{
	struct mxt_target *t;

	t = fx_one("data.test", FX_DATA, MXT_STAGE_COUNT, NULL);
	classify(t, NULL);
	T_CHECK(
	    ev_has(t, "data.accepted", "queue id 4XyzAB12cd: 250 2.0.0 Ok: queued as 4XyzAB12cd"),
	    "DATA accepted: queue id parsed");
	T_CHECK(t->verdict.status == MXT_STATUS_OK, "DATA accepted: ok");
	fx_free(t);

	t = fx_one(
	    "spam.test", FX_DATA, MXT_STAGE_DATA_END, "554 5.7.1 Message rejected: spam content");
	classify(t, NULL);
	T_CHECK(find(t, "data.rejected") != NULL && t->verdict.status == MXT_STATUS_CRITICAL,
	    "DATA refused: data.rejected, critical");
	fx_free(t);
}

static void
test_protocol(void)
{
	struct mxt_target *t;
	struct mxt_attempt *a;

	t = fx_target("broken.test");
	fx_mx(t, "mx1.broken.test", 10, "127.0.13.1");
	a = fx_session(t, 0, "127.0.13.1", 0, MXT_STAGE_MAIL, MXT_STEP_PROTOCOL, "2x0 what");
	a->steps[a->nsteps - 2].reply.flags = MXT_REPLY_F_MALFORMED;
	classify(t, NULL);
	T_CHECK(ev_has(t, "smtp.protocol_violation", "malformed line"),
	    "malformed reply: smtp.protocol_violation");
	fx_free(t);

	t = fx_target("lost.test");
	fx_mx(t, "mx1.lost.test", 10, "127.0.13.2");
	fx_session(t, 0, "127.0.13.2", 0, MXT_STAGE_RCPT, MXT_STEP_CLOSED, NULL);
	classify(t, NULL);
	T_CHECK(ev_has(t, "smtp.connection_lost", "closed after RCPT TO:<bob@example.test>"),
	    "closed at RCPT: smtp.connection_lost");
	T_CHECK(t->verdict.status == MXT_STATUS_UNKNOWN, "closed at RCPT: unknown");
	fx_free(t);

	t = fx_target("slow.test");
	fx_mx(t, "mx1.slow.test", 10, "127.0.13.3");
	fx_session(t, 0, "127.0.13.3", 0, MXT_STAGE_RCPT, MXT_STEP_TIMEOUT, NULL);
	classify(t, NULL);
	T_CHECK(ev_has(t, "smtp.timeout", "no reply to RCPT TO"), "RCPT timeout: smtp.timeout");
	T_CHECK(find(t, "banner.timeout") == NULL, "RCPT timeout: not a banner timeout");
	fx_free(t);

	t = fx_one("quirk.test", 0, MXT_STAGE_COUNT, NULL);
	t->attempts[0].steps[1].reply.flags = MXT_REPLY_F_BARE_LF;
	classify(t, NULL);
	T_CHECK(ev_has(t, "smtp.nonstandard_reply", "bare LF"), "bare LF: smtp.nonstandard_reply");
	T_CHECK(t->verdict.status == MXT_STATUS_OK, "bare LF: info only, status ok");
	fx_free(t);

	/* --quit-after ehlo: the planned stages worked. */
	t = fx_target("quit.test");
	fx_mx(t, "mx1.quit.test", 10, "127.0.13.4");
	a = fx_attempt(t, 0, "127.0.13.4", 25, MXT_CONN_OK);
	fx_step(a, MXT_STAGE_BANNER, NULL, MXT_STEP_REPLIED, "220 mx1.quit.test ESMTP");
	fx_step(a, MXT_STAGE_EHLO, "EHLO client.test", MXT_STEP_REPLIED, "250 mx1.quit.test");
	fx_step(a, MXT_STAGE_QUIT, "QUIT", MXT_STEP_REPLIED, "221 Bye");
	a->end = MXT_END_OK;
	a->end_stage = MXT_STAGE_EHLO;
	classify(t, NULL);
	T_CHECK(
	    find(t, "delivery.ok") != NULL && summary_has(t, "works as far as tested (up to EHLO)"),
	    "--quit-after ehlo: delivery.ok as far as tested");
	fx_free(t);
}

static void
test_client(void)
{
	struct mxt_target *t = fx_one("client.test", 0, MXT_STAGE_COUNT, NULL);

	t->client.local_v4 = xstrdup("192.0.2.10");
	t->client.q_ptr.status = MXT_DNS_NXDOMAIN;
	t->client.ehlo_name = xstrdup("host.invalid.test");
	t->client.ehlo_from = xstrdup("option");
	classify(t, NULL);
	T_CHECK(ev_has(t, "client.ptr_missing", "PTR of 192.0.2.10: NXDOMAIN"),
	    "no PTR: client.ptr_missing");
	T_CHECK(ev_has(t, "client.ehlo_name_unresolvable", "host.invalid.test"),
	    "unresolvable EHLO name: client.ehlo_name_unresolvable");
	T_CHECK(t->verdict.status == MXT_STATUS_WARNING, "client warnings: status warning");
	fx_free(t);

	t = fx_one("fcrdns.test", 0, MXT_STAGE_COUNT, NULL);
	t->client.local_v4 = xstrdup("192.0.2.11");
	t->client.q_ptr.status = MXT_DNS_OK;
	t->client.ptr = xstrdup("dyn-192-0-2-11.isp.test");
	t->client.fcrdns = 0;
	t->client.ehlo_name = xstrdup("[192.0.2.11]");
	t->client.ehlo_from = xstrdup("literal");
	classify(t, NULL);
	T_CHECK(ev_has(t, "client.ptr_mismatch", "dyn-192-0-2-11.isp.test"),
	    "PTR not forward-confirmed: client.ptr_mismatch");
	T_CHECK(find(t, "client.ehlo_name_unresolvable") == NULL,
	    "address literal in EHLO: not judged");
	fx_free(t);
}

/* ---- reputation: the record's client.dnsbl and sender_auth ---- */

static void
fx_dnsbl(struct mxt_target *t, const char *zone, const char *list, enum mxt_dnsbl_status st,
    const char *answer, const char *txt)
{
	struct mxt_dnsbl *b;

	t->client.dnsbl =
	    realloc(t->client.dnsbl, (t->client.ndnsbl + 1) * sizeof(*t->client.dnsbl));
	if (t->client.dnsbl == NULL)
		abort();
	b = &t->client.dnsbl[t->client.ndnsbl++];
	memset(b, 0, sizeof(*b));
	b->zone = xstrdup(zone);
	b->list = xstrdup(list);
	b->address = xstrdup("192.0.2.1");
	b->status = st;
	if (answer != NULL) {
		b->answers = xcalloc(1, sizeof(*b->answers));
		b->answers[b->nanswers++] = xstrdup(answer);
	}
	b->txt = txt != NULL ? xstrdup(txt) : NULL;
	b->lookup_url = xstrdup("https://lists.example/?ip=192.0.2.1");
}

static void
fx_spf(struct mxt_target *t, enum mxt_spf_result r, const char *from, const char *record,
    const char *mech)
{
	t->sender_auth.spf.result = r;
	t->sender_auth.spf.domain = xstrdup("example.org");
	t->sender_auth.spf.domain_from = xstrdup(from);
	t->sender_auth.spf.address = xstrdup("192.0.2.1");
	t->sender_auth.spf.record = record != NULL ? xstrdup(record) : NULL;
	t->sender_auth.spf.mechanism = mech != NULL ? xstrdup(mech) : NULL;
}

static void
test_reputation_findings(void)
{
	struct mxt_target *t = fx_one("rep.test", 0, MXT_STAGE_COUNT, NULL);
	const struct mxt_finding *f;

	fx_dnsbl(t, "zen.spamhaus.org", "Spamhaus ZEN", MXT_DNSBL_LISTED, "127.0.0.2",
	    "https://www.spamhaus.org/query/ip/192.0.2.1");
	fx_dnsbl(t, "b.barracudacentral.org", "Barracuda", MXT_DNSBL_LISTED, "127.0.0.2", NULL);
	fx_dnsbl(t, "bl.spamcop.net", "SpamCop", MXT_DNSBL_NOT_LISTED, NULL, NULL);
	fx_dnsbl(t, "zen.spamhaus.org", "Spamhaus ZEN", MXT_DNSBL_REFUSED, "127.255.255.254", NULL);
	fx_spf(t, MXT_SPF_FAIL, "mail_from", "v=spf1 ip4:198.51.100.0/24 -all", "-all");
	t->sender_auth.dmarc.status = MXT_DMARC_OK;
	t->sender_auth.dmarc.domain = xstrdup("example.org");
	t->sender_auth.dmarc.found_at = xstrdup("example.org");
	t->sender_auth.dmarc.policy = xstrdup("reject");
	t->sender_auth.dmarc.pct = 100;
	classify(t, NULL);
	T_CHECK(count(t, "client.dnsbl_listed") == 2, "one client.dnsbl_listed per listing list");
	f = find(t, "client.dnsbl_listed");
	T_CHECK(f != NULL && f->list != NULL && strcmp(f->list, "Spamhaus ZEN") == 0 &&
		f->list_url != NULL && strstr(f->list_url, "192.0.2.1") != NULL,
	    "the list and its page are fields");
	T_CHECK(ev_has(t, "client.dnsbl_listed",
		    "zen.spamhaus.org lists 192.0.2.1: 127.0.0.2; TXT "
		    "\"https://www.spamhaus.org/query/ip/192.0.2.1\""),
	    "evidence: code and TXT reason");
	T_CHECK(count(t, "client.dnsbl_refused") == 1, "a refusal is client.dnsbl_refused");
	T_CHECK(ev_has(t, "sender.spf_fail",
		    "fail for 192.0.2.1: matched -all in \"v=spf1 ip4:198.51.100.0/24 -all\" "
		    "(example.org); add ip4:192.0.2.1 to the SPF record of example.org"),
	    "sender.spf_fail names the term to add");
	T_CHECK(ev_has(t, "sender.dmarc_at_risk", "DMARC p=reject (pct=100) at example.org"),
	    "failing SPF under p=reject: sender.dmarc_at_risk");
	T_CHECK(find(t, "delivery.ok") != NULL, "reputation does not change the delivery walk");
	fx_free(t);

	/* The HELO identity: none is not worth a finding, fail is. */
	t = fx_one("helo.test", 0, MXT_STAGE_COUNT, NULL);
	fx_spf(t, MXT_SPF_NONE, "helo", NULL, NULL);
	classify(t, NULL);
	T_CHECK(find(t, "sender.spf_none") == NULL, "HELO identity without SPF: no finding");
	fx_free(t);
	t = fx_one("helo.test", 0, MXT_STAGE_COUNT, NULL);
	fx_spf(t, MXT_SPF_PASS, "mail_from", "v=spf1 a:out.example.org -all", "a:out.example.org");
	classify(t, NULL);
	T_CHECK(ev_has(t, "sender.spf_pass", "pass for 192.0.2.1: matched a:out.example.org"),
	    "sender.spf_pass names the mechanism");
	T_CHECK(find(t, "sender.dmarc_at_risk") == NULL && t->verdict.status == MXT_STATUS_OK,
	    "SPF pass: nothing at risk, verdict ok");
	fx_free(t);
}

/* ---- one real reply per phrase-table entry ---- */

struct pfix {
	const char *kind; /* phrase kind the reply exercises */
	enum mxt_stage stage;
	const char *reply;
	const char *code;   /* expected diagnosis */
	const char *expect; /* blocklist label, or queue id; NULL: not checked */
};

static const struct pfix pfixes[] = {
    /* BLOCKLIST */
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
	"https://www.spamhaus.org/query/ip/192.0.2.1",
	"rcpt.blocklisted", "Spamhaus ZEN"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using sbl.spamhaus.org; "
	"https://www.spamhaus.org/sbl/query/SBL123456",
	"rcpt.blocklisted", "Spamhaus SBL"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"550 5.7.1 Message rejected because 192.0.2.1 is listed, see "
	"https://check.spamhaus.org/listed/?searchterm=192.0.2.1",
	"rcpt.blocklisted", "Spamhaus"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	"b.barracudacentral.org; "
	"http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
	"rcpt.blocklisted", "Barracuda Reputation Block List"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; "
	"http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.1",
	"rcpt.blocklisted", "Barracuda Reputation Block List"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.spamcop.net; "
	"Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1",
	"rcpt.blocklisted", "SpamCop"},
    {"BLOCKLIST", MXT_STAGE_MAIL,
	"550 5.7.1 Mail from 192.0.2.1 refused - see "
	"http://www.spamcop.net/w3m?action=checkblock&ip=192.0.2.1",
	"rcpt.blocklisted", "SpamCop"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using dnsbl.sorbs.net; "
	"Currently Sending Spam See: http://www.sorbs.net/lookup.shtml?192.0.2.1",
	"rcpt.blocklisted", "SORBS"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	"dnsbl-1.uceprotect.net; IP 192.0.2.1 is UCEPROTECT-Level1 listed.",
	"rcpt.blocklisted", "UCEPROTECT"},
    {"BLOCKLIST", MXT_STAGE_RCPT, "554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1",
	"rcpt.blocklisted", "Proofpoint"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"550 5.7.1 Connection rejected by policy [7.7] 20805, please visit "
	"https://csi.cloudmark.com/reset-request/?ip=192.0.2.1 for more information.",
	"rcpt.blocklisted", "Cloudmark Sender Intelligence"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
	"Internet service provider since part of their network is on our block list (S3150). You "
	"can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
	"rcpt.blocklisted", "Microsoft (Outlook.com, Microsoft 365)"},
    {"BLOCKLIST", MXT_STAGE_RCPT,
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using psbl.surriel.com",
	"rcpt.blocklisted", "PSBL"},
    {"BLOCKLIST", MXT_STAGE_RCPT, "550 5.7.1 Rejected: 192.0.2.1 is listed at bl.mailspike.net",
	"rcpt.blocklisted", "Mailspike"},
    {"BLOCKLIST", MXT_STAGE_RCPT, "554 5.7.1 Rejected by DNSBL: 192.0.2.1 has a poor reputation",
	"rcpt.blocklisted", "a blocklist"},
    {"BLOCKLIST", MXT_STAGE_RCPT, "554 5.7.1 Rejected - RBL check failed for 192.0.2.1",
	"rcpt.blocklisted", "a blocklist"},
    {"BLOCKLIST", MXT_STAGE_RCPT, "554 5.7.1 Your IP address 192.0.2.1 is blacklisted",
	"rcpt.blocklisted", "a blocklist"},
    {"BLOCKLIST", MXT_STAGE_RCPT, "550 5.7.1 Rejected: 192.0.2.1 is on the local blocklist",
	"rcpt.blocklisted", "a blocklist"},
    /* DMARC, SPF, DKIM (RFC 7372 codes beside the texts) */
    {"DMARC", MXT_STAGE_RCPT,
	"550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's\n"
	"550-5.7.26 DMARC policy. Please contact the administrator of example.org domain if\n"
	"550 5.7.26 this was a legitimate mail. - gsmtp",
	"sender.dmarc_rejected", NULL},
    {"SPF", MXT_STAGE_RCPT,
	"550 5.7.23 The message was rejected because of Sender Policy Framework violation",
	"sender.spf_rejected", NULL},
    {"SPF", MXT_STAGE_RCPT,
	"550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail\n"
	"550-5.7.26 requires all senders to authenticate with either SPF or DKIM. - gsmtp",
	"sender.spf_rejected", NULL},
    {"SPF", MXT_STAGE_RCPT,
	"550 5.7.23 <user@example.org>: Sender address rejected: Message rejected due to: SPF "
	"fail - not authorized",
	"sender.spf_rejected", NULL},
    {"DKIM", MXT_STAGE_RCPT, "550 5.7.20 No passing DKIM signature found", "sender.dkim_rejected",
	NULL},
    /* PTR_REQUIRED */
    {"PTR_REQUIRED", MXT_STAGE_RCPT,
	"450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
	"rcpt.ptr_required", NULL},
    {"PTR_REQUIRED", MXT_STAGE_RCPT,
	"450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]",
	"rcpt.ptr_required", NULL},
    {"PTR_REQUIRED", MXT_STAGE_RCPT,
	"550 5.7.1 Mail from 192.0.2.1 refused: reverse hostname does not match",
	"rcpt.ptr_required", NULL},
    {"PTR_REQUIRED", MXT_STAGE_RCPT, "550 5.7.1 Reverse DNS lookup failed for host 192.0.2.1",
	"rcpt.ptr_required", NULL},
    {"PTR_REQUIRED", MXT_STAGE_RCPT, "554 5.7.1 No PTR record found for 192.0.2.1",
	"rcpt.ptr_required", NULL},
    {"PTR_REQUIRED", MXT_STAGE_RCPT,
	"550-5.7.25 [192.0.2.1] The IP address sending this message does not have a\n"
	"550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not\n"
	"550 5.7.25 point to the sending IP. - gsmtp",
	"rcpt.ptr_required", NULL},
    {"PTR_REQUIRED", MXT_STAGE_RCPT,
	"550 5.7.1 Connection refused: rDNS check failed for 192.0.2.1", "rcpt.ptr_required", NULL},
    /* GREYLIST */
    {"GREYLIST", MXT_STAGE_RCPT,
	"450 4.2.0 <bob@grey.test>: Recipient address rejected: Greylisted, see "
	"http://postgrey.schweikert.ch/help/grey.test.html",
	"rcpt.greylisted", NULL},
    {"GREYLIST", MXT_STAGE_RCPT, "451 4.7.1 Graylisted, please retry in 300 seconds",
	"rcpt.greylisted", NULL},
    {"GREYLIST", MXT_STAGE_RCPT, "451 4.7.1 Please try again later", "rcpt.greylisted", NULL},
    {"GREYLIST", MXT_STAGE_RCPT,
	"450 4.7.1 <bob@grey.test>: Recipient address rejected: Delivery deferred, please retry in "
	"5 minutes",
	"rcpt.greylisted", NULL},
    /* RELAY */
    {"RELAY", MXT_STAGE_RCPT, "554 5.7.1 <bob@other.test>: Relay access denied",
	"rcpt.relay_denied", NULL},
    {"RELAY", MXT_STAGE_RCPT,
	"550 5.7.1 <bob@other.test>... Relaying denied. Proper authentication required.",
	"rcpt.relay_denied", NULL},
    {"RELAY", MXT_STAGE_RCPT,
	"550 5.7.1 192.0.2.1 is not permitted to relay through this server without authentication.",
	"rcpt.relay_denied", NULL},
    {"RELAY", MXT_STAGE_RCPT, "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
	"rcpt.relay_denied", NULL},
    {"RELAY", MXT_STAGE_RCPT, "550 relay not permitted", "rcpt.relay_denied", NULL},
    /* UNKNOWN_USER: no enhanced code, so the text decides */
    {"UNKNOWN_USER", MXT_STAGE_RCPT,
	"550 <nobody@user.test>: Recipient address rejected: User unknown in local recipient table",
	"rcpt.unknown_user", NULL},
    {"UNKNOWN_USER", MXT_STAGE_RCPT, "550 <nobody@user.test>... User unknown", "rcpt.unknown_user",
	NULL},
    {"UNKNOWN_USER", MXT_STAGE_RCPT, "550 No such user - psmtp", "rcpt.unknown_user", NULL},
    {"UNKNOWN_USER", MXT_STAGE_RCPT, "550 Requested action not taken: mailbox unavailable",
	"rcpt.unknown_user", NULL},
    {"UNKNOWN_USER", MXT_STAGE_RCPT, "550 Address nobody@user.test does not exist",
	"rcpt.unknown_user", NULL},
    /* MAILBOX_FULL */
    {"MAILBOX_FULL", MXT_STAGE_RCPT, "552 Requested mail action aborted: mailbox full",
	"rcpt.mailbox_full", NULL},
    {"MAILBOX_FULL", MXT_STAGE_RCPT,
	"552 5.2.2 <bob@full.test> Quota exceeded (mailbox for user is full)", "rcpt.mailbox_full",
	NULL},
    {"MAILBOX_FULL", MXT_STAGE_RCPT,
	"452 4.2.2 The email account that you tried to reach is over quota. Please direct the "
	"recipient to https://support.google.com/mail/?p=OverQuotaTemp",
	"rcpt.mailbox_full", NULL},
    {"MAILBOX_FULL", MXT_STAGE_RCPT,
	"552 5.2.2 The recipient's inbox is out of storage space. Please direct the recipient to "
	"https://support.google.com/mail/?p=OverQuotaPerm",
	"rcpt.mailbox_full", NULL},
    {"MAILBOX_FULL", MXT_STAGE_MAIL, "452 4.3.1 Insufficient system storage", "rcpt.mailbox_full",
	NULL},
    {"MAILBOX_FULL", MXT_STAGE_DATA_END,
	"552 Requested mail action aborted: exceeded storage allocation", "rcpt.mailbox_full",
	NULL},
    /* RATE_LIMIT */
    {"RATE_LIMIT", MXT_STAGE_RCPT,
	"450 4.7.1 You have exceeded the rate at which you may send mail to this server",
	"rcpt.rate_limited", NULL},
    {"RATE_LIMIT", MXT_STAGE_EHLO,
	"421 4.7.0 Try again later, closing connection. (EHLO) rate limited", "rcpt.rate_limited",
	NULL},
    {"RATE_LIMIT", MXT_STAGE_MAIL, "450 4.7.1 Sender rate-limited, please slow down",
	"rcpt.rate_limited", NULL},
    {"RATE_LIMIT", MXT_STAGE_RCPT,
	"450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n"
	"450-4.2.1 prevents additional messages from being delivered. Please resend your\n"
	"450 4.2.1 message at a later time. - gsmtp",
	"rcpt.rate_limited", NULL},
    {"RATE_LIMIT", MXT_STAGE_RCPT,
	"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume "
	"or "
	"user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
	"rcpt.rate_limited", NULL},
    {"RATE_LIMIT", MXT_STAGE_RCPT,
	"451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719)",
	"rcpt.rate_limited", NULL},
    {"RATE_LIMIT", MXT_STAGE_MAIL,
	"451 4.7.1 Connection throttled, too many messages from 192.0.2.1", "rcpt.rate_limited",
	NULL},
    {"RATE_LIMIT", MXT_STAGE_RCPT, "452 4.5.3 Error: too many recipients", "rcpt.rate_limited",
	NULL},
    /* TLS_REQUIRED */
    {"TLS_REQUIRED", MXT_STAGE_MAIL, "530 5.7.0 Must issue a STARTTLS command first",
	"auth.tls_required", NULL},
    {"TLS_REQUIRED", MXT_STAGE_RCPT, "554 5.7.1 STARTTLS required for this recipient",
	"auth.tls_required", NULL},
    {"TLS_REQUIRED", MXT_STAGE_AUTH,
	"538 5.7.11 Encryption required for requested authentication mechanism",
	"auth.tls_required", NULL},
    /* HELO_REJECTED (Postfix reports it at RCPT time) */
    {"HELO_REJECTED", MXT_STAGE_RCPT,
	"504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
	"ehlo.rejected", NULL},
    {"HELO_REJECTED", MXT_STAGE_EHLO, "550 5.7.1 Invalid HELO name (See RFC2821 4.1.1.1)",
	"ehlo.rejected", NULL},
    /* SENDER_REJECTED */
    {"SENDER_REJECTED", MXT_STAGE_RCPT,
	"450 4.1.8 <bob@nonexistent.test>: Sender address rejected: Domain not found",
	"mail.sender_rejected", NULL},
    {"SENDER_REJECTED", MXT_STAGE_MAIL,
	"553 5.1.8 <bob@nonexistent.test>... Domain of sender address bob@nonexistent.test does "
	"not exist",
	"mail.sender_rejected", NULL},
    {"SENDER_REJECTED", MXT_STAGE_MAIL, "550 Sender verify failed", "mail.sender_rejected", NULL},
    /* SIZE */
    {"SIZE", MXT_STAGE_MAIL, "552 5.3.4 Message size exceeds fixed limit", "size.exceeded", NULL},
    {"SIZE", MXT_STAGE_DATA_END,
	"552-5.2.3 Your message exceeded Google's message size limits. Please visit\n"
	"552 5.2.3 https://support.google.com/mail/?p=MaxSizeError to view our size guidelines.",
	"size.exceeded", NULL},
    {"SIZE", MXT_STAGE_DATA_END, "552 Message too large", "size.exceeded", NULL},
    /* PERSISTENT: a 4xx a retry does not cure; with one MX, delivery stalls */
    {"PERSISTENT", MXT_STAGE_STARTTLS, "454 4.7.0 TLS not available due to local problem",
	"delivery.stalled", NULL},
    {"PERSISTENT", MXT_STAGE_RCPT,
	"451 4.3.5 <bob@example.test>: Recipient address rejected: Server configuration problem",
	"delivery.stalled", NULL},
    {"PERSISTENT", MXT_STAGE_EHLO,
	"450 4.7.1 <nonexistent.test>: Helo command rejected: Host not found", "delivery.stalled",
	NULL},
    {"PERSISTENT", MXT_STAGE_RCPT,
	"450 <bob@example.test>: Recipient address rejected: Access denied", "delivery.stalled",
	NULL},
    {"PERSISTENT", MXT_STAGE_MAIL, "451 Client host not authorized to send mail here",
	"delivery.stalled", NULL},
    {"PERSISTENT", MXT_STAGE_RCPT, "451 Service unavailable - client host [192.0.2.1] blocked",
	"delivery.stalled", NULL},
    {"PERSISTENT", MXT_STAGE_RCPT, "450 Message refused by local policy", "delivery.stalled", NULL},
    /* QUEUE_ID_AFTER / QUEUE_ID_BEFORE: expect is the queue id */
    {"QUEUE_ID_AFTER", MXT_STAGE_DATA_END, "250 2.0.0 Ok: queued as 4XyzAB12cd", "data.accepted",
	"4XyzAB12cd"},
    {"QUEUE_ID_AFTER", MXT_STAGE_DATA_END,
	"250 2.6.0 <20240101120000.ABC@client.test> [InternalId=1234567890, "
	"Hostname=EX01.example.test] Queued mail for delivery",
	"data.accepted", "1234567890"},
    {"QUEUE_ID_AFTER", MXT_STAGE_DATA_END, "250 OK id=1rXYZa-0001Ab-Cd", "data.accepted",
	"1rXYZa-0001Ab-Cd"},
    {"QUEUE_ID_BEFORE", MXT_STAGE_DATA_END,
	"250 2.0.0 4AH1abcd012345 Message accepted for delivery", "data.accepted",
	"4AH1abcd012345"},
    {"QUEUE_ID_BEFORE", MXT_STAGE_DATA_END,
	"250 2.0.0 OK  1700000000 a640c23a62f3a-a9a2d0bd69bsi123456766b.123 - gsmtp",
	"data.accepted", "a640c23a62f3a-a9a2d0bd69bsi123456766b.123"},
};
#define NPFIXES (sizeof(pfixes) / sizeof(pfixes[0]))

/* The reply text as the classifier sees it: lines joined by a space,
 * ASCII-lower-cased. */
static char *
lowered_text(const char *reply)
{
	struct mxt_reply r;
	size_t i, j, n = 0;
	char *s;

	fx_reply(&r, reply, 0);
	for (i = 0; i < r.nlines; i++)
		n += r.lines[i].len + 1;
	s = xcalloc(n + 1, 1);
	for (i = 0, n = 0; i < r.nlines; i++) {
		if (i > 0)
			s[n++] = ' ';
		for (j = 0; j < r.lines[i].len; j++) {
			char ch = r.lines[i].p[j];

			s[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
		}
	}
	fx_reply_free(&r);
	return s;
}

/* Index of the first phrase entry of a kind found in the reply, or -1. */
static long
first_match(const char *kind, const char *reply)
{
	char *low = lowered_text(reply);
	long hit = -1;
	size_t i;

	for (i = 0; i < NPHRASES && hit < 0; i++)
		if (strcmp(ptab[i].kind, kind) == 0 && strstr(low, ptab[i].needle) != NULL)
			hit = (long)i;
	free(low);
	return hit;
}

static void
test_phrase_fixtures(void)
{
	size_t i;

	for (i = 0; i < NPFIXES; i++) {
		const struct pfix *p = &pfixes[i];
		struct mxt_target *t = fx_one("phrase.test",
		    p->stage == MXT_STAGE_DATA_END ? FX_DATA : 0, p->stage, p->reply);
		char want[200];

		classify(t, NULL);
		T_CHECK(find(t, p->code) != NULL, "phrase %zu (%s, \"%.40s...\"): %s", i, p->kind,
		    p->reply, p->code);
		if (p->expect != NULL) {
			if (strcmp(p->code, "data.accepted") == 0)
				snprintf(want, sizeof(want), "queue id %s: ", p->expect);
			else
				snprintf(want, sizeof(want), "listed by %s: ", p->expect);
			T_CHECK(
			    ev_has(t, p->code, want), "phrase %zu: evidence has \"%s\"", i, want);
		}
		fx_free(t);
	}
}

/* Every phrase-table entry is the deciding entry of its kind for at least
 * one fixture, so no entry is dead or untested. */
static void
test_phrase_coverage(void)
{
	size_t i, j;

	for (i = 0; i < NPHRASES; i++) {
		int used = 0;

		for (j = 0; j < NPFIXES && !used; j++)
			if (strcmp(pfixes[j].kind, ptab[i].kind) == 0 &&
			    first_match(ptab[i].kind, pfixes[j].reply) == (long)i)
				used = 1;
		T_CHECK(used, "phrase entry %s \"%s\" has a fixture", ptab[i].kind, ptab[i].needle);
	}
	/* BLOCKLIST fixtures exercise src/reputation/blocklists.def, whose own
	 * coverage test is in test_reputation.c. */
	for (j = 0; j < NPFIXES; j++)
		if (strcmp(pfixes[j].kind, "BLOCKLIST") != 0)
			T_CHECK(first_match(pfixes[j].kind, pfixes[j].reply) >= 0,
			    "fixture %zu matches some %s entry", j, pfixes[j].kind);
}

static void
test_phrase_table(void)
{
	size_t i;
	const char *p;
	int ok = 1;

	for (i = 0; i < NPHRASES; i++) {
		if (ptab[i].needle[0] == '\0' || ptab[i].label[0] == '\0')
			ok = 0;
		for (p = ptab[i].needle; *p != '\0'; p++)
			if ((*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x80)
				ok = 0;
	}
	T_CHECK(ok, "phrase table: %zu entries, lower-case ASCII, labelled", NPHRASES);
}

/* ---- catalogue and exit code ---- */

static int
valid_code(const char *s)
{
	int dots = 0;

	if (*s < 'a' || *s > 'z')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.')
			dots++;
		else if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return 0;
	}
	return dots == 1 && s[-1] != '.';
}

static void
test_catalogue(void)
{
	const struct mxt_diagnosis *cat;
	size_t n, i, j;
	int unique = 1, shape = 1, found = 1, text = 1;

	cat = mxt_diagnoses(&n);
	T_CHECK(cat != NULL && n == NDIAGS, "catalogue has the %zu codes of diagnoses.def", NDIAGS);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++)
			if (strcmp(cat[i].code, cat[j].code) == 0)
				unique = 0;
		if (!valid_code(cat[i].code) || strcmp(cat[i].code, dtab[i].code) != 0 ||
		    cat[i].severity != dtab[i].sev || strcmp(cat[i].stage, dtab[i].stage) != 0)
			shape = 0;
		if (mxt_diagnosis_find(cat[i].code) != &cat[i])
			found = 0;
		if (cat[i].title[0] == '\0' || cat[i].hint[0] == '\0' ||
		    cat[i].hint[strlen(cat[i].hint) - 1] != '.' || strlen(cat[i].hint) > 400)
			text = 0;
	}
	T_CHECK(unique, "catalogue codes are unique");
	T_CHECK(shape, "catalogue codes are dotted lower-case, in .def order");
	T_CHECK(found, "mxt_diagnosis_find finds every code");
	T_CHECK(text, "every code has a title and a one-or-two-sentence hint");
	T_CHECK(mxt_diagnosis_find("no.such_code") == NULL && mxt_diagnosis_find(NULL) == NULL,
	    "unknown codes are not found");
	T_CHECK(mxt_diagnosis_find("connect.egress_blocked") != NULL &&
		strstr(mxt_diagnosis_find("connect.egress_blocked")->hint, "port 587") != NULL,
	    "egress hint sends the user to port 587");
	T_CHECK(mxt_diagnosis_find("dns.mx_cname")->severity == MXT_SEV_WARNING,
	    "dns.mx_cname is a warning");
}

static void
test_exit_code(void)
{
	struct mxt_target a = {0}, b = {0};
	struct mxt_target *v[3] = {&a, &b, NULL};

	a.verdict.status = MXT_STATUS_OK;
	b.verdict.status = MXT_STATUS_OK;
	T_CHECK(mxt_exit_code(v, 2) == 0, "exit: ok + ok = 0");
	b.verdict.status = MXT_STATUS_WARNING;
	T_CHECK(mxt_exit_code(v, 2) == 1, "exit: ok + warning = 1");
	a.verdict.status = MXT_STATUS_UNKNOWN;
	T_CHECK(mxt_exit_code(v, 2) == 1, "exit: unknown + warning = 1");
	b.verdict.status = MXT_STATUS_OK;
	T_CHECK(mxt_exit_code(v, 2) == 3, "exit: unknown + ok = 3");
	b.verdict.status = MXT_STATUS_CRITICAL;
	T_CHECK(mxt_exit_code(v, 3) == 2, "exit: unknown + critical (+ NULL) = 2");
	T_CHECK(mxt_exit_code(v, 0) == 3, "exit: no targets = 3");
}

/*
 * A session mxtrace stopped itself (MXT_END_LOCAL) with three causes at
 * once: the stage it stopped at decides which cause the verdict names, one
 * ordered list of causes per stage (classify_end()).  Every list is walked.
 */
static void
test_local_stop_order(void)
{
	static const struct {
		enum mxt_stage at;
		const char *code;
	} cases[] = {{MXT_STAGE_STARTTLS, "tls.not_offered"}, {MXT_STAGE_AUTH, "auth.not_offered"},
	    {MXT_STAGE_MAIL, "size.exceeded"}, {MXT_STAGE_RCPT, "size.exceeded"}};
	struct mxt_config cfg = cfg0;
	struct mxt_target *t;
	struct mxt_attempt *a;
	const struct mxt_diagnosis *d;
	size_t i, ran = 0;

	cfg.user = "user";
	cfg.size = 20000000;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = fx_one("local.test", FX_NOTLS, MXT_STAGE_COUNT, NULL);
		a = &t->attempts[0];
		while (a->nsteps > 2) {
			a->nsteps--;
			free(a->steps[a->nsteps].command);
			fx_reply_free(&a->steps[a->nsteps].reply);
		}
		a->end = MXT_END_LOCAL;
		a->end_stage = cases[i].at;
		classify(t, &cfg);
		T_CHECK(find(t, "tls.not_offered") != NULL && find(t, "auth.not_offered") != NULL &&
			find(t, "size.exceeded") != NULL,
		    "local stop at %s: all three causes found", mxt_stage_name(cases[i].at));
		d = mxt_diagnosis_find(cases[i].code);
		T_CHECK(d != NULL && summary_has(t, d->title),
		    "local stop at %s: the summary names %s", mxt_stage_name(cases[i].at),
		    cases[i].code);
		T_CHECK(t->verdict.status == MXT_STATUS_CRITICAL, "local stop at %s: critical",
		    mxt_stage_name(cases[i].at));
		fx_free(t);
		ran++;
	}
	T_CHECK(ran == 4, "local stop: every case ran (%zu)", ran);
}

/* The rules that live with the record: exit ranking, names, predicates. */
static void
test_record_rules(void)
{
	static const char *const stages[] = {"connect", "banner", "ehlo", "helo", "starttls", "tls",
	    "ehlo_tls", "auth", "mail", "rcpt", "data", "data_end", "rset", "quit"};
	struct mxt_exchanger x = {0};
	struct mxt_step steps[3] = {
	    {.stage = MXT_STAGE_RCPT}, {.stage = MXT_STAGE_RSET}, {.stage = MXT_STAGE_QUIT}};
	struct mxt_attempt a = {0};
	size_t i;

	T_CHECK(mxt_exit_worse(-1, 0) == 0, "exit_worse: none + ok = ok");
	T_CHECK(mxt_exit_worse(0, 3) == 3, "exit_worse: ok + unknown = unknown");
	T_CHECK(mxt_exit_worse(3, 1) == 1, "exit_worse: unknown + warning = warning");
	T_CHECK(mxt_exit_worse(2, 1) == 2, "exit_worse: critical + warning = critical");
	T_CHECK(mxt_exit_worse(64, 2) == 2, "exit_worse: a usage status yields b");
	T_CHECK(mxt_exit_of_status(MXT_STATUS_OK) == 0 &&
		mxt_exit_of_status(MXT_STATUS_WARNING) == 1 &&
		mxt_exit_of_status(MXT_STATUS_CRITICAL) == 2 &&
		mxt_exit_of_status(MXT_STATUS_UNKNOWN) == 3,
	    "exit status per verdict: 0 1 2 3");
	T_CHECK(sizeof(stages) / sizeof(stages[0]) == MXT_STAGE_COUNT, "one JSON name per stage");
	for (i = 0; i < MXT_STAGE_COUNT; i++)
		T_CHECK(strcmp(mxt_stage_name((enum mxt_stage)i), stages[i]) == 0,
		    "stage %zu is %s", i, stages[i]);
	T_CHECK(strcmp(mxt_stage_name(MXT_STAGE_COUNT), "unknown") == 0, "stage out of range");
	T_CHECK(strcmp(mxt_stage_label(MXT_STAGE_MAIL), "MAIL FROM") == 0, "stage label");
	T_CHECK(strcmp(mxt_dns_status_name(MXT_DNS_BADRESP), "badresp") == 0 &&
		strcmp(mxt_dns_status_text(MXT_DNS_BADRESP), "malformed answer") == 0,
	    "DNS status: JSON name and text from one list");
	T_CHECK(strcmp(mxt_end_name(MXT_END_LOCAL), "local_policy") == 0, "end name");
	T_CHECK(strcmp(mxt_conn_status_name(MXT_CONN_OK), "connected") == 0, "connect name");
	T_CHECK(strcmp(mxt_xf_name(MXT_XF_LOOPBACK_ADDRESS), "loopback_address") == 0 &&
		mxt_xf_name(1u << 20) == NULL,
	    "exchanger flag names");
	T_CHECK(mxt_exchanger_usable(&x), "a plain exchanger is usable");
	x.flags = MXT_XF_CNAME | MXT_XF_IP_LITERAL;
	T_CHECK(mxt_exchanger_usable(&x), "a CNAME or IP-literal exchanger is still usable");
	x.flags = MXT_XF_OVER_LIMIT;
	T_CHECK(!mxt_exchanger_usable(&x), "over the cap: not usable");
	x.flags = MXT_XF_NULL;
	T_CHECK(!mxt_exchanger_usable(&x), "null MX: not usable");
	T_CHECK(mxt_attempt_last_step(&a) == NULL, "no steps: no last step");
	a.steps = steps;
	a.nsteps = 3;
	T_CHECK(mxt_attempt_last_step(&a) == &steps[0], "last step skips RSET and QUIT");
	a.steps = &steps[1];
	a.nsteps = 2;
	T_CHECK(mxt_attempt_last_step(&a) == NULL, "only RSET and QUIT: no last step");
}

/* ---- transport security policies (transport.c) ---- */

/* The exchanger's DANE lookup: eligible (MX and A authentic) with one
 * 3 1 1 record, its TLSA answer authentic or not. */
static void
fx_dane(struct mxt_target *t, struct mxt_exchanger *x, int usage, enum mxt_dns_status st)
{
	t->dns.q_mx.authentic = 1;
	x->q_a.authentic = 1;
	x->q_aaaa.authentic = 1;
	x->dane = MXT_DANE_LOOKUP_DONE;
	x->q_tlsa.status = st;
	x->q_tlsa.authentic = 1;
	if (st == MXT_DNS_OK) {
		x->tlsa = xcalloc(1, sizeof(*x->tlsa));
		x->ntlsa = 1;
		x->tlsa[0].usage = (uint8_t)usage;
		x->tlsa[0].selector = 1;
		x->tlsa[0].mtype = 1;
		x->tlsa[0].data = xcalloc(1, 32);
		x->tlsa[0].len = 32;
	}
}

static int
policy_is(const char *got, const char *want)
{
	return got != NULL && strcmp(got, want) == 0;
}

static void
test_dane(void)
{
	struct mxt_target *t;
	struct mxt_exchanger *x;
	struct mxt_attempt *a;
	struct mxt_config cfg = cfg0;

	/* A match on the only MX: deliver, dane.match, status ok. */
	t = fx_target("dane-ee.test");
	x = fx_mx(t, "mx.dane-ee.test", 10, "127.0.1.50");
	fx_dane(t, x, 3, MXT_DNS_OK);
	t->dns.resolver_loopback = 1;
	a = fx_ok(t, 0, "127.0.1.50");
	a->tls.dane = 1;
	a->tls.dane_ok = 1;
	a->tls.dane_match = xstrdup("3 1 1 00");
	classify(t, NULL);
	T_CHECK(policy_is(t->verdict.dane, "deliver") && find(t, "dane.match") != NULL &&
		t->verdict.status == MXT_STATUS_OK,
	    "dane match: deliver, ok");
	T_CHECK(find(t, "dns.resolver_not_local") == NULL, "loopback resolver: no finding");
	fx_free(t);

	/* The same through a resolver not on loopback: the AD bit is suspect. */
	t = fx_target("dane-ee.test");
	x = fx_mx(t, "mx.dane-ee.test", 10, "127.0.1.50");
	fx_dane(t, x, 3, MXT_DNS_OK);
	a = fx_ok(t, 0, "127.0.1.50");
	a->tls.dane = 1;
	a->tls.dane_ok = 1;
	classify(t, NULL);
	T_CHECK(
	    find(t, "dns.resolver_not_local") != NULL && t->verdict.status == MXT_STATUS_WARNING,
	    "remote resolver with DANE: dns.resolver_not_local, warning");
	fx_free(t);

	/* Mismatch on mx1, match on mx2: a DANE sender moves on and delivers. */
	t = fx_target("two.test");
	x = fx_mx(t, "mx1.two.test", 10, "192.0.2.1");
	fx_dane(t, x, 3, MXT_DNS_OK);
	x = fx_mx(t, "mx2.two.test", 20, "192.0.2.2");
	fx_dane(t, x, 2, MXT_DNS_OK);
	t->dns.resolver_loopback = 1;
	a = fx_ok(t, 0, "192.0.2.1");
	a->tls.dane = 1;
	a = fx_ok(t, 1, "192.0.2.2");
	a->tls.dane = 1;
	a->tls.dane_ok = 1;
	classify(t, NULL);
	T_CHECK(policy_is(t->verdict.dane, "deliver") && find(t, "dane.mismatch") != NULL,
	    "mismatch on mx1, match on mx2: deliver, dane.mismatch still reported");
	fx_free(t);

	/* Only PKIX usages: unusable, TLS still required and done: deliver. */
	t = fx_target("pkix.test");
	x = fx_mx(t, "mx.pkix.test", 10, "192.0.2.3");
	fx_dane(t, x, 1, MXT_DNS_OK);
	t->dns.resolver_loopback = 1;
	fx_ok(t, 0, "192.0.2.3");
	classify(t, NULL);
	T_CHECK(find(t, "dane.no_usable_tlsa") != NULL && policy_is(t->verdict.dane, "deliver"),
	    "PKIX-EE only: dane.no_usable_tlsa, deliver over TLS");
	fx_free(t);

	/* TLSA timeout on a signed host: defer, critical. */
	t = fx_target("slow.test");
	x = fx_mx(t, "mx.slow.test", 10, "192.0.2.4");
	fx_dane(t, x, 3, MXT_DNS_TIMEOUT);
	t->dns.resolver_loopback = 1;
	fx_ok(t, 0, "192.0.2.4");
	classify(t, NULL);
	T_CHECK(find(t, "dane.tlsa_lookup_failed") != NULL && policy_is(t->verdict.dane, "defer") &&
		t->verdict.status == MXT_STATUS_CRITICAL && via_is(t, "mx.slow.test"),
	    "TLSA timeout: defer, critical, ordinary delivery still via the MX");
	fx_free(t);

	/* --no-dane: no verdict, no finding. */
	t = fx_target("dane-roll.test");
	x = fx_mx(t, "mx.dane-roll.test", 10, "127.0.1.52");
	fx_dane(t, x, 3, MXT_DNS_OK);
	a = fx_ok(t, 0, "127.0.1.52");
	a->tls.dane = 1;
	cfg.no_dane = 1;
	classify(t, &cfg);
	T_CHECK(t->verdict.dane == NULL && find(t, "dane.mismatch") == NULL &&
		t->verdict.status == MXT_STATUS_OK,
	    "--no-dane: no verdict.dane, no finding");
	fx_free(t);
}

static void
test_mta_sts(void)
{
	struct mxt_target *t;
	struct mxt_attempt *a;

	/* Testing mode with an unlisted MX: deliver, testing_failure. */
	t = fx_target("sts.test");
	fx_mx(t, "mx.sts.test", 10, "192.0.2.5");
	fx_ok(t, 0, "192.0.2.5");
	t->sts.enabled = 1;
	t->sts.q_txt.status = MXT_DNS_OK;
	t->sts.ntxt = 1;
	t->sts.txt_valid = 1;
	t->sts.id = xstrdup("1");
	t->sts.fetch = MXT_STS_FETCH_OK;
	t->sts.policy_valid = 1;
	t->sts.mode = MXT_STS_MODE_TESTING;
	t->sts.mx = xcalloc(1, sizeof(char *));
	t->sts.mx[0] = xstrdup("mail.sts.test");
	t->sts.nmx = 1;
	classify(t, NULL);
	T_CHECK(policy_is(t->verdict.mta_sts, "deliver") &&
		find(t, "mtasts.testing_failure") != NULL &&
		find(t, "mtasts.mx_not_listed") == NULL,
	    "testing mode: deliver, failure only reported");
	fx_free(t);

	/* Enforce, one MX listed with an untrusted certificate, one fine: deliver. */
	t = fx_target("sts.test");
	fx_mx(t, "mx1.sts.test", 10, "192.0.2.6");
	fx_mx(t, "mx2.sts.test", 20, "192.0.2.7");
	a = fx_ok(t, 0, "192.0.2.6");
	a->tls.chain_ok = 0;
	fx_ok(t, 1, "192.0.2.7");
	t->sts.enabled = 1;
	t->sts.q_txt.status = MXT_DNS_OK;
	t->sts.ntxt = 1;
	t->sts.txt_valid = 1;
	t->sts.id = xstrdup("1");
	t->sts.fetch = MXT_STS_FETCH_OK;
	t->sts.policy_valid = 1;
	t->sts.mode = MXT_STS_MODE_ENFORCE;
	t->sts.mx = xcalloc(1, sizeof(char *));
	t->sts.mx[0] = xstrdup("*.sts.test");
	t->sts.nmx = 1;
	classify(t, NULL);
	T_CHECK(policy_is(t->verdict.mta_sts, "deliver") &&
		find(t, "mtasts.cert_invalid") != NULL && find(t, "mtasts.ok") == NULL &&
		find(t, "tlsrpt.missing") != NULL,
	    "enforce: mx1 fails, mx2 passes: deliver, cert_invalid, tlsrpt.missing");
	fx_free(t);
}

int
main(void)
{
	cfg0.starttls = MXT_STARTTLS_AUTO;
	cfg0.cert_warn_days = MXT_CERT_WARN_DAYS_DEFAULT;
	test_catalogue();
	test_phrase_table();
	test_healthy();
	test_fallback();
	test_equal_preference();
	test_egress_blocked();
	test_egress_not_every_host();
	test_egress_local_rule();
	test_firewalled();
	test_all_refused();
	test_connect_kinds();
	test_nxdomain();
	test_null_mx();
	test_null_mx_mixed();
	test_implicit();
	test_mx_cname();
	test_mx_nxdomain();
	test_mx_flags();
	test_dns_failures();
	test_envelope();
	test_banner();
	test_ehlo();
	test_tls();
	test_auth();
	test_data();
	test_protocol();
	test_client();
	test_reputation_findings();
	test_phrase_fixtures();
	test_phrase_coverage();
	test_severity_model();
	test_software();
	test_exit_code();
	test_local_stop_order();
	test_record_rules();
	test_dane();
	test_mta_sts();
	return t_done();
}
