/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_video_vpdq.c - the vPDQ frame-list readers and the matcher on hostile
 * lists.
 *
 * The first byte picks the reader (python-threatexchange's JSON array, or
 * the reference's per-frame text); the rest is its input.  A list that reads
 * is written back as JSON, which must read again to the same hashes and
 * qualities, and is then matched against itself through the index and the
 * alignment (any timestamps, duplicates, orders): every frame of enough
 * quality must find itself, so query_pct is 100 when anything is left after
 * the quality filter.  Broken invariants abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  vigil_video_frame *f = NULL;
  size_t n = 0;
  int rc =
      (data[0] & 1) ? vigil_vpdq_from_reference(text, len, &f, &n, NULL) : vigil_vpdq_from_te(text, len, &f, &n, NULL);
  if (rc != VIGIL_OK) {
    if (f || n) abort();
    return 0;
  }
  if (n > 4000) n = 4000; /* keep one run short */
  char *out = NULL;
  size_t olen = 0;
  if (vigil_vpdq_to_te(f, n, &out, &olen, NULL) != VIGIL_OK) abort();
  vigil_video_frame *g = NULL;
  size_t m = 0;
  if (vigil_vpdq_from_te(out, olen, &g, &m, NULL) != VIGIL_OK || m != n) abort();
  for (size_t i = 0; i < n; i++)
    if (memcmp(g[i].hash.bytes, f[i].hash.bytes, 32) || g[i].quality != f[i].quality) abort();
  vigil_vpdq_opts o;
  vigil_vpdq_opts_default(&o);
  o.quality_min = (data[0] >> 1) & 1 ? 0 : 50;
  vigil_vpdq_result r;
  int far = 0; /* timestamps past the index's limit are refused, not matched */
  for (size_t i = 0; i < n; i++) far |= f[i].timestamp > VIGIL_VPDQ_MAX_TIMESTAMP;
  int crc = vigil_vpdq_compare(f, n, f, n, &o, &r, NULL);
  if (far) {
    if (crc != VIGIL_EINVAL) abort();
    vigil_video_frames_free(g);
    free(out);
    vigil_video_frames_free(f);
    return 0;
  }
  if (crc != VIGIL_OK) abort();
  if (r.query_total > 0 && (r.query_pct != 100.0 || !r.match)) abort();
  for (size_t s = 0; s < r.nsegments; s++)
    if (r.segments[s].query_end < r.segments[s].query_start || r.segments[s].share < 0 || r.segments[s].share > 1)
      abort();
  free(r.segments);
  vigil_video_frames_free(g);
  free(out);
  vigil_video_frames_free(f);
  return 0;
}
