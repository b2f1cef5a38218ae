/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_media_cli_progress.c - `vigil hash` over a batch draws its progress
 * (done/total, rate, ETA, failures so far) when stderr is a terminal, and
 * prints none into a pipe.
 *
 * The terminal is a real pseudo-terminal (forkpty), not VIGIL_PROGRESS=1,
 * so the test covers how vigil decides that a person is watching.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define PICTURES 60
#define BROKEN 2

static char dir[256], tree[300];

/* Runs `vigil hash -r tree` with stderr (and stdin) on a new terminal and
 * stdout to /dev/null; returns what the terminal showed (malloc'd) and
 * the exit status in *status. */
static char *hash_on_terminal(int *status) {
  int master;
  pid_t pid = forkpty(&master, NULL, NULL, NULL);
  assert_true(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) < 0) _exit(126);
    unsetenv("VIGIL_PROGRESS"); /* the terminal alone decides */
    execl(VIGIL_CLI, "vigil", "hash", "-r", tree, (char *)NULL);
    _exit(127);
  }
  size_t cap = 1 << 16, n = 0;
  char *out = malloc(cap);
  assert_non_null(out);
  for (;;) {
    if (n + 1 == cap) {
      char *m = realloc(out, cap *= 2);
      assert_non_null(m);
      out = m;
    }
    ssize_t got = read(master, out + n, cap - 1 - n);
    if (got > 0) n += (size_t)got;
    else if (got < 0 && errno == EINTR) continue;
    else break; /* EIO: the child closed the terminal */
  }
  out[n] = 0;
  close(master);
  assert_int_equal(waitpid(pid, status, 0), pid);
  return out;
}

static void test_hash_progress(void **state) {
  (void)state;
  size_t len;
  uint8_t *jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &len);
  assert_non_null(jpg);
  assert_int_equal(mkdir(tree, 0700), 0);
  for (int i = 0; i < PICTURES + BROKEN; i++) {
    char path[400];
    snprintf(path, sizeof path, "%s/p%02d.jpg", tree, i);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (i < PICTURES) assert_int_equal(fwrite(jpg, 1, len, f), len);
    else fputs("not a picture, only text that no decoder takes\n", f);
    fclose(f);
  }
  free(jpg);

  int st;
  char *out = hash_on_terminal(&st);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1); /* two inputs failed */
  char want[64];
  snprintf(want, sizeof want, "%d/%d hashed, ", PICTURES + BROKEN, PICTURES + BROKEN);
  if (!strstr(out, want)) print_message("terminal showed: %s\n", out);
  assert_non_null(strstr(out, want));
  assert_non_null(strstr(out, "/s, ETA "));
  snprintf(want, sizeof want, ", %d failed", BROKEN);
  assert_non_null(strstr(out, want));
  assert_non_null(strchr(out, '\r')); /* redrawn in place */
  free(out);

  /* into a pipe: the failures are named, no progress is drawn */
  char cmd[800];
  snprintf(cmd, sizeof cmd, "VIGIL_PROGRESS= '%s' hash -r '%s' 2>&1 >/dev/null", VIGIL_CLI, tree);
  char *piped = NULL;
  assert_int_equal(tu_run(cmd, &piped), 1);
  assert_null(strstr(piped, " hashed, "));
  assert_null(strchr(piped, '\r'));
  assert_non_null(strstr(piped, "p60.jpg"));
  free(piped);
}

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "hprog")) return -1;
  snprintf(tree, sizeof tree, "%s/tree", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_hash_progress)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
