/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hdrwatch.c - the header deadline's entries and its thread (see
 * server/hdrwatch.h for why it exists and why it is race-free).
 *
 * Entries form a doubly linked list under one mutex: opening, closing and
 * marking are O(1), and the thread scans the list a few times per
 * deadline.  With --max-connections at most a few thousand, a scan is a
 * few microseconds; a heap ordered by deadline would save nothing worth
 * its code, since marks move deadlines both ways.
 */
#include "server/hdrwatch.h"

#include "common/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct vigil__hdrconn {
  vigil__hdrconn *prev, *next;
  int fd;
  int64_t deadline_ms; /* monotonic; 0: headers in, no deadline */
};

struct vigil__hdrwatch {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* wakes the thread to stop */
  pthread_t thread;
  vigil__hdrconn head; /* sentinel of a circular list */
  int64_t timeout_ms, period_ms;
  uint64_t cut;
  int stop;
};

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *watch_main(void *arg) {
  vigil__hdrwatch *w = arg;
  pthread_mutex_lock(&w->mu);
  while (!w->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + w->period_ms * 1000000;
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    if (w->stop) break;
    int64_t now = mono_ms();
    for (vigil__hdrconn *c = w->head.next; c != &w->head; c = c->next)
      if (c->deadline_ms && now >= c->deadline_ms) {
        /* The entry is in the list, so libmicrohttpd has not closed the
         * socket yet (it removes the entry, under this mutex, first). */
        shutdown(c->fd, SHUT_RDWR);
        c->deadline_ms = 0;
        w->cut++;
      }
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int vigil__hdrwatch_start(vigil__hdrwatch **out, unsigned timeout_s) {
  *out = NULL;
  vigil__hdrwatch *w = calloc(1, sizeof *w);
  if (!w) return VIGIL_ENOMEM;
  w->head.prev = w->head.next = &w->head;
  w->timeout_ms = (int64_t)timeout_s * 1000;
  /* a connection is cut at most a quarter of the deadline late */
  w->period_ms = w->timeout_ms / 4 < 100 ? 100 : w->timeout_ms / 4 > 1000 ? 1000 : w->timeout_ms / 4;
  pthread_condattr_t ca;
  int ok = 0;
  if (pthread_condattr_init(&ca) == 0) {
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&w->cv, &ca) == 0) {
      if (pthread_mutex_init(&w->mu, NULL) == 0) {
        if (pthread_create(&w->thread, NULL, watch_main, w) == 0) ok = 1;
        else pthread_mutex_destroy(&w->mu);
      }
      if (!ok) pthread_cond_destroy(&w->cv);
    }
    pthread_condattr_destroy(&ca);
  }
  if (!ok) {
    free(w);
    return VIGIL_ENOMEM;
  }
  *out = w;
  return VIGIL_OK;
}

void vigil__hdrwatch_stop(vigil__hdrwatch *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  /* libmicrohttpd has closed every connection by now; free what is left */
  for (vigil__hdrconn *c = w->head.next, *n; c != &w->head; c = n) {
    n = c->next;
    free(c);
  }
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
}

vigil__hdrconn *vigil__hdrwatch_open(vigil__hdrwatch *w, int fd) {
  vigil__hdrconn *c = malloc(sizeof *c);
  if (!c) return NULL;
  c->fd = fd;
  pthread_mutex_lock(&w->mu);
  c->deadline_ms = mono_ms() + w->timeout_ms;
  c->prev = w->head.prev;
  c->next = &w->head;
  c->prev->next = c;
  w->head.prev = c;
  pthread_mutex_unlock(&w->mu);
  return c;
}

void vigil__hdrwatch_close(vigil__hdrwatch *w, vigil__hdrconn *c) {
  if (!c) return;
  pthread_mutex_lock(&w->mu);
  c->prev->next = c->next;
  c->next->prev = c->prev;
  pthread_mutex_unlock(&w->mu);
  free(c);
}

void vigil__hdrwatch_headers_in(vigil__hdrwatch *w, vigil__hdrconn *c) {
  if (!c) return;
  pthread_mutex_lock(&w->mu);
  c->deadline_ms = 0;
  pthread_mutex_unlock(&w->mu);
}

void vigil__hdrwatch_request_done(vigil__hdrwatch *w, vigil__hdrconn *c) {
  if (!c) return;
  pthread_mutex_lock(&w->mu);
  c->deadline_ms = mono_ms() + w->timeout_ms;
  pthread_mutex_unlock(&w->mu);
}

uint64_t vigil__hdrwatch_cut(vigil__hdrwatch *w) {
  pthread_mutex_lock(&w->mu);
  uint64_t n = w->cut;
  pthread_mutex_unlock(&w->mu);
  return n;
}
