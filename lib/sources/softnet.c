/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Per-CPU backlogs: backlog elements from /proc/net/softnet_stat. */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sources.h"
#include "util.h"

/* The columns of /proc/net/softnet_stat that the source uses.  Linux 5.10
 * to 6.7 print 13 columns, the last being the CPU's number; later kernels
 * add two (input and process queue lengths) after it; kernels before 5.10
 * print 11, and the line's position is then the CPU's number (which is
 * wrong when CPUs are offline, as those have no line). */
enum {
    COL_PROCESSED = 0,
    COL_DROPPED = 1,
    COL_TIME_SQUEEZE = 2,
    COL_RECEIVED_RPS = 9,
    COL_FLOW_LIMIT = 10,
    COL_BACKLOG_LEN = 11,       /* Packets in the backlog, from 5.10. */
    COL_CPU = 12,
    MAX_COLS = 32,
};

int
ps_softnet_parse(const char *text, struct ps_samples *samples)
{
    const char *line = text;

    for (unsigned int row = 0; *line; row++) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen(line);
        uint64_t cols[MAX_COLS];
        int n = 0;
        const char *p = line;

        while (p < line + len) {
            char *next;
            while (p < line + len && *p == ' ') {
                p++;
            }
            if (p == line + len) {
                break;
            }
            if (n == MAX_COLS) {
                return EINVAL;
            }
            errno = 0;
            cols[n] = strtoull(p, &next, 16);
            if (next == p || errno || (next < line + len && *next != ' ')) {
                return EINVAL;
            }
            n++;
            p = next;
        }
        if (n == 0 && !end) {
            break;
        }
        if (n < 11) {
            return EINVAL;
        }

        unsigned int cpu = n >= 13 ? (unsigned int) cols[COL_CPU] : row;
        uint64_t dropped = cols[COL_DROPPED];
        uint64_t flow_limit = (cols[COL_FLOW_LIMIT] < dropped
                               ? cols[COL_FLOW_LIMIT] : dropped);
        struct ps_sample *e = ps_samples_add(samples, PS_BACKLOG,
                                             "backlog:cpu%u", cpu);
        ps_sample_set(e, PS_IN_PACKETS, cols[COL_PROCESSED] + dropped);
        ps_sample_set(e, PS_OUT_PACKETS, cols[COL_PROCESSED]);
        ps_sample_set(e, PS_DROPS, dropped);
        /* The kernel gives both SKB_DROP_REASON_CPU_BACKLOG; softnet_stat
         * counts them on the CPU whose backlog refused the packet, which
         * is the one to blame (docs/dropreason.md). */
        ps_sample_add_reason(e, "cpu_backlog", dropped - flow_limit);
        ps_sample_add_reason(e, "flow_limit", flow_limit);
        if (n >= 13) {
            ps_sample_set_gauge(e, PS_QUEUE_LEN, cols[COL_BACKLOG_LEN]);
        }
        ps_sample_add_extra(e, "time_squeeze", cols[COL_TIME_SQUEEZE]);
        ps_sample_add_extra(e, "received_rps", cols[COL_RECEIVED_RPS]);

        if (!end) {
            break;
        }
        line = end + 1;
    }
    return 0;
}

struct softnet_source {
    char *path;
    int fd;                     /* Kept open, or -1. */
    char *buf;
    size_t allocated;
};

static int
softnet_init(const struct ps_source_env *env, void **statep)
{
    struct softnet_source *s = ps_xcalloc(1, sizeof *s);
    s->path = ps_xasprintf("%s/net/softnet_stat", env->procfs);
    s->fd = -1;
    *statep = s;
    return 0;
}

static int
softnet_sample(void *state, struct ps_samples *samples)
{
    struct softnet_source *s = state;
    size_t n_before = samples->n;
    int error = ps_reread_file(&s->fd, s->path, &s->buf, &s->allocated,
                               NULL);

    if (error) {
        return error == ENOENT ? 0 : error;
    }
    error = ps_softnet_parse(s->buf, samples);
    if (error) {
        ps_samples_truncate(samples, n_before);
    }
    return error;
}

static void
softnet_destroy(void *state)
{
    struct softnet_source *s = state;
    if (s) {
        if (s->fd >= 0) {
            close(s->fd);
        }
        free(s->path);
        free(s->buf);
        free(s);
    }
}

const struct ps_source_class ps_softnet_class = {
    .name = "softnet",
    .init = softnet_init,
    .sample = softnet_sample,
    .destroy = softnet_destroy,
};
