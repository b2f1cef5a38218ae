/* SPDX-License-Identifier: Apache-2.0 */
/*
 * internal.h - helpers shared by all of lib/, never installed.
 *
 * Naming: public symbols are vigil_*, internal ones vigil__* (two
 * underscores), as in libuv.  Nothing here is part of the ABI.
 */
#ifndef VIGIL_INTERNAL_H
#define VIGIL_INTERNAL_H

#include "vigil/common.h"

#include <stdlib.h>

#if defined(__GNUC__)
#define VIGIL__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VIGIL__PRINTF(a, b)
#endif

/* Records code and a formatted message in err (if non-NULL); returns code. */
int vigil__seterr(vigil_error *err, int code, const char *fmt, ...) VIGIL__PRINTF(3, 4);

/* Prepends "prefix: " to err's message (err may be NULL) and returns rc,
 * the negative code of the call that failed, so the code survives when the
 * caller passed no vigil_error. */
int vigil__prefixerr(vigil_error *err, int rc, const char *prefix);

/* Overflow-checked n*size allocation; NULL on overflow or failure. */
static inline void *vigil__calloc(size_t n, size_t size) { return calloc(n, size); }
static inline void *vigil__mallocarray(size_t n, size_t size) {
  if (size && n > (size_t)-1 / size) return NULL;
  size_t bytes = n * size;
  return malloc(bytes > 0 ? bytes : 1);
}

#endif
