/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
out_of_memory(void)
{
    fputs("perfsight: out of memory\n", stderr);
    abort();
}

void *
ps_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
ps_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
ps_xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

char *
ps_xstrdup(const char *s)
{
    size_t len = strlen(s) + 1;
    return memcpy(ps_xmalloc(len), s, len);
}

char *
ps_xvasprintf(const char *format, va_list args)
{
    char *s;
    if (vasprintf(&s, format, args) < 0) {
        out_of_memory();
    }
    return s;
}

char *
ps_xasprintf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *s = ps_xvasprintf(format, args);
    va_end(args);
    return s;
}

void *
ps_grow(void *array, size_t *allocated, size_t n, size_t size)
{
    if (n <= *allocated) {
        return array;
    }
    size_t new = *allocated ? *allocated * 2 : 8;
    while (new < n) {
        new *= 2;
    }
    if (new > SIZE_MAX / size) {
        out_of_memory();
    }
    *allocated = new;
    return ps_xrealloc(array, new * size);
}

/* Open hashing with chains; buckets double when the load passes 1. */
struct ps_index_node {
    struct ps_index_node *next;
    uint32_t hash;
    size_t value;
    size_t len;
    char key[];
};

struct ps_index {
    struct ps_index_node **buckets;
    size_t mask;                /* Number of buckets - 1. */
    size_t n;
};

static uint32_t
hash_bytes(const char *key, size_t len)
{
    uint32_t h = 2166136261u;   /* FNV-1a. */
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char) key[i]) * 16777619u;
    }
    return h;
}

struct ps_index *
ps_index_create(void)
{
    struct ps_index *index = ps_xmalloc(sizeof *index);
    index->mask = 63;
    index->n = 0;
    index->buckets = ps_xcalloc(index->mask + 1, sizeof *index->buckets);
    return index;
}

void
ps_index_destroy(struct ps_index *index)
{
    if (!index) {
        return;
    }
    for (size_t i = 0; i <= index->mask; i++) {
        struct ps_index_node *node = index->buckets[i];
        while (node) {
            struct ps_index_node *next = node->next;
            free(node);
            node = next;
        }
    }
    free(index->buckets);
    free(index);
}

int
ps_index_find(const struct ps_index *index, const char *key, size_t len,
              size_t *value)
{
    uint32_t hash = hash_bytes(key, len);
    for (const struct ps_index_node *node = index->buckets[hash & index->mask];
         node; node = node->next) {
        if (node->hash == hash && node->len == len
            && !memcmp(node->key, key, len)) {
            *value = node->value;
            return 1;
        }
    }
    return 0;
}

static void
index_expand(struct ps_index *index)
{
    size_t new_mask = index->mask * 2 + 1;
    struct ps_index_node **buckets = ps_xcalloc(new_mask + 1,
                                                sizeof *buckets);
    for (size_t i = 0; i <= index->mask; i++) {
        struct ps_index_node *node = index->buckets[i];
        while (node) {
            struct ps_index_node *next = node->next;
            node->next = buckets[node->hash & new_mask];
            buckets[node->hash & new_mask] = node;
            node = next;
        }
    }
    free(index->buckets);
    index->buckets = buckets;
    index->mask = new_mask;
}

void
ps_index_insert(struct ps_index *index, const char *key, size_t len,
                size_t value)
{
    if (index->n > index->mask) {
        index_expand(index);
    }
    struct ps_index_node *node = ps_xmalloc(sizeof *node + len);
    node->hash = hash_bytes(key, len);
    node->value = value;
    node->len = len;
    memcpy(node->key, key, len);
    node->next = index->buckets[node->hash & index->mask];
    index->buckets[node->hash & index->mask] = node;
    index->n++;
}
