/* SPDX-License-Identifier: MIT */
/*
 * Command-line options: one table drives getopt_long, --help and the docs
 * tests; each row says whether the option is implemented yet.  Every string
 * that can end up on an SMTP command line or in a DNS query is validated here,
 * before any network I/O (hardening.md b3 and A16, A33): control bytes are
 * refused everywhere, domains go through libidn2 and the host name check,
 * mailboxes through mxt_valid_mailbox(), numbers through strict parsers that
 * do not depend on the locale.  The parser does not open the files options
 * name and does not touch the network; it writes nothing to stderr.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <cjson/cJSON.h>
#include <idn2.h>
#include <openssl/crypto.h>

#include "mxt_config.h"
#include "mxtrace/escape.h"
#include "mxtrace/limits.h"
#include "options.h"

/* Longest argument accepted for names, addresses and paths; longer ones are
 * refused before they reach libidn2 or the validators (b3 item 1). */
#define OPT_ARG_MAX 1024
/* Longest --body TEXT. */
#define OPT_BODY_MAX (64 * 1024)
/* Longest AUTH user name. */
#define OPT_USER_MAX 255
/* Deadlines given in seconds: more than 0, at most this. */
#define OPT_SECONDS_MAX 3600
/* Help layout: descriptions start at column HELP_COL; lines hold at most
 * HELP_WIDTH characters, so they fit an 80-column terminal. */
#define HELP_COL 30
#define HELP_WIDTH 79

enum opt_id {
	OPT_FROM = 256,
	OPT_TO,
	OPT_SERVER,
	OPT_PORT,
	OPT_SUBMISSION,
	OPT_SOURCE,
	OPT_EHLO,
	OPT_EGRESS_IP,
	OPT_ALLOW_LOOPBACK,
	OPT_STARTTLS,
	OPT_TLS_ON_CONNECT,
	OPT_CA_FILE,
	OPT_CERT_WARN_DAYS,
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
	OPT_TIMEOUT_CONNECT,
	OPT_TIMEOUT_BANNER,
	OPT_TIMEOUT_COMMAND,
	OPT_TIMEOUT_TOTAL,
	OPT_FORMAT,
	OPT_JSON,
	OPT_TRANSCRIPT,
	OPT_COLOR,
	OPT_BATCH,
	OPT_CONCURRENCY,
	OPT_SEED,
	OPT_VERSION
};

enum opt_group {
	GRP_ENVELOPE,
	GRP_CONNECTION,
	GRP_TLS,
	GRP_AUTH,
	GRP_SESSION,
	GRP_DNS,
	GRP_TIMEOUT,
	GRP_OUTPUT,
	GRP_RUN,
	GRP_INFO,
	GRP_COUNT
};

static const char *const group_title[GRP_COUNT] = {
    "Envelope",
    "Connection",
    "TLS",
    "Authentication",
    "Session and message",
    "DNS",
    "Deadlines (SEC: seconds, decimals allowed, more than 0, at most 3600)",
    "Output",
    "Run",
    "Information",
};

/* One value of an option that takes a keyword. */
struct opt_value {
	const char *name;
	int value;
	int ready; /* 0: refused as "not implemented yet" */
	int is_default;
};

/* One option.  Flip ready to 1 when the option is implemented. */
struct opt_row {
	int id;		  /* OPT_* or, for short-only options, the letter */
	int letter;	  /* short option, 0 if none */
	const char *name; /* long option, NULL if none */
	const char *arg;  /* argument name, NULL if none */
	enum opt_group group;
	int ready;		  /* 0: refused as "not implemented yet" */
	const char *help;	  /* --help text, one sentence, no full stop */
	struct opt_value *values; /* keyword values, listed after help */
};

/* clang-format off */
static struct opt_value starttls_values[] = {
	{ "auto", MXT_STARTTLS_AUTO, 1, 1 },
	{ "require", MXT_STARTTLS_REQUIRE, 1, 0 },
	{ "never", MXT_STARTTLS_NEVER, 1, 0 },
	{ NULL, 0, 0, 0 },
};

static struct opt_value auth_values[] = {
	{ "PLAIN", 0, 1, 0 },
	{ "LOGIN", 1, 1, 0 },
	{ "CRAM-MD5", 2, 1, 0 },
	{ NULL, 0, 0, 0 },
};

static struct opt_value quit_after_values[] = {
	{ "connect", MXT_QUIT_AFTER_CONNECT, 1, 0 },
	{ "banner", MXT_QUIT_AFTER_BANNER, 1, 0 },
	{ "ehlo", MXT_QUIT_AFTER_EHLO, 1, 0 },
	{ "tls", MXT_QUIT_AFTER_TLS, 1, 0 },
	{ "auth", MXT_QUIT_AFTER_AUTH, 1, 0 },
	{ "mail", MXT_QUIT_AFTER_MAIL, 1, 0 },
	{ "rcpt", MXT_QUIT_AFTER_RCPT, 1, 1 },
	{ NULL, 0, 0, 0 },
};

static struct opt_value format_values[] = {
	{ "text", MXT_FORMAT_TEXT, 1, 1 },
	{ "json", MXT_FORMAT_JSON, 1, 0 },
	{ "nagios", MXT_FORMAT_NAGIOS, 1, 0 },
	{ "openmetrics", MXT_FORMAT_OPENMETRICS, 1, 0 },
	{ NULL, 0, 0, 0 },
};

static struct opt_value color_values[] = {
	{ "auto", -1, 1, 1 },
	{ "always", 1, 1, 0 },
	{ "never", 0, 1, 0 },
	{ NULL, 0, 0, 0 },
};

/*
 * The options, in --help order.  The sixth column is the ready flag: 0 makes
 * the option fail with "option --X is not implemented yet".  Flipping it is a
 * one-line change; docs/mxtrace.1 must then drop "Not implemented yet." from
 * the option's entry (tests/unit/test_options.c checks both agree).
 */
static struct opt_row rows[] = {
	{ OPT_FROM, 0, "from", "ADDR", GRP_ENVELOPE, 1,
	  "envelope sender (default: the null sender <>)", NULL },
	{ OPT_TO, 0, "to", "ADDR", GRP_ENVELOPE, 1,
	  "recipient to test at RCPT; repeatable, up to 32", NULL },

	{ OPT_SERVER, 0, "server", "HOST[:PORT]", GRP_CONNECTION, 1,
	  "probe this server instead of TARGET's MX hosts", NULL },
	{ OPT_PORT, 0, "port", "N", GRP_CONNECTION, 1, "TCP port (default 25)", NULL },
	{ OPT_SUBMISSION, 0, "submission", NULL, GRP_CONNECTION, 1,
	  "message submission on port 587", NULL },
	{ OPT_SOURCE, 0, "source", "ADDR", GRP_CONNECTION, 1,
	  "connect from this local IP address", NULL },
	{ OPT_EHLO, 0, "ehlo", "NAME", GRP_CONNECTION, 1,
	  "EHLO name: a FQDN or an address literal", NULL },
	{ OPT_ALLOW_LOOPBACK, 0, "allow-loopback", NULL, GRP_CONNECTION, 1,
	  "probe MX hosts that resolve to loopback (test labs)", NULL },
	{ OPT_EGRESS_IP, 0, "egress-ip", "ADDR", GRP_CONNECTION, 1,
	  "address servers see when behind NAT", NULL },
	{ '4', '4', NULL, NULL, GRP_CONNECTION, 1, "use IPv4 only", NULL },
	{ '6', '6', NULL, NULL, GRP_CONNECTION, 1, "use IPv6 only", NULL },

	{ OPT_STARTTLS, 0, "starttls", "MODE", GRP_TLS, 1, "STARTTLS:", starttls_values },
	{ OPT_TLS_ON_CONNECT, 0, "tls-on-connect", NULL, GRP_TLS, 1,
	  "TLS from the first byte (port 465)", NULL },
	{ OPT_CA_FILE, 0, "ca-file", "FILE", GRP_TLS, 1, "trusted CA certificates, PEM", NULL },
	{ OPT_CERT_WARN_DAYS, 0, "cert-warn-days", "N", GRP_TLS, 1,
	  "warn N days before certificate expiry", NULL },

	{ OPT_USER, 0, "user", "NAME", GRP_AUTH, 1, "authenticate as NAME", NULL },
	{ OPT_PASSWORD_FILE, 0, "password-file", "FILE", GRP_AUTH, 1,
	  "read the password from FILE", NULL },
	{ OPT_AUTH, 0, "auth", "MECH", GRP_AUTH, 1, "mechanism:", auth_values },
	{ OPT_ALLOW_PLAINTEXT_AUTH, 0, "allow-plaintext-auth", NULL, GRP_AUTH, 1,
	  "allow AUTH without verified TLS", NULL },

	{ OPT_SEND, 0, "send", NULL, GRP_SESSION, 1, "send a test message (DATA)", NULL },
	{ OPT_BODY, 0, "body", "TEXT", GRP_SESSION, 1, "message body for --send", NULL },
	{ OPT_BODY_FILE, 0, "body-file", "FILE", GRP_SESSION, 1,
	  "read the message body from FILE", NULL },
	{ OPT_SIZE, 0, "size", "N", GRP_SESSION, 1, "pad the test message to N bytes", NULL },
	{ OPT_QUIT_AFTER, 0, "quit-after", "STAGE", GRP_SESSION, 1,
	  "stop after", quit_after_values },

	{ OPT_RESOLVER, 0, "resolver", "ADDR[:PORT]", GRP_DNS, 1,
	  "DNS server to ask (default: resolv.conf)", NULL },
	{ OPT_DNS_TIMEOUT, 0, "dns-timeout", "SEC", GRP_DNS, 1,
	  "first DNS try's timeout, doubled each round (default 2)", NULL },
	{ OPT_DNS_TRIES, 0, "dns-tries", "N", GRP_DNS, 1,
	  "tries per DNS server (default 2)", NULL },

	{ OPT_TIMEOUT_CONNECT, 0, "timeout-connect", "SEC", GRP_TIMEOUT, 1,
	  "TCP connect (default 10)", NULL },
	{ OPT_TIMEOUT_BANNER, 0, "timeout-banner", "SEC", GRP_TIMEOUT, 1,
	  "wait for the greeting (default 30)", NULL },
	{ OPT_TIMEOUT_COMMAND, 0, "timeout-command", "SEC", GRP_TIMEOUT, 1,
	  "wait for each reply (default 30)", NULL },
	{ OPT_TIMEOUT_TOTAL, 0, "timeout-total", "SEC", GRP_TIMEOUT, 1,
	  "whole run (default 300)", NULL },

	{ OPT_FORMAT, 0, "format", "FMT", GRP_OUTPUT, 1, "output format:", format_values },
	{ OPT_JSON, 0, "json", NULL, GRP_OUTPUT, 1, "same as --format json", NULL },
	{ OPT_TRANSCRIPT, 0, "transcript", NULL, GRP_OUTPUT, 1,
	  "include the SMTP transcript", NULL },
	{ OPT_COLOR, 0, "color", "WHEN", GRP_OUTPUT, 1, "colour:", color_values },
	{ 'v', 'v', NULL, NULL, GRP_OUTPUT, 1, "progress on stderr; -vv adds the transcript", NULL },
	{ 'q', 'q', NULL, NULL, GRP_OUTPUT, 1, "quiet: no progress or notes on stderr", NULL },

	{ OPT_BATCH, 0, "batch", "FILE", GRP_RUN, 1, "probe each TARGET listed in FILE", NULL },
	{ OPT_CONCURRENCY, 0, "concurrency", "N", GRP_RUN, 1,
	  "at most N connections at once (default 32)", NULL },
	{ OPT_SEED, 0, "seed", "N", GRP_RUN, 1, "seed the MX shuffle, for repeatable runs", NULL },

	{ 'h', 'h', "help", NULL, GRP_INFO, 1, "show this help and exit", NULL },
	{ OPT_VERSION, 0, "version", NULL, GRP_INFO, 1,
	  "show the version and library versions", NULL },
};
/* clang-format on */

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* State of one parse. */
struct ctx {
	struct mxt_config *cfg;
	char *err;
	size_t errlen;
	const char *what; /* "--port", "TARGET": named at the start of messages */
	char *shown[2];	  /* escaped user text quoted in the message */
	int shown_next;
	int have_quit_after;
	int have_starttls;
	int have_port;	 /* --port N given */
	int server_port; /* port in --server, 0 if none */
	int v4, v6;
};

/* ASCII helpers: never the locale's ctype (hardening.md b3 item 15). */
static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
ascii_casecmp(const char *a, const char *b)
{
	while (*a != '\0' && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return ascii_lower((unsigned char)*a) - ascii_lower((unsigned char)*b);
}

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write "mxtrace: WHAT: message" to the error buffer; returns -1. */
static int
fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->errlen == 0)
		return -1;
	if (c->what != NULL)
		n = snprintf(c->err, c->errlen, "mxtrace: %s: ", c->what);
	else
		n = snprintf(c->err, c->errlen, "mxtrace: ");
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* User text made safe to quote in a message (escaped, at most 60 bytes).
 * The ctx owns the copy until the parse ends; two may be live at once. */
static const char *
show(struct ctx *c, const char *s)
{
	int i = c->shown_next;

	c->shown_next = (i + 1) % 2;
	free(c->shown[i]);
	c->shown[i] = mxt_escape_str(s, 60);
	return c->shown[i] != NULL ? c->shown[i] : "?";
}

static int
oom(struct ctx *c)
{
	c->what = NULL;
	return fail(c, "out of memory");
}

/* Replace *dst with a copy of s. */
static int
set_str(struct ctx *c, char **dst, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		return oom(c);
	free(*dst);
	*dst = p;
	return 0;
}

/* Refuse control bytes (C0 and DEL; with multiline, TAB, CR and LF pass) and
 * arguments longer than max: a CR or LF would start a new SMTP command (A16). */
static int
check_text(struct ctx *c, const char *s, size_t max, int multiline)
{
	size_t i, len = strlen(s);

	if (len > max)
		return fail(c, "argument too long (%zu bytes, at most %zu)", len, max);
	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];

		if (multiline && (b == '\t' || b == '\r' || b == '\n'))
			continue;
		if (b < 0x20 || b == 0x7f)
			return fail(c, "control character 0x%02x at byte %zu is not allowed", b, i);
	}
	return 0;
}

/* Strict unsigned decimal: digits only, no sign, space or base prefix. */
static int
parse_uint(struct ctx *c, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (*s == '\0')
		return fail(c, "empty value; expected a number from %ju to %ju", (uintmax_t)min,
		    (uintmax_t)max);
	for (p = s; *p != '\0'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (!is_digit((unsigned char)*p) || v > (UINT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return fail(
	    c, "'%s' is not a number from %ju to %ju", show(c, s), (uintmax_t)min, (uintmax_t)max);
}

static int
parse_int(struct ctx *c, const char *s, int min, int max, int *out)
{
	uint64_t v;

	if (parse_uint(c, s, (uint64_t)min, (uint64_t)max, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* Seconds as "N" or "N.F", to milliseconds (digits past the third decimal
 * are cut).  No strtod: it honours the locale's decimal point and accepts
 * "nan", "inf", "1e12" and hex. */
static int
parse_seconds(struct ctx *c, const char *s, int64_t *ms)
{
	const char *p = s;
	int64_t whole = 0, frac = 0;
	int nfrac = 0;

	if (!is_digit((unsigned char)*p))
		goto bad;
	for (; is_digit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > OPT_SECONDS_MAX)
			goto bad;
	}
	if (*p == '.') {
		p++;
		if (!is_digit((unsigned char)*p))
			goto bad;
		for (; is_digit((unsigned char)*p); p++) {
			if (nfrac < 3) {
				frac = frac * 10 + (*p - '0');
				nfrac++;
			}
		}
	}
	if (*p != '\0')
		goto bad;
	for (; nfrac < 3; nfrac++)
		frac *= 10;
	*ms = whole * 1000 + frac;
	if (*ms < 1 || *ms > (int64_t)OPT_SECONDS_MAX * 1000)
		goto bad;
	return 0;
bad:
	return fail(c, "'%s' is not a number of seconds above 0 and at most %d (like 10 or 0.5)",
	    show(c, s), OPT_SECONDS_MAX);
}

/* One of the keyword values of an option (ASCII case-insensitive). */
static int
parse_choice(struct ctx *c, const char *s, const struct opt_value *v, int *out)
{
	char list[256];
	size_t n = 0;
	const struct opt_value *p;

	for (p = v; p->name != NULL; p++) {
		if (ascii_casecmp(s, p->name) != 0)
			continue;
		if (!p->ready) {
			const char *opt = c->what;

			c->what = NULL;
			return fail(c, "option %s %s is not implemented yet", opt, p->name);
		}
		*out = p->value;
		return 0;
	}
	list[0] = '\0';
	for (p = v; p->name != NULL; p++) {
		int w = snprintf(list + n, sizeof(list) - n, "%s%s", p == v ? "" : ", ", p->name);

		if (w < 0 || (size_t)w >= sizeof(list) - n)
			break;
		n += (size_t)w;
	}
	return fail(c, "'%s' is not one of: %s", show(c, s), list);
}

/* The text of value v in table t (for canonical spellings). */
static const char *
choice_name(const struct opt_value *t, int v)
{
	for (; t->name != NULL; t++)
		if (t->value == v)
			return t->name;
	return NULL;
}

static int
is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static int
is_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/* Only digits and dots: looks like an IPv4 address, so never a host name. */
static int
is_dotted_numeric(const char *s)
{
	for (; *s != '\0'; s++)
		if (!is_digit((unsigned char)*s) && *s != '.')
			return 0;
	return 1;
}

/* A domain or host name (UTF-8 allowed) to its A-label form and, if unicode
 * is not NULL, its U-label form; both are new strings the caller frees.
 * Rejects what c-ares would misread (a backslash is an escape there,
 * hardening.md b3 item 3), URLs, empty labels, and names ending in an
 * all-numeric label.  A trailing dot is accepted and dropped. */
static int
parse_domain(struct ctx *c, const char *s, char **ascii, char **unicode)
{
	char ebuf[160], *name;
	const char *p, *last;
	size_t len;
	int rc;

	*ascii = NULL;
	if (unicode != NULL)
		*unicode = NULL;
	if (check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	len = strlen(s);
	if (len == 0)
		return fail(c, "empty domain name");
	if (strstr(s, "://") != NULL)
		return fail(c, "'%s' looks like a URL; give a bare host name", show(c, s));
	if (s[0] == '-')
		return fail(c, "'%s' starts with '-'; a host name cannot", show(c, s));
	for (p = s; *p != '\0'; p++) {
		unsigned char b = (unsigned char)*p;

		if (b >= 0x80 || b == '.' || b == '-' || is_digit(b) ||
		    (ascii_lower(b) >= 'a' && ascii_lower(b) <= 'z'))
			continue;
		return fail(c, "'%s': character '%c' is not allowed in a host name", show(c, s), b);
	}
	if (s[0] == '.' || strstr(s, "..") != NULL)
		return fail(c, "'%s': empty label in host name", show(c, s));
	last = s + len - (s[len - 1] == '.' ? 1 : 0);
	for (p = last; p > s && p[-1] != '.'; p--)
		;
	if (p < last && is_dotted_numeric(p))
		return fail(c,
		    "'%s' ends in an all-numeric label; an IP address is not a host name",
		    show(c, s));
	if ((name = strndup(s, (size_t)(last - s))) == NULL)
		return oom(c);
	rc = mxt_idn_to_ascii(name, ascii, unicode, ebuf, sizeof(ebuf));
	free(name);
	if (rc != 0) {
		*ascii = NULL;
		if (unicode != NULL)
			*unicode = NULL;
		return fail(c, "'%s' is not a valid domain name: %s", show(c, s), ebuf);
	}
	if (!mxt_valid_hostname(*ascii)) {
		fail(c,
		    "'%s' is not a valid host name (labels of 1-63 letters, digits, hyphens; "
		    "at most %d octets)",
		    show(c, s), MXT_DOMAIN_MAX);
		goto bad;
	}
	len = strlen(*ascii);
	if (strcmp(*ascii, "onion") == 0 || (len > 6 && strcmp(*ascii + len - 6, ".onion") == 0)) {
		fail(c, "'%s': .onion names cannot be resolved in DNS (RFC 7686)", show(c, s));
		goto bad;
	}
	return 0;
bad:
	free(*ascii);
	*ascii = NULL;
	if (unicode != NULL) {
		free(*unicode);
		*unicode = NULL;
	}
	return -1;
}

/* A mailbox: optional <>, domain converted to A-labels, then the RFC 5321
 * syntax check.  allow_empty accepts "" and "<>" (the null reverse-path).
 * *out is a new string without angle brackets. */
static int
parse_mailbox(struct ctx *c, const char *s, int allow_empty, char **out)
{
	char ebuf[160], *inner = NULL, *ascii = NULL, *addr = NULL;
	const char *at;
	size_t len;
	int rc = -1;

	*out = NULL;
	if (check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	len = strlen(s);
	if (len > 0 && (s[0] == '<') != (s[len - 1] == '>'))
		return fail(c, "'%s': unbalanced '<' and '>'", show(c, s));
	if (len >= 2 && s[0] == '<')
		inner = strndup(s + 1, len - 2);
	else
		inner = strdup(s);
	if (inner == NULL)
		return oom(c);
	if (inner[0] == '\0') {
		if (!allow_empty) {
			fail(c, "empty address");
			goto done;
		}
		*out = inner;
		return 0;
	}
	at = strrchr(inner, '@');
	if (at == NULL || at == inner) {
		fail(c, "'%s' is not an address of the form user@domain", show(c, s));
		goto done;
	}
	if (at[1] != '[') {
		if (parse_domain(c, at + 1, &ascii, NULL) != 0)
			goto done;
		len = (size_t)(at - inner) + 1 + strlen(ascii) + 1;
		if ((addr = malloc(len)) == NULL) {
			oom(c);
			goto done;
		}
		snprintf(addr, len, "%.*s@%s", (int)(at - inner), inner, ascii);
	} else if ((addr = strdup(inner)) == NULL) {
		oom(c);
		goto done;
	}
	if (!mxt_valid_mailbox(addr, 0, ebuf, sizeof(ebuf))) {
		fail(c, "'%s': %s", show(c, s), ebuf);
		goto done;
	}
	*out = addr;
	addr = NULL;
	rc = 0;
done:
	free(inner);
	free(ascii);
	free(addr);
	return rc;
}

/* Append a recipient; at most MXT_OPT_RCPT_MAX in all.  Takes addr. */
static int
add_rcpt(struct ctx *c, char *addr, int first)
{
	struct mxt_config *cfg = c->cfg;

	if (cfg->nto >= MXT_OPT_RCPT_MAX) {
		free(addr);
		return fail(c, "more than %d recipients", MXT_OPT_RCPT_MAX);
	}
	if (cfg->to == NULL && (cfg->to = calloc(MXT_OPT_RCPT_MAX, sizeof(*cfg->to))) == NULL) {
		free(addr);
		return oom(c);
	}
	if (first) {
		memmove(cfg->to + 1, cfg->to, cfg->nto * sizeof(*cfg->to));
		cfg->to[0] = addr;
	} else
		cfg->to[cfg->nto] = addr;
	cfg->nto++;
	return 0;
}

/* An IP address (IPv6 with or without brackets), stored without brackets. */
static int
parse_ip(struct ctx *c, const char *s, char **dst)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len;

	if (check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	len = strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		if (is_ipv6(buf))
			return set_str(c, dst, buf);
	} else if (is_ipv4(s) || is_ipv6(s))
		return set_str(c, dst, s);
	return fail(c, "'%s' is not an IPv4 or IPv6 address", show(c, s));
}

/* "[IPv6]", "[IPv6]:PORT", "HOST" or "HOST:PORT": *host is a new string
 * (IPv6 without brackets), *port 0 when absent.  With need_ip the host must
 * be an address (a resolver), else it may be a host name, made an A-label. */
static int
parse_hostport(struct ctx *c, const char *s, int need_ip, char **host, int *port)
{
	const char *end, *colon = NULL;
	char *h;
	size_t hlen;

	*host = NULL;
	*port = 0;
	if (check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	if (s[0] == '\0')
		return fail(c, "empty host name");
	if (strstr(s, "://") != NULL)
		return fail(c, "'%s' looks like a URL; give HOST or HOST:PORT", show(c, s));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return fail(c, "'%s': missing ']'", show(c, s));
		if (end[1] != '\0' && end[1] != ':')
			return fail(c, "'%s': only ':PORT' may follow ']'", show(c, s));
		if (end[1] == ':')
			colon = end + 1;
		if ((h = strndup(s + 1, (size_t)(end - s - 1))) == NULL)
			return oom(c);
		if (!is_ipv6(h)) {
			fail(c, "'%s': '[%s]' is not an IPv6 address", show(c, s), show(c, h));
			free(h);
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return fail(c,
			    "'%s': write an IPv6 address in brackets, like [2001:db8::1]:25",
			    show(c, s));
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if ((h = strndup(s, hlen)) == NULL)
			return oom(c);
		if (!is_ipv4(h)) {
			char *ascii;

			if (need_ip) {
				fail(c,
				    "'%s' is not an IP address (a DNS server is given by address)",
				    show(c, s));
				free(h);
				return -1;
			}
			if (is_dotted_numeric(h)) {
				fail(c, "'%s' is not a valid IPv4 address", show(c, h));
				free(h);
				return -1;
			}
			if (parse_domain(c, h, &ascii, NULL) != 0) {
				free(h);
				return -1;
			}
			free(h);
			h = ascii;
		}
	}
	if (colon != NULL && parse_int(c, colon + 1, 1, 65535, port) != 0) {
		free(h);
		return -1;
	}
	*host = h;
	return 0;
}

/* --ehlo: a FQDN (U-labels converted, RFC 6531 §3.7.1) or an address literal
 * (RFC 5321 §4.1.4, §2.3.5; hardening.md A33). */
static int
parse_ehlo(struct ctx *c, const char *s)
{
	char *ascii;

	if (check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	if (s[0] == '[') {
		if (!mxt_valid_address_literal(s))
			return fail(c,
			    "'%s' is not a valid address literal (like [192.0.2.1] or "
			    "[IPv6:2001:db8::1])",
			    show(c, s));
		return set_str(c, &c->cfg->ehlo, s);
	}
	if (is_ipv4(s))
		return fail(c, "write an address as a literal: [%s]", show(c, s));
	if (is_ipv6(s))
		return fail(c, "write an address as a literal: [IPv6:%s]", show(c, s));
	if (parse_domain(c, s, &ascii, NULL) != 0)
		return -1;
	if (strchr(ascii, '.') == NULL) {
		fail(c, "'%s' is not a fully qualified domain name (RFC 5321 section 2.3.5)",
		    show(c, s));
		free(ascii);
		return -1;
	}
	free(c->cfg->ehlo);
	c->cfg->ehlo = ascii;
	return 0;
}

/* --resolver ADDR[:PORT]: an IPv4 address, or IPv6 in brackets; kept in the
 * "ADDR:PORT" / "[ADDR]:PORT" form ares_set_servers_ports_csv() reads. */
static int
parse_resolver(struct ctx *c, const char *s)
{
	char *host;
	int port;

	if (s[0] != '[' && is_ipv6(s))
		return fail(c, "'%s': write an IPv6 address in brackets, like [%s]:53", show(c, s),
		    show(c, s));
	if (parse_hostport(c, s, 1, &host, &port) != 0)
		return -1;
	free(host);
	return set_str(c, &c->cfg->resolver, s);
}

/* A file name: not empty, no control bytes.  Not opened here. */
static int
parse_path(struct ctx *c, const char *s, char **dst)
{
	if (check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	if (s[0] == '\0')
		return fail(c, "empty file name");
	return set_str(c, dst, s);
}

/* The row for a getopt_long return value. */
static struct opt_row *
find_row(int id)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (rows[i].id == id)
			return &rows[i];
	return NULL;
}

/* Apply one option. */
static int
apply(struct ctx *c, const struct opt_row *r, const char *arg, FILE *out)
{
	struct mxt_config *cfg = c->cfg;
	char *s = NULL;
	uint64_t u;
	int v;

	switch (r->id) {
	case OPT_FROM:
		if (parse_mailbox(c, arg, 1, &s) != 0)
			return -1;
		free(cfg->from);
		cfg->from = s;
		return 0;
	case OPT_TO:
		if (parse_mailbox(c, arg, 0, &s) != 0)
			return -1;
		return add_rcpt(c, s, 0);
	case OPT_SERVER:
		if (parse_hostport(c, arg, 0, &s, &c->server_port) != 0)
			return -1;
		free(cfg->server);
		cfg->server = s;
		return 0;
	case OPT_PORT:
		c->have_port = 1;
		return parse_int(c, arg, 1, 65535, &cfg->port);
	case OPT_SUBMISSION:
		cfg->submission = 1;
		return 0;
	case OPT_SOURCE:
		return parse_ip(c, arg, &cfg->source);
	case OPT_EHLO:
		return parse_ehlo(c, arg);
	case OPT_EGRESS_IP:
		return parse_ip(c, arg, &cfg->egress_ip);
	case '4':
		c->v4 = 1;
		cfg->family = MXT_FAMILY_V4;
		return 0;
	case '6':
		c->v6 = 1;
		cfg->family = MXT_FAMILY_V6;
		return 0;
	case OPT_STARTTLS:
		c->have_starttls = 1;
		if (parse_choice(c, arg, r->values, &v) != 0)
			return -1;
		cfg->starttls = (enum mxt_starttls_mode)v;
		return 0;
	case OPT_TLS_ON_CONNECT:
		cfg->tls_on_connect = 1;
		return 0;
	case OPT_CA_FILE:
		return parse_path(c, arg, &cfg->ca_file);
	case OPT_CERT_WARN_DAYS:
		return parse_int(c, arg, 0, 3650, &cfg->cert_warn_days);
	case OPT_USER:
		if (check_text(c, arg, OPT_USER_MAX, 0) != 0)
			return -1;
		if (arg[0] == '\0')
			return fail(c, "empty user name");
		return set_str(c, &cfg->user, arg);
	case OPT_PASSWORD_FILE:
		return parse_path(c, arg, &cfg->password_file);
	case OPT_AUTH:
		if (parse_choice(c, arg, r->values, &v) != 0)
			return -1;
		return set_str(c, &cfg->auth_mech, choice_name(r->values, v));
	case OPT_ALLOW_PLAINTEXT_AUTH:
		cfg->allow_plaintext_auth = 1;
		return 0;
	case OPT_ALLOW_LOOPBACK:
		cfg->allow_loopback = 1;
		return 0;
	case OPT_SEND:
		cfg->send = 1;
		return 0;
	case OPT_BODY:
		if (check_text(c, arg, OPT_BODY_MAX, 1) != 0)
			return -1;
		return set_str(c, &cfg->body, arg);
	case OPT_BODY_FILE:
		return parse_path(c, arg, &cfg->body_file);
	case OPT_SIZE:
		if (parse_uint(c, arg, 1, MXT_SEND_SIZE_MAX, &u) != 0)
			return -1;
		cfg->size = u;
		return 0;
	case OPT_QUIT_AFTER:
		c->have_quit_after = 1;
		if (parse_choice(c, arg, r->values, &v) != 0)
			return -1;
		cfg->quit_after = (enum mxt_quit_after)v;
		return 0;
	case OPT_RESOLVER:
		return parse_resolver(c, arg);
	case OPT_DNS_TIMEOUT: {
		int64_t ms;

		if (parse_seconds(c, arg, &ms) != 0)
			return -1;
		cfg->dns_timeout_ms = (int)ms;
		return 0;
	}
	case OPT_DNS_TRIES:
		return parse_int(c, arg, 1, 10, &cfg->dns_tries);
	case OPT_TIMEOUT_CONNECT:
		return parse_seconds(c, arg, &cfg->timeout_connect_ms);
	case OPT_TIMEOUT_BANNER:
		return parse_seconds(c, arg, &cfg->timeout_banner_ms);
	case OPT_TIMEOUT_COMMAND:
		return parse_seconds(c, arg, &cfg->timeout_command_ms);
	case OPT_TIMEOUT_TOTAL:
		return parse_seconds(c, arg, &cfg->timeout_total_ms);
	case OPT_FORMAT:
		if (parse_choice(c, arg, r->values, &v) != 0)
			return -1;
		cfg->format = (enum mxt_format)v;
		return 0;
	case OPT_JSON:
		cfg->format = MXT_FORMAT_JSON;
		return 0;
	case OPT_TRANSCRIPT:
		cfg->transcript = 1;
		return 0;
	case OPT_COLOR:
		return parse_choice(c, arg, r->values, &cfg->color);
	case 'v':
		if (cfg->verbose < 9)
			cfg->verbose++;
		return 0;
	case 'q':
		cfg->quiet = 1;
		return 0;
	case OPT_BATCH:
		return parse_path(c, arg, &cfg->batch);
	case OPT_CONCURRENCY:
		return parse_int(c, arg, 1, 256, &cfg->concurrency);
	case OPT_SEED:
		if (parse_uint(c, arg, 0, UINT64_MAX, &cfg->seed) != 0)
			return -1;
		cfg->have_seed = 1;
		return 0;
	case 'h':
		mxt_options_usage(out);
		return MXT_OPT_EXIT_OK;
	case OPT_VERSION:
		mxt_options_version(out);
		return MXT_OPT_EXIT_OK;
	}
	c->what = NULL;
	return fail(c, "internal error: option %d has no handler", r->id);
}

/* TARGET: a domain, or user@domain (then also the first recipient).  An IP
 * address, host:port or URL is refused with a pointer to --server
 * (hardening.md b3 items 5 and 18). */
static int
parse_target(struct ctx *c, const char *s)
{
	struct mxt_config *cfg = c->cfg;
	const char *at, *dom;
	char *addr, *ascii, *unicode;

	c->what = "TARGET";
	if (check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	if (strstr(s, "://") != NULL)
		return fail(c, "'%s' looks like a URL; give a domain or user@domain", show(c, s));
	at = strrchr(s, '@');
	dom = at != NULL ? at + 1 : s;
	if (dom[0] == '[' || is_ipv4(dom) || is_ipv6(dom))
		return fail(c, "'%s' is an address, not a mail domain; use --server ADDR --to ADDR",
		    show(c, s));
	if (at == NULL && strchr(s, ':') != NULL)
		return fail(c,
		    "'%s' is not a domain; to choose a server and port use --server "
		    "HOST:PORT",
		    show(c, s));
	if (parse_domain(c, dom, &ascii, &unicode) != 0)
		return -1;
	free(cfg->domain);
	free(cfg->domain_unicode);
	cfg->domain = ascii;
	cfg->domain_unicode = unicode;
	if (at != NULL) {
		if (parse_mailbox(c, s, 0, &addr) != 0)
			return -1;
		if (add_rcpt(c, addr, 1) != 0)
			return -1;
	}
	return set_str(c, &cfg->target, s);
}

int
mxt_options_target(
    const char *s, char **domain, char **unicode, char **rcpt, char *err, size_t errlen)
{
	struct mxt_config tmp;
	struct ctx c;
	int rc;

	mxt_config_init(&tmp);
	memset(&c, 0, sizeof(c));
	c.cfg = &tmp;
	c.err = err;
	c.errlen = errlen;
	rc = parse_target(&c, s);
	free(c.shown[0]);
	free(c.shown[1]);
	if (rc == 0) {
		*domain = tmp.domain;
		*unicode = tmp.domain_unicode;
		*rcpt = tmp.nto > 0 ? tmp.to[0] : NULL;
		tmp.domain = tmp.domain_unicode = NULL;
		if (tmp.nto > 0)
			tmp.to[0] = NULL;
	}
	mxt_config_free(&tmp);
	return rc == 0 ? 0 : -1;
}

/* Cross-option rules, after every option and TARGET are in. */
static int
check_combinations(struct ctx *c)
{
	struct mxt_config *cfg = c->cfg;

	c->what = NULL;
	if (cfg->batch != NULL && cfg->target != NULL)
		return fail(c, "--batch reads its targets from FILE; do not give TARGET too");
	if (cfg->batch != NULL && (cfg->nto > 0 || cfg->server != NULL || cfg->send))
		return fail(c,
		    "--batch takes each recipient from its FILE line: no --to, --server "
		    "or --send with it");
	if (cfg->target == NULL && cfg->batch == NULL) {
		if (cfg->server != NULL && cfg->nto == 0)
			return fail(
			    c, "missing TARGET; with --server alone, give a recipient with --to");
		if (cfg->server == NULL)
			return fail(c, "missing TARGET (a domain or user@domain); see --help");
	}
	if (c->v4 && c->v6)
		return fail(c, "-4 and -6 exclude each other");
	if (cfg->verbose > 0 && cfg->quiet)
		return fail(c, "-v and -q exclude each other");
	if (cfg->tls_on_connect && c->have_starttls && cfg->starttls == MXT_STARTTLS_REQUIRE)
		return fail(
		    c, "--tls-on-connect starts TLS at once; --starttls require contradicts it");
	if (cfg->body != NULL && cfg->body_file != NULL)
		return fail(c, "give --body or --body-file, not both");
	if ((cfg->body != NULL || cfg->body_file != NULL) && !cfg->send)
		return fail(c, "%s is only used with --send", cfg->body ? "--body" : "--body-file");
	if (cfg->send && cfg->nto == 0)
		return fail(c, "--send needs an explicit recipient: TARGET user@domain or --to");
	if (cfg->send && c->have_quit_after)
		return fail(c, "--send runs the session to the end; --quit-after contradicts it");
	if (cfg->password_file != NULL && cfg->user == NULL)
		return fail(c, "--password-file needs --user");
	if (cfg->auth_mech != NULL && cfg->user == NULL)
		return fail(c, "--auth needs --user");
	if (cfg->quit_after == MXT_QUIT_AFTER_TLS && cfg->starttls == MXT_STARTTLS_NEVER &&
	    !cfg->tls_on_connect)
		return fail(c, "--quit-after tls with --starttls never: there is no TLS stage");
	if (c->have_port && c->server_port != 0 && c->server_port != cfg->port)
		return fail(
		    c, "--port %d and the port in --server (%d) differ", cfg->port, c->server_port);
	return 0;
}

/* getopt_long over the table, then TARGET, then the cross-option rules. */
int
mxt_options_parse(
    int argc, char **argv, struct mxt_config *cfg, FILE *out, char *err, size_t errlen)
{
	struct option lopts[NROWS + 1];
	struct ctx c;
	char name[64] = "";
	size_t i, n = 0;
	int ch, rc = -1;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.err = err;
	c.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	for (i = 0; i < NROWS; i++) {
		if (rows[i].name == NULL)
			continue;
		lopts[n].name = rows[i].name;
		lopts[n].has_arg = rows[i].arg != NULL ? required_argument : no_argument;
		lopts[n].flag = NULL;
		lopts[n].val = rows[i].id;
		n++;
	}
	memset(&lopts[n], 0, sizeof(lopts[n]));

	/* optind 0 makes glibc start afresh (tests parse many times). */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":46vqh", lopts, NULL)) != -1) {
		const struct opt_row *r;
		const char *arg = optarg;

		c.what = NULL;
		if (ch == '?' || ch == ':') {
			r = optopt != 0 ? find_row(optopt) : NULL;
			if (r != NULL && r->name != NULL)
				snprintf(name, sizeof(name), "--%s", r->name);
			else if (r != NULL)
				snprintf(name, sizeof(name), "-%c", r->letter);
			if (ch == ':' && r != NULL)
				fail(&c, "option %s needs an argument (%s)", name, r->arg);
			else if (r != NULL)
				fail(&c, "option %s does not take an argument", name);
			else if (optopt != 0) {
				char bad[2] = {(char)optopt, '\0'};

				fail(&c, "unknown option '-%s'; see --help", show(&c, bad));
			} else
				fail(&c, "unknown or ambiguous option '%s'; see --help",
				    show(&c, argv[optind - 1]));
			goto done;
		}
		if ((r = find_row(ch)) == NULL) {
			fail(&c, "internal error: getopt returned %d", ch);
			goto done;
		}
		if (r->name != NULL)
			snprintf(name, sizeof(name), "--%s", r->name);
		else
			snprintf(name, sizeof(name), "-%c", r->letter);
		if (!r->ready) {
			fail(&c, "option %s is not implemented yet", name);
			goto done;
		}
		c.what = name;
		if ((ch = apply(&c, r, arg, out)) != 0) {
			rc = ch;
			goto done;
		}
	}
	c.what = NULL;
	if (argc - optind > 1) {
		fail(&c, "unexpected argument '%s' (only one TARGET)", show(&c, argv[optind + 1]));
		goto done;
	}
	if (optind < argc && parse_target(&c, argv[optind]) != 0)
		goto done;
	if (check_combinations(&c) != 0)
		goto done;

	if (cfg->send)
		cfg->quit_after = MXT_QUIT_AFTER_NONE;
	if (cfg->port == 0 && c.server_port != 0)
		cfg->port = c.server_port;
	if (cfg->port == 0 && cfg->tls_on_connect)
		cfg->port = 465; /* RFC 8314 §3.3: submissions */
	if (cfg->port == 0 && cfg->submission)
		cfg->port = 587; /* RFC 6409 §3.1 */
	rc = 0;
done:
	free(c.shown[0]);
	free(c.shown[1]);
	return rc;
}

/* Print text from column HELP_COL, wrapped at word boundaries to at most
 * HELP_WIDTH; col is where the cursor is now. */
static void
print_wrapped(FILE *out, const char *text, int col)
{
	const char *p = text;

	if (col > HELP_COL - 2) {
		fputc('\n', out);
		col = 0;
	}
	fprintf(out, "%*s", HELP_COL - col, "");
	col = HELP_COL;
	while (*p != '\0') {
		const char *w = p;
		int len;

		while (*w != '\0' && *w != ' ')
			w++;
		len = (int)(w - p);
		if (col > HELP_COL && col + 1 + len > HELP_WIDTH) {
			fprintf(out, "\n%*s", HELP_COL, "");
			col = HELP_COL;
		} else if (col > HELP_COL) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, (size_t)len, out);
		col += len;
		p = *w == ' ' ? w + 1 : w;
	}
	fputc('\n', out);
}

/* The description of a row: help text, its values, "(not yet)". */
static void
describe(const struct opt_row *r, char *buf, size_t len)
{
	const struct opt_value *v;
	size_t n;
	int later = 0, first = 1;

	snprintf(buf, len, "%s", r->help);
	for (v = r->values; v != NULL && v->name != NULL; v++) {
		n = strlen(buf);
		if (!v->ready) {
			later = 1;
			continue;
		}
		snprintf(buf + n, len - n, "%s%s%s", first ? " " : ", ", v->name,
		    v->is_default ? " (default)" : "");
		first = 0;
	}
	for (v = r->values, first = 1; later && v->name != NULL; v++) {
		if (v->ready)
			continue;
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", first ? "; not yet: " : ", ", v->name);
		first = 0;
	}
	n = strlen(buf);
	if (!r->ready)
		snprintf(buf + n, len - n, " (not yet)");
}

/* The --help text, generated from the table so it cannot miss an option. */
void
mxt_options_usage(FILE *out)
{
	char left[64], desc[256];
	size_t i;
	int g, col;

	fputs("Usage: mxtrace [OPTIONS] TARGET\n"
	      "       mxtrace [OPTIONS] --server HOST[:PORT] --to ADDR\n"
	      "Trace mail delivery to TARGET, a domain or user@domain: look up its MX hosts,\n"
	      "connect to each, run the SMTP dialogue up to RCPT TO, then RSET and QUIT.\n"
	      "No mail is sent unless --send is given.\n",
	    out);
	for (g = 0; g < GRP_COUNT; g++) {
		fprintf(out, "\n%s:\n", group_title[g]);
		for (i = 0; i < NROWS; i++) {
			const struct opt_row *r = &rows[i];

			if ((int)r->group != g)
				continue;
			if (r->letter != 0 && r->name != NULL)
				col =
				    snprintf(left, sizeof(left), "  -%c, --%s", r->letter, r->name);
			else if (r->letter != 0)
				col = snprintf(left, sizeof(left), "  -%c", r->letter);
			else
				col = snprintf(left, sizeof(left), "      --%s", r->name);
			if (r->arg != NULL)
				col +=
				    snprintf(left + col, sizeof(left) - (size_t)col, " %s", r->arg);
			fputs(left, out);
			describe(r, desc, sizeof(desc));
			print_wrapped(out, desc, col);
		}
	}
	fputs("\nExit status:\n"
	      "  0   ok: every tested path accepts mail\n"
	      "  1   warning: delivery works, with problems worth fixing\n"
	      "  2   critical: delivery fails\n"
	      "  3   unknown: the check could not be completed, or an internal error\n"
	      "  64  usage error\n"
	      "\nEnvironment:\n"
	      "  MXTRACE_PASSWORD  AUTH password when --password-file is not given\n"
	      "  NO_COLOR          when set and not empty, no colour unless --color always\n"
	      "\nSee mxtrace(1) for details.\n",
	    out);
}

/* Versions of mxtrace and of the libraries it runs with (not built with). */
void
mxt_options_version(FILE *out)
{
	fprintf(out, "mxtrace %s\n", MXT_VERSION);
	fprintf(out, "  c-ares %s\n", ares_version(NULL));
	fprintf(out, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(out, "  cJSON %s\n", cJSON_Version());
	fprintf(out, "  libidn2 %s\n", idn2_check_version(NULL));
}

int
mxt_options_row(size_t i, const char **name, int *letter, int *ready)
{
	if (i >= NROWS)
		return 0;
	*name = rows[i].name;
	*letter = rows[i].letter;
	*ready = rows[i].ready;
	return 1;
}

/* Flip a ready flag of the table or of one keyword value (tests only). */
int
mxt_options_set_ready(const char *name, int ready)
{
	const char *eq = strchr(name, '=');
	size_t i, len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	struct opt_value *v;

	for (i = 0; i < NROWS; i++) {
		if (rows[i].name == NULL || strlen(rows[i].name) != len ||
		    strncmp(rows[i].name, name, len) != 0)
			continue;
		if (eq == NULL) {
			rows[i].ready = ready;
			return 0;
		}
		for (v = rows[i].values; v != NULL && v->name != NULL; v++)
			if (strcmp(v->name, eq + 1) == 0) {
				v->ready = ready;
				return 0;
			}
	}
	return -1;
}
