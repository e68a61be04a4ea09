/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_TEST_UTIL_H
#define PS_TEST_UTIL_H 1

/* Helpers for the cmocka unit tests: records written as text, read back
 * through the real reader, as a recording would be. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "perfsight/gather.h"
#include "perfsight/window.h"

/* A growing text of JSON Lines. */
struct text {
    char *s;
    size_t len;
};

void text_add(struct text *, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void text_free(struct text *);

/* Appends one record at second 't' (plus 'jitter_ns'). */
void add_record(struct text *, double t, const char *host,
                const char *element, const char *type, const char *vm,
                const char *attrs_format, ...)
    __attribute__((format(printf, 7, 8)));

/* Builds a window from 'text'; NULL with '*errp' on error. */
struct ps_window *window_from_text(const char *text,
                                   const struct ps_window_options *,
                                   char **errp);

/* Asserts that 'haystack' contains 'needle', printing both if not. */
#define assert_contains(HAYSTACK, NEEDLE) \
    assert_contains_((HAYSTACK), (NEEDLE), __FILE__, __LINE__)
void assert_contains_(const char *haystack, const char *needle,
                      const char *file, int line);

#define T0 1764151200.0

#endif
