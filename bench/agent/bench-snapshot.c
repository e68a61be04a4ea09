/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Prints the time one sample of the net devices takes (the netlink
 * source: one RTM_GETSTATS dump, records built), and of a whole host (every
 * source the agent would run, without HTTP), in the network namespace it
 * runs in.  Devices whose name matches PATTERN are classified as pNICs, so
 * that dummy devices count as the NICs of a host.  Each figure is the
 * median, and the 90th percentile, of RUNS samples after a warm-up.
 *
 * usage: bench-snapshot PATTERN RUNS */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "perfsight/source.h"

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
compare_doubles(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return a < b ? -1 : a > b;
}

/* Samples 'sources' 'runs' times; prints median and p90 in µs. */
static void
measure(const char *what, struct ps_source **sources, size_t n_sources,
        int runs, const struct ps_source_env *env)
{
    double *t = calloc(runs, sizeof *t);
    size_t n_elements = 0;
    struct ps_samples samples;

    /* The agent keeps its round of samples from request to request. */
    ps_samples_init(&samples, env->host, 1);
    for (int i = -10; i < runs; i++) {
        ps_samples_clear(&samples);
        double t0 = now_us();
        for (size_t j = 0; j < n_sources; j++) {
            int error = ps_source_sample(sources[j], &samples);
            if (error) {
                fprintf(stderr, "bench-snapshot: %s: %s\n",
                        ps_source_name(sources[j]), strerror(error));
                exit(EXIT_FAILURE);
            }
        }
        ps_names_apply(env->names, &samples);
        double t1 = now_us();
        if (i >= 0) {
            t[i] = t1 - t0;
        }
        n_elements = samples.n;
    }
    ps_samples_destroy(&samples);
    qsort(t, runs, sizeof *t, compare_doubles);
    printf("  %-28s %5zu elements  median %8.1f us  p90 %8.1f us\n", what,
           n_elements, t[runs / 2], t[runs * 9 / 10]);
    free(t);
}

int
main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench-snapshot PATTERN RUNS\n");
        return EXIT_FAILURE;
    }
    int runs = atoi(argv[2]);
    if (runs < 10) {
        runs = 10;
    }

    struct ps_source_env env = {
        .host = "bench",
        .procfs = "/proc",
        .sysfs = "/sys",
        .cgroupfs = "",
        .ovs_rundir = "/var/run/openvswitch",
        .timeout_ms = 1000,
        .names = ps_names_create(),
        .netclass = ps_netclass_create(),
    };
    ps_netclass_add(env.netclass, argv[1], PS_NETCLASS_PNIC);

    struct ps_source *all[16];
    size_t n_all = 0;
    for (size_t i = 0; ps_source_classes[i] && n_all < 16; i++) {
        if (!strcmp(ps_source_classes[i]->name, "libvirt")) {
            continue;           /* No libvirtd in a benchmark. */
        }
        if (ps_source_create(ps_source_classes[i], &env, &all[n_all])) {
            fprintf(stderr, "bench-snapshot: cannot create source %s\n",
                    ps_source_classes[i]->name);
            return EXIT_FAILURE;
        }
        n_all++;
    }
    struct ps_source *netlink = NULL;
    for (size_t i = 0; i < n_all; i++) {
        if (!strcmp(ps_source_name(all[i]), "netlink")) {
            netlink = all[i];
        }
    }

    measure("net devices (netlink)", &netlink, 1, runs, &env);
    measure("whole host (every source)", all, n_all, runs, &env);

    for (size_t i = 0; i < n_all; i++) {
        ps_source_destroy(all[i]);
    }
    ps_names_destroy(env.names);
    ps_netclass_destroy(env.netclass);
    return EXIT_SUCCESS;
}
