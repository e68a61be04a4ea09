/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The rule-book parser (lib/rulebook.c) on arbitrary text, as
 * ps_rulebook_load() hands it a file's contents. */

#include <config.h>
#include <stdio.h>
#include "fuzz.h"
#include "perfsight/rulebook.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* ps_rulebook_load() refuses a file with a NUL byte. */
    if (memchr(data, '\0', size)) {
        return 0;
    }
    char *text = fuzz_strndup(data, size);
    char *error = NULL;
    struct ps_rulebook *rb = ps_rulebook_parse(text, "fuzz", &error);
    if (rb) {
        /* What the diagnosis and "perfsight show --rules" read. */
        for (size_t i = 0; i < rb->n_rules; i++) {
            const struct ps_rule *rule = &rb->rules[i];
            if (!ps_scope_name(rule->scope)
                || !ps_condition_name(rule->condition)
                || !rule->n_resources) {
                abort();
            }
        }
        ps_rulebook_destroy(rb);
    } else if (!error || !error[0]) {
        abort();                /* A failure must say why. */
    }
    free(error);
    free(text);
    return 0;
}
