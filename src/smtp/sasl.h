/* SPDX-License-Identifier: MIT */
/*
 * Private to src/smtp: the SASL mechanisms the session offers for AUTH
 * (RFC 4954) and the base64 they travel in.  PLAIN (RFC 4616), LOGIN and
 * CRAM-MD5 (RFC 2195): bytes in, bytes out.  It does not send, record or
 * decide when to authenticate (session.c), and it does not redact
 * (transcript.c): the caller registers every response as a secret.
 */
#ifndef MXT_SMTP_SASL_H
#define MXT_SMTP_SASL_H

#include <stddef.h>

#include "mxtrace/reply.h"

/* The mechanism to use: want when the server offers it, else the first of
 * PLAIN, LOGIN, CRAM-MD5 the server offers.  NULL when none fits. */
const char *mxt_sasl_choose(const struct mxt_caps *c, const char *want);
/* Base64 of len bytes (RFC 4648 §4).  Caller frees. */
char *mxt_b64(const void *p, size_t len);
/* The AUTH command line for mech (PLAIN carries its initial response,
 * RFC 4954 §4); with PLAIN, *response is set to that response (caller
 * frees), else NULL.  Caller frees the line and wipes it. */
char *mxt_sasl_start(const char *mech, const char *user, const char *password, char **response);
/* The response to the step-th 334 challenge (text, base64, as the server
 * sent it); plain is the PLAIN initial response, sent again after an empty
 * challenge.  Returns the base64 response (caller frees), or NULL when the
 * exchange must be cancelled with "*" (RFC 4954 §4: a challenge that is not
 * valid base64, or one the mechanism does not expect). */
char *mxt_sasl_respond(const char *mech, int step, const char *text, size_t tlen, const char *user,
    const char *password, const char *plain);

#endif
