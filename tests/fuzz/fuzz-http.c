/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The agent's HTTP request handling: the input is what a client sends on
 * one connection (requests, pipelined or not, bodies, garbage), handed to
 * the daemon's own libmicrohttpd setup and handler (agent-server.c) on one
 * end of a socketpair.  The daemon runs without a listen socket or a
 * thread, driven here by MHD_run() until it has answered and closed the
 * connection, so that a run is deterministic.  The agent requires a bearer
 * token ("fuzz-token") and has no sources: its answers are empty rounds. */

#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include "agent-server.h"
#include "fuzz.h"

/* The daemon closes a connection at most this many MHD_run() rounds after
 * the client stopped sending; more means it hangs. */
#define MAX_ROUNDS 10000

static struct agent agent;
static struct MHD_Daemon *daemon_;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    agent_config_init(&agent.config);
    free(agent.config.host);
    agent.config.host = strdup("hv1");
    agent.token = strdup("fuzz-token");
    pthread_mutex_init(&agent.mutex, NULL);
    ps_samples_init(&agent.samples, agent.config.host, 0);

    daemon_ = agent_http_start(&agent, MHD_USE_NO_LISTEN_SOCKET, NULL, NULL,
                               NULL);
    if (!daemon_) {
        fprintf(stderr, "fuzz-http: cannot start libmicrohttpd\n");
        abort();
    }
    return 0;
}

static size_t
connections(void)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(
        daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fds[2];

    /* What does not fit in the socket's buffer at once would need a
     * writer that waits for the daemon; libFuzzer's inputs are smaller. */
    if (size > 65536) {
        return 0;
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
    shutdown(fds[0], SHUT_WR);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);

    struct sockaddr_in peer = {
        .sin_family = AF_INET,
        .sin_port = htons(40000),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    if (MHD_add_connection(daemon_, fds[1], (struct sockaddr *) &peer,
                           sizeof peer) != MHD_YES) {
        abort();
    }

    /* Run the daemon and read its answers until it closes the
     * connection. */
    bool closed = false;
    for (int round = 0; !closed || connections(); round++) {
        if (round >= MAX_ROUNDS) {
            fprintf(stderr, "fuzz-http: the connection is still open after "
                    "%d rounds\n", MAX_ROUNDS);
            abort();
        }
        MHD_run(daemon_);
        for (;;) {
            char buf[4096];
            ssize_t n = read(fds[0], buf, sizeof buf);
            if (n > 0) {
                continue;
            }
            if (!n || errno == ECONNRESET) {
                closed = true;
            } else if (errno != EAGAIN) {
                abort();
            }
            break;
        }
    }
    close(fds[0]);
    return 0;
}
