/* SPDX-License-Identifier: MIT */
/*
 * Metrics renderer tests on a fixture record (no network): both exposition
 * formats, label escaping of hostile exchanger names, one series per
 * finding code, stable attempt labels, the certificate expiry in seconds,
 * and the MTA table behind mxtrace_mta_info.  With "--dump openmetrics" or
 * "--dump prometheus" it prints the fixture's exposition instead, for
 * tests/metrics_promtool.sh to lint with promtool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/reply.h"
#include "mxtrace/report.h"
#include "mxtrace/xalloc.h"
#include "t.h"

/* A reply parsed from wire text (CRLF-terminated lines). */
static void
fx_reply(struct mxt_reply *out, const char *wire)
{
	struct mxt_reply_parser p;
	size_t used;

	if (mxt_reply_parser_init(&p) < 0)
		abort();
	if (mxt_reply_parser_feed(&p, wire, strlen(wire), &used) != MXT_REPLY_DONE)
		abort();
	mxt_reply_take(&p, out);
	mxt_reply_parser_free(&p);
}

static struct mxt_step *
fx_step(struct mxt_attempt *a, enum mxt_stage stage, const char *wire, int64_t ms)
{
	struct mxt_step *s = mxt_attempt_add_step(a, stage);

	if (s == NULL)
		abort();
	fx_reply(&s->reply, wire);
	s->duration_ms = ms;
	return s;
}

static struct mxt_attempt *
fx_attempt(struct mxt_target *t, size_t mx, const char *addr, int port)
{
	struct mxt_attempt *a = mxt_target_add_attempt(t);

	if (a == NULL)
		abort();
	a->mx_index = mx;
	snprintf(a->addr.text, sizeof(a->addr.text), "%s", addr);
	a->port = port;
	a->connect = MXT_CONN_OK;
	a->connect_ms = 12;
	return a;
}

static void
fx_finding(struct mxt_target *t, const char *code, enum mxt_severity sev)
{
	struct mxt_finding *f = &t->findings[t->nfindings++];

	f->code = code;
	f->severity = sev;
	f->host = mxt_xstrdup("mx1.example.test");
}

/* example.test: mx1 delivers over TLS 1.3 (Postfix), its STARTTLS failed
 * once so a plaintext retry ran too; an exchanger with a hostile name
 * refused the connection. */
static struct mxt_target *
fixture(const char *input)
{
	struct mxt_target *t = mxt_target_new();
	struct mxt_exchanger *x;
	struct mxt_attempt *a;

	if (t == NULL)
		abort();
	t->input = mxt_xstrdup(input);
	t->domain = mxt_xstrdup("example.test");
	t->duration_ms = 1234;
	t->dns.duration_ms = 56;
	x = mxt_dns_add_exchanger(&t->dns);
	x->name = mxt_xstrdup("mx1.example.test");
	x = mxt_dns_add_exchanger(&t->dns);
	x->name = mxt_xstrdup("evil\"name\\\n.test");

	a = fx_attempt(t, 0, "192.0.2.1", 25);
	fx_step(a, MXT_STAGE_BANNER, "220 mx1.example.test ESMTP Postfix (Debian)\r\n", 100);
	fx_step(a, MXT_STAGE_EHLO, "250 mx1.example.test\r\n", 3);
	fx_step(a, MXT_STAGE_RCPT, "250 2.1.5 Ok\r\n", 4);
	fx_step(a, MXT_STAGE_RCPT, "250 2.1.5 Ok\r\n", 5);
	a->tls.attempted = a->tls.ok = a->tls.have_cert = a->tls.chain_ok = a->tls.name_ok = 1;
	a->tls.version = mxt_xstrdup("TLSv1.3");
	a->tls.cipher = mxt_xstrdup("TLS_AES_256_GCM_SHA384");
	a->tls.not_after = mxt_xstrdup("2030-01-02T03:04:05Z");
	a->tls.duration_ms = 7;
	a->end = MXT_END_OK;
	a->end_stage = MXT_STAGE_QUIT;

	a = fx_attempt(t, 0, "192.0.2.1", 25);
	a->plaintext_retry = 1;
	fx_step(a, MXT_STAGE_BANNER, "220 mx1.example.test ESMTP Postfix (Debian)\r\n", 90);
	a->end = MXT_END_REJECTED;
	a->end_stage = MXT_STAGE_RCPT;

	a = fx_attempt(t, 1, "2001:db8::1", 25);
	a->connect = MXT_CONN_REFUSED;
	a->connect_ms = 1;
	a->end = MXT_END_CONNECT;
	a->end_stage = MXT_STAGE_CONNECT;

	t->findings = mxt_xcalloc(4, sizeof(*t->findings));
	fx_finding(t, "connect.refused", MXT_SEV_WARNING);
	fx_finding(t, "delivery.fallback", MXT_SEV_WARNING);
	fx_finding(t, "connect.refused", MXT_SEV_CRITICAL);
	t->verdict.status = MXT_STATUS_WARNING;
	return t;
}

/* Render into a string the caller frees; *rc gets the renderer's result. */
static char *
render(struct mxt_target *const *t, size_t n, enum mxt_metrics_format f, int target_label, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		abort();
	*rc = mxt_render_metrics(m, t, n, f, target_label);
	fclose(m);
	return buf;
}

static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

static size_t
count(const char *text, const char *needle)
{
	size_t c = 0;
	const char *p = text;

	while ((p = strstr(p, needle)) != NULL) {
		c++;
		p += strlen(needle);
	}
	return c;
}

/* Every "# TYPE" comes with a "# HELP" and every sample name has both. */
static int
metadata_complete(const char *text)
{
	char *copy = mxt_xstrdup(text), *save = NULL, *ln;
	char fam[128] = "";
	int ok = 1, help = 0, type = 0;

	for (ln = strtok_r(copy, "\n", &save); ln != NULL; ln = strtok_r(NULL, "\n", &save)) {
		size_t nl;

		if (strncmp(ln, "# HELP ", 7) == 0) {
			nl = strcspn(ln + 7, " ");
			snprintf(fam, sizeof(fam), "%.*s", (int)nl, ln + 7);
			help = 1;
			type = 0;
		} else if (strncmp(ln, "# TYPE ", 7) == 0) {
			type = strncmp(ln + 7, fam, strlen(fam)) == 0 &&
			    strcmp(ln + 7 + strlen(fam), " gauge") == 0;
		} else if (ln[0] != '#') {
			nl = strcspn(ln, "{ ");
			if (!help || !type || nl != strlen(fam) || strncmp(ln, fam, nl) != 0)
				ok = 0;
		}
	}
	free(copy);
	return ok;
}

static void
test_formats(void)
{
	struct mxt_target *t = fixture("example.test");
	char *om, *txt;
	int rc;

	om = render(&t, 1, MXT_METRICS_OPENMETRICS, 1, &rc);
	T_CHECK(rc == 0, "OpenMetrics renders");
	T_CHECK(count(om, "# EOF\n") == 1 && strcmp(om + strlen(om) - 6, "# EOF\n") == 0,
	    "OpenMetrics ends with one # EOF");
	T_CHECK(has_line(om, "# UNIT mxtrace_probe_duration_seconds seconds"), "UNIT line");
	T_CHECK(count(om, "# HELP ") == count(om, "# TYPE ") && count(om, "# HELP ") >= 12,
	    "HELP and TYPE on every family (%zu)", count(om, "# HELP "));
	T_CHECK(metadata_complete(om), "every sample follows its family's HELP and TYPE");
	txt = render(&t, 1, MXT_METRICS_PROMETHEUS, 1, &rc);
	T_CHECK(rc == 0, "text format renders");
	T_CHECK(strstr(txt, "# EOF") == NULL && strstr(txt, "# UNIT") == NULL,
	    "text format: no # EOF, no # UNIT");
	T_CHECK(metadata_complete(txt), "text format: metadata complete");
	T_CHECK(count(txt, "\n") + count(om, "# UNIT") + 1 == count(om, "\n"),
	    "the same samples in both formats");
	T_CHECK(strcmp(mxt_metrics_content_type(MXT_METRICS_OPENMETRICS),
		    "application/openmetrics-text; version=1.0.0; charset=utf-8") == 0 &&
		strcmp(mxt_metrics_content_type(MXT_METRICS_PROMETHEUS),
		    "text/plain; version=0.0.4; charset=utf-8") == 0,
	    "content types");
	free(om);
	free(txt);
	mxt_target_free(t);
}

static void
test_series(void)
{
	struct mxt_target *t = fixture("user@example.test");
	char *om;
	int rc;

	om = render(&t, 1, MXT_METRICS_OPENMETRICS, 1, &rc);
	T_CHECK(has_line(om, "mxtrace_probe_success{target=\"user@example.test\"} 1"),
	    "warning verdict is a success");
	T_CHECK(has_line(om, "mxtrace_probe_duration_seconds{target=\"user@example.test\"} 1.234"),
	    "duration in seconds");
	T_CHECK(
	    has_line(om, "mxtrace_verdict{target=\"user@example.test\",status=\"warning\"} 1") &&
		has_line(om, "mxtrace_verdict{target=\"user@example.test\",status=\"ok\"} 0"),
	    "verdict state set");
	T_CHECK(has_line(om,
		    "mxtrace_finding{target=\"user@example.test\",code=\"connect.refused\","
		    "severity=\"critical\"} 2"),
	    "one series per code: count 2, worst severity");
	T_CHECK(count(om, "code=\"connect.refused\"") == 1, "no second connect.refused series");
	T_CHECK(
	    has_line(om, "mxtrace_findings{target=\"user@example.test\",severity=\"warning\"} 2"),
	    "findings by severity");
	T_CHECK(has_line(om,
		    "mxtrace_tls_certificate_expiry_timestamp_seconds{target=\"user@"
		    "example.test\",exchanger=\"mx1.example.test\",address=\"192.0.2.1\","
		    "port=\"25\",role=\"probe\"} 1893553445"),
	    "notAfter 2030-01-02T03:04:05Z in seconds since the epoch");
	T_CHECK(has_line(om,
		    "mxtrace_tls_certificate_earliest_expiry_timestamp_seconds{target=\"user@"
		    "example.test\"} 1893553445"),
	    "earliest expiry per target");
	T_CHECK(has_line(om,
		    "mxtrace_attempt_success{target=\"user@example.test\",exchanger=\"mx1."
		    "example.test\",address=\"192.0.2.1\",port=\"25\",role=\"plaintext_"
		    "retry\"} 0"),
	    "the plaintext retry has its own series");
	T_CHECK(has_line(om,
		    "mxtrace_stage_duration_seconds{target=\"user@example.test\",exchanger="
		    "\"mx1.example.test\",address=\"192.0.2.1\",port=\"25\",role=\"probe\","
		    "stage=\"rcpt\"} 0.009"),
	    "two RCPTs summed");
	T_CHECK(has_line(om,
		    "mxtrace_stage_duration_seconds{target=\"user@example.test\",exchanger="
		    "\"mx1.example.test\",address=\"192.0.2.1\",port=\"25\",role=\"probe\","
		    "stage=\"tls\"} 0.007"),
	    "TLS handshake time");
	T_CHECK(has_line(om,
		    "mxtrace_tls_info{target=\"user@example.test\",exchanger=\"mx1.example."
		    "test\",address=\"192.0.2.1\",port=\"25\",role=\"probe\",version="
		    "\"TLSv1.3\",cipher=\"TLS_AES_256_GCM_SHA384\"} 1"),
	    "TLS info");
	T_CHECK(count(om, "mxtrace_mta_info{") == 2 && strstr(om, "mta=\"postfix\"} 1") != NULL,
	    "MTA info for both Postfix greetings");
	T_CHECK(strstr(om, "attempt=") == NULL && strstr(om, "step=") == NULL, "no index labels");
	/* The hostile name: mxt_escape() turns \ into \\ and LF into \x0a,
	 * then the exposition escapes \ and ". */
	T_CHECK(strstr(om, "exchanger=\"evil\\\"name\\\\\\\\\\\\x0a.test\"") != NULL,
	    "hostile exchanger name escaped");
	free(om);
	mxt_target_free(t);
}

static void
test_targets(void)
{
	struct mxt_target *t[2];
	char *om;
	int rc;

	t[0] = fixture("a.test");
	t[1] = fixture("b.test");
	om = render(t, 2, MXT_METRICS_OPENMETRICS, 1, &rc);
	T_CHECK(rc == 0 && count(om, "# HELP mxtrace_probe_success ") == 1 &&
		has_line(om, "mxtrace_probe_success{target=\"a.test\"} 1") &&
		has_line(om, "mxtrace_probe_success{target=\"b.test\"} 1"),
	    "two targets, one family each");
	T_CHECK(metadata_complete(om), "families stay contiguous over targets");
	free(om);
	om = render(t, 1, MXT_METRICS_OPENMETRICS, 0, &rc);
	T_CHECK(rc == 0 && has_line(om, "mxtrace_probe_success 1") && strstr(om, "target=") == NULL,
	    "without target labels (an exporter's /probe)");
	T_CHECK(has_line(om, "mxtrace_verdict{status=\"warning\"} 1"), "first label opens the set");
	free(om);
	om = render(t, 2, MXT_METRICS_OPENMETRICS, 0, &rc);
	T_CHECK(rc == -1, "two targets without labels refused");
	free(om);
	mxt_target_free(t[0]);
	mxt_target_free(t[1]);
}

static void
test_mta(void)
{
	static const struct {
		const char *wire, *mta;
	} cases[] = {
	    {"220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n", "postfix"},
	    {"220 mx.example.test ESMTP Exim 4.96 Sat, 05 Dec 2026 18:00:00 +0000\r\n", "exim"},
	    {"220 mx.opensmtpd.test ESMTP OpenSMTPD\r\n", "opensmtpd"},
	    {"220 mx.example.test ESMTP Sendmail 8.17.1/8.17.1; Sat, 5 Dec 2026\r\n", "sendmail"},
	    {"220 EX01.example.test Microsoft ESMTP MAIL Service ready at Sat\r\n", "exchange"},
	    {"220-mx.example.test ESMTP POSTFIX\r\n220 more\r\n", "postfix"},
	    {"220 mx.google.com ESMTP a1-2.3 - gsmtp\r\n", NULL},
	    {"220 mx.example.test ESMTP Eximious\r\n", NULL},
	    {"220 postfixed.example.test ESMTP\r\n", NULL},
	    {"554 5.7.1 Postfix says no\r\n", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mxt_attempt a;
		const char *got;

		memset(&a, 0, sizeof(a));
		fx_step(&a, MXT_STAGE_BANNER, cases[i].wire, 1);
		got = mxt_banner_mta(&a);
		T_CHECK(cases[i].mta == NULL ? got == NULL
					     : got != NULL && strcmp(got, cases[i].mta) == 0,
		    "MTA of %.*s: %s", (int)strcspn(cases[i].wire, "\r"), cases[i].wire,
		    got != NULL ? got : "unknown");
		mxt_attempt_free(&a);
	}
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
		struct mxt_target *t = fixture("example.test");
		int rc = mxt_render_metrics(stdout, &t, 1,
		    strcmp(argv[2], "prometheus") == 0 ? MXT_METRICS_PROMETHEUS
						       : MXT_METRICS_OPENMETRICS,
		    1);

		mxt_target_free(t);
		return rc == 0 ? 0 : 1;
	}
	test_formats();
	test_series();
	test_targets();
	test_mta();
	return t_done();
}
