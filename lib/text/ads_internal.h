/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ads_internal.h - the rule table shared by ads_rules.c and ads.c.
 */
#ifndef VIGIL_ADS_INTERNAL_H
#define VIGIL_ADS_INTERNAL_H

#include "text/text_internal.h"

typedef struct vigil__ad_rule {
  int family;          /* enum vigil_ad_family */
  const char *pattern; /* Hyperscan regex over the lex view */
  int negatable;       /* dropped after "no", "not", "never", a prohibition emoji */
} vigil__ad_rule;

extern const vigil__ad_rule vigil__ad_rules[];
extern const size_t vigil__ad_nrules;

/* Cue patterns over the match view: where a contact or an age can start
 * (see vigil__*_extract_at).  kind: 1 phone, 2 online contact, 3 age. */
typedef struct vigil__cue_rule {
  int kind;
  int at; /* how the cue's start is found from the match end (no SOM: faster) */
  const char *pattern;
} vigil__cue_rule;

enum { VIGIL__CUE_PHONE = 1, VIGIL__CUE_ONLINE, VIGIL__CUE_AGE };
enum {
  VIGIL__AT_WORD = 0, /* start of the alphanumeric word holding the last byte */
  VIGIL__AT_LAST,     /* the last byte */
  VIGIL__AT_BRACKET,  /* four bytes back: "(at)" */
  VIGIL__AT_HOST,     /* start of the run of [a-z0-9.-] before the host's '/' */
  VIGIL__AT_END       /* the end itself (a window is searched around it) */
};

extern const vigil__cue_rule vigil__cue_rules[];
extern const size_t vigil__cue_nrules;

#endif
