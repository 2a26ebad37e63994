/* SPDX-License-Identifier: MIT */
/*
 * Private to src/cli: the --batch reader.  Reads FILE (or "-", standard
 * input) one line at a time as the run asks for targets, with bounded
 * memory: a line is at most MXT_BATCH_LINE_MAX octets, and past
 * MXT_BATCH_SKIP_MAX octets without a newline the input is not a list of
 * targets and reading stops (limits.h).  A bad line is an item with an
 * error, never a reason to stop the others.
 */
#ifndef MXT_CLI_BATCH_H
#define MXT_CLI_BATCH_H

#include <stddef.h>

struct batch;

/* One line of the input: a target, or why it is not one (error != NULL;
 * input is then the line as read, NUL as "?").  Strings owned by the item. */
struct batch_item {
	size_t line; /* 1-based */
	char *input, *domain, *unicode, *rcpt;
	char *error;
};

/* Open path ("-": standard input).  NULL with a reason in err when it
 * cannot be read (missing, a directory: EISDIR). */
struct batch *batch_open(const char *path, char *err, size_t errlen);
#define BATCH_AGAIN (-1)

/* The next item: 1, or 0 at the end of the input, or BATCH_AGAIN when a
 * non-blocking input (batch_nonblock()) has no whole line yet: wait until
 * batch_fd() is readable and call again.  Blank lines and lines starting
 * with '#' are skipped. */
int batch_next(struct batch *b, struct batch_item *it);
/* The descriptor read from, for the caller's event loop. */
int batch_fd(const struct batch *b);
/* Read without blocking (a pipe, a terminal, a socket; never a regular
 * file, which does not block): 0, or -1 when it is not worth it or cannot
 * be set.  batch_close() restores the descriptor's flags. */
int batch_nonblock(struct batch *b);
/* Targets in the input when known in advance (a regular file), else -1. */
long batch_total(const struct batch *b);
void batch_item_free(struct batch_item *it);
void batch_close(struct batch *b);

#endif
