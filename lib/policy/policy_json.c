/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_json.c - the JSON request/response form of a policy decision, as
 * `vigil policy decide` reads and writes it and a service can serve it
 * (POST /v1/policy/decide): one request object in, one decision object out.
 * docs/policy.md describes both.
 *
 * Requests are hostile input: unknown keys are rejected (a typo such as
 * "relationshp" must not silently turn into "strangers"), every field is
 * type-checked, dates are validated, and the error says which field is
 * wrong.  This layer allocates (jansson); vigil_policy_decide() under it
 * does not.
 */
#include "common/internal.h"
#include "policy/policy_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int parse_date(const char *s, int *y, int *m, int *d) {
  if (!s || strlen(s) < 10) return -1;
  for (int i = 0; i < 10; i++)
    if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return -1;
  *y = atoi(s);
  *m = (s[5] - '0') * 10 + (s[6] - '0');
  *d = (s[8] - '0') * 10 + (s[9] - '0');
  return 0;
}

/* "HH:MM" or an ISO 8601 date-time whose clock part is the local time. */
static int parse_time(const char *s, int *minute, int *y, int *m, int *d, int *has_date) {
  const char *c = s;
  *has_date = 0;
  if (strlen(s) >= 16 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ')) {
    if (parse_date(s, y, m, d)) return -1;
    *has_date = 1;
    c = s + 11;
  }
  if (!(c[0] >= '0' && c[0] <= '2' && c[1] >= '0' && c[1] <= '9' && c[2] == ':' && c[3] >= '0' && c[3] <= '5' &&
        c[4] >= '0' && c[4] <= '9'))
    return -1;
  int h = (c[0] - '0') * 10 + (c[1] - '0');
  if (h > 23) return -1;
  if (!*has_date && c[5]) return -1;
  *minute = h * 60 + (c[3] - '0') * 10 + (c[4] - '0');
  return 0;
}

static int keys_ok(json_t *o, const char *const *allowed, char *why, size_t cap, const char *where) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    int ok = 0;
    for (int i = 0; allowed[i] && !ok; i++) ok = !strcmp(k, allowed[i]);
    if (!ok) {
      snprintf(why, cap, "%s: unknown key '%.60s'", where, k);
      return -1;
    }
  }
  return 0;
}

static int parse_account(const vigil_policy *p, json_t *o, const char *where, int ty, int tm, int td,
                         vigil_policy_account *a, char *why, size_t cap) {
  static const char *const allowed[] = {"id", "band", "dob", "age", "settings", "parent_linked",
                                        "parent_approved", "risk", NULL};
  vigil_policy_account_init(a);
  if (!o) return 0; /* absent party: unknown band */
  if (!json_is_object(o)) return snprintf(why, cap, "%s must be an object", where), -1;
  if (keys_ok(o, allowed, why, cap, where)) return -1;
  json_t *v;
  if ((v = json_object_get(o, "id"))) {
    if (!json_is_string(v)) return snprintf(why, cap, "%s.id must be a string", where), -1;
    a->id = json_string_value(v);
  }
  vigil_age_input in;
  memset(&in, 0, sizeof in);
  in.today_year = ty, in.today_month = tm, in.today_day = td;
  int have_band = 0;
  if ((v = json_object_get(o, "band"))) {
    int b = json_is_string(v) ? vigil_band_from_name(json_string_value(v)) : -1;
    if (b < 0) return snprintf(why, cap, "%s.band must be one of u13, 13-15, 16-17, adult, unknown", where), -1;
    a->band = (uint8_t)b;
    have_band = 1;
  }
  if ((v = json_object_get(o, "dob"))) {
    if (!json_is_string(v) || strlen(json_string_value(v)) != 10 ||
        parse_date(json_string_value(v), &in.dob_year, &in.dob_month, &in.dob_day) || in.dob_year == 0)
      return snprintf(why, cap, "%s.dob must be a date YYYY-MM-DD", where), -1;
  }
  if ((v = json_object_get(o, "age"))) {
    static const char *const age_keys[] = {"band", "confidence", "method", NULL};
    if (!json_is_object(v)) return snprintf(why, cap, "%s.age must be an object", where), -1;
    if (keys_ok(v, age_keys, why, cap, where)) return -1;
    json_t *b = json_object_get(v, "band"), *c = json_object_get(v, "confidence"), *m = json_object_get(v, "method");
    int band = b && json_is_string(b) ? vigil_band_from_name(json_string_value(b)) : -1;
    const char *ms = m && json_is_string(m) ? json_string_value(m) : "";
    int method = !strcmp(ms, "self_declared") || !strcmp(ms, "self-declared") ? VIGIL_ASSURE_SELF_DECLARED
                 : !strcmp(ms, "estimated")                                    ? VIGIL_ASSURE_ESTIMATED
                 : !strcmp(ms, "verified")                                     ? VIGIL_ASSURE_VERIFIED
                                                                               : -1;
    if (band < 0 || method < 0 || (c && !json_is_number(c)))
      return snprintf(why, cap,
                      "%s.age needs band (u13, 13-15, 16-17, adult), method (self_declared, estimated, verified) "
                      "and a numeric confidence",
                      where),
             -1;
    in.assured_band = band;
    in.method = method;
    in.confidence = c ? json_number_value(c) : (method == VIGIL_ASSURE_VERIFIED ? 1.0 : 0.0);
  }
  if (have_band && (in.dob_year || in.method))
    return snprintf(why, cap, "%s: give either band or dob/age, not both", where), -1;
  if (!have_band) {
    vigil_error e;
    int band;
    if (vigil_policy_resolve_band(p, &in, &band, &e)) return snprintf(why, cap, "%s: %.400s", where, e.message), -1;
    a->band = (uint8_t)band;
  }
  if ((v = json_object_get(o, "settings"))) {
    if (!json_is_object(v)) return snprintf(why, cap, "%s.settings must be an object", where), -1;
    const char *k;
    json_t *sv;
    json_object_foreach(v, k, sv) {
      int s = vigil_setting_from_name(k);
      int aud = json_is_string(sv) ? vigil_audience_from_name(json_string_value(sv)) : -1;
      if (s < 0) return snprintf(why, cap, "%s.settings: unknown setting '%.60s'", where, k), -1;
      if (aud < 0)
        return snprintf(why, cap, "%s.settings.%s: expected everyone, followers, following, friends, known or none",
                        where, k),
               -1;
      a->settings[s] = (uint8_t)aud;
    }
  }
  if ((v = json_object_get(o, "parent_linked"))) {
    if (!json_is_boolean(v)) return snprintf(why, cap, "%s.parent_linked must be true or false", where), -1;
    a->parent_linked = json_is_true(v);
  }
  if ((v = json_object_get(o, "parent_approved"))) {
    if (!json_is_array(v)) return snprintf(why, cap, "%s.parent_approved must be an array of setting names", where), -1;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      int s = json_is_string(e) ? vigil_setting_from_name(json_string_value(e)) : -1;
      if (s < 0) return snprintf(why, cap, "%s.parent_approved[%zu] is not a setting name", where, i), -1;
      a->parent_approved |= (uint16_t)(1u << s);
    }
  }
  if ((v = json_object_get(o, "risk"))) {
    if (!json_is_array(v)) return snprintf(why, cap, "%s.risk must be an array", where), -1;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      const char *r = json_is_string(e) ? json_string_value(e) : "";
      if (!strcmp(r, "grooming") || !strcmp(r, "grooming_risk")) a->risk |= VIGIL_RISK_GROOMING;
      else if (!strcmp(r, "hash_match")) a->risk |= VIGIL_RISK_HASH_MATCH;
      else return snprintf(why, cap, "%s.risk[%zu]: expected grooming or hash_match", where, i), -1;
    }
  }
  return 0;
}

static int parse_rel(json_t *o, unsigned *flags, char *why, size_t cap) {
  static const char *const names[] = {"actor_follows", "target_follows", "friends", "blocked", "known_irl", NULL};
  static const unsigned bits[] = {VIGIL_RELF_ACTOR_FOLLOWS, VIGIL_RELF_TARGET_FOLLOWS, VIGIL_RELF_FRIENDS,
                                  VIGIL_RELF_BLOCKED, VIGIL_RELF_KNOWN_IRL};
  *flags = 0;
  if (!o) return 0;
  if (!json_is_object(o)) return snprintf(why, cap, "relationship must be an object"), -1;
  if (keys_ok(o, names, why, cap, "relationship")) return -1;
  for (int i = 0; names[i]; i++) {
    json_t *v = json_object_get(o, names[i]);
    if (!v) continue;
    if (!json_is_boolean(v)) return snprintf(why, cap, "relationship.%s must be true or false", names[i]), -1;
    if (json_is_true(v)) *flags |= bits[i];
  }
  return 0;
}

static json_t *decision_json(const vigil_policy_decision *d, json_t *id, const vigil_policy_request *rq,
                             const char *trace) {
  json_t *o = json_object(), *reasons = json_array(), *conds = json_array();
  if (!o || !reasons || !conds) {
    json_decref(o);
    json_decref(reasons);
    json_decref(conds);
    return NULL;
  }
  if (id) json_object_set(o, "id", id);
  json_object_set_new(o, "decision", json_string(vigil_outcome_name(d->outcome)));
  for (int i = 0; i < VIGIL_COND_COUNT; i++)
    if (d->conditions & (1u << i)) json_array_append_new(conds, json_string(vigil_condition_name(1u << i)));
  json_object_set_new(o, "conditions", conds);
  for (int i = 0; i < d->nreasons; i++) json_array_append_new(reasons, json_string(d->reasons[i]));
  json_object_set_new(o, "reasons", reasons);
  json_object_set_new(o, "sentence", json_string(d->sentence));
  json_object_set_new(o, "source", json_string(d->source));
  if (d->rule_line)
    json_object_set_new(o, "rule", json_pack("{s:s, s:s, s:i}", "id", d->reasons[0], "origin", d->rule_origin,
                                             "line", d->rule_line));
  json_object_set_new(o, "actor_band", json_string(vigil_band_name(rq->actor->band)));
  json_object_set_new(o, "target_band", json_string(vigil_band_name(rq->target->band)));
  json_object_set_new(o, "relationship", json_string(vigil_rel_name(vigil_rel_from_flags(rq->rel_flags))));
  if (trace) {
    json_t *t = json_array();
    const char *s = trace;
    while (t && *s) {
      const char *e = strchr(s, '\n');
      size_t n = e ? (size_t)(e - s) : strlen(s);
      json_array_append_new(t, json_stringn(s, n));
      s += n + (e ? 1 : 0);
    }
    json_object_set_new(o, "trace", t);
  }
  return o;
}

/* Serialises o (consumed) into *out; VIGIL_ENOMEM when it cannot. */
static int dump(json_t *o, char **out, vigil_error *err) {
  *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return *out ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
}

static int error_object(json_t *id, long line, const char *msg, char **out, vigil_error *err) {
  json_t *o = json_object(), *e = json_object();
  if (!o || !e) {
    json_decref(o);
    json_decref(e);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  if (id) json_object_set(o, "id", id);
  if (line > 0) json_object_set_new(e, "line", json_integer(line));
  json_object_set_new(e, "message", json_string(msg));
  json_object_set_new(o, "error", e);
  if (dump(o, out, err)) return VIGIL_ENOMEM;
  return vigil__seterr(err, VIGIL_EINVAL, "%s", msg);
}

int vigil_policy_decide_json(const vigil_policy *p, const char *json, size_t len, int trace_all, long line,
                             char **out, vigil_error *err) {
  if (!out) return vigil__seterr(err, VIGIL_EINVAL, "decide_json: NULL output");
  *out = NULL;
  if (!p || !json) return vigil__seterr(err, VIGIL_EINVAL, "decide_json: NULL argument");
  json_error_t je;
  char why[512];
  json_t *rq = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
  if (!rq) {
    snprintf(why, sizeof why, "invalid JSON at column %d: %s", je.column, je.text);
    return error_object(NULL, line, why, out, err);
  }
  json_t *id = json_is_object(rq) ? json_object_get(rq, "id") : NULL;
  static const char *const allowed[] = {"id", "action", "actor", "target", "relationship", "time", "today", "trace",
                                        NULL};
  int rc;
  vigil_policy_account actor, target;
  vigil_policy_request r;
  memset(&r, 0, sizeof r);
  r.local_minute = -1;
  if (!json_is_object(rq)) {
    snprintf(why, sizeof why, "a request must be a JSON object");
    goto bad;
  }
  if (keys_ok(rq, allowed, why, sizeof why, "request")) goto bad;
  json_t *v = json_object_get(rq, "action");
  r.action = v && json_is_string(v) ? vigil_action_from_name(json_string_value(v)) : -1;
  if (r.action < 0) {
    snprintf(why, sizeof why,
             "action must be one of view_profile, follow, dm_text, dm_media, comment, mention, duet, stitch, download, "
             "suggest, search, live_host, live_comment, gift, location_share, notify");
    goto bad;
  }
  /* "today" for dates of birth: the request's, else the date of its time,
   * else the system's UTC date. */
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  int ty = tmv.tm_year + 1900, tm = tmv.tm_mon + 1, td = tmv.tm_mday, y, m, d, has_date = 0, minute = -1;
  if ((v = json_object_get(rq, "time"))) {
    if (!json_is_string(v) || parse_time(json_string_value(v), &minute, &y, &m, &d, &has_date)) {
      snprintf(why, sizeof why, "time must be local HH:MM or an ISO 8601 date-time (YYYY-MM-DDTHH:MM...)");
      goto bad;
    }
    r.local_minute = minute;
    if (has_date) ty = y, tm = m, td = d;
  }
  if ((v = json_object_get(rq, "today"))) {
    if (!json_is_string(v) || strlen(json_string_value(v)) != 10 || parse_date(json_string_value(v), &ty, &tm, &td)) {
      snprintf(why, sizeof why, "today must be a date YYYY-MM-DD");
      goto bad;
    }
  }
  int trace = trace_all;
  if ((v = json_object_get(rq, "trace"))) {
    if (!json_is_boolean(v)) {
      snprintf(why, sizeof why, "trace must be true or false");
      goto bad;
    }
    trace |= json_is_true(v);
  }
  if (parse_account(p, json_object_get(rq, "actor"), "actor", ty, tm, td, &actor, why, sizeof why) ||
      parse_account(p, json_object_get(rq, "target"), "target", ty, tm, td, &target, why, sizeof why) ||
      parse_rel(json_object_get(rq, "relationship"), &r.rel_flags, why, sizeof why))
    goto bad;
  r.actor = &actor;
  r.target = &target;
  vigil_policy_decision dec;
  char tracebuf[16384];
  if (trace) vigil_policy_decide_traced(p, &r, &dec, tracebuf, sizeof tracebuf);
  else vigil_policy_decide(p, &r, &dec);
  rc = dump(decision_json(&dec, id, &r, trace ? tracebuf : NULL), out, err);
  json_decref(rq);
  return rc;
bad:
  rc = error_object(id, line, why, out, err);
  json_decref(rq);
  return rc;
}
