/* SPDX-License-Identifier: Apache-2.0 */
/*
 * servefix.c - the shared server test fixture (see servefix.h).
 */
#include "servefix.h"

#include <stdio.h>
#include <string.h>

#include "httpc.h"
#include "serveproc.h"
#include "testutil.h"

int tu_fix_init(tu_fix *f, const char *tag) {
  memset(f, 0, sizeof *f);
  if (!tu_mkdtemp(f->dir, sizeof f->dir, tag)) {
    printf("fixture: cannot make a temporary directory\n");
    return -1;
  }
  snprintf(f->db, sizeof f->db, "%s/vigil.db", f->dir);
  snprintf(f->jobs, sizeof f->jobs, "%s/jobs", f->dir);
  vigil_server_store *st;
  vigil_error e;
  int rc = vigil_server_store_open(&st, f->db, &e);
  if (!rc) {
    rc = vigil_key_create(st, VIGIL_ROLE_ADMIN, "admin", f->admin, &f->admin_info, &e) ||
         vigil_key_create(st, VIGIL_ROLE_SUBMITTER, "pipeline", f->submitter, &f->submitter_info, &e) ||
         vigil_key_create(st, VIGIL_ROLE_REVIEWER, "alice", f->reviewer, &f->reviewer_info, &e) ||
         vigil_key_create(st, VIGIL_ROLE_AUDITOR, "audit", f->auditor, &f->auditor_info, &e);
    vigil_server_store_close(st);
  }
  if (rc) {
    printf("fixture: %s\n", e.message);
    tu_rmtree(f->dir);
    return -1;
  }
  return 0;
}

void tu_fix_config(const tu_fix *f, vigil_server_config *cfg) {
  vigil_server_config_default(cfg);
  cfg->listen = "127.0.0.1:0";
  cfg->db_path = f->db;
  cfg->threads = 2;
  /* A PostgreSQL node's default jobs directory, $TMPDIR/vigil-jobs, is one
   * for every test program on the machine, and a jobs directory takes one
   * server at a time: each fixture has its own. */
  if (!strncmp(f->db, "postgres", 8)) cfg->jobs_dir = f->jobs;
}

int tu_fix_start(tu_fix *f, const vigil_server_config *cfg) {
  vigil_server_config def;
  if (!cfg) {
    tu_fix_config(f, &def);
    cfg = &def;
  }
  vigil_error e;
  if (vigil_server_start(&f->srv, cfg, &e)) {
    printf("start: %s\n", e.message);
    f->srv = NULL;
    return -1;
  }
  f->port = vigil_server_port(f->srv);
  return 0;
}

void tu_fix_stop(tu_fix *f) {
  if (f->srv) vigil_server_stop(f->srv);
  f->srv = NULL;
  f->port = 0;
}

int tu_fix_end(tu_fix *f) {
  tu_fix_stop(f);
  return f->dir[0] ? tu_rmtree(f->dir) : 0;
}

int tu_json_call(int port, const char *method, const char *path, const char *key, const char *json, json_t **out) {
  tu_http_resp r;
  int rc = tu_http(port, method, path, key, json ? "application/json" : NULL, json, json ? strlen(json) : 0, &r);
  assert_int_equal(rc, 0);
  if (out) *out = r.body_len ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
  int status = r.status;
  tu_http_free(&r);
  return status;
}

json_t *tu_wait_job(int port, const char *key, json_int_t id) {
  char path[64];
  snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)id);
  for (int i = 0; i < 2400; i++) {
    json_t *o = NULL;
    assert_int_equal(tu_json_call(port, "GET", path, key, NULL, &o), 200);
    const char *s = json_string_value(json_object_get(o, "state"));
    assert_non_null(s);
    if (!strcmp(s, "done") || !strcmp(s, "failed")) return o;
    json_decref(o);
    tu_sleep_ms(25);
  }
  fail_msg("job %lld did not finish", (long long)id);
  return NULL;
}
