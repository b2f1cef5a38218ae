/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_match.c - speed of the PDQ index against a linear scan, in one run.
 *
 *   bench_match [--n N] [--queries Q] [--threshold R] [--shape random|clustered]
 *               [--seed S] [--smoke]
 *
 * Builds N hashes (default 1M) of two shapes - uniform random, and clustered
 * (skewed per-bit probabilities and clusters of 1..2048 near-duplicates) -
 * and for each prints queries/s of the index, of the exhaustive scan over
 * the same hashes (the library's best vectorised kernel, forced), and their
 * ratio; the cost of an 8-hash query relative to one, for 8 unrelated
 * hashes and (random shape, when ../shared is there) for the dihedral
 * variants of real photos, with the probes, candidates and distinct table
 * keys behind it; build time; bytes per hash; save and load time.  Every index answer on the
 * scanned queries is checked against the scan (recall must print 1.0).
 * Query rates are per second of this thread's CPU time (one core); build,
 * save and load times are wall-clock.
 * Queries: a third fresh hashes, two thirds near-duplicates (0..40 bits) of
 * stored hashes, so that most queries have matches.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "match/match_internal.h"
#include "vigil/match.h"
#include "vigil/media.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* CPU time of this thread: the machine this runs on is often shared, and
 * the question is what one core does; wall-clock time would charge us for
 * other processes' turns. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void rand_hash(vigil_pdq_hash *h) {
  for (int i = 0; i < 32; i += 8) {
    uint64_t r = rnd();
    memcpy(h->bytes + i, &r, 8);
  }
}

static void flip(vigil_pdq_hash *h, int d) {
  for (int i = 0; i < d; i++) {
    int b = (int)(rnd() % 256);
    h->bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
}

static uint8_t bias[256];
static int probe_costs[8] = {-1}; /* --probe-cost (x10): compare planner settings */

static void biased_hash(vigil_pdq_hash *h) {
  memset(h, 0, sizeof *h);
  for (int i = 0; i < 256; i += 8) {
    uint64_t r = rnd();
    for (int j = 0; j < 8; j++)
      if (((r >> (8 * j)) & 255) < bias[i + j]) h->bytes[(i + j) / 8] |= (uint8_t)(1u << ((i + j) % 8));
  }
}

static void make_data(vigil_pdq_hash *h, size_t n, int clustered) {
  if (!clustered) {
    for (size_t i = 0; i < n; i++) rand_hash(&h[i]);
    return;
  }
  for (int i = 0; i < 256; i++) bias[i] = (uint8_t)(40 + rnd() % 177); /* P(1) in 0.16 .. 0.84 */
  size_t k = 0;
  while (k < n) {
    vigil_pdq_hash c;
    biased_hash(&c);
    size_t size = (size_t)1 << (rnd() % 12);
    int spread = (int)(rnd() % 48);
    for (size_t j = 0; j < size && k < n; j++, k++) {
      h[k] = c;
      flip(&h[k], (int)(rnd() % (uint64_t)(spread + 1)));
    }
  }
}

static void make_queries(const vigil_pdq_hash *h, size_t n, int clustered, vigil_pdq_hash *q, int nq) {
  for (int i = 0; i < nq; i++) {
    if (i % 3 == 0) {
      if (clustered) biased_hash(&q[i]);
      else rand_hash(&q[i]);
    } else {
      q[i] = h[rnd() % n];
      flip(&q[i], (int)(rnd() % 41));
    }
  }
}

/* Eight variants per query: the query and seven unrelated hashes of the
 * same shape (the dihedral variants of a photo are as far from each other
 * as unrelated photos). */
static void make_variants(const vigil_pdq_hash *q, int clustered, vigil_pdq_hash *v) {
  v[0] = *q;
  for (int i = 1; i < 8; i++) {
    if (clustered) biased_hash(&v[i]);
    else rand_hash(&v[i]);
  }
}

typedef struct result {
  double qps, scan_qps, multi_qps, scan_multi_qps;
  double hits_per_query;
  long checked, mismatched;
} result;

/* The planner's settings for ix: strategy (0 choose, 1 scan, 2 tables),
 * probe cost, and the counters queries add to (NULL: none). */
static void tune(vigil_pdq_index *ix, int strategy, double probe_cost, vigil__qstats *st) {
  vigil__qtune t = {strategy, probe_cost, st};
  vigil__pdq_index_tune(ix, &t);
}

static double run_queries(const vigil_pdq_index *ix, const vigil_pdq_hash *q, int nq, int r, int multi,
                          int clustered, double *hits) {
  double t0 = now(), nh = 0;
  for (int i = 0; i < nq; i++) {
    vigil_pdq_hit *out;
    size_t k;
    vigil_pdq_hash v[8];
    if (multi) make_variants(&q[i], clustered, v);
    int rc = multi ? vigil_pdq_index_query_multi(ix, v, 8, r, &out, &k, NULL)
                   : vigil_pdq_index_query(ix, &q[i], r, &out, &k, NULL);
    if (rc) {
      fprintf(stderr, "query failed\n");
      exit(1);
    }
    nh += (double)k;
    free(out);
  }
  if (hits) *hits = nh / nq;
  return nq / (now() - t0);
}

/* The 8 dihedral variants of the photos in ../shared/pdq/images, as PDQ
 * derives them (one DCT, flips negating parity classes, transposes): how
 * they relate to each other is what the tables can share, and random
 * variants have no such relation.  Returns how many photos (0 without
 * ../shared). */
#define MAX_PHOTOS 64
static vigil_pdq_hash photo_var[MAX_PHOTOS][8];

static int load_photo_variants(void) {
  static const char *dirs[] = {"bridge-mods", "reg-test-input/dih", "reg-test-input/exif-rotn",
                               "reg-test-input/labelme-subset", "misc-images", "reg-test-input"};
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  o.dihedral = 1;
  int np = 0;
  for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pdq/images/%s", VIGIL_SHARED_DIR, dirs[d]);
    DIR *dp = opendir(dir);
    struct dirent *de;
    while (dp && (de = readdir(dp)) && np < MAX_PHOTOS) {
      if (de->d_name[0] == '.') continue;
      char path[8192];
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      vigil_pdq_result res;
      if (vigil_hash_file(path, &o, &res, NULL, NULL) || res.nhashes != 8 || res.quality < 50) continue;
      memcpy(photo_var[np++], res.hash, sizeof photo_var[0]);
    }
    if (dp) closedir(dp);
  }
  return np;
}

/* One variant alone against all 8, over nq fresh query groups: group i is
 * photo i % np's variants XORed with a random 256-bit mask of its own (keys
 * that agree, or are complements, between variants still do; nothing is
 * cached from one query to the next). */
static void bench_photo_variants(vigil_pdq_index *ix, int nq, int r, const char *name) {
  static int np = -1;
  if (np < 0) np = load_photo_variants();
  if (np == 0) {
    printf("%s: dihedral variants of real photos: skipped (no %s/pdq/images)\n", name, VIGIL_SHARED_DIR);
    return;
  }
  vigil_pdq_hash *g = malloc((size_t)nq * 8 * sizeof *g);
  if (!g) exit(1);
  for (int i = 0; i < nq; i++) {
    vigil_pdq_hash m;
    rand_hash(&m);
    for (int v = 0; v < 8; v++)
      for (int b = 0; b < 32; b++) g[i * 8 + v].bytes[b] = photo_var[i % np][v].bytes[b] ^ m.bytes[b];
  }
  /* How many of the 8 x m (table, key) centres are distinct, per photo:
   * what the tables can share at best (a key equal between variants). */
  size_t distinct = 0, total = 0;
  for (int p = 0; p < np && ix->m; p++) {
    uint32_t key[8][VIGIL__MIH_MAXTABLES];
    for (int v = 0; v < 8; v++) {
      uint64_t w[4];
      vigil__key_words(&photo_var[p][v], w);
      for (int t = 0; t < ix->m; t++) key[v][t] = vigil__key(w, ix->koff[t], ix->bits);
    }
    for (int t = 0; t < ix->m; t++)
      for (int v = 0; v < 8; v++) {
        int seen = 0;
        for (int u = 0; u < v && !seen; u++) seen = key[u][t] == key[v][t];
        distinct += !seen;
        total++;
      }
  }
  vigil__qstats one = {0}, multi = {0};
  tune(ix, 0, VIGIL__PROBE_COST, &one);
  double t0 = now();
  for (int i = 0; i < nq; i++) {
    vigil_pdq_hit *out;
    size_t k;
    if (vigil_pdq_index_query(ix, &g[i * 8], r, &out, &k, NULL)) exit(1);
    free(out);
  }
  double t1 = now();
  tune(ix, 0, VIGIL__PROBE_COST, &multi);
  for (int i = 0; i < nq; i++) {
    vigil_pdq_hit *out;
    size_t k;
    if (vigil_pdq_index_query_multi(ix, &g[i * 8], 8, r, &out, &k, NULL)) exit(1);
    free(out);
  }
  double t2 = now();
  tune(ix, 0, VIGIL__PROBE_COST, NULL);
  printf("%s: dihedral variants of %d real photos (fresh random mask per group): 8-variant query %.0f/s = %.2fx "
         "the cost of one variant (%.0f/s)\n",
         name, np, nq / (t2 - t1), (t2 - t1) / (t1 - t0), nq / (t1 - t0));
  printf("%s:   per query, one variant: %.0f probes, %.0f candidates; 8 variants: %.0f, %.0f (%.2fx, %.2fx); "
         "distinct table keys among a photo's 8 variants: %.0f%%\n",
         name, (double)one.probes / nq, (double)one.candidates / nq, (double)multi.probes / nq,
         (double)multi.candidates / nq, (double)multi.probes / (double)(one.probes ? one.probes : 1),
         (double)multi.candidates / (double)(one.candidates ? one.candidates : 1),
         total ? 100.0 * (double)distinct / (double)total : 0.0);
  free(g);
}

static void bench_shape(int clustered, size_t n, int nq, int nscan, int r, const char *tmp) {
  const char *name = clustered ? "clustered" : "random";
  vigil_pdq_hash *h = malloc(n * sizeof *h);
  uint64_t *ids = malloc(n * sizeof *ids);
  vigil_pdq_hash *q = malloc((size_t)nq * sizeof *q);
  if (!h || !ids || !q) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  make_data(h, n, clustered);
  for (size_t i = 0; i < n; i++) ids[i] = i + 1;
  make_queries(h, n, clustered, q, nq);

  long rss0 = rss_kb();
  double t0 = wall();
  vigil_pdq_index *ix;
  vigil_error e;
  if (vigil_pdq_index_new(&ix, &e) || vigil_pdq_index_add_batch(ix, h, ids, n, &e)) {
    fprintf(stderr, "build: %s\n", e.message);
    exit(1);
  }
  double build = wall() - t0;
  long rss1 = rss_kb();
  size_t mem = vigil_pdq_index_memory(ix);
  printf("%s: n=%zu build %.2f s, index memory %.1f bytes/hash (%.2fx the 32 raw bytes), RSS +%.0f MB\n", name,
         n, build, (double)mem / n, (double)mem / n / 32, (rss1 - rss0) / 1024.0);

  result res;
  memset(&res, 0, sizeof res);
  /* Warm up, then time. */
  run_queries(ix, q, nq < 500 ? nq : 500, r, 0, clustered, NULL);
  for (int si = 0; probe_costs[si] >= 0; si++) {
    vigil__qstats pst = {0};
    tune(ix, 0, probe_costs[si] / 10.0, &pst);
    double t = run_queries(ix, q, nq, r, 0, clustered, NULL);
    printf("%s: probe cost x10 = %d: %.0f queries/s, %.0f probes, %.0f verified\n", name, probe_costs[si], t,
           (double)pst.probes / nq, (double)pst.candidates / nq);
  }
  vigil__qstats st = {0};
  tune(ix, 0, VIGIL__PROBE_COST, &st);
  res.qps = run_queries(ix, q, nq, r, 0, clustered, &res.hits_per_query);
  tune(ix, 0, VIGIL__PROBE_COST, NULL);
  res.multi_qps = run_queries(ix, q, nq / 4 > 0 ? nq / 4 : 1, r, 1, clustered, NULL);
  tune(ix, 1, VIGIL__PROBE_COST, NULL);
  res.scan_qps = run_queries(ix, q, nscan, r, 0, clustered, NULL);
  res.scan_multi_qps = run_queries(ix, q, nscan > 2 ? nscan / 2 : 1, r, 1, clustered, NULL);
  /* Recall: index answers equal the scan's on the scanned queries. */
  for (int i = 0; i < nscan; i++) {
    vigil_pdq_hit *a, *b;
    size_t na, nb;
    tune(ix, 1, VIGIL__PROBE_COST, NULL);
    vigil_pdq_index_query(ix, &q[i], r, &a, &na, NULL);
    tune(ix, 0, VIGIL__PROBE_COST, NULL);
    vigil_pdq_index_query(ix, &q[i], r, &b, &nb, NULL);
    res.checked += (long)na;
    if (na != nb || (na && memcmp(a, b, na * sizeof *a))) res.mismatched++;
    free(a);
    free(b);
  }
  tune(ix, 0, VIGIL__PROBE_COST, NULL);
  printf("%s: threshold %d, %.1f matches/query; recall vs scan %s (%ld matches on %d queries)\n", name, r,
         res.hits_per_query, res.mismatched ? "FAILED" : "1.0", res.checked, nscan);
  printf("%s: per query %.0f bucket probes, %.0f candidates verified, %.1f%% of queries scanned\n", name,
         (double)st.probes / st.queries, (double)st.candidates / st.queries, 100.0 * st.scans / st.queries);
  printf("%s: index %.0f queries/s, linear scan (%s) %.1f queries/s: %.0fx\n", name, res.qps,
         vigil__kernels_get()->name, res.scan_qps, res.qps / res.scan_qps);
  if (!clustered) bench_photo_variants(ix, nq / 4 > 0 ? nq / 4 : 1, r, name);
  printf("%s: 8-variant query %.0f/s = %.2fx the cost of one variant (scan: %.1f/s, %.2fx)\n", name,
         res.multi_qps, res.qps / res.multi_qps, res.scan_multi_qps, res.scan_qps / res.scan_multi_qps);

  char path[4096];
  snprintf(path, sizeof path, "%s/bench-%s.vpi", tmp, name);
  t0 = wall();
  if (vigil_pdq_index_save(ix, path, &e)) {
    fprintf(stderr, "save: %s\n", e.message);
    exit(1);
  }
  double save = wall() - t0;
  vigil_pdq_index_free(ix);
  t0 = wall();
  if (vigil_pdq_index_load(&ix, path, &e)) {
    fprintf(stderr, "load: %s\n", e.message);
    exit(1);
  }
  double load = wall() - t0;
  double lq = run_queries(ix, q, nq < 200 ? nq : 200, r, 0, clustered, NULL);
  printf("%s: save %.2f s, load (mmap + validate) %.2f s, then %.0f queries/s\n", name, save, load, lq);
  vigil_pdq_index_free(ix);
  unlink(path);
  free(h);
  free(ids);
  free(q);
}

int main(int argc, char **argv) {
  size_t n = 1000000;
  int nq = 4000, nscan = 20, r = VIGIL_PDQ_MATCH_THRESHOLD, shape = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) {
      n = 20000;
      nq = 200;
      nscan = 10;
    } else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
      n = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--queries") && i + 1 < argc) {
      nq = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) {
      r = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
      i++;
      shape = !strcmp(argv[i], "random") ? 1 : !strcmp(argv[i], "clustered") ? 2 : 0;
    } else if (!strcmp(argv[i], "--probe-cost") && i + 1 < argc) {
      int k = 0;
      while (probe_costs[k] >= 0 && k < 6) k++;
      probe_costs[k] = atoi(argv[++i]);
      probe_costs[k + 1] = -1;
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      rng_state = strtoull(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "usage: bench_match [--n N] [--queries Q] [--threshold R] [--shape random|clustered]\n"
                      "                   [--probe-cost X10]... [--seed S] [--smoke]\n");
      return 2;
    }
  }
  if (n < 1 || nq < 1 || r < 0 || r > 256) {
    fprintf(stderr, "bench_match: bad arguments\n");
    return 2;
  }
  if (nscan > nq) nscan = nq;
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  printf("bench_match: %zu hashes, %d queries, threshold %d, kernels %s\n", n, nq, r, vigil__kernels_get()->name);
  if (shape != 2) bench_shape(0, n, nq, nscan, r, tmp);
  if (shape != 1) bench_shape(1, n, nq, nscan, r, tmp);
  return 0;
}
