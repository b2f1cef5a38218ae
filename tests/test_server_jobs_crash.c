/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_jobs_crash.c - asynchronous jobs under load and kill -9
 * (lib/server/jobs.c), with a real video (../shared; skipped without it).
 *
 *   - The queue is bounded: past --job-queue waiting jobs, 503 queue_full
 *     with Retry-After; the jobs accepted all finish.
 *   - kill -9 of `vigil serve` with a job running and others queued, then a
 *     restart: every job acknowledged with 202 is finished (run again) and
 *     its input file is gone; an input a crash left beside a finished job
 *     is removed at the next start.
 */
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "serveproc.h"
#include "vigil/server.h"

static tu_fix fx;
static uint8_t *video; /* 20 s, 480x720 H.264, 2.3 MB */
static size_t video_len;

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
  if (tu_fix_init(&fx, "jobcrash") != 0) return -1;
  video = slurp(VIGIL_SHARED_DIR "/vpdq/videos/chair-20-sd-bar.mp4", &video_len);
  return video ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(video);
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

static void test_queue_full(void **state) {
  (void)state;
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.job_queue = 1;
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  /* one worker, one waiting place: of videos (1.5 s of hashing each) sent one after another, some are
   * refused. Sending stops at the first refusal, so a slow upload on a loaded machine only means more tries. */
  int accepted = 0, refused = 0;
  json_int_t ids[24];
  for (int i = 0; i < 24 && !refused; i++) {
    json_t *o;
    char retry[16];
    int st = post(fx.port, "/v1/jobs?kind=hash", fx.submitter, "video/x-yuv4mpeg", video, video_len, &o, retry,
                  sizeof retry);
    if (st == 202) ids[accepted++] = json_integer_value(json_object_get(o, "id"));
    else {
      assert_int_equal(st, 503);
      assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "queue_full");
      assert_true(atoi(retry) > 0);
      refused++;
    }
    json_decref(o);
  }
  assert_true(accepted >= 2);
  assert_true(refused >= 1);
  for (int i = 0; i < accepted; i++) { /* and those accepted all finish */
    json_t *o = tu_wait_job(fx.port, fx.submitter, ids[i]);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
    json_decref(o);
  }
  tu_fix_stop(&fx);
}

static int count_inputs(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += !strncmp(e->d_name, "job-", 4);
  closedir(d);
  return n;
}

/* The path of one job input in dir, into out. */
static int first_input(const char *dir, char *out, size_t cap) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int rc = -1;
  for (struct dirent *e; rc && (e = readdir(d));)
    if (!strncmp(e->d_name, "job-", 4)) rc = snprintf(out, cap, "%s/%s", dir, e->d_name) < (int)cap ? 0 : -1;
  closedir(d);
  return rc;
}

/* kill -9 with jobs queued and one running: after a restart each is done. */
static void test_kill9(void **state) {
  (void)state;
  char db[400], jdir[420];
  snprintf(db, sizeof db, "%s/crash.db", fx.dir);
  snprintf(jdir, sizeof jdir, "%s.jobs", db);
  tu_serve s;
  assert_int_equal(tu_serve_start(&s, db, fx.dir, "k1"), 0);
  assert_int_equal(strlen(s.key), 80);
  enum { N = 4 };
  json_int_t ids[N];
  for (int i = 0; i < N; i++) {
    json_t *o;
    assert_int_equal(post(s.port, "/v1/jobs?kind=hash", s.key, "video/x-yuv4mpeg", video, video_len, &o, NULL, 0), 202);
    ids[i] = json_integer_value(json_object_get(o, "id"));
    json_decref(o);
  }
  /* kill while the first is running and the others wait: wait until it has started, as a loaded machine may
   * not have picked it up yet (then no job would be cut and none rerun) */
  char first[64];
  snprintf(first, sizeof first, "/v1/jobs/%lld", (long long)ids[0]);
  for (int i = 0; i < 400; i++) {
    json_t *o = NULL;
    assert_int_equal(tu_json_call(s.port, "GET", first, s.key, NULL, &o), 200);
    int started = strcmp(json_string_value(json_object_get(o, "state")), "queued") != 0;
    json_decref(o);
    if (started) break;
    tu_sleep_ms(10);
  }
  kill(s.pid, SIGKILL);
  waitpid(s.pid, NULL, 0);
  int left = count_inputs(jdir); /* the inputs of the jobs not finished */
  assert_true(left >= 2 && left <= N);
  char kept[512];
  assert_int_equal(first_input(jdir, kept, sizeof kept), 0);

  tu_serve s2;
  assert_int_equal(tu_serve_start(&s2, db, fx.dir, "k2"), 0);
  int reran = 0;
  for (int i = 0; i < N; i++) {
    json_t *o = tu_wait_job(s2.port, s.key, ids[i]);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
    reran += json_integer_value(json_object_get(o, "attempts")) == 2; /* the one the kill cut */
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "result"), "frames")), 21);
    json_decref(o);
  }
  assert_int_equal(reran, 1);
  /* finished jobs leave nothing behind: a job's input is removed just after its result is stored, so the last
   * one may still be there for a moment when its state reads done */
  int inputs = -1;
  for (int i = 0; i < 400 && inputs != 0; i++) {
    if ((inputs = count_inputs(jdir)) != 0) tu_sleep_ms(25);
  }
  assert_int_equal(inputs, 0);
  kill(s2.pid, SIGTERM);
  waitpid(s2.pid, NULL, 0);

  /* a crash between storing a result and removing the input: the next start removes the finished job's input */
  FILE *f = fopen(kept, "wb");
  assert_non_null(f);
  fputs("left by a crash", f);
  fclose(f);
  assert_int_equal(count_inputs(jdir), 1);
  tu_serve s3;
  assert_int_equal(tu_serve_start(&s3, db, fx.dir, "k3"), 0);
  assert_int_equal(count_inputs(jdir), 0);
  kill(s3.pid, SIGTERM);
  waitpid(s3.pid, NULL, 0);
}

int main(void) {
  if (access(VIGIL_SHARED_DIR "/vpdq/videos/chair-20-sd-bar.mp4", R_OK) != 0) {
    printf("skipped: %s/vpdq/videos is absent\n", VIGIL_SHARED_DIR);
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_queue_full),
      cmocka_unit_test(test_kill9),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
