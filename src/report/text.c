/* SPDX-License-Identifier: MIT */
/*
 * Human text renderer: verdict first, then findings with evidence and what
 * to do, the DNS picture, the client identity, a per-attempt table and, on
 * request, the transcript.  Colour only when asked or on a terminal (the
 * caller decides, honouring NO_COLOR).  Every peer-controlled string goes
 * through mxt_escape(): no server byte reaches the terminal raw.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mxt_config.h"
#include "mxtrace/escape.h"
#include "mxtrace/limits.h"
#include "mxtrace/report.h"

struct out {
	FILE *f;
	int color;
	int err;
};

static void __attribute__((format(printf, 2, 3))) pr(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(o->f, fmt, ap) < 0)
		o->err = 1;
	va_end(ap);
}

/* Print untrusted bytes, escaped. */
static void
pr_esc(struct out *o, const char *p, size_t len, size_t max)
{
	char *e;

	if (p == NULL) {
		pr(o, "-");
		return;
	}
	e = mxt_escape(p, len, max);
	pr(o, "%s", e != NULL ? e : "?");
	free(e);
}

static void
pr_s(struct out *o, const char *s)
{
	pr_esc(o, s, s != NULL ? strlen(s) : 0, MXT_FIELD_TEXT_MAX);
}

static const char *
status_color(enum mxt_status s)
{
	switch (s) {
	case MXT_STATUS_OK:
		return "\033[32m";
	case MXT_STATUS_WARNING:
		return "\033[33m";
	case MXT_STATUS_CRITICAL:
		return "\033[31m";
	case MXT_STATUS_UNKNOWN:
	default:
		return "\033[35m";
	}
}

static void
upper(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? (char)(src[i] - 32) : src[i];
	dst[i] = '\0';
}

/* Short cell for a stage: the reply code, or what happened instead. */
static void
cell(char *buf, size_t n, const struct mxt_attempt *a, enum mxt_stage st)
{
	const struct mxt_step *s = mxt_attempt_step(a, st);

	if (s == NULL)
		snprintf(buf, n, "-");
	else if (s->status == MXT_STEP_REPLIED)
		snprintf(buf, n, "%d", s->reply.code);
	else
		snprintf(buf, n, "%s", mxt_step_status_name(s->status));
}

static void
render_attempts(struct out *o, const struct mxt_target *t)
{
	size_t i;

	if (t->nattempts == 0)
		return;
	pr(o, "\nAttempts:\n");
	pr(o, "  %-24s %-22s %-12s %-7s %-7s %-16s %-5s %-7s %s\n", "exchanger", "address",
	    "connect", "banner", "ehlo", "tls", "mail", "rcpt", "time");
	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];
		const struct mxt_exchanger *x = &t->dns.mx[a->mx_index];
		char addr[64], conn[32], ban[16], ehlo[16], tls[40], mail[16], rcpt[16];
		char *name = mxt_escape_str(x->name, 24);

		if (a->addr.family == AF_INET6)
			snprintf(addr, sizeof(addr), "[%s]:%d", a->addr.text, a->port);
		else
			snprintf(addr, sizeof(addr), "%s:%d", a->addr.text, a->port);
		if (a->connect == MXT_CONN_OK)
			snprintf(conn, sizeof(conn), "ok %lldms", (long long)a->connect_ms);
		else
			snprintf(conn, sizeof(conn), "%s", mxt_conn_status_name(a->connect));
		cell(ban, sizeof(ban), a, MXT_STAGE_BANNER);
		cell(ehlo, sizeof(ehlo), a, a->helo_fallback ? MXT_STAGE_HELO : MXT_STAGE_EHLO);
		if (!a->tls.attempted)
			snprintf(tls, sizeof(tls), "-");
		else if (!a->tls.ok)
			snprintf(tls, sizeof(tls), "failed");
		else
			snprintf(tls, sizeof(tls), "%s %s", a->tls.version ? a->tls.version : "?",
			    a->tls.chain_ok && a->tls.name_ok ? "verified" : "unverified");
		cell(mail, sizeof(mail), a, MXT_STAGE_MAIL);
		cell(rcpt, sizeof(rcpt), a, MXT_STAGE_RCPT);
		pr(o, "  %-24s %-22s %-12s %-7s %-7s %-16s %-5s %-7s %lld ms%s\n",
		    name ? name : "?", addr, conn, ban, ehlo, tls, mail, rcpt,
		    (long long)a->duration_ms,
		    a->canary		     ? " (canary)"
			: a->plaintext_retry ? " (retry without TLS)"
					     : "");
		free(name);
	}
	for (i = 0; i < t->nattempts; i++) {
		struct mxt_software sw;

		mxt_server_software(&t->attempts[i], &sw);
		if (sw.product == NULL || t->attempts[i].canary)
			continue;
		pr(o, "  software of %s: %s (%s says \"%s\")\n", t->attempts[i].addr.text,
		    sw.product, sw.source, sw.match);
	}
	/* The reference check: every port-25 connect timed out. */
	for (i = 0; i < t->negress_refs; i++) {
		const struct mxt_egress_ref *r = &t->egress_refs[i];
		char *host = mxt_escape_str(r->host, 64);
		char *err = mxt_escape_str(r->error, 128);

		if (i == 0)
			pr(o, "  reference check (%s): port 25 of independent exchangers\n",
			    t->egress_refs_builtin ? "built-in list" : "--egress-check");
		if (r->connect == MXT_CONN_OK)
			pr(o, "    %s %s:%d connected in %lld ms\n", host ? host : "?", r->address,
			    r->port, (long long)r->connect_ms);
		else if (r->connect == MXT_CONN_NOT_TRIED)
			pr(o, "    %s port %d not tried: %s\n", host ? host : "?", r->port,
			    err ? err : "no address");
		else
			pr(o, "    %s %s:%d %s after %lld ms\n", host ? host : "?", r->address,
			    r->port, mxt_conn_status_name(r->connect), (long long)r->connect_ms);
		free(host);
		free(err);
	}
}

static void
render_transcript(struct out *o, const struct mxt_target *t)
{
	size_t i, j;

	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];

		pr(o, "\nTranscript %s ", a->addr.text);
		pr_s(o, t->dns.mx[a->mx_index].name);
		pr(o, " port %d:\n", a->port);
		for (j = 0; j < a->ntranscript; j++) {
			const struct mxt_tline *l = &a->transcript[j];
			const char *arrow = l->dir == MXT_DIR_CLIENT ? (l->tls ? "~>" : "->")
			    : l->dir == MXT_DIR_SERVER		     ? (l->tls ? "<~" : "<-")
								     : "**";

			pr(o, "  %6lld ms %s ", (long long)l->t_ms, arrow);
			pr_esc(o, l->text, l->len, 0);
			pr(o, "\n");
		}
		if (a->transcript_truncated)
			pr(o, "  (transcript truncated)\n");
	}
}

static void
render_one(struct out *o, const struct mxt_target *t, const struct mxt_render_opts *ro)
{
	char st[16];
	size_t i, j;

	upper(st, mxt_status_name(t->verdict.status), sizeof(st));
	pr(o, "mxtrace %s: ", MXT_VERSION);
	pr_s(o, t->domain_unicode != NULL ? t->domain_unicode : t->input);
	if (t->domain != NULL && t->domain_unicode != NULL && strcmp(t->domain, t->domain_unicode))
		pr(o, " (%s)", t->domain);
	pr(o, "\n%s%s%s: ", o->color ? status_color(t->verdict.status) : "", st,
	    o->color ? "\033[0m" : "");
	pr_s(o, t->verdict.summary);
	pr(o, "\n");
	/* The transport security policies, one line each (src/report/transport.c). */
	if (t->verdict.dane != NULL) {
		pr(o, "  DANE: ");
		pr_s(o, t->verdict.dane_summary);
		pr(o, "\n");
	}
	if (t->verdict.mta_sts != NULL) {
		pr(o, "  MTA-STS: ");
		pr_s(o, t->verdict.mta_sts_summary);
		pr(o, "\n");
	}
	if (t->nfindings > 0) {
		size_t nc = 0, nw = 0, ni = 0;

		/* The same counts as JSON's verdict.finding_counts and the
		 * Nagios perfdata (docs/diagnoses.md, "Severity model"). */
		for (i = 0; i < t->nfindings; i++) {
			nc += t->findings[i].severity == MXT_SEV_CRITICAL;
			nw += t->findings[i].severity == MXT_SEV_WARNING;
			ni += t->findings[i].severity == MXT_SEV_INFO;
		}
		pr(o, "\nFindings (%zu critical, %zu warning, %zu info):\n", nc, nw, ni);
	}
	for (i = 0; i < t->nfindings; i++) {
		const struct mxt_finding *f = &t->findings[i];

		pr(o, "  [%s] %s", mxt_severity_name(f->severity), f->code);
		if (f->host != NULL) {
			pr(o, "  ");
			pr_s(o, f->host);
		}
		if (f->address != NULL) {
			pr(o, " ");
			pr_s(o, f->address);
		}
		pr(o, "\n");
		if (f->evidence != NULL) {
			pr(o, "      evidence: ");
			pr_s(o, f->evidence);
			pr(o, "\n");
		}
		if (f->list != NULL) {
			pr(o, "      list: ");
			pr_s(o, f->list);
			if (f->list_url != NULL) {
				pr(o, ", lookup ");
				pr_s(o, f->list_url);
			}
			pr(o, "\n");
		}
		if (f->hint != NULL)
			pr(o, "      what to do: %s\n", f->hint);
	}
	pr(o, "\nDNS (resolver ");
	pr_s(o, t->dns.resolver);
	pr(o, ", %lld ms): MX %s, %s\n", (long long)t->dns.duration_ms,
	    mxt_dns_status_name(t->dns.q_mx.status), mxt_mx_source_name(t->dns.source));
	for (i = 0; i < t->dns.nmx; i++) {
		const struct mxt_exchanger *x = &t->dns.mx[i];

		pr(o, "  %5d  ", x->preference);
		pr_s(o, x->name);
		for (j = 0; j < x->naddrs; j++)
			pr(o, "%s%s", j ? ", " : "  ", x->addrs[j].text);
		if (x->naddrs == 0)
			pr(o, "  (no address)");
		pr(o, "\n");
	}
	pr(o, "\nClient: local %s%s%s, EHLO name ", t->client.local_v4 ? t->client.local_v4 : "-",
	    t->client.local_v6 ? " / " : "", t->client.local_v6 ? t->client.local_v6 : "");
	pr_s(o, t->client.ehlo_name);
	pr(o, " (%s)\n", t->client.ehlo_from ? t->client.ehlo_from : "-");
	render_attempts(o, t);
	if (ro->transcript)
		render_transcript(o, t);
}

int
mxt_render_text(
    FILE *out, struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *ro)
{
	struct out o = {out, ro->color, 0};
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			pr(&o, "\n");
		render_one(&o, targets[i], ro);
	}
	if (fflush(out) == EOF || ferror(out))
		o.err = 1;
	return o.err ? -1 : 0;
}
