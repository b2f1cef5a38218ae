/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_banks.c - the bank endpoints: list, create, inspect, update, drop,
 * add and remove entries, bulk import and export.
 *
 * Every call uses the service's maintenance connection, one at a time, and
 * never blocks matching (banksvc.c); after a change the PDQ index is synced
 * at once, so the next /v1/match sees it.
 * Removal never deletes: it marks the entry removed with a reason, and the
 * export shows it so that withdrawals propagate to partners.  Import takes
 * the file as the request body (up to --max-body) in the formats of
 * `vigil bank import` and reports line-numbered errors.
 */
#include "server/req.h"
#include "server/banks.h"
#include "server/cases.h"
#include "server/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/bank.h"

static json_t *bank_json(vigil__req *r, const vigil_bank_info *b) {
  int review = 0;
  vigil_error e;
  if (vigil__bank_review_get(vigil__req_store(r), b->name, &review, &e)) review = 0;
  int child = 0; /* its cases go to the child-safety queue (queue.c) */
  if (vigil__bank_child_get(vigil__req_store(r), b->name, &child, &e)) child = 0;
  int64_t disputed = 0; /* entries reviewers reported as false positives (h_disputes.c) */
  if (vigil__disputes_count(vigil__req_store(r), b->name, &disputed, &e)) disputed = 0;
  return json_pack("{s:s, s:s, s:b, s:b, s:b, s:I, s:o, s:I, s:I, s:{s:I, s:I, s:I}}", "name", b->name, "description",
                   b->description, "enabled", b->enabled, "review", review, "child_abuse", child, "disputed",
                   (json_int_t)disputed, "created_at", vigil__json_time_s(b->created), "active", (json_int_t)b->active,
                   "removed", (json_int_t)b->removed, "by_type", "pdq", (json_int_t)b->by_type[VIGIL_SIGNAL_PDQ], "md5",
                   (json_int_t)b->by_type[VIGIL_SIGNAL_MD5], "sha256", (json_int_t)b->by_type[VIGIL_SIGNAL_SHA256]);
}

static int reply_bank(vigil__req *r, int status, const char *name) {
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_info info;
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  int rc = vigil_bank_get(st, name, &info, &r->err);
  vigil__banks_end(b, 0, NULL);
  if (rc) return rc;
  json_t *o = bank_json(r, &info);
  if (!o) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, status, o);
}

int vigil__h_banks_list(vigil__req *r) {
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_info *list = NULL;
  size_t n = 0;
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  int rc = vigil_bank_list(st, &list, &n, &r->err);
  vigil__banks_end(b, 0, NULL);
  if (rc) return rc;
  size_t indexed = vigil__banks_indexed(b);
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, bank_json(r, &list[i]));
  free(list);
  json_t *o = arr ? json_pack("{s:o, s:I}", "banks", arr, "indexed_pdq", (json_int_t)indexed) : NULL;
  if (!o) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, o);
}

int vigil__h_banks_create(vigil__req *r) {
  static const char *const allowed[] = {"name", "description", "review", "enabled", "child_abuse", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *name, *desc;
  int review = 0, enabled = 1, child = 0;
  if (!vigil__json_str(r, "name", 1, VIGIL_BANK_NAME_MAX, &name) ||
      !vigil__json_str(r, "description", 0, VIGIL_BANK_TEXT_MAX, &desc) || !vigil__json_bool(r, "review", &review) ||
      !vigil__json_bool(r, "enabled", &enabled) || !vigil__json_bool(r, "child_abuse", &child))
    return VIGIL_OK;
  if (!vigil_bank_name_valid(name))
    return vigil__reply_error(r, 400, "invalid", "name: 1 to %d of letters, digits, '_', '.', '-'",
                              VIGIL_BANK_NAME_MAX);
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  int rc = vigil_bank_create(st, name, desc ? desc : "", &r->err);
  if (!rc && !enabled) rc = vigil_bank_set_enabled(st, name, 0, &r->err);
  int rc2 = vigil__banks_end(b, rc == VIGIL_OK, rc ? NULL : &r->err);
  if (!rc) rc = rc2;
  if (rc == VIGIL_EEXIST) return vigil__reply_error(r, 409, "exists", "bank '%s' already exists", name);
  if (rc) return rc;
  if ((rc = vigil__bank_review_set(vigil__req_store(r), name, review, &r->err))) return rc;
  if (child && (rc = vigil__bank_child_set(vigil__req_store(r), name, 1, &r->err))) return rc;
  r->audit_detail = json_pack("{s:s, s:b, s:b}", "bank", name, "review", review, "child_abuse", child);
  return reply_bank(r, 201, name);
}

int vigil__h_bank_get(vigil__req *r) { return reply_bank(r, 200, vigil__req_param(r, "name")); }

int vigil__h_bank_update(vigil__req *r) {
  static const char *const allowed[] = {"review", "enabled", "child_abuse", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  int review = -1, enabled = -1, child = -1;
  if (!vigil__json_bool(r, "review", &review) || !vigil__json_bool(r, "enabled", &enabled) ||
      !vigil__json_bool(r, "child_abuse", &child))
    return VIGIL_OK;
  const char *name = vigil__req_param(r, "name");
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_info info;
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  int rc = vigil_bank_get(st, name, &info, &r->err);
  if (!rc && enabled >= 0) rc = vigil_bank_set_enabled(st, name, enabled, &r->err);
  int rc2 = vigil__banks_end(b, !rc && enabled >= 0, rc ? NULL : &r->err);
  if (!rc) rc = rc2;
  if (rc) return rc;
  if (review >= 0 && (rc = vigil__bank_review_change(vigil__req_store(r), name, review, &r->err))) return rc;
  if (child >= 0 && (rc = vigil__bank_child_set(vigil__req_store(r), name, child, &r->err))) return rc;
  r->audit_detail =
      json_pack("{s:s, s:i, s:i, s:i}", "bank", name, "enabled", enabled, "review", review, "child_abuse", child);
  return reply_bank(r, 200, name);
}

int vigil__h_bank_drop(vigil__req *r) {
  const char *name = vigil__req_param(r, "name");
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  int rc = vigil_bank_drop(st, name, &r->err);
  int rc2 = vigil__banks_end(b, rc == VIGIL_OK, rc ? NULL : &r->err);
  if (!rc) rc = rc2;
  if (rc) return rc;
  r->audit_detail = json_pack("{s:s}", "bank", name);
  return vigil__reply_json(r, 200, json_pack("{s:s, s:b}", "bank", name, "dropped", 1));
}

/* signal_type + value from the JSON body. */
static int body_signal(vigil__req *r, vigil_signal_type *t, uint8_t *value, size_t *len) {
  const char *type, *val;
  if (!vigil__json_str(r, "signal_type", 1, 16, &type) || !vigil__json_str(r, "value", 1, 128, &val)) return 0;
  *t = vigil_signal_from_name(type, strlen(type));
  if (*t == VIGIL_SIGNAL_NONE || !vigil_signal_value_len(*t)) {
    vigil__reply_error(r, 400, "invalid", "signal_type: expected pdq, md5 or sha256");
    return 0;
  }
  vigil_error e;
  if (vigil_signal_parse(*t, val, strlen(val), value, &e)) {
    vigil__reply_error(r, 400, "invalid", "value: %s", e.message);
    return 0;
  }
  *len = vigil_signal_value_len(*t);
  return 1;
}

int vigil__h_bank_add(vigil__req *r) {
  static const char *const allowed[] = {"signal_type", "value", "external_id", "tags", "source", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  vigil_bank_entry *e = calloc(1, sizeof *e);
  if (!e) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  const char *ext, *src;
  int rc = VIGIL_OK;
  if (!body_signal(r, &e->type, e->value, &e->value_len) ||
      !vigil__json_str(r, "external_id", 0, VIGIL_BANK_TEXT_MAX, &ext) ||
      !vigil__json_str(r, "source", 0, VIGIL_BANK_TEXT_MAX, &src))
    goto done;
  json_t *tags = json_object_get(r->json, "tags");
  char joined[VIGIL_BANK_TAGS_MAX + 1] = "";
  if (tags && json_is_array(tags)) {
    size_t at = 0;
    for (size_t i = 0; i < json_array_size(tags); i++) {
      const char *t = json_string_value(json_array_get(tags, i));
      size_t n = t ? strlen(t) : 0;
      if (!t || at + n + 1 >= sizeof joined) {
        vigil__reply_error(r, 400, "invalid", "tags: an array of short strings");
        goto done;
      }
      if (at) joined[at++] = ',';
      memcpy(joined + at, t, n + 1);
      at += n;
    }
  } else if (tags && json_is_string(tags)) {
    snprintf(joined, sizeof joined, "%s", json_string_value(tags));
  } else if (tags) {
    vigil__reply_error(r, 400, "wrong_type", "'tags' must be an array of strings");
    goto done;
  }
  vigil_error te;
  if (vigil_bank_tags_normalize(joined, strlen(joined), e->tags, &te)) {
    vigil__reply_error(r, 400, "invalid", "tags: %s", te.message);
    goto done;
  }
  snprintf(e->bank, sizeof e->bank, "%s", vigil__req_param(r, "name"));
  if (ext) snprintf(e->external_id, sizeof e->external_id, "%s", ext);
  if (src) snprintf(e->source, sizeof e->source, "%s", src);
  vigil__banks *b = vigil__server_banks(r->srv);
  int added = 0;
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  rc = vigil_bank_add(st, e, &added, &r->err);
  int rc2 = vigil__banks_end(b, rc == VIGIL_OK && added, rc ? NULL : &r->err);
  if (!rc) rc = rc2;
  if (rc) goto done;
  json_t *o = vigil__entry_json(e);
  if (!o) {
    rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    goto done;
  }
  r->audit_detail = json_pack("{s:s, s:I, s:b}", "bank", e->bank, "entry", (json_int_t)e->id, "added", added);
  json_object_set_new(o, "added", json_boolean(added));
  rc = vigil__reply_json(r, added ? 201 : 200, o);
done:
  free(e);
  return rc;
}

int vigil__h_bank_remove(vigil__req *r) {
  static const char *const allowed[] = {"signal_type", "value", "id", "reason", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *reason, *bank = vigil__req_param(r, "name");
  if (!vigil__json_str(r, "reason", 1, VIGIL_BANK_TEXT_MAX, &reason)) return VIGIL_OK;
  json_t *idv = json_object_get(r->json, "id");
  vigil_signal_type t = VIGIL_SIGNAL_NONE;
  uint8_t value[VIGIL_BANK_VALUE_MAX];
  size_t len = 0;
  if (idv && !json_is_integer(idv)) return vigil__reply_error(r, 400, "wrong_type", "'id' must be an integer");
  if (!idv && !body_signal(r, &t, value, &len)) return VIGIL_OK;
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_entry e;
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  int rc;
  if (idv) {
    uint64_t id = (uint64_t)json_integer_value(idv);
    rc = vigil_bank_entry_get(st, id, &e, &r->err);
    if (!rc && strcmp(e.bank, bank)) rc = vigil__seterr(&r->err, VIGIL_ENOTFOUND, "no entry %llu in bank %s",
                                                        (unsigned long long)id, bank);
    if (!rc) rc = vigil_bank_remove_id(st, id, reason, &r->err);
    if (!rc) rc = vigil_bank_entry_get(st, id, &e, &r->err);
  } else {
    rc = vigil_bank_remove(st, bank, t, value, reason, &r->err);
  }
  int rc2 = vigil__banks_end(b, rc == VIGIL_OK, rc ? NULL : &r->err);
  if (!rc) rc = rc2;
  if (rc) return rc;
  r->audit_detail = json_pack("{s:s, s:s}", "bank", bank, "reason", reason);
  if (idv) return vigil__reply_json(r, 200, vigil__entry_json(&e));
  return vigil__reply_json(r, 200, json_pack("{s:s, s:b}", "bank", bank, "removed", 1));
}

static int query_format(vigil__req *r, vigil_bank_format *f) {
  const char *v = vigil__req_query(r, "format");
  int x = v ? vigil_bank_format_from_name(v) : VIGIL_BANK_FMT_CSV;
  if (x < 0) {
    vigil__reply_error(r, 400, "invalid", "format: expected csv, te or jsonl");
    return 0;
  }
  *f = (vigil_bank_format)x;
  return 1;
}

int vigil__h_bank_import(vigil__req *r) {
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  if (!query_format(r, &o.format)) return VIGIL_OK;
  if (!vigil__query_bool(r, "skip_bad", &o.skip_bad)) return VIGIL_OK;
  o.source = vigil__req_query(r, "source");
  if (r->body_len == 0) return vigil__reply_error(r, 400, "empty_body", "send the file to import as the body");
  FILE *in = fmemopen(r->body, r->body_len, "r");
  if (!in) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_import_report rep;
  memset(&rep, 0, sizeof rep);
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  int rc = vigil_bank_import(st, vigil__req_param(r, "name"), in, &o, &rep, &r->err);
  vigil__banks_end(b, rep.committed, NULL); /* the import stands; a failed sync is retried by the sync thread */
  fclose(in);
  if (rc && rc != VIGIL_EINVAL) {
    vigil_bank_import_report_free(&rep);
    return rc;
  }
  json_t *errs = json_array();
  for (size_t i = 0; errs && i < rep.nerrors; i++)
    json_array_append_new(errs, json_pack("{s:I, s:s}", "line", (json_int_t)rep.errors[i].line, "message",
                                          rep.errors[i].message));
  json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b, s:o}", "lines", (json_int_t)rep.lines, "added",
                          (json_int_t)rep.added, "existing", (json_int_t)rep.existing, "removed",
                          (json_int_t)rep.removed, "bad", (json_int_t)rep.bad, "committed", rep.committed,
                          "errors", errs ? errs : json_array());
  r->audit_detail = json_pack("{s:s, s:I, s:b}", "bank", vigil__req_param(r, "name"), "added",
                              (json_int_t)rep.added, "committed", rep.committed);
  vigil_bank_import_report_free(&rep);
  if (!out) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  /* a refused import carries the one error shape too, beside its report */
  if (rc && json_object_set_new(out, "error", json_pack("{s:s, s:s}", "code", "bad_lines", "message",
                                                        "some lines are not valid entries; nothing was imported "
                                                        "(see errors, or import with skip_bad=true)")) != 0) {
    json_decref(out);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  return vigil__reply_json(r, rc ? 422 : 200, out);
}

int vigil__h_bank_export(vigil__req *r) {
  vigil_bank_format f;
  if (!query_format(r, &f)) return VIGIL_OK;
  int active_only = 0;
  if (!vigil__query_bool(r, "active_only", &active_only)) return VIGIL_OK;
  /* entries reviewers disputed (h_disputes.c) are marked in JSON Lines */
  vigil_bank_export_opts o;
  vigil_bank_export_opts_default(&o);
  o.format = f;
  o.active_only = active_only;
  o.mark_disputed = 1;
  uint64_t *ids = NULL;
  int rc = vigil_server_disputed_entries(vigil__req_store(r), vigil__req_param(r, "name"), &ids, &o.ndisputed, &r->err);
  if (rc) return rc;
  o.disputed = ids;
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  if (!out) {
    free(ids);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_store *st;
  vigil__banks_begin(b, &st);
  rc = vigil_bank_export_with(st, vigil__req_param(r, "name"), out, &o, &r->err);
  vigil__banks_end(b, 0, NULL);
  fclose(out);
  free(ids);
  if (rc) {
    free(buf);
    return rc;
  }
  const char *ct = f == VIGIL_BANK_FMT_CSV ? "text/csv" : f == VIGIL_BANK_FMT_JSONL ? "application/x-ndjson"
                                                                                    : "text/plain";
  return vigil__reply_text(r, 200, ct, buf, len);
}
