/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/convo.h - grooming risk in conversations.
 *
 * A conversation is a list of participants (each with an optional declared
 * age or age band) and a list of messages (sender, text, optional
 * timestamp).  The scorer reads each message once, in order, normalises its
 * text (UTF-8 check, compatibility decomposition + case fold, leetspeak
 * folding), finds the phrases of the grooming stages described in the
 * research literature (O'Connell 2003; ChatCoder2; Lorenzo-Dus et al. 2016)
 * with one multi-pattern scan, and keeps per participant the stages it
 * showed, with evidence, and whether it said it was a minor or an adult.
 *
 * Risk is computed for ordered pairs (actor -> target): what the actor did,
 * weighed by what is known of both ages.  An adult (or a participant of
 * unknown age) showing sexual content or a meeting request towards a
 * participant known to be a minor is the highest risk; sexual chat between
 * adults, without the approach stages of grooming (risk assessment,
 * secrecy, age probing), stays low.
 *
 * Because scoring is incremental, the risk can be read after every message
 * (vigil_convo_risk), which is what early detection needs.
 *
 * Thread safety: a vigil_convo_scorer holds compiled patterns and scratch
 * space; use one per thread.  A vigil_convo (one conversation's state)
 * belongs to one scorer and is used on that scorer's thread.
 *
 * Ownership: ids and texts are only read during a call; a conversation
 * copies the participant ids it keeps and no message text.  The scorer
 * must outlive its conversations.  A vigil_convo_person from
 * vigil_convo_person_at (and its id) belongs to the conversation and is
 * valid until the next declare, add or free of it.  vigil_convo_score_json's
 * *out_json is malloc'd: free() it.
 */
#ifndef VIGIL_CONVO_H
#define VIGIL_CONVO_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stages, in the usual order of a grooming conversation. */
typedef enum vigil_convo_stage {
  VIGIL_STAGE_PERSONAL = 0, /* personal information, age and location probing */
  VIGIL_STAGE_TRUST,        /* trust building, compliments, affection */
  VIGIL_STAGE_RISK,         /* risk assessment: alone? parents around? */
  VIGIL_STAGE_SECRECY,      /* exclusivity and secrecy: don't tell, delete */
  VIGIL_STAGE_SEXUAL,       /* desensitisation and sexual content */
  VIGIL_STAGE_COMPLIANCE,   /* compliance testing */
  VIGIL_STAGE_IMAGES,       /* requests for pictures or webcam */
  VIGIL_STAGE_GIFTS,        /* gifts, money, credits */
  VIGIL_STAGE_PLATFORM,     /* moving to another platform or to the phone */
  VIGIL_STAGE_MEET,         /* arranging to meet */
  VIGIL_STAGE_AGE_GAP,      /* talk of the age difference: "age is just a number",
                               "do u like older guys", "girls ur age" */
  VIGIL_STAGE_COUNT
} vigil_convo_stage;

/* Stable snake_case name of a stage ("risk_assessment", ...); never NULL. */
VIGIL_API const char *vigil_convo_stage_name(int stage);

/* Risk levels of a pair. */
typedef enum vigil_convo_level {
  VIGIL_RISK_NONE = 0,
  VIGIL_RISK_LOW,
  VIGIL_RISK_MEDIUM,
  VIGIL_RISK_HIGH
} vigil_convo_level;

VIGIL_API const char *vigil_convo_level_name(int level);

/* Risk at or above which a conversation is reported as grooming. */
#define VIGIL_CONVO_THRESHOLD 0.5

/* Limits that keep hostile input bounded. */
#define VIGIL_CONVO_MAX_PARTICIPANTS 4096
#define VIGIL_CONVO_MAX_MESSAGES 1000000
#define VIGIL_CONVO_MAX_TEXT 65536 /* bytes of a message that are scanned */
#define VIGIL_CONVO_MAX_EVIDENCE 3 /* evidence items kept per stage */

/* Where a participant's minor or adult status came from. */
typedef enum vigil_convo_age_source {
  VIGIL_AGE_UNKNOWN = 0,
  VIGIL_AGE_DECLARED,     /* given with the input (participants[].age/age_band) */
  VIGIL_AGE_STATED_SELF,  /* the participant said it ("im 13", "8th grade") */
  VIGIL_AGE_STATED_OTHER, /* the other participant said it ("ur only 14"); such a
                             claim can mark a minor, never an adult */
  VIGIL_AGE_CUES          /* only youth cues (school, parents, homework) */
} vigil_convo_age_source;

VIGIL_API const char *vigil_convo_age_source_name(int source);

/* One piece of evidence: a span [start, end) in bytes of the ORIGINAL text
 * of message `message` (0-based position in the conversation). */
typedef struct vigil_convo_evidence {
  size_t message;
  size_t start, end;
} vigil_convo_evidence;

typedef struct vigil_convo_stage_hits {
  unsigned count; /* messages of the actor that showed the stage */
  unsigned n_evidence;
  vigil_convo_evidence evidence[VIGIL_CONVO_MAX_EVIDENCE];
} vigil_convo_stage_hits;

/* What is known of one participant.  minor is 1 when the participant is
 * believed to be under 18, adult is 1 when believed 18 or over; both 0 when
 * unknown.  age is the declared or stated age, or -1. */
typedef struct vigil_convo_person {
  const char *id; /* owned by the conversation */
  int age;
  int minor, adult;
  int age_source;               /* vigil_convo_age_source */
  int has_age_evidence;
  vigil_convo_evidence age_evidence;
  unsigned youth_cues;          /* messages with youth cues (school, parents...) */
  size_t messages;              /* messages sent */
  vigil_convo_stage_hits stage[VIGIL_STAGE_COUNT];
  int age_conflict; /* the other participant claimed a minor/adult status
                       that contradicts this one's own statement */
} vigil_convo_person;

/* Risk of one ordered pair: what `actor` did towards `target`. */
typedef struct vigil_convo_pair {
  size_t actor, target; /* indexes into the persons */
  double risk;          /* 0..1 */
  int level;            /* vigil_convo_level */
  int minor_involved;   /* target believed a minor, actor not */
  unsigned stages;      /* bit i set when stage i was shown by the actor */
} vigil_convo_pair;

typedef struct vigil_convo_scorer vigil_convo_scorer;
typedef struct vigil_convo vigil_convo;

/* Compiles the patterns (once per scorer; a few milliseconds). */
VIGIL_API int vigil_convo_scorer_new(vigil_convo_scorer **out, vigil_error *err);
VIGIL_API void vigil_convo_scorer_free(vigil_convo_scorer *s);

/* A new, empty conversation scored by s (which must outlive it). */
VIGIL_API int vigil_convo_new(vigil_convo_scorer *s, vigil_convo **out, vigil_error *err);
VIGIL_API void vigil_convo_free(vigil_convo *c);

/* Declares a participant before its messages.  age: years, or -1;
 * age_band: "13-15", "under13", "adult", "18+", ... or NULL.  Declaring the
 * same id twice updates it.  Returns the participant's index (>= 0) or a
 * negative status. */
VIGIL_API int vigil_convo_declare(vigil_convo *c, const char *id, int age, const char *age_band, vigil_error *err);

/* Adds the next message.  text need not be NUL-terminated; invalid UTF-8 is
 * not an error: each bad byte reads as a word break, and the message is
 * counted in vigil_convo_invalid_utf8().  Returns VIGIL_OK or a negative status
 * (VIGIL_ELIMIT past the limits above). */
VIGIL_API int vigil_convo_add(vigil_convo *c, const char *sender, const char *text, size_t len, vigil_error *err);

/* Number of messages that contained invalid UTF-8. */
VIGIL_API size_t vigil_convo_invalid_utf8(const vigil_convo *c);
VIGIL_API size_t vigil_convo_messages(const vigil_convo *c);

/* Participants seen so far (declared or senders). */
VIGIL_API size_t vigil_convo_persons(const vigil_convo *c);
VIGIL_API const vigil_convo_person *vigil_convo_person_at(const vigil_convo *c, size_t i);

/* Risk of one ordered pair, as of the messages added so far. */
VIGIL_API int vigil_convo_pair_risk(const vigil_convo *c, size_t actor, size_t target, vigil_convo_pair *out);

/* Highest pair risk of the conversation so far (0 with fewer than two
 * participants); *best receives that pair when not NULL. */
VIGIL_API double vigil_convo_risk(const vigil_convo *c, vigil_convo_pair *best);

/* Scores a whole conversation given as JSON and returns the result as a
 * compact JSON object in *out_json (free() it).  Input:
 *   {"id": any, "participants": [{"id": "a", "age": 13} | {"id": "b",
 *    "age_band": "13-15"}], "messages": [{"from"|"sender": "a",
 *    "text": "...", "ts"|"timestamp": any}]}
 * Only "participants[].id/age/age_band" and "messages[].from/sender/text"
 * are read; everything else (labels, roles) is ignored.  Output: id, risk,
 * level, grooming (risk >= VIGIL_CONVO_THRESHOLD), minor_involved, minors
 * (with evidence), pairs (highest risk first, at most 10) with the stages
 * and their evidence spans (message index, byte offsets, the text).
 * Malformed JSON or a wrong shape gives VIGIL_EINVAL with a message. */
VIGIL_API int vigil_convo_score_json(vigil_convo_scorer *s, const char *json, size_t len, char **out_json,
                           vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
