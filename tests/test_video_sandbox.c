/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_sandbox.c - the decoder's worker process: a forbidden system
 * call kills it and the caller reports it, opening a file fails; a worker that stalls is killed at
 * its wall-time limit, one that spins at its CPU limit, one that allocates
 * past its memory limit fails; the caller hashes the next video normally
 * after each, and the sandboxed result equals the in-process one.
 */
#include "testutil.h"
#include "video_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "video/video_internal.h"


typedef struct lines {
  char buf[8192];
  size_t n;
} lines;

static int keep(void *ctx, const vigil_video_frame *f) {
  lines *l = ctx;
  char line[VIGIL_VIDEO_LINE_MAX];
  int n = vigil_video_format_line(f, line);
  if (l->n + (size_t)n + 1 < sizeof l->buf) {
    memcpy(l->buf + l->n, line, (size_t)n);
    l->n += (size_t)n;
    l->buf[l->n++] = '\n';
  }
  return VIGIL_OK;
}

/* The caller is fine: a normal video still hashes, the same in and out of the sandbox. */
static void still_works(const char *path) {
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = 0;
  lines a = {0}, b = {0};
  vigil_video_info ia, ib;
  assert_int_equal(vigil_video_hash_file(path, &o, keep, &a, &ia, NULL), 0);
  o.sandbox = 0;
  assert_int_equal(vigil_video_hash_file(path, &o, keep, &b, &ib, NULL), 0);
  assert_true(a.n > 0);
  assert_int_equal(a.n, b.n);
  assert_memory_equal(a.buf, b.buf, a.n);
  assert_string_equal(ia.md5, ib.md5);
  assert_int_equal(ia.frames, 12);
}

static void test_forbidden_syscall(void **state) {
  (void)state;
  const char *p = tv_y4m("ok.y4m", 32, 32, 25, 1, 12);
  static const long calls[] = {SYS_socket, SYS_execve, SYS_clone, SYS_ptrace, SYS_kill};
  for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
    vigil__video_test_forbidden_syscall = calls[i];
    vigil_error e;
    vigil_error_clear(&e);
    int rc = vigil_video_hash_file(p, NULL, NULL, NULL, NULL, &e);
    vigil__video_test_forbidden_syscall = 0;
    printf("  syscall %ld: rc %d %s\n", calls[i], rc, e.message);
    assert_int_equal(rc, VIGIL_ECORRUPT);
    assert_non_null(strstr(e.message, "forbidden system call"));
  }
  /* with decoder threads the filter lets threads be made, not processes:
   * clone without CLONE_THREAD still kills */
  {
    vigil_video_opts o;
    vigil_video_opts_default(&o);
    o.threads = 2;
    vigil__video_test_forbidden_syscall = SYS_clone;
    vigil_error e2;
    int rc2 = vigil_video_hash_file(p, &o, NULL, NULL, NULL, &e2);
    vigil__video_test_forbidden_syscall = 0;
    assert_int_equal(rc2, VIGIL_ECORRUPT);
    assert_int_equal(vigil_video_hash_file(p, &o, NULL, NULL, NULL, &e2), 0);
  }
  /* opening a file is refused (EACCES) without killing: the worker would
   * exit with status 99 had the open worked */
  vigil__video_test_forbidden_syscall = SYS_openat;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil_video_hash_file(p, NULL, NULL, NULL, NULL, &e);
  vigil__video_test_forbidden_syscall = 0;
  printf("  openat: rc %d %s\n", rc, e.message);
  assert_int_equal(rc, 0);
  still_works(p);
}

static void test_wall_limit(void **state) {
  (void)state;
  int fd = tv_y4m_pipe(32, 32, 0, 1); /* a header, then nothing: the worker waits for ever */
  assert_true(fd >= 0);
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.max_wall_seconds = 1;
  vigil_error e;
  int rc = vigil_video_hash_fd(fd, &o, NULL, NULL, NULL, &e);
  close(fd);
  tv_pipe_join();
  printf("  stalled: rc %d %s\n", rc, e.message);
  assert_int_equal(rc, VIGIL_ELIMIT);
  assert_non_null(strstr(e.message, "wall time"));
  still_works(tv_y4m("ok.y4m", 32, 32, 25, 1, 12));
}

static void test_cpu_limit(void **state) {
  (void)state;
  int fd = tv_y4m_pipe(256, 256, -1, 0); /* frames for ever */
  assert_true(fd >= 0);
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = 0;
  o.max_cpu_seconds = 1;
  o.max_wall_seconds = 60;
  vigil_error e;
  int rc = vigil_video_hash_fd(fd, &o, NULL, NULL, NULL, &e);
  close(fd);
  tv_pipe_join();
  printf("  endless: rc %d %s\n", rc, e.message);
  assert_int_equal(rc, VIGIL_ELIMIT);
  assert_non_null(strstr(e.message, "CPU time"));
}

static void test_memory_limit(void **state) {
  (void)state;
#if TU_ASAN
  printf("  skipped: the address-space limit is not set under AddressSanitizer\n");
#else
  /* a 4096x4096 frame needs its 25 MB packet and a 50 MB RGB copy: over 64 MiB */
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.max_memory = (uint64_t)64 << 20;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil_video_hash_file(tv_y4m("big.y4m", 4096, 4096, 25, 1, 1), &o, NULL, NULL, NULL, &e);
  printf("  64 MiB: rc %d %s\n", rc, e.message);
  assert_true(rc == VIGIL_ELIMIT || rc == VIGIL_ECORRUPT);
  assert_true(e.message[0] != 0);
#endif
  still_works(tv_y4m("ok.y4m", 32, 32, 25, 1, 12));
}

static int teardown(void **state) {
  (void)state;
  tv_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forbidden_syscall),
      cmocka_unit_test(test_wall_limit),
      cmocka_unit_test(test_cpu_limit),
      cmocka_unit_test(test_memory_limit),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
