/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql.c - the engine-neutral half of sql.h: choosing the engine from a
 * location, running statements through its table one thread at a time,
 * transactions.  Result rows are sql_rows.c's.
 */
#include "db/sql_engine.h"
#include "common/internal.h"

#include <stdlib.h>
#include <string.h>

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
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&db->mu, &a);
  pthread_mutexattr_destroy(&a);
  *out = db;
  return VIGIL_OK;
}

void vigil__sql_close(vigil__sql *db) {
  if (!db) return;
  db->ops->close(db->impl);
  pthread_mutex_destroy(&db->mu);
  free(db);
}

vigil__sql_kind vigil__sql_engine(const vigil__sql *db) { return db->engine; }

int vigil__sql_script(vigil__sql *db, const char *sql, vigil_error *err) {
  pthread_mutex_lock(&db->mu);
  int rc = db->ops->script(db->impl, sql, err);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

int vigil__sql_run(vigil__sql *db, const char *sql, const vigil__val *params, int nparams, vigil__rows **rows,
                   int64_t *changes, vigil_error *err) {
  if (rows) *rows = NULL;
  if (changes) *changes = 0;
  pthread_mutex_lock(&db->mu);
  int rc = db->ops->run(db->impl, sql, params, nparams, rows, changes, err);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

int vigil__sql_in_tx(const vigil__sql *db) { return db->tx && pthread_equal(db->owner, pthread_self()); }

/* begin keeps mu locked until commit or rollback (the mutex is recursive,
 * so the owner's statements in between lock it again). */
int vigil__sql_begin(vigil__sql *db, vigil_error *err) {
  pthread_mutex_lock(&db->mu);
  if (db->tx) {
    pthread_mutex_unlock(&db->mu);
    return vigil__seterr(err, VIGIL_EINTERNAL, "transaction already open");
  }
  int rc = db->ops->script(db->impl, db->ops->begin_sql, err);
  if (rc) {
    pthread_mutex_unlock(&db->mu);
    return rc;
  }
  db->tx = 1;
  db->owner = pthread_self();
  return VIGIL_OK;
}

int vigil__sql_commit(vigil__sql *db, vigil_error *err) {
  if (!vigil__sql_in_tx(db)) return vigil__seterr(err, VIGIL_EINTERNAL, "no transaction to commit");
  int rc = db->ops->script(db->impl, "COMMIT", err);
  if (rc) db->ops->script(db->impl, "ROLLBACK", NULL); /* PostgreSQL ends it anyway; SQLite may keep it open */
  db->tx = 0;
  pthread_mutex_unlock(&db->mu);
  return rc;
}

void vigil__sql_rollback(vigil__sql *db) {
  if (!vigil__sql_in_tx(db)) return;
  db->ops->script(db->impl, "ROLLBACK", NULL);
  db->tx = 0;
  pthread_mutex_unlock(&db->mu);
}
