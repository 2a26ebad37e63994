/* SPDX-License-Identifier: MIT */
/*
 * SASL for SMTP AUTH (RFC 4954): mechanism choice, PLAIN (RFC 4616),
 * LOGIN, CRAM-MD5 (RFC 2195), and strict base64.  See sasl.h for what it
 * deliberately leaves to the session.  Intermediate buffers that held a
 * password are wiped with OPENSSL_cleanse.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/xalloc.h"
#include "sasl.h"

const char *
mxt_sasl_choose(const struct mxt_caps *c, const char *want)
{
	static const char *const prefs[] = {"PLAIN", "LOGIN", "CRAM-MD5"};
	size_t i;

	for (i = 0; i < sizeof(prefs) / sizeof(prefs[0]); i++)
		if ((want == NULL || strcmp(want, prefs[i]) == 0) && mxt_caps_has_auth(c, prefs[i]))
			return prefs[i];
	return NULL;
}

char *
mxt_b64(const void *p, size_t len)
{
	char *out = mxt_xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	return out;
}

/* Strict base64 decode (RFC 4954 §4: a challenge that is not valid base64
 * must be cancelled).  Returns the length, or -1. */
static int
unb64(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t i, pad = 0;
	int n;

	if (len % 4 != 0 || len / 4 * 3 > cap)
		return -1;
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '=') {
			if (i < len - 2)
				return -1;
			pad++;
		} else if (pad > 0 ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '+' || c == '/')) {
			return -1;
		}
	}
	if (len == 0)
		return 0;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	return n < 0 ? -1 : n - (int)pad;
}

char *
mxt_sasl_start(const char *mech, const char *user, const char *password, char **response)
{
	size_t ul, pl, n;
	char *blob, *line;

	*response = NULL;
	if (strcmp(mech, "PLAIN") != 0)
		return mxt_xstrdup(strcmp(mech, "LOGIN") == 0 ? "AUTH LOGIN" : "AUTH CRAM-MD5");
	/* RFC 4616 §2: authzid NUL authcid NUL passwd, as initial response. */
	ul = strlen(user);
	pl = strlen(password);
	blob = mxt_xmalloc(ul + pl + 2);
	blob[0] = '\0';
	memcpy(blob + 1, user, ul);
	blob[1 + ul] = '\0';
	memcpy(blob + 2 + ul, password, pl);
	*response = mxt_b64(blob, ul + pl + 2);
	OPENSSL_cleanse(blob, ul + pl + 2);
	free(blob);
	n = strlen(*response) + 12;
	line = mxt_xmalloc(n);
	snprintf(line, n, "AUTH PLAIN %s", *response);
	return line;
}

/* RFC 2195 §2: user SP hex(HMAC-MD5(password, challenge)), in base64. */
static char *
cram_md5(const char *user, const char *password, const unsigned char *ch, size_t chlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;
	char buf[600], *resp;
	size_t o;

	if (HMAC(EVP_md5(), password, (int)strlen(password), ch, chlen, mac, &maclen) == NULL)
		return NULL;
	o = (size_t)snprintf(buf, sizeof(buf), "%s ", user);
	for (i = 0; i < maclen && o + 3 < sizeof(buf); i++, o += 2)
		snprintf(buf + o, 3, "%02x", mac[i]);
	resp = mxt_b64(buf, o);
	OPENSSL_cleanse(buf, sizeof(buf));
	return resp;
}

char *
mxt_sasl_respond(const char *mech, int step, const char *text, size_t tlen, const char *user,
    const char *password, const char *plain)
{
	unsigned char ch[512];
	int n = unb64(text, tlen, ch, sizeof(ch) - 1);

	if (n < 0) /* not base64: cancel */
		return NULL;
	ch[n] = '\0';
	if (strcmp(mech, "LOGIN") == 0) {
		const char *v = step == 1 ? user : password;

		return step <= 2 ? mxt_b64(v, strlen(v)) : NULL;
	}
	if (strcmp(mech, "CRAM-MD5") == 0 && step == 1)
		return cram_md5(user, password, ch, (size_t)n);
	if (strcmp(mech, "PLAIN") == 0 && step == 1 && plain != NULL)
		return mxt_xstrdup(plain); /* empty 334: the response again */
	return NULL;
}
