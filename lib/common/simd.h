/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simd.h - which instruction set the hand-written kernels use, decided in
 * one place.
 *
 * The PDQ stream's data movement (pdq/pdq_simd.c) and the index's scan
 * kernels (match/pdq_kernels.c) each come in versions for AVX-512, AVX2 and
 * plain C that give identical results.  The level they run at is the
 * highest the CPU supports, lowered (never raised) by the environment
 * variable VIGIL_SIMD=avx512|avx2|scalar, read once per process; see
 * docs/common.md.  A value the CPU cannot run falls back to the best level
 * below it; an unknown value is ignored (results never depend on the level,
 * only speed does).
 */
#ifndef VIGIL_COMMON_SIMD_H
#define VIGIL_COMMON_SIMD_H

enum {
  VIGIL__SIMD_SCALAR = 0, /* plain C, any CPU */
  VIGIL__SIMD_AVX2 = 1,   /* AVX2 and POPCNT */
  VIGIL__SIMD_AVX512 = 2, /* AVX-512 F, VL, BW, DQ and VPOPCNTDQ */
  VIGIL__SIMD_AUTO = -1   /* for vigil__simd_force: back to the CPU and VIGIL_SIMD */
};

/* The highest level this CPU runs (detected once). */
int vigil__simd_cpu(void);

/* The level kernels use now: the CPU's, capped by VIGIL_SIMD, unless a
 * test forced one.  Cheap enough to call per query. */
int vigil__simd_level(void);

/* "avx512", "avx2" or "scalar"; NULL for anything else. */
const char *vigil__simd_name(int level);

/* Reads a VIGIL_SIMD value (any case): VIGIL_OK and *level, or
 * VIGIL_EINVAL. */
int vigil__simd_parse(const char *s, int *level);

/* Test hook: makes every kernel run at level (VIGIL__SIMD_AUTO undoes it).
 * VIGIL_EINVAL if the CPU cannot run it.  Process-wide: for test and bench
 * programs that switch levels between runs, not while kernels run. */
int vigil__simd_force(int level);

#endif
