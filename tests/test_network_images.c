/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_network_images.c - image links through the PDQ radius index: the
 * groups equal those of a plain pairwise scan done here, on families of
 * near-duplicate hashes (chains included, where a and c link only through
 * b) among unrelated ones.  The linker once compared every new image hash
 * with every earlier one (10,000 ads: 48 s); it now asks an index.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network/net_internal.h"
#include "vigil/match.h"
#include "vigil/network.h"

#define N 1000

static vigil_pdq_hash hashes[N];
static int parent[N];

static int find(int a) {
  while (parent[a] != a) a = parent[a] = parent[parent[a]];
  return a;
}

static void test_groups_equal_pairwise_scan(void **state) {
  (void)state;
  uint64_t rs = 7;
  /* 60 families of 8: each a random base, members 0..10 bits away from
   * the previous member (a chain), then 520 unrelated hashes */
  for (int i = 0; i < N; i++) {
    if (i < 480 && i % 8) {
      hashes[i] = hashes[i - 1];
      int flips = (int)(tu_rand(&rs) % 11);
      for (int f = 0; f < flips; f++) {
        int bit = (int)(tu_rand(&rs) % 256);
        hashes[i].bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      }
    } else {
      for (int b = 0; b < 32; b++) hashes[i].bytes[b] = (uint8_t)tu_rand(&rs);
    }
  }
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.extractor = vigil_link_builtin_extractor(); /* images are the point; no pattern database to build */
  vigil_linker *l;
  vigil_error err;
  assert_int_equal(vigil_linker_new(&l, &o, &err), VIGIL_OK);
  size_t cap = (size_t)N * 160, len = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  for (int i = 0; i < N; i++) {
    char hex[65];
    vigil_pdq_to_hex(&hashes[i], hex);
    len += (size_t)snprintf(buf + len, cap - len, "{\"id\":\"ad%d\",\"text\":\"w%llx\",\"images\":[\"%s\"]}\n", i,
                            (unsigned long long)tu_rand(&rs), hex);
  }
  assert_int_equal(vigil_linker_add_jsonl(l, buf, len, NULL, &err), VIGIL_OK);
  free(buf);
  /* every distinct image hash is in the index */
  assert_non_null(l->img_ix);
  assert_true(vigil_pdq_index_size(l->img_ix) > 0);
  assert_int_equal(vigil_linker_group(l, &err), VIGIL_OK);
  /* the independent answer: every pair within the distance */
  for (int i = 0; i < N; i++) parent[i] = i;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < i; j++)
      if (vigil_pdq_distance(&hashes[i], &hashes[j]) <= o.pdq_distance) parent[find(i)] = find(j);
  long *grp = malloc(N * sizeof *grp);
  assert_non_null(grp);
  for (int i = 0; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "ad%d", i);
    size_t rank;
    grp[i] = vigil_linker_group_of(l, id, &rank, &err) == VIGIL_OK ? (long)rank : -1;
  }
  int linked = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < i; j++) {
      int same_scan = find(i) == find(j), same_linker = grp[i] >= 0 && grp[i] == grp[j];
      if (same_scan != same_linker) fail_msg("ad%d and ad%d: scan says %d, linker %d", i, j, same_scan, same_linker);
      linked += same_scan;
    }
  assert_true(linked >= 60 * 7); /* the families did link */
  free(grp);
  vigil_linker_free(l);
}

static int polls;
static int cancel_after_one(void *arg) {
  (void)arg;
  return ++polls > 1;
}

/* A server stops linking when its client leaves or it is stopping: the
 * linker polls the caller's cancel function and stops with "cancelled". */
static void test_cancelled(void **state) {
  (void)state;
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.threads = 1;
  o.extractor = vigil_link_builtin_extractor();
  o.cancelled = cancel_after_one;
  vigil_linker *l;
  vigil_error err;
  assert_int_equal(vigil_linker_new(&l, &o, &err), VIGIL_OK);
  size_t cap = 5000 * 64, len = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  for (int i = 0; i < 5000; i++) len += (size_t)snprintf(buf + len, cap - len, "{\"id\":\"x%d\",\"text\":\"t%d\"}\n", i, i);
  polls = 0;
  assert_int_equal(vigil_linker_add_jsonl(l, buf, len, NULL, &err), VIGIL_EIO);
  assert_string_equal(err.message, "cancelled");
  assert_true(vigil_linker_ad_count(l) < 5000);
  assert_int_equal(vigil_linker_group(l, &err), VIGIL_EIO);
  free(buf);
  vigil_linker_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_groups_equal_pairwise_scan),
                                     cmocka_unit_test(test_cancelled)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
