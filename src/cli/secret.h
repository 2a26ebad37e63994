/* SPDX-License-Identifier: MIT */
/*
 * Private to src/cli: reading the AUTH password (secret.c).
 */
#ifndef MXT_CLI_SECRET_H
#define MXT_CLI_SECRET_H

#include <stddef.h>

#include "mxtrace/config.h"

/* With --user, set cfg->password (owned by cfg, wiped by mxt_config_free())
 * from MXTRACE_PASSWORD, else --password-file, else a prompt on the terminal.
 * Returns 0 (also without --user), or -1 with a one-line reason in err. */
int mxt_cli_password(struct mxt_config *cfg, char *err, size_t errlen);

/* Set cfg->password from cfg->password_file only (an exporter module: no
 * environment, no prompt).  Returns 0, or -1 with a reason in err. */
int mxt_cli_password_file(struct mxt_config *cfg, char *err, size_t errlen);

#endif
