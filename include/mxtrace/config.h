/* SPDX-License-Identifier: MIT */
/*
 * Run configuration: what the user asked for, filled by the CLI and read (never
 * written) by the stages.  Strings are owned by the config and already
 * validated (no CR/LF/NUL can reach a command line).
 */
#ifndef MXTRACE_CONFIG_H
#define MXTRACE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "mxtrace/range.h"

/* A host (name or address) and a port; port 0: the default. */
struct mxt_hostport {
	char *host;
	int port;
};

/* Warn when the server certificate expires within this many days. */
#define MXT_CERT_WARN_DAYS_DEFAULT 14

enum mxt_starttls_mode { MXT_STARTTLS_AUTO = 0, MXT_STARTTLS_REQUIRE, MXT_STARTTLS_NEVER };
enum mxt_format {
	MXT_FORMAT_TEXT = 0,
	MXT_FORMAT_JSON,
	MXT_FORMAT_NAGIOS,
	MXT_FORMAT_OPENMETRICS,
	MXT_FORMAT_PROMETHEUS /* the same metrics in the Prometheus text format 0.0.4 */
};
enum mxt_family { MXT_FAMILY_ANY = 0, MXT_FAMILY_V4, MXT_FAMILY_V6 };

/* Where a session stops (--quit-after); the default is RCPT then RSET+QUIT. */
enum mxt_quit_after {
	MXT_QUIT_AFTER_CONNECT = 1,
	MXT_QUIT_AFTER_BANNER,
	MXT_QUIT_AFTER_EHLO,
	MXT_QUIT_AFTER_TLS,
	MXT_QUIT_AFTER_AUTH,
	MXT_QUIT_AFTER_MAIL,
	MXT_QUIT_AFTER_RCPT,
	MXT_QUIT_AFTER_NONE /* run to the end (DATA with --send) */
};

struct mxt_config {
	char *target; /* TARGET as given */
	char *from;   /* --from, "" for the null sender */
	char **to;    /* --to (repeatable) */
	size_t nto;
	char *server; /* --server HOST (port split out) */
	int port;     /* --port, or the port in --server; 0 = default */
	char *source; /* --source ADDR */
	char *ehlo;   /* --ehlo NAME */
	enum mxt_starttls_mode starttls;
	int tls_on_connect;
	char *ca_file;
	char *user;
	char *auth_mech;
	int send;
	char *body;
	char *body_file;
	uint64_t size;
	enum mxt_quit_after quit_after;
	enum mxt_family family;
	char *resolver; /* --resolver ADDR[:PORT] */
	int dns_timeout_ms;
	int dns_tries;
	int64_t timeout_connect_ms;
	int64_t timeout_banner_ms;
	int64_t timeout_command_ms;
	int64_t timeout_total_ms;
	enum mxt_format format;
	int transcript;
	char *batch;
	int concurrency;
	int per_address; /* --per-address N: connections at once to one MX address */
	int have_seed;
	uint64_t seed;
	int verbose;
	int quiet;
	int color; /* -1 auto, 0 never, 1 always */
	/* Added with the CLI (src/cli/options.c). */
	char *domain; /* TARGET's domain, A-label form, no trailing dot; NULL without TARGET */
	char *domain_unicode;	  /* the same in U-label form, for display */
	char *egress_ip;	  /* --egress-ip ADDR: the public address servers see */
	char *password_file;	  /* --password-file FILE */
	int allow_plaintext_auth; /* --allow-plaintext-auth */
	int allow_loopback;	  /* --allow-loopback: exchangers may resolve to 127/8, ::1 */
	int submission;		  /* --submission: message submission (RFC 6409) */
	int cert_warn_days;	  /* --cert-warn-days N */
	char *body_data;	  /* --body-file contents, read by the CLI */
	size_t body_data_len;
	int no_dane;	/* --no-dane: no TLSA lookups, no DANE verification */
	int no_mta_sts; /* --no-mta-sts: no MTA-STS or TLS-RPT lookups */
	char *password; /* read by the CLI (environment, file or prompt), never argv;
			 * wiped by mxt_config_free() */
	/* Exporter mode (src/exporter). */
	char *listen;	       /* --listen: address to serve HTTP on; NULL: not an exporter */
	int listen_port;       /* its port */
	char *exporter_config; /* --config FILE: the exporter's modules */
	int max_probes;	       /* --max-probes N: /probe requests at once */
	/* Reputation checks (src/reputation). */
	char **dnsbl; /* --dnsbl ZONE (repeatable), no trailing dot */
	size_t ndnsbl;
	int no_dnsbl; /* --no-dnsbl: ask no blocklist at all */
	int no_spf;   /* --no-spf: no SPF or DMARC check */
	/* --egress-check HOST[:PORT] (repeatable): reference exchangers whose
	 * port 25 is tried when every port-25 connect timed out; none given:
	 * the built-in list, against the real DNS only (docs/mxtrace.1). */
	struct mxt_hostport *egress_check;
	size_t negress_check;
	int egress_check_none; /* --egress-check none: no reference check at all */
	/* Nagios plugin thresholds (--format nagios, docs/mxtrace.1). */
	struct mxt_range warn_time; /* -w RANGE: the run's time in seconds */
	struct mxt_range crit_time; /* -c RANGE */
	int cert_crit_days;	    /* --cert-crit-days N; -1: none */
};

void mxt_config_init(struct mxt_config *c);
void mxt_config_free(struct mxt_config *c);

#endif
