/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus exporter front end (src/exporter): mxtrace --listen serves
 * the multi-target pattern of blackbox_exporter over HTTP (libmicrohttpd)
 * on the engine's event loop.  GET /probe?target=DOMAIN&module=NAME runs
 * one target through the engine and answers with its metrics
 * (docs/metrics.md); /metrics is the exporter's own health; / a page with
 * links.  Modules are named option sets read from --config (docs/mxtrace.1,
 * EXPORTER MODE).  It does not judge anything: the report stage
 * does, the metrics renderer writes.
 */
#ifndef MXTRACE_EXPORTER_H
#define MXTRACE_EXPORTER_H

#include <stddef.h>

#include "mxtrace/config.h"
#include "mxtrace/engine.h"

/* One module: its name and the per-probe options of its [module NAME]. */
struct mxt_exporter_module {
	char *name;
	struct mxt_config cfg;
};

/* Parses one module's options into cfg (set up with mxt_config_init()):
 * argv[1..] are "--name=value" or "--flag" as the file gives them, argv[0]
 * a name for messages.  Returns 0, or -1 with a one-line reason in err.
 * The CLI passes its option table's parser (and reads password-file). */
typedef int mxt_module_parse_cb(
    int argc, char **argv, struct mxt_config *cfg, char *err, size_t errlen);

/* Read the modules of the --config file at path.  On success returns 0 and
 * sets *mods (the caller frees it with mxt_exporter_modules_free()) and *n;
 * on failure returns -1 with "PATH:LINE: reason" in err. */
int mxt_exporter_modules_read(const char *path, mxt_module_parse_cb *parse,
    struct mxt_exporter_module **mods, size_t *n, char *err, size_t errlen);
void mxt_exporter_modules_free(struct mxt_exporter_module *mods, size_t n);

/* Serve on cfg->listen:cfg->listen_port with the engine's loop until
 * SIGTERM or SIGINT, then finish cleanly (in-flight probes are cancelled and
 * answered).  A scrape without module= uses [module default], else cfg.
 * cfg and mods must outlive the call.  Returns 0 after a signal, or -1 with
 * a reason in err (the address cannot be bound, the loop failed). */
int mxt_exporter_run(struct mxt_engine *e, const struct mxt_config *cfg,
    const struct mxt_exporter_module *mods, size_t n, char *err, size_t errlen);

#endif
