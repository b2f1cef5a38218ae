/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_network_html.c - how fast the `vigil link` HTML report opens.
 *
 * Writes a link input of --groups N groups (default 10,000) of two to four
 * ads each - random ad words, a phone, a name and a place per group, dates,
 * source URLs, and an identical repost in every third group - links it,
 * writes the report and loads it in Debian's headless chromium several
 * times, reading body[data-ready-ms]: performance.now() when the page's
 * script has made it usable (table shown, search wired).  With --old-vigil
 * PATH it also renders the same input with that older `vigil` program and
 * loads both pages alternately in the same run, so the ratio old/new holds
 * even on a loaded machine (absolute times do not).  Prints the page sizes,
 * the render time, each load and the medians.
 *
 *   bench_network_html [--smoke] [--groups N] [--loads K] [--old-vigil PATH] [--keep DIR] [--input ADS]
 *
 * --input links the ads of that JSON Lines file instead (e.g. the Backpage
 * corpus of ../shared/corpora/ads).
 * --smoke: 300 groups, one load (ctest keeps the bench working); without
 * chromium it exits 77.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vigil/network.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void) {
  uint64_t x = rng_state += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static const char *const words[] = {"sweet", "girl", "visiting", "city", "week", "only", "unforgettable", "time",
                                    "real", "companion", "smile", "relax", "long", "day", "soft", "music",
                                    "candles", "new", "town", "young", "fun", "upscale", "petite", "curvy",
                                    "blonde", "brunette", "classy", "discreet", "friendly", "private", "outcall",
                                    "incall", "massage", "special", "tonight", "available", "late", "hotel"};
static const char *const names[] = {"Kira", "Lena", "Mia", "Anna", "Jade", "Ruby", "Lola", "Nina", "Cleo", "Tess"};
static const char *const places[] = {"Los Angeles", "Houston", "Chicago", "Miami", "Phoenix", "Dallas",
                                     "Atlanta", "Denver", "Seattle", "Boston", "Orlando", "Las Vegas"};
#define NW (sizeof words / sizeof words[0])

static int write_input(const char *path, int groups) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  for (int g = 0; g < groups; g++) {
    char body[1024];
    size_t bl = 0;
    for (int w = 0; w < 30; w++) bl += (size_t)snprintf(body + bl, sizeof body - bl, "%s ", words[rnd() % NW]);
    int k = 2 + g % 3;
    for (int a = 0; a < k; a++) {
      /* the fourth ad of a group is an identical repost of its first */
      const char *extra = a == 3 ? "" : words[rnd() % NW];
      fprintf(f,
              "{\"id\":\"ad%d_%d\",\"title\":\"%s new in town\",\"body\":\"hi my name is %s %s%s call me "
              "%03d-%03d-%04d\",\"location\":\"%s\",\"posted_at\":\"2018-%02d-%02dT1%d:00:00\","
              "\"url\":\"https://example.com/ads/%d/%d\"}\n",
              g, a, names[g % 10], names[g % 10], body, a == 3 || a == 0 ? "" : extra, 201 + g % 700,
              200 + (g / 700) % 700, 1000 + g % 9000, places[(g + (a == 2)) % 12], 1 + (g + a) % 12,
              1 + (g * 7 + a) % 28, a, g, a);
    }
  }
  return fclose(f);
}

static const char *browser(void) {
  static const char *const cand[] = {"chromium", "chromium-browser", "google-chrome"};
  for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", cand[i]);
    if (system(cmd) == 0) return cand[i];
  }
  return NULL;
}

/* Loads the page once, returns data-ready-ms or -1. */
static long load_ms(const char *b, const char *dir, const char *page) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "timeout 180 %s --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions "
           "--user-data-dir=%s/profile --dump-dom 'file://%s' 2>/dev/null",
           b, dir, page);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  /* data-ready-ms is on <body>: scan the stream for it, keeping the last
   * bytes of each read so a key split between two reads is still found */
  static const char key[] = "data-ready-ms=\"";
  char buf[(1 << 16) + 1];
  size_t keep = 0, n;
  long ms = -1;
  while ((n = fread(buf + keep, 1, sizeof buf - 1 - keep, p)) > 0) {
    size_t tot = keep + n;
    buf[tot] = 0;
    for (size_t z = 0; z < tot; z++)
      if (!buf[z]) buf[z] = ' '; /* no NUL inside: strstr sees it all */
    char *hit = ms < 0 ? strstr(buf, key) : NULL;
    if (hit && strchr(hit + sizeof key - 1, '"')) ms = strtol(hit + sizeof key - 1, NULL, 10);
    keep = tot > 64 ? 64 : tot;
    memmove(buf, buf + tot - keep, keep);
  }
  int st = pclose(p);
  return st == 0 ? ms : -1;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

static long median(long *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_long);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long file_size(const char *p) {
  struct stat st;
  return stat(p, &st) ? -1 : (long)st.st_size;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows while the loads run */
  int groups = 10000, loads = 5;
  const char *old = NULL, *keepdir = NULL, *input = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) groups = 300, loads = 1;
    else if (!strcmp(argv[i], "--groups") && i + 1 < argc) groups = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--loads") && i + 1 < argc) loads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--old-vigil") && i + 1 < argc) old = argv[++i];
    else if (!strcmp(argv[i], "--keep") && i + 1 < argc) keepdir = argv[++i];
    else if (!strcmp(argv[i], "--input") && i + 1 < argc) input = argv[++i];
    else {
      fprintf(stderr,
              "usage: bench_network_html [--smoke] [--groups N] [--loads K] [--old-vigil PATH] [--keep DIR] "
              "[--input ADS]\n");
      return 2;
    }
  }
  if (groups < 1 || loads < 1 || loads > 99 || (input && strlen(input) > 400)) {
    fprintf(stderr, "bench_network_html: --groups must be >= 1 and --loads 1..99\n");
    return 2;
  }
  const char *b = browser();
  if (!b) {
    printf("chromium not found (scripts/install-deps --test): skipping\n");
    return 77;
  }
  char dir[256];
  if (keepdir) {
    snprintf(dir, sizeof dir, "%s", keepdir);
    if (mkdir(dir, 0700) && errno != EEXIST) return perror(dir), 1;
  } else {
    snprintf(dir, sizeof dir, "/tmp/vigil_bench_htmlXXXXXX");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
  }
  char in[512], page[512], oldpage[512], cmd[2048];
  snprintf(in, sizeof in, "%s", input ? input : "");
  if (!input) snprintf(in, sizeof in, "%s/ads.jsonl", dir);
  snprintf(page, sizeof page, "%s/new.html", dir);
  snprintf(oldpage, sizeof oldpage, "%s/old/report.html", dir);
  if (!input && write_input(in, groups)) return perror(in), 1;

  vigil_error err = {0};
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  vigil_linker *l = NULL;
  size_t bad = 0;
  double t0 = now();
  if (vigil_linker_new(&l, &o, &err) || vigil_linker_add_file(l, in, &bad, &err) || vigil_linker_group(l, &err)) {
    fprintf(stderr, "bench_network_html: link: %s\n", err.message);
    return 1;
  }
  double t1 = now();
  if (vigil_linker_write_html(l, page, &err)) {
    fprintf(stderr, "bench_network_html: report: %s\n", err.message);
    return 1;
  }
  double t2 = now();
  size_t ng = vigil_linker_group_count(l);
  printf("%zu ads, %zu groups; link %.2f s, report written in %.2f s\n", vigil_linker_ad_count(l), ng, t1 - t0,
         t2 - t1);
  vigil_linker_free(l);
  if (!input && ng + ng / 100 < (size_t)groups) {
    fprintf(stderr, "bench_network_html: expected about %d groups\n", groups);
    return 1;
  }
  if (old) {
    snprintf(cmd, sizeof cmd, "'%s' link --out '%s/old' '%s' >/dev/null", old, dir, in);
    if (system(cmd) != 0) {
      fprintf(stderr, "bench_network_html: %s failed\n", cmd);
      return 1;
    }
  }
  printf("page size: new %.1f MB", (double)file_size(page) / 1e6);
  if (old) printf(", old %.1f MB", (double)file_size(oldpage) / 1e6);
  printf("\n");
  long tn[99], to[99];
  for (int k = 0; k < loads; k++) {
    tn[k] = load_ms(b, dir, page);
    if (old) to[k] = load_ms(b, dir, oldpage);
    if (tn[k] < 0 || (old && to[k] < 0)) {
      fprintf(stderr, "bench_network_html: a page did not report data-ready-ms\n");
      return 1;
    }
    printf("load %d: new %ld ms", k + 1, tn[k]);
    if (old) printf(", old %ld ms", to[k]);
    printf("\n");
  }
  long mn = median(tn, loads);
  printf("median ready at %zu groups: new %ld ms", ng, mn);
  if (old) {
    long mo = median(to, loads);
    printf(", old %ld ms, old/new %.1fx", mo, (double)mo / (double)(mn ? mn : 1));
  }
  printf("\n");
  if (!keepdir) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
  }
  return 0;
}
