/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_FUZZ_SOURCES_H
#define PS_FUZZ_SOURCES_H 1

/* The part the OVS and QMP targets share: a daemon's reply stream as
 * bytes, read back through the agent's own JSON framing
 * (ps_jsonconn_recv()), and the round of samples rendered as the agent
 * serves it. */

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "agent-metrics.h"
#include "sources/sources.h"

/* Replies larger than this would not fit a socketpair's buffer at once;
 * libFuzzer's inputs are far smaller. */
#define FUZZ_MAX_STREAM 65536

/* Returns a JSON connection that will read 'data' and then end, or NULL if
 * 'size' is too large. */
static inline struct ps_jsonconn *
fuzz_stream(const uint8_t *data, size_t size)
{
    int fds[2];

    if (size > FUZZ_MAX_STREAM) {
        return NULL;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) {
        abort();
    }
    for (size_t done = 0; done < size; ) {
        ssize_t n = write(fds[0], data + done, size - done);
        if (n <= 0) {
            abort();
        }
        done += n;
    }
    close(fds[0]);
    return ps_jsonconn_from_fd(fds[1]);
}

/* Serves 'samples' as the agent would, after naming their VMs. */
static inline void
fuzz_render(const struct ps_names *names, struct ps_samples *samples)
{
    size_t len;

    ps_names_apply(names, samples);
    free(agent_render_json(samples, &len));
    free(agent_render_prometheus(samples, &len));
}

#endif /* fuzz-sources.h */
