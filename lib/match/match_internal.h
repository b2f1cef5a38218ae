/* SPDX-License-Identifier: Apache-2.0 */
/*
 * match_internal.h - the PDQ index's data structure, shared by the files of
 * lib/match/ and by the tests (never installed).
 *
 * Layout (see pdq_index.c for the reasoning):
 *   hashes[n], ids[n]   dense slots 0..n-1; removal moves the last slot into
 *                       the hole, so there are never holes.
 *   idmap               open addressing, id -> slot (built lazily: a loaded
 *                       index needs it only when it is first modified).
 *   tables[m]           multi-index hashing: table i keys every slot by b
 *                       bits of its key words (the hash's bits regrouped by
 *                       DCT parity class) from bit koff[i].  A bucket is a
 *                       block of slot numbers in the table's pool; its 64-bit
 *                       header packs offset, length and capacity class.
 *
 * Invariants (checked by vigil__pdq_index_check in the tests):
 *   - every slot s < n appears exactly once in every table, in the bucket of
 *     its key, and nothing else does;
 *   - a bucket's len <= cap(class) and its block lies inside the pool;
 *   - idmap holds exactly the ids of slots 0..n-1 (when idmap_ok).
 */
#ifndef VIGIL_MATCH_INTERNAL_H
#define VIGIL_MATCH_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "common/simd.h"
#include "vigil/match.h"

#define VIGIL__MIH_MAXTABLES 24 /* m <= this (the file header has room for 24) */
#define VIGIL__MIH_MAXBITS 21  /* b never exceeds this (header memory) */
#define VIGIL__MIH_MINBITS 9
#define VIGIL__MIH_MIN_N 1024  /* below this a scan is cheaper than tables */
#define VIGIL__MIH_TMAX 4      /* largest per-table search radius */
#define VIGIL__MIH_CLASSES 64
#define VIGIL__MAX_ENTRIES (((size_t)1 << 26) - 1) /* bucket len field is 26 bits */
#define VIGIL__NONE UINT32_MAX

/* Bucket header: offset in the pool (32 bits), len (26), class (6). */
static inline uint32_t vigil__hdr_off(uint64_t h) { return (uint32_t)h; }
static inline uint32_t vigil__hdr_len(uint64_t h) { return (uint32_t)(h >> 32) & ((1u << 26) - 1); }
static inline unsigned vigil__hdr_class(uint64_t h) { return (unsigned)(h >> 58); }
static inline uint64_t vigil__hdr_pack(uint32_t off, uint32_t len, unsigned cls) {
  return (uint64_t)off | ((uint64_t)len << 32) | ((uint64_t)cls << 58);
}
/* Capacity of a class: 0..16 exactly (typical buckets hold a few slots, so
 * a bulk build wastes nothing), then 24, 32, 48, 64, ... (two per doubling). */
static inline uint64_t vigil__class_cap(unsigned c) {
  if (c <= 16) return c;
  return ((c - 17) & 1 ? (uint64_t)32 : (uint64_t)24) << ((c - 17) / 2);
}
unsigned vigil__class_for(uint64_t len);

typedef struct vigil__table {
  uint64_t *hdr;  /* 2^b bucket headers */
  uint32_t *pool; /* blocks of slot numbers */
  uint64_t pool_len, pool_cap;
  uint32_t free_head[VIGIL__MIH_CLASSES]; /* per class, VIGIL__NONE-terminated */
} vigil__table;

/* Diagnostics for the benchmark: where a vigil__qtune points stats at one,
 * queries add to these counters. */
typedef struct vigil__qstats {
  uint64_t queries, scans, probes, candidates;
} vigil__qstats;

/* How one index plans its queries: tuning for benchmarks and strategy
 * forcing for tests, kept in the index (not in globals) so that two
 * indexes used by two threads never share them.  vigil__pdq_index_tune sets
 * it between queries; while a query runs it is only read, except for the
 * counters stats points at, so stats must be used by one thread at a time. */
typedef struct vigil__qtune {
  int strategy;         /* 0: the planner chooses; 1: every query scans; 2: the tables, even past a scan's cost */
  double probe_cost;    /* cost of probing a bucket relative to verifying a candidate */
  vigil__qstats *stats; /* NULL, or counters queries add to */
} vigil__qtune;

/* Two dependent cache misses per probe; measured best in 2..8 (bench_match --probe-cost). */
#define VIGIL__PROBE_COST 4.0

struct vigil_pdq_index {
  size_t n, cap;
  vigil_pdq_hash *hashes;
  uint64_t *ids;
  int bits; /* b; 0 when there are no tables */
  int m;
  int koff[VIGIL__MIH_MAXTABLES]; /* table i's key: bits koff[i] .. + b of the key words (vigil__set_layout) */
  size_t built_n; /* n when the tables were last built (or loaded) */
  vigil__table t[VIGIL__MIH_MAXTABLES];
  uint32_t *idmap;
  size_t idmap_cap; /* power of two, or 0 */
  bool idmap_ok;
  /* A loaded index points into a read-only mapping until first modified. */
  void *map;
  size_t map_len;
  vigil__qtune tune; /* vigil__qtune_default() unless a test or bench changed it */
};

/* Bits [off, off+b) of the key words w (vigil__key_words) as an integer;
 * bit p is bit p%64 of word p/64. */
static inline uint32_t vigil__key(const uint64_t w[4], int off, int b) {
  int wi = off >> 6, sh = off & 63;
  uint64_t v = w[wi] >> sh;
  if (sh + b > 64 && wi < 3) v |= w[wi + 1] << (64 - sh);
  return (uint32_t)(v & ((1u << b) - 1));
}
/* Large arrays (bigmem.c): 64-byte aligned, huge pages when big.  free and
 * realloc take the byte count the array was allocated with. */
void *vigil__big_alloc(size_t bytes, bool zero);
void vigil__big_free(void *p, size_t bytes);
void *vigil__big_realloc(void *p, size_t old, size_t bytes);
void vigil__words(const vigil_pdq_hash *h, uint64_t w[4]);
/* The hash's bits regrouped by the parity of their DCT row and column, one
 * 64-bit word per class (pdq_index.c says why); tables key on these. */
void vigil__key_words(const vigil_pdq_hash *h, uint64_t w[4]);
/* Sets koff[] for ix->bits and ix->m. */
void vigil__set_layout(vigil_pdq_index *ix);

/* Target number of key bits for n entries (0: no tables), and the number
 * of tables that goes with b bits. */
int vigil__target_bits(size_t n);
int vigil__tables_for(int bits);
int vigil__tables_build(vigil_pdq_index *ix, int bits, vigil_error *err);
void vigil__tables_free(vigil_pdq_index *ix);

/* --- kernels (pdq_kernels.c), chosen at run time --- */
/* A path is a level of common/simd.h; the index runs at vigil__simd_level(). */
enum {
  VIGIL__PATH_GENERIC = VIGIL__SIMD_SCALAR,
  VIGIL__PATH_AVX2 = VIGIL__SIMD_AVX2,
  VIGIL__PATH_AVX512 = VIGIL__SIMD_AVX512,
  VIGIL__PATH_AUTO = VIGIL__SIMD_AUTO
};

/* Distances of hashes h[0..n) to q; writes i and distance of those <= r;
 * returns how many.  n <= VIGIL__SCAN_CHUNK. */
#define VIGIL__SCAN_CHUNK 4096
typedef size_t (*vigil__scan_fn)(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *q, int r,
                                 uint32_t *out_i, uint16_t *out_d);
/* The same for the slots refs[0..n) of h (prefetching ahead); writes the
 * position k in refs, not the slot, in increasing order. */
typedef size_t (*vigil__verify_fn)(const vigil_pdq_hash *h, const uint32_t *refs, size_t n,
                                   const vigil_pdq_hash *q, int r, uint32_t *out_k, uint16_t *out_d);
/* Minimum distance over nq <= 8 queries; out_v gets the (first) query that
 * gave it. */
typedef size_t (*vigil__scan_multi_fn)(const vigil_pdq_hash *h, size_t n, const vigil_pdq_hash *qs, int nq,
                                       int r, uint32_t *out_i, uint16_t *out_d, uint8_t *out_v);

/* For the slots refs[0..n) of h (prefetching ahead), the minimum distance
 * over the queries qs[v] whose bit v is set in masks[i] (nq <= 8); out_k
 * gets positions in refs, in increasing order, out_v the (first) query. */
typedef size_t (*vigil__verify_masked_fn)(const vigil_pdq_hash *h, const uint32_t *refs, const uint8_t *masks,
                                          size_t n, const vigil_pdq_hash *qs, int nq, int r, uint32_t *out_k,
                                          uint16_t *out_d, uint8_t *out_v);

typedef struct vigil__kernels {
  int path;
  const char *name;
  vigil__scan_fn scan;
  vigil__verify_fn verify;
  vigil__scan_multi_fn scan_multi;
  vigil__verify_masked_fn verify_masked;
} vigil__kernels;

/* The kernels for vigil__simd_level(): the best the CPU runs, capped by
 * VIGIL_SIMD, unless a test forced a level (vigil__simd_force). */
const vigil__kernels *vigil__kernels_get(void);
/* Whether this CPU can run a path. */
bool vigil__path_supported(int path);

/* The tuning a new or loaded index starts with. */
static inline vigil__qtune vigil__qtune_default(void) { return (vigil__qtune){0, VIGIL__PROBE_COST, NULL}; }
/* Test and bench hook: the index's tuning (strategy forcing, probe cost,
 * statistics).  Not while a query on ix runs. */
void vigil__pdq_index_tune(vigil_pdq_index *ix, const vigil__qtune *t);
/* The index's tuning now. */
vigil__qtune vigil__pdq_index_tuning(const vigil_pdq_index *ix);

/* Test hook: verifies the invariants above; VIGIL_EINTERNAL with a message
 * when one does not hold.  O(n * m). */
int vigil__pdq_index_check(const vigil_pdq_index *ix, vigil_error *err);

/* Test hook: recomputes both checksums of a saved index file held in
 * memory, so tests can tamper with fields and check the bounds validation. */
int vigil__pdq_file_reseal(uint8_t *file, size_t len);

/* The index file's checksum (pdq_file.c), shared with lib/video's vPDQ
 * index file: four 64-bit lanes over 32-byte blocks. */
typedef struct vigil__sum4 {
  uint64_t l[4];
} vigil__sum4;
void vigil__sum_init(vigil__sum4 *s);
void vigil__sum_blocks(vigil__sum4 *s, const uint8_t *p, size_t n); /* n % 32 == 0 */
uint64_t vigil__sum_final(const vigil__sum4 *s);

/* A buffered writer that sums what it writes (in 64-byte padded sections):
 * set f, buf (VIGIL__WBUF bytes) and sum (vigil__sum_init); fail records a
 * write error and eno its errno, kept at the failure because the calls that
 * follow (fclose, free, unlink) may change errno before the message is
 * written; total the bytes flushed. */
#define VIGIL__WBUF (1u << 20)
typedef struct vigil__writer {
  FILE *f;
  uint8_t *buf;
  size_t fill;
  vigil__sum4 sum;
  uint64_t total;
  bool fail;
  int eno;
} vigil__writer;
/* Records a failure of w's stream, with errno as it is now (the first one
 * is kept; EIO when errno says nothing). */
void vigil__w_fail(vigil__writer *w);
void vigil__w_put(vigil__writer *w, const void *p, size_t n);
void vigil__w_pad(vigil__writer *w); /* zeros up to the next multiple of 64 bytes */
void vigil__w_flush(vigil__writer *w);

/* An index file written into f at its current position, which must be a
 * multiple of 64 bytes into the file (what names f in errors); *written gets
 * its length.  f is left at the end of what was written; no fsync. */
int vigil__pdq_index_write(const vigil_pdq_index *ix, FILE *f, const char *what, uint64_t *written,
                           vigil_error *err);
/* Loads the index file that lies at fd's bytes [offset, offset + len)
 * (offset a multiple of the page size), validated as vigil_pdq_index_load
 * does; the index maps that range itself, fd may be closed afterwards. */
int vigil__pdq_index_load_fd(vigil_pdq_index **out, int fd, uint64_t offset, uint64_t len, const char *path,
                             vigil_error *err);
/* The index's n entries: hashes[i] has id ids[i] (valid until the index
 * changes). */
void vigil__pdq_index_entries(const vigil_pdq_index *ix, const vigil_pdq_hash **hashes, const uint64_t **ids,
                              size_t *n);

/* Copies a mapped index to the heap and builds the id map, before a change. */
int vigil__make_writable(vigil_pdq_index *ix, vigil_error *err);

#endif
