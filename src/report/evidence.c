/* SPDX-License-Identifier: MIT */
/*
 * Evidence and findings.  A growing string with a hard cap (EVIDENCE_MAX,
 * cut on a UTF-8 boundary and marked "...") that the other passes fill
 * with raw reply lines and DNS statuses, and mxt_emit(), the one way a
 * finding enters the record: at most one per code and scope, with the
 * catalogue's code, severity, stage and hint.  It decides nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/xalloc.h"

#include "classify.h"

/* Append n raw bytes; NUL becomes '?' so the result stays a C string. */
void
mxt_sb_putn(struct sb *b, const char *s, size_t n)
{
	size_t i;

	if (b->oom || b->cut || n == 0 || s == NULL)
		return;
	if (b->len + n > EVIDENCE_MAX) {
		n = EVIDENCE_MAX - b->len;
		/* Do not cut a UTF-8 sequence in two. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		b->cut = 1;
		if (n == 0)
			return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = mxt_xrealloc(b->p, cap);
		b->cap = cap;
	}
	for (i = 0; i < n; i++)
		b->p[b->len++] = s[i] == '\0' ? '?' : s[i];
	b->p[b->len] = '\0';
}

void
mxt_sb_puts(struct sb *b, const char *s)
{
	if (s != NULL)
		mxt_sb_putn(b, s, strlen(s));
}

void
mxt_sb_printf(struct sb *b, const char *fmt, ...)
{
	char buf[256], *p = buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n >= sizeof(buf)) {
		p = mxt_xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	mxt_sb_putn(b, p, (size_t)n);
	if (p != buf)
		free(p);
}

void
mxt_sb_free(struct sb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Hand out the string (heap, the caller owns it); NULL if a format
 * failed. */
char *
mxt_sb_take(struct sb *b)
{
	char *p;

	if (b->oom) {
		mxt_sb_free(b);
		return NULL;
	}
	if (b->cut) {
		b->p = mxt_xrealloc(b->p, b->len + 4);
		memcpy(b->p + b->len, "...", 4);
	} else if (b->p == NULL) {
		b->p = mxt_xcalloc(1, 1);
	}
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

/* The code a line carried as received: its own, else the reply's. */
static int
line_code(const struct mxt_reply *r, size_t i)
{
	return r->lines[i].code != 0 ? r->lines[i].code : r->code;
}

/* The reply as sent, minus CRLF: "250-first / 250 last".  Each line shows
 * its own code (a mixed-code reply is quoted as it came); a line kept whole
 * because it had no code is quoted whole. */
void
mxt_sb_reply(struct sb *b, const struct mxt_reply *r)
{
	size_t i;

	for (i = 0; i < r->nlines; i++) {
		int code = line_code(r, i);

		if (i > 0)
			mxt_sb_puts(b, " / ");
		if (code >= 100 && code <= 999 && (r->lines[i].code != 0 || r->code != 0))
			mxt_sb_printf(b, "%03d%c", code, i + 1 < r->nlines ? '-' : ' ');
		if (r->lines[i].p != NULL)
			mxt_sb_putn(b, r->lines[i].p, r->lines[i].len);
	}
	if (r->nlines == 0 && r->code != 0)
		mxt_sb_printf(b, "%03d", r->code);
}

/* The first line of a reply, shortened, for one-line summaries. */
void
mxt_sb_reply_first(struct sb *b, const struct mxt_reply *r)
{
	size_t n;
	int code = r->nlines > 0 ? line_code(r, 0) : r->code;

	if (code >= 100 && code <= 999)
		mxt_sb_printf(b, "%03d ", code);
	if (r->nlines == 0 || r->lines[0].p == NULL)
		return;
	n = r->lines[0].len;
	if (n > SUMMARY_QUOTE_MAX) {
		n = SUMMARY_QUOTE_MAX;
		while (n > 0 && ((unsigned char)r->lines[0].p[n] & 0xc0) == 0x80)
			n--;
		mxt_sb_putn(b, r->lines[0].p, n);
		mxt_sb_puts(b, "...");
	} else {
		mxt_sb_putn(b, r->lines[0].p, n);
	}
}

void
mxt_scope_reset(struct ctx *c)
{
	memset(c->seen, 0, sizeof(c->seen));
}

char *
mxt_dup_or_null(const char *s)
{
	if (s == NULL || *s == '\0')
		return NULL;
	return mxt_xstrdup(s);
}

/* Append a finding with the evidence built in ev (consumed).  Returns its
 * index, or the index of the one the scope already has for this code, or
 * -1 on ENOMEM.  host and address are copied; code, stage and hint point at
 * the static catalogue. */
int
mxt_emit(struct ctx *c, enum diag id, const char *host, const char *address, struct sb *ev)
{
	struct mxt_target *t = c->t;
	struct mxt_finding *f;
	char *evidence;

	if (c->seen[id] != 0) {
		mxt_sb_free(ev);
		return c->seen[id] - 1;
	}
	evidence = mxt_sb_take(ev);
	if (evidence == NULL) {
		c->oom = 1;
		return -1;
	}
	t->findings = mxt_xreallocarray(t->findings, t->nfindings + 1, sizeof(*f));
	f = &t->findings[t->nfindings];
	memset(f, 0, sizeof(*f));
	f->code = c->cat[id].code;
	f->severity = c->cat[id].severity;
	f->stage = c->cat[id].stage;
	f->hint = c->cat[id].hint;
	f->evidence = evidence;
	f->host = mxt_dup_or_null(host);
	f->address = mxt_dup_or_null(address);
	t->nfindings++;
	c->seen[id] = (int)t->nfindings;
	return (int)t->nfindings - 1;
}

const char *
mxt_target_domain(const struct mxt_target *t)
{
	if (t->domain != NULL && *t->domain != '\0')
		return t->domain;
	if (t->input != NULL && *t->input != '\0')
		return t->input;
	return "?";
}

const char *
mxt_mx_name(const struct mxt_target *t, const struct mxt_attempt *a)
{
	if (a->mx_index < t->dns.nmx && t->dns.mx[a->mx_index].name != NULL)
		return t->dns.mx[a->mx_index].name;
	return NULL;
}

const char *
mxt_attempt_host(const struct mxt_target *t, const struct mxt_attempt *a)
{
	const char *n = mxt_mx_name(t, a);

	return n != NULL ? n : a->addr.text;
}

/* mxt_emit() for a finding about one attempt; when the receiving software
 * is known and spells the fix its own way, the hint says it in its terms. */
int
mxt_emit_a(struct ctx *c, const struct mxt_attempt *a, enum diag id, struct sb *ev)
{
	int idx = mxt_emit(c, id, mxt_mx_name(c->t, a), a->addr.text, ev);
	struct mxt_software sw;
	const char *hint;

	if (idx >= 0) {
		mxt_server_software(a, &sw);
		hint = mxt_software_hint(c->cat[id].code, sw.name);
		if (hint != NULL)
			c->t->findings[idx].hint = hint;
	}
	return idx;
}

void
mxt_sb_days(struct sb *b, int days)
{
	if (days == 0)
		mxt_sb_puts(b, "less than a day");
	else
		mxt_sb_printf(b, "%d day%s", days, days == 1 || days == -1 ? "" : "s");
}

void
mxt_sb_where(struct sb *b, const struct mxt_target *t, const struct mxt_attempt *a)
{
	const char *n = mxt_mx_name(t, a);

	if (n != NULL)
		mxt_sb_printf(b, "%s (%s)", n, a->addr.text);
	else
		mxt_sb_puts(b, a->addr.text);
}
