/* SPDX-License-Identifier: MIT */
/*
 * The exporter: libmicrohttpd on the engine's event loop.  MHD runs without
 * a thread of its own (MHD_USE_EPOLL): its epoll descriptor is watched on
 * the loop and MHD_run() is called when it is readable or when the loop's
 * timer reaches MHD_get_timeout().  A /probe request is checked (target:
 * a mail domain, or an IP address naming the one server to probe; module;
 * scrape timeout), then its connection is suspended while the
 * engine runs the target on the same loop, and resumed with the metrics
 * when the run's done callback fires; so probes run concurrently without a
 * thread, up to --max-probes at once (more get 503 with Retry-After).
 *
 * Hostile clients: MHD bounds the request (MXT_EXPORTER_CONN_MEMORY for the
 * request line and headers), the connections (MXT_EXPORTER_CONNECTIONS_MAX)
 * and idle time (MXT_EXPORTER_IDLE_TIMEOUT_S); query values longer than
 * MXT_EXPORTER_ARG_MAX are refused; whatever a client sent is escaped
 * (mxt_escape) before it is logged or echoed in a 400 reason.  A client
 * that hangs up while its probe runs cancels the probe.  A response never
 * holds a password: the metrics carry no option values.
 *
 * It does not render (src/report/metrics.c does) nor judge (the report
 * stage does); it does not read the configuration file (modules.c does).
 */
#include <errno.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mxt_config.h"
#include "mxtrace/escape.h"
#include "mxtrace/exporter.h"
#include "mxtrace/idn.h"
#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/report.h"
#include "mxtrace/validate.h"
#include "mxtrace/xalloc.h"
#include "target.h"

/* The HTTP status codes the exporter answers with, for its own metrics. */
#define HTTP_CODES(X) X(200) X(400) X(404) X(405) X(500) X(503)
enum http_code {
#define X_(c) CODE_##c,
	HTTP_CODES(X_)
#undef X_
	    CODE_COUNT
};

struct exporter;

/* One /probe request: lives from the first handler call to MHD's
 * completion callback. */
struct probe {
	struct exporter *x;
	struct MHD_Connection *conn;
	struct mxt_config cfg; /* the module's, shallow copy, with the scrape's deadline */
	char *server;	       /* an address target: cfg.server points here */
	struct mxt_run *run;
	int fd;	     /* the client's socket, watched for a hang-up; -1 when not */
	int done;    /* the run has finished: body is ready */
	int metrics; /* enum mxt_metrics_format */
	char *body;  /* the metrics (or an error line) */
	size_t len;
	int64_t start;
	struct probe *prev, *next;
};

struct exporter {
	struct mxt_engine *e;
	struct mxt_loop *loop;
	struct MHD_Daemon *d;
	int mhd_fd;
	int sig_fd;
	struct mxt_timer mhd_timer;
	const struct mxt_config *cfg;
	const struct mxt_exporter_module *mods;
	size_t nmods;
	const struct mxt_config *fallback; /* without module=: [module default] or cfg */
	struct probe *probes;		   /* every live /probe request */
	size_t inflight;
	int stopping;
	time_t started;
	/* The exporter's own health (/metrics). */
	uint64_t by_status[4];		/* probes finished, by verdict (enum mxt_status) */
	uint64_t cancelled;		/* probes whose client hung up */
	uint64_t rejected;		/* over --max-probes */
	uint64_t responses[CODE_COUNT]; /* HTTP responses by code */
	double seconds_sum;		/* probe durations */
	uint64_t seconds_count;
};

/* A marker for requests answered at once (not /probe). */
static int plain_request;

static void mhd_pump(struct exporter *x);

static enum http_code
code_index(unsigned code)
{
	switch (code) {
	case 200:
		return CODE_200;
	case 400:
		return CODE_400;
	case 404:
		return CODE_404;
	case 405:
		return CODE_405;
	case 503:
		return CODE_503;
	default:
		return CODE_500;
	}
}

/* Queue a response with body (copied) and content type; count it. */
static enum MHD_Result
respond(struct exporter *x, struct MHD_Connection *conn, unsigned code, const char *ctype,
    const char *body, size_t len, int retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (retry_after)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	x->responses[code_index(code)]++;
	return ret;
}

/* A one-line plain-text error; reason is ours, with client text escaped. */
static enum MHD_Result
fail(struct exporter *x, struct MHD_Connection *conn, unsigned code, const char *reason)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s\n", reason);

	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	mxt_log(1, "exporter: HTTP %u: %s", code, reason);
	return respond(x, conn, code, "text/plain; charset=utf-8", line, (size_t)n, code == 503);
}

/* OpenMetrics when the scraper accepts it (Prometheus asks for it first),
 * else the Prometheus text format 0.0.4. */
static enum mxt_metrics_format
negotiate(struct MHD_Connection *conn)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");

	return a != NULL && strstr(a, "application/openmetrics-text") != NULL
	    ? MXT_METRICS_OPENMETRICS
	    : MXT_METRICS_PROMETHEUS;
}

/* ---- the exporter's own metrics ---- */

/* Resident set size in bytes from /proc/self/statm, 0 if unknown. */
static unsigned long long
rss_bytes(void)
{
	unsigned long long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* HELP and TYPE of a family; a counter's samples end in _total, which
 * OpenMetrics leaves out of the family name and the text format keeps. */
static void
own_family(FILE *f, enum mxt_metrics_format fmt, const char *name, const char *type,
    const char *unit, const char *help)
{
	int counter = strcmp(type, "counter") == 0 && fmt == MXT_METRICS_PROMETHEUS;

	fprintf(f, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, counter ? "_total" : "", help, name,
	    counter ? "_total" : "", type);
	if (unit != NULL && fmt == MXT_METRICS_OPENMETRICS)
		fprintf(f, "# UNIT %s %s\n", name, unit);
}

static char *
own_metrics(struct exporter *x, enum mxt_metrics_format fmt, size_t *len)
{
	static const unsigned codes[] = {
#define X_(c) c,
	    HTTP_CODES(X_)
#undef X_
	};
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int s;
	size_t i;

	if (f == NULL)
		return NULL;
	own_family(f, fmt, "mxtrace_exporter_build_info", "gauge", NULL,
	    "1; the version of mxtrace serving.");
	fprintf(f, "mxtrace_exporter_build_info{version=\"%s\"} 1\n", MXT_VERSION);
	own_family(f, fmt, "mxtrace_exporter_start_time_seconds", "gauge", "seconds",
	    "When the exporter started, in seconds since the epoch.");
	fprintf(f, "mxtrace_exporter_start_time_seconds %lld\n", (long long)x->started);
	own_family(f, fmt, "mxtrace_exporter_probes", "counter", NULL,
	    "Probes finished, by the target's verdict (docs/metrics.md).");
	for (s = 0; s < 4; s++)
		fprintf(f, "mxtrace_exporter_probes_total{result=\"%s\"} %llu\n",
		    mxt_status_name((enum mxt_status)s), (unsigned long long)x->by_status[s]);
	own_family(f, fmt, "mxtrace_exporter_probes_cancelled", "counter", NULL,
	    "Probes cut short because the client hung up.");
	fprintf(
	    f, "mxtrace_exporter_probes_cancelled_total %llu\n", (unsigned long long)x->cancelled);
	own_family(f, fmt, "mxtrace_exporter_probes_rejected", "counter", NULL,
	    "Scrapes refused with HTTP 503 because --max-probes probes were running.");
	fprintf(
	    f, "mxtrace_exporter_probes_rejected_total %llu\n", (unsigned long long)x->rejected);
	own_family(
	    f, fmt, "mxtrace_exporter_probes_in_flight", "gauge", NULL, "Probes running now.");
	fprintf(f, "mxtrace_exporter_probes_in_flight %zu\n", x->inflight);
	own_family(f, fmt, "mxtrace_exporter_max_probes", "gauge", NULL,
	    "The cap on probes running at once (--max-probes).");
	fprintf(f, "mxtrace_exporter_max_probes %d\n", x->cfg->max_probes);
	own_family(f, fmt, "mxtrace_exporter_probe_duration_seconds", "summary", "seconds",
	    "Wall time of the probes finished.");
	fprintf(f, "mxtrace_exporter_probe_duration_seconds_sum %.3f\n", x->seconds_sum);
	fprintf(f, "mxtrace_exporter_probe_duration_seconds_count %llu\n",
	    (unsigned long long)x->seconds_count);
	own_family(f, fmt, "mxtrace_exporter_http_responses", "counter", NULL,
	    "HTTP responses sent, by status code.");
	for (i = 0; i < CODE_COUNT; i++)
		fprintf(f, "mxtrace_exporter_http_responses_total{code=\"%u\"} %llu\n", codes[i],
		    (unsigned long long)x->responses[i]);
	own_family(f, fmt, "mxtrace_exporter_resident_memory_bytes", "gauge", "bytes",
	    "Resident memory of the exporter process.");
	fprintf(f, "mxtrace_exporter_resident_memory_bytes %llu\n", rss_bytes());
	if (fmt == MXT_METRICS_OPENMETRICS)
		fputs("# EOF\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- /probe ---- */

static void
probe_unwatch(struct probe *p)
{
	if (p->fd >= 0) {
		mxt_loop_unwatch(p->x->loop, p->fd);
		p->fd = -1;
	}
}

static void
probe_free(struct probe *p)
{
	free(p->body);
	free(p->server);
	free(p);
}

/* The run finished: render, count, resume the connection with the answer. */
static void
on_run_done(struct mxt_target *t, void *arg)
{
	struct probe *p = arg;
	struct exporter *x = p->x;
	FILE *f;
	double secs = (double)(mxt_now_ms() - p->start) / 1000.0;

	p->run = NULL;
	f = open_memstream(&p->body, &p->len);
	if (f != NULL) {
		if (mxt_render_metrics(f, &t, 1, (enum mxt_metrics_format)p->metrics, 0) < 0) {
			fclose(f);
			free(p->body);
			p->body = NULL;
		} else if (fclose(f) != 0) {
			free(p->body);
			p->body = NULL;
		}
	}
	if ((unsigned)t->verdict.status < 4)
		x->by_status[t->verdict.status]++;
	x->seconds_sum += secs;
	x->seconds_count++;
	mxt_log(1, "exporter: probe %s: %s in %.3f s",
	    p->server != NULL	    ? p->server
		: t->domain != NULL ? t->domain
				    : "?",
	    mxt_status_name(t->verdict.status), secs);
	mxt_target_free(t);
	probe_unwatch(p);
	p->done = 1;
	x->inflight--;
	if (p->conn != NULL) {
		MHD_resume_connection(p->conn);
		mhd_pump(x);
	} else {
		probe_free(p); /* MHD already dropped the connection */
	}
	if (x->stopping && x->inflight == 0)
		mxt_loop_stop(x->loop);
}

/* The client's socket became readable while its probe runs: a hang-up
 * (recv returns 0) cancels the probe; other bytes are left for MHD. */
static void
on_client_io(struct mxt_loop *loop, int fd, unsigned events, void *arg)
{
	struct probe *p = arg;
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)loop;
	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	probe_unwatch(p);
	if (n <= 0 && p->run != NULL) {
		p->x->cancelled++;
		mxt_log(1, "exporter: client hung up; probe cancelled");
		mxt_run_cancel(p->run);
	}
}

/* Seconds as Prometheus sends them ("10", "9.5"): strict, > 0. */
static int
parse_seconds(const char *s, int64_t *ms)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || strlen(s) > 32 || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v > 0.0) || v > 86400.0 ||
	    strpbrk(s, "xXeEiInN") != NULL)
		return -1;
	*ms = (int64_t)(v * 1000.0);
	return *ms > 0 ? 0 : -1;
}

/* The run's deadline: the module's --timeout-total, and at most the
 * scrape's timeout less a margin (MXT_EXPORTER_SCRAPE_MARGIN_MS, or half
 * the timeout when it is shorter than twice the margin). */
static int64_t
probe_budget(int64_t module_ms, int64_t scrape_ms)
{
	int64_t b;

	if (scrape_ms <= 0)
		return module_ms;
	b = scrape_ms > 2 * MXT_EXPORTER_SCRAPE_MARGIN_MS
	    ? scrape_ms - MXT_EXPORTER_SCRAPE_MARGIN_MS
	    : scrape_ms / 2;
	if (b < 1)
		b = 1;
	return b < module_ms ? b : module_ms;
}

static const struct mxt_config *
find_module(struct exporter *x, const char *name)
{
	size_t i;

	if (name == NULL)
		return x->fallback;
	for (i = 0; i < x->nmods; i++)
		if (strcmp(x->mods[i].name, name) == 0)
			return &x->mods[i].cfg;
	return NULL;
}

/* First call for /probe: check the request, start the run, suspend. */
static enum MHD_Result
probe_start(struct exporter *x, struct MHD_Connection *conn, void **con_cls)
{
	const char *target = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "target");
	const char *module = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "module");
	const char *hdr = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds");
	const struct mxt_config *mcfg;
	const union MHD_ConnectionInfo *ci;
	char reason[400], *show;
	struct mxt_target_req tr;
	struct mxt_target *t;
	struct probe *p;
	int64_t scrape_ms = 0;

	if (x->stopping)
		return fail(x, conn, 503, "the exporter is shutting down");
	if (target == NULL || target[0] == '\0')
		return fail(
		    x, conn, 400, "missing target: /probe?target=DOMAIN|ADDRESS[&module=NAME]");
	if (strlen(target) > MXT_EXPORTER_ARG_MAX ||
	    (module != NULL && strlen(module) > MXT_EXPORTER_ARG_MAX))
		return fail(x, conn, 400, "target or module too long");
	if ((mcfg = find_module(x, module)) == NULL) {
		show = mxt_shown(module);
		snprintf(reason, sizeof(reason), "unknown module '%s'", show);
		free(show);
		return fail(x, conn, 400, reason);
	}
	if (hdr != NULL && parse_seconds(hdr, &scrape_ms) != 0) {
		show = mxt_shown(hdr);
		snprintf(
		    reason, sizeof(reason), "bad X-Prometheus-Scrape-Timeout-Seconds '%s'", show);
		free(show);
		return fail(x, conn, 400, reason);
	}
	if (mxt_parse_target(target, mcfg->allow_loopback, &tr, reason, sizeof(reason)) != 0)
		return fail(x, conn, 400, reason);
	if (x->inflight >= (size_t)x->cfg->max_probes) {
		mxt_target_req_free(&tr);
		x->rejected++;
		return fail(x, conn, 503, "too many probes running; retry later");
	}
	p = mxt_xcalloc(1, sizeof(*p));
	p->x = x;
	p->conn = conn;
	p->fd = -1;
	p->cfg = *mcfg;
	p->cfg.timeout_total_ms = probe_budget(mcfg->timeout_total_ms, scrape_ms);
	if (tr.server != NULL) {
		/* An address: probe that server with the module's options, as
		 * --server ADDR does; its port, else the module's. */
		p->server = tr.server;
		tr.server = NULL;
		p->cfg.server = p->server;
		if (tr.port != 0)
			p->cfg.port = tr.port;
		/* No recipient without the module's to (the CLI asks for --to
		 * with --server alone): the session ends after the last step
		 * that needs none, EHLO, STARTTLS and TLS, and AUTH when the
		 * module has a user (docs/mxtrace.1, EXPORTER MODE). */
		if (p->cfg.nto == 0 && p->cfg.quit_after > MXT_QUIT_AFTER_AUTH)
			p->cfg.quit_after = MXT_QUIT_AFTER_AUTH;
	}
	p->metrics = (int)negotiate(conn);
	p->start = mxt_now_ms();
	p->next = x->probes;
	if (x->probes != NULL)
		x->probes->prev = p;
	x->probes = p;
	*con_cls = p;
	x->inflight++;
	t = mxt_engine_target(&p->cfg, target, tr.domain, tr.unicode, tr.rcpt);
	mxt_target_req_free(&tr);
	MHD_suspend_connection(conn);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL &&
	    mxt_loop_watch(x->loop, ci->connect_fd, MXT_EV_READ, on_client_io, p) == 0)
		p->fd = ci->connect_fd;
	p->run = mxt_run_start(x->e, t, &p->cfg, on_run_done, p);
	return MHD_YES;
}

/* Handler call after the probe's connection was resumed: send its answer. */
static enum MHD_Result
probe_answer(struct exporter *x, struct probe *p, size_t *upload_data_size)
{
	if (*upload_data_size != 0) { /* a body nobody asked for: dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!p->done) { /* not expected: MHD calls again only after resume */
		MHD_suspend_connection(p->conn);
		return MHD_YES;
	}
	if (p->body == NULL)
		return fail(x, p->conn, 500, "cannot render the metrics");
	return respond(x, p->conn, 200,
	    mxt_metrics_content_type((enum mxt_metrics_format)p->metrics), p->body, p->len, 0);
}

static const char index_html[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mxtrace exporter</title>"
    "</head>\n<body><h1>mxtrace exporter</h1>\n"
    "<p>Mail delivery probes for Prometheus (docs/metrics.md).</p>\n<ul>\n"
    "<li><a href=\"probe?target=example.com\">/probe?target=example.com</a> "
    "(&amp;module=NAME for a module of --config; target=ADDRESS[:PORT] probes one "
    "server)</li>\n"
    "<li><a href=\"metrics\">/metrics</a>: the exporter's own health</li>\n"
    "</ul></body></html>\n";

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct exporter *x = cls;
	char *body;
	size_t len;
	enum MHD_Result ret;
	enum mxt_metrics_format fmt;

	(void)version;
	(void)upload_data;
	if (*con_cls == &plain_request) {
		*upload_data_size = 0; /* a body we do not read */
		return MHD_YES;
	}
	if (*con_cls != NULL)
		return probe_answer(x, *con_cls, upload_data_size);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*con_cls = &plain_request;
		return fail(x, conn, 405, "only GET and HEAD");
	}
	if (strcmp(url, "/probe") == 0)
		return probe_start(x, conn, con_cls);
	*con_cls = &plain_request;
	if (strcmp(url, "/metrics") == 0) {
		fmt = negotiate(conn);
		if ((body = own_metrics(x, fmt, &len)) == NULL)
			return fail(x, conn, 500, "cannot render the metrics");
		ret = respond(x, conn, 200, mxt_metrics_content_type(fmt), body, len, 0);
		free(body);
		return ret;
	}
	if (strcmp(url, "/") == 0)
		return respond(x, conn, 200, "text/html; charset=utf-8", index_html,
		    sizeof(index_html) - 1, 0);
	return fail(x, conn, 404, "not found; see / for the paths");
}

/* MHD is done with a connection: free its /probe state. */
static void
on_completed(
    void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct exporter *x = cls;
	struct probe *p = *con_cls;

	(void)conn;
	(void)toe;
	*con_cls = NULL;
	if (p == NULL || (void *)p == (void *)&plain_request)
		return;
	probe_unwatch(p);
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		x->probes = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	if (p->run != NULL) {
		/* Not expected (a suspended connection does not complete): the
		 * run's done callback frees p, never resuming. */
		p->conn = NULL;
		mxt_run_cancel(p->run);
		return;
	}
	probe_free(p);
}

/* MHD's own messages may quote what a client sent: escape before logging. */
static void __attribute__((format(printf, 2, 0))) on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512], *e;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	e = mxt_escape_str(buf, 300);
	mxt_log(1, "exporter: libmicrohttpd: %s", e != NULL ? e : "?");
	free(e);
}

/* ---- MHD on the loop ---- */

static void
on_mhd_timer(struct mxt_loop *loop, void *arg)
{
	(void)loop;
	mhd_pump(arg);
}

/* Let MHD do its work, then arm the loop's timer for its next timeout. */
static void
mhd_pump(struct exporter *x)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(x->d);
	if (MHD_get_timeout(x->d, &ms) == MHD_YES)
		mxt_timer_arm(x->loop, &x->mhd_timer,
		    mxt_now_ms() + (ms > 60000 ? 60000 : (int64_t)ms), on_mhd_timer, x);
	else
		mxt_timer_cancel(x->loop, &x->mhd_timer);
}

static void
on_mhd_io(struct mxt_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	mhd_pump(arg);
}

/* SIGTERM or SIGINT: stop accepting work, cancel what runs, stop the loop
 * once every probe has answered. */
static void
on_signal(struct mxt_loop *loop, int fd, unsigned events, void *arg)
{
	struct exporter *x = arg;
	struct signalfd_siginfo si;
	struct probe *p;

	(void)events;
	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	mxt_note("exporter: signal %u, stopping", si.ssi_signo);
	x->stopping = 1;
	for (p = x->probes; p != NULL; p = p->next)
		if (p->run != NULL)
			mxt_run_cancel(p->run);
	if (x->inflight == 0)
		mxt_loop_stop(loop);
}

int
mxt_exporter_run(struct mxt_engine *e, const struct mxt_config *cfg,
    const struct mxt_exporter_module *mods, size_t n, char *err, size_t errlen)
{
	struct exporter x;
	struct sockaddr_in6 sa6;
	struct sockaddr_in sa4;
	struct sockaddr *sa;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	sigset_t set, old;
	int rc = -1, i;

	memset(&x, 0, sizeof(x));
	x.e = e;
	x.loop = mxt_engine_loop(e);
	x.cfg = cfg;
	x.mods = mods;
	x.nmods = n;
	x.sig_fd = -1;
	x.started = time(NULL);
	x.fallback = cfg;
	for (i = 0; (size_t)i < n; i++)
		if (strcmp(mods[i].name, "default") == 0)
			x.fallback = &mods[i].cfg;
	memset(&sa4, 0, sizeof(sa4));
	memset(&sa6, 0, sizeof(sa6));
	if (inet_pton(AF_INET, cfg->listen, &sa4.sin_addr) == 1) {
		sa4.sin_family = AF_INET;
		sa4.sin_port = htons((uint16_t)cfg->listen_port);
		sa = (struct sockaddr *)&sa4;
	} else if (inet_pton(AF_INET6, cfg->listen, &sa6.sin6_addr) == 1) {
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons((uint16_t)cfg->listen_port);
		sa = (struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "--listen: '%s' is not an address", cfg->listen);
		return -1;
	}
	/* Stop on SIGTERM and SIGINT through the loop (a signalfd), never
	 * inside a handler. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);
	x.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (x.sig_fd < 0 || mxt_loop_watch(x.loop, x.sig_fd, MXT_EV_READ, on_signal, &x) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		goto done;
	}
	x.d = MHD_start_daemon(flags, (uint16_t)cfg->listen_port, NULL, NULL, on_request, &x,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, &x, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MXT_EXPORTER_CONNECTIONS_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MXT_EXPORTER_IDLE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MXT_EXPORTER_CONN_MEMORY,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 256u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &x,
	    MHD_OPTION_END);
	if (x.d == NULL) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%d (in use, or not a local address)",
		    sa == (struct sockaddr *)&sa6 ? "[" : "", cfg->listen,
		    sa == (struct sockaddr *)&sa6 ? "]" : "", cfg->listen_port);
		goto done;
	}
	di = MHD_get_daemon_info(x.d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || mxt_loop_watch(x.loop, di->epoll_fd, MXT_EV_READ, on_mhd_io, &x) < 0) {
		snprintf(err, errlen, "cannot watch libmicrohttpd's epoll descriptor");
		goto done;
	}
	x.mhd_fd = di->epoll_fd;
	mxt_note("exporter: listening on %s%s%s:%d (%zu module%s, at most %d probes at once)",
	    sa == (struct sockaddr *)&sa6 ? "[" : "", cfg->listen,
	    sa == (struct sockaddr *)&sa6 ? "]" : "", cfg->listen_port, n, n == 1 ? "" : "s",
	    cfg->max_probes);
	mhd_pump(&x);
	if (mxt_loop_run(x.loop) < 0) {
		snprintf(err, errlen, "event loop failure: %s", strerror(errno));
		goto done;
	}
	/* Flush what the last probes answered before closing. */
	for (i = 0; i < 10; i++)
		MHD_run(x.d);
	rc = 0;
done:
	if (x.d != NULL) {
		mxt_loop_unwatch(x.loop, x.mhd_fd);
		mxt_timer_cancel(x.loop, &x.mhd_timer);
		MHD_stop_daemon(x.d);
	}
	if (x.sig_fd >= 0) {
		mxt_loop_unwatch(x.loop, x.sig_fd);
		close(x.sig_fd);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
