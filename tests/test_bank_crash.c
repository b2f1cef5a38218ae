/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_crash.c - kill -9 in the middle of a large import.
 *
 * A child process imports a CSV file in batches of BATCH entries and, after
 * each commit returns, writes the batch number to a pipe: that is the
 * acknowledgement.  The parent sends SIGKILL as soon as a few batches are
 * acknowledged, while the child is inside a later transaction, then reopens
 * the store and checks that every acknowledged batch is there in full, that
 * no partial batch is (the count is a whole number of batches), that the
 * rows are exactly the first lines of the file, and that SQLite's
 * integrity check passes.  Re-running the import then completes it: the
 * rows already present count as existing.
 */
#include "bank_testutil.h"
#include "testutil.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil/bank.h"

enum { N = 200000, BATCH = 2000, KILL_AFTER = 4 };

static void hash_of_line(uint64_t i, uint8_t out[32]) {
  uint64_t rng = 0x5EED0000ull + i * 0x9E3779B97F4A7C15ull;
  if (!rng) rng = 1;
  bt_random_hash(&rng, out);
}

typedef struct check {
  uint8_t *seen; /* per line of the file */
  uint64_t rows;
  int bad;
} check;

/* Each row must be a line of the file (by its external id "line-K"), with
 * that line's value, seen once. */
static int check_row(void *ctx, const vigil_bank_entry *e) {
  check *c = ctx;
  unsigned long long k;
  char tail;
  c->rows++;
  if (sscanf(e->external_id, "line-%llu%c", &k, &tail) != 1 || k >= N || c->seen[k]) {
    c->bad++;
    return 0;
  }
  c->seen[k] = 1;
  uint8_t want[32];
  hash_of_line(k, want);
  if (e->type != VIGIL_SIGNAL_PDQ || memcmp(e->value, want, 32) != 0) c->bad++;
  return 0;
}

static void test_kill9_mid_import(void **state) {
  (void)state;
  char csv[600], db[600];
  bt_path(csv, sizeof csv, "big.csv");
  bt_path(db, sizeof db, "crash.db");
  FILE *f = fopen(csv, "wb");
  assert_non_null(f);
  fputs("signal_type,value,external_id,tags\n", f);
  for (uint64_t i = 0; i < N; i++) {
    uint8_t h[32];
    char hex[65];
    hash_of_line(i, h);
    vigil_signal_to_hex(h, 32, hex);
    fprintf(f, "pdq,%s,line-%llu,csam\n", hex, (unsigned long long)i);
  }
  assert_int_equal(fclose(f), 0);

  vigil_bank_store *st;
  vigil_error err;
  unlink(db);
  assert_int_equal(vigil_bank_store_open(&st, db, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  vigil_bank_store_close(st);

  uint64_t acked = bt_import_killed(db, "b", csv, BATCH, KILL_AFTER);

  /* integrity, straight from SQLite */
  sqlite3 *raw;
  assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
  sqlite3_finalize(q);
  sqlite3_close(raw);

  assert_int_equal(vigil_bank_store_open(&st, db, &err), VIGIL_OK);
  uint64_t count = bt_count(st, "b", 1);
  printf("store after the kill: %llu entries (%llu batches acknowledged)\n", (unsigned long long)count,
         (unsigned long long)acked);
  assert_true(count >= acked * BATCH); /* every acknowledged batch */
  assert_int_equal(count % BATCH, 0);  /* and no partial one */
  assert_true(count < N);              /* the kill did land mid-import */
  check c = {calloc(N, 1), 0, 0};
  assert_non_null(c.seen);
  assert_int_equal(vigil_bank_foreach(st, "b", 1, check_row, &c, &err), VIGIL_OK);
  assert_int_equal(c.bad, 0);
  assert_int_equal(c.rows, count);
  for (uint64_t k = 0; k < count; k++) assert_int_equal(c.seen[k], 1); /* the first lines, all of them */
  free(c.seen);

  /* resuming is re-running: idempotent */
  FILE *in = fopen(csv, "rb");
  assert_non_null(in);
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  o.batch = 50000;
  vigil_bank_import_report rep;
  assert_int_equal(vigil_bank_import(st, "b", in, &o, &rep, &err), VIGIL_OK);
  fclose(in);
  assert_int_equal(rep.existing, count);
  assert_int_equal(rep.added, N - count);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "b", 1), N);
  vigil_bank_store_close(st);
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9_mid_import)};
  return cmocka_run_group_tests(tests, NULL, teardown);
}
