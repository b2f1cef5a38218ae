/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_text.c - ad scanning throughput on the Backpage corpus.
 *
 * Measured: the whole per-ad pipeline, vigil_text_normalize() (both views
 * and the offset map) + vigil_ad_scan() (every indicator rule in one
 * Hyperscan pass, contacts, ages, score), single thread, over the ads'
 * title + "\n" + body held in memory (JSON parsing is not timed).
 * Baseline, same run, same texts: the straightforward way - lower-case the
 * text, then run each indicator rule as its own PCRE2 regex (interpreted,
 * and again JIT-compiled), collecting every match.  The baseline does
 * less work (no normalisation, contacts or ages) and is still slower.
 *
 *   bench_text            full corpus (../shared), prints MB/s and ratios
 *   bench_text --smoke    a tiny built-in sample, a few milliseconds
 * Without ../shared the full run exits 77.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/ads_internal.h"
#include "vigil/text.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* per-core figures on a shared machine */
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct corpus {
  char **text;
  size_t *len;
  size_t n, cap, bytes;
} corpus;

static int add(corpus *c, const char *s, size_t n) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 256;
    char **t = realloc(c->text, cap * sizeof *t);
    if (!t) return -1;
    c->text = t;
    size_t *l = realloc(c->len, cap * sizeof *l);
    if (!l) return -1;
    c->len = l;
    c->cap = cap;
  }
  if (!(c->text[c->n] = malloc(n + 1))) return -1;
  memcpy(c->text[c->n], s, n);
  c->text[c->n][n] = 0;
  c->len[c->n++] = n;
  c->bytes += n;
  return 0;
}

static const char *const smoke_ads[] = {
    "Sweet young latina \xF0\x9F\x8D\x92 new in town - 21\nCall 4one5 555 o199, 100% real, no games, incall only",
    "\xE2\x9D\xA4 Upscale companion - 30\nIndependent, screening required. 415-555-0199 janedoe at gmail dot com",
    "Ask for her \xF0\x9F\x91\x91 - 22\nShe is fresh, our girls 150 roses \xE2\x91\xA3\xE2\x91\xA0\xE2\x91\xA4 555 0199",
};

static double run_vigil(const corpus *c, int reps, size_t *hits) {
  vigil_ad_scanner *s = NULL;
  vigil_ad_scratch *x = NULL;
  vigil_error err;
  if (vigil_ad_scanner_new(&s, &err) || vigil_ad_scratch_new(s, &x, &err)) {
    fprintf(stderr, "bench_text: %s\n", err.message);
    exit(1);
  }
  vigil_text t;
  vigil_text_init(&t);
  vigil_ad_result r;
  vigil_ad_result_init(&r);
  *hits = 0;
  double t0 = now();
  for (int k = 0; k < reps; k++)
    for (size_t i = 0; i < c->n; i++) {
      if (vigil_text_normalize(&t, c->text[i], c->len[i], 0, NULL) || vigil_ad_scan(s, x, &t, &r, NULL)) exit(1);
      *hits += r.nhits;
    }
  double dt = now() - t0;
  vigil_ad_result_free(&r);
  vigil_text_free(&t);
  vigil_ad_scratch_free(x);
  vigil_ad_scanner_free(s);
  return dt;
}

/* Normalisation alone, to show where the time goes. */
static double run_normalize(const corpus *c, int reps) {
  vigil_text t;
  vigil_text_init(&t);
  double t0 = now();
  for (int k = 0; k < reps; k++)
    for (size_t i = 0; i < c->n; i++)
      if (vigil_text_normalize(&t, c->text[i], c->len[i], 0, NULL)) exit(1);
  double dt = now() - t0;
  vigil_text_free(&t);
  return dt;
}

static double run_pcre(const corpus *c, int reps, int jit, size_t *hits) {
  size_t n = vigil__ad_nrules;
  pcre2_code **re = calloc(n, sizeof *re);
  pcre2_match_data *md = pcre2_match_data_create(4, NULL);
  if (!re || !md) exit(1);
  for (size_t i = 0; i < n; i++) {
    int e;
    PCRE2_SIZE off;
    re[i] = pcre2_compile((PCRE2_SPTR)vigil__ad_rules[i].pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &e, &off, NULL);
    if (!re[i]) {
      fprintf(stderr, "bench_text: rule %zu does not compile with PCRE2\n", i);
      exit(1);
    }
    if (jit) pcre2_jit_compile(re[i], PCRE2_JIT_COMPLETE);
  }
  char *low = NULL;
  size_t lowcap = 0;
  *hits = 0;
  double t0 = now();
  for (int k = 0; k < reps; k++)
    for (size_t d = 0; d < c->n; d++) {
      size_t len = c->len[d];
      if (len + 1 > lowcap) {
        free(low);
        lowcap = len + 1;
        if (!(low = malloc(lowcap))) exit(1);
      }
      for (size_t j = 0; j < len; j++) {
        char ch = c->text[d][j];
        low[j] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
      }
      for (size_t i = 0; i < n; i++) {
        PCRE2_SIZE at = 0;
        while (at <= len) {
          int rc = pcre2_match(re[i], (PCRE2_SPTR)low, len, at, PCRE2_NO_UTF_CHECK, md, NULL);
          if (rc < 0) break;
          PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
          (*hits)++;
          at = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        }
      }
    }
  double dt = now() - t0;
  free(low);
  for (size_t i = 0; i < n; i++) pcre2_code_free(re[i]);
  free(re);
  pcre2_match_data_free(md);
  return dt;
}

int main(int argc, char **argv) {
  int smoke = argc > 1 && !strcmp(argv[1], "--smoke");
  corpus c = {0};
  int reps = 1;
  if (smoke) {
    for (size_t i = 0; i < sizeof smoke_ads / sizeof smoke_ads[0]; i++)
      if (add(&c, smoke_ads[i], strlen(smoke_ads[i]))) return 1;
    reps = 50;
  } else {
    const char *path = VIGIL_SHARED_DIR "/corpora/ads/backpage_ca_2018.jsonl";
    FILE *f = fopen(path, "r");
    if (!f) {
      printf("SKIP: %s is absent (../shared not present beside the project)\n", path);
      return 77;
    }
    char *line = NULL, *buf = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
      json_t *o = json_loads(line, 0, NULL);
      if (!o) continue;
      const char *ti = json_string_value(json_object_get(o, "title"));
      const char *bo = json_string_value(json_object_get(o, "body"));
      size_t n = (ti ? strlen(ti) : 0) + (bo ? strlen(bo) : 0) + 2;
      free(buf);
      if (!(buf = malloc(n))) return 1;
      snprintf(buf, n, "%s\n%s", ti ? ti : "", bo ? bo : "");
      if (add(&c, buf, strlen(buf))) return 1;
      json_decref(o);
    }
    free(buf);
    free(line);
    fclose(f);
    reps = 3;
  }
  size_t h_v, h_p, h_j;
  run_vigil(&c, 1, &h_v); /* warm up */
  double tv = run_vigil(&c, reps, &h_v);
  double tn = run_normalize(&c, reps);
  double tp = run_pcre(&c, smoke ? reps : 1, 0, &h_p);
  double tj = run_pcre(&c, smoke ? reps : 1, 1, &h_j);
  double mb = (double)c.bytes / 1e6;
  double v = mb * reps / tv, p = mb * (smoke ? reps : 1) / tp, j = mb * (smoke ? reps : 1) / tj;
  printf("corpus: %zu ads, %.2f MB%s\n", c.n, mb, smoke ? " (smoke sample)" : "");
  printf("vigil ad scan (normalise + %zu rules in one Hyperscan pass + contacts + ages): %.1f MB/s, %.0f ads/s\n",
         vigil__ad_nrules, v, c.n * reps / tv);
  printf("  of which normalisation alone: %.1f MB/s (%.0f%% of the time)\n", mb * reps / tn, 100.0 * tn / tv);
  printf("baseline PCRE2 one regex at a time (interpreted): %.1f MB/s   ratio %.1fx\n", p, v / p);
  printf("baseline PCRE2 one regex at a time (JIT):         %.1f MB/s   ratio %.1fx\n", j, v / j);
  printf("indicator hits per pass: vigil %zu, pcre2 %zu\n", h_v / (size_t)reps, h_p / (size_t)(smoke ? reps : 1));
  for (size_t i = 0; i < c.n; i++) free(c.text[i]);
  free(c.text);
  free(c.len);
  return 0;
}
