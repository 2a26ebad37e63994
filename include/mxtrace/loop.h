/* SPDX-License-Identifier: MIT */
/*
 * The single event loop (epoll) that drives c-ares and every SMTP
 * connection.  File-descriptor watchers and one-shot timers on a monotonic
 * millisecond clock.  Timers are intrusive: the caller owns struct mxt_timer
 * and the loop never allocates per timer.  Not thread-safe; one loop per run.
 */
#ifndef MXTRACE_LOOP_H
#define MXTRACE_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct mxt_loop;

enum { MXT_EV_READ = 1u, MXT_EV_WRITE = 2u, MXT_EV_ERROR = 4u };

typedef void mxt_io_cb(struct mxt_loop *loop, int fd, unsigned events, void *arg);
typedef void mxt_timer_cb(struct mxt_loop *loop, void *arg);

struct mxt_timer {
	int64_t deadline; /* monotonic ms */
	mxt_timer_cb *cb;
	void *arg;
	size_t slot; /* heap position + 1; 0 when not armed */
};

/* Monotonic clock in milliseconds. */
int64_t mxt_now_ms(void);

/* Create a loop; NULL on failure (errno set).  Caller frees with mxt_loop_free(). */
struct mxt_loop *mxt_loop_new(void);
void mxt_loop_free(struct mxt_loop *loop);

/* Watch fd for events (MXT_EV_READ|MXT_EV_WRITE); a second call for the same
 * fd changes the interest and callback.  events == 0 keeps the fd registered
 * but silent.  Returns 0 or -1 (errno). */
int mxt_loop_watch(struct mxt_loop *loop, int fd, unsigned events, mxt_io_cb *cb, void *arg);
/* Stop watching fd (safe inside its own callback; the fd is not closed). */
void mxt_loop_unwatch(struct mxt_loop *loop, int fd);

/* Arm (or re-arm) t to fire once at the absolute monotonic time deadline. */
void mxt_timer_arm(
    struct mxt_loop *loop, struct mxt_timer *t, int64_t deadline, mxt_timer_cb *cb, void *arg);
void mxt_timer_cancel(struct mxt_loop *loop, struct mxt_timer *t);
static inline int
mxt_timer_armed(const struct mxt_timer *t)
{
	return t->slot != 0;
}

/* Run until there is nothing left to wait for or mxt_loop_stop() is called.
 * Returns 0, or -1 on an epoll failure. */
int mxt_loop_run(struct mxt_loop *loop);
void mxt_loop_stop(struct mxt_loop *loop);
/* Number of fds being watched plus armed timers. */
size_t mxt_loop_pending(const struct mxt_loop *loop);

#endif
