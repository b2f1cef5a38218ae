/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_simd.c - portable and AVX2 data-movement kernels (see pdq_simd.h).
 *
 * The AVX2 luma spreads 8 RGB pixels over two 128-bit lanes, picks each
 * channel with one in-lane byte shuffle (zero-extending to 32 bits), widens
 * to float and evaluates (0.299f*R + 0.587f*G) + 0.114f*B lane by lane:
 * the same three roundings as the scalar code.  The interleavers are 8x8
 * float transposes in registers.  Where the CPU has FMA, the box filter's
 * divisions (the Jarosz passes' largest cost) are exact FMA quotients.
 */
#include "pdq/pdq_simd.h"
#include "pdq/pdq_internal.h"
#include "common/simd.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static float lut_r[256], lut_g[256], lut_b[256];

/* Table products are exactly the float products 0.299f * r etc. */
static void luma_rgb_portable(const uint8_t *rgb, float *out, int n) {
  for (int c = 0; c < n; c++, rgb += 3) out[c] = lut_r[rgb[0]] + lut_g[rgb[1]] + lut_b[rgb[2]];
}

static void interleave8_portable(const float *const *rows, int cols, float *dst) {
  for (int c0 = 0; c0 < cols; c0 += 256) {
    int c1 = c0 + 256 < cols ? c0 + 256 : cols;
    for (int r = 0; r < VIGIL__LANES; r++)
      for (int c = c0; c < c1; c++) dst[(size_t)c * VIGIL__LANES + (size_t)r] = rows[r][c];
  }
}

static void luma_interleave8_portable(const uint8_t *const *rgb, int cols, float *dst) {
  for (int c0 = 0; c0 < cols; c0 += 256) {
    int c1 = c0 + 256 < cols ? c0 + 256 : cols;
    for (int r = 0; r < VIGIL__LANES; r++)
      for (int c = c0; c < c1; c++) {
        const uint8_t *p = rgb[r] + 3 * (size_t)c;
        dst[(size_t)c * VIGIL__LANES + (size_t)r] = lut_r[p[0]] + lut_g[p[1]] + lut_b[p[2]];
      }
  }
}

static const vigil__pdq_kernels portable = {luma_rgb_portable, interleave8_portable, luma_interleave8_portable,
                                            NULL, NULL, NULL, "portable"};

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))

/* Luma of the 8 pixels at rgb[0..24).  Pixels 0-3 are loaded into the low
 * 128-bit lane and pixels 4-7 into the high one (bytes 12..27: the caller
 * leaves 4 readable bytes past the 24), so one in-lane byte shuffle per
 * channel zero-extends each sample straight into its 32-bit lane. */
AVX2 static inline __m256 luma8(const uint8_t *rgb) {
#define Z -128
  const __m256i rs = _mm256_setr_epi8(0, Z, Z, Z, 3, Z, Z, Z, 6, Z, Z, Z, 9, Z, Z, Z, 0, Z, Z, Z, 3, Z, Z, Z, 6, Z, Z,
                                      Z, 9, Z, Z, Z);
  const __m256i gs = _mm256_setr_epi8(1, Z, Z, Z, 4, Z, Z, Z, 7, Z, Z, Z, 10, Z, Z, Z, 1, Z, Z, Z, 4, Z, Z, Z, 7, Z,
                                      Z, Z, 10, Z, Z, Z);
  const __m256i bs = _mm256_setr_epi8(2, Z, Z, Z, 5, Z, Z, Z, 8, Z, Z, Z, 11, Z, Z, Z, 2, Z, Z, Z, 5, Z, Z, Z, 8, Z,
                                      Z, Z, 11, Z, Z, Z);
#undef Z
  const __m256 kr = _mm256_set1_ps(VIGIL__LUMA_R), kg = _mm256_set1_ps(VIGIL__LUMA_G),
               kb = _mm256_set1_ps(VIGIL__LUMA_B);
  __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)rgb)),
                                      _mm_loadu_si128((const __m128i *)(rgb + 12)), 1);
  __m256 fr = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, rs));
  __m256 fg = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, gs));
  __m256 fb = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, bs));
  return _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(kr, fr), _mm256_mul_ps(kg, fg)), _mm256_mul_ps(kb, fb));
}

AVX2 static void luma_rgb_avx2(const uint8_t *rgb, float *out, int n) {
  int c = 0;
  for (; c + 10 <= n; c += 8, rgb += 24) _mm256_storeu_ps(out + c, luma8(rgb)); /* reads 28 bytes */
  luma_rgb_portable(rgb, out + c, n - c);
}

AVX2 static inline void transpose8(__m256 *v) {
  __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
  __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
  __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
  __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  v[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  v[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  v[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  v[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  v[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  v[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  v[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  v[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

AVX2 static void interleave8_avx2(const float *const *rows, int cols, float *dst) {
  int c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 v[8];
    for (int r = 0; r < 8; r++) v[r] = _mm256_loadu_ps(rows[r] + c);
    transpose8(v);
    for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (size_t)(c + j) * 8, v[j]);
  }
  for (; c < cols; c++)
    for (int r = 0; r < 8; r++) dst[(size_t)c * 8 + (size_t)r] = rows[r][c];
}

AVX2 static void luma_interleave8_avx2(const uint8_t *const *rgb, int cols, float *dst) {
  int c = 0;
  for (; c + 10 <= cols; c += 8) { /* luma8 reads 28 bytes */
    __m256 v[8];
    for (int r = 0; r < 8; r++) v[r] = luma8(rgb[r] + 3 * (size_t)c);
    transpose8(v);
    for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (size_t)(c + j) * 8, v[j]);
  }
  for (; c < cols; c++)
    for (int r = 0; r < 8; r++) {
      const uint8_t *p = rgb[r] + 3 * (size_t)c;
      dst[(size_t)c * 8 + (size_t)r] = lut_r[p[0]] + lut_g[p[1]] + lut_b[p[2]];
    }
}

static const vigil__pdq_kernels avx2 = {luma_rgb_avx2, interleave8_avx2, luma_interleave8_avx2, NULL, NULL, NULL,
                                        "avx2"};

#define FMA __attribute__((target("avx2,fma")))

/* s / d, correctly rounded, for 1 <= d <= VIGIL__FMA_DIV_MAX (see
 * pdq_simd.h); y = 1 / d rounded. */
FMA static inline __m256 div8(__m256 s, __m256 d, __m256 y) {
  __m256 q0 = _mm256_mul_ps(s, y);
  return _mm256_fmadd_ps(_mm256_fnmadd_ps(q0, d, s), y, q0);
}

FMA static void rows_tiles_fma(const float *in0, const float *in1, int ri, int li, int ntiles, float div, float *sums,
                               float *const *rows, int oi) {
  const __m256 d = _mm256_set1_ps(div), y = _mm256_set1_ps(1.0f / div);
  const int exact = div <= (float)VIGIL__FMA_DIV_MAX;
  __m256 s0 = _mm256_loadu_ps(sums), s1 = _mm256_loadu_ps(sums + 8);
  for (int t = 0; t < ntiles; t++, oi += 8) {
    __m256 a[8], b[8];
    for (int j = 0; j < 8; j++, ri++, li++) {
      s0 = _mm256_add_ps(s0, _mm256_loadu_ps(in0 + 8 * (size_t)ri));
      s1 = _mm256_add_ps(s1, _mm256_loadu_ps(in1 + 8 * (size_t)ri));
      s0 = _mm256_sub_ps(s0, _mm256_loadu_ps(in0 + 8 * (size_t)li));
      s1 = _mm256_sub_ps(s1, _mm256_loadu_ps(in1 + 8 * (size_t)li));
      a[j] = exact ? div8(s0, d, y) : _mm256_div_ps(s0, d);
      b[j] = exact ? div8(s1, d, y) : _mm256_div_ps(s1, d);
    }
    transpose8(a);
    transpose8(b);
    for (int r = 0; r < 8; r++) {
      _mm256_storeu_ps(rows[r] + oi, a[r]);
      _mm256_storeu_ps(rows[8 + r] + oi, b[r]);
    }
  }
  _mm256_storeu_ps(sums, s0);
  _mm256_storeu_ps(sums + 8, s1);
}

FMA static void cols_step_fma(float *sum, const float *add, const float *sub, float *out, int n, float dv) {
  const __m256 d = _mm256_set1_ps(dv), y = _mm256_set1_ps(1.0f / dv);
  if (dv > (float)VIGIL__FMA_DIV_MAX) { /* unchecked divisors divide plainly */
    for (int c = 0; c < n; c++) {
      if (add) sum[c] += add[c];
      if (sub) sum[c] -= sub[c];
      out[c] = sum[c] / dv;
    }
    return;
  }
  int c = 0;
  for (; c + 8 <= n; c += 8) {
    __m256 s = _mm256_loadu_ps(sum + c);
    if (add) s = _mm256_add_ps(s, _mm256_loadu_ps(add + c));
    if (sub) s = _mm256_sub_ps(s, _mm256_loadu_ps(sub + c));
    _mm256_storeu_ps(sum + c, s);
    _mm256_storeu_ps(out + c, div8(s, d, y));
  }
  for (; c < n; c++) {
    if (add) sum[c] += add[c];
    if (sub) sum[c] -= sub[c];
    out[c] = sum[c] / dv;
  }
}

FMA static void v1_lanes_fma(float *sum, const float *const *add, const float *const *sub, const float *dv, int n,
                             int cols, float *dst) {
  __m256 d[8], y[8];
  int exact = 1;
  if (n < 1 || n > 8) return;
  for (int j = 0; j < n; j++) {
    d[j] = _mm256_set1_ps(dv[j]);
    y[j] = _mm256_set1_ps(1.0f / dv[j]);
    if (!(dv[j] <= (float)VIGIL__FMA_DIV_MAX)) exact = 0;
  }
  int c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 s = _mm256_loadu_ps(sum + c), q[8] = {s, s, s, s, s, s, s, s}; /* every lane written below */
    int j = 0;
    for (; j < n; j++) {
      s = _mm256_add_ps(s, _mm256_loadu_ps(add[j] + c));
      if (sub[j]) s = _mm256_sub_ps(s, _mm256_loadu_ps(sub[j] + c));
      q[j] = exact ? div8(s, d[j], y[j]) : _mm256_div_ps(s, d[j]);
    }
    for (; j < 8; j++) q[j] = q[n - 1];
    _mm256_storeu_ps(sum + c, s);
    transpose8(q);
    for (int r = 0; r < 8; r++) _mm256_storeu_ps(dst + (size_t)(c + r) * 8, q[r]);
  }
  for (; c < cols; c++) {
    float sc = sum[c], last = 0.0f;
    int j = 0;
    for (; j < n; j++) {
      sc += add[j][c];
      if (sub[j]) sc -= sub[j][c];
      dst[(size_t)c * 8 + (size_t)j] = last = sc / dv[j];
    }
    for (; j < 8; j++) dst[(size_t)c * 8 + (size_t)j] = last;
    sum[c] = sc;
  }
}

static const vigil__pdq_kernels avx2fma = {luma_rgb_avx2,  interleave8_avx2, luma_interleave8_avx2, rows_tiles_fma,
                                           cols_step_fma, v1_lanes_fma,     "avx2+fma"};
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
  for (int i = 0; i < 256; i++) {
    lut_r[i] = VIGIL__LUMA_R * (float)i;
    lut_g[i] = VIGIL__LUMA_G * (float)i;
    lut_b[i] = VIGIL__LUMA_B * (float)i;
  }
}

const vigil__pdq_kernels *vigil__pdq_kernels_get(void) {
  pthread_once(&once, init);
#if defined(__x86_64__) && defined(__GNUC__)
  if (vigil__simd_level() >= VIGIL__SIMD_AVX2) return __builtin_cpu_supports("fma") ? &avx2fma : &avx2;
#endif
  return &portable;
}
