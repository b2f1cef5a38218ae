/*
 * banksvc.c - the hash banks as the service sees them: one bank store and
 * one in-memory PDQ index per server, shared by every request thread.
 *
 * One readers-writer lock: match queries share it (the index takes
 * concurrent readers, vigil/bank.h), while changes, syncs and the other
 * bank calls take it alone, since the store is otherwise single-threaded.  Freshness: before a query the index is synced with the
 * store when it is over a second old, which is how several `vigil serve`
 * nodes sharing one database see each other's bank changes within a
 * second.  The review flag of a bank (its matches open review cases) is
 * service state, kept in the service's own table.
 */
#include "server/internal.h"

#include <string.h>

#include "vigil/bank.h"

int vigil__banks_open(vigil__banks *b, const char *db_path, vigil_error *err) {
  memset(b, 0, sizeof *b);
  int rc = vigil_bank_store_open(&b->st, db_path, err);
  if (rc) return rc;
  if ((rc = vigil_bank_matcher_open(&b->m, b->st, err))) {
    vigil_bank_store_close(b->st);
    return rc;
  }
  pthread_rwlock_init(&b->rw, NULL);
  b->synced_us = vigil__now_us();
  return VIGIL_OK;
}

void vigil__banks_close(vigil__banks *b) {
  vigil_bank_matcher_free(b->m);
  vigil_bank_store_close(b->st);
  pthread_rwlock_destroy(&b->rw);
  memset(b, 0, sizeof *b);
}

int vigil__banks_lock(vigil__banks *b, int force, vigil_error *err) {
  pthread_rwlock_wrlock(&b->rw);
  int64_t now = vigil__now_us();
  if (force || now - b->synced_us > VIGIL__BANK_SYNC_US) {
    int rc = vigil_bank_matcher_sync(b->m, err);
    if (rc) {
      pthread_rwlock_unlock(&b->rw);
      return rc;
    }
    b->synced_us = now;
  }
  return VIGIL_OK;
}

int vigil__banks_lock_query(vigil__banks *b, vigil_error *err) {
  if (vigil__now_us() - b->synced_us > VIGIL__BANK_SYNC_US) {
    int rc = vigil__banks_lock(b, 0, err); /* syncs; another thread may have already */
    if (rc) return rc;
    pthread_rwlock_unlock(&b->rw);
  }
  pthread_rwlock_rdlock(&b->rw);
  return VIGIL_OK;
}

void vigil__banks_unlock(vigil__banks *b) { pthread_rwlock_unlock(&b->rw); }

int vigil__bank_review_get(vigil_server_store *st, const char *bank, int *review, vigil_error *err) {
  *review = 0;
  const vigil__val p[] = {vigil__vtext(bank)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "SELECT review FROM server_bank_review WHERE bank = $1", p, 1, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return vigil__prefixerr(err, "bank review flag");
  if (vigil__rows_count(rows) == 1) *review = vigil__rows_int(rows, 0, 0) != 0;
  vigil__rows_free(rows);
  return VIGIL_OK;
}

int vigil__bank_review_set(vigil_server_store *st, const char *bank, int review, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(bank), vigil__vint(review ? 1 : 0)};
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          "INSERT INTO server_bank_review(bank, review) VALUES($1, $2)"
                          " ON CONFLICT(bank) DO UPDATE SET review = excluded.review",
                          p, 2, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  return rc ? vigil__prefixerr(err, "bank review flag") : VIGIL_OK;
}

json_t *vigil__entry_json(const vigil_bank_entry *e) {
  char hex[2 * VIGIL_BANK_VALUE_MAX + 1];
  vigil_signal_to_hex(e->value, e->value_len, hex);
  json_t *tags = json_array();
  if (!tags) return NULL;
  const char *p = e->tags;
  while (*p) {
    size_t n = strcspn(p, ",");
    if (n) json_array_append_new(tags, json_stringn(p, n));
    p += n + (p[n] == ',');
  }
  json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o, s:s?, s:I}", "id", (json_int_t)e->id, "bank", e->bank,
                        "signal_type", vigil_signal_name(e->type), "value", hex, "external_id",
                        e->external_id[0] ? e->external_id : NULL, "tags", tags, "source",
                        e->source[0] ? e->source : NULL, "added", (json_int_t)e->added);
  if (o && e->removed) {
    json_object_set_new(o, "removed", json_integer((json_int_t)e->removed));
    json_object_set_new(o, "removed_reason", json_string(e->removed_reason));
  }
  return o;
}
