/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_common_helpers.c - the helpers every folder of lib/ shares:
 * growable arrays (growth, overflow refused without touching the array)
 * hex (every byte value both ways against snprintf, either case in, the
 * position of the first bad digit) and the kernel level: VIGIL_SIMD, set
 * before anything asks, reaches both the PDQ stream's and the index's
 * kernels, and a forced level is refused past what the CPU runs; API times
 * as RFC 3339 (milliseconds kept, times before 1970 floored, a time the
 * calendar cannot hold refused with an empty string).
 */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/hex.h"
#include "common/rfc3339.h"
#include "common/simd.h"
#include "common/internal.h"
#include "match/match_internal.h"
#include "pdq/pdq_simd.h"

static void test_grow_appends(void **state) {
  (void)state;
  uint32_t *v = NULL;
  size_t cap = 0;
  for (uint32_t i = 0; i < 100000; i++) {
    assert_int_equal(vigil__grow((void **)&v, &cap, i + 1, sizeof *v), VIGIL_OK);
    assert_true(cap >= i + 1);
    v[i] = i * 7u;
  }
  for (uint32_t i = 0; i < 100000; i++) assert_int_equal(v[i], i * 7u);
  /* growth doubles: 100000 elements from 16 take a capacity below 2x */
  assert_true(cap < 200000);
  size_t before = cap;
  assert_int_equal(vigil__grow((void **)&v, &cap, 10, sizeof *v), VIGIL_OK);
  assert_int_equal(cap, before); /* never shrinks */
  free(v);
}

static void test_grow_first_and_cap(void **state) {
  (void)state;
  assert_int_equal(vigil__grow_cap(0, 1, 4, 64), 64);
  assert_int_equal(vigil__grow_cap(0, 65, 4, 64), 128);
  assert_int_equal(vigil__grow_cap(100, 50, 4, 64), 100);
  assert_int_equal(vigil__grow_cap(100, 101, 4, 64), 200);
  /* near the top, doubling would wrap: exactly what was asked, if it fits */
  size_t big = SIZE_MAX / 8;
  assert_int_equal(vigil__grow_cap(big / 2 + 1, big, 8, 16), big);
  char *p = NULL;
  size_t cap = 0;
  assert_int_equal(vigil__grow_from((void **)&p, &cap, 3, 1, 1u << 20), VIGIL_OK);
  assert_int_equal(cap, 1u << 20);
  free(p);
}

static void test_grow_overflow(void **state) {
  (void)state;
  assert_int_equal(vigil__grow_cap(0, SIZE_MAX / 8 + 1, 8, 16), 0);
  assert_int_equal(vigil__grow_cap(0, SIZE_MAX, 2, 16), 0);
  assert_null(vigil__reallocarray(NULL, SIZE_MAX / 4 + 1, 4));
  uint64_t *v = NULL;
  size_t cap = 0;
  assert_int_equal(vigil__grow((void **)&v, &cap, 4, sizeof *v), VIGIL_OK);
  v[0] = 42;
  uint64_t *keep = v;
  /* an impossible size: ENOMEM, and the array and capacity are as they were */
  assert_int_equal(vigil__grow((void **)&v, &cap, SIZE_MAX / 4, sizeof *v), VIGIL_ENOMEM);
  assert_ptr_equal(v, keep);
  assert_int_equal(cap, VIGIL__GROW_FIRST);
  assert_int_equal(v[0], 42);
  /* zero elements still allocate, so NULL always means failure */
  void *z = vigil__reallocarray(NULL, 0, 8);
  assert_non_null(z);
  free(z);
  free(v);
}

static void test_hex_every_byte(void **state) {
  (void)state;
  uint8_t all[256], back[256];
  for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
  char hex[513], want[513];
  vigil__hex_encode(all, 256, hex);
  for (int i = 0; i < 256; i++) snprintf(want + 2 * i, 3, "%02x", i);
  assert_string_equal(hex, want);
  assert_int_equal(vigil__hex_decode(hex, 256, back, NULL), VIGIL_OK);
  assert_memory_equal(all, back, 256);
  for (int i = 0; i < 256; i++) snprintf(want + 2 * i, 3, "%02X", i);
  memset(back, 0, sizeof back);
  assert_int_equal(vigil__hex_decode(want, 256, back, NULL), VIGIL_OK);
  assert_memory_equal(all, back, 256);
  char empty[1];
  vigil__hex_encode(all, 0, empty);
  assert_string_equal(empty, "");
}

static void test_hex_rejects(void **state) {
  (void)state;
  uint8_t out[4];
  size_t bad = 99;
  /* every byte that is not a hex digit, in the high and in the low place */
  for (int c = 0; c < 256; c++) {
    int digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    char s[8] = "00112233";
    s[5] = (char)c;
    int rc = vigil__hex_decode(s, 4, out, &bad);
    if (digit) {
      assert_int_equal(rc, VIGIL_OK);
    } else {
      assert_int_equal(rc, VIGIL_EINVAL);
      assert_int_equal(bad, 5);
    }
    s[5] = '2';
    s[2] = (char)c;
    rc = vigil__hex_decode(s, 4, out, &bad);
    if (!digit) assert_int_equal(bad, 2);
  }
  assert_int_equal(vigil__hex_decode("0g", 1, out, NULL), VIGIL_EINVAL);
}

/* Runs first: main sets VIGIL_SIMD=scalar before the level is read. */
static void test_simd_env_caps_every_kernel(void **state) {
  (void)state;
  assert_int_equal(vigil__simd_level(), VIGIL__SIMD_SCALAR);
  assert_string_equal(vigil__pdq_kernels_get()->name, "portable");
  assert_int_equal(vigil__kernels_get()->path, VIGIL__PATH_GENERIC);
  printf("cpu runs %s; VIGIL_SIMD=scalar gives %s and %s\n", vigil__simd_name(vigil__simd_cpu()),
         vigil__pdq_kernels_get()->name, vigil__kernels_get()->name);
}

static void test_simd_force(void **state) {
  (void)state;
  int cpu = vigil__simd_cpu();
  for (int l = VIGIL__SIMD_SCALAR; l <= VIGIL__SIMD_AVX512; l++) {
    if (l > cpu) {
      assert_int_equal(vigil__simd_force(l), VIGIL_EINVAL);
      continue;
    }
    assert_int_equal(vigil__simd_force(l), VIGIL_OK);
    assert_int_equal(vigil__simd_level(), l);
    assert_int_equal(vigil__kernels_get()->path, l);
    /* avx2, or avx2+fma where the CPU has FMA (the exact-division box filters) */
    const char *k = vigil__pdq_kernels_get()->name;
    if (l >= VIGIL__SIMD_AVX2) assert_true(!strcmp(k, "avx2") || !strcmp(k, "avx2+fma"));
    else assert_string_equal(k, "portable");
  }
  assert_int_equal(vigil__simd_force(7), VIGIL_EINVAL);
  assert_int_equal(vigil__simd_force(-5), VIGIL_EINVAL);
  assert_int_equal(vigil__simd_force(VIGIL__SIMD_AUTO), VIGIL_OK);
  assert_int_equal(vigil__simd_level(), VIGIL__SIMD_SCALAR); /* the environment's cap again */
}

/* A prefixed error keeps the failing call's code, with or without a
 * vigil_error to carry the message (the NULL case used to turn every code
 * into VIGIL_EINTERNAL). */
static void test_prefixerr_keeps_code(void **state) {
  (void)state;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil__seterr(&e, VIGIL_ENOTFOUND, "no such bank");
  assert_int_equal(vigil__prefixerr(&e, rc, "read bank"), VIGIL_ENOTFOUND);
  assert_string_equal(e.message, "read bank: no such bank");
  assert_int_equal(e.code, VIGIL_ENOTFOUND);
  assert_int_equal(vigil__prefixerr(NULL, VIGIL_ELIMIT, "import"), VIGIL_ELIMIT);
  assert_int_equal(vigil__prefixerr(NULL, VIGIL_ENOMEM, NULL), VIGIL_ENOMEM);
}

static void test_simd_parse(void **state) {
  (void)state;
  int l = -9;
  assert_int_equal(vigil__simd_parse("avx512", &l), VIGIL_OK);
  assert_int_equal(l, VIGIL__SIMD_AVX512);
  assert_int_equal(vigil__simd_parse("AVX2", &l), VIGIL_OK);
  assert_int_equal(l, VIGIL__SIMD_AVX2);
  assert_int_equal(vigil__simd_parse("scalar", &l), VIGIL_OK);
  assert_int_equal(l, VIGIL__SIMD_SCALAR);
  assert_int_equal(vigil__simd_parse("sse", &l), VIGIL_EINVAL);
  assert_int_equal(vigil__simd_parse("", &l), VIGIL_EINVAL);
  assert_int_equal(vigil__simd_parse("avx2 ", &l), VIGIL_EINVAL);
  assert_int_equal(vigil__simd_parse(NULL, &l), VIGIL_EINVAL);
  assert_null(vigil__simd_name(3));
}

static void test_rfc3339(void **state) {
  (void)state;
  char t[VIGIL__RFC3339_MAX];
  assert_int_equal(vigil__rfc3339_ms(0, t), VIGIL_OK);
  assert_string_equal(t, "1970-01-01T00:00:00.000Z");
  assert_int_equal(vigil__rfc3339_ms(1764730012345LL, t), VIGIL_OK);
  assert_string_equal(t, "2025-12-03T02:46:52.345Z");
  assert_int_equal(vigil__rfc3339_ms(1764730012005LL, t), VIGIL_OK);
  assert_string_equal(t, "2025-12-03T02:46:52.005Z");
  assert_int_equal(vigil__rfc3339_ms(-1, t), VIGIL_OK); /* floored, not a negative millisecond */
  assert_string_equal(t, "1969-12-31T23:59:59.999Z");
  assert_int_equal(vigil__rfc3339_ms(253402300799999LL, t), VIGIL_OK);
  assert_string_equal(t, "9999-12-31T23:59:59.999Z");
  assert_int_equal(vigil__rfc3339_ms(253402300800000LL, t), VIGIL_EINVAL); /* year 10000 */
  assert_string_equal(t, "");
  assert_int_equal(vigil__rfc3339_ms(INT64_MAX, t), VIGIL_EINVAL);
  assert_string_equal(t, "");
  assert_int_equal(vigil__rfc3339_ms(INT64_MIN, t), VIGIL_EINVAL);
  assert_string_equal(t, "");
}

int main(void) {
  setenv("VIGIL_SIMD", "scalar", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simd_env_caps_every_kernel),
      cmocka_unit_test(test_simd_force),
      cmocka_unit_test(test_simd_parse),
      cmocka_unit_test(test_grow_appends),
      cmocka_unit_test(test_grow_first_and_cap),
      cmocka_unit_test(test_grow_overflow),
      cmocka_unit_test(test_hex_every_byte),
      cmocka_unit_test(test_hex_rejects),
      cmocka_unit_test(test_prefixerr_keeps_code),
      cmocka_unit_test(test_rfc3339),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
