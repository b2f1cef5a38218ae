/* SPDX-License-Identifier: Apache-2.0 */
/*
 * contacts_words.c - number words as ads spell digits: "seven", "oh",
 * "twentysix", "twenty-six", "hundred" (00), "thousand" (000), and the
 * misspellings with a zero for the letter o ("f0ur", "tw0", "th0usand").
 *
 * One table, longest spelling first where one word is a prefix of another
 * ("fourteen" before "four", "four" before "for"), so a greedy match is
 * right.  Short words that are also ordinary English ("o", "to", "too",
 * "for") are flagged and only accepted when the caller says the word sits
 * inside a group of other numbers ("3tothree", "26o").
 */
#include "text/text_internal.h"

#include <string.h>

typedef struct numword {
  const char *w;
  const char *d;
  unsigned char shortw; /* ambiguous in prose */
  unsigned char tens;   /* may take a unit word after it */
} numword;

static const numword words[] = {
    {"thousand", "000", 0, 0}, {"hundred", "00", 0, 0},  {"seventeen", "17", 0, 0}, {"seventy", "7", 0, 1},
    {"seven", "7", 0, 0},      {"sixteen", "16", 0, 0},  {"sixty", "6", 0, 1},      {"six", "6", 0, 0},
    {"fourteen", "14", 0, 0},  {"forty", "4", 0, 1},     {"fourty", "4", 0, 1},     {"four", "4", 0, 0},
    {"fifteen", "15", 0, 0},   {"fifty", "5", 0, 1},     {"five", "5", 0, 0},       {"eighteen", "18", 0, 0},
    {"eighty", "8", 0, 1},     {"eight", "8", 0, 0},     {"nineteen", "19", 0, 0},  {"ninety", "9", 0, 1},
    {"nine", "9", 0, 0},       {"thirteen", "13", 0, 0}, {"thirty", "3", 0, 1},     {"three", "3", 0, 0},
    {"twelve", "12", 0, 0},    {"twenty", "2", 0, 1},    {"two", "2", 0, 0},        {"eleven", "11", 0, 0},
    {"ten", "10", 0, 0},       {"one", "1", 0, 0},       {"zero", "0", 0, 0},       {"oh", "0", 0, 0},
    {"too", "2", 1, 0},        {"to", "2", 1, 0},        {"for", "4", 1, 0},        {"o", "0", 1, 0},
};

/* Matches word w at s (letter o may be written as digit 0); returns its length or 0. */
static size_t match_word(const char *s, size_t n, const char *w) {
  size_t k = 0;
  for (; w[k]; k++) {
    if (k >= n) return 0;
    char c = s[k];
    if (c != w[k] && !(w[k] == 'o' && c == '0')) return 0;
  }
  return k;
}

static int first_unit(const char *s, size_t n, char *d, size_t *len) {
  static const char *const units[] = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
  for (int u = 0; u < 9; u++) {
    size_t k = match_word(s, n, units[u]);
    if (k) {
      *d = (char)('1' + u);
      *len = k;
      return 1;
    }
  }
  return 0;
}

size_t vigil__number_word(const char *s, size_t n, char digits[4], int allow_short) {
  if (n == 0) return 0;
  switch (s[0]) { /* first letters of the table: most words are rejected here */
  case 't': case 'h': case 's': case 'f': case 'e': case 'n': case 'o': case 'z': break;
  default: return 0;
  }
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (words[i].w[0] != s[0] || (words[i].shortw && !allow_short)) continue;
    size_t k = match_word(s, n, words[i].w);
    if (!k) continue;
    if (words[i].tens) {
      /* "twentysix", "twenty-six", "twenty six" -> 26; "twenty" -> 20 */
      size_t skip = 0;
      if (k < n && (s[k] == '-' || s[k] == ' ')) skip = 1;
      char u;
      size_t ul;
      if (first_unit(s + k + skip, n - k - skip, &u, &ul)) {
        digits[0] = words[i].d[0];
        digits[1] = u;
        digits[2] = 0;
        return k + skip + ul;
      }
      digits[0] = words[i].d[0];
      digits[1] = '0';
      digits[2] = 0;
      return k;
    }
    size_t dl = strlen(words[i].d);
    memcpy(digits, words[i].d, dl + 1);
    return k;
  }
  return 0;
}
