/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_skip.c - the facts the one-hash-per-second path needs to leave
 * frames undecoded and still number every frame as the reference does.
 *
 * The reference numbers the frames the decoder outputs.  An H.264 picture
 * whose slices all have nal_ref_idc 0 is never used to predict another one,
 * so when its frame number is not selected it need not be decoded at all,
 * provided its number is known without decoding it.  The decoder outputs
 * frames in presentation order, so a frame's number is the rank of its
 * packet's presentation timestamp among all the video's packets: the table
 * here holds them (read by a demux-only pass) and answers ranks.
 *
 * Everything here reads hostile bytes: lengths are checked before use, and
 * whatever is not understood counts as "must decode" (the safe answer).
 */
#include "video/video_skip.h"
#include "common/grow.h"
#include "vigil/common.h"

#include <stdlib.h>
#include <string.h>

int vigil__h264_nal_length_size(const uint8_t *extradata, size_t size) {
  if (!extradata || size == 0 || extradata[0] != 1) return 0; /* Annex B, as libavcodec decides */
  if (size < 7) return -1;
  int n = (extradata[4] & 3) + 1;
  return n == 3 ? -1 : n;
}

typedef struct scan {
  int bad; /* malformed framing: the packet is decoded */
  int slices, ref_slices, idr;
  int other;       /* a NAL unit that may change decoder state beyond its own picture */
  uint64_t params; /* FNV-1a of the parameter sets' bytes, 0 when none */
} scan;

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static void digest_params(scan *s, const uint8_t *nal, size_t len) {
  uint64_t h = s->params ? s->params : FNV_OFFSET;
  for (size_t i = 0; i < len; i++) h = (h ^ nal[i]) * FNV_PRIME;
  s->params = h ? h : 1; /* 0 means none */
}

/* Whether an SEI NAL unit's payload (after its header byte) holds only
 * messages about the picture it comes with that change no pixel: buffering
 * period (0), picture timing (1), registered user data (4: captions, AFD).
 * Its picture may then be left out with it.  Any other message (a recovery
 * point decides which frames are output; user data unregistered can carry
 * the x264 version, which selects decoder workarounds; film grain), an SEI
 * over 4 KiB, or anything malformed is not. */
static int sei_harmless(const uint8_t *p, size_t n) {
  uint8_t rbsp[4096];
  size_t m = 0;
  int zeros = 0;
  for (size_t i = 0; i < n; i++) { /* drop emulation-prevention bytes (00 00 03) */
    if (zeros >= 2 && p[i] == 3) {
      zeros = 0;
      continue;
    }
    if (m == sizeof rbsp) return 0;
    rbsp[m++] = p[i];
    zeros = p[i] == 0 ? zeros + 1 : 0;
  }
  while (m > 0 && rbsp[m - 1] == 0) m--;   /* trailing zero bytes */
  if (m == 0 || rbsp[m - 1] != 0x80) return 0; /* messages are whole bytes: the stop bit is a byte 0x80 */
  m--;
  size_t i = 0;
  while (i < m) {
    size_t type = 0, size = 0;
    while (i < m && rbsp[i] == 0xff) type += 255, i++;
    if (i >= m) return 0;
    type += rbsp[i++];
    while (i < m && rbsp[i] == 0xff) size += 255, i++;
    if (i >= m) return 0;
    size += rbsp[i++];
    if (size > m - i || !(type == 0 || type == 1 || type == 4)) return 0;
    i += size;
  }
  return 1;
}

/* One NAL unit, len >= 1 bytes from its header. */
static void classify(scan *s, const uint8_t *nal, size_t len) {
  uint8_t h = nal[0];
  if (h & 0x80) { /* forbidden_zero_bit */
    s->bad = 1;
    return;
  }
  int type = h & 0x1f, ref = (h >> 5) & 3;
  switch (type) {
  case 1: /* non-IDR slice */
  case 5: /* IDR slice: a reference whatever its nal_ref_idc says (a hostile
           * stream could mark it 0 to have a period's start left out) */
    s->slices++;
    if (ref || type == 5) s->ref_slices++;
    if (type == 5) s->idr++;
    break;
  case 6: /* SEI */
    if (!sei_harmless(nal + 1, len - 1)) s->other++;
    break;
  case 9:  /* access-unit delimiter */
  case 12: /* filler */
    break;
  case 7:  /* sequence parameter set */
  case 8:  /* picture parameter set */
  case 13: /* sequence parameter set extension */
  case 15: /* subset sequence parameter set */
    digest_params(s, nal, len);
    s->other++;
    break;
  default: /* partitions, end of sequence/stream, extensions */
    s->other++;
  }
}

static void scan_au(const uint8_t *p, size_t n, int ls, scan *s) {
  memset(s, 0, sizeof *s);
  if (!p || n == 0 || ls < 0 || ls == 3 || ls > 4) {
    s->bad = 1;
    return;
  }
  if (ls > 0) { /* AVCC: big-endian length, then the NAL unit */
    size_t pos = 0;
    while (pos < n && !s->bad) {
      if (n - pos < (size_t)ls) {
        s->bad = 1;
        break;
      }
      size_t len = 0;
      for (int i = 0; i < ls; i++) len = (len << 8) | p[pos + (size_t)i];
      pos += (size_t)ls;
      if (len == 0 || len > n - pos) {
        s->bad = 1;
        break;
      }
      classify(s, p + pos, len);
      pos += len;
    }
    return;
  }
  /* Annex B: each 00 00 01 starts a NAL unit, which runs to the next one
   * (emulation prevention keeps the sequence out of NAL payloads; trailing
   * zeros are harmless); the bytes before the first are zeros. */
  size_t cur = 0; /* start of the NAL unit being read, 0: none yet */
  for (size_t i = 0; i + 2 < n && !s->bad; i++) {
    if (p[i] != 0 || p[i + 1] != 0 || p[i + 2] != 1) {
      if (!cur && p[i] != 0) s->bad = 1;
      continue;
    }
    if (cur && i == cur) { /* an empty NAL unit */
      s->bad = 1;
      break;
    }
    if (cur) classify(s, p + cur, i - cur);
    cur = i + 3;
    i += 2;
  }
  if (s->bad) return;
  if (!cur || cur >= n) { /* no start code, or one with nothing after it */
    s->bad = 1;
    return;
  }
  classify(s, p + cur, n - cur);
}

int vigil__h264_scan(const uint8_t *data, size_t size, int nal_length_size, unsigned *kind, uint64_t *params) {
  scan s;
  scan_au(data, size, nal_length_size, &s);
  *kind = 0;
  *params = 0;
  if (s.bad) return -1;
  if (s.idr) *kind |= VIGIL__AU_IDR;
  if (s.slices > 0 && s.other == 0) *kind |= VIGIL__AU_SLICES;
  if (s.slices > 0 && s.ref_slices == 0) *kind |= VIGIL__AU_NONREF;
  *params = s.params;
  return 0;
}

unsigned vigil__h264_classify(const uint8_t *data, size_t size, int nal_length_size) {
  unsigned k;
  uint64_t params;
  vigil__h264_scan(data, size, nal_length_size, &k, &params);
  return k;
}

int vigil__h264_disposable(const uint8_t *data, size_t size, int nal_length_size) {
  unsigned k = vigil__h264_classify(data, size, nal_length_size);
  return (k & (VIGIL__AU_SLICES | VIGIL__AU_NONREF)) == (VIGIL__AU_SLICES | VIGIL__AU_NONREF);
}

int vigil__h264_has_idr(const uint8_t *data, size_t size, int nal_length_size) {
  return (vigil__h264_classify(data, size, nal_length_size) & VIGIL__AU_IDR) != 0;
}

int vigil__pts_table_add(vigil__pts_table *t, int64_t pts, unsigned kind) {
  if (t->n == t->cap) { /* the two arrays grow alike, so one capacity serves both */
    size_t cap_order = t->cap, cap_kind = t->cap;
    if (vigil__grow_from((void **)&t->order, &cap_order, t->n + 1, sizeof *t->order, 1024) != VIGIL_OK ||
        vigil__grow_from((void **)&t->kind, &cap_kind, t->n + 1, sizeof *t->kind, 1024) != VIGIL_OK)
      return VIGIL_ENOMEM;
    t->cap = cap_order < cap_kind ? cap_order : cap_kind;
  }
  t->kind[t->n] = (uint8_t)kind;
  t->order[t->n++] = pts;
  return VIGIL_OK;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int vigil__pts_table_finish(vigil__pts_table *t) {
  free(t->sorted);
  t->sorted = NULL;
  t->nranked = 0;
  if (t->n == 0) return VIGIL_OK;
  t->sorted = malloc(t->n * sizeof *t->sorted);
  if (!t->sorted) return VIGIL_ENOMEM;
  for (size_t i = 0; i < t->n; i++)
    if (!(t->kind[i] & VIGIL__AU_DISCARD)) t->sorted[t->nranked++] = t->order[i];
  qsort(t->sorted, t->nranked, sizeof *t->sorted, cmp_i64);
  for (size_t i = 1; i < t->nranked; i++)
    if (t->sorted[i] == t->sorted[i - 1]) return VIGIL_EEXIST;
  return VIGIL_OK;
}

int64_t vigil__pts_table_rank(const vigil__pts_table *t, int64_t pts) {
  size_t lo = 0, hi = t->sorted ? t->nranked : 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->sorted[mid] < pts) lo = mid + 1;
    else hi = mid;
  }
  return t->sorted && lo < t->nranked && t->sorted[lo] == pts ? (int64_t)lo : -1;
}

size_t vigil__pts_table_delay(const vigil__pts_table *t) {
  size_t delay = 0;
  for (size_t d = 0; d < t->n; d++) {
    if (t->kind[d] & VIGIL__AU_DISCARD) continue;
    int64_t r = vigil__pts_table_rank(t, t->order[d]);
    if (r >= 0 && d > (size_t)r && d - (size_t)r > delay) delay = d - (size_t)r;
  }
  return delay;
}

/* Whether demux index d holds a frame whose number is selected. */
static int selected(const vigil__pts_table *t, size_t d, int64_t frame_mod) {
  if (t->kind[d] & VIGIL__AU_DISCARD) return 0;
  int64_t r = vigil__pts_table_rank(t, t->order[d]);
  return r >= 0 && r % frame_mod == 0;
}

size_t vigil__pts_table_plan(const vigil__pts_table *t, int64_t frame_mod, uint8_t *send) {
  const unsigned disposable = VIGIL__AU_SLICES | VIGIL__AU_NONREF;
  size_t skipped = 0;
  for (size_t a = 0; a < t->n;) {
    size_t b = a + 1;
    while (b < t->n && !(t->kind[b] & VIGIL__AU_IDR)) b++;
    /* [a, b) is one IDR period (the first may not start with an IDR; the
     * caller refuses such files).  tail: demux indexes >= tail. */
    size_t tail = a;
    for (size_t d = a; d < b; d++)
      if (selected(t, d, frame_mod)) tail = d + 1;
    int tail_ok = 1;
    for (size_t d = tail; d < b && tail_ok; d++)
      if (!(t->kind[d] & VIGIL__AU_SLICES) && d != a) tail_ok = 0;
    for (size_t d = a; d < b; d++) {
      unsigned k = t->kind[d];
      int need;
      if (tail_ok && d >= tail && (k & VIGIL__AU_SLICES)) need = 0;
      else if ((k & disposable) == disposable && !selected(t, d, frame_mod)) need = 0;
      else need = 1;
      send[d] = (uint8_t)need;
      skipped += !need;
    }
    a = b;
  }
  return skipped;
}

void vigil__pts_table_free(vigil__pts_table *t) {
  free(t->order);
  free(t->kind);
  free(t->sorted);
  memset(t, 0, sizeof *t);
}
