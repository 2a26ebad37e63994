/* SPDX-License-Identifier: MIT */
/*
 * The --batch reader (batch.h): lines are read as targets are needed, each
 * bounded (MXT_BATCH_LINE_MAX; an over-long line is skipped to its newline
 * and reported), the skip itself bounded (MXT_BATCH_SKIP_MAX: a file with
 * no newline, such as /dev/zero, ends the input), and every line checked
 * the way the command line's TARGET is (options.c).  It parses; it does not
 * probe.  A pipe or a terminal (standard input from another program) is
 * read without blocking once batch_nonblock() is called: batch_next() then
 * says "no whole line yet" and keeps the partial line for the next call, so
 * the caller's event loop waits for the input with everything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxtrace/escape.h"
#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "batch.h"
#include "options.h"

#define BATCH_READ 65536

struct batch {
	int fd;
	int own_fd;
	int nonblock;	 /* batch_nonblock() set O_NONBLOCK on fd */
	int saved_flags; /* fd's flags before, restored by batch_close() */
	long total;
	size_t lineno;
	int eof;
	int stopped; /* no newline within MXT_BATCH_SKIP_MAX: the rest is not read */
	char buf[BATCH_READ];
	size_t pos, len;
	/* The line being read, kept across calls that return BATCH_AGAIN. */
	char line[MXT_BATCH_LINE_MAX + 1];
	size_t llen, skipped;
	int too_long, got;
};

/* Count the lines a regular file holds targets on (not blank, not '#'),
 * for the progress display; -1 when it cannot be read twice. */
static long
count_targets(int fd)
{
	char buf[BATCH_READ];
	long n = 0;
	int at_start = 1, counted = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		ssize_t i;

		for (i = 0; i < r; i++) {
			char ch = buf[i];

			if (ch == '\n') {
				at_start = 1;
				counted = 0;
			} else if (at_start && (ch == ' ' || ch == '\t' || ch == '\r')) {
				continue;
			} else if (at_start) {
				at_start = 0;
				if (ch != '#' && !counted) {
					n++;
					counted = 1;
				}
			}
		}
	}
	if (r < 0 || lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	return n;
}

struct batch *
batch_open(const char *path, char *err, size_t errlen)
{
	struct batch *b;
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open --batch %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read --batch %s: %s", path, strerror(EISDIR));
		if (fd != STDIN_FILENO)
			close(fd);
		return NULL;
	}
	b = mxt_xcalloc(1, sizeof(*b));
	b->fd = fd;
	b->own_fd = fd != STDIN_FILENO;
	b->total = S_ISREG(st.st_mode) ? count_targets(fd) : -1;
	return b;
}

long
batch_total(const struct batch *b)
{
	return b->total;
}

int
batch_fd(const struct batch *b)
{
	return b->fd;
}

int
batch_nonblock(struct batch *b)
{
	struct stat st;
	int fl;

	if (fstat(b->fd, &st) != 0 || S_ISREG(st.st_mode))
		return -1; /* a regular file never blocks (and epoll refuses it) */
	fl = fcntl(b->fd, F_GETFL);
	if (fl < 0 || fcntl(b->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	b->saved_flags = fl;
	b->nonblock = 1;
	return 0;
}

#define BYTE_EOF (-1)
#define BYTE_AGAIN (-2)

/* One input byte, BYTE_EOF at the end (or on a read error), or BYTE_AGAIN
 * when a non-blocking input has nothing more yet. */
static int
next_byte(struct batch *b)
{
	ssize_t r;

	if (b->pos == b->len) {
		if (b->eof)
			return BYTE_EOF;
		do
			r = read(b->fd, b->buf, sizeof(b->buf));
		while (r < 0 && errno == EINTR);
		if (r < 0 && b->nonblock && (errno == EAGAIN || errno == EWOULDBLOCK))
			return BYTE_AGAIN;
		if (r <= 0) {
			b->eof = 1;
			return BYTE_EOF;
		}
		b->pos = 0;
		b->len = (size_t)r;
	}
	return (unsigned char)b->buf[b->pos++];
}

/* A line that is not a target: its first 256 bytes as they are (the
 * renderers escape them), a NUL shown as '?' so the string ends at its end. */
static void
set_error(struct batch_item *it, const char *line, size_t len, const char *why)
{
	size_t i;

	if (len > 256)
		len = 256;
	it->input = mxt_xmalloc(len + 1);
	for (i = 0; i < len; i++)
		it->input[i] = line[i] != '\0' ? line[i] : '?';
	it->input[len] = '\0';
	it->error = mxt_xstrdup(why);
}

int
batch_next(struct batch *b, struct batch_item *it)
{
	memset(it, 0, sizeof(*it));
	while (!b->stopped) {
		char *line = b->line;
		size_t len, start, end, i;
		int c;
		char e[400];

		while ((c = next_byte(b)) >= 0 && c != '\n') {
			b->got = 1;
			if (b->llen < MXT_BATCH_LINE_MAX) {
				line[b->llen++] = (char)c;
			} else {
				b->too_long = 1;
				if (++b->skipped > MXT_BATCH_SKIP_MAX) {
					b->stopped = 1;
					break;
				}
			}
		}
		if (c == BYTE_AGAIN)
			return BATCH_AGAIN; /* the partial line stays in b */
		if (c == BYTE_EOF && !b->got)
			return 0;
		/* A whole line (or the last one, or the stop): start afresh next time. */
		len = b->llen;
		b->llen = b->skipped = 0;
		b->got = 0;
		b->lineno++;
		it->line = b->lineno;
		if (b->stopped) {
			set_error(it, line, 64,
			    "no newline within 64 KiB: not a list of targets; "
			    "the rest of the input is not read");
			return 1;
		}
		if (b->too_long) {
			char why[96];

			b->too_long = 0;
			snprintf(
			    why, sizeof(why), "too long (more than %d bytes)", MXT_BATCH_LINE_MAX);
			set_error(it, line, 64, why);
			return 1;
		}
		/* Trim CR/LF, spaces and tabs at both ends. */
		start = 0;
		end = len;
		while (start < end && (line[start] == ' ' || line[start] == '\t'))
			start++;
		while (end > start &&
		    (line[end - 1] == '\r' || line[end - 1] == ' ' || line[end - 1] == '\t'))
			end--;
		if (start == end || line[start] == '#')
			continue;
		for (i = start; i < end; i++) {
			unsigned char ch = (unsigned char)line[i];

			if (ch < 0x20 || ch == 0x7f)
				break;
		}
		if (i < end) {
			set_error(it, line + start, end - start, "control bytes: not a target");
			return 1;
		}
		line[end] = '\0';
		if (mxt_options_target(
			line + start, &it->domain, &it->unicode, &it->rcpt, e, sizeof(e)) < 0) {
			set_error(it, line + start, end - start,
			    strncmp(e, "mxtrace: ", 9) == 0 ? e + 9 : e);
			return 1;
		}
		it->input = mxt_xstrdup(line + start);
		return 1;
	}
	return 0;
}

void
batch_item_free(struct batch_item *it)
{
	free(it->input);
	free(it->domain);
	free(it->unicode);
	free(it->rcpt);
	free(it->error);
	memset(it, 0, sizeof(*it));
}

void
batch_close(struct batch *b)
{
	if (b == NULL)
		return;
	if (b->nonblock) /* standard input is shared with whoever started us */
		(void)fcntl(b->fd, F_SETFL, b->saved_flags);
	if (b->own_fd)
		close(b->fd);
	free(b);
}
