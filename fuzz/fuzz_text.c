/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_text.c - every text layer on hostile input: normalisation (strict
 * and lenient), the offset map invariants, contacts, ages and the ad scan.
 *
 * The input is used twice: as raw bytes (so image seeds and noise test the
 * UTF-8 handling), and decoded as a sequence of tokens from a small
 * alphabet of the things the scanners look for (digits, number words, "at",
 * "dot", look-alike digits, keycaps, emoji, separators) so that mutations
 * reach deep into phone, e-mail and age parsing.  Any invariant broken
 * aborts, which the replay driver and libFuzzer report.  The first byte
 * picks a default region for national phone numbers (or none), and the
 * cue-driven ad scan must agree with the full extraction under it too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/text.h"

static const char *const alphabet[] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", " ", "-", ".", "*", "(", ")", "+", "@", "$", "'", "\"",
    "/", ":", "\n", "one", "two", "oh", "o", "to", "for", "twenty", "six", "hundred", "th0usand", "at", "dot",
    "gmail", "com", "snap", "kik", "@", "http://", "www.", "age", "yo", "im ", "years old", " - ", "no ", "bb",
    "young", "her ", "\xE2\x91\xA0", "\xE2\x9D\xB6", "3\xEF\xB8\x8F\xE2\x83\xA3", "\xD9\xA3", "\xEF\xBC\x94",
    "\xF0\x9F\x8D\x92", "\xF0\x9F\x91\x91", "\xF0\x9F\x9A\xAB", "\xCC\x81", "\xE2\x80\x8B", "\xD0\xBE", "\xFF",
    "\xC3", "l", "i", "lbs", "$", "hh", "roses", "\xEF\xB7\xBA", "onlyfans.com/", "t.me/", "cash app", "(at)",
    "tonight", "someone", "for", "ten", "\xE2\x82\xAC", "\xC2\xA3", "00", "0", "h", "m", "kg", "90 60 90",
    "2016 06 17"};

/* Default regions of national phone numbers tried (NULL: North America). */
static const char *const regions[] = {NULL, "GB", "FR", "DE", "IN", "BR", "RU", "US"};

#define RAW_MAX 256
#define TOKENS_MAX 96

static vigil_ad_scanner *scanner;
static vigil_ad_scratch *scratch;

static void check(const char *s, size_t n, const char *region) {
  vigil_text t;
  vigil_text_init(&t);
  if (vigil_utf8_check(s, n, NULL) != VIGIL_OK && vigil_text_normalize(&t, s, n, VIGIL_TEXT_STRICT, NULL) == VIGIL_OK)
    abort(); /* strict mode must refuse what the checker refuses */
  if (vigil_text_normalize(&t, s, n, 0, NULL) != VIGIL_OK) abort();
  for (size_t i = 0; i < t.len; i++) {
    if (t.src_start[i] > t.src_end[i] || t.src_end[i] > n) abort();
    if (i && (t.src_start[i] < t.src_start[i - 1] || t.src_end[i] < t.src_end[i - 1])) abort();
  }
  if (t.match[t.len] || t.lex[t.len]) abort();
  vigil_ad_result r;
  vigil_ad_result_init(&r);
  if (scanner && scratch) {
    if (vigil_ad_scratch_set_region(scratch, region, NULL) != VIGIL_OK) abort();
    if (vigil_ad_scan(scanner, scratch, &t, &r, NULL) != VIGIL_OK) abort();
    if (!(r.risk >= 0.0 && r.risk <= 1.0)) abort();
    for (size_t i = 0; i < r.nhits; i++)
      if (r.hits[i].span.start > r.hits[i].span.end || r.hits[i].span.end > n) abort();
    for (size_t i = 0; i < r.contacts.n; i++)
      if (r.contacts.v[i].span.end > n || !memchr(r.contacts.v[i].value, 0, sizeof r.contacts.v[i].value)) abort();
    /* the ad scan's cue-driven extraction must equal the full scans */
    vigil_contacts c = {0};
    vigil_ages a = {0};
    if (vigil_contacts_extract_region(&t, region, &c, NULL) != VIGIL_OK || vigil_ages_extract(&t, &a, NULL) != VIGIL_OK)
      abort();
    if (c.n != r.contacts.n || a.n != r.ages.n) abort();
    for (size_t i = 0; i < c.n; i++)
      if (strcmp(c.v[i].value, r.contacts.v[i].value) || c.v[i].span.start != r.contacts.v[i].span.start) abort();
    for (size_t i = 0; i < a.n; i++)
      if (a.v[i].years != r.ages.v[i].years || a.v[i].span.start != r.ages.v[i].span.start) abort();
    vigil_contacts_free(&c);
    vigil_ages_free(&a);
  }
  vigil_ad_result_free(&r);
  vigil_text_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!scanner) {
    if (vigil_ad_scanner_new(&scanner, NULL) != VIGIL_OK) abort();
    if (vigil_ad_scratch_new(scanner, &scratch, NULL) != VIGIL_OK) abort();
  }
  /* records are small; the replay driver's image seeds are not: look at
   * the first RAW_MAX bytes so each run stays fast under sanitizers */
  if (size > RAW_MAX) size = RAW_MAX;
  const char *region = size ? regions[data[0] % (sizeof regions / sizeof regions[0])] : NULL;
  check((const char *)data, size, region);
  if (size > TOKENS_MAX) size = TOKENS_MAX;
  size_t na = sizeof alphabet / sizeof alphabet[0], cap = size * 8 + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) return 0;
  for (size_t i = 0; i < size; i++) {
    const char *a = alphabet[data[i] % na];
    size_t k = strlen(a);
    if (n + k >= cap) break;
    memcpy(buf + n, a, k);
    n += k;
  }
  check(buf, n, region);
  free(buf);
  return 0;
}
