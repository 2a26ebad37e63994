/* SPDX-License-Identifier: MIT */
/*
 * Transport security policies as data (src/core/tlspolicy.c): pure parsers
 * for the DNS and HTTPS texts that publish them, and the matching rules.
 * TLSA records (RFC 6698 §2.1) and which of them an SMTP client may use
 * (RFC 7672 §3.1), the _mta-sts TXT record (RFC 8461 §3.1), the MTA-STS
 * policy file (RFC 8461 §3.2) and its MX patterns (RFC 8461 §4.1), and the
 * TLS-RPT record (RFC 8460 §3).  They take bytes and lengths, never touch
 * the network and never judge: the report stage does.
 */
#ifndef MXTRACE_TLSPOLICY_H
#define MXTRACE_TLSPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "mxtrace/record.h"

/* Most TLSA records kept per name, and the longest association data (a
 * full certificate, selector 0 matching type 0). */
#define MXT_TLSA_MAX 32
#define MXT_TLSA_DATA_MAX 16384
/* RFC 8461 §3.3: the policy body is at most 64 KiB. */
#define MXT_STS_BODY_MAX (64 * 1024)
/* Policy fetch: connect plus transfer, milliseconds (RFC 8461 §3.3 asks for
 * "a reasonable timeout"; a minute would hold the run). */
#define MXT_STS_FETCH_MS 10000
/* RFC 8461 §3.2: max_age is at most 31557600 seconds (about one year). */
#define MXT_STS_MAX_AGE_MAX 31557600
/* MX patterns kept per policy, and TLS-RPT report addresses per record. */
#define MXT_STS_MX_MAX 64
#define MXT_TLSRPT_RUA_MAX 16

/* The TLSA records (type 52) of an answer's answer section, any owner (a
 * CNAME chain may precede them).  *out is owned by the caller (free each
 * data, then the array); at most MXT_TLSA_MAX are kept.  Returns the number
 * kept, or -1 when the message is malformed. */
int mxt_tlsa_parse(const unsigned char *abuf, size_t alen, struct mxt_tlsa **out, size_t *n);
/* RFC 7672 §3.1: usable for SMTP are DANE-TA(2) and DANE-EE(3) with a
 * known selector (0, 1) and matching type (0, 1, 2) and data of the right
 * length; PKIX-TA(0) and PKIX-EE(1) are not. */
int mxt_tlsa_usable(const struct mxt_tlsa *r);
/* "U S M hex" of a record, hex cut after 64 digits with "..."; caller frees. */
char *mxt_tlsa_text(const struct mxt_tlsa *r);

/* The _mta-sts TXT record (RFC 8461 §3.1): "v=STSv1" first, then fields
 * separated by ";" with an "id" of 1 to 32 letters and digits.  Returns 1
 * when valid with *id set (caller frees), 0 with a reason in *err. */
int mxt_sts_txt_parse(const char *txt, size_t len, char **id, char **err);
/* The policy body (RFC 8461 §3.2): "key: value" lines ended by LF or CRLF,
 * version STSv1, mode, mx (repeated), max_age.  Fills out's mode, mx,
 * max_age, policy_valid and policy_error (owned by out). */
void mxt_sts_policy_parse(const char *body, size_t len, struct mxt_sts *out);
/* RFC 8461 §4.1: host matches pattern, case-insensitively, a leading "*."
 * standing for exactly one label.  Trailing dots are ignored. */
int mxt_sts_mx_match(const char *pattern, const char *host);
/* The TLS-RPT record (RFC 8460 §3): "v=TLSRPTv1" first, then "rua=" with
 * comma-separated mailto: or https: URIs.  Fills out's valid, error, rua. */
void mxt_tlsrpt_parse(const char *txt, size_t len, struct mxt_tlsrpt *out);

#endif
