/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight: the operator's command.  Parses options and dispatches to one
 * file per subcommand; the logic lives in libperfsight. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static void
usage(void)
{
    printf("\
%s: where packets are lost in a virtualised host, and why\n\
usage: %s COMMAND [OPTIONS]\n\
\n\
Commands:\n\
  show                     elements with their rates and losses\n\
  diagnose contention      contention or bottleneck per host (Algorithm 1)\n\
  diagnose rootcause       root cause in middlebox chains (Algorithm 2)\n\
  watch                    a refreshing view from the agents, worst first\n\
  record                   records from the agents to JSON Lines\n\
  plot                     throughput and drops over time from a recording\n\
                           (--input FILE, -o PREFIX: PREFIX.png, .svg)\n\
  attributes               the attribute names records carry\n\
\n\
Where the records come from (show, diagnose):\n\
  -i, --input FILE         recorded records (JSON array or JSON Lines;\n\
                           - for standard input)\n\
  -s, --source prometheus=URL  the window from a Prometheus server\n\
  otherwise                the agents of --topology's hosts, gathered\n\
                           twice, --window seconds apart (default 1)\n\
\n\
Options:\n\
  -t, --topology FILE      hosts and their agents; tenants, middleboxes\n\
                           and links (rootcause)\n\
  -w, --window SECONDS     window length; default: each element's last two\n\
                           samples (live: 1 s)\n\
  -e, --end NS             ignore samples after this time (ns since the\n\
                           epoch)\n\
  -f, --format text|json   output format (default: text)\n\
  -r, --rulebook FILE      rule book for contention (default: %s)\n\
      --tenant ID          only this tenant (rootcause)\n\
      --host ID            only this host (show, contention)\n\
      --token-file FILE    bearer token for the agents\n\
      --cacert FILE        CA certificate for https agents\n\
      --timeout SECONDS    per request to an agent (default 5)\n\
  -o, --output FILE        record: where to write (- for stdout)\n\
      --interval SECONDS   record, watch: time between rounds (default 1)\n\
      --count N            record, watch: stop after N rounds\n\
      --rotate-bytes N     record: rotate FILE when it reaches N bytes\n\
      --rotate-keep N      record: rotated files to keep (default 5)\n\
      --mark NS[:LABEL]    plot: mark this time (ns since the epoch)\n\
      --elements GLOB,...  plot: only elements whose ids match (shell\n\
                           patterns; --host narrows to a host)\n\
  -h, --help               this help\n\
  -V, --version            version\n\
\n\
Exit status: 0 when it ran (whatever the verdict), 1 on bad input,\n\
2 on bad usage.  See perfsight(8).\n",
           PACKAGE_NAME, PACKAGE_NAME, PKGDATADIR "/rulebook");
}

static double
parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || !isfinite(d) || d <= 0 || d > 1e9) {
        cli_fatal(EXIT_USAGE, "--window: \"%s\" is not a positive number "
                  "of seconds", s);
    }
    return d;
}

static long long
parse_count(const char *option, const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v <= 0) {
        cli_fatal(EXIT_USAGE, "%s: \"%s\" is not a positive integer", option,
                  s);
    }
    return v;
}

static double
parse_positive(const char *option, const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || !isfinite(d) || d <= 0 || d > 86400) {
        cli_fatal(EXIT_USAGE, "%s: \"%s\" is not a positive number of "
                  "seconds", option, s);
    }
    return d;
}

static long long
parse_end(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v <= 0) {
        cli_fatal(EXIT_USAGE, "--end: \"%s\" is not a positive integer "
                  "(nanoseconds since the epoch)", s);
    }
    return v;
}

/* --mark NS[:LABEL]. */
static void
parse_mark(const char *s, struct cli_options *opts)
{
    if (opts->n_marks >= CLI_MAX_MARKS) {
        cli_fatal(EXIT_USAGE, "--mark: at most %d marks", CLI_MAX_MARKS);
    }
    struct cli_mark *m = &opts->marks[opts->n_marks];
    char *end;
    errno = 0;
    m->ts_ns = strtoll(s, &end, 10);
    if (errno || m->ts_ns <= 0 || (*end && *end != ':')) {
        cli_fatal(EXIT_USAGE, "--mark: \"%s\" is not NS[:LABEL] (NS: "
                  "nanoseconds since the epoch)", s);
    }
    m->label = *end ? end + 1 : "";
    if (strchr(m->label, '"') || strchr(m->label, '\\')) {
        cli_fatal(EXIT_USAGE, "--mark: a label cannot hold '\"' or '\\'");
    }
    opts->n_marks++;
}

struct command {
    const char *name;
    const char *sub;            /* Second word, or NULL. */
    int (*run)(const struct cli_options *);
};

static const struct command commands[] = {
    { "show", NULL, cmd_show },
    { "diagnose", "contention", cmd_diagnose_contention },
    { "diagnose", "rootcause", cmd_diagnose_rootcause },
    { "watch", NULL, cmd_watch },
    { "record", NULL, cmd_record },
    { "plot", NULL, cmd_plot },
    { "attributes", NULL, cmd_attributes },
};

int
main(int argc, char *argv[])
{
    enum {
        OPT_TENANT = 256, OPT_HOST, OPT_TOKEN_FILE, OPT_CACERT, OPT_TIMEOUT,
        OPT_INTERVAL, OPT_COUNT, OPT_ROTATE_BYTES, OPT_ROTATE_KEEP, OPT_MARK,
        OPT_ELEMENTS,
    };
    static const struct option long_options[] = {
        { "input", required_argument, NULL, 'i' },
        { "topology", required_argument, NULL, 't' },
        { "window", required_argument, NULL, 'w' },
        { "end", required_argument, NULL, 'e' },
        { "format", required_argument, NULL, 'f' },
        { "rulebook", required_argument, NULL, 'r' },
        { "tenant", required_argument, NULL, OPT_TENANT },
        { "host", required_argument, NULL, OPT_HOST },
        { "source", required_argument, NULL, 's' },
        { "token-file", required_argument, NULL, OPT_TOKEN_FILE },
        { "cacert", required_argument, NULL, OPT_CACERT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "output", required_argument, NULL, 'o' },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "count", required_argument, NULL, OPT_COUNT },
        { "rotate-bytes", required_argument, NULL, OPT_ROTATE_BYTES },
        { "rotate-keep", required_argument, NULL, OPT_ROTATE_KEEP },
        { "mark", required_argument, NULL, OPT_MARK },
        { "elements", required_argument, NULL, OPT_ELEMENTS },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct cli_options opts = { .format = CLI_TEXT };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "i:t:w:e:f:r:s:o:hV", long_options,
                            NULL)) != -1) {
        switch (c) {
        case 'i':
            opts.input = optarg;
            break;
        case 't':
            opts.topology = optarg;
            break;
        case 'w':
            opts.window.seconds = parse_seconds(optarg);
            break;
        case 'e':
            opts.window.end_ns = parse_end(optarg);
            break;
        case 'f':
            if (!strcmp(optarg, "text")) {
                opts.format = CLI_TEXT;
            } else if (!strcmp(optarg, "json")) {
                opts.format = CLI_JSON;
            } else {
                cli_fatal(EXIT_USAGE, "--format: \"%s\" is not text or "
                          "json", optarg);
            }
            break;
        case 'r':
            opts.rulebook = optarg;
            break;
        case OPT_TENANT:
            opts.tenant = optarg;
            break;
        case OPT_HOST:
            opts.host = optarg;
            break;
        case 's':
            if (strncmp(optarg, "prometheus=", 11) || !optarg[11]) {
                cli_fatal(EXIT_USAGE, "--source: \"%s\" is not "
                          "prometheus=URL", optarg);
            }
            opts.prometheus = optarg + 11;
            break;
        case OPT_TOKEN_FILE:
            opts.token_file = optarg;
            break;
        case OPT_CACERT:
            opts.cacert = optarg;
            break;
        case OPT_TIMEOUT:
            opts.timeout_ms = parse_positive("--timeout", optarg) * 1000;
            break;
        case 'o':
            opts.output = optarg;
            break;
        case OPT_INTERVAL:
            opts.interval = parse_positive("--interval", optarg);
            break;
        case OPT_COUNT:
            opts.count = parse_count("--count", optarg);
            break;
        case OPT_ROTATE_BYTES:
            opts.rotate_bytes = parse_count("--rotate-bytes", optarg);
            break;
        case OPT_ROTATE_KEEP:
            opts.rotate_keep = parse_count("--rotate-keep", optarg);
            break;
        case OPT_MARK:
            parse_mark(optarg, &opts);
            break;
        case OPT_ELEMENTS:
            opts.elements = optarg;
            break;
        case 'h':
            usage();
            return 0;
        case 'V':
            printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return 0;
        case '?':
        default:
            if (optopt && strchr("itwefrso", optopt)) {
                cli_fatal(EXIT_USAGE, "option -%c needs an argument",
                          optopt);
            } else if (optopt) {
                cli_fatal(EXIT_USAGE, "unknown option -%c (see --help)",
                          optopt);
            }
            cli_fatal(EXIT_USAGE, "unknown option or missing argument: "
                      "\"%s\" (see --help)", argv[optind - 1]);
        }
    }

    int n_words = argc - optind;
    char **words = &argv[optind];
    if (!n_words) {
        cli_fatal(EXIT_USAGE, "no command given (see --help)");
    }
    if (opts.input && opts.prometheus) {
        cli_fatal(EXIT_USAGE, "--input and --source exclude each other");
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct command *cmd = &commands[i];
        int needed = cmd->sub ? 2 : 1;
        if (strcmp(words[0], cmd->name)
            || (cmd->sub && (n_words < 2 || strcmp(words[1], cmd->sub)))) {
            continue;
        }
        if (n_words > needed) {
            cli_fatal(EXIT_USAGE, "unexpected argument \"%s\" (see --help)",
                      words[needed]);
        }
        bool live = cmd->run == cmd_watch || cmd->run == cmd_record;
        if (cmd->run != cmd_attributes && cmd->run != cmd_plot && !opts.topology && (live || (!opts.input && !opts.prometheus))) {
            cli_fatal(EXIT_USAGE, "%s", live
                      ? "needs --topology FILE naming the hosts' agents"
                      : "needs --input FILE, --source prometheus=URL, or "
                        "--topology FILE naming the hosts' agents");
        }
        return cmd->run(&opts);
    }
    if (!strcmp(words[0], "diagnose")) {
        cli_fatal(EXIT_USAGE, "%s: \"diagnose\" takes \"contention\" or "
                  "\"rootcause\"", n_words > 1 ? words[1] : "missing");
    }
    cli_fatal(EXIT_USAGE, "unknown command \"%s\" (see --help)", words[0]);
}
