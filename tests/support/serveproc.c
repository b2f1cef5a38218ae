/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serveproc.c - see serveproc.h.
 */
#include "serveproc.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "httpc.h"

void tu_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int tu_wait_port_file(pid_t pid, const char *portf) {
  for (int waited = 0; waited < TU_SERVE_START_MS; waited += 25) {
    FILE *f = fopen(portf, "r");
    int port = 0;
    if (f) {
      if (fscanf(f, "%d", &port) != 1) port = 0;
      fclose(f);
    }
    if (port > 0) return port;
    if (waitpid(pid, NULL, WNOHANG) == pid) return 0; /* it exited: see its output file */
    tu_sleep_ms(25);
  }
  return 0;
}

int tu_serve_start(tu_serve *s, const char *db, const char *dir, const char *tag) {
  return tu_serve_start_with(s, db, dir, tag, NULL);
}

int tu_serve_start_with(tu_serve *s, const char *db, const char *dir, const char *tag, const char *extra) {
  memset(s, 0, sizeof *s);
  char portf[600], keyf[600], outf[600];
  snprintf(portf, sizeof portf, "%s/port-%s", dir, tag);
  snprintf(keyf, sizeof keyf, "%s/key-%s", dir, tag);
  snprintf(outf, sizeof outf, "%s/out-%s", dir, tag);
  unlink(portf);
  unlink(keyf);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    /* a test that fails an assertion (or crashes) leaves no server behind */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(VIGIL_CLI, "vigil", "serve", "--init", "--listen", "127.0.0.1:0", "--db", db, "--threads", "2", "--port-file",
          portf, "--admin-key-file", keyf, extra, (char *)NULL); /* extra NULL ends the list there */
    _exit(127);
  }
  s->pid = pid;
  s->port = tu_wait_port_file(pid, portf);
  if (s->port > 0) {
    FILE *f = fopen(keyf, "r");
    if (f) {
      if (!fgets(s->key, sizeof s->key, f)) s->key[0] = 0;
      s->key[strcspn(s->key, "\r\n")] = 0;
      fclose(f);
    }
    return 0;
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

json_t *tu_call(int port, const char *method, const char *path, const char *key, const char *body, int *status) {
  tu_http_resp r;
  if (tu_http(port, method, path, key, body ? "application/json" : NULL, body, body ? strlen(body) : 0, &r) != 0) {
    *status = 0;
    return NULL;
  }
  *status = r.status;
  json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  return j;
}

/* ---- concurrent requests --------------------------------------------------- */
typedef struct hammer {
  int port;
  const char *key, *body;
  int ok, bad;
} hammer;

static void *hammer_run(void *arg) {
  hammer *h = arg;
  for (int i = 0; i < 150; i++) {
    int st;
    json_t *o = tu_call(h->port, "POST", "/v1/match", h->key, h->body, &st);
    json_t *m0 = json_array_get(json_object_get(o, "matches"), 0);
    if (st == 200 && json_array_size(json_object_get(o, "matches")) == 2 &&
        !strcmp(json_string_value(json_object_get(m0, "bank")) ? json_string_value(json_object_get(m0, "bank")) : "",
                "shared"))
      h->ok++;
    else
      h->bad++;
    json_decref(o);
  }
  return NULL;
}

void tu_check_concurrent_matches(const char *db, const char *dir) {
  char cmd[1400], admin[128] = "";
  snprintf(cmd, sizeof cmd, "'%s' keys create --role admin --db '%s' 2>/dev/null", VIGIL_CLI, db);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  if (!fgets(admin, sizeof admin, p)) admin[0] = 0;
  assert_int_equal(pclose(p), 0);
  admin[strcspn(admin, "\r\n")] = 0;
  tu_serve a;
  assert_int_equal(tu_serve_start(&a, db, dir, "h"), 0);
  int st;
  json_decref(tu_call(a.port, "POST", "/v1/banks", admin, "{\"name\":\"shared\",\"review\":true}", &st));
  assert_int_equal(st, 201);
  const char *sha = "bb00000000000000000000000000000000000000000000000000000000000002";
  const char *pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  char body[300];
  snprintf(body, sizeof body, "{\"signal_type\":\"sha256\",\"value\":\"%s\"}", sha);
  json_decref(tu_call(a.port, "POST", "/v1/banks/shared/entries", admin, body, &st));
  assert_int_equal(st, 201);
  snprintf(body, sizeof body, "{\"signal_type\":\"pdq\",\"value\":\"%s\"}", pdq);
  json_decref(tu_call(a.port, "POST", "/v1/banks/shared/entries", admin, body, &st));
  assert_int_equal(st, 201);
  /* each call: an exact lookup, a PDQ hit's entry fetch and a review case
   * (opened by the first, joined as a sighting by the others) */
  snprintf(body, sizeof body, "{\"sha256\":\"%s\",\"pdq\":\"%s\"}", sha, pdq);
  enum { T = 6 };
  pthread_t t[T];
  hammer h[T];
  for (int i = 0; i < T; i++) {
    h[i] = (hammer){a.port, admin, body, 0, 0};
    assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
  }
  int ok = 0, bad = 0;
  for (int i = 0; i < T; i++) {
    pthread_join(t[i], NULL);
    ok += h[i].ok;
    bad += h[i].bad;
  }
  printf("%d concurrent match calls answered right, %d wrong\n", ok, bad);
  assert_int_equal(bad, 0);
  /* the same content 900 times: one case (the first call opened it), each
   * later call a sighting of it, none lost */
  json_t *o = tu_call(a.port, "GET", "/v1/cases?limit=1000", admin, NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(o, "cases")), 1);
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld",
           (long long)json_integer_value(json_object_get(json_array_get(json_object_get(o, "cases"), 0), "id")));
  json_decref(o);
  o = tu_call(a.port, "GET", path, admin, NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "sightings"), "count")), 900);
  json_decref(o);
  kill(a.pid, SIGTERM);
  waitpid(a.pid, NULL, 0);
}
