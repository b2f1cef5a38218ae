/*
 * sql.c - the engine-neutral half of sql.h: choosing the engine from a
 * location, transactions, and result rows.
 *
 * Rows live in one growing cell array plus an arena of 64 KiB blocks for
 * their text and blobs, so a result of thousands of rows costs a handful
 * of allocations, and freeing it is a walk over the blocks.
 */
#include "store/sql_engine.h"
#include "common/internal.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536

typedef struct block {
  struct block *next;
  size_t used, cap;
  char data[];
} block;

struct vigil__rows {
  int ncols;
  size_t n, cap; /* rows */
  char **names;
  vigil__val *cells; /* n * ncols */
  block *arena;
};

int vigil__sql_is_pg(const char *location) {
  return location && (!strncmp(location, "postgresql://", 13) || !strncmp(location, "postgres://", 11));
}

int vigil__sql_open(vigil__sql **out, const char *location, vigil_error *err) {
  *out = NULL;
  if (!location || !*location) return vigil__seterr(err, VIGIL_EINVAL, "no database location given");
  vigil__sql *db = calloc(1, sizeof *db);
  if (!db) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc;
  if (vigil__sql_is_pg(location)) {
    rc = vigil__sql_pg_open(db, location, err);
  } else {
    const char *path = !strncmp(location, "sqlite:", 7) ? location + 7 : location;
    rc = *path ? vigil__sql_sqlite_open(db, path, err) : vigil__seterr(err, VIGIL_EINVAL, "empty SQLite path");
  }
  if (rc) {
    free(db);
    return rc;
  }
  *out = db;
  return VIGIL_OK;
}

void vigil__sql_close(vigil__sql *db) {
  if (!db) return;
  db->ops->close(db->impl);
  free(db);
}

vigil__sql_kind vigil__sql_engine(const vigil__sql *db) { return db->engine; }

int vigil__sql_script(vigil__sql *db, const char *sql, vigil_error *err) { return db->ops->script(db->impl, sql, err); }

int vigil__sql_run(vigil__sql *db, const char *sql, const vigil__val *params, int nparams, vigil__rows **rows,
                   int64_t *changes, vigil_error *err) {
  if (rows) *rows = NULL;
  if (changes) *changes = 0;
  return db->ops->run(db->impl, sql, params, nparams, rows, changes, err);
}

int vigil__sql_begin(vigil__sql *db, vigil_error *err) {
  if (db->tx) return vigil__seterr(err, VIGIL_EINTERNAL, "transaction already open");
  int rc = db->ops->script(db->impl, db->ops->begin_sql, err);
  if (!rc) db->tx = 1;
  return rc;
}

int vigil__sql_commit(vigil__sql *db, vigil_error *err) {
  if (!db->tx) return vigil__seterr(err, VIGIL_EINTERNAL, "no transaction to commit");
  int rc = db->ops->script(db->impl, "COMMIT", err);
  if (rc) vigil__sql_rollback(db); /* PostgreSQL ends the transaction anyway; SQLite may keep it open */
  db->tx = 0;
  return rc;
}

void vigil__sql_rollback(vigil__sql *db) {
  if (!db->tx) return;
  db->ops->script(db->impl, "ROLLBACK", NULL);
  db->tx = 0;
}

int vigil__sql_in_tx(const vigil__sql *db) { return db->tx; }

uint64_t vigil__sql_key(const char *sql, const vigil__val *p, int np) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a over the text, then the parameter kinds */
  for (const char *s = sql; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
  for (int i = 0; i < np; i++) h = (h ^ (uint8_t)(p[i].k + 1)) * 1099511628211ull;
  return h;
}

/* ---- rows ---------------------------------------------------------------- */

int vigil__rows_new(vigil__rows **out, int ncols) {
  *out = NULL;
  vigil__rows *r = calloc(1, sizeof *r);
  if (!r) return VIGIL_ENOMEM;
  r->ncols = ncols;
  if (ncols > 0 && !(r->names = calloc((size_t)ncols, sizeof *r->names))) {
    free(r);
    return VIGIL_ENOMEM;
  }
  *out = r;
  return VIGIL_OK;
}

static char *arena_alloc(vigil__rows *r, size_t n) {
  block *b = r->arena;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    block *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->next = r->arena;
    nb->used = 0;
    nb->cap = cap;
    r->arena = b = nb;
  }
  char *p = b->data + b->used;
  b->used += n;
  return p;
}

int vigil__rows_set_name(vigil__rows *r, int col, const char *name) {
  size_t n = strlen(name);
  char *p = arena_alloc(r, n + 1);
  if (!p) return VIGIL_ENOMEM;
  memcpy(p, name, n + 1);
  r->names[col] = p;
  return VIGIL_OK;
}

vigil__val *vigil__rows_add(vigil__rows *r) {
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 16;
    if (r->ncols && nc > (size_t)-1 / sizeof(vigil__val) / (size_t)r->ncols) return NULL;
    vigil__val *cells = realloc(r->cells, nc * (size_t)(r->ncols ? r->ncols : 1) * sizeof *cells);
    if (!cells) return NULL;
    r->cells = cells;
    r->cap = nc;
  }
  vigil__val *row = r->cells + r->n * (size_t)r->ncols;
  memset(row, 0, (size_t)r->ncols * sizeof *row);
  r->n++;
  return row;
}

int vigil__rows_put(vigil__rows *r, vigil__val *cell, vigil__vkind k, int64_t i, const void *p, size_t len) {
  cell->k = k;
  cell->i = i;
  cell->p = NULL;
  cell->len = 0;
  if (k == VIGIL__V_TEXT || k == VIGIL__V_BLOB) {
    char *c = arena_alloc(r, len + 1);
    if (!c) return VIGIL_ENOMEM;
    if (len && p) memcpy(c, p, len);
    else if (len) memset(c, 0, len); /* room for the engine to fill (decoded bytea) */
    c[len] = 0;
    cell->p = c;
    cell->len = len;
  }
  return VIGIL_OK;
}

size_t vigil__rows_count(const vigil__rows *r) { return r ? r->n : 0; }
int vigil__rows_cols(const vigil__rows *r) { return r ? r->ncols : 0; }
const char *vigil__rows_name(const vigil__rows *r, int col) { return r->names[col] ? r->names[col] : ""; }

const vigil__val *vigil__rows_cell(const vigil__rows *r, size_t row, int col) {
  return &r->cells[row * (size_t)r->ncols + (size_t)col];
}

int64_t vigil__rows_int(const vigil__rows *r, size_t row, int col) {
  const vigil__val *v = vigil__rows_cell(r, row, col);
  if (v->k == VIGIL__V_INT) return v->i;
  if (v->k == VIGIL__V_TEXT) return strtoll(v->p, NULL, 10);
  return 0;
}

const char *vigil__rows_text(const vigil__rows *r, size_t row, int col) {
  const vigil__val *v = vigil__rows_cell(r, row, col);
  return v->k == VIGIL__V_TEXT || v->k == VIGIL__V_BLOB ? v->p : "";
}

void vigil__rows_free(vigil__rows *r) {
  if (!r) return;
  for (block *b = r->arena, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(r->cells);
  free(r->names);
  free(r);
}
