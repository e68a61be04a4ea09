/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* libvirt: hypervisor elements of libvirt-managed QEMUs, whose QMP socket
 * libvirt holds (QEMU's QMP takes one client), through
 * virDomainQemuMonitorCommand() with the same query-perfsight; and the
 * names of the VMs' tap devices, from each domain's XML (<interface>
 * <target dev=.../>), which name the tap and vswitch elements. */

#include <config.h>

#ifdef HAVE_LIBVIRT

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include "sources.h"
#include "util.h"

struct libvirt_source {
    const struct ps_source_env *env;
    virConnectPtr conn;
    int64_t retry_ns;           /* Do not connect before this time. */
    unsigned int *ids;          /* Domain ids of the last naming. */
    size_t n_ids;
};

/* libvirt prints its errors by default; the agent logs sources' errors
 * itself. */
static void
quiet_error(void *aux, virErrorPtr error)
{
}

/* Appends the tap devices of the domain XML 'xml' to 'devs' and 'vms'. */
static void
parse_targets(const char *xml, const char *vm, char ***devs, char ***vms,
              size_t *n, size_t *allocated)
{
    const char *p = xml;

    while ((p = strstr(p, "<interface "))) {
        const char *end = strstr(p, "</interface>");
        const char *t = strstr(p, "<target dev=");
        if (!end || !t || t > end) {
            p += strlen("<interface ");
            continue;
        }
        t += strlen("<target dev=");
        char quote = *t++;
        const char *close = strchr(t, quote);
        if ((quote == '\'' || quote == '"') && close && close < end) {
            size_t alloc = *allocated;
            *devs = ps_grow(*devs, &alloc, *n + 1, sizeof **devs);
            *vms = ps_grow(*vms, allocated, *n + 1, sizeof **vms);
            (*devs)[*n] = ps_xasprintf("%.*s", (int) (close - t), t);
            (*vms)[*n] = ps_xstrdup(vm);
            (*n)++;
        }
        p = end;
    }
}

/* Names the tap devices of 'doms' if the set of domains changed. */
static void
name_taps(struct libvirt_source *s, virDomainPtr *doms, int n_doms)
{
    bool same = (size_t) n_doms == s->n_ids;
    for (int i = 0; same && i < n_doms; i++) {
        same = virDomainGetID(doms[i]) == s->ids[i];
    }
    if (same) {
        return;
    }

    char **devs = NULL, **vms = NULL;
    size_t n = 0, allocated = 0;
    free(s->ids);
    s->ids = ps_xcalloc(n_doms ? n_doms : 1, sizeof *s->ids);
    s->n_ids = n_doms;
    for (int i = 0; i < n_doms; i++) {
        s->ids[i] = virDomainGetID(doms[i]);
        char *xml = virDomainGetXMLDesc(doms[i], 0);
        if (xml) {
            parse_targets(xml, virDomainGetName(doms[i]), &devs, &vms, &n,
                          &allocated);
            free(xml);
        }
    }
    ps_names_set_dynamic(s->env->names, "libvirt", devs, vms, n);
    for (size_t i = 0; i < n; i++) {
        free(devs[i]);
        free(vms[i]);
    }
    free(devs);
    free(vms);
}

static int
query_domain(virDomainPtr dom, struct ps_samples *samples)
{
    char *result = NULL;

    if (virDomainQemuMonitorCommand(dom, "{\"execute\":\"query-perfsight\"}",
                                    &result, 0) < 0) {
        return EOPNOTSUPP;
    }
    json_t *reply = json_loads(result, 0, NULL);
    free(result);
    size_t n_before = samples->n;
    int error = (reply
                 ? ps_qmp_parse_perfsight(json_object_get(reply, "return"),
                                          virDomainGetName(dom), samples)
                 : EPROTO);
    if (error) {
        ps_samples_truncate(samples, n_before);
    }
    json_decref(reply);
    return error;
}

static int
libvirt_sample(void *state, struct ps_samples *samples)
{
    struct libvirt_source *s = state;
    int64_t now = ps_monotonic_ns();

    if (!s->env->libvirt_uri) {
        return 0;
    }
    if (!s->conn) {
        if (now < s->retry_ns) {
            return 0;
        }
        s->conn = virConnectOpen(s->env->libvirt_uri);
        if (!s->conn) {
            /* No libvirtd: try again in a while, and sample nothing. */
            s->retry_ns = now + INT64_C(10000000000);
            return 0;
        }
    }

    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(s->conn, &doms,
                                     VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        virConnectClose(s->conn);
        s->conn = NULL;
        s->retry_ns = now + INT64_C(10000000000);
        return EPIPE;
    }

    int retval = 0;
    name_taps(s, doms, n);
    for (int i = 0; i < n; i++) {
        int error = query_domain(doms[i], samples);
        if (error && !retval) {
            retval = error;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return retval;
}

static int
libvirt_init(const struct ps_source_env *env, void **statep)
{
    struct libvirt_source *s = ps_xcalloc(1, sizeof *s);

    s->env = env;
    virSetErrorFunc(NULL, quiet_error);
    *statep = s;
    return 0;
}

static void
libvirt_destroy(void *state)
{
    struct libvirt_source *s = state;
    if (s) {
        if (s->conn) {
            virConnectClose(s->conn);
        }
        free(s->ids);
        free(s);
    }
}

const struct ps_source_class ps_libvirt_class = {
    .name = "libvirt",
    .init = libvirt_init,
    .sample = libvirt_sample,
    .destroy = libvirt_destroy,
};

#endif /* HAVE_LIBVIRT */
