/* SPDX-License-Identifier: MIT */
/*
 * One HTTPS GET on the event loop (src/net/https.c), for the MTA-STS policy
 * (RFC 8461 §3.3): libcurl's multi socket API driven by mxt_loop, the
 * addresses given by the caller (looked up with c-ares: curl never uses the
 * system resolver), the certificate verified against the system trust
 * store or --ca-file, redirects refused, the body and the time capped, from
 * the --source address when one is given.  It
 * fetches; it does not parse or judge the body.
 */
#ifndef MXTRACE_HTTPS_H
#define MXTRACE_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#include "mxtrace/loop.h"
#include "mxtrace/record.h"

struct mxt_https_req {
	const char *host;    /* the URL's host, also the certificate's name */
	const char *path;    /* "/.well-known/mta-sts.txt" */
	const char *addrs;   /* "ADDR,ADDR" (IPv6 in brackets) for CURLOPT_RESOLVE */
	const char *ca_file; /* NULL: the system trust store */
	const char *source;  /* --source: local address to bind, NULL: any */
	int64_t timeout_ms;  /* whole transfer */
	size_t body_max;     /* a longer body ends the fetch as too_large */
};

struct mxt_https_res {
	enum mxt_sts_fetch status;
	long http_status;
	char *content_type; /* owned, raw */
	char *error;	    /* owned: curl's reason, NULL on OK */
	char *body;	    /* owned, NUL-terminated, at most body_max */
	size_t body_len;
	int64_t duration_ms;
};

typedef void mxt_https_cb(void *arg, struct mxt_https_res *res);

/* Start the fetch; cb runs once, from the loop (never inside this call),
 * and takes over res's strings.  Out of memory aborts (xalloc.h). */
void mxt_https_get(
    struct mxt_loop *loop, const struct mxt_https_req *req, mxt_https_cb *cb, void *arg);

#endif
