/* SPDX-License-Identifier: MIT */
/*
 * Private to src/smtp: what the session keeps of the wire.  The transcript
 * (raw bytes, escaped at render time) under its cap, the redaction of
 * credentials from everything recorded, and the session's output buffer,
 * wiped because it may hold credentials.  It keeps; it does not decide
 * what to send (session.c) or how to authenticate (sasl.c).
 */
#ifndef MXT_SMTP_TRANSCRIPT_H
#define MXT_SMTP_TRANSCRIPT_H

#include <stddef.h>

#include "mxtrace/session.h"

/* Remember a credential encoding to scrub from every record.  Takes
 * ownership of secret (NULL is ignored). */
void mxt_redact_add(struct mxt_session *s, char *secret);
/* Overwrite every occurrence of a remembered secret in p with '*'. */
void mxt_redact_scrub(const struct mxt_session *s, char *p, size_t len);
/* Wipe and free the remembered secrets. */
void mxt_redact_free(struct mxt_session *s);

/* Append a transcript line (a copy of len bytes at p, secrets scrubbed),
 * within MXT_TRANSCRIPT_MAX; past it the transcript is marked truncated. */
void mxt_transcript_add(struct mxt_session *s, enum mxt_dir dir, const char *p, size_t len);
/* Scrub a complete reply's lines in place and append them as they were on
 * the wire: code, separator, text. */
void mxt_transcript_reply(struct mxt_session *s, struct mxt_reply *r);

/* Append len bytes to the output buffer. */
void mxt_outbuf_append(struct mxt_session *s, const char *p, size_t len);
/* The output was written: wipe it and start again. */
void mxt_outbuf_wipe(struct mxt_session *s);
/* Wipe and free the output buffer. */
void mxt_outbuf_free(struct mxt_session *s);

#endif
