/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpc.c - see httpc.h.  Blocking sockets with a receive timeout, so a
 * server bug shows as a failed test rather than a hung one.
 */
#include "httpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The sanitizer builds run the server several times slower (ThreadSanitizer
 * up to 10x), so a request that takes seconds in Release, such as a large
 * bank import, gets a longer timeout there. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define TU_HTTP_TIMEOUT_S 120
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define TU_HTTP_TIMEOUT_S 120
#endif
#endif
#ifndef TU_HTTP_TIMEOUT_S
#define TU_HTTP_TIMEOUT_S 20
#endif

int tu_http_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {TU_HTTP_TIMEOUT_S, 0};
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

const char *tu_http_header(const tu_http_resp *r, const char *name, char *buf, size_t cap) {
  size_t nl = strlen(name);
  const char *p = strstr(r->headers, "\r\n");
  while (p && p[2]) {
    p += 2;
    if (!strncasecmp(p, name, nl) && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ') v++;
      size_t len = strcspn(v, "\r\n");
      if (len >= cap) len = cap - 1;
      memcpy(buf, v, len);
      buf[len] = 0;
      return buf;
    }
    p = strstr(p, "\r\n");
  }
  return NULL;
}

int tu_http_request(int fd, const char *method, const char *path, const char *extra_headers, const void *body,
                    size_t len, tu_http_resp *out) {
  memset(out, 0, sizeof *out);
  char head[4096];
  int hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %zu\r\n\r\n", method,
                    path, extra_headers ? extra_headers : "", len);
  if (hl < 0 || (size_t)hl >= sizeof head) return -1;
  /* A server may answer and close before taking the whole body (413, 401):
   * a failed send is not yet a failure, the response may be waiting. */
  if (send_all(fd, head, (size_t)hl) == 0 && len) send_all(fd, body, len);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) return -1;
  char *end = NULL;
  while (!end) {
    if (n == cap) {
      free(buf);
      return -1;
    }
    ssize_t r = recv(fd, buf + n, cap - n, 0);
    if (r <= 0) {
      free(buf);
      return -1;
    }
    n += (size_t)r;
    buf[n] = 0;
    end = strstr(buf, "\r\n\r\n");
  }
  size_t hlen = (size_t)(end - buf) + 4;
  if (hlen >= sizeof out->headers) {
    free(buf);
    return -1;
  }
  memcpy(out->headers, buf, hlen);
  out->headers[hlen] = 0;
  if (sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
    free(buf);
    return -1;
  }
  char v[64];
  long clen = -1;
  if (tu_http_header(out, "Content-Length", v, sizeof v)) clen = atol(v);
  if (tu_http_header(out, "Connection", v, sizeof v) && !strcasecmp(v, "close")) out->closed = 1;
  size_t have = n - hlen;
  size_t want = clen >= 0 ? (size_t)clen : (size_t)-1;
  size_t bcap = clen >= 0 ? (size_t)clen : 1 << 16;
  char *b = malloc(bcap + 1);
  if (!b) {
    free(buf);
    return -1;
  }
  size_t bl = have < want ? have : want;
  if (bl > bcap) bl = bcap;
  memcpy(b, buf + hlen, bl);
  free(buf);
  while (bl < want) {
    if (bl == bcap) {
      char *nb = realloc(b, bcap * 2 + 1);
      if (!nb) break;
      b = nb;
      bcap *= 2;
    }
    ssize_t r = recv(fd, b + bl, bcap - bl, 0);
    if (r <= 0) {
      out->closed = 1;
      break;
    }
    bl += (size_t)r;
  }
  b[bl] = 0;
  out->body = b;
  out->body_len = bl;
  if (clen >= 0 && bl < (size_t)clen) return -1;
  return 0;
}

int tu_http(int port, const char *method, const char *path, const char *key, const char *content_type,
            const void *body, size_t len, tu_http_resp *out) {
  memset(out, 0, sizeof *out);
  int fd = tu_http_connect(port);
  if (fd < 0) return -1;
  char hdr[1024];
  int k = snprintf(hdr, sizeof hdr, "Connection: close\r\n");
  if (key) k += snprintf(hdr + k, sizeof hdr - (size_t)k, "Authorization: Bearer %s\r\n", key);
  if (content_type) snprintf(hdr + k, sizeof hdr - (size_t)k, "Content-Type: %s\r\n", content_type);
  int rc = tu_http_request(fd, method, path, hdr, body, len, out);
  close(fd);
  return rc;
}

void tu_http_free(tu_http_resp *r) {
  free(r->body);
  r->body = NULL;
}
