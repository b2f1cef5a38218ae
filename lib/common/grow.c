/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grow.c - growable arrays (see grow.h).
 *
 * Doubling keeps appends amortised O(1); the checks make a hostile count
 * (a huge CSV, a request with millions of fields) an ENOMEM rather than a
 * wrapped size and a heap overflow.
 */
#include "common/grow.h"

#include <stdint.h>
#include <stdlib.h>

#include "common/internal.h"

size_t vigil__grow_cap(size_t cap, size_t need, size_t elem, size_t first) {
  if (elem == 0) elem = 1;
  if (need > SIZE_MAX / elem) return 0;
  if (need <= cap) return cap;
  size_t nc = cap ? cap : (first ? first : 1);
  while (nc < need) {
    if (nc > SIZE_MAX / 2 / elem) {
      nc = need; /* doubling would overflow: exactly what was asked, which fits */
      break;
    }
    nc *= 2;
  }
  return nc;
}

void *vigil__reallocarray(void *p, size_t n, size_t elem) {
  if (elem && n > SIZE_MAX / elem) return NULL;
  size_t bytes = n * elem;
  return realloc(p, bytes ? bytes : 1);
}

int vigil__grow_from(void **p, size_t *cap, size_t need, size_t elem, size_t first) {
  if (need <= *cap) return VIGIL_OK;
  size_t nc = vigil__grow_cap(*cap, need, elem, first);
  if (nc == 0) return VIGIL_ENOMEM;
  void *np = vigil__reallocarray(*p, nc, elem);
  if (!np) return VIGIL_ENOMEM;
  *p = np;
  *cap = nc;
  return VIGIL_OK;
}

int vigil__grow(void **p, size_t *cap, size_t need, size_t elem) {
  return vigil__grow_from(p, cap, need, elem, VIGIL__GROW_FIRST);
}
