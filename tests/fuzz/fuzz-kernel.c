/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The agent's parsers of what the kernel gives (issue 15): the first byte
 * picks one, the rest is its input.
 *   0  /proc/net/softnet_stat text (ps_softnet_parse())
 *   1  an RTM_GETQDISC dump, netlink messages (ps_netlink_parse_qdisc())
 *   2  a name of enum skb_drop_reason from BTF (ps_dropreason_name()) */

#include <config.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include "fuzz.h"
#include "sources/dropreason.h"
#include "sources/sources.h"
#include "perfsight/source.h"

static int
qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
    uint32_t ifindex, qlen;
    size_t *n = data;

    if (!ps_netlink_parse_qdisc(nlh, &ifindex, &qlen)) {
        (*n)++;
    }
    return MNL_CB_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t which = data[0] % 3;
    data++;
    size--;

    if (which == 0) {
        char *text = fuzz_strndup(data, size);
        struct ps_samples samples;
        ps_samples_init(&samples, "h", 1);
        int error = ps_softnet_parse(text, &samples);
        if (error && error != EINVAL) {
            abort();
        }
        for (size_t i = 0; i < samples.n; i++) {
            json_decref(ps_sample_to_json(&samples.s[i]));
        }
        ps_samples_destroy(&samples);
        free(text);
    } else if (which == 1) {
        /* The messages of a dump as the kernel frames them (recv_dump()
         * trusts the kernel's framing, which libmnl's mnl_cb_run() does
         * not check against a truncated buffer), aligned as a receive
         * buffer is; each message's body is arbitrary. */
        uint8_t *buf = malloc(size + 4);
        size_t n = 0;
        memcpy(buf, data, size);
        for (size_t off = 0; size - off >= sizeof(struct nlmsghdr); ) {
            struct nlmsghdr *nlh = (struct nlmsghdr *) (buf + off);
            if (nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > size - off) {
                break;
            }
            qdisc_cb(nlh, &n);
            off += MNL_ALIGN(nlh->nlmsg_len);
            if (off > size) {
                break;
            }
        }
        free(buf);
    } else {
        char *name = fuzz_strndup(data, size);
        char buf[16];
        if (ps_dropreason_name(name, buf, sizeof buf)
            && (strlen(buf) >= sizeof buf || !buf[0])) {
            abort();
        }
        free(name);
    }
    return 0;
}
