/* SPDX-License-Identifier: MIT */
/*
 * The engine (include/mxtrace/engine.h): one loop, one c-ares channel and
 * one TLS context shared by every target, and the per-target pipeline
 * chained by completion callbacks: DNS stage, then the probe stage with
 * the client identity lookups (PTR and forward confirmation of the local
 * address, EHLO name) running alongside it, then the reputation stage (blocklists, SPF, DMARC of
 * the client's public address), then the report stage, each started by the previous one's callback
 * for that target.  It wires stages; it does not judge (the report stage does) and it never writes
 * to stdout (the caller renders).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "mxtrace/dns.h"
#include "mxtrace/engine.h"
#include "mxtrace/escape.h"
#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/probe.h"
#include "mxtrace/reply.h"
#include "mxtrace/report.h"
#include "mxtrace/reputation.h"
#include "mxtrace/tls.h"
#include "mxtrace/xalloc.h"

struct idcache;

struct mxt_engine {
	const struct mxt_config *cfg;
	struct mxt_loop *loop;
	struct mxt_resolver *res;
	SSL_CTX *ctx;
	struct mxt_gate *gate; /* --concurrency and --per-address, over all targets */
	uint64_t rng;	       /* equal-preference MX shuffle (RFC 5321 §5.1), shared */
	size_t nruns;
	struct mxt_refcheck **checks; /* --egress-check, shared by the runs (reference.c) */
	size_t nchecks;
	struct idcache *idc; /* MXT_IDENTITY_CACHE_MAX entries */
};

enum run_stage {
	RUN_DNS = 0,
	RUN_IDENTITY,
	RUN_PROBE,
	RUN_EGRESS_REF,
	RUN_EGRESS_ID,
	RUN_REPUTATION,
	RUN_REPORT
};

struct mxt_run {
	struct mxt_engine *e;
	struct mxt_target *t;
	const struct mxt_config *cfg;
	mxt_run_done_cb *done;
	void *arg;
	enum run_stage stage;
	struct mxt_probe *probe; /* while stage == RUN_PROBE */
	/* The probe stage runs the identity lookups alongside: both must end
	 * before the next stage. */
	int probe_pending, identity_pending;
	struct idcache *idc; /* the cache entry this run's own lookups fill */
	int64_t start, hard; /* monotonic ms */
	int cancelled;
	struct mxt_timer later;	 /* the report stage runs from a fresh loop turn */
	struct mxt_refcheck *rc; /* the reference check this run waits for */
	struct mxt_refcheck_waiter rw;
};

/* ---- the client identity, looked up once per address (issue 9) ---- */

/* In a batch every target has the same local (and egress) address: its PTR
 * and forward confirmation are looked up once and shared.  An entry is
 * keyed by the address receivers judge us by and the --ehlo name (whose
 * resolution the lookups also check); runs that ask while the first
 * lookup is in flight wait for it (when its deadline is within theirs).
 * A finished entry is reused for MXT_IDENTITY_CACHE_MS: an engine may live
 * for days (the exporter), and a PTR may change. */
struct idcache {
	int used, pending;
	char addr[INET6_ADDRSTRLEN];
	char *ehlo;	  /* cfg->ehlo of the lookup, or NULL */
	int64_t deadline; /* pending: when the owner's lookups end at the latest */
	int64_t expires;  /* done: reused until then */
	char *ptr;	  /* the results, as mxt_identity_run() left them */
	struct mxt_dns_query q_ptr;
	int fcrdns, ehlo_resolves;
	struct mxt_run **waiters;
	size_t nwaiters;
};

static int
same_ehlo(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void
idcache_clear(struct idcache *c)
{
	free(c->ehlo);
	free(c->ptr);
	free(c->q_ptr.error);
	free(c->waiters);
	memset(c, 0, sizeof(*c));
}

/* Copy a finished lookup's results into a target's client record. */
static void
idcache_apply(const struct idcache *c, struct mxt_client *cl)
{
	free(cl->ptr);
	cl->ptr = mxt_xstrdup_or_null(c->ptr);
	free(cl->q_ptr.error);
	cl->q_ptr = c->q_ptr;
	cl->q_ptr.error = mxt_xstrdup_or_null(c->q_ptr.error);
	cl->fcrdns = c->fcrdns;
	cl->ehlo_resolves = c->ehlo_resolves;
}

static int64_t
wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static uint64_t
seed_of(const struct mxt_config *cfg)
{
	uint64_t s = 0;

	if (cfg->have_seed)
		return cfg->seed;
	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
		s = (uint64_t)wall_ms() ^ (uint64_t)getpid();
	return s;
}

struct mxt_engine *
mxt_engine_new(const struct mxt_config *cfg, char *err, size_t errlen, int *user_error)
{
	struct mxt_engine *e = mxt_xcalloc(1, sizeof(*e));

	if (user_error != NULL)
		*user_error = 0;
	e->cfg = cfg;
	e->rng = seed_of(cfg);
	e->idc = mxt_xcalloc(MXT_IDENTITY_CACHE_MAX, sizeof(*e->idc));
	e->loop = mxt_loop_new();
	if (e->loop == NULL) {
		snprintf(err, errlen, "cannot create the event loop: %s", strerror(errno));
		goto fail;
	}
	e->res = mxt_resolver_new(e->loop, cfg, err, errlen);
	if (e->res == NULL) {
		/* Only an address c-ares refuses is the user's error
		 * (mxt_resolver_new() says "bad --resolver"). */
		if (user_error != NULL && strncmp(err, "bad --resolver", 14) == 0)
			*user_error = 1;
		goto fail;
	}
	e->gate = mxt_gate_new(e->loop, (size_t)cfg->concurrency, (size_t)cfg->per_address);
	e->ctx = mxt_tls_ctx_new(cfg->ca_file, err, errlen);
	if (e->ctx == NULL) {
		if (user_error != NULL && cfg->ca_file != NULL)
			*user_error = 1;
		goto fail;
	}
	return e;
fail:
	mxt_engine_free(e);
	return NULL;
}

void
mxt_engine_free(struct mxt_engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	if (e->ctx != NULL)
		SSL_CTX_free(e->ctx);
	mxt_resolver_free(e->res);
	/* After the resolver: its lookups called back into the checks. */
	for (i = 0; i < e->nchecks; i++)
		mxt_refcheck_free(e->checks[i]);
	free(e->checks);
	mxt_gate_free(e->gate);
	mxt_loop_free(e->loop);
	for (i = 0; e->idc != NULL && i < MXT_IDENTITY_CACHE_MAX; i++)
		idcache_clear(&e->idc[i]);
	free(e->idc);
	free(e);
}

struct mxt_loop *
mxt_engine_loop(const struct mxt_engine *e)
{
	return e->loop;
}

size_t
mxt_engine_runs(const struct mxt_engine *e)
{
	return e->nruns;
}

size_t
mxt_engine_connections(const struct mxt_engine *e, size_t *peak)
{
	if (peak != NULL)
		*peak = mxt_gate_peak(e->gate);
	return mxt_gate_open(e->gate);
}

struct mxt_target *
mxt_engine_target(const struct mxt_config *cfg, const char *input, const char *domain,
    const char *unicode, const char *rcpt)
{
	struct mxt_target *t = mxt_target_new();
	size_t i, n;

	t->input = mxt_xstrdup(input != NULL ? input : "");
	if (domain == NULL && cfg->nto > 0 && strrchr(cfg->to[0], '@') != NULL)
		domain = unicode = strrchr(cfg->to[0], '@') + 1; /* --server: the recipient's */
	if (domain != NULL) {
		t->domain = mxt_xstrdup(domain);
		t->domain_unicode = mxt_xstrdup(unicode != NULL ? unicode : domain);
	}
	t->sender = mxt_xstrdup(cfg->from != NULL ? cfg->from : "");
	n = rcpt == NULL && cfg->nto > 0 ? cfg->nto : 1;
	t->rcpts = mxt_xcalloc(n, sizeof(*t->rcpts));
	if (rcpt != NULL) {
		t->rcpts[0] = mxt_xstrdup(rcpt);
	} else if (cfg->nto > 0) {
		for (i = 0; i < cfg->nto; i++)
			t->rcpts[i] = mxt_xstrdup(cfg->to[i]);
	} else {
		/* RFC 5321 §4.5.1: every domain must accept postmaster. */
		const char *d = domain != NULL ? domain : "localhost";
		size_t len = strlen(d) + sizeof("postmaster@");

		t->rcpts[0] = mxt_xmalloc(len);
		snprintf(t->rcpts[0], len, "postmaster@%s", d);
	}
	t->nrcpts = n;
	mxt_request_from_config(&t->request, cfg);
	return t;
}

/* ---- -v: one line per stage and per attempt on stderr ---- */

static void
log_dns(const struct mxt_target *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->dns.nmx; i++)
		n += t->dns.mx[i].naddrs;
	mxt_log(1, "%s: DNS stage: MX %s (%s), %zu exchanger(s), %zu address(es), %lld ms",
	    t->input, mxt_dns_status_name(t->dns.q_mx.status), mxt_mx_source_name(t->dns.source),
	    t->dns.nmx, n, (long long)t->dns.duration_ms);
}

static void
log_probe(const struct mxt_target *t)
{
	size_t i, j;

	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];
		char *name = mxt_escape_str(t->dns.mx[a->mx_index].name, 255);

		mxt_log(1, "%s: attempt %s %s port %d: connect %s, ended %s at %s, %lld ms",
		    t->input, name != NULL ? name : "?", a->addr.text, a->port,
		    mxt_conn_status_name(a->connect), mxt_end_name(a->end),
		    mxt_stage_name(a->end_stage), (long long)a->duration_ms);
		free(name);
		for (j = 0; mxt_log_level() >= 2 && j < a->ntranscript; j++) {
			const struct mxt_tline *l = &a->transcript[j];
			char *e = mxt_escape(l->text, l->len, 0);

			mxt_log(2, "  %6lld ms %s %s", (long long)l->t_ms,
			    l->dir == MXT_DIR_CLIENT	   ? "->"
				: l->dir == MXT_DIR_SERVER ? "<-"
							   : "**",
			    e != NULL ? e : "?");
			free(e);
		}
	}
}

/* ---- the pipeline of one target ---- */

static void on_dns(struct mxt_target *t, void *arg);
static void on_identity(struct mxt_target *t, void *arg);
static void identity_done(struct mxt_run *run);
static void on_probe(struct mxt_target *t, void *arg);
static void on_all_timeout(struct mxt_target *t, void *arg);
static void step_after_probe(struct mxt_run *run);
static void after_probe(struct mxt_run *run);
static void on_reputation(struct mxt_target *t, void *arg);

/* The report stage, then the caller's callback; the run ends here. */
static void
on_report(struct mxt_loop *loop, void *arg)
{
	struct mxt_run *run = arg;
	struct mxt_target *t = run->t;

	run->stage = RUN_REPORT;
	if (run->rc != NULL)
		mxt_refcheck_unwait(run->rc, &run->rw);
	if (mxt_classify(t) < 0)
		mxt_log(0, "%s: out of memory while classifying", t->input);
	t->duration_ms = mxt_now_ms() - run->start;
	/* Noted for the report (a Nagios check that timed out is UNKNOWN). */
	t->deadline_reached = mxt_now_ms() >= run->hard;
	run->e->nruns--;
	run->done(t, run->arg);
	free(run);
}

/* Go to the report stage from a fresh loop turn (never inside a stage's
 * own call chain, never inside mxt_run_start()). */
static void
to_report(struct mxt_run *run)
{
	run->stage = RUN_REPORT;
	run->probe = NULL;
	mxt_timer_arm(run->e->loop, &run->later, mxt_now_ms(), on_report, run);
}

/* Once the client's public address is as known as it gets: blocklists,
 * SPF and DMARC (src/reputation), then the report. */
static void
to_reputation(struct mxt_run *run)
{
	if (run->cancelled) {
		to_report(run);
		return;
	}
	run->stage = RUN_REPUTATION;
	if (mxt_reputation_run(run->e->res, run->t, run->cfg, run->hard, on_reputation, run) < 0)
		to_report(run);
}

static void
on_reputation(struct mxt_target *t, void *arg)
{
	to_report(arg);
}

/* The client's identity is known (looked up, or from the cache): the EHLO
 * name for the parked sessions, or the next stage. */
static void
identity_done(struct mxt_run *run)
{
	struct mxt_target *t = run->t;

	run->identity_pending = 0;
	if (run->stage == RUN_EGRESS_ID) {
		to_reputation(run);
		return;
	}
	mxt_identity_choose_ehlo(t, run->cfg);
	mxt_log(1, "%s: client: local %s, PTR %s%s, EHLO name %s (%s)", t->input,
	    t->client.local_v4 != NULL ? t->client.local_v4 : "-",
	    t->client.ptr != NULL ? "present" : "missing",
	    t->client.fcrdns ? " (forward-confirmed)" : "", t->client.ehlo_name,
	    t->client.ehlo_from);
	if (run->probe_pending)
		mxt_probe_ehlo_ready(run->probe); /* parked sessions send EHLO */
	else
		step_after_probe(run);
}

/* The lookups this run started ended: keep the results in its cache entry,
 * hand them to the runs that waited, then go on. */
static void
on_identity(struct mxt_target *t, void *arg)
{
	struct mxt_run *run = arg, **w = NULL;
	struct idcache *c = run->idc;
	size_t i, n = 0;

	run->idc = NULL;
	if (c != NULL) {
		c->pending = 0;
		c->ptr = mxt_xstrdup_or_null(t->client.ptr);
		c->q_ptr = t->client.q_ptr;
		c->q_ptr.error = mxt_xstrdup_or_null(t->client.q_ptr.error);
		c->fcrdns = t->client.fcrdns;
		c->ehlo_resolves = t->client.ehlo_resolves;
		/* A lookup that timed out is shared with those who waited for
		 * it, not reused. */
		c->expires =
		    mxt_now_ms() + (c->q_ptr.status == MXT_DNS_TIMEOUT ? 0 : MXT_IDENTITY_CACHE_MS);
		w = c->waiters;
		n = c->nwaiters;
		c->waiters = NULL;
		c->nwaiters = 0;
		/* Every waiter gets the results before any goes on (going on may
		 * reuse the entry). */
		for (i = 0; i < n; i++)
			idcache_apply(c, &w[i]->t->client);
	}
	for (i = 0; i < n; i++)
		identity_done(w[i]);
	free(w);
	identity_done(run);
}

/* Look up the client identity for t's judged address (mxt_identity_run()),
 * or take it from the engine's cache, or wait for the same lookup another
 * run has in flight.  identity_done() follows, maybe inside this call. */
static void
identity_start(struct mxt_run *run)
{
	struct mxt_engine *e = run->e;
	struct mxt_target *t = run->t;
	const char *addr = mxt_identity_address(&t->client);
	int64_t now = mxt_now_ms(), deadline = mxt_dns_deadline(run->cfg, now, run->hard);
	struct idcache *c, *slot = NULL, *victim = NULL;
	size_t i;

	run->identity_pending = 1;
	for (i = 0; addr != NULL && strlen(addr) < sizeof(c->addr) && i < MXT_IDENTITY_CACHE_MAX;
	     i++) {
		c = &e->idc[i];
		if (c->used && !c->pending && c->expires <= now)
			idcache_clear(c);
		if (!c->used) {
			if (slot == NULL)
				slot = c;
			continue;
		}
		if (strcmp(c->addr, addr) != 0 || !same_ehlo(c->ehlo, run->cfg->ehlo))
			continue;
		if (!c->pending) {
			idcache_apply(c, &t->client);
			identity_done(run);
			return;
		}
		/* In flight: wait, unless it may outlast this run's own
		 * deadline. */
		if (c->deadline <= deadline) {
			c->waiters =
			    mxt_xreallocarray(c->waiters, c->nwaiters + 1, sizeof(*c->waiters));
			c->waiters[c->nwaiters++] = run;
			return;
		}
	}
	/* Full: the finished entry that expires first makes room. */
	for (i = 0; addr != NULL && strlen(addr) < sizeof(c->addr) && i < MXT_IDENTITY_CACHE_MAX;
	     i++) {
		c = &e->idc[i];
		if (!c->pending && (victim == NULL || c->expires < victim->expires))
			victim = c;
	}
	if (slot == NULL)
		slot = victim;
	if (slot != NULL) {
		idcache_clear(slot);
		slot->used = slot->pending = 1;
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
		slot->ehlo = mxt_xstrdup_or_null(run->cfg->ehlo);
		slot->deadline = deadline;
		run->idc = slot;
	}
	mxt_identity_run(e->res, t, run->cfg, run->hard, on_identity, run);
}

static void
on_dns(struct mxt_target *t, void *arg)
{
	struct mxt_run *run = arg;

	log_dns(t);
	if (run->cancelled) {
		to_report(run);
		return;
	}
	/* The identity lookups and the probe run at the same time: the EHLO
	 * name is needed only after a banner (RFC 5321 §4.1.1.1), so a
	 * session that has its banner first waits for identity_done().  With
	 * --ehlo the name is known now and nothing waits. */
	run->stage = RUN_PROBE;
	mxt_identity_local(t, run->cfg);
	if (run->cfg->ehlo != NULL)
		mxt_identity_choose_ehlo(t, run->cfg);
	run->probe = mxt_probe_run(
	    run->e->loop, run->e->ctx, run->e->gate, t, run->cfg, run->hard, on_probe, run);
	run->probe_pending = run->probe != NULL;
	if (run->probe != NULL)
		mxt_probe_on_all_timeout(run->probe, on_all_timeout, run);
	identity_start(run);
}

static void
on_probe(struct mxt_target *t, void *arg)
{
	struct mxt_run *run = arg;

	run->probe = NULL; /* freed by the probe stage when this returns */
	run->probe_pending = 0;
	log_probe(t);
	step_after_probe(run);
}

/* ---- the egress reference check (--egress-check) ---- */

/* The real DNS and the real Internet, as far as the run can tell: no
 * --resolver, --server or --allow-loopback, and every port-25 attempt went
 * to a public address.  Only then may the built-in list be used (a lab
 * or a test never reaches it: their exchangers are on loopback). */
static int
real_internet(const struct mxt_run *run, const struct mxt_target *t)
{
	size_t i, n = 0;

	if (run->cfg->resolver != NULL || run->cfg->server != NULL || run->cfg->allow_loopback)
		return 0;
	for (i = 0; i < t->nattempts; i++) {
		if (t->attempts[i].canary)
			continue;
		if (!mxt_address_public(&t->attempts[i].addr))
			return 0;
		n++;
	}
	return n > 0;
}

/* The reference check has a result: copied into the record; the run goes
 * on if it was only waiting for that. */
static void
on_refcheck(void *arg)
{
	struct mxt_run *run = arg;

	mxt_refcheck_copy(run->rc, run->t);
	if (run->stage == RUN_EGRESS_REF) {
		mxt_timer_cancel(run->e->loop, &run->later);
		after_probe(run);
	}
}

/* The run's deadline (or a cancel) while it waits for the reference check. */
static void
on_refcheck_deadline(struct mxt_loop *loop, void *arg)
{
	struct mxt_run *run = arg;

	mxt_refcheck_unwait(run->rc, &run->rw);
	after_probe(run);
}

/* Every port-25 connect of this target timed out (the probe starts its
 * canaries now): start the reference check alongside, unless switched off
 * (--egress-check none), or no list was given and this is not the real
 * Internet. */
static void
on_all_timeout(struct mxt_target *t, void *arg)
{
	struct mxt_run *run = arg;
	struct mxt_engine *e = run->e;
	const struct mxt_config *cfg = run->cfg;
	const struct mxt_hostport *hosts = cfg->egress_check;
	size_t i, n = cfg->negress_check;
	int builtin = 0;

	if (cfg->egress_check_none || run->rc != NULL || run->cancelled)
		return;
	if (n == 0) {
		if (!real_internet(run, t))
			return;
		hosts = mxt_refcheck_builtin(&n);
		builtin = 1;
	}
	for (i = 0; i < e->nchecks; i++)
		if (mxt_refcheck_matches(
			e->checks[i], hosts, n, builtin, cfg->source, cfg->timeout_connect_ms))
			break;
	if (i == e->nchecks) {
		e->checks = mxt_xreallocarray(e->checks, e->nchecks + 1, sizeof(*e->checks));
		e->checks[e->nchecks++] = mxt_refcheck_new(e->loop, e->res, e->gate, e->ctx, hosts,
		    n, builtin, cfg->source, cfg->timeout_connect_ms);
	}
	run->rc = e->checks[i];
	mxt_log(1, "%s: every port-25 connect timed out: checking %zu reference exchanger(s)%s",
	    t->input, n, builtin ? " (built-in list)" : "");
	mxt_refcheck_wait(run->rc, &run->rw, on_refcheck, run);
}

/* The probe and the identity lookups are over: go on, once the reference
 * check (running alongside the canaries) has its result too, waited for
 * never past the run's deadline. */
static void
step_after_probe(struct mxt_run *run)
{
	if (run->probe_pending || run->identity_pending)
		return;
	if (run->rc != NULL && run->rw.queued) {
		if (!run->cancelled && mxt_now_ms() < run->hard) {
			run->stage = RUN_EGRESS_REF;
			mxt_timer_arm(
			    run->e->loop, &run->later, run->hard, on_refcheck_deadline, run);
			return;
		}
		mxt_refcheck_unwait(run->rc, &run->rw);
	}
	after_probe(run);
}

/* Whether a server echoed an address other than ours in its EHLO reply or
 * greeting (mxt_reply_echoed_address()): what it saw us as, our egress
 * address.  Records it and returns 1. */
static int
egress_seen(struct mxt_target *t)
{
	struct mxt_client *c = &t->client;
	size_t i;
	char addr[INET6_ADDRSTRLEN];

	if (c->egress != NULL)
		return 0;
	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];
		const struct mxt_step *s = mxt_attempt_step(a, MXT_STAGE_EHLO);
		const char *from = "ehlo";

		if (s == NULL || s->reply.nlines == 0) {
			s = mxt_attempt_step(a, MXT_STAGE_BANNER);
			from = "banner";
		}
		if (s == NULL || s->reply.nlines == 0)
			continue;
		if (!mxt_reply_echoed_address(
			s->reply.lines[0].p, s->reply.lines[0].len, addr, sizeof(addr)))
			continue;
		/* The server saw us as we are: nothing new to learn. */
		if ((c->local_v4 != NULL && strcmp(addr, c->local_v4) == 0) ||
		    (c->local_v6 != NULL && strcmp(addr, c->local_v6) == 0))
			return 0;
		c->egress = mxt_xstrdup(addr);
		c->egress_from = mxt_xstrdup(from);
		return 1;
	}
	return 0;
}

/* Both the probe and the identity lookups are over. */
static void
after_probe(struct mxt_run *run)
{
	struct mxt_target *t = run->t;

	/* A server told us our public address: look that one up too. */
	if (!run->cancelled && egress_seen(t)) {
		mxt_log(
		    1, "%s: a server saw us as %s: looking up its PTR", t->input, t->client.egress);
		run->stage = RUN_EGRESS_ID;
		identity_start(run);
		return;
	}
	to_reputation(run);
}

struct mxt_run *
mxt_run_start(struct mxt_engine *e, struct mxt_target *t, const struct mxt_config *cfg,
    mxt_run_done_cb *done, void *arg)
{
	struct mxt_run *run = mxt_xcalloc(1, sizeof(*run));

	run->e = e;
	run->t = t;
	run->cfg = cfg != NULL ? cfg : e->cfg;
	run->done = done;
	run->arg = arg;
	run->start = mxt_now_ms();
	run->hard = run->start + run->cfg->timeout_total_ms;
	t->started_unix_ms = wall_ms();
	e->nruns++;
	if (t->input_error != NULL) { /* not a target: straight to the report */
		to_report(run);
		return run;
	}
	run->stage = RUN_DNS;
	if (mxt_dns_run(e->res, t, run->cfg, &e->rng, run->hard, on_dns, run) < 0)
		to_report(run);
	return run;
}

void
mxt_run_cancel(struct mxt_run *run)
{
	if (run->cancelled)
		return;
	run->cancelled = 1;
	run->hard = mxt_now_ms();
	/* The probe stage is aborted now.  Every lookup (DNS and policies,
	 * identity, reputation) is asked on behalf of run: what is in flight
	 * or waiting for a slot ends now as a timeout, and each stage's
	 * callback sees run->cancelled and goes to the report.  An MTA-STS
	 * policy fetch in flight ends by its own timeout, within the DNS
	 * stage's deadline. */
	if (run->stage == RUN_PROBE && run->probe != NULL)
		mxt_probe_cancel(run->probe);
	/* Waiting for the reference check: stop now, from the loop. */
	if (run->stage == RUN_EGRESS_REF)
		mxt_timer_arm(run->e->loop, &run->later, run->hard, on_refcheck_deadline, run);
	if (run->stage != RUN_REPORT)
		mxt_resolver_cancel_owner(run->e->res, run);
}
