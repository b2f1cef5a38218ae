/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db.c - opening SQLite with vigil's durability settings (see db.h).
 */
#include "db/db.h"
#include "common/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int vigil__db_error(sqlite3 *db, const char *what, vigil_error *err) {
  return vigil__seterr(err, VIGIL_ESTORE, "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
}

int vigil__db_exec(sqlite3 *db, const char *sql, vigil_error *err) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    int rc = vigil__seterr(err, VIGIL_ESTORE, "database: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return rc;
  }
  return VIGIL_OK;
}

int vigil__db_open(sqlite3 **out, const char *path, vigil_error *err) {
  *out = NULL;
  sqlite3 *db = NULL;
  struct stat sb;
  int existed = stat(path, &sb) == 0;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
      SQLITE_OK) {
    int rc = vigil__seterr(err, VIGIL_ESTORE, "cannot open database %s: %s", path,
                           db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return rc;
  }
  /* A new database holds API key digests, cases and the audit: private
   * to the service's user.  SQLite creates it 0644 (less the umask) and
   * gives its WAL and shared-memory files the database's mode, so fixing
   * the mode before the first write covers all three. */
  if (!existed && path[0] && strcmp(path, ":memory:") != 0 && chmod(path, 0600) != 0 && errno != ENOENT) {
    int rc = vigil__seterr(err, VIGIL_ESTORE, "database %s: cannot make it private (chmod 600): %s", path,
                           strerror(errno));
    sqlite3_close(db);
    return rc;
  }
  sqlite3_busy_timeout(db, 5000);
  int rc = vigil__db_exec(db,
                          "PRAGMA journal_mode=WAL;"
                          "PRAGMA synchronous=FULL;"
                          "PRAGMA foreign_keys=ON;",
                          err);
  if (rc) {
    vigil__prefixerr(err, rc, path);
    sqlite3_close(db);
    return rc;
  }
  *out = db;
  return VIGIL_OK;
}

void vigil__db_close(sqlite3 *db) { sqlite3_close(db); }
