/* SPDX-License-Identifier: Apache-2.0 */
/*
 * claims.c - leases on review cases: "next case" hands a reviewer an open
 * case nobody else holds, for a lease that the console renews while the
 * reviewer works and that runs out if they leave.
 *
 * A lease is a row of server_case_claims (case, holder, end).  Taking one
 * is a single conditional upsert inside a transaction, under the store's
 * lock: on one node the lock alone makes it atomic; on PostgreSQL with
 * several nodes the candidate case row is locked FOR UPDATE SKIP LOCKED
 * and the upsert only replaces a lease that has run out, so two nodes
 * never hand out the same case either.  A skipped case gets the holder
 * "skipped:<who>" with a lease that has already ended: anyone may take it,
 * and the one who skipped it gets every other case first.
 *
 * Order: the most severe label among the case's matched bank entries
 * first (A1, A2, B1, B2, then anything else; kept in server_case_rank when
 * the case opens), then the oldest.  A reviewer may narrow the queue by
 * bank or tag; a person without the child-safety permission is never
 * handed a child-abuse case (queue.c).
 */
#include "server/accounts.h"

#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "db/sql.h"

/* The severity of a label: A1 1 .. B2 4, anything else 9 (as unlabelled). */
static int label_rank(const char *t) {
  static const char *const order[] = {"A1", "A2", "B1", "B2"};
  for (int i = 0; t && i < 4; i++)
    if (!strcasecmp(t, order[i])) return i + 1;
  return 9;
}

int vigil__case_rank_locked(vigil_server_store *st, int64_t id, const char *detail_json, vigil_error *err) {
  int best = 9;
  json_t *d = detail_json ? json_loads(detail_json, 0, NULL) : NULL;
  json_t *m = json_object_get(d, "matches");
  for (size_t i = 0; i < json_array_size(m); i++) {
    json_t *tags = json_object_get(json_array_get(m, i), "tags");
    for (size_t k = 0; k < json_array_size(tags); k++) {
      int r = label_rank(json_string_value(json_array_get(tags, k)));
      if (r < best) best = r;
    }
  }
  /* the labels the queue's filters and the child-safety queue read (queue.c) */
  int rc = vigil__case_labels_locked(st, id, d, err);
  json_decref(d);
  if (rc || best == 9) return rc; /* no row: ranked as unlabelled */
  const vigil__val p[] = {vigil__vint(id), vigil__vint(best)};
  return vigil__sql_run(st->db, "INSERT INTO server_case_rank(case_id, severity) VALUES($1, $2)", p, 2, NULL, NULL,
                        err);
}

static int held_by(vigil_server_store *st, const char *holder, const char *guard, int64_t now, int64_t *id,
                   vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(holder), vigil__vint(now)};
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT k.case_id FROM server_case_claims k JOIN server_cases c ON c.id = k.case_id"
           " WHERE k.holder = $1 AND k.until_at > $2 AND c.status = 'open'%s ORDER BY k.case_id LIMIT 1",
           guard);
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(st->db, sql, p, 2, &rows, NULL, err);
  *id = !rc && vigil__rows_count(rows) ? vigil__rows_int(rows, 0, 0) : 0;
  vigil__rows_free(rows);
  return rc;
}

int vigil__claim_next(vigil_server_store *st, const char *holder, const vigil__case_filter *f, int64_t lease_s,
                      int64_t *id, int64_t *until, vigil_error *err) {
  *id = 0;
  int64_t now = vigil__now_s();
  *until = now + lease_s;
  char skipped[8 + 80];
  snprintf(skipped, sizeof skipped, "skipped:%s", holder);
  int pg = vigil__sql_engine(st->db) == VIGIL__SQL_PG;
  /* the filters, and the child-safety queue for those without the
   * permission, bound the candidates; status is always open here */
  vigil__case_filter g = *f;
  g.status = NULL;
  vigil__val p[8] = {vigil__vint(now), vigil__vtext(skipped)};
  int np = 2;
  char where[2048] = "";
  if (!vigil__case_filter_sql(&g, now, where, sizeof where, p, &np))
    return vigil__seterr(err, VIGIL_EINTERNAL, "next case: the query does not fit");
  /* a case whose permission the holder lost is not given back on reload */
  const char *guard = f->child ? "" : " AND NOT " VIGIL__CHILD_SQL;
  char sql[4096];
  snprintf(sql, sizeof sql,
           "SELECT c.id FROM server_cases c LEFT JOIN server_case_claims k ON k.case_id = c.id"
           " LEFT JOIN server_case_rank s ON s.case_id = c.id"
           " WHERE c.status = 'open' AND (k.case_id IS NULL OR k.until_at <= $1)%s"
           " ORDER BY (k.holder IS NOT NULL AND k.holder = $2), COALESCE(s.severity, 9), c.id LIMIT 1%s",
           where, pg ? " FOR UPDATE OF c SKIP LOCKED" : "");
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_begin(st->db, err);
  /* a reviewer who reloads the page gets back the case they hold */
  if (!rc) rc = held_by(st, holder, guard, now, id, err);
  for (int tries = 0; !rc && *id == 0 && tries < 8; tries++) {
    vigil__rows *rows = NULL;
    rc = vigil__sql_run(st->db, sql, p, np, &rows, NULL, err);
    if (rc || vigil__rows_count(rows) == 0) {
      vigil__rows_free(rows);
      break;
    }
    int64_t cand = vigil__rows_int(rows, 0, 0), changed = 0;
    vigil__rows_free(rows);
    const vigil__val q[] = {vigil__vint(cand), vigil__vtext(holder), vigil__vint(*until), vigil__vint(now)};
    rc = vigil__sql_run(st->db,
                        "INSERT INTO server_case_claims(case_id, holder, until_at) VALUES($1, $2, $3)"
                        " ON CONFLICT(case_id) DO UPDATE SET holder = excluded.holder, until_at = excluded.until_at"
                        " WHERE server_case_claims.until_at <= $4",
                        q, 4, NULL, &changed, err);
    if (!rc && changed == 1) *id = cand;
  }
  if (!rc && *id) {
    /* the held case's lease is renewed as well */
    const vigil__val r[] = {vigil__vint(*id), vigil__vint(*until)};
    rc =
        vigil__sql_run(st->db, "UPDATE server_case_claims SET until_at = $2 WHERE case_id = $1", r, 2, NULL, NULL, err);
  }
  if (!rc) rc = vigil__sql_commit(st->db, err);
  if (rc) vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  if (rc) *id = 0;
  return rc;
}

int vigil__claim_renew(vigil_server_store *st, int64_t id, const char *holder, int64_t lease_s, int64_t *until,
                       vigil_error *err) {
  int64_t now = vigil__now_s(), changed = 0;
  *until = now + lease_s;
  const vigil__val p[] = {vigil__vint(id), vigil__vtext(holder), vigil__vint(*until), vigil__vint(now)};
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          "UPDATE server_case_claims SET until_at = $3 WHERE case_id = $1 AND holder = $2 AND until_at > $4",
                          p, 4, NULL, &changed, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc && changed != 1) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "case %lld is not held by %s", (long long)id, holder);
  return rc;
}

int vigil__claim_release(vigil_server_store *st, int64_t id, const char *holder, vigil_error *err) {
  int64_t now = vigil__now_s(), changed = 0;
  char skipped[8 + 80];
  snprintf(skipped, sizeof skipped, "skipped:%s", holder);
  const vigil__val p[] = {vigil__vint(id), vigil__vtext(holder), vigil__vint(now), vigil__vtext(skipped)};
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          "UPDATE server_case_claims SET holder = $4, until_at = $3 WHERE case_id = $1 AND holder = $2"
                          " AND until_at > $3",
                          p, 4, NULL, &changed, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc && changed != 1) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "case %lld is not held by %s", (long long)id, holder);
  return rc;
}
