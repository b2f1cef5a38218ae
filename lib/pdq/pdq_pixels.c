/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_pixels.c - hashing pixels already in memory (no decoding).
 */
#include "pdq/pixsink.h"
#include "common/internal.h"

#include <string.h>

static int check_args(const void *px, int w, int h, size_t stride, size_t min_stride, vigil_pdq_result *out,
                      vigil_error *err) {
  if (!px || !out) return vigil__seterr(err, VIGIL_EINVAL, "missing argument");
  if (w <= 0 || h <= 0) return vigil__seterr(err, VIGIL_EINVAL, "picture size %dx%d is not positive", w, h);
  /* the stream sizes its buffers in int arithmetic (a few multiples of the width) */
  if (w > (1 << 28) || h > (1 << 28))
    return vigil__seterr(err, VIGIL_ELIMIT, "picture size %dx%d: a side over %d pixels", w, h, 1 << 28);
  if (stride < min_stride) return vigil__seterr(err, VIGIL_EINVAL, "row stride %zu is under %zu", stride, min_stride);
  return VIGIL_OK;
}

static int hash_rows(const uint8_t *px, int w, int h, size_t stride, int grey, int dihedral,
                     vigil_pdq_result *out, vigil_error *err) {
  vigil__pixsink k;
  vigil__pixsink_init(&k, VIGIL_MODE_FULLRES, dihedral);
  k.stable = 1; /* the caller's rows are whole in memory until we return */
  int rc = vigil__pixsink_begin(&k, w, h, grey, err);
  for (int y = 0; rc == VIGIL_OK && y < h; y++) vigil__pixsink_row(&k, px + (size_t)y * stride);
  if (rc == VIGIL_OK) rc = vigil__pixsink_finish(&k, dihedral, out, err);
  vigil__pixsink_free(&k);
  return rc;
}

int vigil_pdq_hash_rgb(const uint8_t *rgb, int w, int h, size_t stride, int dihedral, vigil_pdq_result *out,
                       vigil_error *err) {
  int rc = check_args(rgb, w, h, stride, (size_t)w * 3, out, err);
  return rc ? rc : hash_rows(rgb, w, h, stride, 0, dihedral, out, err);
}

int vigil_pdq_hash_grey(const uint8_t *grey, int w, int h, size_t stride, int dihedral, vigil_pdq_result *out,
                        vigil_error *err) {
  int rc = check_args(grey, w, h, stride, (size_t)w, out, err);
  return rc ? rc : hash_rows(grey, w, h, stride, 1, dihedral, out, err);
}

int vigil_pdq_hash_luma(const float *luma, int w, int h, size_t stride, int dihedral, vigil_pdq_result *out,
                        vigil_error *err) {
  int rc = check_args(luma, w, h, stride, (size_t)w, out, err);
  if (rc) return rc;
  memset(out, 0, sizeof *out);
  out->nhashes = dihedral ? VIGIL_DIH_COUNT : 1;
  if (w < VIGIL__PDQ_MIN_DIM || h < VIGIL__PDQ_MIN_DIM) return VIGIL_OK;
  vigil__pdq_stream *s;
  rc = vigil__pdq_stream_new(&s, h, w, dihedral, err);
  if (rc) return rc;
  for (int y = 0; y < h; y++) vigil__pdq_stream_push_luma(s, luma + (size_t)y * stride);
  float buf[64][64];
  vigil__pdq_stream_finish(s, buf);
  vigil__pdq_stream_free(s);
  vigil__pdq_from_64x64(buf, dihedral, out);
  return VIGIL_OK;
}
