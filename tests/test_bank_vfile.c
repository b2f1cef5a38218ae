/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_vfile.c - the matcher's video index saved between runs
 * (vigil_bank_matcher_open_file, lib/bank/bank_vfile.c), on SQLite and,
 * when it is installed, PostgreSQL.
 *
 *   - No file: built from the store and saved; the next open loads it, and
 *     its answers are those of a matcher built from the store.
 *   - The store moved on (a video added, one removed): the file is loaded
 *     and brought up to date; answers as a fresh build's.
 *   - A new bank: the file is still used.
 *   - A bank disabled, a file truncated, a file of another store (also
 *     one with the same banks and entry ids but other videos): not
 *     used, said why, built from the store (and saved again).
 *   - A file that cannot be written: open still succeeds, saying so.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank_testutil.h"
#include "pgtest.h"
#include "vigil/bank.h"

static char pg_uri[512];
static int have_pg;

static vigil_video_frame *make_frames(uint64_t seed, size_t n) {
  vigil_video_frame *f = calloc(n, sizeof *f);
  assert_non_null(f);
  uint64_t rng = seed;
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || i % 3 == 0) bt_random_hash(&rng, f[i].hash.bytes);
    else bt_flip(&rng, f[i - 1].hash.bytes, 4, f[i].hash.bytes);
    f[i].quality = 90;
    f[i].frame_number = (int64_t)i;
    f[i].timestamp = (double)i;
  }
  return f;
}

static uint64_t add_video(vigil_bank_store *st, const char *bank, uint64_t seed) {
  vigil_video_frame *f = make_frames(seed, 30);
  vigil_bank_entry *e = calloc(1, sizeof *e);
  assert_non_null(e);
  snprintf(e->bank, sizeof e->bank, "%s", bank);
  e->type = VIGIL_SIGNAL_VPDQ;
  e->frames = f;
  e->nframes = 30;
  vigil_error err;
  int added = 0;
  if (vigil_bank_add(st, e, &added, &err)) fail_msg("add: %s", err.message);
  assert_int_equal(added, 1);
  uint64_t id = e->id;
  free(e);
  free(f);
  return id;
}

/* The matcher m answers as one built from the store: every video seed's
 * frames find the same entries with the same counts. */
static void same_as_built(vigil_bank_matcher *m, vigil_bank_store *st, uint64_t seeds) {
  vigil_bank_matcher *b;
  assert_int_equal(vigil_bank_matcher_open(&b, st, NULL), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_videos(m), vigil_bank_matcher_videos(b));
  for (uint64_t s = 1; s <= seeds; s++) {
    vigil_video_frame *q = make_frames(s, 30);
    vigil_bank_video_hit *hm, *hb;
    size_t nm, nb;
    assert_int_equal(vigil_bank_match_video(m, q, 30, NULL, &hm, &nm, NULL), VIGIL_OK);
    assert_int_equal(vigil_bank_match_video(b, q, 30, NULL, &hb, &nb, NULL), VIGIL_OK);
    assert_int_equal(nm, nb);
    for (size_t i = 0; i < nm; i++) {
      assert_int_equal(hm[i].entry.id, hb[i].entry.id);
      assert_int_equal(hm[i].query_matched, hb[i].query_matched);
      assert_int_equal(hm[i].compared_matched, hb[i].compared_matched);
      assert_int_equal(hm[i].nsegments, hb[i].nsegments);
    }
    vigil_bank_video_hits_free(hm, nm);
    vigil_bank_video_hits_free(hb, nb);
    free(q);
  }
  vigil_bank_matcher_free(b);
}

static vigil_bank_matcher *open_file(vigil_bank_store *st, vigil_bank_index_file *f, const char *path) {
  memset(f, 0, sizeof *f);
  f->path = path;
  vigil_bank_matcher *m;
  vigil_error err;
  if (vigil_bank_matcher_open_file(&m, st, f, &err)) fail_msg("open: %s", err.message);
  return m;
}

static void copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  assert_non_null(a);
  assert_non_null(b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0) assert_int_equal(fwrite(buf, 1, n, b), n);
  fclose(a);
  assert_int_equal(fclose(b), 0);
}

static void lifecycle(vigil_bank_store *st, vigil_bank_store *other, vigil_bank_store *twin, const char *tag) {
  char path[600], early[600], name[64];
  snprintf(name, sizeof name, "%s.vpdq-index", tag);
  bt_path(path, sizeof path, name);
  snprintf(name, sizeof name, "%s-early.vpdq-index", tag);
  bt_path(early, sizeof early, name);
  unlink(path);
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "known", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "partner", NULL, &err), VIGIL_OK);
  uint64_t ids[8];
  for (uint64_t s = 1; s <= 8; s++) ids[s - 1] = add_video(st, s % 2 ? "known" : "partner", s);

  /* 1. no file: built, saved */
  vigil_bank_index_file f;
  vigil_bank_matcher *m = open_file(st, &f, path);
  assert_int_equal(f.loaded, 0);
  assert_int_equal(f.saved, 1);
  assert_non_null(strstr(f.why, "no saved video index"));
  assert_int_equal(vigil_bank_matcher_videos(m), 8);
  vigil_bank_matcher_free(m);
  assert_int_equal(access(path, R_OK), 0);

  /* 2. loaded, nothing to catch up, not rewritten */
  m = open_file(st, &f, path);
  assert_int_equal(f.loaded, 1);
  assert_int_equal(f.saved, 0);
  assert_int_equal(f.caught_up, 0);
  assert_string_equal(f.why, "");
  same_as_built(m, st, 10);
  vigil_bank_matcher_free(m);
  copy_file(path, early); /* before any removal: for the twin store below */

  /* 3. the store moved on: one video more, one removed */
  add_video(st, "known", 9);
  assert_int_equal(vigil_bank_remove_id(st, ids[2], "test", &err), VIGIL_OK);
  m = open_file(st, &f, path);
  assert_int_equal(f.loaded, 1);
  assert_int_equal(f.caught_up, 1);
  assert_int_equal(f.saved, 1); /* 1 of 8 is more than 1% */
  assert_int_equal(vigil_bank_matcher_videos(m), 8);
  same_as_built(m, st, 10);
  vigil_bank_matcher_free(m);

  /* a new bank with a video of its own: the file is still good */
  assert_int_equal(vigil_bank_create(st, "new", NULL, &err), VIGIL_OK);
  add_video(st, "new", 10);
  m = open_file(st, &f, path);
  assert_int_equal(f.loaded, 1);
  assert_int_equal(f.caught_up, 1);
  same_as_built(m, st, 10);
  vigil_bank_matcher_free(m);

  /* 4. a bank disabled: not used, built, saved; then loaded again */
  assert_int_equal(vigil_bank_set_enabled(st, "partner", 0, &err), VIGIL_OK);
  m = open_file(st, &f, path);
  assert_int_equal(f.loaded, 0);
  assert_non_null(strstr(f.why, "enabled"));
  assert_int_equal(f.saved, 1);
  same_as_built(m, st, 10);
  vigil_bank_matcher_free(m);
  m = open_file(st, &f, path);
  assert_int_equal(f.loaded, 1);
  vigil_bank_matcher_free(m);

  /* 5. truncated: refused with the loader's reason, built, saved */
  assert_int_equal(truncate(path, 1000), 0);
  m = open_file(st, &f, path);
  assert_int_equal(f.loaded, 0);
  assert_non_null(strstr(f.why, "not a valid vpdq index"));
  assert_int_equal(f.saved, 1);
  same_as_built(m, st, 10);
  vigil_bank_matcher_free(m);

  /* 6. the file of this store given to another one */
  assert_int_equal(vigil_bank_create(other, "known", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(other, "partner", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_set_enabled(other, "partner", 0, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(other, "new", NULL, &err), VIGIL_OK);
  for (uint64_t s = 21; s <= 40; s++) add_video(other, "known", s);
  m = open_file(other, &f, path);
  assert_int_equal(f.loaded, 0);
  assert_non_null(strstr(f.why, "not used")); /* the same bank ids: caught by its removals or its videos */
  same_as_built(m, other, 40);
  vigil_bank_matcher_free(m);

  /* the same banks and ids, no removals, other videos: caught by the identities */
  assert_int_equal(vigil_bank_create(twin, "known", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(twin, "partner", NULL, &err), VIGIL_OK);
  for (uint64_t s = 51; s <= 60; s++) add_video(twin, s % 2 ? "known" : "partner", s);
  m = open_file(twin, &f, early);
  assert_int_equal(f.loaded, 0);
  assert_non_null(strstr(f.why, "differ"));
  same_as_built(m, twin, 60);
  vigil_bank_matcher_free(m);
  unlink(early);

  /* 7. cannot be written: open succeeds, says so */
  m = open_file(st, &f, "/nonexistent-dir/x.vpdq-index");
  assert_int_equal(f.saved, 0);
  assert_non_null(strstr(f.why, "not saved"));
  vigil_bank_matcher_free(m);
  unlink(path);
}

static void test_sqlite(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("vfile.db"), *other = bt_store("vfile-other.db"), *twin = bt_store("vfile-twin.db");
  lifecycle(st, other, twin, "sqlite");
  vigil_bank_store_close(st);
  vigil_bank_store_close(other);
  vigil_bank_store_close(twin);
}

static void test_postgresql(void **state) {
  (void)state;
  if (!have_pg) {
    printf("PostgreSQL not installed: the PostgreSQL run skipped\n");
    return;
  }
  char loc[600], loc2[600], loc3[600];
  tu_pg_fresh_db(loc, sizeof loc);
  tu_pg_fresh_db(loc2, sizeof loc2);
  tu_pg_fresh_db(loc3, sizeof loc3);
  vigil_bank_store *st = NULL, *other = NULL, *twin = NULL;
  vigil_error err;
  if (vigil_bank_store_open(&st, loc, &err) || vigil_bank_store_open(&other, loc2, &err) ||
      vigil_bank_store_open(&twin, loc3, &err))
    fail_msg("open: %s", err.message);
  lifecycle(st, other, twin, "pg");
  vigil_bank_store_close(st);
  vigil_bank_store_close(other);
  vigil_bank_store_close(twin);
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  have_pg = tu_pg_start(pg_uri, sizeof pg_uri) == 0;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sqlite),
      cmocka_unit_test(test_postgresql),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
