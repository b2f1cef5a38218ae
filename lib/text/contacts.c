/* SPDX-License-Identifier: Apache-2.0 */
/*
 * contacts.c - the contacts API: runs the phone and online extractors,
 * then removes duplicates (same type and value; the first span is kept,
 * and a later obfuscated copy marks the kept one obfuscated too, since
 * writing a number both ways is still obfuscation).
 */
#include "text/text_internal.h"

#include <string.h>

int vigil__contacts_push(vigil_contacts *c, const vigil_contact *x) {
  if (c->n >= VIGIL_CONTACTS_MAX) return VIGIL_OK; /* bounded work on hostile text */
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    vigil_contact *v = vigil__mallocarray(cap, sizeof *v);
    if (!v) return VIGIL_ENOMEM;
    if (c->n) memcpy(v, c->v, c->n * sizeof *v);
    free(c->v);
    c->v = v;
    c->cap = cap;
  }
  c->v[c->n++] = *x;
  return VIGIL_OK;
}

int vigil__ages_push(vigil_ages *a, const vigil_age *x) {
  if (a->n >= VIGIL_AGES_MAX) return VIGIL_OK;
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 4;
    vigil_age *v = vigil__mallocarray(cap, sizeof *v);
    if (!v) return VIGIL_ENOMEM;
    if (a->n) memcpy(v, a->v, a->n * sizeof *v);
    free(a->v);
    a->v = v;
    a->cap = cap;
  }
  a->v[a->n++] = *x;
  return VIGIL_OK;
}

void vigil_contacts_free(vigil_contacts *c) {
  if (!c) return;
  free(c->v);
  memset(c, 0, sizeof *c);
}

void vigil_ages_free(vigil_ages *a) {
  if (!a) return;
  free(a->v);
  memset(a, 0, sizeof *a);
}

const char *vigil_contact_type_name(int type) {
  switch (type) {
  case VIGIL_CONTACT_PHONE: return "phone";
  case VIGIL_CONTACT_EMAIL: return "email";
  case VIGIL_CONTACT_HANDLE: return "handle";
  case VIGIL_CONTACT_URL: return "url";
  default: return "unknown";
  }
}

void vigil__contacts_dedupe(vigil_contacts *out, size_t first) {
  size_t w = first;
  for (size_t i = first; i < out->n; i++) {
    size_t k;
    for (k = first; k < w; k++)
      if (out->v[k].type == out->v[i].type && !strcmp(out->v[k].value, out->v[i].value) &&
          !strcmp(out->v[k].platform, out->v[i].platform))
        break;
    if (k < w) {
      out->v[k].obfuscated |= out->v[i].obfuscated;
      continue;
    }
    out->v[w++] = out->v[i];
  }
  out->n = w;
}

int vigil_contacts_extract(const vigil_text *t, vigil_contacts *out, vigil_error *err) {
  return vigil_contacts_extract_region(t, NULL, out, err);
}

int vigil_contacts_extract_region(const vigil_text *t, const char *region, vigil_contacts *out, vigil_error *err) {
  if (!t || !out) return vigil__seterr(err, VIGIL_EINVAL, "contacts: null argument");
  if (region && !vigil__phone_region_ok(region))
    return vigil__seterr(err, VIGIL_EINVAL, "contacts: unknown region '%.8s' (expected a two-letter country code such as GB)",
                         region);
  if (!t->match) return VIGIL_OK;
  size_t first = out->n;
  int rc = vigil__phones_extract(t, out, region);
  if (rc == VIGIL_OK) rc = vigil__online_extract(t, out);
  if (rc != VIGIL_OK) return vigil__seterr(err, rc, "contacts: out of memory");
  vigil__contacts_dedupe(out, first);
  return VIGIL_OK;
}
