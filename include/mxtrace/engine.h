/* SPDX-License-Identifier: MIT */
/*
 * The engine: runs targets through the pipeline (DNS stage, client
 * identity, probe stage, report stage), each target on its own, every
 * target on one shared event loop, c-ares channel and TLS context.  A stage
 * is started by the previous stage's completion callback for that target;
 * nothing waits for the loop to run dry, so any number of targets can be in
 * flight at once (the CLI's --batch, the exporter's /probe).
 *
 * Ownership: the caller owns the engine, each target and each
 * configuration.  A configuration passed to mxt_engine_new() or
 * mxt_run_start() must outlive the engine or the run.  A run's handle
 * belongs to the engine and is gone once its done callback has returned.
 *
 * Callbacks are never re-entrant: done runs once per run, from the loop,
 * never inside mxt_run_start() or mxt_run_cancel().  Inside done the caller
 * may free the target, start new runs or cancel others; it must not free
 * the engine (stop the loop instead, and free it after mxt_loop_run()
 * returns).
 *
 * Cancellation: mxt_run_cancel() moves the run's deadline to now.  The
 * stage in progress ends as it does at its deadline (connections are
 * aborted, their attempts record "deadline"), the remaining stages are
 * skipped except the report stage, and done still runs exactly once with
 * the partial record.
 */
#ifndef MXTRACE_ENGINE_H
#define MXTRACE_ENGINE_H

#include <stddef.h>

#include "mxtrace/config.h"
#include "mxtrace/loop.h"
#include "mxtrace/record.h"

struct mxt_engine;
struct mxt_run;

/* Create an engine for cfg's engine-wide settings (--resolver, DNS
 * timeouts and tries, --ca-file, --seed, --concurrency, --per-address): a new loop, resolver and
 * TLS context.  On failure returns NULL with a reason in err; *user_error (may be NULL) is set when
 * the reason is a bad option (a resolver address c-ares refuses, an unreadable --ca-file) rather
 * than a fault. */
struct mxt_engine *mxt_engine_new(
    const struct mxt_config *cfg, char *err, size_t errlen, int *user_error);
/* Free the engine.  No run may be in flight (mxt_engine_runs() == 0). */
void mxt_engine_free(struct mxt_engine *e);
/* The engine's loop: run it with mxt_loop_run(); other modules (an HTTP
 * server) may watch their own fds and timers on it. */
struct mxt_loop *mxt_engine_loop(const struct mxt_engine *e);
/* Runs started and not yet done. */
size_t mxt_engine_runs(const struct mxt_engine *e);
/* SMTP connections open now; *peak (may be NULL) gets the most ever open
 * at once.  Every connection of every run goes through one gate: at most
 * cfg->concurrency open, at most cfg->per_address to one exchanger address
 * (the engine's cfg, not a run's). */
size_t mxt_engine_connections(const struct mxt_engine *e, size_t *peak);

/* A new target record for one input, with its request section filled from
 * cfg.  domain/unicode: the A-label and U-label domain (NULL with --server
 * alone: the recipient's domain is used); rcpt: the recipient from the
 * input (user@domain), else cfg's --to list, else postmaster@domain
 * (RFC 5321 §4.5.1).  Never NULL (xalloc.h); the caller owns it
 * (mxt_target_free()). */
struct mxt_target *mxt_engine_target(const struct mxt_config *cfg, const char *input,
    const char *domain, const char *unicode, const char *rcpt);

typedef void mxt_run_done_cb(struct mxt_target *t, void *arg);

/* Start the pipeline for t (made by mxt_engine_target(); one whose
 * input_error is set goes straight to the report stage) with the per-run
 * settings of cfg (NULL: the engine's): its --timeout-total deadline starts
 * now.  done(t, arg) runs once, from the loop, when the report stage has
 * set t's verdict.  Returns the run's handle (valid until done returns). */
struct mxt_run *mxt_run_start(struct mxt_engine *e, struct mxt_target *t,
    const struct mxt_config *cfg, mxt_run_done_cb *done, void *arg);
/* End a run early (see Cancellation above).  Harmless after cancelling. */
void mxt_run_cancel(struct mxt_run *run);

#endif
