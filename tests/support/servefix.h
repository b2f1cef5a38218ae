/* SPDX-License-Identifier: Apache-2.0 */
/*
 * servefix.h - the fixture the in-process server tests share.
 *
 * Each server test needs the same start: a private temporary directory, a
 * fresh database in it holding one API key per role, the real server on an
 * ephemeral loopback port, JSON calls to it over tests/support/httpc, and
 * everything removed at the end without a shell.  Written once here, so a
 * change to how the service starts (a new required setting, a new role)
 * is made in one place.
 */
#ifndef VIGIL_TEST_SERVEFIX_H
#define VIGIL_TEST_SERVEFIX_H

#include <jansson.h>

#include "vigil/server.h"

typedef struct tu_fix {
  char dir[256]; /* private temporary directory, removed by tu_fix_end */
  char db[300];  /* dir/vigil.db */
  char jobs[300]; /* dir/jobs: the jobs directory when db is a PostgreSQL URI */
  /* one key per role: admin "admin", submitter "pipeline", reviewer "alice", auditor "audit" */
  char admin[VIGIL_KEY_MAX], submitter[VIGIL_KEY_MAX], reviewer[VIGIL_KEY_MAX], auditor[VIGIL_KEY_MAX];
  vigil_key_info admin_info, submitter_info, reviewer_info, auditor_info;
  vigil_server *srv; /* from tu_fix_start; NULL otherwise */
  int port;
} tu_fix;

/* Makes the directory (tag in its name) and the database with the four
 * keys.  0, or -1 after saying why on stdout (the directory is removed). */
int tu_fix_init(tu_fix *f, const char *tag);

/* The configuration the tests start from: the defaults, listening on
 * 127.0.0.1 port 0 (the kernel picks), on f's database, two threads; on
 * PostgreSQL, f->jobs as the jobs directory. */
void tu_fix_config(const tu_fix *f, vigil_server_config *cfg);

/* Starts f's server with cfg (NULL: tu_fix_config's) and sets f->port.
 * 0, or -1 after saying why on stdout. */
int tu_fix_start(tu_fix *f, const vigil_server_config *cfg);

/* Stops f's server if it runs. */
void tu_fix_stop(tu_fix *f);

/* Stops the server and removes the directory; 0, or -1 if something was
 * left behind. */
int tu_fix_end(tu_fix *f);

/* One request with a JSON body (json NULL: none) and a key (NULL: none);
 * fails the test if no response came.  Returns the HTTP status; *out (if
 * given) gets the parsed body, NULL when it is empty or not JSON. */
int tu_json_call(int port, const char *method, const char *path, const char *key, const char *json, json_t **out);

/* Polls GET /v1/jobs/ID until the job is done or failed, for up to a
 * minute (a loaded machine); its JSON (the caller decrefs it).  Fails the
 * test otherwise. */
json_t *tu_wait_job(int port, const char *key, json_int_t id);

#endif
