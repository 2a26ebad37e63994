/* SPDX-License-Identifier: MIT */
/*
 * The exporter's module file (src/exporter/modules.c) read through the
 * CLI's option table (mxt_options_module()): what a module may set, what
 * it may not, and that every error names the file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/cli/options.h"
#include "mxtrace/exporter.h"
#include "t.h"

static char path[] = "/tmp/mxt-test-exporter-conf-XXXXXX";

static int
parse(int argc, char **argv, struct mxt_config *cfg, char *err, size_t errlen)
{
	return mxt_options_module(argc, argv, cfg, err, errlen);
}

/* Write text to the temporary file and read its modules. */
static int
read_text(const char *text, struct mxt_exporter_module **mods, size_t *n, char *err, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -2;
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return mxt_exporter_modules_read(path, parse, mods, n, err, len);
}

static void
test_good(void)
{
	struct mxt_exporter_module *m = NULL;
	size_t n = 0;
	char err[512];
	int rc;

	rc = read_text("# comment\n; another\n\n[module default]\ntimeout-total = 50\n"
		       "cert-warn-days=7\n\n[module mx_starttls]\n  starttls = require  \n"
		       "to = postmaster@example.com\nto = abuse@example.com\nport = 2525\n"
		       "[module v4-only]\nallow-loopback\nquit-after = banner\n",
	    &m, &n, err, sizeof(err));
	T_CHECK(rc == 0 && n == 3, "three modules read (%s)", err);
	if (rc != 0 || n != 3)
		return;
	T_CHECK(strcmp(m[0].name, "default") == 0 && m[0].cfg.timeout_total_ms == 50000 &&
		m[0].cfg.cert_warn_days == 7,
	    "default: timeout-total and cert-warn-days");
	T_CHECK(strcmp(m[1].name, "mx_starttls") == 0 &&
		m[1].cfg.starttls == MXT_STARTTLS_REQUIRE && m[1].cfg.nto == 2 &&
		strcmp(m[1].cfg.to[1], "abuse@example.com") == 0 && m[1].cfg.port == 2525,
	    "mx_starttls: starttls, two recipients, port");
	T_CHECK(strcmp(m[2].name, "v4-only") == 0 && m[2].cfg.allow_loopback == 1 &&
		m[2].cfg.quit_after == MXT_QUIT_AFTER_BANNER,
	    "a flag alone on its line, quit-after");
	T_CHECK(m[1].cfg.timeout_total_ms == 300000, "a module does not inherit another's options");
	mxt_exporter_modules_free(m, n);
}

static void
test_bad(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"[module a]\npassword = x\n", ":2: no password in the configuration file"},
	    {"[module a]\n\npass=x\n", ":3: no password"},
	    {"[module a]\nsend\n", "a scrape never sends a message"},
	    {"[module a]\nbody = x\n", "a scrape never sends a message"},
	    {"[module a]\njson\n", "is not a module option"},
	    {"[module a]\nlisten = 9125\n", "is not a module option"},
	    {"[module a]\nca-file = /x\n", "give it on the command line"},
	    {"[module a]\nresolver = 127.0.0.1\n", "give it on the command line"},
	    {"[module a]\nport = 0\n", "--port"}, {"[module a]\nto = not an address\n", "--to"},
	    {"[module a]\nehlo = bad\r\n", "--ehlo"},
	    {"[module a]\n-port = 25\n", "no leading '-'"},
	    {"[module a]\nnosuch\n", "unknown or ambiguous option"},
	    {"[module a]\n[module a]\n", "defined twice"},
	    {"port = 25\n", ":1: an option before the first [module NAME]"},
	    {"[module]\n", "write [module NAME]"}, {"[module a b]\n", "write [module NAME]"},
	    {"[modul a]\n", "write [module NAME]"}, {"[module \x1b[2J]\n", "\\x1b[2J"},
	    {"", "defines no [module NAME]"},
	    {"[module a]\nuser = u\n", NULL}, /* the CLI adds the password-file rule */
	};
	struct mxt_exporter_module *m;
	size_t i, n;
	char err[512];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		m = NULL;
		n = 0;
		rc = read_text(cases[i].text, &m, &n, err, sizeof(err));
		if (cases[i].want == NULL) {
			T_CHECK(rc == 0, "case %zu parses (%s)", i, err);
			mxt_exporter_modules_free(m, n);
			continue;
		}
		T_CHECK(rc == -1 && m == NULL && n == 0 && strstr(err, cases[i].want) != NULL &&
			strstr(err, path) != NULL && strchr(err, '\x1b') == NULL,
		    "case %zu refused with '%s': %s", i, cases[i].want, err);
	}
	T_CHECK(mxt_exporter_modules_read("/nonexistent/x.conf", parse, &m, &n, err, sizeof(err)) ==
		    -1 &&
		strstr(err, "cannot open --config") != NULL,
	    "a missing file: %s", err);
}

int
main(void)
{
	int fd = mkstemp(path);

	T_CHECK(fd >= 0, "temporary file");
	if (fd < 0)
		return t_done();
	close(fd);
	test_good();
	test_bad();
	unlink(path);
	return t_done();
}
