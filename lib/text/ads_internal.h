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

#endif
