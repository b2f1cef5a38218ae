/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_text_phones_intl.c - phone numbers outside North America.
 *
 *  1. tests/fixtures/intl_phone_ads.tsv: 200 ad-like lines from 20
 *     countries (170 with phones, 30 with only false-phone families),
 *     labelled with the expected E.164 numbers.  Each line is extracted
 *     twice, by vigil_contacts_extract_region() and by vigil_ad_scan()
 *     (the cue-driven path) with the line's country as default region;
 *     both must agree and reach precision and recall >= 0.97.
 *  2. The false-phone families (repeated ages, dates, prices, heights,
 *     weights, times, post codes) in several regions, one by one: no
 *     phone, while the same text with a real number gives exactly it.
 *  3. North America unchanged: without a region, or with US, a national
 *     number of another plan is not read, and NANP numbers are as before.
 * Needs nothing outside the tree.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/text.h"

static vigil_ad_scanner *sc;
static vigil_ad_scratch *scr;

static int setup(void **state) {
  (void)state;
  return vigil_ad_scanner_new(&sc, NULL) == VIGIL_OK && vigil_ad_scratch_new(sc, &scr, NULL) == VIGIL_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  vigil_ad_scratch_free(scr);
  vigil_ad_scanner_free(sc);
  return 0;
}

/* Phones of text as a space-separated list of values, in order. */
static void phones(const char *text, const char *region, int via_ads, char *out, size_t cap) {
  vigil_text t;
  vigil_text_init(&t);
  assert_int_equal(vigil_text_normalize(&t, text, strlen(text), 0, NULL), VIGIL_OK);
  vigil_contacts c = {0};
  vigil_ad_result r;
  vigil_ad_result_init(&r);
  const vigil_contacts *got = &c;
  if (via_ads) {
    assert_int_equal(vigil_ad_scratch_set_region(scr, region, NULL), VIGIL_OK);
    assert_int_equal(vigil_ad_scan(sc, scr, &t, &r, NULL), VIGIL_OK);
    assert_int_equal(vigil_ad_scratch_set_region(scr, NULL, NULL), VIGIL_OK);
    got = &r.contacts;
  } else {
    assert_int_equal(vigil_contacts_extract_region(&t, region, &c, NULL), VIGIL_OK);
  }
  out[0] = 0;
  size_t n = 0;
  for (size_t i = 0; i < got->n; i++) {
    if (got->v[i].type != VIGIL_CONTACT_PHONE) continue;
    n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", got->v[i].value);
  }
  vigil_contacts_free(&c);
  vigil_ad_result_free(&r);
  vigil_text_free(&t);
}

static int in_list(const char *list, const char *tok) {
  size_t k = strlen(tok);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ' ');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == k && !memcmp(p, tok, k)) return 1;
    p = e ? e + 1 : NULL;
  }
  return 0;
}

static void test_labelled_set(void **state) {
  (void)state;
  FILE *f = fopen(VIGIL_SOURCE_DIR "/tests/fixtures/intl_phone_ads.tsv", "r");
  assert_non_null(f);
  char line[4096], got[1024], got2[1024];
  int tp = 0, fp = 0, fn = 0, rows = 0, with_phone = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    line[strcspn(line, "\n")] = 0;
    char *t1 = strchr(line, '\t');
    assert_non_null(t1);
    char *t2 = strchr(t1 + 1, '\t');
    assert_non_null(t2);
    *t1 = *t2 = 0;
    const char *region = line[0] ? line : NULL, *expect = t1 + 1, *text = t2 + 1;
    rows++;
    with_phone += *expect != 0;
    phones(text, region, 0, got, sizeof got);
    phones(text, region, 1, got2, sizeof got2);
    assert_string_equal(got, got2);
    for (char *p = got; *p;) {
      char *e = strchr(p, ' ');
      if (e) *e = 0;
      if (in_list(expect, p)) tp++;
      else {
        fp++;
        printf("FP %s: %s in \"%s\"\n", region ? region : "--", p, text);
      }
      if (!e) break;
      *e = ' ';
      p = e + 1;
    }
    phones(text, region, 0, got, sizeof got);
    for (const char *p = expect; *p;) {
      const char *e = strchr(p, ' ');
      size_t l = e ? (size_t)(e - p) : strlen(p);
      char tok[64];
      snprintf(tok, sizeof tok, "%.*s", (int)l, p);
      if (!in_list(got, tok)) {
        fn++;
        printf("FN %s: %s in \"%s\"\n", region ? region : "--", tok, text);
      }
      p = e ? e + 1 : p + l;
    }
  }
  fclose(f);
  double prec = tp + fp ? (double)tp / (tp + fp) : 1, rec = tp + fn ? (double)tp / (tp + fn) : 1;
  printf("international ads: %d rows (%d with phones): tp=%d fp=%d fn=%d precision=%.3f recall=%.3f\n", rows,
         with_phone, tp, fp, fn, prec, rec);
  assert_true(rows >= 200);
  assert_true(with_phone >= 150);
  assert_true(prec >= 0.97);
  assert_true(rec >= 0.97);
}

typedef struct fam {
  const char *region, *noise;
} fam;

/* Each family, in several regions: no phone, and a real number next to it
 * is read alone and exactly. */
static const fam families[] = {
    {"GB", "23 23 23 23 23"},        {"FR", "22 22 22 22 22"},          {"DE", "21 21 21 21 21 21"},
    {"IN", "2016 06 17 - 21"},       {"GB", "2016 06 17 - 21"},         {"FR", "17 06 2016"},
    {"BR", "17 06 2016 20 30"},      {"GB", "£150 30min £250 1h"},      {"FR", "150€ 30min 250€ 1h"},
    {"DE", "150 € 30 min 250 € 1h"}, {"IN", "Rs 5000 2 hrs"},           {"FR", "1.65 m 55 kg"},
    {"DE", "168 cm 55 kg 90 60 90"}, {"GB", "5'6 and 8 st"},            {"ES", "10:00 - 22:30"},
    {"FR", "10h-22h 7/7"},           {"DE", "10115 Berlin 10117"},      {"FR", "75008 Paris 75016"},
    {"NL", "1012 AB Amsterdam"},     {"IT", "20121 Milano 20122"},      {"AU", "2000 NSW 2010"},
    {"IN", "400001 400002"},         {"US", "2016 06 17 - 21"},         {"US", "23 23 23 23 23"},
};

static void test_false_phone_families(void **state) {
  (void)state;
  static const struct {
    const char *region, *number, *e164;
  } real[] = {{"GB", "07440 566047", "+447440566047"},  {"FR", "06 12 34 56 78", "+33612345678"},
              {"DE", "0151 23456789", "+4915123456789"}, {"IN", "098201 23456", "+919820123456"},
              {"BR", "(11) 96123-4567", "+5511961234567"}, {"ES", "612 345 678", "+34612345678"},
              {"NL", "06-12345678", "+31612345678"},     {"IT", "347 123 4567", "+393471234567"},
              {"AU", "0412 345 678", "+61412345678"},    {"US", "213 555 0147", "+12135550147"}};
  char buf[512], got[512];
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
    const fam *x = &families[i];
    snprintf(buf, sizeof buf, "Lina, new in town, %s, ask me", x->noise);
    phones(buf, x->region, 0, got, sizeof got);
    printf("%s %-28s -> [%s]\n", x->region, x->noise, got);
    assert_string_equal(got, "");
    for (size_t k = 0; k < sizeof real / sizeof real[0]; k++) {
      if (strcmp(real[k].region, x->region)) continue;
      snprintf(buf, sizeof buf, "Lina, %s, call %s now", x->noise, real[k].number);
      phones(buf, x->region, 0, got, sizeof got);
      assert_string_equal(got, real[k].e164);
    }
  }
}

static void test_north_america_unchanged(void **state) {
  (void)state;
  char got[512];
  phones("call 07440 566047", NULL, 0, got, sizeof got); /* a UK number needs a region */
  assert_string_equal(got, "");
  phones("call 07440 566047", "US", 0, got, sizeof got);
  assert_string_equal(got, "");
  phones("call 310 555 1212 or 1-800-555-0199", NULL, 0, got, sizeof got);
  assert_string_equal(got, "+13105551212 +18005550199");
  phones("call 310 555 1212", "GB", 0, got, sizeof got); /* NANP still read abroad */
  assert_string_equal(got, "+13105551212");
  phones("+44 7440 566047", NULL, 0, got, sizeof got); /* '+' numbers need no region */
  assert_string_equal(got, "+447440566047");
  phones("+44 1234", NULL, 0, got, sizeof got);
  assert_string_equal(got, "");
  /* possible but not valid for its plan: kept, marked */
  vigil_text t;
  vigil_text_init(&t);
  const char *s = "+44 7440 566047 and 0044 1632 960001";
  assert_int_equal(vigil_text_normalize(&t, s, strlen(s), 0, NULL), VIGIL_OK);
  vigil_contacts c = {0};
  assert_int_equal(vigil_contacts_extract_region(&t, "gb", &c, NULL), VIGIL_OK);
  assert_int_equal(c.n, 1);
  assert_true(c.v[0].e164_valid);
  vigil_contacts_free(&c);
  vigil_error err;
  assert_int_equal(vigil_contacts_extract_region(&t, "XX", &c, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "XX"));
  assert_int_equal(vigil_contacts_extract_region(&t, "GBR", &c, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_ad_scratch_set_region(scr, "1A", &err), VIGIL_EINVAL);
  vigil_text_free(&t);
}

/* A page of digits costs a bounded number of plan look-ups, and the
 * number written first is still read. */
static void test_hostile_digits(void **state) {
  (void)state;
  size_t n = 200000;
  char *buf = malloc(n + 64);
  assert_non_null(buf);
  size_t k = (size_t)snprintf(buf, 64, "call 07440 566047 ");
  uint64_t rs = 7;
  while (k + 2 < n) {
    buf[k++] = (char)('0' + tu_rand(&rs) % 10);
    buf[k++] = ' ';
  }
  buf[k] = 0;
  vigil_text t;
  vigil_text_init(&t);
  assert_int_equal(vigil_text_normalize(&t, buf, k, 0, NULL), VIGIL_OK);
  vigil_contacts c = {0};
  assert_int_equal(vigil_contacts_extract_region(&t, "GB", &c, NULL), VIGIL_OK);
  assert_true(c.n >= 1);
  assert_string_equal(c.v[0].value, "+447440566047");
  vigil_contacts_free(&c);
  vigil_text_free(&t);
  free(buf);
}

static void test_json_region(void **state) {
  (void)state;
  char *out = NULL;
  const char *rec = "{\"id\":7,\"text\":\"tel 07440 566047\",\"country\":\"GB\"}";
  assert_int_equal(vigil_text_scan_json(sc, scr, rec, strlen(rec), VIGIL_SCAN_AD, &out, NULL), VIGIL_OK);
  assert_non_null(strstr(out, "\"+447440566047\""));
  assert_non_null(strstr(out, "\"region\":\"GB\""));
  free(out);
  const char *rec2 = "{\"text\":\"tel 06 12 34 56 78\"}";
  assert_int_equal(vigil_text_scan_json_region(sc, scr, rec2, strlen(rec2), VIGIL_SCAN_CONTACTS, "fr", &out, NULL),
                   VIGIL_OK);
  assert_non_null(strstr(out, "\"+33612345678\""));
  free(out);
  assert_int_equal(vigil_text_scan_json(sc, scr, rec2, strlen(rec2), VIGIL_SCAN_CONTACTS, &out, NULL), VIGIL_OK);
  assert_null(strstr(out, "+33"));
  free(out);
  vigil_error err;
  assert_int_equal(vigil_text_scan_json_region(sc, scr, rec2, strlen(rec2), VIGIL_SCAN_AD, "ZZZ", &out, &err),
                   VIGIL_EINVAL);
  assert_null(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_labelled_set), cmocka_unit_test(test_false_phone_families),
                                     cmocka_unit_test(test_north_america_unchanged), cmocka_unit_test(test_hostile_digits),
                                     cmocka_unit_test(test_json_region)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
