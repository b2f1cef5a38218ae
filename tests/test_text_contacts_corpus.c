/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_text_contacts_corpus.c - precision and recall of contact extraction
 * on real ads (needs ../shared; skipped with 77 without it).
 *
 *  1. corpora/ads/phones_obfuscated.tsv: each row's text against its
 *     expected digit strings (space-separated; empty = no phone).  Compared
 *     on the digits as written (so "1*574*302*8442" must give 15743028442).
 *  2. tests/fixtures/backpage_contacts_labels.tsv: 110 Backpage ads labelled
 *     by hand (phones as E.164, other contacts as type:value); the ad text
 *     is read from corpora/ads/backpage_ca_2018.jsonl (title, newline, body).
 * Both must reach precision and recall >= 0.97.  Every miss and false
 * positive is printed so a regression is easy to read.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/text.h"

typedef struct counts {
  int tp, fp, fn;
} counts;

static void report(const char *what, const counts *c, double *p, double *r) {
  *p = c->tp + c->fp ? (double)c->tp / (c->tp + c->fp) : 1.0;
  *r = c->tp + c->fn ? (double)c->tp / (c->tp + c->fn) : 1.0;
  printf("%s: tp=%d fp=%d fn=%d precision=%.3f recall=%.3f\n", what, c->tp, c->fp, c->fn, *p, *r);
}

/* Is tok one of the space/comma separated words of list? */
static int in_set(const char *list, const char *tok, char sep) {
  size_t k = strlen(tok);
  const char *p = list;
  while (p && *p) {
    const char *e = strchr(p, sep);
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == k && !memcmp(p, tok, k)) return 1;
    p = e ? e + 1 : NULL;
  }
  return 0;
}

static void test_obfuscated_tsv(void **state) {
  (void)state;
  char path[4096];
  if (!tu_shared("corpora/ads/phones_obfuscated.tsv", path, sizeof path)) skip();
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[8192];
  counts c = {0, 0, 0};
  vigil_text t;
  vigil_text_init(&t);
  int first = 1, rows = 0;
  while (fgets(line, sizeof line, f)) {
    if (first) { /* header */
      first = 0;
      continue;
    }
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    char *tab = strrchr(line, '\t');
    if (!tab) continue;
    *tab = 0;
    const char *expected = tab + 1;
    rows++;
    vigil_contacts got = {0};
    assert_int_equal(vigil_text_normalize(&t, line, strlen(line), 0, NULL), VIGIL_OK);
    assert_int_equal(vigil_contacts_extract(&t, &got, NULL), VIGIL_OK);
    char found[1024] = "";
    for (size_t i = 0; i < got.n; i++) {
      if (got.v[i].type != VIGIL_CONTACT_PHONE) continue;
      if (in_set(found, got.v[i].digits, ' ')) continue;
      if (in_set(expected, got.v[i].digits, ' ')) c.tp++;
      else {
        c.fp++;
        printf("false phone %s in: %s\n", got.v[i].digits, line);
      }
      strncat(found, got.v[i].digits, sizeof found - strlen(found) - 2);
      strcat(found, " ");
    }
    char exp[512];
    snprintf(exp, sizeof exp, "%s", expected);
    for (char *tok = strtok(exp, " "); tok; tok = strtok(NULL, " "))
      if (!in_set(found, tok, ' ')) {
        c.fn++;
        printf("missed %s in: %s\n", tok, line);
      }
    vigil_contacts_free(&got);
  }
  fclose(f);
  vigil_text_free(&t);
  double p, r;
  printf("phones_obfuscated.tsv: %d rows\n", rows);
  report("phones_obfuscated.tsv digits", &c, &p, &r);
  assert_true(rows >= 40);
  assert_true(p >= 0.97);
  assert_true(r >= 0.97);
}

typedef struct label {
  char id[32];
  char phones[256];
  char other[512];
  int seen;
} label;

static void test_backpage_labels(void **state) {
  (void)state;
  char path[4096];
  if (!tu_shared("corpora/ads/backpage_ca_2018.jsonl", path, sizeof path)) skip();
  FILE *lf = fopen(VIGIL_SOURCE_DIR "/tests/fixtures/backpage_contacts_labels.tsv", "r");
  assert_non_null(lf);
  label *labels = calloc(200, sizeof *labels);
  assert_non_null(labels);
  size_t nl = 0;
  char line[1 << 16];
  while (fgets(line, sizeof line, lf) && nl < 200) {
    if (line[0] == '#') continue;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    char *a = strchr(line, '\t');
    if (!a) continue;
    *a++ = 0;
    char *b = strchr(a, '\t');
    if (b) *b++ = 0;
    snprintf(labels[nl].id, sizeof labels[nl].id, "%s", line);
    snprintf(labels[nl].phones, sizeof labels[nl].phones, "%s", a);
    snprintf(labels[nl].other, sizeof labels[nl].other, "%s", b ? b : "");
    nl++;
  }
  fclose(lf);
  assert_true(nl >= 100);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  counts ph = {0, 0, 0}, ot = {0, 0, 0};
  vigil_text t;
  vigil_text_init(&t);
  char *buf = malloc(1 << 20);
  assert_non_null(buf);
  while (fgets(line, sizeof line, f)) {
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    if (!o) continue;
    const char *id = json_string_value(json_object_get(o, "id"));
    label *L = NULL;
    for (size_t i = 0; id && i < nl; i++)
      if (!strcmp(labels[i].id, id)) L = &labels[i];
    if (!L) {
      json_decref(o);
      continue;
    }
    L->seen = 1;
    const char *title = json_string_value(json_object_get(o, "title"));
    const char *body = json_string_value(json_object_get(o, "body"));
    snprintf(buf, 1 << 20, "%s\n%s", title ? title : "", body ? body : "");
    vigil_contacts got = {0};
    assert_int_equal(vigil_text_normalize(&t, buf, strlen(buf), 0, NULL), VIGIL_OK);
    assert_int_equal(vigil_contacts_extract(&t, &got, NULL), VIGIL_OK);
    int nphone_found = 0;
    for (size_t i = 0; i < got.n; i++) {
      const vigil_contact *c = &got.v[i];
      if (c->type == VIGIL_CONTACT_PHONE) {
        nphone_found++;
        if (in_set(L->phones, c->value, ',')) ph.tp++;
        else {
          ph.fp++;
          printf("%s: false phone %s (%.*s)\n", id, c->value, (int)(c->span.end - c->span.start),
                 buf + c->span.start);
        }
      } else {
        char tv[200];
        snprintf(tv, sizeof tv, "%s:%s", vigil_contact_type_name(c->type), c->value);
        if (c->type == VIGIL_CONTACT_HANDLE) continue; /* handles derived from URLs are not labelled */
        if (in_set(L->other, tv, ',')) ot.tp++;
        else {
          ot.fp++;
          printf("%s: false contact %s\n", id, tv);
        }
      }
    }
    /* misses */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s", L->phones);
    for (char *tok = strtok(tmp, ","); tok; tok = strtok(NULL, ",")) {
      int hit = 0;
      for (size_t i = 0; i < got.n; i++)
        if (got.v[i].type == VIGIL_CONTACT_PHONE && !strcmp(got.v[i].value, tok)) hit = 1;
      if (!hit) {
        ph.fn++;
        printf("%s: missed phone %s\n", id, tok);
      }
    }
    snprintf(tmp, sizeof tmp, "%s", L->other);
    for (char *tok = strtok(tmp, ","); tok; tok = strtok(NULL, ",")) {
      int hit = 0;
      for (size_t i = 0; i < got.n; i++) {
        char tv[200];
        snprintf(tv, sizeof tv, "%s:%s", vigil_contact_type_name(got.v[i].type), got.v[i].value);
        if (!strcmp(tv, tok)) hit = 1;
      }
      if (!hit) {
        ot.fn++;
        printf("%s: missed contact %s\n", id, tok);
      }
    }
    (void)nphone_found;
    vigil_contacts_free(&got);
    json_decref(o);
  }
  fclose(f);
  free(buf);
  vigil_text_free(&t);
  size_t seen = 0;
  for (size_t i = 0; i < nl; i++) seen += labels[i].seen;
  free(labels);
  printf("backpage sample: %zu labelled ads, %zu found in the corpus\n", nl, seen);
  double p, r, p2, r2;
  report("backpage phones (E.164)", &ph, &p, &r);
  report("backpage e-mails and URLs", &ot, &p2, &r2);
  assert_int_equal(seen, nl);
  assert_true(p >= 0.97);
  assert_true(r >= 0.97);
}

static int same_results(const vigil_contacts *a, const vigil_ages *ag, const vigil_ad_result *r) {
  if (a->n != r->contacts.n || ag->n != r->ages.n) return 0;
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].type != r->contacts.v[i].type || strcmp(a->v[i].value, r->contacts.v[i].value) ||
        a->v[i].span.start != r->contacts.v[i].span.start || a->v[i].span.end != r->contacts.v[i].span.end ||
        a->v[i].obfuscated != r->contacts.v[i].obfuscated)
      return 0;
  for (size_t i = 0; i < ag->n; i++)
    if (ag->v[i].years != r->ages.v[i].years || ag->v[i].span.start != r->ages.v[i].span.start) return 0;
  return 1;
}

/* vigil_ad_scan() extracts contacts and ages only around cue positions
 * found by Hyperscan; on every ad of the corpus that must give exactly what
 * the full scans give. */
static void test_cued_equals_full_scan(void **state) {
  (void)state;
  char path[4096];
  if (!tu_shared("corpora/ads/backpage_ca_2018.jsonl", path, sizeof path)) skip();
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  vigil_ad_scanner *sc;
  vigil_ad_scratch *x;
  assert_int_equal(vigil_ad_scanner_new(&sc, NULL), VIGIL_OK);
  assert_int_equal(vigil_ad_scratch_new(sc, &x, NULL), VIGIL_OK);
  vigil_ad_result r;
  vigil_ad_result_init(&r);
  vigil_text t;
  vigil_text_init(&t);
  static char line[1 << 16], buf[1 << 16];
  int ads = 0, differ = 0;
  while (fgets(line, sizeof line, f)) {
    json_t *o = json_loads(line, 0, NULL);
    if (!o) continue;
    const char *ti = json_string_value(json_object_get(o, "title")), *bo = json_string_value(json_object_get(o, "body"));
    snprintf(buf, sizeof buf, "%s\n%s", ti ? ti : "", bo ? bo : "");
    assert_int_equal(vigil_text_normalize(&t, buf, strlen(buf), 0, NULL), VIGIL_OK);
    vigil_contacts c = {0};
    vigil_ages a = {0};
    assert_int_equal(vigil_contacts_extract(&t, &c, NULL), VIGIL_OK);
    assert_int_equal(vigil_ages_extract(&t, &a, NULL), VIGIL_OK);
    assert_int_equal(vigil_ad_scan(sc, x, &t, &r, NULL), VIGIL_OK);
    if (!same_results(&c, &a, &r)) {
      differ++;
      if (differ < 10) printf("cued scan differs on %s\n", json_string_value(json_object_get(o, "id")));
    }
    ads++;
    vigil_contacts_free(&c);
    vigil_ages_free(&a);
    json_decref(o);
  }
  fclose(f);
  printf("cued vs full scan: %d ads, %d differ\n", ads, differ);
  vigil_text_free(&t);
  vigil_ad_result_free(&r);
  vigil_ad_scratch_free(x);
  vigil_ad_scanner_free(sc);
  assert_int_equal(differ, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_obfuscated_tsv),
      cmocka_unit_test(test_backpage_labels),
      cmocka_unit_test(test_cued_equals_full_scan),
  };
  char path[4096];
  if (!tu_shared("corpora/ads", path, sizeof path)) return 77;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
