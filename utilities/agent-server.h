/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef AGENT_SERVER_H
#define AGENT_SERVER_H 1

/* perfsight-agent's server: its sources, the sampling rounds that requests
 * within 'round-ms' share, and the HTTP handler that libmicrohttpd calls,
 * for the daemon and for the HTTP fuzz target (tests/fuzz/fuzz-http.c),
 * which hands it requests on a socketpair. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "agent-config.h"
#include "perfsight/source.h"
#include "util.h"

struct MHD_Daemon;

/* Logs to standard error, or to syslog after agent_log_to_syslog(). */
void agent_log(int priority, const char *format, ...) PS_PRINTF_FORMAT(2, 3);
void agent_log_to_syslog(void);

/* One configured source and what it last said. */
struct agent_source {
    struct ps_source *source;
    int last_error;
};

struct agent {
    struct agent_config config;
    struct agent_source *sources;
    size_t n_sources;
    char *token;                /* Bearer token, or NULL. */
    pthread_mutex_t mutex;      /* Sampling is one at a time. */
    struct ps_samples samples;

    /* The round: one sample, and each format rendered at most once from
     * it, for every request within 'config.round_ms' of its start. */
    int64_t round_start_ns;     /* CLOCK_MONOTONIC; 0 if no round yet. */
    struct MHD_Response *answers[2]; /* JSON, Prometheus; or NULLs. */
};

/* Creates the sources that 'agent->config' wants, logging those that
 * cannot start. */
void agent_open_sources(struct agent *);
void agent_close_sources(struct agent *);

/* Samples every source into 'agent->samples'. */
void agent_sample(struct agent *);

/* Forgets the round's answers (at exit). */
void agent_round_clear(struct agent *);

/* Starts libmicrohttpd with the agent's handler and limits.  'flags' are
 * the caller's MHD_USE_* (threading, TLS, IPv6, no listen socket...);
 * 'addr' is where to listen, or NULL; 'cert' and 'key' are PEM text for
 * TLS, or NULL.  Returns NULL on failure. */
struct MHD_Daemon *agent_http_start(struct agent *, unsigned int flags,
                                    const struct sockaddr *addr,
                                    const char *cert, const char *key);

#endif /* agent-server.h */
