/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The agent's parser of QEMU's QMP replies (lib/sources/qmp.c): the input
 * is what QEMU writes on its QMP socket, split into JSON values by
 * ps_jsonconn_recv(); events are skipped, and each "return" goes to
 * ps_qmp_parse_perfsight() as query-perfsight's answer, a failed one
 * dropping its samples as qmp_ask() does.  The samples are then served as
 * JSON and as Prometheus text. */

#include <config.h>
#include "fuzz.h"
#include "fuzz-sources.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_jsonconn *conn = fuzz_stream(data, size);
    if (!conn) {
        return 0;
    }
    struct ps_names *names = ps_names_create();
    ps_names_set_tenant(names, "vm1", "t1");
    struct ps_samples samples;
    ps_samples_init(&samples, "hv1", 1764151200000000000);

    json_t *msg;
    while (!ps_jsonconn_recv(conn, 1000, &msg)) {
        const json_t *ret = json_object_get(msg, "return");
        if (!json_object_get(msg, "event") && ret) {
            size_t n_before = samples.n;
            if (ps_qmp_parse_perfsight(ret, "qmp-vm", &samples)) {
                ps_samples_truncate(&samples, n_before);
            }
        }
        json_decref(msg);
    }
    ps_jsonconn_close(conn);

    fuzz_render(names, &samples);
    ps_samples_destroy(&samples);
    ps_names_destroy(names);
    return 0;
}
