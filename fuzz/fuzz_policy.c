/*
 * fuzz_policy.c - any bytes as a policy file: the loader must reject or
 * accept without crashing, leaking or reading out of bounds.  Inputs that
 * start with `vigil-policy 1` are also tried layered over the default, and a
 * policy that loads answers a few requests built from the input bytes, so
 * the compiled table and the rule walk are exercised on odd policies too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/policy.h"

static void exercise(const vigil_policy *p, const uint8_t *data, size_t size) {
  vigil_policy_account a, t;
  vigil_policy_account_init(&a);
  vigil_policy_account_init(&t);
  for (size_t i = 0; i + 4 <= size && i < 64; i += 4) {
    a.band = data[i] % 7; /* out-of-range bands included */
    t.band = data[i + 1] % 7;
    a.risk = data[i + 2] & 3;
    t.settings[data[i + 2] % VIGIL_SET_COUNT] = data[i + 3];
    vigil_policy_request r = {data[i] % (VIGIL_ACT_COUNT + 1), &a, &t, data[i + 1], (int)data[i + 3] * 7 - 20};
    vigil_policy_decision d1, d2;
    char trace[256];
    int rc1 = vigil_policy_decide(p, &r, &d1);
    int rc2 = vigil_policy_decide_traced(p, &r, &d2, trace, sizeof trace);
    if (rc1 != rc2 || d1.outcome != d2.outcome || d1.conditions != d2.conditions) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vigil_policy *p = NULL;
  vigil_error e;
  if (vigil_policy_load((const char *)data, size, "fuzz", &p, &e) == VIGIL_OK) {
    exercise(p, data, size);
    vigil_policy_free(p);
  }
  /* The same bytes as the body of a `base default` file. */
  static const char hdr[] = "vigil-policy 1\nbase default\n";
  char *buf = malloc(sizeof hdr + size);
  if (!buf) return 0;
  memcpy(buf, hdr, sizeof hdr - 1);
  memcpy(buf + sizeof hdr - 1, data, size);
  if (vigil_policy_load(buf, sizeof hdr - 1 + size, "fuzz", &p, &e) == VIGIL_OK) {
    exercise(p, data, size);
    vigil_policy_free(p);
  }
  free(buf);
  return 0;
}
