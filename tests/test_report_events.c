/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_events.c - the events that are not case changes, end to
 * end through `vigil serve`: a bank created and changed (bank.changed),
 * a match with hits (match, and case.opened when the bank opens review
 * cases), and no call for a match without hits or for an event nobody
 * subscribed to.  The receiver checks every signature.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "hookrecv.h"
#include "testutil.h"
#include "serveproc.h"

static char dir[256];

/* RFC 3339 UTC with milliseconds, the API's one time format */
static int is_api_time(const json_t *v) {
  const char *s = json_string_value(v);
  static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (!s || strlen(s) != sizeof shape - 1) return 0;
  for (size_t i = 0; shape[i]; i++)
    if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i]) return 0;
  return 1;
}

static size_t count_event(const tu_recv_call *c, size_t n, const char *event) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += !strcmp(c[i].event, event) && c[i].sig_ok && !c[i].duplicate;
  return k;
}

static void test_events(void **state) {
  (void)state;
  int rport;
  tu_recv *rv = tu_recv_start(&rport);
  assert_non_null(rv);
  char db[400];
  snprintf(db, sizeof db, "%s/ev.db", dir);
  tu_serve s;
  assert_int_equal(tu_serve_start(&s, db, dir, "ev"), 0);
  char body[300];
  snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:%d/h\",\"events\":[\"match\",\"bank.changed\"]}", rport);
  int st;
  json_t *h = tu_call(s.port, "POST", "/v1/hooks", s.key, body, &st);
  assert_int_equal(st, 201);
  tu_recv_secret(rv, json_string_value(json_object_get(h, "secret")));
  json_decref(h);
  /* hostile subscriptions are refused */
  json_decref(tu_call(s.port, "POST", "/v1/hooks", s.key, "{\"url\":\"gopher://x/\",\"events\":[\"match\"]}", &st));
  assert_int_equal(st, 400);
  json_decref(tu_call(s.port, "POST", "/v1/hooks", s.key, "{\"url\":\"http://x/\",\"events\":[\"case.closed\"]}", &st));
  assert_int_equal(st, 400);
  json_decref(tu_call(s.port, "POST", "/v1/hooks", s.key, "{\"url\":\"http://x/\",\"events\":[]}", &st));
  assert_int_equal(st, 400);
  json_decref(tu_call(s.port, "DELETE", "/v1/hooks/wh_000000000000", s.key, NULL, &st));
  assert_int_equal(st, 404);
  json_decref(tu_call(s.port, "POST", "/v1/deliveries/12345/retry", s.key, NULL, &st));
  assert_int_equal(st, 404);

  json_decref(tu_call(s.port, "POST", "/v1/banks", s.key, "{\"name\":\"ev\",\"review\":true}", &st));
  assert_int_equal(st, 201);
  const char *sha = "cc00000000000000000000000000000000000000000000000000000000000003";
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\"}", sha);
  json_decref(tu_call(s.port, "POST", "/v1/banks/ev/entries", s.key, body, &st));
  assert_int_equal(st, 201);
  snprintf(body, sizeof body, "{\"sha256\":\"%s\"}", sha);
  json_t *m = tu_call(s.port, "POST", "/v1/match", s.key, body, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(m, "matches")), 1);
  json_decref(m);
  /* no hit, no event */
  json_decref(tu_call(s.port, "POST", "/v1/match", s.key,
                      "{\"sha256\":\"dd00000000000000000000000000000000000000000000000000000000000004\"}", &st));
  assert_int_equal(st, 200);
  /* bank created, entry added, one match; the case the match opened is
   * case.opened, which this subscription does not take */
  static tu_recv_call calls[TU_RECV_MAX];
  size_t n = 0;
  for (int i = 0; i < 300; i++) {
    n = tu_recv_calls(rv, calls, TU_RECV_MAX);
    if (count_event(calls, n, "bank.changed") >= 2 && count_event(calls, n, "match") >= 1) break;
    tu_sleep_ms(20);
  }
  tu_sleep_ms(700); /* one more poll: nothing else may arrive */
  n = tu_recv_calls(rv, calls, TU_RECV_MAX);
  assert_int_equal(count_event(calls, n, "bank.changed"), 2);
  assert_int_equal(count_event(calls, n, "match"), 1);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_loads(calls[i].body, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "event")), calls[i].event);
    assert_true(is_api_time(json_object_get(o, "created_at"))); /* and the signature held: count_event */
    json_t *d = json_object_get(o, "data");
    if (!strcmp(calls[i].event, "bank.changed")) assert_string_equal(json_string_value(json_object_get(d, "bank")), "ev");
    else assert_non_null(json_object_get(d, "case_id")); /* the match opened a case */
    json_decref(o);
  }
  /* the outbox shows them done; an auditor may read it, not retry */
  json_t *d = tu_call(s.port, "GET", "/v1/deliveries?state=done", s.key, NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(d, "deliveries")), 3);
  json_t *first = json_array_get(json_object_get(d, "deliveries"), 0);
  assert_true(is_api_time(json_object_get(first, "created_at")));
  assert_true(is_api_time(json_object_get(first, "next_at")));
  assert_null(json_object_get(first, "created_at_ms"));
  json_decref(d);
  json_decref(tu_call(s.port, "GET", "/v1/deliveries?state=lost", s.key, NULL, &st));
  assert_int_equal(st, 400);
  kill(s.pid, SIGTERM);
  waitpid(s.pid, NULL, 0);
  tu_recv_stop(rv);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil-test-revents-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_events)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
