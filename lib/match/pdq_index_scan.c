/*
 * pdq_index_scan.c - the vigil/match.h index as a plain linear scan.
 *
 * The simplest exact implementation: hashes in one array, ids in another,
 * and an open-addressing table from id to slot so that add (which replaces
 * an existing id) and remove are O(1).  Removal moves the last element into
 * the hole.  A query computes the Hamming distance to every hash, keeps
 * those within the threshold and sorts them by distance then id.  Recall is
 * 1.0 by construction.  The file format is "VGPDQSC1", a little-endian
 * uint64 count, then count records of (uint64 id, 32 hash bytes).
 */
#include "vigil/match.h"
#include "common/internal.h"

#include <stdio.h>
#include <string.h>

struct vigil_pdq_index {
  vigil_pdq_hash *hashes;
  uint64_t *ids;
  size_t n, cap;
  size_t *slots; /* id table: slot+1, 0 = empty; capacity tcap, a power of two */
  size_t tcap, tused; /* tused counts tombstones too */
};

#define TOMB ((size_t)-1)

static size_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)x;
}

int vigil_pdq_index_new(vigil_pdq_index **out, vigil_error *err) {
  *out = calloc(1, sizeof **out);
  return *out ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
}

void vigil_pdq_index_free(vigil_pdq_index *ix) {
  if (!ix) return;
  free(ix->hashes);
  free(ix->ids);
  free(ix->slots);
  free(ix);
}

size_t vigil_pdq_index_size(const vigil_pdq_index *ix) { return ix->n; }

/* Table position of id, or of the first free/tombstone slot for it. */
static size_t find_pos(const vigil_pdq_index *ix, uint64_t id, int *found) {
  size_t mask = ix->tcap - 1, i = mix(id) & mask, tomb = (size_t)-1;
  *found = 0;
  for (;;) {
    size_t s = ix->slots[i];
    if (s == 0) return tomb != (size_t)-1 ? tomb : i;
    if (s == TOMB) {
      if (tomb == (size_t)-1) tomb = i;
    } else if (ix->ids[s - 1] == id) {
      *found = 1;
      return i;
    }
    i = (i + 1) & mask;
  }
}

static int rehash(vigil_pdq_index *ix, size_t ncap) {
  size_t *ns = calloc(ncap, sizeof *ns);
  if (!ns) return -1;
  free(ix->slots);
  ix->slots = ns;
  ix->tcap = ncap;
  ix->tused = ix->n;
  for (size_t k = 0; k < ix->n; k++) {
    size_t i = mix(ix->ids[k]) & (ncap - 1);
    while (ns[i]) i = (i + 1) & (ncap - 1);
    ns[i] = k + 1;
  }
  return 0;
}

int vigil_pdq_index_add(vigil_pdq_index *ix, const vigil_pdq_hash *h, uint64_t id, vigil_error *err) {
  if ((ix->tused + 1) * 2 > ix->tcap) {
    size_t ncap = 64; /* sized from live entries: tombstones are dropped */
    while (ncap < (ix->n + 1) * 4) ncap *= 2;
    if (rehash(ix, ncap)) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  int found;
  size_t pos = find_pos(ix, id, &found);
  if (found) {
    ix->hashes[ix->slots[pos] - 1] = *h;
    return VIGIL_OK;
  }
  if (ix->n == ix->cap) {
    size_t nc = ix->cap ? ix->cap * 2 : 64;
    vigil_pdq_hash *nh = realloc(ix->hashes, nc * sizeof *nh);
    if (!nh) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    ix->hashes = nh;
    uint64_t *ni = realloc(ix->ids, nc * sizeof *ni);
    if (!ni) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    ix->ids = ni;
    ix->cap = nc;
  }
  ix->hashes[ix->n] = *h;
  ix->ids[ix->n] = id;
  if (ix->slots[pos] == 0) ix->tused++;
  ix->slots[pos] = ++ix->n;
  return VIGIL_OK;
}

int vigil_pdq_index_remove(vigil_pdq_index *ix, uint64_t id, vigil_error *err) {
  int found = 0;
  size_t pos = ix->tcap ? find_pos(ix, id, &found) : 0;
  if (!found) return vigil__seterr(err, VIGIL_ENOTFOUND, "id %llu is not in the index", (unsigned long long)id);
  size_t k = ix->slots[pos] - 1, last = ix->n - 1;
  ix->slots[pos] = TOMB;
  if (k != last) {
    int f2;
    size_t lp = find_pos(ix, ix->ids[last], &f2);
    ix->hashes[k] = ix->hashes[last];
    ix->ids[k] = ix->ids[last];
    ix->slots[lp] = k + 1;
  }
  ix->n--;
  return VIGIL_OK;
}

static int dist(const vigil_pdq_hash *a, const vigil_pdq_hash *b) {
  int d = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t x, y;
    memcpy(&x, a->bytes + 8 * i, 8);
    memcpy(&y, b->bytes + 8 * i, 8);
    d += __builtin_popcountll(x ^ y);
  }
  return d;
}

static int hit_cmp(const void *a, const void *b) {
  const vigil_pdq_hit *x = a, *y = b;
  if (x->distance != y->distance) return x->distance < y->distance ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

int vigil_pdq_index_query_multi(const vigil_pdq_index *ix, const vigil_pdq_hash *qs, int nq, int threshold,
                                vigil_pdq_hit **hits, size_t *nhits, vigil_error *err) {
  *hits = NULL;
  *nhits = 0;
  if (nq < 1) return vigil__seterr(err, VIGIL_EINVAL, "no query hashes");
  if (threshold < 0 || threshold > 256) return vigil__seterr(err, VIGIL_EINVAL, "threshold must be 0..256");
  vigil_pdq_hit *v = NULL;
  size_t n = 0, cap = 0;
  for (size_t k = 0; k < ix->n; k++) {
    int best = 257, var = 0;
    for (int q = 0; q < nq; q++) {
      int d = dist(&ix->hashes[k], &qs[q]);
      if (d < best) best = d, var = q;
    }
    if (best > threshold) continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      vigil_pdq_hit *nv = realloc(v, nc * sizeof *nv);
      if (!nv) {
        free(v);
        return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
      }
      v = nv;
      cap = nc;
    }
    v[n].id = ix->ids[k];
    v[n].distance = best;
    v[n].variant = var;
    n++;
  }
  if (n) qsort(v, n, sizeof *v, hit_cmp);
  *hits = v;
  *nhits = n;
  return VIGIL_OK;
}

int vigil_pdq_index_query(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int threshold, vigil_pdq_hit **hits,
                          size_t *nhits, vigil_error *err) {
  return vigil_pdq_index_query_multi(ix, q, 1, threshold, hits, nhits, err);
}

static const char magic[8] = {'V', 'G', 'P', 'D', 'Q', 'S', 'C', '1'};

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

int vigil_pdq_index_save(const vigil_pdq_index *ix, const char *path, vigil_error *err) {
  FILE *f = fopen(path, "wb");
  if (!f) return vigil__seterr(err, VIGIL_EIO, "%s: cannot create", path);
  uint8_t rec[40];
  put64(rec, ix->n);
  int ok = fwrite(magic, 1, 8, f) == 8 && fwrite(rec, 1, 8, f) == 8;
  for (size_t k = 0; ok && k < ix->n; k++) {
    put64(rec, ix->ids[k]);
    memcpy(rec + 8, ix->hashes[k].bytes, 32);
    ok = fwrite(rec, 1, 40, f) == 40;
  }
  if (fclose(f) != 0) ok = 0;
  return ok ? VIGIL_OK : vigil__seterr(err, VIGIL_EIO, "%s: write error", path);
}

int vigil_pdq_index_load(vigil_pdq_index **out, const char *path, vigil_error *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return vigil__seterr(err, VIGIL_EIO, "%s: cannot open", path);
  uint8_t head[16], rec[40];
  vigil_pdq_index *ix = NULL;
  int rc = vigil_pdq_index_new(&ix, err);
  if (rc) goto done;
  if (fread(head, 1, 16, f) != 16 || memcmp(head, magic, 8)) {
    rc = vigil__seterr(err, VIGIL_EFORMAT, "%s: not a vigil scan index", path);
    goto done;
  }
  uint64_t n = get64(head + 8);
  for (uint64_t k = 0; k < n; k++) {
    if (fread(rec, 1, 40, f) != 40) {
      rc = vigil__seterr(err, VIGIL_ECORRUPT, "%s: truncated", path);
      goto done;
    }
    vigil_pdq_hash h;
    memcpy(h.bytes, rec + 8, 32);
    if ((rc = vigil_pdq_index_add(ix, &h, get64(rec), err))) goto done;
  }
done:
  fclose(f);
  if (rc) vigil_pdq_index_free(ix);
  else *out = ix;
  return rc;
}
