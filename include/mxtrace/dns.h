/* SPDX-License-Identifier: MIT */
/*
 * DNS stage: c-ares on the shared event loop.  It fills a target's dns part
 * (MX semantics of RFC 5321 §5.1 and RFC 7505, addresses of every exchanger)
 * with every query of a stage in flight at once.  Outcomes (NXDOMAIN,
 * SERVFAIL, timeouts) are stored, never returned as errors.
 */
#ifndef MXTRACE_DNS_H
#define MXTRACE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "mxtrace/config.h"
#include "mxtrace/loop.h"
#include "mxtrace/record.h"

struct mxt_resolver;

/* Create a c-ares channel driven by loop, honouring --resolver, DNS timeout
 * and tries.  NULL on failure with a reason in err. */
struct mxt_resolver *mxt_resolver_new(
    struct mxt_loop *loop, const struct mxt_config *cfg, char *err, size_t errlen);
void mxt_resolver_free(struct mxt_resolver *r);
struct mxt_loop *mxt_resolver_loop(struct mxt_resolver *r);
/* "ADDR:PORT[,...]" of the servers in use; caller frees. */
char *mxt_resolver_servers(struct mxt_resolver *r);

typedef void mxt_query_cb(
    void *arg, enum mxt_dns_status status, const unsigned char *abuf, int alen);

/* Send one query (class IN) for name/type; cb runs once, from the loop.
 * q (may be NULL) gets status and duration filled before cb runs. */
void mxt_resolver_query(struct mxt_resolver *r, const char *name, int type, struct mxt_dns_query *q,
    mxt_query_cb *cb, void *arg);
/* The same, tagged with the stage run that asks (any pointer), so that
 * mxt_resolver_cancel_tag() can end that run's queries alone. */
void mxt_resolver_query_tag(struct mxt_resolver *r, const void *tag, const char *name, int type,
    struct mxt_dns_query *q, mxt_query_cb *cb, void *arg);
/* The same, also on behalf of owner (the run that asks: any pointer, NULL
 * for none), so that mxt_resolver_cancel_owner() can end every query of
 * that run, whichever stage asked it. */
void mxt_resolver_query_for(struct mxt_resolver *r, const void *tag, const void *owner,
    const char *name, int type, struct mxt_dns_query *q, mxt_query_cb *cb, void *arg);
/* True when every server the channel asks is on loopback (127/8, ::1): the
 * only path to a resolver whose AD bit mxtrace can trust without TSIG or
 * DoT (RFC 7672 §2.1, docs/mxtrace.1). */
int mxt_resolver_loopback(struct mxt_resolver *r);
/* Cancel every query in flight: their callbacks run with MXT_DNS_TIMEOUT. */
void mxt_resolver_cancel(struct mxt_resolver *r);
/* Cancel the queries tagged tag (non-NULL) only: their callbacks run now,
 * with MXT_DNS_TIMEOUT; other targets sharing the channel go on. */
void mxt_resolver_cancel_tag(struct mxt_resolver *r, const void *tag);
/* Cancel the queries of owner (non-NULL), sent or waiting for a slot:
 * their callbacks run now with MXT_DNS_TIMEOUT, and queries those callbacks
 * ask for the same owner are answered the same way, never sent. */
void mxt_resolver_cancel_owner(struct mxt_resolver *r, const void *owner);

/* Seeded random source for equal-preference shuffling (RFC 5321 §5.1). */
uint64_t mxt_rand_next(uint64_t *state);

typedef void mxt_dns_done_cb(struct mxt_target *t, void *arg);

/* Run the DNS stage for t (t->domain set, or cfg->server): MX, then A/AAAA
 * of every exchanger concurrently, with the policies (mxt_policy_run).
 * done runs once, from the loop, when every query has finished or the DNS
 * deadline passed.  Queries are asked on behalf of arg: cancelling arg
 * (mxt_resolver_cancel_owner) ends the stage at once.  rng is the shuffle
 * state (shared across targets).  Returns 0, or -1 if the record cannot
 * take the --server exchanger.  Out of memory aborts (mxtrace/xalloc.h). */
int mxt_dns_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    uint64_t *rng, int64_t hard_deadline, mxt_dns_done_cb *done, void *arg);
/* The DNS stage's absolute deadline (MXT_DNS_DEADLINE_MS, mxtrace/limits.h),
 * within the run's. */
int64_t mxt_dns_deadline(const struct mxt_config *cfg, int64_t start, int64_t hard_deadline);

/* ---- transport security policies (policy.c) ---- */

/* Once the exchangers' names are known, alongside their address lookups:
 * TLSA of every exchanger (RFC 7672 §2.2), the _mta-sts TXT record and
 * policy (RFC 8461 §3), the _smtp._tls TXT record (RFC 8460 §3), as cfg
 * allows (--no-dane, --no-mta-sts).  done(t, arg) runs once from the loop,
 * at the latest at deadline (the DNS stage's, absolute monotonic ms).  Its
 * queries are asked on behalf of owner (mxt_resolver_cancel_owner).
 * Returns 0 (out of memory aborts, mxtrace/xalloc.h). */
int mxt_policy_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    int64_t deadline, void *owner, mxt_dns_done_cb *done, void *arg);
/* When both the addresses and the TLSA answers are in: which exchangers a
 * DANE sender would use the TLSA records of (RFC 7672 §2.2.1, §2.2.2: MX
 * and address answers authentic); an exchanger without addresses keeps no
 * TLSA result. */
void mxt_policy_settle_dane(struct mxt_target *t);

/* ---- client identity (identity.c) ---- */

/* Local source addresses towards the exchangers (or --source), and the
 * egress address given with --egress-ip. */
void mxt_identity_local(struct mxt_target *t, const struct mxt_config *cfg);
/* PTR of the address receivers judge us by (egress, else local), whether
 * it is forward-confirmed, and whether the EHLO name resolves; done runs
 * once from the loop.  Queries are asked on behalf of arg
 * (mxt_resolver_cancel_owner).  Returns 0 (out of memory aborts,
 * mxtrace/xalloc.h). */
int mxt_identity_run(struct mxt_resolver *r, struct mxt_target *t, const struct mxt_config *cfg,
    int64_t hard_deadline, mxt_dns_done_cb *done, void *arg);
/* Pick the EHLO name (RFC 5321 §4.1.4): --ehlo, else the forward-confirmed
 * PTR name, else the host name if it is an FQDN, else an address literal. */
void mxt_identity_choose_ehlo(struct mxt_target *t, const struct mxt_config *cfg);
/* The address receivers judge us by, whose PTR mxt_identity_run() looks
 * up: the egress address when known, else the local IPv4, else IPv6 one;
 * NULL when none is known.  Borrowed from c. */
const char *mxt_identity_address(const struct mxt_client *c);

/* An MX answer read as a resolver means it (answer.c): the MX records whose
 * owner is the query name or the end of its CNAME chain. */
struct mxt_mx_answer {
	struct {
		int pref;
		char *host; /* "" for a null MX (RFC 7505) */
	} * mx;
	size_t nmx;
	char *canonical; /* end of the CNAME chain, NULL without a CNAME */
	int ncname;	 /* CNAME hops followed */
	int cname_loop;	 /* the chain did not end within the hop limit */
	int ignored;	 /* MX records of another owner, not used */
};

/* Parse abuf (a response to "qname MX"). ARES_SUCCESS with at least one MX,
 * ARES_ENODATA when there is none for the chain (NODATA: implicit MX),
 * ARES_EBADRESP when the message is malformed.  out is filled on success and
 * NODATA; free it with mxt_mx_answer_free in every case. */
int mxt_mx_answer_parse(
    const unsigned char *abuf, int alen, const char *qname, struct mxt_mx_answer *out);
void mxt_mx_answer_free(struct mxt_mx_answer *a);

#endif
