/*
 * bank_match.c - matching hashes against the enabled banks.
 *
 * A matcher keeps the active PDQ entries of the enabled banks in a
 * vigil_pdq_index whose ids are entry row ids, and fetches an entry's
 * metadata from the store only for the hits.  It stays current without a
 * rebuild: entries are never deleted and ids only grow, so new entries are
 * "id > the highest id seen", and removals are read from the store's
 * append-only removal log after the last sequence number applied.  Only a
 * change in the set of enabled banks (enable, disable, create, drop)
 * reloads the index.
 *
 * MD5 and SHA-256 need no index of their own: the store's identity index
 * (signal_type, value, bank) answers an exact lookup directly.
 *
 * Concurrency: queries (vigil_bank_match_pdq, vigil_bank_match_exact) may
 * run in several threads at once while nothing changes the matcher or the
 * store (a readers-writer discipline kept by the caller).  The index allows
 * concurrent readers; the store's cached entry statement does not, so the
 * metadata fetch of the hits takes get_mu.
 */
#include "store/bank_backend.h"
#include "common/internal.h"
#include "vigil/match.h"

#include <pthread.h>
#include <string.h>

struct vigil_bank_matcher {
  vigil_bank_store *st;
  vigil_pdq_index *ix;
  uint64_t max_id;      /* highest entry id examined */
  uint64_t removal_seq; /* last removal log row applied */
  vigil_bank_info *banks; /* the bank set the index reflects (ids, enabled) */
  size_t nbanks;
  pthread_mutex_t get_mu; /* one entry fetch at a time on the store */
};

typedef struct loader {
  vigil_bank_matcher *m;
  vigil_error *err;
  /* A reload collects the entries here and indexes them in one batch: a
   * bulk build packs every bucket tightly, where adding a million entries
   * one by one grows buckets through their capacity classes and left the
   * index at about twice the memory. */
  vigil_pdq_hash *h;
  uint64_t *ids;
  size_t n, cap;
  int batch;
} loader;

static int load_entry(void *ctx, const vigil_bank_entry *e) {
  loader *l = ctx;
  if (e->id > l->m->max_id) l->m->max_id = e->id;
  if (e->value_len != VIGIL_PDQ_BYTES) return VIGIL_OK;
  vigil_pdq_hash h;
  memcpy(h.bytes, e->value, VIGIL_PDQ_BYTES);
  if (!l->batch) return vigil_pdq_index_add(l->m->ix, &h, e->id, l->err);
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 4096;
    vigil_pdq_hash *nh = vigil__mallocarray(nc, sizeof *nh);
    uint64_t *ni = vigil__mallocarray(nc, sizeof *ni);
    if (!nh || !ni) {
      free(nh);
      free(ni);
      return vigil__seterr(l->err, VIGIL_ENOMEM, "out of memory");
    }
    if (l->n) {
      memcpy(nh, l->h, l->n * sizeof *nh);
      memcpy(ni, l->ids, l->n * sizeof *ni);
    }
    free(l->h);
    free(l->ids);
    l->h = nh;
    l->ids = ni;
    l->cap = nc;
  }
  l->h[l->n] = h;
  l->ids[l->n++] = e->id;
  return VIGIL_OK;
}

static int apply_removal(void *ctx, uint64_t seq, uint64_t entry_id) {
  loader *l = ctx;
  l->m->removal_seq = seq;
  int rc = vigil_pdq_index_remove(l->m->ix, entry_id, NULL);
  return rc == VIGIL_ENOTFOUND ? VIGIL_OK : rc; /* not a PDQ entry, or never loaded */
}

static int note_removal(void *ctx, uint64_t seq, uint64_t entry_id) {
  (void)entry_id;
  ((loader *)ctx)->m->removal_seq = seq;
  return VIGIL_OK;
}

static int same_banks(const vigil_bank_info *a, size_t na, const vigil_bank_info *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (a[i].id != b[i].id || a[i].enabled != b[i].enabled) return 0;
  return 1;
}

/* Rebuilds the index from scratch with the given bank set (taken over). */
static int reload(vigil_bank_matcher *m, vigil_bank_info *banks, size_t nbanks, vigil_error *err) {
  vigil_pdq_index *ix;
  int rc = vigil_pdq_index_new(&ix, err);
  if (rc) {
    free(banks);
    return rc;
  }
  vigil_pdq_index_free(m->ix);
  m->ix = ix;
  free(m->banks);
  m->banks = banks;
  m->nbanks = nbanks;
  m->max_id = 0;
  m->removal_seq = 0;
  loader l = {m, err, NULL, NULL, 0, 0, 1};
  const vigil__bank_backend *be = m->st->be;
  /* the removal log position first: a removal racing with the scan below is
   * then applied by the next sync (removing an absent id is harmless) */
  if ((rc = be->removals_since(m->st->impl, 0, note_removal, &l, err))) return rc;
  rc = be->entry_scan(m->st->impl, 0, VIGIL_SIGNAL_PDQ, 0, 0, 1, load_entry, &l, err);
  if (!rc) rc = vigil_pdq_index_add_batch(m->ix, l.h, l.ids, l.n, err);
  free(l.h);
  free(l.ids);
  return rc;
}

int vigil_bank_matcher_open(vigil_bank_matcher **out, vigil_bank_store *st, vigil_error *err) {
  *out = NULL;
  vigil_bank_matcher *m = calloc(1, sizeof *m);
  if (!m) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  m->st = st;
  pthread_mutex_init(&m->get_mu, NULL);
  vigil_bank_info *banks;
  size_t n;
  int rc = st->be->bank_list(st->impl, 0, &banks, &n, err);
  if (!rc) rc = reload(m, banks, n, err);
  if (rc) {
    vigil_bank_matcher_free(m);
    return rc;
  }
  *out = m;
  return VIGIL_OK;
}

void vigil_bank_matcher_free(vigil_bank_matcher *m) {
  if (!m) return;
  vigil_pdq_index_free(m->ix);
  free(m->banks);
  pthread_mutex_destroy(&m->get_mu);
  free(m);
}

size_t vigil_bank_matcher_size(const vigil_bank_matcher *m) { return m->ix ? vigil_pdq_index_size(m->ix) : 0; }

int vigil_bank_matcher_sync(vigil_bank_matcher *m, vigil_error *err) {
  const vigil__bank_backend *be = m->st->be;
  vigil_bank_info *banks;
  size_t n;
  int rc = be->bank_list(m->st->impl, 0, &banks, &n, err);
  if (rc) return rc;
  if (!same_banks(banks, n, m->banks, m->nbanks)) return reload(m, banks, n, err);
  free(banks);
  loader l = {m, err, NULL, NULL, 0, 0, 0};
  if ((rc = be->removals_since(m->st->impl, m->removal_seq, apply_removal, &l, err))) return rc;
  return be->entry_scan(m->st->impl, 0, VIGIL_SIGNAL_PDQ, m->max_id, 0, 1, load_entry, &l, err);
}

static int passes(const vigil_bank_filter *f, const vigil_bank_entry *e) {
  if (!f) return 1;
  if (f->nbanks) {
    size_t i = 0;
    while (i < f->nbanks && strcmp(f->banks[i], e->bank)) i++;
    if (i == f->nbanks) return 0;
  }
  if (f->ntags) {
    size_t i = 0;
    while (i < f->ntags && !vigil_bank_tags_has(e->tags, f->tags[i])) i++;
    if (i == f->ntags) return 0;
  }
  return 1;
}

typedef struct results {
  vigil_bank_match *v;
  size_t n, cap;
} results;

static int push(results *r, const vigil_bank_entry *e, int distance, int variant) {
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 8;
    vigil_bank_match *nv = vigil__mallocarray(nc, sizeof *nv);
    if (!nv) return VIGIL_ENOMEM;
    if (r->n) memcpy(nv, r->v, r->n * sizeof *nv);
    free(r->v);
    r->v = nv;
    r->cap = nc;
  }
  r->v[r->n].entry = *e;
  r->v[r->n].distance = distance;
  r->v[r->n].variant = variant;
  r->n++;
  return VIGIL_OK;
}

int vigil_bank_match_pdq(vigil_bank_matcher *m, const vigil_pdq_hash *qs, int nq, int threshold,
                         const vigil_bank_filter *f, vigil_bank_match **out, size_t *n, vigil_error *err) {
  *out = NULL;
  *n = 0;
  if (nq < 1 || nq > VIGIL_DIH_COUNT) return vigil__seterr(err, VIGIL_EINVAL, "1 to 8 query hashes");
  if (threshold < 0 || threshold > 256) return vigil__seterr(err, VIGIL_EINVAL, "threshold must be 0..256");
  vigil_pdq_hit *hits;
  size_t nh;
  int rc = vigil_pdq_index_query_multi(m->ix, qs, nq, threshold, &hits, &nh, err);
  if (rc) return rc;
  results r = {0};
  vigil_bank_entry *e = malloc(sizeof *e);
  if (!e) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  /* hits arrive sorted by distance then id; filtering keeps that order */
  if (nh) pthread_mutex_lock(&m->get_mu);
  for (size_t i = 0; !rc && i < nh; i++) {
    rc = m->st->be->entry_get(m->st->impl, hits[i].id, e, err);
    if (rc == VIGIL_ENOTFOUND) { /* dropped since the last sync */
      rc = VIGIL_OK;
      continue;
    }
    if (rc) break;
    if (e->removed || !passes(f, e)) continue;
    if (push(&r, e, hits[i].distance, hits[i].variant)) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  if (nh) pthread_mutex_unlock(&m->get_mu);
  free(e);
  free(hits);
  if (rc) {
    free(r.v);
    return rc;
  }
  *out = r.v;
  *n = r.n;
  return VIGIL_OK;
}

typedef struct exact_ctx {
  results r;
  const vigil_bank_filter *f;
} exact_ctx;

static int exact_hit(void *ctx, const vigil_bank_entry *e) {
  exact_ctx *x = ctx;
  if (!passes(x->f, e)) return VIGIL_OK;
  return push(&x->r, e, 0, 0);
}

int vigil_bank_match_exact(vigil_bank_store *st, vigil_signal_type t, const uint8_t *value,
                           const vigil_bank_filter *f, vigil_bank_match **out, size_t *n, vigil_error *err) {
  *out = NULL;
  *n = 0;
  if (!vigil_signal_value_len(t)) return vigil__seterr(err, VIGIL_EINVAL, "unsupported signal type");
  exact_ctx x = {{0}, f};
  int rc = st->be->entry_lookup(st->impl, t, value, exact_hit, &x, err);
  if (rc == VIGIL_ENOMEM) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (rc) {
    free(x.r.v);
    return rc;
  }
  *out = x.r.v;
  *n = x.r.n;
  return VIGIL_OK;
}
