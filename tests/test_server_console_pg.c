/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_console_pg.c - test_server_console.c's people, sessions and
 * leases on PostgreSQL (a throwaway server from scripts/pg-test-server;
 * skipped when PostgreSQL is not installed): the claim's SKIP LOCKED
 * upsert and the sign-in counters are engine-specific SQL.
 */
#define CONSOLE_PG 1
#include "test_server_console.c"
