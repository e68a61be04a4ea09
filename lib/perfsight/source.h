/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_SOURCE_H
#define PERFSIGHT_SOURCE_H 1

/* Element sources: the parts of the agent that turn a host's counters into
 * DESIGN.md §3 records.  Each source (net devices through netlink, the
 * per-CPU backlogs, CPU utilisation, Open vSwitch, QEMU, libvirt) sits
 * behind the same small interface, in the manner of collectd's plugins: the
 * agent loops over a table of them and knows nothing about any one.
 *
 * Sources read; they never decide a verdict and never print.  A source
 * whose subject is absent (no Open vSwitch running, no QMP directory)
 * samples nothing and succeeds. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "perfsight/record.h"

/* An attribute that DESIGN.md §3 does not name (QEMU's blocked_time_ns,
 * the backlog's time_squeeze...).  Readers ignore such names; the agent
 * still serves them because people and Prometheus can use them. */
struct ps_attr {
    const char *name;           /* A constant, or in the samples' arena. */
    uint64_t value;             /* A counter: only grows. */
};

struct ps_samples;
struct ps_arena;

/* One element's sample as a source emits it: a record and its extra
 * counters.  Every string and array of it belongs to the round of samples
 * (an arena that ps_samples_clear() rewinds): never ps_record_destroy()
 * its record, and copy what must outlive the round. */
struct ps_sample {
    struct ps_record record;
    struct ps_attr *extra;
    size_t n_extra;
    size_t allocated_extra;
    size_t allocated_reasons;
    struct ps_samples *samples; /* The round it belongs to. */
};

/* A growing array of samples, all of one sampling round.  Once a round has
 * run, later rounds of the same size allocate nothing. */
struct ps_samples {
    struct ps_sample *s;
    size_t n;
    size_t allocated;
    int64_t ts_ns;              /* CLOCK_REALTIME of the round. */
    const char *host;           /* Not owned. */
    char *host_copy;            /* In the arena. */
    struct ps_arena *arena;     /* Strings and arrays of the samples. */
};

void ps_samples_init(struct ps_samples *, const char *host, int64_t ts_ns);
/* Forgets every sample, keeping the memory for the next round. */
void ps_samples_clear(struct ps_samples *);
/* Drops the samples after the first 'n'. */
void ps_samples_truncate(struct ps_samples *, size_t n);
void ps_samples_destroy(struct ps_samples *);

/* Appends a sample for the element whose id is formatted from 'format', of
 * 'type', with the round's host and time, and returns it. */
struct ps_sample *ps_samples_add(struct ps_samples *, enum ps_element_type,
                                 const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with the element id 'id' as it is. */
struct ps_sample *ps_samples_add_id(struct ps_samples *, enum ps_element_type,
                                    const char *id);
/* The same without copying 'id', which must outlive the round (the source
 * keeps it, e.g. from discovery to discovery). */
struct ps_sample *ps_samples_add_static(struct ps_samples *,
                                        enum ps_element_type,
                                        const char *id);

/* Takes 'r' (a whole record, e.g. from Open vSwitch) into 'samples' with
 * the round's host, and destroys 'r'. */
struct ps_sample *ps_samples_take(struct ps_samples *, struct ps_record *r);

static inline void
ps_sample_set(struct ps_sample *s, enum ps_counter c, uint64_t value)
{
    s->record.counters[c] = value;
    s->record.has_counters |= 1u << c;
}

static inline void
ps_sample_set_gauge(struct ps_sample *s, enum ps_gauge g, double value)
{
    s->record.gauges[g] = value;
    s->record.has_gauges |= 1u << g;
}

/* Adds "drops.<reason>", or adds 'value' to it if the sample has it. */
void ps_sample_add_reason(struct ps_sample *, const char *reason, uint64_t);
/* Adds the 'n' reasons 'names' (sorted by name, and string constants: they
 * are neither copied nor compared) with 'values', to a sample that has no
 * reason yet.  The fast way for a source with a fixed set of reasons. */
void ps_sample_set_reasons(struct ps_sample *, const char *const names[],
                           const uint64_t values[], size_t n);
/* Adds an extra counter.  'name' must outlive the round: a string
 * constant. */
void ps_sample_add_extra(struct ps_sample *, const char *name, uint64_t);
/* The same with a copy of 'name' in the round's arena (a name a peer
 * sent). */
void ps_sample_add_extra_copy(struct ps_sample *, const char *name,
                              uint64_t);
void ps_sample_set_vm(struct ps_sample *, const char *vm);
void ps_sample_set_tenant(struct ps_sample *, const char *tenant);

/* Returns the sample as a DESIGN.md §3 JSON object, extras included. */
json_t *ps_sample_to_json(const struct ps_sample *);

struct ps_names;
struct ps_netclass;

/* What a source may know about the host it runs on: where to look, and the
 * operator's mapping of devices to VMs and VMs to tenants.  The agent fills
 * it from its configuration file (docs/agent.md). */
struct ps_source_env {
    const char *host;           /* Host name in every record. */
    const char *procfs;         /* "/proc" (tests point it elsewhere). */
    const char *sysfs;          /* "/sys". */
    const char *cgroupfs;       /* cgroup v2 mount, "" to find it. */
    const char *ovs_rundir;     /* Open vSwitch's run directory. */
    const char *ovs_socket;     /* ovs-vswitchd's unixctl socket, or NULL
                                 * to find it from its pidfile. */
    const char *qmp_dir;        /* Directory of QMP sockets, or NULL. */
    const char *libvirt_uri;    /* libvirt URI, or NULL for none. */
    int timeout_ms;             /* Per request to a daemon. */
    const char *middlebox_dir;  /* Middlebox segments, NULL: /dev/shm. */
    const char *middlebox_vm;   /* VM of this host's middleboxes when
                                 * 'names' has no vm.HOST, NULL: host. */
    const char *tcpinfo_programs;   /* Comma-separated process names the
                                     * tcpinfo source reads, or NULL. */
    const char *guest_dir;      /* Sockets of guests' perfsight-guestd
                                 * ports, VM.sock each, or NULL. */
    const char *guest_port;     /* Port name of a libvirt domain's
                                 * <channel>, NULL: the default. */
    /* Says 'message' (about something the source found, such as a
     * segment of another layout version) to the operator; may be NULL.
     * A source says each message once while its cause lasts. */
    void (*warn)(const char *message);
    struct ps_names *names;     /* Device → VM, VM → tenant. */
    struct ps_netclass *netclass; /* Operator's device classification. */
};

/* A source: one instance of a class. */
struct ps_source;

struct ps_source_class {
    const char *name;           /* "netlink", "softnet", ... */

    /* Creates the source's state in '*statep'.  Returns 0 or a positive
     * errno value; a source whose subject is absent still returns 0. */
    int (*init)(const struct ps_source_env *, void **statep);

    /* Appends one sample of each element it finds to 'samples'.  Returns 0
     * or a positive errno value (after appending what it could). */
    int (*sample)(void *state, struct ps_samples *samples);

    /* Frees the state. */
    void (*destroy)(void *state);
};

/* The classes built into this library, NULL-terminated. */
extern const struct ps_source_class *const ps_source_classes[];

/* Finds a class by name, or NULL. */
const struct ps_source_class *ps_source_class_find(const char *name);

/* Creates a source of 'class'.  On error returns a positive errno value and
 * sets '*sourcep' to NULL. */
int ps_source_create(const struct ps_source_class *,
                     const struct ps_source_env *, struct ps_source **);
void ps_source_destroy(struct ps_source *);
const char *ps_source_name(const struct ps_source *);

/* Samples 'source' into 'samples'.  Returns 0 or a positive errno. */
int ps_source_sample(struct ps_source *, struct ps_samples *);

/* Device → VM and VM → tenant.  Entries come from the configuration file
 * (static) and from sources that discover them, such as libvirt's domain
 * XML (dynamic, replaced as a whole by each discovery). */
struct ps_names *ps_names_create(void);
void ps_names_destroy(struct ps_names *);
void ps_names_set_static_vm(struct ps_names *, const char *device,
                            const char *vm);
void ps_names_set_tenant(struct ps_names *, const char *vm,
                         const char *tenant);
/* Replaces the dynamic device → VM entries of 'origin' (a source's name)
 * with the 'n' pairs in 'devices' and 'vms'. */
void ps_names_set_dynamic(struct ps_names *, const char *origin,
                          char **devices, char **vms, size_t n);
/* Returns the VM of 'device' (the static entry first), or NULL. */
const char *ps_names_vm(const struct ps_names *, const char *device);
const char *ps_names_tenant(const struct ps_names *, const char *vm);

/* Fills in the VM of tap and vswitch samples that lack one, from the device
 * in their element id, and the tenant of every sample with a VM. */
void ps_names_apply(const struct ps_names *, struct ps_samples *);

/* How the netlink source classifies a net device (docs/agent.md). */
enum ps_netclass_kind {
    PS_NETCLASS_AUTO,           /* Decide from the kernel's view. */
    PS_NETCLASS_PNIC,           /* pnic and pnic_driver elements. */
    PS_NETCLASS_TAP,            /* tap elements. */
    PS_NETCLASS_IGNORE,         /* No element. */
};

/* The operator's classification: shell patterns over device names, first
 * match wins. */
struct ps_netclass *ps_netclass_create(void);
void ps_netclass_destroy(struct ps_netclass *);
void ps_netclass_add(struct ps_netclass *, const char *pattern,
                     enum ps_netclass_kind);
bool ps_netclass_kind_from_name(const char *, enum ps_netclass_kind *);
enum ps_netclass_kind ps_netclass_lookup(const struct ps_netclass *,
                                         const char *device);

#endif /* perfsight/source.h */
