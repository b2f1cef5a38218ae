/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_names.c - the vocabulary of the policy engine: names of bands,
 * actions, relationships, audiences, settings and conditions (as they are
 * written in policy files, JSON requests and reason codes), the mapping from
 * relationship flags to a relationship class, and age-band resolution.
 *
 * Names are the stable, machine-readable interface: reason codes and policy
 * files use them, so they never change once shipped.
 */
#include "common/internal.h"
#include "policy/policy_internal.h"

#include <string.h>

static const char *const band_names[VIGIL_BAND_COUNT] = {"u13", "13-15", "16-17", "adult", "unknown"};
static const char *const band_labels[VIGIL_BAND_COUNT] = {"under-13", "13-15", "16-17", "adult",
                                                          "unknown-age"};
static const char *const action_names[VIGIL_ACT_COUNT] = {
    "view_profile", "follow", "dm_text",      "dm_media", "comment",  "mention",
    "duet",         "stitch", "download",     "suggest",  "search",   "live_host",
    "live_comment", "gift",   "location_share", "notify"};
static const char *const rel_names[VIGIL_REL_COUNT] = {"stranger", "follower", "following",
                                                       "friend",   "known",    "blocked"};
static const char *const aud_names[VIGIL_AUD_COUNT] = {"everyone", "followers", "following",
                                                       "friends",  "known",     "none"};
static const char *const aud_labels[VIGIL_AUD_COUNT] = {
    "everyone", "their followers", "people they follow", "friends (mutual follows)",
    "people they know in real life", "no one"};
static const char *const setting_names[VIGIL_SET_COUNT] = {
    "visibility", "dm", "comment", "mention", "remix", "download", "discoverable", "location"};
static const char *const outcome_names[3] = {"allow", "allow_with_conditions", "deny"};
static const char *const cond_names[VIGIL_COND_COUNT] = {"media_stripped", "parent_notified",
                                                         "approval_required", "filtered",
                                                         "warning_shown"};

const char *const vigil__setting_met[VIGIL_SET_COUNT] = {
    "visibility_audience_met", "dm_audience_met",       "comment_audience_met",
    "mention_audience_met",    "remix_audience_met",    "download_audience_met",
    "discoverable_audience_met", "location_audience_met"};
const char *const vigil__setting_unmet[VIGIL_SET_COUNT] = {
    "visibility_audience_not_met", "dm_audience_not_met",       "comment_audience_not_met",
    "mention_audience_not_met",    "remix_audience_not_met",    "download_audience_not_met",
    "discoverable_audience_not_met", "location_audience_not_met"};
const char *const vigil__setting_parent[VIGIL_SET_COUNT] = {
    "visibility_loosening_needs_parent", "dm_loosening_needs_parent",
    "comment_loosening_needs_parent",    "mention_loosening_needs_parent",
    "remix_loosening_needs_parent",      "download_loosening_needs_parent",
    "discoverable_loosening_needs_parent", "location_loosening_needs_parent"};
const char *const vigil__setting_label[VIGIL_SET_COUNT] = {
    "The profile",           "Direct messages",   "Comments",
    "Mentions and tags",     "Duets and stitches", "Downloads of their videos",
    "Suggestions and search", "Location sharing"};

/* Relationship class of each combination of VIGIL_RELF_* bits.  Blocked
 * wins over everything, then the strongest tie present. */
#define R_(f)                                                                                        \
  ((f) & VIGIL_RELF_BLOCKED                                  ? VIGIL_REL_BLOCKED                     \
   : (f) & VIGIL_RELF_KNOWN_IRL                              ? VIGIL_REL_KNOWN                       \
   : ((f) & VIGIL_RELF_FRIENDS) ||                                                                   \
           (((f) & VIGIL_RELF_ACTOR_FOLLOWS) && ((f) & VIGIL_RELF_TARGET_FOLLOWS))                   \
       ? VIGIL_REL_FRIEND                                                                            \
   : (f) & VIGIL_RELF_TARGET_FOLLOWS ? VIGIL_REL_FOLLOWING                                           \
   : (f) & VIGIL_RELF_ACTOR_FOLLOWS  ? VIGIL_REL_FOLLOWER                                            \
                                     : VIGIL_REL_STRANGER)
#define R4_(f) R_(f), R_((f) + 1), R_((f) + 2), R_((f) + 3)
const uint8_t vigil__rel_of_flags[32] = {R4_(0),  R4_(4),  R4_(8),  R4_(12),
                                         R4_(16), R4_(20), R4_(24), R4_(28)};

/* The index of s in names, or VIGIL_EINVAL: values are never negative, so
 * an unknown name reads as the error it is. */
static int lookup(const char *const *names, int n, const char *s) {
  if (!s) return VIGIL_EINVAL;
  for (int i = 0; i < n; i++)
    if (!strcmp(names[i], s)) return i;
  return VIGIL_EINVAL;
}

const char *vigil_band_name(int b) { return b >= 0 && b < VIGIL_BAND_COUNT ? band_names[b] : "?"; }
const char *vigil__band_label(int b) { return b >= 0 && b < VIGIL_BAND_COUNT ? band_labels[b] : "?"; }
const char *vigil_action_name(int a) { return a >= 0 && a < VIGIL_ACT_COUNT ? action_names[a] : "?"; }
const char *vigil_rel_name(int r) { return r >= 0 && r < VIGIL_REL_COUNT ? rel_names[r] : "?"; }
const char *vigil_audience_name(int a) { return a >= 0 && a < VIGIL_AUD_COUNT ? aud_names[a] : "?"; }
const char *vigil__audience_label(int a) { return a >= 0 && a < VIGIL_AUD_COUNT ? aud_labels[a] : "?"; }
const char *vigil_setting_name(int s) { return s >= 0 && s < VIGIL_SET_COUNT ? setting_names[s] : "?"; }
const char *vigil_outcome_name(int o) { return o >= 0 && o < 3 ? outcome_names[o] : "?"; }
const char *vigil_condition_name(unsigned bit) {
  for (int i = 0; i < VIGIL_COND_COUNT; i++)
    if (bit == (1u << i)) return cond_names[i];
  return "?";
}

int vigil_band_from_name(const char *s) {
  if (s && (!strcmp(s, "under13") || !strcmp(s, "under-13") || !strcmp(s, "<13"))) return VIGIL_BAND_UNDER13;
  if (s && !strcmp(s, "18+")) return VIGIL_BAND_ADULT;
  return lookup(band_names, VIGIL_BAND_COUNT, s);
}
int vigil_action_from_name(const char *s) { return lookup(action_names, VIGIL_ACT_COUNT, s); }
int vigil_rel_from_name(const char *s) { return lookup(rel_names, VIGIL_REL_COUNT, s); }
int vigil_audience_from_name(const char *s) { return lookup(aud_names, VIGIL_AUD_COUNT, s); }
int vigil_setting_from_name(const char *s) { return lookup(setting_names, VIGIL_SET_COUNT, s); }
int vigil_condition_from_name(const char *s) {
  int i = lookup(cond_names, VIGIL_COND_COUNT, s);
  return i < 0 ? i : (int)(1u << i);
}
int vigil_rel_from_flags(unsigned f) { return vigil__rel_of_flags[f & 31u]; }

void vigil_policy_account_init(vigil_policy_account *a) {
  memset(a, 0, sizeof *a);
  a->band = VIGIL_BAND_UNKNOWN;
  memset(a->settings, VIGIL_AUD_UNSET, sizeof a->settings);
}

/* Band of an age in whole years. */
static int band_of_age(int years) {
  return years < 13 ? VIGIL_BAND_UNDER13 : years < 16 ? VIGIL_BAND_13_15 : years < 18 ? VIGIL_BAND_16_17
                                                                                       : VIGIL_BAND_ADULT;
}

static int valid_date(int y, int m, int d) {
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1800 || y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 0;
  return 1;
}

int vigil_policy_resolve_band(const vigil_policy *p, const vigil_age_input *in, int *band,
                              vigil_error *err) {
  if (!in || !band) return vigil__seterr(err, VIGIL_EINVAL, "resolve_band: NULL argument");
  double min_conf = p ? p->min_confidence : 0.9;
  int declared = -1, estimated = -1;
  if (in->dob_year) {
    if (!valid_date(in->dob_year, in->dob_month, in->dob_day))
      return vigil__seterr(err, VIGIL_EINVAL, "date of birth %04d-%02d-%02d is not a valid date",
                           in->dob_year, in->dob_month, in->dob_day);
    if (!valid_date(in->today_year, in->today_month, in->today_day))
      return vigil__seterr(err, VIGIL_EINVAL, "today's date %04d-%02d-%02d is not a valid date",
                           in->today_year, in->today_month, in->today_day);
    int years = in->today_year - in->dob_year;
    if (in->today_month < in->dob_month || (in->today_month == in->dob_month && in->today_day < in->dob_day))
      years--;
    if (years < 0) return vigil__seterr(err, VIGIL_EINVAL, "date of birth is in the future");
    declared = band_of_age(years);
  }
  if (in->method != VIGIL_ASSURE_NONE) {
    if (in->method < VIGIL_ASSURE_NONE || in->method > VIGIL_ASSURE_VERIFIED)
      return vigil__seterr(err, VIGIL_EINVAL, "unknown age-assurance method %d", in->method);
    if (in->assured_band < 0 || in->assured_band >= VIGIL_BAND_COUNT)
      return vigil__seterr(err, VIGIL_EINVAL, "age-assurance band %d out of range", in->assured_band);
    if (!(in->confidence >= 0.0 && in->confidence <= 1.0)) /* also rejects NaN */
      return vigil__seterr(err, VIGIL_EINVAL, "age-assurance confidence must be within 0..1");
    int b = in->assured_band;
    if (in->method == VIGIL_ASSURE_VERIFIED && b != VIGIL_BAND_UNKNOWN) {
      *band = b;
      return VIGIL_OK;
    }
    if (in->method == VIGIL_ASSURE_SELF_DECLARED && b != VIGIL_BAND_UNKNOWN)
      declared = declared < 0 || b < declared ? b : declared;
    /* An estimate that the person is a minor is believed at any confidence
     * (protective); one that they are an adult only when confident. */
    if (in->method == VIGIL_ASSURE_ESTIMATED && b != VIGIL_BAND_UNKNOWN &&
        (b != VIGIL_BAND_ADULT || in->confidence >= min_conf))
      estimated = b;
  }
  if (declared < 0 && estimated < 0) *band = VIGIL_BAND_UNKNOWN;
  else if (declared < 0) *band = estimated;
  else if (estimated < 0) *band = declared;
  else *band = declared < estimated ? declared : estimated; /* the younger */
  return VIGIL_OK;
}
