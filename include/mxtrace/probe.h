/* SPDX-License-Identifier: MIT */
/*
 * Probe stage: turns a target's DNS results into attempts (every address of
 * every usable exchanger) and runs them concurrently on the loop, under a
 * concurrency cap and the run's overall deadline.  When every port-25
 * attempt times out it adds canary attempts on 587 and 465 so the report
 * can tell a firewall at the destination from the client's own network
 * blocking outbound SMTP.  It records; it does not judge.
 */
#ifndef MXTRACE_PROBE_H
#define MXTRACE_PROBE_H

#include <openssl/ssl.h>

#include "mxtrace/config.h"
#include "mxtrace/loop.h"
#include "mxtrace/record.h"

struct mxt_probe;
typedef void mxt_probe_done_cb(struct mxt_target *t, void *arg);

/* Probe t (DNS stage done).  done runs once, from the loop, never inside
 * this call; the returned handle is freed right after done returns. */
struct mxt_probe *mxt_probe_run(struct mxt_loop *loop, SSL_CTX *ctx, struct mxt_target *t,
    const struct mxt_config *cfg, int64_t hard_deadline, mxt_probe_done_cb *done, void *arg);
/* Act as if the deadline passed now: abort every connection (their
 * attempts record "deadline"), start nothing new; done follows from the
 * loop. */
void mxt_probe_cancel(struct mxt_probe *pr);

#endif
