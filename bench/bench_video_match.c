/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_video_match.c - a video query against a bank of videos: vigil's
 * index against python-threatexchange's approach, in one run.
 *
 *   bench_video_match [--videos N] [--frames F] [--query-seconds S]
 *                     [--queries Q] [--seed S] [--dump DIR] [--index-file PATH] [--smoke]
 *
 * The bank is N videos of F frame hashes (one per second) with the structure
 * of real video: each drifts a few bits a second (runs of similar frames),
 * holds still now and then (identical hashes repeated), a fifth start with
 * one of 20 shared intros, and one frame in 20 is below quality 50.  A query
 * is S seconds at one hash per second: unrelated footage with two copied
 * clips of bank videos in it (4 bits of re-encoding noise per frame, the
 * second sped up 1.25x).
 *
 * vigil: vigil_vpdq_index_query, the full answer (percentages for every
 * bank video with a frame pair within 31, and the aligned segments).  Peer:
 * python-threatexchange's index keeps the unique frame hashes in a faiss
 * IndexBinaryFlat and range-searches each query hash at radius 32 (distance
 * <= 31); the same exhaustive search is timed here in C with the library's
 * vectorised scan kernel (AVX2 or AVX-512 where the CPU has them; no faiss in
 * this process), counting only the search, not
 * the per-video bookkeeping python-threatexchange does after it, so the
 * ratio is if anything in the peer's favour.  Every answer is checked: the
 * matched query hashes per bank video from the exhaustive search must equal
 * vigil's (exact), and both copied clips must come back as segments.
 * Times are CPU time of this thread (one core); build time is wall-clock.
 *
 * The index file (vigil_vpdq_index_save / _load, PATH or $TMPDIR/
 * bench-vpdq-PID.idx, removed at the end): the index is saved, loaded back
 * with the file in the page cache (a restart), and again after the file's
 * pages were dropped from the cache (posix_fadvise DONTNEED: a cold start,
 * read from disk), wall-clock, and the warm load's CPU time against the
 * build's (steadier on a shared machine); the ratio of the build to each
 * load is printed, and every query also runs on the loaded index, whose answers must
 * equal the built one's.
 *
 * faiss itself runs in scripts/bench-faiss-video.py, which starts this
 * program with --dump DIR: the bank (DIR/bank.hashes, 32 bytes a frame, video
 * by video; DIR/bank.quality, one byte a frame), the queries
 * (DIR/queries.hashes, query by query) and vigil's answers and times
 * (DIR/vigil.txt) go to files, so that the peer searches the very same
 * corpus, checks its answer against vigil's video by video and prints the
 * ratio, without re-implementing the generator in Python.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "match/match_internal.h"
#include "vigil/video.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

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

static void flip(vigil_pdq_hash *h, int bits) {
  for (int i = 0; i < bits; i++) {
    int b = (int)(rnd() % 256);
    h->bytes[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
}

static vigil_pdq_hash random_hash(void) {
  vigil_pdq_hash h;
  for (int i = 0; i < 32; i += 8) {
    uint64_t x = rnd();
    memcpy(h.bytes + i, &x, 8);
  }
  return h;
}

/* One bank video's frames. */
static void make_video(vigil_video_frame *f, size_t n, const vigil_pdq_hash *intros) {
  vigil_pdq_hash h = random_hash();
  size_t i = 0;
  if (rnd() % 5 == 0) { /* a shared intro of 10 frames */
    const vigil_pdq_hash *in = &intros[(rnd() % 20) * 10];
    for (; i < 10 && i < n; i++) f[i] = (vigil_video_frame){(int64_t)i, 90, in[i], (double)i};
  }
  for (; i < n; i++) {
    if (rnd() % 4) flip(&h, 2 + (int)(rnd() % 4)); /* else: a still frame, the same hash */
    int q = rnd() % 20 ? 50 + (int)(rnd() % 51) : (int)(rnd() % 50);
    f[i] = (vigil_video_frame){(int64_t)i, q, h, (double)i};
  }
}

typedef struct hv {
  vigil_pdq_hash h;
  uint32_t video;
} hv;

static int cmp_hv(const void *a, const void *b) {
  const hv *x = a, *y = b;
  int c = memcmp(x->h.bytes, y->h.bytes, 32);
  return c ? c : (x->video > y->video) - (x->video < y->video);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* --dump: a file of DIR; NULL (and a message) when it cannot be created. */
static FILE *dump_open(const char *dir, const char *name) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
    fprintf(stderr, "bench_video_match: --dump path too long\n");
    return NULL;
  }
  FILE *f = fopen(path, "wb");
  if (!f) perror(path);
  return f;
}

static int dump_close(FILE *f, const char *name) {
  if (ferror(f) | fclose(f)) { /* both run: the stream is closed either way */
    fprintf(stderr, "bench_video_match: writing %s failed\n", name);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  size_t nv = 10000, nf = 200, qs = 600, nq = 5;
  const char *dump = NULL, *ifile = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) nv = 300, nf = 60, qs = 200, nq = 2;
    else if (!strcmp(argv[i], "--videos") && i + 1 < argc) nv = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--frames") && i + 1 < argc) nf = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--query-seconds") && i + 1 < argc) qs = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--queries") && i + 1 < argc) nq = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) rng_state = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump = argv[++i];
    else if (!strcmp(argv[i], "--index-file") && i + 1 < argc) ifile = argv[++i];
    else {
      fprintf(stderr,
              "usage: bench_video_match [--videos N] [--frames F] [--query-seconds S] [--queries Q]\n"
              "                         [--seed S] [--dump DIR] [--index-file PATH] [--smoke]\n");
      return 2;
    }
  }
  if (nv < 2 || nf < 40 || qs < 3 * nf / 2 + 20 || nq < 1) {
    fprintf(stderr, "bench_video_match: need videos >= 2, frames >= 40, query-seconds >= 1.5 x frames + 20\n");
    return 2;
  }
  vigil_pdq_hash intros[200];
  for (int i = 0; i < 200; i++) { /* 20 intros of 10 drifting frames */
    intros[i] = i % 10 ? intros[i - 1] : random_hash();
    flip(&intros[i], 3);
  }
  vigil_video_frame *bank = malloc(nv * nf * sizeof *bank);
  hv *all = malloc(nv * nf * sizeof *all);
  if (!bank || !all) return fprintf(stderr, "out of memory\n"), 1;
  for (size_t v = 0; v < nv; v++) make_video(bank + v * nf, nf, intros);
  FILE *dq = NULL, *dv = NULL; /* --dump: the queries and vigil's answers, written as they come */
  if (dump) {
    FILE *dh = dump_open(dump, "bank.hashes"), *dl = dump_open(dump, "bank.quality");
    if (dh) {
      for (size_t i = 0; i < nv * nf; i++) fwrite(bank[i].hash.bytes, 1, 32, dh);
      if (dump_close(dh, "bank.hashes")) dh = NULL;
    }
    if (dl) {
      for (size_t i = 0; i < nv * nf; i++) fputc(bank[i].quality, dl);
      if (dump_close(dl, "bank.quality")) dl = NULL;
    }
    dq = dump_open(dump, "queries.hashes");
    dv = dump_open(dump, "vigil.txt");
    if (!dh || !dl || !dq || !dv) return 1;
    fprintf(dv, "videos %zu frames %zu query_seconds %zu queries %zu\n", nv, nf, qs, nq);
  }

  vigil_vpdq_index *ix = NULL;
  vigil_error err = {0};
  double t0 = wall(), c0 = now();
  if (vigil_vpdq_index_new(&ix, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  vigil_vpdq_video *vids = malloc(nv * sizeof *vids);
  if (!vids) return fprintf(stderr, "out of memory\n"), 1;
  for (size_t v = 0; v < nv; v++) vids[v] = (vigil_vpdq_video){v, bank + v * nf, nf};
  if (vigil_vpdq_index_add_many(ix, vids, nv, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  free(vids);
  double build = wall() - t0, cbuild = now() - c0;

  /* the peer's index: unique hashes of quality >= 50 (prepare_vpdq_feature), and hash -> videos */
  size_t na = 0;
  for (size_t i = 0; i < nv * nf; i++)
    if (bank[i].quality >= 50) all[na++] = (hv){bank[i].hash, (uint32_t)(i / nf)};
  qsort(all, na, sizeof *all, cmp_hv);
  vigil_pdq_hash *uniq = malloc(na * sizeof *uniq);
  size_t *ufirst = malloc((na + 1) * sizeof *ufirst);
  size_t nu = 0;
  for (size_t i = 0; i < na; i++)
    if (i == 0 || memcmp(all[i].h.bytes, all[i - 1].h.bytes, 32)) ufirst[nu] = i, uniq[nu++] = all[i].h;
  ufirst[nu] = na;

  printf(
      "bank: %zu videos x %zu frames = %zu frame hashes, %zu unique (%zu of quality >= 50), "
      "index %.1f MB (%.1f bytes per frame hash), built in %.2f s\n",
      nv, nf, vigil_vpdq_index_frames(ix), vigil_vpdq_index_unique(ix), nu, (double)vigil_vpdq_index_memory(ix) / 1e6,
      (double)vigil_vpdq_index_memory(ix) / (double)(nv * nf), build);

  /* the index file: saved, loaded warm (page cache), loaded cold */
  char ipath[4096];
  if (ifile) snprintf(ipath, sizeof ipath, "%s", ifile);
  else {
    const char *t = getenv("TMPDIR");
    snprintf(ipath, sizeof ipath, "%s/bench-vpdq-%ld.idx", t && *t ? t : "/tmp", (long)getpid());
  }
  t0 = wall();
  if (vigil_vpdq_index_save(ix, ipath, NULL, 0, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  double tsave = wall() - t0;
  struct stat sb;
  if (stat(ipath, &sb) != 0) return fprintf(stderr, "%s: cannot stat\n", ipath), 1;
  vigil_vpdq_index *lx = NULL;
  t0 = wall();
  c0 = now();
  if (vigil_vpdq_index_load(&lx, ipath, NULL, NULL, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  double twarm = wall() - t0, cwarm = now() - c0;
  vigil_vpdq_index_free(lx);
  int fd = open(ipath, O_RDONLY);
  int dropped = fd >= 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  if (fd >= 0) close(fd);
  t0 = wall();
  if (vigil_vpdq_index_load(&lx, ipath, NULL, NULL, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  double tcold = wall() - t0;
  printf("index file: %.1f MB (%.1f bytes per frame hash), saved in %.2f s; loaded in %.3f s from the page cache "
         "(build/load %.1fx; CPU time %.3f s against the build's %.2f s: %.1fx), %.3f s %s (build/load %.1fx); "
         "loaded index %.1f MB (%.1f bytes per frame hash, its PDQ part a read-only mapping of the file)\n",
         (double)sb.st_size / 1e6, (double)sb.st_size / (double)(nv * nf), tsave, twarm, build / twarm, cwarm, cbuild,
         cbuild / cwarm, tcold,
         dropped ? "with the file's pages dropped from the cache" : "(the cache could not be dropped)", build / tcold,
         (double)vigil_vpdq_index_memory(lx) / 1e6, (double)vigil_vpdq_index_memory(lx) / (double)(nv * nf));

  vigil_video_frame *q = malloc(qs * sizeof *q);
  uint64_t *pairs = malloc(qs * 64 * sizeof *pairs);
  if (!q || !pairs || !uniq || !ufirst) return fprintf(stderr, "out of memory\n"), 1;
  double tv = 0, tp = 0;
  double *tvq = malloc(nq * sizeof *tvq), *tlq = malloc(nq * sizeof *tlq); /* per query, for the medians */
  if (!tvq || !tlq) return fprintf(stderr, "out of memory\n"), 1;
  const vigil__kernels *kern = vigil__kernels_get();
  static uint32_t hit_i[VIGIL__SCAN_CHUNK];
  static uint16_t hit_d[VIGIL__SCAN_CHUNK];
  int bad = 0;
  size_t cap_pairs = qs * 64;
  for (size_t k = 0; k < nq; k++) {
    /* unrelated footage with two copied clips */
    size_t a = rnd() % nv, b = (a + 1 + rnd() % (nv - 1)) % nv;
    size_t a0 = 10, alen = nf - 20, b0 = 0, blen = (nf - 10) * 4 / 5;
    size_t at = 20, bt = at + alen + 20;
    vigil_pdq_hash u = random_hash();
    for (size_t i = 0; i < qs; i++) {
      vigil_pdq_hash h;
      if (i >= at && i < at + alen) h = bank[a * nf + a0 + (i - at)].hash, flip(&h, 4);
      else if (i >= bt && i < bt + blen) h = bank[b * nf + b0 + (size_t)((double)(i - bt) * 1.25)].hash, flip(&h, 4);
      else flip(&u, 3), h = u;
      q[i] = (vigil_video_frame){(int64_t)i, 90, h, (double)i};
    }
    vigil_vpdq_result *res = NULL;
    size_t nres = 0;
    double s = now();
    if (vigil_vpdq_index_query(ix, q, qs, NULL, &res, &nres, &err)) return fprintf(stderr, "%s\n", err.message), 1;
    tvq[k] = now() - s;
    tv += tvq[k];
    /* the loaded index gives the same answer */
    vigil_vpdq_result *lres = NULL;
    size_t nlres = 0;
    s = now();
    if (vigil_vpdq_index_query(lx, q, qs, NULL, &lres, &nlres, &err)) return fprintf(stderr, "%s\n", err.message), 1;
    tlq[k] = now() - s;
    int same = nlres == nres;
    for (size_t r = 0; same && r < nres; r++)
      same = lres[r].id == res[r].id && lres[r].query_matched == res[r].query_matched &&
             lres[r].compared_matched == res[r].compared_matched && lres[r].nsegments == res[r].nsegments;
    if (!same) printf("query %zu: MISMATCH between the built and the loaded index\n", k), bad = 1;
    vigil_vpdq_results_free(lres, nlres);
    if (dv) {
      for (size_t i = 0; i < qs; i++) fwrite(q[i].hash.bytes, 1, 32, dq);
      fprintf(dv, "query %zu ms %.3f clips %zu %zu\n", k, 1e3 * tvq[k], a, b);
      for (size_t r = 0; r < nres; r++)
        fprintf(dv, "result %zu %llu %zu %zu %zu %zu %zu\n", k, (unsigned long long)res[r].id, res[r].query_matched,
                res[r].query_total, res[r].compared_matched, res[r].compared_total, res[r].nsegments);
    }

    /* the peer: exhaustive range search of each unique query hash */
    size_t np = 0;
    s = now();
    for (size_t i = 0; i < qs; i++) {
      int dup = 0;
      for (size_t j = 0; j < i && !dup; j++) dup = !memcmp(q[j].hash.bytes, q[i].hash.bytes, 32);
      if (dup) continue;
      for (size_t c = 0; c < nu; c += VIGIL__SCAN_CHUNK) {
        size_t len = nu - c < VIGIL__SCAN_CHUNK ? nu - c : VIGIL__SCAN_CHUNK;
        size_t got = kern->scan(uniq + c, len, &q[i].hash, 31, hit_i, hit_d);
        for (size_t g = 0; g < got; g++) {
          if (np == cap_pairs) {
            cap_pairs *= 2;
            uint64_t *np2 = realloc(pairs, cap_pairs * sizeof *pairs);
            if (!np2) return fprintf(stderr, "out of memory\n"), 1;
            pairs = np2;
          }
          pairs[np++] = ((uint64_t)i << 32) | (c + hit_i[g]);
        }
      }
    }
    tp += now() - s;

    /* check: per video, the query hashes the search matched = vigil's count */
    size_t nvp = 0, need = 1;
    for (size_t p = 0; p < np; p++) need += ufirst[(pairs[p] & 0xffffffffu) + 1] - ufirst[pairs[p] & 0xffffffffu];
    uint64_t *vq = malloc(need * sizeof *vq);
    if (!vq) return fprintf(stderr, "out of memory\n"), 1;
    for (size_t p = 0; p < np; p++) {
      size_t qi = pairs[p] >> 32, u2 = pairs[p] & 0xffffffffu;
      for (size_t x = ufirst[u2]; x < ufirst[u2 + 1]; x++) vq[nvp++] = ((uint64_t)all[x].video << 32) | qi;
    }
    qsort(vq, nvp, sizeof *vq, cmp_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < nvp; i++) distinct += i == 0 || vq[i] != vq[i - 1];
    size_t vigil_total = 0;
    int found_a = 0, found_b = 0;
    for (size_t r = 0; r < nres; r++) {
      vigil_total += res[r].query_matched;
      if (res[r].id == a && res[r].nsegments) found_a = 1;
      if (res[r].id == b && res[r].nsegments) found_b = 1;
    }
    if (distinct != vigil_total || !found_a || !found_b) {
      printf("query %zu: MISMATCH: exhaustive %zu (video, query hash) pairs, vigil %zu; clips found %d %d\n", k,
             distinct, vigil_total, found_a, found_b);
      bad = 1;
    }
    free(vq);
    vigil_vpdq_results_free(res, nres);
  }
  printf("query: %zu s at one hash per second, two copied clips (one 1.25x)\n", qs);
  qsort(tvq, nq, sizeof *tvq, cmp_double);
  printf("vigil (full answer, segments included): %8.2f ms per query (median %.2f, %.2f-%.2f)\n",
         1e3 * tv / (double)nq, 1e3 * tvq[nq / 2], 1e3 * tvq[0], 1e3 * tvq[nq - 1]);
  qsort(tlq, nq, sizeof *tlq, cmp_double);
  printf("vigil on the index loaded from its file: median %.2f ms per query (%.2f-%.2f), answers %s\n",
         1e3 * tlq[nq / 2], 1e3 * tlq[0], 1e3 * tlq[nq - 1], bad ? "checked above" : "the same");
  printf("exhaustive range search (faiss IndexBinaryFlat's method, %s kernel, search only): %8.2f ms per query\n",
         kern->name, 1e3 * tp / (double)nq);
  printf("ratio: vigil is %.1fx the exhaustive search; answers %s\n", tp / tv, bad ? "DIFFER" : "identical (exact)");
  if (dv && (dump_close(dq, "queries.hashes") | dump_close(dv, "vigil.txt"))) bad = 1;
  vigil_vpdq_index_free(ix);
  vigil_vpdq_index_free(lx);
  unlink(ipath);
  free(tvq);
  free(tlq);
  free(bank);
  free(all);
  free(uniq);
  free(ufirst);
  free(q);
  free(pairs);
  return bad;
}
