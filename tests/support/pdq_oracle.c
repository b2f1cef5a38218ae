/* SPDX-License-Identifier: Apache-2.0 */
#include "pdq_oracle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void box1d(const float *in, float *out, int n, int stride, int w) {
  int half = (w + 2) / 2;
  int p1 = half - 1, p2 = w - half + 1, p3 = n - w, p4 = half - 1;
  int li = 0, ri = 0, oi = 0, cnt = 0;
  float sum = 0.0f;
  for (int i = 0; i < p1; i++, ri += stride) {
    sum += in[ri];
    cnt++;
  }
  for (int i = 0; i < p2; i++, ri += stride, oi += stride) {
    sum += in[ri];
    cnt++;
    out[oi] = sum / (float)cnt;
  }
  for (int i = 0; i < p3; i++, ri += stride, li += stride, oi += stride) {
    sum += in[ri];
    sum -= in[li];
    out[oi] = sum / (float)cnt;
  }
  for (int i = 0; i < p4; i++, li += stride, oi += stride) {
    sum -= in[li];
    cnt--;
    out[oi] = sum / (float)cnt;
  }
}

static int cmpf(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

void oracle_pdq_blur64(const float *luma, int rows, int cols, float a[64][64]) {
  size_t n = (size_t)rows * cols;
  float *b1 = malloc(n * sizeof(float)), *b2 = malloc(n * sizeof(float));
  memcpy(b1, luma, n * sizeof(float));
  int wr = (cols + 127) / 128, wc = (rows + 127) / 128;
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < rows; i++) box1d(b1 + (size_t)i * cols, b2 + (size_t)i * cols, cols, 1, wr);
    for (int j = 0; j < cols; j++) box1d(b2 + j, b1 + j, rows, cols, wc);
  }
  for (int i = 0; i < 64; i++) {
    int ii = (int)(((i + 0.5) * rows) / 64);
    for (int j = 0; j < 64; j++) a[i][j] = b1[(size_t)ii * cols + (int)(((j + 0.5) * cols) / 64)];
  }
  free(b1);
  free(b2);
}

void oracle_pdq_luma(const float *luma, int rows, int cols, vigil_pdq_hash *hash, int *quality) {
  oracle_pdq_luma_blur(luma, rows, cols, 0, hash, quality);
}

void oracle_pdq_luma_blur(const float *luma, int rows, int cols, int always_blur, vigil_pdq_hash *hash,
                          int *quality) {
  memset(hash, 0, sizeof *hash);
  *quality = 0;
  if (rows < 5 || cols < 5) return;
  float a[64][64];
  if (rows == 64 && cols == 64 && !always_blur) memcpy(a, luma, sizeof a);
  else oracle_pdq_blur64(luma, rows, cols, a);
  int g = 0;
  for (int i = 0; i < 63; i++)
    for (int j = 0; j < 64; j++) g += abs((int)(((a[i][j] - a[i + 1][j]) * 100) / 255));
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 63; j++) g += abs((int)(((a[i][j] - a[i][j + 1]) * 100) / 255));
  *quality = g / 90 > 100 ? 100 : g / 90;
  float d[16][64];
  const float scale = (float)sqrt(2.0 / 64.0);
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 64; j++)
      d[i][j] = (float)(scale * cos((3.14159265358979323846 / 2.0 / 64.0) * (i + 1) * (2 * j + 1)));
  float t[16][64], c[16][16];
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 64; j++) {
      float s = 0.0f;
      for (int k = 0; k < 64; k++) s += d[i][k] * a[k][j];
      t[i][j] = s;
    }
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) {
      float s = 0.0f;
      for (int k = 0; k < 64; k++) s += t[i][k] * d[j][k];
      c[i][j] = s;
    }
  float sorted[256];
  memcpy(sorted, c, sizeof sorted);
  qsort(sorted, 256, sizeof(float), cmpf);
  for (int k = 0; k < 256; k++)
    if (c[k / 16][k % 16] > sorted[127]) hash->bytes[31 - k / 8] |= (uint8_t)(1u << (k % 8));
}
