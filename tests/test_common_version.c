/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_common_version.c - the version is written once (project() in
 * CMakeLists.txt) and every place that shows it agrees: the generated
 * macros of vigil/version.h, vigil_version() and vigil_version_number(),
 * `vigil --version`, the man page the build installs, and the places the
 * docs must spell it out by hand (docs/openapi.yaml's info.version, the
 * /v1/health example of docs/server.md, a CHANGELOG.md section).  A
 * version bump that forgets one of them fails here.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "vigil/common.h"

#ifndef VIGIL_BINARY_DIR
#error "tests/CMakeLists.txt defines VIGIL_BINARY_DIR for this test"
#endif

static char *slurp_text(const char *rel_src, const char *base) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", base, rel_src);
  size_t len = 0;
  uint8_t *data = tu_slurp(path, &len);
  if (!data) fail_msg("cannot read %s", path);
  char *text = malloc(len + 1);
  assert_non_null(text);
  memcpy(text, data, len);
  text[len] = '\0';
  free(data);
  return text;
}

static void test_macros_match_library(void **state) {
  (void)state;
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", VIGIL_VERSION_MAJOR, VIGIL_VERSION_MINOR, VIGIL_VERSION_PATCH);
  assert_string_equal(VIGIL_VERSION_STRING, want);
  assert_string_equal(VIGIL_VERSION, VIGIL_VERSION_STRING);
  assert_non_null(vigil_version());
  assert_string_equal(vigil_version(), VIGIL_VERSION_STRING);
  assert_int_equal(vigil_version_number(), VIGIL_VERSION_NUMBER);
  assert_int_equal(VIGIL_VERSION_NUMBER, VIGIL_VERSION_MAJOR * 10000 + VIGIL_VERSION_MINOR * 100 + VIGIL_VERSION_PATCH);
  /* The number encoding only orders versions while minor and patch stay two-digit. */
  assert_in_range(VIGIL_VERSION_MINOR, 0, 99);
  assert_in_range(VIGIL_VERSION_PATCH, 0, 99);
  /* Versions compare as numbers: 0.1.0 < 0.1.1 < 0.2.0 < 1.0.0. */
  assert_true(VIGIL_VERSION_NUMBER >= 100);
}

static void test_cli_prints_it(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(tu_run("'" VIGIL_CLI "' --version", &out), 0);
  assert_non_null(out);
  assert_string_equal(out, "vigil " VIGIL_VERSION_STRING "\n");
  free(out);
}

static void test_manpage_is_configured(void **state) {
  (void)state;
  char *page = slurp_text("docs/vigil.1", VIGIL_BINARY_DIR);
  assert_null(strstr(page, "@VIGIL_VERSION@"));
  assert_non_null(strstr(page, "\"vigil " VIGIL_VERSION_STRING "\""));
  free(page);
  /* The source keeps the token, so the version is not written twice. */
  page = slurp_text("docs/vigil.1", VIGIL_SOURCE_DIR);
  assert_non_null(strstr(page, ".TH VIGIL 1 \"2026\" \"vigil @VIGIL_VERSION@\""));
  free(page);
}

/* The version of an OpenAPI document's info block: "  version: X" after "info:". */
static void test_openapi_version(void **state) {
  (void)state;
  char *doc = slurp_text("docs/openapi.yaml", VIGIL_SOURCE_DIR);
  const char *info = strstr(doc, "\ninfo:\n");
  assert_non_null(info);
  const char *v = strstr(info, "\n  version: ");
  assert_non_null(v);
  v += strlen("\n  version: ");
  size_t n = strcspn(v, "\n");
  char got[64];
  assert_true(n < sizeof got);
  memcpy(got, v, n);
  got[n] = '\0';
  if (got[0] == '"' || got[0] == '\'') { /* a quoted scalar */
    memmove(got, got + 1, strlen(got));
    got[strcspn(got, "\"'")] = '\0';
  }
  if (strcmp(got, VIGIL_VERSION_STRING) != 0)
    fail_msg("docs/openapi.yaml says version %s, the project is %s", got, VIGIL_VERSION_STRING);
  free(doc);
}

static void test_server_doc_and_changelog(void **state) {
  (void)state;
  char *doc = slurp_text("docs/server.md", VIGIL_SOURCE_DIR);
  /* Every "version":"..." in the page's examples is the project's. */
  int seen = 0;
  for (const char *p = doc; (p = strstr(p, "\"version\":\"")) != NULL; seen++) {
    p += strlen("\"version\":\"");
    if (strncmp(p, VIGIL_VERSION_STRING "\"", strlen(VIGIL_VERSION_STRING) + 1) != 0)
      fail_msg("docs/server.md shows version %.12s, the project is %s", p, VIGIL_VERSION_STRING);
  }
  assert_true(seen >= 1);
  free(doc);
  char *log = slurp_text("CHANGELOG.md", VIGIL_SOURCE_DIR);
  if (!strstr(log, "\n## " VIGIL_VERSION_STRING " ") && !strstr(log, "\n## " VIGIL_VERSION_STRING "\n"))
    fail_msg("CHANGELOG.md has no '## %s' section", VIGIL_VERSION_STRING);
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_macros_match_library), cmocka_unit_test(test_cli_prints_it),
      cmocka_unit_test(test_manpage_is_configured), cmocka_unit_test(test_openapi_version),
      cmocka_unit_test(test_server_doc_and_changelog),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
