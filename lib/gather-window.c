/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* One way to turn rounds gathered from agents into a window, for every
 * command that reads the agents live (show, diagnose, watch). */

#include <config.h>
#include "perfsight/gather.h"

#include <stdlib.h>
#include <string.h>
#include "perfsight/window.h"
#include "util.h"

static void
collect(struct ps_record *r, void *round_)
{
    struct ps_gather_records *round = round_;
    round->records = ps_grow(round->records, &round->allocated,
                             round->n + 1, sizeof *round->records);
    round->records[round->n++] = *r;
    ps_record_init(r);
}

void
ps_gather_records_run(const struct ps_gather_target *targets, size_t n,
                      const struct ps_gather_options *opts,
                      struct ps_gather_records *round)
{
    memset(round, 0, sizeof *round);
    round->status = ps_xcalloc(n + 1, sizeof *round->status);
    round->n_status = n;
    round->answered = ps_gather_round(targets, n, opts, collect, round,
                                      round->status);
}

void
ps_gather_records_clear(struct ps_gather_records *round)
{
    for (size_t i = 0; i < round->n; i++) {
        ps_record_destroy(&round->records[i]);
    }
    free(round->records);
    if (round->status) {
        ps_gather_status_clear(round->status, round->n_status);
    }
    free(round->status);
    memset(round, 0, sizeof *round);
}

static void
leave_out(struct ps_window_gaps *gaps, const char *host, bool answered,
          char *error)
{
    gaps->hosts = ps_grow(gaps->hosts, &gaps->allocated, gaps->n + 1,
                          sizeof *gaps->hosts);
    gaps->hosts[gaps->n].host = ps_xstrdup(host);
    gaps->hosts[gaps->n].error = error;
    gaps->hosts[gaps->n].answered = answered;
    gaps->n++;
}

struct ps_window *
ps_gather_window(const struct ps_gather_target *targets, size_t n,
                 const struct ps_gather_records *r0,
                 const struct ps_gather_records *r1, char **errp)
{
    struct ps_window_gaps gaps = { NULL, 0, 0 };
    struct ps_index *index = ps_index_create();
    const char **hosts = ps_xcalloc(n + 1, sizeof *hosts);
    bool *ok = ps_xcalloc(n + 1, sizeof *ok);

    for (size_t i = 0; i < n; i++) {
        size_t dup;
        hosts[i] = targets[i].host;
        if (!ps_index_find(index, hosts[i], strlen(hosts[i]), &dup)) {
            ps_index_insert(index, hosts[i], strlen(hosts[i]), i);
        }
    }

    /* A host is in the window if it answered both rounds and its clock
     * moved forward between them: a clock that stepped back would make
     * the later round look older, and its deltas lies. */
    for (size_t i = 0; i < n; i++) {
        const char *error = (r0->status[i].error ? r0->status[i].error
                             : r1->status[i].error);
        if (error) {
            leave_out(&gaps, hosts[i], false, ps_xstrdup(error));
        } else if (r0->status[i].latest_ns && r1->status[i].latest_ns
                   && r1->status[i].latest_ns <= r0->status[i].latest_ns) {
            leave_out(&gaps, hosts[i], true,
                      ps_xasprintf("its clock went back %.3f s between "
                                   "two rounds",
                                   (r0->status[i].latest_ns
                                    - r1->status[i].latest_ns) / 1e9));
        } else {
            ok[i] = true;
        }
    }

    struct ps_window_builder *b = ps_window_builder_create(NULL);
    char *error = NULL;
    for (int k = 0; k < 2 && !error; k++) {
        const struct ps_gather_records *round = k ? r1 : r0;
        for (size_t j = 0; j < round->n && !error; j++) {
            const struct ps_record *r = &round->records[j];
            size_t i;
            if (ps_index_find(index, r->host, strlen(r->host), &i) && ok[i]) {
                struct ps_record copy;
                ps_record_clone(&copy, r);
                error = ps_window_builder_add(b, &copy);
            }
        }
    }

    struct ps_window *w = NULL;
    if (error) {
        ps_window_builder_destroy(b);
    } else {
        w = ps_window_builder_finish(b, &error);
    }
    if (w) {
        w->gaps = gaps;
    } else {
        struct ps_window_gaps *g = &gaps;
        size_t answered = 0;
        for (size_t i = 0; i < g->n; i++) {
            answered += g->hosts[i].answered;
        }
        char *msg = ps_xasprintf("%s%s",
                                 g->n < n ? ""
                                 : answered ? "every host was left out; "
                                 : "no agent answered; ", error);
        for (size_t i = 0; i < g->n; i++) {
            char *longer = ps_xasprintf("%s; %s: %s", msg, g->hosts[i].host,
                                        g->hosts[i].error);
            free(msg);
            msg = longer;
        }
        free(error);
        *errp = msg;
        ps_window_gaps_clear(g);
    }
    free(ok);
    free(hosts);
    ps_index_destroy(index);
    return w;
}
