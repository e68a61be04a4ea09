/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight plot: throughput and drops over time from a recording, as in
 * the paper's Figures 8 and 10-13.  Writes PREFIX.dat (one gnuplot data
 * block per element) and PREFIX.gp, then runs gnuplot on it for PREFIX.png
 * and PREFIX.svg.  The rates are each element's own consecutive samples'
 * deltas, so a plot needs no window: every pair of samples is a point. */

#include <config.h>

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "cli.h"
#include "perfsight/record.h"

extern char **environ;

/* The elements drawn in each panel, at most. */
#define MAX_LINES 8

struct point {
    char *host;
    char *element;
    int64_t ts_ns;
    uint64_t bytes;             /* out_bytes, else in_bytes. */
    uint64_t drops;
    bool has_bytes;
    bool has_drops;
};

/* One element's series, in the order of its samples. */
struct series {
    const struct point *first;
    size_t n;
    double peak_mbps;           /* Highest throughput of a point. */
    double peak_drops;          /* Highest drops/s of a point. */
    uint64_t total_drops;
};

static int
compare_points(const void *a_, const void *b_)
{
    const struct point *a = a_, *b = b_;
    int c = strcmp(a->host, b->host);
    if (!c) {
        c = strcmp(a->element, b->element);
    }
    if (!c) {
        c = a->ts_ns < b->ts_ns ? -1 : a->ts_ns > b->ts_ns;
    }
    return c;
}

static struct point *
read_points(const char *path, size_t *n_points)
{
    char *error = NULL;
    struct ps_reader *reader = ps_reader_open(path, &error);
    if (!reader) {
        cli_fatal(EXIT_BAD_INPUT, "%s", error);
    }

    struct point *points = NULL;
    size_t n = 0, allocated = 0;
    struct ps_record r;
    int status;
    while ((status = ps_reader_next(reader, &r, &error)) > 0) {
        if (n >= allocated) {
            allocated = allocated ? 2 * allocated : 256;
            points = realloc(points, allocated * sizeof *points);
            if (!points) {
                cli_fatal(EXIT_BAD_INPUT, "out of memory");
            }
        }
        struct point *p = &points[n++];
        p->host = strdup(r.host);
        p->element = strdup(r.element);
        p->ts_ns = r.ts_ns;
        p->has_bytes = true;
        if (ps_record_has(&r, PS_OUT_BYTES)) {
            p->bytes = r.counters[PS_OUT_BYTES];
        } else if (ps_record_has(&r, PS_IN_BYTES)) {
            p->bytes = r.counters[PS_IN_BYTES];
        } else {
            p->has_bytes = false;
        }
        p->has_drops = ps_record_has(&r, PS_DROPS);
        p->drops = r.counters[PS_DROPS];
        ps_record_destroy(&r);
        if (!p->host || !p->element) {
            cli_fatal(EXIT_BAD_INPUT, "out of memory");
        }
    }
    ps_reader_close(reader);
    if (status < 0) {
        cli_fatal(EXIT_BAD_INPUT, "%s", error);
    }
    if (!n) {
        cli_fatal(EXIT_BAD_INPUT, "%s: no records to plot", path);
    }
    qsort(points, n, sizeof *points, compare_points);
    *n_points = n;
    return points;
}

/* The rate of 'b' over 'a' per second, or NAN across a reset. */
static double
rate(uint64_t a, uint64_t b, double dt)
{
    return b >= a && dt > 0 ? (b - a) / dt : NAN;
}

static struct series *
split_series(const struct point *points, size_t n, size_t *n_series)
{
    struct series *all = calloc(n, sizeof *all);
    size_t k = 0;
    if (!all) {
        cli_fatal(EXIT_BAD_INPUT, "out of memory");
    }
    for (size_t i = 0; i < n; ) {
        struct series *s = &all[k++];
        size_t j = i + 1;
        while (j < n && !strcmp(points[j].host, points[i].host)
               && !strcmp(points[j].element, points[i].element)) {
            j++;
        }
        s->first = &points[i];
        s->n = j - i;
        for (size_t m = i + 1; m < j; m++) {
            double dt = (points[m].ts_ns - points[m - 1].ts_ns) / 1e9;
            double mbps = rate(points[m - 1].bytes, points[m].bytes, dt)
                          * 8 / 1e6;
            double dps = rate(points[m - 1].drops, points[m].drops, dt);
            if (points[m].has_bytes && mbps > s->peak_mbps) {
                s->peak_mbps = mbps;
            }
            if (points[m].has_drops && dps > s->peak_drops) {
                s->peak_drops = dps;
            }
            if (points[m].drops > points[m - 1].drops) {
                s->total_drops += points[m].drops - points[m - 1].drops;
            }
        }
        i = j;
    }
    *n_series = k;
    return all;
}

static double (*sort_key)(const struct series *);

static int
compare_by_key(const void *a_, const void *b_)
{
    double a = sort_key(*(const struct series *const *) a_);
    double b = sort_key(*(const struct series *const *) b_);
    return a > b ? -1 : a < b;
}

/* True if 'element' matches one of the comma-separated shell patterns in
 * 'patterns' (all do if it is NULL). */
static bool
wanted(const char *patterns, const char *element)
{
    if (!patterns) {
        return true;
    }
    char *copy = strdup(patterns), *save = NULL;
    bool match = false;
    for (char *p = strtok_r(copy, ",", &save); p && !match;
         p = strtok_r(NULL, ",", &save)) {
        match = !fnmatch(p, element, 0);
    }
    free(copy);
    return match;
}

/* Picks the (at most MAX_LINES) series with the highest 'key' above 0
 * among those --elements and --host ask for. */
static size_t
pick(const struct cli_options *opts, struct series *all, size_t n,
     double (*key)(const struct series *), const struct series **picked)
{
    const struct series **candidates = calloc(n + 1, sizeof *candidates);
    size_t k = 0;
    if (!candidates) {
        cli_fatal(EXIT_BAD_INPUT, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (all[i].n >= 2 && key(&all[i]) > 0
            && wanted(opts->elements, all[i].first->element)
            && (!opts->host || !strcmp(opts->host, all[i].first->host))) {
            candidates[k++] = &all[i];
        }
    }
    sort_key = key;
    qsort(candidates, k, sizeof *candidates, compare_by_key);
    k = k < MAX_LINES ? k : MAX_LINES;
    memcpy(picked, candidates, k * sizeof *picked);
    free(candidates);
    return k;
}

static double
key_throughput(const struct series *s)
{
    return s->peak_mbps;
}

static double
key_drops(const struct series *s)
{
    return s->total_drops ? s->peak_drops : 0;
}

/* Writes the series as data blocks; column 2 is Mbit/s, 3 drops/s. */
static void
write_block(FILE *f, const struct series *s, int64_t t0)
{
    const struct point *p = s->first;
    fprintf(f, "# %s %s\n", p->host, p->element);
    for (size_t m = 1; m < s->n; m++) {
        double dt = (p[m].ts_ns - p[m - 1].ts_ns) / 1e9;
        double mbps = rate(p[m - 1].bytes, p[m].bytes, dt) * 8 / 1e6;
        double dps = rate(p[m - 1].drops, p[m].drops, dt);
        fprintf(f, "%.3f %.6g %.6g\n", (p[m].ts_ns - t0) / 1e9,
                p[m].has_bytes ? mbps : NAN, p[m].has_drops ? dps : NAN);
    }
    fputs("\n\n", f);
}

static void
write_title(FILE *f, const struct series *s)
{
    putc('"', f);
    for (const char *c = s->first->element; *c; c++) {
        /* gnuplot's enhanced text takes '_' as a subscript. */
        if (*c == '"' || *c == '\\' || *c == '_' || *c == '@') {
            putc('\\', f);
            putc('\\', f);
        }
        putc(*c, f);
    }
    fprintf(f, " (%s)\"", s->first->host);
}

static void
write_panel(FILE *f, const char *dat, const struct series *const *picked,
            size_t n, const struct series *all, int column,
            const char *ylabel)
{
    fprintf(f, "set ylabel \"%s\"\n", ylabel);
    if (!n) {
        fputs("set yrange [0:1]\nplot NaN notitle\n", f);
        return;
    }
    fputs("set autoscale y\nplot ", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s'%s' index %td using 1:%d with lines lw 1.5 title ",
                i ? ", \\\n     " : "", dat, picked[i] - all, column);
        write_title(f, picked[i]);
    }
    putc('\n', f);
}

static int
run_gnuplot(const char *script)
{
    char *argv[] = { "gnuplot", (char *) script, NULL };
    pid_t pid;
    int error = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
    if (error) {
        cli_error("cannot run gnuplot (%s): install it (Debian: "
                  "apt-get install gnuplot-nox), then run \"gnuplot %s\"",
                  strerror(error), script);
        return EXIT_BAD_INPUT;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            cli_error("waiting for gnuplot: %s", strerror(errno));
            return EXIT_BAD_INPUT;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        cli_error("gnuplot failed on %s", script);
        return EXIT_BAD_INPUT;
    }
    return 0;
}

int
cmd_plot(const struct cli_options *opts)
{
    if (!opts->input) {
        cli_fatal(EXIT_USAGE, "plot needs --input FILE (a recording)");
    }
    const char *prefix = opts->output ? opts->output : "perfsight-plot";

    size_t n_points, n_series;
    struct point *points = read_points(opts->input, &n_points);
    struct series *all = split_series(points, n_points, &n_series);
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (size_t i = 0; i < n_points; i++) {
        if (points[i].ts_ns < t0) {
            t0 = points[i].ts_ns;
        }
        if (points[i].ts_ns > t1) {
            t1 = points[i].ts_ns;
        }
    }

    char *dat, *gp;
    if (asprintf(&dat, "%s.dat", prefix) < 0
        || asprintf(&gp, "%s.gp", prefix) < 0) {
        cli_fatal(EXIT_BAD_INPUT, "out of memory");
    }
    FILE *f = fopen(dat, "w");
    if (!f) {
        cli_fatal(EXIT_BAD_INPUT, "%s: %s", dat, strerror(errno));
    }
    for (size_t i = 0; i < n_series; i++) {
        write_block(f, &all[i], t0);
    }
    if (fclose(f)) {
        cli_fatal(EXIT_BAD_INPUT, "%s: %s", dat, strerror(errno));
    }

    const struct series *by_throughput[MAX_LINES] = { NULL };
    const struct series *by_drops[MAX_LINES] = { NULL };
    size_t n_tput = pick(opts, all, n_series, key_throughput, by_throughput);
    size_t n_drops = pick(opts, all, n_series, key_drops, by_drops);

    f = fopen(gp, "w");
    if (!f) {
        cli_fatal(EXIT_BAD_INPUT, "%s: %s", gp, strerror(errno));
    }
    fprintf(f, "# Written by perfsight plot from %s.\n", opts->input);
    for (int svg = 0; svg < 2; svg++) {
        fprintf(f, "set terminal %s size 1000,700 font \"sans,10\"\n"
                "set output \"%s.%s\"\n",
                svg ? "svg" : "pngcairo", prefix, svg ? "svg" : "png");
        fputs("set multiplot layout 2,1\nset grid\n"
              "set key outside right top\nset xlabel \"time (s)\"\n", f);
        fprintf(f, "set xrange [0:%.3f]\n", (t1 - t0) / 1e9);
        for (size_t i = 0; i < opts->n_marks; i++) {
            const struct cli_mark *m = &opts->marks[i];
            double x = (m->ts_ns - t0) / 1e9;
            fprintf(f, "set arrow from %.3f, graph 0 to %.3f, graph 1 "
                    "nohead dt 2 lc rgb \"#b00000\"\n", x, x);
            fprintf(f, "set label \"%s\" at %.3f, graph 1.03 center "
                    "textcolor rgb \"#b00000\" noenhanced\n", m->label, x);
        }
        write_panel(f, dat, by_throughput, n_tput, all, 2,
                    "throughput (Mbit/s)");
        write_panel(f, dat, by_drops, n_drops, all, 3, "drops (packets/s)");
        fputs("unset multiplot\nunset arrow\nunset label\n", f);
    }
    if (fclose(f)) {
        cli_fatal(EXIT_BAD_INPUT, "%s: %s", gp, strerror(errno));
    }

    int status = run_gnuplot(gp);
    if (!status) {
        printf("%s.png, %s.svg: %zu elements, %zu with drops "
               "(data: %s, script: %s)\n",
               prefix, prefix, n_tput, n_drops, dat, gp);
    }
    for (size_t i = 0; i < n_points; i++) {
        free(points[i].host);
        free(points[i].element);
    }
    free(points);
    free(all);
    free(dat);
    free(gp);
    return status;
}
