/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grow.h - growable arrays, one way for all of lib/.
 *
 * An array that grows by doubling is written in one place so that the
 * overflow checks (count times element size, doubling past SIZE_MAX) are
 * written once and right.  Callers keep the array, its capacity and its
 * length themselves; these functions only make room.  On failure nothing
 * changes: the old array is still valid and still owned by the caller.
 */
#ifndef VIGIL_COMMON_GROW_H
#define VIGIL_COMMON_GROW_H

#include <stddef.h>

/* Default first capacity, in elements, when an array is first grown. */
#define VIGIL__GROW_FIRST 16

/* The capacity, doubling from cap (or from first when cap is 0), that holds
 * need elements of elem bytes; cap itself when it already does.  0 when
 * need * elem would not fit in a size_t. */
size_t vigil__grow_cap(size_t cap, size_t need, size_t elem, size_t first);

/* realloc of n elements of elem bytes, checked for overflow; NULL on
 * overflow or out of memory (p is then untouched).  n == 0 allocates one
 * byte so that NULL always means failure. */
void *vigil__reallocarray(void *p, size_t n, size_t elem);

/* Makes *p hold at least need elements of elem bytes, doubling *cap from
 * VIGIL__GROW_FIRST.  VIGIL_OK, or VIGIL_ENOMEM (on overflow too) with *p
 * and *cap unchanged.  Pass the array as (void **)&arr. */
int vigil__grow(void **p, size_t *cap, size_t need, size_t elem);

/* The same, with the first capacity given (a large first buffer for arrays
 * known to grow large, a small one for arrays that usually stay tiny). */
int vigil__grow_from(void **p, size_t *cap, size_t need, size_t elem, size_t first);

#endif
