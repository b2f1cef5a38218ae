/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_text_normalize.c - the normalisation views and their offset map.
 *
 * Unit cases for each folding (NFKC, case, confusables, digits of every
 * script, keycaps, leetspeak, ignorables, marks), then property tests:
 * random bytes and random code points must never crash and must keep the
 * map invariants (spans in range, non-decreasing, lex as long as match),
 * and a unit repeated many times in one text normalises as it does alone.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "vigil/text.h"

static vigil_text T;

static const char *norm(const char *s) {
  assert_int_equal(vigil_text_normalize(&T, s, strlen(s), 0, NULL), VIGIL_OK);
  return T.match;
}

static void test_ascii_and_map(void **state) {
  (void)state;
  assert_string_equal(norm("Call ME Now"), "call me now");
  assert_int_equal(T.len, 11);
  for (size_t i = 0; i < T.len; i++) {
    assert_int_equal(T.src_start[i], i);
    assert_int_equal(T.src_end[i], i + 1);
  }
  assert_string_equal(T.lex, "call me now");
  assert_int_equal(T.flags, 0);
}

static void test_invalid_utf8(void **state) {
  (void)state;
  const char bad[] = "ok\xC3\x28 \xFF\xFE end\xE2\x82";
  vigil_error err;
  assert_int_equal(vigil_text_normalize(&T, bad, sizeof bad - 1, VIGIL_TEXT_STRICT, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "invalid UTF-8 at byte 2"));
  size_t at = 0;
  assert_int_equal(vigil_utf8_check(bad, sizeof bad - 1, &at), VIGIL_EINVAL);
  assert_int_equal(at, 2);
  assert_int_equal(vigil_text_normalize(&T, bad, sizeof bad - 1, 0, NULL), VIGIL_OK);
  assert_true(T.flags & VIGIL_TEXT_REPLACED);
  assert_memory_equal(T.match, "ok\xEF\xBF\xBD(", 6);
  /* the replacement char points at the single bad byte */
  vigil_span sp = vigil_text_span(&T, 2, 5);
  assert_int_equal(sp.start, 2);
  assert_int_equal(sp.end, 3);
  /* overlong encodings and surrogates are invalid too */
  assert_int_equal(vigil_utf8_check("\xC0\xAF", 2, NULL), VIGIL_EINVAL);
  assert_int_equal(vigil_utf8_check("\xED\xA0\x80", 3, NULL), VIGIL_EINVAL);
  assert_int_equal(vigil_utf8_check("h\xC3\xA9llo", 6, NULL), VIGIL_OK);
}

static void test_nfkc_case_confusables(void **state) {
  (void)state;
  assert_string_equal(norm("\xEF\xBD\x99\xEF\xBD\x8F\xEF\xBD\x95\xEF\xBD\x8E\xEF\xBD\x87"), "young"); /* fullwidth */
  assert_true(T.flags & VIGIL_TEXT_LOOKALIKE);
  /* mathematical bold "young" */
  assert_string_equal(norm("\xF0\x9D\x90\xB2\xF0\x9D\x90\xA8\xF0\x9D\x90\xAE\xF0\x9D\x90\xA7\xF0\x9D\x90\xA0"), "young");
  /* Cyrillic u, o: "уоung" */
  assert_string_equal(norm("\xD1\x83\xD0\xBEung"), "young");
  assert_true(T.flags & VIGIL_TEXT_LOOKALIKE);
  /* Greek omicron in "hοt", capital Cyrillic ЕСКОRT */
  assert_string_equal(norm("h\xCE\xBFt \xD0\x95\xD0\xA1\xD0\x9A\xD0\x9ERT"), "hot eckort");
  /* accents stripped, ligature expanded, German sharp s folded */
  assert_string_equal(norm("Ll\xC3\xA1mame \xEF\xAC\x81ne Stra\xC3\x9F" "e"), "llamame fine strasse");
  /* combining acute stays with its base: one unit, one span */
  assert_string_equal(norm("e\xCC\x81x"), "ex");
  vigil_span sp = vigil_text_span(&T, 0, 1);
  assert_int_equal(sp.start, 0);
  assert_int_equal(sp.end, 3);
  /* zero-width space and soft hyphen vanish */
  assert_string_equal(norm("te\xE2\x80\x8Bs\xC2\xADt"), "test");
}

static void test_digits_every_script(void **state) {
  (void)state;
  assert_string_equal(norm("\xD9\xA3\xD9\xA1\xD9\xA0"), "310"); /* Arabic-Indic */
  assert_true(T.flags & VIGIL_TEXT_ODD_DIGITS);
  assert_string_equal(norm("\xE0\xAB\xAD\xE0\xA5\xAA"), "74");               /* Gujarati 7, Devanagari 4 */
  assert_string_equal(norm("\xE2\x91\xA0\xE2\x91\xA1\xE2\x91\xA2"), "123"); /* ①②③ */
  assert_string_equal(norm("\xE2\x9D\xB6\xE2\x9E\x8B\xE2\x93\xB7\xE2\x93\xBF"), "1230"); /* ❶➋⓷⓿ */
  assert_string_equal(norm("3\xEF\xB8\x8F\xE2\x83\xA3" "1\xE2\x83\xA3"), "31");         /* keycaps */
  assert_string_equal(norm("\xEF\xBC\x94\xF0\x9D\x9F\x97"), "49");                        /* fullwidth 4, math 9 */
  assert_string_equal(norm("\xF0\x9F\x94\x9F"), "10");                                    /* keycap ten */
  /* each digit maps back to its own original bytes */
  norm("a\xD9\xA3" "b");
  vigil_span sp = vigil_text_span(&T, 1, 2);
  assert_int_equal(sp.start, 1);
  assert_int_equal(sp.end, 3);
}

static void test_leet_view(void **state) {
  (void)state;
  norm("Y0UNG t33n b@by 18yo $200 420 h0t!!");
  assert_string_equal(T.match, "y0ung t33n b@by 18yo $200 420 h0t!!");
  assert_string_equal(T.lex, "young teen baby 18yo $200 420 hot!!");
  assert_true(T.flags & VIGIL_TEXT_LEET);
  assert_int_equal(strlen(T.lex), T.len);
}

static void test_emoji_tokens(void **state) {
  (void)state;
  const char *s = "Hi \xF0\x9F\x8C\xB9 150 roses \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!";
  norm(s);
  size_t pos = 0;
  vigil_token tok;
  int types[8], nt = 0;
  while (nt < 8 && vigil_text_next_token(&T, &pos, &tok)) types[nt++] = tok.type;
  assert_int_equal(nt, 6);
  assert_int_equal(types[0], VIGIL_TOK_WORD);
  assert_int_equal(types[1], VIGIL_TOK_EMOJI);
  assert_int_equal(types[2], VIGIL_TOK_NUMBER);
  assert_int_equal(types[3], VIGIL_TOK_WORD);
  assert_int_equal(types[4], VIGIL_TOK_EMOJI); /* thumbs up with its skin tone */
  assert_int_equal(types[5], VIGIL_TOK_SYMBOL);
  assert_non_null(strstr(T.match, "\xF0\x9F\x8C\xB9"));
}

static void check_invariants(const char *s, size_t len) {
  vigil_text t;
  vigil_text_init(&t);
  assert_int_equal(vigil_text_normalize(&t, s, len, 0, NULL), VIGIL_OK);
  assert_int_equal(t.match[t.len], 0);
  assert_int_equal(t.lex[t.len], 0);
  for (size_t i = 0; i < t.len; i++) {
    assert_true(t.src_start[i] <= t.src_end[i]);
    assert_true(t.src_end[i] <= len);
    if (i) {
      assert_true(t.src_start[i - 1] <= t.src_start[i]);
      assert_true(t.src_end[i - 1] <= t.src_end[i]);
    }
  }
  int valid = vigil_utf8_check(s, len, NULL) == VIGIL_OK;
  assert_int_equal(valid, !(t.flags & VIGIL_TEXT_REPLACED));
  if (valid) assert_int_equal(vigil_utf8_check(t.match, t.len, NULL), VIGIL_OK);
  /* tokens stay inside the view and advance */
  size_t pos = 0, last = 0;
  vigil_token tok;
  while (vigil_text_next_token(&t, &pos, &tok)) {
    assert_true(tok.start >= last && tok.end > tok.start && tok.end <= t.len);
    last = tok.end;
  }
  vigil_contacts c = {0};
  assert_int_equal(vigil_contacts_extract(&t, &c, NULL), VIGIL_OK);
  for (size_t i = 0; i < c.n; i++) assert_true(c.v[i].span.start <= c.v[i].span.end && c.v[i].span.end <= len);
  vigil_contacts_free(&c);
  vigil_ages a = {0};
  assert_int_equal(vigil_ages_extract(&t, &a, NULL), VIGIL_OK);
  for (size_t i = 0; i < a.n; i++) assert_true(a.v[i].span.end <= len);
  vigil_ages_free(&a);
  vigil_text_free(&t);
}

static void test_property_random_bytes(void **state) {
  (void)state;
  uint64_t rng = 12345;
  char buf[600];
  for (int it = 0; it < 3000; it++) {
    size_t n = tu_rand(&rng) % sizeof buf;
    for (size_t i = 0; i < n; i++) {
      uint64_t r = tu_rand(&rng);
      /* bias towards digits, letters and lead bytes so the scanners run */
      buf[i] = (char)(r % 4 == 0 ? '0' + (r >> 8) % 10 : r % 4 == 1 ? 'a' + (r >> 8) % 26 : (r >> 8));
    }
    check_invariants(buf, n);
  }
}

static size_t put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) return o[0] = (char)cp, 1;
  if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), 2;
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 63)), o[2] = (char)(0x80 | (cp & 63));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 63)), o[2] = (char)(0x80 | ((cp >> 6) & 63));
  o[3] = (char)(0x80 | (cp & 63));
  return 4;
}

static void test_property_random_codepoints(void **state) {
  (void)state;
  uint64_t rng = 987654321;
  char buf[2400];
  static const uint32_t interesting[] = {0x0301, 0x20E3, 0xFE0F, 0x200D, 0x1F3FD, 0xFDFA, 0x0663, 0x2776, 0x24FF,
                                         0x1D7CE, 0xFF10, 0x0430, 0x03BF, 0x1F339, 0x1F51F, 0x00DF, 0x0345, 0x1100};
  for (int it = 0; it < 3000; it++) {
    size_t n = 0, k = tu_rand(&rng) % 200;
    for (size_t i = 0; i < k; i++) {
      uint64_t r = tu_rand(&rng);
      uint32_t cp;
      switch (r % 4) {
      case 0: cp = interesting[(r >> 8) % (sizeof interesting / sizeof interesting[0])]; break;
      case 1: cp = 0x20 + (uint32_t)((r >> 8) % 0x5F); break;
      case 2: cp = (uint32_t)((r >> 8) % 0x3000); break;
      default: cp = (uint32_t)((r >> 8) % 0x110000); break;
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
      n += put_utf8(buf + n, cp);
    }
    check_invariants(buf, n);
  }
  /* a base with a thousand combining marks */
  size_t n = 0;
  buf[n++] = 'a';
  while (n + 2 < sizeof buf) n += put_utf8(buf + n, 0x0301);
  check_invariants(buf, n);
}

/* A unit normalises the same wherever it appears and however often: the
 * normaliser remembers short units within a text, so a text of repeated
 * pieces must give each piece's own normalisation, flags and spans. */
static void test_units_repeat(void **state) {
  (void)state;
  static const uint32_t starters[] = {0x1F48B, 0x2764, 0x25AC, 0x0430, 0x03BF, 0x2460, 0x2776, 0xFF21, 0x0663,
                                      0xFDFA,  0x00C9, 0x1D41A, 0x2002, 0x4E2D, 'A',   '7',    0x00DF, 0x1F51F};
  /* U+0345 case-folds to a letter: a unit with it differs from its base alone */
  static const uint32_t marks[] = {0, 0, 0x0301, 0xFE0F, 0x20E3, 0x0345};
  uint64_t rng = 4242;
  char buf[4000];
  size_t pstart[200], pend[200];
  vigil_text one;
  vigil_text_init(&one);
  const size_t nstarters = sizeof starters / sizeof starters[0];
  for (int it = 0; it < 300; it++) {
    /* a few starters per text, so that a flag one of them raises is not
     * always raised by another piece too */
    size_t n = 0, np = 1 + tu_rand(&rng) % 150, first = tu_rand(&rng) % nstarters, few = 1 + tu_rand(&rng) % 3;
    for (size_t p = 0; p < np; p++) {
      if (p) buf[n++] = ' ';
      pstart[p] = n;
      uint64_t r = tu_rand(&rng);
      n += put_utf8(buf + n, starters[(first + r % few) % nstarters]);
      uint32_t mk = marks[(r >> 16) % (sizeof marks / sizeof marks[0])];
      if (mk) n += put_utf8(buf + n, mk);
      pend[p] = n;
    }
    assert_int_equal(vigil_text_normalize(&T, buf, n, 0, NULL), VIGIL_OK);
    size_t at = 0;
    unsigned flags = 0;
    for (size_t p = 0; p < np; p++) {
      if (p) {
        assert_true(at < T.len && T.match[at] == ' ');
        at++;
      }
      assert_int_equal(vigil_text_normalize(&one, buf + pstart[p], pend[p] - pstart[p], 0, NULL), VIGIL_OK);
      flags |= one.flags;
      assert_true(at + one.len <= T.len);
      assert_memory_equal(T.match + at, one.match, one.len);
      for (size_t b = 0; b < one.len; b++) {
        assert_int_equal(T.src_start[at + b], pstart[p] + one.src_start[b]);
        assert_int_equal(T.src_end[at + b], pstart[p] + one.src_end[b]);
      }
      at += one.len;
    }
    assert_int_equal(at, T.len);
    assert_int_equal(T.flags, flags);
  }
  vigil_text_free(&one);
}

static int setup(void **state) {
  (void)state;
  vigil_text_init(&T);
  return 0;
}
static int teardown(void **state) {
  (void)state;
  vigil_text_free(&T);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ascii_and_map),           cmocka_unit_test(test_invalid_utf8),
      cmocka_unit_test(test_nfkc_case_confusables),   cmocka_unit_test(test_digits_every_script),
      cmocka_unit_test(test_leet_view),               cmocka_unit_test(test_emoji_tokens),
      cmocka_unit_test(test_property_random_bytes),   cmocka_unit_test(test_property_random_codepoints),
      cmocka_unit_test(test_units_repeat),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
