/* SPDX-License-Identifier: MIT */
/*
 * After the option table has parsed every option and TARGET: the rules that
 * tie options together (what needs what, what excludes what), then the
 * values that follow from the options given (the port of --server,
 * --tls-on-connect or --submission; --send runs to the end).  One option's
 * own syntax is checked by its row in options.c, not here.
 */
#include <stddef.h>

#include "mxtrace/limits.h"
#include "opt.h"

/* Cross-option rules.  Returns 0, or -1 with the message in c's buffer. */
static int
check_combinations(struct opt_ctx *c)
{
	struct mxt_config *cfg = c->cfg;

	c->what = NULL;
	if (cfg->listen != NULL && (cfg->target != NULL || cfg->batch != NULL))
		return mxt_opt_fail(c,
		    "--listen probes the targets scrapes ask for; do not give TARGET or --batch");
	if (cfg->listen == NULL && !c->module) {
		/* The exporter's own options (its group in the table): without
		 * --listen nothing reads them, so giving one is a mistake. */
		size_t i;

		for (i = 0; i < OPT_COUNT; i++)
			if (c->seen[i] && i != OPT_LISTEN && mxt_opt_rows[i].group == GRP_EXPORTER)
				return mxt_opt_fail(
				    c, "--%s is only used with --listen", mxt_opt_rows[i].name);
	}
	if (cfg->batch != NULL && cfg->target != NULL)
		return mxt_opt_fail(
		    c, "--batch reads its targets from FILE; do not give TARGET too");
	if (cfg->batch != NULL && (cfg->nto > 0 || cfg->server != NULL || cfg->send))
		return mxt_opt_fail(c,
		    "--batch takes each recipient from its FILE line: no --to, --server "
		    "or --send with it");
	if (cfg->target == NULL && cfg->batch == NULL && cfg->listen == NULL && !c->module) {
		if (cfg->server != NULL && cfg->nto == 0)
			return mxt_opt_fail(
			    c, "missing TARGET; with --server alone, give a recipient with --to");
		if (cfg->server == NULL)
			return mxt_opt_fail(
			    c, "missing TARGET (a domain or user@domain); see --help");
	}
	if (c->seen[OPT_IPV4] && c->seen[OPT_IPV6])
		return mxt_opt_fail(c, "-4 and -6 exclude each other");
	if (cfg->verbose > 0 && cfg->quiet)
		return mxt_opt_fail(c, "-v and -q exclude each other");
	if (cfg->tls_on_connect && c->seen[OPT_STARTTLS] && cfg->starttls == MXT_STARTTLS_REQUIRE)
		return mxt_opt_fail(
		    c, "--tls-on-connect starts TLS at once; --starttls require contradicts it");
	if (cfg->body != NULL && cfg->body_file != NULL)
		return mxt_opt_fail(c, "give --body or --body-file, not both");
	if ((cfg->body != NULL || cfg->body_file != NULL) && !cfg->send)
		return mxt_opt_fail(
		    c, "%s is only used with --send", cfg->body ? "--body" : "--body-file");
	if (cfg->send && cfg->nto == 0)
		return mxt_opt_fail(
		    c, "--send needs an explicit recipient: TARGET user@domain or --to");
	if (cfg->send && c->seen[OPT_QUIT_AFTER])
		return mxt_opt_fail(
		    c, "--send runs the session to the end; --quit-after contradicts it");
	if (cfg->password_file != NULL && cfg->user == NULL)
		return mxt_opt_fail(c, "--password-file needs --user");
	if (cfg->auth_mech != NULL && cfg->user == NULL)
		return mxt_opt_fail(c, "--auth needs --user");
	if (cfg->quit_after == MXT_QUIT_AFTER_TLS && cfg->starttls == MXT_STARTTLS_NEVER &&
	    !cfg->tls_on_connect)
		return mxt_opt_fail(
		    c, "--quit-after tls with --starttls never: there is no TLS stage");
	if (cfg->format != MXT_FORMAT_NAGIOS) {
		static const struct {
			enum opt_id id;
			const char *name;
		} nagios_only[] = {{OPT_WARNING, "-w"}, {OPT_CRITICAL, "-c"}};
		size_t i;

		for (i = 0; i < sizeof(nagios_only) / sizeof(nagios_only[0]); i++)
			if (c->seen[nagios_only[i].id])
				return mxt_opt_fail(
				    c, "%s is only used with --format nagios", nagios_only[i].name);
	}
	if (c->seen[OPT_PORT] && c->server_port != 0 && c->server_port != cfg->port)
		return mxt_opt_fail(
		    c, "--port %d and the port in --server (%d) differ", cfg->port, c->server_port);
	return 0;
}

int
mxt_opt_finish(struct opt_ctx *c)
{
	struct mxt_config *cfg = c->cfg;

	if (check_combinations(c) != 0)
		return -1;
	if (c->seen[OPT_SEED])
		cfg->have_seed = 1;
	/* A batch writes one JSON document per target and line (JSON Lines),
	 * unless a format was asked for. */
	if (cfg->batch != NULL && !c->seen[OPT_FORMAT] && !c->seen[OPT_JSON])
		cfg->format = MXT_FORMAT_JSON;
	/* A Nagios check must end before the engine kills it (60 s by default
	 * in Nagios and Icinga 2): a shorter overall deadline unless -t says. */
	if (cfg->format == MXT_FORMAT_NAGIOS && !c->seen[OPT_TIMEOUT_TOTAL])
		cfg->timeout_total_ms = MXT_DEADLINE_TOTAL_NAGIOS_MS;
	if (cfg->send)
		cfg->quit_after = MXT_QUIT_AFTER_NONE;
	if (cfg->port == 0 && c->server_port != 0)
		cfg->port = c->server_port;
	if (cfg->port == 0 && cfg->tls_on_connect)
		cfg->port = 465; /* RFC 8314 §3.3: submissions */
	if (cfg->port == 0 && cfg->submission)
		cfg->port = 587; /* RFC 6409 §3.1 */
	return 0;
}
