/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Prints the time to diagnose windows of 1k, 10k and 100k elements: hosts
 * of 100 elements each (a pNIC, 8 backlogs, OVS ports, taps, QEMU, guest
 * elements and a middlebox per VM), some losing packets.  Three figures
 * per size, each the median of several runs:
 *
 *   window     two samples of every element → deltas (ps_window_builder)
 *   diagnose   Algorithm 1 over every host of the window
 *   end-to-end the same from JSON Lines text: parse, window, diagnose
 *   jansson    the same end to end with the reader PerfSight had before
 *              (getc() per byte, jansson per record), side by side
 *
 * usage: bench-diagnose [RUNS [MAX_ELEMENTS]] */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench-util.h"
#include "perfsight/contention.h"
#include "perfsight/window.h"

#define ELEMENTS_PER_HOST 100
#define VMS_PER_HOST 8

/* The i'th element of a host: its id, type and VM. */
static void
describe(int i, char *id, size_t size, enum ps_element_type *type,
         char *vm, size_t vm_size)
{
    static const struct {
        enum ps_element_type type;
        const char *format;
    } per_vm[] = {
        { PS_VSWITCH, "vswitch:br0:vnet%d:tx" },
        { PS_VSWITCH, "vswitch:br0:vnet%d:rx" },
        { PS_TAP, "tap:vnet%d:to_guest" },
        { PS_TAP, "tap:vnet%d:from_guest" },
        { PS_HYPERVISOR, "hypervisor:vm%d:net0:rx" },
        { PS_HYPERVISOR, "hypervisor:vm%d:net0:tx" },
        { PS_VNIC, "vnic:vm%d:eth0:rx" },
        { PS_VNIC, "vnic:vm%d:eth0:tx" },
        { PS_GUEST_BACKLOG, "guest_backlog:vm%d:cpu0" },
        { PS_MIDDLEBOX, "middlebox:vm%d:proxy" },
        { PS_CPU, "cpu:vm%d" },
    };
    vm[0] = '\0';
    if (i < 4) {
        static const char *const nic[] = {
            "pnic:eth0:rx", "pnic:eth0:tx", "pnic_driver:eth0:rx",
            "pnic_driver:eth0:tx",
        };
        snprintf(id, size, "%s", nic[i]);
        *type = i < 2 ? PS_PNIC : PS_PNIC_DRIVER;
    } else if (i < 12) {
        snprintf(id, size, "backlog:cpu%d", i - 4);
        *type = PS_BACKLOG;
    } else if (i < 12 + VMS_PER_HOST * 11) {
        int k = i - 12, v = k / 11;
        snprintf(id, size, per_vm[k % 11].format, v);
        *type = per_vm[k % 11].type;
        snprintf(vm, vm_size, "vm%d", v);
    } else {
        snprintf(id, size, "cpu:host");
        *type = PS_CPU;
    }
}

/* Writes the JSON Lines of 'n_hosts' hosts, two samples each. */
static char *
make_text(int n_hosts, size_t *len)
{
    size_t allocated = (size_t) n_hosts * ELEMENTS_PER_HOST * 2 * 320;
    char *text = malloc(allocated);
    size_t pos = 0;

    for (int s = 0; s < 2; s++) {
        for (int h = 0; h < n_hosts; h++) {
            for (int i = 0; i < ELEMENTS_PER_HOST; i++) {
                char id[64], vm[16];
                enum ps_element_type type;
                describe(i, id, sizeof id, &type, vm, sizeof vm);
                long long in = 1000000 + 50000LL * s * (i + 1);
                long long drops = 10 + (long long) s * ((h + i) % 7 == 0
                                                        ? 500 * (i % 5) : 0);
                pos += snprintf(
                    text + pos, allocated - pos,
                    "{\"ts_ns\": %lld, \"host\": \"hv%d\", \"element\": "
                    "\"%s\", \"type\": \"%s\"%s%s%s, \"attrs\": {"
                    "\"in_packets\": %lld, \"in_bytes\": %lld, "
                    "\"out_packets\": %lld, \"out_bytes\": %lld, "
                    "\"drops\": %lld, \"in_time_ns\": %lld, "
                    "\"out_time_ns\": %lld%s}}\n",
                    1764151200000000000LL + s * 1000000000LL + i * 15000LL,
                    h, id, ps_element_type_name(type),
                    vm[0] ? ", \"vm\": \"" : "", vm, vm[0] ? "\"" : "",
                    in, in * 900, in - drops, (in - drops) * 900, drops,
                    in * 3, in * 4,
                    type == PS_CPU ? ", \"cpu_util\": 0.5" : "");
            }
        }
    }
    *len = pos;
    return text;
}

/* Parses 'text' into records once, so that the window benchmark measures
 * the window and not the parser. */
static struct ps_record *
parse_all(const char *text, size_t len, size_t *n)
{
    FILE *f = fmemopen((void *) text, len, "r");
    struct ps_reader *rd = ps_reader_from_stream(f, "bench");
    size_t allocated = 1024;
    struct ps_record *records = malloc(allocated * sizeof *records);
    char *error = NULL;

    *n = 0;
    for (;;) {
        if (*n == allocated) {
            allocated *= 2;
            records = realloc(records, allocated * sizeof *records);
        }
        int retval = ps_reader_next(rd, &records[*n], &error);
        if (retval <= 0) {
            if (retval < 0) {
                fprintf(stderr, "bench: %s\n", error);
                exit(1);
            }
            break;
        }
        (*n)++;
    }
    ps_reader_close(rd);
    fclose(f);
    return records;
}

/* The reader before simdjson (commit 9a073c7): one getc() per byte into a
 * buffer, then jansson for each record. */
static void
old_end_to_end(char *text, size_t len, struct ps_window_builder *b)
{
    FILE *f = fmemopen(text, len, "r");
    char *buf = NULL;
    size_t n = 0, allocated = 0;
    int c;

    do {
        c = getc_unlocked(f);
        if (c != '\n' && c != EOF) {
            if (n == allocated) {
                allocated = allocated ? 2 * allocated : 512;
                buf = realloc(buf, allocated);
            }
            buf[n++] = c;
            continue;
        }
        if (n) {
            json_error_t jerr;
            json_t *json = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
            struct ps_record r;
            ps_record_init(&r);
            char *error = json ? ps_record_from_json(json, &r, NULL, NULL)
                               : strdup(jerr.text);
            json_decref(json);
            if (error) {
                fprintf(stderr, "bench: %s\n", error);
                exit(1);
            }
            free(ps_window_builder_add(b, &r));
        }
        n = 0;
    } while (c != EOF);
    free(buf);
    fclose(f);
}

static struct ps_record *
copy_records(const struct ps_record *src, size_t n)
{
    struct ps_record *dst = malloc(n * sizeof *dst);
    for (size_t i = 0; i < n; i++) {
        ps_record_clone(&dst[i], &src[i]);
    }
    return dst;
}

int
main(int argc, char *argv[])
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    int max_elements = argc > 2 ? atoi(argv[2]) : 100000;
    char *error = NULL;
    struct ps_rulebook *rb = ps_rulebook_load_default(&error);

    if (runs < 1 || !rb) {
        fprintf(stderr, "usage: bench-diagnose [RUNS [MAX_ELEMENTS]]\n");
        return 2;
    }

    printf("%-10s %10s %12s %15s %13s %7s %15s\n", "elements",
           "window ms", "diagnose ms", "end-to-end ms", "jansson ms", "ratio",
           "diagnosed el/s");
    static const int sizes[] = { 1000, 10000, 100000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        if (sizes[k] > max_elements) {
            break;
        }
        int n_hosts = sizes[k] / ELEMENTS_PER_HOST;
        size_t len, n_records;
        char *text = make_text(n_hosts, &len);
        struct ps_record *records = parse_all(text, len, &n_records);
        double t_window[64], t_diag[64], t_e2e[64], t_old[64];
        int r_max = runs < 64 ? runs : 64;

        for (int r = 0; r < r_max; r++) {
            struct ps_record *copy = copy_records(records, n_records);
            double t0 = bench_now();
            struct ps_window_builder *b = ps_window_builder_create(NULL);
            for (size_t i = 0; i < n_records; i++) {
                free(ps_window_builder_add(b, &copy[i]));
            }
            struct ps_window *w = ps_window_builder_finish(b, &error);
            double t1 = bench_now();
            struct ps_contention_report report;
            ps_contention_diagnose(rb, w, &report);
            double t2 = bench_now();
            if (report.n_hosts != (size_t) n_hosts
                || w->n_deltas != (size_t) sizes[k]) {
                fprintf(stderr, "bench: wrong window\n");
                return 1;
            }
            ps_contention_report_destroy(&report);
            ps_window_destroy(w);
            free(copy);
            t_window[r] = t1 - t0;
            t_diag[r] = t2 - t1;

            /* End to end, from text. */
            t0 = bench_now();
            FILE *f = fmemopen(text, len, "r");
            struct ps_reader *rd = ps_reader_from_stream(f, "bench");
            b = ps_window_builder_create(NULL);
            struct ps_record rec;
            while (ps_reader_next(rd, &rec, &error) > 0) {
                free(ps_window_builder_add(b, &rec));
            }
            ps_reader_close(rd);
            fclose(f);
            w = ps_window_builder_finish(b, &error);
            ps_contention_diagnose(rb, w, &report);
            t_e2e[r] = bench_now() - t0;
            ps_contention_report_destroy(&report);
            ps_window_destroy(w);

            /* The same with the old reader. */
            t0 = bench_now();
            b = ps_window_builder_create(NULL);
            old_end_to_end(text, len, b);
            w = ps_window_builder_finish(b, &error);
            ps_contention_diagnose(rb, w, &report);
            t_old[r] = bench_now() - t0;
            ps_contention_report_destroy(&report);
            ps_window_destroy(w);
        }

        double win = bench_median(t_window, r_max);
        double diag = bench_median(t_diag, r_max);
        double e2e = bench_median(t_e2e, r_max);
        double old = bench_median(t_old, r_max);
        printf("%-10d %10.2f %12.2f %15.1f %13.1f %6.1fx %15.0f\n",
               sizes[k], win * 1e3, diag * 1e3, e2e * 1e3, old * 1e3,
               old / e2e, sizes[k] / (win + diag));
        for (size_t i = 0; i < n_records; i++) {
            ps_record_destroy(&records[i]);
        }
        free(records);
        free(text);
    }
    printf("(window + diagnose: from records in memory to verdicts; "
           "end-to-end adds reading JSON Lines; jansson: end to end with "
           "the reader before simdjson; ratio = jansson / end-to-end; "
           "median of %d runs)\n", runs);
    ps_rulebook_destroy(rb);
    return 0;
}
