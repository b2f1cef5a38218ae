/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_text_cli.c - `vigil text scan|contacts` end to end: JSON Lines in,
 * one result per record out (in order, with line numbers), bad records
 * reported without stopping the batch, exit status 1 when any was bad.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *run(const char *args, const char *input, int *status) {
  char path[] = "/tmp/vigil_text_cli_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, input, strlen(input)), (ssize_t)strlen(input));
  close(fd);
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' text %s '%s' 2>/dev/null", VIGIL_CLI, args, path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 1 << 16, n = 0;
  char *out = malloc(cap);
  assert_non_null(out);
  size_t got;
  while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) n += got;
  out[n] = 0;
  int st = pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  unlink(path);
  return out;
}

static void test_scan_batch(void **state) {
  (void)state;
  const char *in = "{\"id\":\"a\",\"title\":\"Young latina - 19\",\"body\":\"call 4one5 555 o199\"}\n"
                   "this is not json\n"
                   "{\"id\":\"c\",\"text\":\"im 16, snap: kitty22\"}\n"
                   "{\"id\":\"d\",\"nothing\":1}\n"
                   "{\"id\":\"e\",\"text\":\"bad \\u00ff utf8 \\ud83c\\udf39 ok\"}\n";
  int st;
  char *out = run("scan --format json", in, &st);
  assert_int_equal(st, 1);
  /* five results, in order */
  int lines = 0;
  for (char *p = out; *p; p++) lines += *p == '\n';
  assert_int_equal(lines, 5);
  char *l1 = strstr(out, "\"id\":\"a\"");
  char *l2 = strstr(out, "\"line\":2,\"error\"");
  char *l3 = strstr(out, "\"id\":\"c\"");
  assert_non_null(l1);
  assert_non_null(l2);
  assert_non_null(l3);
  assert_true(l2 > l1 && l3 > l2);
  assert_non_null(strstr(out, "\"value\":\"+14155550199\""));
  assert_non_null(strstr(out, "\"field\":\"body\",\"start\":5,\"end\":19,\"text\":\"4one5 555 o199\""));
  assert_non_null(strstr(out, "\"families\":[\"minor\"]"));
  assert_non_null(strstr(out, "\"line\":4,\"error\""));
  free(out);
}

static void test_contacts_tsv(void **state) {
  (void)state;
  int st;
  char *out = run("contacts --format tsv", "{\"id\":\"x\",\"message\":\"kik: honeybee 415.555.0199\"}\n", &st);
  assert_int_equal(st, 0);
  assert_string_equal(out, "1\tx\t\t\tphone:+14155550199,handle:honeybee\n");
  free(out);
  out = run("scan --kind bogus", "", &st);
  assert_int_equal(st, 2);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_scan_batch), cmocka_unit_test(test_contacts_tsv)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
