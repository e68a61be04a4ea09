/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/gather.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* An agent's answer is at most this large: a host has thousands of
 * elements, not millions. */
#define MAX_BODY_BYTES (256u << 20)

struct transfer {
    CURL *easy;
    char *body;
    size_t len, allocated;
    bool too_big;
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers;
};

static size_t
write_body(char *data, size_t size, size_t nmemb, void *t_)
{
    struct transfer *t = t_;
    size_t n = size * nmemb;
    if (t->len + n > MAX_BODY_BYTES) {
        t->too_big = true;
        return 0;
    }
    t->body = ps_grow(t->body, &t->allocated, t->len + n + 1, 1);
    memcpy(t->body + t->len, data, n);
    t->len += n;
    t->body[t->len] = '\0';
    return n;
}

static void
setup_transfer(struct transfer *t, const char *url,
               const struct ps_gather_options *opts)
{
    memset(t, 0, sizeof *t);
    t->easy = curl_easy_init();
    if (!t->easy) {
        abort();
    }
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS,
                     (long) (opts && opts->timeout_ms ? opts->timeout_ms
                             : 5000));
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (opts && opts->cacert) {
        curl_easy_setopt(t->easy, CURLOPT_CAINFO, opts->cacert);
    }
    if (opts && opts->token) {
        char *auth = ps_xasprintf("Authorization: Bearer %s", opts->token);
        t->headers = curl_slist_append(NULL, auth);
        free(auth);
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    }
}

static void
cleanup_transfer(struct transfer *t)
{
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->body);
}

/* Returns NULL if 't' ended with a 200, otherwise a malloc'd reason. */
static char *
transfer_error(struct transfer *t, CURLcode code)
{
    if (t->too_big) {
        return ps_xasprintf("answer larger than %u bytes", MAX_BODY_BYTES);
    }
    if (code != CURLE_OK) {
        return ps_xstrdup(t->errbuf[0] ? t->errbuf
                          : curl_easy_strerror(code));
    }
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        return ps_xasprintf("HTTP status %ld", status);
    }
    return NULL;
}

static void
ensure_curl(void)
{
    static bool initialised;
    if (!initialised) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        initialised = true;
    }
}

/* Hands each record of 'body' to 'cb' under host 'host'. */
static char *
parse_body(const char *host, const char *url, const char *body, size_t len,
           ps_gather_record_cb *cb, void *aux, size_t *n, int64_t *latest)
{
    char *name = ps_xasprintf("%s/v1/records", url);
    struct ps_reader *rd = ps_reader_from_buffer(body, len, name);
    struct ps_record r;
    char *error = NULL;
    int retval;
    *n = 0;
    while ((retval = ps_reader_next(rd, &r, &error)) > 0) {
        free(r.host);
        r.host = ps_xstrdup(host);
        if (r.ts_ns > *latest) {
            *latest = r.ts_ns;
        }
        cb(&r, aux);
        ps_record_destroy(&r);
        (*n)++;
    }
    ps_reader_close(rd);
    free(name);
    return retval < 0 ? error : NULL;
}

size_t
ps_gather_round(const struct ps_gather_target *targets, size_t n,
                const struct ps_gather_options *opts,
                ps_gather_record_cb *cb, void *aux,
                struct ps_gather_status *status)
{
    ensure_curl();
    CURLM *multi = curl_multi_init();
    struct transfer *t = ps_xcalloc(n + 1, sizeof *t);

    for (size_t i = 0; i < n; i++) {
        char *url = ps_xasprintf("%s/v1/records", targets[i].url);
        setup_transfer(&t[i], url, opts);
        free(url);
        curl_easy_setopt(t[i].easy, CURLOPT_PRIVATE, (void *) &t[i]);
        curl_multi_add_handle(multi, t[i].easy);
        memset(&status[i], 0, sizeof status[i]);
    }

    int running = 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            break;
        }
        if (running) {
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
    }

    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (t[i].easy == msg->easy_handle) {
                status[i].error = transfer_error(&t[i], msg->data.result);
                double seconds = 0;
                curl_easy_getinfo(t[i].easy, CURLINFO_TOTAL_TIME, &seconds);
                status[i].seconds = seconds;
                t[i].errbuf[0] = '\0';
            }
        }
    }

    size_t answered = 0;
    for (size_t i = 0; i < n; i++) {
        if (!status[i].error) {
            status[i].error = parse_body(targets[i].host, targets[i].url,
                                         t[i].body ? t[i].body : "", t[i].len,
                                         cb, aux, &status[i].n_records,
                                         &status[i].latest_ns);
        }
        if (!status[i].error) {
            answered++;
        }
        curl_multi_remove_handle(multi, t[i].easy);
        cleanup_transfer(&t[i]);
    }
    free(t);
    curl_multi_cleanup(multi);
    return answered;
}

void
ps_gather_status_clear(struct ps_gather_status *status, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(status[i].error);
        status[i].error = NULL;
    }
}

char *
ps_http_get(const char *url, const struct ps_gather_options *opts,
            size_t *lenp, char **errp)
{
    ensure_curl();
    struct transfer t;
    setup_transfer(&t, url, opts);
    CURLcode code = curl_easy_perform(t.easy);
    char *error = transfer_error(&t, code);
    if (error) {
        *errp = ps_xasprintf("%s: %s", url, error);
        free(error);
        cleanup_transfer(&t);
        return NULL;
    }
    char *body = t.body ? t.body : ps_xstrdup("");
    *lenp = t.len;
    t.body = NULL;
    cleanup_transfer(&t);
    return body;
}
