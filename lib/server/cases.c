/*
 * cases.c - the review queue: cases opened by modules (a match on a bank
 * flagged for review) or by callers (a user report), decided by reviewers.
 *
 * A case keeps hashes and the caller's metadata, never media.  Status
 * moves open -> confirmed | dismissed | escalated, and escalated ->
 * confirmed | dismissed; confirmed and dismissed are final (deciding again
 * is VIGIL_EEXIST).  Every decision is also kept in server_case_decisions,
 * so an escalation's history survives the final decision.
 */
#include "server/internal.h"

#include <string.h>

#include "store/db.h"

#define FIELD_MAX 2048

static const char *const classifications[] = {"A1", "A2",          "B1",       "B2",         "C",     "ncii",
                                              "trafficking", "grooming", "sextortion", "csam", "other", NULL};

int vigil__case_valid_classification(const char *c) {
  for (int i = 0; classifications[i]; i++)
    if (!strcmp(c, classifications[i])) return 1;
  return 0;
}

static int hex_ok(const char *s, size_t want) {
  if (strlen(s) != want) return 0;
  for (size_t i = 0; i < want; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return 1;
}

int vigil_case_open(vigil_server_store *st, const vigil_case_new *c, int64_t *id, vigil_error *err) {
  *id = 0;
  if (c->pdq && !hex_ok(c->pdq, 64)) return vigil__seterr(err, VIGIL_EINVAL, "pdq: expected 64 hex digits");
  if (c->md5 && !hex_ok(c->md5, 32)) return vigil__seterr(err, VIGIL_EINVAL, "md5: expected 32 hex digits");
  if (c->sha256 && !hex_ok(c->sha256, 64))
    return vigil__seterr(err, VIGIL_EINVAL, "sha256: expected 64 hex digits");
  const char *texts[] = {c->source, c->content_id, c->uploader_id, c->url, c->reason, c->opened_by};
  const char *names[] = {"source", "content_id", "uploader_id", "url", "reason", "opened_by"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    if (texts[i] && strlen(texts[i]) > FIELD_MAX)
      return vigil__seterr(err, VIGIL_EINVAL, "%s: longer than %d bytes", names[i], FIELD_MAX);
  if (!c->pdq && !c->md5 && !c->sha256 && !c->content_id && !c->url)
    return vigil__seterr(err, VIGIL_EINVAL, "a case needs at least one of pdq, md5, sha256, content_id, url");
  char *detail = NULL;
  if (c->detail_json) {
    json_error_t je;
    json_t *d = json_loads(c->detail_json, 0, &je);
    if (!d || !json_is_object(d)) {
      json_decref(d);
      return vigil__seterr(err, VIGIL_EINVAL, "detail: expected a JSON object");
    }
    detail = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    if (!detail) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  char at[40];
  vigil__iso_time(vigil__now_us(), at, sizeof at);
  pthread_mutex_lock(&st->mu);
  sqlite3_stmt *s = NULL;
  int rc = VIGIL_OK;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO server_cases(source, pdq, md5, sha256, content_id, uploader_id, url, reason,"
                         " detail, opened_by, created_at, updated_at) VALUES(?,lower(?),lower(?),lower(?),?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK) {
    rc = vigil__db_error(st->db, "open case", err);
  } else {
    const char *vals[] = {c->source ? c->source : "report", c->pdq, c->md5, c->sha256, c->content_id,
                          c->uploader_id, c->url, c->reason, detail, c->opened_by, at, at};
    for (int i = 0; i < 12; i++) sqlite3_bind_text(s, i + 1, vals[i], -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) rc = vigil__db_error(st->db, "open case", err);
    else *id = sqlite3_last_insert_rowid(st->db);
  }
  sqlite3_finalize(s);
  pthread_mutex_unlock(&st->mu);
  free(detail);
  return rc;
}

#define CASE_COLS                                                                                                 \
  "id, status, source, pdq, md5, sha256, content_id, uploader_id, url, reason, detail, opened_by, created_at,"  \
  " updated_at, decision, classification, note, decided_by, decided_at"

int vigil__case_list(vigil_server_store *st, const char *status, int64_t after_id, int limit, json_t **out,
                     vigil_error *err) {
  *out = NULL;
  json_t *arr = json_array();
  if (!arr) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  pthread_mutex_lock(&st->mu);
  sqlite3_stmt *s = NULL;
  int rc = VIGIL_OK;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT " CASE_COLS " FROM server_cases WHERE (?1 IS NULL OR status = ?1) AND id > ?2"
                         " ORDER BY id LIMIT ?3",
                         -1, &s, NULL) != SQLITE_OK) {
    rc = vigil__db_error(st->db, "list cases", err);
  } else {
    sqlite3_bind_text(s, 1, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, after_id);
    sqlite3_bind_int(s, 3, limit);
    rc = vigil__rows_json(st->db, s, arr, "list cases", err);
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

/* Called with st->mu held. */
static int history(vigil_server_store *st, int64_t id, json_t **out, vigil_error *err) {
  json_t *arr = json_array();
  if (!arr) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  sqlite3_stmt *s = NULL;
  int rc = VIGIL_OK;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT decision, classification, note, key_id, at FROM server_case_decisions"
                         " WHERE case_id = ? ORDER BY id",
                         -1, &s, NULL) != SQLITE_OK) {
    rc = vigil__db_error(st->db, "case history", err);
  } else {
    sqlite3_bind_int64(s, 1, id);
    rc = vigil__rows_json(st->db, s, arr, "case history", err);
  }
  sqlite3_finalize(s);
  if (rc) json_decref(arr);
  else *out = arr;
  return rc;
}

int vigil__case_get(vigil_server_store *st, int64_t id, json_t **out, vigil_error *err) {
  *out = NULL;
  pthread_mutex_lock(&st->mu);
  sqlite3_stmt *s = NULL;
  json_t *o = NULL, *h = NULL;
  int rc = VIGIL_OK;
  if (sqlite3_prepare_v2(st->db, "SELECT " CASE_COLS " FROM server_cases WHERE id = ?", -1, &s, NULL) !=
      SQLITE_OK) {
    rc = vigil__db_error(st->db, "get case", err);
  } else {
    sqlite3_bind_int64(s, 1, id);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
      if (!(o = vigil__row_json(s))) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    } else if (step == SQLITE_DONE) {
      rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no case %lld", (long long)id);
    } else {
      rc = vigil__db_error(st->db, "get case", err);
    }
  }
  sqlite3_finalize(s);
  if (rc == VIGIL_OK) rc = history(st, id, &h, err);
  pthread_mutex_unlock(&st->mu);
  if (rc == VIGIL_OK && json_object_set_new(o, "history", h) != 0) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (rc) {
    json_decref(o);
    return rc;
  }
  *out = o;
  return VIGIL_OK;
}

int vigil__case_decide(vigil_server_store *st, int64_t id, const char *decision, const char *classification,
                       const char *note, const char *key_id, vigil_error *err) {
  const char *status = !strcmp(decision, "confirm")    ? "confirmed"
                       : !strcmp(decision, "dismiss")  ? "dismissed"
                       : !strcmp(decision, "escalate") ? "escalated"
                                                       : NULL;
  if (!status) return vigil__seterr(err, VIGIL_EINVAL, "decision: expected confirm, dismiss or escalate");
  char at[40];
  vigil__iso_time(vigil__now_us(), at, sizeof at);
  pthread_mutex_lock(&st->mu);
  int rc = vigil__db_exec(st->db, "BEGIN IMMEDIATE", err);
  if (rc) {
    pthread_mutex_unlock(&st->mu);
    return rc;
  }
  sqlite3_stmt *s = NULL;
  /* The WHERE clause carries the state machine: only open or escalated
   * cases change, so a lost race or a repeated call changes nothing. */
  if (sqlite3_prepare_v2(st->db,
                         "UPDATE server_cases SET status = ?, decision = ?, classification = ?, note = ?,"
                         " decided_by = ?, decided_at = ?, updated_at = ? WHERE id = ? AND status IN ('open','escalated')",
                         -1, &s, NULL) != SQLITE_OK) {
    rc = vigil__db_error(st->db, "decide case", err);
  } else {
    const char *vals[] = {status, decision, classification, note, key_id, at, at};
    for (int i = 0; i < 7; i++) sqlite3_bind_text(s, i + 1, vals[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 8, id);
    if (sqlite3_step(s) != SQLITE_DONE) rc = vigil__db_error(st->db, "decide case", err);
    else if (sqlite3_changes(st->db) == 0) {
      sqlite3_stmt *q = NULL;
      int exists = 0;
      if (sqlite3_prepare_v2(st->db, "SELECT status FROM server_cases WHERE id = ?", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, id);
        exists = sqlite3_step(q) == SQLITE_ROW;
      }
      sqlite3_finalize(q);
      rc = exists ? vigil__seterr(err, VIGIL_EEXIST, "case %lld is already closed", (long long)id)
                  : vigil__seterr(err, VIGIL_ENOTFOUND, "no case %lld", (long long)id);
    }
  }
  sqlite3_finalize(s);
  s = NULL;
  if (rc == VIGIL_OK) {
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO server_case_decisions(case_id, decision, classification, note, key_id, at)"
                           " VALUES(?,?,?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK) {
      rc = vigil__db_error(st->db, "decide case", err);
    } else {
      sqlite3_bind_int64(s, 1, id);
      const char *vals[] = {decision, classification, note, key_id, at};
      for (int i = 0; i < 5; i++) sqlite3_bind_text(s, i + 2, vals[i], -1, SQLITE_TRANSIENT);
      if (sqlite3_step(s) != SQLITE_DONE) rc = vigil__db_error(st->db, "decide case", err);
    }
    sqlite3_finalize(s);
  }
  if (rc == VIGIL_OK) rc = vigil__db_exec(st->db, "COMMIT", err);
  if (rc) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  pthread_mutex_unlock(&st->mu);
  return rc;
}
