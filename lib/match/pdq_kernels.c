/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_kernels.c - the inner loops of PDQ matching, in three versions chosen
 * at run time from what the CPU offers:
 *
 *   avx512  AVX-512 with VPOPCNTDQ: eight hashes in four 512-bit registers,
 *           one vpopcntq each, lanes summed with two unpacks and one 128-bit
 *           lane shuffle, one compare giving an 8-bit match mask;
 *   avx2    nibble-table popcount (vpshufb) summed with vpsadbw, four hashes
 *           per step;
 *   generic plain C (compiler popcount), for any CPU.
 *
 * Each version is compiled with a target attribute, so the library itself is
 * built for the baseline ISA and runs anywhere; the level is common/simd.h's
 * (the CPU's, capped by VIGIL_SIMD).  All versions give identical results
 * (the tests force each level the machine can run and compare).
 *
 * Hash words are read with memcpy in native byte order: a Hamming distance
 * does not depend on how the 256 bits are grouped into words.
 */
#include <string.h>

#include "common/internal.h"
#include "match/match_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VIGIL__X86 1
#include <immintrin.h>
#endif

#define PREFETCH_AHEAD 16

static inline void load4(const vigil_pdq_hash *h, uint64_t w[4]) { memcpy(w, h->bytes, 32); }

/* ---------------- generic ---------------- */

static inline int dist_generic(const uint64_t a[4], const uint64_t b[4]) {
  return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]) +
         __builtin_popcountll(a[2] ^ b[2]) + __builtin_popcountll(a[3] ^ b[3]);
}

static size_t scan_generic(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *q, int r, uint32_t *oi,
                           uint16_t *od) {
  uint64_t qw[4], x[4];
  load4(q, qw);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    load4(&h[i], x);
    int d = dist_generic(x, qw);
    if (d <= r) {
      oi[k] = (uint32_t)i;
      od[k++] = (uint16_t)d;
    }
  }
  return k;
}

static size_t verify_generic(const vigil_pdq_hash *h, const uint32_t *refs, size_t n, const vigil_pdq_hash *q,
                             int r, uint32_t *ok, uint16_t *od) {
  uint64_t qw[4], x[4];
  load4(q, qw);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (i + PREFETCH_AHEAD < n) __builtin_prefetch(&h[refs[i + PREFETCH_AHEAD]]);
    load4(&h[refs[i]], x);
    int d = dist_generic(x, qw);
    if (d <= r) {
      ok[k] = (uint32_t)i;
      od[k++] = (uint16_t)d;
    }
  }
  return k;
}

static size_t scan_multi_generic(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *qs, int nq, int r,
                                 uint32_t *oi, uint16_t *od, uint8_t *ov) {
  uint64_t qw[8][4], x[4];
  for (int v = 0; v < nq; v++) load4(&qs[v], qw[v]);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    load4(&h[i], x);
    int best = 257, bv = 0;
    for (int v = 0; v < nq; v++) {
      int d = dist_generic(x, qw[v]);
      if (d < best) {
        best = d;
        bv = v;
      }
    }
    if (best <= r) {
      oi[k] = (uint32_t)i;
      od[k] = (uint16_t)best;
      ov[k++] = (uint8_t)bv;
    }
  }
  return k;
}

/* The body of verify_masked, compiled twice (plain, and with the popcnt
 * instruction): for each candidate, the distances to the queries of its
 * mask only, the smallest kept (the first query on ties). */
#define VERIFY_MASKED_BODY                                                                  \
  uint64_t qw[8][4], x[4];                                                                  \
  for (int v = 0; v < nq; v++) load4(&qs[v], qw[v]);                                        \
  size_t k = 0;                                                                             \
  for (size_t i = 0; i < n; i++) {                                                          \
    if (i + PREFETCH_AHEAD < n) __builtin_prefetch(&h[refs[i + PREFETCH_AHEAD]]);           \
    load4(&h[refs[i]], x);                                                                  \
    int best = 257, bv = 0;                                                                 \
    for (unsigned m = masks[i]; m; m &= m - 1) {                                            \
      int v = __builtin_ctz(m), d = dist_generic(x, qw[v]);                                 \
      if (d < best) {                                                                       \
        best = d;                                                                           \
        bv = v;                                                                             \
      }                                                                                     \
    }                                                                                       \
    if (best <= r) {                                                                        \
      ok[k] = (uint32_t)i;                                                                  \
      od[k] = (uint16_t)best;                                                               \
      ov[k++] = (uint8_t)bv;                                                                \
    }                                                                                       \
  }                                                                                         \
  return k;

static size_t verify_masked_generic(const vigil_pdq_hash *h, const uint32_t *refs, const uint8_t *masks, size_t n,
                                    const vigil_pdq_hash *qs, int nq, int r, uint32_t *ok, uint16_t *od,
                                    uint8_t *ov) {
  VERIFY_MASKED_BODY
}

#ifdef VIGIL__X86

/* ---------------- AVX2 ---------------- */

#define AVX2_TARGET __attribute__((target("avx2,popcnt")))

/* Per-64-bit-lane popcounts of 32 bytes (vpshufb on nibbles, then vpsadbw). */
AVX2_TARGET static inline __m256i pop4_avx2(__m256i v) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1,
                                       2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  __m256i c = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
  return _mm256_sad_epu8(c, _mm256_setzero_si256());
}

/* Distances of four hashes to q, as four 64-bit lanes in order. */
AVX2_TARGET static inline __m256i dist4_avx2(const vigil_pdq_hash *a, const vigil_pdq_hash *b,
                                            const vigil_pdq_hash *c, const vigil_pdq_hash *d, __m256i qv) {
  __m256i s0 = pop4_avx2(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)a), qv));
  __m256i s1 = pop4_avx2(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)b), qv));
  __m256i s2 = pop4_avx2(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)c), qv));
  __m256i s3 = pop4_avx2(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)d), qv));
  /* t01 = [a01 b01 | a23 b23], t23 = [c01 d01 | c23 d23] */
  __m256i t01 = _mm256_add_epi64(_mm256_unpacklo_epi64(s0, s1), _mm256_unpackhi_epi64(s0, s1));
  __m256i t23 = _mm256_add_epi64(_mm256_unpacklo_epi64(s2, s3), _mm256_unpackhi_epi64(s2, s3));
  return _mm256_add_epi64(_mm256_permute2x128_si256(t01, t23, 0x20), _mm256_permute2x128_si256(t01, t23, 0x31));
}

AVX2_TARGET static inline int dist_popcnt(const uint64_t a[4], const uint64_t b[4]) {
  return (int)(_mm_popcnt_u64(a[0] ^ b[0]) + _mm_popcnt_u64(a[1] ^ b[1]) + _mm_popcnt_u64(a[2] ^ b[2]) +
               _mm_popcnt_u64(a[3] ^ b[3]));
}

AVX2_TARGET static size_t scan_avx2(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *q, int r,
                                    uint32_t *oi, uint16_t *od) {
  __m256i qv = _mm256_loadu_si256((const __m256i *)q), rv = _mm256_set1_epi64x(r);
  size_t k = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i d = dist4_avx2(&h[i], &h[i + 1], &h[i + 2], &h[i + 3], qv);
    int m = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(rv, _mm256_sub_epi64(d, _mm256_set1_epi64x(1)))));
    if (m) {
      uint64_t ds[4];
      _mm256_storeu_si256((__m256i *)ds, d);
      for (int j = 0; j < 4; j++)
        if (m >> j & 1) {
          oi[k] = (uint32_t)(i + j);
          od[k++] = (uint16_t)ds[j];
        }
    }
  }
  uint64_t qw[4], x[4];
  load4(q, qw);
  for (; i < n; i++) {
    load4(&h[i], x);
    int d = dist_popcnt(x, qw);
    if (d <= r) {
      oi[k] = (uint32_t)i;
      od[k++] = (uint16_t)d;
    }
  }
  return k;
}

AVX2_TARGET static size_t verify_avx2(const vigil_pdq_hash *h, const uint32_t *refs, size_t n,
                                      const vigil_pdq_hash *q, int r, uint32_t *ok, uint16_t *od) {
  uint64_t qw[4], x[4];
  load4(q, qw);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (i + PREFETCH_AHEAD < n) _mm_prefetch((const char *)&h[refs[i + PREFETCH_AHEAD]], _MM_HINT_T0);
    load4(&h[refs[i]], x);
    int d = dist_popcnt(x, qw);
    if (d <= r) {
      ok[k] = (uint32_t)i;
      od[k++] = (uint16_t)d;
    }
  }
  return k;
}

AVX2_TARGET static size_t scan_multi_avx2(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *qs, int nq,
                                          int r, uint32_t *oi, uint16_t *od, uint8_t *ov) {
  __m256i qv[8];
  for (int v = 0; v < nq; v++) qv[v] = _mm256_loadu_si256((const __m256i *)&qs[v]);
  const __m256i rv = _mm256_set1_epi64x(r + 1);
  size_t k = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i best = _mm256_set1_epi64x(1000), bvar = _mm256_setzero_si256();
    for (int v = 0; v < nq; v++) {
      __m256i d = dist4_avx2(&h[i], &h[i + 1], &h[i + 2], &h[i + 3], qv[v]);
      __m256i lt = _mm256_cmpgt_epi64(best, d); /* strictly better: keeps the first variant on ties */
      best = _mm256_blendv_epi8(best, d, lt);
      bvar = _mm256_blendv_epi8(bvar, _mm256_set1_epi64x(v), lt);
    }
    int m = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(rv, best)));
    if (m) {
      uint64_t ds[4], vs[4];
      _mm256_storeu_si256((__m256i *)ds, best);
      _mm256_storeu_si256((__m256i *)vs, bvar);
      for (int j = 0; j < 4; j++)
        if (m >> j & 1) {
          oi[k] = (uint32_t)(i + j);
          od[k] = (uint16_t)ds[j];
          ov[k++] = (uint8_t)vs[j];
        }
    }
  }
  if (i < n) {
    size_t t = scan_multi_generic(h + i, n - i, qs, nq, r, oi + k, od + k, ov + k);
    for (size_t j = 0; j < t; j++) oi[k + j] += (uint32_t)i;
    k += t;
  }
  return k;
}

__attribute__((target("popcnt"))) static size_t verify_masked_popcnt(const vigil_pdq_hash *h, const uint32_t *refs,
                                                                    const uint8_t *masks, size_t n,
                                                                    const vigil_pdq_hash *qs, int nq, int r,
                                                                    uint32_t *ok, uint16_t *od, uint8_t *ov) {
  VERIFY_MASKED_BODY
}

/* ---------------- AVX-512 VPOPCNTDQ ---------------- */

#define AVX512_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,popcnt")))

/* Lane j of dist8's result holds hash order8[j]; order8 is its own inverse. */
static const uint8_t order8[8] = {0, 2, 1, 3, 4, 6, 5, 7};

/* Distances of eight hashes (pairs in A, B, C, D) to q (twice in q2). */
AVX512_TARGET static inline __m512i dist8_avx512(__m512i a, __m512i b, __m512i c, __m512i d, __m512i q2) {
  a = _mm512_popcnt_epi64(_mm512_xor_si512(a, q2));
  b = _mm512_popcnt_epi64(_mm512_xor_si512(b, q2));
  c = _mm512_popcnt_epi64(_mm512_xor_si512(c, q2));
  d = _mm512_popcnt_epi64(_mm512_xor_si512(d, q2));
  /* tab = [h0 01, h2 01 | h0 23, h2 23 | h1 01, h3 01 | h1 23, h3 23] (hN: hash N) */
  __m512i tab = _mm512_add_epi64(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
  __m512i tcd = _mm512_add_epi64(_mm512_unpacklo_epi64(c, d), _mm512_unpackhi_epi64(c, d));
  __m512i x = _mm512_shuffle_i64x2(tab, tcd, _MM_SHUFFLE(2, 0, 2, 0));
  __m512i y = _mm512_shuffle_i64x2(tab, tcd, _MM_SHUFFLE(3, 1, 3, 1));
  return _mm512_add_epi64(x, y); /* hashes 0 2 1 3 4 6 5 7 */
}

AVX512_TARGET static size_t scan_avx512(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *q, int r,
                                        uint32_t *oi, uint16_t *od) {
  __m512i q2 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)q));
  __m512i rv = _mm512_set1_epi64(r);
  size_t k = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i *p = (const __m512i *)&h[i];
    __m512i d = dist8_avx512(_mm512_loadu_si512(p), _mm512_loadu_si512(p + 1), _mm512_loadu_si512(p + 2),
                             _mm512_loadu_si512(p + 3), q2);
    __mmask8 m = _mm512_cmple_epu64_mask(d, rv);
    if (m) {
      uint64_t ds[8];
      _mm512_storeu_si512(ds, d);
      for (int j = 0; j < 8; j++) /* hash j sits in lane order8[j] */
        if (m >> order8[j] & 1) {
          oi[k] = (uint32_t)(i + j);
          od[k++] = (uint16_t)ds[order8[j]];
        }
    }
  }
  if (i < n) {
    size_t t = scan_avx2(h + i, n - i, q, r, oi + k, od + k);
    for (size_t j = 0; j < t; j++) oi[k + j] += (uint32_t)i;
    k += t;
  }
  return k;
}

AVX512_TARGET static inline __m512i pair512(const vigil_pdq_hash *a, const vigil_pdq_hash *b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                            _mm256_loadu_si256((const __m256i *)b), 1);
}

AVX512_TARGET static size_t verify_avx512(const vigil_pdq_hash *h, const uint32_t *refs, size_t n,
                                          const vigil_pdq_hash *q, int r, uint32_t *ok, uint16_t *od) {
  __m512i q2 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)q));
  __m512i rv = _mm512_set1_epi64(r);
  size_t k = 0, i = 0;
  for (; i < PREFETCH_AHEAD && i < n; i++) _mm_prefetch((const char *)&h[refs[i]], _MM_HINT_T0);
  for (i = 0; i + 8 <= n; i += 8) {
    for (size_t j = i + PREFETCH_AHEAD; j < i + 8 + PREFETCH_AHEAD && j < n; j++)
      _mm_prefetch((const char *)&h[refs[j]], _MM_HINT_T0);
    const uint32_t *f = refs + i;
    __m512i d = dist8_avx512(pair512(&h[f[0]], &h[f[1]]), pair512(&h[f[2]], &h[f[3]]),
                             pair512(&h[f[4]], &h[f[5]]), pair512(&h[f[6]], &h[f[7]]), q2);
    __mmask8 m = _mm512_cmple_epu64_mask(d, rv);
    if (m) {
      uint64_t ds[8];
      _mm512_storeu_si512(ds, d);
      for (int j = 0; j < 8; j++)
        if (m >> order8[j] & 1) {
          ok[k] = (uint32_t)(i + j);
          od[k++] = (uint16_t)ds[order8[j]];
        }
    }
  }
  if (i < n) {
    size_t t = verify_avx2(h, refs + i, n - i, q, r, ok + k, od + k);
    for (size_t j = 0; j < t; j++) ok[k + j] += (uint32_t)i;
    k += t;
  }
  return k;
}

/* The hashes i..i+7 whose best distance (lanes in dist8's order) is <= r,
 * with it and its query, appended at out[k]; returns the new k. */
AVX512_TARGET static inline size_t emit_best8(__m512i best, __m512i bvar, __m512i rv, size_t i, uint32_t *oi,
                                              uint16_t *od, uint8_t *ov, size_t k) {
  __mmask8 m = _mm512_cmple_epu64_mask(best, rv);
  if (!m) return k;
  uint64_t ds[8], vs[8];
  _mm512_storeu_si512(ds, best);
  _mm512_storeu_si512(vs, bvar);
  for (int j = 0; j < 8; j++) {
    int l = order8[j];
    if (m >> l & 1) {
      oi[k] = (uint32_t)(i + j);
      od[k] = (uint16_t)ds[l];
      ov[k++] = (uint8_t)vs[l];
    }
  }
  return k;
}

AVX512_TARGET static size_t scan_multi_avx512(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *qs,
                                              int nq, int r, uint32_t *oi, uint16_t *od, uint8_t *ov) {
  __m512i q2[8];
  for (int v = 0; v < nq; v++) q2[v] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)&qs[v]));
  const __m512i rv = _mm512_set1_epi64(r);
  size_t k = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i *p = (const __m512i *)&h[i];
    __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 1), c = _mm512_loadu_si512(p + 2),
            d = _mm512_loadu_si512(p + 3);
    __m512i best = _mm512_set1_epi64(1000), bvar = _mm512_setzero_si512();
    for (int v = 0; v < nq; v++) {
      __m512i dv = dist8_avx512(a, b, c, d, q2[v]);
      __mmask8 lt = _mm512_cmplt_epu64_mask(dv, best);
      best = _mm512_mask_mov_epi64(best, lt, dv);
      bvar = _mm512_mask_mov_epi64(bvar, lt, _mm512_set1_epi64(v));
    }
    k = emit_best8(best, bvar, rv, i, oi, od, ov, k);
  }
  if (i < n) {
    size_t t = scan_multi_generic(h + i, n - i, qs, nq, r, oi + k, od + k, ov + k);
    for (size_t j = 0; j < t; j++) oi[k + j] += (uint32_t)i;
    k += t;
  }
  return k;
}

AVX512_TARGET static size_t verify_masked_avx512(const vigil_pdq_hash *h, const uint32_t *refs, const uint8_t *masks,
                                                 size_t n, const vigil_pdq_hash *qs, int nq, int r, uint32_t *ok,
                                                 uint16_t *od, uint8_t *ov) {
  __m512i q2[8];
  for (int v = 0; v < nq; v++) q2[v] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)&qs[v]));
  const __m512i rv = _mm512_set1_epi64(r), lanes = _mm512_setr_epi64(0, 2, 1, 3, 4, 6, 5, 7);
  size_t k = 0, i = 0;
  for (; i < PREFETCH_AHEAD && i < n; i++) _mm_prefetch((const char *)&h[refs[i]], _MM_HINT_T0);
  for (i = 0; i + 8 <= n; i += 8) {
    for (size_t j = i + PREFETCH_AHEAD; j < i + 8 + PREFETCH_AHEAD && j < n; j++)
      _mm_prefetch((const char *)&h[refs[j]], _MM_HINT_T0);
    const uint32_t *f = refs + i;
    __m512i a = pair512(&h[f[0]], &h[f[1]]), b = pair512(&h[f[2]], &h[f[3]]), c = pair512(&h[f[4]], &h[f[5]]),
            d = pair512(&h[f[6]], &h[f[7]]);
    /* the 8 candidates' query masks, in the lane order of dist8 */
    __m512i mv = _mm512_permutexvar_epi64(lanes, _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(masks + i))));
    uint64_t mk;
    memcpy(&mk, masks + i, 8);
    mk |= mk >> 32;
    mk |= mk >> 16;
    mk |= mk >> 8;
    __m512i best = _mm512_set1_epi64(1000), bvar = _mm512_setzero_si512();
    for (unsigned um = (unsigned)mk & 0xff; um; um &= um - 1) { /* only the queries some candidate needs */
      int v = __builtin_ctz(um);
      __m512i dv = dist8_avx512(a, b, c, d, q2[v]);
      __mmask8 lt = _mm512_cmplt_epu64_mask(dv, best) & _mm512_test_epi64_mask(mv, _mm512_set1_epi64(1ll << v));
      best = _mm512_mask_mov_epi64(best, lt, dv);
      bvar = _mm512_mask_mov_epi64(bvar, lt, _mm512_set1_epi64(v));
    }
    k = emit_best8(best, bvar, rv, i, ok, od, ov, k);
  }
  if (i < n) {
    size_t t = verify_masked_popcnt(h, refs + i, masks + i, n - i, qs, nq, r, ok + k, od + k, ov + k);
    for (size_t j = 0; j < t; j++) ok[k + j] += (uint32_t)i;
    k += t;
  }
  return k;
}

#endif /* VIGIL__X86 */

/* ---------------- dispatch ---------------- */

static const vigil__kernels k_generic = {VIGIL__PATH_GENERIC, "generic", scan_generic, verify_generic,
                                         scan_multi_generic, verify_masked_generic};
#ifdef VIGIL__X86
static const vigil__kernels k_avx2 = {VIGIL__PATH_AVX2, "avx2", scan_avx2, verify_avx2, scan_multi_avx2,
                                      verify_masked_popcnt};
static const vigil__kernels k_avx512 = {VIGIL__PATH_AVX512, "avx512-vpopcntdq", scan_avx512, verify_avx512,
                                        scan_multi_avx512, verify_masked_avx512};
#endif

bool vigil__path_supported(int path) { return path >= VIGIL__PATH_GENERIC && path <= vigil__simd_cpu(); }

static const vigil__kernels *for_path(int path) {
#ifdef VIGIL__X86
  if (path == VIGIL__PATH_AVX512) return &k_avx512;
  if (path == VIGIL__PATH_AVX2) return &k_avx2;
#endif
  (void)path;
  return &k_generic;
}

const vigil__kernels *vigil__kernels_get(void) { return for_path(vigil__simd_level()); }
