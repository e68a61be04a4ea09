/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_BENCH_UTIL_H
#define PERFSIGHT_BENCH_UTIL_H 1

/* Timing helpers shared by the benchmarks. */

#include <stdlib.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int
bench_compare_doubles(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return a < b ? -1 : a > b;
}

/* Sorts 'x' and returns its median. */
static inline double
bench_median(double *x, int n)
{
    qsort(x, n, sizeof *x, bench_compare_doubles);
    return x[n / 2];
}

#endif /* bench-util.h */
