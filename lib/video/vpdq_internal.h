/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vpdq_internal.h - vPDQ matching internals, private to lib/video.
 *
 *   vpdq_index.c  the bank-video index (unique frame hashes in a match/
 *                 PDQ index, frames chained by hash), queries, percentages
 *   vpdq_align.c  clip localisation: frame pairs -> aligned segments
 *   vpdq_file.c   the index saved to one file and loaded back, validated
 */
#ifndef VIGIL_VPDQ_INTERNAL_H
#define VIGIL_VPDQ_INTERNAL_H

#include "vigil/video.h"

#include <stdint.h>

#include "vigil/match.h"

#define VIGIL__VPDQ_NONE UINT32_MAX
#define VIGIL__VPDQ_MAX_FRAMES ((size_t)1 << 31)

/* The index (vpdq_index.c).  Invariants: uh[0..nu) are distinct and are
 * the PDQ index's entries (id = uid); utab finds each (load <= 1/2); every
 * frame f[i] (i < nf) lies in video f[i].video's range [first, first + n)
 * and sits on the chain of its uid (uhead, next: decreasing frame numbers);
 * videos' ranges tile [0, nf) in order; vtab finds each video by id. */
typedef struct vigil__vpdq_frame {
  double ts;
  uint32_t uid, video, next; /* next frame with the same unique hash, or NONE */
  uint8_t quality;
} vigil__vpdq_frame;

typedef struct vigil__vpdq_video {
  uint64_t id;
  uint32_t first, n;
  uint32_t dead; /* removed: its frames stay chained but are never reported */
} vigil__vpdq_video;

struct vigil_vpdq_index {
  vigil_pdq_index *pdq; /* unique hash -> uid */
  vigil_pdq_hash *uh;   /* uid -> hash */
  uint32_t *uhead;      /* uid -> first frame carrying it */
  size_t nu, ucap, ucap2;
  uint32_t *utab; /* open addressing: uid + 1, 0 empty */
  size_t utcap;
  vigil__vpdq_frame *f;
  size_t nf, fcap;
  vigil__vpdq_video *v;
  size_t nv, vcap;
  uint32_t *vtab; /* open addressing on id: video + 1 */
  size_t vtcap;
  size_t dead_videos, dead_frames; /* removed, still held until a rebuild */
};

/* A loaded index's derived state (vpdq_file.c fills pdq, uh[0..nu), the
 * frames' ts, uid and quality and the videos' id, first, n, dead): the
 * hash and id tables, the chains, each frame's video and the dead counts.
 * VIGIL_ECORRUPT when two unique hashes or two video ids are equal. */
int vigil__vpdq_index_derive(vigil_vpdq_index *ix, const char *path, vigil_error *err);

/* Test hook: recomputes the payload and header checksums of a saved index
 * file held in memory (not the embedded PDQ index's), so tests and the fuzz
 * target can reach the checks behind them.  VIGIL_EINVAL when the header's
 * payload size does not fit in len. */
int vigil__vpdq_file_reseal(uint8_t *file, size_t len);

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
