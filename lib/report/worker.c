/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c - the delivery worker of `vigil serve`: claim due deliveries,
 * send each, record the outcome, sleep when there is nothing to do.
 *
 * The worker has a connection of its own, so a slow receiver never holds
 * the request threads' connection, and a claim or finish is a short
 * transaction of its own.  Sending happens outside any transaction.  It is
 * woken early by vigil__outbox_worker_kick (a request just committed a
 * delivery) and otherwise polls every poll_ms, which is also how it sees
 * deliveries another node wrote or whose retry time came.
 */
#include "report/outbox.h"
#include "report/cybertip.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct vigil__outbox_worker {
  vigil__sql *db;
  vigil__outbox_opts o;
  FILE *log;
  pthread_t t;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop, kicked;
};

static void log_line(FILE *log, const vigil__delivery *d, const char *outcome, int status, const char *error) {
  if (!log) return;
  json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:i, s:s, s:i, s:s?}", "outbox", d->kind, "delivery", (json_int_t)d->id,
                        "key", d->key, "event", d->event, "attempt", d->attempt, "outcome", outcome, "status", status,
                        "error", error);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (s) {
    fprintf(log, "%s\n", s);
    fflush(log);
  }
  free(s);
  json_decref(o);
}

static int run_once(vigil__sql *db, const vigil__outbox_opts *o, int max, int *done, FILE *log, vigil_error *err) {
  *done = 0;
  vigil__delivery *d = NULL;
  size_t n = 0;
  int rc = vigil__outbox_claim(db, max, (int64_t)o->lease_s * 1000, o->node, &d, &n, err);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) {
    int ok = 0, status = 0, gone = 0;
    vigil_error se;
    vigil_error_clear(&se);
    if (!strcmp(d[i].kind, "webhook")) vigil__webhook_send(db, o, &d[i], &ok, &status, &gone, &se);
    else if (!strcmp(d[i].kind, "ncmec")) {
      vigil__ct_claim cl = {&d[i], (int64_t)o->lease_s * 1000, d[i].attempt >= o->max_attempts};
      ok = vigil__cybertip_send(db, o->report_config, o->evidence_dir, strtoll(d[i].target, NULL, 10), &cl, &gone,
                                &se) == VIGIL_OK;
    } else {
      gone = 1;
      vigil__seterr(&se, VIGIL_EFORMAT, "no sender for deliveries of kind '%s'", d[i].kind);
    }
    int64_t wait = gone ? -1 : vigil__outbox_backoff_ms(o, d[i].attempt);
    const char *outcome = ok ? "done" : (gone || d[i].attempt >= o->max_attempts) ? "dead" : "retry";
    log_line(log, &d[i], outcome, status, ok ? NULL : se.message);
    int frc = vigil__outbox_finish(db, &d[i], ok, status, se.message, wait, o->max_attempts, o->node, err);
    if (frc && !rc) rc = frc; /* the lease ends and the row is claimed again */
    (*done)++;
  }
  vigil__delivery_free(d, n);
  return rc;
}

int vigil__outbox_run_once(vigil__sql *db, const vigil__outbox_opts *o, int max, int *done, vigil_error *err) {
  return run_once(db, o, max, done, NULL, err);
}

static void *worker_main(void *arg) {
  vigil__outbox_worker *w = arg;
  int64_t backoff = 0; /* after a database error, wait longer, up to 30 s */
  for (;;) {
    pthread_mutex_lock(&w->mu);
    int stop = w->stop;
    w->kicked = 0;
    pthread_mutex_unlock(&w->mu);
    if (stop) break;
    int done = 0;
    vigil_error e;
    vigil_error_clear(&e);
    int rc = run_once(w->db, &w->o, 8, &done, w->log, &e);
    if (rc) {
      if (w->log) {
        json_t *o = json_pack("{s:s, s:s}", "outbox", "error", "error", e.message);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s) fprintf(w->log, "%s\n", s), fflush(w->log);
        free(s);
        json_decref(o);
      }
      backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : w->o.poll_ms;
    } else backoff = 0;
    if (done > 0 && !rc) continue; /* more may be due */
    int64_t ms = backoff ? backoff : w->o.poll_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&w->mu);
    while (!w->stop && !w->kicked)
      if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT) break;
    pthread_mutex_unlock(&w->mu);
  }
  return NULL;
}

int vigil__outbox_worker_start(vigil__outbox_worker **out, const char *location, const vigil__outbox_opts *o,
                               FILE *log, vigil_error *err) {
  *out = NULL;
  vigil__outbox_worker *w = calloc(1, sizeof *w);
  if (!w) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  w->o = *o;
  w->log = log;
  if (!w->o.node[0]) {
    char host[48] = "";
    gethostname(host, sizeof host - 1);
    snprintf(w->o.node, sizeof w->o.node, "%s:%ld", host, (long)getpid());
  }
  int rc = vigil__sql_open(&w->db, location, err);
  if (rc) {
    free(w);
    return vigil__prefixerr(err, rc, "outbox worker");
  }
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  if (pthread_create(&w->t, NULL, worker_main, w) != 0) {
    vigil__sql_close(w->db);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    return vigil__seterr(err, VIGIL_EINTERNAL, "outbox worker: no thread");
  }
  *out = w;
  return VIGIL_OK;
}

void vigil__outbox_worker_kick(vigil__outbox_worker *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->kicked = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void vigil__outbox_worker_stop(vigil__outbox_worker *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->t, NULL);
  vigil__sql_close(w->db);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w);
}
