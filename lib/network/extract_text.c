/* SPDX-License-Identifier: Apache-2.0 */
/*
 * extract_text.c - the linker's default extractor, over the text
 * capability (vigil/text.h).
 *
 * The compiled ad scanner is shared (read-only); each worker thread gets its
 * own normalisation buffers, scratch and result through thread_init, so a
 * scan allocates nothing in the steady state.  Contacts become identifiers:
 * a +1 phone is reduced to its 10 national digits (the form the built-in
 * extractor and JSON "phones" use, so all sources agree), other phones to
 * the digits of their E.164 form; e-mails as they come (lowercased);
 * handles as "platform:name" lowercased; URLs are not identifiers (too many
 * are the ad site's own).  Names are not part of the text capability; the
 * built-in "my name is X" patterns add them.  The score is the scanner's
 * risk in [0,1].
 */
#include "network/net_internal.h"

#include <ctype.h>
#include <string.h>

#include "vigil/text.h"

typedef struct tstate {
  const vigil_ad_scanner *sc;
  vigil_ad_scratch *scr;
  vigil_text t;
  vigil_ad_result r;
} tstate;

static int t_init(void *ctx, void **out) {
  tstate *s = calloc(1, sizeof *s);
  if (!s) return VIGIL_ENOMEM;
  s->sc = ctx;
  vigil_text_init(&s->t);
  vigil_ad_result_init(&s->r);
  if (vigil_ad_scratch_new(s->sc, &s->scr, NULL) != VIGIL_OK) {
    free(s);
    return VIGIL_ENOMEM;
  }
  *out = s;
  return VIGIL_OK;
}

static void t_done(void *tctx) {
  tstate *s = tctx;
  if (!s) return;
  vigil_ad_scratch_free(s->scr);
  vigil_text_free(&s->t);
  vigil_ad_result_free(&s->r);
  free(s);
}

static void lower_into(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  for (; *src && n + 1 < cap; src++) dst[n++] = (char)tolower((unsigned char)*src);
  dst[n] = 0;
}

static double t_scan(void *tctx, const char *text, size_t len, vigil_link_emit_fn emit, void *ectx) {
  tstate *s = tctx;
  if (vigil_text_normalize(&s->t, text, len, 0, NULL) != VIGIL_OK) return 0.0;
  if (vigil_ad_scan(s->sc, s->scr, &s->t, &s->r, NULL) != VIGIL_OK) return 0.0;
  for (size_t i = 0; emit && i < s->r.contacts.n; i++) {
    const vigil_contact *c = &s->r.contacts.v[i];
    size_t st = c->span.start, sp = c->span.end > c->span.start ? c->span.end - c->span.start : 0;
    char v[VIGIL_CONTACT_VALUE_MAX + 24];
    if (c->type == VIGIL_CONTACT_PHONE) {
      char d[VIGIL_CONTACT_VALUE_MAX];
      size_t n = 0;
      for (const char *p = c->value; *p && n + 1 < sizeof d; p++)
        if (*p >= '0' && *p <= '9') d[n++] = *p;
      d[n] = 0;
      const char *x = d;
      if (c->value[0] == '+' && n == 11 && d[0] == '1') x = d + 1; /* NANP: national digits */
      if (strlen(x) < 7) continue;
      emit(ectx, VIGIL_EV_PHONE, x, st, sp);
    } else if (c->type == VIGIL_CONTACT_EMAIL) {
      lower_into(v, sizeof v, c->value);
      emit(ectx, VIGIL_EV_EMAIL, v, st, sp);
    } else if (c->type == VIGIL_CONTACT_HANDLE) {
      char name[VIGIL_CONTACT_VALUE_MAX];
      lower_into(name, sizeof name, c->value);
      snprintf(v, sizeof v, "%.15s:%s", c->platform[0] ? c->platform : "handle", name);
      for (char *p = v; *p; p++) *p = (char)tolower((unsigned char)*p);
      emit(ectx, VIGIL_EV_HANDLE, v, st, sp);
    }
  }
  if (emit) vigil__net_builtin_names(text, len, emit, ectx);
  double r = s->r.risk;
  return r >= 0 && r <= 1 ? r : r > 1 ? 1 : 0;
}

int vigil_link_text_extractor_new(vigil_link_extractor **out, vigil_error *err) {
  *out = NULL;
  vigil_ad_scanner *sc;
  int rc = vigil_ad_scanner_new(&sc, err);
  if (rc) return rc;
  vigil_link_extractor *ex = calloc(1, sizeof *ex);
  if (!ex) {
    vigil_ad_scanner_free(sc);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  ex->thread_init = t_init;
  ex->thread_done = t_done;
  ex->scan = t_scan;
  ex->ctx = sc;
  *out = ex;
  return VIGIL_OK;
}

void vigil_link_text_extractor_free(vigil_link_extractor *ex) {
  if (!ex) return;
  vigil_ad_scanner_free(ex->ctx);
  free(ex);
}
