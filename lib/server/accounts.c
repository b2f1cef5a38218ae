/* SPDX-License-Identifier: Apache-2.0 */
/*
 * accounts.c - the people of the review console: their table, creation,
 * listing, unlocking, and the password check of a sign-in.
 *
 * Passwords are hashed with libsodium's crypto_pwhash_str (Argon2id, the
 * "interactive" cost: about 64 MiB and a few tenths of a second), which
 * stores salt and cost in the string, so raising the cost later needs no
 * schema change.  The hash runs outside the store's lock: a slow hash must
 * not stall every other request.  An unknown name is checked against a
 * hash of its own too, so the time taken does not tell which names exist.
 *
 * Failed sign-ins in a row are counted per account: after
 * VIGIL__SIGNIN_FREE of them each attempt must wait twice as long as the
 * previous one, and after VIGIL__SIGNIN_LOCK the account is locked until an
 * admin runs `vigil users unlock`.  A right password clears the count.
 */
#include "server/accounts.h"

#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "db/sql.h"

#define STR2(x) #x
#define STR(x) STR2(x)

#define ACCOUNT_TABLES(SERIAL_ID, INT64)                                                                   \
  "CREATE TABLE IF NOT EXISTS server_users("                                                                \
  "  name TEXT PRIMARY KEY,"                                                                                \
  "  role TEXT NOT NULL,"                                                                                   \
  "  child_safety INTEGER NOT NULL DEFAULT 0,"                                                              \
  "  pwhash TEXT NOT NULL,"                                                                                 \
  "  created_at " INT64 " NOT NULL,"                                                                        \
  "  disabled_at " INT64 " NOT NULL DEFAULT 0,"                                                             \
  "  failures INTEGER NOT NULL DEFAULT 0,"                                                                  \
  "  next_try_ms " INT64 " NOT NULL DEFAULT 0);"                                                            \
  "CREATE TABLE IF NOT EXISTS server_sessions("                                                             \
  "  digest TEXT PRIMARY KEY,"                                                                              \
  "  user_name TEXT NOT NULL REFERENCES server_users(name),"                                                \
  "  csrf TEXT NOT NULL,"                                                                                   \
  "  created_ms " INT64 " NOT NULL,"                                                                        \
  "  seen_ms " INT64 " NOT NULL);"                                                                          \
  "CREATE TABLE IF NOT EXISTS server_case_sightings("                                                       \
  "  id " SERIAL_ID ","                                                                                     \
  "  case_id " INT64 " NOT NULL,"                                                                           \
  "  content_id TEXT, uploader_id TEXT, url TEXT,"                                                          \
  "  at TEXT NOT NULL);"                                                                                    \
  "CREATE INDEX IF NOT EXISTS server_case_sightings_case ON server_case_sightings(case_id, at);"            \
  "CREATE INDEX IF NOT EXISTS server_cases_sha256 ON server_cases(sha256);"                                 \
  "CREATE INDEX IF NOT EXISTS server_cases_content ON server_cases(content_id);"                            \
  "CREATE INDEX IF NOT EXISTS server_cases_uploader ON server_cases(uploader_id);"                          \
  "CREATE TABLE IF NOT EXISTS server_case_rank("                                                            \
  "  case_id " INT64 " PRIMARY KEY,"                                                                        \
  "  severity INTEGER NOT NULL);"                                                                           \
  "CREATE TABLE IF NOT EXISTS server_case_claims("                                                          \
  "  case_id " INT64 " PRIMARY KEY,"                                                                        \
  "  holder TEXT NOT NULL,"                                                                                 \
  "  until_at " INT64 " NOT NULL);"                                                                         \
  "CREATE TABLE IF NOT EXISTS server_case_labels("                                                          \
  "  case_id " INT64 " NOT NULL, bank TEXT NOT NULL, tag TEXT NOT NULL);"                                   \
  "CREATE INDEX IF NOT EXISTS server_case_labels_case ON server_case_labels(case_id);"                      \
  "CREATE INDEX IF NOT EXISTS server_case_labels_bank ON server_case_labels(bank, case_id);"                \
  "CREATE INDEX IF NOT EXISTS server_case_labels_tag ON server_case_labels(tag, case_id);"                  \
  "CREATE TABLE IF NOT EXISTS server_bank_child(bank TEXT PRIMARY KEY);"                                    \
  "CREATE TABLE IF NOT EXISTS server_entry_disputes("                                                       \
  "  id " SERIAL_ID ", bank TEXT NOT NULL, entry_id " INT64 " NOT NULL, signal_type TEXT, value TEXT,"      \
  "  case_id " INT64 " NOT NULL, by_who TEXT, at TEXT NOT NULL, note TEXT);"                                \
  "CREATE INDEX IF NOT EXISTS server_entry_disputes_bank ON server_entry_disputes(bank, id);"               \
  "CREATE TABLE IF NOT EXISTS server_display("                                                              \
  "  scope TEXT PRIMARY KEY,"                                                                               \
  "  blur INTEGER NOT NULL, greyscale INTEGER NOT NULL,"                                                    \
  "  video_muted INTEGER NOT NULL, video_paused INTEGER NOT NULL);"

int vigil__accounts_schema(vigil_server_store *st, vigil_error *err) {
  if (sodium_init() < 0) return vigil__seterr(err, VIGIL_EINTERNAL, "libsodium could not start");
  return vigil__sql_script(st->db,
                           vigil__sql_engine(st->db) == VIGIL__SQL_PG
                               ? "BEGIN; SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_SCHEMA ");"
                                 ACCOUNT_TABLES("BIGSERIAL PRIMARY KEY", "BIGINT") "COMMIT;"
                               : ACCOUNT_TABLES("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"),
                           err);
}

static int name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > VIGIL_USER_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return 0;
  }
  return 1;
}

static int password_ok(const char *pw, vigil_error *err) {
  size_t n = strlen(pw);
  if (n < VIGIL_USER_PASSWORD_MIN)
    return vigil__seterr(err, VIGIL_EINVAL, "password shorter than %d characters", VIGIL_USER_PASSWORD_MIN);
  if (n > VIGIL_USER_PASSWORD_MAX)
    return vigil__seterr(err, VIGIL_EINVAL, "password longer than %d bytes", VIGIL_USER_PASSWORD_MAX);
  return VIGIL_OK;
}

static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES], vigil_error *err) {
  if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return vigil__seterr(err, VIGIL_ENOMEM, "password hashing ran out of memory");
  return VIGIL_OK;
}

/* Writes the CLI's audit row for an account change (a running server's
 * own changes are audited by its core). */
static int audit_cli(vigil_server_store *st, const char *action, const char *name, vigil_error *err) {
  if (!st->actor[0]) return VIGIL_OK;
  return vigil_server_audit_record(st, action, name, 200, NULL, err);
}

int vigil_user_create(vigil_server_store *st, const char *name, vigil_role role, int child_safety,
                      const char *password, vigil_error *err) {
  if (!name || !name_ok(name))
    return vigil__seterr(err, VIGIL_EINVAL, "user name: 1 to %d of a-z 0-9 . _ -", VIGIL_USER_NAME_MAX);
  if (!vigil_role_name(role)) return vigil__seterr(err, VIGIL_EINVAL, "unknown role");
  if (!password) return vigil__seterr(err, VIGIL_EINVAL, "no password");
  int rc = password_ok(password, err);
  if (rc) return rc;
  if (sodium_init() < 0) return vigil__seterr(err, VIGIL_EINTERNAL, "libsodium could not start");
  char h[crypto_pwhash_STRBYTES];
  if ((rc = hash_password(password, h, err))) return rc;
  const vigil__val p[] = {vigil__vtext(name), vigil__vtext(vigil_role_name(role)), vigil__vint(child_safety ? 1 : 0),
                          vigil__vtext(h), vigil__vint(vigil__now_s())};
  pthread_mutex_lock(&st->mu);
  vigil__rows *rows = NULL;
  rc = vigil__sql_run(st->db, "SELECT 1 FROM server_users WHERE name = $1", p, 1, &rows, NULL, err);
  if (!rc && vigil__rows_count(rows)) rc = vigil__seterr(err, VIGIL_EEXIST, "user %s exists already", name);
  vigil__rows_free(rows);
  if (!rc)
    rc = vigil__sql_run(st->db,
                        "INSERT INTO server_users(name, role, child_safety, pwhash, created_at) VALUES($1, $2, $3, $4, $5)",
                        p, 5, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc) rc = audit_cli(st, "users.create", name, err);
  return rc;
}

/* One UPDATE of the named user; VIGIL_ENOTFOUND when there is none. */
static int update_user(vigil_server_store *st, const char *sql, const char *name, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name), vigil__vint(vigil__now_s())};
  int64_t changed = 0;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, sql, p, 2, NULL, &changed, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc && changed == 0) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no user %s", name);
  return rc;
}

int vigil_user_unlock(vigil_server_store *st, const char *name, vigil_error *err) {
  int rc = update_user(st, "UPDATE server_users SET failures = 0, next_try_ms = 0 WHERE name = $1 AND $2 > 0", name,
                       err);
  return rc ? rc : audit_cli(st, "users.unlock", name, err);
}

int vigil_user_disable(vigil_server_store *st, const char *name, vigil_error *err) {
  int rc = update_user(st, "UPDATE server_users SET disabled_at = $2 WHERE name = $1", name, err);
  if (!rc) {
    /* a disabled person's open sessions end now, not at their timeout */
    const vigil__val p[] = {vigil__vtext(name)};
    pthread_mutex_lock(&st->mu);
    rc = vigil__sql_run(st->db, "DELETE FROM server_sessions WHERE user_name = $1", p, 1, NULL, NULL, err);
    pthread_mutex_unlock(&st->mu);
  }
  return rc ? rc : audit_cli(st, "users.disable", name, err);
}

int vigil__user_update(vigil_server_store *st, const char *name, vigil_role role, int child_safety, int enabled,
                       vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(name), vigil__vtext(role ? vigil_role_name(role) : NULL),
                          vigil__vint(child_safety), vigil__vint(enabled)};
  int64_t changed = 0;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_begin(st->db, err);
  /* -1 keeps a value; the session check reads role and permission on every
   * request, so a change applies to open sessions at once */
  if (!rc)
    rc = vigil__sql_run(st->db,
                        "UPDATE server_users SET role = COALESCE($2, role),"
                        " child_safety = CASE WHEN $3 < 0 THEN child_safety ELSE $3 END,"
                        " disabled_at = CASE WHEN $4 = 1 THEN 0 ELSE disabled_at END,"
                        " failures = CASE WHEN $4 = 1 THEN 0 ELSE failures END,"
                        " next_try_ms = CASE WHEN $4 = 1 THEN 0 ELSE next_try_ms END WHERE name = $1",
                        p, 4, NULL, &changed, err);
  if (!rc && changed == 0) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no user %s", name);
  if (!rc) rc = vigil__sql_commit(st->db, err);
  else vigil__sql_rollback(st->db);
  pthread_mutex_unlock(&st->mu);
  return rc;
}

int vigil_user_list(vigil_server_store *st, vigil_user_info **out, size_t *n, vigil_error *err) {
  *out = NULL;
  *n = 0;
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          "SELECT name, role, child_safety, created_at, disabled_at, failures, next_try_ms"
                          " FROM server_users ORDER BY name",
                          NULL, 0, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return rc;
  size_t k = vigil__rows_count(rows);
  vigil_user_info *v = calloc(k ? k : 1, sizeof *v);
  if (!v) {
    vigil__rows_free(rows);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < k; i++) {
    snprintf(v[i].name, sizeof v[i].name, "%s", vigil__rows_text(rows, i, 0));
    v[i].role = vigil_role_parse(vigil__rows_text(rows, i, 1));
    v[i].child_safety = vigil__rows_int(rows, i, 2) != 0;
    v[i].created_at = vigil__rows_int(rows, i, 3);
    v[i].disabled_at = vigil__rows_int(rows, i, 4);
    v[i].failures = (int)vigil__rows_int(rows, i, 5);
    v[i].locked = v[i].failures >= VIGIL__SIGNIN_LOCK;
  }
  vigil__rows_free(rows);
  *out = v;
  *n = k;
  return VIGIL_OK;
}

int vigil__account_get(vigil_server_store *st, const char *name, vigil__account *acct, vigil_error *err) {
  memset(acct, 0, sizeof *acct);
  if (!name_ok(name)) return VIGIL__SIGNIN_BAD;
  const vigil__val p[] = {vigil__vtext(name)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "SELECT role, child_safety, failures, disabled_at FROM server_users WHERE name = $1",
                          p, 1, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return rc;
  rc = VIGIL__SIGNIN_BAD;
  if (vigil__rows_count(rows) == 1) {
    snprintf(acct->name, sizeof acct->name, "%s", name);
    acct->role = vigil_role_parse(vigil__rows_text(rows, 0, 0));
    acct->child_safety = vigil__rows_int(rows, 0, 1) != 0;
    rc = vigil__rows_int(rows, 0, 2) >= VIGIL__SIGNIN_LOCK || vigil__rows_int(rows, 0, 3) ? VIGIL__SIGNIN_LOCKED
         : acct->role == VIGIL_ROLE_NONE                                                  ? VIGIL__SIGNIN_BAD
                                                                                          : VIGIL__SIGNIN_OK;
  }
  vigil__rows_free(rows);
  return rc;
}

/* A hash to check unknown names against, made once (the same cost as a
 * real one, so both answers take as long). */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void make_dummy(void) {
  if (crypto_pwhash_str(dummy_hash, "vigil-no-such-user", 18, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    dummy_hash[0] = 0;
}

int vigil__signin(vigil_server_store *st, const char *name, const char *password, vigil__account *acct,
                  int64_t *wait_s, vigil_error *err) {
  *wait_s = 0;
  memset(acct, 0, sizeof *acct);
  pthread_once(&dummy_once, make_dummy);
  int known = name_ok(name);
  char h[crypto_pwhash_STRBYTES] = "";
  /* milliseconds: a delay of 1 s must not round down to none */
  int64_t failures = 0, next_try = 0, disabled = 0, now = vigil__now_us() / 1000;
  if (known) {
    const vigil__val p[] = {vigil__vtext(name)};
    vigil__rows *rows = NULL;
    pthread_mutex_lock(&st->mu);
    int rc = vigil__sql_run(st->db,
                            "SELECT role, child_safety, pwhash, failures, next_try_ms, disabled_at FROM server_users"
                            " WHERE name = $1",
                            p, 1, &rows, NULL, err);
    pthread_mutex_unlock(&st->mu);
    if (rc) return rc;
    known = vigil__rows_count(rows) == 1;
    if (known) {
      snprintf(acct->name, sizeof acct->name, "%s", name);
      acct->role = vigil_role_parse(vigil__rows_text(rows, 0, 0));
      acct->child_safety = vigil__rows_int(rows, 0, 1) != 0;
      snprintf(h, sizeof h, "%s", vigil__rows_text(rows, 0, 2));
      failures = vigil__rows_int(rows, 0, 3);
      next_try = vigil__rows_int(rows, 0, 4);
      disabled = vigil__rows_int(rows, 0, 5);
    }
    vigil__rows_free(rows);
  }
  if (known && (disabled || failures >= VIGIL__SIGNIN_LOCK)) return VIGIL__SIGNIN_LOCKED;
  if (known && next_try > now) {
    *wait_s = (next_try - now + 999) / 1000;
    return VIGIL__SIGNIN_WAIT;
  }
  static _Atomic int active;
  if (atomic_fetch_add(&active, 1) >= VIGIL__SIGNIN_MAX_ACTIVE) {
    atomic_fetch_sub(&active, 1);
    sodium_memzero(h, sizeof h);
    return VIGIL__SIGNIN_BUSY;
  }
  int ok = crypto_pwhash_str_verify(known ? h : dummy_hash, password, strlen(password)) == 0;
  atomic_fetch_sub(&active, 1);
  if (!known) return VIGIL__SIGNIN_BAD;
  if (ok && acct->role == VIGIL_ROLE_NONE) ok = 0;
  /* The count moves in one statement, so two wrong guesses at once both count. */
  /* the delay counts from the answer, not from the start of a slow hash */
  const vigil__val p[] = {vigil__vtext(name), vigil__vint(vigil__now_us() / 1000)};
  pthread_mutex_lock(&st->mu);
  int rc = ok ? vigil__sql_run(st->db, "UPDATE server_users SET failures = 0, next_try_ms = 0 WHERE name = $1", p, 1,
                               NULL, NULL, err)
              : vigil__sql_run(st->db,
                               "UPDATE server_users SET failures = failures + 1, next_try_ms = CASE WHEN failures + 1 >= "
                               STR(VIGIL__SIGNIN_FREE) " THEN $2 + 1000 * (1 << (CASE WHEN failures + 1 - "
                               STR(VIGIL__SIGNIN_FREE) " > 10 THEN 10 ELSE failures + 1 - "
                               STR(VIGIL__SIGNIN_FREE) " END)) ELSE 0 END WHERE name = $1",
                               p, 2, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  sodium_memzero(h, sizeof h);
  if (rc) return rc;
  if (!ok) return failures + 1 >= VIGIL__SIGNIN_LOCK ? VIGIL__SIGNIN_LOCKED : VIGIL__SIGNIN_BAD;
  return VIGIL__SIGNIN_OK;
}
