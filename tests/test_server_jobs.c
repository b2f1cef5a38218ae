/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_jobs.c - asynchronous jobs (lib/server/jobs.c).
 *
 *   - POST /v1/jobs and ?async=true answer 202; GET /v1/jobs/{id} then
 *     gives the answer the synchronous call gives (frames, matches), or a
 *     failed job with the synchronous error (a junk "video": 422
 *     bad_video), never a silent success.
 *   - A job is its sender's: another submitter gets 404; a reviewer may
 *     not send one.
 *   - A finished job is deleted --job-keep seconds after it ended; an
 *     old input file no job names is removed at start.
 *   - A job left running with no worker on it is recovered within seconds.
 *
 * Clips are YUV4MPEG2 files the test writes; nothing needs ../shared.  The
 * bounded queue and kill -9 are in test_server_jobs_crash.c.
 */
#include "testutil.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "serveproc.h" /* tu_sleep_ms */
#include "video_testutil.h"
#include "vigil/server.h"

static tu_fix fx;
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
  if (tu_fix_init(&fx, "jobs") != 0) return -1;
  clip = slurp(tv_y4m("a.y4m", 64, 64, 10, 1, 30), &clip_len); /* 3 s */
  return clip ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(clip);
  tv_cleanup();
  return tu_fix_end(&fx);
}

static int post(int port, const char *path, const char *key, const char *ctype, const void *body, size_t len,
                json_t **out, char *retry, size_t rcap) {
  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", path, key, ctype, body, len, &r), 0);
  *out = json_loadb(r.body, r.body_len, 0, NULL);
  if (retry && !tu_http_header(&r, "Retry-After", retry, rcap)) retry[0] = 0;
  int st = r.status;
  tu_http_free(&r);
  return st;
}

static void test_jobs(void **state) {
  (void)state;
  assert_int_equal(tu_fix_start(&fx, NULL), 0);
  json_t *o;
  /* a video hashed by a job: the answer /v1/hash gives */
  assert_int_equal(post(fx.port, "/v1/jobs?kind=hash", fx.submitter, "video/x-yuv4mpeg", clip, clip_len, &o, NULL, 0),
                   202);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "queued");
  json_int_t id = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  o = tu_wait_job(fx.port, fx.submitter, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
  json_t *res = json_object_get(o, "result");
  assert_string_equal(json_string_value(json_object_get(res, "type")), "video");
  assert_int_equal(json_array_size(json_object_get(res, "frames")), 3);
  assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 1);
  json_decref(o);
  /* the same through ?async=true on /v1/match */
  assert_int_equal(post(fx.port, "/v1/match?async=true&content_id=j1", fx.submitter, "video/x-yuv4mpeg", clip, clip_len,
                        &o, NULL, 0),
                   202);
  json_int_t mid = json_integer_value(json_object_get(o, "id"));
  assert_string_equal(json_string_value(json_object_get(o, "kind")), "match");
  json_decref(o);
  o = tu_wait_job(fx.port, fx.submitter, mid);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  assert_int_equal(json_array_size(json_object_get(json_object_get(o, "result"), "matches")), 0);
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(json_object_get(o, "result"), "hashes"), "frames")), 3);
  json_decref(o);
  /* junk: the job fails with the synchronous error, never "done, no match" */
  static const char junk[] = "no video here, only these bytes";
  assert_int_equal(post(fx.port, "/v1/jobs", fx.submitter, "video/mp4", junk, sizeof junk - 1, &o, NULL, 0), 202);
  json_int_t bad = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  o = tu_wait_job(fx.port, fx.submitter, bad);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
  assert_int_equal(json_integer_value(json_object_get(o, "status")), 422);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "bad_video");
  assert_null(json_object_get(o, "result"));
  json_decref(o);
  /* whose job: the admin may read it, another submitter may not; reviewers send none */
  char other[VIGIL_KEY_MAX], path[64];
  vigil_error e;
  assert_int_equal(vigil_key_create(vigil_server_get_store(fx.srv), VIGIL_ROLE_SUBMITTER, "other", other, NULL, &e), 0);
  snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)id);
  assert_int_equal(tu_json_call(fx.port, "GET", path, other, NULL, NULL), 404);
  assert_int_equal(tu_json_call(fx.port, "GET", path, fx.admin, NULL, NULL), 200);
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/jobs/987654", fx.submitter, NULL, NULL), 404);
  assert_int_equal(post(fx.port, "/v1/jobs", fx.reviewer, "video/x-yuv4mpeg", clip, clip_len, &o, NULL, 0), 403);
  json_decref(o);
  assert_int_equal(
      post(fx.port, "/v1/jobs?kind=everything", fx.submitter, "video/x-yuv4mpeg", clip, clip_len, &o, NULL, 0), 400);
  json_decref(o);
  assert_int_equal(
      post(fx.port, "/v1/match?async=maybe", fx.submitter, "video/x-yuv4mpeg", clip, clip_len, &o, NULL, 0), 400);
  json_decref(o);
  /* the queue on /metrics */
  tu_http_resp mr;
  assert_int_equal(tu_http(fx.port, "GET", "/metrics", fx.admin, NULL, NULL, 0, &mr), 0);
  assert_int_equal(mr.status, 200);
  assert_non_null(strstr(mr.body, "vigil_jobs_queued"));
  assert_non_null(strstr(mr.body, "vigil_jobs_running"));
  tu_http_free(&mr);
  tu_fix_stop(&fx);
}

/* Finished jobs are deleted --job-keep seconds after they end; an input
 * no job names (a crash before its row) is removed at start once old. */
static void test_job_keep(void **state) {
  (void)state;
  char old[400], fresh[400];
  snprintf(old, sizeof old, "%s.jobs/job-00000000000000000000000000000001.in", fx.db);
  snprintf(fresh, sizeof fresh, "%s.jobs/job-00000000000000000000000000000002.in", fx.db);
  for (int i = 0; i < 2; i++) {
    FILE *f = fopen(i ? fresh : old, "w");
    assert_non_null(f);
    fputs("orphan", f);
    fclose(f);
  }
  struct timeval hour_ago[2];
  gettimeofday(&hour_ago[0], NULL);
  hour_ago[0].tv_sec -= 3600;
  hour_ago[1] = hour_ago[0];
  assert_int_equal(utimes(old, hour_ago), 0);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.job_keep_s = 1;
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  assert_int_equal(access(old, F_OK), -1);
  assert_int_equal(access(fresh, F_OK), 0);
  unlink(fresh);
  json_t *o;
  assert_int_equal(post(fx.port, "/v1/jobs?kind=hash", fx.submitter, "video/x-yuv4mpeg", clip, clip_len, &o, NULL, 0),
                   202);
  json_int_t id = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  o = tu_wait_job(fx.port, fx.submitter, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  assert_non_null(json_string_value(json_object_get(o, "expires_at")));
  json_decref(o);
  char path[64];
  snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)id);
  int st = 200;
  for (int i = 0; i < 200 && st == 200; i++) { /* kept 1 s, swept within the next second or two */
    tu_sleep_ms(25);
    st = tu_json_call(fx.port, "GET", path, fx.submitter, NULL, NULL);
  }
  assert_int_equal(st, 404);
  tu_fix_stop(&fx);
}

/* A job left 'running' with no worker on it (on PostgreSQL, a killed
 * process's last claim can commit after the restart's recovery) is
 * recovered within seconds, not left running for ever: here its input is
 * gone, so it ends failed, job_lost. */
static void test_orphan_recovered(void **state) {
  (void)state;
  assert_int_equal(tu_fix_start(&fx, NULL), 0);
  json_t *o;
  assert_int_equal(post(fx.port, "/v1/jobs?kind=hash", fx.submitter, "video/x-yuv4mpeg", clip, clip_len, &o, NULL, 0),
                   202);
  json_int_t id = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  o = tu_wait_job(fx.port, fx.submitter, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  json_decref(o);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(fx.db, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char sql[128];
  /* claimed, as far as the row says, by an earlier process of this node */
  snprintf(sql, sizeof sql, "UPDATE server_jobs SET state = 'running', started_at = started_at - 3600 WHERE id = %lld",
           (long long)id);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  o = tu_wait_job(fx.port, fx.submitter, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "job_lost");
  assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 2);
  json_decref(o);
  tu_fix_stop(&fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_jobs),
      cmocka_unit_test(test_job_keep),
      cmocka_unit_test(test_orphan_recovered),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
