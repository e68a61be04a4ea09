/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "cli-live.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *
read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("--token-file: %s: %s", path, strerror(errno));
        return NULL;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        cli_error("--token-file: %s is empty", path);
        return NULL;
    }
    return strdup(buf);
}

bool
cli_agents_open(const struct cli_options *opts, struct cli_agents *a)
{
    memset(a, 0, sizeof *a);
    if (!opts->topology) {
        cli_error("no --input FILE or --source given, and no --topology "
                  "FILE listing the agents to gather from");
        return false;
    }
    char *error = NULL;
    a->topology = ps_topology_load(opts->topology, &error);
    if (!a->topology) {
        cli_error("%s", error);
        free(error);
        return false;
    }
    a->targets = calloc(a->topology->n_hosts + 1, sizeof *a->targets);
    for (size_t i = 0; i < a->topology->n_hosts; i++) {
        const struct ps_topo_host *h = &a->topology->hosts[i];
        if (h->agent) {
            a->targets[a->n].host = h->id;
            a->targets[a->n].url = h->agent;
            a->n++;
        }
    }
    if (!a->n) {
        cli_error("%s: no host lists an \"agent\" URL", opts->topology);
        cli_agents_close(a);
        return false;
    }
    a->options.timeout_ms = opts->timeout_ms;
    a->options.cacert = opts->cacert;
    if (opts->token_file) {
        a->token = read_token(opts->token_file);
        if (!a->token) {
            cli_agents_close(a);
            return false;
        }
        a->options.token = a->token;
    }
    return true;
}

void
cli_agents_close(struct cli_agents *a)
{
    ps_topology_destroy(a->topology);
    free(a->targets);
    free(a->token);
    memset(a, 0, sizeof *a);
}

void
cli_round_run(const struct cli_agents *a, struct ps_gather_records *round)
{
    ps_gather_records_run(a->targets, a->n, &a->options, round);
}

bool
cli_sleep(double seconds)
{
    struct timespec ts = {
        .tv_sec = (time_t) seconds,
        .tv_nsec = (long) ((seconds - floor(seconds)) * 1e9),
    };
    return !nanosleep(&ts, NULL);
}

static volatile sig_atomic_t stop_requested;

static void
request_stop(int signo)
{
    stop_requested = signo;
}

void
cli_catch_stop(void)
{
    struct sigaction sa = { .sa_handler = request_stop };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool
cli_stopped(void)
{
    return stop_requested != 0;
}
