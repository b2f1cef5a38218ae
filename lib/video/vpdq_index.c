/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vpdq_index.c - bank videos by their frame hashes, and exact video queries.
 *
 * Video frame lists repeat themselves: runs of near-identical frames, the
 * same intro in many videos.  So the index keeps each distinct frame hash
 * once, in match/'s exact PDQ radius index (id = the unique hash's number),
 * and chains every bank frame to the unique hash it carries.  A query looks
 * each of its distinct frame hashes up once at the threshold (exact: every
 * unique hash within it comes back), walks the chains to the bank frames and
 * groups them by bank video; the percentages and the alignment are then
 * computed per video from those pairs alone.  Nothing is approximate: the
 * pairs found are the pairs a brute-force scan of every frame of every bank
 * video finds (tests/test_video_match.c checks it).
 *
 * The quality filter and the threshold are per request, so frames of every
 * quality are kept and filtered while walking the chains.
 *
 * Semantics (docs/video.md): with dedup (python-threatexchange, whose index
 * filters by quality and then keeps unique hashes) a percentage counts
 * distinct frame hashes; without (the C++ reference) it counts frames.
 */
#include "video/vpdq_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/internal.h"
#include "vigil/match.h"

#define NONE VIGIL__VPDQ_NONE
#define MAX_FRAMES VIGIL__VPDQ_MAX_FRAMES
/* Pairs fed to the alignment per (query hash, bank video): a hash that recurs
 * more often is a static shot that matches everywhere and aligns nothing. */
#define ALIGN_CAP 64
/* Pairs aligned per bank video: past this the caps above shrink, so that a
 * hostile query (many hashes, each matching many frames) costs bounded time. */
#define ALIGN_MAX_PAIRS ((size_t)1 << 20)

void vigil_vpdq_opts_default(vigil_vpdq_opts *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->quality_min = VIGIL_PDQ_MIN_QUALITY;
  o->threshold = VIGIL_PDQ_MATCH_THRESHOLD;
  o->strict = 0;
  o->dedup = 1;
  o->query_pct_min = 80.0;
  o->compared_pct_min = 0.0;
  o->segments = 1;
  o->max_segments = 16;
}

void vigil_vpdq_opts_reference(vigil_vpdq_opts *o) {
  vigil_vpdq_opts_default(o);
  if (!o) return;
  o->strict = 1;
  o->dedup = 0;
}

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static uint64_t hash_key(const vigil_pdq_hash *h) {
  uint64_t a, b;
  memcpy(&a, h->bytes, 8);
  memcpy(&b, h->bytes + 8, 8);
  return mix64(a ^ mix64(b));
}

int vigil_vpdq_index_new(vigil_vpdq_index **out, vigil_error *err) {
  *out = NULL;
  vigil_vpdq_index *ix = calloc(1, sizeof *ix);
  if (!ix) return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory creating an index");
  int rc = vigil_pdq_index_new(&ix->pdq, err);
  if (rc) {
    free(ix);
    return rc;
  }
  *out = ix;
  return VIGIL_OK;
}

void vigil_vpdq_index_free(vigil_vpdq_index *ix) {
  if (!ix) return;
  vigil_pdq_index_free(ix->pdq);
  free(ix->uh);
  free(ix->uhead);
  free(ix->utab);
  free(ix->f);
  free(ix->v);
  free(ix->vtab);
  free(ix);
}

size_t vigil_vpdq_index_videos(const vigil_vpdq_index *ix) { return ix ? ix->nv - ix->dead_videos : 0; }
size_t vigil_vpdq_index_frames(const vigil_vpdq_index *ix) { return ix ? ix->nf - ix->dead_frames : 0; }
size_t vigil_vpdq_index_removed_frames(const vigil_vpdq_index *ix) { return ix ? ix->dead_frames : 0; }
size_t vigil_vpdq_index_unique(const vigil_vpdq_index *ix) { return ix ? ix->nu : 0; }

size_t vigil_vpdq_index_memory(const vigil_vpdq_index *ix) {
  if (!ix) return 0;
  return sizeof *ix + vigil_pdq_index_memory(ix->pdq) + ix->ucap * sizeof *ix->uh + ix->ucap2 * sizeof *ix->uhead +
         ix->utcap * sizeof *ix->utab + ix->fcap * sizeof *ix->f + ix->vcap * sizeof *ix->v +
         ix->vtcap * sizeof *ix->vtab;
}

/* The slot of h in the unique-hash table: its uid + 1, or 0 (free slot). */
static size_t ufind(const vigil_vpdq_index *ix, const vigil_pdq_hash *h) {
  size_t mask = ix->utcap - 1, s = (size_t)hash_key(h) & mask;
  while (ix->utab[s] && memcmp(ix->uh[ix->utab[s] - 1].bytes, h->bytes, VIGIL_PDQ_BYTES)) s = (s + 1) & mask;
  return s;
}

static size_t vfind(const vigil_vpdq_index *ix, uint64_t id) {
  size_t mask = ix->vtcap - 1, s = (size_t)mix64(id) & mask;
  while (ix->vtab[s] && ix->v[ix->vtab[s] - 1].id != id) s = (s + 1) & mask;
  return s;
}

/* Grows an open-addressing table to keep its load at most one half. */
static int retable(uint32_t **tab, size_t *cap, size_t need, int is_u, vigil_vpdq_index *ix) {
  if (need * 2 <= *cap) return VIGIL_OK;
  size_t nc = *cap ? *cap : 64;
  while (need * 2 > nc) nc *= 2;
  uint32_t *nt = calloc(nc, sizeof *nt);
  if (!nt) return VIGIL_ENOMEM;
  uint32_t *old = *tab;
  size_t oc = *cap;
  *tab = nt;
  *cap = nc;
  for (size_t i = 0; i < oc; i++) {
    if (!old[i]) continue;
    size_t s = is_u ? ufind(ix, &ix->uh[old[i] - 1]) : vfind(ix, ix->v[old[i] - 1].id);
    nt[s] = old[i];
  }
  free(old);
  return VIGIL_OK;
}

static int cmp_id(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

/* Checks a batch: frames, limits, ids new and distinct; *total gets its frames. */
static int check_batch(const vigil_vpdq_index *ix, const vigil_vpdq_video *vs, size_t nv, size_t *total,
                       vigil_error *err) {
  size_t t = 0;
  for (size_t k = 0; k < nv; k++) {
    const vigil_vpdq_video *v = &vs[k];
    if (v->n && !v->frames)
      return vigil__seterr(err, VIGIL_EINVAL, "vpdq: video %llu has no frames array", (unsigned long long)v->id);
    for (size_t i = 0; i < v->n; i++) {
      const vigil_video_frame *f = &v->frames[i];
      if (f->quality < 0 || f->quality > 100 || !(f->timestamp >= 0) || f->timestamp > VIGIL_VPDQ_MAX_TIMESTAMP)
        return vigil__seterr(err, VIGIL_EINVAL,
                             "vpdq: video %llu frame %zu: quality must be 0..100 and "
                             "the timestamp 0..%g s",
                             (unsigned long long)v->id, i, VIGIL_VPDQ_MAX_TIMESTAMP);
    }
    if (v->n > MAX_FRAMES - ix->nf - t)
      return vigil__seterr(err, VIGIL_ELIMIT, "vpdq: index full (%zu frames, limit %zu)", ix->nf + t, MAX_FRAMES);
    t += v->n;
  }
  if (nv > MAX_FRAMES - ix->nv)
    return vigil__seterr(err, VIGIL_ELIMIT, "vpdq: index full (%zu videos, limit %zu)", ix->nv, MAX_FRAMES);
  *total = t;
  return VIGIL_OK;
}

int vigil_vpdq_index_add_many(vigil_vpdq_index *ix, const vigil_vpdq_video *vs, size_t nvid, vigil_error *err) {
  if (!ix || (nvid && !vs)) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: index and videos are required");
  size_t total = 0;
  int rc = check_batch(ix, vs, nvid, &total, err);
  if (rc) return rc;
  if (nvid == 0) return VIGIL_OK;
  /* Room first, so that nothing below can fail half-way but the unique
   * hashes and the PDQ index, which are undone. */
  /* frames: the first batch (a bank's load) gets exactly its size, later ones double */
  if (vigil__grow_from((void **)&ix->f, &ix->fcap, ix->nf + total, sizeof *ix->f, ix->nf + total) ||
      vigil__grow((void **)&ix->v, &ix->vcap, ix->nv + nvid, sizeof *ix->v) ||
      retable(&ix->utab, &ix->utcap, ix->nu + total, 1, ix) || retable(&ix->vtab, &ix->vtcap, ix->nv + nvid, 0, ix))
    return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory adding %zu videos of %zu frames", nvid, total);
  uint64_t *ids = vigil__mallocarray(nvid, sizeof *ids);
  if (!ids) return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory adding %zu videos", nvid);
  for (size_t k = 0; k < nvid; k++) ids[k] = vs[k].id;
  qsort(ids, nvid, sizeof *ids, cmp_id);
  for (size_t k = 0; k < nvid; k++) {
    if ((k && ids[k] == ids[k - 1]) || ix->vtab[vfind(ix, ids[k])]) {
      rc = vigil__seterr(err, VIGIL_EEXIST, "vpdq: video %llu is already in the index%s", (unsigned long long)ids[k],
                         k && ids[k] == ids[k - 1] ? " (twice in this batch)" : "");
      free(ids);
      return rc;
    }
  }
  free(ids);

  /* New unique hashes go to uh[nu..] and the table tentatively, then to the
   * PDQ index in one batch (one table rebuild, not one per video); if either
   * fails the table is rebuilt from uh[0..nu) and nothing else has changed. */
  uint32_t *uids = vigil__mallocarray(total, sizeof *uids);
  uint64_t *newids = vigil__mallocarray(total, sizeof *newids);
  if (!uids || !newids) {
    free(uids);
    free(newids);
    return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory adding %zu frames", total);
  }
  size_t nnew = 0, j = 0;
  for (size_t k = 0; k < nvid && rc == VIGIL_OK; k++) {
    for (size_t i = 0; i < vs[k].n; i++, j++) {
      const vigil_pdq_hash *h = &vs[k].frames[i].hash;
      size_t s = ufind(ix, h);
      if (!ix->utab[s]) { /* new: in the table at once, so a repeat finds it */
        /* the unique-hash arrays grow with unique hashes, not frames (most frames repeat one) */
        if (vigil__grow((void **)&ix->uh, &ix->ucap, ix->nu + nnew + 1, sizeof *ix->uh) ||
            vigil__grow((void **)&ix->uhead, &ix->ucap2, ix->nu + nnew + 1, sizeof *ix->uhead)) {
          rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory adding %zu frames", total);
          break;
        }
        ix->uh[ix->nu + nnew] = *h;
        newids[nnew] = ix->nu + nnew;
        ix->utab[s] = (uint32_t)(ix->nu + nnew + 1);
        nnew++;
      }
      uids[j] = ix->utab[s] - 1;
    }
  }
  if (rc == VIGIL_OK && nnew) rc = vigil_pdq_index_add_batch(ix->pdq, ix->uh + ix->nu, newids, nnew, err);
  free(newids);
  if (rc) { /* take the tentative hashes out: rebuild the table from the kept ones */
    memset(ix->utab, 0, ix->utcap * sizeof *ix->utab);
    for (size_t u = 0; u < ix->nu; u++) ix->utab[ufind(ix, &ix->uh[u])] = (uint32_t)(u + 1);
    free(uids);
    return rc;
  }
  for (size_t u = 0; u < nnew; u++) ix->uhead[ix->nu + u] = NONE;
  ix->nu += nnew;
  j = 0;
  for (size_t k = 0; k < nvid; k++) {
    uint32_t vi = (uint32_t)ix->nv;
    ix->v[vi] = (vigil__vpdq_video){vs[k].id, (uint32_t)ix->nf, (uint32_t)vs[k].n, 0};
    ix->vtab[vfind(ix, vs[k].id)] = vi + 1;
    ix->nv++;
    for (size_t i = 0; i < vs[k].n; i++, j++) {
      uint32_t fi = (uint32_t)(ix->nf + i);
      const vigil_video_frame *f = &vs[k].frames[i];
      ix->f[fi] = (vigil__vpdq_frame){f->timestamp, uids[j], vi, ix->uhead[uids[j]], (uint8_t)f->quality};
      ix->uhead[uids[j]] = fi;
    }
    ix->nf += vs[k].n;
  }
  free(uids);
  return VIGIL_OK;
}

/* What a saved file does not hold, because it follows from what it does
 * and is cheaper to recompute than to validate (a chain read from a file
 * could loop; a table could send a probe round for ever): the tables, the
 * chains in the order vigil_vpdq_index_add_many makes them, each frame's
 * video.  The caller has checked uids, ranges and qualities. */
int vigil__vpdq_index_derive(vigil_vpdq_index *ix, const char *path, vigil_error *err) {
  if (retable(&ix->utab, &ix->utcap, ix->nu, 1, ix) || retable(&ix->vtab, &ix->vtcap, ix->nv, 0, ix) ||
      (ix->nu && !(ix->uhead = vigil__mallocarray(ix->nu, sizeof *ix->uhead))))
    return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory loading %s", path);
  ix->ucap2 = ix->nu;
  /* The table is much larger than the caches and each insertion's first
   * probe is a miss: the home slots of the next LOOKAHEAD hashes are
   * prefetched while this one goes in (a load at 10M frame hashes was
   * half this loop without it). */
  enum { LOOKAHEAD = 16 };
  size_t mask = ix->utcap - 1;
  for (size_t u = 0; u < ix->nu && u < LOOKAHEAD; u++) __builtin_prefetch(&ix->utab[hash_key(&ix->uh[u]) & mask], 1);
  for (size_t u = 0; u < ix->nu; u++) {
    if (u + LOOKAHEAD < ix->nu) __builtin_prefetch(&ix->utab[hash_key(&ix->uh[u + LOOKAHEAD]) & mask], 1);
    size_t s = ufind(ix, &ix->uh[u]);
    if (ix->utab[s]) return vigil__seterr(err, VIGIL_ECORRUPT, "%s: not a valid vpdq index (a repeated frame hash)", path);
    ix->utab[s] = (uint32_t)(u + 1);
    ix->uhead[u] = NONE;
  }
  for (size_t k = 0; k < ix->nv; k++) {
    size_t s = vfind(ix, ix->v[k].id);
    if (ix->vtab[s]) return vigil__seterr(err, VIGIL_ECORRUPT, "%s: not a valid vpdq index (a repeated video id)", path);
    ix->vtab[s] = (uint32_t)(k + 1);
    for (uint32_t i = ix->v[k].first; i < ix->v[k].first + ix->v[k].n; i++) {
      ix->f[i].video = (uint32_t)k;
      ix->f[i].next = ix->uhead[ix->f[i].uid];
      ix->uhead[ix->f[i].uid] = i;
    }
    if (ix->v[k].dead) ix->dead_videos++, ix->dead_frames += ix->v[k].n;
  }
  return VIGIL_OK;
}

int vigil_vpdq_index_add(vigil_vpdq_index *ix, uint64_t id, const vigil_video_frame *fr, size_t n, vigil_error *err) {
  vigil_vpdq_video v = {id, fr, n};
  return vigil_vpdq_index_add_many(ix, &v, 1, err);
}

int vigil_vpdq_index_has(const vigil_vpdq_index *ix, uint64_t id) {
  uint32_t slot = ix && ix->vtcap ? ix->vtab[vfind(ix, id)] : 0;
  return slot && !ix->v[slot - 1].dead;
}

/* A removal marks the video dead rather than unchaining its frames: the
 * chains are singly linked and shared between videos, so taking frames out
 * would cost a walk of every chain they sit on, and a bank withdraws videos
 * rarely.  The id stays taken (entry ids are never reused); the memory comes
 * back when the owner rebuilds the index (vigil_vpdq_index_removed_frames
 * tells it when that is worth it). */
int vigil_vpdq_index_remove(vigil_vpdq_index *ix, uint64_t id, vigil_error *err) {
  if (!ix) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: index is required");
  uint32_t slot = ix->vtcap ? ix->vtab[vfind(ix, id)] : 0;
  if (!slot || ix->v[slot - 1].dead)
    return vigil__seterr(err, VIGIL_ENOTFOUND, "vpdq: video %llu is not in the index", (unsigned long long)id);
  ix->v[slot - 1].dead = 1;
  ix->dead_videos++;
  ix->dead_frames += ix->v[slot - 1].n;
  return VIGIL_OK;
}

/* ---- queries ------------------------------------------------------------ */

typedef struct qframe {
  double ts;
  uint32_t orig; /* index in the caller's array */
  uint32_t qu;   /* distinct-hash number */
} qframe;

typedef struct rec {
  uint32_t video, qu, bf;
  int dist;
} rec;

typedef struct qstate {
  const vigil_vpdq_index *ix;
  const vigil_video_frame *q;
  const vigil_vpdq_opts *o;
  qframe *qf; /* quality-filtered query frames, by time */
  size_t nqf, nqu;
  double *qts;             /* their timestamps */
  uint32_t *mult;          /* qu -> query frames carrying it */
  uint32_t *qhead, *qnext; /* qu -> its query frames (chained by qi) */
  double qdt;
  /* scratch, reused from one bank video to the next */
  uint32_t *a, *b;
  size_t acap, bcap;
  double *bts;
  size_t btscap;
  vigil__vpdq_pair *pairs;
  size_t pcap;
} qstate;

static int cmp_qframe_ts(const void *x, const void *y) {
  const qframe *a = x, *b = y;
  if (a->ts != b->ts) return (a->ts > b->ts) - (a->ts < b->ts);
  return (a->orig > b->orig) - (a->orig < b->orig);
}

typedef struct hq {
  vigil_pdq_hash h;
  uint32_t qi;
} hq;

static int cmp_hq(const void *x, const void *y) {
  const hq *a = x, *b = y;
  int c = memcmp(a->h.bytes, b->h.bytes, VIGIL_PDQ_BYTES);
  return c ? c : (a->qi > b->qi) - (a->qi < b->qi);
}

static int cmp_rec(const void *x, const void *y) {
  const rec *a = x, *b = y;
  if (a->video != b->video) return (a->video > b->video) - (a->video < b->video);
  if (a->qu != b->qu) return (a->qu > b->qu) - (a->qu < b->qu);
  return (a->bf > b->bf) - (a->bf < b->bf);
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static int cmp_u32(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return (a > b) - (a < b);
}

static size_t distinct_u32(uint32_t *v, size_t n) {
  if (!n) return 0;
  qsort(v, n, sizeof *v, cmp_u32);
  size_t d = 1;
  for (size_t i = 1; i < n; i++) d += v[i] != v[i - 1];
  return d;
}

static int cmp_result(const void *x, const void *y) {
  const vigil_vpdq_result *a = x, *b = y;
  if (a->match != b->match) return b->match - a->match;
  if (a->query_pct != b->query_pct) return (a->query_pct < b->query_pct) - (a->query_pct > b->query_pct);
  return (a->id > b->id) - (a->id < b->id);
}

static int check(const vigil_video_frame *fr, size_t n, const vigil_vpdq_opts *o, vigil_error *err) {
  if (n && !fr) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: frames are required");
  if (o->threshold < 0 || o->threshold > 256)
    return vigil__seterr(err, VIGIL_EINVAL, "vpdq: threshold %d is outside 0..256", o->threshold);
  if (o->quality_min < 0 || o->quality_min > 101)
    return vigil__seterr(err, VIGIL_EINVAL, "vpdq: minimum quality %d is outside 0..101", o->quality_min);
  if (o->segments && (o->max_segments < 1 || o->max_segments > 1024))
    return vigil__seterr(err, VIGIL_EINVAL, "vpdq: max_segments %d is outside 1..1024", o->max_segments);
  if (!(o->query_pct_min >= 0 && o->query_pct_min <= 100 && o->compared_pct_min >= 0 && o->compared_pct_min <= 100))
    return vigil__seterr(err, VIGIL_EINVAL, "vpdq: minimum percentages must be within 0..100");
  if (n >= MAX_FRAMES) return vigil__seterr(err, VIGIL_ELIMIT, "vpdq: query of %zu frames (limit %zu)", n, MAX_FRAMES);
  for (size_t i = 0; i < n; i++)
    if (fr[i].quality < 0 || fr[i].quality > 100 || !(fr[i].timestamp >= 0) ||
        fr[i].timestamp > VIGIL_VPDQ_MAX_TIMESTAMP)
      return vigil__seterr(err, VIGIL_EINVAL,
                           "vpdq: query frame %zu: quality must be 0..100 and the timestamp "
                           "0..%g s",
                           i, VIGIL_VPDQ_MAX_TIMESTAMP);
  return VIGIL_OK;
}

/* Filters the query by quality, orders it by time and numbers its distinct
 * hashes (sorting indices by hash bytes). */
static int prepare(qstate *s, vigil_error *err) {
  const vigil_video_frame *q = s->q;
  size_t n = 0;
  s->qf = vigil__mallocarray(s->nqf, sizeof *s->qf); /* nqf holds the caller's count here */
  size_t cap = s->nqf;
  if (!s->qf) goto oom;
  for (size_t i = 0; i < cap; i++)
    if (q[i].quality >= s->o->quality_min) s->qf[n++] = (qframe){q[i].timestamp, (uint32_t)i, 0};
  s->nqf = n;
  qsort(s->qf, n, sizeof *s->qf, cmp_qframe_ts);
  s->qts = vigil__mallocarray(n, sizeof *s->qts);
  hq *order = vigil__mallocarray(n, sizeof *order);
  s->mult = vigil__mallocarray(n, sizeof *s->mult);
  s->qhead = vigil__mallocarray(n, sizeof *s->qhead);
  s->qnext = vigil__mallocarray(n, sizeof *s->qnext);
  if (!s->qts || !order || !s->mult || !s->qhead || !s->qnext) {
    free(order);
    goto oom;
  }
  for (size_t i = 0; i < n; i++) s->qts[i] = s->qf[i].ts, order[i] = (hq){q[s->qf[i].orig].hash, (uint32_t)i};
  qsort(order, n, sizeof *order, cmp_hq);
  size_t nu = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || memcmp(order[i].h.bytes, order[i - 1].h.bytes, VIGIL_PDQ_BYTES))
      s->mult[nu] = 0, s->qhead[nu] = NONE, nu++;
    s->qf[order[i].qi].qu = (uint32_t)(nu - 1);
  }
  free(order);
  s->nqu = nu;
  for (size_t i = n; i-- > 0;) { /* chains in time order */
    uint32_t u = s->qf[i].qu;
    s->qnext[i] = s->qhead[u];
    s->qhead[u] = (uint32_t)i;
    s->mult[u]++;
  }
  s->qdt = vigil__vpdq_interval(s->qts, n);
  return VIGIL_OK;
oom:
  return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory preparing a query of %zu frames", cap);
}

/* The result for bank video vi from its records r[0..n) (sorted by qu, bf). */
static int evaluate(qstate *s, uint32_t vi, const rec *r, size_t n, vigil_vpdq_result *out, vigil_error *err) {
  const vigil_vpdq_index *ix = s->ix;
  const vigil__vpdq_video *v = &ix->v[vi];
  int dedup = s->o->dedup;
  memset(out, 0, sizeof *out);
  out->id = v->id;
  size_t need = v->n > n ? v->n : n;
  if (vigil__grow((void **)&s->a, &s->acap, need, sizeof *s->a) ||
      vigil__grow((void **)&s->b, &s->bcap, need, sizeof *s->b) ||
      vigil__grow((void **)&s->bts, &s->btscap, v->n, sizeof *s->bts))
    return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory comparing with video %llu", (unsigned long long)v->id);
  /* The query side: distinct hashes (records come sorted by qu). */
  for (size_t i = 0; i < n; i++) {
    if (i && r[i].qu == r[i - 1].qu) continue;
    out->query_matched += dedup ? 1 : s->mult[r[i].qu];
  }
  out->query_total = dedup ? s->nqu : s->nqf;
  /* The bank side: its frames of enough quality, and those matched. */
  size_t nb = 0;
  for (uint32_t k = 0; k < v->n; k++) {
    const vigil__vpdq_frame *f = &ix->f[v->first + k];
    if (f->quality < s->o->quality_min) continue;
    s->a[nb] = f->uid;
    s->bts[nb++] = f->ts;
  }
  out->compared_total = dedup ? distinct_u32(s->a, nb) : nb;
  for (size_t i = 0; i < n; i++) s->b[i] = dedup ? ix->f[r[i].bf].uid : r[i].bf;
  out->compared_matched = distinct_u32(s->b, n);
  out->query_pct = out->query_total ? 100.0 * (double)out->query_matched / (double)out->query_total : 0;
  out->compared_pct = out->compared_total ? 100.0 * (double)out->compared_matched / (double)out->compared_total : 0;
  out->match = out->query_total > 0 && out->compared_total > 0 && out->query_pct >= s->o->query_pct_min &&
               out->compared_pct >= s->o->compared_pct_min;
  if (!s->o->segments) return VIGIL_OK;

  /* Pairs for the alignment: each record with each query frame carrying its
   * hash, at most ALIGN_CAP bank frames per hash and query frames per hash. */
  size_t np = 0, per = 0, cap = ALIGN_CAP;
  while (cap > 1 && n * cap > ALIGN_MAX_PAIRS) cap /= 2;
  for (size_t i = 0; i < n && np < ALIGN_MAX_PAIRS + ALIGN_CAP; i++) {
    per = (i && r[i].qu == r[i - 1].qu) ? per + 1 : 0;
    if (per >= cap) continue;
    size_t c = 0;
    for (uint32_t qi = s->qhead[r[i].qu]; qi != NONE && c < cap; qi = s->qnext[qi], c++) {
      if (vigil__grow((void **)&s->pairs, &s->pcap, np + 1, sizeof *s->pairs))
        return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory aligning with video %llu",
                             (unsigned long long)v->id);
      s->pairs[np++] = (vigil__vpdq_pair){s->qts[qi], ix->f[r[i].bf].ts, qi, r[i].dist};
    }
  }
  double *bts = s->bts;
  int sorted = 1; /* bank frames are usually added in time order already */
  for (size_t i = 1; i < nb && sorted; i++) sorted = bts[i] >= bts[i - 1];
  if (!sorted) qsort(bts, nb, sizeof *bts, cmp_double);
  double bdt = vigil__vpdq_interval(bts, nb);
  return vigil__vpdq_align(s->pairs, np, s->qts, s->nqf, s->qdt, bdt, s->o->threshold, s->o->max_segments,
                           &out->segments, &out->nsegments, err);
}

void vigil_vpdq_results_free(vigil_vpdq_result *res, size_t n) {
  if (!res) return;
  for (size_t i = 0; i < n; i++) free(res[i].segments);
  free(res);
}

static void qstate_free(qstate *s) {
  free(s->qf);
  free(s->qts);
  free(s->mult);
  free(s->qhead);
  free(s->qnext);
  free(s->a);
  free(s->b);
  free(s->bts);
  free(s->pairs);
}

int vigil_vpdq_index_query(const vigil_vpdq_index *ix, const vigil_video_frame *q, size_t n,
                           const vigil_vpdq_opts *opts, vigil_vpdq_result **results, size_t *nresults,
                           vigil_error *err) {
  if (!results || !nresults) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: results are required");
  *results = NULL;
  *nresults = 0;
  if (!ix) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: index is required");
  vigil_vpdq_opts def;
  if (!opts) vigil_vpdq_opts_default(&def), opts = &def;
  int rc = check(q, n, opts, err);
  if (rc) return rc;

  qstate s = {.ix = ix, .q = q, .o = opts, .nqf = n};
  rec *recs = NULL;
  size_t nrec = 0, rcap = 0;
  vigil_vpdq_result *res = NULL;
  size_t nres = 0, rescap = 0;
  if ((rc = prepare(&s, err))) goto done;
  int thr = opts->strict ? opts->threshold - 1 : opts->threshold;
  for (size_t u = 0; thr >= 0 && u < s.nqu; u++) {
    vigil_pdq_hit *hits = NULL;
    size_t nh = 0;
    if ((rc = vigil_pdq_index_query(ix->pdq, &q[s.qf[s.qhead[u]].orig].hash, thr, &hits, &nh, err))) goto done;
    for (size_t h = 0; h < nh; h++) {
      if (hits[h].id >= ix->nu) continue; /* cannot happen: ids are uids */
      for (uint32_t fi = ix->uhead[hits[h].id]; fi != NONE; fi = ix->f[fi].next) {
        if (ix->f[fi].quality < opts->quality_min || ix->v[ix->f[fi].video].dead) continue;
        if (vigil__grow((void **)&recs, &rcap, nrec + 1, sizeof *recs)) {
          free(hits);
          rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory collecting %zu frame matches", nrec);
          goto done;
        }
        recs[nrec++] = (rec){ix->f[fi].video, (uint32_t)u, fi, hits[h].distance};
      }
    }
    free(hits);
  }
  if (nrec) qsort(recs, nrec, sizeof *recs, cmp_rec);
  for (size_t i = 0; i < nrec;) {
    size_t e = i + 1;
    while (e < nrec && recs[e].video == recs[i].video) e++;
    if (vigil__grow((void **)&res, &rescap, nres + 1, sizeof *res)) {
      rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory listing %zu results", nres);
      goto done;
    }
    if ((rc = evaluate(&s, recs[i].video, recs + i, e - i, &res[nres], err))) goto done;
    nres++;
    i = e;
  }
  if (nres) qsort(res, nres, sizeof *res, cmp_result);
  *results = res;
  *nresults = nres;
  res = NULL;
  nres = 0;
  rc = VIGIL_OK;
done:
  vigil_vpdq_results_free(res, nres);
  free(recs);
  qstate_free(&s);
  return rc;
}

static int cmp_fhit_video(const void *x, const void *y) {
  const vigil_vpdq_frame_hit *a = x, *b = y;
  if (a->id != b->id) return (a->id > b->id) - (a->id < b->id);
  if (a->distance != b->distance) return a->distance - b->distance;
  return (a->timestamp > b->timestamp) - (a->timestamp < b->timestamp);
}

static int cmp_fhit(const void *x, const void *y) {
  const vigil_vpdq_frame_hit *a = x, *b = y;
  if (a->distance != b->distance) return a->distance - b->distance;
  return (a->id > b->id) - (a->id < b->id);
}

int vigil_vpdq_index_lookup(const vigil_vpdq_index *ix, const vigil_pdq_hash *h, int threshold, int quality_min,
                            vigil_vpdq_frame_hit **out, size_t *nout, vigil_error *err) {
  if (!out || !nout) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: results are required");
  *out = NULL;
  *nout = 0;
  if (!ix || !h) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: index and hash are required");
  if (threshold < 0 || threshold > 256)
    return vigil__seterr(err, VIGIL_EINVAL, "vpdq: threshold %d is outside 0..256", threshold);
  vigil_pdq_hit *hits = NULL;
  size_t nh = 0;
  int rc = vigil_pdq_index_query(ix->pdq, h, threshold, &hits, &nh, err);
  if (rc) return rc;
  vigil_vpdq_frame_hit *v = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; i < nh && rc == VIGIL_OK; i++) {
    if (hits[i].id >= ix->nu) continue; /* cannot happen: ids are uids */
    for (uint32_t fi = ix->uhead[hits[i].id]; fi != NONE; fi = ix->f[fi].next) {
      const vigil__vpdq_frame *f = &ix->f[fi];
      if (f->quality < quality_min || ix->v[f->video].dead) continue;
      if (vigil__grow((void **)&v, &cap, n + 1, sizeof *v)) {
        rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory collecting %zu frames", n);
        break;
      }
      v[n++] = (vigil_vpdq_frame_hit){ix->v[f->video].id, f->ts, hits[i].distance};
    }
  }
  free(hits);
  if (rc) {
    free(v);
    return rc;
  }
  /* the closest frame per video, then the videos by distance */
  if (n > 1) qsort(v, n, sizeof *v, cmp_fhit_video);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || v[i].id != v[i - 1].id) v[k++] = v[i];
  if (k > 1) qsort(v, k, sizeof *v, cmp_fhit);
  if (k == 0) {
    free(v);
    v = NULL;
  }
  *out = v;
  *nout = k;
  return VIGIL_OK;
}

/* Frames (or distinct hashes, with dedup) of enough quality in a list. */
static int count_total(const vigil_video_frame *f, size_t n, const vigil_vpdq_opts *o, size_t *out, vigil_error *err) {
  hq *h = vigil__mallocarray(n, sizeof *h);
  if (!h) return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory counting %zu frames", n);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (f[i].quality >= o->quality_min) h[m] = (hq){f[i].hash, (uint32_t)i}, m++;
  size_t d = m;
  if (o->dedup && m) {
    qsort(h, m, sizeof *h, cmp_hq);
    d = 1;
    for (size_t i = 1; i < m; i++) d += memcmp(h[i].h.bytes, h[i - 1].h.bytes, VIGIL_PDQ_BYTES) != 0;
  }
  free(h);
  *out = d;
  return VIGIL_OK;
}

int vigil_vpdq_compare(const vigil_video_frame *query, size_t nq, const vigil_video_frame *bank, size_t nb,
                       const vigil_vpdq_opts *opts, vigil_vpdq_result *out, vigil_error *err) {
  if (!out) return vigil__seterr(err, VIGIL_EINVAL, "vpdq: a result is required");
  memset(out, 0, sizeof *out);
  vigil_vpdq_opts def;
  if (!opts) vigil_vpdq_opts_default(&def), opts = &def;
  int rc = check(bank, nb, opts, err);
  if (rc) return rc;
  vigil_vpdq_index *ix = NULL;
  vigil_vpdq_result *res = NULL;
  size_t nres = 0;
  if ((rc = vigil_vpdq_index_new(&ix, err)) || (rc = vigil_vpdq_index_add(ix, 0, bank, nb, err)) ||
      (rc = vigil_vpdq_index_query(ix, query, nq, opts, &res, &nres, err)))
    goto done;
  if (nres) {
    *out = res[0];
    res[0].segments = NULL;
  } else if (!(rc = count_total(query, nq, opts, &out->query_total, err))) {
    rc = count_total(bank, nb, opts, &out->compared_total, err);
  }
done:
  vigil_vpdq_results_free(res, nres);
  vigil_vpdq_index_free(ix);
  return rc;
}
