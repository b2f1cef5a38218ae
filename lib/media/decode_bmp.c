/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_bmp.c - Windows BMP, uncompressed (no Debian library decodes BMP
 * on its own, and the uncompressed layout is a few lines).
 *
 * Supported: BITMAPCOREHEADER and BITMAPINFOHEADER and later, 1/4/8-bit
 * palettes, 16-bit (5-5-5, or masks), 24-bit, 32-bit (BGRX, or masks),
 * bottom-up and top-down.  RLE and embedded JPEG/PNG are refused clearly.
 * Every offset is checked against the file length before it is read.
 *
 * A file whose pixel data ends early is damaged like any other format's
 * (decode.h): the complete rows it holds are the ones a viewer shows, and
 * the rest are mid grey.  The rows are stored bottom-up unless the height
 * is negative, so a cut bottom-up file has lost its top rows: those grey
 * rows come first, then the rows the file has.  Too few rows
 * (min_rows_percent) are refused, saying how many there were.
 */
#include "media/decode.h"
#include "common/internal.h"

#include <string.h>

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }

/* Scale the masked field of v to 0..255. */
static uint8_t field(uint32_t v, uint32_t mask) {
  if (!mask) return 0;
  int shift = __builtin_ctz(mask);
  uint32_t m = mask >> shift, x = (v & mask) >> shift;
  return (uint8_t)((uint64_t)x * 255 / m);
}

int vigil__decode_bmp(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                      vigil_image_info *info, vigil_error *err) {
  if (len < 26) return vigil__seterr(err, VIGIL_ECORRUPT, "truncated BMP header");
  uint32_t off = rd32(data + 10), hsize = rd32(data + 14);
  int64_t w, h;
  uint32_t bpp, comp = 0, ncolors = 0, masks[3] = {0, 0, 0};
  size_t pal_off = 14 + (size_t)hsize, pal_entry = 4;
  if (hsize == 12) {
    w = rd16(data + 18);
    h = (int16_t)rd16(data + 20);
    bpp = rd16(data + 24);
    pal_entry = 3;
  } else if (hsize >= 40 && len >= 54) {
    w = (int32_t)rd32(data + 18);
    h = (int32_t)rd32(data + 22);
    bpp = rd16(data + 28);
    comp = rd32(data + 30);
    ncolors = rd32(data + 46);
    if (comp == 3) { /* BI_BITFIELDS: masks follow a 40-byte header */
      if (len < 14 + 40 + 12) return vigil__seterr(err, VIGIL_ECORRUPT, "truncated BMP header");
      for (int i = 0; i < 3; i++) masks[i] = rd32(data + 54 + 4 * i);
      if (hsize == 40) pal_off += 12;
    }
  } else {
    return vigil__seterr(err, VIGIL_ECORRUPT, "corrupt BMP: unknown header size %u", hsize);
  }
  int top_down = h < 0;
  if (top_down) h = -h;
  info->width = (int)(w > INT32_MAX ? -1 : w);
  info->height = (int)(h > INT32_MAX ? -1 : h);
  int rc = vigil__check_dims(w, h, o, "BMP", err);
  if (rc) return rc;
  if (comp == 1 || comp == 2) return vigil__seterr(err, VIGIL_EFORMAT, "unsupported format: RLE-compressed BMP");
  if (comp == 4 || comp == 5) return vigil__seterr(err, VIGIL_EFORMAT, "unsupported format: BMP holding JPEG/PNG");
  if (comp != 0 && comp != 3) return vigil__seterr(err, VIGIL_EFORMAT, "unsupported BMP compression %u", comp);
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    return vigil__seterr(err, VIGIL_EFORMAT, "unsupported BMP depth of %u bits", bpp);
  if (comp == 0 && bpp == 16) {
    masks[0] = 0x7C00;
    masks[1] = 0x03E0;
    masks[2] = 0x001F;
  }
  if (comp == 0 && bpp == 32) {
    masks[0] = 0xFF0000;
    masks[1] = 0xFF00;
    masks[2] = 0xFF;
  }
  uint8_t pal[256][3];
  memset(pal, 0, sizeof pal);
  if (bpp <= 8) {
    uint32_t n = ncolors ? ncolors : 1u << bpp;
    if (n > 256) n = 256;
    if (pal_off > len || (len - pal_off) / pal_entry < n)
      return vigil__seterr(err, VIGIL_ECORRUPT, "truncated BMP palette");
    for (uint32_t i = 0; i < n; i++) {
      const uint8_t *p = data + pal_off + i * pal_entry;
      pal[i][0] = p[2];
      pal[i][1] = p[1];
      pal[i][2] = p[0];
    }
  }
  size_t stride = (((size_t)w * bpp + 31) / 32) * 4;
  size_t have = off > len ? 0 : (len - off) / stride; /* complete rows in the file */
  int64_t good = have < (size_t)h ? (int64_t)have : h, lost = h - good;
  static const char why[] = "pixel data ends early";
  if (lost && !vigil__damaged_enough((int)good, (int)h, o)) { /* refused, naming the rows */
    if ((rc = vigil__pixsink_begin(sink, (int)w, (int)h, 0, err))) return rc;
    return vigil__damaged(sink, (int)good, o, info, "BMP", why, err);
  }
  uint8_t *row = malloc((size_t)w * 3);
  if (!row) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  rc = vigil__pixsink_begin(sink, (int)w, (int)h, 0, err);
  int64_t first = 0;       /* the first row of the picture the file holds */
  if (lost && !top_down) { /* the top rows are the ones lost */
    memset(row, 128, (size_t)w * 3);
    for (; rc == VIGIL_OK && first < lost; first++) vigil__pixsink_row(sink, row);
  }
  for (int64_t y = first; rc == VIGIL_OK && y < first + good; y++) {
    const uint8_t *s = data + off + stride * (size_t)(top_down ? y : h - 1 - y);
    for (int64_t x = 0; x < w; x++) {
      uint8_t *d = row + 3 * x;
      if (bpp <= 8) {
        int per = 8 / (int)bpp;
        int idx = (s[x / per] >> ((per - 1 - (int)(x % per)) * (int)bpp)) & ((1 << bpp) - 1);
        memcpy(d, pal[idx], 3);
      } else if (bpp == 24) {
        d[0] = s[3 * x + 2];
        d[1] = s[3 * x + 1];
        d[2] = s[3 * x];
      } else {
        uint32_t v = bpp == 16 ? rd16(s + 2 * x) : rd32(s + 4 * x);
        d[0] = field(v, masks[0]);
        d[1] = field(v, masks[1]);
        d[2] = field(v, masks[2]);
      }
    }
    vigil__pixsink_row(sink, row);
  }
  free(row);
  if (rc == VIGIL_OK && lost) {
    if (top_down) return vigil__damaged(sink, (int)good, o, info, "BMP", why, err); /* grey below */
    info->damaged = 1;
    info->rows_decoded = (int)good;
  }
  return rc;
}
