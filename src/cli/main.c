/* SPDX-License-Identifier: MIT */
/*
 * mxtrace: the thin CLI.  Parses options, builds the record for the target,
 * runs the pipeline (DNS stage, probe stage, report stage) on one event
 * loop, renders, and maps the verdict onto the exit status.  All judgement
 * lives in the stages; this file only wires them.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "mxtrace/tls.h"
#include "mxtrace/dns.h"
#include "mxtrace/escape.h"
#include "mxtrace/limits.h"
#include "mxtrace/log.h"
#include "mxtrace/probe.h"
#include "mxtrace/report.h"
#include "mxtrace/xalloc.h"
#include "options.h"
#include "secret.h"

#define MXT_EXIT_IOERR 74    /* sysexits EX_IOERR: the report could not be written */
#define MXT_EXIT_SOFTWARE 70 /* sysexits EX_SOFTWARE: internal error (no event loop) */

struct run {
	struct mxt_loop *loop;
	struct mxt_resolver *res;
	SSL_CTX *ctx;
	const struct mxt_config *cfg;
	int64_t hard_deadline;
};

/* Each stage runs the loop until it has nothing left to wait for. */
static void
on_stage_done(struct mxt_target *t, void *arg)
{
}

static int64_t
wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* A record for one target: domain (A- and U-label forms, NULL with --server
 * alone), its recipient (NULL: --to, else postmaster@domain). */
static struct mxt_target *
make_target(const struct mxt_config *cfg, const char *input, const char *domain,
    const char *unicode, const char *rcpt)
{
	struct mxt_target *t = mxt_target_new();
	size_t i, n;

	if (t == NULL)
		return NULL;
	t->input = mxt_xstrdup(input);
	if (domain == NULL && cfg->nto > 0 && strrchr(cfg->to[0], '@') != NULL)
		domain = unicode = strrchr(cfg->to[0], '@') + 1; /* --server: the recipient's */
	if (domain != NULL) {
		t->domain = mxt_xstrdup(domain);
		t->domain_unicode = mxt_xstrdup(unicode != NULL ? unicode : domain);
	}
	t->sender = mxt_xstrdup(cfg->from != NULL ? cfg->from : "");
	n = rcpt == NULL && cfg->nto > 0 ? cfg->nto : 1;
	t->rcpts = mxt_xcalloc(n, sizeof(*t->rcpts));
	if (rcpt != NULL) {
		t->rcpts[0] = mxt_xstrdup(rcpt);
	} else if (cfg->nto > 0) {
		for (i = 0; i < cfg->nto; i++)
			t->rcpts[i] = mxt_xstrdup(cfg->to[i]);
	} else {
		/* RFC 5321 §4.5.1: every domain must accept postmaster. */
		const char *d = domain != NULL ? domain : "localhost";
		size_t len = strlen(d) + sizeof("postmaster@");

		t->rcpts[0] = mxt_xmalloc(len);
		snprintf(t->rcpts[0], len, "postmaster@%s", d);
	}
	t->nrcpts = n;
	return t;
}

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

static uint64_t
seed_of(const struct mxt_config *cfg)
{
	uint64_t s = 0;

	if (cfg->have_seed)
		return cfg->seed;
	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
		s = (uint64_t)wall_ms() ^ (uint64_t)getpid();
	return s;
}

/* -v: one line per stage and per attempt on stderr. */
static void
log_dns(const struct mxt_target *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->dns.nmx; i++)
		n += t->dns.mx[i].naddrs;
	mxt_log(1, "DNS stage: MX %s (%s), %zu exchanger(s), %zu address(es), %lld ms",
	    mxt_dns_status_name(t->dns.q_mx.status), mxt_mx_source_name(t->dns.source), t->dns.nmx,
	    n, (long long)t->dns.duration_ms);
}

static void
log_probe(const struct mxt_target *t)
{
	size_t i, j;

	for (i = 0; i < t->nattempts; i++) {
		const struct mxt_attempt *a = &t->attempts[i];
		char *name = mxt_escape_str(t->dns.mx[a->mx_index].name, 255);

		mxt_log(1, "attempt %s %s port %d: connect %s, ended %s at %s, %lld ms",
		    name != NULL ? name : "?", a->addr.text, a->port,
		    mxt_conn_status_name(a->connect), mxt_end_name(a->end),
		    mxt_stage_name(a->end_stage), (long long)a->duration_ms);
		free(name);
		for (j = 0; mxt_log_level() >= 2 && j < a->ntranscript; j++) {
			const struct mxt_tline *l = &a->transcript[j];
			char *e = mxt_escape(l->text, l->len, 0);

			mxt_log(2, "  %6lld ms %s %s", (long long)l->t_ms,
			    l->dir == MXT_DIR_CLIENT	   ? "->"
				: l->dir == MXT_DIR_SERVER ? "<-"
							   : "**",
			    e != NULL ? e : "?");
			free(e);
		}
	}
}

/* The pipeline for one target: DNS stage (exchangers, then who we are),
 * probe stage, then the report stage's classification. */
static int
run_target(struct run *r, struct mxt_target *t, uint64_t *rng)
{
	if (mxt_dns_run(r->res, t, r->cfg, rng, r->hard_deadline, on_stage_done, r) < 0)
		return -1;
	mxt_loop_run(r->loop);
	log_dns(t);
	mxt_identity_local(t, r->cfg);
	if (mxt_identity_run(r->res, t, r->cfg, r->hard_deadline, on_stage_done, r) < 0)
		return -1;
	mxt_loop_run(r->loop);
	mxt_identity_choose_ehlo(t, r->cfg);
	mxt_log(1, "client: local %s, PTR %s%s, EHLO name %s (%s)",
	    t->client.local_v4 != NULL ? t->client.local_v4 : "-",
	    t->client.ptr != NULL ? "present" : "missing",
	    t->client.fcrdns ? " (forward-confirmed)" : "", t->client.ehlo_name,
	    t->client.ehlo_from);
	if (mxt_probe_run(r->loop, r->ctx, t, r->cfg, r->hard_deadline, on_stage_done, r) < 0)
		return -1;
	mxt_loop_run(r->loop);
	log_probe(t);
	/* A server told us our public address: look that one up too. */
	if (mxt_identity_egress_seen(t)) {
		mxt_log(1, "a server saw us as %s: looking up its PTR", t->client.egress);
		if (mxt_identity_run(r->res, t, r->cfg, r->hard_deadline, on_stage_done, r) < 0)
			return -1;
		mxt_loop_run(r->loop);
	}
	return mxt_classify(t, r->cfg);
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

int
main(int argc, char **argv)
{
	struct mxt_config cfg;
	struct run r;
	struct mxt_target *t = NULL;
	char err[512];
	int rc, code = MXT_EXIT_SOFTWARE;
	uint64_t rng;
	struct batch_line *lines = NULL;
	struct mxt_target **kept = NULL; /* --format openmetrics: one exposition at the end */
	size_t nlines = 0, nkept = 0, i;

	/* A reset peer must not kill us through OpenSSL's write(): EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	mxt_config_init(&cfg);
	err[0] = '\0';
	rc = mxt_options_parse(argc, argv, &cfg, stdout, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "%s\nTry 'mxtrace --help'.\n", err);
		mxt_config_free(&cfg);
		return rc < 0 ? MXT_EXIT_USAGE : 0;
	}
	mxt_log_init(cfg.verbose, cfg.quiet);
	if (mxt_cli_password(&cfg, err, sizeof(err)) < 0 ||
	    read_body_file(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxtrace: %s\n", err);
		mxt_config_free(&cfg);
		return MXT_EXIT_USAGE;
	}
	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	r.loop = mxt_loop_new();
	if (r.loop == NULL) {
		fprintf(stderr, "mxtrace: cannot create the event loop\n");
		code = MXT_EXIT_SOFTWARE;
		goto done;
	}
	r.res = mxt_resolver_new(r.loop, &cfg, err, sizeof(err));
	if (r.res == NULL) {
		fprintf(stderr, "mxtrace: %s\n", err);
		/* Only an address c-ares refuses is the user's error (mxt_resolver_new()
		 * says "bad --resolver"); a channel that cannot be made is ours. */
		code = strncmp(err, "bad --resolver", 14) == 0 ? MXT_EXIT_USAGE : MXT_EXIT_SOFTWARE;
		goto done;
	}
	r.ctx = mxt_tls_ctx_new(cfg.ca_file, err, sizeof(err));
	if (r.ctx == NULL) {
		fprintf(stderr, "mxtrace: %s\n", err);
		code = cfg.ca_file != NULL ? MXT_EXIT_USAGE : MXT_EXIT_SOFTWARE;
		goto done;
	}
	rng = seed_of(&cfg);
	if (cfg.batch != NULL) {
		lines = read_batch(cfg.batch, &nlines, err, sizeof(err));
		if (lines == NULL || nlines == 0) {
			fprintf(stderr, "mxtrace: %s\n", err);
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
	code = -1;
	for (i = 0; i < nlines; i++) {
		int64_t start = mxt_now_ms();
		int c;

		/* The recipient of a TARGET address is already in cfg.to. */
		t = make_target(
		    &cfg, lines[i].input, lines[i].domain, lines[i].unicode, lines[i].rcpt);
		if (t == NULL) {
			fprintf(stderr, "mxtrace: out of memory\n");
			code = MXT_EXIT_SOFTWARE;
			goto done;
		}
		t->started_unix_ms = wall_ms();
		r.hard_deadline = start + cfg.timeout_total_ms;
		if (run_target(&r, t, &rng) < 0) {
			fprintf(stderr, "mxtrace: out of memory\n");
			code = MXT_EXIT_SOFTWARE;
			goto done;
		}
		t->duration_ms = mxt_now_ms() - start;
		if (i > 0 && cfg.format == MXT_FORMAT_TEXT)
			fputc('\n', stdout);
		switch (cfg.format) {
		case MXT_FORMAT_JSON:
			rc = mxt_render_json(stdout, &t, 1, &cfg);
			break;
		case MXT_FORMAT_NAGIOS:
			rc = mxt_render_nagios(stdout, &t, 1, &cfg);
			break;
		case MXT_FORMAT_OPENMETRICS:
			/* One exposition per run: a batch writes it at the end. */
			rc = 0;
			break;
		case MXT_FORMAT_TEXT:
		default:
			rc = mxt_render_text(stdout, &t, 1, &cfg, want_color(&cfg));
			break;
		}
		if (rc < 0) {
			fprintf(stderr, "mxtrace: write error on standard output\n");
			code = MXT_EXIT_IOERR;
			goto done;
		}
		c = mxt_exit_code(&t, 1);
		code = mxt_exit_worse(code, c);
		if (cfg.format == MXT_FORMAT_OPENMETRICS) {
			kept = mxt_xreallocarray(kept, nkept + 1, sizeof(*kept));
			kept[nkept++] = t;
		} else {
			mxt_target_free(t);
		}
		t = NULL;
	}
	if (cfg.format == MXT_FORMAT_OPENMETRICS &&
	    mxt_render_openmetrics(stdout, kept, nkept, &cfg) < 0) {
		fprintf(stderr, "mxtrace: write error on standard output\n");
		code = MXT_EXIT_IOERR;
	}
done:
	for (i = 0; i < nkept; i++)
		mxt_target_free(kept[i]);
	free(kept);
	if (cfg.batch != NULL)
		free_batch(lines, nlines);
	mxt_target_free(t);
	if (r.ctx != NULL)
		SSL_CTX_free(r.ctx);
	mxt_resolver_free(r.res);
	mxt_loop_free(r.loop);
	mxt_config_free(&cfg);
	return code;
}
