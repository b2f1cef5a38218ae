/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_hooks.c - webhook subscriptions and the outbox over HTTP, for admins:
 * subscribe, list, unsubscribe; list deliveries (dead letters included)
 * and retry a dead one.  The logic is lib/report's (report/outbox.h);
 * these handlers check shapes and hold the store's lock around each call.
 * The secret of a new subscription is in the 201 answer only: never in a
 * list, never in the audit log.
 */
#include "server/handlers.h"
#include "server/req.h"
#include "server/store.h"

#include "report/outbox.h"
#include "common/rfc3339.h"

#include <string.h>

/* Ends the transaction of an audited change begun with st->mu held: the
 * audit row (r->audit_detail as it is now) is written in it, so the
 * change and its record commit together or not at all. */
static int commit_audited(vigil__req *r, vigil_server_store *st, int rc, int status) {
  vigil__audit_rec a;
  char *detail = NULL;
  if (!rc) {
    vigil__req_audit_rec(r, status, &a, &detail);
    rc = vigil__audit_append_locked(st, &a, &r->err);
  }
  if (!rc) rc = vigil__sql_commit(st->db, &r->err);
  else vigil__sql_rollback(st->db);
  free(detail);
  if (!rc) r->audited = 1;
  return rc;
}

static json_t *hook_json(const vigil_hook_info *h) {
  json_t *ev = json_array();
  for (unsigned b = 1; ev && b <= VIGIL_EVENT_ALL; b <<= 1)
    if (h->events & b) json_array_append_new(ev, json_string(vigil_event_name(b)));
  return json_pack("{s:s, s:s, s:o, s:o}", "id", h->id, "url", h->url, "events", ev, "created_at",
                   vigil__json_time_s(h->created_at));
}

int vigil__h_hooks_create(vigil__req *r) {
  static const char *const allowed[] = {"url", "events", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *url;
  if (!vigil__json_str(r, "url", 1, VIGIL_HOOK_URL_MAX, &url)) return VIGIL_OK;
  json_t *ev = json_object_get(r->json, "events");
  if (!json_is_array(ev) || json_array_size(ev) == 0)
    return vigil__reply_error(r, 400, "invalid",
                              "'events' must be a non-empty array of match, case.opened, case.decided, bank.changed");
  unsigned bits = 0;
  size_t i;
  json_t *e;
  json_array_foreach(ev, i, e) {
    unsigned b = json_is_string(e) ? vigil_event_parse(json_string_value(e)) : 0;
    if (!b)
      return vigil__reply_error(r, 400, "invalid",
                                "events[%zu]: expected match, case.opened, case.decided or bank.changed", i);
    bits |= b;
  }
  vigil_server_store *st = vigil__req_store(r);
  char secret[VIGIL_HOOK_SECRET_MAX];
  vigil_hook_info h;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_begin(st->db, &r->err);
  if (!rc) rc = vigil__hook_create(st->db, url, bits, secret, &h, &r->err);
  if (!rc) r->audit_detail = json_pack("{s:s, s:s}", "hook", h.id, "url", h.url); /* never the secret */
  rc = commit_audited(r, st, rc, 201);
  pthread_mutex_unlock(&st->mu);
  if (rc) memset(secret, 0, sizeof secret);
  if (rc == VIGIL_EINVAL) return vigil__reply_error(r, 400, "invalid", "%s", r->err.message);
  if (rc) return rc;
  json_t *o = hook_json(&h);
  if (o) json_object_set_new(o, "secret", json_string(secret));
  memset(secret, 0, sizeof secret);
  return vigil__reply_json(r, 201, o);
}

int vigil__h_hooks_list(vigil__req *r) {
  vigil_server_store *st = vigil__req_store(r);
  vigil_hook_info *h;
  size_t n;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__hook_list(st->db, &h, &n, &r->err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return rc;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, hook_json(&h[i]));
  free(h);
  return vigil__reply_json(r, 200, json_pack("{s:o}", "hooks", arr));
}

int vigil__h_hooks_delete(vigil__req *r) {
  const char *id = vigil__req_param(r, "id");
  vigil_server_store *st = vigil__req_store(r);
  r->audit_detail = json_pack("{s:s}", "hook", id);
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_begin(st->db, &r->err);
  if (!rc) rc = vigil__hook_delete(st->db, id, &r->err);
  rc = commit_audited(r, st, rc, 200);
  pthread_mutex_unlock(&st->mu);
  if (rc) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1));
}

/* the outbox keeps Unix milliseconds; the API shows RFC 3339 */
static json_t *json_time_ms(int64_t unix_ms) {
  char t[VIGIL__RFC3339_MAX];
  if (unix_ms <= 0 || vigil__rfc3339_ms(unix_ms, t)) return json_null();
  return json_string(t);
}

int vigil__h_deliveries_list(vigil__req *r) {
  const char *state = vigil__req_query(r, "state");
  if (state && strcmp(state, "pending") && strcmp(state, "sending") && strcmp(state, "done") && strcmp(state, "dead"))
    return vigil__reply_error(r, 400, "invalid", "state: expected pending, sending, done or dead");
  int64_t after, limit;
  if (!vigil__query_int(r, "after_id", 0, INT64_MAX, 0, &after)) return VIGIL_OK;
  if (!vigil__query_int(r, "limit", 1, 1000, 100, &limit)) return VIGIL_OK;
  vigil_server_store *st = vigil__req_store(r);
  vigil_delivery_info *d;
  size_t n;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__delivery_list(st->db, state, after, (int)limit, &d, &n, &r->err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return rc;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    json_array_append_new(
        arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:s?}", "id", (json_int_t)d[i].id, "kind",
                       d[i].kind, "target", d[i].target, "event", d[i].event, "key", d[i].key, "state", d[i].state,
                       "attempts", d[i].attempts, "next_at", json_time_ms(d[i].next_at_ms), "created_at",
                       json_time_ms(d[i].created_at_ms), "last_error", d[i].last_error[0] ? d[i].last_error : NULL));
  json_int_t last = n ? (json_int_t)d[n - 1].id : 0;
  free(d);
  json_t *o = json_pack("{s:o}", "deliveries", arr);
  if (o && n == (size_t)limit) json_object_set_new(o, "next_after", json_integer(last));
  return vigil__reply_json(r, 200, o);
}

int vigil__h_delivery_retry(vigil__req *r) {
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  vigil_server_store *st = vigil__req_store(r);
  r->audit_detail = json_pack("{s:I}", "delivery", (json_int_t)id);
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_begin(st->db, &r->err);
  if (!rc) rc = vigil__delivery_retry(st->db, id, &r->err);
  rc = commit_audited(r, st, rc, 200);
  pthread_mutex_unlock(&st->mu);
  if (rc) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "pending"));
}

/* ---- events that are not case changes ------------------------------------- */

int vigil__server_emit(vigil__req *r, unsigned event, json_t *data) {
  vigil_server_store *st = vigil__req_store(r);
  int wanted = 0;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__hooks_wanted(st->db, event, &wanted, &r->err);
  if (rc || !wanted) {
    pthread_mutex_unlock(&st->mu);
    return rc;
  }
  rc = vigil__sql_begin(st->db, &r->err);
  if (!rc) rc = vigil__hooks_emit(st->db, event, data, &r->err);
  if (!rc) rc = vigil__sql_commit(st->db, &r->err);
  else vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  return rc;
}
