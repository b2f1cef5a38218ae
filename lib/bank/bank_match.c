/* SPDX-License-Identifier: Apache-2.0 */
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
 * Two scans (PDQ entries, then vpdq entries with their frames) run one
 * after the other, so both stop at the highest id committed before the
 * first: an entry of one kind committed between them must not carry the
 * position past an entry of the other kind that the first scan missed.
 *
 * A sync is two steps (bank/bank_sync.h): fetch reads the changes from a
 * store, and builds a new index when one is needed, without touching the
 * index queries use; apply puts them in, which is the only part that must
 * exclude queries.  The service fetches on a connection of its own while
 * matching goes on, and holds its exclusive lock only to apply.
 *
 * vpdq entries (videos) live beside them in a vigil_vpdq_index, kept in
 * step by the same sync: the same "id > highest seen" scan (of
 * bank_frames, which holds their frame lists), the same removal log, the
 * same reload when the bank set changes.  Removed videos are only marked in
 * that index, so a sync whose removals leave more dead frames than live
 * ones rebuilds it (needs_reload's other reason).
 *
 * The video index can come from a file saved by an earlier run
 * (vigil_bank_matcher_open_file, bank_vfile.c): the first sync loads it
 * when it matches the store and reads only the videos after it.
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
#include "bank/bank_vfile.h"
#include "common/internal.h"
#include "vigil/match.h"

#include <pthread.h>
#include <string.h>

struct vigil_bank_matcher {
  vigil_bank_store *st;
  vigil_pdq_index *ix;
  vigil_vpdq_index *vx; /* vpdq entries */
  uint64_t max_id;      /* highest entry id examined */
  uint64_t removal_seq; /* last removal log row applied */
  vigil_bank_info *banks; /* the bank set the index reflects (ids, enabled) */
  size_t nbanks;
  pthread_mutex_t get_mu; /* one entry fetch at a time on the store */
  vigil_bank_index_file *vfile; /* the saved video index, during the first sync only */
};

/* What a sync read from a store and has yet to apply to the index: either
 * a whole new index (the set of enabled banks changed) or the removals and
 * additions since the matcher's last position. */
struct vigil__bank_delta {
  vigil_pdq_index *fresh; /* replaces the index when set */
  vigil_vpdq_index *vfresh; /* replaces the video index with fresh */
  vigil_vpdq_index *vloaded; /* the saved video index, replacing the empty one before the additions */
  vigil_vpdq_video *videos; /* vpdq entries to add (frames malloc'd) */
  size_t nvideos, cap_videos;
  vigil_bank_info *banks; /* the bank set that goes with fresh */
  size_t nbanks;
  uint64_t *removed; /* entry ids whose removal the index must apply */
  size_t nremoved, cap_removed;
  vigil_pdq_hash *hashes; /* entries to add */
  uint64_t *ids;
  size_t nadds, cap_adds;
  uint64_t max_id, removal_seq; /* the matcher's position once applied */
  uint64_t hi; /* entries above this id are left to the next sync */
  vigil_error *err;
};

void vigil__bank_delta_free(vigil__bank_delta *d) {
  if (!d) return;
  vigil_pdq_index_free(d->fresh);
  vigil_vpdq_index_free(d->vfresh);
  vigil_vpdq_index_free(d->vloaded);
  for (size_t i = 0; i < d->nvideos; i++) free((void *)d->videos[i].frames);
  free(d->videos);
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
  if (e->id > d->hi || e->value_len != VIGIL_PDQ_BYTES) return VIGIL_OK;
  size_t cap = d->cap_adds;
  if (grow((void **)&d->hashes, &cap, d->nadds + 1, sizeof *d->hashes) ||
      grow((void **)&d->ids, &d->cap_adds, d->nadds + 1, sizeof *d->ids))
    return vigil__seterr(d->err, VIGIL_ENOMEM, "out of memory reading bank entries");
  memcpy(d->hashes[d->nadds].bytes, e->value, VIGIL_PDQ_BYTES);
  d->ids[d->nadds++] = e->id;
  return VIGIL_OK;
}

static int collect_video(void *ctx, uint64_t id, const vigil_video_frame *f, size_t n) {
  vigil__bank_delta *d = ctx;
  if (id > d->hi) return VIGIL_OK;
  vigil_video_frame *copy = vigil__mallocarray(n, sizeof *copy);
  if (!copy || grow((void **)&d->videos, &d->cap_videos, d->nvideos + 1, sizeof *d->videos)) {
    free(copy);
    return vigil__seterr(d->err, VIGIL_ENOMEM, "out of memory reading vpdq entries");
  }
  memcpy(copy, f, n * sizeof *copy);
  d->videos[d->nvideos++] = (vigil_vpdq_video){id, copy, n};
  return VIGIL_OK;
}

/* Loads the collected videos into ix and lets their frames go. */
static int load_videos(vigil__bank_delta *d, vigil_vpdq_index *ix, vigil_error *err) {
  int rc = d->nvideos ? vigil_vpdq_index_add_many(ix, d->videos, d->nvideos, err) : VIGIL_OK;
  for (size_t i = 0; i < d->nvideos; i++) free((void *)d->videos[i].frames);
  d->nvideos = 0;
  return rc;
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
  int reload = !rc && (needs_reload(d->banks, d->nbanks, m->banks, m->nbanks) ||
                       (m->vx && vigil_vpdq_index_removed_frames(m->vx) > vigil_vpdq_index_frames(m->vx)));
  if (reload) {
    /* A new index from scratch.  The removal log position first: a removal
     * racing with the scan is then applied by the next sync (removing an
     * absent id is harmless).  The entries go in as one batch: a bulk build
     * packs every bucket tightly, where adding them one by one grows
     * buckets through their capacity classes (about twice the memory). */
    rc = vigil_pdq_index_new(&d->fresh, err);
    if (!rc) rc = be->removals_since(from->impl, 0, note_removal, d, err);
    if (!rc) rc = be->entry_max_id(from->impl, &d->hi, err);
    d->max_id = d->hi;
    if (!rc) rc = be->entry_scan(from->impl, 0, VIGIL_SIGNAL_PDQ, 0, 0, 1, collect_entry, d, err);
    if (!rc && d->nadds) rc = vigil_pdq_index_add_batch(d->fresh, d->hashes, d->ids, d->nadds, err);
    d->nadds = 0;
    if (!rc) rc = vigil_vpdq_index_new(&d->vfresh, err);
    if (!rc) rc = be->vpdq_scan(from->impl, 0, collect_video, d, err);
    if (!rc) rc = load_videos(d, d->vfresh, err);
  } else if (!rc) {
    d->max_id = m->max_id;
    d->removal_seq = m->removal_seq;
    rc = be->removals_since(from->impl, m->removal_seq, collect_removal, d, err);
    if (!rc) rc = be->entry_max_id(from->impl, &d->hi, err);
    if (d->hi > d->max_id) d->max_id = d->hi;
    if (!rc) rc = be->entry_scan(from->impl, 0, VIGIL_SIGNAL_PDQ, m->max_id, 0, 1, collect_entry, d, err);
    uint64_t vfrom = m->max_id;
    if (!rc && m->vfile && m->max_id == 0 && m->vx && vigil_vpdq_index_videos(m->vx) == 0) {
      /* the first sync: the saved video index when it matches the store,
       * then only the videos after it (bank_vfile.c) */
      rc = vigil__bank_vfile_load(m->vfile->path, from, d->banks, d->nbanks, d->hi, &d->vloaded, &vfrom,
                                  m->vfile->why, sizeof m->vfile->why, err);
    }
    if (!rc) rc = be->vpdq_scan(from->impl, vfrom, collect_video, d, err);
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
    vigil_vpdq_index_free(m->vx);
    m->vx = d->vfresh;
    d->vfresh = NULL;
    free(m->banks);
    m->banks = d->banks;
    m->nbanks = d->nbanks;
    d->banks = NULL;
  } else {
    if (d->vloaded) {
      vigil_vpdq_index_free(m->vx);
      m->vx = d->vloaded;
      d->vloaded = NULL;
      if (m->vfile) m->vfile->loaded = 1, m->vfile->caught_up = d->nvideos;
    }
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
      vigil_vpdq_index_remove(m->vx, d->removed[i], NULL); /* ENOTFOUND: not a vpdq entry; nothing else fails */
    }
    if (!rc && d->nadds) rc = vigil_pdq_index_add_batch(m->ix, d->hashes, d->ids, d->nadds, err);
    /* All new videos in one batch (one rebuild of the video index's PDQ
     * index).  A video already present can only come from a delta read
     * again after a failed apply: then one by one, skipping those. */
    if (!rc && d->nvideos) {
      rc = vigil_vpdq_index_add_many(m->vx, d->videos, d->nvideos, err);
      for (size_t i = 0; rc == VIGIL_EEXIST && i < d->nvideos; i++) {
        int r = vigil_vpdq_index_add(m->vx, d->videos[i].id, d->videos[i].frames, d->videos[i].n, err);
        if (r != VIGIL_EEXIST && r != VIGIL_OK) rc = r;
        else if (i + 1 == d->nvideos) rc = VIGIL_OK;
      }
    }
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
  return vigil_bank_matcher_open_file(out, st, NULL, err);
}

int vigil_bank_matcher_open_file(vigil_bank_matcher **out, vigil_bank_store *st, vigil_bank_index_file *f,
                                 vigil_error *err) {
  *out = NULL;
  if (f) {
    if (!f->path) return vigil__seterr(err, VIGIL_EINVAL, "the video index file needs a path");
    f->loaded = f->saved = 0;
    f->caught_up = 0;
    f->why[0] = 0;
  }
  vigil_bank_matcher *m = calloc(1, sizeof *m);
  if (!m) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  m->st = st;
  m->vfile = f;
  pthread_mutex_init(&m->get_mu, NULL);
  int rc = vigil_pdq_index_new(&m->ix, err);
  if (!rc) rc = vigil_vpdq_index_new(&m->vx, err);
  if (!rc) rc = vigil_bank_matcher_sync(m, err);
  m->vfile = NULL;
  if (rc) {
    vigil_bank_matcher_free(m);
    return rc;
  }
  /* Written when built from the store, or when the store had moved on by
   * more than a hundredth of the videos since the file: the next start
   * then reads less.  A file that cannot be written costs only that. */
  if (f && (!f->loaded || f->caught_up * 100 > vigil_vpdq_index_videos(m->vx))) {
    vigil_error e;
    vigil_error_clear(&e);
    if (vigil__bank_vfile_save(f->path, st, m->vx, m->max_id, m->removal_seq, m->banks, m->nbanks, &e) == VIGIL_OK) {
      f->saved = 1;
    } else {
      size_t k = strlen(f->why);
      if (snprintf(f->why + k, sizeof f->why - k, "%snot saved: %s", k ? "; " : "", e.message) < 0) f->why[k] = 0;
    }
  }
  *out = m;
  return VIGIL_OK;
}

void vigil_bank_matcher_free(vigil_bank_matcher *m) {
  if (!m) return;
  vigil_pdq_index_free(m->ix);
  vigil_vpdq_index_free(m->vx);
  free(m->banks);
  pthread_mutex_destroy(&m->get_mu);
  free(m);
}

size_t vigil_bank_matcher_size(const vigil_bank_matcher *m) { return m->ix ? vigil_pdq_index_size(m->ix) : 0; }
size_t vigil_bank_matcher_videos(const vigil_bank_matcher *m) { return m->vx ? vigil_vpdq_index_videos(m->vx) : 0; }

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

void vigil_bank_video_hits_free(vigil_bank_video_hit *h, size_t n) {
  if (!h) return;
  for (size_t i = 0; i < n; i++) free(h[i].segments);
  free(h);
}

int vigil_bank_match_video(vigil_bank_matcher *m, const vigil_video_frame *q, size_t n, const vigil_vpdq_opts *opts,
                           vigil_bank_video_hit **out, size_t *nout, vigil_error *err) {
  return vigil_bank_match_video_filtered(m, q, n, opts, NULL, out, nout, err);
}

/* The index answers with entry ids in its order (matches first, query_pct
 * descending, id); the entries are fetched as for PDQ hits, and those
 * removed or dropped since the last sync, or outside the filter, left out. */
int vigil_bank_match_video_filtered(vigil_bank_matcher *m, const vigil_video_frame *q, size_t n,
                                    const vigil_vpdq_opts *opts, const vigil_bank_filter *f,
                                    vigil_bank_video_hit **out, size_t *nout, vigil_error *err) {
  if (!out || !nout) return vigil__seterr(err, VIGIL_EINVAL, "video match: results are required");
  *out = NULL;
  *nout = 0;
  if (!m) return vigil__seterr(err, VIGIL_EINVAL, "video match: a matcher is required");
  vigil_vpdq_result *res = NULL;
  size_t nres = 0;
  int rc = vigil_vpdq_index_query(m->vx, q, n, opts, &res, &nres, err);
  if (rc) return rc;
  vigil_bank_video_hit *hits = nres ? vigil__mallocarray(nres, sizeof *hits) : NULL;
  if (nres && !hits) {
    vigil_vpdq_results_free(res, nres);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  size_t nh = 0;
  if (nres) pthread_mutex_lock(&m->get_mu);
  for (size_t i = 0; !rc && i < nres; i++) {
    vigil_bank_video_hit *h = &hits[nh];
    rc = m->st->be->entry_get(m->st->impl, res[i].id, &h->entry, err);
    if (rc == VIGIL_ENOTFOUND) { /* dropped since the last sync */
      rc = VIGIL_OK;
      continue;
    }
    if (rc || h->entry.removed || !passes(f, &h->entry)) continue;
    h->query_pct = res[i].query_pct;
    h->compared_pct = res[i].compared_pct;
    h->matched = res[i].match;
    h->query_matched = res[i].query_matched;
    h->query_total = res[i].query_total;
    h->compared_matched = res[i].compared_matched;
    h->compared_total = res[i].compared_total;
    h->segments = res[i].segments;
    h->nsegments = res[i].nsegments;
    res[i].segments = NULL; /* moved */
    nh++;
  }
  if (nres) pthread_mutex_unlock(&m->get_mu);
  vigil_vpdq_results_free(res, nres);
  if (rc) {
    vigil_bank_video_hits_free(hits, nh);
    return rc;
  }
  if (nh == 0) {
    free(hits);
    hits = NULL;
  }
  *out = hits;
  *nout = nh;
  return VIGIL_OK;
}

typedef struct best_frame {
  vigil_vpdq_frame_hit h;
  int variant;
} best_frame;

static int cmp_best_id(const void *x, const void *y) {
  const best_frame *a = x, *b = y;
  if (a->h.id != b->h.id) return (a->h.id > b->h.id) - (a->h.id < b->h.id);
  if (a->h.distance != b->h.distance) return a->h.distance - b->h.distance;
  if (a->variant != b->variant) return a->variant - b->variant;
  return (a->h.timestamp > b->h.timestamp) - (a->h.timestamp < b->h.timestamp);
}

static int cmp_best(const void *x, const void *y) {
  const best_frame *a = x, *b = y;
  if (a->h.distance != b->h.distance) return a->h.distance - b->h.distance;
  return (a->h.id > b->h.id) - (a->h.id < b->h.id);
}

/* Each variant looked up on its own; per video the closest frame over all
 * of them (the lowest variant on a tie, as vigil_bank_match_pdq). */
int vigil_bank_match_pdq_in_videos(vigil_bank_matcher *m, const vigil_pdq_hash *qs, int nq, int threshold,
                                   const vigil_bank_filter *f, vigil_bank_frame_match **out, size_t *n,
                                   vigil_error *err) {
  if (!out || !n) return vigil__seterr(err, VIGIL_EINVAL, "results are required");
  *out = NULL;
  *n = 0;
  if (nq < 1 || nq > VIGIL_DIH_COUNT) return vigil__seterr(err, VIGIL_EINVAL, "1 to 8 query hashes");
  if (threshold < 0 || threshold > VIGIL_BANK_MAX_THRESHOLD)
    return vigil__seterr(err, VIGIL_EINVAL, "threshold %d is outside 0..%d", threshold, VIGIL_BANK_MAX_THRESHOLD);
  best_frame *all = NULL;
  size_t na = 0, cap = 0;
  int rc = VIGIL_OK;
  for (int q = 0; q < nq && !rc; q++) {
    vigil_vpdq_frame_hit *h = NULL;
    size_t nh = 0;
    if ((rc = vigil_vpdq_index_lookup(m->vx, &qs[q], threshold, VIGIL_PDQ_MIN_QUALITY, &h, &nh, err))) break;
    if (nh && grow((void **)&all, &cap, na + nh, sizeof *all)) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < nh; i++) all[na++] = (best_frame){h[i], q};
    free(h);
  }
  if (!rc && na > 1) qsort(all, na, sizeof *all, cmp_best_id);
  size_t k = 0;
  for (size_t i = 0; !rc && i < na; i++)
    if (i == 0 || all[i].h.id != all[i - 1].h.id) all[k++] = all[i];
  if (!rc && k > 1) qsort(all, k, sizeof *all, cmp_best);
  vigil_bank_frame_match *res = !rc && k ? vigil__mallocarray(k, sizeof *res) : NULL;
  if (!rc && k && !res) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  size_t nr = 0;
  int locked = !rc && k;
  if (locked) pthread_mutex_lock(&m->get_mu);
  for (size_t i = 0; !rc && i < k; i++) {
    vigil_bank_frame_match *r = &res[nr];
    rc = m->st->be->entry_get(m->st->impl, all[i].h.id, &r->entry, err);
    if (rc == VIGIL_ENOTFOUND) { /* dropped since the last sync */
      rc = VIGIL_OK;
      continue;
    }
    if (rc || r->entry.removed || !passes(f, &r->entry)) continue;
    r->distance = all[i].h.distance;
    r->variant = all[i].variant;
    r->timestamp = all[i].h.timestamp;
    nr++;
  }
  if (locked) pthread_mutex_unlock(&m->get_mu);
  free(all);
  if (rc) {
    free(res);
    return rc;
  }
  if (nr == 0) {
    free(res);
    res = NULL;
  }
  *out = res;
  *n = nr;
  return VIGIL_OK;
}
