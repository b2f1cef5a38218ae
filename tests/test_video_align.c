/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_align.c - clip localisation on synthetic videos with known
 * edits.
 *
 * A synthetic video is a hash that drifts a bit at a time (10 samples a
 * second, one bit flipped per sample), as real footage drifts from frame to
 * frame: frames a second apart differ by about 10 bits, so a query frame
 * matches a few neighbouring bank frames, as it does in real video.  The bank
 * keeps one hash per second; a query is made by an edit list (which bank
 * seconds each part shows, at what speed), sampled at one hash per second
 * with a few bits of re-encoding noise per frame.  Each edit's segment must
 * come back with boundaries within 1.5 s, the right speed and most of its
 * frames matched; unrelated parts (an intro, an advert) must stay out.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/video.h"

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

#define FINE 10    /* samples per second of the synthetic timeline */
#define BANK_S 200 /* bank video length, seconds */

static vigil_pdq_hash timeline[BANK_S * FINE + 1], other[BANK_S * FINE + 1];

static void make_timeline(vigil_pdq_hash *tl) {
  for (int i = 0; i < 32; i++) tl[0].bytes[i] = (uint8_t)next();
  for (int k = 1; k <= BANK_S * FINE; k++) {
    tl[k] = tl[k - 1];
    int b = (int)(next() % 256);
    tl[k].bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
}

static vigil_pdq_hash at(const vigil_pdq_hash *tl, double s, int noise) {
  long k = lround(s * FINE);
  if (k < 0) k = 0;
  if (k > BANK_S * FINE) k = BANK_S * FINE;
  vigil_pdq_hash h = tl[k];
  for (int i = 0; i < noise; i++) {
    int b = (int)(next() % 256);
    h.bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
  return h;
}

/* A part of the query: `len` query seconds showing bank seconds from
 * `bank_start` at `speed` (bank seconds per query second); speed 0 is
 * unrelated footage. */
typedef struct part {
  double len, bank_start, speed;
} part;

typedef struct expect {
  double qs, qe, bs, be, speed;
} expect;

static void run(const char *name, const part *parts, size_t np, const expect *ex, size_t nex) {
  vigil_video_frame bank[BANK_S + 1];
  for (int s = 0; s <= BANK_S; s++) bank[s] = (vigil_video_frame){s, 90, at(timeline, s, 0), (double)s};
  vigil_video_frame q[600];
  size_t nq = 0;
  double t0 = 0;
  for (size_t p = 0; p < np; p++) {
    for (double t = 0; t < parts[p].len - 1e-9 && nq < 600; t += 1.0) {
      double qt = t0 + t;
      vigil_pdq_hash h =
          parts[p].speed > 0 ? at(timeline, parts[p].bank_start + parts[p].speed * t, 4) : at(other, qt, 0);
      q[nq] = (vigil_video_frame){(int64_t)nq, 90, h, qt};
      nq++;
    }
    t0 += parts[p].len;
  }
  vigil_vpdq_opts o;
  vigil_vpdq_opts_default(&o);
  vigil_vpdq_result r;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_compare(q, nq, bank, BANK_S + 1, &o, &r, &err), VIGIL_OK);
  print_message("%-14s q%%=%5.1f c%%=%5.1f:", name, r.query_pct, r.compared_pct);
  for (size_t i = 0; i < r.nsegments; i++) {
    const vigil_vpdq_segment *g = &r.segments[i];
    print_message(" [%.0f-%.0f <-> %.1f-%.1f x%.3f %.2f]", g->query_start, g->query_end, g->bank_start, g->bank_end,
                  g->speed, g->share);
  }
  print_message("\n");
  assert_int_equal(r.nsegments, nex);
  for (size_t i = 0; i < nex; i++) {
    const vigil_vpdq_segment *g = &r.segments[i];
    assert_true(fabs(g->query_start - ex[i].qs) <= 1.5);
    assert_true(fabs(g->query_end - ex[i].qe) <= 1.5);
    assert_true(fabs(g->bank_start - ex[i].bs) <= 1.5 * ex[i].speed + 0.5);
    assert_true(fabs(g->bank_end - ex[i].be) <= 1.5 * ex[i].speed + 0.5);
    assert_true(fabs(g->speed - ex[i].speed) <= 0.03 * ex[i].speed);
    assert_true(g->share >= 0.8);
  }
  free(r.segments);
}

static void test_plain_copy(void **state) {
  (void)state;
  part p[] = {{BANK_S + 1, 0, 1}};
  expect e[] = {{0, BANK_S, 0, BANK_S, 1}};
  run("plain copy", p, 1, e, 1);
}

static void test_trimmed_start(void **state) {
  (void)state;
  part p[] = {{60, 37, 1}};
  expect e[] = {{0, 59, 37, 96, 1}};
  run("trimmed", p, 1, e, 1);
}

static void test_middle_cut(void **state) {
  (void)state;
  part p[] = {{30, 10, 1}, {40, 120, 1}};
  expect e[] = {{0, 29, 10, 39, 1}, {30, 69, 120, 159, 1}};
  run("middle cut", p, 2, e, 2);
}

static void test_inserted_intro_and_advert(void **state) {
  (void)state;
  part p[] = {{15, 0, 0}, {50, 0, 1}, {12, 0, 0}, {40, 50, 1}};
  expect e[] = {{15, 64, 0, 49, 1}, {77, 116, 50, 89, 1}};
  run("intro + advert", p, 4, e, 2);
}

static void test_sped_up(void **state) {
  (void)state;
  part p[] = {{80, 20, 1.5}};
  expect e[] = {{0, 79, 20, 20 + 1.5 * 79, 1.5}};
  run("sped up 1.5x", p, 1, e, 1);
}

static void test_slowed_down(void **state) {
  (void)state;
  part p[] = {{100, 30, 0.8}};
  expect e[] = {{0, 99, 30, 30 + 0.8 * 99, 0.8}};
  run("slowed 0.8x", p, 1, e, 1);
}

static void test_reordered(void **state) {
  (void)state; /* a later part shown first */
  part p[] = {{30, 150, 1}, {30, 20, 1}};
  expect e[] = {{0, 29, 150, 179, 1}, {30, 59, 20, 49, 1}};
  run("reordered", p, 2, e, 2);
}

static void test_unrelated(void **state) {
  (void)state;
  part p[] = {{60, 0, 0}};
  run("unrelated", p, 1, NULL, 0);
}

static int setup(void **state) {
  (void)state;
  make_timeline(timeline);
  make_timeline(other);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_copy), cmocka_unit_test(test_trimmed_start),
      cmocka_unit_test(test_middle_cut), cmocka_unit_test(test_inserted_intro_and_advert),
      cmocka_unit_test(test_sped_up),    cmocka_unit_test(test_slowed_down),
      cmocka_unit_test(test_reordered),  cmocka_unit_test(test_unrelated),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
