/* SPDX-License-Identifier: MIT */
/*
 * The run's secret scrubber (src/core/redact.c, docs/security.md
 * "Redaction"): the password inside any base64 blob, in both alphabets, at
 * every alignment and with any suffix, padded or not, is starred; the AUTH
 * PLAIN blob too; ordinary text is left alone; short passwords are refused.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/redact.h"
#include "t.h"

static const char PW[] = "Open-Sesame?>~42";

/* base64 of n bytes at p, standard or URL-safe alphabet, padded or not. */
static void
b64(const unsigned char *p, size_t n, int url, int pad, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	int i;

	for (i = 0; i < len; i++) {
		if (url && out[i] == '+')
			out[i] = '-';
		else if (url && out[i] == '/')
			out[i] = '_';
	}
	while (!pad && len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
}

/* Longest run of base64 characters p shares with the encoding of the
 * password alone: after scrubbing, none of it may be left. */
static int
leaks(const char *scrubbed, const char *core)
{
	return strstr(scrubbed, core) != NULL;
}

int
main(void)
{
	unsigned char buf[64];
	char enc[128], err[256], core[64];
	size_t pre, suf, n = strlen(PW);
	int url, pad, all_ok = 1, cases = 0;

	T_CHECK(mxt_secret_password("u", "ab", err, sizeof(err)) == -1, "2-byte password refused");
	T_CHECK(strstr(err, "shorter than 3") != NULL, "reason names the limit: %s", err);
	T_CHECK(mxt_secret_password("u", "a", err, sizeof(err)) == -1, "1-byte password refused");
	T_CHECK(mxt_secret_count() == 0, "nothing registered for a refused password");
	T_CHECK(mxt_secret_password("u", PW, err, sizeof(err)) == 0, "password registered");
	T_CHECK(mxt_secret_count() >= 14, "forms registered: %zu", mxt_secret_count());

	/* The raw password anywhere in a line. */
	{
		char line[] = "220 mx knows Open-Sesame?>~42 indeed";

		mxt_secret_scrub(line, strlen(line));
		T_CHECK(strcmp(line, "220 mx knows **************** indeed") == 0, "raw: %s", line);
	}
	/* Every prefix length 0-5 (all three alignments twice), suffixes 0-3,
	 * both alphabets, padded and unpadded. */
	for (pre = 0; pre < 6; pre++)
		for (suf = 0; suf < 4; suf++)
			for (url = 0; url < 2; url++)
				for (pad = 0; pad < 2; pad++) {
					size_t k, first, last;

					memset(buf, 'x', sizeof(buf));
					memcpy(buf + pre, PW, n);
					memset(buf + pre + n, '\n', suf);
					b64(buf, pre + n + suf, url, pad, enc);
					mxt_secret_scrub(enc, strlen(enc));
					/* The characters the password alone decides. */
					b64(buf, pre + n + suf, url, 1, core);
					first = (pre * 8 + 5) / 6;
					last = ((pre + n) * 8) / 6;
					memmove(core, core + first, last - first);
					core[last - first] = '\0';
					for (k = 0; k < strlen(enc) && enc[k] != '*'; k++)
						;
					cases++;
					if (leaks(enc, core) || k == strlen(enc))
						all_ok = 0;
				}
	T_CHECK(all_ok, "password inside base64 at every alignment (%d cases)", cases);
	/* AUTH PLAIN: NUL u NUL password, whole blob starred. */
	{
		unsigned char plain[64];
		size_t len = 0;

		plain[len++] = '\0';
		plain[len++] = 'u';
		plain[len++] = '\0';
		memcpy(plain + len, PW, n);
		len += n;
		b64(plain, len, 0, 1, enc);
		mxt_secret_scrub(enc, strlen(enc));
		T_CHECK(strspn(enc, "*") == strlen(enc), "PLAIN blob starred whole: %s", enc);
	}
	/* Ordinary text stays. */
	{
		char line[] = "250-mx.example.test Hello client.example.test";

		T_CHECK(mxt_secret_scrub(line, strlen(line)) == 0 &&
			strcmp(line, "250-mx.example.test Hello client.example.test") == 0,
		    "ordinary text untouched");
	}
	mxt_secret_clear();
	T_CHECK(mxt_secret_count() == 0, "cleared");
	return t_done();
}
