/*
 * bank_match.c - matching hashes against the enabled banks.
 *
 * A matcher keeps the active PDQ entries of the enabled banks in a
 * vigil_pdq_index whose ids are entry row ids, and fetches an entry's
 * metadata from the store only for the hits.  It stays current without a
 * rebuild: entries are never deleted and ids only grow, so new entries are
 * "id > the highest id seen", and removals are read from the store's
 * append-only removal log after the last sequence number applied.  Only a
 * bank that is dropped, enabled or disabled reloads the index; a new bank
 * does not (needs_reload says why).
 *
 * A sync is two steps (bank/bank_sync.h): fetch reads the changes from a
 * store, and builds a new index when one is needed, without touching the
 * index queries use; apply puts them in, which is the only part that must
 * exclude queries.  The service fetches on a connection of its own while
 * matching goes on, and holds its exclusive lock only to apply.
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
#include "bank/bank_backend.h"
#include "bank/bank_sync.h"
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

/* What a sync read from a store and has yet to apply to the index: either
 * a whole new index (the set of enabled banks changed) or the removals and
 * additions since the matcher's last position. */
struct vigil__bank_delta {
  vigil_pdq_index *fresh; /* replaces the index when set */
  vigil_bank_info *banks; /* the bank set that goes with fresh */
  size_t nbanks;
  uint64_t *removed; /* entry ids whose removal the index must apply */
  size_t nremoved, cap_removed;
  vigil_pdq_hash *hashes; /* entries to add */
  uint64_t *ids;
  size_t nadds, cap_adds;
  uint64_t max_id, removal_seq; /* the matcher's position once applied */
  vigil_error *err;
};

void vigil__bank_delta_free(vigil__bank_delta *d) {
  if (!d) return;
  vigil_pdq_index_free(d->fresh);
  free(d->banks);
  free(d->removed);
  free(d->hashes);
  free(d->ids);
  free(d);
}

static int grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 1024;
  while (nc < need) nc *= 2;
  void *np = vigil__mallocarray(nc, size);
  if (!np) return -1;
  if (*cap) memcpy(np, *p, *cap * size);
  free(*p);
  *p = np;
  *cap = nc;
  return 0;
}

static int collect_entry(void *ctx, const vigil_bank_entry *e) {
  vigil__bank_delta *d = ctx;
  if (e->id > d->max_id) d->max_id = e->id;
  if (e->value_len != VIGIL_PDQ_BYTES) return VIGIL_OK;
  size_t cap = d->cap_adds;
  if (grow((void **)&d->hashes, &cap, d->nadds + 1, sizeof *d->hashes) ||
      grow((void **)&d->ids, &d->cap_adds, d->nadds + 1, sizeof *d->ids))
    return vigil__seterr(d->err, VIGIL_ENOMEM, "out of memory reading bank entries");
  memcpy(d->hashes[d->nadds].bytes, e->value, VIGIL_PDQ_BYTES);
  d->ids[d->nadds++] = e->id;
  return VIGIL_OK;
}

static int collect_removal(void *ctx, uint64_t seq, uint64_t entry_id) {
  vigil__bank_delta *d = ctx;
  d->removal_seq = seq;
  if (grow((void **)&d->removed, &d->cap_removed, d->nremoved + 1, sizeof *d->removed))
    return vigil__seterr(d->err, VIGIL_ENOMEM, "out of memory reading removals");
  d->removed[d->nremoved++] = entry_id;
  return VIGIL_OK;
}

static int note_removal(void *ctx, uint64_t seq, uint64_t entry_id) {
  (void)entry_id;
  ((vigil__bank_delta *)ctx)->removal_seq = seq;
  return VIGIL_OK;
}

/* Whether going from bank set old to now needs a new index: a bank gone
 * (its entries must leave) or enabled or disabled.  A bank that is only new
 * does not: its entries were all added after it existed, so they have ids
 * above anything a scan that missed the bank had seen, or that scan already
 * loaded them (scans read every enabled bank at the time). */
static int needs_reload(const vigil_bank_info *now, size_t nnow, const vigil_bank_info *old, size_t nold) {
  for (size_t i = 0; i < nold; i++) {
    size_t j = 0;
    while (j < nnow && now[j].id != old[i].id) j++;
    if (j == nnow || now[j].enabled != old[i].enabled) return 1;
  }
  return 0;
}

int vigil__bank_matcher_fetch(vigil_bank_matcher *m, vigil_bank_store *from, vigil__bank_delta **out,
                              vigil_error *err) {
  *out = NULL;
  vigil__bank_delta *d = calloc(1, sizeof *d);
  if (!d) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  d->err = err;
  const vigil__bank_backend *be = from->be;
  int rc = be->bank_list(from->impl, 0, &d->banks, &d->nbanks, err);
  int reload = !rc && needs_reload(d->banks, d->nbanks, m->banks, m->nbanks);
  if (reload) {
    /* A new index from scratch.  The removal log position first: a removal
     * racing with the scan is then applied by the next sync (removing an
     * absent id is harmless).  The entries go in as one batch: a bulk build
     * packs every bucket tightly, where adding them one by one grows
     * buckets through their capacity classes (about twice the memory). */
    rc = vigil_pdq_index_new(&d->fresh, err);
    if (!rc) rc = be->removals_since(from->impl, 0, note_removal, d, err);
    if (!rc) rc = be->entry_scan(from->impl, 0, VIGIL_SIGNAL_PDQ, 0, 0, 1, collect_entry, d, err);
    if (!rc && d->nadds) rc = vigil_pdq_index_add_batch(d->fresh, d->hashes, d->ids, d->nadds, err);
    d->nadds = 0;
  } else if (!rc) {
    d->max_id = m->max_id;
    d->removal_seq = m->removal_seq;
    rc = be->removals_since(from->impl, m->removal_seq, collect_removal, d, err);
    if (!rc) rc = be->entry_scan(from->impl, 0, VIGIL_SIGNAL_PDQ, m->max_id, 0, 1, collect_entry, d, err);
  }
  d->err = NULL;
  if (rc) {
    vigil__bank_delta_free(d);
    return rc;
  }
  *out = d;
  return VIGIL_OK;
}

int vigil__bank_matcher_apply(vigil_bank_matcher *m, vigil__bank_delta *d, vigil_error *err) {
  int rc = VIGIL_OK;
  if (d->fresh) {
    vigil_pdq_index_free(m->ix);
    m->ix = d->fresh;
    d->fresh = NULL;
    free(m->banks);
    m->banks = d->banks;
    m->nbanks = d->nbanks;
    d->banks = NULL;
  } else {
    free(m->banks); /* the same banks, perhaps with new ones */
    m->banks = d->banks;
    m->nbanks = d->nbanks;
    d->banks = NULL;
    for (size_t i = 0; i < d->nremoved; i++) {
      int r = vigil_pdq_index_remove(m->ix, d->removed[i], NULL);
      if (r != VIGIL_OK && r != VIGIL_ENOTFOUND) { /* ENOTFOUND: not a PDQ entry, or never loaded */
        rc = vigil__seterr(err, r, "pdq index: cannot remove entry %llu", (unsigned long long)d->removed[i]);
        break;
      }
    }
    if (!rc && d->nadds) rc = vigil_pdq_index_add_batch(m->ix, d->hashes, d->ids, d->nadds, err);
  }
  /* On failure the position stays: the next sync reads the same changes
   * again (adding an id again replaces it, removing an absent one is a no-op). */
  if (!rc) {
    m->max_id = d->max_id;
    m->removal_seq = d->removal_seq;
  }
  vigil__bank_delta_free(d);
  return rc;
}

int vigil_bank_matcher_open(vigil_bank_matcher **out, vigil_bank_store *st, vigil_error *err) {
  *out = NULL;
  vigil_bank_matcher *m = calloc(1, sizeof *m);
  if (!m) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  m->st = st;
  pthread_mutex_init(&m->get_mu, NULL);
  int rc = vigil_pdq_index_new(&m->ix, err);
  if (!rc) rc = vigil_bank_matcher_sync(m, err);
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
  vigil__bank_delta *d;
  int rc = vigil__bank_matcher_fetch(m, m->st, &d, err);
  return rc ? rc : vigil__bank_matcher_apply(m, d, err);
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
  if (threshold < 0 || threshold > VIGIL_BANK_MAX_THRESHOLD)
    return vigil__seterr(err, VIGIL_EINVAL, "threshold %d is outside 0..%d", threshold, VIGIL_BANK_MAX_THRESHOLD);
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
