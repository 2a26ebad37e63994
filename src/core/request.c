/* SPDX-License-Identifier: MIT */
/*
 * The record's request section: a copy of what the user asked for (mode,
 * port, STARTTLS policy, AUTH user and mechanism, size, where to stop,
 * deadlines), taken from the run's configuration when the target is made.
 * The report stage judges from it, so it never reads the options.  The
 * password is never copied (docs/security.md).
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/record.h"
#include "mxtrace/xalloc.h"

void
mxt_request_from_config(struct mxt_request *req, const struct mxt_config *cfg)
{
	memset(req, 0, sizeof(*req));
	req->server = mxt_xstrdup_or_null(cfg->server);
	req->port = cfg->port;
	req->submission = cfg->submission;
	req->tls_on_connect = cfg->tls_on_connect;
	req->starttls = cfg->starttls;
	req->auth_user = cfg->user != NULL && cfg->user[0] != '\0' ? mxt_xstrdup(cfg->user) : NULL;
	req->auth_mech = cfg->auth_mech != NULL && cfg->auth_mech[0] != '\0'
	    ? mxt_xstrdup(cfg->auth_mech)
	    : NULL;
	req->size = cfg->size;
	req->quit_after = cfg->quit_after;
	req->send = cfg->send;
	req->cert_warn_days = cfg->cert_warn_days;
	req->family = cfg->family;
	req->source = mxt_xstrdup_or_null(cfg->source);
	req->ehlo = mxt_xstrdup_or_null(cfg->ehlo);
	req->timeout_connect_ms = cfg->timeout_connect_ms;
	req->timeout_banner_ms = cfg->timeout_banner_ms;
	req->timeout_command_ms = cfg->timeout_command_ms;
	req->timeout_total_ms = cfg->timeout_total_ms;
	req->dns_timeout_ms = cfg->dns_timeout_ms;
	req->dns_tries = cfg->dns_tries;
	req->no_dane = cfg->no_dane;
	req->no_mta_sts = cfg->no_mta_sts;
	req->egress_check_none = cfg->egress_check_none;
	if (cfg->negress_check > 0) {
		size_t i;

		req->egress_check = mxt_xcalloc(cfg->negress_check, sizeof(*req->egress_check));
		for (i = 0; i < cfg->negress_check; i++) {
			req->egress_check[i].host = mxt_xstrdup(cfg->egress_check[i].host);
			req->egress_check[i].port = cfg->egress_check[i].port;
		}
		req->negress_check = cfg->negress_check;
	}
}

void
mxt_request_free(struct mxt_request *req)
{
	free(req->server);
	free(req->auth_user);
	free(req->auth_mech);
	free(req->source);
	free(req->ehlo);
	for (size_t i = 0; i < req->negress_check; i++)
		free(req->egress_check[i].host);
	free(req->egress_check);
	memset(req, 0, sizeof(*req));
}

const char *
mxt_starttls_mode_name(enum mxt_starttls_mode m)
{
	switch (m) {
	case MXT_STARTTLS_AUTO:
		return "auto";
	case MXT_STARTTLS_REQUIRE:
		return "require";
	case MXT_STARTTLS_NEVER:
		return "never";
	}
	return "unknown";
}

const char *
mxt_quit_after_name(enum mxt_quit_after q)
{
	switch (q) {
	case MXT_QUIT_AFTER_CONNECT:
		return "connect";
	case MXT_QUIT_AFTER_BANNER:
		return "banner";
	case MXT_QUIT_AFTER_EHLO:
		return "ehlo";
	case MXT_QUIT_AFTER_TLS:
		return "tls";
	case MXT_QUIT_AFTER_AUTH:
		return "auth";
	case MXT_QUIT_AFTER_MAIL:
		return "mail";
	case MXT_QUIT_AFTER_RCPT:
		return "rcpt";
	case MXT_QUIT_AFTER_NONE:
		return "none";
	}
	return "unknown";
}

const char *
mxt_family_name(enum mxt_family f)
{
	switch (f) {
	case MXT_FAMILY_ANY:
		return "any";
	case MXT_FAMILY_V4:
		return "ipv4";
	case MXT_FAMILY_V6:
		return "ipv6";
	}
	return "unknown";
}
