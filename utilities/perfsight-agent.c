/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight-agent: one per host.  It samples every element source of
 * libperfsight on each request and serves the records over HTTP:
 * GET /v1/records (DESIGN.md §3), GET /metrics (Prometheus), GET /healthz.
 * Read-only; loopback only unless TLS and a bearer token are configured. */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>
#include "agent-config.h"
#include "agent-metrics.h"
#include "agent-server.h"
#include "util.h"

/* Says a source's message (struct ps_source_env's 'warn'). */
static void
agent_warn(const char *message)
{
    agent_log(LOG_WARNING, "%s", message);
}

/* Parses "ADDR:PORT" or "[ADDR6]:PORT" into 'ss'. */
static char *
parse_listen(const char *listen, struct sockaddr_storage *ss,
             bool *loopback)
{
    char host[128];
    const char *port;

    memset(ss, 0, sizeof *ss);
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || close - listen - 1 >= sizeof host) {
            return ps_xasprintf("listen: \"%s\" is not [ADDR6]:PORT", listen);
        }
        memcpy(host, listen + 1, close - listen - 1);
        host[close - listen - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || colon - listen >= sizeof host) {
            return ps_xasprintf("listen: \"%s\" is not ADDR:PORT", listen);
        }
        memcpy(host, listen, colon - listen);
        host[colon - listen] = '\0';
        port = colon + 1;
    }

    char *end;
    long p = strtol(port, &end, 10);
    if (end == port || *end || p < 1 || p > 65535) {
        return ps_xasprintf("listen: bad port in \"%s\"", listen);
    }

    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(p);
        *loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(p);
        *loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    } else {
        return ps_xasprintf("listen: \"%s\" is not a numeric address", host);
    }
    return NULL;
}

/* Reads a whole small file into a malloc'd string, or exits. */
static char *
slurp(const char *what, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        agent_log(LOG_ERR, "%s: %s: %s", what, path, strerror(errno));
        exit(EXIT_FAILURE);
    }
    char *text = NULL;
    size_t len = 0, allocated = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (len > 1024 * 1024) {
            agent_log(LOG_ERR, "%s: %s: too large", what, path);
            exit(EXIT_FAILURE);
        }
        text = ps_grow(text, &allocated, len + 2, 1);
        text[len++] = c;
    }
    fclose(f);
    text = ps_grow(text, &allocated, len + 1, 1);
    text[len] = '\0';
    return text;
}

static void
usage(void)
{
    printf("\
perfsight-agent: serves a host's PerfSight records over HTTP\n\
usage: perfsight-agent [OPTION]...\n\
\n\
  -c, --config=FILE        read settings from FILE (key = value lines)\n\
  -l, --listen=ADDR:PORT   listen there (default 127.0.0.1:9464); an\n\
                           address other than loopback needs TLS and a token\n\
      --host=NAME          host name in records (default: the node name)\n\
      --tls-cert=FILE      serve HTTPS with this PEM certificate...\n\
      --tls-key=FILE       ...and this PEM key\n\
      --token-file=FILE    require \"Authorization: Bearer TOKEN\"\n\
      --sources=LIST       comma-separated sources, or \"all\" (default):\n\
                           netlink softnet cpu ovs qmp libvirt middlebox\n\
                           tcpinfo guest\n\
      --qmp-dir=DIR        QMP sockets of QEMUs that libvirt does not own\n\
      --ovs-rundir=DIR     Open vSwitch run directory\n\
      --libvirt-uri=URI    libvirt connection, or \"none\"\n\
      --class=PATTERN=KIND classify net devices (pnic, tap, ignore)\n\
      --vm=DEVICE=VM       the VM of a tap or vswitch port\n\
      --set=KEY=VALUE      any configuration file setting\n\
      --pidfile=FILE       write the process id to FILE\n\
      --detach             run in the background\n\
      --syslog             log to syslog instead of standard error\n\
      --once[=FORMAT]      print one sample (json or prometheus) and exit\n\
  -h, --help               show this help and exit\n\
  -V, --version            show the version and exit\n\
\n\
See perfsight-agent(8) and docs/agent.md.\n");
}

/* Sets 'key' from a "NAME=VALUE" option as "PREFIX.NAME" = VALUE. */
static char *
set_pair(struct agent_config *c, const char *prefix, const char *arg)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg) {
        return ps_xasprintf("\"%s\" is not NAME=VALUE", arg);
    }
    char *key = (prefix
                 ? ps_xasprintf("%s.%.*s", prefix, (int) (eq - arg), arg)
                 : ps_xasprintf("%.*s", (int) (eq - arg), arg));
    char *error = agent_config_set(c, key, eq + 1);
    free(key);
    return error;
}

int
main(int argc, char *argv[])
{
    enum {
        OPT_HOST = 256, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TOKEN_FILE,
        OPT_SOURCES, OPT_QMP_DIR, OPT_OVS_RUNDIR, OPT_LIBVIRT_URI,
        OPT_CLASS, OPT_VM, OPT_SET, OPT_PIDFILE, OPT_DETACH, OPT_SYSLOG,
        OPT_ONCE,
    };
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "listen", required_argument, NULL, 'l' },
        { "host", required_argument, NULL, OPT_HOST },
        { "tls-cert", required_argument, NULL, OPT_TLS_CERT },
        { "tls-key", required_argument, NULL, OPT_TLS_KEY },
        { "token-file", required_argument, NULL, OPT_TOKEN_FILE },
        { "sources", required_argument, NULL, OPT_SOURCES },
        { "qmp-dir", required_argument, NULL, OPT_QMP_DIR },
        { "ovs-rundir", required_argument, NULL, OPT_OVS_RUNDIR },
        { "libvirt-uri", required_argument, NULL, OPT_LIBVIRT_URI },
        { "class", required_argument, NULL, OPT_CLASS },
        { "vm", required_argument, NULL, OPT_VM },
        { "set", required_argument, NULL, OPT_SET },
        { "pidfile", required_argument, NULL, OPT_PIDFILE },
        { "detach", no_argument, NULL, OPT_DETACH },
        { "syslog", no_argument, NULL, OPT_SYSLOG },
        { "once", optional_argument, NULL, OPT_ONCE },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static const char *const option_keys[] = {
        [OPT_HOST - OPT_HOST] = "host",
        [OPT_TLS_CERT - OPT_HOST] = "tls-cert",
        [OPT_TLS_KEY - OPT_HOST] = "tls-key",
        [OPT_TOKEN_FILE - OPT_HOST] = "token-file",
        [OPT_SOURCES - OPT_HOST] = "sources",
        [OPT_QMP_DIR - OPT_HOST] = "qmp-dir",
        [OPT_OVS_RUNDIR - OPT_HOST] = "ovs-rundir",
        [OPT_LIBVIRT_URI - OPT_HOST] = "libvirt-uri",
        [OPT_PIDFILE - OPT_HOST] = "pidfile",
    };
    struct agent agent;
    const char *once = NULL;
    char *error = NULL;
    int opt;

    memset(&agent, 0, sizeof agent);
    agent_config_init(&agent.config);
    agent.config.env.warn = agent_warn;
    struct agent_config *c = &agent.config;

    /* The configuration file first, so that options override it. */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if (!strncmp(argv[i], "--config=", 9)) {
            file = argv[i] + 9;
        } else if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c"))
                   && i + 1 < argc) {
            file = argv[++i];
        }
        if (file && (error = agent_config_read(c, file))) {
            agent_log(LOG_ERR, "%s", error);
            free(error);
            exit(EXIT_FAILURE);
        }
    }

    while ((opt = getopt_long(argc, argv, "c:l:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            break;
        case 'l':
            error = agent_config_set(c, "listen", optarg);
            break;
        case OPT_HOST: case OPT_TLS_CERT: case OPT_TLS_KEY:
        case OPT_TOKEN_FILE: case OPT_SOURCES: case OPT_QMP_DIR:
        case OPT_OVS_RUNDIR: case OPT_LIBVIRT_URI: case OPT_PIDFILE:
            error = agent_config_set(c, option_keys[opt - OPT_HOST], optarg);
            break;
        case OPT_CLASS:
            error = set_pair(c, "class", optarg);
            break;
        case OPT_VM:
            error = set_pair(c, "vm", optarg);
            break;
        case OPT_SET:
            error = set_pair(c, NULL, optarg);
            break;
        case OPT_DETACH:
            c->detach = true;
            break;
        case OPT_SYSLOG:
            c->syslog = true;
            break;
        case OPT_ONCE:
            once = optarg ? optarg : "json";
            break;
        case 'h':
            usage();
            exit(EXIT_SUCCESS);
        case 'V':
            printf("perfsight-agent (PerfSight) %s\n", PACKAGE_VERSION);
            exit(EXIT_SUCCESS);
        default:
            fprintf(stderr, "Try 'perfsight-agent --help'.\n");
            exit(EXIT_FAILURE);
        }
        if (error) {
            agent_log(LOG_ERR, "%s", error);
            free(error);
            exit(EXIT_FAILURE);
        }
    }
    if (optind < argc) {
        agent_log(LOG_ERR, "unexpected argument \"%s\"", argv[optind]);
        exit(EXIT_FAILURE);
    }
    if (once && strcmp(once, "json") && strcmp(once, "prometheus")) {
        agent_log(LOG_ERR, "--once: \"%s\" is not json or prometheus", once);
        exit(EXIT_FAILURE);
    }
    for (const char *p = c->sources; strcmp(c->sources, "all") && *p; ) {
        size_t n = strcspn(p, ",");
        char *name = ps_xasprintf("%.*s", (int) n, p);
        if (!ps_source_class_find(name)) {
            agent_log(LOG_ERR, "sources: unknown source \"%s\"", name);
            free(name);
            exit(EXIT_FAILURE);
        }
        free(name);
        p += n + (p[n] == ',');
    }

    pthread_mutex_init(&agent.mutex, NULL);
    ps_samples_init(&agent.samples, c->host, 0);

    if (once) {
        size_t len;
        agent_open_sources(&agent);
        agent_sample(&agent);
        char *text = (!strcmp(once, "json")
                      ? agent_render_json(&agent.samples, &len)
                      : agent_render_prometheus(&agent.samples, &len));
        fwrite(text, 1, len, stdout);
        free(text);
        ps_samples_destroy(&agent.samples);
        agent_close_sources(&agent);
        agent_config_destroy(c);
        return fflush(stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
    }

    /* Listening: loopback, or TLS and a token. */
    struct sockaddr_storage ss;
    bool loopback = false;
    if ((error = parse_listen(c->listen, &ss, &loopback))) {
        agent_log(LOG_ERR, "%s", error);
        free(error);
        exit(EXIT_FAILURE);
    }
    if (!c->tls_cert != !c->tls_key) {
        agent_log(LOG_ERR, "--tls-cert and --tls-key go together");
        exit(EXIT_FAILURE);
    }
    if (!loopback && (!c->tls_cert || !c->token_file)) {
        agent_log(LOG_ERR, "listening on %s (not loopback) needs "
                  "--tls-cert, --tls-key and --token-file", c->listen);
        exit(EXIT_FAILURE);
    }
    if (c->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        agent_log(LOG_ERR, "this libmicrohttpd has no TLS support");
        exit(EXIT_FAILURE);
    }
    if (c->token_file) {
        agent.token = slurp("token-file", c->token_file);
        agent.token[strcspn(agent.token, "\r\n")] = '\0';
        if (!agent.token[0]) {
            agent_log(LOG_ERR, "token-file: %s: empty token", c->token_file);
            exit(EXIT_FAILURE);
        }
    }
    char *cert = c->tls_cert ? slurp("tls-cert", c->tls_cert) : NULL;
    char *key = c->tls_key ? slurp("tls-key", c->tls_key) : NULL;

    if (c->syslog) {
        openlog("perfsight-agent", LOG_PID, LOG_DAEMON);
        agent_log_to_syslog();
    }
    if (c->detach && daemon(0, 0)) {
        agent_log(LOG_ERR, "daemon: %s", strerror(errno));
        exit(EXIT_FAILURE);
    }

    /* Signals: the HTTP thread inherits this mask; main waits for them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    agent_open_sources(&agent);

    unsigned int flags = (MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG
                          | (c->tls_cert ? MHD_USE_TLS : 0)
                          | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0));
    struct MHD_Daemon *daemon = agent_http_start(
        &agent, flags, (struct sockaddr *) &ss, cert, key);
    if (!daemon) {
        agent_log(LOG_ERR, "cannot listen on %s", c->listen);
        exit(EXIT_FAILURE);
    }

    if (c->pidfile) {
        FILE *f = fopen(c->pidfile, "w");
        if (!f || fprintf(f, "%ld\n", (long) getpid()) < 0 || fclose(f)) {
            agent_log(LOG_ERR, "pidfile: %s: %s", c->pidfile,
                      strerror(errno));
            MHD_stop_daemon(daemon);
            exit(EXIT_FAILURE);
        }
    }
    agent_log(LOG_INFO, "listening on %s%s, %zu sources", c->listen,
              c->tls_cert ? " (TLS)" : "", agent.n_sources);

    for (;;) {
        int sig;
        if (sigwait(&sigs, &sig)) {
            continue;
        }
        if (sig == SIGHUP) {
            agent_log(LOG_INFO, "SIGHUP: restart to reread the "
                      "configuration");
            continue;
        }
        agent_log(LOG_INFO, "exiting on signal %d", sig);
        break;
    }

    MHD_stop_daemon(daemon);
    if (c->pidfile) {
        unlink(c->pidfile);
    }
    agent_round_clear(&agent);
    ps_samples_destroy(&agent.samples);
    agent_close_sources(&agent);
    free(agent.token);
    free(cert);
    free(key);
    pthread_mutex_destroy(&agent.mutex);
    agent_config_destroy(c);
    return EXIT_SUCCESS;
}
