/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_cli_progress.c - `vigil bank import` draws its progress on a
 * terminal and is quiet otherwise.
 *
 * VIGIL_PROGRESS=1 stands for a terminal (the tests' stderr is a pipe):
 * the progress line counts the file's lines as the import reads them,
 * twice over for a batched import that validates the file first, and
 * names the bad lines at the end.  Without it, stderr carries no progress.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static char dir[256];

static void write_csv(const char *path, int n, int bad) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("signal_type,value\n", f);
  for (int i = 0; i < n; i++) fprintf(f, "md5,%032x\n", i + 1);
  if (bad) fputs("md5,not-a-hash\n", f);
  fclose(f);
}

static void test_import_progress(void **state) {
  (void)state;
  char db[300], csv[300], badcsv[300], cmd[2000], *out = NULL;
  snprintf(db, sizeof db, "%s/v.db", dir);
  snprintf(csv, sizeof csv, "%s/a.csv", dir);
  snprintf(badcsv, sizeof badcsv, "%s/bad.csv", dir);
  write_csv(csv, 299, 0);
  write_csv(badcsv, 120, 1);
  snprintf(cmd, sizeof cmd, "'%s' bank create p --db '%s' >/dev/null 2>&1", VIGIL_CLI, db);
  assert_int_equal(tu_run(cmd, NULL), 0);

  /* on a terminal: lines, rate, ETA, failures */
  snprintf(cmd, sizeof cmd, "VIGIL_PROGRESS=1 '%s' bank import p '%s' --db '%s' 2>&1 >/dev/null", VIGIL_CLI, csv, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "300/300 lines imported"));
  assert_non_null(strstr(out, "/s, ETA "));
  assert_non_null(strstr(out, ", 0 failed"));
  free(out);
  /* batched: validated, then written; the count starts again, never past the total */
  snprintf(cmd, sizeof cmd, "VIGIL_PROGRESS=1 '%s' bank import p '%s' --batch 100 --db '%s' 2>&1 >/dev/null", VIGIL_CLI,
           csv, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "300/300 lines imported"));
  assert_null(strstr(out, "600/300"));
  free(out);
  /* a bad line is a failure on the line, and still reported on its own */
  snprintf(cmd, sizeof cmd, "VIGIL_PROGRESS=1 '%s' bank import p '%s' --db '%s' 2>&1 >/dev/null", VIGIL_CLI, badcsv,
           db);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_non_null(strstr(out, "122/122 lines imported"));
  assert_non_null(strstr(out, ", 1 failed"));
  assert_non_null(strstr(out, "bad.csv:122:"));
  free(out);

  /* not a terminal: no progress, the summary as before */
  snprintf(cmd, sizeof cmd, "'%s' bank import p '%s' --db '%s' 2>&1", VIGIL_CLI, csv, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_null(strstr(out, "lines imported"));
  assert_null(strchr(out, '\r'));
  assert_non_null(strstr(out, "300 lines, 0 added, 299 existing"));
  free(out);
  /* a short file: nothing to show */
  write_csv(csv, 10, 0);
  snprintf(cmd, sizeof cmd, "VIGIL_PROGRESS=1 '%s' bank import p '%s' --db '%s' 2>&1", VIGIL_CLI, csv, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_null(strstr(out, "lines imported"));
  free(out);
}

static int setup(void **state) {
  (void)state;
  return tu_mkdtemp(dir, sizeof dir, "bprog") ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_import_progress)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
