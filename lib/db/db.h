/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db.h - the SQLite connection every stored capability shares.
 *
 * vigil__db_open() sets the durability contract once for everyone: WAL
 * journal, synchronous=FULL (a write acknowledged to a caller survives a
 * crash or kill -9), foreign keys on, a busy timeout for concurrent
 * readers.  Each module creates its own tables idempotently
 * (CREATE TABLE IF NOT EXISTS) through vigil__db_exec().
 */
#ifndef VIGIL_DB_H
#define VIGIL_DB_H

#include <sqlite3.h>

#include "vigil/common.h"

int vigil__db_open(sqlite3 **out, const char *path, vigil_error *err);
void vigil__db_close(sqlite3 *db);
/* Runs one or more statements; on failure the message names the SQL error. */
int vigil__db_exec(sqlite3 *db, const char *sql, vigil_error *err);
/* VIGIL_ESTORE with sqlite's message, prefixed by what. */
int vigil__db_error(sqlite3 *db, const char *what, vigil_error *err);

#endif
