/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_index.c - an exact radius index over 256-bit PDQ hashes: storage,
 * in-place add and remove, and the multi-index hashing tables.
 *
 * Why multi-index hashing.  Cut the 256 bits into m disjoint substrings of
 * b bits (m * b <= 256: 16 x 16 at 1M entries, 12 x 21 at 10M; see
 * vigil__target_bits).  If d(x, q) <= r then, for any radii t_i with
 * sum(t_i + 1) >= r + 1, at least one substring i has d_i(x, q) <= t_i
 * (otherwise d >= sum(t_i + 1) > r).  So looking up, in each table i, the
 * buckets of every key within t_i of q's substring finds every match; each
 * candidate is then verified with a full popcount.  With t_i chosen per query
 * from the actual bucket sizes (pdq_query.c), dense regions of the space
 * (clusters of near-duplicates, skewed bits) get small radii and sparse ones
 * large radii.  When even the best choice would touch a large share of the
 * entries, the query falls back to a vectorised linear scan (pdq_kernels.c),
 * which is then the faster exact answer.
 *
 * Why this layout.  A table is a direct-addressed array of 2^b bucket headers
 * plus a pool of u32 slot numbers: a probe is one header read and one short
 * sequential block, no hashing, no pointers.  b grows with the index
 * (9..21, m = 256 / b tables, at most 24) so that headers cost at most ~48
 * bytes per entry, fewer on average; growing b, or n doubling since the
 * last build, rebuilds the tables (amortised like a hash table's doubling).
 * Buckets are blocks with capacities in classes (0..16, then 24, 32, 48, ...);
 * an add appends in place or moves the bucket to the next class, and freed
 * blocks go to per-class free lists that later moves reuse, so memory stays
 * bounded under add/remove churn.  A bulk build packs every bucket into the
 * smallest class that holds it.
 *
 * Memory at 10M entries: hashes 32 B + id 8 B + id map ~7 B + 12 tables x
 * (4 B slot + ~1.7 B header) ~ 115 B per entry, under 4x the 32 raw bytes;
 * at 1M, 16 tables x (4 B slot + 0.5 B header + block rounding) ~ 128 B.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/internal.h"
#include "match/match_internal.h"

void vigil__words(const vigil_pdq_hash *h, uint64_t w[4]) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(w, h->bytes, 32);
  return;
#endif
  for (int i = 0; i < 4; i++) {
    uint64_t v = 0;
    for (int j = 7; j >= 0; j--) v = (v << 8) | h->bytes[8 * i + j];
    w[i] = v;
  }
}

/* Keys by DCT parity class.  A dihedral variant of a picture's hash is,
 * bit for bit, the hash of a DCT whose coefficients of some parity classes
 * are negated (flips) or whose rows and columns are swapped (transposes):
 * flipping negates the odd-frequency columns, say, so the bits of the two
 * classes with an odd column come out complemented and the two others
 * unchanged, but for the few
 * coefficients between the old and the new median.  Keys that each take
 * their bits from a single class are therefore often equal, or exactly
 * complemented, between variants, and a query for all 8 variants probes
 * the same buckets several times over (pdq_query.c probes them once).  In
 * keys that mix classes nearly every variant has a key of its own.
 *
 * Bit p of the hash (byte p/8, bit p%8) is DCT coefficient k = 16*i + j
 * with byte 31 - k/8, so each 16-bit group of a little-endian word is one
 * row i (odd rows in groups 0 and 2, even rows in 1 and 3) and the bit's
 * parity is j's.  Unzipping each group (even bits to its low byte, odd bits
 * to its high byte) leaves bytes oe, oo, ee, eo, oe, oo, ee, eo (row parity,
 * column parity); the key words collect them per class: 0 oo, 1 ee, 2 eo,
 * 3 oe.  For random hashes every bit is as good as any other, so the
 * regrouping costs a single query nothing. */
static inline uint64_t unzip16(uint64_t x) {
  uint64_t t = (x ^ (x >> 1)) & 0x2222222222222222ull;
  x ^= t ^ (t << 1);
  t = (x ^ (x >> 2)) & 0x0C0C0C0C0C0C0C0Cull;
  x ^= t ^ (t << 2);
  t = (x ^ (x >> 4)) & 0x00F000F000F000F0ull;
  x ^= t ^ (t << 4);
  return x;
}

/* Byte of the unzipped word holding class c's first 8 bits (the second 8
 * are 4 bytes up): oo 1, ee 2, eo 3, oe 0. */
static const int class_byte[4] = {1, 2, 3, 0};

void vigil__key_words(const vigil_pdq_hash *h, uint64_t w[4]) {
  uint64_t in[4];
  vigil__words(h, in);
  w[0] = w[1] = w[2] = w[3] = 0;
  for (int k = 0; k < 4; k++) {
    uint64_t u = unzip16(in[k]);
    for (int c = 0; c < 4; c++) {
      int sh = 8 * class_byte[c];
      w[c] |= (((u >> sh) & 0xFF) | ((u >> (sh + 24)) & 0xFF00)) << (16 * k);
    }
  }
}

/* Class word c alone (what a table inside one class needs). */
static uint64_t key_class_word(const vigil_pdq_hash *h, int c) {
  uint64_t in[4], w = 0;
  vigil__words(h, in);
  int sh = 8 * class_byte[c];
  for (int k = 0; k < 4; k++) {
    uint64_t u = unzip16(in[k]);
    w |= (((u >> sh) & 0xFF) | ((u >> (sh + 24)) & 0xFF00)) << (16 * k);
  }
  return w;
}

/* Table i starts at class i / tpc, offset (i % tpc) * b, when the tables
 * fit whole inside the classes (b = 9, 10, 16, 20, 21: 1k-8k entries,
 * 256k-2M, and every size from 2M up); otherwise (8k-256k) the key words
 * are cut end to end as they come (the classes are still contiguous, so
 * most keys stay within one). */
void vigil__set_layout(vigil_pdq_index *ix) {
  int b = ix->bits, m = ix->m;
  int tpc = b ? 64 / b : 0;
  bool aligned = tpc > 0 && 4 * tpc >= m;
  for (int i = 0; i < m; i++) ix->koff[i] = aligned ? (i / tpc) * 64 + (i % tpc) * b : i * b;
}

unsigned vigil__class_for(uint64_t len) {
  if (len <= 16) return (unsigned)len;
  unsigned c = 17;
  while (vigil__class_cap(c) < len) c++;
  return c;
}

/* The shape (b, m) for n entries: the one the query planner's own cost
 * model (pdq_query.c) finds cheapest for uniform hashes at radius 31, with
 * headers of at most ~48 bytes per entry when b has just grown.  Below 2^21
 * entries that is b = floor(log2(n / 4)), at most 16, with m = 256 / b
 * tables: more, smaller tables use all 256 bits for the pigeonhole, so the
 * r + 1 units of radius spread over more tables and fewer go to second and
 * third rings (at 1M: 16 x 16 bits, 272 probes and 4,200 candidates per
 * random query, against 1,450 and 5,500 with 12 x 18 bits; measured 2x the
 * queries/s).  From 2^21 entries on, b = floor(log2(n / 2)), at most 21, and
 * 12 tables: there the larger tables win (at 10M: 12 x 21 bits). */
int vigil__target_bits(size_t n) {
  if (n < VIGIL__MIH_MIN_N) return 0;
  int b = 0;
  if (n < ((size_t)1 << 21)) {
    while (((size_t)8 << b) <= n) b++; /* b = floor(log2(n / 4)) */
    if (b > 16) b = 16;
  } else {
    while (b < 40 && ((size_t)4 << b) <= n) b++; /* b = floor(log2(n / 2)) */
  }
  if (b < VIGIL__MIH_MINBITS) b = VIGIL__MIH_MINBITS;
  if (b > VIGIL__MIH_MAXBITS) b = VIGIL__MIH_MAXBITS;
  return b;
}

int vigil__tables_for(int bits) {
  int m = 256 / bits;
  return m < VIGIL__MIH_MAXTABLES ? m : VIGIL__MIH_MAXTABLES;
}

/* ---- id map: linear probing over slot numbers, keyed by ids[slot] ---- */

static inline size_t id_home(uint64_t id, size_t cap) {
  uint64_t z = id + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (size_t)(z ^ (z >> 31)) & (cap - 1);
}

/* Cell holding id, or the empty cell where it would go. */
static size_t idmap_find(const vigil_pdq_index *ix, uint64_t id) {
  size_t mask = ix->idmap_cap - 1, i = id_home(id, ix->idmap_cap);
  while (ix->idmap[i] != VIGIL__NONE && ix->ids[ix->idmap[i]] != id) i = (i + 1) & mask;
  return i;
}

static int idmap_rebuild(vigil_pdq_index *ix, size_t want, vigil_error *err) {
  size_t cap = 64;
  while (cap / 4 * 3 < want) cap *= 2; /* load factor <= 3/4 */
  uint32_t *m = vigil__big_alloc(cap * sizeof *m, false);
  if (!m) return vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory for the id map");
  memset(m, 0xff, cap * sizeof *m);
  vigil__big_free(ix->idmap, ix->idmap_cap * sizeof *ix->idmap);
  ix->idmap = m;
  ix->idmap_cap = cap;
  ix->idmap_ok = false;
  for (size_t s = 0; s < ix->n; s++) {
    size_t c = idmap_find(ix, ix->ids[s]);
    if (m[c] != VIGIL__NONE)
      return vigil__seterr(err, VIGIL_ECORRUPT, "pdq index: id %llu appears twice", (unsigned long long)ix->ids[s]);
    m[c] = (uint32_t)s;
  }
  ix->idmap_ok = true;
  return VIGIL_OK;
}

/* Removes the cell at i, shifting later cells of the run back. */
static void idmap_erase(vigil_pdq_index *ix, size_t i) {
  size_t mask = ix->idmap_cap - 1, j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (ix->idmap[j] == VIGIL__NONE) break;
    size_t h = id_home(ix->ids[ix->idmap[j]], ix->idmap_cap);
    /* Move j back to i unless its home lies cyclically in (i, j]. */
    if ((i < j) ? (h <= i || h > j) : (h <= i && h > j)) {
      ix->idmap[i] = ix->idmap[j];
      i = j;
    }
  }
  ix->idmap[i] = VIGIL__NONE;
}

/* ---- buckets ---- */

static int pool_alloc(vigil__table *t, unsigned cls, uint32_t *off, vigil_error *err) {
  if (t->free_head[cls] != VIGIL__NONE) {
    *off = t->free_head[cls];
    t->free_head[cls] = t->pool[*off];
    return VIGIL_OK;
  }
  uint64_t need = t->pool_len + vigil__class_cap(cls);
  if (need > UINT32_MAX) return vigil__seterr(err, VIGIL_ELIMIT, "pdq index: table pool exceeds 2^32 slots");
  if (need > t->pool_cap) {
    uint64_t nc = t->pool_cap ? t->pool_cap : 1024;
    while (nc < need) nc += nc / 2;
    if (nc > UINT32_MAX) nc = UINT32_MAX;
    uint32_t *p = vigil__big_realloc(t->pool, (size_t)t->pool_cap * sizeof *p, (size_t)nc * sizeof *p);
    if (!p) return vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory for a table");
    t->pool = p;
    t->pool_cap = nc;
  }
  *off = (uint32_t)t->pool_len;
  t->pool_len = need;
  return VIGIL_OK;
}

static void pool_free(vigil__table *t, uint32_t off, unsigned cls) {
  if (cls == 0) return;
  t->pool[off] = t->free_head[cls];
  t->free_head[cls] = off;
}

static int bucket_insert(vigil__table *t, uint32_t key, uint32_t slot, vigil_error *err) {
  uint64_t h = t->hdr[key];
  uint32_t off = vigil__hdr_off(h), len = vigil__hdr_len(h);
  unsigned cls = vigil__hdr_class(h);
  if (len >= vigil__class_cap(cls)) {
    uint32_t noff = 0;
    int rc = pool_alloc(t, cls + 1, &noff, err);
    if (rc) return rc;
    if (len) memcpy(t->pool + noff, t->pool + off, (size_t)len * sizeof *t->pool);
    pool_free(t, off, cls);
    off = noff;
    cls++;
  }
  t->pool[off + len] = slot;
  t->hdr[key] = vigil__hdr_pack(off, len + 1, cls);
  return VIGIL_OK;
}

/* Removes slot from the bucket (order inside a bucket does not matter). */
static int bucket_erase(vigil__table *t, uint32_t key, uint32_t slot) {
  uint64_t h = t->hdr[key];
  uint32_t off = vigil__hdr_off(h), len = vigil__hdr_len(h);
  unsigned cls = vigil__hdr_class(h);
  uint32_t *b = t->pool + off;
  for (uint32_t i = 0; i < len; i++) {
    if (b[i] != slot) continue;
    b[i] = b[len - 1];
    len--;
    if (len == 0) {
      pool_free(t, off, cls);
      t->hdr[key] = 0;
    } else {
      t->hdr[key] = vigil__hdr_pack(off, len, cls);
    }
    return VIGIL_OK;
  }
  return VIGIL_EINTERNAL;
}

static int bucket_rename(vigil__table *t, uint32_t key, uint32_t from, uint32_t to) {
  uint64_t h = t->hdr[key];
  uint32_t *b = t->pool + vigil__hdr_off(h), len = vigil__hdr_len(h);
  for (uint32_t i = 0; i < len; i++)
    if (b[i] == from) {
      b[i] = to;
      return VIGIL_OK;
    }
  return VIGIL_EINTERNAL;
}

/* ---- tables ---- */

void vigil__tables_free(vigil_pdq_index *ix) {
  for (int i = 0; i < ix->m; i++) {
    if (!ix->map) {
      vigil__big_free(ix->t[i].hdr, ((size_t)1 << ix->bits) * sizeof(uint64_t));
      vigil__big_free(ix->t[i].pool, (size_t)ix->t[i].pool_cap * sizeof(uint32_t));
    }
    memset(&ix->t[i], 0, sizeof ix->t[i]);
  }
  ix->m = 0;
  ix->bits = 0;
}

/* Bulk build of every table for slots 0..n-1: counting sort into blocks of
 * the smallest class that holds each bucket. */
int vigil__tables_build(vigil_pdq_index *ix, int bits, vigil_error *err) {
  vigil__tables_free(ix);
  if (bits == 0) return VIGIL_OK;
  size_t nb = (size_t)1 << bits;
  uint32_t *keys = vigil__mallocarray(ix->n ? ix->n : 1, sizeof *keys);
  if (!keys) return vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory building tables");
  ix->bits = bits;
  ix->m = vigil__tables_for(bits);
  vigil__set_layout(ix);
  ix->built_n = ix->n;
  /* A table inside one class needs only that class's word of each hash;
   * tables come class by class, so each word is computed once per class
   * into cw (8 bytes a slot, for the build only; without it, per table). */
  uint64_t *cw = vigil__mallocarray(ix->n ? ix->n : 1, sizeof *cw);
  int cw_class = -1;
  int rc = VIGIL_OK;
  for (int ti = 0; ti < ix->m && rc == VIGIL_OK; ti++) {
    vigil__table *t = &ix->t[ti];
    for (int c = 0; c < VIGIL__MIH_CLASSES; c++) t->free_head[c] = VIGIL__NONE;
    t->hdr = vigil__big_alloc(nb * sizeof *t->hdr, true);
    if (!t->hdr) {
      rc = vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory building tables");
      break;
    }
    /* Count: the header's len field is the counter for now. */
    int koff = ix->koff[ti], cls = koff / 64;
    bool one_class = koff % 64 + bits <= 64;
    if (one_class && cw && cw_class != cls) {
      for (size_t s = 0; s < ix->n; s++) cw[s] = key_class_word(&ix->hashes[s], cls);
      cw_class = cls;
    }
    for (size_t s = 0; s < ix->n; s++) {
      uint64_t w[4] = {0, 0, 0, 0};
      if (one_class && cw) w[cls] = cw[s];
      else if (one_class) w[cls] = key_class_word(&ix->hashes[s], cls);
      else vigil__key_words(&ix->hashes[s], w);
      keys[s] = vigil__key(w, koff, bits);
      t->hdr[keys[s]] += (uint64_t)1 << 32;
    }
    uint64_t off = 0;
    for (size_t k = 0; k < nb; k++) {
      uint32_t len = vigil__hdr_len(t->hdr[k]);
      unsigned cls = vigil__class_for(len);
      t->hdr[k] = vigil__hdr_pack((uint32_t)off, 0, cls);
      off += vigil__class_cap(cls);
    }
    if (off > UINT32_MAX) {
      rc = vigil__seterr(err, VIGIL_ELIMIT, "pdq index: table pool exceeds 2^32 slots");
      break;
    }
    t->pool = vigil__big_alloc((size_t)(off ? off : 1) * sizeof *t->pool, false);
    if (!t->pool) {
      rc = vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory building tables");
      break;
    }
    t->pool_len = off;
    t->pool_cap = off ? off : 1;
    for (size_t s = 0; s < ix->n; s++) {
      uint64_t h = t->hdr[keys[s]];
      t->pool[vigil__hdr_off(h) + vigil__hdr_len(h)] = (uint32_t)s;
      t->hdr[keys[s]] = h + ((uint64_t)1 << 32);
    }
  }
  free(keys);
  free(cw);
  if (rc) vigil__tables_free(ix);
  return rc;
}

/* ---- the index ---- */

int vigil_pdq_index_new(vigil_pdq_index **out, vigil_error *err) {
  if (!out) return vigil__seterr(err, VIGIL_EINVAL, "pdq index: NULL out");
  *out = calloc(1, sizeof **out);
  if (!*out) return vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory");
  (*out)->idmap_ok = true;
  (*out)->tune = vigil__qtune_default();
  return VIGIL_OK;
}

void vigil_pdq_index_free(vigil_pdq_index *ix) {
  if (!ix) return;
  vigil__tables_free(ix);
  if (ix->map) {
    munmap(ix->map, ix->map_len);
  } else {
    vigil__big_free(ix->hashes, ix->cap * sizeof *ix->hashes);
    vigil__big_free(ix->ids, ix->cap * sizeof *ix->ids);
  }
  vigil__big_free(ix->idmap, ix->idmap_cap * sizeof *ix->idmap);
  free(ix);
}

size_t vigil_pdq_index_size(const vigil_pdq_index *ix) { return ix ? ix->n : 0; }

size_t vigil_pdq_index_memory(const vigil_pdq_index *ix) {
  if (!ix) return 0;
  size_t b = sizeof *ix + ix->idmap_cap * sizeof(uint32_t);
  if (ix->map) return b + ix->map_len;
  b += ix->cap * (sizeof(vigil_pdq_hash) + sizeof(uint64_t));
  for (int i = 0; i < ix->m; i++)
    b += ((size_t)1 << ix->bits) * sizeof(uint64_t) + (size_t)ix->t[i].pool_cap * sizeof(uint32_t);
  return b;
}

/* Copies mapped arrays to the heap (a loaded index is read-only until its
 * first change) and builds the id map. */
int vigil__make_writable(vigil_pdq_index *ix, vigil_error *err) {
  if (ix->map) {
    size_t cap = ix->n ? ix->n : 1;
    vigil_pdq_hash *h = vigil__big_alloc(cap * sizeof *h, false);
    uint64_t *id = vigil__big_alloc(cap * sizeof *id, false);
    vigil__table nt[VIGIL__MIH_MAXTABLES];
    memset(nt, 0, sizeof nt);
    bool ok = h && id;
    for (int i = 0; i < ix->m && ok; i++) {
      size_t nb = (size_t)1 << ix->bits;
      nt[i] = ix->t[i];
      nt[i].pool_cap = ix->t[i].pool_len ? ix->t[i].pool_len : 1;
      nt[i].hdr = vigil__big_alloc(nb * sizeof(uint64_t), false);
      nt[i].pool = vigil__big_alloc((size_t)nt[i].pool_cap * sizeof(uint32_t), false);
      ok = nt[i].hdr && nt[i].pool;
      if (ok) {
        memcpy(nt[i].hdr, ix->t[i].hdr, nb * sizeof(uint64_t));
        memcpy(nt[i].pool, ix->t[i].pool, ix->t[i].pool_len * sizeof(uint32_t));
      }
    }
    if (!ok) {
      vigil__big_free(h, cap * sizeof *h);
      vigil__big_free(id, cap * sizeof *id);
      for (int i = 0; i < ix->m; i++) {
        vigil__big_free(nt[i].hdr, ((size_t)1 << ix->bits) * sizeof(uint64_t));
        vigil__big_free(nt[i].pool, (size_t)nt[i].pool_cap * sizeof(uint32_t));
      }
      return vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory copying a loaded index");
    }
    memcpy(h, ix->hashes, ix->n * sizeof *h);
    memcpy(id, ix->ids, ix->n * sizeof *id);
    munmap(ix->map, ix->map_len);
    ix->map = NULL;
    ix->map_len = 0;
    ix->hashes = h;
    ix->ids = id;
    ix->cap = cap;
    for (int i = 0; i < ix->m; i++) ix->t[i] = nt[i];
  }
  if (!ix->idmap_ok || ix->idmap_cap / 4 * 3 < ix->n) return idmap_rebuild(ix, ix->n, err);
  return VIGIL_OK;
}

static int tables_insert(vigil_pdq_index *ix, uint32_t s, vigil_error *err) {
  uint64_t w[4];
  vigil__key_words(&ix->hashes[s], w);
  for (int i = 0; i < ix->m; i++) {
    int rc = bucket_insert(&ix->t[i], vigil__key(w, ix->koff[i], ix->bits), s, err);
    if (rc) return rc;
  }
  return VIGIL_OK;
}

static int tables_erase(vigil_pdq_index *ix, uint32_t s, vigil_error *err) {
  uint64_t w[4];
  vigil__key_words(&ix->hashes[s], w);
  for (int i = 0; i < ix->m; i++)
    if (bucket_erase(&ix->t[i], vigil__key(w, ix->koff[i], ix->bits), s))
      return vigil__seterr(err, VIGIL_ECORRUPT, "pdq index: slot %u missing from table %d", s, i);
  return VIGIL_OK;
}

static int grow_slots(vigil_pdq_index *ix, size_t need, bool exact, vigil_error *err) {
  if (need <= ix->cap) return VIGIL_OK;
  if (need > VIGIL__MAX_ENTRIES)
    return vigil__seterr(err, VIGIL_ELIMIT, "pdq index: more than %zu entries", VIGIL__MAX_ENTRIES);
  size_t nc = ix->cap ? ix->cap : 256;
  while (nc < need) nc += nc / 2 + 1; /* + 1: a loaded index of 0 or 1 entries has cap 1 */
  if (exact) nc = need; /* a bulk load knows its size: no slack */
  vigil_pdq_hash *h = vigil__big_alloc(nc * sizeof *h, false);
  uint64_t *id = vigil__big_alloc(nc * sizeof *id, false);
  if (!h || !id) {
    vigil__big_free(h, nc * sizeof *h);
    vigil__big_free(id, nc * sizeof *id);
    return vigil__seterr(err, VIGIL_ENOMEM, "pdq index: out of memory");
  }
  if (ix->n) {
    memcpy(h, ix->hashes, ix->n * sizeof *h);
    memcpy(id, ix->ids, ix->n * sizeof *id);
  }
  vigil__big_free(ix->hashes, ix->cap * sizeof *h);
  vigil__big_free(ix->ids, ix->cap * sizeof *id);
  ix->hashes = h;
  ix->ids = id;
  ix->cap = nc;
  return VIGIL_OK;
}

/* Appends or replaces without touching the tables; *appended tells which. */
static int put_raw(vigil_pdq_index *ix, const vigil_pdq_hash *h, uint64_t id, bool tables, vigil_error *err) {
  int rc = VIGIL_OK;
  if (ix->idmap_cap / 4 * 3 < ix->n + 1 && (rc = idmap_rebuild(ix, 2 * (ix->n + 1), err))) return rc;
  size_t c = idmap_find(ix, id);
  if (ix->idmap[c] != VIGIL__NONE) {
    uint32_t s = ix->idmap[c];
    if (!memcmp(&ix->hashes[s], h, sizeof *h)) return VIGIL_OK;
    if (tables && (rc = tables_erase(ix, s, err))) return rc;
    ix->hashes[s] = *h;
    if (tables && (rc = tables_insert(ix, s, err))) {
      /* The slot may now be missing from some tables: drop them all, so
       * queries scan (still exact) until the next add rebuilds them. */
      vigil__tables_free(ix);
    }
    return rc;
  }
  if ((rc = grow_slots(ix, ix->n + 1, false, err))) return rc;
  uint32_t s = (uint32_t)ix->n;
  ix->hashes[s] = *h;
  ix->ids[s] = id;
  ix->idmap[c] = s;
  ix->n++;
  if (tables && (rc = tables_insert(ix, s, err))) {
    /* Undo: the slot is the last one, so removing it leaves no hole. */
    for (int i = 0; i < ix->m; i++) {
      uint64_t w[4];
      vigil__key_words(&ix->hashes[s], w);
      bucket_erase(&ix->t[i], vigil__key(w, ix->koff[i], ix->bits), s);
    }
    idmap_erase(ix, idmap_find(ix, id));
    ix->n--;
  }
  return rc;
}

int vigil_pdq_index_add(vigil_pdq_index *ix, const vigil_pdq_hash *h, uint64_t id, vigil_error *err) {
  if (!ix || !h) return vigil__seterr(err, VIGIL_EINVAL, "pdq index: NULL argument");
  int rc = vigil__make_writable(ix, err);
  if (rc) return rc;
  int want = vigil__target_bits(ix->n + 1);
  /* Also rebuild when n has doubled since the last build: b stays 16 from
   * 2^18 to 2^21 entries, and buckets grown one add at a time through their
   * capacity classes hold about twice the memory of packed ones. */
  if (want > ix->bits || (ix->m && ix->n + 1 >= 2 * ix->built_n)) {
    /* Add without tables, then rebuild them all (amortised). */
    if ((rc = put_raw(ix, h, id, false, err))) return rc;
    return vigil__tables_build(ix, vigil__target_bits(ix->n), err);
  }
  return put_raw(ix, h, id, ix->m > 0, err);
}

int vigil_pdq_index_add_batch(vigil_pdq_index *ix, const vigil_pdq_hash *hs, const uint64_t *ids, size_t n,
                              vigil_error *err) {
  if (!ix || (n && (!hs || !ids))) return vigil__seterr(err, VIGIL_EINVAL, "pdq index: NULL argument");
  int rc = vigil__make_writable(ix, err);
  if (rc) return rc;
  if (ix->n + n > VIGIL__MAX_ENTRIES)
    return vigil__seterr(err, VIGIL_ELIMIT, "pdq index: more than %zu entries", VIGIL__MAX_ENTRIES);
  /* Small batches go in place; large ones (a quarter of the index or more)
   * are cheaper as one rebuild. */
  if (n < 1024 || n < ix->n / 4) {
    for (size_t i = 0; i < n; i++)
      if ((rc = vigil_pdq_index_add(ix, &hs[i], ids[i], err))) return rc;
    return VIGIL_OK;
  }
  if ((rc = grow_slots(ix, ix->n + n, true, err))) return rc;
  if ((rc = idmap_rebuild(ix, ix->n + n, err))) return rc;
  vigil__tables_free(ix);
  for (size_t i = 0; i < n; i++)
    if ((rc = put_raw(ix, &hs[i], ids[i], false, err))) break;
  int rc2 = vigil__tables_build(ix, vigil__target_bits(ix->n), err);
  return rc ? rc : rc2;
}

int vigil_pdq_index_remove(vigil_pdq_index *ix, uint64_t id, vigil_error *err) {
  if (!ix) return vigil__seterr(err, VIGIL_EINVAL, "pdq index: NULL argument");
  int rc = vigil__make_writable(ix, err);
  if (rc) return rc;
  if (ix->n == 0) return vigil__seterr(err, VIGIL_ENOTFOUND, "pdq index: no id %llu", (unsigned long long)id);
  size_t c = idmap_find(ix, id);
  if (ix->idmap[c] == VIGIL__NONE)
    return vigil__seterr(err, VIGIL_ENOTFOUND, "pdq index: no id %llu", (unsigned long long)id);
  uint32_t s = ix->idmap[c], last = (uint32_t)(ix->n - 1);
  if (ix->m && (rc = tables_erase(ix, s, err))) return rc;
  idmap_erase(ix, c);
  if (s != last) {
    /* Fill the hole with the last slot so slots stay dense. */
    if (ix->m) {
      uint64_t w[4];
      vigil__key_words(&ix->hashes[last], w);
      for (int i = 0; i < ix->m; i++)
        if (bucket_rename(&ix->t[i], vigil__key(w, ix->koff[i], ix->bits), last, s))
          return vigil__seterr(err, VIGIL_ECORRUPT, "pdq index: slot %u missing from table %d", last, i);
    }
    ix->hashes[s] = ix->hashes[last];
    ix->ids[s] = ix->ids[last];
    ix->idmap[idmap_find(ix, ix->ids[s])] = s;
  }
  ix->n--;
  return VIGIL_OK;
}

int vigil__pdq_index_check(const vigil_pdq_index *ix, vigil_error *err) {
  size_t nb = ix->m ? (size_t)1 << ix->bits : 0;
  uint8_t *seen = calloc(ix->n ? ix->n : 1, 1);
  if (!seen) return vigil__seterr(err, VIGIL_ENOMEM, "check: out of memory");
  int rc = VIGIL_OK;
  for (int ti = 0; ti < ix->m && !rc; ti++) {
    const vigil__table *t = &ix->t[ti];
    memset(seen, 0, ix->n ? ix->n : 1);
    size_t total = 0;
    for (size_t k = 0; k < nb && !rc; k++) {
      uint64_t h = t->hdr[k];
      uint32_t off = vigil__hdr_off(h), len = vigil__hdr_len(h);
      if (len > vigil__class_cap(vigil__hdr_class(h)) ||
          (len && (uint64_t)off + vigil__class_cap(vigil__hdr_class(h)) > t->pool_len)) {
        rc = vigil__seterr(err, VIGIL_EINTERNAL, "check: table %d bucket %zu out of bounds", ti, k);
        break;
      }
      for (uint32_t j = 0; j < len; j++) {
        uint32_t s = t->pool[off + j];
        uint64_t w[4];
        if (s >= ix->n || seen[s]) {
          rc = vigil__seterr(err, VIGIL_EINTERNAL, "check: table %d has bad or repeated slot %u", ti, s);
          break;
        }
        vigil__key_words(&ix->hashes[s], w);
        if (vigil__key(w, ix->koff[ti], ix->bits) != k) {
          rc = vigil__seterr(err, VIGIL_EINTERNAL, "check: table %d slot %u in the wrong bucket", ti, s);
          break;
        }
        seen[s] = 1;
      }
      total += len;
    }
    if (!rc && total != ix->n)
      rc = vigil__seterr(err, VIGIL_EINTERNAL, "check: table %d holds %zu of %zu slots", ti, total, ix->n);
  }
  free(seen);
  if (!rc && ix->idmap_ok && ix->idmap) {
    size_t cnt = 0;
    for (size_t i = 0; i < ix->idmap_cap; i++) cnt += ix->idmap[i] != VIGIL__NONE;
    if (cnt != ix->n) return vigil__seterr(err, VIGIL_EINTERNAL, "check: id map holds %zu of %zu", cnt, ix->n);
    for (size_t s = 0; s < ix->n; s++)
      if (ix->idmap[idmap_find(ix, ix->ids[s])] != s)
        return vigil__seterr(err, VIGIL_EINTERNAL, "check: id map loses slot %zu", s);
  }
  return rc;
}
