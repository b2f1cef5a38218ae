/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_review_memo.c - the review flags one answer's hits need are
 * read once per bank (lib/server/banksvc.c, vigil__bank_review_memo): the
 * flag of each bank is right, a bank already read is not read again in the
 * same answer (a flag changed meanwhile shows in the next answer), and
 * past VIGIL__REVIEW_MEMO banks each flag is read every time.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "server/banks.h"
#include "vigil/server.h"

static void test_memo(void **state) {
  (void)state;
  char dir[256], db[300];
  assert_non_null(tu_mkdtemp(dir, sizeof dir, "reviewmemo"));
  snprintf(db, sizeof db, "%s/s.db", dir);
  vigil_server_store *st = NULL;
  vigil_error e;
  assert_int_equal(vigil_server_store_open(&st, db, &e), VIGIL_OK);
  enum { N = VIGIL__REVIEW_MEMO + 2 };
  char names[N][16];
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "bank%d", i);
    assert_int_equal(vigil_server_bank_review_set(st, names[i], i % 2, &e), VIGIL_OK);
  }
  vigil__review_memo memo = {.n = 0};
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < N; i++) {
      int review = -1;
      assert_int_equal(vigil__bank_review_memo(st, &memo, names[i], &review, &e), VIGIL_OK);
      assert_int_equal(review, i % 2);
    }
  assert_int_equal(memo.n, VIGIL__REVIEW_MEMO);
  /* flags change: the memo keeps what it read, banks past it are read again */
  assert_int_equal(vigil_server_bank_review_set(st, names[1], 0, &e), VIGIL_OK);
  assert_int_equal(vigil_server_bank_review_set(st, names[N - 1], 0, &e), VIGIL_OK);
  int review = -1;
  assert_int_equal(vigil__bank_review_memo(st, &memo, names[1], &review, &e), VIGIL_OK);
  assert_int_equal(review, 1);
  assert_int_equal(vigil__bank_review_memo(st, &memo, names[N - 1], &review, &e), VIGIL_OK);
  assert_int_equal(review, 0);
  vigil__review_memo fresh = {.n = 0}; /* the next answer */
  assert_int_equal(vigil__bank_review_memo(st, &fresh, names[1], &review, &e), VIGIL_OK);
  assert_int_equal(review, 0);
  /* no bank name (a hit without one): not flagged, nothing kept */
  assert_int_equal(vigil__bank_review_memo(st, &fresh, NULL, &review, &e), VIGIL_OK);
  assert_int_equal(review, 0);
  assert_int_equal(fresh.n, 1);
  vigil_server_store_close(st);
  tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_memo)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
