/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convo_norm.c - the matching form of a chat message.
 *
 * Chat text is written fast and sometimes disguised: "U R SO CUTE",
 * "s3xy", "dont tell", "don’t tell", fullwidth or styled letters.  The
 * lexicon in convo_rules.c is written once, in lower-case ASCII without
 * apostrophes, and this file brings every message to that form:
 *
 *   1. decode UTF-8; an invalid byte becomes a space and sets `invalid`
 *      (never an error: hostile bytes must not stop a batch);
 *   2. ASCII is lower-cased directly (the fast path: most chat is ASCII);
 *      any other code point goes through utf8proc with compatibility
 *      decomposition, case folding and mark stripping (NFKD + casefold),
 *      so fullwidth, mathematical and accented letters become plain ones;
 *      curly quotes and modifier apostrophes fold to ASCII ones;
 *   3. apostrophes between letters are dropped (don't -> dont, i'm -> im),
 *      other ones separate ("5'2" is not 52), white space runs
 *      become one space, a run of 3+ identical letters becomes one
 *      ("sooo" -> "so");
 *   4. leetspeak: a digit 0 1 3 4 5 7 (or @, $) after a letter becomes its
 *      letter when a letter, the end of the word, or a second such digit
 *      followed by a letter comes next (s3x -> sex, m3 -> me, n00ds ->
 *      noods); "13yo", "age13" and "8th" stay.
 *
 * Every output byte remembers the input bytes it came from, so a match in
 * the matching form maps back to exactly what the user wrote.
 */
#include "convo/convo_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/internal.h"
#include "common/grow.h"

static int reserve(vigil__cnorm *n, size_t need) {
  if (need <= n->cap) return 0;
  size_t cap = vigil__grow_cap(n->cap, need + 1, sizeof *n->src_start, 256);
  if (!cap) return -1;
  char *o = realloc(n->out, cap + 1);
  if (!o) return -1;
  n->out = o;
  uint32_t *a = vigil__reallocarray(n->src_start, cap, sizeof *a);
  if (!a) return -1;
  n->src_start = a;
  uint32_t *b = vigil__reallocarray(n->src_end, cap, sizeof *b);
  if (!b) return -1;
  n->src_end = b;
  n->cap = cap;
  return 0;
}

static inline int is_alpha(unsigned char c) { return c >= 'a' && c <= 'z'; }

static inline unsigned char lower_ascii(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

static inline char leet_letter(unsigned char c) {
  switch (c) {
  case '0': return 'o';
  case '1': return 'i';
  case '3': return 'e';
  case '4': return 'a';
  case '5': return 's';
  case '7': return 't';
  case '@': return 'a';
  case '$': return 's';
  default: return 0;
  }
}

/* Appends one byte produced by input bytes [s, e), applying the white space
 * and letter-run rules of step 3.  n->run counts the identical letters seen
 * in a row; the third one removes the second and the rest extend the first,
 * so a run of 3+ becomes one letter whose source span covers the run. */
static inline void put(vigil__cnorm *n, unsigned char c, uint32_t s, uint32_t e) {
  if (c == ' ' && (n->len == 0 || n->out[n->len - 1] == ' ')) return;
  if (is_alpha(c) && n->len > 0 && n->out[n->len - 1] == (char)c) {
    n->run++;
    if (n->run == 3) {
      n->len--;
      n->src_end[n->len - 1] = e;
      return;
    }
    if (n->run > 3) {
      n->src_end[n->len - 1] = e;
      return;
    }
  } else {
    n->run = 1;
  }
  n->out[n->len] = (char)c;
  n->src_start[n->len] = s;
  n->src_end[n->len] = e;
  n->len++;
}

static void fold_leet(vigil__cnorm *n) {
  char *o = n->out;
  for (size_t i = 1; i < n->len; i++) {
    char l = leet_letter((unsigned char)o[i]);
    if (!l || !is_alpha((unsigned char)o[i - 1])) continue;
    unsigned char nx = i + 1 < n->len ? (unsigned char)o[i + 1] : 0;
    unsigned char nn = i + 2 < n->len ? (unsigned char)o[i + 2] : 0;
    int word_end = !is_alpha(nx) && !(nx >= '0' && nx <= '9') && !leet_letter(nx);
    if (is_alpha(nx) || (leet_letter(nx) && is_alpha(nn)) || word_end) o[i] = l;
  }
}

int vigil__cnorm_run(vigil__cnorm *n, const char *text, size_t len) {
  n->len = 0;
  n->run = 0;
  n->invalid = 0;
  /* Capacity invariant: cap >= len(out) + bytes left + 16.  An ASCII or
   * invalid byte yields at most one output byte; a multi-byte code point
   * may decompose to up to 18 code points of 4 bytes, so that path
   * reserves again before writing. */
  if (reserve(n, len + 16) != 0) return VIGIL_ENOMEM;
  const uint8_t *p = (const uint8_t *)text;
  size_t i = 0;
  while (i < len) {
    uint8_t c = p[i];
    if (c < 0x80) {
      unsigned char d = (unsigned char)c;
      if (d >= 'A' && d <= 'Z') d = (unsigned char)(d - 'A' + 'a');
      else if (d == '\t' || d == '\n' || d == '\r' || d == '\f' || d == '\v') d = ' ';
      if (d == '\'') {
        /* dropped inside words (don't -> dont); a separator elsewhere (5'2) */
        if (i + 1 < len && is_alpha(lower_ascii(p[i + 1])) && n->len && is_alpha((unsigned char)n->out[n->len - 1])) {
          i++;
          continue;
        }
        d = ' ';
      }
      put(n, d < 0x20 ? ' ' : d, (uint32_t)i, (uint32_t)i + 1);
      i++;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
    if (k <= 0) {
      n->invalid = 1;
      put(n, ' ', (uint32_t)i, (uint32_t)i + 1);
      i++;
      continue;
    }
    uint32_t s = (uint32_t)i, e = (uint32_t)(i + (size_t)k);
    i += (size_t)k;
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC || cp == 0x2032 || cp == 0xFF07) { /* apostrophes, as '\'' */
      if (!(i < len && is_alpha(lower_ascii(p[i])) && n->len && is_alpha((unsigned char)n->out[n->len - 1])))
        put(n, ' ', s, e);
      continue;
    }
    if (cp == 0x201C || cp == 0x201D || cp == 0x2033) {
      put(n, '"', s, e);
      continue;
    }
    utf8proc_int32_t dec[18];
    int last = 0;
    utf8proc_ssize_t nd = utf8proc_decompose_char(
        cp, dec, 18, UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE,
        &last);
    if (nd < 0 || nd > 18) { /* unassigned or oversized: keep as a separator */
      put(n, ' ', s, e);
      continue;
    }
    if (reserve(n, n->len + (size_t)nd * 4 + (len - i) + 16) != 0) return VIGIL_ENOMEM;
    for (utf8proc_ssize_t j = 0; j < nd; j++) {
      utf8proc_int32_t d = dec[j];
      if (d < 0x80) {
        if (d == '\'') continue;
        put(n, (unsigned char)(d < 0x20 ? ' ' : d), s, e);
        continue;
      }
      utf8proc_category_t cat = utf8proc_category(d);
      if (cat == UTF8PROC_CATEGORY_ZS) {
        put(n, ' ', s, e);
        continue;
      }
      uint8_t enc[4];
      utf8proc_ssize_t m = utf8proc_encode_char(d, enc);
      for (utf8proc_ssize_t b = 0; b < m; b++) put(n, enc[b], s, e);
    }
  }
  fold_leet(n);
  n->out[n->len] = 0;
  return VIGIL_OK;
}

void vigil__cnorm_free(vigil__cnorm *n) {
  free(n->out);
  free(n->src_start);
  free(n->src_end);
  memset(n, 0, sizeof *n);
}
