/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_cases.c - the review queue over HTTP: list, open (a report), read,
 * decide, and the evidence kept for a case when retention is on.  The store (cases.c) owns the state machine; these handlers only
 * check types and shapes of what clients send.
 */
#include "server/accounts.h"
#include "server/cases.h"
#include "server/req.h"
#include "server/banks.h"
#include "server/handlers.h"

#include "vigil/bank.h"
#include "common/rfc3339.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NOTE_MAX 4096

static const char *const statuses[] = {"open", "confirmed", "dismissed", "escalated", NULL};

/* The queue's filters from r's query (bank, tag, assignee, queue) into f,
 * with the caller's permission; 0 after replying 400. */
int vigil__case_filter_from(vigil__req *r, vigil__case_filter *f) {
  memset(f, 0, sizeof *f);
  /* keys serve programs an admin set up; people need the permission */
  f->child = !r->user[0] || r->child_safety;
  f->bank = vigil__req_query(r, "bank");
  f->tag = vigil__req_query(r, "tag");
  f->assignee = vigil__req_query(r, "assignee");
  const char *q = vigil__req_query(r, "queue");
  if ((f->bank && (!*f->bank || strlen(f->bank) > 256)) || (f->tag && (!*f->tag || strlen(f->tag) > 256)) ||
      (f->assignee && (!*f->assignee || strlen(f->assignee) > 256))) {
    vigil__reply_error(r, 400, "invalid", "bank, tag, assignee: 1 to 256 bytes");
    return 0;
  }
  if (f->assignee && !strcmp(f->assignee, "me")) f->assignee = vigil__req_who(r);
  if (!q || !strcmp(q, "all")) f->queue = VIGIL__QUEUE_ALL;
  else if (!strcmp(q, "child")) f->queue = VIGIL__QUEUE_CHILD;
  else if (!strcmp(q, "general")) f->queue = VIGIL__QUEUE_GENERAL;
  else {
    vigil__reply_error(r, 400, "invalid", "queue: expected all, child or general");
    return 0;
  }
  if (f->queue == VIGIL__QUEUE_CHILD && !f->child) {
    vigil__reply_error(r, 403, "forbidden", "the child-safety queue needs the child-safety permission");
    return 0;
  }
  return 1;
}

int vigil__case_visible(vigil__req *r, int64_t id) {
  if (!r->user[0] || r->child_safety) return 1;
  int child = 0;
  int rc = vigil__case_is_child(vigil__req_store(r), id, &child, &r->err);
  if (rc) {
    vigil__reply_from_err(r, rc);
    return 0;
  }
  if (!child) return 1;
  vigil__reply_error(r, 403, "forbidden",
                     "case %lld is in the child-safety queue, which needs the child-safety permission", (long long)id);
  return 0;
}

int vigil__h_cases_list(vigil__req *r) {
  vigil__case_filter f;
  if (!vigil__case_filter_from(r, &f)) return VIGIL_OK;
  const char *status = vigil__req_query(r, "status");
  if (!status) status = "open";
  if (!strcmp(status, "all")) status = NULL;
  else {
    int ok = 0;
    for (int i = 0; statuses[i]; i++) ok |= !strcmp(status, statuses[i]);
    if (!ok) return vigil__reply_error(r, 400, "invalid", "status: expected open, confirmed, dismissed, escalated or all");
  }
  f.status = status;
  int64_t after, limit;
  if (!vigil__query_int(r, "after_id", 0, INT64_MAX, 0, &after)) return VIGIL_OK;
  if (!vigil__query_int(r, "limit", 1, 1000, 100, &limit)) return VIGIL_OK;
  json_t *arr;
  int rc = vigil__case_list(vigil__req_store(r), &f, after, (int)limit, &arr, &r->err);
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
  c.opened_by = vigil__req_who(r);
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
  int joined = 0;
  int rc = vigil__case_open(vigil__req_store(r), &c, &id, &joined, &r->err);
  free(dj);
  if (rc) return rc;
  /* a repeat of content with an undecided case is a sighting of that case (sightings.c) */
  r->audit_detail = json_pack("{s:I, s:b}", "case_id", (json_int_t)id, "sighting", joined != 0);
  return vigil__reply_json(r, 201,
                           json_pack("{s:I, s:s, s:b}", "id", (json_int_t)id, "status",
                                     (joined & VIGIL__JOINED_ESCALATED) ? "escalated" : "open", "sighting", joined != 0));
}

int vigil__h_case_get(vigil__req *r) {
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (!vigil__case_visible(r, id)) return VIGIL_OK;
  json_t *o;
  int rc = vigil__case_get(vigil__req_store(r), id, &o, &r->err);
  if (rc) return rc;
  return vigil__reply_json(r, 200, o);
}

/* The feedback loop: a confirmed case's hashes go into a bank of confirmed
 * content, tagged with the classification, so the next upload of the same
 * content matches.  Returns the number of entries added, or a negative code. */
static int add_case_hashes(vigil__req *r, vigil_bank_store *st, json_t *c, const char *bank, const char *cls,
                           int64_t id) {
  static const struct {
    const char *field;
    vigil_signal_type t;
  } sig[] = {{"pdq", VIGIL_SIGNAL_PDQ}, {"md5", VIGIL_SIGNAL_MD5}, {"sha256", VIGIL_SIGNAL_SHA256}};
  int rc = VIGIL_OK, added = 0;
  for (size_t i = 0; !rc && i < sizeof sig / sizeof sig[0]; i++) {
    const char *hex = json_string_value(json_object_get(c, sig[i].field));
    if (!hex) continue;
    vigil_bank_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.bank, sizeof e.bank, "%s", bank);
    e.type = sig[i].t;
    e.value_len = vigil_signal_value_len(sig[i].t);
    snprintf(e.external_id, sizeof e.external_id, "case-%lld", (long long)id);
    snprintf(e.source, sizeof e.source, "review case %lld", (long long)id);
    if ((rc = vigil_signal_parse(sig[i].t, hex, strlen(hex), e.value, &r->err))) break;
    if ((rc = vigil_bank_tags_normalize(cls, strlen(cls), e.tags, &r->err))) break;
    int was_added = 0;
    if (!(rc = vigil_bank_add(st, &e, &was_added, &r->err))) added += was_added;
  }
  return rc ? rc : added;
}

/* Whether case id is closed as confirmed with classification cls by the
 * caller; its JSON into *out when it is. */
static int same_confirmation(vigil__req *r, int64_t id, const char *cls, json_t **out) {
  json_t *o = NULL;
  vigil_error e;
  if (vigil__case_get(vigil__req_store(r), id, &o, &e) != VIGIL_OK) return 0;
  const char *status = json_string_value(json_object_get(o, "status"));
  const char *c = json_string_value(json_object_get(o, "classification"));
  const char *by = json_string_value(json_object_get(o, "decided_by"));
  const char *who = vigil__req_who(r);
  if (status && !strcmp(status, "confirmed") && c && cls && !strcmp(c, cls) && by && who && !strcmp(by, who)) {
    *out = o;
    return 1;
  }
  json_decref(o);
  return 0;
}

int vigil__h_case_decide(vigil__req *r) {
  static const char *const allowed[] = {"decision", "classification", "note", "add_to_bank", "dispute", NULL};
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (!vigil__case_visible(r, id)) return VIGIL_OK;
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *decision, *cls, *note, *bank;
  if (!vigil__json_str(r, "decision", 1, 16, &decision) || !vigil__json_str(r, "classification", 0, 32, &cls) ||
      !vigil__json_str(r, "note", 0, NOTE_MAX, &note) || !vigil__json_str(r, "add_to_bank", 0, 64, &bank))
    return VIGIL_OK;
  int dispute = 0;
  if (!vigil__json_bool(r, "dispute", &dispute)) return VIGIL_OK;
  if (dispute && strcmp(decision, "dismiss"))
    return vigil__reply_error(r, 400, "invalid", "dispute: only a dismissal marks the matched entries as disputed");
  if (strcmp(decision, "confirm") && strcmp(decision, "dismiss") && strcmp(decision, "escalate"))
    return vigil__reply_error(r, 400, "invalid", "decision: expected confirm, dismiss or escalate");
  if (cls && !vigil__case_valid_classification(cls))
    return vigil__reply_error(r, 400, "invalid",
                              "classification: expected A1, A2, B1, B2, C, ncii, trafficking, grooming, sextortion, "
                              "csam or other");
  if (!strcmp(decision, "confirm") && !cls)
    return vigil__reply_error(r, 400, "missing_field", "'classification' is required to confirm a case");
  if (bank && strcmp(decision, "confirm"))
    return vigil__reply_error(r, 400, "invalid", "add_to_bank: only a confirmed case's hashes are added to a bank");
  /* With a bank to feed, the bank service is held from the check that the
   * bank exists to the last hash added, so a drop of that bank on this node
   * comes wholly before (404, the case stays open) or after. */
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_store *bst = NULL;
  int rc = VIGIL_OK;
  if (bank) {
    vigil_bank_info info;
    vigil__banks_begin(b, &bst);
    rc = vigil_bank_get(bst, bank, &info, &r->err);
    if (rc) {
      vigil__banks_end(b, 0, NULL);
      if (rc != VIGIL_ENOTFOUND) return rc;
      /* A decision refused because its bank is gone (dropped just before,
       * perhaps) is on record: the reviewer's call was made and did not
       * happen, and the case stays open for it to be made again. */
      r->audit_detail = json_pack("{s:s, s:s?, s:s, s:s}", "decision", decision, "classification", cls, "add_to_bank",
                                  bank, "refused", "no such bank");
      if (!vigil__req_audit_first(r, 404)) return VIGIL_OK;
      return vigil__reply_error(r, 404, "not_found", "add_to_bank: no bank '%s'; the case is unchanged", bank);
    }
  }
  /* the audit row commits with the decision, or neither does */
  r->audit_detail = json_pack("{s:s, s:s?, s:s?, s:b}", "decision", decision, "classification", cls, "add_to_bank",
                              bank, "dispute", dispute);
  vigil__audit_rec a;
  char *detail = NULL;
  vigil__req_audit_rec(r, 200, &a, &detail);
  rc = vigil__case_decide(vigil__req_store(r), id, decision, cls, note, vigil__req_who(r), dispute, &a, &r->err);
  free(detail);
  if (rc && a.failed) {
    if (bank) vigil__banks_end(b, 0, NULL);
    snprintf(r->logmsg, sizeof r->logmsg, "%s", r->err.message);
    return vigil__reply_error(r, 503, "audit_unavailable", "the audit log cannot be written; the case is unchanged");
  }
  json_t *o = NULL;
  if (!rc) {
    r->audited = 1;
    rc = vigil__case_get(vigil__req_store(r), id, &o, &r->err);
  } else if (rc == VIGIL_EEXIST && bank && same_confirmation(r, id, cls, &o)) {
    /* The same reviewer's confirmation again, with its bank: the retry of
     * a call whose add failed after the decision was committed (a 5xx), or
     * an add asked for after the fact.  The case stays as it is; the add,
     * idempotent, is done and audited as a retry.  Anything else on a
     * closed case stays a 409. */
    vigil_error_clear(&r->err);
    json_decref(r->audit_detail);
    r->audit_detail = json_pack("{s:s, s:s, s:s, s:b}", "decision", decision, "classification", cls, "add_to_bank",
                                bank, "retry", 1);
    if (!vigil__req_audit_first(r, 200)) {
      vigil__banks_end(b, 0, NULL);
      json_decref(o);
      return VIGIL_OK;
    }
    rc = VIGIL_OK;
  }
  int added = 0;
  if (!rc && bank) {
    added = add_case_hashes(r, bst, o, bank, cls, id);
    if (added < 0) rc = added;
  }
  if (bank) {
    int rc2 = vigil__banks_end(b, added > 0, rc ? NULL : &r->err);
    if (!rc) rc = rc2;
  }
  if (rc) {
    json_decref(o);
    return rc;
  }
  if (bank) json_object_set_new(o, "added_to_bank", json_pack("{s:s, s:i}", "bank", bank, "entries", added));
  return vigil__reply_json(r, 200, o);
}

/* The evidence directory for the case named in the path, or NULL after
 * replying (no such case, retention off). */
static const char *evidence_case(vigil__req *r, int64_t *id, char sha256[65], int *rc) {
  *rc = VIGIL_OK;
  if (!vigil__param_id(r, "id", id)) return NULL;
  if (!vigil__case_visible(r, *id)) return NULL;
  json_t *c;
  if ((*rc = vigil__case_get(vigil__req_store(r), *id, &c, &r->err))) return NULL;
  const char *want = json_string_value(json_object_get(json_object_get(json_object_get(c, "detail"), "evidence"), "sha256"));
  snprintf(sha256, 65, "%s", want ? want : "");
  json_decref(c);
  const char *dir = vigil__server_evidence_dir(r->srv);
  if (!dir) vigil__reply_error(r, 404, "not_found", "this server keeps no evidence (see --evidence-dir)");
  return dir;
}

/* The evidence of a case, for the reviewer deciding it.  The route is
 * audited although it changes nothing: who looked at abuse media, or was
 * refused, must be on record. */
int vigil__h_case_evidence(vigil__req *r) {
  int64_t id;
  int rc;
  char want[65];
  const char *dir = evidence_case(r, &id, want, &rc);
  if (!dir) return rc;
  /* Read once in chunks for the digest, then sent from the same open file:
   * evidence may be a video of gigabytes, never held in memory. */
  int fd;
  uint64_t len;
  char got[65];
  uint8_t head[16];
  size_t head_len;
  if ((rc = vigil__evidence_open_file(dir, id, &fd, &len, got, head, &head_len, &r->err))) return rc;
  /* The file is found by the case id alone; its digest, kept in the case
   * when it was stored, says it is this case's upload and not another's
   * (a directory restored beside another store, a file moved by hand). */
  if (!want[0] || strcasecmp(want, got) != 0) {
    close(fd);
    snprintf(r->logmsg, sizeof r->logmsg, "evidence of case %lld has SHA-256 %s, the case recorded %s", (long long)id,
             got, want[0] ? want : "none");
    return vigil__reply_error(r, 409, "evidence_mismatch",
                              "the evidence file of case %lld is not the upload the case recorded; it is not served",
                              (long long)id);
  }
  r->audit_detail = json_pack("{s:I, s:I}", "case_id", (json_int_t)id, "bytes", (json_int_t)len);
  /* no record, no media */
  if (!vigil__req_audit_first(r, 200)) {
    close(fd);
    return VIGIL_OK;
  }
  return vigil__reply_file(r, 200, vigil__media_type(head, head_len), fd, len);
}

int vigil__h_case_evidence_delete(vigil__req *r) {
  int64_t id;
  int rc;
  char want[65];
  const char *dir = evidence_case(r, &id, want, &rc);
  if (!dir) return rc;
  int64_t held; /* reported evidence is preserved (h_report.c) */
  if ((rc = vigil__case_held(r, id, &held))) return rc;
  if (held) {
    char until[VIGIL__RFC3339_MAX]; /* a stored end is not trusted to fit a calendar */
    if (held > INT64_MAX / 1000 || vigil__rfc3339_ms(held * 1000, until))
      snprintf(until, sizeof until, "%lld (Unix time)", (long long)held);
    return vigil__reply_error(r, 409, "held", "case %lld is under a preservation hold until %s", (long long)id, until);
  }
  /* recorded before it happens: a deletion nobody can trace is worse than a
   * record of one that then failed (which the 5xx answer and the log show) */
  if ((rc = vigil__evidence_exists(dir, id, &r->err))) return rc;
  r->audit_detail = json_pack("{s:I}", "case_id", (json_int_t)id);
  if (!vigil__req_audit_first(r, 200)) return VIGIL_OK;
  if ((rc = vigil__evidence_delete(dir, id, &r->err))) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:I, s:b}", "case_id", (json_int_t)id, "deleted", 1));
}
