/* SPDX-License-Identifier: Apache-2.0 */
/*
 * template.c - the text template a group of near-duplicate ads shares,
 * with its variable slots, in the spirit of InfoShield's fine stage
 * (alignment + minimum description length).
 *
 *   1. take up to NET_TPL_SAMPLE members (evenly spaced), tokenised;
 *   2. the medoid - the member with the highest total shingle Jaccard to the
 *      others - is the backbone; every other member is aligned to it word by
 *      word with a longest-common-subsequence table;
 *   3. a backbone word is a constant when at least a share `keep` of the
 *      members align to it; between two consecutive constants there is a
 *      slot when any member has words there;
 *   4. `keep` is chosen from 1.0, 0.9, ..., 0.5 by minimum description
 *      length: bits to write the template (constants and slots) plus bits to
 *      write every member given the template (its slot fillers and the words
 *      it does not share, log2(vocabulary) bits a word; a missing constant
 *      costs log2(constants+1) bits), against the bits of writing the members
 *      plainly.  A template that does not pay for itself is still shown but
 *      its mdl_bits say so;
 *   5. each slot is typed from its fillers: PHONE (7+ digits), AGE (a number
 *      18-69 next to age words or after a " - " title suffix), PRICE (after
 *      '$' or next to rates), NUM, NAME (capitalised words), TEXT.
 */
#include "network/net_internal.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define NET_TPL_SAMPLE 24
#define NET_TPL_TOKENS 400

typedef struct member {
  const vigil__net_ad *ad;
  vigil__net_tok *tok;
  size_t nt;
  int32_t *match; /* per backbone word: this member's token, or -1 */
} member;

void vigil__net_template_free(vigil__net_template *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n_items; i++) {
    free(t->items[i].text);
    for (int k = 0; k < t->items[i].n_ex; k++) free(t->items[i].ex[k]);
    free(t->items[i].ex);
  }
  free(t->items);
  free(t->rendered);
  free(t);
}

/* LCS alignment of b against backbone a; match[i] = index in b or -1. */
static int align(const vigil__net_tok *a, size_t na, const vigil__net_tok *b, size_t nb, int32_t *match) {
  uint16_t *dp = calloc((na + 1) * (nb + 1), sizeof *dp);
  if (!dp) return VIGIL_ENOMEM;
#define DP(i, j) dp[(size_t)(i) * (nb + 1) + (j)]
  for (size_t i = na; i-- > 0;)
    for (size_t j = nb; j-- > 0;)
      DP(i, j) = a[i].exact == b[j].exact ? (uint16_t)(DP(i + 1, j + 1) + 1)
                                          : (DP(i + 1, j) > DP(i, j + 1) ? DP(i + 1, j) : DP(i, j + 1));
  for (size_t i = 0; i < na; i++) match[i] = -1;
  size_t i = 0, j = 0;
  while (i < na && j < nb) {
    if (a[i].exact == b[j].exact) {
      match[i] = (int32_t)j;
      i++;
      j++;
    } else if (DP(i + 1, j) >= DP(i, j + 1)) i++;
    else j++;
  }
#undef DP
  free(dp);
  return VIGIL_OK;
}

typedef struct plan {
  uint8_t *is_const; /* per backbone word */
  double bits;
} plan;

/* Constants with share >= keep; returns total description length. */
static double cost_of(const member *m, size_t nm, size_t nb, const uint32_t *cnt, double keep, uint8_t *is_const,
                      double wbits) {
  size_t nconst = 0, nslots = 0;
  for (size_t i = 0; i < nb; i++) {
    is_const[i] = cnt[i] >= 2 && (double)cnt[i] >= keep * (double)nm - 1e-9;
    nconst += is_const[i];
  }
  double data = 0;
  /* slots: gaps between consecutive constants where any member has words */
  int32_t prev = -1;
  for (size_t i = 0; i <= nb; i++) {
    if (i < nb && !is_const[i]) continue;
    int gap = 0;
    for (size_t k = 0; k < nm && !gap; k++) {
      int32_t lo = prev < 0 ? -1 : m[k].match[prev], hi = i < nb ? m[k].match[i] : (int32_t)m[k].nt;
      if (prev >= 0 && lo < 0) continue;
      if (i < nb && hi < 0) continue;
      if (hi - lo > 1) gap = 1;
    }
    nslots += (size_t)gap;
    prev = (int32_t)i;
  }
  for (size_t k = 0; k < nm; k++) {
    size_t matched = 0, missing = 0;
    for (size_t i = 0; i < nb; i++)
      if (is_const[i]) {
        if (m[k].match[i] >= 0) matched++;
        else missing++;
      }
    data += (double)(m[k].nt - matched) * wbits + (double)nslots + (double)missing * log2((double)nconst + 1);
  }
  return (double)nconst * wbits + (double)nslots * 3.0 + data;
}

static const char *slot_type(const member *m, int32_t lo, int32_t hi, const char *prev_const, const char *next_const) {
  const vigil__net_tok *t = m->tok;
  const char *txt = m->ad->text;
  int ndig = 0, alltoks_digit = 1, caps = 1, ntok = hi - lo - 1;
  for (int32_t j = lo + 1; j < hi; j++) {
    if (t[j].digits) ndig += (int)t[j].len;
    else alltoks_digit = 0;
    if (!isupper((unsigned char)txt[t[j].start]) || t[j].digits) caps = 0;
  }
  if (ndig >= 7) return "PHONE";
  if (alltoks_digit && ntok == 1) {
    const vigil__net_tok *x = &t[lo + 1];
    long v = x->len <= 6 ? strtol(txt + x->start, NULL, 10) : 0;
    const char *nc = next_const ? next_const : "";
    const char *pc = prev_const ? prev_const : "";
    size_t pl = strlen(pc);
    if (x->start > 0 && txt[x->start - 1] == '$') return "PRICE";
    if (strstr(nc, "rose") || strstr(nc, "hr") || strstr(nc, "min") || strstr(nc, "special") || strstr(nc, "$"))
      return "PRICE";
    if (v >= 18 && v <= 69 &&
        (!strncmp(nc, "yo", 2) || !strncmp(nc, "y/o", 3) || !strncmp(nc, "year", 4) || !strncmp(nc, "yrs", 3) ||
         (pl >= 3 && !strcmp(pc + pl - 3, "age")) || (x->start >= 3 && !memcmp(txt + x->start - 3, " - ", 3))))
      return "AGE";
    return "NUM";
  }
  if (caps && ntok >= 1 && ntok <= 2) return "NAME";
  return "TEXT";
}

static char *surface(const char *text, const vigil__net_tok *t, int32_t from, int32_t to) { /* tokens from..to incl. */
  size_t s = t[from].start, e = t[to].start + t[to].len;
  if (e - s > 200) e = s + 200;
  /* do not cut inside a UTF-8 sequence */
  while (e > s && ((unsigned char)text[e] & 0xC0) == 0x80) e--;
  return strndup(text + s, e - s);
}

static int push_item(vigil__net_template *t, size_t *cap, char *text, int slot) {
  if (!text) return VIGIL_ENOMEM;
  if (vigil__grow((void **)&t->items, cap, t->n_items + 1, sizeof *t->items)) {
    free(text);
    return VIGIL_ENOMEM;
  }
  t->items[t->n_items++] = (vigil__net_titem){text, slot, NULL, 0};
  return VIGIL_OK;
}

static int add_example(vigil__net_titem *it, char *ex) {
  if (!ex) return VIGIL_ENOMEM;
  for (int k = 0; k < it->n_ex; k++)
    if (!strcmp(it->ex[k], ex) || it->n_ex >= 4) {
      free(ex);
      return VIGIL_OK;
    }
  if (!it->ex && !(it->ex = calloc(4, sizeof *it->ex))) {
    free(ex);
    return VIGIL_ENOMEM;
  }
  it->ex[it->n_ex++] = ex;
  return VIGIL_OK;
}

static int render(vigil__net_template *t) {
  size_t len = 1;
  for (size_t i = 0; i < t->n_items; i++) len += strlen(t->items[i].text) + 4;
  char *r = malloc(len);
  if (!r) return VIGIL_ENOMEM;
  size_t o = 0;
  for (size_t i = 0; i < t->n_items; i++) {
    const char *s = t->items[i].text;
    o += (size_t)snprintf(r + o, len - o, t->items[i].slot ? "%s[%s]" : "%s%s", o ? " " : "", s);
  }
  r[o] = 0;
  t->rendered = r;
  return VIGIL_OK;
}

static int build(const member *m, size_t nm, size_t med, vigil__net_template *t, double wbits, const uint32_t *cnt) {
  const member *b = &m[med];
  size_t nb = b->nt;
  uint8_t *isc = malloc(nb ? nb : 1), *best = malloc(nb ? nb : 1);
  if (!isc || !best) {
    free(isc);
    free(best);
    return VIGIL_ENOMEM;
  }
  double bestbits = INFINITY, bestkeep = 1.0;
  for (int s = 10; s >= 5; s--) {
    double keep = s / 10.0;
    double bits = cost_of(m, nm, nb, cnt, keep, isc, wbits);
    if (bits < bestbits - 1e-9) {
      bestbits = bits;
      bestkeep = keep;
      memcpy(best, isc, nb);
    }
  }
  free(isc);
  double raw = 0;
  for (size_t k = 0; k < nm; k++) raw += (double)m[k].nt * wbits;
  t->mdl_bits = bestbits;
  t->raw_bits = raw;
  t->keep = bestkeep;
  size_t cap = 0;
  int rc = VIGIL_OK;
  int32_t prev = -1;
  for (size_t i = 0; i <= nb && !rc; i++) {
    if (i < nb && !best[i]) continue;
    /* slot between prev and i? */
    int gap = 0;
    for (size_t k = 0; k < nm && !gap; k++) {
      int32_t lo = prev < 0 ? -1 : m[k].match[prev], hi = i < nb ? m[k].match[i] : (int32_t)m[k].nt;
      if ((prev >= 0 && lo < 0) || (i < nb && hi < 0)) continue;
      if (hi - lo > 1) gap = 1;
    }
    const char *pc = t->n_items && !t->items[t->n_items - 1].slot ? t->items[t->n_items - 1].text : NULL;
    if (gap) {
      /* next constant run's text, lowercased prefix, for typing */
      char nc[32] = "";
      if (i < nb) {
        size_t n = b->tok[i].len < sizeof nc - 1 ? b->tok[i].len : sizeof nc - 1;
        for (size_t x = 0; x < n; x++) nc[x] = (char)tolower((unsigned char)b->ad->text[b->tok[i].start + x]);
        nc[n] = 0;
      }
      char pcl[64] = "";
      if (pc) {
        size_t pl = strlen(pc), st = pl > sizeof pcl - 1 ? pl - (sizeof pcl - 1) : 0;
        for (size_t x = st; x < pl; x++) pcl[x - st] = (char)tolower((unsigned char)pc[x]);
        pcl[pl - st] = 0;
      }
      int votes[6] = {0};
      static const char *const names[6] = {"PHONE", "AGE", "PRICE", "NUM", "NAME", "TEXT"};
      for (size_t k = 0; k < nm; k++) {
        int32_t lo = prev < 0 ? -1 : m[k].match[prev], hi = i < nb ? m[k].match[i] : (int32_t)m[k].nt;
        if ((prev >= 0 && lo < 0) || (i < nb && hi < 0) || hi - lo <= 1) continue;
        const char *ty = slot_type(&m[k], lo, hi, pcl, nc);
        for (int v = 0; v < 6; v++)
          if (!strcmp(ty, names[v])) votes[v]++;
      }
      int bv = 0;
      for (int v = 1; v < 6; v++)
        if (votes[v] > votes[bv]) bv = v;
      rc = push_item(t, &cap, strdup(names[bv]), 1);
      for (size_t k = 0; k < nm && !rc; k++) {
        int32_t lo = prev < 0 ? -1 : m[k].match[prev], hi = i < nb ? m[k].match[i] : (int32_t)m[k].nt;
        if ((prev >= 0 && lo < 0) || (i < nb && hi < 0) || hi - lo <= 1) continue;
        rc = add_example(&t->items[t->n_items - 1], surface(m[k].ad->text, m[k].tok, lo + 1, hi - 1));
      }
    }
    if (i < nb && !rc) {
      /* a run of constants i..j, shown with the backbone's own text */
      size_t j = i;
      while (j + 1 < nb && best[j + 1]) {
        int split = 0; /* a slot inside the run breaks it */
        for (size_t k = 0; k < nm && !split; k++) {
          int32_t lo = m[k].match[j], hi = m[k].match[j + 1];
          if (lo >= 0 && hi >= 0 && hi - lo > 1) split = 1;
        }
        if (split) break;
        j++;
      }
      rc = push_item(t, &cap, surface(b->ad->text, b->tok, (int32_t)i, (int32_t)j), 0);
      prev = (int32_t)j;
      i = j;
    }
  }
  free(best);
  if (!rc) rc = render(t);
  return rc;
}

int vigil__net_template_build(const vigil_linker *l, const uint32_t *members, size_t n, vigil__net_template **out,
                       vigil_error *err) {
  *out = NULL;
  if (n < 2) return VIGIL_OK;
  size_t nm = n < NET_TPL_SAMPLE ? n : NET_TPL_SAMPLE;
  member *m = calloc(nm, sizeof *m);
  vigil__net_template *t = calloc(1, sizeof *t);
  uint32_t *cnt = NULL;
  int rc = (!m || !t) ? VIGIL_ENOMEM : VIGIL_OK;
  for (size_t k = 0; k < nm && !rc; k++) {
    m[k].ad = &l->ads[members[k * n / nm]];
    rc = vigil__net_tokenize(m[k].ad->text, m[k].ad->text_len, &m[k].tok, &m[k].nt);
    if (m[k].nt > NET_TPL_TOKENS) m[k].nt = NET_TPL_TOKENS;
  }
  size_t med = 0;
  if (!rc) {
    double bestj = -1;
    for (size_t a = 0; a < nm; a++) {
      double s = 0;
      for (size_t b = 0; b < nm; b++)
        if (a != b) s += vigil__net_jaccard(m[a].ad->sh, m[a].ad->n_sh, m[b].ad->sh, m[b].ad->n_sh);
      if (s > bestj) {
        bestj = s;
        med = a;
      }
    }
    t->medoid = (uint32_t)(m[med].ad - l->ads);
    t->n_used = (uint32_t)nm;
  }
  size_t nb = rc ? 0 : m[med].nt;
  if (!rc && !(cnt = calloc(nb ? nb : 1, sizeof *cnt))) rc = VIGIL_ENOMEM;
  /* vocabulary size for the per-word cost */
  size_t vocab = 0;
  for (size_t k = 0; k < nm && !rc; k++) {
    m[k].match = vigil__mallocarray(nb ? nb : 1, sizeof *m[k].match);
    if (!m[k].match) {
      rc = VIGIL_ENOMEM;
      break;
    }
    rc = align(m[med].tok, nb, m[k].tok, m[k].nt, m[k].match);
    for (size_t i = 0; i < nb && !rc; i++) cnt[i] += m[k].match[i] >= 0;
    vocab += m[k].nt;
  }
  if (!rc) rc = build(m, nm, med, t, log2((double)vocab + 2), cnt);
  for (size_t k = 0; m && k < nm; k++) {
    free(m[k].tok);
    free(m[k].match);
  }
  free(m);
  free(cnt);
  if (rc) {
    vigil__net_template_free(t);
    return vigil__seterr(err, rc, "template: out of memory");
  }
  *out = t;
  return VIGIL_OK;
}
