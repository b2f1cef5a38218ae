/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ages.c - stated ages: "22yo", "22 y/o", "22 years old", "age: 22",
 * "aged 22", "i'm 22", "just turned 17", "twenty two years old", and the
 * " - 22" that ends an ad's title line.
 *
 * Precision first: a number is an age only with one of those cues, never
 * bare (ads are full of prices, heights, hours and phone digits).  Numbers
 * are digit runs of the match view (so look-alike digits are already
 * ASCII) or number words ("twenty two", "seventeen").  A number followed by
 * a unit or mark that makes it something else ("5'4", "100%", "22 lbs",
 * "25 min", "$22") is rejected even after a cue.  Ages outside 10..99 are
 * rejected.
 */
#include "text/text_internal.h"

#include <string.h>

#define AGE_MIN 10
#define AGE_MAX 99
/* bytes around a cue word ("yo", "age", "i'm"...) where its number can be:
 * "twenty two years old" puts 13 bytes between the number's start and the cue */
#define AGE_WINDOW 28

static int at_word(const char *m, size_t n, size_t i, const char *w) {
  if (i >= n || m[i] != w[0]) return 0; /* cheap first-byte test: most calls fail here */
  size_t k = strlen(w);
  if (i + k > n || memcmp(m + i, w, k) != 0) return 0;
  return i + k == n || !vigil__isalnum((unsigned char)m[i + k]);
}

/* Does text ending at i (exclusive) end with word w (then spaces/':')? */
static int before_is(const char *m, size_t i, const char *w) {
  /* at most 4 separators, so a cue word is always near its number (the ad
   * scan only looks around cue words) */
  for (int sep = 0; sep < 4 && i > 0 && (m[i - 1] == ' ' || m[i - 1] == ':' || m[i - 1] == '=' || m[i - 1] == '-'); sep++)
    i--;
  size_t k = strlen(w);
  if (i < k || m[i - k] != w[0] || memcmp(m + i - k, w, k) != 0) return 0;
  return i == k || !vigil__isalnum((unsigned char)m[i - k - 1]);
}

/* "over 40 yrs old", "no one under the age 25", "older than 35": a
 * condition on clients, not the writer's age.  Looks back three words. */
static int client_condition(const char *m, size_t i) {
  static const char *const w[] = {"over", "under", "than", "least", "above", "below", "minimum", "min", "atleast"};
  for (int words = 0; words < 3 && i > 0; words++) {
    while (i > 0 && !vigil__isalpha((unsigned char)m[i - 1])) i--;
    size_t e = i;
    while (i > 0 && vigil__isalpha((unsigned char)m[i - 1])) i--;
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++)
      if (strlen(w[k]) == e - i && !memcmp(m + i, w[k], e - i)) return 1;
  }
  return 0;
}

static size_t skip_sp(const char *m, size_t n, size_t i) {
  for (int sep = 0; sep < 3 && i < n && (m[i] == ' ' || m[i] == '-'); sep++) i++;
  return i;
}

/* Reads a number at i: digits or number words ("twenty two").  Returns its
 * end (or i if none) and its value. */
static size_t read_number(const char *m, size_t n, size_t i, int *value) {
  if (i < n && vigil__isdigit((unsigned char)m[i])) {
    if (i > 0 && (vigil__isalnum((unsigned char)m[i - 1]) || m[i - 1] == '$' || m[i - 1] == '.')) return i;
    size_t j = i;
    int v = 0;
    while (j < n && vigil__isdigit((unsigned char)m[j]) && j - i < 4) v = v * 10 + (m[j++] - '0');
    if (j < n && vigil__isdigit((unsigned char)m[j])) return i;
    *value = v;
    return j;
  }
  if (i < n && vigil__isalpha((unsigned char)m[i]) && (i == 0 || !vigil__isalnum((unsigned char)m[i - 1]))) {
    char d[4];
    size_t w = vigil__number_word(m + i, n - i, d, 0);
    if (!w || (i + w < n && vigil__isalpha((unsigned char)m[i + w]))) return i;
    if (strlen(d) > 2 || d[0] == 0) return i;
    *value = d[1] ? (d[0] - '0') * 10 + (d[1] - '0') : d[0] - '0';
    return i + w;
  }
  return i;
}

/* Can read_number() find a number at i?  (A digit, or a letter starting a
 * word.)  Elsewhere age_at() does nothing but return i + 1, so the cue
 * windows skip those positions without the call. */
static inline int may_start_number(const char *m, size_t i) {
  unsigned char c = (unsigned char)m[i];
  return vigil__isdigit(c) || (vigil__isalpha(c) && (i == 0 || !vigil__isalnum((unsigned char)m[i - 1])));
}

/* The number [a, b) is something other than an age when followed by these. */
static int spoiled_after(const char *m, size_t n, size_t b) {
  if (b < n && strchr("'\"%$.,:/", m[b]) && b + 1 < n && vigil__isdigit((unsigned char)m[b + 1])) return 1;
  if (b < n && (m[b] == '\'' || m[b] == '"' || m[b] == '%' || m[b] == '$' || m[b] == '+')) return 1;
  size_t i = b;
  while (i < n && m[i] == ' ') i++;
  static const char *const units[] = {"lbs", "lb", "kg", "pounds", "min", "mins", "minutes", "hr", "hrs", "hour",
                                      "hours", "am", "pm", "roses", "dollars", "inch", "inches", "ft", "feet",
                                      "percent", "k", "dd", "d", "c", "b"};
  for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
    if (at_word(m, n, i, units[u])) return 1;
  return 0;
}

static int years_old_after(const char *m, size_t n, size_t b, size_t *end) {
  size_t i = skip_sp(m, n, b);
  static const char *const yo[] = {"yo", "y/o", "y.o", "yrs old", "yr old", "years old", "year old", "yrs young",
                                   "years young", "year-old", "years-old", "yrsold", "yearsold", "yoa"};
  if (i >= n || m[i] != 'y') return 0; /* every form starts with 'y' */
  for (size_t k = 0; k < sizeof yo / sizeof yo[0]; k++) {
    size_t l = strlen(yo[k]);
    if (i + l <= n && !memcmp(m + i, yo[k], l) && (i + l == n || !vigil__isalnum((unsigned char)m[i + l]))) {
      *end = i + l;
      return 1;
    }
  }
  return 0;
}

static int push_age(const vigil_text *t, vigil_ages *out, int v, size_t a, size_t b) {
  if (v < AGE_MIN || v > AGE_MAX) return VIGIL_OK;
  vigil_age x;
  x.years = v;
  x.span = vigil_text_span(t, a, b);
  for (size_t i = 0; i < out->n; i++)
    if (out->v[i].years == v && out->v[i].span.start == x.span.start) return VIGIL_OK;
  return vigil__ages_push(out, &x);
}

/* Tries an age starting at i; returns where scanning may resume (> i). */
static size_t age_at(const vigil_text *t, vigil_ages *out, size_t i, size_t first_nl, int *rc) {
  const char *m = t->match;
  size_t n = t->len;
  int v = -1;
  size_t b = read_number(m, n, i, &v);
  if (b == i) return i + 1;
  size_t end = b;
  int is_age = 0;
  if (!spoiled_after(m, n, b)) {
    if (years_old_after(m, n, b, &end)) is_age = 1;
    else if (before_is(m, i, "age") || before_is(m, i, "aged") || before_is(m, i, "age is") ||
             before_is(m, i, "i'm") || before_is(m, i, "im") || before_is(m, i, "i am") ||
             before_is(m, i, "turned") || before_is(m, i, "barely") || before_is(m, i, "edad")) {
      /* "i'm 22" but not "i'm 5 minutes away" (units rejected above) nor
       * "im 1 of a kind" */
      size_t j = b;
      while (j < n && m[j] == ' ') j++;
      static const char *const not_age[] = {"of", "star", "stars", "x", "miles", "mi", "blocks", "times",
                                            "inches", "in", "out", "more", "girls", "min", "minutes"};
      int bad = 0;
      for (size_t q = 0; q < sizeof not_age / sizeof not_age[0]; q++)
        if (at_word(m, n, j, not_age[q])) bad = 1;
      if (!bad) is_age = !(before_is(m, i, "im") || before_is(m, i, "i'm") || before_is(m, i, "i am")) || v >= 12;
      if (j < n && (m[j] == '%' || m[j] == '/')) is_age = 0;
    } else if (b == first_nl || (b + 1 == first_nl && m[b] == ' ')) {
      /* " - 22" closing the title line */
      size_t k = i;
      while (k > 0 && m[k - 1] == ' ') k--;
      if (k > 1 && m[k - 1] == '-' && m[k - 2] == ' ' && b - i <= 2 && v >= 18) is_age = 1;
    } else {
      size_t j = skip_sp(m, n, b);
      if (at_word(m, n, j, "age") && !(j + 3 < n && m[j + 3] == ':')) {
        is_age = 1;
        end = j + 3;
      }
    }
  }
  if (is_age && !client_condition(m, i)) *rc = push_age(t, out, v, i, end);
  return b > i ? b : i + 1;
}

static size_t first_line_end(const vigil_text *t) {
  const char *nl = memchr(t->match, '\n', t->len);
  return nl ? (size_t)(nl - t->match) : t->len;
}

/* Ages in document order (windows may be visited out of order). */
static void sort_ages(vigil_ages *a, size_t from) {
  for (size_t i = from + 1; i < a->n; i++) {
    vigil_age x = a->v[i];
    size_t j = i;
    while (j > from && a->v[j - 1].span.start > x.span.start) {
      a->v[j] = a->v[j - 1];
      j--;
    }
    a->v[j] = x;
  }
}

int vigil_ages_extract(const vigil_text *t, vigil_ages *out, vigil_error *err) {
  if (!t || !out) return vigil__seterr(err, VIGIL_EINVAL, "ages: null argument");
  if (!t->match) return VIGIL_OK;
  size_t first_nl = first_line_end(t), from = out->n;
  int rc = VIGIL_OK;
  for (size_t i = 0; i < t->len && rc == VIGIL_OK;)
    i = may_start_number(t->match, i) ? age_at(t, out, i, first_nl, &rc) : i + 1;
  if (rc != VIGIL_OK) return vigil__seterr(err, rc, "ages: out of memory");
  sort_ages(out, from);
  return VIGIL_OK;
}

int vigil__ages_extract_at(const vigil_text *t, vigil_ages *out, const size_t *cues, size_t ncues) {
  if (!t->match) return VIGIL_OK;
  size_t first_nl = first_line_end(t), from = out->n;
  int rc = VIGIL_OK;
  /* the title suffix " - 22" has no cue word: look at the first line's end */
  size_t k = first_nl;
  while (k > 0 && t->match[k - 1] == ' ') k--;
  size_t d = k;
  while (d > 0 && k - d < 3 && vigil__isdigit((unsigned char)t->match[d - 1])) d--;
  if (d < k) age_at(t, out, d, first_nl, &rc);
  size_t done = 0; /* positions below this were visited */
  for (size_t c = 0; c < ncues && rc == VIGIL_OK; c++) {
    /* cues are match ends: the cue word itself is up to 10 bytes before */
    size_t a = cues[c] > AGE_WINDOW + 10 ? cues[c] - AGE_WINDOW - 10 : 0, b = cues[c] + AGE_WINDOW;
    if (b > t->len) b = t->len;
    if (a < done) a = done;
    const char *m = t->match;
    for (size_t i = a; i < b && rc == VIGIL_OK; i++)
      if (may_start_number(m, i)) age_at(t, out, i, first_nl, &rc);
    if (b > done) done = b;
  }
  sort_ages(out, from);
  return rc;
}
