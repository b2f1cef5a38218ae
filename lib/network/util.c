/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.c - the few containers the linker needs: a uint64 -> uint32 hash
 * map (open addressing, linear probing, power-of-two capacity kept at most
 * half full; key 0 is the empty marker, so callers never store key 0 - keys
 * are hashes and a zero hash is remapped to 1), union-find with path halving,
 * a 64-bit string hash and a checked array growth helper.
 */
#include "network/net_internal.h"

#include <string.h>

static uint64_t fix_key(uint64_t k) { return k ? k : 1; }

int vigil__net_u64map_init(vigil__net_u64map *m, size_t hint) {
  size_t cap = 64;
  while (cap < hint * 2) cap <<= 1;
  m->keys = calloc(cap, sizeof *m->keys);
  m->vals = vigil__mallocarray(cap, sizeof *m->vals);
  m->cap = cap;
  m->n = 0;
  if (!m->keys || !m->vals) {
    vigil__net_u64map_free(m);
    return VIGIL_ENOMEM;
  }
  return VIGIL_OK;
}

void vigil__net_u64map_free(vigil__net_u64map *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

static int rehash(vigil__net_u64map *m) {
  vigil__net_u64map nm;
  if (vigil__net_u64map_init(&nm, m->cap) != VIGIL_OK) return VIGIL_ENOMEM;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    size_t j = (size_t)vigil__net_mix64(m->keys[i]) & (nm.cap - 1);
    while (nm.keys[j]) j = (j + 1) & (nm.cap - 1);
    nm.keys[j] = m->keys[i];
    nm.vals[j] = m->vals[i];
  }
  nm.n = m->n;
  vigil__net_u64map_free(m);
  *m = nm;
  return VIGIL_OK;
}

uint32_t *vigil__net_u64map_slot(vigil__net_u64map *m, uint64_t key, int *created) {
  key = fix_key(key);
  if ((m->n + 1) * 2 > m->cap && rehash(m) != VIGIL_OK) return NULL;
  size_t j = (size_t)vigil__net_mix64(key) & (m->cap - 1);
  while (m->keys[j] && m->keys[j] != key) j = (j + 1) & (m->cap - 1);
  *created = !m->keys[j];
  if (*created) {
    m->keys[j] = key;
    m->vals[j] = NET_NONE;
    m->n++;
  }
  return &m->vals[j];
}

uint32_t vigil__net_u64map_get(const vigil__net_u64map *m, uint64_t key) {
  key = fix_key(key);
  if (!m->cap) return NET_NONE;
  size_t j = (size_t)vigil__net_mix64(key) & (m->cap - 1);
  while (m->keys[j]) {
    if (m->keys[j] == key) return m->vals[j];
    j = (j + 1) & (m->cap - 1);
  }
  return NET_NONE;
}

uint32_t vigil__net_uf_find(uint32_t *p, uint32_t x) {
  while (p[x] != x) {
    p[x] = p[p[x]];
    x = p[x];
  }
  return x;
}

int vigil__net_uf_union(uint32_t *p, uint32_t a, uint32_t b) {
  a = vigil__net_uf_find(p, a);
  b = vigil__net_uf_find(p, b);
  if (a == b) return 0;
  if (a < b) p[b] = a;
  else p[a] = b;
  return 1;
}

uint64_t vigil__net_hash64(const void *p, size_t n, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = 0xcbf29ce484222325ULL ^ vigil__net_mix64(seed + 0x9e3779b97f4a7c15ULL);
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = vigil__net_mix64(h ^ w) * 0x100000001b3ULL;
    s += 8;
    n -= 8;
  }
  uint64_t w = 0;
  memcpy(&w, s, n);
  h = vigil__net_mix64(h ^ w ^ ((uint64_t)n << 56));
  return h;
}

