/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the --send message builder (src/smtp/message.c).  The
 * input is fields separated by NUL bytes: flags, sender, recipients
 * (separated by LF), EHLO name, body; the flags byte picks body or
 * body-file, 8BITMIME and a padding size.  Invariants on success (message.h,
 * RFC 5321 §4.5.2, §4.5.3.1.6): every line ends with CRLF, no bare CR or LF,
 * no line longer than 998 octets, no line that is a lone ".", never
 * "\r\n.\r\n", no 8-bit byte in the body without 8BITMIME (the header may
 * carry a UTF-8 address, RFC 6532 §3.2), and the exact padded length
 * when padding was asked and possible.  A broken invariant calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/limits.h"
#include "mxtrace/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* Next NUL-separated field as a new string ("" past the end). */
static char *
field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *z = memchr(*p, '\0', (size_t)(end - *p));
	size_t n = z != NULL ? (size_t)(z - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	check(s != NULL);
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += z != NULL ? n + 1 : n;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct mxt_message_params mp;
	char *from, *tos, *ehlo, *body, *to[4], *out = NULL, err[256], *s;
	size_t nto = 0, len = 0, i, linelen = 0, body_at;
	unsigned flags;

	if (size < 1 || size > 65536)
		return 0;
	flags = data[0];
	p++;
	from = field(&p, end);
	tos = field(&p, end);
	ehlo = field(&p, end);
	body = field(&p, end);
	for (s = tos; nto < 4 && *s != '\0';) {
		to[nto++] = s;
		s = strchr(s, '\n');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	memset(&mp, 0, sizeof(mp));
	mp.from = from;
	mp.to = to;
	mp.nto = nto;
	mp.ehlo = ehlo;
	if (flags & 1) {
		mp.body_file_data = body;
		mp.body_file_len = strlen(body);
	} else if (flags & 2) {
		mp.body = body;
	}
	mp.eightbit_ok = (flags & 4) != 0;
	mp.pad_to = (flags & 8) ? (uint64_t)(flags >> 4) * 300 : 0;
	mp.now = 1700000000;
	mp.rand = 0x0123456789abcdefULL;
	if (mxt_message_build(&mp, &out, &len, err, sizeof(err)) == 0) {
		check(out != NULL && out[len] == '\0');
		check(len >= 2 && out[len - 2] == '\r' && out[len - 1] == '\n');
		s = strstr(out, "\r\n\r\n");
		check(s != NULL);
		body_at = (size_t)(s - out) + 4;
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)out[i];

			check(c != '\0');
			check(mp.eightbit_ok || c < 0x80 || i < body_at);
			if (c == '\r') {
				check(i + 1 < len && out[i + 1] == '\n');
				check(linelen <= MXT_DATA_LINE_MAX);
				check(!(linelen == 1 && out[i - 1] == '.'));
				linelen = 0;
				i++;
				continue;
			}
			check(c != '\n');
			linelen++;
		}
		check(strstr(out, "\r\n.\r\n") == NULL);
		if (mp.pad_to > 0 && len != mp.pad_to)
			check(len > mp.pad_to); /* only when the message is longer already */
	} else {
		check(out == NULL && len == 0);
	}
	free(out);
	free(from);
	free(tos);
	free(ehlo);
	free(body);
	return 0;
}

#define FUZZ_NAME "fuzz_message"
#include "replay.h"
