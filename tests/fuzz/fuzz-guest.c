/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The agent's parser of guests' answers (lib/sources/guest-parse.c): the
 * input is what a hostile guest writes on its virtio-serial port after
 * request 1, fed to ps_guest_answer_scan() in the pieces that the first
 * byte chooses (as recv() may cut it), and, when the scan says the answer
 * is whole or wrong, to ps_guest_parse_answer() as the guest source does.
 * Whatever the guest sends, the samples are only of its own VM and of the
 * three guest types; they are then served as JSON and Prometheus text. */

#include <config.h>
#include "fuzz.h"
#include "fuzz-sources.h"
#include "sources/guest-proto.h"

static void
check_own(const struct ps_samples *samples)
{
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_record *r = &samples->s[i].record;
        const char *prefix = (r->type == PS_VNIC ? "vnic:vm1:"
                              : r->type == PS_GUEST_BACKLOG
                              ? "guest_backlog:vm1:"
                              : r->type == PS_MIDDLEBOX ? "middlebox:vm1:"
                              : NULL);
        if (!prefix || strncmp(r->element, prefix, strlen(prefix))
            || strchr(r->element + strlen(prefix), ':') != strrchr(
                r->element + strlen(prefix), ':')
            || !r->vm || strcmp(r->vm, "vm1") || strcmp(r->host, "hv1")) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size || size > PS_GUEST_MAX_ANSWER + 2) {
        return 0;
    }
    size_t step = data[0] ? data[0] : 1;
    const char *text = (const char *) data + 1;
    size_t len = size - 1;

    struct ps_names *names = ps_names_create();
    ps_names_set_tenant(names, "vm1", "t1");
    struct ps_samples samples;
    ps_samples_init(&samples, "hv1", 1764151200000000000);

    size_t offset = 0, answer_len = 0;
    int error = EAGAIN;
    for (size_t got = 0; error == EAGAIN && got < len; ) {
        got = got + step < len ? got + step : len;
        error = ps_guest_answer_scan(text, got, &offset, &answer_len);
        if (!error && got < len) {
            error = EPROTO;     /* More came after the end marker. */
        }
        if (error != EAGAIN && error != EMSGSIZE) {
            char *why = NULL;
            int retval = ps_guest_parse_answer(text, error ? got : answer_len,
                                               1, "vm1", &samples, &why);
            if ((retval != 0) != (why != NULL)) {
                abort();
            }
            free(why);
        }
    }
    check_own(&samples);
    fuzz_render(names, &samples);
    ps_samples_destroy(&samples);
    ps_names_destroy(names);
    return 0;
}
