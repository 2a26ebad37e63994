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
#include "options.h"
#include "secret.h"

#define MXT_EXIT_IOERR 74    /* sysexits EX_IOERR: the report could not be written */
#define MXT_EXIT_SOFTWARE 70 /* sysexits EX_SOFTWARE: internal error (no event loop) */

struct batch_line {
	char *input, *domain, *unicode, *rcpt;
};

static void
free_batch(struct batch_line *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].input);
		free(v[i].domain);
		free(v[i].unicode);
		free(v[i].rcpt);
	}
	free(v);
}

/* Read and check every --batch line before anything is probed. */
static struct batch_line *
read_batch(const char *path, size_t *n, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	struct batch_line *v = NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;

	*n = 0;
	if (f == NULL) {
		snprintf(err, errlen, "cannot open --batch %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char e[400], *p = line;

		lineno++;
		while (len > 0 &&
		    (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
			line[len - 1] == '\t'))
			line[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		v = mxt_xreallocarray(v, *n + 1, sizeof(*v));
		memset(&v[*n], 0, sizeof(v[*n]));
		if (mxt_options_target(
			p, &v[*n].domain, &v[*n].unicode, &v[*n].rcpt, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno,
			    strncmp(e, "mxtrace: ", 9) == 0 ? e + 9 : e);
			goto fail;
		}
		v[*n].input = mxt_xstrdup(p);
		(*n)++;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (*n == 0)
		snprintf(err, errlen, "--batch %s lists no target", path);
	return v;
fail:
	free(line);
	if (f != stdin)
		fclose(f);
	free_batch(v, *n);
	*n = 0;
	return NULL;
}

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

/* One CLI run: the targets, in order, and what came out so far. */
struct cli {
	struct mxt_config *cfg;
	struct mxt_engine *e;
	struct batch_line *lines;
	size_t nlines, next, ndone;
	struct mxt_target **kept; /* --format openmetrics: one exposition at the end */
	size_t nkept;
	int code;   /* worst exit status so far, -1 before the first */
	int failed; /* a fatal error: stop starting targets */
};

static void start_next(struct cli *c);
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Render one finished target as it comes (JSON: one document per line). */
static int
render(struct cli *c, struct mxt_target *t)
{
	const struct mxt_config *cfg = c->cfg;
	struct mxt_render_opts ro;

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
		return mxt_render_json(stdout, &t, 1, &ro);
	case MXT_FORMAT_NAGIOS:
		return mxt_render_nagios(stdout, &t, 1, &ro);
	case MXT_FORMAT_OPENMETRICS:
	case MXT_FORMAT_PROMETHEUS:
		return 0; /* one exposition per run: written at the end */
	case MXT_FORMAT_TEXT:
	default:
		return mxt_render_text(stdout, &t, 1, &ro);
	}
}

static void
on_target_done(struct mxt_target *t, void *arg)
{
	struct cli *c = arg;

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
	if ((c->cfg->format == MXT_FORMAT_OPENMETRICS || c->cfg->format == MXT_FORMAT_PROMETHEUS) &&
	    !c->failed) {
		c->kept = mxt_xreallocarray(c->kept, c->nkept + 1, sizeof(*c->kept));
		c->kept[c->nkept++] = t;
	} else {
		mxt_target_free(t);
	}
	start_next(c);
}

static void
start_next(struct cli *c)
{
	const struct batch_line *l;
	struct mxt_target *t;

	if (c->failed || c->next >= c->nlines)
		return;
	l = &c->lines[c->next++];
	/* The recipient of a TARGET address is already in cfg.to. */
	t = mxt_engine_target(c->cfg, l->input, l->domain, l->unicode, l->rcpt);
	mxt_run_start(c->e, t, c->cfg, on_target_done, c);
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
	struct batch_line *lines = NULL;
	size_t nlines = 0, i;

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
	if (cfg.batch != NULL) {
		lines = read_batch(cfg.batch, &nlines, err, sizeof(err));
		if (lines == NULL || nlines == 0) {
			fail("%s", err);
			code = MXT_EXIT_USAGE;
			goto done;
		}
	} else {
		static struct batch_line one;

		one.input = cfg.target != NULL ? cfg.target : cfg.server;
		one.domain = cfg.domain;
		one.unicode = cfg.domain_unicode;
		lines = &one;
		nlines = 1;
	}
	c.cfg = &cfg;
	c.lines = lines;
	c.nlines = nlines;
	c.code = -1;
	start_next(&c);
	if (mxt_loop_run(mxt_engine_loop(c.e)) < 0) {
		fail("event loop failure: %s", strerror(errno));
		c.code = MXT_EXIT_SOFTWARE;
	}
	code = c.code;
	if (!c.failed &&
	    (cfg.format == MXT_FORMAT_OPENMETRICS || cfg.format == MXT_FORMAT_PROMETHEUS) &&
	    mxt_render_metrics(stdout, c.kept, c.nkept,
		cfg.format == MXT_FORMAT_PROMETHEUS ? MXT_METRICS_PROMETHEUS
						    : MXT_METRICS_OPENMETRICS,
		1) < 0) {
		fail("write error on standard output");
		code = MXT_EXIT_IOERR;
	}
done:
	for (i = 0; i < c.nkept; i++)
		mxt_target_free(c.kept[i]);
	free(c.kept);
	if (cfg.batch != NULL)
		free_batch(lines, nlines);
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
