/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_media_bmp_damaged.c - a BMP whose pixel data ends early is damaged
 * like every other format: hashed as a viewer shows it when enough rows
 * are there (marked damaged, with the rows that decoded), refused naming
 * the rows otherwise.
 *
 * The pictures are built here, bottom-up and top-down, and the expected
 * hash is computed independently from pixels with vigil_pdq_hash_rgb: the
 * rows the file holds, and mid grey where the lost rows were (the top of
 * a bottom-up file, the bottom of a top-down one).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/media.h"
#include "vigil/pdq.h"

enum { W = 64, H = 48, STRIDE = W * 3 }; /* 192: a multiple of 4, no padding */

static uint8_t px(int x, int y, int c) { return (uint8_t)((x * 7 + y * 13 + c * 50 + (x / 8 + y / 8) % 2 * 90) & 255); }

/* A 24-bit BMP of W x H with rows bottom-up (or top-down), into buf. */
static size_t make_bmp(uint8_t *buf, int top_down) {
  memset(buf, 0, 54);
  buf[0] = 'B', buf[1] = 'M';
  size_t len = 54 + (size_t)STRIDE * H;
  for (int i = 0; i < 4; i++) buf[2 + i] = (uint8_t)(len >> (8 * i));
  buf[10] = 54, buf[14] = 40, buf[18] = W;
  int32_t h = top_down ? -H : H;
  for (int i = 0; i < 4; i++) buf[22 + i] = (uint8_t)((uint32_t)h >> (8 * i));
  buf[26] = 1, buf[28] = 24;
  for (int y = 0; y < H; y++) {
    uint8_t *row = buf + 54 + (size_t)STRIDE * (top_down ? y : H - 1 - y);
    for (int x = 0; x < W; x++) row[3 * x] = px(x, y, 2), row[3 * x + 1] = px(x, y, 1), row[3 * x + 2] = px(x, y, 0);
  }
  return len;
}

/* The picture as a viewer shows it with only `kept` rows in the file. */
static void expected(int top_down, int kept, vigil_pdq_result *r) {
  static uint8_t rgb[H * STRIDE];
  for (int y = 0; y < H; y++) {
    int lost = top_down ? y >= kept : y < H - kept;
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++) rgb[y * STRIDE + 3 * x + c] = lost ? 128 : px(x, y, c);
  }
  assert_int_equal(vigil_pdq_hash_rgb(rgb, W, H, STRIDE, 0, r, NULL), 0);
}

static void test_bmp_cut(void **state) {
  (void)state;
  static uint8_t buf[54 + STRIDE * H];
  for (int top_down = 0; top_down < 2; top_down++) {
    size_t len = make_bmp(buf, top_down);
    vigil_pdq_result r, want;
    vigil_image_info info;
    vigil_error e;
    vigil_error_clear(&e);
    /* whole: not damaged, and the same hash as its pixels */
    assert_int_equal(vigil_hash_memory(buf, len, NULL, &r, &info, &e), 0);
    assert_false(info.damaged);
    assert_int_equal(info.rows_decoded, H);
    expected(top_down, H, &want);
    assert_int_equal(vigil_pdq_distance(&r.hash[0], &want.hash[0]), 0);
    /* 45 of 48 rows and half a row: hashed as shown, marked damaged */
    size_t cut = 54 + (size_t)STRIDE * 45 + STRIDE / 2;
    int rc = vigil_hash_memory(buf, cut, NULL, &r, &info, &e);
    if (rc) print_message("%s\n", e.message);
    assert_int_equal(rc, VIGIL_OK);
    assert_true(info.damaged);
    assert_int_equal(info.rows_decoded, 45);
    expected(top_down, 45, &want);
    assert_int_equal(vigil_pdq_distance(&r.hash[0], &want.hash[0]), 0);
    /* 30 of 48: refused, saying how many rows there were */
    cut = 54 + (size_t)STRIDE * 30;
    vigil_error_clear(&e);
    assert_int_equal(vigil_hash_memory(buf, cut, NULL, &r, &info, &e), VIGIL_ECORRUPT);
    assert_non_null(strstr(e.message, "damaged BMP"));
    assert_non_null(strstr(e.message, "only 30 of 48 rows"));
    assert_true(info.damaged);
    assert_int_equal(info.rows_decoded, 30);
    /* ...unless the caller accepts that little */
    vigil_hash_opts o;
    vigil_hash_opts_default(&o);
    o.min_rows_percent = 50;
    assert_int_equal(vigil_hash_memory(buf, cut, &o, &r, &info, &e), VIGIL_OK);
    assert_true(info.damaged);
    expected(top_down, 30, &want);
    assert_int_equal(vigil_pdq_distance(&r.hash[0], &want.hash[0]), 0);
    /* no damage accepted: even one row lost is refused */
    o.min_rows_percent = 100;
    assert_int_equal(vigil_hash_memory(buf, len - 1, &o, &r, &info, &e), VIGIL_ECORRUPT);
    /* no pixel data at all, or an offset past the end */
    assert_int_equal(vigil_hash_memory(buf, 54, NULL, &r, &info, &e), VIGIL_ECORRUPT);
    assert_non_null(strstr(e.message, "only 0 of 48 rows"));
    buf[10] = 0xFF, buf[11] = 0xFF;
    assert_int_equal(vigil_hash_memory(buf, len, NULL, &r, &info, &e), VIGIL_ECORRUPT);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_bmp_cut)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
