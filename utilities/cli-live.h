/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_CLI_LIVE_H
#define PERFSIGHT_CLI_LIVE_H 1

/* The live side of the perfsight command: the agents a topology lists,
 * gathered in rounds. */

#include <stdbool.h>
#include "cli.h"
#include "perfsight/gather.h"
#include "perfsight/topology.h"

struct cli_agents {
    struct ps_topology *topology;
    struct ps_gather_target *targets;
    size_t n;
    struct ps_gather_options options;
    char *token;
};

/* Loads the topology's agents.  On error prints why and returns false. */
bool cli_agents_open(const struct cli_options *, struct cli_agents *);
void cli_agents_close(struct cli_agents *);

/* One round of records from every agent. */
void cli_round_run(const struct cli_agents *, struct ps_gather_records *);

/* Sleeps 'seconds' unless interrupted by a signal; returns false if it
 * was. */
bool cli_sleep(double seconds);

/* From now on SIGINT and SIGTERM only set a flag that cli_stopped()
 * returns, so that record and watch finish the round in progress. */
void cli_catch_stop(void);
bool cli_stopped(void);

#endif /* cli-live.h */
