/* SPDX-License-Identifier: MIT */
/*
 * The event loop: epoll for file descriptors, a binary min-heap of intrusive
 * timers on the monotonic clock.  One loop drives c-ares and every SMTP
 * connection of a run.  It does not own the fds it watches and never closes
 * them; it never allocates per timer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "mxtrace/loop.h"
#include "mxtrace/xalloc.h"

struct watcher {
	mxt_io_cb *cb;
	void *arg;
	unsigned events;
	int active;
};

struct mxt_loop {
	int epfd;
	struct watcher *w; /* indexed by fd */
	size_t nw;
	size_t nwatched;
	struct mxt_timer **heap;
	size_t nheap, capheap;
	int stop;
};

/* Monotonic milliseconds. */
int64_t
mxt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct mxt_loop *
mxt_loop_new(void)
{
	struct mxt_loop *l = mxt_xcalloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void
mxt_loop_free(struct mxt_loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	free(l->w);
	free(l->heap);
	free(l);
}

static uint32_t
ep_events(unsigned ev)
{
	uint32_t e = 0;

	if (ev & MXT_EV_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (ev & MXT_EV_WRITE)
		e |= EPOLLOUT;
	return e;
}

int
mxt_loop_watch(struct mxt_loop *l, int fd, unsigned events, mxt_io_cb *cb, void *arg)
{
	struct epoll_event ee;
	int op;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((size_t)fd >= l->nw) {
		size_t n = l->nw ? l->nw : 64;
		struct watcher *w;

		while (n <= (size_t)fd)
			n *= 2;
		w = mxt_xreallocarray(l->w, n, sizeof(*w));
		memset(w + l->nw, 0, (n - l->nw) * sizeof(*w));
		l->w = w;
		l->nw = n;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = ep_events(events);
	ee.data.fd = fd;
	op = l->w[fd].active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ee) < 0)
		return -1;
	if (!l->w[fd].active)
		l->nwatched++;
	l->w[fd].cb = cb;
	l->w[fd].arg = arg;
	l->w[fd].events = events;
	l->w[fd].active = 1;
	return 0;
}

void
mxt_loop_unwatch(struct mxt_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nw || !l->w[fd].active)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->w[fd].active = 0;
	l->w[fd].cb = NULL;
	l->nwatched--;
}

/* ---- timer heap (slot = index + 1) ---- */

static void
heap_set(struct mxt_loop *l, size_t i, struct mxt_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void
heap_up(struct mxt_loop *l, size_t i)
{
	struct mxt_timer *t = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (l->heap[p]->deadline <= t->deadline)
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void
heap_down(struct mxt_loop *l, size_t i)
{
	struct mxt_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->deadline < l->heap[c]->deadline)
			c++;
		if (t->deadline <= l->heap[c]->deadline)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void
mxt_timer_cancel(struct mxt_loop *l, struct mxt_timer *t)
{
	size_t i;
	struct mxt_timer *last;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->slot - 1);
}

void
mxt_timer_arm(
    struct mxt_loop *l, struct mxt_timer *t, int64_t deadline, mxt_timer_cb *cb, void *arg)
{
	mxt_timer_cancel(l, t);
	t->deadline = deadline;
	t->cb = cb;
	t->arg = arg;
	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 32;
		/* Aborts on OOM: never run without a deadline. */
		l->heap = mxt_xreallocarray(l->heap, n, sizeof(*l->heap));
		l->capheap = n;
	}
	heap_set(l, l->nheap++, t);
	heap_up(l, l->nheap - 1);
}

size_t
mxt_loop_pending(const struct mxt_loop *l)
{
	return l->nwatched + l->nheap;
}

void
mxt_loop_stop(struct mxt_loop *l)
{
	l->stop = 1;
}

/* Fire every timer whose deadline has passed. */
static void
run_timers(struct mxt_loop *l)
{
	int64_t now = mxt_now_ms();

	while (l->nheap > 0 && l->heap[0]->deadline <= now && !l->stop) {
		struct mxt_timer *t = l->heap[0];

		mxt_timer_cancel(l, t);
		t->cb(l, t->arg);
	}
}

int
mxt_loop_run(struct mxt_loop *l)
{
	struct epoll_event ev[64];

	l->stop = 0;
	while (!l->stop && mxt_loop_pending(l) > 0) {
		int timeout = -1, n, i;

		if (l->nheap > 0) {
			int64_t d = l->heap[0]->deadline - mxt_now_ms();

			timeout = d < 0 ? 0 : (d > 60000 ? 60000 : (int)d);
		}
		n = epoll_wait(l->epfd, ev, 64, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n && !l->stop; i++) {
			int fd = ev[i].data.fd;
			unsigned e = 0;
			struct watcher *w;

			if ((size_t)fd >= l->nw || !l->w[fd].active)
				continue; /* unwatched by an earlier callback */
			w = &l->w[fd];
			if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
				e |= MXT_EV_READ;
			if (ev[i].events & EPOLLOUT)
				e |= MXT_EV_WRITE;
			if (ev[i].events & (EPOLLERR | EPOLLHUP))
				e |= MXT_EV_ERROR;
			w->cb(l, fd, e, w->arg);
		}
		run_timers(l);
	}
	return 0;
}
