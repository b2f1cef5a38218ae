/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/report.h - carrying decisions out of vigil: webhook subscriptions
 * and the durable outbox that delivers them.
 *
 * Every outbound call (a webhook today, a CyberTipline report later) is a
 * row of the outbox, written in the same database transaction as the event
 * that causes it (a case opened or decided), so an event that was
 * acknowledged always has its deliveries, even when the process dies the
 * next instant.  `vigil serve` runs a delivery worker that claims due rows,
 * sends them, and records each attempt; a delivery that keeps failing goes
 * to the dead-letter state ("dead") where an operator sees it and may
 * retry it.  Each delivery carries an idempotency key that stays the same
 * across attempts, so a receiver recognises the duplicate a crash between
 * "sent" and "recorded" can cause.  docs/report.md describes the states.
 *
 * Webhook payloads are JSON, signed with HMAC-SHA256 over
 * "<unix seconds>.<body>" with the subscription's secret; the header
 * "Vigil-Signature: t=<seconds>,v1=<64 hex>" carries both, so a receiver
 * can refuse an old (replayed) call.  The secret is returned once, at
 * creation.
 *
 * The database is the service's own (a SQLite path or a postgresql://
 * URI), the one `vigil serve --db` uses.
 *
 * NCMEC CyberTipline reports of confirmed cases are built with libxml2
 * and validated against the CyberTipline schema before anything leaves
 * (vigil_tipline_export writes one for manual filing; `vigil serve`
 * submits them over the API through the outbox; docs/report.md).
 *
 * Threads: a vigil_report_db may be shared by every thread (each call
 * takes its lock).  vigil_hook_sign, vigil_hook_verify, the event-name
 * functions and vigil_tipline_export (with different out_dir) may be
 * called from any thread.
 *
 * Ownership: lists (*out) are malloc'd arrays, the caller's to free().
 */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Events a webhook subscribes to (bits). */
#define VIGIL_EVENT_MATCH 0x1u        /* a match call found something */
#define VIGIL_EVENT_CASE_OPENED 0x2u  /* a review case was opened */
#define VIGIL_EVENT_CASE_DECIDED 0x4u /* a reviewer decided a case */
#define VIGIL_EVENT_BANK_CHANGED 0x8u /* a bank was created, changed or dropped */
#define VIGIL_EVENT_ALL 0xFu

/* "match", "case.opened", "case.decided", "bank.changed"; NULL otherwise. */
VIGIL_API const char *vigil_event_name(unsigned event);
/* The bit of one event name, 0 for an unknown name. */
VIGIL_API unsigned vigil_event_parse(const char *name);

typedef struct vigil_report_db vigil_report_db;

/* Opens the service database (creating the outbox tables if needed). */
VIGIL_API int vigil_report_db_open(vigil_report_db **out, const char *location, vigil_error *err);
VIGIL_API void vigil_report_db_close(vigil_report_db *db);

/* ---- webhook subscriptions ---------------------------------------------- */

#define VIGIL_HOOK_ID_MAX 16     /* "wh_" + 12 hex + NUL */
#define VIGIL_HOOK_URL_MAX 2048  /* longest URL accepted */
#define VIGIL_HOOK_SECRET_MAX 80 /* "whsec_" + 64 hex + NUL, with room */

typedef struct vigil_hook_info {
  char id[VIGIL_HOOK_ID_MAX];
  char url[VIGIL_HOOK_URL_MAX + 1];
  unsigned events;    /* VIGIL_EVENT_* bits */
  int64_t created_at; /* Unix seconds */
} vigil_hook_info;

/* Subscribes url (http:// or https://) to events.  secret_out receives the
 * signing secret, shown this once.  info may be NULL. */
VIGIL_API int vigil_hook_create(vigil_report_db *db, const char *url, unsigned events,
                                char secret_out[VIGIL_HOOK_SECRET_MAX], vigil_hook_info *info, vigil_error *err);
/* Active subscriptions, oldest first. */
VIGIL_API int vigil_hook_list(vigil_report_db *db, vigil_hook_info **out, size_t *n, vigil_error *err);
/* Ends a subscription; its pending deliveries go dead ("subscription
 * deleted").  VIGIL_ENOTFOUND for an unknown or deleted id. */
VIGIL_API int vigil_hook_delete(vigil_report_db *db, const char *id, vigil_error *err);

/* The header value "t=<ts>,v1=<hex>" for body signed with secret at ts. */
#define VIGIL_HOOK_SIG_MAX 96
VIGIL_API int vigil_hook_sign(const char *secret, int64_t ts, const void *body, size_t len,
                              char out[VIGIL_HOOK_SIG_MAX], vigil_error *err);
/* Checks a signature header against body: VIGIL_OK when it is well formed,
 * its HMAC matches (constant-time compare) and its timestamp is within
 * tolerance_s of now; VIGIL_EINVAL with the reason otherwise. */
VIGIL_API int vigil_hook_verify(const char *secret, const char *header, const void *body, size_t len, int64_t now,
                                int tolerance_s, vigil_error *err);

/* ---- the outbox ------------------------------------------------------------ */

#define VIGIL_DELIVERY_KEY_MAX 96

typedef struct vigil_delivery_info {
  int64_t id;
  char kind[16];   /* "webhook" */
  char target[64]; /* a webhook: the subscription id */
  char event[32];
  char key[VIGIL_DELIVERY_KEY_MAX]; /* idempotency key, the same on every attempt */
  char state[12];                   /* "pending", "sending", "done", "dead" */
  int attempts;
  int64_t next_at_ms;    /* Unix milliseconds: next attempt (pending) or lease end (sending) */
  int64_t created_at_ms;
  char last_error[256];
} vigil_delivery_info;

/* Deliveries with id > after_id in state (NULL: any), ascending. */
VIGIL_API int vigil_delivery_list(vigil_report_db *db, const char *state, int64_t after_id, int limit,
                                  vigil_delivery_info **out, size_t *n, vigil_error *err);
/* Puts a dead delivery back to pending, due now, with a fresh budget of
 * attempts.  VIGIL_ENOTFOUND when there is no such delivery, VIGIL_EEXIST
 * when it is not dead. */
VIGIL_API int vigil_delivery_retry(vigil_report_db *db, int64_t id, vigil_error *err);

/* ---- NCMEC CyberTipline ------------------------------------------------- */

/* Writes a CyberTipline report for manual filing into out_dir (created,
 * mode 0700; VIGIL_EEXIST when it exists): report.xml, validated against
 * the schema named in the configuration first (VIGIL_EINVAL with the
 * schema's message when it does not validate, and then nothing is
 * written), each case's evidence from evidence_dir (DIR/case-<id>.bin, as
 * `vigil serve --evidence-dir` keeps it; NULL: none) and manifest.json.
 * cases_json: a JSON array of cases as GET /v1/cases/{id} shows them, all
 * confirmed (VIGIL_EEXIST otherwise) and of one uploader.  config_path:
 * the report configuration with its "ncmec" section (docs/report.md).
 * *xml (NULL: not wanted) receives the report XML, the caller's to free. */
VIGIL_API int vigil_tipline_export(const char *config_path, const char *cases_json, const char *evidence_dir,
                                   int viewed_by_esp, const char *out_dir, char **xml, vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
