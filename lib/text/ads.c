/*
 * ads.c - trafficking-ad indicators and the ad risk score.
 *
 * All lexicon rules (ads_rules.c) are compiled into ONE Hyperscan database
 * (block mode, leftmost start of match), so an ad is scanned once whatever
 * the number of rules.  Hits become evidence spans in the original text via
 * the normalisation map.  Contacts (obscured phone = an indicator) and ages
 * (under 18 = the top signal; an adult age = "stated age") come from
 * contacts*.c and ages.c over the same normalised text.
 *
 * Score: a logistic model over the families that fired,
 *     risk = 1 / (1 + exp(-(B0 + sum of w[f] for fired f)))
 * with the weights in family_weight[] (each documented with its source in
 * docs/text.md), except that an age under 18, stated or implied, sets
 * risk to at least MINOR_RISK whatever else the ad says.  Third-person
 * voice fires only with at least two hits ("her" alone is common prose).
 */
#include "text/ads_internal.h"

#include <hs/hs.h>
#include <math.h>
#include <string.h>

#define B0 (-2.5)
#define MINOR_RISK 0.99
#define HITS_PER_FAMILY 8

struct vigil_ad_scanner {
  hs_database_t *db;   /* indicator rules, over the lex view */
  hs_database_t *cues; /* where contacts and ages can start, over the match view */
};

typedef struct posv {
  size_t *v;
  size_t n, cap;
} posv;

struct vigil_ad_scratch {
  hs_scratch_t *s;
  posv cue[4]; /* by VIGIL__CUE_* kind, reused across ads */
};

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

int vigil_ad_scanner_new(vigil_ad_scanner **out, vigil_error *err) {
  if (!out) return vigil__seterr(err, VIGIL_EINVAL, "ads: null argument");
  *out = NULL;
  size_t n = vigil__ad_nrules;
  const char **pats = vigil__mallocarray(n, sizeof *pats);
  unsigned *flags = vigil__mallocarray(n, sizeof *flags);
  unsigned *ids = vigil__mallocarray(n, sizeof *ids);
  vigil_ad_scanner *s = calloc(1, sizeof *s);
  if (!pats || !flags || !ids || !s) {
    free(pats);
    free(flags);
    free(ids);
    free(s);
    return vigil__seterr(err, VIGIL_ENOMEM, "ads: out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    pats[i] = vigil__ad_rules[i].pattern;
    flags[i] = HS_FLAG_SOM_LEFTMOST;
    ids[i] = (unsigned)i;
  }
  hs_compile_error_t *ce = NULL;
  hs_error_t rc = hs_compile_multi(pats, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &s->db, &ce);
  free(pats);
  free(flags);
  free(ids);
  if (rc != HS_SUCCESS) {
    int r = vigil__seterr(err, VIGIL_EINTERNAL, "ads: rule %d does not compile: %s", ce ? ce->expression : -1,
                          ce && ce->message ? ce->message : "?");
    hs_free_compile_error(ce);
    free(s);
    return r;
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
    hs_free_database(s->db);
    free(s);
    return r;
  }
  *out = s;
  return VIGIL_OK;
}

void vigil_ad_scanner_free(vigil_ad_scanner *s) {
  if (!s) return;
  hs_free_database(s->db);
  hs_free_database(s->cues);
  free(s);
}

int vigil_ad_scratch_new(const vigil_ad_scanner *s, vigil_ad_scratch **out, vigil_error *err) {
  if (!s || !out) return vigil__seterr(err, VIGIL_EINVAL, "ads: null argument");
  vigil_ad_scratch *x = calloc(1, sizeof *x);
  if (!x) return vigil__seterr(err, VIGIL_ENOMEM, "ads: out of memory");
  if (hs_alloc_scratch(s->db, &x->s) != HS_SUCCESS || hs_alloc_scratch(s->cues, &x->s) != HS_SUCCESS) {
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
  int rc;
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
  if (j + 4 <= n && (!memcmp(m + j, "isnt", 4) || !memcmp(m + j, "is not", n - j >= 6 ? 6 : n - j))) return 1;
  return 0;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *arg) {
  (void)flags;
  ctx *c = arg;
  if (id >= vigil__ad_nrules) return 0;
  const vigil__ad_rule *rule = &vigil__ad_rules[id];
  if (rule->negatable && negated(c->t->lex, c->t->len, (size_t)from, (size_t)to)) return 0;
  int rc = add_hit(c, rule->family, (int)id, vigil_text_span(c->t, (size_t)from, (size_t)to));
  if (rc) {
    c->rc = rc;
    return 1; /* stop */
  }
  return 0;
}

typedef struct cuectx {
  vigil_ad_scratch *x;
  const vigil_text *t;
  int rc;
} cuectx;

static int on_cue(unsigned id, unsigned long long from_unused, unsigned long long to, unsigned flags, void *arg) {
  (void)from_unused;
  (void)flags;
  cuectx *c = arg;
  if (id >= vigil__cue_nrules || to == 0) return 0;
  const char *m = c->t->match;
  size_t from = (size_t)to - 1;
  switch (vigil__cue_rules[id].at) {
  case VIGIL__AT_WORD:
    while (from > 0 && vigil__isalnum((unsigned char)m[from - 1])) from--;
    break;
  case VIGIL__AT_BRACKET: from = to >= 4 ? (size_t)to - 4 : 0; break;
  case VIGIL__AT_HOST:
    while (from > 0 && (vigil__isalnum((unsigned char)m[from - 1]) || m[from - 1] == '.' || m[from - 1] == '-' ||
                        m[from - 1] == '/'))
      from--;
    while (from < to && m[from] == '/') from++;
    break;
  case VIGIL__AT_END: from = (size_t)to; break;
  default: break;
  }
  posv *p = &c->x->cue[vigil__cue_rules[id].kind];
  if (p->n && p->v[p->n - 1] == (size_t)from) return 0; /* same start, longer match */
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    size_t *v = realloc(p->v, cap * sizeof *v);
    if (!v) {
      c->rc = VIGIL_ENOMEM;
      return 1;
    }
    p->v = v;
    p->cap = cap;
  }
  p->v[p->n++] = (size_t)from;
  return 0;
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
  hs_error_t hr = hs_scan(s->db, t->lex, (unsigned)t->len, 0, scr->s, on_match, &c);
  if (c.rc) return vigil__seterr(err, c.rc, "ads: out of memory");
  if (hr != HS_SUCCESS) return vigil__seterr(err, VIGIL_EINTERNAL, "ads: hs_scan failed (%d)", (int)hr);
  /* contacts and ages: only around their cues (same results as the full
   * scans, a fraction of the work) */
  cuectx cc = {scr, t, VIGIL_OK};
  for (int k = 0; k < 4; k++) scr->cue[k].n = 0;
  hr = hs_scan(s->cues, t->match, (unsigned)t->len, 0, scr->s, on_cue, &cc);
  if (cc.rc) return vigil__seterr(err, cc.rc, "ads: out of memory");
  if (hr != HS_SUCCESS) return vigil__seterr(err, VIGIL_EINTERNAL, "ads: hs_scan failed (%d)", (int)hr);
  for (int k = 1; k < 4; k++) sort_unique(&scr->cue[k]);
  int rc = vigil__phones_extract_at(t, &r->contacts, scr->cue[VIGIL__CUE_PHONE].v, scr->cue[VIGIL__CUE_PHONE].n);
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
  r->risk = 1.0 / (1.0 + exp(-z));
  if ((r->fired & (1u << VIGIL_AD_MINOR)) && r->risk < MINOR_RISK) r->risk = MINOR_RISK;
  return VIGIL_OK;
}
