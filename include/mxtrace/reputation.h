/* SPDX-License-Identifier: MIT */
/*
 * Reputation stage: what receivers think of the client before they say no.
 * It runs after the client identity is known (the egress address) and fills
 * client.dnsbl (DNS blocklist lookups, RFC 5782) and sender (SPF for the
 * client address, RFC 7208, with libspf2; the sender domain's DMARC record,
 * RFC 7489).  Every query goes through mxtrace's resolver on the event loop.
 * It stores what it finds and judges nothing: the report stage turns the
 * record into findings.
 *
 * The blocklist table (src/reputation/blocklists.def) is data shared with
 * the report stage: it names the list a reply text cites and gives its
 * lookup page.
 */
#ifndef MXTRACE_REPUTATION_H
#define MXTRACE_REPUTATION_H

#include <stddef.h>
#include <stdint.h>

#include "mxtrace/config.h"
#include "mxtrace/dns.h"
#include "mxtrace/record.h"

/* One blocklist of the table. */
struct mxt_blocklist {
	const char *name; /* "Spamhaus ZEN" */
	const char *zone; /* DNS zone, "" when the list has none */
	const char *url;  /* lookup page, "%s" stands for the address; "" if none */
	int dflt;	  /* asked by default against real DNS */
	int no_public;	  /* refuses queries through public resolvers */
};

/* A reply text's blocklist: the list, and its name as the text gives it
 * (for a generic phrase such as "blocked using ZONE", the zone). */
struct mxt_blocklist_hit {
	const struct mxt_blocklist *list; /* NULL for a list the table lacks */
	char name[128];
	char phrase[64]; /* the table phrase that matched */
};

/* Find the first table phrase in text (len bytes, any bytes, ASCII
 * case-insensitive).  Returns 1 and fills hit, or 0. */
int mxt_blocklist_find(const char *text, size_t len, struct mxt_blocklist_hit *hit);
/* The table's list for a DNS zone (case-insensitive, no trailing dot), or NULL. */
const struct mxt_blocklist *mxt_blocklist_by_zone(const char *zone);
/* The i-th list of the table, NULL past the end. */
const struct mxt_blocklist *mxt_blocklist_at(size_t i);
/* The list's lookup page for addr (addr may be NULL), or NULL when it has
 * none.  Caller frees. */
char *mxt_blocklist_url(const struct mxt_blocklist *b, const char *addr);
/* What a list's answer means (the table's return codes): LISTED, REFUSED
 * (the list refused the query) or ERROR (outside 127.0.0.0/8, RFC 5782
 * §2.1).  *meaning gets the table's words, or NULL. */
enum mxt_dnsbl_status mxt_dnsbl_answer(const char *zone, const char *answer, const char **meaning);
/* RFC 5782 §2.1/§2.4: the name to query for addr in zone.  0, or -1 if addr
 * is not an address or the name does not fit. */
int mxt_dnsbl_query_name(const char *addr, const char *zone, char *out, size_t n);
/* 1 if addr is a well-known public resolver (Google, Cloudflare, Quad9,
 * OpenDNS), which some lists refuse to answer. */
int mxt_resolver_is_public(const char *addr);
/* 1 if addr is globally routable (not private, loopback, link-local, CGN,
 * documentation, ULA): the only kind the default lists are asked about. */
int mxt_address_is_global(const char *addr);

/* Parse a DMARC record (RFC 7489 §6.3) into d's policy fields; on error
 * set d->status to MXT_DMARC_INVALID and d->error.  Returns 0 or -1. */
int mxt_dmarc_parse(const char *record, struct mxt_dmarc *d);

/* Run the stage for t: blocklists (cfg->dnsbl, else the default lists
 * against real DNS, unless --no-dnsbl) and, with a sender or EHLO domain,
 * SPF and DMARC.  done runs once, from the loop.  Returns 0. */
int mxt_reputation_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    int64_t hard_deadline, mxt_dns_done_cb *done, void *arg);

#endif
