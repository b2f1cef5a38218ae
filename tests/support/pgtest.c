/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pgtest.c - see pgtest.h.  The server's directory is remembered and the
 * server stopped by an atexit handler, so a test that fails an assertion
 * (cmocka returns from the test, the program exits) leaves nothing running;
 * a test that crashes or is killed is covered by the script's watchdog,
 * which stops the server once this process is gone.
 */
#include "pgtest.h"

#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char started_uri[512], started_dir[512];
static pid_t starter; /* forked children exit too: only the starter stops it */

static void stop_server(void) {
  if (!started_dir[0] || getpid() != starter) return;
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "'%s/scripts/pg-test-server' stop '%s'", VIGIL_SOURCE_DIR, started_dir);
  if (system(cmd) != 0) fprintf(stderr, "pgtest: could not stop the server in %s\n", started_dir);
  started_dir[0] = 0;
}

int tu_pg_start(char *uri, size_t cap) {
  if (!started_uri[0]) {
    char cmd[800];
    snprintf(cmd, sizeof cmd, "'%s/scripts/pg-test-server' start %d", VIGIL_SOURCE_DIR, (int)getpid());
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line1[512] = "", line2[512] = "";
    int ok = fgets(line1, sizeof line1, p) && fgets(line2, sizeof line2, p);
    int st = pclose(p);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
      printf("PostgreSQL is not installed (scripts/install-deps --test installs it): skipping\n");
      return 77;
    }
    if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    line1[strcspn(line1, "\n")] = 0;
    line2[strcspn(line2, "\n")] = 0;
    snprintf(started_uri, sizeof started_uri, "%s", line1);
    snprintf(started_dir, sizeof started_dir, "%s", line2);
    starter = getpid();
    atexit(stop_server);
  }
  snprintf(uri, cap, "%s", started_uri);
  return 0;
}

void tu_pg_fresh_db(char *out, size_t cap) {
  static int serial;
  assert_true(started_uri[0] != 0);
  char name[64], sql[128];
  snprintf(name, sizeof name, "t%d_%d", (int)getpid(), ++serial);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
  PGconn *c = PQconnectdb(started_uri);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  const char *slash = strrchr(started_uri, '/');
  snprintf(out, cap, "%.*s/%s", (int)(slash - started_uri), started_uri, name);
}

int tu_pg_restart(void) {
  if (!started_dir[0]) return -1;
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "'%s/scripts/pg-test-server' restart '%s'", VIGIL_SOURCE_DIR, started_dir);
  return system(cmd) == 0 ? 0 : -1;
}
