/* SPDX-License-Identifier: MIT */
/*
 * Probe scheduling: one attempt per address of every usable exchanger,
 * started in order as the run's connection gate allows (gate.c: shared by
 * every target), each an independent connection on the shared loop.  A run-wide deadline aborts
 * what is left. Canary attempts (587, 465; connect only) follow when every port-25 attempt timed
 * out.  What an attempt means is the report stage's job.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mxtrace/conn.h"
#include "mxtrace/limits.h"
#include "mxtrace/probe.h"
#include "mxtrace/xalloc.h"

struct mxt_probe {
	struct mxt_loop *loop;
	SSL_CTX *ctx;
	struct mxt_gate *gate;
	struct mxt_gate_waiter waiter;
	struct mxt_target *t;
	const struct mxt_config *cfg;
	int64_t hard;
	mxt_probe_done_cb *done;
	void *arg;
	struct mxt_session_params sp, canary_sp, plain_sp;
	struct mxt_message_params msg;
	struct mxt_conn **conns; /* parallel to t->attempts */
	size_t first, next, running;
	int canary_phase;
	int retry_phase;
	int aborted;
	struct mxt_timer deadline;
	int finished;
	int aborting; /* inside on_deadline: connections finish one by one */
	void (*on_all_timeout)(struct mxt_target *t, void *arg); /* may be NULL */
	void *hook_arg;
};

static void start_some(struct mxt_probe *pr);
static void on_idle(struct mxt_loop *loop, void *arg);
static void all_done(struct mxt_probe *pr);
static void on_deadline(struct mxt_loop *loop, void *arg);

static int
default_port(const struct mxt_config *cfg)
{
	if (cfg->port > 0)
		return cfg->port;
	return cfg->tls_on_connect ? 465 : 25;
}

static enum mxt_mode
mode_of(int port, int tls_on_connect)
{
	if (port == 465 || tls_on_connect)
		return MXT_MODE_SMTPS;
	return port == 587 ? MXT_MODE_SUBMISSION : MXT_MODE_SMTP;
}

/* Plan one attempt per address of every usable exchanger. */
static int
plan(struct mxt_probe *pr, int port, int canary)
{
	struct mxt_target *t = pr->t;
	size_t i, j;

	for (i = 0; i < t->dns.nmx; i++) {
		const struct mxt_exchanger *x = &t->dns.mx[i];

		if (!mxt_exchanger_usable(x))
			continue;
		if (t->dns.source == MXT_MX_SOURCE_NULL)
			continue;
		for (j = 0; j < x->naddrs; j++) {
			struct mxt_attempt *a = mxt_target_add_attempt(t);

			if (a == NULL)
				return -1;
			a->mx_index = i;
			a->addr = x->addrs[j];
			a->port = port;
			a->mode = mode_of(port, canary ? port == 465 : pr->cfg->tls_on_connect);
			a->canary = canary;
		}
	}
	return 0;
}

static void
all_done(struct mxt_probe *pr)
{
	size_t i;

	if (pr->finished)
		return;
	pr->finished = 1;
	mxt_timer_cancel(pr->loop, &pr->deadline);
	mxt_gate_unwait(pr->gate, &pr->waiter);
	for (i = 0; i < pr->t->nattempts; i++)
		mxt_conn_free(pr->conns[i]);
	free(pr->conns);
	pr->done(pr->t, pr->arg);
	free(pr);
}

/* Every port-25 attempt timed out at connect: try 587 and 465 (connect
 * only) on the same addresses, to tell egress blocking apart. */
static int
need_canary(const struct mxt_probe *pr)
{
	size_t i, n = 0;

	if (pr->cfg->port > 0 || pr->cfg->tls_on_connect || pr->canary_phase)
		return 0;
	for (i = 0; i < pr->t->nattempts; i++) {
		if (pr->t->attempts[i].connect != MXT_CONN_TIMEOUT)
			return 0;
		n++;
	}
	return n > 0 && mxt_now_ms() < pr->hard;
}

/* With --send, attempts run one at a time in preference order and stop
 * like an MTA (RFC 5321 §5.1): at the first success or 5xx; connect
 * failures and 4xx move on.  Mail is never delivered twice. */
static int
delivery_settled(const struct mxt_attempt *a)
{
	const struct mxt_step *last = mxt_attempt_last_step(a);

	if (a->end == MXT_END_OK)
		return 1;
	/* The message went out: whatever happened after the final dot, trying
	 * another MX could deliver it twice (RFC 5321 §6.1). */
	if (mxt_attempt_step(a, MXT_STAGE_DATA_END) != NULL)
		return 1;
	if (a->end != MXT_END_REJECTED)
		return 0;
	return last != NULL && last->reply.code >= 500;
}

/* The gate counts open sockets, not unsettled attempts: a server counts
 * (and limits, RFC 5321 §4.5.3.2) the connections it has not closed, and
 * one that ended with QUIT lingers until the 221, the server's close, the
 * QUIT deadline or the end of this probe, whichever comes first (conn.h).
 * So its slot comes back when its socket closes: no later than when the
 * session used to wait for the 221, and for a normal server after it
 * answered QUIT and began to close, so the next connection to that address
 * does not meet the old one still counted there. */
static void
on_conn_closed(void *arg, struct mxt_conn *c)
{
	struct mxt_probe *pr = arg;
	size_t i;

	for (i = 0; i < pr->next; i++)
		if (pr->conns[i] == c) {
			mxt_gate_give(pr->gate, &pr->t->attempts[i].addr);
			break;
		}
}

/* The attempt is settled (its QUIT written, or it ended before): the next
 * may start.  Its socket may still linger (on_conn_closed). */
static void
on_conn_done(void *arg, struct mxt_conn *c)
{
	struct mxt_probe *pr = arg;

	pr->running--;
	if (pr->cfg->send && pr->next > 0 && delivery_settled(&pr->t->attempts[pr->next - 1]))
		pr->next = pr->t->nattempts; /* the rest stay not_tried */
	if (!pr->aborting)
		start_some(pr);
}

/* A follow-up phase (plaintext retries, canaries): free the finished
 * connections (the attempts array may move while attempts are added), let
 * plan_phase() append attempts, and run them under the same deadline.
 * plan_phase returns how many it added, or -1 on ENOMEM. */
static void
start_phase(struct mxt_probe *pr, long (*plan_phase)(struct mxt_probe *))
{
	size_t i, before = pr->t->nattempts;
	long added;

	for (i = 0; i < before; i++) {
		mxt_conn_free(pr->conns[i]);
		pr->conns[i] = NULL;
	}
	added = plan_phase(pr);
	if (added == 0) {
		on_idle(pr->loop, pr);
		return;
	}
	if (added < 0) {
		pr->t->nattempts = before;
		all_done(pr);
		return;
	}
	pr->conns = mxt_xreallocarray(pr->conns, pr->t->nattempts, sizeof(*pr->conns));
	memset(pr->conns + before, 0, (pr->t->nattempts - before) * sizeof(*pr->conns));
	pr->next = before;
	mxt_timer_arm(pr->loop, &pr->deadline, pr->hard, on_deadline, pr);
	start_some(pr);
}

static long
plan_canaries(struct mxt_probe *pr)
{
	size_t before = pr->t->nattempts;

	pr->canary_phase = 1;
	if (plan(pr, 587, 1) < 0 || plan(pr, 465, 1) < 0)
		return -1;
	return (long)(pr->t->nattempts - before);
}

static void
on_gate(void *arg)
{
	start_some(arg);
}

static void
start_some(struct mxt_probe *pr)
{
	/* --send: one attempt at a time, in preference order (RFC 5321 §5.1). */
	size_t cap = pr->cfg->send ? 1 : SIZE_MAX;

	/* Past the run's deadline nothing new starts (on_deadline marks the
	 * rest). */
	if (mxt_now_ms() >= pr->hard && !pr->aborting && pr->next < pr->t->nattempts) {
		on_deadline(pr->loop, pr);
		return;
	}
	while (pr->running < cap && pr->next < pr->t->nattempts) {
		struct mxt_attempt *a = &pr->t->attempts[pr->next];
		const struct mxt_exchanger *x = &pr->t->dns.mx[a->mx_index];
		struct mxt_conn_params cp;
		const char *name = x->name;
		unsigned char b[16];

		/* The gate is full for this address (or overall): wait for a
		 * slot; attempts start in order. */
		if (!mxt_gate_take(pr->gate, &a->addr)) {
			mxt_gate_wait(pr->gate, &pr->waiter, on_gate, pr);
			break;
		}
		memset(&cp, 0, sizeof(cp));
		cp.loop = pr->loop;
		cp.ssl_ctx = pr->ctx;
		cp.sp = a->canary ? &pr->canary_sp : a->plaintext_retry ? &pr->plain_sp : &pr->sp;
		cp.source = pr->cfg->source;
		cp.t_connect = pr->cfg->timeout_connect_ms;
		cp.t_banner = pr->cfg->timeout_banner_ms;
		cp.t_command = pr->cfg->timeout_command_ms;
		cp.t_tls = MXT_DEADLINE_TLS_MS < pr->cfg->timeout_command_ms
		    ? MXT_DEADLINE_TLS_MS
		    : pr->cfg->timeout_command_ms;
		cp.t_quit = MXT_DEADLINE_QUIT_MS;
		cp.t_data_end = MXT_DEADLINE_DATA_END_MS;
		cp.hard_deadline = pr->hard;
		cp.label = pr->t->input;
		/* RFC 6066 §3: no SNI and no name check for an address. */
		if (inet_pton(AF_INET, name, b) == 1 || inet_pton(AF_INET6, name, b) == 1)
			name = NULL;
		pr->conns[pr->next] = mxt_conn_start(&cp, a, name, on_conn_done, pr);
		if (pr->conns[pr->next] != NULL)
			mxt_conn_set_closed(pr->conns[pr->next], on_conn_closed, pr);
		/* RFC 7672 §2.2: the exchanger's TLSA records (policy.c). */
		if (pr->conns[pr->next] != NULL && !a->canary && x->dane == MXT_DANE_LOOKUP_DONE &&
		    x->q_tlsa.status == MXT_DNS_OK && x->q_tlsa.authentic && x->ntlsa > 0)
			mxt_conn_set_dane(pr->conns[pr->next], x->tlsa, x->ntlsa,
			    (x->flags & MXT_XF_CNAME) ? x->cname : NULL);
		pr->next++;
		if (pr->conns[pr->next - 1] != NULL)
			pr->running++;
		else
			mxt_gate_give(pr->gate, &a->addr);
	}
	/* Never free connections inside their own callbacks: finish from a
	 * fresh loop turn. */
	if (pr->running == 0 && pr->next >= pr->t->nattempts)
		mxt_timer_arm(pr->loop, &pr->deadline, mxt_now_ms(), on_idle, pr);
}

/* Opportunistic STARTTLS whose handshake failed: senders such as Postfix
 * ("may") and Exim retry in plaintext, so mail still flows.  Try each such
 * address once more without TLS to see what they would see. */
static long
plan_plaintext_retries(struct mxt_probe *pr)
{
	size_t i, n = pr->t->nattempts;
	long added = 0;

	pr->retry_phase = 1;
	if (pr->cfg->starttls != MXT_STARTTLS_AUTO || pr->sp.tls_on_connect)
		return 0;
	for (i = 0; i < n; i++) {
		struct mxt_attempt *a = &pr->t->attempts[i], *r;

		if (a->canary || a->plaintext_retry || a->end != MXT_END_TLS ||
		    mxt_now_ms() >= pr->hard)
			continue;
		r = mxt_target_add_attempt(pr->t);
		if (r == NULL)
			break;
		a = &pr->t->attempts[i]; /* the array may have moved */
		r->mx_index = a->mx_index;
		r->addr = a->addr;
		r->port = a->port;
		r->mode = a->mode;
		r->plaintext_retry = 1;
		added++;
	}
	return added;
}

static void
on_idle(struct mxt_loop *loop, void *arg)
{
	struct mxt_probe *pr = arg;

	if (!pr->retry_phase && !pr->canary_phase && !pr->cfg->send && !pr->aborted)
		start_phase(pr, plan_plaintext_retries);
	else if (need_canary(pr)) {
		if (pr->on_all_timeout != NULL)
			pr->on_all_timeout(pr->t, pr->hook_arg);
		start_phase(pr, plan_canaries);
	} else
		all_done(pr);
}

static void
on_deadline(struct mxt_loop *loop, void *arg)
{
	struct mxt_probe *pr = arg;
	size_t i, n = pr->t->nattempts;

	pr->canary_phase = 1; /* no canary after the deadline */
	pr->aborted = 1;
	pr->aborting = 1;
	mxt_gate_unwait(pr->gate, &pr->waiter);
	for (i = 0; i < pr->next; i++)
		if (pr->conns[i] != NULL)
			mxt_conn_abort(pr->conns[i]);
	pr->aborting = 0;
	for (i = pr->next; i < n; i++) {
		pr->t->attempts[i].end = MXT_END_DEADLINE;
		pr->t->attempts[i].end_stage = MXT_STAGE_CONNECT;
	}
	pr->next = n;
	start_some(pr);
}

struct mxt_probe *
mxt_probe_run(struct mxt_loop *loop, SSL_CTX *ctx, struct mxt_gate *gate, struct mxt_target *t,
    const struct mxt_config *cfg, int64_t hard_deadline, mxt_probe_done_cb *done, void *arg)
{
	struct mxt_probe *pr = mxt_xcalloc(1, sizeof(*pr));

	pr->gate = gate;
	pr->loop = loop;
	pr->ctx = ctx;
	pr->t = t;
	pr->cfg = cfg;
	pr->hard = hard_deadline;
	pr->done = done;
	pr->arg = arg;
	pr->sp.ehlo = t->client.ehlo_name;
	pr->sp.from = t->sender != NULL ? t->sender : "";
	pr->sp.rcpts = t->rcpts;
	pr->sp.nrcpts = t->nrcpts;
	pr->sp.starttls = cfg->starttls;
	pr->sp.tls_on_connect = cfg->tls_on_connect || default_port(cfg) == 465;
	pr->sp.quit_after = cfg->quit_after;
	pr->sp.send = cfg->send;
	if (cfg->send) {
		pr->msg.from = pr->sp.from;
		pr->msg.to = t->rcpts;
		pr->msg.nto = t->nrcpts;
		pr->msg.body = cfg->body;
		pr->msg.body_file_data = cfg->body_data;
		pr->msg.body_file_len = cfg->body_data_len;
		pr->msg.pad_to = cfg->size;
		pr->msg.now = (int64_t)time(NULL);
		if (getrandom(&pr->msg.rand, sizeof(pr->msg.rand), 0) != sizeof(pr->msg.rand))
			pr->msg.rand = (uint64_t)mxt_now_ms() * 0x9e3779b97f4a7c15ULL;
		pr->sp.msg = &pr->msg;
	}
	pr->sp.user = cfg->user;
	pr->sp.password = cfg->password;
	pr->sp.auth_mech = cfg->auth_mech;
	pr->sp.allow_plaintext_auth = cfg->allow_plaintext_auth;
	pr->plain_sp = pr->sp;
	pr->plain_sp.starttls = MXT_STARTTLS_NEVER;
	pr->canary_sp = pr->sp;
	pr->canary_sp.tls_on_connect = 0;
	pr->canary_sp.quit_after = MXT_QUIT_AFTER_CONNECT;
	if (plan(pr, default_port(cfg), 0) < 0) {
		free(pr);
		return NULL;
	}
	pr->conns = mxt_xcalloc(t->nattempts ? t->nattempts : 1, sizeof(*pr->conns));
	mxt_timer_arm(loop, &pr->deadline, hard_deadline, on_deadline, pr);
	start_some(pr);
	return pr;
}

void
mxt_probe_ehlo_ready(struct mxt_probe *pr)
{
	size_t i;

	if (pr->finished)
		return;
	pr->sp.ehlo = pr->plain_sp.ehlo = pr->canary_sp.ehlo = pr->t->client.ehlo_name;
	if (pr->sp.ehlo == NULL)
		return;
	/* A connection that ends here runs on_conn_done, which may start the
	 * next attempts (they see the name) but never frees or moves conns. */
	for (i = 0; i < pr->next; i++)
		if (pr->conns[i] != NULL)
			mxt_conn_resume(pr->conns[i]);
}

void
mxt_probe_cancel(struct mxt_probe *pr)
{
	if (pr->finished || pr->aborted)
		return;
	pr->hard = mxt_now_ms();
	/* From the loop, so done never runs inside the caller. */
	mxt_timer_arm(pr->loop, &pr->deadline, pr->hard, on_deadline, pr);
}

void
mxt_probe_on_all_timeout(
    struct mxt_probe *pr, void (*hook)(struct mxt_target *t, void *arg), void *arg)
{
	pr->on_all_timeout = hook;
	pr->hook_arg = arg;
}
