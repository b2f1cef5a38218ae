/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql.h - one small query interface over SQLite and PostgreSQL.
 *
 * The service's own tables (keys, audit, cases) and the PostgreSQL bank
 * backend talk to their database through this file, so the same C code
 * serves a single node on an embedded SQLite file and several nodes that
 * share one PostgreSQL server.  It is deliberately narrow:
 *
 *   - SQL text uses $1..$n placeholders, which both engines accept (SQLite
 *     reads "$1" as a named parameter; we bind by that name, so a
 *     placeholder may appear more than once and in any order).
 *   - Parameters and results are vigil__val: NULL, 64-bit integer, text or
 *     blob.  Integers and text go to PostgreSQL as text with a declared
 *     type (int8, text), blobs as binary bytea.
 *   - A statement's rows come back whole, copied into a vigil__rows the
 *     caller frees; callers that read many rows page with "id > $n ORDER
 *     BY id LIMIT k".
 *   - Statements are prepared once per connection and cached by their text
 *     and parameter types.
 *   - A unique-constraint violation is VIGIL_EEXIST; any other engine error
 *     is VIGIL_ESTORE with the engine's message.
 *
 * Where the two dialects differ (column types, triggers, sequences) the
 * caller keeps one schema string per engine and asks vigil__sql_engine().
 *
 * A vigil__sql is one connection that threads may share: each statement
 * runs alone, and a transaction belongs to the thread that began it until
 * it commits or rolls back (other threads' statements wait).  Result rows
 * are copies, read after the connection is released.  A libpq connection
 * must never see two threads at once (its protocol state is one stream),
 * which is why this lives here and not in each caller.  PostgreSQL
 * connections that broke (server restart) are
 * re-established before the next statement outside a transaction; a
 * statement that fails mid-flight is reported, never silently retried,
 * since it may have committed.
 *
 * Locations: "postgresql://..." or "postgres://..." (a libpq URI) selects
 * PostgreSQL; "sqlite:PATH" or a plain PATH selects SQLite, opened through
 * db/db.h with vigil's durability settings.
 */
#ifndef VIGIL_SQL_H
#define VIGIL_SQL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/common.h"

/* PostgreSQL advisory lock keys (pg_advisory_xact_lock), one per purpose,
 * shared by every node on the database: schema creation, bank writes (so
 * entry ids and removal sequence numbers become visible in the order they
 * were assigned, which the matchers' "id > last seen" relies on), and the
 * service's audit log (the same for "after" paging). */
#define VIGIL__PG_LOCK_SCHEMA "86160301"
#define VIGIL__PG_LOCK_BANKS "86160302"
#define VIGIL__PG_LOCK_AUDIT "86160303"

typedef enum vigil__sql_kind { VIGIL__SQL_SQLITE = 1, VIGIL__SQL_PG = 2 } vigil__sql_kind;

typedef enum vigil__vkind { VIGIL__V_NULL = 0, VIGIL__V_INT, VIGIL__V_TEXT, VIGIL__V_BLOB } vigil__vkind;

/* A parameter or a result cell.  In results, text is NUL-terminated and
 * p/len stay valid until the rows are freed. */
typedef struct vigil__val {
  vigil__vkind k;
  int64_t i;
  const char *p;
  size_t len;
} vigil__val;

static inline vigil__val vigil__vint(int64_t i) {
  vigil__val v = {VIGIL__V_INT, i, NULL, 0};
  return v;
}
/* NULL s gives SQL NULL. */
static inline vigil__val vigil__vtext(const char *s) {
  vigil__val v = {s ? VIGIL__V_TEXT : VIGIL__V_NULL, 0, s, s ? strlen(s) : 0};
  return v;
}
static inline vigil__val vigil__vblob(const void *p, size_t n) {
  vigil__val v = {VIGIL__V_BLOB, 0, (const char *)p, n};
  return v;
}

typedef struct vigil__rows vigil__rows;
typedef struct vigil__sql vigil__sql;

/* True when location names a PostgreSQL database. */
int vigil__sql_is_pg(const char *location);

int vigil__sql_open(vigil__sql **out, const char *location, vigil_error *err);
void vigil__sql_close(vigil__sql *db);
vigil__sql_kind vigil__sql_engine(const vigil__sql *db);

/* Runs a script of one or more statements without parameters or rows. */
int vigil__sql_script(vigil__sql *db, const char *sql, vigil_error *err);

/* Runs one statement.  rows: NULL to discard any rows.  changes: NULL, or
 * the number of rows an INSERT/UPDATE/DELETE changed. */
int vigil__sql_run(vigil__sql *db, const char *sql, const vigil__val *params, int nparams, vigil__rows **rows,
                   int64_t *changes, vigil_error *err);

/* Transactions: BEGIN IMMEDIATE on SQLite (the write lock at once), BEGIN
 * on PostgreSQL.  rollback never fails loudly and is a no-op outside one. */
int vigil__sql_begin(vigil__sql *db, vigil_error *err);
int vigil__sql_commit(vigil__sql *db, vigil_error *err);
void vigil__sql_rollback(vigil__sql *db);
/* True when the calling thread has a transaction open on db. */
int vigil__sql_in_tx(const vigil__sql *db);

/* Results. */
size_t vigil__rows_count(const vigil__rows *r);
int vigil__rows_cols(const vigil__rows *r);
const char *vigil__rows_name(const vigil__rows *r, int col);
const vigil__val *vigil__rows_cell(const vigil__rows *r, size_t row, int col);
void vigil__rows_free(vigil__rows *r);

/* Convenience readers of a cell: integer (text is parsed, NULL is 0) and
 * text (NULL gives ""). */
int64_t vigil__rows_int(const vigil__rows *r, size_t row, int col);
const char *vigil__rows_text(const vigil__rows *r, size_t row, int col);

#endif
