/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_hdrtimeout.c - the header deadline (--header-timeout)
 * against slow-header clients.
 *
 * libmicrohttpd's connection timeout is an idle timeout that every byte
 * starts again, so a client sending one header byte every 200 ms kept its
 * connection, and its slot, for ever.  With the deadline such a client is
 * cut once the deadline has passed, while requests whose headers arrive
 * in time, slowly or on a keep-alive connection, are still answered, and
 * /healthz answers from another address while many slow clients are held.
 *
 * The server here has a 2 s deadline and the default 30 s idle timeout:
 * a cut within a few seconds can only come from the deadline.  A request
 * body must then come at --body-min-rate (1024 B/s by default) on average:
 * a trickled body is cut, a slow one over the minimum is answered.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "vigil/server.h"

#define DEADLINE_S 2
#define NSLOW 24 /* slow clients, all from 127.0.0.1 (under its per-address limit) */

static tu_fix fx;
static int port;

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "hdrtmo")) return -1;
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.header_timeout_s = DEADLINE_S;
  cfg.max_connections = NSLOW + 8;
  cfg.max_per_ip = NSLOW; /* the slow clients take every slot of their address */
  if (tu_fix_start(&fx, &cfg)) return -1;
  port = fx.port;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_fix_end(&fx);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* A TCP connection to the server from a given loopback address. */
static int connect_from(const char *src) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, src, &a.sin_addr);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  struct sockaddr_in d = {0};
  d.sin_family = AF_INET;
  d.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, "127.0.0.1", &d.sin_addr);
  assert_int_equal(connect(fd, (struct sockaddr *)&d, sizeof d), 0);
  struct timeval tv = {10, 0}; /* a test never hangs on a read */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

static void send_all(int fd, const char *s) {
  size_t n = strlen(s);
  assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads one response off fd (Content-Length framed); its status, 0 if none. */
static int read_status(int fd) {
  char buf[8192];
  size_t n = 0;
  for (;;) {
    ssize_t k = recv(fd, buf + n, sizeof buf - 1 - n, 0);
    if (k <= 0) return 0;
    n += (size_t)k;
    buf[n] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end) continue;
    const char *cl = strstr(buf, "\r\nContent-Length:"); /* as libmicrohttpd spells it */
    size_t want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
    if (n >= want) break;
  }
  int status = 0;
  return sscanf(buf, "HTTP/1.1 %d", &status) == 1 ? status : 0;
}

/* 1 when the server has closed fd (end of stream or reset); 0 when it is
 * still open with nothing to read. */
static int closed_by_server(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return 0;
  char c;
  ssize_t k = recv(fd, &c, 1, MSG_DONTWAIT);
  return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* A request whose headers all arrive in time is answered, slowly or at once. */
static void test_in_time_answered(void **state) {
  (void)state;
  int fd = connect_from("127.0.0.2");
  send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_int_equal(read_status(fd), 200);
  close(fd);
  /* in pieces 200 ms apart, well within the deadline */
  fd = connect_from("127.0.0.2");
  static const char *const pieces[] = {"GET /hea", "lthz HTTP/1.1\r\n", "Host: x\r\n", "\r\n"};
  for (int i = 0; i < 4; i++) {
    if (i) sleep_ms(200);
    send_all(fd, pieces[i]);
  }
  assert_int_equal(read_status(fd), 200);
  close(fd);
}

/* A keep-alive connection's next request gets a fresh deadline: the
 * second request comes when the connection is older than the deadline. */
static void test_keepalive_second_request(void **state) {
  (void)state;
  int fd = connect_from("127.0.0.2");
  int wait_ms = DEADLINE_S * 1000 * 6 / 10; /* 60% of the deadline, twice: older than it */
  sleep_ms(wait_ms);
  send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_int_equal(read_status(fd), 200);
  sleep_ms(wait_ms);
  assert_false(closed_by_server(fd));
  send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_int_equal(read_status(fd), 200);
  close(fd);
}

/* The status of GET /healthz from address src; 0 when the connection is
 * refused or closed unanswered. */
static int health_from(const char *src) {
  int fd = connect_from(src);
  static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  int st = send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1) ? read_status(fd) : 0;
  close(fd);
  return st;
}

/* Slowloris: NSLOW clients each sending one header byte every 200 ms.
 * Meanwhile /healthz answers from another address; each slow client is
 * cut after the deadline (an idle timeout never would: bytes keep
 * coming); then their address gets answers again. */
static void test_slow_headers_cut(void **state) {
  (void)state;
  int fds[NSLOW];
  int open[NSLOW];
  double cut_at[NSLOW];
  double t0 = now_s();
  for (int i = 0; i < NSLOW; i++) {
    fds[i] = connect_from("127.0.0.1");
    send_all(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    open[i] = 1;
    cut_at[i] = 0;
  }
  int left = NSLOW, asked = 0;
  /* far beyond the deadline and its checks; far below the idle timeout */
  while (left && now_s() - t0 < 4.0 * DEADLINE_S) {
    sleep_ms(200);
    for (int i = 0; i < NSLOW; i++) {
      if (!open[i]) continue;
      if (closed_by_server(fds[i]) || send(fds[i], "a", 1, MSG_NOSIGNAL) != 1) {
        open[i] = 0;
        cut_at[i] = now_s() - t0;
        left--;
      }
    }
    if (!asked && now_s() - t0 > 0.5) { /* every slow client still held */
      asked = 1;
      assert_int_equal(left, NSLOW);
      assert_int_not_equal(health_from("127.0.0.1"), 200); /* their address has no slot left */
      int fd = connect_from("127.0.0.2");
      send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      assert_int_equal(read_status(fd), 200);
      close(fd);
    }
  }
  assert_true(asked);
  assert_int_equal(left, 0); /* every slow client was cut */
  /* not before the deadline, nor long after it (the watch may be a quarter
   * late; the margin is this loop's 200 ms step and a loaded machine) */
  for (int i = 0; i < NSLOW; i++) assert_true(cut_at[i] >= DEADLINE_S - 0.3 && cut_at[i] <= DEADLINE_S * 1.25 + 1.0);
  /* their address has its connection slots back, the slow sockets still open
   * on this side: the server freed them (it may take a moment to reap) */
  int st = 0;
  for (int k = 0; k < 40 && st != 200; k++) {
    if ((st = health_from("127.0.0.1")) != 200) sleep_ms(50);
  }
  assert_int_equal(st, 200);
  for (int i = 0; i < NSLOW; i++) close(fds[i]);
  /* and /metrics counts the cuts (no other test here is cut) */
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/metrics", fx.admin, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  const char *line = strstr(r.body, "\nvigil_header_timeouts_total ");
  assert_non_null(line);
  assert_int_equal(strtol(line + strlen("\nvigil_header_timeouts_total "), NULL, 10), NSLOW);
  tu_http_free(&r);
}

/* Headers of a POST /v1/hash announcing a body of len bytes, with a valid key. */
static void send_upload_headers(int fd, size_t len) {
  char h[512];
  snprintf(h, sizeof h,
           "POST /v1/hash HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: image/jpeg\r\n"
           "Content-Length: %zu\r\n\r\n",
           fx.submitter, len);
  send_all(fd, h);
}

/* A body trickled (10 bytes every 200 ms, 50 B/s) is cut once the grace (the
 * header deadline) has passed, though every byte would keep an idle timeout
 * going; a body at 4 KB/s, slow but over the 1024 B/s minimum, is read to
 * its end and answered. */
static void test_slow_body_cut(void **state) {
  (void)state;
  int slow = connect_from("127.0.0.3"), ok = connect_from("127.0.0.4");
  send_upload_headers(slow, 100000);
  send_upload_headers(ok, 4 * 2048);
  char chunk[2048];
  memset(chunk, 0xab, sizeof chunk);
  double t0 = now_s(), cut = 0;
  int sent_ok = 0;
  while (now_s() - t0 < 4.0 * DEADLINE_S) {
    sleep_ms(200);
    if (!cut && (closed_by_server(slow) || send(slow, chunk, 10, MSG_NOSIGNAL) != 10)) cut = now_s() - t0;
    if (sent_ok < 4 && (int)((now_s() - t0) / 0.5) > sent_ok) /* 2 KB every 500 ms */
      assert_int_equal(send(ok, chunk, sizeof chunk, MSG_NOSIGNAL), (ssize_t)sizeof chunk), sent_ok++;
    if (cut && sent_ok == 4) break;
  }
  assert_true(cut > 0); /* cut, and not before the grace */
  assert_true(cut >= DEADLINE_S - 0.3 && cut <= 4.0 * DEADLINE_S);
  assert_int_equal(sent_ok, 4);
  int st = read_status(ok); /* the bytes are no picture, but they were all read and answered */
  assert_true(st >= 400 && st < 500);
  assert_int_not_equal(st, 408);
  close(slow);
  close(ok);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/metrics", fx.admin, NULL, NULL, 0, &r), 0);
  const char *line = strstr(r.body, "\nvigil_slow_bodies_total ");
  assert_non_null(line);
  assert_int_equal(strtol(line + strlen("\nvigil_slow_bodies_total "), NULL, 10), 1);
  tu_http_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_time_answered),
      cmocka_unit_test(test_keepalive_second_request),
      cmocka_unit_test(test_slow_headers_cut),
      cmocka_unit_test(test_slow_body_cut),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
