/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_CLI_H
#define PERFSIGHT_CLI_H 1

/* What the perfsight subcommands share: their options, loading the window,
 * and the error conventions (exit 1 on bad input, 2 on bad usage). */

#include <stdbool.h>
#include <jansson.h>
#include "perfsight/rulebook.h"
#include "perfsight/window.h"

enum cli_format {
    CLI_TEXT,
    CLI_JSON,
};

/* perfsight plot --mark NS[:LABEL]: a time to mark on the plot's axis. */
struct cli_mark {
    long long ts_ns;
    const char *label;
};

#define CLI_MAX_MARKS 16

struct cli_options {
    const char *input;          /* --input FILE, or NULL for live agents. */
    const char *topology;       /* --topology FILE. */
    const char *rulebook;       /* --rulebook FILE. */
    const char *tenant;         /* --tenant ID. */
    const char *host;           /* --host ID. */
    struct ps_window_options window;
    enum cli_format format;

    /* Live sources. */
    const char *prometheus;     /* --source prometheus=URL. */
    const char *token_file;     /* --token-file FILE. */
    const char *cacert;         /* --cacert FILE. */
    int timeout_ms;             /* --timeout SECONDS, in ms. */

    /* record and watch. */
    const char *output;         /* --output FILE. */
    double interval;            /* --interval SECONDS. */
    long count;                 /* --count N, 0 = until stopped. */
    long long rotate_bytes;     /* --rotate-bytes N, 0 = never. */
    int rotate_keep;            /* --rotate-keep N. */

    /* plot. */
    struct cli_mark marks[CLI_MAX_MARKS];       /* --mark NS[:LABEL]. */
    size_t n_marks;
    const char *elements;       /* --elements GLOB[,GLOB...]. */
};

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

void cli_fatal(int status, const char *format, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Prints "perfsight: MESSAGE" to stderr. */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Builds the window from the options' input.  On bad input prints why and
 * returns NULL (the caller frees what it holds and exits 1). */
struct ps_window *cli_load_window(const struct cli_options *);

/* The "window" object of JSON output. */
json_t *cli_window_json(const struct ps_window *);

/* Prints the window's extent and its appeared/vanished elements. */
void cli_print_window(const struct ps_window *);

/* Dumps 'json' (taking ownership) to stdout. */
void cli_print_json(json_t *);

/* Formats 'x' with a k/M/G suffix into 'buf'. */
const char *cli_human(double x, char *buf, size_t size);

/* Loads --rulebook FILE or the default one; on error prints why and
 * returns NULL. */
struct ps_rulebook *cli_load_rulebook(const struct cli_options *);

int cmd_show(const struct cli_options *);
int cmd_record(const struct cli_options *);
int cmd_attributes(const struct cli_options *);
int cmd_watch(const struct cli_options *);
int cmd_plot(const struct cli_options *);
int cmd_diagnose_contention(const struct cli_options *);
int cmd_diagnose_rootcause(const struct cli_options *);

#endif /* cli.h */
