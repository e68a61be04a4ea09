/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* QEMU: hypervisor elements from the PerfSight series' QMP command
 * query-perfsight (patches/qemu, docs/qemu.md), asked on kept connections to
 * the QMP sockets in a configured directory.  A QEMU's QMP socket takes one
 * client, so VMs that libvirt manages are reached through libvirt instead
 * (libvirt.c); this source is for QEMUs started by other means. */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sources.h"
#include "util.h"

static uint64_t
get_u64(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) > 0
           ? (uint64_t) json_integer_value(v) : 0;
}

int
ps_qmp_parse_perfsight(const json_t *reply, const char *vm,
                       struct ps_samples *samples)
{
    size_t i;
    const json_t *el;

    if (!json_is_array(reply)) {
        return EINVAL;
    }
    json_array_foreach ((json_t *) reply, i, el) {
        const char *element = json_string_value(json_object_get(el,
                                                                "element"));
        const char *dir = json_string_value(json_object_get(el,
                                                            "direction"));
        const char *el_vm = json_string_value(json_object_get(el, "vm"));
        const json_t *reasons = json_object_get(el, "drops-by-reason");
        if (!element || !element[0] || !dir) {
            return EINVAL;
        }

        struct ps_sample *e = ps_samples_add(samples, PS_HYPERVISOR, "%s",
                                             element);
        ps_sample_set_vm(e, el_vm ? el_vm : vm);
        ps_sample_set(e, PS_IN_PACKETS, get_u64(el, "in-packets"));
        ps_sample_set(e, PS_IN_BYTES, get_u64(el, "in-bytes"));
        ps_sample_set(e, PS_OUT_PACKETS, get_u64(el, "out-packets"));
        ps_sample_set(e, PS_OUT_BYTES, get_u64(el, "out-bytes"));
        ps_sample_set(e, PS_DROPS, get_u64(el, "drops"));
        ps_sample_set(e, PS_IN_TIME_NS, get_u64(el, "in-time-ns"));
        ps_sample_set(e, PS_OUT_TIME_NS, get_u64(el, "out-time-ns"));

        size_t j;
        const json_t *r;
        json_array_foreach ((json_t *) reasons, j, r) {
            const char *reason = json_string_value(json_object_get(r,
                                                                   "reason"));
            if (reason && reason[0]) {
                char *name = ps_xstrdup(reason);
                for (char *p = name; *p; p++) {
                    if (*p == '-') {
                        *p = '_';
                    }
                }
                ps_sample_add_reason(e, name, get_u64(r, "packets"));
                free(name);
            }
        }

        ps_sample_add_extra(e, "blocked_time_ns",
                            get_u64(el, "blocked-time-ns"));
        ps_sample_add_extra(e, "blocked_count", get_u64(el, "blocked-count"));
        if (!strcmp(dir, "rx")) {
            ps_sample_add_extra(e, "no_buffer_time_ns",
                                get_u64(el, "no-buffer-time-ns"));
        } else {
            ps_sample_add_extra(e, "queued", get_u64(el, "queued"));
        }
    }
    return 0;
}

/* One QMP socket. */
struct qmp_vm {
    char *path;
    char *vm;                   /* Socket name without ".sock" or ".qmp". */
    struct ps_jsonconn *conn;
    int64_t retry_ns;           /* Do not connect before this time. */
    bool seen;                  /* Found by the last scan. */
};

struct qmp_source {
    const struct ps_source_env *env;
    struct qmp_vm *vms;
    size_t n_vms;
    int64_t last_scan_ns;
    unsigned int id;
};

/* Receives messages until one that answers the command with 'id' (or,
 * when 'id' is 0, any answer), skipping events.  Returns 0 with the
 * "return" member in '*retp' (owned by the caller). */
static int
qmp_answer(struct qmp_source *s, struct qmp_vm *v, unsigned int id,
           json_t **retp)
{
    *retp = NULL;
    for (;;) {
        json_t *msg;
        int error = ps_jsonconn_recv(v->conn, s->env->timeout_ms, &msg);
        if (error) {
            return error;
        }
        const json_t *jid = json_object_get(msg, "id");
        if (json_object_get(msg, "event")
            || (id && (!json_is_integer(jid)
                       || json_integer_value(jid) != id))) {
            json_decref(msg);
            continue;
        }
        json_t *ret = json_object_get(msg, "return");
        if (ret) {
            *retp = json_incref(ret);
            json_decref(msg);
            return 0;
        }
        bool is_error = json_object_get(msg, "error") != NULL;
        json_decref(msg);
        return is_error ? EOPNOTSUPP : EPROTO;
    }
}

static int
qmp_connect(struct qmp_source *s, struct qmp_vm *v)
{
    json_t *greeting, *ret;
    int error = ps_jsonconn_open(v->path, &v->conn);
    if (error) {
        return error;
    }
    error = ps_jsonconn_recv(v->conn, s->env->timeout_ms, &greeting);
    if (error) {
        return error;
    }
    bool ok = json_object_get(greeting, "QMP") != NULL;
    json_decref(greeting);
    if (!ok) {
        return EPROTO;
    }
    static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";
    error = ps_jsonconn_send(v->conn, caps, strlen(caps));
    if (!error) {
        error = qmp_answer(s, v, 0, &ret);
        json_decref(ret);
    }
    return error;
}

static int
qmp_ask(struct qmp_source *s, struct qmp_vm *v, struct ps_samples *samples)
{
    unsigned int id = ++s->id;
    char request[96];
    int len = snprintf(request, sizeof request,
                       "{\"execute\":\"query-perfsight\",\"id\":%u}\n", id);
    json_t *ret;
    int error = ps_jsonconn_send(v->conn, request, len);
    if (!error) {
        error = qmp_answer(s, v, id, &ret);
    }
    if (!error) {
        size_t n_before = samples->n;
        error = ps_qmp_parse_perfsight(ret, v->vm, samples);
        if (error) {
            ps_samples_truncate(samples, n_before);
        }
        json_decref(ret);
    }
    return error;
}

static void
vm_disconnect(struct qmp_vm *v, int64_t retry_ns)
{
    ps_jsonconn_close(v->conn);
    v->conn = NULL;
    v->retry_ns = retry_ns;
}

/* Finds the QMP sockets again, at most once a second. */
static void
scan(struct qmp_source *s, int64_t now)
{
    if (s->last_scan_ns && now - s->last_scan_ns < 1000000000) {
        return;
    }
    s->last_scan_ns = now;

    DIR *d = opendir(s->env->qmp_dir);
    if (!d) {
        return;
    }
    for (size_t i = 0; i < s->n_vms; i++) {
        s->vms[i].seen = false;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char *path = ps_xasprintf("%s/%s", s->env->qmp_dir, de->d_name);
        struct stat st;
        if (de->d_name[0] == '.' || stat(path, &st) || !S_ISSOCK(st.st_mode)) {
            free(path);
            continue;
        }
        size_t i;
        for (i = 0; i < s->n_vms; i++) {
            if (!strcmp(s->vms[i].path, path)) {
                break;
            }
        }
        if (i == s->n_vms) {
            s->vms = ps_xrealloc(s->vms, (s->n_vms + 1) * sizeof *s->vms);
            memset(&s->vms[i], 0, sizeof s->vms[i]);
            s->vms[i].path = path;
            s->vms[i].vm = ps_xstrdup(de->d_name);
            char *dot = strrchr(s->vms[i].vm, '.');
            if (dot && (!strcmp(dot, ".sock") || !strcmp(dot, ".qmp"))) {
                *dot = '\0';
            }
            s->n_vms++;
        } else {
            free(path);
        }
        s->vms[i].seen = true;
    }
    closedir(d);

    size_t n = 0;
    for (size_t i = 0; i < s->n_vms; i++) {
        if (s->vms[i].seen) {
            s->vms[n++] = s->vms[i];
        } else {
            vm_disconnect(&s->vms[i], 0);
            free(s->vms[i].path);
            free(s->vms[i].vm);
        }
    }
    s->n_vms = n;
}

static int
qmp_sample(void *state, struct ps_samples *samples)
{
    struct qmp_source *s = state;
    int64_t now = ps_monotonic_ns();
    int retval = 0;

    if (!s->env->qmp_dir) {
        return 0;
    }
    scan(s, now);
    for (size_t i = 0; i < s->n_vms; i++) {
        struct qmp_vm *v = &s->vms[i];
        int error = 0;

        if (!v->conn) {
            if (now < v->retry_ns) {
                continue;
            }
            error = qmp_connect(s, v);
        }
        if (!error) {
            error = qmp_ask(s, v, samples);
            if (error == EPIPE || error == ECONNRESET) {
                /* QEMU restarted: once more on a new connection. */
                vm_disconnect(v, 0);
                error = qmp_connect(s, v);
                if (!error) {
                    error = qmp_ask(s, v, samples);
                }
            }
        }
        if (error) {
            /* A socket that another client holds, or a QEMU without the
             * series: leave it for a while rather than wait on it at each
             * sample. */
            vm_disconnect(v, now + INT64_C(10000000000));
            if (!retval) {
                retval = error;
            }
        }
    }
    return retval;
}

static int
qmp_init(const struct ps_source_env *env, void **statep)
{
    struct qmp_source *s = ps_xcalloc(1, sizeof *s);
    s->env = env;
    *statep = s;
    return 0;
}

static void
qmp_destroy(void *state)
{
    struct qmp_source *s = state;
    if (s) {
        for (size_t i = 0; i < s->n_vms; i++) {
            vm_disconnect(&s->vms[i], 0);
            free(s->vms[i].path);
            free(s->vms[i].vm);
        }
        free(s->vms);
        free(s);
    }
}

const struct ps_source_class ps_qmp_class = {
    .name = "qmp",
    .init = qmp_init,
    .sample = qmp_sample,
    .destroy = qmp_destroy,
};
