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
 * Reporting each match once.  A match x may be a candidate in several tables.
 * It is reported only from the first table i (in table order) where
 * d_i(x, q) <= t_i, which the verifier checks from x's bits: no per-query
 * "seen" set is needed, so queries on a shared index need no locks and no
 * scratch proportional to n.
 *
 * Several queries (dihedral variants): each is planned; if the sum of their
 * costs beats one multi-query scan they run through the tables one after the
 * other, else a single pass over the hashes checks all of them per hash
 * (memory is read once).  Identical variants (symmetric pictures) are queried
 * once.  Results keep the smallest distance per id.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "match/match_internal.h"

/* A scan costs about this share of a random probe or candidate per hash:
 * sequential 32-byte reads against cache-missing random ones. */
#define SCAN_DIVISOR 6
#define PROBE_AHEAD 16

static int force_strategy; /* test hook: see vigil__force_strategy */

void vigil__force_strategy(int s) { force_strategy = s; }

int vigil__qstats_on;
double vigil__probe_cost = 4.0; /* two dependent misses per probe; measured best in 2..8 */
vigil__qstats vigil__qstat;

typedef struct hits {
  vigil_pdq_hit *v;
  size_t n, cap;
} hits;

static int hits_push(hits *h, uint64_t slot, int d, int var) {
  if (h->n == h->cap) {
    size_t nc = h->cap ? h->cap * 2 : 64;
    vigil_pdq_hit *p = realloc(h->v, nc * sizeof *p);
    if (!p) return VIGIL_ENOMEM;
    h->v = p;
    h->cap = nc;
  }
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

static inline int pop32(uint32_t x) { /* SWAR: no libgcc call on baseline x86-64 */
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  return (int)((((x + (x >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24);
}

/* C(b, k) for b <= 21, k <= 4: the number of keys in ring k. */
static const double ring_size[VIGIL__MIH_MAXBITS + 1][VIGIL__MIH_TMAX + 1] = {
#define R(b) {1, b, b * (b - 1) / 2.0, b * (b - 1) * (b - 2) / 6.0, b * (b - 1) * (b - 2) * (b - 3) / 24.0}
    R(0),  R(1),  R(2),  R(3),  R(4),  R(5),  R(6),  R(7),  R(8),  R(9),  R(10),
    R(11), R(12), R(13), R(14), R(15), R(16), R(17), R(18), R(19), R(20), R(21),
#undef R
};

static double scan_cost(size_t n) { return (double)n / SCAN_DIVISOR; }

static void make_plan(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int r, plan *p) {
  memset(p, 0, sizeof *p);
  int m = ix->m, b = ix->bits;
  if (force_strategy == 1 || m == 0 || r + 1 > m * (VIGIL__MIH_TMAX + 1)) {
    p->scan = true;
    return;
  }
  uint64_t w[4];
  vigil__words(q, w);
  double dens[VIGIL__MIH_MAXTABLES], ring0[VIGIL__MIH_MAXTABLES], ring1[VIGIL__MIH_MAXTABLES];
  for (int i = 0; i < m; i++) {
    uint32_t k = vigil__key(w, i * b, b);
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
  /* Greedy: r + 1 units, each to the cheapest next ring (each table's next
   * ring cost kept, recomputed only for the table that took the unit). */
  double next[VIGIL__MIH_MAXTABLES];
  for (int i = 0; i < m; i++) next[i] = vigil__probe_cost + ring0[i];
  double est = 0;
  for (int u = 0; u <= r; u++) {
    int best = -1;
    for (int i = 0; i < m; i++)
      if (p->t[i] < VIGIL__MIH_TMAX && (best < 0 || next[i] < next[best])) best = i;
    /* some table is below TMAX: r + 1 <= m * (TMAX + 1) */
    est += next[best];
    int k = ++p->t[best] + 1; /* its next ring */
    if (k == 1) next[best] = b * vigil__probe_cost + ring1[best];
    else if (k <= VIGIL__MIH_TMAX) next[best] = ring_size[b][k] * (vigil__probe_cost + dens[best]);
  }
  p->est = est;
  p->scan = force_strategy < 2 && est > scan_cost(ix->n);
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
} scratch;

#define GROW(arr, cap)                                               \
  do {                                                               \
    void *np_ = realloc((arr), (cap) * sizeof *(arr));               \
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

static void scratch_free(void *p) {
  scratch *s = p;
  if (!s) return;
  free(s->probe);
  free(s->ptab);
  free(s->phdr);
  free(s->cand);
  free(s->hk);
  free(s->hd);
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

/* Runs a plan through the tables: every table's probes in one stream, so
 * that prefetching stays ahead across table boundaries.  Returns 1 (adding
 * nothing) when the candidates exceed the budget: the caller scans. */
static int run_plan(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int r, int var, const plan *p,
                    scratch *s, hits *out, const vigil__kernels *kern) {
  int b = ix->bits;
  size_t budget = force_strategy >= 2 ? SIZE_MAX : (size_t)(2 * scan_cost(ix->n)) + 1024;
  size_t need = 0;
  for (int i = 0; i < ix->m; i++)
    for (int k = 0; k <= p->t[i]; k++) need += (size_t)ring_size[b][k];
  if (reserve_probes(s, need)) return VIGIL_ENOMEM;
  /* The probes of table i are probe[pbeg[i] .. pbeg[i + 1]), and their
   * candidates cand[cbeg[i] .. cbeg[i + 1]). */
  size_t pbeg[VIGIL__MIH_MAXTABLES + 1], cbeg[VIGIL__MIH_MAXTABLES + 1];
  uint32_t *probe = s->probe;
  uint8_t *ptab = s->ptab;
  uint64_t *phdr = s->phdr;
  size_t np = 0;
  for (int i = 0; i < ix->m; i++) {
    pbeg[i] = np;
    if (p->t[i] < 0) continue;
    size_t k = ball(p->key[i], b, p->t[i], probe + np);
    memset(ptab + np, i, k);
    np += k;
  }
  pbeg[ix->m] = np;
  /* Pass 1: bucket headers, one stream over all tables so that prefetching
   * stays ahead across table boundaries. */
  size_t total = 0;
  for (size_t j = 0; j < np; j++) {
    if (j + PROBE_AHEAD < np) __builtin_prefetch(&ix->t[ptab[j + PROBE_AHEAD]].hdr[probe[j + PROBE_AHEAD]]);
    phdr[j] = ix->t[ptab[j]].hdr[probe[j]];
    total += vigil__hdr_len(phdr[j]);
  }
  if (total + np > budget) return 1;
  if (reserve(s, total)) return VIGIL_ENOMEM;
  /* Pass 2: gather slot numbers. */
  uint32_t *cand = s->cand;
  size_t c = 0;
  for (int i = 0; i < ix->m; i++) {
    cbeg[i] = c;
    const uint32_t *pool = ix->t[i].pool;
    for (size_t j = pbeg[i]; j < pbeg[i + 1]; j++) {
      if (j + PROBE_AHEAD < np)
        __builtin_prefetch(&ix->t[ptab[j + PROBE_AHEAD]].pool[vigil__hdr_off(phdr[j + PROBE_AHEAD])]);
      const uint32_t *blk = pool + vigil__hdr_off(phdr[j]);
      for (uint32_t z = 0, len = vigil__hdr_len(phdr[j]); z < len; z++) cand[c++] = blk[z];
    }
  }
  cbeg[ix->m] = c;
  if (vigil__qstats_on) {
    vigil__qstat.probes += np;
    vigil__qstat.candidates += c;
  }
  /* Pass 3: verify; a match is kept only from the first table that could
   * have found it, so each is reported once. */
  size_t nh = kern->verify(ix->hashes, cand, c, q, r, s->hk, s->hd);
  int i = 0;
  for (size_t j = 0; j < nh; j++) {
    uint32_t slot = cand[s->hk[j]];
    while (s->hk[j] >= cbeg[i + 1]) i++; /* hits come in candidate order */
    bool earlier = false;
    uint64_t x[4];
    vigil__words(&ix->hashes[slot], x);
    for (int e = 0; e < i && !earlier; e++)
      earlier = p->t[e] >= 0 && pop32(vigil__key(x, e * b, b) ^ p->key[e]) <= p->t[e];
    if (!earlier && hits_push(out, slot, s->hd[j], var)) return VIGIL_ENOMEM;
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
    make_plan(ix, &uq[u], threshold, &pl[u]);
    scan = scan || pl[u].scan;
    est += pl[u].est;
  }
  /* A multi-query scan reads memory once; allow the index up to that. */
  if (nu > 1 && force_strategy < 2 && est > 2 * scan_cost(ix->n)) scan = true;
  if (nu > 1 && force_strategy >= 2) scan = false;
  int rc = VIGIL_OK;
  if (!scan) {
    for (int u = 0; u < nu && rc == VIGIL_OK; u++) {
      if (pl[u].scan) { /* forced index with a plan that cannot use it */
        rc = scan_all(ix, &uq[u], threshold, uvar[u], s, &h, kern);
        continue;
      }
      rc = run_plan(ix, &uq[u], threshold, uvar[u], &pl[u], s, &h, kern);
      if (rc == 1) {
        h.n = 0;
        scan = true;
        rc = VIGIL_OK;
        break;
      }
    }
  }
  if (vigil__qstats_on) {
    vigil__qstat.queries++;
    vigil__qstat.scans += scan;
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
