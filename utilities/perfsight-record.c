/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight record: rounds of records from the agents to JSON Lines, with
 * rotation.  Stopping it (SIGINT, SIGTERM) loses nothing: a round in
 * progress is finished and written, and every round is flushed to disk
 * before the next. */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli-live.h"

/* Shifts FILE.(keep-1) → FILE.keep, ..., FILE → FILE.1. */
static int
rotate(const char *path, int keep)
{
    for (int i = keep; i > 0; i--) {
        char *from = i > 1 ? NULL : strdup(path);
        char *to = NULL;
        if (i > 1 && asprintf(&from, "%s.%d", path, i - 1) < 0) {
            return ENOMEM;
        }
        if (asprintf(&to, "%s.%d", path, i) < 0) {
            free(from);
            return ENOMEM;
        }
        int error = rename(from, to) && errno != ENOENT ? errno : 0;
        free(from);
        free(to);
        if (error) {
            return error;
        }
    }
    return 0;
}

static int
write_round(FILE *f, const struct ps_gather_records *round)
{
    for (size_t i = 0; i < round->n; i++) {
        json_t *json = ps_record_to_json(&round->records[i]);
        int error = json_dumpf(json, f, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(json);
        if (error || putc('\n', f) == EOF) {
            return errno ? errno : EIO;
        }
    }
    if (fflush(f)) {
        return errno;
    }
    /* Only a file can be synced: a pipe, a socket or a terminal says EINVAL
     * (or EROFS), and what was written to it is already the reader's. */
    struct stat st;
    if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && fsync(fileno(f))) {
        return errno;
    }
    return 0;
}

/* Says so when a host's clock went back since the previous round: a
 * window across that point is made of the samples by their own times
 * (docs/formats.md), which the operator should know. */
static void
note_clock_steps(const struct cli_agents *a,
                 const struct ps_gather_records *round, int64_t *latest)
{
    for (size_t i = 0; i < a->n; i++) {
        int64_t t = round->status[i].latest_ns;
        if (!t) {
            continue;
        }
        if (latest[i] && t <= latest[i]) {
            cli_error("record: %s: its clock went back %.3f s since the "
                      "previous round; windows across this point use the "
                      "samples' own times", a->targets[i].host,
                      (latest[i] - t) / 1e9);
        }
        latest[i] = t;
    }
}

int
cmd_record(const struct cli_options *opts)
{
    if (!opts->output) {
        cli_error("record needs --output FILE (- for standard output)");
        return EXIT_USAGE;
    }
    struct cli_agents agents;
    if (!cli_agents_open(opts, &agents)) {
        return EXIT_BAD_INPUT;
    }
    bool to_stdout = !strcmp(opts->output, "-");
    FILE *f = to_stdout ? stdout : fopen(opts->output, "a");
    if (!f) {
        cli_error("%s: %s", opts->output, strerror(errno));
        cli_agents_close(&agents);
        return EXIT_BAD_INPUT;
    }

    cli_catch_stop();

    double interval = opts->interval > 0 ? opts->interval : 1;
    int status = 0;
    long rounds = 0, records = 0;
    int64_t *latest = calloc(agents.n + 1, sizeof *latest);
    while (!cli_stopped() && (!opts->count || rounds < opts->count)) {
        if (rounds && !cli_sleep(interval) && cli_stopped()) {
            break;
        }
        struct ps_gather_records round;
        cli_round_run(&agents, &round);
        for (size_t i = 0; i < agents.n; i++) {
            if (round.status[i].error) {
                cli_error("record: %s: %s", agents.targets[i].host,
                          round.status[i].error);
            }
        }
        note_clock_steps(&agents, &round, latest);

        struct stat st;
        if (!to_stdout && opts->rotate_bytes > 0 && !fstat(fileno(f), &st)
            && st.st_size >= opts->rotate_bytes) {
            int error = fclose(f) ? errno : 0;
            if (!error) {
                error = rotate(opts->output,
                               opts->rotate_keep > 0 ? opts->rotate_keep : 5);
            }
            f = error ? NULL : fopen(opts->output, "a");
            if (!f) {
                cli_error("%s: rotating: %s", opts->output,
                          strerror(error ? error : errno));
                ps_gather_records_clear(&round);
                status = EXIT_BAD_INPUT;
                break;
            }
        }
        int error = write_round(f, &round);
        size_t n = round.n;
        ps_gather_records_clear(&round);
        if (error) {
            cli_error("%s: %s", opts->output, strerror(error));
            status = EXIT_BAD_INPUT;
            break;
        }
        rounds++;
        records += n;
    }
    if (f && !to_stdout && fclose(f) && !status) {
        cli_error("%s: %s", opts->output, strerror(errno));
        status = EXIT_BAD_INPUT;
    }
    fprintf(stderr, "perfsight: recorded %ld rounds, %ld records%s\n",
            rounds, records, cli_stopped() ? " (stopped)" : "");
    free(latest);
    cli_agents_close(&agents);
    return status;
}
