/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_match_store.c - the PDQ index under change and on disk:
 *   - add / replace / remove churn against a mirror array: structure
 *     invariants hold, queries equal brute force, memory stops growing;
 *   - save and load (mmap) give the same answers, and a loaded index can be
 *     changed (it is copied off the mapping first);
 *   - damaged files (truncated, flipped bytes, bad magic or version, fields
 *     that point outside the file even with valid checksums) are refused
 *     with an error, never a crash;
 *   - argument errors;
 *   - concurrent queries from several threads.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "match/match_internal.h"
#include "vigil/match.h"

static uint64_t rng = 0xfeedface12345678ull;

static void rand_hash(vigil_pdq_hash *h) {
  for (int i = 0; i < 32; i += 8) {
    uint64_t r = tu_rand(&rng);
    memcpy(h->bytes + i, &r, 8);
  }
}

static void near(vigil_pdq_hash *h, const vigil_pdq_hash *c, int d) {
  *h = *c;
  for (int i = 0; i < d; i++) {
    int b = (int)(tu_rand(&rng) % 256);
    h->bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
}

/* Mirror: what the index should hold. */
typedef struct mirror {
  vigil_pdq_hash *h;
  uint64_t *id;
  size_t n;
} mirror;

static int cmp_hit(const void *a, const void *b) {
  const vigil_pdq_hit *x = a, *y = b;
  if (x->distance != y->distance) return x->distance - y->distance;
  return (x->id > y->id) - (x->id < y->id);
}

static void check_query(const vigil_pdq_index *ix, const mirror *m, const vigil_pdq_hash *q, int r) {
  vigil_pdq_hit *want = malloc((m->n + 1) * sizeof *want);
  assert_non_null(want);
  size_t nw = 0;
  for (size_t i = 0; i < m->n; i++) {
    int d = vigil_pdq_distance(&m->h[i], q);
    if (d <= r) {
      want[nw].id = m->id[i];
      want[nw++].distance = d;
    }
  }
  qsort(want, nw, sizeof *want, cmp_hit);
  vigil_pdq_hit *got;
  size_t ng;
  assert_int_equal(vigil_pdq_index_query(ix, q, r, &got, &ng, NULL), VIGIL_OK);
  assert_int_equal(ng, nw);
  for (size_t i = 0; i < nw; i++) {
    assert_int_equal(got[i].id, want[i].id);
    assert_int_equal(got[i].distance, want[i].distance);
  }
  free(got);
  free(want);
}

static void check_all(const vigil_pdq_index *ix, const mirror *m, int nq) {
  vigil_error e;
  int rc = vigil__pdq_index_check(ix, &e);
  if (rc) printf("%s\n", e.message);
  assert_int_equal(rc, VIGIL_OK);
  assert_int_equal(vigil_pdq_index_size(ix), m->n);
  for (int k = 0; k < nq && m->n; k++) {
    vigil_pdq_hash q;
    near(&q, &m->h[tu_rand(&rng) % m->n], (int)(tu_rand(&rng) % 36));
    check_query(ix, m, &q, 31);
    check_query(ix, m, &q, 12);
  }
}

static void mirror_put(mirror *m, const vigil_pdq_hash *h, uint64_t id) {
  for (size_t i = 0; i < m->n; i++)
    if (m->id[i] == id) {
      m->h[i] = *h;
      return;
    }
  m->h[m->n] = *h;
  m->id[m->n++] = id;
}

static void mirror_del(mirror *m, size_t i) {
  m->h[i] = m->h[m->n - 1];
  m->id[i] = m->id[m->n - 1];
  m->n--;
}

#define CHURN_N 20000

static void test_churn(void **state) {
  (void)state;
  mirror m = {malloc(3 * CHURN_N * sizeof(vigil_pdq_hash)), malloc(3 * CHURN_N * sizeof(uint64_t)), 0};
  assert_non_null(m.h);
  assert_non_null(m.id);
  vigil_pdq_index *ix;
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  uint64_t next_id = 1;
  /* Clusters, so that buckets grow and shrink through several classes. */
  vigil_pdq_hash centers[64];
  for (int i = 0; i < 64; i++) rand_hash(&centers[i]);
  for (int i = 0; i < CHURN_N; i++) {
    vigil_pdq_hash h;
    near(&h, &centers[i % 64], (int)(tu_rand(&rng) % 40));
    assert_int_equal(vigil_pdq_index_add(ix, &h, next_id, NULL), VIGIL_OK);
    mirror_put(&m, &h, next_id++);
  }
  check_all(ix, &m, 20);
  size_t mem[8];
  for (int phase = 0; phase < 8; phase++) {
    for (int op = 0; op < 15000; op++) {
      uint64_t r = tu_rand(&rng) % 10;
      if (r < 4 && m.n) { /* remove */
        size_t i = tu_rand(&rng) % m.n;
        assert_int_equal(vigil_pdq_index_remove(ix, m.id[i], NULL), VIGIL_OK);
        mirror_del(&m, i);
      } else if (r < 5 && m.n) { /* replace the hash of a present id */
        size_t i = tu_rand(&rng) % m.n;
        vigil_pdq_hash h;
        near(&h, &centers[tu_rand(&rng) % 64], (int)(tu_rand(&rng) % 40));
        assert_int_equal(vigil_pdq_index_add(ix, &h, m.id[i], NULL), VIGIL_OK);
        m.h[i] = h;
      } else if (m.n < CHURN_N + 2000) { /* add */
        vigil_pdq_hash h;
        near(&h, &centers[tu_rand(&rng) % 64], (int)(tu_rand(&rng) % 40));
        assert_int_equal(vigil_pdq_index_add(ix, &h, next_id, NULL), VIGIL_OK);
        mirror_put(&m, &h, next_id++);
      }
    }
    check_all(ix, &m, 10);
    mem[phase] = vigil_pdq_index_memory(ix);
    printf("phase %d: %zu entries, %zu bytes\n", phase, m.n, mem[phase]);
  }
  /* Steady size over five turnovers of the whole index: memory levels off
   * (free blocks are reused; at most one more 1.5x step of a pool). */
  assert_true(mem[7] <= mem[1] + mem[1] / 2);
  assert_true(mem[7] <= mem[4] + mem[4] / 4);
  /* Removing an absent id. */
  vigil_error e;
  assert_int_equal(vigil_pdq_index_remove(ix, next_id + 5, &e), VIGIL_ENOTFOUND);
  /* Remove everything, then the index still works. */
  while (m.n) {
    assert_int_equal(vigil_pdq_index_remove(ix, m.id[m.n - 1], NULL), VIGIL_OK);
    m.n--;
  }
  check_all(ix, &m, 0);
  vigil_pdq_hash q;
  rand_hash(&q);
  check_query(ix, &m, &q, 31);
  vigil_pdq_index_free(ix);
  free(m.h);
  free(m.id);
}

static char tmpdir[] = "/tmp/vigil-match-XXXXXX";

static void roundtrip(size_t n) {
  mirror m = {malloc((n + 1) * sizeof(vigil_pdq_hash)), malloc((n + 1) * sizeof(uint64_t)), 0};
  assert_non_null(m.h);
  assert_non_null(m.id);
  for (size_t i = 0; i < n; i++) {
    if (i % 5 == 4) near(&m.h[i], &m.h[i - 1], (int)(i % 30));
    else rand_hash(&m.h[i]);
    m.id[i] = i * 3 + 1;
  }
  m.n = n;
  vigil_pdq_index *ix, *lx;
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_add_batch(ix, m.h, m.id, n, NULL), VIGIL_OK);
  /* Some churn first, so the pools have free blocks that save must pack. */
  for (size_t i = 0; i + 10 < n && i < 300; i += 3) {
    assert_int_equal(vigil_pdq_index_remove(ix, m.id[i], NULL), VIGIL_OK);
    mirror_del(&m, i);
  }
  char path[256];
  snprintf(path, sizeof path, "%s/ix-%zu.vpi", tmpdir, n);
  vigil_error e;
  assert_int_equal(vigil_pdq_index_save(ix, path, &e), VIGIL_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600); /* it lists known content: its owner's only */
  int rc = vigil_pdq_index_load(&lx, path, &e);
  if (rc) printf("%s\n", e.message);
  assert_int_equal(rc, VIGIL_OK);
  assert_int_equal(vigil_pdq_index_size(lx), m.n);
  check_all(lx, &m, 20);
  /* Change the loaded index: it leaves the mapping. */
  vigil_pdq_hash h;
  rand_hash(&h);
  assert_int_equal(vigil_pdq_index_add(lx, &h, 999999999, NULL), VIGIL_OK);
  mirror_put(&m, &h, 999999999);
  if (m.n > 1) {
    assert_int_equal(vigil_pdq_index_remove(lx, m.id[0], NULL), VIGIL_OK);
    mirror_del(&m, 0);
  }
  check_all(lx, &m, 20);
  /* Saved again, over the old file. */
  assert_int_equal(vigil_pdq_index_save(lx, path, NULL), VIGIL_OK);
  vigil_pdq_index_free(lx);
  assert_int_equal(vigil_pdq_index_load(&lx, path, NULL), VIGIL_OK);
  check_all(lx, &m, 10);
  vigil_pdq_index_free(lx);
  vigil_pdq_index_free(ix);
  unlink(path);
  free(m.h);
  free(m.id);
}

static void test_save_load(void **state) {
  (void)state;
  roundtrip(0);
  roundtrip(500);   /* no tables yet */
  roundtrip(40000); /* tables */
}

static int write_file(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(b, 1, n, f);
  fclose(f);
  return w == n ? 0 : -1;
}

static void expect_refused(const char *path, const uint8_t *b, size_t n, int code, const char *what) {
  assert_int_equal(write_file(path, b, n), 0);
  vigil_pdq_index *ix = (vigil_pdq_index *)1;
  vigil_error e;
  int rc = vigil_pdq_index_load(&ix, path, &e);
  printf("%-28s -> %s\n", what, rc ? e.message : "accepted");
  assert_int_equal(rc, code);
  assert_null(ix);
}

static void test_corrupt(void **state) {
  (void)state;
  size_t n = 5000;
  vigil_pdq_hash *h = malloc(n * sizeof *h);
  uint64_t *id = malloc(n * sizeof *id);
  assert_non_null(h);
  assert_non_null(id);
  for (size_t i = 0; i < n; i++) {
    rand_hash(&h[i]);
    id[i] = i;
  }
  vigil_pdq_index *ix;
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_add_batch(ix, h, id, n, NULL), VIGIL_OK);
  char path[256], bad[256];
  snprintf(path, sizeof path, "%s/good.vpi", tmpdir);
  snprintf(bad, sizeof bad, "%s/bad.vpi", tmpdir);
  assert_int_equal(vigil_pdq_index_save(ix, path, NULL), VIGIL_OK);
  size_t len;
  uint8_t *file = tu_slurp(path, &len);
  assert_non_null(file);
  uint8_t *b = malloc(len);
  assert_non_null(b);

  expect_refused(bad, file, 0, VIGIL_ECORRUPT, "empty");
  expect_refused(bad, file, 100, VIGIL_ECORRUPT, "short header");
  expect_refused(bad, file, len - 64, VIGIL_ECORRUPT, "truncated");
  memcpy(b, file, len);
  b[0] ^= 1;
  expect_refused(bad, b, len, VIGIL_ECORRUPT, "magic");
  memcpy(b, file, len);
  b[8] = 99;
  vigil__pdq_file_reseal(b, len);
  expect_refused(bad, b, len, VIGIL_EFORMAT, "version");
  memcpy(b, file, len);
  b[30] ^= 4; /* inside n */
  expect_refused(bad, b, len, VIGIL_ECORRUPT, "header byte");
  for (size_t off = 256; off < len; off += len / 7) {
    memcpy(b, file, len);
    b[off] ^= 0x10;
    expect_refused(bad, b, len, VIGIL_ECORRUPT, "payload byte");
  }
  /* Valid checksums, hostile contents. */
  size_t hashes = (n * 32 + 63) / 64 * 64, ids = (n * 8 + 63) / 64 * 64;
  uint64_t *hdr0 = (uint64_t *)(b + 256 + hashes + ids);
  memcpy(b, file, len);
  hdr0[5] = vigil__hdr_pack(0xfffffff0u, 3, 4); /* block past the pool */
  vigil__pdq_file_reseal(b, len);
  expect_refused(bad, b, len, VIGIL_ECORRUPT, "bucket offset");
  memcpy(b, file, len);
  hdr0[5] = vigil__hdr_pack(0, 9, 3); /* len above capacity */
  vigil__pdq_file_reseal(b, len);
  expect_refused(bad, b, len, VIGIL_ECORRUPT, "bucket length");
  memcpy(b, file, len);
  {
    size_t nb = (size_t)1 << ix->bits;
    uint32_t *pool0 = (uint32_t *)((uint8_t *)hdr0 + nb * 8);
    size_t k = 0;
    while (vigil__hdr_len(hdr0[k]) == 0) k++;
    pool0[vigil__hdr_off(hdr0[k])] = (uint32_t)n + 5; /* slot out of range */
  }
  vigil__pdq_file_reseal(b, len);
  expect_refused(bad, b, len, VIGIL_ECORRUPT, "slot number");
  memcpy(b, file, len);
  uint64_t big = 1ull << 40;
  memcpy(b + 24, &big, 8); /* n */
  vigil__pdq_file_reseal(b, len);
  expect_refused(bad, b, len, VIGIL_ECORRUPT, "huge n");
  /* Random garbage of the right size. */
  for (size_t i = 256; i < len; i++) b[i] = (uint8_t)tu_rand(&rng);
  vigil__pdq_file_reseal(b, len);
  vigil_pdq_index *gx = NULL;
  int rc = vigil_pdq_index_load(&gx, bad, NULL);
  (void)rc; /* either refused or (vanishingly unlikely) queryable without crashing */
  if (gx) vigil_pdq_index_free(gx);
  /* Missing file. */
  snprintf(bad, sizeof bad, "%s/none.vpi", tmpdir);
  assert_int_equal(vigil_pdq_index_load(&gx, bad, NULL), VIGIL_ENOTFOUND);
  /* The good file still loads. */
  assert_int_equal(vigil_pdq_index_load(&gx, path, NULL), VIGIL_OK);
  vigil_pdq_index_free(gx);
  unlink(path);
  snprintf(bad, sizeof bad, "%s/bad.vpi", tmpdir);
  unlink(bad);
  free(b);
  free(file);
  free(h);
  free(id);
  vigil_pdq_index_free(ix);
}

static void test_args(void **state) {
  (void)state;
  vigil_pdq_index *ix;
  vigil_error e;
  assert_int_equal(vigil_pdq_index_new(NULL, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  vigil_pdq_hash q;
  rand_hash(&q);
  vigil_pdq_hit *hits = (vigil_pdq_hit *)1;
  size_t nh = 7;
  assert_int_equal(vigil_pdq_index_query(ix, &q, 31, &hits, &nh, NULL), VIGIL_OK);
  assert_null(hits);
  assert_int_equal(nh, 0);
  assert_int_equal(vigil_pdq_index_add(ix, &q, 42, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_query(ix, &q, -1, &hits, &nh, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_pdq_index_query(ix, &q, 257, &hits, &nh, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_pdq_index_query_multi(ix, &q, 0, 31, &hits, &nh, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_pdq_index_query(ix, &q, 0, &hits, &nh, NULL), VIGIL_OK);
  assert_int_equal(nh, 1);
  assert_int_equal(hits[0].id, 42);
  assert_int_equal(hits[0].distance, 0);
  free(hits);
  /* Replacing the hash of an id. */
  vigil_pdq_hash q2 = q;
  q2.bytes[0] ^= 0xff;
  assert_int_equal(vigil_pdq_index_add(ix, &q2, 42, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_size(ix), 1);
  assert_int_equal(vigil_pdq_index_query(ix, &q, 31, &hits, &nh, NULL), VIGIL_OK);
  assert_int_equal(nh, 1);
  assert_int_equal(hits[0].distance, 8);
  free(hits);
  assert_int_equal(vigil_pdq_index_add(ix, NULL, 1, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_pdq_index_save(ix, "/nonexistent-dir/x.vpi", &e), VIGIL_EIO);
  assert_true(vigil_pdq_index_memory(ix) > 0);
  vigil_pdq_index_free(ix);
  vigil_pdq_index_free(NULL);
  assert_int_equal(vigil_pdq_index_size(NULL), 0);
}

/* Queries from several threads at once on one index (each thread has its
 * own scratch, freed when it exits) give the single-threaded answers. */
typedef struct thread_job {
  const vigil_pdq_index *ix;
  const vigil_pdq_hash *q;
  const size_t *want;
  int nq, bad;
} thread_job;

static void *thread_main(void *arg) {
  thread_job *j = arg;
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < j->nq; i++) {
      vigil_pdq_hit *h;
      size_t n;
      if (vigil_pdq_index_query(j->ix, &j->q[i], 31, &h, &n, NULL) || n != j->want[i]) j->bad++;
      free(h);
    }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  enum { N = 30000, NQ = 40, NT = 4 };
  vigil_pdq_hash *h = malloc(N * sizeof *h);
  uint64_t *id = malloc(N * sizeof *id);
  assert_non_null(h);
  assert_non_null(id);
  for (size_t i = 0; i < N; i++) {
    if (i % 3 == 2) near(&h[i], &h[i - 1], 20);
    else rand_hash(&h[i]);
    id[i] = i;
  }
  vigil_pdq_index *ix;
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_add_batch(ix, h, id, N, NULL), VIGIL_OK);
  vigil_pdq_hash q[NQ];
  size_t want[NQ];
  for (int i = 0; i < NQ; i++) {
    near(&q[i], &h[(size_t)i * 701 % N], i % 30);
    vigil_pdq_hit *hits;
    assert_int_equal(vigil_pdq_index_query(ix, &q[i], 31, &hits, &want[i], NULL), VIGIL_OK);
    free(hits);
  }
  pthread_t th[NT];
  thread_job jobs[NT];
  for (int t = 0; t < NT; t++) {
    jobs[t] = (thread_job){ix, q, want, NQ, 0};
    assert_int_equal(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
  }
  for (int t = 0; t < NT; t++) {
    assert_int_equal(pthread_join(th[t], NULL), 0);
    assert_int_equal(jobs[t].bad, 0);
  }
  vigil_pdq_index_free(ix);
  free(h);
  free(id);
}

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return rmdir(tmpdir);
}

/* A loaded index of 0 or 1 entries grows when entries are added (its
 * capacity was 1, which growing by half never raised). */
static void test_load_tiny_then_grow(void **state) {
  (void)state;
  for (size_t start = 0; start < 2; start++) {
    vigil_pdq_index *ix, *lx;
    assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
    vigil_pdq_hash h[4];
    for (size_t i = 0; i < 4; i++) rand_hash(&h[i]);
    for (size_t i = 0; i < start; i++) assert_int_equal(vigil_pdq_index_add(ix, &h[i], i, NULL), VIGIL_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/tiny-%zu.vpi", tmpdir, start);
    assert_int_equal(vigil_pdq_index_save(ix, path, NULL), VIGIL_OK);
    assert_int_equal(vigil_pdq_index_load(&lx, path, NULL), VIGIL_OK);
    for (size_t i = start; i < 4; i++) assert_int_equal(vigil_pdq_index_add(lx, &h[i], i, NULL), VIGIL_OK);
    assert_int_equal(vigil_pdq_index_size(lx), 4);
    vigil_pdq_hit *hits;
    size_t n;
    assert_int_equal(vigil_pdq_index_query(lx, &h[3], 0, &hits, &n, NULL), VIGIL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].id, 3);
    free(hits);
    vigil_pdq_index_free(ix);
    vigil_pdq_index_free(lx);
    unlink(path);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_churn),
      cmocka_unit_test(test_save_load),
      cmocka_unit_test(test_load_tiny_then_grow),
      cmocka_unit_test(test_corrupt),
      cmocka_unit_test(test_args),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
