/* SPDX-License-Identifier: MIT */
/*
 * Reply policy: what a server's reply text and code mean.  The phrase
 * table (phrases.def) with the reply code and the RFC 3463 enhanced code
 * map a 4xx/5xx to a diagnosis, name a blocklist, and find the queue id in
 * the reply to the end of DATA.  Pure functions of the reply; the passes
 * that decide when a reply matters live in attempt.c.
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/reputation.h"
#include "mxtrace/xalloc.h"

#include "classify.h"

static const struct phrase phrases[] = {
#define MXT_PHRASE(kind, needle, label) {PH_##kind, needle, label},
#include "phrases.def"
#undef MXT_PHRASE
};

void
mxt_rtext_init(struct rtext *x, const struct mxt_reply *r)
{
	size_t i, j, n = 0;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < r->nlines; i++)
		n += r->lines[i].len + 1;
	x->raw = mxt_xmalloc(n + 1);
	x->low = mxt_xmalloc(n + 1);
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
}

void
mxt_rtext_free(struct rtext *x)
{
	free(x->raw);
	free(x->low);
	memset(x, 0, sizeof(*x));
}

/* The first entry of a kind found in the text; its offset in *at. */
const struct phrase *
mxt_phrase_find(enum phrase_kind kind, const struct rtext *x, size_t *at)
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
enum diag
mxt_reply_diag(const struct mxt_reply *r, enum mxt_stage stage, const struct rtext *x,
    const struct phrase **hit)
{
	const struct phrase *p;
	struct mxt_blocklist_hit bl;
	int perm = r->code >= 500;

	*hit = NULL;
	/* Sender authentication: RFC 7372 §3 X.7.20-22 DKIM, X.7.23-24 SPF,
	 * X.7.26 several checks failed (Gmail's DMARC and unauthenticated-sender
	 * replies); the texts decide first (DMARC, then SPF, then DKIM).  They
	 * come before blocklists: their texts carry URLs and host names where
	 * a blocklist's generic words can hide ("r=mx.rbl.example"). */
	if ((*hit = mxt_phrase_find(PH_DMARC, x, NULL)) != NULL)
		return DIAG_SENDER_DMARC_REJECTED;
	if ((*hit = mxt_phrase_find(PH_SPF, x, NULL)) != NULL || enh_is(r, "7.23") ||
	    enh_is(r, "7.24"))
		return DIAG_SENDER_SPF_REJECTED;
	if ((*hit = mxt_phrase_find(PH_DKIM, x, NULL)) != NULL || enh_is(r, "7.20") ||
	    enh_is(r, "7.21") || enh_is(r, "7.22"))
		return DIAG_SENDER_DKIM_REJECTED;
	if (enh_is(r, "7.26"))
		return DIAG_SENDER_DMARC_REJECTED;
	/* The lists and their words are data (src/reputation/blocklists.def). */
	if (mxt_blocklist_find(x->raw, x->len, &bl))
		return DIAG_RCPT_BLOCKLISTED;
	/* Gmail: 5.7.25 "does not have a PTR record". */
	if ((*hit = mxt_phrase_find(PH_PTR_REQUIRED, x, NULL)) != NULL || enh_is(r, "7.25"))
		return DIAG_RCPT_PTR_REQUIRED;
	/* RFC 4954 §6: 538 5.7.11 encryption required. */
	if ((*hit = mxt_phrase_find(PH_TLS_REQUIRED, x, NULL)) != NULL || r->code == 538 ||
	    enh_is(r, "7.11"))
		return DIAG_AUTH_TLS_REQUIRED;
	/* RFC 4954 §6: 530 5.7.0 authentication required. */
	if (r->code == 530)
		return DIAG_AUTH_REQUIRED;
	if ((*hit = mxt_phrase_find(PH_RELAY, x, NULL)) != NULL)
		return DIAG_RCPT_RELAY_DENIED;
	if ((*hit = mxt_phrase_find(PH_HELO_REJECTED, x, NULL)) != NULL)
		return DIAG_EHLO_REJECTED;
	/* RFC 3463: X.1.7 bad sender mailbox syntax, X.1.8 bad sender system. */
	if ((*hit = mxt_phrase_find(PH_SENDER_REJECTED, x, NULL)) != NULL || enh_is(r, "1.7") ||
	    enh_is(r, "1.8"))
		return DIAG_MAIL_SENDER_REJECTED;
	/* RFC 3463: X.2.2 mailbox full. */
	if ((*hit = mxt_phrase_find(PH_MAILBOX_FULL, x, NULL)) != NULL || enh_is(r, "2.2"))
		return DIAG_RCPT_MAILBOX_FULL;
	/* RFC 3463: X.3.4 message too big for system, X.2.3 over the length limit. */
	if ((*hit = mxt_phrase_find(PH_SIZE, x, NULL)) != NULL || enh_is(r, "3.4") ||
	    enh_is(r, "2.3"))
		return DIAG_SIZE_EXCEEDED;
	/* RFC 3463 X.1.1 bad destination mailbox; X.1.10 (RFC 7505, Exchange). */
	if (enh_is(r, "1.1") || enh_is(r, "1.10"))
		return DIAG_RCPT_UNKNOWN_USER;
	/* Gmail: 4.7.28 unusual rate of unsolicited mail. */
	if ((*hit = mxt_phrase_find(PH_RATE_LIMIT, x, NULL)) != NULL || enh_is(r, "7.28"))
		return DIAG_RCPT_RATE_LIMITED;
	if (!perm && (*hit = mxt_phrase_find(PH_GREYLIST, x, NULL)) != NULL)
		return DIAG_RCPT_GREYLISTED;
	if (perm && (p = mxt_phrase_find(PH_UNKNOWN_USER, x, NULL)) != NULL) {
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
	case MXT_STAGE_CONNECT:
	case MXT_STAGE_BANNER:
	case MXT_STAGE_STARTTLS:
	case MXT_STAGE_TLS:
	case MXT_STAGE_AUTH:
	case MXT_STAGE_DATA:
	case MXT_STAGE_DATA_END:
	case MXT_STAGE_RSET:
	case MXT_STAGE_QUIT:
	case MXT_STAGE_COUNT:
	default:
		return DIAG_DATA_REJECTED;
	}
}

/* Copy the queue id a 250 reply to the end of DATA names into out ("" if
 * none): the token after a QUEUE_ID_AFTER phrase or before a
 * QUEUE_ID_BEFORE phrase. */
void
mxt_queue_id(const struct rtext *x, char *out, size_t outsz)
{
	const struct phrase *p;
	size_t at, s, e;

	out[0] = '\0';
#define QID_CHAR(ch)                                                                               \
	(((ch) >= 'a' && (ch) <= 'z') || ((ch) >= 'A' && (ch) <= 'Z') ||                           \
	    ((ch) >= '0' && (ch) <= '9') || (ch) == '.' || (ch) == '-' || (ch) == '_')
	if ((p = mxt_phrase_find(PH_QUEUE_ID_AFTER, x, &at)) != NULL) {
		s = at + strlen(p->needle);
		while (x->raw[s] == ' ')
			s++;
		e = s;
		while (QID_CHAR(x->raw[e]))
			e++;
	} else if ((p = mxt_phrase_find(PH_QUEUE_ID_BEFORE, x, &at)) != NULL) {
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

/* Evidence for a refusal, naming the blocklist when the text does. */
void
mxt_sb_refusal(struct sb *ev, enum diag id, const struct phrase *hit, const struct rtext *x,
    const struct mxt_reply *r)
{
	struct mxt_blocklist_hit bl;

	(void)hit;
	if (id != DIAG_SENDER_SPF_REJECTED && id != DIAG_SENDER_DKIM_REJECTED &&
	    id != DIAG_SENDER_DMARC_REJECTED && mxt_blocklist_find(x->raw, x->len, &bl))
		mxt_sb_printf(ev, "listed by %s: ", bl.name);
	else if (id != DIAG_RCPT_PTR_REQUIRED && mxt_phrase_find(PH_PTR_REQUIRED, x, NULL) != NULL)
		mxt_sb_puts(ev, "reverse DNS required: ");
	mxt_sb_reply(ev, r);
}

/* AUTH replies (RFC 4954 §6). */
enum diag
mxt_auth_diag(const struct mxt_reply *r, const struct rtext *x)
{
	if (r->code == 538 || enh_is(r, "7.11") ||
	    mxt_phrase_find(PH_TLS_REQUIRED, x, NULL) != NULL)
		return DIAG_AUTH_TLS_REQUIRED;
	if (r->code == 504 || enh_is(r, "5.4") || enh_is(r, "7.9"))
		return DIAG_AUTH_MECHANISM_UNSUPPORTED;
	return DIAG_AUTH_FAILED;
}

/*
 * RFC 5321 §4.2.1 calls every 4yz transient, but what matters to a sender
 * is whether the retry meets the same answer.  Greylisting, rate limits
 * and "try again later" go away by themselves; a 4xx whose diagnosis is a
 * refusal of the client (missing PTR, blocklist, policy), whose text names
 * a configuration fault (PERSISTENT phrases), or whose RFC 3463 code is in
 * the security/policy class X.7.x stays until someone acts: the sender
 * queues the message and bounces it at the end of its queue lifetime.
 */
int
mxt_reply_persistent(const struct mxt_reply *r, enum diag id, const struct rtext *x)
{
	if (r->code >= 500)
		return 1;
	if (r->code < 400)
		return 0;
	if (id == DIAG_RCPT_GREYLISTED || id == DIAG_RCPT_RATE_LIMITED ||
	    id == DIAG_RCPT_MAILBOX_FULL)
		return 0;
	if (mxt_phrase_find(PH_GREYLIST, x, NULL) != NULL ||
	    mxt_phrase_find(PH_RATE_LIMIT, x, NULL) != NULL)
		return 0;
	if (id >= 0 && id < DIAG_COUNT && id != DIAG_RCPT_DEFERRED && id != DIAG_MAIL_DEFERRED &&
	    id != DIAG_BANNER_BUSY && id != DIAG_TLS_STARTTLS_REFUSED && id != DIAG_DATA_REJECTED &&
	    mxt_diagnoses(NULL)[id].severity == MXT_SEV_CRITICAL)
		return 1;
	if (mxt_phrase_find(PH_PERSISTENT, x, NULL) != NULL)
		return 1;
	/* RFC 3463 §3.8: X.7.x security or policy status. */
	return r->enh[0] == '4' && r->enh[1] == '.' && r->enh[2] == '7' && r->enh[3] == '.';
}
