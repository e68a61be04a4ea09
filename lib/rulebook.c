/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/rulebook.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util.h"

/* The format is line-based (see docs/rulebook.md):
 *
 *     # comment
 *     set NAME VALUE
 *     LOCATION[/REASON]  SCOPE  CONDITION  RESOURCE[, RESOURCE...]
 *     * /REASON          SCOPE  CONDITION  RESOURCE[, RESOURCE...]
 */

static const char *const scope_names[] = {
    [PS_SCOPE_ANY] = "any",
    [PS_SCOPE_SHARED] = "shared",
    [PS_SCOPE_SINGLE] = "single",
    [PS_SCOPE_AGGREGATED] = "aggregated",
};

static const char *const condition_names[PS_N_CONDITIONS] = {
    [PS_COND_NONE] = "-",
    [PS_COND_CPU_HIGH] = "cpu_high",
    [PS_COND_TX_NEAR_CAPACITY] = "tx_near_capacity",
    [PS_COND_RX_NEAR_CAPACITY] = "rx_near_capacity",
};

const char *
ps_scope_name(enum ps_scope scope)
{
    return scope < PS_ARRAY_SIZE(scope_names) ? scope_names[scope] : "?";
}

const char *
ps_condition_name(enum ps_condition c)
{
    return c < PS_N_CONDITIONS ? condition_names[c] : "?";
}

void
ps_rulebook_destroy(struct ps_rulebook *rb)
{
    if (!rb) {
        return;
    }
    for (size_t i = 0; i < rb->n_rules; i++) {
        struct ps_rule *rule = &rb->rules[i];
        free(rule->reason);
        for (size_t j = 0; j < rule->n_resources; j++) {
            free(rule->resources[j]);
        }
        free(rule->resources);
    }
    free(rb->rules);
    free(rb->name);
    free(rb);
}

/* Splits off the next whitespace-separated word of '*s'. */
static char *
next_word(char **s)
{
    char *p = *s;
    while (isspace((unsigned char) *p)) {
        p++;
    }
    if (!*p) {
        *s = p;
        return NULL;
    }
    char *word = p;
    while (*p && !isspace((unsigned char) *p)) {
        p++;
    }
    if (*p) {
        *p++ = '\0';
    }
    *s = p;
    return word;
}

static char *
trim(char *s)
{
    while (isspace((unsigned char) *s)) {
        s++;
    }
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char) end[-1])) {
        *--end = '\0';
    }
    return s;
}

static char *
parse_setting(struct ps_rulebook *rb, char *rest)
{
    char *name = next_word(&rest);
    char *value = next_word(&rest);
    if (!name || !value || next_word(&rest)) {
        return ps_xstrdup("\"set\" takes a name and a value");
    }

    static const char *const known[] = {
        "cpu_high", "near_capacity", "min_drops", "min_loss_ratio",
        "vm_share",
    };
    size_t i;
    for (i = 0; i < PS_ARRAY_SIZE(known); i++) {
        if (!strcmp(name, known[i])) {
            break;
        }
    }
    if (i == PS_ARRAY_SIZE(known)) {
        return ps_xasprintf("unknown setting \"%s\" (known: cpu_high, "
                            "near_capacity, min_drops, min_loss_ratio, "
                            "vm_share)", name);
    }

    char *end;
    errno = 0;
    double d = strtod(value, &end);
    if (*end || errno || !isfinite(d) || d < 0) {
        return ps_xasprintf("\"%s\" is not a non-negative number", value);
    }
    if (!strcmp(name, "cpu_high") || !strcmp(name, "near_capacity")
        || !strcmp(name, "vm_share") || !strcmp(name, "min_loss_ratio")) {
        if (d > 1) {
            return ps_xasprintf("%s must be between 0 and 1", name);
        }
        *(!strcmp(name, "cpu_high") ? &rb->cpu_high
          : !strcmp(name, "near_capacity") ? &rb->near_capacity
          : !strcmp(name, "vm_share") ? &rb->vm_share
          : &rb->min_loss_ratio) = d;
    } else {
        if (d != floor(d) || d > 1e18) {
            return ps_xstrdup("min_drops must be a whole number");
        }
        rb->min_drops = d;
    }
    return NULL;
}

static char *
parse_rule(struct ps_rulebook *rb, char *first, char *rest,
           size_t *allocated, int line)
{
    struct ps_rule rule = { .line = line };

    char *slash = strchr(first, '/');
    if (slash) {
        *slash = '\0';
        if (!slash[1]) {
            return ps_xasprintf("\"%s/\" lacks a drop reason", first);
        }
    }
    if (!strcmp(first, "*")) {
        /* A kernel reason (netfilter_drop, qdisc_drop...) means the same
         * at every location. */
        if (!slash) {
            return ps_xstrdup("\"*\" needs a drop reason: \"*/REASON\"");
        }
        rule.any_location = true;
    } else if (!ps_element_type_from_name(first, &rule.location)) {
        return ps_xasprintf("unknown location \"%s\" (an element type: "
                            "pnic, pnic_driver, backlog, vswitch, tap, "
                            "hypervisor, vnic, guest_backlog)", first);
    }
    if (!rule.any_location && !ps_element_type_in_stack(rule.location)) {
        return ps_xasprintf("\"%s\" is not a data-plane location",
                            first);
    }

    char *scope = next_word(&rest);
    char *cond = scope ? next_word(&rest) : NULL;
    char *resources = trim(rest);
    if (!scope || !cond || !*resources) {
        return ps_xstrdup("a rule is LOCATION[/REASON] SCOPE CONDITION "
                          "RESOURCE[, RESOURCE...]");
    }

    size_t i;
    for (i = 0; i < PS_ARRAY_SIZE(scope_names); i++) {
        if (!strcmp(scope, scope_names[i])) {
            rule.scope = i;
            break;
        }
    }
    if (i == PS_ARRAY_SIZE(scope_names)) {
        return ps_xasprintf("unknown scope \"%s\" (any, shared, single, "
                            "aggregated)", scope);
    }

    if (cond[0] == '!') {
        rule.negated = true;
        cond++;
    }
    for (i = 0; i < PS_N_CONDITIONS; i++) {
        if (!strcmp(cond, condition_names[i])) {
            rule.condition = i;
            break;
        }
    }
    if (i == PS_N_CONDITIONS || (rule.negated && !rule.condition)) {
        return ps_xasprintf("unknown condition \"%s\" (-, cpu_high, "
                            "tx_near_capacity, rx_near_capacity, each "
                            "negated by a leading '!')", cond);
    }

    for (char *save = NULL, *r = strtok_r(resources, ",", &save); r;
         r = strtok_r(NULL, ",", &save)) {
        r = trim(r);
        if (!*r) {
            continue;
        }
        for (char *p = r; *p; p++) {
            *p = tolower((unsigned char) *p);
        }
        rule.resources = ps_xrealloc(rule.resources, (rule.n_resources + 1)
                                     * sizeof *rule.resources);
        rule.resources[rule.n_resources++] = ps_xstrdup(r);
    }
    if (!rule.n_resources) {
        return ps_xstrdup("a rule needs at least one resource");
    }
    rule.reason = slash ? ps_xstrdup(slash + 1) : NULL;

    rb->rules = ps_grow(rb->rules, allocated, rb->n_rules + 1,
                        sizeof *rb->rules);
    rb->rules[rb->n_rules++] = rule;
    return NULL;
}

struct ps_rulebook *
ps_rulebook_parse(const char *text, const char *name, char **errp)
{
    struct ps_rulebook *rb = ps_xcalloc(1, sizeof *rb);
    rb->name = ps_xstrdup(name);
    rb->cpu_high = 0.9;
    rb->near_capacity = 0.9;
    rb->min_drops = 1;
    rb->min_loss_ratio = 0.0001;
    rb->vm_share = 0.05;

    char *copy = ps_xstrdup(text);
    size_t allocated = 0;
    int line = 0;
    char *error = NULL;

    /* Line by line, keeping the count for messages. */
    for (char *p = copy; p && !error; line++) {
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
        }
        char *hash = strchr(p, '#');
        if (hash) {
            *hash = '\0';
        }
        char *rest = p;
        char *first = next_word(&rest);
        if (first) {
            error = (!strcmp(first, "set")
                     ? parse_setting(rb, rest)
                     : parse_rule(rb, first, rest, &allocated, line + 1));
        }
        p = nl ? nl + 1 : NULL;
    }
    free(copy);

    if (!error && !rb->n_rules) {
        error = ps_xstrdup("no rules");
        line = 0;
    }
    if (error) {
        *errp = (line ? ps_xasprintf("%s:%d: %s", name, line, error)
                 : ps_xasprintf("%s: %s", name, error));
        free(error);
        ps_rulebook_destroy(rb);
        return NULL;
    }
    return rb;
}

struct ps_rulebook *
ps_rulebook_load(const char *path, char **errp)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *errp = ps_xasprintf("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, allocated = 0;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n > (1u << 20)) {
            fclose(f);
            free(text);
            *errp = ps_xasprintf("%s: larger than 1 MiB; not a rule book",
                                 path);
            return NULL;
        }
        text = ps_grow(text, &allocated, len + n + 1, 1);
        memcpy(text + len, buf, n);
        len += n;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(text);
        *errp = ps_xasprintf("%s: read error", path);
        return NULL;
    }
    text = ps_grow(text, &allocated, len + 1, 1);
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        *errp = ps_xasprintf("%s: contains a NUL byte; not a rule book",
                             path);
        return NULL;
    }

    struct ps_rulebook *rb = ps_rulebook_parse(text, path, errp);
    free(text);
    return rb;
}

const char *
ps_rulebook_default_path(void)
{
    return PKGDATADIR "/rulebook";
}

/* Generated from data/rulebook into rulebook-default.c. */
extern const char ps_rulebook_default_text[];

struct ps_rulebook *
ps_rulebook_load_default(char **errp)
{
    const char *path = ps_rulebook_default_path();
    if (access(path, F_OK)) {
        return ps_rulebook_parse(ps_rulebook_default_text,
                                 "<built-in rulebook>", errp);
    }
    return ps_rulebook_load(path, errp);
}
