/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex.c - hex encoding and strict decoding (see hex.h).
 *
 * A 256-entry table rather than comparisons: the decoder runs on every PDQ
 * hash read from a bank file or a request, and the table makes "not a
 * digit" one lookup as well.
 */
#include "common/hex.h"

#include "common/internal.h"

static const char digits[] = "0123456789abcdef";

/* A hex digit's value plus one; 0 (the default) for anything else. */
static const uint8_t nib[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

void vigil__hex_encode(const uint8_t *in, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

int vigil__hex_decode(const char *hex, size_t n, uint8_t *out, size_t *bad) {
  for (size_t i = 0; i < n; i++) {
    unsigned hi = nib[(unsigned char)hex[2 * i]], lo = nib[(unsigned char)hex[2 * i + 1]];
    if (!hi || !lo) {
      if (bad) *bad = hi ? 2 * i + 1 : 2 * i;
      return VIGIL_EINVAL;
    }
    out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
  }
  return VIGIL_OK;
}
