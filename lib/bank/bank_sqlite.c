/*
 * bank_sqlite.c - the SQLite backend of the bank store (see bank_backend.h).
 *
 * Tables (all prefixed bank_):
 *   bank_banks     one row per bank; AUTOINCREMENT so that a dropped bank's
 *                  id is never reused (matchers compare bank ids).
 *   bank_entries   one row per (bank, signal type, value), the identity,
 *                  enforced by a unique index that also serves exact
 *                  lookups by (signal_type, value).  Rows are never deleted
 *                  except by dropping their bank, so row ids only grow and a
 *                  matcher finds new entries with "id > last seen".
 *   bank_removals  append-only log of removals (entry, time, reason); its
 *                  seq tells a matcher which removals it has not applied.
 *   bank_audit     append-only log of bank-level operations and imports.
 *
 * Values are stored as BLOBs of their raw bytes (16 or 32), signal types as
 * the small integers of vigil_signal_type, times as Unix seconds.
 * Durability comes from db/db.h (WAL + synchronous=FULL); the pragmas
 * added here (page cache size, checkpoint interval) change speed only.
 */
#include "bank/bank_backend.h"
#include "db/db.h"
#include "common/internal.h"

#include <stdio.h>
#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS bank_banks("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '',"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS bank_entries("
    " id INTEGER PRIMARY KEY,"
    " bank_id INTEGER NOT NULL REFERENCES bank_banks(id) ON DELETE CASCADE,"
    " signal_type INTEGER NOT NULL,"
    " value BLOB NOT NULL,"
    " external_id TEXT NOT NULL DEFAULT '',"
    " tags TEXT NOT NULL DEFAULT '',"
    " source TEXT NOT NULL DEFAULT '',"
    " added INTEGER NOT NULL,"
    " removed INTEGER NOT NULL DEFAULT 0,"
    " removed_reason TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX IF NOT EXISTS bank_entries_identity ON bank_entries(signal_type, value, bank_id);"
    "CREATE TABLE IF NOT EXISTS bank_removals("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " entry_id INTEGER NOT NULL,"
    " bank_id INTEGER NOT NULL,"
    " time INTEGER NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS bank_audit("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time INTEGER NOT NULL,"
    " action TEXT NOT NULL,"
    " bank TEXT NOT NULL,"
    " detail TEXT NOT NULL DEFAULT '');";

typedef struct sq {
  sqlite3 *db;
  sqlite3_stmt *ins, *find, *mark, *log, *get;
} sq;

static const char entry_cols[] =
    "e.id, b.name, e.signal_type, e.value, e.external_id, e.tags, e.source, e.added, e.removed, e.removed_reason";

static int prep(sq *s, const char *sql, sqlite3_stmt **st, vigil_error *err) {
  if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  return VIGIL_OK;
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col) {
  const unsigned char *t = sqlite3_column_text(st, col);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
  if (n >= cap) n = cap - 1; /* cannot happen for rows we wrote; stay bounded anyway */
  if (n) memcpy(dst, t, n);
  dst[n] = '\0';
}

/* Row of entry_cols into e. */
static void read_entry(sqlite3_stmt *st, vigil_bank_entry *e) {
  e->id = (uint64_t)sqlite3_column_int64(st, 0);
  copy_text(e->bank, sizeof e->bank, st, 1);
  e->type = (vigil_signal_type)sqlite3_column_int(st, 2);
  const void *v = sqlite3_column_blob(st, 3);
  size_t n = (size_t)sqlite3_column_bytes(st, 3);
  if (n > VIGIL_BANK_VALUE_MAX) n = VIGIL_BANK_VALUE_MAX;
  memset(e->value, 0, sizeof e->value);
  if (v && n) memcpy(e->value, v, n);
  e->value_len = n;
  copy_text(e->external_id, sizeof e->external_id, st, 4);
  copy_text(e->tags, sizeof e->tags, st, 5);
  copy_text(e->source, sizeof e->source, st, 6);
  e->added = sqlite3_column_int64(st, 7);
  e->removed = sqlite3_column_int64(st, 8);
  copy_text(e->removed_reason, sizeof e->removed_reason, st, 9);
}

static void sq_close(void *impl) {
  sq *s = impl;
  if (!s) return;
  sqlite3_finalize(s->ins);
  sqlite3_finalize(s->find);
  sqlite3_finalize(s->mark);
  sqlite3_finalize(s->log);
  sqlite3_finalize(s->get);
  vigil__db_close(s->db);
  free(s);
}

static int sq_begin(void *impl, vigil_error *err) { return vigil__db_exec(((sq *)impl)->db, "BEGIN IMMEDIATE", err); }
static int sq_commit(void *impl, vigil_error *err) { return vigil__db_exec(((sq *)impl)->db, "COMMIT", err); }
static int sq_rollback(void *impl) {
  sq *s = impl;
  if (sqlite3_get_autocommit(s->db)) return VIGIL_OK;
  return vigil__db_exec(s->db, "ROLLBACK", NULL);
}

/* Steps a statement expected to finish (no rows); resets it. */
static int step_done(sq *s, sqlite3_stmt *st, const char *what, vigil_error *err) {
  int rc = sqlite3_step(st);
  int out = rc == SQLITE_DONE ? VIGIL_OK : vigil__db_error(s->db, what, err);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return out;
}

static int sq_bank_create(void *impl, const char *name, const char *desc, int64_t now, vigil_error *err) {
  sq *s = impl;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "INSERT INTO bank_banks(name, description, created) VALUES(?1, ?2, ?3)", -1, &st,
                         NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, desc ? desc : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, now);
  int rc = sqlite3_step(st), out = VIGIL_OK;
  if (rc == SQLITE_CONSTRAINT) out = vigil__seterr(err, VIGIL_EEXIST, "bank '%s' already exists", name);
  else if (rc != SQLITE_DONE) out = vigil__db_error(s->db, "create bank", err);
  sqlite3_finalize(st);
  return out;
}

static int sq_bank_drop(void *impl, const char *name, vigil_error *err) {
  sq *s = impl;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "DELETE FROM bank_banks WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st), out = VIGIL_OK;
  if (rc != SQLITE_DONE) out = vigil__db_error(s->db, "drop bank", err);
  else if (sqlite3_changes(s->db) == 0) out = vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
  sqlite3_finalize(st);
  return out;
}

static int sq_bank_set_enabled(void *impl, const char *name, int enabled, vigil_error *err) {
  sq *s = impl;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "UPDATE bank_banks SET enabled = ?2 WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, enabled ? 1 : 0);
  int rc = sqlite3_step(st), out = VIGIL_OK;
  if (rc != SQLITE_DONE) out = vigil__db_error(s->db, "enable bank", err);
  else if (sqlite3_changes(s->db) == 0) out = vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
  sqlite3_finalize(st);
  return out;
}

static void read_bank(sqlite3_stmt *st, vigil_bank_info *b) {
  memset(b, 0, sizeof *b);
  b->id = (uint64_t)sqlite3_column_int64(st, 0);
  copy_text(b->name, sizeof b->name, st, 1);
  copy_text(b->description, sizeof b->description, st, 2);
  b->enabled = sqlite3_column_int(st, 3);
  b->created = sqlite3_column_int64(st, 4);
}

/* Adds per-type counts (one pass over the entries) to banks[0..n). */
static int add_counts(sq *s, vigil_bank_info *banks, size_t n, uint64_t only_bank, vigil_error *err) {
  sqlite3_stmt *st;
  const char *sql = only_bank ? "SELECT bank_id, signal_type, removed <> 0, count(*) FROM bank_entries"
                                " WHERE bank_id = ?1 GROUP BY 1, 2, 3"
                              : "SELECT bank_id, signal_type, removed <> 0, count(*) FROM bank_entries GROUP BY 1, 2, 3";
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return vigil__db_error(s->db, "prepare", err);
  if (only_bank) sqlite3_bind_int64(st, 1, (sqlite3_int64)only_bank);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    vigil__bank_count_into(banks, n, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
                           sqlite3_column_int(st, 2), (uint64_t)sqlite3_column_int64(st, 3));
  }
  int out = rc == SQLITE_DONE ? VIGIL_OK : vigil__db_error(s->db, "count entries", err);
  sqlite3_finalize(st);
  return out;
}

static int sq_bank_get(void *impl, const char *name, int counts, vigil_bank_info *out, vigil_error *err) {
  sq *s = impl;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "SELECT id, name, description, enabled, created FROM bank_banks WHERE name = ?1", -1,
                         &st, NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st), res = VIGIL_OK;
  if (rc == SQLITE_ROW) read_bank(st, out);
  else if (rc == SQLITE_DONE) res = vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
  else res = vigil__db_error(s->db, "read bank", err);
  sqlite3_finalize(st);
  if (res == VIGIL_OK && counts) res = add_counts(s, out, 1, out->id, err);
  return res;
}

static int sq_bank_list(void *impl, int counts, vigil_bank_info **out, size_t *nout, vigil_error *err) {
  sq *s = impl;
  *out = NULL;
  *nout = 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "SELECT id, name, description, enabled, created FROM bank_banks ORDER BY name", -1,
                         &st, NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  vigil_bank_info *v = NULL;
  size_t n = 0, cap = 0;
  int rc, res = VIGIL_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 8;
      vigil_bank_info *nv = vigil__mallocarray(nc, sizeof *nv);
      if (!nv) {
        res = vigil__seterr(err, VIGIL_ENOMEM, "out of memory listing banks");
        break;
      }
      if (n) memcpy(nv, v, n * sizeof *nv);
      free(v);
      v = nv;
      cap = nc;
    }
    read_bank(st, &v[n++]);
  }
  if (res == VIGIL_OK && rc != SQLITE_DONE) res = vigil__db_error(s->db, "list banks", err);
  sqlite3_finalize(st);
  if (res == VIGIL_OK && counts && n) res = add_counts(s, v, n, 0, err);
  if (res) {
    free(v);
    return res;
  }
  *out = v;
  *nout = n;
  return VIGIL_OK;
}

static int log_removal(sq *s, uint64_t entry_id, uint64_t bank_id, int64_t when, const char *reason,
                       vigil_error *err) {
  if (!s->log && prep(s, "INSERT INTO bank_removals(entry_id, bank_id, time, reason) VALUES(?1, ?2, ?3, ?4)", &s->log,
                      err))
    return VIGIL_ESTORE;
  sqlite3_bind_int64(s->log, 1, (sqlite3_int64)entry_id);
  sqlite3_bind_int64(s->log, 2, (sqlite3_int64)bank_id);
  sqlite3_bind_int64(s->log, 3, when);
  sqlite3_bind_text(s->log, 4, reason ? reason : "", -1, SQLITE_STATIC);
  return step_done(s, s->log, "log removal", err);
}

/* Finds (id, removed) of an identity; VIGIL_ENOTFOUND if absent. */
static int find_identity(sq *s, uint64_t bank_id, vigil_signal_type t, const uint8_t *value, uint64_t *id,
                         int64_t *removed, vigil_error *err) {
  if (!s->find && prep(s, "SELECT id, removed FROM bank_entries WHERE signal_type = ?1 AND value = ?2 AND bank_id = ?3",
                       &s->find, err))
    return VIGIL_ESTORE;
  sqlite3_bind_int(s->find, 1, (int)t);
  sqlite3_bind_blob(s->find, 2, value, (int)vigil_signal_value_len(t), SQLITE_STATIC);
  sqlite3_bind_int64(s->find, 3, (sqlite3_int64)bank_id);
  int rc = sqlite3_step(s->find), res = VIGIL_OK;
  if (rc == SQLITE_ROW) {
    *id = (uint64_t)sqlite3_column_int64(s->find, 0);
    *removed = sqlite3_column_int64(s->find, 1);
  } else if (rc == SQLITE_DONE) res = vigil__seterr(err, VIGIL_ENOTFOUND, "no such entry");
  else res = vigil__db_error(s->db, "find entry", err);
  sqlite3_reset(s->find);
  sqlite3_clear_bindings(s->find);
  return res;
}

/* Marks row id removed (it must be active); logs the removal. */
static int mark_removed(sq *s, uint64_t id, uint64_t bank_id, int64_t when, const char *reason, vigil_error *err) {
  if (!s->mark &&
      prep(s, "UPDATE bank_entries SET removed = ?2, removed_reason = ?3 WHERE id = ?1 AND removed = 0", &s->mark, err))
    return VIGIL_ESTORE;
  sqlite3_bind_int64(s->mark, 1, (sqlite3_int64)id);
  sqlite3_bind_int64(s->mark, 2, when > 0 ? when : 1);
  sqlite3_bind_text(s->mark, 3, reason ? reason : "", -1, SQLITE_STATIC);
  int rc = step_done(s, s->mark, "remove entry", err);
  if (rc) return rc;
  return log_removal(s, id, bank_id, when, reason, err);
}

static int sq_entry_put(void *impl, uint64_t bank_id, vigil_bank_entry *e, int want_id, int *outcome,
                        vigil_error *err) {
  sq *s = impl;
  if (!s->ins && prep(s,
                      "INSERT INTO bank_entries(bank_id, signal_type, value, external_id, tags, source, added,"
                      " removed, removed_reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                      " ON CONFLICT(signal_type, value, bank_id) DO NOTHING",
                      &s->ins, err))
    return VIGIL_ESTORE;
  sqlite3_stmt *st = s->ins;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)bank_id);
  sqlite3_bind_int(st, 2, (int)e->type);
  sqlite3_bind_blob(st, 3, e->value, (int)e->value_len, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, e->external_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, e->tags, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, e->source, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 7, e->added);
  sqlite3_bind_int64(st, 8, e->removed);
  sqlite3_bind_text(st, 9, e->removed_reason, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return vigil__db_error(s->db, "insert entry", err);
  if (sqlite3_changes(s->db) == 1) {
    e->id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    *outcome = VIGIL__PUT_ADDED;
    return e->removed ? log_removal(s, e->id, bank_id, e->removed, e->removed_reason, err) : VIGIL_OK;
  }
  *outcome = VIGIL__PUT_EXISTING;
  e->id = 0;
  if (!want_id && !e->removed) return VIGIL_OK;
  int64_t was_removed = 0;
  int r = find_identity(s, bank_id, e->type, e->value, &e->id, &was_removed, err);
  if (r) return r == VIGIL_ENOTFOUND ? vigil__seterr(err, VIGIL_EINTERNAL, "entry vanished during insert") : r;
  if (e->removed && !was_removed) {
    if ((r = mark_removed(s, e->id, bank_id, e->removed, e->removed_reason, err))) return r;
    *outcome = VIGIL__PUT_REMOVED;
  }
  return VIGIL_OK;
}

static int sq_entry_remove(void *impl, uint64_t bank_id, vigil_signal_type t, const uint8_t *value, const char *reason,
                           int64_t now, int *changed, vigil_error *err) {
  sq *s = impl;
  uint64_t id = 0;
  int64_t was = 0;
  *changed = 0;
  int r = find_identity(s, bank_id, t, value, &id, &was, err);
  if (r) return r;
  if (was) return VIGIL_OK;
  *changed = 1;
  return mark_removed(s, id, bank_id, now, reason, err);
}

static int sq_entry_remove_id(void *impl, uint64_t id, const char *reason, int64_t now, int *changed,
                              vigil_error *err) {
  sq *s = impl;
  sqlite3_stmt *st;
  *changed = 0;
  if (sqlite3_prepare_v2(s->db, "SELECT bank_id, removed FROM bank_entries WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
  int rc = sqlite3_step(st);
  uint64_t bank_id = 0;
  int64_t was = 0;
  if (rc == SQLITE_ROW) {
    bank_id = (uint64_t)sqlite3_column_int64(st, 0);
    was = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_DONE) return vigil__seterr(err, VIGIL_ENOTFOUND, "no entry with id %llu", (unsigned long long)id);
  if (rc != SQLITE_ROW) return vigil__db_error(s->db, "find entry", err);
  if (was) return VIGIL_OK;
  *changed = 1;
  return mark_removed(s, id, bank_id, now, reason, err);
}

static int sq_entry_get(void *impl, uint64_t id, vigil_bank_entry *out, vigil_error *err) {
  sq *s = impl;
  if (!s->get) {
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM bank_entries e JOIN bank_banks b ON b.id = e.bank_id WHERE e.id = ?1",
             entry_cols);
    if (prep(s, sql, &s->get, err)) return VIGIL_ESTORE;
  }
  sqlite3_bind_int64(s->get, 1, (sqlite3_int64)id);
  int rc = sqlite3_step(s->get), res = VIGIL_OK;
  if (rc == SQLITE_ROW) read_entry(s->get, out);
  else if (rc == SQLITE_DONE) res = vigil__seterr(err, VIGIL_ENOTFOUND, "no entry with id %llu", (unsigned long long)id);
  else res = vigil__db_error(s->db, "read entry", err);
  sqlite3_reset(s->get);
  return res;
}

/* Runs a query of entry_cols rows, calling fn for each. */
static int run_entries(sq *s, sqlite3_stmt *st, vigil_bank_entry_fn fn, void *ctx, vigil_error *err) {
  vigil_bank_entry *e = malloc(sizeof *e);
  if (!e) {
    sqlite3_finalize(st);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  int rc, res = VIGIL_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    read_entry(st, e);
    if ((res = fn(ctx, e)) != 0) break;
  }
  if (res == VIGIL_OK && rc != SQLITE_DONE) res = vigil__db_error(s->db, "read entries", err);
  sqlite3_finalize(st);
  free(e);
  return res;
}

static int sq_entry_scan(void *impl, uint64_t bank_id, vigil_signal_type t, uint64_t after_id, int include_removed,
                         int only_enabled, vigil_bank_entry_fn fn, void *ctx, vigil_error *err) {
  sq *s = impl;
  char sql[768];
  /* "+e.signal_type": the identity index (signal_type, value, bank_id)
   * must not drive this scan.  With it SQLite visits every entry of the type
   * and sorts them, so the matcher's sync, which asks for the few entries
   * after its highest id once a second, read the whole bank each time (a
   * tenth of a second at 1M entries, with the index locked); the rowid
   * range e.id > ?1 in rowid order is what the scan wants. */
  snprintf(sql, sizeof sql,
           "SELECT %s FROM bank_entries e JOIN bank_banks b ON b.id = e.bank_id WHERE e.id > ?1%s%s%s%s"
           " ORDER BY e.id",
           entry_cols, bank_id ? " AND e.bank_id = ?2" : "", t ? " AND +e.signal_type = ?3" : "",
           include_removed ? "" : " AND e.removed = 0", only_enabled ? " AND b.enabled = 1" : "");
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)after_id);
  if (bank_id) sqlite3_bind_int64(st, 2, (sqlite3_int64)bank_id);
  if (t) sqlite3_bind_int(st, 3, (int)t);
  return run_entries(s, st, fn, ctx, err);
}

static int sq_entry_lookup(void *impl, vigil_signal_type t, const uint8_t *value, vigil_bank_entry_fn fn, void *ctx,
                           vigil_error *err) {
  sq *s = impl;
  char sql[768];
  snprintf(sql, sizeof sql,
           "SELECT %s FROM bank_entries e JOIN bank_banks b ON b.id = e.bank_id"
           " WHERE e.signal_type = ?1 AND e.value = ?2 AND e.removed = 0 AND b.enabled = 1 ORDER BY e.id",
           entry_cols);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_int(st, 1, (int)t);
  sqlite3_bind_blob(st, 2, value, (int)vigil_signal_value_len(t), SQLITE_TRANSIENT);
  return run_entries(s, st, fn, ctx, err);
}

static int sq_removals_since(void *impl, uint64_t after_seq, vigil__removal_fn fn, void *ctx, vigil_error *err) {
  sq *s = impl;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "SELECT seq, entry_id FROM bank_removals WHERE seq > ?1 ORDER BY seq", -1, &st, NULL) !=
      SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)after_seq);
  int rc, res = VIGIL_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    if ((res = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1))) != 0) break;
  if (res == VIGIL_OK && rc != SQLITE_DONE) res = vigil__db_error(s->db, "read removals", err);
  sqlite3_finalize(st);
  return res;
}

static int sq_audit(void *impl, int64_t now, const char *action, const char *bank, const char *detail,
                    vigil_error *err) {
  sq *s = impl;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "INSERT INTO bank_audit(time, action, bank, detail) VALUES(?1, ?2, ?3, ?4)", -1, &st,
                         NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "prepare", err);
  sqlite3_bind_int64(st, 1, now);
  sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, bank ? bank : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? VIGIL_OK : vigil__db_error(s->db, "audit", err);
}

static const vigil__bank_backend sqlite_backend = {
    "sqlite",          sq_close,        sq_begin,           sq_commit,      sq_rollback,   sq_bank_create,
    sq_bank_drop,      sq_bank_set_enabled, sq_bank_get,    sq_bank_list,   sq_entry_put,  sq_entry_remove,
    sq_entry_remove_id, sq_entry_get,   sq_entry_scan,      sq_entry_lookup, sq_removals_since, sq_audit,
    NULL, /* entry_put_many: in-process statements cost no round trip */
};

int vigil__bank_sqlite_open(const vigil__bank_backend **be, void **impl, const char *path, vigil_error *err) {
  sq *s = calloc(1, sizeof *s);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__db_open(&s->db, path, err);
  if (rc) {
    free(s);
    return rc;
  }
  /* Speed only: a 64 MiB page cache keeps the identity index of a large
   * import in memory longer; checkpointing every 16k pages rather than 1k
   * makes fewer, larger checkpoints.  Neither weakens synchronous=FULL. */
  rc = vigil__db_exec(s->db, "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=16384; PRAGMA temp_store=MEMORY;",
                      err);
  if (!rc) rc = vigil__db_exec(s->db, schema, err);
  if (rc) {
    vigil__prefixerr(err, path);
    sq_close(s);
    return rc;
  }
  *be = &sqlite_backend;
  *impl = s;
  return VIGIL_OK;
}
