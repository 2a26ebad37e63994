/* SPDX-License-Identifier: MIT */
/*
 * Metrics renderer: one exposition, in OpenMetrics 1.0.0 or the Prometheus
 * text format 0.0.4, of what the record holds, with the families listed in
 * docs/metrics.md.  Per target: success, duration, verdict, DNS time and
 * one series per finding code; per attempt (exchanger, address, port and
 * role, which are the same from run to run): outcome, stage durations and
 * TLS facts.  Every family is a gauge with HELP and TYPE, so the same
 * series parse under both formats (promtool, which lints the text format,
 * accepts both); OpenMetrics adds "# UNIT" and the final "# EOF".
 *
 * Label values never carry free text: codes and stage names come from the
 * catalogue and the enums, the MTA from a fixed table, TLS version and
 * cipher from OpenSSL; exchanger names come from DNS and pass mxt_escape()
 * like every peer byte, then the exposition rules for \, " and newline.
 * It does not decide anything (classify.c does) and writes only to out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxtrace/escape.h"
#include "mxtrace/report.h"

/* Label values longer than this are cut by mxt_escape() ("..." appended). */
#define LABEL_MAX 255

struct mw {
	FILE *out;
	enum mxt_metrics_format fmt;
	int target_label; /* add target="..." to every series */
	int nlabels;	  /* labels written in the current series */
};

const char *
mxt_metrics_content_type(enum mxt_metrics_format f)
{
	return f == MXT_METRICS_PROMETHEUS ? "text/plain; version=0.0.4; charset=utf-8"
					   : "application/openmetrics-text; version=1.0.0; "
					     "charset=utf-8";
}

/* HELP, TYPE and, in OpenMetrics, UNIT of a family (unit NULL: none). */
static void
family(struct mw *w, const char *name, const char *unit, const char *help)
{
	fprintf(w->out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	if (unit != NULL && w->fmt == MXT_METRICS_OPENMETRICS)
		fprintf(w->out, "# UNIT %s %s\n", name, unit);
}

/* One label; the value is escaped for the terminal first, then for the
 * exposition (OpenMetrics 1.0 "Escaping": backslash, quote, newline). */
static void
label(struct mw *w, const char *key, const char *value)
{
	char *e = mxt_escape_str(value != NULL ? value : "", LABEL_MAX);
	const char *p;

	fprintf(w->out, "%c%s=\"", w->nlabels++ == 0 ? '{' : ',', key);
	for (p = e != NULL ? e : ""; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', w->out);
		if (*p == '\n')
			fputs("\\n", w->out);
		else
			fputc(*p, w->out);
	}
	fputc('"', w->out);
	free(e);
}

/* Start a sample: its name and, when asked for, the target label. */
static void
sample(struct mw *w, const char *name, const struct mxt_target *t)
{
	fputs(name, w->out);
	w->nlabels = 0;
	if (w->target_label)
		label(w, "target", t->input);
}

static void
value_int(struct mw *w, long long v)
{
	fprintf(w->out, "%s %lld\n", w->nlabels > 0 ? "}" : "", v);
}

/* Milliseconds as seconds, the base unit. */
static void
value_ms(struct mw *w, int64_t ms)
{
	fprintf(w->out, "%s %.3f\n", w->nlabels > 0 ? "}" : "", (double)ms / 1000.0);
}

/* Which kind of attempt this is: the label that keeps a plaintext retry
 * (same address and port) apart from the first try. */
static const char *
role(const struct mxt_attempt *a)
{
	if (a->canary)
		return "canary";
	return a->plaintext_retry ? "plaintext_retry" : "probe";
}

/* The labels that name an attempt, stable from run to run (no index: equal
 * preferences are shuffled, RFC 5321 §5.1). */
static void
attempt_sample(
    struct mw *w, const char *name, const struct mxt_target *t, const struct mxt_attempt *a)
{
	char port[8];

	sample(w, name, t);
	label(w, "exchanger", a->mx_index < t->dns.nmx ? t->dns.mx[a->mx_index].name : "");
	label(w, "address", a->addr.text);
	snprintf(port, sizeof(port), "%d", a->port);
	label(w, "port", port);
	label(w, "role", role(a));
}

/* notAfter ("YYYY-MM-DDTHH:MM:SSZ", as the TLS module writes it) in
 * seconds since the epoch; 0 when absent or unreadable. */
static long long
expiry_unix(const struct mxt_tls *tls)
{
	struct tm tm;

	if (!tls->have_cert || tls->not_after == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(tls->not_after, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		&tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm);
}

/* 1 when mail would be delivered: the verdict is ok or warning. */
static int
probe_success(const struct mxt_target *t)
{
	return t->verdict.status == MXT_STATUS_OK || t->verdict.status == MXT_STATUS_WARNING;
}

static void
target_families(struct mw *w, struct mxt_target *const *targets, size_t n)
{
	static const enum mxt_status statuses[] = {
	    MXT_STATUS_OK, MXT_STATUS_WARNING, MXT_STATUS_CRITICAL, MXT_STATUS_UNKNOWN};
	static const enum mxt_severity sevs[] = {MXT_SEV_INFO, MXT_SEV_WARNING, MXT_SEV_CRITICAL};
	size_t i, j, k;

	family(w, "mxtrace_probe_success", NULL,
	    "1 when mail to the target would be delivered (verdict ok or warning), else 0.");
	for (i = 0; i < n; i++) {
		sample(w, "mxtrace_probe_success", targets[i]);
		value_int(w, probe_success(targets[i]));
	}
	family(w, "mxtrace_probe_duration_seconds", "seconds",
	    "Wall time of the whole run for the target: DNS, probes and report.");
	for (i = 0; i < n; i++) {
		sample(w, "mxtrace_probe_duration_seconds", targets[i]);
		value_ms(w, targets[i]->duration_ms);
	}
	family(w, "mxtrace_verdict", NULL,
	    "The verdict as a state set: 1 for the status that holds, 0 for the others.");
	for (i = 0; i < n; i++)
		for (j = 0; j < sizeof(statuses) / sizeof(statuses[0]); j++) {
			sample(w, "mxtrace_verdict", targets[i]);
			label(w, "status", mxt_status_name(statuses[j]));
			value_int(w, targets[i]->verdict.status == statuses[j]);
		}
	family(w, "mxtrace_dns_duration_seconds", "seconds",
	    "Wall time of the DNS stage (MX, then A/AAAA of every exchanger).");
	for (i = 0; i < n; i++) {
		sample(w, "mxtrace_dns_duration_seconds", targets[i]);
		value_ms(w, targets[i]->dns.duration_ms);
	}
	family(w, "mxtrace_findings", NULL, "Number of findings of each severity.");
	for (i = 0; i < n; i++)
		for (j = 0; j < sizeof(sevs) / sizeof(sevs[0]); j++) {
			long long c = 0;

			for (k = 0; k < targets[i]->nfindings; k++)
				c += targets[i]->findings[k].severity == sevs[j];
			sample(w, "mxtrace_findings", targets[i]);
			label(w, "severity", mxt_severity_name(sevs[j]));
			value_int(w, c);
		}
	family(w, "mxtrace_finding", NULL,
	    "One series per diagnosis code found (docs/diagnoses.md): how many times it was "
	    "found; severity is the worst of them.");
	for (i = 0; i < n; i++) {
		const struct mxt_target *t = targets[i];

		for (j = 0; j < t->nfindings; j++) {
			enum mxt_severity sev = t->findings[j].severity;
			long long c = 0;

			for (k = 0; k < j; k++)
				if (strcmp(t->findings[k].code, t->findings[j].code) == 0)
					break;
			if (k < j)
				continue; /* counted with its first occurrence */
			for (k = j; k < t->nfindings; k++)
				if (strcmp(t->findings[k].code, t->findings[j].code) == 0) {
					c++;
					if (t->findings[k].severity > sev)
						sev = t->findings[k].severity;
				}
			sample(w, "mxtrace_finding", t);
			label(w, "code", t->findings[j].code);
			label(w, "severity", mxt_severity_name(sev));
			value_int(w, c);
		}
	}
	family(w, "mxtrace_tls_certificate_earliest_expiry_timestamp_seconds", "seconds",
	    "Earliest notAfter of the server certificates seen, in seconds since the epoch.");
	for (i = 0; i < n; i++) {
		long long min = 0;

		for (j = 0; j < targets[i]->nattempts; j++) {
			long long e = expiry_unix(&targets[i]->attempts[j].tls);

			if (e != 0 && (min == 0 || e < min))
				min = e;
		}
		if (min == 0)
			continue;
		sample(w, "mxtrace_tls_certificate_earliest_expiry_timestamp_seconds", targets[i]);
		value_int(w, min);
	}
	family(w, "mxtrace_egress_references", NULL,
	    "The reference check (--egress-check), when it ran: how many reference exchangers' "
	    "port 25 ended each way (result: connected, refused, timeout, unreachable, error, "
	    "not_tried).");
	for (i = 0; i < n; i++) {
		const struct mxt_target *t = targets[i];
		static const enum mxt_conn_status each[] = {MXT_CONN_OK, MXT_CONN_REFUSED,
		    MXT_CONN_TIMEOUT, MXT_CONN_UNREACHABLE, MXT_CONN_ERROR, MXT_CONN_NOT_TRIED};

		if (t->negress_refs == 0)
			continue;
		for (j = 0; j < sizeof(each) / sizeof(each[0]); j++) {
			long long c = 0;

			for (k = 0; k < t->negress_refs; k++)
				c += t->egress_refs[k].connect == each[j];
			sample(w, "mxtrace_egress_references", t);
			label(w, "result", mxt_conn_status_name(each[j]));
			value_int(w, c);
		}
	}
}

static void
attempt_families(struct mw *w, struct mxt_target *const *targets, size_t n)
{
	size_t i, j, k;

	family(w, "mxtrace_attempt_success", NULL,
	    "1 when the SMTP session with the address ran to its planned end.");
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];

			attempt_sample(w, "mxtrace_attempt_success", targets[i], a);
			value_int(w, a->end == MXT_END_OK);
		}
	family(w, "mxtrace_attempt_end_info", NULL,
	    "How the session ended (end) and in which stage; always 1.");
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];

			attempt_sample(w, "mxtrace_attempt_end_info", targets[i], a);
			label(w, "end", mxt_end_name(a->end));
			label(w, "stage", mxt_stage_name(a->end_stage));
			value_int(w, 1);
		}
	family(w, "mxtrace_stage_duration_seconds", "seconds",
	    "Time spent in each stage of the session (summed over its commands, e.g. several "
	    "RCPT), whether it succeeded or not.");
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];
			int64_t sum[MXT_STAGE_COUNT];
			int have[MXT_STAGE_COUNT];

			memset(sum, 0, sizeof(sum));
			memset(have, 0, sizeof(have));
			if (a->connect != MXT_CONN_NOT_TRIED) {
				have[MXT_STAGE_CONNECT] = 1;
				sum[MXT_STAGE_CONNECT] = a->connect_ms;
			}
			if (a->tls.attempted) {
				have[MXT_STAGE_TLS] = 1;
				sum[MXT_STAGE_TLS] = a->tls.duration_ms;
			}
			for (k = 0; k < a->nsteps; k++)
				if (a->steps[k].stage < MXT_STAGE_COUNT) {
					have[a->steps[k].stage] = 1;
					sum[a->steps[k].stage] += a->steps[k].duration_ms;
				}
			for (k = 0; k < MXT_STAGE_COUNT; k++) {
				if (!have[k])
					continue;
				attempt_sample(w, "mxtrace_stage_duration_seconds", targets[i], a);
				label(w, "stage", mxt_stage_name((enum mxt_stage)k));
				value_ms(w, sum[k]);
			}
		}
	family(w, "mxtrace_mta_info", NULL,
	    "The MTA software fingerprinted from the greeting and EHLO keywords "
	    "(attempt.server_software), when known; always 1.");
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];
			const char *mta = mxt_banner_mta(a);

			if (mta == NULL)
				continue;
			attempt_sample(w, "mxtrace_mta_info", targets[i], a);
			label(w, "mta", mta);
			value_int(w, 1);
		}
	family(w, "mxtrace_tls_info", NULL,
	    "Protocol version and cipher of a completed TLS handshake; always 1.");
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];

			if (!a->tls.ok)
				continue;
			attempt_sample(w, "mxtrace_tls_info", targets[i], a);
			label(w, "version", a->tls.version);
			label(w, "cipher", a->tls.cipher);
			value_int(w, 1);
		}
	family(w, "mxtrace_tls_certificate_verified", NULL,
	    "1 when the server certificate chains to a trusted CA and matches the exchanger name.");
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];

			if (!a->tls.have_cert)
				continue;
			attempt_sample(w, "mxtrace_tls_certificate_verified", targets[i], a);
			value_int(w, a->tls.chain_ok && a->tls.name_ok);
		}
	family(w, "mxtrace_tls_certificate_expiry_timestamp_seconds", "seconds",
	    "notAfter of the server certificate, in seconds since the epoch.");
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];
			long long e = expiry_unix(&a->tls);

			if (e == 0)
				continue;
			attempt_sample(
			    w, "mxtrace_tls_certificate_expiry_timestamp_seconds", targets[i], a);
			value_int(w, e);
		}
}

int
mxt_render_metrics(FILE *out, struct mxt_target *const *targets, size_t n,
    enum mxt_metrics_format f, int target_label)
{
	struct mw w;

	if (!target_label && n > 1)
		return -1; /* the series of two targets would collide */
	memset(&w, 0, sizeof(w));
	w.out = out;
	w.fmt = f;
	w.target_label = target_label;
	target_families(&w, targets, n);
	attempt_families(&w, targets, n);
	if (f == MXT_METRICS_OPENMETRICS)
		fputs("# EOF\n", out);
	return fflush(out) == EOF || ferror(out) ? -1 : 0;
}

int
mxt_render_openmetrics(FILE *out, struct mxt_target *const *targets, size_t n)
{
	return mxt_render_metrics(out, targets, n, MXT_METRICS_OPENMETRICS, 1);
}
