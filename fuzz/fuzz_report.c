/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_report.c - the report capability's readers of outside input:
 * any bytes as a CyberTipline answer (the parser must find a code or
 * none, never crash or read past the body), and as the strings of a
 * case that callers supplied (uploader, URL, the reported user's details)
 * built into report and fileDetails XML: building must succeed or fail
 * with an error, and what it builds must parse back as XML (libxml2
 * escapes; a control character makes the document refuse to parse, which
 * validation then reports, never a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/cybertip.h"
#include "report/tipline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vigil__ct_resp r;
  vigil__ct_parse((const char *)data, size, &r);
  if (r.code < -1) abort();
  vigil_error e;
  vigil__ct_check("fuzz", &r, &e);

  /* the bytes as a case's strings, cut at NULs into pieces */
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = 0;
  const char *piece[4] = {s, "", "", ""};
  size_t k = 1;
  for (size_t i = 0; i < size && k < 4; i++)
    if (!s[i]) piece[k++] = s + i + 1;
  json_t *user = json_pack("{s:s?, s:s?, s:[{s:s?, s:s?}]}", "screen_name", piece[1], "email", piece[2], "ip_events",
                           "ip", piece[3], "event", piece[1]);
  json_t *cases = json_pack("[{s:i, s:s, s:s, s:s?, s:s?, s:s, s:{s:o?}}]", "id", 1, "status", "confirmed",
                            "classification", "A1", "uploader_id", piece[0], "url", piece[2], "created_at",
                            "2026-01-01T00:00:00Z", "detail", "user", user);
  json_t *root = json_pack("{s:s, s:{s:s, s:s?}}", "platform", piece[3], "reporter", "email", "x@example.org",
                           "first_name", piece[1]);
  vigil__tipline_cfg c = {0};
  c.ncmec = root;
  c.reporter = json_object_get(root, "reporter");
  c.incident_type = "Child Pornography (possession, manufacture, and distribution)";
  char *xml = NULL;
  size_t len = 0;
  if (cases && root && vigil__tipline_build(&c, cases, &xml, &len, &e) == VIGIL_OK) {
    if (!xml || strlen(xml) != len) abort();
    free(xml);
  }
  if (cases && vigil__tipline_file_xml(json_array_get(cases, 0), 7, piece[0], 1, &xml, &len, &e) == VIGIL_OK) free(xml);
  json_decref(cases);
  json_decref(root);
  free(s);
  return 0;
}
