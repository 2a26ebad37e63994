/* SPDX-License-Identifier: MIT */
/*
 * Out-of-memory policy: mxtrace does not try to run on after an allocation
 * fails.  Every allocation in src/ goes through this family, which prints
 * "mxtrace: out of memory" with the size on stderr and aborts, so no NULL
 * from an allocator ever reaches a protocol command, a renderer or a
 * record.  Sizes a peer controls are capped before they get here (see
 * mxtrace/limits.h), so an abort means the machine, not the peer, ran out.
 * Library calls that allocate internally (OpenSSL, c-ares, cJSON) are
 * still checked where they are made.
 */
#ifndef MXTRACE_XALLOC_H
#define MXTRACE_XALLOC_H

#include <stddef.h>

/* malloc(n), never NULL.  Caller frees. */
void *mxt_xmalloc(size_t n);
/* calloc(n, size), never NULL; overflow of n * size aborts too. */
void *mxt_xcalloc(size_t n, size_t size);
/* realloc(p, n), never NULL.  Caller frees the result. */
void *mxt_xrealloc(void *p, size_t n);
/* reallocarray(p, n, size), never NULL; overflow aborts. */
void *mxt_xreallocarray(void *p, size_t n, size_t size);
/* strdup(s), never NULL; s must not be NULL.  Caller frees. */
char *mxt_xstrdup(const char *s);
/* strndup(s, n), never NULL.  Caller frees. */
char *mxt_xstrndup(const char *s, size_t n);
/* Copy of s, or NULL when s is NULL.  Caller frees. */
char *mxt_xstrdup_or_null(const char *s);
/* Print "mxtrace: out of memory (N bytes)" on stderr and abort. */
_Noreturn void mxt_oom(size_t n);

#endif
