/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_DROPREASON_H
#define PS_DROPREASON_H 1

/* The kernel's packet drops by device and reason (enum skb_drop_reason),
 * counted by a BPF program on the skb:kfree_skb tracepoint
 * (docs/dropreason.md).  The sources that use it share one instance: the
 * program is loaded once per agent and its map read once per sampling
 * round. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ps_source_env;

/* One device's drops of one reason since the program was loaded, in the
 * agent's own network namespace. */
struct ps_dropcount {
    uint32_t ifindex;
    const char *reason;         /* The kernel's name, lower case, without
                                 * "SKB_DROP_REASON_": "full_ring". */
    uint64_t count;
};

struct ps_dropreason;

/* Returns the agent's instance, loading the program at the first call, or
 * NULL if it cannot run here (built without BPF, no privilege, a kernel
 * without drop reasons or BTF); it then says why once through env->warn
 * and the sources work as before.  PERFSIGHT_DROPREASON=off in the
 * environment turns it off.  Each successful call takes a reference. */
struct ps_dropreason *ps_dropreason_get(const struct ps_source_env *);
void ps_dropreason_put(struct ps_dropreason *);

/* Reads the counts anew unless they were read for the round 'ts_ns'
 * already.  Returns 0 or a positive errno value. */
int ps_dropreason_refresh(struct ps_dropreason *, int64_t ts_ns);

/* The counts of device 'ifindex', sorted by reason name: '*countsp' points
 * at them until the next refresh.  Returns how many. */
size_t ps_dropreason_device(const struct ps_dropreason *, uint32_t ifindex,
                            const struct ps_dropcount **countsp);

/* Whether the kernel reason 'reason' is a drop of a tap's transmit path
 * (toward its reader) that the tap counts in tx_dropped, whatever the
 * packet's direction could otherwise be. */
bool ps_dropreason_is_tx(const char *reason);

/* Turns a name of enum skb_drop_reason ("SKB_DROP_REASON_FULL_RING") into
 * the attribute's ("full_ring") in 'buf'.  Returns false for a name that is
 * no drop (SKB_NOT_DROPPED_YET, SKB_CONSUMED, SKB_DROP_REASON_MAX). */
bool ps_dropreason_name(const char *enum_name, char *buf, size_t size);

#endif /* dropreason.h */
