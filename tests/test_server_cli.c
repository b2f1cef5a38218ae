/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_cli.c - the built `vigil` binary (VIGIL_CLI): `vigil keys`,
 * the serve bootstrap key, crash safety (every acknowledged write is there
 * after kill -9 and a restart) and graceful stop on SIGTERM (a request in
 * flight is still answered), one case per piece of content unless
 * --no-group-sightings.  Loopback only, ephemeral ports.
 */
#include "testutil.h"

#include <fcntl.h>
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
#include "serveproc.h"

static char dir[256], db[300];

/* Runs a shell command, returns its exit status; stdout into out. */
static int run(const char *cmd, char *out, size_t cap) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t n = out ? fread(out, 1, cap - 1, p) : 0;
  if (out) out[n] = 0;
  else {
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef tu_serve server;

static int start_server(server *s, const char *tag) { return tu_serve_start(s, db, dir, tag); }

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "cli")) return -1;
  snprintf(db, sizeof db, "%s/vigil.db", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

static void test_keys_cli(void **state) {
  (void)state;
  char kdb[400], cmd[1024], out[8192];
  snprintf(kdb, sizeof kdb, "%s/keys.db", dir);
  snprintf(cmd, sizeof cmd, "'%s' keys create --role reviewer --name alice --db '%s' 2>/dev/null", VIGIL_CLI, kdb);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_int_equal(strncmp(out, "vk_", 3), 0);
  assert_int_equal(strlen(out), 81); /* key + newline */
  char id[13];
  memcpy(id, out + 3, 12);
  id[12] = 0;
  snprintf(cmd, sizeof cmd, "'%s' keys list --db '%s'", VIGIL_CLI, kdb);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, id));
  assert_non_null(strstr(out, "reviewer"));
  assert_non_null(strstr(out, "active"));
  assert_null(strstr(out, "vk_"));
  snprintf(cmd, sizeof cmd, "'%s' keys revoke %s --db '%s'", VIGIL_CLI, id, kdb);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  snprintf(cmd, sizeof cmd, "'%s' keys list --format json --db '%s'", VIGIL_CLI, kdb);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  json_t *j = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "state")), "revoked");
  json_decref(j);
  snprintf(cmd, sizeof cmd, "'%s' keys revoke %s --db '%s' 2>/dev/null", VIGIL_CLI, id, kdb);
  assert_int_equal(run(cmd, NULL, 0), 1);
  snprintf(cmd, sizeof cmd, "'%s' keys create --role wizard --db '%s' 2>/dev/null", VIGIL_CLI, kdb);
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' keys frobnicate --db '%s' 2>/dev/null", VIGIL_CLI, kdb);
  assert_int_equal(run(cmd, NULL, 0), 2);
  /* $VIGIL_DB is the default database */
  snprintf(cmd, sizeof cmd, "VIGIL_DB='%s' '%s' keys list", kdb, VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, id));
}

static void test_crash_safety(void **state) {
  (void)state;
  server s;
  assert_int_equal(start_server(&s, "a"), 0);
  assert_int_equal(strlen(s.key), 80); /* bootstrap admin key */
  int st;
  /* acknowledged writes: keys, cases, decisions */
  char rev_key[128] = "";
  json_t *j = tu_call(s.port, "POST", "/v1/keys", s.key, "{\"role\":\"reviewer\",\"name\":\"r1\"}", &st);
  assert_int_equal(st, 201);
  snprintf(rev_key, sizeof rev_key, "%s", json_string_value(json_object_get(j, "key")));
  json_decref(j);
  int64_t ids[30];
  for (int i = 0; i < 30; i++) {
    char body[128];
    snprintf(body, sizeof body, "{\"content_id\":\"crash-%d\"}", i);
    j = tu_call(s.port, "POST", "/v1/cases", s.key, body, &st);
    assert_int_equal(st, 201);
    ids[i] = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
  }
  for (int i = 0; i < 10; i++) {
    char path[64];
    snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)ids[i]);
    json_decref(tu_call(s.port, "POST", path, rev_key, "{\"decision\":\"dismiss\"}", &st));
    assert_int_equal(st, 200);
  }
  /* the last acknowledged write, then kill -9 at once */
  j = tu_call(s.port, "POST", "/v1/keys", s.key, "{\"role\":\"auditor\",\"name\":\"last-write\"}", &st);
  assert_int_equal(st, 201);
  char aud_key[128];
  snprintf(aud_key, sizeof aud_key, "%s", json_string_value(json_object_get(j, "key")));
  json_decref(j);
  kill(s.pid, SIGKILL);
  waitpid(s.pid, NULL, 0);

  server s2;
  assert_int_equal(start_server(&s2, "b"), 0);
  assert_int_equal(s2.key[0], 0); /* keys exist: no second bootstrap key */
  for (int i = 0; i < 30; i++) {
    char path[64];
    snprintf(path, sizeof path, "/v1/cases/%lld", (long long)ids[i]);
    j = tu_call(s2.port, "GET", path, rev_key, NULL, &st);
    assert_int_equal(st, 200);
    char want[32];
    snprintf(want, sizeof want, "crash-%d", i);
    assert_string_equal(json_string_value(json_object_get(j, "content_id")), want);
    assert_string_equal(json_string_value(json_object_get(j, "status")), i < 10 ? "dismissed" : "open");
    json_decref(j);
  }
  j = tu_call(s2.port, "GET", "/v1/audit?limit=1000", aud_key, NULL, &st);
  assert_int_equal(st, 200); /* the last key written before the kill works */
  assert_true(json_array_size(json_object_get(j, "entries")) >= 42);
  json_decref(j);
  /* SIGTERM with a request in flight: it is still answered, then a clean exit */
  int fd = tu_http_connect(s2.port);
  assert_true(fd >= 0);
  const char *body = "{\"content_id\":\"in-flight\"}";
  char head[512];
  int hl = snprintf(head, sizeof head,
                    "POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    s.key, strlen(body));
  assert_int_equal(send(fd, head, (size_t)hl, MSG_NOSIGNAL), hl);
  assert_int_equal(send(fd, body, 5, MSG_NOSIGNAL), 5);
  /* wait until the server counts it in flight (the /metrics call is the other one) */
  int seen = 0;
  for (int i = 0; i < 400 && !seen; i++) {
    tu_http_resp m;
    if (tu_http(s2.port, "GET", "/metrics", s.key, NULL, NULL, 0, &m) == 0 && m.body)
      seen = strstr(m.body, "\nvigil_http_inflight_requests 2\n") != NULL;
    tu_http_free(&m);
    if (!seen) tu_sleep_ms(10);
  }
  assert_true(seen);
  kill(s2.pid, SIGTERM);
  tu_sleep_ms(300);
  assert_int_equal(send(fd, body + 5, strlen(body) - 5, MSG_NOSIGNAL), (ssize_t)(strlen(body) - 5));
  char resp[2048];
  size_t n = 0;
  ssize_t got;
  while (n < sizeof resp - 1 && (got = recv(fd, resp + n, sizeof resp - 1 - n, 0)) > 0) n += (size_t)got;
  resp[n] = 0;
  close(fd);
  assert_non_null(strstr(resp, " 201 "));
  int wst;
  assert_int_equal(waitpid(s2.pid, &wst, 0), s2.pid);
  assert_true(WIFEXITED(wst));
  assert_int_equal(WEXITSTATUS(wst), 0);
  /* and it is durable: the CLI sees the keys of both runs */
  char cmd[600], out[8192];
  snprintf(cmd, sizeof cmd, "'%s' keys list --db '%s'", VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "last-write"));
  assert_non_null(strstr(out, "bootstrap"));
}

/* `vigil serve` groups repeats of content into one case by default;
 * --no-group-sightings opens a case per upload. */
static void test_group_sightings_flag(void **state) {
  (void)state;
  const char *body = "{\"content_id\":\"flag-1\"}";
  for (int separate = 0; separate < 2; separate++) {
    char gdb[400];
    snprintf(gdb, sizeof gdb, "%s/group-%d.db", dir, separate);
    server s;
    assert_int_equal(
        tu_serve_start_with(&s, gdb, dir, separate ? "g1" : "g0", separate ? "--no-group-sightings" : NULL), 0);
    int st;
    json_int_t id[2];
    for (int i = 0; i < 2; i++) {
      json_t *j = tu_call(s.port, "POST", "/v1/cases", s.key, body, &st);
      assert_int_equal(st, 201);
      id[i] = json_integer_value(json_object_get(j, "id"));
      assert_int_equal(json_is_true(json_object_get(j, "sighting")), i == 1 && !separate);
      json_decref(j);
    }
    if (separate) assert_true(id[0] != id[1]);
    else assert_int_equal(id[0], id[1]);
    kill(s.pid, SIGTERM);
    waitpid(s.pid, NULL, 0);
  }
}

/* Many request threads on one SQLite store (the PostgreSQL run is in test_server_pg.c). */
static void test_concurrent_requests(void **state) {
  (void)state;
  char cdb[400];
  snprintf(cdb, sizeof cdb, "%s/concurrent.db", dir);
  tu_check_concurrent_matches(cdb, dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keys_cli),
      cmocka_unit_test(test_crash_safety),
      cmocka_unit_test(test_concurrent_requests),
      cmocka_unit_test(test_group_sightings_flag),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
