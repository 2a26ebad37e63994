/* SPDX-License-Identifier: MIT */
/*
 * The record: one per target, flowing through the pipeline.  The DNS stage
 * fills target, dns and client; the probe stage appends attempts; the report
 * stage reads all of it and writes only findings and the verdict.  No stage
 * reaches back.  Observed failures (NXDOMAIN, a refused connection, a 550)
 * are data stored here, not error returns.
 *
 * Strings are owned by the record (heap, NUL-terminated) unless noted, and
 * hold raw peer bytes: escaping is the renderers' job.
 */
#ifndef MXTRACE_RECORD_H
#define MXTRACE_RECORD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mxtrace/reply.h"

/* ---- DNS ---- */

/* Outcome of one DNS query, kept apart (RFC 5321 §5.1 treats them apart). */
enum mxt_dns_status {
	MXT_DNS_NOT_RUN = 0,
	MXT_DNS_OK,	     /* answer with data */
	MXT_DNS_NODATA,	     /* NOERROR, no records of that type */
	MXT_DNS_NXDOMAIN,    /* the name does not exist */
	MXT_DNS_SERVFAIL,    /* temporary failure at the resolver */
	MXT_DNS_REFUSED,     /* the resolver refused the query */
	MXT_DNS_TIMEOUT,     /* no answer in time */
	MXT_DNS_UNREACHABLE, /* the resolver could not be reached (ECONNREFUSED) */
	MXT_DNS_BADRESP,     /* malformed answer */
	MXT_DNS_ERROR	     /* anything else (see error) */
};

struct mxt_dns_query {
	enum mxt_dns_status status;
	uint32_t ttl;	     /* smallest TTL of the answer RRs, when status is OK */
	int64_t duration_ms; /* from send to answer */
	char *error;	     /* c-ares' text for status ERROR, else NULL */
};

struct mxt_address {
	int family; /* AF_INET or AF_INET6 */
	char text[46];
	struct sockaddr_storage sa;
	socklen_t salen;
	uint32_t ttl;
};

/* How the exchanger list came about. */
enum mxt_mx_source {
	MXT_MX_SOURCE_NONE = 0, /* DNS gave no usable answer */
	MXT_MX_SOURCE_MX,	/* MX records */
	MXT_MX_SOURCE_IMPLICIT, /* no MX: the domain's own A/AAAA (RFC 5321 §5.1) */
	MXT_MX_SOURCE_NULL,	/* RFC 7505 null MX: accepts no mail */
	MXT_MX_SOURCE_SERVER	/* --server: MX lookup skipped */
};

/* Facts about an exchanger. */
enum {
	MXT_XF_CNAME = 1u << 0,	       /* the MX target is an alias (RFC 5321 §5.1 violation) */
	MXT_XF_IP_LITERAL = 1u << 1,   /* the MX target is an IP address, not a name */
	MXT_XF_NXDOMAIN = 1u << 2,     /* the MX target does not exist (bad FQDN) */
	MXT_XF_NO_ADDRESS = 1u << 3,   /* exists, but no A/AAAA */
	MXT_XF_INVALID_NAME = 1u << 4, /* not a valid host name: never used */
	MXT_XF_OVER_LIMIT = 1u << 5,   /* beyond the L9 cap: not probed */
	MXT_XF_NULL = 1u << 6,	       /* the "." target of a null MX */
	/* an A/AAAA no MTA connects to (0.0.0.0, multicast, ...) */
	MXT_XF_UNUSABLE_ADDRESS = 1u << 7,
	/* resolves to 127/8 or ::1: left out unless --allow-loopback */
	MXT_XF_LOOPBACK_ADDRESS = 1u << 8
};

struct mxt_exchanger {
	char *name; /* A-label form, no trailing dot */
	int preference;
	unsigned flags; /* MXT_XF_* */
	char *cname;	/* canonical name when MXT_XF_CNAME */
	struct mxt_dns_query q_a, q_aaaa;
	struct mxt_address *addrs; /* owned */
	size_t naddrs;
};

struct mxt_dns {
	char *resolver; /* "ADDR:PORT" of the resolver(s) asked */
	struct mxt_dns_query q_mx;
	enum mxt_mx_source source;
	int null_mx_mixed;	  /* a null MX stood beside other MX records */
	struct mxt_exchanger *mx; /* sorted by preference, equal ones shuffled */
	size_t nmx;
	int64_t duration_ms; /* wall time of the whole DNS stage */
};

/* ---- client identity (RFC 5321 §4.1.4: receivers judge the EHLO name) ---- */

struct mxt_client {
	char *local_v4; /* source address towards the MX, per family */
	char *local_v6;
	char *egress;	   /* public address as the server saw it, if known */
	char *egress_from; /* "banner", "ehlo", "option" */
	char *ptr;	   /* PTR of egress (or local) address */
	struct mxt_dns_query q_ptr;
	int fcrdns;	 /* PTR name resolves back to the address */
	char *ehlo_name; /* the name sent in EHLO/HELO */
	char *ehlo_from; /* "option", "ptr", "hostname", "literal" */
	int ehlo_resolves;
};

/* ---- probe ---- */

enum mxt_conn_status {
	MXT_CONN_NOT_TRIED = 0,
	MXT_CONN_OK,
	MXT_CONN_REFUSED,     /* RST: port closed or service down */
	MXT_CONN_TIMEOUT,     /* no answer to SYN: filtered */
	MXT_CONN_UNREACHABLE, /* ICMP unreachable / no route */
	MXT_CONN_ERROR	      /* anything else (see errno text) */
};

enum mxt_mode { MXT_MODE_SMTP = 0, MXT_MODE_SUBMISSION, MXT_MODE_SMTPS };

/* SMTP stages, in session order.  Names are stable (JSON). */
enum mxt_stage {
	MXT_STAGE_CONNECT = 0,
	MXT_STAGE_BANNER,
	MXT_STAGE_EHLO,
	MXT_STAGE_HELO,
	MXT_STAGE_STARTTLS,
	MXT_STAGE_TLS,
	MXT_STAGE_EHLO_TLS,
	MXT_STAGE_AUTH,
	MXT_STAGE_MAIL,
	MXT_STAGE_RCPT,
	MXT_STAGE_DATA,
	MXT_STAGE_DATA_END,
	MXT_STAGE_RSET,
	MXT_STAGE_QUIT,
	MXT_STAGE_COUNT
};

/* How a step ended. */
enum mxt_step_status {
	MXT_STEP_REPLIED = 0, /* reply holds the server's answer */
	MXT_STEP_TIMEOUT,     /* no complete reply before the deadline */
	MXT_STEP_CLOSED,      /* the server closed or reset the connection */
	MXT_STEP_PROTOCOL,    /* the reply broke the protocol (see reply.flags) */
	MXT_STEP_ERROR	      /* local error (TLS, socket) */
};

/* One command and its reply.  command is what was sent, secrets redacted. */
struct mxt_step {
	enum mxt_stage stage;
	char *command; /* NULL for the banner */
	enum mxt_step_status status;
	struct mxt_reply reply;
	int64_t started_ms; /* since the attempt started */
	int64_t duration_ms;
};

struct mxt_tls {
	int attempted;
	int ok;	       /* handshake completed */
	char *error;   /* OpenSSL's reason when the handshake failed */
	int injection; /* plaintext followed the STARTTLS 220 (RFC 3207 §4.2) */
	char *version; /* "TLSv1.3" */
	char *cipher;
	int have_cert;
	int chain_ok;	    /* verified against the trust store */
	long verify_code;   /* X509_V_* */
	char *verify_error; /* X509_verify_cert_error_string */
	int name_ok;	    /* matches the MX name (OpenSSL host check) */
	char *peer_name;    /* the name checked against */
	char *subject;
	char *issuer;
	char **san;
	size_t nsan;
	char *not_before; /* ISO 8601 UTC */
	char *not_after;
	int days_left;
	int64_t duration_ms;
};

enum mxt_dir { MXT_DIR_CLIENT = 0, MXT_DIR_SERVER, MXT_DIR_INFO };

struct mxt_tline {
	int64_t t_ms; /* since the attempt started */
	enum mxt_dir dir;
	int tls;    /* inside TLS */
	char *text; /* raw, redacted; may contain any byte but NUL */
	size_t len;
};

/* How the whole attempt ended. */
enum mxt_end {
	MXT_END_NONE = 0,
	MXT_END_OK,	  /* the session ran to its planned end */
	MXT_END_CONNECT,  /* connection failed: see connect */
	MXT_END_REJECTED, /* a 4xx/5xx ended the session early */
	MXT_END_TIMEOUT,  /* a step timed out */
	MXT_END_CLOSED,	  /* the server closed the connection */
	MXT_END_PROTOCOL, /* the server broke the protocol */
	MXT_END_TLS,	  /* TLS failed */
	MXT_END_LOCAL,	  /* mxtrace refused to go on (policy, e.g. no TLS for AUTH) */
	MXT_END_DEADLINE  /* the overall deadline */
};

struct mxt_attempt {
	size_t mx_index; /* into dns.mx */
	struct mxt_address addr;
	int port;
	enum mxt_mode mode;
	char local[64]; /* local address:port used */
	enum mxt_conn_status connect;
	int connect_errno;
	int64_t connect_ms;
	struct mxt_step *steps; /* in the order they ran */
	size_t nsteps;
	int helo_fallback; /* EHLO refused, HELO used */
	int have_caps;
	struct mxt_caps caps; /* the last EHLO's (after TLS when TLS ran) */
	int have_caps_plain;
	struct mxt_caps caps_plain; /* before STARTTLS: unauthenticated, kept apart */
	struct mxt_tls tls;
	enum mxt_end end;
	enum mxt_stage end_stage;
	char *end_detail;
	struct mxt_tline *transcript;
	size_t ntranscript;
	size_t transcript_bytes;
	int transcript_truncated;
	int64_t started_ms; /* monotonic start */
	int64_t duration_ms;
	int canary;	     /* a port-587/465 probe run to tell egress blocking apart */
	int plaintext_retry; /* STARTTLS failed here: tried again without TLS, as
			      * opportunistic senders do */
};

/* ---- report ---- */

enum mxt_severity { MXT_SEV_INFO = 0, MXT_SEV_WARNING, MXT_SEV_CRITICAL };
enum mxt_status { MXT_STATUS_OK = 0, MXT_STATUS_WARNING, MXT_STATUS_CRITICAL, MXT_STATUS_UNKNOWN };

struct mxt_finding {
	const char *code; /* stable dotted code, from the catalogue */
	enum mxt_severity severity;
	const char *stage;
	char *host;
	char *address;
	char *evidence;
	const char *hint;
};

struct mxt_verdict {
	enum mxt_status status;
	char *summary;
	char *via; /* the exchanger mail would go through */
};

struct mxt_target {
	char *input;	      /* TARGET as given */
	char *domain;	      /* A-label form */
	char *domain_unicode; /* U-label form (same as domain when ASCII) */
	char *sender;	      /* MAIL FROM address ("" = null sender) */
	char **rcpts;
	size_t nrcpts;
	struct mxt_dns dns;
	struct mxt_client client;
	struct mxt_attempt *attempts;
	size_t nattempts;
	struct mxt_finding *findings;
	size_t nfindings;
	struct mxt_verdict verdict;
	int64_t started_unix_ms; /* wall clock, for the report */
	int64_t duration_ms;
};

/* Stable names for enums (JSON values). */
const char *mxt_dns_status_name(enum mxt_dns_status s);
const char *mxt_mx_source_name(enum mxt_mx_source s);
const char *mxt_conn_status_name(enum mxt_conn_status s);
const char *mxt_stage_name(enum mxt_stage s);
const char *mxt_step_status_name(enum mxt_step_status s);
const char *mxt_end_name(enum mxt_end e);
const char *mxt_mode_name(enum mxt_mode m);
const char *mxt_status_name(enum mxt_status s);
const char *mxt_severity_name(enum mxt_severity s);

/* Allocate a zeroed target; NULL on ENOMEM.  Free with mxt_target_free(). */
struct mxt_target *mxt_target_new(void);
void mxt_target_free(struct mxt_target *t);
/* Append a zeroed attempt/step/exchanger; returns it, NULL on ENOMEM. */
struct mxt_attempt *mxt_target_add_attempt(struct mxt_target *t);
struct mxt_step *mxt_attempt_add_step(struct mxt_attempt *a, enum mxt_stage stage);
struct mxt_exchanger *mxt_dns_add_exchanger(struct mxt_dns *d);
void mxt_attempt_free(struct mxt_attempt *a);
void mxt_tls_free(struct mxt_tls *tls);
/* Find the last step of a stage, NULL if it never ran. */
const struct mxt_step *mxt_attempt_step(const struct mxt_attempt *a, enum mxt_stage stage);

#endif
