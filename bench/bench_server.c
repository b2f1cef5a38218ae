/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_server.c - requests/s and latency percentiles of vigil serve, with
 * the client in the same program: C connections (keep-alive), each in its
 * own thread, against the real server on a loopback port.
 *
 * Scenarios: GET /healthz (no key: the HTTP core alone), a reviewer's POST
 * /v1/hash (key check and a 403, no body), GET /v1/cases?limit=1 (key check
 * + an SQLite read), POST /v1/hash with samples/rings.jpg (upload +
 * decode + PDQ + digests).  Baselines measured in the same run: for hash,
 * vigil_hash_memory() called directly on as many threads (the ratio is
 * the share of the library's speed the HTTP path keeps); for the keyed
 * read, /healthz (the ratio is the cost of authentication and SQL).
 *
 * POST /v1/match runs twice: alone, and while a second `vigil serve` node
 * on the same database adds entries to the bank as fast as it can (one
 * client importing 250 entries per request), which this node's index must
 * pick up.
 * Its p99 and p99.9 are the cost a request pays for bank maintenance.
 * With --match-only only those two run (to time an older build side by
 * side: the scenario uses the public API only).
 *
 *   bench_server [--smoke] [--seconds S] [--connections C] [--threads T] [--bank N] [--match-only]
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/support/httpc.c"
#include "vigil/media.h"
#include "vigil/bank.h"
#include "vigil/server.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct worker {
  int port;
  const char *method, *path, *headers;
  const uint8_t *body;
  size_t len;
  double until;
  double *lat; /* seconds, one per request */
  size_t n, cap;
  int errors;
  int (*direct)(struct worker *); /* baseline without HTTP */
  int want;                       /* expected status */
} worker;

static int push(worker *w, double v) {
  if (w->n == w->cap) {
    size_t nc = w->cap ? w->cap * 2 : 4096;
    double *nl = realloc(w->lat, nc * sizeof *nl);
    if (!nl) return -1;
    w->lat = nl;
    w->cap = nc;
  }
  w->lat[w->n++] = v;
  return 0;
}

static void *run_worker(void *arg) {
  worker *w = arg;
  int fd = w->direct ? -1 : tu_http_connect(w->port);
  if (!w->direct && fd < 0) {
    w->errors++;
    return NULL;
  }
  while (now_s() < w->until) {
    double t0 = now_s();
    int ok;
    if (w->direct) ok = w->direct(w) == 0;
    else {
      tu_http_resp r;
      ok = tu_http_request(fd, w->method, w->path, w->headers, w->body, w->len, &r) == 0 && r.status == w->want;
      if (r.closed) {
        close(fd);
        fd = tu_http_connect(w->port);
      }
      tu_http_free(&r);
    }
    if (!ok) w->errors++;
    else if (push(w, now_s() - t0) != 0) break;
  }
  if (fd >= 0) close(fd);
  return NULL;
}

static const char *forbidden_hdr; /* requests with it expect 403 */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int direct_hash(worker *w) {
  vigil_pdq_result r;
  return vigil_hash_memory(w->body, w->len, NULL, &r, NULL, NULL);
}

typedef struct result {
  double rps, p50_ms, p99_ms, p999_ms, max_ms;
  size_t n;
  int errors;
} result;

static result scenario(const char *label, int port, int conns, double secs, const char *method, const char *path,
                       const char *headers, const uint8_t *body, size_t len, int (*direct)(worker *)) {
  worker *w = calloc((size_t)conns, sizeof *w);
  pthread_t *t = calloc((size_t)conns, sizeof *t);
  result res = {0};
  if (!w || !t) {
    free(w);
    free(t);
    res.errors = 1;
    return res;
  }
  double start = now_s();
  for (int i = 0; i < conns; i++) {
    w[i] = (worker){port, method, path, headers, body, len, start + secs, NULL, 0, 0, 0, direct, 200};
    if (headers == forbidden_hdr) w[i].want = 403;
    pthread_create(&t[i], NULL, run_worker, &w[i]);
  }
  size_t total = 0;
  for (int i = 0; i < conns; i++) {
    pthread_join(t[i], NULL);
    total += w[i].n;
    res.errors += w[i].errors;
  }
  double elapsed = now_s() - start;
  double *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < conns; i++) {
    if (all) memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
    k += w[i].n;
    free(w[i].lat);
  }
  if (all && total) {
    qsort(all, total, sizeof *all, cmp_double);
    res.p50_ms = all[total / 2] * 1e3;
    res.p99_ms = all[(size_t)((double)total * 0.99) < total ? (size_t)((double)total * 0.99) : total - 1] * 1e3;
    res.p999_ms = all[(size_t)((double)total * 0.999) < total ? (size_t)((double)total * 0.999) : total - 1] * 1e3;
    res.max_ms = all[total - 1] * 1e3;
  }
  res.n = total;
  res.rps = (double)total / elapsed;
  printf("%-40s %7.0f req/s  p50 %6.3f ms  p99 %6.3f ms  p99.9 %6.3f ms  max %7.3f ms  (%zu requests, %d errors)\n",
         label, res.rps, res.p50_ms, res.p99_ms, res.p999_ms, res.max_ms, total, res.errors);
  free(all);
  free(w);
  free(t);
  return res;
}

/* A bank of n PDQ hashes (random, from a fixed seed), imported through the
 * bank store as an operator would; *probe gets a hash 5 bits from one of
 * them, so a match query finds exactly that entry. */
static int fill_bank(const char *db, long n, char probe[65]) {
  char path[] = "/tmp/vigil-bench-bank-XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) return -1;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  vigil_pdq_hash h;
  for (long i = 0; i < n; i++) {
    for (int k = 0; k < 32; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      h.bytes[k] = (uint8_t)x;
    }
    char hex[65];
    vigil_pdq_to_hex(&h, hex);
    fprintf(f, "pdq %s\n", hex);
  }
  fclose(f);
  for (int k = 0; k < 5; k++) h.bytes[k * 6] ^= 0x10; /* the last one, 5 bits away */
  vigil_pdq_to_hex(&h, probe);
  vigil_bank_store *bs;
  vigil_error e;
  int rc = vigil_bank_store_open(&bs, db, &e);
  if (!rc) rc = vigil_bank_create(bs, "bench", "bench_server", &e);
  FILE *in = rc ? NULL : fopen(path, "r");
  if (in) {
    vigil_bank_import_opts o;
    vigil_bank_import_opts_default(&o);
    o.format = VIGIL_BANK_FMT_TE;
    o.batch = 100000;
    vigil_bank_import_report rep;
    rc = vigil_bank_import(bs, "bench", in, &o, &rep, &e);
    vigil_bank_import_report_free(&rep);
    fclose(in);
  }
  if (!rc) vigil_bank_store_close(bs);
  unlink(path);
  if (rc) fprintf(stderr, "bench_server: bank: %s\n", e.message);
  return rc ? -1 : 0;
}

/* The other node's client: imports random PDQ entries into the bank,
 * WRITE_BATCH per request (a feed of new hashes arriving), until told to
 * stop. */
#define WRITE_BATCH 250
typedef struct writer {
  int port;
  const char *key;
  volatile int stop;
  long added, errors;
} writer;

static void *run_writer(void *arg) {
  writer *w = arg;
  int fd = tu_http_connect(w->port);
  char hdr[256];
  snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\nContent-Type: text/csv\r\n", w->key);
  size_t cap = 32 + WRITE_BATCH * 72;
  char *csv = malloc(cap);
  uint64_t x = 0xD1B54A32D192ED03ull;
  while (csv && fd >= 0 && !w->stop) {
    size_t len = (size_t)snprintf(csv, cap, "signal_type,value\n");
    for (int i = 0; i < WRITE_BATCH; i++) {
      vigil_pdq_hash h;
      for (int k = 0; k < 32; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        h.bytes[k] = (uint8_t)x;
      }
      char hex[65];
      vigil_pdq_to_hex(&h, hex);
      len += (size_t)snprintf(csv + len, cap - len, "pdq,%s\n", hex);
    }
    tu_http_resp r;
    int ok = tu_http_request(fd, "POST", "/v1/banks/bench/import", hdr, (const uint8_t *)csv, len, &r) == 0 &&
             r.status == 200;
    if (ok) w->added += WRITE_BATCH;
    else w->errors++;
    if (r.closed) {
      close(fd);
      fd = tu_http_connect(w->port);
    }
    tu_http_free(&r);
  }
  free(csv);
  if (fd >= 0) close(fd);
  return NULL;
}

/* /v1/match alone, then while a second node on db adds entries. */
static int match_scenarios(int port, const char *db, const char *key, int conns, double secs, long bank_n,
                           const char *probe) {
  char mhdr[256], mbody[200], label[96];
  snprintf(mhdr, sizeof mhdr, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", key);
  snprintf(mbody, sizeof mbody, "{\"pdq\":\"%s\",\"review\":false}", probe);
  snprintf(label, sizeof label, "POST /v1/match by hash (%ld-hash bank)", bank_n);
  result m = scenario(label, port, conns, secs, "POST", "/v1/match", mhdr, (const uint8_t *)mbody, strlen(mbody), NULL);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = db;
  char jobs[300]; /* one process per jobs directory: the first node holds DB.jobs */
  snprintf(jobs, sizeof jobs, "%s.jobs-other", db);
  cfg.jobs_dir = jobs;
  cfg.threads = 1;
  cfg.max_per_ip = 0; /* every client connection comes from 127.0.0.1 */
  vigil_server *other;
  vigil_error e;
  if (vigil_server_start(&other, &cfg, &e)) {
    fprintf(stderr, "bench_server: second node: %s\n", e.message);
    return 1;
  }
  writer w = {vigil_server_port(other), key, 0, 0, 0};
  pthread_t t;
  if (pthread_create(&t, NULL, run_writer, &w) != 0) return 1;
  snprintf(label, sizeof label, "  ... while another node adds entries");
  result mw = scenario(label, port, conns, secs, "POST", "/v1/match", mhdr, (const uint8_t *)mbody, strlen(mbody), NULL);
  w.stop = 1;
  pthread_join(t, NULL);
  vigil_server_stop(other);
  printf("  (the other node added %ld entries, %.0f/s, %ld errors)\n", w.added, (double)w.added / secs, w.errors);
  return m.errors || mw.errors || !m.n || !mw.n || w.errors || !w.added;
}

int main(int argc, char **argv) {
  double secs = 3;
  int conns = 4, threads = 2, smoke = 0, match_only = 0;
  long bank_n = 1000000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) smoke = 1, secs = 0.3;
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) secs = atof(argv[++i]);
    else if (!strcmp(argv[i], "--connections") && i + 1 < argc) conns = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--bank") && i + 1 < argc) bank_n = atol(argv[++i]);
    else if (!strcmp(argv[i], "--match-only")) match_only = 1;
    else {
      fprintf(stderr, "usage: bench_server [--smoke] [--seconds S] [--connections C] [--threads T] [--bank N]"
                      " [--match-only]\n");
      return 2;
    }
  }
  if (conns < 1 || conns > 256 || threads < 1 || threads > 256 || secs <= 0 || bank_n < 1) return 2;
  if (smoke) bank_n = 10000;
  signal(SIGPIPE, SIG_IGN);
  char dir[] = "/tmp/vigil-bench-server-XXXXXX", db[64];
  if (!mkdtemp(dir)) return 1;
  snprintf(db, sizeof db, "%s/vigil.db", dir);
  size_t jpg_len = 0;
  uint8_t *jpg = NULL;
  FILE *f = fopen(VIGIL_SOURCE_DIR "/samples/rings.jpg", "rb");
  if (f) {
    jpg = malloc(1 << 20);
    if (jpg) jpg_len = fread(jpg, 1, 1 << 20, f);
    fclose(f);
  }
  vigil_server_store *st;
  vigil_error e;
  char key[VIGIL_KEY_MAX], rkey[VIGIL_KEY_MAX];
  if (!jpg || !jpg_len || vigil_server_store_open(&st, db, &e) ||
      vigil_key_create(st, VIGIL_ROLE_ADMIN, "bench", key, NULL, &e) ||
      vigil_key_create(st, VIGIL_ROLE_REVIEWER, "bench-reviewer", rkey, NULL, &e)) {
    fprintf(stderr, "bench_server: setup failed\n");
    return 1;
  }
  vigil_case_new c = {.content_id = "bench", .source = "bench"};
  int64_t id;
  vigil_case_open(st, &c, &id, NULL);
  vigil_server_store_close(st);
  char probe[65];
  double t0 = now_s();
  if (fill_bank(db, bank_n, probe)) return 1;
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = db;
  cfg.threads = (unsigned)threads;
  cfg.max_per_ip = 0; /* every client connection comes from 127.0.0.1 */
  vigil_server *srv;
  if (vigil_server_start(&srv, &cfg, &e)) {
    fprintf(stderr, "bench_server: %s\n", e.message);
    return 1;
  }
  double t_fill = now_s() - t0; /* import, then the server's start loads the index */
  int port = vigil_server_port(srv);
  char hdr[256], rhdr[256];
  snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\nContent-Type: image/jpeg\r\n", key);
  snprintf(rhdr, sizeof rhdr, "Authorization: Bearer %s\r\n", rkey);
  forbidden_hdr = rhdr;
  printf("vigil serve on 127.0.0.1:%d, %d server threads, %d keep-alive connections, %.1f s per scenario%s\n", port,
         threads, conns, secs, smoke ? " (smoke)" : "");
  if (match_only) {
    printf("(bank of %ld hashes imported, then indexed at server start: %.1f s)\n", bank_n, t_fill);
    int bad = match_scenarios(port, db, key, conns, secs, bank_n, probe);
    vigil_server_stop(srv);
    free(jpg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) != 0 || bad;
  }
  result h = scenario("GET /healthz", port, conns, secs, "GET", "/healthz", NULL, NULL, 0, NULL);
  result k = scenario("POST /v1/hash as reviewer (403)", port, conns, secs, "POST", "/v1/hash", rhdr, NULL, 0, NULL);
  result a = scenario("GET /v1/cases?limit=1 (keyed)", port, conns, secs, "GET", "/v1/cases?limit=1", hdr, NULL, 0, NULL);
  char label[96];
  vigil_image_info info = {0};
  vigil_pdq_result pr;
  vigil_hash_memory(jpg, jpg_len, NULL, &pr, &info, NULL);
  snprintf(label, sizeof label, "POST /v1/hash (%dx%d JPEG, %zu B)", info.width, info.height, jpg_len);
  result p = scenario(label, port, conns, secs, "POST", "/v1/hash", hdr, jpg, jpg_len, NULL);
  printf("(bank of %ld hashes imported, then indexed at server start: %.1f s)\n", bank_n, t_fill);
  int mbad = match_scenarios(port, db, key, conns, secs, bank_n, probe);
  snprintf(label, sizeof label, "baseline: vigil_hash_memory x%d", threads);
  result d = scenario(label, 0, threads, secs, NULL, NULL, NULL, jpg, jpg_len, direct_hash);
  printf("ratio key check only / healthz:        %.2f\n", h.rps > 0 ? k.rps / h.rps : 0);
  printf("ratio keyed read / healthz:            %.2f\n", h.rps > 0 ? a.rps / h.rps : 0);
  printf("ratio HTTP hash / direct library hash: %.2f\n", d.rps > 0 ? p.rps / d.rps : 0);
  vigil_server_stop(srv);
  free(jpg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return 1;
  int bad = h.errors || k.errors || a.errors || p.errors || d.errors || mbad || !h.n || !a.n || !p.n;
  return bad ? 1 : 0;
}
