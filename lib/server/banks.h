/*
 * server/banks.h - the hash banks as the handlers share them (banksvc.c):
 * the bank store, the in-memory PDQ index of the enabled banks, and the
 * locks that let queries run together while changes go one at a time.
 */
#ifndef VIGIL_SERVER_BANKS_H
#define VIGIL_SERVER_BANKS_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "server/store.h"

struct vigil_bank_store;
struct vigil_bank_matcher;

/* The bank store and the in-memory PDQ index of the enabled banks (see
 * banksvc.c for why there are two connections and two locks).  The index
 * is brought up to date with the store (other nodes' changes included)
 * when it is more than VIGIL__BANK_SYNC_US old, and at once after a change
 * made through this server. */
#define VIGIL__BANK_SYNC_US 1000000
typedef struct vigil__banks {
  struct vigil_bank_store *st;  /* queries: exact lookups, the hits' entries */
  struct vigil_bank_store *wst; /* changes, imports, exports, listings, syncs */
  struct vigil_bank_matcher *m; /* reads its entries through st */
  pthread_rwlock_t rw;          /* queries share it; applying a sync takes it alone */
  pthread_mutex_t wmu;          /* one user of wst at a time */
  _Atomic int64_t synced_us;
} vigil__banks;

int vigil__banks_open(vigil__banks *b, const char *db_path, vigil_error *err);
void vigil__banks_close(vigil__banks *b);
/* Everything but queries: begin gives the store to use (waiting for other
 * writers only); end syncs the index when changed, then releases it. */
int vigil__banks_begin(vigil__banks *b, struct vigil_bank_store **st);
int vigil__banks_end(vigil__banks *b, int changed, vigil_error *err);
/* Queries: shared with other queries; syncs a stale index first. */
int vigil__banks_lock_query(vigil__banks *b, vigil_error *err);
void vigil__banks_unlock_query(vigil__banks *b);
/* PDQ hashes in the index. */
size_t vigil__banks_indexed(vigil__banks *b);
vigil__banks *vigil__server_banks(vigil_server *srv);

struct vigil_bank_entry;
/* An entry as the API shows it: id, bank, signal_type, value (hex), tags... */
json_t *vigil__entry_json(const struct vigil_bank_entry *e);

/* Banks whose matches open review cases (server_bank_review). */
int vigil__bank_review_get(vigil_server_store *st, const char *bank, int *review, vigil_error *err);
int vigil__bank_review_set(vigil_server_store *st, const char *bank, int review, vigil_error *err);

#endif
