/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hookrecv.c - see hookrecv.h.
 */
#include "hookrecv.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/report.h"

struct tu_recv {
  struct MHD_Daemon *d;
  pthread_mutex_t mu;
  char secret[VIGIL_HOOK_SECRET_MAX];
  int inject_n, inject_status, inject_delay_ms;
  size_t arrived;
  size_t n;
  tu_recv_call calls[TU_RECV_MAX];
};

typedef struct body {
  char buf[65536];
  size_t len;
} body;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **state) {
  (void)url;
  (void)version;
  tu_recv *r = cls;
  body *b = *state;
  if (!b) {
    if (!(b = calloc(1, sizeof *b))) return MHD_NO;
    *state = b;
    pthread_mutex_lock(&r->mu);
    r->arrived++;
    pthread_mutex_unlock(&r->mu);
    return MHD_YES;
  }
  if (*size) {
    size_t k = *size < sizeof b->buf - 1 - b->len ? *size : sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, data, k);
    b->len += k;
    *size = 0;
    return MHD_YES;
  }
  int status = 200, delay = 0;
  pthread_mutex_lock(&r->mu);
  if (r->inject_n > 0) {
    r->inject_n--;
    status = r->inject_status;
    delay = r->inject_delay_ms;
  }
  pthread_mutex_unlock(&r->mu);
  if (delay) {
    struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Vigil-Signature");
  const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Vigil-Delivery");
  const char *ev = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Vigil-Event");
  pthread_mutex_lock(&r->mu);
  int ok = strcmp(method, "POST") == 0 &&
           vigil_hook_verify(r->secret, sig, b->buf, b->len, (int64_t)time(NULL), 300, NULL) == VIGIL_OK;
  if (!ok) status = 401; /* a forged or replayed call is refused */
  if (status == 200 && r->n < TU_RECV_MAX) {
    tu_recv_call *k = &r->calls[r->n++];
    memset(k, 0, sizeof *k);
    snprintf(k->key, sizeof k->key, "%s", key ? key : "");
    snprintf(k->event, sizeof k->event, "%s", ev ? ev : "");
    snprintf(k->body, sizeof k->body, "%.*s", (int)b->len, b->buf);
    k->sig_ok = ok;
    for (size_t i = 0; i + 1 < r->n; i++)
      if (!strcmp(r->calls[i].key, k->key)) k->duplicate = 1;
  }
  pthread_mutex_unlock(&r->mu);
  struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
  enum MHD_Result res = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return res;
}

static void done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t) {
  (void)cls;
  (void)c;
  (void)t;
  free(*state);
  *state = NULL;
}

tu_recv *tu_recv_start(int *port) {
  tu_recv *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  pthread_mutex_init(&r->mu, NULL);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, answer, r,
                          MHD_OPTION_NOTIFY_COMPLETED, done, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                          MHD_OPTION_END);
  if (!r->d) {
    free(r);
    return NULL;
  }
  const union MHD_DaemonInfo *i = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
  *port = i ? i->port : 0;
  return r;
}

void tu_recv_stop(tu_recv *r) {
  if (!r) return;
  MHD_stop_daemon(r->d);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

void tu_recv_secret(tu_recv *r, const char *secret) {
  pthread_mutex_lock(&r->mu);
  snprintf(r->secret, sizeof r->secret, "%s", secret);
  pthread_mutex_unlock(&r->mu);
}

void tu_recv_inject(tu_recv *r, int n, int status, int delay_ms) {
  pthread_mutex_lock(&r->mu);
  r->inject_n = n;
  r->inject_status = status;
  r->inject_delay_ms = delay_ms;
  pthread_mutex_unlock(&r->mu);
}

size_t tu_recv_calls(tu_recv *r, tu_recv_call *out, size_t cap) {
  pthread_mutex_lock(&r->mu);
  size_t n = r->n;
  if (out) memcpy(out, r->calls, (n < cap ? n : cap) * sizeof *out);
  pthread_mutex_unlock(&r->mu);
  return n;
}

size_t tu_recv_arrived(tu_recv *r) {
  pthread_mutex_lock(&r->mu);
  size_t n = r->arrived;
  pthread_mutex_unlock(&r->mu);
  return n;
}

size_t tu_recv_distinct(tu_recv *r) {
  pthread_mutex_lock(&r->mu);
  size_t d = 0;
  for (size_t i = 0; i < r->n; i++) d += r->calls[i].sig_ok && !r->calls[i].duplicate;
  pthread_mutex_unlock(&r->mu);
  return d;
}
