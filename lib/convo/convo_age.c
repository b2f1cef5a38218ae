/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convo_age.c - reading the number out of an age or grade statement.
 *
 * The age rules of convo_rules.c match "im 13", "im thirteen", "14/f",
 * "8th grade"; this file reads the number back from the matched span of
 * the matching form: the LAST number in the span, written in digits or in
 * English words up to ninety-nine, ordinals included ("eighth" = 8).  A
 * number followed by a unit ("im 15 minutes away", "im 20 miles from")
 * is not an age, so the word after the span is checked too.
 */
#include "convo/convo_internal.h"

#include <string.h>

static const char *const small[] = {"zero",    "one",     "two",       "three",    "four",
                                    "five",    "six",     "seven",     "eight",    "nine",
                                    "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const ordinal[] = {"",      "first",  "second", "third", "fourth",   "fifth",  "sixth",
                                      "seventh", "eighth", "ninth",  "tenth", "eleventh", "twelfth"};
static const char *const tens[] = {"twenty", "thirty", "forty", "fourty", "fifty", "sixty",
                                   "seventy", "eighty", "ninety"};
static const int tens_val[] = {20, 30, 40, 40, 50, 60, 70, 80, 90};

static const char *const units[] = {"min",   "mins",  "minute", "minutes", "hour",  "hours", "hr",      "hrs",
                                    "sec",   "secs",  "second", "seconds", "mile",  "miles", "km",
                                    "pm",    "am",    "dollars", "bucks",  "inches", "inch", "ft",      "feet",
                                    "lbs",   "pounds", "kg",    "times",   "days",  "day",   "weeks",   "week",
                                    "months", "month", "mph",   "oclock",  "percent", "cents", "people", "%",
                                    "kids"};

static int word_eq(const char *w, size_t n, const char *lit) { return strlen(lit) == n && !memcmp(w, lit, n); }

static int word_value(const char *w, size_t n) {
  for (int i = 0; i < 20; i++)
    if (word_eq(w, n, small[i])) return i;
  for (int i = 1; i <= 12; i++)
    if (word_eq(w, n, ordinal[i])) return i;
  for (int i = 0; i < 9; i++) {
    size_t tl = strlen(tens[i]);
    if (n >= tl && !memcmp(w, tens[i], tl)) {
      if (n == tl) return tens_val[i];
      /* "twentysix" written as one word */
      for (int k = 1; k < 10; k++)
        if (word_eq(w + tl, n - tl, small[k])) return tens_val[i] + k;
    }
  }
  return -1;
}

static int is_wordc(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

int vigil__convo_span_age(const char *t, size_t len, size_t s, size_t e) {
  if (e > len || s >= e) return -1;
  int val = -1, prev_tens = -1;
  size_t i = s;
  while (i < e) {
    if (!is_wordc((unsigned char)t[i])) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < e && is_wordc((unsigned char)t[j])) j++;
    if (t[i] >= '0' && t[i] <= '9') {
      int v = 0;
      size_t k = i;
      while (k < j && t[k] >= '0' && t[k] <= '9' && v < 1000) v = v * 10 + (t[k++] - '0');
      /* digits then a suffix: 8th, 13yo, 14f */
      val = v;
      prev_tens = -1;
    } else {
      int v = word_value(t + i, j - i);
      if (v >= 0) {
        if (prev_tens >= 0 && v > 0 && v < 10) val = prev_tens + v; /* "twenty two" */
        else val = v;
        prev_tens = (v >= 20 && v % 10 == 0) ? v : -1;
      } else {
        prev_tens = -1;
      }
    }
    i = j;
  }
  if (val < 0) return -1;
  /* The word after the span must not be a unit. */
  size_t k = e;
  while (k < len && t[k] == ' ') k++;
  size_t w = k;
  while (w < len && (is_wordc((unsigned char)t[w]) || t[w] == '%')) w++;
  if (w > k)
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
      if (word_eq(t + k, w - k, units[u])) return -1;
  return val;
}
