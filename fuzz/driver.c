/* SPDX-License-Identifier: Apache-2.0 */
/*
 * driver.c - replays a fuzz target without libFuzzer: each seed file given
 * (or every file under samples/ when none is) is fed as it is and then in
 * --iterations mutated forms (bit flips, truncation, spliced random bytes)
 * from a fixed-seed generator, so a failure reproduces.  A crash, a
 * sanitizer report or a leak fails the ctest run that calls this.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t *b = malloc(cap);
  while (b) {
    if (n == cap) {
      uint8_t *nb = realloc(b, cap *= 2);
      if (!nb) {
        free(b);
        b = NULL;
        break;
      }
      b = nb;
    }
    size_t got = fread(b + n, 1, cap - n, f);
    if (!got) break;
    n += got;
  }
  fclose(f);
  *len = n;
  return b;
}

static void run_seed(const uint8_t *seed, size_t len, long iterations) {
  LLVMFuzzerTestOneInput(seed, len);
  uint8_t *buf = malloc(len + 64);
  if (!buf) return;
  for (long i = 0; i < iterations; i++) {
    size_t n = len;
    memcpy(buf, seed, len);
    switch (next() % 4) {
    case 0: /* flip a few bits */
      for (int k = 0; k < 1 + (int)(next() % 8) && n; k++) buf[next() % n] ^= (uint8_t)(1u << (next() % 8));
      break;
    case 1: /* truncate */
      n = n ? next() % n : 0;
      break;
    case 2: /* overwrite a run with random bytes */
      if (n) {
        size_t at = next() % n, run = 1 + next() % 32;
        for (size_t k = at; k < n && k < at + run; k++) buf[k] = (uint8_t)next();
      }
      break;
    default: /* append junk */
      for (int k = 0; k < 64; k++) buf[n + (size_t)k] = (uint8_t)next();
      n += 64;
      break;
    }
    LLVMFuzzerTestOneInput(buf, n);
  }
  free(buf);
}

int main(int argc, char **argv) {
  long iterations = 200;
  int nfiles = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
      iterations = strtol(argv[++i], NULL, 10);
      continue;
    }
    size_t len;
    uint8_t *d = slurp(argv[i], &len);
    if (!d) {
      fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    run_seed(d, len, iterations);
    free(d);
    nfiles++;
  }
  if (nfiles == 0) {
    const char *dir = VIGIL_SOURCE_DIR "/samples";
    DIR *dp = opendir(dir);
    struct dirent *de;
    long per = iterations;
    while (dp && (de = readdir(dp))) {
      if (de->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      size_t len;
      uint8_t *d = slurp(path, &len);
      if (!d) continue;
      run_seed(d, len, per);
      free(d);
      nfiles++;
    }
    if (dp) closedir(dp);
    /* and pure noise */
    uint8_t noise[512];
    for (long i = 0; i < iterations; i++) {
      size_t n = next() % sizeof noise;
      for (size_t k = 0; k < n; k++) noise[k] = (uint8_t)next();
      LLVMFuzzerTestOneInput(noise, n);
    }
  }
  printf("fuzz replay: %d seed(s), %ld mutations each: no crash\n", nfiles, iterations);
  return 0;
}
