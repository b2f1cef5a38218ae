/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_tipline.c - CyberTipline report XML: built from confirmed
 * cases and validated against the CyberTipline schema in
 * ../shared/docs/ncmec/cyber_tipline.xsd (skipped when it is absent: the
 * schema is not vigil's to ship).  Reports with the reported user's ids,
 * e-mail and IP events, several cases of one uploader, and fileDetails
 * with industry classifications and hashes must validate; a report the
 * schema refuses (a made-up IP event name, an incident type the schema
 * does not know) is refused with the schema's message; unconfirmed cases
 * and mixed uploaders are refused before any XML is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "report/tipline.h"
#include "testutil.h"

static char xsd[600], dir[256], cfgpath[400];

static void write_cfg(const char *extra) {
  FILE *f = fopen(cfgpath, "w");
  assert_non_null(f);
  fprintf(f,
          "{\"ncmec\":{\"schema\":\"%s\",\"platform\":\"Example Photos\",\"company\":\"Example Inc.\","
          "\"reporter\":{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"trust@example.org\"}%s}}",
          xsd, extra);
  fclose(f);
}

static json_t *kase(int id, const char *status, const char *cls, const char *uploader, const char *detail) {
  json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
  json_t *k = json_pack("{s:i, s:s, s:s?, s:s, s:s, s:s?, s:s, s:s, s:o?}", "id", id, "status", status,
                        "classification", cls, "md5", "0123456789abcdef0123456789abcdef", "sha256",
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "uploader_id", uploader,
                        "url", "https://photos.example.org/p/1", "created_at", "2026-11-24T22:10:00.123Z", "detail", d);
  assert_non_null(k);
  return k;
}

static void check(json_t *cases, int want_rc, const char *want_msg) {
  vigil__tipline_cfg c;
  vigil_error e;
  vigil_error_clear(&e);
  assert_int_equal(vigil__tipline_cfg_load(cfgpath, &c, &e), 0);
  char *xml = NULL;
  size_t len = 0;
  int rc = vigil__tipline_build(&c, cases, &xml, &len, &e);
  if (!rc) rc = vigil__tipline_validate(c.schema, xml, len, &e);
  if (rc != want_rc) fail_msg("rc %d, want %d: %s\n%s", rc, want_rc, e.message, xml ? xml : "");
  if (want_msg && !strstr(e.message, want_msg)) fail_msg("'%s' not in '%s'", want_msg, e.message);
  free(xml);
  vigil__tipline_cfg_free(&c);
  json_decref(cases);
}

static void test_valid_reports(void **state) {
  (void)state;
  write_cfg("");
  check(json_pack("[o]", kase(1, "confirmed", "A1", "user-17", NULL)), 0, NULL);
  check(json_pack("[o, o]",
                  kase(1, "confirmed", "B2", "user-17",
                       "{\"user\":{\"screen_name\":\"nick\",\"email\":\"u@example.net\",\"ip_events\":"
                       "[{\"ip\":\"203.0.113.7\",\"event\":\"Upload\",\"at\":\"2026-11-24T22:09:58Z\"}]}}"),
                  kase(2, "confirmed", "A2", "user-17", NULL)),
        0, NULL);
  check(json_pack("[o]", kase(3, "confirmed", "csam", NULL, NULL)), 0, NULL);
  /* what the XML says */
  vigil__tipline_cfg c;
  assert_int_equal(vigil__tipline_cfg_load(cfgpath, &c, NULL), 0);
  json_t *cases = json_pack("[o]", kase(9, "confirmed", "A1", "user-<&>", NULL));
  char *xml;
  size_t len;
  assert_int_equal(vigil__tipline_build(&c, cases, &xml, &len, NULL), 0);
  assert_non_null(strstr(xml, "<espIdentifier>user-&lt;&amp;&gt;</espIdentifier>"));
  assert_non_null(strstr(xml, "<email>trust@example.org</email>"));
  assert_non_null(strstr(xml, "vigil review case 9"));
  free(xml);
  /* fileDetails of the evidence */
  assert_int_equal(vigil__tipline_file_xml(json_array_get(cases, 0), 12345, "f-1", 1, &xml, &len, NULL), 0);
  assert_int_equal(vigil__tipline_validate(c.schema, xml, len, NULL), 0);
  assert_non_null(strstr(xml, "<industryClassification>A1</industryClassification>"));
  assert_non_null(strstr(xml, "hashType=\"MD5\""));
  free(xml);
  json_decref(cases);
  vigil__tipline_cfg_free(&c);
}

static void test_refused(void **state) {
  (void)state;
  write_cfg("");
  /* the schema's own message for a made-up IP event name */
  check(json_pack("[o]", kase(1, "confirmed", "A1", "u",
                              "{\"user\":{\"ip_events\":[{\"ip\":\"203.0.113.7\",\"event\":\"Teleport\"}]}}")),
        VIGIL_EINVAL, "does not validate against the CyberTipline schema");
  write_cfg(",\"incident_type\":\"Something Else\"");
  check(json_pack("[o]", kase(1, "confirmed", "A1", "u", NULL)), VIGIL_EINVAL, "Something Else");
  write_cfg("");
  check(json_pack("[o]", kase(1, "open", NULL, "u", NULL)), VIGIL_EEXIST, "only confirmed");
  check(json_pack("[o, o]", kase(1, "confirmed", "A1", "u", NULL), kase(2, "confirmed", "A1", "v", NULL)),
        VIGIL_EINVAL, "one uploader");
  check(json_pack("[]"), VIGIL_EINVAL, "at least one case");
  /* configuration errors */
  FILE *f = fopen(cfgpath, "w");
  fputs("{\"ncmec\":{\"reporter\":{\"first_name\":\"x\"}}}", f);
  fclose(f);
  vigil__tipline_cfg c;
  vigil_error e;
  assert_int_equal(vigil__tipline_cfg_load(cfgpath, &c, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "email"));
  assert_int_equal(vigil__tipline_validate(NULL, "<report/>", 9, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "unvalidated"));
  assert_int_equal(vigil__tipline_validate(cfgpath, "<report/>", 9, &e), VIGIL_EINVAL);
  assert_int_equal(vigil__tipline_validate(xsd, "<report", 7, &e), VIGIL_EINVAL);
}

int main(void) {
  if (!tu_shared("docs/ncmec/cyber_tipline.xsd", xsd, sizeof xsd) || access(xsd, R_OK) != 0) {
    printf("skipped: ../shared/docs/ncmec/cyber_tipline.xsd is absent\n");
    return 77;
  }
  snprintf(dir, sizeof dir, "/tmp/vigil-test-tipline-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  snprintf(cfgpath, sizeof cfgpath, "%s/report.json", dir);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_valid_reports), cmocka_unit_test(test_refused)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  unlink(cfgpath);
  rmdir(dir);
  return rc;
}
