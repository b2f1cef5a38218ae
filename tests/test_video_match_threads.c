/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_match_threads.c - queries from several threads at once on one
 * vPDQ index give the single-threaded answers, as vigil/video.h promises.
 * Labelled `threads` (tests/CMakeLists.txt), so make check runs it under
 * ThreadSanitizer as well; kept small for that.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/video.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void flip(vigil_pdq_hash *h, int bits) {
  for (int i = 0; i < bits; i++) {
    int b = (int)(next() % 256);
    h->bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
}

static vigil_pdq_hash random_hash(void) {
  vigil_pdq_hash h;
  for (int i = 0; i < 32; i++) h.bytes[i] = (uint8_t)next();
  return h;
}

#define NV 40
#define MAXF 60

typedef struct bank {
  vigil_video_frame f[NV][MAXF];
  size_t n[NV];
} bank;

/* Videos made of runs of mutated frames from a small pool of scenes, so
 * hashes repeat within and across videos and distances cluster. */
static void make_bank(bank *bk, vigil_pdq_hash *pool, size_t npool) {
  for (int v = 0; v < NV; v++) {
    size_t n = 5 + next() % (MAXF - 5);
    bk->n[v] = n;
    vigil_pdq_hash cur = pool[next() % npool];
    for (size_t i = 0; i < n; i++) {
      if (next() % 6 == 0) cur = pool[next() % npool];
      vigil_pdq_hash h = cur;
      if (next() % 3) flip(&h, (int)(next() % 20));
      bk->f[v][i] = (vigil_video_frame){(int64_t)i, (int)(next() % 5 ? 50 + next() % 51 : next() % 50), h, (double)i};
    }
  }
}

typedef struct worker {
  const vigil_vpdq_index *ix;
  const vigil_video_frame *q;
  size_t nq;
  vigil_vpdq_result *res;
  size_t nres;
  int rc;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  for (int rep = 0; rep < 3; rep++) {
    vigil_vpdq_results_free(w->res, w->nres);
    w->res = NULL;
    w->rc = vigil_vpdq_index_query(w->ix, w->q, w->nq, NULL, &w->res, &w->nres, NULL);
    if (w->rc) break;
  }
  return NULL;
}

static void same_results(const vigil_vpdq_result *a, size_t na, const vigil_vpdq_result *b, size_t nb) {
  assert_int_equal(na, nb);
  for (size_t i = 0; i < na; i++) {
    assert_true(a[i].id == b[i].id && a[i].query_matched == b[i].query_matched &&
                a[i].compared_matched == b[i].compared_matched && a[i].nsegments == b[i].nsegments);
    for (size_t s = 0; s < a[i].nsegments; s++)
      assert_memory_equal(&a[i].segments[s], &b[i].segments[s], sizeof a[i].segments[s]);
  }
}

static void test_concurrent_queries(void **state) {
  (void)state;
  static bank bk;
  vigil_pdq_hash pool[12];
  for (int i = 0; i < 12; i++) pool[i] = random_hash();
  make_bank(&bk, pool, 12);
  vigil_vpdq_index *ix = NULL;
  assert_int_equal(vigil_vpdq_index_new(&ix, NULL), VIGIL_OK);
  for (int v = 0; v < NV; v++)
    assert_int_equal(vigil_vpdq_index_add(ix, 100 + (uint64_t)v, bk.f[v], bk.n[v], NULL), VIGIL_OK);
  enum { NT = 4 };
  static vigil_video_frame qs[NT][MAXF];
  worker w[NT];
  pthread_t th[NT];
  for (int t = 0; t < NT; t++) {
    int v = t * 7 % NV;
    for (size_t i = 0; i < bk.n[v]; i++) {
      qs[t][i] = bk.f[v][i];
      qs[t][i].quality = 90;
    }
    w[t] = (worker){ix, qs[t], bk.n[v], NULL, 0, 0};
  }
  for (int t = 0; t < NT; t++) assert_int_equal(pthread_create(&th[t], NULL, work, &w[t]), 0);
  for (int t = 0; t < NT; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
  for (int t = 0; t < NT; t++) {
    assert_int_equal(w[t].rc, VIGIL_OK);
    assert_true(w[t].nres >= 1 && w[t].res[0].match); /* finds its own video */
    vigil_vpdq_result *one = NULL;
    size_t n1 = 0;
    assert_int_equal(vigil_vpdq_index_query(ix, w[t].q, w[t].nq, NULL, &one, &n1, NULL), VIGIL_OK);
    same_results(one, n1, w[t].res, w[t].nres);
    vigil_vpdq_results_free(one, n1);
    vigil_vpdq_results_free(w[t].res, w[t].nres);
  }
  vigil_vpdq_index_free(ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_concurrent_queries)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
