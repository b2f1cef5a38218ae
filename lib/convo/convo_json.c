/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convo_json.c - a whole conversation as JSON in, its risk as JSON out.
 *
 * The input shape is checked field by field and every problem is reported
 * with the path of the field ("messages[3].text: expected a string"), so a
 * batch tool can tell the user which record and which field is wrong.
 * Only participants[].id/age/age_band and messages[].from|sender/text are
 * read: ground-truth fields some corpora carry (label, role) are never
 * scorer input.  Evidence is reported as the message's position in the
 * input array, byte offsets into its text, the text of the span and the
 * message's timestamp ("ts" or "timestamp") when it has one.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "convo/convo_internal.h"

#define MAX_PAIRS_OUT 10

static int load_participants(vigil_convo *c, json_t *parts, vigil_error *err) {
  if (!parts || json_is_null(parts)) return VIGIL_OK;
  if (!json_is_array(parts)) return vigil__seterr(err, VIGIL_EINVAL, "participants: expected an array");
  size_t i;
  json_t *p;
  json_array_foreach(parts, i, p) {
    const char *id = NULL;
    if (json_is_string(p)) id = json_string_value(p);
    else if (json_is_object(p)) {
      json_t *jid = json_object_get(p, "id");
      if (!json_is_string(jid)) return vigil__seterr(err, VIGIL_EINVAL, "participants[%zu].id: expected a string", i);
      id = json_string_value(jid);
    } else
      return vigil__seterr(err, VIGIL_EINVAL, "participants[%zu]: expected an object or a string", i);
    int age = -1;
    const char *band = NULL;
    if (json_is_object(p)) {
      json_t *ja = json_object_get(p, "age");
      if (ja && !json_is_null(ja)) {
        if (!json_is_integer(ja) || json_integer_value(ja) < 0 || json_integer_value(ja) > 150)
          return vigil__seterr(err, VIGIL_EINVAL, "participants[%zu].age: expected an integer from 0 to 150", i);
        age = (int)json_integer_value(ja);
      }
      json_t *jb = json_object_get(p, "age_band");
      if (jb && !json_is_null(jb)) {
        if (!json_is_string(jb)) return vigil__seterr(err, VIGIL_EINVAL, "participants[%zu].age_band: expected a string", i);
        band = json_string_value(jb);
      }
    }
    int rc = vigil_convo_declare(c, id, age, band, err);
    if (rc < 0) return vigil__prefixerr(err, rc, "participants");
  }
  return VIGIL_OK;
}

static const char *sender_of(json_t *m) {
  json_t *f = json_object_get(m, "from");
  if (!f) f = json_object_get(m, "sender");
  return json_is_string(f) ? json_string_value(f) : NULL;
}

static json_t *evidence_json(json_t *msgs, const vigil_convo_evidence *e) {
  json_t *m = json_array_get(msgs, e->message);
  json_t *t = json_object_get(m, "text");
  const char *s = json_string_value(t);
  size_t len = json_string_length(t);
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "message", json_integer((json_int_t)e->message));
  json_object_set_new(o, "start", json_integer((json_int_t)e->start));
  json_object_set_new(o, "end", json_integer((json_int_t)e->end));
  json_t *ts = json_object_get(m, "ts");
  if (!ts) ts = json_object_get(m, "timestamp");
  if (ts && !json_is_null(ts)) json_object_set(o, "ts", ts); /* echoed as given */
  if (s && e->start <= e->end && e->end <= len) {
    /* Spans start and end on code point boundaries (convo_norm.c), so the
     * slice is valid UTF-8. */
    json_t *span = json_stringn(s + e->start, e->end - e->start);
    if (span) json_object_set_new(o, "text", span);
  }
  return o;
}

static json_t *person_json(const vigil_convo_person *p, json_t *msgs) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "id", json_string(p->id));
  json_object_set_new(o, "messages", json_integer((json_int_t)p->messages));
  json_object_set_new(o, "minor", json_boolean(p->minor));
  json_object_set_new(o, "adult", json_boolean(p->adult));
  json_object_set_new(o, "age", p->age >= 0 ? json_integer(p->age) : json_null());
  json_object_set_new(o, "age_source", json_string(vigil_convo_age_source_name(p->age_source)));
  if (p->has_age_evidence) json_object_set_new(o, "age_evidence", evidence_json(msgs, &p->age_evidence));
  json_object_set_new(o, "youth_cues", json_integer(p->youth_cues));
  json_object_set_new(o, "age_conflict", json_boolean(p->age_conflict));
  return o;
}

static json_t *pair_json(const vigil_convo *c, const vigil_convo_pair *pr, json_t *msgs) {
  const vigil_convo_person *a = vigil_convo_person_at(c, pr->actor), *b = vigil_convo_person_at(c, pr->target);
  json_t *o = json_object(), *stages = json_array();
  if (!o || !stages) {
    json_decref(o);
    json_decref(stages);
    return NULL;
  }
  json_object_set_new(o, "actor", json_string(a->id));
  json_object_set_new(o, "target", json_string(b->id));
  json_object_set_new(o, "risk", json_real(pr->risk));
  json_object_set_new(o, "level", json_string(vigil_convo_level_name(pr->level)));
  json_object_set_new(o, "minor_involved", json_boolean(pr->minor_involved));
  for (int k = 0; k < VIGIL_STAGE_COUNT; k++) {
    const vigil_convo_stage_hits *h = &a->stage[k];
    if (!h->count) continue;
    json_t *s = json_object(), *ev = json_array();
    if (!s || !ev) {
      json_decref(s);
      json_decref(ev);
      continue;
    }
    json_object_set_new(s, "stage", json_string(vigil_convo_stage_name(k)));
    json_object_set_new(s, "count", json_integer(h->count));
    for (unsigned e = 0; e < h->n_evidence; e++) json_array_append_new(ev, evidence_json(msgs, &h->evidence[e]));
    json_object_set_new(s, "evidence", ev);
    json_array_append_new(stages, s);
  }
  json_object_set_new(o, "stages", stages);
  return o;
}

static json_t *result_json(const vigil_convo *c, json_t *id, json_t *msgs) {
  json_t *o = json_object(), *persons = json_array(), *pairs = json_array(), *minors = json_array();
  if (!o || !persons || !pairs || !minors) {
    json_decref(o);
    json_decref(persons);
    json_decref(pairs);
    json_decref(minors);
    return NULL;
  }
  vigil_convo_pair best, top[MAX_PAIRS_OUT], cur;
  size_t ntop = 0;
  double risk = vigil_convo_risk(c, &best);
  size_t np = vigil_convo_persons(c);
  for (size_t i = 0; i < np; i++) {
    const vigil_convo_person *p = vigil_convo_person_at(c, i);
    unsigned any = 0;
    for (int k = 0; k < VIGIL_STAGE_COUNT; k++) any |= p->stage[k].count;
    if (!any) continue;
    for (size_t j = 0; j < np; j++) {
      if (i == j || vigil_convo_pair_risk(c, i, j, &cur) != VIGIL_OK) continue;
      /* keep the MAX_PAIRS_OUT riskiest, highest first (insertion sort) */
      size_t pos = ntop;
      while (pos > 0 && top[pos - 1].risk < cur.risk) pos--;
      if (pos >= MAX_PAIRS_OUT) continue;
      size_t last = ntop < MAX_PAIRS_OUT ? ntop : MAX_PAIRS_OUT - 1;
      memmove(&top[pos + 1], &top[pos], (last - pos) * sizeof top[0]);
      top[pos] = cur;
      if (ntop < MAX_PAIRS_OUT) ntop++;
    }
  }
  int minor_involved = 0;
  for (size_t i = 0; i < ntop; i++) {
    minor_involved |= top[i].minor_involved;
    json_array_append_new(pairs, pair_json(c, &top[i], msgs));
  }
  for (size_t i = 0; i < np; i++) {
    const vigil_convo_person *p = vigil_convo_person_at(c, i);
    json_t *pj = person_json(p, msgs);
    if (p->minor && pj) json_array_append(minors, pj);
    json_array_append_new(persons, pj);
  }
  if (id) json_object_set(o, "id", id);
  json_object_set_new(o, "risk", json_real(risk));
  json_object_set_new(o, "level", json_string(vigil_convo_level_name(ntop ? top[0].level : 0)));
  json_object_set_new(o, "grooming", json_boolean(risk >= VIGIL_CONVO_THRESHOLD));
  /* Said plainly, so that nobody acts on pairs[0] without reading it: who
   * is at risk and from whom (null when nothing reaches the threshold). */
  int flagged = ntop && top[0].risk >= VIGIL_CONVO_THRESHOLD;
  json_object_set_new(o, "suspected_groomer",
                      flagged ? json_string(vigil_convo_person_at(c, top[0].actor)->id) : json_null());
  json_object_set_new(o, "at_risk", flagged ? json_string(vigil_convo_person_at(c, top[0].target)->id) : json_null());
  json_object_set_new(o, "minor_involved", json_boolean(minor_involved || json_array_size(minors) > 0));
  json_object_set_new(o, "messages", json_integer((json_int_t)vigil_convo_messages(c)));
  json_object_set_new(o, "invalid_utf8_messages", json_integer((json_int_t)vigil_convo_invalid_utf8(c)));
  json_object_set_new(o, "minors", minors);
  json_object_set_new(o, "pairs", pairs);
  json_object_set_new(o, "participants", persons);
  return o;
}

int vigil_convo_score_json(vigil_convo_scorer *s, const char *json, size_t len, char **out_json, vigil_error *err) {
  *out_json = NULL;
  if (!s || (!json && len)) return vigil__seterr(err, VIGIL_EINVAL, "convo: no scorer or no input");
  json_error_t je;
  json_t *root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je);
  if (!root) return vigil__seterr(err, VIGIL_EINVAL, "malformed JSON at column %d: %s", je.column, je.text);
  vigil_convo *c = NULL;
  int rc = VIGIL_OK;
  if (!json_is_object(root)) {
    rc = vigil__seterr(err, VIGIL_EINVAL, "expected a JSON object with \"messages\"");
    goto done;
  }
  json_t *msgs = json_object_get(root, "messages");
  if (!json_is_array(msgs)) {
    rc = vigil__seterr(err, VIGIL_EINVAL, "messages: expected an array");
    goto done;
  }
  if ((rc = vigil_convo_new(s, &c, err)) != VIGIL_OK) goto done;
  if ((rc = load_participants(c, json_object_get(root, "participants"), err)) != VIGIL_OK) goto done;
  size_t i;
  json_t *m;
  json_array_foreach(msgs, i, m) {
    if (!json_is_object(m)) {
      rc = vigil__seterr(err, VIGIL_EINVAL, "messages[%zu]: expected an object", i);
      goto done;
    }
    const char *from = sender_of(m);
    if (!from || !*from) {
      rc = vigil__seterr(err, VIGIL_EINVAL, "messages[%zu].from: expected a non-empty string", i);
      goto done;
    }
    json_t *t = json_object_get(m, "text");
    if (!json_is_string(t)) {
      rc = vigil__seterr(err, VIGIL_EINVAL, "messages[%zu].text: expected a string", i);
      goto done;
    }
    if ((rc = vigil_convo_add(c, from, json_string_value(t), json_string_length(t), err)) != VIGIL_OK) {
      vigil__prefixerr(err, rc, "messages");
      goto done;
    }
  }
  json_t *out = result_json(c, json_object_get(root, "id"), msgs);
  char *s_out = out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(4)) : NULL;
  json_decref(out);
  if (!s_out) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory writing the result");
    goto done;
  }
  *out_json = s_out;
done:
  vigil_convo_free(c);
  json_decref(root);
  return rc;
}
