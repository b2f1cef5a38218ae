/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - counters and gauges for GET /metrics (Prometheus text format).
 *
 * Per route (plus "unmatched" for requests no route took): a request count
 * per status code and a latency histogram.  Counters are C11 atomics, so
 * observing a request takes no lock; only gauges, which other modules set
 * rarely, sit behind a mutex.  Status codes are folded into a fixed list
 * (anything else counts as "other") so memory is bounded whatever clients send.
 */
#include "server/req.h"
#include "server/metrics.h"
#include "common/grow.h"

#include <pthread.h>
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 411, 413, 415, 422, 500, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0]) /* last slot: other */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKET (sizeof buckets / sizeof buckets[0])
#define MAX_GAUGES 32

typedef struct route_stats {
  atomic_uint_fast64_t by_status[NSTATUS];
  atomic_uint_fast64_t bucket[NBUCKET + 1]; /* not cumulative; last is +Inf */
  atomic_uint_fast64_t sum_us;
} route_stats;

typedef struct gauge {
  char name[64];
  char help[128];
  double value;
  int counter; /* rendered as a counter (a total another module keeps) */
} gauge;

struct vigil__metrics {
  size_t nroutes;
  route_stats *r; /* nroutes + 1 */
  pthread_mutex_t mu;
  gauge g[MAX_GAUGES];
  int ngauges;
};

int vigil__metrics_new(vigil__metrics **out, size_t nroutes) {
  vigil__metrics *m = calloc(1, sizeof *m);
  if (m) m->r = calloc(nroutes + 1, sizeof *m->r);
  if (!m || !m->r) {
    free(m);
    return VIGIL_ENOMEM;
  }
  m->nroutes = nroutes;
  for (size_t i = 0; i <= nroutes; i++) {
    for (size_t k = 0; k < NSTATUS; k++) atomic_init(&m->r[i].by_status[k], 0);
    for (size_t k = 0; k <= NBUCKET; k++) atomic_init(&m->r[i].bucket[k], 0);
    atomic_init(&m->r[i].sum_us, 0);
  }
  pthread_mutex_init(&m->mu, NULL);
  *out = m;
  return VIGIL_OK;
}

void vigil__metrics_free(vigil__metrics *m) {
  if (!m) return;
  pthread_mutex_destroy(&m->mu);
  free(m->r);
  free(m);
}

void vigil__metrics_observe(vigil__metrics *m, int route, int status, int64_t latency_us) {
  size_t ri = route < 0 || (size_t)route >= m->nroutes ? m->nroutes : (size_t)route;
  size_t si = NSTATUS - 1;
  for (size_t k = 0; k + 1 < NSTATUS; k++)
    if (statuses[k] == status) si = k;
  if (latency_us < 0) latency_us = 0;
  size_t b = NBUCKET;
  for (size_t k = 0; k < NBUCKET; k++)
    if ((double)latency_us <= buckets[k] * 1e6) {
      b = k;
      break;
    }
  route_stats *r = &m->r[ri];
  atomic_fetch_add_explicit(&r->by_status[si], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&r->sum_us, (uint_fast64_t)latency_us, memory_order_relaxed);
}

static int value_set(vigil__metrics *m, const char *name, const char *help, double v, int counter, vigil_error *err) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 63) return vigil__seterr(err, VIGIL_EINVAL, "gauge name: 1 to 63 characters");
  for (size_t i = 0; i < n; i++)
    if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_'))
      return vigil__seterr(err, VIGIL_EINVAL, "gauge name: only a-z, 0-9 and _");
  pthread_mutex_lock(&m->mu);
  int i;
  for (i = 0; i < m->ngauges; i++)
    if (!strcmp(m->g[i].name, name)) break;
  int rc = VIGIL_OK;
  if (i == m->ngauges) {
    if (m->ngauges == MAX_GAUGES) rc = vigil__seterr(err, VIGIL_ELIMIT, "at most %d gauges", MAX_GAUGES);
    else {
      memcpy(m->g[i].name, name, n + 1);
      m->ngauges++;
    }
  }
  if (rc == VIGIL_OK) {
    /* help text: printable ASCII only, so it cannot break the exposition */
    size_t k = 0;
    for (const char *h = help ? help : ""; *h && k + 1 < sizeof m->g[i].help; h++)
      m->g[i].help[k++] = (*h >= 32 && *h < 127 && *h != '\\') ? *h : ' ';
    m->g[i].help[k] = 0;
    m->g[i].value = v;
    m->g[i].counter = counter;
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

int vigil__metrics_gauge_set(vigil__metrics *m, const char *name, const char *help, double v, vigil_error *err) {
  return value_set(m, name, help, v, 0, err);
}

int vigil__metrics_counter_set(vigil__metrics *m, const char *name, const char *help, double v, vigil_error *err) {
  return value_set(m, name, help, v, 1, err);
}

typedef struct sbuf {
  char *p;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) VIGIL__PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = 1;
      return;
    }
    if (b->p && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    if (vigil__grow_from((void **)&b->p, &b->cap, b->len + (size_t)n + 1, 1, 4096)) {
      b->oom = 1;
      return;
    }
  }
}

char *vigil__metrics_render(vigil__metrics *m, size_t *len) {
  sbuf b = {0};
  sb_printf(&b, "# HELP vigil_http_requests_total HTTP requests by route and status.\n"
                "# TYPE vigil_http_requests_total counter\n");
  for (size_t i = 0; i <= m->nroutes; i++) {
    const char *rn = i < m->nroutes ? vigil__routes[i].name : "unmatched";
    for (size_t k = 0; k < NSTATUS; k++) {
      uint64_t c = atomic_load_explicit(&m->r[i].by_status[k], memory_order_relaxed);
      if (!c) continue;
      if (statuses[k]) sb_printf(&b, "vigil_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", rn, statuses[k],
                                 (unsigned long long)c);
      else sb_printf(&b, "vigil_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", rn, (unsigned long long)c);
    }
  }
  sb_printf(&b, "# HELP vigil_http_request_duration_seconds Time from request headers to response queued.\n"
                "# TYPE vigil_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i <= m->nroutes; i++) {
    const char *rn = i < m->nroutes ? vigil__routes[i].name : "unmatched";
    uint64_t cum = 0;
    for (size_t k = 0; k <= NBUCKET; k++) {
      cum += atomic_load_explicit(&m->r[i].bucket[k], memory_order_relaxed);
      if (k < NBUCKET) sb_printf(&b, "vigil_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", rn,
                                 buckets[k], (unsigned long long)cum);
      else sb_printf(&b, "vigil_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", rn,
                     (unsigned long long)cum);
    }
    sb_printf(&b, "vigil_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", rn,
              (double)atomic_load_explicit(&m->r[i].sum_us, memory_order_relaxed) / 1e6);
    sb_printf(&b, "vigil_http_request_duration_seconds_count{route=\"%s\"} %llu\n", rn, (unsigned long long)cum);
  }
  pthread_mutex_lock(&m->mu);
  for (int i = 0; i < m->ngauges; i++) {
    sb_printf(&b, "# HELP vigil_%s %s\n# TYPE vigil_%s %s\nvigil_%s %.17g\n", m->g[i].name,
              m->g[i].help[0] ? m->g[i].help : m->g[i].name, m->g[i].name, m->g[i].counter ? "counter" : "gauge",
              m->g[i].name, m->g[i].value);
  }
  pthread_mutex_unlock(&m->mu);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}
