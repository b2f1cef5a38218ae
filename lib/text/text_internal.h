/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text_internal.h - shared by the files of lib/text, never installed.
 *
 * Small helpers for the normalised views: every view is ASCII except for
 * emoji and letters of scripts with no ASCII look-alike, so most scanners
 * here work byte by byte on vigil_text.match and only decode UTF-8 where a
 * byte is >= 0x80.
 */
#ifndef VIGIL_TEXT_INTERNAL_H
#define VIGIL_TEXT_INTERNAL_H

#include "common/internal.h"
#include "text/phone_plan.h"
#include "vigil/text.h"

#include <stddef.h>
#include <stdint.h>

static inline int vigil__isdigit(int c) { return c >= '0' && c <= '9'; }
static inline int vigil__isalpha(int c) { return c >= 'a' && c <= 'z'; }
static inline int vigil__isalnum(int c) { return vigil__isdigit(c) || vigil__isalpha(c); }
/* Any byte of a non-ASCII letter counts as "word" so that scripts without
 * look-alikes still bound words. */
static inline int vigil__isword(int c) { return vigil__isalnum(c) || c >= 0x80; }

/* Folds one code point produced by NFKC+casefold to ASCII when it is a
 * look-alike (returns the ASCII byte) or 0 when it is not one. */
int vigil__confusable(int32_t cp);
/* ASCII digits for a special digit code point (circled, negative circled,
 * dingbat, parenthesised, full stop digits); NULL if cp is not one. */
const char *vigil__special_digits(int32_t cp);
/* Value 0..9 of a Unicode Nd code point (decimal digit of any script). */
int vigil__nd_value(int32_t cp);
/* True for emoji and other pictographic symbols (kept as tokens). */
int vigil__is_emoji(int32_t cp);

/* Growable arrays: appends one element, VIGIL_ENOMEM on failure. */
int vigil__contacts_push(vigil_contacts *c, const vigil_contact *x);
int vigil__ages_push(vigil_ages *a, const vigil_age *x);

/* Number words for phones and ages.  At s[0..n) (match view), reads one
 * number word ("seven", "twentysix", "oh", "th0usand", ...); returns the
 * bytes consumed (0 if none) and writes its digits (NUL-terminated, at
 * most 3) into digits.  allow_short enables "o", "to", "too", "for" which
 * are numbers only inside a group of other numbers. */
size_t vigil__number_word(const char *s, size_t n, char digits[4], int allow_short);

/* The extractors behind vigil_contacts_extract(): append to out.  region
 * is the default region for national numbers, or NULL (North American
 * numbers and numbers written with '+' only). */
int vigil__phones_extract(const vigil_text *t, vigil_contacts *out, const char *region);
int vigil__online_extract(const vigil_text *t, vigil_contacts *out);

/* The same, visiting only the text around cue positions (sorted, from a
 * multi-pattern pre-scan of the match view); results equal the full scans
 * when every place that can start a contact or age is a cue. */
int vigil__phones_extract_at(const vigil_text *t, vigil_contacts *out, const size_t *cues, size_t n, const char *region);
int vigil__online_extract_at(const vigil_text *t, vigil_contacts *out, const size_t *cues, size_t n);
int vigil__ages_extract_at(const vigil_text *t, vigil_ages *out, const size_t *cues, size_t n);
/* Dedupe step of vigil_contacts_extract() for out->v[first..]. */
void vigil__contacts_dedupe(vigil_contacts *out, size_t first);

#endif
