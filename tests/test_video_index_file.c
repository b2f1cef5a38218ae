/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_index_file.c - the saved vPDQ index (lib/video/vpdq_file.c).
 *
 *   - An index saved and loaded back answers every query exactly as the
 *     index it was saved from (percentages, counts, segments), keeps its
 *     removed videos removed, returns the meta saved with it, and takes new
 *     videos and removals afterwards as the original does.
 *   - An empty index round-trips; a missing file is VIGIL_ENOTFOUND.
 *   - Every truncation of a good file, a flipped byte anywhere (header,
 *     payload, the embedded PDQ index) and another version are refused
 *     with VIGIL_ECORRUPT / VIGIL_EFORMAT and a message naming the file.
 *   - Files whose checksums were recomputed after a hostile edit (a frame's
 *     hash number past the unique hashes, a quality of 101, a NaN
 *     timestamp, frame counts that do not add up, a repeated video id, a
 *     bad removed flag) are refused by the checks behind the checksums.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video/vpdq_internal.h"
#include "vigil/video.h"

static char dir[256], path[400];

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static vigil_pdq_hash random_hash(void) {
  vigil_pdq_hash h;
  for (int i = 0; i < 32; i++) h.bytes[i] = (uint8_t)next();
  return h;
}

/* nv videos drifting a few bits a frame, holding still now and then,
 * sharing an intro, with some frames of low quality. */
#define NV 24
static vigil_video_frame *frames[NV];
static size_t nframes[NV];

static void make_videos(void) {
  vigil_pdq_hash intro = random_hash();
  for (int v = 0; v < NV; v++) {
    size_t n = 20 + next() % 40;
    frames[v] = calloc(n, sizeof *frames[v]);
    assert_non_null(frames[v]);
    vigil_pdq_hash h = v % 3 == 0 ? intro : random_hash();
    for (size_t i = 0; i < n; i++) {
      if (next() % 4) /* else: the same hash again */
        for (int k = 0; k < 3; k++) {
          int b = (int)(next() % 256);
          h.bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
      frames[v][i] = (vigil_video_frame){(int64_t)i, next() % 10 ? 90 : 20, h, (double)i * 0.5};
    }
    nframes[v] = n;
  }
}

static vigil_vpdq_index *build(int upto) {
  vigil_vpdq_index *ix;
  assert_int_equal(vigil_vpdq_index_new(&ix, NULL), VIGIL_OK);
  vigil_vpdq_video vs[NV];
  for (int v = 0; v < upto; v++) vs[v] = (vigil_vpdq_video){(uint64_t)(1000 + 7 * v), frames[v], nframes[v]};
  assert_int_equal(vigil_vpdq_index_add_many(ix, vs, (size_t)upto, NULL), VIGIL_OK);
  return ix;
}

/* Both indexes give the same answer to the query, field by field. */
static void same_answer(const vigil_vpdq_index *a, const vigil_vpdq_index *b, const vigil_video_frame *q, size_t n,
                        int reference) {
  vigil_vpdq_opts o;
  if (reference) vigil_vpdq_opts_reference(&o);
  else vigil_vpdq_opts_default(&o);
  vigil_vpdq_result *ra, *rb;
  size_t na, nb;
  assert_int_equal(vigil_vpdq_index_query(a, q, n, &o, &ra, &na, NULL), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_query(b, q, n, &o, &rb, &nb, NULL), VIGIL_OK);
  assert_int_equal(na, nb);
  for (size_t i = 0; i < na; i++) {
    assert_int_equal(ra[i].id, rb[i].id);
    assert_int_equal(ra[i].match, rb[i].match);
    assert_int_equal(ra[i].query_matched, rb[i].query_matched);
    assert_int_equal(ra[i].query_total, rb[i].query_total);
    assert_int_equal(ra[i].compared_matched, rb[i].compared_matched);
    assert_int_equal(ra[i].compared_total, rb[i].compared_total);
    assert_int_equal(ra[i].nsegments, rb[i].nsegments);
    for (size_t k = 0; k < ra[i].nsegments; k++) {
      const vigil_vpdq_segment *x = &ra[i].segments[k], *y = &rb[i].segments[k];
      assert_true(x->query_start == y->query_start && x->query_end == y->query_end);
      assert_true(x->bank_start == y->bank_start && x->bank_end == y->bank_end);
      assert_true(x->speed == y->speed && x->share == y->share);
      assert_int_equal(x->frames, y->frames);
    }
  }
  vigil_vpdq_results_free(ra, na);
  vigil_vpdq_results_free(rb, nb);
}

static void same_answers(const vigil_vpdq_index *a, const vigil_vpdq_index *b) {
  for (int v = 0; v < NV; v++) {
    same_answer(a, b, frames[v], nframes[v], v % 2);
    /* a clip from the middle, a little changed */
    size_t from = nframes[v] / 3, n = nframes[v] / 2;
    vigil_video_frame *q = malloc(n * sizeof *q);
    assert_non_null(q);
    memcpy(q, frames[v] + from, n * sizeof *q);
    for (size_t i = 0; i < n; i++) q[i].hash.bytes[i % 32] ^= 0x11, q[i].timestamp = (double)i;
    same_answer(a, b, q, n, 0);
    free(q);
  }
  vigil_vpdq_frame_hit *ha, *hb;
  size_t na, nb;
  assert_int_equal(vigil_vpdq_index_lookup(a, &frames[3][5].hash, 31, 50, &ha, &na, NULL), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_lookup(b, &frames[3][5].hash, 31, 50, &hb, &nb, NULL), VIGIL_OK);
  assert_int_equal(na, nb);
  assert_true(na > 0);
  for (size_t i = 0; i < na; i++) {
    assert_int_equal(ha[i].id, hb[i].id);
    assert_int_equal(ha[i].distance, hb[i].distance);
    assert_true(ha[i].timestamp == hb[i].timestamp);
  }
  free(ha);
  free(hb);
}

static uint8_t *slurp(size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(*len);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, *len, f), *len);
  fclose(f);
  return b;
}

static void spill(const char *p, const uint8_t *b, size_t len) {
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, len, f), len);
  fclose(f);
}

/* Loads p: must fail with want, saying which file. */
static void refused(const char *p, int want) {
  vigil_vpdq_index *ix = (vigil_vpdq_index *)1;
  void *meta = (void *)1;
  size_t ml = 7;
  vigil_error e;
  int rc = vigil_vpdq_index_load(&ix, p, &meta, &ml, &e);
  if (rc != want) fail_msg("load gave %d (%s), expected %d", rc, rc ? e.message : "ok", want);
  assert_null(ix);
  assert_null(meta);
  assert_int_equal(ml, 0);
  assert_non_null(strstr(e.message, p));
}

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "vpdqfile")) return -1;
  snprintf(path, sizeof path, "%s/bank.vpdq", dir);
  make_videos();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int v = 0; v < NV; v++) free(frames[v]);
  return tu_rmtree(dir);
}

static void test_round_trip(void **state) {
  (void)state;
  vigil_vpdq_index *a = build(NV - 4);
  assert_int_equal(vigil_vpdq_index_remove(a, 1000 + 7 * 2, NULL), VIGIL_OK);
  static const char meta[] = "position 42";
  assert_int_equal(vigil_vpdq_index_save(a, path, meta, sizeof meta, NULL), VIGIL_OK);
  vigil_vpdq_index *b;
  void *m;
  size_t ml;
  assert_int_equal(vigil_vpdq_index_load(&b, path, &m, &ml, NULL), VIGIL_OK);
  assert_int_equal(ml, sizeof meta);
  assert_memory_equal(m, meta, sizeof meta);
  free(m);
  assert_int_equal(vigil_vpdq_index_videos(b), vigil_vpdq_index_videos(a));
  assert_int_equal(vigil_vpdq_index_frames(b), vigil_vpdq_index_frames(a));
  assert_int_equal(vigil_vpdq_index_unique(b), vigil_vpdq_index_unique(a));
  assert_int_equal(vigil_vpdq_index_removed_frames(b), vigil_vpdq_index_removed_frames(a));
  same_answers(a, b);
  /* the removed video stays removed; its id stays taken */
  assert_int_equal(vigil_vpdq_index_remove(b, 1000 + 7 * 2, NULL), VIGIL_ENOTFOUND);
  assert_int_equal(vigil_vpdq_index_add(b, 1000 + 7 * 3, frames[0], nframes[0], NULL), VIGIL_EEXIST);
  /* changes after loading: the rest of the videos, a removal */
  for (int v = NV - 4; v < NV; v++) {
    assert_int_equal(vigil_vpdq_index_add(a, (uint64_t)(1000 + 7 * v), frames[v], nframes[v], NULL), VIGIL_OK);
    assert_int_equal(vigil_vpdq_index_add(b, (uint64_t)(1000 + 7 * v), frames[v], nframes[v], NULL), VIGIL_OK);
  }
  assert_int_equal(vigil_vpdq_index_remove(a, 1000 + 7 * 5, NULL), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_remove(b, 1000 + 7 * 5, NULL), VIGIL_OK);
  same_answers(a, b);
  /* saved again over the file it was loaded from (a rename, not a rewrite) */
  assert_int_equal(vigil_vpdq_index_save(b, path, NULL, 0, NULL), VIGIL_OK);
  vigil_vpdq_index *c;
  assert_int_equal(vigil_vpdq_index_load(&c, path, &m, &ml, NULL), VIGIL_OK);
  assert_null(m);
  assert_int_equal(ml, 0);
  same_answers(a, c);
  vigil_vpdq_index_free(a);
  vigil_vpdq_index_free(b);
  vigil_vpdq_index_free(c);
}

static void test_empty_and_missing(void **state) {
  (void)state;
  vigil_vpdq_index *a;
  assert_int_equal(vigil_vpdq_index_new(&a, NULL), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_save(a, path, NULL, 0, NULL), VIGIL_OK);
  vigil_vpdq_index *b;
  assert_int_equal(vigil_vpdq_index_load(&b, path, NULL, NULL, NULL), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_videos(b), 0);
  vigil_vpdq_result *r;
  size_t n;
  assert_int_equal(vigil_vpdq_index_query(b, frames[0], nframes[0], NULL, &r, &n, NULL), VIGIL_OK);
  assert_int_equal(n, 0);
  assert_int_equal(vigil_vpdq_index_add(b, 5, frames[0], nframes[0], NULL), VIGIL_OK);
  assert_int_equal(vigil_vpdq_index_query(b, frames[0], nframes[0], NULL, &r, &n, NULL), VIGIL_OK);
  assert_int_equal(n, 1);
  vigil_vpdq_results_free(r, n);
  vigil_vpdq_index_free(a);
  vigil_vpdq_index_free(b);
  char missing[450];
  snprintf(missing, sizeof missing, "%s/none.vpdq", dir);
  refused(missing, VIGIL_ENOTFOUND);
  assert_int_equal(vigil_vpdq_index_save(a = NULL, path, NULL, 0, NULL), VIGIL_EINVAL);
}

/* Truncations and flipped bytes: every one refused. */
static void test_truncated_and_corrupt(void **state) {
  (void)state;
  vigil_vpdq_index *a = build(NV);
  assert_int_equal(vigil_vpdq_index_save(a, path, NULL, 0, NULL), VIGIL_OK);
  vigil_vpdq_index_free(a);
  size_t len;
  uint8_t *good = slurp(&len);
  char bad[450];
  snprintf(bad, sizeof bad, "%s/bad.vpdq", dir);
  size_t cuts[] = {0, 1, 100, 255, 256, 300, 4096, 65535, 65536, 65536 + 255, len / 2, len - 64, len - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    spill(bad, good, cuts[i]);
    refused(bad, VIGIL_ECORRUPT);
  }
  uint8_t *f = malloc(len + 64);
  assert_non_null(f);
  uint64_t payload, pdq_off; /* the header's payload size and PDQ index offset */
  memcpy(&payload, good + 56, 8);
  memcpy(&pdq_off, good + 72, 8);
  assert_true(256 + payload < pdq_off && pdq_off < len);
  /* a byte flipped: in the header, the payload, the zeros before the PDQ
   * index (outside every checksum: harmless, loads), the PDQ index */
  for (size_t at = 0; at < len; at += at < 4096 ? 37 : 4999) {
    memcpy(f, good, len);
    f[at] ^= 0x40;
    spill(bad, f, len);
    vigil_vpdq_index *ix = NULL;
    vigil_error e;
    int rc = vigil_vpdq_index_load(&ix, bad, NULL, NULL, &e);
    int in_padding = at >= 256 + payload && at < pdq_off;
    if (in_padding) {
      assert_int_equal(rc, VIGIL_OK);
      vigil_vpdq_index_free(ix);
    } else if (rc != VIGIL_ECORRUPT && rc != VIGIL_EFORMAT) {
      fail_msg("byte %zu flipped: load gave %d", at, rc);
    }
  }
  /* a byte appended */
  memcpy(f, good, len);
  f[len] = 0;
  spill(bad, f, len + 1);
  refused(bad, VIGIL_ECORRUPT);
  /* another version, checksums right */
  memcpy(f, good, len);
  uint32_t v = 99;
  memcpy(f + 8, &v, 4);
  assert_int_equal(vigil__vpdq_file_reseal(f, len), VIGIL_OK);
  spill(bad, f, len);
  refused(bad, VIGIL_EFORMAT);
  free(f);
  free(good);
}

/* Offsets of the sections in a file of nv videos and nf frames, no meta. */
static size_t pad64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Edits behind the checksums, resealed: each refused by its own check. */
static void test_hostile_fields(void **state) {
  (void)state;
  vigil_vpdq_index *a = build(NV);
  size_t nv = NV, nf = vigil_vpdq_index_frames(a), nu = vigil_vpdq_index_unique(a);
  assert_int_equal(vigil_vpdq_index_save(a, path, NULL, 0, NULL), VIGIL_OK);
  vigil_vpdq_index_free(a);
  size_t len;
  uint8_t *good = slurp(&len);
  size_t vid = 256, vn = vid + pad64(nv * 8), vdead = vn + pad64(nv * 4), ts = vdead + pad64(nv);
  size_t uid = ts + pad64(nf * 8), q = uid + pad64(nf * 4);
  char bad[450];
  snprintf(bad, sizeof bad, "%s/hostile.vpdq", dir);
  uint8_t *f = malloc(len);
  assert_non_null(f);
  struct {
    const char *what;
    size_t at;
    uint8_t bytes[8];
    size_t n;
  } edits[] = {
      {"hash number", uid + 4 * 7, {0}, 4}, /* set to nu below */
      {"quality", q + 3, {101}, 1},
      {"timestamp", ts + 8 * 2, {0}, 8}, /* NaN below */
      {"frame counts", vn + 4, {0xff, 0xff, 0, 0}, 4},
      {"video id", vid + 8, {0}, 8}, /* the first video's id below */
      {"removed flag", vdead + 1, {2}, 1},
  };
  uint32_t u = (uint32_t)nu;
  memcpy(edits[0].bytes, &u, 4);
  double nan = NAN;
  memcpy(edits[2].bytes, &nan, 8);
  memcpy(edits[4].bytes, good + vid, 8);
  for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
    memcpy(f, good, len);
    memcpy(f + edits[i].at, edits[i].bytes, edits[i].n);
    assert_int_equal(vigil__vpdq_file_reseal(f, len), VIGIL_OK);
    spill(bad, f, len);
    vigil_vpdq_index *ix = NULL;
    vigil_error e;
    int rc = vigil_vpdq_index_load(&ix, bad, NULL, NULL, &e);
    if (rc != VIGIL_ECORRUPT) fail_msg("%s: load gave %d", edits[i].what, rc);
    assert_null(ix);
  }
  /* resealed without an edit: loads (the reseal itself is right) */
  memcpy(f, good, len);
  assert_int_equal(vigil__vpdq_file_reseal(f, len), VIGIL_OK);
  spill(bad, f, len);
  vigil_vpdq_index *ix = NULL;
  assert_int_equal(vigil_vpdq_index_load(&ix, bad, NULL, NULL, NULL), VIGIL_OK);
  vigil_vpdq_index_free(ix);
  free(f);
  free(good);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_empty_and_missing),
      cmocka_unit_test(test_truncated_and_corrupt),
      cmocka_unit_test(test_hostile_fields),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
