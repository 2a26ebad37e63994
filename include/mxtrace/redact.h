/* SPDX-License-Identifier: MIT */
/*
 * The run's secrets and their scrubbing (docs/security.md, "Redaction").
 * The AUTH password is registered once, before the first connection, in
 * every form a server or a record could show it: the bytes themselves, its
 * base64 in the standard and URL-safe alphabets, padded and unpadded, the
 * base64 characters it alone determines at each of the three byte
 * alignments (so a secret inside a longer base64 blob is caught), and the
 * AUTH PLAIN and LOGIN blobs.  Every string the record keeps from a peer and
 * every diagnostic line goes through mxt_secret_scrub.
 */
#ifndef MXTRACE_REDACT_H
#define MXTRACE_REDACT_H

#include <stddef.h>

#include "mxtrace/limits.h" /* MXT_PASSWORD_MIN */

/* Register the password of user (every form above).  Returns -1 with a
 * one-line reason in err when it is shorter than MXT_PASSWORD_MIN. */
int mxt_secret_password(const char *user, const char *password, char *err, size_t errlen);
/* Register one more secret string as it is (at least 3 bytes; a copy is
 * kept). */
void mxt_secret_add(const char *s, size_t len);
/* Overwrite every occurrence of a registered form in p[0..len) with '*'
 * (longest forms first).  Returns the number of forms found. */
size_t mxt_secret_scrub(char *p, size_t len);
/* Scrub a NUL-terminated string in place; s may be NULL. */
void mxt_secret_scrub_str(char *s);
/* Wipe and forget every registered form. */
void mxt_secret_clear(void);
/* How many forms are registered (tests). */
size_t mxt_secret_count(void);

#endif
