/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_tls.c - HTTPS through libmicrohttpd's TLS: a throwaway
 * self-signed certificate from the openssl tool, the service on a loopback
 * port, curl as the client.  Skips (77) when openssl or curl is absent.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/server.h"

static char dir[64];

static int run(const char *cmd, char *out, size_t cap) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  return pclose(p);
}

static void test_https(void **state) {
  (void)state;
  char cmd[1024], out[4096], cert[128], key[128], db[128];
  snprintf(cert, sizeof cert, "%s/cert.pem", dir);
  snprintf(key, sizeof key, "%s/key.pem", dir);
  snprintf(db, sizeof db, "%s/vigil.db", dir);
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 1 -subj /CN=localhost "
           ">/dev/null 2>&1",
           key, cert);
  assert_int_equal(system(cmd), 0);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = db;
  cfg.threads = 1;
  cfg.tls_cert = cert;
  cfg.tls_key = key;
  vigil_server *srv;
  vigil_error e;
  int rc = vigil_server_start(&srv, &cfg, &e);
  if (rc) printf("start: %s\n", e.message);
  assert_int_equal(rc, 0);
  int port = vigil_server_port(srv);
  snprintf(cmd, sizeof cmd, "curl -sk --max-time 10 https://127.0.0.1:%d/healthz", port);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"status\":\"ok\""));
  snprintf(cmd, sizeof cmd, "curl -sk --max-time 10 -o /dev/null -w '%%{http_code}' https://127.0.0.1:%d/v1/keys", port);
  run(cmd, out, sizeof out);
  assert_string_equal(out, "401");
  /* plain HTTP to the TLS port gets no HTTP answer */
  snprintf(cmd, sizeof cmd, "curl -s --max-time 5 -o /dev/null -w '%%{http_code}' http://127.0.0.1:%d/healthz", port);
  run(cmd, out, sizeof out);
  assert_string_not_equal(out, "200");
  vigil_server_stop(srv);
  /* a key file that is missing is a clear start-up error */
  cfg.tls_key = "/nonexistent/key.pem";
  assert_int_not_equal(vigil_server_start(&srv, &cfg, &e), 0);
  assert_non_null(strstr(e.message, "/nonexistent/key.pem"));
}

int main(void) {
  if (system("command -v openssl >/dev/null 2>&1 && command -v curl >/dev/null 2>&1") != 0) {
    printf("SKIP: openssl or curl is not installed\n");
    return 77;
  }
  if (!tu_mkdtemp(dir, sizeof dir, "tls")) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_https)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (tu_rmtree(dir) != 0) rc = 1;
  return rc;
}
