/* SPDX-License-Identifier: MIT */
/*
 * Nagios and Icinga plugin output (Monitoring Plugins Development
 * Guidelines: "Plugin Output", "Performance data", "Threshold and
 * ranges"):
 *
 *   MXTRACE STATE - status line | perfdata
 *   [SEVERITY] code host [address]: title - evidence     (one per finding)
 *
 * The state is the worst of the verdict, the -w/-c ranges on the run's
 * time and the certificate-days thresholds; UNKNOWN instead when the
 * overall deadline (-t, --timeout-total) cut the run short, since the
 * check could not finish.  The status line puts the worst finding first and
 * is cut at a word boundary.  Perfdata has the same labels on every run
 * ("U" for a value that could not be measured), so graphing tools keep one
 * series per label.  No '|' from any text reaches the output: it would
 * start perfdata.  It decides nothing about the mail path (classify.c
 * does) and writes only to out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "mxtrace/report.h"

/* Status line text after "MXTRACE STATE - ", in bytes. */
#define STATUS_MAX 200
/* Evidence per long-output line, in bytes. */
#define EVIDENCE_MAX 200

struct judgement {
	enum mxt_status status;
	int timed_out;
	enum mxt_status time_state; /* from -w/-c */
	enum mxt_status cert_state; /* from the certificate-days thresholds */
	int have_cert;
	int cert_days; /* the fewest days left over all certificates */
};

/* Worse of two states: critical > warning > unknown > ok, as the
 * Monitoring Plugins' max_state_alt(). */
static enum mxt_status
worse(enum mxt_status a, enum mxt_status b)
{
	static const int rank[] = {0, 2, 3, 1};

	return rank[b] > rank[a] ? b : a;
}

/* Did the run's overall deadline end it?  An attempt says so, or the
 * pipeline noted it (the DNS stage can run out of time too). */
static int
timed_out(const struct mxt_target *t)
{
	size_t i;

	for (i = 0; i < t->nattempts; i++)
		if (t->attempts[i].end == MXT_END_DEADLINE)
			return 1;
	return t->deadline_reached;
}

static void
judge(const struct mxt_target *t, const struct mxt_render_opts *o, struct judgement *j)
{
	double secs = (double)t->duration_ms / 1000.0;
	size_t i;

	memset(j, 0, sizeof(*j));
	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_tls *tls = &t->attempts[i].tls;

		if (!tls->have_cert || tls->not_after == NULL)
			continue;
		if (!j->have_cert || tls->days_left < j->cert_days)
			j->cert_days = tls->days_left;
		j->have_cert = 1;
	}
	if (o != NULL) {
		if (mxt_range_alert(&o->crit_time, secs))
			j->time_state = MXT_STATUS_CRITICAL;
		else if (mxt_range_alert(&o->warn_time, secs))
			j->time_state = MXT_STATUS_WARNING;
		/* check_smtp -D semantics: alert when fewer days are left. */
		if (j->have_cert && o->have_cert_crit && j->cert_days < o->cert_crit_days)
			j->cert_state = MXT_STATUS_CRITICAL;
	}
	if (j->cert_state == MXT_STATUS_OK && j->have_cert &&
	    j->cert_days < t->request.cert_warn_days)
		j->cert_state = MXT_STATUS_WARNING;
	j->timed_out = timed_out(t);
	j->status = worse(worse(t->verdict.status, j->time_state), j->cert_state);
	if (j->timed_out)
		j->status = MXT_STATUS_UNKNOWN;
}

enum mxt_status
mxt_nagios_status(const struct mxt_target *t, const struct mxt_render_opts *o)
{
	struct judgement j;

	judge(t, o, &j);
	return j.status;
}

int
mxt_nagios_exit_code(struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *o)
{
	int worst = -1;
	size_t i;

	for (i = 0; i < n; i++)
		worst = mxt_exit_worse(worst, mxt_exit_of_status(mxt_nagios_status(targets[i], o)));
	return worst < 0 ? mxt_exit_of_status(MXT_STATUS_UNKNOWN) : worst;
}

/* A growing status text, cut later at a word boundary. */
struct sb {
	char buf[1024];
	size_t len;
};

/* Append one part, "; " between parts; a part that does not fit is cut
 * (cut_words() trims the text to STATUS_MAX afterwards anyway). */
static void __attribute__((format(printf, 2, 3))) sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len > 0 && b->len + 2 < sizeof(b->buf)) {
		memcpy(b->buf + b->len, "; ", 3);
		b->len += 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, sizeof(b->buf) - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len = strlen(b->buf);
}

/* Replace every '|' (it starts perfdata, Nagios plugin API). */
static void
no_pipes(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s == '|')
			*s = '/';
}

/* Cut s to at most max bytes at a space, marking the cut with " ...".  A
 * single word longer than that is cut at a UTF-8 character boundary. */
static void
cut_words(char *s, size_t max)
{
	size_t len = strlen(s), at;

	if (len <= max)
		return;
	for (at = max - 4; at > 0 && s[at] != ' '; at--)
		;
	while (at > 0 && (s[at - 1] == ' ' || s[at - 1] == ';' || s[at - 1] == ','))
		at--;
	if (at == 0)
		for (at = max - 4; at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80; at--)
			;
	memcpy(s + at, " ...", 5);
}

/* The first finding of the highest severity (classify.c lists them in
 * the order it found them). */
static const struct mxt_finding *
worst_finding(const struct mxt_target *t)
{
	const struct mxt_finding *w = NULL;
	size_t i;

	for (i = 0; i < t->nfindings; i++)
		if (w == NULL || t->findings[i].severity > w->severity)
			w = &t->findings[i];
	return w;
}

/* The attempt the verdict rests on: through the "via" exchanger, else the
 * first one. */
static const struct mxt_attempt *
verdict_attempt(const struct mxt_target *t)
{
	size_t i;

	for (i = 0; t->verdict.via != NULL && i < t->nattempts; i++)
		if (t->attempts[i].mx_index < t->dns.nmx &&
		    strcmp(t->dns.mx[t->attempts[i].mx_index].name, t->verdict.via) == 0 &&
		    t->attempts[i].end == MXT_END_OK)
			return &t->attempts[i];
	return t->nattempts > 0 ? &t->attempts[0] : NULL;
}

static void
upper(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 'a' + 'A' : src[i]);
	dst[i] = '\0';
}

static void
status_line(FILE *out, const struct mxt_target *t, const struct mxt_render_opts *o,
    const struct judgement *j)
{
	const struct mxt_finding *w = worst_finding(t);
	const struct mxt_diagnosis *d = w != NULL ? mxt_diagnosis_find(w->code) : NULL;
	struct sb b = {{0}, 0};
	char st[16], *sum;

	if (j->timed_out && t->request.timeout_total_ms % 1000 != 0)
		sb_add(&b, "timed out after %.3f s (-t)",
		    (double)t->request.timeout_total_ms / 1000.0);
	else if (j->timed_out)
		sb_add(&b, "timed out after %lld s (-t)",
		    (long long)(t->request.timeout_total_ms / 1000));
	if (w != NULL)
		sb_add(&b, "%s: %s", w->code, d != NULL ? d->title : "");
	if (j->time_state != MXT_STATUS_OK)
		sb_add(&b, "time %.3f s (%s: -%c %s)", (double)t->duration_ms / 1000.0,
		    mxt_status_name(j->time_state),
		    j->time_state == MXT_STATUS_CRITICAL ? 'c' : 'w',
		    j->time_state == MXT_STATUS_CRITICAL ? o->crit_time.text : o->warn_time.text);
	if (j->cert_state != MXT_STATUS_OK)
		sb_add(&b, "a certificate %s %d day(s)%s (%s below %d)",
		    j->cert_days < 0 ? "expired" : "expires in",
		    j->cert_days < 0 ? -j->cert_days : j->cert_days, j->cert_days < 0 ? " ago" : "",
		    mxt_status_name(j->cert_state),
		    j->cert_state == MXT_STATUS_CRITICAL ? o->cert_crit_days
							 : t->request.cert_warn_days);
	sum = mxt_escape_str(t->verdict.summary, sizeof(b.buf) / 2);
	if (sum != NULL && sum[0] != '\0')
		sb_add(&b, "%s", sum);
	free(sum);
	no_pipes(b.buf);
	cut_words(b.buf, STATUS_MAX);
	upper(st, mxt_status_name(j->status), sizeof(st));
	fprintf(out, "MXTRACE %s - %s", st, b.buf);
}

/* One perfdata item: 'label'=value[UOM];[warn];[crit];[min];[max], or
 * the value "U" when it could not be measured. */
static void
perf_s(FILE *out, const char *label, int have, int64_t ms, const char *warn, const char *crit,
    const char *max)
{
	if (have)
		fprintf(out, " %s=%.3fs;%s;%s;0;%s", label, (double)ms / 1000.0, warn, crit, max);
	else
		fprintf(out, " %s=U;%s;%s;0;%s", label, warn, crit, max);
}

static void
perfdata(FILE *out, const struct mxt_target *t, const struct mxt_render_opts *o,
    const struct judgement *j)
{
	static const struct {
		enum mxt_stage stage;
		const char *label;
	} stages[] = {{MXT_STAGE_BANNER, "banner"}, {MXT_STAGE_EHLO, "ehlo"},
	    {MXT_STAGE_STARTTLS, "starttls"}, {MXT_STAGE_EHLO_TLS, "ehlo_tls"},
	    {MXT_STAGE_AUTH, "auth"}, {MXT_STAGE_MAIL, "mail"}, {MXT_STAGE_RCPT, "rcpt"},
	    {MXT_STAGE_DATA_END, "data"}};
	const struct mxt_attempt *a = verdict_attempt(t);
	char max[32] = "", cw[16] = "", cc[16] = "";
	size_t i, crit = 0, warn = 0;

	if (t->request.timeout_total_ms > 0)
		snprintf(max, sizeof(max), "%.3f", (double)t->request.timeout_total_ms / 1000.0);
	fputs(" |", out);
	perf_s(out, "time", 1, t->duration_ms, o != NULL ? o->warn_time.text : "",
	    o != NULL ? o->crit_time.text : "", max);
	perf_s(out, "dns", 1, t->dns.duration_ms, "", "", max);
	perf_s(out, "connect", a != NULL && a->connect != MXT_CONN_NOT_TRIED,
	    a != NULL ? a->connect_ms : 0, "", "", max);
	perf_s(out, "tls", a != NULL && a->tls.attempted, a != NULL ? a->tls.duration_ms : 0, "",
	    "", max);
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		const struct mxt_step *s = a != NULL ? mxt_attempt_step(a, stages[i].stage) : NULL;

		perf_s(
		    out, stages[i].label, s != NULL, s != NULL ? s->duration_ms : 0, "", "", max);
	}
	/* Thresholds as ranges: "14:" alerts below 14 days. */
	snprintf(cw, sizeof(cw), "%d:", t->request.cert_warn_days);
	if (o != NULL && o->have_cert_crit)
		snprintf(cc, sizeof(cc), "%d:", o->cert_crit_days);
	if (j->have_cert)
		fprintf(out, " cert_days=%d;%s;%s", j->cert_days, cw, cc);
	else
		fprintf(out, " cert_days=U;%s;%s", cw, cc);
	for (i = 0; i < t->nfindings; i++) {
		crit += t->findings[i].severity == MXT_SEV_CRITICAL;
		warn += t->findings[i].severity == MXT_SEV_WARNING;
	}
	fprintf(
	    out, " attempts=%zu;;;0 critical=%zu;;;0 warnings=%zu;;;0\n", t->nattempts, crit, warn);
}

/* Long output: one line per finding, worst first, escaped, no '|'. */
static void
long_output(FILE *out, const struct mxt_target *t)
{
	static const enum mxt_severity order[] = {MXT_SEV_CRITICAL, MXT_SEV_WARNING, MXT_SEV_INFO};
	size_t i, k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (i = 0; i < t->nfindings; i++) {
			const struct mxt_finding *f = &t->findings[i];
			const struct mxt_diagnosis *d = mxt_diagnosis_find(f->code);
			char sev[16], *host, *addr, *ev;

			if (f->severity != order[k])
				continue;
			upper(sev, mxt_severity_name(f->severity), sizeof(sev));
			host = mxt_escape_str(f->host, 255);
			addr = mxt_escape_str(f->address, 64);
			ev = mxt_escape_str(f->evidence, EVIDENCE_MAX);
			no_pipes(host);
			no_pipes(addr);
			no_pipes(ev);
			fprintf(out, "[%s] %s%s%s%s%s%s: %s%s%s\n", sev, f->code,
			    host != NULL && host[0] ? " " : "", host != NULL ? host : "",
			    addr != NULL && addr[0] ? " [" : "", addr != NULL ? addr : "",
			    addr != NULL && addr[0] ? "]" : "", d != NULL ? d->title : "",
			    ev != NULL && ev[0] ? " - " : "", ev != NULL ? ev : "");
			free(host);
			free(addr);
			free(ev);
		}
}

int
mxt_render_nagios(
    FILE *out, struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *o)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct judgement j;

		judge(targets[i], o, &j);
		status_line(out, targets[i], o, &j);
		perfdata(out, targets[i], o, &j);
		long_output(out, targets[i]);
	}
	return fflush(out) == EOF || ferror(out) ? -1 : 0;
}
