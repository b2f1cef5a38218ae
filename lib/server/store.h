/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/store.h - the server store (store.c, keys.c, audit.c): one SQL
 * connection to SQLite or PostgreSQL behind a mutex, the cache of verified
 * API keys, the append-only audit log, and small helpers that turn rows
 * into JSON.  Every other part of lib/server reaches the database only
 * through the functions declared here or in cases.h.
 */
#ifndef VIGIL_SERVER_STORE_H
#define VIGIL_SERVER_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "common/internal.h"
#include "db/sql.h"
#include "vigil/server.h"

/* Keys verified recently, so most requests skip SQL.  An entry holds the
 * stored digest of an active key and lives VIGIL__KEY_CACHE_US; revoking
 * through this store drops it at once, revoking from another process
 * (the CLI) takes effect when it expires. */
#define VIGIL__KEY_CACHE_SLOTS 256
#define VIGIL__KEY_CACHE_US 1000000
typedef struct vigil__key_slot {
  vigil_key_info info; /* info.id[0] == 0: empty */
  uint8_t digest[32];
  int64_t expires_us;
} vigil__key_slot;

struct vigil_server_store {
  vigil__sql *db;     /* SQLite or PostgreSQL */
  pthread_mutex_t mu; /* one statement sequence at a time on db */
  pthread_mutex_t cache_mu;
  vigil__key_slot cache[VIGIL__KEY_CACHE_SLOTS];
  char actor[72]; /* vigil_server_store_set_actor; "" when none */
  int separate_sightings; /* vigil_case_open opens a case per upload instead of adding a sighting to
                             the content's undecided case (sightings.c); 0, the default, groups */
};

/* Unix time in seconds / microseconds. */
int64_t vigil__now_s(void);
int64_t vigil__now_us(void);
/* "2026-11-24T22:10:00.123Z" into buf (>= 32 bytes). */
void vigil__iso_time(int64_t us, char *buf, size_t cap);

/* Every time the API shows is RFC 3339 in UTC with milliseconds, as
 * vigil__iso_time writes it; a time kept in Unix seconds becomes that
 * (JSON null for 0, "never").  NULL on ENOMEM. */
json_t *vigil__json_time_s(int64_t unix_s);

/* Row i of r as a JSON object: column name -> value; a column named
 * "detail" holding JSON text is embedded as JSON.  NULL on ENOMEM. */
json_t *vigil__row_json(const vigil__rows *r, size_t i);
/* Runs sql and returns its rows as a JSON array of vigil__row_json. */
int vigil__query_json(vigil_server_store *st, const char *sql, const vigil__val *p, int np, json_t **out,
                      vigil_error *err);

/* The database's own random name (32 hex digits), made by the first
 * store that asks: files kept beside a store (evidence) are bound to it. */
int vigil__store_id(vigil_server_store *st, char id[33], vigil_error *err);

/* 1 when s is UTF-8 text without control characters (C0, DEL, C1), and
 * with no_bidi without bidirectional controls either: what the store keeps
 * from outside and later prints (query metadata, key names).  An ESC or
 * a right-to-left override in a name would rewrite the terminal or the
 * page that shows it. */
int vigil__text_ok(const char *s, int no_bidi);

/* Keys (keys.c). */

/* vigil_key_verify that also names the key a refused one was: *seen gets
 * the stored row of the presented key's id (revoked, or presented with the
 * wrong secret) and stays zeroed (seen->id[0] == 0) when no such id exists. */
int vigil__key_verify_seen(vigil_server_store *st, const char *key, size_t len, vigil_key_info *info,
                           vigil_key_info *seen, vigil_error *err);

/* vigil_key_revoke, but VIGIL_EEXIST instead of revoking the last active
 * admin key (the API never locks everyone out; the CLI may). */
int vigil__key_revoke_keep_admin(vigil_server_store *st, const char *id, vigil_error *err);

/* The audit log (audit.c): rows are only ever appended. */

typedef struct vigil__audit_rec {
  const char *key_id; /* may be NULL */
  const char *ip;
  const char *method;
  const char *path;
  const char *action; /* route name */
  const char *target; /* {id} of the route, if any */
  int status;
  const char *detail_json; /* may be NULL */
  int failed;              /* set by vigil__audit_append_locked when the row could not be written */
} vigil__audit_rec;

int vigil__audit_append(vigil_server_store *st, const vigil__audit_rec *a, vigil_error *err);
/* The same row written by a caller that holds st->mu inside a transaction
 * of its own, so that the change and its audit row commit together or not
 * at all (a change that cannot be audited does not happen). */
int vigil__audit_append_locked(vigil_server_store *st, vigil__audit_rec *a, vigil_error *err);
/* Rows with id > after_id, ascending, at most limit, of key_id and action
 * (NULL: any); returns a JSON array. */
int vigil__audit_list(vigil_server_store *st, int64_t after_id, int limit, const char *key_id, const char *action,
                      json_t **out, vigil_error *err);

/* 0 (and why) when the server's SQLite file is gone, replaced or not
 * writable since it started: state changes are refused (503) and /healthz
 * is unhealthy.  Always 1 for PostgreSQL. */
int vigil__server_store_ok(vigil_server *srv, char *why, size_t cap);

#endif
