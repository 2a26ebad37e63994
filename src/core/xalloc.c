/* SPDX-License-Identifier: MIT */
/*
 * The out-of-memory policy (mxtrace/xalloc.h): allocate or abort with a
 * message.  Does not retry, does not free caches.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/xalloc.h"

/* Report the failed size and abort. */
_Noreturn void
mxt_oom(size_t n)
{
	fprintf(stderr, "mxtrace: out of memory (%zu bytes)\n", n);
	abort();
}

void *
mxt_xmalloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL)
		mxt_oom(n);
	return p;
}

void *
mxt_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n != 0 ? n : 1, size != 0 ? size : 1);

	if (p == NULL)
		mxt_oom(n * size);
	return p;
}

void *
mxt_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n != 0 ? n : 1);

	if (q == NULL)
		mxt_oom(n);
	return q;
}

void *
mxt_xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		mxt_oom(SIZE_MAX);
	return mxt_xrealloc(p, n * size);
}

char *
mxt_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		mxt_oom(strlen(s) + 1);
	return p;
}

char *
mxt_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		mxt_oom(n + 1);
	return p;
}

char *
mxt_xstrdup_or_null(const char *s)
{
	return s != NULL ? mxt_xstrdup(s) : NULL;
}
