/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_SOURCES_H
#define PS_SOURCES_H 1

/* Private to the element sources and their unit tests: the classes, and the
 * parsers that take text (so that tests can feed them sample text). */

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "perfsight/source.h"

extern const struct ps_source_class ps_netlink_class;
extern const struct ps_source_class ps_softnet_class;
extern const struct ps_source_class ps_cpu_class;
extern const struct ps_source_class ps_ovs_class;
extern const struct ps_source_class ps_qmp_class;
extern const struct ps_source_class ps_middlebox_class;
extern const struct ps_source_class ps_tcpinfo_class;
extern const struct ps_source_class ps_guest_class;
#ifdef HAVE_LIBVIRT
extern const struct ps_source_class ps_libvirt_class;
#endif

/* Appends the backlog samples of /proc/net/softnet_stat's 'text' (13 or 15
 * columns, or the 11 of kernels before 5.10).  Returns 0, or EINVAL if a
 * line does not parse (the lines before it are kept). */
int ps_softnet_parse(const char *text, struct ps_samples *);

struct nlmsghdr;

/* Takes the root qdisc's queue length from the RTM_NEWQDISC message 'nlh'
 * (whose nlmsg_len the caller has checked against the buffer) into
 * '*ifindex' and '*qlen'.  Returns 0, or ENOENT if it is no root qdisc
 * with queue statistics. */
int ps_netlink_parse_qdisc(const struct nlmsghdr *, uint32_t *ifindex,
                           uint32_t *qlen);

/* The first line of /proc/stat, in USER_HZ ticks. */
struct ps_cpu_times {
    uint64_t busy;              /* Everything but idle and iowait. */
    uint64_t total;
};

/* Parses /proc/stat's 'text'.  Returns 0 or EINVAL. */
int ps_procstat_parse(const char *text, struct ps_cpu_times *,
                      int *n_cpus);

/* CPU utilisation between two readings, 0..1, or -1 if they cannot be
 * compared (no time passed, or a counter went back). */
double ps_cpu_util(const struct ps_cpu_times *prev,
                   const struct ps_cpu_times *cur);

/* Parses cgroup v2 cpu.stat's 'text' for usage_usec.  Returns 0 or
 * EINVAL. */
int ps_cgroup_usage_parse(const char *text, uint64_t *usage_usec);

/* Turns a libvirt machine scope name ("machine-qemu\x2d3\x2dvm3.scope") into
 * the domain name ("vm3") in a malloc'd string, or NULL if it is not
 * one. */
char *ps_cgroup_scope_vm(const char *scope);

/* Appends the hypervisor samples of a query-perfsight 'reply' (the "return"
 * array).  'vm' names the VM when an element does not.  Returns 0 or
 * EINVAL. */
int ps_qmp_parse_perfsight(const json_t *reply, const char *vm,
                           struct ps_samples *);

/* Appends the vswitch records of ovs-appctl perfsight/show --json's
 * 'text'.  Returns 0 or EINVAL, with '*errp' set to a malloc'd message. */
int ps_ovs_parse_show(const char *text, struct ps_samples *, char **errp);

/* Takes the VMs of switch ports from ovsdb-server's 'reply' to a select of
 * the Interface table's name and external_ids (vm-uuid, else vm-id) into
 * 'names' as the "ovsdb" discoveries.  Returns 0 or EPROTO. */
int ps_ovs_parse_interfaces(const json_t *reply, struct ps_names *);

/* Reads the whole file 'path' into a malloc'd, NUL-terminated string in
 * '*textp'.  Returns 0 or a positive errno value. */
int ps_read_file(const char *path, char **textp, size_t *lenp);

/* Reads 'path' into the caller's buffer (grown as needed). */
int ps_read_file_buf(const char *path, char **bufp, size_t *allocatedp,
                     size_t *lenp);

/* Reads 'path' through '*fdp', which it opens at the first call (and
 * again after an error) and keeps: a file of /proc generates its text
 * anew at each read from offset 0, and the path walk of open() was a sixth
 * of the agent's CPU time.  '*fdp' starts at -1; the caller closes it. */
int ps_reread_file(int *fdp, const char *path, char **bufp,
                   size_t *allocatedp, size_t *lenp);

/* Monotonic time in nanoseconds. */
int64_t ps_monotonic_ns(void);

/* A kept connection to a daemon's unix socket that speaks JSON, one value
 * per message (OVS unixctl, QMP). */
struct ps_jsonconn;

/* Connects to 'path'.  Returns 0 or a positive errno. */
int ps_jsonconn_open(const char *path, struct ps_jsonconn **);
/* Takes the connected socket 'fd' (a socketpair's end in the fuzz
 * targets), which ps_jsonconn_close() closes. */
struct ps_jsonconn *ps_jsonconn_from_fd(int fd);
void ps_jsonconn_close(struct ps_jsonconn *);
/* Sends 'text' ('len' bytes). */
int ps_jsonconn_send(struct ps_jsonconn *, const char *text, size_t len);
/* Receives the next JSON value within 'timeout_ms'.  Returns 0 and the
 * value in '*jsonp', or a positive errno (EPIPE when the peer closed,
 * ETIMEDOUT, EPROTO on bad JSON or a value over 64 MB). */
int ps_jsonconn_recv(struct ps_jsonconn *, int timeout_ms, json_t **jsonp);

/* True if 's' ('len' bytes) may be a VM's name or a component of a
 * guest's element id: 1 to 64 of letters, digits and "_.-", not starting
 * with "." or "-". */
bool ps_guest_name_valid(const char *s, size_t len);

/* Parses a guest's whole answer 'text' ('len' bytes) to request 'seq'
 * (lib/sources/guest-proto.h) and appends its elements, as VM 'vm''s, to
 * 'samples'.  Returns 0, or EPROTO with '*errp' a malloc'd message and
 * nothing appended. */
int ps_guest_parse_answer(const char *text, size_t len, uint32_t seq,
                          const char *vm, struct ps_samples *,
                          char **errp);

/* Looks for the end marker line in the 'len' bytes a guest has sent so
 * far, from '*offsetp' (0 at first; it advances over complete lines).
 * Returns 0 with the answer's length in '*answer_lenp' when the end line
 * is the last thing received, EAGAIN if it has not come yet, EPROTO if
 * bytes follow it or a line does not start with "{" (then
 * ps_guest_parse_answer() of all of it says why), EMSGSIZE if the answer
 * or a line is over the bounds. */
int ps_guest_answer_scan(const char *text, size_t len, size_t *offsetp,
                         size_t *answer_lenp);

/* Finds, in libvirt domain XML 'xml', the unix socket of the virtio
 * <channel> whose target name is 'port'.  Returns it malloc'd, or NULL. */
char *ps_guest_channel_path(const char *xml, const char *port);

#endif /* sources.h */
