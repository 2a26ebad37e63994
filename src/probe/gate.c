/* SPDX-License-Identifier: MIT */
/*
 * The connection gate shared by every target of a run: at most `total`
 * connections open at once (--concurrency) and at most `per_address` to one
 * exchanger address (--per-address), so a batch of domains hosted by one
 * provider does not trip its "421 too many connections" (RFC 5321 §4.5.3.2
 * lets a server limit sessions; Postfix smtpd_client_connection_count_limit).
 * Waiters are woken from a fresh loop turn when a slot frees.  It counts;
 * it never touches a socket.
 */
#include <string.h>

#include "mxtrace/probe.h"
#include "mxtrace/xalloc.h"

struct slot {
	int family;
	unsigned char addr[16];
	size_t open;
};

struct mxt_gate {
	struct mxt_loop *loop;
	size_t total, per_address;
	size_t open, peak;
	struct slot *slots; /* addresses with a connection open */
	size_t nslots, cap;
	struct mxt_gate_waiter *head, *tail;
	struct mxt_timer wake;
};

struct mxt_gate *
mxt_gate_new(struct mxt_loop *loop, size_t total, size_t per_address)
{
	struct mxt_gate *g = mxt_xcalloc(1, sizeof(*g));

	g->loop = loop;
	g->total = total > 0 ? total : 1;
	g->per_address = per_address > 0 ? per_address : 1;
	return g;
}

void
mxt_gate_free(struct mxt_gate *g)
{
	if (g == NULL)
		return;
	mxt_timer_cancel(g->loop, &g->wake);
	free(g->slots);
	free(g);
}

/* The address bytes of a (the port does not matter: one host). */
static void
key_of(const struct mxt_address *a, int *family, unsigned char *k)
{
	memset(k, 0, 16);
	*family = a->sa.ss_family;
	if (a->sa.ss_family == AF_INET6)
		memcpy(k, &((const struct sockaddr_in6 *)&a->sa)->sin6_addr, 16);
	else
		memcpy(k, &((const struct sockaddr_in *)&a->sa)->sin_addr, 4);
}

static struct slot *
find(struct mxt_gate *g, const struct mxt_address *a)
{
	unsigned char k[16];
	int family;
	size_t i;

	key_of(a, &family, k);
	for (i = 0; i < g->nslots; i++)
		if (g->slots[i].family == family && memcmp(g->slots[i].addr, k, 16) == 0)
			return &g->slots[i];
	return NULL;
}

int
mxt_gate_take(struct mxt_gate *g, const struct mxt_address *a)
{
	struct slot *s = find(g, a);

	if (g->open >= g->total || (s != NULL && s->open >= g->per_address))
		return 0;
	if (s == NULL) {
		if (g->nslots == g->cap) {
			g->cap = g->cap ? 2 * g->cap : 16;
			g->slots = mxt_xreallocarray(g->slots, g->cap, sizeof(*g->slots));
		}
		s = &g->slots[g->nslots++];
		key_of(a, &s->family, s->addr);
		s->open = 0;
	}
	s->open++;
	if (++g->open > g->peak)
		g->peak = g->open;
	return 1;
}

/* Wake every waiter; each takes what it can and waits again if need be. */
static void
on_wake(struct mxt_loop *loop, void *arg)
{
	struct mxt_gate *g = arg;
	struct mxt_gate_waiter *w = g->head;

	g->head = g->tail = NULL;
	while (w != NULL) {
		struct mxt_gate_waiter *next = w->next;

		w->next = NULL;
		w->queued = 0;
		w->cb(w->arg);
		w = next;
	}
}

void
mxt_gate_give(struct mxt_gate *g, const struct mxt_address *a)
{
	struct slot *s = find(g, a);

	if (s == NULL || s->open == 0)
		return;
	g->open--;
	if (--s->open == 0)
		*s = g->slots[--g->nslots];
	if (g->head != NULL)
		mxt_timer_arm(g->loop, &g->wake, mxt_now_ms(), on_wake, g);
}

void
mxt_gate_wait(struct mxt_gate *g, struct mxt_gate_waiter *w, void (*cb)(void *), void *arg)
{
	if (w->queued)
		return;
	w->cb = cb;
	w->arg = arg;
	w->next = NULL;
	w->queued = 1;
	if (g->tail != NULL)
		g->tail->next = w;
	else
		g->head = w;
	g->tail = w;
}

void
mxt_gate_unwait(struct mxt_gate *g, struct mxt_gate_waiter *w)
{
	struct mxt_gate_waiter **p, *prev = NULL;

	if (!w->queued)
		return;
	for (p = &g->head; *p != NULL; prev = *p, p = &(*p)->next) {
		if (*p != w)
			continue;
		*p = w->next;
		if (g->tail == w)
			g->tail = prev;
		break;
	}
	w->next = NULL;
	w->queued = 0;
}

size_t
mxt_gate_open(const struct mxt_gate *g)
{
	return g->open;
}

size_t
mxt_gate_peak(const struct mxt_gate *g)
{
	return g->peak;
}
