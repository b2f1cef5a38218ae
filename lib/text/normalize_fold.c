/* SPDX-License-Identifier: Apache-2.0 */
/*
 * normalize_fold.c - the folding tables NFKC does not cover, and tokens.
 *
 * NFKC (utf8proc) already maps fullwidth forms, mathematical alphanumerics,
 * circled letters, superscripts and (①..⑳) circled digits to ASCII.  What
 * it leaves alone, and ads use to dodge filters, is folded here:
 *  - letters of other scripts that look like Latin ones (Cyrillic "о",
 *    Greek "ο", small capitals, ...): a short sorted table searched by
 *    bisection, lower case only because case folding ran first;
 *  - digits with no compatibility mapping: negative circled, dingbat
 *    circled, double circled (❶ ➀ ➊ ⓵ ...);
 *  - decimal digits of every script (Arabic-Indic, Devanagari, Gujarati,
 *    ...): Unicode encodes each script's digits as a contiguous 0..9 run,
 *    so a digit's value is its distance from the first Nd of its run.
 */
#include "text/text_internal.h"

#include <string.h>
#include <utf8proc.h>

typedef struct fold {
  int32_t cp;
  char ascii;
} fold;

/* Sorted by code point.  Lower-case forms only (input is case-folded). */
static const fold confusables[] = {
    {0x00F8, 'o'}, {0x0111, 'd'}, {0x0127, 'h'}, {0x0131, 'i'}, {0x0142, 'l'}, {0x0180, 'b'}, {0x01A5, 'p'},
    {0x0251, 'a'}, {0x0261, 'g'}, {0x026A, 'i'}, {0x0274, 'n'}, {0x0280, 'r'}, {0x028F, 'y'}, {0x029F, 'l'},
    {0x03B1, 'a'}, {0x03B2, 'b'}, {0x03B3, 'y'}, {0x03B5, 'e'}, {0x03B7, 'n'}, {0x03B9, 'i'}, {0x03BA, 'k'},
    {0x03BC, 'u'}, {0x03BD, 'v'}, {0x03BF, 'o'}, {0x03C0, 'n'}, {0x03C1, 'p'}, {0x03C2, 'c'}, {0x03C3, 'o'},
    {0x03C4, 't'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03C9, 'w'}, {0x03F2, 'c'}, {0x03F3, 'j'}, {0x0430, 'a'},
    {0x0432, 'b'}, {0x0435, 'e'}, {0x043A, 'k'}, {0x043C, 'm'}, {0x043D, 'h'}, {0x043E, 'o'}, {0x043F, 'n'},
    {0x0440, 'p'}, {0x0441, 'c'}, {0x0442, 't'}, {0x0443, 'y'}, {0x0445, 'x'}, {0x044C, 'b'}, {0x0455, 's'},
    {0x0456, 'i'}, {0x0458, 'j'}, {0x0475, 'v'}, {0x04AF, 'y'}, {0x04BB, 'h'}, {0x04CF, 'l'}, {0x0501, 'd'},
    {0x051B, 'q'}, {0x051D, 'w'}, {0x0561, 'w'}, {0x0566, 'q'}, {0x0570, 'h'}, {0x057D, 'u'}, {0x0585, 'o'},
    {0x1D00, 'a'}, {0x1D04, 'c'}, {0x1D05, 'd'}, {0x1D07, 'e'}, {0x1D0A, 'j'}, {0x1D0B, 'k'}, {0x1D0D, 'm'},
    {0x1D0F, 'o'}, {0x1D18, 'p'}, {0x1D1B, 't'}, {0x1D1C, 'u'}, {0x1D20, 'v'}, {0x1D21, 'w'}, {0x1D22, 'z'},
    {0xA731, 's'}, {0xAB75, 'i'}, {0xAB83, 'w'},
};

int vigil__confusable(int32_t cp) {
  size_t lo = 0, hi = sizeof confusables / sizeof confusables[0];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (confusables[mid].cp == cp) return confusables[mid].ascii;
    if (confusables[mid].cp < cp) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

static const char *const numtxt[21] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9", "10",
                                       "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"};

const char *vigil__special_digits(int32_t cp) {
  if (cp >= 0x2776 && cp <= 0x277F) return numtxt[cp - 0x2776 + 1]; /* ❶..❿ */
  if (cp >= 0x2780 && cp <= 0x2789) return numtxt[cp - 0x2780 + 1]; /* ➀..➉ */
  if (cp >= 0x278A && cp <= 0x2793) return numtxt[cp - 0x278A + 1]; /* ➊..➓ */
  if (cp >= 0x24EB && cp <= 0x24F4) return numtxt[cp - 0x24EB + 11]; /* ⓫..⓴ */
  if (cp >= 0x24F5 && cp <= 0x24FE) return numtxt[cp - 0x24F5 + 1]; /* ⓵..⓾ */
  if (cp == 0x24FF || cp == 0x24EA || cp == 0x1F10B || cp == 0x1F10C) return "0"; /* ⓿ ⓪ 🄋 🄌 */
  if (cp == 0x1F51F) return "10";                                            /* keycap ten */
  return NULL;
}

int vigil__nd_value(int32_t cp) {
  int v = 0;
  while (v < 64 && cp - v - 1 >= 0 && utf8proc_category(cp - v - 1) == UTF8PROC_CATEGORY_ND) v++;
  return v % 10;
}

int vigil__is_emoji(int32_t cp) {
  if ((cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) || (cp >= 0x2B00 && cp <= 0x2BFF) ||
      (cp >= 0x2300 && cp <= 0x23FF) || (cp >= 0x2190 && cp <= 0x21FF) || cp == 0x203C || cp == 0x2049 ||
      cp == 0x3030 || cp == 0x303D || cp == 0x3297 || cp == 0x3299)
    return 1;
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_SO;
}

int vigil_text_next_token(const vigil_text *t, size_t *pos, vigil_token *tok) {
  if (!t || !pos || !tok || !t->match) return 0;
  const uint8_t *m = (const uint8_t *)t->match;
  size_t i = *pos, n = t->len;
  while (i < n) {
    uint8_t c = m[i];
    if (c == ' ' || c == '\n') {
      i++;
      continue;
    }
    size_t j = i;
    if (c < 0x80) {
      if (vigil__isdigit(c)) {
        while (j < n && vigil__isdigit(m[j])) j++;
        tok->type = VIGIL_TOK_NUMBER;
      } else if (vigil__isalpha(c)) {
        while (j < n && (vigil__isalpha(m[j]) || m[j] == '\'')) j++;
        tok->type = VIGIL_TOK_WORD;
      } else {
        j++;
        tok->type = VIGIL_TOK_SYMBOL;
      }
    } else {
      utf8proc_int32_t cp;
      size_t rest = n - i;
      utf8proc_ssize_t r = utf8proc_iterate(m + i, rest > 4 ? 4 : (utf8proc_ssize_t)rest, &cp);
      if (r <= 0) r = 1, cp = 0xFFFD;
      j = i + (size_t)r;
      if (vigil__is_emoji(cp)) {
        tok->type = VIGIL_TOK_EMOJI;
        /* skin-tone modifiers belong to the emoji before them */
        while (j + 4 <= n && m[j] == 0xF0 && m[j + 1] == 0x9F && m[j + 2] == 0x8F && m[j + 3] >= 0xBB &&
               m[j + 3] <= 0xBF)
          j += 4;
      } else {
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) {
          tok->type = VIGIL_TOK_WORD;
          while (j < n) { /* the rest of a word in any script (or ASCII) */
            if (m[j] < 0x80) {
              if (!vigil__isalpha(m[j])) break;
              j++;
              continue;
            }
            rest = n - j;
            r = utf8proc_iterate(m + j, rest > 4 ? 4 : (utf8proc_ssize_t)rest, &cp);
            if (r <= 0) break;
            cat = utf8proc_category(cp);
            if (!(cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)) break;
            j += (size_t)r;
          }
        } else {
          tok->type = VIGIL_TOK_SYMBOL;
        }
      }
    }
    tok->start = i;
    tok->end = j;
    *pos = j;
    return 1;
  }
  *pos = n;
  return 0;
}
