/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil.c - small helpers every test may use: reference data, random
 * numbers, whole files, and temporary directories made and removed without
 * a shell.
 */
#define _XOPEN_SOURCE 700 /* nftw's FTW_DEPTH and FTW_PHYS */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *tu_shared(const char *rel, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", VIGIL_SHARED_DIR, rel);
  struct stat st;
  if (stat(buf, &st) != 0) {
    printf("SKIP: reference data %s is absent (../shared not present beside the project)\n", buf);
    return NULL;
  }
  return buf;
}

uint64_t tu_rand(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

uint8_t *tu_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (n < 0) {
    fclose(f);
    return NULL;
  }
  uint8_t *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  if (b) b[n] = 0; /* text files can be searched with strstr */
  fclose(f);
  *len = (size_t)n;
  return b;
}

const char *tu_mkdtemp(char *buf, size_t cap, const char *tag) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  int n = snprintf(buf, cap, "%s/vigil-test-%s-XXXXXX", tmp, tag);
  if (n < 0 || (size_t)n >= cap) return NULL;
  return mkdtemp(buf);
}

/* nftw callback: children come before their directory (FTW_DEPTH), links
 * are removed, never followed (FTW_PHYS). */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int tu_rmtree(const char *dir) {
  if (!dir || !*dir) return -1;
  return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
