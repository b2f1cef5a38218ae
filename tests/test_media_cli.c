/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_media_cli.c - `vigil hash` end to end: output formats, ordering under
 * -j, recursion, stdin, exit codes, and a batch that goes on past failures.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

#define S VIGIL_SOURCE_DIR "/samples"

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static void test_csv_and_order(void **state) {
  (void)state;
  char *out1, *out2;
  assert_int_equal(tu_run(VIGIL_CLI " hash -j 1 -r " S, &out1), 0);
  assert_int_equal(tu_run(VIGIL_CLI " hash -j 4 -r " S, &out2), 0);
  assert_string_equal(out1, out2); /* same order whatever the parallelism */
  assert_int_equal(count_lines(out1), 7);
  /* hash,quality,path */
  char *line = strtok(out1, "\n");
  assert_int_equal(strcspn(line, ","), 64);
  assert_non_null(strstr(line, ",100," S "/"));
  free(out1);
  free(out2);
}

static void test_json(void **state) {
  (void)state;
  char *out;
  assert_int_equal(tu_run(VIGIL_CLI " hash --format json --dihedral " S "/rings.jpg", &out), 0);
  json_error_t je;
  json_t *o = json_loads(out, 0, &je);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "format")), "jpeg");
  assert_int_equal(json_integer_value(json_object_get(o, "width")), 1024);
  assert_int_equal(strlen(json_string_value(json_object_get(o, "pdq"))), 64);
  assert_int_equal(json_object_size(json_object_get(o, "dihedral")), 7);
  json_decref(o);
  free(out);
}

static void test_stdin_and_modes(void **state) {
  (void)state;
  char *a, *b, *c;
  assert_int_equal(tu_run(VIGIL_CLI " hash - < " S "/rings.jpg", &a), 0);
  assert_int_equal(tu_run(VIGIL_CLI " hash " S "/rings.jpg", &b), 0);
  assert_memory_equal(a, b, 64);
  assert_non_null(strstr(a, ",-\n"));
  assert_int_equal(tu_run(VIGIL_CLI " hash --mode cli " S "/rings.jpg", &c), 0);
  assert_memory_not_equal(c, b, 64); /* 1024 px wide: the cli mode resizes first */
  free(a);
  free(b);
  free(c);
}

static void test_partial_failure(void **state) {
  (void)state;
  char *out;
  int rc = tu_run(VIGIL_CLI " hash " S "/rings.jpg " VIGIL_SOURCE_DIR "/README.md /nonexistent " S
                             "/tiles.gif 2>/dev/null",
                  &out);
  assert_int_equal(rc, 1);
  assert_int_equal(count_lines(out), 2); /* the two good images still hashed */
  free(out);
  rc = tu_run(VIGIL_CLI " hash " VIGIL_SOURCE_DIR "/README.md 2>&1 >/dev/null", &out);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "unsupported format"));
  free(out);
  rc = tu_run(VIGIL_CLI " hash " S " 2>&1 >/dev/null", &out); /* a directory without -r */
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "directory"));
  free(out);
}

static void test_usage(void **state) {
  (void)state;
  char *out;
  assert_int_equal(tu_run(VIGIL_CLI " hash --help", &out), 0);
  assert_non_null(strstr(out, "usage: vigil hash"));
  free(out);
  assert_int_equal(tu_run(VIGIL_CLI " hash 2>/dev/null", NULL), 2);
  assert_int_equal(tu_run(VIGIL_CLI " hash --mode bogus x 2>/dev/null", NULL), 2);
  assert_int_equal(tu_run(VIGIL_CLI " hash -j 0 x 2>/dev/null", NULL), 2);
  assert_int_equal(tu_run(VIGIL_CLI " nosuchcommand 2>/dev/null", NULL), 2);
  assert_int_equal(tu_run(VIGIL_CLI " --version", &out), 0);
  assert_non_null(strstr(out, "vigil "));
  free(out);
}

/* The red-team cases of the CLI: a FIFO hung `vigil hash` forever, two
 * `ln -s . x` links made -r walk without end.  Every command runs under
 * `timeout`, so the old behaviour fails instead of hanging the suite. */
static void test_fifo_and_symlink_loop(void **state) {
  (void)state;
  char dir[] = "/tmp/vigil-test-walk-XXXXXX", cmd[1024];
  assert_non_null(mkdtemp(dir));
  snprintf(cmd, sizeof cmd,
           "mkdir -p %s/t/sub && cp " S "/rings.jpg %s/t/ && ln -s . %s/t/x && ln -s . %s/t/y && "
           "ln -s .. %s/t/sub/up && mkfifo %s/t/fifo",
           dir, dir, dir, dir, dir, dir);
  assert_int_equal(tu_run(cmd, NULL), 0);
  char *out;
  /* -r: the picture once, the FIFO and the loops skipped with a message */
  snprintf(cmd, sizeof cmd, "timeout 20 " VIGIL_CLI " hash -r %s/t 2>%s/err", dir, dir);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_int_equal(count_lines(out), 1);
  free(out);
  snprintf(cmd, sizeof cmd, "grep -c 'skipped' %s/err", dir);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_int_equal(atoi(out), 4); /* fifo, x, y, up */
  free(out);
  /* a FIFO named on the command line with no writer: an error, at once */
  snprintf(cmd, sizeof cmd, "timeout 20 " VIGIL_CLI " hash %s/t/fifo", dir);
  assert_int_equal(tu_run(cmd, NULL), 1);
  /* ...and a pipe with a writer (a shell's <(...)) is read to its end */
  snprintf(cmd, sizeof cmd, "bash -c 'timeout 20 " VIGIL_CLI " hash <(cat " S "/rings.jpg)'");
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_int_equal(strcspn(out, ","), 64);
  free(out);
  assert_int_equal(tu_rmtree(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_and_order),  cmocka_unit_test(test_json),  cmocka_unit_test(test_stdin_and_modes),
      cmocka_unit_test(test_partial_failure), cmocka_unit_test(test_usage),
      cmocka_unit_test(test_fifo_and_symlink_loop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
