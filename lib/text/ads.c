/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ads.c - trafficking-ad indicators and the ad risk score.
 *
 * All lexicon rules (ads_rules.c) are compiled into ONE Hyperscan database
 * (block mode), so an ad is scanned once whatever the number of rules.
 * That scan reports only match ends: asking Hyperscan for the leftmost
 * start of match over the whole ad more than doubles its cost, while
 * matches are few (about 3 per ad).  The start is found afterwards, per
 * match: a rule of fixed width starts width bytes before its end; any
 * other rule is re-run alone, with start-of-match tracking, over a window
 * just wide enough to hold its longest match (see find_start).  Hits are
 * taken in (end, rule) order and become evidence spans in the original
 * text via the normalisation map.  Contacts (obscured phone = an
 * indicator) and ages (under 18 = the top signal; an adult age = "stated
 * age") come from contacts*.c and ages.c over the same normalised text.
 *
 * Score: a logistic model over the families that fired,
 *     risk = 1 / (1 + exp(-(B0 + sum of w[f] for fired f)))
 * with the weights in family_weight[] (each documented with its source in
 * docs/text.md), except that an age under 18, stated or implied, sets
 * risk to at least MINOR_RISK whatever else the ad says.  Third-person
 * voice fires only with at least two hits ("her" alone is common prose).
 */
#include "text/ads_internal.h"
#include "common/grow.h"

#include <hs/hs.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#define B0 (-2.5)
#define MINOR_RISK 0.99
#define HITS_PER_FAMILY 8

struct vigil_ad_scanner {
  hs_database_t *db;     /* indicator rules, over the lex view; match ends only */
  hs_database_t **one;   /* rule i alone, leftmost start of match (NULL: fixed width) */
  unsigned *minw, *maxw; /* rule i's match widths in bytes (maxw UINT_MAX: unbounded) */
  hs_database_t *cues;   /* where contacts and ages can start, over the match view */
};

typedef struct posv {
  size_t *v;
  size_t n, cap;
} posv;

typedef struct end_hit {
  unsigned id;
  size_t to;
} end_hit;

struct vigil_ad_scratch {
  hs_scratch_t *s;
  posv cue[4];   /* by VIGIL__CUE_* kind, reused across ads */
  end_hit *ends; /* rule matches of the current ad, reused across ads */
  size_t nends, ends_cap;
  int ends_rc; /* VIGIL_ENOMEM when the first pass stopped for memory */
  char region[4]; /* default region of national phone numbers; "" for none */
};

int vigil_ad_scratch_set_region(vigil_ad_scratch *s, const char *region, vigil_error *err) {
  if (!s) return vigil__seterr(err, VIGIL_EINVAL, "ads: no scratch");
  if (region && !vigil__phone_region_ok(region))
    return vigil__seterr(err, VIGIL_EINVAL, "ads: unknown region '%.8s' (expected a two-letter country code such as GB)",
                         region);
  s->region[0] = 0;
  if (region) memcpy(s->region, region, 3); /* two letters and the NUL, checked above */
  return VIGIL_OK;
}

static const char *const family_names[VIGIL_AD_NFAMILIES] = {
    "minor",        "youth",    "emoji_code", "third_person", "control",   "movement",  "restricted",
    "unprotected",  "price_code", "obscured_contact", "stated_age", "trust", "ethnicity", "independent"};

/* Log-odds weights; see docs/text.md ("Weights and their sources"). */
static const double family_weight[VIGIL_AD_NFAMILIES] = {
    [VIGIL_AD_MINOR] = 0.0, /* handled by MINOR_RISK */
    [VIGIL_AD_YOUTH] = 1.0,
    [VIGIL_AD_EMOJI_CODE] = 0.8,
    [VIGIL_AD_THIRD_PERSON] = 0.8,
    [VIGIL_AD_CONTROL] = 1.2,
    [VIGIL_AD_MOVEMENT] = -1.2,
    [VIGIL_AD_RESTRICTED] = 0.5,
    [VIGIL_AD_UNPROTECTED] = 0.7,
    [VIGIL_AD_PRICE_CODE] = 0.3,
    [VIGIL_AD_OBSCURED_CONTACT] = 0.9,
    [VIGIL_AD_STATED_AGE] = 0.0,
    [VIGIL_AD_TRUST] = 0.8,
    [VIGIL_AD_ETHNICITY] = 0.6,
    [VIGIL_AD_INDEPENDENT] = -0.5,
};

const char *vigil_ad_family_name(int family) {
  if (family < 0 || family >= VIGIL_AD_NFAMILIES) return "unknown";
  return family_names[family];
}

double vigil_ad_family_weight(int family) {
  if (family < 0 || family >= VIGIL_AD_NFAMILIES) return 0.0;
  return family_weight[family];
}

void vigil_ad_scanner_free(vigil_ad_scanner *s) {
  if (!s) return; /* also frees a partly built scanner: NULL databases are skipped */
  if (s->db) hs_free_database(s->db);
  if (s->one)
    for (size_t i = 0; i < vigil__ad_nrules; i++)
      if (s->one[i]) hs_free_database(s->one[i]);
  free(s->one);
  free(s->minw);
  free(s->maxw);
  if (s->cues) hs_free_database(s->cues);
  free(s);
}

/* Rule i's match widths and, unless its width is fixed (then the start
 * is known from the end), rule i alone with start-of-match tracking. */
static int compile_one(vigil_ad_scanner *s, size_t i, vigil_error *err) {
  const char *pat = vigil__ad_rules[i].pattern;
  hs_compile_error_t *ce = NULL;
  hs_expr_info_t *info = NULL;
  hs_error_t rc = hs_expression_info(pat, HS_FLAG_SOM_LEFTMOST, &info, &ce);
  if (rc == HS_SUCCESS && info->min_width != info->max_width)
    rc = hs_compile(pat, HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK, NULL, &s->one[i], &ce);
  if (rc != HS_SUCCESS) {
    free(info);
    int r = vigil__seterr(err, VIGIL_EINTERNAL, "ads: rule %zu does not compile: %s", i,
                          ce && ce->message ? ce->message : "?");
    hs_free_compile_error(ce);
    return r;
  }
  s->minw[i] = info->min_width;
  s->maxw[i] = info->max_width;
  free(info); /* hs_expression_info allocates with the default allocator (malloc) */
  return VIGIL_OK;
}

int vigil_ad_scanner_new(vigil_ad_scanner **out, vigil_error *err) {
  if (!out) return vigil__seterr(err, VIGIL_EINVAL, "ads: null argument");
  *out = NULL;
  size_t n = vigil__ad_nrules;
  const char **pats = vigil__mallocarray(n, sizeof *pats);
  unsigned *ids = calloc(n, sizeof *ids); /* calloc: gcc cannot see the loop below fill it */
  vigil_ad_scanner *s = calloc(1, sizeof *s);
  if (s) {
    s->one = calloc(n, sizeof *s->one);
    s->minw = vigil__mallocarray(n, sizeof *s->minw);
    s->maxw = vigil__mallocarray(n, sizeof *s->maxw);
  }
  if (!pats || !ids || !s || !s->one || !s->minw || !s->maxw) {
    free(pats);
    free(ids);
    vigil_ad_scanner_free(s);
    return vigil__seterr(err, VIGIL_ENOMEM, "ads: out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    pats[i] = vigil__ad_rules[i].pattern;
    ids[i] = (unsigned)i;
  }
  hs_compile_error_t *ce = NULL; /* no flags: ends only (see the file comment) */
  hs_error_t rc = hs_compile_multi(pats, NULL, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &s->db, &ce);
  free(pats);
  free(ids);
  if (rc != HS_SUCCESS) {
    int r = vigil__seterr(err, VIGIL_EINTERNAL, "ads: rule %d does not compile: %s", ce ? ce->expression : -1,
                          ce && ce->message ? ce->message : "?");
    hs_free_compile_error(ce);
    vigil_ad_scanner_free(s);
    return r;
  }
  for (size_t i = 0; i < n; i++) {
    int r = compile_one(s, i, err);
    if (r) {
      vigil_ad_scanner_free(s);
      return r;
    }
  }
  size_t nc = vigil__cue_nrules;
  const char *cp[32];
  unsigned cf[32], ci[32];
  if (nc > 32) nc = 32;
  for (size_t i = 0; i < nc; i++) {
    cp[i] = vigil__cue_rules[i].pattern;
    cf[i] = 0;
    ci[i] = (unsigned)i;
  }
  rc = hs_compile_multi(cp, cf, ci, (unsigned)nc, HS_MODE_BLOCK, NULL, &s->cues, &ce);
  if (rc != HS_SUCCESS) {
    int r = vigil__seterr(err, VIGIL_EINTERNAL, "ads: cue %d does not compile: %s", ce ? ce->expression : -1,
                          ce && ce->message ? ce->message : "?");
    hs_free_compile_error(ce);
    vigil_ad_scanner_free(s);
    return r;
  }
  *out = s;
  return VIGIL_OK;
}

int vigil_ad_scratch_new(const vigil_ad_scanner *s, vigil_ad_scratch **out, vigil_error *err) {
  if (!s || !out) return vigil__seterr(err, VIGIL_EINVAL, "ads: null argument");
  vigil_ad_scratch *x = calloc(1, sizeof *x);
  if (!x) return vigil__seterr(err, VIGIL_ENOMEM, "ads: out of memory");
  /* one scratch serves every database (Hyperscan grows it to fit each) */
  int ok = hs_alloc_scratch(s->db, &x->s) == HS_SUCCESS && hs_alloc_scratch(s->cues, &x->s) == HS_SUCCESS;
  for (size_t i = 0; ok && i < vigil__ad_nrules; i++)
    if (s->one[i]) ok = hs_alloc_scratch(s->one[i], &x->s) == HS_SUCCESS;
  if (!ok) {
    hs_free_scratch(x->s);
    free(x);
    return vigil__seterr(err, VIGIL_ENOMEM, "ads: cannot allocate scratch");
  }
  *out = x;
  return VIGIL_OK;
}

void vigil_ad_scratch_free(vigil_ad_scratch *s) {
  if (!s) return;
  hs_free_scratch(s->s);
  for (int k = 0; k < 4; k++) free(s->cue[k].v);
  free(s->ends);
  free(s);
}

void vigil_ad_result_init(vigil_ad_result *r) {
  memset(r, 0, sizeof *r);
  r->min_age = -1;
}

void vigil_ad_result_free(vigil_ad_result *r) {
  if (!r) return;
  free(r->hits);
  vigil_contacts_free(&r->contacts);
  vigil_ages_free(&r->ages);
  vigil_ad_result_init(r);
}

typedef struct ctx {
  const vigil_text *t;
  vigil_ad_result *r;
  unsigned counts[VIGIL_AD_NFAMILIES];
} ctx;

static int add_hit(ctx *c, int family, int rule, vigil_span sp) {
  vigil_ad_result *r = c->r;
  if (c->counts[family] >= HITS_PER_FAMILY) {
    c->counts[family]++;
    return VIGIL_OK;
  }
  /* Hyperscan reports a match at every end offset; keep the first per start */
  for (size_t i = r->nhits; i-- > 0;) {
    if (r->hits[i].rule == rule && r->hits[i].span.start == sp.start) {
      if (sp.end > r->hits[i].span.end) r->hits[i].span.end = sp.end;
      return VIGIL_OK;
    }
    if (r->hits[i].span.end + 64 < sp.start) break;
  }
  if (r->nhits == r->hits_cap) {
    size_t cap = r->hits_cap ? r->hits_cap * 2 : 16;
    vigil_ad_hit *v = vigil__mallocarray(cap, sizeof *v);
    if (!v) return VIGIL_ENOMEM;
    if (r->nhits) memcpy(v, r->hits, r->nhits * sizeof *v);
    free(r->hits);
    r->hits = v;
    r->hits_cap = cap;
  }
  r->hits[r->nhits].family = family;
  r->hits[r->nhits].rule = rule;
  r->hits[r->nhits].span = sp;
  r->nhits++;
  c->counts[family]++;
  return VIGIL_OK;
}

/* "no pimps", "not independent", "🚫 bb", "no AA/BB/GFE", "dont ask me
 * for any bb", "(bb isnt a fetish)": a negation among the six words before
 * the hit in the same clause, or "isnt"/"is not" right after it. */
static int neg_word(const char *w, size_t k) {
  static const char *const neg[] = {"no", "not", "never", "dont", "don't", "nor", "without", "zero", "nothing"};
  for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++)
    if (strlen(neg[i]) == k && !memcmp(neg[i], w, k)) return 1;
  return 0;
}

static int negated(const char *m, size_t n, size_t from, size_t to) {
  size_t i = from;
  for (int words = 0; words < 6 && i > 0; words++) {
    while (i > 0 && strchr(" -*,/&+()'\"", m[i - 1])) i--;
    while (i >= 4 && !memcmp(m + i - 4, "\xF0\x9F\x8F", 3) && (unsigned char)m[i - 1] >= 0xBB) i -= 4; /* skin tone */
    size_t e = i;
    if (e >= 4 && !memcmp(m + e - 4, "\xF0\x9F\x9A\xAB", 4)) return 1; /* 🚫 */
    if (e >= 4 && !memcmp(m + e - 4, "\xF0\x9F\x99\x85", 4)) return 1; /* 🙅 */
    if (e >= 3 && (!memcmp(m + e - 3, "\xE2\x9D\x8C", 3) || !memcmp(m + e - 3, "\xE2\x9B\x94", 3))) return 1;
    while (i > 0 && (vigil__isalpha((unsigned char)m[i - 1]) || m[i - 1] == '\'')) i--;
    if (i == e) break; /* punctuation or a symbol ends the clause */
    if (neg_word(m + i, e - i)) return 1;
  }
  size_t j = to;
  while (j < n && m[j] == ' ') j++;
  if ((j + 4 <= n && !memcmp(m + j, "isnt", 4)) || (j + 6 <= n && !memcmp(m + j, "is not", 6))) return 1;
  return 0;
}

static int on_match(ctx *c, unsigned id, size_t from, size_t to) {
  const vigil__ad_rule *rule = &vigil__ad_rules[id];
  if (rule->negatable && negated(c->t->lex, c->t->len, from, to)) return VIGIL_OK;
  return add_hit(c, rule->family, (int)id, vigil_text_span(c->t, from, to));
}

/* First pass: collects (rule, end) of every match. */
static int on_end(unsigned id, unsigned long long from_unused, unsigned long long to, unsigned flags, void *arg) {
  (void)from_unused;
  (void)flags;
  vigil_ad_scratch *x = arg;
  if (id >= vigil__ad_nrules) return 0;
  if (x->nends == x->ends_cap) {
    size_t cap = x->ends_cap ? x->ends_cap * 2 : 32;
    end_hit *v = vigil__mallocarray(cap, sizeof *v);
    if (!v) {
      x->ends_rc = VIGIL_ENOMEM;
      return 1; /* stop */
    }
    if (x->nends) memcpy(v, x->ends, x->nends * sizeof *v);
    free(x->ends);
    x->ends = v;
    x->ends_cap = cap;
  }
  x->ends[x->nends].id = id;
  x->ends[x->nends].to = (size_t)to;
  x->nends++;
  return 0;
}

typedef struct startctx {
  unsigned long long to; /* the end whose leftmost start is wanted, window-relative */
  unsigned long long from;
  int found;
} startctx;

static int on_start(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *arg) {
  (void)id;
  (void)flags;
  startctx *c = arg;
  if (to != c->to) return 0;
  c->from = from;
  c->found = 1;
  return 1; /* nothing later is wanted */
}

/* The leftmost start of a match of rule id ending at `to` in the lex view,
 * which the first pass found.  The window [w0, to + 1) holds every match of
 * the rule that ends at `to` (none is longer than maxw) plus one byte on
 * either side, so the rule's \b assertions see the same neighbours as in
 * the whole text; and no match can begin at w0 itself, where the window's
 * edge would pass for a word boundary.  A rule without an upper width is
 * run from the text's start.  Same start as Hyperscan's leftmost
 * start-of-match over the whole text. */
static int find_start(const vigil_ad_scanner *s, vigil_ad_scratch *x, const vigil_text *t, unsigned id, size_t to,
                      size_t *from) {
  if (s->minw[id] == s->maxw[id]) {
    *from = to >= s->minw[id] ? to - s->minw[id] : 0;
    return VIGIL_OK;
  }
  size_t w0 = s->maxw[id] != UINT_MAX && to > (size_t)s->maxw[id] + 1 ? to - s->maxw[id] - 1 : 0;
  size_t w1 = to < t->len ? to + 1 : t->len;
  startctx c = {to - w0, 0, 0};
  hs_error_t hr = hs_scan(s->one[id], t->lex + w0, (unsigned)(w1 - w0), 0, x->s, on_start, &c);
  if (hr != HS_SUCCESS && hr != HS_SCAN_TERMINATED) return VIGIL_EINTERNAL;
  if (!c.found) return VIGIL_EINTERNAL; /* cannot happen: the first pass saw this match */
  *from = w0 + (size_t)c.from;
  return VIGIL_OK;
}

typedef struct cuectx {
  vigil_ad_scratch *x;
  const vigil_text *t;
  int rc;
} cuectx;

static int push_cue(cuectx *c, int kind, size_t from) {
  posv *p = &c->x->cue[kind];
  if (p->n && p->v[p->n - 1] == from) return 0; /* same start, longer match */
  if (vigil__grow_from((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v, 64)) {
    c->rc = VIGIL_ENOMEM;
    return 1;
  }
  p->v[p->n++] = from;
  return 0;
}

/* Extra cues are harmless (the extractors do at a cue exactly what the
 * full scan does there); a missing one is not, hence AT_HOST's walk. */
static int on_cue(unsigned id, unsigned long long from_unused, unsigned long long to, unsigned flags, void *arg) {
  (void)from_unused;
  (void)flags;
  cuectx *c = arg;
  if (id >= vigil__cue_nrules || to == 0) return 0;
  const char *m = c->t->match;
  size_t from = (size_t)to - 1;
  int kind = vigil__cue_rules[id].kind;
  switch (vigil__cue_rules[id].at) {
  case VIGIL__AT_WORD:
    while (from > 0 && vigil__isalnum((unsigned char)m[from - 1])) from--;
    break;
  case VIGIL__AT_BRACKET: from = to >= 4 ? (size_t)to - 4 : 0; break;
  case VIGIL__AT_HOST: {
    /* a link may be taken from any word start of the URL-ish run before
     * the host ("m.onlyfans.com/x", "a.b/onlyfans.com/x"): cue every one */
    size_t k = from, stop = from > 96 ? from - 96 : 0;
    while (k > stop && (vigil__isalnum((unsigned char)m[k - 1]) ||
                        ((unsigned char)m[k - 1] > 0x20 && (unsigned char)m[k - 1] < 0x7f &&
                         strchr("-._~:/?#[]@!$&'*+,;=%", m[k - 1])))) {
      if (vigil__isalnum((unsigned char)m[k - 1]) && (k - 1 == 0 || !vigil__isalnum((unsigned char)m[k - 2])) &&
          push_cue(c, kind, k - 1))
        return 1;
      k--;
    }
    return 0;
  }
  case VIGIL__AT_END: from = (size_t)to; break;
  default: break;
  }
  return push_cue(c, kind, from);
}

/* Hyperscan reports by end offset; starts are nearly sorted: insertion sort, then unique. */
static void sort_unique(posv *p) {
  for (size_t i = 1; i < p->n; i++) {
    size_t x = p->v[i], j = i;
    while (j > 0 && p->v[j - 1] > x) {
      p->v[j] = p->v[j - 1];
      j--;
    }
    p->v[j] = x;
  }
  size_t w = 0;
  for (size_t i = 0; i < p->n; i++)
    if (!w || p->v[w - 1] != p->v[i]) p->v[w++] = p->v[i];
  p->n = w;
}

int vigil_ad_scan(const vigil_ad_scanner *s, vigil_ad_scratch *scr, const vigil_text *t, vigil_ad_result *r,
                  vigil_error *err) {
  if (!s || !scr || !t || !r) return vigil__seterr(err, VIGIL_EINVAL, "ads: null argument");
  r->risk = 0;
  r->fired = 0;
  r->nhits = 0;
  r->contacts.n = 0;
  r->ages.n = 0;
  r->min_age = -1;
  if (!t->lex || t->len == 0) {
    r->risk = 1.0 / (1.0 + exp(-B0));
    return VIGIL_OK;
  }
  if (t->len > 0xFFFFFFFFu) return vigil__seterr(err, VIGIL_ELIMIT, "ads: text too long");
  ctx c;
  memset(&c, 0, sizeof c);
  c.t = t;
  c.r = r;
  scr->nends = 0;
  scr->ends_rc = VIGIL_OK;
  hs_error_t hr = hs_scan(s->db, t->lex, (unsigned)t->len, 0, scr->s, on_end, scr);
  if (scr->ends_rc) return vigil__seterr(err, scr->ends_rc, "ads: out of memory");
  if (hr != HS_SUCCESS) return vigil__seterr(err, VIGIL_EINTERNAL, "ads: hs_scan failed (%d)", (int)hr);
  /* Hits are taken in (end, rule) order: the order in which a scan with
   * start-of-match tracking reports them (the scan without it may report
   * the rules of one end offset in another order), which fixes what the
   * per-family cap keeps and the order of evidence with equal starts.
   * Reports come by end offset: an insertion sort only reorders ties. */
  for (size_t i = 1; i < scr->nends; i++) {
    end_hit h = scr->ends[i];
    size_t j = i;
    while (j > 0 && (scr->ends[j - 1].to > h.to || (scr->ends[j - 1].to == h.to && scr->ends[j - 1].id > h.id))) {
      scr->ends[j] = scr->ends[j - 1];
      j--;
    }
    scr->ends[j] = h;
  }
  for (size_t i = 0; i < scr->nends; i++) {
    size_t from;
    int rc = find_start(s, scr, t, scr->ends[i].id, scr->ends[i].to, &from);
    if (rc) return vigil__seterr(err, rc, "ads: start of match not found");
    if ((rc = on_match(&c, scr->ends[i].id, from, scr->ends[i].to)))
      return vigil__seterr(err, rc, "ads: out of memory");
  }
  /* contacts and ages: only around their cues (same results as the full
   * scans, a fraction of the work) */
  cuectx cc = {scr, t, VIGIL_OK};
  for (int k = 0; k < 4; k++) scr->cue[k].n = 0;
  hr = hs_scan(s->cues, t->match, (unsigned)t->len, 0, scr->s, on_cue, &cc);
  if (cc.rc) return vigil__seterr(err, cc.rc, "ads: out of memory");
  if (hr != HS_SUCCESS) return vigil__seterr(err, VIGIL_EINTERNAL, "ads: hs_scan failed (%d)", (int)hr);
  for (int k = 1; k < 4; k++) sort_unique(&scr->cue[k]);
  int rc = vigil__phones_extract_at(t, &r->contacts, scr->cue[VIGIL__CUE_PHONE].v, scr->cue[VIGIL__CUE_PHONE].n,
                                    scr->region[0] ? scr->region : NULL);
  if (rc == VIGIL_OK)
    rc = vigil__online_extract_at(t, &r->contacts, scr->cue[VIGIL__CUE_ONLINE].v, scr->cue[VIGIL__CUE_ONLINE].n);
  if (rc == VIGIL_OK) vigil__contacts_dedupe(&r->contacts, 0);
  if (rc == VIGIL_OK)
    rc = vigil__ages_extract_at(t, &r->ages, scr->cue[VIGIL__CUE_AGE].v, scr->cue[VIGIL__CUE_AGE].n);
  if (rc) return vigil__seterr(err, rc, "ads: out of memory");
  for (size_t i = 0; i < r->contacts.n; i++)
    if (r->contacts.v[i].obfuscated && r->contacts.v[i].type == VIGIL_CONTACT_PHONE &&
        (rc = add_hit(&c, VIGIL_AD_OBSCURED_CONTACT, -1, r->contacts.v[i].span)))
      return vigil__seterr(err, rc, "ads: out of memory");
  for (size_t i = 0; i < r->ages.n; i++) {
    int y = r->ages.v[i].years;
    if (r->min_age < 0 || y < r->min_age) r->min_age = y;
    rc = add_hit(&c, y < 18 ? VIGIL_AD_MINOR : VIGIL_AD_STATED_AGE, -1, r->ages.v[i].span);
    if (rc) return vigil__seterr(err, rc, "ads: out of memory");
  }
  double z = B0;
  for (int f = 0; f < VIGIL_AD_NFAMILIES; f++) {
    unsigned need = f == VIGIL_AD_THIRD_PERSON ? 2 : 1;
    if (c.counts[f] >= need) {
      r->fired |= 1u << f;
      z += family_weight[f];
    }
  }
  if (!(r->fired & (1u << VIGIL_AD_THIRD_PERSON))) { /* a lone "her" is not evidence: drop it */
    size_t w = 0;
    for (size_t i = 0; i < r->nhits; i++)
      if (r->hits[i].family != VIGIL_AD_THIRD_PERSON) r->hits[w++] = r->hits[i];
    r->nhits = w;
  }
  for (size_t i = 1; i < r->nhits; i++) { /* evidence in reading order */
    vigil_ad_hit h = r->hits[i];
    size_t j = i;
    while (j > 0 && r->hits[j - 1].span.start > h.span.start) {
      r->hits[j] = r->hits[j - 1];
      j--;
    }
    r->hits[j] = h;
  }
  r->risk = 1.0 / (1.0 + exp(-z));
  if ((r->fired & (1u << VIGIL_AD_MINOR)) && r->risk < MINOR_RISK) r->risk = MINOR_RISK;
  return VIGIL_OK;
}
