/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_png.c - PNG through libpng, streamed row by row.
 *
 * Transforms give what PIL's convert('RGB') gives: palettes expanded, grey
 * of 1, 2 and 4 bits scaled to 0..255, 16-bit samples reduced to their high
 * byte, alpha dropped without compositing (the colour stored under a
 * transparent pixel is hashed, as every PDQ implementation does).  No gamma
 * correction is applied.  Interlaced files need all passes before the first
 * row is final, so they are decoded into one buffer, within the pixel limit.
 *
 * A file that ends early or turns corrupt part-way keeps the rows read
 * before the error, as browsers show them (decode.h); for an interlaced
 * file only rows above the break in the last pass are final.
 */
#include "media/decode.h"
#include "common/internal.h"

#include <png.h>
#include <setjmp.h>
#include <string.h>

typedef struct png_src {
  const uint8_t *data;
  size_t len, pos;
  char msg[200];
} png_src;

static void read_fn(png_structp png, png_bytep out, size_t n) {
  png_src *s = png_get_io_ptr(png);
  if (n > s->len - s->pos) png_error(png, "file ends early (truncated PNG)");
  memcpy(out, s->data + s->pos, n);
  s->pos += n;
}

static void on_error(png_structp png, png_const_charp msg) {
  png_src *s = png_get_error_ptr(png);
  snprintf(s->msg, sizeof s->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

int vigil__decode_png(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                      vigil_image_info *info, vigil_error *err) {
  png_src src = {data, len, 0, ""};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
  if (!png) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  png_infop pinfo = png_create_info_struct(png);
  uint8_t *volatile buf = NULL;
  volatile int rc = VIGIL_OK;
  volatile int last_pass = 0; /* rows read now are final */
  volatile png_uint_32 at_row = 0;
  volatile int interlaced = 0;
  volatile size_t row_bytes = 0;
  if (!pinfo) {
    png_destroy_read_struct(&png, NULL, NULL);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    if (rc != VIGIL_OK) goto done;
    if (strstr(src.msg, "ut of memory")) { /* the node's state, not the file's (decode_jpeg.c) */
      rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory decoding a PNG");
      goto done;
    }
    if (!sink->begun) {
      rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt PNG: %s", src.msg);
      goto done;
    }
    int good = last_pass ? (int)at_row : 0;
    if (buf && interlaced) /* the final rows are in buf */
      for (png_uint_32 y = 0; y < (png_uint_32)good; y++) vigil__pixsink_row(sink, buf + row_bytes * y);
    rc = vigil__damaged(sink, good, o, info, "PNG", src.msg, err);
    goto done;
  }
  png_set_read_fn(png, &src, read_fn);
  /* Our own pixel limit is checked below; lift libpng's smaller default. */
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_set_chunk_malloc_max(png, 64u << 20);
  png_read_info(png, pinfo);
  png_uint_32 w = png_get_image_width(png, pinfo), h = png_get_image_height(png, pinfo);
  info->width = (int)w;
  info->height = (int)h;
  rc = vigil__check_dims(w, h, o, "PNG", err);
  if (rc) goto done;
  int ct = png_get_color_type(png, pinfo), depth = png_get_bit_depth(png, pinfo);
  if (depth == 16) png_set_strip_16(png);
  if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  /* Alpha is dropped, as PIL's convert("RGB") does; unconditionally, since a
   * palette with a tRNS chunk only gains its alpha channel in the expansion. */
  png_set_strip_alpha(png);
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, pinfo);
  int grey = !(png_get_color_type(png, pinfo) & PNG_COLOR_MASK_COLOR);
  int channels = png_get_channels(png, pinfo);
  if (channels != (grey ? 1 : 3) || png_get_bit_depth(png, pinfo) != 8) {
    rc = vigil__seterr(err, VIGIL_EFORMAT, "unsupported PNG layout (%d channels)", channels);
    goto done;
  }
  info->grey = grey;
  size_t rowbytes = png_get_rowbytes(png, pinfo);
  rc = vigil__check_mem((uint64_t)rowbytes * (passes > 1 ? h : 2) + (64u << 10), w, h, o, "PNG", err);
  if (rc) goto done;
  buf = vigil__mallocarray(rowbytes, passes > 1 ? (size_t)h : 1);
  if (!buf) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory for a %ux%u PNG", (unsigned)w, (unsigned)h);
    goto done;
  }
  rc = vigil__pixsink_begin(sink, (int)w, (int)h, grey, err);
  if (rc) goto done;
  if (passes > 1) {
    memset(buf, 0, rowbytes * h);
    row_bytes = rowbytes;
    interlaced = 1;
    for (int p = 0; p < passes; p++) {
      last_pass = p == passes - 1;
      for (png_uint_32 y = 0; y < h; y++) {
        at_row = y;
        png_read_row(png, buf + rowbytes * y, NULL);
      }
    }
    for (png_uint_32 y = 0; y < h; y++) vigil__pixsink_row(sink, buf + rowbytes * y);
  } else {
    last_pass = 1;
    for (png_uint_32 y = 0; y < h; y++) {
      at_row = y;
      png_read_row(png, buf, NULL);
      vigil__pixsink_row(sink, buf);
    }
  }
  /* The trailing chunks (IEND, text) do not affect the pixels. */
done:
  png_destroy_read_struct(&png, &pinfo, NULL);
  free(buf);
  return rc;
}
