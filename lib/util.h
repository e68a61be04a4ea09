/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_UTIL_H
#define PS_UTIL_H 1

/* Small helpers private to libperfsight. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define PS_ARRAY_SIZE(A) (sizeof (A) / sizeof (A)[0])
#define PS_MIN(A, B) ((A) < (B) ? (A) : (B))

#if __GNUC__
#define PS_LIKELY(X) __builtin_expect(!!(X), 1)
#else
#define PS_LIKELY(X) (X)
#endif

#if __GNUC__
#define PS_PRINTF_FORMAT(FMT, ARG1) __attribute__((format(printf, FMT, ARG1)))
#else
#define PS_PRINTF_FORMAT(FMT, ARG1)
#endif

/* Allocation that aborts on exhaustion, as OVS's xmalloc() does: there is
 * nothing sensible a diagnosis can do without memory. */
void *ps_xmalloc(size_t);
void *ps_xcalloc(size_t n, size_t size);
void *ps_xrealloc(void *, size_t);
char *ps_xstrdup(const char *);
char *ps_xasprintf(const char *format, ...) PS_PRINTF_FORMAT(1, 2);
char *ps_xvasprintf(const char *format, va_list) PS_PRINTF_FORMAT(1, 0);

/* Grows '*array' (of '*allocated' elements of 'size' bytes) so that it holds
 * at least 'n' elements. */
void *ps_grow(void *array, size_t *allocated, size_t n, size_t size);

/* A string-keyed hash map from key to size_t, used for element and host
 * lookup.  Keys are copied. */
struct ps_index;
struct ps_index *ps_index_create(void);
void ps_index_destroy(struct ps_index *);

/* Finds 'key' ('len' bytes).  Returns 1 and sets '*value' if found. */
int ps_index_find(const struct ps_index *, const char *key, size_t len,
                  size_t *value);
/* Inserts 'key' → 'value'; 'key' must not be present. */
void ps_index_insert(struct ps_index *, const char *key, size_t len,
                     size_t value);

#endif /* util.h */
