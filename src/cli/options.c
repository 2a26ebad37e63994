/* SPDX-License-Identifier: MIT */
/*
 * Command-line options: one declarative table drives getopt_long, the
 * parsing of every value, --help (opt_help.c) and the docs tests.  A row
 * names the option, the field of struct mxt_config its value lands in
 * (offsetof), a parser kind and its bounds, so most options need no code of
 * their own; only --server and --resolver (a port beside the host) and
 * --ehlo (a name or an address literal) have a handler.  The value
 * validators are in opt_values.c, the cross-option rules in opt_check.c.
 * The parser does not open the files options name and does not touch the
 * network; it writes nothing to stderr.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "mxtrace/idn.h"
#include "mxtrace/validate.h"
#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "opt.h"
#include "options.h"

/* Longest --body TEXT. */
#define OPT_BODY_MAX (64 * 1024)
/* Longest AUTH user name. */
#define OPT_USER_MAX 255
/* getopt_long's value for a long-only row: this plus the row's index. */
#define OPT_LONG_BASE 256

/* Enum fields are stored through an int. */
_Static_assert(sizeof(enum mxt_starttls_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mxt_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mxt_family) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mxt_quit_after) == sizeof(int), "enum size");

static int opt_server(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_ehlo(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_resolver(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_listen(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_dnsbl(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_egress_check(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_warning(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_critical(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_cert_days(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_help(struct opt_ctx *c, const char *arg, FILE *out);
static int opt_version(struct opt_ctx *c, const char *arg, FILE *out);

/* clang-format off */
static const struct opt_value starttls_values[] = {
	{ "auto", MXT_STARTTLS_AUTO, 1 },
	{ "require", MXT_STARTTLS_REQUIRE, 0 },
	{ "never", MXT_STARTTLS_NEVER, 0 },
	{ NULL, 0, 0 },
};

static const struct opt_value auth_values[] = {
	{ "PLAIN", 0, 0 },
	{ "LOGIN", 1, 0 },
	{ "CRAM-MD5", 2, 0 },
	{ NULL, 0, 0 },
};

static const struct opt_value quit_after_values[] = {
	{ "connect", MXT_QUIT_AFTER_CONNECT, 0 },
	{ "banner", MXT_QUIT_AFTER_BANNER, 0 },
	{ "ehlo", MXT_QUIT_AFTER_EHLO, 0 },
	{ "tls", MXT_QUIT_AFTER_TLS, 0 },
	{ "auth", MXT_QUIT_AFTER_AUTH, 0 },
	{ "mail", MXT_QUIT_AFTER_MAIL, 0 },
	{ "rcpt", MXT_QUIT_AFTER_RCPT, 1 },
	{ NULL, 0, 0 },
};

static const struct opt_value format_values[] = {
	{ "text", MXT_FORMAT_TEXT, 1 },
	{ "json", MXT_FORMAT_JSON, 0 },
	{ "nagios", MXT_FORMAT_NAGIOS, 0 },
	{ "openmetrics", MXT_FORMAT_OPENMETRICS, 0 },
	{ "prometheus", MXT_FORMAT_PROMETHEUS, 0 },
	{ NULL, 0, 0 },
};

static const struct opt_value color_values[] = {
	{ "auto", -1, 1 },
	{ "always", 1, 0 },
	{ "never", 0, 0 },
	{ NULL, 0, 0 },
};

#define FIELD(f) .off = offsetof(struct mxt_config, f), .size = sizeof(((struct mxt_config *)NULL)->f)
#define PATH(f) .kind = OPT_K_STRING, FIELD(f), .max = OPT_ARG_MAX, .empty = "empty file name"
#define SECONDS(f) .kind = OPT_K_SECONDS, FIELD(f), .min = 1, .max = OPT_SECONDS_MAX * 1000

/*
 * The options, indexed by enum opt_id (--help order).  docs/mxtrace.1 has an
 * entry for each row; tests/unit/test_options.c checks it, --help and the
 * bounds against this table.
 */
const struct opt_row mxt_opt_rows[OPT_COUNT] = {
	[OPT_FROM] = { .name = "from", .arg = "ADDR", .group = GRP_ENVELOPE,
	  .kind = OPT_K_MAILBOX, FIELD(from), .flags = OPT_F_EMPTY_OK,
	  .help = "envelope sender (default: the null sender <>)" },
	[OPT_TO] = { .name = "to", .arg = "ADDR", .group = GRP_ENVELOPE, .kind = OPT_K_RCPT,
	  FIELD(to), .help = "recipient to test at RCPT; repeatable, up to 32" },

	[OPT_SERVER] = { .name = "server", .arg = "HOST[:PORT]", .group = GRP_CONNECTION,
	  .kind = OPT_K_CUSTOM, FIELD(server), .handler = opt_server,
	  .help = "probe this server instead of TARGET's MX hosts" },
	[OPT_PORT] = { .name = "port", .arg = "N", .group = GRP_CONNECTION, .kind = OPT_K_UINT,
	  FIELD(port), .min = 1, .max = 65535, .help = "TCP port (default 25)" },
	[OPT_SUBMISSION] = { .name = "submission", .group = GRP_CONNECTION, .kind = OPT_K_FLAG,
	  FIELD(submission), .help = "message submission on port 587" },
	[OPT_SOURCE] = { .name = "source", .arg = "ADDR", .group = GRP_CONNECTION,
	  .kind = OPT_K_IP, FIELD(source), .help = "connect from this local IP address" },
	[OPT_EHLO] = { .name = "ehlo", .arg = "NAME", .group = GRP_CONNECTION,
	  .kind = OPT_K_CUSTOM, FIELD(ehlo), .handler = opt_ehlo,
	  .help = "EHLO name: a FQDN or an address literal" },
	[OPT_ALLOW_LOOPBACK] = { .name = "allow-loopback", .group = GRP_CONNECTION,
	  .kind = OPT_K_FLAG, FIELD(allow_loopback),
	  .help = "probe MX hosts that resolve to loopback (test labs)" },
	[OPT_EGRESS_IP] = { .name = "egress-ip", .arg = "ADDR", .group = GRP_CONNECTION,
	  .kind = OPT_K_IP, FIELD(egress_ip), .help = "address servers see when behind NAT" },
	[OPT_EGRESS_CHECK] = { .name = "egress-check", .arg = "HOST[:PORT]",
	  .group = GRP_CONNECTION, .kind = OPT_K_CUSTOM, FIELD(egress_check),
	  .handler = opt_egress_check,
	  .help = "when every port-25 connect times out, try port 25 of this exchanger too "
	  "(repeatable; 'none': no check; default: Gmail's, Outlook's and Yahoo's, real DNS "
	  "only)" },
	[OPT_IPV4] = { .letter = '4', .name = "ipv4", .group = GRP_CONNECTION, .kind = OPT_K_SET,
	  FIELD(family), .set = MXT_FAMILY_V4, .help = "use IPv4 only" },
	[OPT_IPV6] = { .letter = '6', .name = "ipv6", .group = GRP_CONNECTION, .kind = OPT_K_SET,
	  FIELD(family), .set = MXT_FAMILY_V6, .help = "use IPv6 only" },

	[OPT_STARTTLS] = { .name = "starttls", .arg = "MODE", .group = GRP_TLS,
	  .kind = OPT_K_ENUM, FIELD(starttls), .values = starttls_values, .help = "STARTTLS:" },
	[OPT_TLS_ON_CONNECT] = { .name = "tls-on-connect", .group = GRP_TLS, .kind = OPT_K_FLAG,
	  FIELD(tls_on_connect), .help = "TLS from the first byte (port 465)" },
	[OPT_CA_FILE] = { .name = "ca-file", .arg = "FILE", .group = GRP_TLS, PATH(ca_file),
	  .help = "trusted CA certificates, PEM" },
	[OPT_CERT_WARN_DAYS] = { .name = "cert-warn-days", .arg = "N", .group = GRP_TLS,
	  .kind = OPT_K_UINT, FIELD(cert_warn_days), .min = 0, .max = 3650,
	  .help = "warn N days before certificate expiry" },
	[OPT_DANE] = { .name = "dane", .group = GRP_TLS, .kind = OPT_K_SET, FIELD(no_dane),
	  .set = 0, .help = "check DANE TLSA records (the default)" },
	[OPT_NO_DANE] = { .name = "no-dane", .group = GRP_TLS, .kind = OPT_K_FLAG,
	  FIELD(no_dane), .help = "no TLSA lookups, no DANE verification" },
	[OPT_MTA_STS] = { .name = "mta-sts", .group = GRP_TLS, .kind = OPT_K_SET,
	  FIELD(no_mta_sts), .set = 0, .help = "check MTA-STS and TLS-RPT (the default)" },
	[OPT_NO_MTA_STS] = { .name = "no-mta-sts", .group = GRP_TLS, .kind = OPT_K_FLAG,
	  FIELD(no_mta_sts), .help = "no MTA-STS policy fetch, no TLS-RPT lookup" },

	[OPT_USER] = { .name = "user", .arg = "NAME", .group = GRP_AUTH, .kind = OPT_K_STRING,
	  FIELD(user), .max = OPT_USER_MAX, .empty = "empty user name",
	  .help = "authenticate as NAME" },
	[OPT_PASSWORD_FILE] = { .name = "password-file", .arg = "FILE", .group = GRP_AUTH,
	  PATH(password_file), .help = "read the password from FILE" },
	[OPT_AUTH] = { .name = "auth", .arg = "MECH", .group = GRP_AUTH,
	  .kind = OPT_K_ENUM_NAME, FIELD(auth_mech), .values = auth_values,
	  .help = "mechanism:" },
	[OPT_ALLOW_PLAINTEXT_AUTH] = { .name = "allow-plaintext-auth", .group = GRP_AUTH,
	  .kind = OPT_K_FLAG, FIELD(allow_plaintext_auth),
	  .help = "allow AUTH without verified TLS" },

	[OPT_SEND] = { .name = "send", .group = GRP_SESSION, .kind = OPT_K_FLAG, FIELD(send),
	  .help = "send a test message (DATA)" },
	[OPT_BODY] = { .name = "body", .arg = "TEXT", .group = GRP_SESSION, .kind = OPT_K_STRING,
	  FIELD(body), .max = OPT_BODY_MAX, .flags = OPT_F_MULTILINE,
	  .help = "message body for --send" },
	[OPT_BODY_FILE] = { .name = "body-file", .arg = "FILE", .group = GRP_SESSION,
	  PATH(body_file), .help = "read the message body from FILE" },
	[OPT_SIZE] = { .name = "size", .arg = "N", .group = GRP_SESSION, .kind = OPT_K_UINT,
	  FIELD(size), .min = 1, .max = MXT_SEND_SIZE_MAX,
	  .help = "pad the test message to N bytes" },
	[OPT_QUIT_AFTER] = { .name = "quit-after", .arg = "STAGE", .group = GRP_SESSION,
	  .kind = OPT_K_ENUM, FIELD(quit_after), .values = quit_after_values,
	  .help = "stop after" },

	[OPT_RESOLVER] = { .name = "resolver", .arg = "ADDR[:PORT]", .group = GRP_DNS,
	  .kind = OPT_K_CUSTOM, FIELD(resolver), .handler = opt_resolver,
	  .help = "DNS server to ask (default: resolv.conf)" },
	[OPT_DNS_TIMEOUT] = { .name = "dns-timeout", .arg = "SEC", .group = GRP_DNS,
	  SECONDS(dns_timeout_ms),
	  .help = "first DNS try's timeout, doubled each round (default 2)" },
	[OPT_DNS_TRIES] = { .name = "dns-tries", .arg = "N", .group = GRP_DNS,
	  .kind = OPT_K_UINT, FIELD(dns_tries), .min = 1, .max = 10,
	  .help = "tries per DNS server (default 2)" },

	[OPT_DNSBL] = { .name = "dnsbl", .arg = "ZONE", .group = GRP_REPUTATION,
	  .kind = OPT_K_CUSTOM, FIELD(dnsbl), .handler = opt_dnsbl,
	  .help = "look the client address up in this DNS blocklist (repeatable; default: "
	  "Spamhaus ZEN, Barracuda, SpamCop, only through the system resolver)" },
	[OPT_NO_DNSBL] = { .name = "no-dnsbl", .group = GRP_REPUTATION, .kind = OPT_K_FLAG,
	  FIELD(no_dnsbl), .help = "ask no DNS blocklist (overrides --dnsbl)" },
	[OPT_NO_SPF] = { .name = "no-spf", .group = GRP_REPUTATION, .kind = OPT_K_FLAG,
	  FIELD(no_spf), .help = "check neither SPF nor DMARC of the sender domain" },

	[OPT_TIMEOUT_CONNECT] = { .name = "timeout-connect", .arg = "SEC", .group = GRP_TIMEOUT,
	  SECONDS(timeout_connect_ms), .help = "TCP connect (default 10)" },
	[OPT_TIMEOUT_BANNER] = { .name = "timeout-banner", .arg = "SEC", .group = GRP_TIMEOUT,
	  SECONDS(timeout_banner_ms), .help = "wait for the greeting (default 30)" },
	[OPT_TIMEOUT_COMMAND] = { .name = "timeout-command", .arg = "SEC", .group = GRP_TIMEOUT,
	  SECONDS(timeout_command_ms), .help = "wait for each reply (default 30)" },
	[OPT_TIMEOUT_TOTAL] = { .letter = 't', .name = "timeout-total", .arg = "SEC",
	  .group = GRP_TIMEOUT, SECONDS(timeout_total_ms),
	  .help = "whole run (default 300; 50 with --format nagios)" },

	[OPT_FORMAT] = { .name = "format", .arg = "FMT", .group = GRP_OUTPUT, .kind = OPT_K_ENUM,
	  FIELD(format), .values = format_values, .help = "output format:" },
	[OPT_JSON] = { .name = "json", .group = GRP_OUTPUT, .kind = OPT_K_SET, FIELD(format),
	  .set = MXT_FORMAT_JSON, .help = "same as --format json" },
	[OPT_TRANSCRIPT] = { .name = "transcript", .group = GRP_OUTPUT, .kind = OPT_K_FLAG,
	  FIELD(transcript), .help = "include the SMTP transcript" },
	[OPT_COLOR] = { .name = "color", .arg = "WHEN", .group = GRP_OUTPUT, .kind = OPT_K_ENUM,
	  FIELD(color), .values = color_values, .help = "colour:" },
	[OPT_VERBOSE] = { .letter = 'v', .group = GRP_OUTPUT, .kind = OPT_K_COUNT,
	  FIELD(verbose), .max = 9, .help = "progress on stderr; -vv adds the transcript" },
	[OPT_QUIET] = { .letter = 'q', .group = GRP_OUTPUT, .kind = OPT_K_FLAG, FIELD(quiet),
	  .help = "quiet: no progress or notes on stderr" },

	[OPT_WARNING] = { .letter = 'w', .name = "warning", .arg = "RANGE", .group = GRP_NAGIOS,
	  .kind = OPT_K_CUSTOM, FIELD(warn_time), .handler = opt_warning,
	  .help = "WARNING threshold on the run's time in seconds" },
	[OPT_CRITICAL] = { .letter = 'c', .name = "critical", .arg = "RANGE", .group = GRP_NAGIOS,
	  .kind = OPT_K_CUSTOM, FIELD(crit_time), .handler = opt_critical,
	  .help = "CRITICAL threshold on the run's time in seconds" },
	[OPT_CERT_DAYS] = { .letter = 'D', .name = "cert-days", .arg = "WARN[,CRIT]",
	  .group = GRP_NAGIOS, .kind = OPT_K_CUSTOM, FIELD(cert_warn_days),
	  .handler = opt_cert_days,
	  .help = "--cert-warn-days WARN and --cert-crit-days CRIT at once (check_smtp -D)" },
	[OPT_CERT_CRIT_DAYS] = { .name = "cert-crit-days", .arg = "N", .group = GRP_NAGIOS,
	  .kind = OPT_K_UINT, FIELD(cert_crit_days), .min = 0, .max = 3650,
	  .help = "CRITICAL when a server certificate has fewer than N days left" },

	[OPT_BATCH] = { .name = "batch", .arg = "FILE", .group = GRP_RUN, PATH(batch),
	  .help = "probe each TARGET listed in FILE" },
	[OPT_CONCURRENCY] = { .name = "concurrency", .arg = "N", .group = GRP_RUN,
	  .kind = OPT_K_UINT, FIELD(concurrency), .min = 1, .max = 256,
	  .help = "at most N connections at once (default 32)" },
	[OPT_PER_ADDRESS] = { .name = "per-address", .arg = "N", .group = GRP_RUN,
	  .kind = OPT_K_UINT, FIELD(per_address), .min = 1, .max = 256,
	  .help = "at most N connections at once to one MX address (default 4)" },
	[OPT_SEED] = { .name = "seed", .arg = "N", .group = GRP_RUN, .kind = OPT_K_UINT,
	  FIELD(seed), .min = 0, .max = UINT64_MAX,
	  .help = "seed the MX shuffle, for repeatable runs" },

	[OPT_LISTEN] = { .name = "listen", .arg = "[ADDR:]PORT", .group = GRP_EXPORTER,
	  .kind = OPT_K_CUSTOM, FIELD(listen), .handler = opt_listen,
	  .help = "Prometheus exporter (default 127.0.0.1, port 9125)" },
	[OPT_CONFIG] = { .name = "config", .arg = "FILE", .group = GRP_EXPORTER,
	  PATH(exporter_config), .help = "the exporter's modules (named option sets)" },
	[OPT_MAX_PROBES] = { .name = "max-probes", .arg = "N", .group = GRP_EXPORTER,
	  .kind = OPT_K_UINT, FIELD(max_probes), .min = 1, .max = MXT_EXPORTER_PROBES_MAX,
	  .help = "probes at once; more get HTTP 503 (default 32)" },

	[OPT_HELP] = { .letter = 'h', .name = "help", .group = GRP_INFO, .kind = OPT_K_INFO,
	  .handler = opt_help, .help = "show this help and exit" },
	[OPT_VERSION] = { .name = "version", .group = GRP_INFO, .kind = OPT_K_INFO,
	  .handler = opt_version, .help = "show the version and library versions" },
};
/* clang-format on */

int
mxt_opt_fail(struct opt_ctx *c, const char *fmt, ...)
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

const char *
mxt_opt_show(struct opt_ctx *c, const char *s)
{
	int i = c->shown_next;

	c->shown_next = (i + 1) % 2;
	free(c->shown[i]);
	c->shown[i] = mxt_escape_str(s, 60);
	return c->shown[i] != NULL ? c->shown[i] : "?";
}

/* The field of row r in the configuration. */
static void *
field(struct opt_ctx *c, const struct opt_row *r)
{
	return (char *)c->cfg + r->off;
}

/* Store a number in an int field or a 64-bit one (int64_t or uint64_t). */
static void
store_num(void *dst, size_t size, uint64_t v)
{
	if (size == sizeof(int)) {
		int i = (int)v;

		memcpy(dst, &i, sizeof(i));
	} else
		memcpy(dst, &v, sizeof(v));
}

static void
store_int(void *dst, int v)
{
	memcpy(dst, &v, sizeof(v));
}

/* Replace the char * at dst with s, which it takes. */
static void
store_str(void *dst, char *s)
{
	char *old;

	memcpy(&old, dst, sizeof(old));
	free(old);
	memcpy(dst, &s, sizeof(s));
}

static int
opt_server(struct opt_ctx *c, const char *arg, FILE *out)
{
	char *s;

	(void)out;
	if (mxt_opt_hostport(c, arg, 0, &s, &c->server_port) != 0)
		return -1;
	free(c->cfg->server);
	c->cfg->server = s;
	return 0;
}

static int
opt_ehlo(struct opt_ctx *c, const char *arg, FILE *out)
{
	(void)out;
	return mxt_opt_ehlo(c, arg, &c->cfg->ehlo);
}

static int
opt_resolver(struct opt_ctx *c, const char *arg, FILE *out)
{
	(void)out;
	return mxt_opt_resolver(c, arg, &c->cfg->resolver);
}

/* --dnsbl ZONE (repeatable): a DNS name, kept lower-case without the
 * trailing dot; at most MXT_DNSBL_ZONES_MAX of them. */
static int
opt_dnsbl(struct opt_ctx *c, const char *arg, FILE *out)
{
	struct mxt_config *cfg = c->cfg;
	size_t n = strlen(arg), i;
	char *zone;

	(void)out;
	if (mxt_opt_check_text(c, arg, MXT_DOMAIN_MAX + 1, 0) != 0)
		return -1;
	while (n > 0 && arg[n - 1] == '.')
		n--;
	zone = mxt_xstrndup(arg, n);
	for (i = 0; i < n; i++)
		if (zone[i] >= 'A' && zone[i] <= 'Z')
			zone[i] = (char)(zone[i] - 'A' + 'a');
	if (!mxt_valid_hostname(zone) || strchr(zone, '.') == NULL) {
		free(zone);
		return mxt_opt_fail(
		    c, "'%s' is not a DNS zone such as zen.spamhaus.org", mxt_opt_show(c, arg));
	}
	if (cfg->ndnsbl >= MXT_DNSBL_ZONES_MAX) {
		free(zone);
		return mxt_opt_fail(c, "at most %d blocklists", MXT_DNSBL_ZONES_MAX);
	}
	cfg->dnsbl = mxt_xreallocarray(cfg->dnsbl, cfg->ndnsbl + 1, sizeof(*cfg->dnsbl));
	cfg->dnsbl[cfg->ndnsbl++] = zone;
	return 0;
}

/* --egress-check HOST[:PORT] (repeatable), or "none": the reference
 * exchangers (src/probe/reference.c); at most MXT_EGRESS_CHECK_MAX. */
static int
opt_egress_check(struct opt_ctx *c, const char *arg, FILE *out)
{
	struct mxt_config *cfg = c->cfg;
	char *host;
	int port;

	(void)out;
	if (strcmp(arg, "none") == 0) {
		cfg->egress_check_none = 1;
		return 0;
	}
	if (mxt_opt_hostport(c, arg, 0, &host, &port) != 0)
		return -1;
	if (cfg->negress_check >= MXT_EGRESS_CHECK_MAX) {
		free(host);
		return mxt_opt_fail(c, "at most %d --egress-check hosts", MXT_EGRESS_CHECK_MAX);
	}
	cfg->egress_check = mxt_xreallocarray(
	    cfg->egress_check, cfg->negress_check + 1, sizeof(*cfg->egress_check));
	cfg->egress_check[cfg->negress_check].host = host;
	cfg->egress_check[cfg->negress_check++].port = port;
	return 0;
}

/* -w, -c: a Monitoring Plugins range (mxtrace/range.h). */
static int
set_range(struct opt_ctx *c, const char *arg, struct mxt_range *r)
{
	char why[160];

	/* A control byte would reach the error line unescaped. */
	if (mxt_opt_check_text(c, arg, MXT_RANGE_TEXT_MAX, 0) != 0)
		return -1;
	if (mxt_range_parse(arg, r, why, sizeof(why)) != 0)
		return mxt_opt_fail(c, "%s", why);
	return 0;
}

static int
opt_warning(struct opt_ctx *c, const char *arg, FILE *out)
{
	(void)out;
	return set_range(c, arg, &c->cfg->warn_time);
}

static int
opt_critical(struct opt_ctx *c, const char *arg, FILE *out)
{
	(void)out;
	return set_range(c, arg, &c->cfg->crit_time);
}

/* -D WARN[,CRIT]: both certificate-days thresholds, as check_smtp -D. */
static int
opt_cert_days(struct opt_ctx *c, const char *arg, FILE *out)
{
	const char *comma = strchr(arg, ',');
	char warn[16];
	uint64_t w, k = 0;

	(void)out;
	if (comma == NULL) {
		if (mxt_opt_uint(c, arg, 0, 3650, &w) != 0)
			return -1;
	} else {
		if ((size_t)(comma - arg) >= sizeof(warn))
			return mxt_opt_fail(
			    c, "'%s' is not WARN[,CRIT] (days)", mxt_opt_show(c, arg));
		memcpy(warn, arg, (size_t)(comma - arg));
		warn[comma - arg] = '\0';
		if (mxt_opt_uint(c, warn, 0, 3650, &w) != 0 ||
		    mxt_opt_uint(c, comma + 1, 0, 3650, &k) != 0)
			return -1;
		c->cfg->cert_crit_days = (int)k;
	}
	c->cfg->cert_warn_days = (int)w;
	return 0;
}

static int
opt_listen(struct opt_ctx *c, const char *arg, FILE *out)
{
	(void)out;
	return mxt_opt_listen(c, arg);
}

static int
opt_help(struct opt_ctx *c, const char *arg, FILE *out)
{
	(void)c;
	(void)arg;
	mxt_options_usage(out);
	return MXT_OPT_EXIT_OK;
}

static int
opt_version(struct opt_ctx *c, const char *arg, FILE *out)
{
	(void)c;
	(void)arg;
	mxt_options_version(out);
	return MXT_OPT_EXIT_OK;
}

/* Apply row r to its field by its parser kind.  Returns 0, -1 (usage error)
 * or MXT_OPT_EXIT_OK (an INFO row printed its text). */
static int
apply(struct opt_ctx *c, const struct opt_row *r, const char *arg, FILE *out)
{
	void *dst = field(c, r);
	const struct opt_value *v;
	char *s;
	uint64_t u;
	int n;

	switch (r->kind) {
	case OPT_K_FLAG:
		store_int(dst, 1);
		return 0;
	case OPT_K_SET:
		store_int(dst, r->set);
		return 0;
	case OPT_K_COUNT:
		memcpy(&n, dst, sizeof(n));
		if ((uint64_t)n < r->max)
			store_int(dst, n + 1);
		return 0;
	case OPT_K_STRING:
		if (mxt_opt_check_text(c, arg, r->max, (r->flags & OPT_F_MULTILINE) != 0) != 0)
			return -1;
		if (arg[0] == '\0' && r->empty != NULL)
			return mxt_opt_fail(c, "%s", r->empty);
		store_str(dst, mxt_xstrdup(arg));
		return 0;
	case OPT_K_UINT:
		if (mxt_opt_uint(c, arg, r->min, r->max, &u) != 0)
			return -1;
		store_num(dst, r->size, u);
		return 0;
	case OPT_K_SECONDS:
		if (mxt_opt_seconds(c, arg, r->min, r->max, &u) != 0)
			return -1;
		store_num(dst, r->size, u);
		return 0;
	case OPT_K_ENUM:
		if (mxt_opt_choice(c, arg, r->values, &v) != 0)
			return -1;
		store_int(dst, v->value);
		return 0;
	case OPT_K_ENUM_NAME:
		if (mxt_opt_choice(c, arg, r->values, &v) != 0)
			return -1;
		store_str(dst, mxt_xstrdup(v->name));
		return 0;
	case OPT_K_IP:
		return mxt_opt_ip(c, arg, dst);
	case OPT_K_MAILBOX:
		if (mxt_opt_mailbox(c, arg, (r->flags & OPT_F_EMPTY_OK) != 0, &s) != 0)
			return -1;
		store_str(dst, s);
		return 0;
	case OPT_K_RCPT:
		if (mxt_opt_mailbox(c, arg, 0, &s) != 0)
			return -1;
		return mxt_opt_add_rcpt(c, s, 0);
	case OPT_K_CUSTOM:
	case OPT_K_INFO:
		return r->handler(c, arg, out);
	}
	c->what = NULL;
	return mxt_opt_fail(c, "internal error: option kind %d", (int)r->kind);
}

/* The row for a getopt_long return value, NULL if none. */
static const struct opt_row *
find_row(int val)
{
	size_t i;

	if (val >= OPT_LONG_BASE && val < OPT_LONG_BASE + OPT_COUNT)
		return &mxt_opt_rows[val - OPT_LONG_BASE];
	for (i = 0; i < OPT_COUNT; i++)
		if (mxt_opt_rows[i].letter != 0 && mxt_opt_rows[i].letter == val)
			return &mxt_opt_rows[i];
	return NULL;
}

/* "--name" or "-l" for messages. */
static void
row_name(const struct opt_row *r, char *buf, size_t len)
{
	if (r->name != NULL)
		snprintf(buf, len, "--%s", r->name);
	else
		snprintf(buf, len, "-%c", r->letter);
}

int
mxt_options_target(
    const char *s, char **domain, char **unicode, char **rcpt, char *err, size_t errlen)
{
	struct mxt_config tmp;
	struct opt_ctx c;
	int rc;

	mxt_config_init(&tmp);
	memset(&c, 0, sizeof(c));
	c.cfg = &tmp;
	c.err = err;
	c.errlen = errlen;
	rc = mxt_opt_target(&c, s);
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

/* Rows an exporter module may not set: output and logging belong to the
 * exporter, engine-wide settings (DNS, CA file, seed) to its command line,
 * and a scrape never sends a message (docs/mxtrace.1, EXPORTER
 * CONFIGURATION).  Returns the reason, or NULL when the row is allowed. */
static const char *
module_refuses(size_t id)
{
	switch (id) {
	case OPT_FORMAT:
	case OPT_JSON:
	case OPT_TRANSCRIPT:
	case OPT_COLOR:
	case OPT_VERBOSE:
	case OPT_QUIET:
	case OPT_BATCH:
	case OPT_LISTEN:
	case OPT_CONFIG:
	case OPT_MAX_PROBES:
	case OPT_HELP:
	case OPT_VERSION:
		return "is not a module option";
	case OPT_RESOLVER:
	case OPT_DNS_TIMEOUT:
	case OPT_DNS_TRIES:
	case OPT_CA_FILE:
	case OPT_SEED:
		return "applies to the whole exporter: give it on the command line";
	case OPT_SEND:
	case OPT_BODY:
	case OPT_BODY_FILE:
	case OPT_SIZE:
		return "is refused: a scrape never sends a message";
	default:
		return NULL;
	}
}

/* getopt_long over the table, then TARGET, then the cross-option rules. */
static int
parse(
    int argc, char **argv, struct mxt_config *cfg, FILE *out, char *err, size_t errlen, int module)
{
	struct option lopts[OPT_COUNT + 1];
	char shorts[OPT_COUNT + 2], name[64] = "";
	struct opt_ctx c;
	size_t i, n = 0, ns = 0;
	int ch, rc = -1;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.err = err;
	c.errlen = errlen;
	c.module = module;
	if (errlen > 0)
		err[0] = '\0';
	shorts[ns++] = ':'; /* report a missing argument as ':' */
	for (i = 0; i < OPT_COUNT; i++) {
		const struct opt_row *r = &mxt_opt_rows[i];
		int val = r->letter != 0 ? r->letter : OPT_LONG_BASE + (int)i;

		if (r->letter != 0) {
			shorts[ns++] = (char)r->letter;
			if (r->arg != NULL)
				shorts[ns++] = ':';
		}
		if (r->name == NULL)
			continue;
		lopts[n].name = r->name;
		lopts[n].has_arg = r->arg != NULL ? required_argument : no_argument;
		lopts[n].flag = NULL;
		lopts[n].val = val;
		n++;
	}
	shorts[ns] = '\0';
	memset(&lopts[n], 0, sizeof(lopts[n]));

	/* optind 0 makes glibc start afresh (tests parse many times). */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const struct opt_row *r;
		const char *arg = optarg;

		c.what = NULL;
		if (ch == '?' || ch == ':') {
			r = optopt != 0 ? find_row(optopt) : NULL;
			if (r != NULL)
				row_name(r, name, sizeof(name));
			if (ch == ':' && r != NULL)
				mxt_opt_fail(&c, "option %s needs an argument (%s)", name, r->arg);
			else if (r != NULL)
				mxt_opt_fail(&c, "option %s does not take an argument", name);
			else if (optopt != 0) {
				char bad[2] = {(char)optopt, '\0'};

				mxt_opt_fail(
				    &c, "unknown option '-%s'; see --help", mxt_opt_show(&c, bad));
			} else
				mxt_opt_fail(&c, "unknown or ambiguous option '%s'; see --help",
				    mxt_opt_show(&c, argv[optind - 1]));
			goto done;
		}
		if ((r = find_row(ch)) == NULL) {
			mxt_opt_fail(&c, "internal error: getopt returned %d", ch);
			goto done;
		}
		row_name(r, name, sizeof(name));
		c.what = name;
		if (module && module_refuses((size_t)(r - mxt_opt_rows)) != NULL) {
			mxt_opt_fail(&c, "%s", module_refuses((size_t)(r - mxt_opt_rows)));
			goto done;
		}
		if ((ch = apply(&c, r, arg, out)) != 0) {
			rc = ch;
			goto done;
		}
		c.seen[r - mxt_opt_rows] = 1;
	}
	c.what = NULL;
	if (module && optind < argc) {
		mxt_opt_fail(&c, "unexpected '%s': a module holds options only",
		    mxt_opt_show(&c, argv[optind]));
		goto done;
	}
	if (argc - optind > 1) {
		mxt_opt_fail(&c, "unexpected argument '%s' (only one TARGET)",
		    mxt_opt_show(&c, argv[optind + 1]));
		goto done;
	}
	if (optind < argc && mxt_opt_target(&c, argv[optind]) != 0)
		goto done;
	rc = mxt_opt_finish(&c);
done:
	free(c.shown[0]);
	free(c.shown[1]);
	return rc;
}

int
mxt_options_parse(
    int argc, char **argv, struct mxt_config *cfg, FILE *out, char *err, size_t errlen)
{
	return parse(argc, argv, cfg, out, err, errlen, 0);
}

int
mxt_options_module(int argc, char **argv, struct mxt_config *cfg, char *err, size_t errlen)
{
	return parse(argc, argv, cfg, NULL, err, errlen, 1);
}

int
mxt_options_row(size_t i, struct mxt_opt_info *info)
{
	const struct opt_row *r;
	size_t j;

	if (i >= OPT_COUNT)
		return 0;
	r = &mxt_opt_rows[i];
	memset(info, 0, sizeof(*info));
	info->name = r->name;
	info->letter = r->letter;
	info->arg = r->arg;
	info->bound = r->kind == OPT_K_UINT ? MXT_OPT_BOUND_UINT
	    : r->kind == OPT_K_SECONDS	    ? MXT_OPT_BOUND_SECONDS
					    : MXT_OPT_BOUND_NONE;
	info->min = r->min;
	info->max = r->max;
	info->off = r->off;
	info->size = r->size;
	for (j = 0; r->values != NULL && r->values[j].name != NULL && j < MXT_OPT_VALUES_MAX; j++)
		info->values[j] = r->values[j].name;
	return 1;
}
