/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_disputes.c - disputed bank entries: a reviewer who dismisses a case
 * as a false positive may mark the entries it matched as disputed, so the
 * bank's owner hears of it (HMA's users asked for this) and the bank pages
 * show which entries misfire.
 *
 * A dispute is a row of server_entry_disputes (bank, entry id, the
 * entry's signal type and value as the case recorded them, the case, who,
 * when, the note), written in the dismissal's transaction: a dismissal
 * that asked for disputes and could not record them is not taken.  The
 * bank store itself is not changed: the entry keeps matching until its
 * owner removes it, and the dispute stays on record either way.
 *
 *   GET /v1/banks/{name}/disputes   the disputes of a bank, newest first
 */
#include "server/banks.h"
#include "server/cases.h"
#include "server/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "db/sql.h"
#include "vigil/bank.h"

int vigil__disputes_add_locked(vigil_server_store *st, int64_t case_id, const char *by, const char *note,
                               const char *at, vigil_error *err) {
  const vigil__val p[] = {vigil__vint(case_id)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(st->db, "SELECT detail FROM server_cases WHERE id = $1", p, 1, &rows, NULL, err);
  if (rc) return rc;
  const char *dj = vigil__rows_count(rows) ? vigil__rows_text(rows, 0, 0) : NULL;
  json_t *d = dj ? json_loads(dj, 0, NULL) : NULL;
  vigil__rows_free(rows);
  json_t *m = json_object_get(d, "matches");
  int n = 0;
  for (size_t i = 0; !rc && i < json_array_size(m); i++) {
    json_t *hit = json_array_get(m, i);
    const char *bank = json_string_value(json_object_get(hit, "bank"));
    json_t *eid = json_object_get(hit, "id");
    if (!bank || !json_is_integer(eid)) continue;
    const vigil__val q[] = {vigil__vtext(bank),
                            vigil__vint(json_integer_value(eid)),
                            vigil__vtext(json_string_value(json_object_get(hit, "signal_type"))),
                            vigil__vtext(json_string_value(json_object_get(hit, "value"))),
                            vigil__vint(case_id),
                            vigil__vtext(by),
                            vigil__vtext(at),
                            vigil__vtext(note)};
    rc = vigil__sql_run(
        st->db,
        "INSERT INTO server_entry_disputes(bank, entry_id, signal_type, value, case_id, by_who, at, note)"
        " VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
        q, 8, NULL, NULL, err);
    n++;
  }
  json_decref(d);
  if (!rc && n == 0)
    rc = vigil__seterr(err, VIGIL_EINVAL, "dispute: case %lld matched no bank entry", (long long)case_id);
  return rc;
}

int vigil__disputes_count(vigil_server_store *st, const char *bank, int64_t *n, vigil_error *err) {
  *n = 0;
  const vigil__val p[] = {vigil__vtext(bank)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "SELECT count(DISTINCT entry_id) FROM server_entry_disputes WHERE bank = $1", p, 1,
                          &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc && vigil__rows_count(rows)) *n = vigil__rows_int(rows, 0, 0);
  vigil__rows_free(rows);
  return rc;
}

int vigil_server_disputed_entries(vigil_server_store *st, const char *bank, uint64_t **ids, size_t *n,
                                  vigil_error *err) {
  *ids = NULL;
  *n = 0;
  const vigil__val p[] = {vigil__vtext(bank)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          bank ? "SELECT DISTINCT entry_id FROM server_entry_disputes WHERE bank = $1 ORDER BY entry_id"
                               : "SELECT DISTINCT entry_id FROM server_entry_disputes ORDER BY entry_id",
                          p, bank ? 1 : 0, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  size_t k = rc ? 0 : vigil__rows_count(rows);
  if (k && !(*ids = malloc(k * sizeof **ids))) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < k; i++) {
    int64_t v = vigil__rows_int(rows, i, 0);
    if (v > 0) (*ids)[(*n)++] = (uint64_t)v; /* ids are positive; a stray row is left out */
  }
  vigil__rows_free(rows);
  if (rc) {
    free(*ids);
    *ids = NULL;
    *n = 0;
  }
  return rc;
}

int vigil__h_bank_disputes(vigil__req *r) {
  const vigil__val p[] = {vigil__vtext(vigil__req_param(r, "name"))};
  json_t *arr = NULL;
  int rc = vigil__query_json(vigil__req_store(r),
                             "SELECT entry_id, signal_type, value, case_id, by_who AS disputed_by, at, note"
                             " FROM server_entry_disputes WHERE bank = $1 ORDER BY id DESC LIMIT 1000",
                             p, 1, &arr, &r->err);
  if (rc) return rc;
  if (json_array_size(arr) == 0) {
    /* no disputes: say so only for a bank that exists (a dropped bank's
     * disputes stay listed; a mistyped name is a 404, not an empty list) */
    vigil__banks *b = vigil__server_banks(r->srv);
    vigil_bank_info info;
    vigil_bank_store *bst;
    vigil__banks_begin(b, &bst);
    rc = vigil_bank_get(bst, vigil__req_param(r, "name"), &info, &r->err);
    vigil__banks_end(b, 0, NULL);
    if (rc) {
      json_decref(arr);
      return rc;
    }
  }
  return vigil__reply_json(r, 200, json_pack("{s:s, s:o}", "bank", vigil__req_param(r, "name"), "disputes", arr));
}
