/*
 * banksvc.c - the hash banks as the service sees them: one in-memory PDQ
 * index per server, shared by every request thread, over two connections
 * to the bank store.
 *
 * Matching must never wait for bank maintenance: a platform's upload path
 * goes through /v1/match while an operator imports a list of millions.
 * So queries and everything else use different connections and locks:
 *   - queries (PDQ against the index, exact lookups, the hits' entries)
 *     use `st` and share the readers-writer lock `rw`;
 *   - changes, imports, exports, listings and syncs use `wst`, one at a
 *     time under `wmu`, without `rw`.  After a change the index is synced
 *     in two steps (bank/bank_sync.h): the changes are read on `wst`
 *     while queries go on, and only applying them takes `rw` alone.
 * Freshness: a query finding the index over a second old syncs it first
 * (unless a writer is busy, which syncs when it ends), which is how several
 * `vigil serve` nodes sharing one database see each other's bank changes
 * within a second.  The review flag of a bank (its matches open review
 * cases) is service state, kept in the service's own table.
 */
#include "server/store.h"
#include "server/banks.h"

#include <string.h>

#include "bank/bank_sync.h"
#include "vigil/bank.h"

int vigil__banks_open(vigil__banks *b, const char *db_path, vigil_error *err) {
  memset(b, 0, sizeof *b);
  int rc = vigil_bank_store_open(&b->st, db_path, err);
  if (!rc) rc = vigil_bank_store_open(&b->wst, db_path, err);
  if (!rc) rc = vigil_bank_matcher_open(&b->m, b->st, err);
  if (rc) {
    vigil_bank_store_close(b->wst);
    vigil_bank_store_close(b->st);
    memset(b, 0, sizeof *b);
    return rc;
  }
  pthread_rwlock_init(&b->rw, NULL);
  pthread_mutex_init(&b->wmu, NULL);
  b->synced_us = vigil__now_us();
  return VIGIL_OK;
}

void vigil__banks_close(vigil__banks *b) {
  vigil_bank_matcher_free(b->m);
  vigil_bank_store_close(b->wst);
  vigil_bank_store_close(b->st);
  pthread_rwlock_destroy(&b->rw);
  pthread_mutex_destroy(&b->wmu);
  memset(b, 0, sizeof *b);
}

/* With wmu held: reads what changed on wst, then applies it under the
 * exclusive lock, which queries wait for only that long. */
static int refresh(vigil__banks *b, vigil_error *err) {
  vigil__bank_delta *d;
  int64_t started = vigil__now_us();
  int rc = vigil__bank_matcher_fetch(b->m, b->wst, &d, err);
  if (rc) return rc;
  pthread_rwlock_wrlock(&b->rw);
  rc = vigil__bank_matcher_apply(b->m, d, err);
  pthread_rwlock_unlock(&b->rw);
  if (!rc) b->synced_us = started;
  return rc;
}

int vigil__banks_begin(vigil__banks *b, struct vigil_bank_store **st) {
  pthread_mutex_lock(&b->wmu);
  *st = b->wst;
  return VIGIL_OK;
}

int vigil__banks_end(vigil__banks *b, int changed, vigil_error *err) {
  int rc = changed ? refresh(b, err) : VIGIL_OK;
  pthread_mutex_unlock(&b->wmu);
  return rc;
}

int vigil__banks_lock_query(vigil__banks *b, vigil_error *err) {
  (void)err;
  /* Stale: sync first, unless a writer holds wmu (it syncs when it ends;
   * a query never waits for an import).  A failed sync leaves the index as
   * it was and is tried again by the next query: matching goes on from
   * memory while the database is away. */
  if (vigil__now_us() - b->synced_us > VIGIL__BANK_SYNC_US && pthread_mutex_trylock(&b->wmu) == 0) {
    if (vigil__now_us() - b->synced_us > VIGIL__BANK_SYNC_US) refresh(b, NULL);
    pthread_mutex_unlock(&b->wmu);
  }
  pthread_rwlock_rdlock(&b->rw);
  return VIGIL_OK;
}

void vigil__banks_unlock_query(vigil__banks *b) { pthread_rwlock_unlock(&b->rw); }

size_t vigil__banks_indexed(vigil__banks *b) {
  pthread_rwlock_rdlock(&b->rw);
  size_t n = vigil_bank_matcher_size(b->m);
  pthread_rwlock_unlock(&b->rw);
  return n;
}

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
