/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keys.c - API keys: creation, verification, revocation, listing.
 *
 * A key is "vk_" + 12 hex digits of public id + "_" + 64 hex digits of
 * secret, all from RAND_bytes.  The table keeps the id and SHA-256 of the
 * whole key string; verification fetches the row by id and compares
 * digests with CRYPTO_memcmp, so the time taken does not depend on how
 * many leading bytes of a guess were right.  The full key exists only in
 * the creator's output.  Verified keys are cached for a second (see
 * vigil__key_slot in internal.h) so most requests skip SQL.
 */
#include "server/store.h"
#include "common/hex.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>


#define KEY_PREFIX "vk_"
#define SECRET_BYTES 32
#define KEY_LEN (3 + VIGIL_KEY_ID_LEN + 1 + 2 * SECRET_BYTES)

static int digest(const char *key, size_t len, uint8_t out[32], vigil_error *err) {
  unsigned int n = 0;
  if (!EVP_Digest(key, len, out, &n, EVP_sha256(), NULL) || n != 32)
    return vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 failed");
  return VIGIL_OK;
}

static size_t slot_of(const char *id) {
  uint32_t h = 2166136261u; /* FNV-1a: ids are random already, this only spreads them */
  for (const char *p = id; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  return h % VIGIL__KEY_CACHE_SLOTS;
}

static int is_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

int vigil_key_create(vigil_server_store *st, vigil_role role, const char *name, char key_out[VIGIL_KEY_MAX],
                     vigil_key_info *info, vigil_error *err) {
  if (!vigil_role_name(role)) return vigil__seterr(err, VIGIL_EINVAL, "unknown role");
  if (!name) name = "";
  if (strlen(name) > VIGIL_KEY_NAME_MAX)
    return vigil__seterr(err, VIGIL_EINVAL, "key name longer than %d bytes", VIGIL_KEY_NAME_MAX);
  if (!vigil__text_ok(name, 1))
    return vigil__seterr(err, VIGIL_EINVAL,
                         "key name: UTF-8 text without control or bidirectional-override characters only");
  uint8_t idb[VIGIL_KEY_ID_LEN / 2], secret[SECRET_BYTES], dg[32];
  if (RAND_bytes(idb, sizeof idb) != 1 || RAND_bytes(secret, sizeof secret) != 1)
    return vigil__seterr(err, VIGIL_EINTERNAL, "no randomness available");
  char id[VIGIL_KEY_ID_LEN + 1], sec[2 * SECRET_BYTES + 1];
  vigil__hex_encode(idb, sizeof idb, id);
  vigil__hex_encode(secret, sizeof secret, sec);
  char key[VIGIL_KEY_MAX];
  snprintf(key, sizeof key, KEY_PREFIX "%s_%s", id, sec);
  OPENSSL_cleanse(secret, sizeof secret);
  OPENSSL_cleanse(sec, sizeof sec);
  int rc = digest(key, strlen(key), dg, err);
  if (rc) return rc;
  int64_t now = vigil__now_s();
  const vigil__val p[] = {vigil__vtext(id), vigil__vtext(vigil_role_name(role)), vigil__vtext(name),
                          vigil__vblob(dg, 32), vigil__vint(now)};
  pthread_mutex_lock(&st->mu);
  /* with an actor (a command-line tool), the key and its audit row commit together */
  if (st->actor[0]) rc = vigil__sql_begin(st->db, err);
  if (!rc)
    rc = vigil__sql_run(st->db, "INSERT INTO server_keys(id, role, name, digest, created_at) VALUES($1, $2, $3, $4, $5)",
                        p, 5, NULL, NULL, err);
  if (st->actor[0] && !rc) {
    json_t *d = json_pack("{s:s, s:s}", "role", vigil_role_name(role), "name", name);
    char *dj = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    vigil__audit_rec a = {st->actor, "local", "CLI", "", "keys.create", id, 201, dj, 0};
    rc = dj ? vigil__audit_append_locked(st, &a, err) : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    free(dj);
    if (!rc) rc = vigil__sql_commit(st->db, err);
  }
  if (st->actor[0] && rc) vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  if (rc) vigil__prefixerr(err, rc, "create key");
  if (rc) {
    OPENSSL_cleanse(key, sizeof key);
    return rc;
  }
  memcpy(key_out, key, strlen(key) + 1);
  OPENSSL_cleanse(key, sizeof key);
  if (info) {
    memset(info, 0, sizeof *info);
    memcpy(info->id, id, sizeof info->id);
    info->role = role;
    snprintf(info->name, sizeof info->name, "%s", name);
    info->created_at = now;
  }
  return VIGIL_OK;
}

/* Row i of (id, role, name, created_at, revoked_at, ...) into k. */
static void row_info(const vigil__rows *r, size_t i, vigil_key_info *k) {
  memset(k, 0, sizeof *k);
  snprintf(k->id, sizeof k->id, "%s", vigil__rows_text(r, i, 0));
  k->role = vigil_role_parse(vigil__rows_text(r, i, 1));
  snprintf(k->name, sizeof k->name, "%s", vigil__rows_text(r, i, 2));
  k->created_at = vigil__rows_int(r, i, 3);
  k->revoked_at = vigil__rows_int(r, i, 4);
}

int vigil_key_verify(vigil_server_store *st, const char *key, size_t len, vigil_key_info *info, vigil_error *err) {
  return vigil__key_verify_seen(st, key, len, info, NULL, err);
}

int vigil__key_verify_seen(vigil_server_store *st, const char *key, size_t len, vigil_key_info *info,
                           vigil_key_info *seen, vigil_error *err) {
  if (seen) memset(seen, 0, sizeof *seen);
  if (len != KEY_LEN || memcmp(key, KEY_PREFIX, 3) != 0 || key[3 + VIGIL_KEY_ID_LEN] != '_' ||
      !is_hex(key + 3, VIGIL_KEY_ID_LEN) || !is_hex(key + 4 + VIGIL_KEY_ID_LEN, 2 * SECRET_BYTES))
    return vigil__seterr(err, VIGIL_ENOTFOUND, "malformed API key");
  char id[VIGIL_KEY_ID_LEN + 1];
  memcpy(id, key + 3, VIGIL_KEY_ID_LEN);
  id[VIGIL_KEY_ID_LEN] = 0;
  uint8_t dg[32];
  int rc = digest(key, len, dg, err);
  if (rc) return rc;
  int64_t now = vigil__now_us();
  vigil__key_slot *slot = &st->cache[slot_of(id)], hit;
  pthread_mutex_lock(&st->cache_mu);
  hit = *slot;
  pthread_mutex_unlock(&st->cache_mu);
  if (!strcmp(hit.info.id, id) && hit.expires_us > now) {
    if (CRYPTO_memcmp(hit.digest, dg, 32) != 0) {
      if (seen) *seen = hit.info;
      return vigil__seterr(err, VIGIL_ENOTFOUND, "unknown API key");
    }
    if (info) *info = hit.info;
    return VIGIL_OK;
  }
  const vigil__val p[] = {vigil__vtext(id)};
  vigil__rows *rows = NULL;
  /* st->mu is held until the cache is filled: a revoke (which takes it too)
   * then either comes first, and this reads the revoked row, or after, and
   * drops what this cached. */
  pthread_mutex_lock(&st->mu);
  rc = vigil__sql_run(st->db, "SELECT id, role, name, created_at, revoked_at, digest FROM server_keys WHERE id = $1",
                      p, 1, &rows, NULL, err);
  if (rc) {
    pthread_mutex_unlock(&st->mu);
    vigil__prefixerr(err, rc, "verify key");
    return rc;
  }
  rc = vigil__seterr(err, VIGIL_ENOTFOUND, "unknown API key");
  if (vigil__rows_count(rows) == 1) {
    const vigil__val *stored = vigil__rows_cell(rows, 0, 5);
    int ok = stored->k == VIGIL__V_BLOB && stored->len == 32 && CRYPTO_memcmp(stored->p, dg, 32) == 0;
    vigil_key_info k;
    row_info(rows, 0, &k);
    if (seen) *seen = k;
    if (ok && k.revoked_at == 0 && k.role != VIGIL_ROLE_NONE) {
      if (info) *info = k;
      rc = VIGIL_OK;
      pthread_mutex_lock(&st->cache_mu);
      slot->info = k;
      memcpy(slot->digest, dg, 32);
      slot->expires_us = now + VIGIL__KEY_CACHE_US;
      pthread_mutex_unlock(&st->cache_mu);
    } else if (ok && k.revoked_at) {
      rc = vigil__seterr(err, VIGIL_ENOTFOUND, "API key %s was revoked", k.id);
    }
  }
  pthread_mutex_unlock(&st->mu);
  vigil__rows_free(rows);
  return rc;
}

/* keep_admin: refuse (VIGIL_EEXIST) to revoke the last active admin key,
 * checked in the same statement as the update so that two revocations
 * through this store cannot each leave the other one last. */
static int revoke(vigil_server_store *st, const char *id, int keep_admin, vigil_error *err) {
  pthread_mutex_lock(&st->mu);
  /* Dropped from the cache under the store lock, before the update: a
   * verification racing with us either sees the old row before this lock
   * (and its request was accepted before the revocation) or misses the
   * cache and reads the revoked row. */
  if (strlen(id) == VIGIL_KEY_ID_LEN) {
    pthread_mutex_lock(&st->cache_mu);
    vigil__key_slot *slot = &st->cache[slot_of(id)];
    if (!strcmp(slot->info.id, id)) memset(slot, 0, sizeof *slot);
    pthread_mutex_unlock(&st->cache_mu);
  }
  const vigil__val p[] = {vigil__vint(vigil__now_s()), vigil__vtext(id)};
  int64_t changed = 0;
  int rc = st->actor[0] ? vigil__sql_begin(st->db, err) : VIGIL_OK;
  if (!rc) rc = vigil__sql_run(st->db,
                          keep_admin ? "UPDATE server_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0"
                                       " AND (role <> 'admin' OR (SELECT count(*) FROM server_keys"
                                       " WHERE role = 'admin' AND revoked_at = 0) > 1)"
                                     : "UPDATE server_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0",
                          p, 2, NULL, &changed, err);
  if (rc) vigil__prefixerr(err, rc, "revoke key");
  else if (changed == 0) {
    vigil__rows *rows = NULL;
    int active_admin = 0;
    if (keep_admin &&
        !vigil__sql_run(st->db, "SELECT 1 FROM server_keys WHERE id = $1 AND role = 'admin' AND revoked_at = 0",
                        &p[1], 1, &rows, NULL, NULL))
      active_admin = vigil__rows_count(rows) > 0;
    vigil__rows_free(rows);
    rc = active_admin ? vigil__seterr(err, VIGIL_EEXIST, "refusing to revoke the last active admin key")
                      : vigil__seterr(err, VIGIL_ENOTFOUND, "no active key with id '%.*s'", 40, id);
  }
  if (st->actor[0]) {
    vigil__audit_rec a = {st->actor, "local", "CLI", "", "keys.revoke", id, 200, NULL, 0};
    if (!rc) rc = vigil__audit_append_locked(st, &a, err);
    if (!rc) rc = vigil__sql_commit(st->db, err);
    else vigil__sql_rollback(st->db);
  }
  pthread_mutex_unlock(&st->mu);
  return rc;
}

int vigil_key_revoke(vigil_server_store *st, const char *id, vigil_error *err) { return revoke(st, id, 0, err); }

int vigil__key_revoke_keep_admin(vigil_server_store *st, const char *id, vigil_error *err) {
  return revoke(st, id, 1, err);
}

int vigil_key_list(vigil_server_store *st, vigil_key_info **out, size_t *n, vigil_error *err) {
  *out = NULL;
  *n = 0;
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "SELECT id, role, name, created_at, revoked_at FROM server_keys ORDER BY created_at, id",
                          NULL, 0, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return vigil__prefixerr(err, rc, "list keys");
  size_t cnt = vigil__rows_count(rows);
  vigil_key_info *v = vigil__mallocarray(cnt, sizeof *v);
  if (!v) {
    vigil__rows_free(rows);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < cnt; i++) row_info(rows, i, &v[i]);
  vigil__rows_free(rows);
  *out = v;
  *n = cnt;
  return VIGIL_OK;
}

int vigil_key_count(vigil_server_store *st, int64_t *n, vigil_error *err) {
  *n = 0;
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "SELECT count(*) FROM server_keys", NULL, 0, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return vigil__prefixerr(err, rc, "count keys");
  if (vigil__rows_count(rows) == 1) *n = vigil__rows_int(rows, 0, 0);
  vigil__rows_free(rows);
  return VIGIL_OK;
}
