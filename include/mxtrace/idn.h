/* SPDX-License-Identifier: MIT */
/*
 * Internationalised domain names (src/core/idn.c), through libidn2, never
 * by hand.
 */
#ifndef MXTRACE_IDN_H
#define MXTRACE_IDN_H

#include <stddef.h>

/* Convert a domain (UTF-8, may contain U-labels) to its A-label form with
 * libidn2 (IDNA2008 + UTS #46 non-transitional).  On success returns 0 and
 * sets *ascii (lower-case, no trailing dot) and, if unicode is not NULL,
 * *unicode (U-label form); the caller frees both.  On failure returns -1 and
 * writes libidn2's reason to err. */
int mxt_idn_to_ascii(const char *in, char **ascii, char **unicode, char *err, size_t errlen);

#endif
