/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_oracle.h - a deliberately plain PDQ, written from the algorithm's
 * description with whole-picture buffers and no streaming, used only by
 * tests to check the streaming implementation bit for bit.
 */
#ifndef VIGIL_PDQ_ORACLE_H
#define VIGIL_PDQ_ORACLE_H

#include "vigil/pdq.h"

/* Hash of a luma picture (rows x cols floats, row-major). */
void oracle_pdq_luma(const float *luma, int rows, int cols, vigil_pdq_hash *hash, int *quality);
/* The same, blurring a 64x64 picture too when always_blur (the reference's
 * dihedral path does; its single-hash path takes 64x64 as it is). */
void oracle_pdq_luma_blur(const float *luma, int rows, int cols, int always_blur, vigil_pdq_hash *hash,
                          int *quality);

/* The four box passes and the 64x64 decimation alone (rows, cols >= 5). */
void oracle_pdq_blur64(const float *luma, int rows, int cols, float a[64][64]);

#endif
