/* SPDX-License-Identifier: MIT */
/*
 * mxtrace: the thin CLI.  Parses options, reads the targets, hands each to
 * the engine (include/mxtrace/engine.h: the pipeline on one event loop),
 * renders each record as it finishes, and maps the verdicts onto the exit
 * status.  All judgement lives in the stages; this file only wires them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mxtrace/engine.h"
#include "mxtrace/exporter.h"
#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/report.h"
#include "mxtrace/xalloc.h"
#include "batch.h"
#include "options.h"
#include "secret.h"

#define MXT_EXIT_IOERR 74    /* sysexits EX_IOERR: the report could not be written */
#define MXT_EXIT_SOFTWARE 70 /* sysexits EX_SOFTWARE: internal error (no event loop) */

/* --body-file: a regular file, at most MXT_BODY_FILE_MAX bytes. */
static int
read_body_file(struct mxt_config *cfg, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	if (cfg->body_file == NULL)
		return 0;
	fd = open(cfg->body_file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(
		    err, errlen, "cannot open --body-file %s: %s", cfg->body_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MXT_BODY_FILE_MAX) {
		snprintf(err, errlen, "--body-file must be a regular file of at most %d MiB",
		    MXT_BODY_FILE_MAX / (1024 * 1024));
		close(fd);
		return -1;
	}
	cfg->body_data = mxt_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size &&
	    (n = read(fd, cfg->body_data + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got < (size_t)st.st_size) {
		snprintf(err, errlen, "cannot read all of --body-file %s", cfg->body_file);
		return -1;
	}
	cfg->body_data_len = got;
	return 0;
}

static int
want_color(const struct mxt_config *cfg)
{
	const char *nc = getenv("NO_COLOR");

	if (cfg->color >= 0)
		return cfg->color;
	if (nc != NULL && nc[0] != '\0')
		return 0;
	return isatty(STDOUT_FILENO);
}

/* Targets in flight per allowed connection: enough to keep the gate busy
 * while the next targets' DNS runs. */
#define TARGETS_PER_SLOT 2
/* The progress line is redrawn at most this often. */
#define PROGRESS_MS 200

/* One CLI run: where the targets come from, and what came out so far. */
struct cli {
	struct mxt_config *cfg;
	struct mxt_engine *e;
	struct batch *batch;   /* --batch, or NULL for the one TARGET */
	struct batch_item one; /* the command line's TARGET */
	int input_fd;	       /* the batch read without blocking, else -1 */
	int watching;	       /* input_fd is watched for the next line */
	int one_started;
	size_t inflight, max_inflight;
	size_t ndone;
	struct mxt_target **kept; /* --format openmetrics: one exposition at the end */
	size_t nkept;
	int code;   /* worst exit status so far, -1 before the first */
	int failed; /* a fatal error: stop starting targets */
	/* the summary and the progress line (stderr) */
	size_t nstatus[4];
	struct code_count {
		const char *code;
		size_t n;
	} * codes;
	size_t ncodes;
	/* Targets that tried to connect, and those judged behind a port-25
	 * block (connect.egress_blocked): said once in the summary. */
	size_t nconnected, negress;
	int64_t start;
	int progress; /* stderr is a terminal and a batch runs */
	int drawn;
	struct mxt_timer tick;
};

static void start_next(struct cli *c);
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Render one finished target as it comes (a batch: one JSON document per
 * line, flushed, so a reader sees whole records as they finish). */
static int
render(struct cli *c, struct mxt_target *t)
{
	const struct mxt_config *cfg = c->cfg;
	struct mxt_render_opts ro;
	int rc;

	if (c->ndone > 0 && cfg->format == MXT_FORMAT_TEXT)
		fputc('\n', stdout);
	memset(&ro, 0, sizeof(ro));
	ro.transcript = cfg->transcript;
	ro.compact = cfg->batch != NULL;
	ro.color = want_color(cfg);
	ro.warn_time = cfg->warn_time;
	ro.crit_time = cfg->crit_time;
	ro.have_cert_crit = cfg->cert_crit_days >= 0;
	ro.cert_crit_days = cfg->cert_crit_days;
	switch (cfg->format) {
	case MXT_FORMAT_JSON:
		rc = mxt_render_json(stdout, &t, 1, &ro);
		break;
	case MXT_FORMAT_NAGIOS:
		rc = mxt_render_nagios(stdout, &t, 1, &ro);
		break;
	case MXT_FORMAT_OPENMETRICS:
	case MXT_FORMAT_PROMETHEUS:
		return 0; /* one exposition per run: written at the end */
	case MXT_FORMAT_TEXT:
	default:
		rc = mxt_render_text(stdout, &t, 1, &ro);
		break;
	}
	if (rc == 0 && fflush(stdout) != 0)
		rc = -1;
	return rc;
}

/* ---- progress (stderr, a terminal only) and the summary ---- */

static void
progress_erase(struct cli *c)
{
	if (c->drawn) {
		fputs("\r\033[K", stderr);
		c->drawn = 0;
	}
}

/* One line, redrawn in place: done/total, rate, ETA, in flight. */
static void
progress_draw(struct cli *c)
{
	double secs = (double)(mxt_now_ms() - c->start) / 1000.0;
	double rate = secs > 0 ? (double)c->ndone / secs : 0;
	long total = c->batch != NULL ? batch_total(c->batch) : -1;
	char eta[32] = "";

	if (total > 0 && rate > 0 && (long)c->ndone < total)
		snprintf(eta, sizeof(eta), ", ETA %.0f s", (double)(total - (long)c->ndone) / rate);
	fputs("\r\033[K", stderr);
	if (total >= 0)
		fprintf(stderr, "mxtrace: %zu/%ld done, %.1f/s%s, %zu in flight", c->ndone, total,
		    rate, eta, c->inflight);
	else
		fprintf(stderr, "mxtrace: %zu done, %.1f/s, %zu in flight", c->ndone, rate,
		    c->inflight);
	fflush(stderr);
	c->drawn = 1;
}

static void
on_tick(struct mxt_loop *loop, void *arg)
{
	struct cli *c = arg;

	if (c->inflight == 0)
		return;
	progress_draw(c);
	mxt_timer_arm(loop, &c->tick, mxt_now_ms() + PROGRESS_MS, on_tick, c);
}

static void
count(struct cli *c, const struct mxt_target *t)
{
	size_t i, j;

	if ((size_t)t->verdict.status < 4)
		c->nstatus[t->verdict.status]++;
	for (i = 0; i < t->nattempts; i++)
		if (!t->attempts[i].canary && t->attempts[i].connect != MXT_CONN_NOT_TRIED)
			break;
	if (i < t->nattempts) {
		c->nconnected++;
		for (j = 0; j < t->nfindings; j++)
			if (strcmp(t->findings[j].code, "connect.egress_blocked") == 0)
				break;
		if (j < t->nfindings)
			c->negress++;
	}
	for (i = 0; i < t->nfindings; i++) {
		for (j = 0; j < c->ncodes; j++)
			if (strcmp(c->codes[j].code, t->findings[i].code) == 0)
				break;
		if (j == c->ncodes) {
			c->codes = mxt_xreallocarray(c->codes, c->ncodes + 1, sizeof(*c->codes));
			c->codes[c->ncodes].code = t->findings[i].code; /* the static catalogue */
			c->codes[c->ncodes++].n = 0;
		}
		c->codes[j].n++;
	}
}

static int
by_count(const void *a, const void *b)
{
	const struct code_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->code, y->code);
}

/* The batch's summary on stderr: counts per verdict and per code. */
static void
summary(struct cli *c)
{
	size_t i;

	if (c->ncodes > 1) /* qsort() wants a non-NULL base even for 0 */
		qsort(c->codes, c->ncodes, sizeof(*c->codes), by_count);
	fprintf(stderr,
	    "mxtrace: %zu target(s) in %.1f s: %zu ok, %zu warning, %zu critical, %zu unknown\n",
	    c->ndone, (double)(mxt_now_ms() - c->start) / 1000.0, c->nstatus[MXT_STATUS_OK],
	    c->nstatus[MXT_STATUS_WARNING], c->nstatus[MXT_STATUS_CRITICAL],
	    c->nstatus[MXT_STATUS_UNKNOWN]);
	for (i = 0; i < c->ncodes; i++)
		fprintf(stderr, "mxtrace:   %6zu  %s\n", c->codes[i].n, c->codes[i].code);
	/* One cause behind every record: say it once, not only per record. */
	if (c->nconnected > 0 && c->negress == c->nconnected)
		fprintf(stderr,
		    "mxtrace: port 25 appears blocked on the way out: every target connected to "
		    "(%zu) timed out on port 25 while its other ports answered or the reference "
		    "exchangers timed out too (connect.egress_blocked); these results say nothing "
		    "about the targets: run from a network that allows outbound port 25, or send "
		    "through a relay on port 587\n",
		    c->nconnected);
}

/* ---- the run ---- */

static void
on_target_done(struct mxt_target *t, void *arg)
{
	struct cli *c = arg;

	c->inflight--;
	progress_erase(c);
	if (!c->failed && render(c, t) < 0) {
		fail("write error on standard output");
		c->code = MXT_EXIT_IOERR;
		c->failed = 1;
	}
	if (!c->failed && c->cfg->format == MXT_FORMAT_NAGIOS) {
		struct mxt_render_opts ro;

		memset(&ro, 0, sizeof(ro));
		ro.warn_time = c->cfg->warn_time;
		ro.crit_time = c->cfg->crit_time;
		ro.have_cert_crit = c->cfg->cert_crit_days >= 0;
		ro.cert_crit_days = c->cfg->cert_crit_days;
		c->code = mxt_exit_worse(c->code, mxt_nagios_exit_code(&t, 1, &ro));
	} else if (!c->failed)
		c->code = mxt_exit_worse(c->code, mxt_exit_code(&t, 1));
	c->ndone++;
	count(c, t);
	if ((c->cfg->format == MXT_FORMAT_OPENMETRICS || c->cfg->format == MXT_FORMAT_PROMETHEUS) &&
	    !c->failed) {
		c->kept = mxt_xreallocarray(c->kept, c->nkept + 1, sizeof(*c->kept));
		c->kept[c->nkept++] = t;
	} else {
		mxt_target_free(t);
	}
	start_next(c);
	if (c->progress && c->inflight > 0)
		progress_draw(c);
}

/* The batch input has a line (or its end) to read: go on starting. */
static void
on_input(struct mxt_loop *loop, int fd, unsigned events, void *arg)
{
	struct cli *c = arg;

	mxt_loop_unwatch(loop, fd);
	c->watching = 0;
	start_next(c);
}

/* Start targets while there is room: they begin as capacity frees, and as
 * lines arrive on a pipe (read from the loop, never blocking the targets
 * already running). */
static void
start_next(struct cli *c)
{
	while (!c->failed && c->inflight < c->max_inflight) {
		struct batch_item it;
		struct mxt_target *t;

		if (c->batch != NULL) {
			int r = batch_next(c->batch, &it);

			if (r == BATCH_AGAIN && !c->watching) {
				if (mxt_loop_watch(mxt_engine_loop(c->e), c->input_fd, MXT_EV_READ,
					on_input, c) < 0) {
					fail("cannot watch the --batch input: %s", strerror(errno));
					c->code = MXT_EXIT_SOFTWARE;
					c->failed = 1;
					return;
				}
				c->watching = 1;
			}
			if (r != 1)
				return;
		} else {
			if (c->one_started)
				return;
			c->one_started = 1;
			it = c->one;
		}
		/* The recipient of a TARGET address is already in cfg.to. */
		t = mxt_engine_target(c->cfg, it.input, it.domain, it.unicode, it.rcpt);
		t->input_line = it.line;
		if (it.error != NULL)
			t->input_error = mxt_xstrdup(it.error);
		if (c->batch != NULL)
			batch_item_free(&it);
		c->inflight++;
		mxt_run_start(c->e, t, c->cfg, on_target_done, c);
	}
}

/* One exporter module's options (mxtrace/exporter.h): the option table,
 * then its password, which only password-file may give (no prompt, no
 * environment: each module has its own). */
static int
parse_module(int argc, char **argv, struct mxt_config *cfg, char *err, size_t errlen)
{
	if (mxt_options_module(argc, argv, cfg, err, errlen) != 0)
		return -1;
	if (cfg->user != NULL && cfg->password_file == NULL) {
		snprintf(err, errlen, "user needs password-file (never a password in the file)");
		return -1;
	}
	if (cfg->user != NULL && mxt_cli_password_file(cfg, err, errlen) != 0)
		return -1;
	return 0;
}

/* --listen: serve probes until a signal (src/exporter). */
static int
run_exporter(struct mxt_config *cfg, struct mxt_engine *e)
{
	struct mxt_exporter_module *mods = NULL;
	size_t n = 0;
	char err[512];
	int rc;

	if (cfg->exporter_config != NULL &&
	    mxt_exporter_modules_read(
		cfg->exporter_config, parse_module, &mods, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxtrace: %s\n", err);
		return MXT_EXIT_USAGE;
	}
	rc = mxt_exporter_run(e, cfg, mods, n, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "mxtrace: %s\n", err);
	mxt_exporter_modules_free(mods, n);
	return rc == 0 ? 0 : MXT_EXIT_SOFTWARE;
}

/* The last error reported, for the UNKNOWN line of --format nagios. */
static char last_error[512];

/* Report an error on stderr as "mxtrace: MESSAGE" and keep MESSAGE. */
static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mxtrace: %s\n", last_error);
}

/* Did argv ask for --format nagios (the last --format wins)?  For a command
 * line the option parser refused: getopt_long takes any unambiguous prefix
 * ("--fo", "--form=nagios"); "--f" could also be --from. */
static int
nagios_asked(int argc, char **argv)
{
	const char *fmt = NULL;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t n = eq != NULL ? (size_t)(eq - argv[i]) : strlen(argv[i]);

		if (n < 4 || n > 8 || strncmp(argv[i], "--format", n) != 0)
			continue;
		fmt = eq != NULL ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
	}
	return fmt != NULL && strcasecmp(fmt, "nagios") == 0;
}

/* The whole run; returns the exit status.  *nagios tells main() whether
 * --format nagios was asked for, even when the command line was refused. */
static int
run_main(int argc, char **argv, int *nagios)
{
	struct mxt_config cfg;
	struct cli c;
	char err[512];
	int rc, user_error, code = MXT_EXIT_SOFTWARE;
	size_t i;

	/* A reset peer must not kill us through OpenSSL's write(): EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	mxt_config_init(&cfg);
	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	rc = mxt_options_parse(argc, argv, &cfg, stdout, err, sizeof(err));
	*nagios = cfg.format == MXT_FORMAT_NAGIOS || (rc < 0 && nagios_asked(argc, argv));
	if (rc != 0) {
		if (rc < 0) {
			fprintf(stderr, "%s\nTry 'mxtrace --help'.\n", err);
			snprintf(last_error, sizeof(last_error), "%s",
			    strncmp(err, "mxtrace: ", 9) == 0 ? err + 9 : err);
		}
		mxt_config_free(&cfg);
		if (rc < 0)
			return MXT_EXIT_USAGE;
		/* --help, --version: a text nobody could read is an error too. */
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "mxtrace: write error on standard output\n");
			return MXT_EXIT_IOERR;
		}
		return 0;
	}
	mxt_log_init(cfg.verbose, cfg.quiet);
	if (mxt_cli_password(&cfg, err, sizeof(err)) < 0 ||
	    read_body_file(&cfg, err, sizeof(err)) < 0) {
		fail("%s", err);
		mxt_config_free(&cfg);
		return MXT_EXIT_USAGE;
	}
	if (cfg.batch != NULL) {
		c.batch = batch_open(cfg.batch, err, sizeof(err));
		if (c.batch == NULL) {
			fail("%s", err);
			code = MXT_EXIT_USAGE;
			goto done;
		}
	} else {
		c.one.input = cfg.target != NULL ? cfg.target : cfg.server;
		c.one.domain = cfg.domain;
		c.one.unicode = cfg.domain_unicode;
	}
	c.e = mxt_engine_new(&cfg, err, sizeof(err), &user_error);
	if (c.e == NULL) {
		fail("%s", err);
		code = user_error ? MXT_EXIT_USAGE : MXT_EXIT_SOFTWARE;
		goto done;
	}
	if (cfg.listen != NULL) {
		code = run_exporter(&cfg, c.e);
		goto done;
	}
	c.cfg = &cfg;
	c.code = -1;
	c.max_inflight = (size_t)(cfg.concurrency > 0 ? cfg.concurrency : 1) * TARGETS_PER_SLOT;
	c.start = mxt_now_ms();
	c.progress = c.batch != NULL && !cfg.quiet && cfg.verbose == 0 && isatty(STDERR_FILENO);
	c.input_fd = -1;
	/* A pipe (--batch -, a FIFO) is read from the loop: a slow producer
	 * must not stall the targets already running.  Only when epoll takes
	 * the descriptor (it refuses regular files and /dev/null). */
	if (c.batch != NULL &&
	    mxt_loop_watch(mxt_engine_loop(c.e), batch_fd(c.batch), 0, on_input, &c) == 0) {
		mxt_loop_unwatch(mxt_engine_loop(c.e), batch_fd(c.batch));
		if (batch_nonblock(c.batch) == 0)
			c.input_fd = batch_fd(c.batch);
	}
	start_next(&c);
	if (c.progress)
		mxt_timer_arm(mxt_engine_loop(c.e), &c.tick, c.start + PROGRESS_MS, on_tick, &c);
	if (mxt_loop_run(mxt_engine_loop(c.e)) < 0) {
		fail("event loop failure: %s", strerror(errno));
		c.code = MXT_EXIT_SOFTWARE;
	}
	mxt_timer_cancel(mxt_engine_loop(c.e), &c.tick);
	if (c.watching) /* stopped early (a write error) */
		mxt_loop_unwatch(mxt_engine_loop(c.e), c.input_fd);
	progress_erase(&c);
	/* An empty batch is an empty run: exit 0. */
	code = c.code < 0 ? 0 : c.code;
	if (!c.failed &&
	    (cfg.format == MXT_FORMAT_OPENMETRICS || cfg.format == MXT_FORMAT_PROMETHEUS) &&
	    mxt_render_metrics(stdout, c.kept, c.nkept,
		cfg.format == MXT_FORMAT_PROMETHEUS ? MXT_METRICS_PROMETHEUS
						    : MXT_METRICS_OPENMETRICS,
		1) < 0) {
		fail("write error on standard output");
		code = MXT_EXIT_IOERR;
	}
	if (c.batch != NULL && !cfg.quiet)
		summary(&c);
done:
	for (i = 0; i < c.nkept; i++)
		mxt_target_free(c.kept[i]);
	free(c.kept);
	free(c.codes);
	batch_close(c.batch);
	mxt_engine_free(c.e);
	mxt_config_free(&cfg);
	return code;
}

int
main(int argc, char **argv)
{
	int nagios = 0;
	int code = run_main(argc, argv, &nagios);

	/* Monitoring Plugins guidelines: a plugin that cannot run its check
	 * exits UNKNOWN and says why on the first line of standard output. */
	if (nagios && code > MXT_STATUS_UNKNOWN) {
		printf("MXTRACE UNKNOWN - %s\n",
		    last_error[0] != '\0' ? last_error : "internal error");
		fflush(stdout);
		return MXT_STATUS_UNKNOWN;
	}
	return code;
}
