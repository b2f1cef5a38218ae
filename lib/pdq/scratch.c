/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scratch.c - per-thread reuse of the PDQ stream's working buffers.
 *
 * Hashing a 1024x768 picture takes about a millisecond, and a fresh set of
 * row buffers (a few hundred KiB) cost about 5% of it in page faults and
 * page clearing: glibc hands the freed memory back to the kernel and the
 * next picture faults it in again.  A batch hashes many pictures of the
 * same sizes on the same threads, so each thread keeps the last few
 * buffers it freed, by exact size, and hands them out again.
 *
 * Bounds: at most SLOTS buffers per thread, none over MAX_BYTES (a huge
 * picture's buffers go back to malloc), freed when the thread exits.
 * Buffers come back with stale contents: callers initialise what they read.
 */
#include "pdq/pdq_internal.h"

#include <pthread.h>
#include <stdlib.h>

#define SLOTS 12
#define MAX_BYTES ((size_t)1 << 20)
#define ALIGN 64

typedef struct cache {
  void *p[SLOTS];
  size_t n[SLOTS];
} cache;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int key_ok;

static void drop(void *arg) {
  cache *c = arg;
  for (int i = 0; i < SLOTS; i++) free(c->p[i]);
  free(c);
}

static void make_key(void) { key_ok = pthread_key_create(&key, drop) == 0; }

static cache *mine(int create) {
  pthread_once(&once, make_key);
  if (!key_ok) return NULL;
  cache *c = pthread_getspecific(key);
  if (!c && create && (c = calloc(1, sizeof *c)) && pthread_setspecific(key, c) != 0) {
    free(c);
    c = NULL;
  }
  return c;
}

void *vigil__scratch_get(size_t bytes) {
  size_t rounded = (bytes + ALIGN - 1) / ALIGN * ALIGN;
  if (!rounded) rounded = ALIGN;
  cache *c = rounded <= MAX_BYTES ? mine(0) : NULL;
  for (int i = 0; c && i < SLOTS; i++)
    if (c->p[i] && c->n[i] == rounded) {
      void *p = c->p[i];
      c->p[i] = NULL;
      return p;
    }
  return aligned_alloc(ALIGN, rounded);
}

void vigil__scratch_put(void *p, size_t bytes) {
  if (!p) return;
  size_t rounded = (bytes + ALIGN - 1) / ALIGN * ALIGN;
  if (!rounded) rounded = ALIGN;
  cache *c = rounded <= MAX_BYTES ? mine(1) : NULL;
  for (int i = 0; c && i < SLOTS; i++)
    if (!c->p[i]) {
      c->p[i] = p;
      c->n[i] = rounded;
      return;
    }
  free(p);
}
