/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql_pg.c - the PostgreSQL engine of sql.h, over libpq.
 *
 * Statements are prepared once per connection (PQprepare, names
 * "vigil_<n>") with declared parameter types: int8 for integers, text for
 * text and NULL (vigil__vtext(NULL) is the only source of NULLs), bytea
 * for blobs.  Blobs travel in binary, everything else as text; results
 * come back as text and are converted by column type: integers and
 * booleans to integers, bytea (hex output) to blobs, the rest to text.
 *
 * Durability is the server's: a COMMIT that returned succeeded under its
 * synchronous_commit (on by default), i.e. is on disk.  The session runs
 * in UTC with bytea_output=hex and client_min_messages=warning, so that
 * NOTICEs (CREATE ... IF NOT EXISTS) do not reach stderr.
 *
 * Broken connections: before a statement outside a transaction, a
 * connection that is no longer CONNECTION_OK is reset (PQreset) and the
 * statement cache forgotten; a failure during a statement is returned,
 * never retried, because the statement may have taken effect.
 */
#include "db/sql_engine.h"
#include "common/internal.h"
#include "common/hex.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 64
#define MAX_PARAMS 4096 /* a multi-row INSERT of a bank import chunk needs about 1,000 */

/* Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions. */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25, OID_OID = 26 };

typedef struct slot {
  uint64_t key;
  char *sql;
  char name[24];
} slot;

typedef struct pge {
  PGconn *conn;
  int tx; /* inside a transaction, as last seen while the connection was up */
  slot cache[CACHE_SLOTS];
  unsigned serial, next_evict;
} pge;

static void forget_statements(pge *g) {
  for (int i = 0; i < CACHE_SLOTS; i++) {
    free(g->cache[i].sql);
    memset(&g->cache[i], 0, sizeof g->cache[i]);
  }
}

static void pge_close(void *impl) {
  pge *g = impl;
  forget_statements(g);
  PQfinish(g->conn);
  free(g);
}

/* The server's message, one line, without the trailing newline. */
static int pg_error(pge *g, PGresult *res, vigil_error *err) {
  const char *msg = res ? PQresultErrorMessage(res) : "";
  if (!msg || !*msg) msg = PQerrorMessage(g->conn);
  size_t n = strcspn(msg, "\n");
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  int code = state && !strcmp(state, "23505") ? VIGIL_EEXIST : VIGIL_ESTORE; /* unique_violation */
  return vigil__seterr(err, code, "postgresql: %.*s", (int)n, msg);
}

/* Notes whether the connection is inside a transaction.  A broken
 * connection reports PQTRANS_UNKNOWN, so the last state seen while it was
 * up is what counts. */
static void note_tx(pge *g) {
  if (PQstatus(g->conn) != CONNECTION_OK) return;
  PGTransactionStatusType t = PQtransactionStatus(g->conn);
  g->tx = t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* A broken connection is re-established, unless a transaction was open on
 * it: its statements are lost, and saying so is the caller's business
 * until it rolls back (rollback may reconnect). */
static int ensure_connected(pge *g, int rollback, vigil_error *err) {
  if (PQstatus(g->conn) == CONNECTION_OK) return VIGIL_OK;
  if (g->tx && !rollback) return vigil__seterr(err, VIGIL_ESTORE, "postgresql: connection lost inside a transaction");
  forget_statements(g);
  PQreset(g->conn);
  g->tx = 0;
  if (PQstatus(g->conn) != CONNECTION_OK) return pg_error(g, NULL, err);
  return VIGIL_OK;
}

static int pge_script(void *impl, const char *sql, vigil_error *err) {
  pge *g = impl;
  int rc = ensure_connected(g, !strcmp(sql, "ROLLBACK"), err);
  if (rc) return rc;
  PGresult *res = PQexec(g->conn, sql);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? VIGIL_OK : pg_error(g, res, err);
  PQclear(res);
  note_tx(g);
  return rc;
}

static Oid type_of(const vigil__val *v) {
  switch (v->k) {
  case VIGIL__V_INT: return OID_INT8;
  case VIGIL__V_TEXT: return OID_TEXT;
  case VIGIL__V_BLOB: return OID_BYTEA;
  default: return OID_TEXT; /* NULLs come from vigil__vtext(NULL) */
  }
}

/* The name of the prepared statement for sql, preparing it on first use. */
static int statement(pge *g, const char *sql, const vigil__val *p, int np, const char **name, vigil_error *err) {
  uint64_t key = vigil__sql_key(sql, p, np);
  for (int i = 0; i < CACHE_SLOTS; i++)
    if (g->cache[i].sql && g->cache[i].key == key && !strcmp(g->cache[i].sql, sql)) {
      *name = g->cache[i].name;
      return VIGIL_OK;
    }
  slot *sl = NULL;
  for (int i = 0; i < CACHE_SLOTS && !sl; i++)
    if (!g->cache[i].sql) sl = &g->cache[i];
  if (!sl) { /* full: drop one round-robin, on the server too */
    sl = &g->cache[g->next_evict++ % CACHE_SLOTS];
    char dealloc[48];
    snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", sl->name);
    PQclear(PQexec(g->conn, dealloc));
    free(sl->sql);
    memset(sl, 0, sizeof *sl);
  }
  Oid *types = vigil__mallocarray((size_t)(np ? np : 1), sizeof *types);
  if (!types) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  for (int i = 0; i < np; i++) types[i] = type_of(&p[i]);
  char nm[24];
  snprintf(nm, sizeof nm, "vigil_%u", ++g->serial);
  PGresult *res = PQprepare(g->conn, nm, sql, np, types);
  free(types);
  int rc = res && PQresultStatus(res) == PGRES_COMMAND_OK ? VIGIL_OK : pg_error(g, res, err);
  PQclear(res);
  if (rc) return rc;
  if (!(sl->sql = strdup(sql))) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  sl->key = key;
  memcpy(sl->name, nm, sizeof nm);
  *name = sl->name;
  return VIGIL_OK;
}

/* Converts one text-format result value by its column type. */
static int put_cell(vigil__rows *r, vigil__val *cell, Oid type, const char *v, size_t len) {
  switch (type) {
  case OID_INT2:
  case OID_INT4:
  case OID_INT8:
  case OID_OID: return vigil__rows_put(r, cell, VIGIL__V_INT, strtoll(v, NULL, 10), NULL, 0);
  case OID_BOOL: return vigil__rows_put(r, cell, VIGIL__V_INT, v[0] == 't', NULL, 0);
  case OID_BYTEA: {
    /* bytea_output = hex (the default since 9.0, set again at connect): "\x" + 2 digits a byte */
    if (len < 2 || v[0] != '\\' || v[1] != 'x' || len % 2) return VIGIL_ECORRUPT;
    size_t n = (len - 2) / 2;
    int rc = vigil__rows_put(r, cell, VIGIL__V_BLOB, 0, NULL, n);
    if (rc) return rc;
    /* a server that sends something else is answered as corrupt, not decoded into wrong bytes */
    return vigil__hex_decode(v + 2, n, (uint8_t *)cell->p, NULL) ? VIGIL_ECORRUPT : VIGIL_OK;
  }
  default: return vigil__rows_put(r, cell, VIGIL__V_TEXT, 0, v, len);
  }
}

static int read_rows(pge *g, PGresult *res, vigil__rows **out, vigil_error *err) {
  int nc = PQnfields(res), nr = PQntuples(res);
  vigil__rows *r;
  if (vigil__rows_new(&r, nc)) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = VIGIL_OK;
  for (int c = 0; rc == VIGIL_OK && c < nc; c++) rc = vigil__rows_set_name(r, c, PQfname(res, c));
  for (int i = 0; rc == VIGIL_OK && i < nr; i++) {
    vigil__val *row = vigil__rows_add(r);
    if (!row) rc = VIGIL_ENOMEM;
    for (int c = 0; rc == VIGIL_OK && c < nc; c++)
      if (!PQgetisnull(res, i, c))
        rc = put_cell(r, &row[c], PQftype(res, c), PQgetvalue(res, i, c), (size_t)PQgetlength(res, i, c));
  }
  if (rc) {
    vigil__rows_free(r);
    return rc == VIGIL_ECORRUPT ? vigil__seterr(err, VIGIL_ECORRUPT, "postgresql: unexpected bytea encoding")
                                : vigil__seterr(err, VIGIL_ENOMEM, "out of memory reading rows");
  }
  (void)g;
  *out = r;
  return VIGIL_OK;
}

static int pge_run(void *impl, const char *sql, const vigil__val *p, int np, vigil__rows **rows, int64_t *changes,
                   vigil_error *err) {
  pge *g = impl;
  if (np > MAX_PARAMS) return vigil__seterr(err, VIGIL_EINTERNAL, "too many SQL parameters");
  int rc = ensure_connected(g, 0, err);
  const char *name = NULL;
  if (!rc) rc = statement(g, sql, p, np, &name, err);
  if (rc) return rc;
  /* parameter arrays: on the stack for the usual handful, else the heap */
  enum { FEW = 16 };
  const char *vals_s[FEW];
  int lens_s[FEW], fmts_s[FEW];
  char ints_s[FEW][24];
  const char **vals = vals_s;
  int *lens = lens_s, *fmts = fmts_s;
  char(*ints)[24] = ints_s;
  void *heap = NULL;
  if (np > FEW) {
    size_t each = sizeof *vals + 2 * sizeof *lens + sizeof *ints;
    if (!(heap = vigil__mallocarray((size_t)np, each))) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    ints = heap; /* 24-byte strings first: 24 * np keeps what follows 8-byte aligned */
    vals = (const char **)(void *)(ints + np);
    lens = (int *)(void *)(vals + np);
    fmts = lens + np;
  }
  for (int i = 0; i < np; i++) {
    lens[i] = 0;
    fmts[i] = 0;
    switch (p[i].k) {
    case VIGIL__V_INT:
      snprintf(ints[i], sizeof ints[i], "%lld", (long long)p[i].i);
      vals[i] = ints[i];
      break;
    case VIGIL__V_TEXT: vals[i] = p[i].p; break;
    case VIGIL__V_BLOB:
      vals[i] = p[i].p ? p[i].p : "";
      lens[i] = (int)p[i].len;
      fmts[i] = 1;
      break;
    default: vals[i] = NULL;
    }
  }
  PGresult *res = PQexecPrepared(g->conn, name, np, vals, lens, fmts, 0);
  free(heap);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) rc = pg_error(g, res, err);
  if (!rc && changes) {
    const char *t = PQcmdTuples(res);
    *changes = t && *t ? strtoll(t, NULL, 10) : 0;
  }
  if (!rc && rows) rc = read_rows(g, res, rows, err);
  PQclear(res);
  note_tx(g);
  return rc;
}

static const vigil__sql_ops pg_ops = {pge_close, pge_script, pge_run, "BEGIN"};

int vigil__sql_pg_open(vigil__sql *db, const char *conninfo, vigil_error *err) {
  pge *g = calloc(1, sizeof *g);
  if (!g) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  /* Session settings travel as connection options so that PQreset keeps
   * them; the location may set its own connect_timeout (it comes later). */
  const char *const keys[] = {"connect_timeout", "dbname", "options", "fallback_application_name", NULL};
  const char *const vals[] = {"10", conninfo, "-c TimeZone=UTC -c client_min_messages=warning -c bytea_output=hex",
                              "vigil", NULL};
  g->conn = PQconnectdbParams(keys, vals, 1);
  if (!g->conn || PQstatus(g->conn) != CONNECTION_OK) {
    const char *m = g->conn ? PQerrorMessage(g->conn) : "out of memory";
    int rc = vigil__seterr(err, VIGIL_ESTORE, "cannot connect to PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
    PQfinish(g->conn);
    free(g);
    return rc;
  }
  db->ops = &pg_ops;
  db->engine = VIGIL__SQL_PG;
  db->impl = g;
  return VIGIL_OK;
}
