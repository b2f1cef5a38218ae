/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_admin.c - what the console's admin pages and dashboard need beyond
 * the plain API: changing a person's role, permission or enabled state
 * (POST /v1/users/{name}), the audit log as CSV (GET /v1/audit/export,
 * admin only and itself audited: the log names people and what they
 * looked at), and the queue's figures (GET /v1/cases/stats).
 *
 * The CSV is RFC 4180 (every field quoted, quotes doubled, CRLF rows), and
 * a field that a spreadsheet would take for a formula (=, +, -, @, tab,
 * CR at its start) is prefixed with a single quote: audit rows carry what
 * callers sent (names tried at sign-in, paths), and opening the export
 * must not run anything.
 */
#include "server/accounts.h"
#include "server/handlers.h"

#include <string.h>

#include "db/sql.h"

#define EXPORT_MAX 100000

int vigil__h_users_update(vigil__req *r) {
  static const char *const allowed[] = {"role", "child_safety", "enabled", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *role = NULL, *name = vigil__req_param(r, "name");
  int child = -1, enabled = -1;
  if (!vigil__json_str(r, "role", 0, 16, &role) || !vigil__json_bool(r, "child_safety", &child) ||
      !vigil__json_bool(r, "enabled", &enabled))
    return VIGIL_OK;
  vigil_role ro = role ? vigil_role_parse(role) : 0;
  if (role && !ro) return vigil__reply_error(r, 400, "invalid", "role: expected admin, submitter, reviewer or auditor");
  if (r->user[0] && !strcmp(r->user + 5, name) && ((ro && ro != VIGIL_ROLE_ADMIN) || enabled == 0))
    return vigil__reply_error(r, 409, "conflict",
                              "an admin cannot take away their own admin role or disable themselves");
  int rc;
  if (enabled == 0) rc = vigil_user_disable(vigil__req_store(r), name, &r->err);
  else rc = VIGIL_OK;
  if (!rc) rc = vigil__user_update(vigil__req_store(r), name, ro, child, enabled, &r->err);
  if (rc == VIGIL_ENOTFOUND) return vigil__reply_error(r, 404, "not_found", "no user %s", name);
  if (rc) return rc;
  r->audit_detail =
      json_pack("{s:s, s:s?, s:i, s:i}", "name", name, "role", role, "child_safety", child, "enabled", enabled);
  vigil_user_info *v = NULL;
  size_t n = 0;
  if ((rc = vigil_user_list(vigil__req_store(r), &v, &n, &r->err))) return rc;
  json_t *o = NULL;
  for (size_t i = 0; i < n && !o; i++)
    if (!strcmp(v[i].name, name))
      o = json_pack("{s:s, s:s, s:b, s:b, s:b}", "name", v[i].name, "role", vigil_role_name(v[i].role), "child_safety",
                    v[i].child_safety, "disabled", v[i].disabled_at != 0, "locked", v[i].locked);
  free(v);
  if (!o) return vigil__reply_error(r, 404, "not_found", "no user %s", name);
  return vigil__reply_json(r, 200, o);
}

/* Appends s as one quoted CSV field (see the top of the file). */
static int csv_field(char **buf, size_t *len, size_t *cap, const char *s, int last) {
  size_t n = strlen(s), need = *len + 2 * n + 8;
  if (need > *cap) {
    size_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    char *nb = realloc(*buf, c);
    if (!nb) return VIGIL_ENOMEM;
    *buf = nb;
    *cap = c;
  }
  char *o = *buf + *len;
  *o++ = '"';
  if (n && strchr("=+-@\t\r", s[0])) *o++ = '\'';
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') *o++ = '"';
    *o++ = s[i];
  }
  *o++ = '"';
  if (last) {
    *o++ = '\r';
    *o++ = '\n';
  } else {
    *o++ = ',';
  }
  *len = (size_t)(o - *buf);
  return VIGIL_OK;
}

int vigil__h_audit_export(vigil__req *r) {
  int64_t after, limit;
  if (!vigil__query_int(r, "after_id", 0, INT64_MAX, 0, &after)) return VIGIL_OK;
  if (!vigil__query_int(r, "limit", 1, EXPORT_MAX, EXPORT_MAX, &limit)) return VIGIL_OK;
  const char *key_id = vigil__req_query(r, "key_id"), *action = vigil__req_query(r, "action");
  json_t *arr = NULL;
  int rc = vigil__audit_list(vigil__req_store(r), after, (int)limit, key_id, action, &arr, &r->err);
  if (rc) return rc;
  static const char *const cols[] = {"id",   "at",     "key_id", "ip",     "method",
                                     "path", "action", "target", "status", "detail"};
  const size_t ncols = sizeof cols / sizeof cols[0];
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (size_t k = 0; !rc && k < ncols; k++) rc = csv_field(&buf, &len, &cap, cols[k], k + 1 == ncols);
  json_t *row;
  size_t i;
  json_array_foreach(arr, i, row) {
    for (size_t k = 0; !rc && k < ncols; k++) {
      json_t *v = json_object_get(row, cols[k]);
      char num[32], *dump = NULL;
      const char *s = "";
      if (json_is_string(v)) s = json_string_value(v);
      else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
      } else if (v && !json_is_null(v)) {
        if (!(dump = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY))) rc = VIGIL_ENOMEM;
        s = dump ? dump : "";
      }
      if (!rc) rc = csv_field(&buf, &len, &cap, s, k + 1 == ncols);
      free(dump);
    }
    if (rc) break;
  }
  size_t rows = json_array_size(arr);
  json_decref(arr);
  if (rc) {
    free(buf);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  /* the export is on record before it leaves, with what it held */
  r->audit_detail = json_pack("{s:I, s:s?, s:s?}", "rows", (json_int_t)rows, "key_id", key_id, "action", action);
  if (!vigil__req_audit_first(r, 200)) {
    free(buf);
    return VIGIL_OK;
  }
  return vigil__reply_text(r, 200, "text/csv; charset=utf-8", buf, len);
}

/* One count into o[name] (integer), or a negative code. */
static int count_into(vigil_server_store *st, json_t *o, const char *name, const char *sql, const vigil__val *p, int np,
                      vigil_error *err) {
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, sql, p, np, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc) json_object_set_new(o, name, json_integer(vigil__rows_count(rows) ? vigil__rows_int(rows, 0, 0) : 0));
  vigil__rows_free(rows);
  return rc;
}

int vigil__h_cases_stats(vigil__req *r) {
  vigil_server_store *st = vigil__req_store(r);
  int child = !r->user[0] || r->child_safety;
  /* a person without the permission sees the figures of their own queue only */
  const char *only = child ? "" : " AND NOT " VIGIL__CHILD_SQL;
  json_t *o = json_object(), *sev = json_object();
  if (!o || !sev) {
    json_decref(o);
    json_decref(sev);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  json_object_set_new(o, "open_by_severity", sev);
  static const char *const names[] = {"A1", "A2", "B1", "B2", "none"};
  static const int ranks[] = {1, 2, 3, 4, 9};
  char sql[2048];
  int rc = VIGIL_OK;
  for (int i = 0; !rc && i < 5; i++) {
    const vigil__val p[] = {vigil__vint(ranks[i])};
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM server_cases c LEFT JOIN server_case_rank s ON s.case_id = c.id"
             " WHERE c.status = 'open' AND COALESCE(s.severity, 9) = $1%s",
             only);
    rc = count_into(st, sev, names[i], sql, p, 1, &r->err);
  }
  if (!rc) {
    snprintf(sql, sizeof sql, "SELECT count(*) FROM server_cases c WHERE c.status = 'escalated'%s", only);
    rc = count_into(st, o, "escalated", sql, NULL, 0, &r->err);
  }
  if (!rc && child) {
    rc = count_into(st, o, "open_child_safety",
                    "SELECT count(*) FROM server_cases c WHERE c.status = 'open' AND " VIGIL__CHILD_SQL, NULL, 0,
                    &r->err);
  }
  char day[40];
  vigil__iso_time(vigil__now_us() - (vigil__now_us() % (86400LL * 1000000)), day, sizeof day);
  if (!rc) {
    const vigil__val p[] = {vigil__vtext(day)};
    rc = count_into(st, o, "decisions_today", "SELECT count(*) FROM server_case_decisions WHERE at >= $1", p, 1,
                    &r->err);
  }
  if (!rc) {
    snprintf(sql, sizeof sql, "SELECT min(c.created_at) FROM server_cases c WHERE c.status = 'open'%s", only);
    vigil__rows *rows = NULL;
    pthread_mutex_lock(&st->mu);
    rc = vigil__sql_run(st->db, sql, NULL, 0, &rows, NULL, &r->err);
    pthread_mutex_unlock(&st->mu);
    const char *t = !rc && vigil__rows_count(rows) ? vigil__rows_text(rows, 0, 0) : NULL;
    json_object_set_new(o, "oldest_open_at", t ? json_string(t) : json_null());
    vigil__rows_free(rows);
  }
  if (!rc) {
    /* decisions per day (UTC) over the last week, the day today started included */
    char week[40];
    int64_t now = vigil__now_us();
    vigil__iso_time(now - (now % (86400LL * 1000000)) - 6 * 86400LL * 1000000, week, sizeof week);
    const vigil__val p[] = {vigil__vtext(week)};
    json_t *days = NULL;
    rc = vigil__query_json(st,
                           "SELECT substr(at, 1, 10) AS day, count(*) AS count FROM server_case_decisions"
                           " WHERE at >= $1 GROUP BY substr(at, 1, 10) ORDER BY day",
                           p, 1, &days, &r->err);
    if (!rc) json_object_set_new(o, "decisions_by_day", days);
  }
  if (rc) {
    json_decref(o);
    return rc;
  }
  json_object_set_new(o, "day_starts_at", json_string(day));
  return vigil__reply_json(r, 200, o);
}
