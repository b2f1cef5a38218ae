/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_common_atomic_file.c - a file replaced whole or not at all
 * (common/atomic_file.h).  A save replaces the old file and leaves nothing
 * beside it, with the caller's mode; a failure at each step of a commit
 * (flush, fsync, rename, forced by the object's test hook) or an abort
 * leaves the old file byte for byte and no temporary file; a failed sync
 * of the directory is reported with the new file in place.  Then the two
 * users, the PDQ and the vPDQ index saves, failing for real: a write
 * refused by the file-size limit (in a child process, so the limit stays
 * there) and a rename over a directory.  A temporary file a killed
 * process left is removed by the next save once its PID is no live one's.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "vigil/match.h"
#include "vigil/video.h"

static char dir[512], path[600];

static const char OLD[] = "the old file, which a failed save must leave as it was\n";

/* The names in dir, sorted into one line ("a b c"). */
static void names(char *out, size_t cap) {
  out[0] = 0;
  struct dirent **list;
  int n = scandir(dir, &list, NULL, alphasort);
  assert_true(n >= 0);
  size_t len = 0;
  for (int i = 0; i < n; i++) {
    const char *d = list[i]->d_name;
    if (strcmp(d, ".") && strcmp(d, "..")) {
      int w = snprintf(out + len, cap - len, "%s%s", len ? " " : "", d);
      if (w > 0 && (size_t)w < cap - len) len += (size_t)w;
    }
    free(list[i]);
  }
  free(list);
}

/* dir holds path's file alone, and it reads want. */
static void only_file_is(const char *want, size_t n) {
  char seen[1024];
  names(seen, sizeof seen);
  assert_string_equal(seen, strrchr(path, '/') + 1);
  size_t len;
  uint8_t *got = tu_slurp(path, &len);
  assert_non_null(got);
  assert_int_equal(len, n);
  assert_memory_equal(got, want, n);
  free(got);
}

static void save(const char *text, mode_t mode, int fail_at, int want_rc) {
  vigil__atomic_file af;
  vigil_error e;
  vigil_error_clear(&e);
  assert_int_equal(vigil__atomic_file_open(&af, path, mode, &e), VIGIL_OK);
  assert_non_null(af.f);
  assert_ptr_equal(af.path, path);
  assert_int_equal(strncmp(af.tmp, path, strlen(path)), 0); /* beside it */
  struct stat st;
  assert_int_equal(stat(af.tmp, &st), 0);
  assert_int_equal(fputs(text, af.f) >= 0, 1);
  af.fail_at = fail_at;
  int rc = vigil__atomic_file_commit(&af, &e);
  if (rc) printf("  step %d: %s\n", fail_at, e.message);
  assert_int_equal(rc, want_rc);
  if (rc) assert_true(e.message[0] != 0);
  assert_null(af.f); /* released either way */
  assert_null(af.tmp);
}

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "atomic")) return -1;
  snprintf(path, sizeof path, "%s/index.bin", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

/* A fresh start for each test: dir holds only the old file. */
static int fresh(void **state) {
  (void)state;
  if (tu_rmtree(dir) != 0 || mkdir(dir, 0700) != 0) return -1;
  save(OLD, 0600, 0, VIGIL_OK);
  return 0;
}

static void test_replaces(void **state) {
  (void)state;
  only_file_is(OLD, sizeof OLD - 1);
  static const char NEW[] = "new";
  mode_t um = umask(022);
  save(NEW, 0640, 0, VIGIL_OK);
  umask(um);
  only_file_is(NEW, 3);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640);
  save(OLD, 0600, 0, VIGIL_OK);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  only_file_is(OLD, sizeof OLD - 1);
}

static void test_failed_steps(void **state) {
  (void)state;
  static const int steps[] = {VIGIL__ATOMIC_FLUSH, VIGIL__ATOMIC_SYNC, VIGIL__ATOMIC_RENAME};
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    save("a new file that never arrives", 0600, steps[i], VIGIL_EIO);
    only_file_is(OLD, sizeof OLD - 1);
  }
  /* after the rename: the new file is there, and the caller is told that
   * it may not survive a power cut */
  vigil__atomic_file af;
  vigil_error e;
  assert_int_equal(vigil__atomic_file_open(&af, path, 0600, NULL), VIGIL_OK);
  fputs("new", af.f);
  af.fail_at = VIGIL__ATOMIC_DIRSYNC;
  assert_int_equal(vigil__atomic_file_commit(&af, &e), VIGIL_EIO);
  assert_non_null(strstr(e.message, "saved, but"));
  only_file_is("new", 3);
}

static void test_abort_and_open(void **state) {
  (void)state;
  vigil__atomic_file af;
  assert_int_equal(vigil__atomic_file_open(&af, path, 0600, NULL), VIGIL_OK);
  fputs("half a file", af.f);
  fflush(af.f);
  vigil__atomic_file_abort(&af);
  assert_null(af.f);
  vigil__atomic_file_abort(&af); /* an empty one is fine */
  only_file_is(OLD, sizeof OLD - 1);
  /* two saves of one path at once have files of their own */
  vigil__atomic_file a2;
  assert_int_equal(vigil__atomic_file_open(&af, path, 0600, NULL), VIGIL_OK);
  assert_int_equal(vigil__atomic_file_open(&a2, path, 0600, NULL), VIGIL_OK);
  assert_string_not_equal(af.tmp, a2.tmp);
  fputs("one", af.f);
  fputs("two", a2.f);
  assert_int_equal(vigil__atomic_file_commit(&af, NULL), VIGIL_OK);
  assert_int_equal(vigil__atomic_file_commit(&a2, NULL), VIGIL_OK);
  only_file_is("two", 3);
  /* a directory that is not there: nothing to release */
  vigil_error e;
  assert_int_equal(vigil__atomic_file_open(&af, "/nonexistent-dir/x", 0600, &e), VIGIL_EIO);
  assert_null(af.f);
  assert_null(af.tmp);
  vigil__atomic_file_abort(&af);
  assert_int_equal(vigil__atomic_file_open(&af, "", 0600, NULL), VIGIL_EINVAL);
}

/* ---- the index saves, failing for real ---- */

static vigil_pdq_hash hash_of(uint64_t *rng) {
  vigil_pdq_hash h;
  for (int k = 0; k < 32; k += 8) {
    uint64_t r = tu_rand(rng);
    memcpy(h.bytes + k, &r, 8);
  }
  return h;
}

/* 2000 hashes: about 100 KB saved, over the 16 KB write limit below */
static vigil_pdq_index *pdq_index(void) {
  vigil_pdq_index *ix;
  assert_int_equal(vigil_pdq_index_new(&ix, NULL), VIGIL_OK);
  uint64_t rng = 7;
  for (uint64_t i = 0; i < 2000; i++) {
    vigil_pdq_hash h = hash_of(&rng);
    assert_int_equal(vigil_pdq_index_add(ix, &h, i, NULL), VIGIL_OK);
  }
  return ix;
}

static vigil_vpdq_index *vpdq_index(void) {
  vigil_vpdq_index *ix;
  assert_int_equal(vigil_vpdq_index_new(&ix, NULL), VIGIL_OK);
  static vigil_video_frame f[500];
  uint64_t rng = 11;
  for (int v = 0; v < 4; v++) {
    for (int i = 0; i < 500; i++) {
      f[i].frame_number = i;
      f[i].quality = 100;
      f[i].hash = hash_of(&rng);
      f[i].timestamp = i;
    }
    assert_int_equal(vigil_vpdq_index_add(ix, 100 + (uint64_t)v, f, 500, NULL), VIGIL_OK);
  }
  return ix;
}

/* Saves in a child process whose writes stop at 16 KB (SIGXFSZ ignored,
 * so a write past it fails with EFBIG); the child's exit status is the
 * negated result code. */
static int save_limited(int pdq) {
  vigil_pdq_index *p = pdq ? pdq_index() : NULL;
  vigil_vpdq_index *v = pdq ? NULL : vpdq_index();
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {16384, RLIM_INFINITY};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(100);
    vigil_error e;
    vigil_error_clear(&e);
    int rc = pdq ? vigil_pdq_index_save(p, path, &e) : vigil_vpdq_index_save(v, path, "m", 1, &e);
    printf("  %s save, 16 KB limit: rc %d %s\n", pdq ? "pdq" : "vpdq", rc, e.message);
    fflush(stdout);
    _exit(-rc);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  vigil_pdq_index_free(p);
  vigil_vpdq_index_free(v);
  assert_true(WIFEXITED(st));
  return -WEXITSTATUS(st);
}

/* Temporary files a killed process left: the next save removes those of
 * PIDs no live process has, and keeps those of live PIDs and other names. */
static void test_stale_swept(void **state) {
  (void)state;
  pid_t dead = fork();
  assert_true(dead >= 0);
  if (dead == 0) _exit(0);
  assert_int_equal(waitpid(dead, NULL, 0), dead);
  char stale[700], live[700], other[700], otherpath[700];
  snprintf(stale, sizeof stale, "%s.tmp.%ld.0badf00d", path, (long)dead);
  snprintf(live, sizeof live, "%s.tmp.%ld.0123abcd", path, (long)getppid()); /* alive: maybe saving */
  snprintf(other, sizeof other, "%s.tmp.notes", path);
  snprintf(otherpath, sizeof otherpath, "%s/other.bin.tmp.%ld.0badf00d", dir, (long)dead); /* another file's */
  const char *made[] = {stale, live, other, otherpath};
  for (int i = 0; i < 4; i++) {
    FILE *f = fopen(made[i], "w");
    assert_non_null(f);
    fclose(f);
  }
  save("new", 0600, 0, VIGIL_OK);
  assert_int_equal(access(stale, F_OK), -1);
  assert_int_equal(access(live, F_OK), 0);
  assert_int_equal(access(other, F_OK), 0);
  assert_int_equal(access(otherpath, F_OK), 0);
}

static void test_index_saves(void **state) {
  (void)state;
  for (int pdq = 1; pdq >= 0; pdq--) {
    assert_int_equal(save_limited(pdq), VIGIL_EIO);
    only_file_is(OLD, sizeof OLD - 1);
  }
  /* and a save that works leaves one file that loads */
  vigil_pdq_index *p = pdq_index(), *p2;
  assert_int_equal(vigil_pdq_index_save(p, path, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_load(&p2, path, NULL), VIGIL_OK);
  assert_int_equal(vigil_pdq_index_size(p2), 2000);
  vigil_pdq_index_free(p2);
  char seen[1024];
  names(seen, sizeof seen);
  assert_string_equal(seen, "index.bin");
  /* a rename over a directory fails: the temporary file goes too */
  char sub[700];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  vigil_error e;
  assert_int_equal(vigil_pdq_index_save(p, sub, &e), VIGIL_EIO);
  printf("  pdq save over a directory: %s\n", e.message);
  vigil_vpdq_index *v = vpdq_index();
  assert_int_equal(vigil_vpdq_index_save(v, sub, NULL, 0, &e), VIGIL_EIO);
  printf("  vpdq save over a directory: %s\n", e.message);
  names(seen, sizeof seen);
  assert_string_equal(seen, "index.bin sub");
  struct stat st;
  assert_int_equal(vigil_vpdq_index_save(v, path, NULL, 0, NULL), VIGIL_OK);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600); /* the vPDQ index is the owner's only */
  vigil_pdq_index_free(p);
  vigil_vpdq_index_free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_replaces, fresh),
      cmocka_unit_test_setup(test_failed_steps, fresh),
      cmocka_unit_test_setup(test_abort_and_open, fresh),
      cmocka_unit_test_setup(test_stale_swept, fresh),
      cmocka_unit_test_setup(test_index_saves, fresh),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
