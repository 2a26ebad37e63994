/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing: argv -> struct mxt_config, with every string that can
 * reach an SMTP command line or a DNS query validated here, before any network
 * I/O (CR/LF/NUL and other control bytes, RFC 5321 syntax, IDN to A-labels,
 * strict numbers), driven by one declarative table (src/cli/options.c).
 * Also the --help text and --version line.  It does not
 * open files named by options (--ca-file, --body-file, --password-file,
 * --batch): the stage that reads a file reports its errors.
 */
#ifndef MXT_CLI_OPTIONS_H
#define MXT_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mxtrace/config.h"

/* mxt_options_parse() printed --help or --version: exit 0. */
#define MXT_OPT_EXIT_OK 1
/* Exit status for a usage error (sysexits EX_USAGE). */
#define MXT_EXIT_USAGE 64
/* At most this many recipients (TARGET address plus --to). */
#define MXT_OPT_RCPT_MAX 32

/*
 * Parse argv into cfg, which the caller has just set up with mxt_config_init()
 * and frees with mxt_config_free() whatever this returns; every string in cfg
 * is owned by cfg.  Returns 0 when cfg is ready; MXT_OPT_EXIT_OK when --help
 * or --version was printed to out (exit 0); -1 on a usage error, with one
 * line "mxtrace: ..." (no newline) in err (exit MXT_EXIT_USAGE).  Prints
 * nothing to stderr.  Uses getopt_long, so it is not reentrant, and GNU
 * argument permutation may reorder argv.
 *
 * On success: cfg->domain is TARGET's domain in A-label form (NULL without
 * TARGET); a TARGET of the form user@domain is also cfg->to[0]; mailboxes
 * have their domain in A-label form and no angle brackets; cfg->from is NULL
 * unless --from was given ("" for the null sender); cfg->server holds an IPv6
 * address without brackets; cfg->port is the explicit port, else 465 with
 * --tls-on-connect, else 587 with --submission, else 0 (the default, 25);
 * cfg->quit_after is MXT_QUIT_AFTER_NONE with --send.
 */
int mxt_options_parse(
    int argc, char **argv, struct mxt_config *cfg, FILE *out, char *err, size_t errlen);

/* Parse the options of one exporter module (docs/mxtrace.1, EXPORTER
 * CONFIGURATION): argv[1..] are "--name=value" or "--flag" as read from the
 * file, argv[0] any name.  Like mxt_options_parse() without TARGET; options
 * that do not belong in a module (output, engine-wide DNS and CA settings,
 * --send) are refused.  Returns 0 or -1 with a one-line reason in err. */
int mxt_options_module(int argc, char **argv, struct mxt_config *cfg, char *err, size_t errlen);

/* Parse one TARGET (a --batch line) the way the command line's TARGET is
 * parsed: on success sets *domain and *unicode (A- and U-label forms) and
 * *rcpt (the address, or NULL for a bare domain); the caller frees them.
 * Returns -1 with a one-line reason in err. */
int mxt_options_target(
    const char *s, char **domain, char **unicode, char **rcpt, char *err, size_t errlen);

/* Write the --help text (80 columns) to out. */
void mxt_options_usage(FILE *out);

/* Write the --version text to out: "mxtrace VERSION", then library versions. */
void mxt_options_version(FILE *out);

/* How a row's argument is bounded, for the docs and bounds tests. */
enum mxt_opt_bound {
	MXT_OPT_BOUND_NONE = 0,
	MXT_OPT_BOUND_UINT,   /* a decimal number from min to max */
	MXT_OPT_BOUND_SECONDS /* seconds, stored as milliseconds from min to max */
};

/* At most this many keyword values for one option. */
#define MXT_OPT_VALUES_MAX 8

/* One row of the option table as the tests see it. */
struct mxt_opt_info {
	const char *name; /* long name, NULL for a short-only option */
	int letter;	  /* short letter, 0 if none */
	const char *arg;  /* argument name, NULL for a flag */
	enum mxt_opt_bound bound;
	uint64_t min, max; /* the bounds (milliseconds for SECONDS) */
	size_t off, size;  /* the field in struct mxt_config the value lands in */
	const char *values[MXT_OPT_VALUES_MAX + 1]; /* keyword values, NULL-terminated */
};

/* The i-th row of the option table, in --help order.  Returns 0 past the
 * last row, else 1 with *info filled (pointers into static data). */
int mxt_options_row(size_t i, struct mxt_opt_info *info);

#endif
