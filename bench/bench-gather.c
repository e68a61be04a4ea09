/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Prints the time of one gather round (GET /v1/records from every agent of
 * a topology, in parallel) and the records gathered, median of RUNS.
 *
 * usage: bench-gather TOPOLOGY [RUNS] */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include "bench-util.h"
#include "perfsight/gather.h"
#include "perfsight/topology.h"

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
    printf("gather round over %zu agents (%zu answered, %zu records): "
           "median %.1f ms, min %.1f ms, max %.1f ms (%d rounds)\n", n,
           answered, records, median * 1e3, times[0] * 1e3,
           times[runs - 1] * 1e3, runs);
    free(times);
    free(status);
    free(targets);
    ps_topology_destroy(topo);
    return answered == n ? 0 : 1;
}
