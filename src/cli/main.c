/* SPDX-License-Identifier: MIT */
/*
 * mxtrace: the thin CLI.  Parses options, builds the record for the target,
 * runs the pipeline (DNS stage, probe stage, report stage) on one event
 * loop, renders, and maps the verdict onto the exit status.  All judgement
 * lives in the stages; this file only wires them.
 */
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "mxtrace/conn.h"
#include "mxtrace/dns.h"
#include "mxtrace/probe.h"
#include "mxtrace/report.h"
#include "options.h"

#define MXT_EXIT_IOERR 74 /* sysexits EX_IOERR: the report could not be written */
#define MXT_EXIT_SOFTWARE 70

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

/* The record for the one TARGET of the command line. */
static struct mxt_target *
make_target(const struct mxt_config *cfg)
{
	struct mxt_target *t = mxt_target_new();
	size_t i, n;

	if (t == NULL)
		return NULL;
	t->input = strdup(cfg->target != NULL ? cfg->target : cfg->server);
	if (cfg->domain != NULL) {
		t->domain = strdup(cfg->domain);
		t->domain_unicode = strdup(cfg->domain_unicode != NULL ? cfg->domain_unicode
									: cfg->domain);
	}
	t->sender = strdup(cfg->from != NULL ? cfg->from : "");
	n = cfg->nto > 0 ? cfg->nto : 1;
	t->rcpts = calloc(n, sizeof(*t->rcpts));
	if (t->rcpts == NULL)
		return t;
	if (cfg->nto > 0) {
		for (i = 0; i < cfg->nto; i++)
			t->rcpts[i] = strdup(cfg->to[i]);
	} else {
		/* RFC 5321 §4.5.1: every domain must accept postmaster. */
		const char *d = cfg->domain != NULL ? cfg->domain : "localhost";
		size_t len = strlen(d) + sizeof("postmaster@");

		t->rcpts[0] = malloc(len);
		if (t->rcpts[0] != NULL)
			snprintf(t->rcpts[0], len, "postmaster@%s", d);
	}
	t->nrcpts = n;
	return t;
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

/* The pipeline for one target: DNS stage (exchangers, then who we are),
 * probe stage, then the report stage's classification. */
static int
run_target(struct run *r, struct mxt_target *t, uint64_t *rng)
{
	if (mxt_dns_run(r->res, t, r->cfg, rng, on_stage_done, r) < 0)
		return -1;
	mxt_loop_run(r->loop);
	mxt_identity_local(t, r->cfg);
	if (mxt_identity_run(r->res, t, r->cfg, on_stage_done, r) < 0)
		return -1;
	mxt_loop_run(r->loop);
	mxt_identity_choose_ehlo(t, r->cfg);
	if (mxt_probe_run(r->loop, r->ctx, t, r->cfg, r->hard_deadline, on_stage_done, r) < 0)
		return -1;
	mxt_loop_run(r->loop);
	/* A server told us our public address: look that one up too. */
	if (mxt_identity_egress_seen(t)) {
		if (mxt_identity_run(r->res, t, r->cfg, on_stage_done, r) < 0)
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

	/* A reset peer must not kill us through OpenSSL's write() (A29). */
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
	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	r.loop = mxt_loop_new();
	r.res = r.loop != NULL ? mxt_resolver_new(r.loop, &cfg, err, sizeof(err)) : NULL;
	if (r.res == NULL) {
		fprintf(stderr, "mxtrace: %s\n", err[0] ? err : "cannot create the event loop");
		code = cfg.resolver != NULL ? MXT_EXIT_USAGE : MXT_EXIT_SOFTWARE;
		goto done;
	}
	r.ctx = mxt_tls_ctx_new(cfg.ca_file, err, sizeof(err));
	if (r.ctx == NULL) {
		fprintf(stderr, "mxtrace: %s\n", err);
		code = cfg.ca_file != NULL ? MXT_EXIT_USAGE : MXT_EXIT_SOFTWARE;
		goto done;
	}
	r.hard_deadline = mxt_now_ms() + cfg.timeout_total_ms;
	rng = seed_of(&cfg);
	t = make_target(&cfg);
	if (t == NULL || t->rcpts == NULL) {
		fprintf(stderr, "mxtrace: out of memory\n");
		goto done;
	}
	t->started_unix_ms = wall_ms();
	{
		int64_t start = mxt_now_ms();

		if (run_target(&r, t, &rng) < 0) {
			fprintf(stderr, "mxtrace: out of memory\n");
			goto done;
		}
		t->duration_ms = mxt_now_ms() - start;
	}
	switch (cfg.format) {
	case MXT_FORMAT_JSON:
		rc = mxt_render_json(stdout, &t, 1, &cfg);
		break;
	case MXT_FORMAT_NAGIOS:
		rc = mxt_render_nagios(stdout, &t, 1, &cfg);
		break;
	default:
		rc = mxt_render_text(stdout, &t, 1, &cfg, want_color(&cfg));
		break;
	}
	if (rc < 0) {
		fprintf(stderr, "mxtrace: write error on standard output\n");
		code = MXT_EXIT_IOERR;
		goto done;
	}
	code = mxt_exit_code(&t, 1);
done:
	mxt_target_free(t);
	if (r.ctx != NULL)
		SSL_CTX_free(r.ctx);
	mxt_resolver_free(r.res);
	mxt_loop_free(r.loop);
	mxt_config_free(&cfg);
	return code;
}
