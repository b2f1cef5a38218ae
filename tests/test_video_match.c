/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_match.c - vPDQ matching against bank videos: exact, in both
 * semantics.
 *
 * The oracle is a plain scan written here: every query frame against every
 * frame of every bank video, counting as python-threatexchange (quality
 * filter, unique hashes, distance <= t) and as the C++ reference (quality
 * filter, every frame, distance < t) count.  Random banks are built with the
 * structure of video (runs of near-identical frames, hashes shared between
 * videos, frames of low quality, distances spread around the threshold), so
 * that the index's answer, which goes through the unique-hash PDQ index and
 * the frame chains, must equal the scan's for every video (recall 1.0 and no
 * extra pair).  Hand-made cases pin the edges: empty after the quality
 * filter, all duplicates, distances 30/31/32.
 */
#include "testutil.h"

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

static int dist(const vigil_pdq_hash *a, const vigil_pdq_hash *b) {
  int d = 0;
  for (int i = 0; i < 32; i++) d += __builtin_popcount((unsigned)(a->bytes[i] ^ b->bytes[i]));
  return d;
}

/* The oracle: counts of one query against one bank video. */
typedef struct counts {
  size_t qm, qt, cm, ct;
} counts;

static int first_of(const vigil_video_frame *f, size_t i, int qmin) {
  /* whether f[i] is the first frame of enough quality with its hash */
  for (size_t j = 0; j < i; j++)
    if (f[j].quality >= qmin && !memcmp(f[j].hash.bytes, f[i].hash.bytes, 32)) return 0;
  return 1;
}

static size_t side(const vigil_video_frame *a, size_t na, const vigil_video_frame *b, size_t nb, int t, int strict,
                   int dedup, int qmin, size_t *total) {
  size_t m = 0;
  *total = 0;
  for (size_t i = 0; i < na; i++) {
    if (a[i].quality < qmin || (dedup && !first_of(a, i, qmin))) continue;
    (*total)++;
    for (size_t j = 0; j < nb; j++) {
      if (b[j].quality < qmin) continue;
      int d = dist(&a[i].hash, &b[j].hash);
      if (strict ? d < t : d <= t) {
        m++;
        break;
      }
    }
  }
  return m;
}

static counts brute(const vigil_video_frame *q, size_t nq, const vigil_video_frame *b, size_t nb,
                    const vigil_vpdq_opts *o) {
  counts c;
  c.qm = side(q, nq, b, nb, o->threshold, o->strict, o->dedup, o->quality_min, &c.qt);
  c.cm = side(b, nb, q, nq, o->threshold, o->strict, o->dedup, o->quality_min, &c.ct);
  return c;
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

static void check_against_brute(const vigil_vpdq_index *ix, const bank *bk, const vigil_video_frame *q, size_t nq,
                                const vigil_vpdq_opts *o, size_t *pairs_checked) {
  vigil_vpdq_result *res = NULL;
  size_t nres = 0;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_index_query(ix, q, nq, o, &res, &nres, &err), VIGIL_OK);
  int seen[NV] = {0};
  for (size_t r = 0; r < nres; r++) {
    assert_true(res[r].id >= 100 && res[r].id < 100 + NV);
    int v = (int)(res[r].id - 100);
    assert_false(seen[v]);
    seen[v] = 1;
  }
  for (int v = 0; v < NV; v++) {
    counts c = brute(q, nq, bk->f[v], bk->n[v], o);
    *pairs_checked += nq * bk->n[v];
    if (!seen[v]) {
      assert_int_equal(c.qm, 0); /* a video left out has no pair within the threshold */
      assert_int_equal(c.cm, 0);
      continue;
    }
    const vigil_vpdq_result *r = NULL;
    for (size_t k = 0; k < nres; k++)
      if (res[k].id == (uint64_t)(100 + v)) r = &res[k];
    assert_non_null(r);
    assert_true(c.qm > 0);
    assert_int_equal(r->query_matched, c.qm);
    assert_int_equal(r->query_total, c.qt);
    assert_int_equal(r->compared_matched, c.cm);
    assert_int_equal(r->compared_total, c.ct);
    double qp = 100.0 * (double)c.qm / (double)c.qt;
    assert_true(r->query_pct == qp);
    assert_int_equal(r->match, qp >= o->query_pct_min);
  }
  /* sorted: matches first, then by query_pct */
  for (size_t r = 1; r < nres; r++) {
    assert_true(res[r - 1].match >= res[r].match);
    if (res[r - 1].match == res[r].match) assert_true(res[r - 1].query_pct >= res[r].query_pct);
  }
  vigil_vpdq_results_free(res, nres);
}

static void test_recall_against_brute_force(void **state) {
  (void)state;
  static bank bk;
  vigil_pdq_hash pool[12];
  for (int i = 0; i < 12; i++) pool[i] = random_hash();
  make_bank(&bk, pool, 12);
  vigil_vpdq_index *ix = NULL;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_index_new(&ix, &err), VIGIL_OK);
  /* half in one batch, half one by one: both paths must give the same index */
  vigil_vpdq_video batch[NV / 2 + 1];
  for (int v = 0; v < NV / 2; v++) batch[v] = (vigil_vpdq_video){100 + (uint64_t)v, bk.f[v], bk.n[v]};
  batch[NV / 2] = batch[0]; /* an id twice: all or nothing */
  assert_int_equal(vigil_vpdq_index_add_many(ix, batch, NV / 2 + 1, &err), VIGIL_EEXIST);
  assert_int_equal(vigil_vpdq_index_videos(ix), 0);
  assert_int_equal(vigil_vpdq_index_unique(ix), 0);
  assert_int_equal(vigil_vpdq_index_add_many(ix, batch, NV / 2, &err), VIGIL_OK);
  for (int v = NV / 2; v < NV; v++)
    assert_int_equal(vigil_vpdq_index_add(ix, 100 + (uint64_t)v, bk.f[v], bk.n[v], &err), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_videos(ix), NV);
  assert_true(vigil_vpdq_index_unique(ix) < vigil_vpdq_index_frames(ix)); /* repeats were shared */
  size_t pairs = 0;
  for (int trial = 0; trial < 30; trial++) {
    /* a query: mutated frames of a bank video, at distances 0..40 */
    vigil_video_frame q[80];
    int v = (int)(next() % NV);
    size_t nq = 1 + next() % 80;
    for (size_t i = 0; i < nq; i++) {
      q[i] = bk.f[v][next() % bk.n[v]];
      q[i].quality = (int)(next() % 6 ? 50 + next() % 51 : next() % 50);
      if (next() % 2) flip(&q[i].hash, (int)(next() % 41));
      q[i].timestamp = (double)i;
    }
    for (int t = 29; t <= 33; t++) {
      vigil_vpdq_opts o;
      vigil_vpdq_opts_default(&o);
      o.threshold = t;
      check_against_brute(ix, &bk, q, nq, &o, &pairs);
      vigil_vpdq_opts_reference(&o);
      o.threshold = t;
      check_against_brute(ix, &bk, q, nq, &o, &pairs);
    }
  }
  print_message("brute force: %zu frame pairs compared, index answers identical\n", pairs);
  vigil_vpdq_index_free(ix);
}

static vigil_video_frame frame(vigil_pdq_hash h, int quality, double ts) {
  return (vigil_video_frame){(int64_t)ts, quality, h, ts};
}

static void test_empty_after_quality_filter(void **state) {
  (void)state;
  vigil_pdq_hash h = random_hash();
  vigil_video_frame q[3] = {frame(h, 49, 0), frame(h, 10, 1), frame(h, 0, 2)};
  vigil_video_frame b[2] = {frame(h, 100, 0), frame(h, 90, 1)};
  for (int sem = 0; sem < 2; sem++) {
    vigil_vpdq_opts o;
    if (sem) vigil_vpdq_opts_reference(&o);
    else vigil_vpdq_opts_default(&o);
    vigil_vpdq_result r;
    vigil_error err = {0};
    assert_int_equal(vigil_vpdq_compare(q, 3, b, 2, &o, &r, &err), VIGIL_OK);
    assert_int_equal(r.query_total, 0);
    assert_int_equal(r.query_matched, 0);
    assert_true(r.query_pct == 0 && r.compared_pct == 0);
    assert_false(r.match);
    assert_int_equal(r.compared_total, sem ? 2 : 1);
    assert_int_equal(r.nsegments, 0);
    /* the other way round: the bank side is empty */
    assert_int_equal(vigil_vpdq_compare(b, 2, q, 3, &o, &r, &err), VIGIL_OK);
    assert_int_equal(r.compared_total, 0);
    assert_false(r.match);
    /* an empty query */
    assert_int_equal(vigil_vpdq_compare(NULL, 0, b, 2, &o, &r, &err), VIGIL_OK);
    assert_false(r.match);
    /* a lower bar lets them in */
    o.quality_min = 0;
    assert_int_equal(vigil_vpdq_compare(q, 3, b, 2, &o, &r, &err), VIGIL_OK);
    assert_true(r.match);
    free(r.segments);
  }
}

static void test_all_duplicates(void **state) {
  (void)state;
  vigil_pdq_hash h = random_hash(), other = random_hash();
  vigil_video_frame q[10], b[6];
  for (int i = 0; i < 10; i++) q[i] = frame(h, 80, i);
  for (int i = 0; i < 5; i++) b[i] = frame(h, 80, i);
  b[5] = frame(other, 80, 5);
  vigil_vpdq_opts o;
  vigil_vpdq_result r;
  vigil_error err = {0};
  vigil_vpdq_opts_default(&o); /* HMA: one unique hash each side */
  assert_int_equal(vigil_vpdq_compare(q, 10, b, 6, &o, &r, &err), VIGIL_OK);
  assert_int_equal(r.query_matched, 1);
  assert_int_equal(r.query_total, 1);
  assert_int_equal(r.compared_matched, 1);
  assert_int_equal(r.compared_total, 2);
  assert_true(r.query_pct == 100.0 && r.compared_pct == 50.0 && r.match);
  free(r.segments);
  vigil_vpdq_opts_reference(&o); /* reference: every frame */
  assert_int_equal(vigil_vpdq_compare(q, 10, b, 6, &o, &r, &err), VIGIL_OK);
  assert_int_equal(r.query_matched, 10);
  assert_int_equal(r.query_total, 10);
  assert_int_equal(r.compared_matched, 5);
  assert_int_equal(r.compared_total, 6);
  assert_true(r.compared_pct > 83.3 && r.compared_pct < 83.4);
  free(r.segments);
}

/* A hash at exactly d bits from h. */
static vigil_pdq_hash at_distance(const vigil_pdq_hash *h, int d) {
  vigil_pdq_hash x = *h;
  for (int b = 0; b < d; b++) x.bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
  return x;
}

static void test_threshold_edges(void **state) {
  (void)state;
  vigil_pdq_hash h = random_hash();
  vigil_vpdq_index *ix = NULL;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_index_new(&ix, &err), VIGIL_OK);
  for (int d = 30; d <= 32; d++) {
    vigil_video_frame f = frame(at_distance(&h, d), 90, 0);
    assert_int_equal(dist(&f.hash, &h), d);
    assert_int_equal(vigil_vpdq_index_add(ix, (uint64_t)d, &f, 1, &err), VIGIL_OK);
  }
  vigil_video_frame dup = frame(h, 90, 0);
  assert_int_equal(vigil_vpdq_index_add(ix, 30, &dup, 1, &err), VIGIL_EEXIST);
  vigil_video_frame q = frame(h, 90, 0);
  struct {
    int ref, threshold;
    int expect[3]; /* videos 30, 31, 32 */
  } cases[] = {
      {0, 31, {1, 1, 0}}, {1, 31, {1, 0, 0}}, {0, 30, {1, 0, 0}},
      {1, 30, {0, 0, 0}}, {0, 32, {1, 1, 1}}, {1, 32, {1, 1, 0}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    vigil_vpdq_opts o;
    if (cases[c].ref) vigil_vpdq_opts_reference(&o);
    else vigil_vpdq_opts_default(&o);
    o.threshold = cases[c].threshold;
    vigil_vpdq_result *res = NULL;
    size_t n = 0;
    assert_int_equal(vigil_vpdq_index_query(ix, &q, 1, &o, &res, &n, &err), VIGIL_OK);
    int got[3] = {0};
    for (size_t i = 0; i < n; i++) {
      got[res[i].id - 30] = 1;
      assert_true(res[i].match && res[i].query_pct == 100.0);
    }
    for (int k = 0; k < 3; k++) assert_int_equal(got[k], cases[c].expect[k]);
    vigil_vpdq_results_free(res, n);
  }
  vigil_vpdq_index_free(ix);
}

static void test_bad_input(void **state) {
  (void)state;
  vigil_pdq_hash h = random_hash();
  vigil_video_frame f = frame(h, 101, 0);
  vigil_vpdq_index *ix = NULL;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_index_new(&ix, &err), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_add(ix, 1, &f, 1, &err), VIGIL_EINVAL);
  f.quality = 50;
  f.timestamp = -1;
  assert_int_equal(vigil_vpdq_index_add(ix, 1, &f, 1, &err), VIGIL_EINVAL);
  f.timestamp = 2e9;
  assert_int_equal(vigil_vpdq_index_add(ix, 1, &f, 1, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "timestamp"));
  f.timestamp = 0;
  assert_int_equal(vigil_vpdq_index_add(ix, 1, &f, 1, &err), VIGIL_OK);
  vigil_vpdq_opts o;
  vigil_vpdq_opts_default(&o);
  o.threshold = 257;
  vigil_vpdq_result *res = NULL;
  size_t n = 0;
  assert_int_equal(vigil_vpdq_index_query(ix, &f, 1, &o, &res, &n, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "threshold"));
  vigil_vpdq_index_free(ix);
}

/* vigil_vpdq_index_lookup (a still against the bank videos) and
 * vigil_vpdq_index_remove, against a scan of every frame: per video the
 * closest frame of enough quality, the earliest on a tie; removed videos
 * never come back. */
static void test_lookup_and_remove(void **state) {
  (void)state;
  static bank bk;
  vigil_pdq_hash pool[12];
  for (int i = 0; i < 12; i++) pool[i] = random_hash();
  make_bank(&bk, pool, 12);
  vigil_vpdq_index *ix = NULL;
  vigil_error err;
  assert_int_equal(vigil_vpdq_index_new(&ix, &err), VIGIL_OK);
  for (int v = 0; v < NV; v++) assert_int_equal(vigil_vpdq_index_add(ix, (uint64_t)v + 1, bk.f[v], bk.n[v], &err), 0);
  for (int round = 0; round < 2; round++) {
    if (round == 1)
      for (int v = 0; v < NV; v += 3) assert_int_equal(vigil_vpdq_index_remove(ix, (uint64_t)v + 1, &err), VIGIL_OK);
    for (int k = 0; k < 40; k++) {
      vigil_pdq_hash q = pool[next() % 12];
      flip(&q, (int)(next() % 12));
      int thr = 31;
      vigil_vpdq_frame_hit *h = NULL;
      size_t n = 0;
      assert_int_equal(vigil_vpdq_index_lookup(ix, &q, thr, 50, &h, &n, &err), VIGIL_OK);
      size_t want = 0;
      for (int v = 0; v < NV; v++) {
        if (round == 1 && v % 3 == 0) continue;
        int best = 999;
        double bts = 0;
        for (size_t i = 0; i < bk.n[v]; i++) {
          const vigil_video_frame *f = &bk.f[v][i];
          int d = dist(&q, &f->hash);
          if (f->quality < 50 || d > thr) continue;
          if (d < best || (d == best && f->timestamp < bts)) best = d, bts = f->timestamp;
        }
        if (best == 999) continue;
        want++;
        size_t j = 0;
        while (j < n && h[j].id != (uint64_t)v + 1) j++;
        assert_true(j < n);
        assert_int_equal(h[j].distance, best);
        assert_true(h[j].timestamp == bts);
      }
      assert_int_equal(n, want);
      for (size_t j = 1; j < n; j++) assert_true(h[j - 1].distance <= h[j].distance);
      free(h);
    }
  }
  assert_int_equal(vigil_vpdq_index_remove(ix, 1, &err), VIGIL_ENOTFOUND); /* already removed */
  assert_int_equal(vigil_vpdq_index_remove(ix, 99999, &err), VIGIL_ENOTFOUND);
  assert_int_equal(vigil_vpdq_index_add(ix, 1, bk.f[0], bk.n[0], &err), VIGIL_EEXIST); /* ids stay taken */
  assert_int_equal(vigil_vpdq_index_videos(ix), NV - (NV + 2) / 3);
  assert_true(vigil_vpdq_index_removed_frames(ix) > 0);
  vigil_pdq_hash q = pool[0];
  vigil_vpdq_frame_hit *h = NULL;
  size_t n = 0;
  assert_int_equal(vigil_vpdq_index_lookup(ix, &q, 257, 50, &h, &n, &err), VIGIL_EINVAL);
  vigil_vpdq_index_free(ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recall_against_brute_force),
      cmocka_unit_test(test_empty_after_quality_filter),
      cmocka_unit_test(test_all_duplicates),
      cmocka_unit_test(test_threshold_edges),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_lookup_and_remove),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
