/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_server_video.c - does video hashing slow image matching down?
 *
 * One `vigil serve` (in process, SQLite, a bank with one PDQ entry) and C
 * client connections each sending POST /v1/match with samples/rings.jpg
 * (upload, decode, PDQ, lookup) as fast as they can, for S seconds: first
 * alone, then while V other clients each send a long video to POST
 * /v1/hash again and again (../shared's 20-second chair video; the server
 * has --video-workers V, so V videos decode at once the whole time).  The
 * image p50/p99/p99.9 of the two runs, measured in the same process, and
 * their ratio are the cost videos put on pictures.
 *
 *   bench_server_video [--smoke] [--seconds S] [--connections C] [--videos V]
 *
 * Exit 77 when ../shared is absent.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tests/support/httpc.c"
#include "vigil/server.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

typedef struct client {
  int port;
  const char *path, *headers;
  const uint8_t *body;
  size_t len;
  volatile int *stop;
  double until; /* 0: until *stop */
  double *lat;
  size_t n, cap;
  int errors;
} client;

static void *run_client(void *arg) {
  client *c = arg;
  int fd = tu_http_connect(c->port);
  while (fd >= 0 && (c->until ? now_s() < c->until : !*c->stop)) {
    double t0 = now_s();
    tu_http_resp r;
    int ok = tu_http_request(fd, "POST", c->path, c->headers, c->body, c->len, &r) == 0 && r.status == 200;
    if (r.closed) {
      close(fd);
      fd = tu_http_connect(c->port);
    }
    tu_http_free(&r);
    if (!ok) {
      c->errors++;
      continue;
    }
    if (c->n == c->cap) {
      size_t nc = c->cap ? 2 * c->cap : 4096;
      double *nl = realloc(c->lat, nc * sizeof *nl);
      if (!nl) break;
      c->lat = nl;
      c->cap = nc;
    }
    c->lat[c->n++] = now_s() - t0;
  }
  if (fd >= 0) close(fd);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct stats {
  double rps, p50, p99, p999, max;
  size_t n;
  int errors;
} stats;

static stats summarise(client *c, int nc, double secs) {
  stats s = {0};
  size_t total = 0;
  for (int i = 0; i < nc; i++) total += c[i].n, s.errors += c[i].errors;
  double *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; all && i < nc; i++) {
    memcpy(all + k, c[i].lat, c[i].n * sizeof *all);
    k += c[i].n;
  }
  if (all && total) {
    qsort(all, total, sizeof *all, cmp_double);
    s.p50 = all[total / 2] * 1e3;
    s.p99 = all[(size_t)((double)total * 0.99)] * 1e3;
    s.p999 = all[(size_t)((double)total * 0.999)] * 1e3;
    s.max = all[total - 1] * 1e3;
  }
  s.n = total;
  s.rps = (double)total / secs;
  free(all);
  return s;
}

/* The image clients for secs seconds; the video clients run meanwhile when videos > 0. */
static stats image_run(int port, const char *hdr, const uint8_t *jpg, size_t jpg_len, int conns, double secs,
                       const char *vhdr, const uint8_t *video, size_t video_len, int videos, size_t *hashed) {
  volatile int stop = 0;
  client *vc = calloc((size_t)(videos ? videos : 1), sizeof *vc);
  pthread_t *vt = calloc((size_t)(videos ? videos : 1), sizeof *vt);
  client *ic = calloc((size_t)conns, sizeof *ic);
  pthread_t *it = calloc((size_t)conns, sizeof *it);
  stats s = {0};
  if (!vc || !vt || !ic || !it) {
    s.errors = 1;
    goto out;
  }
  for (int i = 0; i < videos; i++) {
    vc[i] = (client){port, "/v1/hash", vhdr, video, video_len, &stop, 0, NULL, 0, 0, 0};
    pthread_create(&vt[i], NULL, run_client, &vc[i]);
  }
  if (videos) sleep(1); /* the videos are decoding before the pictures start */
  double start = now_s();
  for (int i = 0; i < conns; i++) {
    ic[i] = (client){port, "/v1/match?review=false", hdr, jpg, jpg_len, &stop, start + secs, NULL, 0, 0, 0};
    pthread_create(&it[i], NULL, run_client, &ic[i]);
  }
  for (int i = 0; i < conns; i++) pthread_join(it[i], NULL);
  s = summarise(ic, conns, now_s() - start);
  stop = 1;
  *hashed = 0;
  for (int i = 0; i < videos; i++) {
    pthread_join(vt[i], NULL);
    *hashed += vc[i].n;
    s.errors += vc[i].errors;
    free(vc[i].lat);
  }
  for (int i = 0; i < conns; i++) free(ic[i].lat);
out:
  free(vc);
  free(vt);
  free(ic);
  free(it);
  return s;
}

int main(int argc, char **argv) {
  double secs = 10;
  int conns = 2, videos = 2, smoke = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) smoke = 1, secs = 0.5;
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) secs = atof(argv[++i]);
    else if (!strcmp(argv[i], "--connections") && i + 1 < argc) conns = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--videos") && i + 1 < argc) videos = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_server_video [--smoke] [--seconds S] [--connections C] [--videos V]\n");
      return 2;
    }
  }
  if (conns < 1 || videos < 1 || secs <= 0) return 2;
  signal(SIGPIPE, SIG_IGN);
  size_t jpg_len = 0, video_len = 0;
  uint8_t *jpg = slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &jpg_len);
  uint8_t *video = slurp(VIGIL_SHARED_DIR "/vpdq/videos/chair-20-sd-bar.mp4", &video_len);
  if (!video) {
    printf("bench_server_video: skipped, %s/vpdq/videos is absent\n", VIGIL_SHARED_DIR);
    free(jpg);
    return 77;
  }
  if (!jpg) {
    fprintf(stderr, "bench_server_video: samples/rings.jpg is missing\n");
    return 1;
  }
  char dir[] = "/tmp/vigil-bench-video-XXXXXX", db[64];
  if (!mkdtemp(dir)) return 1;
  snprintf(db, sizeof db, "%s/b.db", dir);
  vigil_error e;
  vigil_server_store *st;
  char key[VIGIL_KEY_MAX];
  if (vigil_server_store_open(&st, db, &e) || vigil_key_create(st, VIGIL_ROLE_ADMIN, "bench", key, NULL, &e)) {
    fprintf(stderr, "bench_server_video: %s\n", e.message);
    return 1;
  }
  vigil_server_store_close(st);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = db;
  cfg.video_workers = (unsigned)videos;
  cfg.timeout_s = 120;
  vigil_server *srv;
  if (vigil_server_start(&srv, &cfg, &e)) {
    fprintf(stderr, "bench_server_video: %s\n", e.message);
    return 1;
  }
  int port = vigil_server_port(srv);
  char hdr[200], vhdr[240];
  snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\nContent-Type: image/jpeg\r\n", key);
  snprintf(vhdr, sizeof vhdr, "Authorization: Bearer %s\r\nContent-Type: video/mp4\r\n", key);
  size_t hashed = 0;
  stats alone = image_run(port, hdr, jpg, jpg_len, conns, secs, NULL, NULL, 0, 0, &hashed);
  stats busy = image_run(port, hdr, jpg, jpg_len, conns, secs, vhdr, video, video_len, videos, &hashed);
  printf("image POST /v1/match, %d connections, %.1f s each run\n", conns, secs);
  printf("%-34s %9s %8s %8s %8s %8s %6s\n", "run", "req/s", "p50 ms", "p99 ms", "p99.9", "max ms", "errors");
  printf("%-34s %9.0f %8.2f %8.2f %8.2f %8.2f %6d\n", "alone", alone.rps, alone.p50, alone.p99, alone.p999, alone.max,
         alone.errors);
  char label[64];
  snprintf(label, sizeof label, "while %d videos hash (%zu done)", videos, hashed);
  printf("%-34s %9.0f %8.2f %8.2f %8.2f %8.2f %6d\n", label, busy.rps, busy.p50, busy.p99, busy.p999, busy.max,
         busy.errors);
  if (alone.p99 > 0) printf("p99 ratio busy/alone: %.2f\n", busy.p99 / alone.p99);
  vigil_server_stop(srv);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_server_video: could not remove %s\n", dir);
  free(jpg);
  free(video);
  int bad = alone.errors || busy.errors || alone.n == 0 || busy.n == 0;
  return smoke && bad ? 1 : 0;
}
