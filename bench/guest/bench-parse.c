/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* bench-parse MODE ROUNDS: the agent's cost of a guest's answer.  A
 * typical guest (two vNIC elements with the patched driver's counters, two
 * backlogs, one middlebox with one peer: 6 elements) answers; MODE is
 *   parse   the host parses the answer (ps_guest_parse_answer()), ROUNDS
 *           times;
 *   render  the agent renders the same elements for GET /v1/records
 *           (agent_render_json()), ROUNDS times: the baseline, what every
 *           element costs the agent anyway;
 *   answer  guestd writes the answer (guestd_answer()), ROUNDS times.
 * bench/guest/bench.sh runs it under callgrind and prints instructions. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent-metrics.h"
#include "guestd-answer.h"
#include "sources/sources.h"

static void
typical(struct ps_samples *g)
{
    static const char *const rx[] = {
        "kicks", "xdp_packets", "xdp_tx", "xdp_redirects", "xdp_drops",
        "alloc_fail",
    };
    static const char *const tx[] = {
        "kicks", "xdp_tx", "xdp_tx_drops", "tx_timeouts", "stop", "wake",
        "stop_ns",
    };
    struct ps_sample *s = ps_samples_add(g, PS_VNIC, "eth0:rx");
    ps_sample_set(s, PS_IN_PACKETS, 123456789);
    ps_sample_set(s, PS_IN_BYTES, 98765432100);
    ps_sample_set(s, PS_DROPS, 12);
    ps_sample_set(s, PS_IN_TIME_NS, 3332208250);
    for (const char *r = "frame\0length\0nomem\0short\0"; *r;
         r += strlen(r) + 1) {
        ps_sample_add_reason(s, r, 3);
    }
    for (size_t i = 0; i < sizeof rx / sizeof *rx; i++) {
        ps_sample_add_extra(s, rx[i], 1000 + i);
    }
    s = ps_samples_add(g, PS_VNIC, "eth0:tx");
    ps_sample_set(s, PS_OUT_PACKETS, 88927);
    ps_sample_set(s, PS_OUT_BYTES, 7433890);
    ps_sample_set(s, PS_DROPS, 0);
    ps_sample_set(s, PS_OUT_TIME_NS, 1360085000);
    ps_sample_add_reason(s, "xmit", 0);
    for (size_t i = 0; i < sizeof tx / sizeof *tx; i++) {
        ps_sample_add_extra(s, tx[i], 2000 + i);
    }
    for (int cpu = 0; cpu < 2; cpu++) {
        s = ps_samples_add(g, PS_BACKLOG, "backlog:cpu%d", cpu);
        ps_sample_set(s, PS_IN_PACKETS, 155226);
        ps_sample_set(s, PS_OUT_PACKETS, 155226);
        ps_sample_set(s, PS_DROPS, 0);
        ps_sample_add_reason(s, "backlog_full", 0);
        ps_sample_add_reason(s, "flow_limit", 0);
        ps_sample_add_extra(s, "time_squeeze", 48);
        ps_sample_add_extra(s, "received_rps", 0);
    }
    for (int d = 0; d < 2; d++) {
        s = ps_samples_add(g, PS_MIDDLEBOX, "middlebox:guest:relay%s",
                           d ? ":rev" : "");
        ps_sample_set(s, PS_IN_BYTES, 2097152);
        ps_sample_set(s, PS_OUT_BYTES, 2097152);
        ps_sample_set(s, PS_IN_TIME_NS, 8000500);
        ps_sample_set(s, PS_OUT_TIME_NS, 24000750);
        ps_sample_add_extra(s, d ? "in_bytes@10.0.0.1:7001"
                            : "out_bytes@10.0.0.1:7001", 2097152);
        ps_sample_add_extra(s, d ? "in_time_ns@10.0.0.1:7001"
                            : "out_time_ns@10.0.0.1:7001", 24000750);
    }
}

int
main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench-parse parse|render|answer ROUNDS\n");
        return 2;
    }
    const char *mode = argv[1];
    long rounds = atol(argv[2]);
    struct ps_samples guest, host;
    char *text, *error;
    size_t len;

    ps_samples_init(&guest, "guest", 0);
    typical(&guest);
    guestd_answer(&guest, 1, &text, &len);
    ps_samples_init(&host, "hv1", 1764151200000000000);
    if (ps_guest_parse_answer(text, len, 1, "vm3", &host, &error)) {
        fprintf(stderr, "bench-parse: %s\n", error);
        return 1;
    }
    size_t n = host.n;
    for (long i = 0; i < rounds; i++) {
        if (!strcmp(mode, "parse")) {
            ps_samples_clear(&host);
            ps_guest_parse_answer(text, len, 1, "vm3", &host, &error);
        } else if (!strcmp(mode, "render")) {
            size_t rlen;
            free(agent_render_json(&host, &rlen));
        } else if (!strcmp(mode, "answer")) {
            char *t;
            size_t tlen;
            guestd_answer(&guest, 1, &t, &tlen);
            free(t);
        } else {
            fprintf(stderr, "bench-parse: unknown mode %s\n", mode);
            return 2;
        }
    }
    printf("%zu elements, %zu bytes of answer\n", n, len);
    free(text);
    ps_samples_destroy(&guest);
    ps_samples_destroy(&host);
    return 0;
}
