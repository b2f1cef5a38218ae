/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_bankevent.c - a bank change and its bank.changed deliveries
 * commit together or not at all, on SQLite and on PostgreSQL.
 *
 * The outbox is made to refuse rows (a trigger on report_deliveries that
 * raises) while a subscription to bank.changed exists: every bank change
 * through `vigil serve` must then fail and leave the bank as it was.  A
 * change whose deliveries were written after its commit (the old way)
 * stands with no delivery, which is what a crash between the two did too.
 * With the trigger gone, each change leaves exactly its delivery, with the
 * action and the entry in the payload.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "db/sql.h"
#include "pgtest.h"
#include "serveproc.h"
#include "testutil.h"

static char dir[256];
static int have_pg;

static const char sqlite_refuse[] =
    "CREATE TRIGGER t_refuse BEFORE INSERT ON report_deliveries BEGIN SELECT RAISE(ABORT, 'outbox refused'); END";
static const char pg_refuse[] =
    "CREATE FUNCTION t_refuse() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''outbox refused''; END';"
    "CREATE TRIGGER t_refuse BEFORE INSERT ON report_deliveries FOR EACH ROW EXECUTE FUNCTION t_refuse()";

static void sql(const char *db, const char *script) {
  vigil__sql *h;
  vigil_error e;
  assert_int_equal(vigil__sql_open(&h, db, &e), 0);
  if (vigil__sql_script(h, script, &e)) fail_msg("%s: %s", script, e.message);
  vigil__sql_close(h);
}

/* bank.changed rows in the outbox whose payload contains `needle`. */
static size_t outbox_rows(const char *db, const char *needle) {
  vigil__sql *h;
  vigil_error e;
  assert_int_equal(vigil__sql_open(&h, db, &e), 0);
  vigil__rows *rows = NULL;
  if (vigil__sql_run(h, "SELECT payload FROM report_deliveries WHERE event = 'bank.changed' ORDER BY id", NULL, 0,
                     &rows, NULL, &e))
    fail_msg("outbox: %s", e.message);
  size_t k = 0;
  for (size_t i = 0; i < vigil__rows_count(rows); i++) k += strstr(vigil__rows_text(rows, i, 0), needle) != NULL;
  vigil__rows_free(rows);
  vigil__sql_close(h);
  return k;
}

static int call(tu_serve *s, const char *method, const char *path, const char *body) {
  int st;
  json_decref(tu_call(s->port, method, path, s->key, body, &st));
  return st;
}

static const char sha_a[] = "ab00000000000000000000000000000000000000000000000000000000000001";
static const char sha_b[] = "ab00000000000000000000000000000000000000000000000000000000000002";

static void run(const char *db, int pg) {
  tu_serve s;
  assert_int_equal(tu_serve_start(&s, db, dir, pg ? "bpg" : "bsq"), 0);
  /* a subscriber that never answers: the rows stay in the outbox */
  assert_int_equal(call(&s, "POST", "/v1/hooks", "{\"url\":\"http://127.0.0.1:9/h\",\"events\":[\"bank.changed\"]}"),
                   201);
  assert_int_equal(call(&s, "POST", "/v1/banks", "{\"name\":\"keep\"}"), 201);
  char body[200];
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\"}", sha_a);
  assert_int_equal(call(&s, "POST", "/v1/banks/keep/entries", body), 201);
  size_t before = outbox_rows(db, "\"bank.changed\"");
  assert_int_equal(before, 2);

  sql(db, pg ? pg_refuse : sqlite_refuse);
  /* every change fails, and nothing of it stays */
  int st = call(&s, "POST", "/v1/banks", "{\"name\":\"lost\"}");
  assert_true(st >= 500);
  assert_int_equal(call(&s, "GET", "/v1/banks/lost", NULL), 404);
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\"}", sha_b);
  assert_true(call(&s, "POST", "/v1/banks/keep/entries", body) >= 500);
  snprintf(body, sizeof body, "{\"sha256\":\"%s\"}", sha_b);
  int mst;
  json_t *m = tu_call(s.port, "POST", "/v1/match", s.key, body, &mst);
  assert_int_equal(mst, 200);
  assert_int_equal(json_array_size(json_object_get(m, "matches")), 0);
  json_decref(m);
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\",\"reason\":\"t\"}", sha_a);
  assert_true(call(&s, "POST", "/v1/banks/keep/entries/remove", body) >= 500);
  assert_true(call(&s, "POST", "/v1/banks/keep", "{\"enabled\":false}") >= 500);
  assert_true(call(&s, "DELETE", "/v1/banks/keep", NULL) >= 500);
  char csv[300];
  snprintf(csv, sizeof csv, "signal_type,value\nsha256,%s\n", sha_b);
  assert_true(call(&s, "POST", "/v1/banks/keep/import", csv) >= 500);
  /* the bank is as it was: enabled, sha_a still matches, sha_b never came */
  json_t *b = tu_call(s.port, "GET", "/v1/banks/keep", s.key, NULL, &mst);
  assert_int_equal(mst, 200);
  assert_true(json_is_true(json_object_get(b, "enabled")));
  assert_int_equal(json_integer_value(json_object_get(b, "active")), 1);
  assert_int_equal(json_integer_value(json_object_get(b, "removed")), 0);
  json_decref(b);
  snprintf(body, sizeof body, "{\"sha256\":\"%s\"}", sha_a);
  m = tu_call(s.port, "POST", "/v1/match", s.key, body, &mst);
  assert_int_equal(mst, 200);
  assert_int_equal(json_array_size(json_object_get(m, "matches")), 1);
  json_decref(m);
  assert_int_equal(outbox_rows(db, "\"bank.changed\""), before);

  /* the outbox takes rows again: each change has its one delivery */
  sql(db, pg ? "DROP TRIGGER t_refuse ON report_deliveries" : "DROP TRIGGER t_refuse");
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\",\"reason\":\"t\"}", sha_a);
  assert_int_equal(call(&s, "POST", "/v1/banks/keep/entries/remove", body), 200);
  assert_int_equal(call(&s, "POST", "/v1/banks/keep/import", csv), 200);
  assert_int_equal(call(&s, "POST", "/v1/banks/keep/import", csv), 200); /* nothing new: no event */
  assert_int_equal(outbox_rows(db, "\"action\":\"remove\""), 1);
  assert_int_equal(outbox_rows(db, sha_a), 2); /* added, then removed */
  assert_int_equal(outbox_rows(db, "\"action\":\"import\""), 1);
  assert_int_equal(outbox_rows(db, "\"bank.changed\""), before + 2);
  /* reading a bank changes nothing */
  assert_int_equal(call(&s, "GET", "/v1/banks/keep/export", NULL), 200);
  assert_int_equal(outbox_rows(db, "\"bank.changed\""), before + 2);
  kill(s.pid, SIGTERM);
  waitpid(s.pid, NULL, 0);
}

static void test_sqlite(void **state) {
  (void)state;
  char db[400];
  snprintf(db, sizeof db, "%s/be.db", dir);
  run(db, 0);
}

static void test_pg(void **state) {
  (void)state;
  if (!have_pg) {
    printf("PostgreSQL not available: checked on SQLite only\n");
    return;
  }
  char uri[600];
  tu_pg_fresh_db(uri, sizeof uri);
  run(uri, 1);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil-test-rbankev-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  /* the default jobs directory of a PostgreSQL node is $TMPDIR/vigil-jobs:
   * this program's own, not one shared with other tests running at once
   * (a jobs directory takes one server at a time) */
  setenv("TMPDIR", dir, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  char uri[512];
  have_pg = tu_pg_start(uri, sizeof uri) == 0;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sqlite), cmocka_unit_test(test_pg)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
