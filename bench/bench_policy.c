/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_policy.c - decisions per second of the compiled policy engine
 * (vigil_policy_decide: one table load plus at most one setting check)
 * against the straightforward baseline measured in the same run: walking
 * the uncompiled rule list in order for every request
 * (vigil_policy_decide_traced without a trace buffer), on the same mixed
 * workload of random accounts, relationships, actions and local times.
 *
 * Single thread, so the figure is per core.  Both loops fold every decision
 * into a checksum, which must agree (the run fails otherwise) and keeps the
 * compiler from dropping the work.  --smoke runs a few milliseconds of each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/policy.h"

#define NACCT 1024
#define NREQ 4096 /* power of two */

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef int (*decide_fn)(const vigil_policy *, const vigil_policy_request *, vigil_policy_decision *);

static int decide_walk(const vigil_policy *p, const vigil_policy_request *r, vigil_policy_decision *d) {
  return vigil_policy_decide_traced(p, r, d, NULL, 0);
}

/* Runs fn over the request ring for at least `secs`; returns decisions/s. */
static double measure(decide_fn fn, const vigil_policy *p, const vigil_policy_request *reqs, double secs,
                      uint64_t *sum_out, long *n_out) {
  uint64_t sum = 0;
  long n = 0;
  double t0 = now(), t;
  vigil_policy_decision d;
  do {
    for (int i = 0; i < 65536; i++) {
      fn(p, &reqs[i & (NREQ - 1)], &d);
      sum = sum * 31 + (uint64_t)d.outcome * 7 + d.conditions + (uint64_t)(uintptr_t)d.reasons[d.nreasons - 1];
    }
    n += 65536;
    t = now() - t0;
  } while (t < secs);
  *sum_out = sum;
  *n_out = n;
  return (double)n / t;
}

int main(int argc, char **argv) {
  int smoke = argc > 1 && !strcmp(argv[1], "--smoke");
  double secs = smoke ? 0.02 : 1.0;
  vigil_policy *p;
  vigil_error e;
  if (vigil_policy_load_default(&p, &e)) {
    fprintf(stderr, "bench_policy: %s\n", e.message);
    return 1;
  }
  static vigil_policy_account accts[NACCT];
  static vigil_policy_request reqs[NREQ];
  for (int i = 0; i < NACCT; i++) {
    vigil_policy_account_init(&accts[i]);
    uint64_t x = next();
    accts[i].band = (uint8_t)(x % VIGIL_BAND_COUNT);
    accts[i].risk = (uint8_t)((x >> 8) % 50 == 0 ? 1 + (x >> 16) % 3 : 0); /* 2% flagged */
    accts[i].parent_linked = (uint8_t)((x >> 20) & 1);
    accts[i].parent_approved = (uint16_t)(x >> 24);
    for (int s = 0; s < VIGIL_SET_COUNT; s++) {
      unsigned v = (unsigned)((x >> (40 + 2 * s)) % 9);
      accts[i].settings[s] = (uint8_t)(v < VIGIL_AUD_COUNT ? v : VIGIL_AUD_UNSET);
    }
  }
  for (int i = 0; i < NREQ; i++) {
    uint64_t x = next();
    reqs[i].action = (int)(x % VIGIL_ACT_COUNT);
    reqs[i].actor = &accts[(x >> 8) % NACCT];
    reqs[i].target = &accts[(x >> 20) % NACCT];
    reqs[i].rel_flags = (unsigned)((x >> 32) % 32);
    reqs[i].local_minute = (int)((x >> 40) % 1440);
  }
  uint64_t s1, s2;
  long n1, n2;
  /* Warm up, then measure the baseline first so turbo ramps favour neither. */
  measure(vigil_policy_decide, p, reqs, secs / 10, &s1, &n1);
  double base = measure(decide_walk, p, reqs, secs, &s2, &n2);
  double fast = measure(vigil_policy_decide, p, reqs, secs, &s1, &n1);
  /* Same number of decisions for the checksum comparison. */
  uint64_t c1 = 0, c2 = 0;
  vigil_policy_decision d;
  for (int i = 0; i < NREQ; i++) {
    vigil_policy_decide(p, &reqs[i], &d);
    c1 = c1 * 31 + (uint64_t)d.outcome * 7 + d.conditions + (uint64_t)(uintptr_t)d.reasons[d.nreasons - 1];
    decide_walk(p, &reqs[i], &d);
    c2 = c2 * 31 + (uint64_t)d.outcome * 7 + d.conditions + (uint64_t)(uintptr_t)d.reasons[d.nreasons - 1];
  }
  printf("policy decide (compiled table): %.2f M decisions/s  (%.1f ns each, %ld decisions)\n", fast / 1e6,
         1e9 / fast, n1);
  printf("baseline (rule-list walk, %zu rules): %.2f M decisions/s  (%.1f ns each, %ld decisions)\n",
         vigil_policy_rule_count(p), base / 1e6, 1e9 / base, n2);
  printf("ratio compiled/baseline: %.2fx\n", fast / base);
  vigil_policy_free(p);
  if (c1 != c2) {
    fprintf(stderr, "bench_policy: compiled and baseline decisions differ\n");
    return 1;
  }
  (void)s1;
  (void)s2;
  return 0;
}
