/* SPDX-License-Identifier: Apache-2.0 */
/*
 * contacts_phone.c - phone numbers, however they are written.
 *
 * Works on the match view, where look-alike digits (circled, keycap,
 * fullwidth, Arabic-Indic, ...) are already ASCII and letters are lower
 * case.  Three steps:
 *
 * 1. Atoms.  Each alphanumeric token is cut into numeric atoms: digit runs,
 *    number words ("seven", "twentysix", "oh", "th0usand") and single
 *    letters o/l/i standing for 0/1 next to digits.  A number word must
 *    start the token or follow another atom, and be followed by the end of
 *    the token or another atom; otherwise it is part of an English word
 *    ("tonight", "someone") and the letters break the group.  Digit runs
 *    that are prices, times, dates or measures ("$200", "10:30", "5'6",
 *    "140 lbs", "22yo", "90hr") are blocked and break the group too.
 * 2. Groups.  Consecutive atoms separated by at most SEP_MAX characters of
 *    punctuation, spaces or symbols (no letters) form a group.
 * 3. Numbers.  Within a group, atoms are joined from left to right; a
 *    number is taken where the digits reach exactly 10 (NANP) or 11 with a
 *    leading 1, or, after a '+', a country code and 8..15 digits in all.
 *    Numbers never split an atom, so a 16-digit run is never a phone, and
 *    an atom that does not fit ("24/7 *** 214 784 2976") is skipped.
 *
 * A number is "obfuscated" when any atom was a word or letter, a digit was
 * not ASCII in the original, or a separator is not one of " -.()/+" .
 */
#include "text/text_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEP_MAX 8   /* separator characters allowed between atoms */
#define ATOMS_MAX 64
/* Numbering-plan look-ups (libphonenumber, a few microseconds each) per
 * text: a real ad needs tens; a hostile page of digits would need one per
 * digit and candidate length, so the cost is bounded here, like the
 * number of contacts kept. */
#define PLAN_BUDGET 4096

typedef struct atom {
  char d[20];
  size_t start, end; /* match view */
  unsigned char word, blocked, plus;
} atom;

typedef struct scan {
  const vigil_text *t;
  const char *m;
  size_t n;
  atom a[ATOMS_MAX];
  size_t na;
  vigil_contacts *out;
  const char *region; /* default region of national numbers; NULL: North America */
  unsigned plan_calls; /* numbering-plan look-ups made for this text (see PLAN_BUDGET) */
  int rc;
} scan;

static int nanp_ok(const char *d) {
  return d[0] >= '2' && d[0] <= '9' && !(d[1] == '1' && d[2] == '1') && d[1] != '9' && d[3] >= '2' &&
         d[3] <= '9' && !(d[4] == '1' && d[5] == '1');
}

static int word_at(const char *m, size_t i, size_t n, const char *w) {
  if (i >= n || m[i] != w[0]) return 0; /* cheap first-byte test: most calls fail here */
  size_t k = strlen(w);
  if (i + k > n || memcmp(m + i, w, k) != 0) return 0;
  return i + k == n || !vigil__isalpha((unsigned char)m[i + k]);
}

/* Currency signs other than '$' (UTF-8 in the match view: £ ¥ € ₹ ₽ ₺ ฿
 * ₱ ₦) right before or after a digit run, with at most one space. */
static int currency_at(const char *m, size_t n, size_t i) {
  static const char *const signs[] = {"\xc2\xa3", "\xc2\xa5", "\xe2\x82\xac", "\xe2\x82\xb9", "\xe2\x82\xbd",
                                      "\xe2\x82\xba", "\xe0\xb8\xbf", "\xe2\x82\xb1", "\xe2\x82\xa6"};
  for (size_t k = 0; k < sizeof signs / sizeof signs[0]; k++) {
    size_t l = strlen(signs[k]);
    if (i + l <= n && !memcmp(m + i, signs[k], l)) return (int)l;
  }
  return 0;
}

static int currency_before(const char *m, size_t a) {
  size_t e = a > 0 && m[a - 1] == ' ' ? a - 1 : a;
  for (size_t l = 2; l <= 3; l++)
    if (e >= l && currency_at(m, e, e - l) == (int)l) return 1;
  /* currency codes and abbreviations written before the amount */
  static const char *const codes[] = {"eur", "gbp", "rs", "inr", "aud", "php", "cop", "mxn", "ksh", "aed", "chf", "rub", "thb", "brl", "zar", "pln"};
  for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
    size_t l = strlen(codes[k]);
    if (e >= l && !memcmp(m + e - l, codes[k], l) && (e == l || !vigil__isalpha((unsigned char)m[e - l - 1]))) return 1;
  }
  return 0;
}

static int currency_after(const char *m, size_t n, size_t b) {
  if (b < n && m[b] == ' ') b++;
  return currency_at(m, n, b) > 0;
}

/* Is the digit run [a, b) a price, time, measure or age rather than part of a phone? */
static int blocked_digits(const char *m, size_t n, size_t a, size_t b) {
  if (a > 0 && m[a - 1] == '$') return 1;
  if (a > 1 && m[a - 1] == ' ' && m[a - 2] == '$') return 1;
  if (b < n && (m[b] == '$' || m[b] == '%')) return 1;
  if (b < n && (m[b] == '\'' || m[b] == '"' || (m[b] == '\\' && b + 1 < n && m[b + 1] == '"')) && b - a <= 2)
    return 1; /* 5' 10" */
  if (b + 1 < n && m[b] == ':' && vigil__isdigit((unsigned char)m[b + 1]) && b - a <= 2) return 1;
  if (a > 1 && m[a - 1] == ':' && vigil__isdigit((unsigned char)m[a - 2]) && b - a == 2) return 1;
  if (a > 0 && (m[a - 1] == '\'' || m[a - 1] == '"') && b - a <= 2) return 1; /* 5'6 */
  size_t i = b;
  if (i < n && m[i] == ' ') i++;
  static const char *const units[] = {"lbs", "lb",  "kg",    "yo",   "y/o",   "yrs",  "yr",   "years", "year",
                                      "hr",  "hrs", "hour",  "hours", "hh",   "min",  "mins", "am",    "pm",
                                      "roses", "rose", "dollars", "usd", "ft", "cm",  "dd",   "inch",  "mph",
                                      "half", "hhr", "hrly", "ozs",  "oz",    "bucks", "k"};
  for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
    if (word_at(m, i, n, units[u])) return 1;
  if (i < n && i + 1 < n && m[i] == 'h' && m[i + 1] == 'h') return 1;
  /* Prices, times and measures of the rest of the world, only on short
   * runs (a phone number is never 4 digits or less, and "07592 376834
   * £200" must keep its phone). */
  if (b - a <= 4) {
    static const char *const short_units[] = {"h", "eur", "euro", "euros", "gbp", "rs", "zl", "kr", "m"};
    for (size_t u = 0; u < sizeof short_units / sizeof short_units[0]; u++)
      if (word_at(m, i, n, short_units[u])) return 1;
    if (currency_before(m, a) || currency_after(m, n, b)) return 1;
  }
  return 0;
}

/* Digits that read as a number but are not one, on every plan: the same
 * group repeated ("23 23 23 23 23", ages or prices listed), or a date
 * ("2016 06 17", "17 06 2016").  Only plain digit atoms are judged; a
 * number spelt in words was written to be a number. */
static int implausible(const scan *s, size_t i, size_t j) {
  for (size_t q = i; q <= j; q++)
    if (s->a[q].word) return 0;
  size_t n = j - i + 1;
  if (n >= 3) {
    size_t q = i + 1;
    while (q <= j && !strcmp(s->a[q].d, s->a[i].d)) q++;
    if (q > j) return 1;
  }
  for (size_t q = i; q + 2 <= j; q++) {
    const char *x = s->a[q].d, *y = s->a[q + 1].d, *z = s->a[q + 2].d;
    int lx = (int)strlen(x), ly = (int)strlen(y), lz = (int)strlen(z);
    int vx = atoi(x), vy = atoi(y), vz = atoi(z);
    int year_x = lx == 4 && vx >= 1950 && vx <= 2039, year_z = lz == 4 && vz >= 1950 && vz <= 2039;
    if (year_x && ly <= 2 && lz <= 2 && ((vy >= 1 && vy <= 12 && vz >= 1 && vz <= 31) || (vz >= 1 && vz <= 12 && vy >= 1 && vy <= 31)))
      return 1;
    if (year_z && lx <= 2 && ly <= 2 && ((vy >= 1 && vy <= 12 && vx >= 1 && vx <= 31) || (vx >= 1 && vx <= 12 && vy >= 1 && vy <= 31)))
      return 1;
  }
  return 0;
}

/* e164: the number's E.164 form from a plan, or NULL for a North American
 * number built here; valid: 0 when the plan says only "possible". */
static int push_phone(scan *s, size_t i, size_t j, int intl, const char *e164, int valid) {
  char d[40];
  size_t dl = 0;
  int obf = 0;
  for (size_t q = i; q <= j; q++) {
    size_t k = strlen(s->a[q].d);
    if (dl + k >= sizeof d) return 0;
    memcpy(d + dl, s->a[q].d, k);
    dl += k;
    if (s->a[q].word) obf = 1;
    const vigil_span sp = vigil_text_span(s->t, s->a[q].start, s->a[q].end);
    for (size_t b = sp.start; b < sp.end; b++)
      if ((unsigned char)s->t->orig[b] >= 0x80) obf = 1;
    if (q > i)
      for (size_t b = s->a[q - 1].end; b < s->a[q].start; b++) {
        char c = s->m[b];
        if (!(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' || c == '+' || c == '\n'))
          obf = 1;
      }
  }
  d[dl] = 0;
  /* digit-by-digit or oddly grouped (a plan number may come in the pairs
   * of many European formats: "06 12 34 56 78") */
  if (j - i + 1 > (e164 ? 6u : 4u)) obf = 1;
  vigil_contact c;
  memset(&c, 0, sizeof c);
  c.type = VIGIL_CONTACT_PHONE;
  c.obfuscated = obf;
  c.e164_valid = valid;
  memcpy(c.digits, d, dl + 1 < sizeof c.digits ? dl + 1 : sizeof c.digits - 1);
  if (e164) snprintf(c.value, sizeof c.value, "%s", e164);
  else if (intl) snprintf(c.value, sizeof c.value, "+%s", d);
  else if (dl == 10) snprintf(c.value, sizeof c.value, "+1%s", d);
  else snprintf(c.value, sizeof c.value, "+%s", d);
  size_t a = s->a[i].start;
  if (intl && a > 0 && s->m[a - 1] == '+') a--;
  else if (intl && a > 1 && s->m[a - 1] == ' ' && s->m[a - 2] == '+') a -= 2;
  c.span = vigil_text_span(s->t, a, s->a[j].end);
  int rc = vigil__contacts_push(s->out, &c);
  if (rc) s->rc = rc;
  return 1;
}

/* Joins the digits of atoms [i, j] into d (at most cap - 1); 0 when too long. */
static size_t join(const scan *s, size_t i, size_t j, char *d, size_t cap) {
  size_t dl = 0;
  for (size_t q = i; q <= j; q++) {
    size_t k = strlen(s->a[q].d);
    if (dl + k >= cap) return 0;
    memcpy(d + dl, s->a[q].d, k);
    dl += k;
  }
  d[dl] = 0;
  return dl;
}

/* Does a sentence or list end between atom q and the next (". ", ", ",
 * "; ")?  A plan number does not run on across it; North American
 * numbers keep their own rules. */
static int sentence_gap(const scan *s, size_t q) {
  for (size_t b = s->a[q].end; b + 1 < s->a[q + 1].start; b++)
    if ((s->m[b] == '.' || s->m[b] == ',' || s->m[b] == ';') && s->m[b + 1] == ' ') return 1;
  return 0;
}

/* The longest run of atoms from i that a numbering plan accepts, as an
 * international number (after '+') or a national one of s->region:
 * valid numbers first, then (international only) possible ones.  Returns
 * the last atom or (size_t)-1; *e164 and *valid describe the number. */
static size_t plan_run(scan *s, size_t i, int intl, char *e164, size_t cap, int *valid) {
  size_t best = (size_t)-1, best_possible = (size_t)-1;
  char d[40], e[32], ep[32];
  for (size_t j = i; j < s->na; j++) {
    if (j > i && sentence_gap(s, j - 1)) break;
    size_t dl = join(s, i, j, d, sizeof d);
    if (!dl || dl > 17) break;
    if (dl < 7) continue;
    /* "00" then a country code: the international prefix of most plans
     * (and the first digits of Brazil's carrier prefix) */
    int idd = !intl && d[0] == '0' && d[1] == '0';
    if (s->plan_calls >= PLAN_BUDGET) break;
    s->plan_calls++;
    int st = vigil__phone_plan(idd ? d + 2 : d, intl || idd, s->region, e, sizeof e);
    if (st < 0) {
      s->rc = st;
      return (size_t)-1;
    }
    if (st == VIGIL__PLAN_VALID) {
      best = j;
      memcpy(ep, e, sizeof e);
    } else if (st == VIGIL__PLAN_POSSIBLE && intl && best == (size_t)-1) {
      best_possible = j;
      memcpy(e164, e, sizeof e < cap ? sizeof e : cap);
    }
  }
  if (best != (size_t)-1) {
    snprintf(e164, cap, "%s", ep);
    *valid = 1;
    return best;
  }
  *valid = 0;
  return best_possible;
}

/* Finds numbers in the group s->a[0..na).  North American numbers (and
 * '+1') keep their own rules; a '+' followed by another country code, and
 * with a default region outside North America a national number, are
 * checked against the plans of libphonenumber (phone_plan.cc). */
static void flush(scan *s) {
  size_t i = 0;
  int national = s->region && !vigil__phone_region_nanp(s->region);
  while (i < s->na && s->rc == 0) {
    atom *a = &s->a[i];
    char e164[32];
    int valid = 0;
    if (a->plus && !a->word && a->d[0] == '1') {
      char d[40];
      size_t dl = 0, best = (size_t)-1;
      for (size_t j = i; j < s->na; j++) {
        size_t k = strlen(s->a[j].d);
        if (dl + k > 15) break;
        memcpy(d + dl, s->a[j].d, k);
        dl += k;
        d[dl] = 0;
        if (dl == 11 && nanp_ok(d + 1)) best = j;
      }
      if (best != (size_t)-1) {
        push_phone(s, i, best, 1, NULL, 1);
        i = best + 1;
        continue;
      }
    } else if (a->plus && !a->word) {
      size_t j = plan_run(s, i, 1, e164, sizeof e164, &valid);
      if (j != (size_t)-1 && !implausible(s, i, j)) {
        push_phone(s, i, j, 1, e164, valid);
        i = j + 1;
        continue;
      }
    }
    if (national && !a->plus) {
      size_t j = plan_run(s, i, 0, e164, sizeof e164, &valid);
      /* Read without its trunk prefix, a number may begin inside a post
       * code or a price ("75008 06 12 34 56 78"): when a reading that
       * starts with the trunk prefix begins within it, that one wins. */
      if (j != (size_t)-1 && !vigil__phone_trunk(a->d, s->region))
        for (size_t k = i + 1; k <= j; k++) {
          char e2[32];
          int v2;
          if (vigil__phone_trunk(s->a[k].d, s->region) && plan_run(s, k, 0, e2, sizeof e2, &v2) != (size_t)-1) {
            j = (size_t)-1;
            break;
          }
        }
      if (j != (size_t)-1 && !implausible(s, i, j)) {
        push_phone(s, i, j, 0, e164, valid);
        i = j + 1;
        continue;
      }
    }
    char d[40];
    size_t dl = 0;
    int found = 0;
    for (size_t j = i; j < s->na; j++) {
      size_t k = strlen(s->a[j].d);
      if (dl + k > 11) break;
      memcpy(d + dl, s->a[j].d, k);
      dl += k;
      d[dl] = 0;
      if ((dl == 10 && nanp_ok(d)) || (dl == 11 && d[0] == '1' && nanp_ok(d + 1))) {
        if (national && implausible(s, i, j)) break;
        push_phone(s, i, j, 0, NULL, 1);
        i = j + 1;
        found = 1;
        break;
      }
    }
    if (!found) i++;
  }
  s->na = 0;
}

static void end_group(scan *s);

static void add_atom(scan *s, const char *d, size_t start, size_t end, int word) {
  if (s->na > 0) {
    /* separators since the last atom: no letters, not too many */
    size_t gap = 0;
    for (size_t b = s->a[s->na - 1].end; b < start; b++)
      if (((unsigned char)s->m[b] & 0xC0) != 0x80) gap++;
    if (gap > SEP_MAX) end_group(s);
  }
  if (s->na == ATOMS_MAX) end_group(s);
  atom *a = &s->a[s->na++];
  size_t k = strlen(d);
  if (k >= sizeof a->d) k = sizeof a->d - 1;
  memcpy(a->d, d, k);
  a->d[k] = 0;
  a->start = start;
  a->end = end;
  a->word = (unsigned char)word;
  a->blocked = 0;
  a->plus = start > 0 && (s->m[start - 1] == '+' || (start > 1 && s->m[start - 1] == ' ' && s->m[start - 2] == '+'));
}

/* Cuts the alphanumeric token [p, e) into atoms (see the file comment). */
static void token(scan *s, size_t p, size_t e) {
  const char *m = s->m;
  int has_digit = 0;
  for (size_t q = p; q < e; q++)
    if (vigil__isdigit((unsigned char)m[q])) has_digit = 1;
  /* tentative atoms for this token; words are confirmed at the end */
  typedef struct seg {
    char d[20];
    size_t a, b;
    int word; /* 0 digits, 1 word, 2 junk */
  } seg;
  seg sg[64];
  size_t ns = 0;
  size_t i = p;
  while (i < e && ns < 64) {
    if (vigil__isdigit((unsigned char)m[i])) {
      size_t j = i;
      while (j < e && vigil__isdigit((unsigned char)m[j])) j++;
      /* "3tothree" vs "th0usand": a 0 that starts a number word belongs to it only after letters */
      seg *g = &sg[ns++];
      size_t k = j - i < sizeof g->d ? j - i : sizeof g->d - 1;
      memcpy(g->d, m + i, k);
      g->d[k] = 0;
      g->a = i;
      g->b = j;
      g->word = blocked_digits(m, s->n, i, j) ? 2 : 0;
      i = j;
      continue;
    }
    int after_atom = i == p || (ns > 0 && sg[ns - 1].word != 2 && sg[ns - 1].b == i);
    char wd[4];
    size_t w = after_atom ? vigil__number_word(m + i, e - i, wd, has_digit || ns > 0 || s->na > 0) : 0;
    /* a lone letter o counts only next to digits or inside a number group */
    if (w == 1 && wd[0] == '0' && !has_digit && !(i == p && e == p + 1 && s->na > 0)) w = 0;
    if (!w && after_atom && (m[i] == 'l' || m[i] == 'i') && has_digit &&
        ((i > p && vigil__isdigit((unsigned char)m[i - 1])) || (i + 1 < e && vigil__isdigit((unsigned char)m[i + 1])))) {
      wd[0] = '1';
      wd[1] = 0;
      w = 1;
    }
    if (w) {
      seg *g = &sg[ns++];
      memcpy(g->d, wd, strlen(wd) + 1);
      g->a = i;
      g->b = i + w;
      g->word = 1;
      i += w;
      continue;
    }
    /* junk letters up to the next digit */
    size_t j = i;
    while (j < e && !vigil__isdigit((unsigned char)m[j])) j++;
    seg *g = &sg[ns++];
    g->d[0] = 0;
    g->a = i;
    g->b = j;
    g->word = 2;
    i = j;
  }
  /* a word followed by junk is part of an English word: junk it, and so
   * on backwards */
  for (size_t q = ns; q-- > 0;) {
    if (sg[q].word != 1) continue;
    int next_junk = q + 1 < ns && sg[q + 1].word == 2;
    if (next_junk) sg[q].word = 2;
  }
  /* a standalone short word ("to", "for", "o") is not a number */
  if (ns == 1 && sg[0].word == 1 && e - p <= 3 && !(e - p == 2 && m[p] == 'o' && m[p + 1] == 'h') &&
      !(e - p == 1 && m[p] == 'o' && s->na > 0)) {
    char tmp[4];
    if (!vigil__number_word(m + p, e - p, tmp, 0) || vigil__number_word(m + p, e - p, tmp, 0) != e - p) sg[0].word = 2;
  }
  for (size_t q = 0; q < ns; q++) {
    if (sg[q].word == 2) {
      end_group(s);
      continue;
    }
    add_atom(s, sg[q].d, sg[q].a, sg[q].b, sg[q].word);
  }
}

/* Dates written d/d/yy(yy) or d-d-yyyy: block those atoms. */
static void block_dates(scan *s) {
  for (size_t i = 0; i + 2 < s->na; i++) {
    atom *x = &s->a[i], *y = &s->a[i + 1], *z = &s->a[i + 2];
    if (x->word || y->word || z->word) continue;
    size_t lx = strlen(x->d), ly = strlen(y->d), lz = strlen(z->d);
    char s1 = x->end < s->n ? s->m[x->end] : 0, s2 = y->end < s->n ? s->m[y->end] : 0;
    if (y->start != x->end + 1 || z->start != y->end + 1 || s1 != s2 || (s1 != '/' && s1 != '-')) continue;
    if (lx > 2 || ly > 2 || (lz != 2 && lz != 4)) continue;
    if (lz == 4 && !(z->d[0] == '1' || z->d[0] == '2')) continue;
    x->blocked = y->blocked = z->blocked = 1;
  }
}

static int month_day(int m, int d) { return m >= 1 && m <= 12 && d >= 1 && d <= 31; }

/* Dates written with spaces or dots ("2016 06 17", "17.06.2016"), the
 * same two-digit group three times or more ("23 23 23": ages, sizes) and
 * body measurements ("90 60 90"): numbers on no plan, so their atoms are
 * blocked. */
static void block_spaced(scan *s) {
  for (size_t i = 0; i + 2 < s->na; i++) {
    atom *x = &s->a[i], *y = &s->a[i + 1], *z = &s->a[i + 2];
    if (x->word || y->word || z->word) continue;
    size_t lx = strlen(x->d), ly = strlen(y->d), lz = strlen(z->d);
    int vx = atoi(x->d), vy = atoi(y->d), vz = atoi(z->d);
    int date = (lx == 4 && vx >= 1950 && vx <= 2039 && ly <= 2 && lz <= 2 && (month_day(vy, vz) || month_day(vz, vy))) ||
               (lz == 4 && vz >= 1950 && vz <= 2039 && lx <= 2 && ly <= 2 && (month_day(vy, vx) || month_day(vx, vy)));
    int rep = lx == 2 && !strcmp(x->d, y->d) && !strcmp(x->d, z->d);
    /* bust, waist, hips: "90 60 90" */
    int body = lx == 2 && ly == 2 && lz == 2 && vx >= 70 && vz >= 70 && vy < vx && vy < vz && abs(vx - vz) <= 15;
    if (date || rep || body) x->blocked = y->blocked = z->blocked = 1;
  }
}

static void end_group(scan *s) {
  if (s->na == 0) return;
  block_dates(s);
  block_spaced(s);
  /* split at blocked atoms */
  atom keep[ATOMS_MAX];
  size_t n = s->na;
  memcpy(keep, s->a, n * sizeof *keep);
  s->na = 0;
  for (size_t i = 0; i < n; i++) {
    if (keep[i].blocked) {
      flush(s);
      continue;
    }
    s->a[s->na++] = keep[i];
  }
  flush(s);
}

static void scan_init(scan *s, const vigil_text *t, vigil_contacts *out, const char *region) {
  s->t = t;
  s->region = region;
  s->plan_calls = 0;
  s->m = t->match;
  s->n = t->len;
  s->na = 0;
  s->out = out;
  s->rc = 0;
}

int vigil__phones_extract(const vigil_text *t, vigil_contacts *out, const char *region) {
  scan sc, *s = &sc; /* about 3 KiB: on the stack, no allocation per text */
  scan_init(s, t, out, region);
  size_t i = 0, n = t->len;
  const char *m = t->match;
  while (i < n) {
    if (vigil__isalnum((unsigned char)m[i])) {
      size_t e = i;
      while (e < n && vigil__isalnum((unsigned char)m[e])) e++;
      token(s, i, e);
      i = e;
      continue;
    }
    i++;
  }
  end_group(s);
  return s->rc;
}

/* Cues: every digit, and every word that starts with a number word.  A
 * token without either yields only junk in token(), which just ends the
 * group; so tokens between cues end the group and are otherwise skipped. */
int vigil__phones_extract_at(const vigil_text *t, vigil_contacts *out, const size_t *cues, size_t nc,
                             const char *region) {
  scan sc, *s = &sc;
  scan_init(s, t, out, region);
  const char *m = t->match;
  size_t n = t->len, done = 0;
  for (size_t c = 0; c < nc; c++) {
    size_t p = cues[c];
    if (p < done || p >= n) continue;
    size_t ts = p;
    while (ts > done && vigil__isalnum((unsigned char)m[ts - 1])) ts--;
    for (size_t g = done; g < ts; g++)
      if (vigil__isalnum((unsigned char)m[g])) { /* a token with no cue: junk */
        end_group(s);
        break;
      }
    size_t e = p;
    while (e < n && vigil__isalnum((unsigned char)m[e])) e++;
    token(s, ts, e);
    done = e;
  }
  end_group(s);
  return s->rc;
}
