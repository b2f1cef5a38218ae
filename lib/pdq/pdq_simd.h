/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_simd.h - the data-movement kernels of the PDQ stream, with an AVX2
 * version picked at run time (common/simd.h: the CPU, capped by VIGIL_SIMD)
 * and a portable one everywhere.  Both compute the same IEEE single-precision values in the
 * same order (they only move data and apply per-pixel luma), so hashes do
 * not depend on the path; tests run both.
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
  const char *name;
} vigil__pdq_kernels;

/* The kernels for the level vigil__simd_level() names (common/simd.h):
 * AVX2 at VIGIL__SIMD_AVX2 and above, portable below.  A stream takes them
 * when it starts. */
const vigil__pdq_kernels *vigil__pdq_kernels_get(void);

#endif
