/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_policy_alloc.c - vigil_policy_decide() must not allocate.
 *
 * This program interposes malloc/calloc/realloc/free (forwarding to glibc's
 * __libc_* entry points) and counts calls while it makes a million
 * decisions over varied requests; the count must stay at zero.  Under a
 * sanitizer the allocator belongs to the sanitizer, so the test reports
 * itself skipped there (exit 77); the Release run is the one that counts.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/policy.h"

static volatile long allocs;

#if !TU_ASAN && defined(__GLIBC__)
#define COUNTING 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
void *malloc(size_t n) {
  allocs++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t m) {
  allocs++;
  return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
  allocs++;
  return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
#else
#define COUNTING 0
#endif

static void test_decide_allocates_nothing(void **state) {
  (void)state;
  vigil_policy *p;
  vigil_error e;
  long before = allocs;
  assert_int_equal(vigil_policy_load_default(&p, &e), VIGIL_OK);
  assert_true(allocs > before); /* the counter works: loading allocates */
  vigil_policy_account accts[64];
  uint64_t rng = 99;
  for (int i = 0; i < 64; i++) {
    vigil_policy_account_init(&accts[i]);
    uint64_t x = tu_rand(&rng);
    accts[i].band = (uint8_t)(x % VIGIL_BAND_COUNT);
    accts[i].risk = (uint8_t)((x >> 8) % 4);
    accts[i].parent_linked = (uint8_t)((x >> 10) & 1);
    accts[i].parent_approved = (uint16_t)(x >> 12);
    for (int s = 0; s < VIGIL_SET_COUNT; s++) accts[i].settings[s] = (uint8_t)((x >> (30 + 3 * s)) % 7);
  }
  long denies = 0;
  before = allocs;
  for (int i = 0; i < 1000000; i++) {
    uint64_t x = tu_rand(&rng);
    vigil_policy_request r = {(int)(x % VIGIL_ACT_COUNT), &accts[(x >> 8) % 64], &accts[(x >> 16) % 64],
                              (unsigned)((x >> 24) % 32), (int)((x >> 32) % 1440)};
    vigil_policy_decision d;
    vigil_policy_decide(p, &r, &d);
    denies += d.outcome == VIGIL_POLICY_DENY;
  }
  long during = allocs - before;
  printf("1000000 decisions (%ld denied), %ld allocations\n", denies, during);
  assert_int_equal(during, 0);
  assert_true(denies > 0 && denies < 1000000);
  vigil_policy_free(p);
}

int main(void) {
  if (!COUNTING) {
    printf("SKIP: allocation counting needs glibc without a sanitizer (the Release run checks it)\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_decide_allocates_nothing)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
