/*
 * test_convo_eval.c - smoke test of `vigil convo eval` on the first records
 * of each shared chat corpus, with and without age masking: the program
 * runs, reads every record, and the scorer separates these PJ records from
 * the benign ones (a loose bound: the full figures are in docs/convo.md).
 * Skips (exit 77) without ../shared.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char dir[4096];

static void check(const char *opts) {
  char cmd[8192], out[8192];
  snprintf(cmd, sizeof cmd, "%s convo eval --limit 25 %s %s", VIGIL_CLI, opts, dir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  int st = pclose(p);
  printf("%s", out);
  assert_int_equal(WEXITSTATUS(st), 0);
  const char *f = strstr(out, "PJ vs benign: precision ");
  assert_non_null(f);
  double prec, rec, f1;
  assert_int_equal(sscanf(f, "PJ vs benign: precision %lf recall %lf F1 %lf", &prec, &rec, &f1), 3);
  assert_true(f1 >= 0.8);
  assert_true(prec >= 0.9);
  const char *pj = strstr(out, "grooming_pj.jsonl");
  assert_non_null(pj);
  long nrec = 0;
  assert_int_equal(sscanf(pj, "grooming_pj.jsonl %ld", &nrec), 1);
  assert_int_equal(nrec, 25);
  assert_non_null(strstr(out, "early detection:"));
}

static void test_plain(void **state) {
  (void)state;
  check("");
}

static void test_masked(void **state) {
  (void)state;
  check("--mask-ages");
}

int main(void) {
  if (!tu_shared("corpora/chat/grooming_pj.jsonl", dir, sizeof dir)) return 77;
  char *slash = strrchr(dir, '/');
  *slash = 0;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_plain), cmocka_unit_test(test_masked)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
