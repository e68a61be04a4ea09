/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_FUZZ_H
#define PS_FUZZ_H 1

/* What every libFuzzer target of tests/fuzz/ defines, and helpers they
 * share.  A target must be deterministic and free everything an input
 * allocated: libFuzzer's leak check runs after each input. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Returns a malloc'd, NUL-terminated copy of the input. */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) {
        abort();
    }
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif /* fuzz.h */
