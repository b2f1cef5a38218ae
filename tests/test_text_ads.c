/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_text_ads.c - stated ages and the trafficking-ad indicators: each
 * family fires on its evidence (through obfuscation), negated phrases do
 * not fire, spans point at the original bytes, a minor is always the top
 * signal, the weights move the risk in the documented direction
 * (movement language lowers it, per the NIJ 2024 finding), and evidence
 * spans start where a whole-text leftmost start of match would.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "vigil/text.h"

static vigil_text T;
static vigil_ad_scanner *S;
static vigil_ad_scratch *X;
static vigil_ad_result R;

static void scan(const char *s) {
  assert_int_equal(vigil_text_normalize(&T, s, strlen(s), 0, NULL), VIGIL_OK);
  vigil_error err;
  assert_int_equal(vigil_ad_scan(S, X, &T, &R, &err), VIGIL_OK);
}

static int fired(int f) { return (R.fired >> f) & 1; }

static const vigil_ad_hit *hit(int f) {
  for (size_t i = 0; i < R.nhits; i++)
    if (R.hits[i].family == f) return &R.hits[i];
  return NULL;
}

static void ages_are(const char *s, int n, const int *want) {
  vigil_ages a = {0};
  assert_int_equal(vigil_text_normalize(&T, s, strlen(s), 0, NULL), VIGIL_OK);
  assert_int_equal(vigil_ages_extract(&T, &a, NULL), VIGIL_OK);
  if ((int)a.n != n) printf("'%s': %zu ages, want %d\n", s, a.n, n);
  assert_int_equal((int)a.n, n);
  for (int i = 0; i < n; i++) assert_int_equal(a.v[i].years, want[i]);
  vigil_ages_free(&a);
}

static void test_ages(void **state) {
  (void)state;
  ages_are("Sexy 22yo blonde", 1, (int[]){22});
  ages_are("I'm twenty two years old", 1, (int[]){22});
  ages_are("Age: 22, 5'4, 120lbs", 1, (int[]){22});
  ages_are("hi im 25, white and fun", 1, (int[]){25});
  ages_are("Mia 21 y/o and Kay 23 y.o.", 2, (int[]){21, 23});
  ages_are("Pretty Blonde - 23\nbody text", 1, (int[]){23});
  ages_are("just turned seventeen", 1, (int[]){17});
  ages_are("5'4 130lbs 36DD $150 hh 24/7 100% real", 0, NULL);
  ages_are("please be over 40 yrs old, no one under the age 25", 0, NULL);
  ages_are("im 100% real and 5 minutes away", 0, NULL);
  /* the span covers the original, look-alike digits included */
  vigil_ages a = {0};
  const char *s = "age: \xE2\x91\xA1\xE2\x91\xA1"; /* ②② */
  assert_int_equal(vigil_text_normalize(&T, s, strlen(s), 0, NULL), VIGIL_OK);
  assert_int_equal(vigil_ages_extract(&T, &a, NULL), VIGIL_OK);
  assert_int_equal(a.n, 1);
  assert_int_equal(a.v[0].years, 22);
  assert_int_equal(a.v[0].span.start, 5);
  assert_int_equal(a.v[0].span.end, 11);
  vigil_ages_free(&a);
}

static void test_minor_is_top(void **state) {
  (void)state;
  const char *ads[] = {"new girl im 16 call me", "Sweet sixteen years old, 100% independent, screening",
                       "8th grade cutie", "barely legal, not yet 18", "fresh 15yo"};
  for (size_t i = 0; i < sizeof ads / sizeof ads[0]; i++) {
    scan(ads[i]);
    if (!fired(VIGIL_AD_MINOR)) printf("minor not found in '%s'\n", ads[i]);
    assert_true(fired(VIGIL_AD_MINOR));
    assert_true(R.risk >= 0.99);
  }
  scan("new girl im 16 call me");
  assert_int_equal(R.min_age, 16);
  /* an adult age is stated, not a minor */
  scan("im 19, independent");
  assert_false(fired(VIGIL_AD_MINOR));
  assert_true(fired(VIGIL_AD_STATED_AGE));
  assert_true(R.risk < 0.5);
}

static void test_families_and_spans(void **state) {
  (void)state;
  const char *s = "Y0UNG \xD1\x83\xD0\xBEung fresh \xF0\x9F\x8D\x92 latina, 100% real no games";
  scan(s);
  assert_true(fired(VIGIL_AD_YOUTH));
  assert_true(fired(VIGIL_AD_EMOJI_CODE));
  assert_true(fired(VIGIL_AD_ETHNICITY));
  assert_true(fired(VIGIL_AD_TRUST));
  const vigil_ad_hit *h = hit(VIGIL_AD_EMOJI_CODE);
  assert_non_null(h);
  assert_memory_equal(s + h->span.start, "\xF0\x9F\x8D\x92", 4);
  assert_int_equal(h->span.end - h->span.start, 4);
  /* Cyrillic "уоung" is found at its own bytes */
  int saw_cyr = 0;
  for (size_t i = 0; i < R.nhits; i++)
    if (R.hits[i].family == VIGIL_AD_YOUTH && R.hits[i].span.start == 6 && R.hits[i].span.end == 13) saw_cyr = 1;
  assert_true(saw_cyr);
  assert_non_null(vigil_ad_rule_text(h->rule));

  scan("ask for her, she will treat you right; our girls are the best");
  assert_true(fired(VIGIL_AD_THIRD_PERSON));
  scan("call her");
  assert_false(fired(VIGIL_AD_THIRD_PERSON)); /* one pronoun is not enough */
  scan("text my manager, daddy handles booking \xF0\x9F\x91\x91");
  assert_true(fired(VIGIL_AD_CONTROL));
  scan("incall only, bbbj, 150 roses");
  assert_true(fired(VIGIL_AD_RESTRICTED));
  assert_true(fired(VIGIL_AD_UNPROTECTED));
  assert_true(fired(VIGIL_AD_PRICE_CODE));
  scan("call 4one5 fivefivefive 0l99");
  assert_true(fired(VIGIL_AD_OBSCURED_CONTACT));
  assert_int_equal(R.contacts.n, 1);
  scan("call 415-555-0199");
  assert_false(fired(VIGIL_AD_OBSCURED_CONTACT));
}

static int has_span(int f, size_t start, size_t end) {
  for (size_t i = 0; i < R.nhits; i++)
    if (R.hits[i].family == f && R.hits[i].span.start == start && R.hits[i].span.end == end) return 1;
  return 0;
}

/* Starts of match are found after the scan, in a window around each end:
 * the leftmost start, word boundaries judged on the whole text. */
static void test_match_starts(void **state) {
  (void)state;
  scan("so little teens"); /* "little teens" is the longest match of its rule */
  assert_true(has_span(VIGIL_AD_YOUTH, 3, 15));
  scan("axlittle teens"); /* the byte before the window is a letter: no boundary */
  assert_true(has_span(VIGIL_AD_YOUTH, 9, 14));
  assert_false(has_span(VIGIL_AD_YOUTH, 2, 14));
  scan("xyoung teen and young");
  assert_true(has_span(VIGIL_AD_YOUTH, 7, 11));
  assert_true(has_span(VIGIL_AD_YOUTH, 16, 21));
  /* a rule with no longest match ([0-9]+) and a fixed-width one (an emoji) */
  scan("only 123456789012345678901234567890 roses \xF0\x9F\x8C\xB9");
  assert_true(has_span(VIGIL_AD_PRICE_CODE, 5, 41));
  assert_true(has_span(VIGIL_AD_PRICE_CODE, 42, 46));
}

static void test_negation(void **state) {
  (void)state;
  scan("NO PIMPS, no AA/BB/GFE, \xF0\x9F\x9A\xAB bareback, dont ask for bbbj");
  assert_false(fired(VIGIL_AD_CONTROL));
  assert_false(fired(VIGIL_AD_UNPROTECTED));
  assert_true(fired(VIGIL_AD_INDEPENDENT)); /* "no pimps" points away from trafficking */
  scan("no black men");
  assert_false(fired(VIGIL_AD_ETHNICITY));
}

static void test_weights_direction(void **state) {
  (void)state;
  scan("sweet girl, call 415-555-0199");
  double base = R.risk;
  scan("sweet girl new in town just arrived, call 415-555-0199");
  assert_true(fired(VIGIL_AD_MOVEMENT));
  assert_true(R.risk < base); /* NIJ 2024: movement ~70% less likely in trafficking ads */
  scan("young fresh girl, 100% real no games, latina, call 4one5 555 o199");
  assert_true(R.risk > base + 0.3);
  assert_true(R.risk > 0.0 && R.risk < 1.0);
  assert_true(vigil_ad_family_weight(VIGIL_AD_MOVEMENT) < 0);
  assert_true(vigil_ad_family_weight(VIGIL_AD_STATED_AGE) == 0);
  assert_string_equal(vigil_ad_family_name(VIGIL_AD_OBSCURED_CONTACT), "obscured_contact");
  scan("");
  assert_int_equal(R.nhits, 0);
  assert_true(R.risk < 0.1);
}

static int setup(void **state) {
  (void)state;
  vigil_text_init(&T);
  vigil_ad_result_init(&R);
  vigil_error err;
  if (vigil_ad_scanner_new(&S, &err) != VIGIL_OK) {
    printf("%s\n", err.message);
    return -1;
  }
  return vigil_ad_scratch_new(S, &X, &err) == VIGIL_OK ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  vigil_text_free(&T);
  vigil_ad_result_free(&R);
  vigil_ad_scratch_free(X);
  vigil_ad_scanner_free(S);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ages),         cmocka_unit_test(test_minor_is_top),
      cmocka_unit_test(test_families_and_spans), cmocka_unit_test(test_negation),
      cmocka_unit_test(test_weights_direction), cmocka_unit_test(test_match_starts),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
