/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_bank_video.c - known videos in a bank: what the store costs over
 * the bare vPDQ index, in one run.
 *
 *   bench_bank_video [--videos N] [--frames F] [--queries Q] [--db PATH] [--smoke]
 *
 * N videos of F frame hashes (one per second; runs of similar frames, a
 * new scene one second in eight) are imported into a SQLite bank as JSON
 * Lines in batches of 500, then:
 *
 *   load    vigil_bank_matcher_open (read every vpdq entry from the store,
 *           decode its frames, build the index) against
 *           vigil_vpdq_index_add_many of the same frames already in memory;
 *   query   vigil_bank_match_video of a 10-minute query holding a copied
 *           minute of one bank video, against vigil_vpdq_index_query on the
 *           in-memory index (the difference is fetching the hit's entry);
 *   remove  one removal and the matcher sync that applies it.
 *
 * Reported: times, the two ratios, import rate, store bytes per frame.
 * Every answer is checked: both paths find the copied video with the same
 * percentages and segment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vigil/bank.h"

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const vigil_error *err) {
  fprintf(stderr, "bench_bank_video: %s: %s\n", what, err ? err->message : "failed");
  exit(1);
}

int main(int argc, char **argv) {
  size_t nv = 5000, nf = 200;
  int queries = 20;
  const char *db = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) nv = 50, nf = 100, queries = 2;
    else if (!strcmp(argv[i], "--videos") && i + 1 < argc) nv = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--frames") && i + 1 < argc) nf = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--queries") && i + 1 < argc) queries = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--db") && i + 1 < argc) db = argv[++i];
    else {
      fprintf(stderr, "usage: bench_bank_video [--videos N] [--frames F] [--queries Q] [--db PATH] [--smoke]\n");
      return 2;
    }
  }
  if (nv < 2 || nf < 80 || queries < 1) {
    fprintf(stderr, "bench_bank_video: at least 2 videos of 80 frames and one query\n");
    return 2;
  }
  char path[256];
  if (!db) {
    snprintf(path, sizeof path, "/tmp/bench_bank_video_%d.db", (int)getpid());
    db = path;
  }
  unlink(db);

  /* the frames, kept for the in-memory side */
  vigil_video_frame *all = calloc(nv * nf, sizeof *all);
  vigil_vpdq_video *vids = calloc(nv, sizeof *vids);
  FILE *jl = tmpfile();
  if (!all || !vids || !jl) die("setup", NULL);
  for (size_t v = 0; v < nv; v++) {
    vigil_pdq_hash cur;
    for (int k = 0; k < 32; k++) cur.bytes[k] = (uint8_t)rnd();
    fprintf(jl, "{\"signal_type\":\"vpdq\",\"external_id\":\"v%zu\",\"frames\":[", v);
    for (size_t i = 0; i < nf; i++) {
      if (rnd() % 8 == 0)
        for (int k = 0; k < 32; k++) cur.bytes[k] = (uint8_t)rnd();
      vigil_video_frame *f = &all[v * nf + i];
      f->hash = cur;
      for (int b = 0; b < 6; b++) {
        unsigned x = (unsigned)(rnd() % 256);
        f->hash.bytes[x / 8] ^= (uint8_t)(1u << (x % 8));
      }
      f->quality = 90;
      f->frame_number = (int64_t)i * 30;
      f->timestamp = (double)i;
      char hex[65];
      vigil_pdq_to_hex(&f->hash, hex);
      fprintf(jl, "%s[%lld,90,\"%s\",%zu]", i ? "," : "", (long long)f->frame_number, hex, i);
    }
    fputs("]}\n", jl);
  }
  rewind(jl);

  vigil_error err;
  vigil_bank_store *st;
  if (vigil_bank_store_open(&st, db, &err) || vigil_bank_create(st, "b", NULL, &err)) die("store", &err);
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  o.format = VIGIL_BANK_FMT_JSONL;
  o.batch = 500;
  vigil_bank_import_report rep;
  double t0 = now();
  if (vigil_bank_import(st, "b", jl, &o, &rep, &err)) die("import", &err);
  double t_import = now() - t0;
  fclose(jl);
  if (rep.added != nv) die("import: not every video added", NULL);
  vigil_bank_import_report_free(&rep);
  /* entry ids follow identity order within a batch: map them back by external id */
  vigil_bank_matcher *m;
  t0 = now();
  if (vigil_bank_matcher_open(&m, st, &err)) die("matcher", &err);
  double t_load = now() - t0;

  vigil_vpdq_index *ix;
  for (size_t v = 0; v < nv; v++) vids[v] = (vigil_vpdq_video){v + 1, &all[v * nf], nf};
  t0 = now();
  if (vigil_vpdq_index_new(&ix, &err) || vigil_vpdq_index_add_many(ix, vids, nv, &err)) die("index", &err);
  double t_build = now() - t0;

  /* the query: 600 s of unrelated footage, seconds 100..159 are seconds 20..79 of video nv/2 */
  size_t qn = 600, target = nv / 2;
  vigil_video_frame *q = calloc(qn, sizeof *q);
  if (!q) die("query", NULL);
  for (size_t i = 0; i < qn; i++) {
    for (int k = 0; k < 32; k++) q[i].hash.bytes[k] = (uint8_t)rnd();
    q[i].quality = 90;
    q[i].timestamp = (double)i;
    q[i].frame_number = (int64_t)i;
  }
  for (size_t i = 0; i < 60; i++) {
    q[100 + i].hash = all[target * nf + 20 + i].hash;
    unsigned x = (unsigned)(rnd() % 256);
    q[100 + i].hash.bytes[x / 8] ^= (uint8_t)(1u << (x % 8));
  }
  double t_bank = 0, t_ix = 0;
  for (int r = 0; r < queries; r++) {
    vigil_bank_video_hit *h;
    size_t nh;
    t0 = now();
    if (vigil_bank_match_video(m, q, qn, NULL, &h, &nh, &err)) die("bank query", &err);
    t_bank += now() - t0;
    vigil_vpdq_result *res;
    size_t nres;
    t0 = now();
    if (vigil_vpdq_index_query(ix, q, qn, NULL, &res, &nres, &err)) die("index query", &err);
    t_ix += now() - t0;
    char want[32];
    snprintf(want, sizeof want, "v%zu", target);
    if (nh < 1 || strcmp(h[0].entry.external_id, want) || nres < 1 || res[0].id != target + 1 ||
        h[0].query_pct != res[0].query_pct || h[0].compared_pct != res[0].compared_pct || h[0].nsegments != 1 ||
        res[0].nsegments != 1 || h[0].segments[0].query_start != 100 || h[0].segments[0].bank_start != 20)
      die("answers differ or miss the copied minute", NULL);
    vigil_bank_video_hits_free(h, nh);
    vigil_vpdq_results_free(res, nres);
  }
  t_bank /= queries;
  t_ix /= queries;

  t0 = now();
  if (vigil_bank_remove_id(st, 1, "bench", &err) || vigil_bank_matcher_sync(m, &err)) die("remove", &err);
  double t_remove = now() - t0;

  struct stat sb;
  char side[300];
  double bytes = stat(db, &sb) == 0 ? (double)sb.st_size : 0;
  snprintf(side, sizeof side, "%s-wal", db); /* not yet checkpointed: part of the store too */
  if (stat(side, &sb) == 0) bytes += (double)sb.st_size;
  size_t frames = nv * nf;
  printf("bank of %zu videos x %zu frames (%zu frame hashes), SQLite %s\n", nv, nf, frames, db);
  printf("  import (JSON Lines, batches of 500): %.2f s, %.0f frames/s; store %.1f bytes/frame\n", t_import,
         (double)frames / t_import, bytes / (double)frames);
  printf("  load: matcher from the store %.3f s, index from memory %.3f s: ratio %.2f\n", t_load, t_build,
         t_load / t_build);
  printf("  query (600 s, %d runs): through the bank %.2f ms, index alone %.2f ms: ratio %.2f\n", queries,
         t_bank * 1e3, t_ix * 1e3, t_bank / t_ix);
  printf("  one removal + sync: %.2f ms; index memory %.1f bytes/frame\n", t_remove * 1e3,
         (double)vigil_vpdq_index_memory(ix) / (double)frames);
  vigil_vpdq_index_free(ix);
  vigil_bank_matcher_free(m);
  vigil_bank_store_close(st);
  free(q);
  free(all);
  free(vids);
  unlink(db);
  snprintf(side, sizeof side, "%s-wal", db);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", db);
  unlink(side);
  return 0;
}
