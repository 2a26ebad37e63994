/* SPDX-License-Identifier: MIT */
/*
 * The blocklist table (blocklists.def) and the pure helpers around it: which
 * list a reply text cites, the list's lookup page for an address, what a
 * list's DNS answer means, the RFC 5782 query name, and whether an address
 * is worth asking about (global) or a resolver is a public one.  No I/O.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/reputation.h"
#include "mxtrace/xalloc.h"
#include "mxtrace/validate.h"

enum bl_id {
#define MXT_BL(id, name, zone, url, dflt, nopub) BL_##id,
#define MXT_BL_PHRASE(id, phrase)
#define MXT_BL_CODE(zone, answer, status, meaning)
#include "blocklists.def"
#undef MXT_BL
#undef MXT_BL_PHRASE
#undef MXT_BL_CODE
	BL_COUNT
};

static const struct mxt_blocklist lists[] = {
#define MXT_BL(id, name, zone, url, dflt, nopub) {name, zone, url, dflt, nopub},
#define MXT_BL_PHRASE(id, phrase)
#define MXT_BL_CODE(zone, answer, status, meaning)
#include "blocklists.def"
#undef MXT_BL
#undef MXT_BL_PHRASE
#undef MXT_BL_CODE
};

static const struct {
	enum bl_id id;
	const char *phrase;
} phrases[] = {
#define MXT_BL(id, name, zone, url, dflt, nopub)
#define MXT_BL_PHRASE(id, phrase) {BL_##id, phrase},
#define MXT_BL_CODE(zone, answer, status, meaning)
#include "blocklists.def"
#undef MXT_BL
#undef MXT_BL_PHRASE
#undef MXT_BL_CODE
};

static const struct {
	const char *zone, *answer;
	enum mxt_dnsbl_status status;
	const char *meaning;
} codes[] = {
#define MXT_BL(id, name, zone, url, dflt, nopub)
#define MXT_BL_PHRASE(id, phrase)
#define MXT_BL_CODE(zone, answer, status, meaning) {zone, answer, MXT_DNSBL_##status, meaning},
#include "blocklists.def"
#undef MXT_BL
#undef MXT_BL_PHRASE
#undef MXT_BL_CODE
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive search of a lower-case needle in len bytes. */
static const char *
find_ci(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle), i, j;

	for (i = 0; n > 0 && i + n <= len; i++) {
		for (j = 0; j < n && lower(text[i + j]) == needle[j]; j++)
			;
		if (j == n)
			return text + i;
	}
	return NULL;
}

/* A DNS-name-like token at p (letters, digits, '-', '.'), into out. */
static size_t
zone_token(const char *p, const char *end, char *out, size_t n)
{
	size_t k = 0;

	while (p < end && k + 1 < n &&
	    ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		*p == '-' || *p == '.'))
		out[k++] = lower(*p++);
	while (k > 0 && out[k - 1] == '.')
		k--;
	out[k] = '\0';
	/* A zone has a dot and is no sentence: "listed at our site" is not one. */
	return strchr(out, '.') != NULL ? k : 0;
}

int
mxt_blocklist_find(const char *text, size_t len, struct mxt_blocklist_hit *hit)
{
	size_t i;

	memset(hit, 0, sizeof(*hit));
	for (i = 0; i < NELEM(phrases); i++) {
		const char *p = find_ci(text, len, phrases[i].phrase);
		char zone[sizeof(hit->name)];

		if (p == NULL)
			continue;
		snprintf(hit->phrase, sizeof(hit->phrase), "%s", phrases[i].phrase);
		if (phrases[i].id != BL_GENERIC) {
			hit->list = &lists[phrases[i].id];
			snprintf(hit->name, sizeof(hit->name), "%s", hit->list->name);
			return 1;
		}
		/* "blocked using ZONE": name the list by its zone. */
		p += strlen(phrases[i].phrase);
		if (zone_token(p, text + len, zone, sizeof(zone)) > 0) {
			hit->list = mxt_blocklist_by_zone(zone);
			snprintf(hit->name, sizeof(hit->name), "%s",
			    hit->list != NULL ? hit->list->name : zone);
			return 1;
		}
		snprintf(hit->name, sizeof(hit->name), "%s", lists[BL_GENERIC].name);
		return 1;
	}
	return 0;
}

const struct mxt_blocklist *
mxt_blocklist_by_zone(const char *zone)
{
	size_t i, n = strlen(zone);

	while (n > 0 && zone[n - 1] == '.')
		n--;
	for (i = 0; i < NELEM(lists); i++)
		if (lists[i].zone[0] != '\0' && strlen(lists[i].zone) == n &&
		    strncasecmp(lists[i].zone, zone, n) == 0)
			return &lists[i];
	return NULL;
}

const struct mxt_blocklist *
mxt_blocklist_at(size_t i)
{
	return i < NELEM(lists) ? &lists[i] : NULL;
}

char *
mxt_blocklist_url(const struct mxt_blocklist *b, const char *addr)
{
	const char *pct;
	size_t n;
	char *out;

	if (b == NULL || b->url[0] == '\0')
		return NULL;
	pct = strstr(b->url, "%s");
	if (pct == NULL)
		return mxt_xstrdup(b->url);
	if (addr == NULL) /* the page without the address */
		return mxt_xstrndup(b->url, (size_t)(pct - b->url));
	n = strlen(b->url) + strlen(addr) + 1;
	out = mxt_xmalloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(pct - b->url), b->url, addr, pct + 2);
	return out;
}

/* Does zone end with the label sequence suffix? */
static int
zone_under(const char *zone, const char *suffix)
{
	size_t z = strlen(zone), s = strlen(suffix);

	if (z < s || strcasecmp(zone + z - s, suffix) != 0)
		return 0;
	return z == s || zone[z - s - 1] == '.';
}

enum mxt_dnsbl_status
mxt_dnsbl_answer(const char *zone, const char *answer, const char **meaning)
{
	struct in_addr a;
	size_t i;

	*meaning = NULL;
	/* RFC 5782 §2.1: list entries are A records in 127.0.0.0/8; anything
	 * else is a resolver rewriting NXDOMAIN, or a broken list. */
	if (inet_pton(AF_INET, answer, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
		*meaning = "the answer is outside 127.0.0.0/8: not a list entry (a resolver that "
			   "rewrites NXDOMAIN answers?)";
		return MXT_DNSBL_ERROR;
	}
	for (i = 0; i < NELEM(codes); i++)
		if (zone_under(zone, codes[i].zone) && strcmp(codes[i].answer, answer) == 0) {
			*meaning = codes[i].meaning;
			return codes[i].status;
		}
	return MXT_DNSBL_LISTED;
}

int
mxt_dnsbl_query_name(const char *addr, const char *zone, char *out, size_t n)
{
	unsigned char b[16];
	int len;

	if (inet_pton(AF_INET, addr, b) == 1) {
		len = snprintf(out, n, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
	} else if (inet_pton(AF_INET6, addr, b) == 1) {
		static const char hex[] = "0123456789abcdef";
		size_t o = 0;
		int i;

		/* RFC 5782 §2.4: 32 nibbles, least significant first. */
		if (n < 65)
			return -1;
		for (i = 15; i >= 0; i--) {
			out[o++] = hex[b[i] & 15];
			out[o++] = '.';
			out[o++] = hex[b[i] >> 4];
			out[o++] = '.';
		}
		len = snprintf(out + o, n - o, "%s", zone);
		len = len < 0 ? len : len + (int)o;
	} else {
		return -1;
	}
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

int
mxt_resolver_is_public(const char *addr)
{
	static const char *const pub[] = {"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888",
	    "2001:4860:4860::8844", "1.1.1.1", "1.0.0.1", "2606:4700:4700::1111",
	    "2606:4700:4700::1001", "9.9.9.9", "149.112.112.112", "2620:fe::fe", "2620:fe::9",
	    "208.67.222.222", "208.67.220.220", "2620:119:35::35", "2620:119:53::53"};
	unsigned char a[16], b[16];
	size_t i;
	int fam = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(fam, addr, a) != 1)
		return 0;
	for (i = 0; i < NELEM(pub); i++)
		if (inet_pton(fam, pub[i], b) == 1 && memcmp(a, b, fam == AF_INET ? 4 : 16) == 0)
			return 1;
	return 0;
}

int
mxt_address_is_global(const char *addr)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, addr, b) == 1)
		return mxt_ip_global(AF_INET, b);
	if (inet_pton(AF_INET6, addr, b) == 1)
		return mxt_ip_global(AF_INET6, b);
	return 0;
}
