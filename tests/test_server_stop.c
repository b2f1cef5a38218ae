/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_stop.c - a long handler's work ends when nobody will read it:
 * `vigil serve` takes SIGTERM during a long /v1/ads/link and exits within
 * its documented grace time (docs/server.md: 30 s), the request answered
 * 503 rather than linked to the end; and a link whose client hangs up is
 * stopped by the server too, which the request log shows (503 "the client
 * left") where a finished link would log 200.
 *
 * The batch is one that takes the linker seconds (100,000 ads sharing
 * words and phones), so a handler that ignored the stop would answer 200:
 * the answers, not timings, tell the two apart.
 */
#include "testutil.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "serveproc.h"
#include "vigil/server.h"

#define N_ADS 100000

static char *ads;
static size_t ads_len;

/* N_ADS ads of thirty words from a small vocabulary and one of 5,000
 * phones: every ad shares a template and a phone with others. */
static int setup(void **state) {
  (void)state;
  static const char *const words[] = {"sweet", "new",  "girl",   "in",      "town",  "call",  "me",       "now",
                                      "avail", "24/7", "incall", "outcall", "young", "fresh", "discreet", "spa"};
  size_t cap = (size_t)N_ADS * 256;
  ads = malloc(cap);
  if (!ads) return -1;
  uint64_t rs = 1;
  for (int i = 0; i < N_ADS; i++) {
    ads_len += (size_t)snprintf(ads + ads_len, cap - ads_len, "{\"id\":\"a%d\",\"text\":\"", i);
    for (int w = 0; w < 30; w++)
      ads_len += (size_t)snprintf(ads + ads_len, cap - ads_len, "%s ", words[tu_rand(&rs) % 16]);
    ads_len += (size_t)snprintf(ads + ads_len, cap - ads_len, "call %d\"}\n", 2135550000 + i % 5000);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(ads);
  return 0;
}

/* Sends the link request with the whole batch on a new connection; the fd. */
static int send_link(int port, const char *key) {
  int fd = tu_http_connect(port);
  assert_true(fd >= 0);
  char head[512];
  int hl = snprintf(head, sizeof head,
                    "POST /v1/ads/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/x-ndjson\r\nContent-Length: %zu\r\n\r\n",
                    key, ads_len);
  assert_int_equal(send(fd, head, (size_t)hl, MSG_NOSIGNAL), hl);
  for (size_t off = 0; off < ads_len;) {
    ssize_t n = send(fd, ads + off, ads_len - off, MSG_NOSIGNAL);
    assert_true(n > 0);
    off += (size_t)n;
  }
  return fd;
}

/* Waits until /metrics counts want requests in flight (the /metrics call
 * being one of them). */
static void wait_inflight(int port, const char *key, int want) {
  char line[64];
  snprintf(line, sizeof line, "\nvigil_http_inflight_requests %d\n", want);
  int seen = 0;
  for (int i = 0; i < 2000 && !seen; i++) {
    tu_http_resp m;
    if (tu_http(port, "GET", "/metrics", key, NULL, NULL, 0, &m) == 0 && m.body) seen = strstr(m.body, line) != NULL;
    tu_http_free(&m);
    if (!seen) tu_sleep_ms(10);
  }
  assert_true(seen);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_sigterm_during_link(void **state) {
  (void)state;
  char dir[256], db[300];
  assert_non_null(tu_mkdtemp(dir, sizeof dir, "stop"));
  snprintf(db, sizeof db, "%s/vigil.db", dir);
  tu_serve s;
  assert_int_equal(tu_serve_start(&s, db, dir, "stop"), 0);
  int fd = send_link(s.port, s.key);
  wait_inflight(s.port, s.key, 2);
  tu_sleep_ms(200); /* the handler is linking */
  double t0 = now_s();
  assert_int_equal(kill(s.pid, SIGTERM), 0);
  char resp[4096];
  size_t n = 0;
  ssize_t got;
  while (n < sizeof resp - 1 && (got = recv(fd, resp + n, sizeof resp - 1 - n, 0)) > 0) n += (size_t)got;
  resp[n] = 0;
  close(fd);
  /* told to retry, not linked to the end after the stop */
  assert_non_null(strstr(resp, "HTTP/1.1 503 "));
  assert_non_null(strstr(resp, "Retry-After:"));
  assert_non_null(strstr(resp, "\"unavailable\""));
  int wst;
  pid_t w = 0;
  while ((w = waitpid(s.pid, &wst, WNOHANG)) == 0 && now_s() - t0 < 60) tu_sleep_ms(20);
  double took = now_s() - t0;
  if (w == 0) {
    kill(s.pid, SIGKILL);
    waitpid(s.pid, &wst, 0);
  }
  assert_int_equal(w, s.pid);
  assert_true(WIFEXITED(wst));
  assert_int_equal(WEXITSTATUS(wst), 0);
  /* the documented grace time (docs/server.md, shutdown_grace_s) */
  printf("stopped %.2f s after SIGTERM\n", took);
  assert_true(took < 30.0);
  /* its log says why the work was dropped */
  char outf[600];
  snprintf(outf, sizeof outf, "%s/out-stop", dir);
  size_t ol;
  char *out = (char *)tu_slurp(outf, &ol);
  assert_non_null(out);
  assert_non_null(strstr(out, "the server is stopping"));
  free(out);
  assert_int_equal(tu_rmtree(dir), 0);
}

static const char *str(const json_t *v) { return json_is_string(v) ? json_string_value(v) : ""; }

/* The request log's line for the link route, or NULL; the log is read
 * through a handle of its own while the server appends to it. */
static json_t *link_log_line(const char *path) {
  FILE *log = fopen(path, "r");
  if (!log) return NULL;
  char line[8192];
  json_t *found = NULL;
  while (!found && fgets(line, sizeof line, log)) {
    json_t *o = json_loads(line, 0, NULL);
    if (o && !strcmp(str(json_object_get(o, "route")), "ads.link")) found = o;
    else json_decref(o);
  }
  fclose(log);
  return found;
}

static void test_client_gone_stops_link(void **state) {
  (void)state;
  tu_fix f;
  assert_int_equal(tu_fix_init(&f, "gone"), 0);
  char logpath[400];
  snprintf(logpath, sizeof logpath, "%s/requests.log", f.dir);
  FILE *log = fopen(logpath, "a"); /* appends: the server's lines always go to the end */
  assert_non_null(log);
  vigil_server_config cfg;
  tu_fix_config(&f, &cfg);
  cfg.log = log;
  cfg.max_long = 1;
  assert_int_equal(tu_fix_start(&f, &cfg), 0);
  int fd = send_link(f.port, f.submitter);
  wait_inflight(f.port, f.admin, 2);
  tu_sleep_ms(200); /* the handler is linking */
  close(fd);        /* the client leaves */
  json_t *o = NULL;
  for (int i = 0; i < 6000 && !(o = link_log_line(logpath)); i++) tu_sleep_ms(20);
  assert_non_null(o);
  /* stopped, not linked to the end for nobody */
  assert_int_equal(json_integer_value(json_object_get(o, "status")), 503);
  assert_non_null(strstr(str(json_object_get(o, "detail")), "the client left"));
  json_decref(o);
  /* and its slot (max_long 1) is free for the next caller */
  static const char two[] = "{\"id\":\"a\",\"text\":\"call 2135550100\"}\n{\"id\":\"b\",\"text\":\"2135550100\"}\n";
  tu_http_resp r;
  assert_int_equal(
      tu_http(f.port, "POST", "/v1/ads/link", f.submitter, "application/x-ndjson", two, sizeof two - 1, &r), 0);
  assert_int_equal(r.status, 200);
  tu_http_free(&r);
  tu_fix_stop(&f);
  fclose(log);
  assert_int_equal(tu_fix_end(&f), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sigterm_during_link),
                                     cmocka_unit_test(test_client_gone_stops_link)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
