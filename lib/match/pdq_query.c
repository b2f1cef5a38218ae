/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_query.c - radius queries: choosing per-query radii for the tables,
 * probing, verifying, and the linear-scan fallback.
 *
 * Choosing the radii (the adaptive part).  The pigeonhole argument in
 * pdq_index.c holds for any radii t_i with sum(t_i + 1) = r + 1 (t_i = -1
 * means "skip table i").  The cost of a choice is the number of candidates
 * the probed buckets hold plus 4 per bucket probed (a probe is two dependent
 * cache misses, header then block; 4 measured best between 2 and 8, see
 * docs/match.md).  For each table we read the exact sizes of the buckets
 * at substring distance 0 and 1 (1 + b header reads) and extrapolate the
 * density of the larger rings from them; then
 * r + 1 units of radius are handed out greedily, each to the table whose next
 * ring is cheapest.  A query landing in a cluster of near-duplicates thus
 * gets radius 0 or 1 in the tables where its substrings are crowded and
 * larger radii where they are rare, instead of the fixed allocation of
 * classic multi-index hashing that would verify the whole cluster in every
 * table.
 *
 * When the estimated cost exceeds a fraction of n (the price of a streaming
 * scan in the same units), or r is too large for the tables (r + 1 > m * 5),
 * the query scans all hashes with the vectorised kernel instead: still exact,
 * and the right answer for large thresholds or hopeless clusters.  The
 * estimate can be wrong; execution counts real candidates and switches to the
 * scan when they pass twice the limit, so the worst case stays bounded.
 *
 * Reporting each match once.  A match x may be a candidate in several tables
 * (a near-duplicate of the query is, in nearly all of them).  The matches
 * of a query go through a small open-addressing set of slots, sized to the
 * matches and kept per thread, so each is reported once.  (The set replaced
 * a rule that kept a match only from the first table that could have found
 * it, recomputed from x's bits for every match: on clustered data, where a
 * query has hundreds of matches each found in a dozen tables, the set is
 * 15-20% faster.)  Queries on a shared index need no locks.
 *
 * Several queries (dihedral variants): each is planned; if the sum of their
 * costs beats one multi-query scan they go through the tables, else a single
 * pass over the hashes checks all of them per hash (memory is read once).
 * Identical variants (symmetric pictures) are queried once.  Through the
 * tables, queries that have the same key in a table probe its buckets once
 * (run_shared): the tables are keyed by DCT parity class (pdq_index.c), and
 * the variants of a real photo agree on about a third of their keys, so an
 * 8-variant query reads about 0.6 of the buckets and candidates of 8 single
 * ones.  Each probe carries the set of queries that asked for it, and each
 * candidate is checked against those queries in one read of its hash.
 * Queries that share no key at all (unrelated hashes) run one after the
 * other, without that bookkeeping.  Results keep the smallest distance per
 * id, and the first variant among equals.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "common/grow.h"
#include "match/match_internal.h"

/* A scan costs about this share of a random probe or candidate per hash:
 * sequential 32-byte reads against cache-missing random ones. */
#define SCAN_DIVISOR 6
#define PROBE_AHEAD 16

void vigil__pdq_index_tune(vigil_pdq_index *ix, const vigil__qtune *t) {
  if (ix && t) ix->tune = *t;
}

vigil__qtune vigil__pdq_index_tuning(const vigil_pdq_index *ix) { return ix ? ix->tune : vigil__qtune_default(); }

typedef struct hits {
  vigil_pdq_hit *v;
  size_t n, cap;
} hits;

static int hits_push(hits *h, uint64_t slot, int d, int var) {
  if (h->n == h->cap && vigil__grow_from((void **)&h->v, &h->cap, h->n + 1, sizeof *h->v, 64)) return VIGIL_ENOMEM;
  h->v[h->n].id = slot;
  h->v[h->n].distance = d;
  h->v[h->n].variant = var;
  h->n++;
  return VIGIL_OK;
}

typedef struct plan {
  uint32_t key[VIGIL__MIH_MAXTABLES];
  int t[VIGIL__MIH_MAXTABLES];
  double est;
  bool scan;
} plan;


/* C(b, k) for b <= 21, k <= 4: the number of keys in ring k. */
static const double ring_size[VIGIL__MIH_MAXBITS + 1][VIGIL__MIH_TMAX + 1] = {
#define R(b) {1, b, b * (b - 1) / 2.0, b * (b - 1) * (b - 2) / 6.0, b * (b - 1) * (b - 2) * (b - 3) / 24.0}
    R(0),  R(1),  R(2),  R(3),  R(4),  R(5),  R(6),  R(7),  R(8),  R(9),  R(10),
    R(11), R(12), R(13), R(14), R(15), R(16), R(17), R(18), R(19), R(20), R(21),
#undef R
};

static double scan_cost(size_t n) { return (double)n / SCAN_DIVISOR; }

/* prior[0..nprior): plans already made for other queries of the same call.
 * Where one of them has q's key in a table, the rings it probes there are
 * free for q (run_shared probes each bucket once), so the greedy takes
 * them first and spends fewer units elsewhere. */
static void make_plan(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int r, const plan *prior, int nprior,
                      plan *p) {
  memset(p, 0, sizeof *p);
  int m = ix->m, b = ix->bits;
  if (ix->tune.strategy == 1 || m == 0 || r + 1 > m * (VIGIL__MIH_TMAX + 1)) {
    p->scan = true;
    return;
  }
  uint64_t w[4];
  vigil__key_words(q, w);
  double dens[VIGIL__MIH_MAXTABLES], ring0[VIGIL__MIH_MAXTABLES], ring1[VIGIL__MIH_MAXTABLES];
  for (int i = 0; i < m; i++) {
    uint32_t k = vigil__key(w, ix->koff[i], b);
    p->key[i] = k;
    const uint64_t *hdr = ix->t[i].hdr;
    __builtin_prefetch(&hdr[k]);
    for (int j = 0; j < b; j++) __builtin_prefetch(&hdr[k ^ (1u << j)]);
  }
  for (int i = 0; i < m; i++) {
    const uint64_t *hdr = ix->t[i].hdr;
    uint32_t k = p->key[i];
    double r1 = 0;
    for (int j = 0; j < b; j++) r1 += vigil__hdr_len(hdr[k ^ (1u << j)]);
    ring0[i] = vigil__hdr_len(hdr[k]);
    ring1[i] = r1;
    dens[i] = (ring0[i] + r1) / (b + 1);
    p->t[i] = -1;
  }
  int free_t[VIGIL__MIH_MAXTABLES];
  for (int i = 0; i < m; i++) {
    free_t[i] = -1;
    for (int v = 0; v < nprior; v++)
      if (!prior[v].scan && prior[v].key[i] == p->key[i] && prior[v].t[i] > free_t[i]) free_t[i] = prior[v].t[i];
  }
  /* Greedy: r + 1 units, each to the cheapest next ring (each table's next
   * ring cost kept, recomputed only for the table that took the unit). */
  double next[VIGIL__MIH_MAXTABLES];
  for (int i = 0; i < m; i++) next[i] = free_t[i] >= 0 ? 0 : ix->tune.probe_cost + ring0[i];
  double est = 0;
  for (int u = 0; u <= r; u++) {
    int best = -1;
    for (int i = 0; i < m; i++)
      if (p->t[i] < VIGIL__MIH_TMAX && (best < 0 || next[i] < next[best])) best = i;
    /* some table is below TMAX: r + 1 <= m * (TMAX + 1) */
    est += next[best];
    int k = ++p->t[best] + 1; /* its next ring */
    if (k <= free_t[best]) next[best] = 0;
    else if (k == 1) next[best] = b * ix->tune.probe_cost + ring1[best];
    else if (k <= VIGIL__MIH_TMAX) next[best] = ring_size[b][k] * (ix->tune.probe_cost + dens[best]);
  }
  p->est = est;
  p->scan = ix->tune.strategy < 2 && est > scan_cost(ix->n);
}

/* All keys within radius t of key in b bits, ring by ring. */
static size_t ball(uint32_t key, int b, int t, uint32_t *out) {
  size_t n = 0;
  out[n++] = key;
  for (int k = 1; k <= t; k++) {
    uint32_t mask = (1u << k) - 1, lim = 1u << b;
    while (mask < lim) {
      out[n++] = key ^ mask;
      uint32_t c = mask & (0u - mask), rr = mask + c;
      mask = (((rr ^ mask) >> 2) / c) | rr; /* next mask with k bits (Gosper) */
    }
  }
  return n;
}


/* Per-thread working memory, kept between queries (so a query allocates
 * nothing in the common case) and freed when the thread exits. */
typedef struct scratch {
  uint32_t *probe; /* bucket keys to read, all tables */
  uint8_t *ptab;   /* their table */
  uint64_t *phdr;  /* their headers, read in pass 1 */
  size_t probe_cap;
  uint32_t *cand; /* candidate slots */
  uint32_t *hk;
  uint16_t *hd;
  size_t cand_cap;
  uint32_t *seen; /* open-addressing set of the slots already reported */
  size_t seen_cap, seen_mask;
  int seen_shift; /* 64 - log2 of the cells in use */
  uint8_t *hv;    /* verify_masked's queries */
  uint8_t *pmask; /* per probe and per candidate: the queries that asked (run_shared) */
  uint8_t *cmask;
  size_t hv_cap, pmask_cap;
  uint32_t *seen_idx; /* for each cell of seen: the hit it holds */
} scratch;

#define GROW(arr, cap)                                               \
  do {                                                               \
    void *np_ = vigil__reallocarray((arr), (cap), sizeof *(arr));    \
    if (!np_) return VIGIL_ENOMEM;                                   \
    (arr) = np_;                                                     \
  } while (0)

static int reserve_probes(scratch *s, size_t n) {
  if (n <= s->probe_cap) return VIGIL_OK;
  size_t nc = s->probe_cap ? s->probe_cap : 4096;
  while (nc < n) nc *= 2;
  GROW(s->probe, nc);
  GROW(s->ptab, nc);
  GROW(s->phdr, nc);
  s->probe_cap = nc;
  return VIGIL_OK;
}

static int reserve(scratch *s, size_t n) {
  if (n <= s->cand_cap) return VIGIL_OK;
  size_t nc = s->cand_cap ? s->cand_cap : 4096;
  while (nc < n) nc *= 2;
  GROW(s->cand, nc);
  GROW(s->hk, nc);
  GROW(s->hd, nc);
  s->cand_cap = nc;
  return VIGIL_OK;
}

/* An empty set for up to n slots (load at most 1/2). */
static int seen_reset(scratch *s, size_t n) {
  size_t cap = 64;
  while (cap < 2 * n) cap *= 2;
  if (cap > s->seen_cap) {
    uint32_t *p = vigil__reallocarray(s->seen, cap, sizeof *p);
    if (!p) return VIGIL_ENOMEM;
    s->seen = p;
    p = vigil__reallocarray(s->seen_idx, cap, sizeof *p);
    if (!p) return VIGIL_ENOMEM;
    s->seen_idx = p;
    s->seen_cap = cap;
  }
  memset(s->seen, 0xff, cap * sizeof *s->seen);
  s->seen_mask = cap - 1;
  s->seen_shift = 64 - __builtin_ctzll((unsigned long long)cap);
  return VIGIL_OK;
}

/* The cell of slot, or the empty cell where it would go. */
static inline size_t seen_find(const scratch *s, uint32_t slot) {
  size_t i = (size_t)((slot * 0x9E3779B97F4A7C15ull) >> s->seen_shift); /* the product's top bits */
  while (s->seen[i] != VIGIL__NONE && s->seen[i] != slot) i = (i + 1) & s->seen_mask;
  return i;
}

/* Adds slot; false when it was there already. */
static inline bool seen_add(scratch *s, uint32_t slot) {
  size_t i = seen_find(s, slot);
  if (s->seen[i] != VIGIL__NONE) return false;
  s->seen[i] = slot;
  return true;
}

/* Room for n candidates' masks and queries, and np probes' masks. */
static int reserve_masks(scratch *s, size_t n, size_t np) {
  if (n > s->hv_cap) {
    size_t nc = s->hv_cap ? s->hv_cap : 4096;
    while (nc < n) nc *= 2;
    GROW(s->hv, nc);
    GROW(s->cmask, nc);
    s->hv_cap = nc;
  }
  if (np > s->pmask_cap) {
    size_t nc = s->pmask_cap ? s->pmask_cap : 4096;
    while (nc < np) nc *= 2;
    GROW(s->pmask, nc);
    s->pmask_cap = nc;
  }
  return VIGIL_OK;
}

static void scratch_free(void *p) {
  scratch *s = p;
  if (!s) return;
  free(s->probe);
  free(s->ptab);
  free(s->phdr);
  free(s->cand);
  free(s->hk);
  free(s->hd);
  free(s->seen);
  free(s->hv);
  free(s->pmask);
  free(s->cmask);
  free(s->seen_idx);
  free(s);
}

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_init(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0; }

/* The calling thread's scratch; *owned tells the caller to free it itself
 * (only when thread-specific storage is unavailable). */
static scratch *scratch_get(bool *owned) {
  pthread_once(&scratch_once, scratch_init);
  *owned = false;
  scratch *s = scratch_key_ok ? pthread_getspecific(scratch_key) : NULL;
  if (s) return s;
  s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (scratch_key_ok && pthread_setspecific(scratch_key, s) == 0) return s;
  *owned = true;
  return s;
}

/* Passes 1 and 2 over the probes probe[0..np) (table ptab[j]): bucket
 * headers, then the slot numbers of their buckets into s->cand, in one
 * stream over all tables so that prefetching stays ahead across table
 * boundaries.  Returns 1 (gathering nothing) when the candidates would
 * exceed budget: the caller scans. */
static int gather(const vigil_pdq_index *ix, size_t np, size_t budget, bool masks, scratch *s, size_t *ncand) {
  const uint32_t *probe = s->probe;
  const uint8_t *ptab = s->ptab;
  uint64_t *phdr = s->phdr;
  size_t total = 0;
  for (size_t j = 0; j < np; j++) {
    if (j + PROBE_AHEAD < np) __builtin_prefetch(&ix->t[ptab[j + PROBE_AHEAD]].hdr[probe[j + PROBE_AHEAD]]);
    phdr[j] = ix->t[ptab[j]].hdr[probe[j]];
    total += vigil__hdr_len(phdr[j]);
  }
  if (total + np > budget) return 1;
  if (reserve(s, total) || (masks && reserve_masks(s, total, np))) return VIGIL_ENOMEM;
  uint32_t *cand = s->cand;
  size_t c = 0;
  for (size_t j = 0; j < np; j++) {
    if (j + PROBE_AHEAD < np)
      __builtin_prefetch(&ix->t[ptab[j + PROBE_AHEAD]].pool[vigil__hdr_off(phdr[j + PROBE_AHEAD])]);
    const uint32_t *blk = ix->t[ptab[j]].pool + vigil__hdr_off(phdr[j]);
    uint32_t len = vigil__hdr_len(phdr[j]);
    if (masks && len) memset(s->cmask + c, s->pmask[j], len);
    for (uint32_t z = 0; z < len; z++) cand[c++] = blk[z];
  }
  if (ix->tune.stats) {
    ix->tune.stats->probes += np;
    ix->tune.stats->candidates += c;
  }
  *ncand = c;
  return VIGIL_OK;
}

/* The probes of ball(key, t) in table i, appended at *np. */
static void add_ball(scratch *s, int i, uint32_t key, int b, int t, size_t *np) {
  size_t k = ball(key, b, t, s->probe + *np);
  memset(s->ptab + *np, i, k);
  *np += k;
}

/* Room for the probes of every plan in pl[0..nq). */
static int reserve_plans(scratch *s, const vigil_pdq_index *ix, const plan *pl, int nq) {
  size_t need = 0;
  for (int u = 0; u < nq; u++)
    for (int i = 0; i < ix->m; i++)
      for (int k = 0; k <= pl[u].t[i]; k++) need += (size_t)ring_size[ix->bits][k];
  return reserve_probes(s, need);
}

/* Runs one plan through the tables.  Returns 1 (adding nothing) when the
 * candidates exceed the budget: the caller scans. */
static int run_plan(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int r, int var, const plan *p,
                    scratch *s, hits *out, const vigil__kernels *kern) {
  size_t budget = ix->tune.strategy >= 2 ? SIZE_MAX : (size_t)(2 * scan_cost(ix->n)) + 1024;
  if (reserve_plans(s, ix, p, 1)) return VIGIL_ENOMEM;
  size_t np = 0, c;
  for (int i = 0; i < ix->m; i++)
    if (p->t[i] >= 0) add_ball(s, i, p->key[i], ix->bits, p->t[i], &np);
  int rc = gather(ix, np, budget, false, s, &c);
  if (rc) return rc;
  /* Pass 3: verify.  A match near the query is a candidate in several
   * tables; a small set of the slots reported so far keeps one of each. */
  size_t nh = kern->verify(ix->hashes, s->cand, c, q, r, s->hk, s->hd);
  if (nh == 0) return VIGIL_OK;
  if (seen_reset(s, nh)) return VIGIL_ENOMEM;
  for (size_t j = 0; j < nh; j++) {
    uint32_t slot = s->cand[s->hk[j]];
    if (seen_add(s, slot) && hits_push(out, slot, s->hd[j], var)) return VIGIL_ENOMEM;
  }
  return VIGIL_OK;
}

/* Whether two of the queries have the same key in some table they probe. */
static bool shares_keys(const vigil_pdq_index *ix, const plan *pl, int nq) {
  for (int i = 0; i < ix->m; i++)
    for (int u = 1; u < nq; u++)
      for (int v = 0; v < u; v++)
        if (pl[u].t[i] >= 0 && pl[v].t[i] >= 0 && pl[u].key[i] == pl[v].key[i]) return true;
  return false;
}

/* Up to 8 queries through the tables at once.  Queries whose key in a
 * table is the same - dihedral variants often agree, class by class
 * (vigil__key_words) - share that table's probes, at the largest radius any
 * of them planned there, which still covers each one's own plan; each probe
 * carries the set of queries that asked for it, and a candidate is checked
 * against those, in one read of its hash.  Returns 1 (adding nothing) past
 * the budget. */
static int run_shared(const vigil_pdq_index *ix, const vigil_pdq_hash *qs, const int *vars, int nq, int r,
                      const plan *pl, scratch *s, hits *out, const vigil__kernels *kern) {
  size_t budget = ix->tune.strategy >= 2 ? SIZE_MAX : (size_t)(2 * nq * scan_cost(ix->n)) + 1024;
  if (reserve_plans(s, ix, pl, nq) || reserve_masks(s, 0, s->probe_cap)) return VIGIL_ENOMEM;
  size_t np = 0, c;
  for (int i = 0; i < ix->m; i++)
    for (int u = 0; u < nq; u++) {
      if (pl[u].t[i] < 0) continue;
      uint32_t key = pl[u].key[i];
      bool done = false;
      for (int v = 0; v < u && !done; v++) done = pl[v].t[i] >= 0 && pl[v].key[i] == key;
      if (done) continue; /* probed with an earlier query's */
      int t = pl[u].t[i];
      unsigned mask = 1u << u;
      for (int v = u + 1; v < nq; v++)
        if (pl[v].t[i] >= 0 && pl[v].key[i] == key) {
          mask |= 1u << v;
          if (pl[v].t[i] > t) t = pl[v].t[i];
        }
      size_t from = np;
      add_ball(s, i, key, ix->bits, t, &np);
      memset(s->pmask + from, (int)mask, np - from);
    }
  int rc = gather(ix, np, budget, true, s, &c);
  if (rc) return rc;
  size_t nh = kern->verify_masked(ix->hashes, s->cand, s->cmask, c, qs, nq, r, s->hk, s->hd, s->hv);
  if (nh == 0) return VIGIL_OK;
  if (seen_reset(s, nh)) return VIGIL_ENOMEM;
  /* A slot met again through other queries' buckets keeps its smallest
   * distance, and the first query among equals. */
  for (size_t j = 0; j < nh; j++) {
    uint32_t slot = s->cand[s->hk[j]];
    int d = s->hd[j], var = vars[s->hv[j]];
    size_t cell = seen_find(s, slot);
    if (s->seen[cell] == VIGIL__NONE) {
      s->seen[cell] = slot;
      s->seen_idx[cell] = (uint32_t)out->n;
      if (hits_push(out, slot, d, var)) return VIGIL_ENOMEM;
      continue;
    }
    vigil_pdq_hit *o = &out->v[s->seen_idx[cell]];
    if (d < o->distance || (d == o->distance && var < o->variant)) {
      o->distance = d;
      o->variant = var;
    }
  }
  return VIGIL_OK;
}

static int scan_all(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int r, int var, scratch *s, hits *out,
                    const vigil__kernels *kern) {
  if (reserve(s, VIGIL__SCAN_CHUNK)) return VIGIL_ENOMEM;
  for (size_t base = 0; base < ix->n; base += VIGIL__SCAN_CHUNK) {
    size_t len = ix->n - base < VIGIL__SCAN_CHUNK ? ix->n - base : VIGIL__SCAN_CHUNK;
    size_t nh = kern->scan(ix->hashes + base, len, q, r, s->hk, s->hd);
    for (size_t j = 0; j < nh; j++)
      if (hits_push(out, base + s->hk[j], s->hd[j], var)) return VIGIL_ENOMEM;
  }
  return VIGIL_OK;
}

static int scan_multi_all(const vigil_pdq_index *ix, const vigil_pdq_hash *qs, const int *vars, int nq, int r,
                          scratch *s, hits *out, const vigil__kernels *kern) {
  if (reserve(s, VIGIL__SCAN_CHUNK)) return VIGIL_ENOMEM;
  uint8_t *hv = malloc(VIGIL__SCAN_CHUNK);
  if (!hv) return VIGIL_ENOMEM;
  int rc = VIGIL_OK;
  for (int g = 0; g < nq && !rc; g += 8) {
    int gn = nq - g < 8 ? nq - g : 8;
    for (size_t base = 0; base < ix->n && !rc; base += VIGIL__SCAN_CHUNK) {
      size_t len = ix->n - base < VIGIL__SCAN_CHUNK ? ix->n - base : VIGIL__SCAN_CHUNK;
      size_t nh = kern->scan_multi(ix->hashes + base, len, qs + g, gn, r, s->hk, s->hd, hv);
      for (size_t j = 0; j < nh && !rc; j++) rc = hits_push(out, base + s->hk[j], s->hd[j], vars[g + hv[j]]);
    }
  }
  free(hv);
  return rc;
}

static int by_dist_id(const void *a, const void *b) {
  const vigil_pdq_hit *x = a, *y = b;
  if (x->distance != y->distance) return x->distance < y->distance ? -1 : 1;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return (x->variant > y->variant) - (x->variant < y->variant);
}

static int by_slot_dist_var(const void *a, const void *b) {
  const vigil_pdq_hit *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  if (x->distance != y->distance) return x->distance < y->distance ? -1 : 1;
  return (x->variant > y->variant) - (x->variant < y->variant);
}

/* Slots to ids (deduplicated when several queries ran), sorted. */
static void finish(const vigil_pdq_index *ix, hits *h, bool dedup, vigil_pdq_hit **out, size_t *nout) {
  if (dedup && h->n > 1) {
    qsort(h->v, h->n, sizeof *h->v, by_slot_dist_var);
    size_t w = 0;
    for (size_t i = 0; i < h->n; i++)
      if (w == 0 || h->v[w - 1].id != h->v[i].id) h->v[w++] = h->v[i];
    h->n = w;
  }
  for (size_t i = 0; i < h->n; i++) h->v[i].id = ix->ids[h->v[i].id];
  if (h->n > 1) qsort(h->v, h->n, sizeof *h->v, by_dist_id);
  if (h->n == 0) {
    free(h->v);
    h->v = NULL;
  }
  *out = h->v;
  *nout = h->n;
}

int vigil_pdq_index_query_multi(const vigil_pdq_index *ix, const vigil_pdq_hash *qs, int nq, int threshold,
                                vigil_pdq_hit **out, size_t *nout, vigil_error *err) {
  if (out) *out = NULL;
  if (nout) *nout = 0;
  if (!ix || !qs || !out || !nout) return vigil__seterr(err, VIGIL_EINVAL, "pdq query: NULL argument");
  if (nq < 1 || nq > 64) return vigil__seterr(err, VIGIL_EINVAL, "pdq query: %d queries (1..64 allowed)", nq);
  if (threshold < 0 || threshold > 256)
    return vigil__seterr(err, VIGIL_EINVAL, "pdq query: threshold %d outside 0..256", threshold);
  if (ix->n == 0) return VIGIL_OK;
  const vigil__kernels *kern = vigil__kernels_get();

  /* Distinct queries only, remembering which variant each one was. */
  vigil_pdq_hash uq[64];
  int uvar[64], nu = 0;
  for (int v = 0; v < nq; v++) {
    int dup = 0;
    for (int u = 0; u < nu && !dup; u++) dup = !memcmp(&uq[u], &qs[v], sizeof uq[u]);
    if (!dup) {
      uq[nu] = qs[v];
      uvar[nu++] = v;
    }
  }

  bool owned;
  scratch *s = scratch_get(&owned);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "pdq query: out of memory");
  hits h = {0};
  plan pl[64];
  double est = 0;
  bool scan = false;
  for (int u = 0; u < nu; u++) {
    make_plan(ix, &uq[u], threshold, pl + (u & ~7), u & 7, &pl[u]); /* priors: its group of 8 (run_shared) */
    scan = scan || pl[u].scan;
    est += pl[u].est;
  }
  /* A multi-query scan reads memory once; allow the index up to that. */
  if (nu > 1 && ix->tune.strategy < 2 && est > 2 * scan_cost(ix->n)) scan = true;
  if (nu > 1 && ix->tune.strategy >= 2) scan = false;
  int rc = VIGIL_OK;
  if (!scan) {
    if (nu == 1 && pl[0].scan) { /* forced index with a plan that cannot use it */
      rc = scan_all(ix, &uq[0], threshold, uvar[0], s, &h, kern);
    } else if (nu > 1 && ix->tune.strategy >= 2 && pl[0].scan) {
      scan = true; /* likewise (every plan is alike in that) */
    } else {
      /* Groups of 8 (a probe's mask holds 8 queries); a group that shares
       * no key runs its queries one by one, without the masks' upkeep. */
      for (int g = 0; g < nu && rc == VIGIL_OK; g += 8) {
        int gn = nu - g < 8 ? nu - g : 8;
        if (gn > 1 && shares_keys(ix, pl + g, gn)) {
          rc = run_shared(ix, uq + g, uvar + g, gn, threshold, pl + g, s, &h, kern);
        } else {
          for (int u = g; u < g + gn && rc == VIGIL_OK; u++)
            rc = run_plan(ix, &uq[u], threshold, uvar[u], &pl[u], s, &h, kern);
        }
      }
      if (rc == 1) {
        h.n = 0;
        scan = true;
        rc = VIGIL_OK;
      }
    }
  }
  if (ix->tune.stats) {
    ix->tune.stats->queries++;
    ix->tune.stats->scans += scan;
  }
  if (scan && rc == VIGIL_OK) {
    h.n = 0;
    rc = nu == 1 ? scan_all(ix, &uq[0], threshold, uvar[0], s, &h, kern)
                 : scan_multi_all(ix, uq, uvar, nu, threshold, s, &h, kern);
  }
  if (owned) scratch_free(s);
  if (rc) {
    free(h.v);
    return vigil__seterr(err, VIGIL_ENOMEM, "pdq query: out of memory");
  }
  finish(ix, &h, nu > 1, out, nout);
  return VIGIL_OK;
}

int vigil_pdq_index_query(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int threshold, vigil_pdq_hit **hits,
                          size_t *nhits, vigil_error *err) {
  return vigil_pdq_index_query_multi(ix, q, 1, threshold, hits, nhits, err);
}
