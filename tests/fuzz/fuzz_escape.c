/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the escaper (src/core/escape.c): any bytes in, and the
 * output must be valid UTF-8 with no C0, DEL or C1 control, no bidi or
 * format character raw, never longer than its cap allows, and JSON-safe
 * through cJSON (a print/parse round trip gives the same string back).
 * The first byte picks the cap.  A broken invariant calls abort().
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* The escaped text is printable UTF-8: every code point decodes, none is a
 * control or a bidi/format character. */
static void
check_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		uint32_t cp;
		size_t k = mxt_utf8_decode(p, n, &cp);

		check(k > 0 && k <= n);
		check(cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f));
		check(!(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069));
		check(cp != 0x200e && cp != 0x200f && cp != 0x061c);
		p += k;
		n -= k;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max;
	char *e, *printed;
	cJSON *j, *back;

	if (size < 1)
		return 0;
	max = data[0] < 16 ? 0 : (size_t)data[0] * 8; /* 0: no cap */
	e = mxt_escape((const char *)data + 1, size - 1, max);
	check(e != NULL);
	check_printable(e);
	if (max > 0)
		check(strlen(e) <= max); /* "..." included */
	j = cJSON_CreateString(e);
	check(j != NULL);
	printed = cJSON_PrintUnformatted(j);
	check(printed != NULL);
	back = cJSON_Parse(printed);
	check(back != NULL && cJSON_IsString(back) && strcmp(back->valuestring, e) == 0);
	cJSON_Delete(back);
	free(printed);
	cJSON_Delete(j);
	free(e);
	return 0;
}

#define FUZZ_NAME "fuzz_escape"
#include "replay.h"
