/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pixsink.c - turns decoded rows into PDQ stream input (see pixsink.h).
 */
#include "pdq/pixsink.h"
#include "common/internal.h"

#include <string.h>

#define CLI_SIDE 512

void vigil__pixsink_init(vigil__pixsink *k, int mode, int dihedral) {
  memset(k, 0, sizeof *k);
  k->mode = mode;
  k->dihedral = dihedral;
}

void vigil__pixsink_free(vigil__pixsink *k) {
  vigil__pdq_stream_free(k->stream);
  free(k->colmap);
  free(k->tmp);
  k->stream = NULL;
  k->colmap = NULL;
  k->tmp = NULL;
}

int vigil__pixsink_begin(vigil__pixsink *k, int width, int height, int grey, vigil_error *err) {
  if (k->begun) return vigil__seterr(err, VIGIL_EINTERNAL, "pixel sink started twice");
  k->begun = 1;
  k->width = width;
  k->height = height;
  k->grey = grey;
  k->out_w = width;
  k->out_h = height;
  k->resize = k->mode == VIGIL_MODE_CLI && (width > CLI_SIDE || height > CLI_SIDE);
  if (k->resize) k->out_w = k->out_h = CLI_SIDE;
  k->tiny = k->out_w < VIGIL__PDQ_MIN_DIM || k->out_h < VIGIL__PDQ_MIN_DIM;
  if (k->tiny) return VIGIL_OK;
  size_t row_bytes = (size_t)k->out_w * 3;
  k->tmp = malloc(row_bytes);
  if (!k->tmp) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (k->resize) {
    k->colmap = vigil__mallocarray(CLI_SIDE, sizeof(int));
    if (!k->colmap) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    for (int x = 0; x < CLI_SIDE; x++) k->colmap[x] = (int)((int64_t)x * width / CLI_SIDE);
  }
  return vigil__pdq_stream_new(&k->stream, k->out_h, k->out_w, k->dihedral, err);
}

/* One row at the hashed size: into the stream by the mode's luma rule. */
static void push(vigil__pixsink *k, const uint8_t *row) {
  if (!k->grey) {
    if (k->stable && !k->resize) vigil__pdq_stream_push_rgb_stable(k->stream, row);
    else vigil__pdq_stream_push_rgb(k->stream, row);
  } else if (k->mode == VIGIL_MODE_CLI) {
    vigil__pdq_stream_push_grey(k->stream, row);
  } else {
    for (int x = 0; x < k->out_w; x++) k->tmp[3 * x] = k->tmp[3 * x + 1] = k->tmp[3 * x + 2] = row[x];
    vigil__pdq_stream_push_rgb(k->stream, k->tmp);
  }
}

uint8_t *vigil__pixsink_row_buf(vigil__pixsink *k) {
  if (!k->begun || k->tiny || k->grey || k->resize || k->src_y >= k->height) return NULL;
  return vigil__pdq_stream_rgb_slot(k->stream);
}

void vigil__pixsink_row(vigil__pixsink *k, const uint8_t *row) {
  int y = k->src_y++;
  if (k->tiny || y >= k->height) return;
  if (!k->resize) {
    push(k, row);
    k->out_y++;
    return;
  }
  while (k->out_y < CLI_SIDE && (int)((int64_t)k->out_y * k->height / CLI_SIDE) == y) {
    if (k->grey) {
      uint8_t g[CLI_SIDE];
      for (int x = 0; x < CLI_SIDE; x++) g[x] = row[k->colmap[x]];
      push(k, g);
    } else {
      uint8_t rgb[3 * CLI_SIDE];
      for (int x = 0; x < CLI_SIDE; x++) memcpy(rgb + 3 * x, row + 3 * (size_t)k->colmap[x], 3);
      vigil__pdq_stream_push_rgb(k->stream, rgb);
    }
    k->out_y++;
  }
}

int vigil__pixsink_finish(vigil__pixsink *k, int dihedral, vigil_pdq_result *out, vigil_error *err) {
  memset(out, 0, sizeof *out);
  out->nhashes = dihedral ? VIGIL_DIH_COUNT : 1;
  if (!k->begun) return vigil__seterr(err, VIGIL_EINTERNAL, "no picture was decoded");
  if (k->src_y < k->height)
    return vigil__seterr(err, VIGIL_ECORRUPT, "image data ends after %d of %d rows", k->src_y, k->height);
  if (k->tiny) return VIGIL_OK; /* all-zero hash, quality 0, as the reference */
  float buf[64][64];
  vigil__pdq_stream_finish(k->stream, buf);
  vigil__pdq_from_64x64(buf, dihedral, out);
  return VIGIL_OK;
}
