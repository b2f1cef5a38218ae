/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_match.c - matching against banks: PDQ radius search with the
 * inclusive threshold, dihedral multi-queries, results in distance order
 * with metadata, bank and tag filters, enable/disable, removals that stop
 * matching (in a fresh matcher and in a live one after sync), exact MD5 and
 * SHA-256 lookups, and recall 1.0 against brute force on random data.
 */
#include "bank_testutil.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/bank.h"
#include "vigil/match.h"

static vigil_bank_store *st;
static uint64_t rng = 0x1234567;

static uint64_t add(const char *bank, vigil_signal_type t, const uint8_t *v, const char *tags, const char *ext) {
  vigil_bank_entry e;
  memset(&e, 0, sizeof e);
  snprintf(e.bank, sizeof e.bank, "%s", bank);
  e.type = t;
  e.value_len = vigil_signal_value_len(t);
  memcpy(e.value, v, e.value_len);
  snprintf(e.tags, sizeof e.tags, "%s", tags ? tags : "");
  snprintf(e.external_id, sizeof e.external_id, "%s", ext ? ext : "");
  vigil_error err;
  int added;
  if (vigil_bank_add(st, &e, &added, &err)) fail_msg("add: %s", err.message);
  assert_true(added);
  return e.id;
}

static size_t query(vigil_bank_matcher *m, const uint8_t q[32], int threshold, const vigil_bank_filter *f,
                    vigil_bank_match **out) {
  vigil_pdq_hash h;
  memcpy(h.bytes, q, 32);
  size_t n;
  vigil_error err;
  if (vigil_bank_match_pdq(m, &h, 1, threshold, f, out, &n, &err)) fail_msg("match: %s", err.message);
  return n;
}

/* The red-team case: threshold 256 made a lookup a scan of the bank.
 * Past VIGIL_BANK_MAX_THRESHOLD it is refused, before any work. */
static void test_threshold_capped(void **state) {
  (void)state;
  st = bt_store("match-cap.db");
  vigil_error err;
  vigil_bank_matcher *m;
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  vigil_pdq_hash h = {{0}};
  vigil_bank_match *out = NULL;
  size_t n = 0;
  assert_int_equal(vigil_bank_match_pdq(m, &h, 1, 256, NULL, &out, &n, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "64"));
  assert_int_equal(vigil_bank_match_pdq(m, &h, 1, VIGIL_BANK_MAX_THRESHOLD + 1, NULL, &out, &n, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_bank_match_pdq(m, &h, 1, VIGIL_BANK_MAX_THRESHOLD, NULL, &out, &n, &err), VIGIL_OK);
  free(out);
  vigil_bank_matcher_free(m);
  vigil_bank_store_close(st);
  st = NULL;
}

static void test_pdq_threshold_filters_removal(void **state) {
  (void)state;
  st = bt_store("match.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "ncmec", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "stopncii", NULL, &err), VIGIL_OK);
  uint8_t q[32], h31[32], h32[32], h5[32], h0[32], far[32];
  bt_random_hash(&rng, q);
  bt_flip(&rng, q, 31, h31);
  bt_flip(&rng, q, 32, h32);
  bt_flip(&rng, q, 5, h5);
  memcpy(h0, q, 32);
  bt_random_hash(&rng, far);
  uint64_t id31 = add("ncmec", VIGIL_SIGNAL_PDQ, h31, "csam,A1", "n-31");
  add("ncmec", VIGIL_SIGNAL_PDQ, h32, "csam", "n-32");
  uint64_t id5 = add("stopncii", VIGIL_SIGNAL_PDQ, h5, "ncii", "s-5");
  uint64_t id0 = add("stopncii", VIGIL_SIGNAL_PDQ, h0, "ncii", "s-0");
  add("ncmec", VIGIL_SIGNAL_PDQ, far, "csam", "far");
  add("ncmec", VIGIL_SIGNAL_SHA256, q, "csam", "sha-same-bytes"); /* not a PDQ entry */

  vigil_bank_matcher *m;
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_size(m), 5);
  vigil_bank_match *r;
  size_t n = query(m, q, 31, NULL, &r);
  assert_int_equal(n, 3); /* 0, 5, 31: inclusive; 32 out */
  assert_int_equal(r[0].entry.id, id0);
  assert_int_equal(r[0].distance, 0);
  assert_int_equal(r[1].entry.id, id5);
  assert_int_equal(r[1].distance, 5);
  assert_int_equal(r[2].entry.id, id31);
  assert_int_equal(r[2].distance, 31);
  assert_string_equal(r[2].entry.bank, "ncmec");
  assert_string_equal(r[2].entry.external_id, "n-31");
  assert_string_equal(r[2].entry.tags, "csam,A1");
  free(r);
  assert_int_equal(query(m, q, 32, NULL, &r), 4);
  free(r);
  assert_int_equal(query(m, q, 4, NULL, &r), 1);
  free(r);

  /* filters */
  const char *b1[] = {"ncmec"};
  vigil_bank_filter f = {b1, 1, NULL, 0};
  n = query(m, q, 31, &f, &r);
  assert_int_equal(n, 1);
  assert_int_equal(r[0].entry.id, id31);
  free(r);
  const char *t1[] = {"ncii"};
  vigil_bank_filter ft = {NULL, 0, t1, 1};
  assert_int_equal(query(m, q, 31, &ft, &r), 2);
  free(r);
  const char *t2[] = {"A1", "nothing"};
  vigil_bank_filter ft2 = {NULL, 0, t2, 2};
  n = query(m, q, 32, &ft2, &r);
  assert_int_equal(n, 1);
  assert_int_equal(r[0].entry.id, id31);
  free(r);
  vigil_bank_filter fboth = {b1, 1, t1, 1}; /* ncmec entries have no ncii tag */
  assert_int_equal(query(m, q, 32, &fboth, &r), 0);
  free(r);

  /* removal: the live matcher drops it on sync, a new one never loads it */
  assert_int_equal(vigil_bank_remove_id(st, id5, "withdrawn", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_size(m), 4);
  n = query(m, q, 31, NULL, &r);
  assert_int_equal(n, 2);
  assert_int_equal(r[0].entry.id, id0);
  assert_int_equal(r[1].entry.id, id31);
  free(r);
  vigil_bank_matcher *m2;
  assert_int_equal(vigil_bank_matcher_open(&m2, st, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_size(m2), 4);
  assert_int_equal(query(m2, q, 31, NULL, &r), 2);
  free(r);
  vigil_bank_matcher_free(m2);

  /* a new entry reaches the live matcher on sync, without a reload */
  uint8_t h7[32];
  bt_flip(&rng, q, 7, h7);
  uint64_t id7 = add("ncmec", VIGIL_SIGNAL_PDQ, h7, "csam", "n-7");
  assert_int_equal(query(m, q, 31, NULL, &r), 2); /* not yet */
  free(r);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  n = query(m, q, 31, NULL, &r);
  assert_int_equal(n, 3);
  assert_int_equal(r[1].entry.id, id7);
  free(r);

  /* disable / enable */
  assert_int_equal(vigil_bank_set_enabled(st, "stopncii", 0, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  n = query(m, q, 31, NULL, &r);
  assert_int_equal(n, 2);
  assert_string_equal(r[0].entry.bank, "ncmec");
  free(r);
  assert_int_equal(vigil_bank_set_enabled(st, "stopncii", 1, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  assert_int_equal(query(m, q, 31, NULL, &r), 3);
  free(r);
  /* drop */
  assert_int_equal(vigil_bank_drop(st, "stopncii", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  assert_int_equal(query(m, q, 31, NULL, &r), 2);
  free(r);
  vigil_bank_matcher_free(m);
  vigil_bank_store_close(st);
}

static void test_dihedral_multi(void **state) {
  (void)state;
  st = bt_store("dih.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  /* eight unrelated query hashes stand for the variants of one picture */
  vigil_pdq_hash qs[8];
  for (int v = 0; v < 8; v++) bt_random_hash(&rng, qs[v].bytes);
  uint8_t near3[32];
  bt_flip(&rng, qs[5].bytes, 3, near3); /* close to variant 5 only */
  uint64_t id = add("b", VIGIL_SIGNAL_PDQ, near3, "", "mirror");
  uint8_t near20[32];
  bt_flip(&rng, qs[2].bytes, 20, near20);
  uint64_t id2 = add("b", VIGIL_SIGNAL_PDQ, near20, "", "rot180");
  vigil_bank_matcher *m;
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  vigil_bank_match *r;
  size_t n;
  assert_int_equal(vigil_bank_match_pdq(m, qs, 1, 31, NULL, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  free(r);
  assert_int_equal(vigil_bank_match_pdq(m, qs, 8, 31, NULL, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(r[0].entry.id, id);
  assert_int_equal(r[0].distance, 3);
  assert_int_equal(r[0].variant, 5);
  assert_int_equal(r[1].entry.id, id2);
  assert_int_equal(r[1].variant, 2);
  free(r);
  assert_int_equal(vigil_bank_match_pdq(m, qs, 9, 31, NULL, &r, &n, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_bank_match_pdq(m, qs, 1, 257, NULL, &r, &n, &err), VIGIL_EINVAL);
  vigil_bank_matcher_free(m);
  vigil_bank_store_close(st);
}

static void test_exact(void **state) {
  (void)state;
  st = bt_store("exact.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "a", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  uint8_t md5[32] = {0}, sha[32];
  bt_random_hash(&rng, md5);
  memset(md5 + 16, 0, 16);
  bt_random_hash(&rng, sha);
  uint64_t ia = add("a", VIGIL_SIGNAL_MD5, md5, "csam", "a-md5");
  uint64_t ib = add("b", VIGIL_SIGNAL_MD5, md5, "ncii", "b-md5");
  uint64_t is = add("a", VIGIL_SIGNAL_SHA256, sha, "csam", "a-sha");
  vigil_bank_match *r;
  size_t n;
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_MD5, md5, NULL, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(r[0].entry.id, ia);
  assert_int_equal(r[1].entry.id, ib);
  assert_int_equal(r[0].distance, 0);
  free(r);
  /* the same bytes as another type do not match */
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_SHA256, md5, NULL, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  free(r);
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_SHA256, sha, NULL, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(r[0].entry.id, is);
  assert_string_equal(r[0].entry.external_id, "a-sha");
  free(r);
  const char *tb[] = {"ncii"};
  vigil_bank_filter f = {NULL, 0, tb, 1};
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_MD5, md5, &f, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(r[0].entry.id, ib);
  free(r);
  assert_int_equal(vigil_bank_set_enabled(st, "b", 0, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_MD5, md5, NULL, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  free(r);
  assert_int_equal(vigil_bank_remove_id(st, ia, "gone", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_MD5, md5, NULL, &r, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  free(r);
  vigil_bank_store_close(st);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Recall against brute force over the store's own rows, with clustered
 * near-duplicates planted around a few centres. */
static void test_recall_vs_brute_force(void **state) {
  (void)state;
  st = bt_store("recall.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  enum { N = 3000, NC = 10 };
  uint8_t (*hs)[32] = malloc(N * sizeof *hs);
  uint64_t *ids = malloc(N * sizeof *ids);
  assert_non_null(hs);
  assert_non_null(ids);
  uint8_t centres[NC][32];
  for (int c = 0; c < NC; c++) bt_random_hash(&rng, centres[c]);
  char text[200];
  char p[600];
  bt_path(p, sizeof p, "recall.txt");
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  for (int i = 0; i < N; i++) {
    if (i % 3 == 0) bt_random_hash(&rng, hs[i]);
    else bt_flip(&rng, centres[i % NC], (int)(tu_rand(&rng) % 48), hs[i]);
    char hex[65];
    vigil_signal_to_hex(hs[i], 32, hex);
    snprintf(text, sizeof text, "pdq %s\n", hex);
    fputs(text, f);
  }
  fclose(f);
  f = fopen(p, "rb");
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  o.format = VIGIL_BANK_FMT_TE;
  vigil_bank_import_report rep;
  assert_int_equal(vigil_bank_import(st, "b", f, &o, &rep, &err), VIGIL_OK);
  fclose(f);
  vigil_bank_import_report_free(&rep);
  size_t distinct = (size_t)(rep.added);
  vigil_bank_matcher *m;
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_size(m), distinct);
  for (int k = 0; k < 60; k++) {
    uint8_t q[32];
    if (k % 2) bt_flip(&rng, centres[k % NC], (int)(tu_rand(&rng) % 20), q);
    else bt_random_hash(&rng, q);
    int thr = 31;
    vigil_bank_match *r;
    size_t n = query(m, q, thr, NULL, &r);
    /* brute force over the stored values */
    uint64_t *want = malloc(N * sizeof *want);
    size_t nw = 0;
    vigil_pdq_hash qh;
    memcpy(qh.bytes, q, 32);
    for (uint64_t id = 1; id <= distinct; id++) {
      vigil_bank_entry e;
      assert_int_equal(vigil_bank_entry_get(st, id, &e, &err), VIGIL_OK);
      vigil_pdq_hash eh;
      memcpy(eh.bytes, e.value, 32);
      if (vigil_pdq_distance(&qh, &eh) <= thr) want[nw++] = id;
    }
    assert_int_equal(n, nw);
    uint64_t *got = malloc((n ? n : 1) * sizeof *got);
    for (size_t i = 0; i < n; i++) {
      got[i] = r[i].entry.id;
      if (i) assert_true(r[i - 1].distance <= r[i].distance);
    }
    qsort(got, n, sizeof *got, cmp_u64);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i], want[i]);
    free(got);
    free(want);
    free(r);
  }
  vigil_bank_matcher_free(m);
  free(hs);
  free(ids);
  vigil_bank_store_close(st);
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pdq_threshold_filters_removal), cmocka_unit_test(test_threshold_capped),
      cmocka_unit_test(test_dihedral_multi),
      cmocka_unit_test(test_exact),
      cmocka_unit_test(test_recall_vs_brute_force),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
