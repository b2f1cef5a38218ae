/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_outbox.c - the outbox on SQLite (and PostgreSQL when
 * scripts/pg-test-server can start one): deliveries exist exactly when
 * the transaction that wrote them commits; the state machine (retries
 * with back-off, dead letters, an operator's retry); an expired lease is
 * claimed again with the same key and a stale finish changes nothing;
 * concurrent claimers never claim one delivery twice; signatures.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "db/sql.h"
#include "hookrecv.h"
#include "pgtest.h"
#include "report/outbox.h"
#include "serveproc.h"
#include "testutil.h"

static char dir[256];
static char pg_uri[512];
static int have_pg;

static void open_db(vigil__sql **db, const char *name) {
  char loc[600];
  if (!strcmp(name, "pg")) {
    tu_pg_fresh_db(loc, sizeof loc);
  } else {
    snprintf(loc, sizeof loc, "%s/%s.db", dir, name);
  }
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil__sql_open(db, loc, &e);
  if (rc) fprintf(stderr, "%s\n", e.message);
  assert_int_equal(rc, VIGIL_OK);
  assert_int_equal(vigil__report_schema(*db, &e), VIGIL_OK);
}

static int64_t count(vigil__sql *db, const char *where) {
  char sql[300];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM report_deliveries WHERE %s", where);
  vigil__rows *r = NULL;
  assert_int_equal(vigil__sql_run(db, sql, NULL, 0, &r, NULL, NULL), VIGIL_OK);
  int64_t n = vigil__rows_int(r, 0, 0);
  vigil__rows_free(r);
  return n;
}

static void test_same_transaction(void **state) {
  (void)state;
  vigil__sql *db;
  open_db(&db, "tx");
  char secret[VIGIL_HOOK_SECRET_MAX];
  vigil_hook_info h, h2;
  assert_int_equal(vigil__hook_create(db, "http://127.0.0.1:9/x", VIGIL_EVENT_CASE_OPENED, secret, &h, NULL), 0);
  assert_int_equal(vigil__hook_create(db, "http://127.0.0.1:9/y", VIGIL_EVENT_ALL, secret, &h2, NULL), 0);
  assert_non_null(strstr(secret, "whsec_"));
  json_t *data = json_pack("{s:i}", "case_id", 7);
  /* rolled back: the event never happened, nothing to deliver */
  assert_int_equal(vigil__sql_begin(db, NULL), 0);
  assert_int_equal(vigil__hooks_emit(db, VIGIL_EVENT_CASE_OPENED, data, NULL), 0);
  vigil__sql_rollback(db);
  assert_int_equal(count(db, "1=1"), 0);
  assert_int_equal(vigil__sql_begin(db, NULL), 0);
  assert_int_equal(vigil__hooks_emit(db, VIGIL_EVENT_CASE_OPENED, data, NULL), 0);
  assert_int_equal(vigil__hooks_emit(db, VIGIL_EVENT_BANK_CHANGED, data, NULL), 0);
  assert_int_equal(vigil__sql_commit(db, NULL), 0);
  /* case.opened to both subscriptions, bank.changed only to the second */
  assert_int_equal(count(db, "state = 'pending' AND event = 'case.opened'"), 2);
  assert_int_equal(count(db, "event = 'bank.changed'"), 1);
  /* the same key again adds nothing */
  vigil_delivery_info *d;
  size_t n;
  assert_int_equal(vigil__delivery_list(db, NULL, 0, 100, &d, &n, NULL), 0);
  assert_int_equal(n, 3);
  int64_t id = -1;
  assert_int_equal(vigil__outbox_add(db, "webhook", d[0].target, d[0].event, d[0].key, "{}", &id, NULL), 0);
  assert_int_equal(id, 0);
  assert_int_equal(count(db, "1=1"), 3);
  free(d);
  /* deleting a subscription kills what it still had pending, visibly */
  assert_int_equal(vigil__hook_delete(db, h.id, NULL), 0);
  assert_int_equal(vigil__hook_delete(db, h.id, NULL), VIGIL_ENOTFOUND);
  assert_int_equal(count(db, "state = 'dead' AND last_error = 'subscription deleted'"), 1);
  vigil_hook_info *hs;
  assert_int_equal(vigil__hook_list(db, &hs, &n, NULL), 0);
  assert_int_equal(n, 1);
  assert_string_equal(hs[0].id, h2.id);
  assert_int_equal(hs[0].events, VIGIL_EVENT_ALL);
  free(hs);
  json_decref(data);
  vigil__sql_close(db);
}

static void run_until(vigil__sql *db, const vigil__outbox_opts *o, const char *where, int64_t want) {
  for (int i = 0; i < 400 && count(db, where) != want; i++) {
    int done = 0;
    assert_int_equal(vigil__outbox_run_once(db, o, 8, &done, NULL), 0);
    if (!done) tu_sleep_ms(5);
  }
  assert_int_equal(count(db, where), want);
}

static void test_retries_and_dead_letters(void **state) {
  (void)state;
  int port;
  tu_recv *rv = tu_recv_start(&port);
  assert_non_null(rv);
  vigil__sql *db;
  open_db(&db, "retry");
  char url[64], secret[VIGIL_HOOK_SECRET_MAX];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
  vigil_hook_info h;
  assert_int_equal(vigil__hook_create(db, url, VIGIL_EVENT_CASE_DECIDED, secret, &h, NULL), 0);
  tu_recv_secret(rv, secret);
  vigil__outbox_opts o;
  vigil__outbox_opts_default(&o);
  o.backoff_ms = 1;
  o.max_attempts = 3;
  o.timeout_s = 5;
  snprintf(o.node, sizeof o.node, "test");
  json_t *data = json_pack("{s:i}", "case_id", 1);
  /* two failures, then success on the third attempt */
  tu_recv_inject(rv, 2, 503, 0);
  assert_int_equal(vigil__hooks_emit(db, VIGIL_EVENT_CASE_DECIDED, data, NULL), 0);
  run_until(db, &o, "state = 'done'", 1);
  assert_int_equal(count(db, "attempts = 3"), 1);
  vigil__rows *r = NULL;
  assert_int_equal(vigil__sql_run(db, "SELECT outcome, status FROM report_delivery_log ORDER BY id", NULL, 0, &r,
                                  NULL, NULL), 0);
  assert_int_equal(vigil__rows_count(r), 3);
  assert_string_equal(vigil__rows_text(r, 0, 0), "pending");
  assert_int_equal(vigil__rows_int(r, 0, 1), 503);
  assert_string_equal(vigil__rows_text(r, 2, 0), "done");
  assert_int_equal(vigil__rows_int(r, 2, 1), 200);
  vigil__rows_free(r);
  /* three failures: dead, with the last error; an operator's retry sends it */
  tu_recv_inject(rv, 3, 500, 0);
  assert_int_equal(vigil__hooks_emit(db, VIGIL_EVENT_CASE_DECIDED, data, NULL), 0);
  run_until(db, &o, "state = 'dead'", 1);
  vigil_delivery_info *d;
  size_t n;
  assert_int_equal(vigil__delivery_list(db, "dead", 0, 10, &d, &n, NULL), 0);
  assert_int_equal(n, 1);
  assert_non_null(strstr(d[0].last_error, "HTTP 500"));
  int64_t dead = d[0].id;
  free(d);
  assert_int_equal(vigil__delivery_retry(db, dead, NULL), 0);
  assert_int_equal(vigil__delivery_retry(db, dead, NULL), VIGIL_EEXIST);
  assert_int_equal(vigil__delivery_retry(db, 99999, NULL), VIGIL_ENOTFOUND);
  run_until(db, &o, "state = 'done'", 2);
  /* the receiver saw each delivery once, signed, with distinct keys */
  tu_recv_call calls[8];
  assert_int_equal(tu_recv_calls(rv, calls, 8), 2);
  assert_int_equal(tu_recv_distinct(rv), 2);
  assert_string_equal(calls[0].event, "case.decided");
  assert_string_not_equal(calls[0].key, calls[1].key);
  /* a wrong secret is refused by the receiver: the delivery fails */
  tu_recv_secret(rv, "whsec_wrong");
  assert_int_equal(vigil__hooks_emit(db, VIGIL_EVENT_CASE_DECIDED, data, NULL), 0);
  run_until(db, &o, "state = 'dead'", 1);
  json_decref(data);
  vigil__sql_close(db);
  tu_recv_stop(rv);
}

static void test_lease(void **state) {
  (void)state;
  vigil__sql *db;
  open_db(&db, "lease");
  int64_t id;
  assert_int_equal(vigil__outbox_add(db, "webhook", "wh_x", "match", "k1", "{}", &id, NULL), 0);
  vigil__delivery *d;
  size_t n;
  assert_int_equal(vigil__outbox_claim(db, 8, 20, "a", &d, &n, NULL), 0);
  assert_int_equal(n, 1);
  assert_int_equal(d[0].attempt, 1);
  vigil__delivery stale = d[0];
  /* within the lease nobody else gets it */
  vigil__delivery *d2;
  size_t n2;
  assert_int_equal(vigil__outbox_claim(db, 8, 20, "b", &d2, &n2, NULL), 0);
  assert_int_equal(n2, 0);
  /* the claimer "died": past the lease the row is claimed again, same key */
  tu_sleep_ms(40);
  assert_int_equal(vigil__outbox_claim(db, 8, 60000, "b", &d2, &n2, NULL), 0);
  assert_int_equal(n2, 1);
  assert_int_equal(d2[0].attempt, 2);
  assert_string_equal(d2[0].key, "k1");
  /* the first claimer's late finish changes nothing */
  assert_int_equal(vigil__outbox_finish(db, &stale, 0, 500, "late", 1000, 10, "a", NULL), 0);
  assert_int_equal(count(db, "state = 'sending' AND attempts = 2"), 1);
  assert_int_equal(vigil__outbox_finish(db, &d2[0], 1, 200, NULL, 0, 10, "b", NULL), 0);
  assert_int_equal(count(db, "state = 'done'"), 1);
  vigil__delivery_free(d, n);
  vigil__delivery_free(d2, n2);
  vigil__sql_close(db);
}

/* ---- two claimers at once ------------------------------------------------- */

#define NDEL 300
typedef struct claimer {
  const char *loc;
  int *seen; /* per delivery id, claims */
  pthread_mutex_t *mu;
  int claimed;
  int failed;
} claimer;

static void *claim_loop(void *arg) {
  claimer *c = arg;
  vigil__sql *db;
  if (vigil__sql_open(&db, c->loc, NULL)) {
    c->failed = 1;
    return NULL;
  }
  for (int idle = 0; idle < 20;) {
    vigil__delivery *d;
    size_t n;
    if (vigil__outbox_claim(db, 4, 600000, "t", &d, &n, NULL)) {
      tu_sleep_ms(2); /* SQLite busy: try again */
      continue;
    }
    idle = n ? 0 : idle + 1;
    for (size_t i = 0; i < n; i++) {
      pthread_mutex_lock(c->mu);
      if (d[i].id > 0 && d[i].id <= NDEL) c->seen[d[i].id]++;
      pthread_mutex_unlock(c->mu);
      c->claimed++;
      while (vigil__outbox_finish(db, &d[i], 1, 200, NULL, 0, 10, "t", NULL)) tu_sleep_ms(2);
    }
    vigil__delivery_free(d, n);
    if (!n) tu_sleep_ms(2);
  }
  vigil__sql_close(db);
  return NULL;
}

static void concurrent_claims(const char *loc) {
  vigil__sql *db;
  assert_int_equal(vigil__sql_open(&db, loc, NULL), 0);
  assert_int_equal(vigil__report_schema(db, NULL), 0);
  assert_int_equal(vigil__sql_begin(db, NULL), 0);
  for (int i = 0; i < NDEL; i++) {
    char key[32];
    snprintf(key, sizeof key, "k%d", i);
    int64_t id;
    assert_int_equal(vigil__outbox_add(db, "webhook", "wh", "match", key, "{}", &id, NULL), 0);
  }
  assert_int_equal(vigil__sql_commit(db, NULL), 0);
  static int seen[NDEL + 1];
  memset(seen, 0, sizeof seen);
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  claimer c[3];
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    c[i] = (claimer){loc, seen, &mu, 0, 0};
    assert_int_equal(pthread_create(&t[i], NULL, claim_loop, &c[i]), 0);
  }
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 3; i++) assert_int_equal(c[i].failed, 0);
  for (int i = 1; i <= NDEL; i++) assert_int_equal(seen[i], 1);
  assert_int_equal(c[0].claimed + c[1].claimed + c[2].claimed, NDEL);
  assert_int_equal(count(db, "state = 'done' AND attempts = 1"), NDEL);
  vigil__sql_close(db);
}

static void test_concurrent_sqlite(void **state) {
  (void)state;
  char loc[400];
  snprintf(loc, sizeof loc, "%s/conc.db", dir);
  concurrent_claims(loc);
}

static void test_concurrent_pg(void **state) {
  (void)state;
  if (!have_pg) {
    printf("PostgreSQL not available: concurrent claims checked on SQLite only\n");
    return;
  }
  char loc[600];
  tu_pg_fresh_db(loc, sizeof loc);
  concurrent_claims(loc);
}

static void test_signatures(void **state) {
  (void)state;
  char sig[VIGIL_HOOK_SIG_MAX];
  const char *body = "{\"event\":\"match\"}";
  int64_t now = (int64_t)time(NULL);
  assert_int_equal(vigil_hook_sign("whsec_abc", now, body, strlen(body), sig, NULL), 0);
  assert_int_equal(vigil_hook_verify("whsec_abc", sig, body, strlen(body), now, 300, NULL), 0);
  vigil_error e;
  vigil_error_clear(&e);
  /* tampered body, wrong secret, replay from ten minutes ago, garbage */
  assert_int_equal(vigil_hook_verify("whsec_abc", sig, "{\"event\":\"matcH\"}", strlen(body), now, 300, &e),
                   VIGIL_EINVAL);
  assert_int_equal(vigil_hook_verify("whsec_abd", sig, body, strlen(body), now, 300, NULL), VIGIL_EINVAL);
  assert_int_equal(vigil_hook_verify("whsec_abc", sig, body, strlen(body), now + 600, 300, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "replay"));
  assert_int_equal(vigil_hook_verify("whsec_abc", "t=1,v1=zz", body, strlen(body), now, 300, NULL), VIGIL_EINVAL);
  assert_int_equal(vigil_hook_verify("whsec_abc", NULL, body, strlen(body), now, 300, NULL), VIGIL_EINVAL);
  /* a signature for one timestamp is not one for another */
  char other[VIGIL_HOOK_SIG_MAX];
  assert_int_equal(vigil_hook_sign("whsec_abc", now + 1, body, strlen(body), other, NULL), 0);
  assert_string_not_equal(strchr(sig, ','), strchr(other, ','));
  /* event names */
  assert_int_equal(vigil_event_parse("case.decided"), VIGIL_EVENT_CASE_DECIDED);
  assert_string_equal(vigil_event_name(VIGIL_EVENT_BANK_CHANGED), "bank.changed");
  assert_int_equal(vigil_event_parse("case.closed"), 0);
  assert_int_equal(vigil__events_parse_list("match,case.opened", NULL), VIGIL_EVENT_MATCH | VIGIL_EVENT_CASE_OPENED);
  assert_int_equal(vigil__events_parse_list("match,,x", NULL), 0);
  assert_int_equal(vigil__events_parse_list("*", NULL), VIGIL_EVENT_ALL);
  /* hostile URLs */
  vigil__sql *db;
  open_db(&db, "urls");
  char secret[VIGIL_HOOK_SECRET_MAX];
  const char *bad[] = {"ftp://x/", "http://", "http://a b/", "file:///etc/passwd", "javascript:x", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(vigil__hook_create(db, bad[i], VIGIL_EVENT_MATCH, secret, NULL, NULL), VIGIL_EINVAL);
  vigil__sql_close(db);
}

static void test_config(void **state) {
  (void)state;
  char p[400];
  snprintf(p, sizeof p, "%s/report.json", dir);
  vigil__outbox_opts o;
  const char *cases[][2] = {
      {"{\"outbox\":{\"poll_ms\":50,\"max_attempts\":4},\"webhooks\":{\"timeout_s\":3}}", "ok"},
      {"{\"outbox\":{\"pol_ms\":50}}", "unknown member"},
      {"{\"outbox\":{\"lease_s\":5},\"webhooks\":{\"timeout_s\":10}}", "longer than"},
      {"{\"outbox\":{\"max_attempts\":0}}", "max_attempts"},
      {"[1]", "JSON object"},
      {"{", "report.json"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(cases[i][0], f);
    fclose(f);
    vigil_error e;
    vigil_error_clear(&e);
    int rc = vigil__report_config_load(p, &o, &e);
    if (!strcmp(cases[i][1], "ok")) {
      assert_int_equal(rc, 0);
      assert_int_equal(o.poll_ms, 50);
      assert_int_equal(o.max_attempts, 4);
      assert_int_equal(o.timeout_s, 3);
      assert_int_equal(o.lease_s, 60);
    } else {
      assert_int_equal(rc, VIGIL_EINVAL);
      if (!strstr(e.message, cases[i][1])) fail_msg("'%s' not in '%s'", cases[i][1], e.message);
    }
  }
  vigil__outbox_opts_default(&o);
  assert_int_equal(vigil__outbox_backoff_ms(&o, 1), 5000);
  assert_int_equal(vigil__outbox_backoff_ms(&o, 3), 20000);
  assert_int_equal(vigil__outbox_backoff_ms(&o, 40), 3600 * 1000);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil-test-outbox-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int rc = tu_pg_start(pg_uri, sizeof pg_uri);
  have_pg = rc == 0;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_transaction), cmocka_unit_test(test_retries_and_dead_letters),
      cmocka_unit_test(test_lease),            cmocka_unit_test(test_concurrent_sqlite),
      cmocka_unit_test(test_concurrent_pg),    cmocka_unit_test(test_signatures),
      cmocka_unit_test(test_config),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
