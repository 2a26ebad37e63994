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

#include "mxtrace/config.h"
#include "mxtrace/reply.h"

/* ---- DNS ---- */

/*
 * The enums below are written once, as X-macro lists: X(ID, "json name", ...)
 * generates the enum constant MXT_..._ID and the entry of its name table in
 * record.c, so the two cannot drift apart.  Names are stable (JSON values).
 */

/* Outcome of one DNS query, kept apart (RFC 5321 §5.1 treats them apart).
 * X(ID, json name, text for people) */
#define MXT_DNS_STATUS_LIST(X)                                                                     \
	X(NOT_RUN, "not_run", "not run")                                                           \
	X(OK, "ok", "OK")		    /* answer with data */                                 \
	X(NODATA, "nodata", "NODATA")	    /* NOERROR, no records of that type */                 \
	X(NXDOMAIN, "nxdomain", "NXDOMAIN") /* the name does not exist */                          \
	X(SERVFAIL, "servfail", "SERVFAIL") /* temporary failure at the resolver */                \
	X(REFUSED, "refused", "REFUSED")    /* the resolver refused the query */                   \
	X(TIMEOUT, "timeout", "TIMEOUT")    /* no answer in time */                                \
	/* the resolver could not be reached (ECONNREFUSED) */                                     \
	X(UNREACHABLE, "unreachable", "UNREACHABLE")                                               \
	X(BADRESP, "badresp", "malformed answer") /* malformed answer */                           \
	X(ERROR, "error", "ERROR")		  /* anything else (see error) */

enum mxt_dns_status {
#define MXT_X_(id, name, text) MXT_DNS_##id,
	MXT_DNS_STATUS_LIST(MXT_X_)
#undef MXT_X_
};

struct mxt_dns_query {
	enum mxt_dns_status status;
	uint32_t ttl;	     /* smallest TTL of the answer RRs, when status is OK */
	int64_t duration_ms; /* from send to answer */
	char *error;	     /* c-ares' text for status ERROR, else NULL */
	/* The resolver set the AD bit (RFC 4035 §3.2.3, asked for as in
	 * RFC 6840 §5.7): it validated the answer with DNSSEC.  mxtrace trusts
	 * the bit as Postfix does, so the path to the resolver must be trusted
	 * (docs/mxtrace.1, DNSSEC). */
	int authentic;
};

struct mxt_address {
	int family; /* AF_INET or AF_INET6 */
	char text[46];
	struct sockaddr_storage sa;
	socklen_t salen;
	uint32_t ttl;
};

/* How the exchanger list came about. */
#define MXT_MX_SOURCE_LIST(X)                                                                      \
	X(NONE, "none")		/* DNS gave no usable answer */                                    \
	X(MX, "mx")		/* MX records */                                                   \
	X(IMPLICIT, "implicit") /* no MX: the domain's own A/AAAA (RFC 5321 §5.1) */              \
	X(NULL, "null")		/* RFC 7505 null MX: accepts no mail */                            \
	X(SERVER, "server")	/* --server: MX lookup skipped */

enum mxt_mx_source {
#define MXT_X_(id, name) MXT_MX_SOURCE_##id,
	MXT_MX_SOURCE_LIST(MXT_X_)
#undef MXT_X_
};

/* Facts about an exchanger: X(ID, bit, json name). */
#define MXT_XF_LIST(X)                                                                             \
	/* the MX target is an alias (RFC 5321 §5.1 violation) */                                 \
	X(CNAME, 0, "cname")                                                                       \
	/* the MX target is an IP address, not a name */                                           \
	X(IP_LITERAL, 1, "ip_literal")                                                             \
	/* the MX target does not exist (bad FQDN) */                                              \
	X(NXDOMAIN, 2, "nxdomain")                                                                 \
	/* exists, but no A/AAAA */                                                                \
	X(NO_ADDRESS, 3, "no_address")                                                             \
	/* not a valid host name: never used */                                                    \
	X(INVALID_NAME, 4, "invalid_name")                                                         \
	/* beyond the MX host cap (MXT_MX_MAX, limits.h): not probed */                            \
	X(OVER_LIMIT, 5, "over_limit")                                                             \
	/* the "." target of a null MX */                                                          \
	X(NULL, 6, "null")                                                                         \
	/* an A/AAAA no MTA connects to (0.0.0.0, multicast, ...) */                               \
	X(UNUSABLE_ADDRESS, 7, "unusable_address")                                                 \
	/* resolves to 127/8 or ::1: left out unless --allow-loopback */                           \
	X(LOOPBACK_ADDRESS, 8, "loopback_address")                                                 \
	/* more A/AAAA than MXT_ADDRS_PER_MX_MAX: the rest is not used */                          \
	X(ADDRESS_OVER_LIMIT, 9, "address_over_limit")

enum {
#define MXT_X_(id, bit, name) MXT_XF_##id = 1u << bit,
	MXT_XF_LIST(MXT_X_)
#undef MXT_X_
};

/* One TLSA record (RFC 6698 §2.1), as the resolver returned it. */
struct mxt_tlsa {
	uint8_t usage, selector, mtype;
	unsigned char *data; /* owned */
	size_t len;
};

/* DANE state of an exchanger (RFC 7672 §2.2): was _25._tcp.<name> TLSA
 * looked up, and what came back.  The report judges it. */
#define MXT_DANE_LOOKUP_LIST(X)                                                                    \
	X(NOT_RUN, "not_run") /* DANE off, or the exchanger is not eligible */                     \
	/* MX or address answers not authentic: no DANE (TLSA asked, to report) */                 \
	X(INSECURE, "insecure")                                                                    \
	X(DONE, "done") /* eligible and asked: see q_tlsa */

enum mxt_dane_lookup {
#define MXT_X_(id, name) MXT_DANE_LOOKUP_##id,
	MXT_DANE_LOOKUP_LIST(MXT_X_)
#undef MXT_X_
};

struct mxt_exchanger {
	char *name; /* A-label form, no trailing dot */
	int preference;
	unsigned flags; /* MXT_XF_* */
	char *cname;	/* canonical name when MXT_XF_CNAME */
	struct mxt_dns_query q_a, q_aaaa;
	struct mxt_address *addrs; /* owned */
	size_t naddrs;
	enum mxt_dane_lookup dane;
	struct mxt_dns_query q_tlsa; /* _25._tcp.<name> TLSA (RFC 7672 §2.2.3) */
	struct mxt_tlsa *tlsa;	     /* owned; every record of the answer */
	size_t ntlsa;
};

struct mxt_dns {
	char *resolver; /* "ADDR:PORT" of the resolver(s) asked */
	struct mxt_dns_query q_mx;
	enum mxt_mx_source source;
	int null_mx_mixed;	  /* a null MX stood beside other MX records */
	struct mxt_exchanger *mx; /* sorted by preference, equal ones shuffled */
	size_t nmx;
	int64_t duration_ms;   /* wall time of the whole DNS stage */
	int resolver_loopback; /* every resolver asked is on 127/8 or ::1 */
};

/* ---- transport security policies: MTA-STS (RFC 8461), TLS-RPT (RFC 8460) ---- */

/* How the policy fetch from https://mta-sts.<domain>/.well-known/mta-sts.txt
 * ended (RFC 8461 §3.3). */
#define MXT_STS_FETCH_LIST(X)                                                                      \
	X(NOT_RUN, "not_run")	      /* no valid TXT record, or MTA-STS off */                    \
	X(OK, "ok")		      /* 200, text/plain, within the caps */                       \
	X(NO_HOST, "no_host")	      /* mta-sts.<domain> has no address */                        \
	X(CONNECT, "connect_failed")  /* TCP connection failed */                                  \
	X(TLS, "tls_failed")	      /* handshake or certificate check failed */                  \
	X(HTTP_STATUS, "http_status") /* not 200 (redirects are refused, RFC 8461 §3.3) */        \
	X(MEDIA_TYPE, "media_type")   /* not text/plain */                                         \
	X(TOO_LARGE, "too_large")     /* body over MXT_STS_BODY_MAX */                             \
	X(TIMEOUT, "timeout")	      /* over MXT_STS_FETCH_MS */                                  \
	X(ERROR, "error")	      /* anything else: see error */

enum mxt_sts_fetch {
#define MXT_X_(id, name) MXT_STS_FETCH_##id,
	MXT_STS_FETCH_LIST(MXT_X_)
#undef MXT_X_
};

#define MXT_STS_MODE_LIST(X)                                                                       \
	X(NONE, "none") X(TESTING, "testing") X(ENFORCE, "enforce") X(INVALID, "invalid")

enum mxt_sts_mode {
#define MXT_X_(id, name) MXT_STS_MODE_##id,
	MXT_STS_MODE_LIST(MXT_X_)
#undef MXT_X_
};

struct mxt_sts {
	int enabled;				    /* MTA-STS looked at (not --no-mta-sts) */
	struct mxt_dns_query q_txt;		    /* _mta-sts.<domain> TXT */
	size_t ntxt;				    /* TXT strings starting "v=STSv1" */
	char *txt;				    /* the (first) one, raw */
	int txt_valid;				    /* RFC 8461 §3.1 syntax holds */
	char *txt_error;			    /* why not */
	char *id;				    /* its id= */
	struct mxt_dns_query q_host_a, q_host_aaaa; /* mta-sts.<domain> */
	char *host_addrs;			    /* "ADDR,ADDR" handed to curl */
	enum mxt_sts_fetch fetch;
	long http_status;
	char *content_type;
	char *fetch_error;
	char *body; /* raw, at most MXT_STS_BODY_MAX */
	size_t body_len;
	int64_t fetch_ms;
	/* The policy (RFC 8461 §3.2); valid only with fetch OK. */
	int policy_valid;
	char *policy_error;
	enum mxt_sts_mode mode;
	char **mx; /* patterns, as written */
	size_t nmx;
	int64_t max_age; /* -1 when missing or bad */
};

struct mxt_tlsrpt {
	struct mxt_dns_query q_txt; /* _smtp._tls.<domain> TXT (RFC 8460 §3) */
	size_t nrecords;	    /* strings starting "v=TLSRPTv1" */
	char *txt;
	int valid;
	char *error;
	char **rua;
	size_t nrua;
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
	struct mxt_dnsbl *dnsbl; /* one per list and address (src/reputation/dnsbl.c) */
	size_t ndnsbl;
	char *dnsbl_skipped; /* why no list was asked, or NULL */
};

/* ---- reputation: blocklists and sender authentication (src/reputation) ---- */

/* What one DNS blocklist said about one client address (RFC 5782 §2):
 * X(ID, json name). */
#define MXT_DNSBL_STATUS_LIST(X)                                                                   \
	X(NOT_RUN, "not_run")                                                                      \
	/* NXDOMAIN: the address is not on the list */                                             \
	X(NOT_LISTED, "not_listed")                                                                \
	/* an A record in 127.0.0.0/8 */                                                           \
	X(LISTED, "listed")                                                                        \
	/* the list's own "query refused" code (Spamhaus 127.255.255.254) */                       \
	X(REFUSED, "refused")                                                                      \
	/* timeout, SERVFAIL, or an answer outside 127.0.0.0/8 */                                  \
	X(ERROR, "error")                                                                          \
	/* not asked: the list refuses our (public) resolver */                                    \
	X(SKIPPED, "skipped")

enum mxt_dnsbl_status {
#define X(id, name) MXT_DNSBL_##id,
	MXT_DNSBL_STATUS_LIST(X)
#undef X
};

struct mxt_dnsbl {
	char *zone;    /* the list's DNS zone, no trailing dot */
	char *list;    /* the list's name ("Spamhaus ZEN"), the zone when unknown */
	char *address; /* the client address looked up */
	enum mxt_dnsbl_status status;
	char **answers; /* A answers in text form (the return codes) */
	size_t nanswers;
	char *meaning;	  /* what the return code means per the list's rules, or NULL */
	char *txt;	  /* the TXT reason when listed (raw bytes), or NULL */
	char *lookup_url; /* the list's lookup page for the address, or NULL */
	struct mxt_dns_query q_a, q_txt;
};

/* RFC 7208 §2.6 results: X(ID, json name). */
#define MXT_SPF_RESULT_LIST(X)                                                                     \
	X(NOT_RUN, "not_run")                                                                      \
	X(PASS, "pass")                                                                            \
	X(FAIL, "fail")                                                                            \
	X(SOFTFAIL, "softfail")                                                                    \
	X(NEUTRAL, "neutral")                                                                      \
	X(NONE, "none")                                                                            \
	X(TEMPERROR, "temperror")                                                                  \
	X(PERMERROR, "permerror")

enum mxt_spf_result {
#define X(id, name) MXT_SPF_##id,
	MXT_SPF_RESULT_LIST(X)
#undef X
};

struct mxt_spf {
	enum mxt_spf_result result;
	char *domain;	   /* the domain checked */
	char *domain_from; /* "mail_from" or "helo" (RFC 7208 §2.3, §2.4) */
	char *address;	   /* the client address judged */
	char *record;	   /* the domain's SPF record, raw, or NULL */
	char *mechanism;   /* the term of that record that decided, or NULL */
	char *error;	   /* why permerror/temperror (libspf2's words), or NULL */
	char *explanation; /* the domain's exp= text on fail, or NULL */
	int lookups;	   /* DNS-querying terms evaluated (limit 10, RFC 7208 §4.6.4) */
	int64_t duration_ms;
};

/* The sender domain's DMARC record: X(ID, json name). */
#define MXT_DMARC_STATUS_LIST(X)                                                                   \
	X(NOT_RUN, "not_run")                                                                      \
	/* a valid record */                                                                       \
	X(OK, "ok")                                                                                \
	/* no record at the domain nor at its organizational domain */                             \
	X(MISSING, "missing")                                                                      \
	/* a record that does not parse (RFC 7489 §6.3), or several */                            \
	X(INVALID, "invalid")                                                                      \
	/* the lookup failed (timeout, SERVFAIL) */                                                \
	X(ERROR, "error")

enum mxt_dmarc_status {
#define X(id, name) MXT_DMARC_##id,
	MXT_DMARC_STATUS_LIST(X)
#undef X
};

struct mxt_dmarc {
	enum mxt_dmarc_status status;
	char *domain;	/* the From domain checked */
	char *found_at; /* the domain whose _dmarc record applies (maybe the organizational one) */
	char *record;	/* raw */
	char *policy;	/* p= "none", "quarantine", "reject" */
	char *subdomain_policy; /* sp=, or NULL */
	int pct;		/* 0-100, 100 when absent */
	char adkim, aspf;	/* 'r' or 's' */
	char *rua;		/* aggregate report URIs, or NULL */
	char *error;		/* why the record is invalid, or NULL */
	struct mxt_dns_query q;
};

struct mxt_sender {
	struct mxt_spf spf;
	struct mxt_dmarc dmarc;
	char *skipped; /* why no check ran (no sender domain, no client address), or NULL */
};

/* ---- probe ---- */

#define MXT_CONN_STATUS_LIST(X)                                                                    \
	X(NOT_TRIED, "not_tried")                                                                  \
	X(OK, "connected")                                                                         \
	X(REFUSED, "refused")	      /* RST: port closed or service down */                       \
	X(TIMEOUT, "timeout")	      /* no answer to SYN: filtered */                             \
	X(UNREACHABLE, "unreachable") /* ICMP unreachable / no route */                            \
	X(ERROR, "error")	      /* anything else (see errno text) */

enum mxt_conn_status {
#define MXT_X_(id, name) MXT_CONN_##id,
	MXT_CONN_STATUS_LIST(MXT_X_)
#undef MXT_X_
};

#define MXT_MODE_LIST(X) X(SMTP, "smtp") X(SUBMISSION, "submission") X(SMTPS, "smtps")

enum mxt_mode {
#define MXT_X_(id, name) MXT_MODE_##id,
	MXT_MODE_LIST(MXT_X_)
#undef MXT_X_
};

/* SMTP stages, in session order: X(ID, json name, what the client sent,
 * for people). */
#define MXT_STAGE_LIST(X)                                                                          \
	X(CONNECT, "connect", "connect")                                                           \
	X(BANNER, "banner", "the greeting")                                                        \
	X(EHLO, "ehlo", "EHLO")                                                                    \
	X(HELO, "helo", "HELO")                                                                    \
	X(STARTTLS, "starttls", "STARTTLS")                                                        \
	X(TLS, "tls", "the TLS handshake")                                                         \
	X(EHLO_TLS, "ehlo_tls", "EHLO after TLS")                                                  \
	X(AUTH, "auth", "AUTH")                                                                    \
	X(MAIL, "mail", "MAIL FROM")                                                               \
	X(RCPT, "rcpt", "RCPT TO")                                                                 \
	X(DATA, "data", "DATA")                                                                    \
	X(DATA_END, "data_end", "the end of the message")                                          \
	X(RSET, "rset", "RSET")                                                                    \
	X(QUIT, "quit", "QUIT")

enum mxt_stage {
#define MXT_X_(id, name, label) MXT_STAGE_##id,
	MXT_STAGE_LIST(MXT_X_)
#undef MXT_X_
	    MXT_STAGE_COUNT
};

/* How a step ended. */
#define MXT_STEP_STATUS_LIST(X)                                                                    \
	X(REPLIED, "replied")	      /* reply holds the server's answer */                        \
	X(TIMEOUT, "timeout")	      /* no complete reply before the deadline */                  \
	X(CLOSED, "closed")	      /* the server closed or reset the connection */              \
	X(PROTOCOL, "protocol_error") /* the reply broke the protocol (see reply.flags) */         \
	X(ERROR, "error")	      /* local error (TLS, socket) */                              \
	X(SENT, "sent") /* sent; the probe ended before a reply (QUIT: none awaited) */

enum mxt_step_status {
#define MXT_X_(id, name) MXT_STEP_##id,
	MXT_STEP_STATUS_LIST(MXT_X_)
#undef MXT_X_
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
	/* DANE (RFC 7672 §3): the exchanger's TLSA records were usable and
	 * handed to OpenSSL for this handshake. */
	int dane;
	int dane_ok;	       /* a TLSA record matched the chain */
	char *dane_match;      /* "3 1 1 <hex>" of the record that matched */
	int dane_depth;	       /* chain depth of the matching certificate */
	long dane_verify_code; /* X509_V_* of the DANE verification */
	char *dane_verify_error;
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
#define MXT_END_LIST(X)                                                                            \
	X(NONE, "none")                                                                            \
	X(OK, "ok")		      /* the session ran to its planned end */                     \
	X(CONNECT, "connect_failed")  /* connection failed: see connect */                         \
	X(REJECTED, "rejected")	      /* a 4xx/5xx ended the session early */                      \
	X(TIMEOUT, "timeout")	      /* a step timed out */                                       \
	X(CLOSED, "closed")	      /* the server closed the connection */                       \
	X(PROTOCOL, "protocol_error") /* the server broke the protocol */                          \
	X(TLS, "tls_failed")	      /* TLS failed */                                             \
	/* mxtrace refused to go on (policy, e.g. no TLS for AUTH) */                              \
	X(LOCAL, "local_policy")                                                                   \
	X(DEADLINE, "deadline") /* the overall deadline */

enum mxt_end {
#define MXT_X_(id, name) MXT_END_##id,
	MXT_END_LIST(MXT_X_)
#undef MXT_X_
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

#define MXT_SEVERITY_LIST(X) X(INFO, "info") X(WARNING, "warning") X(CRITICAL, "critical")

enum mxt_severity {
#define MXT_X_(id, name) MXT_SEV_##id,
	MXT_SEVERITY_LIST(MXT_X_)
#undef MXT_X_
};

/* A verdict; X(ID, json name, exit status: Nagios plugin conventions). */
#define MXT_STATUS_LIST(X)                                                                         \
	X(OK, "ok", 0) X(WARNING, "warning", 1) X(CRITICAL, "critical", 2) X(UNKNOWN, "unknown", 3)

enum mxt_status {
#define MXT_X_(id, name, exit) MXT_STATUS_##id,
	MXT_STATUS_LIST(MXT_X_)
#undef MXT_X_
};

struct mxt_finding {
	const char *code; /* stable dotted code, from the catalogue */
	enum mxt_severity severity;
	const char *stage;
	char *host;
	char *address;
	char *evidence;
	const char *hint;
	char *list;	/* *.blocklisted, client.dnsbl_*: the list's name, or NULL */
	char *list_url; /* its lookup page for the address, or NULL */
};

/* How many findings the summary names, at most (docs/diagnoses.md,
 * "Severity model"). */
#define MXT_VERDICT_NAMES_MAX 2

struct mxt_verdict {
	enum mxt_status status;
	char *summary;
	char *via; /* the exchanger mail would go through */
	/* Indexes into findings of the findings the summary names: the one
	 * that decided, and the worst one when it is more severe; -1 unused. */
	int names[MXT_VERDICT_NAMES_MAX];
	/* Findings of severity warning or worse (delivery.* aside) that the
	 * summary does not name but counts ("and 2 more: 1 critical, ..."). */
	size_t more;
	/* What a sender enforcing a transport policy would do: "deliver",
	 * "defer", or "not_applicable" (the domain has no such policy), with a
	 * sentence why.  NULL when not judged. */
	const char *dane;
	char *dane_summary;
	const char *mta_sts;
	char *mta_sts_summary;
};

/* ---- request: what was asked, so the report stage never reads the options ---- */

/* Filled once from the run's configuration (mxt_request_from_config, in
 * src/core/request.c) before the DNS stage; read-only afterwards.  The
 * sender and recipients are the target's own (sender, rcpts); the password
 * is never copied here. */
struct mxt_request {
	char *server;	    /* --server host, or NULL (MX lookup) */
	int port;	    /* the port asked for; 0 = the default (25, 465 with TLS on connect) */
	int submission;	    /* message submission (RFC 6409) */
	int tls_on_connect; /* implicit TLS (RFC 8314) */
	enum mxt_starttls_mode starttls;
	char *auth_user; /* --user, or NULL */
	char *auth_mech; /* --auth-mech, or NULL (the best offered) */
	uint64_t size;	 /* --size: declared message size, 0 = none */
	enum mxt_quit_after quit_after;
	int send; /* --send: a message is delivered */
	int cert_warn_days;
	enum mxt_family family;
	char *source; /* --source, or NULL */
	char *ehlo;   /* --ehlo, or NULL */
	int64_t timeout_connect_ms, timeout_banner_ms, timeout_command_ms, timeout_total_ms;
	int dns_timeout_ms, dns_tries;
	int no_dane;	/* --no-dane: DANE not looked at */
	int no_mta_sts; /* --no-mta-sts: MTA-STS and TLS-RPT not looked at */
	/* --egress-check: the reference exchangers asked for (none: the
	 * built-in list may be used), or egress_check_none. */
	struct mxt_hostport *egress_check;
	size_t negress_check;
	int egress_check_none;
};

/* One reference exchanger's port 25, tried because every port-25 connect
 * of the target timed out (--egress-check; src/probe/reference.c). */
struct mxt_egress_ref {
	char *host; /* as given: a name or an address */
	int port;
	char address[46];	      /* the address connected to; "" when none was found */
	enum mxt_conn_status connect; /* NOT_TRIED: no address (see error) */
	int connect_errno;
	int64_t connect_ms;
	char *error; /* why no connect was tried, or NULL */
};

struct mxt_target {
	char *input;	      /* TARGET as given (raw bytes: the renderers escape) */
	char *domain;	      /* A-label form */
	char *domain_unicode; /* U-label form (same as domain when ASCII) */
	char *sender;	      /* MAIL FROM address ("" = null sender) */
	char **rcpts;
	size_t nrcpts;
	struct mxt_dns dns;
	struct mxt_client client;
	struct mxt_sender sender_auth; /* SPF and DMARC of the sender (JSON "sender_auth") */
	struct mxt_attempt *attempts;
	size_t nattempts;
	struct mxt_sts sts;
	struct mxt_tlsrpt tlsrpt;
	struct mxt_finding *findings;
	size_t nfindings;
	struct mxt_verdict verdict;
	int64_t started_unix_ms; /* wall clock, for the report */
	int64_t duration_ms;
	struct mxt_request request; /* what was asked (read by the report stage) */
	int deadline_reached;	    /* the run's overall deadline (--timeout-total) ended it */
	size_t input_line; /* line of the --batch input (1-based), 0 for the command line */
	char *input_error; /* why the input is not a target (no stage runs), or NULL */
	/* The reference check (--egress-check), when it ran: what each
	 * reference's port 25 did; builtin: the built-in list was used. */
	struct mxt_egress_ref *egress_refs;
	size_t negress_refs;
	int egress_refs_builtin;
};

/* Stable names for enums (JSON values); "unknown" for a value out of range. */
const char *mxt_dns_status_name(enum mxt_dns_status s);
/* The DNS status for people ("NXDOMAIN", "malformed answer"); "?" if out
 * of range. */
const char *mxt_dns_status_text(enum mxt_dns_status s);
/* What the client sent at a stage, for people ("MAIL FROM", "the
 * greeting"); "a command" if out of range. */
const char *mxt_stage_label(enum mxt_stage s);
/* The JSON name of one MXT_XF_* bit; NULL if bit is not one of them. */
const char *mxt_xf_name(unsigned bit);
const char *mxt_mx_source_name(enum mxt_mx_source s);
const char *mxt_conn_status_name(enum mxt_conn_status s);
const char *mxt_stage_name(enum mxt_stage s);
const char *mxt_step_status_name(enum mxt_step_status s);
const char *mxt_end_name(enum mxt_end e);
const char *mxt_mode_name(enum mxt_mode m);
const char *mxt_status_name(enum mxt_status s);
const char *mxt_severity_name(enum mxt_severity s);
/* The most severe finding a verdict of this status admits without naming
 * it in its summary: ok admits info, warning and unknown admit warning,
 * critical admits critical (docs/diagnoses.md, "Severity model"). */
enum mxt_severity mxt_status_admits(enum mxt_status s);
const char *mxt_dnsbl_status_name(enum mxt_dnsbl_status s);
const char *mxt_spf_result_name(enum mxt_spf_result r);
const char *mxt_dmarc_status_name(enum mxt_dmarc_status s);

const char *mxt_dane_lookup_name(enum mxt_dane_lookup s);
const char *mxt_sts_fetch_name(enum mxt_sts_fetch s);
const char *mxt_sts_mode_name(enum mxt_sts_mode s);

/* The request of a run, copied from cfg (never the password); the strings
 * are owned by req.  mxt_request_free() releases them. */
void mxt_request_from_config(struct mxt_request *req, const struct mxt_config *cfg);
void mxt_request_free(struct mxt_request *req);
/* Stable names of the request's enums (JSON values). */
const char *mxt_starttls_mode_name(enum mxt_starttls_mode m);
const char *mxt_quit_after_name(enum mxt_quit_after q);
const char *mxt_family_name(enum mxt_family f);

/* Allocate a zeroed target (never NULL: out of memory aborts, xalloc.h).
 * Free with mxt_target_free(). */
struct mxt_target *mxt_target_new(void);
void mxt_target_free(struct mxt_target *t);
/* Append a zeroed attempt/step/exchanger; returns it (never NULL). */
struct mxt_attempt *mxt_target_add_attempt(struct mxt_target *t);
struct mxt_step *mxt_attempt_add_step(struct mxt_attempt *a, enum mxt_stage stage);
struct mxt_exchanger *mxt_dns_add_exchanger(struct mxt_dns *d);
struct mxt_dnsbl *mxt_client_add_dnsbl(struct mxt_client *c);
void mxt_sender_free(struct mxt_sender *s);
void mxt_attempt_free(struct mxt_attempt *a);
void mxt_tls_free(struct mxt_tls *tls);
/* Find the last step of a stage, NULL if it never ran. */
const struct mxt_step *mxt_attempt_step(const struct mxt_attempt *a, enum mxt_stage stage);

/* ---- rules about the record, written once ---- */

/* An exchanger a sender would use: not the null MX's ".", not an invalid
 * name, not beyond the MX host cap.  (Its addresses may still be missing.) */
int mxt_exchanger_usable(const struct mxt_exchanger *x);
/* RSET and QUIT only wind a session down: they are not how far it got. */
int mxt_stage_winds_down(enum mxt_stage s);
/* The last step that is not RSET or QUIT; NULL if there is none. */
const struct mxt_step *mxt_attempt_last_step(const struct mxt_attempt *a);

#endif
