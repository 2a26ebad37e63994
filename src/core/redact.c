/* SPDX-License-Identifier: MIT */
/*
 * The run's secrets (see mxtrace/redact.h and docs/security.md).  One
 * process-wide list: the password is known before the first connection, so
 * a greeting that echoes it is scrubbed like an AUTH reply.  Forms are kept
 * sorted longest first so a padded blob is starred whole before a shorter
 * form of it could leave its tail visible.  Wiped with OPENSSL_cleanse.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/redact.h"
#include "mxtrace/xalloc.h"

/* Forms shorter than this are never scrubbed alone (they would star
 * ordinary text); MXT_PASSWORD_MIN keeps every password form above it. */
#define FORM_MIN 3

struct form {
	char *p;
	size_t len;
};

static struct form *forms;
static size_t nforms;

static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
mxt_secret_add(const char *s, size_t len)
{
	size_t i, at;

	if (s == NULL || len < FORM_MIN)
		return;
	for (i = 0; i < nforms; i++)
		if (forms[i].len == len && memcmp(forms[i].p, s, len) == 0)
			return;
	forms = mxt_xreallocarray(forms, nforms + 1, sizeof(*forms));
	for (at = 0; at < nforms && forms[at].len >= len; at++)
		;
	memmove(forms + at + 1, forms + at, (nforms - at) * sizeof(*forms));
	forms[at].p = mxt_xmalloc(len + 1);
	memcpy(forms[at].p, s, len);
	forms[at].p[len] = '\0';
	forms[at].len = len;
	nforms++;
}

/* RFC 4648 §4/§5 base64 of the n bytes at p after skip zero bytes of
 * alignment.  Adds: with skip 0 the padded and unpadded encodings; with any
 * skip, the characters that depend on p's bytes only (the first characters
 * mix in the bytes before the secret, the last ones the bytes after it). */
static void
add_b64(const unsigned char *p, size_t n, size_t skip, const char *alpha)
{
	size_t total = skip + n, nchars = (total + 2) / 3 * 4, i, o = 0;
	size_t first, last;
	char *out = mxt_xmalloc(nchars + 1);

	for (i = 0; i < total; i += 3) {
		unsigned b0 = i < skip ? 0 : p[i - skip];
		unsigned b1 = i + 1 < total ? (i + 1 < skip ? 0 : p[i + 1 - skip]) : 0;
		unsigned b2 = i + 2 < total ? (i + 2 < skip ? 0 : p[i + 2 - skip]) : 0;
		unsigned v = b0 << 16 | b1 << 8 | b2;

		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = i + 1 < total ? alpha[v >> 6 & 63] : '=';
		out[o++] = i + 2 < total ? alpha[v & 63] : '=';
	}
	out[o] = '\0';
	if (skip == 0) {
		size_t unpadded = (total * 8 + 5) / 6;

		mxt_secret_add(out, o);
		mxt_secret_add(out, unpadded);
	}
	/* Character k covers bits [6k, 6k+6); byte j covers [8j, 8j+8).  Keep
	 * the characters wholly inside the secret's bits. */
	first = (skip * 8 + 5) / 6;
	last = (total * 8) / 6; /* one past the last character inside */
	if (last > first)
		mxt_secret_add(out + first, last - first);
	OPENSSL_cleanse(out, nchars + 1);
	free(out);
}

static void
add_all_b64(const unsigned char *p, size_t n)
{
	size_t skip;

	for (skip = 0; skip < 3; skip++) {
		add_b64(p, n, skip, B64STD);
		add_b64(p, n, skip, B64URL);
	}
}

int
mxt_secret_password(const char *user, const char *password, char *err, size_t errlen)
{
	size_t n, ulen;
	unsigned char *plain;

	if (password == NULL)
		return 0;
	n = strlen(password);
	if (n < MXT_PASSWORD_MIN) {
		snprintf(err, errlen,
		    "the password is shorter than %d bytes: its encodings could not be "
		    "scrubbed from the report (docs/security.md)",
		    MXT_PASSWORD_MIN);
		return -1;
	}
	mxt_secret_add(password, n);
	add_all_b64((const unsigned char *)password, n);
	/* RFC 4616: AUTH PLAIN's blob is authzid NUL authcid NUL password
	 * (mxtrace sends no authzid); AUTH LOGIN sends base64(password), which
	 * add_all_b64 covers. */
	ulen = user != NULL ? strlen(user) : 0;
	plain = mxt_xmalloc(ulen + n + 2);
	plain[0] = '\0';
	if (ulen > 0)
		memcpy(plain + 1, user, ulen);
	plain[ulen + 1] = '\0';
	memcpy(plain + ulen + 2, password, n);
	add_b64(plain, ulen + n + 2, 0, B64STD);
	add_b64(plain, ulen + n + 2, 0, B64URL);
	OPENSSL_cleanse(plain, ulen + n + 2);
	free(plain);
	return 0;
}

size_t
mxt_secret_scrub(char *p, size_t len)
{
	size_t k, i, found = 0;

	if (p == NULL)
		return 0;
	for (k = 0; k < nforms; k++) {
		size_t n = forms[k].len;

		if (n > len)
			continue;
		for (i = 0; i + n <= len; i++) {
			if (p[i] == forms[k].p[0] && memcmp(p + i, forms[k].p, n) == 0) {
				memset(p + i, '*', n);
				found++;
				i += n - 1;
			}
		}
	}
	return found;
}

void
mxt_secret_scrub_str(char *s)
{
	if (s != NULL)
		mxt_secret_scrub(s, strlen(s));
}

void
mxt_secret_clear(void)
{
	size_t k;

	for (k = 0; k < nforms; k++) {
		OPENSSL_cleanse(forms[k].p, forms[k].len);
		free(forms[k].p);
	}
	free(forms);
	forms = NULL;
	nforms = 0;
}

size_t
mxt_secret_count(void)
{
	return nforms;
}
