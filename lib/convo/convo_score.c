/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convo_score.c - per-participant state of a conversation and pair risk.
 *
 * Each message is normalised and scanned once (convo_norm.c,
 * convo_rules.c); what it showed is added to its SENDER's record: a count
 * and up to VIGIL_CONVO_MAX_EVIDENCE evidence spans per stage, ages stated
 * about itself or about the other participant, youth cues.  Nothing else of
 * the message is kept, so memory is O(participants), not O(messages).
 *
 * Pair risk (actor A -> target B) is a logistic score over the stages A
 * showed, each saturating with repetition (1 - 2^-count), plus an
 * interaction between the approach stages specific to grooming (risk
 * assessment, secrecy) and the goal stages (sexual content, meeting,
 * images), plus what is known of B's age.  The weights are set by hand
 * from the literature (docs/convo.md explains each) and checked on the
 * development half of the corpora only.
 *
 * A pair's risk is about the actor's behaviour: what the target says is
 * evidence about the target and may raise the actor's risk, never the
 * target's.  So when B carries more of the behaviour than A (lead(), the
 * weighted count of stage messages), A is answering and its behaviour
 * score is scaled down by (lead A / lead B)^2; youth cues count for the one
 * of the two who shows more of them, and a cue about someone else ("ur
 * mom") is none.  Rules override the score:
 *   - B known to be a minor (declared, stated by B, or stated by A), A not
 *     known to be a minor, and A showed sexual content or a meeting
 *     request: risk >= 0.9 (the highest level);
 *   - A and B both known to be adults: risk < the threshold (adult sexual
 *     chat is not grooming);
 *   - A known to be a minor (or, without ages, clearly the one who talks
 *     like the child while not clearly leading) and B not: risk < the
 *     threshold (A is the one at risk).
 * In a conversation of more than two participants (a chat room) a message
 * has no single target, so B's age counts only if A and B addressed each
 * other by name at least once.
 */
#include "convo/convo_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "common/grow.h"

#define ADDRESS_MAX_PERSONS 64 /* name look-ups per message stay cheap */

typedef struct pstate {
  vigil_convo_person pub; /* refreshed by refresh() */
  char *norm_id;          /* id in matching form, for addressing */
  size_t norm_id_len;
  int decl_age, decl_minor, decl_adult;
  int self_age, self_minor, has_self;
  vigil_convo_evidence self_ev;
  int said_other_age, said_other_minor, has_said_other; /* what this person said of the other */
  vigil_convo_evidence said_ev;
  size_t *addressed; /* persons this one named, in order of first mention */
  size_t n_addr, cap_addr;
} pstate;

struct vigil_convo {
  vigil_convo_scorer *s;
  pstate *p;
  size_t np, capp;
  size_t nmsg, ninvalid;
  /* Open-addressing index of ids: slot holds person index + 1, 0 = empty.
   * Invariant: nslots is a power of two >= 2 * np, so probes terminate. */
  uint32_t *slots;
  size_t nslots;
};

static uint64_t id_hash(const char *id) {
  uint64_t h = 1469598103934665603ull;
  for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211ull;
  return h;
}

static int rehash(vigil_convo *c, size_t nslots) {
  uint32_t *sl = calloc(nslots, sizeof *sl);
  if (!sl) return -1;
  for (size_t i = 0; i < c->np; i++) {
    size_t k = (size_t)id_hash(c->p[i].pub.id) & (nslots - 1);
    while (sl[k]) k = (k + 1) & (nslots - 1);
    sl[k] = (uint32_t)(i + 1);
  }
  free(c->slots);
  c->slots = sl;
  c->nslots = nslots;
  return 0;
}

static const char *const stage_names[VIGIL_STAGE_COUNT] = {
    "personal_information", "trust", "risk_assessment", "secrecy", "sexual_content",
    "compliance_testing",   "images", "gifts",          "platform_move", "meeting", "age_difference"};

const char *vigil_convo_stage_name(int st) {
  return st >= 0 && st < VIGIL_STAGE_COUNT ? stage_names[st] : "unknown";
}

const char *vigil_convo_level_name(int level) {
  static const char *const n[] = {"none", "low", "medium", "high"};
  return level >= 0 && level <= 3 ? n[level] : "unknown";
}

const char *vigil_convo_age_source_name(int src) {
  static const char *const n[] = {"unknown", "declared", "stated_self", "stated_other", "youth_cues"};
  return src >= 0 && src <= 4 ? n[src] : "unknown";
}

int vigil_convo_scorer_new(vigil_convo_scorer **out, vigil_error *err) {
  *out = NULL;
  vigil_convo_scorer *s = calloc(1, sizeof *s);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  int rc = vigil__cmatcher_new(&s->m, err);
  if (rc != VIGIL_OK) {
    free(s);
    return rc;
  }
  *out = s;
  return VIGIL_OK;
}

void vigil_convo_scorer_free(vigil_convo_scorer *s) {
  if (!s) return;
  vigil__cmatcher_free(s->m);
  vigil__cnorm_free(&s->norm);
  free(s);
}

int vigil_convo_new(vigil_convo_scorer *s, vigil_convo **out, vigil_error *err) {
  *out = NULL;
  if (!s) return vigil__seterr(err, VIGIL_EINVAL, "convo: no scorer");
  vigil_convo *c = calloc(1, sizeof *c);
  if (!c) return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  c->s = s;
  *out = c;
  return VIGIL_OK;
}

void vigil_convo_free(vigil_convo *c) {
  if (!c) return;
  for (size_t i = 0; i < c->np; i++) {
    free((char *)c->p[i].pub.id);
    free(c->p[i].norm_id);
    free(c->p[i].addressed);
  }
  free(c->p);
  free(c->slots);
  free(c);
}

size_t vigil_convo_invalid_utf8(const vigil_convo *c) { return c ? c->ninvalid : 0; }
size_t vigil_convo_messages(const vigil_convo *c) { return c ? c->nmsg : 0; }
size_t vigil_convo_persons(const vigil_convo *c) { return c ? c->np : 0; }

/* Sets the public view of person i from what is known; "stated by the
 * other" applies only while the conversation has exactly two persons. */
static void refresh(vigil_convo *c, size_t i) {
  pstate *p = &c->p[i];
  vigil_convo_person *v = &p->pub;
  v->age = -1;
  v->minor = v->adult = 0;
  v->age_source = VIGIL_AGE_UNKNOWN;
  v->has_age_evidence = 0;
  v->age_conflict = 0;
  if (p->decl_age >= 0 || p->decl_minor || p->decl_adult) {
    v->age = p->decl_age;
    v->minor = p->decl_minor;
    v->adult = p->decl_adult;
    v->age_source = VIGIL_AGE_DECLARED;
    return;
  }
  /* What the other participant of a two-person chat said of this one is
   * a claim, not this one's age: it can mark a minor (the speaker believed
   * it, which weighs on the speaker), never an adult ("ur 18" said by the
   * adult does not make the child one), and a claim that contradicts the
   * person's own statement is reported as a conflict. */
  const pstate *o = c->np == 2 ? &c->p[1 - i] : NULL;
  v->age_conflict = o && o->has_said_other && p->has_self && o->said_other_minor != p->self_minor;
  if (p->has_self) {
    v->age = p->self_age;
    v->minor = p->self_minor;
    v->adult = !p->self_minor;
    v->age_source = VIGIL_AGE_STATED_SELF;
    v->has_age_evidence = 1;
    v->age_evidence = p->self_ev;
    return;
  }
  if (o) {
    if (o->has_said_other && o->said_other_minor) {
      v->age = o->said_other_age;
      v->minor = 1;
      v->age_source = VIGIL_AGE_STATED_OTHER;
      v->has_age_evidence = 1;
      v->age_evidence = o->said_ev;
      return;
    }
  }
  if (v->youth_cues >= 2) {
    v->minor = 0; /* cues alone never make a minor certain; see minor_weight() */
    v->age_source = VIGIL_AGE_CUES;
  }
}

static int find_person(const vigil_convo *c, const char *id) {
  if (!c->nslots) return -1;
  for (size_t k = (size_t)id_hash(id) & (c->nslots - 1); c->slots[k]; k = (k + 1) & (c->nslots - 1))
    if (!strcmp(c->p[c->slots[k] - 1].pub.id, id)) return (int)(c->slots[k] - 1);
  return -1;
}

static int rehash_insert(vigil_convo *c, size_t i) {
  size_t k = (size_t)id_hash(c->p[i].pub.id) & (c->nslots - 1);
  while (c->slots[k]) k = (k + 1) & (c->nslots - 1);
  c->slots[k] = (uint32_t)(i + 1);
  return 0;
}

static int add_person(vigil_convo *c, const char *id, vigil_error *err) {
  int i = find_person(c, id);
  if (i >= 0) return i;
  if (c->np >= VIGIL_CONVO_MAX_PARTICIPANTS)
    return vigil__seterr(err, VIGIL_ELIMIT, "convo: more than %d participants", VIGIL_CONVO_MAX_PARTICIPANTS);
  if (vigil__grow_from((void **)&c->p, &c->capp, c->np + 1, sizeof *c->p, 4))
    return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  pstate *p = &c->p[c->np];
  memset(p, 0, sizeof *p);
  p->decl_age = p->self_age = p->said_other_age = -1;
  char *dup = strdup(id);
  if (!dup) return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  vigil__cnorm *n = &c->s->norm;
  size_t idlen = strlen(id);
  if (vigil__cnorm_run(n, id, idlen > 256 ? 256 : idlen) != VIGIL_OK) {
    free(dup);
    return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  }
  /* Trim the separators normalisation may leave at either end. */
  size_t a = 0, b = n->len;
  while (a < b && n->out[a] == ' ') a++;
  while (b > a && n->out[b - 1] == ' ') b--;
  p->norm_id = malloc(b - a + 1);
  if (!p->norm_id) {
    free(dup);
    return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  }
  memcpy(p->norm_id, n->out + a, b - a);
  p->norm_id[b - a] = 0;
  p->norm_id_len = b - a;
  p->pub.id = dup;
  p->pub.age = -1;
  c->np++;
  if (2 * c->np > c->nslots ? rehash(c, c->nslots ? c->nslots * 2 : 16) != 0 : rehash_insert(c, c->np - 1) != 0) {
    c->np--;
    free(dup);
    free(p->norm_id);
    return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  }
  for (size_t k = 0; k < c->np; k++) refresh(c, k); /* the count of persons changed */
  return (int)(c->np - 1);
}

static int parse_band(const char *band, int *minor, int *adult) {
  *minor = *adult = 0;
  if (!band) return 0;
  char b[32];
  size_t n = strlen(band);
  if (n >= sizeof b) return -1;
  for (size_t i = 0; i <= n; i++) b[i] = (char)((band[i] >= 'A' && band[i] <= 'Z') ? band[i] + 32 : band[i]);
  if (!strcmp(b, "adult") || !strcmp(b, "18+") || !strcmp(b, "over18") || !strcmp(b, "18-") ||
      !strncmp(b, "18-", 3) || !strcmp(b, "21+") || !strcmp(b, "25+")) {
    *adult = 1;
    return 0;
  }
  if (!strcmp(b, "minor") || !strcmp(b, "child") || !strcmp(b, "teen") || !strncmp(b, "under", 5) ||
      !strcmp(b, "u13") || !strcmp(b, "u18")) {
    *minor = 1;
    return 0;
  }
  /* "13-15", "16-17", "0-12": a minor when the upper bound is under 18 */
  int lo, hi;
  char tail;
  if (sscanf(b, "%d-%d%c", &lo, &hi, &tail) == 2 && lo >= 0 && hi >= lo && hi < 200) {
    if (hi < 18) *minor = 1;
    else if (lo >= 18) *adult = 1;
    return 0;
  }
  return -1;
}

int vigil_convo_declare(vigil_convo *c, const char *id, int age, const char *age_band, vigil_error *err) {
  if (!c || !id || !*id) return vigil__seterr(err, VIGIL_EINVAL, "convo: participant without an id");
  if (age < -1 || age > 150) return vigil__seterr(err, VIGIL_EINVAL, "convo: participant %.64s: age %d out of range", id, age);
  int minor, adult;
  if (parse_band(age_band, &minor, &adult) != 0)
    return vigil__seterr(err, VIGIL_EINVAL, "convo: participant %.64s: unknown age band '%.32s'", id, age_band);
  int i = add_person(c, id, err);
  if (i < 0) return i;
  pstate *p = &c->p[i];
  p->decl_age = age;
  if (age >= 0) {
    minor = age < 18;
    adult = age >= 18;
  }
  p->decl_minor = minor;
  p->decl_adult = adult;
  refresh(c, (size_t)i);
  return i;
}

static void add_addressed(pstate *p, size_t j) {
  for (size_t k = 0; k < p->n_addr; k++)
    if (p->addressed[k] == j) return;
  /* addressing is a refinement: without memory, skip it */
  if (vigil__grow_from((void **)&p->addressed, &p->cap_addr, p->n_addr + 1, sizeof *p->addressed, 4)) return;
  p->addressed[p->n_addr++] = j;
}

/* Names are looked for in the first ADDRESS_SCAN bytes of a message only,
 * which bounds the cost of addressing on hostile input. */
#define ADDRESS_SCAN 1024
static int mentions(const char *t, size_t len, const char *w, size_t wl) {
  if (len > ADDRESS_SCAN) len = ADDRESS_SCAN;
  if (wl < 3 || wl > len) return 0;
  for (size_t i = 0; i + wl <= len; i++)
    if (t[i] == w[0] && !memcmp(t + i, w, wl)) return 1;
  return 0;
}

int vigil_convo_add(vigil_convo *c, const char *sender, const char *text, size_t len, vigil_error *err) {
  if (!c || !sender || (!text && len)) return vigil__seterr(err, VIGIL_EINVAL, "convo: message without sender or text");
  if (!*sender) return vigil__seterr(err, VIGIL_EINVAL, "convo: message with an empty sender");
  if (c->nmsg >= VIGIL_CONVO_MAX_MESSAGES)
    return vigil__seterr(err, VIGIL_ELIMIT, "convo: more than %d messages", VIGIL_CONVO_MAX_MESSAGES);
  int si = add_person(c, sender, err);
  if (si < 0) return si;
  size_t msg = c->nmsg++;
  vigil__cnorm *n = &c->s->norm;
  if (len > VIGIL_CONVO_MAX_TEXT) { /* cut before a character, not inside one (it would count as invalid) */
    len = VIGIL_CONVO_MAX_TEXT;
    while (len && ((unsigned char)text[len] & 0xC0) == 0x80) len--;
  }
  if (vigil__cnorm_run(n, text ? text : "", len) != VIGIL_OK) return vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory");
  if (n->invalid) c->ninvalid++;
  vigil__chits h;
  int rc = vigil__cmatcher_scan(c->s->m, n->out, n->len, &h, err);
  if (rc != VIGIL_OK) return rc;
  pstate *p = &c->p[si];
  p->pub.messages++;
  for (int k = 0; k < VIGIL_STAGE_COUNT; k++) {
    if (!(h.mask & (1u << k))) continue;
    vigil_convo_stage_hits *st = &p->pub.stage[k];
    if (st->count < UINT32_MAX) st->count++;
    if (st->n_evidence < VIGIL_CONVO_MAX_EVIDENCE) {
      vigil_convo_evidence *e = &st->evidence[st->n_evidence++];
      e->message = msg;
      e->start = n->src_start[h.start[k]];
      e->end = n->src_end[h.end[k] - 1];
    }
  }
#define EVIDENCE(kind) \
  ((vigil_convo_evidence){msg, n->src_start[h.start[kind]], n->src_end[h.end[kind] - 1]})
  if (!p->has_self) {
    int kind = (h.mask & (1u << VIGIL__K_AGE_SELF))     ? VIGIL__K_AGE_SELF
               : (h.mask & (1u << VIGIL__K_GRADE_SELF)) ? VIGIL__K_GRADE_SELF
               : (h.mask & (1u << VIGIL__K_MINOR_SELF)) ? VIGIL__K_MINOR_SELF
                                                          : -1;
    if (kind >= 0) {
      p->has_self = 1;
      p->self_age = kind == VIGIL__K_MINOR_SELF ? -1 : h.age_self;
      p->self_minor = kind == VIGIL__K_MINOR_SELF || h.age_self < 18;
      p->self_ev = EVIDENCE(kind);
    }
  }
  if (!p->has_said_other) {
    int kind = (h.mask & (1u << VIGIL__K_AGE_OTHER))     ? VIGIL__K_AGE_OTHER
               : (h.mask & (1u << VIGIL__K_MINOR_OTHER)) ? VIGIL__K_MINOR_OTHER
                                                           : -1;
    if (kind >= 0) {
      p->has_said_other = 1;
      p->said_other_age = kind == VIGIL__K_MINOR_OTHER ? -1 : h.age_other;
      p->said_other_minor = kind == VIGIL__K_MINOR_OTHER || h.age_other < 18;
      p->said_ev = EVIDENCE(kind);
    }
  }
#undef EVIDENCE
  if (h.mask & (1u << VIGIL__K_YOUTH_CUE)) p->pub.youth_cues++;
  if (c->np > 2 && c->np <= ADDRESS_MAX_PERSONS)
    for (size_t j = 0; j < c->np; j++)
      if (j != (size_t)si && mentions(n->out, n->len, c->p[j].norm_id, c->p[j].norm_id_len)) add_addressed(p, j);
  refresh(c, (size_t)si);
  if (c->np == 2) refresh(c, 1 - (size_t)si);
  return VIGIL_OK;
}

const vigil_convo_person *vigil_convo_person_at(const vigil_convo *c, size_t i) {
  return c && i < c->np ? &c->p[i].pub : NULL;
}

static double sat(unsigned count) { return count >= 30 ? 1.0 : 1.0 - ldexp(1.0, -(int)count); }

static int addressed(const pstate *a, size_t j) {
  for (size_t k = 0; k < a->n_addr; k++)
    if (a->addressed[k] == j) return 1;
  return 0;
}

/* Weight of each stage in the logistic score (see docs/convo.md). */
static const double stage_w[VIGIL_STAGE_COUNT] = {
    0.4, /* personal information: also common in ordinary chat */
    0.3, /* trust/compliments: also common between adults */
    1.6, /* risk assessment: specific to grooming (O'Connell) */
    1.6, /* secrecy: specific to grooming */
    1.0, /* sexual content: the goal, but adults sext too */
    0.8, /* compliance testing */
    0.9, /* images/webcam */
    0.6, /* gifts */
    0.5, /* platform move */
    0.9, /* meeting */
    1.6, /* age difference: adults among themselves rarely discuss it */
};
#define BIAS (-4.0)
#define W_APPROACH_GOAL 1.0 /* approach stage AND goal stage */
#define W_MINOR 1.0         /* target a minor */
#define W_MINOR_GOAL 3.0    /* target a minor AND goal stage */
#define CUES_WEIGHT 0.5     /* youth cues count as half a minor */
#define YOUNGER_CUES 3      /* youth-cue messages that mark the younger-sounding one */
#define LEAD_CLEAR 1.5       /* lead(A) >= 1.5 lead(B): A clearly leads */
#define RESPONDER_POWER 2.0 /* how hard the follower's score is scaled down */

/* Behaviour score of one person, without the bias or anything known of
 * the other: the weighted, saturated stages plus the approach x goal
 * interaction.  hs receives the saturated stages, *goal the goal term. */
static double behaviour(const vigil_convo_person *P, double hs[VIGIL_STAGE_COUNT], double *goal) {
  double z = 0;
  for (int k = 0; k < VIGIL_STAGE_COUNT; k++) {
    hs[k] = sat(P->stage[k].count);
    z += stage_w[k] * hs[k];
  }
  double approach = fmax(hs[VIGIL_STAGE_RISK], hs[VIGIL_STAGE_SECRECY]);
  *goal = fmax(fmax(hs[VIGIL_STAGE_SEXUAL], hs[VIGIL_STAGE_MEET]), 0.8 * hs[VIGIL_STAGE_IMAGES]);
  return z + W_APPROACH_GOAL * approach * *goal;
}

/* How much of the grooming behaviour one person carries: the weighted
 * count of its stage messages, not saturated (saturation hides who said
 * "meet" forty times and who said it twice). */
static double lead(const vigil_convo_person *P) {
  double l = 0;
  for (int k = 0; k < VIGIL_STAGE_COUNT; k++) l += stage_w[k] * P->stage[k].count;
  return l;
}

int vigil_convo_pair_risk(const vigil_convo *c, size_t actor, size_t target, vigil_convo_pair *out) {
  memset(out, 0, sizeof *out);
  if (!c || actor >= c->np || target >= c->np || actor == target) return VIGIL_EINVAL;
  const pstate *a = &c->p[actor], *b = &c->p[target];
  const vigil_convo_person *A = &a->pub, *B = &b->pub;
  out->actor = actor;
  out->target = target;
  /* What is known of the target's age counts in a room only between
   * participants who addressed each other. */
  int engaged = c->np <= 2 || addressed(a, target) || addressed(b, actor);
  double hs[VIGIL_STAGE_COUNT], goal;
  double z = behaviour(A, hs, &goal);
  for (int k = 0; k < VIGIL_STAGE_COUNT; k++)
    if (A->stage[k].count) out->stages |= 1u << k;
  if (engaged) {
    /* Who leads: of two people talking to each other, the one whose
     * behaviour scores lower is mostly answering the other (a child
     * echoing "meet" or "pic" back), so its score is scaled down by the
     * ratio.  The leader's score is never lowered by what the target says. */
    double la = lead(A), lb = lead(B);
    if (lb > la && z > 0) z *= pow(la / lb, RESPONDER_POWER);
  }
  z += BIAS;
  double minor = 0;
  if (engaged && !B->adult) {
    if (B->minor) minor = 1.0;
    /* Cues count for the one of the two who talks more like a child: an
     * adult mentions school or parents too, less often than the child. */
    else if (B->youth_cues >= 2 && B->youth_cues > A->youth_cues) minor = CUES_WEIGHT;
  }
  int peer = A->minor && B->minor;
  if (peer) minor = 0; /* two minors: not adult-child grooming */
  z += minor * (W_MINOR + W_MINOR_GOAL * goal);
  double risk = 1.0 / (1.0 + exp(-z));
  int goal_shown = A->stage[VIGIL_STAGE_SEXUAL].count || A->stage[VIGIL_STAGE_MEET].count;
  if (minor >= 1.0 && !A->minor && goal_shown && risk < 0.9) risk = 0.9;
  if (A->adult && B->adult && risk >= VIGIL_CONVO_THRESHOLD) risk = VIGIL_CONVO_THRESHOLD * 0.9;
  /* A participant known to be a minor towards one not known to be a minor
   * is the one at risk, never the groomer; two minors fall under peer. */
  if (A->minor && !B->minor && risk >= VIGIL_CONVO_THRESHOLD) risk = VIGIL_CONVO_THRESHOLD * 0.9;
  /* Without stated ages, the one of two who clearly talks like the child
   * (school, parents, curfew: at least YOUNGER_CUES messages and twice the
   * other's) is taken as the one at risk in the same way, unless it
   * clearly leads the grooming behaviour (adults talk of their children's
   * school and their own mother too). */
  if (engaged && !A->adult && !B->minor && A->youth_cues >= YOUNGER_CUES && A->youth_cues >= 2 * B->youth_cues &&
      lead(A) < LEAD_CLEAR * lead(B) && risk >= VIGIL_CONVO_THRESHOLD)
    risk = VIGIL_CONVO_THRESHOLD * 0.9;
  out->risk = risk;
  out->minor_involved = minor >= 1.0 && !A->minor;
  out->level = risk >= 0.8 ? VIGIL_RISK_HIGH : risk >= VIGIL_CONVO_THRESHOLD ? VIGIL_RISK_MEDIUM
               : risk >= 0.2 ? VIGIL_RISK_LOW : VIGIL_RISK_NONE;
  return VIGIL_OK;
}

double vigil_convo_risk(const vigil_convo *c, vigil_convo_pair *best) {
  vigil_convo_pair top, cur;
  memset(&top, 0, sizeof top);
  int have = 0;
  if (c)
    for (size_t i = 0; i < c->np; i++) {
      unsigned any = 0;
      for (int k = 0; k < VIGIL_STAGE_COUNT; k++) any |= c->p[i].pub.stage[k].count;
      if (!any) continue; /* an actor that showed nothing scores the bias only */
      for (size_t j = 0; j < c->np; j++) {
        if (i == j || vigil_convo_pair_risk(c, i, j, &cur) != VIGIL_OK) continue;
        if (!have || cur.risk > top.risk) top = cur;
        have = 1;
      }
    }
  if (best) *best = top;
  return have ? top.risk : 0.0;
}
