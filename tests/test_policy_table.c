/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_policy_table.c - the shipped default policy against its documentation
 * and against the published platform defaults.
 *
 *   - docs/policy.md's decision table (between the decision-table markers)
 *     is parsed and every one of its 2,400 action x actor band x target band
 *     x relationship cells is checked against the engine: decision,
 *     conditions and deciding rule.  Every combination must appear exactly
 *     once, so the doc and the code cannot drift apart.
 *   - The settings table in the same document is checked the same way.
 *   - Each setting is at least as strict as the strictest published default
 *     for its band (../shared/docs/minor-safety-defaults.md, encoded below
 *     so the test runs without ../shared).
 *   - "Unknown is treated protectively" and "younger is never less
 *     protected" hold for every cell.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/policy.h"

static vigil_policy *P;
static char *doc;

static int setup(void **state) {
  (void)state;
  vigil_error e;
  if (vigil_policy_load_default(&P, &e)) return -1;
  size_t len;
  doc = (char *)tu_slurp(VIGIL_SOURCE_DIR "/docs/policy.md", &len);
  if (!doc) {
    printf("cannot read %s\n", VIGIL_SOURCE_DIR "/docs/policy.md");
    return -1;
  }
  char *nd = realloc(doc, len + 1);
  if (!nd) return -1;
  doc = nd;
  doc[len] = '\0';
  return 0;
}
static int teardown(void **state) {
  (void)state;
  vigil_policy_free(P);
  free(doc);
  return 0;
}

static const unsigned rel_flags[VIGIL_REL_COUNT] = {
    0, VIGIL_RELF_ACTOR_FOLLOWS, VIGIL_RELF_TARGET_FOLLOWS, VIGIL_RELF_ACTOR_FOLLOWS | VIGIL_RELF_TARGET_FOLLOWS,
    VIGIL_RELF_KNOWN_IRL, VIGIL_RELF_BLOCKED};

static void decide_at(int act, int ab, int tb, int rel, int minute, vigil_policy_decision *d) {
  vigil_policy_account a, t;
  vigil_policy_account_init(&a);
  vigil_policy_account_init(&t);
  a.band = (uint8_t)ab;
  t.band = (uint8_t)tb;
  vigil_policy_request r = {act, &a, &t, rel_flags[rel], minute};
  assert_int_equal(vigil_policy_decide(P, &r, d), VIGIL_OK);
}

/* Strictness of a cell over day and night: 0 allow, 1 with conditions, 2 deny. */
static int strictness(int act, int ab, int tb, int rel) {
  vigil_policy_decision d;
  int s = 0;
  for (int m = 0; m < 2; m++) {
    decide_at(act, ab, tb, rel, m ? 23 * 60 + 30 : 12 * 60, &d);
    int v = d.outcome == VIGIL_POLICY_DENY ? 2 : d.outcome == VIGIL_POLICY_ALLOW_WITH_CONDITIONS ? 1 : 0;
    if (v > s) s = v;
  }
  return s;
}

static char *trim(char *s) {
  while (*s == ' ') s++;
  size_t n = strlen(s);
  while (n && s[n - 1] == ' ') s[--n] = '\0';
  return s;
}

/* Splits a markdown table row "| a | b | ... |" into cells; returns count. */
static int split_row(char *line, char **cells, int max) {
  if (line[0] != '|') return 0;
  int n = 0;
  char *s = line + 1;
  for (char *bar; (bar = strchr(s, '|')) && n < max; s = bar + 1) {
    *bar = '\0';
    cells[n++] = trim(s);
  }
  return n;
}

/* The doc's section between two markers, as a NUL-terminated copy. */
static char *section(const char *begin, const char *end) {
  const char *b = strstr(doc, begin), *e = b ? strstr(b, end) : NULL;
  assert_non_null(b);
  assert_non_null(e);
  b += strlen(begin);
  char *s = malloc((size_t)(e - b) + 1);
  assert_non_null(s);
  memcpy(s, b, (size_t)(e - b));
  s[e - b] = '\0';
  return s;
}

static void check_cell(int act, int ab, int tb, int rel, const char *cell) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", cell);
  char *dot = strstr(buf, " \xc2\xb7 "); /* " · " */
  if (!dot) fail_msg("cell '%s' has no ' · rule'", cell);
  *dot = '\0';
  const char *rule = dot + 4;
  /* decision and conditions */
  unsigned conds = 0;
  char *plus = strchr(buf, '+');
  if (plus) {
    *plus = '\0';
    char *sp;
    for (char *c = strtok_r(plus + 1, "+", &sp); c; c = strtok_r(NULL, "+", &sp)) {
      int bit = vigil_condition_from_name(c);
      if (bit < 0) fail_msg("unknown condition '%s' in cell '%s'", c, cell);
      conds |= (unsigned)bit;
    }
  }
  vigil_policy_decision day, night;
  decide_at(act, ab, tb, rel, 12 * 60, &day);
  decide_at(act, ab, tb, rel, 23 * 60 + 30, &night);
  int ok = 1;
  if (!strcmp(buf, "deny")) ok = day.outcome == VIGIL_POLICY_DENY;
  else if (!strcmp(buf, "allow"))
    ok = day.outcome != VIGIL_POLICY_DENY && night.outcome != VIGIL_POLICY_DENY;
  else if (!strcmp(buf, "quiet"))
    ok = day.outcome != VIGIL_POLICY_DENY && night.outcome == VIGIL_POLICY_DENY &&
         !strcmp(night.reasons[night.nreasons - 1], "quiet_hours");
  else fail_msg("unknown decision '%s' in cell '%s'", buf, cell);
  ok = ok && day.conditions == conds && !strcmp(day.reasons[0], rule);
  if (!ok)
    fail_msg("%s actor %s target %s %s: doc says '%s', engine says %s conditions 0x%x rule %s",
             vigil_action_name(act), vigil_band_name(ab), vigil_band_name(tb), vigil_rel_name(rel), cell,
             vigil_outcome_name(day.outcome), day.conditions, day.reasons[0]);
}

static void test_doc_decision_table(void **state) {
  (void)state;
  char *t = section("<!-- decision-table:begin -->", "<!-- decision-table:end -->");
  static unsigned char seen[VIGIL_ACT_COUNT][VIGIL_BAND_COUNT][VIGIL_BAND_COUNT];
  memset(seen, 0, sizeof seen);
  int header = 0, rows = 0, checked = 0;
  char *lsp;
  for (char *line = strtok_r(t, "\n", &lsp); line; line = strtok_r(NULL, "\n", &lsp)) {
    char *cells[16];
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", line);
    int n = split_row(copy, cells, 16);
    if (n == 0) continue;
    if (!header) {
      assert_int_equal(n, 3 + VIGIL_REL_COUNT);
      assert_string_equal(cells[0], "action");
      for (int r = 0; r < VIGIL_REL_COUNT; r++) assert_string_equal(cells[3 + r], vigil_rel_name(r));
      header = 1;
      continue;
    }
    if (!strncmp(cells[0], "---", 3)) continue;
    assert_int_equal(n, 3 + VIGIL_REL_COUNT);
    int act = vigil_action_from_name(cells[0]), tb = vigil_band_from_name(cells[2]);
    if (act < 0 || tb < 0) fail_msg("bad row: %s", line);
    char actors[256];
    snprintf(actors, sizeof actors, "%s", cells[1]);
    char *sp;
    for (char *a = strtok_r(actors, ", ", &sp); a; a = strtok_r(NULL, ", ", &sp)) {
      int ab = vigil_band_from_name(a);
      if (ab < 0) fail_msg("bad actor band '%s'", a);
      if (seen[act][ab][tb]++) fail_msg("%s %s %s appears twice", cells[0], a, cells[2]);
      for (int r = 0; r < VIGIL_REL_COUNT; r++, checked++) check_cell(act, ab, tb, r, cells[3 + r]);
    }
    rows++;
  }
  free(t);
  for (int a = 0; a < VIGIL_ACT_COUNT; a++)
    for (int x = 0; x < VIGIL_BAND_COUNT; x++)
      for (int y = 0; y < VIGIL_BAND_COUNT; y++)
        if (seen[a][x][y] != 1)
          fail_msg("%s actor %s target %s is missing from the table", vigil_action_name(a), vigil_band_name(x),
                   vigil_band_name(y));
  printf("docs/policy.md: %d rows, %d cells checked\n", rows, checked);
  assert_int_equal(checked, VIGIL_ACT_COUNT * VIGIL_BAND_COUNT * VIGIL_BAND_COUNT * VIGIL_REL_COUNT);
}

static void test_doc_settings_table(void **state) {
  (void)state;
  char *t = section("### Settings, per band", "### Quiet hours");
  int checked = 0;
  char *sp;
  for (char *line = strtok_r(t, "\n", &sp); line; line = strtok_r(NULL, "\n", &sp)) {
    char *cells[16];
    int n = split_row(line, cells, 16);
    if (n < 1 + VIGIL_BAND_COUNT) continue;
    int s = vigil_setting_from_name(cells[0]);
    if (s < 0) continue; /* header and rule lines */
    for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
      vigil_policy_setting_row row;
      vigil_policy_setting(P, s, b, &row);
      char want[96];
      if (row.def == row.self_limit && row.self_limit == row.parent_limit && row.def == VIGIL_AUD_EVERYONE)
        snprintf(want, sizeof want, "everyone");
      else
        snprintf(want, sizeof want, "%s / %s / %s", vigil_audience_name(row.def), vigil_audience_name(row.self_limit),
                 vigil_audience_name(row.parent_limit));
      if (strcmp(cells[1 + b], want))
        fail_msg("settings table: %s for %s says '%s', the policy has '%s'", cells[0], vigil_band_name(b),
                 cells[1 + b], want);
      checked++;
    }
  }
  free(t);
  assert_int_equal(checked, VIGIL_SET_COUNT * VIGIL_BAND_COUNT);
}

/* The strictest published default per setting and band, from
 * ../shared/docs/minor-safety-defaults.md: the shipped default must be at
 * least this strict (a higher audience rank is stricter). */
static void test_at_least_strictest_published(void **state) {
  (void)state;
  static const struct {
    int setting, band, min_default, min_self; /* min_self -1: not constrained */
  } facts[] = {
      {VIGIL_SET_VISIBILITY, VIGIL_BAND_13_15, VIGIL_AUD_FOLLOWERS, VIGIL_AUD_FOLLOWERS}, /* private; IG parent */
      {VIGIL_SET_VISIBILITY, VIGIL_BAND_16_17, VIGIL_AUD_FOLLOWERS, -1},                 /* private at sign-up */
      {VIGIL_SET_DM, VIGIL_BAND_UNDER13, VIGIL_AUD_NONE, VIGIL_AUD_NONE},                /* RB: parental consent */
      {VIGIL_SET_DM, VIGIL_BAND_13_15, VIGIL_AUD_NONE, VIGIL_AUD_NONE},                  /* TT: DMs disabled */
      {VIGIL_SET_DM, VIGIL_BAND_16_17, VIGIL_AUD_NONE, VIGIL_AUD_FOLLOWING},             /* TT No one; IG follow */
      {VIGIL_SET_COMMENT, VIGIL_BAND_13_15, VIGIL_AUD_FRIENDS, VIGIL_AUD_FRIENDS},       /* TT Friends or No one */
      {VIGIL_SET_COMMENT, VIGIL_BAND_16_17, VIGIL_AUD_EVERYONE, -1},                     /* TT Everyone */
      {VIGIL_SET_MENTION, VIGIL_BAND_13_15, VIGIL_AUD_FOLLOWING, VIGIL_AUD_FOLLOWING},   /* IG; parent */
      {VIGIL_SET_MENTION, VIGIL_BAND_16_17, VIGIL_AUD_FOLLOWING, -1},
      {VIGIL_SET_REMIX, VIGIL_BAND_13_15, VIGIL_AUD_NONE, VIGIL_AUD_NONE}, /* TT not allowed */
      {VIGIL_SET_REMIX, VIGIL_BAND_16_17, VIGIL_AUD_FRIENDS, -1},          /* TT Friends by default */
      {VIGIL_SET_DOWNLOAD, VIGIL_BAND_13_15, VIGIL_AUD_NONE, VIGIL_AUD_NONE},
      {VIGIL_SET_DOWNLOAD, VIGIL_BAND_16_17, VIGIL_AUD_NONE, -1},
      {VIGIL_SET_DISCOVERABLE, VIGIL_BAND_13_15, VIGIL_AUD_NONE, VIGIL_AUD_NONE},
      {VIGIL_SET_DISCOVERABLE, VIGIL_BAND_16_17, VIGIL_AUD_NONE, -1},
      {VIGIL_SET_LOCATION, VIGIL_BAND_13_15, VIGIL_AUD_NONE, VIGIL_AUD_NONE}, /* IG off; parent; AADC */
      {VIGIL_SET_LOCATION, VIGIL_BAND_16_17, VIGIL_AUD_NONE, -1},
      {VIGIL_SET_LOCATION, VIGIL_BAND_UNDER13, VIGIL_AUD_NONE, VIGIL_AUD_NONE},
  };
  for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
    vigil_policy_setting_row row;
    vigil_policy_setting(P, facts[i].setting, facts[i].band, &row);
    if (row.def < facts[i].min_default || (facts[i].min_self >= 0 && row.self_limit < facts[i].min_self))
      fail_msg("setting %s band %s is looser than the strictest published default",
               vigil_setting_name(facts[i].setting), vigil_band_name(facts[i].band));
    assert_true(row.source && *row.source);
  }
  /* Feature bans: LIVE 18+ (TT, Oct 2022), gifts 18+ (TT), no DMs from
   * adults a minor does not follow (IG, Mar 2021). */
  for (int b = VIGIL_BAND_UNDER13; b <= VIGIL_BAND_16_17; b++)
    for (int r = 0; r < VIGIL_REL_COUNT; r++) {
      assert_int_equal(strictness(VIGIL_ACT_LIVE_HOST, b, VIGIL_BAND_ADULT, r), 2);
      assert_int_equal(strictness(VIGIL_ACT_GIFT, b, VIGIL_BAND_ADULT, r), 2);
      assert_int_equal(strictness(VIGIL_ACT_GIFT, VIGIL_BAND_ADULT, b, r), 2);
      if (r == VIGIL_REL_STRANGER || r == VIGIL_REL_FOLLOWER) {
        assert_int_equal(strictness(VIGIL_ACT_DM_TEXT, VIGIL_BAND_ADULT, b, r), 2);
        assert_int_equal(strictness(VIGIL_ACT_DM_MEDIA, VIGIL_BAND_ADULT, b, r), 2);
      }
    }
  /* Quiet hours cover TT's and IG's windows. */
  int st, en;
  vigil_policy_quiet(P, VIGIL_BAND_13_15, &st, &en);
  assert_true(st <= 21 * 60 && en >= 7 * 60 && en < st);
  vigil_policy_quiet(P, VIGIL_BAND_16_17, &st, &en);
  assert_true(st <= 22 * 60 && en >= 7 * 60 && en < st);
  /* Every rule cites at least one declared source. */
  for (size_t i = 0; i < vigil_policy_rule_count(P); i++) {
    const char *id, *src;
    vigil_policy_rule_info(P, i, &id, &src, NULL, NULL);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", src);
    char *sp;
    int n = 0;
    for (char *c = strtok_r(buf, ",", &sp); c; c = strtok_r(NULL, ",", &sp), n++)
      assert_non_null(vigil_policy_source_text(P, c));
    assert_true(n > 0);
  }
}

/* Actions where the actor's own band is the protected one. */
static int actor_centric(int act) { return act == VIGIL_ACT_LIVE_HOST || act == VIGIL_ACT_LOCATION; }

static void test_protective_orderings(void **state) {
  (void)state;
  for (int act = 0; act < VIGIL_ACT_COUNT; act++)
    for (int r = 0; r < VIGIL_REL_COUNT; r++)
      for (int x = 0; x < VIGIL_BAND_COUNT; x++) {
        /* Unknown target: at least as protected as any minor target. */
        for (int b = VIGIL_BAND_UNDER13; b <= VIGIL_BAND_16_17; b++)
          if (strictness(act, x, VIGIL_BAND_UNKNOWN, r) < strictness(act, x, b, r))
            fail_msg("%s: unknown target less protected than %s (actor %s, %s)", vigil_action_name(act),
                     vigil_band_name(b), vigil_band_name(x), vigil_rel_name(r));
        /* Unknown actor: at least as restricted as an adult actor. */
        if (strictness(act, VIGIL_BAND_UNKNOWN, x, r) < strictness(act, VIGIL_BAND_ADULT, x, r))
          fail_msg("%s: unknown actor less restricted than an adult (target %s, %s)", vigil_action_name(act),
                   vigil_band_name(x), vigil_rel_name(r));
        /* Younger is never less protected: the target for most actions, the
         * actor where the actor's own band governs. */
        for (int b = VIGIL_BAND_UNDER13; b < VIGIL_BAND_ADULT; b++) {
          int younger = actor_centric(act) ? strictness(act, b, x, r) : strictness(act, x, b, r);
          int older = actor_centric(act) ? strictness(act, b + 1, x, r) : strictness(act, x, b + 1, r);
          if (younger < older)
            fail_msg("%s: band %s less protected than %s (other party %s, %s)", vigil_action_name(act),
                     vigil_band_name(b), vigil_band_name(b + 1), vigil_band_name(x), vigil_rel_name(r));
        }
      }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_doc_decision_table),
      cmocka_unit_test(test_doc_settings_table),
      cmocka_unit_test(test_at_least_strictest_published),
      cmocka_unit_test(test_protective_orderings),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
