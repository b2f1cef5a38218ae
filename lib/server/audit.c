/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit.c - the append-only audit log (server_audit) and row-to-JSON.
 *
 * One row per authenticated call to a state-changing route: who (key id),
 * what (route name, target id, method, path, status, optional detail),
 * when (UTC, milliseconds) and from where (client IP).  Rows are only ever
 * inserted; triggers in store.c refuse updates and deletes.
 */
#include "server/store.h"
#include "server/banks.h"

#include <string.h>

json_t *vigil__row_json(const vigil__rows *r, size_t i) {
  json_t *o = json_object();
  if (!o) return NULL;
  for (int c = 0; c < vigil__rows_cols(r); c++) {
    const char *name = vigil__rows_name(r, c);
    const vigil__val *cell = vigil__rows_cell(r, i, c);
    json_t *v = NULL;
    switch (cell->k) {
    case VIGIL__V_INT: v = json_integer(cell->i); break;
    case VIGIL__V_NULL: v = json_null(); break;
    default:
      if (!strcmp(name, "detail")) v = json_loadb(cell->p, cell->len, JSON_DECODE_ANY, NULL);
      if (!v) v = json_stringn(cell->p, cell->len);
      if (!v) v = json_null(); /* text that is not UTF-8: never stored by us */
    }
    if (!v || json_object_set_new(o, name, v) != 0) {
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

int vigil__query_json(vigil_server_store *st, const char *sql, const vigil__val *p, int np, json_t **out,
                      vigil_error *err) {
  *out = NULL;
  json_t *arr = json_array();
  if (!arr) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, sql, p, np, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  for (size_t i = 0; rc == VIGIL_OK && i < vigil__rows_count(rows); i++) {
    json_t *o = vigil__row_json(rows, i);
    if (!o || json_array_append_new(arr, o) != 0) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  vigil__rows_free(rows);
  if (rc) {
    json_decref(arr);
    return rc;
  }
  *out = arr;
  return VIGIL_OK;
}

static const char audit_insert[] = "INSERT INTO server_audit(at, key_id, ip, method, path, action, target, status,"
                                   " detail) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/* With st->mu held. */
static int insert_row(vigil_server_store *st, const vigil__audit_rec *a, vigil_error *err) {
  char at[40];
  vigil__iso_time(vigil__now_us(), at, sizeof at);
  const vigil__val p[] = {vigil__vtext(at),
                          vigil__vtext(a->key_id),
                          vigil__vtext(a->ip ? a->ip : ""),
                          vigil__vtext(a->method ? a->method : ""),
                          vigil__vtext(a->path ? a->path : ""),
                          vigil__vtext(a->action ? a->action : ""),
                          vigil__vtext(a->target),
                          vigil__vint(a->status),
                          vigil__vtext(a->detail_json)};
  return vigil__sql_run(st->db, audit_insert, p, 9, NULL, NULL, err);
}

int vigil__audit_append_locked(vigil_server_store *st, vigil__audit_rec *a, vigil_error *err) {
  int rc = VIGIL_OK;
  /* PostgreSQL: ids visible in order, as in vigil__audit_append; the lock
   * is held to the end of the caller's transaction. */
  if (vigil__sql_engine(st->db) == VIGIL__SQL_PG)
    rc = vigil__sql_run(st->db, "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_AUDIT ")", NULL, 0, NULL, NULL, err);
  if (!rc) rc = insert_row(st, a, err);
  a->failed = rc != VIGIL_OK;
  return rc ? vigil__prefixerr(err, rc, "audit") : VIGIL_OK;
}

int vigil__audit_append(vigil_server_store *st, const vigil__audit_rec *a, vigil_error *err) {
  pthread_mutex_lock(&st->mu);
  int rc;
  if (vigil__sql_engine(st->db) == VIGIL__SQL_PG) {
    /* Nodes append one at a time, so ids become visible in order and a
     * reader paging with after= never skips a row committed late. */
    rc = vigil__sql_begin(st->db, err);
    if (!rc) rc = vigil__sql_run(st->db, "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_AUDIT ")", NULL, 0, NULL, NULL, err);
    if (!rc) rc = insert_row(st, a, err);
    if (!rc) rc = vigil__sql_commit(st->db, err);
    else vigil__sql_rollback(st->db);
  } else {
    rc = insert_row(st, a, err);
  }
  pthread_mutex_unlock(&st->mu);
  if (rc) vigil__prefixerr(err, rc, "audit");
  return rc;
}

int vigil__audit_list(vigil_server_store *st, int64_t after_id, int limit, const char *key_id, const char *action,
                      json_t **out, vigil_error *err) {
  const vigil__val p[] = {vigil__vint(after_id), vigil__vtext(key_id), vigil__vint(limit), vigil__vtext(action)};
  return vigil__query_json(st,
                           "SELECT id, at, key_id, ip, method, path, action, target, status, detail FROM server_audit"
                           " WHERE id > $1 AND ($2 IS NULL OR key_id = $2) AND ($4 IS NULL OR action = $4)"
                           " ORDER BY id LIMIT $3",
                           p, 4, out, err);
}

int vigil_server_store_set_actor(vigil_server_store *st, const char *actor, vigil_error *err) {
  if (!actor) {
    st->actor[0] = 0;
    return VIGIL_OK;
  }
  size_t n = strlen(actor);
  if (n == 0 || n > 64) return vigil__seterr(err, VIGIL_EINVAL, "audit actor: 1 to 64 bytes");
  for (size_t i = 0; i < n; i++)
    if (actor[i] <= 32 || actor[i] >= 127)
      return vigil__seterr(err, VIGIL_EINVAL, "audit actor: printable ASCII without spaces only");
  memcpy(st->actor, actor, n + 1);
  return VIGIL_OK;
}

int vigil_server_audit_record(vigil_server_store *st, const char *action, const char *target, int status,
                              const char *detail_json, vigil_error *err) {
  if (!st->actor[0]) return vigil__seterr(err, VIGIL_EINVAL, "audit: no actor set (vigil_server_store_set_actor)");
  if (!action || !*action) return vigil__seterr(err, VIGIL_EINVAL, "audit: no action");
  if (detail_json) {
    json_t *d = json_loads(detail_json, 0, NULL);
    int ok = json_is_object(d);
    json_decref(d);
    if (!ok) return vigil__seterr(err, VIGIL_EINVAL, "audit: detail is not a JSON object");
  }
  vigil__audit_rec a = {st->actor, "local", "CLI", "", action, target, status, detail_json, 0};
  return vigil__audit_append(st, &a, err);
}

int vigil_server_bank_review_get(vigil_server_store *st, const char *bank, int *review, vigil_error *err) {
  return vigil__bank_review_get(st, bank, review, err);
}

int vigil_server_bank_review_set(vigil_server_store *st, const char *bank, int review, vigil_error *err) {
  return vigil__bank_review_set(st, bank, review, err);
}
