/* SPDX-License-Identifier: MIT */
/*
 * Probe stage: turns a target's DNS results into attempts (every address of
 * every usable exchanger) and runs them concurrently on the loop, through
 * the run's connection gate (--concurrency overall, --per-address per
 * exchanger address, shared by every target) and under the run's overall
 * deadline.  When every port-25
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

/* ---- the connection gate (gate.c), shared by every target of a run ---- */

struct mxt_gate;
/* A place in the gate's queue, owned by the waiter (no allocation). */
struct mxt_gate_waiter {
	struct mxt_gate_waiter *next;
	void (*cb)(void *arg);
	void *arg;
	int queued;
};

/* At most total connections open at once, at most per_address to one
 * address.  Free with mxt_gate_free() when no connection is open. */
struct mxt_gate *mxt_gate_new(struct mxt_loop *loop, size_t total, size_t per_address);
void mxt_gate_free(struct mxt_gate *g);
/* Take a slot for a connection to a: 1, or 0 when the gate is full for it. */
int mxt_gate_take(struct mxt_gate *g, const struct mxt_address *a);
/* Give back a slot taken for a; waiters are woken from the loop. */
void mxt_gate_give(struct mxt_gate *g, const struct mxt_address *a);
/* Queue w: cb(arg) runs once, from the loop, after a slot frees (it may
 * still find the gate full for its address and wait again). */
void mxt_gate_wait(struct mxt_gate *g, struct mxt_gate_waiter *w, void (*cb)(void *), void *arg);
void mxt_gate_unwait(struct mxt_gate *g, struct mxt_gate_waiter *w);
/* Connections open now, and the most ever open at once. */
size_t mxt_gate_open(const struct mxt_gate *g);
size_t mxt_gate_peak(const struct mxt_gate *g);

/* ---- the probe stage (probe.c) ---- */

struct mxt_probe;
typedef void mxt_probe_done_cb(struct mxt_target *t, void *arg);

/* Probe t (DNS stage done), each connection through gate.  The EHLO name
 * is t->client.ehlo_name; when it is still NULL the sessions wait after
 * their banner for mxt_probe_ehlo_ready().  done runs once,
 * from the loop, never inside this call; the returned handle is freed
 * right after done returns. */
struct mxt_probe *mxt_probe_run(struct mxt_loop *loop, SSL_CTX *ctx, struct mxt_gate *gate,
    struct mxt_target *t, const struct mxt_config *cfg, int64_t hard_deadline,
    mxt_probe_done_cb *done, void *arg);
/* t->client.ehlo_name is set now: sessions started while it was NULL and
 * parked after their banner (mxtrace/session.h) send EHLO; later sessions
 * send it at once.  Call from the loop, not from inside done. */
void mxt_probe_ehlo_ready(struct mxt_probe *pr);
/* Act as if the deadline passed now: abort every connection (their
 * attempts record "deadline"), start nothing new; done follows from the
 * loop. */
void mxt_probe_cancel(struct mxt_probe *pr);
/* Call hook(t, arg) when the probe finds every port-25 connect timed out
 * and starts its canaries, so a reference check can run alongside them. */
void mxt_probe_on_all_timeout(
    struct mxt_probe *pr, void (*hook)(struct mxt_target *t, void *arg), void *arg);

/* ---- the egress reference check (reference.c), shared by a run's targets ---- */

struct mxt_resolver;
struct mxt_refcheck;
/* A place in a check's list of waiters, owned by the waiter. */
struct mxt_refcheck_waiter {
	struct mxt_refcheck_waiter *next;
	void (*cb)(void *arg);
	void *arg;
	int queued;
};

/* A check of port 25 (or the given port) of hosts, connect only, each
 * through gate, bound to source (may be NULL), within t_connect ms after
 * its name's A lookup through res.  builtin: the hosts are mxtrace's
 * built-in list (recorded as such).  Free with mxt_refcheck_free() after
 * the resolver is gone (its lookups call back until then). */
struct mxt_refcheck *mxt_refcheck_new(struct mxt_loop *loop, struct mxt_resolver *res,
    struct mxt_gate *gate, SSL_CTX *ctx, const struct mxt_hostport *hosts, size_t n, int builtin,
    const char *source, int64_t t_connect);
void mxt_refcheck_free(struct mxt_refcheck *rc);
/* Whether rc was made for these arguments. */
int mxt_refcheck_matches(const struct mxt_refcheck *rc, const struct mxt_hostport *hosts, size_t n,
    int builtin, const char *source, int64_t t_connect);
/* Queue w: cb(arg) runs once, from the loop, when the check has a result
 * (started now unless it runs already or finished recently). */
void mxt_refcheck_wait(
    struct mxt_refcheck *rc, struct mxt_refcheck_waiter *w, void (*cb)(void *arg), void *arg);
void mxt_refcheck_unwait(struct mxt_refcheck *rc, struct mxt_refcheck_waiter *w);
/* Copy the result into t (t->egress_refs, owned by t). */
void mxt_refcheck_copy(const struct mxt_refcheck *rc, struct mxt_target *t);
/* The built-in reference list (large providers' exchangers, docs/mxtrace.1);
 * *n gets its length.  Static storage. */
const struct mxt_hostport *mxt_refcheck_builtin(size_t *n);
/* Whether a is a public unicast address: not loopback, private (RFC 1918,
 * RFC 4193), shared (RFC 6598), link-local, documentation or unspecified. */
int mxt_address_public(const struct mxt_address *a);

#endif
