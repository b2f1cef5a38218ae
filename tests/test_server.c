/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server.c - vigil serve end to end, in-process: the real server on an
 * ephemeral loopback port, spoken to over sockets by tests/support/httpc.
 * Covers auth (401 vs 403, revoked keys), every endpoint, malformed and
 * mistyped JSON, oversized bodies (declared and streamed), bad image bytes,
 * unknown routes and methods, the audit trail, a case decision flow,
 * metrics and the request log.  State is a fresh database per run.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "vigil/media.h"
#include "vigil/server.h"

static tu_fix fx; /* the server, its database and a key per role */
static const char *dbpath;
static vigil_server *srv;
static int port;
static FILE *logf;
static const char *k_admin, *k_sub, *k_rev, *k_aud;
static vigil_key_info i_admin, i_sub, i_rev, i_aud;
static uint8_t *jpg;
static size_t jpg_len;

#define MAX_BODY 300000

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "server")) return -1;
  dbpath = fx.db;
  k_admin = fx.admin, k_sub = fx.submitter, k_rev = fx.reviewer, k_aud = fx.auditor;
  i_admin = fx.admin_info, i_sub = fx.submitter_info, i_rev = fx.reviewer_info, i_aud = fx.auditor_info;
  logf = tmpfile();
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.max_body = MAX_BODY;
  cfg.max_json = 4096;
  cfg.max_json_depth = 8;
  cfg.log = logf;
  if (tu_fix_start(&fx, &cfg)) return -1;
  srv = fx.srv;
  port = fx.port;
  jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &jpg_len);
  return jpg && jpg_len < MAX_BODY ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  int rc = tu_fix_end(&fx);
  if (logf) fclose(logf);
  free(jpg);
  return rc;
}

/* Request with a JSON body; returns the parsed response body (or NULL). */
static json_t *call(const char *method, const char *path, const char *key, const char *body, int *status) {
  json_t *j = NULL;
  *status = tu_json_call(port, method, path, key, body, &j);
  return j;
}

static void expect_error(json_t *j, const char *code) {
  assert_non_null(j);
  json_t *e = json_object_get(j, "error");
  assert_non_null(e);
  assert_string_equal(json_string_value(json_object_get(e, "code")), code);
  assert_true(json_string_length(json_object_get(e, "message")) > 0);
  json_decref(j);
}

static void test_healthz(void **state) {
  (void)state;
  int st;
  json_t *j = call("GET", "/healthz", NULL, NULL, &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
  json_decref(j);
}

static void test_auth(void **state) {
  (void)state;
  int st;
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/v1/keys", NULL, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 401);
  char v[128], v2[128];
  assert_non_null(tu_http_header(&r, "WWW-Authenticate", v, sizeof v));
  assert_non_null(tu_http_header(&r, "X-Request-Id", v, sizeof v));
  tu_http_free(&r);
  assert_int_equal(tu_http(port, "GET", "/v1/keys", NULL, NULL, NULL, 0, &r), 0);
  assert_non_null(tu_http_header(&r, "X-Request-Id", v2, sizeof v2));
  assert_string_not_equal(v, v2); /* one id per request */
  tu_http_free(&r);
  expect_error(call("GET", "/v1/cases", NULL, NULL, &st), "unauthenticated");
  assert_int_equal(st, 401);
  /* well-formed but unknown, malformed, and a real key with one digit changed */
  expect_error(call("GET", "/v1/cases", "vk_000000000000_0000000000000000000000000000000000000000000000000000000000000000",
                    NULL, &st), "invalid_key");
  assert_int_equal(st, 401);
  expect_error(call("GET", "/v1/cases", "hunter2", NULL, &st), "invalid_key");
  assert_int_equal(st, 401);
  char forged[VIGIL_KEY_MAX];
  strcpy(forged, k_rev);
  forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == '0' ? '1' : '0';
  expect_error(call("GET", "/v1/cases", forged, NULL, &st), "invalid_key");
  assert_int_equal(st, 401);
  /* Basic auth scheme is not a key */
  int fd = tu_http_connect(port);
  assert_true(fd >= 0);
  assert_int_equal(tu_http_request(fd, "GET", "/v1/cases", "Authorization: Basic YWxhZGRpbjpvcGVu\r\n", NULL, 0, &r), 0);
  assert_int_equal(r.status, 401);
  tu_http_free(&r);
  /* X-API-Key works as well as Bearer */
  char hdr[200];
  snprintf(hdr, sizeof hdr, "X-API-Key: %s\r\n", k_rev);
  assert_int_equal(tu_http_request(fd, "GET", "/v1/cases", hdr, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  tu_http_free(&r);
  close(fd);
  /* wrong role: 403 */
  expect_error(call("POST", "/v1/hash", k_rev, NULL, &st), "forbidden");
  assert_int_equal(st, 403);
  expect_error(call("GET", "/v1/keys", k_sub, NULL, &st), "forbidden");
  assert_int_equal(st, 403);
  expect_error(call("POST", "/v1/cases/1/decision", k_aud, "{\"decision\":\"dismiss\"}", &st), "forbidden");
  assert_int_equal(st, 403);
  expect_error(call("GET", "/v1/audit", k_rev, NULL, &st), "forbidden");
  assert_int_equal(st, 403);
  expect_error(call("GET", "/v1/cases", k_sub, NULL, &st), "forbidden");
  assert_int_equal(st, 403);
  /* admin may do everything */
  json_decref(call("GET", "/v1/audit", k_admin, NULL, &st));
  assert_int_equal(st, 200);
}

static void test_routes(void **state) {
  (void)state;
  int st;
  expect_error(call("GET", "/v1/nothing", k_admin, NULL, &st), "not_found");
  assert_int_equal(st, 404);
  expect_error(call("GET", "/healthz/", NULL, NULL, &st), "not_found");
  assert_int_equal(st, 404);
  expect_error(call("GET", "/", NULL, NULL, &st), "not_found");
  assert_int_equal(st, 404);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "DELETE", "/v1/hash", k_admin, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 405);
  char v[128];
  assert_non_null(tu_http_header(&r, "Allow", v, sizeof v));
  assert_string_equal(v, "POST");
  tu_http_free(&r);
  expect_error(call("PUT", "/v1/keys", k_admin, "{}", &st), "method_not_allowed");
  assert_int_equal(st, 405);
  expect_error(call("GET", "/v1/cases/abc", k_admin, NULL, &st), "not_found");
  assert_int_equal(st, 404);
  expect_error(call("GET", "/v1/cases/-3", k_admin, NULL, &st), "not_found");
  assert_int_equal(st, 404);
  expect_error(call("GET", "/v1/cases/999999", k_admin, NULL, &st), "not_found");
  assert_int_equal(st, 404);
  expect_error(call("GET", "/v1/cases?status=maybe", k_admin, NULL, &st), "invalid");
  assert_int_equal(st, 400);
  expect_error(call("GET", "/v1/audit?limit=0", k_admin, NULL, &st), "invalid");
  assert_int_equal(st, 400);
}

static void hex(const uint8_t *b, unsigned n, char *out) {
  for (unsigned i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_hash(void **state) {
  (void)state;
  vigil_pdq_result want;
  vigil_image_info info;
  assert_int_equal(vigil_hash_memory(jpg, jpg_len, NULL, &want, &info, NULL), 0);
  char want_hex[65], md5[33], sha[65];
  vigil_pdq_to_hex(&want.hash[0], want_hex);
  uint8_t d[64];
  unsigned dn;
  EVP_Digest(jpg, jpg_len, d, &dn, EVP_md5(), NULL);
  hex(d, dn, md5);
  EVP_Digest(jpg, jpg_len, d, &dn, EVP_sha256(), NULL);
  hex(d, dn, sha);

  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, "image/jpeg", jpg, jpg_len, &r), 0);
  assert_int_equal(r.status, 200);
  json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "pdq")), want_hex);
  assert_int_equal(json_integer_value(json_object_get(j, "quality")), want.quality);
  assert_string_equal(json_string_value(json_object_get(j, "md5")), md5);
  assert_string_equal(json_string_value(json_object_get(j, "sha256")), sha);
  assert_int_equal(json_integer_value(json_object_get(j, "width")), info.width);
  assert_int_equal(json_integer_value(json_object_get(j, "height")), info.height);
  assert_string_equal(json_string_value(json_object_get(j, "format")), "jpeg");
  json_decref(j);

  /* the same image as a multipart upload, between two other fields */
  const char *pre = "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
                    "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"r.jpg\"\r\n"
                    "Content-Type: image/jpeg\r\n\r\n";
  const char *post = "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nbye\r\n--XyZ--\r\n";
  size_t ml = strlen(pre) + jpg_len + strlen(post);
  char *mp = malloc(ml);
  assert_non_null(mp);
  memcpy(mp, pre, strlen(pre));
  memcpy(mp + strlen(pre), jpg, jpg_len);
  memcpy(mp + strlen(pre) + jpg_len, post, strlen(post));
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, "multipart/form-data; boundary=XyZ", mp, ml, &r), 0);
  assert_int_equal(r.status, 200);
  j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_string_equal(json_string_value(json_object_get(j, "pdq")), want_hex);
  assert_string_equal(json_string_value(json_object_get(j, "sha256")), sha);
  json_decref(j);
  /* multipart with no file part */
  const char *nofile = "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ--\r\n";
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, "multipart/form-data; boundary=XyZ", nofile,
                           strlen(nofile), &r), 0);
  assert_int_equal(r.status, 400);
  expect_error(json_loadb(r.body, r.body_len, 0, NULL), "missing_image");
  tu_http_free(&r);
  free(mp);

  /* dihedral variants */
  assert_int_equal(tu_http(port, "POST", "/v1/hash?dihedral=true", k_sub, NULL, jpg, jpg_len, &r), 0);
  assert_int_equal(r.status, 200);
  j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_int_equal(json_object_size(json_object_get(j, "dihedral")), 7);
  json_decref(j);

  /* bad image bytes: the decoder's message comes back */
  const char junk[] = "this is not an image, not even close to one......";
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, "application/octet-stream", junk, sizeof junk, &r), 0);
  assert_int_equal(r.status, 422);
  j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "unsupported_image");
  json_decref(j);
  /* a truncated JPEG */
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, NULL, jpg, jpg_len / 3, &r), 0);
  assert_int_equal(r.status, 422);
  j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "bad_image");
  json_decref(j);
  /* empty, JSON, bad mode */
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 400);
  tu_http_free(&r);
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, "application/json", "{}", 2, &r), 0);
  assert_int_equal(r.status, 415);
  tu_http_free(&r);
  assert_int_equal(tu_http(port, "POST", "/v1/hash?mode=weird", k_sub, NULL, jpg, jpg_len, &r), 0);
  assert_int_equal(r.status, 400);
  tu_http_free(&r);
}

static void test_body_limits(void **state) {
  (void)state;
  size_t big = MAX_BODY + 1;
  char *b = calloc(1, big);
  assert_non_null(b);
  tu_http_resp r;
  /* declared too large: refused before the body is read */
  assert_int_equal(tu_http(port, "POST", "/v1/hash", k_sub, NULL, b, big, &r), 0);
  assert_int_equal(r.status, 413);
  expect_error(json_loadb(r.body, r.body_len, 0, NULL), "body_too_large");
  tu_http_free(&r);
  /* streamed (chunked, no length) too large: refused at the end, not buffered */
  int fd = tu_http_connect(port);
  assert_true(fd >= 0);
  char head[300];
  int hl = snprintf(head, sizeof head,
                    "POST /v1/hash HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n",
                    k_sub);
  assert_int_equal(send(fd, head, (size_t)hl, MSG_NOSIGNAL), hl);
  size_t sent = 0, chunk = 65536;
  char line[32];
  while (sent < big) {
    int ll = snprintf(line, sizeof line, "%zx\r\n", chunk);
    assert_true(send(fd, line, (size_t)ll, MSG_NOSIGNAL) == ll);
    assert_true(send(fd, b, chunk, MSG_NOSIGNAL) == (ssize_t)chunk);
    assert_true(send(fd, "\r\n", 2, MSG_NOSIGNAL) == 2);
    sent += chunk;
  }
  assert_true(send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL) == 5);
  char resp[2048];
  size_t n = 0;
  ssize_t got;
  while (n < sizeof resp - 1 && (got = recv(fd, resp + n, sizeof resp - 1 - n, 0)) > 0) {
    n += (size_t)got;
    resp[n] = 0;
    if (strstr(resp, "}}")) break;
  }
  resp[n] = 0;
  close(fd);
  assert_non_null(strstr(resp, " 413 "));
  assert_non_null(strstr(resp, "body_too_large"));
  /* JSON bodies have their own, smaller limit */
  char *js = malloc(8000);
  assert_non_null(js);
  memset(js, ' ', 7999);
  js[0] = '{';
  js[7998] = '}';
  js[7999] = 0;
  int st;
  expect_error(call("POST", "/v1/keys", k_admin, js, &st), "body_too_large");
  assert_int_equal(st, 413);
  free(js);
  free(b);
}

static void test_json_errors(void **state) {
  (void)state;
  int st;
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":", &st), "malformed_json");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":\"auditor\"} trailing", &st), "malformed_json");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "[1,2]", &st), "wrong_type");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":5}", &st), "wrong_type");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":\"auditor\",\"name\":[]}", &st), "wrong_type");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":\"god\"}", &st), "invalid");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{}", &st), "missing_field");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":\"auditor\",\"rol\":1}", &st), "unknown_field");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":\"auditor\",\"role\":\"admin\"}", &st), "malformed_json");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":\"a\\u0000b\"}", &st), "malformed_json");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", &st), "json_too_deep");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/keys", k_admin, "", &st), "malformed_json");
  assert_int_equal(st, 400);
  /* invalid UTF-8 inside a string */
  expect_error(call("POST", "/v1/keys", k_admin, "{\"role\":\"auditor\",\"name\":\"\xff\xfe\"}", &st),
               "malformed_json");
  assert_int_equal(st, 400);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", "/v1/keys", k_admin, "text/plain", "{}", 2, &r), 0);
  assert_int_equal(r.status, 415);
  tu_http_free(&r);
}

static json_t *get_case(int64_t id) {
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)id);
  int st;
  json_t *j = call("GET", path, k_rev, NULL, &st);
  assert_int_equal(st, 200);
  return j;
}

static int list_has(const char *query, int64_t id) {
  int st, found = 0;
  json_t *j = call("GET", query, k_rev, NULL, &st);
  assert_int_equal(st, 200);
  json_t *arr = json_object_get(j, "cases"), *c;
  size_t i;
  json_array_foreach(arr, i, c) if (json_integer_value(json_object_get(c, "id")) == id) found = 1;
  json_decref(j);
  return found;
}

static void test_cases_flow(void **state) {
  (void)state;
  /* a module opens a case through the library, as matching will */
  vigil_case_new c;
  memset(&c, 0, sizeof c);
  c.source = "match";
  c.pdq = "5E910449DE91500EFF81147EDE4E54A2027F52320D6F0B7F09AEAE55A4FF55AA";
  c.md5 = "1b8fb4e1b8b5d67ab26630faad1f3e10";
  c.content_id = "post-123";
  c.uploader_id = "user-9";
  c.url = "https://example.invalid/p/123";
  c.reason = "matched bank demo at distance 4";
  c.detail_json = "{\"bank\":\"demo\",\"distance\":4}";
  c.opened_by = i_sub.id;
  int64_t id;
  vigil_error e;
  assert_int_equal(vigil_case_open(vigil_server_get_store(srv), &c, &id, &e), 0);
  assert_true(id > 0);
  /* invalid input to the library call */
  vigil_case_new bad = c;
  bad.pdq = "abc";
  int64_t bid;
  assert_int_equal(vigil_case_open(vigil_server_get_store(srv), &bad, &bid, &e), VIGIL_EINVAL);
  bad = c;
  bad.detail_json = "[1]";
  assert_int_equal(vigil_case_open(vigil_server_get_store(srv), &bad, &bid, &e), VIGIL_EINVAL);

  assert_true(list_has("/v1/cases?status=open", id));
  assert_true(list_has("/v1/cases", id));
  json_t *j = get_case(id);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "open");
  assert_string_equal(json_string_value(json_object_get(j, "pdq")), "5e910449de91500eff81147ede4e54a2027f52320d6f0b7f09aeae55a4ff55aa");
  assert_string_equal(json_string_value(json_object_get(j, "content_id")), "post-123");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "detail"), "distance")), 4);
  json_decref(j);

  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)id);
  int st;
  expect_error(call("POST", path, k_rev, "{\"decision\":\"maybe\"}", &st), "invalid");
  assert_int_equal(st, 400);
  expect_error(call("POST", path, k_rev, "{\"decision\":\"confirm\"}", &st), "missing_field");
  assert_int_equal(st, 400);
  expect_error(call("POST", path, k_rev, "{\"decision\":\"confirm\",\"classification\":\"Z9\"}", &st), "invalid");
  assert_int_equal(st, 400);
  expect_error(call("POST", path, k_rev, "{\"decision\":\"confirm\",\"classification\":1}", &st), "wrong_type");
  assert_int_equal(st, 400);
  j = call("POST", path, k_rev, "{\"decision\":\"escalate\",\"note\":\"needs a second look\"}", &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "escalated");
  json_decref(j);
  assert_false(list_has("/v1/cases?status=open", id));
  assert_true(list_has("/v1/cases?status=escalated", id));
  j = call("POST", path, k_rev, "{\"decision\":\"confirm\",\"classification\":\"A1\",\"note\":\"confirmed\"}", &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "confirmed");
  assert_string_equal(json_string_value(json_object_get(j, "classification")), "A1");
  assert_string_equal(json_string_value(json_object_get(j, "decided_by")), i_rev.id);
  assert_int_equal(json_array_size(json_object_get(j, "history")), 2);
  json_decref(j);
  /* closed: a second decision is a conflict and changes nothing */
  expect_error(call("POST", path, k_rev, "{\"decision\":\"dismiss\"}", &st), "conflict");
  assert_int_equal(st, 409);
  j = get_case(id);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "confirmed");
  json_decref(j);
  assert_true(list_has("/v1/cases?status=confirmed", id));
  expect_error(call("POST", "/v1/cases/987654/decision", k_rev, "{\"decision\":\"dismiss\"}", &st), "not_found");
  assert_int_equal(st, 404);

  /* a report through the API */
  j = call("POST", "/v1/cases", k_sub, "{\"sha256\":\"" "03e021487401826ab83894b09f2cc5d4f8aea3d072b44a1c350e000903c6b5b4"
           "\",\"content_id\":\"c-1\",\"reason\":\"user report\",\"detail\":{\"reporter\":\"u-7\"}}", &st);
  assert_int_equal(st, 201);
  int64_t rid = json_integer_value(json_object_get(j, "id"));
  json_decref(j);
  assert_true(rid > id);
  j = get_case(rid);
  assert_string_equal(json_string_value(json_object_get(j, "source")), "report");
  assert_string_equal(json_string_value(json_object_get(j, "opened_by")), i_sub.id);
  json_decref(j);
  expect_error(call("POST", "/v1/cases", k_sub, "{\"reason\":\"nothing to identify it\"}", &st), "invalid");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/cases", k_sub, "{\"md5\":\"xyz\"}", &st), "invalid");
  assert_int_equal(st, 400);
  expect_error(call("POST", "/v1/cases", k_sub, "{\"md5\":\"" "1b8fb4e1b8b5d67ab26630faad1f3e10" "\",\"detail\":3}", &st),
               "wrong_type");
  assert_int_equal(st, 400);
  /* pagination */
  j = call("GET", "/v1/cases?status=all&limit=1", k_rev, NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(j, "cases")), 1);
  assert_true(json_is_integer(json_object_get(j, "next_after")));
  json_decref(j);
}

static void test_keys_api(void **state) {
  (void)state;
  int st;
  json_t *j = call("POST", "/v1/keys", k_admin, "{\"role\":\"submitter\",\"name\":\"ingest-2\"}", &st);
  assert_int_equal(st, 201);
  char key[VIGIL_KEY_MAX], id[32];
  snprintf(key, sizeof key, "%s", json_string_value(json_object_get(j, "key")));
  snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")));
  json_decref(j);
  assert_int_equal(strlen(key), 80);
  /* the new key works, for its role only */
  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", "/v1/hash", key, NULL, jpg, jpg_len, &r), 0);
  assert_int_equal(r.status, 200);
  tu_http_free(&r);
  json_decref(call("GET", "/v1/keys", key, NULL, &st));
  assert_int_equal(st, 403);
  /* the list never shows secrets */
  assert_int_equal(tu_http(port, "GET", "/v1/keys", k_admin, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, key + 16));
  assert_null(strstr(r.body, "\"key\""));
  assert_non_null(strstr(r.body, id));
  tu_http_free(&r);
  /* revoke: the key stops working at once */
  char path[64];
  snprintf(path, sizeof path, "/v1/keys/%s", id);
  json_decref(call("DELETE", path, k_admin, NULL, &st));
  assert_int_equal(st, 200);
  expect_error(call("POST", "/v1/hash", key, NULL, &st), "invalid_key");
  assert_int_equal(st, 401);
  expect_error(call("DELETE", path, k_admin, NULL, &st), "not_found");
  assert_int_equal(st, 404);
  /* the last admin key cannot be revoked */
  snprintf(path, sizeof path, "/v1/keys/%s", i_admin.id);
  expect_error(call("DELETE", path, k_admin, NULL, &st), "conflict");
  assert_int_equal(st, 409);
}

static int audit_has(json_t *entries, const char *action, const char *key_id, int status) {
  json_t *e;
  size_t i;
  json_array_foreach(entries, i, e) {
    if (!strcmp(json_string_value(json_object_get(e, "action")), action) &&
        json_is_string(json_object_get(e, "key_id")) &&
        !strcmp(json_string_value(json_object_get(e, "key_id")), key_id) &&
        json_integer_value(json_object_get(e, "status")) == status &&
        !strcmp(json_string_value(json_object_get(e, "ip")), "127.0.0.1") &&
        json_string_length(json_object_get(e, "at")) == 24)
      return 1;
  }
  return 0;
}

static void test_audit(void **state) {
  (void)state;
  int st;
  /* a few state changes of known shape */
  json_t *j = call("POST", "/v1/keys", k_admin, "{\"role\":\"auditor\",\"name\":\"for-audit-test\"}", &st);
  assert_int_equal(st, 201);
  char secret[VIGIL_KEY_MAX];
  snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(j, "key")));
  json_decref(j);
  json_decref(call("POST", "/v1/cases", k_sub, "{\"content_id\":\"audit-me\"}", &st));
  assert_int_equal(st, 201);
  json_decref(call("GET", "/v1/keys", k_admin, NULL, &st)); /* read: not audited */
  assert_int_equal(st, 200);
  json_decref(call("POST", "/v1/keys", k_sub, "{\"role\":\"admin\"}", &st)); /* refused for role: audited */
  assert_int_equal(st, 403);
  json_decref(call("POST", "/v1/cases", k_sub, "{\"md5\":\"not-hex\"}", &st)); /* invalid: changes nothing */
  assert_int_equal(st, 400);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/v1/audit?limit=1000", k_aud, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, secret + 16)); /* the key itself never lands in the audit */
  j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  json_t *entries = json_object_get(j, "entries");
  assert_true(audit_has(entries, "keys.create", i_admin.id, 201));
  assert_true(audit_has(entries, "cases.create", i_sub.id, 201));
  assert_true(audit_has(entries, "keys.create", i_sub.id, 403));
  assert_false(audit_has(entries, "cases.create", i_sub.id, 400));
  json_t *e;
  size_t i;
  json_array_foreach(entries, i, e) assert_false(!strcmp(json_string_value(json_object_get(e, "action")), "keys.list") &&
                                                 json_integer_value(json_object_get(e, "status")) == 200);
  json_decref(j);
  /* filter by key */
  char q[128];
  snprintf(q, sizeof q, "/v1/audit?key_id=%s", i_sub.id);
  j = call("GET", q, k_aud, NULL, &st);
  assert_int_equal(st, 200);
  json_array_foreach(json_object_get(j, "entries"), i, e)
      assert_string_equal(json_string_value(json_object_get(e, "key_id")), i_sub.id);
  assert_true(json_array_size(json_object_get(j, "entries")) >= 1);
  json_decref(j);
  /* append-only, even to someone holding the database file */
  sqlite3 *db;
  assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  assert_int_not_equal(sqlite3_exec(db, "UPDATE server_audit SET status = 200", NULL, NULL, NULL), SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(db, "DELETE FROM server_audit", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static void test_metrics_and_log(void **state) {
  (void)state;
  vigil_error e;
  /* a gauge of the caller's own: vigil_index_size is the server's, read at each scrape */
  assert_int_equal(vigil_server_gauge_set(srv, "queue_depth", "Items waiting in the caller's queue.", 1234, &e), 0);
  assert_int_not_equal(vigil_server_gauge_set(srv, "Bad-Name", "x", 1, &e), 0);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/healthz", NULL, NULL, NULL, 0, &r), 0);
  tu_http_free(&r);
  assert_int_equal(tu_http(port, "GET", "/metrics", NULL, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 401);
  tu_http_free(&r);
  assert_int_equal(tu_http(port, "GET", "/metrics", k_aud, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  char v[128];
  assert_non_null(tu_http_header(&r, "Content-Type", v, sizeof v));
  assert_non_null(strstr(v, "text/plain"));
  assert_non_null(strstr(r.body, "vigil_http_requests_total{route=\"healthz\",status=\"200\"}"));
  assert_non_null(strstr(r.body, "vigil_http_requests_total{route=\"metrics\",status=\"401\"}"));
  assert_non_null(strstr(r.body, "# TYPE vigil_http_request_duration_seconds histogram"));
  assert_non_null(strstr(r.body, "vigil_http_request_duration_seconds_bucket{route=\"hash\",le=\"+Inf\"}"));
  assert_non_null(strstr(r.body, "\nvigil_queue_depth 1234\n"));
  assert_non_null(strstr(r.body, "\nvigil_index_size "));
  tu_http_free(&r);
  /* the request log: one JSON object per line with the agreed fields */
  /* Read the log without moving the server's file position (it appends
   * through the same FILE), holding the FILE's lock so no line is half
   * written while we copy. */
  flockfile(logf);
  fflush(logf);
  struct stat st;
  assert_int_equal(fstat(fileno(logf), &st), 0);
  char *all = malloc((size_t)st.st_size + 1);
  assert_non_null(all);
  assert_int_equal(pread(fileno(logf), all, (size_t)st.st_size, 0), st.st_size);
  funlockfile(logf);
  all[st.st_size] = 0;
  int lines = 0, saw401 = 0, sawkey = 0;
  char *save = NULL;
  for (char *line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    json_t *j = json_loads(line, 0, NULL);
    assert_non_null(j);
    if (json_object_get(j, "method")) {
      lines++;
      assert_true(json_is_string(json_object_get(j, "time")));
      assert_true(json_is_string(json_object_get(j, "path")));
      assert_true(json_is_integer(json_object_get(j, "status")));
      assert_true(json_is_number(json_object_get(j, "latency_ms")));
      assert_true(json_is_integer(json_object_get(j, "bytes_in")));
      assert_true(json_is_integer(json_object_get(j, "bytes_out")));
      assert_true(json_is_string(json_object_get(j, "request_id")));
      if (json_integer_value(json_object_get(j, "status")) == 401) saw401 = 1;
      json_t *k = json_object_get(j, "key_id");
      if (json_is_string(k) && !strcmp(json_string_value(k), i_aud.id)) sawkey = 1;
      assert_null(strstr(line, "vk_"));
    }
    json_decref(j);
  }
  free(all);
  assert_true(lines > 10);
  assert_true(saw401);
  assert_true(sawkey);
}

/* Several requests on one keep-alive connection, from several threads at once. */
static void *hammer(void *arg) {
  (void)arg;
  int fd = tu_http_connect(port), ok = 0;
  char hdr[200];
  snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\nContent-Type: image/jpeg\r\n", k_sub);
  for (int i = 0; fd >= 0 && i < 10; i++) {
    tu_http_resp r;
    if (tu_http_request(fd, "POST", "/v1/hash", hdr, jpg, jpg_len, &r) == 0 && r.status == 200 && !r.closed) ok++;
    tu_http_free(&r);
  }
  if (fd >= 0) close(fd);
  return (void *)(intptr_t)ok;
}

static void test_keepalive_concurrent(void **state) {
  (void)state;
  pthread_t t[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *res;
    pthread_join(t[i], &res);
    assert_int_equal((int)(intptr_t)res, 10);
  }
}

/* A storage failure is a 500 whose body says nothing about the internals;
 * the detail goes to the server's log only. */
static void test_internal_error_hidden(void **state) {
  (void)state;
  sqlite3 *db;
  assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  assert_int_equal(sqlite3_exec(db, "ALTER TABLE server_case_decisions RENAME TO hidden_table", NULL, NULL, NULL),
                   SQLITE_OK);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/v1/cases/1", k_rev, NULL, NULL, 0, &r), 0);
  assert_int_equal(sqlite3_exec(db, "ALTER TABLE hidden_table RENAME TO server_case_decisions", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(r.status, 500);
  assert_non_null(strstr(r.body, "\"internal\""));
  assert_null(strstr(r.body, "server_case"));
  assert_null(strstr(r.body, "such table"));
  tu_http_free(&r);
  fflush(logf);
  rewind(logf);
  char line[4096];
  int logged = 0;
  while (fgets(line, sizeof line, logf))
    if (strstr(line, "\"status\":500") && strstr(line, "no such table")) logged = 1;
  assert_true(logged);
  /* and the service carries on */
  int st;
  json_t *j = call("GET", "/v1/cases/1", k_rev, NULL, &st);
  assert_int_equal(st, 200);
  json_decref(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_healthz),      cmocka_unit_test(test_auth),
      cmocka_unit_test(test_routes),       cmocka_unit_test(test_hash),
      cmocka_unit_test(test_body_limits),  cmocka_unit_test(test_json_errors),
      cmocka_unit_test(test_cases_flow),   cmocka_unit_test(test_keys_api),
      cmocka_unit_test(test_audit),        cmocka_unit_test(test_metrics_and_log),
      cmocka_unit_test(test_keepalive_concurrent), cmocka_unit_test(test_internal_error_hidden),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
