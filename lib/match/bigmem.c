/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bigmem.c - allocation of the index's large arrays.
 *
 * The index's work is random reads over hundreds of megabytes; with 4 KiB
 * pages nearly every one of them also misses the TLB, and the page walk
 * costs as much as the read.  Arrays of 2 MiB or more are therefore mapped
 * directly and marked MADV_HUGEPAGE (transparent huge pages, where the
 * kernel allows them), which halves query time at a million hashes and more.
 * Smaller arrays come from aligned_alloc.  The caller passes the same byte
 * count to free as to alloc, which is how the two kinds are told apart.
 * Every array is 64-byte aligned.
 */
#include <string.h>
#include <sys/mman.h>

#include "common/internal.h"
#include "match/match_internal.h"

#define BIG ((size_t)2 << 20)

static size_t round_to(size_t n, size_t a) { return (n + a - 1) / a * a; }

void *vigil__big_alloc(size_t bytes, bool zero) {
  if (bytes == 0) bytes = 1;
  if (bytes > SIZE_MAX - BIG) return NULL;
  if (bytes < BIG) {
    void *p = aligned_alloc(64, round_to(bytes, 64));
    if (p && zero) memset(p, 0, bytes);
    return p;
  }
  void *p = mmap(NULL, round_to(bytes, BIG), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, round_to(bytes, BIG), MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
  return p; /* anonymous mappings are zeroed */
}

void vigil__big_free(void *p, size_t bytes) {
  if (!p) return;
  if (bytes == 0) bytes = 1;
  if (bytes < BIG) free(p);
  else munmap(p, round_to(bytes, BIG));
}

void *vigil__big_realloc(void *p, size_t old, size_t bytes) {
  if (p && old >= BIG && round_to(old, BIG) >= bytes && bytes >= BIG) return p;
  void *n = vigil__big_alloc(bytes, false);
  if (!n) return NULL;
  if (p) {
    memcpy(n, p, old < bytes ? old : bytes);
    vigil__big_free(p, old);
  }
  return n;
}
