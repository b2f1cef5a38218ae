/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_policy.c - any bytes as a policy file: the loader must reject or
 * accept without crashing, leaking or reading out of bounds.  Inputs that
 * start with `vigil-policy 1` are also tried layered over the default, and a
 * policy that loads answers a few requests built from the input bytes, so
 * the compiled table and the rule walk are exercised on odd policies too.
 * Finally the bytes are spliced into the shipped default text at an offset
 * they choose, so that even unrelated seeds (the driver's default seeds are
 * images) reach deep into the parser with nearly valid policies.
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

static int layered(const uint8_t *data, size_t size);
static int spliced(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vigil_policy *p = NULL;
  vigil_error e;
  if (vigil_policy_load((const char *)data, size, "fuzz", &p, &e) == VIGIL_OK) {
    exercise(p, data, size);
    vigil_policy_free(p);
  }
  /* Then, alternating on the size's parity to keep each run quick: the
   * same bytes as the body of a `base default` file, or spliced into the
   * default text. */
  if (size & 1) return layered(data, size);
  return spliced(data, size);
}

static int layered(const uint8_t *data, size_t size) {
  vigil_policy *p = NULL;
  vigil_error e;
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

/* Splices into the default: offset from the first bytes, the rest written
 * over the text there (at most 64 bytes, so most of the policy survives). */
static int spliced(const uint8_t *data, size_t size) {
  vigil_policy *p = NULL;
  vigil_error e;
  const char *def = vigil_policy_default_text();
  size_t dlen = strlen(def);
  if (size < 3) return 0;
  size_t off = ((size_t)data[0] << 8 | data[1]) * 131 % dlen, n = size - 2 > 64 ? 64 : size - 2;
  char *sp = malloc(dlen + n);
  if (!sp) return 0;
  memcpy(sp, def, dlen);
  size_t len = dlen;
  if (data[2] & 1) { /* insert */
    memmove(sp + off + n, sp + off, dlen - off);
    len += n;
  } else if (off + n > dlen) {
    n = dlen - off;
  }
  memcpy(sp + off, data + 2, n);
  if (vigil_policy_load(sp, len, "fuzz", &p, &e) == VIGIL_OK) {
    exercise(p, data, size);
    vigil_policy_free(p);
  }
  free(sp);
  return 0;
}
