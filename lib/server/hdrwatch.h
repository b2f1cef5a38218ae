/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/hdrwatch.h - a deadline for a client's request headers
 * (--header-timeout), against slow-header ("slowloris") clients.
 *
 * libmicrohttpd 0.9.75's MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout:
 * every byte received starts it again, so a client sending one header
 * byte a second held a connection (and a connection slot) for as long as
 * it liked.  Measured: with the timeout at 2 s, a client sending a byte
 * per second was still connected after 8 s, and was answered when it
 * finally ended its headers; one sending a byte every 3 s was cut at 2 s.
 *
 * The watch keeps one entry per connection (its socket and a deadline),
 * made and dropped by libmicrohttpd's connection notifications.  The
 * clock starts when the connection opens and again when a request on it
 * completes (a keep-alive connection's next request gets the same time
 * for its headers, which also bounds how long such a connection may wait
 * idle for its next request); it stops when the headers of a request are
 * in (the access handler's first call).  A body, and the handler, are not
 * under the deadline: the idle timeout and the body limits bound them.  A
 * thread wakes a few times per deadline and shuts down (shutdown(2), never
 * close(2): the socket stays libmicrohttpd's) the sockets past theirs;
 * libmicrohttpd then sees the connection end and frees it as usual.
 *
 * No race with a reused descriptor: libmicrohttpd sends the CLOSED
 * notification before it closes the socket (0.9.75's daemon.c, both in
 * MHD_cleanup_connections and on new_connection_process_'s failure path;
 * a connection never processed gets neither STARTED nor CLOSED; and
 * F_GETFD in the callback finds the socket open).  The entry is removed
 * there, under the mutex the thread holds while it shuts sockets down, so
 * the thread never touches a descriptor number after libmicrohttpd has
 * let it go.
 *
 * Threads: the notifications and marks come from libmicrohttpd's threads,
 * the watch runs its own; everything shared is under one mutex.
 */
#ifndef VIGIL_SERVER_HDRWATCH_H
#define VIGIL_SERVER_HDRWATCH_H

#include <stdint.h>

typedef struct vigil__hdrwatch vigil__hdrwatch;
typedef struct vigil__hdrconn vigil__hdrconn; /* one connection's entry */

/* Starts the watch thread; timeout_s > 0.  VIGIL_OK or VIGIL_ENOMEM
 * (no memory or no thread). */
int vigil__hdrwatch_start(vigil__hdrwatch **out, unsigned timeout_s);
/* Stops the thread and frees the watch (and any entry left).  NULL is fine. */
void vigil__hdrwatch_stop(vigil__hdrwatch *w);

/* A connection opened on socket fd: its entry, with the clock running, or
 * NULL when out of memory (the caller then shuts the socket down, since it
 * cannot be watched). */
vigil__hdrconn *vigil__hdrwatch_open(vigil__hdrwatch *w, int fd);
/* The connection is closing (before its socket is closed): drops c. */
void vigil__hdrwatch_close(vigil__hdrwatch *w, vigil__hdrconn *c);
/* The headers of a request are in: the clock stops. */
void vigil__hdrwatch_headers_in(vigil__hdrwatch *w, vigil__hdrconn *c);
/* A request completed; the connection may carry another: the clock starts. */
void vigil__hdrwatch_request_done(vigil__hdrwatch *w, vigil__hdrconn *c);
/* Connections cut so far for being past the deadline. */
uint64_t vigil__hdrwatch_cut(vigil__hdrwatch *w);

#endif
