/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the validators and IDN conversion (src/core/validate.c,
 * src/core/idn.c): any bytes as a host name, an address literal, a mailbox
 * and an IDN domain.  Invariants: whatever a validator accepts has no byte
 * below 0x20 and no DEL (nothing it passes can smuggle a command line, RFC
 * 5321 §4.1.2), fits the RFC 5321 §4.5.3.1 sizes, and a converted IDN is an
 * ASCII host name the hostname validator accepts.  A broken invariant calls
 * abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/idn.h"
#include "mxtrace/limits.h"
#include "mxtrace/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *ascii = NULL, *uni = NULL, err[256];

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	check(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0'; /* a NUL inside ends the string, as in argv */
	if (mxt_valid_hostname(s))
		check(clean(s) && strlen(s) <= MXT_DOMAIN_MAX + 1 && strchr(s, ' ') == NULL);
	if (mxt_valid_address_literal(s))
		check(clean(s));
	if (mxt_valid_mailbox(s, 0, err, sizeof(err)))
		check(clean(s) && strlen(s) <= MXT_PATH_MAX);
	else
		check(memchr(err, '\0', sizeof(err)) != NULL);
	(void)mxt_valid_mailbox(s, 1, err, sizeof(err));
	if (mxt_idn_to_ascii(s, &ascii, &uni, err, sizeof(err)) == 0) {
		const char *p;

		check(ascii != NULL);
		for (p = ascii; *p; p++)
			check((unsigned char)*p < 0x80);
		check(clean(ascii));
	}
	free(ascii);
	free(uni);
	free(s);
	return 0;
}

#define FUZZ_NAME "fuzz_validate"
#include "replay.h"
