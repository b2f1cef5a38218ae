/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql_engine.h - what sql.c shares with its two engines (sql_sqlite.c,
 * sql_pg.c): the connection's function table and the builder of result
 * rows.  Callers of sql.h never see it.
 *
 * Rows are built by the engine as it reads a result: vigil__rows_new()
 * with the column count, vigil__rows_add() for each row, vigil__rows_put()
 * for each cell, which copies text and blobs into the rows' arena (text
 * gets a NUL after it).  Freeing the rows frees the arena.
 */
#ifndef VIGIL_SQL_ENGINE_H
#define VIGIL_SQL_ENGINE_H

#include <pthread.h>

#include "db/sql.h"

typedef struct vigil__sql_ops {
  void (*close)(void *impl);
  int (*script)(void *impl, const char *sql, vigil_error *err);
  int (*run)(void *impl, const char *sql, const vigil__val *p, int np, vigil__rows **rows, int64_t *changes,
             vigil_error *err);
  /* begin/commit/rollback as statements: "BEGIN ..." text per engine */
  const char *begin_sql;
} vigil__sql_ops;

/* One connection, shared by threads: mu (recursive) is held for each
 * statement, and from BEGIN to COMMIT/ROLLBACK by the thread that began
 * the transaction, so no other thread's statement lands inside it. */
struct vigil__sql {
  const vigil__sql_ops *ops;
  vigil__sql_kind engine;
  void *impl;
  pthread_mutex_t mu;
  int tx;          /* inside vigil__sql_begin .. commit/rollback */
  pthread_t owner; /* the thread that began it */
};

int vigil__sql_sqlite_open(vigil__sql *db, const char *path, vigil_error *err);
int vigil__sql_pg_open(vigil__sql *db, const char *conninfo, vigil_error *err);

int vigil__rows_new(vigil__rows **out, int ncols);
/* Names column col (copied). */
int vigil__rows_set_name(vigil__rows *r, int col, const char *name);
/* Appends a row of NULL cells; returns them, or NULL when out of memory. */
vigil__val *vigil__rows_add(vigil__rows *r);
/* Sets cell to kind k with integer i or a copy of p[0..len) (p NULL:
 * len zero bytes, for the engine to fill in place). */
int vigil__rows_put(vigil__rows *r, vigil__val *cell, vigil__vkind k, int64_t i, const void *p, size_t len);

/* Statement caches key on the SQL text and the kinds of the parameters
 * (a PostgreSQL statement is prepared with declared parameter types):
 * FNV-1a over the text's length, its first and last 96 bytes and the
 * kinds.  Not the whole text: a bulk insert's statement is several KiB and
 * runs once per 128 rows, and the cache confirms a hit with strcmp anyway,
 * so two texts alike at both ends cost a compare, never a wrong statement. */
static inline uint64_t vigil__sql_key(const char *sql, const vigil__val *p, int np) {
  uint64_t h = 1469598103934665603ull;
  size_t n = strlen(sql), head = n < 96 ? n : 96, tail = n - head < 96 ? n - head : 96;
  h = (h ^ (uint64_t)n) * 1099511628211ull;
  for (size_t i = 0; i < head; i++) h = (h ^ (uint8_t)sql[i]) * 1099511628211ull;
  for (size_t i = n - tail; i < n; i++) h = (h ^ (uint8_t)sql[i]) * 1099511628211ull;
  for (int i = 0; i < np; i++) h = (h ^ (uint8_t)(p[i].k + 1)) * 1099511628211ull;
  return h;
}

#endif
