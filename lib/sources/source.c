/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/source.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "sources.h"
#include "util.h"

/* The built-in classes, in the order the agent samples them.  libvirt comes
 * before the sources whose elements it names, though naming happens after
 * the whole round anyway (ps_names_apply()). */
const struct ps_source_class *const ps_source_classes[] = {
#ifdef HAVE_LIBVIRT
    &ps_libvirt_class,
#endif
    &ps_netlink_class,
    &ps_softnet_class,
    &ps_cpu_class,
    &ps_ovs_class,
    &ps_qmp_class,
    &ps_middlebox_class,
    &ps_tcpinfo_class,
    &ps_guest_class,
    NULL,
};

const struct ps_source_class *
ps_source_class_find(const char *name)
{
    for (size_t i = 0; ps_source_classes[i]; i++) {
        if (!strcmp(ps_source_classes[i]->name, name)) {
            return ps_source_classes[i];
        }
    }
    return NULL;
}

struct ps_source {
    const struct ps_source_class *class;
    void *state;
};

int
ps_source_create(const struct ps_source_class *class,
                 const struct ps_source_env *env, struct ps_source **sourcep)
{
    void *state = NULL;
    int error = class->init(env, &state);
    if (error) {
        *sourcep = NULL;
        return error;
    }
    struct ps_source *source = ps_xmalloc(sizeof *source);
    source->class = class;
    source->state = state;
    *sourcep = source;
    return 0;
}

void
ps_source_destroy(struct ps_source *source)
{
    if (source) {
        source->class->destroy(source->state);
        free(source);
    }
}

const char *
ps_source_name(const struct ps_source *source)
{
    return source->class->name;
}

int
ps_source_sample(struct ps_source *source, struct ps_samples *samples)
{
    return source->class->sample(source->state, samples);
}

/* Samples.
 *
 * A round of samples allocates nothing once it has run before: every
 * string and every array of a sample comes from the round's arena, a list
 * of chunks that ps_samples_clear() rewinds and keeps.  (A malloc() and
 * free() per string made up half of a 256-device snapshot.) */

#define ARENA_CHUNK 65536

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;                /* Bytes of 'data'. */
    char data[];
};

struct ps_arena {
    struct arena_chunk *first;
    struct arena_chunk *cur;    /* Chunk being filled. */
    size_t used;                /* Bytes used of 'cur'. */
};

static void *
arena_alloc(struct ps_samples *samples, size_t size)
{
    struct ps_arena *a = samples->arena;

    if (!a) {
        a = samples->arena = ps_xcalloc(1, sizeof *a);
    }
    size = (size + 15) & ~(size_t) 15;
    while (!a->cur || a->used + size > a->cur->size) {
        struct arena_chunk *next = a->cur ? a->cur->next : a->first;
        if (next && next->size < size) {
            /* Too small for this one: skip it (it stays for later). */
            a->cur = next;
            a->used = next->size;
            continue;
        }
        if (!next) {
            size_t csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;
            next = ps_xmalloc(sizeof *next + csize);
            next->next = NULL;
            next->size = csize;
            if (a->cur) {
                a->cur->next = next;
            } else {
                a->first = next;
            }
        }
        a->cur = next;
        a->used = 0;
    }
    void *p = a->cur->data + a->used;
    a->used += size;
    return p;
}

static char *
arena_strdup(struct ps_samples *samples, const char *s)
{
    size_t len = strlen(s) + 1;
    return memcpy(arena_alloc(samples, len), s, len);
}

static void
arena_destroy(struct ps_arena *a)
{
    if (a) {
        struct arena_chunk *c = a->first;
        while (c) {
            struct arena_chunk *next = c->next;
            free(c);
            c = next;
        }
        free(a);
    }
}

void
ps_samples_init(struct ps_samples *samples, const char *host, int64_t ts_ns)
{
    memset(samples, 0, sizeof *samples);
    samples->host = host;
    samples->ts_ns = ts_ns;
}

void
ps_samples_truncate(struct ps_samples *samples, size_t n)
{
    /* The arena's memory of the dropped samples comes back at the next
     * clear. */
    if (samples->n > n) {
        samples->n = n;
    }
}

void
ps_samples_clear(struct ps_samples *samples)
{
    samples->n = 0;
    samples->host_copy = NULL;
    if (samples->arena) {
        samples->arena->cur = samples->arena->first;
        samples->arena->used = 0;
    }
}

void
ps_samples_destroy(struct ps_samples *samples)
{
    if (samples) {
        ps_samples_clear(samples);
        free(samples->s);
        arena_destroy(samples->arena);
        samples->s = NULL;
        samples->arena = NULL;
        samples->allocated = 0;
    }
}

static struct ps_sample *
samples_append(struct ps_samples *samples)
{
    if (samples->n >= samples->allocated) {
        samples->s = ps_grow(samples->s, &samples->allocated,
                             samples->n + 1, sizeof *samples->s);
    }
    struct ps_sample *s = &samples->s[samples->n++];
    memset(s, 0, sizeof *s);
    s->record.ts_ns = samples->ts_ns;
    if (!samples->host_copy) {
        samples->host_copy = arena_strdup(samples, samples->host);
    }
    s->record.host = samples->host_copy;
    return s;
}

struct ps_sample *
ps_samples_add(struct ps_samples *samples, enum ps_element_type type,
               const char *format, ...)
{
    struct ps_sample *s = samples_append(samples);
    char buf[256];
    va_list args;

    va_start(args, format);
    int len = vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    if (len < (int) sizeof buf) {
        s->record.element = arena_strdup(samples, buf);
    } else {
        s->record.element = arena_alloc(samples, len + 1);
        va_start(args, format);
        vsnprintf(s->record.element, len + 1, format, args);
        va_end(args);
    }
    s->record.type = type;
    s->samples = samples;
    return s;
}

struct ps_sample *
ps_samples_add_id(struct ps_samples *samples, enum ps_element_type type,
                  const char *id)
{
    struct ps_sample *s = samples_append(samples);

    s->record.element = arena_strdup(samples, id);
    s->record.type = type;
    s->samples = samples;
    return s;
}

struct ps_sample *
ps_samples_add_static(struct ps_samples *samples, enum ps_element_type type,
                      const char *id)
{
    struct ps_sample *s = samples_append(samples);

    /* Never written nor freed: the record is the round's. */
    s->record.element = (char *) id;
    s->record.type = type;
    s->samples = samples;
    return s;
}

struct ps_sample *
ps_samples_take(struct ps_samples *samples, struct ps_record *r)
{
    struct ps_sample *s = samples_append(samples);
    struct ps_record *dst = &s->record;

    s->samples = samples;
    dst->element = arena_strdup(samples, r->element);
    dst->type = r->type;
    dst->vm = r->vm ? arena_strdup(samples, r->vm) : NULL;
    dst->tenant = r->tenant ? arena_strdup(samples, r->tenant) : NULL;
    memcpy(dst->counters, r->counters, sizeof dst->counters);
    dst->has_counters = r->has_counters;
    memcpy(dst->gauges, r->gauges, sizeof dst->gauges);
    dst->has_gauges = r->has_gauges;
    for (size_t i = 0; i < r->n_reasons; i++) {
        ps_sample_add_reason(s, r->reasons[i].name, r->reasons[i].value);
    }
    for (size_t i = 0; i < r->n_peers; i++) {
        char *name = ps_xasprintf("%s@%s",
                                  ps_counter_name(r->peers[i].counter),
                                  r->peers[i].peer);
        ps_sample_add_extra(s, arena_strdup(samples, name),
                            r->peers[i].value);
        free(name);
    }
    ps_record_destroy(r);
    return s;
}

/* Makes room for one more element in an arena array of 'n' elements of
 * 'size' bytes whose capacity is '*allocated'. */
static void *
arena_grow(struct ps_samples *samples, void *array, size_t n,
           size_t *allocated, size_t size)
{
    if (n < *allocated) {
        return array;
    }
    size_t new_allocated = *allocated ? *allocated * 2 : 8;
    void *new_array = arena_alloc(samples, new_allocated * size);
    if (n) {
        memcpy(new_array, array, n * size);
    }
    *allocated = new_allocated;
    return new_array;
}

void
ps_sample_add_reason(struct ps_sample *s, const char *reason, uint64_t value)
{
    struct ps_record *r = &s->record;
    size_t i;

    /* A reason once per record: a source may map two names to one (QMP's
     * "queue-full" and "queue_full"), whose drops add up. */
    for (i = 0; i < r->n_reasons; i++) {
        if (!strcmp(r->reasons[i].name, reason)) {
            uint64_t sum = r->reasons[i].value + value;
            r->reasons[i].value = sum < value ? UINT64_MAX : sum;
            return;
        }
    }
    r->reasons = arena_grow(s->samples, r->reasons, r->n_reasons,
                            &s->allocated_reasons, sizeof *r->reasons);
    /* Keep them sorted by name, as the readers do. */
    for (i = r->n_reasons; i > 0 && strcmp(r->reasons[i - 1].name,
                                           reason) > 0; i--) {
        r->reasons[i] = r->reasons[i - 1];
    }
    r->reasons[i].name = arena_strdup(s->samples, reason);
    r->reasons[i].value = value;
    r->n_reasons++;
}

void
ps_sample_set_reasons(struct ps_sample *s, const char *const names[],
                      const uint64_t values[], size_t n)
{
    struct ps_record *r = &s->record;

    r->reasons = arena_alloc(s->samples, n * sizeof *r->reasons);
    s->allocated_reasons = n;
    for (size_t i = 0; i < n; i++) {
        /* Never written nor freed: the record is the round's. */
        r->reasons[i].name = (char *) names[i];
        r->reasons[i].value = values[i];
    }
    r->n_reasons = n;
}

void
ps_sample_add_extra(struct ps_sample *s, const char *name, uint64_t value)
{
    s->extra = arena_grow(s->samples, s->extra, s->n_extra,
                          &s->allocated_extra, sizeof *s->extra);
    /* Names are string constants of the sources or arena copies. */
    s->extra[s->n_extra].name = name;
    s->extra[s->n_extra].value = value;
    s->n_extra++;
}

void
ps_sample_add_extra_copy(struct ps_sample *s, const char *name,
                         uint64_t value)
{
    ps_sample_add_extra(s, arena_strdup(s->samples, name), value);
}

void
ps_sample_set_vm(struct ps_sample *s, const char *vm)
{
    s->record.vm = vm ? arena_strdup(s->samples, vm) : NULL;
}

void
ps_sample_set_tenant(struct ps_sample *s, const char *tenant)
{
    s->record.tenant = tenant ? arena_strdup(s->samples, tenant) : NULL;
}

json_t *
ps_sample_to_json(const struct ps_sample *s)
{
    json_t *obj = ps_record_to_json(&s->record);
    json_t *attrs = json_object_get(obj, "attrs");

    for (size_t i = 0; i < s->n_extra; i++) {
        json_object_set_new(attrs, s->extra[i].name,
                            json_integer(s->extra[i].value
                                         & INT64_MAX));
    }
    return obj;
}

/* Names. */

/* A map from string to string. */
struct strmap {
    struct ps_index *index;
    char **keys;
    char **values;
    size_t n, allocated;
};

static void
strmap_init(struct strmap *map)
{
    memset(map, 0, sizeof *map);
    map->index = ps_index_create();
}

static void
strmap_destroy(struct strmap *map)
{
    for (size_t i = 0; i < map->n; i++) {
        free(map->keys[i]);
        free(map->values[i]);
    }
    free(map->keys);
    free(map->values);
    ps_index_destroy(map->index);
    memset(map, 0, sizeof *map);
}

static const char *
strmap_get(const struct strmap *map, const char *key)
{
    size_t i;
    return (map->index && ps_index_find(map->index, key, strlen(key), &i)
            ? map->values[i] : NULL);
}

static void
strmap_put(struct strmap *map, const char *key, const char *value)
{
    size_t i;
    if (ps_index_find(map->index, key, strlen(key), &i)) {
        free(map->values[i]);
        map->values[i] = ps_xstrdup(value);
        return;
    }
    size_t allocated = map->allocated;
    map->keys = ps_grow(map->keys, &allocated, map->n + 1,
                        sizeof *map->keys);
    map->values = ps_grow(map->values, &map->allocated, map->n + 1,
                          sizeof *map->values);
    map->keys[map->n] = ps_xstrdup(key);
    map->values[map->n] = ps_xstrdup(value);
    ps_index_insert(map->index, key, strlen(key), map->n);
    map->n++;
}

/* The device → VM pairs one source discovered. */
struct names_origin {
    char *origin;
    struct strmap vms;
};

struct ps_names {
    struct strmap static_vms;   /* From the configuration file. */
    struct strmap tenants;      /* VM → tenant. */
    struct names_origin *origins;
    size_t n_origins;
};

struct ps_names *
ps_names_create(void)
{
    struct ps_names *names = ps_xcalloc(1, sizeof *names);
    strmap_init(&names->static_vms);
    strmap_init(&names->tenants);
    return names;
}

void
ps_names_destroy(struct ps_names *names)
{
    if (!names) {
        return;
    }
    strmap_destroy(&names->static_vms);
    strmap_destroy(&names->tenants);
    for (size_t i = 0; i < names->n_origins; i++) {
        free(names->origins[i].origin);
        strmap_destroy(&names->origins[i].vms);
    }
    free(names->origins);
    free(names);
}

void
ps_names_set_static_vm(struct ps_names *names, const char *device,
                       const char *vm)
{
    strmap_put(&names->static_vms, device, vm);
}

void
ps_names_set_tenant(struct ps_names *names, const char *vm,
                    const char *tenant)
{
    strmap_put(&names->tenants, vm, tenant);
}

void
ps_names_set_dynamic(struct ps_names *names, const char *origin,
                     char **devices, char **vms, size_t n)
{
    struct names_origin *o = NULL;

    for (size_t i = 0; i < names->n_origins; i++) {
        if (!strcmp(names->origins[i].origin, origin)) {
            o = &names->origins[i];
            strmap_destroy(&o->vms);
            break;
        }
    }
    if (!o) {
        names->origins = ps_xrealloc(names->origins,
                                     (names->n_origins + 1)
                                     * sizeof *names->origins);
        o = &names->origins[names->n_origins++];
        o->origin = ps_xstrdup(origin);
    }
    strmap_init(&o->vms);
    for (size_t i = 0; i < n; i++) {
        strmap_put(&o->vms, devices[i], vms[i]);
    }
}

const char *
ps_names_vm(const struct ps_names *names, const char *device)
{
    const char *vm = strmap_get(&names->static_vms, device);
    for (size_t i = 0; !vm && i < names->n_origins; i++) {
        vm = strmap_get(&names->origins[i].vms, device);
    }
    return vm;
}

const char *
ps_names_tenant(const struct ps_names *names, const char *vm)
{
    return strmap_get(&names->tenants, vm);
}

/* Copies the 'k'th ':'-separated component of 'id' into 'buf'.  Returns
 * false if there is none or it does not fit. */
static bool
id_component(const char *id, int k, char *buf, size_t size)
{
    for (int i = 0; i < k; i++) {
        id = strchr(id, ':');
        if (!id) {
            return false;
        }
        id++;
    }
    size_t len = strcspn(id, ":");
    if (len >= size) {
        return false;
    }
    memcpy(buf, id, len);
    buf[len] = '\0';
    return true;
}

void
ps_names_apply(const struct ps_names *names, struct ps_samples *samples)
{
    for (size_t i = 0; i < samples->n; i++) {
        struct ps_record *r = &samples->s[i].record;
        char device[256];

        if (!r->vm) {
            int k = (r->type == PS_TAP ? 1
                     : r->type == PS_VSWITCH ? 2
                     : -1);
            if (k >= 0 && id_component(r->element, k, device,
                                       sizeof device)) {
                const char *vm = ps_names_vm(names, device);
                if (vm) {
                    ps_sample_set_vm(&samples->s[i], vm);
                }
            }
        }
        if (r->vm && !r->tenant) {
            const char *tenant = ps_names_tenant(names, r->vm);
            if (tenant) {
                ps_sample_set_tenant(&samples->s[i], tenant);
            }
        }
    }
}

/* Device classification. */

struct netclass_rule {
    char *pattern;
    enum ps_netclass_kind kind;
};

struct ps_netclass {
    struct netclass_rule *rules;
    size_t n;
};

struct ps_netclass *
ps_netclass_create(void)
{
    return ps_xcalloc(1, sizeof(struct ps_netclass));
}

void
ps_netclass_destroy(struct ps_netclass *nc)
{
    if (nc) {
        for (size_t i = 0; i < nc->n; i++) {
            free(nc->rules[i].pattern);
        }
        free(nc->rules);
        free(nc);
    }
}

void
ps_netclass_add(struct ps_netclass *nc, const char *pattern,
                enum ps_netclass_kind kind)
{
    nc->rules = ps_xrealloc(nc->rules, (nc->n + 1) * sizeof *nc->rules);
    nc->rules[nc->n].pattern = ps_xstrdup(pattern);
    nc->rules[nc->n].kind = kind;
    nc->n++;
}

bool
ps_netclass_kind_from_name(const char *name, enum ps_netclass_kind *kind)
{
    static const char *const names[] = {
        [PS_NETCLASS_AUTO] = "auto",
        [PS_NETCLASS_PNIC] = "pnic",
        [PS_NETCLASS_TAP] = "tap",
        [PS_NETCLASS_IGNORE] = "ignore",
    };
    for (size_t i = 0; i < PS_ARRAY_SIZE(names); i++) {
        if (!strcmp(name, names[i])) {
            *kind = i;
            return true;
        }
    }
    return false;
}

enum ps_netclass_kind
ps_netclass_lookup(const struct ps_netclass *nc, const char *device)
{
    for (size_t i = 0; nc && i < nc->n; i++) {
        if (!fnmatch(nc->rules[i].pattern, device, 0)) {
            return nc->rules[i].kind;
        }
    }
    return PS_NETCLASS_AUTO;
}

/* Files and time. */

int
ps_read_file_buf(const char *path, char **bufp, size_t *allocatedp,
                 size_t *lenp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    size_t len = 0;
    for (;;) {
        if (*allocatedp < len + 4097) {
            *bufp = ps_grow(*bufp, allocatedp, len + 4097, 1);
        }
        ssize_t n = read(fd, *bufp + len, *allocatedp - len - 1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int error = errno;
            close(fd);
            return error;
        } else if (!n) {
            break;
        }
        len += n;
    }
    close(fd);
    (*bufp)[len] = '\0';
    if (lenp) {
        *lenp = len;
    }
    return 0;
}

int
ps_reread_file(int *fdp, const char *path, char **bufp, size_t *allocatedp,
               size_t *lenp)
{
    if (*fdp < 0) {
        *fdp = open(path, O_RDONLY | O_CLOEXEC);
        if (*fdp < 0) {
            return errno;
        }
    }
    size_t len = 0;
    for (;;) {
        if (*allocatedp < len + 4097) {
            *bufp = ps_grow(*bufp, allocatedp, len + 4097, 1);
        }
        ssize_t n = pread(*fdp, *bufp + len, *allocatedp - len - 1, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int error = errno;
            close(*fdp);
            *fdp = -1;
            return error;
        } else if (!n) {
            break;
        }
        len += n;
    }
    (*bufp)[len] = '\0';
    if (lenp) {
        *lenp = len;
    }
    return 0;
}

int
ps_read_file(const char *path, char **textp, size_t *lenp)
{
    size_t allocated = 0;
    *textp = NULL;
    int error = ps_read_file_buf(path, textp, &allocated, lenp);
    if (error) {
        free(*textp);
        *textp = NULL;
    }
    return error;
}

int64_t
ps_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

/* JSON over a unix socket. */

#define JSONCONN_MAX (64 * 1024 * 1024)

struct ps_jsonconn {
    int fd;
    char *buf;                  /* Received, not yet parsed. */
    size_t len, allocated;
};

int
ps_jsonconn_open(const char *path, struct ps_jsonconn **connp)
{
    struct sockaddr_un sun;

    *connp = NULL;
    if (strlen(path) >= sizeof sun.sun_path) {
        return ENAMETOOLONG;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        int error = errno;
        close(fd);
        return error;
    }
    *connp = ps_jsonconn_from_fd(fd);
    return 0;
}

struct ps_jsonconn *
ps_jsonconn_from_fd(int fd)
{
    struct ps_jsonconn *conn = ps_xcalloc(1, sizeof *conn);
    conn->fd = fd;
    return conn;
}

void
ps_jsonconn_close(struct ps_jsonconn *conn)
{
    if (conn) {
        close(conn->fd);
        free(conn->buf);
        free(conn);
    }
}

int
ps_jsonconn_send(struct ps_jsonconn *conn, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = send(conn->fd, text, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        text += n;
        len -= n;
    }
    return 0;
}

/* Tries to take one JSON value from the front of the buffer.  Returns 0 with
 * '*jsonp' set, EAGAIN if the value is not complete yet, or EPROTO. */
static int
jsonconn_parse(struct ps_jsonconn *conn, json_t **jsonp)
{
    size_t start = 0;
    while (start < conn->len && strchr(" \t\r\n", conn->buf[start])) {
        start++;
    }
    if (start == conn->len) {
        conn->len = 0;
        return EAGAIN;
    }

    json_error_t error;
    json_t *json = json_loadb(conn->buf + start, conn->len - start,
                              JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY,
                              &error);
    if (!json) {
        /* Incomplete input ends in an error at its very end. */
        return (error.position >= (int) (conn->len - start)
                ? EAGAIN : EPROTO);
    }
    size_t used = start + error.position;
    memmove(conn->buf, conn->buf + used, conn->len - used);
    conn->len -= used;
    *jsonp = json;
    return 0;
}

int
ps_jsonconn_recv(struct ps_jsonconn *conn, int timeout_ms, json_t **jsonp)
{
    int64_t deadline = ps_monotonic_ns() + timeout_ms * INT64_C(1000000);

    *jsonp = NULL;
    for (;;) {
        int error = conn->len ? jsonconn_parse(conn, jsonp) : EAGAIN;
        if (error != EAGAIN) {
            return error;
        }
        if (conn->len >= JSONCONN_MAX) {
            return EPROTO;
        }

        int64_t left = deadline - ps_monotonic_ns();
        if (left <= 0) {
            return ETIMEDOUT;
        }
        struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
        int n = poll(&pfd, 1, (int) ((left + 999999) / 1000000));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        } else if (!n) {
            return ETIMEDOUT;
        }

        if (conn->allocated < conn->len + 65536 + 1) {
            conn->buf = ps_grow(conn->buf, &conn->allocated,
                                conn->len + 65536 + 1, 1);
        }
        ssize_t got = recv(conn->fd, conn->buf + conn->len,
                           conn->allocated - conn->len - 1, 0);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return errno;
        } else if (!got) {
            return EPIPE;
        }
        conn->len += got;
    }
}
