/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox.c - the durable outbox: its tables on both engines, adding a
 * delivery, claiming due ones, and recording each attempt's outcome.
 *
 * The state machine and why each step is one guarded UPDATE are in
 * outbox.h.  Times are Unix milliseconds in 64-bit integers, so the same
 * comparisons run on SQLite and PostgreSQL.  Every attempt leaves a row in
 * report_delivery_log (node, attempt, HTTP status, error): the history an
 * operator reads when a delivery went dead.
 */
#include "report/outbox.h"

#include <string.h>
#include <time.h>

#define REPORT_TABLES(SERIAL_ID, INT64)                                                                          \
  "CREATE TABLE IF NOT EXISTS report_hooks("                                                                      \
  "  id TEXT PRIMARY KEY,"                                                                                        \
  "  url TEXT NOT NULL,"                                                                                          \
  "  events TEXT NOT NULL,"                                                                                       \
  "  secret TEXT NOT NULL,"                                                                                       \
  "  created_at " INT64 " NOT NULL,"                                                                              \
  "  deleted_at " INT64 " NOT NULL DEFAULT 0);"                                                                   \
  "CREATE TABLE IF NOT EXISTS report_deliveries("                                                                 \
  "  id " SERIAL_ID ","                                                                                           \
  "  kind TEXT NOT NULL,"                                                                                         \
  "  target TEXT NOT NULL,"                                                                                       \
  "  event TEXT NOT NULL,"                                                                                        \
  "  idem_key TEXT NOT NULL UNIQUE,"                                                                              \
  "  payload TEXT NOT NULL,"                                                                                      \
  "  state TEXT NOT NULL DEFAULT 'pending',"                                                                      \
  "  attempts INTEGER NOT NULL DEFAULT 0,"                                                                        \
  "  next_at " INT64 " NOT NULL,"                                                                                 \
  "  created_at " INT64 " NOT NULL,"                                                                              \
  "  updated_at " INT64 " NOT NULL,"                                                                              \
  "  last_error TEXT);"                                                                                           \
  "CREATE INDEX IF NOT EXISTS report_deliveries_due ON report_deliveries(state, next_at);"                       \
  "CREATE TABLE IF NOT EXISTS report_delivery_log("                                                               \
  "  id " SERIAL_ID ","                                                                                           \
  "  delivery_id " INT64 " NOT NULL,"                                                                             \
  "  attempt INTEGER NOT NULL,"                                                                                   \
  "  at " INT64 " NOT NULL,"                                                                                      \
  "  node TEXT NOT NULL,"                                                                                         \
  "  outcome TEXT NOT NULL,"                                                                                      \
  "  status INTEGER NOT NULL,"                                                                                    \
  "  error TEXT);"                                                                                                \
  "CREATE INDEX IF NOT EXISTS report_delivery_log_d ON report_delivery_log(delivery_id, id);"                                                                                                                  \
  "CREATE TABLE IF NOT EXISTS report_reports("                                                                    \
  "  id " SERIAL_ID ","                                                                                           \
  "  case_id " INT64 " NOT NULL,"                                                                                 \
  "  case_ids TEXT NOT NULL,"                                                                                     \
  "  mode TEXT NOT NULL,"                                                                                         \
  "  location TEXT,"                                                                                              \
  "  created_at " INT64 " NOT NULL,"                                                                              \
  "  created_by TEXT,"                                                                                            \
  "  xml TEXT NOT NULL,"                                                                                          \
  "  state TEXT NOT NULL DEFAULT 'exported',"                                                                     \
  "  ncmec_report_id TEXT,"                                                                                       \
  "  files TEXT NOT NULL DEFAULT '[]',"                                                                           \
  "  responses TEXT NOT NULL DEFAULT '[]');"                                                                      \
  "CREATE INDEX IF NOT EXISTS report_reports_case ON report_reports(case_id, id);"                               \
  "CREATE TABLE IF NOT EXISTS report_holds("                                                                      \
  "  case_id " INT64 " PRIMARY KEY,"                                                                              \
  "  until_s " INT64 " NOT NULL,"                                                                                 \
  "  reason TEXT NOT NULL,"                                                                                       \
  "  updated_at " INT64 " NOT NULL,"                                                                              \
  "  updated_by TEXT);"

static const char sqlite_schema[] = REPORT_TABLES("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER");
static const char pg_schema[] = "BEGIN;"
                                "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_SCHEMA ");" REPORT_TABLES(
                                    "BIGSERIAL PRIMARY KEY", "BIGINT") "COMMIT;";

int vigil__report_schema(vigil__sql *db, vigil_error *err) {
  int rc = vigil__sql_script(db, vigil__sql_engine(db) == VIGIL__SQL_PG ? pg_schema : sqlite_schema, err);
  return rc ? vigil__prefixerr(err, rc, "outbox tables") : VIGIL_OK;
}

int64_t vigil__report_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vigil__outbox_add(vigil__sql *db, const char *kind, const char *target, const char *event, const char *key,
                      const char *payload, int64_t *id, vigil_error *err) {
  *id = 0;
  int64_t now = vigil__report_now_ms();
  const vigil__val p[] = {vigil__vtext(kind), vigil__vtext(target), vigil__vtext(event),
                          vigil__vtext(key),  vigil__vtext(payload), vigil__vint(now)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db,
                          "INSERT INTO report_deliveries(kind, target, event, idem_key, payload, next_at, created_at,"
                          " updated_at) VALUES($1, $2, $3, $4, $5, $6, $6, $6)"
                          " ON CONFLICT(idem_key) DO NOTHING RETURNING id",
                          p, 6, &rows, NULL, err);
  if (rc == VIGIL_OK && vigil__rows_count(rows) == 1) *id = vigil__rows_int(rows, 0, 0);
  vigil__rows_free(rows);
  return rc ? vigil__prefixerr(err, rc, "add delivery") : VIGIL_OK;
}

void vigil__delivery_free(vigil__delivery *d, size_t n) {
  for (size_t i = 0; d && i < n; i++) free(d[i].payload);
  free(d);
}

static void copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

int vigil__outbox_claim(vigil__sql *db, int max, int64_t lease_ms, const char *node, vigil__delivery **out,
                        size_t *n, vigil_error *err) {
  (void)node;
  *out = NULL;
  *n = 0;
  int64_t now = vigil__report_now_ms();
  /* One statement: atomic on SQLite (the writer lock), and on PostgreSQL
   * the inner SELECT locks the rows it returns and skips rows another
   * node's claim holds, so two nodes never claim the same row. */
  const char *sql = vigil__sql_engine(db) == VIGIL__SQL_PG
                        ? "UPDATE report_deliveries SET state = 'sending', attempts = attempts + 1, next_at = $2,"
                          " updated_at = $1 WHERE id IN (SELECT id FROM report_deliveries"
                          " WHERE state IN ('pending', 'sending') AND next_at <= $1 ORDER BY next_at, id LIMIT $3"
                          " FOR UPDATE SKIP LOCKED)"
                          " RETURNING id, kind, target, event, idem_key, attempts, payload"
                        : "UPDATE report_deliveries SET state = 'sending', attempts = attempts + 1, next_at = $2,"
                          " updated_at = $1 WHERE id IN (SELECT id FROM report_deliveries"
                          " WHERE state IN ('pending', 'sending') AND next_at <= $1 ORDER BY next_at, id LIMIT $3)"
                          " RETURNING id, kind, target, event, idem_key, attempts, payload";
  const vigil__val p[] = {vigil__vint(now), vigil__vint(now + lease_ms), vigil__vint(max)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db, sql, p, 3, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "claim deliveries");
  size_t k = vigil__rows_count(rows);
  vigil__delivery *d = k ? calloc(k, sizeof *d) : NULL;
  if (k && !d) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < k; i++) {
    d[i].id = vigil__rows_int(rows, i, 0);
    copy(d[i].kind, sizeof d[i].kind, vigil__rows_text(rows, i, 1));
    copy(d[i].target, sizeof d[i].target, vigil__rows_text(rows, i, 2));
    copy(d[i].event, sizeof d[i].event, vigil__rows_text(rows, i, 3));
    copy(d[i].key, sizeof d[i].key, vigil__rows_text(rows, i, 4));
    d[i].attempt = (int)vigil__rows_int(rows, i, 5);
    if (!(d[i].payload = strdup(vigil__rows_text(rows, i, 6)))) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  vigil__rows_free(rows);
  if (rc) {
    /* the rows stay claimed; their lease ends and they are claimed again */
    vigil__delivery_free(d, k);
    return rc;
  }
  *out = d;
  *n = k;
  return VIGIL_OK;
}

int vigil__outbox_renew(vigil__sql *db, const vigil__delivery *d, int64_t lease_ms, int *held, vigil_error *err) {
  *held = 0;
  int64_t now = vigil__report_now_ms();
  /* attempts = $3: the claim this worker took, and no later one */
  const vigil__val p[] = {vigil__vint(now + lease_ms), vigil__vint(d->id), vigil__vint(d->attempt)};
  int64_t changed = 0;
  int rc = vigil__sql_run(
      db, "UPDATE report_deliveries SET next_at = $1 WHERE id = $2 AND state = 'sending' AND attempts = $3", p, 3, NULL,
      &changed, err);
  if (rc) return vigil__prefixerr(err, rc, "renew delivery claim");
  *held = changed == 1;
  return VIGIL_OK;
}

int vigil__outbox_finish(vigil__sql *db, const vigil__delivery *d, int ok, int status, const char *error,
                         int64_t retry_in_ms, int max_attempts, const char *node, vigil_error *err) {
  int64_t now = vigil__report_now_ms();
  const char *state = ok ? "done" : (retry_in_ms < 0 || d->attempt >= max_attempts) ? "dead" : "pending";
  char e[256];
  copy(e, sizeof e, ok ? NULL : error);
  const vigil__val p[] = {vigil__vtext(state), vigil__vint(ok ? now : now + (retry_in_ms < 0 ? 0 : retry_in_ms)),
                          vigil__vint(now),     vigil__vtext(ok ? NULL : e),
                          vigil__vint(d->id),   vigil__vint(d->attempt)};
  const vigil__val lp[] = {vigil__vint(d->id), vigil__vint(d->attempt), vigil__vint(now), vigil__vtext(node),
                           vigil__vtext(ok ? "done" : state), vigil__vint(status), vigil__vtext(ok ? NULL : e)};
  int64_t changed = 0;
  int rc = vigil__sql_begin(db, err);
  /* attempts = $6: only the claim this worker holds is finished; a
   * worker whose lease ran out and whose row was claimed again changes
   * nothing but its own history line. */
  if (!rc)
    rc = vigil__sql_run(db,
                        "UPDATE report_deliveries SET state = $1, next_at = $2, updated_at = $3, last_error = $4"
                        " WHERE id = $5 AND state = 'sending' AND attempts = $6",
                        p, 6, NULL, &changed, err);
  if (!rc)
    rc = vigil__sql_run(db,
                        "INSERT INTO report_delivery_log(delivery_id, attempt, at, node, outcome, status, error)"
                        " VALUES($1, $2, $3, $4, $5, $6, $7)",
                        lp, 7, NULL, NULL, err);
  if (!rc) rc = vigil__sql_commit(db, err);
  else vigil__sql_rollback(db);
  (void)changed;
  return rc ? vigil__prefixerr(err, rc, "finish delivery") : VIGIL_OK;
}

void vigil__outbox_opts_default(vigil__outbox_opts *o) {
  memset(o, 0, sizeof *o);
  o->poll_ms = 500;
  o->lease_s = 60;
  o->max_attempts = 10;
  o->backoff_ms = 5000;
  o->backoff_max_ms = 3600 * 1000;
  o->timeout_s = 10;
}

int64_t vigil__outbox_backoff_ms(const vigil__outbox_opts *o, int attempt) {
  int64_t b = o->backoff_ms > 0 ? o->backoff_ms : 1;
  for (int i = 1; i < attempt && b < o->backoff_max_ms; i++) b *= 2;
  return b < o->backoff_max_ms ? b : o->backoff_max_ms;
}

/* ---- reading and retrying (the operator's side) -------------------------- */

int vigil__delivery_list(vigil__sql *db, const char *state, int64_t after_id, int limit, vigil_delivery_info **out,
                         size_t *n, vigil_error *err) {
  *out = NULL;
  *n = 0;
  if (limit < 1 || limit > 1000) return vigil__seterr(err, VIGIL_EINVAL, "limit: expected 1 to 1000");
  const vigil__val p[] = {vigil__vtext(state), vigil__vint(after_id), vigil__vint(limit)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db,
                          "SELECT id, kind, target, event, idem_key, state, attempts, next_at, created_at, last_error"
                          " FROM report_deliveries WHERE ($1 IS NULL OR state = $1) AND id > $2 ORDER BY id LIMIT $3",
                          p, 3, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "list deliveries");
  size_t k = vigil__rows_count(rows);
  vigil_delivery_info *d = k ? calloc(k, sizeof *d) : NULL;
  if (k && !d) {
    vigil__rows_free(rows);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < k; i++) {
    d[i].id = vigil__rows_int(rows, i, 0);
    copy(d[i].kind, sizeof d[i].kind, vigil__rows_text(rows, i, 1));
    copy(d[i].target, sizeof d[i].target, vigil__rows_text(rows, i, 2));
    copy(d[i].event, sizeof d[i].event, vigil__rows_text(rows, i, 3));
    copy(d[i].key, sizeof d[i].key, vigil__rows_text(rows, i, 4));
    copy(d[i].state, sizeof d[i].state, vigil__rows_text(rows, i, 5));
    d[i].attempts = (int)vigil__rows_int(rows, i, 6);
    d[i].next_at_ms = vigil__rows_int(rows, i, 7);
    d[i].created_at_ms = vigil__rows_int(rows, i, 8);
    copy(d[i].last_error, sizeof d[i].last_error, vigil__rows_text(rows, i, 9));
  }
  vigil__rows_free(rows);
  *out = d;
  *n = k;
  return VIGIL_OK;
}

int vigil__delivery_retry(vigil__sql *db, int64_t id, vigil_error *err) {
  int64_t now = vigil__report_now_ms(), changed = 0;
  const vigil__val p[] = {vigil__vint(now), vigil__vint(id)};
  int rc = vigil__sql_run(db,
                          "UPDATE report_deliveries SET state = 'pending', attempts = 0, next_at = $1, updated_at = $1"
                          " WHERE id = $2 AND state = 'dead'",
                          p, 2, NULL, &changed, err);
  if (rc) return vigil__prefixerr(err, rc, "retry delivery");
  if (changed) return VIGIL_OK;
  vigil__rows *rows = NULL;
  const vigil__val q[] = {vigil__vint(id)};
  rc = vigil__sql_run(db, "SELECT state FROM report_deliveries WHERE id = $1", q, 1, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "retry delivery");
  int found = vigil__rows_count(rows) > 0;
  char st[16];
  copy(st, sizeof st, found ? vigil__rows_text(rows, 0, 0) : NULL);
  vigil__rows_free(rows);
  if (!found) return vigil__seterr(err, VIGIL_ENOTFOUND, "no delivery %lld", (long long)id);
  return vigil__seterr(err, VIGIL_EEXIST, "delivery %lld is %s, not dead", (long long)id, st);
}
