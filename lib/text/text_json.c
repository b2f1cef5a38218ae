/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text_json.c - one JSON record in, its text signals as JSON out: the
 * format of `vigil text scan` and `vigil text contacts` and of the
 * service's POST /v1/text/scan, kept in one place so they cannot differ.
 *
 * A record is a JSON object with a "text", "message" or "body" string, or
 * "title" and "body" (scanned as title, newline, body; spans then name
 * their field and give offsets within it).  Spans are byte offsets into
 * what the user wrote, not into the normalised text.
 */
#include "common/internal.h"
#include "text/phone_plan.h"
#include "vigil/text.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct record {
  const char *title; /* NULL when the record has a single text field */
  size_t title_len;
  const char *field2_name;
  char *buf; /* the scanned text */
  size_t len;
} record;

/* Field name and offset within it of original offset `at`. */
static const char *where(const record *r, size_t at, size_t *off) {
  if (r->title) {
    if (at <= r->title_len) {
      *off = at;
      return "title";
    }
    *off = at - r->title_len - 1;
    return "body";
  }
  *off = at;
  return r->field2_name;
}

static void put_span(json_t *o, const record *r, vigil_span sp) {
  size_t a, b;
  const char *f = where(r, sp.start, &a);
  const char *g = where(r, sp.end > sp.start ? sp.end - 1 : sp.start, &b);
  size_t end = strcmp(f, g) ? (r->title && !strcmp(f, "title") ? r->title_len : a) : (sp.end > sp.start ? b + 1 : a);
  json_object_set_new(o, "field", json_string(f));
  json_object_set_new(o, "start", json_integer((json_int_t)a));
  json_object_set_new(o, "end", json_integer((json_int_t)end));
  json_t *ex = json_stringn(r->buf + sp.start, sp.end - sp.start);
  if (ex) json_object_set_new(o, "text", ex); /* absent when the bytes are not valid UTF-8 */
}

static json_t *contacts_json(const vigil_contacts *c, const record *r) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < c->n; i++) {
    const vigil_contact *x = &c->v[i];
    json_t *o = json_object();
    if (!o) break;
    json_object_set_new(o, "type", json_string(vigil_contact_type_name(x->type)));
    json_object_set_new(o, "value", json_string(x->value));
    if (x->type == VIGIL_CONTACT_PHONE) {
      json_object_set_new(o, "digits", json_string(x->digits));
      json_object_set_new(o, "e164", json_boolean(x->e164_valid));
    }
    if (x->platform[0]) json_object_set_new(o, "platform", json_string(x->platform));
    json_object_set_new(o, "obfuscated", json_boolean(x->obfuscated));
    put_span(o, r, x->span);
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *result_json(vigil_text_scan_kind kind, const vigil_text *t, const vigil_ad_result *res, const record *r) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "contacts", contacts_json(&res->contacts, r));
  if (kind == VIGIL_SCAN_CONTACTS) return o;
  json_t *ages = json_array();
  for (size_t i = 0; ages && i < res->ages.n; i++) {
    json_t *a = json_object();
    json_object_set_new(a, "years", json_integer(res->ages.v[i].years));
    put_span(a, r, res->ages.v[i].span);
    json_array_append_new(ages, a);
  }
  json_object_set_new(o, "ages", ages);
  if (res->min_age >= 0) json_object_set_new(o, "min_age", json_integer(res->min_age));
  json_t *fl = json_array();
  if (t->flags & VIGIL_TEXT_REPLACED) json_array_append_new(fl, json_string("invalid_utf8"));
  if (t->flags & VIGIL_TEXT_LOOKALIKE) json_array_append_new(fl, json_string("lookalike_letters"));
  if (t->flags & VIGIL_TEXT_ODD_DIGITS) json_array_append_new(fl, json_string("lookalike_digits"));
  if (t->flags & VIGIL_TEXT_LEET) json_array_append_new(fl, json_string("leetspeak"));
  json_object_set_new(o, "normalisation", fl);
  if (kind != VIGIL_SCAN_AD) return o;
  json_object_set_new(o, "risk", json_real((double)(long)(res->risk * 1000 + 0.5) / 1000));
  json_t *fam = json_array(), *hits = json_array();
  for (int f = 0; f < VIGIL_AD_NFAMILIES; f++)
    if (res->fired & (1u << f)) json_array_append_new(fam, json_string(vigil_ad_family_name(f)));
  for (size_t i = 0; hits && i < res->nhits; i++) {
    json_t *h = json_object();
    json_object_set_new(h, "family", json_string(vigil_ad_family_name(res->hits[i].family)));
    const char *rule = vigil_ad_rule_text(res->hits[i].rule);
    json_object_set_new(h, "rule", json_string(rule ? rule : res->hits[i].family == VIGIL_AD_OBSCURED_CONTACT ? "obfuscated phone"
                                                          : res->hits[i].family == VIGIL_AD_MINOR ? "stated age under 18"
                                                                                                 : "stated age"));
    put_span(h, r, res->hits[i].span);
    json_array_append_new(hits, h);
  }
  json_object_set_new(o, "families", fam);
  json_object_set_new(o, "indicators", hits);
  return o;
}

/* Builds the text of record o; returns an error message or NULL. */
static const char *get_text(json_t *o, record *r) {
  memset(r, 0, sizeof *r);
  if (!json_is_object(o)) return "record is not a JSON object";
  static const char *const single[] = {"text", "message", "body"};
  json_t *ti = json_object_get(o, "title"), *bo = json_object_get(o, "body");
  if (json_is_string(ti) && json_is_string(bo)) {
    size_t a = json_string_length(ti), b = json_string_length(bo);
    if (!(r->buf = malloc(a + b + 2))) return "out of memory";
    memcpy(r->buf, json_string_value(ti), a);
    r->buf[a] = '\n';
    memcpy(r->buf + a + 1, json_string_value(bo), b);
    r->len = a + b + 1;
    r->buf[r->len] = 0;
    r->title = r->buf;
    r->title_len = a;
    return NULL;
  }
  for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
    json_t *v = json_object_get(o, single[i]);
    if (!json_is_string(v)) continue;
    size_t n = json_string_length(v);
    if (!(r->buf = malloc(n + 1))) return "out of memory";
    memcpy(r->buf, json_string_value(v), n + 1);
    r->len = n;
    r->field2_name = single[i];
    return NULL;
  }
  return "record has no \"text\", \"message\" or \"title\"/\"body\" string field";
}

int vigil_text_scan_json(const vigil_ad_scanner *sc, vigil_ad_scratch *scr, const char *json, size_t len,
                         vigil_text_scan_kind kind, char **out, vigil_error *err) {
  return vigil_text_scan_json_region(sc, scr, json, len, kind, NULL, out, err);
}

/* The record's own "country" or "region" when it is a known two-letter
 * code (a free-text location is not guessed at), else the default. */
static const char *record_region(json_t *o, const char *def) {
  static const char *const keys[] = {"country", "region"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const char *v = json_string_value(json_object_get(o, keys[i]));
    if (v && vigil__phone_region_ok(v)) return v;
  }
  return def;
}

int vigil_text_scan_json_region(const vigil_ad_scanner *sc, vigil_ad_scratch *scr, const char *json, size_t len,
                                vigil_text_scan_kind kind, const char *default_region, char **out, vigil_error *err) {
  *out = NULL;
  if (default_region && !vigil__phone_region_ok(default_region))
    return vigil__seterr(err, VIGIL_EINVAL, "unknown region '%.8s' (expected a two-letter country code such as GB)",
                         default_region);
  json_error_t je;
  json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
  if (!o) return vigil__seterr(err, VIGIL_EINVAL, "malformed JSON: %s", je.text);
  record r;
  const char *msg = get_text(o, &r);
  if (msg) {
    int code = strcmp(msg, "out of memory") ? VIGIL_EINVAL : VIGIL_ENOMEM;
    json_decref(o);
    return vigil__seterr(err, code, "%s", msg);
  }
  const char *region = record_region(o, default_region);
  vigil_text t;
  vigil_text_init(&t);
  vigil_ad_result res;
  vigil_ad_result_init(&res);
  int rc = vigil_text_normalize(&t, r.buf, r.len, 0, err);
  if (rc == VIGIL_OK && kind == VIGIL_SCAN_AD) {
    if (!sc || !scr) rc = vigil__seterr(err, VIGIL_EINVAL, "an ad scan needs a scanner");
    else if ((rc = vigil_ad_scratch_set_region(scr, region, err)) == VIGIL_OK) {
      rc = vigil_ad_scan(sc, scr, &t, &res, err);
      vigil_ad_scratch_set_region(scr, NULL, NULL);
    }
  } else if (rc == VIGIL_OK) {
    rc = vigil_contacts_extract_region(&t, region, &res.contacts, err);
    if (rc == VIGIL_OK && kind != VIGIL_SCAN_CONTACTS) {
      rc = vigil_ages_extract(&t, &res.ages, err);
      for (size_t i = 0; i < res.ages.n; i++)
        if (res.min_age < 0 || res.ages.v[i].years < res.min_age) res.min_age = res.ages.v[i].years;
    }
  }
  json_t *result = rc ? NULL : result_json(kind, &t, &res, &r);
  if (!rc && !result) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (result) {
    json_t *idv = json_object_get(o, "id");
    if (idv) json_object_set(result, "id", idv);
    if (region) {
      char up[3] = {(char)(region[0] & ~0x20), (char)(region[1] & ~0x20), 0};
      json_object_set_new(result, "region", json_string(up));
    }
    *out = json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (!*out) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    json_decref(result);
  }
  free(r.buf);
  vigil_ad_result_free(&res);
  vigil_text_free(&t);
  json_decref(o);
  return rc;
}
