/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_convo.c - conversation scoring speed, messages per second on one
 * core, against a straightforward baseline measured in the same run.
 *
 *   vigil:    vigil_convo_add() per message: normalise, one Hyperscan pass
 *             over all rules, update the sender's state.
 *   baseline: the same normalisation, then every rule compiled on its own
 *             with PCRE2 (JIT) and tried one after the other.
 *
 * Messages come from ../shared/corpora/chat (the first messages of every
 * set, PJ and benign mixed) or, without it, from sentences written here.
 * Both engines must find the same rule kinds in every message (checked on
 * the whole sample: a disagreement is a bug and fails the run).
 * `--smoke` scores the built-in sentences once each: a few milliseconds.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "convo/convo_internal.h"
#include "vigil/convo.h"

static const char *const builtin[] = {
    "hey asl?", "how old are you", "im 13 lol", "you're so pretty and mature for your age",
    "are you home alone?", "when does your mom get home", "don't tell anyone, it's our secret",
    "delete this chat ok", "have you ever had sex", "would you do it for me", "send me a pic",
    "do you have a webcam", "i'll buy you a phone", "add me on snapchat", "wanna meet up saturday?",
    "age is just a number", "sudo apt-get install gnome", "did you try rebooting?", "nice to meet you",
    "where are you from?", "lol", "brb", "what's the weather like there", "i love this song",
    "anyone here from texas?", "ｄｏｎ’ｔ t3ll anyone", "r u hooooome aloooone", "s3nd m3 a p1c",
    "my mom says dinner is ready", "I'm 45 and single", "hi everyone", "good morning room",
    "can you help me with my grub config", "the kernel panics on boot", "I want to fuck you hard",
    "come over tonight", "what are you wearing", "ok", "see ya", "hahaha that's funny",
};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

typedef struct msg {
  char *from, *text;
  size_t len;
} msg;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t load_shared(msg *out, size_t cap) {
  static const char *const files[] = {"grooming_pj.jsonl", "benign_nps_windows50.jsonl", "benign_sexting_adults.jsonl",
                                      "benign_dailydialog.jsonl", "benign_ubuntu_irc.jsonl"};
  size_t n = 0, per_file = cap / 5;
  for (size_t f = 0; f < 5; f++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/corpora/chat/%s", VIGIL_SHARED_DIR, files[f]);
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    char *line = NULL;
    size_t lcap = 0, got = 0;
    while (got < per_file && getline(&line, &lcap, fp) > 0) {
      json_t *r = json_loads(line, 0, NULL);
      size_t i;
      json_t *m;
      json_array_foreach(json_object_get(r, "messages"), i, m) {
        const char *t = json_string_value(json_object_get(m, "text"));
        const char *s = json_string_value(json_object_get(m, "from"));
        if (!t || !s || got >= per_file) continue;
        out[n].from = strdup(s);
        out[n].text = strdup(t);
        if (!out[n].from || !out[n].text) break;
        out[n].len = strlen(t);
        n++;
        got++;
      }
      json_decref(r);
    }
    free(line);
    fclose(fp);
  }
  return n;
}

typedef struct baseline {
  pcre2_code **re;
  pcre2_match_data *md;
  size_t n;
} baseline;

/* One rule after another; returns the mask of kinds hit. */
static unsigned baseline_scan(baseline *b, const char *t, size_t len) {
  unsigned mask = 0;
  for (size_t i = 0; i < b->n; i++) {
    int kind = vigil__convo_rules[i].kind;
    if (mask & (1u << kind)) continue;
    if (pcre2_match(b->re[i], (PCRE2_SPTR)t, len, 0, 0, b->md, NULL) >= 0) mask |= 1u << kind;
  }
  return mask;
}

/* Kinds vigil checks further after the pattern matched (an age in range,
 * a youth cue about the speaker's own life, not "your mom"): the baseline
 * only runs the patterns, so for these it must find at least what vigil
 * finds, not exactly the same. */
static int is_filtered_kind(int k) {
  return k == VIGIL__K_AGE_SELF || k == VIGIL__K_AGE_OTHER || k == VIGIL__K_GRADE_SELF || k == VIGIL__K_YOUTH_CUE;
}

int main(int argc, char **argv) {
  int smoke = argc > 1 && !strcmp(argv[1], "--smoke");
  size_t cap = smoke ? NBUILTIN : 200000;
  msg *msgs = calloc(cap, sizeof *msgs);
  if (!msgs) return 1;
  size_t n = smoke ? 0 : load_shared(msgs, cap);
  const char *source = "../shared/corpora/chat";
  if (n == 0) {
    source = "built-in sentences";
    size_t reps = smoke ? 1 : 2000;
    for (size_t r = 0; r < reps && n < cap; r++)
      for (size_t i = 0; i < NBUILTIN && n < cap; i++) {
        msgs[n].from = strdup(i % 2 ? "a" : "b");
        msgs[n].text = strdup(builtin[i]);
        msgs[n].len = strlen(builtin[i]);
        n++;
      }
  }
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) bytes += msgs[i].len;

  vigil_convo_scorer *sc;
  vigil_error err;
  if (vigil_convo_scorer_new(&sc, &err) != VIGIL_OK) {
    fprintf(stderr, "bench_convo: %s\n", err.message);
    return 1;
  }
  baseline b = {0};
  b.n = vigil__convo_nrules;
  b.re = calloc(b.n, sizeof *b.re);
  for (size_t i = 0; b.re && i < b.n; i++) {
    int ec;
    PCRE2_SIZE eo;
    b.re[i] = pcre2_compile((PCRE2_SPTR)vigil__convo_rules[i].pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
    if (!b.re[i]) {
      fprintf(stderr, "bench_convo: rule %zu does not compile with PCRE2\n", i);
      return 1;
    }
    pcre2_jit_compile(b.re[i], PCRE2_JIT_COMPLETE);
  }
  b.md = pcre2_match_data_create(64, NULL);

  /* Agreement: both engines find the same kinds (see is_filtered_kind). */
  vigil__cnorm norm = {0};
  size_t disagree = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = msgs[i].len > VIGIL_CONVO_MAX_TEXT ? VIGIL_CONVO_MAX_TEXT : msgs[i].len;
    vigil__cnorm_run(&norm, msgs[i].text, len);
    vigil__chits h;
    vigil__cmatcher_scan(sc->m, norm.out, norm.len, &h, NULL);
    unsigned bm = baseline_scan(&b, norm.out, norm.len);
    for (int k = 0; k < VIGIL__K_COUNT; k++) {
      int hv = !!(h.mask & (1u << k)), bv = !!(bm & (1u << k));
      if (is_filtered_kind(k) ? (hv && !bv) : (hv != bv)) {
        if (disagree++ < 5) fprintf(stderr, "disagree on kind %d: \"%.80s\"\n", k, msgs[i].text);
      }
    }
  }
  vigil__cnorm_free(&norm);

  /* vigil: conversations of 50 messages, as a service would see them */
  double t0 = now(), elapsed;
  size_t done = 0, rounds = 0;
  do {
    vigil_convo *c = NULL;
    for (size_t i = 0; i < n; i++) {
      if (i % 50 == 0) {
        vigil_convo_free(c);
        if (vigil_convo_new(sc, &c, NULL) != VIGIL_OK) return 1;
      }
      if (vigil_convo_add(c, msgs[i].from, msgs[i].text, msgs[i].len, NULL) != VIGIL_OK) return 1;
    }
    vigil_convo_free(c);
    done += n;
    rounds++;
    elapsed = now() - t0;
  } while (!smoke && elapsed < 1.0);
  double vigil_rate = (double)done / elapsed;

  /* baseline, on up to 20,000 messages (it is much slower) */
  size_t nb = smoke ? n : (n < 20000 ? n : 20000);
  vigil__cnorm bn = {0};
  unsigned sink = 0;
  t0 = now();
  for (size_t i = 0; i < nb; i++) {
    size_t len = msgs[i * (n / nb)].len;
    vigil__cnorm_run(&bn, msgs[i * (n / nb)].text, len > VIGIL_CONVO_MAX_TEXT ? VIGIL_CONVO_MAX_TEXT : len);
    sink ^= baseline_scan(&b, bn.out, bn.len);
  }
  double base_rate = (double)nb / (now() - t0);
  vigil__cnorm_free(&bn);

  printf("bench_convo: %zu messages (%.1f bytes avg) from %s, %zu rules, 1 thread\n", n, n ? (double)bytes / (double)n : 0,
         source, vigil__convo_nrules);
  printf("  vigil (normalise + Hyperscan, one pass): %12.0f messages/s (%zu rounds)\n", vigil_rate, rounds);
  printf("  baseline (PCRE2-JIT, one rule at a time): %11.0f messages/s\n", base_rate);
  printf("  ratio vigil/baseline: %.1fx   engine disagreements: %zu   (sink %u)\n", vigil_rate / base_rate, disagree,
         sink & 1);

  for (size_t i = 0; i < b.n; i++) pcre2_code_free(b.re[i]);
  free(b.re);
  pcre2_match_data_free(b.md);
  vigil_convo_scorer_free(sc);
  for (size_t i = 0; i < n; i++) {
    free(msgs[i].from);
    free(msgs[i].text);
  }
  free(msgs);
  return disagree ? 1 : 0;
}
