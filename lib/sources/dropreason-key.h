/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
 */

#ifndef PS_DROPREASON_KEY_H
#define PS_DROPREASON_KEY_H 1

/* The key of the BPF program's map, shared by the program
 * (dropreason.bpf.c) and the agent (dropreason.c). */
struct ps_dropreason_key {
    __u32 netns;                /* Inode of the device's network
                                 * namespace. */
    __u32 ifindex;
    __u32 reason;               /* enum skb_drop_reason. */
};

/* Devices x reasons seen: a full map loses new pairs, never counts. */
#define PS_DROPREASON_MAX_KEYS 4096

#endif /* dropreason-key.h */
