/* SPDX-License-Identifier: MIT */
/* Event loop: timer order, cancel, re-arm, fd readiness, unwatch in callback. */
#include <string.h>
#include <unistd.h>

#include "mxtrace/loop.h"
#include "t.h"

static int order[16], norder;

static void
fire(struct mxt_loop *l, void *arg)
{
	order[norder++] = (int)(long)arg;
}

static int reads;

static void
on_read(struct mxt_loop *l, int fd, unsigned ev, void *arg)
{
	char b[8];

	if (ev & MXT_EV_READ && read(fd, b, sizeof(b)) > 0)
		reads++;
	mxt_loop_unwatch(l, fd); /* safe inside its own callback */
}

int
main(void)
{
	struct mxt_loop *l = mxt_loop_new();
	struct mxt_timer t[6];
	int64_t now = mxt_now_ms();
	int p[2], i;

	memset(t, 0, sizeof(t));
	T_CHECK(l != NULL, "loop created");
	mxt_timer_arm(l, &t[0], now + 30, fire, (void *)3L);
	mxt_timer_arm(l, &t[1], now + 10, fire, (void *)1L);
	mxt_timer_arm(l, &t[2], now + 20, fire, (void *)2L);
	mxt_timer_arm(l, &t[3], now + 15, fire, (void *)99L);
	mxt_timer_arm(l, &t[4], now + 40, fire, (void *)4L);
	mxt_timer_cancel(l, &t[3]);
	T_CHECK(!mxt_timer_armed(&t[3]), "cancelled timer is not armed");
	mxt_timer_arm(l, &t[4], now + 5, fire, (void *)0L); /* re-arm earlier */
	T_CHECK(mxt_loop_pending(l) == 4, "four timers pending");
	T_CHECK(mxt_loop_run(l) == 0, "run returns 0");
	T_CHECK(norder == 4, "four timers fired (%d)", norder);
	for (i = 0; i < 4 && i < norder; i++)
		T_CHECK(order[i] == i, "timer %d fired in deadline order", i);
	T_CHECK(mxt_now_ms() - now >= 30, "run waited for the last deadline");

	T_CHECK(pipe(p) == 0, "pipe");
	T_CHECK(write(p[1], "x", 1) == 1, "write");
	T_CHECK(mxt_loop_watch(l, p[0], MXT_EV_READ, on_read, NULL) == 0, "watch read end");
	mxt_loop_run(l);
	T_CHECK(reads == 1, "read callback ran once");
	T_CHECK(mxt_loop_pending(l) == 0, "nothing pending after unwatch");
	close(p[0]);
	close(p[1]);
	mxt_loop_free(l);
	return t_done();
}
