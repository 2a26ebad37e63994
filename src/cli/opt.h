/* SPDX-License-Identifier: MIT */
/*
 * Private to src/cli: the option table's row type, the state of one parse,
 * and the value validators the table's parser kinds call.  The table itself
 * is in options.c, the --help text that is generated from it in opt_help.c,
 * the value validators in opt_values.c and the cross-option rules in
 * opt_check.c.  No other folder includes this header.
 */
#ifndef MXT_CLI_OPT_H
#define MXT_CLI_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mxtrace/config.h"

/* Longest argument accepted for names, addresses and paths; longer ones are
 * refused before they reach libidn2 or the validators. */
#define OPT_ARG_MAX 1024
/* Deadlines given in seconds: more than 0, at most this. */
#define OPT_SECONDS_MAX 3600

/* The options, in --help order; the index of a row in the table. */
enum opt_id {
	OPT_FROM,
	OPT_TO,
	OPT_SERVER,
	OPT_PORT,
	OPT_SUBMISSION,
	OPT_SOURCE,
	OPT_EHLO,
	OPT_ALLOW_LOOPBACK,
	OPT_EGRESS_IP,
	OPT_EGRESS_CHECK,
	OPT_IPV4,
	OPT_IPV6,
	OPT_STARTTLS,
	OPT_TLS_ON_CONNECT,
	OPT_CA_FILE,
	OPT_CERT_WARN_DAYS,
	OPT_DANE,
	OPT_NO_DANE,
	OPT_MTA_STS,
	OPT_NO_MTA_STS,
	OPT_USER,
	OPT_PASSWORD_FILE,
	OPT_AUTH,
	OPT_ALLOW_PLAINTEXT_AUTH,
	OPT_SEND,
	OPT_BODY,
	OPT_BODY_FILE,
	OPT_SIZE,
	OPT_QUIT_AFTER,
	OPT_RESOLVER,
	OPT_DNS_TIMEOUT,
	OPT_DNS_TRIES,
	OPT_DNSBL,
	OPT_NO_DNSBL,
	OPT_NO_SPF,
	OPT_TIMEOUT_CONNECT,
	OPT_TIMEOUT_BANNER,
	OPT_TIMEOUT_COMMAND,
	OPT_TIMEOUT_TOTAL,
	OPT_FORMAT,
	OPT_JSON,
	OPT_TRANSCRIPT,
	OPT_COLOR,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_WARNING,
	OPT_CRITICAL,
	OPT_CERT_DAYS,
	OPT_CERT_CRIT_DAYS,
	OPT_BATCH,
	OPT_CONCURRENCY,
	OPT_PER_ADDRESS,
	OPT_SEED,
	OPT_LISTEN,
	OPT_CONFIG,
	OPT_MAX_PROBES,
	OPT_HELP,
	OPT_VERSION,
	OPT_COUNT
};

enum opt_group {
	GRP_ENVELOPE,
	GRP_CONNECTION,
	GRP_TLS,
	GRP_AUTH,
	GRP_SESSION,
	GRP_DNS,
	GRP_REPUTATION,
	GRP_TIMEOUT,
	GRP_OUTPUT,
	GRP_NAGIOS,
	GRP_RUN,
	GRP_EXPORTER,
	GRP_INFO,
	GRP_COUNT
};

/* How a row's argument is parsed and stored at its field. */
enum opt_kind {
	OPT_K_FLAG,	 /* no argument: the int field becomes 1 */
	OPT_K_SET,	 /* no argument: the int (or enum) field becomes set */
	OPT_K_COUNT,	 /* no argument: the int field counts up to max */
	OPT_K_STRING,	 /* text (no control bytes, at most max bytes) to a char * */
	OPT_K_UINT,	 /* strict decimal in [min, max] to an int or 64-bit field */
	OPT_K_SECONDS,	 /* seconds "N" or "N.F" in [min, max] ms to an int or int64 */
	OPT_K_ENUM,	 /* one of values (any case) to an int or enum field */
	OPT_K_ENUM_NAME, /* one of values, its canonical spelling to a char * */
	OPT_K_IP,	 /* an IPv4 or IPv6 address to a char *, no brackets */
	OPT_K_MAILBOX,	 /* a mailbox to a char * ("" allowed with OPT_F_EMPTY_OK) */
	OPT_K_RCPT,	 /* a mailbox appended to the recipient list (repeatable) */
	OPT_K_CUSTOM,	 /* the row's handler does it */
	OPT_K_INFO	 /* the row's handler prints to out; the parse ends, exit 0 */
};

/* Row flags. */
#define OPT_F_MULTILINE 0x1 /* STRING: TAB, CR and LF pass */
#define OPT_F_EMPTY_OK 0x2  /* MAILBOX: "" and "<>" are the null reverse-path */

/* One keyword value of an ENUM or ENUM_NAME row. */
struct opt_value {
	const char *name;
	int value;
	int is_default;
};

struct opt_ctx;

/* One option.  Most rows are data only; CUSTOM and INFO rows name a handler. */
struct opt_row {
	int letter;	  /* short option, 0 if none */
	const char *name; /* long option, NULL if none */
	const char *arg;  /* argument name, NULL if none */
	enum opt_group group;
	enum opt_kind kind;
	size_t off;	   /* offsetof the field in struct mxt_config */
	size_t size;	   /* sizeof that field */
	uint64_t min, max; /* bounds: UINT, SECONDS (ms); COUNT's max; STRING's max length */
	int set;	   /* SET: the value stored */
	int flags;	   /* OPT_F_* */
	const char *empty; /* STRING: refuse "" with this message (NULL: "" is allowed) */
	const struct opt_value *values; /* ENUM, ENUM_NAME: terminated by a NULL name */
	int (*handler)(struct opt_ctx *c, const char *arg, FILE *out);
	const char *help; /* --help text, one sentence, no full stop */
};

/* The table, OPT_COUNT rows indexed by enum opt_id (options.c). */
extern const struct opt_row mxt_opt_rows[OPT_COUNT];

/* State of one parse. */
struct opt_ctx {
	struct mxt_config *cfg;
	char *err;
	size_t errlen;
	const char *what; /* "--port", "TARGET": named at the start of messages */
	char *shown[2];	  /* escaped user text quoted in the message */
	int shown_next;
	int seen[OPT_COUNT]; /* the option was given */
	int server_port;     /* port in --server, 0 if none */
	int module;	     /* parsing an exporter module (mxt_options_module()) */
};

/* Write "mxtrace: WHAT: message" to the error buffer; returns -1. */
int mxt_opt_fail(struct opt_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* User text made safe to quote in a message (escaped, at most 60 bytes).  The
 * ctx owns the copy until the parse ends; two may be live at once. */
const char *mxt_opt_show(struct opt_ctx *c, const char *s);

/* The value validators (opt_values.c).  Each returns 0, or -1 after
 * mxt_opt_fail(); strings they hand out are new, the caller frees them. */
int mxt_opt_check_text(struct opt_ctx *c, const char *s, size_t max, int multiline);
int mxt_opt_uint(struct opt_ctx *c, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int mxt_opt_seconds(struct opt_ctx *c, const char *s, uint64_t min, uint64_t max, uint64_t *ms);
int mxt_opt_choice(
    struct opt_ctx *c, const char *s, const struct opt_value *v, const struct opt_value **out);
int mxt_opt_ip(struct opt_ctx *c, const char *s, char **dst);
int mxt_opt_mailbox(struct opt_ctx *c, const char *s, int allow_empty, char **out);
int mxt_opt_add_rcpt(struct opt_ctx *c, char *addr, int first);
int mxt_opt_hostport(struct opt_ctx *c, const char *s, int need_ip, char **host, int *port);
int mxt_opt_ehlo(struct opt_ctx *c, const char *s, char **dst);
int mxt_opt_resolver(struct opt_ctx *c, const char *s, char **dst);
int mxt_opt_target(struct opt_ctx *c, const char *s);
int mxt_opt_listen(struct opt_ctx *c, const char *s);

/* Cross-option rules and the defaults that follow from the options given,
 * after every option and TARGET are in (opt_check.c). */
int mxt_opt_finish(struct opt_ctx *c);

#endif
