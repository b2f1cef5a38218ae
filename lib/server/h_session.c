/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_session.c - signing in and out of the review console, and the queue's
 * leases: POST/GET/DELETE /v1/session, POST /v1/cases/next,
 * POST /v1/cases/{id}/lease (renew), POST /v1/cases/{id}/skip and
 * POST /v1/cases/{id}/unblur (the console's record that a person looked at
 * a case's media unblurred).
 *
 * With single sign-on configured (--sso-header, --sso-proxies), a sign-in
 * without a name and password from one of the listed proxy addresses signs
 * in the account the header names: the proxy has authenticated the person
 * (and must strip the header from what clients send).  The header is never
 * read from any other address.
 *
 * A sign-in answers the CSRF token in its body and the session token only
 * in the HttpOnly cookie, so no script on the page can read the latter.
 * Refusals never say whether the name exists: an unknown name and a wrong
 * password read the same (401); an account waiting after failures answers
 * 429 with Retry-After, a locked one 403.
 */
#include "server/accounts.h"
#include "server/cases.h"
#include "server/handlers.h"

#include <sodium.h>
#include <string.h>

static void set_cookie(vigil__req *r, const char *token) {
  int64_t idle, max;
  vigil__server_session_limits(r->srv, &idle, &max);
  /* Max-Age is the absolute limit; the idle one is kept by the server */
  snprintf(r->set_cookie, sizeof r->set_cookie,
           VIGIL__SESSION_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", token, (long long)max,
           vigil__server_tls(r->srv) ? "; Secure" : "");
}

static json_t *session_json(const char *user, vigil_role role, int child_safety, const char *csrf) {
  return json_pack("{s:s, s:s, s:b, s:s}", "user", user, "role", vigil_role_name(role), "child_safety", child_safety,
                   "csrf_token", csrf);
}

/* The account name an authenticating proxy vouches for, NULL when single
 * sign-on is off, r did not come from a listed proxy, or no name is set. */
static const char *sso_user(vigil__req *r) {
  const char *header, *proxies;
  vigil__server_sso(r->srv, &header, &proxies);
  if (!header || !proxies) return NULL;
  size_t ipl = strlen(r->ip);
  int listed = 0;
  for (const char *p = proxies; *p && !listed;) {
    while (*p == ',' || *p == ' ') p++;
    size_t n = strcspn(p, ", ");
    listed = n && n == ipl && !memcmp(p, r->ip, n);
    p += n;
  }
  const char *v = listed ? vigil__req_header(r, header) : NULL;
  return v && *v ? v : NULL;
}

/* Starts a session for a, answered 201 with its cookie. */
static int start_session(vigil__req *r, const vigil__account *a) {
  char token[VIGIL__SESSION_TOKEN_HEX + 1], csrf[VIGIL__CSRF_HEX + 1];
  int rc = vigil__session_create(vigil__req_store(r), a->name, token, csrf, &r->err);
  if (rc) return rc;
  set_cookie(r, token);
  sodium_memzero(token, sizeof token);
  r->authed = 1;
  r->key.role = a->role;
  snprintf(r->key.name, sizeof r->key.name, "%s", a->name);
  return vigil__reply_json(r, 201, session_json(a->name, a->role, a->child_safety, csrf));
}

static int sso_signin(vigil__req *r, const char *name) {
  snprintf(r->user, sizeof r->user, "user:%.48s", name);
  for (char *p = r->user; *p; p++)
    if ((unsigned char)*p < 32 || (unsigned char)*p >= 127) *p = '?';
  r->audit_detail = json_pack("{s:s}", "via", "sso");
  vigil__account a;
  int rc = vigil__account_get(vigil__req_store(r), name, &a, &r->err);
  if (rc < 0) return rc;
  if (rc == VIGIL__SIGNIN_LOCKED)
    return vigil__reply_error(r, 403, "account_locked", "this account is locked; an administrator can unlock it");
  if (rc != VIGIL__SIGNIN_OK)
    return vigil__reply_error(r, 401, "bad_credentials", "the signed-on user has no account here");
  return start_session(r, &a);
}

int vigil__h_session_create(vigil__req *r) {
  static const char *const allowed[] = {"name", "password", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *sso = sso_user(r);
  if (sso && !json_object_get(r->json, "name") && !json_object_get(r->json, "password"))
    return sso_signin(r, sso);
  const char *name, *pw;
  if (!vigil__json_str(r, "name", 1, VIGIL_USER_NAME_MAX, &name) ||
      !vigil__json_str(r, "password", 1, VIGIL_USER_PASSWORD_MAX, &pw))
    return VIGIL_OK;
  /* the audit row of this attempt, success or not, names who it was for */
  snprintf(r->user, sizeof r->user, "user:%s", name);
  for (char *p = r->user; *p; p++)
    if ((unsigned char)*p < 32 || (unsigned char)*p >= 127) *p = '?';
  vigil__account a;
  int64_t wait = 0;
  int rc = vigil__signin(vigil__req_store(r), name, pw, &a, &wait, &r->err);
  if (rc < 0) return rc;
  if (rc == VIGIL__SIGNIN_WAIT) {
    r->retry_after = (int)wait;
    return vigil__reply_error(r, 429, "too_many_attempts", "too many failed sign-ins; try again in %lld s",
                              (long long)wait);
  }
  if (rc == VIGIL__SIGNIN_BUSY) {
    r->retry_after = 1;
    return vigil__reply_error(r, 503, "busy", "too many sign-ins at once; try again in a second");
  }
  if (rc == VIGIL__SIGNIN_LOCKED)
    return vigil__reply_error(r, 403, "account_locked", "this account is locked; an administrator can unlock it");
  if (rc != VIGIL__SIGNIN_OK) return vigil__reply_error(r, 401, "bad_credentials", "wrong name or password");
  return start_session(r, &a);
}

int vigil__h_session_get(vigil__req *r) {
  char token[VIGIL__SESSION_TOKEN_HEX + 1];
  if (!r->user[0] || !vigil__session_token(r, token))
    return vigil__reply_error(r, 404, "not_found", "this request was not made with a console session");
  /* the CSRF token is looked up again here: a page opened in a new tab
   * needs it, and only this call (same origin, with the cookie) hands it out */
  char csrf[VIGIL__CSRF_HEX + 1];
  int rc = vigil__session_csrf(vigil__req_store(r), token, csrf, &r->err);
  if (rc == VIGIL_ENOTFOUND) return vigil__reply_error(r, 401, "session_expired", "the session has ended; sign in again");
  if (rc) return rc;
  return vigil__reply_json(r, 200, session_json(r->user + 5, r->key.role, r->child_safety, csrf));
}

int vigil__h_session_delete(vigil__req *r) {
  char token[VIGIL__SESSION_TOKEN_HEX + 1];
  if (!r->user[0] || !vigil__session_token(r, token))
    return vigil__reply_error(r, 404, "not_found", "this request was not made with a console session");
  int rc = vigil__session_end(vigil__req_store(r), token, &r->err);
  if (rc) return rc;
  snprintf(r->set_cookie, sizeof r->set_cookie, VIGIL__SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
           vigil__server_tls(r->srv) ? "; Secure" : "");
  return vigil__reply_json(r, 200, json_pack("{s:b}", "signed_out", 1));
}

/* {"case": ..., "lease_expires_at": ...} for case id held until until. */
static int reply_lease(vigil__req *r, int64_t id, int64_t until) {
  json_t *c = NULL;
  int rc = vigil__case_get(vigil__req_store(r), id, &c, &r->err);
  if (rc) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:o, s:o}", "case", c, "lease_expires_at", vigil__json_time_s(until)));
}

int vigil__h_case_next(vigil__req *r) {
  int64_t id = 0, until = 0;
  vigil__case_filter f;
  if (!vigil__case_filter_from(r, &f)) return VIGIL_OK;
  f.assignee = NULL; /* the next case is nobody's yet */
  int rc = vigil__claim_next(vigil__req_store(r), vigil__req_who(r), &f, VIGIL__LEASE_S, &id, &until, &r->err);
  if (rc) return rc;
  if (!id) return vigil__reply_json(r, 200, json_pack("{s:n, s:n}", "case", "lease_expires_at"));
  r->audit_detail = json_pack("{s:I}", "case_id", (json_int_t)id);
  return reply_lease(r, id, until);
}

int vigil__h_case_lease(vigil__req *r) {
  int64_t id, until;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (!vigil__case_visible(r, id)) return VIGIL_OK;
  int rc = vigil__claim_renew(vigil__req_store(r), id, vigil__req_who(r), VIGIL__LEASE_S, &until, &r->err);
  if (rc == VIGIL_ENOTFOUND) return vigil__reply_error(r, 409, "not_held", "%s", r->err.message);
  if (rc) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:I, s:o}", "case_id", (json_int_t)id, "lease_expires_at",
                                             vigil__json_time_s(until)));
}

int vigil__h_case_skip(vigil__req *r) {
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  int rc = vigil__claim_release(vigil__req_store(r), id, vigil__req_who(r), &r->err);
  if (rc == VIGIL_ENOTFOUND) return vigil__reply_error(r, 409, "not_held", "%s", r->err.message);
  if (rc) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:I, s:b}", "case_id", (json_int_t)id, "released", 1));
}

int vigil__h_case_unblur(vigil__req *r) {
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  if (r->user[0] && !r->child_safety)
    return vigil__reply_error(r, 403, "forbidden", "seeing evidence needs the child-safety permission");
  if (!vigil__case_visible(r, id)) return VIGIL_OK;
  json_t *c = NULL;
  int rc = vigil__case_get(vigil__req_store(r), id, &c, &r->err);
  if (rc) return rc;
  json_decref(c);
  return vigil__reply_json(r, 200, json_pack("{s:I, s:b}", "case_id", (json_int_t)id, "recorded", 1));
}
