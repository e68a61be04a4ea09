/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "agent-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "util.h"

void
agent_config_init(struct agent_config *c)
{
    struct utsname u;

    memset(c, 0, sizeof *c);
    c->host = ps_xstrdup(uname(&u) ? "localhost" : u.nodename);
    c->listen = ps_xstrdup("127.0.0.1:9464");
    c->max_connections = 32;
    c->request_timeout = 10;
    c->round_ms = 10;
    c->sources = ps_xstrdup("all");
    c->env.procfs = ps_xstrdup("/proc");
    c->env.sysfs = ps_xstrdup("/sys");
    c->env.cgroupfs = ps_xstrdup("");
    c->env.ovs_rundir = ps_xstrdup("/var/run/openvswitch");
    c->env.libvirt_uri = ps_xstrdup("qemu:///system");
    c->env.timeout_ms = 1000;
    c->env.names = ps_names_create();
    c->env.netclass = ps_netclass_create();
    c->env.host = c->host;
}

void
agent_config_destroy(struct agent_config *c)
{
    free(c->host);
    free(c->listen);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->token_file);
    free(c->pidfile);
    free(c->sources);
    free((char *) c->env.procfs);
    free((char *) c->env.sysfs);
    free((char *) c->env.cgroupfs);
    free((char *) c->env.ovs_rundir);
    free((char *) c->env.ovs_socket);
    free((char *) c->env.qmp_dir);
    free((char *) c->env.libvirt_uri);
    free((char *) c->env.middlebox_dir);
    free((char *) c->env.middlebox_vm);
    free((char *) c->env.tcpinfo_programs);
    free((char *) c->env.guest_dir);
    free((char *) c->env.guest_port);
    ps_names_destroy(c->env.names);
    ps_netclass_destroy(c->env.netclass);
    memset(c, 0, sizeof *c);
}

static void
set_string(char **dst, const char *value)
{
    free(*dst);
    *dst = ps_xstrdup(value);
}

static char *
set_int(int *dst, const char *key, const char *value, int min, int max)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max) {
        return ps_xasprintf("%s: \"%s\" is not an integer from %d to %d",
                            key, value, min, max);
    }
    *dst = v;
    return NULL;
}

static char *
set_bool(bool *dst, const char *key, const char *value)
{
    if (!strcmp(value, "yes") || !strcmp(value, "true")
        || !strcmp(value, "1")) {
        *dst = true;
    } else if (!strcmp(value, "no") || !strcmp(value, "false")
               || !strcmp(value, "0")) {
        *dst = false;
    } else {
        return ps_xasprintf("%s: \"%s\" is not yes or no", key, value);
    }
    return NULL;
}

/* The string settings, by key. */
static char **
string_setting(struct agent_config *c, const char *key)
{
    struct {
        const char *key;
        char **value;
    } table[] = {
        { "listen", &c->listen },
        { "tls-cert", &c->tls_cert },
        { "tls-key", &c->tls_key },
        { "token-file", &c->token_file },
        { "pidfile", &c->pidfile },
        { "sources", &c->sources },
        { "procfs", (char **) &c->env.procfs },
        { "sysfs", (char **) &c->env.sysfs },
        { "cgroupfs", (char **) &c->env.cgroupfs },
        { "ovs-rundir", (char **) &c->env.ovs_rundir },
        { "ovs-socket", (char **) &c->env.ovs_socket },
        { "qmp-dir", (char **) &c->env.qmp_dir },
        { "libvirt-uri", (char **) &c->env.libvirt_uri },
        { "middlebox-dir", (char **) &c->env.middlebox_dir },
        { "middlebox-vm", (char **) &c->env.middlebox_vm },
        { "tcpinfo-programs", (char **) &c->env.tcpinfo_programs },
        { "guest-dir", (char **) &c->env.guest_dir },
        { "guest-port", (char **) &c->env.guest_port },
    };
    for (size_t i = 0; i < PS_ARRAY_SIZE(table); i++) {
        if (!strcmp(key, table[i].key)) {
            return table[i].value;
        }
    }
    return NULL;
}

char *
agent_config_set(struct agent_config *c, const char *key, const char *value)
{
    char **s;

    if (!strcmp(key, "host")) {
        if (!value[0]) {
            return ps_xstrdup("host: must not be empty");
        }
        set_string(&c->host, value);
        c->env.host = c->host;
    } else if (!strcmp(key, "libvirt-uri") && !strcmp(value, "none")) {
        free((char *) c->env.libvirt_uri);
        c->env.libvirt_uri = NULL;
    } else if ((s = string_setting(c, key))) {
        set_string(s, value);
    } else if (!strcmp(key, "detach")) {
        return set_bool(&c->detach, key, value);
    } else if (!strcmp(key, "syslog")) {
        return set_bool(&c->syslog, key, value);
    } else if (!strcmp(key, "max-connections")) {
        return set_int(&c->max_connections, key, value, 1, 10000);
    } else if (!strcmp(key, "request-timeout")) {
        return set_int(&c->request_timeout, key, value, 1, 3600);
    } else if (!strcmp(key, "round-ms")) {
        return set_int(&c->round_ms, key, value, 0, 60000);
    } else if (!strcmp(key, "daemon-timeout-ms")) {
        return set_int(&c->env.timeout_ms, key, value, 1, 60000);
    } else if (!strncmp(key, "vm.", 3) && key[3]) {
        ps_names_set_static_vm(c->env.names, key + 3, value);
    } else if (!strncmp(key, "tenant.", 7) && key[7]) {
        ps_names_set_tenant(c->env.names, key + 7, value);
    } else if (!strncmp(key, "class.", 6) && key[6]) {
        enum ps_netclass_kind kind;
        if (!ps_netclass_kind_from_name(value, &kind)) {
            return ps_xasprintf("%s: \"%s\" is not pnic, tap, ignore or "
                                "auto", key, value);
        }
        ps_netclass_add(c->env.netclass, key + 6, kind);
    } else {
        return ps_xasprintf("unknown setting \"%s\"", key);
    }
    return NULL;
}

/* Strips leading and trailing white space of 's' in place. */
static char *
strip(char *s)
{
    while (isspace((unsigned char) *s)) {
        s++;
    }
    size_t len = strlen(s);
    while (len && isspace((unsigned char) s[len - 1])) {
        s[--len] = '\0';
    }
    return s;
}

char *
agent_config_read(struct agent_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;

    if (!f) {
        return ps_xasprintf("%s: %s", path, strerror(errno));
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fclose(f);
            return ps_xasprintf("%s:%d: line too long", path, lineno);
        }
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *p = strip(line);
        if (!*p) {
            continue;
        }
        char *eq = strchr(p, '=');
        if (!eq) {
            fclose(f);
            return ps_xasprintf("%s:%d: expected \"key = value\"", path,
                                lineno);
        }
        *eq = '\0';
        char *error = agent_config_set(c, strip(p), strip(eq + 1));
        if (error) {
            char *full = ps_xasprintf("%s:%d: %s", path, lineno, error);
            free(error);
            fclose(f);
            return full;
        }
    }
    fclose(f);
    return NULL;
}

bool
agent_config_wants(const struct agent_config *c, const char *source)
{
    if (!strcmp(c->sources, "all")) {
        return true;
    }
    size_t len = strlen(source);
    for (const char *p = c->sources; *p; ) {
        size_t n = strcspn(p, ",");
        if (n == len && !strncmp(p, source, len)) {
            return true;
        }
        p += n;
        if (*p) {
            p++;
        }
    }
    return false;
}
