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

#endif
