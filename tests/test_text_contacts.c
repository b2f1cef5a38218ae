/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_text_contacts.c - phones, e-mails, handles and URLs written the ways
 * ads write them to slip past filters, and the numbers that must NOT be
 * taken for phones (prices, dates, ages, heights, weights, times).
 * Examples are our own, built on the obfuscation forms of indicators.md.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "vigil/text.h"

static vigil_text T;
static vigil_contacts C;

static void run(const char *s) {
  vigil_contacts_free(&C);
  assert_int_equal(vigil_text_normalize(&T, s, strlen(s), 0, NULL), VIGIL_OK);
  assert_int_equal(vigil_contacts_extract(&T, &C, NULL), VIGIL_OK);
}

static const vigil_contact *find(int type, const char *value) {
  for (size_t i = 0; i < C.n; i++)
    if (C.v[i].type == type && !strcmp(C.v[i].value, value)) return &C.v[i];
  return NULL;
}

static size_t count(int type) {
  size_t n = 0;
  for (size_t i = 0; i < C.n; i++) n += C.v[i].type == type;
  return n;
}

static void phone_is(const char *text, const char *e164, int obfuscated) {
  run(text);
  const vigil_contact *c = find(VIGIL_CONTACT_PHONE, e164);
  if (!c) {
    printf("no %s in '%s' (%zu contacts:", e164, text, C.n);
    for (size_t i = 0; i < C.n; i++) printf(" %s", C.v[i].value);
    printf(")\n");
  }
  assert_non_null(c);
  assert_int_equal(c->obfuscated, obfuscated);
  assert_int_equal(count(VIGIL_CONTACT_PHONE), 1);
}

static void test_plain_phones(void **state) {
  (void)state;
  phone_is("Call Mia (415) 555-0199 anytime", "+14155550199", 0);
  phone_is("text 415.555.0199", "+14155550199", 0);
  phone_is("4155550199", "+14155550199", 0);
  phone_is("1-415-555-0199", "+14155550199", 0);
  phone_is("whatsapp +44 20 7946 0958", "+442079460958", 0);
  run("call 415-555-0199 or 415 555 0199 (same)");
  assert_int_equal(count(VIGIL_CONTACT_PHONE), 1); /* deduplicated */
  /* the span points at what was written */
  run("Hi! 415-555-0199.");
  assert_int_equal(C.n, 1);
  assert_int_equal(C.v[0].span.start, 4);
  assert_int_equal(C.v[0].span.end, 16);
  assert_string_equal(C.v[0].digits, "4155550199");
  assert_true(C.v[0].e164_valid);
}

static void test_obfuscated_phones(void **state) {
  (void)state;
  phone_is("FOUR one 5 - five5five - zero1nine9", "+14155550199", 1);
  phone_is("4oneFIVE fivefivefive oh1ninenine", "+14155550199", 1);
  phone_is("six twentysix 555 o one nine nine", "+16265550199", 1);
  phone_is("3tothree 4three0 zerothree8seven", "+13234300387", 1);
  phone_is("[4][1][5] [5][5][5] [0][1][9][9]", "+14155550199", 1);
  phone_is("4~1~5~5~5~5~0~1~9~9", "+14155550199", 1);
  phone_is("415***555***0l99", "+14155550199", 1);
  phone_is("call 415 555 twothousand", "+14155552000", 1);
  phone_is("f0ur1five 555 o199", "+14155550199", 1);
  /* look-alike digits: circled, negative circled, keycap, Arabic-Indic, fullwidth */
  phone_is("\xE2\x91\xA3\xE2\x91\xA0\xE2\x91\xA4 \xE2\x9D\xBA\xE2\x9D\xBA\xE2\x9D\xBA 0199", "+14155550199", 1);
  phone_is("4\xEF\xB8\x8F\xE2\x83\xA3" "1\xEF\xB8\x8F\xE2\x83\xA3" "5\xEF\xB8\x8F\xE2\x83\xA3 555 0199", "+14155550199", 1);
  phone_is("\xD9\xA4\xD9\xA1\xD9\xA5\xD9\xA5\xD9\xA5\xD9\xA5\xD9\xA0\xD9\xA1\xD9\xA9\xD9\xA9", "+14155550199", 1);
  phone_is("\xEF\xBC\x94\xEF\xBC\x91\xEF\xBC\x95-555-0199", "+14155550199", 1);
  phone_is("415\xF0\x9F\x8D\x92" "555\xF0\x9F\x8D\x92" "0199", "+14155550199", 1);
}

static void test_not_phones(void **state) {
  (void)state;
  const char *texts[] = {
      "$200 for 1 hr, $150 hh, 5'6 130 lbs, 36-24-36, available 24/7",
      "born 02/14/1998, here 10:30pm to 4:15am, 2018-02-14",
      "i'm 22 years old, 5'10\" 140lbs, 34DD, 100% real, 1000 roses",
      "call me at *8284323547295836",
      "i'm going to the store for two hours, one of a kind, someone new",
      "rates 100/200/300 400hr 600 overnight",
      "123-456-7890",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    run(texts[i]);
    if (count(VIGIL_CONTACT_PHONE)) printf("false phone %s in '%s'\n", C.v[0].value, texts[i]);
    assert_int_equal(count(VIGIL_CONTACT_PHONE), 0);
  }
}

static void test_emails(void **state) {
  (void)state;
  run("Email: Jane.Doe@Yahoo.com for screening");
  const vigil_contact *c = find(VIGIL_CONTACT_EMAIL, "jane.doe@yahoo.com");
  assert_non_null(c);
  assert_int_equal(c->obfuscated, 0);
  run("write me janedoe88 at gmail dot com");
  c = find(VIGIL_CONTACT_EMAIL, "janedoe88@gmail.com");
  assert_non_null(c);
  assert_int_equal(c->obfuscated, 1);
  run("candy(at)hotmail(dot)com");
  assert_non_null(find(VIGIL_CONTACT_EMAIL, "candy@hotmail.com"));
  run("meet me at the park at noon");
  assert_int_equal(count(VIGIL_CONTACT_EMAIL), 0);
}

static void test_handles_urls(void **state) {
  (void)state;
  run("Snap: sweetkitty22 | kik me @ honeybee_x | IG @ you.neek");
  assert_non_null(find(VIGIL_CONTACT_HANDLE, "sweetkitty22"));
  assert_string_equal(find(VIGIL_CONTACT_HANDLE, "sweetkitty22")->platform, "snapchat");
  assert_string_equal(find(VIGIL_CONTACT_HANDLE, "honeybee_x")->platform, "kik");
  assert_string_equal(find(VIGIL_CONTACT_HANDLE, "you.neek")->platform, "instagram");
  run("telegram: @velvetrose, cashapp $luckyme, venmo @luckyme2");
  assert_string_equal(find(VIGIL_CONTACT_HANDLE, "velvetrose")->platform, "telegram");
  assert_string_equal(find(VIGIL_CONTACT_HANDLE, "luckyme")->platform, "cashapp");
  assert_string_equal(find(VIGIL_CONTACT_HANDLE, "luckyme2")->platform, "venmo");
  run("see onlyfans.com/candyrain and https://example.com/me?x=1.");
  assert_non_null(find(VIGIL_CONTACT_URL, "onlyfans.com/candyrain"));
  assert_string_equal(find(VIGIL_CONTACT_HANDLE, "candyrain")->platform, "onlyfans");
  assert_non_null(find(VIGIL_CONTACT_URL, "https://example.com/me?x=1"));
  run("Follow me on Instagram Elite and Twitter feed");
  assert_int_equal(count(VIGIL_CONTACT_HANDLE), 0);
}

static int setup(void **state) {
  (void)state;
  vigil_text_init(&T);
  memset(&C, 0, sizeof C);
  return 0;
}
static int teardown(void **state) {
  (void)state;
  vigil_text_free(&T);
  vigil_contacts_free(&C);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_phones), cmocka_unit_test(test_obfuscated_phones),
      cmocka_unit_test(test_not_phones),   cmocka_unit_test(test_emails),
      cmocka_unit_test(test_handles_urls),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
