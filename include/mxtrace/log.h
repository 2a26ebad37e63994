/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics on standard error (stdout belongs to the renderers): progress
 * with -v, more with -vv, notes and warnings unless -q.  Text from peers must
 * be escaped by the caller (mxt_escape) before it is logged.
 */
#ifndef MXTRACE_LOG_H
#define MXTRACE_LOG_H

/* Set once from the options: verbosity 0.., quiet 0/1. */
void mxt_log_init(int verbose, int quiet);
/* Progress line at verbosity level (1 = -v, 2 = -vv). */
void mxt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note or warning for the user, silenced by -q. */
void mxt_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mxt_log_level(void);

#endif
