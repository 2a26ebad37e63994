/* SPDX-License-Identifier: MIT */
/*
 * Private to src/reputation: the stage's shared state.  One struct rep per
 * run; each part (dnsbl.c, spf.c, dmarc.c) holds it while it has queries
 * in flight and releases it when done; the last release runs the caller's
 * callback from the loop.
 */
#ifndef MXT_REP_H
#define MXT_REP_H

#include "mxtrace/reputation.h"

struct rep {
	struct mxt_resolver *r;
	struct mxt_target *t;
	const struct mxt_config *cfg;
	int pending;
	int expired; /* the stage deadline passed: start no new query */
	mxt_dns_done_cb *done;
	void *arg;
	struct mxt_timer later, deadline;
};

void mxt_rep_hold(struct rep *rp);
void mxt_rep_release(struct rep *rp);
/* The address receivers judge the client by, and whether it is trustworthy
 * for reputation checks (the public egress, --source, or a global local
 * address); NULL when unknown. */
const char *mxt_rep_address(const struct rep *rp, int *trusted);

void mxt_rep_dnsbl_start(struct rep *rp);
void mxt_rep_spf_start(struct rep *rp);
void mxt_rep_dmarc_start(struct rep *rp);

/* Join the character-strings of every TXT record of an answer: records
 * separated by "\n", each record's strings concatenated (RFC 7208 §3.3).
 * Only records starting with prefix (case-insensitive) when prefix is not
 * NULL.  *n gets the record count.  Caller frees; NULL when none. */
char *mxt_rep_txt(const unsigned char *abuf, int alen, const char *prefix, size_t *n);

#endif
