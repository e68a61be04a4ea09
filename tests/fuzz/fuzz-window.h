/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_FUZZ_WINDOW_H
#define PS_FUZZ_WINDOW_H 1

/* What the diagnoses rely on in a window (lib/perfsight/window.h), checked
 * by the targets that build one. */

#include <stdlib.h>
#include <string.h>
#include "perfsight/window.h"

static inline void
fuzz_check_window(const struct ps_window *w)
{
    for (size_t i = 0; i < w->n_deltas; i++) {
        const struct ps_delta *d = &w->deltas[i];
        if (!(d->dt > 0) || d->host_idx >= w->n_hosts
            || ps_window_find(w, d->host, d->element) != d) {
            abort();
        }
        /* Reasons sorted by name, each once. */
        for (size_t j = 1; j < d->n_reasons; j++) {
            if (strcmp(d->reasons[j - 1].name, d->reasons[j].name) >= 0) {
                abort();
            }
        }
        /* Peer counters sorted by peer and counter, each once. */
        for (size_t j = 1; j < d->n_peers; j++) {
            int cmp = strcmp(d->peers[j - 1].peer, d->peers[j].peer);
            if (cmp > 0 || (!cmp && d->peers[j - 1].counter
                                    >= d->peers[j].counter)) {
                abort();
            }
        }
        ps_delta_rate(d, PS_IN_PACKETS);
        ps_delta_packet_loss(d);
        ps_delta_throughput_bps(d);
        ps_delta_avg_packet_size(d);
        ps_delta_offered_packets(d);
    }
}

#endif /* fuzz-window.h */
