/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_MIDDLEBOX_H
#define PERFSIGHT_MIDDLEBOX_H 1

/* Middlebox counters in shared memory (DESIGN.md §2, §3; docs/middlebox.md).
 *
 * A middlebox process keeps its counters in one segment of its own,
 * DIR/perfsight-mb.PID (DIR is /dev/shm), mode 0644, created with O_EXCL:
 * bytes and I/O time per direction, and output (input) bytes and time per
 * downstream peer.  Each thread adds to a slot of its own with plain loads
 * and stores: no system call and no atomic read-modify-write per call.  The
 * preload library (libperfsight-preload.so) fills a segment for unmodified
 * programs; a program that wants to count exactly calls the writer
 * functions below around its own reads and writes.
 *
 * Directions: PS_MB_FWD is what the process reads from the sockets it
 * accepted (its upstream side) and writes to the sockets it connected (its
 * downstream side), the element middlebox:VM:PROG; PS_MB_REV the other way,
 * middlebox:VM:PROG:rev.
 *
 * The reader (the agent) trusts nothing in a segment: it compares the
 * layout's magic, version and every size and offset with its own, reads
 * with pread() into its own memory, and checks the file's owner against
 * the process's. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Layout, version 1. */
#define PS_MB_MAGIC 0x424d5350u         /* "PSMB" in memory, little end. */
#define PS_MB_VERSION 1u
#define PS_MB_N_SLOTS 64                /* Threads counting at once. */
#define PS_MB_N_PEERS 16                /* Downstream peers counted apart. */
#define PS_MB_PROG_LEN 32               /* Program name, NUL included. */
#define PS_MB_PREFIX "perfsight-mb."    /* File name: PREFIX + pid. */

enum ps_mb_dir {
    PS_MB_FWD,                  /* Upstream (accepted) to downstream. */
    PS_MB_REV,                  /* Downstream (connected) to upstream. */
    PS_MB_N_DIRS
};

/* One direction's counters. */
struct ps_mb_io {
    uint64_t in_bytes;          /* Read from this direction's input side. */
    uint64_t out_bytes;         /* Written to its output side. */
    uint64_t in_time_ns;        /* In reads, and waiting for input. */
    uint64_t out_time_ns;       /* In writes, and waiting to write. */
};

/* One downstream peer's counters in one slot. */
struct ps_mb_peer_io {
    uint64_t out_bytes;         /* Written to it (PS_MB_FWD output). */
    uint64_t out_time_ns;
    uint64_t in_bytes;          /* Read from it (PS_MB_REV input). */
    uint64_t in_time_ns;
};

/* A thread's counters.  Only the owning thread writes them. */
struct ps_mb_slot {
    uint64_t owner;             /* Owning thread's id + 1, 0 if free. */
    uint64_t pad0[7];
    struct ps_mb_io dir[PS_MB_N_DIRS];
    struct ps_mb_peer_io peer[PS_MB_N_PEERS];
};

/* A downstream peer: the remote end of a connected socket. */
struct ps_mb_peer {
    uint32_t state;             /* 0 free, 1 being filled, 2 valid. */
    uint16_t family;            /* AF_INET or AF_INET6. */
    uint16_t port;              /* Host byte order. */
    uint8_t addr[16];           /* 4 bytes for AF_INET. */
};

/* The segment's first bytes. */
struct ps_mb_header {
    uint32_t magic;             /* PS_MB_MAGIC, stored last at creation. */
    uint32_t version;           /* PS_MB_VERSION. */
    uint32_t header_size;       /* sizeof(struct ps_mb_header). */
    uint32_t total_size;        /* sizeof(struct ps_mb_segment). */
    uint32_t n_peers;           /* PS_MB_N_PEERS. */
    uint32_t peer_size;         /* sizeof(struct ps_mb_peer). */
    uint32_t peers_offset;      /* offsetof(struct ps_mb_segment, peers). */
    uint32_t n_slots;           /* PS_MB_N_SLOTS. */
    uint32_t slot_size;         /* sizeof(struct ps_mb_slot). */
    uint32_t slots_offset;      /* offsetof(struct ps_mb_segment, slots). */
    int32_t pid;                /* The writing process. */
    uint32_t flags;             /* None yet: 0. */
    uint64_t start_time;        /* Field 22 of /proc/PID/stat, or 0. */
    uint64_t created_ns;        /* CLOCK_REALTIME at creation. */
    char prog[PS_MB_PROG_LEN];  /* [A-Za-z0-9._-]+, NUL-terminated. */
};

/* The whole segment. */
struct ps_mb_segment {
    struct ps_mb_header header;
    struct ps_mb_peer peers[PS_MB_N_PEERS];
    struct ps_mb_slot slots[PS_MB_N_SLOTS];
};

/* Writer: the C API for a middlebox. */

struct ps_mb;

/* Creates the calling process's segment in 'dir' (NULL for /dev/shm) for
 * the program 'prog' (characters other than [A-Za-z0-9._-] become '_';
 * longer names are cut).  Returns 0 or a positive errno value. */
int ps_mb_create(const char *dir, const char *prog, struct ps_mb **);

/* Unmaps the segment, removes the file if 'remove', and frees 'mb'. */
void ps_mb_destroy(struct ps_mb *, bool remove);

/* In the child after fork(): leaves the parent's segment to the parent and
 * creates the child's own, with counters from zero.  Returns 0 or a
 * positive errno value (then counting stops). */
int ps_mb_reopen(struct ps_mb *);

/* Returns the index of the peer 'sa' in the segment's table, adding it if
 * it is new, or -1 if the table is full or 'sa' is not AF_INET(6).  Costs
 * an atomic compare-and-swap when it adds: call it once per connection. */
int ps_mb_peer(struct ps_mb *, const struct sockaddr *sa, socklen_t);

/* Adds 'bytes' read and 'ns' spent reading to direction 'dir'; 'peer' (-1
 * for none) is the downstream peer read from (PS_MB_REV). */
void ps_mb_add_in(struct ps_mb *, enum ps_mb_dir, int peer, uint64_t bytes,
                  uint64_t ns);

/* Adds 'bytes' written and 'ns' spent writing (or waiting to write) to
 * direction 'dir'; 'peer' (-1 for none) is the downstream peer written to
 * (PS_MB_FWD). */
void ps_mb_add_out(struct ps_mb *, enum ps_mb_dir, int peer, uint64_t bytes,
                   uint64_t ns);

/* Adds to the counters of downstream peer 'peer' alone (time waited for
 * it, when the direction's total is added apart). */
void ps_mb_add_peer_out(struct ps_mb *, int peer, uint64_t bytes,
                        uint64_t ns);

/* Returns the calling thread's slot, for a caller that adds to it
 * directly, with plain loads and stores, and caches it until the next
 * ps_mb_reopen() (the preload library does).  A thread beyond the
 * PS_MB_N_SLOTS'th gets a slot outside the segment: its counts are lost. */
struct ps_mb_slot *ps_mb_slot(struct ps_mb *);

/* CLOCK_MONOTONIC in nanoseconds, for timing calls. */
uint64_t ps_mb_now_ns(void);

/* Reader: for the agent. */

/* A segment's counters, summed over its slots. */
struct ps_mb_counts {
    int pid;
    uint64_t start_time;        /* As in the header. */
    uint64_t created_ns;
    char prog[PS_MB_PROG_LEN];
    struct ps_mb_io dir[PS_MB_N_DIRS];
    size_t n_peers;
    struct {
        char name[64];          /* "ADDR:PORT", "[ADDR6]:PORT". */
        struct ps_mb_peer_io io;
    } peers[PS_MB_N_PEERS];
};

/* Reads the segment at 'path', which must be the segment of process 'pid'
 * and owned by 'owner' (the process's user), into 'c'.  Returns 0; or
 * EAGAIN if the writer has not finished creating it (no magic yet); or
 * another positive errno value with '*errp' set to a malloc'd message
 * naming the path and the fault (a layout of another version, sizes or
 * offsets other than this reader's, a truncated file, another owner, a
 * file that others may write). */
int ps_mb_read(const char *path, int pid, uid_t owner,
               struct ps_mb_counts *c, char **errp);

#endif /* perfsight/middlebox.h */
