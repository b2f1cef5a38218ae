/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_users.c - people of the review console for admins: GET/POST /v1/users,
 * POST /v1/users/{name}/unlock, DELETE /v1/users/{name} (disable), the API
 * twin of `vigil users`.  A new account's password is in the request only:
 * never in the answer, the audit detail or the log.
 */
#include "server/accounts.h"
#include "server/handlers.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static json_t *user_json(const vigil_user_info *u) {
  return json_pack("{s:s, s:s?, s:b, s:o, s:o, s:i, s:b}", "name", u->name, "role", vigil_role_name(u->role),
                   "child_safety", u->child_safety, "created_at", vigil__json_time_s(u->created_at), "disabled_at",
                   vigil__json_time_s(u->disabled_at), "failures", u->failures, "locked", u->locked);
}

int vigil__h_users_list(vigil__req *r) {
  vigil_user_info *v;
  size_t n;
  int rc = vigil_user_list(vigil__req_store(r), &v, &n, &r->err);
  if (rc) return rc;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    if (json_array_append_new(arr, user_json(&v[i])) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  free(v);
  if (!arr) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, json_pack("{s:o}", "users", arr));
}

int vigil__h_users_create(vigil__req *r) {
  static const char *const allowed[] = {"name", "role", "child_safety", "password", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *name, *role, *pw;
  int child = 0;
  if (!vigil__json_str(r, "name", 1, VIGIL_USER_NAME_MAX, &name) || !vigil__json_str(r, "role", 1, 16, &role) ||
      !vigil__json_str(r, "password", 1, VIGIL_USER_PASSWORD_MAX, &pw) || !vigil__json_bool(r, "child_safety", &child))
    return VIGIL_OK;
  vigil_role ro = vigil_role_parse(role);
  if (!ro) return vigil__reply_error(r, 400, "invalid", "role: expected admin, submitter, reviewer or auditor");
  int rc = vigil_user_create(vigil__req_store(r), name, ro, child, pw, &r->err);
  if (rc == VIGIL_EEXIST) return vigil__reply_error(r, 409, "conflict", "%s", r->err.message);
  if (rc == VIGIL_EINVAL) return vigil__reply_error(r, 400, "invalid", "%s", r->err.message);
  if (rc) return rc;
  r->audit_detail = json_pack("{s:s, s:s, s:b}", "name", name, "role", role, "child_safety", child);
  vigil_user_info u = {0};
  snprintf(u.name, sizeof u.name, "%s", name);
  u.role = ro;
  u.child_safety = child;
  u.created_at = vigil__now_s();
  return vigil__reply_json(r, 201, user_json(&u));
}

static int change(vigil__req *r, int (*fn)(vigil_server_store *, const char *, vigil_error *), const char *done) {
  const char *name = vigil__req_param(r, "name");
  int rc = fn(vigil__req_store(r), name, &r->err);
  if (rc == VIGIL_ENOTFOUND) return vigil__reply_error(r, 404, "not_found", "no user %s", name);
  if (rc) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:s, s:b}", "name", name, done, 1));
}

int vigil__h_users_unlock(vigil__req *r) { return change(r, vigil_user_unlock, "unlocked"); }
int vigil__h_users_disable(vigil__req *r) { return change(r, vigil_user_disable, "disabled"); }
