/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jobs.c - asynchronous jobs (jobs.h): the durable queue, its workers and
 * POST /v1/jobs, GET /v1/jobs/{id}.
 *
 * The state of a job lives in server_jobs of the service database (SQLite
 * or PostgreSQL, the same statements for both): queued, running, done or
 * failed, the request's options, who sent it, and the answer.  Its input
 * lives in the node's jobs directory (mode 0700, files 0600, flushed before
 * the 202), because a video must not sit in the database nor in memory.
 * Rows carry the node's id (a random name kept in the directory), so each
 * node recovers only its own jobs: at start, a job found running was cut
 * by a crash and is queued again, unless it ran VIGIL__JOB_ATTEMPTS times
 * (it may be what crashes the node) or its input is gone; those are failed
 * with a message.  The workers look again every few seconds for jobs left
 * running with no worker of this process on them (requeue_orphans: a dead
 * process's last statement can still commit on PostgreSQL).  Nothing
 * acknowledged is left queued or running forever, or lost.
 *
 * All of that holds only if one process uses a jobs directory: a second
 * server on it (two `vigil serve` on one SQLite file default to the same
 * DB.jobs) would read the same node id, take the first one's running jobs
 * for crashed ones at its start, queue them again and remove the inputs of
 * jobs it thinks finished: a job run twice, or lost.  So the directory is
 * locked (lock_dir) for the server's life and a second server on it is
 * refused at start, before it has touched anything.
 *
 * A job runs the very handler of the synchronous route on a request made
 * up from its row (no connection: query parameters come from the row), so
 * its result is byte for byte the answer /v1/hash or /v1/match would have
 * given, case, audit row and webhooks included.  The workers, as many as
 * --video-workers, take video slots like requests do (vhash.c), so jobs and
 * synchronous videos together never take more cores than that, and image
 * matching never waits for either.  Finished jobs are deleted after
 * --job-keep seconds.
 */
#include "server/jobs.h"

#include "server/gate.h"
#include "server/handlers.h"
#include "server/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"

#define JOBS_TABLE(SERIAL_ID, INT64)                                                                                   \
  "CREATE TABLE IF NOT EXISTS server_jobs("                                                                            \
  "  id " SERIAL_ID                                                                                                    \
  ","                                                                                                                  \
  "  node TEXT NOT NULL,"                                                                                              \
  "  kind TEXT NOT NULL,"                                                                                              \
  "  state TEXT NOT NULL,"                                                                                             \
  "  query TEXT NOT NULL,"                                                                                             \
  "  input TEXT NOT NULL,"                                                                                             \
  "  video INTEGER NOT NULL,"                                                                                          \
  "  md5 TEXT, sha256 TEXT,"                                                                                           \
  "  key_id TEXT, who TEXT, role INTEGER NOT NULL, ip TEXT NOT NULL,"                                                  \
  "  attempts INTEGER NOT NULL DEFAULT 0,"                                                                             \
  "  status INTEGER, result TEXT,"                                                                                     \
  "  created_at " INT64 " NOT NULL, started_at " INT64 ", finished_at " INT64 ", expires_at " INT64                    \
  ");"                                                                                                                 \
  "CREATE INDEX IF NOT EXISTS server_jobs_queue ON server_jobs(node, state, id);"

static const char sqlite_schema[] = JOBS_TABLE("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER");
static const char pg_schema[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(" VIGIL__PG_LOCK_SCHEMA ");" JOBS_TABLE("BIGSERIAL PRIMARY KEY", "BIGINT") "COMMIT;";

struct vigil__jobs {
  vigil_server *srv;
  vigil_server_store *st;
  char dir[4096];
  char node[33];
  int lock_fd; /* holds the directory's flock until vigil__jobs_stop; -1 none */
  pthread_t *threads;
  unsigned nthreads;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* a job was queued, or stop */
  int stop;
  int64_t swept_s;  /* when expired jobs were last deleted */
  int64_t orphans_s; /* when running jobs were last checked for orphans (under mu) */
  int64_t started_s; /* when this process started its jobs */
  /* The job each worker runs (0: none), by worker; written and read under
   * st->mu, so that a job this process runs is never taken for an orphan. */
  int64_t *mine;
  unsigned nmine; /* workers started or to be: set before the first starts */
  atomic_uint next_worker;
};

/* ---- the table ------------------------------------------------------------- */

/* One JSON line on the server's log (none when it has no log). */
static void log_error(vigil__jobs *j, const char *what, const char *why) {
  FILE *log = vigil__server_config(j->srv)->log;
  json_t *o = log ? json_pack("{s:s, s:s, s:s}", "level", "error", "msg", what, "detail", why) : NULL;
  char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  if (line) {
    flockfile(log);
    fputs(line, log);
    fputc('\n', log);
    fflush(log);
    funlockfile(log);
  }
  free(line);
  json_decref(o);
}

static int run_sql(vigil__jobs *j, const char *sql, const vigil__val *p, int np, vigil__rows **rows, vigil_error *err) {
  pthread_mutex_lock(&j->st->mu);
  int rc = vigil__sql_run(j->st->db, sql, p, np, rows, NULL, err);
  pthread_mutex_unlock(&j->st->mu);
  return rc;
}

/* Ends job id: state, the answer's status and body, kept for job_keep_s. */
static int finish(vigil__jobs *j, int64_t id, const char *state, int status, const char *result, vigil_error *err) {
  int64_t now = vigil__now_s();
  const vigil__val p[] = {vigil__vtext(state),
                          vigil__vint(status),
                          vigil__vtext(result),
                          vigil__vint(now),
                          vigil__vint(now + (int64_t)vigil__server_config(j->srv)->job_keep_s),
                          vigil__vint(id)};
  return run_sql(j,
                 "UPDATE server_jobs SET state = $1, status = $2, result = $3, finished_at = $4, expires_at = $5"
                 " WHERE id = $6",
                 p, 6, NULL, err);
}

static char *error_body(const char *code, const char *msg) {
  json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

static void fail_lost(vigil__jobs *j, int64_t id, const char *input, const char *why) {
  char *body = error_body("job_lost", why);
  vigil_error e;
  if (finish(j, id, "failed", 500, body ? body : "{}", &e) == VIGIL_OK && input && *input) unlink(input);
  free(body);
}

/* At start: this node's jobs that a crash interrupted. */
static int recover(vigil__jobs *j, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(j->node)};
  vigil__rows *rows = NULL;
  int rc = run_sql(j,
                   "SELECT id, input, attempts, state FROM server_jobs WHERE node = $1"
                   " AND state IN ('queued', 'running') ORDER BY id",
                   p, 1, &rows, err);
  if (rc) return rc;
  for (size_t i = 0; i < vigil__rows_count(rows); i++) {
    int64_t id = vigil__rows_int(rows, i, 0), attempts = vigil__rows_int(rows, i, 2);
    const char *input = vigil__rows_text(rows, i, 1);
    int running = !strcmp(vigil__rows_text(rows, i, 3), "running");
    char why[300];
    if (access(input, R_OK) != 0) {
      snprintf(why, sizeof why, "the job's input is gone from the jobs directory (%s); send the content again",
               strerror(errno));
      fail_lost(j, id, input, why);
    } else if (running && attempts >= VIGIL__JOB_ATTEMPTS) {
      snprintf(why, sizeof why, "the server stopped while running this job %lld times; it is not tried again",
               (long long)attempts);
      fail_lost(j, id, input, why);
    } else if (running) {
      const vigil__val q[] = {vigil__vint(id)};
      vigil_error e;
      run_sql(j, "UPDATE server_jobs SET state = 'queued' WHERE id = $1", q, 1, NULL, &e);
    }
  }
  vigil__rows_free(rows);
  /* A crash between storing a result and removing the input leaves the
   * input of a finished job: it is no longer needed. */
  rows = NULL;
  vigil_error e;
  if (run_sql(j, "SELECT input FROM server_jobs WHERE node = $1 AND state IN ('done', 'failed')", p, 1, &rows, &e) ==
      VIGIL_OK)
    for (size_t i = 0; i < vigil__rows_count(rows); i++) {
      const char *input = vigil__rows_text(rows, i, 0);
      if (input && *input) unlink(input);
    }
  vigil__rows_free(rows);
  return VIGIL_OK;
}

/* At start: input files no row names, left by a crash between writing the
 * file and committing its row (that job was never acknowledged).  Only
 * files older than ten minutes: a margin for an upload in flight, though
 * the directory's lock (lock_dir) keeps any other server from writing in
 * it. */
static void remove_orphans(vigil__jobs *j) {
  DIR *d = opendir(j->dir);
  if (!d) return;
  int64_t now = vigil__now_s();
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, "job-", 4) != 0 || len < 8 || strcmp(e->d_name + len - 3, ".in") != 0) continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", j->dir, e->d_name);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || now - (int64_t)sb.st_mtime < 600) continue;
    const vigil__val p[] = {vigil__vtext(path)};
    vigil__rows *rows = NULL;
    vigil_error err;
    if (run_sql(j, "SELECT id FROM server_jobs WHERE input = $1", p, 1, &rows, &err) == VIGIL_OK &&
        vigil__rows_count(rows) == 0)
      unlink(path);
    vigil__rows_free(rows);
  }
  closedir(d);
}

static void sweep(vigil__jobs *j) {
  int64_t now = vigil__now_s(), keep = (int64_t)vigil__server_config(j->srv)->job_keep_s;
  if (now - j->swept_s < (keep < 60 ? keep : 60)) return; /* at most a minute late, or keep */
  j->swept_s = now;
  const vigil__val p[] = {vigil__vint(now)};
  vigil_error e;
  run_sql(j, "DELETE FROM server_jobs WHERE state IN ('done', 'failed') AND expires_at < $1", p, 1, NULL, &e);
}

/* ---- running one ------------------------------------------------------------ */

static const vigil__route *route_named(const char *name, int *index) {
  for (size_t i = 0; i < vigil__nroutes; i++)
    if (!strcmp(vigil__routes[i].name, name)) {
      *index = (int)i;
      return &vigil__routes[i];
    }
  return NULL;
}

static int read_input(vigil__req *r, const char *path, uint64_t max, vigil_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  struct stat sb;
  int rc = fstat(fd, &sb) != 0 ? vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno)) : VIGIL_OK;
  if (!rc && (uint64_t)sb.st_size > max) rc = vigil__seterr(err, VIGIL_ELIMIT, "%s: larger than the body limit", path);
  if (!rc && !(r->body = malloc(sb.st_size ? (size_t)sb.st_size : 1)))
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  while (!rc && r->body_len < (size_t)sb.st_size) {
    ssize_t n = read(fd, r->body + r->body_len, (size_t)sb.st_size - r->body_len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) rc = vigil__seterr(err, VIGIL_EIO, "%s: short read", path);
    else r->body_len += (size_t)n;
  }
  close(fd);
  return rc;
}

/* Runs job row i of rows (claimed: running) to its end. */
static void run_job(vigil__jobs *j, vigil__rows *rows) {
  int64_t id = vigil__rows_int(rows, 0, 0);
  const char *kind = vigil__rows_text(rows, 0, 1), *query = vigil__rows_text(rows, 0, 2),
             *input = vigil__rows_text(rows, 0, 3), *who = vigil__rows_text(rows, 0, 7);
  int video = (int)vigil__rows_int(rows, 0, 4);
  vigil_error e;
  vigil__req *r = calloc(1, sizeof *r);
  char path[64];
  snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)id);
  if (!r || !(r->path = strdup(path))) {
    free(r);
    fail_lost(j, id, input, "out of memory running the job");
    return;
  }
  vigil__spool_init(&r->spool);
  r->srv = j->srv;
  r->route = route_named(kind, &r->route_index);
  snprintf(r->method, sizeof r->method, "POST");
  snprintf(r->ip, sizeof r->ip, "%s", vigil__rows_text(rows, 0, 9));
  r->start_us = vigil__now_us();
  r->authed = 1;
  snprintf(r->key.id, sizeof r->key.id, "%s", vigil__rows_text(rows, 0, 5));
  r->key.role = (vigil_role)vigil__rows_int(rows, 0, 8);
  if (!strncmp(who, "user:", 5)) snprintf(r->user, sizeof r->user, "%s", who);
  r->job_query = json_loads(query, 0, NULL);
  int rc = r->route && r->job_query ? VIGIL_OK : vigil__seterr(&e, VIGIL_ECORRUPT, "the job's row is damaged");
  if (!rc && video) {
    r->video_ok = r->sniffed = 1;
    r->spool.fd = open(input, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (r->spool.fd < 0 || fstat(r->spool.fd, &sb) != 0)
      rc = vigil__seterr(&e, VIGIL_EIO, "the job's input: %s", strerror(errno));
    else r->spool.len = (uint64_t)sb.st_size;
    snprintf(r->spool.md5_hex, sizeof r->spool.md5_hex, "%s", vigil__rows_text(rows, 0, 10));
    snprintf(r->spool.sha_hex, sizeof r->spool.sha_hex, "%s", vigil__rows_text(rows, 0, 11));
  } else if (!rc) {
    rc = read_input(r, input, vigil__server_config(j->srv)->max_body, &e);
  }
  if (rc) {
    fail_lost(j, id, input, e.message);
  } else {
    vigil_error_clear(&r->err);
    int hrc = r->route->fn(r);
    if (!r->replied) {
      if (hrc < 0) vigil__reply_from_err(r, hrc);
      else vigil__reply_error(r, 500, "internal", "the job could not be finished");
    }
    vigil__server_after_detached(r); /* the audit row of a case it opened */
    if (r->status == 503 && vigil__server_stopping(j->srv)) {
      /* cut short by a stop: run again at the next start, not counted */
      const vigil__val q[] = {vigil__vint(id)};
      run_sql(j, "UPDATE server_jobs SET state = 'queued', attempts = attempts - 1 WHERE id = $1", q, 1, NULL, &e);
    } else if (finish(j, id, r->status < 300 ? "done" : "failed", r->status, r->resp ? r->resp : "{}", &e) ==
               VIGIL_OK) {
      unlink(input);
    } else {
      log_error(j, "jobs: a result was not stored; the job runs again at the next start", e.message);
    }
  }
  json_decref(r->job_query);
  json_decref(r->audit_detail);
  json_decref(r->json);
  vigil__spool_close(&r->spool);
  free(r->body);
  free(r->resp);
  free(r->path);
  free(r);
}

/* Takes this node's oldest queued job for worker w: 1 claimed (*rows), 0 none. */
static int claim(vigil__jobs *j, unsigned w, vigil__rows **rows) {
  vigil_error e;
  const vigil__val p[] = {vigil__vtext(j->node)};
  vigil__rows *one = NULL;
  pthread_mutex_lock(&j->st->mu); /* select and update as one step on this store */
  int rc =
      vigil__sql_run(j->st->db, "SELECT id FROM server_jobs WHERE node = $1 AND state = 'queued' ORDER BY id LIMIT 1",
                     p, 1, &one, NULL, &e);
  int64_t id = !rc && vigil__rows_count(one) == 1 ? vigil__rows_int(one, 0, 0) : 0;
  vigil__rows_free(one);
  if (id) {
    const vigil__val q[] = {vigil__vint(id), vigil__vint(vigil__now_s())};
    rc = vigil__sql_run(j->st->db,
                        "UPDATE server_jobs SET state = 'running', attempts = attempts + 1, started_at = $2"
                        " WHERE id = $1",
                        q, 2, NULL, NULL, &e);
    if (!rc) j->mine[w] = id;
    if (!rc)
      rc = vigil__sql_run(j->st->db,
                          "SELECT id, kind, query, input, video, key_id, attempts, who, role, ip, md5, sha256"
                          " FROM server_jobs WHERE id = $1",
                          q, 1, rows, NULL, &e);
  }
  pthread_mutex_unlock(&j->st->mu);
  if (rc) log_error(j, "jobs: cannot claim a job", e.message); /* it stays queued; a stuck queue says why */
  if (!rc && id && vigil__rows_count(*rows) == 1) return 1;
  vigil__rows_free(*rows);
  *rows = NULL;
  return 0;
}

/* The node's queue on /metrics: vigil_jobs_queued, vigil_jobs_running. */
static void gauges(vigil__jobs *j) {
  const vigil__val p[] = {vigil__vtext(j->node)};
  vigil__rows *rows = NULL;
  vigil_error e;
  if (run_sql(j,
              "SELECT COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0),"
              " COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0)"
              " FROM server_jobs WHERE node = $1",
              p, 1, &rows, &e) == VIGIL_OK &&
      vigil__rows_count(rows) == 1) {
    vigil_server_gauge_set(j->srv, "jobs_queued", "jobs waiting on this node", (double)vigil__rows_int(rows, 0, 0), &e);
    vigil_server_gauge_set(j->srv, "jobs_running", "jobs running on this node", (double)vigil__rows_int(rows, 0, 1),
                           &e);
  }
  vigil__rows_free(rows);
}

/* Jobs of this node left 'running' with no worker of this process on them.
 * A node's start recovers what its crash interrupted, but with PostgreSQL a
 * killed process's last statement can still commit after that (the server
 * finishes a statement it has received before it notices the client gone):
 * a claim landing then would leave its job running for ever.  So the
 * workers look again every few seconds, and treat such a job as the start
 * does.  Each update is made only while the job is still running. */
#define ORPHAN_CHECK_S 2
static void requeue_orphans(vigil__jobs *j) {
  int64_t now = vigil__now_s();
  pthread_mutex_lock(&j->mu);
  int due = now - j->orphans_s >= ORPHAN_CHECK_S;
  if (due) j->orphans_s = now;
  pthread_mutex_unlock(&j->mu);
  if (!due) return;
  vigil__rows *rows = NULL;
  vigil_error e;
  pthread_mutex_lock(&j->st->mu);
  /* claimed before this process started: by an earlier one (a process
   * sharing the directory by mistake is not robbed of what it claims since) */
  const vigil__val p[] = {vigil__vtext(j->node), vigil__vint(j->started_s)};
  int rc = vigil__sql_run(j->st->db,
                          "SELECT id, attempts, input FROM server_jobs WHERE node = $1 AND state = 'running'"
                          " AND started_at <= $2",
                          p, 2, &rows, NULL, &e);
  size_t n = rc ? 0 : vigil__rows_count(rows);
  uint8_t *orphan = n ? calloc(n, 1) : NULL;
  for (size_t i = 0; orphan && i < n; i++) {
    int64_t id = vigil__rows_int(rows, i, 0);
    orphan[i] = 1;
    for (unsigned w = 0; w < j->nmine; w++)
      if (j->mine[w] == id) orphan[i] = 0;
  }
  pthread_mutex_unlock(&j->st->mu);
  for (size_t i = 0; orphan && i < n; i++) {
    if (!orphan[i]) continue;
    int64_t id = vigil__rows_int(rows, i, 0), attempts = vigil__rows_int(rows, i, 1);
    const char *input = vigil__rows_text(rows, i, 2);
    char why[300];
    int64_t changed = 0;
    if (attempts >= VIGIL__JOB_ATTEMPTS) {
      snprintf(why, sizeof why, "the server stopped while running this job %lld times; it is not tried again",
               (long long)attempts);
      char *body = error_body("job_lost", why);
      const vigil__val q[] = {vigil__vint(id), vigil__vtext(body ? body : "{}"), vigil__vint(now),
                              vigil__vint(now + (int64_t)vigil__server_config(j->srv)->job_keep_s)};
      pthread_mutex_lock(&j->st->mu);
      rc = vigil__sql_run(j->st->db,
                          "UPDATE server_jobs SET state = 'failed', status = 500, result = $2, finished_at = $3,"
                          " expires_at = $4 WHERE id = $1 AND state = 'running'",
                          q, 4, NULL, &changed, &e);
      pthread_mutex_unlock(&j->st->mu);
      free(body);
      if (!rc && changed && input && *input) unlink(input);
    } else {
      const vigil__val q[] = {vigil__vint(id)};
      pthread_mutex_lock(&j->st->mu);
      rc = vigil__sql_run(j->st->db, "UPDATE server_jobs SET state = 'queued' WHERE id = $1 AND state = 'running'",
                          q, 1, NULL, &changed, &e);
      pthread_mutex_unlock(&j->st->mu);
      snprintf(why, sizeof why, "job %lld", (long long)id);
    }
    if (!rc && changed) log_error(j, "jobs: a job left running by an earlier run of this node was recovered", why);
  }
  free(orphan);
  vigil__rows_free(rows);
}

static void *worker(void *arg) {
  vigil__jobs *j = arg;
  unsigned w = atomic_fetch_add(&j->next_worker, 1);
  for (;;) {
    pthread_mutex_lock(&j->mu);
    int stop = j->stop;
    pthread_mutex_unlock(&j->mu);
    if (stop) break;
    vigil__rows *rows = NULL;
    if (claim(j, w, &rows)) {
      run_job(j, rows);
      vigil__rows_free(rows);
      pthread_mutex_lock(&j->st->mu);
      j->mine[w] = 0;
      pthread_mutex_unlock(&j->st->mu);
      continue;
    }
    requeue_orphans(j);
    sweep(j);
    gauges(j);
    pthread_mutex_lock(&j->mu);
    if (!j->stop) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_sec += 1; /* another node's clean-up, a missed signal: look again soon */
      pthread_cond_timedwait(&j->cv, &j->mu, &until);
    }
    pthread_mutex_unlock(&j->mu);
  }
  return NULL;
}

/* ---- start and stop ----------------------------------------------------------- */

static int node_id(vigil__jobs *j, vigil_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/node-id", j->dir);
  FILE *f = fopen(path, "r");
  if (f) {
    int ok = fscanf(f, "%32[0-9a-f]", j->node) == 1 && strlen(j->node) == 32;
    fclose(f);
    if (ok) return VIGIL_OK;
    return vigil__seterr(err, VIGIL_ECORRUPT, "%s: not a node id (32 hex digits)", path);
  }
  uint8_t b[16];
  if (RAND_bytes(b, sizeof b) != 1) return vigil__seterr(err, VIGIL_EINTERNAL, "no random bytes for a node id");
  vigil__hex_encode(b, sizeof b, j->node);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "cannot create %s: %s", path, strerror(errno));
  ssize_t w = write(fd, j->node, 32);
  int e = w != 32 ? (w < 0 ? errno : ENOSPC) : fsync(fd) != 0 ? errno : 0;
  if (close(fd) != 0 && !e) e = errno;
  if (!e) return VIGIL_OK;
  unlink(path); /* a partial id would read as corrupt at the next start */
  return vigil__seterr(err, VIGIL_EIO, "cannot write %s: %s", path, strerror(e));
}

static int jobs_dir(vigil__jobs *j, vigil_error *err) {
  const vigil_server_config *c = vigil__server_config(j->srv);
  int n;
  if (c->jobs_dir) n = snprintf(j->dir, sizeof j->dir, "%s", c->jobs_dir);
  else if (vigil__sql_engine(j->st->db) == VIGIL__SQL_SQLITE)
    n = snprintf(j->dir, sizeof j->dir, "%s.jobs", !strncmp(c->db_path, "sqlite:", 7) ? c->db_path + 7 : c->db_path);
  else {
    const char *t = getenv("TMPDIR");
    n = snprintf(j->dir, sizeof j->dir, "%s/vigil-jobs", t && *t ? t : "/tmp");
  }
  if (n < 0 || (size_t)n >= sizeof j->dir) return vigil__seterr(err, VIGIL_EINVAL, "jobs directory name too long");
  if (mkdir(j->dir, 0700) != 0 && errno != EEXIST)
    return vigil__seterr(err, VIGIL_EIO, "cannot create the jobs directory %s: %s", j->dir, strerror(errno));
  struct stat sb;
  if (stat(j->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return vigil__seterr(err, VIGIL_EIO, "the jobs directory %s is not a directory", j->dir);
  if (sb.st_mode & 077)
    return vigil__seterr(err, VIGIL_EINVAL, "the jobs directory %s is open to other users (mode %03o); chmod 700 it",
                         j->dir, (unsigned)(sb.st_mode & 0777));
  return VIGIL_OK;
}

/* One process per jobs directory (see the top of this file): an exclusive
 * flock on the directory's "lock" file, taken before the node id is read
 * and held until vigil__jobs_stop.
 *
 * flock, not fcntl record locks: a record lock belongs to the process, so
 * two servers in one process would not exclude each other, and it is
 * dropped when the process closes any descriptor of the file.  A flock
 * belongs to the open file description: the kernel drops it when the last
 * descriptor of that description is closed, so a server killed with -9
 * frees it and a restart works.  The catch is that a forked child shares
 * the description through the descriptor it inherits, and would keep the
 * lock after the server died.  O_CLOEXEC covers every fork followed by an
 * exec (a test's `vigil` child, the sanitizer's symboliser).  The server's
 * one fork without exec is the video decoder worker (video/video_sandbox.c):
 * right after the fork it closes every descriptor but its input, its result
 * pipe and stderr (keep_fds), before reading a byte of the video, and it is
 * killed when the thread that forked it ends (PR_SET_PDEATHSIG), so with a
 * killed server.  Either alone keeps a worker from holding a copy of the
 * lock past that instant.  Any other fork added to the server must close
 * its descriptors the same way.
 *
 * The file is never removed: a process could lock a file already unlinked
 * while another locks the new one of the same name, and both would run. */
static int lock_dir(vigil__jobs *j, vigil_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/lock", j->dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "cannot open %s: %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK)
      return vigil__seterr(err, VIGIL_EINVAL,
                           "the jobs directory %s is in use by another running server; one process per jobs "
                           "directory: give each server its own --jobs-dir",
                           j->dir);
    return vigil__seterr(err, VIGIL_EIO, "cannot lock %s: %s", path, strerror(e));
  }
  j->lock_fd = fd;
  return VIGIL_OK;
}

int vigil__jobs_open(vigil__jobs **out, vigil_server *srv, vigil_error *err) {
  *out = NULL;
  vigil__jobs *j = calloc(1, sizeof *j);
  if (!j) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  j->srv = srv;
  j->st = vigil_server_get_store(srv);
  j->lock_fd = -1;
  if (pthread_mutex_init(&j->mu, NULL) != 0) {
    free(j);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  pthread_cond_init(&j->cv, NULL);
  int rc = jobs_dir(j, err);
  if (!rc) rc = lock_dir(j, err);
  if (!rc) rc = node_id(j, err);
  if (rc) {
    vigil__jobs_stop(j);
    return rc;
  }
  *out = j;
  return VIGIL_OK;
}

int vigil__jobs_start(vigil__jobs *j, vigil_error *err) {
  vigil_server *srv = j->srv;
  pthread_mutex_lock(&j->st->mu);
  int rc = vigil__sql_script(j->st->db, vigil__sql_engine(j->st->db) == VIGIL__SQL_PG ? pg_schema : sqlite_schema, err);
  pthread_mutex_unlock(&j->st->mu);
  j->started_s = vigil__now_s();
  if (!rc) rc = recover(j, err);
  if (!rc) remove_orphans(j);
  if (!rc) sweep(j);
  unsigned n = vigil__server_config(srv)->video_workers;
  if (!rc && (!(j->threads = calloc(n ? n : 1, sizeof *j->threads)) || !(j->mine = calloc(n ? n : 1, sizeof *j->mine))))
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (!rc) j->nmine = n ? n : 1;
  for (unsigned i = 0; !rc && i < (n ? n : 1); i++) {
    if (pthread_create(&j->threads[i], NULL, worker, j) != 0)
      rc = vigil__seterr(err, VIGIL_ENOMEM, "no thread for jobs");
    else j->nthreads++;
  }
  return rc;
}

void vigil__jobs_stop(vigil__jobs *j) {
  if (!j) return;
  pthread_mutex_lock(&j->mu);
  j->stop = 1;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
  for (unsigned i = 0; i < j->nthreads; i++) pthread_join(j->threads[i], NULL);
  free(j->threads);
  free(j->mine);
  pthread_cond_destroy(&j->cv);
  pthread_mutex_destroy(&j->mu);
  if (j->lock_fd >= 0) close(j->lock_fd); /* after the workers: no job runs unlocked */
  free(j);
}

/* ---- the routes --------------------------------------------------------------- */

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  if (key && strcmp(key, "async") != 0 && strcmp(key, "kind") != 0)
    json_object_set_new(cls, key, json_string(value ? value : ""));
  return MHD_YES;
}

int vigil__jobs_async(vigil__req *r) {
  const char *a = vigil__req_query(r, "async");
  if (!a || !strcmp(a, "false") || !strcmp(a, "0")) return 0;
  if (!strcmp(a, "true") || !strcmp(a, "1")) {
    if (r->is_json) {
      vigil__reply_error(r, 400, "invalid", "async applies to uploads; a hash is looked up at once");
      return -1;
    }
    return 1;
  }
  vigil__reply_error(r, 400, "invalid", "async: expected true or false");
  return -1;
}

int vigil__jobs_submit(vigil__req *r, const char *kind) {
  vigil__jobs *j = vigil__server_jobs(r->srv);
  const vigil_server_config *c = vigil__server_config(r->srv);
  if (!j) return vigil__seterr(&r->err, VIGIL_EINTERNAL, "jobs are not running");
  if (r->spool.fd < 0 && r->body_len == 0)
    return vigil__reply_error(r, 400, "empty_body", "no content: send the video or picture as the body");
  char why[512];
  if (!vigil__server_store_ok(r->srv, why, sizeof why)) {
    snprintf(r->logmsg, sizeof r->logmsg, "%s", why);
    return vigil__reply_error(r, 503, "store_unavailable", "the service database cannot take writes; see /healthz");
  }
  /* the queue's bound, before the input is copied */
  const vigil__val pn[] = {vigil__vtext(j->node)};
  vigil__rows *rows = NULL;
  int rc = run_sql(j, "SELECT COUNT(*) FROM server_jobs WHERE node = $1 AND state = 'queued'", pn, 1, &rows, &r->err);
  int64_t queued = rc ? 0 : vigil__rows_int(rows, 0, 0);
  vigil__rows_free(rows);
  rows = NULL;
  if (rc) return rc;
  if (queued >= (int64_t)(c->job_queue ? c->job_queue : 32)) {
    r->retry_after = 5;
    return vigil__reply_error(r, 503, "queue_full", "%lld jobs are waiting on this node; retry later",
                              (long long)queued);
  }
  json_t *q = json_object();
  if (!q) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  if (r->conn) MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, q);
  char *qtext = json_dumps(q, JSON_COMPACT);
  json_decref(q);
  if (!qtext) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  /* the input, flushed to disk before the row that names it */
  uint8_t rnd[16];
  char hex[33], path[4300];
  if (RAND_bytes(rnd, sizeof rnd) != 1) {
    free(qtext);
    return vigil__seterr(&r->err, VIGIL_EINTERNAL, "no random bytes");
  }
  vigil__hex_encode(rnd, sizeof rnd, hex);
  snprintf(path, sizeof path, "%s/job-%s.in", j->dir, hex);
  if (r->spool.fd >= 0) {
    rc = vigil__spool_copy_to(&r->spool, path, &r->err);
  } else {
    vigil__spool tmp;
    vigil__spool_init(&tmp);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    rc = fd < 0 ? vigil__seterr(&r->err, VIGIL_EIO, "cannot create %s: %s", path, strerror(errno)) : VIGIL_OK;
    for (size_t k = 0; !rc && k < r->body_len;) {
      ssize_t w = write(fd, r->body + k, r->body_len - k);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) rc = vigil__seterr(&r->err, VIGIL_EIO, "cannot write %s: %s", path, strerror(w < 0 ? errno : ENOSPC));
      else k += (size_t)w;
    }
    if (!rc && fsync(fd) != 0) rc = vigil__seterr(&r->err, VIGIL_EIO, "cannot flush %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    if (rc) unlink(path);
  }
  if (rc) {
    free(qtext);
    r->retry_after = VIGIL__RETRY_AFTER_S;
    snprintf(r->logmsg, sizeof r->logmsg, "%s", r->err.message);
    return vigil__reply_error(r, 503, "overloaded", "the upload could not be stored for the job; retry later");
  }
  int64_t now = vigil__now_s();
  const char *who = vigil__req_who(r);
  const vigil__val p[] = {vigil__vtext(j->node),
                          vigil__vtext(kind),
                          vigil__vtext(qtext),
                          vigil__vtext(path),
                          vigil__vint(r->spool.fd >= 0),
                          vigil__vtext(r->spool.fd >= 0 ? r->spool.md5_hex : NULL),
                          vigil__vtext(r->spool.fd >= 0 ? r->spool.sha_hex : NULL),
                          vigil__vtext(r->key.id),
                          vigil__vtext(who ? who : ""),
                          vigil__vint((int64_t)r->key.role),
                          vigil__vtext(r->ip),
                          vigil__vint(now)};
  rc = run_sql(j,
               "INSERT INTO server_jobs(node, kind, state, query, input, video, md5, sha256, key_id, who, role, ip,"
               " created_at) VALUES($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
               p, 12, &rows, &r->err);
  free(qtext);
  if (rc || vigil__rows_count(rows) != 1) {
    vigil__rows_free(rows);
    unlink(path);
    return rc ? rc : vigil__seterr(&r->err, VIGIL_EINTERNAL, "no job id returned");
  }
  int64_t id = vigil__rows_int(rows, 0, 0);
  vigil__rows_free(rows);
  pthread_mutex_lock(&j->mu);
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
  char loc[64];
  snprintf(loc, sizeof loc, "/v1/jobs/%lld", (long long)id);
  json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)id, "kind", kind, "state", "queued", "location",
                        loc, "created_at", vigil__json_time_s(now));
  if (!o) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 202, o);
}

int vigil__h_jobs_create(vigil__req *r) {
  const char *kind = vigil__req_query(r, "kind");
  if (!kind) kind = "match";
  if (strcmp(kind, "match") != 0 && strcmp(kind, "hash") != 0)
    return vigil__reply_error(r, 400, "invalid", "kind: expected match or hash");
  return vigil__jobs_submit(r, kind);
}

int vigil__h_job_get(vigil__req *r) {
  int64_t id;
  if (!vigil__param_id(r, "id", &id)) return VIGIL_OK;
  vigil__jobs *j = vigil__server_jobs(r->srv);
  if (!j) return vigil__seterr(&r->err, VIGIL_EINTERNAL, "jobs are not running");
  const vigil__val p[] = {vigil__vint(id)};
  vigil__rows *rows = NULL;
  int rc = run_sql(j,
                   "SELECT kind, state, attempts, status, result, created_at, started_at, finished_at, expires_at, who"
                   " FROM server_jobs WHERE id = $1",
                   p, 1, &rows, &r->err);
  if (rc) return rc;
  const char *who = vigil__req_who(r);
  /* a job's answer is its sender's (and the admins'): another submitter's
   * uploads, matches and cases are not for every key to read */
  if (vigil__rows_count(rows) != 1 ||
      (!(r->key.role & VIGIL_ROLE_ADMIN) && strcmp(vigil__rows_text(rows, 0, 9), who ? who : "") != 0)) {
    vigil__rows_free(rows);
    return vigil__reply_error(r, 404, "not_found", "no job %lld", (long long)id);
  }
  const char *state = vigil__rows_text(rows, 0, 1);
  json_t *o = json_pack(
      "{s:I, s:s, s:s, s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)id, "kind", vigil__rows_text(rows, 0, 0), "state",
      state, "attempts", (json_int_t)vigil__rows_int(rows, 0, 2), "created_at",
      vigil__json_time_s(vigil__rows_int(rows, 0, 5)), "started_at", vigil__json_time_s(vigil__rows_int(rows, 0, 6)),
      "finished_at", vigil__json_time_s(vigil__rows_int(rows, 0, 7)), "expires_at",
      vigil__json_time_s(vigil__rows_int(rows, 0, 8)));
  if (o && (!strcmp(state, "done") || !strcmp(state, "failed"))) {
    json_object_set_new(o, "status", json_integer(vigil__rows_int(rows, 0, 3)));
    json_t *res = json_loads(vigil__rows_text(rows, 0, 4), 0, NULL);
    if (res && !strcmp(state, "done")) json_object_set_new(o, "result", res);
    else if (res) { /* the answer's error object: {"code", "message"} */ json_t *e = json_object_get(res, "error");
      json_object_set(o, "error", e ? e : res);
      json_decref(res);
    }
  }
  vigil__rows_free(rows);
  if (!o) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, o);
}
