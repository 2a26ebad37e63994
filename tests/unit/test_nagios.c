/* SPDX-License-Identifier: MIT */
/*
 * Nagios plugin conventions: the Monitoring Plugins range syntax (every
 * form of the guidelines' table, boundaries included, and what it refuses),
 * and the renderer on fixture records: the state from the verdict, -w/-c
 * on the run's time, certificate-days thresholds, UNKNOWN after the overall
 * deadline, the status line (worst finding, cut at a word, no '|'), the
 * perfdata grammar and the long output.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/range.h"
#include "mxtrace/report.h"
#include "mxtrace/xalloc.h"
#include "t.h"

/* ---- ranges ---- */

static void
test_range_syntax(void)
{
	static const struct {
		const char *text;
		int inside, start_inf, end_inf;
		double start, end;
	} good[] = {
	    {"10", 0, 0, 0, 0, 10},
	    {"10:", 0, 0, 1, 10, 0},
	    {"~:10", 0, 1, 0, 0, 10},
	    {"10:20", 0, 0, 0, 10, 20},
	    {"@10:20", 1, 0, 0, 10, 20},
	    {"0.5:1.25", 0, 0, 0, 0.5, 1.25},
	    {"-5:-1", 0, 0, 0, -5, -1},
	    {":10", 0, 0, 0, 0, 10},
	    {"@5", 1, 0, 0, 0, 5},
	    {"~:", 0, 1, 1, 0, 0},
	    {"3:3", 0, 0, 0, 3, 3},
	};
	static const char *const bad[] = {"", "abc", "20:10", "1e3", "0x10", "inf", "nan", "10::20",
	    "1:2:3", "@", "~", "~10", "10:~", "1..2", "--1", "+", ".", "10 ", " 10", "@@10",
	    "123456789012345678901234567890123"};
	struct mxt_range r;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = mxt_range_parse(good[i].text, &r, err, sizeof(err));

		T_CHECK(rc == 0 && r.set && r.inside == good[i].inside &&
			r.start_inf == good[i].start_inf && r.end_inf == good[i].end_inf &&
			(r.start_inf || r.start == good[i].start) &&
			(r.end_inf || r.end == good[i].end) && strcmp(r.text, good[i].text) == 0,
		    "range '%s' parses", good[i].text);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_CHECK(mxt_range_parse(bad[i], &r, err, sizeof(err)) == -1 && !r.set &&
			strncmp(err, "range '", 7) == 0,
		    "range '%s' refused: %s", bad[i], err);
	}
}

static void
test_range_alert(void)
{
	static const struct {
		const char *text;
		double v;
		int alert;
	} cases[] = {
	    /* "10": outside 0..10 */
	    {"10", -0.001, 1},
	    {"10", 0, 0},
	    {"10", 10, 0},
	    {"10", 10.001, 1},
	    /* "10:": below 10 */
	    {"10:", 9.999, 1},
	    {"10:", 10, 0},
	    {"10:", 1e9, 0},
	    /* "~:10": above 10 */
	    {"~:10", -1e9, 0},
	    {"~:10", 10, 0},
	    {"~:10", 10.001, 1},
	    /* "10:20": outside 10..20 */
	    {"10:20", 9.9, 1},
	    {"10:20", 10, 0},
	    {"10:20", 20, 0},
	    {"10:20", 20.1, 1},
	    /* "@10:20": inside 10..20, ends included */
	    {"@10:20", 9.9, 0},
	    {"@10:20", 10, 1},
	    {"@10:20", 15, 1},
	    {"@10:20", 20, 1},
	    {"@10:20", 20.1, 0},
	    {"~:", 1e9, 0},
	};
	struct mxt_range r;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mxt_range_parse(cases[i].text, &r, err, sizeof(err));
		T_CHECK(mxt_range_alert(&r, cases[i].v) == cases[i].alert, "'%s' at %g: %s",
		    cases[i].text, cases[i].v, cases[i].alert ? "alert" : "no alert");
	}
	memset(&r, 0, sizeof(r));
	T_CHECK(
	    mxt_range_alert(&r, 1e9) == 0 && mxt_range_alert(NULL, 1) == 0, "no range, no alert");
}

/* ---- renderer ---- */

static struct mxt_target *
fixture(enum mxt_status verdict, int64_t duration_ms, int days_left, const char *summary)
{
	struct mxt_target *t = mxt_target_new();
	struct mxt_exchanger *x;
	struct mxt_attempt *a;
	struct mxt_step *s;

	t->input = mxt_xstrdup("example.test");
	t->request.cert_warn_days = 14;
	t->request.timeout_total_ms = 300000;
	t->duration_ms = duration_ms;
	t->dns.duration_ms = 20;
	x = mxt_dns_add_exchanger(&t->dns);
	x->name = mxt_xstrdup("mx1.example.test");
	a = mxt_target_add_attempt(t);
	snprintf(a->addr.text, sizeof(a->addr.text), "192.0.2.1");
	a->port = 25;
	a->connect = MXT_CONN_OK;
	a->connect_ms = 3;
	s = mxt_attempt_add_step(a, MXT_STAGE_BANNER);
	s->duration_ms = 1500;
	s = mxt_attempt_add_step(a, MXT_STAGE_RCPT);
	s->duration_ms = 40;
	a->tls.attempted = a->tls.ok = a->tls.have_cert = 1;
	a->tls.not_after = mxt_xstrdup("2030-01-01T00:00:00Z");
	a->tls.days_left = days_left;
	a->tls.duration_ms = 9;
	a->end = MXT_END_OK;
	t->findings = mxt_xcalloc(3, sizeof(*t->findings));
	t->findings[0].code = "delivery.fallback";
	t->findings[0].severity = MXT_SEV_WARNING;
	t->findings[0].host = mxt_xstrdup("mx2.example.test");
	t->findings[1].code = "connect.refused";
	t->findings[1].severity = MXT_SEV_CRITICAL;
	t->findings[1].host = mxt_xstrdup("mx1.example.test");
	t->findings[1].address = mxt_xstrdup("192.0.2.1");
	t->findings[1].evidence = mxt_xstrdup("connect() said | ECONNREFUSED");
	t->findings[2].code = "tls.cert_expiring";
	t->findings[2].severity = MXT_SEV_WARNING;
	t->nfindings = 3;
	t->verdict.status = verdict;
	t->verdict.summary = mxt_xstrdup(summary);
	return t;
}

static char *
render(struct mxt_target *t, const struct mxt_render_opts *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL || mxt_render_nagios(m, &t, 1, cfg) != 0)
		abort();
	fclose(m);
	return buf;
}

/* The guidelines' perfdata grammar ("Performance data"): space-separated
 * 'label'=value[UOM];[warn];[crit];[min];[max], trailing fields optional,
 * value/min/max in [-0-9.] or "U", warn/crit ranges, UOM one of the list. */
#define PERF_ITEM                                                                                  \
	"('([^'=]|'')+'|[^'= ]+)=(-?[0-9.]+|U)(s|ms|us|%|B|KB|MB|TB|c)?"                           \
	"(;(@?(~|-?[0-9.]+)?:?(-?[0-9.]+)?)?(;(@?(~|-?[0-9.]+)?:?(-?[0-9.]+)?)?"                   \
	"(;(-?[0-9.]+)?(;(-?[0-9.]+)?)?)?)?)?"

static int
perfdata_ok(const char *line, char *why, size_t n)
{
	regex_t re;
	const char *p = strchr(line, '|');
	char *copy, *item, *save = NULL;
	int ok = 1, items = 0;

	if (p == NULL || strchr(p + 1, '|') != NULL) {
		snprintf(why, n, "not exactly one '|'");
		return 0;
	}
	if (regcomp(&re, "^" PERF_ITEM "$", REG_EXTENDED | REG_NOSUB) != 0)
		abort();
	copy = mxt_xstrndup(p + 1, strcspn(p + 1, "\n")); /* the first line's */
	for (item = strtok_r(copy, " \n", &save); item != NULL;
	     item = strtok_r(NULL, " \n", &save)) {
		items++;
		if (regexec(&re, item, 0, NULL, 0) != 0) {
			snprintf(why, n, "bad item '%s'", item);
			ok = 0;
			break;
		}
	}
	if (ok)
		snprintf(why, n, "%d items", items);
	free(copy);
	regfree(&re);
	return ok && items > 0;
}

static void
test_render(void)
{
	struct mxt_render_opts cfg;
	struct mxt_target *t;
	char *out, err[128], why[160], *nl;

	memset(&cfg, 0, sizeof(cfg));
	t = fixture(MXT_STATUS_WARNING, 2500, 100, "mail is delivered via mx2.example.test");
	out = render(t, &cfg);
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_WARNING &&
		strncmp(out, "MXTRACE WARNING - connect.refused: ", 35) == 0,
	    "state from the verdict; the worst finding first: %.60s", out);
	T_CHECK(perfdata_ok(out, why, sizeof(why)), "perfdata grammar: %s", why);
	T_CHECK(strstr(out, " time=2.500s;;;0;300.000 ") != NULL &&
		strstr(out, " banner=1.500s;;;0;300.000 ") != NULL &&
		strstr(out, " auth=U;;;0;300.000 ") != NULL &&
		strstr(out, " cert_days=100;14:; ") != NULL,
	    "perfdata values, U for a stage that did not run");
	nl = strchr(out, '\n');
	T_CHECK(nl != NULL &&
		strncmp(nl + 1, "[CRITICAL] connect.refused mx1.example.test [192.0.2.1]: ", 57) ==
		    0 &&
		strstr(nl, "said / ECONNREFUSED\n[WARNING] delivery.fallback mx2.example.test: ") !=
		    NULL,
	    "long output: one line per finding, worst first, no '|'");
	T_CHECK(mxt_nagios_exit_code(&t, 1, &cfg) == 1, "exit 1");
	free(out);

	/* -w 2 trips at 2.5 s, -c 3 does not. */
	mxt_range_parse("2", &cfg.warn_time, err, sizeof(err));
	mxt_range_parse("3", &cfg.crit_time, err, sizeof(err));
	t->verdict.status = MXT_STATUS_OK;
	out = render(t, &cfg);
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_WARNING &&
		strstr(out, "time 2.500 s (warning: -w 2)") != NULL &&
		strstr(out, " time=2.500s;2;3;0;300.000 ") != NULL,
	    "-w 2 trips at 2.5 s: %.120s", out);
	free(out);
	t->duration_ms = 3001;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_CRITICAL, "-c 3 trips at 3.001 s");
	t->duration_ms = 3000;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_WARNING, "-c 3 holds at 3.000 s");
	t->duration_ms = 2000;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_OK, "-w 2 holds at 2.000 s");
	mxt_range_parse("@0:1", &cfg.crit_time, err, sizeof(err));
	t->duration_ms = 500;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_CRITICAL, "-c @0:1 trips at 0.5 s");
	memset(&cfg.warn_time, 0, sizeof(cfg.warn_time));
	memset(&cfg.crit_time, 0, sizeof(cfg.crit_time));

	/* Certificate days: warning below --cert-warn-days, critical below
	 * --cert-crit-days (check_smtp -D W,C). */
	t->duration_ms = 100;
	t->attempts[0].tls.days_left = 13;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_WARNING, "13 days < 14: warning");
	cfg.have_cert_crit = 1;
	cfg.cert_crit_days = 14;
	out = render(t, &cfg);
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_CRITICAL &&
		strstr(out, "a certificate expires in 13 day(s) (critical below 14)") != NULL &&
		strstr(out, " cert_days=13;14:;14: ") != NULL,
	    "13 days < --cert-crit-days 14: critical");
	free(out);
	t->attempts[0].tls.days_left = 14;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_OK, "14 days: ok");
	cfg.have_cert_crit = 1;
	cfg.cert_crit_days = 0;
	t->attempts[0].tls.days_left = -3;
	out = render(t, &cfg);
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_CRITICAL &&
		strstr(out, "a certificate expired 3 day(s) ago (critical below 0)") != NULL,
	    "expired with --cert-crit-days 0: critical");
	free(out);
	cfg.have_cert_crit = 0;
	t->attempts[0].tls.days_left = 100;

	/* The overall deadline: UNKNOWN, whatever else holds. */
	t->verdict.status = MXT_STATUS_CRITICAL;
	t->request.timeout_total_ms = 5000;
	t->attempts[0].end = MXT_END_DEADLINE;
	out = render(t, &cfg);
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_UNKNOWN &&
		strncmp(out, "MXTRACE UNKNOWN - timed out after 5 s (-t); connect.refused", 59) ==
		    0,
	    "deadline: UNKNOWN: %.70s", out);
	T_CHECK(mxt_nagios_exit_code(&t, 1, &cfg) == 3, "exit 3");
	free(out);
	t->request.timeout_total_ms = 2500;
	t->duration_ms = 2500;
	out = render(t, &cfg);
	T_CHECK(strncmp(out, "MXTRACE UNKNOWN - timed out after 2.500 s (-t)", 46) == 0,
	    "-t 2.5: %.50s", out);
	free(out);
	t->request.timeout_total_ms = 5000;
	t->attempts[0].end = MXT_END_OK;
	t->duration_ms = 4990;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_CRITICAL, "no deadline: the verdict");
	t->deadline_reached = 1;
	T_CHECK(mxt_nagios_status(t, &cfg) == MXT_STATUS_UNKNOWN, "the DNS stage used it all");
	mxt_target_free(t);
}

static void
test_status_line_cut(void)
{
	struct mxt_render_opts cfg;
	struct mxt_target *t;
	char *out, *line, summary[600];
	size_t i, len;

	memset(&cfg, 0, sizeof(cfg));
	summary[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(summary, i % 7 == 3 ? "pipe|word " : "wordwordword ");
	t = fixture(MXT_STATUS_CRITICAL, 100, 100, summary);
	out = render(t, &cfg);
	len = strcspn(out, "|");
	line = mxt_xstrndup(out, len);
	T_CHECK(len <= strlen("MXTRACE CRITICAL - ") + 200 + 1, "status line capped (%zu)", len);
	T_CHECK(len > 4 && strcmp(line + len - 5, " ... ") == 0 && line[len - 6] != ' ',
	    "cut marked with ' ...' after a whole word: ...%s", line + len - 20);
	T_CHECK(strstr(line, "wordwordword ...") != NULL || strstr(line, "pipe/word ...") != NULL,
	    "the last word before the cut is whole");
	T_CHECK(strncmp(line, "MXTRACE CRITICAL - connect.refused: ", 36) == 0,
	    "the worst finding is in the first line");
	free(line);
	free(out);
	mxt_target_free(t);

	/* One endless word: cut anyway, at a character boundary. */
	memset(summary, 'x', 300);
	memcpy(summary + 191, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 12);
	summary[300] = '\0';
	t = fixture(MXT_STATUS_CRITICAL, 100, 100, summary);
	for (i = 0; i < t->nfindings; i++) {
		free(t->findings[i].host);
		free(t->findings[i].address);
		free(t->findings[i].evidence);
	}
	t->nfindings = 0;
	out = render(t, &cfg);
	len = strcspn(out, "|");
	T_CHECK(len > strlen("MXTRACE CRITICAL - ") + 100 &&
		len <= strlen("MXTRACE CRITICAL - ") + 200 + 1 &&
		strncmp(out + len - 5, " ... ", 5) == 0 &&
		((unsigned char)out[len - 6] & 0xc0) != 0xc0,
	    "a word longer than the line is cut, not dropped (%zu)", len);
	free(out);
	mxt_target_free(t);
}

int
main(void)
{
	test_range_syntax();
	test_range_alert();
	test_render();
	test_status_line_cut();
	return t_done();
}
