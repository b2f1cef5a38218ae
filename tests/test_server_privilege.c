/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_privilege.c - least privilege and a complete audit in
 * `vigil serve` (lib/server/server.c, h_cases.c, h_banks.c, routes.c).
 *
 *   - Exporting a bank is an admin action, and on record.
 *   - The audit log fails closed: with audit rows refused by the database
 *     (a trigger stands in for a full disk), a decision is not taken, a
 *     bank is not reported created and evidence is not served (503
 *     audit_unavailable); once rows can be written again all of it works.
 *   - Refused keys are on record under their id: a revoked key, a stored
 *     id with the wrong secret; an id nobody holds is not (junk costs no
 *     durable write).
 *   - The command line reaches the same audit log, as "cli:<os user>":
 *     keys created and revoked, banks created, dropped and exported.
 *   - Files: the database and its WAL are 0600; evidence whose bytes are
 *     not the upload its case recorded is not served, nor is a directory
 *     bound to another store used; an evidence
 *     directory owned by someone else or in a directory others may write is
 *     refused; --admin-key-file never follows a symbolic link and leaves
 *     the file 0600 whatever mode it had.
 *   - Query strings: a parameter the route does not read is refused
 *     ("?treshold="), and so is a value that is not UTF-8 text.
 *   - Key names with ESC or bidirectional overrides are refused, and
 *     printed escaped by `vigil keys list` when an old store holds one.
 *   - vigil_index_size is current at every scrape.
 *   - HMA: anonymous lookups only from listed addresses; a lookup hitting
 *     a review bank opens a case.
 *   - Hostile framing: %00 in the target and two Content-Length headers
 *     are refused.
 */
#include "testutil.h"

#include <jansson.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "vigil/media.h"
#include "vigil/server.h"

static tu_fix fx; /* the server, its database and a key per role */
static const char *dir, *dbpath;
static char evdir[300];
/* the jobs directory of the servers a test starts beside fx's: one process
 * (or server) per jobs directory, and fx's holds DB.jobs */
static char other_jobs[300];
static const char *k_admin, *k_sub, *k_rev, *k_aud;
static vigil_key_info i_admin;
static vigil_server *srv;
static int port;

static int call(const char *method, const char *path, const char *key, const char *json, json_t **out) {
  return tu_json_call(port, method, path, key, json, out);
}

/* Sends raw bytes (NULs allowed) on a fresh connection; the status answered. */
static int raw(const char *req, size_t len) {
  int fd = tu_http_connect(port);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, req, len), (ssize_t)len);
  char buf[512];
  size_t got = 0;
  while (got < sizeof buf - 1) {
    ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
    buf[got] = 0;
    if (strstr(buf, "\r\n")) break;
  }
  close(fd);
  buf[got] = 0;
  int status = 0;
  if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return 0;
  return status;
}

/* Rows of the audit log matching action (and key_id and status when given). */
static int audit_count(const char *action, const char *key_id, int status) {
  json_t *o;
  assert_int_equal(call("GET", "/v1/audit?limit=1000", k_aud, NULL, &o), 200);
  int n = 0;
  json_t *e;
  size_t i;
  json_array_foreach(json_object_get(o, "entries"), i, e) {
    const char *a = json_string_value(json_object_get(e, "action"));
    const char *k = json_string_value(json_object_get(e, "key_id"));
    if (a && !strcmp(a, action) && (!key_id || (k && !strcmp(k, key_id))) &&
        (!status || json_integer_value(json_object_get(e, "status")) == status))
      n++;
  }
  json_decref(o);
  return n;
}

static void sql(const char *stmt) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "privilege")) return -1;
  dir = fx.dir;
  dbpath = fx.db;
  snprintf(evdir, sizeof evdir, "%s/evidence", dir);
  snprintf(other_jobs, sizeof other_jobs, "%s/jobs-other", dir);
  k_admin = fx.admin, k_sub = fx.submitter, k_rev = fx.reviewer, k_aud = fx.auditor;
  i_admin = fx.admin_info;
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.evidence_dir = evdir;
  if (tu_fix_start(&fx, &cfg)) return -1;
  srv = fx.srv;
  port = fx.port;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_fix_end(&fx);
}

static void test_export_admin_only(void **state) {
  (void)state;
  assert_int_equal(call("POST", "/v1/banks", k_admin, "{\"name\":\"shared\"}", NULL), 201);
  assert_int_equal(call("POST", "/v1/banks/shared/entries", k_admin,
                        "{\"signal_type\":\"md5\",\"value\":\"00112233445566778899aabbccddeeff\"}", NULL),
                   201);
  const char *keys[] = {k_sub, k_rev, k_aud};
  for (int i = 0; i < 3; i++) {
    tu_http_resp r;
    assert_int_equal(tu_http(port, "GET", "/v1/banks/shared/export?format=te", keys[i], NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 403);
    assert_null(strstr(r.body, "00112233445566778899aabbccddeeff"));
    tu_http_free(&r);
  }
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/v1/banks/shared/export?format=te", k_admin, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "00112233445566778899aabbccddeeff"));
  tu_http_free(&r);
  /* the bank's settings stay readable to every role: names are not hashes */
  assert_int_equal(call("GET", "/v1/banks/shared", k_sub, NULL, NULL), 200);
  assert_int_equal(audit_count("banks.export", i_admin.id, 200), 1);
  assert_int_equal(audit_count("banks.export", NULL, 403), 3);
}

static void test_refused_keys_audited(void **state) {
  (void)state;
  json_t *o;
  assert_int_equal(call("POST", "/v1/keys", k_admin, "{\"role\":\"submitter\",\"name\":\"old-pipeline\"}", &o), 201);
  char key[VIGIL_KEY_MAX], id[32];
  snprintf(key, sizeof key, "%s", json_string_value(json_object_get(o, "key")));
  snprintf(id, sizeof id, "%s", json_string_value(json_object_get(o, "id")));
  json_decref(o);
  char path[64];
  snprintf(path, sizeof path, "/v1/keys/%s", id);
  assert_int_equal(call("DELETE", path, k_admin, NULL, NULL), 200);
  usleep(1100 * 1000); /* past the key cache */
  assert_int_equal(call("POST", "/v1/match", key, "{\"md5\":\"00112233445566778899aabbccddeeff\"}", NULL), 401);
  assert_int_equal(audit_count("match", id, 401), 1);
  /* the admin's id with a secret that is not its own */
  char forged[VIGIL_KEY_MAX];
  snprintf(forged, sizeof forged, "%s", k_admin);
  size_t n = strlen(forged);
  forged[n - 1] = forged[n - 1] == '0' ? '1' : '0';
  assert_int_equal(call("GET", "/v1/keys", forged, NULL, NULL), 401);
  assert_int_equal(audit_count("keys.list", i_admin.id, 401), 1);
  /* an id nobody holds is junk: the request log has it, the audit does not */
  const char *junk = "vk_0123456789ab_0000000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal(call("GET", "/v1/keys", junk, NULL, NULL), 401);
  assert_int_equal(audit_count("keys.list", "0123456789ab", 0), 0);
  /* a role refused on a route that changes nothing is on record too */
  assert_int_equal(call("GET", "/v1/keys", k_rev, NULL, NULL), 403);
  assert_int_equal(audit_count("keys.list", NULL, 403), 1);
}

static void test_audit_fails_closed(void **state) {
  (void)state;
  /* a case with evidence: a picture matching a review bank */
  size_t jpg_len;
  uint8_t *jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &jpg_len);
  assert_non_null(jpg);
  vigil_pdq_result res;
  assert_int_equal(vigil_hash_memory(jpg, jpg_len, NULL, &res, NULL, NULL), VIGIL_OK);
  char hex[65], body[200];
  vigil_pdq_to_hex(&res.hash[0], hex);
  assert_int_equal(call("POST", "/v1/banks", k_admin, "{\"name\":\"known\",\"review\":true}", NULL), 201);
  snprintf(body, sizeof body, "{\"signal_type\":\"pdq\",\"value\":\"%s\"}", hex);
  assert_int_equal(call("POST", "/v1/banks/known/entries", k_admin, body, NULL), 201);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", "/v1/match?content_id=c1", k_sub, "image/jpeg", jpg, jpg_len, &r), 0);
  assert_int_equal(r.status, 200);
  json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  json_int_t id = json_integer_value(json_object_get(o, "case_id"));
  assert_true(json_is_true(json_object_get(o, "evidence_kept")));
  json_decref(o);
  assert_true(id > 0);
  char decide[64], evidence[64];
  snprintf(decide, sizeof decide, "/v1/cases/%lld/decision", (long long)id);
  snprintf(evidence, sizeof evidence, "/v1/cases/%lld/evidence", (long long)id);

  sql("CREATE TRIGGER audit_full BEFORE INSERT ON server_audit BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  /* a decision that cannot be audited is not taken */
  assert_int_equal(call("POST", decide, k_rev, "{\"decision\":\"dismiss\"}", &o), 503);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "audit_unavailable");
  json_decref(o);
  char get[64];
  snprintf(get, sizeof get, "/v1/cases/%lld", (long long)id);
  assert_int_equal(call("GET", get, k_rev, NULL, &o), 200);
  assert_string_equal(json_string_value(json_object_get(o, "status")), "open");
  json_decref(o);
  /* evidence that cannot be audited is not served */
  assert_int_equal(tu_http(port, "GET", evidence, k_rev, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 503);
  assert_true(r.body_len < 1000 && memcmp(r.body, "\xff\xd8", 2) != 0);
  tu_http_free(&r);
  /* nor is a change audited after the fact reported done */
  assert_int_equal(call("POST", "/v1/banks", k_admin, "{\"name\":\"unrecorded\"}", &o), 503);
  json_decref(o);
  sql("DROP TRIGGER audit_full");

  assert_int_equal(tu_http(port, "GET", evidence, k_rev, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body_len, jpg_len);
  tu_http_free(&r);
  assert_int_equal(call("POST", decide, k_rev, "{\"decision\":\"dismiss\"}", NULL), 200);
  assert_int_equal(audit_count("cases.decide", NULL, 200), 1);
  assert_int_equal(audit_count("cases.evidence", NULL, 200), 1);
  free(jpg);
}


static void test_cli_audited(void **state) {
  (void)state;
  char actor[80], cmd[2048], out[4096];
  struct passwd *pw = getpwuid(geteuid());
  assert_non_null(pw);
  snprintf(actor, sizeof actor, "cli:%s", pw->pw_name);
  snprintf(cmd, sizeof cmd, "'%s' keys create --role auditor --name cli-made --db '%s' 2>/dev/null", VIGIL_CLI, dbpath);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  assert_int_equal(pclose(p), 0);
  char id[13];
  memcpy(id, out + 3, 12);
  id[12] = 0;
  snprintf(cmd, sizeof cmd, "'%s' keys revoke %s --db '%s' >/dev/null 2>&1", VIGIL_CLI, id, dbpath);
  assert_int_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd,
           "'%s' bank create clibank --db '%s' >/dev/null 2>&1 && '%s' bank export clibank --db '%s' >/dev/null 2>&1 && "
           "'%s' bank drop clibank --yes --db '%s' >/dev/null 2>&1",
           VIGIL_CLI, dbpath, VIGIL_CLI, dbpath, VIGIL_CLI, dbpath);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(audit_count("keys.create", actor, 201), 1);
  assert_int_equal(audit_count("keys.revoke", actor, 200), 1);
  assert_int_equal(audit_count("banks.create", actor, 200), 1);
  assert_int_equal(audit_count("banks.export", actor, 200), 1);
  assert_int_equal(audit_count("banks.drop", actor, 200), 1);
  /* a failed action is recorded as such */
  snprintf(cmd, sizeof cmd, "'%s' bank drop no-such-bank --yes --db '%s' >/dev/null 2>&1", VIGIL_CLI, dbpath);
  assert_int_not_equal(system(cmd), 0);
  assert_int_equal(audit_count("banks.drop", actor, 500), 1);

  /* the review flag, set and shown by the CLI, is the one the service uses */
  snprintf(cmd, sizeof cmd, "'%s' bank create flagged --review --db '%s' >/dev/null 2>&1", VIGIL_CLI, dbpath);
  assert_int_equal(system(cmd), 0);
  json_t *o;
  assert_int_equal(call("GET", "/v1/banks/flagged", k_sub, NULL, &o), 200);
  assert_true(json_is_true(json_object_get(o, "review")));
  json_decref(o);
  snprintf(cmd, sizeof cmd, "'%s' bank list --format json --db '%s'", VIGIL_CLI, dbpath);
  p = popen(cmd, "r");
  assert_non_null(p);
  n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  assert_int_equal(pclose(p), 0);
  char *line = strstr(out, "\"name\":\"flagged\"");
  assert_non_null(line);
  assert_non_null(strstr(line, "\"review\":true"));
  line = strstr(out, "\"name\":\"shared\"");
  assert_non_null(line);
  assert_non_null(strstr(line, "\"review\":false"));
}

static void test_file_modes(void **state) {
  (void)state;
  struct stat sb;
  assert_int_equal(stat(dbpath, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  char wal[400];
  snprintf(wal, sizeof wal, "%s-wal", dbpath);
  assert_int_equal(stat(wal, &sb), 0); /* the server holds it open */
  assert_int_equal(sb.st_mode & 0777, 0600);
  char vindex[400];
  snprintf(vindex, sizeof vindex, "%s.vpdq-index", dbpath); /* the video index, saved at start */
  assert_int_equal(stat(vindex, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);

  /* an evidence directory in a parent that others may write */
  char open_parent[400], inside[450];
  snprintf(open_parent, sizeof open_parent, "%s/shared", dir);
  assert_int_equal(mkdir(open_parent, 0700), 0);
  assert_int_equal(chmod(open_parent, 0777), 0);
  snprintf(inside, sizeof inside, "%s/evidence", open_parent);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = dbpath;
  cfg.jobs_dir = other_jobs; /* beside the running server, which holds DB.jobs */
  cfg.evidence_dir = inside;
  vigil_server *other = NULL;
  vigil_error e;
  assert_int_not_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);
  assert_non_null(strstr(e.message, "other users may write"));
  /* a symbolic link in place of the directory */
  char link[450];
  snprintf(link, sizeof link, "%s/evlink", dir);
  assert_int_equal(symlink(evdir, link), 0);
  cfg.evidence_dir = link;
  assert_int_not_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);

  /* the evidence directory is bound to its store: another database's
   * server (a restored backup, a second deployment) may not use it */
  char otherdb[400];
  snprintf(otherdb, sizeof otherdb, "%s/other.db", dir);
  cfg.db_path = otherdb;
  cfg.evidence_dir = evdir;
  assert_int_not_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);
  assert_non_null(strstr(e.message, "belongs to another store"));
  cfg.db_path = dbpath; /* its own store may */
  assert_int_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);
  vigil_server_stop(other);

  /* --admin-key-file: through a link, refused; an existing 0644 file ends 0600 */
  char kdb[400], target[400], klink[400], kfile[400], cmd[2048];
  snprintf(kdb, sizeof kdb, "%s/boot.db", dir);
  snprintf(target, sizeof target, "%s/elsewhere", dir);
  snprintf(klink, sizeof klink, "%s/key.link", dir);
  assert_int_equal(symlink(target, klink), 0);
  snprintf(cmd, sizeof cmd, "'%s' serve --init --db '%s' --listen 127.0.0.1:0 --admin-key-file '%s' >/dev/null 2>&1",
           VIGIL_CLI, kdb, klink);
  assert_int_not_equal(system(cmd), 0);
  assert_int_not_equal(access(target, F_OK), 0); /* nothing written where the link points */
  snprintf(kdb, sizeof kdb, "%s/boot2.db", dir);
  snprintf(kfile, sizeof kfile, "%s/key.txt", dir);
  FILE *f = fopen(kfile, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(chmod(kfile, 0644), 0);
  snprintf(cmd, sizeof cmd,
           "timeout 5 '%s' serve --init --db '%s' --listen 127.0.0.1:0 --admin-key-file '%s' >/dev/null 2>&1 & "
           "for i in $(seq 50); do [ -s '%s' ] && break; sleep 0.1; done; kill %%1; wait",
           VIGIL_CLI, kdb, kfile, kfile);
  assert_int_equal(system(cmd) == -1, 0);
  assert_int_equal(stat(kfile, &sb), 0);
  assert_true(sb.st_size > 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
}

/* The evidence directory belongs to the service's user, and so does its
 * parent when the parent's owner may write it: a directory someone else
 * owns (chown 65534, "nobody") is refused with a message naming both uids.
 * Only root can give a directory away, so the test skips otherwise. */
static void test_evidence_owner(void **state) {
  (void)state;
  if (geteuid() != 0) {
    printf("skipped: needs root to chown a directory to another user\n");
    skip();
  }
  char theirs[400];
  snprintf(theirs, sizeof theirs, "%s/theirs", dir);
  assert_int_equal(mkdir(theirs, 0700), 0);
  assert_int_equal(chown(theirs, 65534, 65534), 0);
  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = dbpath;
  cfg.jobs_dir = other_jobs;
  cfg.evidence_dir = theirs;
  vigil_server *other = NULL;
  vigil_error e;
  assert_int_not_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);
  assert_null(other);
  assert_non_null(strstr(e.message, "belongs to uid 65534, not to the service's user (uid 0)"));
  assert_non_null(strstr(e.message, theirs));
  /* ours, but inside a directory another user owns and may write (0755):
   * they could rename it away and put theirs in its place */
  char parent[400], inside[450];
  snprintf(parent, sizeof parent, "%s/their-parent", dir);
  assert_int_equal(mkdir(parent, 0755), 0);
  snprintf(inside, sizeof inside, "%s/evidence", parent);
  assert_int_equal(mkdir(inside, 0700), 0);
  assert_int_equal(chown(parent, 65534, 65534), 0);
  cfg.evidence_dir = inside;
  assert_int_not_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);
  assert_non_null(strstr(e.message, "owned by another user (uid 65534)"));
  /* given back, it is accepted */
  assert_int_equal(chown(parent, 0, 0), 0);
  assert_int_equal(vigil_server_start(&other, &cfg, &e), VIGIL_OK);
  vigil_server_stop(other);
  /* and the directories can be removed with the rest */
  assert_int_equal(chown(theirs, 0, 0), 0);
}

static void test_evidence_digest_checked(void **state) {
  (void)state;
  /* a case from test_audit_fails_closed: the first with evidence */
  json_t *o;
  assert_int_equal(call("GET", "/v1/cases?status=all", k_rev, NULL, &o), 200);
  json_int_t id = 0;
  json_t *c;
  size_t i;
  json_array_foreach(json_object_get(o, "cases"), i, c) if (!id && !strcmp(json_string_value(json_object_get(c, "source")), "match"))
      id = json_integer_value(json_object_get(c, "id"));
  json_decref(o);
  assert_true(id > 0);
  /* another upload's bytes put in its place (a restore from elsewhere) */
  char file[400], path[64];
  snprintf(file, sizeof file, "%s/case-%lld.bin", evdir, (long long)id);
  FILE *f = fopen(file, "wb");
  assert_non_null(f);
  fputs("\xff\xd8\xff other picture", f);
  fclose(f);
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)id);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", path, k_rev, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 409);
  assert_null(strstr(r.body, "other picture"));
  tu_http_free(&r);
}

/* Query strings are held to what each route reads, as JSON bodies are. */
static void test_query_strict(void **state) {
  (void)state;
  json_t *o;
  const char *md5 = "{\"md5\":\"00112233445566778899aabbccddeeff\"}";
  assert_int_equal(call("POST", "/v1/match?treshold=10", k_sub, md5, &o), 400);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "unknown_field");
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(o, "error"), "message")), "treshold"));
  json_decref(o);
  assert_int_equal(call("POST", "/v1/match?threshold=10", k_sub, md5, NULL), 200);
  assert_int_equal(call("GET", "/v1/keys?limit=5", k_admin, NULL, NULL), 400); /* takes none */
  assert_int_equal(call("GET", "/v1/cases?status=all&limit=5", k_rev, NULL, NULL), 200);
  /* metadata that ends in a case must be text: invalid UTF-8, ESC, C1 refused */
  assert_int_equal(call("POST", "/v1/match?content_id=%ff%fe", k_sub, md5, NULL), 400);
  assert_int_equal(call("POST", "/v1/match?uploader_id=a%1b%5b31m", k_sub, md5, NULL), 400);
  assert_int_equal(call("POST", "/v1/match?url=%c2%9b", k_sub, md5, NULL), 400);
  assert_int_equal(call("POST", "/v1/match?content_id=caf%c3%a9", k_sub, md5, NULL), 200);
  /* a flag that is neither true nor false is refused, not read as false */
  assert_int_equal(call("POST", "/v1/match?review=yes", k_sub, md5, NULL), 400);
  assert_int_equal(call("GET", "/v1/banks/b/export?active_only=yes", k_admin, NULL, NULL), 400);
  assert_int_equal(call("POST", "/v1/policy/decide?trace=maybe", k_sub, "{}", NULL), 400);
  assert_int_equal(call("GET", "/m/raw_lookup?signal_type=md5&signal=00112233445566778899aabbccddeeff&include_distance=yes",
                        k_sub, NULL, NULL),
                   400);
  /* filter lists: at most 16 names */
  assert_int_equal(call("POST", "/v1/match?banks=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", k_sub, md5, NULL), 200);
  assert_int_equal(call("POST", "/v1/match?banks=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", k_sub, md5, &o), 400);
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(o, "error"), "message")), "banks"));
  json_decref(o);
  /* unauthenticated callers learn nothing about parameters */
  assert_int_equal(call("POST", "/v1/match?treshold=10", NULL, md5, NULL), 401);
}

/* Key names are shown to admins in terminals and pages: no ESC, no bidi
 * override, neither stored through the API nor printed raw by the CLI
 * (an old database may hold one). */
static void test_key_names_safe(void **state) {
  (void)state;
  assert_int_equal(call("POST", "/v1/keys", k_admin, "{\"role\":\"reviewer\",\"name\":\"a\\u001b[2Jb\"}", NULL), 400);
  assert_int_equal(call("POST", "/v1/keys", k_admin, "{\"role\":\"reviewer\",\"name\":\"gpj.\\u202eexe\"}", NULL), 400);
  assert_int_equal(call("POST", "/v1/keys", k_admin, "{\"role\":\"reviewer\",\"name\":\"\\u00e9quipe\"}", NULL), 201);
  sql("INSERT INTO server_keys(id, role, name, digest, created_at) VALUES('0000000000aa', 'auditor', "
      "'x' || char(27) || '[31mred' || char(8238) || 'z', zeroblob(32), 0)");
  char cmd[1024], out[8192];
  snprintf(cmd, sizeof cmd, "'%s' keys list --db '%s'", VIGIL_CLI, dbpath);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  assert_int_equal(pclose(p), 0);
  assert_null(strchr(out, 27));
  assert_null(strstr(out, "\xe2\x80\xae"));
  assert_non_null(strstr(out, "x\\x1b[31mred\\u{202e}z"));
  assert_non_null(strstr(out, "\xc3\xa9quipe")); /* ordinary text stays as it is */
}

/* vigil_index_size says how many PDQ hashes are indexed at every scrape,
 * not only after someone listed the banks. */
static void test_index_size_metric(void **state) {
  (void)state;
  assert_int_equal(call("POST", "/v1/banks", k_admin, "{\"name\":\"metric\"}", NULL), 201);
  assert_int_equal(call("POST", "/v1/banks/metric/entries", k_admin,
                        "{\"signal_type\":\"pdq\",\"value\":\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\"}",
                        NULL),
                   201);
  tu_http_resp r;
  assert_int_equal(tu_http(port, "GET", "/metrics", k_aud, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  const char *line = strstr(r.body, "\nvigil_index_size ");
  assert_non_null(line);
  double before = atof(line + strlen("\nvigil_index_size "));
  tu_http_free(&r);
  assert_true(before >= 1);
  assert_int_equal(call("DELETE", "/v1/banks/metric", k_admin, NULL, NULL), 200);
  assert_int_equal(tu_http(port, "GET", "/metrics", k_aud, NULL, NULL, 0, &r), 0);
  line = strstr(r.body, "\nvigil_index_size ");
  assert_non_null(line);
  assert_true(atof(line + strlen("\nvigil_index_size ")) == before - 1);
  tu_http_free(&r);
}

/* HMA compatibility: anonymous lookups only when the operator lists the
 * client's address, only on the lookup routes; and a lookup that hits a
 * bank flagged for review opens a case, as /v1/match does. */
static void test_hma_anonymous_and_review(void **state) {
  (void)state;
  const char *md5 = "77777777777777777777777777777777";
  char body[200], path[200];
  assert_int_equal(call("POST", "/v1/banks", k_admin, "{\"name\":\"hmarev\",\"review\":true}", NULL), 201);
  snprintf(body, sizeof body, "{\"signal_type\":\"md5\",\"value\":\"%s\"}", md5);
  assert_int_equal(call("POST", "/v1/banks/hmarev/entries", k_admin, body, NULL), 201);
  snprintf(path, sizeof path, "/m/raw_lookup?signal_type=md5&signal=%s", md5);
  assert_int_equal(call("GET", path, NULL, NULL, NULL), 401); /* off by default */

  json_t *o;
  assert_int_equal(call("GET", "/v1/cases?status=all&limit=1000", k_rev, NULL, &o), 200);
  size_t before = json_array_size(json_object_get(o, "cases"));
  json_decref(o);
  assert_int_equal(call("GET", path, k_sub, NULL, &o), 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 1);
  json_decref(o);
  assert_int_equal(call("GET", "/v1/cases?status=all&limit=1000", k_rev, NULL, &o), 200);
  json_t *cases = json_object_get(o, "cases");
  assert_int_equal(json_array_size(cases), before + 1);
  json_t *c = json_array_get(cases, json_array_size(cases) - 1);
  assert_string_equal(json_string_value(json_object_get(c, "source")), "hma");
  assert_string_equal(json_string_value(json_object_get(c, "md5")), md5);
  json_decref(o);

  vigil_server_config cfg;
  vigil_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.db_path = dbpath;
  cfg.jobs_dir = other_jobs;
  cfg.hma_anonymous = "10.9.9.9, 127.0.0.1";
  vigil_server *anon;
  vigil_error e;
  assert_int_equal(vigil_server_start(&anon, &cfg, &e), VIGIL_OK);
  int saved = port;
  port = vigil_server_port(anon);
  assert_int_equal(call("GET", path, NULL, NULL, NULL), 200);
  assert_int_equal(call("POST", "/v1/match", NULL, "{\"md5\":\"77777777777777777777777777777777\"}", NULL), 401);
  assert_int_equal(call("GET", "/h/hash?url=x", NULL, NULL, NULL), 401);
  assert_int_equal(audit_count("hma.raw_lookup", "anonymous", 200), 1); /* it opened a case */
  port = saved;
  vigil_server_stop(anon);
  cfg.hma_anonymous = "10.9.9.9";
  assert_int_equal(vigil_server_start(&anon, &cfg, &e), VIGIL_OK);
  port = vigil_server_port(anon);
  assert_int_equal(call("GET", path, NULL, NULL, NULL), 401); /* not a listed address */
  port = saved;
  vigil_server_stop(anon);
}

static void test_hostile_framing(void **state) {
  (void)state;
  static const char nul_path[] = "GET /healthz%00/../v1/keys HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  assert_int_equal(raw(nul_path, sizeof nul_path - 1), 400);
  static const char nul_query[] = "GET /healthz?x=1%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  assert_int_equal(raw(nul_query, sizeof nul_query - 1), 400);
  static const char ok[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  assert_int_equal(raw(ok, sizeof ok - 1), 200);

  char req[1024];
  int n = snprintf(req, sizeof req,
                   "POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: 20\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{\"content_id\":\"cl\"}",
                   k_sub);
  int st = raw(req, (size_t)n);
  assert_true(st == 400); /* whichever one frames the body, it is refused */

  /* (a key followed by a NUL and junk: libmicrohttpd 0.9.75 cuts the
   * header at the NUL before vigil sees it, so that case is not checked) */
  n = snprintf(req, sizeof req, "GET /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n",
               k_admin);
  assert_int_equal(raw(req, (size_t)n), 200);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_export_admin_only),
      cmocka_unit_test(test_refused_keys_audited),
      cmocka_unit_test(test_audit_fails_closed),
      cmocka_unit_test(test_cli_audited),
      cmocka_unit_test(test_file_modes),
      cmocka_unit_test(test_evidence_digest_checked),
      cmocka_unit_test(test_evidence_owner),
      cmocka_unit_test(test_query_strict),
      cmocka_unit_test(test_key_names_safe),
      cmocka_unit_test(test_index_size_metric),
      cmocka_unit_test(test_hma_anonymous_and_review),
      cmocka_unit_test(test_hostile_framing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
