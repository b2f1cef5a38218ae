/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_server.c - hostile bytes at a live vigil serve over loopback: as the
 * body of each kind of route (JSON routes, multipart and raw uploads), and
 * as a whole raw HTTP request.  The server is started once, on first use,
 * and stopped at exit.  A crash, a sanitizer report, a leak, a 500 or a
 * server that stops answering aborts the run.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tests/support/httpc.c"
#include "vigil/server.h"

static vigil_server *srv;
static int port;
static char key[VIGIL_KEY_MAX], dir[64];

static void stop(void) {
  vigil_server_stop(srv);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "fuzz_server: could not remove %s\n", dir);
}

static void start(void) {
  signal(SIGPIPE, SIG_IGN);
  snprintf(dir, sizeof dir, "/tmp/vigil-fuzz-server-XXXXXX");
  if (!mkdtemp(dir)) abort();
  static char db[128]; /* the server keeps cfg.db_path by pointer for its life */
  snprintf(db, sizeof db, "%s/vigil.db", dir);
  vigil_server_store *st;
  vigil_error e;
  int64_t id;
  vigil_case_new c = {.content_id = "fuzz"};
  if (vigil_server_store_open(&st, db, &e) || vigil_key_create(st, VIGIL_ROLE_ADMIN, "fuzz", key, NULL, &e) ||
      vigil_case_open(st, &c, &id, &e))
    abort();
  vigil_server_store_close(st);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = db;
  cfg.threads = 1;
  cfg.max_body = 16 * 1024; /* larger inputs test the 413 path; smaller ones decode quickly */
  cfg.max_json = 8 * 1024;
  cfg.timeout_s = 5;
  if (vigil_server_start(&srv, &cfg, &e)) abort();
  port = vigil_server_port(srv);
  atexit(stop);
}

/* The bytes as a request line's continuation, then hang up: the server must
 * shrug it off (checked by the /healthz call that follows). */
static void raw(const uint8_t *data, size_t size) {
  int fd = tu_http_connect(port);
  if (fd < 0) abort();
  const char *pre = "POST /v1/cases HTTP/1.1\r\n";
  send(fd, pre, strlen(pre), MSG_NOSIGNAL);
  send(fd, data, size, MSG_NOSIGNAL);
  close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!srv) start();
  static const char *const paths[] = {"/v1/keys", "/v1/cases", "/v1/cases/1/decision", "/v1/hash"};
  int kind = (int)(size % 6);
  tu_http_resp r;
  int rc;
  if (kind < 4) {
    rc = tu_http(port, "POST", paths[kind], key, kind < 3 ? "application/json" : "application/octet-stream", data,
                 size, &r);
  } else if (kind == 4) {
    /* the bytes as a multipart file part */
    static const char pre[] = "--b0undary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x\"\r\n\r\n";
    static const char post[] = "\r\n--b0undary--\r\n";
    uint8_t *mp = malloc(sizeof pre + size + sizeof post);
    if (!mp) return 0;
    memcpy(mp, pre, sizeof pre - 1);
    if (size) memcpy(mp + sizeof pre - 1, data, size);
    memcpy(mp + sizeof pre - 1 + size, post, sizeof post - 1);
    rc = tu_http(port, "POST", "/v1/hash", key, "multipart/form-data; boundary=b0undary", mp,
                 sizeof pre - 1 + size + sizeof post - 1, &r);
    free(mp);
  } else {
    raw(data, size);
    rc = tu_http(port, "GET", "/healthz", NULL, NULL, NULL, 0, &r); /* still alive? */
    if (rc == 0 && r.status != 200) abort();
  }
  if (rc != 0 || r.status == 0 || r.status >= 500) {
    fprintf(stderr, "fuzz_server: kind %d, %zu bytes: status %d\n%s\n", kind, size, r.status, r.body ? r.body : "");
    abort();
  }
  tu_http_free(&r);
  return 0;
}
