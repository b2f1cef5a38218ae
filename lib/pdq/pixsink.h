/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pixsink.h - where decoders deliver pixels: rows in, PDQ hashes out.
 *
 * A decoder calls begin() once it knows the picture's size, then row() for
 * every row from top to bottom (grey pictures one byte per pixel, all
 * others R,G,B), then the caller calls finish().  The sink applies the
 * hashing mode:
 *   fullres - every pixel, luma = 0.299R + 0.587G + 0.114B (grey as R=G=B);
 *   cli     - like the reference pdq-photo-hasher: pictures wider or taller
 *             than 512 are first resized to 512x512 by nearest neighbour,
 *             and grey pictures use the grey value itself as luma.
 */
#ifndef VIGIL_PIXSINK_H
#define VIGIL_PIXSINK_H

#include "pdq/pdq_internal.h"
#include "vigil/pdq.h"

typedef struct vigil__pixsink {
  int mode, grey, dihedral;
  int width, height;       /* as decoded */
  int out_w, out_h;        /* as hashed */
  int resize, tiny, begun;
  int stable;              /* rows stay valid until finish: the stream need not copy them */
  int src_y, out_y;
  int *colmap;             /* cli resize: source column of each output column */
  uint8_t *tmp;            /* one output row of RGB */
  vigil__pdq_stream *stream;
} vigil__pixsink;

/* dihedral: the 8 variants will be asked for at finish (see vigil__pdq_stream_new). */
void vigil__pixsink_init(vigil__pixsink *k, int mode, int dihedral);
int vigil__pixsink_begin(vigil__pixsink *k, int width, int height, int grey, vigil_error *err);
void vigil__pixsink_row(vigil__pixsink *k, const uint8_t *row);
/* Where a decoder may write the next RGB row so that row() of it copies
 * nothing; NULL when the row must come in a buffer of the decoder's own. */
uint8_t *vigil__pixsink_row_buf(vigil__pixsink *k);
/* Requires every row delivered; VIGIL_ECORRUPT otherwise. */
int vigil__pixsink_finish(vigil__pixsink *k, int dihedral, vigil_pdq_result *out, vigil_error *err);
void vigil__pixsink_free(vigil__pixsink *k);

#endif
