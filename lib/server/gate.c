/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gate.c - admission for expensive handlers and the upload-hashing path
 * every handler that decodes a picture goes through (gate.h).
 *
 * A screening service must never answer "no match" when it did not look,
 * so every failure to hash maps to a status a client cannot read as
 * clean: 413 over a limit, 422 for content that is not a picture (or too
 * damaged to be one), 503 with Retry-After when the node is out of memory
 * or its decode queue is full.  Out of memory is 503 for every format: an
 * attacker who can exhaust memory must not turn it into a 4xx that a
 * client treats as final.
 */
#include "server/gate.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int vigil__gate_init(vigil__gate *g, unsigned max_active, unsigned max_waiting, unsigned patience_s) {
  memset(g, 0, sizeof *g);
  g->max_active = max_active ? max_active : 1;
  g->max_waiting = max_waiting;
  g->patience_s = patience_s;
  if (pthread_mutex_init(&g->mu, NULL) != 0) return VIGIL_ENOMEM;
  if (pthread_cond_init(&g->cv, NULL) != 0) {
    pthread_mutex_destroy(&g->mu);
    return VIGIL_ENOMEM;
  }
  g->ready = 1;
  return VIGIL_OK;
}

void vigil__gate_destroy(vigil__gate *g) {
  if (!g->ready) return;
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
  g->ready = 0;
}

int vigil__gate_enter(vigil__gate *g) {
  pthread_mutex_lock(&g->mu);
  if (g->active < g->max_active) {
    g->active++;
    pthread_mutex_unlock(&g->mu);
    return 1;
  }
  if (g->waiting >= g->max_waiting) {
    pthread_mutex_unlock(&g->mu);
    return 0;
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += g->patience_s;
  g->waiting++;
  int in = 0;
  for (;;) {
    if (g->active < g->max_active) {
      g->active++;
      in = 1;
      break;
    }
    if (pthread_cond_timedwait(&g->cv, &g->mu, &until) == ETIMEDOUT) {
      in = g->active < g->max_active;
      if (in) g->active++;
      break;
    }
  }
  g->waiting--;
  pthread_mutex_unlock(&g->mu);
  return in;
}

void vigil__gate_leave(vigil__gate *g) {
  pthread_mutex_lock(&g->mu);
  g->active--;
  pthread_cond_signal(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

void vigil__reply_hash_error(vigil__req *r, int rc, const vigil_error *e) {
  switch (rc) {
  case VIGIL_ELIMIT: vigil__reply_error(r, 413, "image_too_large", "%s", e->message); break;
  case VIGIL_EFORMAT: vigil__reply_error(r, 422, "unsupported_image", "%s", e->message); break;
  case VIGIL_ECORRUPT:
  case VIGIL_EINVAL: vigil__reply_error(r, 422, "bad_image", "%s", e->message); break;
  case VIGIL_ENOMEM:
  case VIGIL__HASH_BUSY:
    r->retry_after = VIGIL__RETRY_AFTER_S;
    vigil__reply_error(r, 503, "overloaded", "%s",
                       rc == VIGIL__HASH_BUSY ? "too many pictures are being decoded; retry later"
                                         : "out of memory decoding the content; retry later");
    break;
  default:
    r->err = *e;
    vigil__reply_from_err(r, rc);
  }
}

int vigil__hash_upload(vigil__req *r, vigil_hash_opts *opts, vigil_pdq_result *res, vigil_image_info *info,
                       vigil_error *err) {
  vigil__gate *g = vigil__server_decode_gate(r->srv);
  if (!vigil__gate_enter(g)) {
    vigil__seterr(err, VIGIL_ELIMIT, "the decode queue is full");
    return VIGIL__HASH_BUSY;
  }
  opts->max_decode_bytes = vigil__server_decode_budget(r->srv);
  int rc = vigil_hash_memory(r->body, r->body_len, opts, res, info, err);
  vigil__gate_leave(g);
  return rc;
}
