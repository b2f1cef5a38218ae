/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_sandbox_parent.c - a decoder worker does not outlive the
 * process that forked it.  A process hashing a video that never ends (a
 * header, then a pipe held open) is killed with SIGKILL, as an operator or
 * the OOM killer would kill `vigil serve` or `vigil hash`; its worker must
 * be gone within seconds, not linger until its wall-time limit (an hour by
 * default) holding a CPU and the input.  The same when the parent dies in
 * the gap between the fork and the moment the worker ties its life to the
 * parent's (a test hook holds the worker in that gap).
 *
 * The test process makes itself a child subreaper, so an orphaned worker
 * becomes its child: it can waitpid the worker to see how it ended, and
 * kill it itself when it lingers (the failure), leaving nothing behind.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "video/video_internal.h"
#include "vigil/video.h"

/* Bounds on waiting for things that happen at once when the code is right;
 * generous for a loaded machine and the sanitizer builds, and never reached
 * on success. */
#define START_WAIT_S 20.0
#define GONE_WAIT_S 5.0

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(void) {
  struct timespec ts = {0, 10 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

/* The value of a "Name:\tvalue" line of /proc/pid/status, or -1. */
static long status_field(pid_t pid, const char *name) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long v = -1;
  size_t n = strlen(name);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, name, n) == 0 && line[n] == ':') {
      v = strtol(line + n + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

/* The one child of parent (its decoder worker), waiting for it to appear;
 * 0 if none did. */
static pid_t worker_of(pid_t parent) {
  double end = now_s() + START_WAIT_S;
  do {
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *de;
    pid_t found = 0;
    while (!found && (de = readdir(d))) {
      char *e;
      long pid = strtol(de->d_name, &e, 10);
      if (*e || pid <= 0) continue;
      if (status_field((pid_t)pid, "PPid") == (long)parent) found = (pid_t)pid;
    }
    closedir(d);
    if (found) return found;
    nap();
  } while (now_s() < end);
  return 0;
}

/* Waits for a child of this process to end; 1 with its status, 0 if it was
 * still there after secs. */
static int ended(pid_t pid, double secs, int *status) {
  double end = now_s() + secs;
  do {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return 1;
    if (r < 0 && errno != EINTR) return 0;
    nap();
  } while (now_s() < end);
  return 0;
}

/* A Y4M stream that stops after its header: the write end stays with the
 * test process, so a worker reading it waits for ever, killed by nothing
 * but its wall-time limit, which only its (dead) parent keeps. */
static int stalled_input(int *wr) {
  int p[2];
  if (pipe(p) != 0) return -1;
  static const char head[] = "YUV4MPEG2 W32 H32 F25:1 Ip A1:1 C420jpeg\n";
  if (write(p[1], head, sizeof head - 1) != (ssize_t)(sizeof head - 1)) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  *wr = p[1];
  return p[0];
}

/* Forks the parent: a process that hashes in (sandboxed, the default
 * limits) and would exit when that returned, which it does not. */
static pid_t start_parent(int in, int close1, int close2) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  close(close1);
  if (close2 >= 0) close(close2);
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  int rc = vigil_video_hash_fd(in, &o, NULL, NULL, NULL, NULL);
  _exit(rc == VIGIL_OK ? 0 : 1);
}

/* Kills parent and reaps it; 0 if it was still hashing when killed. */
static int kill_parent(pid_t parent) {
  int st = 0, was_running = waitpid(parent, &st, WNOHANG) == 0;
  if (was_running) {
    kill(parent, SIGKILL);
    while (waitpid(parent, &st, 0) < 0 && errno == EINTR) {
    }
  }
  return was_running ? 0 : -1;
}

/* Reaps worker: 1 when it ended within GONE_WAIT_S (*status says how), 0
 * when it lingered, and was killed here so that nothing is left behind. */
static int worker_gone(pid_t worker, int *status) {
  if (ended(worker, GONE_WAIT_S, status)) return 1;
  kill(worker, SIGKILL);
  int st;
  while (waitpid(worker, &st, 0) < 0 && errno == EINTR) {
  }
  return 0;
}

static void say(int gone, int st) {
  if (!gone) printf("LINGERED after its parent died, killed by the test\n");
  else if (WIFSIGNALED(st)) printf("gone, by signal %d\n", WTERMSIG(st));
  else printf("gone, exit status %d\n", WEXITSTATUS(st));
}

/* The parent dies while its worker, in its sandbox, waits on the input. */
static void test_parent_killed(void **state) {
  (void)state;
  int wr = -1, in = stalled_input(&wr);
  assert_true(in >= 0);
  pid_t parent = start_parent(in, wr, -1);
  assert_true(parent > 0);
  close(in);
  pid_t worker = worker_of(parent);
  if (!worker) kill_parent(parent);
  assert_true(worker > 0);
  /* the worker is past its set-up: its seccomp filter is in place (mode
   * 2) and it reads the input */
  double end = now_s() + START_WAIT_S;
  while (status_field(worker, "Seccomp") != 2 && now_s() < end) nap();
  long mode = status_field(worker, "Seccomp");
  int parent_rc = kill_parent(parent);
  int st = 0, gone = worker_gone(worker, &st);
  close(wr);
  printf("  worker %d: seccomp %ld, ", (int)worker, mode);
  say(gone, st);
  assert_int_equal(mode, 2);
  assert_int_equal(parent_rc, 0);
  assert_true(gone);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
}

/* The parent dies between the fork and the worker's tie to it, when no
 * death signal can reach the worker any more: it must see that and leave. */
static void test_parent_killed_before_tie(void **state) {
  (void)state;
  int wr = -1, in = stalled_input(&wr);
  assert_true(in >= 0);
  int gate[2];
  assert_int_equal(pipe(gate), 0);
  vigil__video_test_child_gate_fd = gate[0];
  pid_t parent = start_parent(in, wr, gate[1]);
  vigil__video_test_child_gate_fd = -1;
  assert_true(parent > 0);
  close(in);
  close(gate[0]);
  pid_t worker = worker_of(parent);
  int parent_rc = kill_parent(parent);
  /* the parent is gone; now let the worker go on */
  assert_int_equal(write(gate[1], "g", 1), 1);
  int st = 0, gone = worker ? worker_gone(worker, &st) : 0;
  close(gate[1]);
  close(wr);
  printf("  worker %d: ", (int)worker);
  say(gone, st);
  assert_true(worker > 0);
  assert_int_equal(parent_rc, 0);
  assert_true(gone);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), VIGIL__VIDEO_ORPHAN_EXIT);
}

int main(void) {
  /* orphans of the processes this test forks become its children */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    perror("PR_SET_CHILD_SUBREAPER");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN); /* a write to the gate of a worker that is gone fails, and says so */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parent_killed),
      cmocka_unit_test(test_parent_killed_before_tie),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
