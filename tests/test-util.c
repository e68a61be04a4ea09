/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "test-util.h"

void
text_add(struct text *t, const char *format, ...)
{
    va_list args;
    char *s;
    va_start(args, format);
    int n = vasprintf(&s, format, args);
    va_end(args);
    assert_true(n >= 0);
    t->s = realloc(t->s, t->len + n + 1);
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
    free(s);
}

void
text_free(struct text *t)
{
    free(t->s);
    t->s = NULL;
    t->len = 0;
}

void
add_record(struct text *t, double sec, const char *host, const char *element,
           const char *type, const char *vm, const char *attrs_format, ...)
{
    va_list args;
    char *attrs;
    va_start(args, attrs_format);
    assert_true(vasprintf(&attrs, attrs_format, args) >= 0);
    va_end(args);

    long long ts = (long long) ((T0 + sec) * 1e9);
    if (vm) {
        text_add(t, "{\"ts_ns\": %lld, \"host\": \"%s\", \"element\": \"%s\", "
                 "\"type\": \"%s\", \"vm\": \"%s\", \"attrs\": {%s}}\n", ts,
                 host, element, type, vm, attrs);
    } else {
        text_add(t, "{\"ts_ns\": %lld, \"host\": \"%s\", \"element\": \"%s\", "
                 "\"type\": \"%s\", \"attrs\": {%s}}\n", ts, host, element,
                 type, attrs);
    }
    free(attrs);
}

struct ps_window *
window_from_text(const char *text, const struct ps_window_options *opts,
                 char **errp)
{
    FILE *f = fmemopen((void *) text, strlen(text), "r");
    assert_non_null(f);
    struct ps_reader *rd = ps_reader_from_stream(f, "test");
    struct ps_window_builder *b = ps_window_builder_create(opts);
    struct ps_record r;
    int retval;
    while ((retval = ps_reader_next(rd, &r, errp)) > 0) {
        char *error = ps_window_builder_add(b, &r);
        if (error) {
            *errp = error;
            retval = -1;
            break;
        }
    }
    ps_reader_close(rd);
    fclose(f);
    if (retval < 0) {
        ps_window_builder_destroy(b);
        return NULL;
    }
    return ps_window_builder_finish(b, errp);
}

void
assert_contains_(const char *haystack, const char *needle, const char *file,
                 int line)
{
    if (!haystack || !strstr(haystack, needle)) {
        print_error("%s:%d: \"%s\" does not contain \"%s\"\n", file, line,
                       haystack ? haystack : "(null)", needle);
        _fail(file, line);
    }
}
