/* SPDX-License-Identifier: MIT */
/*
 * The --help text, generated from the option table (options.c) so it cannot
 * miss an option or a keyword value, and the --version text.  The exit
 * statuses and the environment listed here are those of docs/mxtrace.1.
 */
#include <stdio.h>
#include <string.h>

#include <ares.h>
#include <cjson/cJSON.h>
#include <idn2.h>
#include <openssl/crypto.h>

#include "mxt_config.h"
#include "opt.h"
#include "options.h"

/* Help layout: descriptions start at column HELP_COL; lines hold at most
 * HELP_WIDTH characters, so they fit an 80-column terminal. */
#define HELP_COL 30
#define HELP_WIDTH 79
/* Spelled out so the title is a constant; a static assertion keeps it equal. */
#define HELP_SECONDS_MAX "3600"

static const char *const group_title[GRP_COUNT] = {
    [GRP_ENVELOPE] = "Envelope",
    [GRP_CONNECTION] = "Connection",
    [GRP_TLS] = "TLS",
    [GRP_AUTH] = "Authentication",
    [GRP_SESSION] = "Session and message",
    [GRP_DNS] = "DNS",
    [GRP_REPUTATION] = "Reputation (blocklists, SPF, DMARC)",
    [GRP_TIMEOUT] =
	"Deadlines (SEC: seconds, decimals allowed, more than 0, at most " HELP_SECONDS_MAX ")",
    [GRP_OUTPUT] = "Output",
    [GRP_NAGIOS] = "Nagios plugin (--format nagios; RANGE: 10, 10:, ~:10, 10:20, @10:20)",
    [GRP_RUN] = "Run",
    [GRP_EXPORTER] = "Exporter (Prometheus)",
    [GRP_INFO] = "Information",
};
_Static_assert(OPT_SECONDS_MAX == 3600, "HELP_SECONDS_MAX is OPT_SECONDS_MAX");

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

/* The description of a row: its help text, then its keyword values. */
static void
describe(const struct opt_row *r, char *buf, size_t len)
{
	const struct opt_value *v;
	size_t n;

	snprintf(buf, len, "%s", r->help);
	for (v = r->values; v != NULL && v->name != NULL; v++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s%s", v == r->values ? " " : ", ", v->name,
		    v->is_default ? " (default)" : "");
	}
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
		for (i = 0; i < OPT_COUNT; i++) {
			const struct opt_row *r = &mxt_opt_rows[i];

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
	      "  3   unknown: the check was inconclusive (greylisting, a tarpit, DNS)\n"
	      "  64  usage error\n"
	      "  70  internal error (out of memory, no event loop)\n"
	      "  74  the report could not be written\n"
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
