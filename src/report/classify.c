/* SPDX-License-Identifier: MIT */
/*
 * Classifier and delivery verdict.  Reads one filled record (the DNS answers,
 * the client's identity, every probe attempt with its steps, capabilities
 * and TLS facts) and appends findings: a catalogue code (diagnoses.def), the
 * exchanger and address it concerns, the raw evidence (reply lines joined by
 * " / ", DNS statuses) and the catalogue's hint.  Then it decides the
 * verdict by walking the exchangers in preference order as an RFC 5321 §5.1
 * MTA would, and adds one delivery.* finding.
 *
 * It reads the record and writes only t->findings and t->verdict.  It never
 * touches the network, never escapes (the renderers do), and calls nothing
 * in other modules, so it can be tested on records built by hand.  Reply
 * texts are matched against the phrase table (phrases.def) together with the
 * reply code and the RFC 3463 enhanced code (reply_diag()).
 *
 * Per attempt it emits at most one finding per code; DNS findings come once
 * per target, or once per exchanger when they concern one.  Canary attempts
 * (port 587/465) only serve to tell egress blocking apart.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509_vfy.h>

#include "mxtrace/limits.h"
#include "mxtrace/report.h"

/* Bytes of raw evidence kept per finding (L11). */
#define EVIDENCE_MAX MXT_FIELD_TEXT_MAX
/* Bytes of a reply line quoted in the one-line summary. */
#define SUMMARY_QUOTE_MAX 200

enum diag {
#define MXT_DIAG(id, code, sev, stage, title, hint) DIAG_##id,
#include "diagnoses.def"
#undef MXT_DIAG
	DIAG_COUNT
};

enum phrase_kind {
	PH_BLOCKLIST,
	PH_PTR_REQUIRED,
	PH_GREYLIST,
	PH_RELAY,
	PH_UNKNOWN_USER,
	PH_MAILBOX_FULL,
	PH_RATE_LIMIT,
	PH_TLS_REQUIRED,
	PH_HELO_REJECTED,
	PH_SENDER_REJECTED,
	PH_SIZE,
	PH_QUEUE_ID_AFTER,
	PH_QUEUE_ID_BEFORE
};

struct phrase {
	enum phrase_kind kind;
	const char *needle; /* lower-case ASCII */
	const char *label;
};

static const struct phrase phrases[] = {
#define MXT_PHRASE(kind, needle, label) {PH_##kind, needle, label},
#include "phrases.def"
#undef MXT_PHRASE
};

/* ---- growing strings, capped ---- */

struct sb {
	char *p;
	size_t len, cap;
	int oom;
	int cut; /* hit EVIDENCE_MAX: "..." is appended on take */
};

/* Append n raw bytes; NUL becomes '?' so the result stays a C string. */
static void
sb_putn(struct sb *b, const char *s, size_t n)
{
	size_t i;

	if (b->oom || b->cut || n == 0 || s == NULL)
		return;
	if (b->len + n > EVIDENCE_MAX) {
		n = EVIDENCE_MAX - b->len;
		/* Do not cut a UTF-8 sequence in two. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		b->cut = 1;
		if (n == 0)
			return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	for (i = 0; i < n; i++)
		b->p[b->len++] = s[i] == '\0' ? '?' : s[i];
	b->p[b->len] = '\0';
}

static void
sb_puts(struct sb *b, const char *s)
{
	if (s != NULL)
		sb_putn(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	char buf[256], *p = buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n >= sizeof(buf)) {
		p = malloc((size_t)n + 1);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	sb_putn(b, p, (size_t)n);
	if (p != buf)
		free(p);
}

static void
sb_free(struct sb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Hand out the string (heap, the caller owns it); NULL on ENOMEM. */
static char *
sb_take(struct sb *b)
{
	char *p;

	if (b->oom) {
		sb_free(b);
		return NULL;
	}
	if (b->cut) {
		p = realloc(b->p, b->len + 4);
		if (p == NULL) {
			sb_free(b);
			return NULL;
		}
		memcpy(p + b->len, "...", 4);
		b->p = p;
	} else if (b->p == NULL) {
		b->p = calloc(1, 1);
	}
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

/* The reply as sent, minus CRLF: "250-first / 250 last". */
static void
sb_reply(struct sb *b, const struct mxt_reply *r)
{
	size_t i;

	for (i = 0; i < r->nlines; i++) {
		if (i > 0)
			sb_puts(b, " / ");
		if (r->code >= 100 && r->code <= 999)
			sb_printf(b, "%03d%c", r->code, i + 1 < r->nlines ? '-' : ' ');
		if (r->lines[i].p != NULL)
			sb_putn(b, r->lines[i].p, r->lines[i].len);
	}
	if (r->nlines == 0 && r->code != 0)
		sb_printf(b, "%03d", r->code);
}

/* The first line of a reply, shortened, for one-line summaries. */
static void
sb_reply_first(struct sb *b, const struct mxt_reply *r)
{
	size_t n;

	if (r->code >= 100 && r->code <= 999)
		sb_printf(b, "%03d ", r->code);
	if (r->nlines == 0 || r->lines[0].p == NULL)
		return;
	n = r->lines[0].len;
	if (n > SUMMARY_QUOTE_MAX) {
		n = SUMMARY_QUOTE_MAX;
		while (n > 0 && ((unsigned char)r->lines[0].p[n] & 0xc0) == 0x80)
			n--;
		sb_putn(b, r->lines[0].p, n);
		sb_puts(b, "...");
	} else {
		sb_putn(b, r->lines[0].p, n);
	}
}

/* ---- reply text and the phrase table ---- */

/* A reply's lines joined by spaces, raw and ASCII-lower-cased, NULs made
 * spaces so that strstr() sees the whole text. */
struct rtext {
	char *raw;
	char *low;
	size_t len;
};

static int
rtext_init(struct rtext *x, const struct mxt_reply *r)
{
	size_t i, j, n = 0;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < r->nlines; i++)
		n += r->lines[i].len + 1;
	x->raw = malloc(n + 1);
	x->low = malloc(n + 1);
	if (x->raw == NULL || x->low == NULL) {
		free(x->raw);
		free(x->low);
		memset(x, 0, sizeof(*x));
		return -1;
	}
	for (i = 0; i < r->nlines; i++) {
		if (i > 0)
			x->raw[x->len++] = ' ';
		for (j = 0; j < r->lines[i].len && r->lines[i].p != NULL; j++)
			x->raw[x->len++] = r->lines[i].p[j] == '\0' ? ' ' : r->lines[i].p[j];
	}
	x->raw[x->len] = '\0';
	/* ASCII only: no locale, so the table matches the same everywhere. */
	for (i = 0; i <= x->len; i++) {
		char ch = x->raw[i];

		x->low[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	return 0;
}

static void
rtext_free(struct rtext *x)
{
	free(x->raw);
	free(x->low);
	memset(x, 0, sizeof(*x));
}

/* The first entry of a kind found in the text; its offset in *at. */
static const struct phrase *
phrase_find(enum phrase_kind kind, const struct rtext *x, size_t *at)
{
	size_t i;
	const char *p;

	if (x->low == NULL)
		return NULL;
	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
		if (phrases[i].kind != kind)
			continue;
		p = strstr(x->low, phrases[i].needle);
		if (p != NULL) {
			if (at != NULL)
				*at = (size_t)(p - x->low);
			return &phrases[i];
		}
	}
	return NULL;
}

/* True if the RFC 3463 code has this subject.detail: "1.1" matches 4.1.1
 * and 5.1.1. */
static int
enh_is(const struct mxt_reply *r, const char *subject_detail)
{
	return r->enh[0] >= '2' && r->enh[0] <= '5' && r->enh[1] == '.' &&
	    strcmp(r->enh + 2, subject_detail) == 0;
}

/*
 * Map a 4xx/5xx reply after the greeting to a diagnosis.  Phrases and
 * RFC 3463 codes come first, in an order that puts the most specific cause
 * first (a blocklist beats "try again later"); the stage's generic code
 * comes last.  *hit receives the phrase that decided, if any.
 */
static enum diag
reply_diag(const struct mxt_reply *r, enum mxt_stage stage, const struct rtext *x,
    const struct phrase **hit)
{
	const struct phrase *p;
	int perm = r->code >= 500;

	*hit = NULL;
	if ((*hit = phrase_find(PH_BLOCKLIST, x, NULL)) != NULL)
		return DIAG_RCPT_BLOCKLISTED;
	/* Gmail: 5.7.25 "does not have a PTR record". */
	if ((*hit = phrase_find(PH_PTR_REQUIRED, x, NULL)) != NULL || enh_is(r, "7.25"))
		return DIAG_RCPT_PTR_REQUIRED;
	/* RFC 4954 §6: 538 5.7.11 encryption required. */
	if ((*hit = phrase_find(PH_TLS_REQUIRED, x, NULL)) != NULL || r->code == 538 ||
	    enh_is(r, "7.11"))
		return DIAG_AUTH_TLS_REQUIRED;
	/* RFC 4954 §6: 530 5.7.0 authentication required. */
	if (r->code == 530)
		return DIAG_AUTH_REQUIRED;
	if ((*hit = phrase_find(PH_RELAY, x, NULL)) != NULL)
		return DIAG_RCPT_RELAY_DENIED;
	if ((*hit = phrase_find(PH_HELO_REJECTED, x, NULL)) != NULL)
		return DIAG_EHLO_REJECTED;
	/* RFC 3463: X.1.7 bad sender mailbox syntax, X.1.8 bad sender system. */
	if ((*hit = phrase_find(PH_SENDER_REJECTED, x, NULL)) != NULL || enh_is(r, "1.7") ||
	    enh_is(r, "1.8"))
		return DIAG_MAIL_SENDER_REJECTED;
	/* RFC 3463: X.2.2 mailbox full. */
	if ((*hit = phrase_find(PH_MAILBOX_FULL, x, NULL)) != NULL || enh_is(r, "2.2"))
		return DIAG_RCPT_MAILBOX_FULL;
	/* RFC 3463: X.3.4 message too big for system, X.2.3 over the length limit. */
	if ((*hit = phrase_find(PH_SIZE, x, NULL)) != NULL || enh_is(r, "3.4") || enh_is(r, "2.3"))
		return DIAG_SIZE_EXCEEDED;
	/* RFC 3463 X.1.1 bad destination mailbox; X.1.10 (RFC 7505, Exchange). */
	if (enh_is(r, "1.1") || enh_is(r, "1.10"))
		return DIAG_RCPT_UNKNOWN_USER;
	/* Gmail: 4.7.28 unusual rate of unsolicited mail. */
	if ((*hit = phrase_find(PH_RATE_LIMIT, x, NULL)) != NULL || enh_is(r, "7.28"))
		return DIAG_RCPT_RATE_LIMITED;
	if (!perm && (*hit = phrase_find(PH_GREYLIST, x, NULL)) != NULL)
		return DIAG_RCPT_GREYLISTED;
	if (perm && (p = phrase_find(PH_UNKNOWN_USER, x, NULL)) != NULL) {
		*hit = p;
		return DIAG_RCPT_UNKNOWN_USER;
	}
	*hit = NULL;
	switch (stage) {
	case MXT_STAGE_EHLO:
	case MXT_STAGE_HELO:
	case MXT_STAGE_EHLO_TLS:
		return DIAG_EHLO_REJECTED;
	case MXT_STAGE_MAIL:
		return perm ? DIAG_MAIL_SENDER_REJECTED : DIAG_MAIL_DEFERRED;
	case MXT_STAGE_RCPT:
		return perm ? DIAG_RCPT_REJECTED : DIAG_RCPT_DEFERRED;
	default:
		return DIAG_DATA_REJECTED;
	}
}

/* Copy the queue id a 250 reply to the end of DATA names into out ("" if
 * none): the token after a QUEUE_ID_AFTER phrase or before a
 * QUEUE_ID_BEFORE phrase. */
static void
queue_id(const struct rtext *x, char *out, size_t outsz)
{
	const struct phrase *p;
	size_t at, s, e;

	out[0] = '\0';
#define QID_CHAR(ch)                                                                               \
	(((ch) >= 'a' && (ch) <= 'z') || ((ch) >= 'A' && (ch) <= 'Z') ||                           \
	    ((ch) >= '0' && (ch) <= '9') || (ch) == '.' || (ch) == '-' || (ch) == '_')
	if ((p = phrase_find(PH_QUEUE_ID_AFTER, x, &at)) != NULL) {
		s = at + strlen(p->needle);
		while (x->raw[s] == ' ')
			s++;
		e = s;
		while (QID_CHAR(x->raw[e]))
			e++;
	} else if ((p = phrase_find(PH_QUEUE_ID_BEFORE, x, &at)) != NULL) {
		e = at;
		while (e > 0 && x->raw[e - 1] == ' ')
			e--;
		s = e;
		while (s > 0 && QID_CHAR(x->raw[s - 1]))
			s--;
	} else {
		return;
	}
#undef QID_CHAR
	/* A lone dash or dot is punctuation, not an id. */
	if (e - s < 2 || e - s >= outsz)
		return;
	memcpy(out, x->raw + s, e - s);
	out[e - s] = '\0';
}

/* ---- findings ---- */

enum out_kind {
	OUT_SKIP = 0, /* canary, or never tried: not part of the walk */
	OUT_OK,	      /* the session reached its planned end: mail goes through */
	OUT_NEXT,     /* a sender moves on to the next address or exchanger */
	OUT_STOP      /* a 5xx that ends delivery (RFC 5321 §4.2.1, §6.1) */
};

/* What one attempt means for delivery. */
struct outcome {
	enum out_kind kind;
	int diag;		       /* the code that decided, -1 if none */
	int finding;		       /* its index in t->findings, -1 if none */
	int blocking;		       /* retrying later would not help */
	const struct mxt_step *step;   /* the step that decided, if any */
	const struct mxt_step *accept; /* the RCPT or DATA end that said 2xx */
};

struct egress {
	int blocked;
	const struct mxt_attempt *canary;
	size_t n25;    /* port-25 attempts */
	size_t nlocal; /* of which a local firewall rule denied */
	size_t nhosts; /* distinct exchangers among them */
	int finding;   /* index of the connect.egress_blocked finding, -1 */
};

struct ctx {
	struct mxt_target *t;
	const struct mxt_config *cfg;
	const struct mxt_diagnosis *cat;
	int oom;
	int seen[DIAG_COUNT]; /* finding index + 1, per code, in the current scope */
	struct egress eg;
};

static void
scope_reset(struct ctx *c)
{
	memset(c->seen, 0, sizeof(c->seen));
}

static char *
dup_or_null(struct ctx *c, const char *s)
{
	char *p;

	if (s == NULL || *s == '\0')
		return NULL;
	p = strdup(s);
	if (p == NULL)
		c->oom = 1;
	return p;
}

/* Append a finding with the evidence built in ev (consumed).  Returns its
 * index, or the index of the one the scope already has for this code, or
 * -1 on ENOMEM.  host and address are copied; code, stage and hint point at
 * the static catalogue. */
static int
emit(struct ctx *c, enum diag id, const char *host, const char *address, struct sb *ev)
{
	struct mxt_target *t = c->t;
	struct mxt_finding *f;
	char *evidence;

	if (c->seen[id] != 0) {
		sb_free(ev);
		return c->seen[id] - 1;
	}
	evidence = sb_take(ev);
	if (evidence == NULL) {
		c->oom = 1;
		return -1;
	}
	f = realloc(t->findings, (t->nfindings + 1) * sizeof(*f));
	if (f == NULL) {
		free(evidence);
		c->oom = 1;
		return -1;
	}
	t->findings = f;
	f = &t->findings[t->nfindings];
	memset(f, 0, sizeof(*f));
	f->code = c->cat[id].code;
	f->severity = c->cat[id].severity;
	f->stage = c->cat[id].stage;
	f->hint = c->cat[id].hint;
	f->evidence = evidence;
	f->host = dup_or_null(c, host);
	f->address = dup_or_null(c, address);
	t->nfindings++;
	c->seen[id] = (int)t->nfindings;
	return (int)t->nfindings - 1;
}

static const char *
target_domain(const struct mxt_target *t)
{
	if (t->domain != NULL && *t->domain != '\0')
		return t->domain;
	if (t->input != NULL && *t->input != '\0')
		return t->input;
	return "?";
}

static const char *
mx_name(const struct mxt_target *t, const struct mxt_attempt *a)
{
	if (a->mx_index < t->dns.nmx && t->dns.mx[a->mx_index].name != NULL)
		return t->dns.mx[a->mx_index].name;
	return NULL;
}

static const char *
attempt_host(const struct mxt_target *t, const struct mxt_attempt *a)
{
	const char *n = mx_name(t, a);

	return n != NULL ? n : a->addr.text;
}

static int
emit_a(struct ctx *c, const struct mxt_attempt *a, enum diag id, struct sb *ev)
{
	return emit(c, id, mx_name(c->t, a), a->addr.text, ev);
}

/* ---- DNS ---- */

static const char *
dns_status_text(enum mxt_dns_status s)
{
	static const char *const names[] = {"not run", "OK", "NODATA", "NXDOMAIN", "SERVFAIL",
	    "REFUSED", "TIMEOUT", "UNREACHABLE", "malformed answer", "ERROR"};

	if ((size_t)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "?";
}

/* The code for a lookup that gave no verdict on the name, or -1. */
static int
dns_failure_diag(enum mxt_dns_status s)
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
	default:
		return -1;
	}
}

/* "TYPE name: STATUS (error) from resolver" */
static void
sb_query(struct sb *b, const struct mxt_target *t, const char *type, const char *name,
    const struct mxt_dns_query *q)
{
	sb_printf(b, "%s %s: %s", type, name != NULL ? name : "?", dns_status_text(q->status));
	if (q->error != NULL)
		sb_printf(b, " (%s)", q->error);
	if (t->dns.resolver != NULL && q->status != MXT_DNS_OK)
		sb_printf(b, " from %s", t->dns.resolver);
}

static int
exchanger_inconclusive(const struct mxt_exchanger *x)
{
	return dns_failure_diag(x->q_a.status) >= 0 || dns_failure_diag(x->q_aaaa.status) >= 0;
}

/* Neither A nor AAAA gave an address, and at least one said so for sure. */
static int
exchanger_negative(const struct mxt_exchanger *x)
{
	int a = x->q_a.status, aaaa = x->q_aaaa.status;

	if (x->naddrs > 0 || exchanger_inconclusive(x))
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

	scope_reset(c);
	if (x->flags & MXT_XF_INVALID_NAME) {
		sb_printf(&ev, "MX %s: %d %s", target_domain(t), x->preference,
		    x->name != NULL ? x->name : "");
		emit(c, DIAG_DNS_MX_INVALID_NAME, x->name, NULL, &ev);
		return;
	}
	if (x->flags & MXT_XF_IP_LITERAL) {
		sb_printf(&ev, "MX %s: %d %s (an address, not a host name)", target_domain(t),
		    x->preference, x->name != NULL ? x->name : "");
		emit(c, DIAG_DNS_MX_IP_LITERAL, x->name, NULL, &ev);
	}
	if (x->flags & MXT_XF_LOOPBACK_ADDRESS) {
		sb_printf(&ev, "A/AAAA of %s: a loopback address (127.0.0.0/8 or ::1) was left out",
		    x->name != NULL ? x->name : "");
		emit(c, DIAG_DNS_MX_LOOPBACK, x->name, NULL, &ev);
	}
	if (x->flags & MXT_XF_UNUSABLE_ADDRESS) {
		sb_printf(&ev,
		    "A/AAAA of %s: an unusable address (unspecified, broadcast, multicast or "
		    "reserved) was left out",
		    x->name != NULL ? x->name : "");
		emit(c, DIAG_DNS_MX_UNUSABLE_ADDRESS, x->name, NULL, &ev);
	}
	if (x->flags & MXT_XF_CNAME) {
		sb_printf(&ev, "MX %s: %d %s, which is an alias (CNAME) for %s", target_domain(t),
		    x->preference, x->name != NULL ? x->name : "",
		    x->cname != NULL ? x->cname : "another name");
		emit(c, DIAG_DNS_MX_CNAME, x->name, NULL, &ev);
	}
	nx = (x->flags & MXT_XF_NXDOMAIN) ||
	    (x->q_a.status == MXT_DNS_NXDOMAIN && x->q_aaaa.status == MXT_DNS_NXDOMAIN);
	if (!implicit && nx) {
		sb_query(&ev, t, "A/AAAA", x->name,
		    x->q_a.status == MXT_DNS_NXDOMAIN ? &x->q_a : &x->q_aaaa);
		emit(c, DIAG_DNS_MX_NXDOMAIN, x->name, NULL, &ev);
	} else if (!implicit && !(x->flags & (MXT_XF_UNUSABLE_ADDRESS | MXT_XF_LOOPBACK_ADDRESS)) &&
	    ((x->flags & MXT_XF_NO_ADDRESS) || exchanger_negative(x))) {
		sb_query(&ev, t, "A", x->name, &x->q_a);
		sb_puts(&ev, " / ");
		sb_query(&ev, t, "AAAA", x->name, &x->q_aaaa);
		emit(c, DIAG_DNS_MX_NO_ADDRESS, x->name, NULL, &ev);
	}
	/* Lookups of the exchanger's addresses that failed for now. */
	id_a = dns_failure_diag(x->q_a.status);
	id_aaaa = dns_failure_diag(x->q_aaaa.status);
	if (id_a >= 0) {
		sb_query(&ev, t, "A", x->name, &x->q_a);
		if (id_aaaa == id_a) {
			sb_puts(&ev, " / ");
			sb_query(&ev, t, "AAAA", x->name, &x->q_aaaa);
		}
		emit(c, (enum diag)id_a, x->name, NULL, &ev);
	}
	if (id_aaaa >= 0 && id_aaaa != id_a) {
		sb_query(&ev, t, "AAAA", x->name, &x->q_aaaa);
		emit(c, (enum diag)id_aaaa, x->name, NULL, &ev);
	}
}

static void
classify_dns(struct ctx *c)
{
	const struct mxt_target *t = c->t;
	const struct mxt_dns *d = &t->dns;
	const char *dom = target_domain(t);
	struct sb ev = {0};
	size_t i, nover = 0;
	int id, any_addr = 0, inconclusive = 0;

	scope_reset(c);
	/* RFC 5321 §5.1: NXDOMAIN is an error; a temporary failure is not. */
	if (d->q_mx.status == MXT_DNS_NXDOMAIN) {
		sb_query(&ev, t, "MX", dom, &d->q_mx);
		emit(c, DIAG_DNS_DOMAIN_NXDOMAIN, dom, NULL, &ev);
	} else if ((id = dns_failure_diag(d->q_mx.status)) >= 0) {
		sb_query(&ev, t, "MX", dom, &d->q_mx);
		emit(c, (enum diag)id, dom, NULL, &ev);
	}
	/* RFC 7505 §3: a null MX must stand alone. */
	if (d->source == MXT_MX_SOURCE_NULL || d->null_mx_mixed) {
		sb_printf(&ev, "MX %s: 0 .", dom);
		if (d->null_mx_mixed) {
			for (i = 0; i < d->nmx; i++) {
				if (d->mx[i].flags & MXT_XF_NULL)
					continue;
				sb_printf(&ev, " / %d %s", d->mx[i].preference,
				    d->mx[i].name != NULL ? d->mx[i].name : "?");
			}
		}
		emit(c, d->null_mx_mixed ? DIAG_DNS_NULL_MX_WITH_MX : DIAG_DNS_NULL_MX, dom, NULL,
		    &ev);
	}
	for (i = 0; i < d->nmx; i++) {
		if (d->mx[i].naddrs > 0)
			any_addr = 1;
		if (exchanger_inconclusive(&d->mx[i]))
			inconclusive = 1;
	}
	scope_reset(c);
	if (d->source == MXT_MX_SOURCE_IMPLICIT) {
		/* RFC 5321 §5.1: no MX, so the domain itself is the exchanger. */
		sb_printf(&ev, "MX %s: NODATA; using the A/AAAA records of %s", dom, dom);
		emit(c, DIAG_DNS_NO_MX_IMPLICIT, dom, NULL, &ev);
		if (!any_addr && !inconclusive) {
			sb_printf(&ev, "MX %s: NODATA / A and AAAA %s: no records", dom, dom);
			emit(c, DIAG_DNS_NO_ADDRESS, dom, NULL, &ev);
		}
	} else if (d->source == MXT_MX_SOURCE_NONE && d->q_mx.status == MXT_DNS_NODATA) {
		sb_printf(&ev, "MX %s: NODATA / A and AAAA %s: no records", dom, dom);
		emit(c, DIAG_DNS_NO_ADDRESS, dom, NULL, &ev);
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
		scope_reset(c);
		sb_printf(&ev, "%zu MX host(s) not probed:", nover);
		for (i = 0; i < d->nmx; i++)
			if (d->mx[i].flags & MXT_XF_OVER_LIMIT)
				sb_printf(&ev, " %s", d->mx[i].name != NULL ? d->mx[i].name : "?");
		emit(c, DIAG_DNS_MX_OVER_LIMIT, dom, NULL, &ev);
	}
}

/* ---- the client's identity ---- */

static void
classify_client(struct ctx *c)
{
	const struct mxt_client *cl = &c->t->client;
	const char *ip = cl->egress != NULL ? cl->egress
	    : cl->local_v4 != NULL	    ? cl->local_v4
					    : cl->local_v6;
	struct sb ev = {0};
	enum mxt_dns_status ps = cl->q_ptr.status;

	scope_reset(c);
	if (ps == MXT_DNS_NXDOMAIN || ps == MXT_DNS_NODATA ||
	    (ps == MXT_DNS_OK && (cl->ptr == NULL || *cl->ptr == '\0'))) {
		sb_printf(&ev, "PTR of %s: %s", ip != NULL ? ip : "the sending address",
		    ps == MXT_DNS_OK ? "NODATA" : dns_status_text(ps));
		emit(c, DIAG_CLIENT_PTR_MISSING, NULL, ip, &ev);
	} else if (ps == MXT_DNS_BADRESP) {
		/* c-ares refuses PTR names with control bytes (hardening b2 15). */
		sb_printf(&ev, "PTR of %s: a malformed answer or a name that is not a host name",
		    ip != NULL ? ip : "the sending address");
		emit(c, DIAG_CLIENT_PTR_INVALID, NULL, ip, &ev);
	} else if (ps == MXT_DNS_OK && !cl->fcrdns) {
		sb_printf(&ev, "PTR of %s: %s, but %s does not resolve back to %s",
		    ip != NULL ? ip : "the sending address", cl->ptr, cl->ptr,
		    ip != NULL ? ip : "it");
		emit(c, DIAG_CLIENT_PTR_MISMATCH, NULL, ip, &ev);
	}
	/* An address literal ("[192.0.2.1]", RFC 5321 §4.1.3) needs no DNS. */
	if (cl->ehlo_name != NULL && *cl->ehlo_name != '\0' && cl->ehlo_name[0] != '[' &&
	    !cl->ehlo_resolves &&
	    !(cl->ehlo_from != NULL && strcmp(cl->ehlo_from, "literal") == 0)) {
		sb_printf(&ev, "EHLO %s: the name has no A/AAAA record", cl->ehlo_name);
		if (cl->ehlo_from != NULL)
			sb_printf(&ev, " (name taken from %s)", cl->ehlo_from);
		emit(c, DIAG_CLIENT_EHLO_NAME_UNRESOLVABLE, NULL, ip, &ev);
	}
}

/* ---- egress blocking ---- */

static int
is_port25(const struct mxt_attempt *a)
{
	return a->port == 25 || (a->port == 0 && a->mode == MXT_MODE_SMTP);
}

/* A local firewall rule answers connect() with EPERM/EACCES. */
static int
locally_denied(const struct mxt_attempt *a)
{
	return a->connect != MXT_CONN_OK &&
	    (a->connect_errno == EPERM || a->connect_errno == EACCES);
}

/*
 * Every port-25 attempt timed out (or a local rule denied it) while a
 * canary to port 587/465 of the same exchangers connected: the client's own
 * network blocks outbound SMTP.  Without a canary, only EPERM/EACCES on
 * every attempt proves it.
 */
static void
egress_detect(struct ctx *c)
{
	const struct mxt_target *t = c->t;
	struct egress *eg = &c->eg;
	size_t i, j, nfail = 0, nlocal = 0;
	int canary_host = 0, seen_before;

	memset(eg, 0, sizeof(*eg));
	eg->finding = -1;
	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];

		if (a->canary || !is_port25(a) || a->connect == MXT_CONN_NOT_TRIED)
			continue;
		eg->n25++;
		seen_before = 0;
		for (j = 0; j < i; j++)
			if (!t->attempts[j].canary && is_port25(&t->attempts[j]) &&
			    t->attempts[j].mx_index == a->mx_index)
				seen_before = 1;
		if (!seen_before)
			eg->nhosts++;
		if (locally_denied(a))
			nlocal++;
		if (a->connect == MXT_CONN_TIMEOUT || locally_denied(a))
			nfail++;
	}
	for (i = 0; i < t->nattempts && eg->canary == NULL; i++) {
		const struct mxt_attempt *a = &t->attempts[i];

		if (!a->canary || a->connect != MXT_CONN_OK)
			continue;
		canary_host = 0;
		for (j = 0; j < t->nattempts; j++)
			if (!t->attempts[j].canary && t->attempts[j].mx_index == a->mx_index)
				canary_host = 1;
		if (canary_host)
			eg->canary = a;
	}
	eg->nlocal = nlocal;
	eg->blocked = eg->n25 > 0 && nfail == eg->n25 && (eg->canary != NULL || nlocal == eg->n25);
}

static void
emit_egress(struct ctx *c)
{
	const struct egress *eg = &c->eg;
	struct sb ev = {0};

	scope_reset(c);
	sb_printf(&ev, "port 25 %s on all %zu address(es) of %zu MX host(s)",
	    eg->nlocal == 0		? "timed out"
		: eg->nlocal == eg->n25 ? "was denied by a local firewall rule (EPERM/EACCES)"
					: "timed out or was denied locally",
	    eg->n25, eg->nhosts);
	if (eg->canary != NULL) {
		sb_printf(&ev, "; port %d of %s (%s) connected in %lld ms", eg->canary->port,
		    attempt_host(c->t, eg->canary), eg->canary->addr.text,
		    (long long)eg->canary->connect_ms);
		c->eg.finding = emit(c, DIAG_CONNECT_EGRESS_BLOCKED, mx_name(c->t, eg->canary),
		    eg->canary->addr.text, &ev);
	} else {
		c->eg.finding = emit(c, DIAG_CONNECT_EGRESS_BLOCKED, NULL, NULL, &ev);
	}
}

/* ---- one attempt ---- */

/* What the client sent at a stage, for evidence. */
static const char *
stage_label(enum mxt_stage s)
{
	switch (s) {
	case MXT_STAGE_CONNECT:
		return "connect";
	case MXT_STAGE_BANNER:
		return "the greeting";
	case MXT_STAGE_EHLO:
		return "EHLO";
	case MXT_STAGE_HELO:
		return "HELO";
	case MXT_STAGE_STARTTLS:
		return "STARTTLS";
	case MXT_STAGE_TLS:
		return "the TLS handshake";
	case MXT_STAGE_EHLO_TLS:
		return "EHLO after TLS";
	case MXT_STAGE_AUTH:
		return "AUTH";
	case MXT_STAGE_MAIL:
		return "MAIL FROM";
	case MXT_STAGE_RCPT:
		return "RCPT TO";
	case MXT_STAGE_DATA:
		return "DATA";
	case MXT_STAGE_DATA_END:
		return "the end of the message";
	case MXT_STAGE_RSET:
		return "RSET";
	case MXT_STAGE_QUIT:
		return "QUIT";
	default:
		return "a command";
	}
}

/* Record the first deciding event of an attempt.  blocking < 0: from the
 * catalogue severity (critical codes are not cured by retrying). */
static void
decide(struct ctx *c, struct outcome *o, enum out_kind kind, int diag, int finding,
    const struct mxt_step *s, int blocking)
{
	if (o->diag >= 0)
		return;
	o->kind = kind;
	o->diag = diag;
	o->finding = finding;
	o->step = s;
	if (blocking < 0)
		blocking = kind == OUT_STOP || c->cat[diag].severity == MXT_SEV_CRITICAL;
	o->blocking = blocking;
}

static void
classify_connect(struct ctx *c, const struct mxt_attempt *a, struct outcome *o)
{
	struct sb ev = {0};
	enum diag id;
	int idx;

	if (c->eg.blocked && is_port25(a)) {
		/* One connect.egress_blocked explains them all: no flood. */
		decide(c, o, OUT_NEXT, DIAG_CONNECT_EGRESS_BLOCKED, c->eg.finding, NULL, 0);
		return;
	}
	switch (a->connect) {
	case MXT_CONN_TIMEOUT:
		id = DIAG_CONNECT_TIMEOUT;
		sb_printf(&ev, "%s port %d: no answer to SYN within %lld ms", a->addr.text, a->port,
		    (long long)a->connect_ms);
		break;
	case MXT_CONN_REFUSED:
		id = DIAG_CONNECT_REFUSED;
		sb_printf(&ev, "%s port %d: connection refused (TCP RST)", a->addr.text, a->port);
		break;
	case MXT_CONN_UNREACHABLE:
		id = DIAG_CONNECT_UNREACHABLE;
		sb_printf(&ev, "%s port %d: %s", a->addr.text, a->port,
		    a->connect_errno != 0 ? strerror(a->connect_errno) : "unreachable");
		break;
	default:
		id = a->connect_errno == ECONNRESET ? DIAG_CONNECT_RESET : DIAG_CONNECT_ERROR;
		sb_printf(&ev, "%s port %d: %s", a->addr.text, a->port,
		    a->connect_errno != 0 ? strerror(a->connect_errno) : "connection failed");
		break;
	}
	idx = emit_a(c, a, id, &ev);
	decide(c, o, OUT_NEXT, id, idx, NULL, -1);
}

/* A step that ended without a usable reply. */
static void
step_failure(
    struct ctx *c, const struct mxt_attempt *a, const struct mxt_step *s, struct outcome *o)
{
	struct sb ev = {0};
	const char *what = s->command != NULL ? s->command : stage_label(s->stage);
	int banner = s->stage == MXT_STAGE_BANNER;
	enum diag id;
	unsigned fl = s->reply.flags;

	if (s->status == MXT_STEP_PROTOCOL || (fl & MXT_REPLY_F_FATAL)) {
		id = banner ? DIAG_BANNER_NOT_SMTP : DIAG_SMTP_PROTOCOL_VIOLATION;
		sb_printf(&ev, "reply to %s:", what);
		if (fl & MXT_REPLY_F_MALFORMED)
			sb_puts(&ev, " malformed line (no 3-digit code);");
		if (fl & MXT_REPLY_F_TOO_MANY_LINES)
			sb_printf(&ev, " more than %d lines;", MXT_REPLY_LINES_MAX);
		if (fl & MXT_REPLY_F_TOO_LARGE)
			sb_printf(&ev, " more than %d bytes;", MXT_REPLY_BYTES_MAX);
		if (fl & MXT_REPLY_F_UNTERMINATED)
			sb_puts(&ev, " line without end;");
		sb_puts(&ev, " ");
		sb_reply(&ev, &s->reply);
	} else if (s->status == MXT_STEP_TIMEOUT) {
		id = banner ? DIAG_BANNER_TIMEOUT : DIAG_SMTP_TIMEOUT;
		if (banner)
			sb_printf(&ev, "connected, but no greeting within %lld ms",
			    (long long)s->duration_ms);
		else
			sb_printf(
			    &ev, "no reply to %s within %lld ms", what, (long long)s->duration_ms);
		if (s->reply.nlines > 0) {
			sb_puts(&ev, "; partial reply: ");
			sb_reply(&ev, &s->reply);
		}
	} else {
		/* CLOSED, or a local socket error: the connection is gone. */
		id = banner ? DIAG_CONNECT_RESET : DIAG_SMTP_CONNECTION_LOST;
		if (banner)
			sb_printf(&ev, "%s port %d: the connection closed before any greeting",
			    a->addr.text, a->port);
		else
			sb_printf(&ev, "the connection closed after %s", what);
		if (s->status == MXT_STEP_ERROR && a->end_detail != NULL)
			sb_printf(&ev, " (%s)", a->end_detail);
		if (s->reply.nlines > 0) {
			sb_puts(&ev, "; partial reply: ");
			sb_reply(&ev, &s->reply);
		}
	}
	decide(c, o, OUT_NEXT, id, emit_a(c, a, id, &ev), s, -1);
}

/* Steps after index i other than RSET and QUIT: did the session go on? */
static int
session_went_on(const struct mxt_attempt *a, size_t i)
{
	size_t j;

	for (j = i + 1; j < a->nsteps; j++)
		if (a->steps[j].stage != MXT_STAGE_RSET && a->steps[j].stage != MXT_STAGE_QUIT)
			return 1;
	return 0;
}

static int
session_went_past(const struct mxt_attempt *a, enum mxt_stage st)
{
	size_t j;

	for (j = 0; j < a->nsteps; j++)
		if (a->steps[j].stage > st && a->steps[j].stage != MXT_STAGE_RSET &&
		    a->steps[j].stage != MXT_STAGE_QUIT)
			return 1;
	return 0;
}

/* Evidence for a refusal, naming the blocklist when the text does. */
static void
sb_refusal(struct sb *ev, enum diag id, const struct phrase *hit, const struct rtext *x,
    const struct mxt_reply *r)
{
	const struct phrase *p = hit;

	if (p == NULL || p->kind != PH_BLOCKLIST)
		p = phrase_find(PH_BLOCKLIST, x, NULL);
	if (p != NULL)
		sb_printf(ev, "listed by %s: ", p->label);
	else if (id != DIAG_RCPT_PTR_REQUIRED && phrase_find(PH_PTR_REQUIRED, x, NULL) != NULL)
		sb_puts(ev, "reverse DNS required: ");
	sb_reply(ev, r);
}

static void
classify_banner(struct ctx *c, const struct mxt_attempt *a, const struct mxt_step *s,
    const struct rtext *x, struct outcome *o)
{
	const struct mxt_reply *r = &s->reply;
	struct sb ev = {0};
	int listed;

	if (r->code / 100 == 2)
		return;
	listed = phrase_find(PH_BLOCKLIST, x, NULL) != NULL ||
	    phrase_find(PH_PTR_REQUIRED, x, NULL) != NULL;
	if (r->code / 100 == 5) {
		/* RFC 5321 §3.1: 554 greeting.  Postfix (smtp_skip_5xx_greeting)
		 * moves on to the next MX, so this is not a stop. */
		sb_refusal(&ev, DIAG_BANNER_REJECTED, NULL, x, r);
		decide(c, o, OUT_NEXT, DIAG_BANNER_REJECTED,
		    emit_a(c, a, DIAG_BANNER_REJECTED, &ev), s, 1);
	} else if (r->code / 100 == 4) {
		sb_refusal(&ev, DIAG_BANNER_BUSY, NULL, x, r);
		decide(c, o, OUT_NEXT, DIAG_BANNER_BUSY, emit_a(c, a, DIAG_BANNER_BUSY, &ev), s,
		    listed);
	} else {
		sb_puts(&ev, "greeting: ");
		sb_reply(&ev, r);
		decide(c, o, OUT_NEXT, DIAG_BANNER_NOT_SMTP,
		    emit_a(c, a, DIAG_BANNER_NOT_SMTP, &ev), s, -1);
	}
}

/* AUTH replies (RFC 4954 §6). */
static enum diag
auth_diag(const struct mxt_reply *r, const struct rtext *x)
{
	if (r->code == 538 || enh_is(r, "7.11") || phrase_find(PH_TLS_REQUIRED, x, NULL) != NULL)
		return DIAG_AUTH_TLS_REQUIRED;
	if (r->code == 504 || enh_is(r, "5.4") || enh_is(r, "7.9"))
		return DIAG_AUTH_MECHANISM_UNSUPPORTED;
	return DIAG_AUTH_FAILED;
}

static const struct mxt_step *
later_step(const struct mxt_attempt *a, size_t i, enum mxt_stage st)
{
	size_t j;

	for (j = i + 1; j < a->nsteps; j++)
		if (a->steps[j].stage == st)
			return &a->steps[j];
	return NULL;
}

/* One step that got a complete reply. */
static void
classify_reply(struct ctx *c, const struct mxt_attempt *a, size_t i, struct outcome *o)
{
	const struct mxt_step *s = &a->steps[i], *helo;
	const struct mxt_reply *r = &s->reply;
	const struct phrase *hit = NULL;
	struct rtext x;
	struct sb ev = {0};
	int cls = r->code / 100, idx;
	enum diag id;
	char qid[80];

	if (rtext_init(&x, r) != 0) {
		c->oom = 1;
		return;
	}
	if (s->stage == MXT_STAGE_BANNER) {
		classify_banner(c, a, s, &x, o);
		goto done;
	}
	if (r->code < 200 || r->code > 599) {
		/* RFC 5321 §4.2: codes outside 2xx-5xx are a violation. */
		sb_printf(
		    &ev, "reply to %s: ", s->command != NULL ? s->command : stage_label(s->stage));
		sb_reply(&ev, r);
		decide(c, o, OUT_NEXT, DIAG_SMTP_PROTOCOL_VIOLATION,
		    emit_a(c, a, DIAG_SMTP_PROTOCOL_VIOLATION, &ev), s, -1);
		goto done;
	}
	switch (s->stage) {
	case MXT_STAGE_EHLO:
		if (cls == 2)
			break;
		helo = later_step(a, i, MXT_STAGE_HELO);
		if (helo != NULL) {
			/* RFC 5321 §4.1.4: fall back to HELO; HELO decides. */
			if (helo->status == MXT_STEP_REPLIED && helo->reply.code / 100 == 2) {
				sb_puts(&ev, "EHLO: ");
				sb_reply(&ev, r);
				sb_puts(&ev, " / HELO: ");
				sb_reply(&ev, &helo->reply);
				emit_a(c, a, DIAG_EHLO_HELO_ONLY, &ev);
			}
			break;
		}
		/* fall through */
	case MXT_STAGE_HELO:
	case MXT_STAGE_EHLO_TLS:
	case MXT_STAGE_MAIL:
	case MXT_STAGE_RCPT:
	case MXT_STAGE_DATA:
	case MXT_STAGE_DATA_END:
		if (cls == 2 || (s->stage == MXT_STAGE_DATA && cls == 3)) {
			if (s->stage == MXT_STAGE_RCPT || s->stage == MXT_STAGE_DATA_END)
				o->accept = s;
			if (s->stage == MXT_STAGE_DATA_END) {
				queue_id(&x, qid, sizeof(qid));
				if (qid[0] != '\0')
					sb_printf(&ev, "queue id %s: ", qid);
				sb_reply(&ev, r);
				emit_a(c, a, DIAG_DATA_ACCEPTED, &ev);
			}
			break;
		}
		if (cls == 3) {
			/* 354 anywhere but DATA: the server lost track. */
			sb_printf(&ev, "reply to %s: ", stage_label(s->stage));
			sb_reply(&ev, r);
			decide(c, o, OUT_NEXT, DIAG_SMTP_PROTOCOL_VIOLATION,
			    emit_a(c, a, DIAG_SMTP_PROTOCOL_VIOLATION, &ev), s, -1);
			break;
		}
		/* A pipelined RCPT answered after a refused MAIL (503 "sender
		 * not yet given") only echoes that refusal. */
		if (s->stage == MXT_STAGE_RCPT) {
			const struct mxt_step *m = mxt_attempt_step(a, MXT_STAGE_MAIL);

			if (m != NULL &&
			    (m->status != MXT_STEP_REPLIED || m->reply.code / 100 != 2))
				break;
		}
		id = reply_diag(r, s->stage, &x, &hit);
		sb_refusal(&ev, id, hit, &x, r);
		idx = emit_a(c, a, id, &ev);
		/* RFC 5321 §4.2.1: 5yz is permanent, 4yz transient. */
		decide(c, o, cls == 5 ? OUT_STOP : OUT_NEXT, id, idx, s, -1);
		break;
	case MXT_STAGE_STARTTLS:
		if (cls == 2)
			break;
		sb_reply(&ev, r);
		idx = emit_a(c, a, DIAG_TLS_STARTTLS_REFUSED, &ev);
		if (!session_went_on(a, i))
			decide(c, o, OUT_NEXT, DIAG_TLS_STARTTLS_REFUSED, idx, s, -1);
		break;
	case MXT_STAGE_AUTH:
		if (cls == 2 || cls == 3)
			break;
		id = auth_diag(r, &x);
		sb_reply(&ev, r);
		decide(c, o, cls == 5 ? OUT_STOP : OUT_NEXT, id, emit_a(c, a, id, &ev), s, -1);
		break;
	default:
		break;
	}
done:
	rtext_free(&x);
}

/* Is this name one of the server's AUTH mechanisms (ASCII, any case)? */
static int
caps_has_mech(const struct mxt_caps *k, const char *mech)
{
	size_t i;

	for (i = 0; i < k->nauth; i++)
		if (k->auth[i] != NULL && strcasecmp(k->auth[i], mech) == 0)
			return 1;
	return 0;
}

static void
sb_keywords(struct sb *ev, const struct mxt_caps *k)
{
	size_t i;

	for (i = 0; i < k->nkeywords; i++) {
		if (i > 0)
			sb_puts(ev, ", ");
		if (k->keywords[i].p != NULL)
			sb_putn(ev, k->keywords[i].p, k->keywords[i].len);
	}
	if (k->nkeywords == 0)
		sb_puts(ev, "(no keywords)");
}

static int
caps_masked(const struct mxt_caps *k)
{
	size_t i;

	/* Cisco ESMTP inspection masks keywords it dislikes as XXXX. */
	for (i = 0; i < k->nkeywords; i++)
		if (k->keywords[i].p != NULL && k->keywords[i].len >= 4 &&
		    strncmp(k->keywords[i].p, "XXXX", 4) == 0)
			return 1;
	return 0;
}

/* TLS facts (RFC 3207, RFC 8996) and the certificate. */
static void
classify_tls(struct ctx *c, const struct mxt_attempt *a, struct outcome *o)
{
	const struct mxt_tls *tls = &a->tls;
	const struct mxt_caps *plain = a->have_caps_plain ? &a->caps_plain
	    : a->have_caps				  ? &a->caps
							  : NULL;
	const struct mxt_exchanger *x =
	    a->mx_index < c->t->dns.nmx ? &c->t->dns.mx[a->mx_index] : NULL;
	enum mxt_starttls_mode mode = c->cfg != NULL ? c->cfg->starttls : MXT_STARTTLS_AUTO;
	int warn_days = c->cfg != NULL ? c->cfg->cert_warn_days : MXT_CERT_WARN_DAYS_DEFAULT;
	int ended = !session_went_past(a, MXT_STAGE_TLS);
	struct sb ev = {0};
	size_t i;
	int idx, expired = 0;

	if (plain != NULL && !tls->attempted && a->mode != MXT_MODE_SMTPS &&
	    mode != MXT_STARTTLS_NEVER && !(plain->flags & MXT_CAP_STARTTLS)) {
		sb_puts(&ev, "EHLO offers: ");
		sb_keywords(&ev, plain);
		sb_puts(&ev, " (no STARTTLS)");
		if (caps_masked(plain))
			sb_puts(
			    &ev, "; keywords masked as XXXX point at a firewall's SMTP inspection");
		emit_a(c, a, DIAG_TLS_NOT_OFFERED, &ev);
	}
	if (tls->injection) {
		sb_puts(&ev,
		    "plaintext bytes followed the 220 reply to STARTTLS (RFC 3207 section 4.2)");
		idx = emit_a(c, a, DIAG_TLS_STARTTLS_INJECTION, &ev);
		if (ended)
			decide(c, o, OUT_NEXT, DIAG_TLS_STARTTLS_INJECTION, idx, NULL, -1);
	}
	if (tls->attempted && !tls->ok) {
		sb_puts(&ev, tls->error != NULL ? tls->error : "the TLS handshake failed");
		if (tls->duration_ms > 0)
			sb_printf(&ev, " (after %lld ms)", (long long)tls->duration_ms);
		idx = emit_a(c, a, DIAG_TLS_HANDSHAKE_FAILED, &ev);
		if (ended || a->end == MXT_END_TLS)
			decide(c, o, OUT_NEXT, DIAG_TLS_HANDSHAKE_FAILED, idx, NULL, -1);
	}
	if (!tls->ok)
		return;
	if (tls->version != NULL &&
	    (strcmp(tls->version, "TLSv1") == 0 || strcmp(tls->version, "TLSv1.1") == 0 ||
		strcmp(tls->version, "SSLv3") == 0)) {
		sb_printf(&ev, "negotiated %s", tls->version);
		if (tls->cipher != NULL)
			sb_printf(&ev, " with %s", tls->cipher);
		emit_a(c, a, DIAG_TLS_OLD_PROTOCOL, &ev);
	}
	if (!tls->have_cert)
		return;
	/* days_left is meaningful only when notAfter was read. */
	if (tls->verify_code == X509_V_ERR_CERT_HAS_EXPIRED ||
	    (tls->not_after != NULL && tls->days_left < 0)) {
		expired = 1;
		sb_printf(&ev, "certificate %s expired on %s (%d day(s) ago)",
		    tls->subject != NULL ? tls->subject : "",
		    tls->not_after != NULL ? tls->not_after : "?",
		    tls->days_left < 0 ? -tls->days_left : 0);
		emit_a(c, a, DIAG_TLS_CERT_EXPIRED, &ev);
	} else if (tls->verify_code == X509_V_ERR_CERT_NOT_YET_VALID) {
		sb_printf(&ev, "certificate %s is valid from %s",
		    tls->subject != NULL ? tls->subject : "",
		    tls->not_before != NULL ? tls->not_before : "?");
		emit_a(c, a, DIAG_TLS_CERT_NOT_YET_VALID, &ev);
	} else if (tls->not_after != NULL && tls->days_left < warn_days) {
		sb_printf(&ev, "certificate %s expires on %s, in %d day(s)",
		    tls->subject != NULL ? tls->subject : "",
		    tls->not_after != NULL ? tls->not_after : "?", tls->days_left);
		emit_a(c, a, DIAG_TLS_CERT_EXPIRING, &ev);
	}
	/* Only a name that was checked can mismatch (an IP-literal MX or an
	 * address given to --server has none). */
	if (((tls->peer_name != NULL && !tls->name_ok) ||
		tls->verify_code == X509_V_ERR_HOSTNAME_MISMATCH) &&
	    !(x != NULL && (x->flags & MXT_XF_IP_LITERAL))) {
		sb_printf(&ev, "checked against %s; the certificate names ",
		    tls->peer_name != NULL ? tls->peer_name : attempt_host(c->t, a));
		for (i = 0; i < tls->nsan; i++)
			sb_printf(
			    &ev, "%s%s", i > 0 ? ", " : "", tls->san[i] != NULL ? tls->san[i] : "");
		if (tls->nsan == 0)
			sb_puts(&ev, tls->subject != NULL ? tls->subject : "nothing");
		emit_a(c, a, DIAG_TLS_CERT_NAME_MISMATCH, &ev);
	}
	if (!tls->chain_ok && !expired && tls->verify_code != X509_V_OK &&
	    tls->verify_code != X509_V_ERR_CERT_NOT_YET_VALID &&
	    tls->verify_code != X509_V_ERR_HOSTNAME_MISMATCH) {
		sb_printf(&ev, "verify error %ld: %s", tls->verify_code,
		    tls->verify_error != NULL ? tls->verify_error : "certificate not trusted");
		if (tls->issuer != NULL)
			sb_printf(&ev, "; issuer %s", tls->issuer);
		emit_a(c, a, DIAG_TLS_CERT_UNTRUSTED, &ev);
	}
}

/* What the EHLO capabilities say against what the user asked for. */
static void
classify_caps(struct ctx *c, const struct mxt_attempt *a)
{
	const struct mxt_config *cfg = c->cfg;
	const struct mxt_caps *k = a->have_caps ? &a->caps : NULL;
	struct sb ev = {0};
	size_t i;
	int has_auth_step = 0;

	if (k == NULL || cfg == NULL)
		return;
	for (i = 0; i < a->nsteps; i++)
		if (a->steps[i].stage == MXT_STAGE_AUTH)
			has_auth_step = 1;
	if (cfg->user != NULL && *cfg->user != '\0' && !has_auth_step) {
		if (!(k->flags & MXT_CAP_AUTH)) {
			sb_puts(&ev, "EHLO offers: ");
			sb_keywords(&ev, k);
			sb_puts(&ev, " (no AUTH)");
			emit_a(c, a, DIAG_AUTH_NOT_OFFERED, &ev);
		} else if (cfg->auth_mech != NULL && *cfg->auth_mech != '\0' &&
		    !caps_has_mech(k, cfg->auth_mech)) {
			sb_printf(&ev, "asked for %s; the server offers", cfg->auth_mech);
			for (i = 0; i < k->nauth; i++)
				sb_printf(&ev, " %s", k->auth[i] != NULL ? k->auth[i] : "");
			emit_a(c, a, DIAG_AUTH_MECHANISM_UNSUPPORTED, &ev);
		}
	}
	/* RFC 1870 §6: a declared size over the limit is refused at MAIL. */
	if (cfg->size > 0 && (k->flags & MXT_CAP_SIZE) && k->size > 0 && cfg->size > k->size) {
		sb_printf(&ev, "the message is %llu bytes; the server's SIZE limit is %llu",
		    (unsigned long long)cfg->size, (unsigned long long)k->size);
		emit_a(c, a, DIAG_SIZE_EXCEEDED, &ev);
	}
}

/* Reply oddities that do not stop the session (Postfix tolerates them). */
static void
classify_quirks(struct ctx *c, const struct mxt_attempt *a)
{
	unsigned fl = 0;
	size_t i;
	int malformed_caps;
	struct sb ev = {0};

	for (i = 0; i < a->nsteps; i++)
		fl |= a->steps[i].reply.flags;
	fl &= ~(unsigned)MXT_REPLY_F_FATAL;
	malformed_caps = (a->have_caps && (a->caps.malformed || a->caps.size_malformed)) ||
	    (a->have_caps_plain && (a->caps_plain.malformed || a->caps_plain.size_malformed));
	if (fl == 0 && !malformed_caps)
		return;
	sb_puts(&ev, "seen:");
	if (fl & MXT_REPLY_F_LINE_OVER_RFC)
		sb_printf(
		    &ev, " lines over %d octets (RFC 5321 section 4.5.3.1.5);", MXT_REPLY_LINE_RFC);
	if (fl & MXT_REPLY_F_LINE_TRUNCATED)
		sb_printf(&ev, " lines over %d octets, cut;", MXT_REPLY_LINE_MAX);
	if (fl & MXT_REPLY_F_CODE_MISMATCH)
		sb_puts(&ev, " different codes within one reply;");
	if (fl & MXT_REPLY_F_BARE_LF)
		sb_puts(&ev, " lines ending in a bare LF;");
	if (fl & MXT_REPLY_F_CTRL_BYTES)
		sb_puts(&ev, " control bytes in reply text;");
	if (fl & MXT_REPLY_F_ENH_MISMATCH)
		sb_puts(&ev, " enhanced status codes of the wrong class;");
	if (malformed_caps)
		sb_puts(&ev, " malformed EHLO keywords;");
	emit_a(c, a, DIAG_SMTP_NONSTANDARD_REPLY, &ev);
}

/* How the attempt ended, when no step decided it. */
static void
classify_end(struct ctx *c, const struct mxt_attempt *a, struct outcome *o)
{
	static const enum diag local_tls[] = {DIAG_TLS_NOT_OFFERED, DIAG_TLS_STARTTLS_REFUSED,
	    DIAG_AUTH_NOT_OFFERED, DIAG_AUTH_MECHANISM_UNSUPPORTED, DIAG_SIZE_EXCEEDED};
	static const enum diag local_auth[] = {DIAG_AUTH_NOT_OFFERED,
	    DIAG_AUTH_MECHANISM_UNSUPPORTED, DIAG_TLS_NOT_OFFERED, DIAG_TLS_STARTTLS_REFUSED,
	    DIAG_SIZE_EXCEEDED};
	static const enum diag local_size[] = {DIAG_SIZE_EXCEEDED, DIAG_TLS_NOT_OFFERED,
	    DIAG_TLS_STARTTLS_REFUSED, DIAG_AUTH_NOT_OFFERED, DIAG_AUTH_MECHANISM_UNSUPPORTED};
	const enum diag *local;
	struct sb ev = {0};
	enum diag id;
	size_t i;

	if (o->diag >= 0)
		return;
	if (o->accept != NULL) {
		o->kind = OUT_OK;
		return;
	}
	switch (a->end) {
	case MXT_END_NONE:
	case MXT_END_OK:
		/* --quit-after before RCPT: the planned stages all worked. */
		o->kind = OUT_OK;
		return;
	case MXT_END_LOCAL:
		/* mxtrace refused to go on: a sender with the same policy could
		 * not deliver either.  The stage it stopped at names the cause
		 * first. */
		local = a->end_stage == MXT_STAGE_AUTH ? local_auth
		    : a->end_stage >= MXT_STAGE_MAIL   ? local_size
						       : local_tls;
		for (i = 0; i < sizeof(local_tls) / sizeof(local_tls[0]); i++) {
			if (c->seen[local[i]] != 0) {
				decide(c, o, OUT_NEXT, local[i], c->seen[local[i]] - 1, NULL, 1);
				return;
			}
		}
		id = DIAG_SMTP_ABORTED_LOCALLY;
		break;
	case MXT_END_TLS:
		id = DIAG_TLS_HANDSHAKE_FAILED;
		break;
	case MXT_END_TIMEOUT:
	case MXT_END_DEADLINE:
		id = DIAG_SMTP_TIMEOUT;
		break;
	case MXT_END_PROTOCOL:
		id = DIAG_SMTP_PROTOCOL_VIOLATION;
		break;
	case MXT_END_CONNECT:
		id = DIAG_CONNECT_ERROR;
		break;
	default:
		id = DIAG_SMTP_CONNECTION_LOST;
		break;
	}
	sb_printf(&ev, "the session ended at %s", stage_label(a->end_stage));
	if (a->end == MXT_END_DEADLINE)
		sb_puts(&ev, ": the overall deadline was reached");
	if (a->end_detail != NULL)
		sb_printf(&ev, " (%s)", a->end_detail);
	decide(c, o, OUT_NEXT, id, emit_a(c, a, id, &ev), NULL, a->end == MXT_END_LOCAL ? 1 : -1);
}

static void
classify_attempt(struct ctx *c, const struct mxt_attempt *a, struct outcome *o)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	o->diag = -1;
	o->finding = -1;
	if (a->canary || a->connect == MXT_CONN_NOT_TRIED) {
		o->kind = OUT_SKIP;
		return;
	}
	scope_reset(c);
	o->kind = OUT_NEXT;
	if (a->connect != MXT_CONN_OK) {
		classify_connect(c, a, o);
		return;
	}
	for (i = 0; i < a->nsteps; i++) {
		const struct mxt_step *s = &a->steps[i];

		if (s->stage == MXT_STAGE_QUIT || s->stage == MXT_STAGE_RSET ||
		    s->stage == MXT_STAGE_TLS || s->stage == MXT_STAGE_CONNECT)
			continue;
		if (s->status != MXT_STEP_REPLIED || (s->reply.flags & MXT_REPLY_F_FATAL))
			step_failure(c, a, s, o);
		else
			classify_reply(c, a, i, o);
	}
	classify_tls(c, a, o);
	classify_caps(c, a);
	classify_quirks(c, a);
	classify_end(c, a, o);
}

/* ---- the verdict ---- */

static void
sb_where(struct sb *b, const struct mxt_target *t, const struct mxt_attempt *a)
{
	const char *n = mx_name(t, a);

	if (n != NULL)
		sb_printf(b, "%s (%s)", n, a->addr.text);
	else
		sb_puts(b, a->addr.text);
}

/* "mx1.example.test (192.0.2.1) rejects RCPT TO: 550 5.1.1 ..." or the
 * title of the deciding code. */
static void
sb_failure(struct sb *b, struct ctx *c, const struct mxt_attempt *a, const struct outcome *o)
{
	const struct mxt_step *s = o->step;

	sb_where(b, c->t, a);
	if (s != NULL && s->status == MXT_STEP_REPLIED && s->reply.code >= 400) {
		if (s->stage == MXT_STAGE_BANNER)
			sb_printf(b, " %s the connection: ",
			    s->reply.code >= 500 ? "refuses" : "turns away");
		else
			sb_printf(b, " %s %s: ", s->reply.code >= 500 ? "rejects" : "defers",
			    stage_label(s->stage));
		sb_reply_first(b, &s->reply);
	} else if (o->diag >= 0) {
		sb_printf(b, ": %s", c->cat[o->diag].title);
	}
}

/* The last stage the session reached, RSET and QUIT aside. */
static enum mxt_stage
last_stage(const struct mxt_attempt *a)
{
	size_t i;

	for (i = a->nsteps; i > 0; i--)
		if (a->steps[i - 1].stage != MXT_STAGE_RSET &&
		    a->steps[i - 1].stage != MXT_STAGE_QUIT)
			return a->steps[i - 1].stage;
	return MXT_STAGE_CONNECT;
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

static int
usable(const struct mxt_exchanger *x)
{
	return !(x->flags & (MXT_XF_NULL | MXT_XF_INVALID_NAME | MXT_XF_OVER_LIMIT));
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
			if (a->connect != MXT_CONN_OK && !(c->eg.blocked && is_port25(a))) {
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
static void
verdict(struct ctx *c, const struct outcome *out)
{
	struct mxt_target *t = c->t;
	const struct mxt_dns *d = &t->dns;
	const char *dom = target_domain(t);
	struct walk w = {-1, -1, -1, -1, 0, 0, 0, 0};
	struct sb sum = {0}, ev = {0};
	enum mxt_status status = MXT_STATUS_UNKNOWN;
	enum diag code = DIAG_DELIVERY_INCONCLUSIVE;
	const struct mxt_attempt *va = NULL, *fa = NULL;
	const struct outcome *fo = NULL;
	const char *host = NULL, *better = NULL;
	size_t i, k, nusable = 0;
	int any_addr = 0, dns_inconclusive = 0, nwarn, src = -1;

	scope_reset(c);
	if (d->q_mx.status == MXT_DNS_NXDOMAIN) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain does not exist (NXDOMAIN)", dom);
		src = c->seen[DIAG_DNS_DOMAIN_NXDOMAIN] - 1;
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NULL) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain publishes a null MX (RFC 7505) and "
		    "accepts no mail",
		    dom);
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NONE && dns_failure_diag(d->q_mx.status) >= 0) {
		sb_printf(&sum,
		    "cannot tell whether mail to %s can be delivered: the MX lookup failed (%s)",
		    dom, dns_status_text(d->q_mx.status));
		goto out;
	}
	if (d->source == MXT_MX_SOURCE_NONE && d->q_mx.status == MXT_DNS_NODATA && d->nmx == 0) {
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		sb_printf(&sum,
		    "mail to %s cannot be delivered: the domain has neither MX nor A/AAAA records",
		    dom);
		goto out;
	}

	for (i = 0; i < d->nmx && w.ok < 0 && w.stop < 0; i++) {
		if (!usable(&d->mx[i]))
			continue;
		nusable++;
		if (d->mx[i].naddrs > 0)
			any_addr = 1;
		if (exchanger_inconclusive(&d->mx[i]))
			dns_inconclusive = 1;
		walk_attempts(c, out, i, 0, &w);
	}
	if (w.ok < 0 && w.stop < 0)
		walk_attempts(c, out, 0, 1, &w); /* attempts with no exchanger */

	if (w.ok >= 0) {
		va = &t->attempts[w.ok];
		host = attempt_host(t, va);
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
			sb_printf(&sum, "mail to %s is accepted by ", dom);
			sb_where(&sum, t, va);
		} else {
			sb_printf(&sum, "mail to %s: ", dom);
			sb_where(&sum, t, va);
			sb_printf(&sum, " works as far as tested (up to %s)",
			    stage_label(va->end == MXT_END_OK ? va->end_stage : last_stage(va)));
		}
		if (better != NULL)
			sb_printf(&sum, ", but only after %s failed", better);
		else if (nwarn > 0)
			sb_printf(&sum, " (with %d warning%s)", nwarn, nwarn == 1 ? "" : "s");
		if (out[w.ok].accept != NULL)
			sb_reply(&ev, &out[w.ok].accept->reply);
		goto out;
	}
	if (w.stop >= 0) {
		fa = &t->attempts[w.stop];
		fo = &out[w.stop];
		status = MXT_STATUS_CRITICAL;
		code = DIAG_DELIVERY_IMPOSSIBLE;
		sb_printf(&sum, "mail to %s cannot be delivered: ", dom);
		sb_failure(&sum, c, fa, fo);
		goto out;
	}
	if (c->eg.blocked) {
		sb_printf(&sum,
		    "cannot tell whether %s accepts mail: this network blocks outbound port 25",
		    dom);
		if (c->eg.canary != NULL) {
			sb_printf(&sum, " (port %d of ", c->eg.canary->port);
			sb_where(&sum, t, c->eg.canary);
			sb_puts(&sum, " connected)");
		}
		host = c->eg.canary != NULL ? mx_name(t, c->eg.canary) : NULL;
		src = c->eg.finding;
		goto out;
	}
	if (w.attempted == 0) {
		if (nusable == 0) {
			status = MXT_STATUS_CRITICAL;
			code = DIAG_DELIVERY_IMPOSSIBLE;
			sb_printf(&sum, "mail to %s cannot be delivered: no usable MX host", dom);
		} else if (!any_addr && dns_inconclusive) {
			sb_printf(&sum,
			    "cannot tell whether mail to %s can be delivered: the MX hosts' "
			    "addresses "
			    "could not be looked up",
			    dom);
		} else if (!any_addr) {
			status = MXT_STATUS_CRITICAL;
			code = DIAG_DELIVERY_IMPOSSIBLE;
			sb_printf(
			    &sum, "mail to %s cannot be delivered: no MX host has an address", dom);
		} else {
			sb_printf(&sum,
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
		sb_printf(&sum, "cannot tell yet whether mail to %s will be delivered: ", dom);
		sb_failure(&sum, c, fa, fo);
		goto out;
	}
	status = MXT_STATUS_CRITICAL;
	code = DIAG_DELIVERY_IMPOSSIBLE;
	fa = w.first_blocking >= 0 ? &t->attempts[w.first_blocking] : NULL;
	fo = w.first_blocking >= 0 ? &out[w.first_blocking] : NULL;
	sb_printf(&sum, "mail to %s cannot be delivered: ", dom);
	if (w.connect_fail == w.attempted && w.refused == w.attempted)
		sb_puts(&sum, "every MX refuses connections");
	else if (w.connect_fail == w.attempted && w.timedout == w.attempted)
		sb_puts(&sum, "every MX times out (a firewall drops the packets)");
	else if (w.connect_fail == w.attempted)
		sb_puts(&sum, "no MX accepts connections");
	else if (fa != NULL)
		sb_failure(&sum, c, fa, fo);
	else
		sb_puts(&sum, "no MX host completes a session");

out:
	if (fa != NULL) {
		host = attempt_host(t, fa);
		if (fo->finding >= 0)
			src = fo->finding;
	}
	if (ev.len == 0 && src >= 0 && (size_t)src < t->nfindings &&
	    t->findings[src].evidence != NULL)
		sb_puts(&ev, t->findings[src].evidence);
	if (ev.len == 0 && sum.p != NULL)
		sb_puts(&ev, sum.p);
	emit(c, code, host != NULL ? host : dom,
	    va != NULL	     ? va->addr.text
		: fa != NULL ? fa->addr.text
			     : NULL,
	    &ev);

	free(t->verdict.summary);
	free(t->verdict.via);
	t->verdict.status = status;
	t->verdict.summary = sb_take(&sum);
	if (t->verdict.summary == NULL)
		c->oom = 1;
	t->verdict.via = NULL;
	if (va != NULL)
		t->verdict.via = dup_or_null(c, attempt_host(t, va));
}

int
mxt_classify(struct mxt_target *t, const struct mxt_config *cfg)
{
	struct ctx *c;
	struct outcome *out = NULL;
	size_t i, ncat;
	int rc;

	if (t == NULL)
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->t = t;
	c->cfg = cfg;
	c->cat = mxt_diagnoses(&ncat);
	if (ncat != DIAG_COUNT) {
		free(c);
		return -1;
	}
	if (t->nattempts > 0) {
		out = calloc(t->nattempts, sizeof(*out));
		if (out == NULL) {
			free(c);
			return -1;
		}
	}
	classify_dns(c);
	classify_client(c);
	egress_detect(c);
	if (c->eg.blocked)
		emit_egress(c);
	for (i = 0; i < t->nattempts; i++)
		classify_attempt(c, &t->attempts[i], &out[i]);
	verdict(c, out);
	rc = c->oom ? -1 : 0;
	free(out);
	free(c);
	return rc;
}

/* Exit status by the worst verdict (Nagios conventions, in the order of
 * monitoring-plugins' max_state_alt(): critical > warning > unknown > ok). */
int
mxt_exit_code(struct mxt_target *const *targets, size_t n)
{
	static const int rank[] = {[MXT_STATUS_OK] = 0,
	    [MXT_STATUS_UNKNOWN] = 1,
	    [MXT_STATUS_WARNING] = 2,
	    [MXT_STATUS_CRITICAL] = 3};
	static const int code[] = {0, 3, 1, 2};
	int worst = -1, r;
	size_t i;

	for (i = 0; i < n; i++) {
		if (targets[i] == NULL)
			continue;
		if ((unsigned)targets[i]->verdict.status > MXT_STATUS_UNKNOWN)
			r = rank[MXT_STATUS_UNKNOWN];
		else
			r = rank[targets[i]->verdict.status];
		if (r > worst)
			worst = r;
	}
	if (worst < 0)
		return 3; /* nothing was judged */
	return code[worst];
}
