/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - the service database: opening it, its schema, and clocks.
 *
 * Every table of the service is prefixed server_.  The audit table is
 * append-only by construction: triggers abort any UPDATE or DELETE on it,
 * so even a bug elsewhere in the service cannot rewrite history.
 * All access goes through the store's mutex: one connection (SQLite or
 * PostgreSQL, db/sql.h), one statement sequence at a time (reads are
 * short; writes are single-row).  Each engine has its schema below; the
 * statements in keys.c, audit.c and cases.c are written once for both.
 */
#include "server/store.h"

#include "common/rfc3339.h"

#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#include "db/sql.h"
#include "report/outbox.h"
#include "server/accounts.h"

/* The tables, in either engine's words for an auto-incrementing id, bytes
 * and a 64-bit integer.  Created idempotently at every open. */
#define SERVER_TABLES(SERIAL_ID, BYTES, INT64)                                                                   \
  "CREATE TABLE IF NOT EXISTS server_keys("                                                                       \
  "  id TEXT PRIMARY KEY,"                                                                                        \
  "  role TEXT NOT NULL,"                                                                                         \
  "  name TEXT NOT NULL DEFAULT '',"                                                                              \
  "  digest " BYTES " NOT NULL,"                                                                                  \
  "  created_at " INT64 " NOT NULL,"                                                                              \
  "  revoked_at " INT64 " NOT NULL DEFAULT 0);"                                                                   \
  "CREATE TABLE IF NOT EXISTS server_audit("                                                                      \
  "  id " SERIAL_ID ","                                                                                           \
  "  at TEXT NOT NULL,"                                                                                           \
  "  key_id TEXT,"                                                                                                \
  "  ip TEXT NOT NULL,"                                                                                           \
  "  method TEXT NOT NULL,"                                                                                       \
  "  path TEXT NOT NULL,"                                                                                         \
  "  action TEXT NOT NULL,"                                                                                       \
  "  target TEXT,"                                                                                                \
  "  status INTEGER NOT NULL,"                                                                                    \
  "  detail TEXT);"                                                                                               \
  "CREATE TABLE IF NOT EXISTS server_cases("                                                                      \
  "  id " SERIAL_ID ","                                                                                           \
  "  status TEXT NOT NULL DEFAULT 'open',"                                                                        \
  "  source TEXT NOT NULL,"                                                                                       \
  "  pdq TEXT, md5 TEXT, sha256 TEXT,"                                                                            \
  "  content_id TEXT, uploader_id TEXT, url TEXT, reason TEXT, detail TEXT,"                                      \
  "  opened_by TEXT,"                                                                                             \
  "  created_at TEXT NOT NULL,"                                                                                   \
  "  updated_at TEXT NOT NULL,"                                                                                   \
  "  decision TEXT, classification TEXT, note TEXT, decided_by TEXT, decided_at TEXT);"                           \
  "CREATE INDEX IF NOT EXISTS server_cases_status ON server_cases(status, id);"                                   \
  "CREATE TABLE IF NOT EXISTS server_case_decisions("                                                             \
  "  id " SERIAL_ID ","                                                                                           \
  "  case_id " INT64 " NOT NULL REFERENCES server_cases(id),"                                                     \
  "  decision TEXT NOT NULL, classification TEXT, note TEXT,"                                                     \
  "  key_id TEXT, at TEXT NOT NULL);"                                                                             \
  "CREATE TABLE IF NOT EXISTS server_bank_review("                                                                \
  "  bank TEXT PRIMARY KEY, review INTEGER NOT NULL);"

static const char sqlite_schema[] =
    SERVER_TABLES("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB", "INTEGER")
    "CREATE TRIGGER IF NOT EXISTS server_audit_no_update BEFORE UPDATE ON server_audit"
    "  BEGIN SELECT RAISE(ABORT, 'server_audit is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS server_audit_no_delete BEFORE DELETE ON server_audit"
    "  BEGIN SELECT RAISE(ABORT, 'server_audit is append-only'); END;";

/* Several nodes may start at once: the advisory lock makes the CREATE ...
 * IF NOT EXISTS run one node at a time (they race on the catalogue
 * otherwise).  A TRUNCATE trigger closes the one way around row triggers. */
static const char pg_schema[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_SCHEMA ");"
    SERVER_TABLES("BIGSERIAL PRIMARY KEY", "BYTEA", "BIGINT")
    "CREATE OR REPLACE FUNCTION server_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    "  $f$ BEGIN RAISE EXCEPTION 'server_audit is append-only'; END $f$;"
    "CREATE OR REPLACE TRIGGER server_audit_no_change BEFORE UPDATE OR DELETE ON server_audit"
    "  FOR EACH ROW EXECUTE FUNCTION server_audit_append_only();"
    "CREATE OR REPLACE TRIGGER server_audit_no_truncate BEFORE TRUNCATE ON server_audit"
    "  FOR EACH STATEMENT EXECUTE FUNCTION server_audit_append_only();"
    "COMMIT;";

int vigil_server_store_open(vigil_server_store **out, const char *location, vigil_error *err) {
  *out = NULL;
  vigil_server_store *st = calloc(1, sizeof *st);
  if (!st) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__sql_open(&st->db, location, err);
  if (rc == VIGIL_OK)
    rc = vigil__sql_script(st->db, vigil__sql_engine(st->db) == VIGIL__SQL_PG ? pg_schema : sqlite_schema, err);
  if (rc == VIGIL_OK) rc = vigil__report_schema(st->db, err); /* the outbox (lib/report) */
  if (rc == VIGIL_OK) rc = vigil__accounts_schema(st, err);    /* the console's people (accounts.c) */
  if (rc != VIGIL_OK) {
    vigil__sql_close(st->db);
    free(st);
    return rc;
  }
  pthread_mutex_init(&st->mu, NULL);
  pthread_mutex_init(&st->cache_mu, NULL);
  *out = st;
  return VIGIL_OK;
}

void vigil_server_store_close(vigil_server_store *st) {
  if (!st) return;
  vigil__sql_close(st->db);
  pthread_mutex_destroy(&st->mu);
  pthread_mutex_destroy(&st->cache_mu);
  free(st);
}

int64_t vigil__now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t vigil__now_s(void) { return vigil__now_us() / 1000000; }

void vigil__iso_time(int64_t us, char *buf, size_t cap) {
  char out[VIGIL__RFC3339_MAX];
  vigil__rfc3339_ms(us / 1000, out); /* one formatter for every time shown */
  if (!cap) return;
  size_t n = strlen(out);
  if (n >= cap) n = cap - 1;
  memcpy(buf, out, n);
  buf[n] = 0;
}

json_t *vigil__json_time_s(int64_t unix_s) {
  if (unix_s <= 0) return json_null();
  char buf[40];
  vigil__iso_time(unix_s * 1000000, buf, sizeof buf);
  return json_string(buf);
}

const char *vigil_role_name(vigil_role r) {
  switch (r) {
  case VIGIL_ROLE_ADMIN: return "admin";
  case VIGIL_ROLE_SUBMITTER: return "submitter";
  case VIGIL_ROLE_REVIEWER: return "reviewer";
  case VIGIL_ROLE_AUDITOR: return "auditor";
  default: return NULL;
  }
}

vigil_role vigil_role_parse(const char *name) {
  static const vigil_role all[] = {VIGIL_ROLE_ADMIN, VIGIL_ROLE_SUBMITTER, VIGIL_ROLE_REVIEWER, VIGIL_ROLE_AUDITOR};
  for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
    if (!strcmp(name, vigil_role_name(all[i]))) return all[i];
  return VIGIL_ROLE_NONE;
}

int vigil__store_id(vigil_server_store *st, char id[33], vigil_error *err) {
  uint8_t b[16];
  if (RAND_bytes(b, sizeof b) != 1) return vigil__seterr(err, VIGIL_EINTERNAL, "no randomness available");
  char mine[33];
  for (int i = 0; i < 16; i++) snprintf(mine + 2 * i, 3, "%02x", b[i]);
  const vigil__val p[] = {vigil__vtext(mine)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  /* The first store to ask names the database; every later one reads that
   * name (the insert does nothing once a row is there). */
  int rc = vigil__sql_run(st->db, "CREATE TABLE IF NOT EXISTS server_meta(k TEXT PRIMARY KEY, v TEXT NOT NULL)", NULL, 0,
                          NULL, NULL, err);
  if (!rc)
    rc = vigil__sql_run(st->db, "INSERT INTO server_meta(k, v) VALUES('store_id', $1) ON CONFLICT DO NOTHING", p, 1,
                        NULL, NULL, err);
  if (!rc) rc = vigil__sql_run(st->db, "SELECT v FROM server_meta WHERE k = 'store_id'", NULL, 0, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (!rc && vigil__rows_count(rows) == 1) snprintf(id, 33, "%s", vigil__rows_text(rows, 0, 0));
  else if (!rc) rc = vigil__seterr(err, VIGIL_EINTERNAL, "store id: no row");
  vigil__rows_free(rows);
  return rc ? vigil__prefixerr(err, rc, "store id") : VIGIL_OK;
}

int vigil__text_ok(const char *s, int no_bidi) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p;
    if (c < 0x20 || c == 0x7f) return 0;
    if (c < 0x80) {
      p++;
      continue;
    }
    int n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
    if (n < 0) return 0;
    unsigned cp = c & (0x3fu >> n);
    for (int i = 1; i <= n; i++) {
      if ((p[i] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return 0;
    if (cp < 0xa0) return 0; /* C1 controls (CSI among them) */
    if (no_bidi && (cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
                    (cp >= 0x2066 && cp <= 0x2069)))
      return 0;
    p += n + 1;
  }
  return 1;
}
