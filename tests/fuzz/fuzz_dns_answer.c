/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for mxtrace's handling of DNS answers (src/dns/answer.c and
 * the address parsing of src/dns/mx.c): the first byte is the length of the
 * query name that follows, the rest is a DNS message as a server could send
 * it.  The MX reader must follow at most a bounded CNAME chain, keep only MX
 * records of the chain's end, and return hosts that are NUL-terminated
 * strings; the A and AAAA parsers are called the way mx.c calls them, with
 * MXT_ADDRS_PER_MX_MAX slots.  A broken invariant calls abort().
 */
#include <ares.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/dns.h"
#include "mxtrace/limits.h"
#include "mxtrace/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxt_mx_answer ans;
	struct ares_addrttl at[MXT_ADDRS_PER_MX_MAX];
	struct ares_addr6ttl at6[MXT_ADDRS_PER_MX_MAX];
	struct hostent *he = NULL;
	char qname[256];
	size_t qlen, i;
	int rc, n, alen;
	const unsigned char *abuf;

	if (size < 1 || size > 65536 + 256)
		return 0;
	qlen = data[0];
	if (size < 1 + qlen)
		return 0;
	memcpy(qname, data + 1, qlen);
	qname[qlen] = '\0';
	abuf = data + 1 + qlen;
	alen = (int)(size - 1 - qlen);
	rc = mxt_mx_answer_parse(abuf, alen, qname, &ans);
	check(rc == ARES_SUCCESS || rc == ARES_ENODATA || rc == ARES_EBADRESP);
	if (rc == ARES_SUCCESS)
		check(ans.nmx > 0);
	else
		check(ans.nmx == 0);
	check(ans.ncname <= 16);
	for (i = 0; i < ans.nmx; i++) {
		check(ans.mx[i].host != NULL && strlen(ans.mx[i].host) < 1024);
		check(ans.mx[i].pref >= 0 && ans.mx[i].pref <= 65535);
		(void)mxt_valid_hostname(ans.mx[i].host);
	}
	mxt_mx_answer_free(&ans);
	n = MXT_ADDRS_PER_MX_MAX;
	if (ares_parse_a_reply(abuf, alen, &he, at, &n) == ARES_SUCCESS)
		check(n >= 0 && n <= MXT_ADDRS_PER_MX_MAX);
	if (he != NULL)
		ares_free_hostent(he);
	he = NULL;
	n = MXT_ADDRS_PER_MX_MAX;
	if (ares_parse_aaaa_reply(abuf, alen, &he, at6, &n) == ARES_SUCCESS)
		check(n >= 0 && n <= MXT_ADDRS_PER_MX_MAX);
	if (he != NULL)
		ares_free_hostent(he);
	return 0;
}

#define FUZZ_NAME "fuzz_dns_answer"
#include "replay.h"
