/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight-agent's sources, sampling and HTTP handler (agent-server.h). */

#include <config.h>
#include "agent-server.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include "agent-metrics.h"

/* Requests bigger than this (request line and headers) are refused by
 * libmicrohttpd with 431 or 414: it is the memory of each connection. */
#define CONNECTION_MEMORY (32 * 1024)

static bool use_syslog;

void
agent_log_to_syslog(void)
{
    use_syslog = true;
}

void
agent_log(int priority, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    if (use_syslog) {
        vsyslog(priority, format, args);
    } else {
        fputs("perfsight-agent: ", stderr);
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
    }
    va_end(args);
}

void
agent_sample(struct agent *agent)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ps_samples_clear(&agent->samples);
    agent->samples.host = agent->config.host;
    agent->samples.ts_ns = ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
    for (size_t i = 0; i < agent->n_sources; i++) {
        struct agent_source *as = &agent->sources[i];
        int error = ps_source_sample(as->source, &agent->samples);
        if (error != as->last_error) {
            if (error) {
                agent_log(LOG_WARNING, "source %s: %s",
                          ps_source_name(as->source), strerror(error));
            } else {
                agent_log(LOG_INFO, "source %s: working again",
                          ps_source_name(as->source));
            }
            as->last_error = error;
        }
    }
    ps_names_apply(agent->config.env.names, &agent->samples);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int status,
      const char *content_type, char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    } else if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"perfsight\"");
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned int status,
           const char *text)
{
    return reply(conn, status, "text/plain; charset=utf-8",
                 ps_xstrdup(text), strlen(text));
}

static int64_t
monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

void
agent_round_clear(struct agent *agent)
{
    for (size_t i = 0; i < PS_ARRAY_SIZE(agent->answers); i++) {
        if (agent->answers[i]) {
            /* Freed when the last connection that queued it is done. */
            MHD_destroy_response(agent->answers[i]);
            agent->answers[i] = NULL;
        }
    }
}

/* Returns the round's answer in JSON or Prometheus text, taking a new
 * sample if the round is over and rendering it if no request of the round
 * has yet: a request is never answered from an older round, and requests
 * of one round get the same records.  The caller holds the mutex. */
static struct MHD_Response *
round_answer(struct agent *agent, bool json)
{
    int64_t now = monotonic_ns();

    if (!agent->round_start_ns
        || now - agent->round_start_ns
           >= agent->config.round_ms * INT64_C(1000000)) {
        agent_round_clear(agent);
        agent_sample(agent);
        agent->round_start_ns = now;
    }

    struct MHD_Response **answer = &agent->answers[!json];
    if (!*answer) {
        size_t len;
        char *body = (json
                      ? agent_render_json(&agent->samples, &len)
                      : agent_render_prometheus(&agent->samples, &len));
        *answer = MHD_create_response_from_buffer(len, body,
                                                  MHD_RESPMEM_MUST_FREE);
        if (!*answer) {
            free(body);
            return NULL;
        }
        MHD_add_response_header(*answer, MHD_HTTP_HEADER_CONTENT_TYPE,
                                (json ? "application/json"
                                 : "text/plain; version=0.0.4; "
                                   "charset=utf-8"));
        MHD_add_response_header(*answer, MHD_HTTP_HEADER_CACHE_CONTROL,
                                "no-store");
    }
    return *answer;
}

/* Compares in time that does not depend on where they differ. */
static bool
token_matches(const char *given, const char *token)
{
    size_t glen = strlen(given), tlen = strlen(token);
    unsigned char diff = glen != tlen;

    /* Every byte of the token is compared, whatever 'given' is. */
    for (size_t i = 0; i < tlen; i++) {
        size_t j = glen ? i % glen : 0;
        diff |= (unsigned char) token[i] ^ (unsigned char) given[j];
    }
    return !diff && glen;
}

static bool
authorized(const struct agent *agent, struct MHD_Connection *conn)
{
    if (!agent->token) {
        return true;
    }
    const char *auth = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    return (auth && !strncmp(auth, "Bearer ", 7)
            && token_matches(auth + 7, agent->token));
}

/* What the agent remembers of a request between libmicrohttpd's calls. */
struct request {
    size_t body;                /* Bytes of body received (and ignored). */
};

/* Bodies are read and thrown away up to this size, to answer 413; beyond
 * it the connection is closed. */
#define MAX_BODY 65536

static void
request_completed(void *aux, struct MHD_Connection *conn, void **con_cls,
                  enum MHD_RequestTerminationCode code)
{
    free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result
handle(void *agent_, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version, const char *upload_data,
       size_t *upload_data_size, void **con_cls)
{
    struct agent *agent = agent_;
    struct request *req = *con_cls;

    if (!req) {
        /* Headers only: answer what needs no body at once, and look at
         * the body, if any, on the next calls. */
        *con_cls = ps_xcalloc(1, sizeof *req);
        if (strcmp(method, MHD_HTTP_METHOD_GET)
            && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
            return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                              "perfsight-agent is read-only: GET or HEAD\n");
        }
        const char *length = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > MAX_BODY) {
            return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                              "requests have no body\n");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        req->body += *upload_data_size;
        *upload_data_size = 0;
        return req->body > MAX_BODY ? MHD_NO : MHD_YES;
    }
    if (req->body) {
        return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                          "requests have no body\n");
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET)
        && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "perfsight-agent is read-only: GET or HEAD\n");
    }
    if (!strcmp(url, "/healthz")) {
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
    }
    if (!authorized(agent, conn)) {
        return reply_text(conn, MHD_HTTP_UNAUTHORIZED,
                          "a bearer token is required\n");
    }

    bool json = !strcmp(url, "/v1/records");
    if (!json && strcmp(url, "/metrics")) {
        return reply_text(conn, MHD_HTTP_NOT_FOUND,
                          "not found; try /v1/records, /metrics or "
                          "/healthz\n");
    }

    pthread_mutex_lock(&agent->mutex);
    struct MHD_Response *resp = round_answer(agent, json);
    enum MHD_Result ret = (resp
                           ? MHD_queue_response(conn, MHD_HTTP_OK, resp)
                           : MHD_NO);
    pthread_mutex_unlock(&agent->mutex);
    return ret;
}

static void
mhd_logger(void *aux, const char *format, va_list args)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, format, args);
    msg[strcspn(msg, "\n")] = '\0';
    agent_log(LOG_NOTICE, "http: %s", msg);
}

void
agent_open_sources(struct agent *agent)
{
    const struct agent_config *c = &agent->config;

    for (size_t i = 0; ps_source_classes[i]; i++) {
        const struct ps_source_class *class = ps_source_classes[i];
        struct ps_source *source;

        if (!agent_config_wants(c, class->name)) {
            continue;
        }
        int error = ps_source_create(class, &c->env, &source);
        if (error) {
            agent_log(LOG_WARNING, "source %s: %s (disabled)", class->name,
                      strerror(error));
            continue;
        }
        agent->sources = ps_xrealloc(agent->sources, (agent->n_sources + 1)
                                     * sizeof *agent->sources);
        agent->sources[agent->n_sources].source = source;
        agent->sources[agent->n_sources].last_error = 0;
        agent->n_sources++;
    }
}

void
agent_close_sources(struct agent *agent)
{
    for (size_t i = 0; i < agent->n_sources; i++) {
        ps_source_destroy(agent->sources[i].source);
    }
    free(agent->sources);
}

struct MHD_Daemon *
agent_http_start(struct agent *agent, unsigned int flags,
                 const struct sockaddr *addr, const char *cert,
                 const char *key)
{
    const struct agent_config *c = &agent->config;
    struct MHD_OptionItem options[] = {
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) mhd_logger, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) request_completed, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, c->max_connections, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, c->request_timeout, NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL },
        { addr ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, 0, (void *) addr },
        { cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
          (void *) cert },
        { key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *) key },
        { MHD_OPTION_END, 0, NULL },
    };

    /* MHD_OPTION_ARRAY ends at the first MHD_OPTION_END: move the options
     * given to the front. */
    size_t n = 0;
    for (size_t i = 0; i < PS_ARRAY_SIZE(options); i++) {
        if (options[i].option != MHD_OPTION_END) {
            options[n++] = options[i];
        }
    }
    options[n] = (struct MHD_OptionItem) { MHD_OPTION_END, 0, NULL };

    return MHD_start_daemon(flags, 0, NULL, NULL, handle, agent,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}
