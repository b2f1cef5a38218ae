/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hookrecv.h - a webhook receiver for tests: a libmicrohttpd server on a
 * loopback port that checks each call's signature (vigil_hook_verify,
 * five-minute window), remembers the idempotency keys it accepted, and
 * answers with a status the test chooses (failure injection), optionally
 * after a delay (so a test can kill the sender mid-call).
 */
#ifndef VIGIL_TEST_HOOKRECV_H
#define VIGIL_TEST_HOOKRECV_H

#include <pthread.h>
#include <stddef.h>

#define TU_RECV_MAX 512

typedef struct tu_recv_call {
  char key[96];
  char event[32];
  int sig_ok;    /* signature verified */
  int duplicate; /* a key already accepted before */
  char body[4096];
} tu_recv_call;

typedef struct tu_recv tu_recv;

/* Starts a receiver; secret may be set later with tu_recv_secret. NULL on failure. */
tu_recv *tu_recv_start(int *port);
void tu_recv_stop(tu_recv *r);
void tu_recv_secret(tu_recv *r, const char *secret);
/* The next n calls are answered with status (after delay_ms); after them, 200. */
void tu_recv_inject(tu_recv *r, int n, int status, int delay_ms);
/* Copies the calls seen so far (at most cap) into out; returns how many there were. */
size_t tu_recv_calls(tu_recv *r, tu_recv_call *out, size_t cap);
/* Calls that arrived (answered or not yet). */
size_t tu_recv_arrived(tu_recv *r);
/* Distinct keys accepted with a valid signature. */
size_t tu_recv_distinct(tu_recv *r);

#endif
