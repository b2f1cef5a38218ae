/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_ncmec.c - CyberTipline reports through `vigil serve` and
 * `vigil report export`, and preservation holds.  Needs the schema in
 * ../shared/docs/ncmec/cyber_tipline.xsd (skipped when absent).
 *
 * A confirmed case with kept evidence is exported for manual filing: the
 * directory holds a report.xml that validates, the evidence under its
 * media type's extension and a manifest; the case is then held for a year
 * and its evidence cannot be deleted; a hold can be extended, never
 * shortened.  Unconfirmed cases, mixed uploaders and a report the schema
 * refuses are refused, the last with the schema's message, and leave no
 * directory behind.  `vigil report export` records, holds and audits its
 * report as the API does.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "db/sql.h"
#include "report/tipline.h"
#include "run.h"
#include "serveproc.h"
#include "testutil.h"

static char xsd[600], dir[256], cfg[400], evdir[400], outdir[400], db[400];

/* Unix seconds of an API time, which must be RFC 3339 UTC with exactly
 * three decimals ("2026-11-20T08:15:02.000Z"); -1 for anything else.
 * Parsed here rather than with the library's formatter, so a wrong format
 * cannot pass by agreeing with itself. */
static int64_t api_time_s(const json_t *v) {
  const char *s = json_string_value(v);
  int y, mo, d, h, mi, se, ms, n = 0;
  if (!s || strlen(s) != 24 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &se, &ms, &n) != 7 ||
      n != 24)
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || ms < 0) return -1;
  /* days from 1970-01-01 of a proleptic Gregorian date (civil calendar) */
  int64_t yy = mo <= 2 ? y - 1 : y, era = (yy >= 0 ? yy : yy - 399) / 400, yoe = yy - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return ((era * 146097 + doe - 719468) * 86400) + h * 3600 + mi * 60 + se;
}
static int port;
static pid_t pid;
static char key[128];

static void start(void) {
  char portf[400], keyf[400], outf[400];
  snprintf(portf, sizeof portf, "%s/port", dir);
  snprintf(keyf, sizeof keyf, "%s/key", dir);
  snprintf(outf, sizeof outf, "%s/out", dir);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execl(VIGIL_CLI, "vigil", "serve", "--init", "--listen", "127.0.0.1:0", "--db", db, "--threads", "2", "--port-file", portf,
          "--admin-key-file", keyf, "--report-config", cfg, "--evidence-dir", evdir, (char *)NULL);
    _exit(127);
  }
  port = tu_wait_port_file(pid, portf);
  assert_true(port > 0);
  FILE *f = fopen(keyf, "r");
  assert_non_null(f);
  assert_non_null(fgets(key, sizeof key, f));
  key[strcspn(key, "\r\n")] = 0;
  fclose(f);
}

static int64_t open_case(const char *uploader, const char *detail) {
  char body[600];
  snprintf(body, sizeof body,
           "{\"md5\":\"0123456789abcdef0123456789abcdef\",\"uploader_id\":\"%s\",\"url\":\"https://x.example/p\"%s%s}",
           uploader, detail ? ",\"detail\":" : "", detail ? detail : "");
  int st;
  json_t *o = tu_call(port, "POST", "/v1/cases", key, body, &st);
  assert_int_equal(st, 201);
  int64_t id = (int64_t)json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  return id;
}

static void confirm(int64_t id, const char *cls) {
  char path[64], body[100];
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)id);
  snprintf(body, sizeof body, "{\"decision\":\"confirm\",\"classification\":\"%s\"}", cls);
  int st;
  json_decref(tu_call(port, "POST", path, key, body, &st));
  assert_int_equal(st, 200);
}

static json_t *report(int64_t id, const char *body, int *st) {
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld/report", (long long)id);
  return tu_call(port, "POST", path, key, body, st);
}

static int entries(const char *d) {
  DIR *x = opendir(d);
  if (!x) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(x))) n += e->d_name[0] != '.';
  closedir(x);
  return n;
}

/* The first column of the first row of a query on the service database. */
static int64_t db_int(const char *sql, int64_t arg) {
  vigil__sql *h;
  vigil_error e;
  assert_int_equal(vigil__sql_open(&h, db, &e), 0);
  vigil__rows *rows = NULL;
  const vigil__val p[] = {vigil__vint(arg)};
  if (vigil__sql_run(h, sql, p, 1, &rows, NULL, &e)) fail_msg("%s: %s", sql, e.message);
  int64_t v = vigil__rows_count(rows) ? vigil__rows_int(rows, 0, 0) : -1;
  vigil__rows_free(rows);
  vigil__sql_close(h);
  return v;
}

static void test_report_and_hold(void **state) {
  (void)state;
  start();
  int st;
  int64_t a = open_case("user-1", NULL);
  /* evidence as `serve --evidence-dir` keeps it: a JPEG */
  char ev[600];
  snprintf(ev, sizeof ev, "%s/case-%lld.bin", evdir, (long long)a);
  FILE *f = fopen(ev, "wb");
  assert_non_null(f);
  fwrite("\xFF\xD8\xFF\xE0 jpeg bytes", 1, 15, f);
  fclose(f);
  chmod(ev, 0600);
  /* not confirmed yet */
  json_decref(report(a, "{}", &st));
  assert_int_equal(st, 409);
  assert_int_equal(entries(outdir), 0);
  confirm(a, "A1");
  json_t *o = report(a, "{\"viewed_by_esp\":true}", &st);
  assert_int_equal(st, 201);
  const char *d = json_string_value(json_object_get(o, "directory"));
  assert_non_null(d);
  int64_t held = api_time_s(json_object_get(o, "held_until"));
  int64_t now = (int64_t)time(NULL);
  assert_true(held >= now + 364 * 86400 && held <= now + 366 * 86400);
  /* what was written: the XML validates, the evidence is there as a JPEG */
  char p[900];
  snprintf(p, sizeof p, "%s/report.xml", d);
  size_t len;
  uint8_t *xml = tu_slurp(p, &len);
  assert_non_null(xml);
  assert_int_equal(vigil__tipline_validate(xsd, (const char *)xml, len, NULL), 0);
  assert_non_null(strstr((const char *)xml, "<espIdentifier>user-1</espIdentifier>"));
  free(xml);
  snprintf(p, sizeof p, "%s/case-%lld.jpg", d, (long long)a);
  struct stat sb;
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(sb.st_size, 15);
  assert_int_equal(sb.st_mode & 0777, 0600);
  assert_int_equal(stat(d, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0700);
  snprintf(p, sizeof p, "%s/manifest.json", d);
  json_t *m = json_load_file(p, 0, NULL);
  assert_non_null(m);
  json_t *f0 = json_array_get(json_object_get(m, "files"), 0);
  assert_string_equal(json_string_value(json_object_get(f0, "industry_classification")), "A1");
  assert_true(json_is_true(json_object_get(f0, "file_viewed_by_esp")));
  /* the manifest's time reads like the API's (RFC 3339), and is now */
  int64_t written = api_time_s(json_object_get(m, "created_at"));
  assert_true(written > 0 && llabs((long long)(written - (int64_t)time(NULL))) < 120);
  json_decref(m);
  json_decref(o);
  /* held: the evidence stays */
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)a);
  json_decref(tu_call(port, "DELETE", path, key, NULL, &st));
  assert_int_equal(st, 409);
  assert_int_equal(access(ev, F_OK), 0);
  /* a law-enforcement extension moves the end later; a shorter one does not shorten it */
  snprintf(path, sizeof path, "/v1/cases/%lld/hold", (long long)a);
  o = tu_call(port, "POST", path, key, "{\"days\":800,\"reason\":\"law enforcement request 42\"}", &st);
  assert_int_equal(st, 200);
  int64_t ext = api_time_s(json_object_get(o, "held_until"));
  assert_true(ext > held);
  json_decref(o);
  o = tu_call(port, "POST", path, key, "{\"days\":1,\"reason\":\"oops\"}", &st);
  assert_int_equal(st, 200);
  assert_int_equal(api_time_s(json_object_get(o, "held_until")), ext);
  json_decref(o);
  /* the case's reports show the same times in the API's one format */
  snprintf(path, sizeof path, "/v1/cases/%lld/reports", (long long)a);
  o = tu_call(port, "GET", path, key, NULL, &st);
  assert_int_equal(st, 200);
  assert_int_equal(api_time_s(json_object_get(o, "held_until")), ext);
  int64_t made = api_time_s(json_object_get(json_array_get(json_object_get(o, "reports"), 0), "created_at"));
  assert_true(made >= now - 5 && made <= now + 60);
  json_decref(o);
  /* and the refusal to delete held evidence names the end the same way */
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)a);
  o = tu_call(port, "DELETE", path, key, NULL, &st);
  assert_int_equal(st, 409);
  const char *msg = json_string_value(json_object_get(json_object_get(o, "error"), "message"));
  assert_non_null(msg);
  assert_non_null(strstr(msg, "until 20"));
  assert_null(strstr(msg, "Unix"));
  json_decref(o);
  snprintf(path, sizeof path, "/v1/cases/%lld/hold", (long long)a);
  json_decref(tu_call(port, "POST", path, key, "{\"days\":0,\"reason\":\"x\"}", &st));
  assert_int_equal(st, 400);
  /* audited: the report and the holds */
  o = tu_call(port, "GET", "/v1/audit?limit=1000", key, NULL, &st);
  char *s = json_dumps(o, JSON_COMPACT);
  assert_non_null(strstr(s, "\"action\":\"cases.report\""));
  assert_non_null(strstr(s, "law enforcement request 42"));
  free(s);
  json_decref(o);

  /* refused: the schema's message, nothing written */
  int before = entries(outdir);
  int64_t b = open_case("user-2", "{\"user\":{\"ip_events\":[{\"ip\":\"203.0.113.9\",\"event\":\"Teleport\"}]}}");
  confirm(b, "B1");
  o = report(b, "{}", &st);
  assert_int_equal(st, 422);
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(o, "error"), "message"))
                             ? json_string_value(json_object_get(json_object_get(o, "error"), "message"))
                             : json_string_value(json_object_get(o, "message")),
                         "CyberTipline schema"));
  json_decref(o);
  assert_int_equal(entries(outdir), before);
  /* two uploaders in one report */
  int64_t c = open_case("user-3", NULL);
  confirm(c, "A2");
  char body[100];
  snprintf(body, sizeof body, "{\"case_ids\":[%lld]}", (long long)a);
  json_decref(report(c, body, &st));
  assert_int_equal(st, 400);
  json_decref(report(c, "{\"mode\":\"fax\"}", &st));
  assert_int_equal(st, 400);
  /* a second case of user-1 with the first, by the CLI */
  int64_t e = open_case("user-1", NULL);
  confirm(e, "B2");
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  char cmd[2000], out2[500];
  snprintf(out2, sizeof out2, "%s/cli-export", dir);
  snprintf(cmd, sizeof cmd, "'%s' report export %lld %lld --out '%s' --config '%s' --evidence-dir '%s' --db '%s' 2>/dev/null",
           VIGIL_CLI, (long long)a, (long long)e, out2, cfg, evdir, db);
  assert_int_equal(db_int("SELECT COUNT(*) FROM report_holds WHERE case_id = $1", e), 0);
  int64_t audits = db_int("SELECT COUNT(*) FROM server_audit WHERE action = 'cases.report' AND id > $1", 0);
  assert_int_equal(tu_run(cmd, NULL), 0);
  assert_int_equal(entries(out2), 3); /* report.xml, case-a.jpg, manifest.json */
  /* held for a year, recorded and audited as the API's export is */
  now = (int64_t)time(NULL);
  held = db_int("SELECT until_s FROM report_holds WHERE case_id = $1", e);
  assert_true(held >= now + 364 * 86400 && held <= now + 366 * 86400);
  assert_true(db_int("SELECT until_s FROM report_holds WHERE case_id = $1", a) >= ext); /* never shortened */
  assert_int_equal(db_int("SELECT COUNT(*) FROM report_reports WHERE mode = 'export' AND case_id = $1", a), 2);
  assert_int_equal(db_int("SELECT COUNT(*) FROM server_audit WHERE action = 'cases.report' AND key_id LIKE 'cli:%'"
                          " AND id > $1",
                          0),
                   1);
  assert_int_equal(db_int("SELECT COUNT(*) FROM server_audit WHERE action = 'cases.report' AND id > $1", 0),
                   audits + 1);
  assert_int_equal(tu_run(cmd, NULL), 1); /* the directory exists now */
  assert_int_equal(db_int("SELECT COUNT(*) FROM report_reports WHERE mode = 'export' AND case_id = $1", a), 2);
  snprintf(cmd, sizeof cmd, "'%s' report export %lld --out '%s/x' --config '%s' --db '%s' 2>/dev/null", VIGIL_CLI,
           (long long)c + 100, dir, cfg, db);
  assert_int_equal(tu_run(cmd, NULL), 2); /* no such case */
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil-test-ncmec-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(cfg, sizeof cfg, "%s/report.json", dir);
  snprintf(evdir, sizeof evdir, "%s/evidence", dir);
  snprintf(outdir, sizeof outdir, "%s/exports", dir);
  snprintf(db, sizeof db, "%s/v.db", dir);
  if (mkdir(outdir, 0700) != 0) return -1;
  FILE *f = fopen(cfg, "w");
  if (!f) return -1;
  fprintf(f,
          "{\"ncmec\":{\"schema\":\"%s\",\"export_dir\":\"%s\",\"company\":\"Example Inc.\","
          "\"reporter\":{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"trust@example.org\"}}}",
          xsd, outdir);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  if (!tu_shared("docs/ncmec/cyber_tipline.xsd", xsd, sizeof xsd) || access(xsd, R_OK) != 0) {
    printf("skipped: ../shared/docs/ncmec/cyber_tipline.xsd is absent\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_report_and_hold)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
