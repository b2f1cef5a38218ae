/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report/cybertip.h - the CyberTipline reporting API over libcurl
 * (cybertip.c) and the resumable submission of one report (submit.c).
 *
 * A submission is five kinds of call: submit (the report XML, answered
 * with a report id), upload (one per file, answered with a file id),
 * fileinfo (that file's fileDetails XML), finish, and retract when a step
 * after submit fails for good.  Each answer is a reportResponse XML with a
 * responseCode; cybertip.c maps the documented codes to errors (and says
 * which are worth retrying).  The state of a submission (the report id,
 * the file ids, the step reached, every response) is kept in the
 * report_reports row after each step, so a submission interrupted by a
 * crash resumes where it stopped instead of submitting a second report.
 */
#ifndef VIGIL_REPORT_CYBERTIP_H
#define VIGIL_REPORT_CYBERTIP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db/sql.h"
#include "report/outbox.h"

/* Production and test endpoints (exchange-and-reporting facts). */
#define VIGIL__CYBERTIP_PROD "https://report.cybertip.org/ispws"
#define VIGIL__CYBERTIP_TEST "https://exttest.cybertip.org/ispws"

typedef struct vigil__cybertip {
  char url[512];      /* base URL, no trailing slash */
  char userpwd[512];  /* "user:password" for HTTP Basic; never logged */
  int timeout_s;
} vigil__cybertip;

/* Reads the "ncmec" section's api settings: "environment" (test or
 * production; default test), "url" (overrides the environment's),
 * "credentials", a JSON file {"username", "password"} (one per
 * environment, mode 0600 or stricter), and "timeout_s", the longest one
 * call may take (1 to 600; default 60). */
int vigil__cybertip_load(const char *config_path, vigil__cybertip *c, vigil_error *err);

/* One answer. */
typedef struct vigil__ct_resp {
  int http;              /* HTTP status, 0 when none */
  int code;              /* responseCode, -1 when absent */
  char desc[256];        /* responseDescription */
  char report_id[32];
  char file_id[128];
  char hash[80];
} vigil__ct_resp;

/* Parses an answer's body into r (code -1 when it has none); bodies over
 * 64 KiB are not read. */
void vigil__ct_parse(const char *p, size_t n, vigil__ct_resp *r);

/* What a response code means: VIGIL_OK for 0; VIGIL_EIO for the server's
 * own failures (1000-1111) and transport errors (retry); VIGIL_EINVAL for
 * authentication, authorisation and validation (2000-4200: a person must
 * act); VIGIL_ENOTFOUND (5001, 5002); VIGIL_EEXIST (5101 already
 * retracted, 5102 already finished).  err says which. */
int vigil__ct_check(const char *step, const vigil__ct_resp *r, vigil_error *err);

/* The calls.  body: XML (submit, fileinfo) or NULL; id: the report id
 * (upload, finish, retract); data/len: the file (upload). */
int vigil__ct_call(const vigil__cybertip *c, const char *step, const char *xml, const char *id, const char *fname,
                   const void *data, size_t len, vigil__ct_resp *out, vigil_error *err);

/* The outbox attempt a submission runs in. */
typedef struct vigil__ct_claim {
  const vigil__delivery *d; /* the claimed delivery; NULL: not run by the outbox (no claim to keep) */
  int64_t lease_ms;         /* the outbox's lease: renewed before every call for the call's timeout and this */
  int last;                 /* the outbox will not try this delivery again */
} vigil__ct_claim;

/* Sends (or resumes) report row rid: the outbox's sender for deliveries
 * of kind "ncmec".  *permanent is set when retrying cannot help (the
 * report was retracted or refused).  claim (may be NULL): before each
 * call the delivery's claim is renewed, and a claim another node has
 * taken over stops the attempt before its next call (VIGIL_EIO); on the
 * last attempt a step after submit that fails for a reason worth
 * retrying (a timeout, a 5xx, a server failure code) fails for good too:
 * the report, which can then never be completed, is retracted. */
int vigil__cybertip_send(vigil__sql *db, const char *config_path, const char *evidence_dir, int64_t rid,
                         const vigil__ct_claim *claim, int *permanent, vigil_error *err);

#endif
