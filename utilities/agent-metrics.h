/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef AGENT_METRICS_H
#define AGENT_METRICS_H 1

/* What perfsight-agent serves: one round of samples as DESIGN.md §3 JSON,
 * or in Prometheus's text exposition format (docs/agent.md, "Metrics"). */

#include <stddef.h>
#include "perfsight/source.h"

/* Returns the samples as a JSON array in a malloc'd string. */
char *agent_render_json(const struct ps_samples *, size_t *lenp);

/* Returns the samples in Prometheus text format in a malloc'd string. */
char *agent_render_prometheus(const struct ps_samples *, size_t *lenp);

/* Writes into 'buf' (at least 'size' bytes) the Prometheus metric name of
 * counter attribute 'attr' and sets '*seconds' if its value is in
 * nanoseconds that the metric gives in seconds: "in_packets" →
 * "perfsight_in_packets_total", "in_time_ns" →
 * "perfsight_in_time_seconds_total". */
void agent_metric_name(const char *attr, char *buf, size_t size,
                       bool *seconds);

#endif /* agent-metrics.h */
