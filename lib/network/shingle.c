/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shingle.c - from text to the sets that template linking compares.
 *
 * Tokens are runs of Unicode letters and numbers (utf8proc categories L*,
 * N*, plus combining marks so accented words stay whole); everything else,
 * including emoji, punctuation and invalid UTF-8 bytes, separates tokens.
 * A token is hashed lowercased ("exact", used to align templates) and again
 * with every all-digit token replaced by "#" ("norm", used for shingles) so
 * that ads differing only in their phone numbers, prices or ages still share
 * shingles.  Shingles are NET_SHINGLE consecutive normalised tokens.
 *
 * The signature is a one-permutation MinHash: each shingle hash falls in one
 * of NET_K bins and the bin keeps its minimum; empty bins borrow from the
 * next non-empty bin (rotation densification) so every bin is defined.
 * NET_BANDS bands of NET_ROWS bins each are hashed into band keys: two ads
 * with Jaccard J share some band key with probability 1-(1-J^4)^16
 * (0.64 at J=0.5, 0.89 at 0.6, 0.99 at 0.7).
 */
#include "network/net_internal.h"

#include <string.h>
#include <utf8proc.h>

static int is_word_cp(utf8proc_int32_t c) {
  if (c < 128) return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
  switch (utf8proc_category(c)) {
  case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_MN:
  case UTF8PROC_CATEGORY_MC:
    return 1;
  default:
    return 0;
  }
}

int vigil__net_tokenize(const char *text, size_t len, vigil__net_tok **out, size_t *n) {
  vigil__net_tok *v = NULL;
  size_t nv = 0, cap = 0;
  size_t i = 0;
  while (i < len) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &c);
    if (k <= 0) { /* invalid byte: a separator */
      i++;
      continue;
    }
    if (!is_word_cp(c)) {
      i += (size_t)k;
      continue;
    }
    /* a token: hash lowercased code points as we go */
    size_t start = i;
    uint64_t h = 0x84222325cbf29ce4ULL;
    int digits = 1;
    while (i < len) {
      k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &c);
      if (k <= 0 || !is_word_cp(c)) break;
      if (!(c >= '0' && c <= '9')) digits = 0;
      utf8proc_int32_t lc = c < 128 ? ((c >= 'A' && c <= 'Z') ? c + 32 : c) : utf8proc_tolower(c);
      h = vigil__net_mix64(h ^ (uint64_t)(uint32_t)lc) + 0x9e3779b97f4a7c15ULL;
      i += (size_t)k;
    }
    if (vigil__grow((void **)&v, &cap, nv + 1, sizeof *v) != VIGIL_OK) {
      free(v);
      return VIGIL_ENOMEM;
    }
    v[nv].start = (uint32_t)start;
    v[nv].len = (uint32_t)(i - start);
    v[nv].exact = h;
    v[nv].norm = digits ? 0x23232323ULL : h;
    v[nv].digits = (uint8_t)digits;
    nv++;
  }
  *out = v;
  *n = nv;
  return VIGIL_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int vigil__net_shingles(const vigil__net_tok *t, size_t nt, uint32_t **out, uint32_t *n) {
  *out = NULL;
  *n = 0;
  if (nt < NET_SHINGLE) return VIGIL_OK;
  size_t m = nt - NET_SHINGLE + 1;
  uint32_t *s = vigil__mallocarray(m, sizeof *s);
  if (!s) return VIGIL_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    uint64_t h = 0x51afd7ed558ccdffULL;
    for (size_t j = 0; j < NET_SHINGLE; j++) h = vigil__net_mix64(h ^ t[i + j].norm) + j;
    s[i] = (uint32_t)(h >> 32);
  }
  qsort(s, m, sizeof *s, cmp_u32);
  size_t u = 0;
  for (size_t i = 0; i < m; i++)
    if (u == 0 || s[u - 1] != s[i]) s[u++] = s[i];
  *out = s;
  *n = (uint32_t)u;
  return VIGIL_OK;
}

void vigil__net_band_keys(const uint32_t *sh, uint32_t n, uint64_t keys[NET_BANDS]) {
  uint32_t bin[NET_K];
  uint8_t full[NET_K];
  memset(full, 0, sizeof full);
  for (int i = 0; i < NET_K; i++) bin[i] = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t h = vigil__net_mix64(sh[i] ^ 0x2545f4914f6cdd1dULL);
    unsigned b = (unsigned)(h >> 58); /* top 6 bits: NET_K == 64 bins */
    uint32_t v = (uint32_t)h;
    if (!full[b] || v < bin[b]) bin[b] = v;
    full[b] = 1;
  }
  if (n) {
    for (int i = 0; i < NET_K; i++) {
      if (full[i]) continue;
      for (int d = 1; d < NET_K; d++) {
        int j = (i + d) % NET_K;
        if (full[j]) {
          bin[i] = (uint32_t)vigil__net_mix64((uint64_t)bin[j] * 0x9e3779b97f4a7c15ULL + (uint64_t)d);
          break;
        }
      }
    }
  }
  for (int b = 0; b < NET_BANDS; b++) {
    uint64_t h = (uint64_t)b * 0xd6e8feb86659fd93ULL;
    for (int r = 0; r < NET_ROWS; r++) h = vigil__net_mix64(h ^ bin[b * NET_ROWS + r]) + (uint64_t)r;
    keys[b] = h ? h : 1;
  }
}

double vigil__net_jaccard(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb) {
  if (!na || !nb) return 0.0;
  uint32_t i = 0, j = 0, inter = 0;
  while (i < na && j < nb) {
    if (a[i] == b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return (double)inter / (double)(na + nb - inter);
}
