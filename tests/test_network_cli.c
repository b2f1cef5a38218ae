/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_network_cli.c - `vigil link` end to end: outputs, exit codes,
 * incremental --add and the --phones/--templates switches.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

static char dir[64];

static void write_file(const char *path, const char *s) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(s, f);
  fclose(f);
}

static const char day1[] =
    "{\"id\":\"a1\",\"text\":\"Sunny studio by the park, call 2135550111 for a viewing this week please\"}\n"
    "{\"id\":\"a2\",\"text\":\"Piano for sale, good condition. 213-555-0111\"}\n"
    "{\"id\":\"b1\",\"title\":\"Kira new in town\",\"body\":\"Hi gentlemen my name is Kira and I am a sweet girl "
    "visiting your city this week only call me at 3105550122 for an unforgettable time with a real companion\","
    "\"location\":\"Fresno\",\"posted_at\":\"2018-03-01\"}\n"
    "broken line\n";
static const char day2[] =
    "{\"id\":\"b2\",\"title\":\"Lena new in town\",\"body\":\"Hi gentlemen my name is Lena and I am a sweet girl "
    "visiting your city this week only call me at 4155550133 for an unforgettable time with a real companion\","
    "\"location\":\"Modesto\",\"posted_at\":\"2018-03-02\"}\n";

static json_t *load_groups(void) {
  char p[128];
  snprintf(p, sizeof p, "%s/out/groups.json", dir);
  json_error_t je;
  json_t *o = json_load_file(p, 0, &je);
  assert_non_null(o);
  return o;
}

static int group_size_of(json_t *o, const char *id) {
  json_t *gs = json_object_get(o, "groups"), *g;
  size_t i;
  json_array_foreach(gs, i, g) {
    json_t *m;
    size_t k;
    json_array_foreach(json_object_get(g, "members"), k, m) if (!strcmp(json_string_value(m), id)) return (int)json_array_size(json_object_get(g, "members"));
  }
  return 0;
}

static void test_run_and_add(void **state) {
  (void)state;
  char cmd[512], p1[128], p2[128], *out;
  snprintf(p1, sizeof p1, "%s/day1.jsonl", dir);
  snprintf(p2, sizeof p2, "%s/day2.jsonl", dir);
  write_file(p1, day1);
  write_file(p2, day2);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --out %s/out %s 2>/dev/null", dir, p1);
  assert_int_equal(tu_run(cmd, &out), 1); /* one broken line */
  assert_non_null(strstr(out, "3 ads (3 new, 1 bad lines), 1 groups"));
  free(out);
  static const char *const files[] = {"groups.json", "graph.graphml", "graph.dot", "report.html", "state.db"};
  for (int i = 0; i < 5; i++) {
    char p[160];
    struct stat st;
    snprintf(p, sizeof p, "%s/out/%s", dir, files[i]);
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size > 0);
  }
  json_t *o = load_groups();
  assert_int_equal(group_size_of(o, "a1"), 2);
  assert_int_equal(group_size_of(o, "b1"), 0);
  json_decref(o);
  /* day 2 joins b1 by template */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --add --out %s/out %s", dir, p2);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "4 ads (1 new, 0 bad lines), 2 groups"));
  free(out);
  o = load_groups();
  assert_int_equal(group_size_of(o, "b1"), 2);
  assert_int_equal(group_size_of(o, "b2"), 2);
  json_decref(o);
  /* --phones alone: the template pair is not a group; a fresh run drops the saved state */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --phones --out %s/out %s %s 2>/dev/null", dir, p1, p2);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_non_null(strstr(out, "4 ads (4 new, 1 bad lines), 1 groups"));
  free(out);
  o = load_groups();
  assert_int_equal(group_size_of(o, "b1"), 0);
  assert_int_equal(group_size_of(o, "a1"), 2);
  json_decref(o);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --templates -q --out %s/out %s %s 2>/dev/null", dir, p1, p2);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_string_equal(out, "");
  free(out);
  o = load_groups();
  assert_int_equal(group_size_of(o, "b1"), 2);
  assert_int_equal(group_size_of(o, "a1"), 0);
  json_decref(o);
}

static void test_usage(void **state) {
  (void)state;
  char cmd[512], *out;
  assert_int_equal(tu_run(VIGIL_CLI " link --help", &out), 0);
  assert_non_null(strstr(out, "usage: vigil link"));
  free(out);
  assert_int_equal(tu_run(VIGIL_CLI " link x.jsonl 2>/dev/null", NULL), 2);       /* no --out */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --out %s/o2 2>/dev/null", dir);
  assert_int_equal(tu_run(cmd, NULL), 2);                                         /* no input */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --min-size 0 --out %s/o2 x 2>/dev/null", dir);
  assert_int_equal(tu_run(cmd, NULL), 2);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --jaccard 2 --out %s/o2 x 2>/dev/null", dir);
  assert_int_equal(tu_run(cmd, NULL), 2);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --add --out %s/nostate x 2>/dev/null", dir);
  assert_int_equal(tu_run(cmd, NULL), 2);                                         /* nothing to add to */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --out %s/o2 %s/missing.jsonl 2>/dev/null", dir, dir);
  assert_int_equal(tu_run(cmd, NULL), 1);                                         /* input unreadable */
  snprintf(cmd, sizeof cmd, "printf '{\"id\":\"s\",\"text\":\"x\"}\\n' | " VIGIL_CLI " link -q --out %s/o3 -", dir);
  assert_int_equal(tu_run(cmd, NULL), 0);                                         /* stdin */
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil_link_cliXXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_and_add),
      cmocka_unit_test(test_usage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
