/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sightings.c - one case per piece of content: a repeat of content that
 * already has an undecided case adds a sighting to that case instead of
 * opening another, so a reviewer sees an upload seen three times once,
 * with the count, first and last seen, and who uploaded it.
 *
 * "The same content" is the strongest identity a case has: the SHA-256 of
 * its bytes when known (an upload), else its MD5, else its exact PDQ hash,
 * else the caller's content id, else its URL; a case only counts if it has
 * nothing stronger than that key (a case with a SHA-256 is never joined by
 * MD5 alone, so two different files with colliding MD5s stay two cases,
 * and retained evidence is only ever replaced by the same bytes).  Decided
 * cases are not joined: content seen again after a decision is a new case.
 *
 * On by default; `vigil serve --no-group-sightings` (separate_sightings)
 * opens a case per upload for pipelines written for that.  Every case
 * records its sightings either way, so the count is right from the first.
 * A sighting brings what the case lacked: bank entries it matched that the
 * case had not (the case is ranked again) and its kept evidence.  These run
 * inside vigil_case_open's transaction, under the store lock: on one node
 * two identical uploads at once give one case.  (Two nodes may each open
 * one in the same instant; the queue still shows both.)
 */
#include "server/cases.h"
#include "server/accounts.h"

#include <stdlib.h>
#include <string.h>

#include "db/sql.h"

static const struct {
  const char *sql;
} keys[] = {
    {"SELECT id, status FROM server_cases WHERE sha256 = lower($1)"},
    {"SELECT id, status FROM server_cases WHERE md5 = lower($1) AND sha256 IS NULL"},
    {"SELECT id, status FROM server_cases WHERE pdq = lower($1) AND md5 IS NULL AND sha256 IS NULL"},
    {"SELECT id, status FROM server_cases WHERE content_id = $1 AND pdq IS NULL AND md5 IS NULL AND sha256 IS NULL"},
    {"SELECT id, status FROM server_cases WHERE url = $1 AND content_id IS NULL AND pdq IS NULL AND md5 IS NULL"
     " AND sha256 IS NULL"},
};

int vigil__sighting_find_locked(vigil_server_store *st, const vigil_case_new *c, int64_t *id, int *escalated,
                                vigil_error *err) {
  *id = 0;
  *escalated = 0;
  const char *v[] = {c->sha256, c->md5, c->pdq, c->content_id, c->url};
  int k = 0;
  while (k < 5 && !v[k]) k++;
  if (k == 5) return VIGIL_OK;
  char sql[400];
  snprintf(sql, sizeof sql, "%s AND status IN ('open', 'escalated') ORDER BY id LIMIT 1", keys[k].sql);
  const vigil__val p[] = {vigil__vtext(v[k])};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(st->db, sql, p, 1, &rows, NULL, err);
  if (!rc && vigil__rows_count(rows)) {
    *id = vigil__rows_int(rows, 0, 0);
    const char *s = vigil__rows_text(rows, 0, 1);
    *escalated = s && !strcmp(s, "escalated");
  }
  vigil__rows_free(rows);
  return rc;
}

int vigil__sighting_add_locked(vigil_server_store *st, int64_t id, const vigil_case_new *c, const char *at,
                               vigil_error *err) {
  const vigil__val p[] = {vigil__vint(id), vigil__vtext(c->content_id), vigil__vtext(c->uploader_id),
                          vigil__vtext(c->url), vigil__vtext(at)};
  int rc = vigil__sql_run(st->db,
                          "INSERT INTO server_case_sightings(case_id, content_id, uploader_id, url, at)"
                          " VALUES($1, $2, $3, $4, $5)",
                          p, 5, NULL, NULL, err);
  if (!rc)
    rc = vigil__sql_run(st->db, "UPDATE server_cases SET updated_at = $5 WHERE id = $1", p, 5, NULL, NULL, err);
  return rc;
}

/* Whether matches holds a hit of the same bank entry as hit. */
static int has_hit(json_t *matches, json_t *hit) {
  json_t *b = json_object_get(hit, "bank"), *e = json_object_get(hit, "id");
  for (size_t i = 0; i < json_array_size(matches); i++) {
    json_t *h = json_array_get(matches, i);
    if (json_equal(json_object_get(h, "bank"), b) && json_equal(json_object_get(h, "id"), e)) return 1;
  }
  return 0;
}

int vigil__sighting_merge_locked(vigil_server_store *st, int64_t id, const char *detail, int *adopted,
                                 vigil_error *err) {
  *adopted = 0;
  json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
  json_t *ev = json_object_get(d, "evidence"), *hits = json_object_get(d, "matches");
  if (!ev && !json_array_size(hits)) {
    json_decref(d);
    return VIGIL_OK;
  }
  const vigil__val p[] = {vigil__vint(id)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(st->db, "SELECT detail FROM server_cases WHERE id = $1", p, 1, &rows, NULL, err);
  const char *old = !rc && vigil__rows_count(rows) ? vigil__rows_text(rows, 0, 0) : NULL;
  json_t *o = old ? json_loads(old, 0, NULL) : json_object();
  vigil__rows_free(rows);
  int changed = 0, ranked = 0;
  if (!rc && !json_is_object(o)) rc = old ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  else if (!rc) {
    /* evidence only where the case has no record: one it has is of the same
     * bytes (the case joined on its SHA-256) and stays as it was */
    if (ev && !json_object_get(o, "evidence")) {
      if (json_object_set(o, "evidence", ev) != 0) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
      changed = *adopted = 1;
    }
    /* bank entries this sighting matched that the case did not (a bank
     * added since), up to the cap a new case has (VIGIL__CASE_HITS) */
    json_t *have = json_object_get(o, "matches");
    if (!rc && json_array_size(hits) && !json_is_array(have)) {
      have = json_array();
      if (!have || json_object_set_new(o, "matches", have) != 0) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; !rc && i < json_array_size(hits) && json_array_size(have) < VIGIL__CASE_HITS; i++) {
      json_t *h = json_array_get(hits, i);
      if (!json_is_object(h) || has_hit(have, h)) continue;
      if (json_array_append(have, h) != 0) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
      changed = ranked = 1;
    }
  }
  char *text = NULL;
  if (!rc && changed && !(text = json_dumps(o, JSON_COMPACT))) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  const vigil__val u[] = {vigil__vint(id), vigil__vtext(text)};
  if (!rc && changed)
    rc = vigil__sql_run(st->db, "UPDATE server_cases SET detail = $2 WHERE id = $1", u, 2, NULL, NULL, err);
  /* the queue's order and labels follow the matches: ranked again from them */
  if (!rc && ranked)
    rc = vigil__sql_run(st->db, "DELETE FROM server_case_rank WHERE case_id = $1", p, 1, NULL, NULL, err);
  if (!rc && ranked)
    rc = vigil__sql_run(st->db, "DELETE FROM server_case_labels WHERE case_id = $1", p, 1, NULL, NULL, err);
  if (!rc && ranked) rc = vigil__case_rank_locked(st, id, text, err);
  free(text);
  json_decref(o);
  json_decref(d);
  return rc;
}

int vigil__related_attach(vigil_server_store *st, int64_t id, json_t *o, vigil_error *err) {
  const vigil__val p[] = {vigil__vint(id), vigil__vtext(json_string_value(json_object_get(o, "sha256"))),
                          vigil__vtext(json_string_value(json_object_get(o, "content_id"))),
                          vigil__vtext(json_string_value(json_object_get(o, "uploader_id")))};
  json_t *rel = NULL;
  int rc = vigil__query_json(st,
                             "SELECT id, status, classification, decided_by, decided_at,"
                             " CASE WHEN sha256 = $2 OR content_id = $3 THEN 'content' ELSE 'uploader' END AS same"
                             " FROM server_cases WHERE id <> $1 AND status <> 'open'"
                             " AND (sha256 = $2 OR content_id = $3 OR uploader_id = $4) ORDER BY id DESC LIMIT 10",
                             p, 4, &rel, err);
  if (!rc && json_object_set_new(o, "related", rel) != 0) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  return rc;
}

int vigil__sightings_attach(vigil_server_store *st, int64_t id, json_t *o, vigil_error *err) {
  const vigil__val p[] = {vigil__vint(id)};
  json_t *sum = NULL, *up = NULL;
  int rc = vigil__query_json(st,
                             "SELECT count(*) AS count, min(at) AS first_seen, max(at) AS last_seen"
                             " FROM server_case_sightings WHERE case_id = $1",
                             p, 1, &sum, err);
  /* the uploaders, most recent first, at most 20 (a case page shows them, not a census) */
  if (!rc)
    rc = vigil__query_json(st,
                           "SELECT uploader_id, count(*) AS count, max(at) AS last_seen FROM server_case_sightings"
                           " WHERE case_id = $1 AND uploader_id IS NOT NULL GROUP BY uploader_id"
                           " ORDER BY max(at) DESC, max(id) DESC LIMIT 20", /* ids break ties within a millisecond */
                           p, 1, &up, err);
  json_t *s = rc ? NULL : json_incref(json_array_get(sum, 0));
  json_decref(sum);
  if (!rc && (!s || json_object_set_new(s, "uploaders", up) != 0 || json_object_set_new(o, "sightings", s) != 0)) {
    if (!s) json_decref(up);
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  } else if (rc) {
    json_decref(up);
  }
  return rc;
}
