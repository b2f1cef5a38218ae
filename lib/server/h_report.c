/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_report.c - reporting a confirmed case to the NCMEC CyberTipline, and
 * preservation holds, over HTTP.
 *
 * POST /v1/cases/{id}/report builds the report from the case (and, as
 * reviewers gather them, other confirmed cases of the same uploader),
 * validates it against the CyberTipline schema and exports it for manual
 * filing into a new directory under ncmec.export_dir.  A report that does
 * not validate is refused (422) with the schema's message and nothing is
 * written.  The report is recorded with the case and every case in it is
 * held for a year, in one transaction.  POST /v1/cases/{id}/hold extends a
 * hold (a law-enforcement request); both routes are audited.
 */
#include "server/cases.h"
#include "server/handlers.h"
#include "server/req.h"
#include "server/store.h"

#include "report/holds.h"
#include "report/tipline.h"

#include <string.h>

#define MAX_REPORT_CASES 100

int vigil__h_case_report(vigil__req *r) {
  static const char *const allowed[] = {"mode", "case_ids", "viewed_by_esp", NULL};
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (!vigil__case_visible(r, id)) return VIGIL_OK; /* the child-safety queue (queue.c) */
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *mode = NULL;
  int viewed = 0;
  if (!vigil__json_str(r, "mode", 0, 16, &mode) || !vigil__json_bool(r, "viewed_by_esp", &viewed)) return VIGIL_OK;
  if (mode && strcmp(mode, "export") && strcmp(mode, "submit"))
    return vigil__reply_error(r, 400, "invalid", "mode: expected export (manual filing) or submit (the API)");
  int submit = mode && !strcmp(mode, "submit");
  json_t *more = json_object_get(r->json, "case_ids");
  if (more && (!json_is_array(more) || json_array_size(more) > MAX_REPORT_CASES - 1))
    return vigil__reply_error(r, 400, "invalid", "case_ids: expected an array of at most %d case ids",
                              MAX_REPORT_CASES - 1);
  vigil__tipline_cfg cfg;
  int rc = vigil__tipline_cfg_load(vigil__server_report_config(r->srv), &cfg, &r->err);
  if (rc) return vigil__reply_error(r, 409, "not_configured", "%s", r->err.message);
  if (!submit && !cfg.export_dir) {
    vigil__tipline_cfg_free(&cfg);
    return vigil__reply_error(r, 409, "not_configured", "ncmec.export_dir is not set in the report configuration");
  }
  vigil_server_store *st = vigil__req_store(r);
  json_t *cases = json_array(), *ids = json_array();
  json_t *c = NULL;
  if (!cases || !ids) rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  if (!rc && !(rc = vigil__case_get(st, id, &c, &r->err))) {
    json_array_append_new(cases, c);
    json_array_append_new(ids, json_integer(id));
  }
  size_t i;
  json_t *v;
  json_array_foreach(more, i, v) {
    if (rc) break;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
      rc = vigil__reply_error(r, 400, "invalid", "case_ids[%zu]: expected a case id", i);
      rc = 1;
      break;
    }
    if (json_integer_value(v) == id) continue;
    if (!(rc = vigil__case_get(st, json_integer_value(v), &c, &r->err))) {
      json_array_append_new(cases, c);
      json_array_append_new(ids, json_integer(json_integer_value(v)));
    }
  }
  char dir[4096], *xml = NULL;
  int64_t now_ms = vigil__now_us() / 1000;
  snprintf(dir, sizeof dir, "%s/report-%lld-%lld", cfg.export_dir ? cfg.export_dir : ".", (long long)id,
           (long long)now_ms);
  json_t *files = NULL;
  if (!rc && !submit)
    rc = vigil__tipline_export(&cfg, cases, vigil__server_evidence_dir(r->srv), viewed, dir, &xml, &r->err);
  if (!rc && submit) { /* validated now; the outbox sends it */
    size_t xlen;
    rc = vigil__tipline_build(&cfg, cases, &xml, &xlen, &r->err);
    if (!rc) rc = vigil__tipline_validate(cfg.schema, xml, xlen, &r->err);
    if (!rc && !(files = json_array())) rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    json_array_foreach(cases, i, v) {
      if (rc) break;
      if (json_array_append_new(files, json_pack("{s:O, s:O, s:O, s:O, s:b}", "case_id", json_object_get(v, "id"),
                                                 "md5", json_object_get(v, "md5"), "sha256",
                                                 json_object_get(v, "sha256"), "classification",
                                                 json_object_get(v, "classification"), "viewed", viewed)))
        rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    }
    dir[0] = 0;
  }
  vigil__tipline_cfg_free(&cfg);
  json_decref(cases);
  if (rc) {
    json_decref(ids);
    json_decref(files);
    free(xml);
    if (rc == 1) return VIGIL_OK; /* replied */
    if (rc == VIGIL_EINVAL && strstr(r->err.message, "schema"))
      return vigil__reply_error(r, 422, "invalid_report", "%s", r->err.message);
    return rc;
  }
  /* the record and the holds commit together; the files are already
   * durable, so a failure here leaves an export without a record, which
   * the error says */
  char *idlist = json_dumps(ids, JSON_COMPACT);
  int64_t report = 0, until = vigil__now_s() + VIGIL__HOLD_REPORT_S, eff = until;
  /* the audit row joins the record's transaction: a report that is not on
   * record is not recorded either */
  r->audit_detail = json_pack("{s:s, s:O, s:s?, s:o}", "mode", submit ? "submit" : "export", "cases", ids,
                              "directory", submit ? NULL : dir, "held_until", vigil__json_time_s(until));
  char *fj = files ? json_dumps(files, JSON_COMPACT) : NULL;
  json_decref(files);
  vigil__audit_rec a;
  char *detail = NULL;
  vigil__req_audit_rec(r, 201, &a, &detail);
  /* the person ("user:<name>") or the key: a session has no key id */
  const char *who = vigil__req_who(r);
  pthread_mutex_lock(&st->mu);
  rc = idlist ? vigil__sql_begin(st->db, &r->err) : vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  if (!rc)
    rc = vigil__report_record(st->db, id, idlist, submit ? "submit" : "export", submit ? NULL : dir, who, xml,
                              submit ? "pending" : "exported", fj, &report, &r->err);
  if (!rc && submit) { /* the submission is an outbox delivery, written with its record */
    char target[32], key[64];
    int64_t did;
    snprintf(target, sizeof target, "%lld", (long long)report);
    snprintf(key, sizeof key, "ncmec-report-%lld", (long long)report);
    rc = vigil__outbox_add(st->db, "ncmec", target, "report", key, "{}", &did, &r->err);
  }
  json_array_foreach(ids, i, v) {
    int64_t e;
    if (!rc) rc = vigil__hold_set(st->db, json_integer_value(v), until, "reported to the CyberTipline", who, &e, &r->err);
    if (!rc && json_integer_value(v) == id) eff = e;
  }
  if (!rc) rc = vigil__audit_append_locked(st, &a, &r->err);
  if (!rc) rc = vigil__sql_commit(st->db, &r->err);
  else vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  free(detail);
  free(xml);
  free(fj);
  if (!rc) r->audited = 1;
  if (rc) {
    free(idlist);
    json_decref(ids);
    vigil__prefixerr(&r->err, rc, dir);
    return rc;
  }
  free(idlist);
  if (submit)
    return vigil__reply_json(r, 202,
                             json_pack("{s:I, s:I, s:s, s:o, s:s, s:o}", "report", (json_int_t)report, "case_id",
                                       (json_int_t)id, "mode", "submit", "cases", ids, "state", "pending", "held_until",
                                       vigil__json_time_s(eff)));
  return vigil__reply_json(r, 201,
                           json_pack("{s:I, s:I, s:s, s:o, s:s, s:o}", "report", (json_int_t)report, "case_id",
                                     (json_int_t)id, "mode", "export", "cases", ids, "directory", dir, "held_until",
                                     vigil__json_time_s(eff)));
}

int vigil__h_case_hold(vigil__req *r) {
  static const char *const allowed[] = {"days", "reason", NULL};
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *reason;
  if (!vigil__json_str(r, "reason", 1, 1024, &reason)) return VIGIL_OK;
  json_t *d = json_object_get(r->json, "days");
  if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 3650)
    return vigil__reply_error(r, 400, "invalid", "days: expected an integer from 1 to 3650");
  json_t *c;
  int rc = vigil__case_get(vigil__req_store(r), id, &c, &r->err);
  if (rc) return rc;
  json_decref(c);
  vigil_server_store *st = vigil__req_store(r);
  int64_t until = vigil__now_s() + json_integer_value(d) * 86400, eff;
  /* the extension and its audit row commit together */
  r->audit_detail = json_pack("{s:I, s:s, s:I}", "case_id", (json_int_t)id, "reason", reason, "days",
                              (json_int_t)json_integer_value(d));
  vigil__audit_rec a;
  char *detail = NULL;
  vigil__req_audit_rec(r, 200, &a, &detail);
  pthread_mutex_lock(&st->mu);
  rc = vigil__sql_begin(st->db, &r->err);
  if (!rc) rc = vigil__hold_set(st->db, id, until, reason, vigil__req_who(r), &eff, &r->err);
  if (!rc) rc = vigil__audit_append_locked(st, &a, &r->err);
  if (!rc) rc = vigil__sql_commit(st->db, &r->err);
  else vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  free(detail);
  if (rc) return rc;
  r->audited = 1;
  return vigil__reply_json(r, 200,
                           json_pack("{s:I, s:o}", "case_id", (json_int_t)id, "held_until", vigil__json_time_s(eff)));
}

int vigil__case_held(vigil__req *r, int64_t id, int64_t *until) {
  vigil_server_store *st = vigil__req_store(r);
  pthread_mutex_lock(&st->mu);
  int rc = vigil__hold_get(st->db, id, until, &r->err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return rc;
  if (*until <= vigil__now_s()) *until = 0;
  return VIGIL_OK;
}

int vigil__h_case_reports(vigil__req *r) {
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (!vigil__case_visible(r, id)) return VIGIL_OK;
  json_t *c;
  int rc = vigil__case_get(vigil__req_store(r), id, &c, &r->err);
  if (rc) return rc;
  json_decref(c);
  vigil_server_store *st = vigil__req_store(r);
  json_t *list = NULL;
  int64_t until = 0;
  pthread_mutex_lock(&st->mu);
  rc = vigil__report_list(st->db, id, &list, &r->err);
  if (!rc) rc = vigil__hold_get(st->db, id, &until, &r->err);
  pthread_mutex_unlock(&st->mu);
  if (rc) {
    json_decref(list);
    return rc;
  }
  /* held_until is null when no hold is in force (vigil__json_time_s) */
  json_t *o =
      json_pack("{s:I, s:o, s:o}", "case_id", (json_int_t)id, "held_until", vigil__json_time_s(until), "reports", list);
  return vigil__reply_json(r, 200, o);
}
