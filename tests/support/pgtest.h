/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pgtest.h - a throwaway PostgreSQL server for a test program
 * (scripts/pg-test-server): started on demand, stopped at exit.
 */
#ifndef VIGIL_TEST_PGTEST_H
#define VIGIL_TEST_PGTEST_H

#include <stddef.h>

/* Starts the server once per process and copies its libpq URI into uri.
 * Returns 0; 77 when PostgreSQL is not installed (the caller skips, after
 * this has said why on stdout); -1 when it could not start. */
int tu_pg_start(char *uri, size_t cap);

/* Creates a new, empty database on the started server and copies its URI
 * into out (fails the test if it cannot): tests that must not see each
 * other's tables each take one. */
void tu_pg_fresh_db(char *out, size_t cap);

/* Restarts the started server (connections are cut); 0 when it is back. */
int tu_pg_restart(void);

#endif
