/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vpdq_internal.h - vPDQ matching internals, private to lib/video.
 *
 *   vpdq_index.c  the bank-video index (unique frame hashes in a match/
 *                 PDQ index, frames chained by hash), queries, percentages
 *   vpdq_align.c  clip localisation: frame pairs -> aligned segments
 */
#ifndef VIGIL_VPDQ_INTERNAL_H
#define VIGIL_VPDQ_INTERNAL_H

#include "vigil/video.h"

#include <stdint.h>

/* One matching frame pair: query frame qi (an index into the sorted query
 * timestamps) at qt seconds shows the bank frame at bt seconds. */
typedef struct vigil__vpdq_pair {
  double qt, bt;
  uint32_t qi;
  int dist; /* Hamming distance of the two frames */
} vigil__vpdq_pair;

/* Finds the aligned segments among n pairs (any order; reordered on
 * return); threshold is the largest distance a pair may have.  qts: the query's nq timestamps, ascending (what share
 * counts); qdt, bdt: the sampling intervals of the query and the bank video in seconds (0: unknown, 1 s is assumed).
 * *segs is malloc'd (NULL when none), sorted by query_start. */
int vigil__vpdq_align(vigil__vpdq_pair *pairs, size_t n, const double *qts, size_t nq, double qdt, double bdt,
                      int threshold, int max_segments, vigil_vpdq_segment **segs, size_t *nsegs, vigil_error *err);

/* The median gap between successive distinct values of ts (sorted, n
 * long); 0 when there are fewer than two distinct values. */
double vigil__vpdq_interval(const double *ts, size_t n);

#endif
