/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_screening.c - a screening service never answers "no match"
 * when it did not look, and bounds what one request costs: the red-team
 * cases of a truncated JPEG, a damaged or non-picture upload, a full
 * decode queue, threshold 256, hit caps, and a multipart part with an
 * empty name.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "servefix.h"
#include "run.h"
#include "server/gate.h"
#include "vigil/media.h"
#include "vigil/server.h"

static tu_fix fx; /* the server, its database and a key per role */
static const char *dir, *dbpath;
static vigil_server *srv;
static int port;
static const char *k_admin, *k_sub;
static uint8_t *jpg;
static size_t jpg_len;
static char rings_pdq[65];
static unsigned long long max_body, max_video; /* the server's --max-body, --max-video */

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "screen")) return -1;
  dir = fx.dir;
  dbpath = fx.db;
  k_admin = fx.admin, k_sub = fx.submitter;
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.max_decodes = 1;
  cfg.decode_queue = 0; /* a second decode at once is refused: testable without timing */
  cfg.max_connections = 80; /* the slow-client test fills it from one address */
  max_body = cfg.max_body ? cfg.max_body : 50ull * 1000 * 1000; /* 0: the documented defaults */
  max_video = cfg.max_video ? cfg.max_video : 2000ull * 1000 * 1000;
  if (tu_fix_start(&fx, &cfg)) return -1;
  srv = fx.srv;
  port = fx.port;
  jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &jpg_len);
  vigil_pdq_result r;
  if (!jpg || vigil_hash_memory(jpg, jpg_len, NULL, &r, NULL, NULL)) return -1;
  vigil_pdq_to_hex(&r.hash[0], rings_pdq);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(jpg);
  return tu_fix_end(&fx);
}

/* A request; the status, *out the parsed body (may be NULL), retry the
 * Retry-After header (when non-NULL). */
static int req(const char *method, const char *path, const char *key, const char *ctype, const void *body, size_t len,
               json_t **out, char retry[16]) {
  tu_http_resp r;
  assert_int_equal(tu_http(port, method, path, key, ctype, body, len, &r), 0);
  if (out) {
    json_error_t je;
    *out = r.body_len ? json_loadb(r.body, r.body_len, 0, &je) : NULL;
  }
  if (retry && !tu_http_header(&r, "Retry-After", retry, 16)) retry[0] = 0;
  int status = r.status;
  tu_http_free(&r);
  return status;
}

static int call(const char *method, const char *path, const char *key, const char *json, json_t **out) {
  return req(method, path, key, json ? "application/json" : NULL, json, json ? strlen(json) : 0, out, NULL);
}

static void bank_with_rings(void) {
  static int done;
  if (done) return;
  done = 1;
  assert_int_equal(call("POST", "/v1/banks", k_admin, "{\"name\":\"known\"}", NULL), 201);
  char body[300];
  snprintf(body, sizeof body, "{\"signal_type\":\"pdq\",\"value\":\"%s\"}", rings_pdq);
  assert_int_equal(call("POST", "/v1/banks/known/entries", k_admin, body, NULL), 201);
}

/* The red-team case: the end marker cut off a banked JPEG.  It matched
 * nothing (200, empty matches); now it matches and says it was damaged. */
static void test_truncated_jpeg_matches(void **state) {
  (void)state;
  bank_with_rings();
  json_t *o;
  assert_int_equal(req("POST", "/v1/match?review=false", k_sub, "image/jpeg", jpg, jpg_len - 2, &o, NULL), 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 1);
  json_t *h = json_object_get(o, "hashes");
  assert_true(json_is_true(json_object_get(h, "damaged")));
  json_decref(o);
}

/* Hashing failed and nothing matched exactly: never 200 with no matches. */
static void test_unhashable_is_not_clean(void **state) {
  (void)state;
  bank_with_rings();
  json_t *o;
  /* half a JPEG: damaged beyond recovery */
  assert_int_equal(req("POST", "/v1/match", k_sub, "image/jpeg", jpg, jpg_len / 2, &o, NULL), 422);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "bad_image");
  json_decref(o);
  /* not a picture at all */
  static const char junk[] = "this is not a picture, only some text that is long enough";
  assert_int_equal(req("POST", "/v1/match", k_sub, "application/octet-stream", junk, sizeof junk, NULL, NULL), 422);
  /* the HMA lookup likewise */
  assert_int_equal(req("POST", "/m/lookup", k_sub, "image/jpeg", jpg, jpg_len / 2, NULL, NULL), 422);
  /* over a limit is 413, never 200 with no matches: a BMP whose header
   * says 20000x20000 (400 Mpx, over the 100 Mpx limit) */
  uint8_t bmp[54] = {'B', 'M'};
  bmp[10] = 54;                   /* pixel data offset */
  bmp[14] = 40;                   /* BITMAPINFOHEADER */
  bmp[18] = 0x20, bmp[19] = 0x4e; /* width 20000 */
  bmp[22] = 0x20, bmp[23] = 0x4e; /* height 20000 */
  bmp[26] = 1;                    /* planes */
  bmp[28] = 24;                   /* bits per pixel */
  static const char *const paths[] = {"/v1/match", "/m/lookup"};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(req("POST", paths[i], k_sub, "image/bmp", bmp, sizeof bmp, &o, NULL), 413);
    assert_non_null(o);
    assert_null(json_object_get(o, "matches"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "image_too_large");
    json_decref(o);
  }
  /* a picture body over --max-body: 413 body_too_large */
  uint8_t *big = calloc(1, max_body + 1);
  assert_non_null(big);
  memcpy(big, jpg, jpg_len);
  assert_int_equal(req("POST", "/v1/match", k_sub, "image/jpeg", big, max_body + 1, &o, NULL), 413);
  free(big);
  assert_non_null(o);
  assert_null(json_object_get(o, "matches"));
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "body_too_large");
  json_decref(o);
  /* /v1/match takes videos too: a body declared over --max-video is
   * refused before any of it is read */
  int fd = tu_http_connect(port);
  assert_true(fd >= 0);
  char head[512];
  int hl = snprintf(head, sizeof head,
                    "POST /v1/match HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: video/mp4\r\n"
                    "Content-Length: %llu\r\n\r\n",
                    k_sub, max_video + 1);
  assert_int_equal(send(fd, head, (size_t)hl, MSG_NOSIGNAL), hl);
  char resp[4096];
  size_t n = 0;
  ssize_t got;
  while (n < sizeof resp - 1 && (got = recv(fd, resp + n, sizeof resp - 1 - n, 0)) > 0) n += (size_t)got;
  resp[n] = 0;
  close(fd);
  assert_non_null(strstr(resp, "HTTP/1.1 413 "));
  assert_non_null(strstr(resp, "\"body_too_large\""));
  assert_null(strstr(resp, "\"matches\""));
}

/* A full decode queue answers 503 with Retry-After, for every format and
 * every endpoint that decodes; the slot is held here, so no timing. */
static void test_decode_queue_full(void **state) {
  (void)state;
  vigil__gate *g = vigil__server_decode_gate(srv);
  assert_int_equal(vigil__gate_enter(g), 1);
  char retry[16];
  static const char *paths[] = {"/v1/match", "/v1/hash", "/h/hash", "/m/lookup"};
  for (int i = 0; i < 4; i++) {
    retry[0] = 0;
    assert_int_equal(req("POST", paths[i], k_sub, "image/jpeg", jpg, jpg_len, NULL, retry), 503);
    assert_true(atoi(retry) > 0);
  }
  vigil__gate_leave(g);
  assert_int_equal(req("POST", "/v1/hash", k_sub, "image/jpeg", jpg, jpg_len, NULL, retry), 200);
  /* the gate itself: one in, none queued, then in again after leaving */
  vigil__gate t;
  assert_int_equal(vigil__gate_init(&t, 1, 0, 1), 0);
  assert_int_equal(vigil__gate_enter(&t), 1);
  assert_int_equal(vigil__gate_enter(&t), 0);
  vigil__gate_leave(&t);
  assert_int_equal(vigil__gate_enter(&t), 1);
  vigil__gate_leave(&t);
  vigil__gate_destroy(&t);
}

/* threshold 256 made a lookup quadratic in the bank: refused over 64. */
static void test_threshold_capped(void **state) {
  (void)state;
  bank_with_rings();
  char body[200];
  snprintf(body, sizeof body, "{\"pdq\":\"%s\",\"threshold\":256}", rings_pdq);
  assert_int_equal(call("POST", "/v1/match", k_sub, body, NULL), 400);
  snprintf(body, sizeof body, "{\"pdq\":\"%s\",\"threshold\":65}", rings_pdq);
  assert_int_equal(call("POST", "/v1/match", k_sub, body, NULL), 400);
  snprintf(body, sizeof body, "{\"pdq\":\"%s\",\"threshold\":64,\"review\":false}", rings_pdq);
  assert_int_equal(call("POST", "/v1/match", k_sub, body, NULL), 200);
  assert_int_equal(req("POST", "/v1/match?threshold=256", k_sub, "image/jpeg", jpg, jpg_len, NULL, NULL), 400);
}

/* 110 entries near one hash: a response keeps the closest 100, a case
 * keeps 20 in its detail, and both say how many there were. */
static void test_hit_caps(void **state) {
  (void)state;
  assert_int_equal(call("POST", "/v1/banks", k_admin, "{\"name\":\"near\",\"review\":true}", NULL), 201);
  vigil_pdq_hash base;
  vigil_error e;
  assert_int_equal(vigil_pdq_from_hex(rings_pdq, 64, &base, &e), VIGIL_OK);
  for (int i = 0; i < 110; i++) {
    vigil_pdq_hash h = base;
    /* flip bits i%8 .. so each entry is distinct and within 20 bits */
    for (int b = 0; b < 1 + i % 16; b++) h.bytes[(i / 8 + b) % 32] ^= (uint8_t)(1u << ((i + b) % 8));
    h.bytes[31 - i % 8] ^= 0x80;
    char hex[65], body[300];
    vigil_pdq_to_hex(&h, hex);
    snprintf(body, sizeof body, "{\"signal_type\":\"pdq\",\"value\":\"%s\",\"external_id\":\"n%d\"}", hex, i);
    int st = call("POST", "/v1/banks/near/entries", k_admin, body, NULL);
    assert_true(st == 201 || st == 409);
  }
  char body[300];
  snprintf(body, sizeof body, "{\"pdq\":\"%s\",\"threshold\":40,\"banks\":[\"near\"]}", rings_pdq);
  json_t *o;
  assert_int_equal(call("POST", "/v1/match", k_sub, body, &o), 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 100);
  assert_true(json_is_true(json_object_get(o, "truncated")));
  assert_true(json_integer_value(json_object_get(o, "matches_left_out")) > 0);
  json_int_t case_id = json_integer_value(json_object_get(o, "case_id"));
  assert_true(case_id > 0);
  /* closest first */
  assert_true(json_integer_value(json_object_get(json_array_get(json_object_get(o, "matches"), 0), "distance")) <=
              json_integer_value(json_object_get(json_array_get(json_object_get(o, "matches"), 99), "distance")));
  json_decref(o);
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)case_id);
  assert_int_equal(call("GET", path, k_admin, NULL, &o), 200);
  json_t *detail = json_object_get(o, "detail");
  if (json_is_string(detail)) {
    json_error_t je;
    detail = json_loads(json_string_value(detail), 0, &je);
    json_object_set_new(o, "detail_parsed", detail);
  }
  assert_int_equal(json_array_size(json_object_get(detail, "matches")), 20);
  assert_int_equal(json_integer_value(json_object_get(detail, "matches_total")), 100);
  json_decref(o);
}

/* A multipart part with an empty name was cut after its first chunk. */
static void test_multipart_empty_name(void **state) {
  (void)state;
  static const char head[] = "--BB\r\nContent-Disposition: form-data; name=\"\"; filename=\"a.jpg\"\r\n"
                             "Content-Type: image/jpeg\r\n\r\n";
  static const char tail[] = "\r\n--BB--\r\n";
  size_t n = sizeof head - 1 + jpg_len + sizeof tail - 1;
  char *body = malloc(n);
  assert_non_null(body);
  memcpy(body, head, sizeof head - 1);
  memcpy(body + sizeof head - 1, jpg, jpg_len);
  memcpy(body + sizeof head - 1 + jpg_len, tail, sizeof tail - 1);
  json_t *o;
  assert_int_equal(req("POST", "/v1/hash", k_sub, "multipart/form-data; boundary=BB", body, n, &o, NULL), 200);
  assert_string_equal(json_string_value(json_object_get(o, "pdq")), rings_pdq);
  assert_null(json_object_get(o, "damaged"));
  json_decref(o);
  /* a name too long to compare whole is refused, never cut */
  char big[400];
  int hl = snprintf(big, sizeof big,
                    "--BB\r\nContent-Disposition: form-data; name=\"%0100d\"; filename=\"a.jpg\"\r\n\r\n", 7);
  char *body2 = malloc((size_t)hl + jpg_len + sizeof tail);
  assert_non_null(body2);
  memcpy(body2, big, (size_t)hl);
  memcpy(body2 + hl, jpg, jpg_len);
  memcpy(body2 + hl + jpg_len, tail, sizeof tail - 1);
  assert_int_equal(req("POST", "/v1/hash", k_sub, "multipart/form-data; boundary=BB", body2,
                       (size_t)hl + jpg_len + sizeof tail - 1, NULL, NULL),
                   400);
  free(body2);
  free(body);
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
  if (connect(fd, (struct sockaddr *)&d, sizeof d) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Slowloris: 100 connections from one address that never finish their
 * headers filled every connection slot, and /healthz from anyone else went
 * unanswered.  The per-address limit, on by default, leaves room. */
static void test_slow_connections(void **state) {
  (void)state;
  int fds[100], n = 0;
  for (int i = 0; i < 100; i++) {
    int fd = connect_from("127.0.0.1");
    if (fd < 0) continue;
    static const char part[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    if (write(fd, part, sizeof part - 1) < 0) {
      close(fd);
      continue;
    }
    fds[n++] = fd;
  }
  int fd = connect_from("127.0.0.2");
  assert_true(fd >= 0);
  /* Answered at once when a slot is free; without the limit the slots
   * free up only when the header deadline cuts the slow ones (15 s by
   * default; test_server_hdrtimeout), long after this. */
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  tu_http_resp r;
  int rc = tu_http_request(fd, "GET", "/healthz", NULL, NULL, 0, &r);
  assert_int_equal(rc, 0);
  assert_int_equal(r.status, 200);
  tu_http_free(&r);
  close(fd);
  for (int i = 0; i < n; i++) close(fds[i]);
}

/* A mistyped --db was an empty store: `vigil match --db typo.db` created
 * one, printed nothing and exited 0.  Only the commands that create a
 * store create one; the others refuse a missing one and say so. */
static void test_missing_store_refused(void **state) {
  (void)state;
  char typo[400], cmd[1200], *out = NULL;
  snprintf(typo, sizeof typo, "%s/typo.db", dir);
  static const char *const refused[] = {"match --db '%s' " VIGIL_SOURCE_DIR "/samples/rings.jpg", "keys list --db '%s'",
                                        "bank list --db '%s'", "serve --db '%s' --listen 127.0.0.1:0"};
  for (int i = 0; i < 4; i++) {
    char sub[600];
    snprintf(sub, sizeof sub, refused[i], typo);
    snprintf(cmd, sizeof cmd, "timeout 20 '%s' %s 2>&1", VIGIL_CLI, sub);
    assert_int_equal(tu_run(cmd, &out), 2);
    assert_non_null(strstr(out, "no vigil database"));
    free(out);
    assert_int_not_equal(access(typo, F_OK), 0); /* nothing created */
  }
  /* created explicitly, then matching says there is nothing to match */
  snprintf(cmd, sizeof cmd, "'%s' bank create empty --db '%s' >/dev/null 2>&1 && '%s' bank disable empty --db '%s'",
           VIGIL_CLI, typo, VIGIL_CLI, typo);
  assert_int_equal(tu_run(cmd, NULL), 0);
  snprintf(cmd, sizeof cmd, "'%s' match --db '%s' " VIGIL_SOURCE_DIR "/samples/rings.jpg 2>&1 >/dev/null", VIGIL_CLI,
           typo);
  tu_run(cmd, &out);
  assert_non_null(strstr(out, "no bank is enabled"));
  free(out);
}

/* The database deleted under a running server: writes still answered 201
 * and were lost at the next start.  Now state changes are refused and
 * /healthz is unhealthy. */
static void test_store_deleted_under_server(void **state) {
  (void)state;
  char db2[400];
  snprintf(db2, sizeof db2, "%s/second.db", dir);
  vigil_server_store *st;
  vigil_error e;
  char key[VIGIL_KEY_MAX];
  assert_int_equal(vigil_server_store_open(&st, db2, &e), VIGIL_OK);
  assert_int_equal(vigil_key_create(st, VIGIL_ROLE_ADMIN, "admin", key, NULL, &e), VIGIL_OK);
  vigil_server_store_close(st);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = db2;
  cfg.threads = 2;
  vigil_server *s2;
  assert_int_equal(vigil_server_start(&s2, &cfg, &e), VIGIL_OK);
  int keep = port;
  port = vigil_server_port(s2);
  json_t *o;
  assert_int_equal(call("GET", "/healthz", NULL, NULL, &o), 200);
  assert_non_null(json_object_get(o, "warnings")); /* no bank: the index is empty */
  json_decref(o);
  assert_int_equal(call("POST", "/v1/banks", key, "{\"name\":\"before\"}", NULL), 201);
  assert_int_equal(unlink(db2), 0);
  assert_int_equal(call("POST", "/v1/banks", key, "{\"name\":\"after\"}", NULL), 503);
  assert_int_equal(call("GET", "/healthz", NULL, NULL, &o), 503);
  assert_string_equal(json_string_value(json_object_get(o, "status")), "unhealthy");
  json_decref(o);
  port = keep;
  vigil_server_stop(s2);
}

/* Sets or clears the immutable flag of path (root cannot write such a
 * file either); 0, or -1 when the file system or the process cannot. */
static int set_immutable(const char *path, int on) {
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return -1;
  int flags = 0, rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
  if (rc == 0) {
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  close(fd);
  return rc == 0 ? 0 : -1;
}

/* A database file made unwritable under a running server: writes fail
 * with 503 and /healthz says unhealthy, then both recover once it is
 * writable again.  Root writes a 0400 file regardless, so as root the file
 * is made immutable (chattr +i); otherwise it is chmod 0400. */
static void test_store_unwritable_under_server(void **state) {
  (void)state;
  char db3[400];
  snprintf(db3, sizeof db3, "%s/third.db", dir);
  vigil_server_store *st;
  vigil_error e;
  char key[VIGIL_KEY_MAX];
  assert_int_equal(vigil_server_store_open(&st, db3, &e), VIGIL_OK);
  assert_int_equal(vigil_key_create(st, VIGIL_ROLE_ADMIN, "admin", key, NULL, &e), VIGIL_OK);
  vigil_server_store_close(st);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = db3;
  cfg.threads = 2;
  vigil_server *s3;
  assert_int_equal(vigil_server_start(&s3, &cfg, &e), VIGIL_OK);
  int keep = port;
  port = vigil_server_port(s3);
  assert_int_equal(call("POST", "/v1/banks", key, "{\"name\":\"before\"}", NULL), 201);
  int root = geteuid() == 0;
  if (root ? set_immutable(db3, 1) != 0 : chmod(db3, 0400) != 0) {
    port = keep;
    vigil_server_stop(s3);
    skip(); /* e.g. a file system without the immutable flag */
  }
  /* the statuses first, then the file restored, then the checks: a
   * failed check must not leave an immutable file behind (so tu_http,
   * which does not fail the test on a lost answer, and 0 for none) */
  tu_http_resp w, h;
  static const char during[] = "{\"name\":\"during\"}";
  int wrote = tu_http(port, "POST", "/v1/banks", key, "application/json", during, sizeof during - 1, &w) ? 0 : w.status;
  int health = tu_http(port, "GET", "/healthz", NULL, NULL, NULL, 0, &h) ? 0 : h.status;
  json_t *o = h.body_len ? json_loadb(h.body, h.body_len, 0, NULL) : NULL;
  char status[32] = "";
  if (json_is_string(json_object_get(o, "status")))
    snprintf(status, sizeof status, "%s", json_string_value(json_object_get(o, "status")));
  json_decref(o);
  tu_http_free(&w);
  tu_http_free(&h);
  int restored = root ? set_immutable(db3, 0) : chmod(db3, 0600);
  assert_int_equal(restored, 0);
  assert_int_equal(wrote, 503);
  assert_int_equal(health, 503);
  assert_string_equal(status, "unhealthy");
  /* writable again: so is the service */
  assert_int_equal(call("GET", "/healthz", NULL, NULL, NULL), 200);
  assert_int_equal(call("POST", "/v1/banks", key, "{\"name\":\"after\"}", NULL), 201);
  port = keep;
  vigil_server_stop(s3);
}

/* Long handlers are bounded: with every slot taken a link request is
 * told to retry instead of starting another quadratic-sized job. */
static void test_long_handlers_bounded(void **state) {
  (void)state;
  static const char ads[] = "{\"id\":\"a\",\"text\":\"call 2135550100\"}\n{\"id\":\"b\",\"text\":\"2135550100\"}\n";
  vigil__gate *g = vigil__server_long_gate(srv);
  int held = 0;
  while (vigil__gate_enter(g)) held++;
  assert_true(held >= 1);
  char retry[16] = "";
  assert_int_equal(req("POST", "/v1/ads/link", k_sub, "application/x-ndjson", ads, sizeof ads - 1, NULL, retry), 503);
  assert_true(atoi(retry) > 0);
  while (held--) vigil__gate_leave(g);
  assert_int_equal(req("POST", "/v1/ads/link", k_sub, "application/x-ndjson", ads, sizeof ads - 1, NULL, NULL), 200);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_truncated_jpeg_matches),
      cmocka_unit_test(test_unhashable_is_not_clean),
      cmocka_unit_test(test_decode_queue_full),
      cmocka_unit_test(test_threshold_capped),
      cmocka_unit_test(test_hit_caps),
      cmocka_unit_test(test_multipart_empty_name),
      cmocka_unit_test(test_slow_connections),
      cmocka_unit_test(test_missing_store_refused),
      cmocka_unit_test(test_store_deleted_under_server),
      cmocka_unit_test(test_store_unwritable_under_server),
      cmocka_unit_test(test_long_handlers_bounded),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
