/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_network_images.c - image links in `vigil link`: the PDQ radius
 * index against the pairwise scan it replaced.
 *
 * N ads each carry one image hash: a tenth are near-duplicates (up to 10
 * bits) of an earlier one, the rest random.  In one run it times
 *   baseline  the pairwise scan written here as the linker had it: every
 *             new identifier compared with every earlier one, both read
 *             from hex for each comparison, union-find over those within
 *             31 bits;
 *   vigil     vigil_linker_add_jsonl + vigil_linker_group on the same ads
 *             (identifiers only, no templates);
 * checks that both find the same number of linked hashes, and prints the
 * ratio baseline/vigil.
 *
 *   bench_network_images [--smoke] [--n N]      (default N = 20,000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/network.h"
#include "vigil/pdq.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  uint64_t x = rs += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static size_t find(size_t *p, size_t a) {
  while (p[a] != a) a = p[a] = p[p[a]];
  return a;
}

int main(int argc, char **argv) {
  size_t n = 20000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) n = 2000;
    else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = strtoul(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: bench_network_images [--smoke] [--n N]\n");
      return 2;
    }
  }
  if (n < 2) n = 2;
  vigil_pdq_hash *h = malloc(n * sizeof *h);
  size_t *parent = malloc(n * sizeof *parent), cap = n * 128, len = 0;
  char *buf = malloc(cap);
  if (!h || !parent || !buf) return 1;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && rnd() % 10 == 0) {
      h[i] = h[rnd() % i];
      for (int f = (int)(rnd() % 11); f > 0; f--) {
        int bit = (int)(rnd() % 256);
        h[i].bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      }
    } else {
      for (int b = 0; b < 32; b++) h[i].bytes[b] = (uint8_t)rnd();
    }
    char hex[65];
    vigil_pdq_to_hex(&h[i], hex);
    len += (size_t)snprintf(buf + len, cap - len, "{\"id\":\"a%zu\",\"text\":\"x\",\"images\":[\"%s\"]}\n", i, hex);
  }
  char (*hexes)[65] = malloc(n * sizeof *hexes);
  if (!hexes) return 1;
  for (size_t i = 0; i < n; i++) vigil_pdq_to_hex(&h[i], hexes[i]);
  double t0 = now();
  for (size_t i = 0; i < n; i++) {
    parent[i] = i;
    vigil_pdq_hash a, b;
    if (vigil_pdq_from_hex(hexes[i], 64, &a, NULL)) continue;
    for (size_t j = 0; j < i; j++)
      if (!vigil_pdq_from_hex(hexes[j], 64, &b, NULL) && vigil_pdq_distance(&a, &b) <= 31) {
        size_t ra = find(parent, i), rb = find(parent, j);
        if (ra != rb) parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;
      }
  }
  double scan_s = now() - t0;
  size_t scan_linked = 0;
  for (size_t i = 0; i < n; i++) scan_linked += find(parent, i) != i;

  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.use_templates = 0;
  o.threads = 1;
  vigil_linker *l;
  vigil_error err;
  if (vigil_linker_new(&l, &o, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  t0 = now();
  if (vigil_linker_add_jsonl(l, buf, len, NULL, &err) || vigil_linker_group(l, &err))
    return fprintf(stderr, "%s\n", err.message), 1;
  double vigil_s = now() - t0;
  /* ads in groups, less one per group = hashes linked to an earlier one */
  size_t in_groups = 0, groups = vigil_linker_group_count(l);
  for (size_t g = 0; g < groups; g++) in_groups += vigil_linker_group_get(l, g)->n_ads;
  size_t vigil_linked = in_groups - groups;
  printf("%zu ads, one image each: pairwise scan %.3f s, vigil (index) %.3f s, ratio scan/vigil %.1f\n", n, scan_s,
         vigil_s, vigil_s > 0 ? scan_s / vigil_s : 0.0);
  printf("linked hashes: scan %zu, vigil %zu%s\n", scan_linked, vigil_linked,
         scan_linked == vigil_linked ? "" : "  (DIFFERENT)");
  vigil_linker_free(l);
  free(h);
  free(hexes);
  free(parent);
  free(buf);
  return scan_linked == vigil_linked ? 0 : 1;
}
