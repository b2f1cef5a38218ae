/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phone_plan.h - the C interface of phone_plan.cc (the numbering plans of
 * libphonenumber), included by C and by that one C++ file; never installed.
 *
 * All three functions only read libphonenumber's metadata singleton and
 * may run in several threads at once.
 */
#ifndef VIGIL_TEXT_PHONE_PLAN_H
#define VIGIL_TEXT_PHONE_PLAN_H

#include <stddef.h>

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vigil__phone_plan checks the ASCII digits as an international number
 * (intl: written after '+'), or as a national number of region ("GB", any
 * case); it writes the E.164 form into e164 and returns VIGIL__PLAN_VALID
 * (valid for its plan), VIGIL__PLAN_POSSIBLE (a possible length, not
 * verified), VIGIL__PLAN_NONE, or VIGIL_ENOMEM. */
enum { VIGIL__PLAN_NONE = 0, VIGIL__PLAN_POSSIBLE = 1, VIGIL__PLAN_VALID = 2 };
int vigil__phone_plan(const char *digits, int intl, const char *region, char *e164, size_t cap);

/* 1 when digits start with the trunk (national) prefix of region's plan
 * ("0" in GB, "8" in RU); 0 when they do not or the plan has none. */
int vigil__phone_trunk(const char *digits, const char *region);

/* 1 when region is a two-letter code libphonenumber knows (any case). */
int vigil__phone_region_ok(const char *region);

/* 1 when region dials +1 (US, CA, the Caribbean...): North American rules. */
int vigil__phone_region_nanp(const char *region);

#ifdef __cplusplus
}
#endif
#endif
