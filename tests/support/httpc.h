/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpc.h - a tiny HTTP/1.1 client for tests and benchmarks, loopback only.
 *
 * Enough of HTTP for talking to vigil serve: requests with a
 * Content-Length body, responses framed by Content-Length (or by the
 * connection closing).  Keep-alive: reuse the fd from tu_http_connect().
 */
#ifndef VIGIL_TEST_HTTPC_H
#define VIGIL_TEST_HTTPC_H

#include <stddef.h>

typedef struct tu_http_resp {
  int status;        /* 0 when no response could be read */
  char headers[8192];/* raw header block, NUL-terminated */
  char *body;        /* NUL-terminated; body_len bytes */
  size_t body_len;
  int closed;        /* the server closed the connection after it */
} tu_http_resp;

/* TCP connection to 127.0.0.1:port; -1 on failure. */
int tu_http_connect(int port);

/* One request on an open connection.  extra_headers: "Name: v\r\n..." or
 * NULL.  Returns 0 when a response was read, -1 otherwise. */
int tu_http_request(int fd, const char *method, const char *path, const char *extra_headers, const void *body,
                    size_t len, tu_http_resp *out);

/* Connects, sends one request with the key (Bearer; NULL: none) and
 * content type (NULL: none), reads the response, closes. */
int tu_http(int port, const char *method, const char *path, const char *key, const char *content_type,
            const void *body, size_t len, tu_http_resp *out);

/* Value of a response header (case-insensitive name), copied into buf; NULL if absent. */
const char *tu_http_header(const tu_http_resp *r, const char *name, char *buf, size_t cap);

void tu_http_free(tu_http_resp *r);

#endif
