/* SPDX-License-Identifier: MIT */
/*
 * The AUTH password (RFC 4954): from MXTRACE_PASSWORD, from --password-file
 * or from a prompt on the terminal with echo off, never from argv where
 * other users can read it.  Copies on the stack are wiped.  The options
 * parser only checks the file's name; this module opens the file.  It does
 * not hold the password beyond handing it to the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "mxtrace/log.h"
#include "mxtrace/redact.h"
#include "mxtrace/xalloc.h"
#include "secret.h"

/* Control bytes have no place in a password (and would break AUTH PLAIN). */
static int
password_ok(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* Read a password from FILE: a regular file (no FIFO can block us, no
 * symlink), at most 4 KiB, one trailing newline dropped. */
static char *
password_from_file(const char *path, char *err, size_t errlen)
{
	char buf[4097], *p;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open --password-file: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 4096) {
		snprintf(err, errlen, "--password-file must be a regular file of at most 4 KiB");
		close(fd);
		return NULL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		mxt_note("warning: %s is readable by other users", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read --password-file: %s", strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0'; /* the first line is the password */
	p = mxt_xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return p;
}

/* Prompt on the terminal with echo off. */
static char *
password_prompt(const char *user, char *err, size_t errlen)
{
	struct termios old, quiet;
	char buf[1024];
	FILE *tty = fopen("/dev/tty", "r+e");
	char *p = NULL;
	int saved = 0;

	if (tty == NULL) {
		snprintf(err, errlen, "no password: set MXTRACE_PASSWORD or use --password-file");
		return NULL;
	}
	fprintf(tty, "Password for %s: ", user);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		saved = 1;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	if (fgets(buf, sizeof(buf), tty) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		p = mxt_xstrdup(buf);
	}
	if (saved)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	explicit_bzero(buf, sizeof(buf));
	if (p == NULL)
		snprintf(err, errlen, "no password given");
	return p;
}

int
mxt_cli_password(struct mxt_config *cfg, char *err, size_t errlen)
{
	const char *env = getenv("MXTRACE_PASSWORD");

	if (cfg->user == NULL)
		return 0;
	if (env != NULL)
		cfg->password = mxt_xstrdup(env);
	else if (cfg->password_file != NULL)
		cfg->password = password_from_file(cfg->password_file, err, errlen);
	else if (isatty(STDIN_FILENO))
		cfg->password = password_prompt(cfg->user, err, errlen);
	else
		snprintf(err, errlen, "no password: set MXTRACE_PASSWORD or use --password-file");
	if (cfg->password == NULL)
		return -1;
	if (!password_ok(cfg->password)) {
		snprintf(err, errlen, "the password contains control characters");
		return -1;
	}
	/* Before the first connection: a greeting may already echo it. */
	return mxt_secret_password(cfg->user, cfg->password, err, errlen);
}

int
mxt_cli_password_file(struct mxt_config *cfg, char *err, size_t errlen)
{
	cfg->password = password_from_file(cfg->password_file, err, errlen);
	if (cfg->password == NULL)
		return -1;
	if (!password_ok(cfg->password)) {
		snprintf(err, errlen, "the password in %s contains control characters",
		    cfg->password_file);
		return -1;
	}
	return 0;
}
