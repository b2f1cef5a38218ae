/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql_sqlite.c - the SQLite engine of sql.h.
 *
 * The connection comes from db/db.h (WAL, synchronous=FULL).  Prepared
 * statements are kept in a small cache keyed by their text (a hash, then a
 * full compare), so the few statements a module runs are each compiled
 * once per connection.  SQL text names its parameters "$1".."$n" (a
 * number may appear more than once); when a statement is prepared, each of
 * SQLite's parameter slots is mapped to its number once, so binding is an
 * array walk, not a name lookup per parameter per run.
 */
#include "db/sql_engine.h"
#include "db/db.h"
#include "common/internal.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 48

typedef struct slot {
  uint64_t key;
  char *sql;
  sqlite3_stmt *st;
  int *argno; /* argno[i]: the 0-based "$n" of SQLite's parameter i + 1, or -1 */
  int nargs;  /* sqlite3_bind_parameter_count */
} slot;

typedef struct sqe {
  sqlite3 *db;
  slot cache[CACHE_SLOTS];
  unsigned next_evict;
} sqe;

static void sqe_close(void *impl) {
  sqe *s = impl;
  for (int i = 0; i < CACHE_SLOTS; i++) {
    sqlite3_finalize(s->cache[i].st);
    free(s->cache[i].sql);
    free(s->cache[i].argno);
  }
  vigil__db_close(s->db);
  free(s);
}

static int sqe_script(void *impl, const char *sql, vigil_error *err) { return vigil__db_exec(((sqe *)impl)->db, sql, err); }

static int error_of(sqe *s, int rc, vigil_error *err) {
  int ext = sqlite3_extended_errcode(s->db);
  if (rc == SQLITE_CONSTRAINT && (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY))
    return vigil__seterr(err, VIGIL_EEXIST, "database: %s", sqlite3_errmsg(s->db));
  return vigil__db_error(s->db, "database", err);
}

/* argno for each of st's parameters: "$n" gives n - 1; any other name
 * (the SQL text of this project uses none) gives -1, left NULL. */
static int map_args(sqlite3_stmt *st, int **argno, int *nargs) {
  int n = sqlite3_bind_parameter_count(st);
  *argno = NULL;
  *nargs = n;
  if (n == 0) return VIGIL_OK;
  int *a = vigil__mallocarray((size_t)n, sizeof *a);
  if (!a) return VIGIL_ENOMEM;
  for (int i = 0; i < n; i++) {
    const char *name = sqlite3_bind_parameter_name(st, i + 1);
    char *end = NULL;
    long k = name && name[0] == '$' ? strtol(name + 1, &end, 10) : 0;
    a[i] = k >= 1 && k <= 100000 && end && !*end ? (int)k - 1 : -1;
  }
  *argno = a;
  return VIGIL_OK;
}

/* The cached statement for sql, prepared on first use. */
static int statement(sqe *s, const char *sql, uint64_t key, slot **out, vigil_error *err) {
  for (int i = 0; i < CACHE_SLOTS; i++)
    if (s->cache[i].st && s->cache[i].key == key && !strcmp(s->cache[i].sql, sql)) {
      *out = &s->cache[i];
      return VIGIL_OK;
    }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
    return vigil__db_error(s->db, "database", err);
  char *copy = strdup(sql);
  int *argno = NULL, nargs = 0;
  if (!copy || map_args(st, &argno, &nargs)) {
    free(copy);
    sqlite3_finalize(st);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  slot *sl = NULL;
  for (int i = 0; i < CACHE_SLOTS && !sl; i++)
    if (!s->cache[i].st) sl = &s->cache[i];
  if (!sl) { /* full: evict round-robin; modules use far fewer statements than slots */
    sl = &s->cache[s->next_evict++ % CACHE_SLOTS];
    sqlite3_finalize(sl->st);
    free(sl->sql);
    free(sl->argno);
  }
  sl->key = key;
  sl->sql = copy;
  sl->st = st;
  sl->argno = argno;
  sl->nargs = nargs;
  *out = sl;
  return VIGIL_OK;
}

/* Binds p[argno] to every parameter slot, NULL where "$n" is beyond np:
 * every slot is bound on every run, so no run sees an earlier run's
 * values and the statement needs no sqlite3_clear_bindings (which walks
 * all of a bulk insert's thousand slots). */
static int bind(sqe *s, const slot *sl, const vigil__val *p, int np, vigil_error *err) {
  for (int i = 0; i < sl->nargs; i++) {
    int a = sl->argno[i];
    int idx = i + 1, rc;
    if (a < 0 || a >= np) {
      if (sqlite3_bind_null(sl->st, idx) != SQLITE_OK) return vigil__db_error(s->db, "bind", err);
      continue;
    }
    switch (p[a].k) {
    case VIGIL__V_INT: rc = sqlite3_bind_int64(sl->st, idx, p[a].i); break;
    case VIGIL__V_TEXT: rc = sqlite3_bind_text(sl->st, idx, p[a].p, (int)p[a].len, SQLITE_STATIC); break;
    case VIGIL__V_BLOB: rc = sqlite3_bind_blob(sl->st, idx, p[a].p, (int)p[a].len, SQLITE_STATIC); break;
    default: rc = sqlite3_bind_null(sl->st, idx);
    }
    if (rc != SQLITE_OK) return vigil__db_error(s->db, "bind", err);
  }
  return VIGIL_OK;
}

static int read_row(vigil__rows *r, sqlite3_stmt *st) {
  vigil__val *row = vigil__rows_add(r);
  if (!row) return VIGIL_ENOMEM;
  for (int c = 0; c < vigil__rows_cols(r); c++) {
    int rc = VIGIL_OK;
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER: rc = vigil__rows_put(r, &row[c], VIGIL__V_INT, sqlite3_column_int64(st, c), NULL, 0); break;
    case SQLITE_NULL: break;
    case SQLITE_BLOB: {
      const void *b = sqlite3_column_blob(st, c);
      rc = vigil__rows_put(r, &row[c], VIGIL__V_BLOB, 0, b, (size_t)sqlite3_column_bytes(st, c));
      break;
    }
    default: { /* text, and floats as their text (no table of ours has them) */
      const unsigned char *t = sqlite3_column_text(st, c);
      rc = vigil__rows_put(r, &row[c], VIGIL__V_TEXT, 0, t, (size_t)sqlite3_column_bytes(st, c));
    }
    }
    if (rc) return rc;
  }
  return VIGIL_OK;
}

static int sqe_run(void *impl, const char *sql, const vigil__val *p, int np, vigil__rows **rows, int64_t *changes,
                   vigil_error *err) {
  sqe *s = impl;
  slot *sl = NULL;
  int rc = statement(s, sql, vigil__sql_key(sql, p, np), &sl, err);
  if (rc) return rc;
  sqlite3_stmt *st = sl->st;
  vigil__rows *r = NULL;
  rc = bind(s, sl, p, np, err);
  if (rc == VIGIL_OK && rows) {
    int ncols = sqlite3_column_count(st);
    if (vigil__rows_new(&r, ncols)) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    for (int c = 0; rc == VIGIL_OK && c < ncols; c++)
      if (vigil__rows_set_name(r, c, sqlite3_column_name(st, c))) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  int step = SQLITE_DONE;
  while (rc == VIGIL_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
    if (r && read_row(r, st)) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory reading rows");
  if (rc == VIGIL_OK && step != SQLITE_DONE) rc = error_of(s, step, err);
  if (rc == VIGIL_OK && changes) *changes = sqlite3_changes(s->db);
  sqlite3_reset(st);
  if (rc) {
    vigil__rows_free(r);
    return rc;
  }
  if (rows) *rows = r;
  return VIGIL_OK;
}

static const vigil__sql_ops sqlite_ops = {sqe_close, sqe_script, sqe_run, "BEGIN IMMEDIATE"};

int vigil__sql_sqlite_open(vigil__sql *db, const char *path, vigil_error *err) {
  sqe *s = calloc(1, sizeof *s);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__db_open(&s->db, path, err);
  if (rc) {
    free(s);
    return rc;
  }
  db->ops = &sqlite_ops;
  db->engine = VIGIL__SQL_SQLITE;
  db->impl = s;
  return VIGIL_OK;
}
