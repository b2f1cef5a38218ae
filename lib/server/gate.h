/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/gate.h - bounded cost per request: how many expensive handlers
 * run at once, and hashing an upload within a memory budget.
 *
 * A gate lets max_active callers in and queues up to max_waiting more; a
 * caller beyond that, or one that waits longer than the gate's patience,
 * is refused, and the handler answers 503 with Retry-After.  Without it
 * every upload decodes at once on a thread of its own: 64 requests of a
 * 35-byte GIF bomb took 6.5 GB.  `vigil serve` has two gates: decodes
 * (--max-decodes, --decode-queue; each decode gets an equal share of
 * --decode-memory as its budget, so all of them together stay within it)
 * and long handlers (ad linking).
 */
#ifndef VIGIL_SERVER_GATE_H
#define VIGIL_SERVER_GATE_H

#include <pthread.h>

#include "server/req.h"
#include "vigil/media.h"

typedef struct vigil__gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned max_active, max_waiting, active, waiting;
  unsigned patience_s; /* longest wait in the queue */
  int ready;
} vigil__gate;

int vigil__gate_init(vigil__gate *g, unsigned max_active, unsigned max_waiting, unsigned patience_s);
void vigil__gate_destroy(vigil__gate *g);
/* 1: in (after waiting in the queue if every slot was taken); 0: the queue
 * is full or the wait ran out.  Thread-safe. */
int vigil__gate_enter(vigil__gate *g);
void vigil__gate_leave(vigil__gate *g);

/* Seconds a refused client is told to wait (Retry-After). */
#define VIGIL__RETRY_AFTER_S 2

/* What vigil__hash_upload returns when the decode gate refused: positive,
 * so it is never mistaken for a library status. */
#define VIGIL__HASH_BUSY 1

/* Hashes the request body through the server's decode gate, within the
 * per-decode memory budget.  opts: the caller's options (mode, dihedral);
 * the budget is set here.  Returns VIGIL_OK (res, info filled), a library
 * status with err set, or VIGIL__HASH_BUSY.  Replies nothing. */
int vigil__hash_upload(vigil__req *r, vigil_hash_opts *opts, vigil_pdq_result *res, vigil_image_info *info,
                       vigil_error *err);
/* The reply for a failed vigil__hash_upload: 413 over a limit, 422 not a
 * picture or damaged beyond recovery, 503 + Retry-After when out of
 * memory or the gate is full. */
void vigil__reply_hash_error(vigil__req *r, int rc, const vigil_error *err);

/* 1 once vigil_server_stop has begun: long handlers stop their work. */
int vigil__server_stopping(vigil_server *srv);
/* 1 when the client of r has closed its connection (a handler running on a
 * thread of its own may poll it and stop work nobody will read). */
int vigil__req_client_gone(vigil__req *r);

vigil__gate *vigil__server_decode_gate(vigil_server *srv);
vigil__gate *vigil__server_long_gate(vigil_server *srv);
size_t vigil__server_decode_budget(vigil_server *srv);

#endif
