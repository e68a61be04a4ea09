/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Open vSwitch: vswitch elements from the PerfSight series' unixctl command
 * "perfsight/show --json" (patches/ovs), asked on a kept connection to
 * ovs-vswitchd's unixctl socket, which costs about 0.05 ms where running
 * ovs-appctl costs 4 to 14 ms.  Without a running ovs-vswitchd the source
 * samples nothing.  The VMs of the ports come from the Interface table's
 * external_ids (vm-uuid, vm-id), read from ovsdb-server now and then. */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sources.h"
#include "util.h"

int
ps_ovs_parse_show(const char *text, struct ps_samples *samples, char **errp)
{
    json_error_t jerror;
    json_t *array = json_loads(text, 0, &jerror);
    size_t n_before = samples->n;
    size_t i;
    json_t *value;

    *errp = NULL;
    if (!array || !json_is_array(array)) {
        *errp = (array
                 ? ps_xstrdup("perfsight/show: not a JSON array")
                 : ps_xasprintf("perfsight/show: %s", jerror.text));
        json_decref(array);
        return EINVAL;
    }
    json_array_foreach (array, i, value) {
        struct ps_record r;
        ps_record_init(&r);
        char *error = ps_record_from_json(value, &r, NULL, NULL);
        if (error) {
            *errp = ps_xasprintf("perfsight/show: %s", error);
            free(error);
            ps_samples_truncate(samples, n_before);
            json_decref(array);
            return EINVAL;
        }
        /* The agent's clock and host name, as for every other element. */
        ps_samples_take(samples, &r);
    }
    json_decref(array);
    return 0;
}

struct ovs_source {
    const struct ps_source_env *env;
    struct ps_jsonconn *conn;
    unsigned int id;
    char *buf;
    size_t allocated;
    int64_t names_ns;           /* When the VMs of ports were last read. */
    int64_t retry_ns;           /* No ovs-vswitchd: look again then. */
};

/* The VM of an Interface row's "external_ids" (["map", [[k, v], ...]]):
 * vm-uuid as OpenStack sets it, vm-id as libvirt does. */
static const char *
external_vm(const json_t *external_ids)
{
    const json_t *pairs = json_array_get(external_ids, 1);
    const char *vm = NULL;
    size_t i;
    json_t *pair;

    json_array_foreach ((json_t *) pairs, i, pair) {
        const char *key = json_string_value(json_array_get(pair, 0));
        const char *value = json_string_value(json_array_get(pair, 1));
        if (key && value && value[0]) {
            if (!strcmp(key, "vm-uuid")) {
                return value;
            } else if (!strcmp(key, "vm-id")) {
                vm = value;
            }
        }
    }
    return vm;
}

int
ps_ovs_parse_interfaces(const json_t *reply, struct ps_names *names)
{
    const json_t *rows = json_object_get(json_array_get(
                                             json_object_get(reply,
                                                             "result"), 0),
                                         "rows");
    char **devs = NULL, **vms = NULL;
    size_t n = 0, allocated = 0;
    size_t i;
    json_t *row;

    if (!json_is_array(rows)) {
        return EPROTO;
    }
    json_array_foreach ((json_t *) rows, i, row) {
        const char *name = json_string_value(json_object_get(row, "name"));
        const char *vm = external_vm(json_object_get(row, "external_ids"));
        if (name && vm) {
            size_t alloc = allocated;
            devs = ps_grow(devs, &alloc, n + 1, sizeof *devs);
            vms = ps_grow(vms, &allocated, n + 1, sizeof *vms);
            devs[n] = ps_xstrdup(name);
            vms[n] = ps_xstrdup(vm);
            n++;
        }
    }
    ps_names_set_dynamic(names, "ovsdb", devs, vms, n);
    for (i = 0; i < n; i++) {
        free(devs[i]);
        free(vms[i]);
    }
    free(devs);
    free(vms);
    return 0;
}

/* Reads the VMs of the switch's interfaces from ovsdb-server (its
 * db.sock in the run directory), at most every 5 seconds.  A short-lived
 * connection: this is rare, and ovsdb-server is not ovs-vswitchd. */
static void
read_port_vms(struct ovs_source *s)
{
    int64_t now = ps_monotonic_ns();
    if (s->names_ns && now - s->names_ns < INT64_C(5000000000)) {
        return;
    }
    s->names_ns = now;

    char *path = ps_xasprintf("%s/db.sock", s->env->ovs_rundir);
    struct ps_jsonconn *db;
    int error = ps_jsonconn_open(path, &db);
    free(path);
    if (error) {
        return;
    }
    static const char request[] =
        "{\"method\":\"transact\",\"id\":1,\"params\":[\"Open_vSwitch\","
        "{\"op\":\"select\",\"table\":\"Interface\",\"where\":[],"
        "\"columns\":[\"name\",\"external_ids\"]}]}";
    if (!ps_jsonconn_send(db, request, strlen(request))) {
        for (;;) {
            json_t *reply;
            if (ps_jsonconn_recv(db, s->env->timeout_ms, &reply)) {
                break;
            }
            json_t *id = json_object_get(reply, "id");
            if (json_is_integer(id) && json_integer_value(id) == 1) {
                ps_ovs_parse_interfaces(reply, s->env->names);
                json_decref(reply);
                break;
            }
            json_decref(reply);     /* A notification or an echo. */
        }
    }
    ps_jsonconn_close(db);
}

/* Returns the path of ovs-vswitchd's unixctl socket in a malloc'd string, or
 * NULL if ovs-vswitchd does not seem to run. */
static char *
socket_path(struct ovs_source *s)
{
    if (s->env->ovs_socket) {
        return ps_xstrdup(s->env->ovs_socket);
    }
    char *pidfile = ps_xasprintf("%s/ovs-vswitchd.pid", s->env->ovs_rundir);
    int error = ps_read_file_buf(pidfile, &s->buf, &s->allocated, NULL);
    free(pidfile);
    if (error) {
        return NULL;
    }
    long pid = strtol(s->buf, NULL, 10);
    return (pid > 0
            ? ps_xasprintf("%s/ovs-vswitchd.%ld.ctl", s->env->ovs_rundir, pid)
            : NULL);
}

/* Asks for "perfsight/show --json" and appends its records. */
static int
ask(struct ovs_source *s, struct ps_samples *samples)
{
    unsigned int id = ++s->id;
    char request[128];
    int len = snprintf(request, sizeof request,
                       "{\"method\":\"perfsight/show\","
                       "\"params\":[\"--json\"],\"id\":%u}", id);
    int error = ps_jsonconn_send(s->conn, request, len);
    if (error) {
        return error;
    }

    for (;;) {
        json_t *reply;
        error = ps_jsonconn_recv(s->conn, s->env->timeout_ms, &reply);
        if (error) {
            return error;
        }
        json_t *jid = json_object_get(reply, "id");
        if (!json_is_integer(jid) || json_integer_value(jid) != id) {
            json_decref(reply);
            continue;           /* A stale reply after a timeout. */
        }
        const json_t *result = json_object_get(reply, "result");
        const json_t *jerror = json_object_get(reply, "error");
        if (jerror && !json_is_null(jerror)) {
            /* An unpatched ovs-vswitchd does not know the command. */
            json_decref(reply);
            return EOPNOTSUPP;
        }
        if (!json_is_string(result)) {
            json_decref(reply);
            return EPROTO;
        }
        char *msg;
        error = ps_ovs_parse_show(json_string_value(result), samples, &msg);
        free(msg);
        json_decref(reply);
        return error ? EPROTO : 0;
    }
}

static int
ovs_sample(void *state, struct ps_samples *samples)
{
    struct ovs_source *s = state;

    /* A kept connection fails once when ovs-vswitchd restarts: then
     * connect again, once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->conn) {
            /* Without ovs-vswitchd, look for it again once a second, not
             * at every sample. */
            int64_t now = ps_monotonic_ns();
            if (now < s->retry_ns) {
                return 0;
            }
            char *path = socket_path(s);
            int error = path ? ps_jsonconn_open(path, &s->conn) : ENOENT;
            free(path);
            if (error) {
                s->retry_ns = now + INT64_C(1000000000);
                return error == ENOENT || error == ECONNREFUSED ? 0 : error;
            }
        }
        int error = ask(s, samples);
        if (!error || error == EOPNOTSUPP) {
            if (!error && s->env->names) {
                read_port_vms(s);
            }
            return error;
        }
        ps_jsonconn_close(s->conn);
        s->conn = NULL;
        if (error != EPIPE && error != ECONNRESET) {
            return error;
        }
    }
    return EPIPE;
}

static int
ovs_init(const struct ps_source_env *env, void **statep)
{
    struct ovs_source *s = ps_xcalloc(1, sizeof *s);
    s->env = env;
    *statep = s;
    return 0;
}

static void
ovs_destroy(void *state)
{
    struct ovs_source *s = state;
    if (s) {
        ps_jsonconn_close(s->conn);
        free(s->buf);
        free(s);
    }
}

const struct ps_source_class ps_ovs_class = {
    .name = "ovs",
    .init = ovs_init,
    .sample = ovs_sample,
    .destroy = ovs_destroy,
};
