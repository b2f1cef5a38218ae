/*
 * h_core.c - GET /healthz (no key: load balancers call it) and GET /metrics.
 */
#include "server/store.h"
#include "server/req.h"
#include "server/metrics.h"
#include "server/handlers.h"

int vigil__h_healthz(vigil__req *r) {
  return vigil__reply_json(r, 200, json_pack("{s:s, s:s, s:I}", "status", "ok", "version", VIGIL_VERSION,
                                             "uptime_s", (json_int_t)(vigil__now_s() - vigil__server_started_s(r->srv))));
}

int vigil__h_metrics(vigil__req *r) {
  vigil__metrics *m = vigil__server_metrics(r->srv);
  /* the server's own gauges, refreshed at each scrape */
  vigil__metrics_gauge_set(m, "http_inflight_requests", "Requests being served now.",
                           (double)vigil__server_inflight(r->srv), NULL);
  vigil__metrics_gauge_set(m, "uptime_seconds", "Seconds since the server started.",
                           (double)(vigil__now_s() - vigil__server_started_s(r->srv)), NULL);
  size_t len = 0;
  char *text = vigil__metrics_render(m, &len);
  if (!text) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory rendering metrics");
  return vigil__reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
