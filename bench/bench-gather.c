/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Prints the time of one gather round (GET /v1/records from every agent of
 * a topology, in parallel) and the records gathered, median of RUNS; then
 * the time of a live window (two rounds to ps_gather_window(), without the
 * wait between them), and the gatherer's CPU time per round and peak
 * memory.
 *
 * usage: bench-gather TOPOLOGY [RUNS] */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include "bench-util.h"
#include "perfsight/gather.h"
#include "perfsight/topology.h"
#include "perfsight/window.h"

static void
count_record(struct ps_record *r, void *n_)
{
    size_t *n = n_;
    (*n)++;
    ps_record_destroy(r);
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-gather TOPOLOGY [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 20;
    char *error = NULL;
    struct ps_topology *topo = ps_topology_load(argv[1], &error);
    if (!topo || runs < 1 || runs > 1000) {
        fprintf(stderr, "bench-gather: %s\n", error ? error : "bad RUNS");
        return 1;
    }

    size_t n = topo->n_hosts;
    struct ps_gather_target *targets = calloc(n + 1, sizeof *targets);
    struct ps_gather_status *status = calloc(n + 1, sizeof *status);
    double *times = calloc(runs, sizeof *times);
    for (size_t i = 0; i < n; i++) {
        targets[i].host = topo->hosts[i].id;
        targets[i].url = topo->hosts[i].agent;
    }

    size_t records = 0, answered = 0;
    for (int r = 0; r < runs; r++) {
        records = 0;
        double t0 = bench_now();
        answered = ps_gather_round(targets, n, NULL, count_record, &records,
                                   status);
        times[r] = bench_now() - t0;
        ps_gather_status_clear(status, n);
    }
    double median = bench_median(times, runs);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
                  + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    printf("gather round over %zu agents (%zu answered, %zu records): "
           "median %.1f ms, min %.1f ms, max %.1f ms (%d rounds)\n", n,
           answered, records, median * 1e3, times[0] * 1e3,
           times[runs - 1] * 1e3, runs);
    printf("  gatherer: %.1f ms CPU per round, peak memory %.1f MB\n",
           cpu / runs * 1e3, ru.ru_maxrss / 1024.0);

    /* A live window: two rounds and ps_gather_window(). */
    for (int r = 0; r < runs; r++) {
        struct ps_gather_records rounds[2];
        double t0 = bench_now();
        ps_gather_records_run(targets, n, NULL, &rounds[0]);
        ps_gather_records_run(targets, n, NULL, &rounds[1]);
        double t1 = bench_now();
        struct ps_window *w = ps_gather_window(targets, n, &rounds[0],
                                               &rounds[1], &error);
        times[r] = bench_now() - t1;
        if (!w) {
            fprintf(stderr, "bench-gather: %s\n", error);
            return 1;
        }
        ps_window_destroy(w);
        ps_gather_records_clear(&rounds[0]);
        ps_gather_records_clear(&rounds[1]);
        (void) t0;
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("  two rounds to a window (ps_gather_window, not counting the "
           "rounds): median %.1f ms; peak memory %.1f MB\n",
           bench_median(times, runs) * 1e3, ru.ru_maxrss / 1024.0);
    free(times);
    free(status);
    free(targets);
    ps_topology_destroy(topo);
    return answered == n ? 0 : 1;
}
