/* SPDX-License-Identifier: MIT */
/*
 * OpenMetrics renderer (Prometheus text exposition, e.g. for the node
 * exporter's textfile collector): the verdict, every finding, and per
 * attempt the outcome, per-stage durations and certificate expiry.  Label
 * values are escaped twice over: mxt_escape() for peer bytes, then the
 * OpenMetrics rules for backslash, quote and newline.  Writes only to out.
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "mxtrace/report.h"

/* A label value: escaped peer text with \\ and \" quoted. */
static void
label(FILE *out, const char *s)
{
	char *e = mxt_escape_str(s != NULL ? s : "", 255);
	const char *p;

	for (p = e != NULL ? e : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', out);
		fputc(*p, out);
	}
	free(e);
}

static void
target_labels(FILE *out, const struct mxt_target *t)
{
	fputs("target=\"", out);
	label(out, t->input);
	fputc('"', out);
}

static void
attempt_labels(FILE *out, const struct mxt_target *t, const struct mxt_attempt *a)
{
	target_labels(out, t);
	fputs(",exchanger=\"", out);
	label(out, t->dns.mx[a->mx_index].name);
	/* attempt= keeps series apart: a plaintext retry or a canary can
	 * share address and port with another attempt. */
	fprintf(out, "\",address=\"%s\",port=\"%d\",attempt=\"%zu\"", a->addr.text, a->port,
	    (size_t)(a - t->attempts));
}

int
mxt_render_openmetrics(
    FILE *out, struct mxt_target *const *targets, size_t n, const struct mxt_config *cfg)
{
	size_t i, j, k;

	fputs("# TYPE mxtrace_status gauge\n"
	      "# HELP mxtrace_status Verdict: 0 ok, 1 warning, 2 critical, 3 unknown.\n",
	    out);
	for (i = 0; i < n; i++) {
		fputs("mxtrace_status{", out);
		target_labels(out, targets[i]);
		fprintf(out, "} %d\n", (int)targets[i]->verdict.status);
	}
	fputs("# TYPE mxtrace_dns_duration_seconds gauge\n", out);
	for (i = 0; i < n; i++) {
		fputs("mxtrace_dns_duration_seconds{", out);
		target_labels(out, targets[i]);
		fprintf(out, "} %.3f\n", targets[i]->dns.duration_ms / 1000.0);
	}
	fputs("# TYPE mxtrace_finding gauge\n"
	      "# HELP mxtrace_finding A diagnosis (docs/diagnoses.md) found for the target.\n",
	    out);
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nfindings; j++) {
			const struct mxt_finding *f = &targets[i]->findings[j];

			fputs("mxtrace_finding{", out);
			target_labels(out, targets[i]);
			fprintf(out, ",code=\"%s\",severity=\"%s\",host=\"", f->code,
			    mxt_severity_name(f->severity));
			label(out, f->host);
			fputs("\"} 1\n", out);
		}
	fputs("# TYPE mxtrace_attempt_success gauge\n"
	      "# HELP mxtrace_attempt_success 1 when the session ran to its planned end.\n",
	    out);
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];

			fputs("mxtrace_attempt_success{", out);
			attempt_labels(out, targets[i], a);
			fprintf(
			    out, ",end=\"%s\"} %d\n", mxt_end_name(a->end), a->end == MXT_END_OK);
		}
	fputs("# TYPE mxtrace_stage_duration_seconds gauge\n", out);
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];

			if (a->connect == MXT_CONN_OK) {
				fputs("mxtrace_stage_duration_seconds{", out);
				attempt_labels(out, targets[i], a);
				fprintf(out, ",stage=\"connect\"} %.3f\n", a->connect_ms / 1000.0);
			}
			for (k = 0; k < a->nsteps; k++) {
				if (a->steps[k].status != MXT_STEP_REPLIED)
					continue;
				fputs("mxtrace_stage_duration_seconds{", out);
				attempt_labels(out, targets[i], a);
				fprintf(out, ",stage=\"%s\",step=\"%zu\"} %.3f\n",
				    mxt_stage_name(a->steps[k].stage), k,
				    a->steps[k].duration_ms / 1000.0);
			}
		}
	fputs("# TYPE mxtrace_tls_certificate_days_left gauge\n", out);
	for (i = 0; i < n; i++)
		for (j = 0; j < targets[i]->nattempts; j++) {
			const struct mxt_attempt *a = &targets[i]->attempts[j];

			if (!a->tls.have_cert)
				continue;
			fputs("mxtrace_tls_certificate_days_left{", out);
			attempt_labels(out, targets[i], a);
			fprintf(out, ",verified=\"%d\"} %d\n", a->tls.chain_ok && a->tls.name_ok,
			    a->tls.days_left);
		}
	fputs("# EOF\n", out);
	return fflush(out) == EOF || ferror(out) ? -1 : 0;
}
