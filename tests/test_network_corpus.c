/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_network_corpus.c - `vigil link` over the 6,201 Backpage ads in
 * ../shared: everything read, a plausible number of groups, and a split
 * into two days with --add giving exactly the groups of one run.  Skips
 * (77) when ../shared is absent.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

static char dir[64];

/* "id id id|id id|..." of all groups, members sorted, groups sorted. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *signature(const char *path) {
  json_error_t je;
  json_t *o = json_load_file(path, 0, &je);
  assert_non_null(o);
  json_t *gs = json_object_get(o, "groups");
  size_t ng = json_array_size(gs);
  char **keys = calloc(ng + 1, sizeof *keys);
  size_t total = 1;
  for (size_t i = 0; i < ng; i++) {
    json_t *m = json_object_get(json_array_get(gs, i), "members");
    size_t n = json_array_size(m);
    const char **ids = calloc(n + 1, sizeof *ids);
    size_t len = 2;
    for (size_t k = 0; k < n; k++) {
      ids[k] = json_string_value(json_array_get(m, k));
      len += strlen(ids[k]) + 1;
    }
    qsort(ids, n, sizeof *ids, cmp_str);
    keys[i] = calloc(len, 1);
    for (size_t k = 0; k < n; k++) {
      strcat(keys[i], ids[k]);
      strcat(keys[i], " ");
    }
    total += len;
    free(ids);
  }
  qsort(keys, ng, sizeof *keys, cmp_str);
  char *sig = calloc(total + ng + 1, 1);
  for (size_t i = 0; i < ng; i++) {
    strcat(sig, keys[i]);
    strcat(sig, "|");
    free(keys[i]);
  }
  free(keys);
  json_decref(o);
  return sig;
}

static void test_corpus(void **state) {
  (void)state;
  char buf[512], cmd[1024], *out;
  const char *corpus = tu_shared("corpora/ads/backpage_ca_2018.jsonl", buf, sizeof buf);
  assert_non_null(corpus);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --out %s/all %s", dir, corpus);
  assert_int_equal(tu_run(cmd, &out), 0);
  unsigned ads = 0, groups = 0, held = 0;
  assert_int_equal(sscanf(out, "%u ads (%*u new, %*u bad lines), %u groups holding %u ads", &ads, &groups, &held), 3);
  assert_int_equal(ads, 6201);
  assert_true(groups > 500 && groups < 3000);
  assert_true(held > 1500 && held < 6201);
  free(out);
  /* two days */
  snprintf(cmd, sizeof cmd, "head -n 3000 %s > %s/d1.jsonl && tail -n +3001 %s > %s/d2.jsonl", corpus, dir, corpus, dir);
  assert_int_equal(tu_run(cmd, NULL), 0);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link -q --out %s/inc %s/d1.jsonl && " VIGIL_CLI " link -q --add --out %s/inc %s/d2.jsonl",
           dir, dir, dir, dir);
  assert_int_equal(tu_run(cmd, NULL), 0);
  char p1[128], p2[128];
  snprintf(p1, sizeof p1, "%s/all/groups.json", dir);
  snprintf(p2, sizeof p2, "%s/inc/groups.json", dir);
  char *a = signature(p1), *b = signature(p2);
  assert_true(strlen(a) > 1000);
  assert_string_equal(a, b);
  free(a);
  free(b);
}

int main(void) {
  char buf[512];
  if (!tu_shared("corpora/ads/backpage_ca_2018.jsonl", buf, sizeof buf)) return 77;
  snprintf(dir, sizeof dir, "/tmp/vigil_link_corpusXXXXXX");
  if (!mkdtemp(dir)) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpus)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (tu_rmtree(dir) != 0) rc = 1;
  return rc;
}
