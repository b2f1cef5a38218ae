/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report/tipline.h - CyberTipline report XML (tipline.c): the "ncmec"
 * section of the report configuration, the report built from confirmed
 * cases, one fileDetails document per piece of evidence, and validation
 * against the CyberTipline schema.
 */
#ifndef VIGIL_REPORT_TIPLINE_H
#define VIGIL_REPORT_TIPLINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"

typedef struct vigil__tipline_cfg {
  json_t *root;                   /* the whole file; the pointers below point into it */
  json_t *ncmec, *reporter;
  const char *schema;             /* path of cyber_tipline.xsd; NULL: none configured */
  const char *export_dir;         /* where POST /v1/cases/{id}/report exports; NULL: no export over the API */
  const char *incident_type;
} vigil__tipline_cfg;

int vigil__tipline_cfg_load(const char *path, vigil__tipline_cfg *c, vigil_error *err);
void vigil__tipline_cfg_free(vigil__tipline_cfg *c);

/* The report XML for cases (a JSON array of case objects, all confirmed,
 * one uploader): VIGIL_EEXIST for a case that is not confirmed,
 * VIGIL_EINVAL for mixed uploaders.  *xml is malloc'd. */
int vigil__tipline_build(const vigil__tipline_cfg *c, json_t *cases, char **xml, size_t *len, vigil_error *err);
/* The fileDetails XML of one case's evidence. */
int vigil__tipline_file_xml(json_t *kase, int64_t report_id, const char *file_id, int viewed, char **xml, size_t *len,
                            vigil_error *err);
/* VIGIL_OK when xml validates against the schema at schema_path;
 * VIGIL_EINVAL with the schema's first message otherwise. */
int vigil__tipline_validate(const char *schema_path, const char *xml, size_t len, vigil_error *err);

/* The media type of evidence from its first bytes ("video/webm"), and in
 * *ext (NULL: not wanted) the extension it is exported and uploaded
 * under ("webm"); application/octet-stream and "bin" when unknown
 * (media.c). */
const char *vigil__report_media(const uint8_t *p, size_t n, const char **ext);

/* Validates the report and writes it for manual filing into out_dir (new,
 * 0700): report.xml, case-<id>.<ext> for each case's kept evidence, and
 * manifest.json.  *xml_out (NULL: not wanted) receives the XML. */
int vigil__tipline_export(const vigil__tipline_cfg *c, json_t *cases, const char *evidence_dir, int viewed,
                          const char *out_dir, char **xml_out, vigil_error *err);

#endif
