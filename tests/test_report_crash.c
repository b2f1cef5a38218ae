/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_crash.c - the outbox under kill -9, on SQLite and (when
 * scripts/pg-test-server can start one) PostgreSQL.
 *
 * `vigil serve` runs as a child process with a webhook subscription to
 * case.opened and case.decided pointing at a receiver in this process
 * (tests/support/hookrecv.c, which verifies every signature).  Cases are
 * opened and decided through the API; every call that was answered is an
 * acknowledged event.  The server is killed with SIGKILL while the
 * receiver holds a delivery open (so the sender dies between "sent" and
 * "recorded"), then at arbitrary moments while deliveries flow, and
 * restarted on the same database each time.  At the end the receiver must
 * have accepted one delivery per acknowledged event, every one signed,
 * and every repeat must carry a key it had already accepted, so the
 * receiver can recognise it.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "hookrecv.h"
#include "pgtest.h"
#include "serveproc.h"
#include "testutil.h"

static char dir[256];
static int have_pg;

typedef struct srv {
  pid_t pid;
  int port;
} srv;

static char admin_key[128];

static void start(srv *s, const char *db, int round) {
  char portf[400], keyf[400], outf[400], cfg[400];
  snprintf(portf, sizeof portf, "%s/port", dir);
  snprintf(keyf, sizeof keyf, "%s/key", dir);
  snprintf(outf, sizeof outf, "%s/out-%d", dir, round);
  snprintf(cfg, sizeof cfg, "%s/report.json", dir);
  FILE *f = fopen(cfg, "w");
  assert_non_null(f);
  /* short leases and back-off so a killed sender's claim ends quickly */
  fputs("{\"outbox\":{\"poll_ms\":50,\"lease_s\":2,\"backoff_ms\":100,\"backoff_max_ms\":500,\"max_attempts\":100},"
        "\"webhooks\":{\"timeout_s\":1}}",
        f);
  fclose(f);
  unlink(portf);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execl(VIGIL_CLI, "vigil", "serve", "--init", "--listen", "127.0.0.1:0", "--db", db, "--threads", "2", "--port-file", portf,
          "--admin-key-file", keyf, "--report-config", cfg, (char *)NULL);
    _exit(127);
  }
  s->pid = pid;
  s->port = 0;
  s->port = tu_wait_port_file(pid, portf);
  assert_true(s->port > 0);
  if (!admin_key[0]) {
    f = fopen(keyf, "r");
    assert_non_null(f);
    assert_non_null(fgets(admin_key, sizeof admin_key, f));
    admin_key[strcspn(admin_key, "\r\n")] = 0;
    fclose(f);
  }
}

static void kill9(srv *s) {
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = 0;
}

/* Opens a case; returns its id (acknowledged) or fails the test. */
static int64_t open_case(srv *s, int i) {
  char body[200];
  snprintf(body, sizeof body, "{\"content_id\":\"c-%d\",\"reason\":\"crash test\"}", i);
  int st;
  json_t *o = tu_call(s->port, "POST", "/v1/cases", admin_key, body, &st);
  assert_int_equal(st, 201);
  int64_t id = (int64_t)json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  assert_true(id > 0);
  return id;
}

static void decide(srv *s, int64_t id) {
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)id);
  int st;
  json_t *o = tu_call(s->port, "POST", path, admin_key, "{\"decision\":\"confirm\",\"classification\":\"A1\"}", &st);
  json_decref(o);
  assert_int_equal(st, 200);
}

/* The receiver saw event for case id (in a signed, accepted call). */
static int seen(const tu_recv_call *c, size_t n, const char *event, int64_t id) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(c[i].event, event)) continue;
    json_t *o = json_loads(c[i].body, 0, NULL);
    int64_t got = (int64_t)json_integer_value(json_object_get(json_object_get(o, "data"), "case_id"));
    json_decref(o);
    if (got == id) return 1;
  }
  return 0;
}

static void crash_run(const char *db) {
  admin_key[0] = 0;
  int port;
  tu_recv *rv = tu_recv_start(&port);
  assert_non_null(rv);
  srv s;
  int round = 0;
  start(&s, db, round++);
  char body[200];
  snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:%d/h\",\"events\":[\"case.opened\",\"case.decided\"]}",
           port);
  int st;
  json_t *h = tu_call(s.port, "POST", "/v1/hooks", admin_key, body, &st);
  assert_int_equal(st, 201);
  assert_non_null(json_string_value(json_object_get(h, "secret")));
  tu_recv_secret(rv, json_string_value(json_object_get(h, "secret")));
  json_decref(h);
  /* listing never shows the secret */
  h = tu_call(s.port, "GET", "/v1/hooks", admin_key, NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(h, "hooks")), 1);
  assert_null(json_object_get(json_array_get(json_object_get(h, "hooks"), 0), "secret"));
  json_decref(h);

  enum { NCASES = 24 };
  int64_t ids[NCASES];
  int decided[NCASES] = {0};
  int n = 0;
  /* round 1: the receiver holds the first call for 1.5 s; the server is
   * killed while it waits, i.e. after sending and before recording */
  tu_recv_inject(rv, 1, 200, 1500);
  size_t before = tu_recv_arrived(rv);
  for (; n < 6; n++) ids[n] = open_case(&s, n);
  for (int i = 0; i < 100 && tu_recv_arrived(rv) == before; i++) tu_sleep_ms(20);
  assert_true(tu_recv_arrived(rv) > before);
  kill9(&s);
  start(&s, db, round++);
  /* rounds 2..4: decisions and more cases, killed at arbitrary moments */
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  for (int r = 0; r < 3; r++) {
    for (int k = 0; k < 6 && n < NCASES; k++, n++) ids[n] = open_case(&s, n);
    for (int i = 0; i < n; i += 2)
      if (!decided[i]) {
        decide(&s, ids[i]);
        decided[i] = 1;
      }
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    tu_sleep_ms((int)((seed >> 33) % 150));
    kill9(&s);
    start(&s, db, round++);
  }
  int want = n;
  for (int i = 0; i < n; i++) want += decided[i];
  /* every acknowledged event arrives, once the lease of a killed claim ends */
  for (int i = 0; i < 500 && (int)tu_recv_distinct(rv) < want; i++) tu_sleep_ms(20);
  static tu_recv_call calls[TU_RECV_MAX];
  size_t got = tu_recv_calls(rv, calls, TU_RECV_MAX);
  assert_int_equal((int)tu_recv_distinct(rv), want);
  size_t dups = 0;
  for (size_t i = 0; i < got; i++) {
    assert_true(calls[i].sig_ok);
    dups += calls[i].duplicate;
  }
  for (int i = 0; i < n; i++) {
    if (!seen(calls, got, "case.opened", ids[i])) fail_msg("no case.opened for case %lld", (long long)ids[i]);
    if (decided[i] && !seen(calls, got, "case.decided", ids[i]))
      fail_msg("no case.decided for case %lld", (long long)ids[i]);
  }
  /* the call held open when the sender died was sent again, same key */
  assert_true(dups >= 1);
  printf("%d events, %zu calls accepted, %zu recognised repeats, %d restarts\n", want, got, dups, round - 1);
  /* the outbox agrees: nothing pending, nothing dead */
  json_t *d = tu_call(s.port, "GET", "/v1/deliveries?state=dead", admin_key, NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(d, "deliveries")), 0);
  json_decref(d);
  for (int i = 0; i < 100; i++) {
    d = tu_call(s.port, "GET", "/v1/deliveries?state=done&limit=1000", admin_key, NULL, &st);
    size_t done = json_array_size(json_object_get(d, "deliveries"));
    json_decref(d);
    if ((int)done == want) break;
    tu_sleep_ms(20);
  }
  d = tu_call(s.port, "GET", "/v1/deliveries?state=done&limit=1000", admin_key, NULL, &st);
  assert_int_equal((int)json_array_size(json_object_get(d, "deliveries")), want);
  json_decref(d);
  kill9(&s);
  tu_recv_stop(rv);
}

static void test_crash_sqlite(void **state) {
  (void)state;
  char db[400];
  snprintf(db, sizeof db, "%s/crash.db", dir);
  crash_run(db);
}

static void test_crash_pg(void **state) {
  (void)state;
  if (!have_pg) {
    printf("PostgreSQL not available: kill -9 checked on SQLite only\n");
    return;
  }
  char uri[600];
  tu_pg_fresh_db(uri, sizeof uri);
  crash_run(uri);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil-test-rcrash-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  /* the default jobs directory of a PostgreSQL node is $TMPDIR/vigil-jobs:
   * this program's own, not one shared with other tests running at once
   * (a jobs directory takes one server at a time) */
  setenv("TMPDIR", dir, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  char uri[512];
  have_pg = tu_pg_start(uri, sizeof uri) == 0;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_crash_sqlite), cmocka_unit_test(test_crash_pg)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
