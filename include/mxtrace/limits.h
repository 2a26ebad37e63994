/* SPDX-License-Identifier: MIT */
/*
 * Every limit mxtrace puts on what a peer (SMTP server, DNS server) or the
 * user controls, in one place, with the RFC section or the implementation
 * each value comes from.  A tripped limit is an observation stored in the
 * record (a reply flag, a truncated transcript, an exchanger flag such as
 * over_limit or address_over_limit), never a crash.
 */
#ifndef MXTRACE_LIMITS_H
#define MXTRACE_LIMITS_H

/* Reply line: RFC 5321 §4.5.3.1.5 allows 512 octets including CRLF; longer
 * lines are flagged. */
#define MXT_REPLY_LINE_RFC 512
/* Reply line: past this many octets a line is cut; the rest up to LF is
 * discarded (Postfix line_length_limit). */
#define MXT_REPLY_LINE_MAX 2048
/* Lines per reply: more than this in one reply is a protocol violation
 * (RFC 5321 §4.2.1 sets no maximum; Postfix stops storing text too). */
#define MXT_REPLY_LINES_MAX 100
/* Bytes per reply: more octets than this in one reply is a protocol
 * violation (also the cap on one unterminated line: curl and OpenSMTPD use
 * 64 KiB). */
#define MXT_REPLY_BYTES_MAX (64 * 1024)
/* Bytes read per SMTP session (no DATA is ever received) and the stored
 * transcript, which is marked truncated past its cap. */
#define MXT_SESSION_READ_MAX (1024 * 1024)
#define MXT_TRANSCRIPT_MAX (256 * 1024)
/* EHLO keywords, AUTH mechanisms, keyword length: RFC 5321 §4.1.1.1 sets no
 * maximum; these are mxtrace's, past them the rest is dropped and flagged. */
#define MXT_EHLO_KEYWORDS_MAX 64
#define MXT_AUTH_MECHS_MAX 32
#define MXT_KEYWORD_LEN_MAX 64
/* AUTH round trips (Postfix cuts a loop too); RFC 4954 §4: 12288 octets per
 * AUTH line. */
#define MXT_AUTH_STEPS_MAX 8
#define MXT_AUTH_LINE_MAX 12288
/* Default per-stage deadlines, milliseconds, absolute per reply (not per
 * read).  RFC 5321 §4.5.3.2 gives the minima servers may take; these are
 * diagnostic defaults. */
#define MXT_DEADLINE_CONNECT_MS 10000
#define MXT_DEADLINE_BANNER_MS 30000
#define MXT_DEADLINE_COMMAND_MS 30000
#define MXT_DEADLINE_TLS_MS 30000
#define MXT_DEADLINE_QUIT_MS 5000
#define MXT_DEADLINE_DATA_MS 120000
#define MXT_DEADLINE_DATA_END_MS 600000
#define MXT_DEADLINE_TOTAL_MS 300000
/* --format nagios without -t: below the 60 s after which Nagios
 * (service_check_timeout) and Icinga 2 (CheckCommand timeout) kill a check,
 * so the plugin reports UNKNOWN itself instead of being killed. */
#define MXT_DEADLINE_TOTAL_NAGIOS_MS 50000
/* DNS: c-ares timeout per try, tries, and the DNS stage deadline (c-ares'
 * own defaults could take about 75 s per server). */
#define MXT_DNS_TIMEOUT_MS 2000
#define MXT_DNS_TRIES 2
#define MXT_DNS_DEADLINE_MS 20000
/* DNS queries at the resolver at once, over every target: the rest wait
 * in order and start as answers come.  dnsmasq refuses forwards past 150
 * at once (its dns-forward-max default), and 128 answers of at most 512
 * octets (RFC 1035 §4.2.1; no EDNS is offered) fit the kernel's receive
 * buffer with room to spare, so a big batch neither floods a shared
 * resolver nor loses answers to a full socket. */
#define MXT_DNS_OUTSTANDING_MAX 128
/* The receive buffer asked for the c-ares socket (SO_RCVBUF, bytes); the
 * kernel caps it at net.core.rmem_max. */
#define MXT_DNS_RCVBUF (1024 * 1024)
/* The engine's cache of client identity lookups (PTR and its forward
 * confirmation per judged address): a batch shares one lookup; an entry is
 * reused for this long (an engine may run for days: the exporter). */
#define MXT_IDENTITY_CACHE_MAX 8
#define MXT_IDENTITY_CACHE_MS 60000
/* Fan-out: MX hosts, addresses per host (A and AAAA together), concurrent
 * sockets.  RFC 5321 §5.1 lets a client limit the hosts it tries (Postfix:
 * smtp_mx_address_limit); what is skipped is flagged over_limit and
 * address_over_limit. */
#define MXT_MX_MAX 16
#define MXT_ADDRS_PER_MX_MAX 8
#define MXT_CONCURRENCY_DEFAULT 32
/* Connections open at once to one exchanger address, over every target of
 * a run (--per-address): MTAs limit concurrent sessions per client (Postfix
 * smtpd_client_connection_count_limit, default 50; many providers far less)
 * and answer "421 too many connections" past it. */
#define MXT_PER_ADDRESS_DEFAULT 4
/* --egress-check: at most this many reference exchangers; a finished
 * reference check is reused by the run's later targets for this long
 * instead of connecting to the same hosts again. */
#define MXT_EGRESS_CHECK_MAX 8
#define MXT_REFCHECK_REUSE_MS 60000
/* --batch input: a line longer than this is a target.invalid record (a
 * domain is at most 253 octets, RFC 5321 §4.5.3.1 path 256); past
 * MXT_BATCH_SKIP_MAX octets without a newline the input is not a list of
 * targets and reading stops (--batch /dev/zero). */
#define MXT_BATCH_LINE_MAX 1024
#define MXT_BATCH_SKIP_MAX (64 * 1024)
/* Server text per report field after escaping (mxt_escape). */
#define MXT_FIELD_TEXT_MAX 1024
/* RFC 5321 §4.5.3.1: domain 255, local part 64, path 256; DNS name 253. */
#define MXT_DOMAIN_MAX 253
#define MXT_LOCAL_PART_MAX 64
#define MXT_PATH_MAX 256
/* RFC 5321 §4.5.3.1.6: a text line in DATA is at most 1000 octets incl. CRLF. */
#define MXT_DATA_LINE_MAX 998

/* Reputation stage.  RFC 7208 §4.6.4 bounds an SPF evaluation to 10
 * DNS-querying terms, each "mx" or "ptr" to 10 names more: 256 distinct
 * questions leaves room for the records themselves; each evaluation pass
 * waits for the answers the previous one lacked. */
#define MXT_SPF_NAMES_MAX 256
#define MXT_SPF_PASSES_MAX 48
/* --dnsbl zones per run (each costs one query per client address). */
#define MXT_DNSBL_ZONES_MAX 16

/* Shortest AUTH password accepted: below 3 octets its base64 forms are one
 * or two characters that occur in any text, so no scrubbing could hide
 * them (docs/security.md, "Redaction"). */
#define MXT_PASSWORD_MIN 3

/* --send: largest message (--size padding) and --body-file we hold in memory. */
#define MXT_SEND_SIZE_MAX (64ull * 1024 * 1024)
#define MXT_BODY_FILE_MAX (16 * 1024 * 1024)

/* Exporter mode (--listen, src/exporter): the default port, concurrent
 * /probe requests (--max-probes), HTTP connections at once, the memory MHD
 * may use per connection (bounds the request line and headers), an idle
 * connection's timeout, the longest /probe query value, and the margin kept
 * below X-Prometheus-Scrape-Timeout-Seconds (as blackbox_exporter's 0.5 s). */
#define MXT_EXPORTER_PORT_DEFAULT 9125
#define MXT_EXPORTER_PROBES_DEFAULT 32
#define MXT_EXPORTER_PROBES_MAX 1024
#define MXT_EXPORTER_CONNECTIONS_MAX 512
#define MXT_EXPORTER_CONN_MEMORY (16 * 1024)
#define MXT_EXPORTER_IDLE_TIMEOUT_S 30
#define MXT_EXPORTER_ARG_MAX 320
#define MXT_EXPORTER_SCRAPE_MARGIN_MS 500

#endif
