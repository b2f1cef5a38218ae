/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_media.c - decoding: every format, detection by content, and hostile
 * input (truncated, corrupt, absurd sizes, decompression bombs, non-images)
 * — each must fail with the right status and a message, never crash.
 */
#include "testutil.h"

#include <png.h>

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* after stdio.h, which it needs */

#include "vigil/media.h"

static const char *samples[] = {"rings.jpg", "rings-mirrored.jpg", "waves.png", "waves-grey.png",
                                "swirl.webp", "tiles.gif",         "square.bmp"};
static const vigil_image_format formats[] = {VIGIL_FMT_JPEG, VIGIL_FMT_JPEG, VIGIL_FMT_PNG, VIGIL_FMT_PNG,
                                             VIGIL_FMT_WEBP, VIGIL_FMT_GIF,  VIGIL_FMT_BMP};

static uint8_t *load(const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/samples/%s", VIGIL_SOURCE_DIR, name);
  uint8_t *d = tu_slurp(path, len);
  assert_non_null(d);
  return d;
}

static int hash_buf(const uint8_t *d, size_t n, vigil_pdq_result *r, vigil_error *e) {
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  return vigil_hash_memory(d, n, &o, r, NULL, e);
}

static void test_every_format(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
    size_t n;
    uint8_t *d = load(samples[i], &n);
    vigil_pdq_result r;
    vigil_image_info info;
    vigil_error e;
    int rc = vigil_hash_memory(d, n, NULL, &r, &info, &e);
    if (rc) print_message("%s: %s\n", samples[i], e.message);
    assert_int_equal(rc, VIGIL_OK);
    assert_int_equal(info.format, formats[i]);
    assert_true(r.quality >= 50);
    assert_true(info.width > 0 && info.height > 0);
    free(d);
  }
}

static void test_grey_and_colour_close(void **state) {
  (void)state;
  size_t n1, n2;
  uint8_t *a = load("waves.png", &n1), *b = load("waves-grey.png", &n2);
  vigil_pdq_result ra, rb;
  vigil_image_info ia, ib;
  assert_int_equal(vigil_hash_memory(a, n1, NULL, &ra, &ia, NULL), 0);
  assert_int_equal(vigil_hash_memory(b, n2, NULL, &rb, &ib, NULL), 0);
  assert_int_equal(ia.grey, 0);
  assert_int_equal(ib.grey, 1);
  assert_true(vigil_pdq_distance(&ra.hash[0], &rb.hash[0]) <= 16);
  free(a);
  free(b);
}

static void test_mirror_found_by_dihedral(void **state) {
  (void)state;
  size_t n1, n2;
  uint8_t *a = load("rings.jpg", &n1), *b = load("rings-mirrored.jpg", &n2);
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  o.dihedral = 1;
  vigil_pdq_result ra, rb;
  assert_int_equal(vigil_hash_memory(a, n1, &o, &ra, NULL, NULL), 0);
  assert_int_equal(vigil_hash_memory(b, n2, &o, &rb, NULL, NULL), 0);
  assert_true(vigil_pdq_distance(&ra.hash[VIGIL_DIH_FLIPY], &rb.hash[0]) <= 10);
  assert_true(vigil_pdq_distance(&ra.hash[0], &rb.hash[0]) > 31); /* a mirror defeats the plain hash */
  free(a);
  free(b);
}

/* Cut short, every format fails or, when enough rows decode to be what a
 * viewer shows, hashes and says the file is damaged: never a silent hash. */
static void test_truncated_inputs_fail(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
    size_t n;
    uint8_t *d = load(samples[i], &n);
    static const double cuts[] = {0.02, 0.3, 0.7, 0.97};
    for (int c = 0; c < 4; c++) {
      size_t m = (size_t)(n * cuts[c]);
      vigil_pdq_result r;
      vigil_image_info info;
      vigil_error e;
      vigil_error_clear(&e);
      vigil_hash_opts o;
      vigil_hash_opts_default(&o);
      int rc = vigil_hash_memory(d, m, &o, &r, &info, &e);
      if (rc == VIGIL_OK) {
        if (!info.damaged) print_message("%s cut to %zu of %zu bytes hashed as undamaged\n", samples[i], m, n);
        assert_true(info.damaged);
        assert_true((int64_t)info.rows_decoded * 100 >= 90LL * info.height);
        assert_true(cuts[c] > 0.5);
        /* refused when no damage is accepted */
        o.min_rows_percent = 100;
        assert_int_equal(vigil_hash_memory(d, m, &o, &r, &info, &e), VIGIL_ECORRUPT);
      } else {
        assert_true(strlen(e.message) > 0);
      }
    }
    free(d);
  }
}

/* Hashes the sample whole and cut at `keep` bytes, with fixed options. */
static int hash_cut(const char *name, double keep, int pct, vigil_pdq_result *whole, vigil_pdq_result *cut,
                    vigil_image_info *info, vigil_error *e) {
  size_t n;
  uint8_t *d = load(name, &n);
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  o.min_rows_percent = pct;
  assert_int_equal(vigil_hash_memory(d, n, &o, whole, NULL, e), VIGIL_OK);
  size_t m = keep > 1 ? n - (size_t)keep : (size_t)(n * keep);
  int rc = vigil_hash_memory(d, m, &o, cut, info, e);
  free(d);
  return rc;
}

/* The red-team case: a JPEG without its 2-byte end marker decodes every
 * pixel in libjpeg and in browsers; it must hash as the whole file does. */
static void test_truncated_jpeg_hashes(void **state) {
  (void)state;
  vigil_pdq_result whole, cut;
  vigil_image_info info;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = hash_cut("rings.jpg", 2, 0, &whole, &cut, &info, &e);
  if (rc) print_message("%s\n", e.message);
  assert_int_equal(rc, VIGIL_OK);
  assert_true(info.damaged);
  assert_true(info.rows_decoded >= info.height * 9 / 10 && info.rows_decoded <= info.height);
  assert_true(vigil_pdq_distance(&whole.hash[0], &cut.hash[0]) <= 2);
  /* half a picture is not what was uploaded: refused, saying why */
  vigil_error_clear(&e);
  assert_int_equal(hash_cut("rings.jpg", 0.5, 0, &whole, &cut, &info, &e), VIGIL_ECORRUPT);
  assert_non_null(strstr(e.message, "rows decode"));
  assert_true(info.damaged);
  assert_true(info.rows_decoded > 0 && info.rows_decoded < info.height);
  /* ...unless the caller accepts that little */
  assert_int_equal(hash_cut("rings.jpg", 0.5, 1, &whole, &cut, &info, &e), VIGIL_OK);
  assert_true(info.damaged);
  /* an intact file is not damaged */
  size_t n;
  uint8_t *d = load("rings.jpg", &n);
  assert_int_equal(vigil_hash_memory(d, n, NULL, &whole, &info, &e), VIGIL_OK);
  assert_false(info.damaged);
  assert_int_equal(info.rows_decoded, info.height);
  free(d);
}

/* PNG, GIF and WebP cut near their end keep the rows that decode. */
static void test_truncated_other_formats(void **state) {
  (void)state;
  static const char *names[] = {"waves.png", "tiles.gif", "swirl.webp"};
  for (int i = 0; i < 3; i++) {
    vigil_pdq_result whole, cut;
    vigil_image_info info;
    vigil_error e;
    vigil_error_clear(&e);
    /* keep all but the last 2% of the bytes, accept down to 50% of the rows */
    int rc = hash_cut(names[i], 0.98, 50, &whole, &cut, &info, &e);
    if (rc) print_message("%s: %s\n", names[i], e.message);
    assert_int_equal(rc, VIGIL_OK);
    assert_true(info.damaged);
    assert_true(info.rows_decoded < info.height);
    assert_true(vigil_pdq_distance(&whole.hash[0], &cut.hash[0]) <= 40);
    /* cut at 10%: refused */
    assert_int_equal(hash_cut(names[i], 0.1, 0, &whole, &cut, &info, &e), VIGIL_ECORRUPT);
  }
}

/* The red-team GIF declared a 10000x10000 screen around a 1x1 frame (35
 * bytes, 113 MB per decode).  Here 10000x1000, to keep the test fast under
 * sanitizers: allocated by the frame, an 8 MiB decode budget is enough,
 * where a screen-sized canvas alone would take 10 MB. */
static void test_gif_bomb_by_frame(void **state) {
  (void)state;
  static const uint8_t bomb[] = {'G', 'I', 'F', '8', '9', 'a', 0x10, 0x27, 0xE8, 0x03, 0x80, 0, 0,
                                 0,   0,   0,   255, 255, 255, /* global colour table of 2 */
                                 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, /* 1x1 frame at 0,0 */
                                 2, 2, 0x44, 0x01, 0, 0x3B};
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  o.max_decode_bytes = 8u << 20;
  vigil_pdq_result r;
  vigil_image_info info;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil_hash_memory(bomb, sizeof bomb, &o, &r, &info, &e);
  if (rc) print_message("%s\n", e.message);
  assert_int_equal(rc, VIGIL_OK);
  assert_int_equal(info.width, 10000);
  assert_false(info.damaged);
  /* a budget under what the hashing state needs: refused, naming the budget */
  o.max_decode_bytes = 1u << 20;
  assert_int_equal(vigil_hash_memory(bomb, sizeof bomb, &o, &r, &info, &e), VIGIL_ELIMIT);
  assert_non_null(strstr(e.message, "budget"));
}

/* The budget refuses a picture before its pixel buffer exists. */
static void test_decode_memory_budget(void **state) {
  (void)state;
  static const char *names[] = {"rings.jpg", "waves.png", "swirl.webp", "tiles.gif"};
  for (int i = 0; i < 4; i++) {
    size_t n;
    uint8_t *d = load(names[i], &n);
    vigil_hash_opts o;
    vigil_hash_opts_default(&o);
    o.max_decode_bytes = 64u << 10;
    vigil_pdq_result r;
    vigil_error e;
    assert_int_equal(vigil_hash_memory(d, n, &o, &r, NULL, &e), VIGIL_ELIMIT);
    o.max_decode_bytes = 64u << 20;
    assert_int_equal(vigil_hash_memory(d, n, &o, &r, NULL, &e), VIGIL_OK);
    free(d);
  }
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return ~c;
}

static void put32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* Patches a sample's header to claim a huge picture; must be refused
 * before any pixel buffer is allocated (ASan would flag a 10 GB attempt). */
static void expect_limit(uint8_t *d, size_t n, const char *what) {
  vigil_pdq_result r;
  vigil_error e;
  int rc = hash_buf(d, n, &r, &e);
  if (rc != VIGIL_ELIMIT) print_message("%s: rc %d: %s\n", what, rc, e.message);
  assert_int_equal(rc, VIGIL_ELIMIT);
  assert_non_null(strstr(e.message, "limit"));
}

static void test_decompression_bombs(void **state) {
  (void)state;
  size_t n;
  /* PNG: IHDR width/height at 16..23, CRC after the chunk data. */
  uint8_t *d = load("waves.png", &n);
  put32be(d + 16, 100000);
  put32be(d + 20, 100000);
  put32be(d + 29, crc32_of(d + 12, 17));
  expect_limit(d, n, "png");
  free(d);
  /* JPEG: the SOF0 marker's height and width. */
  d = load("rings.jpg", &n);
  for (size_t i = 2; i + 9 < n; i++)
    if (d[i] == 0xFF && d[i + 1] == 0xC0) {
      d[i + 5] = 0xEA, d[i + 6] = 0x60; /* 60000 */
      d[i + 7] = 0xEA, d[i + 8] = 0x60;
      break;
    }
  expect_limit(d, n, "jpeg");
  free(d);
  /* GIF: logical screen 65535 x 65535. */
  d = load("tiles.gif", &n);
  d[6] = d[7] = d[8] = d[9] = 0xFF;
  expect_limit(d, n, "gif");
  free(d);
  /* BMP: 50000 x 50000. */
  d = load("square.bmp", &n);
  d[18] = 0x50, d[19] = 0xC3, d[20] = d[21] = 0;
  d[22] = 0x50, d[23] = 0xC3, d[24] = d[25] = 0;
  expect_limit(d, n, "bmp");
  free(d);
  /* WebP (VP8 lossy): 14-bit width and height after the start code. */
  d = load("swirl.webp", &n);
  assert_memory_equal(d + 23, "\x9d\x01\x2a", 3);
  d[26] = 0xFF, d[27] = 0x3F, d[28] = 0xFF, d[29] = 0x3F;
  expect_limit(d, n, "webp");
  free(d);
}

static void test_pixel_limit_option(void **state) {
  (void)state;
  size_t n;
  uint8_t *d = load("rings.jpg", &n);
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  o.max_pixels = 1024 * 767;
  vigil_pdq_result r;
  vigil_error e;
  assert_int_equal(vigil_hash_memory(d, n, &o, &r, NULL, &e), VIGIL_ELIMIT);
  o.max_pixels = 1024 * 768;
  assert_int_equal(vigil_hash_memory(d, n, &o, &r, NULL, &e), VIGIL_OK);
  o.max_bytes = n - 1;
  assert_int_equal(vigil_hash_memory(d, n, &o, &r, NULL, &e), VIGIL_ELIMIT);
  free(d);
}

static void test_not_images(void **state) {
  (void)state;
  vigil_pdq_result r;
  vigil_error e;
  const char *text = "hello, this is not an image at all";
  assert_int_equal(hash_buf((const uint8_t *)text, strlen(text), &r, &e), VIGIL_EFORMAT);
  assert_non_null(strstr(e.message, "unsupported format"));
  assert_int_equal(hash_buf((const uint8_t *)"II*\0\x08\0\0\0\0\0\0\0", 12, &r, &e), VIGIL_EFORMAT);
  assert_non_null(strstr(e.message, "TIFF"));
  /* HEIF and AVIF pictures (an ISO media file's ftyp box with a picture's
   * brand) are named as such, not sent off to video hashing */
  static const struct {
    const char *brand, *name;
  } pics[] = {{"heic", "HEIF"}, {"heix", "HEIF"}, {"mif1", "HEIF"},
              {"msf1", "HEIF"}, {"avif", "AVIF"}, {"avis", "AVIF"}};
  uint8_t ftyp[24] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 0, 0, 0, 0, 0, 0, 0, 0, 'm', 'i', 'f', '1', 'm', 'i', 'a', 'f'};
  for (size_t i = 0; i < sizeof pics / sizeof pics[0]; i++) {
    memcpy(ftyp + 8, pics[i].brand, 4);
    assert_int_equal(hash_buf(ftyp, sizeof ftyp, &r, &e), VIGIL_EFORMAT);
    if (!strstr(e.message, pics[i].name) || strstr(e.message, "video"))
      fail_msg("brand %s: '%s'", pics[i].brand, e.message);
  }
  memcpy(ftyp + 8, "isom", 4);
  assert_int_equal(hash_buf(ftyp, sizeof ftyp, &r, &e), VIGIL_EFORMAT);
  assert_non_null(strstr(e.message, "video hashing"));
  assert_int_equal(hash_buf((const uint8_t *)"", 0, &r, &e), VIGIL_ECORRUPT);
  /* Right magic, garbage after it. */
  uint8_t junk[300];
  memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
  memset(junk + 8, 0x41, sizeof junk - 8);
  assert_int_equal(hash_buf(junk, sizeof junk, &r, &e), VIGIL_ECORRUPT);
  memcpy(junk, "\xFF\xD8\xFF", 3);
  assert_int_equal(hash_buf(junk, sizeof junk, &r, &e), VIGIL_ECORRUPT);
  memcpy(junk, "GIF89a", 6);
  assert_int_not_equal(hash_buf(junk, sizeof junk, &r, &e), VIGIL_OK);
  memcpy(junk, "RIFF\0\0\0\0WEBP", 12);
  assert_int_equal(hash_buf(junk, sizeof junk, &r, &e), VIGIL_ECORRUPT);
  memcpy(junk, "BM", 2);
  assert_int_not_equal(hash_buf(junk, sizeof junk, &r, &e), VIGIL_OK);
}

static void test_zero_sized(void **state) {
  (void)state;
  size_t n;
  uint8_t *d = load("waves.png", &n);
  put32be(d + 16, 0);
  put32be(d + 29, crc32_of(d + 12, 17));
  vigil_pdq_result r;
  vigil_error e;
  assert_int_equal(hash_buf(d, n, &r, &e), VIGIL_ECORRUPT);
  free(d);
  d = load("square.bmp", &n);
  memset(d + 18, 0, 4);
  assert_int_equal(hash_buf(d, n, &r, &e), VIGIL_ECORRUPT);
  free(d);
}

static void test_file_errors(void **state) {
  (void)state;
  vigil_pdq_result r;
  vigil_error e;
  assert_int_equal(vigil_hash_file("/nonexistent/x.jpg", NULL, &r, NULL, &e), VIGIL_EIO);
  assert_non_null(strstr(e.message, "No such file"));
  assert_int_equal(vigil_hash_file(VIGIL_SOURCE_DIR "/samples", NULL, &r, NULL, &e), VIGIL_EIO);
  assert_non_null(strstr(e.message, "directory"));
}

static void test_fast_mode_close(void **state) {
  (void)state;
  size_t n;
  uint8_t *d = load("rings.jpg", &n);
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  vigil_pdq_result exact, fast;
  assert_int_equal(vigil_hash_memory(d, n, &o, &exact, NULL, NULL), 0);
  o.fast = 1;
  assert_int_equal(vigil_hash_memory(d, n, &o, &fast, NULL, NULL), 0);
  assert_true(vigil_pdq_distance(&exact.hash[0], &fast.hash[0]) <= 31);
  free(d);
}

/* A palette PNG whose palette has transparency (tRNS) hashes like the same
 * picture stored as plain RGB: transparency is dropped, as PIL does. */
typedef struct membuf {
  uint8_t *p;
  size_t n, cap;
} membuf;

static void mem_write(png_structp png, png_bytep data, png_size_t len) {
  membuf *m = png_get_io_ptr(png);
  if (m->n + len > m->cap) {
    m->cap = (m->n + len) * 2;
    m->p = realloc(m->p, m->cap);
    if (!m->p) png_error(png, "out of memory");
  }
  memcpy(m->p + m->n, data, len);
  m->n += len;
}

static void mem_flush(png_structp png) { (void)png; }

static membuf write_png(int palette) {
  enum { W = 48, H = 40 };
  static const png_color pal[4] = {{200, 30, 30}, {20, 160, 40}, {30, 40, 220}, {240, 240, 240}};
  membuf m = {NULL, 0, 0};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  assert_non_null(info);
  if (setjmp(png_jmpbuf(png))) fail_msg("libpng could not write the test picture");
  png_set_write_fn(png, &m, mem_write, mem_flush);
  png_set_IHDR(png, info, W, H, 8, palette ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette) {
    png_byte alpha[4] = {255, 128, 0, 255};
    png_set_PLTE(png, info, pal, 4);
    png_set_tRNS(png, info, alpha, 4, NULL);
  }
  png_write_info(png, info);
  png_byte row[W * 3];
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) {
      int k = ((x / 6) + (y / 5) * 3) % 4;
      if (palette) row[x] = (png_byte)k;
      else memcpy(row + 3 * x, &pal[k], 3);
    }
    png_write_row(png, row);
  }
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return m;
}

static void test_palette_with_transparency(void **state) {
  (void)state;
  membuf pal = write_png(1), rgb = write_png(0);
  vigil_pdq_result a, b;
  vigil_error err;
  assert_int_equal(vigil_hash_memory(pal.p, pal.n, NULL, &a, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_hash_memory(rgb.p, rgb.n, NULL, &b, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_pdq_distance(&a.hash[0], &b.hash[0]), 0);
  assert_int_equal(a.quality, b.quality);
  free(pal.p);
  free(rgb.p);
}

/* A small progressive JPEG with thousands of valid scans (each coefficient
 * band sent alone, then refined bit by bit) costs a full decoding pass per
 * scan: refused by its scan count, with ELIMIT, before it burns the CPU. */
static void test_jpeg_scan_bomb(void **state) {
  (void)state;
  enum { W = 64, H = 64, BANDS = 63, BITS = 10 };
  static jpeg_scan_info scans[1 + BANDS * (BITS + 1)];
  int n = 0;
  scans[n++] = (jpeg_scan_info){1, {0}, 0, 0, 0, 0}; /* DC of the one component */
  for (int k = 1; k <= BANDS; k++) {
    scans[n++] = (jpeg_scan_info){1, {0}, k, k, 0, BITS}; /* first pass, low bits dropped */
    for (int ah = BITS; ah > 0; ah--) scans[n++] = (jpeg_scan_info){1, {0}, k, k, ah, ah - 1}; /* refinements */
  }
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  unsigned char *out = NULL;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &out, &len);
  c.image_width = W;
  c.image_height = H;
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  c.scan_info = scans;
  c.num_scans = n;
  jpeg_start_compress(&c, TRUE);
  unsigned char row[W];
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) row[x] = (unsigned char)((x * 5) ^ (y * 3));
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  assert_true(n > 500);
  vigil_pdq_result res;
  vigil_error err;
  assert_int_equal(vigil_hash_memory(out, len, NULL, &res, NULL, &err), VIGIL_ELIMIT);
  assert_non_null(strstr(err.message, "scans"));
  free(out);
}

typedef struct pipe_writer {
  int fd;
  size_t n;
} pipe_writer;

static void *write_zeros(void *arg) {
  pipe_writer *w = arg;
  static const uint8_t z[4096];
  size_t left = w->n;
  while (left) {
    ssize_t k = write(w->fd, z, left < sizeof z ? left : sizeof z);
    if (k <= 0) break;
    left -= (size_t)k;
  }
  close(w->fd);
  return NULL;
}

/* A stream over the read limit (a device, a pipe) is refused after reading
 * at most one byte more than the limit: /dev/zero was read to 512 MiB
 * against a 256 MiB limit. */
static void test_read_limit_on_streams(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pipe_writer w = {p[1], 300000};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, write_zeros, &w), 0);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
  uint8_t *data = NULL;
  size_t len = 0;
  vigil_error e;
  assert_int_equal(vigil_read_file(path, 100000, &data, &len, &e), VIGIL_ELIMIT);
  assert_null(data);
  /* what is left in the pipe is what was not read */
  size_t rest = 0;
  uint8_t buf[8192];
  ssize_t k;
  while ((k = read(p[0], buf, sizeof buf)) > 0) rest += (size_t)k;
  pthread_join(t, NULL);
  close(p[0]);
  assert_true(300000 - rest <= 100001);
  /* /dev/zero: refused, not read forever */
  assert_int_equal(vigil_read_file("/dev/zero", 1 << 20, &data, &len, &e), VIGIL_ELIMIT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_format),         cmocka_unit_test(test_grey_and_colour_close),
      cmocka_unit_test(test_mirror_found_by_dihedral), cmocka_unit_test(test_truncated_inputs_fail),
      cmocka_unit_test(test_decompression_bombs),  cmocka_unit_test(test_pixel_limit_option),
      cmocka_unit_test(test_not_images),           cmocka_unit_test(test_zero_sized),
      cmocka_unit_test(test_file_errors),          cmocka_unit_test(test_fast_mode_close),
      cmocka_unit_test(test_palette_with_transparency),
      cmocka_unit_test(test_jpeg_scan_bomb),       cmocka_unit_test(test_truncated_jpeg_hashes),
      cmocka_unit_test(test_truncated_other_formats), cmocka_unit_test(test_gif_bomb_by_frame),
      cmocka_unit_test(test_decode_memory_budget), cmocka_unit_test(test_read_limit_on_streams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
