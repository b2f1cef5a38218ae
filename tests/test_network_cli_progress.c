/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_network_cli_progress.c - `vigil link` draws its progress on a
 * terminal and is quiet otherwise.
 *
 * VIGIL_PROGRESS=1 stands for a terminal (the tests' stderr is a pipe):
 * the line counts the inputs' lines as the linker takes their ads, with
 * rate, ETA and the bad lines so far; a bad line's message stands on a
 * line of its own.  Without it, stderr has the messages only.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static char dir[256];

static void write_ads(const char *path, int from, int n, int bad) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (int i = from; i < from + n; i++)
    fprintf(f, "{\"id\":\"ad%d\",\"text\":\"new in town, sweet and discreet, call 213555%04d today\"}\n", i, i % 40);
  if (bad) fputs("not an ad\n", f);
  fclose(f);
}

static void test_link_progress(void **state) {
  (void)state;
  char a[300], b[300], cmd[2000], *out = NULL;
  snprintf(a, sizeof a, "%s/a.jsonl", dir);
  snprintf(b, sizeof b, "%s/b.jsonl", dir);
  write_ads(a, 0, 2000, 1);
  write_ads(b, 2000, 1500, 0);
  /* on a terminal: both files' lines, the bad one counted */
  snprintf(cmd, sizeof cmd, "VIGIL_PROGRESS=1 '%s' link -q --out '%s/o1' '%s' '%s' 2>&1", VIGIL_CLI, dir, a, b);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_non_null(strstr(out, "3501/3501 ads read"));
  assert_non_null(strstr(out, "/s, ETA "));
  assert_non_null(strstr(out, ", 1 failed"));
  assert_non_null(strstr(out, "\nvigil: ")); /* the message on a line of its own */
  free(out);
  /* not a terminal: the message only */
  snprintf(cmd, sizeof cmd, "'%s' link -q --out '%s/o2' '%s' '%s' 2>&1", VIGIL_CLI, dir, a, b);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_null(strstr(out, "ads read"));
  assert_null(strchr(out, '\r'));
  assert_non_null(strstr(out, "1 bad lines skipped"));
  free(out);
}

static int setup(void **state) {
  (void)state;
  return tu_mkdtemp(dir, sizeof dir, "lprog") ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_link_progress)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
