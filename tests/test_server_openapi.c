/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_openapi.c - docs/openapi.yaml lists exactly the routes the
 * server serves.  The YAML subset read here is the one OpenAPI uses for
 * its path table: under the top-level "paths:" key, a path at two spaces
 * of indent ("  /v1/x:") and its operations at four ("    get:"), with
 * their query parameters as flow mappings at eight
 * ("        - {name: x, in: query, ...}").
 *
 * Both directions are checked: every route is documented and nothing
 * documented is missing, and each route's query parameters are the ones
 * the server accepts (vigil_server_route_query: it refuses the others).
 */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/server.h"

#define MAXOPS 128

static void test_openapi_matches_routes(void **state) {
  (void)state;
  FILE *f = fopen(VIGIL_SOURCE_DIR "/docs/openapi.yaml", "r");
  assert_non_null(f);
  char line[1024], path[512] = "", ops[MAXOPS][600];
  int nops = 0, in_paths = 0;
  static const char *const methods[] = {"get", "post", "put", "delete", "patch", "head", "options", NULL};
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] && line[0] != ' ' && line[0] != '#') {
      in_paths = !strcmp(line, "paths:");
      continue;
    }
    if (!in_paths) continue;
    if (!strncmp(line, "  /", 3) && line[strlen(line) - 1] == ':') {
      snprintf(path, sizeof path, "%.*s", (int)strlen(line) - 3, line + 2);
      continue;
    }
    if (!strncmp(line, "    ", 4) && line[4] != ' ' && path[0]) {
      for (int m = 0; methods[m]; m++) {
        size_t ml = strlen(methods[m]);
        if (!strncmp(line + 4, methods[m], ml) && line[4 + ml] == ':') {
          assert_true(nops < MAXOPS);
          char up[16];
          for (size_t k = 0; k <= ml; k++) up[k] = (char)toupper((unsigned char)methods[m][k]);
          snprintf(ops[nops++], sizeof ops[0], "%s %s", up, path);
        }
      }
    }
  }
  fclose(f);
  size_t n = vigil_server_route_count();
  assert_true(n > 0);
  int matched = 0;
  for (size_t i = 0; i < n; i++) {
    vigil_route_info ri;
    assert_int_equal(vigil_server_route_get(i, &ri), 0);
    char want[600];
    snprintf(want, sizeof want, "%s %s", ri.method, ri.pattern);
    int found = 0;
    for (int k = 0; k < nops; k++) found |= !strcmp(ops[k], want);
    if (!found) printf("route %s is missing from docs/openapi.yaml\n", want);
    assert_true(found);
    matched++;
  }
  for (int k = 0; k < nops; k++) {
    int found = 0;
    for (size_t i = 0; i < n; i++) {
      vigil_route_info ri;
      vigil_server_route_get(i, &ri);
      char want[600];
      snprintf(want, sizeof want, "%s %s", ri.method, ri.pattern);
      found |= !strcmp(ops[k], want);
    }
    if (!found) printf("docs/openapi.yaml lists %s, which the server does not serve\n", ops[k]);
    assert_true(found);
  }
  assert_int_equal(matched, nops);
  assert_int_equal(vigil_server_route_get(n, &(vigil_route_info){0}), VIGIL_ENOTFOUND);
}

/* The query parameters documented for each operation are exactly those
 * the server accepts for its route. */
static void test_openapi_query_params(void **state) {
  (void)state;
  FILE *f = fopen(VIGIL_SOURCE_DIR "/docs/openapi.yaml", "r");
  assert_non_null(f);
  static char doc_q[MAXOPS][700];
  static char op_of[MAXOPS][600];
  int nops = 0, in_paths = 0;
  char line[1024], path[512] = "";
  static const char *const methods[] = {"get", "post", "put", "delete", "patch", NULL};
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] && line[0] != ' ' && line[0] != '#') {
      in_paths = !strcmp(line, "paths:");
      continue;
    }
    if (!in_paths) continue;
    if (!strncmp(line, "  /", 3) && line[strlen(line) - 1] == ':') {
      snprintf(path, sizeof path, "%.*s", (int)strlen(line) - 3, line + 2);
      continue;
    }
    if (!strncmp(line, "    ", 4) && line[4] != ' ') {
      for (int m = 0; methods[m]; m++) {
        size_t ml = strlen(methods[m]);
        if (!strncmp(line + 4, methods[m], ml) && line[4 + ml] == ':') {
          assert_true(nops < MAXOPS);
          char up[16];
          for (size_t k = 0; k <= ml; k++) up[k] = (char)toupper((unsigned char)methods[m][k]);
          snprintf(op_of[nops], sizeof op_of[0], "%s %s", up, path);
          snprintf(doc_q[nops], sizeof doc_q[0], " ");
          nops++;
        }
      }
      continue;
    }
    const char *q = strstr(line, "- {name: ");
    if (nops && q && strstr(line, "in: query")) {
      char name[64];
      assert_int_equal(sscanf(q, "- {name: %63[^,]", name), 1);
      strcat(doc_q[nops - 1], name);
      strcat(doc_q[nops - 1], " ");
    }
  }
  fclose(f);
  for (size_t i = 0; i < vigil_server_route_count(); i++) {
    vigil_route_info ri;
    assert_int_equal(vigil_server_route_get(i, &ri), 0);
    char want[600];
    snprintf(want, sizeof want, "%s %s", ri.method, ri.pattern);
    int k = 0;
    while (k < nops && strcmp(op_of[k], want)) k++;
    assert_true(k < nops);
    /* each accepted name is documented, and as many as are documented */
    int accepted = 0, documented = 0;
    const char *name;
    for (size_t j = 0; vigil_server_route_query(i, j, &name) == VIGIL_OK; j++) {
      char needle[80];
      snprintf(needle, sizeof needle, " %s ", name);
      int found = strstr(doc_q[k], needle) != NULL;
      if (!found) printf("%s accepts ?%s, which docs/openapi.yaml does not list\n", want, name);
      assert_true(found);
      accepted++;
    }
    for (const char *p = doc_q[k] + 1; *p; p++) documented += *p == ' ';
    if (accepted != documented) printf("%s: docs/openapi.yaml lists '%s', the server accepts %d\n", want, doc_q[k], accepted);
    assert_int_equal(accepted, documented);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_openapi_matches_routes),
                                     cmocka_unit_test(test_openapi_query_params)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
