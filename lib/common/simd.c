/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simd.c - the one choice of kernel level (see simd.h).
 *
 * Before this file the PDQ stream read an undocumented VIGIL_NO_SIMD and the
 * index kept its own detection and forcing hook; now the CPU is probed once
 * here and both ask vigil__simd_level().  The forced level is an atomic so
 * that a reader in another thread sees either the old or the new level,
 * both of which compute the same answers.
 */
#include "common/simd.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

#include "common/internal.h"

static int cpu_level = VIGIL__SIMD_SCALAR;
static int env_cap = VIGIL__SIMD_AVX512;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int forced = VIGIL__SIMD_AUTO;

static int detect(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("popcnt")) return VIGIL__SIMD_SCALAR;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vpopcntdq"))
    return VIGIL__SIMD_AVX512;
  return VIGIL__SIMD_AVX2;
#else
  return VIGIL__SIMD_SCALAR;
#endif
}

static void init(void) {
  cpu_level = detect();
  const char *e = getenv("VIGIL_SIMD");
  int l;
  if (e && *e && vigil__simd_parse(e, &l) == VIGIL_OK) env_cap = l;
}

int vigil__simd_cpu(void) {
  pthread_once(&once, init);
  return cpu_level;
}

int vigil__simd_level(void) {
  pthread_once(&once, init);
  int f = atomic_load_explicit(&forced, memory_order_relaxed);
  if (f != VIGIL__SIMD_AUTO) return f;
  return env_cap < cpu_level ? env_cap : cpu_level;
}

const char *vigil__simd_name(int level) {
  switch (level) {
  case VIGIL__SIMD_SCALAR: return "scalar";
  case VIGIL__SIMD_AVX2: return "avx2";
  case VIGIL__SIMD_AVX512: return "avx512";
  default: return NULL;
  }
}

int vigil__simd_parse(const char *s, int *level) {
  if (!s) return VIGIL_EINVAL;
  for (int l = VIGIL__SIMD_SCALAR; l <= VIGIL__SIMD_AVX512; l++)
    if (!strcasecmp(s, vigil__simd_name(l))) {
      *level = l;
      return VIGIL_OK;
    }
  return VIGIL_EINVAL;
}

int vigil__simd_force(int level) {
  if (level != VIGIL__SIMD_AUTO && (level < VIGIL__SIMD_SCALAR || level > vigil__simd_cpu())) return VIGIL_EINVAL;
  atomic_store_explicit(&forced, level, memory_order_relaxed);
  return VIGIL_OK;
}
