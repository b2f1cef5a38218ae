/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_text_cli_format.c - `vigil text` speaks the --format names of every
 * other command: json (the default) and text, a tab-separated line per
 * record that says what the JSON says; "tsv", the former name of text, is
 * still read; an unknown name is refused naming itself.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static char dir[256], in[400];

static void test_text_format(void **state) {
  (void)state;
  char cmd[1200], *js = NULL, *tx = NULL, *tsv = NULL, *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' text scan '%s' 2>/dev/null", VIGIL_CLI, in);
  assert_int_equal(tu_run(cmd, &js), 0);
  snprintf(cmd, sizeof cmd, "'%s' text scan --format text '%s' 2>/dev/null", VIGIL_CLI, in);
  assert_int_equal(tu_run(cmd, &tx), 0);
  snprintf(cmd, sizeof cmd, "'%s' text scan --format tsv '%s' 2>/dev/null", VIGIL_CLI, in);
  assert_int_equal(tu_run(cmd, &tsv), 0);
  assert_string_equal(tx, tsv);
  json_t *o = json_loads(js, JSON_DISABLE_EOF_CHECK, NULL);
  assert_non_null(o);
  /* line, id, risk, families, contacts */
  char want[300];
  snprintf(want, sizeof want, "1\t%s\t%.3f\t", json_string_value(json_object_get(o, "id")),
           json_number_value(json_object_get(o, "risk")));
  assert_non_null(strstr(tx, want));
  json_t *c0 = json_array_get(json_object_get(o, "contacts"), 0);
  snprintf(want, sizeof want, "%s:%s", json_string_value(json_object_get(c0, "type")),
           json_string_value(json_object_get(c0, "value")));
  assert_non_null(strstr(tx, want));
  json_decref(o);
  snprintf(cmd, sizeof cmd, "'%s' text contacts --format yaml '%s' 2>&1", VIGIL_CLI, in);
  assert_int_equal(tu_run(cmd, &out), 2);
  assert_non_null(strstr(out, "'yaml'"));
  assert_non_null(strstr(out, "json or text"));
  free(out);
  free(js);
  free(tx);
  free(tsv);
}

static int setup(void **state) {
  (void)state;
  if (!tu_mkdtemp(dir, sizeof dir, "txtfmt")) return -1;
  snprintf(in, sizeof in, "%s/ads.jsonl", dir);
  FILE *f = fopen(in, "w");
  if (!f) return -1;
  fputs("{\"id\":\"a1\",\"title\":\"new in town\",\"body\":\"sweet young girl, call 916-555-0142\"}\n", f);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_text_format)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
