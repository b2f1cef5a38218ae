/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/match.h - exact near-neighbour search over PDQ hashes.
 *
 * An index holds (hash, id) pairs; id is the caller's handle (a bank entry's
 * row id).  A query returns every entry within `threshold` bits, inclusive,
 * with no misses (recall 1.0), sorted by distance then id.
 *
 * Threads: the functions that take a const index (query, query_multi,
 * size, memory, save) may run in any number of threads at once on one
 * index; each thread keeps its own query scratch, freed when it exits.
 * add, add_batch, remove and free change the index and need it alone: no
 * other call on that index may run meanwhile (a readers-writer discipline
 * the caller keeps, as vigil/bank.h's matcher and the service do).
 * Separate indexes are independent.
 *
 * Ownership: hashes and ids are copied in; *hits is the caller's.  A
 * loaded index reads its file through a read-only mapping until it is
 * freed or first changed (a change copies it to memory), so meanwhile the
 * file must not be truncated or rewritten in place; save writes PATH.tmp
 * and renames it over PATH, which is safe even onto the file an index was
 * loaded from.
 */
#ifndef VIGIL_MATCH_H
#define VIGIL_MATCH_H

#include "vigil/common.h"
#include "vigil/pdq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vigil_pdq_index vigil_pdq_index;

typedef struct vigil_pdq_hit {
  uint64_t id;
  int distance;
  int variant; /* which query of a multi-query matched (dihedral variant) */
} vigil_pdq_hit;

VIGIL_API int vigil_pdq_index_new(vigil_pdq_index **out, vigil_error *err);
VIGIL_API void vigil_pdq_index_free(vigil_pdq_index *ix);

/* Adding an id that is present replaces its hash. */
VIGIL_API int vigil_pdq_index_add(vigil_pdq_index *ix, const vigil_pdq_hash *h, uint64_t id, vigil_error *err);
/* VIGIL_ENOTFOUND when id is absent. */
VIGIL_API int vigil_pdq_index_remove(vigil_pdq_index *ix, uint64_t id, vigil_error *err);
VIGIL_API size_t vigil_pdq_index_size(const vigil_pdq_index *ix);
/* Adds many entries at once (as add() each, later ones winning on a repeated
 * id), rebuilding the tables in one pass when the batch is large: the way to
 * load a bank at start. */
VIGIL_API int vigil_pdq_index_add_batch(vigil_pdq_index *ix, const vigil_pdq_hash *hs, const uint64_t *ids, size_t n,
                              vigil_error *err);
/* Bytes of memory the index holds (heap and mapping). */
VIGIL_API size_t vigil_pdq_index_memory(const vigil_pdq_index *ix);

/* *hits is malloc'd (free() it), *nhits its length; may be 0 with *hits NULL. */
VIGIL_API int vigil_pdq_index_query(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int threshold,
                          vigil_pdq_hit **hits, size_t *nhits, vigil_error *err);
/* threshold: 0..256 (VIGIL_PDQ_MATCH_THRESHOLD is the usual one). */
/* Several queries at once (e.g. the 8 dihedral variants): each id appears
 * once, with its smallest distance and the variant that gave it. */
VIGIL_API int vigil_pdq_index_query_multi(const vigil_pdq_index *ix, const vigil_pdq_hash *qs, int nq, int threshold,
                                vigil_pdq_hit **hits, size_t *nhits, vigil_error *err);

/* A compact file, memory-mapped on load; saved whole or not at all, readable
 * by its owner only (mode 0600: it lists known content). */
VIGIL_API int vigil_pdq_index_save(const vigil_pdq_index *ix, const char *path, vigil_error *err);
VIGIL_API int vigil_pdq_index_load(vigil_pdq_index **out, const char *path, vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
