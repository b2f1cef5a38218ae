/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report/outbox.h - the outbox and webhooks on a vigil__sql connection,
 * for the service (lib/server) and the public wrappers (report_db.c).
 *
 * The functions here take the caller's connection so that an event and
 * its deliveries are written in one transaction: cases.c calls
 * vigil__hooks_emit between its BEGIN and COMMIT.  They run single
 * statements and never begin a transaction of their own unless they say
 * so, so they work inside one and outside one alike.
 *
 * The delivery state machine (every change is one UPDATE whose WHERE
 * clause names the state it leaves, so a lost race changes nothing):
 *
 *   pending --claim--> sending --2xx--> done
 *      ^                  |  \--failure, attempts left--> pending (next_at = now + back-off)
 *      |                  |   \-failure, none left------> dead
 *      |                  \--lease over (worker died)--> claimed again, same key
 *      \----------- retry (operator) ------------------- dead
 *
 * A claim sets next_at to the end of a lease; a worker that dies mid-send
 * leaves the row in "sending" and, once the lease ends, another claim
 * (this node after a restart, or another node) sends it again with the
 * same idempotency key.  A finish names the attempt number it claimed, so
 * a worker whose lease ran out cannot overwrite the newer attempt's
 * outcome.  On PostgreSQL the claim reads with FOR UPDATE SKIP LOCKED, so
 * nodes sharing the database never claim one row twice.
 */
#ifndef VIGIL_REPORT_OUTBOX_H
#define VIGIL_REPORT_OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "common/internal.h"
#include "db/sql.h"
#include "vigil/report.h"

/* Creates the outbox tables if absent (its own transaction on PostgreSQL,
 * under the schema advisory lock). */
int vigil__report_schema(vigil__sql *db, vigil_error *err);
/* libcurl's global set-up (not thread-safe, and it initialises OpenSSL's
 * TLS): once, before the caller starts threads; deliveries call it too. */
void vigil__webhook_global_init(void);

int64_t vigil__report_now_ms(void);

/* Adds a pending delivery due now.  A key already present adds nothing
 * (*id = 0): the event was already recorded. */
int vigil__outbox_add(vigil__sql *db, const char *kind, const char *target, const char *event, const char *key,
                      const char *payload, int64_t *id, vigil_error *err);

/* Records event with data (an object, borrowed) for every active
 * subscription to it: one delivery each, keyed "<event id>.<hook id>".
 * Call it inside the transaction that records the event. */
int vigil__hooks_emit(vigil__sql *db, unsigned event, json_t *data, vigil_error *err);

/* *wanted = 1 when an active subscription takes event: a read, so a
 * caller with no transaction of its own can skip taking the write lock
 * (SQLite has one writer; a bank import may hold it for seconds). */
int vigil__hooks_wanted(vigil__sql *db, unsigned event, int *wanted, vigil_error *err);

/* A claimed delivery. */
typedef struct vigil__delivery {
  int64_t id;
  char kind[16];
  char target[64];
  char event[32];
  char key[VIGIL_DELIVERY_KEY_MAX];
  int attempt; /* this attempt's number, from 1 */
  char *payload;
} vigil__delivery;

/* Claims up to max due deliveries (pending or sending past its lease) for
 * lease_ms; *out is a malloc'd array, free with vigil__delivery_free. */
int vigil__outbox_claim(vigil__sql *db, int max, int64_t lease_ms, const char *node, vigil__delivery **out,
                        size_t *n, vigil_error *err);
void vigil__delivery_free(vigil__delivery *d, size_t n);

/* Keeps d's claim for lease_ms more, from now: a sender whose attempt
 * makes several calls (a CyberTipline submission) renews before each, so
 * no other node claims the delivery while it is still being sent.  *held
 * is 0 when the claim is no longer this worker's (its lease ran out and
 * another claimed it, or it was finished): the sender must stop. */
int vigil__outbox_renew(vigil__sql *db, const vigil__delivery *d, int64_t lease_ms, int *held, vigil_error *err);

/* The outcome of one attempt: ok, or the error; status is the HTTP status
 * (0 when no response).  retry_in_ms < 0 makes the delivery dead at once
 * (nothing to send it to); otherwise a failure is retried after it, or
 * dead when the attempt was the last (max_attempts). */
int vigil__outbox_finish(vigil__sql *db, const vigil__delivery *d, int ok, int status, const char *error,
                         int64_t retry_in_ms, int max_attempts, const char *node, vigil_error *err);

/* Sending options of the worker (the "outbox" and "webhooks" sections of
 * the report configuration, docs/report.md). */
typedef struct vigil__outbox_opts {
  int poll_ms;        /* idle wait between claims (default 500) */
  int lease_s;        /* how long a claim holds a row (default 60; > timeout_s) */
  int max_attempts;   /* before a delivery goes dead (default 10) */
  int backoff_ms;     /* first retry after (default 5000), doubling */
  int backoff_max_ms; /* longest wait between attempts (default 1 hour) */
  int timeout_s;      /* one webhook call, connect to last byte (default 10) */
  char node[64];      /* this node's name in the history (default host:pid) */
  const char *report_config; /* for CyberTipline submissions: the configuration file, */
  const char *evidence_dir;  /* and where evidence is kept (both outlive the worker) */
} vigil__outbox_opts;

void vigil__outbox_opts_default(vigil__outbox_opts *o);
/* Back-off before attempt (attempt+1): backoff_ms * 2^(attempt-1), capped. */
int64_t vigil__outbox_backoff_ms(const vigil__outbox_opts *o, int attempt);

/* Sends one claimed webhook delivery: loads its subscription from db,
 * signs and POSTs.  *ok, *status and err (the failure) are its outcome;
 * *gone is set when the subscription no longer exists. */
int vigil__webhook_send(vigil__sql *db, const vigil__outbox_opts *o, const vigil__delivery *d, int *ok, int *status,
                        int *gone, vigil_error *err);

/* Claims, sends and finishes up to max due deliveries on db; *done
 * counts them.  The worker's loop body; tests call it directly. */
int vigil__outbox_run_once(vigil__sql *db, const vigil__outbox_opts *o, int max, int *done, vigil_error *err);

/* The delivery worker: a thread with its own connection to location. */
typedef struct vigil__outbox_worker vigil__outbox_worker;
int vigil__outbox_worker_start(vigil__outbox_worker **out, const char *location, const vigil__outbox_opts *o,
                               FILE *log, vigil_error *err);
/* Wakes the worker now (a delivery was just committed). */
void vigil__outbox_worker_kick(vigil__outbox_worker *w);
/* Stops after the current attempt; NULL is fine. */
void vigil__outbox_worker_stop(vigil__outbox_worker *w);

/* Reads the report configuration file (JSON, docs/report.md) into o;
 * NULL path: defaults. */
int vigil__report_config_load(const char *path, vigil__outbox_opts *o, vigil_error *err);

/* Subscriptions and deliveries on a connection (the public functions of
 * report.h wrap these). */
int vigil__hook_create(vigil__sql *db, const char *url, unsigned events, char secret_out[VIGIL_HOOK_SECRET_MAX],
                       vigil_hook_info *info, vigil_error *err);
int vigil__hook_list(vigil__sql *db, vigil_hook_info **out, size_t *n, vigil_error *err);
int vigil__hook_delete(vigil__sql *db, const char *id, vigil_error *err);
int vigil__delivery_list(vigil__sql *db, const char *state, int64_t after_id, int limit, vigil_delivery_info **out,
                         size_t *n, vigil_error *err);
int vigil__delivery_retry(vigil__sql *db, int64_t id, vigil_error *err);
/* "a,b" for the event bits into buf. */
void vigil__events_format(unsigned events, char *buf, size_t cap);
/* Parses "a,b,..." (or "*") into bits; 0 after setting err for an unknown name. */
unsigned vigil__events_parse_list(const char *list, vigil_error *err);

#endif
