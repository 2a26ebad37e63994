/* SPDX-License-Identifier: MIT */
/* The /probe target parser (target.c), private to the exporter. */
#ifndef MXT_EXPORTER_TARGET_H
#define MXT_EXPORTER_TARGET_H

#include <stddef.h>

/* What a /probe target names: a mail domain (domain, unicode, and rcpt for
 * user@domain), or a server to probe (server, port; port 0: the module's). */
struct mxt_target_req {
	char *domain, *unicode, *rcpt;
	char *server;
	int port;
};

void mxt_target_req_free(struct mxt_target_req *r);
/* s as a target; addresses on loopback only with allow_loopback.  0 and *r
 * filled (free with mxt_target_req_free()), or -1 and a one-line reason in
 * err. */
int mxt_parse_target(
    const char *s, int allow_loopback, struct mxt_target_req *r, char *err, size_t errlen);
/* Client text made safe to show (escaped, cut at 60 bytes); never NULL,
 * free() it. */
char *mxt_shown(const char *s);

#endif
