/* SPDX-License-Identifier: Apache-2.0 */
/*
 * queue.c - what a reviewer's queue holds: the labels a case matched, the
 * filters of the queue (bank, tag, status, assignee) and the child-safety
 * queue, which only people with the child-safety permission see.
 *
 * When a case opens, every bank entry it matched leaves one row per tag in
 * server_case_labels (bank, lower-cased tag; '' for an entry without
 * tags), so the filters are plain indexed lookups instead of a scan of
 * every case's JSON detail.
 *
 * A case is a child-abuse case when one of its matched labels is a
 * category of the industry classification scheme (A1, A2, B1, B2) or
 * "csam", when one of its matched banks is flagged child_abuse
 * (server_bank_child, set by an admin), or when a reviewer classified it
 * in one of those categories (an escalated case).  The test is made in SQL
 * at query time, so flagging a bank moves its open cases into the
 * child-safety queue at once.  Cases opened before labels were recorded
 * have none: only their classification and their matched banks' flags
 * (none) count.
 */
#include "server/accounts.h"
#include "server/banks.h"

#include <string.h>

#include "db/sql.h"

int vigil__case_labels_locked(vigil_server_store *st, int64_t id, json_t *detail, vigil_error *err) {
  json_t *m = json_object_get(detail, "matches");
  int rc = VIGIL_OK;
  for (size_t i = 0; !rc && i < json_array_size(m); i++) {
    json_t *hit = json_array_get(m, i);
    const char *bank = json_string_value(json_object_get(hit, "bank"));
    if (!bank || strlen(bank) > 256) continue;
    json_t *tags = json_object_get(hit, "tags");
    size_t nt = json_array_size(tags);
    for (size_t k = 0; !rc && k < (nt ? nt : 1); k++) {
      const char *t = nt ? json_string_value(json_array_get(tags, k)) : "";
      if (!t || strlen(t) > 256) continue;
      const vigil__val p[] = {vigil__vint(id), vigil__vtext(bank), vigil__vtext(t)};
      rc = vigil__sql_run(st->db, "INSERT INTO server_case_labels(case_id, bank, tag) VALUES($1, $2, lower($3))", p, 3,
                          NULL, NULL, err);
    }
  }
  return rc;
}

/* Appends text to the query being built; 0 when it does not fit. */
static int put(char *sql, size_t cap, const char *text) {
  size_t n = strlen(sql), t = strlen(text);
  if (n + t + 1 > cap) return 0;
  memcpy(sql + n, text, t + 1);
  return 1;
}

int vigil__case_filter_sql(const vigil__case_filter *f, int64_t now, char *sql, size_t cap, vigil__val *p, int *np) {
  char buf[320];
  int ok = 1;
  if (f->status) {
    p[*np] = vigil__vtext(f->status);
    snprintf(buf, sizeof buf, " AND c.status = $%d", ++*np);
    ok &= put(sql, cap, buf);
  }
  if (f->bank) {
    p[*np] = vigil__vtext(f->bank);
    snprintf(buf, sizeof buf, " AND EXISTS(SELECT 1 FROM server_case_labels l WHERE l.case_id = c.id AND l.bank = $%d)",
             ++*np);
    ok &= put(sql, cap, buf);
  }
  if (f->tag) {
    p[*np] = vigil__vtext(f->tag);
    snprintf(buf, sizeof buf,
             " AND EXISTS(SELECT 1 FROM server_case_labels l WHERE l.case_id = c.id AND l.tag = lower($%d))", ++*np);
    ok &= put(sql, cap, buf);
  }
  if (f->assignee && !strcmp(f->assignee, "none")) {
    /* nobody holds it and nobody decided it */
    p[*np] = vigil__vint(now);
    snprintf(buf, sizeof buf,
             " AND c.decided_by IS NULL AND NOT EXISTS(SELECT 1 FROM server_case_claims k WHERE k.case_id = c.id"
             " AND k.until_at > $%d)",
             ++*np);
    ok &= put(sql, cap, buf);
  } else if (f->assignee) {
    /* the person holding it now, or the one who decided it */
    p[*np] = vigil__vtext(f->assignee);
    p[*np + 1] = vigil__vint(now);
    snprintf(buf, sizeof buf,
             " AND (c.decided_by = $%d OR EXISTS(SELECT 1 FROM server_case_claims k WHERE k.case_id = c.id"
             " AND k.holder = $%d AND k.until_at > $%d))",
             *np + 1, *np + 1, *np + 2);
    *np += 2;
    ok &= put(sql, cap, buf);
  }
  /* the child-safety queue: only for those with the permission */
  if (!f->child || f->queue == VIGIL__QUEUE_GENERAL) ok &= put(sql, cap, " AND NOT " VIGIL__CHILD_SQL);
  else if (f->queue == VIGIL__QUEUE_CHILD) ok &= put(sql, cap, " AND " VIGIL__CHILD_SQL);
  return ok;
}

int vigil__case_is_child(vigil_server_store *st, int64_t id, int *child, vigil_error *err) {
  *child = 0;
  const vigil__val p[] = {vigil__vint(id)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          "SELECT CASE WHEN " VIGIL__CHILD_SQL " THEN 1 ELSE 0 END FROM server_cases c WHERE c.id = $1",
                          p, 1, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc && vigil__rows_count(rows) == 0) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no case %lld", (long long)id);
  if (!rc) *child = vigil__rows_int(rows, 0, 0) != 0;
  vigil__rows_free(rows);
  return rc;
}

int vigil__bank_child_get(vigil_server_store *st, const char *bank, int *child, vigil_error *err) {
  *child = 0;
  const vigil__val p[] = {vigil__vtext(bank)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "SELECT 1 FROM server_bank_child WHERE bank = $1", p, 1, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return vigil__prefixerr(err, rc, "bank child-abuse flag");
  *child = vigil__rows_count(rows) > 0;
  vigil__rows_free(rows);
  return VIGIL_OK;
}

int vigil__bank_child_set(vigil_server_store *st, const char *bank, int child, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(bank)};
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          child ? "INSERT INTO server_bank_child(bank) VALUES($1) ON CONFLICT(bank) DO NOTHING"
                                : "DELETE FROM server_bank_child WHERE bank = $1",
                          p, 1, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  return rc ? vigil__prefixerr(err, rc, "bank child-abuse flag") : VIGIL_OK;
}
