/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_jobs_lock.c - one server per jobs directory (lib/server/jobs.c,
 * lock_dir).
 *
 * Two `vigil serve` on one SQLite file default to one jobs directory
 * (DB.jobs), so to one node id: each start would take the other's running
 * jobs for crashed ones, queue them again and remove inputs.  So:
 *   - a second `vigil serve` on a jobs directory in use exits non-zero at
 *     start, saying which directory and to give each its own --jobs-dir,
 *     and the first one's node id, jobs and answers are untouched; with a
 *     --jobs-dir of its own it starts beside the first;
 *   - after kill -9 of the first the kernel has dropped the lock: a new
 *     server starts on the directory and finishes the acknowledged job;
 *   - in one process, a second server on the directory is refused too
 *     (VIGIL_EINVAL), and accepted once the first has stopped.
 *
 * Clips are YUV4MPEG2 files the test writes; nothing needs ../shared.  The
 * kill -9 with a decoder worker running is test_server_jobs_crash.c's.
 */
#include "testutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "serveproc.h"
#include "video_testutil.h"
#include "vigil/server.h"

static tu_fix fx;
static uint8_t *clip;
static size_t clip_len;

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "jobslock") != 0) return -1;
  clip = tu_slurp(tv_y4m("a.y4m", 64, 64, 10, 1, 30), &clip_len); /* 3 s */
  return clip ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(clip);
  tv_cleanup();
  return tu_fix_end(&fx);
}

/* Sends the clip as a hash job to port; its id. */
static json_int_t submit(int port, const char *key) {
  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", "/v1/jobs?kind=hash", key, "video/x-yuv4mpeg", clip, clip_len, &r), 0);
  assert_int_equal(r.status, 202);
  json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  json_int_t id = json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  assert_true(id > 0);
  return id;
}

/* Runs `vigil serve` on db until it exits (at most TU_SERVE_START_MS) and
 * returns its exit status, its output in out.  A server that comes up
 * instead (it writes its port file) is killed and -1 returned: a start that
 * should have been refused. */
static int serve_refused(const char *db, const char *tag, char *out, size_t cap) {
  char portf[600], outf[600];
  snprintf(portf, sizeof portf, "%s/port-%s", fx.dir, tag);
  snprintf(outf, sizeof outf, "%s/out-%s", fx.dir, tag);
  unlink(portf);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execl(VIGIL_CLI, "vigil", "serve", "--listen", "127.0.0.1:0", "--db", db, "--threads", "2", "--port-file", portf,
          (char *)NULL);
    _exit(127);
  }
  int status = -1, rc = -1;
  for (int waited = 0; waited < TU_SERVE_START_MS; waited += 25) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (access(portf, F_OK) == 0) break; /* it listens: not refused */
    tu_sleep_ms(25);
  }
  if (rc < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  out[0] = 0;
  FILE *f = fopen(outf, "r");
  if (f) {
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    fclose(f);
  }
  return rc;
}

static void read_node_id(const char *jobs, char id[33]) {
  char path[600];
  snprintf(path, sizeof path, "%s/node-id", jobs);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_int_equal(fread(id, 1, 32, f), 32);
  id[32] = 0;
  fclose(f);
}

static void test_second_process_refused(void **state) {
  (void)state;
  char db[400], jobs[420], own[440], node[33], node_after[33];
  snprintf(db, sizeof db, "%s/lock.db", fx.dir);
  snprintf(jobs, sizeof jobs, "%s.jobs", db);
  tu_serve a;
  assert_int_equal(tu_serve_start(&a, db, fx.dir, "a"), 0);
  assert_int_equal(strlen(a.key), 80);
  read_node_id(jobs, node);
  json_int_t first = submit(a.port, a.key);

  /* the same database, the same (default) jobs directory: refused, saying why */
  char out[4096];
  int rc = serve_refused(db, "b", out, sizeof out);
  printf("second server: exit %d: %s", rc, out);
  assert_true(rc > 0);
  assert_non_null(strstr(out, jobs));
  assert_non_null(strstr(out, "in use by another running server"));
  assert_non_null(strstr(out, "--jobs-dir"));

  /* the first is untouched: its node, its job (run once), its answers */
  read_node_id(jobs, node_after);
  assert_string_equal(node, node_after);
  json_t *o = tu_wait_job(a.port, a.key, first);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 1);
  assert_int_equal(json_array_size(json_object_get(json_object_get(o, "result"), "frames")), 3);
  json_decref(o);
  json_int_t second = submit(a.port, a.key);
  o = tu_wait_job(a.port, a.key, second);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  json_decref(o);

  /* with a jobs directory of its own, a second node starts beside it */
  char arg[500];
  snprintf(own, sizeof own, "%s/jobs-c", fx.dir);
  snprintf(arg, sizeof arg, "--jobs-dir=%s", own);
  tu_serve c;
  assert_int_equal(tu_serve_start_with(&c, db, fx.dir, "c", arg), 0);
  json_int_t third = submit(c.port, a.key);
  o = tu_wait_job(c.port, a.key, third);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  json_decref(o);
  kill(c.pid, SIGTERM);
  waitpid(c.pid, NULL, 0);

  /* kill -9 of the first with a job acknowledged: the kernel drops its lock,
   * and a new server on the directory starts and finishes the job */
  json_int_t last = submit(a.port, a.key);
  kill(a.pid, SIGKILL);
  waitpid(a.pid, NULL, 0);
  tu_serve d;
  assert_int_equal(tu_serve_start(&d, db, fx.dir, "d"), 0);
  read_node_id(jobs, node_after);
  assert_string_equal(node, node_after); /* the same node, restarted */
  o = tu_wait_job(d.port, a.key, last);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  json_decref(o);
  /* and it holds the lock in turn */
  rc = serve_refused(db, "e", out, sizeof out);
  assert_true(rc > 0);
  assert_non_null(strstr(out, "in use by another running server"));
  kill(d.pid, SIGTERM);
  waitpid(d.pid, NULL, 0);
}

static void test_second_server_in_process(void **state) {
  (void)state;
  assert_int_equal(tu_fix_start(&fx, NULL), 0);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  vigil_server *other = NULL;
  vigil_error e;
  assert_int_equal(vigil_server_start(&other, &cfg, &e), VIGIL_EINVAL);
  assert_null(other);
  assert_non_null(strstr(e.message, "in use by another running server"));
  assert_non_null(strstr(e.message, fx.db)); /* DB.jobs */
  /* closing the refused server's descriptor of the lock file left the lock held */
  assert_int_equal(vigil_server_start(&other, &cfg, &e), VIGIL_EINVAL);
  /* the running one still answers, and takes jobs */
  json_int_t id = submit(fx.port, fx.submitter);
  json_t *o = tu_wait_job(fx.port, fx.submitter, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "done");
  json_decref(o);
  /* stopped, it leaves the directory to the next */
  tu_fix_stop(&fx);
  assert_int_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);
  vigil_server_stop(other);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_second_process_refused),
      cmocka_unit_test(test_second_server_in_process),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
