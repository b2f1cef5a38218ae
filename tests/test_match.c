/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_match.c - the PDQ index returns exactly what a brute-force scan
 * returns (recall and precision 1.0, same distances, same order) on three
 * data shapes, for thresholds from 0 to 256, on every kernel path the CPU
 * can run and with both strategies (tables, scan) forced as well as chosen.
 *
 *   random     uniform 256-bit hashes;
 *   planted    random, plus near-duplicates of each query at distances
 *              0..40 (the matches a real deployment looks for);
 *   clustered  skewed bits (each bit has its own bias) and clusters of
 *              near-duplicates of varying size and spread: the case that
 *              defeats fixed-radius multi-index hashing.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/match_internal.h"
#include "vigil/match.h"

#define N_BASE 40000
#define N_QUERIES 60

static uint64_t rng = 0x1234567887654321ull;

static void rand_hash(vigil_pdq_hash *h) {
  for (int i = 0; i < 32; i += 8) {
    uint64_t r = tu_rand(&rng);
    memcpy(h->bytes + i, &r, 8);
  }
}

static void flip_bits(vigil_pdq_hash *h, int d) {
  int pos[256];
  for (int i = 0; i < 256; i++) pos[i] = i;
  for (int i = 0; i < d; i++) {
    int j = i + (int)(tu_rand(&rng) % (uint64_t)(256 - i));
    int t = pos[i];
    pos[i] = pos[j];
    pos[j] = t;
    h->bytes[pos[i] / 8] ^= (uint8_t)(1u << (pos[i] % 8));
  }
}

/* Hash with per-bit probabilities bias[i] / 256. */
static void biased_hash(vigil_pdq_hash *h, const uint8_t *bias) {
  memset(h, 0, sizeof *h);
  for (int i = 0; i < 256; i++)
    if ((tu_rand(&rng) & 255) < bias[i]) h->bytes[i / 8] |= (uint8_t)(1u << (i % 8));
}

typedef struct dataset {
  vigil_pdq_hash *h;
  uint64_t *ids;
  size_t n;
  vigil_pdq_hash q[N_QUERIES];
} dataset;

static void make_random_n(dataset *ds, int planted, size_t nbase) {
  ds->n = nbase + (planted ? N_QUERIES * 41 * 2 : 0);
  ds->h = malloc(ds->n * sizeof *ds->h);
  ds->ids = malloc(ds->n * sizeof *ds->ids);
  assert_non_null(ds->h);
  assert_non_null(ds->ids);
  size_t k = 0;
  for (; k < nbase; k++) rand_hash(&ds->h[k]);
  for (int qi = 0; qi < N_QUERIES; qi++) {
    rand_hash(&ds->q[qi]);
    for (int d = 0; planted && d <= 40; d++)
      for (int c = 0; c < 2; c++) {
        ds->h[k] = ds->q[qi];
        flip_bits(&ds->h[k], d);
        k++;
      }
  }
  /* Ids not equal to slots, to catch mix-ups. */
  for (size_t i = 0; i < ds->n; i++) ds->ids[i] = 1000003ull * i + 7;
}

static void make_random(dataset *ds, int planted) { make_random_n(ds, planted, N_BASE); }

static void make_clustered(dataset *ds) {
  uint8_t bias[256];
  for (int i = 0; i < 256; i++) bias[i] = (uint8_t)(40 + tu_rand(&rng) % 177); /* 0.16 .. 0.84 */
  ds->n = N_BASE;
  ds->h = malloc(ds->n * sizeof *ds->h);
  ds->ids = malloc(ds->n * sizeof *ds->ids);
  assert_non_null(ds->h);
  assert_non_null(ds->ids);
  size_t k = 0;
  while (k < ds->n) {
    vigil_pdq_hash c;
    biased_hash(&c, bias);
    size_t size = (size_t)1 << (tu_rand(&rng) % 12); /* 1 .. 2048 members */
    int spread = (int)(tu_rand(&rng) % 48);
    for (size_t j = 0; j < size && k < ds->n; j++, k++) {
      ds->h[k] = c;
      flip_bits(&ds->h[k], (int)(tu_rand(&rng) % (uint64_t)(spread + 1)));
    }
  }
  for (int qi = 0; qi < N_QUERIES; qi++) {
    if (qi % 3 == 0) {
      biased_hash(&ds->q[qi], bias);
    } else {
      ds->q[qi] = ds->h[tu_rand(&rng) % ds->n];
      flip_bits(&ds->q[qi], (int)(tu_rand(&rng) % 41));
    }
  }
  for (size_t i = 0; i < ds->n; i++) ds->ids[i] = ds->n - i; /* reverse order */
}

static void free_ds(dataset *ds) {
  free(ds->h);
  free(ds->ids);
}

static int cmp_hit(const void *a, const void *b) {
  const vigil_pdq_hit *x = a, *y = b;
  if (x->distance != y->distance) return x->distance - y->distance;
  return (x->id > y->id) - (x->id < y->id);
}

/* Distances of every hash to the closest of qs (and which one), computed
 * once per query set and reused for every threshold and strategy. */
static const vigil_pdq_hash *cached_qs;
static int cached_nq;
static uint16_t *cached_d;
static uint8_t *cached_v;

static void brute_dists(const dataset *ds, const vigil_pdq_hash *qs, int nq) {
  if (cached_qs == qs && cached_nq == nq && cached_d) return;
  free(cached_d);
  free(cached_v);
  cached_d = malloc(ds->n * sizeof *cached_d);
  cached_v = malloc(ds->n);
  assert_non_null(cached_d);
  assert_non_null(cached_v);
  for (size_t i = 0; i < ds->n; i++) {
    int best = 1000, bv = 0;
    for (int v = 0; v < nq; v++) {
      int d = vigil_pdq_distance(&ds->h[i], &qs[v]);
      if (d < best) {
        best = d;
        bv = v;
      }
    }
    cached_d[i] = (uint16_t)best;
    cached_v[i] = (uint8_t)bv;
  }
  cached_qs = qs;
  cached_nq = nq;
}

static void brute_forget(void) {
  free(cached_d);
  free(cached_v);
  cached_d = NULL;
  cached_v = NULL;
  cached_qs = NULL;
}

/* Brute force: every (id, distance) within r of the closest of qs. */
static size_t brute(const dataset *ds, const vigil_pdq_hash *qs, int nq, int r, vigil_pdq_hit *out) {
  size_t k = 0;
  brute_dists(ds, qs, nq);
  for (size_t i = 0; i < ds->n; i++) {
    int best = cached_d[i], bv = cached_v[i];
    if (best <= r) {
      out[k].id = ds->ids[i];
      out[k].distance = best;
      out[k].variant = bv;
      k++;
    }
  }
  qsort(out, k, sizeof *out, cmp_hit);
  return k;
}

static long total_hits;

static void compare(const vigil_pdq_index *ix, const dataset *ds, const vigil_pdq_hash *qs, int nq, int r,
                    vigil_pdq_hit *want) {
  size_t nw = brute(ds, qs, nq, r, want);
  vigil_pdq_hit *got = NULL;
  size_t ng = 0;
  vigil_error e;
  int rc = nq == 1 ? vigil_pdq_index_query(ix, qs, r, &got, &ng, &e)
                   : vigil_pdq_index_query_multi(ix, qs, nq, r, &got, &ng, &e);
  assert_int_equal(rc, VIGIL_OK);
  if (ng != nw) printf("threshold %d: got %zu hits, brute force %zu\n", r, ng, nw);
  assert_int_equal(ng, nw);
  for (size_t i = 0; i < nw; i++) {
    assert_int_equal(got[i].id, want[i].id);
    assert_int_equal(got[i].distance, want[i].distance);
    if (nq > 1) assert_int_equal(got[i].variant, want[i].variant);
  }
  total_hits += (long)nw;
  free(got);
}

static vigil_pdq_index *build(const dataset *ds) {
  vigil_pdq_index *ix;
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_add_batch(ix, ds->h, ds->ids, ds->n, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_size(ix), ds->n);
  vigil_error e;
  int rc = vigil__pdq_index_check(ix, &e);
  if (rc) printf("%s\n", e.message);
  assert_int_equal(rc, VIGIL_OK);
  return ix;
}

/* Makes queries on ix scan (1), take the tables (2) or choose (0). */
static void force_strategy(vigil_pdq_index *ix, int s) {
  vigil__qtune t = vigil__pdq_index_tuning(ix);
  t.strategy = s;
  vigil__pdq_index_tune(ix, &t);
}

static const int thresholds[] = {0, 8, 31, 32, 63, 100};

static void check_dataset(dataset *ds) {
  vigil_pdq_index *ix = build(ds);
  vigil_pdq_hit *want = malloc(ds->n * sizeof *want);
  assert_non_null(want);
  total_hits = 0;
  for (int qi = 0; qi < N_QUERIES; qi++)
    for (size_t t = 0; t < sizeof thresholds / sizeof *thresholds; t++)
      for (int s = 0; s < 3; s++) { /* chosen, scan forced, tables forced */
        if (s && qi % 3) continue;
        force_strategy(ix, s);
        compare(ix, ds, &ds->q[qi], 1, thresholds[t], want);
      }
  force_strategy(ix, 0);
  compare(ix, ds, &ds->q[0], 1, 256, want); /* everything */
  brute_forget();
  assert_true(total_hits > 0);
  printf("%ld hits compared\n", total_hits);
  free(want);
  vigil_pdq_index_free(ix);
}

static void test_random(void **state) {
  (void)state;
  dataset ds;
  make_random(&ds, 0);
  check_dataset(&ds);
  free_ds(&ds);
}

static void test_planted(void **state) {
  (void)state;
  dataset ds;
  make_random(&ds, 1);
  check_dataset(&ds);
  free_ds(&ds);
}

static void test_clustered(void **state) {
  (void)state;
  dataset ds;
  make_clustered(&ds);
  check_dataset(&ds);
  free_ds(&ds);
}

/* Eight variants: the query, exact duplicates of it (symmetric pictures),
 * and far-away hashes, with near-duplicates planted around some of them. */
static void test_multi(void **state) {
  (void)state;
  dataset ds;
  make_random(&ds, 1);
  vigil_pdq_index *ix = build(&ds);
  vigil_pdq_hit *want = malloc(ds.n * sizeof *want);
  assert_non_null(want);
  for (int s = 0; s < 3; s++) {
    force_strategy(ix, s);
    for (int qi = 0; qi < N_QUERIES; qi += 4) {
      vigil_pdq_hash qs[8];
      for (int v = 0; v < 8; v++) {
        qs[v] = ds.q[(qi + v * 7) % N_QUERIES];
        if (v == 3) qs[v] = qs[0]; /* duplicate variant: reported as variant 0 */
        if (v == 5) flip_bits(&qs[v], 5);
        /* Variants related as a picture's are, sharing most table keys with
         * another: a few bits changed, or one DCT parity class complemented
         * (a flip); the tables then probe their buckets once for both. */
        if (v == 6) {
          qs[v] = qs[0];
          flip_bits(&qs[v], 3);
        }
        if (v == 7) {
          qs[v] = qs[1];
          for (int p = 0; p < 256; p++) {
            int k = (31 - p / 8) * 8 + p % 8;
            if (!((k / 16) & 1) && !((k % 16) & 1)) qs[v].bytes[p / 8] ^= (uint8_t)(1u << (p % 8));
          }
        }
      }
      brute_forget();
      for (int t = 0; t < 5; t++) compare(ix, &ds, qs, 8, thresholds[t], want);
      compare(ix, &ds, qs, 3, 31, want);
      brute_forget();
      /* More than 8 distinct queries (a probe's mask holds 8: groups of 8),
       * with keys shared inside and across the groups. */
      vigil_pdq_hash many[12];
      for (int v = 0; v < 12; v++) {
        many[v] = v < 8 ? qs[v] : qs[v - 8];
        if (v >= 8) flip_bits(&many[v], 2 + v % 3);
      }
      compare(ix, &ds, many, 12, 31, want);
      compare(ix, &ds, many, 12, 45, want);
      brute_forget();
    }
  }
  force_strategy(ix, 0);
  free(want);
  vigil_pdq_index_free(ix);
  free_ds(&ds);
}

/* What the multi-query kernels must return, by definition: for hash i of
 * h (or h[refs[i]]), the smallest distance to qs[v] over v in masks[i] (all
 * nq when masks is NULL), the first v among equals, kept when <= r. */
static size_t ref_best(const vigil_pdq_hash *h, const uint32_t *refs, const uint8_t *masks, size_t len,
                       const vigil_pdq_hash *qs, int nq, int r, uint32_t *oi, uint16_t *od, uint8_t *ov) {
  size_t b = 0;
  for (size_t i = 0; i < len; i++) {
    const vigil_pdq_hash *x = &h[refs ? refs[i] : i];
    int best = 1000, bv = 0;
    for (int v = 0; v < nq; v++) {
      if (masks && !(masks[i] >> v & 1)) continue;
      int d = vigil_pdq_distance(x, &qs[v]);
      if (d < best) best = d, bv = v;
    }
    if (best <= r) {
      oi[b] = (uint32_t)i;
      od[b] = (uint16_t)best;
      ov[b++] = (uint8_t)bv;
    }
  }
  return b;
}

/* Every kernel path this CPU runs gives the same answers. */
static void test_paths(void **state) {
  (void)state;
  dataset ds;
  make_clustered(&ds);
  vigil_pdq_index *ix = build(&ds);
  vigil_pdq_hit *want = malloc(ds.n * sizeof *want);
  assert_non_null(want);
  int ran = 0;
  for (int p = VIGIL__PATH_GENERIC; p <= VIGIL__PATH_AVX512; p++) {
    if (!vigil__path_supported(p)) {
      printf("path %d not supported by this CPU: skipped\n", p);
      assert_int_equal(vigil__simd_force(p), VIGIL_EINVAL);
      continue;
    }
    assert_int_equal(vigil__simd_force(p), VIGIL_OK);
    printf("path %s\n", vigil__kernels_get()->name);
    for (int qi = 0; qi < N_QUERIES; qi += 5)
      for (int s = 1; s <= 2; s++) {
        force_strategy(ix, s);
        compare(ix, &ds, &ds.q[qi], 1, 31, want);
        compare(ix, &ds, &ds.q[qi], 1, 100, want);
      }
    brute_forget();
    for (int qi = 0; qi + 8 <= N_QUERIES; qi += 5)
      for (int s = 1; s <= 2; s++) {
        force_strategy(ix, s);
        compare(ix, &ds, &ds.q[qi], 8, 40, want);
      }
    brute_forget();
    /* Kernel edge cases: lengths not a multiple of the vector width. */
    for (size_t len = 0; len < 40; len++) {
      uint32_t oi[64], oi2[64];
      uint16_t od[64], od2[64];
      uint8_t ov[64], ov2[64];
      const vigil__kernels *k = vigil__kernels_get();
      size_t a = k->scan(ds.h, len, &ds.h[3], 110, oi, od);
      size_t b = 0;
      for (size_t i = 0; i < len; i++) {
        int d = vigil_pdq_distance(&ds.h[i], &ds.h[3]);
        if (d <= 110) {
          oi2[b] = (uint32_t)i;
          od2[b++] = (uint16_t)d;
        }
      }
      assert_int_equal(a, b);
      assert_memory_equal(oi, oi2, a * sizeof *oi);
      assert_memory_equal(od, od2, a * sizeof *od);
      uint32_t refs[40];
      for (size_t i = 0; i < len; i++) refs[i] = (uint32_t)((i * 7919) % ds.n);
      a = k->verify(ds.h, refs, len, &ds.h[3], 120, oi, od);
      b = 0;
      for (size_t i = 0; i < len; i++) {
        int d = vigil_pdq_distance(&ds.h[refs[i]], &ds.h[3]);
        if (d <= 120) {
          oi2[b] = (uint32_t)i;
          od2[b++] = (uint16_t)d;
        }
      }
      assert_int_equal(a, b);
      assert_memory_equal(oi, oi2, a * sizeof *oi);
      assert_memory_equal(od, od2, a * sizeof *od);
      a = k->scan_multi(ds.h, len, ds.h + 100, 5, 115, oi, od, ov);
      b = ref_best(ds.h, NULL, NULL, len, ds.h + 100, 5, 115, oi2, od2, ov2);
      assert_int_equal(a, b);
      assert_memory_equal(oi, oi2, a * sizeof *oi);
      assert_memory_equal(od, od2, a * sizeof *od);
      assert_memory_equal(ov, ov2, a);
      /* masked: each candidate against the queries of its own mask */
      uint8_t masks[40];
      for (size_t i = 0; i < len; i++) masks[i] = (uint8_t)(1 + (i * 37) % 127); /* 1..127: never empty */
      a = k->verify_masked(ds.h, refs, masks, len, ds.h + 200, 7, 118, oi, od, ov);
      b = ref_best(ds.h, refs, masks, len, ds.h + 200, 7, 118, oi2, od2, ov2);
      assert_int_equal(a, b);
      assert_memory_equal(oi, oi2, a * sizeof *oi);
      assert_memory_equal(od, od2, a * sizeof *od);
      assert_memory_equal(ov, ov2, a);
    }
    ran++;
  }
  assert_true(ran >= 1);
  vigil__simd_force(VIGIL__SIMD_AUTO);
  force_strategy(ix, 0);
  free(want);
  vigil_pdq_index_free(ix);
  free_ds(&ds);
}

/* Small indexes (no tables yet) and growth across the table-size steps. */
static void test_growth(void **state) {
  (void)state;
  dataset ds;
  make_random(&ds, 1);
  vigil_pdq_index *ix;
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  vigil_pdq_hit *want = malloc(ds.n * sizeof *want);
  assert_non_null(want);
  dataset part = ds;
  size_t steps[] = {0, 1, 700, 1023, 1024, 3000, 9000};
  for (size_t i = 0; i < ds.n && i <= 9000; i++) {
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++)
      if (i == steps[s]) {
        part.n = i;
        for (int qi = 0; qi < N_QUERIES; qi += 7) {
          brute_forget();
          compare(ix, &part, &ds.q[qi], 1, 31, want);
        }
        brute_forget();
        assert_int_equal(vigil__pdq_index_check(ix, NULL), VIGIL_OK);
      }
    assert_int_equal(vigil_pdq_index_add(ix, &ds.h[i], ds.ids[i], NULL), VIGIL_OK);
  }
  free(want);
  vigil_pdq_index_free(ix);
  free_ds(&ds);
}

/* The table shapes: b never shrinks as n grows (growth only rebuilds
 * upwards), m * b fits in 256 bits, and m fits the arrays and the file. */
static void test_shapes(void **state) {
  (void)state;
  int prev = 0;
  for (size_t n = 1; n <= VIGIL__MAX_ENTRIES; n += n / 64 + 1) {
    int b = vigil__target_bits(n);
    assert_true(b >= prev);
    prev = b;
    if (n < VIGIL__MIH_MIN_N) {
      assert_int_equal(b, 0);
      continue;
    }
    assert_true(b >= VIGIL__MIH_MINBITS && b <= VIGIL__MIH_MAXBITS);
    int m = vigil__tables_for(b);
    assert_true(m >= 12 && m <= VIGIL__MIH_MAXTABLES && m * b <= 256);
    /* header bytes per entry (the smallest tables excepted) */
    assert_true(b == VIGIL__MIH_MINBITS || ((size_t)m * 8 << b) <= 48 * n);
  }
}

/* A quarter of a million entries: the 16 tables of 16 bits that a 1M
 * index uses, against brute force. */
static void test_wide_tables(void **state) {
  (void)state;
  dataset ds;
  make_random_n(&ds, 1, (size_t)1 << 18);
  vigil_pdq_index *ix = build(&ds);
  assert_int_equal(ix->bits, 16);
  assert_int_equal(ix->m, 16);
  vigil_pdq_hit *want = malloc(ds.n * sizeof *want);
  assert_non_null(want);
  static const int rs[] = {0, 31, 32, 63};
  for (int qi = 0; qi < N_QUERIES; qi += 4) {
    for (size_t t = 0; t < sizeof rs / sizeof *rs; t++)
      for (int s = 0; s < 3; s += 2) { /* chosen, tables forced */
        force_strategy(ix, s);
        compare(ix, &ds, &ds.q[qi], 1, rs[t], want);
      }
    brute_forget();
  }
  force_strategy(ix, 0);
  free(want);
  vigil_pdq_index_free(ix);
  free_ds(&ds);
}

/* The key words regroup the 256 bits by the parity of their DCT row and
 * column (classes oo, ee, eo, oe), each class in ascending bit order: the
 * fast unzip against the definition, bit by bit. */
static void test_key_words(void **state) {
  (void)state;
  for (int rep = 0; rep < 200; rep++) {
    vigil_pdq_hash h;
    rand_hash(&h);
    if (rep == 0) memset(&h, 0, sizeof h);
    if (rep == 1) memset(&h, 0xff, sizeof h);
    uint64_t want[4] = {0, 0, 0, 0}, got[4];
    int fill[4] = {0, 0, 0, 0};
    for (int p = 0; p < 256; p++) {
      int byte = p / 8, k = (31 - byte) * 8 + p % 8, i = k / 16, j = k % 16;
      int c = (i & 1) ? ((j & 1) ? 0 : 3) : ((j & 1) ? 2 : 1);
      uint64_t bit = (h.bytes[byte] >> (p % 8)) & 1;
      want[c] |= bit << fill[c]++;
    }
    for (int c = 0; c < 4; c++) assert_int_equal(fill[c], 64);
    vigil__key_words(&h, got);
    assert_memory_equal(got, want, sizeof want);
  }
}

/* Tuning lives in the index: two indexes queried by two threads at once,
 * one forced to scan and one to the tables, each counting into its own
 * statistics, give the right answers and counts that are each their own
 * (a ThreadSanitizer build also checks that nothing is shared). */
typedef struct tuned_run {
  vigil_pdq_index *ix;
  const dataset *ds;
  vigil__qstats st;
  size_t hits[N_QUERIES];
  int rc;
} tuned_run;

static void *run_tuned(void *arg) {
  tuned_run *t = arg;
  for (int qi = 0; qi < N_QUERIES && !t->rc; qi++) {
    vigil_pdq_hit *got = NULL;
    t->rc = vigil_pdq_index_query(t->ix, &t->ds->q[qi], 31, &got, &t->hits[qi], NULL);
    free(got);
  }
  return NULL;
}

static void test_tuning_per_index(void **state) {
  (void)state;
  dataset ds;
  make_clustered(&ds);
  tuned_run a = {build(&ds), &ds, {0}, {0}, 0}, b = {build(&ds), &ds, {0}, {0}, 0};
  vigil__qtune ta = vigil__qtune_default(), tb = vigil__qtune_default();
  assert_true(vigil__pdq_index_tuning(a.ix).probe_cost == VIGIL__PROBE_COST);
  ta.strategy = 1;
  ta.stats = &a.st;
  tb.strategy = 2;
  tb.stats = &b.st;
  vigil__pdq_index_tune(a.ix, &ta);
  vigil__pdq_index_tune(b.ix, &tb);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, run_tuned, &a), 0);
  run_tuned(&b);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(a.rc, VIGIL_OK);
  assert_int_equal(b.rc, VIGIL_OK);
  vigil_pdq_hit *want = malloc(ds.n * sizeof *want);
  assert_non_null(want);
  for (int qi = 0; qi < N_QUERIES; qi++) {
    size_t nw = brute(&ds, &ds.q[qi], 1, 31, want);
    assert_int_equal(a.hits[qi], nw);
    assert_int_equal(b.hits[qi], nw);
  }
  assert_int_equal(a.st.queries, N_QUERIES);
  assert_int_equal(a.st.scans, N_QUERIES);
  assert_int_equal(a.st.probes, 0);
  assert_int_equal(b.st.queries, N_QUERIES);
  assert_int_equal(b.st.scans, 0);
  assert_true(b.st.probes > 0);
  free(want);
  vigil_pdq_index_free(a.ix);
  vigil_pdq_index_free(b.ix);
  free_ds(&ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tuning_per_index), cmocka_unit_test(test_random),  cmocka_unit_test(test_planted), cmocka_unit_test(test_clustered),
      cmocka_unit_test(test_multi),   cmocka_unit_test(test_paths),   cmocka_unit_test(test_growth),
      cmocka_unit_test(test_shapes),  cmocka_unit_test(test_wide_tables), cmocka_unit_test(test_key_words),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
