/* SPDX-License-Identifier: Apache-2.0 */
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
#include <stdio.h>

#include "common/internal.h"
#include "server/store.h"
#include "vigil/bank.h"

struct vigil_bank_store;
struct vigil_bank_matcher;

/* The bank store and the in-memory PDQ index of the enabled banks (see
 * banksvc.c for the connections, the locks and the sync thread).  The
 * index is brought up to date with the store (other nodes' changes
 * included) by a thread of its own every VIGIL__BANK_SYNC_US, and at once
 * after a change made through this server; queries only read it.  An index
 * not synced for VIGIL__BANK_STALE_US makes /healthz answer 503. */
#define VIGIL__BANK_SYNC_US 250000
#define VIGIL__BANK_STALE_US 30000000
typedef struct vigil__banks {
  struct vigil_bank_store *st;  /* queries: exact lookups, the hits' entries */
  struct vigil_bank_store *wst; /* changes, imports, exports, listings */
  struct vigil_bank_store *sst; /* the sync thread's reads */
  struct vigil_bank_matcher *m; /* reads its entries through st */
  pthread_rwlock_t rw;          /* queries share it; applying a sync takes it alone */
  pthread_mutex_t wmu;          /* one user of wst at a time */
  pthread_mutex_t smu;          /* guards the sync thread's requests below */
  pthread_cond_t wake;          /* to the thread: sync now, or stop */
  pthread_cond_t done;          /* from the thread: a sync finished */
  uint64_t asked, served;       /* sync requests made, and the last one a finished sync covers */
  int served_rc;                /* that sync's result */
  vigil_error served_err;
  int stop;
  pthread_t thread;
  int started;                  /* the thread was created (close joins it) */
  int running;                  /* it has not ended (under smu) */
  FILE *log;                    /* the server's log: sync failures; NULL: none */
  _Atomic int64_t synced_us;          /* when the last successful sync began */
  _Atomic uint64_t sync_failures;     /* syncs that failed, since start */
} vigil__banks;

/* log: where sync failures are reported (the server's log), or NULL. */
int vigil__banks_open(vigil__banks *b, const char *db_path, const char *vpdq_index, FILE *log, vigil_error *err);
void vigil__banks_close(vigil__banks *b);
/* Everything but queries: begin gives the store to use (waiting for other
 * writers only); end, when changed, has the sync thread bring the index up
 * to date and waits for it (so a change is matchable when its request
 * returns), then releases the store. */
int vigil__banks_begin(vigil__banks *b, struct vigil_bank_store **st);
int vigil__banks_end(vigil__banks *b, int changed, vigil_error *err);
/* Queries: shared with other queries, the index as the last sync left it. */
int vigil__banks_lock_query(vigil__banks *b, vigil_error *err);
void vigil__banks_unlock_query(vigil__banks *b);
/* PDQ hashes in the index. */
size_t vigil__banks_indexed(vigil__banks *b);
/* Seconds since the last successful sync began, and failed syncs so far. */
double vigil__banks_age_s(vigil__banks *b);
uint64_t vigil__banks_sync_failures(vigil__banks *b);
vigil__banks *vigil__server_banks(vigil_server *srv);

struct vigil_bank_entry;
/* An entry as the API shows it: id, bank, signal_type, value (hex), tags... */
json_t *vigil__entry_json(const struct vigil_bank_entry *e);

/* Banks whose matches open review cases (server_bank_review). */
int vigil__bank_review_get(vigil_server_store *st, const char *bank, int *review, vigil_error *err);

/* The review flags of the banks one answer's hits name, each read once:
 * a lookup's hits are often many entries of a few banks, and each read
 * takes the store's lock.  Zero it before the first use; one answer only
 * (a flag changed meanwhile is seen by the next answer).  Beyond
 * VIGIL__REVIEW_MEMO banks the flag is read each time, as without it. */
#define VIGIL__REVIEW_MEMO 8
typedef struct vigil__review_memo {
  char bank[VIGIL__REVIEW_MEMO][VIGIL_BANK_NAME_MAX + 1];
  int review[VIGIL__REVIEW_MEMO];
  int n;
} vigil__review_memo;
int vigil__bank_review_memo(vigil_server_store *st, vigil__review_memo *memo, const char *bank, int *review,
                            vigil_error *err);
int vigil__bank_review_set(vigil_server_store *st, const char *bank, int review, vigil_error *err);
/* Banks of child-abuse material: their cases go to the child-safety queue
 * (server_bank_child, queue.c). */
int vigil__bank_child_get(vigil_server_store *st, const char *bank, int *child, vigil_error *err);
int vigil__bank_child_set(vigil_server_store *st, const char *bank, int child, vigil_error *err);
/* The same for a bank that exists, with its bank.changed deliveries in the
 * same transaction (review_set alone: a new bank, whose "create" has them). */
int vigil__bank_review_change(vigil_server_store *st, const char *bank, int review, vigil_error *err);

#endif
