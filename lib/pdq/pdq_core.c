/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_core.c - from the 64x64 blurred picture to the 256-bit hash.
 *
 * Every floating-point step follows the reference's order of operations so
 * that results are bit-identical: the DCT matrix is built in double and
 * rounded to float, both matrix products accumulate in float in index order,
 * the quality metric truncates to int before taking the absolute value, and
 * the threshold is the 128th smallest of the 256 coefficients (what Torben's
 * median returns for an even count).  The build passes -ffp-contract=off so
 * no multiply-add is fused behind our back.
 */
#include "pdq/pdq_internal.h"
#include "common/internal.h"
#include "common/hex.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

static float dct_matrix[16][64];
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void dct_init(void) {
  const double pi = 3.14159265358979323846;
  const float scale = (float)sqrt(2.0 / 64.0);
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 64; j++)
      dct_matrix[i][j] = (float)(scale * cos((pi / 2.0 / 64.0) * (double)(i + 1) * (double)(2 * j + 1)));
}

static int quality_metric(float a[64][64]) {
  int sum = 0;
  for (int i = 0; i < 63; i++)
    for (int j = 0; j < 64; j++) {
      int d = (int)(((a[i][j] - a[i + 1][j]) * 100.0f) / 255.0f);
      sum += d < 0 ? -d : d;
    }
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 63; j++) {
      int d = (int)(((a[i][j] - a[i][j + 1]) * 100.0f) / 255.0f);
      sum += d < 0 ? -d : d;
    }
  int q = sum / 90;
  return q > 100 ? 100 : q;
}

static void dct64to16(float a[64][64], float out[16][16]) {
  float t[16][64];
  for (int i = 0; i < 16; i++) {
    float acc[64];
    for (int j = 0; j < 64; j++) acc[j] = 0.0f;
    /* Same per-element order as the reference (k ascending); the j loop is
     * independent lanes, which vectorises without changing any result. */
    for (int k = 0; k < 64; k++) {
      float d = dct_matrix[i][k];
      for (int j = 0; j < 64; j++) acc[j] += d * a[k][j];
    }
    memcpy(t[i], acc, sizeof acc);
  }
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) {
      float s = 0.0f;
      for (int k = 0; k < 64; k++) s += t[i][k] * dct_matrix[j][k];
      out[i][j] = s;
    }
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void bits_from_dct(float d[16][16], vigil_pdq_hash *h) {
  float sorted[256];
  memcpy(sorted, d, sizeof sorted);
  qsort(sorted, 256, sizeof(float), cmp_float);
  float median = sorted[127];
  memset(h->bytes, 0, sizeof h->bytes);
  for (int k = 0; k < 256; k++)
    if (d[k / 16][k % 16] > median) h->bytes[31 - k / 8] |= (uint8_t)(1u << (k % 8));
}

/* DCT-domain dihedral transforms: a flip negates the odd-frequency terms
 * along its axis (frequencies are 1..16, so index i is frequency i+1), and a
 * transpose swaps the axes. */
static void dihedral(float a[16][16], int v, float b[16][16]) {
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) {
      float x = a[i][j];
      switch (v) {
      case VIGIL_DIH_ROT90: b[j][i] = (j & 1) ? x : -x; break;
      case VIGIL_DIH_ROT180: b[i][j] = ((i + j) & 1) ? -x : x; break;
      case VIGIL_DIH_ROT270: b[j][i] = (i & 1) ? x : -x; break;
      case VIGIL_DIH_FLIPX: b[i][j] = (i & 1) ? x : -x; break;
      case VIGIL_DIH_FLIPY: b[i][j] = (j & 1) ? x : -x; break;
      case VIGIL_DIH_FLIPPLUS1: b[j][i] = x; break;
      case VIGIL_DIH_FLIPMINUS1: b[j][i] = ((i + j) & 1) ? -x : x; break;
      default: b[i][j] = x; break;
      }
    }
}

void vigil__pdq_from_64x64(float buf[64][64], int want_dihedral, vigil_pdq_result *out) {
  pthread_once(&dct_once, dct_init);
  float d[16][16];
  out->quality = quality_metric(buf);
  dct64to16(buf, d);
  bits_from_dct(d, &out->hash[0]);
  out->nhashes = 1;
  if (want_dihedral) {
    for (int v = 1; v < VIGIL_DIH_COUNT; v++) {
      float t[16][16];
      dihedral(d, v, t);
      bits_from_dct(t, &out->hash[v]);
    }
    out->nhashes = VIGIL_DIH_COUNT;
  }
}

const char *vigil_dihedral_name(int v) {
  static const char *const names[VIGIL_DIH_COUNT] = {"orig",  "rot90", "rot180",    "rot270",
                                                     "flipx", "flipy", "flipplus1", "flipminus1"};
  return (v >= 0 && v < VIGIL_DIH_COUNT) ? names[v] : NULL;
}

int vigil_pdq_distance(const vigil_pdq_hash *a, const vigil_pdq_hash *b) {
  int d = 0;
  for (int i = 0; i < VIGIL_PDQ_BYTES; i += 8) {
    uint64_t x, y;
    memcpy(&x, a->bytes + i, 8);
    memcpy(&y, b->bytes + i, 8);
    d += __builtin_popcountll(x ^ y);
  }
  return d;
}

void vigil_pdq_to_hex(const vigil_pdq_hash *h, char out[VIGIL_PDQ_HEX_LEN + 1]) {
  vigil__hex_encode(h->bytes, VIGIL_PDQ_BYTES, out);
}

int vigil_pdq_from_hex(const char *hex, size_t len, vigil_pdq_hash *out, vigil_error *err) {
  if (!hex || !out) return vigil__seterr(err, VIGIL_EINVAL, "PDQ hash: missing argument");
  if (len != VIGIL_PDQ_HEX_LEN)
    return vigil__seterr(err, VIGIL_EINVAL, "PDQ hash must be 64 hex digits, got %zu characters", len);
  size_t bad = 0;
  if (vigil__hex_decode(hex, VIGIL_PDQ_BYTES, out->bytes, &bad))
    return vigil__seterr(err, VIGIL_EINVAL, "PDQ hash: invalid hex digit at position %zu", bad + 1);
  return VIGIL_OK;
}
