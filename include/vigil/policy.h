/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/policy.h - minor-safety policy: age-aware defaults and
 * allow / deny / allow-with-conditions decisions with reasons.
 *
 * The question the engine answers is "may account A do action X to
 * account B, now?".  Inputs:
 *   - two accounts, each with an age band (derived beforehand from a date of
 *     birth or an age-assurance result, see vigil_policy_resolve_band), the
 *     settings the user chose, which loosenings a parent approved, whether a
 *     parent is linked, and risk flags fed by other capabilities (grooming
 *     evidence, a confirmed hash-bank match);
 *   - the relationship between them (follows each way, friends, blocked,
 *     known in real life);
 *   - the action and the target's local time of day.
 *
 * A policy is text (docs/policy.md gives the format): `setting` lines give
 * each band's default audience per setting and how far a minor may loosen it
 * alone or with a parent, `quiet` lines give notification quiet hours, and
 * `rule` lines are matched first-match-wins.  Loading compiles the rules into
 * a flat table indexed by (action, actor band, target band, relationship,
 * risk), so vigil_policy_decide() is a table load plus at most one setting
 * check: no allocation, no locks, no strings built.  Every string a decision
 * points to is owned by the policy and lives as long as it does.
 *
 * A loaded policy is immutable and may be shared by any number of threads.
 * vigil_policy_store holds "the running policy" for a service: a reload
 * parses and compiles the new file first and swaps it in only if it is
 * valid, so an invalid file never replaces a valid running policy.  A
 * store's acquire, release and reloads may be called from any thread at
 * once; vigil_policy_store_free only once no thread uses it.
 *
 * Ownership: policy text, names and requests are only read during a call
 * (a policy copies what it keeps).  A decision's strings, and those of the
 * rule and source lookups, belong to the policy; a policy from
 * vigil_policy_store_acquire stays valid, across reloads, until it is
 * released.  vigil_policy_decide_json's *out is malloc'd: free() it.
 */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Age bands.  UNKNOWN is protected like the youngest band when it is the
 * protected party and restricted like an adult when it reaches out. */
typedef enum vigil_band {
  VIGIL_BAND_UNDER13 = 0,
  VIGIL_BAND_13_15,
  VIGIL_BAND_16_17,
  VIGIL_BAND_ADULT,
  VIGIL_BAND_UNKNOWN,
  VIGIL_BAND_COUNT
} vigil_band;

typedef enum vigil_action {
  VIGIL_ACT_VIEW_PROFILE = 0,
  VIGIL_ACT_FOLLOW,
  VIGIL_ACT_DM_TEXT,
  VIGIL_ACT_DM_MEDIA,
  VIGIL_ACT_COMMENT,
  VIGIL_ACT_MENTION,   /* mention or tag */
  VIGIL_ACT_DUET,      /* duet / remix */
  VIGIL_ACT_STITCH,
  VIGIL_ACT_DOWNLOAD,  /* download the target's videos */
  VIGIL_ACT_SUGGEST,   /* suggest the target's account to the actor */
  VIGIL_ACT_SEARCH,    /* the target appears in the actor's search */
  VIGIL_ACT_LIVE_HOST, /* the actor hosts a livestream (target unused) */
  VIGIL_ACT_LIVE_COMMENT, /* comment on the target's livestream */
  VIGIL_ACT_GIFT,      /* actor sends a gift or payment to the target */
  VIGIL_ACT_LOCATION,  /* actor shares their location with the target */
  VIGIL_ACT_NOTIFY,    /* push notification to the target (from the actor) */
  VIGIL_ACT_COUNT
} vigil_action;

/* Relationship classes, from the target's point of view, ordered by trust:
 * a class admits every audience at or below its rank.  BLOCKED (either way)
 * is outside the order and never admitted. */
typedef enum vigil_rel {
  VIGIL_REL_STRANGER = 0, /* neither follows the other */
  VIGIL_REL_FOLLOWER,     /* the actor follows the target, not back */
  VIGIL_REL_FOLLOWING,    /* the target follows the actor, not back */
  VIGIL_REL_FRIEND,       /* they follow each other (friends) */
  VIGIL_REL_KNOWN,        /* confirmed known in real life */
  VIGIL_REL_BLOCKED,      /* either blocked the other */
  VIGIL_REL_COUNT
} vigil_rel;

/* Relationship input flags (combined into a vigil_rel by the engine). */
#define VIGIL_RELF_ACTOR_FOLLOWS 0x01u
#define VIGIL_RELF_TARGET_FOLLOWS 0x02u
#define VIGIL_RELF_FRIENDS 0x04u /* mutual friends, even without follows */
#define VIGIL_RELF_BLOCKED 0x08u
#define VIGIL_RELF_KNOWN_IRL 0x10u

/* Audiences a setting can admit, loosest first.  A relationship passes an
 * audience when its rank is >= the audience's (NONE admits nobody). */
typedef enum vigil_audience {
  VIGIL_AUD_EVERYONE = 0,
  VIGIL_AUD_FOLLOWERS,
  VIGIL_AUD_FOLLOWING,
  VIGIL_AUD_FRIENDS,
  VIGIL_AUD_KNOWN,
  VIGIL_AUD_NONE,
  VIGIL_AUD_COUNT,
  VIGIL_AUD_UNSET = 0xff /* the user chose nothing: the band default applies */
} vigil_audience;

typedef enum vigil_setting {
  VIGIL_SET_VISIBILITY = 0, /* who can view the profile (and follow without approval) */
  VIGIL_SET_DM,
  VIGIL_SET_COMMENT,
  VIGIL_SET_MENTION,
  VIGIL_SET_REMIX, /* duet and stitch */
  VIGIL_SET_DOWNLOAD,
  VIGIL_SET_DISCOVERABLE, /* suggestions and search */
  VIGIL_SET_LOCATION,
  VIGIL_SET_COUNT
} vigil_setting;

/* Risk flags from other capabilities. */
#define VIGIL_RISK_GROOMING 0x01u   /* grooming-risk evidence (text signals) */
#define VIGIL_RISK_HASH_MATCH 0x02u /* confirmed hash-bank match */

/* Conditions attached to an allow. */
#define VIGIL_COND_MEDIA_STRIPPED 0x01u    /* deliver text only, strip images/video */
#define VIGIL_COND_PARENT_NOTIFIED 0x02u   /* tell the linked parent */
#define VIGIL_COND_APPROVAL_REQUIRED 0x04u /* target must approve (follow request) */
#define VIGIL_COND_FILTERED 0x08u          /* hidden-words / content filter on */
#define VIGIL_COND_WARNING_SHOWN 0x10u     /* safety warning shown to the target */
#define VIGIL_COND_COUNT 5

typedef enum vigil_outcome {
  VIGIL_POLICY_ALLOW = 0,
  VIGIL_POLICY_ALLOW_WITH_CONDITIONS,
  VIGIL_POLICY_DENY
} vigil_outcome;

/* An account as the hot path sees it.  Fill band with
 * vigil_policy_resolve_band() (or directly); settings[i] is a vigil_audience
 * or VIGIL_AUD_UNSET.  Initialise with vigil_policy_account_init(). */
typedef struct vigil_policy_account {
  const char *id;             /* for messages only; may be NULL */
  uint8_t band;               /* vigil_band */
  uint8_t risk;               /* VIGIL_RISK_* */
  uint8_t parent_linked;      /* a parent or guardian is linked */
  uint8_t settings[VIGIL_SET_COUNT];
  uint16_t parent_approved;   /* bit (1 << setting): a linked parent approved
                                 loosening this setting beyond the self limit */
} vigil_policy_account;

typedef struct vigil_policy_request {
  int action;                        /* vigil_action */
  const vigil_policy_account *actor; /* NULL: the platform itself (band unknown) */
  const vigil_policy_account *target;/* NULL: nobody in particular (band unknown) */
  unsigned rel_flags;                /* VIGIL_RELF_* */
  int local_minute;                  /* target's local time, 0..1439; -1 unknown */
} vigil_policy_request;

#define VIGIL_POLICY_MAX_REASONS 4

typedef struct vigil_policy_decision {
  int outcome;                /* vigil_outcome */
  unsigned conditions;        /* VIGIL_COND_* (non-zero only with conditions) */
  int nreasons;
  const char *reasons[VIGIL_POLICY_MAX_REASONS]; /* machine-readable codes */
  const char *sentence;       /* one human sentence */
  const char *source;         /* citations of the deciding rule */
  int rule_line;              /* line of the deciding rule in its policy text (0: built in) */
  const char *rule_origin;    /* "default" or the policy file's name */
} vigil_policy_decision;

typedef struct vigil_policy vigil_policy;

/* The shipped default policy text (docs/policy.md explains every line). */
VIGIL_API const char *vigil_policy_default_text(void);

/* Loads the shipped default. */
VIGIL_API int vigil_policy_load_default(vigil_policy **out, vigil_error *err);

/* Parses, validates and compiles a policy text.  `name` is used in
 * messages ("name:LINE:COL: ...").  The text starts with the line
 * `vigil-policy 1`; with `base default` it is layered over the shipped
 * default (its settings replace, its rules go first).  On error *out is
 * untouched and err says where. */
VIGIL_API int vigil_policy_load(const char *text, size_t len, const char *name, vigil_policy **out,
                      vigil_error *err);
VIGIL_API int vigil_policy_load_file(const char *path, vigil_policy **out, vigil_error *err);
VIGIL_API void vigil_policy_free(vigil_policy *p);

/* The decision.  Allocation-free; p may be shared across threads. */
VIGIL_API int vigil_policy_decide(const vigil_policy *p, const vigil_policy_request *rq,
                        vigil_policy_decision *d);

/* The same decision, evaluated by walking the rule list in order (the
 * uncompiled form) and, when trace is non-NULL, describing each step, one
 * per line, into trace (always NUL-terminated, truncated to cap). */
VIGIL_API int vigil_policy_decide_traced(const vigil_policy *p, const vigil_policy_request *rq,
                               vigil_policy_decision *d, char *trace, size_t cap);

/* One JSON request in the format of `vigil policy decide` (docs/policy.md)
 * to one JSON object: the decision, or {"id":...,"error":{"line":line,
 * "message":...}} for a bad request (then VIGIL_EINVAL and err says why).
 * trace: add the evaluation trace to every decision.  line > 0 is copied
 * into error objects.  *out is malloc'd (free it) except on VIGIL_ENOMEM.
 * For a service's POST /v1/policy/decide and batch decide. */
VIGIL_API int vigil_policy_decide_json(const vigil_policy *p, const char *json, size_t len, int trace, long line,
                             char **out, vigil_error *err);

/* Accounts. */
VIGIL_API void vigil_policy_account_init(vigil_policy_account *a);

/* Age assurance. */
typedef enum vigil_assurance_method {
  VIGIL_ASSURE_NONE = 0,
  VIGIL_ASSURE_SELF_DECLARED,
  VIGIL_ASSURE_ESTIMATED,
  VIGIL_ASSURE_VERIFIED
} vigil_assurance_method;

typedef struct vigil_age_input {
  int dob_year, dob_month, dob_day;  /* self-declared date of birth; year 0: none */
  int today_year, today_month, today_day;
  int assured_band;                  /* vigil_band from an age-assurance check */
  double confidence;                 /* 0..1 */
  int method;                        /* vigil_assurance_method; NONE: no check */
} vigil_age_input;

/* Band from a date of birth and/or an assurance result: a verified result
 * wins; otherwise the youngest of the declared band and the estimated band
 * (an estimate that says "adult" counts only at or above the policy's
 * min-confidence); nothing usable gives UNKNOWN.  p may be NULL (0.9). */
VIGIL_API int vigil_policy_resolve_band(const vigil_policy *p, const vigil_age_input *in, int *band,
                              vigil_error *err);

/* Names <-> values ("13-15", "dm_text", "friend", "followers", "dm", ...).
 * Names of unknown values are "?".  Lookups return the value (never
 * negative), or VIGIL_EINVAL for an unknown name or NULL. */
VIGIL_API const char *vigil_band_name(int band);
VIGIL_API const char *vigil_action_name(int action);
VIGIL_API const char *vigil_rel_name(int rel);
VIGIL_API const char *vigil_audience_name(int aud);
VIGIL_API const char *vigil_setting_name(int setting);
VIGIL_API const char *vigil_outcome_name(int outcome);
VIGIL_API const char *vigil_condition_name(unsigned bit);
VIGIL_API int vigil_band_from_name(const char *s);
VIGIL_API int vigil_action_from_name(const char *s);
VIGIL_API int vigil_rel_from_name(const char *s);
VIGIL_API int vigil_audience_from_name(const char *s);
VIGIL_API int vigil_setting_from_name(const char *s);
VIGIL_API int vigil_condition_from_name(const char *s); /* the bit, or VIGIL_EINVAL */
VIGIL_API int vigil_rel_from_flags(unsigned rel_flags);

/* Policy contents, for `vigil policy show` and the docs. */
typedef struct vigil_policy_setting_row {
  uint8_t def, self_limit, parent_limit; /* vigil_audience */
  const char *source;
} vigil_policy_setting_row;
VIGIL_API int vigil_policy_setting(const vigil_policy *p, int setting, int band, vigil_policy_setting_row *row);
/* Quiet hours of a band in minutes since midnight; start == end: none. */
VIGIL_API int vigil_policy_quiet(const vigil_policy *p, int band, int *start, int *end);
VIGIL_API size_t vigil_policy_rule_count(const vigil_policy *p);
/* Rule i: its id, citations, sentence and line. */
VIGIL_API int vigil_policy_rule_info(const vigil_policy *p, size_t i, const char **id, const char **source,
                           const char **sentence, int *line);
/* Full text of a citation id ("TT-2021-01"), or NULL. */
VIGIL_API const char *vigil_policy_source_text(const vigil_policy *p, const char *id);
VIGIL_API size_t vigil_policy_source_count(const vigil_policy *p);
VIGIL_API int vigil_policy_source_info(const vigil_policy *p, size_t i, const char **id, const char **text);

/* The running policy of a service.  Readers take a reference with
 * acquire() (one mutex-protected increment, once per request or batch, not
 * per decision) and give it back with release(); reload() parses and
 * compiles the new text completely before the swap, so on any error the
 * running policy stays as it was and err says why. */
typedef struct vigil_policy_store vigil_policy_store;
VIGIL_API int vigil_policy_store_new(vigil_policy_store **out, vigil_error *err); /* runs the default */
VIGIL_API int vigil_policy_store_reload_file(vigil_policy_store *s, const char *path, vigil_error *err);
VIGIL_API int vigil_policy_store_reload_text(vigil_policy_store *s, const char *text, size_t len,
                                   const char *name, vigil_error *err);
VIGIL_API const vigil_policy *vigil_policy_store_acquire(vigil_policy_store *s);
VIGIL_API void vigil_policy_store_release(vigil_policy_store *s, const vigil_policy *p);
VIGIL_API void vigil_policy_store_free(vigil_policy_store *s);

#ifdef __cplusplus
}
#endif
#endif
