/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/handlers.h - every endpoint's handler (h_*.c), named by routes.c.
 * Each takes the request and answers it (req.h).
 */
#ifndef VIGIL_SERVER_HANDLERS_H
#define VIGIL_SERVER_HANDLERS_H

#include "server/req.h"

int vigil__h_healthz(vigil__req *r);
int vigil__h_metrics(vigil__req *r);
int vigil__h_hash(vigil__req *r);
int vigil__h_match(vigil__req *r);
int vigil__h_match_video(vigil__req *r); /* POST /v1/match with a spooled video */
int vigil__h_jobs_create(vigil__req *r);
int vigil__h_job_get(vigil__req *r);
int vigil__h_banks_list(vigil__req *r);
int vigil__h_banks_create(vigil__req *r);
int vigil__h_bank_get(vigil__req *r);
int vigil__h_bank_update(vigil__req *r);
int vigil__h_bank_drop(vigil__req *r);
int vigil__h_bank_add(vigil__req *r);
int vigil__h_bank_remove(vigil__req *r);
int vigil__h_bank_import(vigil__req *r);
int vigil__h_bank_export(vigil__req *r);
int vigil__h_policy_decide(vigil__req *r);
int vigil__h_policy_batch(vigil__req *r);
int vigil__h_convo_score(vigil__req *r);
int vigil__h_link(vigil__req *r);
int vigil__h_text_scan(vigil__req *r);
int vigil__h_hma_raw_lookup(vigil__req *r);
int vigil__h_hma_lookup(vigil__req *r);
int vigil__h_hma_lookup_post(vigil__req *r);
int vigil__h_hma_hash(vigil__req *r);
int vigil__h_hma_hash_get(vigil__req *r);
int vigil__h_cases_list(vigil__req *r);
int vigil__h_case_create(vigil__req *r);
int vigil__h_case_get(vigil__req *r);
int vigil__h_case_decide(vigil__req *r);
int vigil__h_case_evidence(vigil__req *r);
int vigil__h_case_evidence_delete(vigil__req *r);
int vigil__h_audit(vigil__req *r);
int vigil__h_keys_create(vigil__req *r);
int vigil__h_keys_list(vigil__req *r);
int vigil__h_keys_revoke(vigil__req *r);
int vigil__h_hooks_create(vigil__req *r);
int vigil__h_hooks_list(vigil__req *r);
int vigil__h_hooks_delete(vigil__req *r);
int vigil__h_deliveries_list(vigil__req *r);
int vigil__h_delivery_retry(vigil__req *r);
/* Records event with data for the webhooks subscribed to it, in a
 * transaction of its own (h_hooks.c); for events that have no transaction
 * of their own to share (a match). */
int vigil__server_emit(vigil__req *r, unsigned event, json_t *data);
int vigil__h_case_report(vigil__req *r);
int vigil__h_case_hold(vigil__req *r);
int vigil__h_case_reports(vigil__req *r);
/* *until: the end of case id's preservation hold, 0 when not held now (h_report.c). */
int vigil__case_held(vigil__req *r, int64_t id, int64_t *until);
/* The server's report configuration file, NULL when none. */
const char *vigil__server_report_config(vigil_server *srv);
/* The review console (h_session.c, h_ui.c). */
int vigil__h_session_create(vigil__req *r);
int vigil__h_session_get(vigil__req *r);
int vigil__h_session_delete(vigil__req *r);
int vigil__h_case_next(vigil__req *r);
int vigil__h_case_lease(vigil__req *r);
int vigil__h_case_skip(vigil__req *r);
int vigil__h_case_unblur(vigil__req *r);
int vigil__h_ui(vigil__req *r);
/* The queue's filters from r's query (h_cases.c); 0 after replying 4xx. */
struct vigil__case_filter;
int vigil__case_filter_from(vigil__req *r, struct vigil__case_filter *f);
/* 1 when r's caller may see case id; 0 after replying (403 for a person
 * without the child-safety permission and a child-abuse case, 404). */
int vigil__case_visible(vigil__req *r, int64_t id);
int vigil__h_users_list(vigil__req *r);
int vigil__h_users_create(vigil__req *r);
int vigil__h_users_unlock(vigil__req *r);
int vigil__h_users_disable(vigil__req *r);
/* The console's admin pages and dashboard (h_admin.c) and display settings (h_display.c). */
int vigil__h_users_update(vigil__req *r);
int vigil__h_audit_export(vigil__req *r);
int vigil__h_cases_stats(vigil__req *r);
int vigil__h_display_get(vigil__req *r);
int vigil__h_display_set(vigil__req *r);
int vigil__h_display_org(vigil__req *r);
int vigil__h_bank_disputes(vigil__req *r);

/* The review case a match opens (match_case.c).  At most VIGIL__CASE_HITS
 * (cases.h) matches go into a case's detail. */
struct vigil_case_new;
/* {"matches": the first VIGIL__CASE_HITS, "matches_total" when cut}; NULL
 * when out of memory. */
json_t *vigil__match_case_detail(json_t *matches);
/* Opens case c with detail wrap (taken, NULL reads as out of memory), then
 * names the staged evidence file (staged[0] != 0) in evdir after it; sets
 * out's "case_id" and "evidence_kept".  The staged file is removed when
 * the case is not opened. */
int vigil__match_case_open(vigil__req *r, struct vigil_case_new *c, json_t *wrap, const char *evdir, const char *staged,
                           json_t *out);
/* One bank video a vPDQ comparison found, as answers and cases show it: the
 * entry, both percentages and counts, the aligned segments (h_match_video.c);
 * NULL when out of memory. */
struct vigil_bank_video_hit;
json_t *vigil__video_hit_json(const struct vigil_bank_video_hit *h);

#endif
