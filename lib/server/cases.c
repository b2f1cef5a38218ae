/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cases.c - the review queue: cases opened by modules (a match on a bank
 * flagged for review) or by callers (a user report), decided by reviewers.
 *
 * A case keeps hashes and the caller's metadata, never media (evidence.c
 * keeps an upload beside its case only when the operator turns that on).  Status
 * moves open -> confirmed | dismissed | escalated, and escalated ->
 * confirmed | dismissed; confirmed and dismissed are final (deciding again
 * is VIGIL_EEXIST).  Every decision is also kept in server_case_decisions,
 * so an escalation's history survives the final decision.
 */
#include "server/store.h"
#include "server/cases.h"
#include "server/accounts.h"

#include "report/holds.h"
#include "report/outbox.h"

#include <string.h>


#define FIELD_MAX 2048

static const char *const classifications[] = {"A1", "A2",          "B1",       "B2",         "C",     "ncii",
                                              "trafficking", "grooming", "sextortion", "csam", "other", NULL};

int vigil__case_valid_classification(const char *c) {
  for (int i = 0; classifications[i]; i++)
    if (!strcmp(c, classifications[i])) return 1;
  return 0;
}

static int hex_ok(const char *s, size_t want) {
  if (strlen(s) != want) return 0;
  for (size_t i = 0; i < want; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return 1;
}

int vigil_case_open(vigil_server_store *st, const vigil_case_new *c, int64_t *id, vigil_error *err) {
  return vigil__case_open(st, c, id, NULL, err);
}

int vigil__case_open(vigil_server_store *st, const vigil_case_new *c, int64_t *id, int *joined, vigil_error *err) {
  *id = 0;
  if (joined) *joined = 0;
  if (c->pdq && !hex_ok(c->pdq, 64)) return vigil__seterr(err, VIGIL_EINVAL, "pdq: expected 64 hex digits");
  if (c->md5 && !hex_ok(c->md5, 32)) return vigil__seterr(err, VIGIL_EINVAL, "md5: expected 32 hex digits");
  if (c->sha256 && !hex_ok(c->sha256, 64))
    return vigil__seterr(err, VIGIL_EINVAL, "sha256: expected 64 hex digits");
  const char *texts[] = {c->source, c->content_id, c->uploader_id, c->url, c->reason, c->opened_by};
  const char *names[] = {"source", "content_id", "uploader_id", "url", "reason", "opened_by"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    if (texts[i] && strlen(texts[i]) > FIELD_MAX)
      return vigil__seterr(err, VIGIL_EINVAL, "%s: longer than %d bytes", names[i], FIELD_MAX);
  if (!c->pdq && !c->md5 && !c->sha256 && !c->content_id && !c->url)
    return vigil__seterr(err, VIGIL_EINVAL, "a case needs at least one of pdq, md5, sha256, content_id, url");
  char *detail = NULL;
  if (c->detail_json) {
    json_error_t je;
    json_t *d = json_loads(c->detail_json, 0, &je);
    if (!d || !json_is_object(d)) {
      json_decref(d);
      return vigil__seterr(err, VIGIL_EINVAL, "detail: expected a JSON object");
    }
    detail = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    if (!detail) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  char at[40];
  vigil__iso_time(vigil__now_us(), at, sizeof at);
  const vigil__val p[] = {vigil__vtext(c->source ? c->source : "report"), vigil__vtext(c->pdq), vigil__vtext(c->md5),
                          vigil__vtext(c->sha256), vigil__vtext(c->content_id), vigil__vtext(c->uploader_id),
                          vigil__vtext(c->url), vigil__vtext(c->reason), vigil__vtext(detail),
                          vigil__vtext(c->opened_by), vigil__vtext(at)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  /* the case and its webhook deliveries commit together (report/outbox.h) */
  int rc = vigil__sql_begin(st->db, err);
  /* content that has an undecided case already: a sighting of it (sightings.c) */
  int64_t seen = 0;
  int escalated = 0;
  if (!rc && !st->separate_sightings) rc = vigil__sighting_find_locked(st, c, &seen, &escalated, err);
  if (!rc && seen) {
    *id = seen;
    rc = vigil__sighting_add_locked(st, seen, c, at, err);
    int adopted = 0;
    if (!rc) rc = vigil__sighting_merge_locked(st, seen, detail, &adopted, err);
    if (!rc) rc = vigil__sql_commit(st->db, err);
    else vigil__sql_rollback(st->db);
    pthread_mutex_unlock(&st->mu);
    free(detail);
    if (rc) *id = 0;
    else if (joined) *joined = (escalated ? VIGIL__JOINED_ESCALATED : VIGIL__JOINED_OPEN) | (adopted ? VIGIL__JOINED_EVIDENCE : 0);
    return rc ? vigil__prefixerr(err, rc, "open case") : VIGIL_OK;
  }
  if (!rc)
    rc = vigil__sql_run(st->db,
                        "INSERT INTO server_cases(source, pdq, md5, sha256, content_id, uploader_id, url, reason,"
                        " detail, opened_by, created_at, updated_at)"
                        " VALUES($1, lower($2), lower($3), lower($4), $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                        p, 11, &rows, NULL, err);
  if (!rc && vigil__rows_count(rows) != 1) rc = vigil__seterr(err, VIGIL_EINTERNAL, "no id returned");
  if (!rc) {
    *id = vigil__rows_int(rows, 0, 0);
    rc = vigil__sighting_add_locked(st, *id, c, at, err);
    if (!rc) rc = vigil__case_rank_locked(st, *id, detail, err); /* the queue's order (claims.c) */
  }
  if (!rc) {
    json_t *ev = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "case_id", (json_int_t)*id,
                           "source", c->source ? c->source : "report", "pdq", c->pdq, "md5", c->md5, "sha256",
                           c->sha256, "content_id", c->content_id, "uploader_id", c->uploader_id, "url", c->url,
                           "reason", c->reason, "created_at", at);
    rc = ev ? vigil__hooks_emit(st->db, VIGIL_EVENT_CASE_OPENED, ev, err) : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    json_decref(ev);
  }
  if (!rc) rc = vigil__sql_commit(st->db, err);
  else vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  if (rc) {
    *id = 0;
    vigil__prefixerr(err, rc, "open case");
  }
  vigil__rows_free(rows);
  free(detail);
  return rc;
}

#define CASE_COLS                                                                                                 \
  "id, status, source, pdq, md5, sha256, content_id, uploader_id, url, reason, detail, opened_by, created_at,"  \
  " updated_at, decision, classification, note, decided_by, decided_at"

/* The list's columns: the case's own, who holds it now, its severity (1
 * A1 .. 4 B2, 9 none) and whether it is in the child-safety queue. */
#define LIST_COLS                                                                                                      \
  "c.id AS id, c.status AS status, c.source AS source, c.pdq AS pdq, c.md5 AS md5, c.sha256 AS sha256,"                \
  " c.content_id AS content_id, c.uploader_id AS uploader_id, c.url AS url, c.reason AS reason,"                       \
  " c.detail AS detail, c.opened_by AS opened_by, c.created_at AS created_at, c.updated_at AS updated_at,"             \
  " c.decision AS decision, c.classification AS classification, c.note AS note, c.decided_by AS decided_by,"           \
  " c.decided_at AS decided_at,"                                                                                       \
  " (SELECT k.holder FROM server_case_claims k WHERE k.case_id = c.id AND k.until_at > $1) AS assignee,"               \
  " COALESCE((SELECT s.severity FROM server_case_rank s WHERE s.case_id = c.id), 9) AS severity,"                      \
  " CASE WHEN " VIGIL__CHILD_SQL " THEN 1 ELSE 0 END AS child_abuse"

int vigil__case_list(vigil_server_store *st, const vigil__case_filter *f, int64_t after_id, int limit, json_t **out,
                     vigil_error *err) {
  *out = NULL;
  int64_t now = vigil__now_s();
  vigil__val p[12] = {vigil__vint(now), vigil__vint(after_id), vigil__vint(limit)};
  int np = 3;
  char sql[6144] = "SELECT " LIST_COLS " FROM server_cases c WHERE c.id > $2";
  if (!vigil__case_filter_sql(f, now, sql, sizeof sql - 64, p, &np))
    return vigil__seterr(err, VIGIL_EINTERNAL, "list cases: the query does not fit");
  strcat(sql, " ORDER BY c.id LIMIT $3");
  int rc = vigil__query_json(st, sql, p, np, out, err);
  if (rc) return vigil__prefixerr(err, rc, "list cases");
  json_t *c;
  size_t i;
  json_array_foreach(*out, i, c) {
    json_object_set_new(c, "child_abuse", json_boolean(json_integer_value(json_object_get(c, "child_abuse")) != 0));
    /* a skipped case's marker is nobody's hold */
    const char *a = json_string_value(json_object_get(c, "assignee"));
    if (a && !strncmp(a, "skipped:", 8)) json_object_set_new(c, "assignee", json_null());
  }
  return VIGIL_OK;
}

int vigil__case_get(vigil_server_store *st, int64_t id, json_t **out, vigil_error *err) {
  *out = NULL;
  const vigil__val p[] = {vigil__vint(id)};
  json_t *found = NULL, *h = NULL;
  int rc = vigil__query_json(st, "SELECT " CASE_COLS " FROM server_cases WHERE id = $1", p, 1, &found, err);
  if (rc == VIGIL_OK && json_array_size(found) == 0)
    rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no case %lld", (long long)id);
  if (rc == VIGIL_OK)
    rc = vigil__query_json(st,
                           "SELECT decision, classification, note, key_id, at FROM server_case_decisions"
                           " WHERE case_id = $1 ORDER BY id",
                           p, 1, &h, err);
  json_t *o = rc == VIGIL_OK ? json_incref(json_array_get(found, 0)) : NULL;
  json_decref(found);
  if (rc == VIGIL_OK && json_object_set_new(o, "history", h) != 0) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (rc == VIGIL_OK) rc = vigil__sightings_attach(st, id, o, err);
  if (rc == VIGIL_OK) rc = vigil__related_attach(st, id, o, err); /* earlier decisions, for the reviewer */
  if (rc) {
    json_decref(o);
    return rc == VIGIL_ENOTFOUND ? rc : vigil__prefixerr(err, rc, "get case");
  }
  *out = o;
  return VIGIL_OK;
}

/* Called with st->mu held, inside a transaction. */
static int decide_locked(vigil_server_store *st, int64_t id, const char *status, const char *decision,
                         const char *classification, const char *note, const char *key_id, const char *at,
                         vigil_error *err) {
  /* The WHERE clause carries the state machine: only open or escalated
   * cases change, so a lost race or a repeated call changes nothing. */
  const vigil__val p[] = {vigil__vtext(status), vigil__vtext(decision), vigil__vtext(classification),
                          vigil__vtext(note),   vigil__vtext(key_id),   vigil__vtext(at),
                          vigil__vint(id)};
  int64_t changed = 0;
  int rc = vigil__sql_run(st->db,
                          "UPDATE server_cases SET status = $1, decision = $2, classification = $3, note = $4,"
                          " decided_by = $5, decided_at = $6, updated_at = $6 WHERE id = $7"
                          " AND status IN ('open','escalated')",
                          p, 7, NULL, &changed, err);
  if (rc) return rc;
  if (changed == 0) {
    vigil__rows *rows = NULL;
    rc = vigil__sql_run(st->db, "SELECT status FROM server_cases WHERE id = $1", &p[6], 1, &rows, NULL, err);
    int exists = rc == VIGIL_OK && vigil__rows_count(rows) > 0;
    vigil__rows_free(rows);
    if (rc) return rc;
    return exists ? vigil__seterr(err, VIGIL_EEXIST, "case %lld is already closed", (long long)id)
                  : vigil__seterr(err, VIGIL_ENOTFOUND, "no case %lld", (long long)id);
  }
  const vigil__val h[] = {vigil__vint(id), vigil__vtext(decision), vigil__vtext(classification), vigil__vtext(note),
                          vigil__vtext(key_id), vigil__vtext(at)};
  rc = vigil__sql_run(st->db,
                      "INSERT INTO server_case_decisions(case_id, decision, classification, note, key_id, at)"
                      " VALUES($1, $2, $3, $4, $5, $6)",
                      h, 6, NULL, NULL, err);
  if (rc) return rc;
  /* the decision's webhook deliveries commit with it (report/outbox.h) */
  json_t *ev = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s?, s:s}", "case_id", (json_int_t)id, "status", status,
                         "decision", decision, "classification", classification, "note", note, "decided_by", key_id,
                         "decided_at", at);
  rc = ev ? vigil__hooks_emit(st->db, VIGIL_EVENT_CASE_DECIDED, ev, err) : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  json_decref(ev);
  return rc;
}

int vigil__case_decide(vigil_server_store *st, int64_t id, const char *decision, const char *classification,
                       const char *note, const char *key_id, int dispute, vigil__audit_rec *audit, vigil_error *err) {
  const char *status = !strcmp(decision, "confirm")    ? "confirmed"
                       : !strcmp(decision, "dismiss")  ? "dismissed"
                       : !strcmp(decision, "escalate") ? "escalated"
                                                       : NULL;
  if (!status) return vigil__seterr(err, VIGIL_EINVAL, "decision: expected confirm, dismiss or escalate");
  char at[40];
  vigil__iso_time(vigil__now_us(), at, sizeof at);
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_begin(st->db, err);
  if (rc == VIGIL_OK) rc = decide_locked(st, id, status, decision, classification, note, key_id, at, err);
  /* a false positive reported back to the bank's owner (h_disputes.c) */
  if (rc == VIGIL_OK && dispute) rc = vigil__disputes_add_locked(st, id, key_id, note, at, err);
  if (rc == VIGIL_OK && audit) rc = vigil__audit_append_locked(st, audit, err);
  if (rc == VIGIL_OK) rc = vigil__sql_commit(st->db, err);
  else vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  return rc;
}

int vigil_case_get_json(vigil_server_store *st, int64_t id, char **json, vigil_error *err) {
  *json = NULL;
  json_t *o;
  int rc = vigil__case_get(st, id, &o, err);
  if (rc) return rc;
  *json = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  return *json ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
}

/* What POST /v1/cases/{id}/report does after an export (h_report.c), for
 * `vigil report export`: a report made by hand is held and audited just
 * the same, in one transaction, so a case never leaves for the
 * CyberTipline without its hold. */
int vigil_case_report_exported(vigil_server_store *st, const int64_t *case_ids, size_t n, const char *directory,
                               const char *xml, int64_t *held_until, vigil_error *err) {
  if (held_until) *held_until = 0;
  if (!st->actor[0]) return vigil__seterr(err, VIGIL_EINVAL, "audit: no actor set (vigil_server_store_set_actor)");
  if (!n || !directory || !xml) return vigil__seterr(err, VIGIL_EINVAL, "report: no cases, directory or XML");
  json_t *ids = json_array();
  for (size_t i = 0; ids && i < n; i++)
    if (json_array_append_new(ids, json_integer(case_ids[i]))) {
      json_decref(ids);
      ids = NULL;
    }
  int64_t until = vigil__now_s() + VIGIL__HOLD_REPORT_S, eff = until;
  char *idlist = ids ? json_dumps(ids, JSON_COMPACT) : NULL;
  json_t *d = ids ? json_pack("{s:s, s:O, s:s, s:o}", "mode", "export", "cases", ids, "directory", directory,
                              "held_until", vigil__json_time_s(until))
                  : NULL;
  char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
  json_decref(d);
  json_decref(ids);
  if (!idlist || !detail) {
    free(idlist);
    free(detail);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  char target[24];
  snprintf(target, sizeof target, "%lld", (long long)case_ids[0]);
  vigil__audit_rec a = {st->actor, "local", "CLI", "", "cases.report", target, 201, detail, 0};
  int64_t report;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_begin(st->db, err);
  if (!rc)
    rc = vigil__report_record(st->db, case_ids[0], idlist, "export", directory, st->actor, xml, "exported", NULL,
                              &report, err);
  for (size_t i = 0; !rc && i < n; i++) {
    int64_t e;
    rc = vigil__hold_set(st->db, case_ids[i], until, "reported to the CyberTipline", st->actor, &e, err);
    if (!rc && i == 0) eff = e;
  }
  if (!rc) rc = vigil__audit_append_locked(st, &a, err);
  if (!rc) rc = vigil__sql_commit(st->db, err);
  else vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  free(idlist);
  free(detail);
  if (!rc && held_until) *held_until = eff;
  return rc;
}
