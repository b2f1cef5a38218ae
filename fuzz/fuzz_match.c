/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_match.c - hostile PDQ index files and hostile hashes.
 *
 * A valid index file (1,100 hashes, so it has tables) is built once.  Each
 * input then edits a copy of it: the input is read as (offset, byte) pairs
 * written into the file, and its first byte decides whether the checksums
 * are recomputed afterwards - so both the checksum test and, past it, the
 * bounds checks on a file that is well-formed on the surface get exercised.
 * Whatever loads is queried, changed (which copies it off the mapping and
 * builds the id map) and queried again; nothing may crash, leak or trip a
 * sanitizer.  The same input's bytes are also added as hashes to a small
 * index and queried at thresholds from the input.  Works from any seed
 * bytes (the driver's default seeds are images).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match/match_internal.h"
#include "vigil/match.h"

static uint8_t *good;
static size_t good_len;
static char path[64];

static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void cleanup(void) {
  unlink(path);
  free(good);
  good = NULL;
}

static int init(void) {
  if (good) return 0;
  atexit(cleanup);
  /* tmpfs when there is one: thousands of rewrites need not reach a disk */
  snprintf(path, sizeof path, "%s/vigil-fuzz-match-%ld.vpi", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
           (long)getpid());
  vigil_pdq_index *ix;
  if (vigil_pdq_index_new(&ix, NULL)) return -1;
  uint64_t s = 42;
  vigil_pdq_hash h;
  for (uint64_t i = 0; i < 1100; i++) {
    for (int k = 0; k < 32; k += 8) {
      uint64_t r = mix(&s);
      memcpy(h.bytes + k, &r, 8);
    }
    if (i % 4 == 3) h.bytes[i % 32] ^= 1; /* near-duplicates too */
    if (vigil_pdq_index_add(ix, &h, i * 7 + 1, NULL)) return -1;
  }
  int rc = vigil_pdq_index_save(ix, path, NULL);
  vigil_pdq_index_free(ix);
  if (rc) return -1;
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  good_len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  good = malloc(good_len);
  if (!good || fread(good, 1, good_len, f) != good_len) {
    fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
}

static void exercise(vigil_pdq_index *ix, const uint8_t *data, size_t size) {
  vigil_pdq_hash q;
  memset(&q, 0, sizeof q);
  memcpy(q.bytes, data, size < 32 ? size : 32);
  vigil_pdq_hit *hits;
  size_t n;
  int r = size ? data[0] % 70 : 31;
  if (vigil_pdq_index_query(ix, &q, r, &hits, &n, NULL) == VIGIL_OK) free(hits);
  vigil_pdq_hash v[8];
  for (int i = 0; i < 8; i++) {
    v[i] = q;
    v[i].bytes[i] ^= 0x5a;
  }
  if (vigil_pdq_index_query_multi(ix, v, 8, 31, &hits, &n, NULL) == VIGIL_OK) free(hits);
  vigil_pdq_index_add(ix, &q, 8, NULL); /* an id present in the good file */
  vigil_pdq_index_add(ix, &q, 123456789, NULL);
  vigil_pdq_index_remove(ix, 1, NULL);
  vigil_pdq_index_remove(ix, 123456789, NULL);
  if (vigil_pdq_index_query(ix, &q, 31, &hits, &n, NULL) == VIGIL_OK) free(hits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (init()) abort();
  /* 1. An edited copy of a good file. */
  uint8_t *f = malloc(good_len);
  if (!f) return 0;
  memcpy(f, good, good_len);
  for (size_t i = 1; i + 4 <= size && i < 64; i += 4) {
    uint32_t off = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16;
    f[off % good_len] = data[i + 3];
  }
  size_t len = good_len;
  if (size > 2 && data[1] == 0xff) len = (size_t)data[2] * 97 % good_len; /* truncation */
  if (size && (data[0] & 1)) vigil__pdq_file_reseal(f, len);
  FILE *out = fopen(path, "wb");
  if (out) {
    fwrite(f, 1, len, out);
    fclose(out);
    vigil_pdq_index *ix = NULL;
    if (vigil_pdq_index_load(&ix, path, NULL) == VIGIL_OK) {
      exercise(ix, data, size);
      vigil_pdq_index_free(ix);
    }
  }
  free(f);
  /* 2. The input's bytes as hashes. */
  vigil_pdq_index *ix;
  if (vigil_pdq_index_new(&ix, NULL) == VIGIL_OK) {
    for (size_t i = 0; i + 32 <= size && i < 32 * 200; i += 32)
      vigil_pdq_index_add(ix, (const vigil_pdq_hash *)(data + i), data[i] % 16, NULL);
    exercise(ix, data, size);
    vigil_pdq_index_free(ix);
  }
  return 0;
}
