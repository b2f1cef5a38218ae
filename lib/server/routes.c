/* SPDX-License-Identifier: Apache-2.0 */
/*
 * routes.c - the route table of `vigil serve`, and path-pattern matching.
 *
 * One line per endpoint: method, pattern ({name} matches one non-empty path
 * segment of at most 128 bytes), the roles allowed (admin is always added),
 * the body the route takes, whether calls are state-changing (audited), a
 * name for metrics and the audit log, and the handler.  docs/openapi.yaml
 * must list exactly these routes; tests/test_server_openapi.c checks it.
 */
#include "server/req.h"
#include "server/handlers.h"

#include <string.h>

#define ANY (VIGIL_ROLE_ADMIN | VIGIL_ROLE_SUBMITTER | VIGIL_ROLE_REVIEWER | VIGIL_ROLE_AUDITOR)
#define ADMIN VIGIL_ROLE_ADMIN
#define SUBMIT (VIGIL_ROLE_ADMIN | VIGIL_ROLE_SUBMITTER)
#define REVIEW (VIGIL_ROLE_ADMIN | VIGIL_ROLE_REVIEWER)
#define READCASES (VIGIL_ROLE_ADMIN | VIGIL_ROLE_REVIEWER | VIGIL_ROLE_AUDITOR)
#define AUDIT (VIGIL_ROLE_ADMIN | VIGIL_ROLE_AUDITOR)

const vigil__route vigil__routes[] = {
    /* method  pattern                       roles      body               audit name              handler */
    {"GET", "/healthz", 0, VIGIL__BODY_NONE, 0, "healthz", vigil__h_healthz},
    {"GET", "/metrics", ANY, VIGIL__BODY_NONE, 0, "metrics", vigil__h_metrics},
    {"POST", "/v1/hash", SUBMIT, VIGIL__BODY_UPLOAD, 0, "hash", vigil__h_hash},
    {"POST", "/v1/match", SUBMIT, VIGIL__BODY_EITHER, 0, "match", vigil__h_match},
    /* asynchronous hashing and matching of long videos (jobs.c) */
    {"POST", "/v1/jobs", SUBMIT, VIGIL__BODY_UPLOAD, 0, "jobs.create", vigil__h_jobs_create},
    {"GET", "/v1/jobs/{id}", SUBMIT, VIGIL__BODY_NONE, 0, "jobs.get", vigil__h_job_get},
    {"GET", "/v1/banks", ANY, VIGIL__BODY_NONE, 0, "banks.list", vigil__h_banks_list},
    {"POST", "/v1/banks", ADMIN, VIGIL__BODY_JSON, 1, "banks.create", vigil__h_banks_create},
    {"GET", "/v1/banks/{name}", ANY, VIGIL__BODY_NONE, 0, "banks.get", vigil__h_bank_get},
    {"POST", "/v1/banks/{name}", ADMIN, VIGIL__BODY_JSON, 1, "banks.update", vigil__h_bank_update},
    {"DELETE", "/v1/banks/{name}", ADMIN, VIGIL__BODY_NONE, 1, "banks.drop", vigil__h_bank_drop},
    {"POST", "/v1/banks/{name}/entries", ADMIN, VIGIL__BODY_JSON, 1, "banks.add", vigil__h_bank_add},
    {"POST", "/v1/banks/{name}/entries/remove", ADMIN, VIGIL__BODY_JSON, 1, "banks.remove", vigil__h_bank_remove},
    {"POST", "/v1/banks/{name}/import", ADMIN, VIGIL__BODY_FILE, 1, "banks.import", vigil__h_bank_import},
    /* a whole bank is shared under agreements and is an evasion kit if it leaks: admin only, on record */
    {"GET", "/v1/banks/{name}/export", ADMIN, VIGIL__BODY_NONE, 1, "banks.export", vigil__h_bank_export},
    /* entries reviewers disputed as false positives (h_disputes.c) */
    {"GET", "/v1/banks/{name}/disputes", READCASES, VIGIL__BODY_NONE, 0, "banks.disputes", vigil__h_bank_disputes},
    {"POST", "/v1/ads/link", SUBMIT | VIGIL_ROLE_REVIEWER, VIGIL__BODY_FILE, 0, "ads.link", vigil__h_link},
    {"POST", "/v1/text/scan", SUBMIT | VIGIL_ROLE_REVIEWER, VIGIL__BODY_JSON, 0, "text.scan", vigil__h_text_scan},
    {"POST", "/v1/conversations/score", SUBMIT, VIGIL__BODY_JSON, 0, "convo.score", vigil__h_convo_score},
    {"POST", "/v1/policy/decide", SUBMIT, VIGIL__BODY_JSON, 0, "policy.decide", vigil__h_policy_decide},
    {"POST", "/v1/policy/decide/batch", SUBMIT, VIGIL__BODY_JSON, 0, "policy.batch", vigil__h_policy_batch},
    /* HMA 2.0 compatible lookups (h_hma.c) */
    {"GET", "/m/raw_lookup", SUBMIT, VIGIL__BODY_NONE, 0, "hma.raw_lookup", vigil__h_hma_raw_lookup},
    {"GET", "/m/lookup", SUBMIT, VIGIL__BODY_NONE, 0, "hma.lookup", vigil__h_hma_lookup},
    {"POST", "/m/lookup", SUBMIT, VIGIL__BODY_UPLOAD, 0, "hma.lookup_file", vigil__h_hma_lookup_post},
    {"GET", "/h/hash", SUBMIT, VIGIL__BODY_NONE, 0, "hma.hash_url", vigil__h_hma_hash_get},
    {"POST", "/h/hash", SUBMIT, VIGIL__BODY_UPLOAD, 0, "hma.hash", vigil__h_hma_hash},
    {"GET", "/v1/cases", READCASES, VIGIL__BODY_NONE, 0, "cases.list", vigil__h_cases_list},
    {"POST", "/v1/cases", SUBMIT, VIGIL__BODY_JSON, 1, "cases.create", vigil__h_case_create},
    /* the review console's queue: leases on cases (h_session.c); "next" before {id} */
    {"POST", "/v1/cases/next", REVIEW, VIGIL__BODY_NONE, 1, "cases.next", vigil__h_case_next},
    {"POST", "/v1/cases/{id}/lease", REVIEW, VIGIL__BODY_NONE, 0, "cases.lease", vigil__h_case_lease},
    {"POST", "/v1/cases/{id}/skip", REVIEW, VIGIL__BODY_NONE, 1, "cases.skip", vigil__h_case_skip},
    {"POST", "/v1/cases/{id}/unblur", REVIEW, VIGIL__BODY_NONE, 1, "cases.unblur", vigil__h_case_unblur},
    /* the console's dashboard (h_admin.c); before {id} */
    {"GET", "/v1/cases/stats", READCASES, VIGIL__BODY_NONE, 0, "cases.stats", vigil__h_cases_stats},
    {"GET", "/v1/cases/{id}", READCASES, VIGIL__BODY_NONE, 0, "cases.get", vigil__h_case_get},
    {"POST", "/v1/cases/{id}/decision", REVIEW, VIGIL__BODY_JSON, 1, "cases.decide", vigil__h_case_decide},
    /* reading evidence changes nothing, but who looked at abuse media, or tried to, is on record */
    {"GET", "/v1/cases/{id}/evidence", REVIEW, VIGIL__BODY_NONE, 1, "cases.evidence", vigil__h_case_evidence},
    {"DELETE", "/v1/cases/{id}/evidence", REVIEW, VIGIL__BODY_NONE, 1, "cases.evidence_delete",
     vigil__h_case_evidence_delete},
    /* CyberTipline reports and preservation holds (h_report.c, lib/report) */
    {"POST", "/v1/cases/{id}/report", REVIEW, VIGIL__BODY_JSON, 1, "cases.report", vigil__h_case_report},
    {"POST", "/v1/cases/{id}/hold", ADMIN, VIGIL__BODY_JSON, 1, "cases.hold", vigil__h_case_hold},
    {"GET", "/v1/cases/{id}/reports", READCASES, VIGIL__BODY_NONE, 0, "cases.reports", vigil__h_case_reports},
    {"GET", "/v1/audit", AUDIT, VIGIL__BODY_NONE, 0, "audit.list", vigil__h_audit},
    /* the log names people and what they looked at: a copy of it is admin only, on record (h_admin.c) */
    {"GET", "/v1/audit/export", ADMIN, VIGIL__BODY_NONE, 1, "audit.export", vigil__h_audit_export},
    {"POST", "/v1/keys", ADMIN, VIGIL__BODY_JSON, 1, "keys.create", vigil__h_keys_create},
    {"GET", "/v1/keys", ADMIN, VIGIL__BODY_NONE, 0, "keys.list", vigil__h_keys_list},
    {"DELETE", "/v1/keys/{id}", ADMIN, VIGIL__BODY_NONE, 1, "keys.revoke", vigil__h_keys_revoke},
    /* people signed in to the review console (h_session.c, sessions.c) */
    {"POST", "/v1/session", 0, VIGIL__BODY_JSON, 1, "session.create", vigil__h_session_create},
    {"GET", "/v1/session", ANY, VIGIL__BODY_NONE, 0, "session.get", vigil__h_session_get},
    {"DELETE", "/v1/session", ANY, VIGIL__BODY_NONE, 1, "session.delete", vigil__h_session_delete},
    {"GET", "/v1/users", ADMIN, VIGIL__BODY_NONE, 0, "users.list", vigil__h_users_list},
    {"POST", "/v1/users", ADMIN, VIGIL__BODY_JSON, 1, "users.create", vigil__h_users_create},
    {"POST", "/v1/users/{name}/unlock", ADMIN, VIGIL__BODY_NONE, 1, "users.unlock", vigil__h_users_unlock},
    {"DELETE", "/v1/users/{name}", ADMIN, VIGIL__BODY_NONE, 1, "users.disable", vigil__h_users_disable},
    {"POST", "/v1/users/{name}", ADMIN, VIGIL__BODY_JSON, 1, "users.update", vigil__h_users_update},
    /* how the console shows media: the organisation's default and each person's own (h_display.c) */
    {"GET", "/v1/settings/display", ANY, VIGIL__BODY_NONE, 0, "display.get", vigil__h_display_get},
    {"POST", "/v1/settings/display", ANY, VIGIL__BODY_JSON, 1, "display.set", vigil__h_display_set},
    {"POST", "/v1/settings/display/organisation", ADMIN, VIGIL__BODY_JSON, 1, "display.organisation",
     vigil__h_display_org},
    /* the console's own files (h_ui.c) */
    {"GET", "/ui/", 0, VIGIL__BODY_NONE, 0, "ui.index", vigil__h_ui},
    {"GET", "/ui/{file}", 0, VIGIL__BODY_NONE, 0, "ui.file", vigil__h_ui},
    /* webhooks and the outbox (h_hooks.c, lib/report) */
    {"POST", "/v1/hooks", ADMIN, VIGIL__BODY_JSON, 1, "hooks.create", vigil__h_hooks_create},
    {"GET", "/v1/hooks", ADMIN, VIGIL__BODY_NONE, 0, "hooks.list", vigil__h_hooks_list},
    {"DELETE", "/v1/hooks/{id}", ADMIN, VIGIL__BODY_NONE, 1, "hooks.delete", vigil__h_hooks_delete},
    {"GET", "/v1/deliveries", AUDIT, VIGIL__BODY_NONE, 0, "deliveries.list", vigil__h_deliveries_list},
    {"POST", "/v1/deliveries/{id}/retry", ADMIN, VIGIL__BODY_NONE, 1, "deliveries.retry", vigil__h_delivery_retry},
};
const size_t vigil__nroutes = sizeof vigil__routes / sizeof vigil__routes[0];

/* The query parameters each route reads; any other is refused (400
 * unknown_field) as an unknown JSON member is, so that "?treshold=10"
 * fails loudly instead of matching at the default.  A handler that reads
 * a new parameter adds it here; docs/openapi.yaml lists the same names
 * (tests/test_server_openapi.c compares them). */
static const struct {
  const char *route;
  const char *names[16];
} query_names[] = {
    {"hash", {"mode", "dihedral", "async"}},
    {"match", {"threshold", "dihedral", "force", "review", "banks", "tags", "content_id", "uploader_id", "url",
               /* a video upload (h_match_video.c), a job (jobs.c) */
               "semantics", "query_pct", "compared_pct", "async", "cross_media"}},
    {"jobs.create", {"kind", "mode", "threshold", "dihedral", "force", "review", "banks", "tags", "content_id",
                     "uploader_id", "url", "semantics", "query_pct", "compared_pct", "cross_media"}},
    {"banks.import", {"format", "skip_bad", "source"}},
    {"banks.export", {"format", "active_only"}},
    {"ads.link", {"min_size", "phones", "templates"}},
    {"text.scan", {"kind"}},
    {"policy.decide", {"trace"}},
    {"policy.batch", {"trace"}},
    {"hma.raw_lookup", {"banks", "signal_type", "signal", "include_distance", "content_id"}},
    {"hma.lookup", {"banks", "signal_type", "signal", "url", "content_id"}},
    {"hma.lookup_file", {"banks"}},
    {"hma.hash_url", {"url"}},
    {"cases.list", {"status", "after_id", "limit", "bank", "tag", "assignee", "queue"}},
    {"cases.next", {"bank", "tag", "queue"}},
    {"audit.list", {"after_id", "limit", "key_id", "action"}},
    {"audit.export", {"after_id", "limit", "key_id", "action"}},
    {"deliveries.list", {"state", "after_id", "limit"}},
};

int vigil__route_query_allowed(const vigil__route *rt, const char *name) {
  for (size_t i = 0; i < sizeof query_names / sizeof query_names[0]; i++) {
    if (strcmp(query_names[i].route, rt->name) != 0) continue;
    for (size_t k = 0; k < 16 && query_names[i].names[k]; k++)
      if (!strcmp(query_names[i].names[k], name)) return 1;
    return 0;
  }
  return 0;
}

const char *vigil__route_query_name(const vigil__route *rt, size_t k) {
  for (size_t i = 0; i < sizeof query_names / sizeof query_names[0]; i++)
    if (!strcmp(query_names[i].route, rt->name)) return k < 16 ? query_names[i].names[k] : NULL;
  return NULL;
}

int vigil_server_route_query(size_t i, size_t k, const char **name) {
  if (i >= vigil__nroutes) return VIGIL_ENOTFOUND;
  *name = vigil__route_query_name(&vigil__routes[i], k);
  return *name ? VIGIL_OK : VIGIL_ENOTFOUND;
}

size_t vigil_server_route_count(void) { return vigil__nroutes; }

int vigil_server_route_get(size_t i, vigil_route_info *out) {
  if (i >= vigil__nroutes) return VIGIL_ENOTFOUND;
  out->method = vigil__routes[i].method;
  out->pattern = vigil__routes[i].pattern;
  out->roles = vigil__routes[i].roles;
  out->name = vigil__routes[i].name;
  return VIGIL_OK;
}

int vigil__route_match(const char *pattern, const char *path, char vals[VIGIL__MAX_PARAMS][129],
                       const char *names[VIGIL__MAX_PARAMS], size_t name_lens[VIGIL__MAX_PARAMS], int *nparams) {
  int np = 0;
  const char *p = pattern, *s = path;
  /* Invariant: p and s both point at a '/' or at their ends. */
  while (*p && *s) {
    if (*p != '/' || *s != '/') return 0;
    p++;
    s++;
    size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
    if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
      if (slen == 0 || slen > 128 || np == VIGIL__MAX_PARAMS) return 0;
      memcpy(vals[np], s, slen);
      vals[np][slen] = 0;
      names[np] = p + 1;
      name_lens[np] = plen - 2;
      np++;
    } else if (plen != slen || memcmp(p, s, plen) != 0) {
      return 0;
    }
    p += plen;
    s += slen;
  }
  if (*p || *s) return 0;
  *nparams = np;
  return 1;
}
