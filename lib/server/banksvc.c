/* SPDX-License-Identifier: Apache-2.0 */
/*
 * banksvc.c - the hash banks as the service sees them: one in-memory PDQ
 * index per server, shared by every request thread, kept up to date by a
 * thread of its own over three connections to the bank store.
 *
 * A request's path is "parse, hash, query, answer": it reads the index as
 * the last sync left it and never waits for the database.  Bringing the
 * index up to date is the sync thread's job alone:
 *   - queries (PDQ against the index, exact lookups, the hits' entries)
 *     use `st` and share the readers-writer lock `rw`;
 *   - changes, imports, exports and listings use `wst`, one at a time
 *     under `wmu`, without `rw`;
 *   - the sync thread reads what changed on `sst` while queries go on
 *     (bank/bank_sync.h), and only applying it takes `rw` alone.  Its own
 *     connection means it never waits for an import: batches an import
 *     has committed become matchable while the import goes on.
 * The thread syncs every VIGIL__BANK_SYNC_US, which is how several
 * `vigil serve` nodes sharing one database see each other's bank changes,
 * and at once when a change made here asks it to (vigil__banks_end waits
 * for that sync, so a change is matchable when its request returns).
 *
 * The video index is kept in a file between runs (DB-FILE.vpdq-index
 * beside a SQLite database, or --vpdq-index): the first sync loads it when
 * it matches the store (bank/bank_vfile.c) and logs which it did and why.
 *
 * A failed sync leaves the index as it was (matching goes on from memory
 * while the database is away) and is never silent: it is counted
 * (vigil_bank_sync_failures_total), logged when a run of failures begins
 * and ends, and the index's age (vigil_bank_index_age_seconds) grows until
 * /healthz reports the server degraded.  The review flag of a bank (its
 * matches open review cases) is service state, kept in the service's own
 * table.
 */
#include "server/banks.h"

#include <errno.h>
#include <stdio.h>
#include <assert.h>
#include <string.h>
#include <time.h>

#include "bank/bank_backend.h"
#include "bank/bank_sync.h"
#include "report/outbox.h"
#include "vigil/bank.h"
#include "vigil/report.h"

/* One JSON line on the server's log (NULL: none). */
static void log_line(FILE *log, const char *msg, const char *detail) {
  if (!log) return;
  char when[40];
  vigil__iso_time(vigil__now_us(), when, sizeof when);
  json_t *o = json_pack("{s:s, s:s, s:s, s:s?}", "time", when, "level", "banks", "msg", msg, "detail", detail);
  char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  json_decref(o);
  if (!text) return;
  flockfile(log);
  fputs(text, log);
  fputc('\n', log);
  fflush(log);
  funlockfile(log);
  free(text);
}

/* Reads what changed on sst, then applies it under the exclusive lock,
 * which queries wait for only that long.  The sync thread's alone. */
static int refresh(vigil__banks *b, vigil_error *err) {
  vigil__bank_delta *d;
  int64_t started = vigil__now_us();
  int rc = vigil__bank_matcher_fetch(b->m, b->sst, &d, err);
  if (rc) return rc;
  pthread_rwlock_wrlock(&b->rw);
  rc = vigil__bank_matcher_apply(b->m, d, err);
  pthread_rwlock_unlock(&b->rw);
  if (!rc) atomic_store(&b->synced_us, started);
  return rc;
}

static void deadline_in(struct timespec *ts, int64_t us) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  int64_t ns = (int64_t)ts->tv_nsec + (us % 1000000) * 1000;
  ts->tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
  ts->tv_nsec = (long)(ns % 1000000000);
}

/* The sync thread: a sync, then sleep until the interval is up, a change
 * asks for one, or the server stops. */
static void *sync_main(void *arg) {
  vigil__banks *b = arg;
  int failing = 0;
  pthread_mutex_lock(&b->smu);
  while (!b->stop) {
    uint64_t covers = b->asked; /* requests made before this sync began */
    pthread_mutex_unlock(&b->smu);
    vigil_error e;
    memset(&e, 0, sizeof e);
    int rc = refresh(b, &e);
    if (rc) {
      atomic_fetch_add(&b->sync_failures, 1);
      if (!failing) log_line(b->log, "bank sync failed; matching goes on with the index as it was", e.message);
    } else if (failing) {
      log_line(b->log, "bank sync recovered", NULL);
    }
    failing = rc != 0;
    pthread_mutex_lock(&b->smu);
    b->served = covers;
    b->served_rc = rc;
    b->served_err = e;
    pthread_cond_broadcast(&b->done);
    struct timespec until;
    deadline_in(&until, VIGIL__BANK_SYNC_US);
    while (!b->stop && b->asked == covers)
      if (pthread_cond_timedwait(&b->wake, &b->smu, &until) == ETIMEDOUT) break;
  }
  b->running = 0;
  pthread_cond_broadcast(&b->done);
  pthread_mutex_unlock(&b->smu);
  return NULL;
}

/* The bank.changed webhook deliveries of a change made on wst, written by
 * the bank store inside the change's own transaction (bank_backend.h): an
 * acknowledged change has its deliveries, and a change whose deliveries
 * cannot be written does not happen.  With no subscription to the event
 * nothing is written. */
static int bank_changed(void *ctx, vigil__sql *db, const vigil__bank_change *c, vigil_error *err) {
  (void)ctx;
  json_t *entry = NULL;
  if (c->entry) {
    char hex[2 * VIGIL_BANK_VALUE_MAX + 1];
    vigil_signal_to_hex(c->entry->value, c->entry->value_len, hex);
    entry = json_pack("{s:s, s:s}", "signal_type", vigil_signal_name(c->entry->type), "value", hex);
    if (entry && c->entry->id) json_object_set_new(entry, "id", json_integer((json_int_t)c->entry->id));
    if (entry && c->entry->removed_reason[0])
      json_object_set_new(entry, "reason", json_string(c->entry->removed_reason));
    if (!entry) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  json_t *data = json_pack("{s:s, s:s, s:s*, s:o*}", "action", c->action, "bank", c->bank, "detail",
                           c->detail[0] ? c->detail : NULL, "entry", entry);
  if (!data) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__hooks_emit(db, VIGIL_EVENT_BANK_CHANGED, data, err);
  json_decref(data);
  return rc ? vigil__prefixerr(err, rc, "bank.changed deliveries") : VIGIL_OK;
}

/* Where the video index is kept between runs: the configured path, else
 * DB-FILE.vpdq-index beside a SQLite file; none for PostgreSQL unless
 * configured (each node keeps its own), none when configured "off". */
static int vindex_path(const char *db_path, const char *conf, char *out, size_t cap) {
  int pg = !strncmp(db_path, "postgresql:", 11) || !strncmp(db_path, "postgres:", 9);
  int n;
  if (conf && (!*conf || !strcmp(conf, "off"))) return 0;
  if (conf) n = snprintf(out, cap, "%s", conf);
  else if (pg || !strcmp(db_path, ":memory:")) return 0;
  else n = snprintf(out, cap, "%s.vpdq-index", !strncmp(db_path, "sqlite:", 7) ? db_path + 7 : db_path);
  return n > 0 && (size_t)n < cap;
}

/* The first sync, before any query: with the saved video index when there
 * is one that matches the store; what happened goes to the log. */
static int first_sync(vigil__banks *b, const char *db_path, const char *vpdq_index, vigil_error *err) {
  char path[4096];
  if (!vindex_path(db_path, vpdq_index, path, sizeof path)) return vigil_bank_matcher_open(&b->m, b->st, err);
  vigil_bank_index_file *f = calloc(1, sizeof *f);
  if (!f) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  f->path = path;
  int64_t t0 = vigil__now_us();
  int rc = vigil_bank_matcher_open_file(&b->m, b->st, f, err);
  if (!rc) {
    char detail[sizeof path + sizeof f->why + 100];
    snprintf(detail, sizeof detail, "%s: %zu videos in %.2f s%s%s%s", path, vigil_bank_matcher_videos(b->m),
             (double)(vigil__now_us() - t0) / 1e6, f->saved ? ", saved" : "", f->why[0] ? "; " : "", f->why);
    log_line(b->log, f->loaded ? "video index loaded from its file" : "video index built from the store", detail);
  }
  free(f);
  return rc;
}

int vigil__banks_open(vigil__banks *b, const char *db_path, const char *vpdq_index, FILE *log, vigil_error *err) {
  memset(b, 0, sizeof *b);
  b->log = log;
  int rc = vigil_bank_store_open(&b->st, db_path, err);
  if (!rc && !(rc = vigil_bank_store_open(&b->wst, db_path, err)))
    vigil__bank_store_set_txhook(b->wst, bank_changed, NULL);
  if (!rc) rc = vigil_bank_store_open(&b->sst, db_path, err);
  if (!rc) rc = first_sync(b, db_path, vpdq_index, err);
  if (rc) {
    vigil_bank_store_close(b->sst);
    vigil_bank_store_close(b->wst);
    vigil_bank_store_close(b->st);
    memset(b, 0, sizeof *b);
    return rc;
  }
  /* Writer first: glibc's default lets a steady stream of overlapping
   * queries hold the read side for ever, and the sync waiting behind them
   * would leave the index stale under load.  No thread takes the read side
   * twice, which is what this kind forbids. */
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
#ifdef __GLIBC__
  pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
  pthread_rwlock_init(&b->rw, &ra);
  pthread_rwlockattr_destroy(&ra);
  pthread_mutex_init(&b->wmu, NULL);
  pthread_mutex_init(&b->smu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&b->wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&b->done, NULL);
  atomic_init(&b->synced_us, vigil__now_us());
  atomic_init(&b->sync_failures, 0);
  b->running = 1;
  if ((rc = pthread_create(&b->thread, NULL, sync_main, b)) != 0) {
    b->running = 0;
    vigil__banks_close(b);
    return vigil__seterr(err, VIGIL_EINTERNAL, "cannot start the bank sync thread: %s", strerror(rc));
  }
  b->started = 1;
  return VIGIL_OK;
}

void vigil__banks_close(vigil__banks *b) {
  if (b->started) {
    pthread_mutex_lock(&b->smu);
    b->stop = 1;
    pthread_cond_broadcast(&b->wake);
    pthread_mutex_unlock(&b->smu);
    pthread_join(b->thread, NULL);
  }
  vigil_bank_matcher_free(b->m);
  vigil_bank_store_close(b->sst);
  vigil_bank_store_close(b->wst);
  vigil_bank_store_close(b->st);
  pthread_rwlock_destroy(&b->rw);
  pthread_mutex_destroy(&b->wmu);
  pthread_mutex_destroy(&b->smu);
  pthread_cond_destroy(&b->wake);
  pthread_cond_destroy(&b->done);
  memset(b, 0, sizeof *b);
}

int vigil__banks_begin(vigil__banks *b, struct vigil_bank_store **st) {
  pthread_mutex_lock(&b->wmu);
  *st = b->wst;
  return VIGIL_OK;
}

/* Asks the sync thread for a sync that begins after this call and waits
 * for its result. */
static int sync_now(vigil__banks *b, vigil_error *err) {
  pthread_mutex_lock(&b->smu);
  uint64_t mine = ++b->asked;
  pthread_cond_signal(&b->wake);
  while (b->running && b->served < mine) pthread_cond_wait(&b->done, &b->smu);
  int rc;
  if (b->served >= mine) {
    rc = b->served_rc;
    if (rc && err) *err = b->served_err;
  } else {
    rc = vigil__seterr(err, VIGIL_EINTERNAL, "the bank sync thread has stopped");
  }
  pthread_mutex_unlock(&b->smu);
  return rc;
}

int vigil__banks_end(vigil__banks *b, int changed, vigil_error *err) {
  int rc = changed ? sync_now(b, err) : VIGIL_OK;
  pthread_mutex_unlock(&b->wmu);
  return rc;
}

int vigil__banks_lock_query(vigil__banks *b, vigil_error *err) {
  (void)err;
  pthread_rwlock_rdlock(&b->rw);
  return VIGIL_OK;
}

void vigil__banks_unlock_query(vigil__banks *b) { pthread_rwlock_unlock(&b->rw); }

double vigil__banks_age_s(vigil__banks *b) {
  return (double)(vigil__now_us() - atomic_load(&b->synced_us)) / 1e6;
}

uint64_t vigil__banks_sync_failures(vigil__banks *b) { return atomic_load(&b->sync_failures); }

size_t vigil__banks_indexed(vigil__banks *b) {
  pthread_rwlock_rdlock(&b->rw);
  size_t n = vigil_bank_matcher_size(b->m);
  pthread_rwlock_unlock(&b->rw);
  return n;
}

int vigil__bank_review_get(vigil_server_store *st, const char *bank, int *review, vigil_error *err) {
  *review = 0;
  const vigil__val p[] = {vigil__vtext(bank)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "SELECT review FROM server_bank_review WHERE bank = $1", p, 1, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return vigil__prefixerr(err, rc, "bank review flag");
  if (vigil__rows_count(rows) == 1) *review = vigil__rows_int(rows, 0, 0) != 0;
  vigil__rows_free(rows);
  return VIGIL_OK;
}

int vigil__bank_review_memo(vigil_server_store *st, vigil__review_memo *memo, const char *bank, int *review,
                            vigil_error *err) {
  assert(memo->n >= 0 && memo->n <= VIGIL__REVIEW_MEMO);
  if (!bank) return vigil__bank_review_get(st, bank, review, err);
  for (int i = 0; i < memo->n; i++)
    if (!strcmp(memo->bank[i], bank)) {
      *review = memo->review[i];
      return VIGIL_OK;
    }
  int rc = vigil__bank_review_get(st, bank, review, err);
  if (rc == VIGIL_OK && memo->n < VIGIL__REVIEW_MEMO && strlen(bank) <= VIGIL_BANK_NAME_MAX) {
    memcpy(memo->bank[memo->n], bank, strlen(bank) + 1);
    memo->review[memo->n++] = *review;
  }
  return rc;
}

static int review_write(vigil_server_store *st, const char *bank, int review, int emit, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(bank), vigil__vint(review ? 1 : 0)};
  pthread_mutex_lock(&st->mu);
  int rc = emit ? vigil__sql_begin(st->db, err) : VIGIL_OK;
  if (!rc)
    rc = vigil__sql_run(st->db,
                        "INSERT INTO server_bank_review(bank, review) VALUES($1, $2)"
                        " ON CONFLICT(bank) DO UPDATE SET review = excluded.review",
                        p, 2, NULL, NULL, err);
  if (!rc && emit) {
    json_t *data = json_pack("{s:s, s:s, s:b}", "action", "review", "bank", bank, "review", review);
    rc = data ? vigil__hooks_emit(st->db, VIGIL_EVENT_BANK_CHANGED, data, err)
              : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    json_decref(data);
    if (!rc) rc = vigil__sql_commit(st->db, err);
    if (rc) vigil__sql_rollback(st->db);
  }
  pthread_mutex_unlock(&st->mu);
  return rc ? vigil__prefixerr(err, rc, "bank review flag") : VIGIL_OK;
}

int vigil__bank_review_set(vigil_server_store *st, const char *bank, int review, vigil_error *err) {
  return review_write(st, bank, review, 0, err);
}

int vigil__bank_review_change(vigil_server_store *st, const char *bank, int review, vigil_error *err) {
  return review_write(st, bank, review, 1, err);
}

json_t *vigil__entry_json(const vigil_bank_entry *e) {
  char hex[2 * VIGIL_BANK_VALUE_MAX + 1];
  vigil_signal_to_hex(e->value, e->value_len, hex);
  json_t *tags = json_array();
  if (!tags) return NULL;
  const char *p = e->tags;
  while (*p) {
    size_t n = strcspn(p, ",");
    if (n) json_array_append_new(tags, json_stringn(p, n));
    p += n + (p[n] == ',');
  }
  json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o, s:s?, s:o}", "id", (json_int_t)e->id, "bank", e->bank,
                        "signal_type", vigil_signal_name(e->type), "value", hex, "external_id",
                        e->external_id[0] ? e->external_id : NULL, "tags", tags, "source",
                        e->source[0] ? e->source : NULL, "added_at", vigil__json_time_s(e->added));
  if (o && e->removed) {
    json_object_set_new(o, "removed_at", vigil__json_time_s(e->removed));
    json_object_set_new(o, "removed_reason", json_string(e->removed_reason));
  }
  return o;
}
