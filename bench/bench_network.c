/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_network.c - quality and speed of `vigil link`.
 *
 * On the 6,201-ad Backpage corpus (../shared) it measures, in one run:
 *   baseline  an InfoShield-coarse style grouping written here: tf-idf over
 *             word 5-grams, each ad's top-10 phrases, connected components
 *             of the ad-phrase graph;
 *   vigil     the linker with identifiers and templates (and each alone);
 * and prints group counts and sizes, how many phone-linked ad pairs the
 * template links also find and vice versa, the pairwise agreement with the
 * baseline, and the speed ratio vigil/baseline.  Then it links --n ads
 * (default 1,000,000) synthesised by mutating the corpus - digits remapped
 * per operation, names swapped in, words dropped, cities changed - fed in
 * batches of JSON Lines, and prints time, throughput and peak memory.
 *
 *   bench_network [--smoke] [--n N] [--threads T] [--dump-groups FILE]
 *
 * --smoke runs a few thousand synthetic ads from built-in texts (no corpus
 * needed) so ctest keeps the bench working.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>
#include <math.h>

#include "vigil/network.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  uint64_t x = rng_state += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

typedef struct cad {
  char *id, *title, *body, *location, *url;
} cad;

typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t c = b->cap ? b->cap : 1 << 16;
    while (c < b->n + n + 1) c *= 2;
    char *np = realloc(b->p, c);
    if (!np) {
      fprintf(stderr, "out of memory\n");
      exit(2);
    }
    b->p = np;
    b->cap = c;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json(sbuf *b, const char *s) {
  sb_put(b, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      char e[2] = {'\\', (char)*c};
      sb_put(b, e, 2);
    } else if (*c < 0x20) {
      char e[8];
      snprintf(e, sizeof e, "\\u%04x", *c);
      sb_put(b, e, 6);
    } else sb_put(b, (const char *)c, 1);
  }
  sb_put(b, "\"", 1);
}

/* ---------- the corpus ---------- */

static cad *load_corpus(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  cad *v = NULL;
  size_t nv = 0, cap = 0;
  char *line = NULL;
  size_t lcap = 0;
  ssize_t ll;
  while ((ll = getline(&line, &lcap, f)) > 0) {
    json_t *o = json_loadb(line, (size_t)ll, 0, NULL);
    if (!o) continue;
    if (nv == cap) {
      cap = cap ? cap * 2 : 1024;
      v = realloc(v, cap * sizeof *v);
      if (!v) exit(2);
    }
#define S(k) (json_is_string(json_object_get(o, k)) ? strdup(json_string_value(json_object_get(o, k))) : strdup(""))
    v[nv++] = (cad){S("id"), S("title"), S("body"), S("location"), S("url")};
#undef S
    json_decref(o);
  }
  free(line);
  fclose(f);
  *n = nv;
  return v;
}

static void corpus_jsonl(const cad *c, size_t n, sbuf *b) {
  for (size_t i = 0; i < n; i++) {
    sb_str(b, "{\"id\":");
    sb_json(b, c[i].id);
    sb_str(b, ",\"title\":");
    sb_json(b, c[i].title);
    sb_str(b, ",\"body\":");
    sb_json(b, c[i].body);
    sb_str(b, ",\"location\":");
    sb_json(b, c[i].location);
    sb_str(b, ",\"url\":");
    sb_json(b, c[i].url);
    sb_str(b, "}\n");
  }
}

/* ---------- the InfoShield-coarse style baseline ---------- */

typedef struct pd {
  uint64_t phrase;
  uint32_t doc;
  float w;
} pd;

static int cmp_pd(const void *a, const void *b) {
  const pd *x = a, *y = b;
  if (x->phrase != y->phrase) return x->phrase < y->phrase ? -1 : 1;
  return x->doc < y->doc ? -1 : x->doc > y->doc;
}
static int cmp_w(const void *a, const void *b) {
  const pd *x = a, *y = b;
  if (x->w != y->w) return x->w > y->w ? -1 : 1;
  return x->phrase < y->phrase ? -1 : x->phrase > y->phrase;
}
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint32_t uf_find(uint32_t *p, uint32_t x) {
  while (p[x] != x) x = p[x] = p[p[x]];
  return x;
}

/* word 5-gram hashes of a text, lowercased ASCII words */
static size_t grams(const char *t, uint64_t *out, size_t cap) {
  uint64_t w[4096];
  size_t nw = 0;
  for (const char *p = t; *p && nw < 4096;) {
    while (*p && !((*p | 32) >= 'a' && (*p | 32) <= 'z') && !(*p >= '0' && *p <= '9')) p++;
    if (!*p) break;
    uint64_t h = 1469598103934665603ULL;
    while (((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9')) {
      h = (h ^ (uint64_t)(*p | ((*p >= 'A' && *p <= 'Z') ? 32 : 0))) * 1099511628211ULL;
      p++;
    }
    w[nw++] = h;
  }
  size_t n = 0;
  for (size_t i = 0; i + 5 <= nw && n < cap; i++) {
    uint64_t h = 0;
    for (int k = 0; k < 5; k++) h = (h ^ w[i + k]) * 0x100000001b3ULL + (uint64_t)k;
    out[n++] = h ? h : 1;
  }
  return n;
}

/* Returns cluster label per doc (root doc index). */
static uint32_t *baseline(const cad *c, size_t n) {
  pd *all = NULL;
  size_t na = 0, cap = 0;
  uint64_t *g = malloc(8192 * sizeof *g);
  for (size_t d = 0; d < n; d++) {
    char *t = malloc(strlen(c[d].title) + strlen(c[d].body) + 2);
    sprintf(t, "%s %s", c[d].title, c[d].body);
    size_t ng = grams(t, g, 8192);
    free(t);
    for (size_t i = 0; i < ng; i++) {
      if (na == cap) {
        cap = cap ? cap * 2 : 65536;
        all = realloc(all, cap * sizeof *all);
      }
      all[na++] = (pd){g[i], (uint32_t)d, 1};
    }
  }
  free(g);
  qsort(all, na, sizeof *all, cmp_pd);
  /* tf per (phrase, doc), df per phrase */
  pd *tf = malloc((na ? na : 1) * sizeof *tf);
  size_t nt = 0;
  for (size_t i = 0; i < na;) {
    size_t j = i;
    while (j < na && all[j].phrase == all[i].phrase) j++;
    size_t df = 0;
    for (size_t k = i; k < j;) {
      size_t m = k;
      while (m < j && all[m].doc == all[k].doc) m++;
      df++;
      k = m;
    }
    double idf = log((double)n / (double)df);
    for (size_t k = i; k < j;) {
      size_t m = k;
      while (m < j && all[m].doc == all[k].doc) m++;
      tf[nt++] = (pd){all[k].phrase, all[k].doc, (float)((double)(m - k) * idf)};
      k = m;
    }
    i = j;
  }
  free(all);
  /* per doc top-10: sort by doc then weight */
  pd *bydoc = malloc((nt ? nt : 1) * sizeof *bydoc);
  size_t *cnt = calloc(n + 1, sizeof *cnt);
  for (size_t i = 0; i < nt; i++) cnt[tf[i].doc + 1]++;
  for (size_t d = 0; d < n; d++) cnt[d + 1] += cnt[d];
  size_t *fill = calloc(n, sizeof *fill);
  for (size_t i = 0; i < nt; i++) bydoc[cnt[tf[i].doc] + fill[tf[i].doc]++] = tf[i];
  free(fill);
  free(tf);
  pd *top = malloc((n * 10 + 1) * sizeof *top);
  size_t ntop = 0;
  for (size_t d = 0; d < n; d++) {
    qsort(bydoc + cnt[d], cnt[d + 1] - cnt[d], sizeof *bydoc, cmp_w);
    for (size_t k = cnt[d]; k < cnt[d + 1] && k < cnt[d] + 10; k++) top[ntop++] = bydoc[k];
  }
  free(bydoc);
  free(cnt);
  qsort(top, ntop, sizeof *top, cmp_pd);
  uint32_t *p = malloc(n * sizeof *p);
  for (size_t d = 0; d < n; d++) p[d] = (uint32_t)d;
  for (size_t i = 1; i < ntop; i++)
    if (top[i].phrase == top[i - 1].phrase) {
      uint32_t a = uf_find(p, top[i].doc), b = uf_find(p, top[i - 1].doc);
      if (a != b) p[a < b ? b : a] = a < b ? a : b;
    }
  free(top);
  for (size_t d = 0; d < n; d++) p[d] = uf_find(p, (uint32_t)d);
  return p;
}

/* ---------- pair statistics over two labelings ---------- */

static double pairs_of(const uint32_t *lab, size_t n) {
  uint64_t *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = lab[i];
  qsort(v, n, sizeof *v, cmp_u64);
  double s = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && v[j] == v[i]) j++;
    s += (double)(j - i) * (double)(j - i - 1) / 2;
    i = j;
  }
  free(v);
  return s;
}

static double pairs_both(const uint32_t *a, const uint32_t *b, size_t n) {
  uint32_t *c = malloc(n * sizeof *c);
  uint64_t *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (uint64_t)a[i] << 32 | b[i];
  qsort(v, n, sizeof *v, cmp_u64);
  double s = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && v[j] == v[i]) j++;
    s += (double)(j - i) * (double)(j - i - 1) / 2;
    i = j;
  }
  free(c);
  free(v);
  return s;
}

/* group label per ad from a linker grouped with min_size 1 */
static uint32_t *labels(vigil_linker *l, const cad *c, size_t n) {
  uint32_t *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    size_t g = 0;
    v[i] = vigil_linker_group_of(l, c[i].id, &g, NULL) ? (uint32_t)(0x80000000u | i) : (uint32_t)g;
  }
  return v;
}

static vigil_linker *run(const char *buf, size_t len, int idents, int templates, int min_size, int threads, double *secs) {
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.use_identifiers = idents;
  o.use_templates = templates;
  o.min_size = min_size;
  o.threads = threads;
  vigil_linker *l;
  vigil_error err;
  double t0 = now();
  if (vigil_linker_new(&l, &o, &err) || vigil_linker_add_jsonl(l, buf, len, NULL, &err) ||
      vigil_linker_group(l, &err)) {
    fprintf(stderr, "link: %s\n", err.message);
    exit(2);
  }
  if (secs) *secs = now() - t0;
  return l;
}

/* ---------- synthetic ads ---------- */

static const char *const names[] = {"Lily", "Rose", "Dana", "Kira", "Maya", "Nina", "Ivy", "Luna", "Jade", "Zoe",
                                    "Mia", "Ava", "Emma", "Sofia", "Bella", "Chloe", "Ruby", "Lola", "Gia", "Tina",
                                    "Vera", "Yuki", "Amber", "Candy", "Diamond", "Honey", "Jasmine", "Kendra",
                                    "Monica", "Paris", "Sasha", "Tiffany", "Vanessa", "Wendy", "Xena", "Yvonne"};
static const char *const cities[] = {"losangeles", "sf", "sandiego", "sacramento", "fresno", "oakland", "sanjose",
                                     "bakersfield", "modesto", "stockton", "riverside", "orangecounty", "ventura",
                                     "santabarbara", "palmsprings", "reno", "lasvegas", "phoenix", "portland",
                                     "seattle"};

static const char *const smoke_texts[] = {
    "Hi gentlemen my name is Lily and I am a sweet girl visiting your city this week only call me at 213 555 0101 "
    "for an unforgettable time with a real companion",
    "New in town, upscale and discreet, incall and outcall available, serious gentlemen only, text 310-555-0102 "
    "no blocked calls please",
    "Relax your mind and let your body be free, Asian friendly girl come to you anywhere, call 415.555.0103 now",
    "Sunny studio apartment near the park, quiet neighbours, parking included, call 916 555 0104 to view",
};

/* One mutated ad: digits remapped per (base, operation), words swapped/dropped, city changed. */
static void synth(sbuf *b, size_t i, const cad *c, size_t nc) {
  size_t base = rnd() % nc;
  unsigned op = (unsigned)(rnd() % 3);
  uint64_t seed = base * 7919u + op;
  /* digit permutation keeping 0/1 and 2-9 classes (NANP shapes stay valid) */
  char perm[10] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'};
  uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (int k = 9; k > 2; k--) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    int j = 2 + (int)((s >> 33) % (uint64_t)(k - 1));
    char t = perm[k];
    perm[k] = perm[j];
    perm[j] = t;
  }
  if (s & 1) {
    perm[0] = '1';
    perm[1] = '0';
  }
  const char *src[2] = {c[base].title, c[base].body};
  char *out[2];
  for (int f = 0; f < 2; f++) {
    size_t n = strlen(src[f]);
    out[f] = malloc(n + 64);
    size_t o = 0;
    /* word-level edits at one random word position each */
    size_t swap_at = n ? rnd() % (n + 1) : 0, drop_at = (rnd() % 4 == 0 && n) ? rnd() % n : (size_t)-1;
    int swapped = rnd() % 10 < 7 ? 0 : 1, dropping = 0;
    for (size_t k = 0; k < n; k++) {
      char ch = src[f][k];
      int word_start = (k == 0 || src[f][k - 1] == ' ') && ch != ' ';
      if (word_start && !swapped && k >= swap_at) {
        const char *nm = names[rnd() % (sizeof names / sizeof names[0])];
        size_t nl = strlen(nm);
        memcpy(out[f] + o, nm, nl);
        o += nl;
        while (k < n && src[f][k] != ' ') k++;
        swapped = 1;
        if (k < n) out[f][o++] = ' ';
        continue;
      }
      if (word_start && drop_at != (size_t)-1 && k >= drop_at && !dropping) {
        dropping = 1;
        while (k < n && src[f][k] != ' ') k++;
        drop_at = (size_t)-1;
        continue;
      }
      out[f][o++] = ch >= '0' && ch <= '9' ? perm[ch - '0'] : ch;
    }
    out[f][o] = 0;
  }
  const char *city = cities[rnd() % (sizeof cities / sizeof cities[0])];
  char id[32], url[96];
  snprintf(id, sizeof id, "s%zu", i);
  snprintf(url, sizeof url, "http://%s.backpage.com/WomenSeekMen/x/%zu", city, i);
  sb_str(b, "{\"id\":");
  sb_json(b, id);
  sb_str(b, ",\"title\":");
  sb_json(b, out[0]);
  sb_str(b, ",\"body\":");
  sb_json(b, out[1]);
  sb_str(b, ",\"location\":");
  sb_json(b, city);
  sb_str(b, ",\"url\":");
  sb_json(b, url);
  sb_str(b, "}\n");
  free(out[0]);
  free(out[1]);
}

static void sizes_line(vigil_linker *l) {
  size_t h[5] = {0}, held = 0, maxs = 0;
  for (size_t g = 0; g < vigil_linker_group_count(l); g++) {
    size_t s = vigil_linker_group_get(l, g)->n_ads;
    held += s;
    if (s > maxs) maxs = s;
    h[s == 2 ? 0 : s <= 5 ? 1 : s <= 10 ? 2 : s <= 50 ? 3 : 4]++;
  }
  printf("  %zu groups holding %zu ads; sizes 2: %zu, 3-5: %zu, 6-10: %zu, 11-50: %zu, >50: %zu; largest %zu\n",
         vigil_linker_group_count(l), held, h[0], h[1], h[2], h[3], h[4], maxs);
}

static double cpu_secs(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec * 1e-6;
}

static long peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

int main(int argc, char **argv) {
  int smoke = 0, threads = 2;
  size_t n_synth = 1000000;
  const char *dump = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) smoke = 1;
    else if (!strcmp(argv[i], "--n") && i + 1 < argc) n_synth = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--dump-groups") && i + 1 < argc) dump = argv[++i];
    else {
      fprintf(stderr, "usage: bench_network [--smoke] [--n N] [--threads T] [--dump-groups FILE]\n");
      return 2;
    }
  }
  cad *c = NULL;
  size_t nc = 0;
  if (smoke) {
    nc = sizeof smoke_texts / sizeof smoke_texts[0];
    c = calloc(nc, sizeof *c);
    for (size_t i = 0; i < nc; i++) {
      char id[16];
      snprintf(id, sizeof id, "k%zu", i);
      c[i] = (cad){strdup(id), strdup("ad"), strdup(smoke_texts[i]), strdup("LA"), strdup("http://la.x/1")};
    }
    n_synth = 3000;
  } else {
    const char *path = VIGIL_SHARED_DIR "/corpora/ads/backpage_ca_2018.jsonl";
    c = load_corpus(path, &nc);
    if (!c || nc == 0) {
      printf("%s not found: skipping the corpus benchmark\n", path);
      return 77;
    }
  }

  if (!smoke) {
    sbuf b = {0};
    corpus_jsonl(c, nc, &b);
    printf("corpus: %zu ads, %.1f MB of JSON Lines\n", nc, (double)b.n / 1e6);
    /* baseline, timed */
    double t0 = now();
    uint32_t *base = baseline(c, nc);
    double tb = now() - t0;
    double tv;
    vigil_linker *all = run(b.p, b.n, 1, 1, 2, threads, &tv);
    printf("speed on the corpus: vigil link %.3f s (%.0f ads/s, identifiers+templates+grouping+templates), "
           "InfoShield-coarse baseline %.3f s (%.0f ads/s); ratio vigil/baseline throughput %.2fx\n",
           tv, (double)nc / tv, tb, (double)nc / tb, tb / tv);
    printf("vigil link (identifiers + templates, min size 2):\n");
    sizes_line(all);
    if (dump) {
      vigil_error err;
      if (vigil_linker_write_json(all, dump, &err)) fprintf(stderr, "%s\n", err.message);
    }
    vigil_linker *ph = run(b.p, b.n, 1, 0, 1, threads, NULL), *tp = run(b.p, b.n, 0, 1, 1, threads, NULL);
    vigil_linker *al1 = run(b.p, b.n, 1, 1, 1, threads, NULL);
    vigil_linker *ph2 = run(b.p, b.n, 1, 0, 2, threads, NULL), *tp2 = run(b.p, b.n, 0, 1, 2, threads, NULL);
    printf("identifiers only:\n");
    sizes_line(ph2);
    printf("templates only:\n");
    sizes_line(tp2);
    uint32_t *lp = labels(ph, c, nc), *lt = labels(tp, c, nc), *la = labels(al1, c, nc);
    double P = pairs_of(lp, nc), T = pairs_of(lt, nc), PT = pairs_both(lp, lt, nc);
    printf("ad pairs linked: by identifiers %.0f, by templates %.0f, by both %.0f; templates find %.1f%% of "
           "identifier-linked pairs, identifiers find %.1f%% of template-linked pairs\n",
           P, T, PT, P ? 100 * PT / P : 0, T ? 100 * PT / T : 0);
    size_t bc = 0, bads = 0;
    {
      uint32_t *sz = calloc(nc, sizeof *sz);
      for (size_t i = 0; i < nc; i++) sz[base[i]]++;
      for (size_t i = 0; i < nc; i++)
        if (sz[i] >= 2) {
          bc++;
          bads += sz[i];
        }
      free(sz);
    }
    double B = pairs_of(base, nc), AB = pairs_both(la, base, nc), TB = pairs_both(lt, base, nc),
           A = pairs_of(la, nc);
    printf("baseline (InfoShield-coarse): %zu clusters holding %zu ads, %.0f pairs\n", bc, bads, B);
    printf("agreement: vigil (both) links %.1f%% of baseline pairs, baseline links %.1f%% of vigil pairs "
           "(pairwise F1 %.3f); vigil templates alone: %.1f%% / %.1f%%\n",
           B ? 100 * AB / B : 0, A ? 100 * AB / A : 0, (A + B) ? 2 * AB / (A + B) : 0, B ? 100 * TB / B : 0,
           T ? 100 * TB / T : 0);
    free(lp);
    free(lt);
    free(la);
    free(base);
    vigil_linker_free(ph);
    vigil_linker_free(tp);
    vigil_linker_free(al1);
    vigil_linker_free(ph2);
    vigil_linker_free(tp2);
    vigil_linker_free(all);
    free(b.p);
  }

  /* scale: synthetic ads in batches */
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.threads = threads;
  vigil_linker *l;
  vigil_error err;
  if (vigil_linker_new(&l, &o, &err)) return 2;
  double tlink = 0, tgen = 0, cgen = 0, c_start = cpu_secs();
  size_t batch = 50000;
  sbuf b = {0};
  for (size_t i = 0; i < n_synth;) {
    double t0 = now();
    b.n = 0;
    size_t e = i + batch < n_synth ? i + batch : n_synth;
    double c0 = cpu_secs();
    for (; i < e; i++) synth(&b, i, c, nc);
    cgen += cpu_secs() - c0;
    double t1 = now();
    if (vigil_linker_add_jsonl(l, b.p, b.n, NULL, &err)) {
      fprintf(stderr, "%s\n", err.message);
      return 2;
    }
    tgen += t1 - t0;
    tlink += now() - t1;
  }
  double t0 = now();
  if (vigil_linker_group(l, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 2;
  }
  double tgroup = now() - t0, cpu = cpu_secs() - c_start - cgen;
  printf("synthetic: %zu ads (generated in %.1f s, not counted), %d threads: add %.2f s + group %.2f s = %.2f s wall, "
         "%.0f ads/s; CPU %.2f s (all threads); peak RSS %ld MB\n",
         n_synth, tgen, threads, tlink, tgroup, tlink + tgroup, (double)n_synth / (tlink + tgroup), cpu, peak_rss_mb());
  sizes_line(l);
  int ok = vigil_linker_group_count(l) > 0;
  vigil_linker_free(l);
  free(b.p);
  for (size_t i = 0; i < nc; i++) {
    free(c[i].id);
    free(c[i].title);
    free(c[i].body);
    free(c[i].location);
    free(c[i].url);
  }
  free(c);
  return ok ? 0 : 1;
}
