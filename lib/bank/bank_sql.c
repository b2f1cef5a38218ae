/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_sql.c - the bank store's one backend (bank_backend.h), over db/sql.h,
 * so the same statements serve an embedded SQLite file (one node) and a
 * PostgreSQL database that several `vigil serve` nodes share.
 *
 * Tables (all prefixed bank_), in each engine's types:
 *   bank_banks     one row per bank; ids never reused (SQLite AUTOINCREMENT,
 *                  a PostgreSQL sequence), since matchers compare bank ids.
 *   bank_entries   one row per (bank, signal type, value), the identity,
 *                  enforced by a unique index that also serves exact
 *                  lookups by (signal_type, value).  Rows are never deleted
 *                  except by dropping their bank, so row ids only grow and a
 *                  matcher finds new entries with "id > last seen".
 *   bank_removals  append-only log of removals (entry, time, reason); its
 *                  seq tells a matcher which removals it has not applied.
 *   bank_audit     append-only log of bank-level operations and imports.
 *   bank_frames    the frame list of each vpdq entry (bank_vpdq.c's byte
 *                  form), one row per entry, deleted with it.  A table of
 *                  its own so that the entry scans every matcher and export
 *                  runs stay narrow; created by CREATE TABLE IF NOT EXISTS
 *                  like the rest, which is the whole migration of a store
 *                  made before vpdq entries existed.
 * Values are BLOB/BYTEA of their raw bytes (16 or 32), signal types the
 * small integers of vigil_signal_type, times Unix seconds.
 *
 * The matchers depend on one invariant:
 *
 *   Entry ids and removal sequence numbers become visible in the order
 *   they were assigned.
 *
 * A matcher reads "entries with id > the highest id I have seen"; if id
 * 101 could commit before id 100, a matcher polling in between would skip
 * 100 for ever.  SQLite has one writer at a time (BEGIN IMMEDIATE), so the
 * invariant holds there by construction.  PostgreSQL sequences alone do not
 * promise it (nextval happens at insert time, the commit later), so there
 * every writing transaction first takes one advisory lock
 * (VIGIL__PG_LOCK_BANKS): writers commit one at a time, and ids are drawn
 * under the lock.  Readers take no lock.
 *
 * Writes outside begin/commit that are more than one statement run in a
 * transaction of their own; on PostgreSQL every write does (for the lock).
 * Bulk imports use entry_put_many: one multi-row INSERT ... RETURNING per
 * VIGIL__PUT_MANY_MAX entries, which saves PostgreSQL its round trips and
 * SQLite its per-statement overhead.
 *
 * Large reads page through the table by id (LIMIT PAGE rows at a time), so
 * a scan of ten million entries holds one page in memory, never the whole
 * result.
 */
#include "bank/bank_backend.h"
#include "db/sql.h"
#include "common/internal.h"

#include <stdio.h>
#include <string.h>

#define PAGE 8192
#define PAGE_LIMIT " LIMIT 8192" /* PAGE, spelled for SQL */

/* Speed only: a 64 MiB page cache keeps the identity index of a large
 * import in memory longer; checkpointing every 16k pages rather than 1k
 * makes fewer, larger checkpoints.  Neither weakens synchronous=FULL
 * (db/db.h). */
static const char sqlite_schema[] =
    "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=16384; PRAGMA temp_store=MEMORY;"
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
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS bank_frames("
    " entry_id INTEGER PRIMARY KEY REFERENCES bank_entries(id) ON DELETE CASCADE,"
    " frames BLOB NOT NULL);";

static const char pg_schema[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_SCHEMA ");"
    "CREATE TABLE IF NOT EXISTS bank_banks("
    " id BIGSERIAL PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '',"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS bank_entries("
    " id BIGSERIAL PRIMARY KEY,"
    " bank_id BIGINT NOT NULL REFERENCES bank_banks(id) ON DELETE CASCADE,"
    " signal_type INTEGER NOT NULL,"
    " value BYTEA NOT NULL,"
    " external_id TEXT NOT NULL DEFAULT '',"
    " tags TEXT NOT NULL DEFAULT '',"
    " source TEXT NOT NULL DEFAULT '',"
    " added BIGINT NOT NULL,"
    " removed BIGINT NOT NULL DEFAULT 0,"
    " removed_reason TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX IF NOT EXISTS bank_entries_identity ON bank_entries(signal_type, value, bank_id);"
    "CREATE INDEX IF NOT EXISTS bank_entries_bank ON bank_entries(bank_id, id);"
    "CREATE TABLE IF NOT EXISTS bank_removals("
    " seq BIGSERIAL PRIMARY KEY,"
    " entry_id BIGINT NOT NULL,"
    " bank_id BIGINT NOT NULL,"
    " time BIGINT NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS bank_audit("
    " seq BIGSERIAL PRIMARY KEY,"
    " time BIGINT NOT NULL,"
    " action TEXT NOT NULL,"
    " bank TEXT NOT NULL,"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS bank_frames("
    " entry_id BIGINT PRIMARY KEY REFERENCES bank_entries(id) ON DELETE CASCADE,"
    " frames BYTEA NOT NULL);"
    "COMMIT;";

#define ENTRY_COLS \
  "e.id, b.name, e.signal_type, e.value, e.external_id, e.tags, e.source, e.added, e.removed, e.removed_reason"
#define ENTRY_FROM " FROM bank_entries e JOIN bank_banks b ON b.id = e.bank_id"
#define BANK_COLS "id, name, description, enabled, created"

typedef struct sqb {
  vigil__sql *db;
  int pg;     /* PostgreSQL: writes take the bank write lock */
  int locked; /* the open transaction holds it */
  char *many_sql[8]; /* entry_put_many's INSERT for 2^k rows, built once */
} sqb;

static void sb_close(void *impl) {
  sqb *g = impl;
  if (!g) return;
  for (int k = 0; k < 8; k++) free(g->many_sql[k]);
  vigil__sql_close(g->db);
  free(g);
}

/* PostgreSQL only: SQLite's BEGIN IMMEDIATE already is the one writer. */
static int lock_writes(sqb *g, vigil_error *err) {
  if (g->locked || !g->pg) return VIGIL_OK;
  int rc = vigil__sql_run(g->db, "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_BANKS ")", NULL, 0, NULL, NULL, err);
  if (!rc) g->locked = 1;
  return rc;
}

static int sb_begin(void *impl, vigil_error *err) {
  sqb *g = impl;
  int rc = vigil__sql_begin(g->db, err);
  if (!rc && (rc = lock_writes(g, err))) vigil__sql_rollback(g->db);
  return rc;
}

static int sb_commit(void *impl, vigil_error *err) {
  sqb *g = impl;
  g->locked = 0;
  return vigil__sql_commit(g->db, err);
}

static int sb_rollback(void *impl) {
  sqb *g = impl;
  g->locked = 0;
  vigil__sql_rollback(g->db);
  return VIGIL_OK;
}

/* A write: inside the caller's transaction, or, on PostgreSQL, in one of
 * its own (with the lock) that commits when the statement succeeded.  A
 * single SQLite statement outside a transaction is atomic by itself. */
static int write1(sqb *g, const char *sql, const vigil__val *p, int np, vigil__rows **rows, int64_t *changes,
                  vigil_error *err) {
  int own = g->pg && !vigil__sql_in_tx(g->db);
  int rc = own ? sb_begin(g, err) : lock_writes(g, err);
  if (!rc) rc = vigil__sql_run(g->db, sql, p, np, rows, changes, err);
  if (own) {
    if (!rc) rc = sb_commit(g, err);
    else sb_rollback(g);
    if (rc && rows) {
      vigil__rows_free(*rows);
      *rows = NULL;
    }
  }
  return rc;
}

static void copy_text(char *dst, size_t cap, const vigil__rows *r, size_t i, int col) {
  snprintf(dst, cap, "%s", vigil__rows_text(r, i, col)); /* bounded: our rows always fit */
}

static void read_entry(const vigil__rows *r, size_t i, vigil_bank_entry *e) {
  e->id = (uint64_t)vigil__rows_int(r, i, 0);
  copy_text(e->bank, sizeof e->bank, r, i, 1);
  e->type = (vigil_signal_type)vigil__rows_int(r, i, 2);
  const vigil__val *v = vigil__rows_cell(r, i, 3);
  size_t n = v->k == VIGIL__V_BLOB ? v->len : 0;
  if (n > VIGIL_BANK_VALUE_MAX) n = VIGIL_BANK_VALUE_MAX;
  memset(e->value, 0, sizeof e->value);
  if (n) memcpy(e->value, v->p, n);
  e->value_len = n;
  copy_text(e->external_id, sizeof e->external_id, r, i, 4);
  copy_text(e->tags, sizeof e->tags, r, i, 5);
  copy_text(e->source, sizeof e->source, r, i, 6);
  e->added = vigil__rows_int(r, i, 7);
  e->removed = vigil__rows_int(r, i, 8);
  copy_text(e->removed_reason, sizeof e->removed_reason, r, i, 9);
  e->frames = NULL;
  e->nframes = 0;
}

/* The frames of a vpdq entry just added, in the same transaction. */
static int put_frames(sqb *g, const vigil_bank_entry *e, vigil_error *err) {
  if (e->type != VIGIL_SIGNAL_VPDQ) return VIGIL_OK;
  if (!e->frames || !e->nframes) return vigil__seterr(err, VIGIL_EINVAL, "a vpdq entry needs its frames");
  uint8_t *b = NULL;
  size_t len = 0;
  int rc = vigil__bank_frames_encode(e->frames, e->nframes, &b, &len, err);
  if (rc) return rc;
  const vigil__val p[] = {vigil__vint((int64_t)e->id), vigil__vblob(b, len)};
  rc = write1(g, "INSERT INTO bank_frames(entry_id, frames) VALUES($1, $2)", p, 2, NULL, NULL, err);
  free(b);
  return rc ? vigil__prefixerr(err, rc, "store vpdq frames") : VIGIL_OK;
}

static void read_bank(const vigil__rows *r, size_t i, vigil_bank_info *b) {
  memset(b, 0, sizeof *b);
  b->id = (uint64_t)vigil__rows_int(r, i, 0);
  copy_text(b->name, sizeof b->name, r, i, 1);
  copy_text(b->description, sizeof b->description, r, i, 2);
  b->enabled = (int)vigil__rows_int(r, i, 3);
  b->created = vigil__rows_int(r, i, 4);
}

static int sb_bank_create(void *impl, const char *name, const char *desc, int64_t now, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name), vigil__vtext(desc ? desc : ""), vigil__vint(now)};
  int rc = write1(impl, "INSERT INTO bank_banks(name, description, created) VALUES($1, $2, $3)", p, 3, NULL, NULL, err);
  if (rc == VIGIL_EEXIST) return vigil__seterr(err, VIGIL_EEXIST, "bank '%s' already exists", name);
  return rc ? vigil__prefixerr(err, rc, "create bank") : VIGIL_OK;
}

static int sb_bank_drop(void *impl, const char *name, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name)};
  int64_t n = 0;
  int rc = write1(impl, "DELETE FROM bank_banks WHERE name = $1", p, 1, NULL, &n, err);
  if (rc) return vigil__prefixerr(err, rc, "drop bank");
  return n ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
}

static int sb_bank_set_enabled(void *impl, const char *name, int enabled, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name), vigil__vint(enabled ? 1 : 0)};
  int64_t n = 0;
  int rc = write1(impl, "UPDATE bank_banks SET enabled = $2 WHERE name = $1", p, 2, NULL, &n, err);
  if (rc) return vigil__prefixerr(err, rc, "enable bank");
  return n ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
}

/* Adds per-type counts to banks[0..n) (only_bank: just that bank's rows). */
static int add_counts(sqb *g, vigil_bank_info *banks, size_t n, uint64_t only_bank, vigil_error *err) {
  const vigil__val p[] = {vigil__vint((int64_t)only_bank)};
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db,
                          only_bank ? "SELECT bank_id, signal_type, removed <> 0, count(*) FROM bank_entries"
                                      " WHERE bank_id = $1 GROUP BY 1, 2, 3"
                                    : "SELECT bank_id, signal_type, removed <> 0, count(*) FROM bank_entries"
                                      " GROUP BY 1, 2, 3",
                          p, only_bank ? 1 : 0, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "count entries");
  for (size_t k = 0; k < vigil__rows_count(r); k++)
    vigil__bank_count_into(banks, n, (uint64_t)vigil__rows_int(r, k, 0), vigil__rows_int(r, k, 1),
                           vigil__rows_int(r, k, 2) != 0, (uint64_t)vigil__rows_int(r, k, 3));
  vigil__rows_free(r);
  return VIGIL_OK;
}

static int sb_bank_get(void *impl, const char *name, int counts, vigil_bank_info *out, vigil_error *err) {
  sqb *g = impl;
  const vigil__val p[] = {vigil__vtext(name)};
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, "SELECT " BANK_COLS " FROM bank_banks WHERE name = $1", p, 1, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "read bank");
  if (vigil__rows_count(r) == 1) read_bank(r, 0, out);
  else rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
  vigil__rows_free(r);
  if (rc == VIGIL_OK && counts) rc = add_counts(g, out, 1, out->id, err);
  return rc;
}

static int sb_bank_list(void *impl, int counts, vigil_bank_info **out, size_t *nout, vigil_error *err) {
  sqb *g = impl;
  *out = NULL;
  *nout = 0;
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, "SELECT " BANK_COLS " FROM bank_banks ORDER BY name", NULL, 0, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "list banks");
  size_t n = vigil__rows_count(r);
  vigil_bank_info *v = vigil__mallocarray(n, sizeof *v);
  if (!v) {
    vigil__rows_free(r);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory listing banks");
  }
  for (size_t i = 0; i < n; i++) read_bank(r, i, &v[i]);
  vigil__rows_free(r);
  if (counts && n && (rc = add_counts(g, v, n, 0, err))) {
    free(v);
    return rc;
  }
  *out = v;
  *nout = n;
  return VIGIL_OK;
}

static int log_removal(sqb *g, uint64_t entry_id, uint64_t bank_id, int64_t when, const char *reason,
                       vigil_error *err) {
  const vigil__val p[] = {vigil__vint((int64_t)entry_id), vigil__vint((int64_t)bank_id), vigil__vint(when),
                          vigil__vtext(reason ? reason : "")};
  return write1(g, "INSERT INTO bank_removals(entry_id, bank_id, time, reason) VALUES($1, $2, $3, $4)", p, 4, NULL,
                NULL, err);
}

/* Marks row id removed (it must be active) and logs the removal, in one
 * transaction. */
static int mark_removed(sqb *g, uint64_t id, uint64_t bank_id, int64_t when, const char *reason, vigil_error *err) {
  int own = !vigil__sql_in_tx(g->db);
  int rc = own ? sb_begin(g, err) : VIGIL_OK;
  const vigil__val p[] = {vigil__vint((int64_t)id), vigil__vint(when > 0 ? when : 1), vigil__vtext(reason ? reason : "")};
  if (!rc) rc = write1(g, "UPDATE bank_entries SET removed = $2, removed_reason = $3 WHERE id = $1 AND removed = 0", p,
                       3, NULL, NULL, err);
  if (!rc) rc = log_removal(g, id, bank_id, when, reason, err);
  if (own) {
    if (!rc) rc = sb_commit(g, err);
    else sb_rollback(g);
  }
  return rc ? vigil__prefixerr(err, rc, "remove entry") : VIGIL_OK;
}

/* (id, bank_id, removed) of the entry an identity or an id names;
 * VIGIL_ENOTFOUND if absent. */
static int find_row(sqb *g, const char *sql, const vigil__val *p, int np, uint64_t *id, uint64_t *bank_id,
                    int64_t *removed, vigil_error *err) {
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, sql, p, np, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "find entry");
  if (vigil__rows_count(r) == 1) {
    *id = (uint64_t)vigil__rows_int(r, 0, 0);
    *bank_id = (uint64_t)vigil__rows_int(r, 0, 1);
    *removed = vigil__rows_int(r, 0, 2);
  } else {
    rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no such entry");
  }
  vigil__rows_free(r);
  return rc;
}

static int find_identity(sqb *g, uint64_t bank_id, vigil_signal_type t, const uint8_t *value, uint64_t *id,
                         int64_t *removed, vigil_error *err) {
  const vigil__val p[] = {vigil__vint((int64_t)t), vigil__vblob(value, vigil_signal_value_len(t)),
                          vigil__vint((int64_t)bank_id)};
  uint64_t bid;
  return find_row(g, "SELECT id, bank_id, removed FROM bank_entries WHERE signal_type = $1 AND value = $2 AND bank_id = $3",
                  p, 3, id, &bid, removed, err);
}

static int sb_entry_put(void *impl, uint64_t bank_id, vigil_bank_entry *e, int want_id, int *outcome,
                        vigil_error *err) {
  sqb *g = impl;
  const vigil__val p[] = {vigil__vint((int64_t)bank_id), vigil__vint((int64_t)e->type), vigil__vblob(e->value, e->value_len),
                          vigil__vtext(e->external_id), vigil__vtext(e->tags), vigil__vtext(e->source),
                          vigil__vint(e->added), vigil__vint(e->removed), vigil__vtext(e->removed_reason)};
  int own = !vigil__sql_in_tx(g->db);
  int rc = own ? sb_begin(g, err) : VIGIL_OK;
  vigil__rows *r = NULL;
  if (!rc)
    rc = write1(g,
                "INSERT INTO bank_entries(bank_id, signal_type, value, external_id, tags, source, added, removed,"
                " removed_reason) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " ON CONFLICT(signal_type, value, bank_id) DO NOTHING RETURNING id",
                p, 9, &r, NULL, err);
  if (!rc && vigil__rows_count(r) == 1) {
    e->id = (uint64_t)vigil__rows_int(r, 0, 0);
    *outcome = VIGIL__PUT_ADDED;
    rc = put_frames(g, e, err);
    if (!rc && e->removed) rc = log_removal(g, e->id, bank_id, e->removed, e->removed_reason, err);
  } else if (!rc) {
    *outcome = VIGIL__PUT_EXISTING;
    e->id = 0;
    if (want_id || e->removed) {
      int64_t was_removed = 0;
      rc = find_identity(g, bank_id, e->type, e->value, &e->id, &was_removed, err);
      if (rc == VIGIL_ENOTFOUND) rc = vigil__seterr(err, VIGIL_EINTERNAL, "entry vanished during insert");
      if (!rc && e->removed && !was_removed) {
        rc = mark_removed(g, e->id, bank_id, e->removed, e->removed_reason, err);
        if (!rc) *outcome = VIGIL__PUT_REMOVED;
      }
    }
  }
  vigil__rows_free(r);
  if (own) {
    if (!rc) rc = sb_commit(g, err);
    else sb_rollback(g);
  }
  return rc;
}

/* An identity returned by the multi-row insert. */
typedef struct inserted {
  int type;
  uint8_t value[VIGIL_BANK_VALUE_MAX];
  uint64_t id;
  int taken;
} inserted;

static int ident_cmp(int ta, const uint8_t *va, int tb, const uint8_t *vb) {
  if (ta != tb) return ta < tb ? -1 : 1;
  return memcmp(va, vb, VIGIL_BANK_VALUE_MAX);
}

static int inserted_cmp(const void *a, const void *b) {
  const inserted *x = a, *y = b;
  return ident_cmp(x->type, x->value, y->type, y->value);
}

#define MANY_COLS 8 /* parameters per row of entry_put_many, after $1 (the bank) */

/* The multi-row INSERT for n = 2^k rows (k < 8), built once per
 * connection: formatting 128 rows of placeholders for every chunk cost
 * about a tenth of an SQLite import, and a statement per distinct size
 * would be prepared again for every batch's last chunk.  NULL when out of
 * memory. */
static const char *many_sql(sqb *g, int k) {
  if (g->many_sql[k]) return g->many_sql[k];
  size_t n = (size_t)1 << k, cap = 256 + n * 64;
  char *sql = malloc(cap);
  if (!sql) return NULL;
  size_t len = (size_t)snprintf(sql, cap,
                                "INSERT INTO bank_entries(bank_id, signal_type, value, external_id, tags, source,"
                                " added, removed, removed_reason) VALUES");
  for (size_t i = 0; i < n; i++) {
    int b = 2 + MANY_COLS * (int)i;
    len += (size_t)snprintf(sql + len, cap - len, "%s($1,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", i ? "," : "", b, b + 1,
                            b + 2, b + 3, b + 4, b + 5, b + 6, b + 7);
  }
  snprintf(sql + len, cap - len, " ON CONFLICT(signal_type, value, bank_id) DO NOTHING RETURNING id, signal_type, value");
  return g->many_sql[k] = sql;
}

/* One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING for the chunk,
 * then the rare follow-ups one by one (removals carried by the input).
 * Rows come back for the identities this statement inserted; the first
 * input row of each such identity is the one PostgreSQL inserted (rows are
 * inserted in VALUES order), later duplicates in the chunk are existing. */
static int put_chunk(sqb *g, uint64_t bank_id, vigil_bank_entry *es, int k, int *outcomes, vigil_error *err) {
  size_t n = (size_t)1 << k;
  vigil__val *p = vigil__mallocarray(1 + MANY_COLS * n, sizeof *p);
  inserted *ins = vigil__mallocarray(n, sizeof *ins);
  const char *sql = p && ins ? many_sql(g, k) : NULL;
  vigil__rows *r = NULL;
  int rc = sql ? lock_writes(g, err) : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (!rc) {
    p[0] = vigil__vint((int64_t)bank_id);
    for (size_t i = 0; i < n; i++) {
      const vigil_bank_entry *e = &es[i];
      vigil__val *q = &p[1 + MANY_COLS * i];
      q[0] = vigil__vint((int64_t)e->type);
      q[1] = vigil__vblob(e->value, e->value_len);
      q[2] = vigil__vtext(e->external_id);
      q[3] = vigil__vtext(e->tags);
      q[4] = vigil__vtext(e->source);
      q[5] = vigil__vint(e->added);
      q[6] = vigil__vint(e->removed);
      q[7] = vigil__vtext(e->removed_reason);
    }
    rc = vigil__sql_run(g->db, sql, p, 1 + MANY_COLS * (int)n, &r, NULL, err);
  }
  size_t nins = rc ? 0 : vigil__rows_count(r);
  for (size_t k = 0; k < nins; k++) {
    const vigil__val *v = vigil__rows_cell(r, k, 2);
    memset(&ins[k], 0, sizeof ins[k]);
    ins[k].id = (uint64_t)vigil__rows_int(r, k, 0);
    ins[k].type = (int)vigil__rows_int(r, k, 1);
    memcpy(ins[k].value, v->p, v->len < VIGIL_BANK_VALUE_MAX ? v->len : VIGIL_BANK_VALUE_MAX);
  }
  if (nins > 1) qsort(ins, nins, sizeof *ins, inserted_cmp);
  for (size_t i = 0; !rc && i < n; i++) {
    vigil_bank_entry *e = &es[i];
    inserted key;
    memset(&key, 0, sizeof key);
    key.type = (int)e->type;
    memcpy(key.value, e->value, e->value_len);
    inserted *hit = nins ? bsearch(&key, ins, nins, sizeof *ins, inserted_cmp) : NULL;
    if (hit && !hit->taken) {
      hit->taken = 1;
      e->id = hit->id;
      outcomes[i] = VIGIL__PUT_ADDED;
      rc = put_frames(g, e, err);
      if (!rc && e->removed) rc = log_removal(g, e->id, bank_id, e->removed, e->removed_reason, err);
      continue;
    }
    outcomes[i] = VIGIL__PUT_EXISTING;
    e->id = 0;
    if (!e->removed) continue;
    int64_t was_removed = 0;
    rc = find_identity(g, bank_id, e->type, e->value, &e->id, &was_removed, err);
    if (rc == VIGIL_ENOTFOUND) rc = vigil__seterr(err, VIGIL_EINTERNAL, "entry vanished during insert");
    if (!rc && !was_removed) {
      rc = mark_removed(g, e->id, bank_id, e->removed, e->removed_reason, err);
      if (!rc) outcomes[i] = VIGIL__PUT_REMOVED;
    }
  }
  vigil__rows_free(r);
  free(ins);
  free(p);
  return rc;
}

_Static_assert(VIGIL__PUT_MANY_MAX == 128, "many_sql keeps 2^0 .. 2^7 rows");

/* Chunks of 128, 64, ... 1 rows: at most eight statements per connection.
 * Chunks run in input order, so the first input row of an identity is
 * still the one inserted and later ones are existing. */
static int sb_entry_put_many(void *impl, uint64_t bank_id, vigil_bank_entry *es, size_t n, int *outcomes,
                             vigil_error *err) {
  sqb *g = impl;
  if (n > VIGIL__PUT_MANY_MAX || !vigil__sql_in_tx(g->db))
    return vigil__seterr(err, VIGIL_EINTERNAL, "entry_put_many: bad call");
  int rc = VIGIL_OK;
  for (size_t off = 0; !rc && off < n;) {
    int k = 7;
    while (((size_t)1 << k) > n - off) k--;
    rc = put_chunk(g, bank_id, es + off, k, outcomes + off, err);
    off += (size_t)1 << k;
  }
  return rc;
}

static int sb_entry_remove(void *impl, uint64_t bank_id, vigil_signal_type t, const uint8_t *value, const char *reason,
                           int64_t now, int *changed, vigil_error *err) {
  sqb *g = impl;
  uint64_t id = 0;
  int64_t was = 0;
  *changed = 0;
  int rc = find_identity(g, bank_id, t, value, &id, &was, err);
  if (rc || was) return rc;
  *changed = 1;
  return mark_removed(g, id, bank_id, now, reason, err);
}

static int sb_entry_remove_id(void *impl, uint64_t id, const char *reason, int64_t now, int *changed,
                              vigil_error *err) {
  sqb *g = impl;
  const vigil__val p[] = {vigil__vint((int64_t)id)};
  uint64_t got = 0, bank_id = 0;
  int64_t was = 0;
  *changed = 0;
  int rc = find_row(g, "SELECT id, bank_id, removed FROM bank_entries WHERE id = $1", p, 1, &got, &bank_id, &was, err);
  if (rc == VIGIL_ENOTFOUND) return vigil__seterr(err, VIGIL_ENOTFOUND, "no entry with id %llu", (unsigned long long)id);
  if (rc || was) return rc;
  *changed = 1;
  return mark_removed(g, id, bank_id, now, reason, err);
}

static int sb_entry_get(void *impl, uint64_t id, vigil_bank_entry *out, vigil_error *err) {
  sqb *g = impl;
  const vigil__val p[] = {vigil__vint((int64_t)id)};
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, "SELECT " ENTRY_COLS ENTRY_FROM " WHERE e.id = $1", p, 1, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "read entry");
  if (vigil__rows_count(r) == 1) read_entry(r, 0, out);
  else rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no entry with id %llu", (unsigned long long)id);
  vigil__rows_free(r);
  return rc;
}

/* Runs an entry query page by page: sql takes the last id seen as $1 and
 * returns at most PAGE rows in id order. */
static int run_pages(sqb *g, const char *sql, vigil__val *p, int np, vigil_bank_entry_fn fn, void *ctx,
                     vigil_error *err) {
  vigil_bank_entry *e = malloc(sizeof *e);
  if (!e) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = VIGIL_OK;
  for (;;) {
    vigil__rows *r = NULL;
    if ((rc = vigil__sql_run(g->db, sql, p, np, &r, NULL, err))) {
      vigil__prefixerr(err, rc, "read entries");
      break;
    }
    size_t n = vigil__rows_count(r);
    for (size_t i = 0; rc == VIGIL_OK && i < n; i++) {
      read_entry(r, i, e);
      p[0] = vigil__vint((int64_t)e->id);
      rc = fn(ctx, e);
    }
    vigil__rows_free(r);
    if (rc || n < PAGE) break;
  }
  free(e);
  return rc;
}

#define PAGE_SQL(where) "SELECT " ENTRY_COLS ENTRY_FROM " WHERE e.id > $1" where " ORDER BY e.id" PAGE_LIMIT

/* "+e.signal_type": the identity index (signal_type, value, bank_id) must
 * not drive this scan.  With it SQLite visits every entry of the type and
 * sorts them, so the matcher's sync, which asks for the few entries after
 * its highest id, read the whole bank each time (a tenth of a second at 1M
 * entries); the id range in id order is what the scan wants.  PostgreSQL
 * reads the unary plus the same way. */
static int sb_entry_scan(void *impl, uint64_t bank_id, vigil_signal_type t, uint64_t after_id, int include_removed,
                         int only_enabled, vigil_bank_entry_fn fn, void *ctx, vigil_error *err) {
  char sql[640];
  snprintf(sql, sizeof sql, PAGE_SQL("%s%s%s%s"), bank_id ? " AND e.bank_id = $2" : "",
           t ? " AND +e.signal_type = $3" : "", include_removed ? "" : " AND e.removed = 0",
           only_enabled ? " AND b.enabled = 1" : "");
  vigil__val p[] = {vigil__vint((int64_t)after_id), vigil__vint((int64_t)bank_id), vigil__vint((int64_t)t)};
  return run_pages(impl, sql, p, 3, fn, ctx, err);
}

static int sb_entry_lookup(void *impl, vigil_signal_type t, const uint8_t *value, vigil_bank_entry_fn fn, void *ctx,
                           vigil_error *err) {
  vigil__val p[] = {vigil__vint(0), vigil__vint((int64_t)t), vigil__vblob(value, vigil_signal_value_len(t))};
  return run_pages(impl, PAGE_SQL(" AND e.signal_type = $2 AND e.value = $3 AND e.removed = 0 AND b.enabled = 1"), p, 3,
                   fn, ctx, err);
}

static int sb_removals_since(void *impl, uint64_t after_seq, vigil__removal_fn fn, void *ctx, vigil_error *err) {
  sqb *g = impl;
  vigil__val p[] = {vigil__vint((int64_t)after_seq)};
  for (;;) {
    vigil__rows *r = NULL;
    int rc = vigil__sql_run(g->db, "SELECT seq, entry_id FROM bank_removals WHERE seq > $1 ORDER BY seq" PAGE_LIMIT, p, 1,
                            &r, NULL, err);
    if (rc) return vigil__prefixerr(err, rc, "read removals");
    size_t n = vigil__rows_count(r);
    for (size_t i = 0; rc == VIGIL_OK && i < n; i++) {
      p[0] = vigil__vint(vigil__rows_int(r, i, 0));
      rc = fn(ctx, (uint64_t)p[0].i, (uint64_t)vigil__rows_int(r, i, 1));
    }
    vigil__rows_free(r);
    if (rc || n < PAGE) return rc;
  }
}

static int sb_audit(void *impl, int64_t now, const char *action, const char *bank, const char *detail,
                    vigil_error *err) {
  const vigil__val p[] = {vigil__vint(now), vigil__vtext(action), vigil__vtext(bank ? bank : ""),
                          vigil__vtext(detail ? detail : "")};
  int rc = write1(impl, "INSERT INTO bank_audit(time, action, bank, detail) VALUES($1, $2, $3, $4)", p, 4, NULL, NULL,
                  err);
  return rc ? vigil__prefixerr(err, rc, "audit") : VIGIL_OK;
}

static vigil__sql *sb_sql(void *impl) { return ((sqb *)impl)->db; }

static int sb_entry_frames(void *impl, uint64_t id, vigil_video_frame **frames, size_t *n, vigil_error *err) {
  sqb *g = impl;
  *frames = NULL;
  *n = 0;
  const vigil__val p[] = {vigil__vint((int64_t)id)};
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, "SELECT frames FROM bank_frames WHERE entry_id = $1", p, 1, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "read vpdq frames");
  const vigil__val *v = vigil__rows_count(r) == 1 ? vigil__rows_cell(r, 0, 0) : NULL;
  if (!v) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "entry %llu has no vpdq frames", (unsigned long long)id);
  else if (v->k != VIGIL__V_BLOB) rc = vigil__seterr(err, VIGIL_ECORRUPT, "entry %llu: stored frames are not bytes",
                                                     (unsigned long long)id);
  else rc = vigil__bank_frames_decode((const uint8_t *)v->p, v->len, frames, n, err);
  vigil__rows_free(r);
  return rc;
}

/* Pages of FRAME_PAGE entries: a frame list is tens of kilobytes, so the
 * page that bounds an entry scan's memory is smaller here. */
#define FRAME_PAGE 256
static int sb_vpdq_scan(void *impl, uint64_t after_id, vigil__frames_fn fn, void *ctx, vigil_error *err) {
  sqb *g = impl;
  vigil__val p[] = {vigil__vint((int64_t)after_id), vigil__vint(VIGIL_SIGNAL_VPDQ)};
  for (;;) {
    vigil__rows *r = NULL;
    int rc = vigil__sql_run(g->db,
                            "SELECT e.id, f.frames FROM bank_entries e JOIN bank_banks b ON b.id = e.bank_id"
                            " JOIN bank_frames f ON f.entry_id = e.id WHERE e.id > $1 AND +e.signal_type = $2"
                            " AND e.removed = 0 AND b.enabled = 1 ORDER BY e.id LIMIT 256",
                            p, 2, &r, NULL, err);
    if (rc) return vigil__prefixerr(err, rc, "read vpdq entries");
    size_t n = vigil__rows_count(r);
    for (size_t i = 0; rc == VIGIL_OK && i < n; i++) {
      uint64_t id = (uint64_t)vigil__rows_int(r, i, 0);
      p[0] = vigil__vint((int64_t)id);
      const vigil__val *v = vigil__rows_cell(r, i, 1);
      vigil_video_frame *f = NULL;
      size_t nf = 0;
      if (v->k != VIGIL__V_BLOB) rc = vigil__seterr(err, VIGIL_ECORRUPT, "entry %llu: stored frames are not bytes",
                                                    (unsigned long long)id);
      else rc = vigil__bank_frames_decode((const uint8_t *)v->p, v->len, &f, &nf, err);
      if (rc) vigil__prefixerr(err, rc, "vpdq entry");
      if (!rc) rc = fn(ctx, id, f, nf);
      free(f);
    }
    vigil__rows_free(r);
    if (rc || n < FRAME_PAGE) return rc;
  }
}

static int sb_entry_max_id(void *impl, uint64_t *out, vigil_error *err) {
  sqb *g = impl;
  vigil__rows *r = NULL;
  *out = 0;
  int rc = vigil__sql_run(g->db, "SELECT coalesce(max(id), 0) FROM bank_entries", NULL, 0, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "read the highest entry id");
  if (vigil__rows_count(r) == 1) *out = (uint64_t)vigil__rows_int(r, 0, 0);
  vigil__rows_free(r);
  return VIGIL_OK;
}

static const vigil__bank_backend sqlite_backend = {
    "sqlite",           sb_close,        sb_begin,           sb_commit,       sb_rollback,       sb_bank_create,
    sb_bank_drop,       sb_bank_set_enabled, sb_bank_get,    sb_bank_list,    sb_entry_put,      sb_entry_remove,
    sb_entry_remove_id, sb_entry_get,    sb_entry_scan,      sb_entry_lookup, sb_removals_since, sb_audit,
    sb_entry_put_many,  sb_entry_frames, sb_vpdq_scan,       sb_entry_max_id, sb_sql,
};

static const vigil__bank_backend pg_backend = {
    "postgresql",       sb_close,        sb_begin,           sb_commit,       sb_rollback,       sb_bank_create,
    sb_bank_drop,       sb_bank_set_enabled, sb_bank_get,    sb_bank_list,    sb_entry_put,      sb_entry_remove,
    sb_entry_remove_id, sb_entry_get,    sb_entry_scan,      sb_entry_lookup, sb_removals_since, sb_audit,
    sb_entry_put_many,  sb_entry_frames, sb_vpdq_scan,       sb_entry_max_id, sb_sql,
};

int vigil__bank_sql_open(const vigil__bank_backend **be, void **impl, const char *location, vigil_error *err) {
  sqb *g = calloc(1, sizeof *g);
  if (!g) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__sql_open(&g->db, location, err);
  if (!rc) {
    g->pg = vigil__sql_engine(g->db) == VIGIL__SQL_PG;
    rc = vigil__sql_script(g->db, g->pg ? pg_schema : sqlite_schema, err);
    if (rc && !g->pg) vigil__prefixerr(err, rc, location); /* a PostgreSQL URI may hold a password */
  }
  if (rc) {
    sb_close(g);
    return rc;
  }
  *be = g->pg ? &pg_backend : &sqlite_backend;
  *impl = g;
  return VIGIL_OK;
}
