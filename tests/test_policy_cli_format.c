/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_policy_cli_format.c - `vigil policy` speaks the --format names of
 * every other command: text and json for decide, check and show (plus
 * markdown, and file for the default policy file), an unknown name refused
 * naming itself.  The JSON of show is checked against the text table it
 * mirrors, and text decisions against the JSON ones.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static char dir[256];

static const char requests[] =
    "{\"id\":\"r1\",\"action\":\"dm_text\",\"actor\":{\"band\":\"adult\"},\"target\":{\"band\":\"13-15\"}}\n"
    "not json\n"
    "{\"id\":\"r2\",\"action\":\"search\",\"actor\":{\"band\":\"adult\"},\"target\":{\"band\":\"adult\"}}\n";

static char *cli(const char *args, int *st) {
  char cmd[1200], *out = NULL;
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' policy %s 2>/dev/null", dir, VIGIL_CLI, args);
  *st = tu_run(cmd, &out);
  assert_non_null(out);
  return out;
}

static void test_decide(void **state) {
  (void)state;
  int st;
  char *js = cli("decide --format json req.jsonl", &st);
  assert_int_equal(st, 1);
  char *tx = cli("decide --format text req.jsonl", &st);
  assert_int_equal(st, 1);
  /* each JSON decision has its text line: line, id, decision, conditions, rule, sentence */
  char *save = NULL, *line = strtok_r(js, "\n", &save);
  int n = 0;
  for (; line; line = strtok_r(NULL, "\n", &save), n++) {
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    char want[1024];
    if (json_object_get(o, "error"))
      snprintf(want, sizeof want, "%d\terror\t%s\n", n + 1,
               json_string_value(json_object_get(json_object_get(o, "error"), "message")));
    else
      snprintf(want, sizeof want, "%d\t%s\t%s\t", n + 1, json_string_value(json_object_get(o, "id")),
               json_string_value(json_object_get(o, "decision")));
    if (!strstr(tx, want)) fail_msg("no text line '%s' in:\n%s", want, tx);
    if (!json_object_get(o, "error")) {
      snprintf(want, sizeof want, "\t%s\t%s\n", json_string_value(json_object_get(json_object_get(o, "rule"), "id")),
               json_string_value(json_object_get(o, "sentence")));
      assert_non_null(strstr(tx, want));
    }
    json_decref(o);
  }
  assert_int_equal(n, 3);
  free(js);
  free(tx);
  /* json is the default */
  js = cli("decide req.jsonl", &st);
  assert_int_equal(st, 1);
  assert_non_null(strstr(js, "{\"id\":\"r1\",\"decision\":\"deny\""));
  free(js);
  free(cli("decide --format yaml req.jsonl", &st));
  assert_int_equal(st, 2);
}

static void test_check_show(void **state) {
  (void)state;
  int st;
  char *def = cli("show --format file", &st);
  assert_int_equal(st, 0);
  assert_int_equal(strncmp(def, "vigil-policy 1\n", 15), 0);
  char p[400];
  snprintf(p, sizeof p, "%s/ok.policy", dir);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(def, f);
  fclose(f);
  free(def);
  char *out = cli("check --format json ok.policy bad.policy", &st);
  assert_int_equal(st, 1);
  char *nl = strchr(out, '\n');
  assert_non_null(nl);
  *nl = 0;
  json_t *a = json_loads(out, 0, NULL), *b = json_loads(nl + 1, 0, NULL);
  assert_true(json_is_true(json_object_get(a, "ok")));
  assert_true(json_integer_value(json_object_get(a, "rules")) > 10);
  assert_true(json_is_false(json_object_get(b, "ok")));
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(b, "error"), "message")), "bad.policy:1"));
  free(out);
  out = cli("check ok.policy", &st);
  assert_int_equal(st, 0);
  char want[200];
  snprintf(want, sizeof want, "ok.policy: ok (%lld rules", (long long)json_integer_value(json_object_get(a, "rules")));
  assert_non_null(strstr(out, want));
  free(out);
  json_decref(a);
  json_decref(b);

  /* show: json carries what the text table shows */
  char *tx = cli("show --format text", &st);
  assert_int_equal(st, 0);
  char *old = cli("show --format table", &st); /* the former name */
  assert_int_equal(st, 0);
  assert_string_equal(tx, old);
  free(old);
  old = cli("show", &st);
  assert_string_equal(tx, old);
  free(old);
  char *js = cli("show --format json", &st);
  assert_int_equal(st, 0);
  json_t *o = json_loads(js, 0, NULL);
  assert_non_null(o);
  json_t *rules = json_object_get(o, "rules"), *r;
  size_t i;
  assert_true(json_array_size(rules) > 10);
  json_array_foreach(rules, i, r) {
    assert_non_null(strstr(tx, json_string_value(json_object_get(r, "id"))));
    assert_non_null(strstr(tx, json_string_value(json_object_get(r, "sentence"))));
  }
  json_array_foreach(json_object_get(o, "citations"), i, r)
      assert_non_null(strstr(tx, json_string_value(json_object_get(r, "id"))));
  json_t *q = json_array_get(json_object_get(o, "quiet_hours"), 0);
  snprintf(want, sizeof want, "%-8s %s-%s", json_string_value(json_object_get(q, "band")),
           json_string_value(json_object_get(json_object_get(q, "hours"), "from")),
           json_string_value(json_object_get(json_object_get(q, "hours"), "to")));
  assert_non_null(strstr(tx, want));
  assert_true(json_array_size(json_object_get(o, "settings")) > 5);
  json_decref(o);
  free(js);
  free(tx);
  out = cli("show --format markdown", &st);
  assert_int_equal(st, 0);
  assert_int_equal(strncmp(out, "| action | actor | target |", 27), 0);
  free(out);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "'%s' policy show --format yaml 2>&1", VIGIL_CLI);
  assert_int_equal(tu_run(cmd, &out), 2);
  assert_non_null(strstr(out, "'yaml'"));
  free(out);
  free(cli("check --format yaml ok.policy", &st));
  assert_int_equal(st, 2);
}

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "polfmt")) return -1;
  char p[400];
  snprintf(p, sizeof p, "%s/req.jsonl", dir);
  FILE *f = fopen(p, "w");
  if (!f) return -1;
  fputs(requests, f);
  fclose(f);
  snprintf(p, sizeof p, "%s/bad.policy", dir);
  f = fopen(p, "w");
  if (!f) return -1;
  fputs("not a policy\n", f);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_decide), cmocka_unit_test(test_check_show)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
