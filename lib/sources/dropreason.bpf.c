/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
 */

/* Counts the kernel's packet drops by (network namespace, device, reason)
 * on the skb:kfree_skb tracepoint (docs/dropreason.md).  The tracepoint
 * fires only when a packet is freed as dropped: packets consumed normally
 * go through consume_skb() and never run this program.
 *
 * It is a raw tracepoint program: it needs neither tracefs (to find the
 * event's id) nor the event's record layout, which changed across kernels
 * (rx_sk came in 6.11).  The tracepoint's arguments (skb, location, reason)
 * have kept their positions since reasons came in 5.17.
 *
 * The few kernel fields it reads are declared here with
 * preserve_access_index, so that libbpf relocates them against the running
 * kernel's BTF (CO-RE) and the build needs no vmlinux.h. */

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "dropreason-key.h"

struct ns_common {
    unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
    struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
    struct net *net;
} possible_net_t;

struct net_device {
    int ifindex;
    possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct sk_buff {
    struct net_device *dev;
} __attribute__((preserve_access_index));

/* SKB_CONSUMED: some kernels report a consumed packet through this
 * tracepoint with this reason; it is no drop. */
#define PS_SKB_CONSUMED 1

/* The agent's network namespace (set before loading): drops elsewhere on
 * the host are not its elements', and other agents load their own copy. */
const volatile __u32 ps_netns = 0;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, PS_DROPREASON_MAX_KEYS);
    __type(key, struct ps_dropreason_key);
    __type(value, __u64);
} drops SEC(".maps");

SEC("raw_tp/kfree_skb")
int
ps_kfree_skb(struct bpf_raw_tracepoint_args *ctx)
{
    struct sk_buff *skb = (struct sk_buff *) ctx->args[0];
    struct ps_dropreason_key key = { 0 };
    struct net_device *dev;
    __u64 one = 1, *count;

    key.reason = (__u32) ctx->args[2];
    if (key.reason == PS_SKB_CONSUMED) {
        return 0;
    }
    dev = BPF_CORE_READ(skb, dev);
    if (!dev) {
        return 0;               /* No element to give it to. */
    }
    key.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
    if (ps_netns && key.netns != ps_netns) {
        return 0;
    }
    key.ifindex = BPF_CORE_READ(dev, ifindex);
    count = bpf_map_lookup_elem(&drops, &key);
    if (count) {
        (*count)++;             /* This CPU's own slot: no atomics. */
    } else {
        bpf_map_update_elem(&drops, &key, &one, BPF_NOEXIST);
    }
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
