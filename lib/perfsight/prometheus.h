/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_PROMETHEUS_H
#define PERFSIGHT_PROMETHEUS_H 1

#include <stddef.h>
#include "perfsight/gather.h"
#include "perfsight/record.h"
#include "perfsight/window.h"

/* Windows taken from Prometheus's HTTP API, over the series that
 * perfsight-agent's /metrics exposes (utilities/agent-metrics.c writes
 * them, with extra families for its sources' own counters):
 *
 *   counter          metric                                  unit
 *   in_packets       perfsight_in_packets_total
 *   in_bytes         perfsight_in_bytes_total                bytes
 *   out_packets      perfsight_out_packets_total
 *   out_bytes        perfsight_out_bytes_total               bytes
 *   drops            perfsight_drops_total
 *   drops.<reason>   perfsight_drops_by_reason_total{reason=}
 *   in_time_ns       perfsight_in_time_seconds_total         seconds
 *   out_time_ns      perfsight_out_time_seconds_total        seconds
 *   capacity_bps     perfsight_capacity_bps                  gauge, bits/s
 *   cpu_util         perfsight_cpu_util                      gauge, 0..1
 *
 * Every series has the labels host, element, type and, when set, vm and
 * tenant. */

/* Builds a window from a Prometheus server at 'base_url': the raw samples
 * of every perfsight_* series over the 2 x 'opts->seconds' (default 1 s)
 * before 'opts->end_ns' (default now), with the window builder's choice of
 * samples.  Returns NULL with '*errp' set on error. */
struct ps_window *ps_prometheus_window(const char *base_url,
                                       const struct ps_window_options *,
                                       const struct ps_gather_options *,
                                       char **errp);

/* Parses a Prometheus /api/v1/query answer whose result is a matrix of
 * perfsight_* series into records (sorted by element, then time), adding
 * them to 'b'.  For ps_prometheus_window() and tests. */
char *ps_prometheus_parse_matrix(const char *json_text, size_t len,
                                 struct ps_window_builder *b);

#endif /* perfsight/prometheus.h */
