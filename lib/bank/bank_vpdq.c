/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_vpdq.c - what makes a vpdq entry an entry: the identity of a frame
 * list, the checks on it, and the byte form its frames are stored in.
 *
 * Identity.  SHA-256 of python-threatexchange's serialisation of the list
 * (vigil_vpdq_to_te), not of vigil's own stored form: that serialisation is
 * what banks exchange, so a list read back from it (which has lost frame
 * numbers and all but three significant digits of each timestamp) keeps
 * its identity, and re-importing an export changes nothing.  Two lists that
 * differ only below that precision are one entry; the first one imported
 * keeps its frames.
 *
 * Stored form (bank_frames.frames, one BLOB/BYTEA per entry): "VPQ1", then
 * per frame 49 bytes: the 32 hash bytes, the quality, the frame number as a
 * little-endian int64 and the timestamp's IEEE-754 bits as a little-endian
 * uint64.  Fixed width, so a row's length says its frame count and a
 * damaged row is caught by its length before anything is allocated; every
 * decoded field is checked again (a database row is input like any other).
 */
#include "bank/bank_backend.h"
#include "common/internal.h"

#include <math.h>
#include <openssl/evp.h>
#include <string.h>

#define MAGIC "VPQ1"
#define REC 49

int vigil__bank_frames_check(const vigil_video_frame *f, size_t n, vigil_error *err) {
  if (n == 0 || !f) return vigil__seterr(err, VIGIL_EINVAL, "a vpdq entry needs at least one frame");
  if (n > VIGIL_BANK_FRAMES_MAX)
    return vigil__seterr(err, VIGIL_ELIMIT, "vpdq entry of %zu frames (limit %d)", n, VIGIL_BANK_FRAMES_MAX);
  for (size_t i = 0; i < n; i++) {
    if (f[i].quality < 0 || f[i].quality > 100)
      return vigil__seterr(err, VIGIL_EINVAL, "vpdq frame %zu: quality %d is outside 0..100", i + 1, f[i].quality);
    if (!(f[i].timestamp >= 0) || f[i].timestamp > VIGIL_VPDQ_MAX_TIMESTAMP)
      return vigil__seterr(err, VIGIL_EINVAL, "vpdq frame %zu: timestamp is outside 0..%g s", i + 1,
                           VIGIL_VPDQ_MAX_TIMESTAMP);
    if (f[i].frame_number < 0)
      return vigil__seterr(err, VIGIL_EINVAL, "vpdq frame %zu: negative frame number", i + 1);
  }
  return VIGIL_OK;
}

int vigil_bank_vpdq_identity(const vigil_video_frame *frames, size_t n, uint8_t out[32], vigil_error *err) {
  int rc = vigil__bank_frames_check(frames, n, err);
  if (rc) return rc;
  char *text = NULL;
  size_t len = 0;
  if ((rc = vigil_vpdq_to_te(frames, n, &text, &len, err))) return rc;
  unsigned int dl = 0;
  unsigned char d[EVP_MAX_MD_SIZE];
  int ok = EVP_Digest(text, len, d, &dl, EVP_sha256(), NULL) == 1 && dl == 32;
  free(text);
  if (!ok) return vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 of a frame list failed");
  memcpy(out, d, 32);
  return VIGIL_OK;
}

int vigil__bank_frames_encode(const vigil_video_frame *f, size_t n, uint8_t **out, size_t *len, vigil_error *err) {
  size_t total = 4 + n * REC;
  uint8_t *b = malloc(total);
  if (!b) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory storing %zu frames", n);
  memcpy(b, MAGIC, 4);
  uint8_t *p = b + 4;
  for (size_t i = 0; i < n; i++, p += REC) {
    memcpy(p, f[i].hash.bytes, 32);
    p[32] = (uint8_t)f[i].quality;
    uint64_t fn = (uint64_t)f[i].frame_number, ts;
    memcpy(&ts, &f[i].timestamp, 8);
    for (int k = 0; k < 8; k++) {
      p[33 + k] = (uint8_t)(fn >> (8 * k));
      p[41 + k] = (uint8_t)(ts >> (8 * k));
    }
  }
  *out = b;
  *len = total;
  return VIGIL_OK;
}

int vigil__bank_frames_decode(const uint8_t *b, size_t len, vigil_video_frame **out, size_t *n, vigil_error *err) {
  *out = NULL;
  *n = 0;
  if (len < 4 || memcmp(b, MAGIC, 4) || (len - 4) % REC || (len - 4) / REC == 0 ||
      (len - 4) / REC > VIGIL_BANK_FRAMES_MAX)
    return vigil__seterr(err, VIGIL_ECORRUPT, "stored vpdq frames are damaged (%zu bytes)", len);
  size_t m = (len - 4) / REC;
  vigil_video_frame *f = vigil__mallocarray(m, sizeof *f);
  if (!f) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory reading %zu frames", m);
  const uint8_t *p = b + 4;
  for (size_t i = 0; i < m; i++, p += REC) {
    memcpy(f[i].hash.bytes, p, 32);
    f[i].quality = p[32];
    uint64_t fn = 0, ts = 0;
    for (int k = 7; k >= 0; k--) {
      fn = fn << 8 | p[33 + k];
      ts = ts << 8 | p[41 + k];
    }
    f[i].frame_number = (int64_t)fn;
    memcpy(&f[i].timestamp, &ts, 8);
  }
  if (vigil__bank_frames_check(f, m, NULL)) {
    free(f);
    return vigil__seterr(err, VIGIL_ECORRUPT, "stored vpdq frames are damaged (a field out of range)");
  }
  *out = f;
  *n = m;
  return VIGIL_OK;
}
