/* SPDX-License-Identifier: MIT */
/*
 * Report stage: reads a filled record and writes only its findings and
 * verdict, then renders it.  Never touches the network.
 */
#ifndef MXTRACE_REPORT_H
#define MXTRACE_REPORT_H

#include <stdio.h>

#include "mxtrace/config.h"
#include "mxtrace/range.h"
#include "mxtrace/record.h"

/* Classify what the DNS and probe stages observed, judged against what was
 * asked (t->request): append findings (diagnosis codes with evidence and
 * hints) and set the verdict.  Returns 0, or -1 on ENOMEM. */
int mxt_classify(struct mxt_target *t);

/* One entry of the diagnosis catalogue (generated from diagnoses.def). */
struct mxt_diagnosis {
	const char *code; /* stable dotted code, e.g. "connect.timeout" */
	enum mxt_severity severity;
	const char *stage; /* "dns", "client", "connect", "banner", ... */
	const char *title; /* one line: what it means */
	const char *hint;  /* what to do, for a helpdesk */
};
/* The whole catalogue; *n receives its length. */
const struct mxt_diagnosis *mxt_diagnoses(size_t *n);
/* Look up a code; NULL if unknown. */
const struct mxt_diagnosis *mxt_diagnosis_find(const char *code);

/* How to render, chosen by the caller (the records say what happened and
 * what was asked; these say only how to show it). */
struct mxt_render_opts {
	int transcript; /* text: every attempt's transcript */
	int compact;	/* JSON: one document per line (JSON Lines) */
	int color;	/* text: ANSI colours */
	/* Nagios thresholds (the certificate warning days and the overall
	 * deadline are the request's, in the record). */
	struct mxt_range warn_time; /* -w: the run's time in seconds */
	struct mxt_range crit_time; /* -c */
	int have_cert_crit;	    /* --cert-crit-days was given: */
	int cert_crit_days;	    /* CRITICAL below this many days */
};

/* Renderers write only to out.  Return 0, or -1 on a write error. */
int mxt_render_json(
    FILE *out, struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *o);
int mxt_render_text(
    FILE *out, struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *o);
int mxt_render_nagios(
    FILE *out, struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *o);

/* Metrics exposition formats (docs/metrics.md).  Every family is a gauge, so
 * both parse the same series; OpenMetrics adds "# UNIT" lines and "# EOF". */
enum mxt_metrics_format {
	MXT_METRICS_OPENMETRICS = 0, /* OpenMetrics 1.0.0 */
	MXT_METRICS_PROMETHEUS	     /* Prometheus text format 0.0.4 */
};
/* The HTTP Content-Type of a format (a static string). */
const char *mxt_metrics_content_type(enum mxt_metrics_format f);
/* Write one exposition holding the metric families of n targets.  With
 * target_label every series carries target="INPUT", so several targets can
 * share an exposition (a batch, the node exporter's textfile collector);
 * without it (an exporter's /probe, where Prometheus adds the instance
 * label) n must be 1. */
int mxt_render_metrics(FILE *out, struct mxt_target *const *targets, size_t n,
    enum mxt_metrics_format f, int target_label);
/* mxt_render_metrics() in OpenMetrics with target labels (--format openmetrics). */
int mxt_render_openmetrics(FILE *out, struct mxt_target *const *targets, size_t n);

/* The receiving software of one attempt, fingerprinted from its 220
 * greeting and EHLO keywords (src/report/software.def).  Every string is
 * static, from the table, never from the peer. */
struct mxt_software {
	const char *name;    /* stable: "postfix", "exim", ..., or "unknown" */
	const char *product; /* "Postfix", ...; NULL when unknown */
	const char *source;  /* where the evidence is: "banner", "ehlo", "ehlo_tls" */
	const char *match;   /* the table's word that matched */
};
void mxt_server_software(const struct mxt_attempt *a, struct mxt_software *out);
/* The name mxt_server_software() gives, NULL when unknown. */
const char *mxt_banner_mta(const struct mxt_attempt *a);
/* The hint for a diagnosis code in one software's terms ("smtpd_tls_cert_file"
 * for Postfix), NULL when the catalogue's hint stands. */
const char *mxt_software_hint(const char *code, const char *software);
/* The i-th software of the table (its stable name; *product gets the
 * product name when product is not NULL); NULL past the last. */
const char *mxt_software_name(size_t i, const char **product);

/* The Nagios state of a target under --format nagios: the worst of the
 * verdict, the -w/-c ranges on the run's time and the certificate-days
 * thresholds; UNKNOWN when the overall deadline cut the run short. */
enum mxt_status mxt_nagios_status(const struct mxt_target *t, const struct mxt_render_opts *o);
/* Exit status of a --format nagios run: the worst mxt_nagios_status(). */
int mxt_nagios_exit_code(
    struct mxt_target *const *targets, size_t n, const struct mxt_render_opts *o);

/* Exit status for a run (Nagios conventions): 0 ok, 1 warning, 2 critical,
 * 3 unknown: the worst verdict over all targets. */
int mxt_exit_code(struct mxt_target *const *targets, size_t n);
/* The exit status of one verdict (MXT_STATUS_LIST in record.h). */
int mxt_exit_of_status(enum mxt_status s);
/* The worse of two exit statuses: critical (2) > warning (1) > unknown (3)
 * > ok (0).  An a outside 0..3 means "none yet" and yields b. */
int mxt_exit_worse(int a, int b);

/* JSON schema version written as "schema_version". */
#define MXT_SCHEMA_VERSION "1.0"

#endif
