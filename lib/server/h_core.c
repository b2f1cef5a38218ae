/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_core.c - GET /healthz (no key: load balancers call it) and GET /metrics.
 */
#include "server/store.h"
#include "server/req.h"
#include "server/metrics.h"
#include "server/banks.h"
#include "server/handlers.h"

/* Degraded (503, so a load balancer stops sending matches here) when the
 * bank index has not been synced for VIGIL__BANK_STALE_US: this node would
 * answer from a bank state that may be long out of date.  Unhealthy (503)
 * when the database file is gone or read-only: writes would be lost.  An
 * empty PDQ index is said in "warnings" (200: the node works, but a match
 * by picture finds nothing). */
int vigil__h_healthz(vigil__req *r) {
  vigil__banks *b = vigil__server_banks(r->srv);
  double age = vigil__banks_age_s(b);
  int stale = age * 1e6 > (double)VIGIL__BANK_STALE_US;
  char why[512];
  int store_ok = vigil__server_store_ok(r->srv, why, sizeof why);
  size_t indexed = vigil__banks_indexed(b);
  json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:I, s:I}", "status", !store_ok ? "unhealthy" : stale ? "degraded" : "ok",
                        "version", VIGIL_VERSION, "uptime_s",
                        (json_int_t)(vigil__now_s() - vigil__server_started_s(r->srv)), "bank_index_age_s", age,
                        "bank_sync_failures", (json_int_t)vigil__banks_sync_failures(b), "index_size",
                        (json_int_t)indexed);
  if (o && !store_ok) json_object_set_new(o, "reason", json_string(why));
  else if (o && stale) json_object_set_new(o, "reason", json_string("the bank index is not being brought up to date"));
  if (o && indexed == 0)
    json_object_set_new(o, "warnings",
                        json_pack("[s]", "the PDQ index is empty: no enabled bank holds a PDQ hash, so matching a "
                                         "picture finds nothing"));
  return vigil__reply_json(r, stale || !store_ok ? 503 : 200, o);
}

int vigil__h_metrics(vigil__req *r) {
  vigil__metrics *m = vigil__server_metrics(r->srv);
  /* the server's own gauges, refreshed at each scrape */
  vigil__metrics_gauge_set(m, "http_inflight_requests", "Requests being served now.",
                           (double)vigil__server_inflight(r->srv), NULL);
  vigil__metrics_gauge_set(m, "uptime_seconds", "Seconds since the server started.",
                           (double)(vigil__now_s() - vigil__server_started_s(r->srv)), NULL);
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil__metrics_gauge_set(m, "bank_index_age_seconds", "Seconds since the bank index was last brought up to date.",
                           vigil__banks_age_s(b), NULL);
  vigil__metrics_counter_set(m, "bank_sync_failures_total", "Bank index syncs that failed.",
                             (double)vigil__banks_sync_failures(b), NULL);
  vigil__metrics_counter_set(m, "header_timeouts_total",
                             "Connections closed for not sending a request's headers within --header-timeout.",
                             (double)vigil__server_header_timeouts(r->srv), NULL);
  vigil__metrics_counter_set(m, "slow_bodies_total",
                             "Connections closed for a request body slower on average than --body-min-rate.",
                             (double)vigil__server_slow_bodies(r->srv), NULL);
  /* read here, at each scrape, so it is true whoever changed the banks */
  vigil__metrics_gauge_set(m, "index_size", "PDQ hashes in the matching index", (double)vigil__banks_indexed(b), NULL);
  size_t len = 0;
  char *text = vigil__metrics_render(m, &len);
  if (!text) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory rendering metrics");
  return vigil__reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
