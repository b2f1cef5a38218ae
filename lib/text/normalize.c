/* SPDX-License-Identifier: Apache-2.0 */
/*
 * normalize.c - original UTF-8 -> the match and lex views with an offset map.
 *
 * The text is cut into units: one starter code point plus the marks,
 * variation selectors and keycap enclosers that follow it (at most
 * UNIT_MAX code points; a longer tail of marks starts new units).  Each
 * unit is normalised on its own - keycap sequence -> its digit, special
 * digits (circled, negative circled, ...) -> ASCII digits, otherwise
 * utf8proc NFKC + case fold + mark stripping + lumping of punctuation +
 * removal of default-ignorables, then look-alike letters and digits of
 * every script -> ASCII.  Whatever bytes a unit produces map back to the
 * unit's original span.  Because NFKC composition only ever joins a
 * starter with the marks after it, normalising unit by unit gives the same
 * letters as normalising the whole string, while keeping the map exact.
 *
 * ASCII bytes not followed by a non-ASCII byte take a fast path (lower
 * case, copy, in a loop the compiler vectorises), which is what keeps ad
 * scanning fast: ads are mostly ASCII.  Among the rest, an ASCII byte
 * with no mark after it is folded like the fast path does, and a unit of
 * one or two code points is normalised once per text: its bytes are
 * remembered (emoji and box-drawing runs repeat within an ad; its flags
 * were raised the first time).  Each code point is decoded once: the one
 * that ends a unit starts the next.
 *
 * Invariants kept for every output byte i: src_start[i] <= src_end[i],
 * both non-decreasing in i, src_end[i] <= orig_len.
 */
#include "text/text_internal.h"
#include "common/grow.h"

#include <string.h>
#include <utf8proc.h>

#define UNIT_MAX 32  /* code points in one unit */
#define UNIT_OUT 160 /* code points a unit may normalise to (U+FDFA gives 18) */
#define MEMO_SIZE 64 /* remembered units per text (direct-mapped) */
#define MEMO_OUT 14  /* longest output remembered, in bytes */

/* ASCII byte -> match-view byte: lower case, controls other than '\n' and
 * DEL -> ' '.  Arithmetic rather than a table so that loops over it
 * vectorise. */
static inline unsigned char ascii_fold(unsigned char c) {
  unsigned char l = (unsigned char)(c + (((unsigned)c - 'A' < 26u) << 5));
  return ((c < 0x20 && c != '\n') || c == 0x7f) ? ' ' : l;
}

void vigil_text_init(vigil_text *t) { memset(t, 0, sizeof *t); }

void vigil_text_free(vigil_text *t) {
  if (!t) return;
  free(t->match);
  free(t->lex);
  free(t->src_start);
  free(t->src_end);
  memset(t, 0, sizeof *t);
}

static int reserve(vigil_text *t, size_t need) {
  need += 1; /* the NUL */
  if (need <= t->cap) return VIGIL_OK;
  size_t cap = vigil__grow_cap(t->cap, need, sizeof *t->src_start, 256);
  if (!cap) return VIGIL_ENOMEM;
  char *m = realloc(t->match, cap);
  if (!m) return VIGIL_ENOMEM;
  t->match = m;
  char *l = realloc(t->lex, cap);
  if (!l) return VIGIL_ENOMEM;
  t->lex = l;
  uint32_t *a = vigil__mallocarray(cap, sizeof *a);
  if (!a) return VIGIL_ENOMEM;
  if (t->len) memcpy(a, t->src_start, t->len * sizeof *a);
  free(t->src_start);
  t->src_start = a;
  uint32_t *b = vigil__mallocarray(cap, sizeof *b);
  if (!b) return VIGIL_ENOMEM;
  if (t->len) memcpy(b, t->src_end, t->len * sizeof *b);
  free(t->src_end);
  t->src_end = b;
  t->cap = cap;
  return VIGIL_OK;
}

static inline void put(vigil_text *t, const char *b, size_t k, uint32_t s, uint32_t e) {
  for (size_t j = 0; j < k; j++) {
    t->match[t->len] = b[j];
    t->src_start[t->len] = s;
    t->src_end[t->len] = e;
    t->len++;
  }
}

/* Marks, variation selectors and the keycap encloser stay with their base. */
static int is_extender(int32_t cp) {
  if (cp == 0x20E3 || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF)) return 1;
  if (cp == 0x200D) return 0; /* ZWJ separates emoji; it is dropped as ignorable */
  const utf8proc_property_t *p = utf8proc_get_property(cp);
  return p->combining_class != 0 || p->category == UTF8PROC_CATEGORY_MN ||
         p->category == UTF8PROC_CATEGORY_ME || p->category == UTF8PROC_CATEGORY_MC;
}

static int is_lookalike_block(int32_t cp) {
  return (cp >= 0xFF01 && cp <= 0xFF5E) || (cp >= 0x1D400 && cp <= 0x1D7FF) || (cp >= 0x2100 && cp <= 0x214F) ||
         (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F189) || (cp >= 0x1D00 && cp <= 0x1D2B);
}

/* Normalises the unit cps[0..k) whose original bytes are [us, ue); the
 * flags it raises go to *fl.  Its output depends on cps alone, which is
 * what lets the caller remember it.  (A lone ASCII code point never comes
 * here: the caller folds it.) */
static void do_unit(vigil_text *t, const int32_t *cps, size_t k, uint32_t us, uint32_t ue, unsigned *fl) {
  int32_t base = cps[0];
  for (size_t j = 1; j < k; j++)
    if (cps[j] == 0x20E3 && (vigil__isdigit(base) || base == '#' || base == '*')) {
      char c = (char)base;
      put(t, &c, 1, us, ue);
      *fl |= VIGIL_TEXT_ODD_DIGITS;
      return;
    }
  const char *sd = vigil__special_digits(base);
  if (sd) {
    put(t, sd, strlen(sd), us, ue);
    *fl |= VIGIL_TEXT_ODD_DIGITS;
    return;
  }
  if (is_lookalike_block(base)) *fl |= VIGIL_TEXT_LOOKALIKE;
  utf8proc_int32_t out[UNIT_OUT];
  utf8proc_option_t opt = UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
                          UTF8PROC_IGNORE | UTF8PROC_LUMP;
  /* decompose_char per code point, then compose once: same result as
   * utf8proc_decompose on the unit's bytes, without re-encoding. */
  utf8proc_ssize_t n = 0;
  for (size_t j = 0; j < k; j++) {
    int last = 0;
    utf8proc_ssize_t r = utf8proc_decompose_char(cps[j], out + n, UNIT_OUT - n, opt, &last);
    if (r < 0 || r > UNIT_OUT - n) { /* cannot happen for valid cps; be safe */
      put(t, "\xEF\xBF\xBD", 3, us, ue);
      return;
    }
    n += r;
  }
  if (n > 0) {
    utf8proc_ssize_t m = utf8proc_normalize_utf32(out, n, opt);
    if (m >= 0) n = m;
  }
  for (utf8proc_ssize_t j = 0; j < n; j++) {
    int32_t cp = out[j];
    char buf[4];
    if (cp < 0x80) {
      char c = (char)ascii_fold((unsigned char)cp);
      put(t, &c, 1, us, ue);
      continue;
    }
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    if (p->category == UTF8PROC_CATEGORY_ND) {
      buf[0] = (char)('0' + vigil__nd_value(cp));
      put(t, buf, 1, us, ue);
      *fl |= VIGIL_TEXT_ODD_DIGITS;
      continue;
    }
    int a = vigil__confusable(cp);
    if (a) {
      buf[0] = (char)a;
      put(t, buf, 1, us, ue);
      *fl |= VIGIL_TEXT_LOOKALIKE;
      continue;
    }
    if (p->category == UTF8PROC_CATEGORY_ZS) { /* exotic spaces */
      put(t, " ", 1, us, ue);
      continue;
    }
    utf8proc_ssize_t b = utf8proc_encode_char(cp, (utf8proc_uint8_t *)buf);
    if (b > 0) put(t, buf, (size_t)b, us, ue);
  }
}

int vigil_utf8_check(const char *s, size_t len, size_t *bad_at) {
  size_t i = 0;
  const uint8_t *u = (const uint8_t *)s;
  while (i < len) {
    if (u[i] < 0x80) {
      i++;
      continue;
    }
    utf8proc_int32_t cp;
    size_t rest = len - i;
    utf8proc_ssize_t r = utf8proc_iterate(u + i, rest > 4 ? 4 : (utf8proc_ssize_t)rest, &cp);
    if (r <= 0) {
      if (bad_at) *bad_at = i;
      return VIGIL_EINVAL;
    }
    i += (size_t)r;
  }
  return VIGIL_OK;
}

/* Leetspeak is undone only for digits/symbols with letters on both sides
 * inside one word ("y0ung", "t33n", "b@by"), so "18yo", "420" and "$200"
 * keep their digits.  Byte -> its letter, 0 for no leet character. */
static const char leet_of[256] = {
    ['0'] = 'o', ['1'] = 'i', ['3'] = 'e', ['4'] = 'a', ['5'] = 's',
    ['7'] = 't', ['@'] = 'a', ['$'] = 's', ['!'] = 'i', ['|'] = 'l',
};

static void build_lex(vigil_text *t) {
  memcpy(t->lex, t->match, t->len + 1);
  size_t n = t->len;
  const unsigned char *m = (const unsigned char *)t->match;
  /* A run of leet characters starts after a letter; leet characters are
   * not letters, so runs never overlap and each is found from the byte
   * that opens it, testing the rare leet byte first. */
  for (size_t i = 0; i + 1 < n; i++) {
    if (!leet_of[m[i + 1]] || !vigil__isalpha(m[i])) continue;
    size_t j = i + 1;
    while (j < n && leet_of[m[j]]) j++;
    if (j < n && vigil__isalpha(m[j]) && j - i - 1 <= 3) {
      for (size_t q = i + 1; q < j; q++) t->lex[q] = leet_of[m[q]];
      t->flags |= VIGIL_TEXT_LEET;
    }
    i = j - 1; /* m[j] is no leet byte: the next candidate is i = j */
  }
}

int vigil_text_normalize(vigil_text *t, const char *s, size_t len, unsigned flags, vigil_error *err) {
  if (!t || (!s && len)) return vigil__seterr(err, VIGIL_EINVAL, "text: null argument");
  if (len > VIGIL_TEXT_MAX) return vigil__seterr(err, VIGIL_ELIMIT, "text: %zu bytes exceeds the limit", len);
  t->orig = s;
  t->orig_len = len;
  t->len = 0;
  t->flags = 0;
  if (reserve(t, len + 16) != VIGIL_OK) return vigil__seterr(err, VIGIL_ENOMEM, "text: out of memory");
  const uint8_t *u = (const uint8_t *)s;
  /* remembered units: key = first code point | second << 21 (0: empty) */
  uint64_t memo_key[MEMO_SIZE];
  struct {
    unsigned char n;
    char out[MEMO_OUT];
  } memo[MEMO_SIZE];
  int memo_ready = 0;
  /* the code point that ended the last unit, decoded at next_at */
  size_t next_at = (size_t)-1, next_r = 0;
  int32_t next_cp = 0;
  size_t i = 0;
  while (i < len) {
    /* fast path: a run of ASCII bytes none of which carries a mark (the
     * last byte of the run is left to the slow path if a non-ASCII byte
     * follows it, since that may be a mark belonging to it) */
    if (u[i] < 0x80 && (i + 1 >= len || u[i + 1] < 0x80)) {
      size_t j = i + 1;
      while (j < len && u[j] < 0x80) j++;
      if (j < len) j--; /* u[j] is ASCII and u[j + 1] is not */
      if (j == i) j = i + 1;
      if (t->len + (j - i) + 1 >= t->cap && reserve(t, t->len + (j - i) + 256) != VIGIL_OK) goto oom;
      unsigned char *mo = (unsigned char *)t->match + t->len;
      uint32_t *so = t->src_start + t->len, *eo = t->src_end + t->len;
      const uint8_t *ui = u + i;
      uint32_t at = (uint32_t)i; /* len <= VIGIL_TEXT_MAX: offsets fit */
      size_t k = j - i;
      for (size_t q = 0; q < k; q++) {
        mo[q] = ascii_fold(ui[q]);
        so[q] = at + (uint32_t)q;
        eo[q] = at + (uint32_t)q + 1;
      }
      t->len += k;
      i = j;
      continue;
    }
    int32_t cps[UNIT_MAX];
    size_t k = 0, at = i;
    while (at < len && k < UNIT_MAX) {
      utf8proc_int32_t cp;
      utf8proc_ssize_t r;
      if (at == next_at) {
        cp = next_cp;
        r = (utf8proc_ssize_t)next_r;
      } else {
        size_t rest = len - at;
        r = utf8proc_iterate(u + at, rest > 4 ? 4 : (utf8proc_ssize_t)rest, &cp);
        if (r <= 0) break;
      }
      if (k > 0 && !is_extender(cp)) {
        next_at = at;
        next_cp = cp;
        next_r = (size_t)r;
        break;
      }
      cps[k++] = cp;
      at += (size_t)r;
    }
    if (t->len + UNIT_OUT * 4 + 1 >= t->cap && reserve(t, t->len + UNIT_OUT * 4 + 256) != VIGIL_OK) goto oom;
    if (k == 0) { /* invalid byte */
      if (flags & VIGIL_TEXT_STRICT)
        return vigil__seterr(err, VIGIL_EINVAL, "text: invalid UTF-8 at byte %zu", i);
      put(t, "\xEF\xBF\xBD", 3, (uint32_t)i, (uint32_t)(i + 1));
      t->flags |= VIGIL_TEXT_REPLACED;
      i++;
      continue;
    }
    if (k == 1 && cps[0] < 0x80) { /* an ASCII byte with no mark after it */
      char c = (char)ascii_fold((unsigned char)cps[0]);
      put(t, &c, 1, (uint32_t)i, (uint32_t)at);
      i = at;
      continue;
    }
    unsigned fl = 0;
    if (k > 2) {
      do_unit(t, cps, k, (uint32_t)i, (uint32_t)at, &fl);
      t->flags |= fl;
      i = at;
      continue;
    }
    uint64_t key = (uint64_t)(uint32_t)cps[0] | (k == 2 ? (uint64_t)(uint32_t)cps[1] << 21 : 0);
    size_t slot = ((uint32_t)cps[0] ^ ((uint32_t)cps[0] >> 6) ^ (k == 2 ? (uint32_t)cps[1] : 0u)) % MEMO_SIZE;
    if (!memo_ready) {
      memset(memo_key, 0, sizeof memo_key);
      memo_ready = 1;
    }
    if (memo_key[slot] == key) { /* key != 0: a unit here has a non-ASCII code point or a mark */
      put(t, memo[slot].out, memo[slot].n, (uint32_t)i, (uint32_t)at);
      i = at;
      continue;
    }
    size_t from = t->len;
    do_unit(t, cps, k, (uint32_t)i, (uint32_t)at, &fl);
    t->flags |= fl;
    if (t->len - from <= MEMO_OUT) {
      memo_key[slot] = key;
      memo[slot].n = (unsigned char)(t->len - from);
      memcpy(memo[slot].out, t->match + from, t->len - from);
    }
    i = at;
  }
  t->match[t->len] = '\0';
  build_lex(t);
  return VIGIL_OK;
oom:
  return vigil__seterr(err, VIGIL_ENOMEM, "text: out of memory");
}

vigil_span vigil_text_span(const vigil_text *t, size_t a, size_t b) {
  vigil_span sp = {0, 0};
  if (!t || t->len == 0) return sp;
  if (a >= t->len) {
    sp.start = sp.end = t->orig_len;
    return sp;
  }
  if (b > t->len) b = t->len;
  sp.start = t->src_start[a];
  sp.end = b > a ? t->src_end[b - 1] : sp.start;
  if (sp.end < sp.start) sp.end = sp.start;
  return sp;
}
