/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/metrics.h - request counters, latency histograms and gauges per
 * route (metrics.c), rendered in Prometheus' text format by /metrics.
 */
#ifndef VIGIL_SERVER_METRICS_H
#define VIGIL_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "vigil/server.h"

typedef struct vigil__metrics vigil__metrics;
int vigil__metrics_new(vigil__metrics **out, size_t nroutes);
void vigil__metrics_free(vigil__metrics *m);
/* route -1: unmatched. */
void vigil__metrics_observe(vigil__metrics *m, int route, int status, int64_t latency_us);
int vigil__metrics_gauge_set(vigil__metrics *m, const char *name, const char *help, double v, vigil_error *err);
/* The same for a total kept elsewhere, exposed with TYPE counter (the name
 * ends in _total). */
int vigil__metrics_counter_set(vigil__metrics *m, const char *name, const char *help, double v, vigil_error *err);
/* Prometheus text exposition; malloc'd. */
char *vigil__metrics_render(vigil__metrics *m, size_t *len);
vigil__metrics *vigil__server_metrics(vigil_server *srv);
int64_t vigil__server_inflight(vigil_server *srv);
int64_t vigil__server_started_s(vigil_server *srv);
/* Connections closed for not sending their headers in time (--header-timeout). */
uint64_t vigil__server_header_timeouts(vigil_server *srv);
/* Connections closed for a body slower than --body-min-rate. */
uint64_t vigil__server_slow_bodies(vigil_server *srv);

#endif
