/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The Prometheus answer parser (lib/prometheus.c) on arbitrary bytes, as
 * ps_prometheus_window() hands it an HTTP body, and the window built from
 * what it adds. */

#include <config.h>
#include <stdio.h>
#include "fuzz.h"
#include "fuzz-window.h"
#include "perfsight/contention.h"
#include "perfsight/prometheus.h"
#include "perfsight/rulebook.h"

static struct ps_rulebook *rulebook;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *error = NULL;
    rulebook = ps_rulebook_load_default(&error);
    if (!rulebook) {
        fprintf(stderr, "%s\n", error);
        abort();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_window_options opts = { .seconds = 1 };
    struct ps_window_builder *b = ps_window_builder_create(&opts);
    char *error = ps_prometheus_parse_matrix((const char *) data, size, b);
    if (error) {
        free(error);
        ps_window_builder_destroy(b);
        return 0;
    }

    struct ps_window *w = ps_window_builder_finish(b, &error);
    if (w) {
        fuzz_check_window(w);

        struct ps_contention_report report;
        ps_contention_diagnose(rulebook, w, &report);
        json_decref(ps_contention_report_to_json(&report));
        ps_contention_report_destroy(&report);
        ps_window_destroy(w);
    }
    free(error);
    return 0;
}
