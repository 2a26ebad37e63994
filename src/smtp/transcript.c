/* SPDX-License-Identifier: MIT */
/*
 * The session's transcript, redaction and output buffer (see transcript.h).
 * Secrets never reach the record, even when a server echoes them: every
 * line is scrubbed before it is stored.  Buffers that held credentials are
 * wiped with OPENSSL_cleanse before they are freed.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/loop.h"
#include "mxtrace/redact.h"
#include "mxtrace/xalloc.h"
#include "transcript.h"

#define NSECRETS (sizeof(((struct mxt_session *)0)->secrets) / sizeof(char *))

void
mxt_redact_add(struct mxt_session *s, char *secret)
{
	size_t k;

	if (secret == NULL)
		return;
	/* Run-wide too: a later reply of any session may echo it. */
	mxt_secret_add(secret, strlen(secret));
	for (k = 0; k < NSECRETS; k++)
		if (s->secrets[k] == NULL) {
			s->secrets[k] = secret;
			return;
		}
	free(secret);
}

void
mxt_redact_scrub(const struct mxt_session *s, char *p, size_t len)
{
	size_t i, k;

	mxt_secret_scrub(p, len);
	for (k = 0; k < NSECRETS; k++) {
		size_t n;

		if (s->secrets[k] == NULL || (n = strlen(s->secrets[k])) < 3 || n > len)
			continue;
		for (i = 0; i + n <= len; i++)
			if (memcmp(p + i, s->secrets[k], n) == 0)
				memset(p + i, '*', n);
	}
}

void
mxt_redact_free(struct mxt_session *s)
{
	size_t k;

	for (k = 0; k < NSECRETS; k++) {
		if (s->secrets[k] != NULL)
			OPENSSL_cleanse(s->secrets[k], strlen(s->secrets[k]));
		free(s->secrets[k]);
		s->secrets[k] = NULL;
	}
}

void
mxt_transcript_add(struct mxt_session *s, enum mxt_dir dir, const char *p, size_t len)
{
	struct mxt_attempt *a = s->a;
	struct mxt_tline *n;

	if (a->transcript_truncated)
		return;
	if (a->transcript_bytes + len > MXT_TRANSCRIPT_MAX) {
		a->transcript_truncated = 1;
		return;
	}
	/* Doubling capacity (implied by the count): a flood of short lines
	 * costs O(n), not O(n^2). */
	if (a->ntranscript == 0 ||
	    (a->ntranscript >= 16 && (a->ntranscript & (a->ntranscript - 1)) == 0)) {
		size_t cap = a->ntranscript == 0 ? 16 : a->ntranscript * 2;

		a->transcript = mxt_xreallocarray(a->transcript, cap, sizeof(*n));
	}
	n = &a->transcript[a->ntranscript];
	n->text = mxt_xmalloc(len + 1);
	memcpy(n->text, p, len);
	n->text[len] = '\0';
	mxt_redact_scrub(s, n->text, len);
	n->len = len;
	n->dir = dir;
	n->tls = s->tls_active;
	n->t_ms = mxt_now_ms() - s->t0;
	a->ntranscript++;
	a->transcript_bytes += len;
}

void
mxt_transcript_reply(struct mxt_session *s, struct mxt_reply *r)
{
	size_t i;

	for (i = 0; i < r->nlines; i++) {
		const struct mxt_line *l = &r->lines[i];
		char *buf;

		int code = l->code != 0 ? l->code : r->code;

		mxt_redact_scrub(s, r->lines[i].p, r->lines[i].len);
		if (code == 0) { /* no code: the raw line was kept as text */
			mxt_transcript_add(s, MXT_DIR_SERVER, l->p, l->len);
			continue;
		}
		/* Each line with the code it carried (RFC 5321 §4.2.1 mixed
		 * codes are shown as they came). */
		buf = mxt_xmalloc(l->len + 5);
		snprintf(buf, 5, "%03d%c", code, i + 1 < r->nlines ? '-' : ' ');
		memcpy(buf + 4, l->p, l->len);
		mxt_transcript_add(s, MXT_DIR_SERVER, buf, l->len + 4);
		free(buf);
	}
}

void
mxt_outbuf_append(struct mxt_session *s, const char *p, size_t len)
{
	if (s->outlen + len > s->outcap) {
		size_t cap = s->outcap ? s->outcap : 512;
		char *n;

		while (cap < s->outlen + len)
			cap *= 2;
		/* Not realloc: the old buffer may hold credentials; wipe it. */
		n = mxt_xmalloc(cap);
		if (s->out != NULL) {
			memcpy(n, s->out, s->outlen);
			OPENSSL_cleanse(s->out, s->outcap);
			free(s->out);
		}
		s->out = n;
		s->outcap = cap;
	}
	memcpy(s->out + s->outlen, p, len);
	s->outlen += len;
}

void
mxt_outbuf_wipe(struct mxt_session *s)
{
	if (s->out != NULL)
		OPENSSL_cleanse(s->out, s->outlen); /* may have held credentials */
	s->outlen = 0;
}

void
mxt_outbuf_free(struct mxt_session *s)
{
	if (s->out != NULL)
		OPENSSL_cleanse(s->out, s->outcap);
	free(s->out);
	s->out = NULL;
	s->outlen = s->outcap = 0;
}
