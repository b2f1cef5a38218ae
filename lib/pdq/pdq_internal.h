/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_internal.h - the PDQ pipeline's internal stages.
 *
 *   pixels --rows--> stream (luma, blur, decimate: pdq_stream.c) --> 64x64 floats
 *   64x64 --> quality metric, 16x16 DCT, median threshold (pdq_core.c)
 *
 * The stream accepts one row at a time so that decoders can hash while they
 * decode, without ever holding the full-resolution picture in memory.
 */
#ifndef VIGIL_PDQ_INTERNAL_H
#define VIGIL_PDQ_INTERNAL_H

#include "vigil/pdq.h"

/* The reference refuses pictures with a side under this. */
#define VIGIL__PDQ_MIN_DIM 5

typedef struct vigil__pdq_stream vigil__pdq_stream;

/* rows, cols >= VIGIL__PDQ_MIN_DIM. */
/* dihedral: the 8 variants will be asked for.  The reference hashes a 64x64
 * picture as it is (no blur) for one hash, but blurs it like any other
 * size in its dihedral path; so does this. */
int vigil__pdq_stream_new(vigil__pdq_stream **out, int rows, int cols, int dihedral, vigil_error *err);
void vigil__pdq_stream_free(vigil__pdq_stream *s);

/* Working buffers kept per thread between pictures (scratch.c): get is
 * aligned_alloc(64, ...) with stale contents; put takes back the size
 * given to get. */
void *vigil__scratch_get(size_t bytes);
void vigil__scratch_put(void *p, size_t bytes);

/* Push the next row, as RGB triplets (luma computed as the reference does),
 * as grey bytes taken as the luma value, or as luma floats.  Rows are staged
 * 16 at a time; a picture may mix kinds, at the cost of an early flush. */
void vigil__pdq_stream_push_rgb(vigil__pdq_stream *s, const uint8_t *rgb);
/* Where the next RGB row may be written (3 * cols bytes) so that push_rgb
 * of that same pointer copies nothing; NULL when there is no such place. */
uint8_t *vigil__pdq_stream_rgb_slot(vigil__pdq_stream *s);
/* push_rgb without the copy: rgb must stay valid and unchanged until
 * vigil__pdq_stream_finish (a picture already whole in memory). */
void vigil__pdq_stream_push_rgb_stable(vigil__pdq_stream *s, const uint8_t *rgb);
void vigil__pdq_stream_push_grey(vigil__pdq_stream *s, const uint8_t *grey);
void vigil__pdq_stream_push_luma(vigil__pdq_stream *s, const float *luma);

/* After exactly `rows` pushes: the blurred, decimated 64x64 picture. */
void vigil__pdq_stream_finish(vigil__pdq_stream *s, float out[64][64]);

/* From the 64x64 picture to hashes and quality (pdq_core.c). */
void vigil__pdq_from_64x64(float buf[64][64], int dihedral, vigil_pdq_result *out);

/* The reference's luma weights, as single-precision constants. */
#define VIGIL__LUMA_R 0.299f
#define VIGIL__LUMA_G 0.587f
#define VIGIL__LUMA_B 0.114f

#endif
