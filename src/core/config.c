/* SPDX-License-Identifier: MIT */
/*
 * The run configuration's defaults and its release.  The defaults come from
 * include/mxtrace/limits.h so that one header holds every number; parsing and
 * validation live in src/cli (the option table is in options.c), not here.
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/config.h"
#include "mxtrace/limits.h"

/* Set every field to its default: no target, STARTTLS when offered, stop
 * after RCPT (then QUIT), deadlines and DNS settings from limits.h. */
void
mxt_config_init(struct mxt_config *c)
{
	memset(c, 0, sizeof(*c));
	c->starttls = MXT_STARTTLS_AUTO;
	c->quit_after = MXT_QUIT_AFTER_RCPT;
	c->family = MXT_FAMILY_ANY;
	c->dns_timeout_ms = MXT_DNS_TIMEOUT_MS;
	c->dns_tries = MXT_DNS_TRIES;
	c->timeout_connect_ms = MXT_DEADLINE_CONNECT_MS;
	c->timeout_banner_ms = MXT_DEADLINE_BANNER_MS;
	c->timeout_command_ms = MXT_DEADLINE_COMMAND_MS;
	c->timeout_total_ms = MXT_DEADLINE_TOTAL_MS;
	c->format = MXT_FORMAT_TEXT;
	c->concurrency = MXT_CONCURRENCY_DEFAULT;
	c->per_address = MXT_PER_ADDRESS_DEFAULT;
	c->color = -1;
	c->cert_warn_days = MXT_CERT_WARN_DAYS_DEFAULT;
	c->max_probes = MXT_EXPORTER_PROBES_DEFAULT;
	c->cert_crit_days = -1;
}

/* Free every string the config owns and reset it to the defaults, so a
 * second call is harmless. */
void
mxt_config_free(struct mxt_config *c)
{
	size_t i;

	free(c->target);
	free(c->domain);
	free(c->domain_unicode);
	free(c->from);
	for (i = 0; i < c->nto; i++)
		free(c->to[i]);
	free(c->to);
	free(c->server);
	free(c->source);
	free(c->ehlo);
	free(c->egress_ip);
	free(c->ca_file);
	free(c->user);
	free(c->password_file);
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->auth_mech);
	free(c->body);
	free(c->body_file);
	free(c->body_data);
	free(c->resolver);
	free(c->batch);
	free(c->listen);
	free(c->exporter_config);
	for (i = 0; i < c->ndnsbl; i++)
		free(c->dnsbl[i]);
	free(c->dnsbl);
	for (i = 0; i < c->negress_check; i++)
		free(c->egress_check[i].host);
	free(c->egress_check);
	mxt_config_init(c);
}
