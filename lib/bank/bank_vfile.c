/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_vfile.c - the matcher's video index kept in a file between runs.
 *
 * Building the vpdq index of a large bank means reading every frame list
 * from the store and indexing it: 10 million frame hashes take seconds.
 * So the matcher (bank_match.c) can save its video index
 * (vigil_vpdq_index_save) with, as the file's meta, the store position it
 * reflects, and load it at the next start instead of building it.
 *
 * A file is only as good as its match with the store, which may have moved
 * on, been restored from a backup, or be another database altogether.  So
 * the meta holds, besides the position (highest entry id, last removal log
 * row), the set of banks with their enabled flags and every live video's
 * entry id and identity (the SHA-256 the store keys it by), and a file is
 * used only when:
 *   - it loads (vigil_vpdq_index_load validates the file itself),
 *   - the saved banks are all there with the same enabled flags (new
 *     ones may have come),
 *   - the saved position is not past the store's (a store rolled back),
 *   - after the removals logged since, the live videos are exactly the
 *     store's active vpdq entries up to the saved id, with the same
 *     identities.
 * Then the entries after the saved id are read and added as a normal sync
 * adds them.  Anything else: the index is built from the store, as without
 * a file, and the reason is reported (vigil_bank_index_file.why), never
 * silently.
 *
 * Meta (little-endian): "VGLBNKV1", max_id, removal_seq, nbanks, then per
 * bank (id, enabled), then nvideos, then per video (entry id, 32-byte
 * identity), ids ascending.
 */
#include "bank/bank_backend.h"
#include "bank/bank_vfile.h"
#include "common/grow.h"
#include "common/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_MAGIC "VGLBNKV1"
#define ID_LEN 32

typedef struct vrec {
  uint64_t id;
  uint8_t identity[ID_LEN];
} vrec;

/* ---- saving ---- */

typedef struct live_ctx {
  const vigil_vpdq_index *vx;
  uint64_t max_id;
  vrec *v;
  size_t n, cap;
  vigil_error *err;
} live_ctx;

static int collect_live(void *ctx, const vigil_bank_entry *e) {
  live_ctx *c = ctx;
  if (e->id > c->max_id || e->value_len != ID_LEN || !vigil_vpdq_index_has(c->vx, e->id)) return VIGIL_OK;
  if (vigil__grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v))
    return vigil__seterr(c->err, VIGIL_ENOMEM, "out of memory listing vpdq entries");
  c->v[c->n].id = e->id;
  memcpy(c->v[c->n].identity, e->value, ID_LEN);
  c->n++;
  return VIGIL_OK;
}

static void put64(uint8_t **p, uint64_t x) {
  memcpy(*p, &x, 8);
  *p += 8;
}

int vigil__bank_vfile_save(const char *path, vigil_bank_store *st, const vigil_vpdq_index *vx, uint64_t max_id,
                           uint64_t removal_seq, const vigil_bank_info *banks, size_t nbanks, vigil_error *err) {
  live_ctx c = {vx, max_id, NULL, 0, 0, err};
  int rc = st->be->entry_scan(st->impl, 0, VIGIL_SIGNAL_VPDQ, 0, 0, 1, collect_live, &c, err);
  if (rc) {
    free(c.v);
    return rc;
  }
  size_t len = 8 + 3 * 8 + nbanks * 16 + 8 + c.n * (8 + ID_LEN);
  if (len > VIGIL_VPDQ_META_MAX) {
    free(c.v);
    return vigil__seterr(err, VIGIL_ELIMIT, "%s: %zu videos are more than the index file's meta holds", path, c.n);
  }
  uint8_t *meta = malloc(len), *p = meta;
  if (!meta) {
    free(c.v);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory saving %s", path);
  }
  memcpy(p, META_MAGIC, 8);
  p += 8;
  put64(&p, max_id);
  put64(&p, removal_seq);
  put64(&p, nbanks);
  for (size_t i = 0; i < nbanks; i++) {
    put64(&p, banks[i].id);
    put64(&p, banks[i].enabled ? 1 : 0);
  }
  put64(&p, c.n);
  for (size_t i = 0; i < c.n; i++) {
    put64(&p, c.v[i].id);
    memcpy(p, c.v[i].identity, ID_LEN);
    p += ID_LEN;
  }
  free(c.v);
  rc = vigil_vpdq_index_save(vx, path, meta, len, err);
  free(meta);
  return rc;
}

/* ---- loading ---- */

typedef struct meta_view {
  uint64_t max_id, removal_seq, nbanks, nvideos;
  const uint8_t *banks, *videos;
} meta_view;

static uint64_t get64(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

static int parse_meta(const uint8_t *m, size_t len, meta_view *v) {
  if (len < 40 || memcmp(m, META_MAGIC, 8)) return 0;
  v->max_id = get64(m + 8);
  v->removal_seq = get64(m + 16);
  v->nbanks = get64(m + 24);
  if (v->nbanks > (len - 40) / 16) return 0;
  v->banks = m + 32;
  v->nvideos = get64(v->banks + v->nbanks * 16);
  v->videos = v->banks + v->nbanks * 16 + 8;
  size_t rest = len - 40 - (size_t)v->nbanks * 16;
  if (v->nvideos > rest / (8 + ID_LEN) || rest != v->nvideos * (8 + ID_LEN)) return 0;
  for (uint64_t i = 1; i < v->nvideos; i++) /* ascending, so lookups can bisect */
    if (get64(v->videos + i * (8 + ID_LEN)) <= get64(v->videos + (i - 1) * (8 + ID_LEN))) return 0;
  return 1;
}

/* Every saved bank still there with the same enabled flag.  A bank that is
 * new is fine, as for a running matcher (bank_match.c, needs_reload): its
 * entries all came after it, so after the saved position. */
static int same_banks(const meta_view *v, const vigil_bank_info *banks, size_t nbanks) {
  for (uint64_t i = 0; i < v->nbanks; i++) {
    size_t j = 0;
    while (j < nbanks && banks[j].id != get64(v->banks + 16 * i)) j++;
    if (j == nbanks || get64(v->banks + 16 * i + 8) != (uint64_t)(banks[j].enabled ? 1 : 0)) return 0;
  }
  return 1;
}

typedef struct check_ctx {
  const meta_view *v;
  vigil_vpdq_index *vx;
  uint64_t seen, last_seq;
  int mismatch;
} check_ctx;

static int apply_removal(void *ctx, uint64_t seq, uint64_t entry_id) {
  check_ctx *c = ctx;
  c->last_seq = seq;
  vigil_vpdq_index_remove(c->vx, entry_id, NULL); /* VIGIL_ENOTFOUND: not a video of the file */
  return VIGIL_OK;
}

static int check_entry(void *ctx, const vigil_bank_entry *e) {
  check_ctx *c = ctx;
  if (c->mismatch || e->id > c->v->max_id) return VIGIL_OK;
  size_t lo = 0, hi = (size_t)c->v->nvideos;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (get64(c->v->videos + mid * (8 + ID_LEN)) < e->id) lo = mid + 1;
    else hi = mid;
  }
  const uint8_t *r = c->v->videos + lo * (8 + ID_LEN);
  if (lo == c->v->nvideos || get64(r) != e->id || e->value_len != ID_LEN || memcmp(r + 8, e->value, ID_LEN) ||
      !vigil_vpdq_index_has(c->vx, e->id)) {
    c->mismatch = 1;
    return VIGIL_OK;
  }
  c->seen++;
  return VIGIL_OK;
}

int vigil__bank_vfile_load(const char *path, vigil_bank_store *from, const vigil_bank_info *banks, size_t nbanks,
                           uint64_t hi, vigil_vpdq_index **vx, uint64_t *max_id, char *why, size_t whycap,
                           vigil_error *err) {
  *vx = NULL;
  *max_id = 0;
  vigil_error e;
  vigil_error_clear(&e);
  vigil_vpdq_index *ix = NULL;
  void *meta = NULL;
  size_t mlen = 0;
  int rc = vigil_vpdq_index_load(&ix, path, &meta, &mlen, &e);
  if (rc) {
    snprintf(why, whycap, "%s", rc == VIGIL_ENOTFOUND ? "no saved video index yet" : e.message);
    return VIGIL_OK;
  }
  meta_view v;
  const char *stale = NULL;
  if (!parse_meta(meta, mlen, &v)) stale = "its store position is missing or malformed";
  else if (!same_banks(&v, banks, nbanks)) stale = "a bank was dropped, enabled or disabled since it was saved";
  else if (v.max_id > hi) stale = "it is ahead of the store (another database, or one restored from a backup)";
  check_ctx c = {&v, ix, 0, 0, 0};
  if (!stale) {
    /* the whole log (those before the saved row are no-ops): its last row
     * must not be before the saved one */
    rc = from->be->removals_since(from->impl, 0, apply_removal, &c, err);
    if (!rc && c.last_seq < v.removal_seq) stale = "it has removals the store does not (another database?)";
  }
  if (!rc && !stale) {
    rc = from->be->entry_scan(from->impl, 0, VIGIL_SIGNAL_VPDQ, 0, 0, 1, check_entry, &c, err);
    if (!rc && c.mismatch) stale = "its videos differ from the store's (an entry missing, or its frames)";
    else if (!rc && c.seen != vigil_vpdq_index_videos(ix)) stale = "it holds videos the store no longer has";
  }
  if (rc || stale) {
    if (stale) snprintf(why, whycap, "%s: not used: %s", path, stale);
    vigil_vpdq_index_free(ix);
    free(meta);
    return rc;
  }
  free(meta);
  why[0] = 0;
  *vx = ix;
  *max_id = v.max_id;
  return VIGIL_OK;
}
