/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for the texts that publish transport security policies:
 * TLSA records in a DNS answer (RFC 6698 §2.1), the _mta-sts TXT record
 * (RFC 8461 §3.1), the MTA-STS policy body (RFC 8461 §3.2) and its MX
 * patterns (RFC 8461 §4.1), and the TLS-RPT record (RFC 8460 §3).  Every
 * input is (pointer, length) of peer bytes; nothing here reads past it,
 * touches the network or judges what it finds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/tlspolicy.h"
#include "mxtrace/xalloc.h"

/* ---- TLSA ---- */

#define DNS_HDR 12
#define T_TLSA_ 52

/* Skip a (possibly compressed) name at off; returns the offset after it,
 * or 0 when it runs past the end. */
static size_t
skip_name(const unsigned char *m, size_t len, size_t off)
{
	size_t hops = 0;

	while (off < len && hops++ < 128) {
		unsigned l = m[off];

		if (l == 0)
			return off + 1;
		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if ((l & 0xc0) != 0)
			return 0; /* RFC 6891 extended label types: not in names we read */
		off += 1 + l;
	}
	return 0;
}

int
mxt_tlsa_parse(const unsigned char *m, size_t len, struct mxt_tlsa **out, size_t *n)
{
	size_t off = DNS_HDR, i, qd, an;

	*out = NULL;
	*n = 0;
	if (m == NULL || len < DNS_HDR)
		return -1;
	qd = (size_t)m[4] << 8 | m[5];
	an = (size_t)m[6] << 8 | m[7];
	for (i = 0; i < qd; i++) {
		off = skip_name(m, len, off);
		if (off == 0 || off + 4 > len)
			goto bad;
		off += 4;
	}
	for (i = 0; i < an; i++) {
		unsigned type, class, rdlen;
		struct mxt_tlsa *r;

		off = skip_name(m, len, off);
		if (off == 0 || off + 10 > len)
			goto bad;
		type = (unsigned)m[off] << 8 | m[off + 1];
		class = (unsigned)m[off + 2] << 8 | m[off + 3];
		rdlen = (unsigned)m[off + 8] << 8 | m[off + 9];
		off += 10;
		if (off + rdlen > len)
			goto bad;
		if (type == T_TLSA_ && class == 1) {
			if (rdlen < 3)
				goto bad;
			if (*n < MXT_TLSA_MAX) {
				size_t dl = rdlen - 3;

				*out = mxt_xreallocarray(*out, *n + 1, sizeof(**out));
				r = &(*out)[(*n)++];
				r->usage = m[off];
				r->selector = m[off + 1];
				r->mtype = m[off + 2];
				if (dl > MXT_TLSA_DATA_MAX)
					dl = MXT_TLSA_DATA_MAX; /* kept, and unusable (length) */
				r->len = dl;
				r->data = mxt_xmalloc(dl ? dl : 1);
				memcpy(r->data, m + off + 3, dl);
			}
		}
		off += rdlen;
	}
	return (int)*n;
bad:
	for (i = 0; i < *n; i++)
		free((*out)[i].data);
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int
mxt_tlsa_usable(const struct mxt_tlsa *r)
{
	/* RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP. */
	if (r->usage != 2 && r->usage != 3)
		return 0;
	if (r->selector > 1)
		return 0;
	/* RFC 6698 §2.1.3: 0 full data, 1 SHA-256, 2 SHA-512. */
	switch (r->mtype) {
	case 0:
		return r->len > 0 && r->len < MXT_TLSA_DATA_MAX;
	case 1:
		return r->len == 32;
	case 2:
		return r->len == 64;
	default:
		return 0;
	}
}

char *
mxt_tlsa_text(const struct mxt_tlsa *r)
{
	size_t i, n = r->len > 32 ? 32 : r->len;
	char *s = mxt_xmalloc(16 + 2 * n + 4);
	int off = snprintf(s, 16, "%u %u %u ", r->usage, r->selector, r->mtype);

	for (i = 0; i < n; i++)
		off += snprintf(s + off, 3, "%02x", r->data[i]);
	if (n < r->len)
		memcpy(s + off, "...", 4);
	return s;
}

/* ---- small text helpers ---- */

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Trim WSP from both ends of [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_wsp(**s))
		(*s)++;
	while (*e > *s && is_wsp((*e)[-1]))
		(*e)--;
}

static int
span_is(const char *s, const char *e, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(e - s) == n && memcmp(s, lit, n) == 0;
}

/* A heap copy of a span. */
static char *
span_dup(const char *s, const char *e)
{
	return mxt_xstrndup(s, (size_t)(e - s));
}

/* Add a reason to *err ("; " between reasons, at most about 300 bytes). */
static void fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(char **err, const char *fmt, ...)
{
	char buf[256], *n;
	size_t len;
	va_list ap;

	if (*err != NULL && strlen(*err) > 300)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (*err == NULL) {
		*err = mxt_xstrdup(buf);
		return;
	}
	len = strlen(*err) + 2 + strlen(buf) + 1;
	n = mxt_xmalloc(len);
	snprintf(n, len, "%s; %s", *err, buf);
	free(*err);
	*err = n;
}

/* Bytes a record may show in an error message (never raw control bytes:
 * the renderers escape, but a reason should read well). */
static int
printable_span(const char *s, const char *e)
{
	for (; s < e; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* ---- _mta-sts TXT (RFC 8461 §3.1) ---- */

int
mxt_sts_txt_parse(const char *txt, size_t len, char **id, char **err)
{
	const char *p = txt, *end = txt + len;
	int field = 0;

	*id = NULL;
	*err = NULL;
	while (p <= end) {
		const char *s = p, *e = memchr(p, ';', (size_t)(end - p)), *eq;

		if (e == NULL)
			e = end;
		p = e + 1;
		trim(&s, &e);
		if (field == 0) {
			/* sts-version = %s"v=STSv1", case-sensitive, first. */
			if (!span_is(s, e, "v=STSv1")) {
				fail(err, "does not start with v=STSv1");
				break;
			}
			field++;
			continue;
		}
		if (s == e) {
			if (p <= end) /* an empty field before another ';' */
				fail(err, "empty field");
			break;
		}
		field++;
		eq = memchr(s, '=', (size_t)(e - s));
		if (eq == NULL || eq == s) {
			fail(err, "field %d is not name=value", field);
			break;
		}
		if (span_is(s, eq, "id")) {
			const char *v;

			if (*id != NULL) {
				fail(err, "more than one id");
				break;
			}
			/* sts-id = %s"id=" 1*32(ALPHA / DIGIT) */
			for (v = eq + 1; v < e && is_alnum(*v); v++)
				;
			if (v != e || e - (eq + 1) < 1 || e - (eq + 1) > 32) {
				fail(err, "id is not 1 to 32 letters and digits");
				break;
			}
			*id = span_dup(eq + 1, e);
		} else {
			/* sts-extension: name 1*32 of ALPHA DIGIT "_" "-" ".",
			 * value 1*(%x21-3A / %x3C / %x3E-7E). */
			const char *v;

			for (v = s; v < eq; v++)
				if (!is_alnum(*v) && *v != '_' && *v != '-' && *v != '.')
					break;
			if (v != eq || !is_alnum(*s) || eq - s > 32 || eq + 1 == e) {
				fail(err, "field %d is not a valid extension", field);
				break;
			}
			for (v = eq + 1; v < e; v++)
				if ((unsigned char)*v < 0x21 || (unsigned char)*v > 0x7e ||
				    *v == '=')
					break;
			if (v != e) {
				fail(err, "field %d has a bad value", field);
				break;
			}
		}
	}
	if (*err == NULL && field == 0)
		fail(err, "empty record");
	if (*err == NULL && *id == NULL)
		fail(err, "no id field");
	if (*err != NULL) {
		free(*id);
		*id = NULL;
		return 0;
	}
	return 1;
}

/* ---- the policy body (RFC 8461 §3.2) ---- */

/* A policy MX pattern: ["*."] Domain, a host name of letters, digits,
 * hyphens and dots (RFC 5321 §4.1.2 Domain). */
static int
valid_mx_pattern(const char *s, const char *e)
{
	size_t lab = 0;
	char prev = '.';

	if (e - s >= 2 && s[0] == '*' && s[1] == '.')
		s += 2;
	if (e > s && e[-1] == '.')
		e--;
	if (s == e || e - s > 253)
		return 0;
	for (; s < e; s++) {
		if (*s == '.') {
			if (lab == 0 || prev == '-')
				return 0;
			lab = 0;
		} else if (is_alnum(*s) || *s == '-') {
			if ((lab == 0 && *s == '-') || ++lab > 63)
				return 0;
		} else {
			return 0;
		}
		prev = *s;
	}
	return lab > 0 && prev != '-';
}

void
mxt_sts_policy_parse(const char *body, size_t len, struct mxt_sts *out)
{
	const char *p = body, *end = body + len;
	int have_version = 0, have_mode = 0, have_age = 0, line = 0;
	char *err = NULL;

	out->mode = MXT_STS_MODE_INVALID;
	out->max_age = -1;
	out->policy_valid = 0;
	while (p < end) {
		const char *s = p, *e = memchr(p, '\n', (size_t)(end - p)), *colon, *v;

		if (e == NULL)
			e = end;
		p = e + 1;
		line++;
		if (e > s && e[-1] == '\r')
			e--; /* CRLF (RFC 8461 §3.2: LF or CRLF) */
		if (s == e)
			continue; /* a blank line (e.g. the final terminator) */
		colon = memchr(s, ':', (size_t)(e - s));
		if (colon == NULL) {
			if (printable_span(s, e) && e - s <= 40)
				fail(&err, "line %d has no colon: \"%.*s\"", line, (int)(e - s), s);
			else
				fail(&err, "line %d has no colon", line);
			continue;
		}
		v = colon + 1;
		while (v < e && is_wsp(*v))
			v++;
		{
			const char *ve = e;

			while (ve > v && is_wsp(ve[-1]))
				ve--;
			if (span_is(s, colon, "version")) {
				if (have_version++)
					continue;
				if (!span_is(v, ve, "STSv1"))
					fail(&err, "version is not STSv1");
			} else if (span_is(s, colon, "mode")) {
				if (have_mode++)
					continue;
				if (span_is(v, ve, "enforce"))
					out->mode = MXT_STS_MODE_ENFORCE;
				else if (span_is(v, ve, "testing"))
					out->mode = MXT_STS_MODE_TESTING;
				else if (span_is(v, ve, "none"))
					out->mode = MXT_STS_MODE_NONE;
				else
					fail(&err, "mode is not enforce, testing or none");
			} else if (span_is(s, colon, "max_age")) {
				const char *d;
				int64_t age = 0;

				if (have_age++)
					continue;
				/* max_age = 1*10DIGIT, at most 31557600 */
				for (d = v; d < ve && *d >= '0' && *d <= '9' && d - v < 10; d++)
					age = age * 10 + (*d - '0');
				if (d != ve || d == v)
					fail(&err, "max_age is not a number of seconds");
				else if (age > MXT_STS_MAX_AGE_MAX)
					fail(&err, "max_age %lld is over the maximum %d",
					    (long long)age, MXT_STS_MAX_AGE_MAX);
				else
					out->max_age = age;
			} else if (span_is(s, colon, "mx")) {
				if (!valid_mx_pattern(v, ve)) {
					fail(
					    &err, "mx pattern on line %d is not a host name", line);
				} else if (out->nmx < MXT_STS_MX_MAX) {
					out->mx = mxt_xreallocarray(
					    out->mx, out->nmx + 1, sizeof(*out->mx));
					out->mx[out->nmx++] = span_dup(v, ve);
				}
			}
			/* Other keys are extensions: ignored (RFC 8461 §3.2). */
		}
	}
	if (!have_version)
		fail(&err, "no version field");
	if (!have_mode)
		fail(&err, "no mode field");
	if (!have_age)
		fail(&err, "no max_age field");
	if (out->mode != MXT_STS_MODE_NONE && out->mode != MXT_STS_MODE_INVALID && out->nmx == 0)
		fail(&err, "no mx field");
	free(out->policy_error);
	out->policy_error = err;
	out->policy_valid = err == NULL;
}

int
mxt_sts_mx_match(const char *pattern, const char *host)
{
	size_t pl = strlen(pattern), hl = strlen(host);

	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com" matches "mx.example.com", not "example.com"
		 * and not "a.mx.example.com": the wildcard is one whole label. */
		size_t sl = pl - 1; /* ".example.com" */
		const char *dot;

		if (hl <= sl || strncasecmp(host + hl - sl, pattern + 1, sl) != 0)
			return 0;
		dot = memchr(host, '.', hl - sl);
		return dot == NULL && hl - sl > 0;
	}
	return pl == hl && strncasecmp(pattern, host, pl) == 0;
}

/* ---- TLS-RPT (RFC 8460 §3) ---- */

void
mxt_tlsrpt_parse(const char *txt, size_t len, struct mxt_tlsrpt *out)
{
	const char *p = txt, *end = txt + len;
	int field = 0, have_rua = 0;
	char *err = NULL;

	while (p <= end) {
		const char *s = p, *e = memchr(p, ';', (size_t)(end - p));

		if (e == NULL)
			e = end;
		p = e + 1;
		trim(&s, &e);
		if (field++ == 0) {
			if (!span_is(s, e, "v=TLSRPTv1")) {
				fail(&err, "does not start with v=TLSRPTv1");
				break;
			}
			continue;
		}
		if (s == e) {
			if (p <= end)
				fail(&err, "empty field");
			break;
		}
		if (e - s > 4 && memcmp(s, "rua=", 4) == 0) {
			const char *u = s + 4;

			if (have_rua++) {
				fail(&err, "more than one rua");
				break;
			}
			while (u <= e) {
				const char *us = u, *ue = memchr(u, ',', (size_t)(e - u));

				if (ue == NULL)
					ue = e;
				u = ue + 1;
				trim(&us, &ue);
				if (!((ue - us > 7 && strncasecmp(us, "mailto:", 7) == 0) ||
					(ue - us > 8 && strncasecmp(us, "https://", 8) == 0)) ||
				    !printable_span(us, ue)) {
					fail(&err,
					    "rua holds a URI that is neither mailto: nor https:");
					continue;
				}
				if (out->nrua < MXT_TLSRPT_RUA_MAX) {
					out->rua = mxt_xreallocarray(
					    out->rua, out->nrua + 1, sizeof(*out->rua));
					out->rua[out->nrua++] = span_dup(us, ue);
				}
			}
		}
		/* Other fields are extensions (RFC 8460 §3): ignored. */
	}
	if (err == NULL && !have_rua)
		fail(&err, "no rua field");
	free(out->error);
	out->error = err;
	out->valid = err == NULL;
}
