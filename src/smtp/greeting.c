/* SPDX-License-Identifier: MIT */
/*
 * What a server's reply text says about the client: the address it saw us
 * connect from, when it echoes one in brackets ("Hello x [192.0.2.1]",
 * "at your service, [192.0.2.1]").  Pure: it reads the bytes of one reply
 * line and never touches a socket or DNS.  Which reply to read, and what
 * the address means, is the caller's decision (src/engine).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/reply.h"

/* Scan window after a "[": "IPv6:" and the longest IPv6 text (45) fit. */
#define LITERAL_SPAN 60

/* Only the characters an IPv4 or IPv6 address is written with: a NUL or
 * anything else inside the brackets is not an address. */
static int
address_chars(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF.:", p[i]) == NULL || p[i] == '\0')
			return 0;
	return len > 0;
}

int
mxt_reply_echoed_address(const char *p, size_t len, char *out, size_t n)
{
	size_t i, j;

	if (p == NULL || out == NULL || n == 0)
		return 0;
	for (i = 0; i < len; i++) {
		const char *a;
		size_t alen;
		unsigned char b[16];

		if (p[i] != '[')
			continue;
		for (j = i + 1; j < len && p[j] != ']' && j - i < LITERAL_SPAN; j++)
			;
		if (j >= len || p[j] != ']')
			continue;
		a = p + i + 1;
		alen = j - i - 1;
		/* RFC 5321 §4.1.3: an IPv6 address literal has the "IPv6:" tag. */
		if (alen > 5 && strncasecmp(a, "IPv6:", 5) == 0) {
			a += 5;
			alen -= 5;
		}
		if (alen >= n || !address_chars(a, alen))
			continue;
		memcpy(out, a, alen);
		out[alen] = '\0';
		if (inet_pton(AF_INET, out, b) == 1 || inet_pton(AF_INET6, out, b) == 1)
			return 1;
	}
	out[0] = '\0';
	return 0;
}
