/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_cli.c - `vigil hooks` and `vigil outbox` as a user runs
 * them: the secret printed once and never listed, events parsed, hostile
 * input refused with the documented exit codes, a dead delivery retried.
 * Like every command they refuse a store that does not exist (a typo in
 * --db is not an empty store), take --db before the subcommand too, and
 * speak --format text|json (the old --json is refused); so does `vigil report`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/sql.h"
#include "report/outbox.h"
#include "run.h"
#include "testutil.h"

static char dir[256], db[400];

static int vigil(const char *args, char **out) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "'%s' %s --db '%s' 2>/dev/null", VIGIL_CLI, args, db);
  return tu_run(cmd, out);
}

static void test_hooks(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(vigil("hooks create --url http://127.0.0.1:9/a --events case.decided,match", &out), 0);
  assert_int_equal(strncmp(out, "whsec_", 6), 0);
  assert_int_equal(strlen(out), 6 + 64 + 1);
  char secret[80];
  snprintf(secret, sizeof secret, "%.70s", out);
  free(out);
  assert_int_equal(vigil("hooks list --format json", &out), 0);
  assert_null(strstr(out, secret)); /* shown once, never listed */
  assert_non_null(strstr(out, "\"events\":\"match,case.decided\""));
  char id[32];
  char *p = strstr(out, "wh_");
  assert_non_null(p);
  snprintf(id, sizeof id, "%.15s", p);
  free(out);
  /* refused: bad URL, unknown event, missing options, unknown subcommand */
  assert_int_equal(vigil("hooks create --url file:///etc/passwd --events match", NULL), 1);
  assert_int_equal(vigil("hooks create --url http://x/ --events case.closed", NULL), 2);
  assert_int_equal(vigil("hooks create --url http://x/", NULL), 2);
  assert_int_equal(vigil("hooks frobnicate", NULL), 2);
  assert_int_equal(vigil("outbox list --state lost", NULL), 2);
  /* a pending delivery to the subscription dies with it; retry revives it */
  vigil__sql *s;
  assert_int_equal(vigil__sql_open(&s, db, NULL), 0);
  json_t *data = json_pack("{s:i}", "case_id", 3);
  assert_int_equal(vigil__hooks_emit(s, VIGIL_EVENT_MATCH, data, NULL), 0);
  json_decref(data);
  char args[100];
  snprintf(args, sizeof args, "hooks delete %s", id);
  assert_int_equal(vigil(args, NULL), 0);
  assert_int_equal(vigil(args, NULL), 1);
  assert_int_equal(vigil("outbox list --state dead", &out), 0);
  assert_non_null(strstr(out, "subscription deleted"));
  free(out);
  assert_int_equal(vigil("outbox retry 1", &out), 0);
  free(out);
  assert_int_equal(vigil("outbox retry 1", NULL), 1); /* not dead any more */
  assert_int_equal(vigil("outbox retry 77", NULL), 1);
  assert_int_equal(vigil("outbox list --state pending --format json", &out), 0);
  assert_non_null(strstr(out, "\"state\":\"pending\""));
  /* times in the same RFC 3339 form as the API's, not Unix numbers */
  const char *next = strstr(out, "\"next_at\":\"");
  assert_non_null(next);
  assert_int_equal(strspn(next + 11, "0123456789-T:."), 23);
  assert_int_equal(next[11 + 23], 'Z');
  assert_null(strstr(out, "next_at_ms"));
  free(out);
  vigil__sql_close(s);
}

static void test_cli_consistent(void **state) {
  (void)state;
  char cmd[1600], *out = NULL;
  /* a store that does not exist is refused, and not created */
  static const char *const typo[] = {"hooks list", "hooks create --url http://x/ --events match", "outbox list",
                                     "outbox retry 1", "report export 1 --out '%s/r' --config '%s/c.json'"};
  for (size_t i = 0; i < sizeof typo / sizeof typo[0]; i++) {
    char args[600];
    snprintf(args, sizeof args, typo[i], dir, dir);
    snprintf(cmd, sizeof cmd, "'%s' %s --db '%s/typo.db' 2>&1", VIGIL_CLI, args, dir);
    assert_int_equal(tu_run(cmd, &out), 2);
    if (!strstr(out, "no vigil database")) fail_msg("%s: %s", args, out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s/typo.db", dir);
    assert_int_not_equal(access(cmd, F_OK), 0);
  }
  /* --db before the subcommand */
  snprintf(cmd, sizeof cmd, "'%s' hooks --db '%s' create --url http://127.0.0.1:9/b --events match --format json 2>&1",
           VIGIL_CLI, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "\"secret\":\"whsec_"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' hooks --db '%s' list --format json 2>&1", VIGIL_CLI, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "\"id\":\"wh_"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' outbox --db='%s' list --format text 2>&1", VIGIL_CLI, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "STATE"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' report --db '%s' export 999 --out '%s/r' --config '%s/c.json' 2>&1", VIGIL_CLI, db,
           dir, dir);
  assert_int_equal(tu_run(cmd, &out), 2);
  assert_non_null(strstr(out, "case 999")); /* it got as far as the case */
  free(out);
  /* --format: the names every command uses; an unknown one named */
  assert_int_equal(vigil("hooks list --format text", &out), 0);
  assert_non_null(strstr(out, "EVENTS"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' outbox list --format yaml --db '%s' 2>&1", VIGIL_CLI, db);
  assert_int_equal(tu_run(cmd, &out), 2);
  assert_non_null(strstr(out, "'yaml'"));
  free(out);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/vigil-test-rcli-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  snprintf(db, sizeof db, "%s/v.db", dir);
  char cmd[1200]; /* the store, made the way an operator makes one */
  snprintf(cmd, sizeof cmd, "'%s' keys create --role admin --db '%s' >/dev/null 2>&1", VIGIL_CLI, db);
  if (tu_run(cmd, NULL) != 0) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_hooks), cmocka_unit_test(test_cli_consistent)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (tu_rmtree(dir) != 0) return 1;
  return rc;
}
