/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql_rows.c - result rows of sql.h: built by the engines (sql_engine.h),
 * read by callers.
 *
 * Rows live in one growing cell array plus an arena of 64 KiB blocks for
 * their text and blobs, so a result of thousands of rows costs a handful
 * of allocations, and freeing it is a walk over the blocks.
 */
#include "db/sql_engine.h"
#include "common/grow.h"

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
    size_t row = (size_t)(r->ncols ? r->ncols : 1) * sizeof(vigil__val);
    size_t nc = vigil__grow_cap(r->cap, r->n + 1, row, 16);
    if (!nc) return NULL;
    vigil__val *cells = vigil__reallocarray(r->cells, nc, row);
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
