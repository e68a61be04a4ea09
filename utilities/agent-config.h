/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H 1

/* perfsight-agent's settings: one set of "key = value" names for the
 * configuration file and the command line (docs/agent.md). */

#include <stdbool.h>
#include "perfsight/source.h"

struct agent_config {
    char *host;                 /* Host name in records (default: uname). */
    char *listen;               /* "ADDR:PORT" or "[ADDR6]:PORT". */
    char *tls_cert;             /* PEM files; both or neither. */
    char *tls_key;
    char *token_file;           /* Bearer token, first line. */
    char *pidfile;
    bool detach;
    bool syslog;
    int max_connections;
    int request_timeout;        /* Seconds per connection. */
    int round_ms;               /* Requests this close share a sample. */
    char *sources;              /* Comma-separated names, "all". */

    struct ps_source_env env;   /* Its strings are owned here. */
};

void agent_config_init(struct agent_config *);
void agent_config_destroy(struct agent_config *);

/* Sets 'key' to 'value'.  Returns NULL or a malloc'd message. */
char *agent_config_set(struct agent_config *, const char *key,
                       const char *value);

/* Reads the configuration file 'path'.  Returns NULL or a malloc'd
 * message "PATH:LINE: ...". */
char *agent_config_read(struct agent_config *, const char *path);

/* True if 'source' is one of the configured sources. */
bool agent_config_wants(const struct agent_config *, const char *source);

#endif /* agent-config.h */
