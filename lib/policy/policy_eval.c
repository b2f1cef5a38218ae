/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_eval.c - compiling a parsed policy into its cell table, and the
 * two evaluators that answer a request:
 *
 *   vigil_policy_decide()        one table load (action x actor band x
 *                                target band x relationship x risk class),
 *                                then finish(): at most one setting check or
 *                                quiet-hours test.  No allocation, no locks.
 *   vigil_policy_decide_traced() walks the rule list in order, as written,
 *                                and can describe each step; it is the
 *                                reference the compiled table must agree with
 *                                (tests check every cell) and the baseline the
 *                                benchmark compares against.
 *
 * Both end in the same finish() so they can differ only in which rule they
 * pick, which is exactly what the compile step must preserve.
 */
#include "common/internal.h"
#include "policy/policy_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An absent party: the platform itself, or nobody.  Unknown band, so it is
 * protected like a minor and restricted like an adult. */
static const vigil_policy_account blank_account = {
    NULL, VIGIL_BAND_UNKNOWN, 0, 0, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0};

static const char *const setting_phrase[VIGIL_SET_COUNT] = {
    "This profile is visible to",
    "This account accepts direct messages from",
    "This account accepts comments from",
    "This account can be mentioned or tagged by",
    "This account's videos can be dueted or stitched by",
    "This account's videos can be downloaded by",
    "This account is suggested and shown in search to",
    "This account shares its location with"};

int vigil__policy_match(const prule *r, unsigned act, unsigned ab, unsigned tb, unsigned rel, unsigned risk) {
  return (r->action_mask >> act & 1) && (r->actor_mask >> ab & 1) && (r->target_mask >> tb & 1) &&
         (r->rel_mask >> rel & 1) && (r->risk_mask >> risk & 1);
}

static pcell cell_of_rule(const vigil_policy *p, const prule *r) {
  pcell c;
  c.kind = r->kind;
  c.whose = r->whose;
  c.setting = r->setting;
  c.with = r->with;
  c.else_kind = r->else_kind;
  c.else_with = r->else_with;
  c.rule = (uint16_t)(r - p->rules);
  return c;
}

static const pcell no_rule_cell = {PK_NORULE, 0, 0, 0, PK_DENY, 0, P_NO_RULE};

void vigil__policy_compile(vigil_policy *p) {
  uint16_t cand[P_MAX_RULES]; /* rules that mention the action, in order */
  for (unsigned act = 0; act < VIGIL_ACT_COUNT; act++) {
    size_t nc = 0;
    for (size_t i = 0; i < p->nrules; i++)
      if (p->rules[i].action_mask >> act & 1) cand[nc++] = (uint16_t)i;
    for (unsigned ab = 0; ab < VIGIL_BAND_COUNT; ab++)
      for (unsigned tb = 0; tb < VIGIL_BAND_COUNT; tb++)
        for (unsigned rel = 0; rel < VIGIL_REL_COUNT; rel++)
          for (unsigned risk = 0; risk < PRISK_COUNT; risk++) {
            pcell c = no_rule_cell;
            for (size_t k = 0; k < nc; k++)
              if (vigil__policy_match(&p->rules[cand[k]], act, ab, tb, rel, risk)) {
                c = cell_of_rule(p, &p->rules[cand[k]]);
                break;
              }
            p->cells[pcell_index(act, ab, tb, rel, risk)] = c;
          }
  }
  for (int s = 0; s < VIGIL_SET_COUNT; s++)
    for (int a = 0; a < VIGIL_AUD_COUNT; a++) {
      snprintf(p->check_sentence[s][a][0], P_SENT_MAX, "%s %s, so this is not allowed.", setting_phrase[s],
               vigil__audience_label(a));
      snprintf(p->check_sentence[s][a][1], P_SENT_MAX, "%s %s, so this is allowed.", setting_phrase[s],
               vigil__audience_label(a));
    }
  for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
    const pquiet *q = &p->quiet[b];
    snprintf(p->quiet_sentence[b], P_SENT_MAX,
             "Notifications to %s accounts are held during quiet hours, %02d:%02d-%02d:%02d local time.",
             vigil__band_label(b), q->start / 60, q->start % 60, q->end / 60, q->end % 60);
  }
}

/* The audience a setting of account s (band sb) admits, after clamping the
 * user's choice to what they may choose alone or with their parent. */
static inline unsigned effective_audience(const vigil_policy *p, const vigil_policy_account *s, unsigned sb,
                                          unsigned set, unsigned *chosen, unsigned *limit) {
  const psetting *ps = &p->set[set][sb];
  unsigned v = s->settings[set];
  if (v >= VIGIL_AUD_COUNT) v = ps->def;
  unsigned lim = (s->parent_linked && (s->parent_approved >> set & 1u)) ? ps->parent_limit : ps->self_limit;
  *chosen = v;
  *limit = lim;
  return v < lim ? lim : v;
}

static inline int in_quiet(const pquiet *q, int minute) {
  if (q->start == q->end) return 0;
  if (minute < 0 || minute >= 1440) return 1; /* unknown local time: protective */
  return q->start < q->end ? (minute >= q->start && minute < q->end) : (minute >= q->start || minute < q->end);
}

static inline void add_reason(vigil_policy_decision *d, const char *r) {
  if (d->nreasons < VIGIL_POLICY_MAX_REASONS) d->reasons[d->nreasons++] = r;
}

static void finish(const vigil_policy *p, const pcell *c, const vigil_policy_account *a,
                   const vigil_policy_account *t, unsigned ab, unsigned tb, unsigned rel, unsigned risk,
                   int minute, vigil_policy_decision *d) {
  d->nreasons = 0;
  if (c->rule == P_NO_RULE) {
    d->outcome = VIGIL_POLICY_DENY;
    d->conditions = 0;
    d->reasons[d->nreasons++] = "no_rule";
    d->sentence = "No policy rule covers this action, so it is denied.";
    d->source = "";
    d->rule_line = 0;
    d->rule_origin = "";
    return;
  }
  const prule *r = &p->rules[c->rule];
  d->reasons[d->nreasons++] = r->id;
  d->sentence = r->sentence;
  d->source = r->source;
  d->rule_line = r->line;
  d->rule_origin = r->origin;
  unsigned conds = 0;
  int deny = 0;
  switch (c->kind) {
  case PK_ALLOW: conds = c->with; break;
  case PK_DENY: deny = 1; break;
  case PK_CHECK: {
    const vigil_policy_account *s = c->whose == PWHO_ACTOR ? a : t;
    unsigned sb = c->whose == PWHO_ACTOR ? ab : tb, chosen, limit;
    unsigned aud = effective_audience(p, s, sb, c->setting, &chosen, &limit);
    /* rel ranks equal audience ranks; NONE (5) is above every rank and
     * BLOCKED (5) is never admitted. */
    int pass = rel < VIGIL_REL_BLOCKED && rel >= aud;
    d->sentence = p->check_sentence[c->setting][aud][pass];
    add_reason(d, pass ? vigil__setting_met[c->setting] : vigil__setting_unmet[c->setting]);
    if (chosen < limit)
      add_reason(d, p->set[c->setting][sb].parent_limit <= chosen ? vigil__setting_parent[c->setting]
                                                                    : "setting_locked_for_age_band");
    if (pass) conds = c->with;
    else if (c->else_kind == PK_ALLOW) {
      conds = c->else_with;
      d->sentence = r->sentence; /* e.g. "needs approval": the rule says why */
    } else deny = 1;
    break;
  }
  case PK_QUIET:
    if (in_quiet(&p->quiet[tb], minute)) {
      deny = 1;
      add_reason(d, "quiet_hours");
      d->sentence = p->quiet_sentence[tb];
    }
    break;
  default: deny = 1; break;
  }
  if (risk && !(r->risk_mask & 1u)) {
    /* The rule fired because of a risk flag: name the evidence. */
    if (risk & PRISK_ACTOR) {
      if (a->risk & VIGIL_RISK_GROOMING) add_reason(d, "actor_grooming_risk");
      if (a->risk & VIGIL_RISK_HASH_MATCH) add_reason(d, "actor_hash_match");
    }
    if (risk & PRISK_TARGET) {
      if (t->risk & VIGIL_RISK_GROOMING) add_reason(d, "target_grooming_risk");
      if (t->risk & VIGIL_RISK_HASH_MATCH) add_reason(d, "target_hash_match");
    }
  }
  d->conditions = deny ? 0 : conds;
  d->outcome = deny ? VIGIL_POLICY_DENY : conds ? VIGIL_POLICY_ALLOW_WITH_CONDITIONS : VIGIL_POLICY_ALLOW;
}

static void invalid(vigil_policy_decision *d) {
  memset(d, 0, sizeof *d);
  d->outcome = VIGIL_POLICY_DENY;
  d->nreasons = 1;
  d->reasons[0] = "invalid_request";
  d->sentence = "The request is not valid, so it is denied.";
  d->source = "";
  d->rule_origin = "";
}

int vigil_policy_decide(const vigil_policy *p, const vigil_policy_request *rq, vigil_policy_decision *d) {
  if (!d) return VIGIL_EINVAL;
  if (!p || !rq || (unsigned)rq->action >= VIGIL_ACT_COUNT) {
    invalid(d);
    return VIGIL_EINVAL;
  }
  const vigil_policy_account *a = rq->actor ? rq->actor : &blank_account;
  const vigil_policy_account *t = rq->target ? rq->target : &blank_account;
  unsigned ab = a->band < VIGIL_BAND_COUNT ? a->band : VIGIL_BAND_UNKNOWN;
  unsigned tb = t->band < VIGIL_BAND_COUNT ? t->band : VIGIL_BAND_UNKNOWN;
  unsigned rel = vigil__rel_of_flags[rq->rel_flags & 31u];
  unsigned risk = (a->risk ? PRISK_ACTOR : 0u) | (t->risk ? PRISK_TARGET : 0u);
  finish(p, &p->cells[pcell_index((unsigned)rq->action, ab, tb, rel, risk)], a, t, ab, tb, rel, risk,
         rq->local_minute, d);
  return VIGIL_OK;
}

/* Appends a formatted line to the trace buffer (bounded, NUL-terminated). */
typedef struct tbuf {
  char *s;
  size_t cap, len;
} tbuf;
static void tprintf(tbuf *b, const char *fmt, ...) VIGIL__PRINTF(2, 3);
static void tprintf(tbuf *b, const char *fmt, ...) {
  if (!b->s || b->len + 1 >= b->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  b->len += (size_t)n;
  if (b->len >= b->cap) b->len = b->cap - 1;
  if (b->len + 1 < b->cap) {
    b->s[b->len++] = '\n';
    b->s[b->len] = '\0';
  }
}

static const char *const risk_names[PRISK_COUNT] = {"none", "actor flagged", "target flagged", "both flagged"};

static const char *mismatch(const prule *r, unsigned act, unsigned ab, unsigned tb, unsigned rel, unsigned risk) {
  if (!(r->action_mask >> act & 1)) return "action not listed";
  if (!(r->actor_mask >> ab & 1)) return "actor band not listed";
  if (!(r->target_mask >> tb & 1)) return "target band not listed";
  if (!(r->rel_mask >> rel & 1)) return "relationship not listed";
  if (!(r->risk_mask >> risk & 1)) return "risk class not listed";
  return "matches";
}

int vigil_policy_decide_traced(const vigil_policy *p, const vigil_policy_request *rq, vigil_policy_decision *d,
                               char *trace, size_t cap) {
  tbuf tb_ = {trace, cap, 0};
  if (trace && cap) trace[0] = '\0';
  if (!d) return VIGIL_EINVAL;
  if (!p || !rq || (unsigned)rq->action >= VIGIL_ACT_COUNT) {
    invalid(d);
    tprintf(&tb_, "invalid request: no policy, no request or an unknown action");
    return VIGIL_EINVAL;
  }
  const vigil_policy_account *a = rq->actor ? rq->actor : &blank_account;
  const vigil_policy_account *t = rq->target ? rq->target : &blank_account;
  unsigned ab = a->band < VIGIL_BAND_COUNT ? a->band : VIGIL_BAND_UNKNOWN;
  unsigned tb = t->band < VIGIL_BAND_COUNT ? t->band : VIGIL_BAND_UNKNOWN;
  unsigned rel = vigil__rel_of_flags[rq->rel_flags & 31u];
  unsigned risk = (a->risk ? PRISK_ACTOR : 0u) | (t->risk ? PRISK_TARGET : 0u);
  unsigned act = (unsigned)rq->action;
  if (trace) {
    if (rq->local_minute >= 0 && rq->local_minute < 1440)
      tprintf(&tb_, "request: action %s, actor band %s, target band %s, relationship %s, risk %s, local time %02d:%02d",
              vigil_action_name((int)act), vigil_band_name((int)ab), vigil_band_name((int)tb),
              vigil_rel_name((int)rel), risk_names[risk], rq->local_minute / 60, rq->local_minute % 60);
    else
      tprintf(&tb_, "request: action %s, actor band %s, target band %s, relationship %s, risk %s, local time unknown",
              vigil_action_name((int)act), vigil_band_name((int)ab), vigil_band_name((int)tb),
              vigil_rel_name((int)rel), risk_names[risk]);
  }
  pcell c = no_rule_cell;
  for (size_t i = 0; i < p->nrules; i++) {
    const prule *r = &p->rules[i];
    if (vigil__policy_match(r, act, ab, tb, rel, risk)) {
      c = cell_of_rule(p, r);
      tprintf(&tb_, "rule %s (%s line %d): matches", r->id, r->origin, r->line);
      break;
    }
    if (trace) tprintf(&tb_, "rule %s (%s line %d): skipped, %s", r->id, r->origin, r->line, mismatch(r, act, ab, tb, rel, risk));
  }
  finish(p, &c, a, t, ab, tb, rel, risk, rq->local_minute, d);
  if (!trace) return VIGIL_OK;
  if (c.rule == P_NO_RULE) tprintf(&tb_, "no rule matched: deny");
  else if (c.kind == PK_CHECK) {
    const vigil_policy_account *s = c.whose == PWHO_ACTOR ? a : t;
    unsigned sb = c.whose == PWHO_ACTOR ? ab : tb, chosen, limit;
    unsigned aud = effective_audience(p, s, sb, c.setting, &chosen, &limit);
    tprintf(&tb_, "check %s setting %s (band %s): %s %s, loosest allowed %s%s, effective %s",
            c.whose == PWHO_ACTOR ? "actor" : "target", vigil_setting_name(c.setting), vigil_band_name((int)sb),
            s->settings[c.setting] < VIGIL_AUD_COUNT ? "chosen" : "default", vigil_audience_name((int)chosen),
            vigil_audience_name((int)limit),
            s->parent_linked && (s->parent_approved >> c.setting & 1u) ? " (parent approved)" : "",
            vigil_audience_name((int)aud));
    tprintf(&tb_, "relationship %s %s audience %s", vigil_rel_name((int)rel),
            rel < VIGIL_REL_BLOCKED && rel >= aud ? "meets" : "does not meet", vigil_audience_name((int)aud));
  } else if (c.kind == PK_QUIET) {
    const pquiet *q = &p->quiet[tb];
    if (q->start == q->end) tprintf(&tb_, "band %s has no quiet hours", vigil_band_name((int)tb));
    else
      tprintf(&tb_, "quiet hours of band %s: %02d:%02d-%02d:%02d; %s", vigil_band_name((int)tb), q->start / 60,
              q->start % 60, q->end / 60, q->end % 60,
              rq->local_minute < 0 || rq->local_minute >= 1440 ? "local time unknown, treated as inside"
              : in_quiet(q, rq->local_minute)                    ? "inside"
                                                                 : "outside");
  }
  tprintf(&tb_, "decision: %s", vigil_outcome_name(d->outcome));
  return VIGIL_OK;
}

/* ---- loading ---------------------------------------------------------- */

static vigil_policy *policy_new(const char *name) {
  vigil_policy *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  atomic_init(&p->refs, 1);
  p->min_confidence = 0.9;
  p->origin_default = strdup("default");
  p->origin_file = strdup(name ? name : "policy");
  if (!p->origin_default || !p->origin_file) {
    vigil__policy_clear(p);
    free(p);
    return NULL;
  }
  return p;
}

static int load(const char *text, size_t len, const char *name, int is_default, vigil_policy **out,
                vigil_error *err) {
  if (!out) return vigil__seterr(err, VIGIL_EINVAL, "policy load: NULL output");
  vigil_policy *p = policy_new(name);
  if (!p) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__policy_parse(p, text, len, is_default ? p->origin_default : p->origin_file, is_default, err);
  if (rc) {
    vigil_policy_free(p);
    return rc;
  }
  vigil__policy_compile(p);
  *out = p;
  return VIGIL_OK;
}

int vigil_policy_load_default(vigil_policy **out, vigil_error *err) {
  const char *t = vigil_policy_default_text();
  return load(t, strlen(t), "default", 1, out, err);
}

int vigil_policy_load(const char *text, size_t len, const char *name, vigil_policy **out, vigil_error *err) {
  return load(text, len, name, 0, out, err);
}

int vigil_policy_load_file(const char *path, vigil_policy **out, vigil_error *err) {
  if (!path) return vigil__seterr(err, VIGIL_EINVAL, "policy load: NULL path");
  FILE *f = fopen(path, "rb");
  if (!f) return vigil__seterr(err, VIGIL_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = (1u << 20) + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  size_t got;
  while (n < cap && (got = fread(buf + n, 1, cap - n, f)) > 0) n += got;
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return vigil__seterr(err, VIGIL_EIO, "%s: read error", path);
  }
  int rc = load(buf, n, path, 0, out, err);
  free(buf);
  return rc;
}

void vigil_policy_free(vigil_policy *p) {
  if (!p) return;
  vigil__policy_clear(p);
  free(p);
}

/* ---- inspection ------------------------------------------------------- */

int vigil_policy_setting(const vigil_policy *p, int setting, int band, vigil_policy_setting_row *row) {
  if (!p || !row || setting < 0 || setting >= VIGIL_SET_COUNT || band < 0 || band >= VIGIL_BAND_COUNT)
    return VIGIL_EINVAL;
  const psetting *s = &p->set[setting][band];
  row->def = s->def;
  row->self_limit = s->self_limit;
  row->parent_limit = s->parent_limit;
  row->source = s->source ? s->source : "";
  return VIGIL_OK;
}

int vigil_policy_quiet(const vigil_policy *p, int band, int *start, int *end) {
  if (!p || band < 0 || band >= VIGIL_BAND_COUNT || !start || !end) return VIGIL_EINVAL;
  *start = p->quiet[band].start;
  *end = p->quiet[band].end;
  return VIGIL_OK;
}

size_t vigil_policy_rule_count(const vigil_policy *p) { return p ? p->nrules : 0; }

int vigil_policy_rule_info(const vigil_policy *p, size_t i, const char **id, const char **source,
                           const char **sentence, int *line) {
  if (!p || i >= p->nrules) return VIGIL_EINVAL;
  if (id) *id = p->rules[i].id;
  if (source) *source = p->rules[i].source;
  if (sentence) *sentence = p->rules[i].sentence;
  if (line) *line = p->rules[i].line;
  return VIGIL_OK;
}

const char *vigil_policy_source_text(const vigil_policy *p, const char *id) {
  for (size_t i = 0; p && id && i < p->nsources; i++)
    if (!strcmp(p->sources[i].id, id)) return p->sources[i].text;
  return NULL;
}

size_t vigil_policy_source_count(const vigil_policy *p) { return p ? p->nsources : 0; }

int vigil_policy_source_info(const vigil_policy *p, size_t i, const char **id, const char **text) {
  if (!p || i >= p->nsources) return VIGIL_EINVAL;
  if (id) *id = p->sources[i].id;
  if (text) *text = p->sources[i].text;
  return VIGIL_OK;
}
