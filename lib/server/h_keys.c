/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_keys.c - key management for admins (POST/GET/DELETE /v1/keys) and the
 * audit log for auditors (GET /v1/audit).  A new key's secret appears in
 * the 201 answer and nowhere else: not in the audit detail, not in the log.
 */
#include "server/store.h"
#include "server/req.h"
#include "server/handlers.h"

#include <openssl/crypto.h>
#include <string.h>

static json_t *key_json(const vigil_key_info *k) {
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:b}", "id", k->id, "role", vigil_role_name(k->role), "name", k->name,
                   "created_at", vigil__json_time_s(k->created_at), "revoked_at", vigil__json_time_s(k->revoked_at),
                   "active", k->revoked_at == 0);
}

int vigil__h_keys_create(vigil__req *r) {
  static const char *const allowed[] = {"role", "name", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  const char *role, *name;
  if (!vigil__json_str(r, "role", 1, 16, &role) || !vigil__json_str(r, "name", 0, VIGIL_KEY_NAME_MAX, &name))
    return VIGIL_OK;
  vigil_role ro = vigil_role_parse(role);
  if (!ro) return vigil__reply_error(r, 400, "invalid", "role: expected admin, submitter, reviewer or auditor");
  char key[VIGIL_KEY_MAX];
  vigil_key_info info;
  int rc = vigil_key_create(vigil__req_store(r), ro, name, key, &info, &r->err);
  if (rc) return rc;
  json_t *o = key_json(&info);
  if (o) json_object_set_new(o, "key", json_string(key));
  OPENSSL_cleanse(key, sizeof key);
  r->audit_detail = json_pack("{s:s, s:s, s:s}", "key_id", info.id, "role", role, "name", info.name);
  return vigil__reply_json(r, 201, o);
}

int vigil__h_keys_list(vigil__req *r) {
  vigil_key_info *v;
  size_t n;
  int rc = vigil_key_list(vigil__req_store(r), &v, &n, &r->err);
  if (rc) return rc;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    if (json_array_append_new(arr, key_json(&v[i])) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  free(v);
  if (!arr) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, json_pack("{s:o}", "keys", arr));
}

int vigil__h_keys_revoke(vigil__req *r) {
  const char *id = vigil__req_param(r, "id");
  /* Never lock everyone out: the last active admin key stays (checked in
   * the revoking statement itself, so two concurrent revocations cannot
   * each pass the check). */
  int rc = vigil__key_revoke_keep_admin(vigil__req_store(r), id, &r->err);
  if (rc == VIGIL_EEXIST) return vigil__reply_error(r, 409, "conflict", "refusing to revoke the last active admin key");
  if (rc) return rc;
  return vigil__reply_json(r, 200, json_pack("{s:s, s:b}", "id", id, "revoked", 1));
}

int vigil__h_audit(vigil__req *r) {
  int64_t after, limit;
  if (!vigil__query_int(r, "after_id", 0, INT64_MAX, 0, &after)) return VIGIL_OK;
  if (!vigil__query_int(r, "limit", 1, 1000, 100, &limit)) return VIGIL_OK;
  const char *key_id = vigil__req_query(r, "key_id"), *action = vigil__req_query(r, "action");
  json_t *arr;
  int rc = vigil__audit_list(vigil__req_store(r), after, (int)limit, key_id, action, &arr, &r->err);
  if (rc) return rc;
  size_t n = json_array_size(arr);
  json_t *last = n ? json_object_get(json_array_get(arr, n - 1), "id") : NULL;
  return vigil__reply_json(r, 200, json_pack("{s:o, s:O?}", "entries", arr, "next_after", (size_t)n == (size_t)limit ? last : NULL));
}
