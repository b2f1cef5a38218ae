/*
 * bank_pg.c - the PostgreSQL backend of the bank store (bank_backend.h),
 * for several `vigil serve` nodes sharing one set of banks.
 *
 * The tables are those of bank_sqlite.c in PostgreSQL's types (BIGSERIAL
 * ids, BYTEA values, BIGINT times) and the statements go through
 * db/sql.h.  What PostgreSQL adds is concurrency between nodes, and
 * with it one invariant the matchers depend on:
 *
 *   Entry ids and removal sequence numbers become visible in the order
 *   they were assigned.
 *
 * A matcher reads "entries with id > the highest id I have seen"; if id
 * 101 could commit before id 100, a matcher polling in between would skip
 * 100 for ever.  Sequences alone do not promise this (nextval happens at
 * insert time, the commit later), so every writing transaction first takes
 * one advisory lock (VIGIL__PG_LOCK_BANKS): writers to the banks commit one
 * at a time, and ids are drawn under the lock.  Readers take no lock.
 * Writes outside begin/commit run in a transaction of their own that takes
 * the lock too.
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

static const char schema[] =
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
    "COMMIT;";

#define ENTRY_COLS \
  "e.id, b.name, e.signal_type, e.value, e.external_id, e.tags, e.source, e.added, e.removed, e.removed_reason"
#define ENTRY_FROM " FROM bank_entries e JOIN bank_banks b ON b.id = e.bank_id"
#define BANK_COLS "id, name, description, enabled, created"

typedef struct pgb {
  vigil__sql *db;
  int locked; /* the open transaction holds the bank write lock */
} pgb;

static void pg_close(void *impl) {
  pgb *g = impl;
  if (!g) return;
  vigil__sql_close(g->db);
  free(g);
}

static int lock_writes(pgb *g, vigil_error *err) {
  if (g->locked) return VIGIL_OK;
  int rc = vigil__sql_run(g->db, "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_BANKS ")", NULL, 0, NULL, NULL, err);
  if (!rc) g->locked = 1;
  return rc;
}

static int pg_begin(void *impl, vigil_error *err) {
  pgb *g = impl;
  int rc = vigil__sql_begin(g->db, err);
  if (!rc && (rc = lock_writes(g, err))) vigil__sql_rollback(g->db);
  return rc;
}

static int pg_commit(void *impl, vigil_error *err) {
  pgb *g = impl;
  g->locked = 0;
  return vigil__sql_commit(g->db, err);
}

static int pg_rollback(void *impl) {
  pgb *g = impl;
  g->locked = 0;
  vigil__sql_rollback(g->db);
  return VIGIL_OK;
}

/* A write: inside the caller's transaction, or in one of its own (with
 * the lock) that commits when the statement succeeded. */
static int write1(pgb *g, const char *sql, const vigil__val *p, int np, vigil__rows **rows, int64_t *changes,
                  vigil_error *err) {
  int own = !vigil__sql_in_tx(g->db);
  int rc = own ? pg_begin(g, err) : lock_writes(g, err);
  if (!rc) rc = vigil__sql_run(g->db, sql, p, np, rows, changes, err);
  if (own) {
    if (!rc) rc = pg_commit(g, err);
    else pg_rollback(g);
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
}

static void read_bank(const vigil__rows *r, size_t i, vigil_bank_info *b) {
  memset(b, 0, sizeof *b);
  b->id = (uint64_t)vigil__rows_int(r, i, 0);
  copy_text(b->name, sizeof b->name, r, i, 1);
  copy_text(b->description, sizeof b->description, r, i, 2);
  b->enabled = (int)vigil__rows_int(r, i, 3);
  b->created = vigil__rows_int(r, i, 4);
}

static int pg_bank_create(void *impl, const char *name, const char *desc, int64_t now, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name), vigil__vtext(desc ? desc : ""), vigil__vint(now)};
  int rc = write1(impl, "INSERT INTO bank_banks(name, description, created) VALUES($1, $2, $3)", p, 3, NULL, NULL, err);
  if (rc == VIGIL_EEXIST) return vigil__seterr(err, VIGIL_EEXIST, "bank '%s' already exists", name);
  return rc ? vigil__prefixerr(err, "create bank") : VIGIL_OK;
}

static int pg_bank_drop(void *impl, const char *name, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name)};
  int64_t n = 0;
  int rc = write1(impl, "DELETE FROM bank_banks WHERE name = $1", p, 1, NULL, &n, err);
  if (rc) return vigil__prefixerr(err, "drop bank");
  return n ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
}

static int pg_bank_set_enabled(void *impl, const char *name, int enabled, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name), vigil__vint(enabled ? 1 : 0)};
  int64_t n = 0;
  int rc = write1(impl, "UPDATE bank_banks SET enabled = $2 WHERE name = $1", p, 2, NULL, &n, err);
  if (rc) return vigil__prefixerr(err, "enable bank");
  return n ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
}

/* Adds per-type counts to banks[0..n) (only_bank: just that bank's rows). */
static int add_counts(pgb *g, vigil_bank_info *banks, size_t n, uint64_t only_bank, vigil_error *err) {
  const vigil__val p[] = {vigil__vint((int64_t)only_bank)};
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db,
                          only_bank ? "SELECT bank_id, signal_type, removed <> 0, count(*) FROM bank_entries"
                                      " WHERE bank_id = $1 GROUP BY 1, 2, 3"
                                    : "SELECT bank_id, signal_type, removed <> 0, count(*) FROM bank_entries"
                                      " GROUP BY 1, 2, 3",
                          p, only_bank ? 1 : 0, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, "count entries");
  for (size_t k = 0; k < vigil__rows_count(r); k++)
    vigil__bank_count_into(banks, n, (uint64_t)vigil__rows_int(r, k, 0), vigil__rows_int(r, k, 1),
                           vigil__rows_int(r, k, 2) != 0, (uint64_t)vigil__rows_int(r, k, 3));
  vigil__rows_free(r);
  return VIGIL_OK;
}

static int pg_bank_get(void *impl, const char *name, int counts, vigil_bank_info *out, vigil_error *err) {
  pgb *g = impl;
  const vigil__val p[] = {vigil__vtext(name)};
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, "SELECT " BANK_COLS " FROM bank_banks WHERE name = $1", p, 1, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, "read bank");
  if (vigil__rows_count(r) == 1) read_bank(r, 0, out);
  else rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no bank named '%s'", name);
  vigil__rows_free(r);
  if (rc == VIGIL_OK && counts) rc = add_counts(g, out, 1, out->id, err);
  return rc;
}

static int pg_bank_list(void *impl, int counts, vigil_bank_info **out, size_t *nout, vigil_error *err) {
  pgb *g = impl;
  *out = NULL;
  *nout = 0;
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, "SELECT " BANK_COLS " FROM bank_banks ORDER BY name", NULL, 0, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, "list banks");
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

static int log_removal(pgb *g, uint64_t entry_id, uint64_t bank_id, int64_t when, const char *reason,
                       vigil_error *err) {
  const vigil__val p[] = {vigil__vint((int64_t)entry_id), vigil__vint((int64_t)bank_id), vigil__vint(when),
                          vigil__vtext(reason ? reason : "")};
  return write1(g, "INSERT INTO bank_removals(entry_id, bank_id, time, reason) VALUES($1, $2, $3, $4)", p, 4, NULL,
                NULL, err);
}

/* Marks row id removed (it must be active) and logs the removal, in one
 * transaction. */
static int mark_removed(pgb *g, uint64_t id, uint64_t bank_id, int64_t when, const char *reason, vigil_error *err) {
  int own = !vigil__sql_in_tx(g->db);
  int rc = own ? pg_begin(g, err) : VIGIL_OK;
  const vigil__val p[] = {vigil__vint((int64_t)id), vigil__vint(when > 0 ? when : 1), vigil__vtext(reason ? reason : "")};
  if (!rc) rc = write1(g, "UPDATE bank_entries SET removed = $2, removed_reason = $3 WHERE id = $1 AND removed = 0", p,
                       3, NULL, NULL, err);
  if (!rc) rc = log_removal(g, id, bank_id, when, reason, err);
  if (own) {
    if (!rc) rc = pg_commit(g, err);
    else pg_rollback(g);
  }
  return rc ? vigil__prefixerr(err, "remove entry") : VIGIL_OK;
}

/* (id, bank_id, removed) of the entry an identity or an id names;
 * VIGIL_ENOTFOUND if absent. */
static int find_row(pgb *g, const char *sql, const vigil__val *p, int np, uint64_t *id, uint64_t *bank_id,
                    int64_t *removed, vigil_error *err) {
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, sql, p, np, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, "find entry");
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

static int find_identity(pgb *g, uint64_t bank_id, vigil_signal_type t, const uint8_t *value, uint64_t *id,
                         int64_t *removed, vigil_error *err) {
  const vigil__val p[] = {vigil__vint((int64_t)t), vigil__vblob(value, vigil_signal_value_len(t)),
                          vigil__vint((int64_t)bank_id)};
  uint64_t bid;
  return find_row(g, "SELECT id, bank_id, removed FROM bank_entries WHERE signal_type = $1 AND value = $2 AND bank_id = $3",
                  p, 3, id, &bid, removed, err);
}

static int pg_entry_put(void *impl, uint64_t bank_id, vigil_bank_entry *e, int want_id, int *outcome,
                        vigil_error *err) {
  pgb *g = impl;
  const vigil__val p[] = {vigil__vint((int64_t)bank_id), vigil__vint((int64_t)e->type), vigil__vblob(e->value, e->value_len),
                          vigil__vtext(e->external_id), vigil__vtext(e->tags), vigil__vtext(e->source),
                          vigil__vint(e->added), vigil__vint(e->removed), vigil__vtext(e->removed_reason)};
  int own = !vigil__sql_in_tx(g->db);
  int rc = own ? pg_begin(g, err) : VIGIL_OK;
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
    if (e->removed) rc = log_removal(g, e->id, bank_id, e->removed, e->removed_reason, err);
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
    if (!rc) rc = pg_commit(g, err);
    else pg_rollback(g);
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

/* One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING for the chunk,
 * then the rare follow-ups one by one (removals carried by the input).
 * Rows come back for the identities this statement inserted; the first
 * input row of each such identity is the one PostgreSQL inserted (rows are
 * inserted in VALUES order), later duplicates in the chunk are existing. */
static int pg_entry_put_many(void *impl, uint64_t bank_id, vigil_bank_entry *es, size_t n, int *outcomes,
                             vigil_error *err) {
  pgb *g = impl;
  if (n == 0) return VIGIL_OK;
  if (n > VIGIL__PUT_MANY_MAX || !vigil__sql_in_tx(g->db))
    return vigil__seterr(err, VIGIL_EINTERNAL, "entry_put_many: bad call");
  enum { COLS = 8 };
  size_t cap = 256 + n * 64;
  char *sql = malloc(cap);
  vigil__val *p = vigil__mallocarray(1 + COLS * n, sizeof *p);
  inserted *ins = vigil__mallocarray(n, sizeof *ins);
  vigil__rows *r = NULL;
  int rc = sql && p && ins ? lock_writes(g, err) : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (!rc) {
    size_t len = (size_t)snprintf(sql, cap,
                                  "INSERT INTO bank_entries(bank_id, signal_type, value, external_id, tags, source,"
                                  " added, removed, removed_reason) VALUES");
    p[0] = vigil__vint((int64_t)bank_id);
    for (size_t i = 0; i < n; i++) {
      const vigil_bank_entry *e = &es[i];
      int b = 2 + COLS * (int)i;
      len += (size_t)snprintf(sql + len, cap - len, "%s($1,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", i ? "," : "", b, b + 1,
                              b + 2, b + 3, b + 4, b + 5, b + 6, b + 7);
      vigil__val *q = &p[1 + COLS * i];
      q[0] = vigil__vint((int64_t)e->type);
      q[1] = vigil__vblob(e->value, e->value_len);
      q[2] = vigil__vtext(e->external_id);
      q[3] = vigil__vtext(e->tags);
      q[4] = vigil__vtext(e->source);
      q[5] = vigil__vint(e->added);
      q[6] = vigil__vint(e->removed);
      q[7] = vigil__vtext(e->removed_reason);
    }
    snprintf(sql + len, cap - len, " ON CONFLICT(signal_type, value, bank_id) DO NOTHING RETURNING id, signal_type, value");
    rc = vigil__sql_run(g->db, sql, p, 1 + COLS * (int)n, &r, NULL, err);
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
      if (e->removed) rc = log_removal(g, e->id, bank_id, e->removed, e->removed_reason, err);
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
  free(sql);
  return rc;
}

static int pg_entry_remove(void *impl, uint64_t bank_id, vigil_signal_type t, const uint8_t *value, const char *reason,
                           int64_t now, int *changed, vigil_error *err) {
  pgb *g = impl;
  uint64_t id = 0;
  int64_t was = 0;
  *changed = 0;
  int rc = find_identity(g, bank_id, t, value, &id, &was, err);
  if (rc || was) return rc;
  *changed = 1;
  return mark_removed(g, id, bank_id, now, reason, err);
}

static int pg_entry_remove_id(void *impl, uint64_t id, const char *reason, int64_t now, int *changed,
                              vigil_error *err) {
  pgb *g = impl;
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

static int pg_entry_get(void *impl, uint64_t id, vigil_bank_entry *out, vigil_error *err) {
  pgb *g = impl;
  const vigil__val p[] = {vigil__vint((int64_t)id)};
  vigil__rows *r = NULL;
  int rc = vigil__sql_run(g->db, "SELECT " ENTRY_COLS ENTRY_FROM " WHERE e.id = $1", p, 1, &r, NULL, err);
  if (rc) return vigil__prefixerr(err, "read entry");
  if (vigil__rows_count(r) == 1) read_entry(r, 0, out);
  else rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no entry with id %llu", (unsigned long long)id);
  vigil__rows_free(r);
  return rc;
}

/* Runs an entry query page by page: sql takes the last id seen as $1 and
 * returns at most PAGE rows in id order. */
static int run_pages(pgb *g, const char *sql, vigil__val *p, int np, vigil_bank_entry_fn fn, void *ctx,
                     vigil_error *err) {
  vigil_bank_entry *e = malloc(sizeof *e);
  if (!e) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = VIGIL_OK;
  for (;;) {
    vigil__rows *r = NULL;
    if ((rc = vigil__sql_run(g->db, sql, p, np, &r, NULL, err))) {
      vigil__prefixerr(err, "read entries");
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

static int pg_entry_scan(void *impl, uint64_t bank_id, vigil_signal_type t, uint64_t after_id, int include_removed,
                         int only_enabled, vigil_bank_entry_fn fn, void *ctx, vigil_error *err) {
  char sql[640];
  snprintf(sql, sizeof sql, PAGE_SQL("%s%s%s%s"), bank_id ? " AND e.bank_id = $2" : "",
           t ? " AND e.signal_type = $3" : "", include_removed ? "" : " AND e.removed = 0",
           only_enabled ? " AND b.enabled = 1" : "");
  vigil__val p[] = {vigil__vint((int64_t)after_id), vigil__vint((int64_t)bank_id), vigil__vint((int64_t)t)};
  return run_pages(impl, sql, p, 3, fn, ctx, err);
}

static int pg_entry_lookup(void *impl, vigil_signal_type t, const uint8_t *value, vigil_bank_entry_fn fn, void *ctx,
                           vigil_error *err) {
  vigil__val p[] = {vigil__vint(0), vigil__vint((int64_t)t), vigil__vblob(value, vigil_signal_value_len(t))};
  return run_pages(impl, PAGE_SQL(" AND e.signal_type = $2 AND e.value = $3 AND e.removed = 0 AND b.enabled = 1"), p, 3,
                   fn, ctx, err);
}

static int pg_removals_since(void *impl, uint64_t after_seq, vigil__removal_fn fn, void *ctx, vigil_error *err) {
  pgb *g = impl;
  vigil__val p[] = {vigil__vint((int64_t)after_seq)};
  for (;;) {
    vigil__rows *r = NULL;
    int rc = vigil__sql_run(g->db, "SELECT seq, entry_id FROM bank_removals WHERE seq > $1 ORDER BY seq" PAGE_LIMIT, p, 1,
                            &r, NULL, err);
    if (rc) return vigil__prefixerr(err, "read removals");
    size_t n = vigil__rows_count(r);
    for (size_t i = 0; rc == VIGIL_OK && i < n; i++) {
      p[0] = vigil__vint(vigil__rows_int(r, i, 0));
      rc = fn(ctx, (uint64_t)p[0].i, (uint64_t)vigil__rows_int(r, i, 1));
    }
    vigil__rows_free(r);
    if (rc || n < PAGE) return rc;
  }
}

static int pg_audit(void *impl, int64_t now, const char *action, const char *bank, const char *detail,
                    vigil_error *err) {
  const vigil__val p[] = {vigil__vint(now), vigil__vtext(action), vigil__vtext(bank ? bank : ""),
                          vigil__vtext(detail ? detail : "")};
  int rc = write1(impl, "INSERT INTO bank_audit(time, action, bank, detail) VALUES($1, $2, $3, $4)", p, 4, NULL, NULL,
                  err);
  return rc ? vigil__prefixerr(err, "audit") : VIGIL_OK;
}

static const vigil__bank_backend pg_backend = {
    "postgresql",       pg_close,        pg_begin,           pg_commit,       pg_rollback,       pg_bank_create,
    pg_bank_drop,       pg_bank_set_enabled, pg_bank_get,    pg_bank_list,    pg_entry_put,      pg_entry_remove,
    pg_entry_remove_id, pg_entry_get,    pg_entry_scan,      pg_entry_lookup, pg_removals_since, pg_audit,
    pg_entry_put_many,
};

int vigil__bank_pg_open(const vigil__bank_backend **be, void **impl, const char *location, vigil_error *err) {
  pgb *g = calloc(1, sizeof *g);
  if (!g) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__sql_open(&g->db, location, err);
  if (!rc) rc = vigil__sql_script(g->db, schema, err);
  if (rc) {
    pg_close(g);
    return rc;
  }
  *be = &pg_backend;
  *impl = g;
  return VIGIL_OK;
}
