/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_jobs_pg.c - asynchronous jobs on PostgreSQL (lib/server/jobs.c
 * through lib/db/sql.h): the jobs table is created there, a video job
 * runs to its answer, and after kill -9 of `vigil serve` and a restart
 * every job acknowledged with 202 is done.  Skipped without PostgreSQL.
 */
#include "testutil.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "pgtest.h"
#include "servefix.h"
#include "serveproc.h"
#include "video_testutil.h"

static char uri[512], dir[256];
static uint8_t *clip;
static size_t clip_len;

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = path ? fopen(path, "rb") : NULL;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "jobspg")) return -1;
  /* the default jobs directory of a PostgreSQL node is $TMPDIR/vigil-jobs */
  setenv("TMPDIR", dir, 1);
  clip = slurp(tv_y4m("a.y4m", 64, 64, 10, 1, 30), &clip_len);
  return clip ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(clip);
  tv_cleanup();
  return tu_rmtree(dir);
}

static void test_jobs_pg(void **state) {
  (void)state;
  char db[600];
  tu_pg_fresh_db(db, sizeof db);
  tu_serve s;
  assert_int_equal(tu_serve_start(&s, db, dir, "a"), 0);
  assert_int_equal(strlen(s.key), 80);
  enum { N = 5 };
  json_int_t ids[N];
  for (int i = 0; i < N; i++) {
    tu_http_resp r;
    assert_int_equal(tu_http(s.port, "POST", "/v1/jobs?kind=hash", s.key, "video/x-yuv4mpeg", clip, clip_len, &r), 0);
    assert_int_equal(r.status, 202);
    json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
    ids[i] = json_integer_value(json_object_get(o, "id"));
    assert_true(ids[i] > 0);
    json_decref(o);
    tu_http_free(&r);
  }
  kill(s.pid, SIGKILL);
  waitpid(s.pid, NULL, 0);
  tu_serve s2;
  assert_int_equal(tu_serve_start(&s2, db, dir, "b"), 0);
  for (int i = 0; i < N; i++) {
    json_t *o = tu_wait_job(s2.port, s.key, ids[i]);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "result"), "frames")), 3);
    json_decref(o);
  }
  kill(s2.pid, SIGTERM);
  waitpid(s2.pid, NULL, 0);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int rc = tu_pg_start(uri, sizeof uri);
  if (rc == 77) return 77;
  if (rc) {
    fprintf(stderr, "could not start a PostgreSQL test server\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_jobs_pg)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
