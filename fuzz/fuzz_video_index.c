/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_video_index.c - hostile vPDQ index files (lib/video/vpdq_file.c).
 *
 * A valid file (30 videos of runs of near-identical frames, a shared
 * intro, frames of low quality, one video removed, some meta) is built
 * once.  Each input edits a copy: after the first byte, (offset, byte)
 * pairs written into the file, aimed at the header and the payload when
 * bit 2 of the first byte is set (where the vPDQ loader's own checks are),
 * anywhere otherwise; a second byte of 0xff truncates it.  Bit 0 recomputes
 * the vPDQ checksums afterwards and bit 1 the embedded PDQ index's, so the
 * checks behind each checksum are reached too.  Whatever loads is queried,
 * looked up, added to and removed from, and queried again; nothing may
 * crash, hang, leak or trip a sanitizer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match/match_internal.h"
#include "video/vpdq_internal.h"
#include "vigil/video.h"

static uint8_t *good;
static size_t good_len, payload_end, pdq_off;
static char path[64];
static vigil_video_frame query[40];

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
  snprintf(path, sizeof path, "%s/vigil-fuzz-vpdq-%ld.idx", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
           (long)getpid());
  vigil_vpdq_index *ix;
  if (vigil_vpdq_index_new(&ix, NULL)) return -1;
  uint64_t s = 7;
  vigil_pdq_hash intro;
  for (int k = 0; k < 32; k += 8) {
    uint64_t r = mix(&s);
    memcpy(intro.bytes + k, &r, 8);
  }
  vigil_video_frame f[40];
  for (int v = 0; v < 30; v++) {
    vigil_pdq_hash h = intro;
    if (v % 4)
      for (int k = 0; k < 32; k += 8) {
        uint64_t r = mix(&s);
        memcpy(h.bytes + k, &r, 8);
      }
    for (int i = 0; i < 40; i++) {
      if (mix(&s) % 3) h.bytes[mix(&s) % 32] ^= (uint8_t)(1u << (mix(&s) % 8));
      f[i] = (vigil_video_frame){i, mix(&s) % 8 ? 80 : 10, h, i * 0.5};
    }
    if (v == 5) memcpy(query, f, sizeof query);
    if (vigil_vpdq_index_add(ix, (uint64_t)v * 3 + 1, f, 40, NULL)) return -1;
  }
  vigil_vpdq_index_remove(ix, 3 * 9 + 1, NULL);
  static const char meta[] = "position";
  int rc = vigil_vpdq_index_save(ix, path, meta, sizeof meta, NULL);
  vigil_vpdq_index_free(ix);
  if (rc) return -1;
  FILE *in = fopen(path, "rb");
  if (!in) return -1;
  fseek(in, 0, SEEK_END);
  good_len = (size_t)ftell(in);
  fseek(in, 0, SEEK_SET);
  good = malloc(good_len);
  if (!good || fread(good, 1, good_len, in) != good_len) {
    fclose(in);
    return -1;
  }
  fclose(in);
  uint64_t ps, po;
  memcpy(&ps, good + 56, 8); /* the header's payload size and PDQ index offset */
  memcpy(&po, good + 72, 8);
  payload_end = (size_t)(256 + ps);
  pdq_off = (size_t)po;
  return 0;
}

static void exercise(vigil_vpdq_index *ix, const uint8_t *data, size_t size) {
  vigil_video_frame q[40];
  memcpy(q, query, sizeof q);
  for (size_t i = 0; i < size && i < 40; i++) q[i].hash.bytes[data[i] % 32] ^= data[i];
  vigil_vpdq_result *r;
  size_t n;
  if (vigil_vpdq_index_query(ix, q, 40, NULL, &r, &n, NULL) == VIGIL_OK) vigil_vpdq_results_free(r, n);
  vigil_vpdq_frame_hit *h;
  if (vigil_vpdq_index_lookup(ix, &q[3].hash, 31, 50, &h, &n, NULL) == VIGIL_OK) free(h);
  vigil_vpdq_index_add(ix, 999, q, 40, NULL);
  vigil_vpdq_index_add(ix, 4, q, 40, NULL); /* an id in the good file */
  vigil_vpdq_index_remove(ix, 1, NULL);
  vigil_vpdq_index_remove(ix, 999, NULL);
  vigil_vpdq_opts o;
  vigil_vpdq_opts_reference(&o);
  if (vigil_vpdq_index_query(ix, q, 40, &o, &r, &n, NULL) == VIGIL_OK) vigil_vpdq_results_free(r, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (init()) abort();
  uint8_t *f = malloc(good_len);
  if (!f) return 0;
  memcpy(f, good, good_len);
  size_t span = size && (data[0] & 4) ? payload_end : good_len;
  for (size_t i = 2; i + 4 <= size && i < 66; i += 4) {
    uint32_t off = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16;
    f[off % span] = data[i + 3];
  }
  size_t len = good_len;
  if (size > 2 && data[1] == 0xff) len = (size_t)data[2] * 997 % good_len; /* truncation */
  if (size && (data[0] & 2) && len > pdq_off) vigil__pdq_file_reseal(f + pdq_off, len - pdq_off);
  if (size && (data[0] & 1)) vigil__vpdq_file_reseal(f, len);
  FILE *out = fopen(path, "wb");
  if (out) {
    fwrite(f, 1, len, out);
    fclose(out);
    vigil_vpdq_index *ix = NULL;
    void *meta = NULL;
    size_t ml = 0;
    if (vigil_vpdq_index_load(&ix, path, &meta, &ml, NULL) == VIGIL_OK) {
      exercise(ix, data, size);
      vigil_vpdq_index_free(ix);
      free(meta);
    }
  }
  free(f);
  return 0;
}
