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
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "agent-metrics.h"
#include "fuzz.h"
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

/* Aborts unless 'text' is Prometheus's text format: comments, and
 * "NAME{LABEL="VALUE",...} NUMBER" lines with escaped values. */
static inline void
fuzz_check_prometheus(const char *text, size_t len)
{
    const char *p = text, *end = text + len;

#define NAME_CHAR(C) (((C) >= 'a' && (C) <= 'z') || ((C) >= 'A' && (C) <= 'Z') \
                      || ((C) >= '0' && (C) <= '9') || (C) == '_' || (C) == ':')
    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        if (!nl) {
            abort();            /* Every line ends in a newline. */
        }
        if (*p != '#') {
            const char *q = p;
            while (q < nl && NAME_CHAR(*q)) {
                q++;
            }
            if (q == p) {
                abort();
            }
            if (*q == '{') {
                do {
                    const char *name = ++q;
                    while (q < nl && NAME_CHAR(*q) && *q != ':') {
                        q++;
                    }
                    if (q == name || q + 1 >= nl || q[0] != '='
                        || q[1] != '"') {
                        abort();
                    }
                    for (q += 2; q < nl && *q != '"'; q++) {
                        if (*q == '\\' && (++q >= nl || !strchr("\\\"n", *q))) {
                            abort();
                        }
                    }
                    if (q >= nl) {
                        abort();
                    }
                    q++;
                } while (q < nl && *q == ',');
                if (q >= nl || *q++ != '}') {
                    abort();
                }
            }
            if (q >= nl || *q++ != ' ') {
                abort();
            }
            char *num_end;
            char *num = fuzz_strndup((const uint8_t *) q, nl - q);
            strtod(num, &num_end);
            if (num_end == num || *num_end) {
                abort();
            }
            free(num);
        }
        p = nl + 1;
    }
#undef NAME_CHAR
}

/* Serves 'samples' as the agent would, after naming their VMs, and checks
 * that perfsight's reader takes every record served and that the metrics
 * are in Prometheus's format. */
static inline void
fuzz_render(const struct ps_names *names, struct ps_samples *samples)
{
    size_t len;

    ps_names_apply(names, samples);

    /* perfsight reads an agent's answer with its record reader
     * (lib/gather.c). */
    char *text = agent_render_json(samples, &len);
    FILE *stream = fmemopen(text, len, "r");
    struct ps_reader *rd = ps_reader_from_stream(stream, "agent");
    size_t n = 0;
    struct ps_record r;
    char *error = NULL;
    int retval;
    while ((retval = ps_reader_next(rd, &r, &error)) > 0) {
        ps_record_destroy(&r);
        n++;
    }
    if (retval < 0 || n != samples->n) {
        fprintf(stderr, "perfsight cannot read what the agent serves "
                "(%s, %zu of %zu records): %.*s\n", error ? error : "",
                n, samples->n, (int) len, text);
        abort();
    }
    ps_reader_close(rd);
    fclose(stream);
    free(text);

    text = agent_render_prometheus(samples, &len);
    fuzz_check_prometheus(text, len);
    free(text);
}

#endif /* fuzz-sources.h */
