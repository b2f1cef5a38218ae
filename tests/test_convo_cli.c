/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_convo_cli.c - `vigil convo score` as a batch tool: one result per
 * input line in order, bad lines reported with their line number without
 * stopping the batch, exit codes 0/1/2.  Needs nothing outside the tree.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int run_cli(const char *args, const char *input, char *out, size_t cap) {
  char in_path[] = "convo_cli_in_XXXXXX";
  int fd = mkstemp(in_path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs(input, f);
  fclose(f);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s convo %s %s 2>/dev/null", VIGIL_CLI, args, in_path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  int st = pclose(p);
  remove(in_path);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_batch(void **state) {
  (void)state;
  static char out[65536];
  const char *input =
      "{\"id\":\"a\",\"messages\":[{\"from\":\"x\",\"text\":\"im 13\"},{\"from\":\"y\",\"text\":\"are you home alone? "
      "wanna meet up, i want to kiss you\"}]}\n"
      "{\"id\":\"b\",\"messages\":[{\"from\":\"x\"\n"
      "\n"
      "{\"id\":\"c\",\"messages\":[{\"from\":\"x\",\"text\":\"hello\"},{\"from\":\"y\",\"text\":\"hi there\"}]}\n";
  int rc = run_cli("score", input, out, sizeof out);
  assert_int_equal(rc, 1);
  char *save = NULL, *l1 = strtok_r(out, "\n", &save), *l2 = strtok_r(NULL, "\n", &save),
       *l3 = strtok_r(NULL, "\n", &save);
  assert_non_null(l3);
  assert_null(strtok_r(NULL, "\n", &save));
  json_t *a = json_loads(l1, 0, NULL), *b = json_loads(l2, 0, NULL), *c = json_loads(l3, 0, NULL);
  assert_true(a && b && c);
  assert_string_equal(json_string_value(json_object_get(a, "id")), "a");
  assert_true(json_is_true(json_object_get(a, "grooming")));
  assert_int_equal(json_integer_value(json_object_get(a, "line")), 1);
  assert_int_equal(json_integer_value(json_object_get(b, "line")), 2);
  assert_non_null(json_object_get(b, "error"));
  assert_string_equal(json_string_value(json_object_get(c, "id")), "c");
  assert_int_equal(json_integer_value(json_object_get(c, "line")), 4);
  assert_true(json_is_false(json_object_get(c, "grooming")));
  json_decref(a);
  json_decref(b);
  json_decref(c);

  rc = run_cli("score", "{\"messages\":[{\"from\":\"x\",\"text\":\"hello\"}]}\n", out, sizeof out);
  assert_int_equal(rc, 0);
}

static void test_usage(void **state) {
  (void)state;
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s convo score --bogus x >/dev/null 2>&1", VIGIL_CLI);
  int st = system(cmd);
  assert_int_equal(WEXITSTATUS(st), 2);
  snprintf(cmd, sizeof cmd, "%s convo score --help >/dev/null 2>&1", VIGIL_CLI);
  st = system(cmd);
  assert_int_equal(WEXITSTATUS(st), 0);
  snprintf(cmd, sizeof cmd, "%s convo score /nonexistent/file.jsonl >/dev/null 2>&1", VIGIL_CLI);
  st = system(cmd);
  assert_int_equal(WEXITSTATUS(st), 2);
  snprintf(cmd, sizeof cmd, "%s convo frobnicate >/dev/null 2>&1", VIGIL_CLI);
  st = system(cmd);
  assert_int_equal(WEXITSTATUS(st), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_batch), cmocka_unit_test(test_usage)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
