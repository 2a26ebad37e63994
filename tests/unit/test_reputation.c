/* SPDX-License-Identifier: MIT */
/*
 * Reputation stage, pure parts: the blocklist table (one real reply text
 * per phrase, and a check that every phrase has one), lookup pages, what
 * list answers mean (RFC 5782, Spamhaus return codes), RFC 5782 query
 * names, the public-resolver and global-address tests, and the DMARC
 * record parser (RFC 7489 §6.3).
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/reputation.h"
#include "t.h"

static const char *const table_phrases[] = {
#define MXT_BL(id, name, zone, url, dflt, nopub)
#define MXT_BL_PHRASE(id, phrase) phrase,
#define MXT_BL_CODE(zone, answer, status, meaning)
#include "../../src/reputation/blocklists.def"
#undef MXT_BL
#undef MXT_BL_PHRASE
#undef MXT_BL_CODE
};
#define NPHRASES (sizeof(table_phrases) / sizeof(table_phrases[0]))

/* Real reply texts (addresses replaced by documentation ones), the phrase
 * each must hit first, and the list name it must give. */
static const struct {
	const char *phrase, *text, *name;
} replies[] = {
    {"zen.spamhaus.org",
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
	"https://www.spamhaus.org/query/ip/192.0.2.1",
	"Spamhaus ZEN"},
    {"sbl-xbl.spamhaus.org",
	"553 5.3.0 <x@example.org>... Rejected - see http://www.spamhaus.org/ "
	"(sbl-xbl.spamhaus.org)",
	"Spamhaus SBL"},
    {"sbl.spamhaus.org",
	"554 Service unavailable; Client host [192.0.2.1] blocked using sbl.spamhaus.org",
	"Spamhaus SBL"},
    {"spamhaus.org/sbl", "550 5.7.1 Rejected: see https://www.spamhaus.org/sbl/query/SBL123456",
	"Spamhaus SBL"},
    {"xbl.spamhaus.org", "554 5.7.1 Client host [192.0.2.1] blocked using xbl.spamhaus.org",
	"Spamhaus XBL"},
    {"spamhaus.org/xbl", "550 IP listed, see https://www.spamhaus.org/xbl/query/XBL123",
	"Spamhaus XBL"},
    {"cbl.abuseat.org", "550 5.7.1 Blocked - see http://cbl.abuseat.org/lookup.cgi?ip=192.0.2.1",
	"Spamhaus XBL"},
    {"pbl.spamhaus.org",
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using pbl.spamhaus.org",
	"Spamhaus PBL"},
    {"spamhaus.org/pbl", "550 5.7.1 Dynamic IP, see https://www.spamhaus.org/pbl/query/PBL1234",
	"Spamhaus PBL"},
    {"spamhaus", "550 5.7.1 Your IP is listed by Spamhaus", "Spamhaus"},
    {"b.barracudacentral.org",
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	"b.barracudacentral.org",
	"Barracuda Reputation Block List"},
    {"barracuda reputation",
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using Barracuda "
	"Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
	"Barracuda Reputation Block List"},
    {"barracudanetworks.com/reputation",
	"550 permanent failure for one or more recipients (see "
	"http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1)",
	"Barracuda Reputation Block List"},
    {"barracudacentral", "550 Rejected, see barracudacentral for details",
	"Barracuda Reputation Block List"},
    {"bl.spamcop.net",
	"550 5.7.1 Blocked - see http://www.spamcop.net/bl.shtml?192.0.2.1 (bl.spamcop.net)",
	"SpamCop"},
    {"spamcop", "550 5.7.1 Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1", "SpamCop"},
    {"uceprotect",
	"550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	"dnsbl-1.uceprotect.net; IP 192.0.2.1 is UCEPROTECT-Level1 listed",
	"UCEPROTECT"},
    {"sorbs.net",
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using dnsbl.sorbs.net",
	"SORBS"},
    {"mailspike", "554 5.7.1 Client host [192.0.2.1] blocked using bl.mailspike.net", "Mailspike"},
    {"psbl.surriel.com", "550 5.7.1 Client host [192.0.2.1] blocked using psbl.surriel.com",
	"PSBL"},
    {"ipcheck.proofpoint.com", "554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1",
	"Proofpoint"},
    {"proofpoint dynamic reputation",
	"421 4.7.0 192.0.2.1 temporarily deferred by Proofpoint Dynamic Reputation", "Proofpoint"},
    {"(s3150)",
	"550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
	"Internet service provider since part of their network is on our block list (S3150).",
	"Microsoft (Outlook.com, Microsoft 365)"},
    {"(s3140)",
	"550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
	"Internet service provider since part of their network is on our block list (S3140).",
	"Microsoft (Outlook.com, Microsoft 365)"},
    {"banned sending ip",
	"550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this "
	"list please visit https://sender.office.com/",
	"Microsoft (Outlook.com, Microsoft 365)"},
    {"on our block list", "550 SC-001 Mail rejected by Outlook.com: your IP is on our block list",
	"Microsoft (Outlook.com, Microsoft 365)"},
    {"ip temporarily blacklisted",
	"451 IP temporarily blacklisted - https://community.mimecast.com/docs/DOC-1369#451",
	"Mimecast"},
    {"mimecast ip reputation", "550 Rejected by Mimecast IP Reputation", "Mimecast"},
    {"csi.cloudmark.com",
	"550 5.7.1 Poor Reputation Sender. - https://csi.cloudmark.com/reset-request/?ip=192.0.2.1",
	"Cloudmark Sender Intelligence"},
    {"cloudmark", "554 5.7.1 Rejected by Cloudmark: poor sender reputation",
	"Cloudmark Sender Intelligence"},
    {"senderscore", "554 5.7.1 Low SenderScore reputation", "Validity Sender Score"},
    {"blocked using ", "554 5.7.1 Client host [192.0.2.1] blocked using dnsbl.example.net; listed",
	"dnsbl.example.net"},
    {"listed at ", "550 5.7.1 Your address is listed at bl.example.com.", "bl.example.com"},
    {"listed in ", "550 5.7.1 192.0.2.1 is listed in rbl.example.org", "rbl.example.org"},
    {"dnsbl", "550 5.7.1 Rejected: found in a DNSBL", "a blocklist"},
    {" rbl", "554 5.7.1 Rejected by RBL check", "a blocklist"},
    {"blacklist", "550 5.7.1 Your IP is blacklisted here", "a blocklist"},
    {"blocklist", "550 5.7.1 Sender IP on local blocklist", "a blocklist"},
    {"block list", "550 5.7.1 Your IP appears on a block list", "a blocklist"},
};
#define NREPLIES (sizeof(replies) / sizeof(replies[0]))

static void
test_phrases(void)
{
	size_t i, j;

	for (i = 0; i < NREPLIES; i++) {
		struct mxt_blocklist_hit hit;
		int ok = mxt_blocklist_find(replies[i].text, strlen(replies[i].text), &hit);

		T_CHECK(ok && strcmp(hit.phrase, replies[i].phrase) == 0,
		    "reply %zu hits phrase \"%s\" (got \"%s\")", i, replies[i].phrase,
		    ok ? hit.phrase : "-");
		T_CHECK(ok && strcmp(hit.name, replies[i].name) == 0,
		    "reply %zu names \"%s\" (got \"%s\")", i, replies[i].name, ok ? hit.name : "-");
	}
	/* Every phrase of the table has a real reply that reaches it. */
	for (i = 0; i < NPHRASES; i++) {
		for (j = 0; j < NREPLIES && strcmp(replies[j].phrase, table_phrases[i]) != 0; j++)
			;
		T_CHECK(j < NREPLIES, "phrase \"%s\" has a test reply", table_phrases[i]);
	}
}

static void
test_not_blocklists(void)
{
	static const char *const texts[] = {
	    "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown",
	    "450 4.7.1 <user@example.org>: Recipient address rejected: greylisted, try again later",
	    "554 5.7.1 <user@example.org>: Relay access denied",
	    "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.2]",
	    "454 4.7.0 TLS not available due to local problem",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct mxt_blocklist_hit hit;

		T_CHECK(!mxt_blocklist_find(texts[i], strlen(texts[i]), &hit),
		    "no blocklist in \"%s\"", texts[i]);
	}
}

static void
test_find_edges(void)
{
	struct mxt_blocklist_hit hit;
	const char upper[] = "554 BLOCKED USING ZEN.SPAMHAUS.ORG";
	const char with_nul[] = "554 5.7.1 \0 blocked using zen.spamhaus.org";
	const char nozone[] = "554 5.7.1 Client host blocked using our own rules";

	T_CHECK(
	    mxt_blocklist_find(upper, strlen(upper), &hit) && strcmp(hit.name, "Spamhaus ZEN") == 0,
	    "case-insensitive match");
	T_CHECK(mxt_blocklist_find(with_nul, sizeof(with_nul) - 1, &hit) &&
		strcmp(hit.name, "Spamhaus ZEN") == 0,
	    "a NUL byte does not hide the rest of the text");
	T_CHECK(mxt_blocklist_find(nozone, strlen(nozone), &hit) &&
		strcmp(hit.name, "a blocklist") == 0 && hit.list == NULL,
	    "\"blocked using\" without a zone names no list");
	T_CHECK(!mxt_blocklist_find("", 0, &hit), "empty text");
}

static void
test_table(void)
{
	size_t i;
	int ndefault = 0;

	for (i = 0; mxt_blocklist_at(i) != NULL; i++) {
		const struct mxt_blocklist *b = mxt_blocklist_at(i);

		if (b->dflt) {
			ndefault++;
			T_CHECK(b->zone[0] != '\0', "default list %s has a zone", b->name);
		}
		if (b->zone[0] != '\0')
			T_CHECK(mxt_blocklist_by_zone(b->zone) == b, "zone %s finds %s", b->zone,
			    b->name);
	}
	T_CHECK(ndefault == 3, "three default lists (got %d)", ndefault);
	T_CHECK(
	    mxt_blocklist_by_zone("ZEN.Spamhaus.ORG.") != NULL, "zone lookup ignores case and dot");
	T_CHECK(mxt_blocklist_by_zone("spamhaus.org") == NULL, "no list for a parent zone");
}

static void
test_urls(void)
{
	char *u;

	u = mxt_blocklist_url(mxt_blocklist_by_zone("bl.spamcop.net"), "192.0.2.1");
	T_CHECK(u != NULL &&
		strcmp(u, "https://www.spamcop.net/w3m?action=checkblock&ip=192.0.2.1") == 0,
	    "SpamCop URL with the address (%s)", u ? u : "NULL");
	free(u);
	u = mxt_blocklist_url(mxt_blocklist_by_zone("zen.spamhaus.org"), NULL);
	T_CHECK(u != NULL && strcmp(u, "https://check.spamhaus.org/results/?query=") == 0,
	    "URL without an address stops before it (%s)", u ? u : "NULL");
	free(u);
	u = mxt_blocklist_url(mxt_blocklist_by_zone("b.barracudacentral.org"), "192.0.2.1");
	T_CHECK(u != NULL &&
		strcmp(u, "https://www.barracudacentral.org/lookups/lookup-reputation") == 0,
	    "URL without a placeholder is kept");
	free(u);
	T_CHECK(mxt_blocklist_url(mxt_blocklist_by_zone("dnsbl.sorbs.net"), "192.0.2.1") == NULL,
	    "no URL for a list without one");
	T_CHECK(mxt_blocklist_url(NULL, "192.0.2.1") == NULL, "no URL for an unknown list");
}

static void
test_answers(void)
{
	const char *m;

	T_CHECK(mxt_dnsbl_answer("zen.spamhaus.org", "127.0.0.2", &m) == MXT_DNSBL_LISTED && m &&
		strncmp(m, "SBL", 3) == 0,
	    "Spamhaus 127.0.0.2 is the SBL");
	T_CHECK(mxt_dnsbl_answer("zen.spamhaus.org", "127.0.0.10", &m) == MXT_DNSBL_LISTED && m &&
		strncmp(m, "PBL", 3) == 0,
	    "Spamhaus 127.0.0.10 is the PBL");
	T_CHECK(mxt_dnsbl_answer("zen.spamhaus.org", "127.255.255.254", &m) == MXT_DNSBL_REFUSED &&
		m && strstr(m, "public") != NULL,
	    "Spamhaus 127.255.255.254 is a refusal (public resolver)");
	T_CHECK(mxt_dnsbl_answer("sbl.spamhaus.org", "127.255.255.255", &m) == MXT_DNSBL_REFUSED,
	    "refusal codes apply to every Spamhaus zone");
	T_CHECK(mxt_dnsbl_answer("notspamhaus.org", "127.255.255.254", &m) == MXT_DNSBL_LISTED &&
		m == NULL,
	    "a zone merely ending in the same letters is another list");
	T_CHECK(
	    mxt_dnsbl_answer("dnsbl.example.net", "127.0.0.5", &m) == MXT_DNSBL_LISTED && m == NULL,
	    "unknown list, 127/8 answer: listed");
	T_CHECK(mxt_dnsbl_answer("zen.spamhaus.org", "198.51.100.7", &m) == MXT_DNSBL_ERROR && m,
	    "an answer outside 127/8 is an error (NXDOMAIN rewriting)");
	T_CHECK(mxt_dnsbl_answer("zen.spamhaus.org", "not-an-address", &m) == MXT_DNSBL_ERROR,
	    "garbage is an error");
}

static void
test_query_names(void)
{
	char n[300], small[20];

	T_CHECK(mxt_dnsbl_query_name("192.0.2.1", "zen.spamhaus.org", n, sizeof(n)) == 0 &&
		strcmp(n, "1.2.0.192.zen.spamhaus.org") == 0,
	    "IPv4 reversed (%s)", n);
	T_CHECK(mxt_dnsbl_query_name("2001:db8::1", "zen.spamhaus.org", n, sizeof(n)) == 0 &&
		strcmp(n,
		    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
		    "zen.spamhaus.org") == 0,
	    "IPv6 in nibbles, RFC 5782 section 2.4 (%s)", n);
	T_CHECK(mxt_dnsbl_query_name("example.org", "zen.spamhaus.org", n, sizeof(n)) < 0,
	    "not an address");
	T_CHECK(mxt_dnsbl_query_name("192.0.2.1", "zen.spamhaus.org", small, sizeof(small)) < 0,
	    "a name that does not fit is refused");
	T_CHECK(mxt_dnsbl_query_name("2001:db8::1", "z", small, sizeof(small)) < 0,
	    "an IPv6 name that does not fit is refused");
}

static void
test_addresses(void)
{
	T_CHECK(mxt_resolver_is_public("8.8.8.8"), "8.8.8.8 is public");
	T_CHECK(mxt_resolver_is_public("2606:4700:4700::1111"), "Cloudflare v6 is public");
	T_CHECK(
	    mxt_resolver_is_public("2606:4700:4700:0:0:0:0:1111"), "same address, other spelling");
	T_CHECK(!mxt_resolver_is_public("127.0.0.53"), "a local resolver is not public");
	T_CHECK(!mxt_resolver_is_public("nonsense"), "garbage is not public");
	T_CHECK(mxt_address_is_global("198.51.99.1"), "198.51.99.1 is global");
	T_CHECK(mxt_address_is_global("2a00:1450::1"), "2a00:1450::1 is global");
	T_CHECK(!mxt_address_is_global("10.1.2.3"), "10/8 is private");
	T_CHECK(!mxt_address_is_global("172.16.0.1") && !mxt_address_is_global("172.31.255.255") &&
		mxt_address_is_global("172.32.0.1"),
	    "172.16/12 exactly");
	T_CHECK(!mxt_address_is_global("192.168.1.1"), "192.168/16 is private");
	T_CHECK(!mxt_address_is_global("100.64.0.1") && mxt_address_is_global("100.128.0.1"),
	    "100.64/10 (CGN) exactly");
	T_CHECK(!mxt_address_is_global("127.0.6.1"), "loopback is not global");
	T_CHECK(!mxt_address_is_global("169.254.1.1"), "link-local is not global");
	T_CHECK(!mxt_address_is_global("192.0.2.1") && !mxt_address_is_global("203.0.113.9"),
	    "documentation ranges are not global");
	T_CHECK(!mxt_address_is_global("::1") && !mxt_address_is_global("fd00::1") &&
		!mxt_address_is_global("fe80::1") && !mxt_address_is_global("2001:db8::5"),
	    "IPv6 loopback, ULA, link-local, documentation are not global");
	T_CHECK(!mxt_address_is_global("x"), "garbage is not global");
}

static void
dm_free(struct mxt_dmarc *d)
{
	free(d->policy);
	free(d->subdomain_policy);
	free(d->rua);
	free(d->error);
	memset(d, 0, sizeof(*d));
}

static void
test_dmarc(void)
{
	struct mxt_dmarc d;
	static const struct {
		const char *rec, *why;
	} bad[] = {
	    {"v=DMARC1; p=block; pct=200", "p=block"},
	    {"v=DMARC1 p=reject", "separated by"},
	    {"v=DMARC1; reject", "tag=value"},
	    {"p=reject; v=DMARC1", "v=DMARC1"},
	    {"v=DMARC2; p=reject", "v=DMARC1"},
	    {"v=DMARC1; rua=mailto:a@example.org", "p= tag"},
	    {"v=DMARC1; p=none; pct=abc", "pct=abc"},
	    {"v=DMARC1; p=none; pct=101", "pct=101"},
	    {"v=DMARC1; p=none; adkim=x", "alignment"},
	    {"v=DMARC1; p=none; sp=never", "sp=never"},
	    {"v=DMARC1; p=none; rua=https://example.org/r", "mailto"},
	    {"", "empty"},
	};
	size_t i;

	memset(&d, 0, sizeof(d));
	T_CHECK(mxt_dmarc_parse("v=DMARC1; p=reject; sp=quarantine; pct=50; adkim=s; aspf=r; "
				"rua=mailto:dmarc@example.org; ruf=mailto:f@example.org; fo=1",
		    &d) == 0 &&
		d.status == MXT_DMARC_OK,
	    "a full record parses");
	T_CHECK(d.policy && strcmp(d.policy, "reject") == 0 && d.subdomain_policy &&
		strcmp(d.subdomain_policy, "quarantine") == 0 && d.pct == 50 && d.adkim == 's' &&
		d.aspf == 'r' && d.rua && strcmp(d.rua, "mailto:dmarc@example.org") == 0,
	    "its fields");
	dm_free(&d);
	T_CHECK(mxt_dmarc_parse("v=DMARC1;p=none;", &d) == 0 && d.pct == 100 && d.adkim == 'r' &&
		d.aspf == 'r' && d.subdomain_policy == NULL,
	    "defaults, no spaces, trailing semicolon");
	dm_free(&d);
	T_CHECK(mxt_dmarc_parse("  v=DMARC1 ;\tp = quarantine ; future=tag", &d) == 0 &&
		strcmp(d.policy, "quarantine") == 0,
	    "spaces around tags, unknown tags ignored");
	dm_free(&d);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = mxt_dmarc_parse(bad[i].rec, &d);

		T_CHECK(rc < 0 && d.status == MXT_DMARC_INVALID && d.error != NULL &&
			strstr(d.error, bad[i].why) != NULL,
		    "\"%s\" is invalid: %s", bad[i].rec, d.error ? d.error : "(no error)");
		dm_free(&d);
	}
}

int
main(void)
{
	test_phrases();
	test_not_blocklists();
	test_find_edges();
	test_table();
	test_urls();
	test_answers();
	test_query_names();
	test_addresses();
	test_dmarc();
	return t_done();
}
