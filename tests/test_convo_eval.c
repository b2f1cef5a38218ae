/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_convo_eval.c - smoke test of `vigil convo eval` on the first records
 * of each shared chat corpus, with and without age masking: the program
 * runs, reads every record, and the scorer separates these PJ records from
 * the benign ones (a loose bound: the full figures are in docs/convo.md).
 * Then the per-role figures on the test half.
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
  snprintf(cmd, sizeof cmd, "%s convo eval --limit 25 %s %s 2>/dev/null", VIGIL_CLI, opts, dir);
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

/* Per role (docs/convo.md "Who is the groomer"), on the test half of the
 * PJ records and of the first 450 lines of each benign set (which keeps
 * the test quick under sanitizers): the offender's pair is the riskiest,
 * the decoy's stays under the threshold, no benign record is flagged.  Bounds sit a little under the
 * measured figures on test (0.991 / 0.991 / F1 0.982 as written; 0.990 / 0.991 /
 * F1 0.956 masked). */
static void roles(const char *opts, double min_top, double min_below, double min_f1) {
  char cmd[8192], out[8192];
  snprintf(cmd, sizeof cmd, "%s convo eval --split test --limit 450 %s %s 2>/dev/null", VIGIL_CLI, opts, dir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  int st = pclose(p);
  printf("%s", out);
  assert_int_equal(WEXITSTATUS(st), 0);
  double top, below, rp, rr, rf, cp, cr, cf;
  long fp;
  const char *f = strstr(out, "per role: offender riskiest in ");
  assert_non_null(f);
  assert_int_equal(sscanf(f, "per role: offender riskiest in %lf", &top), 1);
  f = strstr(out, "per role: decoy -> offender below threshold in ");
  assert_non_null(f);
  assert_int_equal(sscanf(f, "per role: decoy -> offender below threshold in %lf", &below), 1);
  f = strstr(out, "per role: groomer precision ");
  assert_non_null(f);
  assert_int_equal(sscanf(f, "per role: groomer precision %lf recall %lf F1 %lf", &rp, &rr, &rf), 3);
  f = strstr(out, "PJ vs benign: precision ");
  assert_non_null(f);
  assert_int_equal(sscanf(f, "PJ vs benign: precision %lf recall %lf F1 %lf (tp %*d fp %ld", &cp, &cr, &cf, &fp), 4);
  assert_true(top >= min_top);
  assert_true(below >= min_below);
  assert_true(rf >= min_f1);
  assert_int_equal(fp, 0);
  assert_true(cf >= min_f1);
}

static void test_roles_plain(void **state) {
  (void)state;
  roles("", 0.985, 0.98, 0.97);
}

static void test_roles_masked(void **state) {
  (void)state;
  roles("--mask-ages", 0.985, 0.98, 0.94);
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
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_plain), cmocka_unit_test(test_masked),
                                     cmocka_unit_test(test_roles_plain), cmocka_unit_test(test_roles_masked)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
