#include "testutil.h"

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
  /* one byte more, always 0, so that text files can be searched as strings */
  uint8_t *b = malloc((size_t)n + 1);
  if (b) b[n] = 0;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}
