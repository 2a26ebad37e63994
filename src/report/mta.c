/* SPDX-License-Identifier: MIT */
/*
 * Which software receives the mail: a fingerprint from the 220 greeting
 * (RFC 5321 §4.3.1 lets the server write anything after its domain, and
 * most MTAs put their name there) and from EHLO keywords only one
 * software sends, with the rules and the software-specific hints in
 * software.def.  The answer is a name from that table, never text from the
 * peer, so it can be a metric label; the evidence is which rule matched.
 * It is evidence, not a guess: a configurable or hidden greeting gives
 * "unknown".  Pure functions of one attempt.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "classify.h"

enum software {
#define MXT_SOFTWARE(id, name, product) SW_##id,
#include "software.def"
	SW_COUNT
};

static const struct {
	const char *name, *product;
} softwares[] = {
#define MXT_SOFTWARE(id, name, product) {name, product},
#include "software.def"
};

enum rule_source { SRC_BANNER, SRC_EHLO, SRC_GREETING };

static const struct {
	enum software sw;
	enum rule_source src;
	const char *word;
} rules[] = {
#define MXT_SOFTWARE_RULE(id, source, word) {SW_##id, SRC_##source, word},
#include "software.def"
};

static const struct {
	enum diag diag;
	enum software sw;
	const char *hint;
} hints[] = {
#define MXT_SOFTWARE_HINT(diag, id, hint) {DIAG_##diag, SW_##id, hint},
#include "software.def"
};

static int
is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* Does the len bytes at p hold word as a whole word (ASCII, any case)? */
static int
has_word(const char *p, size_t len, const char *word)
{
	size_t wl = strlen(word), i;

	for (i = 0; p != NULL && i + wl <= len; i++) {
		if (i > 0 && is_word_byte((unsigned char)p[i - 1]))
			continue;
		if (i + wl < len && is_word_byte((unsigned char)p[i + wl]))
			continue;
		if (strncasecmp(p + i, word, wl) == 0)
			return 1;
	}
	return 0;
}

/* Does the len bytes at p contain s (ASCII, any case)? */
static int
has_text(const char *p, size_t len, const char *s)
{
	size_t sl = strlen(s), i;

	for (i = 0; p != NULL && i + sl <= len; i++)
		if (strncasecmp(p + i, s, sl) == 0)
			return 1;
	return 0;
}

/* Is word one of the EHLO keywords (the first token of a line)? */
static int
has_keyword(const struct mxt_caps *k, const char *word)
{
	size_t i, wl = strlen(word);

	for (i = 0; i < k->nkeywords; i++) {
		const struct mxt_line *l = &k->keywords[i];

		if (l->p != NULL && l->len >= wl && strncasecmp(l->p, word, wl) == 0 &&
		    (l->len == wl || l->p[wl] == ' '))
			return 1;
	}
	return 0;
}

static int
rule_matches(const struct mxt_attempt *a, size_t r, const char **source)
{
	const struct mxt_step *s;
	size_t i;

	switch (rules[r].src) {
	case SRC_BANNER:
		s = mxt_attempt_step(a, MXT_STAGE_BANNER);
		if (s == NULL || s->status != MXT_STEP_REPLIED || s->reply.code / 100 != 2)
			return 0;
		for (i = 0; i < s->reply.nlines; i++)
			if (has_word(s->reply.lines[i].p, s->reply.lines[i].len, rules[r].word)) {
				*source = "banner";
				return 1;
			}
		return 0;
	case SRC_EHLO:
		if (a->have_caps_plain && has_keyword(&a->caps_plain, rules[r].word)) {
			*source = "ehlo";
			return 1;
		}
		if (a->have_caps && has_keyword(&a->caps, rules[r].word)) {
			*source = a->tls.ok ? "ehlo_tls" : "ehlo";
			return 1;
		}
		return 0;
	case SRC_GREETING:
		if (a->have_caps_plain &&
		    has_text(a->caps_plain.greeting.p, a->caps_plain.greeting.len, rules[r].word)) {
			*source = "ehlo";
			return 1;
		}
		if (a->have_caps &&
		    has_text(a->caps.greeting.p, a->caps.greeting.len, rules[r].word)) {
			*source = a->tls.ok ? "ehlo_tls" : "ehlo";
			return 1;
		}
		return 0;
	}
	return 0;
}

/* The fingerprint of one attempt: BANNER rules first, then the rest, in
 * table order; the first match wins.  The strings are static. */
void
mxt_server_software(const struct mxt_attempt *a, struct mxt_software *out)
{
	static const enum rule_source order[] = {SRC_BANNER, SRC_EHLO, SRC_GREETING};
	size_t k, r;
	const char *source = NULL;

	memset(out, 0, sizeof(*out));
	out->name = "unknown";
	if (a == NULL)
		return;
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
			if (rules[r].src != order[k] || !rule_matches(a, r, &source))
				continue;
			out->name = softwares[rules[r].sw].name;
			out->product = softwares[rules[r].sw].product;
			out->source = source;
			out->match = rules[r].word;
			return;
		}
}

/* The name of the software an attempt's greeting or EHLO reveals, NULL
 * when unknown (kept for the metrics' mxtrace_mta_info). */
const char *
mxt_banner_mta(const struct mxt_attempt *a)
{
	struct mxt_software sw;

	mxt_server_software(a, &sw);
	return sw.product != NULL ? sw.name : NULL;
}

/* The hint for a code in the terms of one software (its name as in
 * mxt_software.name); NULL when the catalogue's hint stands. */
const char *
mxt_software_hint(const char *code, const char *software)
{
	const struct mxt_diagnosis *cat = mxt_diagnoses(NULL);
	size_t i;

	if (code == NULL || software == NULL)
		return NULL;
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(softwares[hints[i].sw].name, software) == 0 &&
		    strcmp(cat[hints[i].diag].code, code) == 0)
			return hints[i].hint;
	return NULL;
}

/* Every software the table knows, for tests and docs: its name and
 * product; NULL past the last. */
const char *
mxt_software_name(size_t i, const char **product)
{
	if (i >= SW_COUNT)
		return NULL;
	if (product != NULL)
		*product = softwares[i].product;
	return softwares[i].name;
}
