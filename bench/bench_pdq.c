/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_pdq.c - how much PDQ hashing adds to decoding, one core.
 *
 * For JPEGs of 1 to 12 megapixels (synthesised here, plus ../shared's
 * photos when present) it measures in one run, each as the median of
 * several repetitions:
 *   decode   - libjpeg-turbo to RGB scanlines, pixels discarded (baseline)
 *   exact    - vigil_hash_memory, decode + bit-exact PDQ
 *   fast     - vigil_hash_memory with opts.fast (DCT-domain downscale)
 * and prints exact/decode and exact/fast ratios; then the time to hash raw
 * 1024x768 pixels with vigil and with a plain whole-picture implementation
 * of the reference algorithm (the ratio), vigil's time back to back, and
 * the Hamming distance of fast to exact mode over every picture; then the
 * shared photos hashed in a worker thread under glibc's allocator defaults
 * and under `vigil hash`'s setting (each in a child process of its own).
 *
 *   bench_pdq [--smoke] [--reps N] [--default-malloc]
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>

#include <jpeglib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/support/pdq_oracle.h"
#include "vigil/media.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmpd);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A photo-like synthetic scene: value noise at several scales. */
static unsigned char *scene(int w, int h, unsigned seed) {
  unsigned char *p = malloc((size_t)w * h * 3);
  srand(seed);
  float g[4][33][33];
  for (int o = 0; o < 4; o++)
    for (int j = 0; j < 33; j++)
      for (int i = 0; i < 33; i++) g[o][j][i] = (float)(rand() % 256);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float v[3] = {0, 0, 0};
      for (int o = 0; o < 4; o++) {
        float gx = (float)x / w * (4 << o), gy = (float)y / h * (4 << o);
        int ix = (int)gx % 32, iy = (int)gy % 32;
        float fx = gx - (int)gx, fy = gy - (int)gy;
        float s = g[o][iy][ix] * (1 - fx) * (1 - fy) + g[o][iy][ix + 1] * fx * (1 - fy) +
                  g[o][iy + 1][ix] * (1 - fx) * fy + g[o][iy + 1][ix + 1] * fx * fy;
        for (int c = 0; c < 3; c++) v[c] += s / (float)(1 << o) * (c == o % 3 ? 0.6f : 0.3f);
      }
      for (int c = 0; c < 3; c++) p[((size_t)y * w + x) * 3 + c] = (unsigned char)(v[c] > 255 ? 255 : v[c]);
    }
  return p;
}

static unsigned char *encode_jpeg(const unsigned char *rgb, int w, int h, unsigned long *len) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char *out = NULL;
  jpeg_mem_dest(&c, &out, len);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 88, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * w * 3);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return out;
}

static void decode_only(const unsigned char *d, size_t n) {
  struct jpeg_decompress_struct ci;
  struct jpeg_error_mgr e;
  ci.err = jpeg_std_error(&e);
  jpeg_create_decompress(&ci);
  jpeg_mem_src(&ci, d, (unsigned long)n);
  jpeg_read_header(&ci, TRUE);
  ci.out_color_space = JCS_RGB;
  jpeg_start_decompress(&ci);
  unsigned char *rows = malloc((size_t)ci.output_width * 3 * 16);
  JSAMPROW ptrs[16];
  for (int i = 0; i < 16; i++) ptrs[i] = rows + (size_t)i * ci.output_width * 3;
  while (ci.output_scanline < ci.output_height) jpeg_read_scanlines(&ci, ptrs, 16);
  jpeg_finish_decompress(&ci);
  jpeg_destroy_decompress(&ci);
  free(rows);
}

typedef struct pic {
  char name[256];
  char path[4096];
  unsigned char *data;
  size_t len;
  int owned_by_jpeg;
} pic;

/* The JPEGs of ../shared/pdq/images: their paths, and their bytes when
 * load is set. */
static int add_shared(pic *pics, int n, int cap, int load) {
  const char *dirs[] = {VIGIL_SHARED_DIR "/pdq/images/bridge-mods", VIGIL_SHARED_DIR "/pdq/images/reg-test-input/dih",
                        VIGIL_SHARED_DIR "/pdq/images/reg-test-input/exif-rotn",
                        VIGIL_SHARED_DIR "/pdq/images/reg-test-input/labelme-subset",
                        VIGIL_SHARED_DIR "/pdq/images/misc-images"};
  for (size_t k = 0; k < sizeof dirs / sizeof *dirs; k++) {
    DIR *dp = opendir(dirs[k]);
    struct dirent *de;
    while (dp && (de = readdir(dp)) && n < cap) {
      size_t l = strlen(de->d_name);
      if (l < 4 || strcmp(de->d_name + l - 4, ".jpg")) continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dirs[k], de->d_name);
      pics[n].data = NULL;
      pics[n].len = 0;
      if (!load || vigil_read_file(path, 1u << 30, &pics[n].data, &pics[n].len, NULL) == 0) {
        snprintf(pics[n].name, sizeof pics[n].name, "shared:%s", de->d_name);
        snprintf(pics[n].path, sizeof pics[n].path, "%s", path);
        n++;
      }
    }
    if (dp) closedir(dp);
  }
  return n;
}

/* The allocator setting, measured: the shared photos read and hashed in a
 * worker thread (as `vigil hash` does), each pass in a fresh child process so that
 * glibc's allocator starts from its defaults; one child keeps them, the
 * other sets what cli_tune_allocator sets.  Returns wall seconds, or -1. */
typedef struct alloc_job {
  pic *pics;
  int n, reps;
  double secs;
} alloc_job;

/* A progressive JPEG: its frame header, found by walking the segments
 * from SOI in the file's first 256 KiB, is SOF2.  (Read into a static
 * buffer: the pass that follows must find the allocator untouched.) */
static int is_progressive(const char *path) {
  static uint8_t head[256 << 10];
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t len = fread(head, 1, sizeof head, f), i = 2;
  fclose(f);
  while (i + 4 <= len && head[i] == 0xff) {
    unsigned m = head[i + 1];
    if (m == 0xc2) return 1;
    if ((m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) || m == 0xda) return 0;
    i += 2 + ((size_t)head[i + 2] << 8 | head[i + 3]);
  }
  return 0;
}

static void *alloc_worker(void *arg) {
  alloc_job *j = arg;
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  double t0 = now();
  for (int r = 0; r < j->reps; r++)
    for (int i = 0; i < j->n; i++) {
      vigil_pdq_result res; /* from the file, as vigil hash does */
      vigil_hash_file(j->pics[i].path, &o, &res, NULL, NULL);
    }
  j->secs = now() - t0;
  return NULL;
}

/* which: 0 every shared JPEG, 1 the progressive ones, 2 the first
 * progressive one only (pictures of one size in a row: glibc's sliding
 * threshold then maps every buffer afresh, as it maps sizes >= the last one
 * freed). */
static double alloc_pass(int tuned, int reps, int which) {
  int fd[2];
  if (pipe(fd)) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fd[0]);
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
    if (tuned) {
      mallopt(M_MMAP_THRESHOLD, 32 << 20);
      mallopt(M_TRIM_THRESHOLD, 64 << 20);
    }
#endif
    static pic pics[80];
    int n = add_shared(pics, 0, 80, 0), kept = 0;
    for (int i = 0; i < n && !(which == 2 && kept == 1); i++)
      if (which == 0 || is_progressive(pics[i].path)) pics[kept++] = pics[i];
    alloc_job j = {pics, kept, reps, -1};
    pthread_t t;
    if (j.n > 0 && pthread_create(&t, NULL, alloc_worker, &j) == 0) pthread_join(t, NULL);
    ssize_t w = write(fd[1], &j.secs, sizeof j.secs);
    _exit(w == (ssize_t)sizeof j.secs ? 0 : 1);
  }
  close(fd[1]);
  double secs = -1;
  if (read(fd[0], &secs, sizeof secs) != (ssize_t)sizeof secs) secs = -1;
  close(fd[0]);
  waitpid(pid, NULL, 0);
  return secs;
}

int main(int argc, char **argv) {
  int smoke = 0, reps = 5, default_malloc = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) smoke = 1;
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--default-malloc")) default_malloc = 1;
  }
  /* Before anything touches this process's allocator. */
  double alloc_t[3][2]; /* [which][tuned] */
  static const int alloc_reps[3] = {1, 4, 40};
  for (int w = 0; w < 3; w++)
    for (int t = 0; t < 2; t++) alloc_t[w][t] = smoke ? -1 : alloc_pass(t, alloc_reps[w] * reps, w);
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
  /* The allocator setting of `vigil hash` (cli_tune_allocator in
   * programs/vigil.c), so that decode and exact are timed as they run
   * there; in this single-threaded loop glibc's sliding mmap threshold
   * already avoids most of the page faults.  --default-malloc keeps
   * glibc's. */
  if (!default_malloc) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
  }
#endif
  if (smoke) reps = 1;
  static const int sizes[][2] = {{1024, 768}, {1280, 960}, {2048, 1536}, {3000, 2000}, {4000, 3000}};
  int nsizes = smoke ? 1 : 5;
  pic pics[80];
  int npics = 0;
  for (int s = 0; s < nsizes; s++) {
    unsigned char *rgb = scene(sizes[s][0], sizes[s][1], 11u + (unsigned)s);
    unsigned long len = 0;
    pics[npics].data = encode_jpeg(rgb, sizes[s][0], sizes[s][1], &len);
    pics[npics].len = len;
    pics[npics].owned_by_jpeg = 1;
    pics[npics].path[0] = 0;
    snprintf(pics[npics].name, sizeof pics[npics].name, "synthetic %dx%d (%.1f MP)", sizes[s][0], sizes[s][1],
             sizes[s][0] * sizes[s][1] / 1e6);
    npics++;
    free(rgb);
  }
  int nsynth = npics;
  if (!smoke) npics = add_shared(pics, npics, 80, 1);

  printf("PDQ cost on top of JPEG decoding, one thread, median of %d runs\n", reps);
  printf("%-34s %9s %9s %9s %12s %11s\n", "picture", "decode ms", "exact ms", "fast ms", "exact/decode",
         "exact/fast");
  vigil_hash_opts exact, fast;
  vigil_hash_opts_default(&exact);
  vigil_hash_opts_default(&fast);
  fast.fast = 1;
  double dist_sum = 0;
  int dist_max = 0, dists[80], nd = 0;
  for (int i = 0; i < npics; i++) {
    double td[32], te[32], tf[32];
    vigil_pdq_result re, rf;
    for (int r = 0; r < reps && r < 32; r++) {
      double t0 = now();
      decode_only(pics[i].data, pics[i].len);
      double t1 = now();
      if (vigil_hash_memory(pics[i].data, pics[i].len, &exact, &re, NULL, NULL)) break;
      double t2 = now();
      vigil_hash_memory(pics[i].data, pics[i].len, &fast, &rf, NULL, NULL);
      double t3 = now();
      td[r] = t1 - t0, te[r] = t2 - t1, tf[r] = t3 - t2;
    }
    int n = reps < 32 ? reps : 32;
    double d = median(td, n) * 1e3, e = median(te, n) * 1e3, f = median(tf, n) * 1e3;
    int dist = vigil_pdq_distance(&re.hash[0], &rf.hash[0]);
    dists[nd++] = dist;
    dist_sum += dist;
    if (dist > dist_max) dist_max = dist;
    if (i < nsynth || !smoke)
      printf("%-34.34s %9.2f %9.2f %9.2f %12.3f %11.2f\n", pics[i].name, d, e, f, e / d, e / f);
  }
  int sorted[80];
  memcpy(sorted, dists, sizeof(int) * (size_t)nd);
  for (int a = 0; a < nd; a++)
    for (int b = a + 1; b < nd; b++)
      if (sorted[b] < sorted[a]) {
        int t = sorted[a];
        sorted[a] = sorted[b];
        sorted[b] = t;
      }
  int p99 = sorted[(int)ceil(0.99 * nd) - 1];
  printf("fast vs exact Hamming distance over %d pictures: mean %.2f, p99 %d, max %d\n", nd, dist_sum / nd, p99,
         dist_max);

  /* Raw pixels: vigil's streaming pipeline vs a whole-picture implementation. */
  int W = 1024, H = 768, iters = smoke ? 3 : 50;
  unsigned char *rgb = scene(W, H, 5);
  float *luma = malloc((size_t)W * H * sizeof(float));
  for (int k = 0; k < W * H; k++) luma[k] = 0.299f * rgb[3 * k] + 0.587f * rgb[3 * k + 1] + 0.114f * rgb[3 * k + 2];
  double tv[64], to[64];
  vigil_pdq_result rv;
  for (int r = 0; r < iters && r < 64; r++) {
    double t0 = now();
    vigil_pdq_hash_rgb(rgb, W, H, (size_t)W * 3, 0, &rv, NULL);
    double t1 = now();
    vigil_pdq_hash oh;
    int oq;
    oracle_pdq_luma(luma, H, W, &oh, &oq);
    double t2 = now();
    tv[r] = t1 - t0;
    to[r] = t2 - t1;
    if (vigil_pdq_distance(&oh, &rv.hash[0]) != 0) {
      fprintf(stderr, "bench_pdq: streaming and whole-picture hashes differ\n");
      return 1;
    }
  }
  int n = iters < 64 ? iters : 64;
  double mv = median(tv, n) * 1e3, mo = median(to, n) * 1e3;
  printf("raw 1024x768 RGB to hash: vigil %.3f ms, whole-picture reference-style %.3f ms (luma given), ratio %.2fx\n",
         mv, mo, mo / mv);
  /* The same pictures back to back, as a batch hashes them (the loop above
   * runs the whole-picture implementation between vigil's calls, which
   * empties the caches each time). */
  double tb[64];
  for (int r = 0; r < n; r++) {
    double t0 = now();
    vigil_pdq_hash_rgb(rgb, W, H, (size_t)W * 3, 0, &rv, NULL);
    tb[r] = now() - t0;
  }
  printf("raw 1024x768 RGB to hash, back to back: vigil %.3f ms\n", median(tb, n) * 1e3);
  free(rgb);
  free(luma);
  char one[300] = "one progressive picture";
  for (int i = 0; i < npics; i++)
    if (pics[i].path[0] && is_progressive(pics[i].path)) {
      snprintf(one, sizeof one, "%s alone", pics[i].name);
      break;
    }
  const char *const alloc_what[3] = {"every shared JPEG", "the progressive ones", one};
  for (int w = 0; w < 3; w++)
    if (alloc_t[w][0] > 0 && alloc_t[w][1] > 0)
      printf("read and hashed in a worker thread, %s x %d: glibc's allocator %.2f s, vigil hash's setting %.2f s, "
             "%.2fx\n",
             alloc_what[w], alloc_reps[w] * reps, alloc_t[w][0], alloc_t[w][1], alloc_t[w][0] / alloc_t[w][1]);
  if (!smoke && alloc_t[0][0] <= 0) printf("allocator comparison: skipped (no %s/pdq/images)\n", VIGIL_SHARED_DIR);
  for (int i = 0; i < npics; i++) free(pics[i].data);
  return 0;
}
