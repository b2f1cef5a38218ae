/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convo_internal.h - pieces of the conversation scorer shared by
 * lib/convo/convo_*.c, never installed.
 *
 *   convo_norm.c   text -> matching form, with a map back to the original
 *   convo_rules.c  the lexicon and its one-pass multi-pattern scan
 *   convo_score.c  per-participant state and the pair risk
 *   convo_json.c   JSON in, JSON out
 */
#ifndef VIGIL_CONVO_INTERNAL_H
#define VIGIL_CONVO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/convo.h"

/* ---- normalisation ---------------------------------------------------- */

/* The matching form of one message.  Invariant after vigil__cnorm_run():
 * for every byte i < len of out, the original bytes that produced it are
 * [src_start[i], src_end[i]) of the input, and src_start is non-decreasing,
 * so a span [a, b) of out maps back to [src_start[a], src_end[b-1]). */
typedef struct vigil__cnorm {
  char *out;
  uint32_t *src_start, *src_end;
  size_t len, cap;
  size_t run;  /* length of the current run of one letter (see put) */
  int invalid; /* the input had invalid UTF-8 */
} vigil__cnorm;

/* Lower-cases, applies compatibility decomposition + case folding + mark
 * stripping (utf8proc), drops apostrophes, folds curly quotes, collapses
 * white space and letter runs of 3+, and folds leetspeak digits inside
 * words (s3x -> sex, n00ds -> noods; 13yo stays).  len is capped at
 * VIGIL_CONVO_MAX_TEXT by the caller.  Returns VIGIL_OK or VIGIL_ENOMEM. */
int vigil__cnorm_run(vigil__cnorm *n, const char *text, size_t len);
void vigil__cnorm_free(vigil__cnorm *n);

/* ---- rules -------------------------------------------------------------- */

/* What a pattern detects: a stage (0..VIGIL_STAGE_COUNT-1) or one of these. */
enum {
  VIGIL__K_AGE_SELF = VIGIL_STAGE_COUNT, /* "im 13", "13/f": number in the span */
  VIGIL__K_GRADE_SELF,                    /* "im in 8th grade": grade in the span */
  VIGIL__K_MINOR_SELF,                    /* "im in middle school", "im underage" */
  VIGIL__K_AGE_OTHER,                     /* "ur only 14": number in the span */
  VIGIL__K_MINOR_OTHER,                   /* "youre too young" */
  VIGIL__K_YOUTH_CUE,                     /* school, homework, my mom */
  VIGIL__K_COUNT
};

typedef struct vigil__crule {
  int kind;
  const char *pattern; /* over the normalised form */
} vigil__crule;

extern const vigil__crule vigil__convo_rules[];
extern const size_t vigil__convo_nrules;

/* First hit of each kind in one message (start == end == 0 when none). */
typedef struct vigil__chits {
  unsigned mask; /* bit k set when kind k hit */
  size_t start[VIGIL__K_COUNT], end[VIGIL__K_COUNT];
  int age_self, age_other; /* extracted ages, -1 if none */
} vigil__chits;

typedef struct vigil__cmatcher vigil__cmatcher;

int vigil__cmatcher_new(vigil__cmatcher **out, vigil_error *err);
void vigil__cmatcher_free(vigil__cmatcher *m);
/* Scans normalised text; fills hits (offsets in the normalised text). */
int vigil__cmatcher_scan(vigil__cmatcher *m, const char *text, size_t len, vigil__chits *hits,
                         vigil_error *err);

/* Reads the age stated in a matched span [s, e) of normalised text: the
 * last number (digits or English words up to 99) in it; -1 if none or if
 * the word after the span is a unit ("im 15 minutes away"). */
int vigil__convo_span_age(const char *text, size_t len, size_t s, size_t e);

/* The scorer (matcher + scratch) and the normaliser it reuses. */
struct vigil_convo_scorer {
  vigil__cmatcher *m;
  vigil__cnorm norm;
};

#endif
