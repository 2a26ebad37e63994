/* SPDX-License-Identifier: MIT */
/*
 * The exporter's configuration file: "[module NAME]" sections of
 * "option = value" lines, each the long option --option=value of
 * mxtrace(1) (EXPORTER MODE), or "option" alone for a flag.  This
 * file only splits lines and names; the option table's parser (a callback
 * from the CLI) checks every value.  A password never belongs here: a
 * "password" line is refused with a pointer to password-file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "mxtrace/exporter.h"
#include "mxtrace/xalloc.h"

/* At most this many modules and option lines per module. */
#define MODULES_MAX 64
#define MODULE_LINES_MAX 64
/* Longest module name. */
#define MODULE_NAME_MAX 64

/* One module while it is read: its name, the line it starts on, its options. */
struct pending {
	char *name;
	size_t line;
	char *argv[MODULE_LINES_MAX + 2];
	int argc;
};

static void
pending_clear(struct pending *p)
{
	int i;

	for (i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

/* A module name: letters, digits, "-" and "_", 1 to MODULE_NAME_MAX bytes. */
static int
valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MODULE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* Trim spaces and tabs at both ends, in place. */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (
	    n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Parse the pending module into the list.  Returns 0 or -1 (err set). */
static int
finish(const char *path, struct pending *p, mxt_module_parse_cb *parse,
    struct mxt_exporter_module **mods, size_t *n, char *err, size_t errlen)
{
	struct mxt_exporter_module *m;
	char e[512];
	size_t i;

	if (p->name == NULL)
		return 0;
	for (i = 0; i < *n; i++)
		if (strcmp((*mods)[i].name, p->name) == 0) {
			snprintf(err, errlen, "%s:%zu: module '%s' is defined twice", path, p->line,
			    p->name);
			return -1;
		}
	*mods = mxt_xreallocarray(*mods, *n + 1, sizeof(**mods));
	m = &(*mods)[*n];
	m->name = p->name;
	p->name = NULL;
	mxt_config_init(&m->cfg);
	(*n)++;
	p->argv[0] = mxt_xstrdup("mxtrace"); /* argc counts it from the start */
	e[0] = '\0';
	if (parse(p->argc, p->argv, &m->cfg, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "%s:%zu: [module %s]: %s", path, p->line, m->name,
		    strncmp(e, "mxtrace: ", 9) == 0 ? e + 9 : e);
		return -1;
	}
	return 0;
}

int
mxt_exporter_modules_read(const char *path, mxt_module_parse_cb *parse,
    struct mxt_exporter_module **mods, size_t *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct pending p;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int rc = -1;

	*mods = NULL;
	*n = 0;
	memset(&p, 0, sizeof(p));
	if (f == NULL) {
		snprintf(err, errlen, "cannot open --config %s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s = trim(line), *eq, *key, *val, *shown;

		lineno++;
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			size_t len = strlen(s);

			if (finish(path, &p, parse, mods, n, err, errlen) != 0)
				goto done;
			pending_clear(&p);
			if (strncmp(s, "[module ", 8) != 0 || s[len - 1] != ']' ||
			    !valid_name(s + 8, len - 9)) {
				shown = mxt_escape_str(s, 60);
				snprintf(err, errlen,
				    "%s:%zu: '%s': write [module NAME] (NAME: letters, digits, - "
				    "and _)",
				    path, lineno, shown != NULL ? shown : "?");
				free(shown);
				goto done;
			}
			if (*n >= MODULES_MAX) {
				snprintf(err, errlen, "%s:%zu: more than %d modules", path, lineno,
				    MODULES_MAX);
				goto done;
			}
			p.name = mxt_xstrndup(s + 8, len - 9);
			p.line = lineno;
			p.argc = 1; /* argv[0] is set by finish() */
			continue;
		}
		if (p.name == NULL) {
			snprintf(err, errlen, "%s:%zu: an option before the first [module NAME]",
			    path, lineno);
			goto done;
		}
		eq = strchr(s, '=');
		if (eq != NULL)
			*eq = '\0';
		key = trim(s);
		val = eq != NULL ? trim(eq + 1) : NULL;
		if (strcmp(key, "password") == 0 || strcmp(key, "pass") == 0) {
			snprintf(err, errlen,
			    "%s:%zu: no password in the configuration file; use password-file",
			    path, lineno);
			goto done;
		}
		if (p.argc >= MODULE_LINES_MAX + 1) {
			snprintf(err, errlen, "%s:%zu: more than %d lines in one module", path,
			    lineno, MODULE_LINES_MAX);
			goto done;
		}
		if (*key == '\0' || *key == '-') {
			snprintf(err, errlen, "%s:%zu: write 'option = value' (no leading '-')",
			    path, lineno);
			goto done;
		}
		{
			size_t len = strlen(key) + (val != NULL ? strlen(val) + 1 : 0) + 3;
			char *a = mxt_xmalloc(len);

			snprintf(a, len, "--%s%s%s", key, val != NULL ? "=" : "",
			    val != NULL ? val : "");
			p.argv[p.argc++] = a;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read --config %s: %s", path, strerror(errno));
		goto done;
	}
	if (finish(path, &p, parse, mods, n, err, errlen) != 0)
		goto done;
	if (*n == 0) {
		snprintf(err, errlen, "--config %s defines no [module NAME]", path);
		goto done;
	}
	rc = 0;
done:
	pending_clear(&p);
	free(line);
	fclose(f);
	if (rc != 0) {
		mxt_exporter_modules_free(*mods, *n);
		*mods = NULL;
		*n = 0;
	}
	return rc;
}

void
mxt_exporter_modules_free(struct mxt_exporter_module *mods, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(mods[i].name);
		mxt_config_free(&mods[i].cfg);
	}
	free(mods);
}
