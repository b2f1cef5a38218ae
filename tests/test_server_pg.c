/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_pg.c - `vigil serve` on PostgreSQL: two nodes sharing one
 * database, as a platform runs them behind a load balancer.
 *
 *   - `vigil keys` and both nodes work on a postgresql:// location; the
 *     first node prints the bootstrap key, the second (keys exist) does not.
 *   - A bank change made through node A is matched by node B within the
 *     sync interval (one second; the test allows five).
 *   - A case opened by a match on B is decided on A and read back on B;
 *     the audit log, read on either node, holds both nodes' calls in id
 *     order.
 *   - kill -9 of node A right after acknowledged writes: a new node sees
 *     them all.
 *   - The audit table refuses UPDATE, DELETE and TRUNCATE, whoever asks.
 *   - A database restart under a running node: clean 5xx for the calls
 *     that hit it, then the node reconnects on its own.
 *   - HMA's raw_lookup of a vpdq frame list opens a review case carrying
 *     the aligned segments.
 * Skipped, saying so, when PostgreSQL is not installed.
 */
#include "testutil.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "pgtest.h"
#include "serveproc.h"
#include "vigil/video.h"

static char uri[512], dir[256];

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run(const char *cmd, char *out, size_t cap) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void stop(tu_serve *s, int sig) {
  kill(s->pid, sig);
  waitpid(s->pid, NULL, 0);
}

/* The number of matches node port finds for a SHA-256 (no review case). */
static size_t sha_matches(int port, const char *key, const char *sha) {
  char body[200];
  snprintf(body, sizeof body, "{\"sha256\":\"%s\",\"review\":false}", sha);
  int st;
  json_t *o = tu_call(port, "POST", "/v1/match", key, body, &st);
  assert_int_equal(st, 200);
  size_t n = json_array_size(json_object_get(o, "matches"));
  json_decref(o);
  return n;
}

static void test_two_nodes(void **state) {
  (void)state;
  char db[600], cmd[1400], out[4096];
  tu_pg_fresh_db(db, sizeof db);

  /* keys from the CLI, on PostgreSQL */
  snprintf(cmd, sizeof cmd, "'%s' keys create --role submitter --name pipeline --db '%s' 2>/dev/null", VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_int_equal(strncmp(out, "vk_", 3), 0);
  char sub[128];
  snprintf(sub, sizeof sub, "%.80s", out);

  tu_serve a, b;
  char bjobs[400]; /* one process per jobs directory: B has its own, A and C (A restarted) the default */
  snprintf(bjobs, sizeof bjobs, "--jobs-dir=%s/jobs-b", dir);
  assert_int_equal(tu_serve_start(&a, db, dir, "a"), 0);
  assert_int_equal(tu_serve_start_with(&b, db, dir, "b", bjobs), 0);
  assert_int_equal(a.key[0], 0); /* a key existed (the CLI's): no bootstrap key */
  snprintf(cmd, sizeof cmd, "'%s' keys create --role admin --name ops --db '%s' 2>/dev/null", VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  char admin[128], rev[128];
  snprintf(admin, sizeof admin, "%.80s", out);
  int st;
  json_t *o = tu_call(b.port, "POST", "/v1/keys", admin, "{\"role\":\"reviewer\",\"name\":\"r\"}", &st);
  assert_int_equal(st, 201);
  snprintf(rev, sizeof rev, "%s", json_string_value(json_object_get(o, "key")));
  json_decref(o);

  /* a bank change on A reaches B's index */
  json_decref(tu_call(a.port, "POST", "/v1/banks", admin, "{\"name\":\"shared\",\"review\":true}", &st));
  assert_int_equal(st, 201);
  const char *sha = "aa00000000000000000000000000000000000000000000000000000000000001";
  char body[300];
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\",\"tags\":[\"csam\"]}", sha);
  json_decref(tu_call(a.port, "POST", "/v1/banks/shared/entries", admin, body, &st));
  assert_int_equal(st, 201);
  const char *pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  snprintf(body, sizeof body, "{\"signal_type\":\"pdq\",\"value\":\"%s\",\"external_id\":\"P1\"}", pdq);
  int64_t t0 = now_ms();
  json_decref(tu_call(a.port, "POST", "/v1/banks/shared/entries", admin, body, &st));
  assert_int_equal(st, 201);
  assert_int_equal(sha_matches(b.port, sub, sha), 1); /* exact lookups read the store directly */
  /* PDQ goes through B's in-memory index: it syncs within a second */
  const char *near = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2d"; /* 4 bits away */
  snprintf(body, sizeof body, "{\"pdq\":\"%s\",\"content_id\":\"upload-7\"}", near);
  json_t *m = NULL;
  int64_t waited = 0;
  while ((waited = now_ms() - t0) < 5000) {
    m = tu_call(b.port, "POST", "/v1/match", sub, body, &st);
    assert_int_equal(st, 200);
    if (json_array_size(json_object_get(m, "matches")) > 0) break;
    json_decref(m);
    m = NULL;
    tu_sleep_ms(50);
  }
  printf("node B matched node A's new entry after %lld ms\n", (long long)waited);
  assert_non_null(m);
  json_t *m0 = json_array_get(json_object_get(m, "matches"), 0);
  assert_string_equal(json_string_value(json_object_get(m0, "external_id")), "P1");
  assert_int_equal(json_integer_value(json_object_get(m0, "distance")), 4);
  json_int_t case_id = json_integer_value(json_object_get(m, "case_id"));
  assert_true(case_id > 0); /* the bank is flagged for review */
  json_decref(m);

  /* the case opened on B is decided on A and read back on B */
  char path[80];
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)case_id);
  json_decref(tu_call(a.port, "POST", path, rev, "{\"decision\":\"confirm\",\"classification\":\"A1\"}", &st));
  assert_int_equal(st, 200);
  json_decref(tu_call(b.port, "POST", path, rev, "{\"decision\":\"dismiss\"}", &st));
  assert_int_equal(st, 409); /* closed, whichever node is asked */
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)case_id);
  o = tu_call(b.port, "GET", path, rev, NULL, &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(o, "status")), "confirmed");
  assert_string_equal(json_string_value(json_object_get(o, "content_id")), "upload-7");
  assert_int_equal(json_array_size(json_object_get(o, "history")), 1);
  json_decref(o);

  /* a removal on B stops matches on A */
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\",\"reason\":\"appeal\"}", sha);
  json_decref(tu_call(b.port, "POST", "/v1/banks/shared/entries/remove", admin, body, &st));
  assert_int_equal(st, 200);
  assert_int_equal(sha_matches(a.port, sub, sha), 0);

  /* kill -9 right after acknowledged writes; a fresh node sees them */
  int64_t ids[20];
  for (int i = 0; i < 20; i++) {
    snprintf(body, sizeof body, "{\"content_id\":\"pg-crash-%d\"}", i);
    o = tu_call(a.port, "POST", "/v1/cases", admin, body, &st);
    assert_int_equal(st, 201);
    ids[i] = json_integer_value(json_object_get(o, "id"));
    json_decref(o);
  }
  stop(&a, SIGKILL);
  tu_serve c;
  assert_int_equal(tu_serve_start(&c, db, dir, "c"), 0);
  for (int i = 0; i < 20; i++) {
    snprintf(path, sizeof path, "/v1/cases/%lld", (long long)ids[i]);
    o = tu_call(c.port, "GET", path, rev, NULL, &st);
    assert_int_equal(st, 200);
    char want[32];
    snprintf(want, sizeof want, "pg-crash-%d", i);
    assert_string_equal(json_string_value(json_object_get(o, "content_id")), want);
    json_decref(o);
  }

  /* the audit log holds both nodes' calls, in id order */
  snprintf(cmd, sizeof cmd, "'%s' keys create --role auditor --db '%s' 2>/dev/null", VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  char aud[128];
  snprintf(aud, sizeof aud, "%.80s", out);
  o = tu_call(c.port, "GET", "/v1/audit?limit=1000", aud, NULL, &st);
  assert_int_equal(st, 200);
  json_t *entries = json_object_get(o, "entries");
  int saw_decision = 0, saw_key = 0, saw_remove = 0;
  json_int_t last = 0;
  for (size_t i = 0; i < json_array_size(entries); i++) {
    json_t *e = json_array_get(entries, i);
    json_int_t id = json_integer_value(json_object_get(e, "id"));
    assert_true(id > last);
    last = id;
    const char *action = json_string_value(json_object_get(e, "action"));
    saw_decision += action && strstr(action, "decide") != NULL;
    saw_key += action && strstr(action, "key") != NULL;
    saw_remove += action && strstr(action, "remove") != NULL;
  }
  printf("audit: %zu entries from nodes A and B\n", json_array_size(entries));
  assert_true(json_array_size(entries) >= 27);
  assert_true(saw_decision >= 1); /* the confirm; the refused second decision (409) changed nothing */
  assert_true(saw_key >= 1);
  assert_true(saw_remove >= 1);
  json_decref(o);
  stop(&b, SIGTERM);
  stop(&c, SIGTERM);

  /* append-only, whoever asks */
  PGconn *pc = PQconnectdb(db);
  assert_int_equal(PQstatus(pc), CONNECTION_OK);
  const char *attempts[] = {"UPDATE server_audit SET status = 0", "DELETE FROM server_audit", "TRUNCATE server_audit"};
  for (int i = 0; i < 3; i++) {
    PGresult *r = PQexec(pc, attempts[i]);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_non_null(strstr(PQresultErrorMessage(r), "append-only"));
    PQclear(r);
  }
  PQfinish(pc);
}

/* Request threads share each store's connection (serveproc.c). */
static void test_concurrent_requests(void **state) {
  (void)state;
  char db[600];
  tu_pg_fresh_db(db, sizeof db);
  tu_check_concurrent_matches(db, dir);
}

/* The database restarts under a running node: the calls that hit the cut
 * connection fail cleanly (a JSON 5xx), the node reconnects by itself and
 * everything acknowledged before is still there. */
static void test_database_restart(void **state) {
  (void)state;
  char db[600], cmd[1400], out[4096];
  tu_pg_fresh_db(db, sizeof db);
  snprintf(cmd, sizeof cmd, "'%s' keys create --role admin --db '%s' 2>/dev/null", VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  char admin[128];
  snprintf(admin, sizeof admin, "%.80s", out);
  tu_serve a;
  assert_int_equal(tu_serve_start(&a, db, dir, "r"), 0);
  int st;
  json_t *o = tu_call(a.port, "POST", "/v1/cases", admin, "{\"content_id\":\"before-restart\"}", &st);
  assert_int_equal(st, 201);
  json_int_t id = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  json_decref(tu_call(a.port, "POST", "/v1/banks", admin, "{\"name\":\"b\"}", &st));
  assert_int_equal(st, 201);

  assert_int_equal(tu_pg_restart(), 0);
  int failures = 0, ok = 0;
  for (int i = 0; i < 20 && ok < 3; i++) {
    char body[80];
    snprintf(body, sizeof body, "{\"content_id\":\"after-%d\"}", i);
    o = tu_call(a.port, "POST", "/v1/cases", admin, body, &st);
    if (st == 201) {
      ok++;
    } else {
      failures++;
      assert_true(st >= 500); /* the database's fault, said as such */
      assert_non_null(json_object_get(o, "error"));
    }
    json_decref(o);
    /* the bank store has a connection of its own */
    json_decref(tu_call(a.port, "GET", "/v1/banks/b", admin, NULL, &st));
    if (st != 200) failures++;
  }
  printf("after the restart: %d failed calls, then %d successful writes\n", failures, ok);
  assert_int_equal(ok, 3);
  assert_true(failures <= 4);
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)id);
  o = tu_call(a.port, "GET", path, admin, NULL, &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(o, "content_id")), "before-restart");
  json_decref(o);
  kill(a.pid, SIGTERM);
  int wst;
  assert_int_equal(waitpid(a.pid, &wst, 0), a.pid);
  assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
}

/* HMA's raw_lookup on PostgreSQL: a vpdq frame list matching a video in a
 * bank flagged for review opens a case (source "hma") carrying the
 * segments, as a video_md5 lookup does with its digest. */
static void test_hma_video_cases(void **state) {
  (void)state;
  char db[600];
  tu_pg_fresh_db(db, sizeof db);
  tu_serve a;
  assert_int_equal(tu_serve_start(&a, db, dir, "hma"), 0);
  int st;
  json_decref(tu_call(a.port, "POST", "/v1/banks", a.key, "{\"name\":\"vids\",\"review\":true}", &st));
  assert_int_equal(st, 201);
  /* 8 frames a second apart, each far from the others (a drifting scene
   * would do as well; these keep the test independent of any decoder), few
   * enough for a URL tu_call sends */
  json_t *frames = json_array();
  char te[4096] = "[", *q = te + 1;
  for (int i = 0; i < 8; i++) {
    char hex[65], ts[32];
    for (int k = 0; k < 64; k++) hex[k] = "0123456789abcdef"[(unsigned)(i * 7919 + k * 104729 + k * k * i) % 16];
    hex[64] = 0;
    json_array_append_new(frames, json_pack("[i, i, s, f]", i, 100, hex, (double)i));
    vigil_vpdq_format_ts((double)i, ts);
    q += snprintf(q, sizeof te - (size_t)(q - te) - 2, "%s\"%s,100,%s\"", i ? "," : "", hex, ts);
  }
  strcat(te, "]");
  json_t *line = json_pack("{s:s, s:s, s:o}", "signal_type", "vpdq", "external_id", "known", "frames", frames);
  char *text = json_dumps(line, JSON_COMPACT);
  json_decref(line);
  tu_http_resp r;
  assert_int_equal(tu_http(a.port, "POST", "/v1/banks/vids/import?format=jsonl", a.key, "application/x-ndjson", text,
                           strlen(text), &r),
                   0);
  assert_int_equal(r.status, 200);
  tu_http_free(&r);
  free(text);
  char *path = malloc(3 * strlen(te) + 100), *o8;
  assert_non_null(path);
  o8 = path + sprintf(path, "/m/raw_lookup?signal_type=vpdq&include_distance=true&signal=");
  for (const char *c = te; *c; c++) o8 += sprintf(o8, "%%%02X", (unsigned char)*c);
  json_t *o = tu_call(a.port, "GET", path, a.key, NULL, &st);
  free(path);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(o, "matches"), 0), "distance")),
                      "100%[100%]");
  json_decref(o);
  o = tu_call(a.port, "GET", "/v1/cases?status=all", a.key, NULL, &st);
  assert_int_equal(st, 200);
  json_t *cases = json_object_get(o, "cases");
  assert_int_equal(json_array_size(cases), 1);
  char cpath[64];
  snprintf(cpath, sizeof cpath, "/v1/cases/%lld",
           (long long)json_integer_value(json_object_get(json_array_get(cases, 0), "id")));
  json_decref(o);
  o = tu_call(a.port, "GET", cpath, a.key, NULL, &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(o, "source")), "hma");
  assert_int_equal(strncmp(json_string_value(json_object_get(o, "content_id")), "vpdq-sha256:", 12), 0);
  json_t *m = json_array_get(json_object_get(json_object_get(o, "detail"), "matches"), 0);
  assert_string_equal(json_string_value(json_object_get(m, "external_id")), "known");
  json_t *seg = json_array_get(json_object_get(m, "segments"), 0);
  assert_non_null(seg);
  assert_true(json_number_value(json_object_get(seg, "query_start")) == 0.0);
  assert_true(json_number_value(json_object_get(seg, "bank_end")) == 7.0);
  json_decref(o);
  kill(a.pid, SIGTERM);
  waitpid(a.pid, NULL, 0);
}

/* A location nobody answers at: a clear error and a non-zero exit. */
static void test_unreachable(void **state) {
  (void)state;
  char cmd[800], out[4096];
  snprintf(cmd, sizeof cmd, "'%s' keys list --db 'postgresql://vigil@127.0.0.1:1/none' 2>&1", VIGIL_CLI);
  int rc = run(cmd, out, sizeof out);
  assert_true(rc != 0);
  assert_non_null(strstr(out, "PostgreSQL"));
  assert_null(strstr(out, "Segmentation"));
}

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "pg")) return -1;
  /* the default jobs directory of a PostgreSQL node is $TMPDIR/vigil-jobs:
   * this program's own, not one shared with other tests running at once */
  setenv("TMPDIR", dir, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int rc = tu_pg_start(uri, sizeof uri);
  if (rc == 77) return 77;
  if (rc) {
    fprintf(stderr, "could not start a PostgreSQL test server\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_nodes),
      cmocka_unit_test(test_concurrent_requests),
      cmocka_unit_test(test_database_restart),
      cmocka_unit_test(test_unreachable),
      cmocka_unit_test(test_hma_video_cases),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
