/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/text.h - text signals: obfuscation-proof normalisation, contact
 * extraction (phones, e-mails, social handles, URLs), stated ages and
 * trafficking-ad indicators, each with evidence spans.
 *
 * Layers, bottom up (each usable on its own):
 *
 *   vigil_text_normalize()  original UTF-8 -> two normalised views:
 *       match: NFKC + case fold + marks stripped + confusables/look-alike
 *              digits folded to ASCII, emoji kept as they are;
 *       lex:   the match view with leetspeak undone inside words
 *              ("y0ung" -> "young"), for lexicon matching only; it has the
 *              same length as match, byte for byte, so both share one map.
 *     Every normalised byte maps back to the byte span of the original it
 *     came from, so evidence always points at what the user wrote.
 *   vigil_contacts_extract() phones (E.164), e-mails, handles, URLs.
 *   vigil_ages_extract()     stated ages ("22", "twenty two", "22yo", "age: 22").
 *   vigil_ad_scan()          indicator families, risk 0..1, contacts, ages.
 *
 * All spans are byte offsets [start, end) into the ORIGINAL text.
 * Inputs may be anything (invalid UTF-8 included); nothing here crashes on
 * hostile input.  Objects are not shared between threads; a compiled
 * scanner (vigil_ad_scanner) is read-only and may be shared, with one
 * vigil_ad_scratch per thread.
 *
 * Ownership: a vigil_text points at the original text (orig) without
 * copying it, so the text must outlive it; every other input is only read
 * during a call.  vigil_text, vigil_contacts, vigil_ages and
 * vigil_ad_result are the caller's structures whose arrays the library
 * grows: reuse them across calls and release them with their _free
 * functions.  Spans and hits point into nothing: they are offsets.  A
 * scratch is used only with the scanner it was made for, and the scanner
 * must outlive its use.  vigil_text_scan_json's *out is malloc'd: free()
 * it.
 */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vigil_span {
  size_t start, end; /* byte offsets into the original text, start <= end */
} vigil_span;

/* ---- normalisation ----------------------------------------------------- */

/* vigil_text_normalize() flags */
#define VIGIL_TEXT_STRICT 1u /* invalid UTF-8 is an error (VIGIL_EINVAL) */

/* vigil_text.flags: what normalisation saw (obfuscation is itself a signal) */
#define VIGIL_TEXT_REPLACED 1u   /* invalid UTF-8 replaced by U+FFFD */
#define VIGIL_TEXT_LOOKALIKE 2u  /* confusable letters folded (Cyrillic, math, ...) */
#define VIGIL_TEXT_ODD_DIGITS 4u /* non-ASCII digits folded (circled, keycap, Nd) */
#define VIGIL_TEXT_LEET 8u       /* leetspeak undone in the lex view */

/* Largest original text accepted (offsets are stored in 32 bits). */
#define VIGIL_TEXT_MAX ((size_t)0x7fffffff)

typedef struct vigil_text {
  const char *orig; /* the caller's text (not owned, must outlive this) */
  size_t orig_len;
  char *match; /* NUL-terminated normalised view */
  char *lex;   /* same length as match: leetspeak folded */
  size_t len;  /* bytes in match (and lex), NUL excluded */
  /* For normalised byte i, the original bytes [src_start[i], src_end[i]).
   * Invariant: both arrays are non-decreasing and src_end[i] <= orig_len. */
  uint32_t *src_start, *src_end;
  unsigned flags;
  size_t cap; /* allocated entries (reuse across calls) */
} vigil_text;

/* Returns VIGIL_OK if s[0..len) is valid UTF-8 (no overlongs, no
 * surrogates, <= U+10FFFF), else VIGIL_EINVAL with *bad_at (may be NULL)
 * set to the offset of the first bad byte. */
VIGIL_API int vigil_utf8_check(const char *s, size_t len, size_t *bad_at);

/* Initialises t (zeroes it); vigil_text_normalize() then reuses its buffers. */
VIGIL_API void vigil_text_init(vigil_text *t);
VIGIL_API int vigil_text_normalize(vigil_text *t, const char *s, size_t len, unsigned flags, vigil_error *err);
VIGIL_API void vigil_text_free(vigil_text *t);

/* Original span of normalised bytes [a, b) (clamped; empty at a if a >= b). */
VIGIL_API vigil_span vigil_text_span(const vigil_text *t, size_t a, size_t b);

/* Tokens of the match view: words, numbers, emoji and other symbols. */
enum vigil_token_type { VIGIL_TOK_WORD = 1, VIGIL_TOK_NUMBER, VIGIL_TOK_EMOJI, VIGIL_TOK_SYMBOL };
typedef struct vigil_token {
  int type;
  size_t start, end; /* in the normalised view */
} vigil_token;
/* Next token at or after *pos; returns 1 and advances *pos, or 0 at the end. */
VIGIL_API int vigil_text_next_token(const vigil_text *t, size_t *pos, vigil_token *tok);

/* ---- contacts ------------------------------------------------------------ */

enum vigil_contact_type {
  VIGIL_CONTACT_PHONE = 1,
  VIGIL_CONTACT_EMAIL,
  VIGIL_CONTACT_HANDLE,
  VIGIL_CONTACT_URL
};

#define VIGIL_CONTACT_VALUE_MAX 128

typedef struct vigil_contact {
  int type;                              /* enum vigil_contact_type */
  char value[VIGIL_CONTACT_VALUE_MAX];   /* phone: E.164 ("+13105551212") when
                                            valid, else the digits; e-mail:
                                            lower-case address; handle: name
                                            without '@'; URL: as written,
                                            lower-cased host */
  char digits[24];                       /* phone: the digits as written */
  char platform[16];                     /* handle: "snapchat", "kik", ...; URL: "" */
  int obfuscated;                        /* written to evade matching */
  int e164_valid;                        /* phone: value is E.164 and valid for its
                                            plan (0: a possible length only) */
  vigil_span span;                       /* in the original text */
} vigil_contact;

/* At most this many contacts (and ages) are kept per text, so a hostile
 * megabyte of digits costs linear time; real ads have a handful. */
#define VIGIL_CONTACTS_MAX 512
#define VIGIL_AGES_MAX 64

typedef struct vigil_contacts {
  vigil_contact *v;
  size_t n, cap;
} vigil_contacts;

/* Appends the contacts found in t to out (deduplicated by type+value;
 * the first occurrence's span is kept). */
VIGIL_API int vigil_contacts_extract(const vigil_text *t, vigil_contacts *out, vigil_error *err);
/* The same with a default region for national numbers: a two-letter
 * country code ("GB", "in", any case), or NULL.  Without one, phones are
 * North American numbers (as written, +1 implied) and numbers written with
 * '+' and a country code; with one outside North America, national numbers
 * of that country too ("07440 566047" with GB gives +447440566047).  Every
 * number other than a North American one is checked against the numbering
 * plans of libphonenumber: e164_valid is 1 when it is valid for its plan,
 * 0 when it is only a possible length ('+' numbers only; value is still
 * the E.164 form).  An unknown region is VIGIL_EINVAL. */
VIGIL_API int vigil_contacts_extract_region(const vigil_text *t, const char *region, vigil_contacts *out,
                                            vigil_error *err);
VIGIL_API void vigil_contacts_free(vigil_contacts *c);
VIGIL_API const char *vigil_contact_type_name(int type);

/* ---- ages ------------------------------------------------------------------ */

typedef struct vigil_age {
  int years;
  vigil_span span;
} vigil_age;

typedef struct vigil_ages {
  vigil_age *v;
  size_t n, cap;
} vigil_ages;

/* Stated ages of the writer/advertised person: "22", "22yo", "22 years old",
 * "age: 22", "twenty two", "i'm 16", "- 22" ending a title line.  Bare
 * numbers are not ages (precision first). */
VIGIL_API int vigil_ages_extract(const vigil_text *t, vigil_ages *out, vigil_error *err);
VIGIL_API void vigil_ages_free(vigil_ages *a);

/* ---- trafficking-ad indicators --------------------------------------------- */

enum vigil_ad_family {
  VIGIL_AD_MINOR = 0,      /* age under 18 stated or implied: always top */
  VIGIL_AD_YOUTH,          /* youth language */
  VIGIL_AD_EMOJI_CODE,     /* cherry, growing heart, ... */
  VIGIL_AD_THIRD_PERSON,   /* third-party / plural voice */
  VIGIL_AD_CONTROL,        /* pimp/daddy, crown */
  VIGIL_AD_MOVEMENT,       /* new in town, just arrived (evidence: LESS in trafficking) */
  VIGIL_AD_RESTRICTED,     /* incall only */
  VIGIL_AD_UNPROTECTED,    /* bareback, no condom */
  VIGIL_AD_PRICE_CODE,     /* roses, donations, rose emoji */
  VIGIL_AD_OBSCURED_CONTACT, /* obfuscated phone/contact */
  VIGIL_AD_STATED_AGE,     /* an adult age is stated */
  VIGIL_AD_TRUST,          /* trustworthiness language */
  VIGIL_AD_ETHNICITY,      /* ethnicity stated */
  VIGIL_AD_INDEPENDENT,    /* independent-worker signals (screening, condoms) */
  VIGIL_AD_NFAMILIES
};

typedef struct vigil_ad_hit {
  int family;       /* enum vigil_ad_family */
  int rule;         /* index of the rule (vigil_ad_rule_text) */
  vigil_span span;  /* evidence in the original text */
} vigil_ad_hit;

typedef struct vigil_ad_result {
  double risk;                      /* 0..1 */
  unsigned fired;                   /* bit f set when family f fired */
  vigil_ad_hit *hits;
  size_t nhits, hits_cap;
  vigil_contacts contacts;
  vigil_ages ages;
  int min_age;                      /* smallest stated age, or -1 */
} vigil_ad_result;

typedef struct vigil_ad_scanner vigil_ad_scanner; /* compiled, shareable */
typedef struct vigil_ad_scratch vigil_ad_scratch; /* per thread */

VIGIL_API int vigil_ad_scanner_new(vigil_ad_scanner **out, vigil_error *err);
VIGIL_API void vigil_ad_scanner_free(vigil_ad_scanner *s);
VIGIL_API int vigil_ad_scratch_new(const vigil_ad_scanner *s, vigil_ad_scratch **out, vigil_error *err);
VIGIL_API void vigil_ad_scratch_free(vigil_ad_scratch *s);
/* Default region of national phone numbers for the ads scanned with this
 * scratch (see vigil_contacts_extract_region); NULL for none, the default.
 * The code is copied.  An unknown region is VIGIL_EINVAL. */
VIGIL_API int vigil_ad_scratch_set_region(vigil_ad_scratch *s, const char *region, vigil_error *err);

VIGIL_API void vigil_ad_result_init(vigil_ad_result *r);
VIGIL_API void vigil_ad_result_free(vigil_ad_result *r);

/* Scans one ad (text already normalised into t); r is reset first. */
VIGIL_API int vigil_ad_scan(const vigil_ad_scanner *s, vigil_ad_scratch *scr, const vigil_text *t, vigil_ad_result *r,
                  vigil_error *err);

VIGIL_API const char *vigil_ad_family_name(int family);
/* The pattern behind rule i (for explanations); NULL if out of range. */
VIGIL_API const char *vigil_ad_rule_text(int rule);
/* The logistic weight of a family (documented in docs/text.md). */
VIGIL_API double vigil_ad_family_weight(int family);

/* ---- one JSON record at a time (the CLI's and the service's format) ---- */

typedef enum vigil_text_scan_kind {
  VIGIL_SCAN_AD = 0,      /* contacts, ages, indicators and risk */
  VIGIL_SCAN_MESSAGE = 1, /* contacts and ages */
  VIGIL_SCAN_CONTACTS = 2 /* contacts only */
} vigil_text_scan_kind;

/* Scans one record: a JSON object with "text", "message" or "body", or
 * "title" and "body"; its "id" is copied.  *out is malloc'd JSON text
 * (free it): contacts, ages, min_age, normalisation flags and, for ads,
 * risk, families and indicators, each with evidence spans (field, start,
 * end, text).  A bad record gives VIGIL_EINVAL and says why.  sc and scr
 * are needed for VIGIL_SCAN_AD only. */
VIGIL_API int vigil_text_scan_json(const vigil_ad_scanner *sc, vigil_ad_scratch *scr, const char *json, size_t len,
                         vigil_text_scan_kind kind, char **out, vigil_error *err);
/* The same with a default region for national phone numbers (or NULL); a
 * record's own "country" or "region" field, when it is a two-letter code
 * libphonenumber knows, takes precedence.  The region used is echoed as
 * "region" in the result. */
VIGIL_API int vigil_text_scan_json_region(const vigil_ad_scanner *sc, vigil_ad_scratch *scr, const char *json,
                                          size_t len, vigil_text_scan_kind kind, const char *default_region,
                                          char **out, vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
