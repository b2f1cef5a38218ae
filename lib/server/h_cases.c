/*
 * h_cases.c - the review queue over HTTP: list, open (a report), read,
 * decide.  The store (cases.c) owns the state machine; these handlers only
 * check types and shapes of what clients send.
 */
#include "server/internal.h"

#include <string.h>

#define NOTE_MAX 4096

static const char *const statuses[] = {"open", "confirmed", "dismissed", "escalated", NULL};

int vigil__h_cases_list(vigil__req *r) {
  const char *status = vigil__req_query(r, "status");
  if (!status) status = "open";
  if (!strcmp(status, "all")) status = NULL;
  else {
    int ok = 0;
    for (int i = 0; statuses[i]; i++) ok |= !strcmp(status, statuses[i]);
    if (!ok) return vigil__reply_error(r, 400, "invalid", "status: expected open, confirmed, dismissed, escalated or all");
  }
  int64_t after, limit;
  if (!vigil__query_int(r, "after_id", 0, INT64_MAX, 0, &after)) return VIGIL_OK;
  if (!vigil__query_int(r, "limit", 1, 1000, 100, &limit)) return VIGIL_OK;
  json_t *arr;
  int rc = vigil__case_list(vigil__req_store(r), status, after, (int)limit, &arr, &r->err);
  if (rc) return rc;
  size_t n = json_array_size(arr);
  json_t *last = n ? json_object_get(json_array_get(arr, n - 1), "id") : NULL;
  return vigil__reply_json(r, 200, json_pack("{s:o, s:O?}", "cases", arr, "next_after", (size_t)n == (size_t)limit ? last : NULL));
}

int vigil__h_case_create(vigil__req *r) {
  static const char *const allowed[] = {"pdq", "md5", "sha256", "content_id", "uploader_id", "url", "reason",
                                        "detail", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  vigil_case_new c;
  memset(&c, 0, sizeof c);
  c.source = "report";
  c.opened_by = r->key.id;
  if (!vigil__json_str(r, "pdq", 0, 64, &c.pdq) || !vigil__json_str(r, "md5", 0, 32, &c.md5) ||
      !vigil__json_str(r, "sha256", 0, 64, &c.sha256) || !vigil__json_str(r, "content_id", 0, 2048, &c.content_id) ||
      !vigil__json_str(r, "uploader_id", 0, 2048, &c.uploader_id) || !vigil__json_str(r, "url", 0, 2048, &c.url) ||
      !vigil__json_str(r, "reason", 0, 2048, &c.reason))
    return VIGIL_OK;
  json_t *detail = json_object_get(r->json, "detail");
  char *dj = NULL;
  if (detail && !json_is_null(detail)) {
    if (!json_is_object(detail)) return vigil__reply_error(r, 400, "wrong_type", "'detail' must be an object");
    if (!(dj = json_dumps(detail, JSON_COMPACT))) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    if (strlen(dj) > 16384) {
      free(dj);
      return vigil__reply_error(r, 400, "invalid", "'detail' is larger than 16384 bytes");
    }
  }
  c.detail_json = dj;
  int64_t id;
  int rc = vigil_case_open(vigil__req_store(r), &c, &id, &r->err);
  free(dj);
  if (rc) return rc;
  r->audit_detail = json_pack("{s:I}", "case_id", (json_int_t)id);
  return vigil__reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "open"));
}

int vigil__h_case_get(vigil__req *r) {
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  json_t *o;
  int rc = vigil__case_get(vigil__req_store(r), id, &o, &r->err);
  if (rc) return rc;
  return vigil__reply_json(r, 200, o);
}

int vigil__h_case_decide(vigil__req *r) {
  static const char *const allowed[] = {"decision", "classification", "note", NULL};
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *decision, *cls, *note;
  if (!vigil__json_str(r, "decision", 1, 16, &decision) || !vigil__json_str(r, "classification", 0, 32, &cls) ||
      !vigil__json_str(r, "note", 0, NOTE_MAX, &note))
    return VIGIL_OK;
  if (strcmp(decision, "confirm") && strcmp(decision, "dismiss") && strcmp(decision, "escalate"))
    return vigil__reply_error(r, 400, "invalid", "decision: expected confirm, dismiss or escalate");
  if (cls && !vigil__case_valid_classification(cls))
    return vigil__reply_error(r, 400, "invalid",
                              "classification: expected A1, A2, B1, B2, C, ncii, trafficking, grooming, sextortion, "
                              "csam or other");
  if (!strcmp(decision, "confirm") && !cls)
    return vigil__reply_error(r, 400, "missing_field", "'classification' is required to confirm a case");
  int rc = vigil__case_decide(vigil__req_store(r), id, decision, cls, note, r->key.id, &r->err);
  if (rc) return rc;
  r->audit_detail = json_pack("{s:s, s:s?}", "decision", decision, "classification", cls);
  json_t *o;
  if ((rc = vigil__case_get(vigil__req_store(r), id, &o, &r->err))) return rc;
  return vigil__reply_json(r, 200, o);
}
