/* SPDX-License-Identifier: Apache-2.0 */
/*
 * holds.c - preservation holds and the record of reports made.
 *
 * A provider that reports to the CyberTipline must preserve what it
 * reported for one year (18 U.S.C. 2258A(h), as amended in 2024), longer
 * when law enforcement asks.  A hold is one row per case: the time it
 * ends and why.  Reporting a case holds it for VIGIL__HOLD_REPORT_S; an
 * extension only ever moves the end later (a hold is never shortened by
 * a call that meant to extend it); the service refuses to delete held
 * evidence.  Holds and their extensions are audited by the routes that
 * make them.
 */
#include "report/holds.h"
#include "common/rfc3339.h"

#include <string.h>

int vigil__hold_set(vigil__sql *db, int64_t case_id, int64_t until_s, const char *reason, const char *by,
                    int64_t *effective, vigil_error *err) {
  int64_t now = vigil__report_now_ms() / 1000;
  const vigil__val p[] = {vigil__vint(case_id), vigil__vint(until_s), vigil__vtext(reason), vigil__vint(now),
                          vigil__vtext(by)};
  vigil__rows *rows = NULL;
  /* the later end wins: CASE rather than max() (SQLite's max() of two
   * arguments and PostgreSQL's GREATEST differ) */
  int rc = vigil__sql_run(db,
                          "INSERT INTO report_holds(case_id, until_s, reason, updated_at, updated_by)"
                          " VALUES($1, $2, $3, $4, $5) ON CONFLICT(case_id) DO UPDATE SET"
                          " until_s = CASE WHEN excluded.until_s > report_holds.until_s THEN excluded.until_s"
                          " ELSE report_holds.until_s END, reason = excluded.reason, updated_at = excluded.updated_at,"
                          " updated_by = excluded.updated_by RETURNING until_s",
                          p, 5, &rows, NULL, err);
  if (!rc && effective) *effective = vigil__rows_count(rows) ? vigil__rows_int(rows, 0, 0) : until_s;
  vigil__rows_free(rows);
  return rc ? vigil__prefixerr(err, rc, "preservation hold") : VIGIL_OK;
}

int vigil__hold_get(vigil__sql *db, int64_t case_id, int64_t *until_s, vigil_error *err) {
  *until_s = 0;
  const vigil__val p[] = {vigil__vint(case_id)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db, "SELECT until_s FROM report_holds WHERE case_id = $1", p, 1, &rows, NULL, err);
  if (!rc && vigil__rows_count(rows)) *until_s = vigil__rows_int(rows, 0, 0);
  vigil__rows_free(rows);
  return rc ? vigil__prefixerr(err, rc, "preservation hold") : VIGIL_OK;
}

int vigil__report_record(vigil__sql *db, int64_t case_id, const char *case_ids, const char *mode,
                         const char *location, const char *by, const char *xml, const char *state, const char *files,
                         int64_t *id, vigil_error *err) {
  *id = 0;
  const vigil__val p[] = {vigil__vint(case_id), vigil__vtext(case_ids), vigil__vtext(mode), vigil__vtext(location),
                          vigil__vint(vigil__report_now_ms() / 1000), vigil__vtext(by), vigil__vtext(xml),
                          vigil__vtext(state), vigil__vtext(files ? files : "[]")};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db,
                          "INSERT INTO report_reports(case_id, case_ids, mode, location, created_at, created_by, xml,"
                          " state, files) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                          p, 9, &rows, NULL, err);
  if (!rc && vigil__rows_count(rows)) *id = vigil__rows_int(rows, 0, 0);
  vigil__rows_free(rows);
  return rc ? vigil__prefixerr(err, rc, "record report") : VIGIL_OK;
}

/* stored in Unix seconds, shown as RFC 3339 like every API time */
static json_t *json_time_s(int64_t unix_s) {
  char t[VIGIL__RFC3339_MAX];
  if (unix_s > INT64_MAX / 1000 || unix_s < INT64_MIN / 1000 || vigil__rfc3339_ms(unix_s * 1000, t)) return json_null();
  return json_string(t);
}

int vigil__report_list(vigil__sql *db, int64_t case_id, json_t **out, vigil_error *err) {
  *out = NULL;
  vigil__rows *rows = NULL;
  /* the case is named first or among the gathered ones ("[3,7]"), which
   * the JSON text answers without a dialect-specific JSON operator */
  int rc = vigil__sql_run(db,
                          "SELECT id, case_id, case_ids, mode, state, ncmec_report_id, location, created_at, created_by,"
                          " files, responses FROM report_reports ORDER BY id",
                          NULL, 0, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "list reports");
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < vigil__rows_count(rows); i++) {
    json_t *ids = json_loads(vigil__rows_text(rows, i, 2), 0, NULL);
    int mine = 0;
    size_t k;
    json_t *v;
    json_array_foreach(ids, k, v) mine |= json_integer_value(v) == case_id;
    json_decref(ids);
    if (!mine) continue;
    json_t *o = json_pack(
        "{s:I, s:I, s:o?, s:s, s:s, s:s?, s:s?, s:o, s:s?, s:o?, s:o?}", "id", (json_int_t)vigil__rows_int(rows, i, 0),
        "case_id", (json_int_t)vigil__rows_int(rows, i, 1), "cases", json_loads(vigil__rows_text(rows, i, 2), 0, NULL),
        "mode", vigil__rows_text(rows, i, 3), "state", vigil__rows_text(rows, i, 4), "ncmec_report_id",
        vigil__rows_cell(rows, i, 5)->k == VIGIL__V_NULL ? NULL : vigil__rows_text(rows, i, 5), "directory",
        vigil__rows_cell(rows, i, 6)->k == VIGIL__V_NULL ? NULL : vigil__rows_text(rows, i, 6), "created_at",
        json_time_s(vigil__rows_int(rows, i, 7)), "created_by",
        vigil__rows_cell(rows, i, 8)->k == VIGIL__V_NULL ? NULL : vigil__rows_text(rows, i, 8), "files",
        json_loads(vigil__rows_text(rows, i, 9), 0, NULL), "responses",
        json_loads(vigil__rows_text(rows, i, 10), 0, NULL));
    if (!o || json_array_append_new(arr, o)) {
      json_decref(arr);
      arr = NULL;
    }
  }
  vigil__rows_free(rows);
  if (!arr) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  *out = arr;
  return VIGIL_OK;
}
