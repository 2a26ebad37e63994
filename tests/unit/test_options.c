/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing (src/cli): defaults, every option, every rejection of
 * hostile input (control bytes, CRLF injection, bad IDN, numbers in other
 * locales), the table's bounds and keyword values, --help and --version, and
 * that docs/mxtrace.1 (path in argv[1]) and --help list every option of the
 * table.
 */
#include <ctype.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/options.h"
#include "mxt_config.h"
#include "mxtrace/limits.h"
#include "t.h"

#define MAXARGS 80

static struct mxt_config cfg;
static char err[512];

/* Parse "mxtrace" followed by the NULL-terminated arguments into the global
 * cfg (freed and set up afresh first); returns what the parser returns. */
static int
parse_v(FILE *out, va_list ap)
{
	char *argv[MAXARGS + 2];
	int argc = 0;
	char *a;

	mxt_config_free(&cfg);
	mxt_config_init(&cfg);
	argv[argc++] = "mxtrace";
	while ((a = va_arg(ap, char *)) != NULL && argc <= MAXARGS)
		argv[argc++] = a;
	argv[argc] = NULL;
	return mxt_options_parse(argc, argv, &cfg, out, err, sizeof(err));
}

static int
parse(const char *first, ...)
{
	va_list ap;
	FILE *out = fopen("/dev/null", "w");
	int rc;

	(void)first;
	va_start(ap, first);
	rc = parse_v(out, ap);
	va_end(ap);
	fclose(out);
	return rc;
}

/* The error is one line, starts with "mxtrace: ", and holds no control byte
 * (user text in it is escaped). */
static int
clean_err(void)
{
	const char *p;

	if (strncmp(err, "mxtrace: ", 9) != 0)
		return 0;
	for (p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* Arguments go after a dummy first parameter so the list can be empty. */
#define OK(...) (parse(NULL, __VA_ARGS__, (char *)NULL) == 0)
#define BAD(needle, ...)                                                                           \
	(parse(NULL, __VA_ARGS__, (char *)NULL) == -1 && strstr(err, needle) != NULL && clean_err())

static const char *
to(size_t i)
{
	return i < cfg.nto ? cfg.to[i] : "(none)";
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void
test_defaults(void)
{
	mxt_config_init(&cfg);
	T_CHECK(cfg.target == NULL && cfg.domain == NULL && cfg.from == NULL && cfg.nto == 0,
	    "defaults: no target, sender or recipients");
	T_CHECK(cfg.server == NULL && cfg.port == 0 && cfg.source == NULL && cfg.ehlo == NULL,
	    "defaults: no server, port 0, no source, no EHLO name");
	T_CHECK(cfg.starttls == MXT_STARTTLS_AUTO && !cfg.tls_on_connect && cfg.ca_file == NULL,
	    "defaults: STARTTLS auto");
	T_CHECK(cfg.quit_after == MXT_QUIT_AFTER_RCPT && !cfg.send,
	    "defaults: stop after RCPT, no --send");
	T_CHECK(cfg.family == MXT_FAMILY_ANY, "defaults: any address family");
	T_CHECK(cfg.dns_timeout_ms == MXT_DNS_TIMEOUT_MS && cfg.dns_tries == MXT_DNS_TRIES,
	    "defaults: DNS timeout and tries from limits.h");
	T_CHECK(cfg.timeout_connect_ms == MXT_DEADLINE_CONNECT_MS &&
		cfg.timeout_banner_ms == MXT_DEADLINE_BANNER_MS &&
		cfg.timeout_command_ms == MXT_DEADLINE_COMMAND_MS &&
		cfg.timeout_total_ms == MXT_DEADLINE_TOTAL_MS,
	    "defaults: deadlines from limits.h");
	T_CHECK(cfg.format == MXT_FORMAT_TEXT && !cfg.transcript, "defaults: text output");
	T_CHECK(cfg.concurrency == MXT_CONCURRENCY_DEFAULT && cfg.concurrency == 32,
	    "defaults: concurrency 32");
	T_CHECK(cfg.color == -1 && cfg.verbose == 0 && !cfg.quiet && !cfg.have_seed,
	    "defaults: colour auto, not verbose, not quiet, no seed");
	T_CHECK(cfg.cert_warn_days == 14 && !cfg.submission && !cfg.allow_plaintext_auth &&
		cfg.egress_ip == NULL && cfg.password_file == NULL && cfg.size == 0,
	    "defaults: added fields");
	mxt_config_free(&cfg);
	mxt_config_free(&cfg);
	T_CHECK(cfg.target == NULL && cfg.concurrency == 32, "mxt_config_free twice is harmless");

	T_CHECK(OK("example.com") && cfg.quit_after == MXT_QUIT_AFTER_RCPT && cfg.port == 0 &&
		cfg.from == NULL,
	    "plain TARGET keeps the defaults");
}

static void
test_target(void)
{
	static char big[1024 * 1024 + 1];

	T_CHECK(OK("example.com") && streq(cfg.target, "example.com") &&
		streq(cfg.domain, "example.com") && cfg.nto == 0,
	    "TARGET domain");
	T_CHECK(OK("Example.COM.") && streq(cfg.domain, "example.com") &&
		streq(cfg.target, "Example.COM."),
	    "TARGET is lower-cased and loses its trailing dot; target kept as given");
	T_CHECK(OK("user@example.com") && streq(cfg.domain, "example.com") && cfg.nto == 1 &&
		streq(to(0), "user@example.com"),
	    "TARGET user@domain: the domain and the first recipient");
	T_CHECK(OK("bücher.example") && streq(cfg.domain, "xn--bcher-kva.example") &&
		streq(cfg.domain_unicode, "bücher.example"),
	    "TARGET IDN to A-label, U-label kept");
	T_CHECK(OK("jörg@bücher.example") && streq(cfg.domain, "xn--bcher-kva.example") &&
		streq(to(0), "jörg@xn--bcher-kva.example"),
	    "TARGET address with IDN domain");
	T_CHECK(OK("xn--bcher-kva.example") && streq(cfg.domain_unicode, "bücher.example"),
	    "TARGET A-label accepted");
	T_CHECK(OK("user@example.com", "--to", "b@example.org") && cfg.nto == 2 &&
		streq(to(0), "user@example.com") && streq(to(1), "b@example.org"),
	    "TARGET address comes before --to recipients");
	T_CHECK(OK("--to", "b@example.org", "user@example.com") && streq(to(0), "user@example.com"),
	    "TARGET address first whatever the argument order");

	T_CHECK(BAD("empty label", "a..b"), "TARGET a..b: %s", err);
	T_CHECK(BAD("empty label", ".example.com"), "TARGET leading dot: %s", err);
	T_CHECK(BAD("character '\\'", "ex\\.ample.com"), "TARGET backslash: %s", err);
	T_CHECK(BAD("unknown", "-x"), "TARGET -x is an unknown option: %s", err);
	T_CHECK(BAD("starts with '-'", "--", "-x"), "TARGET -x after --: %s", err);
	T_CHECK(BAD("looks like a URL", "smtp://host.example"), "TARGET URL: %s", err);
	T_CHECK(BAD("--server HOST:PORT", "mx.example.com:25"), "TARGET host:port: %s", err);
	T_CHECK(BAD("not a mail domain", "192.0.2.1"), "TARGET IPv4: %s", err);
	T_CHECK(BAD("not a mail domain", "2001:db8::1"), "TARGET IPv6: %s", err);
	T_CHECK(BAD("not a mail domain", "[192.0.2.1]"), "TARGET literal: %s", err);
	T_CHECK(BAD("not a mail domain", "user@[192.0.2.1]"), "TARGET user@literal: %s", err);
	T_CHECK(BAD("all-numeric", "1.2.3.999"), "TARGET all-numeric TLD: %s", err);
	T_CHECK(BAD("character ' '", "a b.com"), "TARGET with a space: %s", err);
	T_CHECK(BAD("control character 0x0d", "exa\r\nmple.com"), "TARGET CRLF: %s", err);
	T_CHECK(BAD("control character 0x09", "exa\tmple.com"), "TARGET TAB: %s", err);
	T_CHECK(BAD("control character 0x1b", "\x1b[31mred.com"), "TARGET ESC: %s", err);
	T_CHECK(BAD("control character 0x7f", "a\x7f.com"), "TARGET DEL: %s", err);
	T_CHECK(BAD("not a valid domain", "xn--zz.example"), "TARGET bad punycode: %s", err);
	T_CHECK(BAD("63", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"),
	    "TARGET label of 64: %s", err);
	memset(big, 'a', sizeof(big) - 1);
	T_CHECK(BAD("argument too long", big), "TARGET of 1 MiB: %s", err);
	memset(big, 0, sizeof(big));
	for (size_t i = 0; i < 300; i += 2)
		memcpy(big + i, "a.", 2);
	memcpy(big + 300, "com", 4);
	T_CHECK(BAD("not a valid", big), "TARGET over 253 octets: %s", err);
	T_CHECK(BAD(".onion", "facebookcorewwwi.onion"), "TARGET .onion: %s", err);
	T_CHECK(BAD("character '_'", "a_b.example"), "TARGET underscore: %s", err);
	T_CHECK(BAD("missing TARGET", "-v"), "no TARGET: %s", err);
	T_CHECK(parse(NULL, (char *)NULL) == -1 && strstr(err, "missing TARGET") != NULL,
	    "no arguments at all: %s", err);
	T_CHECK(BAD("unexpected argument 'b.example'", "a.example", "b.example"), "two TARGETs: %s",
	    err);
	T_CHECK(BAD("user@domain", "@example.com"), "TARGET with an empty local part: %s", err);
}

static void
test_mailboxes(void)
{
	char local[80];
	int i;

	T_CHECK(
	    OK("--from", "a@b.example", "example.com") && streq(cfg.from, "a@b.example"), "--from");
	T_CHECK(
	    OK("--from", "", "example.com") && streq(cfg.from, ""), "--from '' is the null sender");
	T_CHECK(OK("--from=", "example.com") && streq(cfg.from, ""), "--from= is the null sender");
	T_CHECK(OK("--from", "<>", "example.com") && streq(cfg.from, ""), "--from '<>'");
	T_CHECK(OK("--from", "<a@b.example>", "example.com") && streq(cfg.from, "a@b.example"),
	    "--from with angle brackets");
	T_CHECK(OK("--from", "a@Bücher.Example", "example.com") &&
		streq(cfg.from, "a@xn--bcher-kva.example"),
	    "--from IDN domain to A-label");
	T_CHECK(OK("--from", "a@[192.0.2.1]", "example.com") && streq(cfg.from, "a@[192.0.2.1]"),
	    "--from with an address literal");
	T_CHECK(OK("--from", "\"a b\"@example.com", "example.com"), "--from quoted local part");
	T_CHECK(BAD("--from: control character 0x0d", "--from", "a@b\r\nRCPT TO:<x@y>", "ex.com"),
	    "--from CRLF injection: %s", err);
	T_CHECK(BAD("--from", "--from", "a\x01@b.example", "ex.com"), "--from SOH: %s", err);
	T_CHECK(BAD("user@domain", "--from", "no-at", "ex.com"), "--from without @: %s", err);
	T_CHECK(BAD("--from", "--from", "a@@b.example", "ex.com"), "--from two @: %s", err);
	T_CHECK(BAD("unbalanced", "--from", "<a@b.example", "ex.com"), "--from '<': %s", err);
	T_CHECK(BAD("unbalanced", "--from", "a@b.example>", "ex.com"), "--from '>': %s", err);
	T_CHECK(BAD("--from", "--from", "a b@example.com", "ex.com"), "--from space: %s", err);
	for (i = 0; i < 65; i++)
		local[i] = 'x';
	snprintf(local + 65, sizeof(local) - 65, "@b.example");
	T_CHECK(BAD("64", "--from", local, "ex.com"), "--from local part of 65: %s", err);
	T_CHECK(BAD("--from", "--from", "a@b..example", "ex.com"), "--from empty label: %s", err);

	T_CHECK(OK("--to", "a@x.example", "--to", "b@y.example", "--to", "c@z.example",
		    "example.com") &&
		cfg.nto == 3 && streq(to(0), "a@x.example") && streq(to(2), "c@z.example"),
	    "--to repeatable, in order");
	T_CHECK(BAD("--to: empty address", "--to", "", "example.com"), "--to '': %s", err);
	T_CHECK(BAD("--to: control character 0x0a", "--to", "a@b\nDATA", "example.com"),
	    "--to LF injection: %s", err);
	T_CHECK(BAD("--to", "--to", "<>", "example.com"), "--to '<>': %s", err);
	{
		char *argv[MAXARGS + 2];
		int argc = 0, rc;

		mxt_config_free(&cfg);
		mxt_config_init(&cfg);
		argv[argc++] = "mxtrace";
		for (i = 0; i < MXT_OPT_RCPT_MAX; i++) {
			argv[argc++] = "--to";
			argv[argc++] = "a@b.example";
		}
		argv[argc++] = "example.com";
		argv[argc] = NULL;
		rc = mxt_options_parse(argc, argv, &cfg, stdout, err, sizeof(err));
		T_CHECK(rc == 0 && cfg.nto == 32, "32 recipients accepted");
		argv[argc - 1] = "u@example.com";
		mxt_config_free(&cfg);
		mxt_config_init(&cfg);
		rc = mxt_options_parse(argc, argv, &cfg, stdout, err, sizeof(err));
		T_CHECK(rc == -1 && strstr(err, "more than 32 recipients") != NULL,
		    "TARGET address + 32 --to refused: %s", err);
		argv[argc - 1] = "--to";
		argv[argc++] = "a@b.example";
		argv[argc++] = "example.com";
		argv[argc] = NULL;
		mxt_config_free(&cfg);
		mxt_config_init(&cfg);
		rc = mxt_options_parse(argc, argv, &cfg, stdout, err, sizeof(err));
		T_CHECK(rc == -1 && strstr(err, "more than 32 recipients") != NULL,
		    "33 --to refused: %s", err);
	}
}

static void
test_server(void)
{
	T_CHECK(OK("--server", "mx.example.com", "example.com") &&
		streq(cfg.server, "mx.example.com") && cfg.port == 0,
	    "--server name");
	T_CHECK(OK("--server", "MX.Example.com.:2525", "example.com") &&
		streq(cfg.server, "mx.example.com") && cfg.port == 2525,
	    "--server name:port, lower-cased");
	T_CHECK(OK("--server", "bücher.example", "example.com") &&
		streq(cfg.server, "xn--bcher-kva.example"),
	    "--server IDN");
	T_CHECK(OK("--server", "192.0.2.1", "example.com") && streq(cfg.server, "192.0.2.1"),
	    "--server IPv4");
	T_CHECK(OK("--server", "192.0.2.1:26", "example.com") && streq(cfg.server, "192.0.2.1") &&
		cfg.port == 26,
	    "--server IPv4:port");
	T_CHECK(OK("--server", "[::1]", "example.com") && streq(cfg.server, "::1") && cfg.port == 0,
	    "--server [IPv6]");
	T_CHECK(OK("--server", "[::1]:2525", "example.com") && streq(cfg.server, "::1") &&
		cfg.port == 2525,
	    "--server [::1]:2525");
	T_CHECK(OK("--server", "localhost", "--to", "a@b.example") && cfg.target == NULL &&
		cfg.domain == NULL && cfg.nto == 1,
	    "--server with --to needs no TARGET");
	T_CHECK(
	    OK("--server", "[2001:db8::25]:25", "--port", "25", "example.com") && cfg.port == 25,
	    "--port equal to the --server port");
	T_CHECK(
	    BAD("in brackets", "--server", "::1", "example.com"), "--server bare IPv6: %s", err);
	T_CHECK(BAD("in brackets", "--server", "2001:db8::1:25", "example.com"),
	    "--server bare IPv6 with port: %s", err);
	T_CHECK(BAD("missing ']'", "--server", "[::1", "example.com"), "--server '[::1': %s", err);
	T_CHECK(BAD("not an IPv6 address", "--server", "[mx.example]:25", "example.com"),
	    "--server [name]: %s", err);
	T_CHECK(
	    BAD("only ':PORT'", "--server", "[::1]x", "example.com"), "--server [::1]x: %s", err);
	T_CHECK(
	    BAD("1 to 65535", "--server", "mx.example:0", "example.com"), "--server :0: %s", err);
	T_CHECK(BAD("1 to 65535", "--server", "mx.example:65536", "example.com"),
	    "--server :65536: %s", err);
	T_CHECK(
	    BAD("empty value", "--server", "mx.example:", "example.com"), "--server ':': %s", err);
	T_CHECK(
	    BAD("1 to 65535", "--server", "[::1]:25x", "example.com"), "--server :25x: %s", err);
	T_CHECK(BAD("looks like a URL", "--server", "smtp://mx.example", "example.com"),
	    "--server URL: %s", err);
	T_CHECK(BAD("not a valid IPv4", "--server", "999.1.1.1", "example.com"),
	    "--server 999.1.1.1: %s", err);
	T_CHECK(BAD("--server: control character", "--server", "mx\r\n.example", "example.com"),
	    "--server CRLF: %s", err);
	T_CHECK(BAD("--server: empty", "--server", "", "example.com"), "--server '': %s", err);
	T_CHECK(BAD("give a recipient with --to", "--server", "mx.example"),
	    "--server alone needs --to: %s", err);
	T_CHECK(BAD("differ", "--server", "mx.example:25", "--port", "26", "example.com"),
	    "--port and --server port disagree: %s", err);
}

static void
test_numbers(void)
{
	T_CHECK(OK("--port", "25", "example.com") && cfg.port == 25, "--port 25");
	T_CHECK(OK("--port", "1", "example.com") && cfg.port == 1, "--port 1");
	T_CHECK(OK("--port", "65535", "example.com") && cfg.port == 65535, "--port 65535");
	T_CHECK(OK("--port=2525", "example.com") && cfg.port == 2525, "--port=2525");
	T_CHECK(BAD("--port: '0' is not a number from 1 to 65535", "--port", "0", "example.com"),
	    "--port 0: %s", err);
	T_CHECK(BAD("1 to 65535", "--port", "65536", "example.com"), "--port 65536: %s", err);
	T_CHECK(BAD("1 to 65535", "--port", "-1", "example.com"), "--port -1: %s", err);
	T_CHECK(BAD("1 to 65535", "--port", "25abc", "example.com"), "--port 25abc: %s", err);
	T_CHECK(BAD("1 to 65535", "--port", "0x19", "example.com"), "--port 0x19: %s", err);
	T_CHECK(BAD("1 to 65535", "--port", " 25", "example.com"), "--port ' 25': %s", err);
	T_CHECK(BAD("1 to 65535", "--port", "+25", "example.com"), "--port +25: %s", err);
	T_CHECK(BAD("empty value", "--port", "", "example.com"), "--port '': %s", err);
	T_CHECK(BAD("1 to 65535", "--port", "99999999999999999999999", "example.com"),
	    "--port overflow: %s", err);

	T_CHECK(OK("--concurrency", "1", "example.com") && cfg.concurrency == 1, "--concurrency 1");
	T_CHECK(OK("--concurrency", "256", "example.com") && cfg.concurrency == 256,
	    "--concurrency 256");
	T_CHECK(BAD("1 to 256", "--concurrency", "0", "example.com"), "--concurrency 0: %s", err);
	T_CHECK(
	    BAD("1 to 256", "--concurrency", "257", "example.com"), "--concurrency 257: %s", err);
	T_CHECK(
	    BAD("1 to 256", "--concurrency", "1e9", "example.com"), "--concurrency 1e9: %s", err);
	T_CHECK(BAD("1 to 256", "--concurrency", "1000000000", "example.com"),
	    "--concurrency 1000000000: %s", err);

	T_CHECK(OK("--seed", "42", "example.com") && cfg.have_seed && cfg.seed == 42, "--seed 42");
	T_CHECK(OK("--seed", "0", "example.com") && cfg.have_seed && cfg.seed == 0, "--seed 0");
	T_CHECK(OK("--seed", "18446744073709551615", "example.com") && cfg.seed == UINT64_MAX,
	    "--seed 2^64-1");
	T_CHECK(
	    BAD("--seed", "--seed", "18446744073709551616", "example.com"), "--seed 2^64: %s", err);
	T_CHECK(BAD("--seed", "--seed", "-1", "example.com"), "--seed -1: %s", err);

	T_CHECK(OK("--dns-tries", "3", "example.com") && cfg.dns_tries == 3, "--dns-tries 3");
	T_CHECK(BAD("1 to 10", "--dns-tries", "0", "example.com"), "--dns-tries 0: %s", err);
	T_CHECK(BAD("1 to 10", "--dns-tries", "11", "example.com"), "--dns-tries 11: %s", err);
}

/* One deadline option: accepted and refused values. */
static void
check_seconds(const char *opt, int64_t *field)
{
	static const char *bad[] = {"0", "0.0", "-1", "NaN", "nan", "inf", "1e12", "10x", "", " 1",
	    "1.", ".5", "3601", "3600.001", "0.0001", "0x10", "1,5", "99999999999999999999", NULL};
	size_t i;

	T_CHECK(OK(opt, "0.5", "example.com") && *field == 500, "%s 0.5 -> 500 ms", opt);
	T_CHECK(OK(opt, "10", "example.com") && *field == 10000, "%s 10 -> 10000 ms", opt);
	T_CHECK(OK(opt, "0.001", "example.com") && *field == 1, "%s 0.001 -> 1 ms", opt);
	T_CHECK(OK(opt, "1.23456", "example.com") && *field == 1234, "%s 1.23456 -> 1234 ms", opt);
	T_CHECK(OK(opt, "3600", "example.com") && *field == 3600000, "%s 3600", opt);
	for (i = 0; bad[i] != NULL; i++)
		T_CHECK(BAD("number of seconds", opt, bad[i], "example.com") &&
			strstr(err, opt) != NULL,
		    "%s '%s' refused: %s", opt, bad[i], err);
}

static void
test_timeouts(void)
{
	check_seconds("--timeout-connect", &cfg.timeout_connect_ms);
	check_seconds("--timeout-banner", &cfg.timeout_banner_ms);
	check_seconds("--timeout-command", &cfg.timeout_command_ms);
	check_seconds("--timeout-total", &cfg.timeout_total_ms);
	T_CHECK(OK("--dns-timeout", "0.5", "example.com") && cfg.dns_timeout_ms == 500,
	    "--dns-timeout 0.5");
	T_CHECK(OK("--dns-timeout", "3", "example.com") && cfg.dns_timeout_ms == 3000,
	    "--dns-timeout 3");
	T_CHECK(BAD("number of seconds", "--dns-timeout", "0", "example.com"),
	    "--dns-timeout 0: %s", err);
	T_CHECK(BAD("number of seconds", "--dns-timeout", "NaN", "example.com"),
	    "--dns-timeout NaN: %s", err);
}

static void
test_connection(void)
{
	T_CHECK(OK("--source", "192.0.2.7", "example.com") && streq(cfg.source, "192.0.2.7"),
	    "--source IPv4");
	T_CHECK(OK("--source", "2001:db8::7", "example.com") && streq(cfg.source, "2001:db8::7"),
	    "--source IPv6");
	T_CHECK(OK("--source", "[2001:db8::7]", "example.com") && streq(cfg.source, "2001:db8::7"),
	    "--source [IPv6] loses its brackets");
	T_CHECK(BAD("not an IPv4 or IPv6", "--source", "host.example", "example.com"),
	    "--source name: %s", err);
	T_CHECK(BAD("not an IPv4 or IPv6", "--source", "1.2.3", "example.com"),
	    "--source 1.2.3: %s", err);
	T_CHECK(BAD("--source: control", "--source", "1.2.3.4\n", "example.com"), "--source LF: %s",
	    err);

	T_CHECK(
	    OK("--ehlo", "mail.example.com", "example.com") && streq(cfg.ehlo, "mail.example.com"),
	    "--ehlo FQDN");
	T_CHECK(
	    OK("--ehlo", "Mail.Example.COM", "example.com") && streq(cfg.ehlo, "mail.example.com"),
	    "--ehlo lower-cased");
	T_CHECK(OK("--ehlo", "bücher.test", "example.com") && streq(cfg.ehlo, "xn--bcher-kva.test"),
	    "--ehlo U-label sent as A-label (RFC 6531 §3.7.1)");
	T_CHECK(OK("--ehlo", "[192.0.2.10]", "example.com") && streq(cfg.ehlo, "[192.0.2.10]"),
	    "--ehlo IPv4 literal");
	T_CHECK(OK("--ehlo", "[IPv6:2001:db8::10]", "example.com") &&
		streq(cfg.ehlo, "[IPv6:2001:db8::10]"),
	    "--ehlo IPv6 literal");
	T_CHECK(BAD("--ehlo: control character 0x0d", "--ehlo", "x.example\r\nMAIL FROM:<a@b>",
		    "example.com"),
	    "--ehlo CRLF (GHSA-vvjj-xcjg-gr5g): %s", err);
	T_CHECK(BAD("character ' '", "--ehlo", "a b", "example.com"), "--ehlo 'a b': %s", err);
	T_CHECK(BAD("starts with '-'", "--ehlo", "-x", "example.com"), "--ehlo -x: %s", err);
	T_CHECK(BAD("fully qualified", "--ehlo", "localhost", "example.com"), "--ehlo non-FQDN: %s",
	    err);
	T_CHECK(BAD("address literal", "--ehlo", "[999.1.1.1]", "example.com"),
	    "--ehlo [999.1.1.1]: %s", err);
	T_CHECK(BAD("address literal", "--ehlo", "[IPv6:zz]", "example.com"),
	    "--ehlo [IPv6:zz]: %s", err);
	T_CHECK(
	    BAD("[192.0.2.1]", "--ehlo", "192.0.2.1", "example.com"), "--ehlo bare IPv4: %s", err);
	T_CHECK(BAD("[IPv6:2001:db8::1]", "--ehlo", "2001:db8::1", "example.com"),
	    "--ehlo bare IPv6: %s", err);
	T_CHECK(BAD("character '_'", "--ehlo", "my_host.example", "example.com"),
	    "--ehlo underscore: %s", err);

	T_CHECK(OK("-4", "example.com") && cfg.family == MXT_FAMILY_V4, "-4");
	T_CHECK(OK("-6", "example.com") && cfg.family == MXT_FAMILY_V6, "-6");
	T_CHECK(BAD("-4 and -6", "-4", "-6", "example.com"), "-4 with -6: %s", err);
	T_CHECK(BAD("-4 and -6", "-46", "example.com"), "-46: %s", err);
}

/* --dnsbl (repeatable, canonical zone names, a cap), --no-dnsbl, --no-spf. */
static void
test_reputation(void)
{
	char *many[2 * MXT_DNSBL_ZONES_MAX + 4];
	char zones[MXT_DNSBL_ZONES_MAX + 1][32];
	FILE *out = fopen("/dev/null", "w");
	int i, n = 0, rc;

	T_CHECK(OK("example.com") && cfg.ndnsbl == 0 && !cfg.no_dnsbl && !cfg.no_spf,
	    "no blocklist named by default");
	T_CHECK(OK("--dnsbl", "Zen.Spamhaus.ORG.", "--dnsbl", "b.barracudacentral.org",
		    "example.com") &&
		cfg.ndnsbl == 2 && streq(cfg.dnsbl[0], "zen.spamhaus.org") &&
		streq(cfg.dnsbl[1], "b.barracudacentral.org"),
	    "--dnsbl repeatable, lower-cased, trailing dot dropped");
	T_CHECK(BAD("not a DNS zone", "--dnsbl", "zen spamhaus", "example.com"),
	    "--dnsbl with a space: %s", err);
	T_CHECK(BAD("not a DNS zone", "--dnsbl", "localhost", "example.com"),
	    "--dnsbl single label: %s", err);
	T_CHECK(BAD("--dnsbl: control", "--dnsbl", "zen.spamhaus.org\n", "example.com"),
	    "--dnsbl LF: %s", err);
	for (i = 0; i <= MXT_DNSBL_ZONES_MAX; i++) {
		snprintf(zones[i], sizeof(zones[i]), "l%d.example.net", i);
		many[n++] = "--dnsbl";
		many[n++] = zones[i];
	}
	many[n++] = "example.com";
	many[n] = NULL;
	mxt_config_free(&cfg);
	mxt_config_init(&cfg);
	{
		char *argv[2 * MXT_DNSBL_ZONES_MAX + 6];

		argv[0] = "mxtrace";
		for (i = 0; i <= n; i++)
			argv[i + 1] = many[i];
		rc = mxt_options_parse(n + 1, argv, &cfg, out, err, sizeof(err));
	}
	T_CHECK(
	    rc == -1 && strstr(err, "at most 16") != NULL, "a 17th --dnsbl is refused: %s", err);
	fclose(out);
	T_CHECK(OK("--no-dnsbl", "--no-spf", "example.com") && cfg.no_dnsbl && cfg.no_spf,
	    "--no-dnsbl, --no-spf");
}

static void
test_tls(void)
{
	T_CHECK(OK("--starttls", "require", "example.com") && cfg.starttls == MXT_STARTTLS_REQUIRE,
	    "--starttls require");
	T_CHECK(OK("--starttls", "never", "example.com") && cfg.starttls == MXT_STARTTLS_NEVER,
	    "--starttls never");
	T_CHECK(OK("--starttls", "AUTO", "example.com") && cfg.starttls == MXT_STARTTLS_AUTO,
	    "--starttls AUTO (ASCII case-insensitive)");
	T_CHECK(BAD("not one of: auto, require, never", "--starttls", "maybe", "example.com"),
	    "--starttls maybe: %s", err);
	T_CHECK(OK("--tls-on-connect", "example.com") && cfg.tls_on_connect && cfg.port == 465,
	    "--tls-on-connect, port 465");
	T_CHECK(OK("--tls-on-connect", "--port", "2465", "example.com") && cfg.port == 2465,
	    "--tls-on-connect keeps an explicit port");
	T_CHECK(OK("--tls-on-connect", "--starttls", "never", "example.com"),
	    "--tls-on-connect with --starttls never is allowed");
	T_CHECK(BAD("contradicts", "--tls-on-connect", "--starttls", "require", "example.com"),
	    "--tls-on-connect with --starttls require: %s", err);
	T_CHECK(OK("--ca-file", "/etc/ssl/certs/ca.pem", "example.com") &&
		streq(cfg.ca_file, "/etc/ssl/certs/ca.pem"),
	    "--ca-file");
	T_CHECK(BAD("empty file name", "--ca-file", "", "example.com"), "--ca-file '': %s", err);
	T_CHECK(
	    BAD("--ca-file: control", "--ca-file", "a\nb", "example.com"), "--ca-file LF: %s", err);
}

static void
test_session_output(void)
{
	static const struct {
		const char *name;
		enum mxt_quit_after v;
	} qa[] = {
	    {"connect", MXT_QUIT_AFTER_CONNECT},
	    {"banner", MXT_QUIT_AFTER_BANNER},
	    {"ehlo", MXT_QUIT_AFTER_EHLO},
	    {"tls", MXT_QUIT_AFTER_TLS},
	    {"auth", MXT_QUIT_AFTER_AUTH},
	    {"mail", MXT_QUIT_AFTER_MAIL},
	    {"rcpt", MXT_QUIT_AFTER_RCPT},
	};
	size_t i;

	for (i = 0; i < sizeof(qa) / sizeof(qa[0]); i++)
		T_CHECK(OK("--quit-after", qa[i].name, "example.com") && cfg.quit_after == qa[i].v,
		    "--quit-after %s", qa[i].name);
	T_CHECK(
	    BAD("not one of", "--quit-after", "data", "example.com"), "--quit-after data: %s", err);
	T_CHECK(BAD("no TLS stage", "--quit-after", "tls", "--starttls", "never", "example.com"),
	    "--quit-after tls with --starttls never: %s", err);

	T_CHECK(OK("--json", "example.com") && cfg.format == MXT_FORMAT_JSON, "--json");
	T_CHECK(OK("--format", "json", "example.com") && cfg.format == MXT_FORMAT_JSON,
	    "--format json");
	T_CHECK(OK("--json", "--format", "text", "example.com") && cfg.format == MXT_FORMAT_TEXT,
	    "--format text after --json: the last wins");
	T_CHECK(OK("--format", "nagios", "example.com") && cfg.format == MXT_FORMAT_NAGIOS,
	    "--format nagios");
	T_CHECK(
	    OK("--format", "openmetrics", "example.com") && cfg.format == MXT_FORMAT_OPENMETRICS,
	    "--format openmetrics");
	T_CHECK(
	    BAD("not one of: text, json, nagios, openmetrics", "--format", "xml", "example.com"),
	    "--format xml: %s", err);
	T_CHECK(OK("--transcript", "example.com") && cfg.transcript, "--transcript");
	T_CHECK(OK("--color", "always", "example.com") && cfg.color == 1, "--color always");
	T_CHECK(OK("--color", "never", "example.com") && cfg.color == 0, "--color never");
	T_CHECK(OK("--color", "auto", "example.com") && cfg.color == -1, "--color auto");
	T_CHECK(BAD("not one of", "--color", "yes", "example.com"), "--color yes: %s", err);
	T_CHECK(OK("-v", "-v", "-v", "example.com") && cfg.verbose == 3, "-v -v -v");
	T_CHECK(OK("-vv", "example.com") && cfg.verbose == 2, "-vv");
	T_CHECK(OK("-q", "example.com") && cfg.quiet, "-q");
	T_CHECK(BAD("-v and -q", "-vq", "example.com"), "-v with -q: %s", err);

	T_CHECK(OK("--resolver", "127.0.0.1", "example.com") && streq(cfg.resolver, "127.0.0.1"),
	    "--resolver IPv4");
	T_CHECK(OK("--resolver", "127.0.0.1:5353", "example.com") &&
		streq(cfg.resolver, "127.0.0.1:5353"),
	    "--resolver IPv4:port");
	T_CHECK(OK("--resolver", "[::1]:53", "example.com") && streq(cfg.resolver, "[::1]:53"),
	    "--resolver [::1]:53");
	T_CHECK(OK("--resolver", "[::1]", "example.com") && streq(cfg.resolver, "[::1]"),
	    "--resolver [::1]");
	T_CHECK(BAD("1 to 65535", "--resolver", "1.2.3.4:99999", "example.com"),
	    "--resolver 1.2.3.4:99999: %s", err);
	T_CHECK(BAD("in brackets", "--resolver", "::1", "example.com"), "--resolver ::1: %s", err);
	T_CHECK(BAD("not an IP address", "--resolver", "dns.example", "example.com"),
	    "--resolver name: %s", err);
	T_CHECK(BAD("not an IP address", "--resolver", "1.2.3.4,5.6.7.8", "example.com"),
	    "--resolver list: %s", err);
	T_CHECK(
	    BAD("1 to 65535", "--resolver", "[::1]:0", "example.com"), "--resolver :0: %s", err);
}

/* Authentication, --send and its message, --batch and the remaining rows. */
static void
test_auth_send_batch(void)
{
	T_CHECK(OK("--bat=x") && streq(cfg.batch, "x"), "an abbreviation of --batch");

	T_CHECK(OK("--format", "nagios", "example.com") && cfg.format == MXT_FORMAT_NAGIOS,
	    "--format nagios");
	T_CHECK(
	    OK("--format", "OpenMetrics", "example.com") && cfg.format == MXT_FORMAT_OPENMETRICS,
	    "--format openmetrics");
	T_CHECK(OK("--user", "alice", "--password-file", "/run/pw", "--auth", "cram-md5",
		    "--allow-plaintext-auth", "example.com") &&
		streq(cfg.user, "alice") && streq(cfg.password_file, "/run/pw") &&
		streq(cfg.auth_mech, "CRAM-MD5") && cfg.allow_plaintext_auth,
	    "--user, --password-file, --auth, --allow-plaintext-auth");
	T_CHECK(
	    OK("--user", "u", "--auth", "plain", "example.com") && streq(cfg.auth_mech, "PLAIN"),
	    "--auth plain canonical PLAIN");
	T_CHECK(
	    OK("--user", "u", "--auth", "LOGIN", "example.com") && streq(cfg.auth_mech, "LOGIN"),
	    "--auth LOGIN");
	T_CHECK(BAD("not one of: PLAIN, LOGIN, CRAM-MD5", "--user", "u", "--auth", "XOAUTH2",
		    "example.com"),
	    "--auth XOAUTH2: %s", err);
	T_CHECK(BAD("--password-file needs --user", "--password-file", "/run/pw", "example.com"),
	    "--password-file without --user: %s", err);
	T_CHECK(BAD("--auth needs --user", "--auth", "PLAIN", "example.com"),
	    "--auth without --user: %s", err);
	T_CHECK(BAD("--user: control character 0x01", "--user", "a\x01", "example.com"),
	    "--user with a control byte: %s", err);
	T_CHECK(BAD("--user: control character 0x0d", "--user", "a\r\nb", "example.com"),
	    "--user CRLF: %s", err);
	T_CHECK(BAD("empty user name", "--user", "", "example.com"), "--user '': %s", err);

	T_CHECK(
	    OK("--send", "user@example.com") && cfg.send && cfg.quit_after == MXT_QUIT_AFTER_NONE,
	    "--send runs to the end");
	T_CHECK(OK("--send", "--to", "a@b.example", "example.com") && cfg.send, "--send with --to");
	T_CHECK(BAD("--send needs an explicit recipient", "--send", "example.com"),
	    "--send without a recipient: %s", err);
	T_CHECK(BAD("--quit-after contradicts", "--send", "--quit-after", "rcpt", "u@example.com"),
	    "--send with --quit-after: %s", err);
	T_CHECK(OK("--send", "--body", "line 1\r\nline 2\n\ttab", "u@example.com") &&
		streq(cfg.body, "line 1\r\nline 2\n\ttab"),
	    "--body keeps CR, LF and TAB");
	T_CHECK(
	    BAD("--body: control character 0x1b", "--send", "--body", "x\x1b[2J", "u@example.com"),
	    "--body with ESC: %s", err);
	T_CHECK(OK("--send", "--body-file", "msg.txt", "u@example.com") &&
		streq(cfg.body_file, "msg.txt"),
	    "--body-file");
	T_CHECK(BAD("--body is only used with --send", "--body", "x", "u@example.com"),
	    "--body without --send: %s", err);
	T_CHECK(BAD("--body-file is only used with --send", "--body-file", "f", "u@example.com"),
	    "--body-file without --send: %s", err);
	T_CHECK(BAD("not both", "--send", "--body", "x", "--body-file", "f", "u@example.com"),
	    "--body and --body-file: %s", err);
	T_CHECK(OK("--size", "1000000", "example.com") && cfg.size == 1000000, "--size");
	T_CHECK(BAD("--size", "--size", "0", "example.com"), "--size 0: %s", err);
	T_CHECK(BAD("--size", "--size", "1e6", "example.com"), "--size 1e6: %s", err);
	T_CHECK(OK("--submission", "example.com") && cfg.submission && cfg.port == 587,
	    "--submission: port 587");
	T_CHECK(OK("--submission", "--port", "2587", "example.com") && cfg.port == 2587,
	    "--submission keeps an explicit port");
	T_CHECK(OK("--egress-ip", "198.51.100.1", "example.com") &&
		streq(cfg.egress_ip, "198.51.100.1"),
	    "--egress-ip");
	T_CHECK(BAD("not an IPv4 or IPv6", "--egress-ip", "me.example", "example.com"),
	    "--egress-ip name: %s", err);
	T_CHECK(OK("--cert-warn-days", "30", "example.com") && cfg.cert_warn_days == 30,
	    "--cert-warn-days 30");
	T_CHECK(BAD("0 to 3650", "--cert-warn-days", "-1", "example.com"),
	    "--cert-warn-days -1: %s", err);
	T_CHECK(
	    OK("--batch", "targets.txt") && streq(cfg.batch, "targets.txt") && cfg.target == NULL,
	    "--batch needs no TARGET");
	T_CHECK(BAD("do not give TARGET", "--batch", "targets.txt", "example.com"),
	    "--batch with TARGET: %s", err);
	T_CHECK(OK("--format", "openmetrics", "x.test"), "every --format value accepted");
}

/* The exporter's options: --config and --max-probes need --listen, which
 * takes no TARGET. */
static void
test_exporter_options(void)
{
	T_CHECK(OK("--listen", "9125", "--max-probes", "4", "--config", "x.conf") &&
		cfg.max_probes == 4 && streq(cfg.exporter_config, "x.conf"),
	    "--listen with --max-probes and --config: %s", err);
	T_CHECK(BAD("--max-probes is only used with --listen", "--max-probes", "4", "example.com"),
	    "--max-probes without --listen: %s", err);
	T_CHECK(BAD("--max-probes is only used with --listen", "--max-probes", "4"),
	    "--max-probes alone: %s", err);
	T_CHECK(BAD("--config is only used with --listen", "--config", "x.conf", "example.com"),
	    "--config without --listen: %s", err);
	T_CHECK(BAD("do not give TARGET", "--listen", "9125", "example.com"),
	    "--listen with TARGET: %s", err);
}

static char *capture(const char *opt, int *rc);
static int has_word(const char *s, const char *prefix, const char *name);

/* The number of rows of the option table. */
static size_t
table_rows(void)
{
	struct mxt_opt_info o;
	size_t n = 0;

	while (mxt_options_row(n, &o))
		n++;
	return n;
}

/* The number in a row's field of the global cfg. */
static uint64_t
field_value(const struct mxt_opt_info *o)
{
	const char *p = (const char *)&cfg + o->off;
	uint64_t v = 0;
	int i;

	if (o->size == sizeof(int)) {
		memcpy(&i, p, sizeof(i));
		return (uint64_t)i;
	}
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A value for a bounded row: decimal, or seconds with 3 decimals for ms. */
static void
bound_text(const struct mxt_opt_info *o, uint64_t v, char *buf, size_t len)
{
	if (o->bound == MXT_OPT_BOUND_SECONDS)
		snprintf(buf, len, "%ju.%03ju", (uintmax_t)(v / 1000), (uintmax_t)(v % 1000));
	else
		snprintf(buf, len, "%ju", (uintmax_t)v);
}

/* Every bounded row of the table takes its minimum and its maximum, stores
 * them in its field, and refuses one past either end. */
static void
test_table_bounds(void)
{
	struct mxt_opt_info o;
	char opt[64], val[64];
	const char *ctx1, *ctx2;
	size_t i, rows = 0, checked = 0;

	T_CHECK(table_rows() >= 40, "the option table has %zu rows", table_rows());
	for (i = 0; mxt_options_row(i, &o); i++)
		if (o.name != NULL || o.letter != 0)
			rows++;
	T_CHECK(rows == table_rows(), "every row of the table has a long or a short name");
	rows = 0;
	for (i = 0; mxt_options_row(i, &o); i++) {
		const char *want;
		int ok;

		if (o.bound == MXT_OPT_BOUND_NONE)
			continue;
		rows++;
		want = o.bound == MXT_OPT_BOUND_SECONDS ? "is not a number of seconds"
							: "is not a number from";
		T_CHECK(o.name != NULL && o.arg != NULL && (o.size == sizeof(int) || o.size == 8),
		    "bounded row %zu is a long option with an argument and a numeric field", i);
		if (o.name == NULL)
			continue;
		snprintf(opt, sizeof(opt), "--%s", o.name);
		/* The exporter's --max-probes is only used with --listen (no
		 * TARGET); a NULL second word ends the argument list. */
		if (strcmp(o.name, "max-probes") == 0) {
			ctx1 = "--listen";
			ctx2 = "9125";
		} else {
			ctx1 = "example.com";
			ctx2 = NULL;
		}
		bound_text(&o, o.min, val, sizeof(val));
		ok = OK(opt, val, ctx1, ctx2) && field_value(&o) == o.min;
		bound_text(&o, o.max, val, sizeof(val));
		ok = ok && OK(opt, val, ctx1, ctx2) && field_value(&o) == o.max;
		T_CHECK(ok, "%s takes its bounds %ju and %ju: %s", opt, (uintmax_t)o.min,
		    (uintmax_t)o.max, err);
		if (o.max < UINT64_MAX) {
			bound_text(&o, o.max + 1, val, sizeof(val));
			T_CHECK(
			    BAD(want, opt, val, ctx1, ctx2), "%s %s refused: %s", opt, val, err);
		}
		if (o.min > 0) {
			bound_text(&o, o.min - 1, val, sizeof(val));
			T_CHECK(
			    BAD(want, opt, val, ctx1, ctx2), "%s %s refused: %s", opt, val, err);
		}
		checked++;
	}
	T_CHECK(rows >= 11 && checked == rows, "%zu of %zu bounded rows checked", checked, rows);
}

/* Every keyword value of the table parses in any case, --help lists it, and
 * a wrong value is refused with the whole list. */
static void
test_table_values(void)
{
	struct mxt_opt_info o;
	char opt[64], val[64], list[256];
	char *help, *flat, *w;
	const char *r;
	size_t i, j, rows = 0, values = 0;
	int rc;

	help = capture("--help", &rc);
	flat = help != NULL ? strdup(help) : NULL;
	/* Join wrapped lines: collapse runs of white space. */
	for (r = help, w = flat; flat != NULL && *r != '\0'; r++)
		if (!((*r == ' ' || *r == '\n') && w > flat && w[-1] == ' '))
			*w++ = *r == '\n' ? ' ' : *r;
	if (flat != NULL)
		*w = '\0';
	T_CHECK(flat != NULL, "--help captured");
	for (i = 0; flat != NULL && mxt_options_row(i, &o); i++) {
		size_t n = 0;

		if (o.values[0] == NULL || o.name == NULL)
			continue;
		rows++;
		snprintf(opt, sizeof(opt), "--%s", o.name);
		list[0] = '\0';
		for (j = 0; o.values[j] != NULL; j++) {
			size_t k;

			for (k = 0; o.values[j][k] != '\0' && k + 1 < sizeof(val); k++)
				val[k] =
				    (char)(j % 2 == 0 ? toupper((unsigned char)o.values[j][k])
						      : tolower((unsigned char)o.values[j][k]));
			val[k] = '\0';
			T_CHECK(
			    OK("--user", "u", opt, val, "example.com"), "%s %s: %s", opt, val, err);
			T_CHECK(
			    has_word(flat, " ", o.values[j]) || has_word(flat, ", ", o.values[j]),
			    "--help lists %s %s", opt, o.values[j]);
			n += (size_t)snprintf(
			    list + n, sizeof(list) - n, "%s%s", j > 0 ? ", " : "", o.values[j]);
			values++;
		}
		T_CHECK(BAD(list, "--user", "u", opt, "nope", "example.com"),
		    "%s nope lists every value: %s", opt, err);
	}
	T_CHECK(rows >= 5 && values >= 20, "%zu keyword values of %zu rows checked", values, rows);
	free(flat);
	free(help);
}

/* Every option that takes a string refuses CR/LF and names itself (RFC 5321 §2.3.8). */
static void
test_injection(void)
{
	static const char *const opts[] = {"from", "to", "server", "source", "ehlo", "egress-ip",
	    "ca-file", "user", "password-file", "body-file", "batch", "resolver", "auth",
	    "starttls", "format", "color", "quit-after", "port", NULL};
	char opt[64], want[128];
	size_t i;

	for (i = 0; opts[i] != NULL; i++) {
		snprintf(opt, sizeof(opt), "--%s", opts[i]);
		snprintf(want, sizeof(want), "mxtrace: %s:", opt);
		T_CHECK(parse(NULL, opt, "a@b.example\r\nRSET", "--user", "u", "u@example.com",
			    (char *)NULL) == -1 &&
			strncmp(err, want, strlen(want)) == 0 && clean_err(),
		    "%s with CRLF refused, naming the option: %s", opt, err);
	}
	T_CHECK(BAD("TARGET: control character 0x0d", "a.example\r\nQUIT"), "TARGET CRLF: %s", err);
	T_CHECK(
	    OK("--from", "a@b.example", "example.com"), "a clean parse after the injection test");
}

static void
test_getopt(void)
{
	T_CHECK(BAD("unknown or ambiguous option '--bogus'", "--bogus", "example.com"),
	    "unknown long option: %s", err);
	T_CHECK(BAD("unknown option '-x'", "-x", "example.com"), "unknown short option: %s", err);
	T_CHECK(BAD("unknown option '-\\x1b'", "-\x1b", "example.com"),
	    "unknown short option byte is escaped: %s", err);
	T_CHECK(BAD("'--\\x1b[31m'", "--\x1b[31m", "example.com"),
	    "unknown long option is escaped: %s", err);
	T_CHECK(BAD("option --port needs an argument", "example.com", "--port"),
	    "missing argument: %s", err);
	T_CHECK(BAD("option --help does not take an argument", "--help=x"),
	    "argument to a flag: %s", err);
	T_CHECK(BAD("ambiguous", "--time=1", "example.com"), "ambiguous abbreviation: %s", err);
	T_CHECK(OK("--trans", "example.com") && cfg.transcript, "unambiguous abbreviation");
	T_CHECK(
	    OK("example.com", "--json") && cfg.format == MXT_FORMAT_JSON, "options after TARGET");
	T_CHECK(OK("--to", "a@b.example", "--from", "c@d.example", "example.com") && cfg.nto == 1 &&
		streq(cfg.from, "c@d.example"),
	    "the same cfg parsed again (no leak under ASan)");
	{
		char *argv[] = {"mxtrace", "--from", "a@b.example", "example.com", NULL};

		mxt_config_free(&cfg);
		mxt_config_init(&cfg);
		T_CHECK(mxt_options_parse(4, argv, &cfg, stdout, err, sizeof(err)) == 0 &&
			mxt_options_parse(4, argv, &cfg, stdout, err, sizeof(err)) == 0 &&
			streq(cfg.domain, "example.com") && streq(cfg.from, "a@b.example"),
		    "parsing twice into one cfg replaces its strings (no leak under ASan)");
	}
	{
		char small[12];
		char *argv[] = {"mxtrace", "--port", "0", "example.com", NULL};

		mxt_config_free(&cfg);
		mxt_config_init(&cfg);
		T_CHECK(mxt_options_parse(4, argv, &cfg, stdout, small, sizeof(small)) == -1 &&
			strlen(small) == sizeof(small) - 1,
		    "a short error buffer is truncated, not overrun");
	}
}

/* Read a whole stream written to a memory buffer. */
static char *
capture(const char *opt, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *argv[] = {"mxtrace", (char *)opt, NULL};

	mxt_config_free(&cfg);
	mxt_config_init(&cfg);
	*rc = mxt_options_parse(2, argv, &cfg, f, err, sizeof(err));
	fclose(f);
	return buf;
}

/* s contains "--name" not followed by a name character. */
static int
has_word(const char *s, const char *prefix, const char *name)
{
	size_t pl = strlen(prefix), nl = strlen(name);
	const char *p = s;

	while ((p = strstr(p, prefix)) != NULL) {
		if (strncmp(p + pl, name, nl) == 0) {
			char next = p[pl + nl];

			/* "\\-" continues a roff name. */
			if (!((next >= 'a' && next <= 'z') || (next >= '0' && next <= '9') ||
				next == '-' || (next == '\\' && p[pl + nl + 1] == '-')))
				return 1;
		}
		p += pl;
	}
	return 0;
}

static void
test_help_version(void)
{
	const char *line;
	char *help, *ver, first[64];
	struct mxt_opt_info o;
	size_t i;
	int rc, width_ok = 1, lines = 0, all = 1;

	help = capture("--help", &rc);
	T_CHECK(rc == MXT_OPT_EXIT_OK && help != NULL && strncmp(help, "Usage: mxtrace", 14) == 0,
	    "--help prints usage and returns MXT_OPT_EXIT_OK");
	free(help);
	help = capture("-h", &rc);
	T_CHECK(rc == MXT_OPT_EXIT_OK, "-h");
	for (line = help; line != NULL && *line != '\0'; lines++) {
		const char *nl = strchr(line, '\n');
		size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line), chars = 0, k;

		for (k = 0; k < n; k++) /* count UTF-8 characters, not bytes */
			if (((unsigned char)line[k] & 0xc0) != 0x80)
				chars++;
		if (chars > 79 || memchr(line, '\t', n) != NULL) {
			width_ok = 0;
			printf("# too wide: %.*s\n", (int)n, line);
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	T_CHECK(width_ok && lines > 40, "--help: %d lines, none over 79 columns, no tabs", lines);
	for (i = 0; mxt_options_row(i, &o); i++) {
		char s[4] = {'-', (char)o.letter, '\0', '\0'};

		if (o.name != NULL && !has_word(help, "--", o.name)) {
			all = 0;
			printf("# --%s missing from --help\n", o.name);
		}
		if (o.letter != 0 && strstr(help, s) == NULL) {
			all = 0;
			printf("# -%c missing from --help\n", o.letter);
		}
	}
	T_CHECK(all && i == table_rows(), "--help lists every option of the table (%zu rows)", i);
	T_CHECK(strstr(help, "Exit status") != NULL && strstr(help, "  0 ") != NULL &&
		strstr(help, "  1 ") != NULL && strstr(help, "  2 ") != NULL &&
		strstr(help, "  3 ") != NULL && strstr(help, "  64 ") != NULL,
	    "--help lists exit codes 0, 1, 2, 3, 64");
	T_CHECK(strstr(help, "  70  internal error") != NULL &&
		strstr(help, "  74  the report could not be written") != NULL,
	    "--help lists exit codes 70 and 74 as mxtrace(1) does");
	T_CHECK(strstr(help, "MXTRACE_PASSWORD") != NULL && strstr(help, "NO_COLOR") != NULL,
	    "--help lists the environment");
	{
		char *flat = strdup(help), *w = flat;
		const char *r;

		/* Join wrapped lines: collapse runs of white space. */
		for (r = help; flat != NULL && *r != '\0'; r++)
			if (!((*r == ' ' || *r == '\n') && w > flat && w[-1] == ' '))
				*w++ = *r == '\n' ? ' ' : *r;
		if (flat != NULL)
			*w = '\0';
		T_CHECK(flat != NULL && strstr(flat, "openmetrics") != NULL,
		    "--help lists every --format value");
		free(flat);
	}
	free(help);

	ver = capture("--version", &rc);
	snprintf(first, sizeof(first), "mxtrace %s\n", MXT_VERSION);
	T_CHECK(rc == MXT_OPT_EXIT_OK && ver != NULL && strncmp(ver, first, strlen(first)) == 0 &&
		strcmp(MXT_VERSION, "0.1.0") == 0,
	    "--version first line 'mxtrace 0.1.0'");
	T_CHECK(ver != NULL && strstr(ver, "c-ares 1.") != NULL &&
		strstr(ver, "OpenSSL 3") != NULL && strstr(ver, "cJSON 1.") != NULL &&
		strstr(ver, "libidn2 2.") != NULL,
	    "--version lists c-ares, OpenSSL, cJSON, libidn2");
	free(ver);
	ver = capture("--version", &rc);
	T_CHECK(rc == MXT_OPT_EXIT_OK && cfg.target == NULL, "--version needs no TARGET");
	free(ver);
	{
		char *argv[] = {"mxtrace", "--port", "0", "--help", NULL};

		mxt_config_free(&cfg);
		mxt_config_init(&cfg);
		T_CHECK(mxt_options_parse(4, argv, &cfg, stdout, err, sizeof(err)) == -1,
		    "an error before --help wins");
	}
}

/* docs/mxtrace.1 describes every option in a .TP entry, marks none "Not
 * implemented yet.", and has the sections of the contract. */
static void
test_manpage(const char *path)
{
	static const char *const sections[] = {".TH MXTRACE 1", ".SH NAME", ".SH SYNOPSIS",
	    ".SH DESCRIPTION", ".SH OPTIONS", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES",
	    ".SH EXAMPLES", ".SH \"SEE ALSO\"", NULL};
	FILE *f = path != NULL ? fopen(path, "r") : NULL;
	char *doc = NULL, *p;
	const char *name;
	struct mxt_opt_info o;
	size_t len = 0, i, entries = 0;
	int letter, all = 1, marks = 1;

	T_CHECK(f != NULL, "man page %s opens", path != NULL ? path : "(no path given)");
	if (f == NULL)
		return;
	if (getdelim(&doc, &len, '\0', f) < 0) {
		free(doc);
		doc = NULL;
	}
	fclose(f);
	T_CHECK(doc != NULL, "man page read");
	if (doc == NULL)
		return;
	for (i = 0; sections[i] != NULL; i++)
		T_CHECK(strstr(doc, sections[i]) != NULL, "man page has %s", sections[i]);
	for (i = 0; mxt_options_row(i, &o); i++) {
		char tag[64], roff[64], *entry, *end, *yet;
		size_t k, n = 0;

		name = o.name;
		letter = o.letter;
		/* In roff source a hyphen is "\\-". */
		for (k = 0; name != NULL && name[k] != '\0' && n + 3 < sizeof(roff); k++) {
			if (name[k] == '-')
				roff[n++] = '\\';
			roff[n++] = name[k];
		}
		roff[n] = '\0';
		if (name != NULL) {
			snprintf(tag, sizeof(tag), "\\-\\-%s", roff);
			name = roff;
		} else
			snprintf(tag, sizeof(tag), "\\-%c", letter);
		if (name != NULL ? !has_word(doc, "\\-\\-", name) : strstr(doc, tag) == NULL) {
			all = 0;
			printf("# %s missing from the man page\n", tag);
			continue;
		}
		/* The entry: ".TP" then a line starting with ".B" that holds the tag. */
		entry = NULL;
		for (p = strstr(doc, ".TP\n"); p != NULL; p = strstr(p + 1, ".TP\n")) {
			char line[256], one[2] = {(char)letter, '\0'};
			char *l = p + 4, *le = strchr(l, '\n');

			if (le == NULL || l[0] != '.' || l[1] != 'B' ||
			    (size_t)(le - l) >= sizeof(line))
				continue;
			memcpy(line, l, (size_t)(le - l));
			line[le - l] = '\0';
			if (name != NULL ? has_word(line, "\\-\\-", name)
					 : has_word(line, "\\-", one)) {
				entry = le;
				break;
			}
		}
		if (entry == NULL) {
			marks = 0;
			printf("# no .TP entry for %s\n", tag);
			continue;
		}
		end = entry + 1;
		while (*end != '\0' && strncmp(end, ".TP\n", 4) != 0 &&
		    strncmp(end, ".SH", 3) != 0 && strncmp(end, ".SS", 3) != 0) {
			char *nl = strchr(end, '\n');

			end = nl != NULL ? nl + 1 : end + strlen(end);
		}
		yet = memmem(entry, (size_t)(end - entry), "Not implemented yet.", 20);
		if (yet != NULL) {
			marks = 0;
			printf("# %s: the man page says it is not implemented\n", tag);
		}
		entries++;
	}
	T_CHECK(all && i == table_rows(), "the man page names every option of the table");
	T_CHECK(marks && entries == table_rows(),
	    "the man page has an entry for each of the %zu rows, none 'Not implemented yet.'",
	    entries);
	T_CHECK(strstr(doc, "MXTRACE_PASSWORD") != NULL && strstr(doc, "NO_COLOR") != NULL,
	    "the man page lists the environment");
	T_CHECK(strstr(doc, ".B 64") != NULL || strstr(doc, "\n64\n") != NULL ||
		strstr(doc, ".BR 64") != NULL,
	    "the man page lists exit status 64");
	T_CHECK(strstr(doc, ".B 70\nInternal error") != NULL &&
		strstr(doc, ".B 74\nThe report could not be written") != NULL,
	    "the man page lists exit statuses 70 and 74");
	free(doc);
}

static void
test_locale(void)
{
	static const char *const locales[] = {"tr_TR.UTF-8", "de_DE.UTF-8", "C.UTF-8", NULL};
	size_t i;

	for (i = 0; locales[i] != NULL; i++) {
		if (setlocale(LC_ALL, locales[i]) == NULL)
			continue;
		T_CHECK(OK("--timeout-total", "0.5", "--quit-after", "EHLO", "--format", "JSON",
			    "--starttls", "REQUIRE", "I.EXAMPLE") &&
			cfg.timeout_total_ms == 500 && cfg.quit_after == MXT_QUIT_AFTER_EHLO &&
			cfg.starttls == MXT_STARTTLS_REQUIRE && streq(cfg.domain, "i.example"),
		    "parsing under LC_ALL=%s", locales[i]);
	}
	setlocale(LC_ALL, "C");
}

int
main(int argc, char **argv)
{
	mxt_config_init(&cfg);
	test_defaults();
	test_target();
	test_mailboxes();
	test_server();
	test_numbers();
	test_timeouts();
	test_connection();
	test_reputation();
	test_tls();
	test_session_output();
	test_auth_send_batch();
	test_exporter_options();
	test_table_bounds();
	test_table_values();
	test_injection();
	test_getopt();
	test_help_version();
	test_manpage(argc > 1 ? argv[1] : NULL);
	test_locale();
	mxt_config_free(&cfg);
	return t_done();
}
