/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_pg.c - the PostgreSQL bank backend against a real server
 * (scripts/pg-test-server; skipped, saying so, when PostgreSQL is not
 * installed).
 *
 *   - The same script of bank operations on SQLite and on PostgreSQL
 *     leaves the same entries, in the same order, with the same removals.
 *   - Two store handles on one database behave as two nodes: a matcher on
 *     one sees the other's adds, removals, disables and drops after a sync.
 *   - Concurrent writers on separate connections while a matcher syncs in a
 *     loop: the matcher ends with every entry, none skipped (the commit
 *     order invariant of bank_pg.c).
 *   - kill -9 of an importing client: every acknowledged batch is there,
 *     no partial batch is.
 */
#include "bank_testutil.h"
#include "pgtest.h"
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil/bank.h"

static char uri[512];
static vigil_bank_store *open_store(const char *loc) {
  vigil_bank_store *st = NULL;
  vigil_error err;
  if (vigil_bank_store_open(&st, loc, &err) != VIGIL_OK) fail_msg("open %s: %s", loc, err.message);
  return st;
}

/* ---- the same script on both backends ----------------------------------- */

static void script(vigil_bank_store *st) {
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "ncmec", "hash list", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "ncmec", NULL, &err), VIGIL_EEXIST);
  assert_int_equal(vigil_bank_create(st, "own", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "gone", NULL, &err), VIGIL_OK);
  char csv[600];
  const char *text =
      "signal_type,value,external_id,tags,source,removed,removed_reason\n"
      "pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,n-1,csam;A1,ncmec,,\n"
      "pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b23,n-2,csam,ncmec,,\n"
      "md5,d41d8cd98f00b204e9800998ecf8427e,n-3,ncii,,,\n"
      "sha256,e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,n-4,,,,\n"
      "pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b24,n-5,csam,ncmec,2026-01-02T03:04:05Z,false "
      "positive\n"
      "pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,dup,csam,ncmec,,\n";
  bt_write(csv, sizeof csv, "script.csv", text, (size_t)-1);
  for (int round = 0; round < 2; round++) { /* the second import changes nothing */
    FILE *in = fopen(csv, "rb");
    assert_non_null(in);
    vigil_bank_import_opts o;
    vigil_bank_import_opts_default(&o);
    vigil_bank_import_report rep;
    assert_int_equal(vigil_bank_import(st, "ncmec", in, &o, &rep, &err), VIGIL_OK);
    fclose(in);
    assert_int_equal(rep.added, round ? 0 : 5);
    assert_int_equal(rep.existing, round ? 6 : 1);
    vigil_bank_import_report_free(&rep);
  }
  /* a removal carried by an import, for an entry that is active */
  const char *withdraw =
      "signal_type,value,external_id,removed,removed_reason\n"
      "pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b23,n-2,2026-02-03T04:05:06Z,withdrawn\n"
      "md5,00000000000000000000000000000001,n-6,,\n";
  bt_write(csv, sizeof csv, "withdraw.csv", withdraw, (size_t)-1);
  FILE *in = fopen(csv, "rb");
  assert_non_null(in);
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  vigil_bank_import_report rep;
  assert_int_equal(vigil_bank_import(st, "ncmec", in, &o, &rep, &err), VIGIL_OK);
  fclose(in);
  assert_int_equal(rep.removed, 1);
  assert_int_equal(rep.added, 1);
  vigil_bank_import_report_free(&rep);

  vigil_bank_entry e;
  memset(&e, 0, sizeof e);
  snprintf(e.bank, sizeof e.bank, "own");
  e.type = VIGIL_SIGNAL_PDQ;
  e.value_len = 32;
  uint64_t rng = 7;
  for (int i = 0; i < 20; i++) {
    bt_random_hash(&rng, e.value);
    snprintf(e.external_id, sizeof e.external_id, "own-%d", i);
    int added = 0;
    assert_int_equal(vigil_bank_add(st, &e, &added, &err), VIGIL_OK);
    assert_int_equal(added, 1);
    if (i == 3) assert_int_equal(vigil_bank_remove_id(st, e.id, "reviewed", &err), VIGIL_OK);
  }
  int added = 1;
  assert_int_equal(vigil_bank_add(st, &e, &added, &err), VIGIL_OK); /* the last one again */
  assert_int_equal(added, 0);
  assert_int_equal(vigil_bank_remove(st, "own", VIGIL_SIGNAL_PDQ, e.value, "appeal", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_remove(st, "own", VIGIL_SIGNAL_PDQ, e.value, "again", &err), VIGIL_OK); /* no-op */
  assert_int_equal(vigil_bank_remove_id(st, 999999, "x", &err), VIGIL_ENOTFOUND);
  memcpy(e.bank, "gone", 5);
  assert_int_equal(vigil_bank_add(st, &e, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_drop(st, "gone", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_drop(st, "gone", &err), VIGIL_ENOTFOUND);
  assert_int_equal(vigil_bank_set_enabled(st, "own", 0, &err), VIGIL_OK);
}

typedef struct dump {
  char *text;
  size_t len, cap;
} dump;

static void append(dump *d, const char *line) {
  size_t n = strlen(line);
  if (d->len + n + 1 > d->cap) {
    d->cap = (d->len + n + 1) * 2;
    char *t = realloc(d->text, d->cap);
    assert_non_null(t);
    d->text = t;
  }
  memcpy(d->text + d->len, line, n + 1);
  d->len += n;
}

/* Everything an entry says but its id and times (ids differ: PostgreSQL's
 * sequences skip the values of conflicting inserts). */
static int dump_entry(void *ctx, const vigil_bank_entry *e) {
  char hex[2 * VIGIL_BANK_VALUE_MAX + 1], line[4096];
  vigil_signal_to_hex(e->value, e->value_len, hex);
  snprintf(line, sizeof line, "%s %s %s %s [%s] %s removed=%d %s\n", e->bank, vigil_signal_name(e->type), hex,
           e->external_id, e->tags, e->source, e->removed != 0, e->removed_reason);
  append(ctx, line);
  return 0;
}

static char *dump_store(vigil_bank_store *st) {
  dump d = {NULL, 0, 0};
  vigil_error err;
  assert_int_equal(vigil_bank_foreach(st, NULL, 1, dump_entry, &d, &err), VIGIL_OK);
  vigil_bank_info *banks;
  size_t n;
  assert_int_equal(vigil_bank_list(st, &banks, &n, &err), VIGIL_OK);
  for (size_t i = 0; i < n; i++) {
    char line[2048];
    snprintf(line, sizeof line, "bank %s '%s' enabled=%d active=%llu removed=%llu pdq=%llu\n", banks[i].name,
             banks[i].description, banks[i].enabled, (unsigned long long)banks[i].active,
             (unsigned long long)banks[i].removed, (unsigned long long)banks[i].by_type[VIGIL_SIGNAL_PDQ]);
    append(&d, line);
  }
  free(banks);
  return d.text;
}

static void test_same_as_sqlite(void **state) {
  (void)state;
  char pg[600], lite[600];
  tu_pg_fresh_db(pg, sizeof pg);
  bt_path(lite, sizeof lite, "same.db");
  vigil_bank_store *a = open_store(lite), *b = open_store(pg);
  assert_string_equal(vigil_bank_store_backend(a), "sqlite");
  assert_string_equal(vigil_bank_store_backend(b), "postgresql");
  script(a);
  script(b);
  char *da = dump_store(a), *db = dump_store(b);
  assert_string_equal(da, db);
  assert_non_null(strstr(db, "removed=1 false positive"));
  assert_non_null(strstr(db, "n-2 [csam] ncmec removed=1 withdrawn"));
  assert_non_null(strstr(db, "bank own '' enabled=0 active=18 removed=2 pdq=18"));
  assert_null(strstr(db, "bank gone"));
  /* exact lookups: only active entries of enabled banks */
  vigil_error err;
  uint8_t md5[VIGIL_BANK_VALUE_MAX];
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_MD5, "d41d8cd98f00b204e9800998ecf8427e", 32, md5, &err), VIGIL_OK);
  vigil_bank_match *m;
  size_t n;
  assert_int_equal(vigil_bank_match_exact(b, VIGIL_SIGNAL_MD5, md5, NULL, &m, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  assert_string_equal(m[0].entry.external_id, "n-3");
  assert_string_equal(m[0].entry.tags, "ncii");
  free(m);
  free(da);
  free(db);
  vigil_bank_store_close(a);
  vigil_bank_store_close(b);
}

/* ---- two nodes ------------------------------------------------------------ */

static size_t matches(vigil_bank_matcher *m, const uint8_t h[32], int threshold) {
  vigil_pdq_hash q;
  memcpy(q.bytes, h, 32);
  vigil_bank_match *out;
  size_t n;
  vigil_error err;
  assert_int_equal(vigil_bank_match_pdq(m, &q, 1, threshold, NULL, &out, &n, &err), VIGIL_OK);
  free(out);
  return n;
}

static void test_two_nodes(void **state) {
  (void)state;
  char loc[600];
  tu_pg_fresh_db(loc, sizeof loc);
  vigil_bank_store *a = open_store(loc), *b = open_store(loc);
  vigil_error err;
  vigil_bank_matcher *mb;
  assert_int_equal(vigil_bank_matcher_open(&mb, b, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(a, "shared", NULL, &err), VIGIL_OK);
  vigil_bank_entry e;
  memset(&e, 0, sizeof e);
  snprintf(e.bank, sizeof e.bank, "shared");
  e.type = VIGIL_SIGNAL_PDQ;
  e.value_len = 32;
  uint64_t rng = 99;
  bt_random_hash(&rng, e.value);
  assert_int_equal(vigil_bank_add(a, &e, NULL, &err), VIGIL_OK);
  uint8_t near[32];
  bt_flip(&rng, e.value, 10, near);
  assert_int_equal(matches(mb, near, 31), 0); /* not synced yet */
  assert_int_equal(vigil_bank_matcher_sync(mb, &err), VIGIL_OK);
  assert_int_equal(matches(mb, near, 31), 1);
  assert_int_equal(vigil_bank_remove_id(a, e.id, "withdrawn", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(mb, &err), VIGIL_OK);
  assert_int_equal(matches(mb, near, 31), 0);
  bt_random_hash(&rng, e.value);
  assert_int_equal(vigil_bank_add(a, &e, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(mb, &err), VIGIL_OK);
  assert_int_equal(matches(mb, e.value, 0), 1);
  assert_int_equal(vigil_bank_set_enabled(a, "shared", 0, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(mb, &err), VIGIL_OK);
  assert_int_equal(matches(mb, e.value, 0), 0);
  assert_int_equal(vigil_bank_set_enabled(a, "shared", 1, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(mb, &err), VIGIL_OK);
  assert_int_equal(matches(mb, e.value, 0), 1);
  assert_int_equal(vigil_bank_drop(a, "shared", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(mb, &err), VIGIL_OK);
  assert_int_equal(matches(mb, e.value, 0), 0);
  assert_int_equal(vigil_bank_matcher_size(mb), 0);
  vigil_bank_matcher_free(mb);
  vigil_bank_store_close(a);
  vigil_bank_store_close(b);
}

/* ---- concurrent writers, one syncing reader -------------------------------- */

enum { WRITERS = 3, PER_WRITER = 150 };

typedef struct writer {
  const char *loc;
  int index;
  int failed;
} writer;

static void *write_entries(void *arg) {
  writer *w = arg;
  vigil_bank_store *st = NULL;
  vigil_error err;
  if (vigil_bank_store_open(&st, w->loc, &err)) {
    w->failed = 1;
    return NULL;
  }
  vigil_bank_entry e;
  memset(&e, 0, sizeof e);
  snprintf(e.bank, sizeof e.bank, "busy");
  e.type = VIGIL_SIGNAL_PDQ;
  e.value_len = 32;
  uint64_t rng = 1000 + (uint64_t)w->index;
  for (int i = 0; i < PER_WRITER && !w->failed; i++) {
    bt_random_hash(&rng, e.value);
    snprintf(e.external_id, sizeof e.external_id, "w%d-%d", w->index, i);
    if (vigil_bank_add(st, &e, NULL, &err)) w->failed = 1;
  }
  vigil_bank_store_close(st);
  return NULL;
}

static void test_concurrent_writers_none_skipped(void **state) {
  (void)state;
  char loc[600];
  tu_pg_fresh_db(loc, sizeof loc);
  vigil_bank_store *r = open_store(loc);
  vigil_error err;
  assert_int_equal(vigil_bank_create(r, "busy", NULL, &err), VIGIL_OK);
  vigil_bank_matcher *m;
  assert_int_equal(vigil_bank_matcher_open(&m, r, &err), VIGIL_OK);
  pthread_t t[WRITERS];
  writer w[WRITERS];
  for (int i = 0; i < WRITERS; i++) {
    w[i] = (writer){loc, i, 0};
    assert_int_equal(pthread_create(&t[i], NULL, write_entries, &w[i]), 0);
  }
  int syncs = 0;
  while (vigil_bank_matcher_size(m) < WRITERS * PER_WRITER && syncs < 100000) {
    assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
    syncs++;
  }
  for (int i = 0; i < WRITERS; i++) {
    pthread_join(t[i], NULL);
    assert_false(w[i].failed);
  }
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  printf("%d syncs while %d writers added %d entries\n", syncs, WRITERS, WRITERS * PER_WRITER);
  assert_int_equal(vigil_bank_matcher_size(m), WRITERS * PER_WRITER);
  vigil_bank_matcher_free(m);
  vigil_bank_store_close(r);
}

/* ---- kill -9 of an importing client --------------------------------------- */

enum { N = 20000, BATCH = 500, KILL_AFTER = 4 };

static void test_kill9_import(void **state) {
  (void)state;
  char loc[600], csv[600];
  tu_pg_fresh_db(loc, sizeof loc);
  bt_path(csv, sizeof csv, "pg-big.csv");
  FILE *f = fopen(csv, "wb");
  assert_non_null(f);
  fputs("signal_type,value,external_id\n", f);
  uint64_t rng = 5;
  for (int i = 0; i < N; i++) {
    uint8_t h[32];
    char hex[65];
    bt_random_hash(&rng, h);
    vigil_signal_to_hex(h, 32, hex);
    fprintf(f, "pdq,%s,line-%d\n", hex, i);
  }
  assert_int_equal(fclose(f), 0);
  vigil_bank_store *st = open_store(loc);
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  vigil_bank_store_close(st);

  uint64_t acked = bt_import_killed(loc, "b", csv, BATCH, KILL_AFTER);
  st = open_store(loc);
  uint64_t count = bt_count(st, "b", 1);
  printf("after kill -9: %llu entries, %llu batches acknowledged\n", (unsigned long long)count,
         (unsigned long long)acked);
  assert_true(count >= acked * BATCH);
  assert_int_equal(count % BATCH, 0);
  assert_true(count < N);
  vigil_bank_store_close(st);
}

static int setup(void **state) {
  (void)state;
  bt_dir();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  int rc = tu_pg_start(uri, sizeof uri);
  if (rc == 77) return 77;
  if (rc) {
    fprintf(stderr, "could not start a PostgreSQL test server\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_as_sqlite),
      cmocka_unit_test(test_two_nodes),
      cmocka_unit_test(test_concurrent_writers_none_skipped),
      cmocka_unit_test(test_kill9_import),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
