/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report/holds.h - preservation holds on reported cases and the record
 * of reports made (holds.c).  Single statements on the caller's
 * connection, so they join the caller's transaction.
 */
#ifndef VIGIL_REPORT_HOLDS_H
#define VIGIL_REPORT_HOLDS_H

#include <stdint.h>

#include <jansson.h>

#include "report/outbox.h"

/* One year: 18 U.S.C. 2258A(h) as amended in 2024. */
#define VIGIL__HOLD_REPORT_S (365LL * 24 * 3600)

/* Holds case_id until until_s (Unix seconds) or the later end it has;
 * *effective (may be NULL) receives the end in force. */
int vigil__hold_set(vigil__sql *db, int64_t case_id, int64_t until_s, const char *reason, const char *by,
                    int64_t *effective, vigil_error *err);
/* *until_s: the end of the case's hold, 0 when it has none. */
int vigil__hold_get(vigil__sql *db, int64_t case_id, int64_t *until_s, vigil_error *err);
/* Keeps what was reported: the XML, the cases, how (mode: export or
 * submit) and where, the state ("exported", or "pending" for a submission
 * the outbox will send) and the per-file facts of a submission (files: a
 * JSON array, NULL for none). */
int vigil__report_record(vigil__sql *db, int64_t case_id, const char *case_ids, const char *mode,
                         const char *location, const char *by, const char *xml, const char *state, const char *files,
                         int64_t *id, vigil_error *err);

/* The reports that name case_id (first or gathered), oldest first, as a
 * JSON array: mode, state, the CyberTipline's report id, the directory of
 * an export, per-file ids and every answer.  Scans report_reports: there
 * are few reports next to cases. */
int vigil__report_list(vigil__sql *db, int64_t case_id, json_t **out, vigil_error *err);

#endif
