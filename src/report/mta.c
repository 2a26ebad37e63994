/* SPDX-License-Identifier: MIT */
/*
 * Which MTA software a 220 greeting names.  RFC 5321 §4.3.1 lets the
 * server write anything after its domain, and most MTAs put their name
 * there by default ("ESMTP Postfix", "ESMTP Exim 4.96").  The answer is a
 * name from the fixed table below, never text from the peer, so it can be
 * a metric label.  It is a hint for humans and dashboards: a banner is
 * configurable, and a missing or disguised name is simply "unknown".
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/report.h"

/* A word of the greeting (case-insensitive, whole word) and the MTA it
 * names; the first match in table order wins. */
static const struct {
	const char *word;
	const char *mta;
} mtas[] = {
    {"Postfix", "postfix"}, {"Exim", "exim"}, {"OpenSMTPD", "opensmtpd"}, {"Sendmail", "sendmail"},
    {"qmail", "qmail"}, {"Haraka", "haraka"}, {"MDaemon", "mdaemon"},
    {"hMailServer", "hmailserver"}, {"Kerio", "kerio"}, {"CommuniGate", "communigate"},
    {"Courier", "courier"}, {"Microsoft", "exchange"}, /* "Microsoft ESMTP MAIL Service ready" */
};

static int
is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* Does the len bytes at p hold word as a whole word? */
static int
has_word(const char *p, size_t len, const char *word)
{
	size_t wl = strlen(word), i;

	for (i = 0; i + wl <= len; i++) {
		if (i > 0 && is_word_byte((unsigned char)p[i - 1]))
			continue;
		if (i + wl < len && is_word_byte((unsigned char)p[i + wl]))
			continue;
		if (strncasecmp(p + i, word, wl) == 0)
			return 1;
	}
	return 0;
}

/* The name from the first line of a 220 greeting, NULL when unknown.  The
 * returned string is static. */
const char *
mxt_banner_mta(const struct mxt_attempt *a)
{
	const struct mxt_step *s = mxt_attempt_step(a, MXT_STAGE_BANNER);
	const struct mxt_line *l;
	size_t i;

	if (s == NULL || s->status != MXT_STEP_REPLIED || s->reply.code != 220 ||
	    s->reply.nlines == 0)
		return NULL;
	l = &s->reply.lines[0];
	for (i = 0; i < sizeof(mtas) / sizeof(mtas[0]); i++)
		if (has_word(l->p, l->len, mtas[i].word))
			return mtas[i].mta;
	return NULL;
}
