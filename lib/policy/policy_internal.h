/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_internal.h - the in-memory form of a policy, shared by the parser
 * (policy_parse.c), the compiler and evaluators (policy_eval.c) and the
 * store (policy_store.c).
 *
 * A rule is a conjunction of set memberships (action, actor band, target
 * band, relationship, risk class), each kept as a bitmask so matching is a
 * few ANDs; its verdict is allow, deny, a setting check, or quiet hours.
 * Compiling evaluates the rule list once for every combination of those
 * five inputs and stores the first matching rule's verdict in a flat cell
 * table, so the hot path never walks rules.
 */
#ifndef VIGIL_POLICY_INTERNAL_H
#define VIGIL_POLICY_INTERNAL_H

#include "vigil/policy.h"

#include <stdatomic.h>

/* Risk classes: which side of the interaction carries a risk flag. */
enum { PRISK_NONE = 0, PRISK_ACTOR = 1, PRISK_TARGET = 2, PRISK_BOTH = 3, PRISK_COUNT = 4 };

/* Verdict kinds. */
enum { PK_ALLOW = 0, PK_DENY, PK_CHECK, PK_QUIET, PK_NORULE };

/* Whose setting a check reads. */
enum { PWHO_TARGET = 0, PWHO_ACTOR = 1 };

#define P_MAX_RULES 1024
#define P_MAX_SOURCES 256
#define P_ID_MAX 48
#define P_NO_RULE 0xffffu

typedef struct prule {
  char id[P_ID_MAX + 1];
  uint32_t action_mask; /* bit per vigil_action */
  uint8_t actor_mask, target_mask; /* bit per vigil_band */
  uint8_t rel_mask;  /* bit per vigil_rel */
  uint8_t risk_mask; /* bit per risk class */
  uint8_t kind, whose, setting;
  uint8_t with;      /* conditions on allow / check pass */
  uint8_t else_kind; /* PK_DENY or PK_ALLOW, when a check fails */
  uint8_t else_with;
  char *source;   /* comma-separated citation ids */
  char *sentence;
  int line;
  const char *origin; /* points into the policy (name of its text) */
} prule;

/* One compiled cell: the verdict of the first matching rule. */
typedef struct pcell {
  uint8_t kind, whose, setting, with, else_kind, else_with;
  uint16_t rule; /* index into rules, P_NO_RULE when none matched */
} pcell;

typedef struct psetting {
  uint8_t def, self_limit, parent_limit, defined;
  char *source;
  int line;
} psetting;

typedef struct pquiet {
  int16_t start, end; /* minutes; start == end: no quiet hours */
  uint8_t defined;
  char *source;
} pquiet;

typedef struct psource {
  char id[P_ID_MAX + 1];
  char *text;
} psource;

#define P_NCELLS ((size_t)VIGIL_ACT_COUNT * VIGIL_BAND_COUNT * VIGIL_BAND_COUNT * VIGIL_REL_COUNT * PRISK_COUNT)

static inline size_t pcell_index(unsigned act, unsigned ab, unsigned tb, unsigned rel, unsigned risk) {
  return ((((size_t)act * VIGIL_BAND_COUNT + ab) * VIGIL_BAND_COUNT + tb) * VIGIL_REL_COUNT + rel) *
             PRISK_COUNT + risk;
}

#define P_SENT_MAX 200

struct vigil_policy {
  atomic_int refs; /* used by vigil_policy_store */
  double min_confidence;
  psetting set[VIGIL_SET_COUNT][VIGIL_BAND_COUNT];
  pquiet quiet[VIGIL_BAND_COUNT];
  prule *rules;
  size_t nrules, caprules;
  psource *sources;
  size_t nsources, capsources;
  char *origin_default, *origin_file;
  /* Pre-rendered sentences so decisions never format text. */
  char check_sentence[VIGIL_SET_COUNT][VIGIL_AUD_COUNT][2][P_SENT_MAX];
  char quiet_sentence[VIGIL_BAND_COUNT][P_SENT_MAX];
  pcell cells[P_NCELLS];
};

/* policy_parse.c: parse text into p (layered over what p already holds when
 * `base default` was applied by the caller).  Returns status. */
int vigil__policy_parse(vigil_policy *p, const char *text, size_t len, const char *name, int is_default,
                        vigil_error *err);
void vigil__policy_clear(vigil_policy *p);

/* policy_eval.c */
void vigil__policy_compile(vigil_policy *p);
int vigil__policy_match(const prule *r, unsigned act, unsigned ab, unsigned tb, unsigned rel, unsigned risk);

/* policy_names.c */
extern const uint8_t vigil__rel_of_flags[32];
extern const char *const vigil__setting_met[VIGIL_SET_COUNT];
extern const char *const vigil__setting_unmet[VIGIL_SET_COUNT];
extern const char *const vigil__setting_parent[VIGIL_SET_COUNT];
extern const char *const vigil__setting_label[VIGIL_SET_COUNT];
const char *vigil__audience_label(int aud);
const char *vigil__band_label(int band);

#endif
