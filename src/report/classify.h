/* SPDX-License-Identifier: MIT */
/*
 * Private to src/report: what the classifier's files share.  The classifier
 * reads one filled record and writes only its findings and verdict:
 *   classify.c    the driver, mxt_classify(): the order of the passes
 *   evidence.c    capped evidence strings and appending findings
 *   policy.c      reply policy: phrases.def and RFC 3463 codes -> diagnosis
 *   dns_client.c  DNS findings (per target, per exchanger) and the client's
 *                 identity (PTR, EHLO name)
 *   egress.c      outbound port 25 blocked by the client's own network
 *   attempt.c     one probe attempt: its steps, TLS, capabilities, end
 *   transport.c   DANE, MTA-STS and TLS-RPT judged as enforcing senders would
 *   verdict.c     the RFC 5321 §5.1 walk over the exchangers; exit status
 * Nothing here is used outside src/report.
 */
#ifndef MXTRACE_REPORT_CLASSIFY_H
#define MXTRACE_REPORT_CLASSIFY_H

#include <stddef.h>

#include "mxtrace/config.h"
#include "mxtrace/limits.h"
#include "mxtrace/record.h"
#include "mxtrace/report.h"
#include "mxtrace/reputation.h"

/* Bytes of raw evidence kept per finding (MXT_FIELD_TEXT_MAX, limits.h). */
#define EVIDENCE_MAX MXT_FIELD_TEXT_MAX
/* Bytes of a reply line quoted in the one-line summary. */
#define SUMMARY_QUOTE_MAX 200

enum diag {
#define MXT_DIAG(id, code, sev, stage, title, hint) DIAG_##id,
#include "diagnoses.def"
#undef MXT_DIAG
	DIAG_COUNT,
	DIAG_NONE = -1 /* no code decided (also makes the enum signed, like int) */
};

enum phrase_kind {
	PH_DMARC,
	PH_SPF,
	PH_DKIM,
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
	PH_QUEUE_ID_BEFORE,
	PH_PERSISTENT
};

struct phrase {
	enum phrase_kind kind;
	const char *needle; /* lower-case ASCII */
	const char *label;
};

/* ---- evidence: growing strings, capped (evidence.c) ---- */

struct sb {
	char *p;
	size_t len, cap;
	int oom;
	int cut; /* hit EVIDENCE_MAX: "..." is appended on take */
};

/* ---- reply policy: reply text and the phrase table (policy.c) ---- */

/* A reply's lines joined by spaces, raw and ASCII-lower-cased, NULs made
 * spaces so that strstr() sees the whole text. */
struct rtext {
	char *raw;
	char *low;
	size_t len;
};

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
	/* The reference check (--egress-check): how many references there
	 * were and how many timed out; the first that connected, or NULL. */
	size_t nref, nref_timeout;
	const struct mxt_egress_ref *ref_open;
};

struct ctx {
	struct mxt_target *t;
	const struct mxt_diagnosis *cat;
	int oom;
	int seen[DIAG_COUNT]; /* finding index + 1, per code, in the current scope */
	struct egress eg;
};

/* ---- evidence.c ---- */

/* Append to b; on ENOMEM b->oom is set and later calls do nothing. */
void mxt_sb_putn(struct sb *b, const char *s, size_t n);
void mxt_sb_puts(struct sb *b, const char *s);
void mxt_sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mxt_sb_free(struct sb *b);
/* Hand out the string (heap, the caller owns it); NULL on ENOMEM. */
char *mxt_sb_take(struct sb *b);
void mxt_sb_reply(struct sb *b, const struct mxt_reply *r);
/* A count of whole days in words: "1 day", "30 days", "less than a day". */
void mxt_sb_days(struct sb *b, int days);
void mxt_sb_reply_first(struct sb *b, const struct mxt_reply *r);
void mxt_sb_where(struct sb *b, const struct mxt_target *t, const struct mxt_attempt *a);
/* Forget which codes the current scope (target, exchanger, attempt) has. */
void mxt_scope_reset(struct ctx *c);
/* A heap copy of s, NULL for NULL or "" (the caller owns it). */
char *mxt_dup_or_null(const char *s);
int mxt_emit(struct ctx *c, enum diag id, const char *host, const char *address, struct sb *ev);
int mxt_emit_a(struct ctx *c, const struct mxt_attempt *a, enum diag id, struct sb *ev);
const char *mxt_target_domain(const struct mxt_target *t);
const char *mxt_mx_name(const struct mxt_target *t, const struct mxt_attempt *a);
const char *mxt_attempt_host(const struct mxt_target *t, const struct mxt_attempt *a);

/* ---- policy.c ---- */

/* Build x from r (heap; free with mxt_rtext_free()). */
void mxt_rtext_init(struct rtext *x, const struct mxt_reply *r);
void mxt_rtext_free(struct rtext *x);
const struct phrase *mxt_phrase_find(enum phrase_kind kind, const struct rtext *x, size_t *at);
enum diag mxt_reply_diag(const struct mxt_reply *r, enum mxt_stage stage, const struct rtext *x,
    const struct phrase **hit);
enum diag mxt_auth_diag(const struct mxt_reply *r, const struct rtext *x);
void mxt_queue_id(const struct rtext *x, char *out, size_t outsz);
void mxt_sb_refusal(struct sb *ev, enum diag id, const struct phrase *hit, const struct rtext *x,
    const struct mxt_reply *r);
/* Would the same reply come again on retry?  1 for a 5xx, and for a 4xx
 * whose code or text says the cause is configuration (docs/diagnoses.md,
 * "Transient and persistent 4xx"); 0 for greylisting, rate limits and
 * other "try again later" replies. */
int mxt_reply_persistent(const struct mxt_reply *r, enum diag id, const struct rtext *x);

/* ---- dns_client.c ---- */

int mxt_dns_failure_diag(enum mxt_dns_status s);
int mxt_exchanger_inconclusive(const struct mxt_exchanger *x);
void mxt_classify_dns(struct ctx *c);
void mxt_classify_client(struct ctx *c);

/* ---- egress.c ---- */

void mxt_egress_detect(struct ctx *c);
void mxt_egress_emit(struct ctx *c);
void mxt_egress_emit_open(struct ctx *c);
/* True if the egress finding already explains this attempt's failure. */
int mxt_egress_explains(const struct ctx *c, const struct mxt_attempt *a);

/* ---- attempt.c ---- */

void mxt_classify_attempt(struct ctx *c, const struct mxt_attempt *a, struct outcome *o);

/* ---- reputation_findings.c ---- */

/* client.dnsbl_*, sender.spf_*, sender.dmarc_* from the record. */
void mxt_classify_reputation(struct ctx *c);
/* The list a refusal's text names (src/reputation/blocklists.def), put on
 * finding idx as its list and lookup page for the client's address. */
void mxt_blocklist_mark(struct ctx *c, int idx, const struct rtext *x, const struct mxt_attempt *a);

/* ---- transport.c: DANE, MTA-STS, TLS-RPT ---- */

/* Findings, verdict.dane and verdict.mta_sts (before the delivery verdict,
 * so their severities count). */
void mxt_classify_transport(struct ctx *c);
/* After the delivery verdict: critical when an enforcing sender defers. */
void mxt_transport_verdict(struct ctx *c);

/* ---- verdict.c ---- */

void mxt_classify_verdict(struct ctx *c, const struct outcome *out);

#endif
