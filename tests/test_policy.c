/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_policy.c - the minor-safety policy engine on the shipped default:
 * age-band resolution, relationship classes, adult-to-minor contact rules,
 * risk inputs, quiet hours, which loosenings need a parent, invalid
 * requests, traces, and the compiled table agreeing with the rule walk on a
 * large random sample of requests.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/policy.h"

static vigil_policy *P;

static int setup(void **state) {
  (void)state;
  vigil_error e;
  if (vigil_policy_load_default(&P, &e)) {
    printf("default policy failed to load: %s\n", e.message);
    return -1;
  }
  return 0;
}
static int teardown(void **state) {
  (void)state;
  vigil_policy_free(P);
  return 0;
}

static vigil_policy_account acct(int band) {
  vigil_policy_account a;
  vigil_policy_account_init(&a);
  a.band = (uint8_t)band;
  return a;
}

static vigil_policy_decision decide(int action, const vigil_policy_account *a, const vigil_policy_account *t,
                                    unsigned rel, int minute) {
  vigil_policy_request r = {action, a, t, rel, minute};
  vigil_policy_decision d, d2;
  assert_int_equal(vigil_policy_decide(P, &r, &d), VIGIL_OK);
  assert_int_equal(vigil_policy_decide_traced(P, &r, &d2, NULL, 0), VIGIL_OK);
  assert_int_equal(d.outcome, d2.outcome);
  assert_int_equal(d.conditions, d2.conditions);
  assert_string_equal(d.reasons[0], d2.reasons[0]);
  return d;
}

static int has_reason(const vigil_policy_decision *d, const char *code) {
  for (int i = 0; i < d->nreasons; i++)
    if (!strcmp(d->reasons[i], code)) return 1;
  return 0;
}

#define NOON (12 * 60)

static void test_resolve_band(void **state) {
  (void)state;
  vigil_age_input in;
  int band;
  memset(&in, 0, sizeof in);
  in.today_year = 2026, in.today_month = 11, in.today_day = 24;
  assert_int_equal(vigil_policy_resolve_band(P, &in, &band, NULL), VIGIL_OK);
  assert_int_equal(band, VIGIL_BAND_UNKNOWN); /* nothing known */
  /* Birthdays: the band changes on the day, not before. */
  in.dob_year = 2013, in.dob_month = 11, in.dob_day = 24;
  assert_int_equal(vigil_policy_resolve_band(P, &in, &band, NULL), VIGIL_OK);
  assert_int_equal(band, VIGIL_BAND_13_15);
  in.dob_day = 25;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_UNDER13);
  in.dob_year = 2008, in.dob_day = 24;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_ADULT);
  in.dob_day = 25;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_16_17);
  /* A self-declared adult estimated as 13-15 (any confidence) is 13-15. */
  in.dob_year = 1990;
  in.method = VIGIL_ASSURE_ESTIMATED, in.assured_band = VIGIL_BAND_13_15, in.confidence = 0.3;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_13_15);
  /* An estimate of "adult" counts only when confident. */
  in.dob_year = 0;
  in.assured_band = VIGIL_BAND_ADULT, in.confidence = 0.5;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_UNKNOWN);
  in.confidence = 0.95;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_ADULT);
  /* A declared 16-17 with a confident adult estimate stays 16-17 (younger). */
  in.dob_year = 2009, in.dob_month = 1, in.dob_day = 1;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_16_17);
  /* Verified wins over everything. */
  in.method = VIGIL_ASSURE_VERIFIED, in.assured_band = VIGIL_BAND_ADULT, in.confidence = 1.0;
  vigil_policy_resolve_band(P, &in, &band, NULL);
  assert_int_equal(band, VIGIL_BAND_ADULT);
  /* Bad inputs are errors, not guesses. */
  vigil_error e;
  in.method = VIGIL_ASSURE_NONE;
  in.dob_year = 2010, in.dob_month = 2, in.dob_day = 30;
  assert_int_equal(vigil_policy_resolve_band(P, &in, &band, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "not a valid date"));
  in.dob_year = 2030, in.dob_day = 1;
  assert_int_equal(vigil_policy_resolve_band(P, &in, &band, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "future"));
  in.dob_year = 0;
  in.method = VIGIL_ASSURE_ESTIMATED, in.assured_band = VIGIL_BAND_ADULT, in.confidence = 1.5;
  assert_int_equal(vigil_policy_resolve_band(P, &in, &band, &e), VIGIL_EINVAL);
  in.confidence = 0.5, in.assured_band = 9;
  assert_int_equal(vigil_policy_resolve_band(P, &in, &band, &e), VIGIL_EINVAL);
}

static void test_relationship_classes(void **state) {
  (void)state;
  assert_int_equal(vigil_rel_from_flags(0), VIGIL_REL_STRANGER);
  assert_int_equal(vigil_rel_from_flags(VIGIL_RELF_ACTOR_FOLLOWS), VIGIL_REL_FOLLOWER);
  assert_int_equal(vigil_rel_from_flags(VIGIL_RELF_TARGET_FOLLOWS), VIGIL_REL_FOLLOWING);
  assert_int_equal(vigil_rel_from_flags(VIGIL_RELF_ACTOR_FOLLOWS | VIGIL_RELF_TARGET_FOLLOWS), VIGIL_REL_FRIEND);
  assert_int_equal(vigil_rel_from_flags(VIGIL_RELF_FRIENDS), VIGIL_REL_FRIEND);
  assert_int_equal(vigil_rel_from_flags(VIGIL_RELF_KNOWN_IRL | VIGIL_RELF_FRIENDS), VIGIL_REL_KNOWN);
  for (unsigned f = 0; f < 32; f++)
    if (f & VIGIL_RELF_BLOCKED) assert_int_equal(vigil_rel_from_flags(f), VIGIL_REL_BLOCKED);
  assert_int_equal(vigil_band_from_name("13-15"), VIGIL_BAND_13_15);
  assert_int_equal(vigil_band_from_name("teen"), VIGIL_EINVAL);
  assert_int_equal(vigil_condition_from_name("no_such_condition"), VIGIL_EINVAL);
  assert_int_equal(vigil_setting_from_name(NULL), VIGIL_EINVAL);
  assert_int_equal(vigil_action_from_name("location_share"), VIGIL_ACT_LOCATION);
  assert_int_equal(vigil_condition_from_name("media_stripped"), (int)VIGIL_COND_MEDIA_STRIPPED);
}

static void test_adult_to_minor_dm(void **state) {
  (void)state;
  vigil_policy_account adult = acct(VIGIL_BAND_ADULT), teen = acct(VIGIL_BAND_13_15), older = acct(VIGIL_BAND_16_17);
  /* No unsolicited DMs from adults the minor does not follow. */
  vigil_policy_decision d = decide(VIGIL_ACT_DM_TEXT, &adult, &teen, 0, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_string_equal(d.reasons[0], "adult-dm-unsolicited");
  assert_non_null(strstr(d.source, "IG-2021-03"));
  d = decide(VIGIL_ACT_DM_TEXT, &adult, &older, VIGIL_RELF_ACTOR_FOLLOWS, NOON);
  assert_string_equal(d.reasons[0], "adult-dm-unsolicited");
  /* Even when the minor follows back: only real-life connections. */
  d = decide(VIGIL_ACT_DM_MEDIA, &adult, &older, VIGIL_RELF_ACTOR_FOLLOWS | VIGIL_RELF_TARGET_FOLLOWS, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_string_equal(d.reasons[0], "adult-dm-not-known");
  /* Known in real life, but the 16-17's DMs are off by default. */
  d = decide(VIGIL_ACT_DM_TEXT, &adult, &older, VIGIL_RELF_KNOWN_IRL, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_true(has_reason(&d, "dm_audience_not_met"));
  /* A 16-17 may open DMs to people they follow alone; media is stripped. */
  older.settings[VIGIL_SET_DM] = VIGIL_AUD_FOLLOWING;
  d = decide(VIGIL_ACT_DM_TEXT, &adult, &older, VIGIL_RELF_KNOWN_IRL, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW);
  d = decide(VIGIL_ACT_DM_MEDIA, &adult, &older, VIGIL_RELF_KNOWN_IRL, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW_WITH_CONDITIONS);
  assert_int_equal(d.conditions, VIGIL_COND_MEDIA_STRIPPED);
  /* A 13-15 needs a parent to open DMs; then an adult they know gets
   * through with the parent told. */
  teen.settings[VIGIL_SET_DM] = VIGIL_AUD_FOLLOWING;
  d = decide(VIGIL_ACT_DM_TEXT, &adult, &teen, VIGIL_RELF_KNOWN_IRL, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_true(has_reason(&d, "dm_loosening_needs_parent"));
  teen.parent_linked = 1;
  teen.parent_approved = 1u << VIGIL_SET_DM;
  d = decide(VIGIL_ACT_DM_TEXT, &adult, &teen, VIGIL_RELF_KNOWN_IRL, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW_WITH_CONDITIONS);
  assert_int_equal(d.conditions, VIGIL_COND_PARENT_NOTIFIED);
  d = decide(VIGIL_ACT_DM_MEDIA, &adult, &teen, VIGIL_RELF_KNOWN_IRL, NOON);
  assert_int_equal(d.conditions, VIGIL_COND_PARENT_NOTIFIED | VIGIL_COND_MEDIA_STRIPPED);
  /* A peer the 13-15 follows, same settings: allowed with a warning. */
  vigil_policy_account peer = acct(VIGIL_BAND_13_15);
  d = decide(VIGIL_ACT_DM_TEXT, &peer, &teen, VIGIL_RELF_TARGET_FOLLOWS, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW_WITH_CONDITIONS);
  assert_int_equal(d.conditions, VIGIL_COND_WARNING_SHOWN);
  /* An unknown-age sender is treated as an adult. */
  vigil_policy_account unk = acct(VIGIL_BAND_UNKNOWN);
  d = decide(VIGIL_ACT_DM_TEXT, &unk, &teen, VIGIL_RELF_TARGET_FOLLOWS, NOON);
  assert_string_equal(d.reasons[0], "adult-dm-not-known");
  /* Blocked beats everything. */
  d = decide(VIGIL_ACT_DM_TEXT, &peer, &teen, VIGIL_RELF_BLOCKED | VIGIL_RELF_KNOWN_IRL, NOON);
  assert_string_equal(d.reasons[0], "blocked");
}

static void test_risk_inputs(void **state) {
  (void)state;
  vigil_policy_account adult = acct(VIGIL_BAND_ADULT), teen = acct(VIGIL_BAND_16_17), other = acct(VIGIL_BAND_ADULT);
  teen.settings[VIGIL_SET_DM] = VIGIL_AUD_FOLLOWING;
  teen.settings[VIGIL_SET_DISCOVERABLE] = VIGIL_AUD_EVERYONE;
  /* Unflagged: the known adult may message, anyone may find the teen. */
  assert_int_equal(decide(VIGIL_ACT_DM_TEXT, &adult, &teen, VIGIL_RELF_KNOWN_IRL, NOON).outcome, VIGIL_POLICY_ALLOW);
  assert_int_equal(decide(VIGIL_ACT_SEARCH, &adult, &teen, 0, NOON).outcome, VIGIL_POLICY_ALLOW);
  /* Flagged: no finding or contacting minors at all, whatever the tie. */
  for (int flag = 1; flag <= 3; flag++) {
    adult.risk = (uint8_t)flag;
    for (int act = 0; act < VIGIL_ACT_COUNT; act++)
      for (unsigned rel = 0; rel < 32; rel++) {
        vigil_policy_decision d = decide(act, &adult, &teen, rel, NOON);
        assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
        if (!(rel & VIGIL_RELF_BLOCKED)) {
          assert_string_equal(d.reasons[0], "flagged-actor-minor");
          assert_int_equal(has_reason(&d, "actor_grooming_risk"), !!(flag & VIGIL_RISK_GROOMING));
          assert_int_equal(has_reason(&d, "actor_hash_match"), !!(flag & VIGIL_RISK_HASH_MATCH));
        }
      }
    /* ... and an unknown-age target is protected the same way. */
    vigil_policy_account unk = acct(VIGIL_BAND_UNKNOWN);
    assert_int_equal(decide(VIGIL_ACT_VIEW_PROFILE, &adult, &unk, VIGIL_RELF_FRIENDS, NOON).outcome, VIGIL_POLICY_DENY);
    /* Adults are not affected by this rule. */
    assert_int_equal(decide(VIGIL_ACT_DM_TEXT, &adult, &other, 0, NOON).outcome, VIGIL_POLICY_ALLOW);
    /* A minor cannot reach a flagged account either. */
    vigil_policy_decision d = decide(VIGIL_ACT_DM_TEXT, &teen, &adult, VIGIL_RELF_KNOWN_IRL, NOON);
    assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
    assert_string_equal(d.reasons[0], "flagged-target-minor");
  }
  /* A flagged minor is kept from other minors too. */
  vigil_policy_account peer = acct(VIGIL_BAND_16_17);
  peer.risk = VIGIL_RISK_GROOMING;
  vigil_policy_decision d = decide(VIGIL_ACT_COMMENT, &peer, &teen, VIGIL_RELF_FRIENDS, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_true(has_reason(&d, "actor_grooming_risk"));
}

static void test_quiet_hours(void **state) {
  (void)state;
  vigil_policy_account sys = acct(VIGIL_BAND_UNKNOWN);
  struct {
    int band, minute, outcome;
  } cases[] = {
      {VIGIL_BAND_13_15, 20 * 60 + 59, VIGIL_POLICY_ALLOW}, {VIGIL_BAND_13_15, 21 * 60, VIGIL_POLICY_DENY},
      {VIGIL_BAND_13_15, 0, VIGIL_POLICY_DENY},             {VIGIL_BAND_13_15, 6 * 60 + 59, VIGIL_POLICY_DENY},
      {VIGIL_BAND_13_15, 7 * 60, VIGIL_POLICY_ALLOW},       {VIGIL_BAND_16_17, 21 * 60 + 30, VIGIL_POLICY_ALLOW},
      {VIGIL_BAND_16_17, 22 * 60, VIGIL_POLICY_DENY},       {VIGIL_BAND_16_17, 7 * 60, VIGIL_POLICY_ALLOW},
      {VIGIL_BAND_UNDER13, 21 * 60 + 5, VIGIL_POLICY_DENY}, {VIGIL_BAND_UNKNOWN, 23 * 60, VIGIL_POLICY_DENY},
      {VIGIL_BAND_ADULT, 3 * 60, VIGIL_POLICY_ALLOW},       {VIGIL_BAND_ADULT, -1, VIGIL_POLICY_ALLOW},
      {VIGIL_BAND_16_17, -1, VIGIL_POLICY_DENY}, /* unknown local time: protective */
      {VIGIL_BAND_16_17, 5000, VIGIL_POLICY_DENY},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    vigil_policy_account t = acct(cases[i].band);
    vigil_policy_decision d = decide(VIGIL_ACT_NOTIFY, &sys, &t, 0, cases[i].minute);
    if (d.outcome != cases[i].outcome) printf("case %zu: band %d minute %d\n", i, cases[i].band, cases[i].minute);
    assert_int_equal(d.outcome, cases[i].outcome);
    assert_int_equal(has_reason(&d, "quiet_hours"), cases[i].outcome == VIGIL_POLICY_DENY);
    if (d.outcome == VIGIL_POLICY_DENY) assert_non_null(strstr(d.sentence, "quiet hours"));
  }
  /* NULL actor (the platform itself) is fine. */
  vigil_policy_account t = acct(VIGIL_BAND_13_15);
  vigil_policy_request r = {VIGIL_ACT_NOTIFY, NULL, &t, 0, NOON};
  vigil_policy_decision d;
  assert_int_equal(vigil_policy_decide(P, &r, &d), VIGIL_OK);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW);
}

static void test_parent_required_settings(void **state) {
  (void)state;
  vigil_policy_account viewer = acct(VIGIL_BAND_ADULT), teen = acct(VIGIL_BAND_13_15), older = acct(VIGIL_BAND_16_17);
  /* 13-15 going public alone: stays private; with a linked parent: public. */
  teen.settings[VIGIL_SET_VISIBILITY] = VIGIL_AUD_EVERYONE;
  vigil_policy_decision d = decide(VIGIL_ACT_VIEW_PROFILE, &viewer, &teen, 0, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_true(has_reason(&d, "visibility_loosening_needs_parent"));
  teen.parent_approved = 1u << VIGIL_SET_VISIBILITY; /* approval without a linked parent counts for nothing */
  assert_int_equal(decide(VIGIL_ACT_VIEW_PROFILE, &viewer, &teen, 0, NOON).outcome, VIGIL_POLICY_DENY);
  teen.parent_linked = 1;
  d = decide(VIGIL_ACT_VIEW_PROFILE, &viewer, &teen, 0, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW);
  assert_true(has_reason(&d, "visibility_audience_met"));
  /* 16-17 may go public alone. */
  older.settings[VIGIL_SET_VISIBILITY] = VIGIL_AUD_EVERYONE;
  assert_int_equal(decide(VIGIL_ACT_VIEW_PROFILE, &viewer, &older, 0, NOON).outcome, VIGIL_POLICY_ALLOW);
  /* Duets of a 13-15 stay off even with a parent: locked for the band. */
  teen.settings[VIGIL_SET_REMIX] = VIGIL_AUD_EVERYONE;
  teen.parent_approved |= 1u << VIGIL_SET_REMIX;
  d = decide(VIGIL_ACT_DUET, &viewer, &teen, VIGIL_RELF_FRIENDS, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_true(has_reason(&d, "setting_locked_for_age_band"));
  /* Tightening is always honoured: a 16-17 who closes comments. */
  older.settings[VIGIL_SET_COMMENT] = VIGIL_AUD_NONE;
  vigil_policy_account peer = acct(VIGIL_BAND_16_17);
  assert_int_equal(decide(VIGIL_ACT_COMMENT, &peer, &older, VIGIL_RELF_KNOWN_IRL, NOON).outcome, VIGIL_POLICY_DENY);
  /* Settings rows expose who may loosen what. */
  vigil_policy_setting_row row;
  assert_int_equal(vigil_policy_setting(P, VIGIL_SET_DM, VIGIL_BAND_13_15, &row), VIGIL_OK);
  assert_int_equal(row.def, VIGIL_AUD_NONE);
  assert_int_equal(row.self_limit, VIGIL_AUD_NONE);
  assert_int_equal(row.parent_limit, VIGIL_AUD_FOLLOWING);
  assert_int_equal(vigil_policy_setting(P, VIGIL_SET_DM, 7, &row), VIGIL_EINVAL);
  /* Location: a 13-15 sharing with a friend needs a parent, who is told. */
  teen.settings[VIGIL_SET_LOCATION] = VIGIL_AUD_FRIENDS;
  teen.parent_approved |= 1u << VIGIL_SET_LOCATION;
  d = decide(VIGIL_ACT_LOCATION, &teen, &peer, VIGIL_RELF_FRIENDS, NOON);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW_WITH_CONDITIONS);
  assert_int_equal(d.conditions, VIGIL_COND_PARENT_NOTIFIED);
  /* ... but never with an adult they do not know in real life. */
  assert_int_equal(decide(VIGIL_ACT_LOCATION, &teen, &viewer, VIGIL_RELF_FRIENDS, NOON).outcome, VIGIL_POLICY_DENY);
}

static void test_invalid_requests(void **state) {
  (void)state;
  vigil_policy_account a = acct(VIGIL_BAND_ADULT);
  vigil_policy_request r = {VIGIL_ACT_COUNT, &a, &a, 0, NOON};
  vigil_policy_decision d;
  assert_int_equal(vigil_policy_decide(P, &r, &d), VIGIL_EINVAL);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  assert_string_equal(d.reasons[0], "invalid_request");
  r.action = -3;
  assert_int_equal(vigil_policy_decide(P, &r, &d), VIGIL_EINVAL);
  assert_int_equal(vigil_policy_decide(NULL, &r, &d), VIGIL_EINVAL);
  assert_int_equal(vigil_policy_decide(P, NULL, &d), VIGIL_EINVAL);
  assert_int_equal(vigil_policy_decide(P, &r, NULL), VIGIL_EINVAL);
  /* Out-of-range band and setting values are treated protectively. */
  vigil_policy_account weird = acct(200);
  weird.settings[VIGIL_SET_DM] = 77;
  r.action = VIGIL_ACT_DM_TEXT;
  r.actor = &a;
  r.target = &weird;
  assert_int_equal(vigil_policy_decide(P, &r, &d), VIGIL_OK);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
}

static void test_trace(void **state) {
  (void)state;
  vigil_policy_account a = acct(VIGIL_BAND_ADULT), t = acct(VIGIL_BAND_13_15);
  vigil_policy_request r = {VIGIL_ACT_DM_TEXT, &a, &t, 0, NOON};
  vigil_policy_decision d;
  char buf[8192];
  assert_int_equal(vigil_policy_decide_traced(P, &r, &d, buf, sizeof buf), VIGIL_OK);
  assert_non_null(strstr(buf, "rule blocked (default line"));
  assert_non_null(strstr(buf, "rule adult-dm-unsolicited (default line"));
  assert_non_null(strstr(buf, "matches"));
  assert_non_null(strstr(buf, "decision: deny"));
  char tiny[12];
  memset(tiny, 'x', sizeof tiny);
  assert_int_equal(vigil_policy_decide_traced(P, &r, &d, tiny, sizeof tiny), VIGIL_OK);
  assert_true(memchr(tiny, '\0', sizeof tiny) != NULL);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
}

static void same_decision(const vigil_policy_request *r) {
  vigil_policy_decision d1, d2;
  vigil_policy_decide(P, r, &d1);
  vigil_policy_decide_traced(P, r, &d2, NULL, 0);
  assert_int_equal(d1.outcome, d2.outcome);
  assert_int_equal(d1.conditions, d2.conditions);
  assert_int_equal(d1.nreasons, d2.nreasons);
  for (int k = 0; k < d1.nreasons; k++) assert_ptr_equal(d1.reasons[k], d2.reasons[k]);
  assert_ptr_equal(d1.sentence, d2.sentence);
  assert_int_equal(d1.rule_line, d2.rule_line);
}

/* The compiled table and the rule walk must agree on everything: every
 * cell exhaustively (default settings), then random accounts. */
static void test_compiled_matches_rule_walk(void **state) {
  (void)state;
  for (int act = 0; act < VIGIL_ACT_COUNT; act++)
    for (int ab = 0; ab < VIGIL_BAND_COUNT; ab++)
      for (int tb = 0; tb < VIGIL_BAND_COUNT; tb++)
        for (unsigned rel = 0; rel < 32; rel++)
          for (int risk = 0; risk < 4; risk++) {
            vigil_policy_account a = acct(ab), t = acct(tb);
            a.risk = (uint8_t)(risk & 1 ? VIGIL_RISK_GROOMING : 0);
            t.risk = (uint8_t)(risk & 2 ? VIGIL_RISK_HASH_MATCH : 0);
            vigil_policy_request r = {act, &a, &t, rel, (int)(rel * 45)};
            same_decision(&r);
          }
  uint64_t rng = 42;
  vigil_policy_account a, t;
  for (int i = 0; i < 200000; i++) {
    vigil_policy_account *acs[2] = {&a, &t};
    for (int k = 0; k < 2; k++) {
      vigil_policy_account_init(acs[k]);
      uint64_t x = tu_rand(&rng);
      acs[k]->band = (uint8_t)(x % 6); /* includes one out-of-range value */
      acs[k]->risk = (uint8_t)((x >> 8) % 4 == 0 ? (x >> 12) % 4 : 0);
      acs[k]->parent_linked = (uint8_t)((x >> 16) & 1);
      acs[k]->parent_approved = (uint16_t)(x >> 20);
      for (int s = 0; s < VIGIL_SET_COUNT; s++) {
        unsigned v = (unsigned)((x >> (32 + 3 * s)) % 8);
        acs[k]->settings[s] = (uint8_t)(v < VIGIL_AUD_COUNT ? v : VIGIL_AUD_UNSET);
      }
    }
    uint64_t y = tu_rand(&rng);
    vigil_policy_request r = {(int)(y % VIGIL_ACT_COUNT), &a, &t, (unsigned)((y >> 8) % 32),
                              (int)((y >> 16) % 1500) - 30};
    same_decision(&r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resolve_band),
      cmocka_unit_test(test_relationship_classes),
      cmocka_unit_test(test_adult_to_minor_dm),
      cmocka_unit_test(test_risk_inputs),
      cmocka_unit_test(test_quiet_hours),
      cmocka_unit_test(test_parent_required_settings),
      cmocka_unit_test(test_invalid_requests),
      cmocka_unit_test(test_trace),
      cmocka_unit_test(test_compiled_matches_rule_walk),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
