/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_signals.c - the text-signal and policy endpoints:
 *   POST /v1/conversations/score  grooming risk of one conversation
 *   POST /v1/policy/decide        one minor-safety decision
 *   POST /v1/policy/decide/batch  {"requests": [...]}: decisions in order
 *   POST /v1/text/scan            contacts, ages and ad indicators of one record
 *
 * The request and response bodies are those of `vigil convo score` and
 * `vigil policy decide` (docs/convo.md, docs/policy.md): the library's
 * JSON functions do the work, so the CLI and the service cannot disagree.
 * A conversation scorer and an ad scanner's scratch hold per-thread space,
 * so they are pooled; a loaded policy and the compiled ad scanner are
 * immutable and shared by every thread.
 */
#include "server/req.h"
#include "server/signals.h"
#include "server/handlers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/convo.h"
#include "vigil/policy.h"
#include "vigil/text.h"

#define POOL_MAX 16

struct vigil__signals {
  vigil_policy *policy;
  pthread_mutex_t mu;
  vigil_convo_scorer *free_scorers[POOL_MAX];
  int nfree;
  vigil_ad_scanner *ads;
  vigil_ad_scratch *free_scratch[POOL_MAX];
  int nscratch;
};

int vigil__signals_open(vigil__signals **out, const char *policy_path, vigil_error *err) {
  vigil__signals *s = calloc(1, sizeof *s);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = policy_path ? vigil_policy_load_file(policy_path, &s->policy, err)
                       : vigil_policy_load_default(&s->policy, err);
  if (!rc && (rc = vigil_ad_scanner_new(&s->ads, err))) vigil_policy_free(s->policy);
  if (rc) {
    free(s);
    return rc;
  }
  pthread_mutex_init(&s->mu, NULL);
  *out = s;
  return VIGIL_OK;
}

void vigil__signals_close(vigil__signals *s) {
  if (!s) return;
  for (int i = 0; i < s->nfree; i++) vigil_convo_scorer_free(s->free_scorers[i]);
  for (int i = 0; i < s->nscratch; i++) vigil_ad_scratch_free(s->free_scratch[i]);
  vigil_ad_scanner_free(s->ads);
  vigil_policy_free(s->policy);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static int scorer_get(vigil__signals *s, vigil_convo_scorer **out, vigil_error *err) {
  pthread_mutex_lock(&s->mu);
  *out = s->nfree ? s->free_scorers[--s->nfree] : NULL;
  pthread_mutex_unlock(&s->mu);
  return *out ? VIGIL_OK : vigil_convo_scorer_new(out, err);
}

static void scorer_put(vigil__signals *s, vigil_convo_scorer *sc) {
  pthread_mutex_lock(&s->mu);
  if (s->nfree < POOL_MAX) {
    s->free_scorers[s->nfree++] = sc;
    sc = NULL;
  }
  pthread_mutex_unlock(&s->mu);
  vigil_convo_scorer_free(sc);
}

/* A malloc'd JSON text from a library function, sent as it is. */
static int reply_raw_json(vigil__req *r, int status, char *text) {
  return vigil__reply_text(r, status, "application/json", text, strlen(text));
}

int vigil__h_convo_score(vigil__req *r) {
  vigil__signals *s = vigil__server_signals(r->srv);
  vigil_convo_scorer *sc;
  int rc = scorer_get(s, &sc, &r->err);
  if (rc) return rc;
  char *out = NULL;
  vigil_error e;
  rc = vigil_convo_score_json(sc, (const char *)r->body, r->body_len, &out, &e);
  scorer_put(s, sc);
  if (rc == VIGIL_EINVAL) {
    free(out);
    return vigil__reply_error(r, 400, "invalid", "%s", e.message);
  }
  if (rc) {
    free(out);
    r->err = e;
    return rc;
  }
  return reply_raw_json(r, 200, out);
}

static int decide_one(vigil__req *r, const char *json, size_t len, int trace, long line, json_t **out) {
  char *text = NULL;
  vigil_error e;
  int rc = vigil_policy_decide_json(vigil__server_signals(r->srv)->policy, json, len, trace, line, &text, &e);
  if (rc && rc != VIGIL_EINVAL) {
    free(text);
    r->err = e;
    return rc;
  }
  json_error_t je;
  *out = text ? json_loads(text, 0, &je) : NULL;
  free(text);
  if (!*out) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return rc;
}

int vigil__h_policy_decide(vigil__req *r) {
  json_t *o = NULL;
  int trace = 0;
  if (!vigil__query_bool(r, "trace", &trace)) return VIGIL_OK;
  int rc = decide_one(r, (const char *)r->body, r->body_len, trace, 0, &o);
  if (rc == VIGIL_EINVAL) {
    /* the one error shape: a code beside the policy engine's message (and line) */
    json_t *e = json_object_get(o, "error");
    if (!json_is_object(e) || json_object_set_new(e, "code", json_string("invalid")) != 0 ||
        !json_is_string(json_object_get(e, "message"))) {
      json_decref(o);
      return vigil__reply_error(r, 400, "invalid", "the decision request is not valid");
    }
    return vigil__reply_json(r, 400, o);
  }
  if (rc) return rc;
  return vigil__reply_json(r, 200, o);
}

#define BATCH_MAX 10000

int vigil__h_policy_batch(vigil__req *r) {
  static const char *const allowed[] = {"requests", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  json_t *reqs = json_object_get(r->json, "requests");
  if (!json_is_array(reqs) || json_array_size(reqs) > BATCH_MAX)
    return vigil__reply_error(r, 400, "wrong_type", "'requests' must be an array of at most %d requests", BATCH_MAX);
  int trace = 0;
  if (!vigil__query_bool(r, "trace", &trace)) return VIGIL_OK;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < json_array_size(reqs); i++) {
    char *one = json_dumps(json_array_get(reqs, i), JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *d = NULL;
    int rc = one ? decide_one(r, one, strlen(one), trace, (long)i + 1, &d) : VIGIL_ENOMEM;
    free(one);
    if (rc && rc != VIGIL_EINVAL) {
      json_decref(arr);
      return rc;
    }
    json_array_append_new(arr, d);
  }
  if (!arr) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, json_pack("{s:o}", "decisions", arr));
}

static int scratch_get(vigil__signals *s, vigil_ad_scratch **out, vigil_error *err) {
  pthread_mutex_lock(&s->mu);
  *out = s->nscratch ? s->free_scratch[--s->nscratch] : NULL;
  pthread_mutex_unlock(&s->mu);
  return *out ? VIGIL_OK : vigil_ad_scratch_new(s->ads, out, err);
}

static void scratch_put(vigil__signals *s, vigil_ad_scratch *x) {
  pthread_mutex_lock(&s->mu);
  if (s->nscratch < POOL_MAX) {
    s->free_scratch[s->nscratch++] = x;
    x = NULL;
  }
  pthread_mutex_unlock(&s->mu);
  vigil_ad_scratch_free(x);
}

int vigil__h_text_scan(vigil__req *r) {
  const char *k = vigil__req_query(r, "kind");
  vigil_text_scan_kind kind = VIGIL_SCAN_AD;
  if (k && !strcmp(k, "message")) kind = VIGIL_SCAN_MESSAGE;
  else if (k && !strcmp(k, "contacts")) kind = VIGIL_SCAN_CONTACTS;
  else if (k && strcmp(k, "ad") != 0) return vigil__reply_error(r, 400, "invalid", "kind: expected ad, message or contacts");
  vigil__signals *s = vigil__server_signals(r->srv);
  vigil_ad_scratch *scr;
  int rc = scratch_get(s, &scr, &r->err);
  if (rc) return rc;
  char *out = NULL;
  vigil_error e;
  rc = vigil_text_scan_json(s->ads, scr, (const char *)r->body, r->body_len, kind, &out, &e);
  scratch_put(s, scr);
  if (rc == VIGIL_EINVAL) return vigil__reply_error(r, 400, "invalid", "%s", e.message);
  if (rc) {
    r->err = e;
    return rc;
  }
  return reply_raw_json(r, 200, out);
}
