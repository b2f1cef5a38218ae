/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_simd.h - the data-movement kernels of the PDQ stream, with an AVX2
 * version picked at run time (common/simd.h: the CPU, capped by VIGIL_SIMD)
 * and a portable one everywhere.  Both compute the same IEEE single-precision values in the
 * same order (they only move data and apply per-pixel luma, or divide
 * exactly), so hashes do not depend on the path; tests run both.
 */
#ifndef VIGIL_PDQ_SIMD_H
#define VIGIL_PDQ_SIMD_H

#include <stdint.h>

#define VIGIL__LANES 8

typedef struct vigil__pdq_kernels {
  /* out[i] = 0.299f*R + 0.587f*G + 0.114f*B for n pixels */
  void (*luma_rgb)(const uint8_t *rgb, float *out, int n);
  /* 8 row-major rows (rows[r][c]) to interleaved dst[c*8 + r] */
  void (*interleave8)(const float *const *rows, int cols, float *dst);
  /* 8 rows of RGB triplets to interleaved luma dst[c*8 + r] (luma_rgb's
   * values, without the row-major round trip) */
  void (*luma_interleave8)(const uint8_t *const *rgb, int cols, float *dst);
  /* The Jarosz passes' exact division, by FMA (NULL where the CPU has no
   * FMA or the level is below AVX2: the callers divide themselves).
   * IEEE division s / d, correctly rounded, is q0 = s * y, r = s - q0 * d
   * (exact, one FMA), q = q0 + r * y (one FMA), with y = 1 / d rounded:
   * checked for every single-precision significand and every d up to
   * VIGIL__FMA_DIV_MAX, where all the windows of real pictures lie (the
   * kernels divide plainly above it), so the bits are those of s / d.
   *
   * rows_tiles: the bulk of the row pass over two lane batches, ntiles
   * tiles of 8 columns: for each column, sums[0..8) += in0[ri], sums[8..16)
   * += in1[ri], then -= in0[li] / in1[li] (vectors of 8 lanes at float
   * offsets 8 * ri and 8 * li, ri and li advancing by one), divided by div;
   * each tile transposed into rows[0..16) at column oi (advancing by 8). */
  void (*rows_tiles)(const float *in0, const float *in1, int ri, int li, int ntiles, float div, float *sums,
                     float *const *rows, int oi);
  /* cols_step: for n columns, sum[c] += add[c] (unless add is NULL), then
   * sum[c] -= sub[c] (unless sub is NULL), then out[c] = sum[c] / d. */
  void (*cols_step)(float *sum, const float *add, const float *sub, float *out, int n, float d);
  /* v1_lanes: cols_step for n <= 8 consecutive rows (add[j], sub[j] or
   * NULL, divisor d[j]) whose quotients go lane-interleaved to
   * dst[c*8 + j], lanes n..7 repeating lane n-1: the column pass and the
   * transposition the next row pass needs, without a row-major copy. */
  void (*v1_lanes)(float *sum, const float *const *add, const float *const *sub, const float *d, int n, int cols,
                   float *dst);
  const char *name;
} vigil__pdq_kernels;

/* The largest divisor the FMA division was checked for (a window of
 * 4096 pixels: pictures over half a million pixels wide). */
#define VIGIL__FMA_DIV_MAX 4096

/* The kernels for the level vigil__simd_level() names (common/simd.h):
 * AVX2 at VIGIL__SIMD_AVX2 and above (with the FMA division where the CPU
 * has FMA), portable below.  A stream takes them
 * when it starts. */
const vigil__pdq_kernels *vigil__pdq_kernels_get(void);

#endif
