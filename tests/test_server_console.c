/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_console.c - people, sessions and the queue's leases of the
 * review console (lib/server/accounts.c, sessions.c, claims.c, h_session.c).
 *
 *   - Sign-in: the cookie is HttpOnly, SameSite=Strict, not readable in the
 *     body; a wrong password and an unknown name answer alike (401) and are
 *     audited under the name tried; from the third failure in a row each
 *     attempt must wait (429 + Retry-After); at ten the account is locked
 *     (403), even for the right password, until `unlock`.
 *     Twelve sign-ins at once are each answered, 201 or 503 busy.
 *   - Sessions: a state-changing call without, or with a wrong, X-CSRF-Token
 *     is refused (403) and changes nothing; reads need none; sign-out ends
 *     the session on the server (the same cookie then answers 401); the
 *     idle and absolute timeouts end it; a disabled account's session ends.
 *   - Admins create and disable people through /v1/users; the password is
 *     in no answer and no audit row; a reviewer's session may not.
 *   - The audit log names the person ("user:<name>") for what they did.
 *   - Single sign-on: a header from a listed proxy signs in the account it
 *     names (an unknown one 401); from any other address it means nothing.
 *   - Sightings (the default): repeats of content with an undecided case
 *     add sightings (count, first/last seen, uploaders) instead of new
 *     cases, also eight at once, and say so (sighting, the case's status);
 *     decided cases are not joined; separate_sightings (--no-group-sightings)
 *     opens a case per upload.
 *     A case names earlier decisions on the same content or uploader.
 *   - Order: the most severe matched label first (A1 .. B2), then the oldest.
 *   - Filters by bank, tag, status and assignee; the child-safety queue
 *     (labels A1..B2 or csam, a bank flagged child_abuse, such a
 *     classification) is listed, handed out and opened only for people
 *     with the permission, and follows the bank's flag when it changes.
 *   - Display settings: built-in, organisation (admin) and personal, reset;
 *     the blur never below 4 px.  Admin calls: role, permission and enabled
 *     state apply to open sessions; the audit CSV is admin only, audited,
 *     filtered, and a formula-like field is defused; the dashboard's
 *     figures leave out the child-safety queue for those without it.
 *   - Disputes: a dismissal may dispute the matched entries (not a
 *     confirmation; not a case that matched nothing, which stays open);
 *     the bank lists them and counts them.
 *   - Leases: next hands out the oldest free case; another reviewer gets
 *     another; the holder renews, others cannot; skip returns it; an
 *     expired lease frees it; 16 reviewers asking at once never get the same
 *     case twice.
 *
 * test_server_console_pg.c runs the same tests on PostgreSQL (CONSOLE_PG).
 */
#include "testutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/sql.h"
#include "httpc.h"
#include "pgtest.h"
#include "servefix.h"
#include "server/cases.h"
#include "server/store.h"
#include "vigil/server.h"

static tu_fix fx;
static const char *PW = "correct horse battery";

/* A signed-in browser: its cookie and CSRF token. */
typedef struct who {
  char cookie[600];
  char csrf[80];
} who;

/* One request; cookie and csrf may be NULL. */
static int call(const char *method, const char *path, const who *w, const char *csrf, const char *json, json_t **out,
                tu_http_resp *keep) {
  char hdr[1024] = "";
  size_t n = 0;
  if (json) n += (size_t)snprintf(hdr + n, sizeof hdr - n, "Content-Type: application/json\r\n");
  if (w && w->cookie[0]) n += (size_t)snprintf(hdr + n, sizeof hdr - n, "Cookie: %s\r\n", w->cookie);
  if (csrf) n += (size_t)snprintf(hdr + n, sizeof hdr - n, "X-CSRF-Token: %s\r\n", csrf);
  int fd = tu_http_connect(fx.port);
  assert_true(fd >= 0);
  tu_http_resp r;
  assert_int_equal(tu_http_request(fd, method, path, hdr, json, json ? strlen(json) : 0, &r), 0);
  close(fd);
  if (out) *out = r.body_len ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
  int st = r.status;
  if (keep) *keep = r;
  else tu_http_free(&r);
  return st;
}

static void make_user(const char *name, const char *role, int child) {
  vigil_server_store *st;
  vigil_error e;
  assert_int_equal(vigil_server_store_open(&st, fx.db, &e), 0);
  assert_int_equal(vigil_user_create(st, name, vigil_role_parse(role), child, PW, &e), 0);
  vigil_server_store_close(st);
}

/* Signs name in with pw; returns the status, fills w on success. */
static int sign_in(const char *name, const char *pw, who *w) {
  char body[256];
  snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"%s\"}", name, pw);
  tu_http_resp r;
  json_t *o = NULL;
  int st = call("POST", "/v1/session", NULL, NULL, body, &o, &r);
  if (st == 201) {
    char c[512];
    assert_non_null(tu_http_header(&r, "Set-Cookie", c, sizeof c));
    assert_non_null(strstr(c, "HttpOnly"));
    assert_non_null(strstr(c, "SameSite=Strict"));
    assert_null(strstr(c, "Secure")); /* plain HTTP here */
    size_t k = strcspn(c, ";");
    c[k] = 0;
    snprintf(w->cookie, sizeof w->cookie, "%s", c);
    snprintf(w->csrf, sizeof w->csrf, "%s", json_string_value(json_object_get(o, "csrf_token")));
    assert_int_equal(strlen(w->csrf), 64);
    /* the session token is in the cookie only, never in the body */
    assert_null(strstr(r.body, c + strlen("vigil_session=")));
  }
  tu_http_free(&r);
  json_decref(o);
  return st;
}

/* The last audit row's key_id and action. */
static void last_audit(char *key_id, size_t kcap, char *action, size_t acap, int *status) {
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/audit?limit=1000", fx.admin, NULL, &o), 200);
  json_t *rows = json_object_get(o, "entries");
  json_t *last = json_array_get(rows, json_array_size(rows) - 1);
  assert_non_null(last);
  snprintf(key_id, kcap, "%s", json_string_value(json_object_get(last, "key_id")));
  snprintf(action, acap, "%s", json_string_value(json_object_get(last, "action")));
  *status = (int)json_integer_value(json_object_get(last, "status"));
  json_decref(o);
}

static void sql(const char *stmt) {
  vigil_server_store *st = vigil_server_get_store(fx.srv);
  vigil_error e;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, stmt, NULL, 0, NULL, NULL, &e);
  pthread_mutex_unlock(&st->mu);
  assert_int_equal(rc, 0);
}

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "console") != 0) return -1;
#ifdef CONSOLE_PG
  /* the same people and keys, in a fresh PostgreSQL database */
  tu_pg_fresh_db(fx.db, sizeof fx.db);
  vigil_server_store *st;
  vigil_error e;
  if (vigil_server_store_open(&st, fx.db, &e)) return -1;
  int rc = vigil_key_create(st, VIGIL_ROLE_ADMIN, "admin", fx.admin, NULL, &e) ||
           vigil_key_create(st, VIGIL_ROLE_SUBMITTER, "pipeline", fx.submitter, NULL, &e) ||
           vigil_key_create(st, VIGIL_ROLE_REVIEWER, "alice", fx.reviewer, NULL, &e);
  vigil_server_store_close(st);
  if (rc) return -1;
#endif
  make_user("alice", "reviewer", 1);
  make_user("bob", "reviewer", 0);
  make_user("carol", "reviewer", 1);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.threads = 8; /* more than VIGIL__SIGNIN_MAX_ACTIVE, for test_signin_burst */
  return tu_fix_start(&fx, &cfg);
}

static int teardown(void **state) {
  (void)state;
  return tu_fix_end(&fx);
}

static void test_signin_and_audit(void **state) {
  (void)state;
  who a = {0};
  assert_int_equal(sign_in("alice", PW, &a), 201);
  char k[80], act[64];
  int st;
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(k, "user:alice");
  assert_string_equal(act, "session.create");
  json_t *o = NULL;
  assert_int_equal(call("GET", "/v1/session", &a, NULL, NULL, &o, NULL), 200);
  assert_string_equal(json_string_value(json_object_get(o, "user")), "alice");
  assert_string_equal(json_string_value(json_object_get(o, "csrf_token")), a.csrf);
  assert_true(json_is_true(json_object_get(o, "child_safety")));
  json_decref(o);
  /* reading cases with the session: no CSRF token needed */
  assert_int_equal(call("GET", "/v1/cases", &a, NULL, NULL, NULL, NULL), 200);
  /* an unknown name and a wrong password read the same */
  tu_http_resp r1, r2;
  assert_int_equal(call("POST", "/v1/session", NULL, NULL, "{\"name\":\"nobody\",\"password\":\"xxxxxxxxxxxx\"}", NULL,
                        &r1), 401);
  assert_int_equal(call("POST", "/v1/session", NULL, NULL, "{\"name\":\"carol\",\"password\":\"xxxxxxxxxxxx\"}", NULL,
                        &r2), 401);
  assert_string_equal(r1.body, r2.body);
  tu_http_free(&r1);
  tu_http_free(&r2);
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(k, "user:carol");
  assert_int_equal(st, 401);
  /* an admin account may not be used to bypass roles: bob (reviewer) is refused admin routes */
  who b = {0};
  assert_int_equal(sign_in("bob", PW, &b), 201);
  assert_int_equal(call("GET", "/v1/keys", &b, NULL, NULL, NULL, NULL), 403);
  /* bob lacks the child-safety permission: no evidence, no unblur */
  assert_int_equal(call("GET", "/v1/cases/1/evidence", &b, NULL, NULL, NULL, NULL), 403);
  /* a forged cookie is no session */
  who f = {0};
  snprintf(f.cookie, sizeof f.cookie, "vigil_session=%064d", 7);
  assert_int_equal(call("GET", "/v1/cases", &f, NULL, NULL, NULL, NULL), 401);
  snprintf(f.cookie, sizeof f.cookie, "vigil_session=<script>");
  assert_int_equal(call("GET", "/v1/cases", &f, NULL, NULL, NULL, NULL), 401);
}

/* Sign-ins at once: each is answered, 201 or 503 busy (a password check
 * takes 64 MiB, so only a few run at a time), never anything else. */
static int burst_status[12];
static void *burst(void *arg) {
  int i = (int)(intptr_t)arg;
  who w = {0};
  burst_status[i] = sign_in("alice", PW, &w);
  return NULL;
}

static void test_signin_burst(void **state) {
  (void)state;
  pthread_t t[12];
  for (int i = 0; i < 12; i++) assert_int_equal(pthread_create(&t[i], NULL, burst, (void *)(intptr_t)i), 0);
  for (int i = 0; i < 12; i++) pthread_join(t[i], NULL);
  int ok = 0, busy = 0;
  for (int i = 0; i < 12; i++) {
    ok += burst_status[i] == 201;
    busy += burst_status[i] == 503;
  }
  printf("12 sign-ins at once: %d signed in, %d told to retry\n", ok, busy);
  assert_int_equal(ok + busy, 12);
  assert_true(ok >= 1);
}

/* Admins manage people through the API too; the password goes nowhere. */
static void test_users_api(void **state) {
  (void)state;
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/users", fx.admin,
                                "{\"name\":\"frank\",\"role\":\"reviewer\",\"password\":\"frank's long secret\"}", &o),
                   201);
  char *dump = json_dumps(o, 0);
  assert_null(strstr(dump, "secret"));
  free(dump);
  json_decref(o);
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/audit?limit=1000", fx.admin, NULL, &o), 200);
  dump = json_dumps(o, 0);
  assert_non_null(strstr(dump, "users.create"));
  assert_null(strstr(dump, "frank's long secret"));
  free(dump);
  json_decref(o);
  who f = {0};
  assert_int_equal(sign_in("frank", "frank's long secret", &f), 201);
  /* a reviewer's session may not manage people */
  assert_int_equal(call("POST", "/v1/users", &f, f.csrf, "{\"name\":\"g\",\"role\":\"admin\",\"password\":\"xxxxxxxxxxxx\"}",
                        NULL, NULL), 403);
  assert_int_equal(tu_json_call(fx.port, "DELETE", "/v1/users/frank", fx.admin, NULL, NULL), 200);
  assert_int_equal(call("GET", "/v1/cases", &f, NULL, NULL, NULL, NULL), 401);
}

static void test_failures_delay_then_lock(void **state) {
  (void)state;
  who c = {0};
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0 WHERE name = 'carol'");
  assert_int_equal(sign_in("carol", "wrong password 1", &c), 401);
  assert_int_equal(sign_in("carol", "wrong password 2", &c), 401);
  assert_int_equal(sign_in("carol", "wrong password 3", &c), 401); /* the third starts the delays */
  tu_http_resp r;
  assert_int_equal(call("POST", "/v1/session", NULL, NULL, "{\"name\":\"carol\",\"password\":\"correct horse battery\"}",
                        NULL, &r), 429);
  char ra[16];
  assert_non_null(tu_http_header(&r, "Retry-After", ra, sizeof ra));
  assert_true(atoi(ra) >= 1);
  tu_http_free(&r);
  sleep(2);
  assert_int_equal(sign_in("carol", PW, &c), 201); /* the right password clears the count */
  /* the tenth failure in a row locks, even for the right password */
  sql("UPDATE server_users SET failures = 9, next_try_ms = 0 WHERE name = 'carol'");
  assert_int_equal(sign_in("carol", "wrong password 4", &c), 403);
  assert_int_equal(sign_in("carol", PW, &c), 403);
  vigil_error e;
  assert_int_equal(vigil_user_unlock(vigil_server_get_store(fx.srv), "carol", &e), 0);
  assert_int_equal(sign_in("carol", PW, &c), 201);
  assert_int_equal(vigil_user_unlock(vigil_server_get_store(fx.srv), "nobody", &e), VIGIL_ENOTFOUND);
}

static void test_csrf_and_signout(void **state) {
  (void)state;
  who a = {0};
  assert_int_equal(sign_in("alice", PW, &a), 201);
  json_t *o = NULL;
  /* a case to act on */
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/cases", fx.submitter, "{\"content_id\":\"csrf-1\"}", &o), 201);
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)json_integer_value(json_object_get(o, "id")));
  json_decref(o);
  const char *dec = "{\"decision\":\"dismiss\"}";
  assert_int_equal(call("POST", path, &a, NULL, dec, NULL, NULL), 403);
  char bad[80];
  memset(bad, '0', 64);
  bad[64] = 0;
  assert_int_equal(call("POST", path, &a, bad, dec, NULL, NULL), 403);
  assert_int_equal(call("POST", path, &a, "short", dec, NULL, NULL), 403);
  char k[80], act[64];
  int st;
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(k, "user:alice");
  assert_int_equal(st, 403);
  /* refused: still open */
  assert_int_equal(call("POST", path, &a, a.csrf, dec, NULL, NULL), 200);
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(k, "user:alice");
  assert_string_equal(act, "cases.decide");
  /* the case names the person who decided it */
  path[strlen(path) - strlen("/decision")] = 0;
  assert_int_equal(call("GET", path, &a, NULL, NULL, &o, NULL), 200);
  assert_string_equal(json_string_value(json_object_get(o, "decided_by")), "user:alice");
  json_decref(o);
  /* sign-out needs the token too, then ends the session on the server */
  assert_int_equal(call("DELETE", "/v1/session", &a, NULL, NULL, NULL, NULL), 403);
  assert_int_equal(call("DELETE", "/v1/session", &a, a.csrf, NULL, NULL, NULL), 200);
  assert_int_equal(call("GET", "/v1/cases", &a, NULL, NULL, NULL, NULL), 401);
  /* an API key has no session to end */
  assert_int_equal(tu_json_call(fx.port, "DELETE", "/v1/session", fx.reviewer, NULL, NULL), 404);
}

static void test_timeouts(void **state) {
  (void)state;
  tu_fix_stop(&fx);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.session_idle_s = 2;
  cfg.session_max_s = 4;
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  who a = {0}, b = {0};
  assert_int_equal(sign_in("alice", PW, &a), 201);
  assert_int_equal(sign_in("bob", PW, &b), 201);
  /* a is kept busy, b idles */
  for (int i = 0; i < 2; i++) {
    usleep(1200 * 1000);
    assert_int_equal(call("GET", "/v1/cases", &a, NULL, NULL, NULL, NULL), 200);
  }
  usleep(400 * 1000);
  tu_http_resp r;
  assert_int_equal(call("GET", "/v1/cases", &b, NULL, NULL, NULL, &r), 401); /* idle > 2 s */
  char c[256];
  assert_non_null(tu_http_header(&r, "Set-Cookie", c, sizeof c));
  assert_non_null(strstr(c, "Max-Age=0"));
  tu_http_free(&r);
  usleep(1600 * 1000);
  assert_int_equal(call("GET", "/v1/cases", &a, NULL, NULL, NULL, NULL), 401); /* older than 4 s */
  /* disabling an account ends its sessions at once */
  assert_int_equal(sign_in("bob", PW, &b), 201);
  vigil_error e;
  assert_int_equal(vigil_user_disable(vigil_server_get_store(fx.srv), "bob", &e), 0);
  assert_int_equal(call("GET", "/v1/cases", &b, NULL, NULL, NULL, NULL), 401);
  assert_int_equal(sign_in("bob", PW, &b), 403);
  tu_fix_stop(&fx);
  assert_int_equal(tu_fix_start(&fx, NULL), 0);
}

/* Single sign-on: the header is taken from a listed proxy only, names an
 * account that must exist and be enabled, and is audited as such. */
static void test_sso_header(void **state) {
  (void)state;
  tu_fix_stop(&fx);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.sso_header = "X-Forwarded-User";
  cfg.sso_proxies = "10.9.9.9, 127.0.0.1";
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  tu_http_resp r;
  int fd = tu_http_connect(fx.port);
  assert_int_equal(tu_http_request(fd, "POST", "/v1/session", "Content-Type: application/json\r\nX-Forwarded-User: carol\r\n",
                                   "{}", 2, &r), 0);
  close(fd);
  assert_int_equal(r.status, 201);
  char c[512];
  assert_non_null(tu_http_header(&r, "Set-Cookie", c, sizeof c));
  assert_non_null(strstr(r.body, "\"user\":\"carol\""));
  tu_http_free(&r);
  char k[80], act[64];
  int st;
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(k, "user:carol");
  assert_string_equal(act, "session.create");
  /* an unknown account, and a name with a password still checks the password */
  fd = tu_http_connect(fx.port);
  assert_int_equal(tu_http_request(fd, "POST", "/v1/session", "Content-Type: application/json\r\nX-Forwarded-User: mallory\r\n",
                                   "{}", 2, &r), 0);
  close(fd);
  assert_int_equal(r.status, 401);
  tu_http_free(&r);
  who w = {0};
  assert_int_equal(sign_in("carol", "not her password", &w), 401);
  tu_fix_stop(&fx);
  /* from an address that is not a listed proxy the header means nothing */
  cfg.sso_proxies = "10.9.9.9";
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  fd = tu_http_connect(fx.port);
  assert_int_equal(tu_http_request(fd, "POST", "/v1/session", "Content-Type: application/json\r\nX-Forwarded-User: carol\r\n",
                                   "{}", 2, &r), 0);
  close(fd);
  assert_int_equal(r.status, 400);
  tu_http_free(&r);
  tu_fix_stop(&fx);
  tu_fix_config(&fx, &cfg);
  cfg.threads = 8;
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
}

static int64_t open_case(const char *content_id) {
  char body[128];
  snprintf(body, sizeof body, "{\"content_id\":\"%s\"}", content_id);
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/cases", fx.submitter, body, &o), 201);
  int64_t id = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  return id;
}

/* POST /v1/cases/next as w; the case id handed out, 0 for none. */
static int64_t next_case(const who *w) {
  json_t *o = NULL;
  assert_int_equal(call("POST", "/v1/cases/next", w, w->csrf, NULL, &o, NULL), 200);
  json_t *c = json_object_get(o, "case");
  int64_t id = json_is_object(c) ? json_integer_value(json_object_get(c, "id")) : 0;
  if (id) assert_non_null(json_string_value(json_object_get(o, "lease_expires_at")));
  json_decref(o);
  return id;
}

static void close_open_cases(void) { sql("UPDATE server_cases SET status = 'dismissed' WHERE status = 'open'"); }

static void test_leases(void **state) {
  (void)state;
  close_open_cases();
  who a = {0}, c = {0};
  assert_int_equal(sign_in("alice", PW, &a), 201);
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  assert_int_equal(sign_in("carol", PW, &c), 201);
  int64_t c1 = open_case("lease-1"), c2 = open_case("lease-2"), c3 = open_case("lease-3");
  assert_int_equal(next_case(&a), c1);
  assert_int_equal(next_case(&a), c1); /* the same while held: a reload */
  assert_int_equal(next_case(&c), c2);
  char p[64];
  /* only the holder renews or skips */
  snprintf(p, sizeof p, "/v1/cases/%lld/lease", (long long)c1);
  assert_int_equal(call("POST", p, &a, a.csrf, NULL, NULL, NULL), 200);
  assert_int_equal(call("POST", p, &c, c.csrf, NULL, NULL, NULL), 409);
  snprintf(p, sizeof p, "/v1/cases/%lld/skip", (long long)c1);
  assert_int_equal(call("POST", p, &c, c.csrf, NULL, NULL, NULL), 409);
  assert_int_equal(call("POST", p, &a, a.csrf, NULL, NULL, NULL), 200);
  /* the one who skipped gets the others first; the skipped case is free */
  assert_int_equal(next_case(&a), c3);
  snprintf(p, sizeof p, "/v1/cases/%lld/skip", (long long)c2);
  assert_int_equal(call("POST", p, &c, c.csrf, NULL, NULL, NULL), 200);
  assert_int_equal(next_case(&c), c1);
  /* a lease that ran out frees the case for someone else */
  char s[128];
  snprintf(s, sizeof s, "UPDATE server_case_claims SET until_at = 1 WHERE case_id = %lld", (long long)c3);
  sql(s);
  snprintf(p, sizeof p, "/v1/cases/%lld/lease", (long long)c3);
  assert_int_equal(call("POST", p, &a, a.csrf, NULL, NULL, NULL), 409);
  char act[64], k[80];
  int st;
  /* API keys take leases as themselves */
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/cases/next", fx.reviewer, NULL, &o), 200);
  assert_true(json_integer_value(json_object_get(json_object_get(o, "case"), "id")) == c2 ||
              json_integer_value(json_object_get(json_object_get(o, "case"), "id")) == c3);
  json_decref(o);
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(act, "cases.next");
  /* unblur is on record under the person */
  snprintf(p, sizeof p, "/v1/cases/%lld/unblur", (long long)c1);
  assert_int_equal(call("POST", p, &c, c.csrf, NULL, NULL, NULL), 200);
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(k, "user:carol");
  assert_string_equal(act, "cases.unblur");
}

static json_t *get_case(int64_t id) {
  char p[64];
  snprintf(p, sizeof p, "/v1/cases/%lld", (long long)id);
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "GET", p, fx.admin, NULL, &o), 200);
  return o;
}

static int64_t post_case(const char *json) {
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/cases", fx.submitter, json, &o), 201);
  int64_t id = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  return id;
}

#define SHA_A "\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
static int64_t same_ids[8];
static void *same_upload(void *arg) {
  int i = (int)(intptr_t)arg;
  json_t *o = NULL;
  if (tu_json_call(fx.port, "POST", "/v1/cases", fx.submitter, "{" SHA_A ",\"uploader_id\":\"burst\"}", &o) == 201)
    same_ids[i] = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  return NULL;
}

/* One case per piece of content (the default): repeats add sightings with
 * their uploaders; a decided case is not joined; the strongest key decides;
 * separate_sightings opens a case per upload. */
static void test_sightings(void **state) {
  (void)state;
  close_open_cases();
  tu_fix_stop(&fx);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.threads = 8;
  cfg.separate_sightings = 1;
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  /* separate: two cases, one sighting each */
  int64_t x = post_case("{" SHA_A ",\"uploader_id\":\"u1\"}"), y = post_case("{" SHA_A ",\"uploader_id\":\"u2\"}");
  assert_true(x != y);
  json_t *c = get_case(x);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "sightings"), "count")), 1);
  json_decref(c);
  close_open_cases();
  tu_fix_stop(&fx);
  tu_fix_config(&fx, &cfg);
  cfg.threads = 8;
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  /* the answer says a repeat is a sighting, with the case's own status */
  json_t *ans = NULL;
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/cases", fx.submitter, "{\"content_id\":\"esc-1\"}", &ans), 201);
  assert_true(json_is_false(json_object_get(ans, "sighting")));
  int64_t esc = json_integer_value(json_object_get(ans, "id"));
  json_decref(ans);
  char ep[64];
  snprintf(ep, sizeof ep, "/v1/cases/%lld/decision", (long long)esc);
  assert_int_equal(tu_json_call(fx.port, "POST", ep, fx.reviewer, "{\"decision\":\"escalate\"}", NULL), 200);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/cases", fx.submitter, "{\"content_id\":\"esc-1\"}", &ans), 201);
  assert_int_equal(json_integer_value(json_object_get(ans, "id")), esc);
  assert_true(json_is_true(json_object_get(ans, "sighting")));
  assert_string_equal(json_string_value(json_object_get(ans, "status")), "escalated");
  json_decref(ans);
  sql("UPDATE server_cases SET status = 'dismissed' WHERE status = 'escalated'"); /* out of the later tests' way */
  int64_t a = post_case("{" SHA_A ",\"uploader_id\":\"u1\",\"content_id\":\"p1\"}");
  assert_int_equal(post_case("{" SHA_A ",\"uploader_id\":\"u2\",\"content_id\":\"p2\"}"), a);
  assert_int_equal(post_case("{" SHA_A ",\"uploader_id\":\"u1\",\"content_id\":\"p3\"}"), a);
  c = get_case(a);
  json_t *s = json_object_get(c, "sightings");
  assert_int_equal(json_integer_value(json_object_get(s, "count")), 3);
  assert_non_null(json_string_value(json_object_get(s, "first_seen")));
  assert_non_null(json_string_value(json_object_get(s, "last_seen")));
  json_t *ups = json_object_get(s, "uploaders");
  assert_int_equal(json_array_size(ups), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(ups, 0), "uploader_id")), "u1");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(ups, 0), "count")), 2);
  json_decref(c);
  /* content ids group reports without hashes; a hash is a stronger key */
  int64_t r1 = post_case("{\"content_id\":\"r-1\",\"uploader_id\":\"u3\"}");
  assert_int_equal(post_case("{\"content_id\":\"r-1\",\"uploader_id\":\"u4\"}"), r1);
  int64_t r2 = post_case("{\"content_id\":\"r-1\",\"md5\":\"00112233445566778899aabbccddeeff\"}");
  assert_true(r2 != r1 && r2 != a);
  /* a decided case is not joined: the same content again is a new case */
  char p[64];
  snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)a);
  assert_int_equal(tu_json_call(fx.port, "POST", p, fx.reviewer, "{\"decision\":\"dismiss\"}", NULL), 200);
  int64_t b = post_case("{" SHA_A ",\"uploader_id\":\"u9\"}");
  assert_true(b != a);
  /* the new case shows the earlier decision on the same content */
  c = get_case(b);
  json_t *rel = json_object_get(c, "related");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(rel, 0), "id")), a);
  assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "same")), "content");
  assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "status")), "dismissed");
  json_decref(c);
  /* and a case of another content by an uploader seen before names it too */
  int64_t u = post_case("{\"content_id\":\"other\",\"uploader_id\":\"u1\"}");
  c = get_case(u);
  rel = json_object_get(c, "related");
  assert_true(json_array_size(rel) >= 2); /* a (decided) and x (closed earlier) were both u1's */
  for (size_t i = 0; i < json_array_size(rel); i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, i), "same")), "uploader");
  json_decref(c);
  /* a repeat that matched another bank entry adds it to the case, which is
   * ranked and labelled again from all its matches */
#define SHA_M "\"sha256\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""
  int64_t m = post_case("{" SHA_M ",\"detail\":{\"matches\":[{\"bank\":\"bx\",\"id\":1,\"tags\":[\"B2\"]}]}}");
  assert_int_equal(
      post_case("{" SHA_M ",\"detail\":{\"matches\":[{\"bank\":\"bx\",\"id\":1,\"tags\":[\"B2\"]},"
                "{\"bank\":\"by\",\"id\":2,\"tags\":[\"A1\"]}],\"evidence\":{\"sha256\":\"bb\",\"bytes\":3}}}"),
      m);
  c = get_case(m);
  json_t *dd = json_object_get(c, "detail");
  assert_int_equal(json_array_size(json_object_get(dd, "matches")), 2); /* bx:1 once */
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(dd, "matches"), 1), "bank")),
                      "by");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(dd, "evidence"), "bytes")), 3);
  json_decref(c);
  json_t *lst = NULL;
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/cases?tag=A1&bank=by", fx.reviewer, NULL, &lst), 200);
  json_t *cs = json_object_get(lst, "cases");
  assert_int_equal(json_array_size(cs), 1);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(cs, 0), "id")), m);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(cs, 0), "severity")), 1);
  json_decref(lst);
  /* the same upload eight times at once: one case */
  pthread_t t[8];
  for (int i = 0; i < 8; i++) assert_int_equal(pthread_create(&t[i], NULL, same_upload, (void *)(intptr_t)i), 0);
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 8; i++) assert_int_equal(same_ids[i], b);
  c = get_case(b);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "sightings"), "count")), 9);
  json_decref(c);
  close_open_cases();
}

/* The queue hands out the most severe label first (A1 .. B2), then the oldest. */
static void test_severity_order(void **state) {
  (void)state;
  close_open_cases();
  who a = {0};
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  assert_int_equal(sign_in("alice", PW, &a), 201);
  int64_t plain = post_case("{\"content_id\":\"sev-0\"}");
  int64_t b2 = post_case("{\"content_id\":\"sev-1\",\"detail\":{\"matches\":[{\"bank\":\"x\",\"tags\":[\"b2\"]}]}}");
  int64_t a1 = post_case("{\"content_id\":\"sev-2\",\"detail\":{\"matches\":[{\"bank\":\"x\",\"tags\":[\"t\"]},"
                         "{\"bank\":\"y\",\"tags\":[\"B1\",\"A1\"]}]}}");
  int64_t want[] = {a1, b2, plain};
  for (int i = 0; i < 3; i++) {
    int64_t id = next_case(&a);
    assert_int_equal(id, want[i]);
    char p[64];
    snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)id);
    assert_int_equal(call("POST", p, &a, a.csrf, "{\"decision\":\"dismiss\"}", NULL, NULL), 200);
  }
  assert_int_equal(next_case(&a), 0);
}


/* A signed-in session of name, reused while the service still knows it:
 * each sign-in is a deliberately slow Argon2id check, many times slower
 * under the sanitizers. */
static void session_of(const char *name, who *w) {
  static struct {
    char name[32];
    who w;
  } cache[8];
  for (int i = 0; i < 8; i++) {
    if (strcmp(cache[i].name, name) != 0) continue;
    if (call("GET", "/v1/session", &cache[i].w, NULL, NULL, NULL, NULL) == 200) {
      *w = cache[i].w;
      return;
    }
    cache[i].name[0] = 0;
  }
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  assert_int_equal(sign_in(name, PW, w), 201);
  for (int i = 0; i < 8; i++)
    if (!cache[i].name[0]) {
      snprintf(cache[i].name, sizeof cache[i].name, "%s", name);
      cache[i].w = *w;
      return;
    }
}

/* GET path as w; the ids of the cases listed into ids (at most 16), their count. */
static int list_ids(const who *w, const char *path, int64_t *ids) {
  json_t *o = NULL;
  assert_int_equal(call("GET", path, w, NULL, NULL, &o, NULL), 200);
  json_t *arr = json_object_get(o, "cases");
  int n = (int)json_array_size(arr);
  assert_true(n <= 16);
  for (int i = 0; i < n; i++) {
    json_t *c = json_array_get(arr, i);
    ids[i] = json_integer_value(json_object_get(c, "id"));
    assert_true(json_is_boolean(json_object_get(c, "child_abuse")));
    assert_true(json_is_integer(json_object_get(c, "severity")));
  }
  json_decref(o);
  return n;
}

/* Filters by bank, tag, status and assignee; the child-safety queue is
 * seen, taken and opened only with the permission: labels A1..B2 and
 * csam, a bank flagged child_abuse, or a classification in those. */
static void test_queue_filters(void **state) {
  (void)state;
  close_open_cases();
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  who a = {0}, b = {0};
  session_of("alice", &a); /* child-safety */
  session_of("bob", &b);   /* not */
  assert_int_equal(
      tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"cbank\",\"child_abuse\":true}", NULL), 201);
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/banks/cbank", fx.admin, NULL, &o), 200);
  assert_true(json_is_true(json_object_get(o, "child_abuse")));
  json_decref(o);
  int64_t g = post_case("{\"content_id\":\"q-g\",\"detail\":{\"matches\":[{\"bank\":\"spam\",\"tags\":[\"ncii\"]}]}}");
  int64_t c1 = post_case("{\"content_id\":\"q-c1\",\"detail\":{\"matches\":[{\"bank\":\"x\",\"tags\":[\"A2\"]}]}}");
  int64_t c2 =
      post_case("{\"content_id\":\"q-c2\",\"detail\":{\"matches\":[{\"bank\":\"cbank\",\"tags\":[\"other\"]}]}}");
  int64_t ids[16];
  /* bob sees and gets only the general case */
  assert_int_equal(list_ids(&b, "/v1/cases", ids), 1);
  assert_int_equal(ids[0], g);
  assert_int_equal(call("GET", "/v1/cases?queue=child", &b, NULL, NULL, NULL, NULL), 403);
  char p[96];
  snprintf(p, sizeof p, "/v1/cases/%lld", (long long)c1);
  assert_int_equal(call("GET", p, &b, NULL, NULL, NULL, NULL), 403);
  assert_int_equal(call("GET", p, &a, NULL, NULL, NULL, NULL), 200);
  snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)c2);
  assert_int_equal(call("POST", p, &b, b.csrf, "{\"decision\":\"dismiss\"}", NULL, NULL), 403);
  snprintf(p, sizeof p, "/v1/cases/%lld/evidence", (long long)c2);
  assert_int_equal(call("GET", p, &b, NULL, NULL, NULL, NULL), 403);
  snprintf(p, sizeof p, "/v1/cases/%lld/reports", (long long)c2);
  assert_int_equal(call("GET", p, &b, NULL, NULL, NULL, NULL), 403);
  snprintf(p, sizeof p, "/v1/cases/%lld/report", (long long)c2);
  assert_int_equal(call("POST", p, &b, b.csrf, "{}", NULL, NULL), 403);
  snprintf(p, sizeof p, "/v1/cases/%lld/lease", (long long)c2);
  assert_int_equal(call("POST", p, &b, b.csrf, NULL, NULL, NULL), 403);
  assert_int_equal(next_case(&b), g);
  /* alice: every filter */
  assert_int_equal(list_ids(&a, "/v1/cases", ids), 3);
  assert_int_equal(list_ids(&a, "/v1/cases?bank=cbank", ids), 1);
  assert_int_equal(ids[0], c2);
  assert_int_equal(list_ids(&a, "/v1/cases?tag=a2", ids), 1);
  assert_int_equal(ids[0], c1);
  assert_int_equal(list_ids(&a, "/v1/cases?tag=%27%20OR%201=1%20--", ids), 0);
  assert_int_equal(list_ids(&a, "/v1/cases?queue=child", ids), 2);
  assert_int_equal(list_ids(&a, "/v1/cases?queue=general", ids), 1);
  assert_int_equal(ids[0], g);
  assert_int_equal(list_ids(&a, "/v1/cases?assignee=user:bob", ids), 1);
  assert_int_equal(ids[0], g);
  assert_int_equal(list_ids(&a, "/v1/cases?assignee=none", ids), 2);
  assert_int_equal(call("GET", "/v1/cases?queue=mine", &a, NULL, NULL, NULL, NULL), 400);
  assert_int_equal(call("GET", "/v1/cases?bank=", &a, NULL, NULL, NULL, NULL), 400);
  /* the next case within one bank */
  assert_int_equal(call("POST", "/v1/cases/next?bank=cbank", &a, a.csrf, NULL, &o, NULL), 200);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "case"), "id")), c2);
  json_decref(o);
  assert_int_equal(list_ids(&a, "/v1/cases?assignee=me", ids), 1);
  assert_int_equal(ids[0], c2);
  assert_int_equal(call("GET", "/v1/cases?status=open&assignee=user:alice", &a, NULL, NULL, &o, NULL), 200);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(o, "cases"), 0), "assignee")),
                      "user:alice");
  json_decref(o);
  snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)c2);
  assert_int_equal(call("POST", p, &a, a.csrf, "{\"decision\":\"dismiss\"}", NULL, NULL), 200);
  assert_int_equal(list_ids(&a, "/v1/cases?status=dismissed&bank=cbank&assignee=user:alice", ids), 1);
  assert_int_equal(ids[0], c2);
  /* unflagging the bank takes its cases out of the child-safety queue */
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/cbank", fx.admin, "{\"child_abuse\":false}", NULL), 200);
  snprintf(p, sizeof p, "/v1/cases/%lld", (long long)c2);
  assert_int_equal(call("GET", p, &b, NULL, NULL, NULL, NULL), 200);
  /* a case escalated as A1 moves into it, out of bob's sight */
  snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)g);
  assert_int_equal(call("POST", p, &b, b.csrf, "{\"decision\":\"escalate\",\"classification\":\"A1\"}", NULL, NULL),
                   200);
  snprintf(p, sizeof p, "/v1/cases/%lld", (long long)g);
  assert_int_equal(call("GET", p, &b, NULL, NULL, NULL, NULL), 403);
  assert_int_equal(list_ids(&b, "/v1/cases?status=all&assignee=user:bob", ids), 0);
  assert_int_equal(next_case(&b), 0);
  /* keys are programs an admin set up: they see every queue */
  assert_int_equal(tu_json_call(fx.port, "GET", p, fx.reviewer, NULL, NULL), 200);
  close_open_cases();
}


/* Display settings: built-in default, organisation default (admin only),
 * a person's own over it, reset; out-of-range values refused. */
static void test_display_settings(void **state) {
  (void)state;
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  who a = {0}, b = {0};
  session_of("alice", &a);
  session_of("bob", &b);
  json_t *o = NULL;
  assert_int_equal(call("GET", "/v1/settings/display", &a, NULL, NULL, &o, NULL), 200);
  json_t *eff = json_object_get(o, "effective");
  assert_int_equal(json_integer_value(json_object_get(eff, "blur")), 28);
  assert_true(json_is_true(json_object_get(eff, "greyscale")));
  assert_true(json_is_true(json_object_get(eff, "video_muted")));
  assert_true(json_is_true(json_object_get(eff, "video_paused")));
  assert_true(json_is_null(json_object_get(o, "mine")));
  json_decref(o);
  /* the organisation's default: admins only */
  assert_int_equal(call("POST", "/v1/settings/display/organisation", &a, a.csrf, "{\"blur\":40}", NULL, NULL), 403);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/settings/display/organisation", fx.admin,
                                "{\"blur\":40,\"video_muted\":false}", NULL),
                   200);
  /* alice's own: greyscale off, the rest from the organisation */
  assert_int_equal(call("POST", "/v1/settings/display", &a, a.csrf, "{\"greyscale\":false}", &o, NULL), 200);
  eff = json_object_get(o, "effective");
  assert_int_equal(json_integer_value(json_object_get(eff, "blur")), 40);
  assert_true(json_is_false(json_object_get(eff, "greyscale")));
  assert_true(json_is_false(json_object_get(eff, "video_muted")));
  json_decref(o);
  /* bob follows the organisation */
  assert_int_equal(call("GET", "/v1/settings/display", &b, NULL, NULL, &o, NULL), 200);
  eff = json_object_get(o, "effective");
  assert_int_equal(json_integer_value(json_object_get(eff, "blur")), 40);
  assert_true(json_is_true(json_object_get(eff, "greyscale")));
  json_decref(o);
  /* never clear without the audited unblur; never a typo */
  assert_int_equal(call("POST", "/v1/settings/display", &a, a.csrf, "{\"blur\":0}", NULL, NULL), 400);
  assert_int_equal(call("POST", "/v1/settings/display", &a, a.csrf, "{\"blur\":65}", NULL, NULL), 400);
  assert_int_equal(call("POST", "/v1/settings/display", &a, a.csrf, "{\"blur\":\"9\"}", NULL, NULL), 400);
  assert_int_equal(call("POST", "/v1/settings/display", &a, a.csrf, "{\"blurr\":9}", NULL, NULL), 400);
  assert_int_equal(call("POST", "/v1/settings/display", &a, NULL, "{\"blur\":9}", NULL, NULL), 403); /* CSRF */
  char k[80], act[64];
  int st;
  assert_int_equal(call("POST", "/v1/settings/display", &a, a.csrf, "{\"reset\":true}", &o, NULL), 200);
  assert_true(json_is_null(json_object_get(o, "mine")));
  assert_true(json_is_true(json_object_get(json_object_get(o, "effective"), "greyscale")));
  json_decref(o);
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(k, "user:alice");
  assert_string_equal(act, "display.set");
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/settings/display/organisation", fx.admin,
                                "{\"blur\":28,\"video_muted\":true}", NULL),
                   200);
}

/* The admin pages' calls: a person's role, permission, enabled state; the
 * audit log as CSV (admin only, audited, formulas defused); the dashboard. */
static void test_admin_calls(void **state) {
  (void)state;
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  make_user("dave", "reviewer", 0);
  who d = {0};
  assert_int_equal(sign_in("dave", PW, &d), 201);
  json_t *o = NULL;
  assert_int_equal(call("GET", "/v1/session", &d, NULL, NULL, &o, NULL), 200);
  assert_true(json_is_false(json_object_get(o, "child_safety")));
  json_decref(o);
  assert_int_equal(call("POST", "/v1/users/dave", &d, d.csrf, "{\"child_safety\":true}", NULL, NULL), 403);
  assert_int_equal(
      tu_json_call(fx.port, "POST", "/v1/users/dave", fx.admin, "{\"child_safety\":true,\"role\":\"auditor\"}", &o),
      200);
  assert_string_equal(json_string_value(json_object_get(o, "role")), "auditor");
  json_decref(o);
  /* the open session has the new role and permission at once */
  assert_int_equal(call("GET", "/v1/session", &d, NULL, NULL, &o, NULL), 200);
  assert_true(json_is_true(json_object_get(o, "child_safety")));
  assert_string_equal(json_string_value(json_object_get(o, "role")), "auditor");
  json_decref(o);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/users/dave", fx.admin, "{\"role\":\"king\"}", NULL), 400);
  /* an admin person cannot demote themselves (and lock everyone out) */
  make_user("root", "admin", 0);
  who rt = {0};
  assert_int_equal(sign_in("root", PW, &rt), 201);
  assert_int_equal(call("POST", "/v1/users/root", &rt, rt.csrf, "{\"role\":\"reviewer\"}", NULL, NULL), 409);
  assert_int_equal(call("POST", "/v1/users/root", &rt, rt.csrf, "{\"enabled\":false}", NULL, NULL), 409);
  assert_int_equal(call("POST", "/v1/users/dave", &rt, rt.csrf, "{\"role\":\"auditor\"}", NULL, NULL), 200);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/users/nobody", fx.admin, "{\"enabled\":true}", NULL), 404);
  /* disabling ends the session; enabling lets dave sign in again */
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/users/dave", fx.admin, "{\"enabled\":false}", &o), 200);
  assert_true(json_is_true(json_object_get(o, "disabled")));
  json_decref(o);
  assert_int_equal(call("GET", "/v1/session", &d, NULL, NULL, NULL, NULL), 401);
  assert_int_equal(sign_in("dave", PW, &d), 403);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/users/dave", fx.admin, "{\"enabled\":true}", NULL), 200);
  assert_int_equal(sign_in("dave", PW, &d), 201);
  /* a hostile target lands in the log; the CSV defuses it */
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"-cmd\"}", NULL), 201);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/-cmd", fx.admin, "{\"enabled\":true}", NULL), 200);
  assert_int_equal(call("GET", "/v1/audit/export", &d, NULL, NULL, NULL, NULL), 403); /* auditor: not a copy */
  tu_http_resp r;
  int fd = tu_http_connect(fx.port);
  char hdr[256];
  snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", fx.admin);
  assert_int_equal(tu_http_request(fd, "GET", "/v1/audit/export?action=banks.update", hdr, NULL, 0, &r), 0);
  close(fd);
  assert_int_equal(r.status, 200);
  char ct[128];
  assert_non_null(tu_http_header(&r, "Content-Type", ct, sizeof ct));
  assert_non_null(strstr(ct, "text/csv"));
  assert_true(r.body_len > 0 && !strncmp(r.body, "\"id\",\"at\",\"key_id\"", 18));
  assert_non_null(strstr(r.body, ",\"'-cmd\","));               /* a formula defused */
  assert_non_null(strstr(r.body, "\"\"bank\"\":\"\"-cmd\"\"")); /* quotes doubled */
  assert_null(strstr(r.body, ",\"="));                          /* no field starts a formula */
  assert_null(strstr(r.body, "session.create"));                /* the filter held */
  tu_http_free(&r);
  char k[80], act[64];
  int st;
  last_audit(k, sizeof k, act, sizeof act, &st);
  assert_string_equal(act, "audit.export");
  /* the dashboard: bob sees his own queue's figures, alice both */
  close_open_cases();
  post_case("{\"content_id\":\"st-1\",\"detail\":{\"matches\":[{\"bank\":\"x\",\"tags\":[\"A1\"]}]}}");
  post_case("{\"content_id\":\"st-2\"}");
  who a = {0}, b = {0};
  session_of("alice", &a);
  session_of("bob", &b);
  assert_int_equal(call("GET", "/v1/cases/stats", &a, NULL, NULL, &o, NULL), 200);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "open_by_severity"), "A1")), 1);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "open_by_severity"), "none")), 1);
  assert_int_equal(json_integer_value(json_object_get(o, "open_child_safety")), 1);
  assert_true(json_integer_value(json_object_get(o, "decisions_today")) > 0);
  json_t *days = json_object_get(o, "decisions_by_day");
  assert_true(json_array_size(days) >= 1);
  json_t *last = json_array_get(days, json_array_size(days) - 1);
  assert_int_equal(strlen(json_string_value(json_object_get(last, "day"))), 10);
  assert_int_equal(json_integer_value(json_object_get(last, "count")),
                   json_integer_value(json_object_get(o, "decisions_today")));
  assert_non_null(json_string_value(json_object_get(o, "oldest_open_at")));
  json_decref(o);
  assert_int_equal(call("GET", "/v1/cases/stats", &b, NULL, NULL, &o, NULL), 200);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "open_by_severity"), "A1")), 0);
  assert_null(json_object_get(o, "open_child_safety"));
  json_decref(o);
  close_open_cases();
}


/* Dismissing as a false positive disputes the matched entries, in the
 * dismissal's transaction; the bank shows the count and the list, and its
 * JSON Lines export marks the entry disputed. */
static void test_disputes(void **state) {
  (void)state;
  close_open_cases();
  sql("UPDATE server_users SET failures = 0, next_try_ms = 0, disabled_at = 0");
  who b = {0};
  session_of("bob", &b);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"dbank\"}", NULL), 201);
  /* two entries; the case matched the first */
  json_t *en = NULL;
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/dbank/entries", fx.admin,
                                "{\"signal_type\":\"md5\",\"value\":\"00112233445566778899aabbccddeeff\"}", &en),
                   201);
  json_int_t eid = json_integer_value(json_object_get(en, "id"));
  json_decref(en);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/dbank/entries", fx.admin,
                                "{\"signal_type\":\"md5\",\"value\":\"ffeeddccbbaa99887766554433221100\"}", NULL),
                   201);
  char detail[400];
  snprintf(detail, sizeof detail,
           "{\"content_id\":\"dis-1\",\"detail\":{\"matches\":[{\"id\":%lld,\"bank\":\"dbank\",\"signal_type\":"
           "\"md5\",\"value\":\"00112233445566778899aabbccddeeff\",\"tags\":[\"spam\"]}]}}",
           (long long)eid);
  int64_t d = post_case(detail);
  int64_t none = post_case("{\"content_id\":\"dis-2\"}");
  char p[96];
  snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)d);
  assert_int_equal(
      call("POST", p, &b, b.csrf, "{\"decision\":\"confirm\",\"classification\":\"C\",\"dispute\":true}", NULL, NULL),
      400);
  /* a case that matched nothing cannot dispute anything: nothing changes */
  snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)none);
  assert_int_equal(call("POST", p, &b, b.csrf, "{\"decision\":\"dismiss\",\"dispute\":true}", NULL, NULL), 400);
  json_t *c = get_case(none);
  assert_string_equal(json_string_value(json_object_get(c, "status")), "open");
  json_decref(c);
  snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)d);
  assert_int_equal(
      call("POST", p, &b, b.csrf, "{\"decision\":\"dismiss\",\"dispute\":true,\"note\":\"a logo\"}", NULL, NULL), 200);
  json_t *o = NULL;
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/banks/dbank/disputes", fx.reviewer, NULL, &o), 200);
  json_t *x = json_array_get(json_object_get(o, "disputes"), 0);
  assert_int_equal(json_array_size(json_object_get(o, "disputes")), 1);
  assert_int_equal(json_integer_value(json_object_get(x, "entry_id")), eid);
  assert_int_equal(json_integer_value(json_object_get(x, "case_id")), d);
  assert_string_equal(json_string_value(json_object_get(x, "disputed_by")), "user:bob");
  assert_string_equal(json_string_value(json_object_get(x, "note")), "a logo");
  assert_string_equal(json_string_value(json_object_get(x, "value")), "00112233445566778899aabbccddeeff");
  json_decref(o);
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/banks/dbank", fx.admin, NULL, &o), 200);
  assert_int_equal(json_integer_value(json_object_get(o, "disputed")), 1);
  json_decref(o);
  /* the bank's JSON Lines export marks the disputed entry, and only it; CSV keeps its columns */
  tu_http_resp r;
  assert_int_equal(tu_http(fx.port, "GET", "/v1/banks/dbank/export?format=jsonl", fx.admin, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  int yes = 0, no = 0;
  for (char *line = strtok(r.body, "\n"); line; line = strtok(NULL, "\n")) {
    json_t *j = json_loads(line, 0, NULL);
    assert_non_null(j);
    int mine = json_integer_value(json_object_get(j, "id")) == eid;
    assert_true(json_is_boolean(json_object_get(j, "disputed")));
    assert_int_equal(json_is_true(json_object_get(j, "disputed")), mine);
    yes += mine;
    no += !mine;
    json_decref(j);
  }
  assert_int_equal(yes, 1);
  assert_int_equal(no, 1);
  tu_http_free(&r);
  assert_int_equal(tu_http(fx.port, "GET", "/v1/banks/dbank/export?format=csv", fx.admin, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, "disputed"));
  tu_http_free(&r);
  close_open_cases();
}


/* Video evidence is served with a video type, so the console plays it
 * veiled, muted and paused per the display settings; anything unknown
 * stays application/octet-stream, which the console does not show. */
static void test_media_types(void **state) {
  (void)state;
  static const uint8_t mp4[] = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
  /* an EBML header whose DocType says webm; without one it is Matroska */
  static const uint8_t webm[] = {0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81,
                                 0x01, 0x42, 0x82, 0x84, 'w',  'e',  'b',  'm'};
  static const uint8_t mkv[] = {0x1a, 0x45, 0xdf, 0xa3, 0x9f};
  static const uint8_t junk[] = {'f', 't', 'y', 'p'};
  assert_string_equal(vigil__media_type(mp4, sizeof mp4), "video/mp4");
  assert_string_equal(vigil__media_type(webm, sizeof webm), "video/webm");
  assert_string_equal(vigil__media_type(mkv, sizeof mkv), "video/x-matroska");
  assert_string_equal(vigil__media_type(junk, sizeof junk), "application/octet-stream");
  assert_string_equal(vigil__media_type(mp4, 3), "application/octet-stream");
}

/* Many reviewers asking at once: every case goes to exactly one. */
#define NREV 16
#define NCASES 48
static char rev_keys[NREV][VIGIL_KEY_MAX];
static int64_t got[NREV][NCASES];
static int ngot[NREV];

static void *reviewer(void *arg) {
  int i = (int)(intptr_t)arg;
  for (;;) {
    json_t *o = NULL;
    if (tu_json_call(fx.port, "POST", "/v1/cases/next", rev_keys[i], NULL, &o) != 200) break;
    json_t *c = json_object_get(o, "case");
    int64_t id = json_is_object(c) ? json_integer_value(json_object_get(c, "id")) : 0;
    json_decref(o);
    if (!id || ngot[i] == NCASES) break;
    got[i][ngot[i]++] = id;
    char p[64];
    snprintf(p, sizeof p, "/v1/cases/%lld/decision", (long long)id);
    if (tu_json_call(fx.port, "POST", p, rev_keys[i], "{\"decision\":\"dismiss\"}", NULL) != 200) break;
  }
  return NULL;
}

static void test_next_concurrent(void **state) {
  (void)state;
  close_open_cases();
  vigil_error e;
  for (int i = 0; i < NREV; i++)
    assert_int_equal(vigil_key_create(vigil_server_get_store(fx.srv), VIGIL_ROLE_REVIEWER, "r", rev_keys[i], NULL, &e), 0);
  int64_t ids[NCASES];
  for (int i = 0; i < NCASES; i++) {
    char cid[32];
    snprintf(cid, sizeof cid, "conc-%d", i);
    ids[i] = open_case(cid);
  }
  pthread_t t[NREV];
  for (int i = 0; i < NREV; i++) assert_int_equal(pthread_create(&t[i], NULL, reviewer, (void *)(intptr_t)i), 0);
  for (int i = 0; i < NREV; i++) pthread_join(t[i], NULL);
  int seen[NCASES] = {0}, total = 0, busy = 0;
  for (int i = 0; i < NREV; i++) {
    busy += ngot[i] > 0;
    for (int j = 0; j < ngot[i]; j++) {
      int64_t id = got[i][j];
      assert_true(id >= ids[0] && id <= ids[NCASES - 1]);
      seen[id - ids[0]]++;
      total++;
    }
  }
  for (int i = 0; i < NCASES; i++) assert_int_equal(seen[i], 1); /* each exactly once */
  assert_int_equal(total, NCASES);
  printf("%d cases handed to %d of %d reviewers asking at once, none twice\n", total, busy, NREV);
}

int main(void) {
#ifdef CONSOLE_PG
  char uri[512];
  int pg = tu_pg_start(uri, sizeof uri);
  if (pg == 77) return 77;
  if (pg) return 1;
#endif
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signin_and_audit), cmocka_unit_test(test_signin_burst),
      cmocka_unit_test(test_users_api),        cmocka_unit_test(test_failures_delay_then_lock),
      cmocka_unit_test(test_csrf_and_signout), cmocka_unit_test(test_timeouts),
      cmocka_unit_test(test_sso_header),       cmocka_unit_test(test_leases),
      cmocka_unit_test(test_sightings),        cmocka_unit_test(test_severity_order),
      cmocka_unit_test(test_queue_filters),    cmocka_unit_test(test_display_settings),
      cmocka_unit_test(test_admin_calls),      cmocka_unit_test(test_disputes),
      cmocka_unit_test(test_media_types),      cmocka_unit_test(test_next_concurrent),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
