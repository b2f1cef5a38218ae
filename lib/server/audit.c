/*
 * audit.c - the append-only audit log (server_audit) and row-to-JSON.
 *
 * One row per authenticated call to a state-changing route: who (key id),
 * what (route name, target id, method, path, status, optional detail),
 * when (UTC, milliseconds) and from where (client IP).  Rows are only ever
 * inserted; triggers in store.c refuse updates and deletes.
 */
#include "server/internal.h"

#include <string.h>

#include "store/db.h"

json_t *vigil__row_json(sqlite3_stmt *s) {
  json_t *o = json_object();
  if (!o) return NULL;
  int n = sqlite3_column_count(s);
  for (int i = 0; i < n; i++) {
    const char *name = sqlite3_column_name(s, i);
    json_t *v = NULL;
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(s, i)); break;
    case SQLITE_FLOAT: v = json_real(sqlite3_column_double(s, i)); break;
    case SQLITE_NULL: v = json_null(); break;
    default: {
      const char *t = (const char *)sqlite3_column_text(s, i);
      size_t len = (size_t)sqlite3_column_bytes(s, i);
      if (!strcmp(name, "detail") && t) v = json_loadb(t, len, JSON_DECODE_ANY, NULL);
      if (!v) v = json_stringn(t ? t : "", t ? len : 0);
      if (!v) v = json_null(); /* text that is not UTF-8: never stored by us */
    }
    }
    if (!v || json_object_set_new(o, name, v) != 0) {
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

int vigil__rows_json(sqlite3 *db, sqlite3_stmt *s, json_t *arr, const char *what, vigil_error *err) {
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    json_t *o = vigil__row_json(s);
    if (!o || json_array_append_new(arr, o) != 0) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  return step == SQLITE_DONE ? VIGIL_OK : vigil__db_error(db, what, err);
}

int vigil__audit_append(vigil_server_store *st, const vigil__audit_rec *a, vigil_error *err) {
  char at[40];
  vigil__iso_time(vigil__now_us(), at, sizeof at);
  pthread_mutex_lock(&st->mu);
  sqlite3_stmt *s = NULL;
  int rc = VIGIL_OK;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO server_audit(at, key_id, ip, method, path, action, target, status, detail)"
                         " VALUES(?,?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK) {
    rc = vigil__db_error(st->db, "audit", err);
  } else {
    sqlite3_bind_text(s, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, a->key_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, a->ip ? a->ip : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, a->method ? a->method : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, a->path ? a->path : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, a->action ? a->action : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 7, a->target, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 8, a->status);
    sqlite3_bind_text(s, 9, a->detail_json, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) rc = vigil__db_error(st->db, "audit", err);
  }
  sqlite3_finalize(s);
  pthread_mutex_unlock(&st->mu);
  return rc;
}

int vigil__audit_list(vigil_server_store *st, int64_t after_id, int limit, const char *key_id, json_t **out,
                      vigil_error *err) {
  *out = NULL;
  json_t *arr = json_array();
  if (!arr) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  pthread_mutex_lock(&st->mu);
  sqlite3_stmt *s = NULL;
  int rc = VIGIL_OK;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT id, at, key_id, ip, method, path, action, target, status, detail FROM server_audit"
                         " WHERE id > ? AND (?2 IS NULL OR key_id = ?2) ORDER BY id LIMIT ?",
                         -1, &s, NULL) != SQLITE_OK) {
    rc = vigil__db_error(st->db, "audit", err);
  } else {
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_text(s, 2, key_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 3, limit);
    rc = vigil__rows_json(st->db, s, arr, "audit", err);
  }
  sqlite3_finalize(s);
  pthread_mutex_unlock(&st->mu);
  if (rc) {
    json_decref(arr);
    return rc;
  }
  *out = arr;
  return VIGIL_OK;
}
