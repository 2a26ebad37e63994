/* SPDX-License-Identifier: MIT */
/*
 * One probe attempt: the connection, every step's reply (through the reply
 * policy in policy.c), TLS and the certificate, the EHLO capabilities
 * against what the user asked for, reply oddities, and how the session
 * ended.  Emits at most one finding per code per attempt and records the
 * first deciding event in an outcome for the verdict walk (verdict.c).
 * Canary attempts (port 587/465) are left to egress.c.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509_vfy.h>

#include "classify.h"

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

	if (mxt_egress_explains(c, a)) {
		/* One connect.egress_blocked explains them all: no flood. */
		decide(c, o, OUT_NEXT, DIAG_CONNECT_EGRESS_BLOCKED, c->eg.finding, NULL, 0);
		return;
	}
	switch (a->connect) {
	case MXT_CONN_TIMEOUT:
		id = DIAG_CONNECT_TIMEOUT;
		mxt_sb_printf(&ev, "%s port %d: no answer to SYN within %lld ms", a->addr.text,
		    a->port, (long long)a->connect_ms);
		break;
	case MXT_CONN_REFUSED:
		id = DIAG_CONNECT_REFUSED;
		mxt_sb_printf(
		    &ev, "%s port %d: connection refused (TCP RST)", a->addr.text, a->port);
		break;
	case MXT_CONN_UNREACHABLE:
		id = DIAG_CONNECT_UNREACHABLE;
		mxt_sb_printf(&ev, "%s port %d: %s", a->addr.text, a->port,
		    a->connect_errno != 0 ? strerror(a->connect_errno) : "unreachable");
		break;
	case MXT_CONN_NOT_TRIED:
	case MXT_CONN_OK:
	case MXT_CONN_ERROR:
	default:
		id = a->connect_errno == ECONNRESET ? DIAG_CONNECT_RESET : DIAG_CONNECT_ERROR;
		mxt_sb_printf(&ev, "%s port %d: %s", a->addr.text, a->port,
		    a->connect_errno != 0 ? strerror(a->connect_errno) : "connection failed");
		break;
	}
	idx = mxt_emit_a(c, a, id, &ev);
	decide(c, o, OUT_NEXT, id, idx, NULL, -1);
}

/* A step that ended without a usable reply. */
static void
step_failure(
    struct ctx *c, const struct mxt_attempt *a, const struct mxt_step *s, struct outcome *o)
{
	struct sb ev = {0};
	const char *what = s->command != NULL ? s->command : mxt_stage_label(s->stage);
	int banner = s->stage == MXT_STAGE_BANNER;
	enum diag id;
	unsigned fl = s->reply.flags;

	if (s->status == MXT_STEP_PROTOCOL || (fl & MXT_REPLY_F_FATAL)) {
		/* Not SMTP only when the greeting's first line has no reply
		 * code at all; a greeting that starts as SMTP and then breaks a
		 * rule (mixed codes, too long) is an SMTP protocol error. */
		id = banner && (s->reply.nlines == 0 || s->reply.lines[0].code == 0)
		    ? DIAG_BANNER_NOT_SMTP
		    : DIAG_SMTP_PROTOCOL_VIOLATION;
		mxt_sb_printf(&ev, "reply to %s:", what);
		if (fl & MXT_REPLY_F_MALFORMED)
			mxt_sb_puts(&ev, " malformed line (no 3-digit code);");
		if (fl & MXT_REPLY_F_CODE_MISMATCH)
			mxt_sb_puts(
			    &ev, " different codes within one reply (RFC 5321 section 4.2.1);");
		if (fl & MXT_REPLY_F_TOO_MANY_LINES)
			mxt_sb_printf(&ev, " more than %d lines;", MXT_REPLY_LINES_MAX);
		if (fl & MXT_REPLY_F_TOO_LARGE)
			mxt_sb_printf(&ev, " more than %d bytes;", MXT_REPLY_BYTES_MAX);
		if (fl & MXT_REPLY_F_UNTERMINATED)
			mxt_sb_puts(&ev, " line without end;");
		mxt_sb_puts(&ev, " ");
		mxt_sb_reply(&ev, &s->reply);
	} else if (s->status == MXT_STEP_TIMEOUT) {
		id = banner ? DIAG_BANNER_TIMEOUT : DIAG_SMTP_TIMEOUT;
		if (banner)
			mxt_sb_printf(&ev, "connected, but no greeting within %lld ms",
			    (long long)s->duration_ms);
		else
			mxt_sb_printf(
			    &ev, "no reply to %s within %lld ms", what, (long long)s->duration_ms);
		if (s->reply.nlines > 0) {
			mxt_sb_puts(&ev, "; partial reply: ");
			mxt_sb_reply(&ev, &s->reply);
		}
	} else {
		/* CLOSED, or a local socket error: the connection is gone. */
		int partial = s->reply.nlines > 0;

		id = banner && !partial ? DIAG_CONNECT_RESET : DIAG_SMTP_CONNECTION_LOST;
		if (banner && partial)
			mxt_sb_printf(&ev,
			    "%s port %d: the connection closed in the middle of the greeting",
			    a->addr.text, a->port);
		else if (banner)
			mxt_sb_printf(&ev, "%s port %d: the connection closed before any greeting",
			    a->addr.text, a->port);
		else
			mxt_sb_printf(&ev, "the connection closed after %s", what);
		if (s->status == MXT_STEP_ERROR && a->end_detail != NULL)
			mxt_sb_printf(&ev, " (%s)", a->end_detail);
		if (s->reply.nlines > 0) {
			mxt_sb_puts(&ev, "; partial reply: ");
			mxt_sb_reply(&ev, &s->reply);
		}
	}
	decide(c, o, OUT_NEXT, id, mxt_emit_a(c, a, id, &ev), s, -1);
}

/* Steps after index i other than RSET and QUIT: did the session go on? */
static int
session_went_on(const struct mxt_attempt *a, size_t i)
{
	size_t j;

	for (j = i + 1; j < a->nsteps; j++)
		if (!mxt_stage_winds_down(a->steps[j].stage))
			return 1;
	return 0;
}

static int
session_went_past(const struct mxt_attempt *a, enum mxt_stage st)
{
	size_t j;

	for (j = 0; j < a->nsteps; j++)
		if (a->steps[j].stage > st && !mxt_stage_winds_down(a->steps[j].stage))
			return 1;
	return 0;
}

static void
classify_banner(struct ctx *c, const struct mxt_attempt *a, const struct mxt_step *s,
    const struct rtext *x, struct outcome *o)
{
	const struct mxt_reply *r = &s->reply;
	struct sb ev = {0};
	struct mxt_blocklist_hit bl;
	int listed;

	if (r->code / 100 == 2)
		return;
	listed = mxt_blocklist_find(x->raw, x->len, &bl) ||
	    mxt_phrase_find(PH_PTR_REQUIRED, x, NULL) != NULL;
	if (r->code / 100 == 5) {
		/* RFC 5321 §3.1: 554 greeting.  Postfix (smtp_skip_5xx_greeting)
		 * moves on to the next MX, so this is not a stop.  A greeting that
		 * names a blocklist says which one (blocklists.def). */
		enum diag id = mxt_blocklist_find(x->raw, x->len, &bl) ? DIAG_BANNER_BLOCKLISTED
								       : DIAG_BANNER_REJECTED;
		int idx;

		mxt_sb_refusal(&ev, id, NULL, x, r);
		idx = mxt_emit_a(c, a, id, &ev);
		if (id == DIAG_BANNER_BLOCKLISTED)
			mxt_blocklist_mark(c, idx, x, a);
		decide(c, o, OUT_NEXT, id, idx, s, 1);
	} else if (r->code / 100 == 4) {
		mxt_sb_refusal(&ev, DIAG_BANNER_BUSY, NULL, x, r);
		decide(c, o, OUT_NEXT, DIAG_BANNER_BUSY, mxt_emit_a(c, a, DIAG_BANNER_BUSY, &ev), s,
		    listed || mxt_reply_persistent(r, DIAG_BANNER_BUSY, x));
	} else {
		mxt_sb_puts(&ev, "greeting: ");
		mxt_sb_reply(&ev, r);
		decide(c, o, OUT_NEXT, DIAG_BANNER_NOT_SMTP,
		    mxt_emit_a(c, a, DIAG_BANNER_NOT_SMTP, &ev), s, -1);
	}
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

	mxt_rtext_init(&x, r);
	if (s->stage == MXT_STAGE_BANNER) {
		classify_banner(c, a, s, &x, o);
		goto done;
	}
	if (r->code < 200 || r->code > 599) {
		/* RFC 5321 §4.2: codes outside 2xx-5xx are a violation. */
		mxt_sb_printf(&ev,
		    "reply to %s: ", s->command != NULL ? s->command : mxt_stage_label(s->stage));
		mxt_sb_reply(&ev, r);
		decide(c, o, OUT_NEXT, DIAG_SMTP_PROTOCOL_VIOLATION,
		    mxt_emit_a(c, a, DIAG_SMTP_PROTOCOL_VIOLATION, &ev), s, -1);
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
				mxt_sb_puts(&ev, "EHLO: ");
				mxt_sb_reply(&ev, r);
				mxt_sb_puts(&ev, " / HELO: ");
				mxt_sb_reply(&ev, &helo->reply);
				mxt_emit_a(c, a, DIAG_EHLO_HELO_ONLY, &ev);
			}
			break;
		}
		/* No HELO after a refused EHLO: EHLO decides, as below. */
		__attribute__((fallthrough));
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
				mxt_queue_id(&x, qid, sizeof(qid));
				if (qid[0] != '\0')
					mxt_sb_printf(&ev, "queue id %s: ", qid);
				mxt_sb_reply(&ev, r);
				mxt_emit_a(c, a, DIAG_DATA_ACCEPTED, &ev);
			}
			break;
		}
		if (cls == 3) {
			/* 354 anywhere but DATA: the server lost track. */
			mxt_sb_printf(&ev, "reply to %s: ", mxt_stage_label(s->stage));
			mxt_sb_reply(&ev, r);
			decide(c, o, OUT_NEXT, DIAG_SMTP_PROTOCOL_VIOLATION,
			    mxt_emit_a(c, a, DIAG_SMTP_PROTOCOL_VIOLATION, &ev), s, -1);
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
		id = mxt_reply_diag(r, s->stage, &x, &hit);
		mxt_sb_refusal(&ev, id, hit, &x, r);
		idx = mxt_emit_a(c, a, id, &ev);
		if (id == DIAG_RCPT_BLOCKLISTED)
			mxt_blocklist_mark(c, idx, &x, a);
		/* RFC 5321 §4.2.1: 5yz ends delivery; a 4yz moves on, and blocks
		 * delivery when a retry would meet it again. */
		decide(c, o, cls == 5 ? OUT_STOP : OUT_NEXT, id, idx, s,
		    cls == 5 ? -1 : mxt_reply_persistent(r, id, &x));
		break;
	case MXT_STAGE_STARTTLS:
		if (cls == 2)
			break;
		mxt_sb_reply(&ev, r);
		idx = mxt_emit_a(c, a, DIAG_TLS_STARTTLS_REFUSED, &ev);
		/* Session over (--starttls require): "454 TLS not available due
		 * to local problem" stays until the server's TLS is fixed. */
		if (!session_went_on(a, i))
			decide(c, o, OUT_NEXT, DIAG_TLS_STARTTLS_REFUSED, idx, s,
			    mxt_reply_persistent(r, DIAG_TLS_STARTTLS_REFUSED, &x));
		break;
	case MXT_STAGE_AUTH:
		if (cls == 2 || cls == 3)
			break;
		id = mxt_auth_diag(r, &x);
		mxt_sb_reply(&ev, r);
		decide(c, o, cls == 5 ? OUT_STOP : OUT_NEXT, id, mxt_emit_a(c, a, id, &ev), s, -1);
		break;
	case MXT_STAGE_CONNECT:
	case MXT_STAGE_BANNER:
	case MXT_STAGE_TLS:
	case MXT_STAGE_RSET:
	case MXT_STAGE_QUIT:
	case MXT_STAGE_COUNT:
	default:
		break;
	}
done:
	mxt_rtext_free(&x);
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
			mxt_sb_puts(ev, ", ");
		if (k->keywords[i].p != NULL)
			mxt_sb_putn(ev, k->keywords[i].p, k->keywords[i].len);
	}
	if (k->nkeywords == 0)
		mxt_sb_puts(ev, "(no keywords)");
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
	enum mxt_starttls_mode mode = c->t->request.starttls;
	int warn_days = c->t->request.cert_warn_days;
	int ended = !session_went_past(a, MXT_STAGE_TLS);
	struct sb ev = {0};
	size_t i;
	int idx, expired = 0;

	if (plain != NULL && !tls->attempted && a->mode != MXT_MODE_SMTPS &&
	    mode != MXT_STARTTLS_NEVER && !(plain->flags & MXT_CAP_STARTTLS)) {
		mxt_sb_puts(&ev, "EHLO offers: ");
		sb_keywords(&ev, plain);
		mxt_sb_puts(&ev, " (no STARTTLS)");
		if (caps_masked(plain))
			mxt_sb_puts(
			    &ev, "; keywords masked as XXXX point at a firewall's SMTP inspection");
		mxt_emit_a(c, a, DIAG_TLS_NOT_OFFERED, &ev);
	}
	if (tls->injection) {
		mxt_sb_puts(&ev,
		    "plaintext bytes followed the 220 reply to STARTTLS (RFC 3207 section 4.2)");
		idx = mxt_emit_a(c, a, DIAG_TLS_STARTTLS_INJECTION, &ev);
		if (ended)
			decide(c, o, OUT_NEXT, DIAG_TLS_STARTTLS_INJECTION, idx, NULL, -1);
	}
	if (tls->attempted && !tls->ok && a->end_stage == MXT_STAGE_TLS &&
	    (a->end == MXT_END_DEADLINE || a->end == MXT_END_TIMEOUT)) {
		/* A deadline is not a TLS fault: like a greeting that never
		 * comes, it is inconclusive (not blocking), named with the
		 * stage it cut. */
		mxt_sb_printf(&ev, "the TLS handshake %s was cut by %s after %lld ms",
		    a->mode == MXT_MODE_SMTPS ? "on connect (implicit TLS, before any greeting)"
					      : "after the STARTTLS 220",
		    a->end == MXT_END_DEADLINE ? "the overall deadline (--timeout-total)"
					       : "the TLS stage deadline",
		    (long long)tls->duration_ms);
		idx = mxt_emit_a(c, a, DIAG_TLS_HANDSHAKE_TIMEOUT, &ev);
		decide(c, o, OUT_NEXT, DIAG_TLS_HANDSHAKE_TIMEOUT, idx, NULL, 0);
	} else if (tls->attempted && !tls->ok) {
		mxt_sb_puts(&ev, tls->error != NULL ? tls->error : "the TLS handshake failed");
		if (tls->duration_ms > 0)
			mxt_sb_printf(&ev, " (after %lld ms)", (long long)tls->duration_ms);
		idx = mxt_emit_a(c, a, DIAG_TLS_HANDSHAKE_FAILED, &ev);
		if (ended || a->end == MXT_END_TLS)
			decide(c, o, OUT_NEXT, DIAG_TLS_HANDSHAKE_FAILED, idx, NULL, -1);
	}
	if (!tls->ok)
		return;
	if (tls->version != NULL &&
	    (strcmp(tls->version, "TLSv1") == 0 || strcmp(tls->version, "TLSv1.1") == 0 ||
		strcmp(tls->version, "SSLv3") == 0)) {
		mxt_sb_printf(&ev, "negotiated %s", tls->version);
		if (tls->cipher != NULL)
			mxt_sb_printf(&ev, " with %s", tls->cipher);
		mxt_emit_a(c, a, DIAG_TLS_OLD_PROTOCOL, &ev);
	}
	if (!tls->have_cert)
		return;
	/* days_left is meaningful only when notAfter was read. */
	if (tls->verify_code == X509_V_ERR_CERT_HAS_EXPIRED ||
	    (tls->not_after != NULL && tls->days_left < 0)) {
		expired = 1;
		mxt_sb_printf(&ev, "certificate %s expired on %s (",
		    tls->subject != NULL ? tls->subject : "",
		    tls->not_after != NULL ? tls->not_after : "?");
		mxt_sb_days(&ev, tls->days_left < 0 ? -tls->days_left : 0);
		mxt_sb_puts(&ev, " ago)");
		mxt_emit_a(c, a, DIAG_TLS_CERT_EXPIRED, &ev);
	} else if (tls->verify_code == X509_V_ERR_CERT_NOT_YET_VALID) {
		mxt_sb_printf(&ev, "certificate %s is valid from %s",
		    tls->subject != NULL ? tls->subject : "",
		    tls->not_before != NULL ? tls->not_before : "?");
		mxt_emit_a(c, a, DIAG_TLS_CERT_NOT_YET_VALID, &ev);
	} else if (tls->not_after != NULL && tls->days_left < warn_days) {
		mxt_sb_printf(&ev, "certificate %s expires on %s, in ",
		    tls->subject != NULL ? tls->subject : "",
		    tls->not_after != NULL ? tls->not_after : "?");
		mxt_sb_days(&ev, tls->days_left);
		mxt_emit_a(c, a, DIAG_TLS_CERT_EXPIRING, &ev);
	}
	/* Only a name that was checked can mismatch (an IP-literal MX or an
	 * address given to --server has none). */
	if (((tls->peer_name != NULL && !tls->name_ok) ||
		tls->verify_code == X509_V_ERR_HOSTNAME_MISMATCH) &&
	    !(x != NULL && (x->flags & MXT_XF_IP_LITERAL))) {
		mxt_sb_printf(&ev, "checked against %s; the certificate names ",
		    tls->peer_name != NULL ? tls->peer_name : mxt_attempt_host(c->t, a));
		for (i = 0; i < tls->nsan; i++)
			mxt_sb_printf(
			    &ev, "%s%s", i > 0 ? ", " : "", tls->san[i] != NULL ? tls->san[i] : "");
		if (tls->nsan == 0)
			mxt_sb_puts(&ev, tls->subject != NULL ? tls->subject : "nothing");
		mxt_emit_a(c, a, DIAG_TLS_CERT_NAME_MISMATCH, &ev);
	}
	if (!tls->chain_ok && !expired && tls->verify_code != X509_V_OK &&
	    tls->verify_code != X509_V_ERR_CERT_NOT_YET_VALID &&
	    tls->verify_code != X509_V_ERR_HOSTNAME_MISMATCH) {
		mxt_sb_printf(&ev, "verify error %ld: %s", tls->verify_code,
		    tls->verify_error != NULL ? tls->verify_error : "certificate not trusted");
		if (tls->issuer != NULL)
			mxt_sb_printf(&ev, "; issuer %s", tls->issuer);
		mxt_emit_a(c, a, DIAG_TLS_CERT_UNTRUSTED, &ev);
	}
}

/* What the EHLO capabilities say against what the user asked for. */
static void
classify_caps(struct ctx *c, const struct mxt_attempt *a)
{
	const struct mxt_request *req = &c->t->request;
	const struct mxt_caps *k = a->have_caps ? &a->caps : NULL;
	struct sb ev = {0};
	size_t i;
	int has_auth_step = 0;

	if (k == NULL)
		return;
	for (i = 0; i < a->nsteps; i++)
		if (a->steps[i].stage == MXT_STAGE_AUTH)
			has_auth_step = 1;
	if (req->auth_user != NULL && !has_auth_step) {
		if (!(k->flags & MXT_CAP_AUTH)) {
			mxt_sb_puts(&ev, "EHLO offers: ");
			sb_keywords(&ev, k);
			mxt_sb_puts(&ev, " (no AUTH)");
			mxt_emit_a(c, a, DIAG_AUTH_NOT_OFFERED, &ev);
		} else if (req->auth_mech != NULL && !caps_has_mech(k, req->auth_mech)) {
			mxt_sb_printf(&ev, "asked for %s; the server offers", req->auth_mech);
			for (i = 0; i < k->nauth; i++)
				mxt_sb_printf(&ev, " %s", k->auth[i] != NULL ? k->auth[i] : "");
			mxt_emit_a(c, a, DIAG_AUTH_MECHANISM_UNSUPPORTED, &ev);
		}
	}
	/* RFC 1870 §6: a declared size over the limit is refused at MAIL. */
	if (req->size > 0 && (k->flags & MXT_CAP_SIZE) && k->size > 0 && req->size > k->size) {
		mxt_sb_printf(&ev, "the message is %llu bytes; the server's SIZE limit is %llu",
		    (unsigned long long)req->size, (unsigned long long)k->size);
		mxt_emit_a(c, a, DIAG_SIZE_EXCEEDED, &ev);
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

	/* The reply to QUIT (or RSET) comes after the result was decided,
	 * and only when it comes in time: recorded, not judged. */
	for (i = 0; i < a->nsteps; i++)
		if (!mxt_stage_winds_down(a->steps[i].stage))
			fl |= a->steps[i].reply.flags;
	fl &= ~(unsigned)MXT_REPLY_F_FATAL;
	malformed_caps = (a->have_caps && (a->caps.malformed || a->caps.size_malformed)) ||
	    (a->have_caps_plain && (a->caps_plain.malformed || a->caps_plain.size_malformed));
	if (fl == 0 && !malformed_caps)
		return;
	mxt_sb_puts(&ev, "seen:");
	if (fl & MXT_REPLY_F_LINE_OVER_RFC)
		mxt_sb_printf(
		    &ev, " lines over %d octets (RFC 5321 section 4.5.3.1.5);", MXT_REPLY_LINE_RFC);
	if (fl & MXT_REPLY_F_LINE_TRUNCATED)
		mxt_sb_printf(&ev, " lines over %d octets, cut;", MXT_REPLY_LINE_MAX);
	if (fl & MXT_REPLY_F_CODE_MISMATCH)
		mxt_sb_puts(&ev, " different codes within one reply;");
	if (fl & MXT_REPLY_F_BARE_LF)
		mxt_sb_puts(&ev, " lines ending in a bare LF;");
	if (fl & MXT_REPLY_F_CTRL_BYTES)
		mxt_sb_puts(&ev, " control bytes in reply text;");
	if (fl & MXT_REPLY_F_ENH_MISMATCH)
		mxt_sb_puts(&ev, " enhanced status codes of the wrong class;");
	if (malformed_caps)
		mxt_sb_puts(&ev, " malformed EHLO keywords;");
	mxt_emit_a(c, a, DIAG_SMTP_NONSTANDARD_REPLY, &ev);
}

/* How the attempt ended, when no step decided it. */
static void
classify_end(struct ctx *c, const struct mxt_attempt *a, struct outcome *o)
{
	/* The causes of a local stop, most likely first, per stage stopped at.
	 * One array type, so a loop over one row cannot run past another. */
	enum { LOCAL_TLS, LOCAL_AUTH, LOCAL_SIZE };
	static const enum diag local_order[][5] = {
	    [LOCAL_TLS] = {DIAG_TLS_NOT_OFFERED, DIAG_TLS_STARTTLS_REFUSED, DIAG_AUTH_NOT_OFFERED,
		DIAG_AUTH_MECHANISM_UNSUPPORTED, DIAG_SIZE_EXCEEDED},
	    [LOCAL_AUTH] = {DIAG_AUTH_NOT_OFFERED, DIAG_AUTH_MECHANISM_UNSUPPORTED,
		DIAG_TLS_NOT_OFFERED, DIAG_TLS_STARTTLS_REFUSED, DIAG_SIZE_EXCEEDED},
	    [LOCAL_SIZE] = {DIAG_SIZE_EXCEEDED, DIAG_TLS_NOT_OFFERED, DIAG_TLS_STARTTLS_REFUSED,
		DIAG_AUTH_NOT_OFFERED, DIAG_AUTH_MECHANISM_UNSUPPORTED}};
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
		if (a->end_stage == MXT_STAGE_AUTH)
			local = local_order[LOCAL_AUTH];
		else if (a->end_stage >= MXT_STAGE_MAIL)
			local = local_order[LOCAL_SIZE];
		else
			local = local_order[LOCAL_TLS];
		for (i = 0; i < sizeof(local_order[0]) / sizeof(local_order[0][0]); i++) {
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
	case MXT_END_REJECTED:
	case MXT_END_CLOSED:
	default:
		id = DIAG_SMTP_CONNECTION_LOST;
		break;
	}
	mxt_sb_printf(&ev, "the session ended at %s", mxt_stage_label(a->end_stage));
	if (a->end == MXT_END_DEADLINE)
		mxt_sb_puts(&ev, ": the overall deadline was reached");
	if (a->end_detail != NULL)
		mxt_sb_printf(&ev, " (%s)", a->end_detail);
	decide(
	    c, o, OUT_NEXT, id, mxt_emit_a(c, a, id, &ev), NULL, a->end == MXT_END_LOCAL ? 1 : -1);
}

void
mxt_classify_attempt(struct ctx *c, const struct mxt_attempt *a, struct outcome *o)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	o->diag = -1;
	o->finding = -1;
	if (a->canary || a->connect == MXT_CONN_NOT_TRIED) {
		o->kind = OUT_SKIP;
		return;
	}
	mxt_scope_reset(c);
	o->kind = OUT_NEXT;
	if (a->connect != MXT_CONN_OK) {
		classify_connect(c, a, o);
		return;
	}
	for (i = 0; i < a->nsteps; i++) {
		const struct mxt_step *s = &a->steps[i];

		if (mxt_stage_winds_down(s->stage) || s->stage == MXT_STAGE_TLS ||
		    s->stage == MXT_STAGE_CONNECT)
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
