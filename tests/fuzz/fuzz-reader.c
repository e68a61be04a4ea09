/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The record reader (lib/reader.c, through lib/perfsight/record.h) on
 * arbitrary bytes as a recording, with every record fed to two window
 * builders (last two samples, and a 10 s window) as ps_window_from_file()
 * does, and the contention diagnosis on the windows. */

#include <config.h>
#include <stdio.h>
#include "fuzz.h"
#include "fuzz-window.h"
#include "perfsight/contention.h"
#include "perfsight/record.h"
#include "perfsight/rulebook.h"
#include "perfsight/window.h"

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

static void
unknown_attr(const char *name, void *aux)
{
    (*(size_t *) aux)++;
}

static void
finish(struct ps_window_builder *b)
{
    char *error = NULL;
    struct ps_window *w = ps_window_builder_finish(b, &error);
    if (!w) {
        if (!error || !error[0]) {
            abort();            /* A failure must say why. */
        }
        free(error);
        return;
    }
    fuzz_check_window(w);

    struct ps_contention_report report;
    ps_contention_diagnose(rulebook, w, &report);
    json_decref(ps_contention_report_to_json(&report));
    ps_contention_report_destroy(&report);
    ps_window_destroy(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;               /* fmemopen() refuses an empty buffer. */
    }
    FILE *stream = fmemopen((void *) data, size, "r");
    if (!stream) {
        abort();
    }
    struct ps_reader *rd = ps_reader_from_stream(stream, "fuzz");
    size_t n_unknown = 0;
    ps_reader_set_unknown_attr_cb(rd, unknown_attr, &n_unknown);

    struct ps_window_options last_two = { .seconds = 0 };
    struct ps_window_options ten_s = { .seconds = 10 };
    struct ps_window_builder *b1 = ps_window_builder_create(&last_two);
    struct ps_window_builder *b2 = ps_window_builder_create(&ten_s);
    bool ok1 = true, ok2 = true;

    struct ps_record r;
    char *error = NULL;
    int retval;
    while ((retval = ps_reader_next(rd, &r, &error)) > 0) {
        if (!r.host || !r.element) {
            abort();
        }
        struct ps_record copy;
        ps_record_clone(&copy, &r);

        /* A record goes back to JSON as it came (perfsight record). */
        json_decref(ps_record_to_json(&r));

        char *e1 = ok1 ? ps_window_builder_add(b1, &r) : NULL;
        char *e2 = ok2 ? ps_window_builder_add(b2, &copy) : NULL;
        ok1 = ok1 && !e1;
        ok2 = ok2 && !e2;
        free(e1);
        free(e2);
        ps_record_destroy(&r);
        ps_record_destroy(&copy);
        if (!ok1 && !ok2) {
            break;
        }
    }
    if (retval < 0) {
        if (!error || !error[0]) {
            abort();            /* A failure must say why. */
        }
        free(error);
    }
    ps_reader_close(rd);
    fclose(stream);

    if (retval >= 0 && ok1) {
        finish(b1);
    } else {
        ps_window_builder_destroy(b1);
    }
    if (retval >= 0 && ok2) {
        finish(b2);
    } else {
        ps_window_builder_destroy(b2);
    }
    return 0;
}
