/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sessions.c - console sessions: made at sign-in, found by the cookie on
 * each request, touched, and ended at sign-out, on timeout or when the
 * account is disabled.
 *
 * The token (32 random bytes, hex) lives only in the browser's cookie; the
 * store keeps its SHA-256, so a copy of the database signs nobody in.  A
 * session ends after session_idle_s without a request and session_max_s
 * after sign-in whatever happens; an ended one is deleted when next seen.
 * A state-changing request (anything but GET and HEAD) made with a session
 * must carry the session's CSRF token in X-CSRF-Token: SameSite=Strict
 * already keeps other sites' requests from carrying the cookie, the token
 * is the second lock for browsers or proxies that get that wrong.
 */
#include "server/accounts.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "common/hex.h"
#include "db/sql.h"

static int token_digest(const char *token, char hex[65], vigil_error *err) {
  uint8_t d[32];
  unsigned n = 0;
  if (!EVP_Digest(token, strlen(token), d, &n, EVP_sha256(), NULL) || n != 32)
    return vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 failed");
  vigil__hex_encode(d, 32, hex);
  return VIGIL_OK;
}

static int random_hex(char *out, size_t bytes, vigil_error *err) {
  uint8_t b[64];
  if (bytes > sizeof b || RAND_bytes(b, (int)bytes) != 1)
    return vigil__seterr(err, VIGIL_EINTERNAL, "no randomness available");
  vigil__hex_encode(b, bytes, out);
  OPENSSL_cleanse(b, sizeof b);
  return VIGIL_OK;
}

int vigil__session_create(vigil_server_store *st, const char *name, char token[VIGIL__SESSION_TOKEN_HEX + 1],
                          char csrf[VIGIL__CSRF_HEX + 1], vigil_error *err) {
  char dg[65];
  int rc = random_hex(token, VIGIL__SESSION_TOKEN_HEX / 2, err);
  if (!rc) rc = random_hex(csrf, VIGIL__CSRF_HEX / 2, err);
  if (!rc) rc = token_digest(token, dg, err);
  if (rc) return rc;
  int64_t now = vigil__now_us() / 1000;
  const vigil__val p[] = {vigil__vtext(dg), vigil__vtext(name), vigil__vtext(csrf), vigil__vint(now)};
  pthread_mutex_lock(&st->mu);
  rc = vigil__sql_run(st->db,
                      "INSERT INTO server_sessions(digest, user_name, csrf, created_ms, seen_ms) VALUES($1, $2, $3, $4, $4)",
                      p, 4, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  return rc;
}

int vigil__session_csrf(vigil_server_store *st, const char *token, char csrf[VIGIL__CSRF_HEX + 1], vigil_error *err) {
  char dg[65];
  int rc = token_digest(token, dg, err);
  if (rc) return rc;
  const vigil__val p[] = {vigil__vtext(dg)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  rc = vigil__sql_run(st->db, "SELECT csrf FROM server_sessions WHERE digest = $1", p, 1, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc && vigil__rows_count(rows) != 1) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "the session has ended");
  if (!rc) snprintf(csrf, VIGIL__CSRF_HEX + 1, "%s", vigil__rows_text(rows, 0, 0));
  vigil__rows_free(rows);
  return rc;
}

int vigil__session_end(vigil_server_store *st, const char *token, vigil_error *err) {
  char dg[65];
  int rc = token_digest(token, dg, err);
  if (rc) return rc;
  const vigil__val p[] = {vigil__vtext(dg)};
  pthread_mutex_lock(&st->mu);
  rc = vigil__sql_run(st->db, "DELETE FROM server_sessions WHERE digest = $1", p, 1, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  return rc;
}

int vigil__session_token(vigil__req *r, char token[VIGIL__SESSION_TOKEN_HEX + 1]) {
  const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, VIGIL__SESSION_COOKIE);
  if (!v || strlen(v) != VIGIL__SESSION_TOKEN_HEX) return 0;
  for (const char *p = v; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  memcpy(token, v, VIGIL__SESSION_TOKEN_HEX + 1);
  return 1;
}

/* The cookie that makes the browser forget the session. */
static void clear_cookie(vigil__req *r) {
  snprintf(r->set_cookie, sizeof r->set_cookie, VIGIL__SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
           vigil__server_tls(r->srv) ? "; Secure" : "");
}

int vigil__session_begin(vigil__req *r) {
  char token[VIGIL__SESSION_TOKEN_HEX + 1], dg[65];
  /* a cookie that is present but not one of ours is no session at all */
  if (!MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, VIGIL__SESSION_COOKIE)) return 0;
  if (!vigil__session_token(r, token)) {
    clear_cookie(r);
    vigil__reply_error(r, 401, "session_expired", "the session has ended; sign in again");
    return -1;
  }
  vigil_server_store *st = vigil__req_store(r);
  vigil_error e;
  if (token_digest(token, dg, &e)) {
    r->err = e;
    vigil__reply_from_err(r, e.code);
    return -1;
  }
  /* milliseconds: whole seconds would cut a 2 s idle limit to just over 1 s */
  int64_t idle, max, now = vigil__now_us() / 1000;
  vigil__server_session_limits(r->srv, &idle, &max);
  idle *= 1000;
  max *= 1000;
  const vigil__val p[] = {vigil__vtext(dg), vigil__vint(now)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          "SELECT s.user_name, s.csrf, s.created_ms, s.seen_ms, u.role, u.child_safety, u.disabled_at"
                          " FROM server_sessions s JOIN server_users u ON u.name = s.user_name WHERE s.digest = $1",
                          p, 1, &rows, NULL, &e);
  int live = 0;
  if (!rc && vigil__rows_count(rows) == 1) {
    int64_t created = vigil__rows_int(rows, 0, 2), seen = vigil__rows_int(rows, 0, 3);
    live = now - seen < idle && now - created < max && vigil__rows_int(rows, 0, 6) == 0;
    /* touched at most once a second: a page's burst of calls is one write */
    if (live && now - seen >= 1000)
      rc = vigil__sql_run(st->db, "UPDATE server_sessions SET seen_ms = $2 WHERE digest = $1", p, 2, NULL, NULL, &e);
    else if (!live)
      rc = vigil__sql_run(st->db, "DELETE FROM server_sessions WHERE digest = $1", p, 1, NULL, NULL, &e);
  }
  pthread_mutex_unlock(&st->mu);
  if (rc) {
    vigil__rows_free(rows);
    r->err = e;
    vigil__reply_from_err(r, rc);
    return -1;
  }
  if (!live) {
    vigil__rows_free(rows);
    clear_cookie(r);
    vigil__reply_error(r, 401, "session_expired", "the session has ended; sign in again");
    return -1;
  }
  snprintf(r->user, sizeof r->user, "user:%s", vigil__rows_text(rows, 0, 0));
  memset(&r->key, 0, sizeof r->key);
  r->key.role = vigil_role_parse(vigil__rows_text(rows, 0, 4));
  snprintf(r->key.name, sizeof r->key.name, "%s", vigil__rows_text(rows, 0, 0));
  r->child_safety = vigil__rows_int(rows, 0, 5) != 0;
  char csrf[VIGIL__CSRF_HEX + 1];
  snprintf(csrf, sizeof csrf, "%s", vigil__rows_text(rows, 0, 1));
  vigil__rows_free(rows);
  r->authed = 1;
  if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
    const char *got = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    if (!got || strlen(got) != VIGIL__CSRF_HEX || CRYPTO_memcmp(got, csrf, VIGIL__CSRF_HEX) != 0) {
      vigil__reply_error(r, 403, "csrf", "a state-changing request made with a session needs its X-CSRF-Token");
      return -1;
    }
  }
  /* only the child-safety permission opens retained media */
  if (!r->child_safety && r->route && !strcmp(r->route->name, "cases.evidence")) {
    vigil__reply_error(r, 403, "forbidden", "seeing evidence needs the child-safety permission");
    return -1;
  }
  return 1;
}
