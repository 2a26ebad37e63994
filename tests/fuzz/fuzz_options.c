/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for option parsing (src/cli): the input, split at NUL bytes,
 * is argv after "mxtrace"; every piece is also parsed as a --batch TARGET
 * line.  Invariants: the parser never prints to stderr on its own, a usage
 * error has a one-line reason, and whatever it accepts that goes onto an
 * SMTP command line or into DNS (sender, recipients, EHLO name, domain) has
 * no byte below 0x20 and no DEL (RFC 5321 §4.1.2).  A broken invariant
 * calls abort().  No network: parsing only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/options.h"
#include "mxtrace/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXARGS 24

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_clean(const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++)
		check((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct mxt_config cfg;
	char *buf, *argv[MAXARGS + 2], err[512];
	int argc = 0, rc;
	size_t i, start = 0;

	if (size > 8192)
		return 0;
	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	check(devnull != NULL);
	buf = malloc(size + 1);
	check(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "mxtrace";
	for (i = 0; i <= size && argc <= MAXARGS; i++) {
		if (i < size && buf[i] != '\0')
			continue;
		argv[argc++] = buf + start;
		start = i + 1;
	}
	argv[argc] = NULL;
	for (i = 1; i < (size_t)argc; i++) {
		char *dom = NULL, *uni = NULL, *rcpt = NULL;

		if (mxt_options_target(argv[i], &dom, &uni, &rcpt, err, sizeof(err)) == 0) {
			check(dom != NULL);
			check_clean(dom);
			check_clean(rcpt);
		} else {
			check(memchr(err, '\n', strnlen(err, sizeof(err))) == NULL);
		}
		free(dom);
		free(uni);
		free(rcpt);
	}
	mxt_config_init(&cfg);
	err[0] = '\0';
	rc = mxt_options_parse(argc, argv, &cfg, devnull, err, sizeof(err));
	if (rc < 0) {
		check(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		check(strchr(err, '\n') == NULL);
	} else if (rc == 0) {
		check_clean(cfg.from);
		check_clean(cfg.ehlo);
		check_clean(cfg.domain);
		for (i = 0; i < cfg.nto; i++)
			check_clean(cfg.to[i]);
	}
	mxt_config_free(&cfg);
	free(buf);
	return 0;
}

#define FUZZ_NAME "fuzz_options"
#include "replay.h"
