/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the transport security policy parsers (src/core/tlspolicy.c):
 * TLSA answers (RFC 6698) and their usability for SMTP (RFC 7672 §3.1), the
 * _mta-sts TXT record (RFC 8461 §3.1), the policy body (§3.2), the MX
 * pattern rule (§4.1) and the TLS-RPT record (RFC 8460 §3).
 */
#include <stdlib.h>
#include <string.h>

#include "mxtrace/tlspolicy.h"
#include "t.h"

static void
sts_free(struct mxt_sts *s)
{
	size_t i;

	for (i = 0; i < s->nmx; i++)
		free(s->mx[i]);
	free(s->mx);
	free(s->policy_error);
	memset(s, 0, sizeof(*s));
}

static void
rpt_free(struct mxt_tlsrpt *r)
{
	size_t i;

	for (i = 0; i < r->nrua; i++)
		free(r->rua[i]);
	free(r->rua);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

/* A DNS answer: header, question "_25._tcp.mx.t." TLSA, then one CNAME
 * (compressed owner) and n TLSA records of rdata len 3 + dlen. */
static size_t
build_answer(unsigned char *m, int n, const unsigned char *rdata, size_t rdlen)
{
	static const unsigned char q[] = {
	    3, '_', '2', '5', 4, '_', 't', 'c', 'p', 2, 'm', 'x', 1, 't', 0, 0, 52, 0, 1};
	size_t off = 0;
	int i;

	memset(m, 0, 12);
	m[2] = 0x81;
	m[3] = 0xa0; /* RA, AD */
	m[5] = 1;
	m[7] = (unsigned char)(n + 1);
	off = 12;
	memcpy(m + off, q, sizeof(q));
	off += sizeof(q);
	/* CNAME RR, owner = pointer to the question name: skipped. */
	m[off++] = 0xc0;
	m[off++] = 12;
	m[off++] = 0;
	m[off++] = 5;
	m[off++] = 0;
	m[off++] = 1;
	memset(m + off, 0, 4);
	off += 4;
	m[off++] = 0;
	m[off++] = 2;
	m[off++] = 0xc0;
	m[off++] = 12;
	for (i = 0; i < n; i++) {
		m[off++] = 0xc0;
		m[off++] = 12;
		m[off++] = 0;
		m[off++] = 52;
		m[off++] = 0;
		m[off++] = 1;
		memset(m + off, 0, 4);
		off += 4;
		m[off++] = (unsigned char)(rdlen >> 8);
		m[off++] = (unsigned char)rdlen;
		memcpy(m + off, rdata, rdlen);
		off += rdlen;
	}
	return off;
}

static void
test_tlsa(void)
{
	unsigned char m[4096], rd[35];
	struct mxt_tlsa *v = NULL;
	size_t n = 0, len, cut;
	int rc;
	char *s;

	rd[0] = 3;
	rd[1] = 1;
	rd[2] = 1;
	memset(rd + 3, 0xab, 32);
	len = build_answer(m, 2, rd, sizeof(rd));
	rc = mxt_tlsa_parse(m, len, &v, &n);
	T_CHECK(rc == 2 && n == 2, "two TLSA records after a CNAME (rc %d)", rc);
	T_CHECK(
	    n == 2 && v[0].usage == 3 && v[0].selector == 1 && v[0].mtype == 1 && v[0].len == 32,
	    "3 1 1 with 32 octets");
	T_CHECK(n == 2 && mxt_tlsa_usable(&v[0]), "3 1 1 SHA-256 is usable");
	s = n ? mxt_tlsa_text(&v[0]) : NULL;
	T_CHECK(s != NULL && strncmp(s, "3 1 1 abab", 10) == 0 && strlen(s) == 6 + 64,
	    "text form %s", s ? s : "(null)");
	free(s);
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
	/* Every truncation of the message is refused or yields fewer records,
	 * never a read past the end (ASan watches). */
	for (cut = 0; cut < len; cut++) {
		unsigned char *c = malloc(cut ? cut : 1);

		memcpy(c, m, cut);
		rc = mxt_tlsa_parse(c, cut, &v, &n);
		if (rc > 0) {
			for (size_t i = 0; i < n; i++)
				free(v[i].data);
			free(v);
		}
		free(c);
		if (rc > 1)
			break;
	}
	T_CHECK(
	    cut == len, "no truncation parses as two records (stopped at %zu of %zu)", cut, len);
	/* rdata shorter than usage/selector/type: malformed. */
	len = build_answer(m, 1, rd, 2);
	T_CHECK(
	    mxt_tlsa_parse(m, len, &v, &n) == -1 && v == NULL, "rdata of 2 octets is malformed");
	/* A compression pointer to itself: names are skipped, never followed,
	 * so no loop can start; the empty answer section gives 0 records. */
	memset(m, 0, 12);
	m[5] = 1;
	m[12] = 0xc0;
	m[13] = 12;
	T_CHECK(mxt_tlsa_parse(m, 18, &v, &n) == 0, "self-pointer not followed");
	T_CHECK(mxt_tlsa_parse(m, 17, &v, &n) == -1, "question cut short refused");
}

static void
test_usable(void)
{
	unsigned char d[64] = {0};
	struct mxt_tlsa r = {3, 1, 1, d, 32};

	T_CHECK(mxt_tlsa_usable(&r), "DANE-EE 3 1 1 usable");
	r.usage = 2;
	T_CHECK(mxt_tlsa_usable(&r), "DANE-TA 2 1 1 usable");
	r.usage = 0;
	T_CHECK(!mxt_tlsa_usable(&r), "PKIX-TA 0 unusable for SMTP (RFC 7672 3.1.3)");
	r.usage = 1;
	T_CHECK(!mxt_tlsa_usable(&r), "PKIX-EE 1 unusable for SMTP");
	r.usage = 3;
	r.len = 31;
	T_CHECK(!mxt_tlsa_usable(&r), "SHA-256 of 31 octets unusable");
	r.mtype = 2;
	r.len = 64;
	T_CHECK(mxt_tlsa_usable(&r), "SHA-512 of 64 octets usable");
	r.selector = 2;
	T_CHECK(!mxt_tlsa_usable(&r), "selector 2 unknown");
	r.selector = 0;
	r.mtype = 3;
	T_CHECK(!mxt_tlsa_usable(&r), "matching type 3 unknown");
}

static void
test_sts_txt(void)
{
	static const struct {
		const char *txt;
		int ok;
		const char *id;
	} v[] = {
	    {"v=STSv1; id=20261205T010000;", 1, "20261205T010000"},
	    {"v=STSv1;id=abc", 1, "abc"},
	    {"v=STSv1; id=abc; ext_1=foo", 1, "abc"},
	    {"v=STSv1 ; id=abc ;", 1, "abc"},
	    {"v=STSv2; id=abc", 0, NULL},
	    {"V=STSv1; id=abc", 0, NULL},
	    {"id=abc; v=STSv1", 0, NULL},
	    {"v=STSv1;", 0, NULL},
	    {"v=STSv1; id=", 0, NULL},
	    {"v=STSv1; id=2026-12-05", 0, NULL},
	    {"v=STSv1; id=123456789012345678901234567890123", 0, NULL},
	    {"v=STSv1; id=a; id=b", 0, NULL},
	    {"v=STSv1;; id=a", 0, NULL},
	    {"v=STSv1; id=a; bad", 0, NULL},
	    {"", 0, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *id = NULL, *err = NULL;
		int ok = mxt_sts_txt_parse(v[i].txt, strlen(v[i].txt), &id, &err);

		T_CHECK(ok == v[i].ok && (ok ? err == NULL : err != NULL && id == NULL),
		    "STS TXT \"%s\" -> %d (%s)", v[i].txt, ok, err ? err : "ok");
		if (v[i].id != NULL)
			T_CHECK(id != NULL && strcmp(id, v[i].id) == 0, "id %s", v[i].id);
		free(id);
		free(err);
	}
}

static void
test_policy(void)
{
	struct mxt_sts s;
	const char *ok = "version: STSv1\r\nmode: enforce\r\nmx: *.sts-ok.test\r\nmx: "
			 "mx.example.test.\r\nmax_age: 86400\r\n";
	const char *lf = "version: STSv1\nmode: testing\nmx: mx.a.test\nmax_age: 604800";
	const char *bad =
	    "version: STSv1\nmode enforce\nmx: mx.sts-malformed.test\nmax_age: soon\n";
	const char *none = "version: STSv1\nmode: none\nmax_age: 1\n";
	const char *big = "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n";
	const char *nomx = "version: STSv1\nmode: enforce\nmax_age: 10\n";
	const char *badmx = "version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 10\n";

	memset(&s, 0, sizeof(s));
	mxt_sts_policy_parse(ok, strlen(ok), &s);
	T_CHECK(
	    s.policy_valid && s.mode == MXT_STS_MODE_ENFORCE && s.nmx == 2 && s.max_age == 86400,
	    "CRLF enforce policy (%s)", s.policy_error ? s.policy_error : "valid");
	T_CHECK(s.nmx == 2 && strcmp(s.mx[0], "*.sts-ok.test") == 0, "first mx pattern kept");
	sts_free(&s);
	mxt_sts_policy_parse(lf, strlen(lf), &s);
	T_CHECK(s.policy_valid && s.mode == MXT_STS_MODE_TESTING && s.max_age == 604800,
	    "LF testing policy without a final newline");
	sts_free(&s);
	mxt_sts_policy_parse(bad, strlen(bad), &s);
	T_CHECK(!s.policy_valid && s.policy_error != NULL && strstr(s.policy_error, "no colon") &&
		strstr(s.policy_error, "max_age") && strstr(s.policy_error, "no mode"),
	    "malformed: %s", s.policy_error ? s.policy_error : "(none)");
	sts_free(&s);
	mxt_sts_policy_parse(none, strlen(none), &s);
	T_CHECK(s.policy_valid && s.mode == MXT_STS_MODE_NONE, "mode none needs no mx");
	sts_free(&s);
	mxt_sts_policy_parse(big, strlen(big), &s);
	T_CHECK(!s.policy_valid && s.max_age == -1, "max_age over 31557600 refused");
	sts_free(&s);
	mxt_sts_policy_parse(nomx, strlen(nomx), &s);
	T_CHECK(!s.policy_valid, "enforce without mx refused");
	sts_free(&s);
	mxt_sts_policy_parse(badmx, strlen(badmx), &s);
	T_CHECK(!s.policy_valid, "an empty label in an mx pattern refused");
	sts_free(&s);
	mxt_sts_policy_parse("", 0, &s);
	T_CHECK(!s.policy_valid, "empty body refused");
	sts_free(&s);
}

static void
test_match(void)
{
	T_CHECK(mxt_sts_mx_match("mx.example.com", "MX.Example.com."), "exact, any case, dot");
	T_CHECK(mxt_sts_mx_match("*.example.com", "mx1.example.com"), "wildcard: one label");
	T_CHECK(!mxt_sts_mx_match("*.example.com", "example.com"), "wildcard needs a label");
	T_CHECK(!mxt_sts_mx_match("*.example.com", "a.b.example.com"), "wildcard: only one label");
	T_CHECK(!mxt_sts_mx_match("*.example.com", "xexample.com"), "no partial suffix");
	T_CHECK(!mxt_sts_mx_match("mail.example.com", "mx.example.com"), "different host");
	T_CHECK(!mxt_sts_mx_match("m*.example.com", "mx.example.com"), "no partial wildcard");
}

static void
test_tlsrpt(void)
{
	struct mxt_tlsrpt r;
	const char *two = "v=TLSRPTv1; rua=mailto:a@x.test, https://r.x.test/report";

	memset(&r, 0, sizeof(r));
	mxt_tlsrpt_parse(two, strlen(two), &r);
	T_CHECK(r.valid && r.nrua == 2 && strcmp(r.rua[1], "https://r.x.test/report") == 0,
	    "two report URIs");
	rpt_free(&r);
	mxt_tlsrpt_parse("v=TLSRPTv1;", 11, &r);
	T_CHECK(!r.valid, "no rua refused");
	rpt_free(&r);
	mxt_tlsrpt_parse("v=TLSRPTv1; rua=ftp://x", 23, &r);
	T_CHECK(!r.valid, "ftp: refused");
	rpt_free(&r);
	mxt_tlsrpt_parse("v=TLSRPTv2; rua=mailto:a@b", 26, &r);
	T_CHECK(!r.valid, "wrong version refused");
	rpt_free(&r);
}

int
main(void)
{
	test_tlsa();
	test_usable();
	test_sts_txt();
	test_policy();
	test_match();
	test_tlsrpt();
	return t_done();
}
