/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The record reader (lib/reader.c, through lib/perfsight/record.h) on
 * arbitrary bytes as a recording.  What it reads goes into window builders,
 * as ps_window_from_file() does, for the last two samples and for a 10 s
 * window, each in the input's order and in reverse: records are accepted in
 * any order (DESIGN.md §3), so both orders must give the same window, or
 * both fail.  The contention diagnosis then runs on each window, and the
 * root-cause diagnosis on a fixed topology whose middleboxes have
 * addresses, so that arbitrary per-peer counters meet them. */

#include <config.h>
#include <inttypes.h>
#include <stdio.h>
#include "fuzz.h"
#include "fuzz-window.h"
#include "perfsight/contention.h"
#include "perfsight/record.h"
#include "perfsight/rootcause.h"
#include "perfsight/rulebook.h"
#include "perfsight/window.h"

static struct ps_rulebook *rulebook;
static struct ps_topology *topology;

/* Elements the seed corpus and the dictionary name. */
static const char topology_text[] =
    "{\"tenants\": [{\"id\": \"t1\", \"middleboxes\": ["
    "{\"id\": \"lb\", \"host\": \"hv1\", \"element\": \"middlebox:vm1:pen\", "
    "\"capacity_bps\": 1e8, \"addresses\": [\"10.78.1.2:8080\"]}, "
    "{\"id\": \"filter\", \"host\": \"hv1\", \"element\": "
    "\"middlebox:vm1:nginx\", \"capacity_bps\": 1e8}], "
    "\"endpoints\": [{\"id\": \"server\", \"addresses\": [\"10.78.3.2:80\", "
    "\"[fd00::3]:80\"]}, {\"id\": \"logstore\", \"addresses\": [\"10.78.4.2\"]}], "
    "\"links\": [[\"client\", \"lb\"], [\"lb\", \"filter\"], "
    "[\"filter\", \"server\"], [\"filter\", \"logstore\"]]}]}";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *error = NULL;
    rulebook = ps_rulebook_load_default(&error);
    if (!rulebook) {
        fprintf(stderr, "%s\n", error);
        abort();
    }
    json_error_t jerr;
    json_t *json = json_loads(topology_text, 0, &jerr);
    topology = json ? ps_topology_from_json(json, "fuzz", &error) : NULL;
    json_decref(json);
    if (!topology) {
        abort();
    }
    return 0;
}

static void
unknown_attr(const char *name, void *aux)
{
    (*(size_t *) aux)++;
}

/* Builds a window of the 'n' records 'rs', in reverse if 'reverse'.
 * Returns NULL with '*errorp' set if the builder refused them. */
static struct ps_window *
build(const struct ps_record *rs, size_t n, bool reverse,
      const struct ps_window_options *opts, char **errorp)
{
    *errorp = NULL;
    struct ps_window_builder *b = ps_window_builder_create(opts);
    for (size_t i = 0; i < n; i++) {
        struct ps_record r;
        ps_record_clone(&r, &rs[reverse ? n - 1 - i : i]);
        char *error = ps_window_builder_add(b, &r);
        ps_record_destroy(&r);
        if (error) {
            if (!error[0]) {
                abort();        /* A failure must say why. */
            }
            *errorp = error;
            ps_window_builder_destroy(b);
            return NULL;
        }
    }
    char *error = NULL;
    struct ps_window *w = ps_window_builder_finish(b, &error);
    if (!w && (!error || !error[0])) {
        abort();
    }
    *errorp = error;
    return w;
}

#define SAME(WHAT, COND)                                                \
    do {                                                                \
        if (!(COND)) {                                                  \
            fprintf(stderr, "fuzz-reader: the window depends on the "   \
                    "order of the records: %s\n", WHAT);                \
            abort();                                                    \
        }                                                               \
    } while (0)

/* Aborts unless 'a' and 'b' have the same deltas. */
static void
compare_windows(const struct ps_window *a, const struct ps_window *b)
{
    SAME("number of elements", a->n_deltas == b->n_deltas);
    SAME("number of hosts", a->n_hosts == b->n_hosts);
    SAME("elements that appeared", a->n_appeared == b->n_appeared);
    SAME("elements that vanished", a->n_vanished == b->n_vanished);
    for (size_t i = 0; i < a->n_deltas; i++) {
        const struct ps_delta *x = &a->deltas[i];
        const struct ps_delta *y = ps_window_find(b, x->host, x->element);
        SAME("elements", y);
        SAME("element type", x->type == y->type);
        SAME("samples", x->t0_ns == y->t0_ns && x->t1_ns == y->t1_ns);
        SAME("counters present", x->has == y->has && x->reset == y->reset);
        SAME("gauges present", x->has_gauges == y->has_gauges);
        for (int c = 0; c < PS_N_COUNTERS; c++) {
            SAME("counter deltas", !ps_delta_has(x, c) || x->d[c] == y->d[c]);
        }
        for (int g = 0; g < PS_N_GAUGES; g++) {
            SAME("gauges", !ps_delta_has_gauge(x, g)
                 || !memcmp(&x->gauges[g], &y->gauges[g], sizeof x->gauges[g]));
        }
        SAME("reasons", x->n_reasons == y->n_reasons);
        for (size_t j = 0; j < x->n_reasons; j++) {
            SAME("reasons", !strcmp(x->reasons[j].name, y->reasons[j].name)
                 && x->reasons[j].delta == y->reasons[j].delta);
        }
        SAME("peers", x->n_peers == y->n_peers);
        for (size_t j = 0; j < x->n_peers; j++) {
            SAME("peers", !strcmp(x->peers[j].peer, y->peers[j].peer)
                 && x->peers[j].counter == y->peers[j].counter
                 && x->peers[j].delta == y->peers[j].delta);
        }
        SAME("vm", !x->vm == !y->vm && (!x->vm || !strcmp(x->vm, y->vm)));
        SAME("tenant", !x->tenant == !y->tenant
             && (!x->tenant || !strcmp(x->tenant, y->tenant)));
    }
}

static void
diagnose(const struct ps_window *w)
{
    struct ps_contention_report report;

    fuzz_check_window(w);
    ps_contention_diagnose(rulebook, w, &report);
    json_decref(ps_contention_report_to_json(&report));
    ps_contention_report_destroy(&report);

    struct ps_rootcause rc;
    char *error = ps_rootcause_diagnose(&topology->tenants[0], w, &rc);
    if (error) {
        free(error);
    } else {
        json_decref(ps_rootcause_to_json(&rc));
        ps_rootcause_destroy(&rc);
    }
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

    struct ps_record *rs = NULL;
    size_t n = 0;
    char *error = NULL;
    int retval;
    for (;;) {
        rs = realloc(rs, (n + 1) * sizeof *rs);
        if (!rs) {
            abort();
        }
        retval = ps_reader_next(rd, &rs[n], &error);
        if (retval <= 0) {
            break;
        }
        if (!rs[n].host || !rs[n].element || rs[n].ts_ns <= 0) {
            abort();
        }
        /* A record goes back to JSON as it came (perfsight record). */
        json_decref(ps_record_to_json(&rs[n]));
        n++;
    }
    if (retval < 0 && (!error || !error[0])) {
        abort();                /* A failure must say why. */
    }
    free(error);
    ps_reader_close(rd);
    fclose(stream);

    if (!retval) {
        static const struct ps_window_options options[] = {
            { .seconds = 0 },
            { .seconds = 10 },
        };
        for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
            char *w_error, *r_error;
            struct ps_window *w = build(rs, n, false, &options[i], &w_error);
            struct ps_window *r = build(rs, n, true, &options[i], &r_error);
            /* Known limit: the builder keeps only the samples it may still
             * need, so the twin of a sample it already dropped is not
             * compared with it; a conflict between two samples at one
             * time may then be refused in one order only. */
            const char *error = w_error ? w_error : r_error;
            SAME("accepted or refused", !w == !r
                 || strstr(error, "two samples at ts_ns"));
            free(w_error);
            free(r_error);
            if (!w != !r) {
                ps_window_destroy(w ? w : r);
                continue;
            }
            if (w) {
                compare_windows(w, r);
                diagnose(w);
                ps_window_destroy(w);
                ps_window_destroy(r);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        ps_record_destroy(&rs[i]);
    }
    free(rs);
    return 0;
}
