/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight watch: a refreshing view of rates and losses from the agents,
 * worst first, with each host's verdict on top. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "cli-live.h"
#include "perfsight/contention.h"

static int
compare_worst_first(const void *a_, const void *b_)
{
    const struct ps_delta *a = *(const struct ps_delta *const *) a_;
    const struct ps_delta *b = *(const struct ps_delta *const *) b_;
    double la = ps_delta_packet_loss(a) / a->dt;
    double lb = ps_delta_packet_loss(b) / b->dt;
    if (la != lb) {
        return la > lb ? -1 : 1;
    }
    double ta = ps_delta_throughput_bps(a), tb = ps_delta_throughput_bps(b);
    return ta > tb ? -1 : ta < tb;
}

static void
show(const struct ps_window *w, const struct ps_rulebook *rb, bool tty,
     long tick)
{
    struct winsize ws = { .ws_row = 40 };
    if (tty) {
        ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
        fputs("\033[H\033[2J", stdout);
    } else {
        printf("--- %ld\n", tick);
    }

    struct ps_contention_report report;
    ps_contention_diagnose(rb, w, &report);
    for (size_t i = 0; i < report.n_hosts; i++) {
        const struct ps_contention *c = &report.hosts[i];
        printf("%-12s %-10s", c->host, ps_verdict_name(c->verdict));
        if (c->has_location) {
            printf(" at %s:", ps_element_type_name(c->location));
            for (size_t j = 0; j < c->n_resources; j++) {
                printf("%s %s", j ? "," : "", c->resources[j]);
            }
        }
        putchar('\n');
    }
    ps_contention_report_destroy(&report);

    const struct ps_delta **sorted = malloc((w->n_deltas + 1)
                                            * sizeof *sorted);
    for (size_t i = 0; i < w->n_deltas; i++) {
        sorted[i] = &w->deltas[i];
    }
    qsort(sorted, w->n_deltas, sizeof *sorted, compare_worst_first);

    char b1[16], b2[16], b3[16];
    printf("\n%-10s %-34s %-8s %9s %9s %9s %7s\n", "HOST", "ELEMENT", "VM",
           "pps", "b/s", "LOSS/s", "LOSS%");
    size_t rows = ws.ws_row > 8 ? ws.ws_row - 6 - report.n_hosts : 10;
    for (size_t i = 0; i < w->n_deltas && (!tty || i < rows); i++) {
        const struct ps_delta *d = sorted[i];
        uint64_t loss = ps_delta_packet_loss(d);
        uint64_t offered = ps_delta_offered_packets(d);
        char pct[16] = "-";
        if (offered) {
            snprintf(pct, sizeof pct, "%.2f", 100.0 * loss / offered);
        }
        printf("%-10s %-34s %-8s %9s %9s %9s %7s\n", d->host, d->element,
               d->vm ? d->vm : "-",
               cli_human(offered / d->dt, b1, sizeof b1),
               cli_human(ps_delta_throughput_bps(d), b2, sizeof b2),
               cli_human(loss / d->dt, b3, sizeof b3), pct);
    }
    free(sorted);
    fflush(stdout);
}

int
cmd_watch(const struct cli_options *opts)
{
    char *error = NULL;
    struct ps_rulebook *rb = cli_load_rulebook(opts);
    if (!rb) {
        return EXIT_BAD_INPUT;
    }
    struct cli_agents agents;
    if (!cli_agents_open(opts, &agents)) {
        ps_rulebook_destroy(rb);
        return EXIT_BAD_INPUT;
    }
    cli_catch_stop();

    bool tty = isatty(STDOUT_FILENO);
    double interval = opts->interval > 0 ? opts->interval : 1;
    struct ps_gather_records prev;
    cli_round_run(&agents, &prev);
    for (long tick = 1; !cli_stopped() && (!opts->count || tick <= opts->count);
         tick++) {
        if (!cli_sleep(interval) && cli_stopped()) {
            break;
        }
        struct ps_gather_records cur;
        cli_round_run(&agents, &cur);

        struct ps_window *w = ps_gather_window(agents.targets, agents.n,
                                               &prev, &cur, &error);
        if (w) {
            show(w, rb, tty, tick);
            for (size_t i = 0; i < w->gaps.n; i++) {
                const struct ps_host_gap *gap = &w->gaps.hosts[i];
                printf("host %s %s: %s\n", gap->host,
                       gap->answered ? "left out" : "did not answer",
                       gap->error);
            }
            ps_window_destroy(w);
        } else {
            printf("(no window: %s)\n", error);
            free(error);
            error = NULL;
        }
        fflush(stdout);
        ps_gather_records_clear(&prev);
        prev = cur;
    }
    ps_gather_records_clear(&prev);
    cli_agents_close(&agents);
    ps_rulebook_destroy(rb);
    return 0;
}
