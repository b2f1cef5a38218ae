/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pdq.c - unit tests of each PDQ stage, without reference data:
 * hex round trips and validation, distance, the streaming pipeline against
 * a whole-picture oracle on random sizes, small pictures, the dihedral
 * variants against pixel-rotated pictures, and the raw-pixel entry points.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "pdq/pdq_internal.h"
#include "pdq/pdq_simd.h"
#include "common/simd.h"
#include "pdq_oracle.h"
#include "vigil/pdq.h"

static void test_hex_roundtrip(void **state) {
  (void)state;
  uint64_t s = 42;
  for (int n = 0; n < 100; n++) {
    vigil_pdq_hash h, back;
    for (int i = 0; i < 32; i++) h.bytes[i] = (uint8_t)tu_rand(&s);
    char hex[65];
    vigil_pdq_to_hex(&h, hex);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(vigil_pdq_from_hex(hex, 64, &back, NULL), VIGIL_OK);
    assert_memory_equal(h.bytes, back.bytes, 32);
    assert_int_equal(vigil_pdq_distance(&h, &back), 0);
  }
  vigil_pdq_hash up;
  assert_int_equal(vigil_pdq_from_hex("F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22", 64, &up, NULL),
                   VIGIL_OK);
  assert_int_equal(up.bytes[0], 0xF8);
  assert_int_equal(up.bytes[31], 0x22);
}

static void test_hex_rejects(void **state) {
  (void)state;
  vigil_pdq_hash h;
  vigil_error e;
  char good[65];
  memset(good, 'a', 64);
  good[64] = 0;
  assert_int_equal(vigil_pdq_from_hex(good, 63, &h, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "64 hex digits"));
  assert_int_equal(vigil_pdq_from_hex(good, 0, &h, &e), VIGIL_EINVAL);
  good[10] = 'g';
  assert_int_equal(vigil_pdq_from_hex(good, 64, &h, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "position 11"));
  good[10] = ' ';
  assert_int_equal(vigil_pdq_from_hex(good, 64, &h, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_pdq_from_hex(NULL, 64, &h, &e), VIGIL_EINVAL);
}

static void test_distance(void **state) {
  (void)state;
  vigil_pdq_hash a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0xff, sizeof b);
  assert_int_equal(vigil_pdq_distance(&a, &b), 256);
  b = a;
  b.bytes[0] = 0x81;
  b.bytes[31] = 0x01;
  assert_int_equal(vigil_pdq_distance(&a, &b), 3);
}

/* Smooth random pictures: random sizes, so every window size and phase
 * split of the box filter is exercised. */
static float *random_luma(int rows, int cols, uint64_t *s) {
  float *p = malloc((size_t)rows * cols * sizeof(float));
  float fx = (float)(tu_rand(s) % 17 + 1) / 7.0f, fy = (float)(tu_rand(s) % 13 + 1) / 5.0f;
  for (int y = 0; y < rows; y++)
    for (int x = 0; x < cols; x++) {
      uint8_t r = (uint8_t)((int)((x * fx + y * fy) * 3) & 255), g = (uint8_t)(tu_rand(s) & 31), b = (uint8_t)(x ^ y);
      p[(size_t)y * cols + x] = 0.299f * r + 0.587f * g + 0.114f * b;
    }
  return p;
}

/* Every kernel path the machine can run must agree with the oracle. */
static void stream_matches_oracle(int best) {
  assert_int_equal(vigil__simd_force(best ? vigil__simd_cpu() : VIGIL__SIMD_SCALAR), VIGIL_OK);
  print_message("kernels: %s\n", vigil__pdq_kernels_get()->name);
  uint64_t s = 7;
  static const int fixed[][2] = {{5, 5}, {5, 300}, {64, 64}, {63, 65}, {128, 129}, {255, 256}, {257, 7},
                                 {300, 8},  {1000, 17}, {17, 1000}};
  for (int n = 0; n < 60; n++) {
    int rows, cols;
    if (n < 10) {
      rows = fixed[n][0];
      cols = fixed[n][1];
    } else {
      rows = 5 + (int)(tu_rand(&s) % 700);
      cols = 5 + (int)(tu_rand(&s) % 700);
    }
    float *l = random_luma(rows, cols, &s);
    vigil_pdq_hash want;
    int wq;
    oracle_pdq_luma(l, rows, cols, &want, &wq);
    vigil_pdq_result got;
    assert_int_equal(vigil_pdq_hash_luma(l, cols, rows, (size_t)cols, 0, &got, NULL), VIGIL_OK);
    if (vigil_pdq_distance(&want, &got.hash[0]) != 0 || wq != got.quality)
      print_message("mismatch at %dx%d: distance %d\n", cols, rows, vigil_pdq_distance(&want, &got.hash[0]));
    assert_int_equal(vigil_pdq_distance(&want, &got.hash[0]), 0);
    assert_int_equal(wq, got.quality);
    free(l);
  }
  /* RGB entry: the kernels' luma against the scalar formula. */
  enum { W = 203, H = 77 };
  uint8_t *rgb = malloc(W * H * 3);
  float *luma = malloc(W * H * sizeof(float));
  for (int i = 0; i < W * H; i++) {
    for (int c = 0; c < 3; c++) rgb[3 * i + c] = (uint8_t)tu_rand(&s);
    luma[i] = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
  }
  vigil_pdq_hash want;
  int wq;
  oracle_pdq_luma(luma, H, W, &want, &wq);
  vigil_pdq_result got;
  assert_int_equal(vigil_pdq_hash_rgb(rgb, W, H, W * 3, 0, &got, NULL), VIGIL_OK);
  assert_memory_equal(want.bytes, got.hash[0].bytes, 32);
  free(rgb);
  free(luma);
}

static void test_stream_matches_oracle_portable(void **state) {
  (void)state;
  stream_matches_oracle(0);
}

static void test_stream_matches_oracle_best(void **state) {
  (void)state;
  stream_matches_oracle(1);
}

static void test_tiny_pictures(void **state) {
  (void)state;
  uint8_t px[4 * 100 * 3];
  memset(px, 200, sizeof px);
  vigil_pdq_result r;
  assert_int_equal(vigil_pdq_hash_rgb(px, 100, 4, 300, 1, &r, NULL), VIGIL_OK);
  vigil_pdq_hash zero;
  memset(&zero, 0, sizeof zero);
  for (int v = 0; v < 8; v++) assert_memory_equal(r.hash[v].bytes, zero.bytes, 32);
  assert_int_equal(r.quality, 0);
  vigil_error e;
  assert_int_equal(vigil_pdq_hash_rgb(px, 0, 4, 300, 0, &r, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_pdq_hash_rgb(px, 100, 4, 200, 0, &r, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "stride"));
}

/* Pixel-rotated copies hash close to the dihedral variants computed from
 * the original (not always equal: the blur's rounding is not symmetric). */
static void test_dihedral_against_rotated_pixels(void **state) {
  (void)state;
  enum { W = 480, H = 360 };
  uint8_t *src = malloc(W * H), *dst = malloc(W * H);
  /* Value noise: a broad spectrum, like a photo (a few pure sinusoids would
   * leave most DCT terms near zero and their bits at the mercy of rounding). */
  uint64_t s = 99;
  double grid[14][18];
  for (int j = 0; j < 14; j++)
    for (int i = 0; i < 18; i++) grid[j][i] = (double)(tu_rand(&s) % 256);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double gx = x / 30.0, gy = y / 30.0;
      int ix = (int)gx, iy = (int)gy;
      double fx = gx - ix, fy = gy - iy;
      double v = grid[iy][ix] * (1 - fx) * (1 - fy) + grid[iy][ix + 1] * fx * (1 - fy) +
                 grid[iy + 1][ix] * (1 - fx) * fy + grid[iy + 1][ix + 1] * fx * fy;
      src[y * W + x] = (uint8_t)v;
    }
  vigil_pdq_result base;
  assert_int_equal(vigil_pdq_hash_grey(src, W, H, W, 1, &base, NULL), VIGIL_OK);
  assert_true(base.quality >= 50);
  if (getenv("VERBOSE")) print_message("quality %d\n", base.quality);
  int worst = 0;
  for (int v = 1; v < VIGIL_DIH_COUNT; v++) {
    int tw = (v == VIGIL_DIH_ROT90 || v == VIGIL_DIH_ROT270 || v >= VIGIL_DIH_FLIPPLUS1) ? H : W;
    int th = tw == W ? H : W;
    for (int y = 0; y < th; y++)
      for (int x = 0; x < tw; x++) {
        int sx, sy;
        switch (v) {
        case VIGIL_DIH_ROT90: sx = W - 1 - y, sy = x; break;      /* counter-clockwise */
        case VIGIL_DIH_ROT180: sx = W - 1 - x, sy = H - 1 - y; break;
        case VIGIL_DIH_ROT270: sx = y, sy = H - 1 - x; break;     /* clockwise */
        case VIGIL_DIH_FLIPX: sx = x, sy = H - 1 - y; break;
        case VIGIL_DIH_FLIPY: sx = W - 1 - x, sy = y; break;
        case VIGIL_DIH_FLIPPLUS1: sx = y, sy = x; break;
        default: sx = W - 1 - y, sy = H - 1 - x; break;         /* flipminus1 */
        }
        dst[y * tw + x] = src[sy * W + sx];
      }
    vigil_pdq_result r;
    assert_int_equal(vigil_pdq_hash_grey(dst, tw, th, (size_t)tw, 0, &r, NULL), VIGIL_OK);
    int d = vigil_pdq_distance(&r.hash[0], &base.hash[v]);
    if (d > 16 || getenv("VERBOSE")) print_message("variant %s: distance %d\n", vigil_dihedral_name(v), d);
    worst = d > worst ? d : worst;
  }
  free(src);
  free(dst);
  assert_true(worst <= 16);
}

static void test_rgb_grey_luma_agree(void **state) {
  (void)state;
  enum { W = 97, H = 131 };
  uint8_t grey[W * H], rgb[W * H * 3];
  float luma[W * H];
  for (int i = 0; i < W * H; i++) {
    grey[i] = (uint8_t)((i * 7) ^ (i / W));
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
    luma[i] = 0.299f * grey[i] + 0.587f * grey[i] + 0.114f * grey[i];
  }
  vigil_pdq_result a, b;
  assert_int_equal(vigil_pdq_hash_rgb(rgb, W, H, W * 3, 0, &a, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_hash_luma(luma, W, H, W, 0, &b, NULL), VIGIL_OK);
  assert_memory_equal(a.hash[0].bytes, b.hash[0].bytes, 32);
  /* The grey entry point is fullres: R=G=B through the luma formula. */
  assert_int_equal(vigil_pdq_hash_grey(grey, W, H, W, 0, &b, NULL), VIGIL_OK);
  assert_memory_equal(a.hash[0].bytes, b.hash[0].bytes, 32);
  assert_int_equal(a.quality, b.quality);
}

/* A 64x64 picture: the reference takes it as it is for one hash, but its
 * dihedral path blurs it like any other size; vigil follows both. */
static void test_64x64_single_and_dihedral(void **state) {
  (void)state;
  float luma[64 * 64];
  uint64_t rng = 99;
  for (int i = 0; i < 64 * 64; i++) { /* luma as from RGB: fractions, so the width-1 blur's add-subtract rounds */
    uint64_t x = tu_rand(&rng);
    luma[i] = 0.299f * (float)(x & 255) + 0.587f * (float)((x >> 8) & 255) + 0.114f * (float)((x >> 16) & 255);
  }
  vigil_pdq_hash plain, blurred;
  int q1, q2;
  oracle_pdq_luma_blur(luma, 64, 64, 0, &plain, &q1);
  oracle_pdq_luma_blur(luma, 64, 64, 1, &blurred, &q2);
  /* (The window is 1 pixel at this size, so the blur changes values only by
   * the rounding of its add-subtract running sum: rarely a hash bit.) */
  vigil_pdq_result r;
  assert_int_equal(vigil_pdq_hash_luma(luma, 64, 64, 64, 0, &r, NULL), VIGIL_OK);
  assert_memory_equal(r.hash[0].bytes, plain.bytes, 32);
  assert_int_equal(r.quality, q1);
  assert_int_equal(vigil_pdq_hash_luma(luma, 64, 64, 64, 1, &r, NULL), VIGIL_OK);
  assert_memory_equal(r.hash[0].bytes, blurred.bytes, 32);
  assert_int_equal(r.quality, q2);
}

/* The stream's 64x64 picture, before the DCT, must equal the oracle's bit
 * for bit (a hash can hide a last-bit difference; this cannot), on every
 * kernel path, through every way rows enter: RGB copied, borrowed
 * (push_rgb_stable) or written into the stream's own slot (as the JPEG
 * decoder does), grey, luma, and RGB and luma rows mixed in one picture;
 * for sizes that exercise each phase of the box filters: windows of 1 to
 * 33, widths under 64, partial lane batches, rows that end mid-flush. */
static void stream_blur_bitwise(int best) {
  assert_int_equal(vigil__simd_force(best ? vigil__simd_cpu() : VIGIL__SIMD_SCALAR), VIGIL_OK);
  print_message("kernels: %s\n", vigil__pdq_kernels_get()->name);
  uint64_t s = 11;
  static const int fixed[][2] = {{5, 5},   {5, 63},   {63, 5},    {64, 65},   {129, 130},  {17, 3000},
                                 {3000, 9}, {777, 1603}, {1004, 1600}, {2000, 300}, {131, 4099}};
  int nfixed = (int)(sizeof fixed / sizeof fixed[0]);
  for (int n = 0; n < nfixed + 30; n++) {
    int rows = n < nfixed ? fixed[n][0] : 5 + (int)(tu_rand(&s) % 900);
    int cols = n < nfixed ? fixed[n][1] : 5 + (int)(tu_rand(&s) % 900);
    size_t np = (size_t)rows * (size_t)cols;
    uint8_t *rgb = malloc(np * 3), *grey = malloc(np);
    float *luma = malloc(np * sizeof(float)), *gl = malloc(np * sizeof(float));
    assert_non_null(rgb);
    assert_non_null(grey);
    assert_non_null(luma);
    assert_non_null(gl);
    for (size_t i = 0; i < np; i++) {
      for (int c = 0; c < 3; c++) rgb[3 * i + c] = (uint8_t)(tu_rand(&s) >> (c * 3));
      luma[i] = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
      grey[i] = rgb[3 * i + 1];
      gl[i] = (float)grey[i];
    }
    float want[64][64], wantg[64][64], got[64][64];
    oracle_pdq_blur64(luma, rows, cols, want);
    oracle_pdq_blur64(gl, rows, cols, wantg);
    for (int entry = 0; entry < 6; entry++) {
      vigil__pdq_stream *st;
      assert_int_equal(vigil__pdq_stream_new(&st, rows, cols, 1, NULL), VIGIL_OK);
      for (int y = 0; y < rows; y++) {
        if (entry == 0) vigil__pdq_stream_push_rgb(st, rgb + (size_t)y * cols * 3);
        else if (entry == 1) vigil__pdq_stream_push_grey(st, grey + (size_t)y * cols);
        else if (entry == 2) vigil__pdq_stream_push_luma(st, luma + (size_t)y * cols);
        else if (entry == 3) vigil__pdq_stream_push_rgb_stable(st, rgb + (size_t)y * cols * 3);
        else if (entry == 4) {
          uint8_t *slot = vigil__pdq_stream_rgb_slot(st);
          assert_non_null(slot);
          memcpy(slot, rgb + (size_t)y * cols * 3, (size_t)cols * 3);
          vigil__pdq_stream_push_rgb(st, slot);
        } else if (y % 3 == 1) {
          vigil__pdq_stream_push_luma(st, luma + (size_t)y * cols);
        } else {
          vigil__pdq_stream_push_rgb_stable(st, rgb + (size_t)y * cols * 3);
        }
      }
      vigil__pdq_stream_finish(st, got);
      vigil__pdq_stream_free(st);
      if (memcmp(got, entry == 1 ? wantg : want, sizeof got))
        print_message("64x64 differs at %dx%d through entry %d\n", cols, rows, entry);
      assert_memory_equal(got, entry == 1 ? wantg : want, sizeof got);
    }
    free(rgb);
    free(grey);
    free(luma);
    free(gl);
  }
}

static void test_stream_blur_bitwise_portable(void **state) {
  (void)state;
  stream_blur_bitwise(0);
}

static void test_stream_blur_bitwise_best(void **state) {
  (void)state;
  stream_blur_bitwise(1);
}

/* The FMA division (pdq_simd.h) equals IEEE division bit for bit: every
 * significand of one binade (which, scaled by powers of two, is every
 * value the box filters meet) for the window sizes of common pictures
 * (every divisor up to 4096 was checked so once, outside the test suite),
 * and random values of every sign and magnitude for every divisor up to
 * VIGIL__FMA_DIV_MAX and a few above it (where the kernel divides). */
static void test_fma_division_exact(void **state) {
  (void)state;
  assert_int_equal(vigil__simd_force(vigil__simd_cpu()), VIGIL_OK);
  const vigil__pdq_kernels *k = vigil__pdq_kernels_get();
  if (!k->cols_step) {
    print_message("no FMA division on this machine (%s kernels)\n", k->name);
    return;
  }
  enum { BINADE = 1 << 23, RANDOM = 1024 };
  float *sum = malloc(BINADE * sizeof(float)), *out = malloc(BINADE * sizeof(float));
  assert_non_null(sum);
  assert_non_null(out);
  static const int full[] = {3, 5, 6, 9, 10, 15, 4095}; /* 360p to 1080p windows */
  for (size_t i = 0; i < sizeof full / sizeof *full; i++) {
    for (uint32_t m = 0; m < BINADE; m++) {
      uint32_t bits = 0x3f800000u + m;
      memcpy(&sum[m], &bits, 4);
    }
    k->cols_step(sum, NULL, NULL, out, BINADE, (float)full[i]);
    for (uint32_t m = 0; m < BINADE; m++) {
      uint32_t bits = 0x3f800000u + m;
      float v, q = 0;
      memcpy(&v, &bits, 4);
      q = v / (float)full[i];
      if (memcmp(&q, &out[m], 4)) print_message("%.9g / %d: %.9g, not %.9g\n", v, full[i], out[m], q);
      assert_memory_equal(&q, &out[m], 4);
    }
  }
  uint64_t s = 5;
  float v[RANDOM];
  for (int d = 1; d <= VIGIL__FMA_DIV_MAX + 100; d++) {
    for (int i = 0; i < RANDOM; i++) {
      uint32_t bits = (uint32_t)tu_rand(&s);
      bits = (bits & 0x807fffffu) | ((uint32_t)(96 + tu_rand(&s) % 64) << 23); /* 2^-31 .. 2^32, both signs */
      if (i == 0) bits = 0;
      memcpy(&v[i], &bits, 4);
      sum[i] = v[i];
    }
    k->cols_step(sum, NULL, NULL, out, RANDOM, (float)d);
    for (int i = 0; i < RANDOM; i++) {
      float q = v[i] / (float)d;
      assert_memory_equal(&q, &out[i], 4);
    }
  }
  free(sum);
  free(out);
  vigil__simd_force(VIGIL__SIMD_AUTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fma_division_exact),
      cmocka_unit_test(test_hex_roundtrip),
      cmocka_unit_test(test_hex_rejects),
      cmocka_unit_test(test_distance),
      cmocka_unit_test(test_stream_matches_oracle_portable),
      cmocka_unit_test(test_stream_matches_oracle_best),
      cmocka_unit_test(test_stream_blur_bitwise_portable),
      cmocka_unit_test(test_stream_blur_bitwise_best),
      cmocka_unit_test(test_tiny_pictures),
      cmocka_unit_test(test_dihedral_against_rotated_pixels),
      cmocka_unit_test(test_rgb_grey_luma_agree),
      cmocka_unit_test(test_64x64_single_and_dihedral),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
